//! Any sequence of appends and crashes (the file cut at any byte) leaves a
//! ledger that either verifies clean or is recovered by the next append —
//! a `recovered` entry naming the torn bytes — and then verifies clean.
//! A partial line is never counted as an entry, and nothing whole is lost.

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

use proptest::prelude::*;
use std::path::Path;
use veil::keys::{AllowedSigners, Reviewer};
use veil::ledger::{self, Entry, EntryKind, Ledger, Severity};
use veil::trust::{Anchor, Enrolment, Trust};

/// A ledger at `path` with a trust root (an administrator key), the default
/// policy in force and `reviewer` enrolled; returns the auditor's trust.
fn set_up(path: &Path, reviewer: &Reviewer) -> Trust {
    let admin = Reviewer::generate("Prop Administrator").unwrap();
    let text = veil::policy::DEFAULT_POLICY_TOML;
    let mut policy = Entry::draft(EntryKind::Policy);
    policy.policy_digest = Some(veil::policy::Policy::from_toml(text).unwrap().digest());
    policy.policy_text = Some(text.to_string());
    let mut enrol = Entry::draft(EntryKind::Enrol);
    enrol.enrolment = Some(Enrolment::of(reviewer));
    Ledger::open(path)
        .unwrap()
        .append(&admin, vec![Entry::draft(EntryKind::Admin), policy, enrol])
        .unwrap();
    Trust {
        anchor: Some(Anchor::Admin {
            key: admin.public_key().clone(),
            signers: None,
        }),
        workspace_signers: AllowedSigners::default(),
    }
}

#[derive(Debug, Clone)]
enum Step {
    /// Append this many entries in one write (a reject, or a checkpoint).
    Append { drafts: usize, checkpoint: bool },
    /// A crash: the file is cut at this position (0 ..= its length).
    CutAt(prop::sample::Index),
    /// A crash that loses only a line's newline (rare when cutting
    /// anywhere, and the case where torn bytes are a whole entry).
    CutNewline(prop::sample::Index),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (1usize..=3, any::<bool>()).prop_map(|(drafts, checkpoint)| Step::Append { drafts, checkpoint }),
        2 => any::<prop::sample::Index>().prop_map(Step::CutAt),
        1 => any::<prop::sample::Index>().prop_map(Step::CutNewline),
    ]
}

fn draft(n: usize, checkpoint: bool) -> Entry {
    if checkpoint {
        return Entry::draft(EntryKind::Checkpoint);
    }
    let mut e = Entry::draft(EntryKind::Reject);
    e.item = Some(format!("item{n}"));
    e.original_sha256 = Some("ab".repeat(32));
    e.reason = Some("property test".into());
    e
}

/// What the test knows is in the file: every whole line that is an entry,
/// by byte range (newline excluded).
#[derive(Default)]
struct Model {
    lines: Vec<Line>,
}

struct Line {
    start: usize,
    end: usize,
    /// A whole entry whose newline never made it, claimed as debris by the
    /// entry starting here. If a later crash cuts that claim off, the bytes
    /// are a whole entry again (the file cannot tell the two apart).
    claimed_by: Option<usize>,
}

impl Model {
    /// The lines `verify` counts as entries: a claim holds only while its
    /// claimer is itself counted (claims point back, so go last to first).
    fn counted(&self) -> impl Iterator<Item = &Line> {
        let mut counted = vec![false; self.lines.len()];
        for i in (0..self.lines.len()).rev() {
            counted[i] = self.lines[i].claimed_by.is_none_or(|c| {
                !(i + 1..self.lines.len()).any(|j| counted[j] && self.lines[j].start == c)
            });
        }
        self.lines
            .iter()
            .zip(counted)
            .filter(|(_, c)| *c)
            .map(|(l, _)| l)
    }

    /// Where the last counted entry's line ends, newline included.
    fn whole(&self) -> usize {
        self.counted().last().map_or(0, |l| l.end + 1)
    }

