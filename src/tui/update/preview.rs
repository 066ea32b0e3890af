//! The compressed/mobile preview: asked of the worker, and recorded as
//! seen only for the masks it was rendered from.

use super::*;
use crate::item::{OutputCheck, PreviewSeen};
use crate::tui::app::{App, Overlay, PreviewShown, PreviewState};

/// Ask the worker for the mobile preview of the current masks.
pub(super) fn request_preview(app: &mut App, fx: &mut Vec<Effect>) {
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

/// Show a finished preview and record it as seen for the masks it was made from.
pub(super) fn preview_ready(app: &mut App, shown: PreviewShown, fx: &mut Vec<Effect>) {
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
