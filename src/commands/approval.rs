//! reviewer, approve, reject, verify, checkpoint, certificate.

use super::Exit;
use crate::cli::{
    ApproveArgs, CertificateArgs, RejectArgs, ReviewerCommand, VerifyArgs, WithdrawArgs,
};
use crate::keys::Reviewer;
use crate::ledger::{self, Entry, EntryKind, Head, Ledger, Severity};
use crate::release::{self, ApproveOutcome, BatchReport, BatchResult};
use crate::text::{printable, printable_path};
use crate::trust::Anchor;
use crate::workspace::Workspace;
use anyhow::Context;
use serde_json::json;
use std::path::Path;

pub fn reviewer(ws: &Path, c: &ReviewerCommand) -> anyhow::Result<Exit> {
    match c {
        ReviewerCommand::Init { name, ssh_key } => {
            let (r, created) = Reviewer::init(name, ssh_key.as_deref())
                .context("setting up the reviewer identity")?;
            let verb = if created { "Created" } else { "Using existing" };
            println!(
                "{verb} signing key {} ({})",
                printable_path(&r.key_path),
                r.fingerprint()
            );
            println!("Reviewer: {}", printable(&r.name, 200));
            if created && ssh_key.is_none() {
                r.write_public_beside()
                    .context("writing the public key beside the private one")?;
            }
            // A reviewer never trusts themself: the administrator enrols them.
            let enrolled = Workspace::open(ws)
                .ok()
                .and_then(|w| crate::admin::state(&w).ok())
                .and_then(|s| s.principal_of(&r.fingerprint()).map(str::to_string));
            match enrolled {
                Some(p) => println!("Enrolled in {} as {p}", printable_path(ws)),
                None => {
                    println!(
                        "Not enrolled in {} yet. Ask its administrator to run:",
                        printable_path(ws)
                    );
                    println!("    {}", r.enrol_command());
                }
            }
            Ok(Exit::Ok)
        }
        ReviewerCommand::Show => {
            let r = Reviewer::load()?;
            println!("Reviewer:    {}", printable(&r.name, 200));
            println!("Key:         {}", printable_path(&r.key_path));
            println!("Public key:  {}", r.public_openssh());
            println!("Fingerprint: {}", r.fingerprint());
            if let Ok(w) = Workspace::open(ws) {
                let state = crate::admin::state(&w).ok().unwrap_or_default();
                let line = match state.principal_of(&r.fingerprint()) {
                    Some(p) => format!("yes, as {p}"),
                    None => "NO (the administrator runs `veil admin enrol`)".into(),
                };
                println!(
                    "Enrolled:    {line} in {}",
                    printable_path(&w.ledger_path())
                );
            }
            Ok(Exit::Ok)
        }
    }
}

fn load_reviewer(ws: &Workspace) -> anyhow::Result<Reviewer> {
    crate::admin::reviewer_for(ws).context("loading the reviewer's signing key")
}

pub fn approve(ws: &Workspace, a: &ApproveArgs) -> anyhow::Result<Exit> {
    let attest = a.attest.as_slice();
    let reviewer = load_reviewer(ws)?;
    if a.batch {
        let report =
            release::approve_batch_with(ws, &reviewer, a.state, attest, a.dry_run, a.high_stakes)
                .context("approve --batch")?;
        print_batch(&report, &format!("in state {}", a.state), ws);
        return Ok(if report.skipped() > 0 {
            Exit::Partial
        } else {
            Exit::Ok
        });
    }
    if a.dry_run {
        let report = release::approve_dry_run(ws, &reviewer, &a.ids, attest, a.high_stakes)
            .context("approve --dry-run")?;
        print_batch(&report, "named", ws);
        return Ok(if report.skipped() > 0 {
            Exit::Partial
        } else {
            Exit::Ok
        });
    }
    let mut all_ok = true;
    for id in &a.ids {
        match release::approve_with(ws, &reviewer, id, attest, a.high_stakes) {
            Ok(ApproveOutcome::Released { output, seq }) => println!(
                "{}  released  {}  (ledger seq {seq})",
                printable(id, 40),
                printable_path(&output)
            ),
            Ok(ApproveOutcome::AwaitingSecond { seq }) => println!(
                "{}  approved, awaiting a second reviewer (high-stakes; ledger seq {seq}); not released",
                printable(id, 40)
            ),
            Ok(ApproveOutcome::Refused { unmet }) => {
                all_ok = false;
                println!(
                    "{}  REFUSED: {}",
                    printable(id, 40),
                    printable(&unmet.join("; "), 2000)
                );
            }
            Err(e) => {
                all_ok = false;
                println!(
                    "{}  NOT APPROVED: {}",
                    printable(id, 40),
                    printable(&format!("{e:#}"), 2000)
                );
            }
        }
    }
    Ok(if all_ok { Exit::Ok } else { Exit::Partial })
}

