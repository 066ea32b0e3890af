//! The approval ledger (`ledger.jsonl`): signed, hash-chained entries, one
//! canonical JSON object per line.
//!
//! The pure parts (canonical bytes, entries, [`verify`]) do no I/O. The
//! edge is [`Ledger`] (append under an exclusive lock, then `sync_data`)
//! and [`verify_workspace`] (reads the files and checks released outputs).
//!
//! Torn tail: bytes after the last complete entry (an interrupted write)
//! are never counted and never deleted. The next append writes a newline,
//! then a signed `recovered` entry naming their offset, length and SHA-256;
//! `verify` accepts non-entry bytes only where such an entry accounts for
//! them exactly. The file is therefore strictly append-only.
//!
//! Checkpoint: `SIZE:HASH` is the ledger's length in bytes and the SHA-256
//! of those bytes; a later ledger must start with exactly those bytes
//! (`head -c SIZE ledger.jsonl | sha256sum`).

use crate::item::{DetectorInfo, Item, MaskKind, Rect};
use crate::keys::{AllowedSigners, Reviewer};
use crate::trust::{Anchor, Role, Trust, TrustState};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Entry format version. Version 1 entries (before the administrator and
/// enrolments) verify as legacy trust.
pub const LEDGER_VERSION: u64 = 2;
/// The version written before the trust root existed.
pub const LEGACY_VERSION: u64 = 1;
/// `prev` of the header line.
pub const ZERO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// Largest integer a ledger may carry (2^53 − 1): every JSON reader agrees on it.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

// ---------------------------------------------------------------------------
// Canonical JSON

/// Why a value has no canonical form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    #[error("floating-point number {0} (the ledger carries integers only)")]
    Float(String),
    #[error("integer {0} is outside ±(2^53 − 1)")]
    BigInteger(String),
}

/// Canonical bytes: keys sorted by code point, no whitespace, integers
/// only, strings escaped as `json.dumps(..., ensure_ascii=False)` does.
pub fn canonical(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::new();
    write_canonical(value, &mut out)?;
    Ok(out)
}

fn write_canonical(value: &Value, out: &mut Vec<u8>) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => {
            let text = n.to_string();
            let ok = if let Some(u) = n.as_u64() {
                u <= MAX_SAFE_INTEGER
            } else if let Some(i) = n.as_i64() {
                i.unsigned_abs() <= MAX_SAFE_INTEGER
            } else {
                return Err(CanonicalError::Float(text));
            };
            if !ok {
                return Err(CanonicalError::BigInteger(text));
            }
            out.extend_from_slice(text.as_bytes());
        }
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(v, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // Sort explicitly: serde_json keeps insertion order when its
            // `preserve_order` feature is on anywhere in the build.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                if let Some(v) = map.get(k) {
                    write_canonical(v, out)?;
                }
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\u{08}' => out.extend_from_slice(b"\\b"),
            '\u{0c}' => out.extend_from_slice(b"\\f"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

// ---------------------------------------------------------------------------
// Entries

/// What an entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Line 0: the ledger's random id.
    Header,
    /// A reviewer approved an item (releases it unless it needs a second reviewer).
    Approve,
    /// A second, different reviewer approved a high-stakes item: releases it.
    Countersign,
    Reject,
    /// Accounts for bytes of an interrupted write.
    Recovered,
    /// Signs the head, so an exported copy can prove later deletions.
    Checkpoint,
    /// The trust root: signed by the administrator key it names (once).
    Admin,
    /// The administrator enrols a reviewer's key under a principal.
    Enrol,
    /// The administrator ends an enrolment.
    Revoke,
    /// The administrator records the policy text in force from here on.
    Policy,
    /// Takes a release back (a leak found after release): signed by the
    /// administrator or an enrolled reviewer; names the release by `withdraws`.
    Withdraw,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Header => "header",
            EntryKind::Approve => "approve",
            EntryKind::Countersign => "countersign",
            EntryKind::Reject => "reject",
            EntryKind::Recovered => "recovered",
            EntryKind::Checkpoint => "checkpoint",
            EntryKind::Admin => "admin",
            EntryKind::Enrol => "enrol",
            EntryKind::Revoke => "revoke",
            EntryKind::Policy => "policy",
            EntryKind::Withdraw => "withdraw",
        }
    }
}

/// Who signed an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signer {
    pub name: String,
    /// `ssh-ed25519 AAAA...`
    pub key: String,
    /// `SHA256:...`
    pub fingerprint: String,
}

/// A mask as the ledger records it: what it hid and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryMask {
    pub id: u32,
    pub kind: MaskKind,
    pub rect: Rect,
}

/// One gate's verdict at approval time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryGate {
    pub gate: String,
    /// `measured` or `attested`.
    pub method: String,
    pub required: bool,
    pub met: bool,
    pub detail: String,
}

/// Membership of one `approve --batch` run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    pub id: String,
    /// 0-based position in the batch.
    pub i: u64,
    pub n: u64,
}

/// Bytes of an interrupted write that a `recovered` entry accounts for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Discarded {
    pub offset: u64,
    pub length: u64,
    pub sha256: String,
}

/// A ledger prefix: its length in bytes and SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Head {
    pub size: u64,
    pub sha256: String,
}

impl Head {
    /// `SIZE:HASH`, as `veil verify --checkpoint` takes it.
    pub fn to_arg(&self) -> String {
        format!("{}:{}", self.size, self.sha256)
    }

    /// Parse `SIZE:HASH`.
    pub fn parse(s: &str) -> Result<Head, String> {
        let (size, hash) = s
            .trim()
            .split_once(':')
            .ok_or_else(|| format!("checkpoint '{s}' is not SIZE:HASH (see `veil checkpoint`)"))?;
        let size: u64 = size
            .parse()
            .map_err(|_| format!("checkpoint size '{size}' is not a number of bytes"))?;
        let hash = hash.to_ascii_lowercase();
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("checkpoint hash '{hash}' is not 64 hex digits"));
        }
        Ok(Head { size, sha256: hash })
    }

    /// The head of `bytes`.
    pub fn of(bytes: &[u8]) -> Head {
        Head {
            size: bytes.len() as u64,
            sha256: sha256_hex(bytes),
        }
    }
}

/// What a release of a DICOM original records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DicomRecord {
    /// SOP Class UID of the original.
    pub original_sop_class: String,
    /// Transfer syntax UID of the original.
    pub original_transfer_syntax: String,
    /// `dicom` (a new de-identified instance) or `image` (a picture).
    pub released_as: String,
    /// The PS3.15 Annex E profile and options applied, as `code meaning`
    /// (CID 7050); empty when released as a picture (nothing of the header
    /// is carried at all).
    pub methods: Vec<String>,
}

impl DicomRecord {
    /// The record of releasing `source` as `format` under `dates`.
    pub fn of(
        source: &crate::dicom::DicomSource,
        format: crate::policy::OutputFormat,
        dates: crate::policy::DicomDates,
    ) -> DicomRecord {
        let as_dicom = format == crate::policy::OutputFormat::Dicom;
        let shifted =
            dates == crate::policy::DicomDates::Shift && source.shifted_study_date.is_some();
        DicomRecord {
            original_sop_class: source.sop_class.clone(),
            original_transfer_syntax: source.transfer_syntax.clone(),
            released_as: if as_dicom { "dicom" } else { "image" }.into(),
            methods: if as_dicom {
                crate::dicom::output::methods(shifted)
                    .iter()
                    .map(|(code, meaning)| format!("{code} {meaning}"))
                    .collect()
            } else {
                Vec::new()
            },
        }
    }
}

