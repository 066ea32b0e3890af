//! Turning the upright photograph into what the image pane shows: crop the
//! viewport at native resolution, scale it, draw the masks into the pixels
//! (widgets drawn over a sixel are not shown), and encode it for the
//! terminal's graphics protocol. Pure; runs on the worker thread.

use super::geometry::Viewport;
use super::pane::Frame;
use super::sixel::{Palette, quantise};
use crate::item::{MaskKind, Rect};
use image::imageops::{self, FilterType};
use image::{DynamicImage, Rgb, RgbImage};
use ratatui::layout::Size;
use ratatui_image::picker::ProtocolType;
use ratatui_image::protocol::{
    Protocol, halfblocks::Halfblocks, iterm2::Iterm2, kitty::Kitty, sixel::Sixel,
};
use std::fmt::Write as _;
use std::sync::Arc;

/// Neutral grey around the photograph (not part of the image, not themed).
pub(crate) const BACKDROP: Rgb<u8> = Rgb([28, 28, 28]);

/// How images reach the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Graphics {
    pub protocol: ProtocolType,
    /// The terminal's cell size in pixels.
    pub font: (u16, u16),
    /// Inside tmux: escape sequences must pass through it.
    pub tmux: bool,
    /// The largest sixel image the terminal shows, in pixels, as it
    /// answered XTSMGRAPHICS (xterm drops a larger one without a word).
    pub max_sixel: Option<(u32, u32)>,
    /// kitty itself, outside tmux: pictures are placed at the cursor and
    /// changed in place (see [`super::pane`]), instead of ratatui-image's
    /// unicode placeholders, which re-send the whole picture on every change
    /// and which kitty before 0.28 cannot show.
    pub kitty_direct: bool,
}

impl Graphics {
    /// Half-blocks, as the snapshot tests and `--graphics halfblocks` use.
    pub fn halfblocks() -> Graphics {
        Graphics {
            protocol: ProtocolType::Halfblocks,
            ..Graphics::sixel((10, 20))
        }
    }

    /// Whether pictures go through [`super::pane::PaneWriter`] (sixel, and
    /// kitty placed directly), sent in the parts that change, rather than
    /// through ratatui-image's widget, whole.
    pub(crate) fn by_pane_writer(&self) -> bool {
        match self.protocol {
            ProtocolType::Sixel => true,
            ProtocolType::Kitty => self.kitty_direct,
            ProtocolType::Halfblocks | ProtocolType::Iterm2 => false,
        }
    }

    /// Sixel with cells of `font` pixels, straight to the terminal.
    pub fn sixel(font: (u16, u16)) -> Graphics {
        Graphics {
            protocol: ProtocolType::Sixel,
            font,
            tmux: false,
            max_sixel: None,
            kitty_direct: false,
        }
    }

    /// The part of a pane of `cells` that a picture may fill: all of it,
    /// unless the terminal's sixel limit is smaller.
    pub(crate) fn fit_cells(&self, cells: (u16, u16)) -> (u16, u16) {
        match (self.protocol, self.max_sixel) {
            (ProtocolType::Sixel, Some((w, h))) => {
                let (cw, ch) = self.cell_pixels();
                let most =
                    |limit: u32, cell: u32| u16::try_from(limit / cell.max(1)).unwrap_or(u16::MAX);
                (cells.0.min(most(w, cw)), cells.1.min(most(h, ch)))
            }
            _ => cells,
        }
    }

