//! Reading the boxes: a bounded walk over ISOBMFF boxes and the `meta`
//! box's item info, locations, references, properties and groups. Every
//! count is checked against the bytes that remain before it is used.

use super::*;
use crate::container::{be16, be32, be64};

/// One box: its type, where its payload starts and ends.
pub(super) struct BoxAt {
    kind: Fourcc,
    start: usize,
    payload: usize,
    end: usize,
    truncated: bool,
}

/// The boxes in `b[from..to]`, stopping at one that cannot be read.
pub(super) fn boxes(b: &[u8], from: usize, to: usize) -> Vec<BoxAt> {
    let mut out = Vec::new();
    let mut at = from;
    while at.saturating_add(8) <= to && out.len() < MAX_ENTRIES {
        let (Some(size32), Some(kind)) = (be32(b, at), b.get(at + 4..at + 8)) else {
            break;
        };
        let kind: Fourcc = [kind[0], kind[1], kind[2], kind[3]];
        let (size, header) = match size32 {
            0 => ((to - at) as u64, 8),
            1 => match be64(b, at + 8) {
                Some(s) => (s, 16),
                None => break,
            },
            s => (u64::from(s), 8),
        };
        let header = if &kind == b"uuid" {
            header + 16
        } else {
            header
        };
        if size < header as u64 {
            out.push(BoxAt {
                kind,
                start: at,
                payload: to,
                end: to,
                truncated: true,
            });
            break;
        }
        let end = at as u64 + size;
        let truncated = end > to as u64;
        let end = if truncated { to } else { end as usize };
        out.push(BoxAt {
            kind,
            start: at,
            payload: (at + header).min(end),
            end,
            truncated,
        });
        if truncated {
            break;
        }
        at = end;
    }
    out
}

/// A cursor over a box payload; every read is checked.
pub(super) struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(b: &'a [u8]) -> Self {
        Reader { b, at: 0 }
    }
    fn left(&self) -> usize {
        self.b.len().saturating_sub(self.at)
    }
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.bytes(1)?[0])
    }
    fn u16(&mut self) -> Option<u16> {
        be16(self.bytes(2)?, 0)
    }
    fn u32(&mut self) -> Option<u32> {
        be32(self.bytes(4)?, 0)
    }
    /// An unsigned integer of 0, 4 or 8 bytes (`iloc`'s sizes).
    fn sized(&mut self, n: u8) -> Option<u64> {
        match n {
            0 => Some(0),
            4 => self.u32().map(u64::from),
            8 => be64(self.bytes(8)?, 0),
            _ => None,
        }
    }
    /// Version and flags of a full box.
    fn full(&mut self) -> Option<(u8, u32)> {
        let v = self.u32()?;
        Some(((v >> 24) as u8, v & 0x00FF_FFFF))
    }
    /// A NUL-terminated string (or the rest, when the NUL is missing).
    fn cstring(&mut self) -> String {
        let rest = self.b.get(self.at..).unwrap_or_default();
        let n = rest.iter().position(|&x| x == 0).unwrap_or(rest.len());
        self.at += (n + 1).min(rest.len());
        String::from_utf8_lossy(&rest[..n]).into_owned()
    }
    fn id(&mut self, wide: bool) -> Option<u32> {
        if wide {
            self.u32()
        } else {
            self.u16().map(u32::from)
        }
    }
}

/// A box type as text, for messages.
pub(crate) fn fourcc(k: &Fourcc) -> String {
    k.iter()
        .map(|&c| {
            if c.is_ascii_graphic() || c == b' ' {
                c as char
            } else {
                '?'
            }
        })
        .collect()
}

/// Read the container of a HEIF file. Always returns what could be read;
/// problems are in `warnings`.
pub fn parse(b: &[u8]) -> Heif {
    let mut h = Heif::default();
    let top = boxes(b, 0, b.len());
    for bx in &top {
        if bx.truncated {
            h.warnings.push(format!(
                "HEIF: box '{}' at offset {} runs past the end of the file",
                fourcc(&bx.kind),
                bx.start
            ));
        } else {
            h.end = bx.end;
        }
        let payload = &b[bx.payload..bx.end];
        match &bx.kind {
            b"ftyp" => {
                let mut r = Reader::new(payload);
                h.major_brand = r
                    .bytes(4)
                    .and_then(|x| x.try_into().ok())
                    .unwrap_or_default();
                let _minor = r.u32();
                while let Some(x) = r.bytes(4) {
                    h.brands.push([x[0], x[1], x[2], x[3]]);
                }
            }
            b"meta" => meta(b, bx, &mut h),
            b"moov" => h.tracks = true,
            b"mdat" | b"free" | b"skip" => {}
            _ => h.other.push(other(b, bx)),
        }
    }
    for r in &h.references {
        h.from_index
            .entry((r.from, r.kind))
            .or_default()
            .extend(&r.to);
        for &to in &r.to {
            h.to_index.entry((to, r.kind)).or_default().push(r.from);
        }
    }
    h
}

