//! An insider who can write the workspace, or who holds a second key, tries
//! each way past the controls; each test is the sentence it proves, and
//! each asserts a refusal at the step that would have let it in or a
//! TAMPERED finding (exit 5) on the right line.

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

mod ledger_support;

use ledger_support::*;
use veil::item::{ItemState, MaskKind, Rect};
use veil::keys::{AllowedSigners, Reviewer};
use veil::ledger::{self, Discarded, Entry, EntryKind, Head, Severity};
use veil::release::{self, ApproveOutcome, ReleaseError};
use veil::trust::{Anchor, Enrolment, Trust};

fn tattoo() -> (MaskKind, Rect) {
    (MaskKind::Tattoo, Rect::new(4, 4, 10, 10))
}

/// `bytes` with a `recovered` entry signed by `who` that claims the last
/// (complete) entry as debris, chained onto the line before it: the eraser.
fn erase_last(bytes: &[u8], who: &Reviewer) -> Vec<u8> {
    let l = lines(bytes);
    let n = l.len();
    let mut rec = Entry::draft(EntryKind::Recovered);
    rec.discarded = Some(Discarded {
        offset: (bytes.len() - l[n - 1].len() - 1) as u64,
        length: l[n - 1].len() as u64,
        sha256: ledger::sha256_hex(&l[n - 1]),
    });
    let mut out = bytes.to_vec();
    out.extend_from_slice(&sign_as(who, rec, &l[n - 2]));
    out.push(b'\n');
    out
}

/// The 1-based number of the last line of `bytes`.
fn last_line(bytes: &[u8]) -> usize {
    lines(bytes).len()
}

#[test]
fn a_key_an_insider_adds_to_allowed_signers_signs_nothing_verify_accepts() {
    let f = Fixture::new();
    append_rejects(&f.ws.ledger_path(), &f.a, 1);
    let mallory = Reviewer::generate(NAME_A).unwrap();
    let mut text = std::fs::read_to_string(f.ws.allowed_signers_path()).unwrap();
    text.push_str(&mallory.allowed_signers_line());
    text.push('\n');
    std::fs::write(f.ws.allowed_signers_path(), &text).unwrap();
    let forged = forge_after(&f.ledger_bytes(), &mallory, reject_draft("released-later"));
    let r = ledger::verify(&forged, &f.signers(), None);
    assert_tampered(&r, last_line(&forged), "not enrolled by the administrator");
    // The edited export is named too.
    assert!(
        problems(&r).contains("allowed_signers differs"),
        "{}",
        problems(&r)
    );
    // And Veil itself refuses to sign with that key.
    std::fs::write(f.ws.ledger_path(), f.ledger_bytes()).unwrap();
    let err = release::reject(
        &f.ws,
        &mallory,
        &f.add_item(1, &[], true, ItemState::Pending).id,
        "x",
    )
    .unwrap_err();
    assert!(matches!(err, ReleaseError::NotEnrolled { .. }), "{err}");
}

#[test]
fn a_ledger_rewritten_under_another_administrator_fails_against_the_auditors_copy() {
    let f = Fixture::new();
    append_rejects(&f.ws.ledger_path(), &f.a, 1);
    // Mallory starts a whole new ledger with herself as the administrator.
    let other = Fixture::new();
    append_rejects(&other.ws.ledger_path(), &other.a, 1);
    let rewritten = other.ledger_bytes();
    let clean = ledger::verify(&rewritten, &Trust::default(), None);
    assert_eq!(clean.count(Severity::Tampered), 0, "{}", problems(&clean));
    let r = ledger::verify(&rewritten, &f.anchored(), None);
    assert_tampered(&r, 2, "not the one in your trust file");
    // A legacy ledger put in its place fails too.
    let legacy = f.path().join("legacy.jsonl");
    append_rejects(&legacy, &f.a, 1);
    let r = ledger::verify(&std::fs::read(&legacy).unwrap(), &f.anchored(), None);
    assert_tampered(&r, 0, "no administrator entry");
    // And through the command line with the administrator's .pub file.
    std::fs::write(f.ws.ledger_path(), &rewritten).unwrap();
    let pub_file = f.path().join("admin.pub");
    std::fs::write(&pub_file, f.admin.public_openssh() + "\n").unwrap();
    f.veil('a')
        .arg("verify")
        .arg("--trust")
        .arg(&pub_file)
        .assert()
        .code(5);
}

