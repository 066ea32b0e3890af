//! OpenSSH `allowed_signers` files: principals, keys and validity
//! windows, parsed as ssh-keygen reads them (quotes, options, patterns);
//! a line that cannot be read is kept as a reason, never a panic.

use super::*;
use ssh_key::PublicKey;

/// One trusted key from `allowed_signers`.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    pub principals: Vec<String>,
    pub key: PublicKey,
    /// 1-based line in the file.
    pub line: usize,
    /// `valid-after=` / `valid-before=`, as `ssh-keygen -Y verify` honours them.
    pub validity: Validity,
}

/// When a key may sign: both ends inclusive, as OpenSSH's sshsig checks them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Validity {
    pub after: Option<jiff::Timestamp>,
    pub before: Option<jiff::Timestamp>,
}

impl Validity {
    /// Why a signature made at `t` is outside this window, if it is.
    pub fn check(&self, t: jiff::Timestamp) -> Result<(), String> {
        if let Some(a) = self.after
            && t < a
        {
            return Err(format!("the key is not valid until {a}"));
        }
        if let Some(b) = self.before
            && t > b
        {
            return Err(format!("the key expired at {b}"));
        }
        Ok(())
    }
}

/// An `allowed_signers` time, as OpenSSH reads it: `YYYYMMDD[HHMM[SS]]`, in
/// UTC with a trailing `Z` and in the system's local time zone without.
/// `before` is an end of window: a date alone then means the end of that day
/// is not included (OpenSSH takes the date at 00:00).
pub(crate) fn parse_ssh_time(s: &str) -> Result<jiff::Timestamp, String> {
    let (digits, utc) = match s.strip_suffix(['Z', 'z']) {
        Some(d) => (d, true),
        None => (s, false),
    };
    let bad = || format!("'{s}' is not a time OpenSSH reads (YYYYMMDD[HHMM[SS]][Z])");
    if !digits.bytes().all(|b| b.is_ascii_digit()) || ![8, 12, 14].contains(&digits.len()) {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| digits.get(r).and_then(|d| d.parse::<i32>().ok());
    let year = num(0..4).ok_or_else(bad)?;
    let month = num(4..6).ok_or_else(bad)?;
    let day = num(6..8).ok_or_else(bad)?;
    let hour = num(8..10).unwrap_or(0);
    let minute = num(10..12).unwrap_or(0);
    let second = num(12..14).unwrap_or(0);
    let as_i8 = |v: i32| i8::try_from(v).map_err(|_| bad());
    let civil = jiff::civil::DateTime::new(
        i16::try_from(year).map_err(|_| bad())?,
        as_i8(month)?,
        as_i8(day)?,
        as_i8(hour)?,
        as_i8(minute)?,
        as_i8(second)?,
        0,
    )
    .map_err(|_| bad())?;
    let tz = if utc {
        jiff::tz::TimeZone::UTC
    } else {
        jiff::tz::TimeZone::system()
    };
    civil.to_zoned(tz).map(|z| z.timestamp()).map_err(|_| bad())
}

/// An `allowed_signers` time for a timestamp: `YYYYMMDDHHMMSSZ`.
pub(crate) fn format_ssh_time(t: jiff::Timestamp) -> String {
    t.strftime("%Y%m%d%H%M%SZ").to_string()
}

/// The reviewers a workspace trusts, parsed from OpenSSH `allowed_signers`
/// text. Only keys whose `namespaces=` (if any) include [`NAMESPACE`] are
/// trusted for the ledger; `cert-authority` lines are not supported and
/// are listed in `ignored`.
#[derive(Debug, Clone, Default)]
pub struct AllowedSigners {
    pub keys: Vec<TrustedKey>,
    /// Lines not used, with the reason: `(line, reason)`.
    pub ignored: Vec<(usize, String)>,
}

impl AllowedSigners {
    /// Parse `allowed_signers` text. Never fails: unusable lines are ignored
    /// with a reason, so `verify` can report them.
    pub fn parse(text: &str) -> AllowedSigners {
        let mut out = AllowedSigners::default();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match parse_signer_line(line) {
                Ok(Some((principals, key, validity))) => out.keys.push(TrustedKey {
                    principals,
                    key,
                    line: i + 1,
                    validity,
                }),
                Ok(None) => {}
                Err(reason) => out.ignored.push((i + 1, reason)),
            }
        }
        out
    }

    /// The trusted entry for `key`, if any.
    pub fn find(&self, key: &PublicKey) -> Option<&TrustedKey> {
        self.keys
            .iter()
            .find(|t| t.key.key_data() == key.key_data())
    }

    /// True when `key` is one of the listed keys.
    pub fn contains(&self, key: &PublicKey) -> bool {
        self.find(key).is_some()
    }
}

