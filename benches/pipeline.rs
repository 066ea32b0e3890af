//! Criterion benchmarks of the steps after detection, on a 1 MP photo:
//! render (orient, fill masks, encode, allowlist check) beside a plain
//! decode + encode, the review pane's picture (compose + halfblocks/sixel
//! encode), what the station's UI thread sends for a new view and for a
//! nudge (sixel and kitty), `verify` of a 2,000-entry ledger, and decoding a 12 MP iPhone
//! HEIC beside the same picture as a JPEG. The full table at 1, 12
//! and 48 MP with the peers: `cargo run --release --example bench_report`.
//!
//!     cargo bench --bench pipeline

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::photo;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use veil::item::{Item, MaskKind, MaskOrigin, Rect};
use veil::keys::{AllowedSigners, Reviewer};
use veil::ledger::{Entry, EntryKind, Ledger};
use veil::policy::Policy;
use veil::tui::geometry::viewport;
use veil::tui::image::{FrameRequest, Graphics, MaskOutline, Pyramid, compose_frame, encode};

fn item_for(jpeg: &[u8], w: u32, h: u32) -> Item {
    let sha = veil::ledger::sha256_hex(jpeg);
    let mut item = veil::tui::testing::item(&veil::item::item_id_for(&sha), w, h);
    item.sha256 = sha;
    item.masks.clear();
    for i in 0..4 {
        item.add_mask(
            MaskKind::Face,
            Rect::new(100 + 200 * i, 300, 120, 150),
            MaskOrigin::Manual,
        );
    }
    item
}

/// The whole of `item` fitted to a pane of `cells`, its first mask moved
/// `nudge` pixels right and selected.
fn fitted_view(item: &Item, graphics: Graphics, cells: (u16, u16), nudge: u32) -> FrameRequest {
    let (w, h) = (item.width, item.height);
    let mut masks: Vec<MaskOutline> = item.masks.iter().map(MaskOutline::from).collect();
    if let Some(first) = masks.first_mut() {
        first.rect.x += nudge;
    }
    FrameRequest {
        item_id: item.id.clone(),
        viewport: viewport(
            (w, h),
            graphics.pane_pixels(cells),
            100,
            (w as f64 / 2.0, h as f64 / 2.0),
        ),
        cells,
        masks,
        selected: item.masks.first().map(|m| m.id),
        graphics,
    }
}

fn render(c: &mut Criterion) {
    let (jpeg, rgb) = photo();
    let policy = Policy::default();
    let item = item_for(&jpeg, rgb.width(), rgb.height());
    let mut g = c.benchmark_group("1mp");
    g.sample_size(20);
    g.bench_function("render_encode_allowlist", |b| {
        b.iter(|| {
            veil::redact::render_from_bytes(black_box(&jpeg), &item, &policy, None)
                .map(|r| r.sha256)
        });
    });
    g.bench_function("plain_decode_encode", |b| {
        b.iter(|| {
            let img = image::load_from_memory(black_box(&jpeg))
                .expect("decode")
                .to_rgb8();
            veil::redact::encode(&img, policy.output.format, policy.output.jpeg_quality)
                .map(|b| b.len())
        });
    });
    let pyramid = Pyramid::new(rgb.clone());
    let sixel = Graphics::sixel((10, 20));
    for (name, graphics, cells) in [
        (
            "frame_halfblocks_80x24",
            Graphics::halfblocks(),
            (38u16, 21u16),
        ),
        ("frame_sixel_80x24", sixel, (38, 21)),
        ("frame_sixel_200x60", sixel, (114, 57)),
    ] {
        let req = fitted_view(&item, graphics, cells, 0);
        g.bench_function(name, |b| {
            b.iter(|| encode(compose_frame(&pyramid, black_box(&req)), cells, graphics, 1).is_ok());
        });
    }
    g.finish();
}