#[test]
fn the_auditors_own_trust_file_is_believed_and_an_honest_ledger_matches_it() {
    let f = Fixture::new();
    append_rejects(&f.ws.ledger_path(), &f.a, 2);
    let r = ledger::verify(&f.ledger_bytes(), &f.anchored(), None);
    assert_eq!(r.worst(), None, "{}", problems(&r));
    assert!(r.trust.anchored);
    assert_eq!(r.trust.enrolled.len(), 2);
    // The export doubles as the auditor's allowed_signers.
    let export = std::fs::read_to_string(f.ws.allowed_signers_path()).unwrap();
    let anchor = Anchor::parse(&export).unwrap();
    let trust = Trust {
        anchor: Some(anchor),
        workspace_signers: AllowedSigners::parse(&export),
    };
    let r = ledger::verify(&f.ledger_bytes(), &trust, None);
    assert_eq!(r.worst(), None, "{}", problems(&r));
}

#[test]
fn two_keys_of_one_principal_are_one_person_and_cannot_countersign() {
    let f = Fixture::new();
    let a2 = Reviewer::generate(NAME_A).unwrap();
    veil::admin::enrol(
        &f.ws,
        &f.admin,
        Enrolment {
            principal: f.a.principal(),
            ..enrolment(&a2)
        },
    )
    .unwrap();
    let item = f.add_item(1, &[tattoo()], true, ItemState::Ready);
    let first = release::approve(&f.ws, &f.a, &item.id, &[]).unwrap();
    assert!(matches!(first, ApproveOutcome::AwaitingSecond { .. }));
    let second = release::approve(&f.ws, &a2, &item.id, &[]).unwrap();
    assert!(
        matches!(
            second,
            ApproveOutcome::AwaitingSecond { .. } | ApproveOutcome::Refused { .. }
        ),
        "{second:?}"
    );
    assert_eq!(std::fs::read_dir(f.ws.out_dir()).unwrap().count(), 0);
    // Forged by hand: a countersign from the same person's second key.
    let bytes = f.ledger_bytes();
    let approve = ledger::entries(&bytes)
        .into_iter()
        .find(|l| l.entry.kind == EntryKind::Approve)
        .unwrap();
    let mut cs = approve.entry.clone();
    cs.kind = EntryKind::Countersign;
    cs.countersigns = Some(approve.entry.seq);
    for g in cs.gates.iter_mut().flatten() {
        if g.gate.as_str() == "second_reviewer" {
            g.met = true;
        }
    }
    let forged = forge_after(&bytes, &a2, cs);
    let r = ledger::verify(&forged, &f.signers(), None);
    assert_tampered(&r, last_line(&forged), "same principal");
    // Another person releases it.
    let done = release::approve(&f.ws, &f.b, &item.id, &[]).unwrap();
    assert!(matches!(done, ApproveOutcome::Released { .. }), "{done:?}");
    let r = ledger::verify(&f.ledger_bytes(), &f.anchored(), None);
    assert_eq!(r.worst(), None, "{}", problems(&r));
}

#[test]
fn a_signed_recovered_entry_that_claims_a_complete_reject_as_debris_is_tampering_even_past_a_checkpoint()
 {
    let f = Fixture::new();
    append_rejects(&f.ws.ledger_path(), &f.a, 2);
    let checkpoint = Head::of(&f.ledger_bytes());
    // After the checkpoint, a reject the insider wants gone.
    append_rejects(&f.ws.ledger_path(), &f.a, 1);
    let bytes = f.ledger_bytes();
    let n = last_line(&bytes);
    let forged = erase_last(&bytes, &f.b);
    let r = ledger::verify(&forged, &f.signers(), Some(&checkpoint));
    assert_tampered(&r, n, "complete, validly signed entry is claimed");
    assert!(
        r.findings
            .iter()
            .any(|x| x.message.contains("extends checkpoint"))
    );
    assert_eq!(r.entries, n + 1, "the reject is still counted");
}

