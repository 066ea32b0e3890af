//! Text detection: PaddleOCR's PP-OCRv4 DBNet detector (the ONNX file the
//! `rapidocr-onnxruntime` wheel ships) run by tract-onnx, over overlapping
//! tiles of one pass whose long side the policy sets. It proposes where
//! text is (wristbands, labels, badges, monitors); it does not read it.
//!
//! The model gives, per pixel, the probability that the pixel is in the
//! shrunk core of a text line. A line is a connected region of the map above
//! a threshold whose mean probability is high enough; its box is the region
//! grown by the DB "unclip" distance (area × ratio / perimeter of the core's
//! rectangle), which is what puts the glyph edges back inside it.

use super::onnx::{EmbeddedModel, Plan};
use super::{DetectError, Detection, square_tiles};
use crate::item::{DetectorInfo, Rect, TextSettings};
use crate::policy::DetectorPolicy;
use image::RgbImage;
use rayon::prelude::*;
use tract_onnx::prelude::*;

/// `ch_PP-OCRv4_det_infer.onnx` from the rapidocr-onnxruntime 1.4.4 wheel
/// (licence beside it in `models/`).
static MODEL: EmbeddedModel =
    EmbeddedModel::new(include_bytes!("../../models/ch_PP-OCRv4_det_infer.onnx"));

pub use crate::item::TEXT_DETECTOR_NAME;

/// Largest side of a tile, in pixels of the pass; a multiple of 32.
const MAX_TILE: u32 = 640;
/// Neighbouring tiles share this many pixels. A line cut by a seam is seen
/// in part by both tiles; the parts overlap and are merged into one box.
const OVERLAP: u32 = 64;
/// A pass is never enlarged more than this: beyond it the pixels are
/// invented, and small photos would cost as much as large ones. Measured on
/// tests/text/ and the photos of tests/faces/ (tests/text/README.md): at 3×
/// the astronaut's 6-px name badge is found (at 2× it is not), at the cost
/// of more false boxes on textures (buttons, a tie, fur).
const MAX_UPSCALE: f64 = 3.0;
/// A region thinner than this many map pixels is noise (DB's `min_size`).
const MIN_THICKNESS: f64 = 3.0;
/// A region must be this many times longer than thick to be a line. On
/// tests/text/ 1.6 dropped 3 of 6 false boxes (stars, a helmet's highlight)
/// and no line; 2.0 lost the astronaut's half-hidden name.
const MIN_ELONGATION: f64 = 1.6;

/// SHA-256 (hex) of the embedded text model.
pub fn text_model_sha256() -> &'static str {
    MODEL.sha256()
}

/// The optimised plan for one tile size (width, height), built on first use.
fn plan_for(width: usize, height: usize) -> TractResult<Plan> {
    MODEL.plan(width, height, |m| {
        m.sized(width, height)?.into_optimized()?.into_runnable()
    })
}

/// The text detector with the embedded model.
pub struct TextDetector {
    settings: DetectorPolicy,
}

impl TextDetector {
    /// Reads the embedded model (once per process).
    pub fn new(settings: &DetectorPolicy) -> Result<Self, DetectError> {
        MODEL.parsed()?;
        Ok(TextDetector {
            settings: settings.clone(),
        })
    }

    /// Name, model hash and thresholds, recorded in items and ledger entries.
    pub fn info(&self) -> DetectorInfo {
        DetectorInfo {
            name: TEXT_DETECTOR_NAME.into(),
            model_sha256: text_model_sha256().to_string(),
            min_face_size: 0,
            score_threshold_milli: (self.settings.text_threshold * 1000.0).round() as i64,
            padding_pct: (self.settings.text_padding * 100.0).round() as u32,
            max_side: Some(self.settings.text_max_side),
            engines: Vec::new(),
            text: Some(TextSettings {
                region_threshold_milli: (self.settings.text_box_threshold * 1000.0).round() as i64,
                unclip_pct: (self.settings.text_unclip * 100.0).round() as u32,
                end_margin_pct: (self.settings.text_padding * 100.0).round() as u32,
            }),
        }
    }

