//! Who may sign each entry, in order, as the administrator's entries
//! change trust; and the trust summary of the whole ledger.

use super::*;
use crate::trust::{Anchor, Role, Trust, TrustState};

/// Whether the (validly signed) entry on `line_no` may be signed by its
/// key, applying what it changes to trust when it is the administrator's.
#[allow(clippy::too_many_arguments)]
pub(in crate::ledger) fn authorise(
    state: &mut TrustState,
    trust: &Trust,
    e: &Entry,
    line_no: usize,
    is_root: bool,
    legacy: bool,
    root_fp: Option<&str>,
    when: Option<jiff::Timestamp>,
) -> Result<Role, String> {
    let fp = e.reviewer.fingerprint.as_str();
    let key = crate::keys::parse_public(&e.reviewer.key)?;
    let when = when.unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    if is_root {
        if let Some(mine) = trust.anchor.as_ref().and_then(Anchor::admin)
            && mine.key_data() != key.key_data()
        {
            state.set_root(key, &e.reviewer.name, line_no)?;
            return Err(format!(
                "the ledger's administrator key {fp} is not the one in your trust file ({}): the trust root was replaced",
                crate::keys::fingerprint_of(mine)
            ));
        }
        state.set_root(key, &e.reviewer.name, line_no)?;
        return Ok(Role::Administrator);
    }
    let admin_only = matches!(
        e.kind,
        EntryKind::Admin | EntryKind::Enrol | EntryKind::Revoke | EntryKind::Policy
    );
    if legacy {
        if admin_only {
            return Err(format!(
                "a '{}' entry before the ledger's administrator entry",
                e.kind.as_str()
            ));
        }
        // A new ledger's header is signed by the administrator it names next.
        if e.kind == EntryKind::Header && root_fp == Some(fp) {
            return Ok(Role::Administrator);
        }
        let signers = trust.legacy_signers();
        return match signers.find(&key) {
            Some(t) => {
                t.validity.check(when).map_err(|why| {
                    format!("signed by {fp} outside its allowed_signers validity: {why}")
                })?;
                Ok(Role::Reviewer(
                    t.principals.first().cloned().unwrap_or_default(),
                ))
            }
            None => Err(format!(
                "signed by {fp} ('{}'), a key not in allowed_signers: an untrusted signer",
                crate::text::printable(&e.reviewer.name, 80)
            )),
        };
    }
    let role = state.role(fp, when)?;
    match (e.kind, &role) {
        (EntryKind::Admin, _) => {
            Err("a second administrator entry: the trust root cannot be replaced".into())
        }
        (EntryKind::Header, _) => Err("a header after the trust root".into()),
        (EntryKind::Enrol | EntryKind::Revoke | EntryKind::Policy, Role::Administrator) => {
            apply_admin(state, e, line_no)?;
            Ok(role)
        }
        (EntryKind::Enrol | EntryKind::Revoke | EntryKind::Policy, Role::Reviewer(p)) => {
            Err(format!(
                "a '{}' entry signed by reviewer {p}: only the administrator changes trust or policy",
                e.kind.as_str()
            ))
        }
        (EntryKind::Approve | EntryKind::Countersign | EntryKind::Reject, Role::Administrator) => {
            Err(format!(
                "a '{}' entry signed by the administrator key: decisions are made by enrolled reviewers",
                e.kind.as_str()
            ))
        }
        _ => Ok(role),
    }
}

/// The trust findings of a whole ledger, and its summary.
pub(in crate::ledger) fn summarise_trust(
    r: &mut VerifyReport,
    trust: &Trust,
    state: &TrustState,
    nonempty: bool,
) {
    let mine = trust.anchor.as_ref().and_then(Anchor::admin);
    r.trust.enrolled = state
        .enrolled
        .values()
        .map(|e| format!("{} ({})", e.principal, e.fingerprint))
        .collect();
    let Some(root) = &state.root else {
        if mine.is_some() {
            r.push(
                0,
                Severity::Tampered,
                "you trust an administrator key, but this ledger has no administrator entry: it was replaced by a legacy ledger, or never had a trust root".into(),
            );
        } else if nonempty {
            let source = if trust.anchor.is_some() {
                "your trust file"
            } else {
                "the workspace's allowed_signers, which anyone who can write the workspace can edit"
            };
            r.push(
                0,
                Severity::Warning,
                format!(
                    "legacy trust: this ledger has no administrator entry, so its signatures were checked against {source}; have an administrator run `veil admin init` to give it a trust root"
                ),
            );
        }
        return;
    };
    r.trust.administrator = Some(format!(
        "{} ({})",
        crate::text::printable(&root.name, 80),
        root.fingerprint
    ));
    r.trust.administrator_line = root.line;
    r.trust.anchored = mine.is_some_and(|k| k.key_data() == root.key.key_data());
    if mine.is_none() {
        r.push(
            root.line,
            Severity::Note,
            format!(
                "trust root: administrator {} ({}); compare it with your own copy, or pass it with --trust",
                crate::text::printable(&root.name, 80),
                root.fingerprint
            ),
        );
    }
    if r.trust.legacy_entries > 0 {
        r.push(
            root.line,
            Severity::Warning,
            format!(
                "legacy trust: {} entr{} before line {} were checked against allowed_signers only, not against enrolments",
                r.trust.legacy_entries,
                if r.trust.legacy_entries == 1 { "y" } else { "ies" },
                root.line
            ),
        );
    }
    // No export at all is no claim: only an export that says otherwise is.
    let exported = !trust.workspace_signers.keys.is_empty();
    let ws = state.differences(&trust.workspace_signers);
    if exported && !ws.is_empty() {
        r.push(
            0,
            Severity::Warning,
            format!(
                "the workspace's allowed_signers differs from the ledger's enrolments ({}); Veil believes the ledger — run `veil admin export` to rewrite the file",
                ws.join("; ")
            ),
        );
    }
    if let Some(s) = trust.anchor.as_ref().and_then(Anchor::signers) {
        let d = state.differences(s);
        if !d.is_empty() {
            r.push(
                0,
                Severity::Warning,
                format!(
                    "your trust file differs from the ledger's enrolments: {}",
                    d.join("; ")
                ),
            );
        }
    }
}
