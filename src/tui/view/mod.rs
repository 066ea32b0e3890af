//! `view`: draw the review station from its state. Pure: it reads the
//! [`App`] and writes cells, so snapshot tests render it on a `TestBackend`.

mod overlays;
mod panels;

use crate::gates::zoom_label;
use crate::item::{Item, ItemState, MaskKind};
use crate::text::printable;
use crate::tui::action::Focus;
use crate::tui::app::{App, ImageStatus, Overlay, Tone};
use crate::tui::image::{Drawn, kind_rgb};
use crate::tui::layout::{MASK_HEIGHT, Panes};
use crate::tui::pane::PhotoCells;
use overlays::*;
use panels::*;
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui_image::Image;

/// Draw everything.
pub fn view(f: &mut Frame, app: &App) {
    let area = f.area();
    let panes = app.panes();
    f.render_widget(Block::default().style(app.theme.base), area);
    queue(f, app, panes.queue);
    image_pane(f, app, &panes);
    let checks = checklist_lines(app, panes.panel.width.saturating_sub(2));
    let most = panes.panel.height.saturating_sub(MASK_HEIGHT + 3);
    let [mask, metadata, checklist] = Layout::vertical([
        Constraint::Length(MASK_HEIGHT),
        Constraint::Min(3),
        Constraint::Length((checks.len() as u16 + 2).min(most)),
    ])
    .areas(panes.panel);
    mask_panel(f, app, mask);
    metadata_panel(f, app, metadata);
    checklist_panel(f, app, checklist, checks);
    status_line(f, app, panes.status);
    match &app.overlay {
        Overlay::None => {}
        Overlay::Help => help(f, app, area),
        Overlay::Preview => preview(f, app, area),
        Overlay::Message(m) => message(f, app, area, m),
        Overlay::RejectPrompt(text) => reject_prompt(f, app, area, text),
    }
}

fn block<'a>(app: &App, title: impl Into<Line<'a>>, focused: bool) -> Block<'a> {
    let t = &app.theme;
    Block::bordered()
        .title(title.into().style(t.title))
        .border_style(if focused { t.border_focus } else { t.border })
}

/// Short names so a queue row fits in a narrow column.
fn state_short(s: ItemState) -> &'static str {
    match s {
        ItemState::Pending => "pend",
        ItemState::Ready => "redy",
        ItemState::AwaitingSecond => "2nd",
        ItemState::Approved => "appr",
        ItemState::Rejected => "rej",
        ItemState::Failed => "FAIL",
    }
}

