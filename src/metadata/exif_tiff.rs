//! EXIF/TIFF: IFDs parsed by kamadak-exif under a value budget, maker
//! notes, thumbnails and GPS named, identifying tags grouped.

use super::*;
use crate::text::printable;
use exif::{Context, Tag, Value};
use std::borrow::Cow;
use std::fmt;

/// Where a TIFF structure lives: inside an image (IFD1 is the thumbnail) or
/// as the whole file (further IFDs are pages, pixel layout tags are structure).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Host {
    Embedded,
    TiffFile,
}

/// Parse a TIFF block under the file's value budget; a warning naming `place` when it cannot be read.
pub(super) fn read_exif(tiff: &[u8], place: &str, c: &mut Collector) -> Option<exif::Exif> {
    match exif::Reader::new()
        .continue_on_error(true)
        .read_raw(tiff.to_vec())
    {
        Ok(e) => Some(e),
        Err(exif::Error::PartialResult(partial)) => {
            let (e, errors) = partial.into_inner();
            for err in errors.iter().take(5) {
                c.warn(format!("{place}: malformed EXIF: {err}"));
            }
            if errors.len() > 5 {
                c.warn(format!(
                    "{place}: {} more EXIF errors not listed",
                    errors.len() - 5
                ));
            }
            Some(e)
        }
        Err(err) => {
            c.warn(format!("{place}: EXIF could not be read: {err}"));
            None
        }
    }
}

/// Pixel layout and pointer tags of IFD0/IFD1: structure, not identity.
pub(super) fn structural_tiff_tag(n: u16) -> bool {
    matches!(
        n,
        0x00FE..=0x0103
            | 0x0106..=0x010A
            | 0x0111
            | 0x0115..=0x011C
            | 0x0122..=0x0125
            | 0x0128
            | 0x012D
            | 0x013D..=0x0145
            | 0x014A
            | 0x0152..=0x0159
            | 0x015B
            | 0x0200..=0x0202
            | 0x0211..=0x0214
    )
}

/// Tags kamadak-exif has no name for but which often carry identity.
pub(super) fn extra_tag_name(n: u16) -> Option<&'static str> {
    Some(match n {
        0x02BC => "XMP",
        0x83BB => "IPTC-NAA",
        0x8649 => "PhotoshopSettings",
        0x8773 => "InterColorProfile",
        0x9C9B => "XPTitle",
        0x9C9C => "XPComment",
        0x9C9D => "XPAuthor",
        0x9C9E => "XPKeywords",
        0x9C9F => "XPSubject",
        0xC4A5 => "PrintIM",
        0xC62F => "CameraSerialNumber",
        0xC614 => "UniqueCameraModel",
        0xC615 => "LocalizedCameraModel",
        0xA480 => "GDALMetadata",
        _ => return None,
    })
}

/// A tag's name as exiftool shows it, or its number.
pub(super) fn tag_name(tag: Tag) -> String {
    let name = tag.to_string();
    if !name.starts_with("Tag(") {
        return name;
    }
    match extra_tag_name(tag.number()) {
        Some(n) if tag.context() == Context::Tiff || tag.context() == Context::Exif => {
            n.to_string()
        }
        _ => format!("0x{:04X}", tag.number()),
    }
}

/// Raw bytes of a value that holds an embedded blob (XMP, IPTC, ICC ...).
pub(super) fn value_bytes(v: &Value, little_endian: bool) -> Option<Cow<'_, [u8]>> {
    match v {
        Value::Byte(b) | Value::Undefined(b, _) => Some(Cow::Borrowed(b)),
        Value::Long(l) => Some(Cow::Owned(
            l.iter()
                .flat_map(|x| {
                    if little_endian {
                        x.to_le_bytes()
                    } else {
                        x.to_be_bytes()
                    }
                })
                .collect(),
        )),
        Value::Ascii(a) => a.first().map(|s| Cow::Borrowed(s.as_slice())),
        _ => None,
    }
}

/// Rough bytes a parsed value holds (for the work budget).
pub(super) fn value_size(v: &Value) -> usize {
    match v {
        Value::Byte(b) | Value::Undefined(b, _) => b.len(),
        Value::SByte(b) => b.len(),
        Value::Ascii(a) => a.iter().map(|s| s.len() + 24).sum(),
        Value::Short(x) => x.len() * 2,
        Value::SShort(x) => x.len() * 2,
        Value::Long(x) => x.len() * 4,
        Value::SLong(x) => x.len() * 4,
        Value::Float(x) => x.len() * 4,
        Value::Rational(x) => x.len() * 8,
        Value::SRational(x) => x.len() * 8,
        Value::Double(x) => x.len() * 8,
        Value::Unknown(..) => 0,
    }
}

