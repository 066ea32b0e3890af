//! admin init, enrol, revoke, policy, export, show.

use super::Exit;
use crate::admin;
use crate::cli::AdminCommand;
use crate::keys::{self, Reviewer};
use crate::text::{printable, printable_path};
use crate::trust::Enrolment;
use crate::workspace::Workspace;
use anyhow::Context;

pub fn admin(ws: &Workspace, c: &AdminCommand) -> anyhow::Result<Exit> {
    match c {
        AdminCommand::Init { name } => {
            let (me, created) =
                Reviewer::admin_init(name).context("setting up the administrator key")?;
            let report = admin::init(ws, &me)?;
            println!(
                "{} administrator key {} ({})",
                if created { "Created" } else { "Using existing" },
                printable_path(&me.key_path),
                me.fingerprint()
            );
            println!(
                "Trust root signed in {} (line {}), with veil.toml as the policy in force.",
                printable_path(&ws.ledger_path()),
                report.entries.first().map(|a| a.line).unwrap_or_default()
            );
            println!();
            println!("Copy the administrator's public key off this box; auditors check with it:");
            println!("    {}", me.public_openssh());
            println!("    veil verify --trust admin.pub");
            println!();
            println!("Next: each reviewer runs `veil reviewer init --name ...` and sends you the");
            println!("`veil admin enrol ...` line it prints.");
            Ok(Exit::Ok)
        }
        AdminCommand::Enrol {
            name,
            key,
            key_file,
            principal,
            valid_after,
            valid_before,
        } => {
            let me = admin::load_admin(ws)?;
            let text = match (key, key_file) {
                (Some(k), _) => k.clone(),
                (None, Some(f)) => std::fs::read_to_string(f)
                    .with_context(|| format!("reading {}", printable_path(f)))?,
                (None, None) => {
                    anyhow::bail!("give the reviewer's public key with --key or --key-file")
                }
            };
            let public = keys::parse_public(&text).map_err(anyhow::Error::msg)?;
            let enrolment = Enrolment {
                principal: principal
                    .clone()
                    .unwrap_or_else(|| keys::principal_for(name)),
                key: keys::public_openssh(&public),
                name: name.trim().to_string(),
                valid_after: valid_after.as_deref().map(admin::parse_time).transpose()?,
                valid_before: valid_before.as_deref().map(admin::parse_time).transpose()?,
            };
            let report = admin::enrol(ws, &me, enrolment.clone())?;
            println!(
                "Enrolled {} as {} ({}), ledger seq {}",
                printable(&enrolment.name, 200),
                printable(&enrolment.principal, 100),
                keys::fingerprint_of(&public),
                report.entries.first().map(|a| a.seq).unwrap_or_default()
            );
            Ok(Exit::Ok)
        }
        AdminCommand::Revoke { who } => {
            let me = admin::load_admin(ws)?;
            let report = admin::revoke(ws, &me, who)?;
            println!(
                "Revoked {} key(s) of {}; they sign nothing after ledger seq {}",
                report.entries.len(),
                printable(who, 100),
                report.entries.first().map(|a| a.seq).unwrap_or_default()
            );
            Ok(Exit::Ok)
        }
        AdminCommand::Policy => {
            let me = admin::load_admin(ws)?;
            let report = admin::record_policy(ws, &me)?;
            println!(
                "veil.toml (policy {}) is now the policy in force (ledger seq {})",
                ws.policy.digest(),
                report.entries.first().map(|a| a.seq).unwrap_or_default()
            );
            Ok(Exit::Ok)
        }
        AdminCommand::Export => {
            let path = admin::export(ws)?;
            println!(
                "Wrote {} from the ledger's enrolments",
                printable_path(&path)
            );
            Ok(Exit::Ok)
        }
        AdminCommand::Show => {
            let state = admin::state(ws)?;
            match &state.root {
                Some(r) => println!(
                    "Administrator: {} ({}), ledger line {}",
                    printable(&r.name, 200),
                    r.fingerprint,
                    r.line
                ),
                None => println!("Administrator: none (legacy trust; run `veil admin init`)"),
            }
            match &state.policy {
                Some(p) => println!(
                    "Policy:        {} (line {}){}",
                    p.digest,
                    p.line,
                    if p.digest == ws.policy.digest() {
                        ""
                    } else {
                        "; veil.toml differs: run `veil admin policy`"
                    }
                ),
                None => println!("Policy:        none recorded"),
            }
            println!("Enrolled reviewers: {}", state.enrolled.len());
            for e in state.enrolled.values() {
                let window = match (e.validity.after, e.validity.before) {
                    (None, None) => String::new(),
                    (a, b) => format!(
                        "  valid {} to {}",
                        a.map(|t| t.to_string()).unwrap_or_else(|| "-".into()),
                        b.map(|t| t.to_string()).unwrap_or_else(|| "-".into())
                    ),
                };
                println!(
                    "  {:<28} {}  {}  (line {}){window}",
                    printable(&e.principal, 60),
                    e.fingerprint,
                    printable(&e.name, 80),
                    e.line
                );
            }
            for (fp, line) in &state.revoked {
                println!("  revoked: {fp} (line {line})");
            }
            Ok(Exit::Ok)
        }
    }
}
