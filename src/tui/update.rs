//! `update`: the one place the review station's state changes. It returns
//! the side effects to run (save the item, approve, reject, render the
//! preview) instead of running them, so it can be tested without a
//! terminal, a workspace or threads.

use super::action::{Action, Focus, action_for};
use super::app::{
    App, EditRun, ImageStatus, Message, Overlay, Picture, PreviewShown, PreviewState, ReadOnly,
    Seen, Snapshot, Status, Target, Tone, UNDO_DEPTH,
};
use super::geometry::{self, covered, edge_strip, fits_at, view_size_at};
use crate::gates::{Gate, zoom_label};
use crate::item::{
    Attestation, Edge, Item, ItemState, MaskKind, MaskOrigin, OutputCheck, PreviewSeen, Rect,
    ZoomCheck,
};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// Everything that can change the state.
pub enum Msg {
    /// The operator asked for something.
    Action(Action),
    /// The terminal is now this many cells.
    Resized(u16, u16),
    /// A key that does nothing here, and why (said on the status line).
    Ignored(String),
    /// A key typed into the rejection reason.
    PromptChar(char),
    PromptBackspace,
    PromptSubmit,
    /// The worker decoded an item's original (or could not).
    ImageLoaded {
        item_id: String,
    },
    ImageFailed {
        item_id: String,
        error: String,
    },
    /// The worker encoded a picture of the image pane; it is on screen next.
    FrameReady(Box<Picture>),
    /// The worker rendered the real output and its mobile preview.
    PreviewReady(Box<PreviewShown>),
    PreviewFailed {
        item_id: String,
        error: String,
    },
    /// An item file could not be written.
    SaveFailed {
        item_id: String,
        error: String,
    },
    /// The outcome of an approval, with the item as it is now on disk.
    Approved {
        item_id: String,
        outcome: Result<Approval, String>,
        item: Option<Box<Item>>,
    },
    /// The outcome of a rejection.
    Rejected {
        item_id: String,
        outcome: Result<u64, String>,
        item: Option<Box<Item>>,
    },
    /// The item on screen, as read from disk when it came on screen;
    /// `read_only` says why this session may not change it.
    Opened {
        item_id: String,
        item: Result<Box<Item>, String>,
        read_only: Option<String>,
    },
}

impl From<Action> for Msg {
    fn from(a: Action) -> Msg {
        Msg::Action(a)
    }
}

/// What the ledger said about an approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Approval {
    /// Released to `out/<output>`.
    Released { output: String, seq: u64 },
    /// High-stakes: recorded, waiting for a second reviewer.
    AwaitingSecond { seq: u64 },
    /// Refused: these gates are not met.
    Refused { unmet: String },
}

/// A side effect for the runtime to carry out.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Write the item file atomically, now.
    Save(Box<Item>),
    Approve {
        item_id: String,
        attest: Vec<Gate>,
    },
    Reject {
        item_id: String,
        reason: String,
    },
    /// Render the real output of this item (as it is now) and its mobile
    /// preview, sized for `cells`.
    RenderPreview {
        item: Box<Item>,
        cells: (u16, u16),
    },
}

/// The message a key press means now, given what is on screen.
pub fn msg_for_key(app: &App, ev: &KeyEvent) -> Option<Msg> {
    if ev.kind == KeyEventKind::Release {
        return None;
    }
    if ev.code == KeyCode::Char('c') && ev.modifiers.contains(KeyModifiers::CONTROL) {
        return Some(Action::ForceQuit.into());
    }
    match &app.overlay {
        Overlay::RejectPrompt(_) => match ev.code {
            KeyCode::Esc => Some(Action::Close.into()),
            KeyCode::Enter => Some(Msg::PromptSubmit),
            KeyCode::Backspace => Some(Msg::PromptBackspace),
            KeyCode::Char(c)
                if !ev
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                Some(Msg::PromptChar(c))
            }
            _ => None,
        },
        Overlay::None => match action_for(ev, app.focus) {
            Some(a) => Some(Msg::Action(a)),
            None => super::action::ignored(ev, app.focus).map(Msg::Ignored),
        },
        overlay => {
            if ev.code == KeyCode::Enter && matches!(overlay, Overlay::Message(_)) {
                return Some(Action::Close.into());
            }
            // Over an overlay only these keys act: nothing is edited unseen.
            match action_for(ev, app.focus) {
                Some(a @ (Action::Close | Action::Help | Action::Quit | Action::ForceQuit)) => {
                    Some(a.into())
                }
                Some(Action::MobilePreview) if *overlay == Overlay::Preview => {
                    Some(Action::Close.into())
                }
                Some(_) => Some(Msg::Ignored("Esc closes this first".into())),
                None => super::action::ignored(ev, app.focus)
                    .map(|_| Msg::Ignored("Esc closes this first".into())),
            }
        }
    }
}