/// A box this module does not read, kept by type and size for the inventory.
pub(super) fn other(b: &[u8], bx: &BoxAt) -> OtherBox {
    let uuid = (&bx.kind == b"uuid")
        .then(|| b.get(bx.payload.saturating_sub(16)..bx.payload))
        .flatten()
        .and_then(|u| u.try_into().ok());
    OtherBox {
        kind: bx.kind,
        offset: bx.start,
        size: bx.end - bx.start,
        uuid,
    }
}

/// The `meta` box: items, locations, references, properties and groups into `h`.
pub(super) fn meta(b: &[u8], bx: &BoxAt, h: &mut Heif) {
    if h.primary.is_some() || !h.items.is_empty() {
        h.warnings
            .push("HEIF: a second 'meta' box at the top level; only the first is read".into());
        h.other.push(other(b, bx));
        return;
    }
    // A full box: version and flags come first.
    let children = boxes(b, (bx.payload + 4).min(bx.end), bx.end);
    let mut locations: Vec<(u32, Location)> = Vec::new();
    for c in &children {
        let p = &b[c.payload..c.end];
        let bad = |what: &str| format!("HEIF: '{what}' box at offset {} is malformed", c.start);
        let ok = match &c.kind {
            b"hdlr" => true,
            b"pitm" => {
                let mut r = Reader::new(p);
                let id = r.full().and_then(|(v, _)| r.id(v >= 1));
                h.primary = id;
                id.is_some()
            }
            b"iinf" => iinf(b, c, h).is_some(),
            b"iloc" => iloc(p, &mut locations).is_some(),
            b"iref" => iref(b, c, h).is_some(),
            b"iprp" => iprp(b, c, h).is_some(),
            b"idat" => {
                h.idat = Some((c.payload, c.end - c.payload));
                true
            }
            b"grpl" => {
                for g in boxes(b, c.payload, c.end) {
                    let mut r = Reader::new(&b[g.payload..g.end]);
                    let group = (|| {
                        r.full()?;
                        let id = r.u32()?;
                        let n = r.u32()? as usize;
                        let members = (0..n.min(r.left() / 4))
                            .map(|_| r.u32())
                            .collect::<Option<Vec<_>>>()?;
                        Some(Group {
                            kind: g.kind,
                            id,
                            members,
                        })
                    })();
                    // At most MAX_ENTRIES groups, so this sum stays small.
                    let links: usize = h.groups.iter().map(|g| g.members.len()).sum();
                    match group {
                        Some(group)
                            if h.groups.len() < MAX_ENTRIES
                                && links + group.members.len() <= MAX_LINKS =>
                        {
                            h.groups.push(group);
                        }
                        _ => h.warnings.push(bad("grpl")),
                    }
                }
                true
            }
            b"dinf" => true,
            _ => {
                h.other.push(other(b, c));
                true
            }
        };
        if !ok || c.truncated {
            h.warnings.push(bad(&fourcc(&c.kind)));
        }
    }
    for (id, mut location) in locations {
        if location.construction == 1 {
            let (start, len) = h.idat.unwrap_or((0, 0));
            for e in &mut location.extents {
                if e.0.saturating_add(e.1) > len as u64 {
                    h.warnings.push(format!(
                        "HEIF: item {id}'s data runs past the end of its 'idat' box"
                    ));
                }
                e.0 = e.0.saturating_add(start as u64);
            }
        }
        if let Some(item) = h.items.iter_mut().find(|i| i.id == id) {
            item.location = Some(location);
        }
    }
}

/// `iinf`: each item's id, type and name.
pub(super) fn iinf(b: &[u8], c: &BoxAt, h: &mut Heif) -> Option<()> {
    let mut r = Reader::new(&b[c.payload..c.end]);
    let (v, _) = r.full()?;
    let _count = if v == 0 {
        u32::from(r.u16()?)
    } else {
        r.u32()?
    };
    let from = c.payload + r.at;
    for e in boxes(b, from, c.end) {
        if &e.kind != b"infe" {
            continue;
        }
        let mut r = Reader::new(&b[e.payload..e.end]);
        let (v, flags) = r.full()?;
        let mut item = Item {
            hidden: flags & 1 != 0,
            ..Item::default()
        };
        if v >= 2 {
            item.id = r.id(v >= 3)?;
            let _protection = r.u16()?;
            item.kind = r.bytes(4)?.try_into().ok()?;
            item.name = r.cstring();
            if &item.kind == b"mime" {
                item.content_type = r.cstring();
                item.content_encoding = r.cstring();
            } else if &item.kind == b"uri " {
                item.content_type = r.cstring();
            }
        } else {
            item.id = u32::from(r.u16()?);
            let _protection = r.u16()?;
            item.kind = *b"mime";
            item.name = r.cstring();
            item.content_type = r.cstring();
            item.content_encoding = r.cstring();
        }
        if h.items.len() >= MAX_ENTRIES {
            h.warnings.push(format!(
                "HEIF: more than {MAX_ENTRIES} items; the rest not read"
            ));
            break;
        }
        h.items.push(item);
    }
    Some(())
}

