//! The approval commands end to end: reviewer keys, approve, verify exit
//! codes, checkpoints, certificates, and finishing an interrupted approval.

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

mod ledger_support;

use assert_cmd::Command;
use ledger_support::*;
use predicates::str::contains;
use std::os::unix::fs::PermissionsExt;
use veil::item::ItemState;
use veil::ledger::{self, EntryKind};

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

fn fresh_veil(home: &std::path::Path, ws: &std::path::Path) -> Command {
    let mut cmd = Command::cargo_bin("veil").unwrap();
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("VEIL_WORKSPACE", ws)
        .env_remove("VEIL_REVIEWER_KEY")
        .env_remove("VEIL_REVIEWER_NAME");
    cmd
}

#[test]
fn reviewer_init_creates_a_private_key_but_a_reviewer_can_never_enrol_themself() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    fresh_veil(dir.path(), &ws).arg("init").assert().success();
    let init = fresh_veil(dir.path(), &ws)
        .args(["reviewer", "init", "--name", "Dr C. Example"])
        .assert()
        .success()
        .stdout(contains("Not enrolled"))
        .stdout(contains(
            "veil admin enrol --name \"Dr C. Example\" --key \"ssh-ed25519 AAAA",
        ));
    let _ = init;
    let key = dir.path().join("config/veil/reviewer_ed25519");
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // Nothing in the workspace trusts the key by the reviewer's own act.
    assert!(!ws.join("allowed_signers").exists());
    fresh_veil(dir.path(), &ws)
        .args(["reviewer", "show"])
        .assert()
        .success()
        .stdout(contains("Enrolled:    NO"));
    // Writing allowed_signers by hand trusts nothing either.
    let pubkey =
        std::fs::read_to_string(dir.path().join("config/veil/reviewer_ed25519.pub")).unwrap();
    let words: Vec<&str> = pubkey.split_whitespace().collect();
    std::fs::write(
        ws.join("allowed_signers"),
        format!(
            "dr-c-example@veil namespaces=\"veil-ledger@v1\" {} {}\n",
            words[0], words[1]
        ),
    )
    .unwrap();
    fresh_veil(dir.path(), &ws)
        .args(["reject", "0000000000000000", "--reason", "x"])
        .assert()
        .code(1);
    // The administrator enrols it; then it is.
    fresh_veil(dir.path(), &ws)
        .args(["admin", "init", "--name", "Compliance Office"])
        .assert()
        .success()
        .stdout(contains("veil verify --trust"));
    fresh_veil(dir.path(), &ws)
        .args(["admin", "enrol", "--name", "Dr C. Example", "--key-file"])
        .arg(dir.path().join("config/veil/reviewer_ed25519.pub"))
        .assert()
        .success()
        .stdout(contains("as dr-c-example@veil"));
    fresh_veil(dir.path(), &ws)
        .args(["reviewer", "show"])
        .assert()
        .success()
        .stdout(contains("Enrolled:    yes, as dr-c-example@veil"));
    let signers = std::fs::read_to_string(ws.join("allowed_signers")).unwrap();
    assert!(
        signers.contains("veil-administrator namespaces="),
        "{signers}"
    );
    assert!(
        signers.contains("dr-c-example@veil namespaces="),
        "{signers}"
    );
    // A reviewer cannot run the administrator's commands with their own key.
    fresh_veil(dir.path(), &ws)
        .env("VEIL_ADMIN_KEY", &key)
        .args(["admin", "enrol", "--name", "Dr C. Again", "--key-file"])
        .arg(dir.path().join("config/veil/reviewer_ed25519.pub"))
        .assert()
        .code(1)
        .stderr(contains("not the workspace's administrator"));
}

#[test]
fn a_key_readable_by_group_or_others_is_refused_naming_the_file_and_chmod_600() {
    let f = Fixture::new();
    let item = f.add_item(1, &[face()], true, ItemState::Ready);
    let key = f.key_path('a');
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let before = f.ledger_bytes();
    let out = f.veil('a').args(["approve", &item.id]).assert().code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains(&key.display().to_string()), "{err}");
    assert!(
        err.contains(&format!("chmod 600 {}", key.display())),
        "{err}"
    );
    assert_eq!(f.ledger_bytes(), before);
}

