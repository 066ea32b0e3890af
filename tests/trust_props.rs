//! Random edits, deletions, insertions and re-signings by a key that is
//! enrolled but is not the administrator's never give a clean `verify`
//! against the auditor's trust and checkpoint unless the ledger is
//! byte-identical to the honest one; without the checkpoint, only an
//! honest prefix, or a last entry that its (enrolled) signer could have
//! written, verifies clean.

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

mod ledger_support;

use ledger_support::*;
use proptest::prelude::*;
use veil::item::ItemState;
use veil::ledger;

#[derive(Debug, Clone)]
enum Edit {
    Delete(prop::sample::Index),
    Duplicate(prop::sample::Index, prop::sample::Index),
    Swap(prop::sample::Index),
    FlipByte(prop::sample::Index, u8),
    InsertJunk(prop::sample::Index),
    /// Change a field of a line that is not the last and re-sign it with B.
    ResignMiddle(prop::sample::Index),
    /// Re-sign a line of the administrator's set-up with B, and every line
    /// after it, so that the chain holds.
    ResignFrom(prop::sample::Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    use prop::sample::Index;
    prop_oneof![
        any::<Index>().prop_map(Edit::Delete),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::Duplicate(a, b)),
        any::<Index>().prop_map(Edit::Swap),
        (any::<Index>(), 1u8..=255).prop_map(|(i, x)| Edit::FlipByte(i, x)),
        any::<Index>().prop_map(Edit::InsertJunk),
        any::<Index>().prop_map(Edit::ResignMiddle),
        any::<Index>().prop_map(Edit::ResignFrom),
    ]
}

/// The honest ledger: set-up, two rejects by A, one release by B.
fn honest() -> (Fixture, Vec<u8>) {
    let f = Fixture::new();
    append_rejects(&f.ws.ledger_path(), &f.a, 2);
    let item = f.add_item(1, &[face()], true, ItemState::Ready);
    veil::release::approve(&f.ws, &f.b, &item.id, &[]).unwrap();
    let bytes = f.ledger_bytes();
    (f, bytes)
}

fn apply(f: &Fixture, bytes: &[u8], e: &Edit) -> Vec<u8> {
    let mut l = lines(bytes);
    let n = l.len();
    match e {
        Edit::Delete(i) => {
            l.remove(i.index(n));
        }
        Edit::Duplicate(i, j) => {
            let copy = l[i.index(n)].clone();
            l.insert(j.index(n + 1), copy);
        }
        Edit::Swap(i) => {
            let k = i.index(n - 1);
            l.swap(k, k + 1);
        }
        Edit::FlipByte(i, x) => {
            let mut b = bytes.to_vec();
            let k = i.index(b.len());
            b[k] ^= x;
            return b;
        }
        Edit::InsertJunk(i) => l.insert(i.index(n + 1), b"{\"kind\":\"reject\"}".to_vec()),
        Edit::ResignMiddle(i) => {
            let k = i.index(n - 1) + 1;
            if ledger::parse_line(&l[k - 1]).is_err() {
                return bytes.to_vec();
            }
            return resign(bytes, k, &f.b, |e| e.ts = "2030-01-01T00:00:00Z".into());
        }
        Edit::ResignFrom(i) => {
            let k = i.index(SETUP_LINES);
            for at in k..n {
                let Ok(mut e) = ledger::parse_line(&l[at]) else {
                    break;
                };
                if at > 0 && ledger::parse_line(&l[at - 1]).is_err() {
                    break;
                }
                if at == k {
                    e.tool = "veil 9.9.9".into();
                }
                let line = if at == 0 {
                    let mut e = e;
                    e.reviewer.key = f.b.public_openssh();
                    e.reviewer.fingerprint = f.b.fingerprint();
                    e.sig.clear();
                    e.sig = f.b.sign(&e.signed_bytes().unwrap()).unwrap();
                    e.to_line().unwrap()
                } else {
                    let mut line = sign_as(&f.b, e.clone(), &l[at - 1]);
                    // Keep what the entry said, under the new chain.
                    let mut re = ledger::parse_line(&line).unwrap();
                    re.ts = e.ts.clone();
                    re.sig.clear();
                    re.sig = f.b.sign(&re.signed_bytes().unwrap()).unwrap();
                    line = re.to_line().unwrap();
                    line
                };
                l[at] = line;
            }
        }
    }
    join_lines(&l)
}

/// True when `bytes` is `honest` or a prefix of it that ends at a line.
fn is_honest(bytes: &[u8], honest: &[u8]) -> bool {
    honest.starts_with(bytes) && (bytes.is_empty() || bytes.ends_with(b"\n"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn no_edit_by_an_enrolled_non_administrator_key_verifies_clean_unless_the_ledger_is_honest(
        edits in prop::collection::vec(edit(), 1..4)
    ) {
        let (f, honest) = honest();
        let mut bytes = honest.clone();
        for e in &edits {
            if lines(&bytes).len() < 2 {
                break;
            }
            bytes = apply(&f, &bytes, e);
        }
        // With the auditor's checkpoint of the honest ledger, only the
        // honest ledger itself verifies clean.
        let checkpoint = ledger::Head::of(&honest);
        let r = ledger::verify(&bytes, &f.anchored(), Some(&checkpoint));
        if bytes != honest {
            prop_assert!(r.worst().is_some(), "{:?} verified clean past the checkpoint:\n{}", edits, problems(&r));
        }
        // Without one, the chain cannot tell an honest prefix from the
        // ledger, nor the last entry from one its signer could have written:
        // everything else is caught.
        let r = ledger::verify(&bytes, &f.anchored(), None);
        let honest_lines = lines(&honest);
        let last_by_b = lines(&bytes)
            .last()
            .filter(|l| !honest_lines.contains(l))
            .and_then(|l| ledger::parse_line(l).ok())
            .is_some_and(|e| e.reviewer.fingerprint == f.b.fingerprint());
        if !is_honest(&bytes, &honest) && !last_by_b {
            prop_assert!(r.worst().is_some(), "{:?} verified clean:\n{}", edits, problems(&r));
        }
    }
}
