//! What is drawn over the station: help (generated from the key table),
//! the mobile preview, messages and the reject prompt. Pure drawing.

use super::*;
use crate::item::MaskKind;
use crate::text::printable;
use crate::tui::action::{Scope, Section, help_entries};
use crate::tui::app::{App, Message, PreviewState, Tone};
use crate::tui::layout::{centred, preview_area, preview_box};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui_image::Image;

/// The frame every overlay is drawn in.
pub(super) fn overlay_block<'a>(app: &App, title: impl Into<Line<'a>>) -> Block<'a> {
    Block::bordered()
        .borders(Borders::ALL)
        .title(title.into())
        .border_style(app.theme.overlay_border)
        .style(app.theme.overlay)
}

/// The help overlay, generated from the key table.
pub(super) fn help(f: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let r = centred(
        area,
        area.width.saturating_sub(4).min(116),
        area.height.saturating_sub(2),
    );
    f.render_widget(Clear, r);
    let b = overlay_block(app, " Keys — Esc closes ");
    let inner = b.inner(r);
    f.render_widget(b, r);
    let entries = help_entries();
    let key_w = entries
        .iter()
        .map(|e| e.keys.chars().count())
        .max()
        .unwrap_or(8);
    let mut lines: Vec<Line> = Vec::new();
    for section in Section::ALL {
        let mut first = true;
        for e in entries.iter().filter(|e| e.section == section) {
            if first {
                if !lines.is_empty() {
                    lines.push(Line::raw(""));
                }
                lines.push(Line::styled(section.title(), t.title));
                first = false;
            }
            // Image-focus keys are the default; say so only for the queue's.
            let description = match e.scope {
                Scope::Queue => format!("{} (queue)", e.base),
                Scope::Anywhere | Scope::Image => e.base.clone(),
            };
            lines.push(Line::from(vec![
                Span::styled(format!("{:>key_w$} ", e.keys), t.key),
                Span::raw(description),
            ]));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Outline labels", t.title));
    for kinds in MaskKind::ALL.chunks(3) {
        let mut legend = Vec::new();
        for k in kinds {
            legend.push(Span::styled(k.letter().to_string(), kind_tag(*k)));
            legend.push(Span::raw(format!(" {:<12}", k.as_str())));
        }
        lines.push(Line::from(legend));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "f: queue focus. Alt or s: ten steps. Saved as you go.",
        t.muted,
    ));
    // Two columns when one is too tall.
    let rows = usize::from(inner.height);
    if lines.len() <= rows || inner.width < 80 {
        f.render_widget(Paragraph::new(lines), inner);
    } else {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(inner);
        // Break at a section boundary near the middle.
        let mid = lines.len().div_ceil(2);
        let split = (0..lines.len())
            .filter(|i| lines[*i].width() == 0)
            .min_by_key(|i| i.abs_diff(mid))
            .unwrap_or(mid);
        let rest = lines.split_off(split);
        let rest: Vec<Line> = rest.into_iter().skip_while(|l| l.width() == 0).collect();
        f.render_widget(Paragraph::new(lines), left);
        f.render_widget(Paragraph::new(rest), right);
    }
}

/// The mobile preview overlay, with the output check's verdict.
pub(super) fn preview(f: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let r = preview_box(area);
    f.render_widget(Clear, r);
    let b = overlay_block(
        app,
        " Mobile preview: real output, 360 px wide, JPEG quality 40 — Esc closes ",
    );
    let inner = b.inner(r);
    f.render_widget(b, r);
    let pic = preview_area(area);
    let facts = Rect {
        y: pic.y + pic.height,
        height: inner.height.saturating_sub(pic.height),
        ..inner
    };
    match &app.preview {
        None | Some(PreviewState::Rendering { .. }) => {
            placeholder(f, pic, "rendering the real output…", t.muted);
        }
        Some(PreviewState::Failed { error, .. }) => {
            let text = format!(
                "The output could not be rendered:\n\n{}",
                printable(error, 400)
            );
            placeholder(f, pic, &text, t.bad);
        }
        Some(PreviewState::Ready(shown)) => {
            if shown.protocol.size().width <= pic.width
                && shown.protocol.size().height <= pic.height
            {
                f.render_widget(Image::new(&shown.protocol), pic);
            }
            let stale = app
                .item()
                .is_none_or(|i| i.masks_digest() != shown.masks_digest);
            let mut lines = vec![Line::from(vec![
                Span::raw(format!(
                    "{}×{} px shown · output ",
                    shown.width, shown.height
                )),
                Span::styled(short_id(&shown.output_sha256), t.key),
                Span::raw("…"),
            ])];
            lines.push(match &shown.check {
                Ok(fmt) => Line::styled(
                    format!("✓ output bytes passed the allowlist ({fmt}, no metadata)"),
                    t.ok,
                ),
                Err(e) => Line::styled(
                    format!("✗ output check failed: {}", printable(e, 200)),
                    t.bad,
                ),
            });
            if stale {
                lines.push(Line::styled("masks changed since: press m again", t.warn));
            } else if let Some(w) = shown.warnings.first() {
                lines.push(Line::styled(printable(w, 200), t.warn));
            }
            f.render_widget(Paragraph::new(lines), facts);
        }
    }
}

/// A message overlay (an outcome, a refusal).
pub(super) fn message(f: &mut Frame, app: &App, area: Rect, m: &Message) {
    let t = &app.theme;
    let width = area.width.saturating_sub(8).min(90);
    let body_w = usize::from(width.saturating_sub(4)).max(1);
    let wrapped: usize = m
        .lines
        .iter()
        .map(|l| l.chars().count().div_ceil(body_w).max(1))
        .sum();
    let height = (wrapped as u16 + 2).min(area.height);
    let r = centred(area, width, height);
    f.render_widget(Clear, r);
    let title_style = match m.tone {
        Tone::Bad => t.bad,
        Tone::Good => t.ok,
        Tone::Info => t.title,
    };
    let b = overlay_block(app, Line::styled(format!(" {} ", m.title), title_style))
        .title_bottom(Line::from(" Esc or Enter closes ").style(t.muted));
    let inner = b.inner(r);
    f.render_widget(b, r);
    let lines: Vec<Line> = m
        .lines
        .iter()
        .map(|l| {
            if l.starts_with('✗') {
                Line::styled(l.clone(), t.bad)
            } else {
                Line::raw(l.clone())
            }
        })
        .collect();
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }),
        Rect {
            x: inner.x + 1,
            width: inner.width.saturating_sub(2),
            ..inner
        },
    );
}

