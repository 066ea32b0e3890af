//! Ingest: walk folders of originals (read-only), hash, inventory metadata,
//! decode upright, detect faces, and write one item file each.
//!
//! Files are processed in parallel; a bad file becomes a `failed` item and
//! never stops the rest. Re-ingesting is idempotent: the item id comes from
//! the original's SHA-256.

use crate::detect::{Detection, Detector, TextDetector};
use crate::item::{Item, ItemState, MaskKind, MaskOrigin, item_id_for};
use crate::workspace::{Workspace, WorkspaceError};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};

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
    pub fn added(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Added { .. }))
    }
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed { .. }))
    }
    pub fn unchanged(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Unchanged { .. }))
    }
    pub fn duplicates(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Duplicate { .. }))
    }
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

/// Files to ingest (sorted) and what was passed over, from files and
/// folders. Inside a folder, the workspace itself, hidden files and folders
/// (`.DS_Store`, `.git`) and files that are plainly not pictures (a name
/// without an image extension *and* bytes that are no image format, e.g.
/// `notes.txt`) are passed over and reported; a file with an image name or
/// an image's first bytes is always taken, so a broken photo still fails
/// loudly. A file named on the command line is taken as given.
fn collect_files(
    paths: &[PathBuf],
    workspace: &Path,
) -> Result<(Vec<PathBuf>, Vec<FileReport>), IngestError> {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    let workspace = std::fs::canonicalize(workspace).ok();
    let skip = |skipped: &mut Vec<FileReport>, path: &Path, reason: &str| {
        skipped.push(FileReport {
            path: absolute(path),
            outcome: Outcome::Skipped {
                reason: reason.into(),
            },
        });
    };
    for root in paths {
        let meta = std::fs::symlink_metadata(root).map_err(|source| IngestError::Walk {
            path: root.clone(),
            source,
        })?;
        if !meta.is_dir() {
            // A file named on the command line is taken as given.
            files.push(absolute(root));
            continue;
        }
        let mut walk = walkdir::WalkDir::new(root)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter();
        while let Some(entry) = walk.next() {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    skipped.push(FileReport {
                        path: e
                            .path()
                            .map(Path::to_path_buf)
                            .unwrap_or_else(|| root.clone()),
                        // A folder or file that could not be read may hold
                        // photos: a failure (exit 3), never a quiet skip.
                        outcome: Outcome::Failed {
                            id: None,
                            reason: format!(
                                "cannot be read: {}",
                                e.io_error()
                                    .map_or_else(|| e.to_string(), std::string::ToString::to_string)
                            ),
                        },
                    });
                    continue;
                }
            };
            let ft = entry.file_type();
            let hidden =
                entry.depth() > 0 && entry.file_name().as_encoded_bytes().starts_with(b".");
            if ft.is_symlink() {
                skip(&mut skipped, entry.path(), "symbolic link, not followed");
            } else if ft.is_dir() {
                if workspace.is_some() && std::fs::canonicalize(entry.path()).ok() == workspace {
                    skip(
                        &mut skipped,
                        entry.path(),
                        "the Veil workspace itself, never ingested",
                    );
                    walk.skip_current_dir();
                } else if hidden {
                    skip(
                        &mut skipped,
                        entry.path(),
                        "hidden folder (its name starts with '.')",
                    );
                    walk.skip_current_dir();
                }
            } else if ft.is_file() {
                if hidden {
                    skip(
                        &mut skipped,
                        entry.path(),
                        "hidden file (its name starts with '.')",
                    );
                } else if plainly_not_a_picture(entry.path()) {
                    skip(
                        &mut skipped,
                        entry.path(),
                        "not a picture (no image extension, and its bytes are no image format)",
                    );
                } else {
                    files.push(absolute(entry.path()));
                }
            }
        }
    }
    files.sort();
    files.dedup();
    Ok((files, skipped))
}

fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Read a whole original read-only, hashing as it streams in.
fn read_original(path: &Path, max_bytes: u64) -> Result<(Vec<u8>, String), String> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = opts.open(path).map_err(|e| format!("cannot open: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot stat: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > max_bytes {
        return Err(format!(
            "file is {} MiB, over the policy's limit of {} MiB",
            meta.len() / (1024 * 1024),
            max_bytes / (1024 * 1024)
        ));
    }
    let mut hasher = Sha256::new();
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    let mut chunk = vec![0u8; 1 << 16];
    let mut reader = file.take(max_bytes + 1);
    loop {
        let n = reader
            .read(&mut chunk)
            .map_err(|e| format!("read error: {e}"))?;
        if n == 0 {
            break;
        }
        hasher.update(&chunk[..n]);
        bytes.extend_from_slice(&chunk[..n]);
    }
    if bytes.len() as u64 > max_bytes {
        return Err("file grew past the policy's size limit while being read".into());
    }
    // A file being written while it is read gives torn bytes: refuse it
    // here rather than let approval find the hash no longer matches.
    let after = std::fs::symlink_metadata(path).map_err(|e| format!("cannot stat: {e}"))?;
    if let Some(what) = changed(&meta, &after, bytes.len() as u64) {
        return Err(format!(
            "changed while being read ({what}): it is still being written or copied; run ingest again when it is complete"
        ));
    }
    Ok((bytes, hex::encode(hasher.finalize())))
}

/// How the file at `after` differs from the one opened (`before`) of
/// which `read` bytes were read, if it does.
fn changed(before: &std::fs::Metadata, after: &std::fs::Metadata, read: u64) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if (before.dev(), before.ino()) != (after.dev(), after.ino()) {
            return Some("replaced by another file".into());
        }
        if (
            before.mtime(),
            before.mtime_nsec(),
            before.ctime(),
            before.ctime_nsec(),
        ) != (
            after.mtime(),
            after.mtime_nsec(),
            after.ctime(),
            after.ctime_nsec(),
        ) {
            return Some("modified".into());
        }
    }
    if before.len() != read || after.len() != read {
        return Some(format!(
            "{} bytes when opened, {read} read, {} now",
            before.len(),
            after.len()
        ));
    }
    None
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

/// An original read into memory that has no item yet.
struct Original<'a> {
    path: &'a Path,
    bytes: Vec<u8>,
    sha: String,
}

impl Original<'_> {
    /// What ingesting this photo holds at its peak, from its header's
    /// memory plan (the file when the header cannot be read, as decoding
    /// will then fail at once; one larger than the policy's limit is
    /// refused before it decodes, so it reserves only its file).
    fn memory_bytes(&self, policy: &crate::policy::Policy) -> u64 {
        let step = crate::memory::Step::Ingest;
        crate::image_io::memory_plan(&self.bytes, &policy.limits)
            .filter(|p| p.check(step, &policy.limits).is_ok())
            .map_or(self.bytes.len() as u64, |p| p.peak(step))
    }
}

/// A weighted semaphore: how much of something (bytes of decoded photo,
/// files in flight) ingest may hold at once. A request larger than the
/// whole budget waits until it can run alone. Never reserve from a rayon
/// pool thread (see [`ingest`]).
struct Budget {
    limit: u64,
    used: Mutex<u64>,
    freed: Condvar,
}

/// A share of the [`Budget`], returned when dropped.
struct Reservation<'a> {
    budget: &'a Budget,
    bytes: u64,
}

