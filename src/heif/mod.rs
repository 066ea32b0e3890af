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

mod parse;

use crate::container::be32;
pub use parse::*;
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
pub(crate) mod tests;
