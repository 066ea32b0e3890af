//! The metadata inventory finds what was planted in the real sample photos.

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

use std::path::PathBuf;
use veil::metadata::{Inventory, inventory};

fn sample(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/samples")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The value of the first finding in `group` named `field`.
fn value<'a>(inv: &'a Inventory, group: &str, field: &str) -> &'a str {
    inv.findings
        .iter()
        .find(|f| f.group == group && f.field == field)
        .map(|f| f.value.as_str())
        .unwrap_or_else(|| panic!("no {group}/{field} in {:#?}", inv.findings))
}

fn groups(inv: &Inventory) -> Vec<&str> {
    let mut g: Vec<&str> = inv.findings.iter().map(|f| f.group.as_str()).collect();
    g.dedup();
    g
}

#[test]
fn everything_planted_in_portrait_gps_jpg_is_found() {
    let inv = inventory(&sample("portrait_gps.jpg"));
    assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
    assert_eq!(inv.orientation, None);

    assert_eq!(value(&inv, "EXIF", "Make"), "Canon");
    assert_eq!(value(&inv, "EXIF", "Model"), "Canon EOS 5D Mark IV");
    assert_eq!(value(&inv, "EXIF", "Artist"), "Dr. John Smith");
    assert_eq!(
        value(&inv, "EXIF", "ImageDescription"),
        "Patient Jane Doe MRN 12345"
    );
    assert_eq!(
        value(&inv, "EXIF", "DateTimeOriginal"),
        "2021:03:04 05:06:07"
    );
    assert_eq!(
        value(&inv, "EXIF", "DateTimeDigitized"),
        "2021:03:04 05:06:07"
    );
    assert_eq!(value(&inv, "EXIF", "BodySerialNumber"), "SN-0123456789");
    assert_eq!(value(&inv, "EXIF", "LensSerialNumber"), "LSN-9876543210");
    assert_eq!(
        value(&inv, "EXIF", "CameraOwnerName"),
        "St. Example Hospital Dermatology"
    );
    assert_eq!(
        value(&inv, "EXIF", "UserComment"),
        "Jane Doe, DOB 1970-01-01"
    );
    assert!(value(&inv, "GPS", "GPSLatitude").starts_with("51 deg 30 min"));
    assert_eq!(value(&inv, "GPS", "GPSLatitudeRef"), "N");
    assert!(value(&inv, "GPS", "GPSLongitude").starts_with("0 deg 7 min"));
    assert_eq!(value(&inv, "GPS", "GPSLongitudeRef"), "W");
    assert_eq!(
        value(&inv, "Thumbnail", "ThumbnailImage"),
        "JPEG, 6799 bytes"
    );
    assert_eq!(value(&inv, "IPTC", "By-line"), "Dr. John Smith");
    assert_eq!(
        value(&inv, "IPTC", "Caption-Abstract"),
        "Patient Jane Doe MRN 12345"
    );
    assert_eq!(value(&inv, "XMP", "dc:creator"), "Dr. John Smith");
    assert_eq!(
        value(&inv, "XMP", "dc:description"),
        "Patient Jane Doe MRN 12345"
    );
    assert!(value(&inv, "ICC", "ICC_PROFILE").starts_with("'sRGB built-in', "));
    assert_eq!(
        value(&inv, "Comment", "COM"),
        "Patient: Jane Doe, DOB 1970-01-01"
    );
}

#[test]
fn findings_come_in_file_order() {
    let inv = inventory(&sample("portrait_gps.jpg"));
    assert_eq!(
        groups(&inv),
        ["EXIF", "GPS", "Thumbnail", "IPTC", "XMP", "ICC", "Comment"]
    );
}

#[test]
fn inventory_is_deterministic() {
    let bytes = sample("portrait_gps.jpg");
    assert_eq!(inventory(&bytes), inventory(&bytes));
}

#[test]
fn orientation_6_in_rotated6_jpg_is_recorded() {
    let inv = inventory(&sample("rotated6.jpg"));
    assert_eq!(inv.orientation, Some(6));
    assert_eq!(value(&inv, "EXIF", "Orientation"), "6 (rotate 90 CW)");
    assert_eq!(value(&inv, "EXIF", "Make"), "Canon");
    assert_eq!(value(&inv, "EXIF", "Model"), "Canon EOS 5D Mark IV");
    assert_eq!(
        value(&inv, "EXIF", "DateTimeOriginal"),
        "2021:03:04 05:06:07"
    );
    assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
}

#[test]
fn bytes_after_eoi_in_trailer_jpg_are_found() {
    let inv = inventory(&sample("trailer.jpg"));
    assert_eq!(groups(&inv), ["Trailer"]);
    assert_eq!(
        value(&inv, "Trailer", "after EOI"),
        "16 bytes at offset 41606: TRAILER-PHI-0001"
    );
    assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
}

