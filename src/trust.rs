//! Who may sign what, as the ledger itself records it.
//!
//! A workspace has one trust root: the administrator key that signs the
//! ledger's `admin` entry. Reviewers are enrolled and revoked by entries
//! that key signs, and the policy in force is the text of the last `policy`
//! entry it signed. Nothing in the workspace besides the ledger is believed:
//! `allowed_signers` is only an export of the enrolments for `ssh-keygen`.
//!
//! Invariants: a key is enrolled under one principal at a time; a revoked
//! key signs nothing after the revoking line; a key signs only inside its
//! validity window (both ends inclusive, as OpenSSH checks them). Pure: no I/O.

use crate::keys::{self, ADMIN_PRINCIPAL, AllowedSigners, NAMESPACE, Validity};
use crate::policy::Policy;
use serde::{Deserialize, Serialize};
use ssh_key::PublicKey;
use std::collections::BTreeMap;

/// An enrolment (or, in a `revoke` entry, the enrolment being ended).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enrolment {
    /// `dr-a-reviewer@veil`: the person; two approvals need two principals.
    pub principal: String,
    /// `ssh-ed25519 AAAA...`
    pub key: String,
    /// The display name.
    pub name: String,
    /// RFC 3339: the key signs nothing before this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_after: Option<String>,
    /// RFC 3339: the key signs nothing after this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_before: Option<String>,
}

impl Enrolment {
    /// `reviewer`'s key under the principal derived from their name, with no window.
    pub fn of(reviewer: &crate::keys::Reviewer) -> Enrolment {
        Enrolment {
            principal: reviewer.principal(),
            key: reviewer.public_openssh(),
            name: reviewer.name.clone(),
            valid_after: None,
            valid_before: None,
        }
    }

    /// The window of this enrolment, or why its times do not parse.
    pub(crate) fn validity(&self) -> Result<Validity, String> {
        let parse = |s: &Option<String>, what: &str| {
            s.as_deref()
                .map(|t| {
                    t.parse::<jiff::Timestamp>()
                        .map_err(|_| format!("{what} '{t}' is not an RFC 3339 time"))
                })
                .transpose()
        };
        Ok(Validity {
            after: parse(&self.valid_after, "valid_after")?,
            before: parse(&self.valid_before, "valid_before")?,
        })
    }
}

/// A key as trust knows it.
#[derive(Debug, Clone)]
pub struct Enrolled {
    pub principal: String,
    pub name: String,
    pub key: PublicKey,
    pub fingerprint: String,
    pub validity: Validity,
    /// 1-based ledger line of the enrolment.
    pub line: usize,
}

/// The administrator key named by the ledger's `admin` entry.
#[derive(Debug, Clone)]
pub struct Root {
    pub key: PublicKey,
    pub fingerprint: String,
    pub name: String,
    pub line: usize,
}

/// The policy text the administrator recorded, parsed.
#[derive(Debug, Clone)]
pub struct PolicyInForce {
    pub policy: Policy,
    pub digest: String,
    pub line: usize,
}

/// Trust after a prefix of the ledger.
#[derive(Debug, Clone, Default)]
pub struct TrustState {
    pub root: Option<Root>,
    /// Active enrolments by fingerprint.
    pub enrolled: BTreeMap<String, Enrolled>,
    /// Revoked fingerprints: the revoking line.
    pub revoked: BTreeMap<String, usize>,
    pub policy: Option<PolicyInForce>,
}

/// What signed an entry, as trust sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// The trust root.
    Administrator,
    /// An enrolled reviewer: their principal.
    Reviewer(String),
}

impl TrustState {
    /// Take `key` (signing `name`) as the root, from `line`.
    pub(crate) fn set_root(
        &mut self,
        key: PublicKey,
        name: &str,
        line: usize,
    ) -> Result<(), String> {
        if let Some(r) = &self.root {
            return Err(format!(
                "a second administrator entry (the trust root was set on line {}); Veil has no key rotation for the administrator",
                r.line
            ));
        }
        self.root = Some(Root {
            fingerprint: keys::fingerprint_of(&key),
            key,
            name: name.to_string(),
            line,
        });
        Ok(())
    }

