//! The certificate beside each output: what was released, from what,
//! by whom, under which policy and gates, rebuilt from the ledger alone.

use super::*;
use crate::item::ItemState;
use crate::ledger::{self, CERTIFICATE_SUFFIX, EntryKind, Located};
use crate::workspace::{Workspace, write_atomic_mode};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::PathBuf;

/// The plain-text certificate of an item's released output, from the ledger.
pub fn certificate(ws: &Workspace, item_id: &str) -> Result<String, ReleaseError> {
    let id = ws.resolve_id(item_id)?;
    let item = ws.load_item(&id)?;
    let Some(out) = item
        .output
        .as_ref()
        .filter(|_| item.state == ItemState::Approved)
    else {
        return Err(ReleaseError::NotReleased {
            id,
            state: item.state,
        });
    };
    let path = ws.ledger_path();
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io_err(&path)(e)),
    };
    let index = ledger::entries(&bytes);
    certificate_from(&index, &id, &out.sha256).ok_or(ReleaseError::NoEntry {
        id,
        name: out.name.clone(),
    })
}

/// Write `out/<name>.certificate.txt` of a released item from the ledger
/// (restores one lost to a crash or deleted); returns its path.
pub(crate) fn write_certificate(ws: &Workspace, item_id: &str) -> Result<PathBuf, ReleaseError> {
    let text = certificate(ws, item_id)?;
    let id = ws.resolve_id(item_id)?;
    let item = ws.load_item(&id)?;
    let name = item.output.map(|o| o.name).unwrap_or_default();
    // The text came from the ledger entry naming this output; the item
    // file's name must be that plain name, never a path.
    if !ledger::safe_output_name(&name) || !text.contains(&format!("Output:        {name}\n")) {
        return Err(ReleaseError::NoEntry { id, name });
    }
    let path = ws.out_dir().join(format!("{name}{CERTIFICATE_SUFFIX}"));
    write_atomic_mode(&path, text.as_bytes(), 0o640).map_err(io_err(&path))?;
    Ok(path)
}

/// The certificate of the release of `id` with output `sha`, from the ledger index.
pub(crate) fn certificate_from(index: &[Located], id: &str, sha: &str) -> Option<String> {
    let rel = index.iter().rev().find(|l| {
        l.entry.releases()
            && l.entry.item.as_deref() == Some(id)
            && l.entry.output_sha256.as_deref() == Some(sha)
    })?;
    let first = rel.entry.countersigns.and_then(|s| {
        index
            .iter()
            .find(|l| l.entry.seq == s && l.entry.kind == EntryKind::Approve)
    });
    let ledger_id = index
        .first()
        .map(|l| l.entry.ledger.clone())
        .unwrap_or_default();
    Some(certificate_text(&ledger_id, rel, first))
}

