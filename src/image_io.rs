//! Decoding originals safely: format by content, decode limits from the
//! policy, EXIF orientation applied so everything downstream works in the
//! upright coordinates the reviewer sees. HEIF is decoded by `heic-decoder`
//! (see [`heic`]), whose container transforms set the upright picture.

mod heic;

use crate::container::{be16, be32};
pub use crate::decoded::{DecodeError, Decoded, SourceFormat};

use crate::memory::{MemoryPlan, Step};
use crate::policy::Limits;
use image::{ColorType, DynamicImage, ImageDecoder, ImageReader, RgbImage, metadata::Orientation};
use std::io::Cursor;

/// Identify the container by its first bytes; never by the file name.
pub(crate) fn sniff(bytes: &[u8]) -> Result<SourceFormat, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    // First: a DICOM preamble is free-form and often a TIFF header (a
    // dual-format file); the `DICM` at 128 decides.
    if crate::dicom::is_dicom(bytes) {
        return Ok(SourceFormat::Dicom);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(SourceFormat::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(SourceFormat::Png);
    }
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Ok(SourceFormat::Webp);
    }
    if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        return Ok(SourceFormat::Tiff);
    }
    if crate::heif::is_heif(bytes) {
        return Ok(SourceFormat::Heif);
    }
    Err(match unsupported_name(bytes) {
        Some(name) => DecodeError::Unsupported(name.to_string()),
        None => DecodeError::NotAnImage,
    })
}

/// Names formats people will try, so the error can say which it was.
fn unsupported_name(bytes: &[u8]) -> Option<&'static str> {
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        let brand = &bytes[8..12];
        return Some(match brand {
            b"heic" | b"heix" | b"hevc" | b"heim" | b"heis" | b"mif1" | b"msf1" => "HEIC/HEIF",
            b"avif" | b"avis" => "AVIF",
            _ => "an ISO media file (MP4/MOV/HEIF)",
        });
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Some("GIF");
    }
    if bytes.starts_with(b"BM") && bytes.len() > 14 {
        return Some("BMP");
    }
    if bytes.starts_with(b"%PDF") {
        return Some("PDF");
    }
    if bytes.starts_with(&[0x00, 0x00, 0x00, 0x0C, b'j', b'P'])
        || bytes.starts_with(&[0xFF, 0x4F, 0xFF, 0x51])
    {
        return Some("JPEG 2000");
    }
    None
}

fn limits(l: &Limits) -> image::Limits {
    let mut lim = image::Limits::default();
    lim.max_image_width = Some(l.max_width);
    lim.max_image_height = Some(l.max_height);
    lim.max_alloc = Some(l.max_alloc_bytes());
    lim
}

/// Width and height from the header alone (before orientation), or `None`
/// when the header cannot be read.
pub fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let format = sniff(bytes).ok()?;
    let Some(image_format) = format.image_format() else {
        return match format {
            SourceFormat::Dicom => crate::dicom::dimensions(bytes),
            _ => heic::dimensions(bytes),
        };
    };
    ImageReader::with_format(Cursor::new(bytes), image_format)
        .into_dimensions()
        .ok()
}

/// The memory plan of `bytes` from its header alone, or `None` when the
/// header cannot be read (decoding will then say why).
pub fn memory_plan(bytes: &[u8], l: &Limits) -> Option<MemoryPlan> {
    let format = sniff(bytes).ok()?;
    let Some(image_format) = format.image_format() else {
        return match format {
            SourceFormat::Dicom => crate::dicom::memory_plan(bytes, l).ok(),
            _ => heic::memory_plan(bytes, l).ok(),
        };
    };
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format);
    reader.limits(limits(l));
    let mut decoder = reader.into_decoder().ok()?;
    let orientation = decoder.orientation().map(orientation_to_exif).unwrap_or(1);
    Some(plan_of(bytes, format, &decoder, orientation))
}