    /// Record an enrolment made on `line`.
    pub fn enrol(&mut self, e: &Enrolment, line: usize) -> Result<(), String> {
        let key = keys::parse_public(&e.key).map_err(|p| format!("enrolled key: {p}"))?;
        let fp = keys::fingerprint_of(&key);
        let validity = e.validity()?;
        if e.principal.trim().is_empty()
            || e.principal == ADMIN_PRINCIPAL
            || e.principal
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == ',')
        {
            return Err(format!(
                "principal '{}' is not usable (empty, the administrator's, or with spaces or commas)",
                crate::text::printable(&e.principal, 80)
            ));
        }
        if self.root.as_ref().is_some_and(|r| r.fingerprint == fp) {
            // Enrolling the root's own key would let one key both govern
            // trust and count as a reviewer: give the administrator a second key.
            return Err(format!(
                "{fp} is the administrator's own key; a reviewer needs a key of their own"
            ));
        }
        if let Some(have) = self.enrolled.get(&fp) {
            return Err(format!(
                "{fp} is already enrolled (as {}, line {})",
                have.principal, have.line
            ));
        }
        self.enrolled.insert(
            fp.clone(),
            Enrolled {
                principal: e.principal.clone(),
                name: e.name.clone(),
                key,
                fingerprint: fp.clone(),
                validity,
                line,
            },
        );
        self.revoked.remove(&fp);
        Ok(())
    }

    /// Record a revocation made on `line`.
    pub(crate) fn revoke(&mut self, e: &Enrolment, line: usize) -> Result<(), String> {
        let key = keys::parse_public(&e.key).map_err(|p| format!("revoked key: {p}"))?;
        let fp = keys::fingerprint_of(&key);
        match self.enrolled.remove(&fp) {
            Some(_) => {
                self.revoked.insert(fp, line);
                Ok(())
            }
            None => Err(format!("revokes {fp}, which is not enrolled")),
        }
    }

    /// Record the policy text recorded on `line` under `digest`.
    pub fn set_policy(&mut self, text: &str, digest: &str, line: usize) -> Result<(), String> {
        let policy = Policy::from_toml(text).map_err(|e| format!("policy text: {e}"))?;
        let actual = policy.digest();
        if actual != digest {
            return Err(format!(
                "policy text has digest {actual}, but the entry says {digest}"
            ));
        }
        self.policy = Some(PolicyInForce {
            policy,
            digest: actual,
            line,
        });
        Ok(())
    }

    /// Who `fp` is allowed to sign as at time `t`, or why it may not sign.
    pub(crate) fn role(&self, fp: &str, t: jiff::Timestamp) -> Result<Role, String> {
        if self.root.as_ref().is_some_and(|r| r.fingerprint == fp) {
            return Ok(Role::Administrator);
        }
        if let Some(e) = self.enrolled.get(fp) {
            e.validity
                .check(t)
                .map_err(|why| format!("{fp} ({}): {why}", e.principal))?;
            return Ok(Role::Reviewer(e.principal.clone()));
        }
        if let Some(line) = self.revoked.get(fp) {
            return Err(format!("{fp} was revoked on line {line}"));
        }
        Err(format!(
            "{fp} is not enrolled by the administrator: an untrusted signer"
        ))
    }

    /// The principal of an enrolled reviewer key, if it is enrolled.
    pub(crate) fn principal_of(&self, fp: &str) -> Option<&str> {
        self.enrolled.get(fp).map(|e| e.principal.as_str())
    }

    /// `allowed_signers` text for `ssh-keygen -Y verify`: the administrator
    /// and every active enrolment, with its validity window.
    pub(crate) fn export_allowed_signers(&self) -> String {
        let mut s = String::from(
            "# Exported by Veil from the ledger's enrolments; edits here change nothing Veil believes.\n",
        );
        if let Some(r) = &self.root {
            s.push_str(&format!(
                "{ADMIN_PRINCIPAL} namespaces=\"{NAMESPACE}\" {}\n",
                keys::public_openssh(&r.key)
            ));
        }
        for e in self.enrolled.values() {
            let mut opts = format!("namespaces=\"{NAMESPACE}\"");
            if let Some(a) = e.validity.after {
                opts.push_str(&format!(",valid-after=\"{}\"", keys::format_ssh_time(a)));
            }
            if let Some(b) = e.validity.before {
                opts.push_str(&format!(",valid-before=\"{}\"", keys::format_ssh_time(b)));
            }
            s.push_str(&format!(
                "{} {opts} {}\n",
                e.principal,
                keys::public_openssh(&e.key)
            ));
        }
        s
    }

    /// How `signers` (an `allowed_signers` file) differs from this state:
    /// one sentence per difference; empty when they agree.
    pub(crate) fn differences(&self, signers: &AllowedSigners) -> Vec<String> {
        let mut out = Vec::new();
        let mut listed: BTreeMap<String, (String, usize)> = BTreeMap::new();
        for t in &signers.keys {
            listed.insert(
                keys::fingerprint_of(&t.key),
                (t.principals.join(","), t.line),
            );
        }
        for (fp, (who, line)) in &listed {
            let admin = self.root.as_ref().is_some_and(|r| &r.fingerprint == fp);
            if !admin && !self.enrolled.contains_key(fp) {
                out.push(format!(
                    "line {line} trusts {fp} ({}), which the ledger does not enroll",
                    crate::text::printable(who, 80)
                ));
            }
        }
        for (fp, e) in &self.enrolled {
            if !listed.contains_key(fp) {
                out.push(format!(
                    "{fp} ({}) is enrolled in the ledger (line {}) but not listed",
                    e.principal, e.line
                ));
            }
        }
        out
    }
}

