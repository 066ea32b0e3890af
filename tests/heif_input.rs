//! HEIC/HEIF originals as phones produce them: ingested upright (from the
//! HEIF transforms, never EXIF again), every metadata item listed, faces
//! found, released as a metadata-free JPEG; hostile files refused clearly
//! with memory bounded. Samples: tests/samples/heif/ (see its README).

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

mod common;

use common::*;
use serde_json::Value;
use veil::image_io::{DecodeError, decode_upright};
use veil::policy::Limits;

const MIB: u64 = 1024 * 1024;

/// The good HEIF samples and what the inventory must list for each
/// (group, a word of the field or value).
const GOOD: [(&str, &[(&str, &str)]); 9] = [
    (
        "arrow.heic",
        &[
            ("HEIF", "irot"),
            ("Thumbnail", "HEIF thumbnail"),
            ("EXIF", "Orientation"),
            ("ICC", "Display P3"),
        ],
    ),
    (
        "zpug_three_images.heic",
        &[
            ("HEIF-image", "other image"),
            ("Thumbnail", "HEIF thumbnail"),
        ],
    ),
    (
        "exif_xmp_iptc.heic",
        &[("EXIF", "Make"), ("XMP", ""), ("IPTC", "")],
    ),
    ("rgb_10bit.heif", &[]),
    (
        "rgba_alpha.heif",
        &[("HEIF-auxiliary", "alpha (transparency) plane")],
    ),
    (
        "stereo_pair.heic",
        &[("HEIF-group", "stereo pair"), ("HEIF-image", "other image")],
    ),
    (
        "entity_groups.heic",
        &[("HEIF-group", "alternatives"), ("HEIF-group", "'zzzz'")],
    ),
    ("astronaut.heic", &[("Thumbnail", "HEIF thumbnail")]),
    (
        "astronaut_gps.heic",
        &[
            ("GPS", "GPSLatitude"),
            ("EXIF", "SerialNumber"),
            ("EXIF", "Artist"),
            ("EXIF", "MRN 00123456"),
            ("Thumbnail", "HEIF thumbnail"),
        ],
    ),
];

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(samples_dir().join("heif").join(name)).unwrap()
}

fn lists(item: &Value, group: &str, word: &str) -> bool {
    item["metadata"].as_array().unwrap().iter().any(|f| {
        f["group"] == group
            && (f["field"].as_str().unwrap().contains(word)
                || f["value"].as_str().unwrap().contains(word))
    })
}

