//! Approving, rejecting and certifying items: the one path from a reviewed
//! item to a released output and its signed ledger entry. The CLI
//! (`veil approve`, `reject`, `certificate`) and the review station's
//! approve key both call these functions.
//!
//! Every decision runs under the ledger's exclusive lock, so two reviewers
//! approving at once see each other's entries. Order on release: render and
//! check → write `out/<name>` atomically → append the entry (fsync) → write
//! the certificate → save the item. A crash at any point is repaired by
//! running the same approval again: an output already in `out/` with the
//! same SHA-256 is reused, and an entry already in the ledger is not
//! written twice.
//!
//! Every decision also holds the item's lock ([`Workspace::lock_item`]), so
//! an item open in a review session is not decided behind its back: the CLI
//! entry points take the lock and refuse while another session holds it;
//! the review station, which already holds the lock of the item on screen,
//! passes it in ([`approve_held`], [`reject_held`]). The item lock is
//! always taken before the ledger lock.

use crate::gates::{self, Gate, GateContext, GateMethod, GateReport};
use crate::item::{Attestation, Item, ItemState, OutputCheck, OutputRecord};
use crate::keys::Reviewer;
use crate::ledger::{
    self, Batch, CERTIFICATE_SUFFIX, Entry, EntryGate, EntryKind, Ledger, LedgerError, Located,
};
use crate::policy::{Naming, RedactionMode};
use crate::redact::{self, RedactError, Rendered};
use crate::trust::{Role, TrustState};
use crate::workspace::{ItemLock, Workspace, WorkspaceError, write_atomic_mode};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// What one approval did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApproveOutcome {
    /// The output is in `out/` and the entry at `seq` records it.
    Released { output: PathBuf, seq: u64 },
    /// A high-stakes first approval: recorded, not released.
    AwaitingSecond { seq: u64 },
    /// A required gate is not met; nothing was recorded.
    Refused { unmet: String },
}

/// Problems that stop an approval. Each names the item or file.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("item {id}: {source}")]
    Render {
        id: String,
        #[source]
        source: RedactError,
    },
    #[error("item {id} is {state}; only pending, ready or awaiting_second items can be {action}")]
    State {
        id: String,
        state: ItemState,
        action: &'static str,
    },
    #[error(
        "'{0}' cannot be attested: Veil measures it (attest reflections, edges or identifiers)"
    )]
    NotAttestable(Gate),
    #[error(
        "item {id}: re-rendering gives SHA-256 {found}, but the first approval (ledger line {line}) recorded {expected}; the original or the renderer changed — re-review the item or reject it"
    )]
    RenderMismatch {
        id: String,
        line: usize,
        expected: String,
        found: String,
    },
    #[error("item {id}: {action} needs a reason (--reason)")]
    EmptyReason { id: String, action: &'static str },
    #[error(
        "item {id} is not released (state {state}); certificates exist only for released outputs"
    )]
    NotReleased { id: String, state: ItemState },
    #[error(
        "item {id}: the ledger has no entry releasing out/{name}; run `veil verify` before trusting this output"
    )]
    NoEntry { id: String, name: String },
    #[error(
        "item {id}: recorded in the ledger (seq {seq}), but {step} failed: {source}; run the same `veil approve` again to finish"
    )]
    Unfinished {
        id: String,
        seq: u64,
        step: &'static str,
        #[source]
        source: io::Error,
    },
    #[error(
        "item {id}: the withdrawal is in the ledger (seq {seq}), but {step} failed: {source}; run the same `veil withdraw` again to finish"
    )]
    UnfinishedWithdrawal {
        id: String,
        seq: u64,
        step: &'static str,
        #[source]
        source: io::Error,
    },
    #[error(
        "{path} has no trust root: an administrator must first run `veil admin init` in this workspace"
    )]
    NoTrustRoot { path: PathBuf },
    #[error(
        "{why}; entries it signed would fail `veil verify`. Ask the administrator ({admin}) to run: {command}"
    )]
    NotEnrolled {
        why: String,
        command: String,
        admin: String,
    },
    #[error(
        "the administrator key makes no decisions: approve and reject with an enrolled reviewer's key"
    )]
    AdministratorDecides,
    #[error(
        "{path} (policy {digest}) is not the policy in force in the ledger{}: the administrator records a changed policy with `veil admin policy`",
        in_force.as_ref().map(|(d, l)| format!(" ({d}, line {l})")).unwrap_or_default()
    )]
    PolicyNotRecorded {
        path: PathBuf,
        digest: String,
        in_force: Option<(String, usize)>,
    },
    #[error(
        "item {id}: its original was rejected (ledger line {line}); a rejected photo is never released — take a new photograph if one is needed"
    )]
    RejectedInLedger { id: String, line: usize },
    #[error(
        "item {id}: its original was already released (ledger line {line}) with other output bytes; one original, one release"
    )]
    ReleasedInLedger { id: String, line: usize },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ReleaseError + '_ {
    move |source| ReleaseError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One item's line in a batch report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRow {
    pub id: String,
    pub result: BatchResult,
}

/// What a batch did (or, with `dry_run`, would do) with one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchResult {
    /// Released as `out/<output>`; `seq` is `None` in a dry run.
    Released { output: String, seq: Option<u64> },
    /// High-stakes first approval recorded; waits for a second reviewer.
    AwaitingSecond { seq: Option<u64> },
    /// Not approved, and exactly why.
    Skipped { reason: String },
}

/// The result of [`approve_batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchReport {
    /// The `batch.id` the entries carry (`None` when nothing was recorded).
    pub batch_id: Option<String>,
    pub dry_run: bool,
    pub rows: Vec<BatchRow>,
}

