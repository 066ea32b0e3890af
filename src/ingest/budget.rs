//! The ingest memory budget: a file is decoded only when its memory
//! plan fits what the budget has left, so parallel workers never together
//! hold more than `ingest_memory_mib`.

use std::sync::{Condvar, Mutex, PoisonError};

/// A weighted semaphore: how much of something (bytes of decoded photo,
/// files in flight) ingest may hold at once. A request larger than the
/// whole budget waits until it can run alone. Never reserve from a rayon
/// pool thread (see [`ingest`]).
pub(super) struct Budget {
    pub(super) limit: u64,
    pub(super) used: Mutex<u64>,
    pub(super) freed: Condvar,
}

/// A share of the [`Budget`], returned when dropped.
pub(super) struct Reservation<'a> {
    pub(super) budget: &'a Budget,
    pub(super) bytes: u64,
}

impl Budget {
    /// A budget of `limit` bytes, none of it reserved.
    pub(super) fn new(limit: u64) -> Budget {
        Budget {
            limit: limit.max(1),
            used: Mutex::new(0),
            freed: Condvar::new(),
        }
    }

    /// Wait until `bytes` (at most the whole budget) fit, and take them.
    pub(super) fn reserve(&self, bytes: u64) -> Reservation<'_> {
        let bytes = bytes.min(self.limit);
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        while *used + bytes > self.limit {
            used = self
                .freed
                .wait(used)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *used += bytes;
        Reservation {
            budget: self,
            bytes,
        }
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let mut used = self
            .budget
            .used
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *used -= self.bytes;
        self.budget.freed.notify_all();
    }
}
