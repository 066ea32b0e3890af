//! init, ingest, list, show, render, demo.

use super::Exit;
use crate::cli::{DemoArgs, IngestArgs, ListArgs, RenderArgs, ReviewArgs, ShowArgs};
use crate::gates::{GateContext, evaluate};
use crate::ingest::{FileReport, Outcome};
use crate::item::{Item, OutputCheck};
use crate::text::{printable, printable_path};
use crate::workspace::{Workspace, write_atomic_mode};
use anyhow::Context;
use serde_json::json;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

pub fn init(root: &Path) -> anyhow::Result<Exit> {
    let (ws, created) = Workspace::init(root)?;
    if created {
        println!(
            "Created workspace {} (policy: {})",
            printable_path(ws.root()),
            printable_path(&ws.policy_path())
        );
    } else {
        println!(
            "Workspace {} already exists; its policy was left as it is",
            printable_path(ws.root())
        );
    }
    Ok(Exit::Ok)
}

pub fn ingest(ws: &Workspace, a: &IngestArgs) -> anyhow::Result<Exit> {
    let report = run_ingest(ws, &a.paths, !a.json)?;
    if a.json {
        let files: Vec<_> = report.files.iter().map(file_json).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "files": files }))?
        );
    } else if report.files.is_empty() {
        let named: Vec<String> = a.paths.iter().map(|p| printable_path(p)).collect();
        println!(
            "No pictures found in {}: nothing to ingest.",
            named.join(", ")
        );
    } else {
        print_ingest_table(&report.files);
        println!(
            "\n{} added, {} unchanged, {} duplicate, {} failed, {} skipped",
            report.added(),
            report.unchanged(),
            report.duplicates(),
            report.failed(),
            report.skipped()
        );
    }
    Ok(if report.failed() > 0 {
        Exit::Partial
    } else {
        Exit::Ok
    })
}

/// Ingest with a progress bar on a terminal, plain lines otherwise.
fn run_ingest(
    ws: &Workspace,
    paths: &[PathBuf],
    chatty: bool,
) -> anyhow::Result<crate::ingest::IngestReport> {
    let tty = std::io::stderr().is_terminal();
    let bar = indicatif::ProgressBar::hidden();
    if tty {
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} ingest [{bar:30}] {pos}/{len} {elapsed_precise} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
    }
    let progress = |done: usize, total: usize, r: &FileReport| {
        if tty {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        } else if chatty {
            eprintln!(
                "ingest [{done}/{total}] {}: {}",
                printable_path(&r.path),
                outcome_word(&r.outcome)
            );
        }
    };
    let report = crate::ingest::ingest(ws, paths, &progress)?;
    bar.finish_and_clear();
    Ok(report)
}

fn outcome_word(o: &Outcome) -> String {
    match o {
        Outcome::Added { .. } => "added".into(),
        Outcome::Unchanged { .. } => "unchanged".into(),
        Outcome::Duplicate { .. } => "duplicate".into(),
        Outcome::Failed { reason, .. } => format!("FAILED: {}", printable(reason, 200)),
        Outcome::Skipped { reason } => format!("skipped: {}", printable(reason, 200)),
    }
}

fn print_ingest_table(files: &[FileReport]) {
    println!(
        "{:<10} {:<16} {:>5} {:>8}  FILE",
        "RESULT", "ID", "FACES", "METADATA"
    );
    for r in files {
        let (word, id, faces, meta, note) = match &r.outcome {
            Outcome::Added {
                id,
                faces,
                metadata,
            } => (
                "added",
                id.as_str(),
                faces.to_string(),
                metadata.to_string(),
                String::new(),
            ),
            Outcome::Unchanged { id } => (
                "unchanged",
                id.as_str(),
                "".into(),
                "".into(),
                String::new(),
            ),
            Outcome::Duplicate { id, of } => (
                "duplicate",
                id.as_str(),
                "".into(),
                "".into(),
                format!(" (same bytes as {})", printable_path(of)),
            ),
            Outcome::Failed { id, reason } => (
                "FAILED",
                id.as_deref().unwrap_or("-"),
                "".into(),
                "".into(),
                format!(": {}", printable(reason, 200)),
            ),
            Outcome::Skipped { reason } => (
                "skipped",
                "-",
                "".into(),
                "".into(),
                format!(": {}", printable(reason, 200)),
            ),
        };
        println!(
            "{word:<10} {id:<16} {faces:>5} {meta:>8}  {}{note}",
            printable_path(&r.path)
        );
    }
}

