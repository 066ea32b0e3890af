//! What identifying data a DICOM header carries, listed for the reviewer
//! as photo metadata is: every attribute PS3.15 Table E.1-1 names that is
//! present (and every person name, date, time and instance UID besides),
//! private tags, overlays, curves and icon images, sequences recursed.
//!
//! Everything is listed, not only what is removed: the output keeps none
//! of it (see [`super::output`]); the list is so the reviewer knows what
//! the file said and where to look for it in the pixels.

use crate::item::MetadataFinding;
use crate::text::printable;
use dicom_core::header::Header;
use dicom_core::value::Value;
use dicom_core::{DataDictionary, Tag, VR};
use dicom_dictionary_std::StandardDataDictionary;
use dicom_object::InMemDicomObject;

/// Findings listed for one file; past it a warning says the list is cut.
const MAX_FINDINGS: usize = 2000;
/// Characters of a value shown.
const PREVIEW: usize = 80;

/// Attributes of PS3.15 Table E.1-1 (Basic Profile) that photographs,
/// endoscopy, ultrasound and screen captures carry. Any PN, DA, DT or TM
/// attribute, and any UID but a class or transfer syntax, is listed as
/// identifying too, so an attribute missing here is still flagged.
const E1_1: &[(u16, u16)] = &[
    (0x0008, 0x0012),
    (0x0008, 0x0013),
    (0x0008, 0x0014),
    (0x0008, 0x0018),
    (0x0008, 0x0020),
    (0x0008, 0x0021),
    (0x0008, 0x0022),
    (0x0008, 0x0023),
    (0x0008, 0x002A),
    (0x0008, 0x0030),
    (0x0008, 0x0031),
    (0x0008, 0x0032),
    (0x0008, 0x0033),
    (0x0008, 0x0050),
    (0x0008, 0x0080),
    (0x0008, 0x0081),
    (0x0008, 0x0082),
    (0x0008, 0x0090),
    (0x0008, 0x0092),
    (0x0008, 0x0094),
    (0x0008, 0x0096),
    (0x0008, 0x1010),
    (0x0008, 0x1030),
    (0x0008, 0x103E),
    (0x0008, 0x1040),
    (0x0008, 0x1048),
    (0x0008, 0x1049),
    (0x0008, 0x1050),
    (0x0008, 0x1052),
    (0x0008, 0x1060),
    (0x0008, 0x1062),
    (0x0008, 0x1070),
    (0x0008, 0x1072),
    (0x0008, 0x1080),
    (0x0008, 0x1084),
    (0x0008, 0x1110),
    (0x0008, 0x1111),
    (0x0008, 0x1120),
    (0x0008, 0x1140),
    (0x0008, 0x1155),
    (0x0008, 0x2111),
    (0x0010, 0x0010),
    (0x0010, 0x0020),
    (0x0010, 0x0021),
    (0x0010, 0x0030),
    (0x0010, 0x0032),
    (0x0010, 0x0040),
    (0x0010, 0x0050),
    (0x0010, 0x1000),
    (0x0010, 0x1001),
    (0x0010, 0x1002),
    (0x0010, 0x1005),
    (0x0010, 0x1010),
    (0x0010, 0x1020),
    (0x0010, 0x1030),
    (0x0010, 0x1040),
    (0x0010, 0x1060),
    (0x0010, 0x1080),
    (0x0010, 0x1081),
    (0x0010, 0x1090),
    (0x0010, 0x2150),
    (0x0010, 0x2152),
    (0x0010, 0x2154),
    (0x0010, 0x2160),
    (0x0010, 0x2180),
    (0x0010, 0x21A0),
    (0x0010, 0x21B0),
    (0x0010, 0x21F0),
    (0x0010, 0x4000),
    (0x0018, 0x1000),
    (0x0018, 0x1002),
    (0x0018, 0x1004),
    (0x0018, 0x1005),
    (0x0018, 0x1007),
    (0x0018, 0x1030),
    (0x0018, 0x700A),
    (0x0020, 0x000D),
    (0x0020, 0x000E),
    (0x0020, 0x0010),
    (0x0020, 0x0052),
    (0x0020, 0x0200),
    (0x0020, 0x4000),
    (0x0032, 0x0012),
    (0x0032, 0x1020),
    (0x0032, 0x1021),
    (0x0032, 0x1030),
    (0x0032, 0x1032),
    (0x0032, 0x1033),
    (0x0032, 0x1060),
    (0x0032, 0x4000),
    (0x0038, 0x0010),
    (0x0038, 0x0011),
    (0x0038, 0x0300),
    (0x0038, 0x0400),
    (0x0038, 0x0500),
    (0x0038, 0x4000),
    (0x0040, 0x0001),
    (0x0040, 0x0006),
    (0x0040, 0x0007),
    (0x0040, 0x0009),
    (0x0040, 0x0010),
    (0x0040, 0x0241),
    (0x0040, 0x0242),
    (0x0040, 0x0243),
    (0x0040, 0x0244),
    (0x0040, 0x0245),
    (0x0040, 0x0253),
    (0x0040, 0x0254),
    (0x0040, 0x0275),
    (0x0040, 0x0280),
    (0x0040, 0x1001),
    (0x0040, 0x1010),
    (0x0040, 0x1400),
    (0x0040, 0x2001),
    (0x0040, 0x2016),
    (0x0040, 0x2017),
    (0x0040, 0x2400),
    (0x0040, 0xA124),
    (0x0040, 0xA730),
    (0x0088, 0x0140),
    (0x0400, 0x0561),
    (0x3006, 0x0024),
    (0x0002, 0x0003),
    (0x0002, 0x0016),
    (0x0002, 0x0100),
];

