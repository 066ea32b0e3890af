//! Veil's speed and memory, and the peers a user would pick instead, in one
//! run on one machine, printed as the Markdown tables the README carries:
//!
//!     cargo run --release --example bench_report            # everything
//!     cargo run --release --example bench_report -- --quick # 1 and 12 MP only, fewer runs
//!     TRACT_CPU_ISA=-avx512f cargo run --release --example bench_report  # AVX2 kernels only
//!
//! The report names the CPU, its SIMD features, the detectors' runtime and
//! the instruction sets its kernels may use; on a CPU with AVX-512 the last
//! line gives what a CPU without it runs (deface's onnxruntime keeps its
//! AVX-512 kernels: the ratios are then Veil's worst case).
//!
//! Every figure is a median of several runs in this process (deface's
//! command line: three runs, one at 48 MP where a run takes half a minute;
//! a single run at 12 MP moved by ±30 % between reports). The photos are
//! tests/faces/small_faces_12mp.jpg scaled to 1, 12 and 48 MP and saved as
//! JPEG with the metadata of tests/samples/portrait_gps.jpg spliced in (EXIF,
//! GPS, XMP, IPTC, comment), so the inventory and the strip have work to do.
//!
//! Peers, skipped with a message when absent:
//! - deface 1.5.0 (`pip install deface==1.5.0 onnxruntime`): its command
//!   line per image (startup subtracted), and its detector alone.
//! - exiftool (Debian: libimage-exiftool-perl): `exiftool -all=`, the usual
//!   way to strip metadata (it keeps the pixels, so it redacts nothing).
//!
//! Targets from the issue are printed beside the measures; read ratios,
//! not absolute times: the machines this runs on are shared.

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use anyhow::{Context, Result, bail};
use image::{DynamicImage, RgbImage};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect as Area;
use ratatui::widgets::Widget;
use ratatui_image::Image as ImageWidget;
use ratatui_image::picker::ProtocolType;
use sha2::{Digest, Sha256};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use veil::detect::from_policy;
use veil::item::{Item, MaskKind, MaskOrigin, Rect};
use veil::keys::{AllowedSigners, Reviewer};
use veil::ledger::{Entry, EntryKind, Ledger};
use veil::policy::{DetectorPolicy, Policy};
use veil::tui::geometry::viewport;
use veil::tui::image::{Drawn, FrameRequest, Graphics, MaskOutline};
use veil::tui::pane::Frame;
use veil::tui::services::LiveServices;
use veil::tui::update::Msg;
use veil::tui::worker::{Job, Source, Worker};
use veil::workspace::Workspace;

struct Options {
    quick: bool,
    runs: usize,
    peers: bool,
}

fn options() -> Result<Options> {
    let mut o = Options {
        quick: false,
        runs: 5,
        peers: true,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => {
                o.quick = true;
                o.runs = 3;
            }
            "--runs" => {
                o.runs = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .context("--runs N")?;
            }
            "--no-peers" => o.peers = false,
            "--child-ingest" => {
                // Re-run by ourselves to measure one ingest's peak memory.
                let ws = PathBuf::from(args.next().context("workspace")?);
                let photo = PathBuf::from(args.next().context("photo")?);
                child_ingest(&ws, &photo)?;
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?} (try --quick, --runs N, --no-peers)"),
        }
    }
    Ok(o)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median wall seconds of `runs` calls of `f` (after one warm-up call).
fn time<T>(runs: usize, f: impl FnMut() -> T) -> f64 {
    timed(runs, f).0
}

/// [`time`], and what the warm-up call returned.
fn timed<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let first = f();
    let secs = median(
        (0..runs.max(1))
            .map(|_| {
                let t = Instant::now();
                black_box(f());
                t.elapsed().as_secs_f64()
            })
            .collect(),
    );
    (secs, first)
}

