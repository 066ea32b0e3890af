//! tmux's DCS passthrough: how a graphics sequence reaches the terminal
//! outside tmux. One leaf that the image encoder, the pane writer and the
//! terminal queries share.

/// Wrap an escape sequence in tmux's DCS passthrough: `ESC P tmux;`, the
/// sequence with every ESC doubled, then `ESC \`. tmux undoubles the
/// escapes and hands the sequence to the outer terminal unchanged (with
/// `allow-passthrough on`).
pub fn passthrough(seq: &str) -> String {
    let mut out = String::with_capacity(seq.len() + seq.len() / 8 + 16);
    out.push_str("\x1bPtmux;");
    for c in seq.chars() {
        if c == '\x1b' {
            out.push('\x1b');
        }
        out.push(c);
    }
    out.push_str("\x1b\\");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passthrough_doubles_every_escape_including_the_closing_one() {
        let sixel = "\x1b[5X\x1bPq#0;2;0;0;0~-\x1b\\";
        let wrapped = passthrough(sixel);
        assert_eq!(
            wrapped,
            "\x1bPtmux;\x1b\x1b[5X\x1b\x1bPq#0;2;0;0;0~-\x1b\x1b\\\x1b\\"
        );
        // Exactly one undoubled ESC \ (the wrapper's own terminator), at the end.
        let body = &wrapped["\x1bPtmux;".len()..wrapped.len() - 2];
        let mut chars = body.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                assert_eq!(
                    chars.next(),
                    Some('\x1b'),
                    "lone ESC inside the passthrough"
                );
            }
        }
    }
}
