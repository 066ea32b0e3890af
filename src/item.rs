//! Domain types for one queued photograph: its masks, gate evidence and state.
//!
//! Everything here is plain data (serde) plus pure geometry; no I/O.
//! Numbers that reach the ledger are integers (zoom in percent, scores in
//! thousandths) so canonical JSON never has to carry a float.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

pub use crate::mask_kind::MaskKind;

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
    pub const ALL: [ItemState; 6] = [
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
    pub fn is_open(self) -> bool {
        matches!(
            self,
            ItemState::Pending | ItemState::Ready | ItemState::AwaitingSecond
        )
    }

    /// The state in words, for people (the review station).
    pub fn label(self) -> &'static str {
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

/// An axis-aligned rectangle in pixels of the upright (oriented) image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

impl Rect {
    pub fn new(x: u32, y: u32, w: u32, h: u32) -> Rect {
        Rect { x, y, w, h }
    }

    /// One past the right edge.
    pub fn right(&self) -> u32 {
        self.x.saturating_add(self.w)
    }

    /// One past the bottom edge.
    pub fn bottom(&self) -> u32 {
        self.y.saturating_add(self.h)
    }

    /// True when `other` lies entirely within `self`.
    pub fn contains(&self, other: &Rect) -> bool {
        other.x >= self.x
            && other.y >= self.y
            && other.right() <= self.right()
            && other.bottom() <= self.bottom()
    }

    /// The part of `self` inside `other`; `None` when they share no pixel.
    pub fn intersection(&self, other: &Rect) -> Option<Rect> {
        let x0 = self.x.max(other.x);
        let y0 = self.y.max(other.y);
        let x1 = self.right().min(other.right());
        let y1 = self.bottom().min(other.bottom());
        (x1 > x0 && y1 > y0).then(|| Rect::new(x0, y0, x1 - x0, y1 - y0))
    }

    /// True when the two rectangles share at least one pixel.
    pub fn intersects(&self, other: &Rect) -> bool {
        self.x < other.right()
            && other.x < self.right()
            && self.y < other.bottom()
            && other.y < self.bottom()
    }

    /// Clamp into an image of `width` × `height`; `None` when nothing is left.
    pub fn clamp_to(&self, width: u32, height: u32) -> Option<Rect> {
        let x0 = self.x.min(width);
        let y0 = self.y.min(height);
        let x1 = self.right().min(width);
        let y1 = self.bottom().min(height);
        (x1 > x0 && y1 > y0).then(|| Rect::new(x0, y0, x1 - x0, y1 - y0))
    }

    /// Grow about the centre by `factor` (1.3 = 30% larger each side in total),
    /// then clamp to the image.
    pub fn padded(&self, factor: f64, width: u32, height: u32) -> Option<Rect> {
        let factor = if factor.is_finite() && factor > 0.0 {
            factor
        } else {
            1.0
        };
        let cx = self.x as f64 + self.w as f64 / 2.0;
        let cy = self.y as f64 + self.h as f64 / 2.0;
        let w = self.w as f64 * factor;
        let h = self.h as f64 * factor;
        let x0 = (cx - w / 2.0).floor().max(0.0);
        let y0 = (cy - h / 2.0).floor().max(0.0);
        let x1 = (cx + w / 2.0).ceil().min(width as f64);
        let y1 = (cy + h / 2.0).ceil().min(height as f64);
        if x1 <= x0 || y1 <= y0 {
            return None;
        }
        Some(Rect::new(
            x0 as u32,
            y0 as u32,
            (x1 - x0) as u32,
            (y1 - y0) as u32,
        ))
    }
}

impl fmt::Display for Rect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}+{}+{}", self.w, self.h, self.x, self.y)
    }
}

/// Who proposed a mask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum MaskOrigin {
    /// Found by a face or the text detector (its name); `score_milli` is
    /// the detector's score × 1000.
    Detector { detector: String, score_milli: i64 },
    /// Drawn by a reviewer.
    Manual,
}

