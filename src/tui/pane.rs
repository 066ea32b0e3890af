//! The image pane on a sixel terminal, kept up to date by sending only
//! what changed.
//!
//! A sixel picture lives in the terminal's pixels, outside ratatui's
//! buffer of text. The view claims the pane's cells with [`PhotoCells`]
//! (marked and skipped, so ratatui never writes them); after each frame,
//! [`PaneWriter::update`] compares the picture that should be there with
//! the one it last sent and writes only the cells whose pixels differ, plus
//! the cells that text had covered and no longer does (an overlay closed,
//! a placeholder gone). Nothing is erased first: the last picture stays on
//! screen until the new pixels are drawn over it, so a slow link never
//! shows an empty pane. Cells under text are never drawn over; they are
//! sent when the text goes.
//!
//! Diffing works because frames of one view share their palette (see
//! [`super::sixel::Palette`]): a pixel that did not change keeps its
//! register. A new view (pan, zoom, the next item) changes nearly every
//! cell and is sent whole, as one picture.

use super::sixel::Quantised;
use image::RgbImage;
use ratatui::buffer::{Buffer, Cell, CellDiffOption};
use ratatui::layout::Rect;
use ratatui::widgets::Widget;
use std::fmt::Write as _;
use std::sync::Arc;

/// What a cell of the pane holds while the picture owns it. Never written
/// to the terminal (the cell is skipped); it tells these cells apart from
/// other skipped cells, such as those of the mobile preview's picture.
const MARK: &str = "\u{F8FF}";

/// Claims an area's cells for the sixel picture.
pub struct PhotoCells;

impl Widget for PhotoCells {
    fn render(self, area: Rect, buf: &mut Buffer) {
        for y in area.top()..area.bottom() {
            for x in area.left()..area.right() {
                if let Some(cell) = buf.cell_mut((x, y)) {
                    cell.reset();
                    cell.set_symbol(MARK).set_diff_option(CellDiffOption::Skip);
                }
            }
        }
    }
}

/// A cell ratatui leaves to a picture.
fn skipped(cell: &Cell) -> bool {
    cell.diff_option == CellDiffOption::Skip
}

fn is_photo(cell: &Cell) -> bool {
    skipped(cell) && cell.symbol() == MARK
}

/// A picture for the pane, in the form its protocol sends.
#[derive(Debug, Clone)]
pub enum Frame {
    /// Sixel registers.
    Sixel(Arc<Quantised>),
    /// kitty's direct placement: the pixels, sent compressed.
    Kitty(Arc<RgbImage>),
}

impl Frame {
    fn size(&self) -> (usize, usize) {
        match self {
            Frame::Sixel(q) => (q.width, q.height),
            Frame::Kitty(img) => (img.width() as usize, img.height() as usize),
        }
    }

    /// Whether a part of `self` can be sent over `old` on screen: the same
    /// protocol and size (and, for sixel, the same registers).
    fn continues(&self, old: &Frame) -> bool {
        match (self, old) {
            (Frame::Sixel(a), Frame::Sixel(b)) => {
                (a.width, a.height) == (b.width, b.height) && a.registers == b.registers
            }
            (Frame::Kitty(a), Frame::Kitty(b)) => a.dimensions() == b.dimensions(),
            _ => false,
        }
    }

