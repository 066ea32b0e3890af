//! The rendered derivative: orientation, masks, determinism, no metadata.

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

mod common;

use common::mean_abs_diff;
use serde_json::Value;
use sha2::{Digest, Sha256};
use veil::item::{Item, Mask, MaskKind, MaskOrigin, Rect};
use veil::policy::{OutputFormat, Policy, RedactionMode};
use veil::redact::{Rendered, check_output, render_from_bytes, render_item, render_pixels};

/// Byte strings that mark metadata containers; none may reach an output.
const METADATA_MARKERS: [&str; 4] = ["Exif", "http://ns.adobe.com", "ICC_PROFILE", "Photoshop"];

use common::samples_dir;

fn expected() -> Value {
    let text = std::fs::read_to_string(samples_dir().join("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("expected.json parses")
}

fn rect(v: &Value) -> Rect {
    let n = |k: &str| v[k].as_u64().expect("box coordinate") as u32;
    Rect::new(n("x"), n("y"), n("w"), n("h"))
}

fn face_masks(info: &Value) -> Vec<Mask> {
    info["faces"]
        .as_array()
        .map(|faces| {
            faces
                .iter()
                .enumerate()
                .map(|(i, f)| Mask {
                    id: i as u32 + 1,
                    kind: MaskKind::Face,
                    rect: rect(f),
                    origin: MaskOrigin::Manual,
                    zoom_check: None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// An item built by hand, as ingest would have written it.
fn item_for(name: &str, masks: Vec<Mask>) -> Item {
    let path = samples_dir().join(name);
    let bytes = std::fs::read(&path).expect("sample");
    let sha = hex::encode(Sha256::digest(&bytes));
    let info = &expected()["files"][name];
    let n = |k: &str| info[k].as_u64().expect("number in expected.json");
    Item {
        format: info["format"].as_str().unwrap_or_default().to_string(),
        width: n("width") as u32,
        height: n("height") as u32,
        orientation: n("exif_orientation") as u8,
        next_mask_id: masks.len() as u32 + 1,
        masks,
        ..Item::pending(
            &sha[..16],
            &path,
            &sha,
            bytes.len() as u64,
            "2024-01-01T00:00:00Z",
        )
    }
}

fn sample_item(name: &str) -> Item {
    item_for(name, face_masks(&expected()["files"][name]))
}

fn policy(format: OutputFormat) -> Policy {
    let mut p = Policy::default();
    p.output.format = format;
    p
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn render(name: &str, format: OutputFormat) -> Rendered {
    render_item(&sample_item(name), &policy(format), None)
        .unwrap_or_else(|e| panic!("{name} as {format:?}: {e}"))
}

#[test]
fn every_sample_renders_to_an_output_that_passes_the_allowlist_and_carries_no_phi() {
    let expected = expected();
    let phi: Vec<&str> = expected["phi_strings"]
        .as_array()
        .expect("phi_strings")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for name in common::GOOD_SAMPLES {
        let info = &expected["files"][name];
        for format in [OutputFormat::Jpeg, OutputFormat::Png] {
            let out = render(name, format);
            assert_eq!(check_output(&out.bytes), Ok(format), "{name}");
            assert_eq!(out.format, format);
            assert_eq!(out.sha256, hex::encode(Sha256::digest(&out.bytes)));
            assert_eq!(
                (u64::from(out.width), u64::from(out.height)),
                (
                    info["display_width"].as_u64().unwrap_or_default(),
                    info["display_height"].as_u64().unwrap_or_default()
                ),
                "{name}"
            );
            assert!(out.warnings.is_empty(), "{name}: {:?}", out.warnings);
            for s in phi.iter().chain(METADATA_MARKERS.iter()) {
                assert!(
                    !contains(&out.bytes, s.as_bytes()),
                    "{name} as {format:?} contains {s:?}"
                );
            }
        }
    }
}

#[test]
fn rendering_twice_gives_byte_identical_jpeg_and_png() {
    for format in [OutputFormat::Jpeg, OutputFormat::Png] {
        for name in ["portrait_gps.jpg", "no_face.png"] {
            assert_eq!(
                render(name, format),
                render(name, format),
                "{name} {format:?}"
            );
        }
    }
}

/// xorshift64: enough randomness to scramble pixels without a new crate.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn randomising_the_pixels_under_every_mask_changes_no_output_byte() {
    let name = "portrait_gps.jpg";
    let item = item_for(
        name,
        vec![
            mask(1, Rect::new(178, 70, 96, 110)),
            // Odd sizes and offsets: DCT blocks straddle the border.
            mask(2, Rect::new(3, 401, 37, 29)),
            mask(3, Rect::new(490, 500, 40, 40)),
        ],
    );
    let upright = veil::image_io::decode_upright(
        &std::fs::read(&item.source).expect("sample"),
        &Policy::default().limits,
    )
    .expect("decode")
    .image
    .to_rgb8();
    for format in [OutputFormat::Jpeg, OutputFormat::Png] {
        let p = policy(format);
        let mut outputs = Vec::new();
        for seed in [1u64, 0x9E37_79B9_7F4A_7C15, 42, 7_777_777] {
            let mut img = upright.clone();
            let mut state = seed;
            for m in &item.masks {
                let Some(r) = m.rect.clamp_to(img.width(), img.height()) else {
                    continue;
                };
                for y in r.y..r.bottom() {
                    for x in r.x..r.right() {
                        let v = xorshift(&mut state).to_le_bytes();
                        img.put_pixel(x, y, image::Rgb([v[0], v[1], v[2]]));
                    }
                }
            }
            let rgb = render_pixels(image::DynamicImage::ImageRgb8(img), &item.masks, &p);
            outputs
                .push(veil::redact::encode(&rgb, format, p.output.jpeg_quality).expect("encode"));
        }
        assert!(outputs.windows(2).all(|w| w[0] == w[1]), "{format:?}");
        let rendered = render_item(&item, &p, None).expect("render");
        assert_eq!(rendered.bytes, outputs[0], "{format:?}");
    }
}

fn mask(id: u32, rect: Rect) -> Mask {
    Mask {
        id,
        kind: MaskKind::Other,
        rect,
        origin: MaskOrigin::Manual,
        zoom_check: None,
    }
}

#[test]
fn a_rotated_photo_renders_upright_and_its_mask_lands_on_the_face() {
    let name = "rotated6.jpg";
    let face = rect(&expected()["files"][name]["faces"][0]);
    let magenta = [255u8, 0, 255];
    let mut p = Policy::default();
    p.output.fill = veil::colour::Rgb::new([0xff, 0x00, 0xff]);
    let near = |px: [u8; 3]| px.iter().zip(magenta).all(|(a, b)| a.abs_diff(b) <= 8);

    let out = render_item(&item_for(name, vec![mask(1, face)]), &p, None).expect("render");
    assert_eq!((out.width, out.height), (384, 512));
    let pixels = out.pixels().expect("decode output");
    assert_eq!(pixels.dimensions(), (384, 512));
    let inner = Rect::new(face.x + 8, face.y + 8, face.w - 16, face.h - 16);
    let outer = Rect::new(face.x - 16, face.y - 16, face.w + 32, face.h + 32);
    for (x, y, px) in pixels.enumerate_pixels() {
        let at = Rect::new(x, y, 1, 1);
        if inner.contains(&at) {
            assert!(near(px.0), "inside the face box at ({x},{y}): {:?}", px.0);
        } else if !outer.intersects(&at) {
            assert!(!near(px.0), "outside the face box at ({x},{y}): {:?}", px.0);
        }
    }

    // Without the mask the box holds the face: the stored pixels of the
    // face (expected.json's faces_stored), turned 90° clockwise as
    // Orientation 6 asks, match the upright output in that box.
    let bare = render_item(&item_for(name, Vec::new()), &p, None).expect("render");
    let bare = bare.pixels().expect("decode");
    let stored_box = rect(&expected()["files"][name]["faces_stored"][0]);
    let original = std::fs::read(samples_dir().join(name)).expect("sample");
    let stored =
        veil::image_io::decode_with(&original, &p.limits, Some(1), veil::memory::Step::Render)
            .expect("decode stored pixels")
            .image
            .to_rgb8();
    let crop = |img: &image::RgbImage, r: Rect| {
        image::imageops::crop_imm(img, r.x, r.y, r.w, r.h).to_image()
    };
    let face_upright = crop(&bare, face);
    let turned_cw = image::imageops::rotate90(&crop(&stored, stored_box));
    let turned_ccw = image::imageops::rotate270(&crop(&stored, stored_box));
    assert!(mean_abs_diff(&face_upright, &turned_cw) < 8.0);
    assert!(mean_abs_diff(&face_upright, &turned_ccw) > 20.0);
}

#[test]
fn a_changed_original_is_refused_naming_its_path() {
    let mut item = sample_item("trailer.jpg");
    item.sha256 = "0".repeat(64);
    let err = render_item(&item, &Policy::default(), None).expect_err("hash differs");
    let msg = err.to_string();
    assert!(
        matches!(err, veil::redact::RedactError::OriginalChanged { .. }),
        "{msg}"
    );
    assert!(msg.contains("trailer.jpg"), "{msg}");
}

#[test]
fn an_original_whose_size_differs_from_the_item_is_refused() {
    let mut item = sample_item("trailer.jpg");
    item.width = 601;
    let bytes = std::fs::read(&item.source).expect("sample");
    let err = render_from_bytes(&bytes, &item, &Policy::default(), None).expect_err("size differs");
    assert!(err.to_string().contains("600x400"), "{err}");
}

#[test]
fn blur_and_pixelate_render_with_a_warning_that_they_can_be_reversed() {
    for (mode, word) in [
        (RedactionMode::Blur, "blur"),
        (RedactionMode::Pixelate, "pixelate"),
    ] {
        let mut p = Policy::default();
        p.output.redaction = mode;
        let out = render_item(&sample_item("portrait_gps.jpg"), &p, None).expect("render");
        assert_eq!(
            out.warnings,
            vec![format!("masks use {word}, which can be partly reversed")]
        );
        assert_eq!(check_output(&out.bytes), Ok(OutputFormat::Jpeg));
    }
}

#[test]
fn a_transparent_png_pixel_renders_as_the_background_colour() {
    let mut img = image::RgbaImage::from_pixel(8, 8, image::Rgba([10, 200, 30, 255]));
    img.put_pixel(2, 3, image::Rgba([255, 0, 0, 0]));
    let mut png = Vec::new();
    image::DynamicImage::ImageRgba8(img)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("encode test png");
    let mut item = sample_item("no_face.png");
    item.masks.clear();
    (item.width, item.height, item.orientation) = (8, 8, 1);
    let mut p = policy(OutputFormat::Png);
    p.output.background = veil::colour::Rgb::new([0x12, 0x34, 0x56]);
    let out = render_from_bytes(&png, &item, &p, None).expect("render");
    let pixels = out.pixels().expect("decode");
    assert_eq!(pixels.get_pixel(2, 3).0, [0x12, 0x34, 0x56]);
    assert_eq!(pixels.get_pixel(0, 0).0, [10, 200, 30]);
}

#[test]
fn a_mask_partly_outside_the_image_is_clamped_and_rendered() {
    let item = item_for(
        "trailer.jpg",
        vec![
            mask(1, Rect::new(560, 360, 500, 500)),
            mask(2, Rect::new(9000, 9000, 5, 5)),
        ],
    );
    let out = render_item(&item, &policy(OutputFormat::Png), None).expect("render");
    let pixels = out.pixels().expect("decode");
    assert_eq!(pixels.dimensions(), (600, 400));
    assert_eq!(pixels.get_pixel(599, 399).0, [0, 0, 0]);
    assert_eq!(pixels.get_pixel(560, 360).0, [0, 0, 0]);
}

/// exiftool groups a de-identified output may show.
const ALLOWED_GROUPS: [&str; 6] = ["File", "System", "ExifTool", "JFIF", "Composite", "PNG"];

#[test]
fn exiftool_finds_no_metadata_groups_in_any_output() {
    if std::process::Command::new("exiftool")
        .arg("-ver")
        .output()
        .is_err()
    {
        eprintln!("SKIP: exiftool not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    for name in common::GOOD_SAMPLES {
        for format in [OutputFormat::Jpeg, OutputFormat::Png] {
            let out = render(name, format);
            let path = dir.path().join(format!("out.{}", format.extension()));
            std::fs::write(&path, &out.bytes).expect("write output");
            let run = std::process::Command::new("exiftool")
                .args(["-a", "-G1", "-s", "-j"])
                .arg(&path)
                .output()
                .expect("run exiftool");
            assert!(run.status.success(), "{name}: exiftool failed");
            let json: Value = serde_json::from_slice(&run.stdout).expect("exiftool JSON");
            let tags = json[0].as_object().expect("one object");
            for key in tags.keys().filter(|k| *k != "SourceFile") {
                let group = key.split(':').next().unwrap_or(key);
                assert!(
                    ALLOWED_GROUPS.contains(&group),
                    "{name} as {format:?}: exiftool shows {key} = {}",
                    tags[key]
                );
            }
            if format == OutputFormat::Png {
                assert!(!tags.keys().any(|k| k.starts_with("JFIF:")), "{name}");
            }
        }
    }
}
