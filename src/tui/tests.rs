//! `update`, action by action, on fixed states (see [`super::testing`]).

use super::action::{Action as A, Focus};
use super::app::{Overlay, PreviewState, Target, Tone};
use super::geometry::{self, view_size_at};
use super::testing::{NOW, REVIEWER, app, app_with, item, preview_ready, queue, show_frame};
use super::update::{Approval, Effect, Msg, msg_for_key, update};
use crate::gates::Gate;
use crate::item::{Edge, Item, ItemState, MaskKind, MaskOrigin, Rect, ZoomCheck};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn saved(fx: &[Effect]) -> Option<&Item> {
    fx.iter().rev().find_map(|e| match e {
        Effect::Save(i) => Some(&**i),
        _ => None,
    })
}

fn mask_rect(app: &super::app::App, id: u32) -> Rect {
    app.item()
        .and_then(|i| i.masks.iter().find(|m| m.id == id))
        .map(|m| m.rect)
        .unwrap_or(Rect::new(0, 0, 0, 0))
}

fn verified(app: &super::app::App, id: u32) -> Option<ZoomCheck> {
    app.item()
        .and_then(|i| i.masks.iter().find(|m| m.id == id))
        .and_then(|m| m.zoom_check.clone())
}

fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
    KeyEvent::new(code, mods)
}

// ------------------------------------------------------------ queue

#[test]
fn the_station_opens_on_the_first_pending_item_with_its_first_mask_selected() {
    let app = app();
    assert_eq!(app.item().map(|i| i.id.as_str()), Some("3f2a9c1e00000001"));
    assert_eq!(app.selected, Some(1));
    assert_eq!(app.zoom_pct, 100);
}

#[test]
fn n_and_p_walk_the_queue_and_stop_at_its_ends() {
    let mut app = app();
    update(&mut app, A::PrevItem);
    assert_eq!(app.position(), (1, 5));
    assert!(
        app.status
            .as_ref()
            .is_some_and(|s| s.text.contains("first"))
    );
    update(&mut app, A::NextItem);
    assert_eq!(app.position(), (2, 5));
    for _ in 0..10 {
        update(&mut app, A::NextItem);
    }
    assert_eq!(app.position(), (5, 5));
    assert!(app.status.as_ref().is_some_and(|s| s.text.contains("last")));
}

#[test]
fn an_item_is_resumed_at_the_zoom_it_was_left_at() {
    let mut app = app();
    update(&mut app, A::ZoomIn);
    update(&mut app, A::NextItem);
    assert_eq!(app.zoom_pct, 100);
    update(&mut app, A::PrevItem);
    assert_eq!(app.zoom_pct, 125);
}

#[test]
fn with_the_queue_focused_j_k_and_the_arrows_change_item_instead_of_moving_masks() {
    let mut app = app();
    let before = mask_rect(&app, 1);
    let msg = msg_for_key(&app, &key(KeyCode::Char('f'), KeyModifiers::NONE));
    update(&mut app, msg.unwrap_or(Msg::PromptBackspace));
    assert_eq!(app.focus, Focus::Queue);
    for (code, pos) in [
        (KeyCode::Char('j'), 2),
        (KeyCode::Down, 3),
        (KeyCode::Char('k'), 2),
        (KeyCode::Up, 1),
    ] {
        if let Some(m) = msg_for_key(&app, &key(code, KeyModifiers::NONE)) {
            update(&mut app, m);
        }
        assert_eq!(app.position().0, pos, "{code:?}");
    }
    assert_eq!(mask_rect(&app, 1), before);
    update(&mut app, A::Close);
    assert_eq!(app.focus, Focus::Image);
}

#[test]
fn slash_filters_the_queue_by_each_state_in_turn_then_shows_all() {
    let mut app = app();
    let mut seen = Vec::new();
    for _ in 0..ItemState::ALL.len() {
        update(&mut app, A::CycleFilter);
        seen.push(app.filter);
        assert!(
            app.visible()
                .iter()
                .all(|i| Some(app.items[*i].state) == app.filter)
        );
        if let Some(c) = app.current {
            assert!(app.visible().contains(&c));
        }
    }
    assert_eq!(seen, ItemState::ALL.map(Some).to_vec());
    update(&mut app, A::CycleFilter);
    assert_eq!(app.filter, None);
    assert_eq!(app.visible().len(), 5);
}

#[test]
fn filtering_to_a_state_with_no_items_leaves_nothing_on_screen() {
    let mut app = app();
    update(&mut app, A::CycleFilter); // pending
    update(&mut app, A::CycleFilter); // ready
    update(&mut app, A::CycleFilter); // awaiting_second: none
    assert_eq!(app.filter, Some(ItemState::AwaitingSecond));
    assert!(app.item().is_none());
    assert_eq!(app.position(), (0, 0));
    assert!(update(&mut app, A::AddMask).is_empty());
}

// ------------------------------------------------------------ masks

#[test]
fn tab_and_shift_tab_cycle_through_the_masks() {
    let mut app = app();
    update(&mut app, A::NextMask);
    assert_eq!(app.selected, Some(2));
    update(&mut app, A::NextMask);
    update(&mut app, A::NextMask);
    assert_eq!(app.selected, Some(1));
    update(&mut app, A::PrevMask);
    assert_eq!(app.selected, Some(3));
}