impl BatchReport {
    pub fn approved(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| !matches!(r.result, BatchResult::Skipped { .. }))
            .count()
    }
    pub fn skipped(&self) -> usize {
        self.rows.len() - self.approved()
    }
}

/// Approve one item as `reviewer`, attesting `attest` now.
pub fn approve(
    ws: &Workspace,
    reviewer: &Reviewer,
    item_id: &str,
    attest: &[Gate],
) -> Result<ApproveOutcome, ReleaseError> {
    approve_with(ws, reviewer, item_id, attest, false)
}

/// [`approve`], optionally flagging the item high-stakes first (`--high-stakes`).
pub fn approve_with(
    ws: &Workspace,
    reviewer: &Reviewer,
    item_id: &str,
    attest: &[Gate],
    flag_high_stakes: bool,
) -> Result<ApproveOutcome, ReleaseError> {
    check_attestable(attest)?;
    let id = ws.resolve_id(item_id)?;
    let lock = ws.lock_item(&id)?;
    approve_locked(ws, reviewer, &lock, attest, flag_high_stakes)
}

/// [`approve`] of the item whose lock the caller already holds (the review
/// station's item on screen).
pub fn approve_held(
    ws: &Workspace,
    reviewer: &Reviewer,
    lock: &ItemLock,
    attest: &[Gate],
) -> Result<ApproveOutcome, ReleaseError> {
    check_attestable(attest)?;
    approve_locked(ws, reviewer, lock, attest, false)
}

fn approve_locked(
    ws: &Workspace,
    reviewer: &Reviewer,
    lock: &ItemLock,
    attest: &[Gate],
    flag_high_stakes: bool,
) -> Result<ApproveOutcome, ReleaseError> {
    let id = lock.id();
    let mut s = Session::open(ws, reviewer, true)?;
    let mut item = ws.load_item(id)?;
    if flag_high_stakes {
        item.high_stakes = true;
    }
    let plan = s.plan(item, attest)?;
    match plan {
        Plan::Refused { unmet, .. } => Ok(ApproveOutcome::Refused { unmet }),
        Plan::Done { item, outcome } => {
            s.repair(item, &outcome)?;
            Ok(outcome)
        }
        Plan::Record(rec) => {
            let mut recs = vec![*rec];
            let mut done = s.record(&mut recs)?;
            Ok(done.remove(0))
        }
    }
}

/// Approve every item in `state` whose gates all pass, in one ledger write
/// (one lock, one fsync); entries carry `batch {id, i, n}`. Items that fail
/// a gate are skipped with the exact reason. `dry_run` changes nothing.
pub fn approve_batch(
    ws: &Workspace,
    reviewer: &Reviewer,
    state: ItemState,
    attest: &[Gate],
    dry_run: bool,
) -> Result<BatchReport, ReleaseError> {
    approve_batch_with(ws, reviewer, state, attest, dry_run, false)
}

/// [`approve_batch`], optionally flagging every item high-stakes first.
pub fn approve_batch_with(
    ws: &Workspace,
    reviewer: &Reviewer,
    state: ItemState,
    attest: &[Gate],
    dry_run: bool,
    flag_high_stakes: bool,
) -> Result<BatchReport, ReleaseError> {
    check_attestable(attest)?;
    let (items, problems) = ws.items()?;
    let mut rows: Vec<(String, Option<BatchResult>)> = Vec::new();
    for p in problems {
        rows.push((
            String::from("?"),
            Some(BatchResult::Skipped {
                reason: p.to_string(),
            }),
        ));
    }
    let items = items.into_iter().filter(|i| i.state == state).collect();
    run_many(
        ws,
        reviewer,
        items,
        rows,
        attest,
        dry_run,
        flag_high_stakes,
        true,
    )
}

/// What approving `ids` would do, one row each; changes nothing.
pub fn approve_dry_run(
    ws: &Workspace,
    reviewer: &Reviewer,
    ids: &[String],
    attest: &[Gate],
    flag_high_stakes: bool,
) -> Result<BatchReport, ReleaseError> {
    check_attestable(attest)?;
    let mut items = Vec::new();
    for id in ids {
        items.push(ws.load_item(&ws.resolve_id(id)?)?);
    }
    run_many(
        ws,
        reviewer,
        items,
        Vec::new(),
        attest,
        true,
        flag_high_stakes,
        false,
    )
}

