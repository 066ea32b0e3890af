//! The crypto alone: the bytes an entry's signature covers and whether it
//! verifies under the key the entry names.

use super::*;
use serde_json::Value;

/// Whether an entry's signature verifies under the key it names (the
/// crypto alone; who may sign is decided in order, as trust changes).
pub(in crate::ledger) fn crypto_problem(
    entry: &Entry,
    raw: &[u8],
    key: &Result<ssh_key::PublicKey, String>,
) -> Option<String> {
    let key = match key {
        Ok(k) => k,
        Err(problem) => return Some(problem.clone()),
    };
    let fp = &entry.reviewer.fingerprint;
    crate::keys::verify_signature(key, &signed_message(raw), &entry.sig)
        .err()
        .map(|e| {
            format!("signature by {fp} does not verify ({e}): the entry was changed after signing")
        })
}

/// The key an entry names, checked against the fingerprint it records.
pub(in crate::ledger) fn named_key(
    key: &str,
    fingerprint: &str,
) -> Result<ssh_key::PublicKey, String> {
    let k = ssh_key::PublicKey::from_openssh(key)
        .map_err(|_| format!("reviewer key '{}' is not an OpenSSH public key", short(key)))?;
    let fp = crate::keys::fingerprint_of(&k);
    if fp != fingerprint {
        return Err(format!(
            "the recorded fingerprint {} is not the key's ({fp})",
            crate::text::printable(fingerprint, 80)
        ));
    }
    Ok(k)
}

/// The bytes an entry's signature covers: the line's own fields minus
/// `sig`, canonical.
pub(in crate::ledger) fn signed_message(raw: &[u8]) -> Vec<u8> {
    without_sig(raw).unwrap_or_else(|| {
        serde_json::from_slice::<Value>(raw)
            .ok()
            .and_then(|mut v| {
                v.as_object_mut().map(|m| m.remove("sig"));
                canonical(&v).ok()
            })
            .unwrap_or_default()
    })
}

/// A canonical line with its top-level `,"sig":"…"` member cut out: what
/// re-canonicalising it without `sig` gives (keys are sorted and `sig` is
/// never first, there is no whitespace, and the signature is base64, with no
/// escapes), without parsing it a second time. `None` when the member is not
/// found as expected; the caller then parses.
pub(in crate::ledger) fn without_sig(raw: &[u8]) -> Option<Vec<u8>> {
    const MEMBER: &[u8] = b",\"sig\":\"";
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, &b) in raw.iter().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.checked_sub(1)?,
            b',' if depth == 1 && raw[i..].starts_with(MEMBER) => {
                let value = i + MEMBER.len();
                let close = value + raw[value..].iter().position(|&c| c == b'"')?;
                if raw[value..close].contains(&b'\\') {
                    return None;
                }
                let mut out = Vec::with_capacity(raw.len());
                out.extend_from_slice(&raw[..i]);
                out.extend_from_slice(&raw[close + 1..]);
                return Some(out);
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn the_signed_message_is_cut_from_the_line_as_reparsing_would_make_it() {
        let item = crate::tui::testing::queue().remove(0);
        let mut lines = Vec::new();
        for (i, reason) in [
            "plain",
            r#"a reason that says ,"sig":"AAAA" and {"nested":["x"]}"#,
            "back\\slash \" quote",
        ]
        .iter()
        .enumerate()
        {
            let mut e = Entry::draft(EntryKind::Reject);
            e.describe_item(&item);
            e.reason = Some(reason.to_string());
            e.seq = i as u64;
            e.sig = "U1NIU0lHAAAAAQ+/=".into();
            lines.push((e.to_line().unwrap(), e));
        }
        let mut header = Entry::draft(EntryKind::Header);
        header.sig = "QUJD".into();
        lines.push((header.to_line().unwrap(), header));
        for (line, entry) in &lines {
            let reparsed = {
                let mut v: Value = serde_json::from_slice(line).unwrap();
                v.as_object_mut().unwrap().remove("sig");
                canonical(&v).unwrap()
            };
            assert_eq!(without_sig(line).as_deref(), Some(reparsed.as_slice()));
            assert_eq!(signed_message(line), entry.signed_bytes().unwrap());
        }
        // Not where it should be: left to the parsing route.
        assert_eq!(without_sig(br#"{"a":{"b":1,"sig":"x"}}"#), None);
        assert_eq!(without_sig(br#"{"a":1,"sig":"x\"y"}"#), None);
    }
}