#[test]
fn a_adds_a_selected_identifier_mask_at_the_centre_of_the_view_and_saves() {
    let mut app = app();
    let fx = update(&mut app, A::AddMask);
    let item = saved(&fx).expect("saved");
    let m = item.masks.last().expect("a mask");
    assert_eq!(
        (m.id, m.kind, &m.origin),
        (4, MaskKind::Identifier, &MaskOrigin::Manual)
    );
    assert_eq!(app.selected, Some(4));
    let v = app.viewport().expect("viewport");
    let (cx, cy) = v.centre();
    let (mx, my) = (
        m.rect.x as f64 + m.rect.w as f64 / 2.0,
        m.rect.y as f64 + m.rect.h as f64 / 2.0,
    );
    assert!((cx - mx).abs() <= 1.0 && (cy - my).abs() <= 1.0);
}

#[test]
fn x_deletes_the_selected_mask_and_selects_the_next_and_u_brings_it_back() {
    let mut app = app();
    let fx = update(&mut app, A::DeleteMask);
    assert_eq!(saved(&fx).map(|i| i.masks.len()), Some(2));
    assert_eq!(app.selected, Some(2));
    let fx = update(&mut app, A::Undo);
    assert_eq!(saved(&fx).map(|i| i.masks.len()), Some(3));
    assert_eq!(app.selected, Some(1));
    // Ids are never reused after a deletion.
    update(&mut app, A::DeleteMask);
    update(&mut app, A::AddMask);
    assert_eq!(app.selected, Some(4));
}

#[test]
fn moving_a_mask_steps_one_percent_of_the_view_clears_its_verification_and_saves() {
    let mut app = app();
    update(&mut app, A::ZoomToMask);
    show_frame(&mut app);
    assert!(verified(&app, 1).is_some());
    let step = (app.viewport().map_or(0, |v| v.rect.w.max(v.rect.h)) / 100).max(1);
    let before = mask_rect(&app, 1);
    let fx = update(
        &mut app,
        A::Move {
            dx: 1,
            dy: 0,
            big: false,
        },
    );
    assert_eq!(mask_rect(&app, 1).x, before.x + step);
    assert!(verified(&app, 1).is_none());
    assert!(saved(&fx).is_some_and(|i| i.masks[0].zoom_check.is_none()));
    update(
        &mut app,
        A::Move {
            dx: 0,
            dy: 1,
            big: true,
        },
    );
    assert_eq!(mask_rect(&app, 1).y, before.y + 10 * step);
}

/// The key event for `c` typed with no modifiers.
fn typed(c: char) -> KeyEvent {
    key(KeyCode::Char(c), KeyModifiers::NONE)
}

/// Press one key as the event loop would.
fn press(app: &mut super::app::App, ev: KeyEvent) -> Vec<Effect> {
    match msg_for_key(app, &ev) {
        Some(m) => update(app, m),
        None => Vec::new(),
    }
}

#[test]
fn ten_steps_work_without_alt_by_s_and_by_an_eight_bit_meta_key() {
    let mut app = app();
    let step = (app.viewport().map_or(0, |v| v.rect.w.max(v.rect.h)) / 100).max(1);
    let x0 = mask_rect(&app, 1).x;
    // A stock xterm sends Alt-l as 'ì' (l with the high bit set).
    press(&mut app, typed('\u{ec}'));
    assert_eq!(mask_rect(&app, 1).x, x0 + 10 * step);
    // s: every move is ten steps until s again; the status bar says so.
    press(&mut app, typed('s'));
    assert!(app.ten_step);
    press(&mut app, typed('l'));
    assert_eq!(mask_rect(&app, 1).x, x0 + 20 * step);
    press(&mut app, typed('s'));
    press(&mut app, typed('l'));
    assert_eq!(mask_rect(&app, 1).x, x0 + 21 * step);
}

#[test]
fn refusals_and_undo_say_what_they_mean() {
    let mut app = app();
    let status = |app: &super::app::App| app.status.as_ref().map(|s| s.text.clone());
    update(
        &mut app,
        A::Move {
            dx: 1,
            dy: 0,
            big: false,
        },
    );
    update(&mut app, A::Undo);
    assert_eq!(status(&app).as_deref(), Some("undone: mask #1 as before"));
    update(&mut app, A::AddMask);
    update(&mut app, A::Undo);
    assert_eq!(status(&app).as_deref(), Some("undone: mask #4 removed"));
    // The approved item: attesting is refused in words about the item.
    update(&mut app, A::NextItem);
    update(&mut app, A::NextItem);
    assert_eq!(app.item().map(|i| i.state), Some(ItemState::Approved));
    update(&mut app, A::ToggleAttest(0));
    assert!(
        status(&app).is_some_and(|s| s.contains("approved and released") && !s.contains("masks")),
        "{:?}",
        status(&app)
    );
}