#[test]
fn an_encrypted_or_non_ed25519_ssh_key_is_refused_clearly() {
    if std::process::Command::new("ssh-keygen")
        .arg("-?")
        .output()
        .is_err()
    {
        eprintln!("skipped: ssh-keygen is not installed here");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let keygen = |file: &str, args: &[&str]| {
        let st = std::process::Command::new("ssh-keygen")
            .args(["-q", "-f"])
            .arg(dir.path().join(file))
            .args(args)
            .status()
            .unwrap();
        assert!(st.success());
        dir.path().join(file)
    };
    let encrypted = keygen("enc", &["-t", "ed25519", "-N", "secret phrase"]);
    let ecdsa = keygen("ec", &["-t", "ecdsa", "-N", ""]);
    let plain = keygen("id_ed25519", &["-t", "ed25519", "-N", ""]);
    let try_key = |k: &std::path::Path| {
        fresh_veil(dir.path(), &ws)
            .args(["reviewer", "init", "--name", "Dr D"])
            .arg("--ssh-key")
            .arg(k)
            .assert()
    };
    try_key(&encrypted)
        .code(1)
        .stderr(contains("passphrase-protected"));
    try_key(&ecdsa).code(1).stderr(contains("ed25519 only"));
    try_key(&plain).success().stdout(contains("SHA256:"));
}

#[test]
fn approve_prints_one_line_per_item_and_verify_exits_5_when_an_output_is_replaced() {
    let f = Fixture::new();
    let good = f.add_item(1, &[face()], true, ItemState::Ready);
    let bad = f.add_item(2, &[face()], false, ItemState::Ready);
    let a = f
        .veil('a')
        .args(["approve", &good.id, &bad.id])
        .assert()
        .code(3);
    let text = stdout(&a);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with(&good.id) && lines[0].contains("released"),
        "{text}"
    );
    assert!(
        lines[1].starts_with(&bad.id) && lines[1].contains("REFUSED: zoom"),
        "{text}"
    );

    f.veil('a')
        .arg("verify")
        .assert()
        .code(0)
        .stdout(contains("OK"));

    let name = f.ws.load_item(&good.id).unwrap().output.unwrap().name;
    let path = f.ws.out_dir().join(&name);
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    f.veil('a')
        .arg("verify")
        .assert()
        .code(5)
        .stdout(contains(format!("out/{name}")))
        .stdout(contains("replaced after approval"));
    let j = f.veil('a').args(["verify", "--json"]).assert().code(5);
    let v: serde_json::Value = serde_json::from_str(&stdout(&j)).unwrap();
    assert_eq!(v["result"], "tampered");
    let findings = v["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| f["severity"] == "tampered"), "{v}");
}

#[test]
fn the_certificate_names_the_output_and_how_each_gate_was_met_but_never_the_original() {
    let f = Fixture::new();
    let item = f.add_item(1, &[face()], true, ItemState::Ready);
    f.veil('a').args(["approve", &item.id]).assert().success();
    let c = f
        .veil('a')
        .args(["certificate", &item.id])
        .assert()
        .success();
    let cert = stdout(&c);
    let out = f.ws.load_item(&item.id).unwrap().output.unwrap();
    for want in [
        out.name.as_str(),
        out.sha256.as_str(),
        "1 face",
        "PNG-text: 1 field",
        "[x] zoom",
        "measured",
        "[x] reflections",
        "attested",
        NAME_A,
        f.a.fingerprint().as_str(),
        "Entry hash:",
        &format!("seq {SETUP_LINES}"),
    ] {
        assert!(cert.contains(want), "certificate lacks '{want}':\n{cert}");
    }
    for never in [
        "photo-of-patient",
        "Jane Patient",
        "originals",
        "tEXt:Author",
    ] {
        assert!(
            !cert.contains(never),
            "certificate leaks '{never}':\n{cert}"
        );
    }
    let beside =
        std::fs::read_to_string(f.ws.out_dir().join(format!("{}.certificate.txt", out.name)))
            .unwrap();
    assert_eq!(beside, cert);
}

#[test]
fn checkpoint_prints_a_head_that_verify_accepts_and_that_catches_later_deletions() {
    let f = Fixture::new();
    let item = f.add_item(1, &[face()], true, ItemState::Ready);
    f.veil('a').args(["approve", &item.id]).assert().success();
    let c = f.veil('b').arg("checkpoint").assert().success();
    let text = stdout(&c);
    let arg = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("veil verify --checkpoint "))
        .unwrap()
        .to_string();
    let other = f.add_item(2, &[face()], true, ItemState::Ready);
    f.veil('a').args(["approve", &other.id]).assert().success();
    f.veil('a')
        .args(["verify", "--checkpoint", &arg])
        .assert()
        .code(0);
    // Drop everything after the approval: a later reader holding the
    // checkpoint sees the deletion.
    let l = lines(&f.ledger_bytes());
    std::fs::write(f.ws.ledger_path(), join_lines(&l[..2])).unwrap();
    f.veil('a')
        .args(["verify", "--checkpoint", &arg])
        .assert()
        .code(5)
        .stdout(contains("shorter than the checkpoint"));
}