/// What the review station's UI thread does after a frame arrives: the
/// pane writer comparing it with what the terminal has and encoding what is
/// sent, for a whole new view and for a mask nudged 5 px, on sixel and on
/// kitty placing directly. 200×60 terminal: a pane of 114×57 cells of
/// 10×20 px.
fn pane_writer(c: &mut Criterion) {
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect as Area;
    use ratatui::widgets::Widget;
    use veil::tui::image::{Drawn, Palettes, render};
    use veil::tui::pane::{Frame, Outer, PaneWriter, PhotoCells};

    let (jpeg, rgb) = photo();
    let item = item_for(&jpeg, rgb.width(), rgb.height());
    let pyramid = Pyramid::new(rgb.clone());
    let cells = (114u16, 57u16);
    let area = Area::new(1, 1, cells.0, cells.1);
    let mut buf = Buffer::empty(Area::new(0, 0, 200, 60));
    PhotoCells.render(area, &mut buf);
    let mut g = c.benchmark_group("pane_writer_200x60");
    g.sample_size(20);
    let kitty = Graphics {
        protocol: ratatui_image::picker::ProtocolType::Kitty,
        kitty_direct: true,
        ..Graphics::sixel((10, 20))
    };
    for (name, graphics) in [("sixel", Graphics::sixel((10, 20))), ("kitty", kitty)] {
        let mut palettes = Palettes::default();
        let mut frame = |nudge: u32| -> Frame {
            let req = fitted_view(&item, graphics, cells, nudge);
            match render(&pyramid, req, 1, &mut palettes).map(|p| p.drawn) {
                Ok(Drawn::Pane(f)) => f,
                _ => panic!("a pane frame"),
            }
        };
        let (first, moved) = (frame(0), frame(5));
        g.bench_function(format!("{name}_whole_view"), |b| {
            b.iter(|| {
                let mut w = PaneWriter::default();
                w.update(
                    &buf,
                    Some((black_box(&first), area)),
                    (10, 20),
                    Outer::Direct,
                )
                .bytes
                .len()
            });
        });
        g.bench_function(format!("{name}_nudge"), |b| {
            b.iter_batched(
                || {
                    let mut w = PaneWriter::default();
                    w.update(&buf, Some((&first, area)), (10, 20), Outer::Direct);
                    w
                },
                |mut w| {
                    w.update(
                        &buf,
                        Some((black_box(&moved), area)),
                        (10, 20),
                        Outer::Direct,
                    )
                    .bytes
                    .len()
                },
                criterion::BatchSize::LargeInput,
            );
        });
    }
    g.finish();
}

fn verify(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ledger.jsonl");
    let reviewer = Reviewer::generate("bench").expect("key");
    let (jpeg, rgb) = photo();
    let item = item_for(&jpeg, rgb.width(), rgb.height());
    let mut ledger = Ledger::open(&path).expect("ledger");
    for _ in 0..4 {
        let drafts = (0..500)
            .map(|_| {
                let mut e = Entry::draft(EntryKind::Reject);
                e.describe_item(&item);
                e.reason = Some("benchmark entry".into());
                e
            })
            .collect();
        ledger.append(&reviewer, drafts).expect("append");
    }
    drop(ledger);
    let bytes = std::fs::read(&path).expect("read ledger");
    let trusted =
        veil::trust::Trust::workspace(AllowedSigners::parse(&reviewer.allowed_signers_line()));
    let mut g = c.benchmark_group("ledger");
    g.sample_size(10);
    g.bench_function("verify_2000_entries", |b| {
        b.iter(|| veil::ledger::verify(black_box(&bytes), &trusted, None).entries);
    });
    g.finish();
}

/// A 12 MP iPhone HEIC (3024x4032 grid, irot) and the same upright picture
/// as a quality-92 JPEG, each decoded to upright 8-bit RGB.
fn decode_heic(c: &mut Criterion) {
    let heic = include_bytes!("../tests/samples/heif/arrow.heic");
    let limits = veil::policy::Limits::default();
    let upright = veil::image_io::decode_upright(heic, &limits)
        .expect("decode the HEIC")
        .image
        .to_rgb8();
    let jpeg = veil::redact::encode(&upright, veil::policy::OutputFormat::Jpeg, 92).expect("jpeg");
    let mut g = c.benchmark_group("12mp_decode");
    g.sample_size(10);
    g.bench_function("heic", |b| {
        b.iter(|| veil::image_io::decode_upright(black_box(heic), &limits).map(|d| d.width));
    });
    g.bench_function("jpeg_same_picture", |b| {
        b.iter(|| veil::image_io::decode_upright(black_box(&jpeg), &limits).map(|d| d.width));
    });
    g.finish();
}

criterion_group!(benches, render, pane_writer, verify, decode_heic);
criterion_main!(benches);