    /// The pass's scale for a photo of `w`×`h`: its long side brought to
    /// the policy's `text_max_side`, enlarged at most [`MAX_UPSCALE`] times.
    pub(crate) fn pass_scale(&self, w: u32, h: u32) -> f64 {
        let long = w.max(h).max(1) as f64;
        (self.settings.text_max_side as f64 / long).min(MAX_UPSCALE)
    }

    /// Text lines in an upright photo, as boxes in its pixels, lines that
    /// touch merged into one box.
    pub fn detect_rgb(&self, image: &RgbImage) -> Result<Vec<Detection>, DetectError> {
        let (w, h) = image.dimensions();
        if w == 0 || h == 0 {
            return Ok(Vec::new());
        }
        let scale = self.pass_scale(w, h);
        let pw = ((w as f64 * scale).round() as u32).max(1);
        let ph = ((h as f64 * scale).round() as u32).max(1);
        let pass = if (pw, ph) == (w, h) {
            std::borrow::Cow::Borrowed(image)
        } else {
            std::borrow::Cow::Owned(crate::image_io::resize_rgb(image, None, (pw, ph), true))
        };
        let (sx, sy) = (pw as f64 / w as f64, ph as f64 / h as f64);
        let settings = Thresholds {
            pixel: self.settings.text_threshold as f32,
            region: self.settings.text_box_threshold,
            unclip: self.settings.text_unclip,
            pad: self.settings.text_padding,
        };
        let found: Vec<Vec<Region>> = square_tiles(pw, ph, MAX_TILE, OVERLAP)
            .collect::<Vec<_>>()
            .par_iter()
            .map(|t| run_tile(&pass, t.x, t.y, t.w, t.h, &settings))
            .collect::<TractResult<_>>()
            .map_err(|e| DetectError::Inference {
                width: w,
                height: h,
                message: format!("{e:#}"),
            })?;
        // Back to the photo's pixels, rounded outwards.
        let to_photo = |x0: f64, y0: f64, x1: f64, y1: f64| {
            let (x0, y0) = (
                (x0 / sx).floor().max(0.0) as u32,
                (y0 / sy).floor().max(0.0) as u32,
            );
            let (x1, y1) = (
                (x1 / sx).ceil().max(0.0) as u32,
                (y1 / sy).ceil().max(0.0) as u32,
            );
            Rect::new(x0, y0, x1.saturating_sub(x0), y1.saturating_sub(y0)).clamp_to(w, h)
        };
        let lines = found.into_iter().flatten().filter_map(|r| {
            Some(Line {
                line: to_photo(r.x0, r.y0, r.x1, r.y1)?,
                padded: to_photo(
                    r.x0 - r.end_x,
                    r.y0 - r.end_y,
                    r.x1 + r.end_x,
                    r.y1 + r.end_y,
                )?,
                score: r.score,
            })
        });
        Ok(merge_touching(lines.collect()))
    }
}

/// Behind the face detectors' interface too, so that whatever runs a
/// `Detector` (the recall tools, a future DICOM path) can run this one.
impl super::Detector for TextDetector {
    fn info(&self) -> DetectorInfo {
        TextDetector::info(self)
    }

    /// On a model failure this returns one box over the whole image: a
    /// detector that cannot look must not report "no text".
    fn detect(&self, image: &image::GrayImage) -> Vec<Detection> {
        let rgb = image::DynamicImage::ImageLuma8(image.clone()).to_rgb8();
        TextDetector::detect_rgb(self, &rgb).unwrap_or_else(|_| {
            vec![Detection {
                rect: Rect::new(0, 0, image.width(), image.height()),
                score: 0.0,
                detector: TEXT_DETECTOR_NAME,
            }]
        })
    }