/// The certificate: what was released, what was removed, how every gate was
/// met and by whom, and where the ledger records it. No original name.
pub(super) fn certificate_text(ledger_id: &str, rel: &Located, first: Option<&Located>) -> String {
    let e = &rel.entry;
    let name = e.output_name.as_deref().unwrap_or("?");
    let mut s = String::new();
    let _ = writeln!(s, "VEIL RELEASE CERTIFICATE");
    let _ = writeln!(s);
    let _ = writeln!(s, "Output:        {name}");
    let _ = writeln!(
        s,
        "SHA-256:       {}",
        e.output_sha256.as_deref().unwrap_or("?")
    );
    let _ = writeln!(s, "Item:          {}", e.item.as_deref().unwrap_or("?"));
    let _ = writeln!(s, "Released:      {}", e.ts);
    let _ = writeln!(s, "Tool:          {}", e.tool);
    let _ = writeln!(s);
    let _ = writeln!(s, "Removed");
    let masks = e.masks.as_deref().unwrap_or_default();
    let mode = e.redaction.as_deref().unwrap_or("solid");
    if masks.is_empty() {
        let _ = writeln!(s, "  Masks:       none");
    } else {
        let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
        for m in masks {
            *by_kind.entry(m.kind.as_str().to_string()).or_insert(0) += 1;
        }
        let list: Vec<String> = by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
        let _ = writeln!(
            s,
            "  Masks ({mode} fill): {} ({} in all)",
            list.join(", "),
            masks.len()
        );
    }
    let meta = e.metadata_removed.clone().unwrap_or_default();
    if meta.is_empty() {
        let _ = writeln!(s, "  Metadata:    none found in the original");
    } else {
        let _ = writeln!(
            s,
            "  Metadata found in the original and not carried over (output re-encoded from pixels):"
        );
        for (group, n) in &meta {
            let _ = writeln!(
                s,
                "    {}: {n} field{}",
                crate::text::printable(group, 40),
                if *n == 1 { "" } else { "s" }
            );
        }
    }
    if let Some(d) = &e.dicom {
        let p = |v: &str| crate::text::printable(v, 80);
        let _ = writeln!(
            s,
            "  DICOM:       original SOP class {}, transfer syntax {}; released as {}",
            p(&d.original_sop_class),
            p(&d.original_transfer_syntax),
            if d.released_as == "dicom" {
                "a new Secondary Capture instance (new UIDs, header built from an allowlist)"
            } else {
                "a picture (nothing of the header carried)"
            }
        );
        if !d.methods.is_empty() {
            let _ = writeln!(
                s,
                "  De-identification ({}):",
                crate::dicom::output::PROFILE
            );
            for m in &d.methods {
                let _ = writeln!(s, "    {}", p(m));
            }
        }
    }
    let engines = e
        .detector
        .iter()
        .flat_map(super::super::item::DetectorInfo::each_engine);
    let engines = engines
        .map(|d| ("Face", d))
        .chain(e.text_detector.iter().map(|d| ("Text", d)));
    for (what, engine) in engines {
        let _ = writeln!(
            s,
            "  {what} detector: {} (model SHA-256 {}, {})",
            crate::text::printable(&engine.name, 40),
            crate::text::printable(&engine.model_sha256, 64),
            engine.settings_label()
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "Gates");
    for g in e.gates.as_deref().unwrap_or_default() {
        let mark = match (g.required, g.met) {
            (true, true) => "[x]",
            (true, false) => "[!]",
            (false, _) => "[-]",
        };
        let req = if g.required {
            ""
        } else {
            " (not required by the policy)"
        };
        let _ = writeln!(
            s,
            "  {mark} {:<16} {:<9} {}{req}",
            g.gate,
            g.method,
            crate::text::printable(&g.detail, 200)
        );
    }
    let nr = e.gates_not_required.clone().unwrap_or_default();
    let _ = writeln!(
        s,
        "  Measured gates switched off by the policy: {}",
        if nr.is_empty() {
            "none".to_string()
        } else {
            nr.join(", ")
        }
    );
    let _ = writeln!(
        s,
        "  Policy digest: {}",
        e.policy_digest.as_deref().unwrap_or("?")
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "Reviewers");
    let who = |l: &Located, role: &str| {
        format!(
            "  {role:<14} {}  {}  {} (seq {})",
            crate::text::printable(&l.entry.reviewer.name, 80),
            l.entry.reviewer.fingerprint,
            l.entry.ts,
            l.entry.seq
        )
    };
    if let Some(f) = first {
        let _ = writeln!(s, "{}", who(f, "approved"));
        let _ = writeln!(s, "{}", who(rel, "countersigned"));
    } else {
        let _ = writeln!(s, "{}", who(rel, "approved"));
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "Ledger");
    let _ = writeln!(s, "  Ledger id:   {ledger_id}");
    let _ = writeln!(s, "  Entry:       seq {} (line {})", e.seq, rel.line);
    let _ = writeln!(s, "  Entry hash:  {} (SHA-256 of the line)", rel.hash);
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "Check: `sha256sum {name}` must print the SHA-256 above; `veil verify` checks the signed ledger."
    );
    s
}

// ---------------------------------------------------------------------------
