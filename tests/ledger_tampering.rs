//! Each kind of tampering is caught, on the right line, with a message
//! that names it. And a third party's stock OpenSSH accepts our signatures.

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

mod ledger_support;

use ledger_support::*;
use veil::keys::{AllowedSigners, Reviewer};
use veil::ledger::{self, Entry, EntryKind, Head, Ledger, Severity, VerifyReport};
use veil::trust::Trust;

/// A workspace whose ledger holds the administrator's set-up (header,
/// admin, policy, two enrolments: lines 1–5) and five reject entries
/// (lines 6–10, indices 5–9).
fn ten_line_ledger() -> (Fixture, Vec<Vec<u8>>) {
    let f = Fixture::new();
    append_rejects(&f.ws.ledger_path(), &f.a, 5);
    let l = lines(&f.ledger_bytes());
    assert_eq!(l.len(), SETUP_LINES + 5);
    (f, l)
}

fn verify(f: &Fixture, bytes: &[u8]) -> VerifyReport {
    ledger::verify(bytes, &f.signers(), None)
}

#[test]
fn an_untouched_ledger_verifies_clean() {
    let (f, l) = ten_line_ledger();
    let r = verify(&f, &join_lines(&l));
    assert_eq!(r.worst(), None, "{}", problems(&r));
    assert_eq!(r.entries, 10);
}

#[test]
fn an_edited_field_is_caught_by_its_signature() {
    let (f, mut l) = ten_line_ledger();
    let s = String::from_utf8(l[6].clone()).unwrap();
    l[6] = s
        .replace("\"item\":\"item1\"", "\"item\":\"item9\"")
        .into_bytes();
    let r = verify(&f, &join_lines(&l));
    assert_tampered(&r, 7, "signature");
    assert_tampered(&r, 8, "prev does not match the hash of line 7");
}

#[test]
fn a_flipped_digit_is_caught() {
    let (f, mut l) = ten_line_ledger();
    let s = String::from_utf8(l[7].clone()).unwrap();
    let at = s.find("\"original_sha256\":\"").unwrap() + 19;
    let mut b = s.into_bytes();
    b[at] = if b[at] == b'a' { b'b' } else { b'a' };
    l[7] = b;
    let r = verify(&f, &join_lines(&l));
    assert_tampered(&r, 8, "does not verify");
}

#[test]
fn swapped_lines_are_caught() {
    let (f, mut l) = ten_line_ledger();
    l.swap(6, 7);
    let r = verify(&f, &join_lines(&l));
    assert_tampered(&r, 7, "seq 7 where 6 was expected");
    assert_tampered(&r, 8, "repeats or goes back");
}

#[test]
fn a_deleted_line_is_caught() {
    let (f, mut l) = ten_line_ledger();
    l.remove(6);
    let r = verify(&f, &join_lines(&l));
    assert_tampered(&r, 7, "1 entry was deleted before it");
    assert_tampered(&r, 7, "prev does not match the hash of line 6");
}

#[test]
fn a_replayed_line_is_caught() {
    let (f, mut l) = ten_line_ledger();
    let copy = l[6].clone();
    l.push(copy);
    let r = verify(&f, &join_lines(&l));
    assert_tampered(&r, 11, "replayed");
}

#[test]
fn a_line_from_another_ledger_is_caught() {
    let (f, mut l) = ten_line_ledger();
    // Another ledger, signed by the same trusted reviewer.
    let other = f.path().join("other.jsonl");
    append_rejects(&other, &f.a, 5);
    let theirs = lines(&std::fs::read(&other).unwrap());
    l[5] = theirs[1].clone();
    let r = verify(&f, &join_lines(&l));
    assert_tampered(&r, 6, "another ledger");
}

#[test]
fn an_entry_re_signed_by_an_untrusted_key_is_caught() {
    let (f, mut l) = ten_line_ledger();
    let mallory = Reviewer::generate("Mallory").unwrap();
    // Mallory edits the last entry and signs it properly with her own key.
    let mut e = ledger::parse_line(&l[9]).unwrap();
    e.reason = Some("changed".into());
    e.reviewer.key = mallory.public_openssh();
    e.reviewer.fingerprint = mallory.fingerprint();
    e.reviewer.name = NAME_A.into();
    e.sig.clear();
    e.sig = mallory.sign(&e.signed_bytes().unwrap()).unwrap();
    l[9] = e.to_line().unwrap();
    let r = verify(&f, &join_lines(&l));
    assert_tampered(&r, 10, "not enrolled by the administrator");
}

