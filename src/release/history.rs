//! What the ledger has decided about an original, and what approving it
//! now would mean. Pure: no I/O.

use super::ReleaseError;
use crate::gates::{self, Gate, GateContext, GateReport};
use crate::item::{Item, ItemState};
use crate::ledger::{EntryKind, Located};
use crate::policy::Policy;

/// What the ledger has decided about one original.
#[derive(Debug, Default)]
pub(super) struct History {
    /// Line of a reject.
    pub(super) rejected: Option<usize>,
    /// Line of a live (not withdrawn) release and the SHA-256 it released.
    pub(super) released: Option<(usize, String)>,
    /// An approval found it high-stakes (ever: a withdrawal does not lower it).
    pub(super) high_stakes: bool,
    /// Index position after the original's last withdrawal: approvals
    /// before it belong to a release that was taken back.
    pub(super) since: usize,
}

/// What the ledger decided about `original`, reading every entry that names it.
pub(super) fn history(index: &[Located], original: &str) -> History {
    let mut h = History::default();
    let mut live_seq = None;
    for (at, l) in index
        .iter()
        .enumerate()
        .filter(|(_, l)| l.entry.original_sha256.as_deref() == Some(original))
    {
        match l.entry.kind {
            EntryKind::Reject => {
                h.rejected.get_or_insert(l.line);
            }
            EntryKind::Approve | EntryKind::Countersign => {
                h.high_stakes |= l.entry.high_stakes == Some(true);
                if l.entry.releases() && h.released.is_none() {
                    h.released = Some((l.line, l.entry.output_sha256.clone().unwrap_or_default()));
                    live_seq = Some(l.entry.seq);
                }
            }
            EntryKind::Withdraw if live_seq.is_some() && l.entry.withdraws == live_seq => {
                h.released = None;
                live_seq = None;
                h.since = at + 1;
            }
            _ => {}
        }
    }
    h
}

/// What approving an item now means, decided from the ledger alone.
#[derive(Debug)]
pub(super) enum Decision {
    /// An interrupted run already released these bytes: finish the item.
    AlreadyReleased { name: String, seq: u64 },
    /// This reviewer already gave the first approval of these bytes: the
    /// item waits for someone else.
    AlreadyFirst { name: String, seq: u64 },
    /// Not now: one line per unmet gate.
    Refused(Vec<String>),
    /// Write an entry of `kind`; a countersign reuses the first approval's
    /// output `name` and names its seq.
    Write {
        kind: EntryKind,
        name: Option<String>,
        countersigns: Option<u64>,
        report: GateReport,
    },
}

/// Everything [`decide`] needs: the item as approving would record it,
/// the bytes it renders to, and the ledger since its last withdrawal.
pub(super) struct Approval<'a> {
    /// The item with this approval's attestations, unsealed evidence
    /// dropped and high-stakes raised from the ledger.
    pub(super) item: &'a Item,
    /// The item's masks digest (computed once by the caller).
    pub(super) masks_digest: &'a str,
    pub(super) output_sha256: &'a str,
    /// Entries since the original's last withdrawal.
    pub(super) cycle: &'a [Located],
    pub(super) past: &'a History,
    /// The approving reviewer's principal.
    pub(super) me: &'a str,
    /// Who signed an entry (its principal, or its fingerprint if unknown).
    pub(super) principal_of: &'a dyn Fn(&Located) -> String,
    pub(super) policy: &'a Policy,
    pub(super) attest: &'a [Gate],
    /// Pieces of measured evidence dropped for want of a valid seal.
    pub(super) unsealed: usize,
}

