//! Reviewer identity and signing keys: an ed25519 key in OpenSSH format,
//! created by `veil reviewer init` or borrowed from `~/.ssh/id_ed25519`,
//! and the workspace's `allowed_signers` list of trusted reviewers.
//!
//! Signatures are sshsig blobs under [`NAMESPACE`], so stock
//! `ssh-keygen -Y verify` checks them without Veil.

use serde::{Deserialize, Serialize};
use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The sshsig namespace every ledger signature is made under.
pub const NAMESPACE: &str = "veil-ledger@v1";

/// Environment variable naming the private key file to sign with.
pub const KEY_ENV: &str = "VEIL_REVIEWER_KEY";
/// Environment variable giving the reviewer's name (with [`KEY_ENV`]).
pub const NAME_ENV: &str = "VEIL_REVIEWER_NAME";
/// Environment variable naming the administrator's private key file.
pub const ADMIN_KEY_ENV: &str = "VEIL_ADMIN_KEY";
/// The principal of the administrator's line in an exported `allowed_signers`.
pub const ADMIN_PRINCIPAL: &str = "veil-administrator";

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
pub fn config_dir() -> Result<PathBuf, KeyError> {
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
    pub fn from_key_file(name: &str, path: &Path) -> Result<Reviewer, KeyError> {
        Ok(Reviewer {
            name: check_name(name)?,
            key: read_private_key(path)?,
            key_path: path.to_path_buf(),
        })
    }

    /// The administrator's key (`$VEIL_ADMIN_KEY` or `<config>/admin_ed25519`),
    /// created with mode 0600 when absent; `name` is how entries it signs
    /// name it. Returns whether the key was created.
    pub fn admin_init(name: &str) -> Result<(Reviewer, bool), KeyError> {
        let path = admin_key_path()?;
        let created = !path.exists();
        if created {
            create_key(&path)?;
        }
        Ok((Reviewer::from_key_file(name, &path)?, created))
    }

    /// The administrator's existing key, named `name` (the ledger records the name).
    pub fn admin_load(name: &str) -> Result<Reviewer, KeyError> {
        Reviewer::from_key_file(name, &admin_key_path()?)
    }

    /// Write `<key file>.pub` beside the private key, if it is not there, so
    /// the reviewer can hand the public half to the administrator.
    pub fn write_public_beside(&self) -> Result<Option<PathBuf>, KeyError> {
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
    pub fn enrol_command(&self) -> String {
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
pub fn fingerprint_of(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// The armored form `ssh-keygen -Y verify -s` reads, from one line of base64.
pub fn armor_signature(b64: &str) -> String {
    let mut out = String::from("-----BEGIN SSH SIGNATURE-----\n");
    let chars: Vec<char> = b64.chars().collect();
    for chunk in chars.chunks(PEM_WIDTH) {
        out.extend(chunk);
        out.push('\n');
    }
    out.push_str("-----END SSH SIGNATURE-----\n");
    out
}

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature is not a valid sshsig blob")]
    Malformed,
    #[error("the signature was made by another key than the entry names")]
    WrongKey,
    #[error("the signature is for namespace '{0}', not '{NAMESPACE}'")]
    Namespace(String),
    #[error("the signature does not match the entry's bytes")]
    Mismatch,
}

/// Check a one-line base64 sshsig (as [`Reviewer::sign`] makes) over `msg`.
pub fn verify_signature(key: &PublicKey, msg: &[u8], b64: &str) -> Result<(), SignatureError> {
    if b64.is_empty()
        || !b64
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
    {
        return Err(SignatureError::Malformed);
    }
    let sig = SshSig::from_pem(armor_signature(b64)).map_err(|_| SignatureError::Malformed)?;
    if sig.public_key() != key.key_data() {
        return Err(SignatureError::WrongKey);
    }
    if sig.namespace() != NAMESPACE {
        return Err(SignatureError::Namespace(sig.namespace().to_string()));
    }
    key.verify(NAMESPACE, msg, &sig)
        .map_err(|_| SignatureError::Mismatch)
}

/// `Dr A. Reviewer` → `dr-a-reviewer@veil`: letters and digits kept, runs
/// of anything else become one `-`.
pub fn principal_for(name: &str) -> String {
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

/// One trusted key from `allowed_signers`.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    pub principals: Vec<String>,
    pub key: PublicKey,
    /// 1-based line in the file.
    pub line: usize,
    /// `valid-after=` / `valid-before=`, as `ssh-keygen -Y verify` honours them.
    pub validity: Validity,
}

/// When a key may sign: both ends inclusive, as OpenSSH's sshsig checks them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Validity {
    pub after: Option<jiff::Timestamp>,
    pub before: Option<jiff::Timestamp>,
}

impl Validity {
    /// Why a signature made at `t` is outside this window, if it is.
    pub fn check(&self, t: jiff::Timestamp) -> Result<(), String> {
        if let Some(a) = self.after
            && t < a
        {
            return Err(format!("the key is not valid until {a}"));
        }
        if let Some(b) = self.before
            && t > b
        {
            return Err(format!("the key expired at {b}"));
        }
        Ok(())
    }
}

/// An `allowed_signers` time, as OpenSSH reads it: `YYYYMMDD[HHMM[SS]]`, in
/// UTC with a trailing `Z` and in the system's local time zone without.
/// `before` is an end of window: a date alone then means the end of that day
/// is not included (OpenSSH takes the date at 00:00).
pub fn parse_ssh_time(s: &str) -> Result<jiff::Timestamp, String> {
    let (digits, utc) = match s.strip_suffix(['Z', 'z']) {
        Some(d) => (d, true),
        None => (s, false),
    };
    let bad = || format!("'{s}' is not a time OpenSSH reads (YYYYMMDD[HHMM[SS]][Z])");
    if !digits.bytes().all(|b| b.is_ascii_digit()) || ![8, 12, 14].contains(&digits.len()) {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| digits.get(r).and_then(|d| d.parse::<i32>().ok());
    let year = num(0..4).ok_or_else(bad)?;
    let month = num(4..6).ok_or_else(bad)?;
    let day = num(6..8).ok_or_else(bad)?;
    let hour = num(8..10).unwrap_or(0);
    let minute = num(10..12).unwrap_or(0);
    let second = num(12..14).unwrap_or(0);
    let as_i8 = |v: i32| i8::try_from(v).map_err(|_| bad());
    let civil = jiff::civil::DateTime::new(
        i16::try_from(year).map_err(|_| bad())?,
        as_i8(month)?,
        as_i8(day)?,
        as_i8(hour)?,
        as_i8(minute)?,
        as_i8(second)?,
        0,
    )
    .map_err(|_| bad())?;
    let tz = if utc {
        jiff::tz::TimeZone::UTC
    } else {
        jiff::tz::TimeZone::system()
    };
    civil.to_zoned(tz).map(|z| z.timestamp()).map_err(|_| bad())
}

/// An `allowed_signers` time for a timestamp: `YYYYMMDDHHMMSSZ`.
pub fn format_ssh_time(t: jiff::Timestamp) -> String {
    t.strftime("%Y%m%d%H%M%SZ").to_string()
}

/// The reviewers a workspace trusts, parsed from OpenSSH `allowed_signers`
/// text. Only keys whose `namespaces=` (if any) include [`NAMESPACE`] are
/// trusted for the ledger; `cert-authority` lines are not supported and
/// are listed in `ignored`.
#[derive(Debug, Clone, Default)]
pub struct AllowedSigners {
    pub keys: Vec<TrustedKey>,
    /// Lines not used, with the reason: `(line, reason)`.
    pub ignored: Vec<(usize, String)>,
}

impl AllowedSigners {
    /// Parse `allowed_signers` text. Never fails: unusable lines are ignored
    /// with a reason, so `verify` can report them.
    pub fn parse(text: &str) -> AllowedSigners {
        let mut out = AllowedSigners::default();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match parse_signer_line(line) {
                Ok(Some((principals, key, validity))) => out.keys.push(TrustedKey {
                    principals,
                    key,
                    line: i + 1,
                    validity,
                }),
                Ok(None) => {}
                Err(reason) => out.ignored.push((i + 1, reason)),
            }
        }
        out
    }

    /// The trusted entry for `key`, if any.
    pub fn find(&self, key: &PublicKey) -> Option<&TrustedKey> {
        self.keys
            .iter()
            .find(|t| t.key.key_data() == key.key_data())
    }

    pub fn contains(&self, key: &PublicKey) -> bool {
        self.find(key).is_some()
    }
}

/// `Ok(None)` for a line trusted for other namespaces only.
type SignerLine = (Vec<String>, PublicKey, Validity);

fn parse_signer_line(line: &str) -> Result<Option<SignerLine>, String> {
    let tokens = tokenize(line);
    let Some(key_at) = tokens.iter().position(|t| is_key_type(t)) else {
        return Err("no key type (ssh-ed25519, ...) on the line".into());
    };
    if key_at == 0 {
        return Err("no principal before the key".into());
    }
    let principals: Vec<String> = tokens[0]
        .trim_matches('"')
        .split(',')
        .map(str::to_string)
        .collect();
    let mut ns_ok = true;
    let mut validity = Validity::default();
    for opt in tokens[1..key_at].iter().flat_map(|t| split_options(t)) {
        let lower = opt.to_ascii_lowercase();
        if lower == "cert-authority" {
            return Err("cert-authority lines are not supported".into());
        }
        if let Some(v) = lower.strip_prefix("namespaces=") {
            let v = v.trim_matches('"');
            ns_ok = v.split(',').any(|p| pattern_matches(p.trim(), NAMESPACE));
        } else if let Some(v) = lower.strip_prefix("valid-after=") {
            validity.after = Some(parse_ssh_time(v.trim_matches('"'))?);
        } else if let Some(v) = lower.strip_prefix("valid-before=") {
            validity.before = Some(parse_ssh_time(v.trim_matches('"'))?);
        } else if !lower.is_empty() {
            // OpenSSH refuses a line with an option it does not know: so do we.
            return Err(format!(
                "option '{}' is not one OpenSSH's allowed_signers knows",
                crate::text::printable(&opt, 40)
            ));
        }
    }
    let Some(b64) = tokens.get(key_at + 1) else {
        return Err("no key after the key type".into());
    };
    let key = PublicKey::from_openssh(&format!("{} {}", tokens[key_at], b64))
        .map_err(|e| format!("unreadable key: {e}"))?;
    Ok(ns_ok.then_some((principals, key, validity)))
}

fn is_key_type(t: &str) -> bool {
    t.starts_with("ssh-") || t.starts_with("ecdsa-") || t.starts_with("sk-")
}

/// Split on spaces outside double quotes.
fn tokenize(line: &str) -> Vec<String> {
    split_outside_quotes(line, char::is_whitespace)
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect()
}

/// Split an options token on commas outside quotes.
fn split_options(t: &str) -> Vec<String> {
    split_outside_quotes(t, |c| c == ',')
}

/// Split `s` at the characters `sep` accepts outside double quotes (the
/// quotes are kept in the pieces), keeping empty pieces.
fn split_outside_quotes(s: &str, sep: impl Fn(char) -> bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        if c == '"' {
            quoted = !quoted;
        } else if !quoted && sep(c) {
            out.push(std::mem::take(&mut cur));
            continue;
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

/// OpenSSH-style pattern with `*` and `?`.
fn pattern_matches(pattern: &str, s: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], s) || (!s.is_empty() && go(p, &s[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &s[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), s.as_bytes())
}

fn check_name(name: &str) -> Result<String, KeyError> {
    let n = name.trim();
    if n.is_empty() || n.chars().any(char::is_control) || n.chars().count() > 200 {
        return Err(KeyError::BadName);
    }
    Ok(n.to_string())
}

/// `$VEIL_ADMIN_KEY`, else `<config>/admin_ed25519`.
pub fn admin_key_path() -> Result<PathBuf, KeyError> {
    match std::env::var_os(ADMIN_KEY_ENV).filter(|v| !v.is_empty()) {
        Some(p) => Ok(PathBuf::from(p)),
        None => Ok(config_dir()?.join(ADMIN_KEY_FILE)),
    }
}

/// Parse a public key given as `ssh-ed25519 AAAA... [comment]`.
pub fn parse_public(text: &str) -> Result<PublicKey, String> {
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
mod tests {
    use super::*;

    #[test]
    fn a_principal_is_derived_from_the_name_without_spaces() {
        assert_eq!(principal_for("Dr A. Reviewer"), "dr-a-reviewer@veil");
        assert_eq!(principal_for("  Élise  O'Neil "), "lise-o-neil@veil");
        assert_eq!(principal_for("!!!"), "reviewer@veil");
    }

    #[test]
    fn a_signature_verifies_only_over_the_same_bytes_and_key() {
        let a = Reviewer::generate("A").unwrap();
        let b = Reviewer::generate("B").unwrap();
        let sig = a.sign(b"entry").unwrap();
        assert!(!sig.contains('\n'));
        assert_eq!(verify_signature(a.public_key(), b"entry", &sig), Ok(()));
        assert_eq!(
            verify_signature(a.public_key(), b"entrx", &sig),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature(b.public_key(), b"entry", &sig),
            Err(SignatureError::WrongKey)
        );
        assert_eq!(
            verify_signature(a.public_key(), b"entry", "not base64!"),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn allowed_signers_trusts_keys_for_the_ledger_namespace_only() {
        let a = Reviewer::generate("A").unwrap();
        let b = Reviewer::generate("B").unwrap();
        let c = Reviewer::generate("C").unwrap();
        let text = format!(
            "# comment\n{}\nb@x namespaces=\"git\" {}\nc@x,other@x namespaces=\"veil-*\" {} trailing comment\nd@x cert-authority {}\n",
            a.allowed_signers_line(),
            b.public_openssh(),
            c.public_openssh(),
            c.public_openssh()
        );
        let s = AllowedSigners::parse(&text);
        assert!(s.contains(a.public_key()));
        assert!(!s.contains(b.public_key()), "trusted for git only");
        let tc = s.find(c.public_key()).unwrap();
        assert_eq!(tc.principals, vec!["c@x", "other@x"]);
        assert_eq!(s.ignored.len(), 1);
        assert!(s.ignored[0].1.contains("cert-authority"));
    }
}
