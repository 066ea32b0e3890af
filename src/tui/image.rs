//! Turning the upright photograph into what the image pane shows: crop the
//! viewport at native resolution, scale it, draw the masks into the pixels
//! (widgets drawn over a sixel are not shown), and encode it for the
//! terminal's graphics protocol. Pure; runs on the worker thread.

use super::geometry::Viewport;
use crate::item::{MaskKind, Rect};
use image::imageops::{self, FilterType};
use image::{DynamicImage, Rgb, RgbImage};
use ratatui::layout::Size;
use ratatui_image::picker::ProtocolType;
use ratatui_image::protocol::{
    Protocol, halfblocks::Halfblocks, iterm2::Iterm2, kitty::Kitty, sixel::Sixel,
};
use std::fmt::Write as _;

/// Neutral grey around the photograph (not part of the image, not themed).
pub const BACKDROP: Rgb<u8> = Rgb([28, 28, 28]);

/// How images reach the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Graphics {
    pub protocol: ProtocolType,
    /// The terminal's cell size in pixels.
    pub font: (u16, u16),
    /// Inside tmux: escape sequences must pass through it.
    pub tmux: bool,
}

impl Graphics {
    /// Half-blocks, as the snapshot tests and `--graphics halfblocks` use.
    pub fn halfblocks() -> Graphics {
        Graphics {
            protocol: ProtocolType::Halfblocks,
            font: (10, 20),
            tmux: false,
        }
    }

    /// Pixels per cell in the images we build: half-blocks show one pixel
    /// per column and two per row, so build at exactly that resolution.
    pub fn cell_pixels(&self) -> (u32, u32) {
        match self.protocol {
            ProtocolType::Halfblocks => (1, 2),
            _ => (u32::from(self.font.0.max(1)), u32::from(self.font.1.max(1))),
        }
    }

    /// Pixels available in a pane of `cells`.
    pub fn pane_pixels(&self, cells: (u16, u16)) -> (u32, u32) {
        let (cw, ch) = self.cell_pixels();
        (u32::from(cells.0) * cw, u32::from(cells.1) * ch)
    }

    pub fn name(&self) -> &'static str {
        match self.protocol {
            ProtocolType::Halfblocks => "halfblocks",
            ProtocolType::Sixel => "sixel",
            ProtocolType::Kitty => "kitty",
            ProtocolType::Iterm2 => "iterm2",
        }
    }
}

/// Outline colour of each mask kind: fixed, so operators learn them once.
pub fn kind_rgb(kind: MaskKind) -> [u8; 3] {
    match kind {
        MaskKind::Face => [255, 64, 64],
        MaskKind::Identifier => [255, 176, 0],
        MaskKind::Screen => [0, 200, 255],
        MaskKind::Tattoo => [200, 90, 255],
        MaskKind::Reflection => [70, 240, 120],
        MaskKind::Other => [240, 240, 240],
    }
}

/// One mask as the frame draws it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskOutline {
    pub id: u32,
    pub kind: MaskKind,
    pub rect: Rect,
}

impl From<&crate::item::Mask> for MaskOutline {
    fn from(m: &crate::item::Mask) -> MaskOutline {
        MaskOutline {
            id: m.id,
            kind: m.kind,
            rect: m.rect,
        }
    }
}

/// Everything that determines one picture of the image pane; two equal
/// requests give the same picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameRequest {
    pub item_id: String,
    pub viewport: Viewport,
    /// Pane size in cells.
    pub cells: (u16, u16),
    pub masks: Vec<MaskOutline>,
    pub selected: Option<u32>,
    pub graphics: Graphics,
}

/// The upright image and successively halved copies of it, so a view of
/// a large photograph is scaled from a copy near its display size instead
/// of filtering every source pixel on each frame.
pub struct Pyramid {
    levels: Vec<RgbImage>,
}

/// Halving stops once the longer side is below this.
const PYRAMID_FLOOR: u32 = 512;

impl Pyramid {
    pub fn new(full: RgbImage) -> Pyramid {
        let mut levels = vec![full];
        while let Some(last) = levels.last() {
            let (w, h) = last.dimensions();
            if w.max(h) < PYRAMID_FLOOR * 2 {
                break;
            }
            let half = imageops::thumbnail(last, w.div_ceil(2), h.div_ceil(2));
            levels.push(half);
        }
        Pyramid { levels }
    }