/// The reviewer's headings (short: the station's panel is narrow).
pub const ID: &str = "DICOM-id";
pub(crate) const PRIVATE: &str = "DICOM-private";
pub(crate) const ICON: &str = "DICOM-icon";
pub(crate) const OVERLAY: &str = "DICOM-overlay";
pub(crate) const CURVE: &str = "DICOM-curve";
pub(crate) const FILE: &str = "DICOM-file";
pub(crate) const HEADER: &str = "DICOM";
pub(crate) const PIXELS: &str = "DICOM-pixels";

/// Where a finding sorts: identity first (the patient module, then
/// other identifying attributes, the file meta group last), then private
/// tags, icons, overlays, curves, the file, the rest of the header.
fn rank(group: &str, tag_group: u16) -> (u8, u8) {
    let g = match group {
        ID => 0,
        PRIVATE => 1,
        ICON => 2,
        OVERLAY => 3,
        CURVE => 4,
        FILE => 5,
        PIXELS => 6,
        _ => 7,
    };
    let module = match tag_group {
        0x0010 => 0,
        0x0008 => 1,
        0x0002 => 3,
        _ => 2,
    };
    (g, module)
}

/// Everything a DICOM file says about who and where, in the order a
/// reviewer needs it (see [`rank`]): the preamble, the meta group and the
/// data set, sequences recursed. Warnings say when the list was cut.
/// `embedded` lists what a JPEG inside the pixel data carries (the photo
/// inventory, passed in so this module needs nothing of `metadata`).
pub(crate) fn inventory_file(
    bytes: &[u8],
    p: &super::Parsed,
    embedded: &dyn Fn(&[u8]) -> Vec<MetadataFinding>,
) -> (Vec<MetadataFinding>, Vec<String>) {
    let mut c = Lister {
        findings: Vec::new(),
        cut: false,
        dict: StandardDataDictionary,
    };
    if let Some(kind) = preamble(bytes) {
        c.add(FILE, 0, "preamble (128 bytes)".into(), kind);
    }
    let meta = p.obj.meta();
    c.add(
        FILE,
        2,
        "TransferSyntaxUID".into(),
        printable(meta.transfer_syntax().trim_end_matches('\0'), PREVIEW),
    );
    for (field, v) in [
        (
            "MediaStorageSOPInstanceUID",
            Some(meta.media_storage_sop_instance_uid()),
        ),
        (
            "ImplementationVersionName",
            meta.implementation_version_name(),
        ),
        (
            "SourceApplicationEntityTitle",
            meta.source_application_entity_title.as_deref(),
        ),
    ] {
        if let Some(v) = v
            .map(|v| v.trim_end_matches(['\0', ' ']))
            .filter(|v| !v.is_empty())
        {
            c.add(ID, 2, field.into(), printable(v, PREVIEW));
        }
    }
    c.object(&p.obj, "", false, None);
    // A JPEG inside the pixel data can carry its own EXIF (GPS, dates,
    // serials) or comments: listed too, though the output never keeps it
    // (it is re-encoded from the decoded pixels).
    if let Some(fragment) = super::fragments(&p.obj)
        .and_then(<[_]>::first)
        .filter(|f| f.starts_with(&[0xFF, 0xD8]))
    {
        for f in embedded(fragment) {
            let field = format!("PixelData JPEG › {} {}", f.group, f.field);
            c.add(PIXELS, 0x7FE0, field, f.value);
        }
    }
    let mut warnings = Vec::new();
    if c.cut {
        warnings.push(format!(
            "more than {MAX_FINDINGS} DICOM attributes: only the first {MAX_FINDINGS} are listed"
        ));
    }
    c.findings.sort_by_key(|(r, _)| *r);
    (c.findings.into_iter().map(|(_, f)| f).collect(), warnings)
}

