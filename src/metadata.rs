//! What identifying metadata an original image file carries.
//!
//! The container is recognised by its content, never by the file name. JPEG
//! segments, PNG chunks and WebP RIFF chunks are walked here, HEIF items in
//! [`heif`]; EXIF/TIFF IFDs
//! are parsed by kamadak-exif. Nothing in this module panics on hostile
//! input, and all work is bounded by the input length and a few caps, so a
//! reviewer always gets an inventory (with warnings) instead of a crash.

use crate::item::MetadataFinding;
use crate::text::printable;
use exif::{Context, In, Tag, Value};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::{self, Write as _};

mod heif;

/// What identifying metadata a file carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inventory {
    /// Everything found, in file order.
    pub findings: Vec<MetadataFinding>,
    /// EXIF orientation 1-8 if present.
    pub orientation: Option<u8>,
    /// Problems parsing (malformed EXIF, truncated segment): reported, never a panic.
    pub warnings: Vec<String>,
}

/// List the identifying metadata in an image file (JPEG, PNG, WebP, TIFF, HEIF or DICOM).
pub fn inventory(bytes: &[u8]) -> Inventory {
    let mut c = Collector::default();
    if bytes.is_empty() {
        c.warn("empty file: no metadata read".to_string());
    } else if crate::dicom::is_dicom(bytes) {
        // Before TIFF: a DICOM preamble is often a TIFF header.
        dicom(bytes, &mut c);
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        jpeg(bytes, &mut c);
    } else if bytes.starts_with(PNG_SIGNATURE) {
        png(bytes, &mut c);
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        webp(bytes, &mut c);
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        exif_block(bytes, Host::TiffFile, "TIFF", 0, &mut c);
    } else if crate::heif::is_heif(bytes) {
        heif::heif(bytes, &mut c);
    } else if bytes.starts_with(b"II+\0") || bytes.starts_with(b"MM\0+") {
        c.warn("BigTIFF is not supported: no metadata read".to_string());
    } else {
        c.warn("not a JPEG, PNG, WebP, TIFF, HEIF or DICOM file: no metadata read".to_string());
    }
    c.finish()
}

/// A DICOM header, listed by [`crate::dicom::inventory`].
fn dicom(bytes: &[u8], c: &mut Collector) {
    match crate::dicom::parse(bytes) {
        Ok(p) => {
            let (findings, warnings) = crate::dicom::inventory::inventory_file(bytes, &p);
            for f in findings {
                c.add(&f.group, f.field, f.value);
            }
            for w in warnings {
                c.warn(w);
            }
        }
        Err(e) => c.warn(format!("DICOM header not read: {e}")),
    }
}

/// Most findings listed for one file; past it a warning says the list is cut.
const MAX_FINDINGS: usize = 2000;
/// Most warnings listed for one file.
const MAX_WARNINGS: usize = 100;
/// Characters of a value shown to the reviewer.
const PREVIEW: usize = 80;
/// Bytes of parsed EXIF values kamadak-exif may hold for one file: a crafted
/// IFD can point thousands of entries at the same large blob.
const EXIF_VALUE_BUDGET: usize = 64 << 20;
/// Bytes that the compressed text and XMP chunks of one file may inflate
/// to, all together: a crafted file can hold thousands of small bombs.
const INFLATE_BUDGET: usize = 16 << 20;
/// How deep metadata may nest (EXIF → Photoshop resources → EXIF ...).
const MAX_DEPTH: u8 = 3;
/// Properties listed per XMP packet.
const MAX_XMP_PROPERTIES: usize = 500;
/// Element nesting followed in an XMP packet.
const MAX_XMP_DEPTH: usize = 256;

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
const XMP_SIGNATURE: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
const XMP_EXTENSION_SIGNATURE: &[u8] = b"http://ns.adobe.com/xmp/extension/\0";
const ICC_SIGNATURE: &[u8] = b"ICC_PROFILE\0";
const PHOTOSHOP_SIGNATURE: &[u8] = b"Photoshop 3.0\0";

/// Gathers findings and warnings under the caps.
#[derive(Default)]
struct Collector {
    inv: Inventory,
    findings_cut: bool,
    dropped_warnings: usize,
    exif_value_bytes: usize,
    inflated_bytes: usize,
    inflate_budget_spent: bool,
}

impl Collector {
    fn add(&mut self, group: &str, field: impl Into<String>, value: impl Into<String>) {
        if self.full() {
            self.findings_cut = true;
            return;
        }
        self.inv.findings.push(MetadataFinding {
            group: group.to_string(),
            field: printable(&field.into(), PREVIEW),
            value: value.into(),
        });
    }

    fn full(&self) -> bool {
        self.inv.findings.len() >= MAX_FINDINGS
    }

    fn warn(&mut self, message: String) {
        if self.inv.warnings.len() >= MAX_WARNINGS {
            self.dropped_warnings += 1;
        } else {
            self.inv.warnings.push(message);
        }
    }

    fn finish(mut self) -> Inventory {
        if self.findings_cut {
            self.inv.warnings.push(format!(
                "more than {MAX_FINDINGS} findings: only the first {MAX_FINDINGS} are listed"
            ));
        }
        if self.dropped_warnings > 0 {
            self.inv.warnings.push(format!(
                "{} more warnings not listed",
                self.dropped_warnings
            ));
        }
        self.inv
    }
}

// ---------------------------------------------------------------- bytes

fn slice(b: &[u8], at: usize, n: usize) -> Option<&[u8]> {
    b.get(at..at.checked_add(n)?)
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    slice(b, at, 2)?.try_into().ok().map(u16::from_be_bytes)
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    slice(b, at, 4)?.try_into().ok().map(u32::from_be_bytes)
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    slice(b, at, 4)?.try_into().ok().map(u32::from_le_bytes)
}

fn u32_in(b: &[u8], at: usize, little_endian: bool) -> Option<u32> {
    let s: [u8; 4] = slice(b, at, 4)?.try_into().ok()?;
    Some(if little_endian {
        u32::from_le_bytes(s)
    } else {
        u32::from_be_bytes(s)
    })
}

/// Text from bytes that should be UTF-8 but may be Latin-1.
fn decode_text(b: &[u8]) -> String {
    let b = &b[..b.len().min(4096)];
    match std::str::from_utf8(b) {
        Ok(s) => s.to_string(),
        // A cut at the 4096 limit may split a character; keep what is valid.
        Err(e) if e.error_len().is_none() && e.valid_up_to() > 0 => {
            String::from_utf8_lossy(&b[..e.valid_up_to()]).into_owned()
        }
        Err(_) => latin1(b),
    }
}

fn latin1(b: &[u8]) -> String {
    b.iter().take(4096).map(|&x| x as char).collect()
}

/// Text preview of a value for the reviewer.
fn preview(s: &str) -> String {
    printable(
        s.trim_matches(|c: char| c == '\0' || c.is_whitespace()),
        PREVIEW,
    )
}

/// Printable ASCII runs of a binary blob (at least 4 characters each).
fn ascii_runs(b: &[u8]) -> String {
    let mut out = String::new();
    for run in b[..b.len().min(4096)].split(|x| !(x.is_ascii_graphic() || *x == b' ')) {
        if run.len() >= 4 {
            if !out.is_empty() {
                out.push(' ');
            }
            out.extend(run.iter().map(|&x| x as char));
            if out.len() > PREVIEW {
                break;
            }
        }
    }
    out
}

/// "N bytes", with the printable text inside when there is some.
fn blob_summary(b: &[u8]) -> String {
    let text = ascii_runs(b);
    if text.is_empty() {
        format!("{} bytes", b.len())
    } else {
        format!("{} bytes: {}", b.len(), printable(&text, PREVIEW))
    }
}

