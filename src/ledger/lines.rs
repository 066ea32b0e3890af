//! The file as lines: parse each, find the bytes a `recovered` entry
//! claims, and replay the trust entries. Pure.

use super::*;
use crate::trust::TrustState;
use rayon::prelude::*;
use serde_json::Value;

/// Why a line is not an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    /// Not JSON at all (crash debris, or damage).
    NotJson,
    /// JSON, but not in canonical form.
    NotCanonical(String),
    /// Canonical JSON, but not a ledger entry.
    NotEntry(String),
}

/// Parse one line (without its newline) as a canonical entry.
pub fn parse_line(line: &[u8]) -> Result<Entry, LineError> {
    let value: Value = serde_json::from_slice(line).map_err(|_| LineError::NotJson)?;
    match canonical(&value) {
        Ok(c) if c == line => {}
        Ok(_) => {
            return Err(LineError::NotCanonical(
                "keys unsorted, extra whitespace or escapes differ".into(),
            ));
        }
        Err(e) => return Err(LineError::NotCanonical(e.to_string())),
    }
    serde_json::from_value(value).map_err(|e| LineError::NotEntry(e.to_string()))
}

/// One line of the file, by byte range (newline excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawLine {
    pub start: usize,
    pub end: usize,
    /// False for a final line with no newline.
    pub complete: bool,
}

/// Split into lines; a trailing piece without a newline is `complete: false`.
pub fn split_lines(bytes: &[u8]) -> Vec<RawLine> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            out.push(RawLine {
                start,
                end: i,
                complete: true,
            });
            start = i + 1;
        }
    }
    if start < bytes.len() {
        out.push(RawLine {
            start,
            end: bytes.len(),
            complete: false,
        });
    }
    out
}

/// An entry found in a ledger, with where it is.
#[derive(Debug, Clone)]
pub struct Located {
    /// 1-based line number in the file.
    pub line: usize,
    /// SHA-256 of the line: what the next entry's `prev` holds.
    pub hash: String,
    pub entry: Entry,
}

/// Every well-formed entry, in file order (no signature or chain checks:
/// for lookups by the tool itself; [`verify`] is the audit).
pub fn entries(bytes: &[u8]) -> Vec<Located> {
    let scanned = scan(bytes);
    scanned
        .lines
        .iter()
        .zip(scanned.parsed)
        .zip(scanned.claimed)
        .enumerate()
        .filter(|(_, ((l, _), claimed))| l.complete && !claimed)
        .filter_map(|(n, ((l, parsed), _))| {
            parsed.ok().map(|entry| Located {
                line: n + 1,
                hash: sha256_hex(&bytes[l.start..l.end]),
                entry,
            })
        })
        .collect()
}

/// Every line, parsed, and whether a `discarded` claim covers it.
pub(super) struct Scan {
    lines: Vec<RawLine>,
    parsed: Vec<Result<Entry, LineError>>,
    /// True for a line inside bytes an entry declares debris: a torn line
    /// there may look whole once the recovering newline follows it.
    claimed: Vec<bool>,
}

/// Split and parse every line, and mark the lines `discarded` claims cover.
pub(super) fn scan(bytes: &[u8]) -> Scan {
    let lines = split_lines(bytes);
    // Each line parses on its own: on all cores (verify reads 100k lines).
    let parsed: Vec<Result<Entry, LineError>> = lines
        .par_iter()
        .map(|l| parse_line(&bytes[l.start..l.end]))
        .collect();
    let claimed = claimed_lines(&lines, |n| {
        parsed[n].as_ref().ok().and_then(|e| e.discarded.clone())
    });
    Scan {
        lines,
        parsed,
        claimed,
    }
}

/// For each line, whether a `discarded` claim covers it; `discarded(n)`
/// gives line `n`'s claim, if it is an entry that makes one.
pub(super) fn claimed_lines(
    lines: &[RawLine],
    discarded: impl Fn(usize) -> Option<Discarded>,
) -> Vec<bool> {
    // A claim covers only the bytes right before its own line (the debris
    // and the newline the recovering append wrote): never itself, never
    // anything after it.
    let candidates: Vec<(usize, (usize, usize))> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.complete)
        .filter_map(|(n, l)| {
            let d = discarded(n)?;
            let start = usize::try_from(d.offset).ok()?;
            let len = usize::try_from(d.length).ok()?;
            let end = start.checked_add(len)?;
            (end.checked_add(1) == Some(l.start)).then_some((n, (start, end)))
        })
        .collect();
    let mut claims = Claims::new(candidates.iter().map(|(_, (start, _))| *start).collect());
    // Last line first: a claim made by a line that is itself claimed (a
    // recovered entry torn in turn, then recovered) claims nothing, as
    // the append that recovered it built on the lines before it.
    for &(n, (start, end)) in candidates.iter().rev() {
        if !claims.hold(lines[n].start, lines[n].end) {
            claims.insert(start, end);
        }
    }
    lines.iter().map(|l| claims.hold(l.start, l.end)).collect()
}

