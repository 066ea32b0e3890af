//! Ingest: walk folders of originals (read-only), hash, inventory metadata,
//! decode upright, detect faces, and write one item file each.
//!
//! Files are processed in parallel; a bad file becomes a `failed` item and
//! never stops the rest. Re-ingesting is idempotent: the item id comes from
//! the original's SHA-256.

mod budget;
mod files;
mod proposals;

use crate::detect::{Detector, TextDetector};
use crate::item::{Item, ItemState, MaskKind, item_id_for};
use crate::workspace::{Workspace, WorkspaceError};
use budget::*;
use files::*;
use proposals::*;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A new item was queued.
    Added {
        id: String,
        faces: usize,
        metadata: usize,
    },
    /// Already ingested from this path; nothing changed.
    Unchanged { id: String },
    /// Byte-identical to an item already queued from another path.
    Duplicate { id: String, of: PathBuf },
    /// Recorded as a `failed` item (or not recorded, when `id` is `None`).
    Failed { id: Option<String>, reason: String },
    /// Not an original: passed over with a reason (symlinks are never followed).
    Skipped { reason: String },
}

/// One file and what happened to it.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub path: PathBuf,
    pub outcome: Outcome,
}

/// The whole run.
#[derive(Debug, Default)]
pub struct IngestReport {
    pub files: Vec<FileReport>,
}

impl IngestReport {
    /// Files added as new items.
    pub fn added(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Added { .. }))
    }
    /// Files that could not be read or decoded.
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed { .. }))
    }
    /// Files already ingested, unchanged.
    pub fn unchanged(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Unchanged { .. }))
    }
    /// Files with the same bytes as another in this run.
    pub fn duplicates(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Duplicate { .. }))
    }
    /// Files skipped as plainly not pictures.
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Skipped { .. }))
    }
    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.files.iter().filter(|r| f(&r.outcome)).count()
    }
}

/// Problems that stop an ingest before it starts.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{path}: {source}")]
    Walk {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Detector(#[from] crate::detect::DetectError),
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
}

/// Called after each file: (files done, files in total, this file's report).
pub type Progress<'a> = &'a (dyn Fn(usize, usize, &FileReport) + Sync);

/// Ingest every file under `paths` into `ws`. Call it from an ordinary
/// thread, not from inside rayon's pool: it waits for memory to come free.
pub fn ingest(
    ws: &Workspace,
    paths: &[PathBuf],
    progress: Progress<'_>,
) -> Result<IngestReport, IngestError> {
    let (files, skipped) = collect_files(paths, ws.root())?;
    let previous: HashMap<PathBuf, String> = ws
        .items()?
        .0
        .into_iter()
        .map(|i| (i.source, i.id))
        .collect();
    let detector = crate::detect::from_policy(&ws.policy.detector)?;
    let text = if ws.policy.detector.text {
        Some(TextDetector::new(&ws.policy.detector)?)
    } else {
        None
    };
    let run = Run {
        ws,
        detector: detector.as_deref(),
        text: text.as_ref(),
        now: crate::clock::now_ts(),
        dicom_salt: std::sync::OnceLock::new(),
    };
    let memory = Budget::new(ws.policy.limits.ingest_memory_bytes());
    // Enough files queued to keep every core busy, and no more read ahead.
    let in_flight = Budget::new(2 * rayon::current_num_threads() as u64);
    let done = AtomicUsize::new(0);
    let total = files.len() + skipped.len();
    let reports = Mutex::new(Vec::with_capacity(total));
    let report = |path: &Path, outcome: Outcome| {
        let report = FileReport {
            path: path.to_path_buf(),
            outcome,
        };
        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
        progress(n, total, &report);
        reports
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(report);
    };
    for s in skipped {
        report(&s.path, s.outcome);
    }
    // This thread reads and hashes the files in order and hands each photo
    // to rayon's pool once it fits the memory budget (its bytes and its
    // decoded pixels); the detector spreads each photo's tiles over the same
    // pool. Only this thread, never one of the pool's, waits on a budget: a
    // pool thread waiting there could be the one whose stolen tile the
    // holder of the budget needs.
    let mut claimed = HashMap::new();
    rayon::in_place_scope(|scope| {
        for path in &files {
            match run.read(path, &mut claimed) {
                Ok(original) => {
                    let slot = in_flight.reserve(1);
                    let held = memory.reserve(original.memory_bytes(&ws.policy));
                    let (run, report) = (&run, &report);
                    scope.spawn(move |_| {
                        let outcome = run.add(original);
                        drop((held, slot));
                        report(path, outcome);
                    });
                }
                Err(outcome) => report(path, outcome),
            }
        }
    });
    let mut reports = reports.into_inner().unwrap_or_else(PoisonError::into_inner);
    reports.sort_by(|a, b| a.path.cmp(&b.path));
    flag_changed_originals(ws, &previous, &reports);
    Ok(IngestReport { files: reports })
}

/// An item whose original now holds different bytes must not be reviewed
/// or released as if nothing happened: flag it and point at the new item.
fn flag_changed_originals(
    ws: &Workspace,
    previous: &HashMap<PathBuf, String>,
    reports: &[FileReport],
) {
    for r in reports {
        let Outcome::Added { id: new_id, .. } = &r.outcome else {
            continue;
        };
        let Some(old_id) = previous.get(&r.path) else {
            continue;
        };
        if old_id == new_id {
            continue;
        }
        let Ok(mut old) = ws.load_item(old_id) else {
            continue;
        };
        if old.state.is_open() {
            old.state = ItemState::Failed;
            old.failure = Some(format!(
                "the original changed after ingest; its new bytes are item {new_id}"
            ));
            // Best effort: the new item exists either way, and render refuses
            // an original whose hash no longer matches.
            let _ = ws.save_item(&old);
        }
    }
}

/// What every file of one ingest run shares.
struct Run<'a> {
    ws: &'a Workspace,
    detector: Option<&'a dyn Detector>,
    /// Proposes `identifier` masks over text, when the policy says so.
    text: Option<&'a TextDetector>,
    now: String,
    /// The workspace's DICOM salt, read (or made) when the first DICOM
    /// original needs it.
    dicom_salt: std::sync::OnceLock<Result<Vec<u8>, String>>,
}