    /// Bytes of pixels held at every level.
    pub fn bytes(&self) -> u64 {
        self.levels.iter().map(|l| l.as_raw().len() as u64).sum()
    }

    /// The full-resolution upright image.
    pub fn full(&self) -> &RgbImage {
        &self.levels[0]
    }

    /// The smallest copy that still has at least one pixel per display
    /// pixel at `scale` (display pixels per source pixel).
    fn level_for(&self, scale: f64) -> &RgbImage {
        let full_w = self.levels[0].width().max(1) as f64;
        self.levels
            .iter()
            .rev()
            .find(|l| l.width() as f64 / full_w >= scale)
            .unwrap_or(&self.levels[0])
    }
}

/// Build the pane's picture from the upright image.
pub fn compose_frame(image: &Pyramid, req: &FrameRequest) -> RgbImage {
    let (pw, ph) = req.graphics.pane_pixels(req.cells);
    let mut canvas = RgbImage::from_pixel(pw.max(1), ph.max(1), BACKDROP);
    let v = &req.viewport;
    let full = image.full();
    let Some(src) = v.rect.clamp_to(full.width(), full.height()) else {
        return canvas;
    };
    let (dw, dh) = (v.display_w.min(pw).max(1), v.display_h.min(ph).max(1));
    let level = image.level_for(dw as f64 / src.w.max(1) as f64);
    let rx = level.width() as f64 / full.width().max(1) as f64;
    let ry = level.height() as f64 / full.height().max(1) as f64;
    let lx0 = ((src.x as f64 * rx).floor() as u32).min(level.width().saturating_sub(1));
    let ly0 = ((src.y as f64 * ry).floor() as u32).min(level.height().saturating_sub(1));
    let lx1 = ((src.right() as f64 * rx).ceil() as u32).clamp(lx0 + 1, level.width().max(1));
    let ly1 = ((src.bottom() as f64 * ry).ceil() as u32).clamp(ly0 + 1, level.height().max(1));
    let (lw, lh) = (
        lx1.saturating_sub(lx0).max(1),
        ly1.saturating_sub(ly0).max(1),
    );
    // Enlarged pixels stay square so the reviewer sees what is there;
    // reductions are filtered so fine detail is not lost to aliasing.
    let shown = if (dw, dh) == (lw, lh) {
        imageops::crop_imm(level, lx0, ly0, lw, lh).to_image()
    } else {
        crate::image_io::resize_rgb(level, Some((lx0, ly0, lw, lh)), (dw, dh), dw < lw)
    };
    let ox = pw.saturating_sub(dw) / 2;
    let oy = ph.saturating_sub(dh) / 2;
    imageops::replace(&mut canvas, &shown, i64::from(ox), i64::from(oy));
    let clip = Rect::new(ox, oy, dw, dh);
    let sx = dw as f64 / src.w as f64;
    let sy = dh as f64 / src.h as f64;
    let t = thickness(req.graphics);
    // Unselected first, so the selected outline is drawn on top.
    let order = req
        .masks
        .iter()
        .filter(|m| Some(m.id) != req.selected)
        .chain(req.masks.iter().filter(|m| Some(m.id) == req.selected));
    for m in order {
        let x0 = ox as f64 + (m.rect.x as f64 - src.x as f64) * sx;
        let y0 = oy as f64 + (m.rect.y as f64 - src.y as f64) * sy;
        let x1 = ox as f64 + (m.rect.right() as f64 - src.x as f64) * sx;
        let y1 = oy as f64 + (m.rect.bottom() as f64 - src.y as f64) * sy;
        let colour = Rgb(kind_rgb(m.kind));
        let selected = Some(m.id) == req.selected;
        let band = if selected { 3 * t } else { t };
        // A dark line just outside keeps the outline visible on bright skin.
        outline(
            &mut canvas,
            &clip,
            (x0, y0, x1, y1),
            -(t as i64),
            t,
            Rgb([0, 0, 0]),
        );
        outline(&mut canvas, &clip, (x0, y0, x1, y1), 0, band, colour);
    }
    canvas
}

/// Outline thickness in device pixels.
fn thickness(g: Graphics) -> u32 {
    match g.protocol {
        ProtocolType::Halfblocks => 1,
        _ => (u32::from(g.font.0) / 4).max(2),
    }
}

