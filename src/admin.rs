//! The administrator's entries: the trust root, enrolments, revocations
//! and the policy in force, each appended to the ledger under its lock and
//! signed by the administrator key. After each, `allowed_signers` is
//! rewritten as an export of the enrolments (for `ssh-keygen`); Veil itself
//! never reads trust from that file for a ledger with a trust root.

use crate::keys::Reviewer;
use crate::ledger::{self, AppendReport, Entry, EntryKind, Ledger, LedgerError};
use crate::trust::{Enrolment, TrustState};
use crate::workspace::{Workspace, write_atomic_mode};
use std::io;
use std::path::PathBuf;

/// Problems with an administrator's step. Each names what to do.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(
        "{path} already has a trust root (administrator {name}, {fingerprint}, line {line}); Veil cannot replace it"
    )]
    HasRoot {
        path: PathBuf,
        name: String,
        fingerprint: String,
        line: usize,
    },
    #[error("{path} has no trust root yet: run `veil admin init --name ...` first")]
    NoRoot { path: PathBuf },
    #[error(
        "this key ({mine}) is not the workspace's administrator ({theirs}, {name}); set {} to the administrator's key",
        crate::keys::ADMIN_KEY_ENV
    )]
    NotAdministrator {
        mine: String,
        theirs: String,
        name: String,
    },
    #[error("{0}")]
    Refused(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// The ledger locked for the administrator, and trust as it records it.
struct Locked {
    ledger: Ledger,
    state: TrustState,
}

fn lock(ws: &Workspace) -> Result<Locked, AdminError> {
    let mut ledger = Ledger::open(&ws.ledger_path())?;
    let bytes = ledger.bytes()?;
    let state = ledger::trust_state(&ledger::entries(&bytes));
    Ok(Locked { ledger, state })
}

/// Check that `admin` is the root of `state`.
fn must_be_root(ws: &Workspace, state: &TrustState, admin: &Reviewer) -> Result<(), AdminError> {
    let root = state.root.as_ref().ok_or_else(|| AdminError::NoRoot {
        path: ws.ledger_path(),
    })?;
    if root.fingerprint != admin.fingerprint() {
        return Err(AdminError::NotAdministrator {
            mine: admin.fingerprint(),
            theirs: root.fingerprint.clone(),
            name: root.name.clone(),
        });
    }
    Ok(())
}

/// The `policy` entry for `veil.toml` as it is on disk now.
fn policy_draft(ws: &Workspace) -> Result<Entry, AdminError> {
    let path = ws.root().join("veil.toml");
    let text = std::fs::read_to_string(&path).map_err(|source| AdminError::Io {
        path: path.clone(),
        source,
    })?;
    let policy = crate::policy::Policy::from_toml(&text)
        .map_err(|e| AdminError::Refused(format!("{}: {e}", path.display())))?;
    let mut e = Entry::draft(EntryKind::Policy);
    e.policy_digest = Some(policy.digest());
    e.policy_text = Some(text);
    Ok(e)
}

/// Make `admin` the trust root of the workspace's ledger (creating the
/// ledger when new) and record `veil.toml` as the policy in force.
pub fn init(ws: &Workspace, admin: &Reviewer) -> Result<AppendReport, AdminError> {
    let mut l = lock(ws)?;
    if let Some(r) = &l.state.root {
        return Err(AdminError::HasRoot {
            path: ws.ledger_path(),
            name: r.name.clone(),
            fingerprint: r.fingerprint.clone(),
            line: r.line,
        });
    }
    let drafts = vec![Entry::draft(EntryKind::Admin), policy_draft(ws)?];
    let report = l.ledger.append(admin, drafts)?;
    drop(l);
    export(ws)?;
    Ok(report)
}

/// Enrol a reviewer's key; refused before anything is written if the
/// ledger's rules would not accept it (the administrator's own key, a key
/// already enrolled, an unreadable key or time).
pub fn enrol(
    ws: &Workspace,
    admin: &Reviewer,
    enrolment: Enrolment,
) -> Result<AppendReport, AdminError> {
    let mut l = lock(ws)?;
    must_be_root(ws, &l.state, admin)?;
    l.state
        .clone()
        .enrol(&enrolment, 0)
        .map_err(AdminError::Refused)?;
    let mut e = Entry::draft(EntryKind::Enrol);
    e.enrolment = Some(enrolment);
    let report = l.ledger.append(admin, vec![e])?;
    drop(l);
    export(ws)?;
    Ok(report)
}

/// Revoke the enrolment whose fingerprint or principal is `who`; every key
/// of a principal when `who` is a principal.
pub(crate) fn revoke(
    ws: &Workspace,
    admin: &Reviewer,
    who: &str,
) -> Result<AppendReport, AdminError> {
    let mut l = lock(ws)?;
    must_be_root(ws, &l.state, admin)?;
    let drafts: Vec<Entry> = l
        .state
        .enrolled
        .values()
        .filter(|e| e.fingerprint == who || e.principal == who)
        .map(|e| {
            let mut d = Entry::draft(EntryKind::Revoke);
            d.enrolment = Some(Enrolment {
                principal: e.principal.clone(),
                key: crate::keys::public_openssh(&e.key),
                name: e.name.clone(),
                valid_after: None,
                valid_before: None,
            });
            d
        })
        .collect();
    if drafts.is_empty() {
        return Err(AdminError::Refused(format!(
            "'{}' is neither the fingerprint nor the principal of an enrolled key (see `veil admin show`)",
            crate::text::printable(who, 80)
        )));
    }
    let report = l.ledger.append(admin, drafts)?;
    drop(l);
    export(ws)?;
    Ok(report)
}

/// Record `veil.toml` as it is now as the policy in force.
pub fn record_policy(ws: &Workspace, admin: &Reviewer) -> Result<AppendReport, AdminError> {
    let mut l = lock(ws)?;
    must_be_root(ws, &l.state, admin)?;
    let draft = policy_draft(ws)?;
    if l.state.policy.as_ref().map(|p| &p.digest) == draft.policy_digest.as_ref() {
        return Err(AdminError::Refused(
            "veil.toml is already the policy in force; nothing to record".into(),
        ));
    }
    let report = l.ledger.append(admin, vec![draft])?;
    drop(l);
    Ok(report)
}

/// Trust as the workspace's ledger records it now (no lock: a reading).
pub fn state(ws: &Workspace) -> Result<TrustState, AdminError> {
    let path = ws.ledger_path();
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(source) => return Err(AdminError::Io { path, source }),
    };
    Ok(ledger::trust_state(&ledger::entries(&bytes)))
}

