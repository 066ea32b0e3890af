//! Disk full while writing an item, an output or a ledger entry: the
//! command fails and says so, the workspace stays consistent (no approval
//! without its output and its entry, no half-written item, temp files are
//! never items), and after space is freed running it again finishes.
//! Each test mounts a small tmpfs for the workspace (root only; skipped
//! with "SKIP: ..." elsewhere).

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

mod faults_support;

use faults_support::*;
use veil::item::ItemState;

const NO_SPACE: &str = "No space left on device";

/// A scratch folder with a tmpfs of `size` at `mnt/`, holding the workspace.
/// Field order matters: the tmpfs is unmounted before the folder goes.
struct Full {
    bench: Bench,
    fs: Tmpfs,
    _scratch: tempfile::TempDir,
}

fn full_disk(size: &str) -> Option<Full> {
    let scratch = tempfile::tempdir().unwrap();
    let fs = Tmpfs::mount(&scratch.path().join("mnt"), size)?;
    let bench = Bench::new(Some(fs.path.join("ws")));
    Some(Full {
        bench,
        fs,
        _scratch: scratch,
    })
}

fn pending_ids(b: &Bench) -> Vec<String> {
    let (items, _) = b.open().items().unwrap();
    items
        .into_iter()
        .filter(|i| i.state == ItemState::Pending)
        .map(|i| i.id)
        .collect()
}

#[test]
fn ingest_on_a_full_disk_fails_saying_so_writes_no_half_item_and_finishes_after_space_is_freed() {
    let Some(f) = full_disk("1m") else { return };
    let b = &f.bench;
    tiny_originals(&b.originals(), 8);
    let originals = b.originals().to_string_lossy().into_owned();

    f.fs.fill_leaving(0);
    let (code, out, err) = b.run(&["ingest", &originals]);
    assert_ne!(code, 0, "{out}\n{err}");
    assert!(
        out.contains(NO_SPACE) || err.contains(NO_SPACE),
        "the failure names the cause:\n{out}\n{err}"
    );
    let t = check_consistent(b);
    assert_eq!(t.stray_temps, 0, "a failed write cleans up its temp file");
    assert!(t.items < 8, "{t:?}");

    f.fs.free();
    let (code, out, err) = b.run(&["ingest", &originals]);
    assert_eq!(code, 0, "{out}\n{err}");
    let t = check_consistent(b);
    assert_eq!(t.items, 8, "{t:?}");
}

#[test]
fn render_on_a_full_disk_fails_naming_the_file_and_leaves_no_partial_output() {
    let Some(f) = full_disk("1m") else { return };
    let b = &f.bench;
    tiny_originals(&b.originals(), 1);
    let (code, _, err) = b.run(&["ingest", &b.originals().to_string_lossy()]);
    assert_eq!(code, 0, "{err}");
    let id = pending_ids(b).remove(0);
    let before = std::fs::read(b.open().item_path(&id)).unwrap();
    let target = f.fs.path.join("rendered.jpg");
    let target_s = target.to_string_lossy().into_owned();

    f.fs.fill_leaving(0);
    let (code, out, err) = b.run(&["render", &id, "--out", &target_s]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains("rendered.jpg") && err.contains(NO_SPACE),
        "{err}"
    );
    assert!(!target.exists(), "no partial output");
    let hidden: Vec<_> = std::fs::read_dir(&f.fs.path)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with(".veil-tmp-"))
        .collect();
    assert!(hidden.is_empty(), "temp files left: {hidden:?}");
    assert_eq!(std::fs::read(b.open().item_path(&id)).unwrap(), before);
    check_consistent(b);

    f.fs.free();
    let (code, out, err) = b.run(&["render", &id, "--out", &target_s]);
    assert_eq!(code, 0, "{out}\n{err}");
    veil::redact::check_output(&std::fs::read(&target).unwrap()).unwrap();
}

