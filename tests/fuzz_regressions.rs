//! What the fuzzers found stays found: every file in `tests/fuzz_corpus/`
//! goes through every fuzz target's checks (the same code the targets run,
//! `fuzz/src/lib.rs`), so `cargo test` exercises them without cargo-fuzz.
//! Crashers are also named here, one test each, as the sentence they prove.

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

#[path = "../fuzz/src/lib.rs"]
mod harness;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// The system allocator, noting the largest single request on each thread:
/// a small hostile file must not make Veil ask for gigabytes (with strict
/// overcommit that aborts the whole batch, not just the one file).
struct Probe;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is passed unchanged to the system allocator, which
// upholds GlobalAlloc's contract; `note` only reads the size.
unsafe impl GlobalAlloc for Probe {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller's arguments, as GlobalAlloc requires them.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        // SAFETY: the caller's arguments, as GlobalAlloc requires them.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        // SAFETY: the caller's arguments, as GlobalAlloc requires them.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's arguments, as GlobalAlloc requires them.
        unsafe { System.dealloc(ptr, layout) }
    }
}

fn note(size: usize) {
    let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
}

#[global_allocator]
static PROBE: Probe = Probe;

/// Largest single allocation `f` asks for on this thread.
fn largest_allocation(f: impl FnOnce()) -> usize {
    LARGEST.with(|l| l.set(0));
    f();
    LARGEST.with(Cell::get)
}

/// More than any check needs for a corpus file (the decoder limit is 64 MiB).
const ALLOCATION_CAP: usize = 256 << 20;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz_corpus");

type Check = fn(&[u8]);

const TARGETS: [(&str, Check); 6] = [
    ("metadata_inventory", harness::metadata_inventory),
    ("output_allowlist", harness::output_allowlist),
    ("ledger_lines", harness::ledger_lines),
    ("decode_upright", harness::decode_upright),
    ("heif_container", harness::heif_container),
    ("dicom_inventory", harness::dicom_inventory),
];

fn corpus_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(CORPUS)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(walkdir::DirEntry::into_path)
        .collect();
    files.sort();
    files
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(Path::new(CORPUS).join(rel)).unwrap()
}