/// Draw a band `width` pixels wide starting `inset` pixels inside the
/// rectangle's edge (negative: outside), clipped to `clip`.
fn outline(
    img: &mut RgbImage,
    clip: &Rect,
    (x0, y0, x1, y1): (f64, f64, f64, f64),
    inset: i64,
    width: u32,
    colour: Rgb<u8>,
) {
    let x0 = x0.round() as i64 + inset;
    let y0 = y0.round() as i64 + inset;
    let x1 = x1.round() as i64 - inset;
    let y1 = y1.round() as i64 - inset;
    if x1 <= x0 || y1 <= y0 {
        return;
    }
    let w = i64::from(width);
    let mut fill = |ax: i64, ay: i64, bx: i64, by: i64| {
        let cx0 = ax.max(i64::from(clip.x));
        let cy0 = ay.max(i64::from(clip.y));
        let cx1 = bx.min(i64::from(clip.right()));
        let cy1 = by.min(i64::from(clip.bottom()));
        for y in cy0..cy1 {
            for x in cx0..cx1 {
                if let (Ok(x), Ok(y)) = (u32::try_from(x), u32::try_from(y))
                    && x < img.width()
                    && y < img.height()
                {
                    img.put_pixel(x, y, colour);
                }
            }
        }
    };
    fill(x0, y0, x1, (y0 + w).min(y1)); // top
    fill(x0, (y1 - w).max(y0), x1, y1); // bottom
    fill(x0, y0, (x0 + w).min(x1), y1); // left
    fill((x1 - w).max(x0), y0, x1, y1); // right
}

/// Fit a finished picture (the mobile preview) into a pane of `cells`,
/// never enlarging it beyond its own pixels on a real graphics protocol.
pub fn compose_fitted(picture: &RgbImage, cells: (u16, u16), g: Graphics) -> RgbImage {
    let (pw, ph) = g.pane_pixels(cells);
    let mut canvas = RgbImage::from_pixel(pw.max(1), ph.max(1), BACKDROP);
    let (w, h) = (picture.width().max(1), picture.height().max(1));
    let mut scale = (pw as f64 / w as f64).min(ph as f64 / h as f64);
    if g.protocol != ProtocolType::Halfblocks {
        scale = scale.min(1.0);
    }
    let dw = ((w as f64 * scale).round() as u32).clamp(1, pw.max(1));
    let dh = ((h as f64 * scale).round() as u32).clamp(1, ph.max(1));
    let shown = imageops::resize(picture, dw, dh, FilterType::Triangle);
    imageops::replace(
        &mut canvas,
        &shown,
        i64::from(pw.saturating_sub(dw) / 2),
        i64::from(ph.saturating_sub(dh) / 2),
    );
    canvas
}

/// Encode a picture of exactly `cells` × cell pixels for the terminal.
pub fn encode(
    picture: RgbImage,
    cells: (u16, u16),
    g: Graphics,
    kitty_id: u32,
) -> Result<Protocol, String> {
    let size = Size::new(cells.0, cells.1);
    // ratatui-image's encoders take an owned DynamicImage; ours the pixels.
    let img = DynamicImage::ImageRgb8;
    let err =
        |e: ratatui_image::errors::Errors| format!("encoding the image for the terminal: {e}");
    Ok(match g.protocol {
        ProtocolType::Halfblocks => {
            Protocol::Halfblocks(Halfblocks::new(img(picture), size).map_err(err)?)
        }
        ProtocolType::Sixel => {
            // Our own encoder (see `sixel`): ratatui-image's takes longer
            // than a redraw may. Erase the cells first, as ratatui-image
            // does, so nothing of the last picture shows through; then wrap
            // for tmux ourselves: ratatui-image 11.1.0 leaves the sixel's own
            // closing ESC \ undoubled inside the passthrough.
            let mut data = String::new();
            for _ in 0..cells.1 {
                let _ = write!(data, "\x1b[{}X\x1b[1B", cells.0);
            }
            let _ = write!(data, "\x1b[{}A", cells.1);
            data.push_str(&super::sixel::encode(&picture));
            if g.tmux {
                data = tmux_passthrough(&data);
            }
            Protocol::Sixel(Sixel {
                data,
                size,
                is_tmux: g.tmux,
            })
        }
        ProtocolType::Kitty => {
            Protocol::Kitty(Kitty::new(img(picture), size, kitty_id, g.tmux, false).map_err(err)?)
        }
        ProtocolType::Iterm2 => {
            Protocol::ITerm2(Iterm2::new(img(picture), size, g.tmux).map_err(err)?)
        }
    })
}

