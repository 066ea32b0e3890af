//! ICC profiles: the description, creator and dates a profile carries.

use super::*;
use crate::text::printable;

/// "'sRGB built-in', 588 bytes, created 2021-03-04 05:06:07".
pub(super) fn icc_summary(p: &[u8]) -> String {
    let mut parts = Vec::new();
    if let Some(desc) = icc_description(p) {
        parts.push(format!("'{}'", printable(desc.trim(), 50)));
    }
    parts.push(format!("{} bytes", p.len()));
    let date: Vec<u16> = (0..6).filter_map(|i| be16(p, 24 + 2 * i)).collect();
    if let [y, mo, d, h, mi, s] = date[..]
        && y != 0
    {
        parts.push(format!(
            "created {y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}"
        ));
    }
    parts.join(", ")
}

/// The profile's description tag (`desc`), if readable.
pub(super) fn icc_description(p: &[u8]) -> Option<String> {
    let count = be32(p, 128)? as usize;
    for i in 0..count.min(256) {
        let entry = 132 + 12 * i;
        if slice(p, entry, 4)? != b"desc" {
            continue;
        }
        let offset = be32(p, entry + 4)? as usize;
        let size = be32(p, entry + 8)? as usize;
        let tag = slice(p, offset, size)?;
        return match tag.get(..4)? {
            b"desc" => {
                let n = be32(tag, 8)? as usize;
                let s = slice(tag, 12, n).or_else(|| tag.get(12..))?;
                let s = s.split(|&x| x == 0).next().unwrap_or_default();
                Some(latin1(s))
            }
            b"mluc" => {
                let len = be32(tag, 20)? as usize;
                let at = be32(tag, 24)? as usize;
                let units: Vec<u16> = slice(tag, at, len)?
                    .chunks_exact(2)
                    .take(256)
                    .map(|u| u16::from_be_bytes([u[0], u[1]]))
                    .collect();
                Some(String::from_utf16_lossy(&units))
            }
            b"text" => Some(latin1(tag.get(8..)?.split(|&x| x == 0).next()?)),
            _ => None,
        };
    }
    None
}
