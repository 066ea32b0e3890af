//! The edge that writes: append under an exclusive lock, `sync_data`,
//! and account for a torn tail with a signed `recovered` entry (never
//! truncating). Invariant: the file only grows.

use super::*;
use crate::keys::Reviewer;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Problems reading or appending the ledger. Each names the file.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{path}: is a symbolic link; Veil never writes through one (replace it with the real file)"
    )]
    Symlink { path: PathBuf },
    #[error(
        "{path}: fsync failed ({source}); the entries are NOT confirmed durable, nothing is approved — check the disk and run `veil verify`"
    )]
    Sync {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{path} line {line}: {problem}; nothing was appended — run `veil verify` and restore the ledger from a copy before approving more"
    )]
    Damaged {
        path: PathBuf,
        line: usize,
        problem: String,
    },
    #[error("cannot sign a ledger entry: {0}")]
    Sign(String),
}

/// What one append wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub seq: u64,
    /// SHA-256 of the written line.
    pub hash: String,
    /// 1-based line number.
    pub line: usize,
}

/// The result of [`Ledger::append`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendReport {
    /// One per draft, in order.
    pub entries: Vec<Appended>,
    /// Interrupted-write bytes that a `recovered` entry now accounts for.
    pub recovered: Option<Discarded>,
    /// True when this append created the header.
    pub created: bool,
    /// The ledger's head after the append.
    pub head: Head,
}

/// Where the next entry goes: found by reading the file from the tail.
#[derive(Debug, Clone)]
pub(super) struct Tail {
    ledger: Option<String>,
    next_seq: u64,
    prev: String,
    /// 1-based number of the last line holding an entry (0: none).
    last_line: usize,
    /// Bytes after the last entry: `(offset, bytes)`.
    debris: Option<(usize, Vec<u8>)>,
    /// The file ends in a whole entry that continues the chain but lost its
    /// newline: the append writes the newline and builds on it. Such an
    /// entry is never claimed as debris, so no claim ever covers a
    /// complete, validly signed entry.
    finish_line: bool,
}

/// Whether the final piece of `bytes` (no newline) is a whole entry of
/// `ledger` that follows `seq`/`prev`: `(entry, line index)`.
pub(super) fn torn_whole_entry(
    bytes: &[u8],
    lines: &[RawLine],
    ledger: Option<&str>,
    next_seq: u64,
    prev: &str,
) -> Option<Entry> {
    let last = lines.last().filter(|l| !l.complete)?;
    let e = parse_line(&bytes[last.start..last.end]).ok()?;
    let fits = match ledger {
        Some(id) => e.ledger == id,
        None => e.kind == EntryKind::Header,
    };
    (fits && e.seq == next_seq && e.prev == prev).then_some(e)
}

