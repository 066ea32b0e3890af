//! JPEG: every marker segment (APPn, COM) and what follows the image
//! (trailers, appended files), with EXIF, XMP, Photoshop and ICC handed on.

use super::*;
use crate::container::{entropy_end, marker_name};
use exif::{Context, In, Tag, Value};

/// Pieces of one ICC profile spread over several APP2 segments.
#[derive(Default)]
pub(super) struct IccChunks {
    chunks: Vec<(u8, Vec<u8>)>,
    expected: u8,
}

/// Extended XMP (APP1 "xmp/extension") packets, in order of first chunk.
#[derive(Default)]
pub(super) struct ExtendedXmp {
    packets: Vec<ExtendedXmpPacket>,
}

/// One extended XMP packet: its GUID, full length and (offset, bytes) chunks.
pub(super) struct ExtendedXmpPacket {
    guid: Vec<u8>,
    full_len: u32,
    chunks: Vec<(u32, Vec<u8>)>,
}

/// List what a JPEG carries: every segment, and what follows its end.
pub(super) fn jpeg(b: &[u8], c: &mut Collector) {
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
            pos = entropy_end(b, pos).unwrap_or(b.len());
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

/// One marker segment: EXIF, XMP, ICC, Photoshop, MPF, comments or an unknown APPn.
pub(super) fn jpeg_segment(
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

/// APP0: JFIF (its thumbnail) or JFXX.
pub(super) fn app0(p: &[u8], c: &mut Collector) {
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
pub(super) fn other_app(marker: u8, p: &[u8], c: &mut Collector) {
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
pub(super) fn ducky(p: &[u8], c: &mut Collector) {
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

/// Collect one chunk of an ICC profile split across APP2 segments.
pub(super) fn icc_chunk(x: &[u8], icc: &mut IccChunks, c: &mut Collector) {
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

/// List the ICC profile once its chunks are collected.
pub(super) fn emit_icc_chunks(icc: &mut IccChunks, c: &mut Collector) {
    icc.chunks.sort_by_key(|(seq, _)| *seq);
    let profile: Vec<u8> = icc.chunks.drain(..).flat_map(|(_, d)| d).collect();
    c.add("ICC", "ICC_PROFILE", icc_summary(&profile));
}

/// Collect one chunk of an extended XMP packet.
pub(super) fn extended_xmp_chunk(x: &[u8], ext: &mut ExtendedXmp, c: &mut Collector) {
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

/// List the extended XMP packet once its chunks are collected.
pub(super) fn emit_extended_xmp(ext: ExtendedXmp, c: &mut Collector) {
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
pub(super) fn mpf(tiff: &[u8], tiff_at: usize, c: &mut Collector) {
    let Some(exif) = read_exif(tiff, "JPEG APP2 MPF", c) else {
        c.add("MPF", "MPF", format!("{} bytes", tiff.len()));
        return;
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
