//! The HEIF container (ISO/IEC 23008-12 on ISOBMFF), read as a map of what
//! the file holds: its items (images, EXIF, XMP, IPTC ...), their
//! properties, the references between them and the entity groups. Pixels
//! are decoded by `heic-decoder`; this module exists because no crate
//! exposes the whole item graph, unknown boxes included, which is what the
//! metadata inventory must list and what the decode limits are read from
//! (`ispe`) before anything is allocated.
//!
//! Invariants: nothing here panics or allocates more than the input's own
//! length on hostile input; every count is bounded by the bytes that remain.

use std::collections::BTreeMap;

/// A box type, its four bytes.
pub type Fourcc = [u8; 4];

/// One item of the `meta` box.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Item {
    pub id: u32,
    pub kind: Fourcc,
    pub name: String,
    /// For `mime` items: the MIME type; for `uri ` items: the URI type.
    pub content_type: String,
    pub content_encoding: String,
    /// `infe` flag 1: not meant to be shown on its own (grid tiles).
    pub hidden: bool,
    /// Where its bytes are (`iloc`).
    pub location: Option<Location>,
}

/// An item's bytes: extents in the file or in `idat`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// 0: file offsets; 1: offsets into `idat`; 2: into another item.
    pub construction: u8,
    /// Absolute (offset, length) pairs; a length of 0 means "to the end".
    pub extents: Vec<(u64, u64)>,
}

/// A property of the `ipco` box, with what Veil reads from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Property {
    /// Image spatial extents, before transforms.
    Size { width: u32, height: u32 },
    /// `colr`: `nclx` (colour description) or `prof`/`rICC` (ICC profile).
    Colour { kind: Fourcc, payload: Vec<u8> },
    /// `irot`: counter-clockwise quarter turns.
    Rotation(u8),
    /// `imir`: mirror axis (0 vertical, 1 horizontal).
    Mirror(u8),
    /// `auxC`: the auxiliary image's type URN (alpha, depth, gain map ...).
    Auxiliary(String),
    /// `udes`: a user description (language, name, description, tags).
    Description(Vec<String>),
    /// Any other property box: its type and size.
    Other { kind: Fourcc, size: usize },
}

/// A reference of one kind from one item to others (`iref`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub kind: Fourcc,
    pub from: u32,
    pub to: Vec<u32>,
}

/// An entity group (`grpl`): a burst, a stereo pair, alternatives ...
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub kind: Fourcc,
    pub id: u32,
    pub members: Vec<u32>,
}

/// A box at the top level or directly in `meta` that Veil does not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherBox {
    pub kind: Fourcc,
    pub offset: usize,
    pub size: usize,
    /// For `uuid` boxes: the extended type.
    pub uuid: Option<[u8; 16]>,
}

/// What a HEIF file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Heif {
    pub major_brand: Fourcc,
    pub brands: Vec<Fourcc>,
    pub primary: Option<u32>,
    pub items: Vec<Item>,
    pub properties: Vec<Property>,
    /// Item id to the 1-based indices of its properties, in order.
    pub associations: BTreeMap<u32, Vec<u16>>,
    pub references: Vec<Reference>,
    pub groups: Vec<Group>,
    /// `idat`: the file offset and length of its payload.
    pub idat: Option<(usize, usize)>,
    /// A `moov` box: the file holds a track (an image sequence or video).
    pub tracks: bool,
    /// Boxes left unread, top level and inside `meta`.
    pub other: Vec<OtherBox>,
    /// Where the last whole top-level box ends.
    pub end: usize,
    /// Problems met while reading (truncated box, bad count).
    pub warnings: Vec<String>,
    /// `references` by (from, kind) and by (to, kind), for lookups that
    /// stay linear in a crafted file.
    from_index: BTreeMap<(u32, Fourcc), Vec<u32>>,
    to_index: BTreeMap<(u32, Fourcc), Vec<u32>>,
}

/// Most items, properties, references or groups read from one file: an
/// iPhone's 48 MP grid has 48 tiles, a 200 MP grid a few hundred, Nokia's
/// bursts a few dozen images.
const MAX_ENTRIES: usize = 4096;
/// Most item ids read from all references, all property associations, or
/// all group members together, so that no lookup over them is quadratic in
/// a crafted file's size.
const MAX_LINKS: usize = 1 << 16;

/// Whether `bytes` start with a `ftyp` box naming a HEIF brand coded with
/// HEVC (AVIF, the same container with AV1 inside, is not one).
pub(crate) fn is_heif(bytes: &[u8]) -> bool {
    let Some(size) = be32(bytes, 0) else {
        return false;
    };
    if bytes.get(4..8) != Some(b"ftyp") {
        return false;
    }
    let end = (size as usize).clamp(8, bytes.len());
    let brands = bytes.get(8..12).into_iter().chain(
        bytes
            .get(16..end)
            .unwrap_or_default()
            .chunks_exact(4)
            .map(|c| c as &[u8]),
    );
    let mut heif = false;
    for brand in brands {
        match brand {
            b"avif" | b"avis" => return false,
            b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"mif1" | b"msf1"
            | b"mif2" => heif = true,
            _ => {}
        }
    }
    heif
}

