//! The faces a detector finds in photos, one line each:
//!
//!     cargo run --example detect_file -- [ENGINE] PHOTO...
//!
//! ENGINE is rustface, centerface (the default) or both.

use anyhow::{Context, Result};
use std::time::Instant;
use veil::detect::from_policy;
use veil::policy::DetectorPolicy;

fn main() -> Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut policy = DetectorPolicy::default();
    if let Some(first) = args.first()
        && matches!(first.as_str(), "rustface" | "centerface" | "both")
    {
        policy.engine = args.remove(0);
    }
    let detector = from_policy(&policy)?.context("no detector")?;
    for path in &args {
        let img = image::open(path).with_context(|| path.clone())?.into_rgb8();
        let (width, height) = img.dimensions();
        let start = Instant::now();
        let faces = detector.detect_owned(img)?;
        println!(
            "{path}: {width}x{height}, {} faces in {:.2} s",
            faces.len(),
            start.elapsed().as_secs_f64()
        );
        for f in faces {
            println!("  {} {:.3} {}", f.rect, f.score, f.detector);
        }
    }
    Ok(())
}
