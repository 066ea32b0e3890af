//! Two reviewers on one box: an item open in one review session is
//! read-only in another (no lost edits), decisions on it are refused with
//! who holds it, the holder's own approval goes through, the second session
//! sees the first's saved edits, and a crashed holder frees the item.

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

mod ledger_support;

use ledger_support::*;
use std::io::BufRead;
use veil::item::ItemState;
use veil::tui::action::Action;
use veil::tui::app::App;
use veil::tui::services::{LiveServices, Services};
use veil::tui::update::{Effect, Msg, update};
use veil::workspace::{Workspace, WorkspaceError};

/// From fork to exec, a child process holds copies of all this process's
/// open files, item lock files included, and a flock lasts while any copy
/// is open: while one test spawns its child, a lock another test has just
/// dropped still looks held. (Sessions in separate processes, as in use, do
/// not meet this.) The tests of this file run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One `veil review` session as its runtime drives it: the station's state
/// and its services (which hold the lock of the item on screen).
struct Session {
    app: App,
    services: LiveServices,
}

impl Session {
    fn open(f: &Fixture, who: &veil::keys::Reviewer) -> Session {
        let (items, _) = f.ws.items().unwrap();
        let mut app = App::new(
            f.ws.policy.clone(),
            items,
            veil::tui::theme::Theme::fallback(),
            veil::tui::image::Graphics::halfblocks(),
        );
        app.reviewer = Some(who.name.clone());
        update(&mut app, Msg::Resized(120, 36));
        let mut s = Session {
            app,
            services: LiveServices::new(f.ws.clone(), Ok(who.clone())),
        };
        s.came_on_screen();
        s
    }

    /// What the runtime does when an item comes on screen.
    fn came_on_screen(&mut self) {
        let id = self.app.item().unwrap().id.clone();
        let o = self.services.open_item(&id);
        let fx = update(
            &mut self.app,
            Msg::Opened {
                item_id: id,
                item: o.item.map(Box::new),
                read_only: o.read_only,
            },
        );
        self.run(fx);
    }

    /// Press a key (as its action) and carry out what it asks.
    fn press(&mut self, a: Action) -> Vec<Effect> {
        let before = self.app.item().map(|i| i.id.clone());
        let fx = update(&mut self.app, a);
        self.run(fx.clone());
        if self.app.item().map(|i| i.id.clone()) != before {
            self.came_on_screen();
        }
        fx
    }

    fn run(&mut self, fx: Vec<Effect>) {
        for e in fx {
            match e {
                Effect::Save(item) => self.services.save_item(&item).unwrap(),
                Effect::Approve { item_id, attest } => {
                    let outcome = self.services.approve(&item_id, &attest);
                    let item = self.services.load_item(&item_id).ok().map(Box::new);
                    update(
                        &mut self.app,
                        Msg::Approved {
                            item_id,
                            outcome,
                            item,
                        },
                    );
                }
                _ => {}
            }
        }
    }

    fn status(&self) -> String {
        self.app
            .status
            .as_ref()
            .map(|s| s.text.clone())
            .unwrap_or_default()
    }
}

