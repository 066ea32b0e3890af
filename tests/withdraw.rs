//! Taking a release back: `veil withdraw ID --reason TEXT`, what `verify`
//! and the oracle make of it, who may do it, and finishing one a crash
//! interrupted.

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

mod ledger_support;

use ledger_support::*;
use predicates::str::contains;
use veil::item::{ItemState, MaskKind, Rect};
use veil::ledger::{self, Entry, EntryKind, Ledger, Severity};

const REASON: &str = "a name badge is readable in the lower left corner";

/// The administrator's public key as the auditor keeps it.
fn trust_file(f: &Fixture) -> std::path::PathBuf {
    let p = f.path().join("admin.pub");
    std::fs::write(&p, format!("{}\n", f.admin.public_openssh())).unwrap();
    p
}

fn released(f: &Fixture, n: u8) -> veil::item::Item {
    let item = f.add_item(n, &[face()], true, ItemState::Ready);
    f.veil('a').args(["approve", &item.id]).assert().success();
    f.ws.load_item(&item.id).unwrap()
}

fn verify_anchored(f: &Fixture) -> veil::ledger::VerifyReport {
    let anchor =
        veil::trust::Anchor::parse(&std::fs::read_to_string(trust_file(f)).unwrap()).unwrap();
    veil::audit::verify_workspace(&f.ws, None, Some(anchor)).unwrap()
}

#[test]
fn a_withdrawal_is_a_signed_entry_that_moves_the_output_out_of_the_released_set() {
    let f = Fixture::new();
    let item = released(&f, 1);
    let name = item.output.clone().unwrap().name;
    let out = f.ws.out_dir();
    assert!(out.join(&name).is_file());
    let before = f.ledger_bytes();

    f.veil('a')
        .args(["withdraw", &item.id[..8], "--reason", REASON])
        .assert()
        .success()
        .stdout(contains("Withdrew"))
        .stdout(contains("withdrawn"));

    // History is kept: the ledger only grew, by one signed withdraw entry.
    let after = f.ledger_bytes();
    assert!(after.starts_with(&before));
    let last = ledger::entries(&after).pop().unwrap().entry;
    assert_eq!(last.kind, EntryKind::Withdraw);
    assert_eq!(last.reason.as_deref(), Some(REASON));
    assert_eq!(last.output_name.as_deref(), Some(name.as_str()));
    assert_eq!(last.reviewer.fingerprint, f.a.fingerprint());
    // Out of out/, kept under withdrawn/ with its certificate marked.
    assert!(!out.join(&name).exists());
    assert!(!out.join(format!("{name}.certificate.txt")).exists());
    let kept = f.ws.withdrawn_dir();
    assert!(kept.join(&name).is_file());
    let cert = std::fs::read_to_string(kept.join(format!("{name}.certificate.txt"))).unwrap();
    assert!(cert.starts_with("*** WITHDRAWN"), "{cert}");
    assert!(cert.contains(REASON) && cert.contains("VEIL RELEASE CERTIFICATE"));
    // The item can be reviewed again; its evidence must be gathered anew.
    let item = f.ws.load_item(&item.id).unwrap();
    assert_eq!(item.state, ItemState::Pending);
    assert!(item.output.is_none());
    assert!(item.masks.iter().all(|m| m.zoom_check.is_none()));
    assert!(item.gates.preview_seen.is_none());
    assert_eq!(item.withdrawals.len(), 1);
    f.veil('a')
        .args(["show", &item.id])
        .assert()
        .success()
        .stdout(contains("Withdrawn"))
        .stdout(contains(REASON));
}

#[test]
fn verify_lists_withdrawn_releases_separately_from_live_ones() {
    let f = Fixture::new();
    let gone = released(&f, 1);
    let kept = released(&f, 2);
    f.veil('b')
        .args(["withdraw", &gone.id, "--reason", REASON])
        .assert()
        .success();
    let r = verify_anchored(&f);
    assert_eq!(r.worst(), None, "{}", problems(&r));
    assert_eq!(r.releases.len(), 1);
    assert_eq!(r.releases[0].item, kept.id);
    assert_eq!(r.withdrawn.len(), 1);
    let w = &r.withdrawn[0];
    assert_eq!(w.release.item, gone.id);
    assert_eq!(w.reason, REASON);
    assert!(w.by.contains(NAME_B), "{}", w.by);
    f.veil('a')
        .args(["verify", "--trust"])
        .arg(trust_file(&f))
        .assert()
        .code(0)
        .stdout(contains("1 output(s) released and live, 1 withdrawn"))
        .stdout(contains(format!(
            "withdrawn: {}",
            gone.output.unwrap().name
        )));
    let j = f
        .veil('a')
        .args(["verify", "--json"])
        .assert()
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&j).unwrap();
    assert_eq!(v["withdrawn"].as_array().unwrap().len(), 1);
    assert_eq!(v["live_releases"].as_array().unwrap().len(), 1);
}

