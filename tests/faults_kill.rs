//! The process killed (SIGKILL) during ingest, render and approve: running
//! the same command again finishes the job, and nothing is duplicated or
//! lost (items counted right, the ledger verifies, one output per approved
//! item). Kill delays are pseudo-random; the seed is printed.

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

mod faults_support;

use faults_support::*;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use veil::item::ItemState;

/// Delays in `lo..hi` ms from a seed taken from the clock (printed, so a
/// failure can be replayed with VEIL_KILL_SEED).
fn delays(n: usize, lo: u64, hi: u64) -> Vec<Duration> {
    let mut x: u64 = std::env::var("VEIL_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(7)
        })
        | 1;
    eprintln!("kill seed: VEIL_KILL_SEED={x}");
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            Duration::from_millis(lo + x % (hi - lo))
        })
        .collect()
}

/// Start `cmd`, SIGKILL it after `after` (if still running). True when it
/// was killed, false when it finished first.
fn kill_after(mut cmd: Command, after: Duration) -> bool {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while start.elapsed() < after {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    // Child::kill sends SIGKILL on Unix.
    let killed = child.kill().is_ok();
    let _ = child.wait();
    killed
}

fn ingest_cmd(b: &Bench) -> Command {
    let mut c = b.veil();
    c.arg("ingest").arg(b.originals());
    c
}

fn batch_cmd(b: &Bench) -> Command {
    let mut c = b.veil();
    c.args(["approve", "--batch", "--state", "pending", ATTEST]);
    c
}

#[test]
fn ingest_killed_at_random_moments_then_rerun_has_every_item_once() {
    let b = Bench::new(None);
    let n = sample_copies(&b.originals(), 8);
    for d in delays(3, 30, 500) {
        let killed = kill_after(ingest_cmd(&b), d);
        eprintln!("ingest killed after {d:?}: {killed}");
        check_consistent(&b);
    }
    let (code, out, err) = b.run(&["ingest", &b.originals().to_string_lossy()]);
    assert_eq!(code, 0, "{out}\n{err}");
    let t = check_consistent(&b);
    assert_eq!(t.items, n, "{t:?}");
    let (items, _) = b.open().items().unwrap();
    assert!(
        items
            .iter()
            .all(|i| i.duplicates.is_empty() && i.failure.is_none())
    );
    // Once more: nothing changes.
    let (code, out, _) = b.run(&["ingest", &b.originals().to_string_lossy()]);
    assert_eq!(code, 0);
    assert!(out.contains(&format!("0 added, {n} unchanged")), "{out}");
}

#[test]
fn approve_killed_at_random_moments_then_rerun_releases_each_item_exactly_once() {
    let b = Bench::new(None);
    let n = sample_copies(&b.originals(), 3);
    let (code, _, err) = b.run(&["ingest", &b.originals().to_string_lossy()]);
    assert_eq!(code, 0, "{err}");
    let ids: Vec<String> = b.open().item_ids().unwrap();
    for (round, d) in delays(3, 100, 1200).into_iter().enumerate() {
        // Alternate one batch write with one approval (and entry) per item.
        let cmd = if round % 2 == 0 {
            batch_cmd(&b)
        } else {
            let mut c = b.veil();
            c.arg("approve").args(&ids).arg(ATTEST);
            c
        };
        let killed = kill_after(cmd, d);
        eprintln!("approve killed after {d:?}: {killed}");
        check_consistent(&b);
    }
    // Items left pending (or saved mid-way) are finished by the batch; an
    // item whose entry landed but whose file was not saved is repaired.
    let (code, out, err) = b.run(&["approve", "--batch", "--state", "pending", ATTEST]);
    assert_eq!(code, 0, "{out}\n{err}");
    let t = check_consistent(&b);
    assert_eq!((t.items, t.approved, t.outputs), (n, n, n), "{t:?}");
    let (code, out, _) = b.run(&["verify"]);
    assert_eq!(code, 0, "verify after the rerun:\n{out}");
    let certs = std::fs::read_dir(b.open().out_dir())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(veil::ledger::CERTIFICATE_SUFFIX)
        })
        .count();
    assert_eq!(certs, n, "one certificate per output");
}

#[test]
fn render_killed_part_way_leaves_no_partial_output_and_rerun_writes_it() {
    let b = Bench::new(None);
    sample_copies(&b.originals(), 1);
    let (code, _, err) = b.run(&["ingest", &b.originals().to_string_lossy()]);
    assert_eq!(code, 0, "{err}");
    let (items, _) = b.open().items().unwrap();
    let big = items
        .iter()
        .max_by_key(|i| u64::from(i.width) * u64::from(i.height))
        .unwrap();
    assert_eq!(big.state, ItemState::Pending);
    let target = b.dir.path().join("render.jpg");
    for d in delays(3, 5, 150) {
        let mut c = b.veil();
        c.args(["render", &big.id, "--force", "--out"]).arg(&target);
        let killed = kill_after(c, d);
        eprintln!("render killed after {d:?}: {killed}");
        if let Ok(bytes) = std::fs::read(&target) {
            veil::redact::check_output(&bytes).expect("whatever is there is a whole output");
        }
        check_consistent(&b);
    }
    let (code, out, err) = b.run(&[
        "render",
        &big.id,
        "--force",
        "--out",
        &target.to_string_lossy(),
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    veil::redact::check_output(&std::fs::read(&target).unwrap()).unwrap();
}