/// Find the header and the last valid entry; everything after that entry
/// is debris, which must be crash debris (not JSON), never a whole JSON
/// line: those mean damage and stop the append.
pub(super) fn find_tail(bytes: &[u8], path: &Path) -> Result<Tail, LedgerError> {
    let lines = split_lines(bytes);
    let damaged = |line: usize, problem: String| LedgerError::Damaged {
        path: path.to_path_buf(),
        line,
        problem,
    };
    // The header: the first line that parses as an entry.
    let claimed = claimed_lines_quick(bytes, &lines);
    let mut header: Option<(usize, Entry)> = None;
    for (n, l) in lines.iter().enumerate() {
        if !l.complete {
            break;
        }
        match parse_line(&bytes[l.start..l.end]) {
            // A torn header, whole but for its newline, claimed as debris
            // by the header written after it (the same claims `verify` honours).
            Ok(_) if claimed[n] => continue,
            Ok(e) if e.kind == EntryKind::Header && e.seq == 0 => {
                header = Some((n, e));
                break;
            }
            Ok(e) => {
                return Err(damaged(
                    n + 1,
                    format!("the first entry is a '{}', not the header", e.kind.as_str()),
                ));
            }
            Err(LineError::NotJson) => continue,
            Err(e) => return Err(damaged(n + 1, line_problem(&e))),
        }
    }
    let Some((header_at, header)) = header else {
        // No ledger yet: anything here is debris of a first write.
        check_debris(bytes, &lines, 0, path)?;
        if let Some(h) = torn_whole_entry(bytes, &lines, None, 0, ZERO_HASH) {
            // Debris before it would have been claimed by the header itself.
            if lines.len() == 1 && h.discarded.is_none() {
                return Ok(Tail {
                    ledger: Some(h.ledger),
                    next_seq: 1,
                    prev: sha256_hex(bytes),
                    last_line: 1,
                    debris: None,
                    finish_line: true,
                });
            }
        }
        return Ok(Tail {
            ledger: None,
            next_seq: 0,
            prev: ZERO_HASH.to_string(),
            last_line: 0,
            debris: (!bytes.is_empty()).then(|| (0, bytes.to_vec())),
            finish_line: false,
        });
    };
    let mut last: Option<(usize, Entry)> = None;
    for n in (header_at..lines.len()).rev() {
        let l = lines[n];
        if !l.complete {
            continue;
        }
        if let Ok(e) = parse_line(&bytes[l.start..l.end])
            && e.ledger == header.ledger
        {
            last = Some((n, e));
            break;
        }
    }
    let (last_at, last) = last.unwrap_or((header_at, header.clone()));
    let last_line = lines[last_at];
    let after = last_line.end + 1;
    check_debris(bytes, &lines, last_at + 1, path)?;
    let prev = sha256_hex(&bytes[last_line.start..last_line.end]);
    if let Some(e) = torn_whole_entry(bytes, &lines, Some(&header.ledger), last.seq + 1, &prev)
        && (last_at + 2 == lines.len()
            || e.discarded.as_ref().is_some_and(|d| {
                // A torn recovered entry: whole, it claims exactly the
                // bytes between the last entry and itself.
                d.offset == after as u64
                    && lines
                        .last()
                        .is_some_and(|t| d.offset + d.length + 1 == t.start as u64)
            }))
    {
        let torn = lines[lines.len() - 1];
        return Ok(Tail {
            ledger: Some(header.ledger),
            next_seq: e.seq + 1,
            prev: sha256_hex(&bytes[torn.start..torn.end]),
            last_line: lines.len(),
            debris: None,
            finish_line: true,
        });
    }
    Ok(Tail {
        ledger: Some(header.ledger),
        next_seq: last.seq + 1,
        prev,
        last_line: last_at + 1,
        debris: (after < bytes.len()).then(|| (after, bytes[after..].to_vec())),
        finish_line: false,
    })
}

/// Whole lines from `from` on must not be JSON: a crash leaves a prefix of
/// one line without its newline.
pub(super) fn check_debris(
    bytes: &[u8],
    lines: &[RawLine],
    from: usize,
    path: &Path,
) -> Result<(), LedgerError> {
    // A final line without its newline is torn whatever it holds (even a
    // whole entry whose newline never made it).
    for (n, l) in lines
        .iter()
        .enumerate()
        .skip(from)
        .filter(|(_, l)| l.complete)
    {
        let raw = &bytes[l.start..l.end];
        if serde_json::from_slice::<Value>(raw).is_ok() {
            let problem = match parse_line(raw) {
                Ok(_) => {
                    "an entry that does not continue this ledger (another ledger's, or misplaced)"
                        .to_string()
                }
                Err(e) => line_problem(&e),
            };
            return Err(LedgerError::Damaged {
                path: path.to_path_buf(),
                line: n + 1,
                problem,
            });
        }
    }
    Ok(())
}

/// Why a line is not an entry, in words for a finding.
pub(super) fn line_problem(e: &LineError) -> String {
    match e {
        LineError::NotJson => "not JSON".into(),
        LineError::NotCanonical(why) => format!("not in canonical form ({why})"),
        LineError::NotEntry(why) => format!("not a ledger entry ({why})"),
    }
}

/// The ledger file, open for appending and exclusively locked until dropped.
#[derive(Debug)]
pub struct Ledger {
    file: fs::File,
    path: PathBuf,
}

