//! WebP: the RIFF chunks (EXIF, XMP, ICCP) and anything unknown.

use super::*;
use crate::text::printable;

/// List what a WebP carries: its RIFF chunks, and what follows the RIFF data.
pub(super) fn webp(b: &[u8], c: &mut Collector) {
    let declared = le32(b, 4).map_or(0, |n| n as usize).saturating_add(8);
    let end = if declared > b.len() {
        c.warn(format!(
            "WebP: RIFF size says {declared} bytes but the file has {}",
            b.len()
        ));
        b.len()
    } else {
        declared
    };
    let mut pos: usize = 12;
    while pos.saturating_add(8) <= end {
        let (Some(kind), Some(size)) = (slice(b, pos, 4), le32(b, pos + 4)) else {
            break;
        };
        let start = pos + 8;
        let chunk_end = start.saturating_add(size as usize);
        let truncated = chunk_end > end;
        let name = printable(&latin1(kind), 8);
        if truncated {
            c.warn(format!("WebP: chunk '{name}' at offset {pos} is truncated"));
        }
        let data = &b[start..chunk_end.min(end)];
        match kind {
            b"EXIF" => {
                let tiff = data.strip_prefix(b"Exif\0\0").unwrap_or(data);
                exif_block(tiff, Host::Embedded, "WebP EXIF", 0, c);
            }
            b"XMP " => xmp_packet(data, "XMP", c),
            b"ICCP" => c.add("ICC", "ICCP", icc_summary(data)),
            b"VP8 " | b"VP8L" | b"VP8X" | b"ALPH" | b"ANIM" | b"ANMF" => {}
            _ => c.add("WebP-chunk", name, blob_summary(data)),
        }
        if truncated {
            break;
        }
        pos = chunk_end.saturating_add(size as usize & 1);
    }
    if declared < b.len() {
        trailer(&b[declared..], declared, "the RIFF data", c);
    }
}