    /// Pixels per cell in the images we build: half-blocks show one pixel
    /// per column and two per row, so build at exactly that resolution.
    pub(crate) fn cell_pixels(&self) -> (u32, u32) {
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
/// Each is a whole percent a channel, so a sixel register (which holds
/// percent) shows it exactly.
pub(crate) fn kind_rgb(kind: MaskKind) -> [u8; 3] {
    let pct = match kind {
        MaskKind::Face => [100, 25, 25],
        MaskKind::Identifier => [100, 69, 0],
        MaskKind::Screen => [0, 78, 100],
        MaskKind::Tattoo => [78, 35, 100],
        MaskKind::Reflection => [27, 94, 47],
        MaskKind::Other => [94, 94, 94],
    };
    pct.map(|p: u16| ((p * 255 + 50) / 100) as u8)
}

/// The dark line around each outline and the letters of its label.
pub(crate) const SHADOW: [u8; 3] = [0, 0, 0];

/// The overlay's colours, in ink-layer order: ink `k` is `inks()[k - 1]`.
pub(crate) fn inks() -> [[u8; 3]; 1 + MaskKind::ALL.len()] {
    let mut all = [SHADOW; 1 + MaskKind::ALL.len()];
    for (slot, kind) in all[1..].iter_mut().zip(MaskKind::ALL) {
        *slot = kind_rgb(kind);
    }
    all
}

/// The ink number of a colour of [`inks`].
fn ink_number(colour: [u8; 3]) -> u8 {
    inks()
        .iter()
        .position(|c| *c == colour)
        .map_or(0, |i| i as u8 + 1)
}

/// The pane's picture before encoding: the pixels, and which of them are
/// overlay (outline, shadow, label) rather than photograph, so an encoder
/// that must reduce colours keeps the overlay's exact and apart.
pub struct Canvas {
    pub rgb: RgbImage,
    /// One entry a pixel: 0 for the photograph or backdrop, `k` for ink
    /// `inks()[k - 1]`; empty when nothing is drawn over the picture.
    pub ink: Vec<u8>,
    /// Mask labels to draw as text cells (half-blocks only; on a pixel
    /// protocol they are drawn into the pixels).
    pub labels: Vec<CellLabel>,
}

impl Canvas {
    /// A picture with nothing drawn over it.
    pub fn plain(rgb: RgbImage) -> Canvas {
        Canvas {
            rgb,
            ink: Vec::new(),
            labels: Vec::new(),
        }
    }

    fn paint(&mut self, x: u32, y: u32, colour: [u8; 3]) {
        if x >= self.rgb.width() || y >= self.rgb.height() {
            return;
        }
        if self.ink.is_empty() {
            self.ink = vec![0; self.rgb.as_raw().len() / 3];
        }
        self.rgb.put_pixel(x, y, Rgb(colour));
        self.ink[(y * self.rgb.width() + x) as usize] = ink_number(colour);
    }
}

/// A mask's label as text, in cells of the pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellLabel {
    pub col: u16,
    pub row: u16,
    pub text: String,
    pub kind: MaskKind,
}

/// What a mask's outline is labelled with: its kind's letter and number.
pub(crate) fn label_text(kind: MaskKind, id: u32) -> String {
    format!("{}{id}", kind.letter())
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
pub fn compose_frame(image: &Pyramid, req: &FrameRequest) -> Canvas {
    let (pw, ph) = req.graphics.pane_pixels(req.cells);
    let mut canvas = Canvas::plain(RgbImage::from_pixel(pw.max(1), ph.max(1), BACKDROP));
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
    imageops::replace(&mut canvas.rgb, &shown, i64::from(ox), i64::from(oy));
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
        let colour = kind_rgb(m.kind);
        let selected = Some(m.id) == req.selected;
        let band = if selected { 3 * t } else { t };
        let edges = (x0, y0, x1, y1);
        // A dark line just outside keeps the outline visible on bright skin.
        outline(&mut canvas, &clip, edges, -(t as i64), t, SHADOW);
        outline(&mut canvas, &clip, edges, 0, band, colour);
        label(&mut canvas, &clip, edges, t, m, req.graphics);
    }
    canvas
}

/// Label a mask's outline with its kind's letter and number, on a tag of
/// the kind's colour just above its top-left corner (inside the outline
/// when there is no room above), kept within the photo's part of the pane.
fn label(
    canvas: &mut Canvas,
    clip: &Rect,
    (x0, y0, x1, y1): (f64, f64, f64, f64),
    t: u32,
    m: &MaskOutline,
    g: Graphics,
) {
    let text = label_text(m.kind, m.id);
    let (cw, ch) = g.cell_pixels();
    let halfblocks = g.protocol == ProtocolType::Halfblocks;
    // Glyphs are 8×8; scale them to about a cell's height.
    let scale = ((ch + 4) / 9).max(1);
    let n = text.chars().count() as u32;
    let (w, h) = if halfblocks {
        (n * cw, ch)
    } else {
        (n * 8 * scale + 2 * scale, 9 * scale)
    };
    let (left, top) = (x0.round() as i64, y0.round() as i64);
    let (right, bottom) = (x1.round() as i64, y1.round() as i64);
    let (cl, ct) = (i64::from(clip.x), i64::from(clip.y));
    let (cr, cb) = (i64::from(clip.right()), i64::from(clip.bottom()));
    if right <= cl || left >= cr || bottom <= ct || top >= cb {
        return;
    }
    let (w, h) = (i64::from(w), i64::from(h));
    let x = left.clamp(cl, (cr - w).max(cl));
    let above = top - i64::from(t) - h;
    let y = if above >= ct {
        above
    } else {
        (top + i64::from(t) * 3).clamp(ct, (cb - h).max(ct))
    };
    let (Ok(x), Ok(y)) = (u32::try_from(x), u32::try_from(y)) else {
        return;
    };
    if halfblocks {
        canvas.labels.push(CellLabel {
            col: (x / cw.max(1)) as u16,
            row: (y / ch.max(1)) as u16,
            text,
            kind: m.kind,
        });
        return;
    }
    let colour = kind_rgb(m.kind);
    for dy in 0..h as u32 {
        for dx in 0..w as u32 {
            canvas.paint(x + dx, y + dy, colour);
        }
    }
    for (i, c) in text.chars().enumerate() {
        let Some(glyph) = font8x8::legacy::BASIC_LEGACY.get(c as usize) else {
            continue;
        };
        let gx = x + scale + i as u32 * 8 * scale;
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..8u32 {
                if bits & (1 << col) == 0 {
                    continue;
                }
                for sy in 0..scale {
                    for sx in 0..scale {
                        let px = gx + col * scale + sx;
                        let py = y + scale + row as u32 * scale + sy;
                        canvas.paint(px, py, SHADOW);
                    }
                }
            }
        }
    }
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
    canvas: &mut Canvas,
    clip: &Rect,
    (x0, y0, x1, y1): (f64, f64, f64, f64),
    inset: i64,
    width: u32,
    colour: [u8; 3],
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
                if let (Ok(x), Ok(y)) = (u32::try_from(x), u32::try_from(y)) {
                    canvas.paint(x, y, colour);
                }
            }
        }
    };
    fill(x0, y0, x1, (y0 + w).min(y1)); // top
    fill(x0, (y1 - w).max(y0), x1, y1); // bottom
    fill(x0, y0, (x0 + w).min(x1), y1); // left
    fill((x1 - w).max(x0), y0, x1, y1); // right
}

