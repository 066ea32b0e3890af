//! The one place that decides whether an item may be approved.
//!
//! The review screen, `approve` and `approve --batch` all call [`evaluate`],
//! so no path skips a gate. Pure: no I/O.

pub use crate::checklist::{Gate, GateMethod};
use crate::item::Item;
use crate::policy::Policy;
use serde::Serialize;

/// What the caller knows beyond the item: who is approving now, what they
/// attest on the command line, and who approved before.
#[derive(Debug, Clone, Default)]
pub struct GateContext<'a> {
    /// Fingerprint of the key approving now.
    pub reviewer_key: Option<&'a str>,
    /// Gates attested with this approval (`--attest`), beyond those in the item.
    pub attest_now: &'a [Gate],
    /// Fingerprints of keys that already approved this item's current output.
    pub prior_approvers: &'a [String],
}

/// One gate's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GateStatus {
    pub gate: Gate,
    pub method: GateMethod,
    pub required: bool,
    pub met: bool,
    /// How it was met, or what is missing.
    pub detail: String,
}

/// Every gate's verdict for one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GateReport {
    pub statuses: Vec<GateStatus>,
    pub high_stakes: bool,
}

impl GateReport {
    /// Required gates not met, excluding the second reviewer.
    pub fn unmet(&self) -> Vec<&GateStatus> {
        self.statuses
            .iter()
            .filter(|s| s.required && !s.met && s.gate != Gate::SecondReviewer)
            .collect()
    }

    /// True when a first approval may be recorded.
    pub(crate) fn may_approve(&self) -> bool {
        self.unmet().is_empty()
    }

    /// True when the output may be released now (second reviewer included).
    pub(crate) fn may_release(&self) -> bool {
        self.may_approve()
            && self
                .statuses
                .iter()
                .all(|s| !(s.required && s.gate == Gate::SecondReviewer && !s.met))
    }

    pub fn status(&self, gate: Gate) -> Option<&GateStatus> {
        self.statuses.iter().find(|s| s.gate == gate)
    }

    /// One line per unmet gate: `zoom (mask #2 not seen at 2.0x)`.
    pub(crate) fn unmet_lines(&self) -> Vec<String> {
        self.unmet()
            .iter()
            .map(|s| format!("{} ({})", s.gate, s.detail))
            .collect()
    }

    /// The unmet gates on one line, `; ` between them.
    pub(crate) fn unmet_summary(&self) -> String {
        self.unmet_lines().join("; ")
    }
}

/// True when policy rules or the reviewer flag the item high-stakes.
pub(crate) fn is_high_stakes(item: &Item, policy: &Policy) -> bool {
    let hs = &policy.high_stakes;
    item.high_stakes
        || (hs.faces_at_least > 0 && item.faces_found() >= hs.faces_at_least as usize)
        || item.masks.iter().any(|m| hs.mask_kinds.contains(&m.kind))
}

/// Decide every gate for `item` under `policy`.
pub(crate) fn evaluate(item: &Item, policy: &Policy, ctx: &GateContext<'_>) -> GateReport {
    let high_stakes = is_high_stakes(item, policy);
    let required = |g: Gate| match g {
        Gate::SecondReviewer => high_stakes && policy.high_stakes.second_reviewer,
        g => policy.gates.required.contains(&g),
    };
    let digest = item.masks_digest();
    let statuses = Gate::ALL
        .into_iter()
        .map(|gate| {
            let (met, detail) = match gate {
                Gate::Zoom => zoom_gate(item, policy),
                Gate::Preview => match &item.gates.preview_seen {
                    Some(p) if p.masks_digest == digest => (true, format!("seen at {}", p.at)),
                    Some(_) => (false, "masks changed since the preview was seen".into()),
                    None => (false, "preview not seen (press m)".into()),
                },
                Gate::Metadata => match &item.gates.output_check {
                    Some(c) if c.masks_digest == digest => (
                        true,
                        format!("output {} passed the allowlist", short(&c.output_sha256)),
                    ),
                    Some(_) => (false, "masks changed since the output was checked".into()),
                    None => (false, "output not rendered and checked yet".into()),
                },
                Gate::Reflections => attested_gate(item, ctx, gate),
                Gate::Identifiers => {
                    let (met, detail) = attested_gate(item, ctx, gate);
                    (met, format!("{detail}, {}", text_proposals(item, policy)))
                }
                Gate::Edges => {
                    let (met, detail) = attested_gate(item, ctx, gate);
                    let seen = item.gates.edges_seen.len();
                    (met, format!("{detail}; {seen}/4 edges viewed at zoom"))
                }
                Gate::SecondReviewer => second_reviewer_gate(ctx, high_stakes),
            };
            GateStatus {
                gate,
                method: gate.method(),
                required: required(gate),
                met,
                detail,
            }
        })
        .collect();
    GateReport {
        statuses,
        high_stakes,
    }
}

