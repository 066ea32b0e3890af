//! The review station's main states, rendered on a 120×36 `TestBackend`
//! with half-blocks, a fixed clock and fixed items. Review a changed
//! snapshot like code: `INSTA_UPDATE=always cargo test --test tui_snapshots`
//! then read the diff of `snapshots/`.

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use veil::gates::Gate;
use veil::tui::action::Action as A;
use veil::tui::app::App;
use veil::tui::testing::{app, app_with, preview_ready, show_frame};
use veil::tui::update::{Msg, update};
use veil::tui::view::view;

fn render(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(120, 36)).expect("test backend");
    terminal.draw(|f| view(f, app)).expect("draw");
    terminal.backend().to_string()
}

fn render_at(app: &App, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    terminal.draw(|f| view(f, app)).expect("draw");
    terminal.backend().to_string()
}

fn snapshot(name: &str, app: &App) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, render(app)));
}

#[test]
fn queue_with_items() {
    let mut app = app();
    show_frame(&mut app);
    snapshot("tui_queue_with_items", &app);
}

#[test]
fn a_selected_mask_verified_at_minimum_zoom() {
    let mut app = app();
    update(&mut app, A::NextMask);
    update(&mut app, A::ZoomToMask);
    show_frame(&mut app);
    snapshot("tui_selected_mask", &app);
}

#[test]
fn help_overlay() {
    let mut app = app();
    show_frame(&mut app);
    update(&mut app, A::Help);
    snapshot("tui_help", &app);
}

#[test]
fn checklist_with_unmet_gates() {
    let mut app = app();
    update(&mut app, A::ZoomToMask);
    show_frame(&mut app);
    update(&mut app, A::ToggleAttest(0));
    update(&mut app, A::ZoomFit);
    show_frame(&mut app);
    snapshot("tui_checklist_unmet", &app);
}

#[test]
fn the_refusal_message() {
    let mut app = app();
    show_frame(&mut app);
    update(&mut app, A::Approve);
    snapshot("tui_refusal", &app);
}

#[test]
fn the_mobile_preview() {
    let mut app = app();
    show_frame(&mut app);
    update(&mut app, A::MobilePreview);
    let msg = preview_ready(&app);
    update(&mut app, msg);
    snapshot("tui_mobile_preview", &app);
    let item = app.item().expect("item");
    assert!(item.gates.preview_seen.is_some());
    assert!(
        app.gate_report()
            .and_then(|r| r.status(Gate::Metadata).map(|s| s.met))
            .unwrap_or(false)
    );
}

#[test]
fn an_empty_queue() {
    snapshot("tui_empty_queue", &app_with(vec![]));
}

#[test]
fn a_failed_item() {
    let mut app = app();
    for _ in 0..3 {
        update(&mut app, A::NextItem);
    }
    snapshot("tui_failed_item", &app);
}

#[test]
fn the_rejection_prompt() {
    let mut app = app();
    show_frame(&mut app);
    update(&mut app, A::Reject);
    for c in "duplicate of 7b01".chars() {
        update(&mut app, Msg::PromptChar(c));
    }
    snapshot("tui_reject_prompt", &app);
}

#[test]
fn every_screen_draws_at_any_terminal_size_without_panicking() {
    let sizes = [(1, 1), (10, 4), (40, 12), (80, 24), (100, 30), (200, 60)];
    for (w, h) in sizes {
        let mut app = app();
        update(&mut app, Msg::Resized(w, h));
        show_frame(&mut app);
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
        for step in [
            A::Help,
            A::Close,
            A::MobilePreview,
            A::Close,
            A::Approve,
            A::Close,
            A::Reject,
        ] {
            update(&mut app, step);
            if step == A::MobilePreview {
                let msg = preview_ready(&app);
                update(&mut app, msg);
            }
            terminal.draw(|f| view(f, &app)).expect("draw");
        }
        let mut empty = app_with(vec![]);
        update(&mut empty, Msg::Resized(w, h));
        terminal.draw(|f| view(f, &empty)).expect("draw");
    }
}

#[test]
fn a_withdrawn_item_back_in_review_says_so_in_its_title() {
    let mut items = veil::tui::testing::queue();
    items[0].withdrawals.push(veil::item::WithdrawalRecord {
        output_name: "Case_7KQ2M9XA.jpg".into(),
        output_sha256: "ab".repeat(32),
        seq: 9,
        at: veil::tui::testing::NOW.into(),
        by: "Compliance Officer (SHA256:x)".into(),
        reason: "a name is legible on the wristband".into(),
    });
    let mut app = app_with(items);
    show_frame(&mut app);
    let screen = render(&app);
    assert!(screen.contains("WITHDRAWN"), "{screen}");
    snapshot("tui_withdrawn_item", &app);
}

