use super::*;
use proptest::prelude::*;
use serde_json::json;

/// What [`claimed_lines`] decides, the plain way: every line against
/// every claim.
fn claimed_lines_by_hand(lines: &[RawLine], claims: &[Option<(u64, u64)>]) -> Vec<bool> {
    let mut kept: Vec<(usize, usize)> = Vec::new();
    for (n, l) in lines.iter().enumerate().rev().filter(|(_, l)| l.complete) {
        let Some((offset, length)) = claims[n] else {
            continue;
        };
        if kept.iter().any(|(s, e)| l.start >= *s && l.end <= *e) {
            continue;
        }
        // Only a claim of the bytes right before its own line counts.
        if offset + length + 1 != l.start as u64 {
            continue;
        }
        let start = offset as usize;
        kept.push((start, start.saturating_add(length as usize)));
    }
    lines
        .iter()
        .map(|l| kept.iter().any(|(s, e)| l.start >= *s && l.end <= *e))
        .collect()
}

proptest! {
    #[test]
    fn claims_are_honoured_as_every_line_against_every_claim_would(
        spans in prop::collection::vec((1usize..40, any::<bool>()), 1..60),
        claims in prop::collection::vec(
            prop::option::weighted(0.4, (0u64..1500, 0u64..400, any::<bool>())),
            60,
        ),
    ) {
        let mut at = 0;
        let lines: Vec<RawLine> = spans
            .iter()
            .map(|&(len, complete)| {
                let l = RawLine { start: at, end: at + len, complete };
                at += len + 1;
                l
            })
            .collect();
        // Half the claims end right before their line, as real ones do.
        let claims: Vec<Option<(u64, u64)>> = claims[..lines.len()]
            .iter()
            .zip(&lines)
            .map(|(c, l)| c.map(|(offset, length, fits)| {
                let offset = offset.min(l.start as u64);
                if fits { (offset, (l.start as u64 - offset).saturating_sub(1)) } else { (offset, length) }
            }))
            .collect();
        let claims = &claims[..];
        let fast = claimed_lines(&lines, |n| {
            claims[n].map(|(offset, length)| Discarded {
                offset,
                length,
                sha256: String::new(),
            })
        });
        prop_assert_eq!(fast, claimed_lines_by_hand(&lines, claims));
    }
}

#[test]
fn canonical_form_sorts_keys_and_has_no_whitespace() {
    let v = json!({"b": 1, "a": {"z": [1, 2], "y": "x\ny\u{1}\"é"}});
    let c = String::from_utf8(canonical(&v).unwrap()).unwrap();
    assert_eq!(c, r#"{"a":{"y":"x\ny\u0001\"é","z":[1,2]},"b":1}"#);
}

#[test]
fn canonical_form_rejects_floats_and_unsafe_integers() {
    assert!(matches!(
        canonical(&json!({"a": 1.5})),
        Err(CanonicalError::Float(_))
    ));
    assert!(matches!(
        canonical(&json!({"a": 1u64 << 53})),
        Err(CanonicalError::BigInteger(_))
    ));
    assert!(canonical(&json!({"a": MAX_SAFE_INTEGER})).is_ok());
}

#[test]
fn a_line_that_is_not_canonical_is_not_an_entry() {
    assert_eq!(
        parse_line(b"{\"a\": 1}"),
        Err(LineError::NotCanonical(
            "keys unsorted, extra whitespace or escapes differ".into()
        ))
    );
    assert_eq!(parse_line(b"{\"a\":1"), Err(LineError::NotJson));
    assert!(matches!(
        parse_line(b"{\"a\":1}"),
        Err(LineError::NotEntry(_))
    ));
}

#[test]
fn a_checkpoint_argument_is_size_colon_hash() {
    let h = Head::of(b"abc\n");
    assert_eq!(Head::parse(&h.to_arg()), Ok(h));
    assert!(Head::parse("12").is_err());
    assert!(Head::parse("x:00").is_err());
}

#[test]
fn split_lines_marks_a_final_line_without_newline_incomplete() {
    let l = split_lines(b"a\nbc\nd");
    assert_eq!(l.len(), 3);
    assert!(l[0].complete && l[1].complete && !l[2].complete);
    assert_eq!((l[1].start, l[1].end), (2, 4));
}

#[test]
fn signed_bytes_leave_out_the_signature() {
    let mut e = Entry::draft(EntryKind::Header);
    e.sig = "AAAA".into();
    let s = String::from_utf8(e.signed_bytes().unwrap()).unwrap();
    assert!(!s.contains("\"sig\""));
    assert!(
        String::from_utf8(e.to_line().unwrap())
            .unwrap()
            .contains("\"sig\":\"AAAA\"")
    );
}
