//! DICOM through the whole flow, as a user runs it: ingest by content, the
//! header inventory listing the planted identifiers, approval, a released
//! DICOM that is a valid new instance holding none of them (checked on the
//! bytes, and by dcmtk's `dcmdump` and dicom3tools' `dciodvfy` when
//! installed), the ledger and certificate; and hostile files refused.

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command as Std;

/// The planted values (tests/dicom/make_set.py) that must never be released.
const PLANTED: &[&str] = &[
    "DOE^JANE",
    "Jane Doe",
    "MRN-4401234",
    "19610704",
    "Harbour Row",
    "NHS-943-476-5919",
    "St Elsewhere",
    "HOUSE^GREGORY",
    "CAMERON^ALLISON",
    "ACC-20240131-77",
    "20240131",
    "101522",
    "WARD7-CAM2",
    "SN-88AX-0091",
    "ACME WOUNDCARE",
    "RP-5550199",
    "SPS-31",
];

const SET: &[&str] = &[
    "../dicom/photo_rgb.dcm",
    "../dicom/us_jpeg_burned_in.dcm",
    "../dicom/mono_overlay.dcm",
    "../dicom/ct_mono16.dcm",
    "../dicom/sc_rgb_rle.dcm",
    "../dicom/sc_ybr422.dcm",
    "../dicom/refused_jpeg2000.dcm",
    "../dicom/refused_two_frames.dcm",
    "../dicom/refused_big_endian.dcm",
];

fn tool(name: &str) -> Option<&str> {
    let ok = Std::new(name).arg("--version").output().is_ok();
    if !ok {
        eprintln!("SKIP part: {name} not installed (Debian: dcmtk, dicom3tools)");
    }
    ok.then_some(name)
}

/// A workspace with the set ingested and one reviewer, the screen-measured
/// gates left out (as an automated pipeline would).
fn workspace(samples: &[&str], policy_edit: impl Fn(String) -> String) -> Scratch {
    let s = Scratch::new(samples);
    s.veil().arg("init").assert().success();
    let path = s.ws().join("veil.toml");
    let policy = std::fs::read_to_string(&path).unwrap().replace(
        r#"required = ["zoom", "preview", "metadata", "reflections", "edges", "identifiers"]"#,
        r#"required = ["metadata", "reflections", "edges", "identifiers"]"#,
    );
    std::fs::write(&path, policy_edit(policy)).unwrap();
    s.enrol("Dr A. Reviewer");
    s.veil().arg("ingest").arg(s.originals()).output().unwrap();
    s
}

fn approve(s: &Scratch, name: &str) -> String {
    let id = s.item(name)["id"].as_str().unwrap().to_string();
    s.veil()
        .args(["approve", &id, "--attest", "reflections,edges,identifiers"])
        .assert()
        .success();
    id
}

fn outputs(s: &Scratch) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(s.ws().join("out"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "dcm" || e == "jpg"))
        .collect();
    v.sort();
    v
}