/// Mostly readable text (for EXIF UNDEFINED/BYTE values of unknown meaning).
fn looks_like_text(b: &[u8]) -> bool {
    let b = &b[..b.len().min(256)];
    let b = match b.iter().rposition(|&x| x != 0) {
        Some(end) => &b[..=end],
        None => return false,
    };
    let readable = b
        .iter()
        .filter(|&&x| x.is_ascii_graphic() || x == b' ' || x >= 0x80 || x == b'\n')
        .count();
    readable * 10 >= b.len() * 9
}

/// Bytes after the end of the image data.
fn trailer(rest: &[u8], offset: usize, after: &str, c: &mut Collector) {
    let what = if rest.starts_with(&[0xFF, 0xD8]) {
        "embedded JPEG".to_string()
    } else {
        let shown: String = rest
            .iter()
            .take(PREVIEW)
            .map(|&x| {
                if x.is_ascii_graphic() || x == b' ' {
                    x as char
                } else {
                    '.'
                }
            })
            .collect();
        printable(&shown, PREVIEW)
    };
    c.add(
        "Trailer",
        format!("after {after}"),
        format!("{} bytes at offset {offset}: {what}", rest.len()),
    );
}

// ---------------------------------------------------------------- JPEG

/// Pieces of one ICC profile spread over several APP2 segments.
#[derive(Default)]
struct IccChunks {
    chunks: Vec<(u8, Vec<u8>)>,
    expected: u8,
}

/// Extended XMP (APP1 "xmp/extension") packets, in order of first chunk.
#[derive(Default)]
struct ExtendedXmp {
    packets: Vec<ExtendedXmpPacket>,
}

/// One extended XMP packet: its GUID, full length and (offset, bytes) chunks.
struct ExtendedXmpPacket {
    guid: Vec<u8>,
    full_len: u32,
    chunks: Vec<(u32, Vec<u8>)>,
}

fn jpeg(b: &[u8], c: &mut Collector) {
    let mut icc = IccChunks::default();
    let mut ext = ExtendedXmp::default();
    let mut pos = 2;
    let mut end_of_image = None;
    let mut warned_garbage = false;
    while pos < b.len() {
        if b[pos] != 0xFF {
            if !warned_garbage {
                c.warn(format!(
                    "JPEG: unexpected bytes at offset {pos} where a marker should be"
                ));
                warned_garbage = true;
            }
            match b[pos..].iter().position(|&x| x == 0xFF) {
                Some(i) => pos += i,
                None => break,
            }
            continue;
        }
        let mut m = pos + 1;
        while m < b.len() && b[m] == 0xFF {
            m += 1;
        }
        let Some(&marker) = b.get(m) else { break };
        let segment_at = m - 1;
        pos = m + 1;
        match marker {
            0xD9 => {
                end_of_image = Some(pos);
                break;
            }
            // Markers without a length.
            0x00 | 0x01 | 0xD0..=0xD8 => continue,
            _ => {}
        }
        let Some(len) = be16(b, pos) else {
            c.warn(format!(
                "JPEG: segment {} at offset {segment_at} is cut off before its length",
                marker_name(marker)
            ));
            break;
        };
        if len < 2 {
            c.warn(format!(
                "JPEG: segment {} at offset {segment_at} has an impossible length {len}",
                marker_name(marker)
            ));
            break;
        }
        let start = pos + 2;
        let end = pos + len as usize;
        let truncated = end > b.len();
        if truncated {
            c.warn(format!(
                "JPEG: segment {} at offset {segment_at} is truncated ({} of {} bytes present)",
                marker_name(marker),
                b.len().saturating_sub(start),
                len - 2
            ));
        }
        let payload = &b[start.min(b.len())..end.min(b.len())];
        jpeg_segment(marker, payload, start, c, &mut icc, &mut ext);
        if truncated {
            break;
        }
        pos = end;
        if marker == 0xDA {
            pos = skip_entropy_coded(b, pos);
        }
    }
    if !icc.chunks.is_empty() {
        c.warn(format!(
            "JPEG: ICC profile incomplete ({} of {} chunks)",
            icc.chunks.len(),
            icc.expected
        ));
        emit_icc_chunks(&mut icc, c);
    }
    emit_extended_xmp(ext, c);
    match end_of_image {
        Some(at) if at < b.len() => trailer(&b[at..], at, "EOI", c),
        Some(_) => {}
        None => c.warn("JPEG: no end-of-image marker (file truncated?)".to_string()),
    }
}

/// Position of the first marker after entropy-coded data.
fn skip_entropy_coded(b: &[u8], mut pos: usize) -> usize {
    while pos < b.len() {
        match b[pos..].iter().position(|&x| x == 0xFF) {
            None => return b.len(),
            Some(i) => pos += i,
        }
        match b.get(pos + 1) {
            None => return b.len(),
            // Stuffed byte, restart marker, or fill byte before a marker.
            Some(0x00 | 0xD0..=0xD7) => pos += 2,
            Some(0xFF) => pos += 1,
            Some(_) => return pos,
        }
    }
    b.len()
}

fn marker_name(marker: u8) -> String {
    match marker {
        0xE0..=0xEF => format!("APP{}", marker - 0xE0),
        0xFE => "COM".to_string(),
        0xDA => "SOS".to_string(),
        0xDB => "DQT".to_string(),
        0xC4 => "DHT".to_string(),
        0xC0..=0xCF => format!("SOF{}", marker - 0xC0),
        _ => format!("0xFF{marker:02X}"),
    }
}

fn jpeg_segment(
    marker: u8,
    p: &[u8],
    at: usize,
    c: &mut Collector,
    icc: &mut IccChunks,
    ext: &mut ExtendedXmp,
) {
    match marker {
        0xE0 => app0(p, c),
        0xE1 => {
            if let Some(tiff) = p.strip_prefix(b"Exif\0") {
                // Normally "Exif\0\0"; a few writers use another pad byte.
                let tiff = tiff.get(1..).unwrap_or_default();
                exif_block(tiff, Host::Embedded, "JPEG APP1", 0, c);
            } else if let Some(x) = p.strip_prefix(XMP_SIGNATURE) {
                xmp_packet(x, "XMP", c);
            } else if let Some(x) = p.strip_prefix(XMP_EXTENSION_SIGNATURE) {
                extended_xmp_chunk(x, ext, c);
            } else {
                other_app(marker, p, c);
            }
        }
        0xE2 => {
            if let Some(x) = p.strip_prefix(ICC_SIGNATURE) {
                icc_chunk(x, icc, c);
            } else if let Some(x) = p.strip_prefix(b"MPF\0") {
                mpf(x, at + 4, c);
            } else {
                other_app(marker, p, c);
            }
        }
        0xEC if p.starts_with(b"Ducky") => ducky(p, c),
        0xED => match p.strip_prefix(PHOTOSHOP_SIGNATURE) {
            Some(x) => photoshop_resources(x, 0, c),
            None => other_app(marker, p, c),
        },
        // Adobe's colour-transform flags say nothing about the patient.
        0xEE if p.starts_with(b"Adobe") => {}
        0xE3..=0xEF => other_app(marker, p, c),
        0xFE => c.add("Comment", "COM", preview(&decode_text(p))),
        _ => {}
    }
}

fn app0(p: &[u8], c: &mut Collector) {
    if let Some(jfif) = p.strip_prefix(b"JFIF\0") {
        // Version, density and units are harmless; only a thumbnail counts.
        if let (Some(&w), Some(&h)) = (jfif.get(7), jfif.get(8))
            && w > 0
            && h > 0
        {
            c.add(
                "Thumbnail",
                "JFIF thumbnail",
                format!("{w}x{h}, {} bytes", 3 * w as usize * h as usize),
            );
        }
    } else if let Some(jfxx) = p.strip_prefix(b"JFXX\0") {
        c.add(
            "Thumbnail",
            "JFXX thumbnail",
            format!("{} bytes", jfxx.len().saturating_sub(1)),
        );
    } else {
        other_app(0xE0, p, c);
    }
}