#[test]
fn an_approval_interrupted_after_writing_its_output_is_finished_by_running_it_again() {
    let f = Fixture::new();
    let item = f.add_item(1, &[face()], true, ItemState::Ready);
    // The state a crash leaves between writing out/ and appending the entry.
    let rendered = veil::redact::render_item(&item, &f.ws.policy, None).unwrap();
    let orphan = f.ws.out_dir().join("Case_ORPHAN22.jpg");
    std::fs::write(&orphan, &rendered.bytes).unwrap();
    f.veil('a').arg("verify").assert().code(4).stdout(contains(
        "out/Case_ORPHAN22.jpg: no ledger entry releases it",
    ));

    f.veil('a').args(["approve", &item.id]).assert().success();
    let saved = f.ws.load_item(&item.id).unwrap();
    assert_eq!(
        saved.output.unwrap().name,
        "Case_ORPHAN22.jpg",
        "the output is reused"
    );
    f.veil('a').arg("verify").assert().code(0);

    // The state a crash leaves between the ledger append and saving the item.
    f.ws.save_item(&item).unwrap();
    let before = f.ledger_bytes();
    f.veil('a')
        .args(["approve", &item.id])
        .assert()
        .success()
        .stdout(contains("released"));
    assert_eq!(
        f.ledger_bytes(),
        before,
        "no second entry for the same approval"
    );
    assert_eq!(f.ws.load_item(&item.id).unwrap().state, ItemState::Approved);
    let approvals = ledger::entries(&before)
        .into_iter()
        .filter(|l| l.entry.kind == EntryKind::Approve)
        .count();
    assert_eq!(approvals, 1);
    f.veil('a').arg("verify").assert().code(0);
}

#[test]
fn reject_records_the_reason_and_the_item_is_never_released() {
    let f = Fixture::new();
    let item = f.add_item(1, &[face()], true, ItemState::Ready);
    f.veil('a')
        .args(["reject", &item.id, "--reason", "wrong patient"])
        .assert()
        .success()
        .stdout(contains("rejected"));
    f.veil('a')
        .args(["approve", &item.id])
        .assert()
        .code(3)
        .stdout(contains("rejected"));
    let bytes = f.ledger_bytes();
    let e = ledger::entries(&bytes).pop().unwrap().entry;
    assert_eq!(e.kind, EntryKind::Reject);
    assert_eq!(e.reason.as_deref(), Some("wrong patient"));
    assert_eq!(std::fs::read_dir(f.ws.out_dir()).unwrap().count(), 0);
}

#[test]
fn a_reason_that_looks_like_a_patient_detail_is_refused_until_confirmed() {
    let f = Fixture::new();
    let item = f.add_item(1, &[face()], true, ItemState::Ready);
    let before = f.ledger_bytes();
    f.veil('a')
        .args([
            "reject",
            &item.id,
            "--reason",
            "duplicate of Jane Doe, DOB 12/03/1970",
        ])
        .assert()
        .code(1)
        .stderr(contains("a name (Jane Doe)"))
        .stderr(contains("--confirm-reason"));
    assert_eq!(f.ledger_bytes(), before, "nothing recorded");
    f.veil('a')
        .args([
            "reject",
            &item.id,
            "--reason",
            "Ward Seven photo",
            "--confirm-reason",
        ])
        .assert()
        .success();
    let e = ledger::entries(&f.ledger_bytes()).pop().unwrap().entry;
    assert_eq!(e.reason.as_deref(), Some("Ward Seven photo"));
}

#[test]
fn approve_batch_prints_the_table_and_each_skip_reason() {
    let f = Fixture::new();
    let good = f.add_item(1, &[face()], true, ItemState::Ready);
    let bad = f.add_item(2, &[face()], false, ItemState::Ready);
    let dry = f
        .veil('a')
        .args(["approve", "--batch", "--dry-run"])
        .assert()
        .code(3);
    assert!(stdout(&dry).contains("dry run: nothing changed"));
    assert_eq!(f.ledger_bytes().len(), setup_len(&f));
    let a = f.veil('a').args(["approve", "--batch"]).assert().code(3);
    let text = stdout(&a);
    assert!(
        text.lines()
            .any(|l| l.starts_with(&good.id) && l.contains("released")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with(&bad.id)
            && l.contains("zoom (mask #1 not seen at 2.0x (press z)); preview")),
        "{text}"
    );
    assert!(text.contains("1 approved, 1 skipped (batch "), "{text}");
}

/// Bytes of the administrator's set-up lines.
fn setup_len(f: &Fixture) -> usize {
    lines(&f.ledger_bytes())
        .iter()
        .take(SETUP_LINES)
        .map(|l| l.len() + 1)
        .sum()
}

#[test]
fn a_reviewer_the_administrator_did_not_enrol_cannot_approve() {
    let f = Fixture::new();
    let item = f.add_item(1, &[face()], true, ItemState::Ready);
    let mallory = veil::keys::Reviewer::generate("Mallory").unwrap();
    let key = f.path().join("keys/m");
    mallory.write_key(&key).unwrap();
    f.veil('a')
        .env("VEIL_REVIEWER_KEY", &key)
        .env("VEIL_REVIEWER_NAME", "Mallory")
        .args(["approve", &item.id])
        .assert()
        .code(3)
        .stdout(contains("not enrolled by the administrator"))
        .stdout(contains("veil admin enrol --name \"Mallory\""));
    assert_eq!(std::fs::read_dir(f.ws.out_dir()).unwrap().count(), 0);
    assert_eq!(f.ledger_bytes().len(), setup_len(&f));
}