/// One ledger line. Fields a kind does not use are absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub v: u64,
    pub ledger: String,
    pub seq: u64,
    /// SHA-256 of the previous line's bytes (without its newline).
    pub prev: String,
    /// UTC, whole seconds.
    pub ts: String,
    pub kind: EntryKind,
    /// `veil 0.1.0`.
    pub tool: String,
    pub reviewer: Signer,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_sha256: Option<String>,
    /// File name in `out/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub masks_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub masks: Option<Vec<EntryMask>>,
    /// How masks were drawn: `solid`, `blur` or `pixelate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redaction: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gates: Option<Vec<EntryGate>>,
    /// Measured gates the policy switched off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gates_not_required: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high_stakes: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detector: Option<DetectorInfo>,
    /// The text detector that proposed identifier masks, when one ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_detector: Option<DetectorInfo>,
    /// Metadata found in the original and not carried over: count by group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_removed: Option<BTreeMap<String, u64>>,
    /// A DICOM original: what it was, what it was released as, the
    /// de-identification profile and options applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dicom: Option<DicomRecord>,
    /// For `countersign`: the seq of the first approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub countersigns: Option<u64>,
    /// For `withdraw`: the seq of the entry that released the output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdraws: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<Batch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discarded: Option<Discarded>,
    /// For `checkpoint`: the ledger prefix before this line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<Head>,
    /// For `enrol` and `revoke`: whose key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrolment: Option<crate::trust::Enrolment>,
    /// For `policy`: the whole `veil.toml` text; `policy_digest` is its digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_text: Option<String>,
    /// sshsig over the canonical bytes of the entry without `sig`, one line of base64.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sig: String,
}

impl Entry {
    /// An unsigned entry of `kind`; [`Ledger::append`] fills in the chain fields.
    pub fn draft(kind: EntryKind) -> Entry {
        Entry {
            v: LEDGER_VERSION,
            ledger: String::new(),
            seq: 0,
            prev: String::new(),
            ts: String::new(),
            kind,
            tool: tool_version(),
            reviewer: Signer {
                name: String::new(),
                key: String::new(),
                fingerprint: String::new(),
            },
            item: None,
            original_sha256: None,
            output_sha256: None,
            output_name: None,
            masks_digest: None,
            masks: None,
            redaction: None,
            gates: None,
            gates_not_required: None,
            policy_digest: None,
            high_stakes: None,
            detector: None,
            text_detector: None,
            metadata_removed: None,
            dicom: None,
            countersigns: None,
            withdraws: None,
            batch: None,
            reason: None,
            discarded: None,
            head: None,
            enrolment: None,
            policy_text: None,
            sig: String::new(),
        }
    }

    /// The item-describing fields of an approval, from the item as approved.
    pub fn describe_item(&mut self, item: &Item) {
        self.item = Some(item.id.clone());
        self.original_sha256 = Some(item.sha256.clone());
        self.masks_digest = Some(item.masks_digest());
        self.masks = Some(
            item.masks
                .iter()
                .map(|m| EntryMask {
                    id: m.id,
                    kind: m.kind,
                    rect: m.rect,
                })
                .collect(),
        );
        self.detector = item.detector.clone();
        self.text_detector = item.text_detector.clone();
        let mut groups: BTreeMap<String, u64> = BTreeMap::new();
        for f in &item.metadata {
            *groups.entry(f.group.clone()).or_insert(0) += 1;
        }
        self.metadata_removed = Some(groups);
    }

    /// Canonical bytes of the whole entry (a ledger line without its newline).
    pub fn to_line(&self) -> Result<Vec<u8>, CanonicalError> {
        canonical(&serde_json::to_value(self).unwrap_or(Value::Null))
    }

    /// Canonical bytes of the entry without `sig`: what is signed.
    pub fn signed_bytes(&self) -> Result<Vec<u8>, CanonicalError> {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.remove("sig");
        }
        canonical(&v)
    }

    /// True when this entry releases an output to `out/`.
    pub fn releases(&self) -> bool {
        match self.kind {
            EntryKind::Countersign => true,
            EntryKind::Approve => !self.needs_second(),
            _ => false,
        }
    }

    /// True for a first approval that waits for a second reviewer.
    pub fn needs_second(&self) -> bool {
        self.kind == EntryKind::Approve
            && self.gates.as_ref().is_some_and(|gs| {
                gs.iter()
                    .any(|g| g.gate == crate::gates::Gate::SecondReviewer.as_str() && g.required)
            })
    }
}

/// `veil x.y.z`.
pub fn tool_version() -> String {
    format!("veil {}", env!("CARGO_PKG_VERSION"))
}

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
struct Scan {
    lines: Vec<RawLine>,
    parsed: Vec<Result<Entry, LineError>>,
    /// True for a line inside bytes an entry declares debris: a torn line
    /// there may look whole once the recovering newline follows it.
    claimed: Vec<bool>,
}

fn scan(bytes: &[u8]) -> Scan {
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
fn claimed_lines(lines: &[RawLine], discarded: impl Fn(usize) -> Option<Discarded>) -> Vec<bool> {
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
struct Claims {
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
fn claimed_lines_quick(bytes: &[u8], lines: &[RawLine]) -> Vec<bool> {
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
pub fn trust_state(index: &[Located]) -> TrustState {
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

// ---------------------------------------------------------------------------
// Appending

/// Problems reading or appending the ledger. Each names the file.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{path}: is a symbolic link; Veil never writes through one (replace it with the real file)"
    )]
    Symlink { path: PathBuf },
    #[error(
        "{path}: fsync failed ({source}); the entries are NOT confirmed durable, nothing is approved — check the disk and run `veil verify`"
    )]
    Sync {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{path} line {line}: {problem}; nothing was appended — run `veil verify` and restore the ledger from a copy before approving more"
    )]
    Damaged {
        path: PathBuf,
        line: usize,
        problem: String,
    },
    #[error("cannot sign a ledger entry: {0}")]
    Sign(String),
}

/// What one append wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub seq: u64,
    /// SHA-256 of the written line.
    pub hash: String,
    /// 1-based line number.
    pub line: usize,
}

/// The result of [`Ledger::append`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendReport {
    /// One per draft, in order.
    pub entries: Vec<Appended>,
    /// Interrupted-write bytes that a `recovered` entry now accounts for.
    pub recovered: Option<Discarded>,
    /// True when this append created the header.
    pub created: bool,
    /// The ledger's head after the append.
    pub head: Head,
}

/// Where the next entry goes: found by reading the file from the tail.
#[derive(Debug, Clone)]
struct Tail {
    ledger: Option<String>,
    next_seq: u64,
    prev: String,
    /// 1-based number of the last line holding an entry (0: none).
    last_line: usize,
    /// Bytes after the last entry: `(offset, bytes)`.
    debris: Option<(usize, Vec<u8>)>,
    /// The file ends in a whole entry that continues the chain but lost its
    /// newline: the append writes the newline and builds on it. Such an
    /// entry is never claimed as debris, so no claim ever covers a
    /// complete, validly signed entry.
    finish_line: bool,
}

/// Whether the final piece of `bytes` (no newline) is a whole entry of
/// `ledger` that follows `seq`/`prev`: `(entry, line index)`.
fn torn_whole_entry(
    bytes: &[u8],
    lines: &[RawLine],
    ledger: Option<&str>,
    next_seq: u64,
    prev: &str,
) -> Option<Entry> {
    let last = lines.last().filter(|l| !l.complete)?;
    let e = parse_line(&bytes[last.start..last.end]).ok()?;
    let fits = match ledger {
        Some(id) => e.ledger == id,
        None => e.kind == EntryKind::Header,
    };
    (fits && e.seq == next_seq && e.prev == prev).then_some(e)
}

