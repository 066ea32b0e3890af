//! Reviewer identity and signing keys: an ed25519 key in OpenSSH format,
//! created by `veil reviewer init` or borrowed from `~/.ssh/id_ed25519`,
//! and the workspace's `allowed_signers` list of trusted reviewers.
//!
//! Signatures are sshsig blobs under [`NAMESPACE`], so stock
//! `ssh-keygen -Y verify` checks them without Veil.

mod allowed_signers;
mod signature;

pub use allowed_signers::*;
use serde::{Deserialize, Serialize};
pub use signature::*;
use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey, PublicKey};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The sshsig namespace every ledger signature is made under.
pub const NAMESPACE: &str = "veil-ledger@v1";

/// Environment variable naming the private key file to sign with.
pub(crate) const KEY_ENV: &str = "VEIL_REVIEWER_KEY";

/// Environment variable giving the reviewer's name (with [`KEY_ENV`]).
pub(crate) const NAME_ENV: &str = "VEIL_REVIEWER_NAME";

/// Environment variable naming the administrator's private key file.
pub(crate) const ADMIN_KEY_ENV: &str = "VEIL_ADMIN_KEY";

/// The principal of the administrator's line in an exported `allowed_signers`.
pub(crate) const ADMIN_PRINCIPAL: &str = "veil-administrator";

const ADMIN_KEY_FILE: &str = "admin_ed25519";

const KEY_FILE: &str = "reviewer_ed25519";

const IDENTITY_FILE: &str = "reviewer.json";

const PEM_WIDTH: usize = 70;

/// Problems with a reviewer's key or identity. Each names the file and
/// what to do.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "no reviewer identity: run `veil reviewer init --name \"Your Name\"` (or set {KEY_ENV} and {NAME_ENV})"
    )]
    NoIdentity,
    #[error("{path}: no such key file ({hint})")]
    MissingKey { path: PathBuf, hint: &'static str },
    #[error(
        "{path}: the private key is readable by group or others (mode {mode:03o}); run `chmod 600 {path}`"
    )]
    Permissions { path: PathBuf, mode: u32 },
    #[error(
        "{path}: the key is passphrase-protected; Veil cannot prompt for it. Run `veil reviewer init --name ...` without --ssh-key to create a dedicated key"
    )]
    Encrypted { path: PathBuf },
    #[error(
        "{path}: this is a {algorithm} key; Veil signs with ed25519 only (`ssh-keygen -t ed25519`)"
    )]
    NotEd25519 { path: PathBuf, algorithm: String },
    #[error("{path}: not an OpenSSH private key: {problem}")]
    Malformed { path: PathBuf, problem: String },
    #[error(
        "{key}: {NAME_ENV} is not set and {identity} records another key; set {NAME_ENV} to the reviewer's name"
    )]
    NoName { key: PathBuf, identity: PathBuf },
    #[error("the reviewer name must not be empty or contain control characters")]
    BadName,
    #[error("no configuration folder: set XDG_CONFIG_HOME or HOME")]
    NoConfigDir,
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("signing failed: {0}")]
    Sign(String),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What `reviewer.json` records beside the key.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Identity {
    name: String,
    /// Private key file, when it is not the default one.
    key: PathBuf,
    fingerprint: String,
}

/// A reviewer who can sign ledger entries.
#[derive(Clone)]
pub struct Reviewer {
    /// The name as it appears in the ledger.
    pub name: String,
    key: PrivateKey,
    /// Where the private key lives (empty for an in-memory key).
    pub key_path: PathBuf,
}

impl std::fmt::Debug for Reviewer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reviewer")
            .field("name", &self.name)
            .field("fingerprint", &self.fingerprint())
            .field("key_path", &self.key_path)
            .finish()
    }
}

