//! The output byte allowlist: an output is JPEG (SOI, JFIF APP0, DQT,
//! SOF, DHT, DRI, SOS, EOI only) or PNG (IHDR, PLTE, tRNS, IDAT, IEND with
//! valid lengths and CRCs), nothing after the end; DICOM outputs are
//! checked by [`crate::dicom::output::check`]. Invariant: a byte the
//! allowlist does not name is refused, whatever made it.

pub use crate::container::crc32;
use crate::container::{
    APP0, COM, DHT, DQT, DRI, EOI, PNG_SIGNATURE, PngChunk, SOI, SOS, entropy_end, is_app, is_rst,
    marker_name,
};
use crate::policy::OutputFormat;

/// Why output bytes fail the container allowlist. Each names the segment or
/// chunk and its byte offset.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum AllowlistError {
    #[error("output is empty (0 bytes)")]
    Empty,
    #[error("output is not JPEG, PNG or DICOM (starts with {0})")]
    UnknownFormat(String),
    #[error("DICOM output: {0}")]
    Dicom(String),
    #[error("JPEG segment {segment} at offset {offset}: {problem}")]
    Jpeg {
        segment: String,
        offset: usize,
        problem: String,
    },
    #[error("PNG chunk {chunk} at offset {offset}: {problem}")]
    Png {
        chunk: String,
        offset: usize,
        problem: String,
    },
}

/// The container allowlist, applied to the bytes actually written.
///
/// JPEG: SOI, DQT, DHT, SOF0/1/2, SOS with entropy data (RSTn inside), DRI,
/// EOI, and at most one plain JFIF APP0 without thumbnail. PNG: IHDR, PLTE,
/// tRNS, IDAT, IEND with valid lengths and CRCs. Nothing after the end.
pub fn check_output(bytes: &[u8]) -> Result<OutputFormat, AllowlistError> {
    if bytes.is_empty() {
        Err(AllowlistError::Empty)
    } else if bytes.starts_with(&[0xFF, SOI]) {
        check_jpeg(bytes).map(|()| OutputFormat::Jpeg)
    } else if bytes.starts_with(PNG_SIGNATURE) {
        check_png(bytes).map(|()| OutputFormat::Png)
    } else if crate::dicom::is_dicom(bytes) {
        crate::dicom::output::check(bytes)
            .map(|()| OutputFormat::Dicom)
            .map_err(AllowlistError::Dicom)
    } else {
        let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02X}")).collect();
        Err(AllowlistError::UnknownFormat(head.join(" ")))
    }
}

/// One JPEG marker segment; for SOS, `end` includes the entropy-coded data.
pub(super) struct JpegSegment {
    pub(super) marker: u8,
    pub(super) offset: usize,
    pub(super) payload: std::ops::Range<usize>,
    pub(super) end: usize,
}

/// The segment's name plus what its payload says it is: `APP1 (Exif)`.
pub(super) fn segment_label(marker: u8, payload: &[u8]) -> String {
    let name = marker_name(marker);
    if !is_app(marker) {
        return name;
    }
    let known: [(&[u8], &str); 8] = [
        (b"JFIF\0", "JFIF"),
        (b"JFXX\0", "JFXX"),
        (b"Exif\0", "Exif"),
        (b"http://ns.adobe.com", "XMP"),
        (b"ICC_PROFILE\0", "ICC_PROFILE"),
        (b"Photoshop", "Photoshop"),
        (b"MPF\0", "MPF"),
        (b"Adobe", "Adobe"),
    ];
    match known.iter().find(|(prefix, _)| payload.starts_with(prefix)) {
        Some((_, what)) => format!("{name} ({what})"),
        None => name,
    }
}

/// A refusal naming the JPEG segment, its offset and the problem.
pub(super) fn jpeg_err(
    segment: impl Into<String>,
    offset: usize,
    problem: impl Into<String>,
) -> AllowlistError {
    AllowlistError::Jpeg {
        segment: segment.into(),
        offset,
        problem: problem.into(),
    }
}