/// What an auditor brings to `verify --trust FILE`.
#[derive(Debug, Clone)]
pub enum Anchor {
    /// The administrator's public key (a `.pub` file, or the
    /// `veil-administrator` line of an exported `allowed_signers`), with
    /// the rest of that file when it was one.
    Admin {
        key: PublicKey,
        signers: Option<AllowedSigners>,
    },
    /// An `allowed_signers` file without an administrator line: the
    /// reviewers trusted for a legacy ledger.
    Signers(AllowedSigners),
}

impl Anchor {
    /// Read a `--trust` file's text: a public key line, or `allowed_signers`.
    pub fn parse(text: &str) -> Result<Anchor, String> {
        let first = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .ok_or("the file holds no key")?;
        if first.starts_with("ssh-") {
            return keys::parse_public(first).map(|key| Anchor::Admin { key, signers: None });
        }
        let signers = AllowedSigners::parse(text);
        let admin = signers
            .keys
            .iter()
            .find(|k| k.principals.iter().any(|p| p == ADMIN_PRINCIPAL))
            .map(|k| k.key.clone());
        if signers.keys.is_empty() {
            return Err("no usable key: neither a public key nor an allowed_signers file".into());
        }
        Ok(match admin {
            Some(key) => Anchor::Admin {
                key,
                signers: Some(signers),
            },
            None => Anchor::Signers(signers),
        })
    }

    /// The administrator key, when the auditor named one.
    pub fn admin(&self) -> Option<&PublicKey> {
        match self {
            Anchor::Admin { key, .. } => Some(key),
            Anchor::Signers(_) => None,
        }
    }

    /// The `allowed_signers` the auditor brought, if any.
    pub fn signers(&self) -> Option<&AllowedSigners> {
        match self {
            Anchor::Admin { signers, .. } => signers.as_ref(),
            Anchor::Signers(s) => Some(s),
        }
    }
}

/// Everything `verify` may believe about who signs.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// The auditor's own copy (`--trust`); `None` trusts the ledger's own root.
    pub anchor: Option<Anchor>,
    /// The workspace's `allowed_signers`: for legacy ledgers the only trust
    /// there is, otherwise an export compared with the enrolments.
    pub workspace_signers: AllowedSigners,
}

