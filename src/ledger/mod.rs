//! The approval ledger (`ledger.jsonl`): signed, hash-chained entries, one
//! canonical JSON object per line.
//!
//! The pure parts (canonical bytes, entries, [`verify`]) do no I/O. The
//! edge is [`Ledger`] (append under an exclusive lock, then `sync_data`)
//! and [`verify_workspace`] (reads the files and checks released outputs).
//!
//! Torn tail: bytes after the last complete entry (an interrupted write)
//! are never counted and never deleted. The next append writes a newline,
//! then a signed `recovered` entry naming their offset, length and SHA-256;
//! `verify` accepts non-entry bytes only where such an entry accounts for
//! them exactly. The file is therefore strictly append-only.
//!
//! Checkpoint: `SIZE:HASH` is the ledger's length in bytes and the SHA-256
//! of those bytes; a later ledger must start with exactly those bytes
//! (`head -c SIZE ledger.jsonl | sha256sum`).

use std::fmt::Write as _;

/// Entry format version. Version 1 entries (before the administrator and
/// enrolments) verify as legacy trust.
pub const LEDGER_VERSION: u64 = 2;
/// The version written before the trust root existed.
pub(crate) const LEGACY_VERSION: u64 = 1;
/// `prev` of the header line.
pub(crate) const ZERO_HASH: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";
/// Largest integer a ledger may carry (2^53 − 1): every JSON reader agrees on it.
pub(crate) const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

mod append;
mod canonical_json;
mod entry;
mod lines;
mod verify;

pub use append::*;
pub use canonical_json::*;
pub use entry::*;
pub use lines::*;
pub use verify::*;

/// The first 12 characters of a hash or id, for messages.
pub(crate) fn short(s: &str) -> &str {
    s.get(..12).unwrap_or(s)
}

#[cfg(test)]
mod tests;