/// Find the header and the last valid entry; everything after that entry
/// is debris, which must be crash debris (not JSON), never a whole JSON
/// line: those mean damage and stop the append.
fn find_tail(bytes: &[u8], path: &Path) -> Result<Tail, LedgerError> {
    let lines = split_lines(bytes);
    let damaged = |line: usize, problem: String| LedgerError::Damaged {
        path: path.to_path_buf(),
        line,
        problem,
    };
    // The header: the first line that parses as an entry.
    let claimed = claimed_lines_quick(bytes, &lines);
    let mut header: Option<(usize, Entry)> = None;
    for (n, l) in lines.iter().enumerate() {
        if !l.complete {
            break;
        }
        match parse_line(&bytes[l.start..l.end]) {
            // A torn header, whole but for its newline, claimed as debris
            // by the header written after it (the same claims `verify` honours).
            Ok(_) if claimed[n] => continue,
            Ok(e) if e.kind == EntryKind::Header && e.seq == 0 => {
                header = Some((n, e));
                break;
            }
            Ok(e) => {
                return Err(damaged(
                    n + 1,
                    format!("the first entry is a '{}', not the header", e.kind.as_str()),
                ));
            }
            Err(LineError::NotJson) => continue,
            Err(e) => return Err(damaged(n + 1, line_problem(&e))),
        }
    }
    let Some((header_at, header)) = header else {
        // No ledger yet: anything here is debris of a first write.
        check_debris(bytes, &lines, 0, path)?;
        if let Some(h) = torn_whole_entry(bytes, &lines, None, 0, ZERO_HASH) {
            // Debris before it would have been claimed by the header itself.
            if lines.len() == 1 && h.discarded.is_none() {
                return Ok(Tail {
                    ledger: Some(h.ledger),
                    next_seq: 1,
                    prev: sha256_hex(bytes),
                    last_line: 1,
                    debris: None,
                    finish_line: true,
                });
            }
        }
        return Ok(Tail {
            ledger: None,
            next_seq: 0,
            prev: ZERO_HASH.to_string(),
            last_line: 0,
            debris: (!bytes.is_empty()).then(|| (0, bytes.to_vec())),
            finish_line: false,
        });
    };
    let mut last: Option<(usize, Entry)> = None;
    for n in (header_at..lines.len()).rev() {
        let l = lines[n];
        if !l.complete {
            continue;
        }
        if let Ok(e) = parse_line(&bytes[l.start..l.end])
            && e.ledger == header.ledger
        {
            last = Some((n, e));
            break;
        }
    }
    let (last_at, last) = last.unwrap_or((header_at, header.clone()));
    let last_line = lines[last_at];
    let after = last_line.end + 1;
    check_debris(bytes, &lines, last_at + 1, path)?;
    let prev = sha256_hex(&bytes[last_line.start..last_line.end]);
    if let Some(e) = torn_whole_entry(bytes, &lines, Some(&header.ledger), last.seq + 1, &prev)
        && (last_at + 2 == lines.len()
            || e.discarded.as_ref().is_some_and(|d| {
                // A torn recovered entry: whole, it claims exactly the
                // bytes between the last entry and itself.
                d.offset == after as u64
                    && lines
                        .last()
                        .is_some_and(|t| d.offset + d.length + 1 == t.start as u64)
            }))
    {
        let torn = lines[lines.len() - 1];
        return Ok(Tail {
            ledger: Some(header.ledger),
            next_seq: e.seq + 1,
            prev: sha256_hex(&bytes[torn.start..torn.end]),
            last_line: lines.len(),
            debris: None,
            finish_line: true,
        });
    }
    Ok(Tail {
        ledger: Some(header.ledger),
        next_seq: last.seq + 1,
        prev,
        last_line: last_at + 1,
        debris: (after < bytes.len()).then(|| (after, bytes[after..].to_vec())),
        finish_line: false,
    })
}

/// Whole lines from `from` on must not be JSON: a crash leaves a prefix of
/// one line without its newline.
fn check_debris(
    bytes: &[u8],
    lines: &[RawLine],
    from: usize,
    path: &Path,
) -> Result<(), LedgerError> {
    // A final line without its newline is torn whatever it holds (even a
    // whole entry whose newline never made it).
    for (n, l) in lines
        .iter()
        .enumerate()
        .skip(from)
        .filter(|(_, l)| l.complete)
    {
        let raw = &bytes[l.start..l.end];
        if serde_json::from_slice::<Value>(raw).is_ok() {
            let problem = match parse_line(raw) {
                Ok(_) => {
                    "an entry that does not continue this ledger (another ledger's, or misplaced)"
                        .to_string()
                }
                Err(e) => line_problem(&e),
            };
            return Err(LedgerError::Damaged {
                path: path.to_path_buf(),
                line: n + 1,
                problem,
            });
        }
    }
    Ok(())
}

fn line_problem(e: &LineError) -> String {
    match e {
        LineError::NotJson => "not JSON".into(),
        LineError::NotCanonical(why) => format!("not in canonical form ({why})"),
        LineError::NotEntry(why) => format!("not a ledger entry ({why})"),
    }
}

/// The ledger file, open for appending and exclusively locked until dropped.
#[derive(Debug)]
pub struct Ledger {
    file: fs::File,
    path: PathBuf,
}

impl Ledger {
    /// Open (creating, mode 0640) with O_APPEND|O_NOFOLLOW and take the
    /// exclusive lock; blocks while another process holds it.
    pub fn open(path: &Path) -> Result<Ledger, LedgerError> {
        let mut opts = fs::OpenOptions::new();
        opts.read(true).append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o640).custom_flags(libc::O_NOFOLLOW);
        }
        let file = match opts.open(path) {
            Ok(f) => f,
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(LedgerError::Symlink {
                    path: path.to_path_buf(),
                });
            }
            Err(e) => return Err(io_err(path, e)),
        };
        file.lock().map_err(|e| io_err(path, e))?;
        Ok(Ledger {
            file,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The whole file as it is now (the lock keeps it still).
    pub fn bytes(&mut self) -> Result<Vec<u8>, LedgerError> {
        let mut buf = Vec::new();
        self.file
            .seek(io::SeekFrom::Start(0))
            .and_then(|_| self.file.read_to_end(&mut buf))
            .map_err(|e| io_err(&self.path, e))?;
        Ok(buf)
    }

    /// Sign and append `drafts` in one write and one `sync_data`. Creates
    /// the header when the file is new, and first accounts for any torn
    /// tail with a `recovered` entry. `checkpoint` drafts get their `head`.
    /// On error nothing may be reported as recorded.
    pub fn append(
        &mut self,
        reviewer: &Reviewer,
        drafts: Vec<Entry>,
    ) -> Result<AppendReport, LedgerError> {
        let mut bytes = self.bytes()?;
        let tail = find_tail(&bytes, &self.path)?;
        let signer = Signer {
            name: reviewer.name.clone(),
            key: reviewer.public_openssh(),
            fingerprint: reviewer.fingerprint(),
        };
        let ts = crate::clock::now_ts();
        let mut out: Vec<u8> = Vec::new();
        let mut prev = tail.prev.clone();
        let mut line_no = tail.last_line;
        let mut recovered = None;
        let mut created = false;
        let ledger_id = match &tail.ledger {
            Some(id) => id.clone(),
            None => crate::random::hex(16),
        };
        let mut pending: Vec<(Entry, bool)> = Vec::new();
        if tail.finish_line {
            out.push(b'\n');
        }
        if tail.ledger.is_none() {
            created = true;
            pending.push((Entry::draft(EntryKind::Header), false));
        }
        if let Some((offset, debris)) = &tail.debris {
            // Terminate the debris so the next entry starts a line.
            out.push(b'\n');
            line_no += debris.iter().filter(|b| **b == b'\n').count() + 1;
            let d = Discarded {
                offset: *offset as u64,
                length: debris.len() as u64,
                sha256: sha256_hex(debris),
            };
            // Debris of a first write is claimed by the header itself, so
            // the claim and the header land (or tear) together.
            if let Some((header, _)) = pending.first_mut() {
                header.discarded = Some(d.clone());
            } else {
                let mut e = Entry::draft(EntryKind::Recovered);
                e.discarded = Some(d.clone());
                pending.push((e, false));
            }
            recovered = Some(d);
        }
        pending.extend(drafts.into_iter().map(|d| (d, true)));
        let mut appended = Vec::new();
        for (next_seq, (mut e, reported)) in (tail.next_seq..).zip(pending) {
            e.v = LEDGER_VERSION;
            e.ledger = ledger_id.clone();
            e.seq = next_seq;
            e.prev = prev.clone();
            e.ts = ts.clone();
            e.tool = tool_version();
            e.reviewer = signer.clone();
            if e.kind == EntryKind::Checkpoint {
                let mut h = Sha256::new();
                h.update(&bytes);
                h.update(&out);
                e.head = Some(Head {
                    size: (bytes.len() + out.len()) as u64,
                    sha256: hex::encode(h.finalize()),
                });
            }
            e.sig.clear();
            let msg = e
                .signed_bytes()
                .map_err(|x| LedgerError::Sign(x.to_string()))?;
            e.sig = reviewer
                .sign(&msg)
                .map_err(|x| LedgerError::Sign(x.to_string()))?;
            let line = e.to_line().map_err(|x| LedgerError::Sign(x.to_string()))?;
            let hash = sha256_hex(&line);
            out.extend_from_slice(&line);
            out.push(b'\n');
            line_no += 1;
            if reported {
                appended.push(Appended {
                    seq: next_seq,
                    hash: hash.clone(),
                    line: line_no,
                });
            }
            prev = hash;
        }
        // One write of whole lines, then make it durable before anyone is told.
        self.file
            .write_all(&out)
            .map_err(|e| io_err(&self.path, e))?;
        self.file.sync_data().map_err(|source| LedgerError::Sync {
            path: self.path.clone(),
            source,
        })?;
        if created && let Some(dir) = self.path.parent() {
            crate::workspace::sync_dir(dir).map_err(|source| LedgerError::Sync {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        bytes.extend_from_slice(&out);
        Ok(AppendReport {
            entries: appended,
            recovered,
            created,
            head: Head::of(&bytes),
        })
    }
}

fn io_err(path: &Path, source: io::Error) -> LedgerError {
    LedgerError::Io {
        path: path.to_path_buf(),
        source,
    }
}

// ---------------------------------------------------------------------------
// Verifying

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing, not a problem (a recorded crash recovery).
    Note,
    /// Chain and signatures intact, but something needs a look.
    Warning,
    /// The ledger or a released output is not what Veil wrote.
    Tampered,
}

/// One thing `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// 1-based line in `ledger.jsonl` (0: about the ledger as a whole).
    pub line: usize,
    pub severity: Severity,
    pub message: String,
}

/// A released output, as the ledger records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Release {
    pub line: usize,
    pub seq: u64,
    pub item: String,
    pub output_name: String,
    pub output_sha256: String,
}

/// A release taken back by a `withdraw` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Withdrawal {
    pub release: Release,
    /// Line and seq of the `withdraw` entry.
    pub line: usize,
    pub seq: u64,
    pub ts: String,
    /// The signer's name and fingerprint.
    pub by: String,
    pub reason: String,
}