#[test]
fn an_unsigned_line_claiming_itself_and_the_next_megabyte_erases_nothing() {
    let f = Fixture::new();
    append_rejects(&f.ws.ledger_path(), &f.a, 3);
    let mut l = lines(&f.ledger_bytes());
    let at: usize = l[..SETUP_LINES + 1].iter().map(|x| x.len() + 1).sum();
    let mut rec = ledger::parse_line(&l[SETUP_LINES]).unwrap();
    rec.kind = EntryKind::Recovered;
    rec.item = None;
    rec.original_sha256 = None;
    rec.reason = None;
    rec.discarded = Some(Discarded {
        offset: at as u64,
        length: 1 << 20,
        sha256: "00".repeat(32),
    });
    l.insert(SETUP_LINES + 1, rec.to_line().unwrap());
    std::fs::write(f.ws.ledger_path(), join_lines(&l)).unwrap();
    let r = f.verify();
    assert_tampered(&r, SETUP_LINES + 2, "does not verify");
    // Every later entry is still an entry: the two rejects after it count.
    let items: Vec<String> = ledger::entries(&f.ledger_bytes())
        .into_iter()
        .filter_map(|x| x.entry.item)
        .collect();
    assert_eq!(items, ["item0", "item1", "item2"]);
    // And the next append builds on the last real entry.
    append_rejects(&f.ws.ledger_path(), &f.a, 1);
    let r = f.verify();
    assert_eq!(r.worst(), Some(Severity::Tampered));
    assert_eq!(r.entries, SETUP_LINES + 1 + 3 + 1, "{}", problems(&r));
    assert!(
        problems(&r).lines().all(|x| !x.contains("line 10:")),
        "{}",
        problems(&r)
    );
}

#[test]
fn a_rejected_item_whose_file_is_edited_back_to_pending_is_never_released() {
    let f = Fixture::new();
    let item = f.add_item(
        1,
        &[(MaskKind::Face, Rect::new(20, 10, 16, 16))],
        true,
        ItemState::Ready,
    );
    release::reject(&f.ws, &f.a, &item.id, "wrong consent form").unwrap();
    let mut edited = f.ws.load_item(&item.id).unwrap();
    edited.state = ItemState::Pending;
    edited.rejection = None;
    f.ws.save_item(&edited).unwrap();
    let err = release::approve(&f.ws, &f.b, &item.id, &[]).unwrap_err();
    assert!(
        matches!(err, ReleaseError::RejectedInLedger { .. }),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(f.ws.out_dir()).unwrap().count(), 0);
    // A release written after the reject by hand is tampering.
    let other = f.add_item(2, &[], true, ItemState::Ready);
    release::approve(&f.ws, &f.a, &other.id, &[]).unwrap();
    let bytes = f.ledger_bytes();
    let released = ledger::entries(&bytes)
        .into_iter()
        .find(|l| l.entry.kind == EntryKind::Approve)
        .unwrap()
        .entry;
    let mut again = released.clone();
    again.item = Some(item.id.clone());
    again.original_sha256 = Some(item.sha256.clone());
    again.output_name = Some("Case_FORGED01.jpg".into());
    let forged = forge_after(&bytes, &f.b, again);
    let r = ledger::verify(&forged, &f.signers(), None);
    assert_tampered(&r, last_line(&forged), "rejected on line");
    // And a second release of one original.
    let twice = forge_after(&bytes, &f.b, released);
    let r = ledger::verify(&twice, &f.signers(), None);
    assert_tampered(&r, last_line(&twice), "already released");
}

#[test]
fn changing_a_tattoo_masks_kind_after_a_first_approval_does_not_lower_high_stakes() {
    let f = Fixture::new();
    let item = f.add_item(1, &[tattoo()], true, ItemState::Ready);
    let first = release::approve(&f.ws, &f.a, &item.id, &[]).unwrap();
    assert!(matches!(first, ApproveOutcome::AwaitingSecond { .. }));
    let mut edited = f.ws.load_item(&item.id).unwrap();
    edited.masks[0].kind = MaskKind::Face;
    edited.state = ItemState::Ready;
    give_evidence(&mut edited, &f.a);
    f.ws.save_item(&edited).unwrap();
    let again = release::approve(&f.ws, &f.a, &item.id, &[]).unwrap();
    assert!(
        !matches!(again, ApproveOutcome::Released { .. }),
        "one signer released a high-stakes item: {again:?}"
    );
    assert_eq!(std::fs::read_dir(f.ws.out_dir()).unwrap().count(), 0);
}

#[test]
fn a_high_stakes_entry_re_signed_with_the_second_reviewer_not_required_is_tampering() {
    let f = Fixture::new();
    let item = f.add_item(1, &[tattoo()], true, ItemState::Ready);
    release::approve(&f.ws, &f.a, &item.id, &[]).unwrap();
    let bytes = f.ledger_bytes();
    let n = last_line(&bytes);
    let forged = resign(&bytes, n, &f.a, |e| {
        for g in e.gates.iter_mut().flatten() {
            if g.gate.as_str() == "second_reviewer" {
                g.required = false;
                g.met = true;
            }
        }
    });
    let r = ledger::verify(&forged, &f.signers(), None);
    assert_tampered(&r, n, "high-stakes");
}

