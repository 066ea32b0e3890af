//! Command-line definitions (clap derive), shell completions and man page.

use crate::checklist::Gate;
use crate::item::ItemState;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// De-identify clinical photographs: ingest originals, review masks in the
/// terminal, approve through checklist gates, release metadata-free copies,
/// and keep a signed, hash-chained ledger that a third party can verify.
#[derive(Debug, Parser)]
#[command(name = "veil", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// Workspace folder (policy, items, outputs, ledger) [default: ./veil-work;
    /// for `demo`: ./veil-demo].
    #[arg(long, global = true, env = "VEIL_WORKSPACE")]
    pub workspace: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a workspace with a commented policy (veil.toml).
    Init,
    /// Hash, inventory and face-detect a folder of originals (never modified).
    Ingest(IngestArgs),
    /// The review queue.
    List(ListArgs),
    /// One item in full: metadata found, masks, gates, state.
    Show(ShowArgs),
    /// Write the redacted, metadata-free derivative of one item.
    Render(RenderArgs),
    /// Open the review station (keyboard TUI).
    Review(ReviewArgs),
    /// Manage this user's reviewer identity and signing key.
    #[command(subcommand)]
    Reviewer(ReviewerCommand),
    /// The workspace's trust root: enrol and revoke reviewers, record the policy.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Approve items through every gate: release outputs and sign ledger entries.
    Approve(ApproveArgs),
    /// Reject an item; it is never released.
    Reject(RejectArgs),
    /// Take a release back (a leak found after release); history is kept.
    Withdraw(WithdrawArgs),
    /// Check the ledger's chain, signatures, policy rules and released outputs.
    Verify(VerifyArgs),
    /// Print a signed checkpoint of the ledger's head, to copy off the box.
    Checkpoint,
    /// Print the plain-text certificate of a released output.
    Certificate(CertificateArgs),
    /// Make a demo workspace from the bundled sample photos and ingest them.
    Demo(DemoArgs),
    /// Print shell completions.
    Completions {
        /// Shell to generate for.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Folders or files to ingest (folders are walked recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only items in this state.
    #[arg(long, value_parser = parse_state)]
    pub state: Option<ItemState>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Item id (or a unique prefix of at least 4 characters).
    pub id: String,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// Item id (or a unique prefix).
    pub id: String,
    /// Where to write the output (refused if it exists, unless --force).
    #[arg(long)]
    pub out: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

/// How the review station draws images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphicsChoice {
    /// Ask the terminal (falls back to half-blocks).
    Auto,
    Sixel,
    Kitty,
    Iterm2,
    Halfblocks,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// Image protocol; `auto` queries the terminal.
    #[arg(long, value_enum, default_value_t = GraphicsChoice::Auto)]
    pub graphics: GraphicsChoice,
    /// Theme name from themes/ (default: the policy's).
    #[arg(long)]
    pub theme: Option<String>,
    /// Start at this item.
    pub id: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ReviewerCommand {
    /// Create this user's ed25519 signing key (an administrator then enrols it).
    Init {
        /// The reviewer's name as it appears in the ledger.
        #[arg(long)]
        name: String,
        /// Use an existing OpenSSH ed25519 private key instead of creating one.
        #[arg(long)]
        ssh_key: Option<PathBuf>,
    },
    /// Show the current reviewer identity.
    Show,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Become this workspace's administrator: create the administrator key
    /// (`$VEIL_ADMIN_KEY` or <config>/admin_ed25519), sign the ledger's trust
    /// root and record veil.toml as the policy in force.
    Init {
        /// The administrator's name as entries record it (a role is fine).
        #[arg(long)]
        name: String,
    },
    /// Enrol a reviewer's public key under a principal.
    Enrol {
        /// The reviewer's name as it appears in the ledger.
        #[arg(long)]
        name: String,
        /// The public key, `ssh-ed25519 AAAA...` (see `veil reviewer show`).
        #[arg(
            long,
            conflicts_with = "key_file",
            required_unless_present = "key_file"
        )]
        key: Option<String>,
        /// A file holding the public key (e.g. reviewer_ed25519.pub).
        #[arg(long)]
        key_file: Option<PathBuf>,
        /// The person [default: derived from --name, e.g. dr-a-reviewer@veil];
        /// two approvals need two different principals.
        #[arg(long)]
        principal: Option<String>,
        /// The key signs nothing before this (RFC 3339 time or YYYY-MM-DD).
        #[arg(long)]
        valid_after: Option<String>,
        /// The key signs nothing after this (RFC 3339 time or YYYY-MM-DD).
        #[arg(long)]
        valid_before: Option<String>,
    },
    /// End an enrolment: the key signs nothing after this entry.
    Revoke {
        /// The key's fingerprint (SHA256:...) or its principal.
        who: String,
    },
    /// Record veil.toml, as it is now, as the policy in force.
    Policy,
    /// Rewrite allowed_signers from the ledger's enrolments (for ssh-keygen).
    Export,
    /// The trust root, the policy in force and every enrolment.
    Show,
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// Items to approve (ids or unique prefixes).
    #[arg(conflicts_with = "batch", required_unless_present = "batch")]
    pub ids: Vec<String>,
    /// Approve every item whose gates all pass.
    #[arg(long)]
    pub batch: bool,
    /// With --batch: which items to consider.
    #[arg(long, value_parser = parse_state, default_value = "ready", requires = "batch")]
    pub state: ItemState,
    /// Say what would be approved and skipped; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Gates attested with this approval: reflections, edges, identifiers.
    #[arg(long, value_delimiter = ',', value_parser = parse_attested)]
    pub attest: Vec<Gate>,
    /// Also flag the items high-stakes (they then need a second reviewer).
    #[arg(long)]
    pub high_stakes: bool,
}

