//! Veil's detectors against deface 1.5.0 (CenterFace on onnxruntime, its
//! command line's settings) on the labelled photos in tests/faces/: faces
//! found, false boxes, and seconds, in one table.
//!
//!     pip install deface==1.5.0 onnxruntime     # the peer; skipped if absent
//!     cargo run --release --example deface_compare [key=value ...]
//!
//! `key=value` arguments override the `[detector]` policy for Veil's runs.
//!
//! Times are detection only (decoding excluded on both sides), with the
//! machine's cores available to both: wall clock, and CPU seconds (all
//! threads), which is what bounds throughput when a batch keeps every core busy.

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/rusage.rs"]
mod rusage;
use rusage::cpu_seconds;

use anyhow::{Context, Result};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;
use veil::detect::from_policy;
use veil::detect::recall::{LabelledSet, Tally, table};
use veil::item::Rect;
use veil::policy::{DetectorPolicy, Policy};

#[derive(Deserialize)]
struct DefaceOut {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    images: HashMap<String, DefaceImage>,
}

#[derive(Deserialize)]
struct DefaceImage {
    seconds: f64,
    cpu_seconds: f64,
    boxes: Vec<[f64; 5]>,
}

/// deface's boxes for each file, or why there are none.
fn run_deface(files: &[String]) -> Result<DefaceOut, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/deface_boxes.py");
    let out = Command::new("python3")
        .arg(&script)
        .args(files)
        .output()
        .map_err(|e| format!("python3 could not be run ({e})"))?;
    let parsed: DefaceOut = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "deface_boxes.py gave no result ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        )
    })?;
    match parsed.error {
        Some(e) => Err(e),
        None => Ok(parsed),
    }
}

/// Seconds spent on one detector: (wall, CPU) on the 12 MP photo and on the rest.
#[derive(Default)]
struct Spent {
    name: String,
    large: (f64, f64),
    rest: (f64, f64),
}

impl Spent {
    fn add(&mut self, large: bool, wall: f64, cpu: f64) {
        let t = if large {
            &mut self.large
        } else {
            &mut self.rest
        };
        t.0 += wall;
        t.1 += cpu;
    }
}

fn rect(b: &[f64; 5], w: u32, h: u32) -> Option<Rect> {
    let (x0, y0) = (b[0].max(0.0).floor() as u32, b[1].max(0.0).floor() as u32);
    let (x1, y1) = (
        (b[0] + b[2]).ceil().max(0.0) as u32,
        (b[1] + b[3]).ceil().max(0.0) as u32,
    );
    Rect::new(x0, y0, x1.saturating_sub(x0), y1.saturating_sub(y0)).clamp_to(w, h)
}

fn main() -> Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/faces");
    let set = LabelledSet::from_json(&std::fs::read_to_string(dir.join("faces.json"))?)?;
    let files: Vec<String> = set
        .images
        .iter()
        .map(|i| dir.join(&i.file).display().to_string())
        .collect();
    let images: Vec<image::RgbImage> = files
        .iter()
        .map(|f| {
            image::open(f)
                .with_context(|| f.clone())
                .map(|i| i.to_rgb8())
        })
        .collect::<Result<_>>()?;
    let big = |img: &image::RgbImage| img.width() as u64 * img.height() as u64 >= 8_000_000;

    let mut tallies = Vec::new();
    let mut split: Vec<Spent> = Vec::new();
    let overrides: Vec<String> = std::env::args().skip(1).collect();
    for engine in ["rustface", "centerface", "both"] {
        let toml = format!(
            "[detector]\nengine = \"{engine}\"\n{}\n",
            overrides.join("\n")
        );
        let policy = Policy::from_toml(&toml)
            .map_err(|e| anyhow::anyhow!("{}: {e}", overrides.join(" ")))?
            .detector;
        let Some(detector) = from_policy(&policy)? else {
            continue;
        };
        detector.detect_rgb(&images[0])?; // builds the model's plans
        let mut tally = Tally::new(&format!("veil {engine}"), &set);
        let mut spent = Spent {
            name: tally.detector.clone(),
            ..Spent::default()
        };
        for (labelled, img) in set.images.iter().zip(&images) {
            let (start, cpu) = (Instant::now(), cpu_seconds());
            let found = detector.detect_rgb(img)?;
            let s = start.elapsed().as_secs_f64();
            spent.add(big(img), s, cpu_seconds() - cpu);
            tally.seconds += s;
            tally.add(labelled, &found.iter().map(|d| d.rect).collect::<Vec<_>>());
        }
        split.push(spent);
        tallies.push(tally);
    }

    match run_deface(&files) {
        Ok(out) => {
            let mut tally = Tally::new("deface 1.5.0", &set);
            let mut spent = Spent {
                name: tally.detector.clone(),
                ..Spent::default()
            };
            for ((labelled, file), img) in set.images.iter().zip(&files).zip(&images) {
                let Some(d) = out.images.get(file) else {
                    continue;
                };
                spent.add(big(img), d.seconds, d.cpu_seconds);
                tally.seconds += d.seconds;
                let boxes: Vec<Rect> = d
                    .boxes
                    .iter()
                    .filter_map(|b| rect(b, img.width(), img.height()))
                    .collect();
                tally.add(labelled, &boxes);
            }
            split.push(spent);
            tallies.push(tally);
        }
        Err(why) => println!(
            "deface skipped: {why}. Install it with `pip install deface==1.5.0 onnxruntime`.\n"
        ),
    }

    print!("{}", table(&tallies));
    println!(
        "\n| detector | 12 MP photo: wall s | CPU s | {} others: wall s | CPU s |\n|---|---|---|---|---|",
        set.images.len() - 1
    );
    for t in &split {
        println!(
            "| {} | {:.2} | {:.2} | {:.2} | {:.2} |",
            t.name, t.large.0, t.large.1, t.rest.0, t.rest.1
        );
    }
    if let Some(d) = split.iter().find(|s| s.name.starts_with("deface")) {
        let default = format!("veil {}", DetectorPolicy::default().engine);
        if let Some(v) = split.iter().find(|s| s.name == default) {
            println!(
                "\n{default} throughput / deface's (CPU seconds per photo, so a busy batch): \
                 {:.1}x on the 12 MP photo, {:.1}x on the rest; wall clock {:.1}x and {:.1}x",
                d.large.1 / v.large.1,
                d.rest.1 / v.rest.1,
                d.large.0 / v.large.0,
                d.rest.0 / v.rest.0
            );
        }
    }
    for t in &tallies {
        println!("{} missed: {}", t.detector, t.missed.join("; "));
    }
    Ok(())
}