/// Median seconds of `runs` calls of `f`, each given a fresh input made by
/// `setup` outside the timing.
fn time_with<I, T>(runs: usize, mut setup: impl FnMut() -> I, mut f: impl FnMut(I) -> T) -> f64 {
    median(
        (0..runs.max(1))
            .map(|_| {
                let input = setup();
                let t = Instant::now();
                black_box(f(input));
                t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

fn ms(s: f64) -> String {
    if s.is_nan() {
        "failed".into()
    } else if s >= 1.0 {
        format!("{:.2} s", s)
    } else if s >= 0.1 {
        format!("{:.0} ms", s * 1e3)
    } else if s >= 0.001 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

/// The APPn (but APP0) and COM segments of a JPEG: its metadata.
fn metadata_segments(jpeg: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 2;
    while i + 4 <= jpeg.len() && jpeg[i] == 0xFF {
        let marker = jpeg[i + 1];
        if marker == 0xDA {
            break;
        }
        let len = u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]) as usize;
        let end = (i + 2 + len).min(jpeg.len());
        if (0xE1..=0xEF).contains(&marker) || marker == 0xFE {
            out.extend_from_slice(&jpeg[i..end]);
        }
        i = end;
    }
    out
}

struct Photo {
    mp: u32,
    path: PathBuf,
    bytes: Vec<u8>,
    rgb: RgbImage,
}

fn photos(root: &Path, dir: &Path, sizes: &[(u32, u32, u32)]) -> Result<Vec<Photo>> {
    let source = image::open(root.join("tests/faces/small_faces_12mp.jpg"))
        .context("tests/faces/small_faces_12mp.jpg")?;
    let donor = std::fs::read(root.join("tests/samples/portrait_gps.jpg"))
        .context("tests/samples/portrait_gps.jpg")?;
    let meta = metadata_segments(&donor);
    let mut out = Vec::new();
    for &(mp, w, h) in sizes {
        let rgb = source
            .resize_exact(w, h, image::imageops::FilterType::Triangle)
            .to_rgb8();
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90).encode_image(&rgb)?;
        let mut bytes = jpeg[..2].to_vec();
        bytes.extend_from_slice(&meta);
        bytes.extend_from_slice(&jpeg[2..]);
        let path = dir.join(format!("photo_{mp}mp.jpg"));
        std::fs::write(&path, &bytes)?;
        out.push(Photo {
            mp,
            path,
            bytes,
            rgb,
        });
    }
    Ok(out)
}

/// A table: one row per step, one column per photo size.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(header: &[&str]) -> Table {
        Table {
            header: header
                .iter()
                .map(std::string::ToString::to_string)
                .collect(),
            rows: Vec::new(),
        }
    }
    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
    fn print(&self) {
        println!("| {} |", self.header.join(" | "));
        println!("|{}", "---|".repeat(self.header.len()));
        for r in &self.rows {
            println!("| {} |", r.join(" | "));
        }
        println!();
    }
}

fn workspace_with(dir: &Path, policy: &Policy) -> Result<Workspace> {
    Workspace::init(dir)?;
    Ok(Workspace::with_policy(dir, policy.clone())?)
}

fn ingest_one(ws: &Workspace, photo: &Path) -> Result<Item> {
    let report = veil::ingest::ingest(ws, &[photo.to_path_buf()], &|_, _, _| {})?;
    if report.added() != 1 {
        bail!("{}: not added", photo.display());
    }
    let (items, _) = ws.items()?;
    items
        .into_iter()
        .next()
        .context("the ingested item is not in the workspace")
}

/// Ingest one photo and print this process's peak resident memory (bytes).
/// Measured inside: a child's `ru_maxrss` on Linux starts at its parent's
/// size at the fork, which here is the whole benchmark's.
fn child_ingest(ws: &Path, photo: &Path) -> Result<()> {
    let ws = workspace_with(ws, &Policy::default())?;
    ingest_one(&ws, photo)?;
    println!("{}", peak_rss_self().context("VmHWM in /proc/self/status")?);
    Ok(())
}

fn peak_rss_self() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Peak resident memory (bytes), wall seconds and success of a command, run
/// under a small Python parent whose `RUSAGE_CHILDREN` is the command's alone.
fn run_peak(cmd: &[&std::ffi::OsStr]) -> Result<(u64, f64, bool)> {
    const WRAP: &str = "import resource, subprocess, sys, time\n\
t = time.perf_counter()\n\
ok = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0\n\
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024, time.perf_counter() - t, int(ok))\n";
    let out = Command::new("python3")
        .arg("-c")
        .arg(WRAP)
        .args(cmd)
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut f = text.split_whitespace();
    let peak = f.next().and_then(|v| v.parse().ok()).context("peak")?;
    let secs = f.next().and_then(|v| v.parse().ok()).context("seconds")?;
    Ok((peak, secs, f.next() == Some("1")))
}

