//! [`verify`]: a ledger's bytes judged on their own, offline, in named
//! passes. Pure: no I/O; the released outputs are checked by
//! [`crate::audit`].

use super::*;
use crate::trust::{Anchor, Role, Trust, TrustState};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

mod authority;
mod chain;
mod decisions;
mod report;
mod rules;
mod signatures;

use authority::*;
use chain::*;
use decisions::*;
pub use report::*;
use rules::*;
use signatures::*;

/// Check a ledger's bytes: canonical form, ledger id, contiguous seq, prev
/// hashes, every signature, who may sign each entry (the administrator
/// named by the `admin` entry, reviewers it enrolled, or for a legacy
/// ledger the `allowed_signers` of `trust`), the policy in force, decisions
/// (no release after a reject, one release per original, high-stakes never
/// lowered), complete batches, time order, and (with `checkpoint`) that the
/// ledger still starts with the exported head. Pure: outputs are checked by
/// [`crate::audit::verify_workspace`].
///
/// The passes, in order: the signer lists' ignored lines; every line parsed
/// and every signature checked (on all cores); the trust root and the keys
/// that may ever sign; the debris recoveries claim; then one walk in file
/// order, which judges each entry against those before it; and last what
/// only the whole ledger shows (trailing debris, incomplete batches, trust,
/// the checkpoint).
pub fn verify(bytes: &[u8], trust: &Trust, checkpoint: Option<&Head>) -> VerifyReport {
    let mut r = VerifyReport {
        head: Some(Head::of(bytes)),
        ..VerifyReport::default()
    };
    note_ignored_signer_lines(&mut r, trust);
    let lines = split_lines(bytes);
    r.lines = lines.len();
    let mut parsed = parse_every_line(bytes, &lines);
    let mut crypto = check_every_signature(bytes, &lines, &parsed);
    let signed: Vec<bool> = (0..lines.len())
        .map(|n| lines[n].complete && parsed[n].is_ok() && crypto[n].is_none())
        .collect();
    let root = Root::find(&parsed, &signed, trust);
    let claimed = claimed_debris(&mut r, &lines, &parsed, &signed, &root.ever);

    let mut walk = Walk::new(bytes, trust, &root);
    for (n, l) in lines.iter().enumerate() {
        // Each line is visited once: take its entry rather than copy it.
        let entry = std::mem::replace(&mut parsed[n], Err(LineError::NotJson));
        if walk.line(&mut r, n, l, entry, claimed[n], crypto[n].take()) == Step::Stop {
            break;
        }
    }
    walk.finish(&mut r);
    summarise_trust(&mut r, trust, &walk.state, !bytes.is_empty());
    if let Some(cp) = checkpoint {
        check_checkpoint(&mut r, bytes, cp);
    }
    if bytes.is_empty() {
        r.push(
            0,
            Severity::Note,
            "the ledger is empty: nothing has been approved yet".into(),
        );
    }
    r.findings.sort_by_key(|f| f.line);
    r
}

/// Pass 1: lines of the signer lists that were not read say so.
fn note_ignored_signer_lines(r: &mut VerifyReport, trust: &Trust) {
    for (line, reason) in &trust.workspace_signers.ignored {
        r.push(
            0,
            Severity::Warning,
            format!("allowed_signers line {line} ignored: {reason}"),
        );
    }
    if let Some(s) = trust.anchor.as_ref().and_then(Anchor::signers) {
        for (line, reason) in &s.ignored {
            r.push(
                0,
                Severity::Warning,
                format!("your trust file's line {line} ignored: {reason}"),
            );
        }
    }
}

/// Pass 2: each line parses on its own, on all cores (verify reads 100k lines).
fn parse_every_line(bytes: &[u8], lines: &[RawLine]) -> Vec<Result<Entry, LineError>> {
    lines
        .par_iter()
        .map(|l| parse_line(&bytes[l.start..l.end]))
        .collect()
}

/// Pass 3: every complete entry's signature, on all cores; `Some(problem)`
/// where it fails. A ledger has a few signers and many entries: each key is
/// parsed and fingerprinted once.
fn check_every_signature(
    bytes: &[u8],
    lines: &[RawLine],
    parsed: &[Result<Entry, LineError>],
) -> Vec<Option<String>> {
    let mut keys: BTreeMap<(&str, &str), Result<ssh_key::PublicKey, String>> = BTreeMap::new();
    for e in parsed.iter().flatten() {
        let s = &e.reviewer;
        keys.entry((&s.key, &s.fingerprint))
            .or_insert_with(|| named_key(&s.key, &s.fingerprint));
    }
    lines
        .par_iter()
        .zip(parsed.par_iter())
        .map(|(l, p)| match p {
            Ok(e) if l.complete => {
                let s = &e.reviewer;
                crypto_problem(
                    e,
                    &bytes[l.start..l.end],
                    &keys[&(s.key.as_str(), s.fingerprint.as_str())],
                )
            }
            _ => None,
        })
        .collect()
}

