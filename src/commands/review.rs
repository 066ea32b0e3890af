//! `veil review`: open the review station.

use super::Exit;
use crate::cli::ReviewArgs;
use crate::workspace::Workspace;

pub fn review(ws: &Workspace, a: &ReviewArgs) -> anyhow::Result<Exit> {
    crate::tui::run_review(ws, a)?;
    Ok(Exit::Ok)
}
