//! Domain types for one queued photograph: its masks, gate evidence and state.
//!
//! Everything here is plain data (serde) plus pure geometry; no I/O.
//! Numbers that reach the ledger are integers (zoom in percent, scores in
//! thousandths) so canonical JSON never has to carry a float.

mod evidence;
mod mask;
mod rect;

pub use crate::mask_kind::MaskKind;
pub use evidence::*;
pub use mask::*;
pub use rect::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// Version of the item file format.
pub const ITEM_FORMAT: u32 = 1;

/// Where an item is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    /// Ingested, waiting for review.
    Pending,
    /// A reviewer marked it ready for `approve --batch`.
    Ready,
    /// Approved once; a high-stakes item waits here for its second reviewer.
    AwaitingSecond,
    /// Output released to `out/`.
    Approved,
    /// Rejected by a reviewer; never released.
    Rejected,
    /// Could not be read or decoded at ingest.
    Failed,
}

impl ItemState {
    /// All states, in queue order.
    pub(crate) const ALL: [ItemState; 6] = [
        ItemState::Pending,
        ItemState::Ready,
        ItemState::AwaitingSecond,
        ItemState::Approved,
        ItemState::Rejected,
        ItemState::Failed,
    ];

    /// The name used on the command line and in files.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Pending => "pending",
            ItemState::Ready => "ready",
            ItemState::AwaitingSecond => "awaiting_second",
            ItemState::Approved => "approved",
            ItemState::Rejected => "rejected",
            ItemState::Failed => "failed",
        }
    }

    /// Not decided yet: pending, marked ready, or approved once and
    /// waiting for a second reviewer. Only such an item may be approved.
    pub(crate) fn is_open(self) -> bool {
        matches!(
            self,
            ItemState::Pending | ItemState::Ready | ItemState::AwaitingSecond
        )
    }

    /// The state in words, for people (the review station).
    pub(crate) fn label(self) -> &'static str {
        match self {
            ItemState::AwaitingSecond => "awaiting second reviewer",
            other => other.as_str(),
        }
    }
}

impl fmt::Display for ItemState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ItemState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ItemState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown state '{s}' (expected one of: {})",
                    ItemState::ALL.map(ItemState::as_str).join(", ")
                )
            })
    }
}

/// One piece of identifying metadata found in an original.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataFinding {
    /// Container or standard: EXIF, GPS, XMP, IPTC, ICC, Comment, MPF,
    /// Thumbnail, Trailer, PNG-text, PNG-time, PNG-exif, WebP-EXIF, WebP-XMP, ...
    pub group: String,
    /// Field or tag name (`GPSLatitude`, `tEXt:Author`, `APP13`, ...).
    pub field: String,
    /// Short, printable preview of the value (control characters escaped,
    /// truncated); empty for binary payloads.
    pub value: String,
}

/// The detector that proposed an item's auto masks, and its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectorInfo {
    pub name: String,
    pub model_sha256: String,
    pub min_face_size: u32,
    /// Score threshold × 1000.
    pub score_threshold_milli: i64,
    /// Padding factor × 100 (130 = 1.3×).
    pub padding_pct: u32,
    /// CenterFace: longest side of its finest pass, in pixels; the smallest
    /// face it can find in a large photo follows from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_side: Option<u32>,
    /// A union of engines (`both`): each engine's own name, model and
    /// thresholds. The fields above then join the names and model hashes
    /// with `+` and carry CenterFace's threshold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub engines: Vec<DetectorInfo>,
    /// The text detector's own settings (`None` for face detectors); its
    /// pixel threshold is `score_threshold_milli`, its pass `max_side`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextSettings>,
}

/// What the text detector was run with, beyond the fields it shares with
/// the face detectors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextSettings {
    /// Mean probability a region needs to be proposed, × 1000.
    pub region_threshold_milli: i64,
    /// DB's unclip ratio × 100.
    pub unclip_pct: u32,
    /// Margin at each end of a line, as a share of its height, × 100.
    pub end_margin_pct: u32,
}

impl DetectorInfo {
    /// The engines that searched: the members of a union, or this one.
    pub(crate) fn each_engine(&self) -> &[DetectorInfo] {
        if self.engines.is_empty() {
            std::slice::from_ref(self)
        } else {
            &self.engines
        }
    }

    /// One engine's thresholds in words, e.g. `threshold 0.30, finest pass 3072 px`.
    pub(crate) fn settings_label(&self) -> String {
        let threshold = self.score_threshold_milli as f64 / 1000.0;
        if let Some(t) = &self.text {
            return format!(
                "threshold {threshold:.2}, region {:.2}, unclip {:.2}, end margin {:.2}, pass {} px",
                t.region_threshold_milli as f64 / 1000.0,
                t.unclip_pct as f64 / 100.0,
                t.end_margin_pct as f64 / 100.0,
                self.max_side.unwrap_or(0)
            );
        }
        match self.max_side {
            Some(side) => format!("threshold {threshold:.2}, finest pass {side} px"),
            None => format!(
                "threshold {threshold:.1}, min face {} px",
                self.min_face_size
            ),
        }
    }
}

