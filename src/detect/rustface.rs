//! rustface (SeetaFace frontal cascade), with its model embedded so the binary
//! needs no files. Finds near-frontal faces only.

use super::{DetectError, Detection, Detector};
use crate::item::{DetectorInfo, Rect};
use crate::policy::DetectorPolicy;
use image::GrayImage;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// The SeetaFace frontal model shipped in the rustface crate's package
/// (licence beside it in `models/`).
static SEETA_MODEL: &[u8] = include_bytes!("../../models/seeta_fd_frontal_v1.0.bin");

/// SHA-256 (hex) of the embedded SeetaFace model.
pub fn seeta_model_sha256() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hex::encode(Sha256::digest(SEETA_MODEL)))
}

/// Recorded in items and in each mask it proposes.
const NAME: &str = "rustface-seeta-frontal-1.0";

/// rustface with the embedded SeetaFace frontal model.
pub struct RustfaceDetector {
    model: rustface::Model,
    settings: DetectorPolicy,
}

impl RustfaceDetector {
    /// Reads the embedded model.
    pub fn new(settings: &DetectorPolicy) -> Result<Self, DetectError> {
        let model =
            rustface::read_model(SEETA_MODEL).map_err(|e| DetectError::Model(e.to_string()))?;
        Ok(RustfaceDetector {
            model,
            settings: settings.clone(),
        })
    }
}

impl Detector for RustfaceDetector {
    fn info(&self) -> DetectorInfo {
        DetectorInfo {
            name: NAME.into(),
            model_sha256: seeta_model_sha256().to_string(),
            min_face_size: self.settings.min_face_size,
            score_threshold_milli: (self.settings.score_threshold * 1000.0).round() as i64,
            padding_pct: (self.settings.padding * 100.0).round() as u32,
            max_side: None,
            engines: Vec::new(),
            text: None,
        }
    }

    fn detect(&self, image: &GrayImage) -> Vec<Detection> {
        let s = &self.settings;
        // The model's window is 20 px and its asserts panic below that.
        let min_face = s.min_face_size.max(20);
        if image.width() < min_face || image.height() < min_face {
            return Vec::new();
        }
        let mut d = rustface::create_detector_with_model(self.model.clone());
        d.set_min_face_size(min_face);
        d.set_score_thresh(s.score_threshold);
        d.set_pyramid_scale_factor(s.pyramid_scale_factor);
        d.set_slide_window_step(s.slide_window_step.max(1), s.slide_window_step.max(1));
        let data = rustface::ImageData::new(image.as_raw(), image.width(), image.height());
        let mut faces: Vec<Detection> = d
            .detect(&data)
            .into_iter()
            .filter_map(|f| {
                let b = f.bbox();
                let x = b.x().max(0) as u32;
                let y = b.y().max(0) as u32;
                let right = (b.x() as i64 + b.width() as i64).max(0) as u32;
                let bottom = (b.y() as i64 + b.height() as i64).max(0) as u32;
                let rect = Rect::new(x, y, right.saturating_sub(x), bottom.saturating_sub(y))
                    .clamp_to(image.width(), image.height())?;
                Some(Detection {
                    rect,
                    score: f.score(),
                    detector: NAME,
                })
            })
            .collect();
        super::sort_reading_order(&mut faces);
        faces
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_model_loads_and_has_a_stable_hash() {
        let d = RustfaceDetector::new(&DetectorPolicy::default()).unwrap();
        assert_eq!(d.info().model_sha256.len(), 64);
        assert_eq!(d.info().padding_pct, 130);
    }

    #[test]
    fn tiny_and_blank_images_yield_no_faces_and_no_panic() {
        let d = RustfaceDetector::new(&DetectorPolicy::default()).unwrap();
        assert!(d.detect(&GrayImage::new(0, 0)).is_empty());
        assert!(d.detect(&GrayImage::new(10, 300)).is_empty());
        assert!(d.detect(&GrayImage::new(64, 64)).is_empty());
    }
}
