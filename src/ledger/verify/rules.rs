//! The policy rules an entry must satisfy on its own and against earlier
//! entries.

use super::*;
use crate::checklist::{Gate, GateMethod};
use std::collections::{BTreeMap, BTreeSet};

/// The policy rules an entry must satisfy on its own and against earlier ones.
pub(in crate::ledger) fn check_rules(
    r: &mut VerifyReport,
    line_no: usize,
    e: &Entry,
    approvals: &BTreeMap<u64, (usize, Entry, Option<String>)>,
    bytes: &[u8],
    line_start: usize,
) {
    let mut bad = |m: String| r.push(line_no, Severity::Tampered, m);
    match e.kind {
        EntryKind::Approve | EntryKind::Countersign => {
            let missing: Vec<&str> = [
                ("item", e.item.is_none()),
                ("original_sha256", e.original_sha256.is_none()),
                ("output_sha256", e.output_sha256.is_none()),
                ("output_name", e.output_name.is_none()),
                ("gates", e.gates.is_none()),
                ("policy_digest", e.policy_digest.is_none()),
                ("masks", e.masks.is_none()),
            ]
            .into_iter()
            .filter_map(|(n, m)| m.then_some(n))
            .collect();
            if !missing.is_empty() {
                return bad(format!(
                    "{} entry lacks {}",
                    e.kind.as_str(),
                    missing.join(", ")
                ));
            }
            if let Some(name) = &e.output_name
                && !safe_output_name(name)
            {
                bad(format!(
                    "output name '{}' is not a plain file name",
                    crate::text::printable(name, 80)
                ));
            }
            let gates = e.gates.as_deref().unwrap_or_default();
            for g in Gate::ALL {
                let n = gates.iter().filter(|x| x.gate == g).count();
                if n != 1 {
                    bad(format!(
                        "gate '{g}' appears {n} times (every gate must be recorded once)"
                    ));
                }
            }
            let second = Gate::SecondReviewer;
            for g in gates {
                if g.required && !g.met && !(e.kind == EntryKind::Approve && g.gate == second) {
                    bad(format!(
                        "policy: approved with required gate '{}' unmet ({})",
                        g.gate, g.detail
                    ));
                }
                let method = g.gate.method();
                if g.method != method {
                    bad(format!(
                        "gate '{}' recorded as {} but it is {method}",
                        g.gate, g.method
                    ));
                }
            }
            let not_required: BTreeSet<&str> = gates
                .iter()
                .filter(|g| {
                    !g.required
                        && g.gate.method() == GateMethod::Measured
                        && g.gate != Gate::SecondReviewer
                })
                .map(|g| g.gate.as_str())
                .collect();
            let listed: BTreeSet<&str> = e
                .gates_not_required
                .iter()
                .flatten()
                .map(String::as_str)
                .collect();
            if not_required != listed {
                bad("gates_not_required does not list exactly the measured gates the policy switched off".into());
            }
            if e.kind == EntryKind::Countersign {
                let first = e.countersigns.and_then(|s| approvals.get(&s));
                match first {
                    None => {
                        bad("countersign names no earlier first approval (countersigns)".into());
                    }
                    Some((fl, f, _)) => {
                        if f.item != e.item
                            || f.output_sha256 != e.output_sha256
                            || f.output_name != e.output_name
                        {
                            bad(format!(
                                "countersign does not match the first approval on line {fl} (item, output name or output SHA-256 differ)"
                            ));
                        }
                        if !f.needs_second() {
                            bad(format!(
                                "countersigns line {fl}, which did not need a second reviewer"
                            ));
                        }
                        if f.reviewer.fingerprint == e.reviewer.fingerprint {
                            bad(format!(
                                "policy: high-stakes item countersigned by the same key as its first approval (line {fl})"
                            ));
                        }
                    }
                }
            } else if gates
                .iter()
                .any(|g| g.gate == second && g.required && g.met)
            {
                bad("an approve entry claims the second reviewer; only a countersign can".into());
            }
        }
        EntryKind::Reject => {
            if e.item.is_none() || e.reason.is_none() {
                bad("reject entry lacks its item or reason".into());
            }
        }
        EntryKind::Withdraw => {
            let missing: Vec<&str> = [
                ("item", e.item.is_none()),
                ("original_sha256", e.original_sha256.is_none()),
                ("output_sha256", e.output_sha256.is_none()),
                ("output_name", e.output_name.is_none()),
                ("withdraws", e.withdraws.is_none()),
                (
                    "reason",
                    e.reason.as_deref().is_none_or(|r| r.trim().is_empty()),
                ),
            ]
            .into_iter()
            .filter_map(|(n, m)| m.then_some(n))
            .collect();
            if !missing.is_empty() {
                bad(format!("withdraw entry lacks {}", missing.join(", ")));
            }
        }
        EntryKind::Checkpoint => match &e.head {
            None => bad("checkpoint entry lacks its head".into()),
            Some(h) => {
                let prefix = &bytes[..line_start];
                if h.size != line_start as u64 || sha256_hex(prefix) != h.sha256 {
                    bad(format!(
                        "the signed checkpoint ({} bytes, {}…) no longer matches the ledger before it: earlier bytes changed",
                        h.size,
                        short(&h.sha256)
                    ));
                }
            }
        },
        EntryKind::Recovered if e.discarded.is_none() => {
            bad("recovered entry lacks its 'discarded' record".into());
        }
        EntryKind::Header
        | EntryKind::Recovered
        | EntryKind::Admin
        | EntryKind::Enrol
        | EntryKind::Revoke
        | EntryKind::Policy => {}
    }
}