/// An APPn segment this module has no parser for: its identifier and text.
fn other_app(marker: u8, p: &[u8], c: &mut Collector) {
    let id_len = p.iter().take(40).position(|&x| x == 0).unwrap_or(0);
    let id = &p[..id_len];
    let field = if !id.is_empty() && id.iter().all(|x| x.is_ascii_graphic() || *x == b' ') {
        latin1(id)
    } else {
        "data".to_string()
    };
    c.add(&marker_name(marker), field, blob_summary(p));
}

/// APP12 "Ducky" (Photoshop Save for Web): quality, comment, copyright.
fn ducky(p: &[u8], c: &mut Collector) {
    let mut pos = 5;
    while let (Some(tag), Some(len)) = (be16(p, pos), be16(p, pos + 2)) {
        let Some(data) = slice(p, pos + 4, len as usize) else {
            c.warn("JPEG: APP12 Ducky block is truncated".to_string());
            return;
        };
        let name = match tag {
            0 => return,
            2 => "Ducky:Comment",
            3 => "Ducky:Copyright",
            _ => "",
        };
        if !name.is_empty() {
            // A 4-byte count, then UCS-2 big-endian.
            let units: Vec<u16> = data
                .get(4..)
                .unwrap_or_default()
                .chunks_exact(2)
                .map(|u| u16::from_be_bytes([u[0], u[1]]))
                .collect();
            c.add("APP12", name, preview(&String::from_utf16_lossy(&units)));
        }
        pos += 4 + len as usize;
    }
}

fn icc_chunk(x: &[u8], icc: &mut IccChunks, c: &mut Collector) {
    let (Some(&seq), Some(&count), Some(data)) = (x.first(), x.get(1), x.get(2..)) else {
        c.warn("JPEG: ICC_PROFILE segment too short".to_string());
        return;
    };
    icc.expected = count;
    icc.chunks.push((seq, data.to_vec()));
    if icc.chunks.len() >= count as usize {
        emit_icc_chunks(icc, c);
    }
}

fn emit_icc_chunks(icc: &mut IccChunks, c: &mut Collector) {
    icc.chunks.sort_by_key(|(seq, _)| *seq);
    let profile: Vec<u8> = icc.chunks.drain(..).flat_map(|(_, d)| d).collect();
    c.add("ICC", "ICC_PROFILE", icc_summary(&profile));
}

fn extended_xmp_chunk(x: &[u8], ext: &mut ExtendedXmp, c: &mut Collector) {
    let (Some(guid), Some(full), Some(offset), Some(data)) =
        (x.get(..32), be32(x, 32), be32(x, 36), x.get(40..))
    else {
        c.warn("JPEG: extended XMP segment too short".to_string());
        return;
    };
    if let Some(p) = ext.packets.iter_mut().find(|p| p.guid == guid) {
        p.chunks.push((offset, data.to_vec()));
    } else if ext.packets.len() >= 8 {
        // Real files have one extended packet; many GUIDs only cost time.
        c.warn("JPEG: more than 8 extended XMP packets; the rest were not read".to_string());
    } else {
        ext.packets.push(ExtendedXmpPacket {
            guid: guid.to_vec(),
            full_len: full,
            chunks: vec![(offset, data.to_vec())],
        });
    }
}

fn emit_extended_xmp(ext: ExtendedXmp, c: &mut Collector) {
    for mut p in ext.packets {
        p.chunks.sort_by_key(|(offset, _)| *offset);
        let packet: Vec<u8> = p.chunks.into_iter().flat_map(|(_, d)| d).collect();
        if packet.len() != p.full_len as usize {
            c.warn(format!(
                "JPEG: extended XMP incomplete ({} of {} bytes)",
                packet.len(),
                p.full_len
            ));
        }
        c.add("XMP", "ExtendedXMP", format!("{} bytes", packet.len()));
        xmp_packet(&packet, "XMP", c);
    }
}

/// APP2 "MPF": further images (previews, depth maps) stored after the EOI.
fn mpf(tiff: &[u8], tiff_at: usize, c: &mut Collector) {
    let exif = match read_exif(tiff, "JPEG APP2 MPF", c) {
        Some(e) => e,
        None => {
            c.add("MPF", "MPF", format!("{} bytes", tiff.len()));
            return;
        }
    };
    let le = exif.little_endian();
    let entries = exif
        .get_field(Tag(Context::Tiff, 0xB002), In::PRIMARY)
        .and_then(|f| match &f.value {
            Value::Undefined(v, _) => Some(v.as_slice()),
            _ => None,
        });
    let Some(entries) = entries else {
        c.add("MPF", "MPF", format!("{} bytes, no image list", tiff.len()));
        return;
    };
    for (i, e) in entries.chunks_exact(16).enumerate().skip(1) {
        let (Some(attr), Some(size), Some(offset)) =
            (u32_in(e, 0, le), u32_in(e, 4, le), u32_in(e, 8, le))
        else {
            continue;
        };
        let kind = match attr & 0x00FF_FFFF {
            0x01_0001 | 0x01_0002 => "preview",
            0x02_0001 => "panorama frame",
            0x02_0002 => "disparity",
            0x02_0003 => "multi-angle",
            0x03_0000 => "baseline primary",
            _ => "image",
        };
        c.add(
            "MPF",
            format!("Image{}", i + 1),
            format!(
                "{kind}, {size} bytes at file offset {}",
                tiff_at.saturating_add(offset as usize)
            ),
        );
    }
}

// ---------------------------------------------------------------- EXIF / TIFF

/// Where a TIFF structure lives: inside an image (IFD1 is the thumbnail) or
/// as the whole file (further IFDs are pages, pixel layout tags are structure).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Host {
    Embedded,
    TiffFile,
}

