//! What each subcommand does, at the edge between the CLI and the library.
//! Errors here are `anyhow` with context naming the file or item.

mod admin;
mod approval;
mod queue;
mod review;

use crate::cli::{Cli, Command};
use crate::workspace::Workspace;
use anyhow::Context;
use std::path::Path;
use std::process::ExitCode;

/// Exit statuses; each means one thing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything asked for was done.
    Ok = 0,
    /// An error stopped the command (bad input, I/O); nothing half-written.
    Error = 1,
    /// Some items failed or were refused; the rest were done.
    Partial = 3,
    /// `verify`: warnings only (chain and signatures intact).
    VerifyWarnings = 4,
    /// `verify`: tampering or a broken chain was found.
    VerifyTampered = 5,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// Where `veil demo` puts its workspace unless told otherwise, so a demo
/// never mixes sample photos into a real queue.
pub const DEMO_WORKSPACE: &str = "veil-demo";

/// Run one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<Exit> {
    let default = match cli.command {
        Command::Demo(_) => DEMO_WORKSPACE,
        _ => crate::workspace::DEFAULT_WORKSPACE,
    };
    let root = cli.workspace.unwrap_or_else(|| default.into());
    let ws = root.as_path();
    match cli.command {
        Command::Init => queue::init(ws),
        Command::Ingest(a) => queue::ingest(&open(ws)?, &a),
        Command::List(a) => queue::list(&open(ws)?, &a),
        Command::Show(a) => queue::show(&open(ws)?, &a),
        Command::Render(a) => queue::render(&open(ws)?, &a),
        Command::Demo(a) => queue::demo(ws, &a),
        Command::Review(a) => review::review(&open(ws)?, &a),
        Command::Reviewer(c) => approval::reviewer(ws, &c),
        Command::Admin(c) => admin::admin(&open(ws)?, &c),
        Command::Approve(a) => approval::approve(&open(ws)?, &a),
        Command::Reject(a) => approval::reject(&open(ws)?, &a),
        Command::Withdraw(a) => approval::withdraw(&open(ws)?, &a),
        Command::Verify(a) => approval::verify(&open(ws)?, &a),
        Command::Checkpoint => approval::checkpoint(&open(ws)?),
        Command::Certificate(a) => approval::certificate(&open(ws)?, &a),
        Command::Completions { shell } => {
            crate::cli::write_completions(shell, &mut std::io::stdout());
            Ok(Exit::Ok)
        }
        Command::Man => {
            crate::cli::write_man(&mut std::io::stdout()).context("writing the man page")?;
            Ok(Exit::Ok)
        }
    }
}

fn open(path: &Path) -> anyhow::Result<Workspace> {
    Ok(Workspace::open(path)?)
}
