//! The foundation, end to end through the real binary: init, ingest, list,
//! show, render.

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

mod common;

use common::*;
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;
use serde_json::Value;

fn ingest_all(s: &Scratch) -> std::process::Output {
    s.veil().arg("init").assert().success();
    s.veil().arg("ingest").arg(s.originals()).output().unwrap()
}

#[test]
fn faces_are_found_where_a_person_sees_them_and_nowhere_else() {
    let s = Scratch::new(&GOOD_SAMPLES);
    assert!(ingest_all(&s).status.success());
    let exp = expected();
    for name in GOOD_SAMPLES {
        let item = s.item(name);
        let truth = exp["files"][name]["faces"].as_array().unwrap();
        // Text proposals are the text detector's (tested below).
        let masks: Vec<&Value> = item["masks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["kind"] == "face")
            .collect();
        assert_eq!(
            masks.len(),
            truth.len(),
            "{name}: expected {} face(s), got masks {masks:?}",
            truth.len()
        );
        for face in truth {
            let hit = masks.iter().any(|m| iou(&m["rect"], face) > 0.3);
            assert!(
                hit,
                "{name}: no mask on the face at {face}; masks {masks:?}"
            );
        }
        for m in masks {
            assert_eq!(m["origin"]["by"], "detector");
        }
    }
}

#[test]
fn the_astronauts_name_badge_is_proposed_as_an_identifier_by_the_text_detector() {
    let s = Scratch::new(&["portrait_gps.jpg"]);
    assert!(ingest_all(&s).status.success());
    let item = s.item("portrait_gps.jpg");
    assert_eq!(
        item["text_detector"]["name"], "ppocr-v4-det-rapidocr-1.4.4",
        "the item records which text detector ran"
    );
    // "EILEEN M. CO", boxed by hand in tests/text/text.json.
    let badge = serde_json::json!({"x": 287, "y": 369, "w": 35, "h": 6});
    let masks = item["masks"].as_array().unwrap();
    let on_badge: Vec<&Value> = masks
        .iter()
        .filter(|m| covers(&m["rect"], &badge))
        .collect();
    assert_eq!(
        on_badge.len(),
        1,
        "one mask covers the badge; masks {masks:?}"
    );
    assert_eq!(on_badge[0]["kind"], "identifier");
    assert_eq!(
        on_badge[0]["origin"]["detector"],
        "ppocr-v4-det-rapidocr-1.4.4"
    );
    // Faces are listed first, and no text box sits on the face.
    assert_eq!(masks[0]["kind"], "face");
    let face = &masks[0]["rect"];
    assert!(
        masks[1..].iter().all(|m| iou(&m["rect"], face) < 0.1),
        "{masks:?}"
    );
    // `show` says so too.
    s.veil()
        .args(["show", item["id"].as_str().unwrap()])
        .assert()
        .success()
        .stdout(contains("Text      ppocr-v4-det-rapidocr-1.4.4"));
}

#[test]
fn detected_boxes_are_padded_to_cover_the_whole_face() {
    let s = Scratch::new(&["portrait_gps.jpg"]);
    assert!(ingest_all(&s).status.success());
    let face = &expected()["files"]["portrait_gps.jpg"]["faces"][0];
    let item = s.item("portrait_gps.jpg");
    let rect = &item["masks"][0]["rect"];
    // The face box drawn by hand reaches below the detector's square; 1.3x padding covers it.
    assert!(
        covers(rect, face),
        "mask {rect} does not cover the face {face}"
    );
    assert_eq!(item["detector"]["padding_pct"], 130);
}

#[test]
fn metadata_is_found_where_it_was_planted() {
    let s = Scratch::new(&GOOD_SAMPLES);
    assert!(ingest_all(&s).status.success());
    let exp = expected();
    for name in GOOD_SAMPLES {
        let item = s.item(name);
        let groups: Vec<&str> = item["metadata"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["group"].as_str().unwrap())
            .collect();
        for planted in exp["files"][name]["metadata_groups"].as_array().unwrap() {
            let planted = planted.as_str().unwrap();
            if planted == "JFIF" {
                continue; // the plain JFIF header identifies nobody
            }
            assert!(
                groups.contains(&planted),
                "{name}: planted {planted} not found; found {groups:?}"
            );
        }
    }
}

#[test]
fn show_lists_what_will_be_removed_by_field() {
    let s = Scratch::new(&["portrait_gps.jpg"]);
    assert!(ingest_all(&s).status.success());
    let id = s.item("portrait_gps.jpg")["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.veil()
        .args(["show", &id[..8]])
        .assert()
        .success()
        .stdout(contains("GPSLatitude"))
        .stdout(contains("Metadata that will be removed"))
        .stdout(contains("Gates"));
    let out = s.veil().args(["show", &id, "--json"]).output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["id"], id.as_str());
    assert!(v["gate_report"]["statuses"].as_array().unwrap().len() >= 6);
}

#[test]
fn re_ingesting_the_same_folder_adds_nothing_and_changes_nothing() {
    let s = Scratch::new(&GOOD_SAMPLES);
    assert!(ingest_all(&s).status.success());
    let before: Vec<(String, Vec<u8>)> = item_files(&s);
    let (out, v) = s.ingest_json(&s.originals());
    assert!(out.status.success());
    for f in v["files"].as_array().unwrap() {
        assert_eq!(f["result"], "unchanged", "{f}");
    }
    assert_eq!(before, item_files(&s));
}

#[test]
fn a_memory_budget_of_one_photo_at_a_time_gives_the_same_items() {
    let ingest = |budget_mib: Option<u64>| {
        let s = Scratch::new(&GOOD_SAMPLES);
        s.veil().arg("init").assert().success();
        if let Some(mib) = budget_mib {
            let policy = s.ws().join("veil.toml");
            let text = std::fs::read_to_string(&policy).unwrap();
            assert!(text.contains("ingest_memory_mib = 512"), "{text}");
            let text = text.replace(
                "ingest_memory_mib = 512",
                &format!("ingest_memory_mib = {mib}"),
            );
            std::fs::write(&policy, text).unwrap();
        }
        let out = s.veil().arg("ingest").arg(s.originals()).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut items: Vec<(String, Value, Value)> = s
            .items()
            .into_iter()
            .map(|i| {
                (
                    i["id"].as_str().unwrap().to_string(),
                    i["masks"].clone(),
                    i["metadata"].clone(),
                )
            })
            .collect();
        items.sort_by(|a, b| a.0.cmp(&b.0));
        items
    };
    let (default, one_at_a_time) = (ingest(None), ingest(Some(1)));
    assert_eq!(default.len(), GOOD_SAMPLES.len());
    assert_eq!(default, one_at_a_time);
}

fn item_files(s: &Scratch) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(s.ws().join("items"))
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn an_exact_duplicate_is_reported_as_such() {
    let s = Scratch::new(&["portrait_gps.jpg"]);
    std::fs::copy(
        s.originals().join("portrait_gps.jpg"),
        s.originals().join("copy of portrait.jpg"),
    )
    .unwrap();
    s.veil().arg("init").assert().success();
    let (_, v) = s.ingest_json(&s.originals());
    let results: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["result"].as_str().unwrap())
        .collect();
    assert_eq!(s.items().len(), 1);
    assert!(
        results.contains(&"added") && results.contains(&"duplicate"),
        "{results:?}"
    );
}

