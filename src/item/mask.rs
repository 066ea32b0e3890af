//! A mask: what it hides, where, who proposed it, and whether it was seen
//! at zoom. Proposer names live here so items need nothing of detectors.

use super::*;
use crate::mask_kind::MaskKind;
use serde::{Deserialize, Serialize};

/// Who proposed a mask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum MaskOrigin {
    /// Found by a face or the text detector (its name); `score_milli` is
    /// the detector's score × 1000.
    Detector { detector: String, score_milli: i64 },
    /// Drawn by a reviewer.
    Manual,
}

/// The text detector, as items and the masks it proposes name it (its
/// model's package and version: a new model is a new name). Here, beside
/// the origins it classifies, so items need nothing of the detectors.
pub const TEXT_DETECTOR_NAME: &str = "ppocr-v4-det-rapidocr-1.4.4";

/// The proposer of the masks placed over a DICOM's annotation bands.
pub const DICOM_BAND_PROPOSER: &str = "dicom-annotation-bands";

impl MaskOrigin {
    /// Proposed by the text detector.
    pub(crate) fn is_text(&self) -> bool {
        matches!(self, MaskOrigin::Detector { detector, .. }
            if detector == TEXT_DETECTOR_NAME)
    }

    /// Proposed over a DICOM's annotation bands (not found: placed).
    pub(crate) fn is_dicom_band(&self) -> bool {
        matches!(self, MaskOrigin::Detector { detector, .. }
            if detector == DICOM_BAND_PROPOSER)
    }

    /// Proposed by a face detector.
    pub(crate) fn is_face_detector(&self) -> bool {
        matches!(self, MaskOrigin::Detector { .. }) && !self.is_text() && !self.is_dicom_band()
    }
}

/// One rectangle to fill with solid colour in the output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mask {
    /// Stable within the item (never reused after deletion).
    pub id: u32,
    pub kind: MaskKind,
    pub rect: Rect,
    pub origin: MaskOrigin,
    /// Set when the mask was fully in view at the policy's minimum zoom;
    /// cleared whenever the mask moves or changes size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoom_check: Option<ZoomCheck>,
}

impl Mask {
    /// Seen whole at `min_pct` zoom or more since it last moved: what the
    /// zoom gate asks of every mask.
    pub(crate) fn verified_at(&self, min_pct: u32) -> bool {
        self.zoom_check
            .as_ref()
            .is_some_and(|z| z.zoom_pct >= min_pct)
    }
}