impl Trust {
    /// Trust as the workspace alone gives it.
    pub fn workspace(signers: AllowedSigners) -> Trust {
        Trust {
            anchor: None,
            workspace_signers: signers,
        }
    }

    /// The signers a legacy (pre-administrator) entry is checked against.
    pub(crate) fn legacy_signers(&self) -> &AllowedSigners {
        self.anchor
            .as_ref()
            .and_then(Anchor::signers)
            .unwrap_or(&self.workspace_signers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Reviewer;

    fn enrolment(r: &Reviewer) -> Enrolment {
        Enrolment {
            valid_before: Some("2030-01-01T00:00:00Z".into()),
            ..Enrolment::of(r)
        }
    }

    #[test]
    fn a_key_signs_only_while_enrolled_and_inside_its_window() {
        let admin = Reviewer::generate("Admin").unwrap();
        let a = Reviewer::generate("Dr A").unwrap();
        let mut t = TrustState::default();
        t.set_root(admin.public_key().clone(), "Admin", 2).unwrap();
        let now: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        assert!(t.role(&a.fingerprint(), now).is_err());
        t.enrol(&enrolment(&a), 4).unwrap();
        assert_eq!(
            t.role(&a.fingerprint(), now),
            Ok(Role::Reviewer(a.principal()))
        );
        let late: jiff::Timestamp = "2031-01-01T00:00:00Z".parse().unwrap();
        assert!(
            t.role(&a.fingerprint(), late)
                .unwrap_err()
                .contains("expired")
        );
        t.revoke(&enrolment(&a), 9).unwrap();
        assert!(
            t.role(&a.fingerprint(), now)
                .unwrap_err()
                .contains("revoked on line 9")
        );
        assert_eq!(t.role(&admin.fingerprint(), now), Ok(Role::Administrator));
    }

    #[test]
    fn the_administrator_key_cannot_be_enrolled_as_a_reviewer_nor_a_key_twice() {
        let admin = Reviewer::generate("Admin").unwrap();
        let a = Reviewer::generate("Dr A").unwrap();
        let mut t = TrustState::default();
        t.set_root(admin.public_key().clone(), "Admin", 2).unwrap();
        assert!(t.enrol(&enrolment(&admin), 3).is_err());
        t.enrol(&enrolment(&a), 3).unwrap();
        let mut again = enrolment(&a);
        again.principal = "someone-else@veil".into();
        assert!(t.enrol(&again, 4).unwrap_err().contains("already enrolled"));
        assert!(t.set_root(a.public_key().clone(), "x", 5).is_err());
    }

    #[test]
    fn the_export_is_an_allowed_signers_file_that_agrees_with_the_state() {
        let admin = Reviewer::generate("Admin").unwrap();
        let a = Reviewer::generate("Dr A").unwrap();
        let mut t = TrustState::default();
        t.set_root(admin.public_key().clone(), "Admin", 2).unwrap();
        t.enrol(&enrolment(&a), 3).unwrap();
        let text = t.export_allowed_signers();
        let parsed = AllowedSigners::parse(&text);
        assert!(parsed.ignored.is_empty(), "{:?}", parsed.ignored);
        assert!(t.differences(&parsed).is_empty());
        let k = parsed.find(a.public_key()).unwrap();
        assert_eq!(
            k.validity.before,
            Some("2030-01-01T00:00:00Z".parse().unwrap())
        );
        match Anchor::parse(&text).unwrap() {
            Anchor::Admin { key, .. } => assert_eq!(key.key_data(), admin.public_key().key_data()),
            Anchor::Signers(_) => panic!("the export names the administrator"),
        }
        let mut other = TrustState::default();
        other
            .set_root(admin.public_key().clone(), "Admin", 2)
            .unwrap();
        assert_eq!(other.differences(&parsed).len(), 1);
    }
}