/// `Ok(None)` for a line trusted for other namespaces only.
pub(super) type SignerLine = (Vec<String>, PublicKey, Validity);

/// One `allowed_signers` line: `None` for a comment or blank line, an error saying why it cannot be read.
pub(super) fn parse_signer_line(line: &str) -> Result<Option<SignerLine>, String> {
    let tokens = tokenize(line);
    let Some(key_at) = tokens.iter().position(|t| is_key_type(t)) else {
        return Err("no key type (ssh-ed25519, ...) on the line".into());
    };
    if key_at == 0 {
        return Err("no principal before the key".into());
    }
    let principals: Vec<String> = tokens[0]
        .trim_matches('"')
        .split(',')
        .map(str::to_string)
        .collect();
    let mut ns_ok = true;
    let mut validity = Validity::default();
    for opt in tokens[1..key_at].iter().flat_map(|t| split_options(t)) {
        let lower = opt.to_ascii_lowercase();
        if lower == "cert-authority" {
            return Err("cert-authority lines are not supported".into());
        }
        if let Some(v) = lower.strip_prefix("namespaces=") {
            let v = v.trim_matches('"');
            ns_ok = v.split(',').any(|p| pattern_matches(p.trim(), NAMESPACE));
        } else if let Some(v) = lower.strip_prefix("valid-after=") {
            validity.after = Some(parse_ssh_time(v.trim_matches('"'))?);
        } else if let Some(v) = lower.strip_prefix("valid-before=") {
            validity.before = Some(parse_ssh_time(v.trim_matches('"'))?);
        } else if !lower.is_empty() {
            // OpenSSH refuses a line with an option it does not know: so do we.
            return Err(format!(
                "option '{}' is not one OpenSSH's allowed_signers knows",
                crate::text::printable(&opt, 40)
            ));
        }
    }
    let Some(b64) = tokens.get(key_at + 1) else {
        return Err("no key after the key type".into());
    };
    let key = PublicKey::from_openssh(&format!("{} {}", tokens[key_at], b64))
        .map_err(|e| format!("unreadable key: {e}"))?;
    Ok(ns_ok.then_some((principals, key, validity)))
}

/// True for an OpenSSH public key type name.
pub(super) fn is_key_type(t: &str) -> bool {
    t.starts_with("ssh-") || t.starts_with("ecdsa-") || t.starts_with("sk-")
}

/// Split on spaces outside double quotes.
pub(super) fn tokenize(line: &str) -> Vec<String> {
    split_outside_quotes(line, char::is_whitespace)
        .into_iter()
        .filter(|t| !t.is_empty())
        .collect()
}

/// Split an options token on commas outside quotes.
pub(super) fn split_options(t: &str) -> Vec<String> {
    split_outside_quotes(t, |c| c == ',')
}

/// Split `s` at the characters `sep` accepts outside double quotes (the
/// quotes are kept in the pieces), keeping empty pieces.
pub(super) fn split_outside_quotes(s: &str, sep: impl Fn(char) -> bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        if c == '"' {
            quoted = !quoted;
        } else if !quoted && sep(c) {
            out.push(std::mem::take(&mut cur));
            continue;
        }
        cur.push(c);
    }
    out.push(cur);
    out
}

/// OpenSSH-style pattern with `*` and `?`.
pub(super) fn pattern_matches(pattern: &str, s: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], s) || (!s.is_empty() && go(p, &s[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &s[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), s.as_bytes())
}