fn print_batch(report: &BatchReport, what: &str, ws: &Workspace) {
    let verb = if report.dry_run { "would be " } else { "" };
    // A random name is drawn at release: a dry run cannot know it, so it
    // does not print one that the real run would not use.
    let unknown_name = report.dry_run && ws.policy.output.naming == crate::policy::Naming::Random;
    if report.rows.is_empty() {
        println!("No items {what}: nothing to approve.");
        return;
    }
    if report.approved() > 0 {
        println!("{:<16}  {:<18}  {:<22}  SEQ", "ITEM", "RESULT", "OUTPUT");
    }
    for r in &report.rows {
        let seq = |s: &Option<u64>| s.map(|s| s.to_string()).unwrap_or_else(|| "-".into());
        match &r.result {
            BatchResult::Released { output, seq: s } => println!(
                "{:<16}  {:<18}  {:<22}  {}",
                printable(&r.id, 16),
                format!("{verb}released"),
                if unknown_name {
                    "(random name at release)".to_string()
                } else {
                    printable(output, 60)
                },
                seq(s)
            ),
            BatchResult::AwaitingSecond { seq: s } => println!(
                "{:<16}  {:<18}  {:<22}  {}",
                printable(&r.id, 16),
                "awaiting second",
                "(not released)",
                seq(s)
            ),
            BatchResult::Skipped { .. } => {}
        }
    }
    let skipped: Vec<_> = report
        .rows
        .iter()
        .filter_map(|r| match &r.result {
            BatchResult::Skipped { reason } => Some((r, reason)),
            _ => None,
        })
        .collect();
    if !skipped.is_empty() {
        if report.approved() > 0 {
            println!();
        }
        println!("Skipped:");
        for (r, reason) in skipped {
            println!("{:<16}  {}", printable(&r.id, 16), printable(reason, 2000));
        }
    }
    println!();
    let batch = report
        .batch_id
        .as_ref()
        .map(|b| format!(" (batch {b})"))
        .unwrap_or_default();
    println!(
        "{} {verb}approved, {} skipped{batch}{}",
        report.approved(),
        report.skipped(),
        if report.dry_run {
            "; dry run: nothing changed"
        } else {
            ""
        }
    );
}

/// Refuse a reason that looks like a patient detail unless confirmed.
fn check_reason(reason: &str, confirmed: bool) -> anyhow::Result<()> {
    match crate::reason::patient_detail(reason) {
        Some(why) if !confirmed => anyhow::bail!(
            "the reason contains what looks like {why}; the signed ledger keeps it for good. Say why, never who; or, if it holds no patient details, pass --confirm-reason"
        ),
        _ => Ok(()),
    }
}

pub fn reject(ws: &Workspace, a: &RejectArgs) -> anyhow::Result<Exit> {
    check_reason(&a.reason, a.confirm_reason)?;
    let reviewer = load_reviewer(ws)?;
    let seq = release::reject(ws, &reviewer, &a.id, &a.reason)
        .with_context(|| format!("rejecting {}", printable(&a.id, 40)))?;
    println!("{}  rejected  (ledger seq {seq})", printable(&a.id, 40));
    Ok(Exit::Ok)
}