/// A `fmt::Write` that stops after `max` bytes, so a huge value costs little.
pub(super) struct Bounded {
    s: String,
    max: usize,
    cut: bool,
}

impl fmt::Write for Bounded {
    fn write_str(&mut self, t: &str) -> fmt::Result {
        let room = self.max.saturating_sub(self.s.len());
        if t.len() <= room {
            self.s.push_str(t);
            return Ok(());
        }
        let mut end = room;
        while !t.is_char_boundary(end) {
            end -= 1;
        }
        self.s.push_str(&t[..end]);
        self.cut = true;
        Err(fmt::Error)
    }
}

/// A value's text, cut to what the reviewer is shown.
pub(super) fn display_bounded(d: impl fmt::Display) -> String {
    let mut w = Bounded {
        s: String::new(),
        max: 400,
        cut: false,
    };
    // An error only means the value was cut short.
    let _ = write!(w, "{d}");
    let mut out = printable(&w.s, PREVIEW);
    if w.cut && !out.ends_with('…') {
        out.push('…');
    }
    out
}

/// EXIF orientation 1–8 in words.
pub(super) fn orientation_meaning(o: u32) -> &'static str {
    match o {
        1 => "upright",
        2 => "mirror horizontal",
        3 => "rotate 180",
        4 => "mirror vertical",
        5 => "mirror horizontal and rotate 270 CW",
        6 => "rotate 90 CW",
        7 => "mirror horizontal and rotate 90 CW",
        8 => "rotate 270 CW",
        _ => "invalid",
    }
}

/// EXIF UserComment: an 8-byte character code, then the text.
pub(super) fn user_comment(b: &[u8], little_endian: bool) -> String {
    let s = match b.get(..8) {
        Some(code) if code.starts_with(b"UNICODE") => {
            let units: Vec<u16> = b[8..]
                .chunks_exact(2)
                .take(2048)
                .map(|u| {
                    if little_endian {
                        u16::from_le_bytes([u[0], u[1]])
                    } else {
                        u16::from_be_bytes([u[0], u[1]])
                    }
                })
                .collect();
            String::from_utf16_lossy(&units)
        }
        Some(code) if code.starts_with(b"ASCII") || code.starts_with(b"JIS") || code == [0; 8] => {
            decode_text(&b[8..])
        }
        _ => decode_text(b),
    };
    let shown = preview(&s);
    if shown.is_empty() {
        "(blank)".to_string()
    } else {
        shown
    }
}

/// Windows XP* tags: UTF-16LE in a BYTE array.
pub(super) fn utf16le(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .take(2048)
        .map(|u| u16::from_le_bytes([u[0], u[1]]))
        .collect();
    preview(&String::from_utf16_lossy(&units))
}

/// A preview of an ordinary EXIF value.
pub(super) fn exif_value(v: &Value, tag: Tag) -> String {
    match v {
        Value::Ascii(parts) => {
            let joined: Vec<String> = parts.iter().take(16).map(|p| decode_text(p)).collect();
            preview(&joined.join("; "))
        }
        Value::Undefined(b, _) | Value::Byte(b) if b.len() > 64 => {
            if looks_like_text(b) {
                preview(&decode_text(b))
            } else {
                blob_summary(b)
            }
        }
        _ => display_bounded(v.display_as(tag)),
    }
}