#[test]
fn a_folder_of_heic_photos_is_ingested_upright_listed_detected_and_released_with_no_metadata() {
    let names: Vec<String> = GOOD.iter().map(|(n, _)| format!("heif/{n}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let s = Scratch::new(&refs);
    s.veil().arg("init").assert().success();
    s.veil().arg("ingest").arg(s.originals()).assert().success();
    for (name, expected) in GOOD {
        let item = s.item(name);
        assert_eq!(item["state"], "pending", "{name}: {item}");
        assert_eq!(item["format"], "heif", "{name}");
        assert_eq!(
            item["orientation"], 1,
            "{name}: HEIF is upright once decoded"
        );
        for (group, word) in expected {
            assert!(
                lists(&item, group, word),
                "{name}: no {group} finding with '{word}' in {}",
                item["metadata"]
            );
        }
        assert!(
            !lists(&item, "Unparsed", ""),
            "{name}: inventory warnings {}",
            item["metadata"]
        );
    }
    assert_eq!(
        (
            s.item("arrow.heic")["width"].as_u64(),
            s.item("arrow.heic")["height"].as_u64()
        ),
        (Some(3024), Some(4032)),
        "the iPhone photo is a portrait"
    );
    for name in ["astronaut.heic", "astronaut_gps.heic"] {
        let faces = s.item(name)["masks"].as_array().unwrap().len();
        assert!(faces >= 1, "{name}: the astronaut's face was not proposed");
    }
    // Every release is re-encoded from the primary's pixels alone.
    let exiftool = exiftool();
    for (name, _) in GOOD {
        let out = s.render(name);
        if let Some(exiftool) = exiftool {
            let found = exiftool_tags_beyond_jfif(exiftool, &out);
            assert!(
                found.is_empty(),
                "{name}: the released output carries {found:?}"
            );
        }
    }
    let help = s
        .veil()
        .args(["show", "--json"])
        .arg(s.item("stereo_pair.heic")["id"].as_str().unwrap())
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&help.stdout);
    assert!(
        shown.contains("stereo pair") && shown.contains("only the primary image"),
        "{shown}"
    );
}

fn limits() -> Limits {
    Limits::default()
}

#[test]
fn the_upright_picture_comes_from_the_heif_transforms_only_never_from_exif_again() {
    // The iPhone file says Orientation 6 in EXIF and irot 270 in the
    // container: the decoder's transforms make it a 3024x4032 portrait;
    // turning it by EXIF afterwards would make it 4032x3024.
    let arrow = decode_upright(&sample("arrow.heic"), &limits()).unwrap();
    assert_eq!((arrow.image.width(), arrow.image.height()), (3024, 4032));
    assert_eq!(arrow.orientation, 1);
    let inv = veil::metadata::inventory(&sample("arrow.heic"));
    assert_eq!(inv.orientation, Some(6), "the EXIF value is still listed");
    // A file whose EXIF says "rotate 180" and whose container has no irot
    // stands as coded: pixel for pixel the file without that tag.
    let plain = decode_upright(&sample("astronaut.heic"), &limits()).unwrap();
    let conflict = decode_upright(&sample("orientation_conflict.heic"), &limits()).unwrap();
    assert_eq!(
        veil::metadata::inventory(&sample("orientation_conflict.heic")).orientation,
        Some(3)
    );
    assert_eq!(conflict.orientation, 1);
    assert!(plain.image.to_rgb8() == conflict.image.to_rgb8());
    // The same upright pixels as libheif, the reference implementation.
    compare_with_libheif("arrow.heic", &arrow.image.to_rgb8());
}

/// Mean absolute difference from `heif-convert` (libheif) on the same file,
/// when that oracle is installed (Debian: libheif-examples).
fn compare_with_libheif(name: &str, ours: &image::RgbImage) {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("libheif.png");
    let ran = std::process::Command::new("heif-convert")
        .arg(samples_dir().join("heif").join(name))
        .arg(&png)
        .output();
    if !ran.is_ok_and(|o| o.status.success()) {
        eprintln!("SKIP: heif-convert not installed (Debian: libheif-examples)");
        return;
    }
    let theirs = image::open(&png).unwrap().to_rgb8();
    assert_eq!(
        theirs.dimensions(),
        ours.dimensions(),
        "{name}: libheif's size"
    );
    let mean = mean_abs_diff(ours, &theirs);
    assert!(
        mean < 1.5,
        "{name}: mean difference from libheif {mean:.3} levels"
    );
}

/// `bytes` with the primary's `ispe` (its first) set to `width` x `height`.
fn with_ispe(mut bytes: Vec<u8>, width: u32, height: u32) -> Vec<u8> {
    let at = bytes.windows(4).position(|w| w == b"ispe").unwrap();
    bytes[at + 8..at + 12].copy_from_slice(&width.to_be_bytes());
    bytes[at + 12..at + 16].copy_from_slice(&height.to_be_bytes());
    bytes
}

fn refusal(bytes: &[u8]) -> String {
    match decode_upright(bytes, &limits()) {
        Ok(d) => panic!("decoded {}x{}", d.width, d.height),
        Err(e) => e.to_string(),
    }
}

#[test]
fn hostile_heic_files_each_get_a_clear_error_and_never_a_panic() {
    assert_eq!(
        decode_upright(&sample("bad/empty.heic"), &limits()).unwrap_err(),
        DecodeError::Empty
    );
    let truncated = refusal(&sample("bad/truncated.heic"));
    assert!(
        truncated.contains("shorter than its index says"),
        "{truncated}"
    );
    let corrupted = refusal(&sample("bad/corrupted.heic"));
    assert!(
        corrupted.starts_with("corrupt or truncated heif"),
        "{corrupted}"
    );
    // 200 MP needs about 1.7 GiB to decode (32-bit planes, then RGB): over
    // a policy of 1 GiB, refused before a pixel is decoded.
    let small = Limits {
        max_alloc_mib: 1024,
        ..Limits::default()
    };
    let big = decode_upright(&sample("bad/flat_200mp.heic"), &small)
        .unwrap_err()
        .to_string();
    assert!(
        big.contains("12240x16320") && big.contains("max_alloc_mib of 1024"),
        "{big}"
    );
    // A 30000x30000 claim on a 48 KB file: refused by its header's size.
    let claim = refusal(&with_ispe(sample("astronaut.heic"), 30_000, 30_000));
    assert!(
        claim.contains("30000x30000") && claim.contains("over the policy's limit"),
        "{claim}"
    );
    // A container size that the coded picture does not have.
    let lie = refusal(&with_ispe(sample("astronaut.heic"), 4000, 4000));
    assert!(lie.contains("'ispe'") && lie.contains("512x512"), "{lie}");
    // An item coded with something other than HEVC says so.
    let mut av1 = sample("astronaut.heic");
    let at = av1.windows(4).position(|w| w == b"hvc1").unwrap();
    av1[at..at + 4].copy_from_slice(b"av01");
    let other = refusal(&av1);
    assert!(
        other.starts_with("this HEIF file uses something the HEIC decoder does not read"),
        "{other}"
    );
    // Cuts and flips of real files: an error or a picture, never a panic.
    for name in [
        "zpug_three_images.heic",
        "rgba_alpha.heif",
        "exif_xmp_iptc.heic",
    ] {
        let bytes = sample(name);
        for cut in (0..bytes.len()).step_by(61) {
            let _ = decode_upright(&bytes[..cut], &limits()).map(|_| ());
            let _ = veil::metadata::inventory(&bytes[..cut]);
        }
        for at in (0..bytes.len()).step_by(37) {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x5A;
            let _ = decode_upright(&flipped, &limits()).map(|_| ());
            let _ = veil::metadata::inventory(&flipped);
        }
    }
}

#[test]
fn a_200_mp_heic_over_the_memory_limit_and_a_30000x30000_claim_are_refused_at_ingest_with_memory_bounded()
 {
    let s = Scratch::new(&["heif/bad/flat_200mp.heic"]);
    std::fs::write(
        s.originals().join("claims_30000.heic"),
        with_ispe(sample("astronaut.heic"), 30_000, 30_000),
    )
    .unwrap();
    s.veil().arg("init").assert().success();
    let toml = s.ws().join("veil.toml");
    let policy = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(
        &toml,
        policy.replace("max_alloc_mib = 2048", "max_alloc_mib = 1024"),
    )
    .unwrap();
    let mut ingest = s.veil_std();
    ingest.arg("ingest").arg(s.originals());
    let Some((_, peak, output)) = peak_rss(&ingest) else {
        eprintln!("SKIP: python3 not installed");
        return;
    };
    for name in ["flat_200mp.heic", "claims_30000.heic"] {
        let item = s.item(name);
        assert_eq!(item["state"], "failed", "{name}: {output}");
    }
    assert!(
        peak < 150 * MIB,
        "refusing two oversized HEIC files took {} MiB",
        peak / MIB
    );
}

#[test]
fn a_grid_heic_plans_three_times_its_32_bit_planes_as_measured() {
    // arrow.heic: a 4032x3024 grid of 4:2:0 tiles turned by irot. The
    // decoder's planes are 4 bytes a sample; tiles, canvas and the turned
    // copy are held at once (see src/image_io/heic.rs for the measurement).
    let bytes = sample("arrow.heic");
    let plan = veil::image_io::memory_plan(&bytes, &limits()).unwrap();
    let planes = 4032 * 3024 * 4 * 3 / 2;
    assert_eq!((plan.width, plan.height), (3024, 4032));
    assert_eq!(plan.native, planes);
    assert_eq!(plan.decoder, 2 * planes + bytes.len() as u64);
    let single = veil::image_io::memory_plan(&sample("astronaut.heic"), &limits()).unwrap();
    assert_eq!(
        single.decoder,
        sample("astronaut.heic").len() as u64,
        "no grid, no turn"
    );
}