/// The text detector, as items and the masks it proposes name it (its
/// model's package and version: a new model is a new name). Here, beside
/// the origins it classifies, so items need nothing of the detectors.
pub const TEXT_DETECTOR_NAME: &str = "ppocr-v4-det-rapidocr-1.4.4";

/// The proposer of the masks placed over a DICOM's annotation bands.
pub const DICOM_BAND_PROPOSER: &str = "dicom-annotation-bands";

impl MaskOrigin {
    /// Proposed by the text detector.
    pub fn is_text(&self) -> bool {
        matches!(self, MaskOrigin::Detector { detector, .. }
            if detector == TEXT_DETECTOR_NAME)
    }

    /// Proposed over a DICOM's annotation bands (not found: placed).
    pub fn is_dicom_band(&self) -> bool {
        matches!(self, MaskOrigin::Detector { detector, .. }
            if detector == DICOM_BAND_PROPOSER)
    }

    /// Proposed by a face detector.
    pub fn is_face_detector(&self) -> bool {
        matches!(self, MaskOrigin::Detector { .. }) && !self.is_text() && !self.is_dicom_band()
    }
}

/// Proof that a mask was seen up close: recorded by the review screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoomCheck {
    /// Zoom reached, in percent of fit (200 = 2×).
    pub zoom_pct: u32,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// Who was reviewing, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewer: Option<String>,
    /// The station's signature over what it measured (see [`Seal`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<Seal>,
}

/// A reviewer key's signature over one piece of measured evidence, made by
/// the review station when it measured it. Evidence without a seal by an
/// enrolled key is not "measured": typing it into an item file proves
/// nothing, and a seal made with one's own key is one's own signed statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seal {
    /// `ssh-ed25519 AAAA...` of the signing key.
    pub key: String,
    /// sshsig over [`evidence_message`], one line of base64.
    pub sig: String,
}

/// What a seal signs: the item, its original, what was seen (a mask's
/// rectangle, an edge, or the masks of a preview), the zoom and the time.
pub fn evidence_message(
    item_id: &str,
    original_sha256: &str,
    target: &str,
    zoom_pct: u32,
    at: &str,
) -> Vec<u8> {
    #[derive(Serialize)]
    struct Message<'a> {
        evidence: &'static str,
        item: &'a str,
        original_sha256: &'a str,
        target: &'a str,
        zoom_pct: u32,
        at: &'a str,
    }
    serde_json::to_vec(&Message {
        evidence: "veil-evidence@v1",
        item: item_id,
        original_sha256,
        target,
        zoom_pct,
        at,
    })
    .unwrap_or_default()
}

/// The evidence target of a mask: its id and rectangle (moving it voids the seal).
pub fn mask_target(m: &Mask) -> String {
    format!(
        "mask {} {},{} {}x{}",
        m.id, m.rect.x, m.rect.y, m.rect.w, m.rect.h
    )
}

/// The evidence target of an edge strip.
pub fn edge_target(e: Edge) -> String {
    format!("edge {e:?}")
}

/// The evidence target of a preview of the masks with `digest`.
pub fn preview_target(digest: &str) -> String {
    format!("preview {digest}")
}

/// One rectangle to fill with solid colour in the output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mask {
    /// Stable within the item (never reused after deletion).
    pub id: u32,
    pub kind: MaskKind,
    pub rect: Rect,
    pub origin: MaskOrigin,
    /// Set when the mask was fully in view at the policy's minimum zoom;
    /// cleared whenever the mask moves or changes size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zoom_check: Option<ZoomCheck>,
}