/// Apply one message; return the effects to run, in order.
pub fn update(app: &mut App, msg: impl Into<Msg>) -> Vec<Effect> {
    let mut fx = Vec::new();
    match msg.into() {
        Msg::Action(a) => {
            app.status = None;
            if !matches!(a, Action::Move { .. } | Action::Grow { .. }) {
                app.edit_run = None;
            }
            act(app, a, &mut fx);
        }
        Msg::Resized(w, h) => {
            app.screen = (w, h);
            normalise_centre(app);
            if app.preview.is_some() && app.overlay == Overlay::Preview {
                request_preview(app, &mut fx);
            }
        }
        Msg::PromptChar(c) => {
            if let Overlay::RejectPrompt(text) = &mut app.overlay
                && !c.is_control()
                && text.chars().count() < 300
            {
                text.push(c);
            }
        }
        Msg::PromptBackspace => {
            if let Overlay::RejectPrompt(text) = &mut app.overlay {
                text.pop();
            }
        }
        Msg::PromptSubmit => submit_reject(app, &mut fx),
        Msg::Ignored(why) => say(app, why, Tone::Info),
        Msg::ImageLoaded { item_id } => {
            app.images.insert(item_id, ImageStatus::Ready);
        }
        Msg::ImageFailed { item_id, error } => {
            app.images.insert(item_id, ImageStatus::Failed(error));
        }
        Msg::FrameReady(frame) => {
            let current = app.frame_request().is_some_and(|r| r == frame.request);
            if current {
                app.images
                    .insert(frame.request.item_id.clone(), ImageStatus::Ready);
                app.frame = Some(*frame);
            } else if app.picture().is_none()
                && app.item().is_some_and(|i| i.id == frame.request.item_id)
                && frame.request.cells == app.image_cells()
            {
                // A picture of an older view of this item: better than
                // nothing, but not worth sending over one already shown
                // (a burst of keys is drawn once, in its final state).
                app.frame = Some(*frame);
            }
        }
        Msg::PreviewReady(shown) => preview_ready(app, *shown, &mut fx),
        Msg::PreviewFailed { item_id, error } => {
            if let Some(PreviewState::Rendering { item_id: id, .. }) = &app.preview
                && *id == item_id
            {
                app.preview = Some(PreviewState::Failed { item_id, error });
            }
        }
        Msg::SaveFailed { item_id, error } => {
            app.overlay = Overlay::Message(Message {
                title: "Not saved".into(),
                lines: vec![
                    format!("Item {item_id} could not be written: {error}"),
                    "Your last change is NOT on disk. Fix the problem (disk full? permissions?)"
                        .into(),
                    "and make any change again to save; or quit and check the workspace.".into(),
                ],
                tone: Tone::Bad,
            });
        }
        Msg::Approved {
            item_id,
            outcome,
            item,
        } => {
            replace_item(app, item);
            app.status = None;
            app.overlay = Overlay::Message(approval_message(&item_id, outcome));
        }
        Msg::Rejected {
            item_id,
            outcome,
            item,
        } => {
            replace_item(app, item);
            app.status = None;
            app.overlay = Overlay::Message(match outcome {
                Ok(seq) => Message {
                    title: "Rejected".into(),
                    lines: vec![format!(
                        "Item {item_id} is rejected and will never be released (ledger entry #{seq})."
                    )],
                    tone: Tone::Good,
                },
                Err(e) => Message {
                    title: "Rejection failed".into(),
                    lines: vec![format!("Item {item_id}: {e}")],
                    tone: Tone::Bad,
                },
            });
        }
        Msg::Opened {
            item_id,
            item,
            read_only,
        } => opened(app, item_id, item, read_only),
    }
    record_if_seen(app, &mut fx);
    fx
}

/// Take the item as it is on disk (another session may have saved edits)
/// and note whether this session may change it.
fn opened(
    app: &mut App,
    item_id: String,
    item: Result<Box<Item>, String>,
    read_only: Option<String>,
) {
    if app.item().is_none_or(|i| i.id != item_id) {
        return;
    }
    match item {
        Ok(fresh) if app.item() != Some(&fresh) => {
            // Undo steps were taken on the old masks: replaying them would
            // throw away the other session's edits.
            app.history.remove(&item_id);
            app.edit_run = None;
            app.preview = None;
            replace_item(app, Some(fresh));
            let first = app.item().and_then(|i| i.masks.first()).map(|m| m.id);
            if app.selected_mask().is_none() {
                app.selected = first;
            }
        }
        Ok(_) => {}
        Err(e) => say(app, format!("could not re-read this item: {e}"), Tone::Bad),
    }
    app.read_only = read_only.map(|reason| ReadOnly { item_id, reason });
    if let Some(reason) = app.locked_out() {
        let text = format!("this item is {reason}");
        say(app, text, Tone::Bad);
    }
}

/// Refuse a change to an item another session is editing; true when
/// this session may go ahead.
fn may_touch(app: &mut App) -> bool {
    match app.locked_out() {
        Some(reason) => {
            let text = format!("not changed: this item is {reason}");
            say(app, text, Tone::Bad);
            false
        }
        None => true,
    }
}

