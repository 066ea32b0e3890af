//! Moving through the queue: next and previous item, the state filter,
//! and an item replaced by a fresh copy from disk.

use super::*;
use crate::item::{Item, ItemState};
use crate::tui::app::{App, Overlay, Tone};

/// Open the next (or previous) item in the filtered queue.
pub(super) fn step_item(app: &mut App, delta: i64) {
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

/// Show the next state's items only, then all.
pub(super) fn cycle_filter(app: &mut App) {
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

/// Put a fresh copy of the open item (from disk) in the queue.
pub(super) fn replace_item(app: &mut App, item: Option<Box<Item>>) {
    if let Some(item) = item
        && let Some(slot) = app.items.iter_mut().find(|i| i.id == item.id)
    {
        *slot = *item;
    }
}

// ---------------------------------------------------------------- masks