impl Mask {
    /// Seen whole at `min_pct` zoom or more since it last moved: what the
    /// zoom gate asks of every mask.
    pub fn verified_at(&self, min_pct: u32) -> bool {
        self.zoom_check
            .as_ref()
            .is_some_and(|z| z.zoom_pct >= min_pct)
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
    pub fn each_engine(&self) -> &[DetectorInfo] {
        if self.engines.is_empty() {
            std::slice::from_ref(self)
        } else {
            &self.engines
        }
    }

    /// One engine's thresholds in words, e.g. `threshold 0.30, finest pass 3072 px`.
    pub fn settings_label(&self) -> String {
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

/// Which image edge strip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Edge {
    Top,
    Right,
    Bottom,
    Left,
}

impl Edge {
    pub const ALL: [Edge; 4] = [Edge::Top, Edge::Right, Edge::Bottom, Edge::Left];
}

/// A gate attested by a reviewer (reflections checked, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    pub reviewer: String,
    pub at: String,
}

/// Evidence that the compressed/mobile preview was looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewSeen {
    /// Digest of the masks at the time (see [`masks_digest`]); the gate
    /// holds only while the masks are unchanged.
    pub masks_digest: String,
    pub at: String,
    /// The station's signature (see [`Seal`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<Seal>,
}

/// Everything the gates look at besides the masks themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateEvidence {
    /// Edge strips viewed at the minimum zoom (measured by the screen).
    #[serde(default)]
    pub edges_seen: BTreeMap<Edge, ZoomCheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview_seen: Option<PreviewSeen>,
    /// Attested gates by name (`reflections`, `edges`, `identifiers`).
    #[serde(default)]
    pub attested: BTreeMap<crate::checklist::Gate, Attestation>,
    /// The last render whose bytes passed the container allowlist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_check: Option<OutputCheck>,
}