    fn same(&self, other: &Frame) -> bool {
        match (self, other) {
            (Frame::Sixel(a), Frame::Sixel(b)) => Arc::ptr_eq(a, b),
            (Frame::Kitty(a), Frame::Kitty(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// Whether the `w`×`h` block of pixels at (`x`, `y`) differs from
    /// `old`'s, which [`Frame::continues`].
    fn block_differs(&self, old: &Frame, x: usize, y: usize, w: usize, h: usize) -> bool {
        match (self, old) {
            (Frame::Sixel(a), Frame::Sixel(b)) => {
                cell_differs(&a.indices, &b.indices, a.width, x, y, w, h, 1)
            }
            (Frame::Kitty(a), Frame::Kitty(b)) => {
                cell_differs(a.as_raw(), b.as_raw(), a.width() as usize, x, y, w, h, 3)
            }
            _ => true,
        }
    }
}

/// A picture as the terminal has it.
struct Shown {
    /// Where, in cells.
    area: Rect,
    /// Device pixels per cell.
    cell_px: (u32, u32),
    frame: Frame,
    /// kitty: whether the picture is placed (shown), or only held by the
    /// terminal while text covers part of the pane.
    placed: bool,
}

/// The kitty image id of the pane's picture, and of the mobile preview's
/// when it is placed directly (see [`super::image::encode`]).
pub(crate) const KITTY_PANE_ID: u32 = 0x00A1_0003;
pub(crate) const KITTY_PREVIEW_ID: u32 = 0x00A1_0004;

/// How the pictures reach the terminal that draws them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outer {
    /// Written straight to it.
    Direct,
    /// Through tmux, whose pane starts at this row and column of the outer
    /// terminal.
    Tmux { top: u16, left: u16 },
}

/// What one update writes, for the status line and the benchmarks.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Update {
    pub bytes: Vec<u8>,
    /// Rectangles of cells sent.
    pub tiles: usize,
    /// Cells sent, of `of`.
    pub cells: usize,
    pub of: usize,
}

/// Keeps the terminal's copy of the image pane in step with the picture.
#[derive(Default)]
pub struct PaneWriter {
    shown: Option<Shown>,
    /// The screen size and which of its cells showed the picture at the
    /// last update, and which held another picture (ratatui-image's,
    /// skipped but not marked).
    last: Option<(Rect, Vec<bool>, Vec<bool>)>,
}

impl PaneWriter {
    /// The terminal was cleared: nothing of the picture is on it.
    pub(crate) fn forget(&mut self) {
        self.shown = None;
        self.last = None;
    }

    /// Cells that showed another protocol's picture (the mobile preview)
    /// at the last update and now hold text: the text must be written
    /// again, since ratatui believes it unchanged where the picture hid it.
    pub(crate) fn uncovered_text<'a>(&self, buf: &'a Buffer) -> Vec<(u16, u16, &'a Cell)> {
        let Some((screen, _, foreign)) = &self.last else {
            return Vec::new();
        };
        if *screen != buf.area {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (i, cell) in buf.content.iter().enumerate() {
            if foreign[i] && !skipped(cell) {
                let (x, y) = buf.pos_of(i);
                out.push((x, y, cell));
            }
        }
        out
    }

    /// The bytes that make the terminal show `frame` at `area` (cells of
    /// `cell_px` device pixels), given the buffer just drawn. With no
    /// frame, only what the buffer says is remembered (and a kitty picture
    /// is taken off the screen).
    pub fn update(
        &mut self,
        buf: &Buffer,
        frame: Option<(&Frame, Rect)>,
        cell_px: (u32, u32),
        outer: Outer,
    ) -> Update {
        let screen = buf.area;
        let photo_now: Vec<bool> = buf.content.iter().map(is_photo).collect();
        let foreign_now: Vec<bool> = buf
            .content
            .iter()
            .map(|c| skipped(c) && !is_photo(c))
            .collect();
        let had_foreign = self
            .last
            .as_ref()
            .is_some_and(|(_, _, f)| f.iter().any(|x| *x));
        let foreign_gone = had_foreign && !foreign_now.iter().any(|x| *x);
        let last = self.last.replace((screen, photo_now.clone(), foreign_now));
        let mut bytes = String::new();
        if foreign_gone
            && matches!(
                self.shown,
                Some(Shown {
                    frame: Frame::Kitty(_),
                    ..
                })
            )
        {
            // The mobile preview, placed directly, stays until taken off.
            kitty_unplace(&mut bytes, KITTY_PREVIEW_ID);
        }
        // Nothing to show (another item loading, a picture not of this
        // pane's size): a placed kitty picture comes off.
        let nothing = |me: &mut PaneWriter, mut bytes: String| {
            if me.shown.as_ref().is_some_and(|s| s.placed) {
                kitty_unplace(&mut bytes, KITTY_PANE_ID);
            }
            me.shown = None;
            Update {
                bytes: bytes.into_bytes(),
                ..Update::default()
            }
        };
        let Some((frame, area)) = frame else {
            return nothing(self, bytes);
        };
        let area = area.intersection(screen);
        let (cols, rows) = (usize::from(area.width), usize::from(area.height));
        let (cw, ch) = (cell_px.0 as usize, cell_px.1 as usize);
        let (fw, fh) = frame.size();
        if cols == 0 || rows == 0 || fw < cols * cw || fh < rows * ch {
            return nothing(self, bytes);
        }
        let index = |col: usize, row: usize| {
            (usize::from(area.y) + row) * usize::from(screen.width) + usize::from(area.x) + col
        };
        let same = self
            .shown
            .as_ref()
            .filter(|s| s.area == area && s.cell_px == cell_px && frame.continues(&s.frame));
        let was_photo = |col: usize, row: usize| match &last {
            Some((s, photo, _)) if *s == screen => photo[index(col, row)],
            _ => false,
        };
        let changed = |col: usize, row: usize| match same {
            None => true,
            Some(s) => {
                !frame.same(&s.frame) && frame.block_differs(&s.frame, col * cw, row * ch, cw, ch)
            }
        };
        let kitty = matches!(frame, Frame::Kitty(_));
        let covered = (0..rows).any(|r| (0..cols).any(|c| !photo_now[index(c, r)]));
        let mut send = vec![false; cols * rows];
        let mut uncovered = vec![false; cols * rows];
        for row in 0..rows {
            for col in 0..cols {
                if !photo_now[index(col, row)] {
                    continue;
                }
                uncovered[row * cols + col] = same.is_none() || !was_photo(col, row);
                send[row * cols + col] = if kitty {
                    // The terminal keeps a kitty picture's pixels under text.
                    changed(col, row)
                } else {
                    uncovered[row * cols + col] || changed(col, row)
                };
            }
        }
        let was_placed = same.is_some_and(|s| s.placed);
        let tiles = rectangles(&send, cols, rows);
        let place = |row: usize, col: usize| match outer {
            Outer::Direct => format!("\x1b[{};{}H", row + 1, col + 1),
            Outer::Tmux { top, left } => {
                format!(
                    "\x1b[{};{}H",
                    row + usize::from(top) + 1,
                    col + usize::from(left) + 1
                )
            }
        };
        let wrap = |seq: String| match outer {
            Outer::Direct => seq,
            // tmux keeps its cursor to itself: place the picture in the
            // outer terminal's coordinates, inside the passthrough.
            Outer::Tmux { .. } => super::tmux::passthrough(&seq),
        };
        let (ax, ay) = (usize::from(area.x), usize::from(area.y));
        match frame {
            Frame::Sixel(q) => {
                for t in &tiles {
                    let sixel = q.encode_region(t.x * cw, t.y * ch, t.w * cw, t.h * ch);
                    bytes.push_str(&wrap(format!("{}{sixel}", place(ay + t.y, ax + t.x))));
                }
            }
            Frame::Kitty(img) => {
                // Text under which the picture now shows: glyphs are drawn
                // over a kitty picture, so blank them.
                for t in rectangles(&uncovered, cols, rows) {
                    for r in t.y..t.y + t.h {
                        let _ = write!(bytes, "{}\x1b[0m\x1b[{}X", place(ay + r, ax + t.x), t.w);
                    }
                }
                if same.is_none() {
                    if self.shown.as_ref().is_some_and(|s| s.placed) {
                        kitty_unplace(&mut bytes, KITTY_PANE_ID);
                    }
                    kitty_transmit(&mut bytes, img, None);
                } else {
                    for t in &tiles {
                        let part = (t.x * cw, t.y * ch, t.w * cw, t.h * ch);
                        kitty_transmit(&mut bytes, img, Some(part));
                    }
                }
                if same.is_some() && !tiles.is_empty() {
                    // Show the edited frame (it is the only one).
                    let _ = write!(bytes, "\x1b_Ga=a,c=1,i={KITTY_PANE_ID},q=2\x1b\\");
                }
                match (covered, was_placed) {
                    // Text over part of the pane: take the picture off (the
                    // terminal keeps its pixels) rather than under the text.
                    (true, _) if was_placed => kitty_unplace(&mut bytes, KITTY_PANE_ID),
                    (true, _) => {}
                    (false, false) => {
                        let _ = write!(
                            bytes,
                            "{}\x1b_Ga=p,i={KITTY_PANE_ID},p=1,c={cols},r={rows},C=1,z=-1,q=2\x1b\\",
                            place(ay, ax)
                        );
                    }
                    _ => {}
                }
            }
        }
        self.shown = Some(Shown {
            area,
            cell_px,
            frame: frame.clone(),
            placed: kitty && !covered,
        });
        Update {
            bytes: bytes.into_bytes(),
            tiles: tiles.len(),
            cells: send.iter().filter(|s| **s).count(),
            of: cols * rows,
        }
    }
}

/// Take a kitty picture off the screen; the terminal keeps its pixels.
fn kitty_unplace(out: &mut String, id: u32) {
    let _ = write!(out, "\x1b_Ga=d,d=i,i={id},q=2\x1b\\");
}

/// Send `img` to kitty as the pane's picture (`part: None`), or the part
/// (x, y, w, h) of it over the picture it holds.
fn kitty_transmit(out: &mut String, img: &RgbImage, part: Option<(usize, usize, usize, usize)>) {
    match part {
        None => kitty_send(out, img, part, &format!("a=t,i={KITTY_PANE_ID},"), ""),
        // Every chunk of a frame edit says so: a chunk without `a=f` is
        // read as a new transmission and replaces the picture.
        Some((x, y, _, _)) => kitty_send(
            out,
            img,
            part,
            &format!("a=f,r=1,i={KITTY_PANE_ID},x={x},y={y},"),
            "a=f,r=1,",
        ),
    }
}

/// A whole picture for kitty, transmitted and placed at the cursor over
/// `cells` (columns, rows) as image `id`, under any text: what the mobile
/// preview is drawn with when kitty places pictures directly.
pub(crate) fn kitty_picture(img: &RgbImage, cells: (u16, u16), id: u32) -> String {
    let mut out = String::new();
    let (c, r) = cells;
    kitty_send(
        &mut out,
        img,
        None,
        &format!("a=T,i={id},p=1,c={c},r={r},C=1,z=-1,"),
        "",
    );
    out
}

/// `img`, or the part (x, y, w, h) of it, as RGB deflated with zlib, in
/// base64 chunks of 4096 bytes: the first after the keys `head`, the rest
/// after `again`.
fn kitty_send(
    out: &mut String,
    img: &RgbImage,
    part: Option<(usize, usize, usize, usize)>,
    head: &str,
    again: &str,
) {
    use base64::Engine as _;
    let width = img.width() as usize;
    let (x, y, w, h) = part.unwrap_or((0, 0, width, img.height() as usize));
    let mut raw = Vec::with_capacity(w * h * 3);
    for row in y..y + h {
        raw.extend_from_slice(&img.as_raw()[(row * width + x) * 3..][..w * 3]);
    }
    let packed = miniz_oxide::deflate::compress_to_vec_zlib(&raw, 1);
    let text = base64::engine::general_purpose::STANDARD.encode(packed);
    let head = format!("{head}f=24,s={w},v={h},o=z,q=2");
    let chunks: Vec<&[u8]> = text.as_bytes().chunks(4096).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let more = u8::from(i + 1 < chunks.len());
        let chunk = std::str::from_utf8(chunk).unwrap_or_default();
        if i == 0 {
            let _ = write!(out, "\x1b_G{head},m={more};{chunk}\x1b\\");
        } else {
            let _ = write!(out, "\x1b_G{again}m={more};{chunk}\x1b\\");
        }
    }
    if chunks.is_empty() {
        let _ = write!(out, "\x1b_G{head};\x1b\\");
    }
}

/// Whether the `w`×`h` block of pixels at (`x`, `y`) differs between two
/// pictures `width` pixels wide of `bpp` bytes a pixel.
#[allow(clippy::too_many_arguments)]
fn cell_differs(
    a: &[u8],
    b: &[u8],
    width: usize,
    x: usize,
    y: usize,
    w: usize,
    h: usize,
    bpp: usize,
) -> bool {
    (y..y + h).any(|row| {
        let at = (row * width + x) * bpp;
        a.get(at..at + w * bpp) != b.get(at..at + w * bpp)
    })
}

/// A rectangle of cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tile {
    x: usize,
    y: usize,
    w: usize,
    h: usize,
}

