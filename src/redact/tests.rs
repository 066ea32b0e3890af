use super::*;
use crate::item::{Mask, MaskKind, MaskOrigin, Rect};
use crate::policy::Naming;
use image::DynamicImage;

fn mask(x: u32, y: u32, w: u32, h: u32) -> Mask {
    Mask {
        id: 1,
        kind: MaskKind::Face,
        rect: Rect::new(x, y, w, h),
        origin: MaskOrigin::Manual,
        zoom_check: None,
    }
}

fn gradient(w: u32, h: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            (x * 7 % 256) as u8,
            (y * 5 % 256) as u8,
            ((x + y) % 256) as u8,
        ])
    }))
}

#[test]
fn random_names_use_only_the_unambiguous_alphabet_and_differ() {
    let a = output_name(Naming::Random, 0);
    let b = output_name(Naming::Random, 0);
    assert_ne!(a, b);
    let tail = a.strip_prefix("Case_").expect("Case_ prefix");
    assert_eq!(tail.len(), 8);
    assert!(tail.bytes().all(|c| NAME_ALPHABET.contains(&c)), "{a}");
    assert!(!tail.contains(['0', 'O', '1', 'I']), "{a}");
}

#[test]
fn sequential_names_are_study_and_four_digits() {
    assert_eq!(output_name(Naming::Sequential, 7), "Study_0007");
    assert_eq!(output_name(Naming::Sequential, 12345), "Study_12345");
    assert_eq!(
        output_file_name(Naming::Sequential, 1, OutputFormat::Png),
        "Study_0001.png"
    );
    assert!(output_file_name(Naming::Random, 1, OutputFormat::Jpeg).ends_with(".jpg"));
}

#[test]
fn the_name_alphabet_has_32_distinct_unambiguous_symbols() {
    let mut seen = NAME_ALPHABET.to_vec();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 32);
    assert!(!NAME_ALPHABET.iter().any(|c| b"0O1I".contains(c)));
}

#[test]
fn a_mask_partly_outside_the_image_is_clamped_without_panicking() {
    let policy = Policy::default();
    let img = gradient(40, 30);
    for m in [
        mask(30, 20, 100, 100),
        mask(u32::MAX - 5, 0, 10, 10),
        mask(0, 0, u32::MAX, u32::MAX),
        mask(50, 50, 10, 10),
    ] {
        for mode in [
            RedactionMode::Solid,
            RedactionMode::Blur,
            RedactionMode::Pixelate,
        ] {
            let mut p = policy.clone();
            p.output.redaction = mode;
            let out = render_pixels(img.clone(), std::slice::from_ref(&m), &p);
            assert_eq!(out.dimensions(), (40, 30));
        }
    }
    let out = render_pixels(img.clone(), &[mask(30, 20, 100, 100)], &policy);
    assert_eq!(out.get_pixel(39, 29).0, [0, 0, 0]);
    assert_eq!(out.get_pixel(30, 20).0, [0, 0, 0]);
    assert_ne!(out.get_pixel(29, 19).0, [0, 0, 0]);
}

#[test]
fn pixelate_averages_blocks_of_at_least_16_pixels() {
    let mut policy = Policy::default();
    policy.output.redaction = RedactionMode::Pixelate;
    let out = render_pixels(gradient(64, 64), &[mask(0, 0, 32, 32)], &policy);
    let first = out.get_pixel(0, 0);
    for y in 0..16 {
        for x in 0..16 {
            assert_eq!(out.get_pixel(x, y), first);
        }
    }
    assert_ne!(out.get_pixel(16, 0), first);
}

#[test]
fn blur_reads_only_pixels_inside_the_mask() {
    let mut policy = Policy::default();
    policy.output.redaction = RedactionMode::Blur;
    let mut img = RgbImage::from_pixel(40, 40, image::Rgb([200, 10, 10]));
    for y in 10..30 {
        for x in 10..30 {
            img.put_pixel(x, y, image::Rgb([10, 200, 10]));
        }
    }
    let out = render_pixels(
        DynamicImage::ImageRgb8(img),
        &[mask(10, 10, 20, 20)],
        &policy,
    );
    // Uniform inside and untouched outside.
    assert_eq!(out.get_pixel(10, 10).0, [10, 200, 10]);
    assert_eq!(out.get_pixel(9, 9).0, [200, 10, 10]);
}

