//! Photoshop image resources and the IPTC records inside them.

use super::*;
use crate::text::printable;

/// Photoshop image resources ("8BIM" blocks), as in JPEG APP13 and TIFF 34377.
pub(super) fn photoshop_resources(b: &[u8], depth: u8, c: &mut Collector) {
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

/// The IPTC IIM name of a record and dataset (`By-line`, `City`, …).
pub(super) fn iim_name(record: u8, dataset: u8) -> Option<&'static str> {
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
pub(super) fn iptc_iim(b: &[u8], c: &mut Collector) {
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