/// `$XDG_CONFIG_HOME/veil`, else `$HOME/.config/veil`.
pub(crate) fn config_dir() -> Result<PathBuf, KeyError> {
    let from = |var: &str| {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    if let Some(x) = from("XDG_CONFIG_HOME") {
        return Ok(x.join("veil"));
    }
    from("HOME")
        .map(|h| h.join(".config").join("veil"))
        .ok_or(KeyError::NoConfigDir)
}

impl Reviewer {
    /// Create (or reuse) this user's key and record the name.
    ///
    /// With `ssh_key`, that existing unencrypted ed25519 key is used and
    /// never copied. Otherwise the key is `$VEIL_REVIEWER_KEY` or
    /// `<config>/reviewer_ed25519`, created with mode 0600 if absent; an
    /// existing key is reused, never overwritten.
    pub fn init(name: &str, ssh_key: Option<&Path>) -> Result<(Reviewer, bool), KeyError> {
        let name = check_name(name)?;
        let dir = config_dir()?;
        let (path, created) = match ssh_key {
            Some(p) => (p.to_path_buf(), false),
            None => {
                let path = env_key_path().unwrap_or_else(|| dir.join(KEY_FILE));
                if path.exists() {
                    (path, false)
                } else {
                    create_key(&path)?;
                    (path, true)
                }
            }
        };
        let key = read_private_key(&path)?;
        let reviewer = Reviewer {
            name: name.clone(),
            key,
            key_path: path.clone(),
        };
        create_private_dir(&dir)?;
        let identity = Identity {
            name,
            key: path,
            fingerprint: reviewer.fingerprint(),
        };
        let id_path = dir.join(IDENTITY_FILE);
        let mut json = serde_json::to_vec_pretty(&identity).map_err(|e| KeyError::Io {
            path: id_path.clone(),
            source: io::Error::other(e),
        })?;
        json.push(b'\n');
        crate::workspace::write_atomic(&id_path, &json).map_err(io_err(&id_path))?;
        Ok((reviewer, created))
    }

    /// The current reviewer: key from `$VEIL_REVIEWER_KEY` or the identity
    /// recorded by `init`; name from `$VEIL_REVIEWER_NAME` or that identity.
    pub fn load() -> Result<Reviewer, KeyError> {
        let id_path = config_dir()?.join(IDENTITY_FILE);
        let identity: Option<Identity> = match fs::read(&id_path) {
            Ok(b) => Some(serde_json::from_slice(&b).map_err(|e| KeyError::Malformed {
                path: id_path.clone(),
                problem: format!("{e} (run `veil reviewer init` again)"),
            })?),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_err(&id_path)(e)),
        };
        let path = match (env_key_path(), &identity) {
            (Some(p), _) => p,
            (None, Some(i)) => i.key.clone(),
            (None, None) => return Err(KeyError::NoIdentity),
        };
        let key = read_private_key(&path)?;
        let fingerprint = fingerprint_of(key.public_key());
        let name = match std::env::var(NAME_ENV)
            .ok()
            .filter(|n| !n.trim().is_empty())
        {
            Some(n) => check_name(&n)?,
            None => match identity {
                Some(i) if i.fingerprint == fingerprint => i.name,
                _ => {
                    return Err(KeyError::NoName {
                        key: path,
                        identity: id_path,
                    });
                }
            },
        };
        Ok(Reviewer {
            name,
            key,
            key_path: path,
        })
    }

    /// A reviewer from a key file, checked like [`Reviewer::load`] checks it.
    pub(crate) fn from_key_file(name: &str, path: &Path) -> Result<Reviewer, KeyError> {
        Ok(Reviewer {
            name: check_name(name)?,
            key: read_private_key(path)?,
            key_path: path.to_path_buf(),
        })
    }

    /// The administrator's key (`$VEIL_ADMIN_KEY` or `<config>/admin_ed25519`),
    /// created with mode 0600 when absent; `name` is how entries it signs
    /// name it. Returns whether the key was created.
    pub(crate) fn admin_init(name: &str) -> Result<(Reviewer, bool), KeyError> {
        let path = admin_key_path()?;
        let created = !path.exists();
        if created {
            create_key(&path)?;
        }
        Ok((Reviewer::from_key_file(name, &path)?, created))
    }

    /// The administrator's existing key, named `name` (the ledger records the name).
    pub(crate) fn admin_load(name: &str) -> Result<Reviewer, KeyError> {
        Reviewer::from_key_file(name, &admin_key_path()?)
    }

    /// Write `<key file>.pub` beside the private key, if it is not there, so
    /// the reviewer can hand the public half to the administrator.
    pub(crate) fn write_public_beside(&self) -> Result<Option<PathBuf>, KeyError> {
        if self.key_path.as_os_str().is_empty() {
            return Ok(None);
        }
        let mut p = self.key_path.clone().into_os_string();
        p.push(".pub");
        let path = PathBuf::from(p);
        if !path.exists() {
            let line = format!("{} {}\n", self.public_openssh(), self.principal());
            crate::workspace::write_atomic_mode(&path, line.as_bytes(), 0o644)
                .map_err(io_err(&path))?;
        }
        Ok(Some(path))
    }

    /// A fresh in-memory reviewer (tests and demos).
    pub fn generate(name: &str) -> Result<Reviewer, KeyError> {
        let key = PrivateKey::random(&mut ssh_key::rand_core::OsRng, Algorithm::Ed25519)
            .map_err(|e| KeyError::Sign(e.to_string()))?;
        Ok(Reviewer {
            name: check_name(name)?,
            key,
            key_path: PathBuf::new(),
        })
    }

    /// Save this reviewer's private key to `path` with mode 0600.
    pub fn write_key(&self, path: &Path) -> Result<(), KeyError> {
        self.key
            .write_openssh_file(path, LineEnding::LF)
            .map_err(|e| KeyError::Io {
                path: path.to_path_buf(),
                source: io::Error::other(e),
            })
    }

    /// The reviewer's public key.
    pub fn public_key(&self) -> &PublicKey {
        self.key.public_key()
    }

    /// `ssh-ed25519 AAAA...` without a comment.
    pub fn public_openssh(&self) -> String {
        public_openssh(self.key.public_key())
    }

    /// `SHA256:...`, as `ssh-keygen -l` prints it.
    pub fn fingerprint(&self) -> String {
        fingerprint_of(self.key.public_key())
    }

    /// The principal used in `allowed_signers`, derived from the name.
    pub fn principal(&self) -> String {
        principal_for(&self.name)
    }

    /// The command a workspace's administrator runs to enrol this key.
    pub(crate) fn enrol_command(&self) -> String {
        format!(
            "veil admin enrol --name \"{}\" --key \"{}\"",
            crate::text::printable(&self.name, 200),
            self.public_openssh()
        )
    }

    /// The `allowed_signers` line that trusts this reviewer for the ledger.
    pub fn allowed_signers_line(&self) -> String {
        format!(
            "{} namespaces=\"{NAMESPACE}\" {}",
            self.principal(),
            self.public_openssh()
        )
    }

    /// Sign `msg` under [`NAMESPACE`] with SHA-512; returns the sshsig blob
    /// as one line of base64 (the body of an `SSH SIGNATURE` armor).
    pub fn sign(&self, msg: &[u8]) -> Result<String, KeyError> {
        let sig = self
            .key
            .sign(NAMESPACE, HashAlg::Sha512, msg)
            .map_err(|e| KeyError::Sign(e.to_string()))?;
        let pem = sig
            .to_pem(LineEnding::LF)
            .map_err(|e| KeyError::Sign(e.to_string()))?;
        Ok(pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>())
    }
}