/// A picture of the image pane, encoded for the terminal.
#[derive(Clone)]
pub struct Picture {
    pub request: FrameRequest,
    pub drawn: Drawn,
    /// Mask labels drawn as text over the picture (half-blocks only).
    pub labels: Vec<CellLabel>,
}

/// How a picture reaches the screen.
#[derive(Clone)]
pub enum Drawn {
    /// Through ratatui-image's widget, whole each time it changes.
    Widget(Protocol),
    /// Sixel registers or kitty pixels, written by
    /// [`super::pane::PaneWriter`] in the parts that changed.
    Pane(super::pane::Frame),
}

/// The photo's palette for one view, kept between frames so that moving
/// a mask leaves every other pixel on its register (see [`super::pane`]).
#[derive(Default)]
pub struct Palettes {
    last: Option<(FrameRequest, Palette)>,
}

impl Palettes {
    /// The palette for the view of `req`, made from `canvas` when the view
    /// (item, viewport, pane, terminal) is not the last one's.
    fn for_view(&mut self, req: &FrameRequest, canvas: &Canvas) -> &mut Palette {
        let view = FrameRequest {
            masks: Vec::new(),
            selected: None,
            ..req.clone()
        };
        if self.last.as_ref().is_some_and(|(v, _)| *v != view) {
            self.last = None;
        }
        let (_, palette) = self
            .last
            .get_or_insert_with(|| (view, Palette::of(&canvas.rgb, &canvas.ink, &inks())));
        palette
    }
}

