//! Making text that came from a file safe to print on a terminal.

/// Escape control characters (terminal escape sequences, newlines, bidi
/// overrides) so a file name or EXIF string cannot drive the terminal.
/// Truncates to `max` characters with an ellipsis.
pub fn printable(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n >= max {
            out.push('…');
            break;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_bidi_control(c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// A path made printable; invalid UTF-8 is shown as replacement characters.
pub(crate) fn printable_path(p: &std::path::Path) -> String {
    printable(&p.to_string_lossy(), 4096)
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_newlines_are_shown_not_sent() {
        assert_eq!(printable("a\x1b[31mb\nc", 100), "a\\u{1b}[31mb\\nc");
        assert_eq!(printable("abcdef", 3), "abc…");
        assert_eq!(printable("\u{202E}txt", 10), "\\u{202e}txt");
    }
}