    /// A crash: only lines whose newline is before `at` survive.
    fn cut(&mut self, at: usize) {
        self.lines.retain(|l| l.end < at);
    }

    /// An append wrote `after[from..]`: a newline ending torn bytes if it
    /// recovered any, then whole entry lines.
    fn appended(&mut self, after: &[u8], from: usize, recovered: bool) {
        let torn_start = after[..from]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |p| p + 1);
        if !recovered && torn_start < from && ledger::parse_line(&after[torn_start..from]).is_ok() {
            // The append finished a whole entry that had lost its newline.
            self.lines.push(Line {
                start: torn_start,
                end: from,
                claimed_by: None,
            });
        }
        let mut start = from;
        for (i, b) in after.iter().enumerate().skip(from) {
            if *b == b'\n' {
                if i > start {
                    self.lines.push(Line {
                        start,
                        end: i,
                        claimed_by: None,
                    });
                }
                start = i + 1;
            }
        }
    }
}

fn describe(r: &ledger::VerifyReport) -> String {
    ledger::describe(r)
}

/// After a cut: nothing is called tampered, a torn tail is reported, and
/// exactly the whole surviving entries are counted.
fn check_after_cut(bytes: &[u8], model: &Model, trusted: &Trust) -> Result<(), TestCaseError> {
    let r = ledger::verify(bytes, trusted, None);
    prop_assert_eq!(r.count(Severity::Tampered), 0, "{}", describe(&r));
    prop_assert_eq!(
        r.entries,
        model.counted().count(),
        "a partial line was counted, or a whole one lost: {}",
        describe(&r)
    );
    let whole = model.whole();
    if bytes.len() > whole {
        prop_assert_eq!(
            r.worst(),
            Some(Severity::Warning),
            "torn tail not reported: {}",
            describe(&r)
        );
    } else {
        prop_assert_eq!(
            r.worst(),
            None,
            "a cut between entries is a clean ledger: {}",
            describe(&r)
        );
    }
    Ok(())
}

/// An append: it succeeds, keeps every byte already there, accounts for
/// exactly the bytes after the last whole entry, and leaves a clean ledger.
fn check_append(
    path: &Path,
    reviewer: &Reviewer,
    trusted: &Trust,
    model: &mut Model,
    drafts: Vec<Entry>,
) -> Result<(), TestCaseError> {
    let before = std::fs::read(path).unwrap_or_default();
    let whole = model.whole();
    let n = drafts.len();
    let report = Ledger::open(path)
        .and_then(|mut l| l.append(reviewer, drafts))
        .map_err(|e| TestCaseError::fail(format!("append failed: {e}")))?;
    let after = std::fs::read(path).unwrap();
    prop_assert!(
        after.starts_with(&before),
        "bytes already in the ledger were rewritten"
    );
    prop_assert_eq!(report.entries.len(), n);
    match &report.recovered {
        Some(d) => {
            prop_assert!(
                before.len() > whole,
                "recovered bytes that were whole entries"
            );
            prop_assert_eq!(d.offset as usize, whole);
            prop_assert_eq!(d.length as usize, before.len() - whole);
            prop_assert_eq!(&d.sha256, &ledger::sha256_hex(&before[whole..]));
        }
        // A whole entry that lost only its newline is finished, not claimed.
        None if before.len() > whole => {
            let torn = before
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |p| p + 1);
            prop_assert!(
                ledger::parse_line(&before[torn..]).is_ok() && after[before.len()] == b'\n',
                "torn bytes not recorded"
            );
        }
        None => {}
    }
    prop_assert!(!report.created, "the set-up's header is never cut");
    model.appended(&after, before.len(), report.recovered.is_some());
    let r = ledger::verify(&after, trusted, None);
    prop_assert_eq!(r.worst(), None, "{}", describe(&r));
    prop_assert_eq!(r.entries, model.counted().count(), "{}", describe(&r));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn any_sequence_of_appends_and_cuts_verifies_clean_or_is_recovered_by_the_next_append(
        steps in prop::collection::vec(step(), 1..12)
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.jsonl");
        let reviewer = Reviewer::generate("Prop Tester").unwrap();
        let trusted = set_up(&path, &reviewer);
        let mut model = Model::default();
        model.appended(&std::fs::read(&path).unwrap(), 0, false);
        // Crashes happen after the administrator's set-up.
        let floor = model.whole();
        let mut serial = 0;
        // Every sequence ends with an append: the recovery is always checked.
        let last = Step::Append { drafts: 1, checkpoint: false };
        for s in steps.into_iter().chain([last]) {
            match s {
                Step::Append { drafts, checkpoint } => {
                    let ds = (0..drafts).map(|i| draft(serial + i, checkpoint && i == 0)).collect();
                    serial += drafts;
                    check_append(&path, &reviewer, &trusted, &mut model, ds)?;
                }
                Step::CutAt(_) | Step::CutNewline(_) => {
                    let bytes = std::fs::read(&path).unwrap_or_default();
                    let newlines: Vec<usize> =
                        (floor..bytes.len()).filter(|&p| bytes[p] == b'\n').collect();
                    let at = match s {
                        Step::CutNewline(i) if !newlines.is_empty() => newlines[i.index(newlines.len())],
                        Step::CutAt(i) | Step::CutNewline(i) => floor + i.index(bytes.len() - floor + 1),
                        Step::Append { .. } => unreachable!(),
                    };
                    std::fs::write(&path, &bytes[..at]).unwrap();
                    model.cut(at);
                    check_after_cut(&bytes[..at], &model, &trusted)?;
                }
            }
        }
    }
}

