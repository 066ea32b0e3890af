//! The faces a detector finds in photos, one line each:
//!
//!     cargo run --example detect_file -- [ENGINE] PHOTO...
//!     cargo run --example detect_file -- text[=MAX_SIDE] PHOTO...
//!
//! ENGINE is rustface, centerface (the default) or both; `text` runs the
//! text detector instead, its pass at MAX_SIDE (default: the policy's).

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use anyhow::{Context, Result};
use std::time::Instant;
use veil::detect::{Detection, TextDetector, from_policy};
use veil::policy::DetectorPolicy;

fn main() -> Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut policy = DetectorPolicy::default();
    if let Some(engine) = args.first().and_then(|a| a.parse().ok()) {
        policy.engine = engine;
        args.remove(0);
    }
    let text = match args.first().and_then(|a| a.strip_prefix("text")) {
        Some(side) => {
            if let Some(side) = side.strip_prefix('=') {
                policy.text_max_side = side.parse().context("text=MAX_SIDE")?;
            }
            args.remove(0);
            Some(TextDetector::new(&policy)?)
        }
        None => None,
    };
    let detector = from_policy(&policy)?.context("no detector")?;
    for path in &args {
        let img = image::open(path).with_context(|| path.clone())?.into_rgb8();
        let (width, height) = img.dimensions();
        let start = Instant::now();
        let faces: Vec<Detection> = match &text {
            Some(t) => t.detect_rgb(&img)?,
            None => detector.detect_owned(img)?,
        };
        println!(
            "{path}: {width}x{height}, {} found in {:.2} s",
            faces.len(),
            start.elapsed().as_secs_f64()
        );
        for f in faces {
            println!("  {} {:.3} {}", f.rect, f.score, f.detector);
        }
    }
    Ok(())
}