#[test]
fn png_text_time_and_xmp_in_no_face_png_are_found() {
    let inv = inventory(&sample("no_face.png"));
    assert_eq!(value(&inv, "PNG-text", "tEXt:Author"), "Dr. John Smith");
    assert_eq!(
        value(&inv, "PNG-text", "tEXt:Comment"),
        "Patient Jane Doe MRN 12345, photographed 2021-03-04"
    );
    assert_eq!(value(&inv, "PNG-time", "tIME"), "2021-03-04 05:06:07");
    assert_eq!(value(&inv, "XMP", "dc:creator"), "Dr. John Smith");
    assert_eq!(
        value(&inv, "XMP", "dc:description"),
        "Patient Jane Doe MRN 12345"
    );
    assert_eq!(groups(&inv), ["PNG-text", "PNG-time", "XMP"]);
    assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
}

#[test]
fn exif_gps_and_xmp_chunks_in_clean_webp_are_found() {
    let inv = inventory(&sample("clean.webp"));
    assert_eq!(value(&inv, "EXIF", "Make"), "Canon");
    assert_eq!(value(&inv, "EXIF", "Model"), "Canon EOS 5D Mark IV");
    assert_eq!(value(&inv, "EXIF", "Artist"), "Dr. John Smith");
    assert_eq!(
        value(&inv, "EXIF", "DateTimeOriginal"),
        "2021:03:04 05:06:07"
    );
    assert!(value(&inv, "GPS", "GPSLatitude").starts_with("51 deg 30 min"));
    assert!(value(&inv, "GPS", "GPSLongitude").starts_with("0 deg 7 min"));
    assert_eq!(value(&inv, "XMP", "dc:creator"), "Dr. John Smith");
    assert_eq!(
        value(&inv, "XMP", "dc:description"),
        "Patient Jane Doe MRN 12345"
    );
    assert_eq!(groups(&inv), ["EXIF", "GPS", "XMP"]);
    assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
}

#[test]
fn identifying_tags_in_scan_tiff_are_found_and_structure_is_not() {
    let inv = inventory(&sample("scan.tiff"));
    assert_eq!(value(&inv, "EXIF", "Artist"), "Dr. John Smith");
    assert_eq!(value(&inv, "EXIF", "Make"), "Epson");
    assert_eq!(value(&inv, "EXIF", "Model"), "Perfection V600");
    assert_eq!(value(&inv, "EXIF", "DateTime"), "2021:03:04 05:06:07");
    assert_eq!(
        value(&inv, "EXIF", "ImageDescription"),
        "Patient Jane Doe MRN 12345"
    );
    for structural in [
        "ImageWidth",
        "BitsPerSample",
        "StripOffsets",
        "StripByteCounts",
    ] {
        assert!(
            !inv.findings.iter().any(|f| f.field == structural),
            "{structural} listed: {:#?}",
            inv.findings
        );
    }
    assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
}

#[test]
fn a_truncated_jpeg_still_shows_its_metadata_and_says_it_is_truncated() {
    let inv = inventory(&sample("bad/truncated.jpg"));
    assert_eq!(value(&inv, "GPS", "GPSLatitudeRef"), "N");
    assert_eq!(value(&inv, "IPTC", "By-line"), "Dr. John Smith");
    assert_eq!(value(&inv, "XMP", "dc:creator"), "Dr. John Smith");
    assert_eq!(
        value(&inv, "Comment", "COM"),
        "Patient: Jane Doe, DOB 1970-01-01"
    );
    assert!(
        inv.warnings.iter().any(|w| w.contains("no end-of-image")),
        "{:?}",
        inv.warnings
    );
}

#[test]
fn a_text_file_named_jpg_is_not_mistaken_for_an_image() {
    let inv = inventory(&sample("bad/not_an_image.jpg"));
    assert!(inv.findings.is_empty());
    assert_eq!(inv.warnings.len(), 1, "{:?}", inv.warnings);
}

#[test]
fn every_prefix_of_every_sample_is_inventoried_without_panicking() {
    for name in [
        "portrait_gps.jpg",
        "rotated6.jpg",
        "no_face.png",
        "clean.webp",
        "scan.tiff",
    ] {
        let bytes = sample(name);
        // Every prefix through the metadata, then a coarser stride.
        let dense = bytes.len().min(12_000);
        let lengths = (0..dense).chain((dense..bytes.len()).step_by(997));
        for len in lengths {
            let inv = inventory(&bytes[..len]);
            assert!(inv.findings.len() <= 2000, "{name}[..{len}]");
        }
    }
}

#[test]
fn random_byte_flips_in_the_samples_never_panic() {
    // A fixed xorshift sequence: the same flips on every run.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for name in [
        "portrait_gps.jpg",
        "rotated6.jpg",
        "no_face.png",
        "clean.webp",
        "scan.tiff",
    ] {
        let original = sample(name);
        // Flip inside the metadata (first 12 KB) where the parsers work.
        let span = original.len().min(12_000) as u64;
        for _ in 0..300 {
            let mut bytes = original.clone();
            for _ in 0..1 + next() % 8 {
                let at = (next() % span) as usize;
                bytes[at] = next() as u8;
            }
            let _ = inventory(&bytes);
        }
    }
}