#[test]
fn an_expired_keys_approval_is_refused_and_its_forged_entry_is_tampering() {
    let f = Fixture::new();
    let c = Reviewer::generate("Dr C. Expired").unwrap();
    veil::admin::enrol(
        &f.ws,
        &f.admin,
        Enrolment {
            valid_before: Some("2020-01-01T00:00:00Z".into()),
            ..enrolment(&c)
        },
    )
    .unwrap();
    let item = f.add_item(1, &[], true, ItemState::Ready);
    let err = release::approve(&f.ws, &c, &item.id, &[]).unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");
    let forged = forge_after(&f.ledger_bytes(), &c, reject_draft("late"));
    let r = ledger::verify(&forged, &f.signers(), None);
    assert_tampered(&r, last_line(&forged), "expired");
}

#[test]
fn a_legacy_allowed_signers_valid_before_is_honoured_as_ssh_keygen_does() {
    let f = Fixture::new();
    let legacy = f.path().join("legacy.jsonl");
    append_rejects(&legacy, &f.a, 1);
    let line = format!(
        "{} namespaces=\"veil-ledger@v1\",valid-before=\"20200101Z\" {}",
        f.a.principal(),
        f.a.public_openssh()
    );
    let r = ledger::verify(
        &std::fs::read(&legacy).unwrap(),
        &Trust::workspace(AllowedSigners::parse(&line)),
        None,
    );
    assert_tampered(&r, 2, "expired");
}

#[test]
fn a_policy_edited_in_veil_toml_without_the_administrator_decides_nothing() {
    let f = Fixture::new();
    let item = f.add_item(1, &[], false, ItemState::Ready);
    let path = f.ws.root().join("veil.toml");
    let text = std::fs::read_to_string(&path).unwrap().replace(
        r#"required = ["zoom", "preview", "metadata", "reflections", "edges", "identifiers"]"#,
        r#"required = []"#,
    );
    std::fs::write(&path, text).unwrap();
    let ws = veil::workspace::Workspace::open(f.ws.root()).unwrap();
    let err = release::approve(&ws, &f.a, &item.id, &[]).unwrap_err();
    assert!(
        matches!(err, ReleaseError::PolicyNotRecorded { .. }),
        "{err}"
    );
    // A reviewer's own `policy` entry is not the administrator's.
    let mut p = Entry::draft(EntryKind::Policy);
    p.policy_text = Some(std::fs::read_to_string(&path).unwrap());
    p.policy_digest = Some(ws.policy.digest());
    let forged = forge_after(&f.ledger_bytes(), &f.a, p);
    let r = ledger::verify(&forged, &f.signers(), None);
    assert_tampered(&r, last_line(&forged), "only the administrator");
}

#[test]
fn a_reviewer_cannot_enrol_a_key_not_even_a_second_one_of_their_own() {
    let f = Fixture::new();
    let mine = Reviewer::generate("Dr B. Second").unwrap();
    let mut e = Entry::draft(EntryKind::Enrol);
    e.enrolment = Some(Enrolment {
        principal: "someone-else@veil".into(),
        ..enrolment(&mine)
    });
    let forged = forge_after(&f.ledger_bytes(), &f.b, e);
    let after = forge_after(&forged, &mine, reject_draft("by-the-new-key"));
    let r = ledger::verify(&after, &f.signers(), None);
    assert_tampered(&r, last_line(&forged), "only the administrator");
    assert_tampered(&r, last_line(&after), "not enrolled");
    // Nor through Veil: the administrator commands need the administrator key.
    let err = veil::admin::enrol(&f.ws, &f.b, enrolment(&mine)).unwrap_err();
    assert!(
        err.to_string()
            .contains("not the workspace's administrator"),
        "{err}"
    );
}