/// The station at 120×42 (six rows more than the other snapshots: the
/// checklist takes its share) with the first item showing the inventory of
/// a real file of `format`; each of `needles` must be on screen.
fn metadata_panel_snapshot(name: &str, bytes: &[u8], format: &str, needles: &[&str]) {
    let mut items = veil::tui::testing::queue();
    items[0].format = format.into();
    items[0].metadata = veil::metadata::inventory(bytes).findings;
    let mut app = app_with(items);
    update(&mut app, Msg::Resized(120, 42));
    show_frame(&mut app);
    let screen = render_at(&app, 120, 42);
    for needle in needles {
        assert!(screen.contains(needle), "{needle}: {screen}");
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, screen));
}

#[test]
fn a_heic_photo_lists_its_hidden_images_groups_and_thumbnails_in_the_metadata_panel() {
    // The panel shows what the inventory of a real HEIC found: the other
    // image of a stereo pair and its group, each marked not released.
    metadata_panel_snapshot(
        "tui_heif_metadata",
        include_bytes!("samples/heif/stereo_pair.heic"),
        "heif",
        &["HEIF-image", "HEIF-group"],
    );
}

#[test]
fn a_dicom_item_lists_its_planted_identifiers_private_tags_and_icon_in_the_metadata_panel() {
    // The panel shows what the inventory of a real DICOM found, patient
    // first: name and value fit the panel.
    metadata_panel_snapshot(
        "tui_dicom_metadata",
        include_bytes!("dicom/photo_rgb.dcm"),
        "dicom",
        &["DICOM-id PatientName = DOE^JANE^Q", "MRN-4401234"],
    );
}

#[test]
fn the_first_run_hint() {
    let items = veil::tui::testing::queue()
        .into_iter()
        .filter(|i| i.state == veil::item::ItemState::Pending)
        .collect();
    let mut first = app_with(items);
    show_frame(&mut first);
    first.greet_first_run();
    snapshot("tui_first_run", &first);
    // Once anything is decided, it is no longer a first run.
    let mut later = app();
    later.greet_first_run();
    assert!(later.status.is_none());
}

#[test]
fn the_reject_prompt_warns_before_a_patient_detail_enters_the_ledger() {
    let mut app = app();
    show_frame(&mut app);
    update(&mut app, A::Reject);
    for c in "wrong patient, MRN 4471023".chars() {
        update(&mut app, Msg::PromptChar(c));
    }
    assert!(update(&mut app, Msg::PromptSubmit).is_empty());
    snapshot("tui_reject_patient_detail", &app);
}

#[test]
fn an_80_by_24_terminal_folds_the_queue_and_gives_the_photo_the_width() {
    let mut app = app();
    update(&mut app, Msg::Resized(80, 24));
    show_frame(&mut app);
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!("tui_folded_80x24", render_at(&app, 80, 24)));
    // ] folds the checklist too: the photo takes the whole width, and the
    // image pane says how much is still unmet.
    update(&mut app, A::TogglePanel);
    show_frame(&mut app);
    settings.bind(|| insta::assert_snapshot!("tui_folded_80x24_bare", render_at(&app, 80, 24)));
}

#[test]
fn a_decided_item_says_its_state_in_words_not_ready_to_approve() {
    let mut app = app();
    update(&mut app, A::NextItem);
    update(&mut app, A::NextItem);
    show_frame(&mut app);
    let screen = render(&app);
    assert!(screen.contains("Checklist"), "{screen}");
    assert!(!screen.contains("ready to approve"), "{screen}");
    assert!(screen.contains(" approved ┐"), "{screen}");
    let mut waiting = veil::tui::testing::queue();
    waiting[0].state = veil::item::ItemState::AwaitingSecond;
    let mut app = app_with(waiting);
    for _ in 0..5 {
        if app.item().map(|i| i.state) == Some(veil::item::ItemState::AwaitingSecond) {
            break;
        }
        update(&mut app, A::PrevItem);
    }
    let screen = render(&app);
    assert!(screen.contains("awaiting second reviewer"), "{screen}");
    assert!(!screen.contains("awaiting_second"), "{screen}");
}

#[test]
fn an_item_another_session_holds_is_read_only_and_says_so() {
    let mut app = app();
    let id = app.item().map(|i| i.id.clone()).expect("item");
    app.read_only = Some(veil::tui::app::ReadOnly {
        item_id: id,
        reason: "being edited by alice (pid 4711 on ward7) — read-only here".into(),
    });
    show_frame(&mut app);
    snapshot("tui_read_only", &app);
}
