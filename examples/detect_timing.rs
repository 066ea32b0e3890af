//! Detection time per photo size (1, 12 and 48 MP), Veil's engines and
//! deface 1.5.0 side by side, as medians of a few runs:
//!
//!     cargo run --release --example detect_timing [RUNS] [ENGINE...] [--no-deface]
//!
//! The photos are tests/faces/small_faces_12mp.jpg scaled to each size. Wall
//! clock uses both cores (CenterFace runs its tiles in parallel, deface's
//! onnxruntime its operators); CPU seconds are all threads together, which is
//! what bounds a batch that keeps every core busy. deface is skipped with a
//! message when it is not installed (`pip install deface==1.5.0 onnxruntime`).

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/rusage.rs"]
mod rusage;
use rusage::cpu_seconds;

use anyhow::{Context, Result};
use std::path::Path;
use std::process::Command;
use std::time::Instant;
use veil::detect::from_policy;
use veil::policy::DetectorPolicy;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(3);
    let mut engines: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| matches!(*a, "rustface" | "centerface" | "both"))
        .collect();
    if engines.is_empty() {
        engines = vec!["rustface", "centerface"];
    }
    let with_deface = !args.iter().any(|a| a == "--no-deface");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let source = image::open(root.join("tests/faces/small_faces_12mp.jpg"))
        .context("tests/faces/small_faces_12mp.jpg")?;
    let sizes = [(1, 1155, 866), (12, 4000, 3000), (48, 8000, 6000)];
    let tmp = tempfile::tempdir()?;
    let mut photos = Vec::new();
    for (mp, w, h) in sizes {
        let img = source
            .resize_exact(w, h, image::imageops::FilterType::Triangle)
            .to_rgb8();
        let path = tmp.path().join(format!("{mp}mp.jpg"));
        img.save(&path)?;
        photos.push((mp, img, path));
    }

    println!("| photo | detector | faces | wall s (median of {runs}) | CPU s |");
    println!("|---|---|---|---|---|");
    for engine in engines {
        let policy = DetectorPolicy {
            engine: engine.parse()?,
            ..DetectorPolicy::default()
        };
        let detector = from_policy(&policy)?.context("no detector")?;
        for (mp, img, _) in &photos {
            detector.detect_rgb(img)?; // warm: the model's plans for this size
            let (mut wall, mut cpu, mut faces) = (Vec::new(), Vec::new(), 0);
            for _ in 0..runs {
                let (t, c) = (Instant::now(), cpu_seconds());
                faces = detector.detect_rgb(img)?.len();
                wall.push(t.elapsed().as_secs_f64());
                cpu.push(cpu_seconds() - c);
            }
            println!(
                "| {mp} MP | veil {engine} | {faces} | {:.2} | {:.2} |",
                median(wall),
                median(cpu)
            );
        }
    }

    if !with_deface {
        return Ok(());
    }
    let script = root.join("examples/deface_boxes.py");
    let mut args: Vec<String> = Vec::new();
    for (_, _, path) in &photos {
        for _ in 0..=runs {
            args.push(path.display().to_string());
        }
    }
    let out = Command::new("python3").arg(&script).args(&args).output();
    let parsed: Option<serde_json::Value> = out
        .ok()
        .and_then(|o| serde_json::from_slice(&o.stdout).ok());
    match parsed {
        Some(v) if v.get("error").is_none() => {
            // deface_boxes.py keys results by path, so repeated paths keep the last run.
            for (mp, _, path) in &photos {
                let r = &v["images"][path.display().to_string()];
                println!(
                    "| {mp} MP | deface 1.5.0 | {} | {:.2} | {:.2} |",
                    r["boxes"].as_array().map_or(0, Vec::len),
                    r["seconds"].as_f64().unwrap_or(f64::NAN),
                    r["cpu_seconds"].as_f64().unwrap_or(f64::NAN)
                );
            }
        }
        Some(v) => println!(
            "deface skipped: {}; `pip install deface==1.5.0 onnxruntime`",
            v["error"]
        ),
        None => println!("deface skipped: python3 or examples/deface_boxes.py did not run"),
    }
    if let Some(mib) = rusage::peak_rss_mib() {
        println!("\npeak RSS of this process: {mib} MiB");
    }
    Ok(())
}
