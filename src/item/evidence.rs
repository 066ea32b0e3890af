//! Gate evidence: what the reviewer measurably saw (zoom checks, edges,
//! the preview), what they attested, the output check, and the seals that
//! make measured evidence unforgeable by editing the item file.

use super::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
pub(crate) fn edge_target(e: Edge) -> String {
    format!("edge {e:?}")
}

/// The evidence target of a preview of the masks with `digest`.
pub fn preview_target(digest: &str) -> String {
    format!("preview {digest}")
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
    pub(crate) const ALL: [Edge; 4] = [Edge::Top, Edge::Right, Edge::Bottom, Edge::Left];
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
