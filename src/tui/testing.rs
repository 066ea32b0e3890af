//! Fixed, deterministic review-station states for the unit and snapshot
//! tests (no terminal, no workspace, no threads, fixed clock).

use super::app::{App, Clock, PreviewShown};
use super::image::{Graphics, Pyramid, compose_fitted, encode, render};
use super::theme::Theme;
use super::update::{Msg, update};
use crate::item::{Item, ItemState, MaskKind, MaskOrigin, MetadataFinding, Rect};
use crate::policy::Policy;
use image::{Rgb, RgbImage};

/// The time every test clock reads.
pub const NOW: &str = "2025-03-14T09:26:53Z";

/// The reviewer in tests.
pub(crate) const REVIEWER: &str = "Dr Ada Test";

/// An item `id` of `w`×`h` pixels with no masks.
pub fn item(id: &str, w: u32, h: u32) -> Item {
    let source = std::path::PathBuf::from(format!("/originals/{id}.jpg"));
    Item {
        format: "jpeg".into(),
        width: w,
        height: h,
        ..Item::pending(
            id,
            &source,
            &format!("{id:0<64}"),
            123_456,
            "2025-03-14T08:00:00Z",
        )
    }
}

/// A queue of five items in different states; the first (800×600) has two
/// detected faces and a badge the text detector proposed, and carries GPS
/// and camera metadata.
pub fn queue() -> Vec<Item> {
    let mut a = item("3f2a9c1e00000001", 800, 600);
    let det = |score| MaskOrigin::Detector {
        detector: "rustface".into(),
        score_milli: score,
    };
    a.add_mask(MaskKind::Face, Rect::new(120, 100, 120, 150), det(9_310));
    a.add_mask(MaskKind::Face, Rect::new(500, 140, 100, 130), det(4_020));
    // The badge, proposed by the text detector.
    a.text_detector = crate::detect::TextDetector::new(&Policy::default().detector)
        .ok()
        .map(|t| t.info());
    a.add_mask(
        MaskKind::Identifier,
        Rect::new(300, 420, 90, 40),
        MaskOrigin::Detector {
            detector: crate::detect::TEXT_DETECTOR_NAME.into(),
            score_milli: 874,
        },
    );
    a.metadata = vec![
        finding("GPS", "GPSLatitude", "51 deg 30' 26.46\" N"),
        finding("GPS", "GPSLongitude", "0 deg 7' 39.93\" W"),
        finding("EXIF", "Make", "Canon"),
        finding("EXIF", "Artist", "Ward 7 \u{1b}[31mred\u{1b}[0m"),
        finding("EXIF", "DateTimeOriginal", "2024:11:02 14:03:11"),
        finding("XMP", "dc:creator", "J. Smith"),
        finding("ICC", "profile", ""),
    ];
    let mut b = item("7b01d4e200000002", 640, 480);
    b.state = ItemState::Ready;
    b.add_mask(
        MaskKind::Face,
        Rect::new(200, 120, 160, 200),
        MaskOrigin::Manual,
    );
    let mut c = item("a9e3c7f000000003", 600, 800);
    c.state = ItemState::Approved;
    let mut d = item("c4d5e6f700000004", 0, 0);
    d.state = ItemState::Failed;
    d.format = String::new();
    d.failure = Some("corrupt or truncated jpeg: unexpected end of file".into());
    let mut e = item("e1f2a3b400000005", 1000, 700);
    e.add_mask(
        MaskKind::Tattoo,
        Rect::new(400, 300, 80, 60),
        MaskOrigin::Manual,
    );
    vec![a, b, c, d, e]
}

fn finding(group: &str, field: &str, value: &str) -> MetadataFinding {
    MetadataFinding {
        group: group.into(),
        field: field.into(),
        value: value.into(),
    }
}

/// A station on `items` at 120×36 with half-blocks, the default theme, a
/// fixed clock and a reviewer.
pub fn app_with(items: Vec<Item>) -> App {
    let mut app = App::new(
        Policy::default(),
        items,
        Theme::fallback(),
        Graphics::halfblocks(),
    );
    app.clock = Clock::Fixed(NOW.into());
    app.reviewer = Some(REVIEWER.into());
    update(&mut app, Msg::Resized(120, 36));
    app
}

/// The station on [`queue`].
pub fn app() -> App {
    app_with(queue())
}

/// A synthetic photograph: a smooth gradient with a darker oval "head".
pub fn photo(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w.max(1), h.max(1), |x, y| {
        let fx = x as f32 / w.max(1) as f32;
        let fy = y as f32 / h.max(1) as f32;
        let dx = (fx - 0.25) / 0.12;
        let dy = (fy - 0.3) / 0.2;
        if dx * dx + dy * dy < 1.0 {
            Rgb([150, 110, 90])
        } else {
            Rgb([(40.0 + 180.0 * fx) as u8, (90.0 + 100.0 * fy) as u8, 160])
        }
    })
}

/// Render the current view on this thread, as the worker would, and hand
/// it to `update` (which records what the frame proves).
pub fn show_frame(app: &mut App) -> Vec<super::update::Effect> {
    let Some(req) = app.frame_request() else {
        return Vec::new();
    };
    let Some(item) = app.item() else {
        return Vec::new();
    };
    let (w, h) = item.oriented_size();
    let Ok(picture) = render(
        &Pyramid::new(photo(w, h)),
        req,
        1,
        &mut super::image::Palettes::default(),
    ) else {
        return Vec::new();
    };
    update(app, Msg::FrameReady(Box::new(picture)))
}