#[allow(clippy::too_many_arguments)]
fn run_many(
    ws: &Workspace,
    reviewer: &Reviewer,
    items: Vec<Item>,
    mut rows: Vec<(String, Option<BatchResult>)>,
    attest: &[Gate],
    dry_run: bool,
    flag_high_stakes: bool,
    as_batch: bool,
) -> Result<BatchReport, ReleaseError> {
    let mut s = Session::open(ws, reviewer, !dry_run)?;
    let mut recs: Vec<Record> = Vec::new();
    let mut slots: Vec<usize> = Vec::new();
    // Held until the batch is written, so no review session edits an item
    // between its plan and its entry.
    let mut locks: Vec<ItemLock> = Vec::new();
    for item in items {
        let mut item = if dry_run {
            item
        } else {
            // Skip, with who has it, an item open in a review session; and
            // plan from the file as it is now that nobody else can change it.
            match ws
                .lock_item(&item.id)
                .and_then(|l| Ok((ws.load_item(&item.id)?, l)))
            {
                Ok((fresh, lock)) => {
                    locks.push(lock);
                    fresh
                }
                Err(e) => {
                    let reason = e.to_string();
                    rows.push((item.id, Some(BatchResult::Skipped { reason })));
                    continue;
                }
            }
        };
        if flag_high_stakes {
            item.high_stakes = true;
        }
        let id = item.id.clone();
        let plan = match s.plan(item, attest) {
            Ok(p) => p,
            Err(
                e @ (ReleaseError::Render { .. }
                | ReleaseError::RenderMismatch { .. }
                | ReleaseError::State { .. }),
            ) => {
                rows.push((
                    id,
                    Some(BatchResult::Skipped {
                        reason: e.to_string(),
                    }),
                ));
                continue;
            }
            Err(e) => return Err(e),
        };
        match plan {
            Plan::Refused { unmet, .. } => {
                rows.push((id, Some(BatchResult::Skipped { reason: unmet })))
            }
            Plan::Done { item, outcome } => {
                if !dry_run {
                    s.repair(item, &outcome)?;
                }
                rows.push((id, Some(batch_result(&outcome, !dry_run))));
            }
            Plan::Record(rec) => {
                if dry_run {
                    let r = if rec.releases() {
                        BatchResult::Released {
                            output: rec.name.clone(),
                            seq: None,
                        }
                    } else {
                        BatchResult::AwaitingSecond { seq: None }
                    };
                    rows.push((id, Some(r)));
                } else {
                    slots.push(rows.len());
                    rows.push((id, None));
                    recs.push(*rec);
                }
            }
        }
    }
    let mut batch_id = None;
    if !recs.is_empty() {
        if as_batch {
            let bid = crate::random::hex(8);
            let n = recs.len() as u64;
            for (i, r) in recs.iter_mut().enumerate() {
                r.entry.batch = Some(Batch {
                    id: bid.clone(),
                    i: i as u64,
                    n,
                });
            }
            batch_id = Some(bid);
        }
        let outcomes = s.record(&mut recs)?;
        for (slot, outcome) in slots.into_iter().zip(outcomes) {
            rows[slot].1 = Some(batch_result(&outcome, true));
        }
    }
    drop(locks);
    Ok(BatchReport {
        batch_id,
        dry_run,
        rows: rows
            .into_iter()
            .map(|(id, r)| BatchRow {
                id,
                result: r.unwrap_or(BatchResult::Skipped {
                    reason: "not processed".into(),
                }),
            })
            .collect(),
    })
}

fn batch_result(o: &ApproveOutcome, recorded: bool) -> BatchResult {
    match o {
        ApproveOutcome::Released { output, seq } => BatchResult::Released {
            output: output
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            seq: recorded.then_some(*seq),
        },
        ApproveOutcome::AwaitingSecond { seq } => BatchResult::AwaitingSecond {
            seq: recorded.then_some(*seq),
        },
        ApproveOutcome::Refused { unmet } => BatchResult::Skipped {
            reason: unmet.clone(),
        },
    }
}

/// Reject an item with a reason; returns the entry's seq.
pub fn reject(
    ws: &Workspace,
    reviewer: &Reviewer,
    item_id: &str,
    reason: &str,
) -> Result<u64, ReleaseError> {
    let id = ws.resolve_id(item_id)?;
    if reason.trim().is_empty() {
        return Err(ReleaseError::EmptyReason {
            id,
            action: "a rejection",
        });
    }
    let lock = ws.lock_item(&id)?;
    reject_held(ws, reviewer, &lock, reason)
}

/// [`reject`] of the item whose lock the caller already holds.
pub fn reject_held(
    ws: &Workspace,
    reviewer: &Reviewer,
    lock: &ItemLock,
    reason: &str,
) -> Result<u64, ReleaseError> {
    let id = lock.id().to_string();
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ReleaseError::EmptyReason {
            id,
            action: "a rejection",
        });
    }
    let mut s = Session::open(ws, reviewer, true)?;
    let mut item = ws.load_item(&id)?;
    let past = history(&s.index, &item.sha256);
    let decided = if past.released.is_some() {
        Some(ItemState::Approved)
    } else if past.rejected.is_some() {
        Some(ItemState::Rejected)
    } else {
        None
    };
    if let Some(state) = decided.or_else(|| {
        matches!(item.state, ItemState::Approved | ItemState::Rejected).then_some(item.state)
    }) {
        return Err(ReleaseError::State {
            id,
            state,
            action: "rejected",
        });
    }
    let mut e = Entry::draft(EntryKind::Reject);
    e.item = Some(item.id.clone());
    e.original_sha256 = Some(item.sha256.clone());
    e.policy_digest = Some(ws.policy.digest());
    e.reason = Some(reason.to_string());
    let report = s.ledger_mut()?.append(reviewer, vec![e])?;
    let seq = report.entries.first().map(|a| a.seq).unwrap_or_default();
    item.state = ItemState::Rejected;
    item.rejection = Some(reason.to_string());
    ws.save_item(&item).map_err(|e| ReleaseError::Unfinished {
        id: item.id.clone(),
        seq,
        step: "saving the item",
        source: io::Error::other(e.to_string()),
    })?;
    Ok(seq)
}

/// The plain-text certificate of an item's released output, from the ledger.
pub fn certificate(ws: &Workspace, item_id: &str) -> Result<String, ReleaseError> {
    let id = ws.resolve_id(item_id)?;
    let item = ws.load_item(&id)?;
    let Some(out) = item
        .output
        .as_ref()
        .filter(|_| item.state == ItemState::Approved)
    else {
        return Err(ReleaseError::NotReleased {
            id,
            state: item.state,
        });
    };
    let path = ws.ledger_path();
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io_err(&path)(e)),
    };
    let index = ledger::entries(&bytes);
    certificate_from(&index, &id, &out.sha256).ok_or(ReleaseError::NoEntry {
        id,
        name: out.name.clone(),
    })
}

