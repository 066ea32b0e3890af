//! reviewer, approve, reject, verify, checkpoint, certificate.

use super::Exit;
use crate::cli::{ApproveArgs, CertificateArgs, RejectArgs, ReviewerCommand, VerifyArgs};
use crate::workspace::Workspace;
use std::path::Path;

pub fn reviewer(_ws: &Path, _c: &ReviewerCommand) -> anyhow::Result<Exit> {
    anyhow::bail!("`veil reviewer` is not built yet")
}
pub fn approve(_ws: &Workspace, _a: &ApproveArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("`veil approve` is not built yet")
}
pub fn reject(_ws: &Workspace, _a: &RejectArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("`veil reject` is not built yet")
}
pub fn verify(_ws: &Workspace, _a: &VerifyArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("`veil verify` is not built yet")
}
pub fn checkpoint(_ws: &Workspace) -> anyhow::Result<Exit> {
    anyhow::bail!("`veil checkpoint` is not built yet")
}
pub fn certificate(_ws: &Workspace, _a: &CertificateArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("`veil certificate` is not built yet")
}