/// The prompt for a rejection's reason.
pub(super) fn reject_prompt(f: &mut Frame, app: &App, area: Rect, text: &str) {
    let t = &app.theme;
    let flagged = app
        .reason_flag
        .as_ref()
        .filter(|(typed, _)| typed.as_str() == text.trim());
    let height = if flagged.is_some() { 10 } else { 8 };
    let r = centred(area, area.width.saturating_sub(8).min(80), height);
    f.render_widget(Clear, r);
    let id = app.item().map_or(String::new(), |i| short_id(&i.id));
    let b = overlay_block(app, Line::styled(format!(" Reject {id} "), t.bad))
        .title_bottom(Line::from(" Enter rejects · Esc cancels ").style(t.muted));
    let inner = b.inner(r);
    f.render_widget(b, r);
    let room = usize::from(inner.width).saturating_sub(3);
    let shown: String = {
        let n = text.chars().count();
        text.chars().skip(n.saturating_sub(room)).collect()
    };
    let mut lines = vec![
        Line::raw("Why is it rejected? Say why, never who."),
        Line::styled(
            "The signed ledger keeps this for good: no names, record numbers or dates.",
            t.warn,
        ),
        Line::raw(""),
        Line::from(vec![
            Span::styled("> ", t.key),
            Span::raw(shown),
            Span::styled("▏", t.key),
        ]),
    ];
    if let Some((_, why)) = flagged {
        lines.push(Line::raw(""));
        lines.push(Line::styled(format!("This looks like {why}."), t.bad));
        lines.push(Line::styled(
            "Edit it, or press Enter again to record it exactly as typed.",
            t.bad,
        ));
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