impl Budget {
    fn new(limit: u64) -> Budget {
        Budget {
            limit: limit.max(1),
            used: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    /// Wait until `bytes` (at most the whole budget) fit, and take them.
    fn reserve(&self, bytes: u64) -> Reservation<'_> {
        let bytes = bytes.min(self.limit);
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        while *used + bytes > self.limit {
            used = self
                .freed
                .wait(used)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *used += bytes;
        Reservation {
            budget: self,
            bytes,
        }
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let mut used = self
            .budget
            .used
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *used -= self.bytes;
        self.budget.freed.notify_all();
    }
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

/// Extensions a photo or a scan may carry, including formats Veil names but
/// does not read (so they are reported, not passed over).
const IMAGE_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "jpe", "jfif", "png", "webp", "tif", "tiff", "heic", "heif", "hif", "avif",
    "dcm", "dicom", "dng", "gif", "bmp", "jp2", "j2k", "raw", "cr2", "nef", "arw",
];

/// No image extension, and the first bytes are no image format Veil knows
/// (read or named): a text file, a document, an archive. An unreadable file
/// is not "plainly" anything: it is taken, and its failure reported.
fn plainly_not_a_picture(path: &Path) -> bool {
    let image_name = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
    if image_name {
        return false;
    }
    let mut head = [0u8; 512];
    let Ok(n) = std::fs::File::open(path).and_then(|mut f| {
        use std::io::Read;
        f.read(&mut head)
    }) else {
        return false;
    };
    n == 0 || crate::image_io::sniff(&head[..n]) == Err(crate::image_io::DecodeError::NotAnImage)
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
        if item.dicom.as_ref().is_some_and(super::dicom_source::DicomSource::burned_in_likely) {
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

/// `identifier` masks over the top and bottom `pct` percent of a `w`×`h`
/// image, where scanners and capture stations print names and dates.
fn add_bands(item: &mut Item, pct: u32, w: u32, h: u32) {
    let band = (u64::from(h) * u64::from(pct)).div_ceil(100) as u32;
    if band == 0 || w == 0 {
        return;
    }
    let band = band.min(h);
    for y in [0, h - band] {
        item.add_mask(
            MaskKind::Identifier,
            crate::item::Rect::new(0, y, w, band),
            MaskOrigin::Detector {
                detector: crate::dicom::BAND_PROPOSER.to_string(),
                score_milli: 1000,
            },
        );
    }
}

/// A detector's finds as masks of `kind`, each box shaped by `shape`
/// (face padding; none for text), the engine and its score recorded.
fn add_proposals(
    item: &mut Item,
    kind: MaskKind,
    found: Vec<Detection>,
    shape: impl Fn(&crate::item::Rect) -> Option<crate::item::Rect>,
) {
    for d in found {
        if let Some(rect) = shape(&d.rect) {
            item.add_mask(
                kind,
                rect,
                MaskOrigin::Detector {
                    detector: d.detector.to_string(),
                    score_milli: (d.score * 1000.0).round() as i64,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn files_rewritten_while_ingest_reads_them_are_detected_at_ingest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("photo.jpg");
        std::fs::write(&path, b"first half").unwrap();
        let before = std::fs::metadata(&path).unwrap();
        let same = std::fs::metadata(&path).unwrap();
        assert_eq!(changed(&before, &same, before.len()), None);
        // Fewer bytes read than the file had: torn.
        assert!(changed(&before, &same, 3).unwrap().contains("3 read"));
        // Written to (same length, new time) while being read.
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(&path, b"other half").unwrap();
        let after = std::fs::metadata(&path).unwrap();
        assert_eq!(
            changed(&before, &after, before.len()).as_deref(),
            Some("modified")
        );
        // Replaced by a rename.
        let new = dir.path().join("new.jpg");
        std::fs::write(&new, b"first half").unwrap();
        std::fs::rename(&new, &path).unwrap();
        let swapped = std::fs::metadata(&path).unwrap();
        assert_eq!(
            changed(&before, &swapped, before.len()).as_deref(),
            Some("replaced by another file")
        );
    }

    #[test]
    fn reservations_never_exceed_the_budget_and_all_complete() {
        let budget = Budget::new(100);
        let in_flight = AtomicU64::new(0);
        let peak = AtomicU64::new(0);
        std::thread::scope(|scope| {
            for t in 0..8u64 {
                let (budget, in_flight, peak) = (&budget, &in_flight, &peak);
                scope.spawn(move || {
                    for i in 0..200u64 {
                        // Sizes 1–150: some larger than the whole budget.
                        let want = (t * 37 + i * 11) % 150 + 1;
                        let _r = budget.reserve(want);
                        let now =
                            in_flight.fetch_add(want.min(100), Ordering::SeqCst) + want.min(100);
                        peak.fetch_max(now, Ordering::SeqCst);
                        std::thread::yield_now();
                        in_flight.fetch_sub(want.min(100), Ordering::SeqCst);
                    }
                });
            }
        });
        assert!(
            peak.load(Ordering::SeqCst) <= 100,
            "peak {}",
            peak.load(Ordering::SeqCst)
        );
        assert_eq!(
            *budget.used.lock().unwrap(),
            0,
            "every reservation was returned"
        );
    }

    #[test]
    fn a_reservation_that_does_not_fit_waits_for_one_to_be_returned() {
        let budget = Budget::new(10);
        let first = budget.reserve(6);
        let (tx, rx) = mpsc::channel();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let _second = budget.reserve(6);
                tx.send(()).unwrap();
            });
            // Only a wrong budget could let the second in now; a slow
            // machine can at worst make this check pass without proving much.
            assert!(
                rx.recv_timeout(Duration::from_millis(200)).is_err(),
                "6 + 6 fitted in 10"
            );
            drop(first);
            rx.recv_timeout(Duration::from_secs(30))
                .expect("the second reservation went through once the first was returned");
        });
        // Larger than the whole budget: granted when alone, not refused forever.
        drop(budget.reserve(1000));
    }
}