#[test]
fn a_key_that_does_nothing_says_so_and_why() {
    let mut app = app();
    let status = |app: &super::app::App| app.status.as_ref().map(|s| s.text.clone());
    assert!(press(&mut app, typed('y')).is_empty());
    assert_eq!(
        status(&app).as_deref(),
        Some("y does nothing here (? lists the keys)")
    );
    press(&mut app, key(KeyCode::Char('w'), KeyModifiers::ALT));
    assert!(status(&app).is_some_and(|s| s.contains("press s")));
    // A key bound for the other focus names it.
    press(&mut app, typed('f'));
    press(&mut app, typed('h'));
    assert_eq!(
        status(&app).as_deref(),
        Some("h works with the image focused (f switches)")
    );
    // Over an overlay: close it first.
    press(&mut app, typed('?'));
    press(&mut app, typed('x'));
    assert_eq!(status(&app).as_deref(), Some("Esc closes this first"));
}

#[test]
fn a_mask_cannot_be_moved_off_the_image() {
    let mut app = app();
    for _ in 0..50 {
        update(
            &mut app,
            A::Move {
                dx: -1,
                dy: -1,
                big: true,
            },
        );
    }
    let r = mask_rect(&app, 1);
    assert_eq!((r.x, r.y), (0, 0));
    for _ in 0..50 {
        update(
            &mut app,
            A::Move {
                dx: 1,
                dy: 1,
                big: true,
            },
        );
    }
    let r = mask_rect(&app, 1);
    assert_eq!((r.right(), r.bottom()), (800, 600));
}

#[test]
fn resizing_moves_the_right_and_bottom_edges_and_clears_verification() {
    let mut app = app();
    update(&mut app, A::ZoomToMask);
    show_frame(&mut app);
    let before = mask_rect(&app, 1);
    update(
        &mut app,
        A::Grow {
            dw: 1,
            dh: 0,
            big: false,
        },
    );
    update(
        &mut app,
        A::Grow {
            dw: 0,
            dh: -1,
            big: true,
        },
    );
    let after = mask_rect(&app, 1);
    assert_eq!((after.x, after.y), (before.x, before.y));
    assert!(after.w > before.w && after.h < before.h);
    assert!(verified(&app, 1).is_none());
    for _ in 0..100 {
        update(
            &mut app,
            A::Grow {
                dw: -1,
                dh: -1,
                big: true,
            },
        );
    }
    assert_eq!((mask_rect(&app, 1).w, mask_rect(&app, 1).h), (4, 4));
}

#[test]
fn t_cycles_the_kind_keeps_the_zoom_check_and_reopens_the_preview_gate() {
    let mut app = app();
    update(&mut app, A::ZoomToMask);
    show_frame(&mut app);
    update(&mut app, A::MobilePreview);
    let msg = preview_ready(&app);
    update(&mut app, msg);
    let met = |app: &super::app::App, g| {
        app.gate_report()
            .and_then(|r| r.status(g).map(|s| s.met))
            .unwrap_or(false)
    };
    assert!(met(&app, Gate::Preview) && met(&app, Gate::Metadata));
    update(&mut app, A::Close);
    update(&mut app, A::CycleKind);
    assert_eq!(
        app.selected_mask().map(|m| m.kind),
        Some(MaskKind::Identifier)
    );
    assert!(verified(&app, 1).is_some());
    assert!(!met(&app, Gate::Preview) && !met(&app, Gate::Metadata));
}

#[test]
fn holding_a_move_key_is_one_undo_step_and_redo_replays_it() {
    let mut app = app();
    let start = mask_rect(&app, 1);
    for _ in 0..5 {
        update(
            &mut app,
            A::Move {
                dx: 1,
                dy: 0,
                big: false,
            },
        );
    }
    let moved = mask_rect(&app, 1);
    update(
        &mut app,
        A::Grow {
            dw: 1,
            dh: 0,
            big: false,
        },
    );
    update(&mut app, A::Undo);
    assert_eq!(mask_rect(&app, 1), moved);
    update(&mut app, A::Undo);
    assert_eq!(mask_rect(&app, 1), start);
    let fx = update(&mut app, A::Undo);
    assert!(fx.is_empty());
    assert!(
        app.status
            .as_ref()
            .is_some_and(|s| s.text == "nothing to undo")
    );
    update(&mut app, A::Redo);
    assert_eq!(mask_rect(&app, 1), moved);
    // Ctrl-r is redo.
    let m = msg_for_key(&app, &key(KeyCode::Char('r'), KeyModifiers::CONTROL));
    assert!(matches!(m, Some(Msg::Action(A::Redo))));
}

#[test]
fn undo_does_not_bring_back_a_verification_for_a_mask_that_moved() {
    let mut app = app();
    update(&mut app, A::ZoomToMask);
    show_frame(&mut app);
    assert!(verified(&app, 1).is_some());
    update(
        &mut app,
        A::Move {
            dx: 1,
            dy: 0,
            big: false,
        },
    );
    // Looked at from afar now, so nothing on screen re-verifies it.
    update(&mut app, A::ZoomFit);
    update(&mut app, A::Undo);
    assert_eq!(mask_rect(&app, 1), Rect::new(120, 100, 120, 150));
    assert!(verified(&app, 1).is_none(), "must be looked at again");
    // Undoing an edit of another mask keeps this one's verification.
    update(&mut app, A::ZoomToMask);
    show_frame(&mut app);
    update(&mut app, A::NextMask);
    update(&mut app, A::CycleKind);
    update(&mut app, A::Undo);
    assert!(verified(&app, 1).is_some());
}