/// Compose and encode the pane's picture for `req`.
pub fn render(
    image: &Pyramid,
    req: FrameRequest,
    kitty_id: u32,
    palettes: &mut Palettes,
) -> Result<Picture, String> {
    let mut canvas = compose_frame(image, &req);
    let labels = std::mem::take(&mut canvas.labels);
    let drawn = if !req.graphics.by_pane_writer() {
        Drawn::Widget(encode(canvas, req.cells, req.graphics, kitty_id)?)
    } else if req.graphics.protocol == ProtocolType::Sixel {
        let palette = palettes.for_view(&req, &canvas);
        Drawn::Pane(Frame::Sixel(Arc::new(quantise(
            &canvas.rgb,
            &canvas.ink,
            palette,
        ))))
    } else {
        Drawn::Pane(Frame::Kitty(Arc::new(canvas.rgb)))
    };
    Ok(Picture {
        request: req,
        drawn,
        labels,
    })
}

/// Fit a finished picture (the mobile preview) into a pane of `cells`,
/// never enlarging it beyond its own pixels on a real graphics protocol.
pub(crate) fn compose_fitted(picture: &RgbImage, cells: (u16, u16), g: Graphics) -> Canvas {
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
    Canvas::plain(canvas)
}

/// Encode a picture of exactly `cells` × cell pixels for the terminal.
pub fn encode(
    picture: Canvas,
    cells: (u16, u16),
    g: Graphics,
    kitty_id: u32,
) -> Result<Protocol, String> {
    let Canvas {
        rgb: picture, ink, ..
    } = picture;
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
            data.push_str(&super::sixel::encode(&picture, &ink, &inks()));
            if g.tmux {
                data = super::tmux::passthrough(&data);
            }
            Protocol::Sixel(Sixel {
                data,
                size,
                is_tmux: g.tmux,
            })
        }
        // Placed directly, as the pane's picture is: ratatui-image's
        // sixel widget writes any escape sequence at the area's first cell
        // and leaves the others to it.
        ProtocolType::Kitty if g.kitty_direct => Protocol::Sixel(Sixel {
            data: super::pane::kitty_picture(&picture, cells, kitty_id),
            size,
            is_tmux: false,
        }),
        ProtocolType::Kitty => {
            Protocol::Kitty(Kitty::new(img(picture), size, kitty_id, g.tmux, false).map_err(err)?)
        }
        ProtocolType::Iterm2 => {
            Protocol::ITerm2(Iterm2::new(img(picture), size, g.tmux).map_err(err)?)
        }
    })
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
        let pic = compose_frame(&img, &request(vec![], None)).rgb;
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
        let pic = compose_frame(&img, &request(vec![m.clone()], None)).rgb;
        // fit scale 0.4: the mask's left edge is at x = 10, top at y = 10 + 10.
        assert_eq!(*pic.get_pixel(10, 25), Rgb(kind_rgb(MaskKind::Face)));
        assert_eq!(*pic.get_pixel(11, 25), Rgb([200, 200, 200]));
        let sel = compose_frame(&img, &request(vec![m], Some(1))).rgb;
        assert_eq!(*sel.get_pixel(12, 25), Rgb(kind_rgb(MaskKind::Face)));
    }

    #[test]
    fn a_large_photo_is_scaled_from_the_nearest_halved_copy() {
        let p = Pyramid::new(RgbImage::new(4000, 3000));
        let widths: Vec<u32> = p.levels.iter().map(image::ImageBuffer::width).collect();
        assert_eq!(widths, vec![4000, 2000, 1000]);
        assert_eq!(p.level_for(0.1).width(), 1000);
        assert_eq!(p.level_for(0.3).width(), 2000);
        assert_eq!(p.level_for(2.0).width(), 4000);
    }

    #[test]
    fn a_sixel_frame_in_tmux_is_one_well_formed_passthrough() {
        let g = Graphics {
            tmux: true,
            ..Graphics::sixel((4, 8))
        };
        let pic = RgbImage::from_pixel(8, 16, Rgb([10, 200, 30]));
        let Ok(Protocol::Sixel(s)) = encode(Canvas::plain(pic), (2, 2), g, 1) else {
            panic!("expected sixel");
        };
        assert!(s.data.starts_with("\x1bPtmux;\x1b\x1b"));
        assert!(s.data.ends_with("\x1b\x1b\\\x1b\\"));
        assert_eq!(s.data.matches("\x1bPtmux;").count(), 1);
    }

    fn sixel_request(w: u32, h: u32, masks: Vec<MaskOutline>) -> FrameRequest {
        let graphics = Graphics::sixel((10, 20));
        let cells = (60, 30);
        let pane = graphics.pane_pixels(cells);
        FrameRequest {
            item_id: "x".into(),
            viewport: viewport((w, h), pane, 100, (w as f64 / 2.0, h as f64 / 2.0)),
            cells,
            masks,
            selected: Some(3),
            graphics,
        }
    }

    /// One mask of every kind, spread over a photo of `w`×`h`.
    fn every_kind(w: u32, h: u32) -> Vec<MaskOutline> {
        MaskKind::ALL
            .iter()
            .enumerate()
            .map(|(i, &kind)| MaskOutline {
                id: i as u32 + 1,
                kind,
                rect: Rect::new(
                    10 + (i as u32 % 3) * w / 3,
                    40 + (i as u32 / 3) * h / 2,
                    w / 4,
                    h / 5,
                ),
            })
            .collect()
    }

    #[test]
    fn in_sixel_every_outline_is_its_exact_colour_and_no_photo_pixel_takes_one() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/faces/astronaut.jpg");
        let photo = image::open(path).expect("sample photo").to_rgb8();
        // Paint the photo with colours right beside the outlines' own (a
        // red lip, a cyan monitor glow): the encoder must keep them apart.
        let mut photo = photo;
        for (i, kind) in MaskKind::ALL.iter().enumerate() {
            let [r, g, b] = kind_rgb(*kind);
            for y in 0..20 {
                for x in 0..40 {
                    let near = Rgb([r.saturating_sub(3), g.saturating_add(2), b]);
                    photo.put_pixel(440 + x % 40, 20 + i as u32 * 30 + y, near);
                }
            }
        }
        let (w, h) = photo.dimensions();
        let canvas = compose_frame(&Pyramid::new(photo), &sixel_request(w, h, every_kind(w, h)));
        let (cw, ch) = canvas.rgb.dimensions();
        let ink = canvas.ink.clone();
        let sixel = super::super::sixel::encode(&canvas.rgb, &ink, &inks());
        let d = icy_sixel::SixelImage::decode(sixel.as_bytes()).expect("our sixel decodes");
        assert_eq!(
            (d.width, d.height),
            (cw as usize, ch.div_ceil(6) as usize * 6)
        );
        let all = inks();
        let mut seen = [0usize; 1 + MaskKind::ALL.len()];
        for (i, q) in d
            .pixels
            .chunks_exact(4)
            .take((cw * ch) as usize)
            .enumerate()
        {
            let got = [q[0], q[1], q[2]];
            match ink[i] {
                0 => assert!(
                    !all.contains(&got),
                    "photo pixel {i} shows the overlay colour {got:?}"
                ),
                k => {
                    assert_eq!(got, all[usize::from(k) - 1], "ink {k} at pixel {i}");
                    seen[usize::from(k) - 1] += 1;
                }
            }
        }
        // The shadow and every kind's outline and label were drawn.
        assert!(seen.iter().all(|&n| n > 0), "{seen:?}");
    }

    #[test]
    fn each_outline_carries_its_label_in_the_pixels_and_as_cells_in_halfblocks() {
        let (w, h) = (300, 200);
        let img = Pyramid::new(RgbImage::from_pixel(w, h, Rgb([200, 200, 200])));
        let masks = vec![MaskOutline {
            id: 7,
            kind: MaskKind::Screen,
            rect: Rect::new(100, 100, 80, 60),
        }];
        let req = sixel_request(w, h, masks.clone());
        let canvas = compose_frame(&img, &req);
        assert!(canvas.labels.is_empty(), "drawn into the pixels");
        // The tag sits just above the outline: its colour, with black
        // letters, and as wide as two glyphs and a margin (scale 2).
        let scale = 2;
        // Fitted to the 600×600 pane: scale 2, the photo 600×400 at y 100.
        let (left, top) = (200, 100 + 200);
        let tag_y = top - thickness(req.graphics) - 9 * scale;
        let row: Vec<[u8; 3]> = (left..left + 18 * scale)
            .map(|x| canvas.rgb.get_pixel(x, tag_y + 4 * scale).0)
            .collect();
        assert!(row.contains(&kind_rgb(MaskKind::Screen)));
        assert!(row.contains(&SHADOW), "letters in the tag");
        assert!(
            row.iter()
                .all(|c| *c == SHADOW || *c == kind_rgb(MaskKind::Screen))
        );

        let mut half = request(
            vec![MaskOutline {
                rect: Rect::new(50, 30, 20, 10),
                ..masks[0].clone()
            }],
            None,
        );
        half.selected = None;
        // 100×50 fitted to 40×40 pixels (40×20 cells): scale 0.4, the photo
        // from y 10; the mask's corner at pixel (20, 22), its label one
        // cell above the outline, at row (22 - 1 - 2) / 2.
        let small = Pyramid::new(RgbImage::from_pixel(100, 50, Rgb([200, 200, 200])));
        let canvas = compose_frame(&small, &half);
        assert_eq!(
            canvas.labels,
            vec![CellLabel {
                col: 20,
                row: 9,
                text: "S7".into(),
                kind: MaskKind::Screen
            }]
        );
    }

    #[test]
    fn sixel_and_directly_placed_kitty_go_through_the_pane_writer_the_rest_whole() {
        let sixel = Graphics::sixel((10, 20));
        let kitty = |kitty_direct| Graphics {
            protocol: ProtocolType::Kitty,
            kitty_direct,
            ..sixel
        };
        assert!(sixel.by_pane_writer() && kitty(true).by_pane_writer());
        assert!(!kitty(false).by_pane_writer() && !Graphics::halfblocks().by_pane_writer());
        let iterm2 = Graphics {
            protocol: ProtocolType::Iterm2,
            ..sixel
        };
        assert!(!iterm2.by_pane_writer());
    }

    #[test]
    fn the_outline_colours_are_whole_percents_and_told_apart() {
        let all = inks();
        for c in all {
            for v in c {
                let p = (u32::from(v) * 100 + 127) / 255;
                assert_eq!(u32::from(v), (p * 255 + 50) / 100, "{c:?}");
            }
        }
        for (i, a) in all.iter().enumerate() {
            assert!(all[i + 1..].iter().all(|b| b != a), "{a:?} twice");
        }
        let letters: std::collections::BTreeSet<char> =
            MaskKind::ALL.iter().map(|k| k.letter()).collect();
        assert_eq!(letters.len(), MaskKind::ALL.len());
    }
}
