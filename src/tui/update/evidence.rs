//! Measured evidence: after every view change, which masks and edges
//! were seen whole at the minimum zoom, recorded and sealed. The one place
//! "seen" is decided, so the gate measures what the reviewer saw.

use super::*;
use crate::item::{Edge, Rect, ZoomCheck};
use crate::tui::app::{App, Overlay, Seen, Target};
use crate::tui::geometry::{self, covered, edge_strip, fits_at};

/// Record the evidence of the picture on screen: only when it shows the
/// current view and nothing covers it.
pub(super) fn record_if_seen(app: &mut App, fx: &mut Vec<Effect>) {
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
pub(super) fn record_view(app: &mut App, v: &geometry::Viewport, fx: &mut Vec<Effect>) {
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
pub(super) fn add_seen(seen: &mut Vec<Seen>, rect: Rect, zoom_pct: u32) {
    if !seen
        .iter()
        .any(|s| s.rect.contains(&rect) && s.zoom_pct <= zoom_pct)
    {
        seen.push(Seen { rect, zoom_pct });
    }
}

// ---------------------------------------------------------------- preview