fn plan_of(
    bytes: &[u8],
    format: SourceFormat,
    decoder: &impl ImageDecoder,
    orientation: u8,
) -> MemoryPlan {
    let (width, height) = decoder.dimensions();
    let color = decoder.color_type();
    let decoder_extra = match format {
        // A progressive JPEG is decoded from all of its coefficients, kept
        // as 16-bit values until the last scan.
        SourceFormat::Jpeg => jpeg_frame(bytes)
            .filter(|f| f.progressive)
            .map_or(0, |f| f.blocks() * 64 * 2),
        _ => 0,
    };
    MemoryPlan {
        width,
        height,
        file: bytes.len() as u64,
        native: decoder.total_bytes(),
        decoder: decoder_extra,
        rotates: (5..=8).contains(&orientation),
        converts: color != ColorType::Rgb8,
    }
}

/// Decode `bytes` under the policy's limits and apply EXIF orientation,
/// for ingest: the memory plan is checked for every later step too.
pub fn decode_upright(bytes: &[u8], l: &Limits) -> Result<Decoded, DecodeError> {
    decode_with(bytes, l, None, Step::Ingest)
}

/// Like [`decode_upright`] but with a known orientation (from the item),
/// so the output matches what was reviewed even if the decoder disagrees,
/// and for `step`, whose memory plan must fit the policy's limit. A HEIF is
/// upright from its own transforms and ignores `orientation` (always 1).
pub fn decode_with(
    bytes: &[u8],
    l: &Limits,
    orientation: Option<u8>,
    step: Step,
) -> Result<Decoded, DecodeError> {
    let format = sniff(bytes)?;
    if format == SourceFormat::Dicom {
        // Its own walk checks completeness, frames and limits.
        return crate::dicom::decode(bytes, l, step);
    }
    check_complete(bytes, format)?;
    check_single_frame(bytes, format)?;
    let Some(image_format) = format.image_format() else {
        return heic::decode(bytes, l, step);
    };
    let corrupt = |e: image::ImageError| map_image_error(e, format, l, bytes);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format);
    reader.limits(limits(l));
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    let (width, height) = decoder.dimensions();
    if width > l.max_width || height > l.max_height {
        return Err(DecodeError::TooLarge {
            width,
            height,
            max_width: l.max_width,
            max_height: l.max_height,
        });
    }
    check_plausible(bytes, format)?;
    let found = decoder.orientation().map(orientation_to_exif).unwrap_or(1);
    let orientation = orientation.unwrap_or(found);
    let plan = plan_of(bytes, format, &decoder, orientation);
    plan.check(step, l)?;
    let image = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    let image = apply_orientation(image, orientation);
    Ok(Decoded {
        format,
        width,
        height,
        orientation,
        image,
        plan,
    })
}

/// Decoders fill a truncated image with grey and carry on; a clinical
/// photo with its lower half missing must be refused instead, so check the
/// container reaches its end marker.
pub(crate) fn check_complete(bytes: &[u8], format: SourceFormat) -> Result<(), DecodeError> {
    let truncated = |what: &str| DecodeError::Corrupt {
        format: format.as_str(),
        problem: what.to_string(),
    };
    match format {
        SourceFormat::Jpeg => {
            let sos =
                jpeg_first_scan(bytes).ok_or_else(|| truncated("no image data (SOS) found"))?;
            // In entropy-coded data 0xFF is always followed by 0x00 or RSTn,
            // so FF D9 after the first scan can only be the end marker.
            if bytes[sos..].windows(2).any(|w| w == [0xFF, 0xD9]) {
                Ok(())
            } else {
                Err(truncated("the end-of-image marker is missing"))
            }
        }
        SourceFormat::Png => {
            if bytes.windows(8).any(|w| w == b"\0\0\0\0IEND") {
                Ok(())
            } else {
                Err(truncated("the IEND chunk is missing"))
            }
        }
        SourceFormat::Webp => {
            let declared = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
            let riff_end = declared.saturating_add(8);
            if riff_end > bytes.len() {
                return Err(truncated("the file is shorter than its RIFF header says"));
            }
            // The WebP decoder allocates a chunk's declared size before
            // reading it (unbounded by our limits): refuse a chunk that
            // says it is longer than the file.
            let mut at = 12;
            while let Some(h) = bytes.get(at..at + 8).filter(|_| at + 8 <= riff_end) {
                let size = u32::from_le_bytes([h[4], h[5], h[6], h[7]]) as usize;
                let end = (at + 8).saturating_add(size);
                if end > riff_end {
                    return Err(truncated("a chunk runs past the end of the file"));
                }
                at = end + (size & 1);
            }
            Ok(())
        }
        SourceFormat::Tiff => Ok(()),
        SourceFormat::Heif => heic::check_complete(bytes),
        // The structural walk in `dicom::scan` reaches the file's end.
        SourceFormat::Dicom => Ok(()),
    }
}