/// Split a JPEG into marker segments, checking only structure: lengths,
/// entropy data, EOI, and that nothing follows it.
pub(super) fn jpeg_segments(bytes: &[u8]) -> Result<Vec<JpegSegment>, AllowlistError> {
    if !bytes.starts_with(&[0xFF, SOI]) {
        return Err(jpeg_err("SOI", 0, "missing: a JPEG starts with FF D8"));
    }
    let mut segments = vec![JpegSegment {
        marker: SOI,
        offset: 0,
        payload: 2..2,
        end: 2,
    }];
    let mut pos = 2;
    loop {
        let (Some(&ff), Some(&marker)) = (bytes.get(pos), bytes.get(pos + 1)) else {
            return Err(jpeg_err(
                "EOI",
                pos,
                "missing: the file ends before EOI (truncated)",
            ));
        };
        if ff != 0xFF {
            return Err(jpeg_err(
                "marker",
                pos,
                format!("expected a marker (FF xx), found byte 0x{ff:02X}"),
            ));
        }
        match marker {
            EOI => {
                let end = pos + 2;
                if end != bytes.len() {
                    return Err(jpeg_err(
                        "EOI",
                        pos,
                        format!("{} bytes follow EOI (from offset {end})", bytes.len() - end),
                    ));
                }
                segments.push(JpegSegment {
                    marker,
                    offset: pos,
                    payload: end..end,
                    end,
                });
                return Ok(segments);
            }
            0xFF => return Err(jpeg_err("fill", pos, "fill bytes (FF FF) are not allowed")),
            0x00 => return Err(jpeg_err("FF 00", pos, "stuffed byte outside entropy data")),
            m if m == SOI || m == 0x01 || is_rst(m) => {
                return Err(jpeg_err(marker_name(m), pos, "marker out of place"));
            }
            _ => {}
        }
        let Some(len_bytes) = bytes.get(pos + 2..pos + 4) else {
            return Err(jpeg_err(
                marker_name(marker),
                pos,
                "truncated segment length",
            ));
        };
        let length = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
        let seg_end = pos + 2 + length;
        if length < 2 || seg_end > bytes.len() {
            return Err(jpeg_err(
                marker_name(marker),
                pos,
                format!("length {length} does not fit the file"),
            ));
        }
        let end = if marker == SOS {
            entropy_end(bytes, seg_end).ok_or_else(|| {
                jpeg_err(
                    "SOS",
                    pos,
                    "entropy-coded data runs to the end of the file (truncated)",
                )
            })?
        } else {
            seg_end
        };
        segments.push(JpegSegment {
            marker,
            offset: pos,
            payload: pos + 4..seg_end,
            end,
        });
        pos = end;
    }
}

/// A JPEG output holds only allowlisted segments, in order, and nothing after EOI.
pub(super) fn check_jpeg(bytes: &[u8]) -> Result<(), AllowlistError> {
    let (mut app0, mut sof, mut sos) = (false, false, false);
    for seg in jpeg_segments(bytes)? {
        let payload = &bytes[seg.payload.clone()];
        let label = segment_label(seg.marker, payload);
        let reject = |problem: &str| Err(jpeg_err(label.clone(), seg.offset, problem));
        match seg.marker {
            SOI | EOI | DQT | DHT | DRI => {}
            APP0 if app0 => return reject("a second APP0 is not allowed"),
            APP0 => {
                app0 = true;
                check_jfif(payload)
                    .map_err(|problem| jpeg_err(label.clone(), seg.offset, problem))?;
            }
            0xC0..=0xC2 if sof => return reject("a second frame header is not allowed"),
            0xC0..=0xC2 => sof = true,
            SOS if !sof => return reject("scan before any frame header (SOF)"),
            SOS => sos = true,
            m if is_app(m) => {
                return reject(
                    "application segments can carry metadata (Exif, XMP, ICC, IPTC) and are not allowed",
                );
            }
            COM => return reject("comments are not allowed"),
            _ => return reject("not allowed in an output"),
        }
    }
    if !sof {
        return Err(jpeg_err("SOF0", 2, "missing frame header"));
    }
    if !sos {
        return Err(jpeg_err("SOS", 2, "missing scan"));
    }
    Ok(())
}