#[test]
fn decided_items_cannot_be_edited() {
    let mut app = app();
    for _ in 0..2 {
        update(&mut app, A::NextItem);
    }
    assert_eq!(app.item().map(|i| i.state), Some(ItemState::Approved));
    for a in [
        A::AddMask,
        A::DeleteMask,
        A::CycleKind,
        A::Move {
            dx: 1,
            dy: 0,
            big: false,
        },
        A::Undo,
        A::ToggleAttest(0),
        A::ToggleHighStakes,
        A::MarkReady,
        A::Approve,
        A::Reject,
    ] {
        let fx = update(&mut app, a);
        assert!(fx.is_empty(), "{a:?}");
        assert_eq!(app.overlay, Overlay::None, "{a:?}");
    }
}

// ------------------------------------------------------------ zoom and verification

#[test]
fn zoom_steps_in_and_out_and_zero_fits() {
    let mut app = app();
    update(&mut app, A::ZoomIn);
    update(&mut app, A::ZoomIn);
    assert_eq!(app.zoom_pct, 150);
    update(&mut app, A::ZoomOut);
    assert_eq!(app.zoom_pct, 125);
    update(&mut app, A::ZoomFit);
    assert_eq!(app.zoom_pct, 100);
    assert_eq!(
        app.viewport().map(|v| v.rect),
        Some(Rect::new(0, 0, 800, 600))
    );
    update(&mut app, A::ZoomOut);
    assert_eq!(app.zoom_pct, 100);
}

#[test]
fn ctrl_arrows_pan_a_quarter_view_and_stop_at_the_image_edge() {
    let mut app = app();
    update(&mut app, A::ZoomIn);
    update(&mut app, A::ZoomIn);
    update(&mut app, A::ZoomIn);
    let v0 = app.viewport().expect("view");
    update(&mut app, A::Pan { dx: 1, dy: 0 });
    let v1 = app.viewport().expect("view");
    assert_eq!(v1.rect.x, (v0.rect.x + v0.rect.w / 4).min(800 - v0.rect.w));
    for _ in 0..20 {
        update(&mut app, A::Pan { dx: 1, dy: 1 });
    }
    let v = app.viewport().expect("view");
    assert_eq!((v.rect.right(), v.rect.bottom()), (800, 600));
}

#[test]
fn z_shows_the_selected_mask_whole_at_exactly_the_minimum_zoom() {
    let mut app = app();
    update(&mut app, A::NextMask);
    update(&mut app, A::ZoomToMask);
    assert_eq!(app.zoom_pct, app.policy.min_zoom_pct());
    let v = app.viewport().expect("view");
    assert!(v.rect.contains(&mask_rect(&app, 2)));
}

#[test]
fn a_mask_is_verified_when_a_frame_shows_it_whole_at_the_minimum_zoom() {
    let mut app = app();
    update(&mut app, A::ZoomToMask);
    assert!(verified(&app, 1).is_none(), "nothing is on screen yet");
    let fx = show_frame(&mut app);
    let check = verified(&app, 1).expect("verified");
    assert_eq!(check.zoom_pct, 200);
    assert_eq!(check.at, NOW);
    assert_eq!(check.reviewer.as_deref(), Some(REVIEWER));
    assert!(saved(&fx).is_some_and(|i| i.masks[0].zoom_check.is_some()));
}

#[test]
fn a_frame_below_the_minimum_zoom_or_of_an_older_view_proves_nothing() {
    let mut app = app();
    update(&mut app, A::ZoomIn); // 125%: the whole mask is in view, but too small
    assert!(show_frame(&mut app).is_empty());
    assert!(verified(&app, 1).is_none());
    update(&mut app, A::ZoomToMask);
    let mut stale = app.clone();
    show_frame(&mut stale);
    let picture = stale.frame.take();
    // The 2x picture arrives after the operator already zoomed out.
    update(&mut app, A::ZoomFit);
    if let Some(p) = picture {
        update(&mut app, Msg::FrameReady(Box::new(p)));
    }
    assert!(verified(&app, 1).is_none());
}

#[test]
fn a_frame_hidden_under_an_overlay_counts_only_once_the_overlay_closes() {
    let mut app = app();
    update(&mut app, A::ZoomToMask);
    update(&mut app, A::Help);
    show_frame(&mut app);
    assert!(verified(&app, 1).is_none(), "help covers the picture");
    let fx = update(&mut app, A::Close);
    assert!(verified(&app, 1).is_some());
    assert!(saved(&fx).is_some());
}

#[test]
fn a_mask_partly_outside_the_view_is_not_verified() {
    let mut app = app();
    update(&mut app, A::ZoomToMask);
    update(&mut app, A::Pan { dx: -1, dy: 0 });
    update(&mut app, A::Pan { dx: -1, dy: 0 });
    let v = app.viewport().expect("view");
    let r = mask_rect(&app, 1);
    if !v.rect.contains(&r) {
        show_frame(&mut app);
        assert!(verified(&app, 1).is_none());
    }
}

