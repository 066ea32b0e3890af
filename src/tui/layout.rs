//! Where everything goes on the screen: a pure function of the screen's
//! size and which side panels are shown. The state ([`super::app`]) asks it
//! how large the image pane is; the drawing ([`super::view`]) asks it where
//! to draw. Neither imports the other for it.
//!
//! Below [`WIDE`] columns the queue folds away by default, so the photo
//! keeps most of the width; `[` and `]` show or hide the queue and the
//! right-hand panel at any width.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::Block;

/// From this many columns both side panels are shown unless folded.
pub(crate) const WIDE: u16 = 120;

/// Which side panels the operator asked for; `None` follows the width.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Folds {
    pub queue: Option<bool>,
    pub panel: Option<bool>,
}

impl Folds {
    /// Whether the queue and the right-hand panel show at `width` columns.
    pub fn shown(self, width: u16) -> (bool, bool) {
        (
            self.queue.unwrap_or(width >= WIDE),
            self.panel.unwrap_or(true),
        )
    }
}

/// Where everything goes on the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Panes {
    /// Empty (zero width) when folded, as is `panel`.
    pub queue: Rect,
    pub image_block: Rect,
    /// Inside the image block's border: the pixels.
    pub image: Rect,
    /// The right-hand column: mask, metadata, checklist.
    pub panel: Rect,
    pub status: Rect,
}

/// Rows of the selected-mask box at the top of the right-hand panel.
pub(crate) const MASK_HEIGHT: u16 = 7;

/// Lay out a screen of `area` with these folds.
pub fn layout(area: Rect, folds: Folds) -> Panes {
    let [main, status] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    let (show_queue, show_panel) = folds.shown(area.width);
    let queue_w = if show_queue {
        (area.width / 5).clamp(24, 32)
    } else {
        0
    };
    let panel_w = if show_panel {
        (area.width * 3 / 10).clamp(30, 44)
    } else {
        0
    };
    let [queue, image_block, panel] = Layout::horizontal([
        Constraint::Length(queue_w),
        Constraint::Min(10),
        Constraint::Length(panel_w),
    ])
    .areas(main);
    Panes {
        queue,
        image_block,
        image: Block::bordered().inner(image_block),
        panel,
        status,
    }
}

/// The box the mobile preview overlay occupies.
pub(crate) fn preview_box(area: Rect) -> Rect {
    centred(
        area,
        area.width.saturating_sub(8).min(72),
        area.height.saturating_sub(4),
    )
}

/// The cells the mobile preview picture fills (inside its box, above two
/// lines of facts).
pub(crate) fn preview_area(area: Rect) -> Rect {
    let inner = Block::bordered().inner(preview_box(area));
    Rect {
        height: inner.height.saturating_sub(3),
        ..inner
    }
}

/// A box of `w`×`h` (at most `area`) centred in `area`.
pub(crate) fn centred(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_narrow_screen_folds_the_queue_so_the_photo_gets_most_of_the_width() {
        let narrow = layout(Rect::new(0, 0, 80, 24), Folds::default());
        assert_eq!(narrow.queue.width, 0);
        assert!(narrow.image_block.width * 2 > 80, "{narrow:?}");
        let bare = layout(
            Rect::new(0, 0, 80, 24),
            Folds {
                queue: Some(false),
                panel: Some(false),
            },
        );
        assert_eq!(bare.image_block.width, 80);
        let wide = layout(Rect::new(0, 0, 160, 48), Folds::default());
        assert!(wide.queue.width >= 24 && wide.panel.width >= 30);
        // Asked for, the queue shows on a narrow screen too.
        let asked = layout(
            Rect::new(0, 0, 80, 24),
            Folds {
                queue: Some(true),
                panel: None,
            },
        );
        assert_eq!(asked.queue.width, 24);
    }
}
