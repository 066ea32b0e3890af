//! A bounded walk over a DICOM Part 10 file's structure, before any parser
//! allocates from it.
//!
//! Written by hand because no DICOM crate bounds its input: dicom-parser
//! reserves and zero-fills whatever length an element claims (a 4 GiB
//! claim in a 1 KiB file touches 4 GiB), and dicom-object builds nested
//! sequences recursively (10,000 levels overflow the stack). This walk
//! reads only tags and lengths, keeps every length inside its container
//! and the file, caps nesting and element counts, and so lets dicom-object
//! parse only files whose every allocation is bounded by the file's size.
//!
//! It follows the encoding rules of PS3.5 §7 (explicit and implicit VR
//! little endian, sequences and items of defined or undefined length,
//! encapsulated pixel data) and nothing else: the file meta group is
//! always explicit VR little endian, big endian and deflated data sets are
//! refused by name.

use dicom_core::Tag;
use dicom_core::dictionary::{DataDictionary, VirtualVr};
use dicom_dictionary_std::StandardDataDictionary;

/// Deepest nesting of sequences accepted. Real files nest a handful deep.
pub const MAX_DEPTH: usize = 16;
/// Most data elements (all levels) accepted in one file. Real files hold
/// a few thousand; each element costs the parser far more than its bytes.
pub const MAX_ELEMENTS: usize = 100_000;

const UNDEFINED: u32 = 0xFFFF_FFFF;
const ITEM: (u16, u16) = (0xFFFE, 0xE000);
const ITEM_END: (u16, u16) = (0xFFFE, 0xE00D);
const SEQUENCE_END: (u16, u16) = (0xFFFE, 0xE0DD);
const PIXEL_DATA: (u16, u16) = (0x7FE0, 0x0010);

/// Implicit VR Little Endian.
pub(crate) const IMPLICIT_LE: &str = "1.2.840.10008.1.2";
/// Explicit VR Little Endian.
pub(crate) const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";
const EXPLICIT_BE: &str = "1.2.840.10008.1.2.2";
const DEFLATED_LE: &str = "1.2.840.10008.1.2.1.99";

/// How an error for a transfer syntax the walk does not follow begins
/// (the caller reports it as unsupported, not corrupt).
pub(crate) const UNSUPPORTED: &str = "transfer syntax not read: ";

/// What the walk learnt about a file whose structure holds together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The transfer syntax UID named in the file meta group.
    pub transfer_syntax: String,
    /// Data elements at every level, meta group included.
    pub elements: usize,
    /// Deepest sequence nesting seen (0: none).
    pub depth: usize,
    /// Elements of the file meta group (group 0002).
    pub meta_elements: usize,
}

/// Is `bytes` a DICOM Part 10 file (128-byte preamble, then `DICM`)?
pub fn is_dicom(bytes: &[u8]) -> bool {
    bytes.get(128..132) == Some(b"DICM")
}

/// Walk the whole file; an error names the byte offset and what is wrong.
pub fn scan(bytes: &[u8]) -> Result<Layout, String> {
    if !is_dicom(bytes) {
        return Err("no DICOM preamble (128 bytes, then 'DICM')".into());
    }
    let mut w = Walk {
        b: bytes,
        elements: 0,
        depth: 0,
        dict: StandardDataDictionary,
    };
    let (transfer_syntax, start) = w.meta(132)?;
    let meta_elements = w.elements;
    let explicit = match transfer_syntax.as_str() {
        IMPLICIT_LE => false,
        EXPLICIT_BE => return Err(format!("{UNSUPPORTED}Explicit VR Big Endian (retired)")),
        DEFLATED_LE => return Err(format!("{UNSUPPORTED}Deflated Explicit VR Little Endian")),
        _ => true,
    };
    w.dataset(start, Some(bytes.len()), explicit, 0)?;
    Ok(Layout {
        transfer_syntax,
        elements: w.elements,
        depth: w.depth,
        meta_elements,
    })
}

struct Walk<'a> {
    b: &'a [u8],
    elements: usize,
    depth: usize,
    dict: StandardDataDictionary,
}

