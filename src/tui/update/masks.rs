//! Editing masks: select, add, delete, move and resize by keyboard, change
//! kind, and undo/redo; every edit drops the evidence it invalidates.

use super::*;
use crate::item::{ItemState, MaskKind, MaskOrigin, Rect};
use crate::tui::app::{App, EditRun, Snapshot, Target, Tone, UNDO_DEPTH};

/// Select the next (or previous) mask.
pub(super) fn step_mask(app: &mut App, delta: i64) {
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
pub(super) fn editable_selection(app: &mut App, none_selected: &str) -> Option<u32> {
    if !may_edit(app) {
        return None;
    }
    if app.selected.is_none() {
        say(app, none_selected, Tone::Info);
    }
    app.selected
}

/// True when masks may change now; otherwise says why not.
pub(super) fn may_edit(app: &mut App) -> bool {
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
pub(super) fn checkpoint(app: &mut App) {
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

/// Drop what was seen of a mask that moved or changed.
pub(super) fn forget_coverage(app: &mut App, item_id: &str, mask_id: u32) {
    app.coverage
        .remove(&(item_id.to_string(), Target::Mask(mask_id)));
}

/// Add a mask at the centre of the view and select it.
pub(super) fn add_mask(app: &mut App, fx: &mut Vec<Effect>) {
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

/// Delete the selected mask.
pub(super) fn delete_mask(app: &mut App, fx: &mut Vec<Effect>) {
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
pub(super) fn step_px(app: &App, big: bool) -> i64 {
    let base = app
        .viewport()
        .map_or(1, |v| i64::from((v.rect.w.max(v.rect.h) / 100).max(1)));
    if big { base * 10 } else { base }
}

/// Move or resize the selected mask by one (or ten) steps.
pub(super) fn nudge(app: &mut App, dx: i8, dy: i8, big: bool, resize: bool, fx: &mut Vec<Effect>) {
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

/// Change the selected mask to the next kind.
pub(super) fn cycle_kind(app: &mut App, fx: &mut Vec<Effect>) {
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

/// Undo or redo the last mask edit.
pub(super) fn undo_redo(app: &mut App, undo: bool, fx: &mut Vec<Effect>) {
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