/// A plain JFIF APP0: identifier, version, density, and a 0x0 thumbnail.
pub(super) fn check_jfif(payload: &[u8]) -> Result<(), String> {
    if payload.starts_with(b"JFXX\0") {
        return Err("JFIF extension segments (thumbnails) are not allowed".into());
    }
    if !payload.starts_with(b"JFIF\0") {
        return Err("APP0 that is not JFIF".into());
    }
    if payload.len() < 14 {
        return Err(format!(
            "JFIF header is {} bytes, expected 14",
            payload.len()
        ));
    }
    let (tw, th) = (payload[12], payload[13]);
    if tw != 0 || th != 0 {
        return Err(format!("JFIF carries a {tw}x{th} thumbnail"));
    }
    if payload.len() != 14 {
        return Err(format!(
            "{} extra bytes after the JFIF header",
            payload.len() - 14
        ));
    }
    if payload[7] > 2 {
        return Err(format!("unknown JFIF density unit {}", payload[7]));
    }
    Ok(())
}

pub(super) const PNG_ALLOWED: [&[u8; 4]; 5] = [b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"];

/// A PNG chunk type, printable.
pub(super) fn chunk_name(kind: &[u8]) -> String {
    if kind.iter().all(u8::is_ascii_alphabetic) {
        String::from_utf8_lossy(kind).into_owned()
    } else {
        format!("0x{}", hex::encode(kind))
    }
}

/// A refusal naming the PNG chunk, its offset and the problem.
pub(super) fn png_err(
    chunk: impl Into<String>,
    offset: usize,
    problem: impl Into<String>,
) -> AllowlistError {
    AllowlistError::Png {
        chunk: chunk.into(),
        offset,
        problem: problem.into(),
    }
}

/// Split a PNG into chunks, checking lengths, CRCs, IEND and that nothing follows it.
pub(super) fn png_chunks(bytes: &[u8]) -> Result<Vec<PngChunk>, AllowlistError> {
    if !bytes.starts_with(PNG_SIGNATURE) {
        return Err(png_err(
            "signature",
            0,
            "missing: a PNG starts with 89 50 4E 47 0D 0A 1A 0A",
        ));
    }
    let mut chunks = Vec::new();
    let mut pos = PNG_SIGNATURE.len();
    loop {
        let Some(chunk) = PngChunk::at(bytes, pos) else {
            return Err(png_err(
                "IEND",
                pos,
                "missing: the file ends before IEND (truncated)",
            ));
        };
        let (length, kind) = (chunk.length, chunk.kind);
        let name = chunk_name(&kind);
        let end = chunk.end;
        let crcs = chunk.crcs(bytes);
        let Some((stored, computed)) = crcs.filter(|_| length <= 0x7FFF_FFFF) else {
            return Err(png_err(
                name,
                pos,
                format!("length {length} does not fit the file"),
            ));
        };
        if stored != computed {
            return Err(png_err(
                name,
                pos,
                format!("CRC mismatch (stored {stored:08x}, computed {computed:08x})"),
            ));
        }
        chunks.push(chunk);
        pos = end;
        if &kind == b"IEND" {
            if end != bytes.len() {
                return Err(png_err(
                    "IEND",
                    end - 12,
                    format!(
                        "{} bytes follow IEND (from offset {end})",
                        bytes.len() - end
                    ),
                ));
            }
            return Ok(chunks);
        }
    }
}

/// A PNG output holds only allowlisted chunks with valid CRCs, and nothing after IEND.
pub(super) fn check_png(bytes: &[u8]) -> Result<(), AllowlistError> {
    let mut idat = false;
    for (i, chunk) in png_chunks(bytes)?.iter().enumerate() {
        let name = chunk_name(&chunk.kind);
        let reject = |problem: &str| Err(png_err(name.clone(), chunk.offset, problem));
        match (&chunk.kind, i) {
            (b"IHDR", 0) if chunk.length == 13 => {}
            (b"IHDR", 0) => return reject("IHDR must be 13 bytes"),
            (b"IHDR", _) => return reject("IHDR must be the first and only header"),
            (_, 0) => return reject("the first chunk must be IHDR"),
            (b"PLTE" | b"tRNS", _) => {}
            (b"IDAT", _) => idat = true,
            (b"IEND", _) if !idat => return reject("no image data (IDAT) before IEND"),
            (b"IEND", _) if chunk.length != 0 => return reject("IEND must be empty"),
            (b"IEND", _) => {}
            _ => {
                return reject(
                    "ancillary or unknown chunks can carry metadata and are not allowed",
                );
            }
        }
    }
    Ok(())
}