/// Evidence that a rendered output was checked byte by byte and carried
/// no metadata (measured, never declared).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputCheck {
    /// Digest of the masks the output was rendered with.
    pub masks_digest: String,
    pub output_sha256: String,
    pub at: String,
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
    pub fn unverified(&self, min_pct: u32) -> Vec<&Mask> {
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
    pub fn mask_counts(&self) -> BTreeMap<MaskKind, usize> {
        let mut counts = BTreeMap::new();
        for m in &self.masks {
            *counts.entry(m.kind).or_insert(0) += 1;
        }
        counts
    }

    /// Faces proposed by the detector (still present as masks).
    pub fn faces_found(&self) -> usize {
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
    pub fn empty_mask(&self) -> Option<String> {
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

    pub(super) fn to_stored(p: &Path) -> Stored {
        match p.to_str() {
            Some(s) => Stored::Text(s.to_string()),
            None => Stored::Bytes {
                unix_bytes_hex: hex::encode(p.as_os_str().as_encoded_bytes()),
            },
        }
    }

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

    pub fn serialize<S: Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
        to_stored(p).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
        from_stored(Stored::deserialize(d)?)
    }
}

/// [`path_serde`] for a list of paths.
mod paths_serde {
    use super::path_serde::{Stored, from_stored, to_stored};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::path::PathBuf;

    pub fn serialize<S: Serializer>(ps: &[PathBuf], s: S) -> Result<S::Ok, S::Error> {
        ps.iter()
            .map(|p| to_stored(p))
            .collect::<Vec<_>>()
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PathBuf>, D::Error> {
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

/// Map a rectangle from stored-pixel coordinates (an image `stored_w` ×
/// `stored_h` as it sits in the file) to the upright image a viewer shows
/// for EXIF `orientation`.
pub fn rect_from_stored(r: Rect, orientation: u8, stored_w: u32, stored_h: u32) -> Rect {
    let (w, h) = (stored_w, stored_h);
    // Mirror a span [a, a+len) inside [0, total).
    let flip = |a: u32, len: u32, total: u32| total.saturating_sub(a.saturating_add(len));
    match orientation {
        2 => Rect::new(flip(r.x, r.w, w), r.y, r.w, r.h),
        3 => Rect::new(flip(r.x, r.w, w), flip(r.y, r.h, h), r.w, r.h),
        4 => Rect::new(r.x, flip(r.y, r.h, h), r.w, r.h),
        5 => Rect::new(r.y, r.x, r.h, r.w),
        6 => Rect::new(flip(r.y, r.h, h), r.x, r.h, r.w),
        7 => Rect::new(flip(r.y, r.h, h), flip(r.x, r.w, w), r.h, r.w),
        8 => Rect::new(r.y, flip(r.x, r.w, w), r.h, r.w),
        _ => r,
    }
}

/// The inverse of [`rect_from_stored`]: upright coordinates back to stored
/// pixels (`upright_w` × `upright_h` is the upright image's size).
pub fn rect_to_stored(r: Rect, orientation: u8, upright_w: u32, upright_h: u32) -> Rect {
    let inverse = match orientation {
        6 => 8,
        8 => 6,
        o => o,
    };
    rect_from_stored(r, inverse, upright_w, upright_h)
}

/// True for EXIF orientations 5–8, which swap width and height.
pub fn orientation_swaps_axes(orientation: u8) -> bool {
    matches!(orientation, 5..=8)
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
mod tests {
    use super::*;

    #[test]
    fn the_intersection_of_two_rectangles_is_what_both_cover_or_nothing() {
        let a = Rect::new(10, 10, 20, 10);
        assert_eq!(
            a.intersection(&Rect::new(25, 0, 100, 15)),
            Some(Rect::new(25, 10, 5, 5))
        );
        assert_eq!(a.intersection(&a), Some(a));
        // Touching edges share no pixel.
        assert_eq!(a.intersection(&Rect::new(30, 10, 5, 5)), None);
        assert!(!a.intersects(&Rect::new(30, 10, 5, 5)));
        assert_eq!(a.intersection(&Rect::new(0, 0, 5, 5)), None);
    }

    #[test]
    fn padding_grows_about_the_centre_and_clamps_to_the_image() {
        let r = Rect::new(40, 40, 20, 20);
        assert_eq!(r.padded(1.5, 100, 100), Some(Rect::new(35, 35, 30, 30)));
        let edge = Rect::new(0, 0, 20, 20);
        assert_eq!(edge.padded(2.0, 100, 100), Some(Rect::new(0, 0, 30, 30)));
    }

    #[test]
    fn clamp_drops_a_rectangle_outside_the_image() {
        assert_eq!(Rect::new(120, 0, 10, 10).clamp_to(100, 100), None);
        assert_eq!(
            Rect::new(95, 95, 10, 10).clamp_to(100, 100),
            Some(Rect::new(95, 95, 5, 5))
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_file_name_that_is_not_utf8_survives_the_item_file() {
        use std::os::unix::ffi::OsStrExt;
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct P {
            #[serde(with = "path_serde")]
            p: PathBuf,
        }
        let p = P {
            p: PathBuf::from(std::ffi::OsStr::from_bytes(b"/in/bad\xff\x1b[2J.jpg")),
        };
        let json = serde_json::to_string(&p).unwrap();
        assert!(json.contains("unix_bytes_hex"), "{json}");
        assert_eq!(serde_json::from_str::<P>(&json).unwrap(), p);
        let plain = P {
            p: "/in/ok.jpg".into(),
        };
        assert_eq!(
            serde_json::to_string(&plain).unwrap(),
            r#"{"p":"/in/ok.jpg"}"#
        );
    }

    #[test]
    fn kinds_cycle_through_all_and_back() {
        let mut k = MaskKind::Face;
        for _ in 0..MaskKind::ALL.len() {
            k = k.next();
        }
        assert_eq!(k, MaskKind::Face);
    }

    #[test]
    fn states_parse_from_their_names() {
        for s in ItemState::ALL {
            assert_eq!(s.as_str().parse::<ItemState>(), Ok(s));
        }
        assert!("bogus".parse::<ItemState>().is_err());
    }

    #[test]
    fn mask_digest_ignores_verification_but_not_geometry() {
        let mut a = Mask {
            id: 1,
            kind: MaskKind::Face,
            rect: Rect::new(1, 2, 3, 4),
            origin: MaskOrigin::Manual,
            zoom_check: None,
        };
        let d0 = masks_digest(std::slice::from_ref(&a));
        a.zoom_check = Some(ZoomCheck {
            seal: None,
            zoom_pct: 200,
            at: "t".into(),
            reviewer: None,
        });
        assert_eq!(d0, masks_digest(std::slice::from_ref(&a)));
        a.rect.x += 1;
        assert_ne!(d0, masks_digest(std::slice::from_ref(&a)));
    }
}