#[test]
fn the_oracle_refuses_what_an_insider_writes_and_fails_cleanly_on_any_input() {
    let f = Fixture::new();
    append_rejects(&f.ws.ledger_path(), &f.a, 2);
    let trust = f.path().join("auditor_allowed_signers");
    std::fs::copy(f.ws.allowed_signers_path(), &trust).unwrap();
    let honest = f.ledger_bytes();
    let case = |name: &str, bytes: &[u8]| {
        let p = f.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        oracle(&p, &trust)
    };
    let Some((code, text)) = case("honest.jsonl", &honest) else {
        return;
    };
    assert_eq!(code, 0, "{text}");
    let mallory = Reviewer::generate("Mallory").unwrap();
    let l = lines(&honest);
    let n = l.len();
    let erased = erase_last(&honest, &f.b);
    let mut enrol = Entry::draft(EntryKind::Enrol);
    enrol.enrolment = Some(enrolment(&mallory));
    let esc_line = {
        let mut v: serde_json::Value =
            serde_json::from_slice(&sign_as(&f.a, reject_draft("x"), &l[n - 1])).unwrap();
        v["kind"] = "\u{1b}[2Kline 9: ok".into();
        ledger::canonical(&v).unwrap()
    };
    let mut junk = l.clone();
    junk.insert(SETUP_LINES + 1, b"{not json".to_vec());
    let mut bad_utf8 = l.clone();
    bad_utf8.insert(SETUP_LINES + 1, b"{\"a\":\"\xff\"}".to_vec());
    let mut bare = l.clone();
    bare.insert(
        SETUP_LINES + 1,
        br#"{"discarded":{"length":999999,"offset":0,"sha256":"00"}}"#.to_vec(),
    );
    let mut huge = honest.clone();
    huge.extend_from_slice(&vec![b'x'; 20 << 20]);
    huge.push(b'\n');
    for (name, bytes, refused) in [
        (
            "mallory.jsonl",
            forge_after(&honest, &mallory, reject_draft("m")),
            true,
        ),
        ("erased.jsonl", erased, true),
        ("enrol.jsonl", forge_after(&honest, &f.b, enrol), true),
        (
            "escape.jsonl",
            join_lines(&[l.clone(), vec![esc_line]].concat()),
            false,
        ),
        ("junk.jsonl", join_lines(&junk), true),
        ("utf8.jsonl", join_lines(&bad_utf8), true),
        ("bare.jsonl", join_lines(&bare), true),
        ("huge.jsonl", huge, true),
    ] {
        let (code, text) = case(name, &bytes).unwrap();
        assert_eq!(code, 1, "{name} passed the oracle:\n{text}");
        if !refused {
            // Refused too, and the escape shown as '?', not sent to the terminal.
            assert!(text.contains("?[2Kline 9"), "{text}");
        }
    }
    let (code, text) = oracle(&f.path().join("missing.jsonl"), &trust).unwrap();
    assert_eq!(code, 2, "{text}");
}

#[test]
fn zoom_and_preview_evidence_typed_into_an_item_file_is_not_measured() {
    let f = Fixture::new();
    let item = f.add_item(
        1,
        &[(MaskKind::Face, Rect::new(20, 10, 16, 16))],
        true,
        ItemState::Ready,
    );
    // Typed by hand: the same records without the station's seals.
    let mut typed = f.ws.load_item(&item.id).unwrap();
    for m in &mut typed.masks {
        m.zoom_check.as_mut().unwrap().seal = None;
    }
    typed.gates.preview_seen.as_mut().unwrap().seal = None;
    f.ws.save_item(&typed).unwrap();
    match release::approve(&f.ws, &f.b, &item.id, &[]).unwrap() {
        ApproveOutcome::Refused { unmet } => {
            let unmet = unmet.join("; ");
            assert!(
                unmet.contains("zoom") && unmet.contains("preview"),
                "{unmet}"
            );
            assert!(unmet.contains("no valid seal"), "{unmet}");
        }
        other => panic!("hand-typed evidence released an item: {other:?}"),
    }
    // Sealed with a key nobody enrolled: not measured either.
    let mallory = Reviewer::generate("Mallory").unwrap();
    let mut forged = f.ws.load_item(&item.id).unwrap();
    give_evidence(&mut forged, &mallory);
    f.ws.save_item(&forged).unwrap();
    assert!(matches!(
        release::approve(&f.ws, &f.b, &item.id, &[]).unwrap(),
        ApproveOutcome::Refused { .. }
    ));
    // A seal moved to another mask position does not hold.
    let mut moved = f.ws.load_item(&item.id).unwrap();
    give_evidence(&mut moved, &f.a);
    moved.masks[0].rect.x += 1;
    f.ws.save_item(&moved).unwrap();
    assert!(matches!(
        release::approve(&f.ws, &f.b, &item.id, &[]).unwrap(),
        ApproveOutcome::Refused { .. }
    ));
    assert_eq!(std::fs::read_dir(f.ws.out_dir()).unwrap().count(), 0);
    // The enrolled reviewer's own seals are their attributable statement: released.
    let mut sealed = f.ws.load_item(&item.id).unwrap();
    sealed.masks[0].rect.x -= 1;
    give_evidence(&mut sealed, &f.a);
    f.ws.save_item(&sealed).unwrap();
    assert!(matches!(
        release::approve(&f.ws, &f.b, &item.id, &[]).unwrap(),
        ApproveOutcome::Released { .. }
    ));
}
