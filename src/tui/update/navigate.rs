//! Where the reviewer looks: zoom, pan, centring on a mask, the edge
//! tour, the light table and flips. Changes the view only.

use super::*;
use crate::gates::zoom_label;
use crate::item::{Edge, Rect};
use crate::tui::app::{App, Target, Tone};
use crate::tui::geometry::{self, covered, edge_strip, fits_at, view_size_at};

/// Keep the view's centre inside the image.
pub(super) fn normalise_centre(app: &mut App) {
    if let Some(v) = app.viewport() {
        app.centre = v.centre();
    }
}

/// Zoom to `pct` percent of fit about the current centre.
pub(super) fn set_zoom(app: &mut App, pct: u32) {
    app.zoom_pct = pct.clamp(100, geometry::MAX_ZOOM_PCT);
    normalise_centre(app);
}

/// Move the view by a tenth of its size in each direction asked.
pub(super) fn pan(app: &mut App, dx: i8, dy: i8) {
    let Some(v) = app.viewport() else { return };
    app.centre.0 += f64::from(dx) * v.rect.w as f64 / 4.0;
    app.centre.1 += f64::from(dy) * v.rect.h as f64 / 4.0;
    normalise_centre(app);
}

/// Centre the view on `r` at `zoom_pct`.
pub(super) fn centre_on(app: &mut App, r: &Rect, zoom_pct: u32) {
    app.zoom_pct = zoom_pct;
    app.centre = (r.x as f64 + r.w as f64 / 2.0, r.y as f64 + r.h as f64 / 2.0);
    normalise_centre(app);
}

/// `z`: show the selected mask whole at exactly the minimum zoom. A mask too
/// large for the view at that zoom can never be whole on screen, so it is
/// verified in parts instead: each `z` shows the next part not yet seen at
/// the minimum zoom, and the mask counts as verified once every pixel of it
/// has been on screen at or above the minimum zoom.
pub(super) fn zoom_to_mask(app: &mut App) {
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
pub(super) fn edge_tour(app: &mut App) {
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

/// An edge in words.
pub(super) fn edge_name(e: Edge) -> &'static str {
    match e {
        Edge::Top => "top",
        Edge::Right => "right",
        Edge::Bottom => "bottom",
        Edge::Left => "left",
    }
}

/// Lighter pictures on or off. Half-blocks are text, already sent only
/// where cells change, so there is nothing to lighten.
pub(super) fn toggle_light(app: &mut App) {
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
pub(super) fn flip(app: &mut App, setting: fn(&mut App) -> &mut bool, on: &str, off: &str) {
    let now = setting(app);
    *now = !*now;
    let text = if *now { on } else { off };
    say(app, text, Tone::Info);
}