fn act(app: &mut App, action: Action, fx: &mut Vec<Effect>) {
    match action {
        Action::NextItem => step_item(app, 1),
        Action::PrevItem => step_item(app, -1),
        Action::ToggleFocus => {
            app.focus = match app.focus {
                Focus::Image => Focus::Queue,
                Focus::Queue => Focus::Image,
            };
            // The queue cannot have the keys while it is folded away.
            if app.focus == Focus::Queue && !app.folds.shown(app.screen.0).0 {
                app.folds.queue = Some(true);
            }
        }
        Action::ToggleQueue => {
            let (queue, _) = app.folds.shown(app.screen.0);
            app.folds.queue = Some(!queue);
            if queue && app.focus == Focus::Queue {
                app.focus = Focus::Image;
            }
            normalise_centre(app);
        }
        Action::TogglePanel => {
            let (_, panel) = app.folds.shown(app.screen.0);
            app.folds.panel = Some(!panel);
            normalise_centre(app);
        }
        Action::CycleFilter => cycle_filter(app),
        Action::NextMask => step_mask(app, 1),
        Action::PrevMask => step_mask(app, -1),
        Action::AddMask => add_mask(app, fx),
        Action::DeleteMask => delete_mask(app, fx),
        Action::Move { dx, dy, big } => nudge(app, dx, dy, big || app.ten_step, false, fx),
        Action::Grow { dw, dh, big } => nudge(app, dw, dh, big || app.ten_step, true, fx),
        Action::ToggleStep => flip(
            app,
            |a| &mut a.ten_step,
            "moves and resizes take ten steps (s again for one)",
            "moves and resizes take one step",
        ),
        Action::ToggleLight => toggle_light(app),
        Action::CycleKind => cycle_kind(app, fx),
        Action::ZoomIn => set_zoom(app, geometry::zoom_in(app.zoom_pct)),
        Action::ZoomOut => set_zoom(app, geometry::zoom_out(app.zoom_pct)),
        Action::ZoomFit => set_zoom(app, 100),
        Action::Pan { dx, dy } => pan(app, dx, dy),
        Action::ZoomToMask => zoom_to_mask(app),
        Action::EdgeTour => edge_tour(app),
        Action::MobilePreview => {
            if !app.has_image() {
                say(app, "this item has no image to preview", Tone::Bad);
            } else {
                app.overlay = Overlay::Preview;
                request_preview(app, fx);
            }
        }
        Action::ToggleAttest(i) => toggle_attest(app, i, fx),
        Action::ToggleHighStakes => toggle_high_stakes(app, fx),
        Action::MarkReady => mark_ready(app, fx),
        Action::Approve => approve(app, fx),
        Action::Reject => {
            let decided = app
                .item()
                .is_some_and(|i| matches!(i.state, ItemState::Approved | ItemState::Rejected));
            if decided {
                say(app, "this item is already decided", Tone::Bad);
            } else if app.item().is_some() && may_touch(app) {
                app.overlay = Overlay::RejectPrompt(String::new());
                app.reason_flag = None;
            }
        }
        Action::Undo => undo_redo(app, true, fx),
        Action::Redo => undo_redo(app, false, fx),
        Action::Help => {
            app.overlay = if app.overlay == Overlay::Help {
                Overlay::None
            } else {
                Overlay::Help
            }
        }
        Action::Close => {
            if app.overlay != Overlay::None {
                app.overlay = Overlay::None;
            } else if app.focus == Focus::Queue {
                app.focus = Focus::Image;
            }
        }
        Action::Quit | Action::ForceQuit => app.quit = true,
    }
}

fn say(app: &mut App, text: impl Into<String>, tone: Tone) {
    app.status = Some(Status {
        text: text.into(),
        tone,
    });
}

fn save(app: &App, fx: &mut Vec<Effect>) {
    if let Some(item) = app.item() {
        fx.push(Effect::Save(Box::new(item.clone())));
    }
}

// ---------------------------------------------------------------- queue

fn step_item(app: &mut App, delta: i64) {
    let vis = app.visible();
    if vis.is_empty() {
        say(app, "the queue is empty", Tone::Info);
        return;
    }
    let pos = app.current.and_then(|c| vis.iter().position(|i| *i == c));
    let next = match pos {
        None => Some(0),
        Some(p) => {
            let n = p as i64 + delta;
            (0..vis.len() as i64).contains(&n).then_some(n as usize)
        }
    };
    match next {
        Some(n) => {
            app.go_to(vis.get(n).copied());
            if app.overlay == Overlay::Preview {
                app.overlay = Overlay::None;
            }
            app.preview = None;
        }
        None if delta > 0 => say(app, "this is the last item", Tone::Info),
        None => say(app, "this is the first item", Tone::Info),
    }
}

fn cycle_filter(app: &mut App) {
    let all = ItemState::ALL;
    app.filter = match app.filter {
        None => Some(all[0]),
        Some(f) => all
            .iter()
            .position(|s| *s == f)
            .and_then(|i| all.get(i + 1).copied()),
    };
    let vis = app.visible();
    if !app.current.is_some_and(|c| vis.contains(&c)) {
        app.go_to(vis.first().copied());
        app.preview = None;
    }
    let name = app
        .filter
        .map_or("all states".to_string(), |f| f.to_string());
    say(
        app,
        format!("queue filter: {name} ({} items)", vis.len()),
        Tone::Info,
    );
}

fn replace_item(app: &mut App, item: Option<Box<Item>>) {
    if let Some(item) = item
        && let Some(slot) = app.items.iter_mut().find(|i| i.id == item.id)
    {
        *slot = *item;
    }
}

// ---------------------------------------------------------------- masks

