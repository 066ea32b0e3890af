//! The irreversible derivative: turn the original upright, fill the masks,
//! flatten alpha, re-encode from pixels into a brand-new file, and check the
//! bytes actually written against a container allowlist.
//!
//! Nothing of the original container survives: the output is built from an
//! RGB buffer, so metadata, thumbnails, trailers and ICC profiles cannot be
//! carried over. [`check_output`] proves it on the bytes, not by intent.

mod allowlist;
mod encode;
mod naming;
mod pixels;

use crate::image_io::{DecodeError, decode_with};
use crate::item::Item;
use crate::memory::Step;
use crate::policy::{DicomDates, DicomOutput, OutputFormat, Policy, RedactionMode};
pub use allowlist::*;
pub use encode::*;
use image::{ImageFormat, RgbImage};
pub use naming::*;
pub use pixels::*;
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// A rendered, checked output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub format: OutputFormat,
    /// SHA-256 of `bytes`, hex.
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    /// Things the reviewer should know about this output (e.g. a reversible mask mode).
    pub warnings: Vec<String>,
}

impl Rendered {
    /// Decode the written bytes back to pixels: exactly what will be released.
    pub fn pixels(&self) -> Result<RgbImage, RedactError> {
        decode_output(&self.bytes, self.format)
    }
}

/// Why an output could not be rendered.
///
/// Messages are self-contained (they include the underlying cause), so no
/// variant reports a separate `source()`.
#[derive(Debug, thiserror::Error)]
pub enum RedactError {
    #[error("cannot read original {}: {cause}", .path.display())]
    ReadOriginal {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("original {} is {size} bytes, over the policy's {max_mib} MiB limit", .path.display())]
    OriginalTooLarge {
        path: PathBuf,
        size: u64,
        max_mib: u64,
    },
    #[error(
        "original {} changed since ingest (SHA-256 is now {found}, item {id} expects {expected}); re-ingest it",
        .path.display()
    )]
    OriginalChanged {
        path: PathBuf,
        id: String,
        expected: String,
        found: String,
    },
    #[error("item {id}: cannot decode the original: {cause}")]
    Decode { id: String, cause: DecodeError },
    #[error(
        "item {id}: the original is {found_width}x{found_height} but the item says {width}x{height}; re-ingest it"
    )]
    SizeMismatch {
        id: String,
        width: u32,
        height: u32,
        found_width: u32,
        found_height: u32,
    },
    #[error("cannot encode {format}: {problem}")]
    Encode {
        format: &'static str,
        problem: String,
    },
    #[error("rendered output failed the container allowlist: {0}")]
    Allowlist(AllowlistError),
    #[error("item {id}: {problem}")]
    DicomHeader { id: String, problem: String },
    #[error("mobile preview width must be at least 1 pixel")]
    PreviewWidth,
}

impl From<AllowlistError> for RedactError {
    fn from(e: AllowlistError) -> Self {
        RedactError::Allowlist(e)
    }
}

/// Read the original at `item.source`, check it still hashes to
/// `item.sha256`, decode it with the item's orientation, then render,
/// encode and check the output.
///
/// A DICOM item needs the workspace's `dicom_salt`: its header values are
/// derived again from the original and must match the item's (see
/// [`crate::dicom::confirm_source`]).
pub fn render_item(
    item: &Item,
    policy: &Policy,
    dicom_salt: Option<&[u8]>,
) -> Result<Rendered, RedactError> {
    let path = &item.source;
    let read_err = |cause| RedactError::ReadOriginal {
        path: path.clone(),
        cause,
    };
    let size = std::fs::metadata(path).map_err(read_err)?.len();
    let max_mib = policy.limits.max_file_mib;
    if size > policy.limits.max_file_bytes() {
        return Err(RedactError::OriginalTooLarge {
            path: path.clone(),
            size,
            max_mib,
        });
    }
    let original = std::fs::read(path).map_err(read_err)?;
    let found = sha256_hex(&original);
    if !found.eq_ignore_ascii_case(&item.sha256) {
        return Err(RedactError::OriginalChanged {
            path: path.clone(),
            id: item.id.clone(),
            expected: item.sha256.clone(),
            found,
        });
    }
    render_from_bytes(&original, item, policy, dicom_salt)
}