#[test]
fn blur_smooths_the_content_under_the_mask() {
    let mut policy = Policy::default();
    policy.output.redaction = RedactionMode::Blur;
    let img = DynamicImage::ImageRgb8(RgbImage::from_fn(64, 64, |x, _| {
        image::Rgb(if x % 2 == 0 { [255; 3] } else { [0; 3] })
    }));
    let out = render_pixels(img.clone(), &[mask(0, 0, 64, 64)], &policy);
    // Stripes are gone: neighbours are close, nothing is near black or white.
    for y in 0..64 {
        for x in 1..64 {
            let (a, b) = (out.get_pixel(x - 1, y).0[0], out.get_pixel(x, y).0[0]);
            assert!(a.abs_diff(b) <= 4, "({x},{y}): {a} vs {b}");
            assert!((64..=192).contains(&b), "({x},{y}): {b}");
        }
    }
}

#[test]
fn sixteen_bit_gray_and_alpha_become_opaque_rgb8() {
    let policy = Policy::default();
    let gray16 = DynamicImage::ImageLuma16(image::ImageBuffer::from_pixel(
        2,
        2,
        image::Luma([65_535u16]),
    ));
    assert_eq!(
        render_pixels(gray16.clone(), &[], &policy)
            .get_pixel(0, 0)
            .0,
        [255; 3]
    );
    let la =
        DynamicImage::ImageLumaA8(image::ImageBuffer::from_pixel(2, 2, image::LumaA([0u8, 0])));
    assert_eq!(
        render_pixels(la.clone(), &[], &policy).get_pixel(1, 1).0,
        [255; 3]
    );
    let half = DynamicImage::ImageRgba8(image::ImageBuffer::from_pixel(
        1,
        1,
        image::Rgba([0u8, 0, 0, 128]),
    ));
    let p = render_pixels(half.clone(), &[], &policy).get_pixel(0, 0).0;
    assert!(p.iter().all(|&c| (126..=128).contains(&c)), "{p:?}");
}

#[test]
fn the_encoders_output_is_rebuilt_to_plain_jfif_and_passes_the_allowlist() {
    let rgb = gradient(33, 17).to_rgb8();
    let jpeg = encode(&rgb, OutputFormat::Jpeg, 80).expect("jpeg");
    assert_eq!(&jpeg[2..20], &PLAIN_JFIF_APP0);
    assert_eq!(check_output(&jpeg), Ok(OutputFormat::Jpeg));
    let png = encode(&rgb, OutputFormat::Png, 80).expect("png");
    assert_eq!(check_output(&png), Ok(OutputFormat::Png));
    let kinds: Vec<String> = png_chunks(&png)
        .expect("chunks")
        .iter()
        .map(|c| chunk_name(&c.kind))
        .collect();
    assert_eq!(kinds.first().map(String::as_str), Some("IHDR"));
    assert!(
        kinds
            .iter()
            .all(|k| k == "IHDR" || k == "IDAT" || k == "IEND"),
        "{kinds:?}"
    );
}

#[test]
fn the_mobile_preview_is_scaled_to_the_width_and_keeps_the_aspect() {
    let rgb = gradient(400, 300).to_rgb8();
    let small = mobile_preview(&rgb, 200, 40).expect("preview");
    assert_eq!(small.dimensions(), (200, 150));
    assert_eq!(
        mobile_preview(&rgb, 800, 40).expect("preview").dimensions(),
        (400, 300)
    );
    assert!(matches!(
        mobile_preview(&rgb, 0, 40),
        Err(RedactError::PreviewWidth)
    ));
}

#[test]
fn crc32_matches_the_png_reference_value() {
    assert_eq!(crc32(b"IEND"), 0xAE42_6082);
}