/// A released (or pending second review) output of an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputRecord {
    /// File name inside `out/`, e.g. `Case_3FQ7K2ZD.jpg`.
    pub name: String,
    pub sha256: String,
    /// Digest of the masks it was rendered with.
    pub masks_digest: String,
}

/// One photograph in the review queue: `items/<id>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub format_version: u32,
    /// First 16 hex digits of the original's SHA-256.
    pub id: String,
    /// Where the original was at ingest (absolute). Never copied to outputs.
    #[serde(with = "path_serde")]
    pub source: PathBuf,
    /// Other paths that held byte-identical copies.
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "paths_serde")]
    pub duplicates: Vec<PathBuf>,
    pub sha256: String,
    pub size: u64,
    /// `jpeg`, `png`, `webp`, `tiff`; empty for a failed item that never decoded.
    pub format: String,
    /// Dimensions as stored in the file.
    pub width: u32,
    pub height: u32,
    /// EXIF orientation 1–8 (1 when absent).
    pub orientation: u8,
    pub metadata: Vec<MetadataFinding>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detector: Option<DetectorInfo>,
    /// The text detector that proposed `identifier` masks, when one ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_detector: Option<DetectorInfo>,
    /// What a DICOM original's header gives its output (new UIDs, the
    /// date, the modality), when the original is DICOM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dicom: Option<crate::dicom_source::DicomSource>,
    pub masks: Vec<Mask>,
    /// Next mask id to hand out.
    pub next_mask_id: u32,
    #[serde(default)]
    pub gates: GateEvidence,
    pub state: ItemState,
    #[serde(default)]
    pub high_stakes: bool,
    /// Why ingest failed, for `failed` items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<OutputRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<String>,
    /// Earlier releases of this item taken back by `veil withdraw`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withdrawals: Vec<WithdrawalRecord>,
    pub ingested_at: String,
}

/// A release of this item that was withdrawn (the ledger is the record;
/// this copy is for `show` and the station).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawalRecord {
    /// The output's file name, now under `withdrawn/`.
    pub output_name: String,
    pub output_sha256: String,
    /// Seq of the `withdraw` entry.
    pub seq: u64,
    pub at: String,
    /// Signer name and fingerprint.
    pub by: String,
    pub reason: String,
}

impl Item {
    /// The masks not yet seen whole at `min_pct` zoom (see
    /// [`Mask::verified_at`]).
    pub(crate) fn unverified(&self, min_pct: u32) -> Vec<&Mask> {
        self.masks
            .iter()
            .filter(|m| !m.verified_at(min_pct))
            .collect()
    }

    /// A pending item for the original at `source` (SHA-256 `sha256`,
    /// `size` bytes), ingested at `ingested_at`, before its pixels and
    /// metadata are read: no size, format, masks or evidence yet.
    pub fn pending(
        id: &str,
        source: &std::path::Path,
        sha256: &str,
        size: u64,
        ingested_at: &str,
    ) -> Item {
        Item {
            format_version: ITEM_FORMAT,
            id: id.to_string(),
            source: source.to_path_buf(),
            duplicates: Vec::new(),
            sha256: sha256.to_string(),
            size,
            format: String::new(),
            width: 0,
            height: 0,
            orientation: 1,
            metadata: Vec::new(),
            detector: None,
            text_detector: None,
            dicom: None,
            masks: Vec::new(),
            next_mask_id: 1,
            gates: GateEvidence::default(),
            state: ItemState::Pending,
            high_stakes: false,
            failure: None,
            output: None,
            rejection: None,
            withdrawals: Vec::new(),
            ingested_at: ingested_at.to_string(),
        }
    }

