//! Finding and reading originals: walk folders without following links,
//! skip what is plainly not a picture, read each file once (read-only)
//! while hashing it, and tell when an original changed since ingest.

use super::*;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Files to ingest (sorted) and what was passed over, from files and
/// folders. Inside a folder, the workspace itself, hidden files and folders
/// (`.DS_Store`, `.git`) and files that are plainly not pictures (a name
/// without an image extension *and* bytes that are no image format, e.g.
/// `notes.txt`) are passed over and reported; a file with an image name or
/// an image's first bytes is always taken, so a broken photo still fails
/// loudly. A file named on the command line is taken as given.
pub(super) fn collect_files(
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
                                e.io_error().map_or_else(
                                    || e.to_string(),
                                    std::string::ToString::to_string
                                )
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

/// `p` made absolute against the current folder (without resolving links).
pub(super) fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Read a whole original read-only, hashing as it streams in.
pub(super) fn read_original(path: &Path, max_bytes: u64) -> Result<(Vec<u8>, String), String> {
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
pub(super) fn changed(
    before: &std::fs::Metadata,
    after: &std::fs::Metadata,
    read: u64,
) -> Option<String> {
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

/// An original read into memory that has no item yet.
pub(super) struct Original<'a> {
    pub(super) path: &'a Path,
    pub(super) bytes: Vec<u8>,
    pub(super) sha: String,
}

impl Original<'_> {
    /// What ingesting this photo holds at its peak, from its header's
    /// memory plan (the file when the header cannot be read, as decoding
    /// will then fail at once; one larger than the policy's limit is
    /// refused before it decodes, so it reserves only its file).
    pub(super) fn memory_bytes(&self, policy: &crate::policy::Policy) -> u64 {
        let step = crate::memory::Step::Ingest;
        crate::image_io::memory_plan(&self.bytes, &policy.limits)
            .filter(|p| p.check(step, &policy.limits).is_ok())
            .map_or(self.bytes.len() as u64, |p| p.peak(step))
    }
}

/// Extensions a photo or a scan may carry, including formats Veil names but
/// does not read (so they are reported, not passed over).
pub(super) const IMAGE_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "jpe", "jfif", "png", "webp", "tif", "tiff", "heic", "heif", "hif", "avif",
    "dcm", "dicom", "dng", "gif", "bmp", "jp2", "j2k", "raw", "cr2", "nef", "arw",
];

/// No image extension, and the first bytes are no image format Veil knows
/// (read or named): a text file, a document, an archive. An unreadable file
/// is not "plainly" anything: it is taken, and its failure reported.
pub(super) fn plainly_not_a_picture(path: &Path) -> bool {
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
