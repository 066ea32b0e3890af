//! This process's resource use, for the timing examples (one copy, shared
//! with `#[path]`: a file under `examples/support/` is not an example).

/// The kernel's account of this process (all threads), or `None`.
fn rusage() -> Option<libc::rusage> {
    // SAFETY: rusage is plain integers; all-zero is a valid value.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage only writes the struct it is given.
    (unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } == 0).then_some(u)
}

/// CPU seconds this process has used, all threads (0 when unknown).
pub fn cpu_seconds() -> f64 {
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    rusage().map_or(0.0, |u| t(u.ru_utime) + t(u.ru_stime))
}

/// Peak resident memory of this process so far, in MiB.
#[allow(dead_code)]
pub fn peak_rss_mib() -> Option<i64> {
    rusage().map(|u| u.ru_maxrss / 1024)
}