fn read_exif(tiff: &[u8], place: &str, c: &mut Collector) -> Option<exif::Exif> {
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
fn structural_tiff_tag(n: u16) -> bool {
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
fn extra_tag_name(n: u16) -> Option<&'static str> {
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

fn tag_name(tag: Tag) -> String {
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
fn value_bytes(v: &Value, little_endian: bool) -> Option<Cow<'_, [u8]>> {
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
fn value_size(v: &Value) -> usize {
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
struct Bounded {
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

fn display_bounded(d: impl fmt::Display) -> String {
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

fn orientation_meaning(o: u32) -> &'static str {
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
fn user_comment(b: &[u8], little_endian: bool) -> String {
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
fn utf16le(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .take(2048)
        .map(|u| u16::from_le_bytes([u[0], u[1]]))
        .collect();
    preview(&String::from_utf16_lossy(&units))
}

/// A preview of an ordinary EXIF value.
fn exif_value(v: &Value, tag: Tag) -> String {
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
fn exif_block(tiff: &[u8], host: Host, place: &str, depth: u8, c: &mut Collector) {
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

// ---------------------------------------------------------------- XMP

/// Properties of an XMP packet, by a tolerant scan (no XML validation):
/// element text and `prefix:Name="value"` attributes, in order of first
/// appearance, repeated values (rdf:li) joined with "; ".
fn xmp_properties(text: &str) -> (Vec<(String, String)>, bool) {
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

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// The `>` closing a tag, skipping quoted attribute values.
fn tag_end(b: &[u8], from: usize) -> Option<usize> {
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

fn attributes(s: &str) -> Vec<(&str, &str)> {
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

fn is_xmp_property(name: &str) -> bool {
    match name.split_once(':') {
        Some((prefix, local)) => {
            !local.is_empty() && !matches!(prefix, "rdf" | "x" | "xmlns" | "xml" | "")
        }
        None => false,
    }
}

fn unescape(s: &str) -> String {
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

fn xmp_packet(packet: &[u8], group: &str, c: &mut Collector) {
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

// ---------------------------------------------------------------- Photoshop / IPTC

/// Photoshop image resources ("8BIM" blocks), as in JPEG APP13 and TIFF 34377.
fn photoshop_resources(b: &[u8], depth: u8, c: &mut Collector) {
    let mut pos = 0;
    let mut others: Vec<String> = Vec::new();
    while pos < b.len() {
        let Some(sig) = slice(b, pos, 4) else { break };
        if !matches!(sig, b"8BIM" | b"PHUT" | b"AgHg" | b"DCSR" | b"MeSa") {
            if b[pos..].iter().any(|&x| x != 0) {
                c.warn(format!(
                    "Photoshop resources: unexpected bytes at offset {pos}; rest not read"
                ));
            }
            break;
        }
        let (Some(id), Some(&name_len)) = (be16(b, pos + 4), b.get(pos + 6)) else {
            c.warn("Photoshop resources: truncated resource header".to_string());
            break;
        };
        let name_total = (1 + name_len as usize + 1) & !1;
        let size_at = pos + 6 + name_total;
        let Some(size) = be32(b, size_at) else {
            c.warn("Photoshop resources: truncated resource header".to_string());
            break;
        };
        let start = size_at + 4;
        let end = start.saturating_add(size as usize);
        if end > b.len() {
            c.warn(format!(
                "Photoshop resource 0x{id:04X} is truncated ({} of {size} bytes present)",
                b.len().saturating_sub(start)
            ));
        }
        let data = &b[start.min(b.len())..end.min(b.len())];
        match id {
            0x0404 => iptc_iim(data, c),
            0x0409 | 0x040C => c.add(
                "Thumbnail",
                "PhotoshopThumbnail",
                format!("{} bytes", data.len()),
            ),
            0x040F => c.add("ICC", "Photoshop:ICC", icc_summary(data)),
            0x0422 | 0x0423 if depth < MAX_DEPTH => {
                let tiff = data.strip_prefix(b"Exif\0\0").unwrap_or(data);
                exif_block(
                    tiff,
                    Host::Embedded,
                    "Photoshop EXIF resource",
                    depth + 1,
                    c,
                );
            }
            0x0424 => xmp_packet(data, "XMP", c),
            0x03F0 => c.add(
                "IPTC",
                "Photoshop:Caption",
                preview(&latin1(data.get(1..).unwrap_or_default())),
            ),
            0x040B | 0x041E => c.add("IPTC", "Photoshop:URL", preview(&decode_text(data))),
            _ => {
                if others.len() < 20 {
                    others.push(format!("0x{id:04X}"));
                }
            }
        }
        pos = end.saturating_add(size as usize & 1);
    }
    if !others.is_empty() {
        c.add(
            "IPTC",
            "Photoshop:OtherResources",
            printable(&others.join(" "), PREVIEW),
        );
    }
}

fn iim_name(record: u8, dataset: u8) -> Option<&'static str> {
    Some(match (record, dataset) {
        (1, 5) => "Destination",
        (1, 30) => "ServiceIdentifier",
        (1, 40) => "EnvelopeNumber",
        (1, 50) => "ProductID",
        (1, 70) => "DateSent",
        (1, 80) => "TimeSent",
        (1, 100) => "UniqueObjectName",
        (2, 4) => "ObjectAttributeReference",
        (2, 5) => "ObjectName",
        (2, 7) => "EditStatus",
        (2, 10) => "Urgency",
        (2, 12) => "SubjectReference",
        (2, 15) => "Category",
        (2, 20) => "SupplementalCategories",
        (2, 22) => "FixtureIdentifier",
        (2, 25) => "Keywords",
        (2, 26) => "ContentLocationCode",
        (2, 27) => "ContentLocationName",
        (2, 30) => "ReleaseDate",
        (2, 35) => "ReleaseTime",
        (2, 37) => "ExpirationDate",
        (2, 38) => "ExpirationTime",
        (2, 40) => "SpecialInstructions",
        (2, 42) => "ActionAdvised",
        (2, 45) => "ReferenceService",
        (2, 47) => "ReferenceDate",
        (2, 50) => "ReferenceNumber",
        (2, 55) => "DateCreated",
        (2, 60) => "TimeCreated",
        (2, 62) => "DigitalCreationDate",
        (2, 63) => "DigitalCreationTime",
        (2, 65) => "OriginatingProgram",
        (2, 70) => "ProgramVersion",
        (2, 75) => "ObjectCycle",
        (2, 80) => "By-line",
        (2, 85) => "By-lineTitle",
        (2, 90) => "City",
        (2, 92) => "Sub-location",
        (2, 95) => "Province-State",
        (2, 100) => "Country-PrimaryLocationCode",
        (2, 101) => "Country-PrimaryLocationName",
        (2, 103) => "OriginalTransmissionReference",
        (2, 105) => "Headline",
        (2, 110) => "Credit",
        (2, 115) => "Source",
        (2, 116) => "CopyrightNotice",
        (2, 118) => "Contact",
        (2, 120) => "Caption-Abstract",
        (2, 121) => "LocalCaption",
        (2, 122) => "Writer-Editor",
        (2, 125) => "RasterizedCaption",
        (2, 130) => "ImageType",
        (2, 131) => "ImageOrientation",
        (2, 135) => "LanguageIdentifier",
        (2, 200) => "ObjectPreviewFileFormat",
        (2, 201) => "ObjectPreviewFileVersion",
        (2, 202) => "ObjectPreviewData",
        (2, 230) => "DocumentNotes",
        (2, 231) => "DocumentHistory",
        (2, 232) => "ExifCameraInfo",
        _ => return None,
    })
}

/// IPTC IIM datasets: 0x1C, record, dataset, length, data.
fn iptc_iim(b: &[u8], c: &mut Collector) {
    let mut pos = 0;
    let mut utf8 = false;
    while pos < b.len() {
        if b[pos] != 0x1C {
            if b[pos..].iter().any(|&x| x != 0) {
                c.warn(format!(
                    "IPTC: unexpected bytes at offset {pos}; rest not read"
                ));
            }
            break;
        }
        let (Some(&record), Some(&dataset), Some(len)) =
            (b.get(pos + 1), b.get(pos + 2), be16(b, pos + 3))
        else {
            c.warn("IPTC: truncated dataset header".to_string());
            break;
        };
        let mut start = pos + 5;
        let mut size = len as usize;
        if len & 0x8000 != 0 {
            // Extended dataset: the low bits say how many length bytes follow.
            let n = (len & 0x7FFF) as usize;
            let Some(bytes) = slice(b, start, n).filter(|_| (1..=4).contains(&n)) else {
                c.warn("IPTC: invalid extended dataset length".to_string());
                break;
            };
            size = bytes.iter().fold(0usize, |acc, &x| (acc << 8) | x as usize);
            start += n;
        }
        let end = start.saturating_add(size);
        if end > b.len() {
            c.warn(format!("IPTC: dataset {record}:{dataset:03} is truncated"));
        }
        let data = &b[start.min(b.len())..end.min(b.len())];
        pos = end;
        match (record, dataset) {
            // Record versions say nothing about the picture.
            (1 | 2, 0) => continue,
            (1, 90) => {
                utf8 = data == b"\x1b%G";
                continue;
            }
            _ => {}
        }
        let field = match iim_name(record, dataset) {
            Some(n) => n.to_string(),
            None => format!("{record}:{dataset:03}"),
        };
        let binary = data
            .iter()
            .any(|&x| x < 0x20 && !matches!(x, b'\t' | b'\r' | b'\n'));
        let value = if binary {
            format!("{} bytes", data.len())
        } else if utf8 {
            preview(&String::from_utf8_lossy(&data[..data.len().min(4096)]))
        } else {
            preview(&decode_text(data))
        };
        c.add("IPTC", field, value);
    }
}

// ---------------------------------------------------------------- ICC

/// "'sRGB built-in', 588 bytes, created 2021-03-04 05:06:07".
fn icc_summary(p: &[u8]) -> String {
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

fn icc_description(p: &[u8]) -> Option<String> {
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

// ---------------------------------------------------------------- PNG

/// Chunks that only describe pixels.
fn structural_png_chunk(t: &[u8]) -> bool {
    matches!(
        t,
        b"IHDR"
            | b"PLTE"
            | b"IDAT"
            | b"IEND"
            | b"tRNS"
            | b"cHRM"
            | b"gAMA"
            | b"sBIT"
            | b"sRGB"
            | b"cICP"
            | b"mDCV"
            | b"mDCv"
            | b"cLLI"
            | b"cLLi"
            | b"bKGD"
            | b"hIST"
            | b"pHYs"
            | b"sPLT"
            | b"acTL"
            | b"fcTL"
            | b"fdAT"
    )
}

fn png(b: &[u8], c: &mut Collector) {
    let mut pos = PNG_SIGNATURE.len();
    loop {
        if pos >= b.len() {
            c.warn("PNG: no IEND chunk (file truncated?)".to_string());
            return;
        }
        let (Some(len), Some(kind)) = (be32(b, pos), slice(b, pos + 4, 4)) else {
            c.warn(format!("PNG: chunk header at offset {pos} is truncated"));
            return;
        };
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            c.warn(format!(
                "PNG: corrupt chunk type at offset {pos}; rest not read"
            ));
            return;
        }
        let name = latin1(kind);
        let start = pos + 8;
        let end = start.saturating_add(len as usize);
        let truncated = end.saturating_add(4) > b.len();
        if truncated {
            c.warn(format!("PNG: chunk {name} at offset {pos} is truncated"));
        }
        let data = &b[start.min(b.len())..end.min(b.len())];
        png_chunk(kind, &name, data, c);
        if truncated {
            return;
        }
        pos = end + 4;
        if kind == b"IEND" {
            if pos < b.len() {
                trailer(&b[pos..], pos, "IEND", c);
            }
            return;
        }
    }
}

/// Inflated text kept for a preview: more is never shown.
const TEXT_INFLATE_LIMIT: usize = 4096;
/// Inflated XMP read for its properties (a compression bomb stops here).
const XMP_INFLATE_LIMIT: usize = 4 << 20;

/// A compressed chunk's stream, inflated by [`Collector::inflate`].
enum Inflated {
    /// The text, and whether that was all of it.
    Text(Vec<u8>, bool),
    /// Listed as this instead (not zlib, or the file's budget spent).
    Not(String),
}

impl Collector {
    /// The zlib stream of a compressed text chunk, inflated to at most
    /// `limit` bytes and what is left of the file's [`INFLATE_BUDGET`].
    fn inflate(&mut self, stream: &[u8], limit: usize) -> Inflated {
        use miniz_oxide::inflate::{
            DecompressError, TINFLStatus, decompress_to_vec_zlib_with_limit,
        };
        let left = INFLATE_BUDGET.saturating_sub(self.inflated_bytes);
        if left == 0 {
            if !self.inflate_budget_spent {
                self.inflate_budget_spent = true;
                self.warn(format!(
                    "compressed chunks inflate past {} MiB in all; the rest are listed by size only",
                    INFLATE_BUDGET >> 20
                ));
            }
            return Inflated::Not(format!(
                "{} bytes compressed, not inflated (over the file's budget)",
                stream.len()
            ));
        }
        let limit = limit.min(left);
        let (text, whole) = match decompress_to_vec_zlib_with_limit(stream, limit) {
            Ok(text) => (text, true),
            Err(DecompressError {
                status: TINFLStatus::HasMoreOutput,
                output,
            }) => (output, false),
            Err(_) => {
                return Inflated::Not(format!("{} bytes compressed, not valid zlib", stream.len()));
            }
        };
        self.inflated_bytes += if whole { text.len() } else { limit };
        Inflated::Text(text, whole)
    }
}

/// Keyword (Latin-1, NUL-terminated) and the rest of a text chunk.
fn keyword(data: &[u8]) -> (String, &[u8]) {
    match data.iter().take(80).position(|&x| x == 0) {
        Some(i) => (latin1(&data[..i]), &data[i + 1..]),
        None => (latin1(&data[..data.len().min(79)]), &[]),
    }
}

fn png_chunk(kind: &[u8], name: &str, data: &[u8], c: &mut Collector) {
    match kind {
        b"tEXt" => {
            let (key, text) = keyword(data);
            c.add("PNG-text", format!("tEXt:{key}"), preview(&latin1(text)));
        }
        b"zTXt" => {
            // Compression method (0: zlib), then the stream.
            let (key, rest) = keyword(data);
            let stream = rest.get(1..).unwrap_or_default();
            let value = match c.inflate(stream, TEXT_INFLATE_LIMIT) {
                Inflated::Text(text, _) => preview(&latin1(&text)),
                Inflated::Not(listed) => listed,
            };
            c.add("PNG-text", format!("zTXt:{key}"), value);
        }
        b"iTXt" => {
            let (key, rest) = keyword(data);
            let compressed = rest.first().is_some_and(|&f| f != 0);
            // Compression flag and method, then language and translated keyword.
            let after_lang = rest.get(2..).unwrap_or_default();
            let text = after_lang.splitn(3, |&x| x == 0).nth(2).unwrap_or_default();
            let is_xmp = key == "XML:com.adobe.xmp";
            let limit = if is_xmp {
                XMP_INFLATE_LIMIT
            } else {
                TEXT_INFLATE_LIMIT
            };
            let inflated = match compressed {
                false => Inflated::Text(text.to_vec(), true),
                true => c.inflate(text, limit),
            };
            match (is_xmp, inflated) {
                (true, Inflated::Text(packet, whole)) => {
                    if !whole {
                        c.warn(format!(
                            "compressed XMP in iTXt inflates past {} bytes; listed what those hold",
                            packet.len()
                        ));
                    }
                    xmp_packet(&packet, "XMP", c)
                }
                (false, Inflated::Text(t, _)) => c.add(
                    "PNG-text",
                    format!("iTXt:{key}"),
                    preview(&String::from_utf8_lossy(&t[..t.len().min(4096)])),
                ),
                (true, Inflated::Not(listed)) => c.add("XMP", "iTXt:XML:com.adobe.xmp", listed),
                (false, Inflated::Not(listed)) => c.add("PNG-text", format!("iTXt:{key}"), listed),
            }
        }
        b"eXIf" => {
            let tiff = data.strip_prefix(b"Exif\0\0").unwrap_or(data);
            exif_block(tiff, Host::Embedded, "PNG eXIf", 0, c);
        }
        b"tIME" => {
            let value = match (be16(data, 0), data.get(2..7)) {
                (Some(y), Some(&[mo, d, h, mi, s])) => {
                    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
                }
                _ => format!("{} bytes, malformed", data.len()),
            };
            c.add("PNG-time", "tIME", value);
        }
        b"iCCP" => {
            let (profile_name, rest) = keyword(data);
            c.add(
                "ICC",
                "iCCP",
                format!(
                    "'{}', {} bytes compressed",
                    printable(&profile_name, 50),
                    rest.len().saturating_sub(1)
                ),
            );
        }
        k if structural_png_chunk(k) => {}
        _ => c.add("PNG-chunk", name, blob_summary(data)),
    }
}

// ---------------------------------------------------------------- WebP

fn webp(b: &[u8], c: &mut Collector) {
    let declared = le32(b, 4).map_or(0, |n| n as usize).saturating_add(8);
    let end = if declared > b.len() {
        c.warn(format!(
            "WebP: RIFF size says {declared} bytes but the file has {}",
            b.len()
        ));
        b.len()
    } else {
        declared
    };
    let mut pos: usize = 12;
    while pos.saturating_add(8) <= end {
        let (Some(kind), Some(size)) = (slice(b, pos, 4), le32(b, pos + 4)) else {
            break;
        };
        let start = pos + 8;
        let chunk_end = start.saturating_add(size as usize);
        let truncated = chunk_end > end;
        let name = printable(&latin1(kind), 8);
        if truncated {
            c.warn(format!("WebP: chunk '{name}' at offset {pos} is truncated"));
        }
        let data = &b[start..chunk_end.min(end)];
        match kind {
            b"EXIF" => {
                let tiff = data.strip_prefix(b"Exif\0\0").unwrap_or(data);
                exif_block(tiff, Host::Embedded, "WebP EXIF", 0, c);
            }
            b"XMP " => xmp_packet(data, "XMP", c),
            b"ICCP" => c.add("ICC", "ICCP", icc_summary(data)),
            b"VP8 " | b"VP8L" | b"VP8X" | b"ALPH" | b"ANIM" | b"ANMF" => {}
            _ => c.add("WebP-chunk", name, blob_summary(data)),
        }
        if truncated {
            break;
        }
        pos = chunk_end.saturating_add(size as usize & 1);
    }
    if declared < b.len() {
        trailer(&b[declared..], declared, "the RIFF data", c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use std::time::{Duration, Instant};

    /// A little-endian TIFF: IFD0 at offset 8, then the values that do not
    /// fit in an entry. Each entry is (tag, type, count, value bytes).
    fn tiff(entries: &[(u16, u16, u32, Vec<u8>)], next_ifd: u32) -> Vec<u8> {
        let mut out = b"II*\0\x08\0\0\0".to_vec();
        let data_at = 8 + 2 + 12 * entries.len() + 4;
        let mut data: Vec<u8> = Vec::new();
        out.extend((entries.len() as u16).to_le_bytes());
        for (tag, kind, count, value) in entries {
            out.extend(tag.to_le_bytes());
            out.extend(kind.to_le_bytes());
            out.extend(count.to_le_bytes());
            if value.len() <= 4 {
                let mut v = value.clone();
                v.resize(4, 0);
                out.extend(v);
            } else {
                out.extend(((data_at + data.len()) as u32).to_le_bytes());
                data.extend(value);
            }
        }
        out.extend(next_ifd.to_le_bytes());
        out.extend(data);
        out
    }

    fn ascii(s: &str) -> (u32, Vec<u8>) {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        (v.len() as u32, v)
    }

    /// SOI, the given segments, EOI.
    fn jpeg_with(segments: &[(u8, Vec<u8>)]) -> Vec<u8> {
        let mut out = vec![0xFF, 0xD8];
        for (marker, payload) in segments {
            out.extend([0xFF, *marker]);
            out.extend(((payload.len() + 2) as u16).to_be_bytes());
            out.extend(payload);
        }
        out.extend([0xFF, 0xD9]);
        out
    }

    fn exif_segment(tiff: &[u8]) -> (u8, Vec<u8>) {
        let mut p = b"Exif\0\0".to_vec();
        p.extend(tiff);
        (0xE1, p)
    }

    fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend(kind);
        out.extend(data);
        out.extend([0, 0, 0, 0]); // CRC is not checked
        out
    }

    fn fields(inv: &Inventory) -> Vec<(&str, &str, &str)> {
        inv.findings
            .iter()
            .map(|f| (f.group.as_str(), f.field.as_str(), f.value.as_str()))
            .collect()
    }

    fn encoded(format: image::ImageFormat) -> Vec<u8> {
        let img =
            image::RgbImage::from_fn(16, 16, |x, y| image::Rgb([x as u8 * 16, y as u8 * 16, 90]));
        let mut buf = Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut buf, format)
            .expect("encode");
        buf.into_inner()
    }

    #[test]
    fn freshly_encoded_images_carry_no_metadata() {
        for format in [
            image::ImageFormat::Jpeg,
            image::ImageFormat::Png,
            image::ImageFormat::WebP,
            image::ImageFormat::Tiff,
        ] {
            let inv = inventory(&encoded(format));
            assert_eq!(inv, Inventory::default(), "{format:?}");
        }
    }

    #[test]
    fn empty_input_gives_a_warning_not_a_panic() {
        let inv = inventory(&[]);
        assert!(inv.findings.is_empty());
        assert_eq!(inv.warnings.len(), 1);
    }

    #[test]
    fn short_garbage_never_panics() {
        let mut state: u32 = 12345;
        for len in 0..200 {
            for prefix in [
                &b"\xFF\xD8"[..],
                PNG_SIGNATURE,
                b"RIFF\0\0\0\0WEBP",
                b"II*\0",
                b"MM\0*",
            ] {
                let mut bytes = prefix.to_vec();
                for _ in 0..len {
                    state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    bytes.push((state >> 16) as u8);
                }
                let _ = inventory(&bytes);
            }
        }
    }

    #[test]
    fn an_ifd_that_points_at_itself_does_not_hang() {
        // IFD0's next-IFD offset is IFD0, and its Exif pointer is IFD0 too.
        let (n, artist) = ascii("Dr. Loop");
        let exif_pointer = 8u32.to_le_bytes().to_vec();
        let t = tiff(&[(0x013B, 2, n, artist), (0x8769, 4, 1, exif_pointer)], 8);
        let started = Instant::now();
        for bytes in [t.clone(), jpeg_with(&[exif_segment(&t)])] {
            let inv = inventory(&bytes);
            assert!(
                fields(&inv).contains(&("EXIF", "Artist", "Dr. Loop")),
                "{inv:?}"
            );
            assert!(!inv.warnings.is_empty());
        }
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn thousands_of_entries_pointing_at_one_big_value_stay_cheap() {
        // 4000 entries, each a 256 KiB UNDEFINED value at the same offset:
        // a gigabyte if every value were parsed and kept.
        let blob_len = 256 * 1024u32;
        let count = 4000usize;
        let blob_at = 8 + 2 + 12 * count as u32 + 4;
        let mut t = b"II*\0\x08\0\0\0".to_vec();
        t.extend((count as u16).to_le_bytes());
        for i in 0..count {
            t.extend((0x9000u16 + i as u16).to_le_bytes());
            t.extend(7u16.to_le_bytes());
            t.extend(blob_len.to_le_bytes());
            t.extend(blob_at.to_le_bytes());
        }
        t.extend(0u32.to_le_bytes());
        t.resize(t.len() + blob_len as usize, 0xAB);
        let started = Instant::now();
        let inv = inventory(&t);
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(inv.findings.len() < count);
        assert!(
            inv.warnings.iter().any(|w| w.contains("MiB")),
            "{:?}",
            inv.warnings
        );
    }

    #[test]
    fn findings_stop_at_the_cap_and_a_warning_says_so() {
        let segments: Vec<(u8, Vec<u8>)> = (0..2500)
            .map(|i| (0xFE, format!("comment {i}").into_bytes()))
            .collect();
        let inv = inventory(&jpeg_with(&segments));
        assert_eq!(inv.findings.len(), MAX_FINDINGS);
        assert!(inv.warnings.iter().any(|w| w.contains("first 2000")));
    }

    #[test]
    fn control_characters_in_a_comment_are_escaped() {
        let inv = inventory(&jpeg_with(&[(0xFE, b"Jane\x1b[31m Doe\n".to_vec())]));
        assert_eq!(fields(&inv), [("Comment", "COM", "Jane\\u{1b}[31m Doe")]);
    }

    #[test]
    fn windows_xp_author_and_thumbnail_in_exif_are_found() {
        let author: Vec<u8> = "Dr. Wu\0"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let mut t = tiff(&[(0x9C9D, 1, author.len() as u32, author.clone())], 0);
        // IFD1 with a 10-byte "JPEG" thumbnail right after it.
        let ifd1_at = t.len() as u32;
        let thumb_at = ifd1_at + 2 + 2 * 12 + 4;
        t[8 + 2 + 12..8 + 2 + 12 + 4].copy_from_slice(&ifd1_at.to_le_bytes());
        t.extend(2u16.to_le_bytes());
        for (tag, value) in [(0x0201u16, thumb_at), (0x0202, 10)] {
            t.extend(tag.to_le_bytes());
            t.extend(4u16.to_le_bytes());
            t.extend(1u32.to_le_bytes());
            t.extend(value.to_le_bytes());
        }
        t.extend(0u32.to_le_bytes());
        t.extend(b"\xFF\xD8thumb\xFF\xD9\0");
        let inv = inventory(&jpeg_with(&[exif_segment(&t)]));
        assert_eq!(
            fields(&inv),
            [
                ("EXIF", "XPAuthor", "Dr. Wu"),
                ("Thumbnail", "ThumbnailImage", "JPEG, 10 bytes")
            ],
            "{:?}",
            inv.warnings
        );
    }

    #[test]
    fn xmp_elements_attributes_and_lists_are_read() {
        let packet = r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="t"><rdf:RDF xmlns:rdf="r">
<rdf:Description rdf:about="" xmlns:dc="d" xmlns:photoshop="p" xmlns:exif="e"
  photoshop:City="Springfield" tiff:Make='Nikon' exif:GPSLatitude="51,30.042N">
 <dc:creator><rdf:Seq><rdf:li>Ann &amp; Bob</rdf:li><rdf:li>Cy</rdf:li></rdf:Seq></dc:creator>
 <dc:description><rdf:Alt><rdf:li xml:lang="x-default">MRN &#49;2345</rdf:li></rdf:Alt></dc:description>
 <!-- <dc:rights>not this</dc:rights> -->
 <photoshop:Headline><![CDATA[a <b> c]]></photoshop:Headline>
 <exif:Flash rdf:parseType="Resource"><exif:Fired>False</exif:Fired></exif:Flash>
</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>"#;
        let mut seg = XMP_SIGNATURE.to_vec();
        seg.extend(packet.as_bytes());
        let inv = inventory(&jpeg_with(&[(0xE1, seg)]));
        assert_eq!(
            fields(&inv),
            [
                ("XMP", "photoshop:City", "Springfield"),
                ("XMP", "tiff:Make", "Nikon"),
                ("XMP", "exif:GPSLatitude", "51,30.042N"),
                ("XMP", "dc:creator", "Ann & Bob; Cy"),
                ("XMP", "dc:description", "MRN 12345"),
                ("XMP", "photoshop:Headline", "a <b> c"),
                ("XMP", "exif:Fired", "False"),
            ]
        );
        assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
    }

    #[test]
    fn extended_xmp_split_over_segments_is_joined() {
        let packet = b"<x:xmpmeta><rdf:RDF><rdf:Description><dc:rights>St. Example</dc:rights></rdf:Description></rdf:RDF></x:xmpmeta>";
        let (a, b) = packet.split_at(40);
        let chunk = |offset: usize, data: &[u8]| {
            let mut p = XMP_EXTENSION_SIGNATURE.to_vec();
            p.extend([b'0'; 32]);
            p.extend((packet.len() as u32).to_be_bytes());
            p.extend((offset as u32).to_be_bytes());
            p.extend(data);
            (0xE1, p)
        };
        // Out of order on purpose: the offset says where each piece goes.
        let inv = inventory(&jpeg_with(&[chunk(40, b), chunk(0, a)]));
        assert_eq!(
            fields(&inv),
            [
                (
                    "XMP",
                    "ExtendedXMP",
                    format!("{} bytes", packet.len()).as_str()
                ),
                ("XMP", "dc:rights", "St. Example")
            ]
        );
    }

    #[test]
    fn iptc_datasets_in_app13_are_named() {
        let mut iim = Vec::new();
        for (ds, value) in [
            (0u8, &b"\0\x04"[..]),
            (25, b"wound"),
            (25, b"heel"),
            (90, b"Springfield"),
            (5, b"case 7"),
        ] {
            iim.extend([0x1C, 2, ds]);
            iim.extend((value.len() as u16).to_be_bytes());
            iim.extend(value);
        }
        // An extended-length dataset: 0x8002, then a 2-byte length.
        iim.extend([0x1C, 2, 80, 0x80, 0x02, 0x00, 0x05]);
        iim.extend(b"Dr. X");
        let mut app13 = PHOTOSHOP_SIGNATURE.to_vec();
        app13.extend(b"8BIM\x04\x04\0\0");
        app13.extend((iim.len() as u32).to_be_bytes());
        app13.extend(&iim);
        if iim.len() % 2 == 1 {
            app13.push(0);
        }
        app13.extend(b"8BIM\x04\x0C\0\0\0\0\0\x04abcd");
        let inv = inventory(&jpeg_with(&[(0xED, app13)]));
        assert_eq!(
            fields(&inv),
            [
                ("IPTC", "Keywords", "wound"),
                ("IPTC", "Keywords", "heel"),
                ("IPTC", "City", "Springfield"),
                ("IPTC", "ObjectName", "case 7"),
                ("IPTC", "By-line", "Dr. X"),
                ("Thumbnail", "PhotoshopThumbnail", "4 bytes"),
            ],
            "{:?}",
            inv.warnings
        );
    }

    #[test]
    fn mpf_secondary_images_and_other_app_segments_are_listed() {
        // MPF: a big-endian TIFF whose MPEntry (0xB002) lists two images.
        let mut mp = Vec::new();
        for (attr, size, offset) in [(0x2003_0000u32, 5000u32, 0u32), (0x0001_0001, 1234, 6000)] {
            mp.extend(attr.to_be_bytes());
            mp.extend(size.to_be_bytes());
            mp.extend(offset.to_be_bytes());
            mp.extend([0, 0, 0, 0]);
        }
        let mut mpf =
            b"MPF\0MM\0*\0\0\0\x08\0\x01\xB0\x02\0\x07\0\0\0\x20\0\0\0\x1A\0\0\0\0".to_vec();
        mpf.extend(&mp);
        let ducky = b"Ducky\0\x01\0\x04\0\0\0\x50\0\x03\0\x0C\0\0\0\x04\0A\0n\0n\0\0\0\0".to_vec();
        let inv = inventory(&jpeg_with(&[
            (0xE2, mpf),
            (0xEC, ducky),
            (0xEA, b"Hipaa\0Jane Doe".to_vec()),
        ]));
        let f = fields(&inv);
        assert_eq!(f.len(), 3, "{f:?} {:?}", inv.warnings);
        assert_eq!(f[0].0, "MPF");
        assert_eq!(f[0].1, "Image2");
        assert!(
            f[0].2.starts_with("preview, 1234 bytes at file offset "),
            "{}",
            f[0].2
        );
        assert_eq!(f[1], ("APP12", "Ducky:Copyright", "Ann"));
        assert_eq!(f[2], ("APP10", "Hipaa", "14 bytes: Hipaa Jane Doe"));
    }

    #[test]
    fn png_chunks_and_trailer_are_listed() {
        let mut png = PNG_SIGNATURE.to_vec();
        png.extend(png_chunk(b"IHDR", &[0; 13]));
        png.extend(png_chunk(b"zTXt", b"Comment\0\0\x78\x9c\x01\x02"));
        png.extend(png_chunk(b"iTXt", b"Title\0\0\0en\0Titel\0Jane"));
        png.extend(png_chunk(b"iCCP", b"Dr Smith monitor\0\0\x78\x9c"));
        png.extend(png_chunk(b"caBX", b"c2pa manifest"));
        png.extend(png_chunk(b"IDAT", &[0; 4]));
        png.extend(png_chunk(b"IEND", &[]));
        let at = png.len();
        png.extend(b"MRN 12345");
        let inv = inventory(&png);
        let trailer = format!("9 bytes at offset {at}: MRN 12345");
        assert_eq!(
            fields(&inv),
            [
                (
                    "PNG-text",
                    "zTXt:Comment",
                    "4 bytes compressed, not valid zlib"
                ),
                ("PNG-text", "iTXt:Title", "Jane"),
                ("ICC", "iCCP", "'Dr Smith monitor', 2 bytes compressed"),
                ("PNG-chunk", "caBX", "13 bytes: c2pa manifest"),
                ("Trailer", "after IEND", trailer.as_str()),
            ]
        );
        assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
    }

    /// A zTXt chunk: keyword, compression method 0, then the zlib stream.
    fn ztxt(keyword: &str, stream: &[u8]) -> Vec<u8> {
        png_chunk(b"zTXt", &[keyword.as_bytes(), b"\0\0", stream].concat())
    }

    /// A compressed iTXt chunk: keyword, flag 1, method 0, language, no
    /// translated keyword, then the zlib stream.
    fn compressed_itxt(keyword: &str, language: &str, stream: &[u8]) -> Vec<u8> {
        let head = [
            keyword.as_bytes(),
            b"\0\x01\0",
            language.as_bytes(),
            b"\0\0",
        ]
        .concat();
        png_chunk(b"iTXt", &[head.as_slice(), stream].concat())
    }

    #[test]
    fn compressed_png_text_and_xmp_are_inflated_for_the_reviewer() {
        use miniz_oxide::deflate::compress_to_vec_zlib;
        let z = |b: &[u8]| compress_to_vec_zlib(b, 6);
        let xmp = br#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator><rdf:Seq><rdf:li>Dr. John Smith</rdf:li></rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>"#;
        let mut png = PNG_SIGNATURE.to_vec();
        png.extend(png_chunk(b"IHDR", &[0; 13]));
        png.extend(ztxt("Comment", &z(b"Patient Jane Doe, MRN 12345")));
        png.extend(compressed_itxt(
            "Author",
            "en",
            &z("Dr. Zoë Smith".as_bytes()),
        ));
        png.extend(compressed_itxt("XML:com.adobe.xmp", "", &z(xmp)));
        png.extend(png_chunk(b"IDAT", &[0; 4]));
        png.extend(png_chunk(b"IEND", &[]));
        let inv = inventory(&png);
        let f = fields(&inv);
        assert_eq!(
            f[0],
            ("PNG-text", "zTXt:Comment", "Patient Jane Doe, MRN 12345")
        );
        assert_eq!(f[1], ("PNG-text", "iTXt:Author", "Dr. Zoë Smith"));
        assert!(
            f.iter()
                .any(|(g, _, v)| *g == "XMP" && v.contains("Dr. John Smith")),
            "{f:?}"
        );
        assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
    }

    #[test]
    fn a_compression_bomb_in_a_text_chunk_is_inflated_only_as_far_as_a_preview() {
        use miniz_oxide::deflate::compress_to_vec_zlib;
        let huge = [b"MRN 12345 ".as_slice(), &vec![b'x'; 64 << 20]].concat();
        let bomb = compress_to_vec_zlib(&huge, 9);
        assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
        let mut png = PNG_SIGNATURE.to_vec();
        png.extend(png_chunk(b"IHDR", &[0; 13]));
        png.extend(ztxt("Comment", &bomb));
        png.extend(compressed_itxt("XML:com.adobe.xmp", "", &bomb));
        png.extend(png_chunk(b"IEND", &[]));
        let inv = inventory(&png);
        let f = fields(&inv);
        assert!(f[0].2.starts_with("MRN 12345 xxx"), "{:?}", f[0]);
        assert!(
            inv.warnings
                .iter()
                .any(|w| w.contains(&format!("inflates past {XMP_INFLATE_LIMIT} bytes"))),
            "{:?}",
            inv.warnings
        );
    }

    #[test]
    fn many_small_bombs_share_one_inflate_budget_per_file() {
        use miniz_oxide::deflate::compress_to_vec_zlib;
        let bomb = compress_to_vec_zlib(&vec![b'x'; XMP_INFLATE_LIMIT + 1], 9);
        let mut png = PNG_SIGNATURE.to_vec();
        png.extend(png_chunk(b"IHDR", &[0; 13]));
        let inflatable = INFLATE_BUDGET / XMP_INFLATE_LIMIT;
        for _ in 0..inflatable + 3 {
            png.extend(compressed_itxt("XML:com.adobe.xmp", "", &bomb));
        }
        png.extend(png_chunk(b"IEND", &[]));
        let inv = inventory(&png);
        let f = fields(&inv);
        let over = f
            .iter()
            .filter(|(_, _, v)| v.ends_with("not inflated (over the file's budget)"))
            .count();
        assert_eq!(over, 3, "{f:?}");
        let spent = inv
            .warnings
            .iter()
            .filter(|w| w.contains("compressed chunks inflate past 16 MiB in all"))
            .count();
        assert_eq!(spent, 1, "{:?}", inv.warnings);
    }

    #[test]
    fn exif_in_a_png_exif_chunk_is_read() {
        let (n, make) = ascii("Canon");
        let mut png = PNG_SIGNATURE.to_vec();
        png.extend(png_chunk(b"IHDR", &[0; 13]));
        png.extend(png_chunk(
            b"eXIf",
            &tiff(&[(0x010F, 2, n, make), (0x0112, 3, 1, vec![8, 0])], 0),
        ));
        png.extend(png_chunk(b"IEND", &[]));
        let inv = inventory(&png);
        assert_eq!(inv.orientation, Some(8));
        assert_eq!(
            fields(&inv),
            [
                ("EXIF", "Make", "Canon"),
                ("EXIF", "Orientation", "8 (rotate 270 CW)")
            ]
        );
    }

    #[test]
    fn webp_bytes_past_the_riff_size_are_a_trailer() {
        let mut webp = encoded(image::ImageFormat::WebP);
        webp.extend(b"PHI!");
        let at = webp.len() - 4;
        let inv = inventory(&webp);
        assert_eq!(
            fields(&inv),
            [(
                "Trailer",
                "after the RIFF data",
                format!("4 bytes at offset {at}: PHI!").as_str()
            )]
        );
    }

    #[test]
    fn maker_note_serials_and_a_unicode_user_comment_in_the_exif_ifd_are_found() {
        // IFD0 holds only the Exif IFD pointer; the Exif IFD follows it.
        let exif_ifd_at = 8 + 2 + 12 + 4u32;
        let mut t = tiff(&[(0x8769, 4, 1, exif_ifd_at.to_le_bytes().to_vec())], 0);
        let mut comment = b"UNICODE\0".to_vec();
        comment.extend("Jane Doe".encode_utf16().flat_map(|u| u.to_le_bytes()));
        let mut maker = b"Nikon\0\x02\x10\0\0".to_vec();
        maker.resize(300, 0x01);
        let (n, serial) = ascii("SN-42");
        let sub = tiff(
            &[
                (0x927C, 7, maker.len() as u32, maker),
                (0x9286, 7, comment.len() as u32, comment),
                (0xA431, 2, n, serial),
            ],
            0,
        );
        // Re-base the sub-IFD's value offsets from 8 to where it now lives.
        let mut sub_ifd = sub[8..].to_vec();
        for i in 0..3 {
            let at = 2 + 12 * i + 8;
            let count = u32::from_le_bytes(sub_ifd[at - 4..at].try_into().unwrap_or_default());
            if count > 4 {
                let old = u32::from_le_bytes(sub_ifd[at..at + 4].try_into().unwrap_or_default());
                let new = old - 8 + exif_ifd_at;
                sub_ifd[at..at + 4].copy_from_slice(&new.to_le_bytes());
            }
        }
        t.extend(sub_ifd);
        let inv = inventory(&jpeg_with(&[exif_segment(&t)]));
        assert_eq!(
            fields(&inv),
            [
                ("MakerNote", "MakerNote", "300 bytes: Nikon"),
                ("EXIF", "UserComment", "Jane Doe"),
                ("EXIF", "BodySerialNumber", "SN-42"),
            ],
            "{:?}",
            inv.warnings
        );
    }

    #[test]
    fn an_invalid_orientation_is_reported_but_not_used() {
        let t = tiff(&[(0x0112, 3, 1, vec![9, 0])], 0);
        let inv = inventory(&jpeg_with(&[exif_segment(&t)]));
        assert_eq!(inv.orientation, None);
        assert_eq!(fields(&inv), [("EXIF", "Orientation", "9 (invalid)")]);
        assert_eq!(inv.warnings.len(), 1);
    }

    #[test]
    fn a_truncated_segment_is_reported_with_its_offset() {
        let mut j = jpeg_with(&[(0xFE, b"a long comment".to_vec())]);
        j.truncate(10);
        let inv = inventory(&j);
        assert!(
            inv.warnings[0].contains("COM at offset 2 is truncated"),
            "{:?}",
            inv.warnings
        );
    }
}