fn zoom_gate(item: &Item, policy: &Policy) -> (bool, String) {
    let min = policy.min_zoom_pct();
    if item.masks.is_empty() {
        return (true, "no masks to verify".into());
    }
    let unseen: Vec<String> = item
        .unverified(min)
        .iter()
        .map(|m| format!("#{}", m.id))
        .collect();
    if unseen.is_empty() {
        (
            true,
            format!("{} mask(s) seen at ≥{}", item.masks.len(), zoom_label(min)),
        )
    } else {
        (
            false,
            format!(
                "mask {} not seen at {} (press z)",
                unseen.join(", "),
                zoom_label(min)
            ),
        )
    }
}

fn attested_gate(item: &Item, ctx: &GateContext<'_>, gate: Gate) -> (bool, String) {
    if let Some(a) = item.gates.attested.get(&gate) {
        (true, format!("attested by {} at {}", a.reviewer, a.at))
    } else if ctx.attest_now.contains(&gate) {
        (true, "attested with this approval".into())
    } else {
        (false, "not attested".into())
    }
}

/// What the text detector proposed and whether each was seen at zoom,
/// e.g. `text: 3 proposed, #4 not seen at 2.0x`.
fn text_proposals(item: &Item, policy: &Policy) -> String {
    if item.text_detector.is_none() {
        return "no text detector ran: look by eye".into();
    }
    let min = policy.min_zoom_pct();
    let proposed: Vec<&crate::item::Mask> =
        item.masks.iter().filter(|m| m.origin.is_text()).collect();
    let unseen: Vec<String> = proposed
        .iter()
        .filter(|m| !m.verified_at(min))
        .map(|m| format!("#{}", m.id))
        .collect();
    match (proposed.len(), unseen.is_empty()) {
        (0, _) => "text: none proposed".into(),
        (n, true) => format!("text: {n} proposed, all seen at {}", zoom_label(min)),
        (n, false) => format!(
            "text: {n} proposed, {} not seen at {}",
            unseen.join(", "),
            zoom_label(min)
        ),
    }
}

fn second_reviewer_gate(ctx: &GateContext<'_>, high_stakes: bool) -> (bool, String) {
    if !high_stakes {
        return (true, "not high-stakes".into());
    }
    let Some(first) = ctx.prior_approvers.first() else {
        return (
            false,
            "high-stakes: needs approval by two different reviewers".into(),
        );
    };
    match ctx.reviewer_key {
        Some(me) if ctx.prior_approvers.iter().any(|k| k != me) => {
            (true, format!("first approval by {}", short(first)))
        }
        Some(_) => (
            false,
            "high-stakes: the second approval must come from a different reviewer".into(),
        ),
        None => (false, "high-stakes: waiting for a second reviewer".into()),
    }
}

/// `2.0x` from 200.
pub(crate) fn zoom_label(pct: u32) -> String {
    format!("{}.{}x", pct / 100, (pct % 100) / 10)
}