/// Write `out/<name>.certificate.txt` of a released item from the ledger
/// (restores one lost to a crash or deleted); returns its path.
pub fn write_certificate(ws: &Workspace, item_id: &str) -> Result<PathBuf, ReleaseError> {
    let text = certificate(ws, item_id)?;
    let id = ws.resolve_id(item_id)?;
    let item = ws.load_item(&id)?;
    let name = item.output.map(|o| o.name).unwrap_or_default();
    // The text came from the ledger entry naming this output; the item
    // file's name must be that plain name, never a path.
    if !ledger::safe_output_name(&name) || !text.contains(&format!("Output:        {name}\n")) {
        return Err(ReleaseError::NoEntry { id, name });
    }
    let path = ws.out_dir().join(format!("{name}{CERTIFICATE_SUFFIX}"));
    write_atomic_mode(&path, text.as_bytes(), 0o640).map_err(io_err(&path))?;
    Ok(path)
}

pub(crate) fn certificate_from(index: &[Located], id: &str, sha: &str) -> Option<String> {
    let rel = index.iter().rev().find(|l| {
        l.entry.releases()
            && l.entry.item.as_deref() == Some(id)
            && l.entry.output_sha256.as_deref() == Some(sha)
    })?;
    let first = rel.entry.countersigns.and_then(|s| {
        index
            .iter()
            .find(|l| l.entry.seq == s && l.entry.kind == EntryKind::Approve)
    });
    let ledger_id = index
        .first()
        .map(|l| l.entry.ledger.clone())
        .unwrap_or_default();
    Some(certificate_text(&ledger_id, rel, first))
}

/// The certificate: what was released, what was removed, how every gate was
/// met and by whom, and where the ledger records it. No original name.
fn certificate_text(ledger_id: &str, rel: &Located, first: Option<&Located>) -> String {
    let e = &rel.entry;
    let name = e.output_name.as_deref().unwrap_or("?");
    let mut s = String::new();
    let _ = writeln!(s, "VEIL RELEASE CERTIFICATE");
    let _ = writeln!(s);
    let _ = writeln!(s, "Output:        {name}");
    let _ = writeln!(
        s,
        "SHA-256:       {}",
        e.output_sha256.as_deref().unwrap_or("?")
    );
    let _ = writeln!(s, "Item:          {}", e.item.as_deref().unwrap_or("?"));
    let _ = writeln!(s, "Released:      {}", e.ts);
    let _ = writeln!(s, "Tool:          {}", e.tool);
    let _ = writeln!(s);
    let _ = writeln!(s, "Removed");
    let masks = e.masks.as_deref().unwrap_or_default();
    let mode = e.redaction.as_deref().unwrap_or("solid");
    if masks.is_empty() {
        let _ = writeln!(s, "  Masks:       none");
    } else {
        let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
        for m in masks {
            *by_kind.entry(m.kind.as_str().to_string()).or_insert(0) += 1;
        }
        let list: Vec<String> = by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
        let _ = writeln!(
            s,
            "  Masks ({mode} fill): {} ({} in all)",
            list.join(", "),
            masks.len()
        );
    }
    let meta = e.metadata_removed.clone().unwrap_or_default();
    if meta.is_empty() {
        let _ = writeln!(s, "  Metadata:    none found in the original");
    } else {
        let _ = writeln!(
            s,
            "  Metadata found in the original and not carried over (output re-encoded from pixels):"
        );
        for (group, n) in &meta {
            let _ = writeln!(
                s,
                "    {}: {n} field{}",
                crate::text::printable(group, 40),
                if *n == 1 { "" } else { "s" }
            );
        }
    }
    if let Some(d) = &e.dicom {
        let p = |v: &str| crate::text::printable(v, 80);
        let _ = writeln!(
            s,
            "  DICOM:       original SOP class {}, transfer syntax {}; released as {}",
            p(&d.original_sop_class),
            p(&d.original_transfer_syntax),
            if d.released_as == "dicom" {
                "a new Secondary Capture instance (new UIDs, header built from an allowlist)"
            } else {
                "a picture (nothing of the header carried)"
            }
        );
        if !d.methods.is_empty() {
            let _ = writeln!(
                s,
                "  De-identification ({}):",
                crate::dicom::output::PROFILE
            );
            for m in &d.methods {
                let _ = writeln!(s, "    {}", p(m));
            }
        }
    }
    let engines = e.detector.iter().flat_map(|d| d.each_engine());
    let engines = engines
        .map(|d| ("Face", d))
        .chain(e.text_detector.iter().map(|d| ("Text", d)));
    for (what, engine) in engines {
        let _ = writeln!(
            s,
            "  {what} detector: {} (model SHA-256 {}, {})",
            crate::text::printable(&engine.name, 40),
            crate::text::printable(&engine.model_sha256, 64),
            engine.settings_label()
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "Gates");
    for g in e.gates.as_deref().unwrap_or_default() {
        let mark = match (g.required, g.met) {
            (true, true) => "[x]",
            (true, false) => "[!]",
            (false, _) => "[-]",
        };
        let req = if g.required {
            ""
        } else {
            " (not required by the policy)"
        };
        let _ = writeln!(
            s,
            "  {mark} {:<16} {:<9} {}{req}",
            g.gate,
            g.method,
            crate::text::printable(&g.detail, 200)
        );
    }
    let nr = e.gates_not_required.clone().unwrap_or_default();
    let _ = writeln!(
        s,
        "  Measured gates switched off by the policy: {}",
        if nr.is_empty() {
            "none".to_string()
        } else {
            nr.join(", ")
        }
    );
    let _ = writeln!(
        s,
        "  Policy digest: {}",
        e.policy_digest.as_deref().unwrap_or("?")
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "Reviewers");
    let who = |l: &Located, role: &str| {
        format!(
            "  {role:<14} {}  {}  {} (seq {})",
            crate::text::printable(&l.entry.reviewer.name, 80),
            l.entry.reviewer.fingerprint,
            l.entry.ts,
            l.entry.seq
        )
    };
    if let Some(f) = first {
        let _ = writeln!(s, "{}", who(f, "approved"));
        let _ = writeln!(s, "{}", who(rel, "countersigned"));
    } else {
        let _ = writeln!(s, "{}", who(rel, "approved"));
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "Ledger");
    let _ = writeln!(s, "  Ledger id:   {ledger_id}");
    let _ = writeln!(s, "  Entry:       seq {} (line {})", e.seq, rel.line);
    let _ = writeln!(s, "  Entry hash:  {} (SHA-256 of the line)", rel.hash);
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Check: `sha256sum {name}` must print the SHA-256 above; `veil verify` checks the signed ledger."
    );
    s
}