/// Pass 4: the trust root (the first validly signed `admin` entry) and
/// every key that may ever sign here: a claim by anyone else claims nothing.
struct Root {
    /// Index of the root's line.
    at: Option<usize>,
    /// The administrator's fingerprint.
    fingerprint: Option<String>,
    /// Fingerprints of the legacy signers, the administrator and every key
    /// the administrator enrolled.
    ever: BTreeSet<String>,
}

impl Root {
    fn find(parsed: &[Result<Entry, LineError>], signed: &[bool], trust: &Trust) -> Root {
        let at = (0..parsed.len())
            .find(|&n| signed[n] && parsed[n].as_ref().is_ok_and(|e| e.kind == EntryKind::Admin));
        let fingerprint = at.and_then(|n| {
            parsed[n]
                .as_ref()
                .ok()
                .map(|e| e.reviewer.fingerprint.clone())
        });
        let mut ever: BTreeSet<String> = trust
            .legacy_signers()
            .keys
            .iter()
            .map(|k| crate::keys::fingerprint_of(&k.key))
            .collect();
        if let Some(fp) = &fingerprint {
            ever.insert(fp.clone());
            for (n, p) in parsed.iter().enumerate() {
                if let Ok(e) = p
                    && signed[n]
                    && e.kind == EntryKind::Enrol
                    && &e.reviewer.fingerprint == fp
                    && let Some(k) = e
                        .enrolment
                        .as_ref()
                        .and_then(|en| crate::keys::parse_public(&en.key).ok())
                {
                    ever.insert(crate::keys::fingerprint_of(&k));
                }
            }
        }
        Root {
            at,
            fingerprint,
            ever,
        }
    }

    /// True for a line before the trust root (or any line without one).
    fn legacy(&self, n: usize) -> bool {
        self.at.is_none_or(|a| n < a)
    }
}

/// Pass 5: which lines `recovered` entries claim as debris of an
/// interrupted write. Debris is what an append found after the last entry;
/// a complete, validly signed entry is never debris (appends finish such a
/// line instead). Veil before the trust root claimed a whole entry whose
/// newline was lost: a legacy claim of that is only a warning.
fn claimed_debris(
    r: &mut VerifyReport,
    lines: &[RawLine],
    parsed: &[Result<Entry, LineError>],
    signed: &[bool],
    ever: &BTreeSet<String>,
) -> Vec<bool> {
    let mut claimed = claimed_lines(lines, |n| {
        let e = parsed[n].as_ref().ok()?;
        let may = signed[n]
            && matches!(e.kind, EntryKind::Recovered | EntryKind::Header)
            && ever.contains(&e.reviewer.fingerprint);
        may.then(|| e.discarded.clone()).flatten()
    });
    for n in 0..lines.len() {
        if claimed[n] && signed[n] {
            let legacy = parsed[n].as_ref().is_ok_and(|e| e.v == LEGACY_VERSION);
            if legacy {
                r.push(
                    n + 1,
                    Severity::Warning,
                    "a whole entry claimed as debris of an interrupted write by a legacy recovery (Veil before the trust root did so when its newline was lost); not counted".into(),
                );
            } else {
                claimed[n] = false;
                r.push(
                    n + 1,
                    Severity::Tampered,
                    "a complete, validly signed entry is claimed as interrupted-write debris by a later recovered entry: a recovery may only account for a torn tail".into(),
                );
            }
        }
    }
    claimed
}

/// Whether the walk goes on after a line.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    Next,
    /// An incomplete last line: nothing after it.
    Stop,
}

/// Pass 6: one walk in file order, judging each entry against those before
/// it. Holds what the walk has learnt so far.
struct Walk<'a> {
    bytes: &'a [u8],
    trust: &'a Trust,
    root: &'a Root,
    state: TrustState,
    expected_seq: Option<u64>,
    prev_hash: String,
    prev_line: usize,
    /// The latest time seen so far and its line.
    prev_ts: Option<(jiff::Timestamp, usize)>,
    debris: Option<Debris>,
    seen_entry: bool,
    /// First approvals by seq: their line, entry and the approver's principal.
    approvals: BTreeMap<u64, (usize, Entry, Option<String>)>,
    decisions: Decisions,
    /// Batch id → (declared size, positions seen, first line).
    batches: BTreeMap<String, (u64, BTreeSet<u64>, usize)>,
}

