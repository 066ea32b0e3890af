//! What an item keeps of a DICOM original: the header's facts the output
//! needs, already de-identified at ingest. Plain data (a leaf), so items
//! carry it without depending on the DICOM reader.

use serde::{Deserialize, Serialize};

/// SOP Class UID of Secondary Capture Image Storage: what Veil's DICOM
/// outputs are.
pub const SECONDARY_CAPTURE: &str = "1.2.840.10008.5.1.4.1.1.7";

/// What the header says about an original, read once at ingest and kept
/// in its item: everything the output needs, already de-identified (new
/// UIDs from the workspace's secret salt, a date shifted or none), so
/// rendering never reads the original's header again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DicomSource {
    /// SOP Class UID of the original (recorded; the output is Secondary Capture).
    pub sop_class: String,
    /// Transfer syntax UID of the original.
    pub transfer_syntax: String,
    /// Photometric interpretation of the original.
    pub photometric: String,
    /// Modality, when it is a defined term; `OT` otherwise.
    pub modality: String,
    /// New Study Instance UID (`2.25.…`, from the salt and the original's).
    pub study_uid: String,
    /// New Series Instance UID.
    pub series_uid: String,
    /// Salted digest of the original SOP Instance UID (hex); the output's
    /// SOP Instance UID is derived from it and the masks.
    pub instance_seed: String,
    /// Study date shifted by the patient's secret offset (`YYYYMMDD`),
    /// when the policy shifts dates rather than removing them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shifted_study_date: Option<String>,
    /// The original was lossy compressed (its transfer syntax, or its
    /// Lossy Image Compression attribute said so).
    pub lossy: bool,
    /// The original's Burned In Annotation (0028,0301), when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burned_in: Option<String>,
}

impl DicomSource {
    /// Burned-in text is likely: the header says so, or the modality or
    /// SOP class is one that prints names onto the pixels (ultrasound,
    /// angiography and fluoroscopy, secondary and screen captures).
    pub(crate) fn burned_in_likely(&self) -> bool {
        // A "NO" is not believed for the kinds that print names onto their
        // pixels: the machine that wrote it never looked.
        self.burned_in.as_deref().map(str::trim) == Some("YES")
            || matches!(self.modality.as_str(), "US" | "XA" | "RF" | "SC")
            || self.sop_class == SECONDARY_CAPTURE
            // Multi-frame secondary captures (.7.1 to .7.4); not VL (.77).
            || self.sop_class.starts_with("1.2.840.10008.5.1.4.1.1.7.")
    }
}