/// Every non-structural field of a TIFF structure (EXIF block or TIFF file).
pub(super) fn exif_block(tiff: &[u8], host: Host, place: &str, depth: u8, c: &mut Collector) {
    if c.full() {
        c.findings_cut = true;
        return;
    }
    let Some(exif) = read_exif(tiff, place, c) else {
        if host == Host::Embedded {
            c.add("EXIF", "EXIF", format!("{} bytes, unreadable", tiff.len()));
        }
        return;
    };
    let le = exif.little_endian();
    for field in exif.fields() {
        if c.full() {
            c.findings_cut = true;
            break;
        }
        c.exif_value_bytes = c.exif_value_bytes.saturating_add(value_size(&field.value));
        if c.exif_value_bytes > EXIF_VALUE_BUDGET {
            c.warn(format!(
                "{place}: EXIF values larger than {} MiB; the rest was not read",
                EXIF_VALUE_BUDGET >> 20
            ));
            break;
        }
        let tag = field.tag;
        let n = tag.number();
        let ifd = field.ifd_num.index();
        let (group, prefix) = match (tag.context(), host, ifd) {
            (Context::Gps, _, 0) => ("GPS", String::new()),
            (Context::Gps, _, i) => ("GPS", format!("IFD{i}:")),
            (_, _, 0) => ("EXIF", String::new()),
            (_, Host::Embedded, 1) => ("Thumbnail", String::new()),
            (_, _, i) => ("EXIF", format!("IFD{i}:")),
        };
        let name = format!("{prefix}{}", tag_name(tag));
        match (tag.context(), n) {
            (Context::Tiff, 0x0112) => {
                let o = field.value.get_uint(0).unwrap_or(0);
                if ifd == 0 && c.inv.orientation.is_none() {
                    match u8::try_from(o) {
                        Ok(o @ 1..=8) => c.inv.orientation = Some(o),
                        _ => c.warn(format!("{place}: Orientation {o} is not 1-8; ignored")),
                    }
                }
                c.add(group, name, format!("{o} ({})", orientation_meaning(o)));
            }
            (Context::Tiff, 0x0201) if host == Host::Embedded => {
                let offset = field.value.get_uint(0).unwrap_or(0) as usize;
                let len = exif
                    .get_field(Tag::JPEGInterchangeFormatLength, field.ifd_num)
                    .and_then(|f| f.value.get_uint(0))
                    .unwrap_or(0) as usize;
                let value = match slice(tiff, offset, len) {
                    Some([0xFF, 0xD8, ..]) => format!("JPEG, {len} bytes"),
                    Some(_) => format!("{len} bytes, not a JPEG"),
                    None => format!("{len} bytes declared, outside the EXIF block"),
                };
                c.add("Thumbnail", "ThumbnailImage", value);
            }
            (Context::Tiff, 0x0111) if host == Host::Embedded => {
                let total: u64 = exif
                    .get_field(Tag::StripByteCounts, field.ifd_num)
                    .and_then(|f| f.value.iter_uint())
                    .map(|it| it.map(u64::from).sum())
                    .unwrap_or(0);
                c.add(
                    "Thumbnail",
                    "ThumbnailImage",
                    format!("uncompressed, {total} bytes"),
                );
            }
            (Context::Tiff, n) if structural_tiff_tag(n) => {}
            (Context::Interop, 0x0001 | 0x0002) => {}
            (Context::Tiff | Context::Exif, 0x02BC) => {
                if let Some(b) = value_bytes(&field.value, le) {
                    xmp_packet(&b, "XMP", c);
                }
            }
            (Context::Tiff | Context::Exif, 0x83BB) => {
                if let Some(b) = value_bytes(&field.value, le) {
                    iptc_iim(&b, c);
                }
            }
            (Context::Tiff | Context::Exif, 0x8649) => {
                if let Some(b) = value_bytes(&field.value, le) {
                    if depth < MAX_DEPTH {
                        photoshop_resources(&b, depth + 1, c);
                    } else {
                        c.add("IPTC", name, format!("{} bytes", b.len()));
                    }
                }
            }
            (Context::Tiff | Context::Exif, 0x8773) => {
                if let Some(b) = value_bytes(&field.value, le) {
                    c.add("ICC", name, icc_summary(&b));
                }
            }
            (Context::Exif, 0x927C) => {
                let value = match &field.value {
                    Value::Undefined(b, _) | Value::Byte(b) => blob_summary(b),
                    v => exif_value(v, tag),
                };
                c.add("MakerNote", name, value);
            }
            (Context::Exif, 0x9286) => {
                let value = match &field.value {
                    Value::Undefined(b, _) | Value::Byte(b) => user_comment(b, le),
                    v => exif_value(v, tag),
                };
                c.add(group, name, value);
            }
            (Context::Tiff, 0x9C9B..=0x9C9F) => {
                let value = match &field.value {
                    Value::Byte(b) | Value::Undefined(b, _) => utf16le(b),
                    v => exif_value(v, tag),
                };
                c.add(group, name, value);
            }
            _ => c.add(group, name, exif_value(&field.value, tag)),
        }
    }
}