#[test]
fn every_corpus_file_goes_through_every_parser_without_a_panic_or_a_huge_allocation() {
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
            let mut outcome = Ok(());
            let largest =
                largest_allocation(|| outcome = catch_unwind(AssertUnwindSafe(|| check(&bytes))));
            if let Err(panic) = outcome {
                let why = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("panic");
                failures.push(format!("{target} on {}: {why}", file.display()));
            }
            if largest > ALLOCATION_CAP {
                failures.push(format!(
                    "{target} on {}: asked for {largest} bytes at once",
                    file.display()
                ));
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
fn the_seed_ledger_written_before_the_trust_root_still_verifies_as_legacy_trust() {
    // Also the migration check: a ledger from the version before enrolments
    // verifies, with exactly one warning saying its trust is legacy.
    let trusted =
        veil::trust::Trust::workspace(veil::keys::AllowedSigners::parse(harness::ALLOWED_SIGNERS));
    let bytes = read("ledger_lines/ok-ledger.jsonl");
    let r = veil::ledger::verify(&bytes, &trusted, None);
    let text = veil::ledger::describe(&r);
    assert_eq!(r.worst(), Some(veil::ledger::Severity::Warning), "{text}");
    assert_eq!(r.count(veil::ledger::Severity::Warning), 1, "{text}");
    assert!(text.contains("legacy trust"), "{text}");
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
        let trusted = veil::trust::Trust::workspace(veil::keys::AllowedSigners::parse(
            harness::ALLOWED_SIGNERS,
        ));
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

#[test]
fn a_webp_whose_exif_chunk_claims_4_gib_is_refused_without_allocating_it() {
    // Found by decode_upright: a 3 KB WebP whose EXIF chunk header says
    // 0xFFFFFECC bytes; the WebP decoder allocated that much to read it.
    let bytes = read("decode_upright/crash-webp-exif-chunk-4gib.webp");
    let limits = harness::DECODE_LIMITS;
    let mut result = None;
    let largest =
        largest_allocation(|| result = Some(veil::image_io::decode_upright(&bytes, &limits)));
    assert!(
        largest <= ALLOCATION_CAP,
        "asked for {largest} bytes at once"
    );
    let err = result
        .unwrap()
        .expect_err("a chunk longer than the file is corrupt");
    assert!(err.to_string().contains("chunk"), "{err}");
}

/// Mutations of the DICOM seeds (bytes overwritten, a run cut out, a tail
/// cut off, lengths set to all ones) go through the DICOM target: no panic,
/// no single allocation past the cap. A cheap stand-in for a fuzzer run
/// that CI repeats every time.
#[test]
fn mutated_dicom_seeds_never_panic_nor_ask_for_huge_allocations() {
    use proptest::prelude::*;
    let seeds: Vec<Vec<u8>> = std::fs::read_dir(Path::new(CORPUS).join("dicom_inventory"))
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    let n = seeds.len();
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases: 1000,
        failure_persistence: None,
        ..Default::default()
    });
    let strategy = (
        0..n,
        proptest::collection::vec((any::<u32>(), any::<u8>()), 0..12),
        any::<u32>(),
        any::<u32>(),
        0u8..4,
    );
    runner
        .run(&strategy, |(seed, writes, a, b, kind)| {
            let mut bytes = seeds[seed].clone();
            let len = bytes.len().max(1);
            for (at, v) in writes {
                let at = at as usize % len;
                if let Some(x) = bytes.get_mut(at) {
                    *x = v;
                }
            }
            let (a, b) = (a as usize % len, b as usize % len);
            match kind {
                0 => bytes.truncate(a.max(133)),
                1 => {
                    let (lo, hi) = (a.min(b).max(132), a.max(b));
                    if lo < hi && hi <= bytes.len() {
                        bytes.drain(lo..hi);
                    }
                }
                2 => {
                    // A length field (4 bytes at an even offset) set to all ones.
                    let at = (a.max(132) & !1).min(bytes.len().saturating_sub(4));
                    bytes[at..at + 4].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFE]);
                }
                _ => {}
            }
            let mut outcome = Ok(());
            let largest = largest_allocation(|| {
                outcome = catch_unwind(AssertUnwindSafe(|| harness::dicom_inventory(&bytes)));
            });
            prop_assert!(outcome.is_ok(), "panic on a mutation of seed {seed}");
            // The containment around dicom-rs's decoders is a last resort:
            // Veil's own checks must stop what would make them panic.
            if let Err(e) = veil::image_io::decode_upright(&bytes, &harness::DECODE_LIMITS) {
                prop_assert!(
                    !e.to_string().contains("the pixel decoder failed"),
                    "a dependency panicked on a mutation of seed {seed}"
                );
            }
            prop_assert!(
                largest <= ALLOCATION_CAP,
                "asked for {largest} bytes at once"
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_dicom_whose_jpeg_is_larger_than_its_header_says_is_refused_before_dicom_rs_decodes_it() {
    // Found by dicom_inventory: Rows/Columns smaller than the JPEG's own
    // frame; dicom-rs copied the decoded JPEG past the end of its buffer.
    let bytes = read("dicom_inventory/crash-jpeg-larger-than-header.dcm");
    let err = veil::image_io::decode_upright(&bytes, &harness::DECODE_LIMITS)
        .expect_err("the JPEG and the header disagree");
    let msg = err.to_string();
    assert!(msg.contains("JPEG pixel data: the JPEG is"), "{msg}");
    assert!(!msg.contains("the pixel decoder failed"), "{msg}");
}

#[test]
fn an_rle_dicom_with_two_fragments_for_its_one_frame_is_refused_before_dicom_rs_decodes_it() {
    // Found by dicom_inventory: Number of Frames edited from 2 to 1 and the
    // second fragment overwritten; dicom-rs indexed past a short segment.
    let bytes = read("dicom_inventory/crash-rle-two-fragments-one-frame.dcm");
    let err = veil::image_io::decode_upright(&bytes, &harness::DECODE_LIMITS)
        .expect_err("one frame in two fragments");
    let msg = err.to_string();
    assert!(
        msg.contains("RLE pixel data: 2 fragments for one frame"),
        "{msg}"
    );
}