#[test]
fn a_mask_too_large_for_the_view_at_minimum_zoom_is_verified_part_by_part() {
    let mut items = queue();
    items[0].masks.clear();
    let id = items[0].add_mask(
        MaskKind::Other,
        Rect::new(50, 40, 700, 520),
        MaskOrigin::Manual,
    );
    let mut app = app_with(items);
    let image = (800, 600);
    let (vw, vh) = view_size_at(image, app.pane_pixels(), 200);
    assert!(vw < 700 || vh < 520, "the mask must not fit");
    let parts = geometry::tiles(&Rect::new(50, 40, 700, 520), (vw, vh)).len();
    for i in 0..parts {
        assert!(verified(&app, id).is_none(), "verified after {i} parts");
        update(&mut app, A::ZoomToMask);
        assert_eq!(app.zoom_pct, 200);
        let text = app
            .status
            .as_ref()
            .map(|s| s.text.clone())
            .unwrap_or_default();
        assert!(
            text.contains(&format!("part {} of {parts}", i + 1)),
            "{text}"
        );
        show_frame(&mut app);
    }
    let check = verified(&app, id).expect("verified once every part was seen");
    assert_eq!(check.zoom_pct, 200);
    // Moving it throws the partial views away.
    update(
        &mut app,
        A::Move {
            dx: 1,
            dy: 0,
            big: false,
        },
    );
    assert!(
        !app.coverage
            .contains_key(&(items_id(&app), Target::Mask(id)))
    );
}

fn items_id(app: &super::app::App) -> String {
    app.item().map(|i| i.id.clone()).unwrap_or_default()
}

#[test]
fn e_tours_the_edge_strips_and_each_is_recorded_once_fully_seen_at_minimum_zoom() {
    let mut app = app();
    for _ in 0..40 {
        if app.item().is_some_and(|i| i.gates.edges_seen.len() == 4) {
            break;
        }
        update(&mut app, A::EdgeTour);
        assert_eq!(app.zoom_pct, 200);
        show_frame(&mut app);
    }
    let item = app.item().expect("item");
    assert_eq!(
        item.gates.edges_seen.keys().copied().collect::<Vec<_>>(),
        Edge::ALL.to_vec()
    );
    assert!(
        item.gates
            .edges_seen
            .values()
            .all(|z| z.zoom_pct == 200 && z.at == NOW)
    );
    update(&mut app, A::EdgeTour);
    assert!(
        app.status
            .as_ref()
            .is_some_and(|s| s.text.contains("all four edges"))
    );
}

// ------------------------------------------------------------ preview

#[test]
fn m_renders_the_real_output_and_records_the_preview_and_the_output_check() {
    let mut app = app();
    let fx = update(&mut app, A::MobilePreview);
    assert_eq!(app.overlay, Overlay::Preview);
    assert!(
        matches!(&fx[..], [Effect::RenderPreview { item, .. }] if item.id == "3f2a9c1e00000001")
    );
    assert!(matches!(app.preview, Some(PreviewState::Rendering { .. })));
    let msg = preview_ready(&app);
    let fx = update(&mut app, msg);
    let item = saved(&fx).expect("saved");
    let digest = item.masks_digest();
    assert_eq!(
        item.gates
            .preview_seen
            .as_ref()
            .map(|p| (&p.masks_digest, p.at.as_str())),
        Some((&digest, NOW))
    );
    assert_eq!(
        item.gates.output_check.as_ref().map(|c| &c.masks_digest),
        Some(&digest)
    );
    // m again closes it.
    let m = msg_for_key(&app, &key(KeyCode::Char('m'), KeyModifiers::NONE));
    assert!(matches!(m, Some(Msg::Action(A::Close))));
}

#[test]
fn a_preview_of_masks_that_have_since_changed_is_not_recorded() {
    let mut app = app();
    update(&mut app, A::MobilePreview);
    let msg = preview_ready(&app);
    update(&mut app, A::Close);
    update(
        &mut app,
        A::Move {
            dx: 1,
            dy: 0,
            big: false,
        },
    );
    let fx = update(&mut app, msg);
    assert!(saved(&fx).is_none());
    assert!(app.item().is_some_and(|i| i.gates.preview_seen.is_none()));
}

#[test]
fn a_failed_render_is_shown_and_records_nothing() {
    let mut app = app();
    update(&mut app, A::MobilePreview);
    let fx = update(
        &mut app,
        Msg::PreviewFailed {
            item_id: "3f2a9c1e00000001".into(),
            error: "boom".into(),
        },
    );
    assert!(fx.is_empty());
    assert!(matches!(app.preview, Some(PreviewState::Failed { .. })));
}

// ------------------------------------------------------------ checklist and decision