/// Everything `verify` found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    pub ledger_id: Option<String>,
    /// Entries counted (lines that are valid entries).
    pub entries: usize,
    pub lines: usize,
    /// Live releases: released and not withdrawn.
    pub releases: Vec<Release>,
    /// Releases taken back, in ledger order.
    pub withdrawn: Vec<Withdrawal>,
    pub findings: Vec<Finding>,
    /// The head of the bytes checked.
    pub head: Option<Head>,
    /// Who the ledger says may sign, and whether the auditor's copy agreed.
    pub trust: TrustSummary,
}

impl VerifyReport {
    pub fn count(&self, s: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == s).count()
    }
    /// The worst finding, if any is worse than a note.
    pub fn worst(&self) -> Option<Severity> {
        self.findings
            .iter()
            .map(|f| f.severity)
            .filter(|s| *s > Severity::Note)
            .max()
    }
    fn push(&mut self, line: usize, severity: Severity, message: String) {
        self.findings.push(Finding {
            line,
            severity,
            message,
        });
    }
}

/// A run of non-entry lines waiting for the entry that accounts for it.
struct Debris {
    start: usize,
    first_line: usize,
}

/// What `verify` learnt about who signs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TrustSummary {
    /// `SHA256:…` of the administrator key, with its name and line.
    pub administrator: Option<String>,
    pub administrator_line: usize,
    /// True when the administrator key matched the auditor's own copy.
    pub anchored: bool,
    /// Entries before the trust root, checked against `allowed_signers` only.
    pub legacy_entries: usize,
    /// Active enrolments at the end: `principal (SHA256:…)`.
    pub enrolled: Vec<String>,
}

/// Whether an entry's signature verifies under the key it names (the
/// crypto alone; who may sign is decided in order, as trust changes).
fn crypto_problem(
    entry: &Entry,
    raw: &[u8],
    key: &Result<ssh_key::PublicKey, String>,
) -> Option<String> {
    let key = match key {
        Ok(k) => k,
        Err(problem) => return Some(problem.clone()),
    };
    let fp = &entry.reviewer.fingerprint;
    crate::keys::verify_signature(key, &signed_message(raw), &entry.sig)
        .err()
        .map(|e| {
            format!("signature by {fp} does not verify ({e}): the entry was changed after signing")
        })
}

/// The key an entry names, checked against the fingerprint it records.
fn named_key(key: &str, fingerprint: &str) -> Result<ssh_key::PublicKey, String> {
    let k = ssh_key::PublicKey::from_openssh(key)
        .map_err(|_| format!("reviewer key '{}' is not an OpenSSH public key", short(key)))?;
    let fp = crate::keys::fingerprint_of(&k);
    if fp != fingerprint {
        return Err(format!(
            "the recorded fingerprint {} is not the key's ({fp})",
            crate::text::printable(fingerprint, 80)
        ));
    }
    Ok(k)
}