/// `iloc`: where each item's bytes are (extents), bounded by the box.
pub(super) fn iloc(p: &[u8], out: &mut Vec<(u32, Location)>) -> Option<()> {
    let mut r = Reader::new(p);
    let (v, _) = r.full()?;
    let sizes = r.u16()?;
    let (offset_size, length_size, base_size) = (
        (sizes >> 12) as u8,
        ((sizes >> 8) & 15) as u8,
        ((sizes >> 4) & 15) as u8,
    );
    let index_size = if v >= 1 { (sizes & 15) as u8 } else { 0 };
    let count = if v < 2 { u32::from(r.u16()?) } else { r.u32()? };
    for _ in 0..(count as usize).min(MAX_ENTRIES) {
        let id = r.id(v >= 2)?;
        let construction = if v >= 1 { (r.u16()? & 15) as u8 } else { 0 };
        let _data_reference = r.u16()?;
        let base = r.sized(base_size)?;
        let extents = r.u16()? as usize;
        let mut location = Location {
            construction,
            extents: Vec::new(),
        };
        for _ in 0..extents.min(r.left()) {
            if index_size > 0 {
                r.sized(index_size)?;
            }
            let offset = r.sized(offset_size)?;
            let length = r.sized(length_size)?;
            location.extents.push((base.saturating_add(offset), length));
        }
        out.push((id, location));
    }
    Some(())
}

/// `iref`: the references between items (thumbnails, auxiliary images, EXIF of).
pub(super) fn iref(b: &[u8], c: &BoxAt, h: &mut Heif) -> Option<()> {
    let mut r = Reader::new(&b[c.payload..c.end]);
    let (v, _) = r.full()?;
    for e in boxes(b, c.payload + 4, c.end) {
        let mut r = Reader::new(&b[e.payload..e.end]);
        let from = r.id(v >= 1)?;
        let n = r.u16()? as usize;
        let to = (0..n.min(r.left()))
            .map(|_| r.id(v >= 1))
            .collect::<Option<Vec<_>>>()?;
        let links: usize = h.references.iter().map(|r| r.to.len()).sum();
        if links + to.len() > MAX_LINKS {
            h.warnings.push(format!(
                "HEIF: more than {MAX_LINKS} item references; the rest not read"
            ));
            break;
        }
        if h.references.len() < MAX_ENTRIES {
            h.references.push(Reference {
                kind: e.kind,
                from,
                to,
            });
        }
    }
    Some(())
}

/// `iprp`: the properties and which items they are associated with.
pub(super) fn iprp(b: &[u8], c: &BoxAt, h: &mut Heif) -> Option<()> {
    for e in boxes(b, c.payload, c.end) {
        match &e.kind {
            b"ipco" => {
                for p in boxes(b, e.payload, e.end) {
                    if h.properties.len() >= MAX_ENTRIES {
                        break;
                    }
                    h.properties.push(property(&p, &b[p.payload..p.end]));
                }
            }
            b"ipma" => {
                let mut r = Reader::new(&b[e.payload..e.end]);
                let (v, flags) = r.full()?;
                let n = r.u32()? as usize;
                let mut links = 0usize;
                for _ in 0..n.min(r.left()).min(MAX_ENTRIES) {
                    let id = r.id(v >= 1)?;
                    let k = r.u8()? as usize;
                    let mut list = Vec::with_capacity(k);
                    for _ in 0..k {
                        let index = if flags & 1 != 0 {
                            r.u16()? & 0x7FFF
                        } else {
                            u16::from(r.u8()? & 0x7F)
                        };
                        list.push(index);
                    }
                    links += list.len();
                    if links > MAX_LINKS {
                        h.warnings.push(format!(
                            "HEIF: more than {MAX_LINKS} property associations; the rest not read"
                        ));
                        break;
                    }
                    h.associations.entry(id).or_default().extend(list);
                }
            }
            _ => {}
        }
    }
    Some(())
}

/// One property box: the kinds the decoder and inventory use, else kept as other.
pub(super) fn property(p: &BoxAt, payload: &[u8]) -> Property {
    let mut r = Reader::new(payload);
    let read = match &p.kind {
        b"ispe" => (|| {
            r.full()?;
            Some(Property::Size {
                width: r.u32()?,
                height: r.u32()?,
            })
        })(),
        b"colr" => r.bytes(4).map(|k| Property::Colour {
            kind: [k[0], k[1], k[2], k[3]],
            payload: payload[4..].to_vec(),
        }),
        b"irot" => r.u8().map(|x| Property::Rotation(x & 3)),
        b"imir" => r.u8().map(|x| Property::Mirror(x & 1)),
        b"auxC" => r.full().map(|_| Property::Auxiliary(r.cstring())),
        b"udes" => r
            .full()
            .map(|_| Property::Description((0..4).map(|_| r.cstring()).collect())),
        _ => None,
    };
    read.unwrap_or(Property::Other {
        kind: p.kind,
        size: payload.len(),
    })
}
