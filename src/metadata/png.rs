//! PNG: text chunks (tEXt, zTXt, iTXt), eXIf, iCCP, time and unknown
//! chunks; compressed text inflated under the file's budget.

use super::*;
use crate::container::PngChunk;
use crate::text::printable;

/// Chunks that only describe pixels.
pub(super) fn structural_png_chunk(t: &[u8]) -> bool {
    matches!(
        t,
        b"IHDR"
            | b"PLTE"
            | b"IDAT"
            | b"IEND"
            | b"tRNS"
            | b"cHRM"
            | b"gAMA"
            | b"sBIT"
            | b"sRGB"
            | b"cICP"
            | b"mDCV"
            | b"mDCv"
            | b"cLLI"
            | b"cLLi"
            | b"bKGD"
            | b"hIST"
            | b"pHYs"
            | b"sPLT"
            | b"acTL"
            | b"fcTL"
            | b"fdAT"
    )
}

/// List what a PNG carries: every chunk, and what follows IEND.
pub(super) fn png(b: &[u8], c: &mut Collector) {
    let mut pos = PNG_SIGNATURE.len();
    loop {
        if pos >= b.len() {
            c.warn("PNG: no IEND chunk (file truncated?)".to_string());
            return;
        }
        let Some(chunk) = PngChunk::at(b, pos) else {
            c.warn(format!("PNG: chunk header at offset {pos} is truncated"));
            return;
        };
        let kind = &chunk.kind;
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            c.warn(format!(
                "PNG: corrupt chunk type at offset {pos}; rest not read"
            ));
            return;
        }
        let name = latin1(kind);
        let truncated = !chunk.fits(b.len());
        if truncated {
            c.warn(format!("PNG: chunk {name} at offset {pos} is truncated"));
        }
        png_chunk(kind, &name, chunk.data_in(b), c);
        if truncated {
            return;
        }
        pos = chunk.end;
        if kind == b"IEND" {
            if pos < b.len() {
                trailer(&b[pos..], pos, "IEND", c);
            }
            return;
        }
    }
}

/// Inflated text kept for a preview: more is never shown.
pub(super) const TEXT_INFLATE_LIMIT: usize = 4096;
/// Inflated XMP read for its properties (a compression bomb stops here).
pub(super) const XMP_INFLATE_LIMIT: usize = 4 << 20;

/// A compressed chunk's stream, inflated by [`Collector::inflate`].
pub(super) enum Inflated {
    /// The text, and whether that was all of it.
    Text(Vec<u8>, bool),
    /// Listed as this instead (not zlib, or the file's budget spent).
    Not(String),
}

impl Collector {
    /// The zlib stream of a compressed text chunk, inflated to at most
    /// `limit` bytes and what is left of the file's [`INFLATE_BUDGET`].
    fn inflate(&mut self, stream: &[u8], limit: usize) -> Inflated {
        use miniz_oxide::inflate::{
            DecompressError, TINFLStatus, decompress_to_vec_zlib_with_limit,
        };
        let left = INFLATE_BUDGET.saturating_sub(self.inflated_bytes);
        if left == 0 {
            if !self.inflate_budget_spent {
                self.inflate_budget_spent = true;
                self.warn(format!(
                    "compressed chunks inflate past {} MiB in all; the rest are listed by size only",
                    INFLATE_BUDGET >> 20
                ));
            }
            return Inflated::Not(format!(
                "{} bytes compressed, not inflated (over the file's budget)",
                stream.len()
            ));
        }
        let limit = limit.min(left);
        let (text, whole) = match decompress_to_vec_zlib_with_limit(stream, limit) {
            Ok(text) => (text, true),
            Err(DecompressError {
                status: TINFLStatus::HasMoreOutput,
                output,
            }) => (output, false),
            Err(_) => {
                return Inflated::Not(format!("{} bytes compressed, not valid zlib", stream.len()));
            }
        };
        self.inflated_bytes += if whole { text.len() } else { limit };
        Inflated::Text(text, whole)
    }
}

/// Keyword (Latin-1, NUL-terminated) and the rest of a text chunk.
pub(super) fn keyword(data: &[u8]) -> (String, &[u8]) {
    match data.iter().take(80).position(|&x| x == 0) {
        Some(i) => (latin1(&data[..i]), &data[i + 1..]),
        None => (latin1(&data[..data.len().min(79)]), &[]),
    }
}

/// One chunk: text (inflated under the budget), eXIf, iCCP, time or unknown.
pub(super) fn png_chunk(kind: &[u8], name: &str, data: &[u8], c: &mut Collector) {
    match kind {
        b"tEXt" => {
            let (key, text) = keyword(data);
            c.add("PNG-text", format!("tEXt:{key}"), preview(&latin1(text)));
        }
        b"zTXt" => {
            // Compression method (0: zlib), then the stream.
            let (key, rest) = keyword(data);
            let stream = rest.get(1..).unwrap_or_default();
            let value = match c.inflate(stream, TEXT_INFLATE_LIMIT) {
                Inflated::Text(text, _) => preview(&latin1(&text)),
                Inflated::Not(listed) => listed,
            };
            c.add("PNG-text", format!("zTXt:{key}"), value);
        }
        b"iTXt" => {
            let (key, rest) = keyword(data);
            let compressed = rest.first().is_some_and(|&f| f != 0);
            // Compression flag and method, then language and translated keyword.
            let after_lang = rest.get(2..).unwrap_or_default();
            let text = after_lang.splitn(3, |&x| x == 0).nth(2).unwrap_or_default();
            let is_xmp = key == "XML:com.adobe.xmp";
            let limit = if is_xmp {
                XMP_INFLATE_LIMIT
            } else {
                TEXT_INFLATE_LIMIT
            };
            let inflated = match compressed {
                false => Inflated::Text(text.to_vec(), true),
                true => c.inflate(text, limit),
            };
            match (is_xmp, inflated) {
                (true, Inflated::Text(packet, whole)) => {
                    if !whole {
                        c.warn(format!(
                            "compressed XMP in iTXt inflates past {} bytes; listed what those hold",
                            packet.len()
                        ));
                    }
                    xmp_packet(&packet, "XMP", c);
                }
                (false, Inflated::Text(t, _)) => c.add(
                    "PNG-text",
                    format!("iTXt:{key}"),
                    preview(&String::from_utf8_lossy(&t[..t.len().min(4096)])),
                ),
                (true, Inflated::Not(listed)) => c.add("XMP", "iTXt:XML:com.adobe.xmp", listed),
                (false, Inflated::Not(listed)) => c.add("PNG-text", format!("iTXt:{key}"), listed),
            }
        }
        b"eXIf" => {
            let tiff = data.strip_prefix(b"Exif\0\0").unwrap_or(data);
            exif_block(tiff, Host::Embedded, "PNG eXIf", 0, c);
        }
        b"tIME" => {
            let value = match (be16(data, 0), data.get(2..7)) {
                (Some(y), Some(&[mo, d, h, mi, s])) => {
                    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
                }
                _ => format!("{} bytes, malformed", data.len()),
            };
            c.add("PNG-time", "tIME", value);
        }
        b"iCCP" => {
            let (profile_name, rest) = keyword(data);
            c.add(
                "ICC",
                "iCCP",
                format!(
                    "'{}', {} bytes compressed",
                    printable(&profile_name, 50),
                    rest.len().saturating_sub(1)
                ),
            );
        }
        k if structural_png_chunk(k) => {}
        _ => c.add("PNG-chunk", name, blob_summary(data)),
    }
}
