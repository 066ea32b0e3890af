//! What identifying metadata an original image file carries.
//!
//! The container is recognised by its content, never by the file name. JPEG
//! segments, PNG chunks and WebP RIFF chunks are walked here, HEIF items in
//! [`heif`]; EXIF/TIFF IFDs
//! are parsed by kamadak-exif. Nothing in this module panics on hostile
//! input, and all work is bounded by the input length and a few caps, so a
//! reviewer always gets an inventory (with warnings) instead of a crash.

use crate::container::PNG_SIGNATURE;
use crate::item::MetadataFinding;
use crate::text::printable;
use std::fmt::Write as _;

mod bytes;
mod exif_tiff;
mod heif;
mod icc;
mod jpeg;
mod photoshop;
mod png;
mod webp;
mod xmp;

use bytes::*;
use exif_tiff::*;
use icc::*;
use jpeg::*;
use photoshop::*;
use png::*;
use webp::*;
use xmp::*;

/// What identifying metadata a file carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    /// Everything found, in file order.
    pub findings: Vec<MetadataFinding>,
    /// EXIF orientation 1-8 if present.
    pub orientation: Option<u8>,
    /// Problems parsing (malformed EXIF, truncated segment): reported, never a panic.
    pub warnings: Vec<String>,
}

/// List the identifying metadata in an image file (JPEG, PNG, WebP, TIFF, HEIF or DICOM).
pub fn inventory(bytes: &[u8]) -> Inventory {
    let mut c = Collector::default();
    if bytes.is_empty() {
        c.warn("empty file: no metadata read".to_string());
    } else if crate::dicom::is_dicom(bytes) {
        // Before TIFF: a DICOM preamble is often a TIFF header.
        dicom(bytes, &mut c);
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        jpeg(bytes, &mut c);
    } else if bytes.starts_with(PNG_SIGNATURE) {
        png(bytes, &mut c);
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        webp(bytes, &mut c);
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        exif_block(bytes, Host::TiffFile, "TIFF", 0, &mut c);
    } else if crate::heif::is_heif(bytes) {
        heif::heif(bytes, &mut c);
    } else if bytes.starts_with(b"II+\0") || bytes.starts_with(b"MM\0+") {
        c.warn("BigTIFF is not supported: no metadata read".to_string());
    } else {
        c.warn("not a JPEG, PNG, WebP, TIFF, HEIF or DICOM file: no metadata read".to_string());
    }
    c.finish()
}

/// A DICOM header, listed by [`crate::dicom::inventory`].
fn dicom(bytes: &[u8], c: &mut Collector) {
    match crate::dicom::parse(bytes) {
        Ok(p) => {
            let (findings, warnings) =
                crate::dicom::inventory::inventory_file(bytes, &p, &|b| inventory(b).findings);
            for f in findings {
                c.add(&f.group, f.field, f.value);
            }
            for w in warnings {
                c.warn(w);
            }
        }
        Err(e) => c.warn(format!("DICOM header not read: {e}")),
    }
}

/// Most findings listed for one file; past it a warning says the list is cut.
const MAX_FINDINGS: usize = 2000;
/// Most warnings listed for one file.
const MAX_WARNINGS: usize = 100;
/// Characters of a value shown to the reviewer.
const PREVIEW: usize = 80;
/// Bytes of parsed EXIF values kamadak-exif may hold for one file: a crafted
/// IFD can point thousands of entries at the same large blob.
const EXIF_VALUE_BUDGET: usize = 64 << 20;
/// Bytes that the compressed text and XMP chunks of one file may inflate
/// to, all together: a crafted file can hold thousands of small bombs.
const INFLATE_BUDGET: usize = 16 << 20;
/// How deep metadata may nest (EXIF → Photoshop resources → EXIF ...).
const MAX_DEPTH: u8 = 3;
/// Properties listed per XMP packet.
const MAX_XMP_PROPERTIES: usize = 500;
/// Element nesting followed in an XMP packet.
const MAX_XMP_DEPTH: usize = 256;

const XMP_SIGNATURE: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const XMP_EXTENSION_SIGNATURE: &[u8] = b"http://ns.adobe.com/xmp/extension/\0";
const ICC_SIGNATURE: &[u8] = b"ICC_PROFILE\0";
const PHOTOSHOP_SIGNATURE: &[u8] = b"Photoshop 3.0\0";

/// Gathers findings and warnings under the caps.
#[derive(Default)]
struct Collector {
    inv: Inventory,
    findings_cut: bool,
    dropped_warnings: usize,
    exif_value_bytes: usize,
    inflated_bytes: usize,
    inflate_budget_spent: bool,
}

impl Collector {
    fn add(&mut self, group: &str, field: impl Into<String>, value: impl Into<String>) {
        if self.full() {
            self.findings_cut = true;
            return;
        }
        self.inv.findings.push(MetadataFinding {
            group: group.to_string(),
            field: printable(&field.into(), PREVIEW),
            value: value.into(),
        });
    }

    fn full(&self) -> bool {
        self.inv.findings.len() >= MAX_FINDINGS
    }

    fn warn(&mut self, message: String) {
        if self.inv.warnings.len() >= MAX_WARNINGS {
            self.dropped_warnings += 1;
        } else {
            self.inv.warnings.push(message);
        }
    }

    fn finish(mut self) -> Inventory {
        if self.findings_cut {
            self.inv.warnings.push(format!(
                "more than {MAX_FINDINGS} findings: only the first {MAX_FINDINGS} are listed"
            ));
        }
        if self.dropped_warnings > 0 {
            self.inv.warnings.push(format!(
                "{} more warnings not listed",
                self.dropped_warnings
            ));
        }
        self.inv
    }
}

#[cfg(test)]
mod tests;