impl Run<'_> {
    /// Read and hash `path`; the outcome instead when there is nothing to
    /// add (unreadable, already ingested, a duplicate within this run).
    /// `claimed` holds the item ids this run is adding, each with the file
    /// that first had its bytes.
    fn read<'p>(
        &self,
        path: &'p Path,
        claimed: &mut HashMap<String, PathBuf>,
    ) -> Result<Original<'p>, Outcome> {
        let Run { ws, now, .. } = self;
        let (bytes, sha) = match read_original(path, ws.policy.limits.max_file_bytes()) {
            Ok(r) => r,
            Err(reason) => return Err(record_unreadable(ws, path, reason, now)),
        };
        let id = item_id_for(&sha);
        let first_claim = match claimed.entry(id.clone()) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(absolute(path));
                true
            }
            std::collections::hash_map::Entry::Occupied(_) => false,
        };
        match ws.load_item(&id) {
            // A photo that failed (over a limit, say) is tried again: the
            // policy may have changed since, and a failure that stays must
            // be reported again rather than pass as unchanged.
            Ok(existing)
                if existing.state == ItemState::Failed
                    && existing.source == path
                    && existing.output.is_none()
                    && first_claim =>
            {
                Ok(Original { path, bytes, sha })
            }
            Ok(existing) => Err(existing_outcome(ws, existing, path)),
            Err(WorkspaceError::NoSuchItem(_)) if first_claim => Ok(Original { path, bytes, sha }),
            // Another file in this run has the same bytes and is being ingested now.
            Err(WorkspaceError::NoSuchItem(_)) => Err(Outcome::Duplicate {
                of: claimed.get(&id).cloned().unwrap_or_default(),
                id,
            }),
            Err(e) => Err(Outcome::Failed {
                id: Some(id),
                reason: format!("existing item file is unreadable: {e}"),
            }),
        }
    }

    /// Decode, inventory and detect `original`, and save its item.
    fn add(&self, original: Original<'_>) -> Outcome {
        let Original { path, bytes, sha } = original;
        let ws = self.ws;
        let item = self.build_item(path, &bytes, &sha);
        let outcome = match &item.failure {
            Some(reason) => Outcome::Failed {
                id: Some(item.id.clone()),
                reason: reason.clone(),
            },
            None => Outcome::Added {
                id: item.id.clone(),
                faces: item.faces_found(),
                metadata: item.metadata.len(),
            },
        };
        match ws.save_item(&item) {
            Ok(()) => outcome,
            Err(e) => Outcome::Failed {
                id: None,
                reason: format!("could not save the item: {e}"),
            },
        }
    }
}

/// An item already exists for these bytes.
fn existing_outcome(ws: &Workspace, mut existing: Item, path: &Path) -> Outcome {
    if existing.source == path || existing.duplicates.iter().any(|d| d == path) {
        return Outcome::Unchanged { id: existing.id };
    }
    let of = existing.source.clone();
    existing.duplicates.push(path.to_path_buf());
    existing.duplicates.sort();
    let id = existing.id.clone();
    match ws.save_item(&existing) {
        Ok(()) => Outcome::Duplicate { id, of },
        Err(e) => Outcome::Failed {
            id: Some(id),
            reason: format!("could not record the duplicate: {e}"),
        },
    }
}

