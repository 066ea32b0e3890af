//! Verify a workspace as a third party would: the ledger ([`crate::ledger::verify`])
//! and then every released output in `out/` against it (present, same
//! SHA-256, passes the container allowlist). Above both the ledger and
//! `redact`, so neither imports the other.

use crate::keys::AllowedSigners;
use crate::ledger::{
    CERTIFICATE_SUFFIX, Head, LedgerError, Severity, VerifyReport, io_err, safe_output_name,
    sha256_hex, verify,
};
use crate::trust::{Anchor, Trust};
use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::Path;

/// The I/O edge of verification: read `ledger.jsonl` and `allowed_signers`
/// from `ws`, run [`verify`], then check every released output in `out/`
/// (present, same SHA-256, passes the container allowlist) and warn about
/// files in `out/` the ledger does not account for.
pub fn verify_workspace(
    ws: &crate::workspace::Workspace,
    checkpoint: Option<&Head>,
    anchor: Option<Anchor>,
) -> Result<VerifyReport, LedgerError> {
    let ledger_path = ws.ledger_path();
    let bytes = match fs::read(&ledger_path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io_err(&ledger_path, e)),
    };
    let signers_path = ws.allowed_signers_path();
    let signers = match fs::read_to_string(&signers_path) {
        Ok(t) => AllowedSigners::parse(&t),
        Err(e) if e.kind() == io::ErrorKind::NotFound => AllowedSigners::default(),
        Err(e) => return Err(io_err(&signers_path, e)),
    };
    let trust = Trust {
        anchor,
        workspace_signers: signers,
    };
    let mut report = verify(&bytes, &trust, checkpoint);
    check_outputs(&mut report, &ws.out_dir())?;
    report.findings.sort_by_key(|f| f.line);
    Ok(report)
}

pub(crate) fn check_outputs(r: &mut VerifyReport, out: &Path) -> Result<(), LedgerError> {
    let mut known: BTreeSet<String> = BTreeSet::new();
    let releases = r.releases.clone();
    for rel in &releases {
        if !safe_output_name(&rel.output_name) {
            continue;
        }
        known.insert(rel.output_name.clone());
        let path = out.join(&rel.output_name);
        let shown = format!("out/{}", rel.output_name);
        match fs::read(&path) {
            Ok(b) => {
                let found = sha256_hex(&b);
                if found != rel.output_sha256 {
                    r.push(
                        rel.line,
                        Severity::Tampered,
                        format!(
                            "{shown}: SHA-256 is {found} but the ledger recorded {}: the output was replaced after approval",
                            rel.output_sha256
                        ),
                    );
                } else if let Err(e) = crate::redact::check_output(&b) {
                    r.push(
                        rel.line,
                        Severity::Tampered,
                        format!("{shown}: fails the container allowlist: {e}"),
                    );
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => r.push(
                rel.line,
                Severity::Warning,
                format!(
                    "{shown} is missing; if it was moved off this box, check its SHA-256 there: {}",
                    rel.output_sha256
                ),
            ),
            Err(e) => return Err(io_err(&path, e)),
        }
        let cert = out.join(format!("{}{CERTIFICATE_SUFFIX}", rel.output_name));
        if !cert.exists() {
            r.push(
                rel.line,
                Severity::Warning,
                format!(
                    "{shown} has no certificate ({shown}{CERTIFICATE_SUFFIX} is missing): run `veil certificate {} --write` to restore it from the ledger",
                    rel.item
                ),
            );
        }
    }
    let withdrawn = r.withdrawn.clone();
    for w in &withdrawn {
        let name = &w.release.output_name;
        if !safe_output_name(name) {
            continue;
        }
        known.insert(name.clone());
        let left: Vec<String> = [name.clone(), format!("{name}{CERTIFICATE_SUFFIX}")]
            .into_iter()
            .filter(|n| out.join(n).exists())
            .map(|n| format!("out/{n}"))
            .collect();
        if !left.is_empty() {
            r.push(
                w.line,
                Severity::Warning,
                format!(
                    "{} still in out/ although withdrawn: run `veil withdraw {} --reason …` again to finish moving it to withdrawn/",
                    left.join(" and "),
                    w.release.item
                ),
            );
        }
    }
    let listing = match fs::read_dir(out) {
        Ok(l) => l,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(out, e)),
    };
    let mut orphans = Vec::new();
    for ent in listing {
        let ent = ent.map_err(|e| io_err(out, e))?;
        let name = ent.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if let Some(base) = name.strip_suffix(CERTIFICATE_SUFFIX) {
            if !known.contains(base) {
                orphans.push(name);
            }
            continue;
        }
        if !known.contains(&name) {
            orphans.push(name);
        }
    }
    orphans.sort();
    for name in orphans {
        r.push(
            0,
            Severity::Warning,
            format!(
                "out/{}: no ledger entry releases it — an interrupted approval (re-run `veil approve`) or a file placed by hand; do not release it",
                crate::text::printable(&name, 200)
            ),
        );
    }
    Ok(())
}
