//! Many writers at once, and writers killed mid-flight.
//!
//! The writers are this test binary re-invoked with `VEIL_TEST_WORKER`
//! set, running `worker_process_appends_when_asked` only: separate
//! processes, each taking the ledger lock for every append.

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

mod ledger_support;

use ledger_support::*;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use veil::keys::Reviewer;
use veil::ledger::{self, EntryKind, Ledger, Severity};

const WORKER_ENV: &str = "VEIL_TEST_WORKER";

/// Not a test on its own: the body of one writer process.
#[test]
fn worker_process_appends_when_asked() {
    let Ok(spec) = std::env::var(WORKER_ENV) else {
        return;
    };
    // spec = "<ledger path>|<tag>|<count>" (count 0: until killed)
    let mut parts = spec.split('|');
    let path = std::path::PathBuf::from(parts.next().unwrap());
    let tag = parts.next().unwrap().to_string();
    let count: usize = parts.next().unwrap().parse().unwrap();
    let reviewer = Reviewer::load().unwrap();
    let mut i = 0;
    while count == 0 || i < count {
        let mut l = Ledger::open(&path).unwrap();
        let r = l
            .append(&reviewer, vec![reject_draft(&format!("{tag}-{i}"))])
            .unwrap();
        drop(l);
        // Acknowledged only after append returned (written and fsynced).
        println!("ack {} {}", r.entries[0].seq, r.entries[0].hash);
        i += 1;
    }
}

fn worker(f: &Fixture, who: char, tag: &str, count: usize) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "worker_process_appends_when_asked",
        "--nocapture",
        "--test-threads=1",
        "--quiet",
    ])
    .env(
        WORKER_ENV,
        format!("{}|{tag}|{count}", f.ws.ledger_path().display()),
    )
    .env("HOME", f.path())
    .env("XDG_CONFIG_HOME", f.path().join("config"))
    .env("VEIL_REVIEWER_KEY", f.key_path(who))
    .env(
        "VEIL_REVIEWER_NAME",
        if who == 'a' { NAME_A } else { NAME_B },
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    cmd
}

#[test]
fn eight_processes_appending_a_hundred_entries_each_leave_800_entries_in_one_valid_chain() {
    let f = Fixture::new();
    let children: Vec<_> = (0..8)
        .map(|k| {
            let who = if k % 2 == 0 { 'a' } else { 'b' };
            worker(&f, who, &format!("w{k}"), 100).spawn().unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "worker failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let bytes = f.ledger_bytes();
    let report = f.verify();
    assert_eq!(report.worst(), None, "{}", problems(&report));
    // The set-up plus 800 entries, every line a whole entry (nothing interleaved).
    assert_eq!(report.entries, SETUP_LINES + 800);
    assert_eq!(report.lines, SETUP_LINES + 800);
    let all = ledger::entries(&bytes);
    assert_eq!(all.len(), SETUP_LINES + 800);
    assert_eq!(all[0].entry.kind, EntryKind::Header);
    for (n, e) in all.iter().enumerate() {
        assert_eq!(e.entry.seq, n as u64);
    }
    // Each writer's entries appear in its own order.
    for k in 0..8 {
        let mine: Vec<String> = all
            .iter()
            .filter_map(|e| e.entry.item.clone())
            .filter(|i| i.starts_with(&format!("w{k}-")))
            .collect();
        let expected: Vec<String> = (0..100).map(|i| format!("w{k}-{i}")).collect();
        assert_eq!(mine, expected);
    }
}

/// A small deterministic PRNG: no dependency, reproducible from the seed printed on failure.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn a_writer_killed_at_random_moments_loses_no_acknowledged_entry_and_verify_passes_after_recovery()
{
    let f = Fixture::new();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut rng = XorShift(seed);
    let mut acked: Vec<(u64, String)> = Vec::new();
    for round in 0..30 {
        let mut child = worker(
            &f,
            if round % 2 == 0 { 'a' } else { 'b' },
            &format!("r{round}"),
            0,
        )
        .spawn()
        .unwrap();
        std::thread::sleep(Duration::from_millis(5 + rng.next() % 60));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        for line in out.lines() {
            if let Some(rest) = line.strip_prefix("ack ") {
                let (seq, hash) = rest.split_once(' ').unwrap();
                acked.push((seq.parse().unwrap(), hash.to_string()));
            }
        }
        let bytes = f.ledger_bytes();
        let report = f.verify();
        assert_eq!(
            report.count(Severity::Tampered),
            0,
            "seed {seed} round {round}: {}",
            problems(&report)
        );
        let present: std::collections::BTreeMap<u64, String> = ledger::entries(&bytes)
            .into_iter()
            .map(|l| (l.entry.seq, l.hash))
            .collect();
        for (seq, hash) in &acked {
            assert_eq!(
                present.get(seq),
                Some(hash),
                "seed {seed} round {round}: acknowledged entry {seq} is missing"
            );
        }
    }
    assert!(
        acked.len() >= 30,
        "too few appends were acknowledged: {}",
        acked.len()
    );
    // One more append recovers any torn tail; then verify is clean.
    let started = Instant::now();
    append_rejects(&f.ws.ledger_path(), &f.a, 1);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the lock was left held"
    );
    let report = f.verify();
    assert_eq!(report.worst(), None, "seed {seed}: {}", problems(&report));
}
