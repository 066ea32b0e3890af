//! HEIF: every item, property, reference, group and box that is not the
//! primary picture's own pixels, listed for the reviewer. The container is
//! read by [`crate::heif`]; EXIF, XMP, IPTC and ICC payloads go to the same
//! readers as in JPEG. Nothing here is released: the output is re-encoded
//! from the primary image's pixels alone.

use super::{
    Collector, Host, blob_summary, exif_block, icc_summary, iptc_iim, preview, trailer, xmp_packet,
};
use crate::heif::{self, Fourcc, Heif, Property, fourcc};
use std::collections::BTreeSet;

/// Bytes of one metadata item read for the inventory.
const MAX_ITEM_BYTES: usize = 16 << 20;

/// Item types that hold a picture.
fn is_image(kind: &Fourcc) -> bool {
    matches!(
        kind,
        b"hvc1"
            | b"grid"
            | b"iden"
            | b"iovl"
            | b"av01"
            | b"jpeg"
            | b"unci"
            | b"tmap"
            | b"vvc1"
            | b"j2k1"
            | b"avc1"
            | b"lhv1"
    )
}

/// Properties that describe how the pixels are coded or shown, and hold no
/// text: not listed.
fn structural_property(kind: &Fourcc) -> bool {
    matches!(
        kind,
        b"ispe"
            | b"pixi"
            | b"hvcC"
            | b"av1C"
            | b"vvcC"
            | b"jpgC"
            | b"irot"
            | b"imir"
            | b"clap"
            | b"lsel"
            | b"a1op"
            | b"a1lx"
            | b"clli"
            | b"mdcv"
            | b"cclv"
            | b"amve"
            | b"rloc"
            | b"pasp"
            | b"iscl"
            | b"auxC"
            | b"uncC"
            | b"cmpd"
            | b"oinf"
            | b"tols"
            | b"lhvC"
    )
}

/// What an auxiliary image's `auxC` type means.
fn auxiliary_name(urn: &str) -> &'static str {
    match urn {
        "urn:mpeg:hevc:2015:auxid:1" | "urn:mpeg:mpegB:cicp:systems:auxiliary:alpha" => {
            "alpha (transparency) plane"
        }
        "urn:mpeg:hevc:2015:auxid:2" | "urn:mpeg:mpegB:cicp:systems:auxiliary:depth" => "depth map",
        u if u.contains("hdrgainmap") || u.contains("gainmap") => "HDR gain map",
        u if u.contains("portraitEffectsMatte") || u.contains("Matte") => {
            "segmentation matte (outlines the people in the photo)"
        }
        u if u.contains("disparity") => "disparity (depth) map",
        _ => "auxiliary image",
    }
}

/// What an entity group's type means.
fn group_name(kind: &Fourcc) -> String {
    let name = match kind {
        b"ster" => "stereo pair",
        b"brst" => "burst",
        b"altr" => "alternatives",
        b"pano" => "panorama",
        b"eqiv" => "equivalent images",
        b"favc" => "favourites",
        b"slid" => "slideshow",
        b"iaug" => "augmented image",
        b"tsyn" => "time-synchronised capture",
        b"aebr" | b"wbbr" | b"fobr" | b"afbr" | b"dobr" | b"prgr" => "bracketed set",
        _ => "entity group",
    };
    format!("{name} ('{}')", fourcc(kind))
}

