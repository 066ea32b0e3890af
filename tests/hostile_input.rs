//! Bad and hostile input at ingest: every case gets a one-line error naming
//! the file and the problem, the rest of the batch carries on, nothing is
//! half-written, and nothing from a file reaches the terminal unescaped.

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

mod common;

use common::*;
use serde_json::Value;
use std::io::Write as _;
use std::path::Path;
use veil::redact::crc32;

fn ingest_json(s: &Scratch) -> (Option<i32>, Vec<Value>, String) {
    s.veil().arg("init").assert().success();
    ingest_again(s)
}

/// `veil ingest --json` of originals/ into the workspace already made.
fn ingest_again(s: &Scratch) -> (Option<i32>, Vec<Value>, String) {
    let (out, v) = s.ingest_json(&s.originals());
    (
        out.status.code(),
        v["files"].as_array().unwrap().clone(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn result_for<'a>(files: &'a [Value], name: &str) -> &'a Value {
    files
        .iter()
        .find(|f| f["path"].as_str().is_some_and(|p| p.ends_with(name)))
        .unwrap_or_else(|| panic!("no result for {name} in {files:?}"))
}

#[test]
fn unsupported_formats_are_named_and_the_rest_carry_on() {
    let s = Scratch::new(&["portrait_gps.jpg"]);
    let o = s.originals();
    let mut heic = vec![0, 0, 0, 24];
    heic.extend_from_slice(b"ftypheic\0\0\0\0mif1heic");
    std::fs::write(o.join("IMG_0001.HEIC"), &heic).unwrap();
    let mut avif = vec![0, 0, 0, 24];
    avif.extend_from_slice(b"ftypavif\0\0\0\0mif1avif");
    std::fs::write(o.join("photo.avif"), &avif).unwrap();
    let mut dicom = vec![0u8; 128];
    dicom.extend_from_slice(b"DICM\x02\x00\x00\x00");
    std::fs::write(o.join("scan.dcm"), &dicom).unwrap();
    std::fs::write(o.join("zero.jpg"), b"").unwrap();
    std::fs::write(o.join("notes.jpg"), b"patient notes, not a picture\n").unwrap();
    let (code, files, _) = ingest_json(&s);
    assert_eq!(code, Some(3));
    let reason = |n: &str| {
        result_for(&files, n)["reason"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // HEIC is read; this one is only a file type box, with no image in it.
    assert!(
        reason("IMG_0001.HEIC").contains("heif: the file names no primary image"),
        "{}",
        reason("IMG_0001.HEIC")
    );
    assert!(reason("photo.avif").contains("AVIF is not supported"));
    // DICOM is read; this one is a preamble and a torn meta element.
    assert!(
        reason("scan.dcm").contains("corrupt or truncated DICOM"),
        "{}",
        reason("scan.dcm")
    );
    assert!(reason("zero.jpg").contains("empty file"));
    assert!(reason("notes.jpg").contains("not an image"));
    assert_eq!(result_for(&files, "portrait_gps.jpg")["result"], "added");
}

#[test]
fn animated_and_multi_page_files_are_refused_by_name_and_odd_pixel_formats_are_taken() {
    let s = Scratch::new(&[
        "odd/anim.png",
        "odd/anim.webp",
        "odd/multipage.tiff",
        "odd/cmyk.jpg",
        "odd/gray16.png",
        "odd/gray_alpha.png",
        "scan.tiff",
    ]);
    let (_, files, _) = ingest_json(&s);
    let reason = |n: &str| {
        result_for(&files, n)["reason"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert!(
        reason("anim.png").contains("animated PNG"),
        "{}",
        reason("anim.png")
    );
    assert!(
        reason("anim.webp").contains("animated WebP"),
        "{}",
        reason("anim.webp")
    );
    assert!(reason("multipage.tiff").contains("multi-page TIFF"));
    for ok in ["cmyk.jpg", "gray16.png", "gray_alpha.png", "scan.tiff"] {
        assert_eq!(result_for(&files, ok)["result"], "added", "{ok}");
        let img = image::open(s.render(ok)).unwrap();
        assert_eq!(
            (img.width(), img.height()),
            (
                s.item(ok)["width"].as_u64().unwrap() as u32,
                s.item(ok)["height"].as_u64().unwrap() as u32
            )
        );
    }
}

#[test]
fn a_declared_decompression_bomb_is_refused_before_it_is_allocated() {
    let s = Scratch::new(&[]);
    // A real PNG whose header claims 60000 x 60000 pixels (10.8 GB decoded).
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png);
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&60_000u32.to_be_bytes());
    ihdr.extend_from_slice(&60_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    png.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    png.extend_from_slice(&13u32.to_be_bytes());
    let mut chunk = b"IHDR".to_vec();
    chunk.extend_from_slice(&ihdr);
    png.extend_from_slice(&chunk);
    png.extend_from_slice(&crc32(&chunk).to_be_bytes());
    png.extend_from_slice(&[0, 0, 0, 0]);
    png.extend_from_slice(b"IEND");
    png.extend_from_slice(&crc32(b"IEND").to_be_bytes());
    std::fs::write(s.originals().join("bomb.png"), &png).unwrap();
    // Just under the limits: accepted.
    image::RgbImage::new(64, 64)
        .save(s.originals().join("small.png"))
        .unwrap();
    let (_, files, _) = ingest_json(&s);
    let bomb = result_for(&files, "bomb.png");
    assert_eq!(bomb["result"], "failed");
    assert!(
        bomb["reason"]
            .as_str()
            .unwrap()
            .contains("over the policy's limit"),
        "{bomb}"
    );
    assert_eq!(result_for(&files, "small.png")["result"], "added");
}

#[cfg(unix)]
#[test]
fn hostile_file_names_never_reach_the_terminal_unescaped() {
    use std::os::unix::ffi::OsStrExt;
    let s = Scratch::new(&[]);
    let src = samples_dir().join("portrait_gps.jpg");
    let names: Vec<&[u8]> = vec![
        b"\x1b]0;pwned\x07\x1b[2Jclear.jpg",
        b"new\nline.jpg",
        b"not-utf8-\xff\xfe.jpg",
        b"\xe2\x80\xaegpj.exe",
    ];
    for (i, n) in names.iter().enumerate() {
        let p = s.originals().join(std::ffi::OsStr::from_bytes(n));
        // Different bytes each, so none is a duplicate of another.
        let mut bytes = std::fs::read(&src).unwrap();
        bytes.extend_from_slice(&[i as u8; 4]);
        std::fs::write(p, bytes).unwrap();
    }
    let long = "x".repeat(250) + ".jpg";
    std::fs::copy(samples_dir().join("scan.tiff"), s.originals().join(&long)).unwrap();
    s.veil().arg("init").assert().success();
    for args in [vec!["ingest"], vec!["list"]] {
        let mut c = s.veil();
        c.args(&args);
        if args[0] == "ingest" {
            c.arg(s.originals());
        }
        let out = c.output().unwrap();
        for stream in [&out.stdout, &out.stderr] {
            assert!(
                !stream.contains(&0x1b),
                "{args:?}: raw ESC reached the terminal"
            );
            assert!(
                !stream.contains(&0x07),
                "{args:?}: raw BEL reached the terminal"
            );
            assert!(
                !stream.windows(3).any(|w| w == "\u{202e}".as_bytes()),
                "{args:?}: a bidi override reached the terminal"
            );
        }
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("new\\nline.jpg"), "{text}");
    }
    // Every file became an item, the non-UTF-8 name stored losslessly.
    assert_eq!(s.items().len(), 5);
    let raw = s
        .items()
        .into_iter()
        .find(|i| i["source"].get("unix_bytes_hex").is_some())
        .expect("non-UTF-8 path stored as bytes");
    assert!(
        raw["source"]["unix_bytes_hex"]
            .as_str()
            .unwrap()
            .ends_with("fffe2e6a7067")
    );
    for id in s
        .items()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
    {
        let out = s.veil().args(["show", &id]).output().unwrap();
        assert!(out.status.success());
        assert!(!out.stdout.contains(&0x1b), "show {id} printed a raw ESC");
    }
}

#[cfg(unix)]
#[test]
fn symlinks_inside_the_folder_are_not_followed() {
    let s = Scratch::new(&["portrait_gps.jpg"]);
    let outside = s.dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::copy(samples_dir().join("scan.tiff"), outside.join("secret.tiff")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.tiff"), s.originals().join("link.tiff"))
        .unwrap();
    std::os::unix::fs::symlink(&outside, s.originals().join("linkdir")).unwrap();
    let (code, files, _) = ingest_json(&s);
    assert_eq!(code, Some(0));
    assert_eq!(result_for(&files, "link.tiff")["result"], "skipped");
    assert!(
        result_for(&files, "link.tiff")["reason"]
            .as_str()
            .unwrap()
            .contains("not followed")
    );
    assert_eq!(result_for(&files, "linkdir")["result"], "skipped");
    assert_eq!(s.items().len(), 1, "only the real file is queued");
}

#[test]
fn an_original_changed_after_ingest_is_flagged_not_silently_reused() {
    let s = Scratch::new(&["portrait_gps.jpg"]);
    let (_, _, _) = ingest_json(&s);
    let old_id = s.item("portrait_gps.jpg")["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Someone overwrites the original in place.
    let path = s.originals().join("portrait_gps.jpg");
    std::fs::copy(samples_dir().join("rotated6.jpg"), &path).unwrap();
    // Rendering the old item refuses: the bytes no longer match.
    let out = s.dir.path().join("o.jpg");
    let r = s
        .veil()
        .args(["render", &old_id, "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!r.status.success());
    assert!(!out.exists());
    // Re-ingesting queues the new bytes and flags the old item.
    s.veil().arg("ingest").arg(s.originals()).assert().success();
    let old: Value = serde_json::from_slice(
        &std::fs::read(s.ws().join("items").join(format!("{old_id}.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(old["state"], "failed");
    assert!(
        old["failure"]
            .as_str()
            .unwrap()
            .contains("changed after ingest")
    );
}

#[test]
fn a_corrupt_item_file_is_reported_by_path_and_the_rest_still_list() {
    let s = Scratch::new(&["portrait_gps.jpg"]);
    ingest_json(&s);
    std::fs::write(s.ws().join("items/0123456789abcdef.json"), b"{ not json").unwrap();
    let out = s.veil().arg("list").output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("0123456789abcdef.json: corrupt item file"),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("portrait_gps.jpg"));
}

#[test]
fn a_malformed_policy_is_an_error_naming_the_file_and_line() {
    let s = Scratch::new(&[]);
    s.veil().arg("init").assert().success();
    std::fs::write(
        s.ws().join("veil.toml"),
        "[detector]\nengine = \"rustface\"\npading = 1.3\n",
    )
    .unwrap();
    let out = s.veil().arg("list").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("veil.toml") && err.contains("line 3") && err.contains("pading"),
        "{err}"
    );
    assert!(!Path::new(&s.ws().join("items/x")).exists());
}

/// A `width` x `height` PNG of one colour, written row by row (a 20000 x
/// 20000 one is about 1.2 MB and never whole in this process's memory).
fn solid_png(path: &Path, width: u32, height: u32) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut encoder = png::Encoder::new(file, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().unwrap();
    let mut stream = writer.stream_writer().unwrap();
    let row = [90u8, 120, 160].repeat(width as usize);
    for _ in 0..height {
        stream.write_all(&row).unwrap();
    }
    stream.finish().unwrap();
}

const MIB: u64 = 1024 * 1024;

#[test]
fn the_20000x20000_png_is_refused_at_ingest_before_allocating_with_peak_rss_under_the_policy_limit()
{
    let s = Scratch::new(&[]);
    solid_png(&s.originals().join("huge.png"), 20_000, 20_000);
    s.veil().arg("init").assert().success();
    let mut ingest = s.veil_std();
    ingest.args(["ingest", "--json"]).arg(s.originals());
    let Some((ok, peak, output)) = peak_rss(&ingest) else {
        eprintln!("SKIP: python3 is not installed");
        return;
    };
    eprintln!("ingest of 20000x20000: peak {} MiB", peak / MIB);
    assert!(!ok, "{output}");
    assert!(
        output.contains("rendering this 20000x20000 image would need about")
            && output.contains("over the policy's max_alloc_mib of 2048"),
        "{output}"
    );
    assert!(peak < 2048 * MIB, "ingest peaked at {} MiB", peak / MIB);
    // It decoded nothing: its peak is the models and the file, far from the image's 1.1 GiB.
    assert!(peak < 600 * MIB, "ingest peaked at {} MiB", peak / MIB);
}

#[test]
fn every_step_keeps_within_max_alloc_mib_rendering_what_fits_and_refusing_what_does_not() {
    let s = Scratch::new(&[]);
    // 4000 x 3000 needs about 120 MiB to review (pixels, zoom levels,
    // the proof) and 75 to render; 6000 x 4000 about 150 to render.
    solid_png(&s.originals().join("fits.png"), 4000, 3000);
    solid_png(&s.originals().join("over.png"), 6000, 4000);
    s.veil().arg("init").assert().success();
    let toml = s.ws().join("veil.toml");
    let policy = std::fs::read_to_string(&toml).unwrap();
    let policy = policy
        .replace("max_alloc_mib = 2048", "max_alloc_mib = 128")
        .replace("engine = \"centerface\"", "engine = \"none\"");
    std::fs::write(&toml, policy).unwrap();
    let (code, files, _) = ingest_again(&s);
    assert_eq!(code, Some(3), "{files:?}");
    let over = result_for(&files, "over.png");
    assert_eq!(over["result"], "failed");
    let reason = over["reason"].as_str().unwrap();
    assert!(
        reason.contains("6000x4000 image would need about")
            && reason.contains("max_alloc_mib of 128"),
        "{reason}"
    );
    let fits = result_for(&files, "fits.png");
    assert_eq!(fits["result"], "added", "{fits}");
    let id = fits["id"].as_str().unwrap();

    let out = s.dir.path().join("fits-out.jpg");
    let mut render = s.veil_std();
    render.args(["render", id, "--out"]).arg(&out);
    let Some((ok, peak, output)) = peak_rss(&render) else {
        eprintln!("SKIP: python3 is not installed");
        return;
    };
    eprintln!("render of 4000x3000: peak {} MiB", peak / MIB);
    assert!(ok, "{output}");
    assert!(out.exists());
    // The pixels alone are 34 MiB: rendered, and the whole process stayed under the limit.
    assert!(peak < 128 * MIB, "render peaked at {} MiB", peak / MIB);
    assert!(
        peak > 34 * MIB,
        "render peaked at {} MiB: did it decode?",
        peak / MIB
    );

    // The limit lowered after ingest: render refuses before decoding.
    let policy = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(
        &toml,
        policy.replace("max_alloc_mib = 128", "max_alloc_mib = 64"),
    )
    .unwrap();
    let refused = s
        .veil()
        .args(["render", id, "--force", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains("rendering this 4000x3000 image would need about")
            && stderr.contains("max_alloc_mib of 64"),
        "{stderr}"
    );
}
