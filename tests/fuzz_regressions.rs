//! What the fuzzers found stays found: every file in `tests/fuzz_corpus/`
//! goes through every fuzz target's checks (the same code the targets run,
//! `fuzz/src/lib.rs`), so `cargo test` exercises them without cargo-fuzz.
//! Crashers are also named here, one test each, as the sentence they prove.

#[path = "../fuzz/src/lib.rs"]
mod harness;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz_corpus");

type Check = fn(&[u8]);

const TARGETS: [(&str, Check); 4] = [
    ("metadata_inventory", harness::metadata_inventory),
    ("output_allowlist", harness::output_allowlist),
    ("ledger_lines", harness::ledger_lines),
    ("decode_upright", harness::decode_upright),
];

fn corpus_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(CORPUS)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(Path::new(CORPUS).join(rel)).unwrap()
}

#[test]
fn every_corpus_file_goes_through_every_parser_without_a_panic() {
    let files = corpus_files();
    assert!(
        files.len() > 20,
        "the corpus is missing: {} files in {CORPUS}",
        files.len()
    );
    let mut failures = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        for (target, check) in TARGETS {
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(&bytes))) {
                let why = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("panic");
                failures.push(format!("{target} on {}: {why}", file.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_committed_corpus_stays_small() {
    let files = corpus_files();
    let total: u64 = files.iter().map(|f| f.metadata().unwrap().len()).sum();
    assert!(
        total < 500 * 1024,
        "tests/fuzz_corpus is {total} bytes; minimise it (cargo fuzz cmin)"
    );
    for (target, _) in TARGETS {
        let n = files
            .iter()
            .filter(|f| f.parent().unwrap().ends_with(target))
            .count();
        assert!((1..=40).contains(&n), "{target}: {n} corpus files");
    }
}

#[test]
fn clean_outputs_in_the_corpus_are_accepted_so_the_rewalk_really_runs() {
    let dir = Path::new(CORPUS).join("output_allowlist");
    let mut accepted = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let verdict = veil::redact::check_output(&std::fs::read(&path).unwrap());
        if name.starts_with("ok-") {
            assert!(verdict.is_ok(), "{name}: {verdict:?}");
            accepted += 1;
        }
    }
    assert!(accepted >= 3, "only {accepted} clean outputs in the corpus");
}

#[test]
fn the_seed_ledger_verifies_clean_so_mutations_reach_the_signature_and_policy_checks() {
    let trusted = veil::keys::AllowedSigners::parse(harness::ALLOWED_SIGNERS);
    let bytes = read("ledger_lines/ok-ledger.jsonl");
    let r = veil::ledger::verify(&bytes, &trusted, None);
    assert_eq!(r.worst(), None, "{}", veil::ledger::describe(&r));
    assert!(r.entries >= 10 && !r.releases.is_empty());
}

/// Run `f` on another thread; fail if it takes longer than `secs`.
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(std::time::Duration::from_secs(secs))
        .unwrap_or_else(|_| panic!("still running after {secs} s: unbounded work on hostile input"))
}

#[test]
fn verify_lists_a_batch_claiming_2_pow_53_entries_in_bounded_time() {
    // One canonical line, unsigned, in a batch that says it has 2^53 - 1
    // members: verify used to list every missing position.
    let line = br#"{"batch":{"i":0,"id":"b","n":9007199254740991},"kind":"reject","ledger":"l","prev":"p","reviewer":{"fingerprint":"f","key":"k","name":"n"},"seq":0,"tool":"t","ts":"x","v":1}"#;
    let mut bytes = line.to_vec();
    bytes.push(b'\n');
    let report = within(10, move || {
        let trusted = veil::keys::AllowedSigners::parse(harness::ALLOWED_SIGNERS);
        veil::ledger::verify(&bytes, &trusted, None)
    });
    let text = veil::ledger::describe(&report);
    assert!(
        text.contains("batch") && text.contains("incomplete"),
        "{text}"
    );
    assert!(
        text.len() < 10_000,
        "the finding lists every missing position: {} bytes",
        text.len()
    );
}
