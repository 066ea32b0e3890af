//! Recall and false positives of each detector on the labelled set in
//! tests/faces/, with settings to try:
//!
//!     cargo run --release --example recall_report -- rustface centerface both \
//!         centerface:centerface_threshold=0.3 centerface:centerface_max_side=1024
//!
//! Each argument is an engine, optionally followed by `:key=value,...`
//! overrides of the `[detector]` policy. `-v` lists each false box; `-gray`
//! gives the detectors the photos in grayscale (what `detect` sees).
//!
//! `text` as an engine scores the text detector on tests/text/ instead:
//!
//!     cargo run --release --example recall_report -- text text:text_max_side=2048

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use anyhow::{Context, Result, bail};
use std::path::Path;
use std::time::Instant;
use veil::detect::recall::{LabelledSet, Tally, table};
use veil::detect::text_recall::{TextTally, load_text_set, score_text, text_table};
use veil::detect::{TextDetector, from_policy};
use veil::policy::{DetectorPolicy, Policy};

fn policy_for(spec: &str) -> Result<DetectorPolicy> {
    let (engine, overrides) = spec.split_once(':').unwrap_or((spec, ""));
    let mut toml = format!("[detector]\nengine = \"{engine}\"\n");
    for kv in overrides.split(',').filter(|s| !s.is_empty()) {
        let (k, v) = kv
            .split_once('=')
            .context("overrides look like key=value")?;
        toml.push_str(&format!("{k} = {v}\n"));
    }
    Ok(Policy::from_toml(&toml)
        .map_err(|e| anyhow::anyhow!("{spec}: {e}"))?
        .detector)
}

/// The text detector under each setting, on tests/text/.
fn text_report(specs: &[&str], verbose: bool) -> Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/text");
    let (set, photos) = load_text_set(&dir).map_err(anyhow::Error::msg)?;
    let mut tallies = Vec::new();
    for spec in specs {
        let policy = policy_for(&spec.replacen("text", "none", 1))?;
        let detector = TextDetector::new(&policy)?;
        detector.detect_rgb(&photos[0].0)?;
        let mut tally = TextTally::new(spec, &set);
        for (labelled, (photo, ids)) in set.images.iter().zip(&photos) {
            let start = Instant::now();
            let found = detector.detect_rgb(photo)?;
            tally.seconds += start.elapsed().as_secs_f64();
            let rects: Vec<_> = found.iter().map(|d| d.rect).collect();
            let score = score_text(labelled, ids, &rects);
            if verbose {
                for d in &found {
                    eprintln!(
                        "{spec}: {} box {} score {:.3}",
                        labelled.file, d.rect, d.score
                    );
                }
            }
            tally.add(labelled, &score);
        }
        eprintln!("{spec}: missed {}", tally.missed.join("; "));
        tallies.push(tally);
    }
    print!("{}", text_table(&tallies));
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "-v");
    let gray = args.iter().any(|a| a == "-gray");
    let mut specs: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| *a != "-v" && *a != "-gray")
        .collect();
    if specs.is_empty() {
        specs = vec!["rustface", "centerface", "both"];
    }
    if specs.iter().all(|s| s.starts_with("text")) {
        return text_report(&specs, verbose);
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/faces");
    let set = LabelledSet::from_json(&std::fs::read_to_string(dir.join("faces.json"))?)?;
    let mut images = Vec::new();
    for i in &set.images {
        let img =
            image::open(dir.join(&i.file)).with_context(|| format!("tests/faces/{}", i.file))?;
        images.push(if gray {
            image::DynamicImage::ImageLuma8(img.to_luma8()).to_rgb8()
        } else {
            img.to_rgb8()
        });
    }
    let mut tallies = Vec::new();
    for spec in specs {
        let policy = policy_for(spec)?;
        let Some(detector) = from_policy(&policy)? else {
            bail!("{spec}: no detector");
        };
        // The first image pays for building the model's plans; time it apart.
        let warm = Instant::now();
        detector.detect_rgb(&images[0])?;
        let warmup = warm.elapsed().as_secs_f64();
        let mut tally = Tally::new(spec, &set);
        for (labelled, rgb) in set.images.iter().zip(&images) {
            let start = Instant::now();
            let found = detector.detect_rgb(rgb)?;
            let took = start.elapsed().as_secs_f64();
            tally.seconds += took;
            if verbose {
                eprintln!(
                    "{spec}: {} {:.2} s, {} boxes",
                    labelled.file,
                    took,
                    found.len()
                );
            }
            let boxes: Vec<_> = found.iter().map(|d| d.rect).collect();
            let s = tally.add(labelled, &boxes);
            if verbose && s.false_positives > 0 {
                for d in &found {
                    let on_face = labelled
                        .faces
                        .iter()
                        .any(|f| veil::detect::recall::finds(&f.rect(), &d.rect));
                    if !on_face {
                        eprintln!(
                            "{spec}: {} box {} score {:.3} ({})",
                            labelled.file, d.rect, d.score, d.detector
                        );
                    }
                }
            }
        }
        eprintln!(
            "{spec}: first call {warmup:.2} s; missed {}",
            tally.missed.join("; ")
        );
        tallies.push(tally);
    }
    print!("{}", table(&tallies));
    Ok(())
}
