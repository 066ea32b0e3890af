//! One run of decisions under the ledger's lock: plan each approval
//! (render, check, [`super::history::decide`]), then write it in the
//! crash-safe order (output, entry with fsync, certificate, item).

use super::*;
use crate::gates::{Gate, GateMethod, GateReport};
use crate::item::{Attestation, Item, ItemState, OutputCheck, OutputRecord};
use crate::keys::Reviewer;
use crate::ledger::{self, CERTIFICATE_SUFFIX, Entry, EntryGate, EntryKind, Ledger, Located};
use crate::policy::{Naming, RedactionMode};
use crate::redact::{self, Rendered};
use crate::trust::TrustState;
use crate::workspace::{Workspace, write_atomic_mode};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::PathBuf;

/// An approval ready to write.
pub(super) struct Record {
    pub(super) item: Item,
    pub(super) entry: Entry,
    pub(super) rendered: Rendered,
    pub(super) name: String,
    /// `out/<name>` already holds these exact bytes (an interrupted approval).
    pub(super) reuse_file: bool,
}

impl Record {
    /// True when writing this record releases the output.
    pub(super) fn releases(&self) -> bool {
        self.entry.releases()
    }
}

pub(super) enum Plan {
    Refused {
        unmet: Vec<String>,
    },
    /// Already in the ledger (an interrupted run): finish the item.
    Done {
        item: Box<Item>,
        outcome: ApproveOutcome,
    },
    Record(Box<Record>),
}

/// The ledger (locked unless a dry run), its entries, and names in use.
pub(super) struct Session<'a> {
    pub(super) ws: &'a Workspace,
    pub(super) reviewer: &'a Reviewer,
    pub(super) ledger: Option<Ledger>,
    pub(super) index: Vec<Located>,
    /// Names used by entries, files in `out/`, or earlier plans.
    pub(super) taken: BTreeSet<String>,
    /// Files in `out/` no entry names: SHA-256 → name.
    pub(super) orphans: Option<BTreeMap<String, String>>,
    pub(super) approvals: u64,
    /// Trust as the ledger records it.
    pub(super) trust: TrustState,
    /// The signing reviewer's principal.
    pub(super) principal: String,
}

impl<'a> Session<'a> {
    /// Read the ledger (locked for writing unless a dry run) and who the reviewer is in it.
    pub(super) fn open(
        ws: &'a Workspace,
        reviewer: &'a Reviewer,
        lock: bool,
    ) -> Result<Self, ReleaseError> {
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

    /// The locked ledger, or an error in a dry run.
    pub(super) fn ledger_mut(&mut self) -> Result<&mut Ledger, ReleaseError> {
        match self.ledger.as_mut() {
            Some(l) => Ok(l),
            None => Err(ReleaseError::Io {
                path: self.ws.ledger_path(),
                source: io::Error::other("not opened for writing (dry run)"),
            }),
        }
    }

    /// Decide what approving `item` now would do; writes nothing.
    pub(super) fn plan(&mut self, mut item: Item, attest: &[Gate]) -> Result<Plan, ReleaseError> {
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
                *g,
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

        let cycle = &self.index[past.since.min(self.index.len())..];
        let decision = decide(&Approval {
            item: &item,
            masks_digest: &digest,
            output_sha256: &rendered.sha256,
            cycle,
            past: &past,
            me: &me,
            principal_of: &principal_of,
            policy,
            attest,
            unsealed,
        })?;
        let (kind, name, countersigns, report) = match decision {
            Decision::AlreadyReleased { name, seq } => {
                let outcome = ApproveOutcome::Released {
                    output: self.ws.out_dir().join(&name),
                    seq,
                };
                return Ok(Plan::Done {
                    item: Box::new(finish_item(item, &rendered, &name, ItemState::Approved)),
                    outcome,
                });
            }
            Decision::AlreadyFirst { name, seq } => {
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
            Decision::Refused(unmet) => return Ok(Plan::Refused { unmet }),
            Decision::Write {
                kind,
                name,
                countersigns,
                report,
            } => (kind, name.unwrap_or_default(), countersigns, report),
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
    pub(super) fn choose_name(
        &mut self,
        rendered: &Rendered,
    ) -> Result<(String, bool), ReleaseError> {
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

    /// True when `out/<name>` is an unrecorded file holding exactly `sha`'s bytes (an interrupted approval).
    pub(super) fn orphan_named(&mut self, name: &str, sha: &str) -> Result<bool, ReleaseError> {
        Ok(self.orphans()?.get(sha).is_some_and(|n| n == name))
    }

    /// Files in `out/` that no ledger entry names, by SHA-256 (computed once).
    pub(super) fn orphans(&mut self) -> Result<&mut BTreeMap<String, String>, ReleaseError> {
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
    pub(super) fn record(
        &mut self,
        recs: &mut [Record],
    ) -> Result<Vec<ApproveOutcome>, ReleaseError> {
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
    pub(super) fn repair(
        &mut self,
        item: Box<Item>,
        outcome: &ApproveOutcome,
    ) -> Result<(), ReleaseError> {
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
    pub(super) fn dicom_salt(&self, item: &Item) -> Result<Option<Vec<u8>>, ReleaseError> {
        match item.dicom {
            Some(_) => Ok(Some(self.ws.dicom_salt()?)),
            None => Ok(None),
        }
    }

    /// Write the certificate of `item`'s release beside its output.
    pub(super) fn write_certificate(&self, item: &Item) -> Result<(), io::Error> {
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
pub(super) fn drop_unsealed(item: &mut Item, trust: &TrustState) -> usize {
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

/// The item as a decision leaves it: state, output record, output check.
pub(super) fn finish_item(
    mut item: Item,
    rendered: &Rendered,
    name: &str,
    state: ItemState,
) -> Item {
    item.output = Some(OutputRecord {
        name: name.to_string(),
        sha256: rendered.sha256.clone(),
        masks_digest: item.masks_digest(),
    });
    item.state = state;
    item
}

/// Remove files written before a failure (best effort).
pub(super) fn remove_all(paths: &[PathBuf]) {
    for p in paths {
        let _ = fs::remove_file(p);
    }
}

/// The gate report as the ledger records it.
pub(super) fn entry_gates(report: &GateReport) -> Vec<EntryGate> {
    report
        .statuses
        .iter()
        .map(|s| EntryGate {
            gate: s.gate,
            method: s.method,
            required: s.required,
            met: s.met,
            detail: s.detail.clone(),
        })
        .collect()
}

/// The redaction mode as the ledger records it.
pub(super) fn redaction_name(mode: RedactionMode) -> &'static str {
    match mode {
        RedactionMode::Solid => "solid",
        RedactionMode::Blur => "blur",
        RedactionMode::Pixelate => "pixelate",
    }
}