/// Free space in 4 KiB steps, one approval each: the write that runs out is
/// the output, the ledger entry, the item or the certificate in turn. Each
/// failure leaves a consistent workspace; freeing space finishes all.
#[test]
fn approve_on_a_full_disk_never_claims_an_approval_without_its_output_and_entry() {
    let Some(f) = full_disk("2m") else { return };
    let b = &f.bench;
    tiny_originals(&b.originals(), 12);
    let (code, _, err) = b.run(&["ingest", &b.originals().to_string_lossy()]);
    assert_eq!(code, 0, "{err}");
    let mut failures = 0;
    for pages in 0..10u64 {
        let Some(id) = pending_ids(b).into_iter().next() else {
            break;
        };
        f.fs.fill_leaving(pages * 4096);
        let (code, out, err) = b.run(&["approve", &id, ATTEST]);
        if code != 0 {
            failures += 1;
            eprintln!(
                "{pages} pages free: exit {code}: {}{}",
                out.trim(),
                err.trim()
            );
            assert!(
                err.contains(NO_SPACE) || out.contains(NO_SPACE),
                "{pages} pages free: the failure names the cause:\n{out}\n{err}"
            );
        }
        f.fs.free();
        check_consistent(b);
    }
    assert!(
        failures > 0,
        "the disk never ran out; the test proves nothing"
    );

    // A whole batch on a nearly full disk: refused as a whole or finished.
    f.fs.fill_leaving(8 * 4096);
    let (code, out, err) = b.run(&["approve", "--batch", "--state", "pending", ATTEST]);
    if code != 0 {
        assert!(
            err.contains(NO_SPACE) || out.contains(NO_SPACE),
            "{out}\n{err}"
        );
    }
    check_consistent(b);
    f.fs.free();

    // Every earlier failure is finished by running approve again.
    let (code, out, err) = b.run(&["approve", "--batch", "--state", "pending", ATTEST]);
    assert!(code == 0, "{out}\n{err}");
    let t = check_consistent(b);
    assert_eq!((t.items, t.approved, t.outputs), (12, 12, 12), "{t:?}");
    let (code, out, _) = b.run(&["verify"]);
    assert_eq!(code, 0, "{out}");
}

/// The output is already in `out/` (an earlier run wrote it and stopped),
/// so the first write that can run out of space is the ledger entry.
#[test]
fn a_ledger_entry_that_does_not_fit_is_no_approval_and_rerunning_finishes_it() {
    let Some(f) = full_disk("2m") else { return };
    let b = &f.bench;
    tiny_originals(&b.originals(), 12);
    let (code, _, err) = b.run(&["ingest", &b.originals().to_string_lossy()]);
    assert_eq!(code, 0, "{err}");
    let ws = b.open();
    let mut ledger_failures = 0;
    for (n, id) in pending_ids(b).into_iter().enumerate() {
        let item = ws.load_item(&id).unwrap();
        let rendered = veil::redact::render_item(&item, &ws.policy, None).unwrap();
        std::fs::write(
            ws.out_dir().join(format!("Case_EARLIER{n:02}.jpg")),
            &rendered.bytes,
        )
        .unwrap();
        f.fs.fill_leaving(0);
        let (code, out, err) = b.run(&["approve", &id, ATTEST]);
        f.fs.free();
        if code != 0 && out.contains("ledger.jsonl") {
            assert!(out.contains(NO_SPACE), "{out}\n{err}");
            ledger_failures += 1;
        }
        check_consistent(b);
        if ledger_failures >= 2 {
            break;
        }
    }
    assert!(ledger_failures > 0, "the ledger never ran out of space");
    let (code, out, err) = b.run(&["approve", "--batch", "--state", "pending", ATTEST]);
    assert_eq!(code, 0, "{out}\n{err}");
    let t = check_consistent(b);
    assert_eq!(t.approved, 12, "{t:?}");
    let (code, out, _) = b.run(&["verify"]);
    assert_eq!(code, 0, "{out}");
}

/// A batch writes every output, then all its entries in one write: when
/// that write runs out of space part-way, no entry may stand for an output
/// that was taken back.
#[test]
fn a_batch_whose_ledger_write_runs_out_of_space_part_way_releases_nothing_unrecorded() {
    let Some(f) = full_disk("2m") else { return };
    let b = &f.bench;
    tiny_originals(&b.originals(), 12);
    let (code, _, err) = b.run(&["ingest", &b.originals().to_string_lossy()]);
    assert_eq!(code, 0, "{err}");
    // Room for the 12 outputs (a page each) and part of the 12 entries.
    for extra in [2u64, 4, 6] {
        f.fs.fill_leaving((12 + extra) * 4096);
        let (code, out, err) = b.run(&["approve", "--batch", "--state", "pending", ATTEST]);
        f.fs.free();
        eprintln!(
            "{extra} spare pages: exit {code}: {}{}",
            out.trim(),
            err.trim()
        );
        check_consistent(b);
    }
    let (code, out, err) = b.run(&["approve", "--batch", "--state", "pending", ATTEST]);
    assert_eq!(code, 0, "{out}\n{err}");
    let t = check_consistent(b);
    assert_eq!((t.approved, t.outputs), (12, 12), "{t:?}");
}
