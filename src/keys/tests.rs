use super::*;

#[test]
fn a_principal_is_derived_from_the_name_without_spaces() {
    assert_eq!(principal_for("Dr A. Reviewer"), "dr-a-reviewer@veil");
    assert_eq!(principal_for("  Élise  O'Neil "), "lise-o-neil@veil");
    assert_eq!(principal_for("!!!"), "reviewer@veil");
}

#[test]
fn a_signature_verifies_only_over_the_same_bytes_and_key() {
    let a = Reviewer::generate("A").unwrap();
    let b = Reviewer::generate("B").unwrap();
    let sig = a.sign(b"entry").unwrap();
    assert!(!sig.contains('\n'));
    assert_eq!(verify_signature(a.public_key(), b"entry", &sig), Ok(()));
    assert_eq!(
        verify_signature(a.public_key(), b"entrx", &sig),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_signature(b.public_key(), b"entry", &sig),
        Err(SignatureError::WrongKey)
    );
    assert_eq!(
        verify_signature(a.public_key(), b"entry", "not base64!"),
        Err(SignatureError::Malformed)
    );
}

#[test]
fn allowed_signers_trusts_keys_for_the_ledger_namespace_only() {
    let a = Reviewer::generate("A").unwrap();
    let b = Reviewer::generate("B").unwrap();
    let c = Reviewer::generate("C").unwrap();
    let text = format!(
        "# comment\n{}\nb@x namespaces=\"git\" {}\nc@x,other@x namespaces=\"veil-*\" {} trailing comment\nd@x cert-authority {}\n",
        a.allowed_signers_line(),
        b.public_openssh(),
        c.public_openssh(),
        c.public_openssh()
    );
    let s = AllowedSigners::parse(&text);
    assert!(s.contains(a.public_key()));
    assert!(!s.contains(b.public_key()), "trusted for git only");
    let tc = s.find(c.public_key()).unwrap();
    assert_eq!(tc.principals, vec!["c@x", "other@x"]);
    assert_eq!(s.ignored.len(), 1);
    assert!(s.ignored[0].1.contains("cert-authority"));
}