fn file_json(r: &FileReport) -> serde_json::Value {
    let path = r.path.to_string_lossy();
    match &r.outcome {
        Outcome::Added {
            id,
            faces,
            metadata,
        } => {
            json!({"path": path, "result": "added", "id": id, "faces": faces, "metadata": metadata})
        }
        Outcome::Unchanged { id } => json!({"path": path, "result": "unchanged", "id": id}),
        Outcome::Duplicate { id, of } => {
            json!({"path": path, "result": "duplicate", "id": id, "of": of.to_string_lossy()})
        }
        Outcome::Failed { id, reason } => {
            json!({"path": path, "result": "failed", "id": id, "reason": reason})
        }
        Outcome::Skipped { reason } => json!({"path": path, "result": "skipped", "reason": reason}),
    }
}

pub fn list(ws: &Workspace, a: &ListArgs) -> anyhow::Result<Exit> {
    let (items, problems) = ws.items()?;
    for p in &problems {
        eprintln!("veil: warning: {}", printable(&p.to_string(), 500));
    }
    let items: Vec<&Item> = items
        .iter()
        .filter(|i| a.state.is_none_or(|s| i.state == s))
        .collect();
    if a.json {
        let rows: Vec<_> = items.iter().map(|i| summary_json(ws, i)).collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(Exit::Ok);
    }
    if items.is_empty() {
        println!(
            "No items{}.",
            match a.state {
                Some(s) => format!(" in state {s}"),
                None => " (run `veil ingest FOLDER`)".into(),
            }
        );
        return Ok(Exit::Ok);
    }
    println!(
        "{:<16} {:<15} {:<5} {:>10} {:>5} {:>5} {:>8} {:<2}  SOURCE",
        "ID", "STATE", "TYPE", "SIZE", "FACES", "MASKS", "METADATA", "HS"
    );
    for i in items {
        let (w, h) = i.oriented_size();
        println!(
            "{:<16} {:<15} {:<5} {:>10} {:>5} {:>5} {:>8} {:<2}  {}",
            i.id,
            i.state.as_str(),
            i.format,
            format!("{w}x{h}"),
            i.faces_found(),
            i.masks.len(),
            i.metadata.len(),
            if crate::gates::is_high_stakes(i, &ws.policy) {
                "!"
            } else {
                ""
            },
            printable_path(&i.source)
        );
    }
    Ok(if problems.is_empty() {
        Exit::Ok
    } else {
        Exit::Partial
    })
}

fn summary_json(ws: &Workspace, i: &Item) -> serde_json::Value {
    let (w, h) = i.oriented_size();
    json!({
        "id": i.id,
        "state": i.state,
        "format": i.format,
        "width": w,
        "height": h,
        "bytes": i.size,
        "faces": i.faces_found(),
        "masks": i.masks.len(),
        "metadata": i.metadata.len(),
        "high_stakes": crate::gates::is_high_stakes(i, &ws.policy),
        "source": i.source.to_string_lossy(),
        "failure": i.failure,
    })
}