/// One box: its type, where its payload starts and ends.
struct BoxAt {
    kind: Fourcc,
    start: usize,
    payload: usize,
    end: usize,
    truncated: bool,
}

/// The boxes in `b[from..to]`, stopping at one that cannot be read.
fn boxes(b: &[u8], from: usize, to: usize) -> Vec<BoxAt> {
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
struct Reader<'a> {
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

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
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

fn other(b: &[u8], bx: &BoxAt) -> OtherBox {
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

fn meta(b: &[u8], bx: &BoxAt, h: &mut Heif) {
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

fn iinf(b: &[u8], c: &BoxAt, h: &mut Heif) -> Option<()> {
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

fn iloc(p: &[u8], out: &mut Vec<(u32, Location)>) -> Option<()> {
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

fn iref(b: &[u8], c: &BoxAt, h: &mut Heif) -> Option<()> {
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

fn iprp(b: &[u8], c: &BoxAt, h: &mut Heif) -> Option<()> {
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

fn property(p: &BoxAt, payload: &[u8]) -> Property {
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

impl Heif {
    /// The item with id `id`.
    pub fn item(&self, id: u32) -> Option<&Item> {
        self.items.iter().find(|i| i.id == id)
    }

    /// The properties associated with item `id`, in order.
    pub(crate) fn properties_of(&self, id: u32) -> impl Iterator<Item = &Property> {
        self.associations
            .get(&id)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.properties.get(usize::from(i).checked_sub(1)?))
    }

    /// Item `id`'s `ispe` size, before its transforms.
    pub(crate) fn size_of(&self, id: u32) -> Option<(u32, u32)> {
        self.properties_of(id).find_map(|p| match p {
            Property::Size { width, height } => Some((*width, *height)),
            _ => None,
        })
    }

    /// Item `id`'s size as shown: `ispe`, swapped by an odd `irot`.
    pub(crate) fn shown_size_of(&self, id: u32) -> Option<(u32, u32)> {
        let (w, h) = self.size_of(id)?;
        let odd = self
            .properties_of(id)
            .any(|p| matches!(p, Property::Rotation(r) if r % 2 == 1));
        Some(if odd { (h, w) } else { (w, h) })
    }

    /// The ids that item `from` references with `kind`.
    pub(crate) fn references_from(&self, from: u32, kind: &Fourcc) -> Vec<u32> {
        self.from_index
            .get(&(from, *kind))
            .cloned()
            .unwrap_or_default()
    }

    /// The items referencing `to` with `kind` (thumbnails, auxiliary images).
    #[cfg(test)]
    pub(crate) fn references_to(&self, to: u32, kind: &Fourcc) -> Vec<u32> {
        self.to_index.get(&(to, *kind)).cloned().unwrap_or_default()
    }

    /// The bytes of item `id`, up to `max` bytes; `None` when its location
    /// is missing, outside the file, or larger than `max`.
    pub fn item_data(&self, b: &[u8], id: u32, max: usize) -> Option<Vec<u8>> {
        let location = self.item(id)?.location.as_ref()?;
        if location.construction > 1 {
            return None;
        }
        let mut out = Vec::new();
        for &(offset, length) in &location.extents {
            let start = usize::try_from(offset).ok()?;
            let end = if length == 0 {
                b.len()
            } else {
                start.checked_add(usize::try_from(length).ok()?)?
            };
            let part = b.get(start..end)?;
            if out.len() + part.len() > max {
                return None;
            }
            out.extend_from_slice(part);
        }
        Some(out)
    }

    /// Every item whose data lies (partly) past the end of the file.
    pub fn items_past_end(&self, file_len: usize) -> Vec<u32> {
        self.items
            .iter()
            .filter(|i| {
                i.location.as_ref().is_some_and(|l| {
                    l.construction == 0
                        && l.extents
                            .iter()
                            .any(|&(o, n)| o.saturating_add(n) > file_len as u64)
                })
            })
            .map(|i| i.id)
            .collect()
    }

    /// The items that make up the primary picture: itself, and for a grid
    /// or derived image what it is derived from (`dimg`), recursively.
    pub fn primary_parts(&self) -> Vec<u32> {
        let mut parts = Vec::new();
        let mut todo: Vec<u32> = self.primary.into_iter().collect();
        while let Some(id) = todo.pop() {
            if parts.contains(&id) || parts.len() >= MAX_ENTRIES {
                continue;
            }
            parts.push(id);
            todo.extend(self.references_from(id, b"dimg"));
        }
        parts
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A box of `kind` around `payload`.
    pub(crate) fn bx(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut out = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend(kind);
        out.extend(payload);
        out
    }

    /// A full box: version, flags, payload.
    pub(crate) fn full(kind: &[u8; 4], version: u8, flags: u32, payload: &[u8]) -> Vec<u8> {
        let mut p = (u32::from(version) << 24 | flags).to_be_bytes().to_vec();
        p.extend(payload);
        bx(kind, &p)
    }

    /// A minimal HEIF map: ftyp, and meta with the given children.
    pub(crate) fn heif_with(meta_children: &[Vec<u8>]) -> Vec<u8> {
        let mut out = bx(b"ftyp", b"heic\0\0\0\0mif1heic");
        out.extend(full(b"meta", 0, 0, &meta_children.concat()));
        out
    }

    fn infe(id: u16, kind: &[u8; 4], extra: &[u8]) -> Vec<u8> {
        let mut p = id.to_be_bytes().to_vec();
        p.extend([0, 0]);
        p.extend(kind);
        p.push(0);
        p.extend(extra);
        full(b"infe", 2, 0, &p)
    }

    #[test]
    fn the_item_graph_is_read_with_properties_references_and_groups() {
        let mut iinf = 3u16.to_be_bytes().to_vec();
        iinf.extend(infe(1, b"hvc1", b""));
        iinf.extend(infe(2, b"hvc1", b""));
        iinf.extend(infe(3, b"mime", b"application/rdf+xml\0"));
        let mut ispe = 4000u32.to_be_bytes().to_vec();
        ispe.extend(3000u32.to_be_bytes());
        let ipco = [full(b"ispe", 0, 0, &ispe), bx(b"irot", &[1])].concat();
        // ipma: one entry, item 1, two associations (1 and 2).
        let ipma = full(b"ipma", 0, 0, &[0, 0, 0, 1, 0, 1, 2, 0x81, 0x02]);
        let iref = full(b"iref", 0, 0, &bx(b"thmb", &[0, 2, 0, 1, 0, 1]));
        let mut group = 7u32.to_be_bytes().to_vec();
        group.extend(2u32.to_be_bytes());
        group.extend(1u32.to_be_bytes());
        group.extend(2u32.to_be_bytes());
        let file = heif_with(&[
            full(b"pitm", 0, 0, &[0, 1]),
            full(b"iinf", 0, 0, &iinf),
            bx(b"iprp", &[bx(b"ipco", &ipco), ipma].concat()),
            iref,
            bx(b"grpl", &full(b"ster", 0, 0, &group)),
            bx(b"zzzz", b"unknown"),
        ]);
        let h = parse(&file);
        assert!(is_heif(&file));
        assert_eq!(h.warnings, Vec::<String>::new());
        assert_eq!(h.primary, Some(1));
        assert_eq!(h.items.len(), 3);
        assert_eq!(h.items[2].content_type, "application/rdf+xml");
        assert_eq!(h.size_of(1), Some((4000, 3000)));
        assert_eq!(h.shown_size_of(1), Some((3000, 4000)));
        assert_eq!(h.references_to(1, b"thmb"), vec![2]);
        assert_eq!(
            h.groups,
            vec![Group {
                kind: *b"ster",
                id: 7,
                members: vec![1, 2]
            }]
        );
        assert_eq!(h.other.len(), 1);
        assert_eq!(&h.other[0].kind, b"zzzz");
    }

    #[test]
    fn hostile_counts_and_truncation_are_warnings_not_panics() {
        let mut iinf = u16::MAX.to_be_bytes().to_vec();
        iinf.extend(infe(1, b"hvc1", b""));
        let file = heif_with(&[
            full(b"iinf", 0, 0, &iinf),
            full(b"iloc", 1, 0, &[0x44, 0x40, 0xFF, 0xFF]),
            full(b"ipma", 0, 0, &[0xFF, 0xFF, 0xFF, 0xFF]),
        ]);
        for cut in 0..file.len() {
            let _ = parse(&file[..cut]);
        }
        let mut lying = file.clone();
        lying[3] = 0xFF; // ftyp says it is 255 bytes long
        assert!(!parse(&lying).warnings.is_empty());
        let h = parse(&file);
        assert_eq!(h.items.len(), 1);
    }

    #[test]
    fn avif_is_not_heif() {
        assert!(!is_heif(&bx(b"ftyp", b"avif\0\0\0\0mif1avif")));
        assert!(is_heif(&bx(b"ftyp", b"mif1\0\0\0\0mif1heic")));
        assert!(!is_heif(&bx(b"ftyp", b"isom\0\0\0\0mp41")));
    }
}