/// Check a ledger's bytes: canonical form, ledger id, contiguous seq, prev
/// hashes, every signature, who may sign each entry (the administrator
/// named by the `admin` entry, reviewers it enrolled, or for a legacy
/// ledger the `allowed_signers` of `trust`), the policy in force, decisions
/// (no release after a reject, one release per original, high-stakes never
/// lowered), complete batches, time order, and (with `checkpoint`) that the
/// ledger still starts with the exported head. Pure: outputs are checked by
/// [`verify_workspace`].
pub fn verify(bytes: &[u8], trust: &Trust, checkpoint: Option<&Head>) -> VerifyReport {
    let mut r = VerifyReport {
        head: Some(Head::of(bytes)),
        ..VerifyReport::default()
    };
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
    let lines = split_lines(bytes);
    r.lines = lines.len();
    // Each line parses on its own: on all cores (verify reads 100k lines).
    let mut parsed: Vec<Result<Entry, LineError>> = lines
        .par_iter()
        .map(|l| parse_line(&bytes[l.start..l.end]))
        .collect();
    // A ledger has a few signers and many entries: each key is parsed and
    // fingerprinted once, and every signature is checked on all cores.
    let mut keys: BTreeMap<(&str, &str), Result<ssh_key::PublicKey, String>> = BTreeMap::new();
    for e in parsed.iter().flatten() {
        let s = &e.reviewer;
        keys.entry((&s.key, &s.fingerprint))
            .or_insert_with(|| named_key(&s.key, &s.fingerprint));
    }
    let mut crypto: Vec<Option<String>> = lines
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
        .collect();
    drop(keys);
    let signed = |n: usize| lines[n].complete && parsed[n].is_ok() && crypto[n].is_none();

    // The trust root: the first validly signed `admin` entry.
    let root_at = (0..lines.len())
        .find(|&n| signed(n) && parsed[n].as_ref().is_ok_and(|e| e.kind == EntryKind::Admin));
    let root_fp = root_at.and_then(|n| {
        parsed[n]
            .as_ref()
            .ok()
            .map(|e| e.reviewer.fingerprint.clone())
    });
    // Keys that may ever sign here: a claim by anyone else claims nothing.
    let mut ever: BTreeSet<String> = trust
        .legacy_signers()
        .keys
        .iter()
        .map(|k| crate::keys::fingerprint_of(&k.key))
        .collect();
    if let Some(fp) = &root_fp {
        ever.insert(fp.clone());
        for (n, p) in parsed.iter().enumerate() {
            if let Ok(e) = p
                && signed(n)
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
    let mut claimed = claimed_lines(&lines, |n| {
        let e = parsed[n].as_ref().ok()?;
        let may = signed(n)
            && matches!(e.kind, EntryKind::Recovered | EntryKind::Header)
            && ever.contains(&e.reviewer.fingerprint);
        may.then(|| e.discarded.clone()).flatten()
    });
    // Debris is what an append found after the last entry; a complete,
    // validly signed entry is never debris (appends finish such a line
    // instead). Veil before the trust root claimed a whole entry whose
    // newline was lost: a legacy claim of that is only a warning.
    for n in 0..lines.len() {
        if claimed[n] && signed(n) {
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

    let mut state = TrustState::default();
    let mut expected_seq: Option<u64> = Some(0);
    let mut prev_hash = ZERO_HASH.to_string();
    let mut prev_line = 0usize;
    let mut prev_ts: Option<(jiff::Timestamp, usize)> = None;
    let mut debris: Option<Debris> = None;
    let mut seen_entry = false;
    let mut approvals: BTreeMap<u64, (usize, Entry, Option<String>)> = BTreeMap::new();
    let mut decisions = Decisions::default();
    let mut batches: BTreeMap<String, (u64, BTreeSet<u64>, usize)> = BTreeMap::new();

    for (n, l) in lines.iter().enumerate() {
        let line_no = n + 1;
        let raw = &bytes[l.start..l.end];
        if !l.complete {
            let (first, start) = debris
                .take()
                .map_or((line_no, l.start), |d| (d.first_line, d.start));
            r.push(
                first,
                Severity::Warning,
                format!(
                    "{} bytes from line {first} to the end are an interrupted write (the last line has no newline); not counted — the next append records them as recovered, or finishes the line when it is a whole entry",
                    bytes.len() - start
                ),
            );
            break;
        }
        // Each line is visited once: take its entry rather than copy it.
        let entry = match std::mem::replace(&mut parsed[n], Err(LineError::NotJson)) {
            _ if claimed[n] => {
                if debris.is_none() {
                    debris = Some(Debris {
                        start: l.start,
                        first_line: line_no,
                    });
                }
                continue;
            }
            Ok(e) => e,
            Err(LineError::NotJson) => {
                if debris.is_none() {
                    debris = Some(Debris {
                        start: l.start,
                        first_line: line_no,
                    });
                }
                continue;
            }
            Err(e) => {
                r.push(
                    line_no,
                    Severity::Tampered,
                    format!("{} (edited by hand?)", line_problem(&e)),
                );
                // Resynchronise on this line so later lines are judged on their own.
                prev_hash = sha256_hex(raw);
                prev_line = line_no;
                expected_seq = None;
                seen_entry = true;
                continue;
            }
        };
        r.entries += 1;

        // Non-entry bytes before this line must be accounted for by it.
        let claims = matches!(entry.kind, EntryKind::Recovered | EntryKind::Header)
            && entry.discarded.is_some();
        match (debris.take(), claims) {
            (Some(d), true) => check_claim(&mut r, line_no, &entry, d.start, &bytes[d.start..l.start]),
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

        check_chain(
            &mut r,
            line_no,
            &entry,
            seen_entry,
            expected_seq,
            &prev_hash,
            prev_line,
        );
        seen_entry = true;
        expected_seq = Some(entry.seq + 1);
        prev_hash = sha256_hex(raw);
        prev_line = line_no;

        if entry.v != LEDGER_VERSION
            && !(entry.v == LEGACY_VERSION && root_at.is_none_or(|a| n < a))
        {
            r.push(
                line_no,
                Severity::Tampered,
                format!("format version {} is not {LEDGER_VERSION}", entry.v),
            );
        }
        // The time an entry is judged at is never before an earlier
        // entry's: a signer cannot backdate past the chain.
        let when = match entry.ts.parse::<jiff::Timestamp>() {
            Ok(t) => {
                if let Some((p, pl)) = prev_ts
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
                let at = prev_ts.map_or(t, |(p, _)| p.max(t));
                prev_ts = Some((at, line_no));
                Some(at)
            }
            Err(_) => {
                r.push(
                    line_no,
                    Severity::Tampered,
                    format!("ts '{}' is not an RFC 3339 time", entry.ts),
                );
                prev_ts.map(|(p, _)| p)
            }
        };

        let role = if let Some(problem) = crypto[n].take() {
            r.push(line_no, Severity::Tampered, problem);
            None
        } else {
            let legacy = root_at.is_none_or(|a| n < a);
            if legacy && entry.kind != EntryKind::Header {
                r.trust.legacy_entries += 1;
            }
            match authorise(
                &mut state,
                trust,
                &entry,
                line_no,
                root_at == Some(n),
                legacy,
                root_fp.as_deref(),
                when,
            ) {
                Ok(role) => Some(role),
                Err(problem) => {
                    r.push(line_no, Severity::Tampered, problem);
                    None
                }
            }
        };
        let principal = match &role {
            Some(Role::Reviewer(p)) => Some(p.clone()),
            _ => None,
        };
        check_rules(&mut r, line_no, &entry, &approvals, bytes, l.start);
        if matches!(
            entry.kind,
            EntryKind::Approve | EntryKind::Countersign | EntryKind::Reject
        ) {
            let legacy = root_at.is_none_or(|a| n < a);
            decisions.check(
                &mut r,
                line_no,
                &entry,
                &state,
                legacy,
                principal.as_deref(),
                &approvals,
            );
        }

        if let Some(b) = &entry.batch {
            let slot = batches
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
            decisions.withdraw(&mut r, line_no, &entry);
        }
        if entry.kind == EntryKind::Approve {
            approvals.insert(entry.seq, (line_no, entry, principal));
        }
    }
    if let Some(d) = debris {
        r.push(
            d.first_line,
            Severity::Warning,
            format!(
                "lines {}–{} ({} bytes) at the end are not ledger entries: debris of an interrupted write, not counted — the next append records them as recovered",
                d.first_line,
                r.lines,
                bytes.len() - d.start
            ),
        );
    }
    for (id, (n, have, line)) in &batches {
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
    summarise_trust(&mut r, trust, &state, !bytes.is_empty());
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

/// The chain fields of an entry against the line before it.
fn check_chain(
    r: &mut VerifyReport,
    line_no: usize,
    entry: &Entry,
    seen_entry: bool,
    expected_seq: Option<u64>,
    prev_hash: &str,
    prev_line: usize,
) {
    let mut chain = Vec::new();
    if !seen_entry {
        if entry.kind != EntryKind::Header {
            chain.push("the ledger does not start with a header entry".to_string());
        }
        r.ledger_id = Some(entry.ledger.clone());
    } else {
        if entry.kind == EntryKind::Header {
            chain.push("a second header".to_string());
        }
        if let Some(id) = &r.ledger_id
            && &entry.ledger != id
        {
            chain.push(format!(
                "belongs to another ledger ({}…, this one is {}…): copied in from elsewhere",
                short(&entry.ledger),
                short(id)
            ));
        }
    }
    if let Some(exp) = expected_seq
        && entry.seq != exp
    {
        chain.push(if entry.seq < exp {
            format!(
                "seq {} repeats or goes back (expected {exp}): a line was replayed, swapped or inserted",
                entry.seq
            )
        } else {
            format!(
                "seq {} where {exp} was expected: {} entr{} deleted before it",
                entry.seq,
                entry.seq - exp,
                if entry.seq - exp == 1 { "y was" } else { "ies were" }
            )
        });
    }
    if entry.prev != prev_hash {
        chain.push(if prev_line == 0 {
            "prev is not the zero hash of a first entry".to_string()
        } else {
            format!(
                "prev does not match the hash of line {prev_line}: an earlier line was edited, removed or reordered"
            )
        });
    }
    if !chain.is_empty() {
        r.push(line_no, Severity::Tampered, chain.join("; "));
    }
}

/// Whether the (validly signed) entry on `line_no` may be signed by its
/// key, applying what it changes to trust when it is the administrator's.
#[allow(clippy::too_many_arguments)]
fn authorise(
    state: &mut TrustState,
    trust: &Trust,
    e: &Entry,
    line_no: usize,
    is_root: bool,
    legacy: bool,
    root_fp: Option<&str>,
    when: Option<jiff::Timestamp>,
) -> Result<Role, String> {
    let fp = e.reviewer.fingerprint.as_str();
    let key = crate::keys::parse_public(&e.reviewer.key)?;
    let when = when.unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    if is_root {
        if let Some(mine) = trust.anchor.as_ref().and_then(Anchor::admin)
            && mine.key_data() != key.key_data()
        {
            state.set_root(key, &e.reviewer.name, line_no)?;
            return Err(format!(
                "the ledger's administrator key {fp} is not the one in your trust file ({}): the trust root was replaced",
                crate::keys::fingerprint_of(mine)
            ));
        }
        state.set_root(key, &e.reviewer.name, line_no)?;
        return Ok(Role::Administrator);
    }
    let admin_only = matches!(
        e.kind,
        EntryKind::Admin | EntryKind::Enrol | EntryKind::Revoke | EntryKind::Policy
    );
    if legacy {
        if admin_only {
            return Err(format!(
                "a '{}' entry before the ledger's administrator entry",
                e.kind.as_str()
            ));
        }
        // A new ledger's header is signed by the administrator it names next.
        if e.kind == EntryKind::Header && root_fp == Some(fp) {
            return Ok(Role::Administrator);
        }
        let signers = trust.legacy_signers();
        return match signers.find(&key) {
            Some(t) => {
                t.validity.check(when).map_err(|why| {
                    format!("signed by {fp} outside its allowed_signers validity: {why}")
                })?;
                Ok(Role::Reviewer(
                    t.principals.first().cloned().unwrap_or_default(),
                ))
            }
            None => Err(format!(
                "signed by {fp} ('{}'), a key not in allowed_signers: an untrusted signer",
                crate::text::printable(&e.reviewer.name, 80)
            )),
        };
    }
    let role = state.role(fp, when)?;
    match (e.kind, &role) {
        (EntryKind::Admin, _) => {
            Err("a second administrator entry: the trust root cannot be replaced".into())
        }
        (EntryKind::Header, _) => Err("a header after the trust root".into()),
        (EntryKind::Enrol | EntryKind::Revoke | EntryKind::Policy, Role::Administrator) => {
            apply_admin(state, e, line_no)?;
            Ok(role)
        }
        (EntryKind::Enrol | EntryKind::Revoke | EntryKind::Policy, Role::Reviewer(p)) => {
            Err(format!(
                "a '{}' entry signed by reviewer {p}: only the administrator changes trust or policy",
                e.kind.as_str()
            ))
        }
        (EntryKind::Approve | EntryKind::Countersign | EntryKind::Reject, Role::Administrator) => {
            Err(format!(
                "a '{}' entry signed by the administrator key: decisions are made by enrolled reviewers",
                e.kind.as_str()
            ))
        }
        _ => Ok(role),
    }
}

/// Apply an administrator's `enrol`, `revoke` or `policy` entry.
fn apply_admin(state: &mut TrustState, e: &Entry, line_no: usize) -> Result<(), String> {
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

/// What the ledger has decided about each original so far.
#[derive(Default)]
struct Decisions {
    /// Original SHA-256 → line of its first reject.
    rejected: BTreeMap<String, usize>,
    /// Original SHA-256 → line of its release.
    released: BTreeMap<String, usize>,
    /// Original SHA-256 → line where it was first high-stakes.
    high_stakes: BTreeMap<String, usize>,
}

impl Decisions {
    #[allow(clippy::too_many_arguments)]
    fn check(
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
                if let Some(gate) = crate::gates::Gate::from_name(&g.gate)
                    && gate != crate::gates::Gate::SecondReviewer
                    && g.required != p.policy.gates.required.iter().any(|x| x == gate.as_str())
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
                e.masks.iter().flatten().any(|m| {
                    p.policy
                        .high_stakes
                        .mask_kinds
                        .iter()
                        .any(|k| k == m.kind.as_str())
                })
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
                .any(|g| g.gate == crate::gates::Gate::SecondReviewer.as_str() && g.required);
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
    fn withdraw(&mut self, r: &mut VerifyReport, line_no: usize, e: &Entry) {
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

/// The trust findings of a whole ledger, and its summary.
fn summarise_trust(r: &mut VerifyReport, trust: &Trust, state: &TrustState, nonempty: bool) {
    let mine = trust.anchor.as_ref().and_then(Anchor::admin);
    r.trust.enrolled = state
        .enrolled
        .values()
        .map(|e| format!("{} ({})", e.principal, e.fingerprint))
        .collect();
    let Some(root) = &state.root else {
        if mine.is_some() {
            r.push(
                0,
                Severity::Tampered,
                "you trust an administrator key, but this ledger has no administrator entry: it was replaced by a legacy ledger, or never had a trust root".into(),
            );
        } else if nonempty {
            let source = if trust.anchor.is_some() {
                "your trust file"
            } else {
                "the workspace's allowed_signers, which anyone who can write the workspace can edit"
            };
            r.push(
                0,
                Severity::Warning,
                format!(
                    "legacy trust: this ledger has no administrator entry, so its signatures were checked against {source}; have an administrator run `veil admin init` to give it a trust root"
                ),
            );
        }
        return;
    };
    r.trust.administrator = Some(format!(
        "{} ({})",
        crate::text::printable(&root.name, 80),
        root.fingerprint
    ));
    r.trust.administrator_line = root.line;
    r.trust.anchored = mine.is_some_and(|k| k.key_data() == root.key.key_data());
    if mine.is_none() {
        r.push(
            root.line,
            Severity::Note,
            format!(
                "trust root: administrator {} ({}); compare it with your own copy, or pass it with --trust",
                crate::text::printable(&root.name, 80),
                root.fingerprint
            ),
        );
    }
    if r.trust.legacy_entries > 0 {
        r.push(
            root.line,
            Severity::Warning,
            format!(
                "legacy trust: {} entr{} before line {} were checked against allowed_signers only, not against enrolments",
                r.trust.legacy_entries,
                if r.trust.legacy_entries == 1 { "y" } else { "ies" },
                root.line
            ),
        );
    }
    // No export at all is no claim: only an export that says otherwise is.
    let exported = !trust.workspace_signers.keys.is_empty();
    let ws = state.differences(&trust.workspace_signers);
    if exported && !ws.is_empty() {
        r.push(
            0,
            Severity::Warning,
            format!(
                "the workspace's allowed_signers differs from the ledger's enrolments ({}); Veil believes the ledger — run `veil admin export` to rewrite the file",
                ws.join("; ")
            ),
        );
    }
    if let Some(s) = trust.anchor.as_ref().and_then(Anchor::signers) {
        let d = state.differences(s);
        if !d.is_empty() {
            r.push(
                0,
                Severity::Warning,
                format!(
                    "your trust file differs from the ledger's enrolments: {}",
                    d.join("; ")
                ),
            );
        }
    }
}

fn check_claim(r: &mut VerifyReport, line_no: usize, entry: &Entry, start: usize, region: &[u8]) {
    let Some(d) = &entry.discarded else {
        return;
    };
    // The region is the debris plus the newline the recovering append wrote.
    let ok = d.offset == start as u64
        && region.len() as u64 == d.length + 1
        && region.last() == Some(&b'\n')
        && sha256_hex(&region[..region.len() - 1]) == d.sha256;
    if ok {
        r.push(
            line_no,
            Severity::Note,
            format!(
                "{} bytes at offset {} were left by an interrupted write; recorded by this entry and not counted",
                d.length, d.offset
            ),
        );
    } else {
        r.push(
            line_no,
            Severity::Tampered,
            format!(
                "recovered entry names {} bytes at offset {} (SHA-256 {}…) but the bytes before it differ: edited after recovery",
                d.length,
                d.offset,
                short(&d.sha256)
            ),
        );
    }
}

/// The bytes an entry's signature covers: the line's own fields minus
/// `sig`, canonical.
fn signed_message(raw: &[u8]) -> Vec<u8> {
    without_sig(raw).unwrap_or_else(|| {
        serde_json::from_slice::<Value>(raw)
            .ok()
            .and_then(|mut v| {
                v.as_object_mut().map(|m| m.remove("sig"));
                canonical(&v).ok()
            })
            .unwrap_or_default()
    })
}

/// A canonical line with its top-level `,"sig":"…"` member cut out: what
/// re-canonicalising it without `sig` gives (keys are sorted and `sig` is
/// never first, there is no whitespace, and the signature is base64, with no
/// escapes), without parsing it a second time. `None` when the member is not
/// found as expected; the caller then parses.
fn without_sig(raw: &[u8]) -> Option<Vec<u8>> {
    const MEMBER: &[u8] = b",\"sig\":\"";
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, &b) in raw.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.checked_sub(1)?,
            b',' if depth == 1 && raw[i..].starts_with(MEMBER) => {
                let value = i + MEMBER.len();
                let close = value + raw[value..].iter().position(|&c| c == b'"')?;
                if raw[value..close].contains(&b'\\') {
                    return None;
                }
                let mut out = Vec::with_capacity(raw.len());
                out.extend_from_slice(&raw[..i]);
                out.extend_from_slice(&raw[close + 1..]);
                return Some(out);
            }
            _ => {}
        }
    }
    None
}

/// The policy rules an entry must satisfy on its own and against earlier ones.
fn check_rules(
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
            for g in crate::gates::Gate::ALL {
                let n = gates.iter().filter(|x| x.gate == g.as_str()).count();
                if n != 1 {
                    bad(format!(
                        "gate '{g}' appears {n} times (every gate must be recorded once)"
                    ));
                }
            }
            let second = crate::gates::Gate::SecondReviewer.as_str();
            for g in gates {
                if g.required && !g.met && !(e.kind == EntryKind::Approve && g.gate == second) {
                    bad(format!(
                        "policy: approved with required gate '{}' unmet ({})",
                        g.gate, g.detail
                    ));
                }
                if let Some(gate) = crate::gates::Gate::from_name(&g.gate) {
                    let method = match gate.method() {
                        crate::gates::GateMethod::Measured => "measured",
                        crate::gates::GateMethod::Attested => "attested",
                    };
                    if g.method != method {
                        bad(format!(
                            "gate '{}' recorded as {} but it is {method}",
                            g.gate, g.method
                        ));
                    }
                }
            }
            let not_required: BTreeSet<&str> = gates
                .iter()
                .filter(|g| {
                    !g.required
                        && crate::gates::Gate::from_name(&g.gate).is_some_and(|x| {
                            x.method() == crate::gates::GateMethod::Measured
                                && x != crate::gates::Gate::SecondReviewer
                        })
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
                        bad("countersign names no earlier first approval (countersigns)".into())
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

fn check_checkpoint(r: &mut VerifyReport, bytes: &[u8], cp: &Head) {
    let size = usize::try_from(cp.size).unwrap_or(usize::MAX);
    if bytes.len() < size {
        r.push(
            0,
            Severity::Tampered,
            format!(
                "the ledger is {} bytes, shorter than the checkpoint's {}: entries after byte {} were deleted",
                bytes.len(),
                cp.size,
                bytes.len()
            ),
        );
    } else if sha256_hex(&bytes[..size]) != cp.sha256 {
        r.push(
            0,
            Severity::Tampered,
            format!(
                "the first {} bytes no longer hash to the checkpoint ({}…): the ledger was rewritten before that point",
                cp.size,
                short(&cp.sha256)
            ),
        );
    } else {
        r.push(
            0,
            Severity::Note,
            format!(
                "the ledger extends checkpoint {}:{}…",
                cp.size,
                short(&cp.sha256)
            ),
        );
    }
}

/// A name that stays inside `out/`.
pub fn safe_output_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn short(s: &str) -> &str {
    s.get(..12).unwrap_or(s)
}

/// Suffix of the certificate written beside each output.
pub const CERTIFICATE_SUFFIX: &str = ".certificate.txt";

/// The I/O edge of verification: read `ledger.jsonl` and `allowed_signers`
/// from `ws`, run [`verify`], then check every released output in `out/`
/// (present, same SHA-256, passes the container allowlist) and warn about
/// files in `out/` the ledger does not account for.
pub fn verify_workspace(
    ws: &crate::workspace::Workspace,
    checkpoint: Option<&Head>,
    anchor: Option<Anchor>,
) -> Result<VerifyReport, LedgerError> {
    let ledger_path = ws.ledger_path();
    let bytes = match fs::read(&ledger_path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io_err(&ledger_path, e)),
    };
    let signers_path = ws.allowed_signers_path();
    let signers = match fs::read_to_string(&signers_path) {
        Ok(t) => AllowedSigners::parse(&t),
        Err(e) if e.kind() == io::ErrorKind::NotFound => AllowedSigners::default(),
        Err(e) => return Err(io_err(&signers_path, e)),
    };
    let trust = Trust {
        anchor,
        workspace_signers: signers,
    };
    let mut report = verify(&bytes, &trust, checkpoint);
    check_outputs(&mut report, &ws.out_dir())?;
    report.findings.sort_by_key(|f| f.line);
    Ok(report)
}

fn check_outputs(r: &mut VerifyReport, out: &Path) -> Result<(), LedgerError> {
    let mut known: BTreeSet<String> = BTreeSet::new();
    let releases = r.releases.clone();
    for rel in &releases {
        if !safe_output_name(&rel.output_name) {
            continue;
        }
        known.insert(rel.output_name.clone());
        let path = out.join(&rel.output_name);
        let shown = format!("out/{}", rel.output_name);
        match fs::read(&path) {
            Ok(b) => {
                let found = sha256_hex(&b);
                if found != rel.output_sha256 {
                    r.push(
                        rel.line,
                        Severity::Tampered,
                        format!(
                            "{shown}: SHA-256 is {found} but the ledger recorded {}: the output was replaced after approval",
                            rel.output_sha256
                        ),
                    );
                } else if let Err(e) = crate::redact::check_output(&b) {
                    r.push(
                        rel.line,
                        Severity::Tampered,
                        format!("{shown}: fails the container allowlist: {e}"),
                    );
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => r.push(
                rel.line,
                Severity::Warning,
                format!(
                    "{shown} is missing; if it was moved off this box, check its SHA-256 there: {}",
                    rel.output_sha256
                ),
            ),
            Err(e) => return Err(io_err(&path, e)),
        }
        let cert = out.join(format!("{}{CERTIFICATE_SUFFIX}", rel.output_name));
        if !cert.exists() {
            r.push(
                rel.line,
                Severity::Warning,
                format!(
                    "{shown} has no certificate ({shown}{CERTIFICATE_SUFFIX} is missing): run `veil certificate {} --write` to restore it from the ledger",
                    rel.item
                ),
            );
        }
    }
    let withdrawn = r.withdrawn.clone();
    for w in &withdrawn {
        let name = &w.release.output_name;
        if !safe_output_name(name) {
            continue;
        }
        known.insert(name.clone());
        let left: Vec<String> = [name.clone(), format!("{name}{CERTIFICATE_SUFFIX}")]
            .into_iter()
            .filter(|n| out.join(n).exists())
            .map(|n| format!("out/{n}"))
            .collect();
        if !left.is_empty() {
            r.push(
                w.line,
                Severity::Warning,
                format!(
                    "{} still in out/ although withdrawn: run `veil withdraw {} --reason …` again to finish moving it to withdrawn/",
                    left.join(" and "),
                    w.release.item
                ),
            );
        }
    }
    let listing = match fs::read_dir(out) {
        Ok(l) => l,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(out, e)),
    };
    let mut orphans = Vec::new();
    for ent in listing {
        let ent = ent.map_err(|e| io_err(out, e))?;
        let name = ent.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if let Some(base) = name.strip_suffix(CERTIFICATE_SUFFIX) {
            if !known.contains(base) {
                orphans.push(name);
            }
            continue;
        }
        if !known.contains(&name) {
            orphans.push(name);
        }
    }
    orphans.sort();
    for name in orphans {
        r.push(
            0,
            Severity::Warning,
            format!(
                "out/{}: no ledger entry releases it — an interrupted approval (re-run `veil approve`) or a file placed by hand; do not release it",
                crate::text::printable(&name, 200)
            ),
        );
    }
    Ok(())
}

/// Render the report as text lines: `line 7: TAMPERED: ...`.
pub fn describe(report: &VerifyReport) -> String {
    let mut s = String::new();
    for f in &report.findings {
        let label = match f.severity {
            Severity::Note => "note",
            Severity::Warning => "WARNING",
            Severity::Tampered => "TAMPERED",
        };
        // Messages can quote entry fields: never let them drive the terminal.
        let message = crate::text::printable(&f.message, 2000);
        if f.line == 0 {
            let _ = writeln!(s, "ledger: {label}: {message}");
        } else {
            let _ = writeln!(s, "line {}: {label}: {message}", f.line);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// What [`claimed_lines`] decides, the plain way: every line against
    /// every claim.
    fn claimed_lines_by_hand(lines: &[RawLine], claims: &[Option<(u64, u64)>]) -> Vec<bool> {
        let mut kept: Vec<(usize, usize)> = Vec::new();
        for (n, l) in lines.iter().enumerate().rev().filter(|(_, l)| l.complete) {
            let Some((offset, length)) = claims[n] else {
                continue;
            };
            if kept.iter().any(|(s, e)| l.start >= *s && l.end <= *e) {
                continue;
            }
            // Only a claim of the bytes right before its own line counts.
            if offset + length + 1 != l.start as u64 {
                continue;
            }
            let start = offset as usize;
            kept.push((start, start.saturating_add(length as usize)));
        }
        lines
            .iter()
            .map(|l| kept.iter().any(|(s, e)| l.start >= *s && l.end <= *e))
            .collect()
    }

    proptest! {
        #[test]
        fn claims_are_honoured_as_every_line_against_every_claim_would(
            spans in prop::collection::vec((1usize..40, any::<bool>()), 1..60),
            claims in prop::collection::vec(
                prop::option::weighted(0.4, (0u64..1500, 0u64..400, any::<bool>())),
                60,
            ),
        ) {
            let mut at = 0;
            let lines: Vec<RawLine> = spans
                .iter()
                .map(|&(len, complete)| {
                    let l = RawLine { start: at, end: at + len, complete };
                    at += len + 1;
                    l
                })
                .collect();
            // Half the claims end right before their line, as real ones do.
            let claims: Vec<Option<(u64, u64)>> = claims[..lines.len()]
                .iter()
                .zip(&lines)
                .map(|(c, l)| c.map(|(offset, length, fits)| {
                    let offset = offset.min(l.start as u64);
                    if fits { (offset, (l.start as u64 - offset).saturating_sub(1)) } else { (offset, length) }
                }))
                .collect();
            let claims = &claims[..];
            let fast = claimed_lines(&lines, |n| {
                claims[n].map(|(offset, length)| Discarded {
                    offset,
                    length,
                    sha256: String::new(),
                })
            });
            prop_assert_eq!(fast, claimed_lines_by_hand(&lines, claims));
        }
    }

    #[test]
    fn canonical_form_sorts_keys_and_has_no_whitespace() {
        let v = json!({"b": 1, "a": {"z": [1, 2], "y": "x\ny\u{1}\"é"}});
        let c = String::from_utf8(canonical(&v).unwrap()).unwrap();
        assert_eq!(c, r#"{"a":{"y":"x\ny\u0001\"é","z":[1,2]},"b":1}"#);
    }

    #[test]
    fn canonical_form_rejects_floats_and_unsafe_integers() {
        assert!(matches!(
            canonical(&json!({"a": 1.5})),
            Err(CanonicalError::Float(_))
        ));
        assert!(matches!(
            canonical(&json!({"a": 1u64 << 53})),
            Err(CanonicalError::BigInteger(_))
        ));
        assert!(canonical(&json!({"a": MAX_SAFE_INTEGER})).is_ok());
    }

    #[test]
    fn a_line_that_is_not_canonical_is_not_an_entry() {
        assert_eq!(
            parse_line(b"{\"a\": 1}"),
            Err(LineError::NotCanonical(
                "keys unsorted, extra whitespace or escapes differ".into()
            ))
        );
        assert_eq!(parse_line(b"{\"a\":1"), Err(LineError::NotJson));
        assert!(matches!(
            parse_line(b"{\"a\":1}"),
            Err(LineError::NotEntry(_))
        ));
    }

    #[test]
    fn a_checkpoint_argument_is_size_colon_hash() {
        let h = Head::of(b"abc\n");
        assert_eq!(Head::parse(&h.to_arg()), Ok(h));
        assert!(Head::parse("12").is_err());
        assert!(Head::parse("x:00").is_err());
    }

    #[test]
    fn split_lines_marks_a_final_line_without_newline_incomplete() {
        let l = split_lines(b"a\nbc\nd");
        assert_eq!(l.len(), 3);
        assert!(l[0].complete && l[1].complete && !l[2].complete);
        assert_eq!((l[1].start, l[1].end), (2, 4));
    }

    #[test]
    fn signed_bytes_leave_out_the_signature() {
        let mut e = Entry::draft(EntryKind::Header);
        e.sig = "AAAA".into();
        let s = String::from_utf8(e.signed_bytes().unwrap()).unwrap();
        assert!(!s.contains("\"sig\""));
        assert!(
            String::from_utf8(e.to_line().unwrap())
                .unwrap()
                .contains("\"sig\":\"AAAA\"")
        );
    }

    #[test]
    fn the_signed_message_is_cut_from_the_line_as_reparsing_would_make_it() {
        let item = crate::tui::testing::queue().remove(0);
        let mut lines = Vec::new();
        for (i, reason) in [
            "plain",
            r#"a reason that says ,"sig":"AAAA" and {"nested":["x"]}"#,
            "back\\slash \" quote",
        ]
        .iter()
        .enumerate()
        {
            let mut e = Entry::draft(EntryKind::Reject);
            e.describe_item(&item);
            e.reason = Some(reason.to_string());
            e.seq = i as u64;
            e.sig = "U1NIU0lHAAAAAQ+/=".into();
            lines.push((e.to_line().unwrap(), e));
        }
        let mut header = Entry::draft(EntryKind::Header);
        header.sig = "QUJD".into();
        lines.push((header.to_line().unwrap(), header));
        for (line, entry) in &lines {
            let reparsed = {
                let mut v: Value = serde_json::from_slice(line).unwrap();
                v.as_object_mut().unwrap().remove("sig");
                canonical(&v).unwrap()
            };
            assert_eq!(without_sig(line).as_deref(), Some(reparsed.as_slice()));
            assert_eq!(signed_message(line), entry.signed_bytes().unwrap());
        }
        // Not where it should be: left to the parsing route.
        assert_eq!(without_sig(br#"{"a":{"b":1,"sig":"x"}}"#), None);
        assert_eq!(without_sig(br#"{"a":1,"sig":"x\"y"}"#), None);
    }
}