    fn detect_rgb(&self, image: &RgbImage) -> Result<Vec<Detection>, DetectError> {
        TextDetector::detect_rgb(self, image)
    }
}

/// The policy's four numbers, for one run.
struct Thresholds {
    /// A map pixel above this is in a text core.
    pixel: f32,
    /// A region's mean probability must reach this to be a line.
    region: f64,
    /// DB's unclip ratio.
    unclip: f64,
    /// Added at both ends of each grown line, as a share of its thickness.
    pad: f64,
}

/// A line found in one tile, in pass pixels (edges, not centres): its
/// grown box, and the margin its ends get on top, along x and along y.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Region {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
    end_x: f64,
    end_y: f64,
    score: f64,
}

/// A line in the photo's pixels: its box, and its box with the end margins.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Line {
    line: Rect,
    padded: Rect,
    score: f64,
}

/// Run the model on one tile of the pass; lines in pass pixels.
fn run_tile(
    pass: &RgbImage,
    x: u32,
    y: u32,
    tw: u32,
    th: u32,
    t: &Thresholds,
) -> TractResult<Vec<Region>> {
    let (tw, th) = (tw as usize, th as usize);
    let plane = tw * th;
    // NCHW, BGR (the model was trained on OpenCV's order), (v/255 − 0.5)/0.5.
    // Outside the pass: 0, mid-grey, as little like text as anything.
    let mut input = vec![0f32; 3 * plane];
    let (pw, ph) = (pass.width() as usize, pass.height() as usize);
    let (x, y) = (x as usize, y as usize);
    let cols = tw.min(pw.saturating_sub(x));
    let rows = th.min(ph.saturating_sub(y));
    let raw = pass.as_raw();
    let (b, rest) = input.split_at_mut(plane);
    let (g, r) = rest.split_at_mut(plane);
    for ty in 0..rows {
        let start = ((y + ty) * pw + x) * 3;
        let row = &raw[start..start + cols * 3];
        let at = ty * tw;
        for (i, p) in row.chunks_exact(3).enumerate() {
            r[at + i] = p[0] as f32 / 127.5 - 1.0;
            g[at + i] = p[1] as f32 / 127.5 - 1.0;
            b[at + i] = p[2] as f32 / 127.5 - 1.0;
        }
    }
    let plan = plan_for(tw, th)?;
    let input = Tensor::from_shape(&[1, 3, th, tw], &input)?;
    let outputs = plan.run(tvec!(input.into()))?;
    let map = outputs
        .first()
        .ok_or_else(|| anyhow::anyhow!("the text model gave no output"))?;
    if map.shape() != [1, 1, th, tw] {
        anyhow::bail!(
            "the text model's map is {:?}, expected [1, 1, {th}, {tw}]",
            map.shape()
        );
    }
    let probability = map
        .to_plain_array_view::<f32>()?
        .to_slice()
        .ok_or_else(|| anyhow::anyhow!("the text map is not contiguous"))?
        .to_vec();
    let lines = lines_in_map(&probability, tw, th, t);
    Ok(lines
        .into_iter()
        .map(|l| Region {
            x0: l.x0 + x as f64,
            y0: l.y0 + y as f64,
            x1: l.x1 + x as f64,
            y1: l.y1 + y as f64,
            ..l
        })
        .collect())
}