#[test]
fn number_keys_toggle_the_attested_gates_in_order_as_the_reviewer() {
    let mut app = app();
    for (i, gate) in Gate::ATTESTED.iter().enumerate() {
        let fx = update(&mut app, A::ToggleAttest(i as u8));
        let a = saved(&fx).and_then(|it| it.gates.attested.get(gate).cloned());
        assert_eq!(
            a.map(|a| (a.reviewer, a.at)),
            Some((REVIEWER.to_string(), NOW.to_string()))
        );
    }
    let fx = update(&mut app, A::ToggleAttest(0));
    assert!(saved(&fx).is_some_and(|i| !i.gates.attested.contains_key(&Gate::Reflections)));
    assert!(update(&mut app, A::ToggleAttest(5)).is_empty());
}

#[test]
fn without_a_reviewer_identity_nothing_can_be_attested() {
    let mut app = app();
    app.reviewer = None;
    assert!(update(&mut app, A::ToggleAttest(0)).is_empty());
    assert!(
        app.status
            .as_ref()
            .is_some_and(|s| s.text.contains("veil reviewer init"))
    );
}

#[test]
fn bang_flags_and_unflags_high_stakes() {
    let mut app = app();
    let fx = update(&mut app, A::ToggleHighStakes);
    assert!(saved(&fx).is_some_and(|i| i.high_stakes));
    let fx = update(&mut app, A::ToggleHighStakes);
    assert!(saved(&fx).is_some_and(|i| !i.high_stakes));
    // A tattoo keeps it high-stakes by policy.
    for _ in 0..4 {
        update(&mut app, A::NextItem);
    }
    update(&mut app, A::ToggleHighStakes);
    update(&mut app, A::ToggleHighStakes);
    assert!(
        app.status
            .as_ref()
            .is_some_and(|s| s.text.contains("policy"))
    );
}

#[test]
fn r_marks_ready_and_back_and_says_what_batch_approval_will_refuse() {
    let mut app = app();
    let fx = update(&mut app, A::MarkReady);
    assert_eq!(saved(&fx).map(|i| i.state), Some(ItemState::Ready));
    assert!(
        app.status
            .as_ref()
            .is_some_and(|s| s.text.contains("will still refuse"))
    );
    let fx = update(&mut app, A::MarkReady);
    assert_eq!(saved(&fx).map(|i| i.state), Some(ItemState::Pending));
}

#[test]
fn approving_with_unmet_gates_is_refused_on_screen_naming_each_gate() {
    let mut app = app();
    let fx = update(&mut app, A::Approve);
    assert!(fx.is_empty());
    let Overlay::Message(m) = &app.overlay else {
        panic!("no refusal shown");
    };
    assert_eq!(m.title, "Approval refused");
    assert_eq!(m.tone, Tone::Bad);
    let text = m.lines.join("\n");
    for g in Gate::ALL.into_iter().filter(|g| *g != Gate::SecondReviewer) {
        assert!(text.contains(g.title()), "{g} missing from {text}");
    }
    update(&mut app, A::Close);
    assert_eq!(app.overlay, Overlay::None);
}

/// Verify every mask, see the preview, attest: what a reviewer does.
fn complete_review(app: &mut super::app::App) {
    let n = app.item().map_or(0, |i| i.masks.len());
    for _ in 0..n {
        update(app, A::ZoomToMask);
        show_frame(app);
        update(app, A::NextMask);
    }
    update(app, A::MobilePreview);
    let msg = preview_ready(app);
    update(app, msg);
    update(app, A::Close);
    for i in 0..Gate::ATTESTED.len() {
        update(app, A::ToggleAttest(i as u8));
    }
}

#[test]
fn approving_with_every_gate_met_asks_the_ledger_and_shows_the_outcome() {
    let mut app = app();
    complete_review(&mut app);
    assert!(
        app.gate_report().is_some_and(|r| r.may_release()),
        "{:?}",
        app.gate_report().map(|r| r.unmet_summary())
    );
    let fx = update(&mut app, A::Approve);
    assert_eq!(
        fx,
        vec![Effect::Approve {
            item_id: "3f2a9c1e00000001".into(),
            attest: Gate::ATTESTED.to_vec(),
        }]
    );
    let mut after = app.item().cloned().expect("item");
    after.state = ItemState::Approved;
    update(
        &mut app,
        Msg::Approved {
            item_id: after.id.clone(),
            outcome: Ok(Approval::Released {
                output: "Case_3FQ7K2ZD.jpg".into(),
                seq: 7,
            }),
            item: Some(Box::new(after)),
        },
    );
    assert_eq!(app.item().map(|i| i.state), Some(ItemState::Approved));
    let Overlay::Message(m) = &app.overlay else {
        panic!("no outcome shown");
    };
    assert!(m.lines.join(" ").contains("out/Case_3FQ7K2ZD.jpg"));
}

#[test]
fn a_refusal_from_the_ledger_is_shown_like_a_local_one() {
    let mut app = app();
    update(
        &mut app,
        Msg::Approved {
            item_id: "3f2a9c1e00000001".into(),
            outcome: Ok(Approval::Refused {
                unmet: vec![
                    "zoom (mask #2 not seen at 2.0x (press z))".into(),
                    "edges (not attested; 0/4 edges viewed at zoom)".into(),
                ],
            }),
            item: None,
        },
    );
    let Overlay::Message(m) = &app.overlay else {
        panic!("no refusal shown");
    };
    // One line per gate: the edges gate's own "; " does not cut it in two.
    assert_eq!(
        m.lines,
        [
            "These gates are not met yet:",
            "✗ zoom (mask #2 not seen at 2.0x (press z))",
            "✗ edges (not attested; 0/4 edges viewed at zoom)",
        ]
    );
}

