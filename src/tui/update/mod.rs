//! `update`: the one place the review station's state changes. It returns
//! the side effects to run (save the item, approve, reject, render the
//! preview) instead of running them, so it can be tested without a
//! terminal, a workspace or threads.

mod decision;
mod evidence;
mod masks;
mod navigate;
mod preview;
mod queue;

use super::action::{Action, Focus, action_for};
use super::app::{
    App, ImageStatus, Message, Overlay, Picture, PreviewShown, PreviewState, ReadOnly, Status, Tone,
};
use super::geometry::{self};
use crate::gates::Gate;
use crate::item::{Item, ItemState};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use decision::*;
use evidence::*;
use masks::*;
use navigate::*;
use preview::*;
use queue::*;

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
    Refused { unmet: Vec<String> },
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
pub(crate) fn msg_for_key(app: &App, ev: &KeyEvent) -> Option<Msg> {
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