#[test]
fn a_second_lock_on_an_item_is_refused_naming_the_holder_until_the_first_is_dropped() {
    let _serial = one_at_a_time();
    let f = Fixture::new();
    let item = f.add_item(1, &[face()], false, ItemState::Pending);
    let held = f.ws.lock_item(&item.id).unwrap();
    let err = f.ws.lock_item(&item.id).unwrap_err();
    assert!(matches!(err, WorkspaceError::Busy { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("is held by"), "{msg}");
    assert!(
        msg.contains(&format!("pid {}", std::process::id())),
        "{msg}"
    );
    drop(held);
    f.ws.lock_item(&item.id).unwrap();
    // The lock file is not an item.
    assert_eq!(f.ws.item_ids().unwrap(), vec![item.id.clone()]);
}

#[test]
fn lock_files_under_items_are_removed_when_released_and_a_stale_one_never_blocks() {
    let _serial = one_at_a_time();
    let f = Fixture::new();
    let item = f.add_item(1, &[face()], false, ItemState::Pending);
    let path = f.ws.item_lock_path(&item.id);
    let held = f.ws.lock_item(&item.id).unwrap();
    assert!(path.exists());
    drop(held);
    assert!(!path.exists(), "the lock file outlived its lock");

    // Left by a process that died: it names a holder, but no one holds it.
    std::fs::write(&path, "ghost (pid 1 on elsewhere, running `veil approve`)").unwrap();
    let taken =
        f.ws.lock_item(&item.id)
            .expect("a stale lock file never blocks");
    assert!(!std::fs::read_to_string(&path).unwrap().contains("ghost"));
    drop(taken);
    assert!(!path.exists());

    // A session that opened the file just before its holder removed it
    // locks a file no longer in items/: it must notice and lock the new one,
    // so two sessions never both think they hold the item.
    let first = f.ws.lock_item(&item.id).unwrap();
    let stale = std::fs::File::open(&path).unwrap();
    drop(first);
    stale.try_lock().expect("the removed file is free");
    let second = f.ws.lock_item(&item.id).unwrap();
    let third = f.ws.lock_item(&item.id).unwrap_err();
    assert!(matches!(third, WorkspaceError::Busy { .. }), "{third}");
    drop((second, stale));

    assert!(lock_files(&f).is_empty());
}

/// Lock files left in items/.
fn lock_files(f: &Fixture) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(f.ws.items_dir())
        .unwrap()
        .filter_map(std::result::Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "lock"))
        .collect()
}

#[test]
fn a_lock_path_that_is_a_symlink_is_never_followed() {
    let _serial = one_at_a_time();
    let f = Fixture::new();
    let item = f.add_item(1, &[face()], false, ItemState::Pending);
    let target = f.path().join("elsewhere");
    std::fs::write(&target, b"keep").unwrap();
    std::os::unix::fs::symlink(&target, f.ws.item_lock_path(&item.id)).unwrap();
    let err = f.ws.lock_item(&item.id).unwrap_err().to_string();
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read(&target).unwrap(), b"keep");
}

#[test]
fn two_review_sessions_cannot_both_edit_one_item_and_the_second_sees_the_firsts_edits() {
    let _serial = one_at_a_time();
    let f = Fixture::new();
    let first = f.add_item(1, &[face()], false, ItemState::Pending);
    f.add_item(2, &[face()], false, ItemState::Pending);

    let mut a = Session::open(&f, &f.a);
    let mut b = Session::open(&f, &f.b);
    assert_eq!(a.app.item().unwrap().id, first.id);
    assert_eq!(b.app.item().unwrap().id, first.id);
    assert!(a.app.locked_out().is_none());
    let why = b
        .app
        .locked_out()
        .expect("B sees the item read-only")
        .to_string();
    assert!(
        why.contains("being edited by") && why.ends_with("read-only"),
        "{why}"
    );
    assert!(b.status().contains(&why), "told on arrival: {}", b.status());

    // B's edits are refused, and nothing is written.
    for action in [
        Action::AddMask,
        Action::DeleteMask,
        Action::MarkReady,
        Action::Approve,
    ] {
        let fx = b.press(action);
        assert!(fx.is_empty(), "{action:?} on a read-only item: {fx:?}");
        assert!(b.status().contains("read-only"), "{}", b.status());
    }
    b.press(Action::Reject);
    assert_eq!(b.app.overlay, veil::tui::app::Overlay::None);

    // A edits and saves, then moves on, letting go of the item.
    let fx = a.press(Action::AddMask);
    assert!(fx.iter().any(|e| matches!(e, Effect::Save(_))));
    assert_eq!(f.ws.load_item(&first.id).unwrap().masks.len(), 2);
    a.press(Action::NextItem);

    // B comes back to it: it is B's now, with A's mask.
    b.press(Action::NextItem);
    b.press(Action::PrevItem);
    assert!(b.app.locked_out().is_none(), "{:?}", b.app.read_only);
    assert_eq!(
        b.app.item().unwrap().masks.len(),
        2,
        "B sees A's saved mask"
    );
    b.press(Action::AddMask);
    assert_eq!(
        f.ws.load_item(&first.id).unwrap().masks.len(),
        3,
        "no edit lost"
    );

    // Now A is the one locked out of it.
    a.press(Action::PrevItem);
    assert!(a.app.locked_out().is_some());
    assert_eq!(a.app.item().unwrap().masks.len(), 3);
}