#[test]
fn shift_r_asks_for_a_reason_and_rejects_with_it() {
    let mut app = app();
    update(&mut app, A::Reject);
    assert_eq!(app.overlay, Overlay::RejectPrompt(String::new()));
    // Letters go to the prompt, not to the key table.
    for c in "blurry x".chars() {
        let m = msg_for_key(&app, &key(KeyCode::Char(c), KeyModifiers::NONE));
        update(&mut app, m.unwrap_or(Msg::PromptBackspace));
    }
    update(&mut app, Msg::PromptBackspace);
    update(&mut app, Msg::PromptBackspace);
    assert_eq!(app.overlay, Overlay::RejectPrompt("blurry".into()));
    let fx = update(&mut app, Msg::PromptSubmit);
    assert_eq!(
        fx,
        vec![Effect::Reject {
            item_id: "3f2a9c1e00000001".into(),
            reason: "blurry".into()
        }]
    );
    assert_eq!(app.overlay, Overlay::None);
}

#[test]
fn a_reason_that_looks_like_a_patient_detail_is_asked_about_once() {
    let mut app = app();
    update(&mut app, A::Reject);
    for c in "duplicate of Jane Doe".chars() {
        update(&mut app, Msg::PromptChar(c));
    }
    // First Enter: not recorded; the dialog says what it saw.
    assert!(update(&mut app, Msg::PromptSubmit).is_empty());
    assert!(matches!(app.overlay, Overlay::RejectPrompt(_)));
    assert_eq!(
        app.reason_flag,
        Some(("duplicate of Jane Doe".into(), "a name (Jane Doe)".into()))
    );
    // Edited into something else that also looks identifying: asked again.
    for _ in 0.."Jane Doe".len() {
        update(&mut app, Msg::PromptBackspace);
    }
    for c in "12345678".chars() {
        update(&mut app, Msg::PromptChar(c));
    }
    assert!(update(&mut app, Msg::PromptSubmit).is_empty());
    // Enter again on the same text: recorded exactly as typed.
    let fx = update(&mut app, Msg::PromptSubmit);
    assert_eq!(
        fx,
        vec![Effect::Reject {
            item_id: "3f2a9c1e00000001".into(),
            reason: "duplicate of 12345678".into()
        }]
    );
    assert_eq!(app.reason_flag, None);
    // A new prompt starts clean.
    update(&mut app, A::NextItem);
    update(&mut app, A::Reject);
    assert_eq!(app.reason_flag, None);
}

#[test]
fn an_empty_reason_is_refused_and_esc_cancels() {
    let mut app = app();
    update(&mut app, A::Reject);
    update(&mut app, Msg::PromptChar(' '));
    assert!(update(&mut app, Msg::PromptSubmit).is_empty());
    assert!(matches!(app.overlay, Overlay::RejectPrompt(_)));
    let m = msg_for_key(&app, &key(KeyCode::Esc, KeyModifiers::NONE));
    update(&mut app, m.unwrap_or(Msg::PromptSubmit));
    assert_eq!(app.overlay, Overlay::None);
}

// ------------------------------------------------------------ general

#[test]
fn question_mark_toggles_help_and_esc_closes_it() {
    let mut app = app();
    update(&mut app, A::Help);
    assert_eq!(app.overlay, Overlay::Help);
    // Editing keys do nothing while help is open (they only say so).
    assert!(matches!(
        msg_for_key(&app, &key(KeyCode::Char('x'), KeyModifiers::NONE)),
        Some(Msg::Ignored(_))
    ));
    update(&mut app, A::Help);
    assert_eq!(app.overlay, Overlay::None);
    update(&mut app, A::Help);
    update(&mut app, A::Close);
    assert_eq!(app.overlay, Overlay::None);
}

#[test]
fn q_quits_and_ctrl_c_quits_even_while_typing_a_reason() {
    let mut app = app();
    update(&mut app, A::Quit);
    assert!(app.quit);
    let mut app = super::testing::app();
    update(&mut app, A::Reject);
    let q = msg_for_key(&app, &key(KeyCode::Char('q'), KeyModifiers::NONE));
    assert!(matches!(q, Some(Msg::PromptChar('q'))));
    let c = msg_for_key(&app, &key(KeyCode::Char('c'), KeyModifiers::CONTROL));
    update(&mut app, c.unwrap_or(Msg::PromptSubmit));
    assert!(app.quit);
}

#[test]
fn a_failed_save_is_shown_and_says_the_change_is_not_on_disk() {
    let mut app = app();
    update(
        &mut app,
        Msg::SaveFailed {
            item_id: "3f2a9c1e00000001".into(),
            error: "No space left on device".into(),
        },
    );
    let Overlay::Message(m) = &app.overlay else {
        panic!("not shown");
    };
    assert!(m.lines.join(" ").contains("NOT on disk"));
}

