//! The chain: seq, prev hashes, bytes a recovery claims, and a checkpoint
//! the ledger must still start with.

use super::*;

/// The chain fields of an entry against the line before it.
pub(in crate::ledger) fn check_chain(
    r: &mut VerifyReport,
    line_no: usize,
    entry: &Entry,
    seen_entry: bool,
    expected_seq: Option<u64>,
    prev_hash: &str,
    prev_line: usize,
) {
    let mut chain = Vec::new();
    if !seen_entry {
        if entry.kind != EntryKind::Header {
            chain.push("the ledger does not start with a header entry".to_string());
        }
        r.ledger_id = Some(entry.ledger.clone());
    } else {
        if entry.kind == EntryKind::Header {
            chain.push("a second header".to_string());
        }
        if let Some(id) = &r.ledger_id
            && &entry.ledger != id
        {
            chain.push(format!(
                "belongs to another ledger ({}…, this one is {}…): copied in from elsewhere",
                short(&entry.ledger),
                short(id)
            ));
        }
    }
    if let Some(exp) = expected_seq
        && entry.seq != exp
    {
        chain.push(if entry.seq < exp {
            format!(
                "seq {} repeats or goes back (expected {exp}): a line was replayed, swapped or inserted",
                entry.seq
            )
        } else {
            format!(
                "seq {} where {exp} was expected: {} entr{} deleted before it",
                entry.seq,
                entry.seq - exp,
                if entry.seq - exp == 1 { "y was" } else { "ies were" }
            )
        });
    }
    if entry.prev != prev_hash {
        chain.push(if prev_line == 0 {
            "prev is not the zero hash of a first entry".to_string()
        } else {
            format!(
                "prev does not match the hash of line {prev_line}: an earlier line was edited, removed or reordered"
            )
        });
    }
    if !chain.is_empty() {
        r.push(line_no, Severity::Tampered, chain.join("; "));
    }
}

/// A `recovered` entry must account for exactly the debris bytes before it (offset, length, SHA-256).
pub(in crate::ledger) fn check_claim(
    r: &mut VerifyReport,
    line_no: usize,
    entry: &Entry,
    start: usize,
    region: &[u8],
) {
    let Some(d) = &entry.discarded else {
        return;
    };
    // The region is the debris plus the newline the recovering append wrote.
    let ok = d.offset == start as u64
        && region.len() as u64 == d.length + 1
        && region.last() == Some(&b'\n')
        && sha256_hex(&region[..region.len() - 1]) == d.sha256;
    if ok {
        r.push(
            line_no,
            Severity::Note,
            format!(
                "{} bytes at offset {} were left by an interrupted write; recorded by this entry and not counted",
                d.length, d.offset
            ),
        );
    } else {
        r.push(
            line_no,
            Severity::Tampered,
            format!(
                "recovered entry names {} bytes at offset {} (SHA-256 {}…) but the bytes before it differ: edited after recovery",
                d.length,
                d.offset,
                short(&d.sha256)
            ),
        );
    }
}

/// The ledger must still start with the checkpoint's bytes.
pub(in crate::ledger) fn check_checkpoint(r: &mut VerifyReport, bytes: &[u8], cp: &Head) {
    let size = usize::try_from(cp.size).unwrap_or(usize::MAX);
    if bytes.len() < size {
        r.push(
            0,
            Severity::Tampered,
            format!(
                "the ledger is {} bytes, shorter than the checkpoint's {}: entries after byte {} were deleted",
                bytes.len(),
                cp.size,
                bytes.len()
            ),
        );
    } else if sha256_hex(&bytes[..size]) != cp.sha256 {
        r.push(
            0,
            Severity::Tampered,
            format!(
                "the first {} bytes no longer hash to the checkpoint ({}…): the ledger was rewritten before that point",
                cp.size,
                short(&cp.sha256)
            ),
        );
    } else {
        r.push(
            0,
            Severity::Note,
            format!(
                "the ledger extends checkpoint {}:{}…",
                cp.size,
                short(&cp.sha256)
            ),
        );
    }
}
