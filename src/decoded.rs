//! What decoding an original yields, and why it may not: shared by the
//! decoders of every container (`image_io`, `image_io::heic`, `dicom`), so
//! none of them imports another's types. A leaf but for the memory plan.

use crate::memory::{MemoryPlan, OverPlan};
use image::{DynamicImage, ImageFormat};

/// Image formats Veil accepts as originals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    Jpeg,
    Png,
    Webp,
    Tiff,
    /// HEIF with HEVC inside (HEIC: iPhones, many Android phones).
    Heif,
    /// A DICOM Part 10 file (see [`crate::dicom`]).
    Dicom,
}

impl SourceFormat {
    /// The name in item files (`jpeg`, `heif`, `dicom`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::Jpeg => "jpeg",
            SourceFormat::Png => "png",
            SourceFormat::Webp => "webp",
            SourceFormat::Tiff => "tiff",
            SourceFormat::Heif => "heif",
            SourceFormat::Dicom => "dicom",
        }
    }

    /// The `image` crate's decoder for this format; `None` for HEIF and DICOM.
    pub(crate) fn image_format(self) -> Option<ImageFormat> {
        match self {
            SourceFormat::Jpeg => Some(ImageFormat::Jpeg),
            SourceFormat::Png => Some(ImageFormat::Png),
            SourceFormat::Webp => Some(ImageFormat::WebP),
            SourceFormat::Tiff => Some(ImageFormat::Tiff),
            SourceFormat::Heif | SourceFormat::Dicom => None,
        }
    }
}

/// Why a file cannot be used as an original.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("empty file (0 bytes)")]
    Empty,
    #[error("{0} is not supported (Veil reads JPEG, PNG, WebP, TIFF, HEIC/HEIF and DICOM)")]
    Unsupported(String),
    #[error("this DICOM file uses something Veil does not read: {0}")]
    UnsupportedDicom(String),
    #[error("this HEIF file uses something the HEIC decoder does not read: {0}")]
    UnsupportedHeif(String),
    #[error("not an image Veil recognises (JPEG, PNG, WebP, TIFF, HEIC/HEIF or DICOM expected)")]
    NotAnImage,
    #[error("image is {width}x{height}, over the policy's limit of {max_width}x{max_height}")]
    TooLarge {
        width: u32,
        height: u32,
        max_width: u32,
        max_height: u32,
    },
    #[error("decoding would need more memory than the policy's {0} MiB limit")]
    TooMuchMemory(u64),
    #[error(transparent)]
    OverMemoryPlan(#[from] OverPlan),
    #[error("corrupt or truncated {format}: {problem}")]
    Corrupt {
        format: &'static str,
        problem: String,
    },
}

/// An original decoded and turned upright.
#[derive(Debug)]
pub struct Decoded {
    pub format: SourceFormat,
    /// Dimensions as stored.
    pub width: u32,
    pub height: u32,
    /// EXIF orientation 1–8 as found by the decoder (1 when absent).
    pub orientation: u8,
    /// Pixels after orientation.
    pub image: DynamicImage,
    /// What this image costs each step.
    pub plan: MemoryPlan,
}
