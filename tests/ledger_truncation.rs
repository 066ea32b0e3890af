//! A ledger cut short (a crash mid-write) is never read as more than its
//! whole lines, and the next append accounts for the torn bytes.

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

mod ledger_support;

use ledger_support::*;
use veil::ledger::{self, EntryKind, Ledger, Severity};

#[test]
fn a_ledger_cut_at_every_byte_offset_never_counts_a_partial_line_and_the_next_append_recovers() {
    let f = Fixture::new();
    let path = f.ws.ledger_path();
    append_rejects(&path, &f.a, 1);
    let full = f.ledger_bytes();
    let signers = f.signers();
    let whole = ledger::entries(&full).len();
    assert_eq!(whole, SETUP_LINES + 1);
    // Crashes after the administrator's set-up (cutting into it cuts the
    // trust root off, which is another test's business).
    let setup_len = full
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(SETUP_LINES - 1)
        .unwrap()
        .0
        + 1;

    // Thousands of fsyncs: on tmpfs when there is one (this test is about
    // what is counted, not about the disk), else beside the workspace.
    let shm = tempfile::tempdir_in("/dev/shm").ok();
    let scratch = shm
        .as_ref()
        .map_or_else(|| f.path().to_path_buf(), |d| d.path().to_path_buf())
        .join("cut.jsonl");
    for cut in setup_len..=full.len() {
        let bytes = &full[..cut];
        let complete_lines = bytes.iter().filter(|b| **b == b'\n').count();
        let torn = cut > 0 && full[cut - 1] != b'\n';

        // Verify counts only whole lines, and says so when a line is torn.
        let r = ledger::verify(bytes, &signers, None);
        assert_eq!(r.entries, complete_lines, "cut at {cut}: {}", problems(&r));
        assert_eq!(
            r.count(Severity::Tampered),
            0,
            "cut at {cut}: {}",
            problems(&r)
        );
        assert_eq!(r.worst().is_some(), torn, "cut at {cut}: {}", problems(&r));

        // The next append records the torn bytes and leaves a clean ledger.
        std::fs::write(&scratch, bytes).unwrap();
        let report = Ledger::open(&scratch)
            .unwrap()
            .append(&f.b, vec![reject_draft("after-the-crash")])
            .unwrap();
        let after = std::fs::read(&scratch).unwrap();
        assert!(
            after.starts_with(bytes),
            "cut at {cut}: bytes were rewritten"
        );
        let r = ledger::verify(&after, &signers, None);
        assert_eq!(r.worst(), None, "cut at {cut}: {}", problems(&r));
        let all = ledger::entries(&after);
        match &report.recovered {
            Some(d) => {
                assert!(torn, "cut at {cut}: recovered bytes that were whole lines");
                let start = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
                assert_eq!(d.offset as usize, start, "cut at {cut}");
                assert_eq!((d.offset + d.length) as usize, cut, "cut at {cut}");
                assert_eq!(d.sha256, ledger::sha256_hex(&full[start..cut]));
                let claim = all.iter().find(|l| l.entry.discarded.is_some()).unwrap();
                assert_eq!(claim.entry.kind, EntryKind::Recovered, "cut at {cut}");
            }
            // A whole entry that lost only its newline is finished instead.
            None => assert!(
                !torn || cut + 1 == full.len(),
                "cut at {cut}: torn bytes not recorded"
            ),
        }
        assert_eq!(
            all.last().unwrap().entry.item.as_deref(),
            Some("after-the-crash")
        );

        // And the ledger goes on from there.
        Ledger::open(&scratch)
            .unwrap()
            .append(&f.a, vec![reject_draft("later")])
            .unwrap();
        let r = ledger::verify(&std::fs::read(&scratch).unwrap(), &signers, None);
        assert_eq!(
            r.worst(),
            None,
            "cut at {cut}, second append: {}",
            problems(&r)
        );
        assert_eq!(r.entries, all.len() + 1, "cut at {cut}");
    }
}

#[test]
fn a_torn_tail_stays_in_the_file_and_is_named_by_offset_length_and_hash() {
    let f = Fixture::new();
    let path = f.ws.ledger_path();
    append_rejects(&path, &f.a, 2);
    let mut bytes = f.ledger_bytes();
    let good_len = bytes.len();
    bytes.extend_from_slice(b"{\"item\":\"half-writ");
    std::fs::write(&path, &bytes).unwrap();

    let r = f.verify();
    assert_eq!(r.worst(), Some(Severity::Warning), "{}", problems(&r));
    assert!(
        problems(&r).contains("interrupted write"),
        "{}",
        problems(&r)
    );

    let report = Ledger::open(&path)
        .unwrap()
        .append(&f.a, vec![reject_draft("next")])
        .unwrap();
    let d = report.recovered.unwrap();
    assert_eq!(d.offset as usize, good_len);
    assert_eq!(d.length, 18);
    assert_eq!(d.sha256, ledger::sha256_hex(b"{\"item\":\"half-writ"));
    let after = f.ledger_bytes();
    assert!(
        after.starts_with(&bytes),
        "the torn bytes must stay, not be truncated"
    );
    let r = f.verify();
    assert_eq!(r.worst(), None, "{}", problems(&r));
    assert!(
        problems(&r).contains("18 bytes at offset"),
        "{}",
        problems(&r)
    );
}

#[test]
fn an_append_refuses_to_build_on_a_whole_line_that_is_not_an_entry() {
    let f = Fixture::new();
    let path = f.ws.ledger_path();
    append_rejects(&path, &f.a, 1);
    let mut bytes = f.ledger_bytes();
    bytes.extend_from_slice(b"{\"kind\":\"approve\"}\n");
    std::fs::write(&path, &bytes).unwrap();
    let err = Ledger::open(&path)
        .unwrap()
        .append(&f.a, vec![reject_draft("x")])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("line {}", SETUP_LINES + 2)) && err.contains("veil verify"),
        "{err}"
    );
    assert_eq!(f.ledger_bytes(), bytes, "nothing may be appended");
}

#[test]
fn a_crash_while_recording_a_recovery_is_itself_recovered() {
    let f = Fixture::new();
    let path = f.ws.ledger_path();
    append_rejects(&path, &f.a, 2);
    let good = f.ledger_bytes();
    // First crash: half a line.
    let mut bytes = good.clone();
    bytes.extend_from_slice(b"{\"item\":\"tor");
    std::fs::write(&path, &bytes).unwrap();
    // The recovering append starts, then dies part-way through its line.
    Ledger::open(&path)
        .unwrap()
        .append(&f.a, vec![reject_draft("lost")])
        .unwrap();
    let recovered = f.ledger_bytes();
    let cut = bytes.len() + 1 + 40;
    std::fs::write(&path, &recovered[..cut]).unwrap();
    // The next append accounts for both crashes at once.
    let report = Ledger::open(&path)
        .unwrap()
        .append(&f.b, vec![reject_draft("kept")])
        .unwrap();
    let d = report.recovered.unwrap();
    assert_eq!(d.offset as usize, good.len());
    assert_eq!((d.offset + d.length) as usize, cut);
    let r = f.verify();
    assert_eq!(r.worst(), None, "{}", problems(&r));
    let items: Vec<_> = ledger::entries(&f.ledger_bytes())
        .into_iter()
        .filter_map(|l| l.entry.item)
        .collect();
    assert_eq!(items, vec!["item0", "item1", "kept"]);
}
