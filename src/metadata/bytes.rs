//! Bounded byte readers every container walk shares: big/little-endian
//! integers, slices that never index past the end, and short summaries
//! of blobs and text for the reviewer.

use super::*;
pub(super) use crate::container::{be16, be32, le32, slice};
use crate::text::printable;

/// A u32 at `at` in the given byte order, or `None` past the end.
pub(super) fn u32_in(b: &[u8], at: usize, little_endian: bool) -> Option<u32> {
    let s: [u8; 4] = slice(b, at, 4)?.try_into().ok()?;
    Some(if little_endian {
        u32::from_le_bytes(s)
    } else {
        u32::from_be_bytes(s)
    })
}

/// Text from bytes that should be UTF-8 but may be Latin-1.
pub(super) fn decode_text(b: &[u8]) -> String {
    let b = &b[..b.len().min(4096)];
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        // A cut at the 4096 limit may split a character; keep what is valid.
        Err(e) if e.error_len().is_none() && e.valid_up_to() > 0 => {
            String::from_utf8_lossy(&b[..e.valid_up_to()]).into_owned()
        }
        Err(_) => latin1(b),
    }
}

/// Bytes as Latin-1 text (every byte a character; never fails).
pub(super) fn latin1(b: &[u8]) -> String {
    b.iter().take(4096).map(|&x| x as char).collect()
}

/// Text preview of a value for the reviewer.
pub(super) fn preview(s: &str) -> String {
    printable(
        s.trim_matches(|c: char| c == '\0' || c.is_whitespace()),
        PREVIEW,
    )
}

/// Printable ASCII runs of a binary blob (at least 4 characters each).
pub(super) fn ascii_runs(b: &[u8]) -> String {
    let mut out = String::new();
    for run in b[..b.len().min(4096)].split(|x| !(x.is_ascii_graphic() || *x == b' ')) {
        if run.len() >= 4 {
            if !out.is_empty() {
                out.push(' ');
            }
            out.extend(run.iter().map(|&x| x as char));
            if out.len() > PREVIEW {
                break;
            }
        }
    }
    out
}

/// "N bytes", with the printable text inside when there is some.
pub(super) fn blob_summary(b: &[u8]) -> String {
    let text = ascii_runs(b);
    if text.is_empty() {
        format!("{} bytes", b.len())
    } else {
        format!("{} bytes: {}", b.len(), printable(&text, PREVIEW))
    }
}

/// Mostly readable text (for EXIF UNDEFINED/BYTE values of unknown meaning).
pub(super) fn looks_like_text(b: &[u8]) -> bool {
    let b = &b[..b.len().min(256)];
    let b = match b.iter().rposition(|&x| x != 0) {
        Some(end) => &b[..=end],
        None => return false,
    };
    let readable = b
        .iter()
        .filter(|&&x| x.is_ascii_graphic() || x == b' ' || x >= 0x80 || x == b'\n')
        .count();
    readable * 10 >= b.len() * 9
}

/// Bytes after the end of the image data.
pub(super) fn trailer(rest: &[u8], offset: usize, after: &str, c: &mut Collector) {
    let what = if rest.starts_with(&[0xFF, 0xD8]) {
        "embedded JPEG".to_string()
    } else {
        let shown: String = rest
            .iter()
            .take(PREVIEW)
            .map(|&x| {
                if x.is_ascii_graphic() || x == b' ' {
                    x as char
                } else {
                    '.'
                }
            })
            .collect();
        printable(&shown, PREVIEW)
    };
    c.add(
        "Trailer",
        format!("after {after}"),
        format!("{} bytes at offset {offset}: {what}", rest.len()),
    );
}
