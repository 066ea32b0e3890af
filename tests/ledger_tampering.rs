//! Each kind of tampering is caught, on the right line, with a message
//! that names it. And a third party's stock OpenSSH accepts our signatures.

mod ledger_support;

use ledger_support::*;
use veil::keys::{AllowedSigners, Reviewer};
use veil::ledger::{self, Entry, EntryKind, Head, Ledger, Severity, VerifyReport};

/// A workspace whose ledger holds a header and five reject entries.
fn six_line_ledger() -> (Fixture, Vec<Vec<u8>>) {
    let f = Fixture::new();
    append_rejects(&f.ws.ledger_path(), &f.a, 5);
    let l = lines(&f.ledger_bytes());
    assert_eq!(l.len(), 6);
    (f, l)
}

fn verify(f: &Fixture, bytes: &[u8]) -> VerifyReport {
    ledger::verify(bytes, &f.signers(), None)
}

/// Assert a tampering finding on `line` whose message contains `words`.
fn assert_tampered(r: &VerifyReport, line: usize, words: &str) {
    assert!(
        r.findings.iter().any(|x| x.severity == Severity::Tampered
            && x.line == line
            && x.message.contains(words)),
        "expected TAMPERED on line {line} mentioning '{words}', got:\n{}",
        problems(r)
    );
}

#[test]
fn an_untouched_ledger_verifies_clean() {
    let (f, l) = six_line_ledger();
    let r = verify(&f, &join_lines(&l));
    assert_eq!(r.worst(), None, "{}", problems(&r));
    assert_eq!(r.entries, 6);
}

#[test]
fn an_edited_field_is_caught_by_its_signature() {
    let (f, mut l) = six_line_ledger();
    let s = String::from_utf8(l[2].clone()).unwrap();
    l[2] = s
        .replace("\"item\":\"item1\"", "\"item\":\"item9\"")
        .into_bytes();
    let r = verify(&f, &join_lines(&l));
    assert_tampered(&r, 3, "signature");
    assert_tampered(&r, 4, "prev does not match the hash of line 3");
}

#[test]
fn a_flipped_digit_is_caught() {
    let (f, mut l) = six_line_ledger();
    let s = String::from_utf8(l[3].clone()).unwrap();
    let at = s.find("\"original_sha256\":\"").unwrap() + 19;
    let mut b = s.into_bytes();
    b[at] = if b[at] == b'a' { b'b' } else { b'a' };
    l[3] = b;
    let r = verify(&f, &join_lines(&l));
    assert_tampered(&r, 4, "does not verify");
}

#[test]
fn swapped_lines_are_caught() {
    let (f, mut l) = six_line_ledger();
    l.swap(2, 3);
    let r = verify(&f, &join_lines(&l));
    assert_tampered(&r, 3, "seq 3 where 2 was expected");
    assert_tampered(&r, 4, "repeats or goes back");
}

#[test]
fn a_deleted_line_is_caught() {
    let (f, mut l) = six_line_ledger();
    l.remove(2);
    let r = verify(&f, &join_lines(&l));
    assert_tampered(&r, 3, "1 entry was deleted before it");
    assert_tampered(&r, 3, "prev does not match the hash of line 2");
}

#[test]
fn a_replayed_line_is_caught() {
    let (f, mut l) = six_line_ledger();
    let copy = l[2].clone();
    l.push(copy);
    let r = verify(&f, &join_lines(&l));
    assert_tampered(&r, 7, "replayed");
}

#[test]
fn a_line_from_another_ledger_is_caught() {
    let (f, mut l) = six_line_ledger();
    // Another ledger, signed by the same trusted reviewer.
    let other = f.path().join("other.jsonl");
    append_rejects(&other, &f.a, 5);
    let theirs = lines(&std::fs::read(&other).unwrap());
    l[4] = theirs[4].clone();
    let r = verify(&f, &join_lines(&l));
    assert_tampered(&r, 5, "another ledger");
}

#[test]
fn an_entry_re_signed_by_an_untrusted_key_is_caught() {
    let (f, mut l) = six_line_ledger();
    let mallory = Reviewer::generate("Mallory").unwrap();
    // Mallory edits the last entry and signs it properly with her own key.
    let mut e = ledger::parse_line(&l[5]).unwrap();
    e.reason = Some("changed".into());
    e.reviewer.key = mallory.public_openssh();
    e.reviewer.fingerprint = mallory.fingerprint();
    e.reviewer.name = NAME_A.into();
    e.sig.clear();
    e.sig = mallory.sign(&e.signed_bytes().unwrap()).unwrap();
    l[5] = e.to_line().unwrap();
    let r = verify(&f, &join_lines(&l));
    assert_tampered(&r, 6, "not in allowed_signers");
}

#[test]
fn deleting_the_last_entries_is_caught_by_a_checkpoint() {
    let (f, l) = six_line_ledger();
    let head = Head::of(&join_lines(&l));
    let shorter = join_lines(&l[..4]);
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
    l2.swap(4, 5);
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
    let (f, mut l) = six_line_ledger();
    let s = String::from_utf8(l[1].clone()).unwrap();
    l[1] = s.replacen("{", "{ ", 1).into_bytes();
    let r = verify(&f, &join_lines(&l));
    assert_tampered(&r, 2, "canonical");
}

#[test]
fn garbage_inserted_between_entries_is_caught() {
    let (f, mut l) = six_line_ledger();
    l.insert(3, b"not json at all".to_vec());
    let r = verify(&f, &join_lines(&l));
    assert_tampered(&r, 4, "no recovered entry accounts for them");
}

#[test]
fn a_key_missing_from_allowed_signers_is_not_trusted() {
    let (f, l) = six_line_ledger();
    let only_b = AllowedSigners::parse(&f.b.allowed_signers_line());
    let r = ledger::verify(&join_lines(&l), &only_b, None);
    assert_tampered(&r, 1, "not in allowed_signers");
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
    let (f, l) = six_line_ledger();
    let e = ledger::parse_line(&l[2]).unwrap();
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