fn ids(list: &[u32]) -> String {
    let shown: Vec<String> = list.iter().take(12).map(u32::to_string).collect();
    let more = list.len().saturating_sub(12);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn size_text(map: &Heif, id: u32) -> String {
    match map.shown_size_of(id) {
        Some((w, h)) => format!("{w}x{h}"),
        None => "size not stated".into(),
    }
}

/// List what a HEIF file carries besides the primary picture.
pub(super) fn heif(b: &[u8], c: &mut Collector) {
    let map = heif::parse(b);
    for w in &map.warnings {
        c.warn(w.clone());
    }
    let primary = map.primary;
    let parts: BTreeSet<u32> = map.primary_parts().into_iter().collect();
    if let Some(p) = primary {
        transforms(&map, p, c);
        let of = map.references_from(p, b"thmb");
        if !of.is_empty() {
            c.warn(format!(
                "HEIF: the primary image (item {p}) is also marked as a thumbnail of item {}; Veil reviews and releases item {p}, the one 'pitm' names",
                ids(&of)
            ));
        }
    }
    // Tiles of any other image are listed with that image, not alone.
    let tiles: BTreeSet<u32> = map
        .items
        .iter()
        .filter(|i| !parts.contains(&i.id))
        .flat_map(|i| map.references_from(i.id, b"dimg"))
        .collect();
    for item in &map.items {
        if parts.contains(&item.id) {
            continue;
        }
        let id = item.id;
        let name = if item.name.is_empty() {
            String::new()
        } else {
            format!(" '{}'", preview(&item.name))
        };
        match &item.kind {
            b"Exif" => match map.item_data(b, id, MAX_ITEM_BYTES) {
                Some(data) => exif_item(&data, id, c),
                None => unreadable(item.id, "Exif", c),
            },
            b"iptc" => match map.item_data(b, id, MAX_ITEM_BYTES) {
                Some(data) => iptc_iim(&data, c),
                None => unreadable(item.id, "iptc", c),
            },
            b"mime" => mime_item(b, &map, item, c),
            kind if is_image(kind) => {
                if tiles.contains(&id) {
                    continue;
                }
                image_item(&map, item, &name, c);
            }
            b"uri " => c.add(
                "HEIF-item",
                format!("URI item {id}{name}"),
                format!("type '{}'", preview(&item.content_type)),
            ),
            kind => {
                let summary = map
                    .item_data(b, id, MAX_ITEM_BYTES)
                    .map_or_else(|| "data not readable".into(), |d| blob_summary(&d));
                c.add(
                    "HEIF-item",
                    format!("item {id} of type '{}'{name}", fourcc(kind)),
                    summary,
                );
            }
        }
    }
    properties(&map, c);
    for g in &map.groups {
        let released = match primary {
            Some(p) if g.members.contains(&p) => {
                format!("only the primary image (item {p}) is reviewed and released")
            }
            _ => "none of them is released".into(),
        };
        c.add(
            "HEIF-group",
            format!("{} {}", group_name(&g.kind), g.id),
            format!("items {}: {released}", ids(&g.members)),
        );
    }
    if map.tracks {
        c.add(
            "HEIF",
            "image sequence or video track ('moov')",
            "not released: only the still primary image is",
        );
    }
    for o in &map.other {
        let what = match o.uuid {
            Some(u) => format!("'uuid' box {}", hex::encode(u)),
            None => format!("'{}' box", fourcc(&o.kind)),
        };
        c.add(
            "HEIF-box",
            what,
            format!("{} bytes at offset {}", o.size, o.offset),
        );
    }
    if map.end > 0 && map.end < b.len() {
        trailer(&b[map.end..], map.end, "the last HEIF box", c);
    }
}

/// How the decoder turns the primary picture upright, so the reviewer
/// knows an EXIF Orientation in this file is not applied again.
fn transforms(map: &Heif, primary: u32, c: &mut Collector) {
    let mut steps = Vec::new();
    for p in map.properties_of(primary) {
        match p {
            Property::Rotation(r) if *r != 0 => {
                steps.push(format!(
                    "rotated {}° anticlockwise ('irot')",
                    90 * u32::from(*r)
                ));
            }
            Property::Mirror(axis) => steps.push(format!(
                "mirrored {} ('imir')",
                if *axis == 0 {
                    "top to bottom"
                } else {
                    "left to right"
                }
            )),
            Property::Other {
                kind: [b'c', b'l', b'a', b'p'],
                ..
            } => {
                steps.push("cropped ('clap')".into());
            }
            _ => {}
        }
    }
    if !steps.is_empty() {
        c.add(
            "HEIF",
            "primary image transforms",
            format!(
                "{}; applied when decoding, so any EXIF Orientation here is informational and not applied again",
                steps.join(", ")
            ),
        );
    }
}

fn unreadable(id: u32, kind: &str, c: &mut Collector) {
    c.warn(format!(
        "HEIF: the data of '{kind}' item {id} cannot be read (outside the file or over {} MiB); it is not released",
        MAX_ITEM_BYTES >> 20
    ));
}

/// An `Exif` item: a 4-byte offset to the TIFF header, then the TIFF.
fn exif_item(data: &[u8], id: u32, c: &mut Collector) {
    let offset = data.get(..4).map_or(usize::MAX, |o| {
        u32::from_be_bytes([o[0], o[1], o[2], o[3]]) as usize
    });
    match data.get(4usize.saturating_add(offset)..) {
        Some(tiff) => exif_block(tiff, Host::Embedded, "HEIF Exif", 0, c),
        None => c.warn(format!(
            "HEIF: Exif item {id}'s TIFF header offset ({offset}) is past its {} bytes",
            data.len()
        )),
    }
}

fn mime_item(b: &[u8], map: &Heif, item: &heif::Item, c: &mut Collector) {
    let id = item.id;
    let Some(data) = map.item_data(b, id, MAX_ITEM_BYTES) else {
        return unreadable(id, "mime", c);
    };
    let kind = item.content_type.to_ascii_lowercase();
    if !item.content_encoding.is_empty() {
        c.add(
            "HEIF-item",
            format!("{} item {id}", preview(&item.content_type)),
            format!(
                "{} bytes, compressed ({}); not released",
                data.len(),
                preview(&item.content_encoding)
            ),
        );
    } else if kind.contains("rdf+xml") || kind.contains("xmp") {
        xmp_packet(&data, "XMP", c);
    } else if kind.contains("iptc") {
        iptc_iim(&data, c);
    } else {
        c.add(
            "HEIF-item",
            format!("{} item {id}", preview(&item.content_type)),
            blob_summary(&data),
        );
    }
}

fn image_item(map: &Heif, item: &heif::Item, name: &str, c: &mut Collector) {
    let id = item.id;
    let size = size_text(map, id);
    let kind = fourcc(&item.kind);
    let thumbnail_of = map.references_from(id, b"thmb");
    let auxiliary_of = map.references_from(id, b"auxl");
    if !thumbnail_of.is_empty() {
        c.add(
            "Thumbnail",
            format!("HEIF thumbnail item {id}{name}"),
            format!(
                "{size} '{kind}' picture of item {}: not released",
                ids(&thumbnail_of)
            ),
        );
    } else if !auxiliary_of.is_empty() {
        let urn = map
            .properties_of(id)
            .find_map(|p| match p {
                Property::Auxiliary(u) => Some(u.clone()),
                _ => None,
            })
            .unwrap_or_default();
        let of_primary = map.primary.is_some_and(|p| auxiliary_of.contains(&p));
        let fate = if of_primary && auxiliary_name(&urn).starts_with("alpha") {
            "used only to flatten the primary image onto the policy's background; not released"
        } else {
            "not released"
        };
        c.add(
            "HEIF-auxiliary",
            format!("{} item {id}{name}", auxiliary_name(&urn)),
            format!(
                "{size} of item {}, type '{}': {fate}",
                ids(&auxiliary_of),
                preview(&urn)
            ),
        );
    } else {
        let hidden = if item.hidden { "hidden " } else { "" };
        c.add(
            "HEIF-image",
            format!("other image item {id}{name}"),
            format!(
                "{size} {hidden}'{kind}' picture: not reviewed and not released (only the primary image is)"
            ),
        );
    }
}

/// Properties that can carry identifying data or that Veil does not know,
/// each listed once with the items that use it.
fn properties(map: &Heif, c: &mut Collector) {
    // Who uses each property, in one pass over the associations.
    let mut users_of: Vec<Vec<u32>> = vec![Vec::new(); map.properties.len()];
    for (id, list) in &map.associations {
        for &index in list {
            if let Some(users) = usize::from(index)
                .checked_sub(1)
                .and_then(|i| users_of.get_mut(i))
                && users.last() != Some(id)
            {
                users.push(*id);
            }
        }
    }
    for (p, users) in map.properties.iter().zip(&users_of) {
        let of = if users.is_empty() {
            "no item".to_string()
        } else {
            format!("item {}", ids(users))
        };
        match p {
            Property::Colour { kind, payload } if kind == b"prof" || kind == b"rICC" => {
                c.add(
                    "ICC",
                    format!("colr/{} of {of}", fourcc(kind)),
                    icc_summary(payload),
                );
            }
            Property::Colour { kind, .. } => {
                c.add(
                    "HEIF",
                    format!("colour description colr/{} of {of}", fourcc(kind)),
                    "how the colours are coded; the output is plain sRGB-range 8-bit",
                );
            }
            Property::Description(texts) => {
                let shown: Vec<String> = texts
                    .iter()
                    .filter(|t| !t.is_empty())
                    .map(|t| preview(t))
                    .collect();
                c.add(
                    "HEIF",
                    format!("user description (udes) of {of}"),
                    shown.join(" | "),
                );
            }
            Property::Other { kind, size } if !structural_property(kind) => {
                c.add(
                    "HEIF-property",
                    format!("'{}' of {of}", fourcc(kind)),
                    format!("{size} bytes"),
                );
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::heif::tests::{bx, full, heif_with};

    fn infe(id: u16, kind: &[u8; 4]) -> Vec<u8> {
        let mut p = id.to_be_bytes().to_vec();
        p.extend([0, 0]);
        p.extend(kind);
        p.push(0);
        full(b"infe", 2, 0, &p)
    }

    #[test]
    fn tiles_are_not_listed_alone_but_descriptions_and_a_primary_marked_as_thumbnail_are() {
        // Item 2 is the primary grid of tile 1, and says it is a thumbnail
        // of item 3; item 3 carries a user description.
        let mut iinf = 3u16.to_be_bytes().to_vec();
        for (id, kind) in [(1, b"hvc1"), (2, b"grid"), (3, b"hvc1")] {
            iinf.extend(infe(id, kind));
        }
        let udes = full(b"udes", 0, 0, b"en\0Ward 7 bed 3\0J. Doe\0\0");
        let ipma = full(b"ipma", 0, 0, &[0, 0, 0, 1, 0, 3, 1, 0x81]);
        let iref = full(
            b"iref",
            0,
            0,
            &[
                bx(b"dimg", &[0, 2, 0, 1, 0, 1]),
                bx(b"thmb", &[0, 2, 0, 1, 0, 3]),
            ]
            .concat(),
        );
        let file = heif_with(&[
            full(b"pitm", 0, 0, &[0, 2]),
            full(b"iinf", 0, 0, &iinf),
            bx(b"iprp", &[bx(b"ipco", &udes), ipma].concat()),
            iref,
        ]);
        let inv = super::super::inventory(&file);
        let text = format!("{:?}", inv);
        assert!(text.contains("other image item 3"), "{text}");
        assert!(!text.contains("item 1 "), "a tile listed alone: {text}");
        assert!(
            text.contains("Ward 7 bed 3") && text.contains("J. Doe"),
            "{text}"
        );
        assert!(
            inv.warnings
                .iter()
                .any(|w| w.contains("also marked as a thumbnail of item 3")),
            "{:?}",
            inv.warnings
        );
    }

    #[test]
    fn a_file_of_thousands_of_items_properties_and_links_is_listed_in_bounded_work() {
        // 4096 items, 4096 properties, every item associated with 255 of
        // them and referencing 64 others: lookups once quadratic in this.
        let n: u16 = 4096;
        let mut iinf = n.to_be_bytes().to_vec();
        for id in 1..=n {
            iinf.extend(infe(id, b"hvc1"));
        }
        let ipco: Vec<u8> = (0..n).flat_map(|_| bx(b"zzzz", &[])).collect();
        let mut ipma = u32::from(n).to_be_bytes().to_vec();
        for id in 1..=n {
            ipma.extend(id.to_be_bytes());
            ipma.push(255);
            for k in 0..255u16 {
                ipma.extend(((id.wrapping_add(k) % n) + 1).to_be_bytes());
            }
        }
        let mut thmb = Vec::new();
        for id in 1..=n {
            let mut p = id.to_be_bytes().to_vec();
            p.extend(64u16.to_be_bytes());
            for k in 0..64u16 {
                p.extend(((id + k) % n + 1).to_be_bytes());
            }
            thmb.extend(bx(b"thmb", &p));
        }
        let file = heif_with(&[
            full(b"pitm", 0, 0, &[0, 1]),
            full(b"iinf", 0, 0, &iinf),
            bx(
                b"iprp",
                &[bx(b"ipco", &ipco), full(b"ipma", 0, 1, &ipma)].concat(),
            ),
            full(b"iref", 0, 0, &thmb),
        ]);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(super::super::inventory(&file));
        });
        let inv = rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("still listing after 30 s: work not bounded");
        assert!(inv.findings.len() <= 2000);
        assert!(
            inv.warnings.iter().any(|w| w.contains("the rest not read")),
            "{:?}",
            inv.warnings
        );
    }
}