pub fn verify(ws: &Workspace, a: &VerifyArgs) -> anyhow::Result<Exit> {
    let checkpoint = match &a.checkpoint {
        Some(c) => Some(Head::parse(c).map_err(anyhow::Error::msg)?),
        None => None,
    };
    let anchor = match &a.trust {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the trust file {}", printable_path(path)))?;
            Some(
                Anchor::parse(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", printable_path(path)))?,
            )
        }
        None => None,
    };
    let report = crate::audit::verify_workspace(ws, checkpoint.as_ref(), anchor)
        .with_context(|| format!("verifying {}", printable_path(&ws.ledger_path())))?;
    let tampered = report.count(Severity::Tampered);
    let warnings = report.count(Severity::Warning);
    let exit = match report.worst() {
        Some(Severity::Tampered) => Exit::VerifyTampered,
        Some(Severity::Warning) => Exit::VerifyWarnings,
        _ => Exit::Ok,
    };
    let verdict = match exit {
        Exit::VerifyTampered => "tampered",
        Exit::VerifyWarnings => "warnings",
        _ => "clean",
    };
    if a.json {
        let v = json!({
            "ledger": printable_path(&ws.ledger_path()),
            "ledger_id": report.ledger_id,
            "entries": report.entries,
            "lines": report.lines,
            "released": report.releases.len(),
            "live_releases": report.releases,
            "withdrawn": report.withdrawn,
            "head": report.head.as_ref().map(Head::to_arg),
            "trust": report.trust,
            "tampered": tampered,
            "warnings": warnings,
            "result": verdict,
            "findings": report.findings,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(exit);
    }
    print!("{}", ledger::describe(&report));
    println!(
        "{}: {} entries in {} lines, {} output(s) released and live, {} withdrawn, ledger id {}",
        printable_path(&ws.ledger_path()),
        report.entries,
        report.lines,
        report.releases.len(),
        report.withdrawn.len(),
        report.ledger_id.as_deref().unwrap_or("-")
    );
    for w in &report.withdrawn {
        println!(
            "withdrawn: {} (item {}, released line {}) on line {} at {} by {}: {}",
            printable(&w.release.output_name, 80),
            printable(&w.release.item, 40),
            w.release.line,
            w.line,
            printable(&w.ts, 40),
            printable(&w.by, 200),
            printable(&w.reason, 300)
        );
    }
    if let Some(h) = &report.head {
        println!("head: {}", h.to_arg());
    }
    match &report.trust.administrator {
        Some(admin) => println!(
            "trust root: administrator {admin}, line {}{}; {} reviewer(s) enrolled",
            report.trust.administrator_line,
            if report.trust.anchored {
                ", matches your --trust copy"
            } else {
                " (not compared with your own copy: pass --trust)"
            },
            report.trust.enrolled.len()
        ),
        None => println!("trust root: none (legacy trust)"),
    }
    match exit {
        Exit::VerifyTampered => println!(
            "TAMPERED: {tampered} problem(s) show the ledger or an output is not what Veil wrote; {warnings} warning(s)"
        ),
        Exit::VerifyWarnings => println!(
            "OK with {warnings} warning(s): chain and signatures intact; read the warnings above"
        ),
        _ => println!("OK: chain, signatures, policy rules and released outputs all check out"),
    }
    Ok(exit)
}

pub fn checkpoint(ws: &Workspace) -> anyhow::Result<Exit> {
    // An enrolled reviewer signs the checkpoint, or else the administrator.
    let state = crate::admin::state(ws)?;
    let reviewer = match Reviewer::load() {
        Ok(r) if state.principal_of(&r.fingerprint()).is_some() => r,
        mine => match crate::admin::load_admin(ws) {
            Ok(a) => a,
            Err(_) => {
                let r = mine.context("loading the reviewer's signing key")?;
                anyhow::bail!(
                    "{} is not enrolled in this workspace, and no administrator key is at hand: only enrolled keys sign checkpoints",
                    r.fingerprint()
                );
            }
        },
    };
    let path = ws.ledger_path();
    let mut ledger = Ledger::open(&path)?;
    let report = ledger
        .append(&reviewer, vec![Entry::draft(EntryKind::Checkpoint)])
        .with_context(|| format!("appending a checkpoint to {}", printable_path(&path)))?;
    let bytes = ledger.bytes()?;
    drop(ledger);
    let last = ledger::entries(&bytes)
        .pop()
        .context("the checkpoint entry vanished")?;
    let line = bytes
        .split(|b| *b == b'\n')
        .nth(last.line - 1)
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .unwrap_or_default();
    let head = &report.head;
    println!(
        "Checkpoint of {} (ledger {}, seq {}, {}):",
        printable_path(&path),
        last.entry.ledger,
        last.entry.seq,
        last.entry.ts
    );
    println!();
    println!("    {}", head.to_arg());
    if let Some(root) = &state.root {
        println!(
            "    trust root: administrator {} ({}), {} reviewer(s) enrolled",
            printable(&root.name, 200),
            root.fingerprint,
            state.enrolled.len()
        );
    }
    println!();
    println!("The checkpoint's bytes include the trust root and every enrolment before it:");
    println!("a ledger rewritten under another administrator cannot extend it.");
    println!("Copy this line off the box (paper, another machine). Later, prove nothing was");
    println!("deleted or rewritten since:");
    println!("    veil verify --checkpoint {}", head.to_arg());
    println!("or without Veil:");
    println!(
        "    head -c {} ledger.jsonl | sha256sum    # must print {}",
        head.size, head.sha256
    );
    println!();
    println!(
        "Signed checkpoint entry (line {}, by {} {}):",
        last.line,
        printable(&last.entry.reviewer.name, 200),
        last.entry.reviewer.fingerprint
    );
    println!("{line}");
    Ok(Exit::Ok)
}

pub fn certificate(ws: &Workspace, a: &CertificateArgs) -> anyhow::Result<Exit> {
    let text = release::certificate(ws, &a.id)
        .with_context(|| format!("certificate for {}", printable(&a.id, 40)))?;
    print!("{text}");
    if a.write {
        let path = release::write_certificate(ws, &a.id)
            .with_context(|| format!("writing the certificate for {}", printable(&a.id, 40)))?;
        eprintln!("Wrote {}", printable_path(&path));
    }
    Ok(Exit::Ok)
}

pub fn withdraw(ws: &Workspace, a: &WithdrawArgs) -> anyhow::Result<Exit> {
    check_reason(&a.reason, a.confirm_reason)?;
    let signer = if a.as_admin {
        crate::admin::load_admin(ws).context("loading the administrator key")?
    } else {
        load_reviewer(ws)?
    };
    let w = crate::withdraw::withdraw(ws, &signer, &a.id, &a.reason)
        .with_context(|| format!("withdrawing {}", printable(&a.id, 40)))?;
    let done = if w.finished_earlier {
        "Finished the withdrawal"
    } else {
        "Withdrew"
    };
    println!(
        "{done} of {} (ledger seq {}), signed by {} ({}).",
        printable(&w.output_name, 80),
        w.seq,
        printable(&signer.name, 200),
        signer.fingerprint()
    );
    match &w.kept {
        Some(p) => println!(
            "The output and its certificate (marked WITHDRAWN) are now in {}; out/ no longer holds them.",
            printable_path(p.parent().unwrap_or(p))
        ),
        None => println!("The output was no longer in out/; its certificate is marked WITHDRAWN."),
    }
    println!(
        "The item is pending again: re-review it (`veil review`), and every copy made since the release should be deleted."
    );
    Ok(Exit::Ok)
}