#[test]
fn approve_and_reject_refuse_an_item_open_in_a_review_session_but_the_holder_may_approve() {
    let _serial = one_at_a_time();
    let f = Fixture::new();
    let item = f.add_item(1, &[face()], true, ItemState::Ready);
    let other = f.add_item(2, &[face()], true, ItemState::Ready);
    let session = Session::open(&f, &f.a);
    assert_eq!(session.app.item().unwrap().id, item.id);

    let out = f.veil('b').args(["approve", &item.id]).output().unwrap();
    assert_ne!(out.status.code(), Some(0));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("is held by"), "{text}");
    let out = f
        .veil('b')
        .args(["reject", &item.id, "--reason", "blurred"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is held by"),
        "{out:?}"
    );
    // A batch skips it, saying why, and approves the rest.
    let out = f.veil('b').args(["approve", "--batch"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("is held by"), "{text}");
    assert_eq!(
        f.ws.load_item(&other.id).unwrap().state,
        ItemState::Approved
    );
    assert_eq!(f.ws.load_item(&item.id).unwrap().state, ItemState::Ready);

    // The session holding it approves through its own lock.
    let outcome = session.services.approve(&item.id, &[]).unwrap();
    assert!(
        matches!(outcome, veil::tui::update::Approval::Released { .. }),
        "{outcome:?}"
    );
    assert_eq!(f.ws.load_item(&item.id).unwrap().state, ItemState::Approved);
}

/// Run only as the child of the test below: take the lock, say so, wait.
#[test]
fn child_holding_an_item_lock() {
    let Ok(spec) = std::env::var("VEIL_LOCK_CHILD") else {
        return;
    };
    let (root, id) = spec.split_once('\n').unwrap();
    let ws = Workspace::open(std::path::Path::new(root)).unwrap();
    let _lock = ws.lock_item(id).unwrap();
    println!("locked");
    std::thread::sleep(std::time::Duration::from_secs(60));
}

#[test]
fn a_lock_held_by_a_process_that_is_killed_is_released() {
    let _serial = one_at_a_time();
    let f = Fixture::new();
    let item = f.add_item(1, &[face()], false, ItemState::Pending);
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_holding_an_item_lock", "--nocapture"])
        .env(
            "VEIL_LOCK_CHILD",
            format!("{}\n{}", f.ws.root().display(), item.id),
        )
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    assert!(
        lines.any(|l| l.unwrap().trim() == "locked"),
        "the child never locked"
    );

    let err = f.ws.lock_item(&item.id).unwrap_err().to_string();
    assert!(err.contains(&format!("pid {}", child.id())), "{err}");
    child.kill().unwrap(); // SIGKILL: no destructor runs
    child.wait().unwrap();
    f.ws.lock_item(&item.id)
        .expect("the OS let go of a dead process's lock");
}

#[test]
fn eight_parallel_approvals_of_one_item_release_it_once_and_each_refusal_names_the_real_holder() {
    let _serial = one_at_a_time();
    let f = Fixture::new();
    let item = f.add_item(1, &[face()], true, ItemState::Ready);
    let runs: Vec<std::process::Output> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| f.veil('a').args(["approve", &item.id]).output().unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let released = runs.iter().filter(|o| o.status.success()).count();
    assert_eq!(released, 1, "one release");
    let entries = veil::ledger::entries(&f.ledger_bytes());
    assert_eq!(
        entries.iter().filter(|l| l.entry.releases()).count(),
        1,
        "one releasing entry"
    );
    for o in runs.iter().filter(|o| !o.status.success()) {
        let err =
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("review session"), "{err}");
        // Either it met the lock (held by that approval, named) or came after
        // the release (the item is approved).
        assert!(
            (err.contains("is held by") && err.contains("running `veil approve`"))
                || err.contains("is approved"),
            "{err}"
        );
    }
    // Every one of them let go of the item and took its lock file along.
    assert!(lock_files(&f).is_empty(), "{:?}", lock_files(&f));
}
