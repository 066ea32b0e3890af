//! Rectangles in pixels of the upright image, and their stored form
//! (item files keep rectangles as stored, before orientation).

use serde::{Deserialize, Serialize};
use std::fmt;

/// An axis-aligned rectangle in pixels of the upright (oriented) image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

impl Rect {
    /// The rectangle at (`x`, `y`) of `w`×`h` pixels.
    pub fn new(x: u32, y: u32, w: u32, h: u32) -> Rect {
        Rect { x, y, w, h }
    }

    /// One past the right edge.
    pub fn right(&self) -> u32 {
        self.x.saturating_add(self.w)
    }

    /// One past the bottom edge.
    pub fn bottom(&self) -> u32 {
        self.y.saturating_add(self.h)
    }

    /// True when `other` lies entirely within `self`.
    pub fn contains(&self, other: &Rect) -> bool {
        other.x >= self.x
            && other.y >= self.y
            && other.right() <= self.right()
            && other.bottom() <= self.bottom()
    }

    /// The part of `self` inside `other`; `None` when they share no pixel.
    pub(crate) fn intersection(&self, other: &Rect) -> Option<Rect> {
        let x0 = self.x.max(other.x);
        let y0 = self.y.max(other.y);
        let x1 = self.right().min(other.right());
        let y1 = self.bottom().min(other.bottom());
        (x1 > x0 && y1 > y0).then(|| Rect::new(x0, y0, x1 - x0, y1 - y0))
    }

    /// True when the two rectangles share at least one pixel.
    pub fn intersects(&self, other: &Rect) -> bool {
        self.x < other.right()
            && other.x < self.right()
            && self.y < other.bottom()
            && other.y < self.bottom()
    }

    /// Clamp into an image of `width` × `height`; `None` when nothing is left.
    pub fn clamp_to(&self, width: u32, height: u32) -> Option<Rect> {
        let x0 = self.x.min(width);
        let y0 = self.y.min(height);
        let x1 = self.right().min(width);
        let y1 = self.bottom().min(height);
        (x1 > x0 && y1 > y0).then(|| Rect::new(x0, y0, x1 - x0, y1 - y0))
    }

    /// Grow about the centre by `factor` (1.3 = 30% larger each side in total),
    /// then clamp to the image.
    pub fn padded(&self, factor: f64, width: u32, height: u32) -> Option<Rect> {
        let factor = if factor.is_finite() && factor > 0.0 {
            factor
        } else {
            1.0
        };
        let cx = self.x as f64 + self.w as f64 / 2.0;
        let cy = self.y as f64 + self.h as f64 / 2.0;
        let w = self.w as f64 * factor;
        let h = self.h as f64 * factor;
        let x0 = (cx - w / 2.0).floor().max(0.0);
        let y0 = (cy - h / 2.0).floor().max(0.0);
        let x1 = (cx + w / 2.0).ceil().min(width as f64);
        let y1 = (cy + h / 2.0).ceil().min(height as f64);
        if x1 <= x0 || y1 <= y0 {
            return None;
        }
        Some(Rect::new(
            x0 as u32,
            y0 as u32,
            (x1 - x0) as u32,
            (y1 - y0) as u32,
        ))
    }
}

impl fmt::Display for Rect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}+{}+{}", self.w, self.h, self.x, self.y)
    }
}

/// Map a rectangle from stored-pixel coordinates (an image `stored_w` ×
/// `stored_h` as it sits in the file) to the upright image a viewer shows
/// for EXIF `orientation`.
pub fn rect_from_stored(r: Rect, orientation: u8, stored_w: u32, stored_h: u32) -> Rect {
    let (w, h) = (stored_w, stored_h);
    // Mirror a span [a, a+len) inside [0, total).
    let flip = |a: u32, len: u32, total: u32| total.saturating_sub(a.saturating_add(len));
    match orientation {
        2 => Rect::new(flip(r.x, r.w, w), r.y, r.w, r.h),
        3 => Rect::new(flip(r.x, r.w, w), flip(r.y, r.h, h), r.w, r.h),
        4 => Rect::new(r.x, flip(r.y, r.h, h), r.w, r.h),
        5 => Rect::new(r.y, r.x, r.h, r.w),
        6 => Rect::new(flip(r.y, r.h, h), r.x, r.h, r.w),
        7 => Rect::new(flip(r.y, r.h, h), flip(r.x, r.w, w), r.h, r.w),
        8 => Rect::new(r.y, flip(r.x, r.w, w), r.h, r.w),
        _ => r,
    }
}

/// The inverse of [`rect_from_stored`]: upright coordinates back to stored
/// pixels (`upright_w` × `upright_h` is the upright image's size).
pub fn rect_to_stored(r: Rect, orientation: u8, upright_w: u32, upright_h: u32) -> Rect {
    let inverse = match orientation {
        6 => 8,
        8 => 6,
        o => o,
    };
    rect_from_stored(r, inverse, upright_w, upright_h)
}

/// True for EXIF orientations 5–8, which swap width and height.
pub fn orientation_swaps_axes(orientation: u8) -> bool {
    matches!(orientation, 5..=8)
}
