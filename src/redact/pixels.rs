//! The pixels of the release: masks filled (solid, or the reversible
//! pixelate and blur where a policy allows them) and transparency
//! flattened onto the background. Pure; the only flattener, so the
//! reviewer's picture and the released output agree.

use crate::item::{Mask, Rect};
use crate::policy::{Policy, RedactionMode};
use image::{DynamicImage, RgbImage};

/// Pixel stage: upright image → opaque RGB8 with every mask filled. Pure.
/// Takes the image by value: an 8-bit RGB image is filled in place.
pub fn render_pixels(upright: DynamicImage, masks: &[Mask], policy: &Policy) -> RgbImage {
    let mut rgb = flatten(upright, policy.background_rgb());
    fill_masks(&mut rgb, masks, policy);
    rgb
}

/// Fill every mask into `rgb` as the policy's redaction mode says.
pub(crate) fn fill_masks(rgb: &mut RgbImage, masks: &[Mask], policy: &Policy) {
    let (w, h) = rgb.dimensions();
    let fill = policy.fill_rgb();
    for rect in masks.iter().filter_map(|m| m.rect.clamp_to(w, h)) {
        match policy.output.redaction {
            RedactionMode::Solid => fill_rect(rgb, rect, fill),
            RedactionMode::Pixelate => pixelate(rgb, rect),
            RedactionMode::Blur => blur(rgb, rect),
        }
    }
}

/// Rows converted at a time when compositing alpha, so the 16-bit copy is
/// a strip and never the whole image.
pub(super) const FLATTEN_ROWS: u32 = 64;

/// Any colour type to opaque RGB8, alpha composited onto `background`:
/// what the output and the station both show. An 8-bit RGB image is moved,
/// not copied.
pub fn flatten(image: DynamicImage, background: [u8; 3]) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let (width, height) = (image.width(), image.height());
    let mut out = RgbImage::new(width, height);
    // Composite at 16 bits so 16-bit sources keep their precision until the end.
    for top in (0..height).step_by(FLATTEN_ROWS as usize) {
        let rows = FLATTEN_ROWS.min(height - top);
        let strip = image.crop_imm(0, top, width, rows).into_rgba16();
        for (x, y, p) in strip.enumerate_pixels() {
            let a = u64::from(p[3]);
            let channel = |i: usize| {
                let bg = u64::from(background[i]) * 257;
                let v16 = (u64::from(p[i]) * a + bg * (65_535 - a) + 32_767) / 65_535;
                ((v16 + 128) / 257).min(255) as u8
            };
            out.put_pixel(x, top + y, image::Rgb([channel(0), channel(1), channel(2)]));
        }
    }
    out
}

/// Fill `r` (clipped to the image) with `colour`.
pub(super) fn fill_rect(rgb: &mut RgbImage, r: Rect, colour: [u8; 3]) {
    for y in r.y..r.bottom() {
        for x in r.x..r.right() {
            rgb.put_pixel(x, y, image::Rgb(colour));
        }
    }
}

/// Block averages, blocks aligned to the mask's corner: at least 16 px, or
/// an eighth of the mask's longer side when that is larger.
pub(super) fn pixelate(rgb: &mut RgbImage, r: Rect) {
    let block = 16.max(r.w.max(r.h).div_ceil(8));
    for by in (r.y..r.bottom()).step_by(block as usize) {
        for bx in (r.x..r.right()).step_by(block as usize) {
            let cell = Rect::new(bx, by, block, block)
                .clamp_to(r.right(), r.bottom())
                .unwrap_or(Rect::new(bx, by, 1, 1));
            let mut sum = [0u64; 3];
            for y in cell.y..cell.bottom() {
                for x in cell.x..cell.right() {
                    let p = rgb.get_pixel(x, y).0;
                    for c in 0..3 {
                        sum[c] += u64::from(p[c]);
                    }
                }
            }
            let n = u64::from(cell.w) * u64::from(cell.h);
            let avg = sum.map(|s| ((s + n / 2) / n) as u8);
            fill_rect(rgb, cell, avg);
        }
    }
}

/// A strong box blur (three passes each way) that reads only pixels inside
/// the mask, so nothing from outside is smeared in.
pub(super) fn blur(rgb: &mut RgbImage, r: Rect) {
    let (w, h) = (r.w as usize, r.h as usize);
    let radius = 8.max(r.w.max(r.h) as usize / 4);
    let mut buf: Vec<[u32; 3]> = Vec::with_capacity(w * h);
    for y in r.y..r.bottom() {
        for x in r.x..r.right() {
            buf.push(rgb.get_pixel(x, y).0.map(u32::from));
        }
    }
    let mut line = Vec::with_capacity(w.max(h));
    for _ in 0..3 {
        for row in buf.chunks_mut(w) {
            line.clear();
            line.extend_from_slice(row);
            box_line(&line, radius, |i, v| row[i] = v);
        }
        for col in 0..w {
            line.clear();
            line.extend((0..h).map(|y| buf[y * w + col]));
            box_line(&line, radius, |i, v| buf[i * w + col] = v);
        }
    }
    for (i, v) in buf.iter().enumerate() {
        let (x, y) = (r.x + (i % w) as u32, r.y + (i / w) as u32);
        rgb.put_pixel(x, y, image::Rgb(v.map(|c| c.min(255) as u8)));
    }
}

/// Running-sum box filter of `radius` over `line`, edges clamped.
pub(super) fn box_line(line: &[[u32; 3]], radius: usize, mut out: impl FnMut(usize, [u32; 3])) {
    let n = line.len() as isize;
    let at = |i: isize| line[i.clamp(0, n - 1) as usize];
    let r = radius as isize;
    let span = (2 * radius + 1) as u32;
    let mut sum = [0u32; 3];
    for k in -r..=r {
        let p = at(k);
        for c in 0..3 {
            sum[c] += p[c];
        }
    }
    for x in 0..n {
        out(x as usize, sum.map(|s| (s + span / 2) / span));
        let (gone, new) = (at(x - r), at(x + r + 1));
        for c in 0..3 {
            sum[c] = sum[c] + new[c] - gone[c];
        }
    }
}
