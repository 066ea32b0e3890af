//! Turning detector boxes and DICOM annotation bands into proposed masks
//! on an item.

use crate::detect::Detection;
use crate::item::{Item, MaskKind, MaskOrigin};

/// `identifier` masks over the top and bottom `pct` percent of a `w`×`h`
/// image, where scanners and capture stations print names and dates.
pub(super) fn add_bands(item: &mut Item, pct: u32, w: u32, h: u32) {
    let band = (u64::from(h) * u64::from(pct)).div_ceil(100) as u32;
    if band == 0 || w == 0 {
        return;
    }
    let band = band.min(h);
    for y in [0, h - band] {
        item.add_mask(
            MaskKind::Identifier,
            crate::item::Rect::new(0, y, w, band),
            MaskOrigin::Detector {
                detector: crate::dicom::BAND_PROPOSER.to_string(),
                score_milli: 1000,
            },
        );
    }
}

/// A detector's finds as masks of `kind`, each box shaped by `shape`
/// (face padding; none for text), the engine and its score recorded.
pub(super) fn add_proposals(
    item: &mut Item,
    kind: MaskKind,
    found: Vec<Detection>,
    shape: impl Fn(&crate::item::Rect) -> Option<crate::item::Rect>,
) {
    for d in found {
        if let Some(rect) = shape(&d.rect) {
            item.add_mask(
                kind,
                rect,
                MaskOrigin::Detector {
                    detector: d.detector.to_string(),
                    score_milli: (d.score * 1000.0).round() as i64,
                },
            );
        }
    }
}
