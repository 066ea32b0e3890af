//! What the ledger decided about each original: no release after a
//! reject, one release per original, high-stakes never lowered.

use super::*;
use crate::checklist::Gate;
use crate::trust::TrustState;
use std::collections::BTreeMap;

/// What the ledger has decided about each original so far.
#[derive(Default)]
pub(in crate::ledger) struct Decisions {
    /// Original SHA-256 → line of its first reject.
    rejected: BTreeMap<String, usize>,
    /// Original SHA-256 → line of its release.
    released: BTreeMap<String, usize>,
    /// Original SHA-256 → line where it was first high-stakes.
    high_stakes: BTreeMap<String, usize>,
}

impl Decisions {
    /// Judge an approve, countersign or reject against what was decided before.
    #[allow(clippy::too_many_arguments)]
    pub(in crate::ledger) fn check(
        &mut self,
        r: &mut VerifyReport,
        line_no: usize,
        e: &Entry,
        state: &TrustState,
        legacy: bool,
        principal: Option<&str>,
        approvals: &BTreeMap<u64, (usize, Entry, Option<String>)>,
    ) {
        let Some(original) = e.original_sha256.clone().or_else(|| e.item.clone()) else {
            return;
        };
        let mut bad = |m: String| r.push(line_no, Severity::Tampered, m);
        let policy = state.policy.as_ref();
        if !legacy {
            match (policy, &e.policy_digest) {
                (None, _) => bad("a decision before the administrator recorded any policy".into()),
                (Some(p), Some(d)) if &p.digest != d => bad(format!(
                    "decided under policy {}…, but the policy in force (line {}) is {}…: veil.toml was changed without the administrator",
                    short(d),
                    p.line,
                    short(&p.digest)
                )),
                _ => {}
            }
        }
        if e.kind == EntryKind::Reject {
            self.rejected.entry(original).or_insert(line_no);
            return;
        }
        if let Some(p) = policy
            && !legacy
        {
            for g in e.gates.iter().flatten() {
                if g.gate != Gate::SecondReviewer
                    && g.required != p.policy.gates.required.contains(&g.gate)
                {
                    bad(format!(
                        "gate '{}' recorded as {}required, but the policy in force (line {}) says otherwise",
                        g.gate,
                        if g.required { "" } else { "not " },
                        p.line
                    ));
                }
            }
        }
        let flagged = e.high_stakes == Some(true)
            || policy.is_some_and(|p| {
                e.masks
                    .iter()
                    .flatten()
                    .any(|m| p.policy.high_stakes.mask_kinds.contains(&m.kind))
            });
        if flagged {
            self.high_stakes.entry(original.clone()).or_insert(line_no);
        }
        let two_needed = policy.is_none_or(|p| p.policy.high_stakes.second_reviewer);
        if let Some(&since) = self.high_stakes.get(&original)
            && two_needed
        {
            let second_required = e
                .gates
                .iter()
                .flatten()
                .any(|g| g.gate == Gate::SecondReviewer && g.required);
            if !second_required {
                bad(format!(
                    "the original is high-stakes (since line {since}), but this entry records no second reviewer as required: high-stakes status was lowered"
                ));
            }
        }
        if e.kind == EntryKind::Countersign
            && let Some((fl, _, first)) = e.countersigns.and_then(|s| approvals.get(&s))
            && let (Some(a), Some(b)) = (first.as_deref(), principal)
            && a == b
        {
            bad(format!(
                "countersigned by {b}, the same principal as the first approval on line {fl}: two approvals need two people"
            ));
        }
        if e.releases() {
            if let Some(at) = self.rejected.get(&original) {
                bad(format!(
                    "releases an original that was rejected on line {at}: a rejected photo is never released"
                ));
            }
            if let Some(at) = self.released.get(&original) {
                bad(format!(
                    "releases an original already released on line {at}: one original, one release"
                ));
            } else {
                self.released.insert(original, line_no);
            }
        }
    }
}

impl Decisions {
    /// A trusted `withdraw` entry: it must name a live release of the same
    /// item, original and output; that release moves to the withdrawn list
    /// and the original may be released again.
    pub(in crate::ledger) fn withdraw(&mut self, r: &mut VerifyReport, line_no: usize, e: &Entry) {
        let Some(at) = r
            .releases
            .iter()
            .position(|rel| Some(rel.seq) == e.withdraws)
        else {
            return r.push(
                line_no,
                Severity::Tampered,
                format!(
                    "withdraws seq {}, which is not a live release (never released, or already withdrawn)",
                    e.withdraws.map_or_else(|| "?".to_string(), |s| s.to_string())
                ),
            );
        };
        let rel = &r.releases[at];
        let original = e.original_sha256.clone().unwrap_or_default();
        if e.item.as_deref() != Some(rel.item.as_str())
            || e.output_sha256.as_deref() != Some(rel.output_sha256.as_str())
            || e.output_name.as_deref() != Some(rel.output_name.as_str())
            || self.released.get(&original) != Some(&rel.line)
        {
            let line = rel.line;
            return r.push(
                line_no,
                Severity::Tampered,
                format!(
                    "withdraw does not match the release on line {line} (item, original, output name or output SHA-256 differ)"
                ),
            );
        }
        self.released.remove(&original);
        let release = r.releases.remove(at);
        r.withdrawn.push(Withdrawal {
            release,
            line: line_no,
            seq: e.seq,
            ts: e.ts.clone(),
            by: format!(
                "{} ({})",
                crate::text::printable(&e.reviewer.name, 80),
                e.reviewer.fingerprint
            ),
            reason: crate::text::printable(e.reason.as_deref().unwrap_or_default(), 500),
        });
    }
}