#[test]
fn deleting_the_last_entries_is_caught_by_a_checkpoint() {
    let (f, l) = ten_line_ledger();
    let head = Head::of(&join_lines(&l));
    let shorter = join_lines(&l[..8]);
    // Without a checkpoint a shorter ledger is self-consistent...
    assert_eq!(verify(&f, &shorter).worst(), None);
    // ...with one, the deletion is named.
    let r = ledger::verify(
        &shorter,
        &f.signers(),
        Some(&Head::parse(&head.to_arg()).unwrap()),
    );
    assert_tampered(&r, 0, "shorter than the checkpoint");
    // And rewriting history under the same length is caught too.
    let mut l2 = l.clone();
    l2.swap(8, 9);
    let r = ledger::verify(&join_lines(&l2), &f.signers(), Some(&head));
    assert_tampered(&r, 0, "no longer hash to the checkpoint");
}

#[test]
fn a_signed_checkpoint_entry_pins_everything_before_it() {
    let f = Fixture::new();
    let path = f.ws.ledger_path();
    append_rejects(&path, &f.a, 2);
    let report = Ledger::open(&path)
        .unwrap()
        .append(&f.a, vec![Entry::draft(EntryKind::Checkpoint)])
        .unwrap();
    let bytes = f.ledger_bytes();
    assert_eq!(report.head, Head::of(&bytes));
    let r = verify(&f, &bytes);
    assert_eq!(r.worst(), None, "{}", problems(&r));
    // A later checkpoint argument proves the prefix.
    let r = ledger::verify(&bytes, &f.signers(), Some(&report.head));
    assert_eq!(r.worst(), None, "{}", problems(&r));
}

#[test]
fn a_line_that_is_not_canonical_is_caught() {
    let (f, mut l) = ten_line_ledger();
    let s = String::from_utf8(l[5].clone()).unwrap();
    l[5] = s.replacen("{", "{ ", 1).into_bytes();
    let r = verify(&f, &join_lines(&l));
    assert_tampered(&r, 6, "canonical");
}

#[test]
fn garbage_inserted_between_entries_is_caught() {
    let (f, mut l) = ten_line_ledger();
    l.insert(7, b"not json at all".to_vec());
    let r = verify(&f, &join_lines(&l));
    assert_tampered(&r, 8, "no recovered entry accounts for them");
}

#[test]
fn a_legacy_ledger_trusts_only_the_keys_in_allowed_signers() {
    // A ledger from before the trust root: one header and rejects by A.
    let f = Fixture::new();
    let legacy = f.path().join("legacy.jsonl");
    append_rejects(&legacy, &f.a, 2);
    let bytes = std::fs::read(&legacy).unwrap();
    let only_b = Trust::workspace(AllowedSigners::parse(&f.b.allowed_signers_line()));
    let r = ledger::verify(&bytes, &only_b, None);
    assert_tampered(&r, 2, "not in allowed_signers");
    let both = Trust::workspace(AllowedSigners::parse(&format!(
        "{}\n{}\n",
        f.a.allowed_signers_line(),
        f.b.allowed_signers_line()
    )));
    let r = ledger::verify(&bytes, &both, None);
    assert_eq!(r.worst(), Some(Severity::Warning), "{}", problems(&r));
    assert!(problems(&r).contains("legacy trust"), "{}", problems(&r));
}

#[test]
fn ssh_keygen_verify_accepts_a_signature_that_veil_wrote() {
    let have = std::process::Command::new("ssh-keygen")
        .arg("-?")
        .output()
        .is_ok();
    if !have {
        eprintln!("skipped: ssh-keygen is not installed here");
        return;
    }
    let (f, l) = ten_line_ledger();
    let e = ledger::parse_line(&l[6]).unwrap();
    let dir = f.path();
    std::fs::write(dir.join("msg"), e.signed_bytes().unwrap()).unwrap();
    std::fs::write(dir.join("sig"), veil::keys::armor_signature(&e.sig)).unwrap();
    let run = |principal: &str, msg: &[u8]| {
        let mut child = std::process::Command::new("ssh-keygen")
            .args(["-Y", "verify", "-f"])
            .arg(f.ws.allowed_signers_path())
            .args(["-I", principal, "-n", veil::keys::NAMESPACE, "-s"])
            .arg(dir.join("sig"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child.stdin.take().unwrap().write_all(msg).unwrap();
        child.wait_with_output().unwrap()
    };
    let msg = e.signed_bytes().unwrap();
    let out = run(&f.a.principal(), &msg);
    assert!(
        out.status.success(),
        "ssh-keygen refused: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // And it refuses the same signature over different bytes, or for another principal.
    let mut changed = msg.clone();
    changed[10] ^= 1;
    assert!(!run(&f.a.principal(), &changed).status.success());
    assert!(!run(&f.b.principal(), &msg).status.success());
}
