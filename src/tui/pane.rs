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

/// A picture as the terminal has it.
struct Shown {
    /// Where, in cells.
    area: Rect,
    /// Device pixels per cell.
    cell_px: (u32, u32),
    frame: Arc<Quantised>,
}

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
    pub fn forget(&mut self) {
        self.shown = None;
        self.last = None;
    }

    /// Cells that showed another protocol's picture (the mobile preview)
    /// at the last update and now hold text: the text must be written
    /// again, since ratatui believes it unchanged where the picture hid it.
    pub fn uncovered_text<'a>(&self, buf: &'a Buffer) -> Vec<(u16, u16, &'a Cell)> {
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
    /// frame, only what the buffer says is remembered.
    pub fn update(
        &mut self,
        buf: &Buffer,
        frame: Option<(&Arc<Quantised>, Rect)>,
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
        let last = self.last.replace((screen, photo_now.clone(), foreign_now));
        let Some((frame, area)) = frame else {
            self.shown = None;
            return Update::default();
        };
        let area = area.intersection(screen);
        let (cols, rows) = (usize::from(area.width), usize::from(area.height));
        let (cw, ch) = (cell_px.0 as usize, cell_px.1 as usize);
        if cols == 0 || rows == 0 || frame.width < cols * cw || frame.height < rows * ch {
            self.shown = None;
            return Update::default();
        }
        let index = |col: usize, row: usize| {
            (usize::from(area.y) + row) * usize::from(screen.width) + usize::from(area.x) + col
        };
        let same = self.shown.as_ref().filter(|s| {
            s.area == area && s.cell_px == cell_px && s.frame.registers == frame.registers
        });
        let was_photo = |col: usize, row: usize| match &last {
            Some((s, photo, _)) if *s == screen => photo[index(col, row)],
            _ => false,
        };
        let mut send = vec![false; cols * rows];
        for row in 0..rows {
            for col in 0..cols {
                if !photo_now[index(col, row)] {
                    continue;
                }
                send[row * cols + col] = match same {
                    None => true,
                    Some(s) => {
                        !was_photo(col, row)
                            || (!Arc::ptr_eq(&s.frame, frame)
                                && cell_differs(&s.frame, frame, col * cw, row * ch, cw, ch))
                    }
                };
            }
        }
        let tiles = rectangles(&send, cols, rows);
        let mut bytes = String::new();
        for t in &tiles {
            let (row, col) = (usize::from(area.y) + t.y, usize::from(area.x) + t.x);
            let sixel = frame.encode_region(t.x * cw, t.y * ch, t.w * cw, t.h * ch);
            match outer {
                Outer::Direct => {
                    let _ = write!(bytes, "\x1b[{};{}H{sixel}", row + 1, col + 1);
                }
                // tmux keeps its cursor to itself: place the picture in the
                // outer terminal's coordinates, inside the passthrough.
                Outer::Tmux { top, left } => {
                    let (r, c) = (row + usize::from(top) + 1, col + usize::from(left) + 1);
                    let placed = format!("\x1b[{r};{c}H{sixel}");
                    bytes.push_str(&super::image::tmux_passthrough(&placed));
                }
            }
        }
        self.shown = Some(Shown {
            area,
            cell_px,
            frame: frame.clone(),
        });
        Update {
            bytes: bytes.into_bytes(),
            tiles: tiles.len(),
            cells: send.iter().filter(|s| **s).count(),
            of: cols * rows,
        }
    }
}

/// Whether the `w`×`h` block of pixels at (`x`, `y`) differs.
fn cell_differs(a: &Quantised, b: &Quantised, x: usize, y: usize, w: usize, h: usize) -> bool {
    if a.width != b.width || a.height != b.height {
        return true;
    }
    (y..y + h).any(|row| {
        let at = row * a.width + x;
        a.indices[at..at + w] != b.indices[at..at + w]
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
    fn picture(cols: u32, rows: u32, box_x: u32, palette: &mut Option<Palette>) -> Arc<Quantised> {
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
        Arc::new(quantise(&img, &ink, p))
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

    fn expected(frame: &Quantised) -> Vec<u8> {
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
        let mut canvas = vec![0u8; first.width * first.height * 4];
        paint(&mut canvas, first.width, &full.bytes);
        assert_eq!(canvas, expected(&first));

        let moved = picture(40, 12, 25, &mut palette);
        let nudge = w.update(&buf, Some((&moved, pane)), CELL, Outer::Direct);
        // The box spans pixels 20..33 over rows 10..20: cells 5..=8 of
        // rows 1..=3.
        assert_eq!((nudge.tiles, nudge.cells), (1, 4 * 3), "{nudge:?}");
        assert!(nudge.bytes.len() * 10 < full.bytes.len());
        paint(&mut canvas, first.width, &nudge.bytes);
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
        let b = picture(20, 6, 4, &mut None);
        let mut other = (*b).clone();
        other.registers[1][0] ^= 1;
        let other = Arc::new(other);
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
