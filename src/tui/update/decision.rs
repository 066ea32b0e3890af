//! Deciding an item from the station: attested gates, high-stakes, ready
//! for the batch, approve and reject; outcomes shown as messages.

use super::*;
use crate::gates::Gate;
use crate::item::{Attestation, ItemState};
use crate::tui::app::{App, Message, Overlay, Tone};

/// Attest (or withdraw) the attested gate on number key `index + 1`.
pub(super) fn toggle_attest(app: &mut App, index: u8, fx: &mut Vec<Effect>) {
    let Some(gate) = Gate::ATTESTED.get(usize::from(index)).copied() else {
        say(
            app,
            format!("no attested gate on key {}", index + 1),
            Tone::Info,
        );
        return;
    };
    if !may_edit(app) {
        return;
    }
    let Some(reviewer) = app.reviewer.clone() else {
        say(
            app,
            "no reviewer identity: run `veil reviewer init --name NAME` first",
            Tone::Bad,
        );
        return;
    };
    let now = app.clock.now();
    let Some(item) = app.item_mut() else { return };
    let on = if item.gates.attested.remove(&gate).is_some() {
        false
    } else {
        item.gates
            .attested
            .insert(gate, Attestation { reviewer, at: now });
        true
    };
    say(
        app,
        format!(
            "{}: {}",
            gate.title(),
            if on {
                "attested"
            } else {
                "attestation withdrawn"
            }
        ),
        Tone::Info,
    );
    save(app, fx);
}

/// Flag the item high-stakes, or lower a flag the reviewer set.
pub(super) fn toggle_high_stakes(app: &mut App, fx: &mut Vec<Effect>) {
    if !may_edit(app) {
        return;
    }
    let Some(item) = app.item_mut() else { return };
    item.high_stakes = !item.high_stakes;
    let flagged = item.high_stakes;
    let by_policy = !flagged
        && app
            .item()
            .is_some_and(|i| crate::gates::is_high_stakes(i, &app.policy));
    let text = if flagged {
        "flagged high-stakes: a second, different reviewer must approve"
    } else if by_policy {
        "flag removed, but the policy still makes this item high-stakes"
    } else {
        "high-stakes flag removed"
    };
    say(app, text, Tone::Info);
    save(app, fx);
}

/// Mark the item ready for `approve --batch`, or back to pending.
pub(super) fn mark_ready(app: &mut App, fx: &mut Vec<Effect>) {
    if !may_touch(app) {
        return;
    }
    let Some(item) = app.item_mut() else { return };
    let now_ready = match item.state {
        ItemState::Pending => true,
        ItemState::Ready => false,
        s => {
            let text = format!("only pending items can be marked ready (this one is {s})");
            say(app, text, Tone::Bad);
            return;
        }
    };
    item.state = if now_ready {
        ItemState::Ready
    } else {
        ItemState::Pending
    };
    let unmet = app
        .gate_report()
        .map(|r| r.unmet_summary())
        .unwrap_or_default();
    let text = match (now_ready, unmet.is_empty()) {
        (true, true) => "marked ready for approve --batch".to_string(),
        (true, false) => format!("marked ready; approve --batch will still refuse: {unmet}"),
        (false, _) => "back to pending".to_string(),
    };
    say(app, text, Tone::Info);
    save(app, fx);
}

/// Ask to approve the item, with what this reviewer attested.
pub(super) fn approve(app: &mut App, fx: &mut Vec<Effect>) {
    if !may_touch(app) {
        return;
    }
    let Some(item) = app.item() else { return };
    if !item.state.is_open() {
        let text = format!("this item is {}; it cannot be approved", item.state);
        say(app, text, Tone::Bad);
        return;
    }
    let item_id = item.id.clone();
    let Some(report) = app.gate_report() else {
        return;
    };
    if !report.may_approve() {
        app.overlay = Overlay::Message(Message {
            title: "Approval refused".into(),
            lines: refusal_lines(&report),
            tone: Tone::Bad,
        });
        return;
    }
    let attest = Gate::ATTESTED
        .into_iter()
        .filter(|g| app.item().is_some_and(|i| i.gates.attested.contains_key(g)))
        .collect();
    say(app, "approving…", Tone::Info);
    fx.push(Effect::Approve { item_id, attest });
}

/// The unmet gates, one per line, with what to do about each.
pub(crate) fn refusal_lines(report: &crate::gates::GateReport) -> Vec<String> {
    let mut lines = vec!["These gates are not met yet:".to_string()];
    for s in report.unmet() {
        lines.push(format!("✗ {} — {}", s.gate.title(), s.detail));
    }
    lines
}

/// What an approval's outcome says to the reviewer.
pub(super) fn approval_message(item_id: &str, outcome: Result<Approval, String>) -> Message {
    match outcome {
        Ok(Approval::Released { output, seq }) => Message {
            title: "Released".into(),
            lines: vec![
                format!("Item {item_id} is approved and released as out/{output}"),
                format!("Signed ledger entry #{seq}."),
            ],
            tone: Tone::Good,
        },
        Ok(Approval::AwaitingSecond { seq }) => Message {
            title: "Approved: waiting for a second reviewer".into(),
            lines: vec![
                format!("Item {item_id} is high-stakes; your approval is ledger entry #{seq}."),
                "A different reviewer must approve it before it is released.".into(),
            ],
            tone: Tone::Good,
        },
        Ok(Approval::Refused { unmet }) => Message {
            title: "Approval refused".into(),
            lines: std::iter::once("These gates are not met yet:".to_string())
                .chain(unmet.iter().map(|s| format!("✗ {s}")))
                .collect(),
            tone: Tone::Bad,
        },
        Err(e) => Message {
            title: "Approval failed".into(),
            lines: vec![format!("Item {item_id}: {e}")],
            tone: Tone::Bad,
        },
    }
}

/// Reject the item with the reason typed in the prompt.
pub(super) fn submit_reject(app: &mut App, fx: &mut Vec<Effect>) {
    let Overlay::RejectPrompt(text) = &app.overlay else {
        return;
    };
    let reason = text.trim().to_string();
    if reason.is_empty() {
        say(
            app,
            "type why it is rejected, then Enter (Esc cancels)",
            Tone::Bad,
        );
        return;
    }
    // The ledger keeps the reason for good: a name, a record number or a
    // date is asked about once before it is recorded.
    if let Some(why) = crate::reason::patient_detail(&reason)
        && app.reason_flag.as_ref().is_none_or(|(t, _)| *t != reason)
    {
        app.reason_flag = Some((reason, why));
        return;
    }
    let Some(item_id) = app.item().map(|i| i.id.clone()) else {
        return;
    };
    app.overlay = Overlay::None;
    app.reason_flag = None;
    say(app, "rejecting…", Tone::Info);
    fx.push(Effect::Reject { item_id, reason });
}