/// A finished mobile preview of the current item, as the worker would
/// send it (the output bytes passed the allowlist).
pub fn preview_ready(app: &App) -> Msg {
    let item = app.item().cloned().unwrap_or_else(|| item("none", 1, 1));
    let (w, h) = item.oriented_size();
    let mut small = image::imageops::resize(
        &photo(w, h),
        360,
        (360 * h / w.max(1)).max(1),
        image::imageops::FilterType::Triangle,
    );
    for m in &item.masks {
        let s = 360.0 / w.max(1) as f64;
        let r = Rect::new(
            (m.rect.x as f64 * s) as u32,
            (m.rect.y as f64 * s) as u32,
            (m.rect.w as f64 * s).ceil() as u32,
            (m.rect.h as f64 * s).ceil() as u32,
        );
        for y in r.y..r.bottom().min(small.height()) {
            for x in r.x..r.right().min(small.width()) {
                small.put_pixel(x, y, Rgb([0, 0, 0]));
            }
        }
    }
    let cells = app.preview_cells();
    let g = app.graphics;
    let protocol = encode(compose_fitted(&small, cells, g), cells, g, 2);
    match protocol {
        Ok(protocol) => Msg::PreviewReady(Box::new(PreviewShown {
            item_id: item.id.clone(),
            masks_digest: item.masks_digest(),
            protocol,
            width: small.width(),
            height: small.height(),
            output_sha256: "5e1f".repeat(16),
            check: Ok("JPEG".into()),
            warnings: vec![],
        })),
        Err(error) => Msg::PreviewFailed {
            item_id: item.id,
            error,
        },
    }
}

/// What the terminal was sent for one action in the station.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionBytes {
    pub action: &'static str,
    /// Bytes of picture written (text cells aside).
    pub bytes: usize,
    /// Cells of the picture sent, of all its cells.
    pub cells: usize,
    pub of: usize,
}

/// The station on two items showing `photos`, the first with a mask, on a
/// terminal of `terminal` cells drawing with `graphics` (sixel, or kitty
/// placing directly), driven by keys as an operator would; for each
/// action, what the pane writer sent. The same code the station runs, with
/// the worker's rendering done in line.
pub fn pane_bytes_per_action(
    photos: [RgbImage; 2],
    terminal: (u16, u16),
    graphics: Graphics,
) -> Result<Vec<ActionBytes>, String> {
    use super::image::{Drawn, Palettes};
    use super::pane::PaneWriter;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    let [a, b] = photos;
    let mut first = item("a0000000000000001", a.width(), a.height());
    first.add_mask(
        MaskKind::Face,
        Rect::new(a.width() / 3, a.height() / 4, a.width() / 6, a.height() / 5),
        MaskOrigin::Manual,
    );
    let second = item("b0000000000000002", b.width(), b.height());
    let pyramids = [Pyramid::new(a), Pyramid::new(b)];
    let mut app = app_with(vec![first, second]);
    app.graphics = graphics;
    update(&mut app, Msg::Resized(terminal.0, terminal.1));
    let mut term = Terminal::new(TestBackend::new(terminal.0, terminal.1))
        .map_err(|e| format!("test terminal: {e}"))?;
    let mut palettes = Palettes::default();
    let mut pane = PaneWriter::default();
    let mut out = Vec::new();
    let mut step = |app: &mut App, action: &'static str, keys: &[KeyEvent]| {
        for k in keys {
            if let Some(m) = super::update::msg_for_key(app, k) {
                update(app, m);
            }
        }
        if let (Some(req), Some(at)) = (app.frame_request(), app.current) {
            let pyramid = &pyramids[at.min(1)];
            if let Ok(p) = render(pyramid, req, 1, &mut palettes) {
                update(app, Msg::FrameReady(Box::new(p)));
            }
        }
        let buf = match term.draw(|f| super::view::view(f, app)) {
            Ok(done) => done.buffer.clone(),
            Err(e) => return Err(format!("drawing: {e}")),
        };
        let picture = app.picture().and_then(|p| match &p.drawn {
            Drawn::Pane(q) => Some((q, app.picture_area())),
            Drawn::Widget(_) => None,
        });
        let u = pane.update(
            &buf,
            picture,
            app.graphics.cell_pixels(),
            super::pane::Outer::Direct,
        );
        out.push(ActionBytes {
            action,
            bytes: u.bytes.len(),
            cells: u.cells,
            of: u.of,
        });
        Ok(())
    };
    let k = |c: char| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
    step(&mut app, "first picture", &[])?;
    step(&mut app, "mask nudge (l)", &[k('l')])?;
    step(&mut app, "ten nudges in a burst", &[k('l'); 10])?;
    step(&mut app, "help opened (?)", &[k('?')])?;
    let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
    step(&mut app, "help closed (Esc)", &[esc])?;
    step(&mut app, "reject dialog opened (R)", &[k('R')])?;
    step(&mut app, "reject dialog closed (Esc)", &[esc])?;
    step(&mut app, "zoom in (+)", &[k('+')])?;
    step(&mut app, "next item (n)", &[k('n')])?;
    step(&mut app, "lighter pictures (g)", &[k('g')])?;
    Ok(out)
}