/// Decide what approving means now. Two people means two principals,
/// never two keys of one; the second reviewer must approve the first
/// approval's exact bytes.
pub(super) fn decide(a: &Approval<'_>) -> Result<Decision, ReleaseError> {
    let item = a.item;
    let mine = |l: &&Located| {
        l.entry.item.as_deref() == Some(item.id.as_str())
            && l.entry.output_sha256.as_deref() == Some(a.output_sha256)
    };
    // An interrupted earlier run may already have recorded this (in this
    // release cycle: what was withdrawn is not done).
    if let Some(done) = a
        .cycle
        .iter()
        .rev()
        .filter(mine)
        .find(|l| l.entry.releases())
    {
        return Ok(Decision::AlreadyReleased {
            name: done.entry.output_name.clone().unwrap_or_default(),
            seq: done.entry.seq,
        });
    }
    let firsts: Vec<&Located> = a
        .cycle
        .iter()
        .filter(mine)
        .filter(|l| l.entry.needs_second())
        .collect();
    if let Some((line, _)) = &a.past.released {
        return Err(ReleaseError::ReleasedInLedger {
            id: item.id.clone(),
            line: *line,
        });
    }
    if let Some(f) = firsts.iter().find(|l| (a.principal_of)(l) == a.me)
        && item.state != ItemState::AwaitingSecond
    {
        return Ok(Decision::AlreadyFirst {
            name: f.entry.output_name.clone().unwrap_or_default(),
            seq: f.entry.seq,
        });
    }
    // Same masks, different bytes: the second reviewer must get the first
    // approval's SHA-256, or nothing is released.
    if let Some(f) = a.cycle.iter().rev().find(|l| {
        l.entry.needs_second()
            && l.entry.item.as_deref() == Some(item.id.as_str())
            && l.entry.masks_digest.as_deref() == Some(a.masks_digest)
            && l.entry.output_sha256.as_deref() != Some(a.output_sha256)
    }) && item.state == ItemState::AwaitingSecond
        && firsts.is_empty()
    {
        return Err(ReleaseError::RenderMismatch {
            id: item.id.clone(),
            line: f.line,
            expected: f.entry.output_sha256.clone().unwrap_or_default(),
            found: a.output_sha256.to_string(),
        });
    }
    let prior: Vec<String> = firsts.iter().map(|l| (a.principal_of)(l)).collect();
    let report = gates::evaluate(
        item,
        a.policy,
        &GateContext {
            reviewer_key: Some(a.me),
            attest_now: a.attest,
            prior_approvers: &prior,
        },
    );
    if !report.may_approve() {
        let mut unmet = report.unmet_lines();
        if a.unsealed > 0 {
            unmet.push(format!(
                "{} piece(s) of measured evidence in the item file carry no valid seal by an enrolled reviewer's review station and were not counted (view them again in `veil review`)",
                a.unsealed
            ));
        }
        return Ok(Decision::Refused(unmet));
    }
    let second_required = report
        .status(Gate::SecondReviewer)
        .is_some_and(|s| s.required);
    let (kind, name, countersigns) = if report.may_release() {
        match firsts.iter().find(|l| (a.principal_of)(l) != a.me) {
            Some(f) if second_required => (
                EntryKind::Countersign,
                f.entry.output_name.clone(),
                Some(f.entry.seq),
            ),
            _ => (EntryKind::Approve, None, None),
        }
    } else if prior.is_empty() {
        (EntryKind::Approve, None, None)
    } else {
        let detail = report
            .status(Gate::SecondReviewer)
            .map(|s| s.detail.clone())
            .unwrap_or_default();
        return Ok(Decision::Refused(vec![format!(
            "{} ({detail})",
            Gate::SecondReviewer
        )]));
    };
    Ok(Decision::Write {
        kind,
        name,
        countersigns,
        report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checklist::GateMethod;
    use crate::item::fixtures::{item, with_all_evidence};
    use crate::item::{MaskKind, MaskOrigin, Rect};
    use crate::ledger::{Entry, EntryGate};

    const BYTES: &str = "out-sha";

    /// An entry about `item` of `kind`, signed by `key`, for `BYTES`.
    fn entry(item: &Item, kind: EntryKind, key: &str, seq: u64, waits: bool) -> Located {
        let mut e = Entry::draft(kind);
        e.describe_item(item);
        e.seq = seq;
        e.reviewer.fingerprint = key.into();
        e.output_sha256 = Some(BYTES.into());
        e.output_name = Some(format!("Case_{seq}.jpg"));
        e.gates = Some(vec![EntryGate {
            gate: Gate::SecondReviewer,
            method: GateMethod::Measured,
            required: waits,
            met: false,
            detail: String::new(),
        }]);
        Located {
            line: seq as usize + 1,
            hash: String::new(),
            entry: e,
        }
    }

    /// Keys `ada-1` and `ada-2` are both Ada's; any other key is itself.
    fn principal(l: &Located) -> String {
        let fp = &l.entry.reviewer.fingerprint;
        fp.strip_prefix("ada-").map_or(fp.clone(), |_| "ada".into())
    }

    fn ready(high_stakes: bool) -> Item {
        let mut it = item();
        it.add_mask(MaskKind::Face, Rect::new(1, 1, 10, 10), MaskOrigin::Manual);
        it.high_stakes = high_stakes;
        with_all_evidence(&mut it);
        it
    }

    fn decide_as(
        me: &str,
        it: &Item,
        cycle: &[Located],
        past: &History,
    ) -> Result<Decision, ReleaseError> {
        decide(&Approval {
            item: it,
            masks_digest: &it.masks_digest(),
            output_sha256: BYTES,
            cycle,
            past,
            me,
            principal_of: &principal,
            policy: &Policy::default(),
            attest: &[],
            unsealed: 0,
        })
    }

    #[test]
    fn an_item_with_every_gate_met_is_approved_under_a_new_name() {
        let d = decide_as("ada", &ready(false), &[], &History::default()).unwrap();
        assert!(
            matches!(
                d,
                Decision::Write {
                    kind: EntryKind::Approve,
                    name: None,
                    countersigns: None,
                    ..
                }
            ),
            "{d:?}"
        );
    }

    #[test]
    fn an_item_without_evidence_is_refused_one_line_per_gate_and_unsealed_evidence_is_named() {
        let mut it = item();
        it.add_mask(MaskKind::Face, Rect::new(1, 1, 10, 10), MaskOrigin::Manual);
        let d = decide(&Approval {
            item: &it,
            masks_digest: &it.masks_digest(),
            output_sha256: BYTES,
            cycle: &[],
            past: &History::default(),
            me: "ada",
            principal_of: &principal,
            policy: &Policy::default(),
            attest: &[],
            unsealed: 2,
        })
        .unwrap();
        let Decision::Refused(lines) = d else {
            panic!("not refused: {d:?}")
        };
        assert!(lines[0].starts_with("zoom ("), "{lines:?}");
        assert!(
            lines.iter().any(|l| l.starts_with("preview (")),
            "{lines:?}"
        );
        assert!(
            lines
                .last()
                .unwrap()
                .starts_with("2 piece(s) of measured evidence"),
            "{lines:?}"
        );
    }

    #[test]
    fn bytes_an_interrupted_run_released_are_finished_not_released_twice() {
        let it = ready(false);
        let cycle = [entry(&it, EntryKind::Approve, "ada-1", 4, false)];
        let d = decide_as("ada", &it, &cycle, &History::default()).unwrap();
        assert!(
            matches!(&d, Decision::AlreadyReleased { name, seq: 4 } if name == "Case_4.jpg"),
            "{d:?}"
        );
    }

    #[test]
    fn a_live_release_of_the_original_refuses_another() {
        let past = History {
            released: Some((9, "x".into())),
            ..History::default()
        };
        let err = decide_as("ada", &ready(false), &[], &past).unwrap_err();
        assert!(
            matches!(err, ReleaseError::ReleasedInLedger { line: 9, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_first_approval_by_the_same_person_is_not_made_twice() {
        let it = ready(true);
        let cycle = [entry(&it, EntryKind::Approve, "ada-1", 4, true)];
        let d = decide_as("ada", &it, &cycle, &History::default()).unwrap();
        assert!(matches!(d, Decision::AlreadyFirst { seq: 4, .. }), "{d:?}");
    }

    #[test]
    fn a_different_person_countersigns_the_first_approvals_output() {
        let mut it = ready(true);
        let cycle = [entry(&it, EntryKind::Approve, "ada-1", 4, true)];
        it.state = ItemState::AwaitingSecond;
        let d = decide_as("bob", &it, &cycle, &History::default()).unwrap();
        assert!(
            matches!(&d, Decision::Write { kind: EntryKind::Countersign, name: Some(n), countersigns: Some(4), .. } if n == "Case_4.jpg"),
            "{d:?}"
        );
    }

    #[test]
    fn a_second_key_of_the_same_person_is_not_a_second_reviewer() {
        let mut it = ready(true);
        let cycle = [entry(&it, EntryKind::Approve, "ada-1", 4, true)];
        it.state = ItemState::AwaitingSecond;
        let d = decide_as("ada", &it, &cycle, &History::default()).unwrap();
        let Decision::Refused(lines) = d else {
            panic!("not refused: {d:?}")
        };
        assert_eq!(lines.len(), 1);
        assert!(lines[0].starts_with("second_reviewer ("), "{lines:?}");
    }

    #[test]
    fn the_second_reviewer_must_get_the_first_approvals_exact_bytes() {
        let mut it = ready(true);
        let mut first = entry(&it, EntryKind::Approve, "ada-1", 4, true);
        first.entry.output_sha256 = Some("other-bytes".into());
        it.state = ItemState::AwaitingSecond;
        let err = decide_as("bob", &it, &[first], &History::default()).unwrap_err();
        assert!(
            matches!(&err, ReleaseError::RenderMismatch { line: 5, expected, .. } if expected == "other-bytes"),
            "{err}"
        );
    }
}