/// Entry A's newline is lost in a crash: the next append finishes A's line
/// and builds on it. A whole, validly signed entry is never claimed as
/// debris (such a claim is what an eraser would write).
#[test]
fn a_whole_entry_whose_newline_was_lost_is_finished_by_the_next_append_not_claimed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.jsonl");
    let reviewer = Reviewer::generate("Prop Tester").unwrap();
    let trusted = set_up(&path, &reviewer);
    let append = |n: usize| {
        Ledger::open(&path)
            .unwrap()
            .append(&reviewer, vec![draft(n, false)])
            .unwrap()
    };
    append(1);
    append(2); // A
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
    let r = append(3);
    assert!(r.recovered.is_none(), "A is finished, not claimed");
    let after = std::fs::read(&path).unwrap();
    assert!(after.starts_with(&bytes[..bytes.len() - 1]));
    let v = ledger::verify(&after, &trusted, None);
    assert_eq!(v.worst(), None, "{}", describe(&v));
    // Header, admin, policy, enrolment, 1, A, 3.
    assert_eq!(v.entries, 7, "{}", describe(&v));
}

/// The header of a new ledger loses its newline: the next append finishes
/// it instead of starting a second ledger.
#[test]
fn a_header_whose_newline_was_lost_is_finished_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.jsonl");
    let reviewer = Reviewer::generate("Prop Tester").unwrap();
    let append =
        |n: usize| Ledger::open(&path).and_then(|mut l| l.append(&reviewer, vec![draft(n, false)]));
    append(1).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let nl = bytes.iter().position(|b| *b == b'\n').unwrap();
    std::fs::write(&path, &bytes[..nl]).unwrap();
    let r = append(2).unwrap();
    assert!(!r.created && r.recovered.is_none());
    let trusted = Trust::workspace(AllowedSigners::parse(&reviewer.allowed_signers_line()));
    let v = ledger::verify(&std::fs::read(&path).unwrap(), &trusted, None);
    assert_eq!(v.count(Severity::Tampered), 0, "{}", describe(&v));
    // Header and entry 2 (entry 1 was cut with the header's newline); no
    // trust root, so the only warning is legacy trust.
    assert_eq!(v.entries, 2, "{}", describe(&v));
    assert_eq!(v.count(Severity::Warning), 1, "{}", describe(&v));
}