#[derive(Debug, Args)]
pub struct RejectArgs {
    /// Item id (or a unique prefix).
    pub id: String,
    /// Why it is rejected (recorded for good in the signed ledger: say
    /// why, never who).
    #[arg(long)]
    pub reason: String,
    /// Record the reason exactly as typed although it looks like a name,
    /// a record number or a date (checked: it holds no patient details).
    #[arg(long)]
    pub confirm_reason: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A head exported earlier (`veil checkpoint`), as SIZE:HASH; proves
    /// the ledger still extends it.
    #[arg(long)]
    pub checkpoint: Option<String>,
    /// Your own copy of the trust root: the administrator's public key (a
    /// .pub file) or an allowed_signers file exported by `veil admin export`.
    /// Without it, verify believes the administrator the ledger names.
    #[arg(long)]
    pub trust: Option<PathBuf>,
    /// Machine-readable report.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CertificateArgs {
    /// Item id (or a unique prefix).
    pub id: String,
    /// Also (re)write `out/<name>.certificate.txt` from the ledger, e.g.
    /// after `veil verify` reports it missing.
    #[arg(long)]
    pub write: bool,
}

#[derive(Debug, Args)]
pub struct WithdrawArgs {
    /// Item id (or a unique prefix) of the released item.
    pub id: String,
    /// Why it is withdrawn (recorded for good in the ledger and on the
    /// certificate: say why, never who).
    #[arg(long)]
    pub reason: String,
    /// Record the reason exactly as typed although it looks like a name,
    /// a record number or a date (checked: it holds no patient details).
    #[arg(long)]
    pub confirm_reason: bool,
    /// Sign as the workspace's administrator (its key from VEIL_ADMIN_KEY
    /// or the default place) instead of your reviewer key.
    #[arg(long)]
    pub as_admin: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Only create and ingest; do not open the review station.
    #[arg(long)]
    pub no_review: bool,
}

fn parse_state(s: &str) -> Result<ItemState, String> {
    s.parse()
}

/// A gate the reviewer may attest (`--attest`), or why not.
fn parse_attested(s: &str) -> Result<Gate, String> {
    let name = s.trim().to_ascii_lowercase();
    match Gate::from_name(&name) {
        Some(g) if Gate::ATTESTED.contains(&g) => Ok(g),
        Some(g) => Err(format!(
            "Veil measures the {g} gate; only reflections, edges and identifiers can be attested"
        )),
        None => Err(format!(
            "'{}' is not a gate (reflections, edges, identifiers)",
            crate::text::printable(&name, 40)
        )),
    }
}

/// Write completions for `shell` to `out`.
pub(crate) fn write_completions(shell: clap_complete::Shell, out: &mut dyn std::io::Write) {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "veil", out);
}

/// Write the man page (roff) to `out`.
pub(crate) fn write_man(out: &mut dyn std::io::Write) -> std::io::Result<()> {
    use clap::CommandFactory;
    clap_mangen::Man::new(Cli::command()).render(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_cli_definition_is_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