fn step_mask(app: &mut App, delta: i64) {
    let Some(item) = app.item() else { return };
    if item.masks.is_empty() {
        say(app, "no masks on this item (a adds one)", Tone::Info);
        return;
    }
    let n = item.masks.len() as i64;
    let pos = app
        .selected
        .and_then(|id| item.masks.iter().position(|m| m.id == id));
    let next = match pos {
        None if delta > 0 => 0,
        None => n - 1,
        Some(p) => (p as i64 + delta).rem_euclid(n),
    };
    app.selected = item.masks.get(next as usize).map(|m| m.id);
}

/// Refuse an edit on a decided item; true when editing may go ahead.
/// The selected mask's id when the item may be edited; otherwise says why
/// (`none_selected` when no mask is selected) and gives `None`.
fn editable_selection(app: &mut App, none_selected: &str) -> Option<u32> {
    if !may_edit(app) {
        return None;
    }
    if app.selected.is_none() {
        say(app, none_selected, Tone::Info);
    }
    app.selected
}

fn may_edit(app: &mut App) -> bool {
    if !may_touch(app) {
        return false;
    }
    match app.item().map(|i| i.state) {
        None => false,
        Some(ItemState::Pending | ItemState::Ready) => true,
        Some(state) => {
            let why = match state {
                ItemState::Approved => {
                    "this item is approved and released: nothing on it changes (veil withdraw takes a release back)"
                }
                ItemState::Rejected => "this item is rejected: nothing on it changes any more",
                ItemState::AwaitingSecond => {
                    "this item awaits its second reviewer: it stays as the first approved it"
                }
                ItemState::Failed => "this item failed at ingest: there is nothing to review",
                ItemState::Pending | ItemState::Ready => "",
            };
            say(app, why, Tone::Bad);
            false
        }
    }
}

/// Remember the masks before an edit, for undo.
fn checkpoint(app: &mut App) {
    let selected = app.selected;
    let Some(item) = app.item() else { return };
    let snap = Snapshot {
        masks: item.masks.clone(),
        next_mask_id: item.next_mask_id,
        selected,
    };
    let h = app.history.entry(item.id.clone()).or_default();
    h.undo.push(snap);
    if h.undo.len() > UNDO_DEPTH {
        h.undo.remove(0);
    }
    h.redo.clear();
}

fn forget_coverage(app: &mut App, item_id: &str, mask_id: u32) {
    app.coverage
        .remove(&(item_id.to_string(), Target::Mask(mask_id)));
}

fn add_mask(app: &mut App, fx: &mut Vec<Effect>) {
    if !may_edit(app) {
        return;
    }
    let Some(v) = app.viewport() else {
        say(app, "this item has no image", Tone::Bad);
        return;
    };
    checkpoint(app);
    let w = (v.rect.w / 5).max(8).min(v.rect.w);
    let h = (v.rect.h / 5).max(8).min(v.rect.h);
    let rect = Rect::new(
        v.rect.x + (v.rect.w - w) / 2,
        v.rect.y + (v.rect.h - h) / 2,
        w,
        h,
    );
    let Some(item) = app.item_mut() else { return };
    let id = item.add_mask(MaskKind::Identifier, rect, MaskOrigin::Manual);
    app.selected = Some(id);
    say(
        app,
        format!("added mask #{id} (identifier); t changes its kind"),
        Tone::Info,
    );
    save(app, fx);
}

fn delete_mask(app: &mut App, fx: &mut Vec<Effect>) {
    let Some(id) = editable_selection(app, "no mask selected") else {
        return;
    };
    checkpoint(app);
    let Some(item) = app.item_mut() else { return };
    let Some(pos) = item.masks.iter().position(|m| m.id == id) else {
        return;
    };
    item.masks.remove(pos);
    let item_id = item.id.clone();
    let next = item
        .masks
        .get(pos)
        .or_else(|| item.masks.last())
        .map(|m| m.id);
    app.selected = next;
    forget_coverage(app, &item_id, id);
    say(app, format!("deleted mask #{id} (u undoes)"), Tone::Info);
    save(app, fx);
}

/// One step of movement or resizing: 1% of the view, at least a pixel.
fn step_px(app: &App, big: bool) -> i64 {
    let base = app
        .viewport()
        .map_or(1, |v| i64::from((v.rect.w.max(v.rect.h) / 100).max(1)));
    if big { base * 10 } else { base }
}

fn nudge(app: &mut App, dx: i8, dy: i8, big: bool, resize: bool, fx: &mut Vec<Effect>) {
    let Some(id) = editable_selection(app, "no mask selected (Tab selects one)") else {
        return;
    };
    let step = step_px(app, big);
    let Some(item_id) = app.item().map(|i| i.id.clone()) else {
        return;
    };
    let run = EditRun {
        item_id: item_id.clone(),
        mask_id: id,
        resize,
    };
    if app.edit_run.as_ref() != Some(&run) {
        checkpoint(app);
        app.edit_run = Some(run);
    }
    let Some(item) = app.item_mut() else { return };
    let (iw, ih) = item.oriented_size();
    let Some(mask) = item.masks.iter_mut().find(|m| m.id == id) else {
        return;
    };
    let r = mask.rect;
    let new = if resize {
        let w = (i64::from(r.w) + i64::from(dx) * step).clamp(4, i64::from(iw - r.x.min(iw)));
        let h = (i64::from(r.h) + i64::from(dy) * step).clamp(4, i64::from(ih - r.y.min(ih)));
        Rect::new(r.x, r.y, w.max(1) as u32, h.max(1) as u32)
    } else {
        let x = (i64::from(r.x) + i64::from(dx) * step).clamp(0, i64::from(iw.saturating_sub(r.w)));
        let y = (i64::from(r.y) + i64::from(dy) * step).clamp(0, i64::from(ih.saturating_sub(r.h)));
        Rect::new(x as u32, y as u32, r.w, r.h)
    };
    if new == r {
        return;
    }
    mask.rect = new;
    mask.zoom_check = None;
    forget_coverage(app, &item_id, id);
    save(app, fx);
}

