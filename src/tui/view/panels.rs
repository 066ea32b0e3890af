//! The side panels: the masks list, the metadata inventory and the gate
//! checklist. Pure drawing from state.

use super::*;
use crate::gates::{Gate, GateMethod, zoom_label};
use crate::item::{ItemState, MaskOrigin};
use crate::text::printable;
use crate::tui::app::App;
use crate::tui::image::label_text;
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

/// The masks list: kind, origin, size and whether each was seen at zoom.
pub(super) fn mask_panel(f: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let Some(item) = app.item() else {
        f.render_widget(block(app, " Mask ", false), area);
        return;
    };
    let min = app.policy.min_zoom_pct();
    let pos = app
        .selected
        .and_then(|id| item.masks.iter().position(|m| m.id == id));
    let title = match pos {
        Some(p) => format!(" Mask {} of {} ", p + 1, item.masks.len()),
        None => format!(" Masks: {} ", item.masks.len()),
    };
    let b = block(app, title, false);
    let inner = b.inner(area);
    f.render_widget(b, area);
    let mut lines = Vec::new();
    match app.selected_mask() {
        Some(m) => {
            let origin = match &m.origin {
                MaskOrigin::Detector {
                    detector,
                    score_milli,
                } => format!(
                    "{} {}.{:03}",
                    printable(detector, 20),
                    score_milli / 1000,
                    (score_milli % 1000).abs()
                ),
                MaskOrigin::Manual => "drawn by hand".into(),
            };
            lines.push(Line::from(vec![
                Span::styled(label_text(m.kind, m.id), kind_tag(m.kind)),
                Span::styled(format!(" {}", m.kind), t.title),
                Span::styled(format!(" · {origin}"), t.muted),
            ]));
            lines.push(Line::from(format!(
                "{}×{} at {},{}",
                m.rect.w, m.rect.h, m.rect.x, m.rect.y
            )));
            lines.push(match &m.zoom_check {
                Some(z) if z.zoom_pct >= min => Line::styled(
                    format!(
                        "✓ seen at {}, {}",
                        zoom_label(z.zoom_pct),
                        short_time(&z.at)
                    ),
                    t.ok,
                ),
                _ => Line::styled(
                    format!("✗ not seen at {} (press z)", zoom_label(min)),
                    t.bad,
                ),
            });
        }
        None if item.masks.is_empty() => {
            lines.push(Line::styled("No masks. a adds one.", t.muted));
        }
        None => lines.push(Line::styled("No mask selected (Tab).", t.muted)),
    }
    let left = item.unverified(min).len();
    if !item.masks.is_empty() {
        // The legend: each kind present, as its outlines are labelled.
        let mut legend = Vec::new();
        for (k, n) in item.mask_counts() {
            if !legend.is_empty() {
                legend.push(Span::styled(" · ", t.muted));
            }
            legend.push(Span::styled(k.letter().to_string(), kind_tag(k)));
            legend.push(Span::styled(format!(" {k} ×{n}"), t.muted));
        }
        lines.push(Line::from(legend));
        lines.push(if left == 0 {
            Line::styled("all masks seen at minimum zoom", t.ok)
        } else {
            Line::styled(format!("{left} mask(s) still to verify"), t.warn)
        });
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

/// The metadata inventory of the original, identifying groups first.
pub(super) fn metadata_panel(f: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let Some(item) = app.item() else {
        f.render_widget(block(app, " Metadata removed ", false), area);
        return;
    };
    let b = block(
        app,
        format!(" Metadata removed ({}) ", item.metadata.len()),
        false,
    );
    let inner = b.inner(area);
    f.render_widget(b, area);
    let width = usize::from(inner.width);
    let mut lines: Vec<Line> = Vec::new();
    if item.metadata.is_empty() {
        lines.push(Line::styled("none found in the original", t.muted));
    }
    let rows = usize::from(inner.height);
    let overflow = item.metadata.len() > rows;
    let shown = if overflow {
        rows.saturating_sub(1)
    } else {
        rows
    };
    for m in item.metadata.iter().take(shown) {
        let head = format!("{} {}", printable(&m.group, 16), printable(&m.field, 28));
        let value = printable(&m.value, 80);
        let text = if value.is_empty() {
            head.clone()
        } else {
            format!("{head} = {value}")
        };
        let text: String = text.chars().take(width).collect();
        let split = head.chars().count().min(text.chars().count());
        let (a, rest): (String, String) = (
            text.chars().take(split).collect(),
            text.chars().skip(split).collect(),
        );
        lines.push(Line::from(vec![Span::styled(a, t.key), Span::raw(rest)]));
    }
    if overflow {
        lines.push(Line::styled(
            format!("… and {} more (veil show)", item.metadata.len() - shown),
            t.muted,
        ));
    }
    f.render_widget(Paragraph::new(lines), inner);
}

/// The checklist's lines: each gate's state, name and how it is met (or
/// what is missing), wrapped to `width`.
pub(super) fn checklist_lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let t = &app.theme;
    let Some(report) = app.gate_report() else {
        return Vec::new();
    };
    let width = usize::from(width).max(8);
    let mut lines = Vec::new();
    for s in &report.statuses {
        let (mark, style) = match (s.required, s.met) {
            (_, true) => ("✓", t.ok),
            (true, false) => ("✗", t.bad),
            (false, false) => ("·", t.muted),
        };
        let key = Gate::ATTESTED
            .iter()
            .position(|g| *g == s.gate)
            .map_or(String::new(), |i| format!("{} ", i + 1));
        let method = match s.method {
            GateMethod::Measured => "measured",
            GateMethod::Attested => "attested",
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{mark} "), style),
            Span::styled(key, t.key),
            Span::styled(s.gate.as_str().replace('_', " "), style),
            Span::styled(format!(" · {method}"), t.muted),
        ]));
        let detail = if s.required {
            printable(&s.detail, 300)
        } else {
            format!("(not required) {}", printable(&s.detail, 300))
        };
        for l in wrap(&detail, width.saturating_sub(2)).into_iter().take(2) {
            lines.push(Line::styled(format!("  {l}"), t.muted));
        }
    }
    lines
}