/// Wrap an escape sequence in tmux's DCS passthrough: `ESC P tmux;`, the
/// sequence with every ESC doubled, then `ESC \`. tmux undoubles the
/// escapes and hands the sequence to the outer terminal unchanged (with
/// `allow-passthrough on`).
pub fn tmux_passthrough(seq: &str) -> String {
    let mut out = String::with_capacity(seq.len() + seq.len() / 8 + 16);
    out.push_str("\x1bPtmux;");
    for c in seq.chars() {
        if c == '\x1b' {
            out.push('\x1b');
        }
        out.push(c);
    }
    out.push_str("\x1b\\");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::geometry::viewport;

    fn request(masks: Vec<MaskOutline>, selected: Option<u32>) -> FrameRequest {
        FrameRequest {
            item_id: "x".into(),
            viewport: viewport((100, 50), (40, 40), 100, (50.0, 25.0)),
            cells: (40, 20),
            masks,
            selected,
            graphics: Graphics::halfblocks(),
        }
    }

    #[test]
    fn the_whole_image_is_fitted_and_centred_on_the_backdrop() {
        let img = Pyramid::new(RgbImage::from_pixel(100, 50, Rgb([200, 200, 200])));
        let pic = compose_frame(&img, &request(vec![], None));
        assert_eq!(pic.dimensions(), (40, 40));
        assert_eq!(*pic.get_pixel(0, 0), BACKDROP);
        assert_eq!(*pic.get_pixel(20, 20), Rgb([200, 200, 200]));
    }

    #[test]
    fn masks_are_drawn_into_the_pixels_in_their_kind_colour() {
        let img = Pyramid::new(RgbImage::from_pixel(100, 50, Rgb([200, 200, 200])));
        let m = MaskOutline {
            id: 1,
            kind: MaskKind::Face,
            rect: Rect::new(25, 25, 50, 20),
        };
        let pic = compose_frame(&img, &request(vec![m.clone()], None));
        // fit scale 0.4: the mask's left edge is at x = 10, top at y = 10 + 10.
        assert_eq!(*pic.get_pixel(10, 25), Rgb(kind_rgb(MaskKind::Face)));
        assert_eq!(*pic.get_pixel(11, 25), Rgb([200, 200, 200]));
        let sel = compose_frame(&img, &request(vec![m], Some(1)));
        assert_eq!(*sel.get_pixel(12, 25), Rgb(kind_rgb(MaskKind::Face)));
    }

    #[test]
    fn a_large_photo_is_scaled_from_the_nearest_halved_copy() {
        let p = Pyramid::new(RgbImage::new(4000, 3000));
        let widths: Vec<u32> = p.levels.iter().map(|l| l.width()).collect();
        assert_eq!(widths, vec![4000, 2000, 1000]);
        assert_eq!(p.level_for(0.1).width(), 1000);
        assert_eq!(p.level_for(0.3).width(), 2000);
        assert_eq!(p.level_for(2.0).width(), 4000);
    }

    #[test]
    fn tmux_passthrough_doubles_every_escape_including_the_closing_one() {
        let sixel = "\x1b[5X\x1bPq#0;2;0;0;0~-\x1b\\";
        let wrapped = tmux_passthrough(sixel);
        assert_eq!(
            wrapped,
            "\x1bPtmux;\x1b\x1b[5X\x1b\x1bPq#0;2;0;0;0~-\x1b\x1b\\\x1b\\"
        );
        // Exactly one undoubled ESC \ (the wrapper's own terminator), at the end.
        let body = &wrapped["\x1bPtmux;".len()..wrapped.len() - 2];
        let mut chars = body.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                assert_eq!(
                    chars.next(),
                    Some('\x1b'),
                    "lone ESC inside the passthrough"
                );
            }
        }
    }

    #[test]
    fn a_sixel_frame_in_tmux_is_one_well_formed_passthrough() {
        let g = Graphics {
            protocol: ProtocolType::Sixel,
            font: (4, 8),
            tmux: true,
        };
        let pic = RgbImage::from_pixel(8, 16, Rgb([10, 200, 30]));
        let Ok(Protocol::Sixel(s)) = encode(pic, (2, 2), g, 1) else {
            panic!("expected sixel");
        };
        assert!(s.data.starts_with("\x1bPtmux;\x1b\x1b"));
        assert!(s.data.ends_with("\x1b\x1b\\\x1b\\"));
        assert_eq!(s.data.matches("\x1bPtmux;").count(), 1);
    }
}