fn short(s: &str) -> &str {
    s.get(..12).unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::fixtures::{item, with_all_evidence as all_evidence};
    use crate::item::*;

    #[test]
    fn a_fresh_item_is_refused_naming_every_unmet_gate() {
        let mut it = item();
        it.add_mask(MaskKind::Face, Rect::new(1, 1, 10, 10), MaskOrigin::Manual);
        let r = evaluate(&it, &Policy::default(), &GateContext::default());
        assert!(!r.may_approve());
        let names: Vec<_> = r.unmet().iter().map(|s| s.gate).collect();
        assert_eq!(
            names,
            vec![
                Gate::Zoom,
                Gate::Preview,
                Gate::Metadata,
                Gate::Reflections,
                Gate::Edges,
                Gate::Identifiers
            ]
        );
    }

    #[test]
    fn full_evidence_passes_and_a_moved_mask_reopens_the_measured_gates() {
        let mut it = item();
        it.add_mask(MaskKind::Face, Rect::new(1, 1, 10, 10), MaskOrigin::Manual);
        all_evidence(&mut it);
        let p = Policy::default();
        assert!(evaluate(&it, &p, &GateContext::default()).may_release());
        it.masks[0].rect.x += 1;
        let r = evaluate(&it, &p, &GateContext::default());
        let names: Vec<_> = r.unmet().iter().map(|s| s.gate).collect();
        assert_eq!(names, vec![Gate::Preview, Gate::Metadata]);
    }

    #[test]
    fn zoom_below_the_minimum_does_not_count() {
        let mut it = item();
        it.add_mask(MaskKind::Face, Rect::new(1, 1, 10, 10), MaskOrigin::Manual);
        all_evidence(&mut it);
        it.masks[0].zoom_check.as_mut().unwrap().zoom_pct = 190;
        let r = evaluate(&it, &Policy::default(), &GateContext::default());
        assert_eq!(r.unmet()[0].gate, Gate::Zoom);
        assert!(r.unmet()[0].detail.contains("#1"));
    }

    #[test]
    fn attestation_on_the_command_line_counts() {
        let mut it = item();
        all_evidence(&mut it);
        it.gates.attested.clear();
        let ctx = GateContext {
            attest_now: &Gate::ATTESTED,
            ..Default::default()
        };
        assert!(evaluate(&it, &Policy::default(), &ctx).may_approve());
    }

    #[test]
    fn high_stakes_needs_a_different_second_key() {
        let mut it = item();
        all_evidence(&mut it);
        it.high_stakes = true;
        let p = Policy::default();
        let first = GateContext {
            reviewer_key: Some("A"),
            ..Default::default()
        };
        let r = evaluate(&it, &p, &first);
        assert!(r.may_approve() && !r.may_release());
        let prior = vec!["A".to_string()];
        let same = GateContext {
            reviewer_key: Some("A"),
            prior_approvers: &prior,
            ..Default::default()
        };
        assert!(!evaluate(&it, &p, &same).may_release());
        let other = GateContext {
            reviewer_key: Some("B"),
            prior_approvers: &prior,
            ..Default::default()
        };
        assert!(evaluate(&it, &p, &other).may_release());
    }

    #[test]
    fn a_tattoo_mask_makes_an_item_high_stakes_by_default() {
        let mut it = item();
        assert!(!is_high_stakes(&it, &Policy::default()));
        it.add_mask(MaskKind::Tattoo, Rect::new(0, 0, 5, 5), MaskOrigin::Manual);
        assert!(is_high_stakes(&it, &Policy::default()));
    }

    #[test]
    fn a_policy_can_switch_measured_gates_off() {
        let mut it = item();
        it.add_mask(MaskKind::Face, Rect::new(1, 1, 10, 10), MaskOrigin::Manual);
        let mut p = Policy::default();
        p.gates.required = vec![Gate::Metadata];
        let mut r = evaluate(&it, &p, &GateContext::default());
        assert_eq!(
            r.unmet_summary(),
            "metadata (output not rendered and checked yet)"
        );
        all_evidence(&mut it);
        r = evaluate(&it, &p, &GateContext::default());
        assert!(r.may_release());
    }

    #[test]
    fn the_identifiers_line_says_what_the_text_detector_proposed_and_what_was_seen() {
        let p = Policy::default();
        let mut it = item();
        let detail = |it: &Item| {
            let r = evaluate(it, &p, &GateContext::default());
            r.status(Gate::Identifiers).unwrap().detail.clone()
        };
        assert!(detail(&it).ends_with("no text detector ran: look by eye"));
        it.text_detector = Some(
            crate::detect::TextDetector::new(&p.detector)
                .unwrap()
                .info(),
        );
        assert!(detail(&it).ends_with("text: none proposed"));
        let text = || MaskOrigin::Detector {
            detector: crate::detect::TEXT_DETECTOR_NAME.into(),
            score_milli: 900,
        };
        it.add_mask(MaskKind::Identifier, Rect::new(1, 1, 10, 4), text());
        it.add_mask(MaskKind::Identifier, Rect::new(1, 20, 10, 4), text());
        it.add_mask(
            MaskKind::Face,
            Rect::new(40, 40, 10, 10),
            MaskOrigin::Manual,
        );
        assert_eq!(
            detail(&it),
            "not attested, text: 2 proposed, #1, #2 not seen at 2.0x"
        );
        all_evidence(&mut it);
        assert!(
            detail(&it).ends_with(", text: 2 proposed, all seen at 2.0x"),
            "{}",
            detail(&it)
        );
    }
}