/// A file that could not even be read still gets a `failed` item, keyed
/// by its path (there are no bytes to hash).
fn record_unreadable(ws: &Workspace, path: &Path, reason: String, now: &str) -> Outcome {
    let key = format!("unreadable:{}", path.to_string_lossy());
    let id = format!("f{}", &item_id_for(&hex::encode(Sha256::digest(key)))[1..]);
    if let Ok(existing) = ws.load_item(&id)
        && existing.failure.as_deref() == Some(reason.as_str())
    {
        return Outcome::Unchanged { id };
    }
    let mut item = Item::pending(&id, path, "", 0, now);
    item.failure = Some(reason.clone());
    item.state = ItemState::Failed;
    match ws.save_item(&item) {
        Ok(()) => Outcome::Failed {
            id: Some(id),
            reason,
        },
        Err(e) => Outcome::Failed {
            id: None,
            reason: format!("{reason}; and the failure could not be recorded: {e}"),
        },
    }
}

impl Run<'_> {
    /// Decode, inventory and detect one original already read into memory.
    fn build_item(&self, path: &Path, bytes: &[u8], sha: &str) -> Item {
        let Run {
            ws,
            detector,
            text,
            now,
            ..
        } = self;
        let policy = &ws.policy;
        let mut item = Item::pending(&item_id_for(sha), path, sha, bytes.len() as u64, now);
        let inventory = crate::metadata::inventory(bytes);
        item.metadata = inventory.findings;
        // The output drops all metadata regardless; the reviewer should still
        // know the inventory of this file is incomplete.
        item.metadata
            .extend(
                inventory
                    .warnings
                    .into_iter()
                    .map(|w| crate::item::MetadataFinding {
                        group: "Unparsed".into(),
                        field: "inventory warning".into(),
                        value: crate::text::printable(&w, 120),
                    }),
            );
        let decoded = match crate::image_io::decode_upright(bytes, &policy.limits) {
            Ok(d) => d,
            Err(e) => {
                item.failure = Some(e.to_string());
                item.state = ItemState::Failed;
                if let Ok(f) = crate::image_io::sniff(bytes) {
                    item.format = f.as_str().to_string();
                }
                if let Some((w, h)) = crate::image_io::dimensions(bytes) {
                    (item.width, item.height) = (w, h);
                }
                return item;
            }
        };
        item.format = decoded.format.as_str().to_string();
        item.width = decoded.width;
        item.height = decoded.height;
        item.orientation = decoded.orientation;
        if decoded.format == crate::image_io::SourceFormat::Dicom {
            match self.dicom_source(bytes) {
                Ok(source) => item.dicom = Some(source),
                Err(e) => {
                    item.failure = Some(e);
                    item.state = ItemState::Failed;
                    return item;
                }
            }
        }
        // CenterFace needs colour (it finds fewer faces in grey). Moved,
        // not copied, when the photo is already 8-bit RGB.
        let rgb = decoded.image.into_rgb8();
        let (w, h) = (rgb.width(), rgb.height());
        // Text first, on the photo borrowed: the face detector takes it and
        // frees it as soon as its finest level is made.
        let mut lines = Vec::new();
        if let Some(text) = text {
            item.text_detector = Some(text.info());
            match text.detect_rgb(&rgb) {
                Ok(found) => lines = found,
                Err(e) => {
                    // Never let a detector failure read as "no text".
                    item.failure = Some(format!("text detection failed: {e}"));
                    item.state = ItemState::Failed;
                    return item;
                }
            }
        }
        if let Some(det) = detector {
            item.detector = Some(det.info());
            let faces = match det.detect_owned(rgb) {
                Ok(f) => f,
                Err(e) => {
                    // Never let a detector failure read as "no faces".
                    item.failure = Some(format!("face detection failed: {e}"));
                    item.state = ItemState::Failed;
                    return item;
                }
            };
            let padding = policy.detector.padding;
            add_proposals(&mut item, MaskKind::Face, faces, |r| {
                r.padded(padding, w, h)
            });
        }
        // A text box inside a face mask (eyes, teeth and brows read as a
        // line) would only be a second mask over what is already covered.
        let faces: Vec<crate::item::Rect> = item.masks.iter().map(|m| m.rect).collect();
        lines.retain(|l| !crate::detect::mostly_inside(&l.rect, &faces));
        // Already grown to cover the glyphs: no face padding on top.
        add_proposals(&mut item, MaskKind::Identifier, lines, |r| Some(*r));
        if item
            .dicom
            .as_ref()
            .is_some_and(super::dicom_source::DicomSource::burned_in_likely)
        {
            // Names and dates printed on the pixels: a second person looks,
            // and the bands where machines print them start masked.
            item.high_stakes = true;
            add_bands(&mut item, policy.dicom.band_pct, w, h);
        }
        item
    }

    /// The de-identified header values of a DICOM original, with the salt.
    fn dicom_source(&self, bytes: &[u8]) -> Result<crate::dicom::DicomSource, String> {
        let salt = self
            .dicom_salt
            .get_or_init(|| self.ws.dicom_salt().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| format!("the workspace's DICOM salt: {e}"))?;
        let parsed = crate::dicom::parse(bytes).map_err(|e| e.to_string())?;
        Ok(crate::dicom::source(
            &parsed,
            salt,
            self.ws.policy.dicom.dates,
        ))
    }
}

#[cfg(test)]
mod tests;