fn mib(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn installed(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

// A report read top to bottom, section by section: one long main is its shape.
#[allow(clippy::too_many_lines)]
fn main() -> Result<()> {
    let o = options()?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir()?;
    let mut sizes = vec![(1, 1155, 866), (12, 4000, 3000)];
    if !o.quick {
        sizes.push((48, 8000, 6000));
    }
    eprintln!("making the test photos…");
    let photos = photos(root, tmp.path(), &sizes)?;
    let policy = Policy::default();
    let runs_for = |mp: u32| if mp >= 48 { o.runs.min(3) } else { o.runs };

    println!(
        "Machine: {} ({}) · {} cores · {} · veil {}\n",
        cpu_name(),
        simd_features(),
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        jiff::Zoned::now().strftime("%Y-%m-%d"),
        env!("CARGO_PKG_VERSION"),
    );
    // Which kernels ran: tract picks AVX-512 ones where the CPU has them;
    // `TRACT_CPU_ISA=-avx512f` makes it run what a CPU without AVX-512
    // runs (deface's onnxruntime has no such switch and uses what it finds).
    println!(
        "Detectors: {}{}\n",
        veil::detect::runtime_kernels(),
        std::env::var("TRACT_CPU_ISA")
            .map(|v| format!(" (TRACT_CPU_ISA={v})"))
            .unwrap_or_default(),
    );

    // ---------------------------------------------------------------- ingest
    let mut header = vec!["step (median)"];
    let labels: Vec<String> = photos.iter().map(|p| format!("{} MP", p.mp)).collect();
    header.extend(labels.iter().map(String::as_str));
    let mut t = Table::new(&header);
    let mut row = |name: &str, f: &mut dyn FnMut(&Photo) -> String| {
        let mut cells = vec![name.to_string()];
        for p in &photos {
            eprintln!("{name} at {} MP…", p.mp);
            cells.push(f(p));
        }
        t.row(cells);
    };
    let limits = policy.limits.clone();
    row("SHA-256 of the file", &mut |p| {
        ms(time(runs_for(p.mp), || Sha256::digest(&p.bytes)))
    });
    row("metadata inventory", &mut |p| {
        ms(time(runs_for(p.mp), || {
            veil::metadata::inventory(&p.bytes).findings.len()
        }))
    });
    row("decode (checked, upright)", &mut |p| {
        ms(time(runs_for(p.mp), || {
            veil::image_io::decode_with(&p.bytes, &limits, Some(1), veil::memory::Step::Render)
                .map(|d| d.width)
        }))
    });
    row("orient (EXIF 6: rotate 90°)", &mut |p| {
        ms(time_with(
            runs_for(p.mp),
            || DynamicImage::ImageRgb8(p.rgb.clone()),
            |img| veil::image_io::apply_orientation(img, 6).width(),
        ))
    });
    let mut centerface_s = std::collections::HashMap::new();
    for engine in ["rustface", "centerface"] {
        let detector = from_policy(&DetectorPolicy {
            engine: engine.parse()?,
            ..DetectorPolicy::default()
        })?
        .context("an engine")?;
        row(&format!("detect: {engine}"), &mut |p| {
            let (secs, found) = timed(runs_for(p.mp), || {
                detector.detect_rgb(&p.rgb).map_or(0, |f| f.len())
            });
            if engine == "centerface" {
                centerface_s.insert(p.mp, secs);
            }
            format!("{} ({found} faces)", ms(secs))
        });
    }
    // What CenterFace computes does not move with the machine's load: the
    // pixels of all its tiles, against the photo's own pixels (what deface
    // gives the model, rounded up to 32).
    row(
        "→ CenterFace's work (tiles, pixels the model computes)",
        &mut |p| {
            let (w, h) = p.rgb.dimensions();
            let (tiles, pixels) =
                veil::detect::centerface_work(w, h, policy.detector.centerface_max_side);
            let deface = u64::from(w.div_ceil(32) * 32) * u64::from(h.div_ceil(32) * 32);
            format!(
                "{tiles} tiles, {:.2} Mpx ({:.2}× deface's {:.2})",
                pixels as f64 / 1e6,
                pixels as f64 / deface as f64,
                deface as f64 / 1e6
            )
        },
    );
    let text = veil::detect::TextDetector::new(&policy.detector)?;
    row("detect: text (PP-OCRv4, tiled pass of 1536 px)", &mut |p| {
        let (secs, found) = timed(runs_for(p.mp), || {
            text.detect_rgb(&p.rgb).map_or(0, |f| f.len())
        });
        format!("{} ({found} regions)", ms(secs))
    });
    let mut ingest_s = std::collections::HashMap::new();
    let mut items = std::collections::HashMap::new();
    // Ingest with the text detector on and off, alternating run by run so
    // that the machine's drift falls on both alike; the cost is the median
    // of the paired ratios.
    let mut no_text = policy.clone();
    no_text.detector.text = false;
    let mut text_cost = std::collections::HashMap::new();
    row("ingest, whole, text detector off", &mut |p| {
        let mut n = 0;
        let mut run = |policy: &Policy| {
            n += 1;
            let dir = tmp.path().join(format!("ws-ingest-{}-{n}", p.mp));
            let ws = workspace_with(&dir, policy).expect("workspace");
            let t = Instant::now();
            let item = ingest_one(&ws, &p.path);
            (t.elapsed().as_secs_f64(), item)
        };
        let _warm_up = run(&no_text);
        if let (_, Ok(item)) = run(&policy) {
            items.insert(p.mp, item);
        }
        let (mut on, mut off, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs_for(p.mp) {
            let (plain, _) = run(&no_text);
            let (with, _) = run(&policy);
            off.push(plain);
            on.push(with);
            ratio.push(with / plain);
        }
        ingest_s.insert(p.mp, median(on));
        text_cost.insert(p.mp, median(ratio));
        ms(median(off))
    });
    row(
        "**ingest, whole** (read, hash, inventory, decode, detect faces and text, write item)",
        &mut |p| ms(ingest_s[&p.mp]),
    );
    row(
        "→ text detection's cost (target: ≤ +50 % of a 12 MP ingest)",
        &mut |p| format!("+{:.0} %", (text_cost[&p.mp] - 1.0) * 100.0),
    );
    let mut render_s = std::collections::HashMap::new();
    // The output of each size, kept for exiftool to read.
    let mut rendered = std::collections::HashMap::new();
    row("render + encode + allowlist check", &mut |p| {
        let item = &items[&p.mp];
        let (r, output) = timed(runs_for(p.mp), || {
            veil::redact::render_from_bytes(&p.bytes, item, &policy, None).map(|r| r.bytes)
        });
        rendered.insert(p.mp, output);
        let plain = time(runs_for(p.mp), || {
            let img = image::load_from_memory(&p.bytes).expect("decode").to_rgb8();
            veil::redact::encode(&img, policy.output.format, policy.output.jpeg_quality)
                .map(|b| b.len())
        });
        render_s.insert(p.mp, r);
        format!("{} ({:.2}× decode+encode {})", ms(r), r / plain, ms(plain))
    });
    row("peak memory of one ingest (child process)", &mut |p| {
        let ws = tmp.path().join(format!("ws-rss-{}", p.mp));
        let exe = std::env::current_exe().expect("current exe");
        let out = Command::new(exe)
            .arg("--child-ingest")
            .arg(&ws)
            .arg(&p.path)
            .output();
        let peak: Option<u64> = out
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok());
        match peak {
            Some(peak) => {
                let decoded = p.rgb.as_raw().len() as u64;
                format!(
                    "{} ({:.1}× decoded {})",
                    mib(peak),
                    peak as f64 / decoded as f64,
                    mib(decoded)
                )
            }
            _ => "failed".into(),
        }
    });

    // ---------------------------------------------------------------- peers
    let deface = o.peers && installed("deface", "--version");
    let exiftool = o.peers && installed("exiftool", "-ver");
    let mut peer_notes = Vec::new();
    if deface {
        // Startup (Python, onnxruntime, the model) on a 64×64 photo, taken
        // off each run so the figure is per-image throughput.
        let tiny = tmp.path().join("tiny.jpg");
        RgbImage::new(64, 64).save(&tiny)?;
        let startup = median(
            (0..3)
                .map(|_| {
                    let out = tmp.path().join("tiny_out.jpg");
                    run_peak(&[
                        "deface".as_ref(),
                        tiny.as_os_str(),
                        "-o".as_ref(),
                        out.as_os_str(),
                    ])
                    .map(|r| r.1)
                    .unwrap_or(f64::NAN)
                })
                .collect(),
        );
        let mut deface_cli = std::collections::HashMap::new();
        row(
            "deface 1.5.0 command line, per image (startup taken off)",
            &mut |p| {
                let n = if p.mp >= 48 { 1 } else { 3 };
                let mut peak = 0;
                let s = median(
                    (0..n)
                        .map(|_| {
                            let out = tmp.path().join(format!("deface_{}.jpg", p.mp));
                            match run_peak(&[
                                "deface".as_ref(),
                                p.path.as_os_str(),
                                "-o".as_ref(),
                                out.as_os_str(),
                            ]) {
                                Ok((m, s, true)) => {
                                    peak = m;
                                    s - startup
                                }
                                _ => f64::NAN,
                            }
                        })
                        .collect(),
                );
                deface_cli.insert(p.mp, s);
                format!("{} (peak {})", ms(s), mib(peak))
            },
        );
        row(
            "→ deface ÷ veil ingest (target ≥ 1.5× at 1 MP, ≥ 2× at 12 MP)",
            &mut |p| format!("{:.2}×", deface_cli[&p.mp] / ingest_s[&p.mp]),
        );
        // deface's command line also blurs and writes its output: the
        // like-for-like figure adds Veil's render.
        row("→ deface ÷ veil (ingest + render)", &mut |p| {
            format!(
                "{:.2}×",
                deface_cli[&p.mp] / (ingest_s[&p.mp] + render_s[&p.mp])
            )
        });
        let script = root.join("examples/deface_boxes.py");
        let mut deface_detect = std::collections::HashMap::new();
        row(
            "deface detector alone (in Python, as deface calls it)",
            &mut |p| {
                let out = Command::new("python3")
                    .arg(&script)
                    .args(std::iter::repeat_n(&p.path, runs_for(p.mp).min(3)))
                    .output();
                let parsed: Option<serde_json::Value> = out
                    .ok()
                    .and_then(|o| serde_json::from_slice(&o.stdout).ok());
                // The script keys by path, so repeated runs overwrite: it keeps the last.
                let img = parsed
                    .as_ref()
                    .and_then(|v| v["images"][p.path.to_string_lossy().as_ref()].as_object());
                match img {
                    Some(m) => {
                        let s = m["seconds"].as_f64().unwrap_or(f64::NAN);
                        let n = m["boxes"].as_array().map_or(0, std::vec::Vec::len);
                        deface_detect.insert(p.mp, s);
                        format!("{} ({n} faces)", ms(s))
                    }
                    None => "failed".into(),
                }
            },
        );
        row(
            "→ deface detector ÷ veil centerface (detector alone)",
            &mut |p| match (deface_detect.get(&p.mp), centerface_s.get(&p.mp)) {
                (Some(d), Some(v)) => format!("{:.2}×", d / v),
                _ => "n/a".into(),
            },
        );
    } else {
        peer_notes.push(
            "deface not installed: `pip install deface==1.5.0 onnxruntime` to compare with it",
        );
    }
    if exiftool {
        let mut exiftool_s = std::collections::HashMap::new();
        row("exiftool -all= (strip only; pixels kept)", &mut |p| {
            let out = tmp.path().join(format!("exiftool_{}.jpg", p.mp));
            let s = median(
                (0..runs_for(p.mp).min(3))
                    .map(|_| {
                        let _ = std::fs::remove_file(&out);
                        let t = Instant::now();
                        let ok = Command::new("exiftool")
                            .arg("-all=")
                            .arg("-o")
                            .arg(&out)
                            .arg(&p.path)
                            .output()
                            .is_ok_and(|o| o.status.success());
                        if ok {
                            t.elapsed().as_secs_f64()
                        } else {
                            f64::NAN
                        }
                    })
                    .collect(),
            );
            let left = exiftool_leftovers(&out);
            exiftool_s.insert(p.mp, s);
            format!("{} ({left})", ms(s))
        });
        // Veil's metadata removal is its render (a fresh encode of the
        // pixels, masks filled); exiftool reads what it wrote as well.
        row(
            "→ Veil's render ÷ exiftool's strip (exiftool on Veil's output)",
            &mut |p| {
                let out = tmp.path().join(format!("veil_{}.jpg", p.mp));
                let left = match &rendered[&p.mp] {
                    Ok(bytes) => match std::fs::write(&out, bytes) {
                        Ok(()) => exiftool_leftovers(&out),
                        Err(e) => format!("could not write {}: {e}", out.display()),
                    },
                    Err(e) => format!("render failed: {e}"),
                };
                format!("{:.2}× ({left})", render_s[&p.mp] / exiftool_s[&p.mp])
            },
        );
    } else {
        peer_notes.push("exiftool not installed: `apt-get install libimage-exiftool-perl`");
    }
    t.print();
    for n in &peer_notes {
        println!("- {n}");
    }

    // ---------------------------------------------------------------- TUI
    println!(
        "\nReview station (12 MP photo, worker thread, time until the picture is drawn into the frame buffer):\n"
    );
    let p12 = photos.iter().find(|p| p.mp == 12).context("12 MP photo")?;
    let mut tui = Table::new(&[
        "terminal",
        "graphics",
        "next item, cold",
        "next item, prefetched (target < 150 ms)",
        "mask move redraw (target: 1 frame halfblocks, < 50 ms sixel)",
    ]);
    let ws_dir = tmp.path().join("ws-tui");
    let ws = workspace_with(&ws_dir, &policy)?;
    let item = {
        let mut it = ingest_one(&ws, &p12.path)?;
        if it.masks.is_empty() {
            it.add_mask(
                MaskKind::Face,
                Rect::new(1000, 1000, 200, 260),
                MaskOrigin::Manual,
            );
        }
        it
    };
    let services = Arc::new(LiveServices::new(
        Workspace::open(&ws_dir)?,
        Err("benchmark".into()),
    ));
    let sixel = Graphics::sixel((10, 20));
    for (cols, rows) in [(80u16, 24u16), (200, 60)] {
        for g in [Graphics::halfblocks(), sixel] {
            eprintln!("review station {cols}×{rows} {}…", g.name());
            let runs = o.runs;
            // A fresh worker each run: nothing decoded yet, or only what
            // prefetch decoded.
            let [cold, warm] = [false, true].map(|prefetch| {
                median(
                    (0..runs)
                        .map(|_| {
                            let w =
                                Worker::start(policy.clone(), services.clone()).expect("worker");
                            frame_time(&w, &item, (cols, rows), g, 0, prefetch)
                        })
                        .collect(),
                )
            });
            let w = Worker::start(policy.clone(), services.clone()).expect("worker");
            frame_time(&w, &item, (cols, rows), g, 0, false);
            let moved = median(
                (1..=runs * 2)
                    .map(|i| frame_time(&w, &item, (cols, rows), g, i as u32, false))
                    .collect(),
            );
            tui.row(vec![
                format!("{cols}×{rows}"),
                g.name().into(),
                ms(cold),
                ms(warm),
                ms(moved),
            ]);
        }
    }
    tui.print();

    // ---------------------------------------------------------------- bytes on the link
    let next = photos
        .iter()
        .find(|p| p.mp != 12)
        .map_or_else(|| p12.rgb.clone(), |p| p.rgb.clone());
    for g in [
        sixel,
        Graphics {
            protocol: ProtocolType::Kitty,
            kitty_direct: true,
            ..sixel
        },
    ] {
        println!(
            "\nReview station over a slow link: bytes a {} terminal is sent per action, 200×60 cells of 10×20 px, the 12 MP photo then the next (target: a nudge ≤ 15 % of a full frame; closing an overlay sends only what it covered):\n",
            g.name()
        );
        let acts = veil::tui::testing::pane_bytes_per_action(
            [p12.rgb.clone(), next.clone()],
            (200, 60),
            g,
        )
        .map_err(anyhow::Error::msg)?;
        let full = acts.first().map_or(1, |a| a.bytes.max(1));
        let mut link = Table::new(&[
            "action",
            "bytes sent",
            "cells sent",
            "of a full frame",
            "at 250 KB/s",
        ]);
        for a in &acts {
            link.row(vec![
                a.action.into(),
                format!("{}", a.bytes),
                format!("{} of {}", a.cells, a.of),
                format!("{:.1} %", a.bytes as f64 * 100.0 / full as f64),
                format!("{:.2} s", a.bytes as f64 / 250_000.0),
            ]);
        }
        link.print();
    }

    // ---------------------------------------------------------------- ledger and queue
    println!("Ledger and queue:\n");
    let mut store = Table::new(&["measure", "result", "target"]);
    ledger_rows(
        tmp.path(),
        &item,
        &mut store,
        if o.quick { 20_000 } else { 100_000 },
    )?;
    queue_rows(
        tmp.path(),
        &item,
        &mut store,
        if o.quick { 2_000 } else { 10_000 },
    )?;
    store.print();
    Ok(())
}

/// What `exiftool -a -G1` still finds in a file, beyond the file's own
/// structure: how complete a strip was.
fn exiftool_leftovers(path: &Path) -> String {
    let Ok(out) = Command::new("exiftool")
        .args(["-j", "-a", "-G1", "-s"])
        .arg(path)
        .output()
    else {
        return "no output".into();
    };
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let structural = [
        "SourceFile",
        "ExifTool",
        "System",
        "File",
        "JFIF",
        "Composite",
    ];
    let left: Vec<String> = v[0]
        .as_object()
        .map(|m| {
            m.keys()
                .filter(|k| !structural.contains(&k.split(':').next().unwrap_or("")))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    if left.is_empty() {
        "no metadata left".into()
    } else {
        format!("left {}: {}", left.len(), left.join(", "))
    }
}

/// Wall seconds from asking the worker for a picture of `item` until it is
/// drawn into a frame buffer. `nudge` moves the first mask right that many
/// pixels (a mask move); `prefetch` has the worker decode the item first,
/// as the review station does for the neighbours of the item on screen.
fn frame_time(
    w: &Worker,
    item: &Item,
    terminal: (u16, u16),
    g: Graphics,
    nudge: u32,
    prefetch: bool,
) -> f64 {
    let panes = veil::tui::layout::layout(
        Area::new(0, 0, terminal.0, terminal.1),
        veil::tui::layout::Folds::default(),
    );
    let cells = (panes.image.width, panes.image.height);
    let source = Source::of(item);
    if prefetch {
        w.send(Job::Prefetch(source.clone()));
        wait_for(w, |m| matches!(m, Msg::ImageLoaded { .. }));
    }
    let (iw, ih) = item.oriented_size();
    let view = viewport(
        (iw, ih),
        g.pane_pixels(cells),
        100,
        (iw as f64 / 2.0, ih as f64 / 2.0),
    );
    let mut masks: Vec<MaskOutline> = item.masks.iter().map(MaskOutline::from).collect();
    if let Some(first) = masks.first_mut() {
        first.rect.x += nudge;
    }
    let req = FrameRequest {
        item_id: item.id.clone(),
        viewport: view,
        cells,
        masks,
        selected: item.masks.first().map(|m| m.id),
        graphics: g,
    };
    let start = Instant::now();
    w.send(Job::Frame(source, req));
    let Some(Msg::FrameReady(pic)) = wait_for(w, |m| matches!(m, Msg::FrameReady(_))) else {
        return f64::NAN;
    };
    let mut buf = Buffer::empty(panes.image);
    match &pic.drawn {
        Drawn::Widget(p) => ImageWidget::new(p).render(panes.image, &mut buf),
        // The whole picture, as for a new view (a nudge sends less).
        Drawn::Pane(Frame::Sixel(q)) => {
            black_box(q.encode_region(0, 0, q.width, q.height));
        }
        Drawn::Pane(Frame::Kitty(img)) => {
            black_box(img);
        }
    }
    black_box(&buf);
    start.elapsed().as_secs_f64()
}

fn wait_for(w: &Worker, want: impl Fn(&Msg) -> bool) -> Option<Msg> {
    loop {
        match w.results.recv_timeout(Duration::from_secs(120)) {
            Ok(m) if want(&m) => return Some(m),
            Ok(Msg::ImageFailed { error, .. }) => {
                eprintln!("worker: {error}");
                return None;
            }
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

fn ledger_rows(dir: &Path, item: &Item, t: &mut Table, n: usize) -> Result<()> {
    eprintln!("ledger: {n} entries…");
    let reviewer = Reviewer::generate("bench")?;
    let path = dir.join("ledger.jsonl");
    let mut ledger = Ledger::open(&path)?;
    let draft = || {
        let mut e = Entry::draft(EntryKind::Reject);
        e.describe_item(item);
        e.reason = Some("benchmark entry".into());
        e
    };
    // Build it in batches (one write and one fsync per batch).
    let start = Instant::now();
    let batch = 1000;
    let mut written = 0;
    while written < n {
        let k = batch.min(n - written);
        ledger.append(&reviewer, (0..k).map(|_| draft()).collect())?;
        written += k;
    }
    let build = start.elapsed().as_secs_f64();
    t.row(vec![
        format!("ledger: sign + append {n} entries in batches of {batch}"),
        format!("{:.0} entries/s", n as f64 / build),
        "".into(),
    ]);
    let one = time(9, || {
        ledger
            .append(&reviewer, vec![draft()])
            .map(|r| r.entries.len())
    });
    t.row(vec![
        format!("ledger: one approval appended to {n} entries (read tail, sign, write, fsync)"),
        ms(one),
        "".into(),
    ]);
    drop(ledger);
    let bytes = std::fs::read(&path)?;
    let trusted =
        veil::trust::Trust::workspace(AllowedSigners::parse(&reviewer.allowed_signers_line()));
    let mut problems = 0;
    let v = time(3, || {
        let r = veil::ledger::verify(&bytes, &trusted, None);
        problems = r.findings.len();
        r.entries
    });
    let entries = veil::ledger::entries(&bytes).len();
    t.row(vec![
        format!(
            "`verify`: {entries} entries, {} MiB ({problems} findings)",
            bytes.len() / (1024 * 1024)
        ),
        format!("{:.0} entries/s ({})", entries as f64 / v, ms(v)),
        "≥ 20k entries/s".into(),
    ]);
    Ok(())
}

fn queue_rows(dir: &Path, item: &Item, t: &mut Table, n: usize) -> Result<()> {
    eprintln!("queue: {n} items…");
    let ws_dir = dir.join("ws-queue");
    let ws = workspace_with(&ws_dir, &Policy::default())?;
    for i in 0..n {
        let mut it = item.clone();
        it.sha256 = hex::encode(Sha256::digest(i.to_le_bytes()));
        it.id = veil::item::item_id_for(&it.sha256);
        it.source = PathBuf::from(format!("/clinic/photos/{i:06}.jpg"));
        ws.save_item(&it)?;
    }
    let open = time(3, || {
        let ws = Workspace::open(&ws_dir).expect("workspace");
        ws.items().map(|(items, _)| items.len())
    });
    t.row(vec![
        format!("queue: open a workspace of {n} items (read and parse every item)"),
        ms(open),
        "< 1 s at 10k".into(),
    ]);
    Ok(())
}

fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// The SIMD features the detectors' kernels choose between, as the CPU
/// reports them (`avx2 fma`, and `avx512f` where present).
fn simd_features() -> String {
    let mut found = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        for (name, on) in [
            ("sse4.1", std::arch::is_x86_feature_detected!("sse4.1")),
            ("avx2", std::arch::is_x86_feature_detected!("avx2")),
            ("fma", std::arch::is_x86_feature_detected!("fma")),
            ("avx512f", std::arch::is_x86_feature_detected!("avx512f")),
        ] {
            if on {
                found.push(name);
            }
        }
        if !std::arch::is_x86_feature_detected!("avx512f") {
            found.push("no AVX-512");
        }
    }
    if found.is_empty() {
        "no x86 SIMD".into()
    } else {
        found.join(" ")
    }
}