pub fn show(ws: &Workspace, a: &ShowArgs) -> anyhow::Result<Exit> {
    let id = ws.resolve_id(&a.id)?;
    let item = ws.load_item(&id)?;
    let report = evaluate(&item, &ws.policy, &GateContext::default());
    if a.json {
        let mut v = serde_json::to_value(&item)?;
        v["gate_report"] = serde_json::to_value(&report)?;
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(Exit::Ok);
    }
    let (w, h) = item.oriented_size();
    println!("Item      {}", item.id);
    println!("Source    {}", printable_path(&item.source));
    for d in &item.duplicates {
        println!("  same as {}", printable_path(d));
    }
    println!("SHA-256   {}", item.sha256);
    println!(
        "Image     {} {}x{} ({} bytes), orientation {} (upright {w}x{h})",
        if item.format.is_empty() {
            "?"
        } else {
            &item.format
        },
        item.width,
        item.height,
        item.size,
        item.orientation
    );
    println!(
        "State     {}{}",
        item.state,
        if report.high_stakes {
            " (high-stakes)"
        } else {
            ""
        }
    );
    if let Some(f) = &item.failure {
        println!("Failure   {}", printable(f, 500));
    }
    if let Some(r) = &item.rejection {
        println!("Rejected  {}", printable(r, 500));
    }
    if let Some(o) = &item.output {
        println!("Output    {} sha256 {}", o.name, o.sha256);
    }
    for w in &item.withdrawals {
        println!(
            "Withdrawn {} (seq {}, {}) by {}: {}",
            printable(&w.output_name, 80),
            w.seq,
            printable(&w.at, 40),
            printable(&w.by, 200),
            printable(&w.reason, 500)
        );
    }
    if let Some(d) = &item.detector {
        for e in d.each_engine() {
            println!(
                "Detector  {} (model {}…, {}, padding {:.2}x)",
                printable(&e.name, 60),
                printable(e.model_sha256.get(..12).unwrap_or(""), 12),
                e.settings_label(),
                d.padding_pct as f64 / 100.0
            );
        }
    }
    if let Some(t) = &item.text_detector {
        println!(
            "Text      {} (model {}…, {})",
            printable(&t.name, 60),
            printable(t.model_sha256.get(..12).unwrap_or(""), 12),
            t.settings_label()
        );
    }
    if let Some(d) = &item.dicom {
        println!(
            "DICOM     SOP class {}, transfer syntax {}, {}, modality {}; released as {}{}",
            printable(&d.sop_class, 64),
            printable(&d.transfer_syntax, 64),
            printable(&d.photometric, 20),
            printable(&d.modality, 8),
            crate::redact::output_format(&item, &ws.policy).name(),
            if d.burned_in_likely() {
                "; burned-in text likely (high-stakes, bands proposed)"
            } else {
                ""
            }
        );
    }
    println!("\nMasks ({})", item.masks.len());
    for m in &item.masks {
        let by = match &m.origin {
            crate::item::MaskOrigin::Detector { .. } if m.origin.is_dicom_band() => {
                "placed over a DICOM annotation band".to_string()
            }
            crate::item::MaskOrigin::Detector { score_milli, .. } => format!(
                "{} detector, score {:.2}",
                if m.origin.is_text() { "text" } else { "face" },
                *score_milli as f64 / 1000.0
            ),
            crate::item::MaskOrigin::Manual => "manual".into(),
        };
        let seen = match &m.zoom_check {
            Some(z) => format!("seen at {}", crate::gates::zoom_label(z.zoom_pct)),
            None => "not yet seen at zoom".into(),
        };
        println!(
            "  #{:<3} {:<10} {:<20} {by}; {seen}",
            m.id,
            m.kind.as_str(),
            m.rect.to_string()
        );
    }
    println!("\nMetadata that will be removed ({})", item.metadata.len());
    for f in &item.metadata {
        println!(
            "  {:<10} {:<28} {}",
            printable(&f.group, 10),
            printable(&f.field, 28),
            printable(&f.value, 80)
        );
    }
    println!("\nGates");
    for s in &report.statuses {
        let mark = match (s.required, s.met) {
            (_, true) => "[x]",
            (true, false) => "[ ]",
            (false, false) => "[-]",
        };
        println!(
            "  {mark} {:<16} {:<9} {}",
            s.gate,
            s.method,
            printable(&s.detail, 200)
        );
    }
    Ok(Exit::Ok)
}

