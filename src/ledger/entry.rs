//! What one ledger line holds: the entry, its kinds, signer, masks, gates,
//! batch, DICOM record, and the names an entry may give its output.

use super::*;
use crate::checklist::{Gate, GateMethod};
use crate::item::{DetectorInfo, Item, MaskKind, Rect};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

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
    /// The kind as ledger lines spell it.
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
    pub gate: Gate,
    pub method: GateMethod,
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
    pub(crate) fn needs_second(&self) -> bool {
        self.kind == EntryKind::Approve
            && self.gates.as_ref().is_some_and(|gs| {
                gs.iter()
                    .any(|g| g.gate == Gate::SecondReviewer && g.required)
            })
    }
}

/// `veil x.y.z`.
pub(crate) fn tool_version() -> String {
    format!("veil {}", env!("CARGO_PKG_VERSION"))
}

/// A name that stays inside `out/`.
pub(crate) fn safe_output_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Suffix of the certificate written beside each output.
pub const CERTIFICATE_SUFFIX: &str = ".certificate.txt";
