//! The workspace folder: policy, item files, outputs, ledger paths, and
//! durable atomic writes.

use crate::item::Item;
use crate::policy::{DEFAULT_POLICY_TOML, Policy};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Default workspace folder, relative to the current directory.
pub(crate) const DEFAULT_WORKSPACE: &str = "veil-work";

/// The workspace a command means when none is named, found as git finds
/// its repository: the nearest of `start` and its ancestors that is a
/// workspace (its `veil.toml` and `items/`), or that holds one as
/// [`DEFAULT_WORKSPACE`]. `None` when there is none up to the root.
pub(crate) fn discover(start: &Path) -> Option<PathBuf> {
    let is_workspace = |d: &Path| d.join("veil.toml").is_file() && d.join("items").is_dir();
    start.ancestors().find_map(|d| {
        if is_workspace(d) {
            Some(d.to_path_buf())
        } else {
            let inner = d.join(DEFAULT_WORKSPACE);
            is_workspace(&inner).then_some(inner)
        }
    })
}

/// Problems opening or writing a workspace. Each names the path involved.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("{path}: no Veil workspace here (run `veil init` first, or pass --workspace)")]
    Missing { path: PathBuf },
    #[error("{path}: {problem}")]
    Policy { path: PathBuf, problem: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: corrupt item file: {problem}")]
    CorruptItem { path: PathBuf, problem: String },
    #[error("no item matches '{0}' (see `veil list`)")]
    NoSuchItem(String),
    #[error("'{0}' is too short: an item id prefix needs at least 4 characters (see `veil list`)")]
    ShortPrefix(String),
    #[error("'{prefix}' matches several items: {candidates}")]
    Ambiguous { prefix: String, candidates: String },
    #[error("item {id} is held by {holder}; try again once it has finished with the item")]
    Busy { id: String, holder: String },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> WorkspaceError + '_ {
    move |source| WorkspaceError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An open workspace.
#[derive(Debug, Clone)]
pub struct Workspace {
    root: PathBuf,
    pub policy: Policy,
}

impl Workspace {
    /// Create the workspace (mode 0700) with a commented `veil.toml`.
    /// An existing workspace is opened and its policy left as it is.
    pub fn init(root: &Path) -> Result<(Workspace, bool), WorkspaceError> {
        let policy_path = root.join("veil.toml");
        let created = !policy_path.exists();
        create_private_dir(root)?;
        for sub in ["items", "out", "cache"] {
            create_private_dir(&root.join(sub))?;
        }
        if created {
            write_atomic(&policy_path, DEFAULT_POLICY_TOML.as_bytes())
                .map_err(io_err(&policy_path))?;
        }
        Ok((Workspace::open(root)?, created))
    }

    /// Open an existing workspace and parse its policy.
    pub fn open(root: &Path) -> Result<Workspace, WorkspaceError> {
        let policy_path = root.join("veil.toml");
        let text = match fs::read_to_string(&policy_path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(WorkspaceError::Missing {
                    path: root.to_path_buf(),
                });
            }
            Err(e) => return Err(io_err(&policy_path)(e)),
        };
        let policy = Policy::from_toml(&text).map_err(|e| WorkspaceError::Policy {
            path: policy_path.clone(),
            problem: e.to_string(),
        })?;
        for sub in ["items", "out", "cache"] {
            create_private_dir(&root.join(sub))?;
        }
        for sub in ["items", "out"] {
            remove_stale_temp_files(&root.join(sub));
        }
        Ok(Workspace {
            root: root.to_path_buf(),
            policy,
        })
    }

    /// A workspace with a given policy, for tests and embedding.
    pub fn with_policy(root: &Path, policy: Policy) -> Result<Workspace, WorkspaceError> {
        for sub in ["", "items", "out", "cache"] {
            create_private_dir(&root.join(sub))?;
        }
        Ok(Workspace {
            root: root.to_path_buf(),
            policy,
        })
    }

    /// The secret salt of this workspace's DICOM UIDs and date shifts (32
    /// random bytes in `dicom-salt`, mode 0600), made on first use. It
    /// never leaves the workspace: outputs, ledger and certificates carry
    /// only values derived from it. Two processes making it at once agree
    /// (the file is created only if absent).
    pub(crate) fn dicom_salt(&self) -> Result<Vec<u8>, WorkspaceError> {
        let path = self.root.join("dicom-salt");
        let read = |path: &Path| -> Result<Vec<u8>, WorkspaceError> {
            let text = fs::read_to_string(path).map_err(io_err(path))?;
            match hex::decode(text.trim()) {
                Ok(b) if b.len() == 32 => Ok(b),
                _ => Err(io_err(path)(io::Error::other(
                    "not 64 hex digits: restore it from a backup (a new salt would give re-released DICOM new UIDs)",
                ))),
            }
        };
        if path.exists() {
            return read(&path);
        }
        let mut salt = [0u8; 32];
        getrandom::getrandom(&mut salt).map_err(|e| {
            io_err(&path)(io::Error::other(format!(
                "the system has no secure random source to make the salt: {e}"
            )))
        })?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".veil-tmp-salt-")
            .tempfile_in(&self.root)
            .map_err(io_err(&self.root))?;
        tmp.write_all(hex::encode(salt).as_bytes())
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(io_err(&path))?;
        match tmp.persist_noclobber(&path) {
            Ok(_) => {
                sync_dir(&self.root).map_err(io_err(&self.root))?;
                Ok(salt.to_vec())
            }
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => read(&path),
            Err(e) => Err(io_err(&path)(e.error)),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn policy_path(&self) -> PathBuf {
        self.root.join("veil.toml")
    }
    pub fn items_dir(&self) -> PathBuf {
        self.root.join("items")
    }
    pub fn out_dir(&self) -> PathBuf {
        self.root.join("out")
    }
    pub fn cache_dir(&self) -> PathBuf {
        self.root.join("cache")
    }
    /// Withdrawn outputs and their certificates, kept for the record.
    pub fn withdrawn_dir(&self) -> PathBuf {
        self.root.join("withdrawn")
    }
    pub fn ledger_path(&self) -> PathBuf {
        self.root.join("ledger.jsonl")
    }
    pub fn allowed_signers_path(&self) -> PathBuf {
        self.root.join("allowed_signers")
    }
    pub fn item_path(&self, id: &str) -> PathBuf {
        self.items_dir().join(format!("{id}.json"))
    }

    /// Path of an item's advisory lock file.
    pub fn item_lock_path(&self, id: &str) -> PathBuf {
        self.items_dir().join(format!("{id}.lock"))
    }

    /// Take the advisory lock on item `id` without waiting: refused with
    /// [`WorkspaceError::Busy`] (naming who holds it) while another session
    /// has the item open. Released when the [`ItemLock`] is dropped, and by
    /// the OS when the holding process dies. Not re-entrant: a second call
    /// for the same item in one process is refused too, so code that
    /// already holds the lock passes it on (see `release::approve_held`).
    pub fn lock_item(&self, id: &str) -> Result<ItemLock, WorkspaceError> {
        if id.is_empty() || id.starts_with('.') || id.contains(['/', '\\', '\0']) {
            return Err(WorkspaceError::NoSuchItem(id.to_string()));
        }
        let path = self.item_lock_path(id);
        // The holder removes the file as it lets go (see `Drop`), so the
        // file opened here may have been removed, or replaced by another
        // session's, before the lock was taken: then it locks nothing, and
        // we open again. A file left by a process that died holds no OS
        // lock and is simply taken over.
        for _ in 0..LOCK_ATTEMPTS {
            let file = open_lock_file(&path)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(WorkspaceError::Busy {
                        id: id.to_string(),
                        holder: read_holder(&path),
                    });
                }
                Err(fs::TryLockError::Error(e)) => return Err(io_err(&path)(e)),
            }
            if !same_file(&file, &path) {
                continue;
            }
            // Best effort: the lock is what counts, the text only names the holder.
            let mut f = &file;
            let _ = f
                .set_len(0)
                .and_then(|()| f.write_all(lock_holder().as_bytes()));
            return Ok(ItemLock {
                file,
                path,
                id: id.to_string(),
            });
        }
        Err(WorkspaceError::Busy {
            id: id.to_string(),
            holder: read_holder(&path),
        })
    }

    /// Read one item by its full id.
    pub fn load_item(&self, id: &str) -> Result<Item, WorkspaceError> {
        let path = self.item_path(id);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(WorkspaceError::NoSuchItem(id.to_string()));
            }
            Err(e) => return Err(io_err(&path)(e)),
        };
        let item: Item =
            serde_json::from_slice(&bytes).map_err(|e| WorkspaceError::CorruptItem {
                path: path.clone(),
                problem: e.to_string(),
            })?;
        if item.id != id {
            return Err(WorkspaceError::CorruptItem {
                path,
                problem: format!("its id is '{}', not the file name's '{id}'", item.id),
            });
        }
        // A mask that hides nothing must never count as redaction done.
        if let Some(problem) = item.empty_mask() {
            return Err(WorkspaceError::CorruptItem {
                path,
                problem: format!(
                    "{problem}; give it a size or delete it from the item file (or re-ingest)"
                ),
            });
        }
        Ok(item)
    }

    /// Write one item atomically.
    pub fn save_item(&self, item: &Item) -> Result<(), WorkspaceError> {
        let path = self.item_path(&item.id);
        let mut json =
            serde_json::to_vec_pretty(item).map_err(|e| WorkspaceError::CorruptItem {
                path: path.clone(),
                problem: e.to_string(),
            })?;
        json.push(b'\n');
        write_atomic(&path, &json).map_err(io_err(&path))
    }

    /// Ids of every item file, sorted.
    pub fn item_ids(&self) -> Result<Vec<String>, WorkspaceError> {
        let dir = self.items_dir();
        let mut ids = Vec::new();
        for entry in fs::read_dir(&dir).map_err(io_err(&dir))? {
            let entry = entry.map_err(io_err(&dir))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(id) = name.strip_suffix(".json")
                && !id.starts_with('.')
            {
                ids.push(id.to_string());
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// Every readable item in queue order (ingest run, then source path), and the
    /// problems with the ones that could not be read.
    pub fn items(&self) -> Result<(Vec<Item>, Vec<WorkspaceError>), WorkspaceError> {
        let mut items = Vec::new();
        let mut problems = Vec::new();
        for id in self.item_ids()? {
            match self.load_item(&id) {
                Ok(i) => items.push(i),
                Err(e) => problems.push(e),
            }
        }
        items.sort_by(|a, b| {
            (&a.ingested_at, &a.source, &a.id).cmp(&(&b.ingested_at, &b.source, &b.id))
        });
        Ok((items, problems))
    }

    /// Full id from a unique prefix (at least 4 hex digits).
    pub(crate) fn resolve_id(&self, prefix: &str) -> Result<String, WorkspaceError> {
        if prefix.chars().count() < 4 {
            return Err(WorkspaceError::ShortPrefix(prefix.to_string()));
        }
        let matches: Vec<String> = self
            .item_ids()?
            .into_iter()
            .filter(|id| id.starts_with(prefix))
            .collect();
        match matches.len() {
            0 => Err(WorkspaceError::NoSuchItem(prefix.to_string())),
            1 => Ok(matches.into_iter().next().unwrap_or_default()),
            _ => Err(WorkspaceError::Ambiguous {
                prefix: prefix.to_string(),
                candidates: matches.join(", "),
            }),
        }
    }
}

/// An item held open for editing or a decision; see [`Workspace::lock_item`].
#[derive(Debug)]
pub struct ItemLock {
    // Never read: holding the open file is what holds the lock.
    #[allow(dead_code)]
    file: fs::File,
    path: PathBuf,
    id: String,
}

impl Drop for ItemLock {
    /// Remove the lock file while still holding the lock, so items/ keeps
    /// no file per item ever opened; a session that opened it meanwhile
    /// sees it gone once it locks, and opens again (see `lock_item`).
    fn drop(&mut self) {
        if same_file(&self.file, &self.path) {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Times `lock_item` opens again when the file it locked was replaced.
const LOCK_ATTEMPTS: usize = 16;

/// Whether `path` still names the open `file`.
fn same_file(file: &fs::File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), fs::symlink_metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        true
    }
}

/// Who holds a lock, from its file. The holder writes its name just after
/// locking: give it a moment before saying it has not (up to a second: on
/// a loaded 2-core box eight approvals at once left a holder unscheduled
/// for more than the 100 ms this waited before).
fn read_holder(path: &Path) -> String {
    for _ in 0..200 {
        let holder = fs::read_to_string(path)
            .map(|t| crate::text::printable(t.trim(), 200))
            .unwrap_or_default();
        if !holder.is_empty() {
            return holder;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    "another Veil process (it has not written its name)".to_string()
}

impl ItemLock {
    /// The full id of the locked item.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Open (creating) a lock file, never through a symlink. Read-write when
/// allowed, so the holder can be named; read-only is enough to lock.
fn open_lock_file(path: &Path) -> Result<fs::File, WorkspaceError> {
    let open = |write: bool| {
        let mut opts = fs::OpenOptions::new();
        opts.read(true);
        if write {
            opts.write(true).create(true);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // 0660 before the umask: reviewers sharing a group can all lock.
            opts.mode(0o660).custom_flags(libc::O_NOFOLLOW);
        }
        opts.open(path)
    };
    let file = match open(true) {
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => open(false),
        other => other,
    }
    .map_err(|e| {
        if e.raw_os_error() == Some(libc::ELOOP) {
            io_err(path)(io::Error::other(
                "is a symbolic link; Veil never opens one (remove it)",
            ))
        } else {
            io_err(path)(e)
        }
    })?;
    let meta = file.metadata().map_err(io_err(path))?;
    if !meta.is_file() {
        return Err(io_err(path)(io::Error::other(
            "is not a regular file (remove it)",
        )));
    }
    Ok(file)
}

/// This process's account name from the password database (as `id -un`
/// says it), when the environment names no user; else `uid N`.
fn account_name() -> String {
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    // SAFETY: an all-zero passwd is a valid out-parameter for getpwuid_r.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 4096];
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call and `buf.len()` is the
    // buffer's true length; the strings it fills point into `buf`.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut found) };
    if rc == 0 && !found.is_null() && !pwd.pw_name.is_null() {
        // SAFETY: getpwuid_r succeeded: pw_name is a NUL-terminated string in `buf`.
        let name = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) };
        return name.to_string_lossy().into_owned();
    }
    format!("uid {uid}")
}

/// "user (pid N on host)": who holds a lock, for the refusal message.
fn lock_holder() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| account_name());
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length; gethostname writes
    // at most that many bytes.
    let host = if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0 {
        let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        "this host".to_string()
    };
    // What the holder is doing: the first command word on its command line.
    let doing = std::env::args()
        .skip(1)
        .find(|a| ["review", "approve", "reject", "withdraw", "demo"].contains(&a.as_str()))
        .map(|c| format!(", running `veil {c}`"))
        .unwrap_or_default();
    format!("{user} (pid {} on {host}{doing})\n", std::process::id())
}

/// Temp files older than this were left by a process that died mid-write.
const STALE_TEMP_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

/// A process killed mid-write leaves `.veil-tmp-*` behind (never counted as
/// an item or output, but they may hold a whole item file with its
/// metadata values). Remove those whose writer (the pid in the name) is
/// gone, and any old enough that no live writer owns them.
fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let is_temp = e
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(".veil-tmp-"));
        let name = e.file_name();
        let writer_gone = name
            .to_str()
            .and_then(|n| n.strip_prefix(".veil-tmp-"))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<i32>().ok())
            .is_some_and(|pid| pid > 0 && !process_alive(pid));
        let meta = e.metadata().ok().filter(std::fs::Metadata::is_file);
        let stale = meta.is_some()
            && (writer_gone
                || meta
                    .and_then(|m| m.modified().ok())
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age > STALE_TEMP_AGE));
        if is_temp && stale {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Whether process `pid` exists on this host (a workspace is local).
fn process_alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks that the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Create a folder (and parents) with mode 0700 when new.
pub(crate) fn create_private_dir(path: &Path) -> Result<(), WorkspaceError> {
    private_dir(path).map_err(io_err(path))
}

/// [`create_private_dir`] for callers with errors of their own.
pub(crate) fn private_dir(path: &Path) -> io::Result<()> {
    if path.as_os_str().is_empty() || path.is_dir() {
        return Ok(());
    }
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(path)
}

/// Write `bytes` to `path` so that readers see the old file or the new one,
/// never a mix: temp file in the same folder, fsync, rename, fsync folder.
/// A symlink at `path` is replaced, never followed.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_mode(path, bytes, 0o600)
}