/// Veil reviews and releases still images. An animated or multi-page file
/// is refused by name: releasing one frame of many would show the reviewer
/// one picture and leave them guessing about the rest.
pub(crate) fn check_single_frame(bytes: &[u8], format: SourceFormat) -> Result<(), DecodeError> {
    let refuse = |what: &str| {
        Err(DecodeError::Unsupported(format!(
            "{what} (Veil reviews still images only; export the frame to review as its own file)"
        )))
    };
    match format {
        SourceFormat::Png => {
            // Walk chunks up to the first IDAT; an acTL before it makes an APNG.
            let mut i = 8usize;
            while i + 8 <= bytes.len() {
                let len = u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]])
                    as usize;
                let kind = &bytes[i + 4..i + 8];
                if kind == b"acTL" {
                    return refuse("an animated PNG");
                }
                if kind == b"IDAT" || kind == b"IEND" {
                    break;
                }
                i = i.saturating_add(12).saturating_add(len);
            }
            Ok(())
        }
        SourceFormat::Webp => {
            if bytes.len() >= 21 && &bytes[12..16] == b"VP8X" && bytes[20] & 0x02 != 0 {
                return refuse("an animated WebP");
            }
            Ok(())
        }
        SourceFormat::Tiff => {
            let le = bytes.starts_with(b"II");
            let u32_at = |o: usize| -> Option<u32> {
                let b: [u8; 4] = bytes.get(o..o + 4)?.try_into().ok()?;
                Some(if le {
                    u32::from_le_bytes(b)
                } else {
                    u32::from_be_bytes(b)
                })
            };
            let u16_at = |o: usize| -> Option<u16> {
                let b: [u8; 2] = bytes.get(o..o + 2)?.try_into().ok()?;
                Some(if le {
                    u16::from_le_bytes(b)
                } else {
                    u16::from_be_bytes(b)
                })
            };
            let next = u32_at(4)
                .and_then(|ifd0| {
                    let n = u16_at(ifd0 as usize)? as usize;
                    u32_at(ifd0 as usize + 2 + n * 12)
                })
                .unwrap_or(0);
            if next != 0 {
                return refuse("a multi-page TIFF");
            }
            Ok(())
        }
        SourceFormat::Heif => match heic::has_still_primary(bytes) {
            true => Ok(()),
            false => refuse("a HEIF image sequence with no still primary image"),
        },
        // Frames are counted from the header in `dicom::decode`.
        SourceFormat::Jpeg | SourceFormat::Dicom => Ok(()),
    }
}

/// Width and height as the header states them, read by hand for PNG and
/// JPEG (the decoders refuse an absurd size without saying it).
fn claimed_size(bytes: &[u8], format: SourceFormat) -> Option<(u32, u32)> {
    match format {
        SourceFormat::Png => png_header(bytes).map(|h| (h.width, h.height)),
        SourceFormat::Jpeg => jpeg_frame(bytes).map(|f| (f.width, f.height)),
        _ => None,
    }
}