/// Lines in one probability map of `w`×`h`: regions of pixels above the
/// threshold (grown one pixel right and down, as DB's 2×2 dilation does,
/// 8-connected), kept when their mean probability reaches `region` and they
/// are at least [`MIN_THICKNESS`] thick, each grown by the unclip distance.
fn lines_in_map(map: &[f32], w: usize, h: usize, t: &Thresholds) -> Vec<Region> {
    let above: Vec<bool> = map.iter().map(|&p| p > t.pixel).collect();
    let on = |x: usize, y: usize| {
        above[y * w + x]
            || (x > 0 && above[y * w + x - 1])
            || (y > 0 && above[(y - 1) * w + x])
            || (x > 0 && y > 0 && above[(y - 1) * w + x - 1])
    };
    let mut seen = vec![false; w * h];
    let mut stack = Vec::new();
    let mut lines = Vec::new();
    for start in 0..w * h {
        let (sx, sy) = (start % w, start / w);
        if seen[start] || !on(sx, sy) {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let mut shape = Shape::default();
        while let Some(i) = stack.pop() {
            let (px, py) = (i % w, i / w);
            shape.add(px as f64, py as f64, map[i] as f64);
            for ny in py.saturating_sub(1)..=(py + 1).min(h - 1) {
                for nx in px.saturating_sub(1)..=(px + 1).min(w - 1) {
                    let j = ny * w + nx;
                    if !seen[j] && on(nx, ny) {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
        }
        if let Some(line) = shape.line(t) {
            lines.push(line);
        }
    }
    lines
}

/// Running sums of one region: its bounds, probability and second moments.
#[derive(Debug, Default)]
struct Shape {
    n: f64,
    p: f64,
    sx: f64,
    sy: f64,
    sxx: f64,
    syy: f64,
    sxy: f64,
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Shape {
    fn add(&mut self, x: f64, y: f64, p: f64) {
        if self.n == 0.0 {
            (self.x0, self.y0, self.x1, self.y1) = (x, y, x, y);
        }
        self.n += 1.0;
        self.p += p;
        self.sx += x;
        self.sy += y;
        self.sxx += x * x;
        self.syy += y * y;
        self.sxy += x * y;
        self.x0 = self.x0.min(x);
        self.y0 = self.y0.min(y);
        self.x1 = self.x1.max(x);
        self.y1 = self.y1.max(y);
    }

    /// Length and thickness of the rectangle the region fills, along its
    /// principal axes (a line at any angle measures as it would level), and
    /// the direction of its length (cos, sin).
    fn sides(&self) -> (f64, f64, (f64, f64)) {
        let (mx, my) = (self.sx / self.n, self.sy / self.n);
        let cxx = self.sxx / self.n - mx * mx;
        let cyy = self.syy / self.n - my * my;
        let cxy = self.sxy / self.n - mx * my;
        // Eigenvalues of the covariance; a filled a×b rectangle has a²/12, b²/12.
        let mid = (cxx + cyy) / 2.0;
        let spread = ((cxx - cyy).powi(2) / 4.0 + cxy * cxy).sqrt();
        let side = |var: f64| (12.0 * var.max(0.0)).sqrt().max(1.0);
        let angle = 0.5 * (2.0 * cxy).atan2(cxx - cyy);
        (
            side(mid + spread),
            side(mid - spread),
            (angle.cos(), angle.sin()),
        )
    }

    fn line(&self, t: &Thresholds) -> Option<Region> {
        if self.n == 0.0 {
            return None;
        }
        let score = self.p / self.n;
        let (long, thick, (cos, sin)) = self.sides();
        // Text is longer than it is thick, even a two-digit number; round
        // blobs (a star, a reflection) are not.
        if score < t.region || thick < MIN_THICKNESS || long < MIN_ELONGATION * thick {
            return None;
        }
        // DB's unclip: the core's rectangle grown by area × ratio / perimeter,
        // which puts back the glyph edges the training shrank away.
        let grow = long * thick * t.unclip / (2.0 * (long + thick));
        // The ends get a margin on top, along the line: the map is least
        // sure where a line stops (a last letter half hidden, a curve).
        let end = t.pad * (thick + 2.0 * grow);
        Some(Region {
            x0: self.x0 - grow,
            y0: self.y0 - grow,
            x1: self.x1 + 1.0 + grow,
            y1: self.y1 + 1.0 + grow,
            end_x: end * cos.abs(),
            end_y: end * sin.abs(),
            score,
        })
    }
}

/// Lines whose boxes overlap or touch become one proposal (the best score
/// kept), until no two touch: the parts of a line cut by a tile seam, and
/// the lines of one label. Touching is judged on the lines' boxes, not the
/// margins of their ends, so a margin never joins two separate things; the
/// proposal covers every member's margins.
fn merge_touching(mut lines: Vec<Line>) -> Vec<Detection> {
    let touch = |a: &Rect, b: &Rect| {
        a.x <= b.right() && b.x <= a.right() && a.y <= b.bottom() && b.y <= a.bottom()
    };
    let union = |a: &Rect, b: &Rect| {
        let (x0, y0) = (a.x.min(b.x), a.y.min(b.y));
        Rect::new(
            x0,
            y0,
            a.right().max(b.right()) - x0,
            a.bottom().max(b.bottom()) - y0,
        )
    };
    loop {
        let mut merged = false;
        let mut out: Vec<Line> = Vec::with_capacity(lines.len());
        for l in lines {
            if let Some(k) = out.iter_mut().find(|k| touch(&k.line, &l.line)) {
                k.line = union(&k.line, &l.line);
                k.padded = union(&k.padded, &l.padded);
                k.score = k.score.max(l.score);
                merged = true;
            } else {
                out.push(l);
            }
        }
        lines = out;
        if !merged {
            break;
        }
    }
    let mut found: Vec<Detection> = lines
        .into_iter()
        .map(|l| Detection {
            rect: l.padded,
            score: l.score,
            detector: TEXT_DETECTOR_NAME,
        })
        .collect();
    super::sort_reading_order(&mut found);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thresholds() -> Thresholds {
        Thresholds {
            pixel: 0.3,
            region: 0.5,
            unclip: 1.6,
            pad: 0.0,
        }
    }

    fn map_with(w: usize, h: usize, rects: &[(usize, usize, usize, usize, f32)]) -> Vec<f32> {
        let mut m = vec![0f32; w * h];
        for &(x, y, rw, rh, p) in rects {
            for yy in y..y + rh {
                for xx in x..x + rw {
                    m[yy * w + xx] = p;
                }
            }
        }
        m
    }

    #[test]
    fn a_level_core_grows_by_the_unclip_distance() {
        // A 40×6 core (dilated to 41×7): grow = 41·7·1.6 / (2·48) ≈ 4.8.
        let map = map_with(100, 50, &[(10, 20, 40, 6, 0.9)]);
        let lines = lines_in_map(&map, 100, 50, &thresholds());
        assert_eq!(lines.len(), 1);
        let l = lines[0];
        // The dilated rim has probability 0, as in DB's box score.
        assert!(l.score > 0.7 && l.score < 0.9, "{l:?}");
        assert!(l.x0 < 10.0 - 4.0 && l.x0 > 10.0 - 6.0, "{l:?}");
        assert!(l.y0 < 20.0 - 4.0 && l.y1 > 27.0 + 4.0, "{l:?}");
    }

    #[test]
    fn a_tilted_core_grows_by_its_thickness_not_its_bounding_box() {
        // A 60×4 line at 45°: its bounding box is ~45×45, but the growth
        // follows the 4-pixel thickness, not the box.
        let (w, h) = (120, 120);
        let mut map = vec![0f32; w * h];
        for i in 0..60 {
            for j in 0..4 {
                let (x, y) = (20 + i * 7 / 10 + j, 20 + i * 7 / 10);
                map[y * w + x] = 0.9;
            }
        }
        let lines = lines_in_map(&map, w, h, &thresholds());
        assert_eq!(lines.len(), 1);
        let grow = 20.0 - lines[0].x0;
        assert!(grow > 2.0 && grow < 8.0, "{:?}", lines[0]);
    }

    #[test]
    fn weak_and_thin_regions_are_not_lines() {
        let map = map_with(
            100,
            50,
            &[
                (5, 5, 30, 6, 0.35),
                (50, 5, 40, 1, 0.95),
                (50, 30, 20, 8, 0.8),
            ],
        );
        let lines = lines_in_map(&map, 100, 50, &thresholds());
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].x0 < 50.0 && lines[0].x1 > 71.0);
    }

    fn line(x: u32, y: u32, w: u32, h: u32, margin: u32) -> Line {
        Line {
            line: Rect::new(x, y, w, h),
            padded: Rect::new(x - margin, y, w + 2 * margin, h),
            score: 0.6,
        }
    }

    #[test]
    fn touching_lines_merge_until_none_touch_and_keep_their_margins() {
        let merged = merge_touching(vec![
            line(10, 10, 10, 10, 5),
            line(40, 10, 10, 10, 5),
            line(20, 15, 20, 2, 0),
            line(100, 100, 5, 5, 2),
        ]);
        assert_eq!(merged.len(), 2, "{merged:?}");
        assert_eq!(merged[0].rect, Rect::new(5, 10, 50, 10));
    }

    #[test]
    fn margins_alone_do_not_join_two_lines() {
        let merged = merge_touching(vec![line(10, 10, 10, 10, 8), line(30, 10, 10, 10, 8)]);
        assert_eq!(merged.len(), 2, "{merged:?}");
    }

    #[test]
    fn a_line_gets_its_end_margin_along_its_length() {
        let t = Thresholds {
            pad: 1.0,
            ..thresholds()
        };
        let level = lines_in_map(&map_with(100, 50, &[(20, 20, 40, 6, 0.9)]), 100, 50, &t);
        assert!(
            level[0].end_x > 10.0 && level[0].end_y < 0.5,
            "{:?}",
            level[0]
        );
        let upright = lines_in_map(&map_with(50, 100, &[(20, 20, 6, 40, 0.9)]), 50, 100, &t);
        assert!(
            upright[0].end_y > 10.0 && upright[0].end_x < 0.5,
            "{:?}",
            upright[0]
        );
    }

    #[test]
    fn round_blobs_are_not_lines() {
        let lines = lines_in_map(
            &map_with(100, 100, &[(20, 20, 30, 30, 0.95)]),
            100,
            100,
            &thresholds(),
        );
        assert!(lines.is_empty(), "{lines:?}");
    }

    #[test]
    fn small_photos_are_enlarged_at_most_three_times() {
        let d = TextDetector::new(&DetectorPolicy::default()).unwrap();
        let side = DetectorPolicy::default().text_max_side as f64;
        assert_eq!(d.pass_scale(100, 50), MAX_UPSCALE);
        assert!((d.pass_scale(4000, 3000) - side / 4000.0).abs() < 1e-9);
    }

    #[test]
    fn a_blank_photo_has_no_text_and_tiny_ones_do_not_panic() {
        let d = TextDetector::new(&DetectorPolicy::default()).unwrap();
        assert!(d.detect_rgb(&RgbImage::new(0, 0)).unwrap().is_empty());
        assert!(d.detect_rgb(&RgbImage::new(5, 3)).unwrap().is_empty());
        let grey = RgbImage::from_pixel(300, 200, image::Rgb([128, 128, 128]));
        assert!(d.detect_rgb(&grey).unwrap().is_empty());
    }

    #[test]
    fn items_record_every_text_threshold_and_say_them_in_words() {
        let d = TextDetector::new(&DetectorPolicy::default()).unwrap();
        let info = d.info();
        assert_eq!(info.name, TEXT_DETECTOR_NAME);
        assert_eq!(
            info.settings_label(),
            "threshold 0.30, region 0.50, unclip 1.60, end margin 1.50, pass 1536 px"
        );
        let through_trait: &dyn super::super::Detector = &d;
        assert_eq!(through_trait.info(), info);
        assert!(
            through_trait
                .detect(&image::GrayImage::new(64, 64))
                .is_empty()
        );
    }

    #[test]
    fn the_embedded_model_is_the_one_models_readme_names() {
        assert_eq!(
            text_model_sha256(),
            "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9"
        );
    }
}