/// `ssh-ed25519 AAAA...` without a comment.
pub fn public_openssh(key: &PublicKey) -> String {
    let mut k = key.clone();
    k.set_comment("");
    k.to_openssh().unwrap_or_default().trim().to_string()
}

/// `SHA256:...` fingerprint of a public key.
pub(crate) fn fingerprint_of(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// `Dr A. Reviewer` → `dr-a-reviewer@veil`: letters and digits kept, runs
/// of anything else become one `-`.
pub(crate) fn principal_for(name: &str) -> String {
    let mut p = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            p.push(c.to_ascii_lowercase());
        } else if !p.ends_with('-') && !p.is_empty() {
            p.push('-');
        }
    }
    let p = p.trim_end_matches('-');
    if p.is_empty() {
        "reviewer@veil".to_string()
    } else {
        format!("{p}@veil")
    }
}

fn check_name(name: &str) -> Result<String, KeyError> {
    let n = name.trim();
    if n.is_empty() || n.chars().any(char::is_control) || n.chars().count() > 200 {
        return Err(KeyError::BadName);
    }
    Ok(n.to_string())
}

/// `$VEIL_ADMIN_KEY`, else `<config>/admin_ed25519`.
pub(crate) fn admin_key_path() -> Result<PathBuf, KeyError> {
    match std::env::var_os(ADMIN_KEY_ENV).filter(|v| !v.is_empty()) {
        Some(p) => Ok(PathBuf::from(p)),
        None => Ok(config_dir()?.join(ADMIN_KEY_FILE)),
    }
}

