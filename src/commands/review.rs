//! `veil review`: open the review station.

use super::Exit;
use crate::cli::ReviewArgs;
use crate::workspace::Workspace;

pub fn review(_ws: &Workspace, _a: &ReviewArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("`veil review` is not built yet")
}