/// A PNG's IHDR and how many compressed bytes its IDAT chunks hold.
struct PngHeader {
    width: u32,
    height: u32,
    /// Bits per pixel: bit depth times channels.
    bits_per_pixel: u64,
    idat_bytes: u64,
}

fn png_header(bytes: &[u8]) -> Option<PngHeader> {
    if bytes.get(12..16) != Some(b"IHDR") {
        return None;
    }
    let channels = match *bytes.get(25)? {
        0 | 3 => 1,
        4 => 2,
        2 => 3,
        6 => 4,
        _ => return None,
    };
    let mut header = PngHeader {
        width: be32(bytes, 16)?,
        height: be32(bytes, 20)?,
        bits_per_pixel: u64::from(*bytes.get(24)?) * channels,
        idat_bytes: 0,
    };
    let mut at = 8usize;
    while let (Some(len), Some(kind)) = (be32(bytes, at), bytes.get(at + 4..at + 8)) {
        if kind == b"IDAT" {
            header.idat_bytes += u64::from(len);
        }
        if kind == b"IEND" {
            break;
        }
        at = at.saturating_add(12).saturating_add(len as usize);
    }
    Some(header)
}

/// A JPEG's frame header (SOFn): size and each component's sampling factors.
struct JpegFrame {
    /// SOF2 (progressive): the decoder keeps every coefficient.
    progressive: bool,
    width: u32,
    height: u32,
    /// (horizontal, vertical) sampling factor of each component.
    sampling: Vec<(u32, u32)>,
}

fn jpeg_frame(bytes: &[u8]) -> Option<JpegFrame> {
    let mut i = 2;
    while i + 4 <= bytes.len() && bytes[i] == 0xFF {
        let marker = bytes[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let count = usize::from(*bytes.get(i + 9)?);
            let sampling = (0..count)
                .map(|c| {
                    let f = *bytes.get(i + 10 + 3 * c + 1)?;
                    Some((u32::from(f >> 4), u32::from(f & 0x0F)))
                })
                .collect::<Option<Vec<_>>>()?;
            return Some(JpegFrame {
                progressive: marker == 0xC2,
                width: u32::from(be16(bytes, i + 7)?),
                height: u32::from(be16(bytes, i + 5)?),
                sampling,
            });
        }
        if marker == 0xDA {
            return None;
        }
        i += 2 + usize::from(be16(bytes, i + 2)?);
    }
    None
}

impl JpegFrame {
    /// 8x8 blocks over all components, each at its own sampling.
    fn blocks(&self) -> u64 {
        let hmax = self.sampling.iter().map(|s| s.0).max().unwrap_or(1).max(1);
        let vmax = self.sampling.iter().map(|s| s.1).max().unwrap_or(1).max(1);
        self.sampling
            .iter()
            .map(|&(hs, vs)| {
                let cols = (u64::from(self.width) * u64::from(hs)).div_ceil(u64::from(hmax));
                let rows = (u64::from(self.height) * u64::from(vs)).div_ceil(u64::from(vmax));
                cols.div_ceil(8) * rows.div_ceil(8)
            })
            .sum()
    }
}

/// The most deflate can expand: a 258-byte match in two one-bit codes.
const DEFLATE_MAX_RATIO: u64 = 1032;