#[test]
fn a_failed_item_has_no_image_and_no_view() {
    let mut app = app_with(vec![{
        let mut i = item("dead000000000000", 0, 0);
        i.state = ItemState::Failed;
        i
    }]);
    assert!(app.viewport().is_none());
    assert!(app.frame_request().is_none());
    assert!(update(&mut app, A::MobilePreview).is_empty());
    assert_eq!(app.overlay, Overlay::None);
}

// ------------------------------------------------------------ slow links

/// Two real photographs, as the station would show them.
fn two_photos() -> [image::RgbImage; 2] {
    let open = |name: &str| {
        let path = format!("{}/tests/faces/{name}", env!("CARGO_MANIFEST_DIR"));
        image::open(&path).expect("sample photo").to_rgb8()
    };
    [open("astronaut.jpg"), open("chelsea.jpg")]
}

fn graphics(protocol: ratatui_image::picker::ProtocolType) -> super::image::Graphics {
    super::image::Graphics {
        protocol,
        kitty_direct: protocol == ratatui_image::picker::ProtocolType::Kitty,
        ..super::image::Graphics::sixel((10, 20))
    }
}

/// The bytes of the action whose name starts with `name`.
fn action(got: &[super::testing::ActionBytes], name: &str) -> super::testing::ActionBytes {
    got.iter()
        .find(|a| a.action.starts_with(name))
        .unwrap_or_else(|| panic!("{name} in {got:?}"))
        .clone()
}

#[test]
fn on_sixel_a_nudge_sends_a_small_part_of_a_frame_and_an_overlay_closing_only_what_it_covered() {
    let sixel = graphics(ratatui_image::picker::ProtocolType::Sixel);
    let got = super::testing::pane_bytes_per_action(two_photos(), (200, 60), sixel)
        .expect("station driven");
    let by = |name: &str| action(&got, name);
    let full = by("first picture");
    assert_eq!(full.cells, full.of, "the first picture is sent whole");
    assert!(full.bytes > 50_000, "{full:?}");
    for nudge in [by("mask nudge"), by("ten nudges")] {
        assert!(nudge.bytes > 0, "the move is sent: {nudge:?}");
        assert!(
            nudge.bytes * 100 <= full.bytes * 15,
            "{nudge:?} against {full:?}"
        );
    }
    let opened = by("help opened");
    assert_eq!(opened.bytes, 0, "nothing is drawn over the overlay");
    assert_eq!(by("reject dialog opened").bytes, 0);
    let closed = by("reject dialog closed");
    assert!(
        closed.cells > 0 && closed.cells * 2 < closed.of,
        "{closed:?}"
    );
    assert!(closed.bytes < full.bytes, "{closed:?}");
    // A new view, and a new photograph, are whole pictures.
    assert_eq!(by("zoom in").cells, by("zoom in").of);
    assert_eq!(by("next item").cells, by("next item").of);
    let light = by("lighter pictures");
    assert!(light.of * 4 <= full.of + 2 * 60 + 2 * 200, "{light:?}");
}

#[test]
fn g_halves_the_picture_for_a_slow_link_and_says_so_but_not_on_half_blocks() {
    let mut app = app();
    let whole = app.image_cells();
    press(&mut app, key(KeyCode::Char('g'), KeyModifiers::NONE));
    assert_eq!(app.image_cells(), whole, "half-blocks are whole");
    assert!(!app.light);
    assert!(
        app.status
            .as_ref()
            .is_some_and(|s| s.text.contains("already light"))
    );
    app.graphics.protocol = ratatui_image::picker::ProtocolType::Sixel;
    let whole = app.image_cells();
    press(&mut app, key(KeyCode::Char('g'), KeyModifiers::NONE));
    assert!(app.light);
    assert_eq!(
        app.image_cells(),
        (whole.0.div_ceil(2), whole.1.div_ceil(2))
    );
    assert!(app.image_limited().is_none(), "not the terminal's limit");
    press(&mut app, key(KeyCode::Char('g'), KeyModifiers::NONE));
    assert_eq!(app.image_cells(), whole);
}

#[test]
fn on_kitty_a_nudge_edits_the_placed_picture_and_an_overlay_closing_sends_no_pixels() {
    let kitty = graphics(ratatui_image::picker::ProtocolType::Kitty);
    let got = super::testing::pane_bytes_per_action(two_photos(), (200, 60), kitty)
        .expect("station driven");
    let by = |name: &str| action(&got, name);
    let full = by("first picture");
    assert_eq!(full.cells, full.of);
    for nudge in [by("mask nudge"), by("ten nudges")] {
        assert!(nudge.cells > 0 && nudge.cells * 10 < nudge.of, "{nudge:?}");
        assert!(
            nudge.bytes * 100 <= full.bytes * 15,
            "{nudge:?} against {full:?}"
        );
    }
    // An overlay takes the picture off and puts it back: no pixels sent.
    for step in [
        "help opened",
        "help closed",
        "reject dialog opened",
        "reject dialog closed",
    ] {
        let a = by(step);
        assert_eq!(a.cells, 0, "{a:?}");
        assert!(a.bytes > 0 && a.bytes < 2_000, "{a:?}");
    }
    assert_eq!(by("next item").cells, by("next item").of);
}
