//! HEIC/HEIF originals: the policy's limits read from the container's
//! `ispe` before anything is decoded, pixels from `heic-decoder` (pure
//! Rust, no `unsafe`), and orientation from the HEIF transforms alone.
//!
//! In HEIF the decoder applies `clap`, `irot` and `imir`; an EXIF
//! Orientation tag inside the file only describes what those transforms
//! already did (an iPhone writes Orientation 6 *and* `irot` 270°). So a
//! decoded HEIF is upright and its orientation is always 1: applying EXIF
//! afterwards would turn it twice. Only the primary image is decoded;
//! thumbnails, auxiliary images and the other images of a burst or stereo
//! pair are listed by the metadata inventory and never reach the output.

use super::{DecodeError, Decoded, SourceFormat};
use crate::heif::{self, Heif};
use crate::memory::{MemoryPlan, Step};
use crate::policy::Limits;
use heic_decoder::HeifError;
use image::{DynamicImage, RgbImage, RgbaImage};

fn corrupt(problem: impl Into<String>) -> DecodeError {
    DecodeError::Corrupt {
        format: SourceFormat::Heif.as_str(),
        problem: problem.into(),
    }
}

fn decoder_error(e: HeifError) -> DecodeError {
    match e {
        HeifError::Unsupported(what) => DecodeError::UnsupportedHeif(what.to_string()),
        other => corrupt(other.to_string()),
    }
}

/// The primary item and its size as shown, from the container alone.
fn primary_size(map: &Heif) -> Result<(u32, u32, u32), DecodeError> {
    let primary = map
        .primary
        .ok_or_else(|| corrupt("the file names no primary image ('pitm' box)"))?;
    let (w, h) = map.shown_size_of(primary).ok_or_else(|| {
        corrupt(format!(
            "the primary image (item {primary}) has no size ('ispe')"
        ))
    })?;
    Ok((primary, w, h))
}

/// Width and height of the primary image as shown, from the container.
pub(super) fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let (_, w, h) = primary_size(&heif::parse(bytes)).ok()?;
    Some((w, h))
}

/// Whether the file has a still primary image (not only a sequence track).
pub(super) fn has_still_primary(bytes: &[u8]) -> bool {
    let map = heif::parse(bytes);
    map.primary.is_some_and(|p| map.item(p).is_some()) || !map.tracks
}

/// Refuse a file whose index points past its end: a copy cut short in
/// transfer. Any item counts, not only the primary picture's: what is
/// missing may be what the reviewer needed to see listed.
pub(super) fn check_complete(bytes: &[u8]) -> Result<(), DecodeError> {
    let map = heif::parse(bytes);
    match map.items_past_end(bytes.len()).first() {
        Some(id) => Err(corrupt(format!(
            "the file is shorter than its index says: the data of item {id} runs past its end ({} bytes)",
            bytes.len()
        ))),
        None => Ok(()),
    }
}

/// The memory plan, after the policy's width and height limits are checked
/// against the container's `ispe` and the coded picture's own size.
pub(super) fn memory_plan(bytes: &[u8], l: &Limits) -> Result<MemoryPlan, DecodeError> {
    let map = heif::parse(bytes);
    let (primary, width, height) = primary_size(&map)?;
    let too_large = |width: u32, height: u32| DecodeError::TooLarge {
        width,
        height,
        max_width: l.max_width,
        max_height: l.max_height,
    };
    if width > l.max_width || height > l.max_height {
        return Err(too_large(width, height));
    }
    // The decoder reads the parameter sets; nothing is decoded yet.
    let info = heic_decoder::probe(bytes).map_err(decoder_error)?;
    let (w, h) = (
        u32::try_from(info.width).unwrap_or(u32::MAX),
        u32::try_from(info.height).unwrap_or(u32::MAX),
    );
    if w > l.max_width || h > l.max_height {
        return Err(too_large(w, h));
    }
    let coded = map.size_of(primary).unwrap_or_default();
    let coded_decoder = (
        u32::try_from(info.coded_width).unwrap_or(u32::MAX),
        u32::try_from(info.coded_height).unwrap_or(u32::MAX),
    );
    if coded != coded_decoder {
        return Err(corrupt(format!(
            "the container says the primary image is {}x{} ('ispe') but its coded picture is {}x{}",
            coded.0, coded.1, coded_decoder.0, coded_decoder.1
        )));
    }
    // The decoder holds each plane as 32-bit samples. A grid peaks at three
    // times its planes (tiles, canvas, and the turned copy: measured 3459
    // MiB for the 200 MP iPhone-style grid with irot, planned 3435; 230 MiB
    // for a 12 MP one, base process included); a single turned picture
    // copies one plane at a time. Its coded bytes are copied out of the file.
    let luma = u64::from(coded.0) * u64::from(coded.1) * 4;
    let chroma = match info.chroma_format_idc {
        0 => 0,
        1 => luma / 2,
        2 => luma,
        _ => 2 * luma,
    };
    let alpha = if info.alpha_bit_depth.is_some() {
        luma
    } else {
        0
    };
    let planes = luma + chroma + alpha;
    let grid = map.item(primary).is_some_and(|i| &i.kind == b"grid");
    let transformed = map.properties_of(primary).any(|p| {
        matches!(p, heif::Property::Rotation(r) if *r != 0)
            || matches!(p, heif::Property::Mirror(_))
    });
    let working = match (grid, transformed) {
        (true, _) => 2 * planes,
        (false, true) => luma,
        (false, false) => 0,
    };
    Ok(MemoryPlan {
        width: w,
        height: h,
        file: bytes.len() as u64,
        // With alpha the 8-bit copy is RGBA: one byte a pixel more than RGB.
        native: planes + alpha / 4,
        decoder: working + bytes.len() as u64,
        rotates: false,
        converts: true,
    })
}

/// Decode the primary image upright, for `step` (whose plan must fit).
pub(super) fn decode(bytes: &[u8], l: &Limits, step: Step) -> Result<Decoded, DecodeError> {
    let plan = memory_plan(bytes, l)?;
    plan.check(step, l)?;
    let decoded = heic_decoder::decode(bytes).map_err(decoder_error)?;
    let (width, height) = (plan.width, plan.height);
    if (decoded.width, decoded.height) != (width as usize, height as usize) {
        return Err(corrupt(format!(
            "the decoder gave {}x{} pixels where the container says {width}x{height}",
            decoded.width, decoded.height
        )));
    }
    let wrong = || corrupt("the decoder's pixels do not fill the picture");
    let image = if decoded.alpha.is_some() {
        let rgba = decoded.to_rgba8().map_err(decoder_error)?;
        drop(decoded);
        DynamicImage::ImageRgba8(RgbaImage::from_raw(width, height, rgba.data).ok_or_else(wrong)?)
    } else {
        let rgb = decoded.to_rgb8().map_err(decoder_error)?;
        drop(decoded);
        DynamicImage::ImageRgb8(RgbImage::from_raw(width, height, rgb.data).ok_or_else(wrong)?)
    };
    Ok(Decoded {
        format: SourceFormat::Heif,
        width,
        height,
        orientation: 1,
        image,
        plan,
    })
}
