//! Viewport and coverage arithmetic for the review screen. Pure.
//!
//! The zoom model: zoom 1.0 (100%) shows the whole upright image fitted to
//! the image pane; zoom `z` shows `z` times as many display pixels per
//! source pixel. The viewport is the rectangle of source pixels on screen.

use crate::item::{Edge, Rect};

/// Zoom steps for `+` and `-`, in percent of fit.
pub(crate) const ZOOM_STEPS: [u32; 15] = [
    100, 125, 150, 200, 250, 300, 400, 500, 600, 800, 1000, 1200, 1600, 2400, 3200,
];

/// Largest zoom, in percent of fit.
pub(crate) const MAX_ZOOM_PCT: u32 = 3200;

/// Depth of an edge strip, in percent of the image's size across it.
pub(crate) const EDGE_STRIP_PCT: u32 = 10;

/// The next zoom step above `pct`.
pub(crate) fn zoom_in(pct: u32) -> u32 {
    ZOOM_STEPS
        .into_iter()
        .find(|s| *s > pct)
        .unwrap_or(MAX_ZOOM_PCT)
}

/// The next zoom step below `pct`.
pub(crate) fn zoom_out(pct: u32) -> u32 {
    ZOOM_STEPS
        .into_iter()
        .rev()
        .find(|s| *s < pct)
        .unwrap_or(100)
}

/// What the image pane shows: which source pixels, and how large.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewport {
    /// Source pixels on screen (upright image coordinates).
    pub rect: Rect,
    /// Size of that rectangle once scaled for display, in device pixels.
    pub display_w: u32,
    pub display_h: u32,
    /// Zoom in percent of fit.
    pub zoom_pct: u32,
}

impl Viewport {
    /// Centre of the viewport in source pixels.
    pub fn centre(&self) -> (f64, f64) {
        (
            self.rect.x as f64 + self.rect.w as f64 / 2.0,
            self.rect.y as f64 + self.rect.h as f64 / 2.0,
        )
    }
}

/// The scale at which the whole image fits a pane of `pane` device pixels.
pub(crate) fn fit_scale(image: (u32, u32), pane: (u32, u32)) -> f64 {
    let (w, h) = (image.0.max(1) as f64, image.1.max(1) as f64);
    let (pw, ph) = (pane.0.max(1) as f64, pane.1.max(1) as f64);
    (pw / w).min(ph / h)
}

/// The viewport for an image of `image` pixels in a pane of `pane` device
/// pixels at `zoom_pct`, centred as near `centre` as the image edges allow.
pub fn viewport(
    image: (u32, u32),
    pane: (u32, u32),
    zoom_pct: u32,
    centre: (f64, f64),
) -> Viewport {
    let (w, h) = (image.0.max(1), image.1.max(1));
    let zoom_pct = zoom_pct.clamp(100, MAX_ZOOM_PCT);
    let scale = fit_scale((w, h), pane) * zoom_pct as f64 / 100.0;
    let vw = ((pane.0.max(1) as f64 / scale).floor() as u32).clamp(1, w);
    let vh = ((pane.1.max(1) as f64 / scale).floor() as u32).clamp(1, h);
    let place = |c: f64, v: u32, total: u32| -> u32 {
        let start = (c - v as f64 / 2.0).round();
        start.clamp(0.0, (total - v) as f64) as u32
    };
    let centre = (
        if centre.0.is_finite() {
            centre.0
        } else {
            w as f64 / 2.0
        },
        if centre.1.is_finite() {
            centre.1
        } else {
            h as f64 / 2.0
        },
    );
    let rect = Rect::new(place(centre.0, vw, w), place(centre.1, vh, h), vw, vh);
    let display_w = ((vw as f64 * scale).round() as u32).clamp(1, pane.0.max(1));
    let display_h = ((vh as f64 * scale).round() as u32).clamp(1, pane.1.max(1));
    Viewport {
        rect,
        display_w,
        display_h,
        zoom_pct,
    }
}

/// Size in source pixels of the viewport at `zoom_pct` (independent of centre).
pub(crate) fn view_size_at(image: (u32, u32), pane: (u32, u32), zoom_pct: u32) -> (u32, u32) {
    let v = viewport(image, pane, zoom_pct, (0.0, 0.0));
    (v.rect.w, v.rect.h)
}

/// True when a rectangle of `size` source pixels fits wholly in the view at `min_pct`.
pub(crate) fn fits_at(image: (u32, u32), pane: (u32, u32), min_pct: u32, size: (u32, u32)) -> bool {
    let (vw, vh) = view_size_at(image, pane, min_pct);
    size.0 <= vw && size.1 <= vh
}