/// What the 128-byte preamble holds when it is not all zero (it is free
/// for any use, and often a TIFF header: a dual-format file).
pub fn preamble(bytes: &[u8]) -> Option<String> {
    let p = bytes.get(..128)?;
    if p.iter().all(|&b| b == 0) {
        return None;
    }
    let what = if p.starts_with(b"II*\0") || p.starts_with(b"MM\0*") {
        "a TIFF header (a dual-format DICOM/TIFF file)"
    } else {
        "application data"
    };
    let used = p.iter().filter(|&&b| b != 0).count();
    Some(format!(
        "{what}: {used} non-zero bytes (never copied to an output)"
    ))
}

struct Lister {
    findings: Vec<((u8, u8), MetadataFinding)>,
    cut: bool,
    dict: StandardDataDictionary,
}

impl Lister {
    /// `tag_group` places the finding within its heading (see [`rank`]).
    fn add(&mut self, group: &str, tag_group: u16, field: String, value: String) {
        if self.findings.len() >= MAX_FINDINGS {
            self.cut = true;
            return;
        }
        let finding = MetadataFinding {
            group: group.into(),
            field: printable(&field, 160),
            value,
        };
        self.findings.push((rank(group, tag_group), finding));
    }

    /// A standard attribute by its keyword; a private or unknown one by its tag.
    fn name(&self, tag: Tag) -> String {
        match self.dict.by_tag(tag) {
            Some(e) if tag.0.is_multiple_of(2) => e.alias.to_string(),
            _ if tag.0 % 2 == 1 => format!("({:04X},{:04X}) private", tag.0, tag.1),
            _ => format!("({:04X},{:04X})", tag.0, tag.1),
        }
    }

    /// Every element of `obj`; `path` names the sequence items it is in,
    /// `top` the group of the top-level attribute they are under.
    fn object(&mut self, obj: &InMemDicomObject, path: &str, in_icon: bool, top: Option<u16>) {
        for e in obj.iter() {
            let tag = e.tag();
            let vr = e.vr();
            let field = format!("{path}{}", self.name(tag));
            let group = group_of(tag, vr, in_icon);
            let tag_group = top.unwrap_or(tag.0);
            if tag == Tag(0x7FE0, 0x0010) && !in_icon {
                continue;
            }
            match e.value() {
                Value::Sequence(seq) => {
                    let items = seq.items();
                    self.add(
                        group,
                        tag_group,
                        field.clone(),
                        format!("sequence of {} item(s)", items.len()),
                    );
                    let icon = in_icon || tag == Tag(0x0088, 0x0200);
                    for (i, item) in items.iter().enumerate() {
                        let path = format!("{field}[{}] › ", i + 1);
                        self.object(item, &path, icon, Some(tag_group));
                    }
                }
                Value::PixelSequence(seq) => {
                    let bytes: usize = seq.fragments().iter().map(Vec::len).sum();
                    self.add(
                        group,
                        tag_group,
                        field,
                        format!("encapsulated, {bytes} bytes"),
                    );
                }
                Value::Primitive(v) => {
                    let value = if is_binary(vr) {
                        format!("{} bytes ({vr:?})", v.calculate_byte_len())
                    } else {
                        printable(v.to_str().trim_matches(['\0', ' ']), PREVIEW)
                    };
                    self.add(group, tag_group, field, value);
                }
            }
        }
    }
}

