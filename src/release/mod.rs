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

mod certificate;
mod history;
mod session;

use crate::gates::{Gate, GateMethod};
use crate::item::{Item, ItemState};
use crate::keys::Reviewer;
use crate::ledger::{Batch, Entry, EntryKind, LedgerError};
use crate::redact::RedactError;
use crate::trust::{Role, TrustState};
use crate::workspace::{ItemLock, Workspace, WorkspaceError};
pub use certificate::*;
use history::*;
use session::*;
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
    /// One line per unmet gate (or other reason), for people.
    Refused { unmet: Vec<String> },
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
    /// Items approved (released or awaiting a second reviewer).
    pub fn approved(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| !matches!(r.result, BatchResult::Skipped { .. }))
            .count()
    }
    /// Items skipped, each with its reason.
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
pub(crate) fn approve_with(
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
pub(crate) fn approve_held(
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
pub(crate) fn approve_batch_with(
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
        Run {
            items,
            rows,
            attest,
            dry_run,
            flag_high_stakes,
            as_batch: true,
        },
    )
}

/// What approving `ids` would do, one row each; changes nothing.
pub(crate) fn approve_dry_run(
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
        Run {
            items,
            rows: Vec::new(),
            attest,
            dry_run: true,
            flag_high_stakes,
            as_batch: false,
        },
    )
}

/// One run of approvals: which items, with what, and how.
struct Run<'a> {
    items: Vec<Item>,
    /// Rows already decided (item files that could not be read).
    rows: Vec<(String, Option<BatchResult>)>,
    attest: &'a [Gate],
    /// Decide and report; write nothing.
    dry_run: bool,
    /// Flag every item high-stakes before deciding.
    flag_high_stakes: bool,
    /// Entries carry `batch {id, i, n}` (`approve --batch`).
    as_batch: bool,
}

/// Plan every item of `run` under one ledger lock, then write the
/// approvals in one append (one fsync).
fn run_many(
    ws: &Workspace,
    reviewer: &Reviewer,
    run: Run<'_>,
) -> Result<BatchReport, ReleaseError> {
    let Run {
        items,
        mut rows,
        attest,
        dry_run,
        flag_high_stakes,
        as_batch,
    } = run;
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
            Plan::Refused { unmet, .. } => rows.push((
                id,
                Some(BatchResult::Skipped {
                    reason: unmet.join("; "),
                }),
            )),
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
            reason: unmet.join("; "),
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
pub(crate) fn reject_held(
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

fn check_attestable(attest: &[Gate]) -> Result<(), ReleaseError> {
    match attest.iter().find(|g| g.method() != GateMethod::Attested) {
        Some(g) => Err(ReleaseError::NotAttestable(*g)),
        None => Ok(()),
    }
}

/// Who `reviewer` is in this ledger, or why they may not sign decisions
/// now: the ledger needs a trust root and a recorded policy equal to
/// `veil.toml`, and the key an active enrolment.
pub(crate) fn ensure_enrolled(
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