fn cycle_kind(app: &mut App, fx: &mut Vec<Effect>) {
    let Some(id) = editable_selection(app, "no mask selected") else {
        return;
    };
    checkpoint(app);
    let Some(item) = app.item_mut() else { return };
    let Some(mask) = item.masks.iter_mut().find(|m| m.id == id) else {
        return;
    };
    mask.kind = mask.kind.next();
    let kind = mask.kind;
    say(app, format!("mask #{id} is now {kind}"), Tone::Info);
    save(app, fx);
}

fn undo_redo(app: &mut App, undo: bool, fx: &mut Vec<Effect>) {
    if !may_edit(app) {
        return;
    }
    let selected = app.selected;
    let Some(item) = app.item() else { return };
    let id = item.id.clone();
    let current = Snapshot {
        masks: item.masks.clone(),
        next_mask_id: item.next_mask_id,
        selected,
    };
    let h = app.history.entry(id.clone()).or_default();
    let (from, to) = if undo {
        (&mut h.undo, &mut h.redo)
    } else {
        (&mut h.redo, &mut h.undo)
    };
    let Some(mut snap) = from.pop() else {
        say(
            app,
            if undo {
                "nothing to undo"
            } else {
                "nothing to redo"
            },
            Tone::Info,
        );
        return;
    };
    to.push(current.clone());
    // A restored mask keeps its verification only if it is exactly where it
    // was verified now; anything else must be looked at again.
    for m in &mut snap.masks {
        m.zoom_check = current
            .masks
            .iter()
            .find(|c| c.id == m.id && c.rect == m.rect)
            .and_then(|c| c.zoom_check.clone());
    }
    let changed: Vec<u32> = snap
        .masks
        .iter()
        .filter(|m| {
            !current
                .masks
                .iter()
                .any(|c| c.id == m.id && c.rect == m.rect)
        })
        .map(|m| m.id)
        .collect();
    let gone: Vec<u32> = current
        .masks
        .iter()
        .filter(|c| !snap.masks.iter().any(|m| m.id == c.id))
        .map(|c| c.id)
        .collect();
    let Some(item) = app.item_mut() else { return };
    item.masks = snap.masks;
    item.next_mask_id = snap.next_mask_id.max(item.next_mask_id);
    app.selected = snap
        .selected
        .filter(|s| {
            app.item()
                .is_some_and(|i| i.masks.iter().any(|m| m.id == *s))
        })
        .or_else(|| app.item().and_then(|i| i.masks.first().map(|m| m.id)));
    for &m in &changed {
        forget_coverage(app, &id, m);
    }
    let verb = if undo { "undone" } else { "redone" };
    let what = if changed.is_empty() && gone.is_empty() {
        String::new()
    } else {
        let list = |ids: &[u32]| {
            ids.iter()
                .map(|i| format!("#{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut parts = Vec::new();
        if !changed.is_empty() {
            parts.push(format!("mask {} as before", list(&changed)));
        }
        if !gone.is_empty() {
            parts.push(format!("mask {} removed", list(&gone)));
        }
        format!(": {}", parts.join("; "))
    };
    say(app, format!("{verb}{what}"), Tone::Info);
    save(app, fx);
}

// ---------------------------------------------------------------- view

fn normalise_centre(app: &mut App) {
    if let Some(v) = app.viewport() {
        app.centre = v.centre();
    }
}

fn set_zoom(app: &mut App, pct: u32) {
    app.zoom_pct = pct.clamp(100, geometry::MAX_ZOOM_PCT);
    normalise_centre(app);
}

fn pan(app: &mut App, dx: i8, dy: i8) {
    let Some(v) = app.viewport() else { return };
    app.centre.0 += f64::from(dx) * v.rect.w as f64 / 4.0;
    app.centre.1 += f64::from(dy) * v.rect.h as f64 / 4.0;
    normalise_centre(app);
}

fn centre_on(app: &mut App, r: &Rect, zoom_pct: u32) {
    app.zoom_pct = zoom_pct;
    app.centre = (r.x as f64 + r.w as f64 / 2.0, r.y as f64 + r.h as f64 / 2.0);
    normalise_centre(app);
}

/// `z`: show the selected mask whole at exactly the minimum zoom. A mask too
/// large for the view at that zoom can never be whole on screen, so it is
/// verified in parts instead: each `z` shows the next part not yet seen at
/// the minimum zoom, and the mask counts as verified once every pixel of it
/// has been on screen at or above the minimum zoom.
fn zoom_to_mask(app: &mut App) {
    let Some(mask) = app.selected_mask().cloned() else {
        say(app, "no mask selected (Tab selects one)", Tone::Info);
        return;
    };
    let Some(item) = app.item() else { return };
    let image = item.oriented_size();
    let item_id = item.id.clone();
    let pane = app.pane_pixels();
    let min = app.policy.min_zoom_pct();
    if fits_at(image, pane, min, (mask.rect.w, mask.rect.h)) {
        centre_on(app, &mask.rect, min);
        return;
    }
    let tile = view_size_at(image, pane, min);
    let parts = geometry::tiles(&mask.rect, tile);
    let seen: Vec<Rect> = app
        .coverage
        .get(&(item_id, Target::Mask(mask.id)))
        .map(|v| v.iter().map(|s| s.rect).collect())
        .unwrap_or_default();
    match parts.iter().position(|t| !covered(t, &seen)) {
        Some(i) => {
            centre_on(app, &parts[i], min);
            say(
                app,
                format!(
                    "mask #{} is larger than the view at {}: part {} of {} (z: next part)",
                    mask.id,
                    zoom_label(min),
                    i + 1,
                    parts.len()
                ),
                Tone::Info,
            );
        }
        None => {
            centre_on(app, &mask.rect, 100);
            say(
                app,
                format!("every part of mask #{} has been seen", mask.id),
                Tone::Info,
            );
        }
    }
}

/// `e`: show the next part of an edge strip not yet seen at minimum zoom.
fn edge_tour(app: &mut App) {
    let Some(item) = app.item() else { return };
    if !app.has_image() {
        return;
    }
    let image = item.oriented_size();
    let item_id = item.id.clone();
    let done = item.gates.edges_seen.clone();
    let tile = view_size_at(image, app.pane_pixels(), app.policy.min_zoom_pct());
    for edge in Edge::ALL {
        if done.contains_key(&edge) {
            continue;
        }
        let strip = edge_strip(image, edge);
        let seen: Vec<Rect> = app
            .coverage
            .get(&(item_id.clone(), Target::Edge(edge)))
            .map(|v| v.iter().map(|s| s.rect).collect())
            .unwrap_or_default();
        let parts = geometry::tiles(&strip, tile);
        if let Some(i) = parts.iter().position(|t| !covered(t, &seen)) {
            let min = app.policy.min_zoom_pct();
            centre_on(app, &parts[i], min);
            say(
                app,
                format!(
                    "{} edge: part {} of {} at {} (e: next)",
                    edge_name(edge),
                    i + 1,
                    parts.len(),
                    zoom_label(min)
                ),
                Tone::Info,
            );
            return;
        }
    }
    say(
        app,
        "all four edges have been seen at minimum zoom",
        Tone::Good,
    );
}

fn edge_name(e: Edge) -> &'static str {
    match e {
        Edge::Top => "top",
        Edge::Right => "right",
        Edge::Bottom => "bottom",
        Edge::Left => "left",
    }
}

/// Lighter pictures on or off. Half-blocks are text, already sent only
/// where cells change, so there is nothing to lighten.
fn toggle_light(app: &mut App) {
    if app.graphics.protocol == ratatui_image::picker::ProtocolType::Halfblocks {
        say(
            app,
            "half-blocks are already light (only changed cells are sent)",
            Tone::Info,
        );
        return;
    }
    flip(
        app,
        |a| &mut a.light,
        "lighter pictures: half the width and height, a quarter of the pixels (g again for full size)",
        "pictures fill the pane again",
    );
}

/// Turn a setting on or off and say which.
fn flip(app: &mut App, setting: fn(&mut App) -> &mut bool, on: &str, off: &str) {
    let now = setting(app);
    *now = !*now;
    let text = if *now { on } else { off };
    say(app, text, Tone::Info);
}

/// Record the evidence of the picture on screen: only when it shows the
/// current view and nothing covers it.
fn record_if_seen(app: &mut App, fx: &mut Vec<Effect>) {
    if app.overlay != Overlay::None {
        return;
    }
    let Some(request) = app.frame_request() else {
        return;
    };
    if app.frame.as_ref().is_some_and(|f| f.request == request) {
        record_view(app, &request.viewport, fx);
    }
}

/// Record what a frame now on screen proves: masks wholly in view at the
/// minimum zoom or more, and parts of edge strips (and of masks too large
/// to be whole on screen at that zoom).
fn record_view(app: &mut App, v: &geometry::Viewport, fx: &mut Vec<Effect>) {
    if !app.recording() {
        return;
    }
    let min = app.policy.min_zoom_pct();
    if v.zoom_pct < min {
        return;
    }
    let pane = app.pane_pixels();
    let now = app.clock.now();
    let reviewer = app.reviewer.clone();
    let sealer = app.sealer.clone();
    let Some(idx) = app.current else { return };
    let Some(item) = app.items.get_mut(idx) else {
        return;
    };
    let (item_id, original) = (item.id.clone(), item.sha256.clone());
    // Each record is sealed with the reviewer's key as it is measured.
    let check = |target: String, zoom_pct| ZoomCheck {
        zoom_pct,
        at: now.clone(),
        reviewer: reviewer.clone(),
        seal: sealer.as_ref().and_then(|s| {
            s.seal(&crate::item::evidence_message(
                &item_id, &original, &target, zoom_pct, &now,
            ))
        }),
    };
    let image = item.oriented_size();
    let mut changed = false;
    for m in &mut item.masks {
        if m.verified_at(min) {
            continue;
        }
        if v.rect.contains(&m.rect) {
            m.zoom_check = Some(check(crate::item::mask_target(m), v.zoom_pct));
            changed = true;
        } else if !fits_at(image, pane, min, (m.rect.w, m.rect.h))
            && let Some(part) = v.rect.intersection(&m.rect)
        {
            let seen = app
                .coverage
                .entry((item.id.clone(), Target::Mask(m.id)))
                .or_default();
            add_seen(seen, part, v.zoom_pct);
            if covered(&m.rect, &seen.iter().map(|s| s.rect).collect::<Vec<_>>()) {
                let lowest = seen.iter().map(|s| s.zoom_pct).min().unwrap_or(v.zoom_pct);
                m.zoom_check = Some(check(crate::item::mask_target(m), lowest));
                changed = true;
            }
        }
    }
    for edge in Edge::ALL {
        if item.gates.edges_seen.contains_key(&edge) {
            continue;
        }
        let strip = edge_strip(image, edge);
        let Some(part) = v.rect.intersection(&strip) else {
            continue;
        };
        let seen = app
            .coverage
            .entry((item.id.clone(), Target::Edge(edge)))
            .or_default();
        add_seen(seen, part, v.zoom_pct);
        if covered(&strip, &seen.iter().map(|s| s.rect).collect::<Vec<_>>()) {
            let lowest = seen.iter().map(|s| s.zoom_pct).min().unwrap_or(v.zoom_pct);
            item.gates
                .edges_seen
                .insert(edge, check(crate::item::edge_target(edge), lowest));
            changed = true;
        }
    }
    if changed {
        save(app, fx);
    }
}

/// Remember a part seen, unless an earlier view already covered it.
fn add_seen(seen: &mut Vec<Seen>, rect: Rect, zoom_pct: u32) {
    if !seen
        .iter()
        .any(|s| s.rect.contains(&rect) && s.zoom_pct <= zoom_pct)
    {
        seen.push(Seen { rect, zoom_pct });
    }
}

// ---------------------------------------------------------------- preview

fn request_preview(app: &mut App, fx: &mut Vec<Effect>) {
    let cells = app.preview_cells();
    let Some(item) = app.item().cloned() else {
        return;
    };
    app.preview = Some(PreviewState::Rendering {
        item_id: item.id.clone(),
        masks_digest: item.masks_digest(),
    });
    fx.push(Effect::RenderPreview {
        item: Box::new(item),
        cells,
    });
}

fn preview_ready(app: &mut App, shown: PreviewShown, fx: &mut Vec<Effect>) {
    let wanted = matches!(
        &app.preview,
        Some(PreviewState::Rendering { item_id, masks_digest })
            if *item_id == shown.item_id && *masks_digest == shown.masks_digest
    );
    if !wanted {
        return;
    }
    let still_current = app
        .item()
        .is_some_and(|i| i.id == shown.item_id && i.masks_digest() == shown.masks_digest);
    let record = still_current && app.overlay == Overlay::Preview && app.recording();
    if record {
        let now = app.clock.now();
        let sealer = app.sealer.clone();
        if let Some(item) = app.item_mut() {
            let msg = crate::item::evidence_message(
                &item.id,
                &item.sha256,
                &crate::item::preview_target(&shown.masks_digest),
                0,
                &now,
            );
            item.gates.preview_seen = Some(PreviewSeen {
                masks_digest: shown.masks_digest.clone(),
                at: now.clone(),
                seal: sealer.as_ref().and_then(|s| s.seal(&msg)),
            });
            // The preview was made from the real output, whose bytes were
            // checked against the allowlist: that is the metadata gate's proof.
            if shown.check.is_ok() {
                item.gates.output_check = Some(OutputCheck {
                    masks_digest: shown.masks_digest.clone(),
                    output_sha256: shown.output_sha256.clone(),
                    at: now,
                });
            }
        }
        save(app, fx);
    }
    app.preview = Some(PreviewState::Ready(Box::new(shown)));
}

// ---------------------------------------------------------------- decision

fn toggle_attest(app: &mut App, index: u8, fx: &mut Vec<Effect>) {
    let Some(gate) = Gate::ATTESTED.get(usize::from(index)).copied() else {
        say(
            app,
            format!("no attested gate on key {}", index + 1),
            Tone::Info,
        );
        return;
    };
    if !may_edit(app) {
        return;
    }
    let Some(reviewer) = app.reviewer.clone() else {
        say(
            app,
            "no reviewer identity: run `veil reviewer init --name NAME` first",
            Tone::Bad,
        );
        return;
    };
    let now = app.clock.now();
    let Some(item) = app.item_mut() else { return };
    let on = if item.gates.attested.remove(gate.as_str()).is_some() {
        false
    } else {
        item.gates
            .attested
            .insert(gate.as_str().into(), Attestation { reviewer, at: now });
        true
    };
    say(
        app,
        format!(
            "{}: {}",
            gate.title(),
            if on {
                "attested"
            } else {
                "attestation withdrawn"
            }
        ),
        Tone::Info,
    );
    save(app, fx);
}

fn toggle_high_stakes(app: &mut App, fx: &mut Vec<Effect>) {
    if !may_edit(app) {
        return;
    }
    let Some(item) = app.item_mut() else { return };
    item.high_stakes = !item.high_stakes;
    let flagged = item.high_stakes;
    let by_policy = !flagged
        && app
            .item()
            .is_some_and(|i| crate::gates::is_high_stakes(i, &app.policy));
    let text = if flagged {
        "flagged high-stakes: a second, different reviewer must approve"
    } else if by_policy {
        "flag removed, but the policy still makes this item high-stakes"
    } else {
        "high-stakes flag removed"
    };
    say(app, text, Tone::Info);
    save(app, fx);
}

fn mark_ready(app: &mut App, fx: &mut Vec<Effect>) {
    if !may_touch(app) {
        return;
    }
    let Some(item) = app.item_mut() else { return };
    let now_ready = match item.state {
        ItemState::Pending => true,
        ItemState::Ready => false,
        s => {
            let text = format!("only pending items can be marked ready (this one is {s})");
            say(app, text, Tone::Bad);
            return;
        }
    };
    item.state = if now_ready {
        ItemState::Ready
    } else {
        ItemState::Pending
    };
    let unmet = app
        .gate_report()
        .map(|r| r.unmet_summary())
        .unwrap_or_default();
    let text = match (now_ready, unmet.is_empty()) {
        (true, true) => "marked ready for approve --batch".to_string(),
        (true, false) => format!("marked ready; approve --batch will still refuse: {unmet}"),
        (false, _) => "back to pending".to_string(),
    };
    say(app, text, Tone::Info);
    save(app, fx);
}

fn approve(app: &mut App, fx: &mut Vec<Effect>) {
    if !may_touch(app) {
        return;
    }
    let Some(item) = app.item() else { return };
    if !item.state.is_open() {
        let text = format!("this item is {}; it cannot be approved", item.state);
        say(app, text, Tone::Bad);
        return;
    }
    let item_id = item.id.clone();
    let Some(report) = app.gate_report() else {
        return;
    };
    if !report.may_approve() {
        app.overlay = Overlay::Message(Message {
            title: "Approval refused".into(),
            lines: refusal_lines(&report),
            tone: Tone::Bad,
        });
        return;
    }
    let attest = Gate::ATTESTED
        .into_iter()
        .filter(|g| {
            app.item()
                .is_some_and(|i| i.gates.attested.contains_key(g.as_str()))
        })
        .collect();
    say(app, "approving…", Tone::Info);
    fx.push(Effect::Approve { item_id, attest });
}

/// The unmet gates, one per line, with what to do about each.
pub fn refusal_lines(report: &crate::gates::GateReport) -> Vec<String> {
    let mut lines = vec!["These gates are not met yet:".to_string()];
    for s in report.unmet() {
        lines.push(format!("✗ {} — {}", s.gate.title(), s.detail));
    }
    lines
}

fn approval_message(item_id: &str, outcome: Result<Approval, String>) -> Message {
    match outcome {
        Ok(Approval::Released { output, seq }) => Message {
            title: "Released".into(),
            lines: vec![
                format!("Item {item_id} is approved and released as out/{output}"),
                format!("Signed ledger entry #{seq}."),
            ],
            tone: Tone::Good,
        },
        Ok(Approval::AwaitingSecond { seq }) => Message {
            title: "Approved: waiting for a second reviewer".into(),
            lines: vec![
                format!("Item {item_id} is high-stakes; your approval is ledger entry #{seq}."),
                "A different reviewer must approve it before it is released.".into(),
            ],
            tone: Tone::Good,
        },
        Ok(Approval::Refused { unmet }) => Message {
            title: "Approval refused".into(),
            lines: std::iter::once("These gates are not met yet:".to_string())
                .chain(unmet.split("; ").map(|s| format!("✗ {s}")))
                .collect(),
            tone: Tone::Bad,
        },
        Err(e) => Message {
            title: "Approval failed".into(),
            lines: vec![format!("Item {item_id}: {e}")],
            tone: Tone::Bad,
        },
    }
}

fn submit_reject(app: &mut App, fx: &mut Vec<Effect>) {
    let Overlay::RejectPrompt(text) = &app.overlay else {
        return;
    };
    let reason = text.trim().to_string();
    if reason.is_empty() {
        say(
            app,
            "type why it is rejected, then Enter (Esc cancels)",
            Tone::Bad,
        );
        return;
    }
    // The ledger keeps the reason for good: a name, a record number or a
    // date is asked about once before it is recorded.
    if let Some(why) = crate::reason::patient_detail(&reason)
        && app.reason_flag.as_ref().is_none_or(|(t, _)| *t != reason)
    {
        app.reason_flag = Some((reason, why));
        return;
    }
    let Some(item_id) = app.item().map(|i| i.id.clone()) else {
        return;
    };
    app.overlay = Overlay::None;
    app.reason_flag = None;
    say(app, "rejecting…", Tone::Info);
    fx.push(Effect::Reject { item_id, reason });
}
