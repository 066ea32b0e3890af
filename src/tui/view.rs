//! `view`: draw the review station from its state. Pure: it reads the
//! [`App`] and writes cells, so snapshot tests render it on a `TestBackend`.

use super::action::{Focus, Scope, Section, help_entries};
use super::app::{App, ImageStatus, Message, Overlay, PreviewState, Tone};
use super::image::{Drawn, kind_rgb, label_text};
use super::layout::{MASK_HEIGHT, Panes, centred, preview_area, preview_box};
use super::pane::PhotoCells;
use crate::gates::{Gate, GateMethod, zoom_label};
use crate::item::{Item, ItemState, MaskKind, MaskOrigin};
use crate::text::printable;
use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
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

fn mask_panel(f: &mut Frame, app: &App, area: Rect) {
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

fn metadata_panel(f: &mut Frame, app: &App, area: Rect) {
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
fn checklist_lines(app: &App, width: u16) -> Vec<Line<'static>> {
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
fn wrap(text: &str, width: usize) -> Vec<String> {
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
fn short_time(at: &str) -> String {
    at.chars().take(16).collect::<String>().replace('T', " ")
}

fn checklist_panel(f: &mut Frame, app: &App, area: Rect, lines: Vec<Line<'static>>) {
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

/// `1.25x`, `2.0x`.
pub fn zoom_text(pct: u32) -> String {
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

fn overlay_block<'a>(app: &App, title: impl Into<Line<'a>>) -> Block<'a> {
    Block::bordered()
        .borders(Borders::ALL)
        .title(title.into())
        .border_style(app.theme.overlay_border)
        .style(app.theme.overlay)
}

fn help(f: &mut Frame, app: &App, area: Rect) {
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

fn preview(f: &mut Frame, app: &App, area: Rect) {
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

fn message(f: &mut Frame, app: &App, area: Rect, m: &Message) {
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

fn reject_prompt(f: &mut Frame, app: &App, area: Rect, text: &str) {
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