/// Value representations whose length field is 4 bytes in explicit VR.
const LONG_VRS: [&[u8; 2]; 13] = [
    b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV",
];
const SHORT_VRS: [&[u8; 2]; 21] = [
    b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS", b"LO", b"LT", b"PN",
    b"SH", b"SL", b"SS", b"ST", b"TM", b"UI", b"UL", b"US",
];

fn tag_name(t: (u16, u16)) -> String {
    format!("({:04X},{:04X})", t.0, t.1)
}

impl Walk<'_> {
    fn u16_at(&self, at: usize) -> Result<u16, String> {
        self.b
            .get(at..at + 2)
            .map(|s| u16::from_le_bytes([s[0], s[1]]))
            .ok_or_else(|| format!("truncated at byte {at}"))
    }

    fn u32_at(&self, at: usize) -> Result<u32, String> {
        self.b
            .get(at..at + 4)
            .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
            .ok_or_else(|| format!("truncated at byte {at}"))
    }

    fn tag_at(&self, at: usize) -> Result<(u16, u16), String> {
        Ok((self.u16_at(at)?, self.u16_at(at + 2)?))
    }

    fn count(&mut self, at: usize) -> Result<(), String> {
        self.elements += 1;
        if self.elements > MAX_ELEMENTS {
            return Err(format!(
                "more than {MAX_ELEMENTS} data elements (at byte {at}): refused"
            ));
        }
        Ok(())
    }

    /// The file meta group (explicit VR little endian, group 0002): its
    /// transfer syntax and where the data set starts.
    fn meta(&mut self, mut at: usize) -> Result<(String, usize), String> {
        let mut ts = None;
        while at + 4 <= self.b.len() && self.u16_at(at)? == 0x0002 {
            let tag = self.tag_at(at)?;
            let (vr, len, header) = self.explicit_header(at, tag)?;
            if len == UNDEFINED || vr == *b"SQ" {
                return Err(format!(
                    "file meta element {} at byte {at} is a sequence or of undefined length",
                    tag_name(tag)
                ));
            }
            let value = self.value(at + header, len as usize, tag, None)?;
            if tag == (0x0002, 0x0010) {
                let text = String::from_utf8_lossy(value);
                ts = Some(text.trim_end_matches(['\0', ' ']).to_string());
            }
            self.count(at)?;
            at += header + len as usize;
        }
        let ts = ts.ok_or("the file meta group names no transfer syntax (0002,0010)")?;
        Ok((ts, at))
    }

    /// The value bytes of an element, refused if they pass `end` or the file.
    fn value(
        &self,
        at: usize,
        len: usize,
        tag: (u16, u16),
        end: Option<usize>,
    ) -> Result<&[u8], String> {
        let limit = end.unwrap_or(self.b.len()).min(self.b.len());
        let remaining = limit.saturating_sub(at);
        if len > remaining {
            return Err(format!(
                "element {} at byte {} claims {len} bytes, but only {remaining} remain{}",
                tag_name(tag),
                at,
                if end.is_some_and(|e| e < self.b.len()) {
                    " in its item"
                } else {
                    " in the file"
                }
            ));
        }
        Ok(&self.b[at..at + len])
    }

    /// VR, length and header size of an explicit-VR element at `at`.
    fn explicit_header(&self, at: usize, tag: (u16, u16)) -> Result<([u8; 2], u32, usize), String> {
        let vr = self
            .b
            .get(at + 4..at + 6)
            .map(|s| [s[0], s[1]])
            .ok_or_else(|| format!("truncated at byte {at}"))?;
        if LONG_VRS.contains(&&vr) {
            Ok((vr, self.u32_at(at + 8)?, 12))
        } else if SHORT_VRS.contains(&&vr) {
            Ok((vr, u32::from(self.u16_at(at + 6)?), 8))
        } else {
            Err(format!(
                "element {} at byte {at} has no valid VR ({:02X} {:02X}): not the transfer syntax the file claims, or corrupt",
                tag_name(tag),
                vr[0],
                vr[1]
            ))
        }
    }

    /// A value of a fixed-size VR (US, SL, FD, OW ...) is a whole number of
    /// its units: dicom-parser reads whole units and would lose its place
    /// in the file on the rest (and then read a length from the middle of
    /// a value: found by fuzzing).
    fn check_unit(
        &self,
        at: usize,
        tag: (u16, u16),
        explicit: bool,
        len: u32,
    ) -> Result<(), String> {
        let vr: Option<String> = if explicit {
            self.b
                .get(at + 4..at + 6)
                .map(|v| String::from_utf8_lossy(v).into_owned())
        } else {
            self.dict
                .by_tag(Tag(tag.0, tag.1))
                .and_then(|e| match e.vr {
                    VirtualVr::Exact(vr) => Some(vr.to_string().to_string()),
                    _ => None,
                })
        };
        let unit = match vr.as_deref() {
            Some("US" | "SS" | "OW") => 2,
            Some("UL" | "SL" | "FL" | "AT" | "OF" | "OL") => 4,
            Some("FD" | "OD" | "SV" | "UV" | "OV") => 8,
            _ => 1,
        };
        if !len.is_multiple_of(unit) {
            return Err(format!(
                "element {} at byte {at} has {len} bytes, not a whole number of its {}-byte values",
                tag_name(tag),
                unit
            ));
        }
        Ok(())
    }

    /// Is `tag` a sequence by the standard dictionary (for implicit VR)?
    fn is_sequence(&self, tag: (u16, u16)) -> bool {
        self.dict
            .by_tag(Tag(tag.0, tag.1))
            .is_some_and(|e| matches!(e.vr, VirtualVr::Exact(dicom_core::VR::SQ)))
    }

    /// Elements from `at` up to `end`, or to an item delimiter when `end`
    /// is `None` (an item of undefined length). Returns where it stopped.
    fn dataset(
        &mut self,
        mut at: usize,
        end: Option<usize>,
        explicit: bool,
        depth: usize,
    ) -> Result<usize, String> {
        loop {
            if let Some(e) = end {
                if at == e {
                    return Ok(at);
                }
                if at > e {
                    return Err(format!("an element runs past its item's end at byte {e}"));
                }
            }
            if at + 8 > self.b.len() {
                return Err(match end {
                    None => format!(
                        "an item of undefined length is not closed before the end of the file (byte {at})"
                    ),
                    Some(_) => format!("truncated at byte {at}: an element header is cut off"),
                });
            }
            let tag = self.tag_at(at)?;
            if tag.0 == 0xFFFE {
                if tag == ITEM_END && end.is_none() {
                    return Ok(at + 8);
                }
                return Err(format!(
                    "unexpected delimiter {} at byte {at} inside a data set",
                    tag_name(tag)
                ));
            }
            self.count(at)?;
            let (sequence, len, header) = if explicit {
                let (vr, len, header) = self.explicit_header(at, tag)?;
                (
                    vr == *b"SQ" || (vr == *b"UN" && len == UNDEFINED),
                    len,
                    header,
                )
            } else {
                (
                    self.is_sequence(tag) || self.u32_at(at + 4)? == UNDEFINED,
                    self.u32_at(at + 4)?,
                    8,
                )
            };
            if len != UNDEFINED {
                self.check_unit(at, tag, explicit, len)?;
            }
            let start = at + header;
            if len == UNDEFINED {
                at = if tag == PIXEL_DATA && explicit {
                    self.fragments(start)?
                } else if sequence {
                    // A UN of undefined length holds implicit VR items (PS3.5 §6.2.2).
                    self.items(
                        start,
                        None,
                        explicit && !self.is_un(at, explicit),
                        depth + 1,
                    )?
                } else {
                    return Err(format!(
                        "element {} at byte {at} has undefined length but is not a sequence",
                        tag_name(tag)
                    ));
                };
            } else {
                self.value(start, len as usize, tag, end)?;
                if sequence {
                    self.items(start, Some(start + len as usize), explicit, depth + 1)?;
                }
                at = start + len as usize;
            }
        }
    }

    fn is_un(&self, at: usize, explicit: bool) -> bool {
        explicit && self.b.get(at + 4..at + 6) == Some(b"UN")
    }

    /// The items of a sequence, up to `end` or its delimiter.
    fn items(
        &mut self,
        mut at: usize,
        end: Option<usize>,
        explicit: bool,
        depth: usize,
    ) -> Result<usize, String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "sequences nested more than {MAX_DEPTH} deep (at byte {at}): refused"
            ));
        }
        self.depth = self.depth.max(depth);
        loop {
            if end == Some(at) {
                return Ok(at);
            }
            let tag = self.tag_at(at).map_err(|_| {
                format!("a sequence is not closed before the end of the file (byte {at})")
            })?;
            let len = self.u32_at(at + 4)?;
            if tag == SEQUENCE_END && end.is_none() {
                return Ok(at + 8);
            }
            if tag != ITEM {
                return Err(format!(
                    "expected an item in a sequence at byte {at}, found {}",
                    tag_name(tag)
                ));
            }
            self.count(at)?;
            at = if len == UNDEFINED {
                self.dataset(at + 8, None, explicit, depth)?
            } else {
                self.value(at + 8, len as usize, tag, end)?;
                self.dataset(at + 8, Some(at + 8 + len as usize), explicit, depth)?
            };
            if let Some(e) = end
                && at > e
            {
                return Err(format!("an item runs past its sequence's end at byte {e}"));
            }
        }
    }

    /// Encapsulated pixel data: an offset table and fragments, each an item
    /// of defined length, then a sequence delimiter.
    fn fragments(&mut self, mut at: usize) -> Result<usize, String> {
        loop {
            let tag = self.tag_at(at).map_err(|_| {
                format!(
                    "encapsulated pixel data is not closed before the end of the file (byte {at})"
                )
            })?;
            let len = self.u32_at(at + 4)?;
            if tag == SEQUENCE_END {
                return Ok(at + 8);
            }
            if tag != ITEM || len == UNDEFINED {
                return Err(format!(
                    "expected a pixel data fragment at byte {at}, found {}",
                    tag_name(tag)
                ));
            }
            self.count(at)?;
            self.value(at + 8, len as usize, tag, None)?;
            at += 8 + len as usize;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Part 10 file: preamble, meta group naming `ts`, then `body`.
    pub(crate) fn file(ts: &str, body: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; 128];
        b.extend_from_slice(b"DICM");
        let mut uid = ts.as_bytes().to_vec();
        if uid.len() % 2 == 1 {
            uid.push(0);
        }
        b.extend_from_slice(&[0x02, 0x00, 0x10, 0x00, b'U', b'I']);
        b.extend_from_slice(&(uid.len() as u16).to_le_bytes());
        b.extend_from_slice(&uid);
        b.extend_from_slice(body);
        b
    }

    fn explicit(group: u16, elem: u16, vr: &[u8; 2], value: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&group.to_le_bytes());
        b.extend_from_slice(&elem.to_le_bytes());
        b.extend_from_slice(vr);
        if LONG_VRS.contains(&vr) {
            b.extend_from_slice(&[0, 0]);
            b.extend_from_slice(&(value.len() as u32).to_le_bytes());
        } else {
            b.extend_from_slice(&(value.len() as u16).to_le_bytes());
        }
        b.extend_from_slice(value);
        b
    }

    /// `levels` sequences of undefined length, each in the last's only item.
    fn nested(levels: usize) -> Vec<u8> {
        let mut b = Vec::new();
        for _ in 0..levels {
            b.extend_from_slice(&[0x08, 0x00, 0x15, 0x11, b'S', b'Q', 0, 0]);
            b.extend_from_slice(&UNDEFINED.to_le_bytes());
            b.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0]);
            b.extend_from_slice(&UNDEFINED.to_le_bytes());
        }
        for _ in 0..levels {
            b.extend_from_slice(&[0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0]);
            b.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        }
        b
    }

    #[test]
    fn a_small_explicit_file_walks_and_counts_its_elements() {
        let body = explicit(0x0010, 0x0010, b"PN", b"Doe^Jane");
        let l = scan(&file(EXPLICIT_LE, &body)).expect("walks");
        assert_eq!(l.transfer_syntax, EXPLICIT_LE);
        assert_eq!(l.elements, 2);
        assert_eq!(l.depth, 0);
    }

    #[test]
    fn a_length_past_the_end_is_refused_before_anything_is_allocated() {
        let mut body = explicit(0x0010, 0x0010, b"UT", b"x");
        body[8..12].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
        let e = scan(&file(EXPLICIT_LE, &body)).unwrap_err();
        assert!(
            e.contains("(0010,0010)") && e.contains("claims 4294967280 bytes"),
            "{e}"
        );
    }

    #[test]
    fn deep_nesting_is_refused_and_shallow_nesting_is_not() {
        let e = scan(&file(EXPLICIT_LE, &nested(10_000))).unwrap_err();
        assert!(e.contains("nested more than 16"), "{e}");
        let l = scan(&file(EXPLICIT_LE, &nested(3))).expect("three levels");
        assert_eq!(l.depth, 3);
    }

    #[test]
    fn a_truncated_file_and_an_unclosed_sequence_are_named() {
        let whole = file(EXPLICIT_LE, &explicit(0x0010, 0x0020, b"LO", b"ID12345 "));
        let e = scan(&whole[..whole.len() - 3]).unwrap_err();
        assert!(e.contains("claims 8 bytes"), "{e}");
        let n = nested(2);
        let e = scan(&file(EXPLICIT_LE, &n[..n.len() - 8])).unwrap_err();
        assert!(e.contains("not closed"), "{e}");
    }

    #[test]
    fn implicit_data_under_an_explicit_claim_is_a_bad_vr() {
        // (0010,0010) length 8 in implicit VR: bytes 4-5 are 08 00, no VR.
        let mut body = vec![0x10, 0x00, 0x10, 0x00, 8, 0, 0, 0];
        body.extend_from_slice(b"Doe^Jane");
        let e = scan(&file(EXPLICIT_LE, &body)).unwrap_err();
        assert!(e.contains("no valid VR"), "{e}");
        let l = scan(&file(IMPLICIT_LE, &body)).expect("implicit");
        assert_eq!(l.elements, 2);
    }

    #[test]
    fn a_fixed_size_value_of_an_odd_length_is_refused() {
        // (0028,0010) Rows as US with 3 bytes: the parser would lose its place.
        let body = explicit(0x0028, 0x0010, b"US", &[1, 0, 0]);
        let e = scan(&file(EXPLICIT_LE, &body)).unwrap_err();
        assert!(e.contains("not a whole number of its 2-byte values"), "{e}");
        let body = explicit(0x0040, 0x1001, b"SL", &[0; 10]);
        assert!(scan(&file(EXPLICIT_LE, &body)).is_err());
        assert!(
            scan(&file(
                EXPLICIT_LE,
                &explicit(0x0028, 0x0010, b"US", &[1, 0])
            ))
            .is_ok()
        );
    }

    #[test]
    fn big_endian_and_deflate_are_refused_by_name() {
        assert!(
            scan(&file(EXPLICIT_BE, &[]))
                .unwrap_err()
                .contains("Big Endian")
        );
        assert!(
            scan(&file(DEFLATED_LE, &[]))
                .unwrap_err()
                .contains("Deflated")
        );
        assert!(scan(b"not dicom").unwrap_err().contains("preamble"));
    }

    #[test]
    fn too_many_elements_are_refused() {
        let one = explicit(0x0009, 0x0010, b"LO", b"");
        let body: Vec<u8> = one
            .iter()
            .copied()
            .cycle()
            .take(one.len() * (MAX_ELEMENTS + 1))
            .collect();
        assert!(
            scan(&file(EXPLICIT_LE, &body))
                .unwrap_err()
                .contains("more than")
        );
    }
}
