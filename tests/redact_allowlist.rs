//! The container allowlist refuses anything that could carry metadata.

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

use image::RgbImage;
use veil::policy::OutputFormat;
use veil::redact::{AllowlistError, check_output, crc32, encode};

fn pixels() -> RgbImage {
    RgbImage::from_fn(24, 16, |x, y| {
        image::Rgb([(x * 10) as u8, (y * 15) as u8, 128])
    })
}

fn jpeg() -> Vec<u8> {
    encode(&pixels(), OutputFormat::Jpeg, 90).expect("encode jpeg")
}

fn png() -> Vec<u8> {
    encode(&pixels(), OutputFormat::Png, 90).expect("encode png")
}

/// A JPEG marker segment with its length field.
fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&(payload.len() as u16 + 2).to_be_bytes());
    s.extend_from_slice(payload);
    s
}

/// Insert `extra` right after SOI and the APP0 (offset 20).
fn jpeg_with(extra: &[u8]) -> Vec<u8> {
    let mut bytes = jpeg();
    bytes.splice(20..20, extra.iter().copied());
    bytes
}

/// Replace the APP0 (offsets 2..20) with `app0`.
fn jpeg_with_app0(app0: &[u8]) -> Vec<u8> {
    let mut bytes = jpeg();
    bytes.splice(2..20, app0.iter().copied());
    bytes
}

/// A PNG chunk with a correct CRC.
fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    c.extend_from_slice(&crc32(&c[4..]).to_be_bytes());
    c
}

/// Insert `extra` right after IHDR (8-byte signature + 25-byte IHDR).
fn png_with(extra: &[u8]) -> Vec<u8> {
    let mut bytes = png();
    bytes.splice(33..33, extra.iter().copied());
    bytes
}