/// Refuse, before anything is allocated, a header that claims more pixels
/// than the file's bytes can encode: a PNG cannot inflate more than 1032:1,
/// and every 8x8 block of every JPEG component costs at least one bit of
/// Huffman code. Such a file is crafted or broken, and decoding it would
/// only allocate the claimed size to fill it with nothing.
pub(crate) fn check_plausible(bytes: &[u8], format: SourceFormat) -> Result<(), DecodeError> {
    let implausible = |width: u32, height: u32, why: String| DecodeError::Corrupt {
        format: format.as_str(),
        problem: format!("the header claims {width}x{height} pixels, {why}"),
    };
    match format {
        SourceFormat::Png => {
            let Some(h) = png_header(bytes) else {
                return Ok(());
            };
            let row = (u64::from(h.width) * h.bits_per_pixel).div_ceil(8) + 1;
            let raw = row.saturating_mul(u64::from(h.height));
            if raw > h.idat_bytes.saturating_mul(DEFLATE_MAX_RATIO) + 4096 {
                return Err(implausible(
                    h.width,
                    h.height,
                    format!(
                        "which cannot come from {} bytes of compressed image data (deflate expands at most {DEFLATE_MAX_RATIO}:1)",
                        h.idat_bytes
                    ),
                ));
            }
            Ok(())
        }
        SourceFormat::Jpeg => {
            let Some(f) = jpeg_frame(bytes) else {
                return Ok(());
            };
            let blocks = f.blocks();
            let bits = (bytes.len() as u64).saturating_mul(8);
            if blocks > bits {
                return Err(implausible(
                    f.width,
                    f.height,
                    format!(
                        "{blocks} blocks of 8x8 that need at least one bit each, more than the file's {} bytes hold",
                        bytes.len()
                    ),
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Offset of the first SOS segment of the main image, walking the marker
/// segments (so an EXIF thumbnail's markers are skipped).
fn jpeg_first_scan(bytes: &[u8]) -> Option<usize> {
    let mut i = 2;
    while i + 4 <= bytes.len() {
        if bytes[i] != 0xFF {
            return None;
        }
        let marker = bytes[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        if marker == 0xDA {
            return Some(i);
        }
        if (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
            i += 2;
            continue;
        }
        let len = u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]) as usize;
        if len < 2 {
            return None;
        }
        i += 2 + len;
    }
    None
}

fn map_image_error(
    e: image::ImageError,
    format: SourceFormat,
    l: &Limits,
    bytes: &[u8],
) -> DecodeError {
    match e {
        image::ImageError::Limits(le) => match le.kind() {
            // The decoder refused before saying the size: read it from the
            // header alone, so the message names what the file claims.
            image::error::LimitErrorKind::DimensionError => {
                let (width, height) = claimed_size(bytes, format)
                    .or_else(|| dimensions(bytes))
                    .unwrap_or((0, 0));
                DecodeError::TooLarge {
                    width,
                    height,
                    max_width: l.max_width,
                    max_height: l.max_height,
                }
            }
            _ => DecodeError::TooMuchMemory(l.max_alloc_mib),
        },
        image::ImageError::Unsupported(u) => DecodeError::Corrupt {
            format: format.as_str(),
            problem: format!("unsupported variant: {u}"),
        },
        other => DecodeError::Corrupt {
            format: format.as_str(),
            problem: other.to_string(),
        },
    }
}

/// Turn stored pixels upright for an EXIF orientation value.
pub fn apply_orientation(mut image: DynamicImage, orientation: u8) -> DynamicImage {
    if let Some(o) = Orientation::from_exif(orientation) {
        image.apply_orientation(o);
    }
    image
}

fn orientation_to_exif(o: Orientation) -> u8 {
    o.to_exif()
}

/// `region` of `image` (all of it when `None`) scaled to `size`: bilinear
/// (triangle filter) when `smooth`, else nearest-neighbour, which keeps
/// enlarged pixels square. SIMD on the 8-bit pixels, with no floating-point
/// copy of the image (the `image` crate's resize makes one, 12 bytes a
/// pixel), and no copy of the region.
pub(crate) fn resize_rgb(
    image: &RgbImage,
    region: Option<(u32, u32, u32, u32)>,
    size: (u32, u32),
    smooth: bool,
) -> RgbImage {
    use fast_image_resize as fr;
    let (w, h) = (size.0.max(1), size.1.max(1));
    let (x, y, rw, rh) = region.unwrap_or((0, 0, image.width(), image.height()));
    let alg = if smooth {
        fr::ResizeAlg::Convolution(fr::FilterType::Bilinear)
    } else {
        fr::ResizeAlg::Nearest
    };
    let options = fr::ResizeOptions::new().resize_alg(alg).crop(
        f64::from(x),
        f64::from(y),
        f64::from(rw),
        f64::from(rh),
    );
    let mut out = fr::images::Image::new(w, h, fr::PixelType::U8x3);
    let fast = fr::images::ImageRef::new(
        image.width(),
        image.height(),
        image.as_raw(),
        fr::PixelType::U8x3,
    )
    .ok()
    .and_then(|src| fr::Resizer::new().resize(&src, &mut out, &options).ok())
    .and_then(|()| RgbImage::from_raw(w, h, out.into_vec()));
    // Only sizes that do not match the buffer fail above; the slow path
    // still gives an image rather than none.
    fast.unwrap_or_else(|| {
        let crop = image::imageops::crop_imm(image, x, y, rw, rh).to_image();
        let filter = if smooth {
            image::imageops::FilterType::Triangle
        } else {
            image::imageops::FilterType::Nearest
        };
        image::imageops::resize(&crop, w, h, filter)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::crc32;
    use image::ImageFormat;

    #[test]
    fn formats_are_recognised_by_content_not_name() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Ok(SourceFormat::Jpeg));
        assert_eq!(sniff(b"hello world"), Err(DecodeError::NotAnImage));
        assert_eq!(sniff(b""), Err(DecodeError::Empty));
        let mut heic = vec![0, 0, 0, 24];
        heic.extend_from_slice(b"ftypheic");
        heic.extend_from_slice(&[0; 8]);
        assert_eq!(sniff(&heic), Ok(SourceFormat::Heif));
        let mut avif = vec![0, 0, 0, 24];
        avif.extend_from_slice(b"ftypavif");
        avif.extend_from_slice(&[0; 4]);
        avif.extend_from_slice(b"mif1");
        assert_eq!(sniff(&avif), Err(DecodeError::Unsupported("AVIF".into())));
        let mut dicom = vec![0u8; 128];
        dicom.extend_from_slice(b"DICM");
        assert_eq!(sniff(&dicom), Ok(SourceFormat::Dicom));
        // A dual-format file: a TIFF header in the DICOM preamble is DICOM.
        dicom[..4].copy_from_slice(b"II*\0");
        assert_eq!(sniff(&dicom), Ok(SourceFormat::Dicom));
    }

    #[test]
    fn a_declared_huge_png_is_refused_before_allocation() {
        // A PNG header claiming 100000 x 100000 pixels, with no data.
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&100_000u32.to_be_bytes());
        ihdr.extend_from_slice(&100_000u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        png.extend_from_slice(&13u32.to_be_bytes());
        png.extend_from_slice(b"IHDR");
        png.extend_from_slice(&ihdr);
        let mut crc_input = b"IHDR".to_vec();
        crc_input.extend_from_slice(&ihdr);
        png.extend_from_slice(&crc32(&crc_input).to_be_bytes());
        png.extend_from_slice(&[0, 0, 0, 0]);
        png.extend_from_slice(b"IEND");
        png.extend_from_slice(&crc32(b"IEND").to_be_bytes());
        let err = decode_upright(&png, &Limits::default()).unwrap_err();
        assert!(matches!(err, DecodeError::TooLarge { .. }), "{err:?}");
        assert!(
            err.to_string().starts_with("image is 100000x100000, over"),
            "{err}"
        );
    }

    #[test]
    fn an_oversize_jpeg_is_reported_with_the_size_its_header_claims_not_0x0() {
        let jpeg = jpeg_claiming(25_000, 30_000);
        let err = decode_upright(&jpeg, &Limits::default()).unwrap_err();
        assert_eq!(
            err,
            DecodeError::TooLarge {
                width: 25_000,
                height: 30_000,
                max_width: 20_000,
                max_height: 20_000
            }
        );
    }

    /// A small file whose header claims `w`x`h`.
    fn jpeg_claiming(w: u16, h: u16) -> Vec<u8> {
        let mut jpeg = Vec::new();
        DynamicImage::new_rgb8(8, 8)
            .write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg)
            .unwrap();
        let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        jpeg[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
        jpeg[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
        jpeg
    }

    #[test]
    fn a_tiny_jpeg_claiming_20000x20000_is_refused_before_decoding_as_absurd_for_its_size() {
        let jpeg = jpeg_claiming(20_000, 20_000);
        assert!(jpeg.len() < 1000, "{} bytes", jpeg.len());
        let err = decode_upright(&jpeg, &Limits::default()).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, DecodeError::Corrupt { .. }), "{err:?}");
        assert!(
            msg.contains("claims 20000x20000 pixels") && msg.contains("at least one bit"),
            "{msg}"
        );
    }

    #[test]
    fn a_tiny_png_claiming_20000x20000_is_refused_before_decoding_as_absurd_for_its_size() {
        let mut png = Vec::new();
        DynamicImage::new_rgb8(8, 8)
            .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
            .unwrap();
        png[16..20].copy_from_slice(&20_000u32.to_be_bytes());
        png[20..24].copy_from_slice(&20_000u32.to_be_bytes());
        let err = check_plausible(&png, SourceFormat::Png).unwrap_err();
        assert!(
            err.to_string().contains("deflate expands at most 1032:1"),
            "{err}"
        );
    }

    #[test]
    fn real_photos_and_maximally_compressed_images_are_plausible() {
        // A one-colour image is the best case for both codecs.
        for format in [ImageFormat::Png, ImageFormat::Jpeg] {
            let mut bytes = Vec::new();
            DynamicImage::new_rgb8(4000, 3000)
                .write_to(&mut Cursor::new(&mut bytes), format)
                .unwrap();
            let source = sniff(&bytes).unwrap();
            assert_eq!(check_plausible(&bytes, source), Ok(()), "{format:?}");
        }
        for sample in [
            "portrait_gps.jpg",
            "rotated6.jpg",
            "trailer.jpg",
            "no_face.png",
        ] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/samples")
                .join(sample);
            let bytes = std::fs::read(&path).expect("bundled sample");
            let source = sniff(&bytes).unwrap();
            assert_eq!(check_plausible(&bytes, source), Ok(()), "{sample}");
        }
    }

    #[test]
    fn a_jpeg_cut_short_is_refused_not_filled_with_grey() {
        let mut buf = Vec::new();
        DynamicImage::new_rgb8(64, 64)
            .write_to(&mut Cursor::new(&mut buf), ImageFormat::Jpeg)
            .unwrap();
        assert!(decode_upright(&buf, &Limits::default()).is_ok());
        let cut = &buf[..buf.len() * 2 / 3];
        let err = decode_upright(cut, &Limits::default()).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
    }

    #[test]
    fn orientation_six_turns_a_wide_image_tall() {
        let img = DynamicImage::new_rgb8(40, 10);
        let up = apply_orientation(img, 6);
        assert_eq!((up.width(), up.height()), (10, 40));
    }

    #[test]
    fn resizing_a_region_keeps_its_pixels_and_nearest_keeps_them_square() {
        let mut img = RgbImage::from_pixel(40, 30, image::Rgb([0, 0, 0]));
        for y in 10..20 {
            for x in 20..30 {
                img.put_pixel(x, y, image::Rgb([200, 100, 50]));
            }
        }
        // The 10×10 patch alone, enlarged 3× without smoothing: every pixel its colour.
        let big = resize_rgb(&img, Some((20, 10, 10, 10)), (30, 30), false);
        assert_eq!(big.dimensions(), (30, 30));
        assert!(big.pixels().all(|p| p.0 == [200, 100, 50]));
        // Halved with smoothing: the patch's middle keeps its colour, the
        // black around it stays black.
        let small = resize_rgb(&img, None, (20, 15), true);
        assert_eq!(small.get_pixel(12, 7).0, [200, 100, 50]);
        assert_eq!(small.get_pixel(2, 2).0, [0, 0, 0]);
    }
}
