//! XMP packets (and extended XMP): properties listed, bounded in count
//! and depth, compressed packets inflated under the file's budget.

use super::*;
use std::collections::HashMap;

/// Properties of an XMP packet, by a tolerant scan (no XML validation):
/// element text and `prefix:Name="value"` attributes, in order of first
/// appearance, repeated values (rdf:li) joined with "; ".
pub(super) fn xmp_properties(text: &str) -> (Vec<(String, String)>, bool) {
    let b = text.as_bytes();
    let mut props: Vec<(String, String)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut stack: Vec<&str> = Vec::new();
    let mut complete = true;
    let mut add = |name: &str, value: String| {
        let value = value.trim().to_string();
        if value.is_empty() {
            return;
        }
        match index.get(name) {
            Some(&i) => {
                let v = &mut props[i].1;
                if v.len() < 400 {
                    v.push_str("; ");
                    v.push_str(&value);
                }
            }
            None if props.len() < MAX_XMP_PROPERTIES => {
                index.insert(name.to_string(), props.len());
                props.push((name.to_string(), value));
            }
            None => {}
        }
    };
    let mut pos = 0;
    while pos < b.len() {
        let Some(lt) = find(b, b"<", pos) else {
            break;
        };
        let content = &text[pos..lt];
        if !content.trim().is_empty()
            && let Some(p) = stack.iter().rev().find(|n| is_xmp_property(n))
        {
            add(p, unescape(content));
        }
        let rest = &b[lt..];
        if rest.starts_with(b"<!--") {
            pos = find(b, b"-->", lt).map_or(b.len(), |e| e + 3);
            continue;
        }
        if rest.starts_with(b"<![CDATA[") {
            let end = find(b, b"]]>", lt).unwrap_or(b.len());
            if let Some(p) = stack.iter().rev().find(|n| is_xmp_property(n)) {
                add(p, text[lt + 9..end.max(lt + 9)].to_string());
            }
            pos = end.saturating_add(3);
            continue;
        }
        let Some(gt) = tag_end(b, lt + 1) else {
            complete = false;
            break;
        };
        pos = gt + 1;
        let inner = &text[lt + 1..gt];
        if inner.starts_with('?') || inner.starts_with('!') {
            continue;
        }
        if let Some(name) = inner.strip_prefix('/') {
            let name = name.trim();
            if let Some(i) = stack.iter().rposition(|n| *n == name) {
                stack.truncate(i);
            }
            continue;
        }
        let self_closing = inner.ends_with('/');
        let inner = inner.trim_end_matches('/');
        let name_end = inner
            .find(|ch: char| ch.is_ascii_whitespace())
            .unwrap_or(inner.len());
        let name = &inner[..name_end];
        for (attr, value) in attributes(&inner[name_end..]) {
            if is_xmp_property(attr) {
                add(attr, unescape(value));
            }
        }
        if !self_closing {
            if stack.len() >= MAX_XMP_DEPTH {
                complete = false;
                break;
            }
            stack.push(name);
        }
    }
    (props, complete)
}

/// Where `needle` starts in `hay` at or after `from`.
pub(super) fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// The `>` closing a tag, skipping quoted attribute values.
pub(super) fn tag_end(b: &[u8], from: usize) -> Option<usize> {
    let mut quote = None;
    for (i, &x) in b.iter().enumerate().skip(from) {
        match (quote, x) {
            (None, b'"' | b'\'') => quote = Some(x),
            (Some(q), _) if x == q => quote = None,
            (None, b'>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// The `name="value"` attributes of an XML start tag.
pub(super) fn attributes(s: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = s;
    loop {
        rest = rest.trim_start();
        let Some(eq) = rest.find('=') else { break };
        let name = rest[..eq].trim();
        let after = rest[eq + 1..].trim_start();
        let Some(q) = after.chars().next().filter(|ch| *ch == '"' || *ch == '\'') else {
            break;
        };
        let Some(close) = after[1..].find(q) else {
            break;
        };
        out.push((name, &after[1..1 + close]));
        rest = &after[close + 2..];
    }
    out
}

/// True for a qualified name that is a property, not RDF structure.
pub(super) fn is_xmp_property(name: &str) -> bool {
    match name.split_once(':') {
        Some((prefix, local)) => {
            !local.is_empty() && !matches!(prefix, "rdf" | "x" | "xmlns" | "xml" | "")
        }
        None => false,
    }
}

/// XML entities and character references decoded.
pub(super) fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let semi = after.find(';').filter(|&i| i <= 10);
        let replaced = semi.and_then(|i| {
            let ch = match &after[1..i] {
                "lt" => '<',
                "gt" => '>',
                "amp" => '&',
                "quot" => '"',
                "apos" => '\'',
                e => {
                    let code = if let Some(h) = e.strip_prefix("#x").or(e.strip_prefix("#X")) {
                        u32::from_str_radix(h, 16).ok()
                    } else {
                        e.strip_prefix('#').and_then(|d| d.parse().ok())
                    };
                    code.and_then(char::from_u32)?
                }
            };
            Some((ch, i + 1))
        });
        match replaced {
            Some((ch, used)) => {
                out.push(ch);
                rest = &after[used..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// List an XMP packet's properties under `group`.
pub(super) fn xmp_packet(packet: &[u8], group: &str, c: &mut Collector) {
    let text = String::from_utf8_lossy(packet);
    let (props, complete) = xmp_properties(&text);
    if !complete {
        c.warn(format!(
            "XMP packet of {} bytes is malformed; listed what could be read",
            packet.len()
        ));
    }
    if props.is_empty() {
        c.add(
            group,
            "XMP",
            format!("{} bytes, no properties recognised", packet.len()),
        );
    }
    for (name, value) in props {
        c.add(group, name, preview(&value));
    }
}
