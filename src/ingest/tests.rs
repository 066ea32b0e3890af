use super::*;
use std::sync::atomic::AtomicU64;
use std::sync::mpsc;
use std::time::Duration;

#[test]
fn files_rewritten_while_ingest_reads_them_are_detected_at_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photo.jpg");
    std::fs::write(&path, b"first half").unwrap();
    let before = std::fs::metadata(&path).unwrap();
    let same = std::fs::metadata(&path).unwrap();
    assert_eq!(changed(&before, &same, before.len()), None);
    // Fewer bytes read than the file had: torn.
    assert!(changed(&before, &same, 3).unwrap().contains("3 read"));
    // Written to (same length, new time) while being read.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&path, b"other half").unwrap();
    let after = std::fs::metadata(&path).unwrap();
    assert_eq!(
        changed(&before, &after, before.len()).as_deref(),
        Some("modified")
    );
    // Replaced by a rename.
    let new = dir.path().join("new.jpg");
    std::fs::write(&new, b"first half").unwrap();
    std::fs::rename(&new, &path).unwrap();
    let swapped = std::fs::metadata(&path).unwrap();
    assert_eq!(
        changed(&before, &swapped, before.len()).as_deref(),
        Some("replaced by another file")
    );
}

#[test]
fn reservations_never_exceed_the_budget_and_all_complete() {
    let budget = Budget::new(100);
    let in_flight = AtomicU64::new(0);
    let peak = AtomicU64::new(0);
    std::thread::scope(|scope| {
        for t in 0..8u64 {
            let (budget, in_flight, peak) = (&budget, &in_flight, &peak);
            scope.spawn(move || {
                for i in 0..200u64 {
                    // Sizes 1–150: some larger than the whole budget.
                    let want = (t * 37 + i * 11) % 150 + 1;
                    let _r = budget.reserve(want);
                    let now = in_flight.fetch_add(want.min(100), Ordering::SeqCst) + want.min(100);
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::yield_now();
                    in_flight.fetch_sub(want.min(100), Ordering::SeqCst);
                }
            });
        }
    });
    assert!(
        peak.load(Ordering::SeqCst) <= 100,
        "peak {}",
        peak.load(Ordering::SeqCst)
    );
    assert_eq!(
        *budget.used.lock().unwrap(),
        0,
        "every reservation was returned"
    );
}

#[test]
fn a_reservation_that_does_not_fit_waits_for_one_to_be_returned() {
    let budget = Budget::new(10);
    let first = budget.reserve(6);
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let _second = budget.reserve(6);
            tx.send(()).unwrap();
        });
        // Only a wrong budget could let the second in now; a slow
        // machine can at worst make this check pass without proving much.
        assert!(
            rx.recv_timeout(Duration::from_millis(200)).is_err(),
            "6 + 6 fitted in 10"
        );
        drop(first);
        rx.recv_timeout(Duration::from_secs(30))
            .expect("the second reservation went through once the first was returned");
    });
    // Larger than the whole budget: granted when alone, not refused forever.
    drop(budget.reserve(1000));
}
