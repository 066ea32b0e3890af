//! What each subcommand does, at the edge between the CLI and the library.
//! Errors here are `anyhow` with context naming the file or item.

mod admin;
mod approval;
mod queue;
mod review;

use crate::cli::{Cli, Command};
use crate::text::printable_path;
use crate::workspace::{DEFAULT_WORKSPACE, Workspace, WorkspaceError};
use anyhow::Context;
use std::path::{Path, PathBuf};
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
pub(crate) const DEMO_WORKSPACE: &str = "veil-demo";

/// An error and its causes as one line, `outer: inner: …`, each cause
/// said once: an error whose own message already ends with its cause's
/// (`path: No such file or directory`) is not followed by it again.
pub fn error_chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.ends_with(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

/// Run one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<Exit> {
    let named = cli.workspace.is_some();
    let root = match (cli.workspace, &cli.command) {
        (Some(p), _) => p,
        (None, Command::Demo(_)) => DEMO_WORKSPACE.into(),
        (None, Command::Init) => DEFAULT_WORKSPACE.into(),
        (None, _) => found_workspace(),
    };
    let ws = root.as_path();
    let open = |path: &Path| open(path, named);
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

/// The workspace a command means when none is named: see
/// [`crate::workspace::discover`]; else `./veil-work` (to be refused as
/// missing, with a hint). A workspace found in a folder above says so.
fn found_workspace() -> PathBuf {
    let here = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    match crate::workspace::discover(&here) {
        Some(root) => {
            if root != here && root != here.join(DEFAULT_WORKSPACE) {
                eprintln!("veil: using the workspace {}", printable_path(&root));
            }
            root
        }
        None => DEFAULT_WORKSPACE.into(),
    }
}

fn open(path: &Path, named: bool) -> anyhow::Result<Workspace> {
    match Workspace::open(path) {
        Ok(ws) => Ok(ws),
        Err(e @ WorkspaceError::Missing { .. })
            if !named && Path::new(DEMO_WORKSPACE).join("veil.toml").is_file() =>
        {
            Err(anyhow::anyhow!(
                "{e}; the demo's workspace is here: `cd {DEMO_WORKSPACE}` to use it"
            ))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::error_chain;

    #[test]
    fn each_cause_is_said_once() {
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        let walk = crate::ingest::IngestError::Walk {
            path: "../photos".into(),
            source: io,
        };
        let e = anyhow::Error::new(walk).context("ingest");
        assert_eq!(error_chain(&e), "ingest: ../photos: entity not found");
        let e = anyhow::anyhow!("inner").context("outer");
        assert_eq!(error_chain(&e), "outer: inner");
    }
}