/// Rewrite `allowed_signers` from the ledger's enrolments.
pub fn export(ws: &Workspace) -> Result<PathBuf, AdminError> {
    let text = state(ws)?.export_allowed_signers();
    let path = ws.allowed_signers_path();
    write_atomic_mode(&path, text.as_bytes(), 0o644).map_err(|source| AdminError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// Where `veil demo` keeps its demo administrator's key: inside the demo
/// workspace, so it can never be mistaken for a real trust root's.
pub(crate) const DEMO_ADMIN_KEY: &str = "demo-admin_ed25519";
/// The demo administrator's name, as its entries record it.
pub(crate) const DEMO_ADMIN_NAME: &str = "Demo Administrator (demo only, not a real trust root)";

/// Where `veil demo` keeps the demo reviewer's key, for a user with no
/// reviewer identity of their own: inside the demo workspace, like the
/// demo administrator's.
pub(crate) const DEMO_REVIEWER_KEY: &str = "demo-reviewer_ed25519";
/// The demo reviewer's name, as its entries record it.
pub(crate) const DEMO_REVIEWER_NAME: &str = "Demo Reviewer (demo only)";

/// Whether this workspace's trust root is the demo's own administrator
/// (its key in the workspace): only then does a workspace key sign.
fn is_demo(ws: &Workspace) -> Result<bool, AdminError> {
    let Some(root) = state(ws)?.root else {
        return Ok(false);
    };
    let demo = ws.root().join(DEMO_ADMIN_KEY);
    Ok(demo.is_file()
        && Reviewer::from_key_file(&root.name, &demo)
            .is_ok_and(|k| k.fingerprint() == root.fingerprint))
}

/// The reviewer who signs here: this user's identity; or, when the user
/// has none and the workspace is a demo (its trust root the demo
/// administrator), the demo's own reviewer. A real workspace never signs
/// with a key that lies in it.
pub(crate) fn reviewer_for(ws: &Workspace) -> Result<Reviewer, crate::keys::KeyError> {
    match Reviewer::load() {
        Err(crate::keys::KeyError::NoIdentity) if is_demo(ws).unwrap_or(false) => {
            let path = ws.root().join(DEMO_REVIEWER_KEY);
            if path.is_file() {
                Reviewer::from_key_file(DEMO_REVIEWER_NAME, &path)
            } else {
                Err(crate::keys::KeyError::NoIdentity)
            }
        }
        other => other,
    }
}

/// The administrator key, named as the ledger's trust root names it: the
/// user's administrator key, or in a demo workspace the demo's own.
pub(crate) fn load_admin(ws: &Workspace) -> Result<Reviewer, AdminError> {
    let state = state(ws)?;
    let root = state.root.ok_or_else(|| AdminError::NoRoot {
        path: ws.ledger_path(),
    })?;
    let demo = ws.root().join(DEMO_ADMIN_KEY);
    if demo.is_file()
        && let Ok(k) = Reviewer::from_key_file(&root.name, &demo)
        && k.fingerprint() == root.fingerprint
    {
        return Ok(k);
    }
    Reviewer::admin_load(&root.name).map_err(|e| AdminError::Refused(e.to_string()))
}

/// A demo workspace's trust: a demo administrator (made once, its key in
/// the workspace) and, when this user has a reviewer identity, that
/// reviewer enrolled. Returns what it did, one sentence each.
pub(crate) fn demo_trust(ws: &Workspace) -> Result<Vec<String>, AdminError> {
    let mut said = Vec::new();
    if state(ws)?.root.is_none() {
        let path = ws.root().join(DEMO_ADMIN_KEY);
        if !path.exists() {
            Reviewer::generate(DEMO_ADMIN_NAME)
                .and_then(|k| k.write_key(&path))
                .map_err(|e| AdminError::Refused(e.to_string()))?;
        }
        let admin = Reviewer::from_key_file(DEMO_ADMIN_NAME, &path)
            .map_err(|e| AdminError::Refused(e.to_string()))?;
        init(ws, &admin)?;
        said.push(format!(
            "The demo has its own administrator ({DEMO_ADMIN_NAME}); its key is {}.",
            path.display()
        ));
    }
    let reviewer = match Reviewer::load() {
        Ok(r) => r,
        Err(crate::keys::KeyError::NoIdentity) => {
            // No identity of the user's own: the demo signs as its own,
            // clearly labelled reviewer, so a first run can approve.
            let path = ws.root().join(DEMO_REVIEWER_KEY);
            if !path.exists() {
                Reviewer::generate(DEMO_REVIEWER_NAME)
                    .and_then(|k| k.write_key(&path))
                    .map_err(|e| AdminError::Refused(e.to_string()))?;
            }
            let r = Reviewer::from_key_file(DEMO_REVIEWER_NAME, &path)
                .map_err(|e| AdminError::Refused(e.to_string()))?;
            if state(ws)?.principal_of(&r.fingerprint()).is_none() {
                said.push(format!(
                    "You have no reviewer key yet, so you review as the demo's own reviewer ({DEMO_REVIEWER_NAME}; key {}).",
                    path.display()
                ));
            }
            r
        }
        Err(e) => {
            said.push(format!(
                "Your reviewer key cannot be used ({e}); you can look, but not approve."
            ));
            return Ok(said);
        }
    };
    if state(ws)?.principal_of(&reviewer.fingerprint()).is_none() {
        let admin = load_admin(ws)?;
        enrol(ws, &admin, Enrolment::of(&reviewer))?;
        if reviewer.name != DEMO_REVIEWER_NAME {
            said.push(format!(
                "The demo administrator enrolled you ({}) as a reviewer of this demo.",
                crate::text::printable(&reviewer.name, 200)
            ));
        }
    }
    Ok(said)
}

/// An RFC 3339 time from `2027-06-30` (midnight UTC) or a full RFC 3339 time.
pub(crate) fn parse_time(s: &str) -> Result<String, AdminError> {
    let t = s.trim();
    if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        return Ok(ts.to_string());
    }
    t.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp().to_string())
        .ok_or_else(|| {
            AdminError::Refused(format!(
                "'{}' is not a date (YYYY-MM-DD) or an RFC 3339 time",
                crate::text::printable(t, 60)
            ))
        })
}
