//! Encoding the release: JPEG or PNG from pixels alone, then rebuilt
//! segment by segment so only what the allowlist admits is written.
//! Same pixels → same bytes.

use super::*;
use crate::container::{APP0, COM, PNG_SIGNATURE, SOI, is_app};
use crate::memory::output_bound;
use crate::policy::OutputFormat;
use image::RgbImage;
use image::codecs::jpeg::JpegEncoder;

/// Encode RGB pixels into a brand-new file: JPEG (baseline, plain JFIF APP0
/// only) or PNG (IHDR/IDAT/IEND only). Same pixels → same bytes.
pub fn encode(
    rgb: &RgbImage,
    format: OutputFormat,
    jpeg_quality: u8,
) -> Result<Vec<u8>, RedactError> {
    let raw = encode_raw(rgb, format, jpeg_quality)?;
    rebuild(&raw, format)
}

/// The encoder's own bytes, in a buffer that refuses to grow past
/// [`output_bound`] (the memory plan counts no more).
pub(super) fn encode_raw(
    rgb: &RgbImage,
    format: OutputFormat,
    jpeg_quality: u8,
) -> Result<Vec<u8>, RedactError> {
    let fail = |e: image::ImageError| RedactError::Encode {
        format: format_name(format),
        problem: e.to_string(),
    };
    let (w, h) = rgb.dimensions();
    let mut raw = Bounded {
        bytes: Vec::new(),
        max: output_bound(crate::memory::rgb_bytes(w, h)),
    };
    match format {
        OutputFormat::Dicom => {
            return Err(RedactError::Encode {
                format: "DICOM",
                problem: "a DICOM output is written from its item's header (dicom::output)".into(),
            });
        }
        OutputFormat::Jpeg => {
            JpegEncoder::new_with_quality(&mut raw, jpeg_quality.clamp(1, 100))
                .encode_image(rgb)
                .map_err(fail)?;
        }
        OutputFormat::Png => {
            let png_fail = |e: png::EncodingError| RedactError::Encode {
                format: "PNG",
                problem: e.to_string(),
            };
            let mut encoder = png::Encoder::new(&mut raw, w, h);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            encoder.set_compression(png::Compression::Balanced);
            encoder.set_filter(png::Filter::Adaptive);
            let mut writer = encoder.write_header().map_err(png_fail)?;
            let mut stream = writer
                .stream_writer_with_size(PNG_IDAT_BYTES)
                .map_err(png_fail)?;
            std::io::Write::write_all(&mut stream, rgb.as_raw()).map_err(|e| png_fail(e.into()))?;
            stream.finish().map_err(png_fail)?;
            writer.finish().map_err(png_fail)?;
        }
    }
    Ok(raw.bytes)
}

/// The encoder's container rebuilt from the allowed parts only, so a
/// future encoder that adds a segment or chunk cannot leak it; then checked
/// against the allowlist, and to be the format asked for.
pub(super) fn rebuild(raw: &[u8], format: OutputFormat) -> Result<Vec<u8>, RedactError> {
    let bytes = match format {
        OutputFormat::Jpeg => rebuild_jpeg(raw)?,
        OutputFormat::Png => rebuild_png(raw)?,
        OutputFormat::Dicom => raw.to_vec(),
    };
    let checked = check_output(&bytes)?;
    if checked != format {
        return Err(RedactError::Encode {
            format: format_name(format),
            problem: format!("the encoder wrote {}", format_name(checked)),
        });
    }
    Ok(bytes)
}

/// Compressed bytes per IDAT chunk of a PNG output.
pub(super) const PNG_IDAT_BYTES: usize = 1 << 20;

/// A `Vec` writer with a ceiling.
pub(super) struct Bounded {
    bytes: Vec<u8>,
    max: u64,
}

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if (self.bytes.len() + buf.len()) as u64 > self.max {
            return Err(std::io::Error::other(format!(
                "the encoded image would pass {} MiB, more than its memory plan allows; lower jpeg_quality",
                self.max / (1024 * 1024)
            )));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The only APP0 Veil writes: JFIF 1.01, aspect ratio 1:1, no thumbnail.
pub(super) const PLAIN_JFIF_APP0: [u8; 18] = [
    0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01,
    0x00, 0x00,
];

/// The encoder's JPEG with only allowlisted segments, and a plain JFIF APP0.
pub(super) fn rebuild_jpeg(raw: &[u8]) -> Result<Vec<u8>, AllowlistError> {
    let mut out = Vec::with_capacity(raw.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    out.extend_from_slice(&PLAIN_JFIF_APP0);
    for seg in jpeg_segments(raw)? {
        match seg.marker {
            SOI | APP0 => {}
            m if is_app(m) || m == COM => {}
            _ => out.extend_from_slice(&raw[seg.offset..seg.end]),
        }
    }
    Ok(out)
}

/// The encoder's PNG with only allowlisted chunks.
pub(super) fn rebuild_png(raw: &[u8]) -> Result<Vec<u8>, AllowlistError> {
    let mut out = Vec::with_capacity(raw.len());
    out.extend_from_slice(PNG_SIGNATURE);
    for chunk in png_chunks(raw)? {
        if PNG_ALLOWED.contains(&&chunk.kind) {
            out.extend_from_slice(&raw[chunk.offset..chunk.end]);
        }
    }
    Ok(out)
}
