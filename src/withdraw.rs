//! Taking a release back: a compliance officer who finds a leak after
//! release (a face missed, a name in a corner) runs `veil withdraw ID
//! --reason TEXT`.
//!
//! History is never deleted. The withdrawal is a signed `withdraw` entry
//! naming the release it takes back; then the output and its certificate
//! move from `out/` to `withdrawn/` (the certificate marked WITHDRAWN), and
//! the item goes back to `pending` with its masks kept and its gate evidence
//! cleared, so it can be re-reviewed and released again as a new release.
//!
//! Who may withdraw: the administrator or any reviewer enrolled now. It
//! only ever reduces what is released, so it needs no second person and
//! no recorded policy. Order: entry (fsync) → move output → certificate →
//! item; a crash at any point is finished by running the same command again.

use crate::item::{GateEvidence, ItemState, WithdrawalRecord};
use crate::keys::Reviewer;
use crate::ledger::{self, CERTIFICATE_SUFFIX, Entry, EntryKind, Ledger, Located};
use crate::release::{ReleaseError, certificate_from};
use crate::workspace::{Workspace, create_private_dir, sync_dir, write_atomic_mode};
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::PathBuf;

/// What `withdraw` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawn {
    /// Seq of the `withdraw` entry.
    pub seq: u64,
    pub output_name: String,
    /// Where the output now is (`withdrawn/<name>`), if it was in `out/`.
    pub kept: Option<PathBuf>,
    /// The entry was already in the ledger; this run finished its steps.
    pub finished_earlier: bool,
}

/// Withdraw the live release of `item_id`, signed by `signer` (the
/// administrator or an enrolled reviewer), or finish a withdrawal a
/// crash interrupted.
pub fn withdraw(
    ws: &Workspace,
    signer: &Reviewer,
    item_id: &str,
    reason: &str,
) -> Result<Withdrawn, ReleaseError> {
    let id = ws.resolve_id(item_id)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ReleaseError::EmptyReason {
            id,
            action: "a withdrawal",
        });
    }
    let _lock = ws.lock_item(&id)?;
    let mut ledger = Ledger::open(&ws.ledger_path())?;
    let index = ledger::entries(&ledger.bytes()?);
    let trust = ledger::trust_state(&index);
    let Some(root) = &trust.root else {
        return Err(ReleaseError::NoTrustRoot {
            path: ws.ledger_path(),
        });
    };
    if let Err(why) = trust.role(&signer.fingerprint(), jiff::Timestamp::now()) {
        return Err(ReleaseError::NotEnrolled {
            why,
            command: signer.enrol_command(),
            admin: root.name.clone(),
        });
    }
    let item = ws.load_item(&id)?;
    let (live, last) = releases_of(&index, &id);
    let (release, w, finished_earlier) = match (live, last) {
        (Some(rel), _) => {
            let rel = rel.clone();
            let mut e = Entry::draft(EntryKind::Withdraw);
            e.item = Some(id.clone());
            e.original_sha256 = rel.entry.original_sha256.clone();
            e.output_sha256 = rel.entry.output_sha256.clone();
            e.output_name = rel.entry.output_name.clone();
            e.withdraws = Some(rel.entry.seq);
            e.reason = Some(reason.to_string());
            let seq = ledger
                .append(signer, vec![e])?
                .entries
                .first()
                .map(|a| a.seq)
                .unwrap_or_default();
            let index = ledger::entries(&ledger.bytes()?);
            let w = index
                .into_iter()
                .find(|l| l.entry.seq == seq && l.entry.kind == EntryKind::Withdraw)
                .ok_or_else(|| unfinished(&id, seq, "re-reading the ledger", None))?;
            (rel, w, false)
        }
        (None, Some((rel, w))) if !is_finished(ws, &item, w) => (rel.clone(), w.clone(), true),
        (None, _) => {
            return Err(ReleaseError::NotReleased {
                id,
                state: item.state,
            });
        }
    };
    finish(ws, item, &index, &release, &w, finished_earlier)
}

/// The item's live release (released, not withdrawn), and its last
/// withdrawn one with the entry that withdrew it.
fn releases_of<'i>(
    index: &'i [Located],
    id: &str,
) -> (Option<&'i Located>, Option<(&'i Located, &'i Located)>) {
    let mut live: Option<&Located> = None;
    let mut last = None;
    for l in index.iter().filter(|l| l.entry.item.as_deref() == Some(id)) {
        if l.entry.releases() {
            live = Some(l);
        } else if l.entry.kind == EntryKind::Withdraw
            && let Some(rel) = live.filter(|r| Some(r.entry.seq) == l.entry.withdraws)
        {
            last = Some((rel, l));
            live = None;
        }
    }
    (live, last)
}