/// [`render_item`] from bytes already in memory (no hash check).
pub fn render_from_bytes(
    original: &[u8],
    item: &Item,
    policy: &Policy,
    dicom_salt: Option<&[u8]>,
) -> Result<Rendered, RedactError> {
    let decoded = decode_with(
        original,
        &policy.limits,
        Some(item.orientation),
        Step::Render,
    )
    .map_err(|cause| RedactError::Decode {
        id: item.id.clone(),
        cause,
    })?;
    // Masks are in the coordinates of the image that was reviewed; a
    // different image under the same item would put them in the wrong place.
    if (decoded.width, decoded.height) != (item.width, item.height) {
        return Err(RedactError::SizeMismatch {
            id: item.id.clone(),
            width: item.width,
            height: item.height,
            found_width: decoded.width,
            found_height: decoded.height,
        });
    }
    if let Some(claimed) = &item.dicom {
        let problem = match dicom_salt {
            None => "the workspace's DICOM salt is needed to render a DICOM item".to_string(),
            Some(salt) => match crate::dicom::confirm_source(original, salt, claimed) {
                Ok(()) => String::new(),
                Err(p) => p,
            },
        };
        if !problem.is_empty() {
            return Err(RedactError::DicomHeader {
                id: item.id.clone(),
                problem,
            });
        }
    }
    let rgb = render_pixels(decoded.image, &item.masks, policy);
    finish_render(rgb, item, policy)
}

/// Encode filled pixels, check the container, and say what to warn about.
/// The pixels are dropped once encoded, before the container is rebuilt,
/// so the peak is the pixels and one encoding (see [`crate::memory`]).
pub(crate) fn finish_render(
    rgb: RgbImage,
    item: &Item,
    policy: &Policy,
) -> Result<Rendered, RedactError> {
    let format = output_format(item, policy);
    let (width, height) = rgb.dimensions();
    let bytes = match (&item.dicom, format) {
        (Some(source), OutputFormat::Dicom) => {
            let shift = policy.dicom.dates == DicomDates::Shift;
            let bytes = crate::dicom::output::write(&rgb, source, &item.masks_digest(), shift)
                .map_err(|problem| RedactError::Encode {
                    format: "DICOM",
                    problem,
                })?;
            drop(rgb);
            check_output(&bytes)?;
            bytes
        }
        _ => {
            let raw = encode_raw(&rgb, format, policy.output.jpeg_quality)?;
            drop(rgb);
            rebuild(&raw, format)?
        }
    };
    let mode = policy.output.redaction;
    let warnings = if mode != RedactionMode::Solid && !item.masks.is_empty() {
        vec![reversible_warning(mode)]
    } else {
        Vec::new()
    };
    Ok(Rendered {
        sha256: sha256_hex(&bytes),
        bytes,
        format,
        width,
        height,
        warnings,
    })
}

/// What `item` is released as: a DICOM original as DICOM when the policy
/// says so, everything else in `[output] format`.
pub(crate) fn output_format(item: &Item, policy: &Policy) -> OutputFormat {
    match (&item.dicom, policy.dicom.output, policy.output.format) {
        (Some(_), DicomOutput::Dicom, _) => OutputFormat::Dicom,
        // Refused by the policy's validation; never a DICOM without its header.
        (_, _, OutputFormat::Dicom) => OutputFormat::Jpeg,
        (_, _, format) => format,
    }
}

/// The warning shown when masks are not solid fills.
pub(crate) fn reversible_warning(mode: RedactionMode) -> String {
    let name = match mode {
        RedactionMode::Solid => "solid",
        RedactionMode::Blur => "blur",
        RedactionMode::Pixelate => "pixelate",
    };
    format!("masks use {name}, which can be partly reversed")
}

/// The compressed/mobile preview: `rendered` scaled to `width` px wide
/// (never enlarged), JPEG at `quality`, decoded back as a phone would show it.
pub(crate) fn mobile_preview(
    rendered: &RgbImage,
    width: u32,
    quality: u8,
) -> Result<RgbImage, RedactError> {
    if width == 0 {
        return Err(RedactError::PreviewWidth);
    }
    let (rw, rh) = rendered.dimensions();
    let tw = width.min(rw).max(1);
    let th =
        ((u64::from(rh) * u64::from(tw) + u64::from(rw) / 2) / u64::from(rw.max(1))).max(1) as u32;
    let small = image::imageops::resize(rendered, tw, th, image::imageops::FilterType::Triangle);
    let bytes = encode(&small, OutputFormat::Jpeg, quality)?;
    decode_output(&bytes, OutputFormat::Jpeg)
}

fn decode_output(bytes: &[u8], format: OutputFormat) -> Result<RgbImage, RedactError> {
    let image_format = match format {
        OutputFormat::Jpeg => ImageFormat::Jpeg,
        OutputFormat::Png => ImageFormat::Png,
        OutputFormat::Dicom => {
            return crate::dicom::output::pixels(bytes).map_err(|problem| RedactError::Encode {
                format: "DICOM",
                problem: format!("the written output does not decode: {problem}"),
            });
        }
    };
    image::load_from_memory_with_format(bytes, image_format)
        .map(|img| img.to_rgb8())
        .map_err(|e| RedactError::Encode {
            format: format_name(format),
            problem: format!("the written output does not decode: {e}"),
        })
}

fn format_name(format: OutputFormat) -> &'static str {
    format.name()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests;