// ---------------------------------------------------------------------------

fn check_attestable(attest: &[Gate]) -> Result<(), ReleaseError> {
    match attest.iter().find(|g| g.method() != GateMethod::Attested) {
        Some(g) => Err(ReleaseError::NotAttestable(*g)),
        None => Ok(()),
    }
}

/// An approval ready to write.
struct Record {
    item: Item,
    entry: Entry,
    rendered: Rendered,
    name: String,
    /// `out/<name>` already holds these exact bytes (an interrupted approval).
    reuse_file: bool,
}

impl Record {
    fn releases(&self) -> bool {
        self.entry.releases()
    }
}

enum Plan {
    Refused {
        unmet: String,
    },
    /// Already in the ledger (an interrupted run): finish the item.
    Done {
        item: Box<Item>,
        outcome: ApproveOutcome,
    },
    Record(Box<Record>),
}

/// The ledger (locked unless a dry run), its entries, and names in use.
struct Session<'a> {
    ws: &'a Workspace,
    reviewer: &'a Reviewer,
    ledger: Option<Ledger>,
    index: Vec<Located>,
    /// Names used by entries, files in `out/`, or earlier plans.
    taken: BTreeSet<String>,
    /// Files in `out/` no entry names: SHA-256 → name.
    orphans: Option<BTreeMap<String, String>>,
    approvals: u64,
    /// Trust as the ledger records it.
    trust: TrustState,
    /// The signing reviewer's principal.
    principal: String,
}

/// Who `reviewer` is in this ledger, or why they may not sign decisions
/// now: the ledger needs a trust root and a recorded policy equal to
/// `veil.toml`, and the key an active enrolment.
pub fn ensure_enrolled(
    ws: &Workspace,
    reviewer: &Reviewer,
    state: &TrustState,
) -> Result<String, ReleaseError> {
    let Some(root) = &state.root else {
        return Err(ReleaseError::NoTrustRoot {
            path: ws.ledger_path(),
        });
    };
    let fp = reviewer.fingerprint();
    let principal = match state.role(&fp, jiff::Timestamp::now()) {
        Ok(Role::Reviewer(p)) => p,
        Ok(Role::Administrator) => return Err(ReleaseError::AdministratorDecides),
        Err(why) => {
            return Err(ReleaseError::NotEnrolled {
                why,
                command: reviewer.enrol_command(),
                admin: root.name.clone(),
            });
        }
    };
    let digest = ws.policy.digest();
    match &state.policy {
        Some(p) if p.digest == digest => Ok(principal),
        in_force => Err(ReleaseError::PolicyNotRecorded {
            path: ws.root().join("veil.toml"),
            digest,
            in_force: in_force.as_ref().map(|p| (p.digest.clone(), p.line)),
        }),
    }
}

/// What the ledger has decided about one original.
#[derive(Debug, Default)]
struct History {
    /// Line of a reject.
    rejected: Option<usize>,
    /// Line of a live (not withdrawn) release and the SHA-256 it released.
    released: Option<(usize, String)>,
    /// An approval found it high-stakes (ever: a withdrawal does not lower it).
    high_stakes: bool,
    /// Index position after the original's last withdrawal: approvals
    /// before it belong to a release that was taken back.
    since: usize,
}

