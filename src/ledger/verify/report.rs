//! What verification found: findings by line and severity, releases,
//! withdrawals, the trust summary, and the report as text.

use super::*;
use serde::Serialize;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing, not a problem (a recorded crash recovery).
    Note,
    /// Chain and signatures intact, but something needs a look.
    Warning,
    /// The ledger or a released output is not what Veil wrote.
    Tampered,
}

/// One thing `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// 1-based line in `ledger.jsonl` (0: about the ledger as a whole).
    pub line: usize,
    pub severity: Severity,
    pub message: String,
}

/// A released output, as the ledger records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Release {
    pub line: usize,
    pub seq: u64,
    pub item: String,
    pub output_name: String,
    pub output_sha256: String,
}

/// A release taken back by a `withdraw` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Withdrawal {
    pub release: Release,
    /// Line and seq of the `withdraw` entry.
    pub line: usize,
    pub seq: u64,
    pub ts: String,
    /// The signer's name and fingerprint.
    pub by: String,
    pub reason: String,
}

/// Everything `verify` found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    pub ledger_id: Option<String>,
    /// Entries counted (lines that are valid entries).
    pub entries: usize,
    pub lines: usize,
    /// Live releases: released and not withdrawn.
    pub releases: Vec<Release>,
    /// Releases taken back, in ledger order.
    pub withdrawn: Vec<Withdrawal>,
    pub findings: Vec<Finding>,
    /// The head of the bytes checked.
    pub head: Option<Head>,
    /// Who the ledger says may sign, and whether the auditor's copy agreed.
    pub trust: TrustSummary,
}

impl VerifyReport {
    /// How many findings have severity `s`.
    pub fn count(&self, s: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == s).count()
    }
    /// The worst finding, if any is worse than a note.
    pub fn worst(&self) -> Option<Severity> {
        self.findings
            .iter()
            .map(|f| f.severity)
            .filter(|s| *s > Severity::Note)
            .max()
    }
    /// Add a finding on `line` (0: the ledger as a whole).
    pub(crate) fn push(&mut self, line: usize, severity: Severity, message: String) {
        self.findings.push(Finding {
            line,
            severity,
            message,
        });
    }
}

/// A run of non-entry lines waiting for the entry that accounts for it.
pub(in crate::ledger) struct Debris {
    pub(in crate::ledger) start: usize,
    pub(in crate::ledger) first_line: usize,
}

/// What `verify` learnt about who signs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TrustSummary {
    /// `SHA256:…` of the administrator key, with its name and line.
    pub administrator: Option<String>,
    pub administrator_line: usize,
    /// True when the administrator key matched the auditor's own copy.
    pub anchored: bool,
    /// Entries before the trust root, checked against `allowed_signers` only.
    pub legacy_entries: usize,
    /// Active enrolments at the end: `principal (SHA256:…)`.
    pub enrolled: Vec<String>,
}

/// Render the report as text lines: `line 7: TAMPERED: ...`.
pub fn describe(report: &VerifyReport) -> String {
    let mut s = String::new();
    for f in &report.findings {
        let label = match f.severity {
            Severity::Note => "note",
            Severity::Warning => "WARNING",
            Severity::Tampered => "TAMPERED",
        };
        // Messages can quote entry fields: never let them drive the terminal.
        let message = crate::text::printable(&f.message, 2000);
        if f.line == 0 {
            let _ = writeln!(s, "ledger: {label}: {message}");
        } else {
            let _ = writeln!(s, "line {}: {label}: {message}", f.line);
        }
    }
    s
}
