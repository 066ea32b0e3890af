//! Random bytes for identifiers that must be unique and opaque (output
//! names, ledger and batch ids), never for keys: the OS source, and if it
//! fails, a hash of the clock, the process id and a counter, which is still
//! unique within and across processes though not secret.

use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};

/// Fill `buf` (at most 32 bytes are hashed on the fallback path; longer
/// buffers repeat the digest).
pub fn fill(buf: &mut [u8]) {
    if getrandom::getrandom(buf).is_ok() {
        return;
    }
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let mut h = Sha256::new();
    h.update(nanos.to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    h.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    let digest = h.finalize();
    for (b, d) in buf.iter_mut().zip(digest.iter().cycle()) {
        *b = *d;
    }
}

/// `n` random bytes as hex.
pub fn hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    fill(&mut buf);
    hex::encode(buf)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_have_the_asked_length_and_differ() {
        let (a, b) = (super::hex(8), super::hex(8));
        assert_eq!(a.len(), 16);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