fn is_binary(vr: VR) -> bool {
    matches!(
        vr,
        VR::OB | VR::OD | VR::OF | VR::OL | VR::OV | VR::OW | VR::UN
    )
}

/// The reviewer's heading for an attribute.
fn group_of(tag: Tag, vr: VR, in_icon: bool) -> &'static str {
    if in_icon || tag == Tag(0x0088, 0x0200) {
        ICON
    } else if tag.0 % 2 == 1 {
        PRIVATE
    } else if (0x6000..=0x601E).contains(&tag.0) {
        OVERLAY
    } else if (0x5000..=0x501E).contains(&tag.0) {
        CURVE
    } else if identifying(tag, vr) {
        ID
    } else {
        HEADER
    }
}

/// Named by Table E.1-1, or a kind of value that identifies by nature.
pub(crate) fn identifying(tag: Tag, vr: VR) -> bool {
    let class_uid = matches!(
        (tag.0, tag.1),
        (0x0008, 0x0016) | (0x0008, 0x1150) | (0x0002, 0x0002) | (0x0002, 0x0010)
    );
    E1_1.contains(&(tag.0, tag.1))
        || matches!(vr, VR::PN | VR::DA | VR::DT | VR::TM)
        || (vr == VR::UI && !class_uid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dicom_core::{DataElement, PrimitiveValue};
    use dicom_dictionary_std::tags;

    #[test]
    fn names_dates_private_tags_and_nested_items_are_listed_under_their_heading() {
        let mut inner = InMemDicomObject::new_empty();
        inner.put(DataElement::new(
            Tag(0x0040, 0x1001),
            VR::SH,
            PrimitiveValue::from("RP-99"),
        ));
        let mut obj = InMemDicomObject::new_empty();
        obj.put(DataElement::new(
            tags::PATIENT_NAME,
            VR::PN,
            PrimitiveValue::from("Doe^Jane"),
        ));
        obj.put(DataElement::new(
            tags::ROWS,
            VR::US,
            PrimitiveValue::from(4u16),
        ));
        obj.put(DataElement::new(
            Tag(0x0009, 0x1001),
            VR::LO,
            PrimitiveValue::from("secret"),
        ));
        obj.put(DataElement::new(
            Tag(0x6000, 0x3000),
            VR::OW,
            PrimitiveValue::from(vec![0u8; 8]),
        ));
        obj.put(DataElement::new(
            Tag(0x0040, 0x0275),
            VR::SQ,
            dicom_core::value::DataSetSequence::from(vec![inner]),
        ));
        obj.put(DataElement::new(
            tags::SOP_INSTANCE_UID,
            VR::UI,
            PrimitiveValue::from("1.2.3"),
        ));
        obj.put(DataElement::new(
            tags::SOP_CLASS_UID,
            VR::UI,
            PrimitiveValue::from("1.2.840.10008.5.1.4.1.1.7"),
        ));
        let file = obj
            .with_meta(
                dicom_object::FileMetaTableBuilder::new()
                    .transfer_syntax(super::super::scan::EXPLICIT_LE)
                    .implementation_class_uid("1.2.3.4"),
            )
            .expect("meta");
        let mut bytes = Vec::new();
        file.write_all(&mut bytes).expect("written");
        let parsed = super::super::parse(&bytes).expect("parses");
        let (found, warnings) =
            inventory_file(&bytes, &parsed, &|b| crate::metadata::inventory(b).findings);
        assert!(warnings.is_empty());
        // The patient's name comes first, the header's rows after the private tags.
        assert_eq!(found[0].field, "PatientName", "{found:#?}");
        let at = |field: &str| found.iter().position(|f| f.field.contains(field));
        assert!(at("(0009,1001)") < at("Rows"));
        let has = |group: &str, field: &str, value: &str| {
            found
                .iter()
                .any(|f| f.group == group && f.field.contains(field) && f.value.contains(value))
        };
        assert!(has(ID, "PatientName", "Doe^Jane"), "{found:#?}");
        assert!(has(HEADER, "Rows", "4"));
        assert!(has(PRIVATE, "(0009,1001) private", "secret"));
        assert!(has(OVERLAY, "OverlayData", "8 bytes"));
        assert!(has(
            ID,
            "RequestAttributesSequence[1] › RequestedProcedureID",
            "RP-99"
        ));
    }
}
