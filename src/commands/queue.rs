//! init, ingest, list, show, render, demo.

use super::Exit;
use crate::cli::{DemoArgs, IngestArgs, ListArgs, RenderArgs, ShowArgs};
use crate::workspace::Workspace;
use std::path::Path;

pub fn init(_ws: &Path) -> anyhow::Result<Exit> {
    anyhow::bail!("not built yet")
}
pub fn ingest(_ws: &Workspace, _a: &IngestArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("not built yet")
}
pub fn list(_ws: &Workspace, _a: &ListArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("not built yet")
}
pub fn show(_ws: &Workspace, _a: &ShowArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("not built yet")
}
pub fn render(_ws: &Workspace, _a: &RenderArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("not built yet")
}
pub fn demo(_ws: &Path, _a: &DemoArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("not built yet")
}