impl<'a> Walk<'a> {
    fn new(bytes: &'a [u8], trust: &'a Trust, root: &'a Root) -> Walk<'a> {
        Walk {
            bytes,
            trust,
            root,
            state: TrustState::default(),
            expected_seq: Some(0),
            prev_hash: ZERO_HASH.to_string(),
            prev_line: 0,
            prev_ts: None,
            debris: None,
            seen_entry: false,
            approvals: BTreeMap::new(),
            decisions: Decisions::default(),
            batches: BTreeMap::new(),
        }
    }

    /// Line `n`: an interrupted write, debris, a line that is not an entry,
    /// or an entry to judge.
    fn line(
        &mut self,
        r: &mut VerifyReport,
        n: usize,
        l: &RawLine,
        parsed: Result<Entry, LineError>,
        claimed: bool,
        crypto: Option<String>,
    ) -> Step {
        let line_no = n + 1;
        if !l.complete {
            let (first, start) = self
                .debris
                .take()
                .map_or((line_no, l.start), |d| (d.first_line, d.start));
            r.push(
                first,
                Severity::Warning,
                format!(
                    "{} bytes from line {first} to the end are an interrupted write (the last line has no newline); not counted — the next append records them as recovered, or finishes the line when it is a whole entry",
                    self.bytes.len() - start
                ),
            );
            return Step::Stop;
        }
        match parsed {
            _ if claimed => self.note_debris(l, line_no),
            Err(LineError::NotJson) => self.note_debris(l, line_no),
            Err(e) => {
                r.push(
                    line_no,
                    Severity::Tampered,
                    format!("{} (edited by hand?)", line_problem(&e)),
                );
                // Resynchronise on this line so later lines are judged on their own.
                self.prev_hash = sha256_hex(&self.bytes[l.start..l.end]);
                self.prev_line = line_no;
                self.expected_seq = None;
                self.seen_entry = true;
            }
            Ok(entry) => self.entry(r, n, l, entry, crypto),
        }
        Step::Next
    }

    /// A line that is not an entry starts (or continues) a run of debris.
    fn note_debris(&mut self, l: &RawLine, line_no: usize) {
        if self.debris.is_none() {
            self.debris = Some(Debris {
                start: l.start,
                first_line: line_no,
            });
        }
    }

    /// Judge one entry: what it accounts for, its place in the chain, its
    /// version and time, who signed it, the rules and decisions, its batch.
    fn entry(
        &mut self,
        r: &mut VerifyReport,
        n: usize,
        l: &RawLine,
        entry: Entry,
        crypto: Option<String>,
    ) {
        let line_no = n + 1;
        r.entries += 1;
        self.account_for_debris(r, line_no, l, &entry);
        check_chain(
            r,
            line_no,
            &entry,
            self.seen_entry,
            self.expected_seq,
            &self.prev_hash,
            self.prev_line,
        );
        self.seen_entry = true;
        self.expected_seq = Some(entry.seq + 1);
        self.prev_hash = sha256_hex(&self.bytes[l.start..l.end]);
        self.prev_line = line_no;

        if entry.v != LEDGER_VERSION && !(entry.v == LEGACY_VERSION && self.root.legacy(n)) {
            r.push(
                line_no,
                Severity::Tampered,
                format!("format version {} is not {LEDGER_VERSION}", entry.v),
            );
        }
        let when = self.judged_time(r, line_no, &entry);
        let role = match crypto {
            Some(problem) => {
                r.push(line_no, Severity::Tampered, problem);
                None
            }
            None => self.authorise(r, n, &entry, when),
        };
        let principal = match &role {
            Some(Role::Reviewer(p)) => Some(p.clone()),
            _ => None,
        };
        check_rules(r, line_no, &entry, &self.approvals, self.bytes, l.start);
        if matches!(
            entry.kind,
            EntryKind::Approve | EntryKind::Countersign | EntryKind::Reject
        ) {
            self.decisions.check(
                r,
                line_no,
                &entry,
                &self.state,
                self.root.legacy(n),
                principal.as_deref(),
                &self.approvals,
            );
        }
        self.record_batch(r, line_no, &entry);
        if entry.releases()
            && let (Some(item), Some(name), Some(sha)) =
                (&entry.item, &entry.output_name, &entry.output_sha256)
        {
            r.releases.push(Release {
                line: line_no,
                seq: entry.seq,
                item: item.clone(),
                output_name: name.clone(),
                output_sha256: sha.clone(),
            });
        }
        if entry.kind == EntryKind::Withdraw && role.is_some() {
            self.decisions.withdraw(r, line_no, &entry);
        }
        if entry.kind == EntryKind::Approve {
            self.approvals
                .insert(entry.seq, (line_no, entry, principal));
        }
    }

    /// Non-entry bytes before this line must be accounted for by it, and an
    /// entry may account only for the bytes right before it.
    fn account_for_debris(
        &mut self,
        r: &mut VerifyReport,
        line_no: usize,
        l: &RawLine,
        entry: &Entry,
    ) {
        let claims = matches!(entry.kind, EntryKind::Recovered | EntryKind::Header)
            && entry.discarded.is_some();
        match (self.debris.take(), claims) {
            (Some(d), true) => {
                check_claim(r, line_no, entry, d.start, &self.bytes[d.start..l.start]);
            }
            (Some(d), false) => r.push(
                d.first_line,
                Severity::Tampered,
                format!(
                    "lines {}–{} ({} bytes) are not ledger entries and no recovered entry accounts for them: inserted or damaged",
                    d.first_line,
                    line_no - 1,
                    l.start - d.start
                ),
            ),
            (None, true) => r.push(
                line_no,
                Severity::Tampered,
                "this entry accounts for interrupted-write bytes that are not right before it: lines were removed, or it claims what it may not".into(),
            ),
            (None, false) => {}
        }
    }

    /// The time an entry is judged at, never before an earlier entry's: a
    /// signer cannot backdate past the chain.
    fn judged_time(
        &mut self,
        r: &mut VerifyReport,
        line_no: usize,
        entry: &Entry,
    ) -> Option<jiff::Timestamp> {
        match entry.ts.parse::<jiff::Timestamp>() {
            Ok(t) => {
                if let Some((p, pl)) = self.prev_ts
                    && t < p
                {
                    r.push(
                        line_no,
                        Severity::Warning,
                        format!(
                            "time goes backwards ({} is before line {pl}'s {p}): the clock was changed, or lines were reordered",
                            entry.ts
                        ),
                    );
                }
                let at = self.prev_ts.map_or(t, |(p, _)| p.max(t));
                self.prev_ts = Some((at, line_no));
                Some(at)
            }
            Err(_) => {
                r.push(
                    line_no,
                    Severity::Tampered,
                    format!("ts '{}' is not an RFC 3339 time", entry.ts),
                );
                self.prev_ts.map(|(p, _)| p)
            }
        }
    }

    /// Who signed a validly signed entry, and whether they may have.
    fn authorise(
        &mut self,
        r: &mut VerifyReport,
        n: usize,
        entry: &Entry,
        when: Option<jiff::Timestamp>,
    ) -> Option<Role> {
        let legacy = self.root.legacy(n);
        if legacy && entry.kind != EntryKind::Header {
            r.trust.legacy_entries += 1;
        }
        match authorise(
            &mut self.state,
            self.trust,
            entry,
            n + 1,
            self.root.at == Some(n),
            legacy,
            self.root.fingerprint.as_deref(),
            when,
        ) {
            Ok(role) => Some(role),
            Err(problem) => {
                r.push(n + 1, Severity::Tampered, problem);
                None
            }
        }
    }

    /// An entry's batch position must agree with the batch's other entries.
    fn record_batch(&mut self, r: &mut VerifyReport, line_no: usize, entry: &Entry) {
        let Some(b) = &entry.batch else { return };
        let slot = self
            .batches
            .entry(b.id.clone())
            .or_insert((b.n, BTreeSet::new(), line_no));
        if b.n != slot.0 || b.i >= b.n || !slot.1.insert(b.i) {
            r.push(
                line_no,
                Severity::Tampered,
                format!(
                    "batch {} position {} of {} is inconsistent with the batch's other entries",
                    short(&b.id),
                    b.i,
                    b.n
                ),
            );
        }
    }

    /// Pass 7: what only the end shows: trailing debris and incomplete batches.
    fn finish(&mut self, r: &mut VerifyReport) {
        if let Some(d) = self.debris.take() {
            r.push(
                d.first_line,
                Severity::Warning,
                format!(
                    "lines {}–{} ({} bytes) at the end are not ledger entries: debris of an interrupted write, not counted — the next append records them as recovered",
                    d.first_line,
                    r.lines,
                    self.bytes.len() - d.start
                ),
            );
        }
        for (id, (n, have, line)) in &self.batches {
            // `n` comes from the file (up to 2^53 - 1): name the first gaps only.
            let mut missing: Vec<String> = (0..*n)
                .filter(|i| !have.contains(i))
                .take(20)
                .map(|i| i.to_string())
                .collect();
            let more = n.saturating_sub((have.len() + missing.len()) as u64);
            if more > 0 {
                missing.push(format!("and {more} more"));
            }
            if !missing.is_empty() {
                r.push(
                    *line,
                    Severity::Warning,
                    format!(
                        "batch {} is incomplete: position(s) {} of {n} missing — the batch write was interrupted, or its last entries were deleted (check against a checkpoint)",
                        short(id),
                        missing.join(", ")
                    ),
                );
            }
        }
    }
}