/// The strip of source pixels along one edge that counts as "that edge".
pub(crate) fn edge_strip(image: (u32, u32), edge: Edge) -> Rect {
    let (w, h) = (image.0.max(1), image.1.max(1));
    let dx = (w * EDGE_STRIP_PCT / 100).max(1);
    let dy = (h * EDGE_STRIP_PCT / 100).max(1);
    match edge {
        Edge::Top => Rect::new(0, 0, w, dy),
        Edge::Bottom => Rect::new(0, h - dy, w, dy),
        Edge::Left => Rect::new(0, 0, dx, h),
        Edge::Right => Rect::new(w - dx, 0, dx, h),
    }
}

/// The first part of `target` (in reading order of a grid of `tile`-sized
/// cells) that the union of `seen` does not cover; `None` when covered.
#[cfg(test)]
pub(crate) fn first_uncovered_tile(target: &Rect, seen: &[Rect], tile: (u32, u32)) -> Option<Rect> {
    tiles(target, tile).into_iter().find(|t| !covered(t, seen))
}

/// `target` split into a grid of tiles of at most `tile` pixels.
pub fn tiles(target: &Rect, tile: (u32, u32)) -> Vec<Rect> {
    let (tw, th) = (tile.0.max(1), tile.1.max(1));
    let mut out = Vec::new();
    let mut y = target.y;
    while y < target.bottom() {
        let h = th.min(target.bottom() - y);
        let mut x = target.x;
        while x < target.right() {
            let w = tw.min(target.right() - x);
            out.push(Rect::new(x, y, w, h));
            x += w;
        }
        y += h;
    }
    out
}

/// True when the union of `seen` covers every pixel of `target`.
pub fn covered(target: &Rect, seen: &[Rect]) -> bool {
    if target.w == 0 || target.h == 0 {
        return true;
    }
    // Cut the target along every edge of every seen rectangle; each cell is
    // then either wholly inside some rectangle or wholly outside all of them.
    let mut xs = vec![target.x, target.right()];
    let mut ys = vec![target.y, target.bottom()];
    for s in seen {
        for x in [s.x, s.right()] {
            if x > target.x && x < target.right() {
                xs.push(x);
            }
        }
        for y in [s.y, s.bottom()] {
            if y > target.y && y < target.bottom() {
                ys.push(y);
            }
        }
    }
    xs.sort_unstable();
    xs.dedup();
    ys.sort_unstable();
    ys.dedup();
    ys.windows(2).all(|yy| {
        xs.windows(2).all(|xx| {
            let cell = Rect::new(xx[0], yy[0], xx[1] - xx[0], yy[1] - yy[0]);
            seen.iter().any(|s| s.contains(&cell))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_fit_the_viewport_is_the_whole_image() {
        let v = viewport((4000, 3000), (800, 800), 100, (0.0, 0.0));
        assert_eq!(v.rect, Rect::new(0, 0, 4000, 3000));
        assert_eq!((v.display_w, v.display_h), (800, 600));
    }

    #[test]
    fn at_two_times_the_viewport_halves_and_stays_inside_the_image() {
        let v = viewport((4000, 3000), (800, 600), 200, (100.0, 2900.0));
        assert_eq!(v.rect, Rect::new(0, 1500, 2000, 1500));
        assert_eq!((v.display_w, v.display_h), (800, 600));
        // 0.4 device pixels per source pixel.
        assert!((f64::from(v.display_w) / f64::from(v.rect.w) - 0.4).abs() < 1e-9);
    }

    #[test]
    fn zoom_steps_go_up_and_down_and_stop_at_the_ends() {
        assert_eq!(zoom_in(100), 125);
        assert_eq!(zoom_in(180), 200);
        assert_eq!(zoom_out(200), 150);
        assert_eq!(zoom_out(100), 100);
        assert_eq!(zoom_in(MAX_ZOOM_PCT), MAX_ZOOM_PCT);
    }

    #[test]
    fn coverage_needs_every_pixel() {
        let t = Rect::new(0, 0, 100, 100);
        let left = Rect::new(0, 0, 60, 100);
        let right = Rect::new(50, 0, 50, 99);
        assert!(!covered(&t, &[left, right]));
        let right = Rect::new(50, 0, 50, 100);
        assert!(covered(&t, &[left, right]));
    }

    #[test]
    fn tiles_cover_the_target_in_reading_order() {
        let t = Rect::new(10, 10, 25, 15);
        let ts = tiles(&t, (10, 10));
        assert_eq!(ts.len(), 6);
        assert_eq!(ts[0], Rect::new(10, 10, 10, 10));
        assert_eq!(ts[5], Rect::new(30, 20, 5, 5));
        assert!(covered(&t, &ts));
        assert_eq!(first_uncovered_tile(&t, &ts[..2], (10, 10)), Some(ts[2]));
    }
}