/// Greedy word wrap; words longer than the width are cut.
pub(super) fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let word: String = word.chars().take(width).collect();
        let n = line.chars().count();
        if n > 0 && n + 1 + word.chars().count() > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

/// `2025-03-14 09:26` from an RFC 3339 time.
pub(super) fn short_time(at: &str) -> String {
    at.chars().take(16).collect::<String>().replace('T', " ")
}

/// The gate checklist.
pub(super) fn checklist_panel(f: &mut Frame, app: &App, area: Rect, lines: Vec<Line<'static>>) {
    let t = &app.theme;
    let Some(report) = app.gate_report() else {
        f.render_widget(block(app, " Checklist ", false), area);
        return;
    };
    let state = app.item().map(|i| i.state);
    let verdict = if state == Some(ItemState::Approved) {
        Span::styled(" approved ", t.ok)
    } else if state == Some(ItemState::Rejected) {
        Span::styled(" rejected ", t.bad)
    } else if state == Some(ItemState::AwaitingSecond) {
        Span::styled(" awaiting second reviewer ", t.warn)
    } else if report.may_release() {
        Span::styled(" ready to approve ", t.ok)
    } else if report.may_approve() {
        Span::styled(" approvable; second reviewer ", t.warn)
    } else {
        Span::styled(format!(" {} unmet ", report.unmet().len()), t.bad)
    };
    let b = block(app, " Checklist ", false).title(Line::from(verdict).alignment(Alignment::Right));
    let inner = b.inner(area);
    f.render_widget(b, area);
    f.render_widget(Paragraph::new(lines), inner);
}