impl Ledger {
    /// Open (creating, mode 0640) with O_APPEND|O_NOFOLLOW and take the
    /// exclusive lock; blocks while another process holds it.
    pub fn open(path: &Path) -> Result<Ledger, LedgerError> {
        let mut opts = fs::OpenOptions::new();
        opts.read(true).append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o640).custom_flags(libc::O_NOFOLLOW);
        }
        let file = match opts.open(path) {
            Ok(f) => f,
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(LedgerError::Symlink {
                    path: path.to_path_buf(),
                });
            }
            Err(e) => return Err(io_err(path, e)),
        };
        file.lock().map_err(|e| io_err(path, e))?;
        Ok(Ledger {
            file,
            path: path.to_path_buf(),
        })
    }

    /// The ledger file this handle appends to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The whole file as it is now (the lock keeps it still).
    pub fn bytes(&mut self) -> Result<Vec<u8>, LedgerError> {
        let mut buf = Vec::new();
        self.file
            .seek(io::SeekFrom::Start(0))
            .and_then(|_| self.file.read_to_end(&mut buf))
            .map_err(|e| io_err(&self.path, e))?;
        Ok(buf)
    }

    /// Sign and append `drafts` in one write and one `sync_data`. Creates
    /// the header when the file is new, and first accounts for any torn
    /// tail with a `recovered` entry. `checkpoint` drafts get their `head`.
    /// On error nothing may be reported as recorded.
    pub fn append(
        &mut self,
        reviewer: &Reviewer,
        drafts: Vec<Entry>,
    ) -> Result<AppendReport, LedgerError> {
        let mut bytes = self.bytes()?;
        let tail = find_tail(&bytes, &self.path)?;
        let signer = Signer {
            name: reviewer.name.clone(),
            key: reviewer.public_openssh(),
            fingerprint: reviewer.fingerprint(),
        };
        let ts = crate::clock::now_ts();
        let mut out: Vec<u8> = Vec::new();
        let mut prev = tail.prev.clone();
        let mut line_no = tail.last_line;
        let mut recovered = None;
        let mut created = false;
        let ledger_id = match &tail.ledger {
            Some(id) => id.clone(),
            None => crate::random::hex(16),
        };
        let mut pending: Vec<(Entry, bool)> = Vec::new();
        if tail.finish_line {
            out.push(b'\n');
        }
        if tail.ledger.is_none() {
            created = true;
            pending.push((Entry::draft(EntryKind::Header), false));
        }
        if let Some((offset, debris)) = &tail.debris {
            // Terminate the debris so the next entry starts a line.
            out.push(b'\n');
            line_no += debris.iter().filter(|b| **b == b'\n').count() + 1;
            let d = Discarded {
                offset: *offset as u64,
                length: debris.len() as u64,
                sha256: sha256_hex(debris),
            };
            // Debris of a first write is claimed by the header itself, so
            // the claim and the header land (or tear) together.
            if let Some((header, _)) = pending.first_mut() {
                header.discarded = Some(d.clone());
            } else {
                let mut e = Entry::draft(EntryKind::Recovered);
                e.discarded = Some(d.clone());
                pending.push((e, false));
            }
            recovered = Some(d);
        }
        pending.extend(drafts.into_iter().map(|d| (d, true)));
        let mut appended = Vec::new();
        for (next_seq, (mut e, reported)) in (tail.next_seq..).zip(pending) {
            e.v = LEDGER_VERSION;
            e.ledger = ledger_id.clone();
            e.seq = next_seq;
            e.prev = prev.clone();
            e.ts = ts.clone();
            e.tool = tool_version();
            e.reviewer = signer.clone();
            if e.kind == EntryKind::Checkpoint {
                let mut h = Sha256::new();
                h.update(&bytes);
                h.update(&out);
                e.head = Some(Head {
                    size: (bytes.len() + out.len()) as u64,
                    sha256: hex::encode(h.finalize()),
                });
            }
            e.sig.clear();
            let msg = e
                .signed_bytes()
                .map_err(|x| LedgerError::Sign(x.to_string()))?;
            e.sig = reviewer
                .sign(&msg)
                .map_err(|x| LedgerError::Sign(x.to_string()))?;
            let line = e.to_line().map_err(|x| LedgerError::Sign(x.to_string()))?;
            let hash = sha256_hex(&line);
            out.extend_from_slice(&line);
            out.push(b'\n');
            line_no += 1;
            if reported {
                appended.push(Appended {
                    seq: next_seq,
                    hash: hash.clone(),
                    line: line_no,
                });
            }
            prev = hash;
        }
        // One write of whole lines, then make it durable before anyone is told.
        self.file
            .write_all(&out)
            .map_err(|e| io_err(&self.path, e))?;
        self.file.sync_data().map_err(|source| LedgerError::Sync {
            path: self.path.clone(),
            source,
        })?;
        if created && let Some(dir) = self.path.parent() {
            crate::workspace::sync_dir(dir).map_err(|source| LedgerError::Sync {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        bytes.extend_from_slice(&out);
        Ok(AppendReport {
            entries: appended,
            recovered,
            created,
            head: Head::of(&bytes),
        })
    }
}

/// An I/O failure on `path`, as a ledger error naming it.
pub(crate) fn io_err(path: &Path, source: io::Error) -> LedgerError {
    LedgerError::Io {
        path: path.to_path_buf(),
        source,
    }
}