pub fn render(ws: &Workspace, a: &RenderArgs) -> anyhow::Result<Exit> {
    let id = ws.resolve_id(&a.id)?;
    // Held until the evidence is saved, so a review session's edits are
    // never overwritten by a render.
    let _lock = ws.lock_item(&id)?;
    let mut item = ws.load_item(&id)?;
    if let Some(f) = &item.failure {
        anyhow::bail!("item {id} failed at ingest and cannot be rendered: {f}");
    }
    if a.out.exists() && !a.force {
        anyhow::bail!(
            "{}: already exists (pass --force to replace it)",
            printable_path(&a.out)
        );
    }
    let salt = match item.dicom {
        Some(_) => Some(ws.dicom_salt()?),
        None => None,
    };
    let rendered = crate::redact::render_item(&item, &ws.policy, salt.as_deref())
        .with_context(|| format!("rendering item {id}"))?;
    for w in &rendered.warnings {
        eprintln!("veil: warning: {w}");
    }
    write_atomic_mode(&a.out, &rendered.bytes, 0o640)
        .with_context(|| format!("{}: could not write the output", printable_path(&a.out)))?;
    item.gates.output_check = Some(OutputCheck {
        masks_digest: item.masks_digest(),
        output_sha256: rendered.sha256.clone(),
        at: crate::clock::now_ts(),
    });
    ws.save_item(&item)?;
    println!(
        "{}: {}x{} {}, sha256 {}, {} mask(s) filled, no metadata (allowlist passed)",
        printable_path(&a.out),
        rendered.width,
        rendered.height,
        rendered.format.name(),
        rendered.sha256,
        item.masks.len()
    );
    Ok(Exit::Ok)
}

/// Sample photos bundled into the binary for `veil demo`.
const DEMO_SAMPLES: &[(&str, &[u8])] = &[
    (
        "portrait_gps.jpg",
        include_bytes!("../../tests/samples/portrait_gps.jpg"),
    ),
    (
        "rotated6.jpg",
        include_bytes!("../../tests/samples/rotated6.jpg"),
    ),
    (
        "trailer.jpg",
        include_bytes!("../../tests/samples/trailer.jpg"),
    ),
    (
        "no_face.png",
        include_bytes!("../../tests/samples/no_face.png"),
    ),
    (
        "clean.webp",
        include_bytes!("../../tests/samples/clean.webp"),
    ),
    ("scan.tiff", include_bytes!("../../tests/samples/scan.tiff")),
    (
        "truncated.jpg",
        include_bytes!("../../tests/samples/bad/truncated.jpg"),
    ),
];

pub fn demo(root: &Path, a: &DemoArgs) -> anyhow::Result<Exit> {
    let (ws, _) = Workspace::init(root)?;
    let originals = ws.root().join("demo-originals");
    std::fs::create_dir_all(&originals)
        .with_context(|| format!("{}: could not create", printable_path(&originals)))?;
    for (name, bytes) in DEMO_SAMPLES {
        let path = originals.join(name);
        if !path.exists() {
            write_atomic_mode(&path, bytes, 0o440)
                .with_context(|| format!("{}: could not write", printable_path(&path)))?;
        }
    }
    println!(
        "Demo workspace {} with {} sample photos in {}",
        printable_path(ws.root()),
        DEMO_SAMPLES.len(),
        printable_path(&originals)
    );
    let report = run_ingest(&ws, &[originals], true)?;
    print_ingest_table(&report.files);
    for line in crate::admin::demo_trust(&ws).context("setting up the demo's trust")? {
        println!("{line}");
    }
    if !a.no_review {
        super::review::review(
            &ws,
            &ReviewArgs {
                graphics: crate::cli::GraphicsChoice::Auto,
                theme: None,
                id: None,
            },
        )?;
    }
    // Said after the station closes, where it stays on the screen.
    println!(
        "\nThe demo workspace is {root}. Inside it, veil finds it by itself:\n    cd {root}\n    veil review    # the review station again\n    veil verify    # check the ledger and every released output",
        root = printable_path(ws.root())
    );
    Ok(Exit::Ok)
}
