//! High-stakes items: a second approval by a different key releases them,
//! with the same output bytes; verify holds the ledger to those rules.

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

mod ledger_support;

use ledger_support::*;
use veil::item::{ItemState, MaskKind, Rect};
use veil::ledger::{self, Entry, EntryKind, Ledger, Severity};
use veil::release::{self, ApproveOutcome};

fn tattooed(f: &Fixture) -> veil::item::Item {
    // A tattoo mask makes the item high-stakes under the default policy.
    f.add_item(
        1,
        &[face(), (MaskKind::Tattoo, Rect::new(2, 30, 10, 10))],
        true,
        ItemState::Ready,
    )
}

#[test]
fn a_high_stakes_item_is_released_only_by_a_second_different_reviewer_with_the_same_output() {
    let f = Fixture::new();
    let item = tattooed(&f);

    let first = release::approve(&f.ws, &f.a, &item.id, &[]).unwrap();
    let ApproveOutcome::AwaitingSecond { seq: first_seq } = first else {
        panic!("expected to wait for a second reviewer, got {first:?}");
    };
    assert_eq!(
        f.ws.load_item(&item.id).unwrap().state,
        ItemState::AwaitingSecond
    );
    assert_eq!(
        std::fs::read_dir(f.ws.out_dir()).unwrap().count(),
        0,
        "nothing is released before the second approval"
    );

    // The same reviewer again is refused, and nothing is recorded.
    let before = f.ledger_bytes();
    let again = release::approve(&f.ws, &f.a, &item.id, &[]).unwrap();
    match again {
        ApproveOutcome::Refused { unmet } => assert_eq!(
            unmet.join("; "),
            "second_reviewer (high-stakes: the second approval must come from a different reviewer)"
        ),
        other => panic!("same reviewer twice was not refused: {other:?}"),
    }
    assert_eq!(f.ledger_bytes(), before);

    // A different reviewer releases it.
    let second = release::approve(&f.ws, &f.b, &item.id, &[]).unwrap();
    let ApproveOutcome::Released { output, seq } = second else {
        panic!("second reviewer did not release: {second:?}");
    };
    let bytes = f.ledger_bytes();
    let all = ledger::entries(&bytes);
    let a = &all.iter().find(|l| l.entry.seq == first_seq).unwrap().entry;
    let b = &all.iter().find(|l| l.entry.seq == seq).unwrap().entry;
    assert_eq!(a.kind, EntryKind::Approve);
    assert_eq!(b.kind, EntryKind::Countersign);
    assert_eq!(b.countersigns, Some(first_seq));
    assert_eq!(a.output_sha256, b.output_sha256);
    assert_eq!(a.output_name, b.output_name);
    assert_ne!(a.reviewer.fingerprint, b.reviewer.fingerprint);
    let on_disk = std::fs::read(&output).unwrap();
    assert_eq!(Some(ledger::sha256_hex(&on_disk)), b.output_sha256);

    let cert = release::certificate(&f.ws, &item.id).unwrap();
    assert!(
        cert.contains(&f.a.fingerprint()) && cert.contains(&f.b.fingerprint()),
        "{cert}"
    );
    assert!(cert.contains("countersigned"), "{cert}");

    let v = veil::audit::verify_workspace(&f.ws, None, None).unwrap();
    assert_eq!(v.worst(), None, "{}", problems(&v));
}

#[test]
fn a_countersign_by_the_first_reviewers_own_key_is_caught_by_verify() {
    let f = Fixture::new();
    let item = tattooed(&f);
    release::approve(&f.ws, &f.a, &item.id, &[]).unwrap();
    let bytes = f.ledger_bytes();
    let first = ledger::entries(&bytes)
        .into_iter()
        .find(|l| l.entry.kind == EntryKind::Approve)
        .unwrap()
        .entry;
    // A forged countersign, properly signed by A (a trusted key).
    let mut forged = Entry::draft(EntryKind::Countersign);
    forged.item = first.item.clone();
    forged.original_sha256 = first.original_sha256.clone();
    forged.output_sha256 = first.output_sha256.clone();
    forged.output_name = first.output_name.clone();
    forged.masks = first.masks.clone();
    forged.policy_digest = first.policy_digest.clone();
    forged.gates_not_required = first.gates_not_required.clone();
    forged.countersigns = Some(first.seq);
    forged.gates = first.gates.clone().map(|gs| {
        gs.into_iter()
            .map(|mut g| {
                g.met = true;
                g
            })
            .collect()
    });
    Ledger::open(&f.ws.ledger_path())
        .unwrap()
        .append(&f.a, vec![forged])
        .unwrap();
    let r = f.verify();
    assert!(
        r.findings.iter().any(|x| x.severity == Severity::Tampered
            && x.message.contains("countersigned by the same key")),
        "{}",
        problems(&r)
    );
}

#[test]
fn an_approval_recorded_with_a_required_gate_unmet_is_caught_by_verify() {
    let f = Fixture::new();
    let item = f.add_item(1, &[face()], true, ItemState::Ready);
    release::approve(&f.ws, &f.a, &item.id, &[]).unwrap();
    let bytes = f.ledger_bytes();
    let mut e = ledger::entries(&bytes)
        .into_iter()
        .find(|l| l.entry.kind == EntryKind::Approve)
        .unwrap()
        .entry;
    // Re-issue it with the preview gate unmet, signed by a trusted key.
    for g in e.gates.as_mut().unwrap() {
        if g.gate.as_str() == "preview" {
            g.met = false;
        }
    }
    e.output_name = Some("Case_FORGED00.jpg".into());
    Ledger::open(&f.ws.ledger_path())
        .unwrap()
        .append(&f.b, vec![e])
        .unwrap();
    let r = f.verify();
    assert!(
        r.findings.iter().any(|x| x.severity == Severity::Tampered
            && x.message.contains("required gate 'preview' unmet")),
        "{}",
        problems(&r)
    );
}

#[test]
fn the_high_stakes_flag_on_the_command_line_holds_an_ordinary_item_for_a_second_reviewer() {
    let f = Fixture::new();
    let item = f.add_item(1, &[face()], true, ItemState::Ready);
    let out = f
        .veil('a')
        .args(["approve", &item.id, "--high-stakes"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(text.contains("awaiting a second reviewer"), "{text}");
    f.veil('a')
        .args(["approve", &item.id])
        .assert()
        .code(3)
        .stdout(predicates::str::contains("different reviewer"));
    f.veil('b')
        .args(["approve", &item.id])
        .assert()
        .success()
        .stdout(predicates::str::contains("released"));
    f.veil('b').arg("verify").assert().code(0);
}