/// Parse a public key given as `ssh-ed25519 AAAA... [comment]`.
pub(crate) fn parse_public(text: &str) -> Result<PublicKey, String> {
    let mut words = text.split_whitespace();
    let (Some(kind), Some(b64)) = (words.next(), words.next()) else {
        return Err("expected `ssh-ed25519 AAAA...`".into());
    };
    let key = PublicKey::from_openssh(&format!("{kind} {b64}"))
        .map_err(|e| format!("not an OpenSSH public key: {e}"))?;
    if key.algorithm() != Algorithm::Ed25519 {
        return Err(format!(
            "a {} key; Veil signs with ed25519 only",
            key.algorithm()
        ));
    }
    Ok(key)
}

fn env_key_path() -> Option<PathBuf> {
    std::env::var_os(KEY_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Read an unencrypted ed25519 OpenSSH private key that only its owner can read.
fn read_private_key(path: &Path) -> Result<PrivateKey, KeyError> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(KeyError::MissingKey {
                path: path.to_path_buf(),
                hint: "run `veil reviewer init --name \"Your Name\"`, or fix the path",
            });
        }
        Err(e) => return Err(io_err(path)(e)),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Permissions {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    let mut text = fs::read(path).map_err(io_err(path))?;
    let parsed = PrivateKey::from_openssh(&text);
    // Wipe our copy of the secret; the parsed key zeroizes its own on drop.
    text.fill(0);
    std::hint::black_box(&text);
    let key = parsed.map_err(|e| KeyError::Malformed {
        path: path.to_path_buf(),
        problem: e.to_string(),
    })?;
    if key.is_encrypted() {
        return Err(KeyError::Encrypted {
            path: path.to_path_buf(),
        });
    }
    if key.algorithm() != Algorithm::Ed25519 {
        return Err(KeyError::NotEd25519 {
            path: path.to_path_buf(),
            algorithm: key.algorithm().to_string(),
        });
    }
    Ok(key)
}

/// Create a new ed25519 key at `path`, mode 0600, in a 0700 folder.
fn create_key(path: &Path) -> Result<(), KeyError> {
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    let key = PrivateKey::random(&mut ssh_key::rand_core::OsRng, Algorithm::Ed25519)
        .map_err(|e| KeyError::Sign(e.to_string()))?;
    let pem = key
        .to_openssh(LineEnding::LF)
        .map_err(|e| KeyError::Sign(e.to_string()))?;
    write_new_private(path, pem.as_bytes())
}

/// Write a file that must not exist yet, mode 0600, never through a symlink.
fn write_new_private(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    use std::io::Write;
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let mut f = opts.open(path).map_err(io_err(path))?;
    f.write_all(bytes).map_err(io_err(path))?;
    f.sync_all().map_err(io_err(path))?;
    if let Some(dir) = path.parent() {
        crate::workspace::sync_dir(dir).map_err(io_err(dir))?;
    }
    Ok(())
}

fn create_private_dir(path: &Path) -> Result<(), KeyError> {
    crate::workspace::private_dir(path).map_err(io_err(path))
}

#[cfg(test)]
mod tests;