fn queue(f: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let vis = app.visible();
    let (n, total) = app.position();
    let filter = app.filter.map_or("all".to_string(), |s| s.to_string());
    let title = format!(" Queue {n}/{total} · {filter} ");
    let b = block(app, title, app.focus == Focus::Queue)
        .title_bottom(Line::from(" F faces M meta ! high ").style(t.muted));
    let inner = b.inner(area);
    f.render_widget(b, area);
    if vis.is_empty() {
        let text = if app.items.is_empty() {
            "No items.\n\nIngest photographs with\n`veil ingest FOLDER`."
        } else {
            "No items in this state.\n\nPress / to change the filter."
        };
        f.render_widget(
            Paragraph::new(text)
                .style(t.muted)
                .wrap(Wrap { trim: true }),
            inner,
        );
        return;
    }
    let rows = usize::from(inner.height);
    let pos = n.saturating_sub(1);
    let first = pos
        .saturating_sub(rows.saturating_sub(1) / 2)
        .min(vis.len().saturating_sub(rows));
    let hs = |it: &Item| crate::gates::is_high_stakes(it, &app.policy);
    let lines: Vec<Line> = vis
        .iter()
        .skip(first)
        .take(rows)
        .map(|&i| {
            let it = &app.items[i];
            let current = Some(i) == app.current;
            let marker = if current { "▸" } else { " " };
            let id: String = it.id.chars().take(8).collect();
            let row = format!(
                "{marker}{:<4} {id:<8} F{:<2}M{:<2}",
                state_short(it.state),
                it.faces_found().min(99),
                it.metadata.len().min(99),
            );
            let mut spans = vec![Span::raw(row)];
            if hs(it) {
                spans.push(Span::styled("!", t.high_stakes));
            }
            let line = Line::from(spans);
            if current {
                line.style(t.selected)
            } else {
                line
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
}

fn image_pane(f: &mut Frame, app: &App, panes: &Panes) {
    let t = &app.theme;
    let title = match app.item() {
        Some(it) => {
            let (w, h) = it.oriented_size();
            let hs = if crate::gates::is_high_stakes(it, &app.policy) {
                " · HIGH-STAKES"
            } else {
                ""
            };
            // A release of it was taken back: this is its review again.
            let withdrawn = match it.withdrawals.len() {
                0 => String::new(),
                1 => " · WITHDRAWN ONCE".into(),
                n => format!(" · WITHDRAWN {n}×"),
            };
            let read_only = if app.locked_out().is_some() {
                " · READ-ONLY"
            } else {
                ""
            };
            format!(
                " {} · {w}×{h} · {}{hs}{withdrawn}{read_only} ",
                short_id(&it.id),
                it.state.label()
            )
        }
        None => " Image ".into(),
    };
    // Folded panels say how to bring them back (and what they hide).
    let (queue_shown, panel_shown) = app.folds.shown(app.screen.0);
    let hint = match (queue_shown, panel_shown) {
        (true, true) => " Tab mask · z verify · m preview · ? help ".to_string(),
        (false, true) => " [ queue · ] more room · ? help ".to_string(),
        (_, false) => {
            let unmet = app.gate_report().map_or(0, |r| r.unmet().len());
            format!(" ] checklist ({unmet} unmet) · [ queue · ? help ")
        }
    };
    let b =
        block(app, title, app.focus == Focus::Image).title_bottom(Line::from(hint).style(t.muted));
    f.render_widget(b, panes.image_block);
    let area = panes.image;
    let Some(item) = app.item() else {
        let text = if app.items.is_empty() {
            "The queue is empty.\n\nIngest photographs with `veil ingest FOLDER`,\nor try `veil demo`."
        } else {
            "No item matches the filter.\n\nPress / to show another state."
        };
        placeholder(f, area, text, t.muted);
        return;
    };
    if item.state == ItemState::Failed {
        let reason = item
            .failure
            .as_deref()
            .map_or("(no reason recorded)".to_string(), |r| printable(r, 400));
        let text = format!(
            "This item failed at ingest and cannot be reviewed:\n\n{reason}\n\nR records a rejection with a reason; n moves on."
        );
        placeholder(f, area, &text, t.bad);
        return;
    }
    if let Some(pic) = app.picture() {
        let area = app.picture_area();
        match &pic.drawn {
            Drawn::Widget(protocol) => f.render_widget(Image::new(protocol), area),
            // Written by the pane writer after the frame, in the parts
            // that changed.
            Drawn::Pane(_) => f.render_widget(PhotoCells, area),
        }
        for l in &pic.labels {
            if l.row >= area.height || l.col >= area.width {
                continue;
            }
            let width = (area.width - l.col).min(l.text.chars().count() as u16);
            let at = Rect::new(area.x + l.col, area.y + l.row, width, 1);
            f.render_widget(Span::styled(l.text.as_str(), kind_tag(l.kind)), at);
        }
        return;
    }
    match app.images.get(&item.id) {
        Some(ImageStatus::Failed(e)) => {
            let text = format!("The original cannot be shown:\n\n{}", printable(e, 400));
            placeholder(f, area, &text, t.bad);
        }
        _ => {
            let (w, h) = item.oriented_size();
            let text = format!("loading {} ({w}×{h})…", short_id(&item.id));
            placeholder(f, area, &text, t.muted);
        }
    }
}

/// A mask label's style: black on the kind's outline colour, as the
/// label is drawn into the pixels on a graphics protocol.
fn kind_tag(kind: MaskKind) -> Style {
    let [r, g, b] = kind_rgb(kind);
    Style::default().fg(Color::Black).bg(Color::Rgb(r, g, b))
}

fn placeholder(f: &mut Frame, area: Rect, text: &str, style: Style) {
    let lines = text.lines().count() as u16;
    let top = area.height.saturating_sub(lines) / 2;
    let inner = Rect {
        y: area.y + top,
        height: area.height - top,
        ..area
    };
    f.render_widget(
        Paragraph::new(text.to_string())
            .style(style)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: false }),
        inner,
    );
}

fn short_id(id: &str) -> String {
    id.chars().take(8).collect()
}

/// `1.25x`, `2.0x`.
pub(crate) fn zoom_text(pct: u32) -> String {
    if pct.is_multiple_of(10) {
        zoom_label(pct)
    } else {
        format!("{}.{:02}x", pct / 100, pct % 100)
    }
}

fn status_line(f: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let mode = match (&app.overlay, app.focus) {
        (Overlay::Help, _) => "HELP",
        (Overlay::Preview, _) => "PREVIEW",
        (Overlay::Message(_), _) => "MESSAGE",
        (Overlay::RejectPrompt(_), _) => "REJECT",
        (Overlay::None, Focus::Image) => "IMAGE",
        (Overlay::None, Focus::Queue) => "QUEUE",
    };
    let (n, total) = app.position();
    let mut facts = format!(" item {n}/{total}");
    if let Some(v) = app.viewport() {
        facts.push_str(&format!(
            " · zoom {} · view {}×{}+{}+{} px",
            zoom_text(v.zoom_pct),
            v.rect.w,
            v.rect.h,
            v.rect.x,
            v.rect.y
        ));
    }
    if app.ten_step {
        facts.push_str(" · step ×10");
    }
    if app.light_pictures() {
        facts.push_str(" · light pictures (g: full)");
    }
    if let Some((w, h)) = app.image_limited() {
        facts.push_str(&format!(" · picture held to {w}×{h} px by the terminal"));
    }
    facts.push_str(&format!(" · {} ", app.graphics.name()));
    let (right, style) = match &app.status {
        Some(s) => (
            format!(" {} ", s.text),
            match s.tone {
                Tone::Bad => t.status_error,
                _ => t.status_message,
            },
        ),
        None => match app.locked_out() {
            Some(reason) => (format!(" {reason} "), t.status_error),
            None => (" ? help · q quit ".to_string(), t.status),
        },
    };
    // A message comes before the view's facts: when it does not fit
    // beside them, they shrink to the item's position.
    let width = usize::from(area.width);
    let mut used = mode.chars().count() + 2 + facts.chars().count();
    if used + right.chars().count() > width {
        facts = format!(" item {n}/{total} ");
        used = mode.chars().count() + 2 + facts.chars().count();
    }
    let room = width.saturating_sub(used);
    let right: String = if right.chars().count() > room {
        right
            .chars()
            .take(room.saturating_sub(1))
            .chain(std::iter::once('…'))
            .collect()
    } else {
        format!("{right:>room$}")
    };
    let line = Line::from(vec![
        Span::styled(format!(" {mode} "), t.status_mode),
        Span::styled(facts, t.status),
        Span::styled(right, style),
    ]);
    f.render_widget(Paragraph::new(line).style(t.status), area);
}