#[test]
fn a_withdrawn_original_can_be_re_reviewed_and_released_again_as_a_new_release() {
    let f = Fixture::new();
    let item = released(&f, 1);
    let first = item.output.clone().unwrap();
    f.veil('a')
        .args(["withdraw", &item.id, "--reason", REASON])
        .assert()
        .success();
    // Approving again without re-review is refused: the evidence was cleared.
    f.veil('a')
        .args(["approve", &item.id])
        .assert()
        .code(3)
        .stdout(contains("zoom"));
    // The reviewer masks what leaked and reviews it again.
    let mut again = f.ws.load_item(&item.id).unwrap();
    again.add_mask(
        MaskKind::Identifier,
        Rect {
            x: 0,
            y: 30,
            w: 20,
            h: 18,
        },
        veil::item::MaskOrigin::Manual,
    );
    give_evidence(&mut again, &f.a);
    again.state = ItemState::Ready;
    f.ws.save_item(&again).unwrap();
    f.veil('a').args(["approve", &item.id]).assert().success();
    let second = f.ws.load_item(&item.id).unwrap().output.unwrap();
    assert_ne!(second.name, first.name, "a new release gets a new name");
    assert_ne!(second.sha256, first.sha256);
    assert!(f.ws.out_dir().join(&second.name).is_file());
    let r = verify_anchored(&f);
    assert_eq!(r.worst(), None, "{}", problems(&r));
    assert_eq!((r.releases.len(), r.withdrawn.len()), (1, 1));
    assert_eq!(r.releases[0].output_name, second.name);
}

#[test]
fn the_same_bytes_released_again_after_a_withdrawal_are_a_new_release_not_the_old_one() {
    let f = Fixture::new();
    let item = released(&f, 1);
    let first = item.output.clone().unwrap();
    f.veil('a')
        .args(["withdraw", &item.id, "--reason", "withdrawn in error"])
        .assert()
        .success();
    let mut again = f.ws.load_item(&item.id).unwrap();
    give_evidence(&mut again, &f.a);
    f.ws.save_item(&again).unwrap();
    f.veil('a').args(["approve", &item.id]).assert().success();
    let second = f.ws.load_item(&item.id).unwrap().output.unwrap();
    assert_eq!(second.sha256, first.sha256);
    assert_ne!(second.name, first.name);
    let kinds: Vec<EntryKind> = ledger::entries(&f.ledger_bytes())
        .into_iter()
        .map(|l| l.entry.kind)
        .collect();
    assert_eq!(
        kinds[SETUP_LINES..],
        [EntryKind::Approve, EntryKind::Withdraw, EntryKind::Approve]
    );
    let r = verify_anchored(&f);
    assert_eq!(r.worst(), None, "{}", problems(&r));
}

#[test]
fn the_administrator_may_withdraw_and_a_key_not_enrolled_may_not() {
    let f = Fixture::new();
    let item = released(&f, 1);
    let stranger = veil::keys::Reviewer::generate("Someone Else").unwrap();
    stranger.write_key(&f.path().join("keys/s")).unwrap();
    let before = f.ledger_bytes();
    f.veil('a')
        .env("VEIL_REVIEWER_KEY", f.path().join("keys/s"))
        .args(["withdraw", &item.id, "--reason", REASON])
        .assert()
        .code(1)
        .stderr(contains("veil admin enrol"));
    assert_eq!(f.ledger_bytes(), before, "a refusal writes nothing");
    f.veil('a')
        .args(["withdraw", &item.id, "--reason", "  "])
        .assert()
        .code(1)
        .stderr(contains("needs a reason"));
    f.veil('a')
        .args(["withdraw", &item.id, "--reason", REASON, "--as-admin"])
        .assert()
        .success()
        .stdout(contains(NAME_ADMIN));
    let last = ledger::entries(&f.ledger_bytes()).pop().unwrap().entry;
    assert_eq!(last.reviewer.fingerprint, f.admin.fingerprint());
    assert_eq!(verify_anchored(&f).worst(), None);
    // Nothing is left to withdraw.
    f.veil('a')
        .args(["withdraw", &item.id, "--reason", REASON])
        .assert()
        .code(1)
        .stderr(contains("not released"));
}

/// The withdraw entry `veil withdraw` writes for `release`, naming `seq`.
fn withdraw_entry(release: &Entry, seq: u64) -> Entry {
    let mut e = Entry::draft(EntryKind::Withdraw);
    e.item = release.item.clone();
    e.original_sha256 = release.original_sha256.clone();
    e.output_sha256 = release.output_sha256.clone();
    e.output_name = release.output_name.clone();
    e.withdraws = Some(seq);
    e.reason = Some(REASON.into());
    e
}