    /// Width and height of the upright image the reviewer sees.
    pub fn oriented_size(&self) -> (u32, u32) {
        if orientation_swaps_axes(self.orientation) {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }

    /// Number of masks of each kind.
    pub(crate) fn mask_counts(&self) -> BTreeMap<MaskKind, usize> {
        let mut counts = BTreeMap::new();
        for m in &self.masks {
            *counts.entry(m.kind).or_insert(0) += 1;
        }
        counts
    }

    /// Faces proposed by the detector (still present as masks).
    pub(crate) fn faces_found(&self) -> usize {
        self.masks
            .iter()
            .filter(|m| m.origin.is_face_detector())
            .count()
    }

    /// Add a mask and return its id.
    pub fn add_mask(&mut self, kind: MaskKind, rect: Rect, origin: MaskOrigin) -> u32 {
        let id = self.next_mask_id.max(1);
        self.next_mask_id = id + 1;
        self.masks.push(Mask {
            id,
            kind,
            rect,
            origin,
            zoom_check: None,
        });
        id
    }

    /// Why a mask in this item hides nothing (zero width or height, or
    /// wholly outside the upright image), naming it; `None` when all do.
    pub(crate) fn empty_mask(&self) -> Option<String> {
        let (w, h) = self.oriented_size();
        self.masks.iter().find_map(|m| {
            let r = m.rect;
            if r.w == 0 || r.h == 0 {
                Some(format!(
                    "mask {} ({}) is {}x{} pixels and hides nothing",
                    m.id, m.kind, r.w, r.h
                ))
            } else if w > 0 && h > 0 && r.clamp_to(w, h).is_none() {
                Some(format!(
                    "mask {} ({}) lies wholly outside the {w}x{h} image and hides nothing",
                    m.id, m.kind
                ))
            } else {
                None
            }
        })
    }

    /// Digest of the current masks (kind and rectangle, in order).
    pub fn masks_digest(&self) -> String {
        masks_digest(&self.masks)
    }
}

/// File names are bytes on Unix and need not be UTF-8; store such a path
/// losslessly as `{"unix_bytes_hex": "..."}` instead of failing.
mod path_serde {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::path::{Path, PathBuf};

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    pub(super) enum Stored {
        Text(String),
        Bytes { unix_bytes_hex: String },
    }

    /// A path as item files store it (UTF-8, or bytes when it is not).
    pub(super) fn to_stored(p: &Path) -> Stored {
        match p.to_str() {
            Some(s) => Stored::Text(s.to_string()),
            None => Stored::Bytes {
                unix_bytes_hex: hex::encode(p.as_os_str().as_encoded_bytes()),
            },
        }
    }

    /// A stored path back to a path.
    pub(super) fn from_stored<E: serde::de::Error>(s: Stored) -> Result<PathBuf, E> {
        match s {
            Stored::Text(t) => Ok(PathBuf::from(t)),
            Stored::Bytes { unix_bytes_hex } => {
                let bytes = hex::decode(unix_bytes_hex).map_err(E::custom)?;
                #[cfg(unix)]
                {
                    use std::os::unix::ffi::OsStringExt;
                    Ok(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
                }
                #[cfg(not(unix))]
                Ok(PathBuf::from(String::from_utf8_lossy(&bytes).into_owned()))
            }
        }
    }

    /// Serde: the stored form.
    pub(crate) fn serialize<S: Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
        to_stored(p).serialize(s)
    }

    /// Serde: from the stored form.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
        from_stored(Stored::deserialize(d)?)
    }
}

/// [`path_serde`] for a list of paths.
mod paths_serde {
    use super::path_serde::{Stored, from_stored, to_stored};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::path::PathBuf;

    /// Serde: the stored form.
    pub(crate) fn serialize<S: Serializer>(ps: &[PathBuf], s: S) -> Result<S::Ok, S::Error> {
        ps.iter()
            .map(|p| to_stored(p))
            .collect::<Vec<_>>()
            .serialize(s)
    }

    /// Serde: from the stored form.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PathBuf>, D::Error> {
        Vec::<Stored>::deserialize(d)?
            .into_iter()
            .map(from_stored)
            .collect()
    }
}

/// SHA-256 (hex) over the masks' kinds and rectangles: what the output
/// depends on. Verification marks do not change it.
pub fn masks_digest(masks: &[Mask]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for m in masks {
        h.update(format!(
            "{}:{}:{},{},{},{};",
            m.id, m.kind, m.rect.x, m.rect.y, m.rect.w, m.rect.h
        ));
    }
    hex::encode(h.finalize())
}

/// The item id for an original with this SHA-256 (hex).
pub fn item_id_for(sha256_hex: &str) -> String {
    sha256_hex.chars().take(16).collect()
}

/// Items for the library's unit tests: one fixture, not one per module.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;
    use crate::checklist::Gate;

    /// A pending 100×80 JPEG item with no masks.
    pub(crate) fn item() -> Item {
        Item {
            format: "jpeg".into(),
            width: 100,
            height: 80,
            ..Item::pending("abc", "/x".as_ref(), &"00".repeat(32), 1, "t")
        }
    }

    /// Every gate's evidence for the item's current masks: each mask seen
    /// at 2×, the preview seen, the output checked, every attested gate.
    pub(crate) fn with_all_evidence(it: &mut Item) {
        for m in &mut it.masks {
            m.zoom_check = Some(ZoomCheck {
                seal: None,
                zoom_pct: 200,
                at: "t".into(),
                reviewer: None,
            });
        }
        let d = it.masks_digest();
        it.gates.preview_seen = Some(PreviewSeen {
            seal: None,
            masks_digest: d.clone(),
            at: "t".into(),
        });
        it.gates.output_check = Some(OutputCheck {
            masks_digest: d,
            output_sha256: "ab".repeat(32),
            at: "t".into(),
        });
        for g in Gate::ATTESTED {
            it.gates.attested.insert(
                g,
                Attestation {
                    reviewer: "r".into(),
                    at: "t".into(),
                },
            );
        }
    }
}

#[cfg(test)]
mod tests;