fn history(index: &[Located], original: &str) -> History {
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

impl<'a> Session<'a> {
    fn open(ws: &'a Workspace, reviewer: &'a Reviewer, lock: bool) -> Result<Self, ReleaseError> {
        let (ledger, bytes) = if lock {
            let mut l = Ledger::open(&ws.ledger_path())?;
            let b = l.bytes()?;
            (Some(l), b)
        } else {
            let path = ws.ledger_path();
            let b = match fs::read(&path) {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
                Err(e) => return Err(io_err(&path)(e)),
            };
            (None, b)
        };
        let index = ledger::entries(&bytes);
        let trust = ledger::trust_state(&index);
        let principal = ensure_enrolled(ws, reviewer, &trust)?;
        let mut taken: BTreeSet<String> = index
            .iter()
            .filter_map(|l| l.entry.output_name.clone())
            .collect();
        let out = ws.out_dir();
        if let Ok(listing) = fs::read_dir(&out) {
            for ent in listing.flatten() {
                taken.insert(ent.file_name().to_string_lossy().into_owned());
            }
        }
        let approvals = index
            .iter()
            .filter(|l| l.entry.kind == EntryKind::Approve)
            .count() as u64;
        Ok(Session {
            ws,
            reviewer,
            ledger,
            index,
            taken,
            orphans: None,
            approvals,
            trust,
            principal,
        })
    }

    fn ledger_mut(&mut self) -> Result<&mut Ledger, ReleaseError> {
        match self.ledger.as_mut() {
            Some(l) => Ok(l),
            None => Err(ReleaseError::Io {
                path: self.ws.ledger_path(),
                source: io::Error::other("not opened for writing (dry run)"),
            }),
        }
    }

    /// Decide what approving `item` now would do; writes nothing.
    fn plan(&mut self, mut item: Item, attest: &[Gate]) -> Result<Plan, ReleaseError> {
        if !item.state.is_open() {
            return Err(ReleaseError::State {
                id: item.id,
                state: item.state,
                action: "approved",
            });
        }
        // Decisions come from the ledger, never from the item file alone.
        let past = history(&self.index, &item.sha256);
        if let Some(line) = past.rejected {
            return Err(ReleaseError::RejectedInLedger { id: item.id, line });
        }
        // Once high-stakes, always: changing a mask's kind does not lower it.
        item.high_stakes |= past.high_stakes;
        // Measured means sealed by an enrolled reviewer's station.
        let unsealed = drop_unsealed(&mut item, &self.trust);
        let now = crate::clock::now_ts();
        let fp = self.reviewer.fingerprint();
        let me = self.principal.clone();
        let principal_of = |l: &Located| {
            self.trust
                .principal_of(&l.entry.reviewer.fingerprint)
                .map(str::to_string)
                .unwrap_or_else(|| l.entry.reviewer.fingerprint.clone())
        };
        for g in attest {
            item.gates.attested.insert(
                g.as_str().to_string(),
                Attestation {
                    reviewer: format!("{} ({fp})", self.reviewer.name),
                    at: now.clone(),
                },
            );
        }
        let policy = &self.ws.policy;
        let rendered = redact::render_item(&item, policy, self.dicom_salt(&item)?.as_deref())
            .map_err(|source| ReleaseError::Render {
                id: item.id.clone(),
                source,
            })?;
        let digest = item.masks_digest();
        item.gates.output_check = Some(OutputCheck {
            masks_digest: digest.clone(),
            output_sha256: rendered.sha256.clone(),
            at: now,
        });

        // An interrupted earlier run may already have recorded this (in
        // this release cycle: what was withdrawn is not done).
        let cycle = &self.index[past.since.min(self.index.len())..];
        let mine = |l: &&Located| {
            l.entry.item.as_deref() == Some(item.id.as_str())
                && l.entry.output_sha256.as_deref() == Some(rendered.sha256.as_str())
        };
        if let Some(done) = cycle.iter().rev().filter(mine).find(|l| l.entry.releases()) {
            let name = done.entry.output_name.clone().unwrap_or_default();
            let outcome = ApproveOutcome::Released {
                output: self.ws.out_dir().join(&name),
                seq: done.entry.seq,
            };
            return Ok(Plan::Done {
                item: Box::new(finish_item(item, &rendered, &name, ItemState::Approved)),
                outcome,
            });
        }
        let firsts: Vec<&Located> = cycle
            .iter()
            .filter(mine)
            .filter(|l| l.entry.needs_second())
            .collect();
        if let Some((line, _)) = &past.released {
            return Err(ReleaseError::ReleasedInLedger {
                id: item.id,
                line: *line,
            });
        }
        if let Some(f) = firsts.iter().find(|l| principal_of(l) == me)
            && item.state != ItemState::AwaitingSecond
        {
            let name = f.entry.output_name.clone().unwrap_or_default();
            let seq = f.entry.seq;
            return Ok(Plan::Done {
                item: Box::new(finish_item(
                    item,
                    &rendered,
                    &name,
                    ItemState::AwaitingSecond,
                )),
                outcome: ApproveOutcome::AwaitingSecond { seq },
            });
        }
        // Same masks, different bytes: the second reviewer must get the
        // first approval's SHA-256, or nothing is released.
        if let Some(f) = cycle.iter().rev().find(|l| {
            l.entry.needs_second()
                && l.entry.item.as_deref() == Some(item.id.as_str())
                && l.entry.masks_digest.as_deref() == Some(digest.as_str())
                && l.entry.output_sha256.as_deref() != Some(rendered.sha256.as_str())
        }) && item.state == ItemState::AwaitingSecond
            && firsts.is_empty()
        {
            return Err(ReleaseError::RenderMismatch {
                id: item.id,
                line: f.line,
                expected: f.entry.output_sha256.clone().unwrap_or_default(),
                found: rendered.sha256,
            });
        }
        // Two people means two principals, never two keys of one.
        let prior: Vec<String> = firsts.iter().map(|l| principal_of(l)).collect();
        let report = gates::evaluate(
            &item,
            policy,
            &GateContext {
                reviewer_key: Some(&me),
                attest_now: attest,
                prior_approvers: &prior,
            },
        );
        if !report.may_approve() {
            let mut unmet = report.unmet_summary();
            if unsealed > 0 {
                unmet.push_str(&format!(
                    "; {unsealed} piece(s) of measured evidence in the item file carry no valid seal by an enrolled reviewer's review station and were not counted (view them again in `veil review`)"
                ));
            }
            return Ok(Plan::Refused { unmet });
        }
        let second_required = report
            .status(Gate::SecondReviewer)
            .is_some_and(|s| s.required);
        let (kind, name, countersigns) = if report.may_release() {
            match firsts.iter().find(|l| principal_of(l) != me) {
                Some(f) if second_required => (
                    EntryKind::Countersign,
                    f.entry.output_name.clone().unwrap_or_default(),
                    Some(f.entry.seq),
                ),
                _ => (EntryKind::Approve, String::new(), None),
            }
        } else if prior.is_empty() {
            (EntryKind::Approve, String::new(), None)
        } else {
            let detail = report
                .status(Gate::SecondReviewer)
                .map(|s| s.detail.clone())
                .unwrap_or_default();
            return Ok(Plan::Refused {
                unmet: format!("{} ({detail})", Gate::SecondReviewer),
            });
        };
        let (name, reuse_file) = if name.is_empty() {
            self.choose_name(&rendered)?
        } else {
            let reuse = self.orphan_named(&name, &rendered.sha256)?;
            (name, reuse)
        };
        let mut entry = Entry::draft(kind);
        entry.describe_item(&item);
        entry.output_sha256 = Some(rendered.sha256.clone());
        entry.output_name = Some(name.clone());
        entry.redaction = Some(redaction_name(policy.output.redaction).to_string());
        entry.dicom = item
            .dicom
            .as_ref()
            .map(|d| crate::ledger::DicomRecord::of(d, rendered.format, policy.dicom.dates));
        entry.policy_digest = Some(policy.digest());
        entry.high_stakes = Some(report.high_stakes);
        entry.countersigns = countersigns;
        entry.gates = Some(entry_gates(&report));
        entry.gates_not_required = Some(
            report
                .statuses
                .iter()
                .filter(|s| {
                    !s.required
                        && s.method == GateMethod::Measured
                        && s.gate != Gate::SecondReviewer
                })
                .map(|s| s.gate.as_str().to_string())
                .collect(),
        );
        if kind == EntryKind::Approve {
            self.approvals += 1;
        }
        self.taken.insert(name.clone());
        Ok(Plan::Record(Box::new(Record {
            item,
            entry,
            rendered,
            name,
            reuse_file,
        })))
    }

    /// An output name no entry, file or earlier plan uses; or the name of
    /// an unrecorded file in `out/` holding exactly these bytes.
    fn choose_name(&mut self, rendered: &Rendered) -> Result<(String, bool), ReleaseError> {
        if let Some(name) = self.orphans()?.get(&rendered.sha256).cloned()
            && !self
                .index
                .iter()
                .any(|l| l.entry.output_name.as_deref() == Some(&name))
        {
            self.orphans()?.remove(&rendered.sha256);
            return Ok((name, true));
        }
        let naming = self.ws.policy.output.naming;
        let mut seq = self.approvals + 1;
        for _ in 0..10_000 {
            let name = redact::output_file_name(naming, seq, rendered.format);
            if !self.taken.contains(&name)
                && !self.taken.contains(&format!("{name}{CERTIFICATE_SUFFIX}"))
            {
                return Ok((name, false));
            }
            if naming == Naming::Sequential {
                seq += 1;
            }
        }
        Err(ReleaseError::Io {
            path: self.ws.out_dir(),
            source: io::Error::other("no free output name after 10000 tries"),
        })
    }

    fn orphan_named(&mut self, name: &str, sha: &str) -> Result<bool, ReleaseError> {
        Ok(self.orphans()?.get(sha).is_some_and(|n| n == name))
    }

    /// Files in `out/` that no ledger entry names, by SHA-256 (computed once).
    fn orphans(&mut self) -> Result<&mut BTreeMap<String, String>, ReleaseError> {
        if self.orphans.is_none() {
            let named: BTreeSet<String> = self
                .index
                .iter()
                .filter_map(|l| l.entry.output_name.clone())
                .collect();
            let out = self.ws.out_dir();
            let mut map = BTreeMap::new();
            let listing = fs::read_dir(&out).map_err(io_err(&out))?;
            for ent in listing {
                let ent = ent.map_err(io_err(&out))?;
                let name = ent.file_name().to_string_lossy().into_owned();
                if name.starts_with('.')
                    || name.ends_with(CERTIFICATE_SUFFIX)
                    || named.contains(&name)
                {
                    continue;
                }
                let path = ent.path();
                if !ent.file_type().map_err(io_err(&path))?.is_file() {
                    continue;
                }
                let bytes = fs::read(&path).map_err(io_err(&path))?;
                map.insert(ledger::sha256_hex(&bytes), name);
            }
            self.orphans = Some(map);
        }
        Ok(self.orphans.get_or_insert_with(BTreeMap::new))
    }

    /// Write outputs, append all entries in one write (one fsync), then
    /// save items and certificates.
    fn record(&mut self, recs: &mut [Record]) -> Result<Vec<ApproveOutcome>, ReleaseError> {
        let out = self.ws.out_dir();
        let mut written: Vec<PathBuf> = Vec::new();
        for r in recs.iter().filter(|r| r.releases() && !r.reuse_file) {
            let path = out.join(&r.name);
            if let Err(e) = write_atomic_mode(&path, &r.rendered.bytes, 0o640) {
                remove_all(&written);
                return Err(io_err(&path)(e));
            }
            written.push(path);
        }
        let drafts: Vec<Entry> = recs.iter().map(|r| r.entry.clone()).collect();
        let reviewer = self.reviewer;
        let report = match self.ledger_mut()?.append(reviewer, drafts) {
            Ok(r) => r,
            Err(e) => {
                // Not recorded, so not released. But a write that failed
                // part-way (disk full) can leave whole entries behind: their
                // outputs stay, and running the approval again finishes them.
                let landed: BTreeSet<String> = self
                    .ledger_mut()
                    .and_then(|l| Ok(l.bytes()?))
                    .map(|b| ledger::entries(&b))
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|l| l.entry.releases())
                    .filter_map(|l| l.entry.output_name)
                    .collect();
                let unrecorded: Vec<PathBuf> = written
                    .into_iter()
                    .filter(|p| {
                        p.file_name()
                            .is_none_or(|n| !landed.contains(n.to_string_lossy().as_ref()))
                    })
                    .collect();
                remove_all(&unrecorded);
                return Err(e.into());
            }
        };
        let index_bytes = self.ledger_mut()?.bytes()?;
        self.index = ledger::entries(&index_bytes);
        let mut outcomes = Vec::new();
        for (r, a) in recs.iter().zip(report.entries.iter()) {
            let releases = r.releases();
            let state = if releases {
                ItemState::Approved
            } else {
                ItemState::AwaitingSecond
            };
            let item = finish_item(r.item.clone(), &r.rendered, &r.name, state);
            let id = item.id.clone();
            let unfinished = |step, source| ReleaseError::Unfinished {
                id: id.clone(),
                seq: a.seq,
                step,
                source,
            };
            // The certificate before the item: an item saved as approved is
            // skipped by a re-run, so a crash between the two must leave
            // the item unfinished rather than the certificate missing.
            if releases {
                self.write_certificate(&item)
                    .map_err(|e| unfinished("writing the certificate", e))?;
            }
            self.ws
                .save_item(&item)
                .map_err(|e| unfinished("saving the item", io::Error::other(e.to_string())))?;
            if releases {
                outcomes.push(ApproveOutcome::Released {
                    output: out.join(&r.name),
                    seq: a.seq,
                });
            } else {
                outcomes.push(ApproveOutcome::AwaitingSecond { seq: a.seq });
            }
        }
        Ok(outcomes)
    }

    /// Finish an approval the ledger already records: output, item, certificate.
    fn repair(&mut self, item: Box<Item>, outcome: &ApproveOutcome) -> Result<(), ReleaseError> {
        if let ApproveOutcome::Released { output, .. } = outcome
            && let Some(rec) = &item.output
        {
            let have = fs::read(output).ok().map(|b| ledger::sha256_hex(&b));
            if have.as_deref() != Some(rec.sha256.as_str()) {
                let salt = self.dicom_salt(&item)?;
                let bytes = redact::render_item(&item, &self.ws.policy, salt.as_deref())
                    .map_err(|source| ReleaseError::Render {
                        id: item.id.clone(),
                        source,
                    })?
                    .bytes;
                write_atomic_mode(output, &bytes, 0o640).map_err(io_err(output))?;
            }
        }
        if matches!(outcome, ApproveOutcome::Released { .. }) {
            self.write_certificate(&item)
                .map_err(|e| io_err(&self.ws.out_dir())(e))?;
        }
        self.ws.save_item(&item)?;
        Ok(())
    }

    /// The workspace's DICOM salt when `item` is DICOM (to render it).
    fn dicom_salt(&self, item: &Item) -> Result<Option<Vec<u8>>, ReleaseError> {
        match item.dicom {
            Some(_) => Ok(Some(self.ws.dicom_salt()?)),
            None => Ok(None),
        }
    }

    fn write_certificate(&self, item: &Item) -> Result<(), io::Error> {
        let Some(out) = &item.output else {
            return Ok(());
        };
        let text = certificate_from(&self.index, &item.id, &out.sha256)
            .ok_or_else(|| io::Error::other("the ledger entry was not found after writing it"))?;
        let path = self
            .ws
            .out_dir()
            .join(format!("{}{CERTIFICATE_SUFFIX}", out.name));
        write_atomic_mode(&path, text.as_bytes(), 0o640)
    }
}