fn has(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn dicom_is_ingested_by_content_and_its_header_inventory_lists_every_planted_identifier() {
    let s = workspace(SET, |p| p);
    // By content: one original without its extension.
    let photo = s.item("photo_rgb.dcm");
    assert_eq!(photo["format"], "dicom");
    assert_eq!(
        (photo["width"].as_u64(), photo["height"].as_u64()),
        (Some(320), Some(240))
    );
    let findings = |item: &serde_json::Value| -> Vec<(String, String, String)> {
        item["metadata"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let g = |k: &str| f[k].as_str().unwrap_or("").to_string();
                (g("group"), g("field"), g("value"))
            })
            .collect()
    };
    let found = findings(&photo);
    let listed = |group: &str, field: &str, value: &str| {
        found
            .iter()
            .any(|(g, f, v)| g == group && f.contains(field) && v.contains(value))
    };
    for (field, value) in [
        ("PatientName", "DOE^JANE^Q"),
        ("PatientID", "MRN-4401234"),
        ("PatientBirthDate", "19610704"),
        ("InstitutionName", "St Elsewhere General"),
        ("ReferringPhysicianName", "HOUSE^GREGORY"),
        ("AccessionNumber", "ACC-20240131-77"),
        ("DeviceSerialNumber", "SN-88AX-0091"),
        ("StudyInstanceUID", "1."),
        (
            "RequestAttributesSequence[1] › RequestedProcedureID",
            "RP-5550199",
        ),
    ] {
        assert!(
            listed("DICOM-id", field, value),
            "{field} not listed: {found:#?}"
        );
    }
    assert!(listed(
        "DICOM-private",
        "(0009,0010) private",
        "ACME WOUNDCARE 1.0"
    ));
    assert!(listed(
        "DICOM-private",
        "(0009,1001) private",
        "bed 14 Jane Doe"
    ));
    assert!(listed("DICOM-icon", "IconImageSequence", "1 item"));
    assert!(listed("DICOM-file", "preamble", "TIFF header"));
    let overlay = findings(&s.item("mono_overlay.dcm"));
    assert!(
        overlay
            .iter()
            .any(|(g, f, _)| g == "DICOM-overlay" && f.contains("OverlayData"))
    );

    // Every readable kind decoded: RGB, JPEG YBR, MONOCHROME2 8 and 16 bit, RLE, native 422.
    for name in [
        "us_jpeg_burned_in.dcm",
        "mono_overlay.dcm",
        "ct_mono16.dcm",
        "sc_rgb_rle.dcm",
        "sc_ybr422.dcm",
    ] {
        let it = s.item(name);
        assert_eq!(it["state"], "pending", "{name}: {}", it["failure"]);
        assert!(
            it["dicom"]["study_uid"]
                .as_str()
                .unwrap()
                .starts_with("2.25.")
        );
    }
    // Refused, each by name.
    for (name, why) in [
        ("refused_jpeg2000.dcm", "JPEG 2000"),
        ("refused_two_frames.dcm", "multi-frame instance (2 frames)"),
        ("refused_big_endian.dcm", "Big Endian"),
    ] {
        let it = s.item(name);
        assert_eq!(it["state"], "failed");
        assert!(
            it["failure"].as_str().unwrap().contains(why),
            "{name}: {}",
            it["failure"]
        );
    }
    // A comment inside the JPEG stream of the pixel data is listed too.
    let us = s.item("us_jpeg_burned_in.dcm");
    assert!(
        findings(&us).iter().any(|(g, f, v)| g == "DICOM-pixels"
            && f.contains("PixelData JPEG")
            && v.contains("Jane Doe MRN-4401234 probe 3")),
        "{:#?}",
        findings(&us)
    );
    // Burned in: high-stakes, with both bands proposed.
    assert_eq!(us["high_stakes"], true);
    let bands: Vec<_> = us["masks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["origin"]["detector"] == "dicom-annotation-bands")
        .map(|m| {
            (
                m["rect"]["y"].as_u64().unwrap(),
                m["rect"]["h"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(bands, vec![(0, 10), (90, 10)], "{us:#}");
    assert_eq!(s.item("photo_rgb.dcm")["high_stakes"], false);
    // The salt is private to the workspace.
    let salt = std::fs::metadata(s.ws().join("dicom-salt")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(salt.permissions().mode() & 0o777, 0o600);
}

#[test]
fn a_released_dicom_is_a_valid_new_instance_holding_no_planted_value_with_masks_filled() {
    // Not high-stakes (a secondary capture would wait for a second reviewer).
    let names = ["photo_rgb.dcm", "ct_mono16.dcm", "mono_overlay.dcm"];
    let s = workspace(
        &names
            .map(|n| format!("../dicom/{n}"))
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        |p| p,
    );
    let originals: Vec<Vec<u8>> = names
        .iter()
        .map(|n| std::fs::read(s.originals().join(n)).unwrap())
        .collect();
    // A manual mask on the photo, so filled pixels can be checked.
    let id = s.item("photo_rgb.dcm")["id"].as_str().unwrap().to_string();
    let mut item: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.ws().join(format!("items/{id}.json"))).unwrap())
            .unwrap();
    item["masks"] = serde_json::json!([{"id": 1, "kind": "face", "rect": {"x": 10, "y": 20, "w": 30, "h": 40}, "origin": {"by": "manual"}}]);
    item["next_mask_id"] = serde_json::json!(2);
    std::fs::write(
        s.ws().join(format!("items/{id}.json")),
        serde_json::to_vec_pretty(&item).unwrap(),
    )
    .unwrap();
    for n in names {
        approve(&s, n);
    }
    s.veil().arg("verify").assert().code(0);
    let out = outputs(&s);
    assert_eq!(out.len(), 3, "{out:?}");
    let dcmdump = tool("dcmdump");
    let dciodvfy = tool("dciodvfy");
    for path in &out {
        let bytes = std::fs::read(path).unwrap();
        for p in PLANTED {
            assert!(!has(&bytes, p), "{} holds '{p}'", path.display());
        }
        // None of the originals' UIDs either.
        for o in &originals {
            let parsed = veil::dicom::parse(o).unwrap();
            for tag in [
                dicom_dictionary_std::tags::STUDY_INSTANCE_UID,
                dicom_dictionary_std::tags::SERIES_INSTANCE_UID,
                dicom_dictionary_std::tags::SOP_INSTANCE_UID,
            ] {
                let uid = veil::dicom::text(&parsed.obj, tag).unwrap();
                assert!(
                    !has(&bytes, &uid),
                    "{} holds the original UID {uid}",
                    path.display()
                );
            }
        }
        veil::dicom::output::check(&bytes).unwrap();
        if let Some(d) = dcmdump {
            let dump = Std::new(d).arg(path).output().unwrap();
            let text = String::from_utf8_lossy(&dump.stdout);
            assert!(dump.status.success(), "{text}");
            for p in PLANTED {
                assert!(!text.contains(p), "dcmdump shows '{p}':\n{text}");
            }
            assert!(text.contains("(0012,0062) CS [YES]"), "{text}");
            assert!(text.contains("(0028,0301) CS [NO]"), "{text}");
            assert!(text.contains("=SecondaryCaptureImageStorage"), "{text}");
        }
        if let Some(e) = exiftool() {
            let run = Std::new(e)
                .args(["-a", "-G1", "-s"])
                .arg(path)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&run.stdout);
            // exiftool prints dates as 1961:07:04.
            for p in PLANTED.iter().chain(&["1961:07:04", "2024:01:31"]) {
                assert!(!text.contains(p), "exiftool shows '{p}':\n{text}");
            }
            assert!(
                text.contains("PatientIdentityRemoved          : YES"),
                "{text}"
            );
        }
        if let Some(v) = dciodvfy {
            let run = Std::new(v).arg(path).output().unwrap();
            let report = String::from_utf8_lossy(&run.stderr).to_string()
                + &String::from_utf8_lossy(&run.stdout);
            let errors: Vec<&str> = report.lines().filter(|l| l.starts_with("Error")).collect();
            assert!(
                errors.is_empty(),
                "dciodvfy on {}:\n{report}",
                path.display()
            );
            assert!(report.contains("SCImage"), "{report}");
        }
    }
    // The photo's mask is the fill colour (black) in the released pixels.
    let photo_out = s.item("photo_rgb.dcm")["output"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let pixels =
        veil::dicom::output::pixels(&std::fs::read(s.ws().join("out").join(&photo_out)).unwrap())
            .unwrap();
    assert_eq!(pixels.dimensions(), (320, 240));
    for y in 20..60 {
        for x in 10..40 {
            assert_eq!(pixels.get_pixel(x, y).0, [0, 0, 0], "({x},{y})");
        }
    }
    // Outside it, exactly the original's pixels (uncompressed RGB in, out).
    let original = veil::image_io::decode_upright(&originals[0], &veil::policy::Limits::default())
        .unwrap()
        .image
        .into_rgb8();
    let mut differ = 0;
    for (x, y, p) in pixels.enumerate_pixels() {
        let inside = (10..40).contains(&x) && (20..60).contains(&y);
        if !inside && p != original.get_pixel(x, y) {
            differ += 1;
        }
    }
    assert_eq!(differ, 0, "pixels outside the mask changed");
    // The ledger entry and certificate say what was applied.
    let cert = std::fs::read_to_string(
        s.ws()
            .join("out")
            .join(format!("{photo_out}.certificate.txt")),
    )
    .or_else(|_| {
        let out = s.veil().args(["certificate", &id]).output().unwrap();
        Ok::<_, ()>(String::from_utf8_lossy(&out.stdout).into_owned())
    })
    .unwrap();
    assert!(
        cert.contains("original SOP class 1.2.840.10008.5.1.4.1.1.77.1.4"),
        "{cert}"
    );
    assert!(cert.contains("113101 Clean Pixel Data Option"), "{cert}");
    assert!(
        cert.contains("113102 Clean Recognizable Visual Features Option"),
        "{cert}"
    );
    let ledger = std::fs::read_to_string(s.ws().join("ledger.jsonl")).unwrap();
    assert!(ledger.contains(r#""released_as":"dicom""#), "{ledger}");
}

#[test]
fn uids_are_stable_on_re_render_and_differ_in_another_workspace_and_dates_shift_by_policy() {
    let uid_of = |s: &Scratch, name: &str| {
        let id = s.item(name)["id"].as_str().unwrap().to_string();
        let out = s.dir.path().join(format!("{id}.dcm"));
        s.veil()
            .args(["render", &id, "--force", "--out"])
            .arg(&out)
            .assert()
            .success();
        let p = veil::dicom::parse(&std::fs::read(&out).unwrap()).unwrap();
        let get = |t| veil::dicom::text(&p.obj, t).unwrap();
        use dicom_dictionary_std::tags;
        (
            get(tags::STUDY_INSTANCE_UID),
            get(tags::SOP_INSTANCE_UID),
            get(tags::STUDY_DATE),
        )
    };
    let a = workspace(&["../dicom/ct_mono16.dcm"], |p| p);
    let first = uid_of(&a, "ct_mono16.dcm");
    assert_eq!(
        uid_of(&a, "ct_mono16.dcm"),
        first,
        "same decision, same instance"
    );
    assert_eq!(first.2, "", "dates removed by default");
    let b = workspace(&["../dicom/ct_mono16.dcm"], |p| {
        p.replace(r#"dates = "remove""#, r#"dates = "shift""#)
    });
    let other = uid_of(&b, "ct_mono16.dcm");
    assert_ne!(
        other.0, first.0,
        "another workspace's salt gives another study UID"
    );
    assert_eq!(other.2.len(), 8);
    // The planted study date, 2024-01-31, moved back 1 to 3650 days.
    assert!(
        other.2.as_str() < "20240131" && other.2.as_str() >= "20140203",
        "{}",
        other.2
    );
}

#[test]
fn a_policy_may_release_dicom_as_a_plain_picture() {
    let s = workspace(&["../dicom/ct_mono16.dcm"], |p| {
        p.replace(r#"output = "dicom""#, r#"output = "image""#)
    });
    approve(&s, "ct_mono16.dcm");
    let out = outputs(&s);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].extension().unwrap(), "jpg");
    let ledger = std::fs::read_to_string(s.ws().join("ledger.jsonl")).unwrap();
    assert!(ledger.contains(r#""released_as":"image""#), "{ledger}");
}

/// The planted CT, changed by `edit`.
fn hostile(dir: &Path, name: &str, edit: impl Fn(&mut Vec<u8>)) {
    let mut b = std::fs::read(samples_dir().join("../dicom/ct_mono16.dcm")).unwrap();
    edit(&mut b);
    std::fs::write(dir.join(name), b).unwrap();
}

fn find(b: &[u8], pattern: &[u8]) -> usize {
    b.windows(pattern.len()).position(|w| w == pattern).unwrap()
}

#[test]
fn hostile_dicom_gets_a_clear_error_each_no_panic_and_bounded_memory() {
    let s = Scratch::new(&[]);
    let dir = s.originals();
    hostile(&dir, "truncated.dcm", |b| b.truncate(b.len() / 2));
    hostile(&dir, "length_past_end.dcm", |b| {
        // A private element claiming 4 GiB after the pixel data.
        b.extend_from_slice(&[0x09, 0x00, 0x10, 0x10, b'U', b'T', 0, 0]);
        b.extend_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
        b.extend_from_slice(b"x");
    });
    hostile(&dir, "nested_10000.dcm", |b| {
        let group_length = u32::from_le_bytes(b[140..144].try_into().unwrap()) as usize;
        b.truncate(144 + group_length);
        for _ in 0..10_000 {
            b.extend_from_slice(&[
                0x08, 0x00, 0x15, 0x11, b'S', b'Q', 0, 0, 0xFF, 0xFF, 0xFF, 0xFF,
            ]);
            b.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF]);
        }
    });
    hostile(&dir, "huge_claim.dcm", |b| {
        for elem in [0x10u8, 0x11] {
            let at = find(b, &[0x28, 0x00, elem, 0x00, b'U', b'S', 2, 0]);
            b[at + 8..at + 10].copy_from_slice(&60_000u16.to_le_bytes());
        }
    });
    hostile(&dir, "lying_syntax.dcm", |b| {
        let at = find(b, b"1.2.840.10008.1.2.1\0");
        b[at..at + 20].copy_from_slice(b"1.2.840.10008.1.2\0\0\0");
    });
    s.veil().arg("init").assert().success();
    let mut ingest = s.veil_std();
    ingest.args(["ingest"]).arg(s.originals());
    let (ok, peak, output) = match peak_rss(&ingest) {
        Some(r) => r,
        None => {
            let o = ingest.output().unwrap();
            (
                o.status.success(),
                0,
                String::from_utf8_lossy(&o.stdout).into_owned()
                    + &String::from_utf8_lossy(&o.stderr),
            )
        }
    };
    assert!(!ok, "{output}");
    assert!(!output.contains("panicked"), "{output}");
    eprintln!("ingest of the hostile DICOM: peak {} MiB", peak >> 20);
    // A 4 GiB claim zero-filled, or 60000x60000 decoded (10 GiB), would show here.
    assert!(peak < 1024 << 20, "peak {} MiB", peak >> 20);
    for (name, why) in [
        ("truncated.dcm", "claims"),
        ("length_past_end.dcm", "element (0009,1010) at byte"),
        ("nested_10000.dcm", "sequences nested more than 16 deep"),
        (
            "huge_claim.dcm",
            "60000x60000, over the policy's limit of 20000x20000",
        ),
        ("lying_syntax.dcm", "claims"),
    ] {
        let it = s.item(name);
        assert_eq!(it["state"], "failed", "{name}");
        let failure = it["failure"].as_str().unwrap();
        assert!(failure.contains(why), "{name}: {failure}");
        assert!(output.contains(name), "the run names {name}: {output}");
    }
}

#[test]
fn an_insider_who_edits_the_items_dicom_values_cannot_smuggle_them_into_a_release() {
    let s = workspace(&["../dicom/ct_mono16.dcm"], |p| p);
    let id = s.item("ct_mono16.dcm")["id"].as_str().unwrap().to_string();
    let path = s.ws().join(format!("items/{id}.json"));
    let honest = std::fs::read(&path).unwrap();
    // A UID is 39 free digits: room for the MRN.
    for (field, value) in [("study_uid", "2.25.4401234"), ("modality", "US")] {
        let mut item: serde_json::Value = serde_json::from_slice(&honest).unwrap();
        item["dicom"][field] = serde_json::json!(value);
        std::fs::write(&path, serde_json::to_vec_pretty(&item).unwrap()).unwrap();
        let out = s
            .veil()
            .args(["approve", &id, "--attest", "reflections,edges,identifiers"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success(), "{err}");
        assert!(
            err.contains(&format!("its DICOM value '{field}' does not match")),
            "{err}"
        );
        assert!(outputs(&s).is_empty());
    }
    std::fs::write(&path, &honest).unwrap();
    approve(&s, "ct_mono16.dcm");
    assert_eq!(outputs(&s).len(), 1);
}