/// Every step after the entry is done: nothing left in `out/`, and the
/// item knows.
fn is_finished(ws: &Workspace, item: &crate::item::Item, w: &Located) -> bool {
    let name = w.entry.output_name.as_deref().unwrap_or_default();
    let out = ws.out_dir();
    !out.join(name).exists()
        && !out.join(format!("{name}{CERTIFICATE_SUFFIX}")).exists()
        && item.withdrawals.iter().any(|r| r.seq == w.entry.seq)
}

fn finish(
    ws: &Workspace,
    mut item: crate::item::Item,
    index: &[Located],
    rel: &Located,
    w: &Located,
    finished_earlier: bool,
) -> Result<Withdrawn, ReleaseError> {
    let seq = w.entry.seq;
    let id = item.id.clone();
    let name = rel.entry.output_name.clone().unwrap_or_default();
    let sha = rel.entry.output_sha256.clone().unwrap_or_default();
    if !ledger::safe_output_name(&name) {
        return Err(unfinished(
            &id,
            seq,
            "moving the output",
            Some(io::Error::other("the release names no plain output file")),
        ));
    }
    let out = ws.out_dir();
    let kept_dir = ws.withdrawn_dir();
    create_private_dir(&kept_dir).map_err(|e| {
        unfinished(
            &id,
            seq,
            "creating withdrawn/",
            Some(io::Error::other(e.to_string())),
        )
    })?;
    let kept = kept_dir.join(&name);
    let moved = match fs::rename(out.join(&name), &kept) {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(unfinished(&id, seq, "moving the output", Some(e))),
    };
    let text = certificate_from(index, &id, &sha).unwrap_or_default();
    let certificate = format!(
        "{}{text}",
        withdrawn_banner(
            &w.entry.ts,
            seq,
            w.line,
            &w.entry.reviewer.name,
            &w.entry.reviewer.fingerprint,
            w.entry.reason.as_deref().unwrap_or_default(),
        )
    );
    let cert_name = format!("{name}{CERTIFICATE_SUFFIX}");
    write_atomic_mode(&kept_dir.join(&cert_name), certificate.as_bytes(), 0o640)
        .map_err(|e| unfinished(&id, seq, "writing the withdrawn certificate", Some(e)))?;
    match fs::remove_file(out.join(&cert_name)) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(unfinished(&id, seq, "removing the certificate", Some(e))),
    }
    sync_dir(&out).map_err(|e| unfinished(&id, seq, "syncing out/", Some(e)))?;
    if !item.withdrawals.iter().any(|r| r.seq == seq) {
        item.withdrawals.push(WithdrawalRecord {
            output_name: name.clone(),
            output_sha256: sha.clone(),
            seq,
            at: w.entry.ts.clone(),
            by: format!(
                "{} ({})",
                w.entry.reviewer.name, w.entry.reviewer.fingerprint
            ),
            reason: w.entry.reason.clone().unwrap_or_default(),
        });
    }
    if item.output.as_ref().is_some_and(|o| o.sha256 == sha) {
        // Re-reviewed from the start: masks stay, every piece of evidence
        // is gathered again.
        item.state = ItemState::Pending;
        item.output = None;
        item.gates = GateEvidence::default();
        for m in &mut item.masks {
            m.zoom_check = None;
        }
    }
    ws.save_item(&item).map_err(|e| {
        unfinished(
            &id,
            seq,
            "saving the item",
            Some(io::Error::other(e.to_string())),
        )
    })?;
    Ok(Withdrawn {
        seq,
        output_name: name,
        kept: (moved || kept.exists()).then_some(kept),
        finished_earlier,
    })
}

fn unfinished(id: &str, seq: u64, step: &'static str, e: Option<io::Error>) -> ReleaseError {
    ReleaseError::UnfinishedWithdrawal {
        id: id.to_string(),
        seq,
        step,
        source: e.unwrap_or_else(|| io::Error::other("the entry was not found after writing it")),
    }
}

/// The lines put above a withdrawn output's certificate.
fn withdrawn_banner(
    ts: &str,
    seq: u64,
    line: usize,
    name: &str,
    fingerprint: &str,
    reason: &str,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "*** WITHDRAWN — THIS OUTPUT IS NO LONGER RELEASED ***");
    let _ = writeln!(s, "Withdrawn:     {ts} (ledger seq {seq}, line {line})");
    let _ = writeln!(
        s,
        "By:            {}  {fingerprint}",
        crate::text::printable(name, 80)
    );
    let _ = writeln!(s, "Reason:        {}", crate::text::printable(reason, 500));
    let _ = writeln!(
        s,
        "Delete every copy of this output made since its release."
    );
    let _ = writeln!(s);
    s
}