/// Remove zoom, edge and preview evidence whose seal is missing, or not by
/// a key enrolled now, or not over this item's evidence; returns how many.
fn drop_unsealed(item: &mut Item, trust: &TrustState) -> usize {
    let ok = |seal: &Option<crate::item::Seal>, target: &str, zoom: u32, at: &str| {
        seal.as_ref().is_some_and(|s| {
            crate::keys::parse_public(&s.key).is_ok_and(|k| {
                trust
                    .principal_of(&crate::keys::fingerprint_of(&k))
                    .is_some()
                    && crate::keys::verify_signature(
                        &k,
                        &crate::item::evidence_message(&item.id, &item.sha256, target, zoom, at),
                        &s.sig,
                    )
                    .is_ok()
            })
        })
    };
    let mut dropped = 0;
    let masks: Vec<bool> = item
        .masks
        .iter()
        .map(|m| {
            m.zoom_check
                .as_ref()
                .is_none_or(|z| ok(&z.seal, &crate::item::mask_target(m), z.zoom_pct, &z.at))
        })
        .collect();
    for (m, keep) in item.masks.iter_mut().zip(masks) {
        if !keep {
            m.zoom_check = None;
            dropped += 1;
        }
    }
    let edges: Vec<crate::item::Edge> = item
        .gates
        .edges_seen
        .iter()
        .filter(|(e, z)| !ok(&z.seal, &crate::item::edge_target(**e), z.zoom_pct, &z.at))
        .map(|(e, _)| *e)
        .collect();
    for e in edges {
        item.gates.edges_seen.remove(&e);
        dropped += 1;
    }
    if let Some(p) = &item.gates.preview_seen
        && !ok(
            &p.seal,
            &crate::item::preview_target(&p.masks_digest),
            0,
            &p.at,
        )
    {
        item.gates.preview_seen = None;
        dropped += 1;
    }
    dropped
}

fn finish_item(mut item: Item, rendered: &Rendered, name: &str, state: ItemState) -> Item {
    item.output = Some(OutputRecord {
        name: name.to_string(),
        sha256: rendered.sha256.clone(),
        masks_digest: item.masks_digest(),
    });
    item.state = state;
    item
}

fn remove_all(paths: &[PathBuf]) {
    for p in paths {
        let _ = fs::remove_file(p);
    }
}

fn entry_gates(report: &GateReport) -> Vec<EntryGate> {
    report
        .statuses
        .iter()
        .map(|s| EntryGate {
            gate: s.gate.as_str().to_string(),
            method: match s.method {
                GateMethod::Measured => "measured",
                GateMethod::Attested => "attested",
            }
            .to_string(),
            required: s.required,
            met: s.met,
            detail: s.detail.clone(),
        })
        .collect()
}

fn redaction_name(mode: RedactionMode) -> &'static str {
    match mode {
        RedactionMode::Solid => "solid",
        RedactionMode::Blur => "blur",
        RedactionMode::Pixelate => "pixelate",
    }
}