/// Byte ranges claimed as debris, asked whether one of them holds a span
/// whole. A prefix maximum of the claims' ends over their starts (a
/// Fenwick tree) answers in O(log k), so a hostile ledger of many claiming
/// lines costs n log k to check rather than n × k.
pub(super) struct Claims {
    /// Every start a claim may be inserted at, sorted, without repeats.
    starts: Vec<usize>,
    /// Fenwick tree over `starts` (1-based): the largest end inserted.
    ends: Vec<Option<usize>>,
}

impl Claims {
    fn new(mut starts: Vec<usize>) -> Claims {
        starts.sort_unstable();
        starts.dedup();
        let ends = vec![None; starts.len() + 1];
        Claims { starts, ends }
    }

    /// Adds the claim `start..end`; `start` must be one given to [`Claims::new`].
    fn insert(&mut self, start: usize, end: usize) {
        let Ok(at) = self.starts.binary_search(&start) else {
            debug_assert!(false, "claim start {start} was not declared");
            return;
        };
        let mut i = at + 1;
        while i < self.ends.len() {
            self.ends[i] = self.ends[i].max(Some(end));
            i += i & i.wrapping_neg();
        }
    }

    /// Whether one claim holds all of `start..end`: of the claims starting
    /// at or before `start`, the one reaching furthest reaches `end`.
    fn hold(&self, start: usize, end: usize) -> bool {
        let mut i = self.starts.partition_point(|&s| s <= start);
        let mut furthest = None;
        while i > 0 {
            furthest = furthest.max(self.ends[i]);
            i -= i & i.wrapping_neg();
        }
        furthest.is_some_and(|e| e >= end)
    }
}

/// The claims of [`scan`] without parsing every line: an entry is canonical
/// JSON, where a `discarded` field shows as the bytes `"discarded":` (inside
/// a string a quote is escaped), so only lines holding them are parsed.
/// Appends stay fast on a ledger of 100k entries.
pub(super) fn claimed_lines_quick(bytes: &[u8], lines: &[RawLine]) -> Vec<bool> {
    let finder = memchr::memmem::Finder::new(b"\"discarded\":");
    claimed_lines(lines, |n| {
        let raw = &bytes[lines[n].start..lines[n].end];
        finder.find(raw)?;
        parse_line(raw).ok().and_then(|e| e.discarded)
    })
}

/// Trust as the ledger's own entries give it (for the tool's own checks
/// before it signs; [`verify`] is the audit): the first `admin` entry is
/// the root, and the `enrol`, `revoke` and `policy` entries it signed after
/// that apply in order.
pub(crate) fn trust_state(index: &[Located]) -> TrustState {
    let mut state = TrustState::default();
    for l in index {
        let e = &l.entry;
        match e.kind {
            EntryKind::Admin if state.root.is_none() => {
                if let Ok(k) = crate::keys::parse_public(&e.reviewer.key) {
                    let _ = state.set_root(k, &e.reviewer.name, l.line);
                }
            }
            EntryKind::Enrol | EntryKind::Revoke | EntryKind::Policy
                if state
                    .root
                    .as_ref()
                    .is_some_and(|r| r.fingerprint == e.reviewer.fingerprint) =>
            {
                let _ = apply_admin(&mut state, e, l.line);
            }
            _ => {}
        }
    }
    state
}

/// Apply an administrator's `enrol`, `revoke` or `policy` entry.
pub(super) fn apply_admin(state: &mut TrustState, e: &Entry, line_no: usize) -> Result<(), String> {
    match e.kind {
        EntryKind::Enrol => match &e.enrolment {
            Some(en) => state.enrol(en, line_no),
            None => Err("enrol entry lacks its enrolment".into()),
        },
        EntryKind::Revoke => match &e.enrolment {
            Some(en) => state.revoke(en, line_no),
            None => Err("revoke entry lacks the enrolment it ends".into()),
        },
        EntryKind::Policy => match (&e.policy_text, &e.policy_digest) {
            (Some(text), Some(digest)) => state.set_policy(text, digest, line_no),
            _ => Err("policy entry lacks its policy_text or policy_digest".into()),
        },
        _ => Ok(()),
    }
}