#[test]
fn a_bad_file_among_good_ones_fails_alone_and_the_exit_status_says_so() {
    let s = Scratch::new(&[
        "portrait_gps.jpg",
        "bad/not_an_image.jpg",
        "bad/truncated.jpg",
    ]);
    std::fs::write(s.originals().join("empty.png"), b"").unwrap();
    let out = ingest_all(&s);
    assert_eq!(out.status.code(), Some(3), "partial failure exit code");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("not_an_image.jpg: not an image"),
        "{stdout}"
    );
    assert!(
        stdout.contains("truncated.jpg: corrupt or truncated jpeg"),
        "{stdout}"
    );
    assert!(stdout.contains("empty.png: empty file"), "{stdout}");
    assert_eq!(s.item("portrait_gps.jpg")["state"], "pending");
    for bad in ["not_an_image.jpg", "truncated.jpg", "empty.png"] {
        let item = s.item(bad);
        assert_eq!(item["state"], "failed", "{bad}");
        assert!(item["failure"].as_str().is_some_and(|f| !f.is_empty()));
    }
}

#[test]
fn originals_are_unchanged_after_every_command() {
    let s = Scratch::new(&GOOD_SAMPLES);
    let before = s.originals_digest();
    assert!(ingest_all(&s).status.success());
    s.veil()
        .args(["ingest"])
        .arg(s.originals())
        .assert()
        .success();
    s.veil().arg("list").assert().success();
    let id = s.item("portrait_gps.jpg")["id"]
        .as_str()
        .unwrap()
        .to_string();
    s.veil().args(["show", &id]).assert().success();
    let out = s.dir.path().join("o.jpg");
    s.veil()
        .args(["render", &id, "--out"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(before, s.originals_digest());
}

#[test]
fn list_filters_by_state_and_speaks_json() {
    let s = Scratch::new(&["portrait_gps.jpg", "bad/not_an_image.jpg"]);
    ingest_all(&s);
    let out = s
        .veil()
        .args(["list", "--state", "failed", "--json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["state"], "failed");
    s.veil()
        .args(["list", "--state", "bogus"])
        .assert()
        .failure()
        .stderr(contains("unknown state 'bogus'"));
}

#[test]
fn render_writes_an_upright_metadata_free_output_for_a_rotated_original() {
    let s = Scratch::new(&["rotated6.jpg"]);
    assert!(ingest_all(&s).status.success());
    let item = s.item("rotated6.jpg");
    assert_eq!(item["orientation"], 6);
    let face = &expected()["files"]["rotated6.jpg"]["faces"][0];
    assert!(
        iou(&item["masks"][0]["rect"], face) > 0.3,
        "mask not on the face"
    );
    let out = s.dir.path().join("o.jpg");
    let id = item["id"].as_str().unwrap();
    s.veil()
        .args(["render", id, "--out"])
        .arg(&out)
        .assert()
        .success();
    let img = image::open(&out).unwrap().to_rgb8();
    assert_eq!((img.width(), img.height()), (384, 512), "output is upright");
    // The centre of the face is solid black.
    let cx = face["x"].as_u64().unwrap() as u32 + face["w"].as_u64().unwrap() as u32 / 2;
    let cy = face["y"].as_u64().unwrap() as u32 + face["h"].as_u64().unwrap() as u32 / 2;
    let p = img.get_pixel(cx, cy);
    assert!(
        p.0.iter().all(|c| *c < 10),
        "face centre is {p:?}, not filled"
    );
    // Rendering again refuses to overwrite, and with --force gives the same bytes.
    let first = std::fs::read(&out).unwrap();
    s.veil()
        .args(["render", id, "--out"])
        .arg(&out)
        .assert()
        .failure()
        .stderr(contains("--force"));
    s.veil()
        .args(["render", id, "--force", "--out"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(
        first,
        std::fs::read(&out).unwrap(),
        "rendering is deterministic"
    );
}

#[test]
fn exiftool_finds_no_identifying_group_in_any_rendered_output() {
    let Some(exiftool) = exiftool() else { return };
    let s = Scratch::new(&GOOD_SAMPLES);
    assert!(ingest_all(&s).status.success());
    for name in GOOD_SAMPLES {
        let out = s.render(name);
        let found = exiftool_tags_beyond_jfif(exiftool, &out);
        assert!(
            found.is_empty(),
            "{name}: exiftool found {found:?} in the output"
        );
    }
}

#[test]
fn help_completions_and_man_page_come_from_the_cli_definition() {
    let s = Scratch::new(&[]);
    s.veil()
        .arg("--help")
        .assert()
        .success()
        .stdout(contains("ingest"));
    s.veil()
        .args(["help", "ingest"])
        .assert()
        .success()
        .stdout(contains("recursively"));
    s.veil()
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(contains("veil"));
    s.veil()
        .arg("man")
        .assert()
        .success()
        .stdout(contains(".TH"));
}

#[test]
fn commands_on_a_missing_workspace_say_how_to_make_one() {
    let s = Scratch::new(&[]);
    s.veil()
        .arg("list")
        .assert()
        .code(1)
        .stderr(contains("veil init"));
}

#[test]
fn an_unreadable_folder_deeper_than_path_max_makes_ingest_exit_3_and_is_named() {
    let s = Scratch::new(&["no_face.png"]);
    s.veil().arg("init").assert().success();
    // 300 levels of 20-character names: about 6,300 bytes, over PATH_MAX.
    // Made relative to an open folder, as no path that long can be opened.
    make_deep(
        &s.originals(),
        300,
        &std::fs::read(samples_dir().join("no_face.png")).unwrap(),
    );
    let out = s.veil().arg("ingest").arg(s.originals()).output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(text.contains("deep_folder_level_xx"), "{text}");
    assert!(text.contains("cannot be read"), "{text}");
    // The readable photo beside it was still ingested.
    assert!(s.items().iter().any(|i| i["state"] == "pending"), "{text}");
}

/// `levels` nested folders under `root`, with `photo` at the bottom.
fn make_deep(root: &std::path::Path, levels: usize, photo: &[u8]) {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let name = CString::new("deep_folder_level_xx").unwrap();
    let root = CString::new(root.as_os_str().as_bytes()).unwrap();
    // SAFETY: every pointer is a valid NUL-terminated string or a buffer of
    // the length passed; each fd is checked and closed once.
    unsafe {
        let mut fd = libc::open(root.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
        assert!(fd >= 0);
        for _ in 0..levels {
            assert_eq!(libc::mkdirat(fd, name.as_ptr(), 0o755), 0);
            let next = libc::openat(fd, name.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
            assert!(next >= 0);
            libc::close(fd);
            fd = next;
        }
        let file = CString::new("photo.png").unwrap();
        let f = libc::openat(fd, file.as_ptr(), libc::O_WRONLY | libc::O_CREAT, 0o644);
        assert!(f >= 0);
        assert_eq!(
            libc::write(f, photo.as_ptr().cast(), photo.len()),
            photo.len() as isize
        );
        libc::close(f);
        libc::close(fd);
    }
}

#[test]
fn ingest_skips_the_workspace_hidden_files_and_plainly_non_picture_files_and_says_why() {
    let s = Scratch::new(&["portrait_gps.jpg", "bad/not_an_image.jpg"]);
    let o = s.originals();
    std::fs::write(o.join(".DS_Store"), b"\0\0\0\x01Bud1").unwrap();
    std::fs::create_dir(o.join(".git")).unwrap();
    std::fs::copy(o.join("portrait_gps.jpg"), o.join(".git/copy.jpg")).unwrap();
    std::fs::write(o.join("notes.txt"), b"ward 7, bed 3\n").unwrap();
    std::fs::write(o.join("empty.txt"), b"").unwrap();
    // A photo without an image name is still a photo.
    std::fs::copy(o.join("portrait_gps.jpg"), o.join("IMG_0002")).unwrap();
    s.veil().arg("init").assert().success();
    // The folder holding both the originals and the workspace, as
    // `veil ingest .` from the folder above them would be.
    let (out, v) = s.ingest_json(s.dir.path());
    let files = v["files"].as_array().unwrap();
    let result = |name: &str| {
        files
            .iter()
            .find(|f| f["path"].as_str().is_some_and(|p| p.ends_with(name)))
            .unwrap_or_else(|| panic!("no result for {name} in {files:?}"))
    };
    let skipped_because = |name: &str, why: &str| {
        let r = result(name);
        assert_eq!(r["result"], "skipped", "{r}");
        assert!(r["reason"].as_str().unwrap().contains(why), "{r}");
    };
    skipped_because("/ws", "the Veil workspace itself");
    skipped_because(".DS_Store", "hidden file");
    skipped_because(".git", "hidden folder");
    skipped_because("notes.txt", "not a picture");
    skipped_because("empty.txt", "not a picture");
    // IMG_0002 holds portrait_gps.jpg's bytes: a photo, found by its bytes
    // (the first in order is added, the other is its duplicate).
    assert_eq!(result("IMG_0002")["result"], "added");
    assert_eq!(result("portrait_gps.jpg")["result"], "duplicate");
    // A broken photo is never passed over: it fails, and says so.
    assert_eq!(result("not_an_image.jpg")["result"], "failed");
    assert_eq!(out.status.code(), Some(3));
    assert!(
        !files.iter().any(|f| {
            let p = f["path"].as_str().unwrap_or_default();
            p.contains("/ws/") || p.contains("/.git/")
        }),
        "{files:?}"
    );
    // The summary counts what was passed over.
    let text = s.veil().arg("ingest").arg(s.dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("5 skipped"), "{stdout}");
}

#[test]
fn the_command_line_says_plainly_what_happened_and_what_went_wrong() {
    let s = Scratch::new(&["no_face.png"]);
    s.veil().arg("init").assert().success();
    // An empty folder: said in words, not an empty table.
    let empty = s.dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    s.veil()
        .arg("ingest")
        .arg(&empty)
        .assert()
        .success()
        .stdout(contains("No pictures found in"))
        .stdout(contains("RESULT").not());
    // A missing path: the operating system's reason once.
    let out = s
        .veil()
        .args(["ingest", "no-such-folder"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");
    // Two copies of one photo in one run: the second names the first.
    let twin = s.originals().join("twin.png");
    std::fs::copy(s.originals().join("no_face.png"), &twin).unwrap();
    let out = s.veil().arg("ingest").arg(s.originals()).output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    let line = said
        .lines()
        .find(|l| l.starts_with("duplicate"))
        .unwrap_or_else(|| panic!("no duplicate line:\n{said}"));
    assert!(line.contains("twin.png (same bytes as "), "{line}");
    assert!(line.ends_with("no_face.png)"), "{line}");
    // An id prefix too short to mean anything says so.
    s.veil()
        .args(["show", "ab"])
        .assert()
        .failure()
        .stderr(contains("needs at least 4 characters"));
}