/// [`write_atomic`] with an explicit file mode (outputs are 0640).
pub(crate) fn write_atomic_mode(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        // The writer's pid in the name: a temp file whose writer is gone is
        // removed on the next open, not an hour later.
        .prefix(&format!(".veil-tmp-{}-", std::process::id()))
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// fsync a folder so a rename in it survives a crash.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dicom_salt_is_made_once_private_and_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ws = Workspace::with_policy(dir.path(), Policy::default()).expect("ws");
        let a = ws.dicom_salt().expect("made");
        assert_eq!(a.len(), 32);
        assert_eq!(ws.dicom_salt().expect("read"), a);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join("dicom-salt"))
                .expect("file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        fs::write(dir.path().join("dicom-salt"), "short").expect("write");
        let e = ws.dicom_salt().unwrap_err().to_string();
        assert!(
            e.contains("dicom-salt") && e.contains("64 hex digits"),
            "{e}"
        );
    }

    #[test]
    fn init_writes_the_default_policy_and_is_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        let (ws, created) = Workspace::init(&root).unwrap();
        assert!(created);
        assert_eq!(ws.policy, Policy::default());
        let (_, created_again) = Workspace::init(&root).unwrap();
        assert!(!created_again);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&root).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700);
        }
    }

    #[test]
    fn a_zero_size_mask_is_refused_in_the_item_file() {
        use crate::item::{MaskKind, MaskOrigin, Rect};
        let dir = tempfile::tempdir().unwrap();
        let (ws, _) = Workspace::init(&dir.path().join("ws")).unwrap();
        let mut item = crate::tui::testing::item("00000000000000aa", 100, 80);
        item.masks.clear();
        item.add_mask(
            MaskKind::Face,
            Rect::new(10, 10, 20, 20),
            MaskOrigin::Manual,
        );
        ws.save_item(&item).unwrap();
        assert!(ws.load_item(&item.id).is_ok());
        for (rect, words) in [
            (Rect::new(10, 10, 0, 20), "is 0x20 pixels and hides nothing"),
            (Rect::new(10, 10, 20, 0), "is 20x0 pixels and hides nothing"),
            (
                Rect::new(500, 10, 20, 20),
                "wholly outside the 100x80 image",
            ),
        ] {
            item.masks[0].rect = rect;
            ws.save_item(&item).unwrap();
            let err = ws.load_item(&item.id).unwrap_err().to_string();
            assert!(err.contains(words), "{err}");
            assert!(err.contains("00000000000000aa.json"), "{err}");
        }
    }

    #[test]
    fn the_account_name_is_what_the_password_database_says() {
        let expected = std::process::Command::new("id").arg("-un").output();
        if let Ok(out) = expected
            && out.status.success()
        {
            let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
            assert_eq!(account_name(), name);
        }
    }

    #[test]
    fn a_workspace_is_found_from_inside_it_or_beside_it_as_git_finds_its_repo() {
        let dir = tempfile::tempdir().expect("temp dir");
        let top = dir.path();
        assert_eq!(discover(&top.join("nowhere")), None);
        let (ws, _) = Workspace::init(&top.join(DEFAULT_WORKSPACE)).expect("init");
        let deep = ws.root().join("items");
        assert_eq!(discover(&deep).as_deref(), Some(ws.root()));
        assert_eq!(discover(top).as_deref(), Some(ws.root()));
        // A folder below the one that holds the workspace finds it too.
        let photos = top.join("photos/2026");
        fs::create_dir_all(&photos).expect("mkdir");
        assert_eq!(discover(&photos).as_deref(), Some(ws.root()));
        // The nearest wins: a demo workspace inside is found from within.
        let (demo, _) = Workspace::init(&top.join("veil-demo")).expect("init");
        assert_eq!(discover(demo.root()).as_deref(), Some(demo.root()));
        // A stray veil.toml without items/ is not a workspace.
        let other = top.join("other");
        fs::create_dir_all(&other).expect("mkdir");
        fs::write(other.join("veil.toml"), "").expect("write");
        assert_eq!(discover(&other).as_deref(), Some(ws.root()));
    }

    #[test]
    fn opening_a_missing_workspace_says_how_to_make_one() {
        let dir = tempfile::tempdir().unwrap();
        let err = Workspace::open(&dir.path().join("nope")).unwrap_err();
        assert!(err.to_string().contains("veil init"), "{err}");
    }

    #[test]
    fn a_malformed_policy_names_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("veil.toml"), "[output]\nformat = 3\n").unwrap();
        let err = Workspace::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("veil.toml") && err.contains("line 2"), "{err}");
    }

    #[test]
    fn stale_temp_files_from_a_killed_writer_are_removed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        Workspace::init(dir.path()).unwrap();
        let old = dir.path().join("items/.veil-tmp-old");
        let fresh = dir.path().join("items/.veil-tmp-fresh");
        fs::write(&old, b"{}").unwrap();
        fs::write(&fresh, b"{}").unwrap();
        let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
        fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
        Workspace::open(dir.path()).unwrap();
        assert!(!old.exists(), "stale temp file left behind");
        assert!(fresh.exists(), "a live writer's temp file was removed");
    }

    #[test]
    fn a_veil_tmp_file_left_in_out_by_a_killed_writer_is_cleaned_on_the_next_open() {
        let dir = tempfile::tempdir().unwrap();
        Workspace::init(dir.path()).unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let left = dir.path().join(format!("out/.veil-tmp-{dead}-AbC123"));
        let live = dir
            .path()
            .join(format!("out/.veil-tmp-{}-XyZ789", std::process::id()));
        fs::write(&left, b"half an output").unwrap();
        fs::write(&live, b"being written").unwrap();
        Workspace::open(dir.path()).unwrap();
        assert!(!left.exists(), "a dead writer's temp file stayed in out/");
        assert!(live.exists(), "a live writer's temp file was removed");
        // What write_atomic leaves while writing carries its pid.
        let path = dir.path().join("out/x.txt");
        write_atomic(&path, b"x").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"x");
    }

    #[test]
    fn atomic_write_replaces_a_symlink_instead_of_following_it() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        fs::write(&target, b"keep").unwrap();
        let link = dir.path().join("link");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"keep");
        assert_eq!(fs::read(&link).unwrap(), b"new");
    }
}