/// Cover the marked cells of a `cols`×`rows` grid with rectangles: each
/// row's runs, merged with the run of the same columns in the row above.
fn rectangles(marked: &[bool], cols: usize, rows: usize) -> Vec<Tile> {
    let mut done: Vec<Tile> = Vec::new();
    let mut open: Vec<Tile> = Vec::new();
    for y in 0..rows {
        let mut runs = Vec::new();
        let mut x = 0;
        while x < cols {
            if marked[y * cols + x] {
                let from = x;
                while x < cols && marked[y * cols + x] {
                    x += 1;
                }
                runs.push((from, x - from));
            } else {
                x += 1;
            }
        }
        let mut next = Vec::with_capacity(runs.len());
        for (x, w) in runs {
            match open.iter().position(|t| t.x == x && t.w == w) {
                Some(i) => {
                    let mut t = open.swap_remove(i);
                    t.h += 1;
                    next.push(t);
                }
                None => next.push(Tile { x, y, w, h: 1 }),
            }
        }
        done.append(&mut open);
        open = next;
    }
    done.append(&mut open);
    done.sort_by_key(|t| (t.y, t.x));
    done
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::sixel::{Palette, quantise};
    use image::{Rgb, RgbImage};

    const CELL: (u32, u32) = (4, 6);

    /// A gradient photo of `cols`×`rows` cells with a red box at `x`.
    fn picture(cols: u32, rows: u32, box_x: u32, palette: &mut Option<Palette>) -> Frame {
        let (w, h) = (cols * CELL.0, rows * CELL.1);
        let mut img = RgbImage::from_fn(w, h, |x, y| Rgb([(x * 3) as u8, (y * 5) as u8, 90]));
        let mut ink = vec![0u8; (w * h) as usize];
        for y in 10..20 {
            for x in box_x..box_x + 8 {
                img.put_pixel(x, y, Rgb([255, 0, 0]));
                ink[(y * w + x) as usize] = 1;
            }
        }
        let inks = [[255, 0, 0]];
        let p = palette.get_or_insert_with(|| Palette::of(&img, &ink, &inks));
        Frame::Sixel(Arc::new(quantise(&img, &ink, p)))
    }

    fn screen(w: u16, h: u16, pane: Rect, covered: Option<Rect>) -> Buffer {
        let mut buf = Buffer::empty(Rect::new(0, 0, w, h));
        PhotoCells.render(pane, &mut buf);
        if let Some(c) = covered {
            for y in c.top()..c.bottom() {
                for x in c.left()..c.right() {
                    buf[(x, y)].reset();
                    buf[(x, y)].set_symbol("#");
                }
            }
        }
        buf
    }

    /// The decoded pixels a terminal would show after drawing `bytes` over
    /// `canvas` (RGBA, `w` wide), honouring the cursor moves between sixels.
    fn paint(canvas: &mut [u8], w: usize, bytes: &[u8]) {
        let text = std::str::from_utf8(bytes).expect("ascii");
        for part in text.split("\x1b[").skip(1) {
            let (pos, rest) = part.split_once('H').expect("cursor move");
            let (row, col) = pos.split_once(';').expect("row;col");
            let row: usize = row.parse::<usize>().expect("row") - 1;
            let col: usize = col.parse::<usize>().expect("col") - 1;
            let d = icy_sixel::SixelImage::decode(rest.as_bytes()).expect("sixel decodes");
            for y in 0..d.height {
                for x in 0..d.width {
                    let p = &d.pixels[(y * d.width + x) * 4..][..4];
                    if p[3] == 0 {
                        continue;
                    }
                    let at = ((row * CELL.1 as usize + y) * w + col * CELL.0 as usize + x) * 4;
                    if at + 4 <= canvas.len() {
                        canvas[at..at + 4].copy_from_slice(p);
                    }
                }
            }
        }
    }

    fn expected(frame: &Frame) -> Vec<u8> {
        let Frame::Sixel(frame) = frame else {
            panic!("a sixel frame")
        };
        frame
            .indices
            .iter()
            .flat_map(|&i| {
                let c = frame.registers[usize::from(i)];
                let v = |p: u32| ((p * 255 + 50) / 100) as u8;
                [v(c[0]), v(c[1]), v(c[2]), 255]
            })
            .collect()
    }

    #[test]
    fn a_nudge_sends_only_the_cells_whose_pixels_changed_and_the_result_is_the_new_picture() {
        let pane = Rect::new(0, 0, 40, 12);
        let buf = screen(40, 12, pane, None);
        let mut palette = None;
        let first = picture(40, 12, 20, &mut palette);
        let mut w = PaneWriter::default();
        let full = w.update(&buf, Some((&first, pane)), CELL, Outer::Direct);
        assert_eq!((full.tiles, full.cells, full.of), (1, 480, 480));
        let (fw, fh) = first.size();
        let mut canvas = vec![0u8; fw * fh * 4];
        paint(&mut canvas, fw, &full.bytes);
        assert_eq!(canvas, expected(&first));

        let moved = picture(40, 12, 25, &mut palette);
        let nudge = w.update(&buf, Some((&moved, pane)), CELL, Outer::Direct);
        // The box spans pixels 20..33 over rows 10..20: cells 5..=8 of
        // rows 1..=3.
        assert_eq!((nudge.tiles, nudge.cells), (1, 4 * 3), "{nudge:?}");
        assert!(nudge.bytes.len() * 10 < full.bytes.len());
        paint(&mut canvas, fw, &nudge.bytes);
        assert_eq!(canvas, expected(&moved), "the screen shows the new picture");

        let again = w.update(&buf, Some((&moved, pane)), CELL, Outer::Direct);
        assert!(again.bytes.is_empty(), "nothing changed, nothing sent");
    }

    #[test]
    fn an_overlay_is_never_drawn_over_and_its_cells_are_sent_when_it_closes() {
        let pane = Rect::new(2, 1, 30, 10);
        let mut palette = None;
        let frame = picture(30, 10, 4, &mut palette);
        let mut w = PaneWriter::default();
        w.update(
            &screen(40, 14, pane, None),
            Some((&frame, pane)),
            CELL,
            Outer::Direct,
        );
        let overlay = Rect::new(10, 3, 12, 4);
        let open = w.update(
            &screen(40, 14, pane, Some(overlay)),
            Some((&frame, pane)),
            CELL,
            Outer::Direct,
        );
        assert!(open.bytes.is_empty());
        // A nudge while the overlay is open draws around it, not over it.
        let moved = picture(30, 10, 40, &mut palette);
        let under = w.update(
            &screen(40, 14, pane, Some(overlay)),
            Some((&moved, pane)),
            CELL,
            Outer::Direct,
        );
        assert!(under.cells > 0);
        let closed = w.update(
            &screen(40, 14, pane, None),
            Some((&moved, pane)),
            CELL,
            Outer::Direct,
        );
        assert_eq!(
            closed.cells,
            12 * 4,
            "exactly the cells the overlay covered"
        );
        assert_eq!(closed.tiles, 1);
        assert!(String::from_utf8_lossy(&closed.bytes).starts_with("\x1b[4;11H"));
    }

    #[test]
    fn a_new_view_or_a_cleared_terminal_is_sent_whole() {
        let pane = Rect::new(0, 0, 20, 6);
        let buf = screen(20, 6, pane, None);
        let mut w = PaneWriter::default();
        let a = picture(20, 6, 4, &mut None);
        w.update(&buf, Some((&a, pane)), CELL, Outer::Direct);
        let Frame::Sixel(b) = picture(20, 6, 4, &mut None) else {
            panic!("a sixel frame")
        };
        let mut other = (*b).clone();
        other.registers[1][0] ^= 1;
        let other = Frame::Sixel(Arc::new(other));
        assert_eq!(
            w.update(&buf, Some((&other, pane)), CELL, Outer::Direct)
                .cells,
            120
        );
        w.forget();
        let u = w.update(&buf, Some((&other, pane)), CELL, Outer::Direct);
        assert_eq!((u.cells, u.tiles), (120, 1));
    }

    #[test]
    fn through_tmux_each_part_is_placed_in_the_outer_terminals_coordinates_inside_the_passthrough()
    {
        let pane = Rect::new(2, 1, 20, 6);
        let buf = screen(30, 10, pane, None);
        let frame = picture(20, 6, 4, &mut None);
        let mut w = PaneWriter::default();
        let outer = Outer::Tmux { top: 3, left: 40 };
        let u = w.update(&buf, Some((&frame, pane)), CELL, outer);
        let text = String::from_utf8(u.bytes).expect("ascii");
        // Row 1 + 3 and column 2 + 40 of the outer terminal, 1-based, with
        // every ESC doubled inside tmux's passthrough.
        assert!(
            text.starts_with("\x1bPtmux;\x1b\x1b[5;43H\x1b\x1bP9;1;0q"),
            "{:?}",
            &text[..40]
        );
        assert!(text.ends_with("\x1b\x1b\\\x1b\\"));
        assert_eq!(text.matches("\x1bPtmux;").count(), u.tiles);
    }

    /// A noisy photo (so it compresses badly and edits take many chunks)
    /// with a red box at `box_x`, for kitty.
    fn kitty_picture_with_box(cols: u32, rows: u32, box_x: u32) -> Frame {
        let (w, h) = (cols * CELL.0, rows * CELL.1);
        let mut img = RgbImage::from_fn(w, h, |x, y| {
            let v = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) >> 7;
            Rgb([v as u8, (v >> 8) as u8, (v >> 16) as u8])
        });
        for y in 10..60 {
            for x in box_x..box_x + 40 {
                img.put_pixel(x, y, Rgb([255, 0, 0]));
            }
        }
        Frame::Kitty(Arc::new(img))
    }

    /// The kitty commands in `bytes`: (keys, payload).
    fn kitty_commands(bytes: &[u8]) -> Vec<(String, String)> {
        let text = String::from_utf8(bytes.to_vec()).expect("ascii");
        text.split("\x1b_G")
            .skip(1)
            .map(|c| {
                let body = c.split("\x1b\\").next().unwrap_or_default();
                let (keys, data) = body.split_once(';').unwrap_or((body, ""));
                (keys.to_string(), data.to_string())
            })
            .collect()
    }

    #[test]
    fn on_kitty_a_change_is_an_edit_of_the_placed_picture_every_chunk_saying_so() {
        let pane = Rect::new(0, 0, 60, 20);
        let buf = screen(60, 20, pane, None);
        let mut w = PaneWriter::default();
        let first = kitty_picture_with_box(60, 20, 20);
        let full = w.update(&buf, Some((&first, pane)), CELL, Outer::Direct);
        let cmds = kitty_commands(&full.bytes);
        assert!(
            cmds[0]
                .0
                .starts_with("a=t,i=10551299,f=24,s=240,v=120,o=z,q=2,m=1")
        );
        assert!(
            cmds.last()
                .is_some_and(|c| c.0.starts_with("a=p,i=10551299,p=1,c=60,r=20"))
        );
        let moved = kitty_picture_with_box(60, 20, 60);
        let nudge = w.update(&buf, Some((&moved, pane)), CELL, Outer::Direct);
        let cmds = kitty_commands(&nudge.bytes);
        assert!(cmds.len() > 3, "several chunks: {}", cmds.len());
        // Every chunk of the edit names the action, or kitty reads it as a
        // new picture; the last shows the edited frame.
        for (keys, _) in &cmds[..cmds.len() - 1] {
            assert!(keys.starts_with("a=f,r=1,"), "{keys}");
        }
        assert_eq!(
            cmds.last().map(|c| c.0.as_str()),
            Some("a=a,c=1,i=10551299,q=2")
        );
        assert!(nudge.bytes.len() * 4 < full.bytes.len());
        // The edited pixels, inflated, are the new picture's.
        use base64::Engine as _;
        let data: String = cmds[..cmds.len() - 1]
            .iter()
            .map(|c| c.1.as_str())
            .collect();
        let packed = base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("base64");
        let raw = miniz_oxide::inflate::decompress_to_vec_zlib(&packed).expect("zlib");
        let head = &cmds[0].0;
        let key = |k: &str| -> usize {
            head.split(',')
                .find_map(|kv| kv.strip_prefix(k))
                .and_then(|v| v.parse().ok())
                .expect("key")
        };
        let (x, y, pw, ph) = (key("x="), key("y="), key("s="), key("v="));
        let Frame::Kitty(img) = &moved else {
            panic!("kitty frame")
        };
        assert_eq!(raw.len(), pw * ph * 3);
        for row in 0..ph {
            let at = ((y + row) * img.width() as usize + x) * 3;
            assert_eq!(
                &raw[row * pw * 3..][..pw * 3],
                &img.as_raw()[at..at + pw * 3]
            );
        }
    }

    #[test]
    fn on_kitty_an_overlay_takes_the_picture_off_and_closing_it_puts_it_back_without_pixels() {
        let pane = Rect::new(0, 0, 60, 20);
        let mut w = PaneWriter::default();
        let frame = kitty_picture_with_box(60, 20, 20);
        w.update(
            &screen(60, 20, pane, None),
            Some((&frame, pane)),
            CELL,
            Outer::Direct,
        );
        let overlay = Rect::new(10, 5, 20, 6);
        let open = w.update(
            &screen(60, 20, pane, Some(overlay)),
            Some((&frame, pane)),
            CELL,
            Outer::Direct,
        );
        assert_eq!(
            kitty_commands(&open.bytes),
            vec![("a=d,d=i,i=10551299,q=2".to_string(), String::new())]
        );
        let closed = w.update(
            &screen(60, 20, pane, None),
            Some((&frame, pane)),
            CELL,
            Outer::Direct,
        );
        let text = String::from_utf8(closed.bytes.clone()).expect("ascii");
        // The overlay's text is blanked where it was, then the picture placed.
        assert!(text.contains("\x1b[6;11H\x1b[0m\x1b[20X"), "{text:?}");
        let cmds = kitty_commands(&closed.bytes);
        assert_eq!(cmds.len(), 1);
        assert!(cmds[0].0.starts_with("a=p,"));
        // No picture (another item loading): taken off.
        let gone = w.update(&screen(60, 20, pane, None), None, CELL, Outer::Direct);
        assert_eq!(kitty_commands(&gone.bytes)[0].0, "a=d,d=i,i=10551299,q=2");
    }

    #[test]
    fn marked_cells_become_few_rectangles() {
        #[rustfmt::skip]
        let m = [
            false, true, true, false,
            false, true, true, true,
            true,  false, false, true,
        ];
        let t = rectangles(&m, 4, 3);
        assert_eq!(
            t,
            vec![
                Tile {
                    x: 1,
                    y: 0,
                    w: 2,
                    h: 1
                },
                Tile {
                    x: 1,
                    y: 1,
                    w: 3,
                    h: 1
                },
                Tile {
                    x: 0,
                    y: 2,
                    w: 1,
                    h: 1
                },
                Tile {
                    x: 3,
                    y: 2,
                    w: 1,
                    h: 1
                },
            ]
        );
        assert_eq!(
            rectangles(&[true; 6], 3, 2),
            vec![Tile {
                x: 0,
                y: 0,
                w: 3,
                h: 2
            }]
        );
    }
}