fn rejected(bytes: &[u8]) -> String {
    match check_output(bytes) {
        Ok(format) => panic!("accepted as {format:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn veils_own_jpeg_and_png_pass() {
    assert_eq!(check_output(&jpeg()), Ok(OutputFormat::Jpeg));
    assert_eq!(check_output(&png()), Ok(OutputFormat::Png));
}

#[test]
fn a_jpeg_with_an_app1_exif_segment_is_rejected_naming_app1() {
    let msg = rejected(&jpeg_with(&segment(0xE1, b"Exif\0\0MM\0*")));
    assert!(msg.contains("APP1 (Exif)"), "{msg}");
    assert!(msg.contains("offset 20"), "{msg}");
}

#[test]
fn a_jpeg_with_xmp_icc_or_photoshop_segments_is_rejected_naming_each() {
    for (marker, payload, name) in [
        (
            0xE1,
            &b"http://ns.adobe.com/xap/1.0/\0<x/>"[..],
            "APP1 (XMP)",
        ),
        (0xE2, &b"ICC_PROFILE\0\x01\x01"[..], "APP2 (ICC_PROFILE)"),
        (0xED, &b"Photoshop 3.0\0"[..], "APP13 (Photoshop)"),
        (0xEF, &b"anything"[..], "APP15"),
    ] {
        let msg = rejected(&jpeg_with(&segment(marker, payload)));
        assert!(msg.contains(name), "{msg}");
    }
}

#[test]
fn a_jpeg_with_a_comment_is_rejected_naming_com() {
    let msg = rejected(&jpeg_with(&segment(0xFE, b"Patient: Jane Doe")));
    assert!(msg.contains("COM"), "{msg}");
}

#[test]
fn a_jpeg_with_bytes_after_eoi_is_rejected_naming_eoi() {
    let mut bytes = jpeg();
    let eoi = bytes.len() - 2;
    bytes.extend_from_slice(b"TRAILER-PHI-0001");
    let msg = rejected(&bytes);
    assert!(msg.contains("EOI"), "{msg}");
    assert!(msg.contains(&format!("offset {eoi}")), "{msg}");
    assert!(msg.contains("16 bytes"), "{msg}");
}

#[test]
fn a_jfif_header_with_a_thumbnail_is_rejected() {
    let mut payload = b"JFIF\0\x01\x01\0\0\x01\0\x01\x02\x02".to_vec();
    payload.extend_from_slice(&[0u8; 12]);
    let msg = rejected(&jpeg_with_app0(&segment(0xE0, &payload)));
    assert!(msg.contains("APP0 (JFIF)"), "{msg}");
    assert!(msg.contains("2x2 thumbnail"), "{msg}");
}

#[test]
fn a_jfxx_extension_app0_is_rejected() {
    let jfxx = segment(0xE0, b"JFXX\0\x10\xFF\xD8\xFF\xD9");
    let msg = rejected(&jpeg_with(&jfxx));
    assert!(msg.contains("APP0 (JFXX)"), "{msg}");
}

#[test]
fn a_second_app0_is_rejected() {
    let app0 = jpeg()[2..20].to_vec();
    let msg = rejected(&jpeg_with(&app0));
    assert!(msg.contains("APP0") && msg.contains("second"), "{msg}");
}

#[test]
fn a_truncated_jpeg_is_rejected() {
    let bytes = jpeg();
    let msg = rejected(&bytes[..bytes.len() - 2]);
    assert!(msg.contains("truncated"), "{msg}");
}

#[test]
fn a_png_with_a_text_chunk_is_rejected_naming_text() {
    let msg = rejected(&png_with(&chunk(b"tEXt", b"Author\0Dr. John Smith")));
    assert!(msg.contains("tEXt"), "{msg}");
    assert!(msg.contains("offset 33"), "{msg}");
}

#[test]
fn a_png_with_exif_or_time_chunks_is_rejected_naming_them() {
    for kind in [b"eXIf", b"tIME", b"iTXt", b"iCCP", b"zTXt"] {
        let msg = rejected(&png_with(&chunk(kind, b"x")));
        assert!(
            msg.contains(std::str::from_utf8(kind).unwrap_or("?")),
            "{msg}"
        );
    }
}

#[test]
fn a_png_with_bytes_after_iend_is_rejected_naming_iend() {
    let mut bytes = png();
    bytes.extend_from_slice(b"TRAILER-PHI-0001");
    let msg = rejected(&bytes);
    assert!(msg.contains("IEND"), "{msg}");
    assert!(msg.contains("16 bytes"), "{msg}");
}

#[test]
fn a_png_with_a_bad_crc_is_rejected_naming_the_chunk() {
    let mut bytes = png();
    // The IHDR's CRC is at 29..33.
    bytes[32] ^= 0x01;
    let msg = rejected(&bytes);
    assert!(msg.contains("IHDR") && msg.contains("CRC"), "{msg}");
    let mut bytes = png();
    // Last byte of the last IDAT's CRC sits just before IEND (12 bytes).
    let at = bytes.len() - 13;
    bytes[at] ^= 0x01;
    let msg = rejected(&bytes);
    assert!(msg.contains("IDAT") && msg.contains("CRC"), "{msg}");
}

#[test]
fn a_png_chunk_longer_than_the_file_is_rejected() {
    let mut bytes = png();
    bytes[33..37].copy_from_slice(&0x7000_0000u32.to_be_bytes());
    let msg = rejected(&bytes);
    assert!(msg.contains("IDAT") && msg.contains("length"), "{msg}");
}

#[test]
fn empty_input_is_rejected() {
    assert_eq!(check_output(&[]), Err(AllowlistError::Empty));
    assert!(rejected(&[]).contains("empty"));
}

#[test]
fn something_that_is_neither_jpeg_nor_png_is_rejected() {
    let msg = rejected(b"RIFF\0\0\0\0WEBPVP8 ");
    assert!(msg.contains("not JPEG, PNG or DICOM"), "{msg}");
}