#[test]
fn a_withdraw_entry_that_names_no_live_release_is_tampering() {
    let f = Fixture::new();
    let item = released(&f, 1);
    let rel = ledger::entries(&f.ledger_bytes()).pop().unwrap().entry;
    let withdraw_of = |seq: u64| withdraw_entry(&rel, seq);
    // Naming an entry that released nothing.
    let bytes = forge_after(&f.ledger_bytes(), &f.a, withdraw_of(rel.seq - 1));
    let r = ledger::verify(&bytes, &f.anchored(), None);
    assert_tampered(&r, SETUP_LINES + 2, "not a live release");
    assert_eq!(r.releases.len(), 1);
    // Withdrawing twice.
    let once = forge_after(&f.ledger_bytes(), &f.a, withdraw_of(rel.seq));
    let twice = forge_after(&once, &f.b, withdraw_of(rel.seq));
    let r = ledger::verify(&twice, &f.anchored(), None);
    assert_tampered(&r, SETUP_LINES + 3, "already withdrawn");
    // Naming the release but other bytes.
    let mut other = withdraw_of(rel.seq);
    other.output_sha256 = Some("0".repeat(64));
    let r = ledger::verify(
        &forge_after(&f.ledger_bytes(), &f.a, other),
        &f.anchored(),
        None,
    );
    assert_tampered(&r, SETUP_LINES + 2, "does not match the release");
    // No reason.
    let mut mute = withdraw_of(rel.seq);
    mute.reason = None;
    let r = ledger::verify(
        &forge_after(&f.ledger_bytes(), &f.a, mute),
        &f.anchored(),
        None,
    );
    assert_tampered(&r, SETUP_LINES + 2, "lacks reason");
    let _ = item;
}

#[test]
fn an_interrupted_withdrawal_is_reported_by_verify_and_finished_by_running_it_again() {
    let f = Fixture::new();
    let item = released(&f, 1);
    let name = item.output.clone().unwrap().name;
    let rel = ledger::entries(&f.ledger_bytes()).pop().unwrap().entry;
    // The entry landed; the process died before moving anything.
    let e = withdraw_entry(&rel, rel.seq);
    Ledger::open(&f.ws.ledger_path())
        .unwrap()
        .append(&f.a, vec![e])
        .unwrap();
    let r = verify_anchored(&f);
    assert!(
        r.findings.iter().any(|x| x.severity == Severity::Warning
            && x.message.contains("still in out/")
            && x.message.contains("veil withdraw")),
        "{}",
        problems(&r)
    );
    f.veil('a')
        .args(["withdraw", &item.id, "--reason", "again"])
        .assert()
        .success()
        .stdout(contains("Finished the withdrawal"));
    assert!(!f.ws.out_dir().join(&name).exists());
    assert!(f.ws.withdrawn_dir().join(&name).is_file());
    let entries = ledger::entries(&f.ledger_bytes());
    assert_eq!(
        entries
            .iter()
            .filter(|l| l.entry.kind == EntryKind::Withdraw)
            .count(),
        1,
        "finishing writes no second entry"
    );
    assert_eq!(verify_anchored(&f).worst(), None);
    assert_eq!(f.ws.load_item(&item.id).unwrap().state, ItemState::Pending);
}

#[test]
fn verify_reports_a_released_output_without_its_certificate_and_certificate_write_restores_it() {
    let f = Fixture::new();
    let item = released(&f, 1);
    let name = item.output.clone().unwrap().name;
    let cert = f.ws.out_dir().join(format!("{name}.certificate.txt"));
    let text = std::fs::read_to_string(&cert).unwrap();
    std::fs::remove_file(&cert).unwrap();
    let r = verify_anchored(&f);
    assert!(
        r.findings.iter().any(|x| x.severity == Severity::Warning
            && x.message.contains("has no certificate")
            && x.message.contains("--write")),
        "{}",
        problems(&r)
    );
    f.veil('a')
        .args(["certificate", &item.id, "--write"])
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(&cert).unwrap(), text);
    assert_eq!(verify_anchored(&f).worst(), None);
}

#[test]
fn the_oracle_follows_withdrawals_and_refuses_one_of_no_live_release() {
    let f = Fixture::new();
    let item = released(&f, 1);
    let name = item.output.clone().unwrap().name;
    f.veil('a')
        .args(["withdraw", &item.id, "--reason", REASON])
        .assert()
        .success();
    let trust = trust_file(&f);
    let Some((code, text)) = oracle(&f.ws.ledger_path(), &trust) else {
        return;
    };
    assert_eq!(code, 0, "{text}");
    assert!(text.contains(&format!("withdraws {name}")), "{text}");
    assert!(
        text.contains(&format!("live releases: none; withdrawn: {name}")),
        "{text}"
    );
    // A second withdrawal of the same release, validly signed, is refused.
    let last = ledger::entries(&f.ledger_bytes()).pop().unwrap().entry;
    let forged = forge_after(&f.ledger_bytes(), &f.b, last);
    let path = f.path().join("forged.jsonl");
    std::fs::write(&path, forged).unwrap();
    let (code, text) = oracle(&path, &trust).unwrap();
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("not a live release"), "{text}");
}
