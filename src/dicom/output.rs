//! The de-identified DICOM output: a new Secondary Capture instance built
//! from an allowlist (never the original edited), and the check that
//! refuses any written bytes carrying more.
//!
//! PS3.15 Annex E: the Basic Application Level Confidentiality Profile with
//! the Clean Pixel Data and Clean Recognizable Visual Features options (the
//! reviewed masks are flattened into the pixels), and, when dates are
//! shifted, Retain Longitudinal Temporal Information with Modified Dates.
//! Patient Identity Removed (0012,0062) is YES and the methods are listed
//! in (0012,0063) and coded in (0012,0064). UIDs are new: `2.25.` integers
//! from HMAC-SHA-256 under the workspace's secret salt, so the same
//! original released again gets the same study and series UIDs, and the
//! salt never leaves the workspace.
//!
//! Every identifying attribute of the Patient, Study, Series and Equipment
//! modules that the IOD requires (type 2) is present and empty.

use super::DicomSource;
use super::scan;
use dicom_core::header::Header;
use dicom_core::value::{DataSetSequence, PrimitiveValue, Value};
use dicom_core::{DataElement, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};
use hmac::{Hmac, Mac};
use image::RgbImage;
use sha2::{Digest, Sha256};

pub use crate::dicom_source::SECONDARY_CAPTURE;
/// Written in (0002,0013).
pub(crate) const IMPLEMENTATION_VERSION: &str = "VEIL_0_1";
/// The profile Veil applies, as the certificate and ledger name it.
pub(crate) const PROFILE: &str = "PS3.15 Annex E Basic Application Level Confidentiality Profile";

/// Modality defined terms (PS3.3 C.7.3.1.1.1) carried over; others become `OT`.
pub(crate) const MODALITIES: &[&str] = &[
    "AR", "AS", "ASMT", "AU", "BDUS", "BI", "BMD", "CR", "CT", "DG", "DOC", "DX", "ECG", "EPS",
    "ES", "FID", "GM", "HC", "HD", "IO", "IOL", "IVOCT", "IVUS", "KER", "KO", "LEN", "LS", "MG",
    "MR", "M3D", "NM", "OAM", "OCT", "OP", "OPM", "OPT", "OPTBSV", "OPTENF", "OPV", "OSS", "OT",
    "PLAN", "PR", "PT", "PX", "REG", "RESP", "RF", "RG", "RTDOSE", "RTIMAGE", "RTPLAN", "RTRECORD",
    "RTSTRUCT", "RWV", "SEG", "SM", "SMR", "SR", "SRF", "STAIN", "TG", "US", "VA", "XA", "XC",
];

/// De-identification methods (CID 7050): code value and meaning.
const BASIC: (&str, &str) = ("113100", "Basic Application Confidentiality Profile");
const CLEAN_PIXELS: (&str, &str) = ("113101", "Clean Pixel Data Option");
const CLEAN_FEATURES: (&str, &str) = ("113102", "Clean Recognizable Visual Features Option");
const MODIFIED_DATES: (&str, &str) = (
    "113107",
    "Retain Longitudinal Temporal Information Modified Dates Option",
);

/// The methods applied to an output: the profile, its options.
pub(crate) fn methods(dates_shifted: bool) -> Vec<(&'static str, &'static str)> {
    let mut m = vec![BASIC, CLEAN_PIXELS, CLEAN_FEATURES];
    if dates_shifted {
        m.push(MODIFIED_DATES);
    }
    m
}

/// Attributes an output may hold, data set and meta group. Anything
/// else in written bytes is refused by [`check`].
const ALLOWED: &[Tag] = &[
    tags::IMAGE_TYPE,
    tags::SOP_CLASS_UID,
    tags::SOP_INSTANCE_UID,
    tags::STUDY_DATE,
    tags::STUDY_TIME,
    tags::ACCESSION_NUMBER,
    tags::MODALITY,
    tags::CONVERSION_TYPE,
    tags::REFERRING_PHYSICIAN_NAME,
    tags::PATIENT_NAME,
    tags::PATIENT_ID,
    tags::PATIENT_BIRTH_DATE,
    tags::PATIENT_SEX,
    tags::PATIENT_IDENTITY_REMOVED,
    tags::DEIDENTIFICATION_METHOD,
    tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE,
    tags::STUDY_INSTANCE_UID,
    tags::SERIES_INSTANCE_UID,
    tags::STUDY_ID,
    tags::SERIES_NUMBER,
    tags::LATERALITY,
    tags::INSTANCE_NUMBER,
    tags::PATIENT_ORIENTATION,
    tags::SAMPLES_PER_PIXEL,
    tags::PHOTOMETRIC_INTERPRETATION,
    tags::PLANAR_CONFIGURATION,
    tags::ROWS,
    tags::COLUMNS,
    tags::BITS_ALLOCATED,
    tags::BITS_STORED,
    tags::HIGH_BIT,
    tags::PIXEL_REPRESENTATION,
    tags::BURNED_IN_ANNOTATION,
    tags::RECOGNIZABLE_VISUAL_FEATURES,
    tags::LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED,
    tags::LOSSY_IMAGE_COMPRESSION,
    tags::PIXEL_DATA,
];

/// Type 2 attributes the IOD requires present: written empty, and must be.
const EMPTY: &[Tag] = &[
    tags::STUDY_TIME,
    tags::ACCESSION_NUMBER,
    tags::REFERRING_PHYSICIAN_NAME,
    tags::PATIENT_NAME,
    tags::PATIENT_ID,
    tags::PATIENT_BIRTH_DATE,
    tags::PATIENT_SEX,
    tags::STUDY_ID,
    tags::SERIES_NUMBER,
    tags::LATERALITY,
    tags::INSTANCE_NUMBER,
    tags::PATIENT_ORIENTATION,
];

/// Attributes whose value is always the same.
fn fixed() -> Vec<(Tag, &'static str)> {
    vec![
        (tags::IMAGE_TYPE, "DERIVED\\SECONDARY"),
        (tags::SOP_CLASS_UID, SECONDARY_CAPTURE),
        (tags::CONVERSION_TYPE, "WSD"),
        (tags::PATIENT_IDENTITY_REMOVED, "YES"),
        (tags::PHOTOMETRIC_INTERPRETATION, "RGB"),
        (tags::BURNED_IN_ANNOTATION, "NO"),
        (tags::RECOGNIZABLE_VISUAL_FEATURES, "NO"),
    ]
}

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA-256 of `label` and `value` under `salt`.
fn mac(salt: &[u8], label: &str, value: &str) -> [u8; 32] {
    // HMAC takes a key of any length: this cannot fail.
    let mut m = <HmacSha256 as Mac>::new_from_slice(salt)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    m.update(label.as_bytes());
    m.update(&[0]);
    m.update(value.as_bytes());
    m.finalize().into_bytes().into()
}

/// `2.25.` and the integer of a 128-bit UUID (version 8, RFC 9562) made
/// from the first 16 bytes of `digest`.
fn uid_of(digest: &[u8; 32]) -> String {
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0F) | 0x80;
    b[8] = (b[8] & 0x3F) | 0x80;
    format!("2.25.{}", u128::from_be_bytes(b))
}

/// A new UID for the original's `value` (a study or series UID).
pub(crate) fn salted_uid(salt: &[u8], label: &str, value: &str) -> String {
    uid_of(&mac(salt, label, value))
}

/// The salted digest of `value`, hex.
pub(crate) fn salted_hex(salt: &[u8], label: &str, value: &str) -> String {
    hex::encode(mac(salt, label, value))
}

/// The output's SOP Instance UID: from the item's seed and its masks, so
/// the same decision rendered again is the same instance and a different
/// one is not.
pub(crate) fn instance_uid(seed: &str, masks_digest: &str) -> String {
    let mut h = Sha256::new();
    h.update(seed.as_bytes());
    h.update([0]);
    h.update(masks_digest.as_bytes());
    uid_of(&h.finalize().into())
}

/// The study date moved back by this patient's secret offset (1–3650
/// days, the same for every study of the patient in this workspace).
pub(crate) fn shift_date(salt: &[u8], patient_id: &str, date: &str) -> Option<String> {
    let d: jiff::civil::Date = jiff::civil::Date::strptime("%Y%m%d", date.trim()).ok()?;
    let m = mac(salt, "date-shift", patient_id);
    let days = 1 + i64::from(u16::from_be_bytes([m[0], m[1]])) % 3650;
    let shifted = d.checked_sub(jiff::Span::new().days(days)).ok()?;
    Some(shifted.strftime("%Y%m%d").to_string())
}

/// The Implementation Class UID Veil writes in (0002,0012).
pub(crate) fn implementation_uid() -> String {
    uid_of(&Sha256::digest(b"Veil de-identification station").into())
}

fn put(obj: &mut InMemDicomObject, tag: Tag, vr: VR, value: impl Into<PrimitiveValue>) {
    obj.put(DataElement::new(tag, vr, Value::Primitive(value.into())));
}

fn put_empty(obj: &mut InMemDicomObject, tag: Tag, vr: VR) {
    obj.put(DataElement::new(tag, vr, PrimitiveValue::Empty));
}

/// Build the output instance: `rgb` (masks already filled) and the
/// de-identified values of `src`. `masks_digest` fixes the SOP Instance UID.
pub fn write(
    rgb: &RgbImage,
    src: &DicomSource,
    masks_digest: &str,
    shift_dates: bool,
) -> Result<Vec<u8>, String> {
    let (w, h) = rgb.dimensions();
    let (Ok(rows), Ok(cols)) = (u16::try_from(h), u16::try_from(w)) else {
        return Err(format!(
            "{w}x{h} is larger than DICOM's 65535x65535: choose image output for this item"
        ));
    };
    let mut obj = InMemDicomObject::new_empty();
    for (tag, value) in fixed() {
        let vr = if tag == tags::SOP_CLASS_UID {
            VR::UI
        } else {
            VR::CS
        };
        let value: PrimitiveValue = if value.contains('\\') {
            PrimitiveValue::Strs(value.split('\\').map(str::to_string).collect())
        } else {
            PrimitiveValue::from(value)
        };
        obj.put(DataElement::new(tag, vr, value));
    }
    let instance = instance_uid(&src.instance_seed, masks_digest);
    put(&mut obj, tags::SOP_INSTANCE_UID, VR::UI, instance.as_str());
    put(
        &mut obj,
        tags::STUDY_INSTANCE_UID,
        VR::UI,
        src.study_uid.as_str(),
    );
    put(
        &mut obj,
        tags::SERIES_INSTANCE_UID,
        VR::UI,
        src.series_uid.as_str(),
    );
    let modality = if MODALITIES.contains(&src.modality.as_str()) {
        src.modality.as_str()
    } else {
        "OT"
    };
    put(&mut obj, tags::MODALITY, VR::CS, modality);
    let date = src.shifted_study_date.as_deref().filter(|_| shift_dates);
    match date {
        Some(d) => put(&mut obj, tags::STUDY_DATE, VR::DA, d),
        None => put_empty(&mut obj, tags::STUDY_DATE, VR::DA),
    }
    for tag in EMPTY {
        put_empty(&mut obj, *tag, vr_of(*tag));
    }
    let applied = methods(date.is_some());
    obj.put(DataElement::new(
        tags::DEIDENTIFICATION_METHOD,
        VR::LO,
        PrimitiveValue::Strs(applied.iter().map(|(_, m)| (*m).to_string()).collect()),
    ));
    let codes: Vec<InMemDicomObject> = applied
        .iter()
        .map(|(value, meaning)| {
            let mut item = InMemDicomObject::new_empty();
            put(&mut item, tags::CODE_VALUE, VR::SH, *value);
            put(&mut item, tags::CODING_SCHEME_DESIGNATOR, VR::SH, "DCM");
            put(&mut item, tags::CODE_MEANING, VR::LO, *meaning);
            item
        })
        .collect();
    obj.put(DataElement::new(
        tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE,
        VR::SQ,
        DataSetSequence::from(codes),
    ));
    put(
        &mut obj,
        tags::LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED,
        VR::CS,
        if date.is_some() {
            "MODIFIED"
        } else {
            "REMOVED"
        },
    );
    put(
        &mut obj,
        tags::LOSSY_IMAGE_COMPRESSION,
        VR::CS,
        if src.lossy { "01" } else { "00" },
    );
    put(&mut obj, tags::SAMPLES_PER_PIXEL, VR::US, 3u16);
    put(&mut obj, tags::PLANAR_CONFIGURATION, VR::US, 0u16);
    put(&mut obj, tags::ROWS, VR::US, rows);
    put(&mut obj, tags::COLUMNS, VR::US, cols);
    put(&mut obj, tags::BITS_ALLOCATED, VR::US, 8u16);
    put(&mut obj, tags::BITS_STORED, VR::US, 8u16);
    put(&mut obj, tags::HIGH_BIT, VR::US, 7u16);
    put(&mut obj, tags::PIXEL_REPRESENTATION, VR::US, 0u16);
    let mut pixels = rgb.as_raw().clone();
    if pixels.len() % 2 == 1 {
        pixels.push(0);
    }
    put(&mut obj, tags::PIXEL_DATA, VR::OB, pixels);
    let meta = FileMetaTableBuilder::new()
        .transfer_syntax(scan::EXPLICIT_LE)
        .implementation_class_uid(implementation_uid())
        .implementation_version_name(IMPLEMENTATION_VERSION);
    let file = obj
        .with_meta(meta)
        .map_err(|e| format!("cannot build the file meta group: {e}"))?;
    let mut out = Vec::with_capacity(rgb.as_raw().len() + 4096);
    file.write_all(&mut out)
        .map_err(|e| format!("cannot write the DICOM output: {e}"))?;
    Ok(out)
}

fn vr_of(tag: Tag) -> VR {
    match tag {
        t if t == tags::STUDY_TIME => VR::TM,
        t if t == tags::PATIENT_BIRTH_DATE => VR::DA,
        t if t == tags::REFERRING_PHYSICIAN_NAME || t == tags::PATIENT_NAME => VR::PN,
        t if t == tags::ACCESSION_NUMBER || t == tags::STUDY_ID => VR::SH,
        t if t == tags::PATIENT_ID => VR::LO,
        t if t == tags::SERIES_NUMBER || t == tags::INSTANCE_NUMBER => VR::IS,
        _ => VR::CS,
    }
}

/// Is `s` a UID Veil writes: `2.25.` and a decimal integer without leading zeros?
fn is_veil_uid(s: &str) -> bool {
    s.strip_prefix("2.25.").is_some_and(|n| {
        !n.is_empty()
            && n.len() <= 39
            && n.bytes().all(|b| b.is_ascii_digit())
            && (n == "0" || !n.starts_with('0'))
    })
}

/// The allowlist, applied to bytes as written: a zero preamble, a meta
/// group of the six expected attributes, explicit VR little endian, only
/// [`ALLOWED`] attributes, each with a value Veil writes (identifying type
/// 2 attributes empty, UIDs `2.25.` integers, the Annex E flags set), no
/// private tag, icon, overlay or curve, and RGB pixels of the stated size.
/// The error names the attribute.
pub fn check(bytes: &[u8]) -> Result<(), String> {
    if bytes.len() < 132 || bytes[..128].iter().any(|&b| b != 0) {
        return Err("the 128-byte preamble is not all zero".into());
    }
    let p = super::parse(bytes).map_err(|e| e.to_string())?;
    let meta = p.obj.meta();
    if p.layout.transfer_syntax != scan::EXPLICIT_LE {
        return Err(format!(
            "transfer syntax is {}, not Explicit VR Little Endian",
            p.layout.transfer_syntax
        ));
    }
    let trim = |s: &str| s.trim_end_matches(['\0', ' ']).to_string();
    if trim(meta.media_storage_sop_class_uid()) != SECONDARY_CAPTURE {
        return Err("(0002,0002) is not Secondary Capture".into());
    }
    if trim(meta.implementation_class_uid()) != implementation_uid()
        || meta.implementation_version_name().map(trim).as_deref() != Some(IMPLEMENTATION_VERSION)
    {
        return Err("(0002,0012)/(0002,0013) do not name Veil".into());
    }
    if meta.source_application_entity_title.is_some()
        || meta.sending_application_entity_title.is_some()
        || meta.receiving_application_entity_title.is_some()
        || meta.private_information_creator_uid.is_some()
        || meta.private_information.is_some()
    {
        return Err("the file meta group holds an attribute off the allowlist".into());
    }
    // The group length and the six attributes Veil writes, no more (the
    // parser keeps only the meta attributes it knows).
    if p.layout.meta_elements != 7 {
        return Err(format!(
            "the file meta group holds {} elements, not the 7 Veil writes",
            p.layout.meta_elements
        ));
    }
    let obj = &p.obj;
    let get = |tag| super::text(obj, tag).unwrap_or_default();
    for e in obj.iter() {
        let tag = e.tag();
        let name = format!("({:04X},{:04X})", tag.0, tag.1);
        if !ALLOWED.contains(&tag) {
            return Err(format!("attribute {name} is not on the output allowlist"));
        }
    }
    for tag in ALLOWED {
        if obj.element_opt(*tag).ok().flatten().is_none() {
            return Err(format!(
                "attribute ({:04X},{:04X}) is missing",
                tag.0, tag.1
            ));
        }
    }
    for tag in EMPTY {
        if !get(*tag).is_empty() {
            return Err(format!(
                "attribute ({:04X},{:04X}) is not empty",
                tag.0, tag.1
            ));
        }
    }
    for (tag, value) in fixed() {
        let found = super::text(obj, tag).unwrap_or_default();
        if found != value {
            return Err(format!(
                "attribute ({:04X},{:04X}) is '{found}', not '{value}'",
                tag.0, tag.1
            ));
        }
    }
    let instance = get(tags::SOP_INSTANCE_UID);
    for tag in [
        tags::SOP_INSTANCE_UID,
        tags::STUDY_INSTANCE_UID,
        tags::SERIES_INSTANCE_UID,
    ] {
        if !is_veil_uid(&get(tag)) {
            return Err(format!(
                "UID ({:04X},{:04X}) is not one Veil made",
                tag.0, tag.1
            ));
        }
    }
    if trim(meta.media_storage_sop_instance_uid()) != instance {
        return Err("(0002,0003) differs from the SOP Instance UID".into());
    }
    if !MODALITIES.contains(&get(tags::MODALITY).as_str()) {
        return Err("(0008,0060) Modality is not a defined term".into());
    }
    let date = get(tags::STUDY_DATE);
    let shifted = !date.is_empty();
    if shifted && (date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit())) {
        return Err("(0008,0020) Study Date is not a date".into());
    }
    let temporal = get(tags::LONGITUDINAL_TEMPORAL_INFORMATION_MODIFIED);
    if temporal != if shifted { "MODIFIED" } else { "REMOVED" } {
        return Err("(0028,0303) does not match the study date".into());
    }
    if !matches!(get(tags::LOSSY_IMAGE_COMPRESSION).as_str(), "00" | "01") {
        return Err("(0028,2110) is not 00 or 01".into());
    }
    check_methods(obj, shifted)?;
    let number = |tag| {
        obj.element_opt(tag)
            .ok()
            .flatten()
            .and_then(|e| e.to_int::<u32>().ok())
    };
    let want = [
        (tags::SAMPLES_PER_PIXEL, 3),
        (tags::PLANAR_CONFIGURATION, 0),
        (tags::BITS_ALLOCATED, 8),
        (tags::BITS_STORED, 8),
        (tags::HIGH_BIT, 7),
        (tags::PIXEL_REPRESENTATION, 0),
    ];
    for (tag, v) in want {
        if number(tag) != Some(v) {
            return Err(format!(
                "attribute ({:04X},{:04X}) is not {v}",
                tag.0, tag.1
            ));
        }
    }
    let (rows, cols) = (number(tags::ROWS), number(tags::COLUMNS));
    let px = obj.element(tags::PIXEL_DATA).map_err(|e| e.to_string())?;
    let n = px
        .value()
        .primitive()
        .map(dicom_core::PrimitiveValue::calculate_byte_len);
    let expected = rows.zip(cols).map(|(r, c)| {
        let n = r as usize * c as usize * 3;
        n + n % 2
    });
    if px.vr() != VR::OB || n.is_none() || n != expected {
        return Err("(7FE0,0010) Pixel Data is not RGB of the stated size".into());
    }
    Ok(())
}

/// (0012,0063) and (0012,0064) list exactly the methods applied.
fn check_methods(obj: &InMemDicomObject, shifted: bool) -> Result<(), String> {
    let want = methods(shifted);
    let names = obj
        .element(tags::DEIDENTIFICATION_METHOD)
        .ok()
        .and_then(|e| e.to_multi_str().ok().map(|s| s.to_vec()))
        .unwrap_or_default();
    let names: Vec<String> = names.iter().map(|s| s.trim().to_string()).collect();
    if names
        != want
            .iter()
            .map(|(_, m)| (*m).to_string())
            .collect::<Vec<_>>()
    {
        return Err("(0012,0063) does not list the methods applied".into());
    }
    let items = obj
        .element(tags::DEIDENTIFICATION_METHOD_CODE_SEQUENCE)
        .ok()
        .and_then(|e| e.items())
        .unwrap_or_default();
    if items.len() != want.len() {
        return Err("(0012,0064) does not code the methods applied".into());
    }
    for (item, (value, meaning)) in items.iter().zip(&want) {
        let get = |tag| super::text(item, tag).unwrap_or_default();
        if item.iter().count() != 3
            || get(tags::CODE_VALUE) != *value
            || get(tags::CODING_SCHEME_DESIGNATOR) != "DCM"
            || get(tags::CODE_MEANING) != *meaning
        {
            return Err("(0012,0064) holds an item Veil does not write".into());
        }
    }
    Ok(())
}

/// The pixels of an output Veil wrote (checked first).
pub fn pixels(bytes: &[u8]) -> Result<RgbImage, String> {
    check(bytes)?;
    let p = super::parse(bytes).map_err(|e| e.to_string())?;
    let s = super::shape(&p.obj).map_err(|e| e.to_string())?;
    let data = p
        .obj
        .element(tags::PIXEL_DATA)
        .map_err(|e| e.to_string())?
        .to_bytes()
        .map_err(|e| e.to_string())?;
    let n = s.width as usize * s.height as usize * 3;
    RgbImage::from_raw(
        s.width,
        s.height,
        data.get(..n).unwrap_or_default().to_vec(),
    )
    .ok_or_else(|| "the pixel data is short".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> DicomSource {
        DicomSource {
            sop_class: "1.2.840.10008.5.1.4.1.1.77.1.4".into(),
            transfer_syntax: scan::EXPLICIT_LE.into(),
            photometric: "RGB".into(),
            modality: "XC".into(),
            study_uid: salted_uid(b"salt", "study", "1.2.3"),
            series_uid: salted_uid(b"salt", "series", "1.2.3.4"),
            instance_seed: salted_hex(b"salt", "instance", "1.2.3.4.5"),
            shifted_study_date: shift_date(b"salt", "PID-1", "20240131"),
            lossy: true,
            burned_in: None,
        }
    }

    fn picture() -> RgbImage {
        RgbImage::from_fn(5, 3, |x, y| image::Rgb([x as u8 * 40, y as u8 * 80, 7]))
    }

    #[test]
    fn what_is_written_passes_the_check_and_reads_back_bit_exact() {
        for shift in [false, true] {
            let bytes = write(&picture(), &source(), "digest", shift).expect("written");
            check(&bytes).expect("passes its own allowlist");
            assert_eq!(pixels(&bytes).expect("reads back"), picture());
            let again = write(&picture(), &source(), "digest", shift).expect("written");
            assert_eq!(bytes, again, "same decision, same bytes");
        }
    }

    #[test]
    fn uids_are_2_25_integers_stable_per_salt_and_new_per_mask_change() {
        let a = salted_uid(b"salt", "study", "1.2.3");
        assert!(is_veil_uid(&a), "{a}");
        assert_eq!(a, salted_uid(b"salt", "study", "1.2.3"));
        assert_ne!(a, salted_uid(b"other", "study", "1.2.3"));
        assert!(a.len() <= 64);
        assert_ne!(instance_uid("seed", "m1"), instance_uid("seed", "m2"));
    }

    #[test]
    fn dates_shift_back_by_the_same_days_for_one_patient() {
        let a = shift_date(b"salt", "P1", "20240301").expect("a date");
        let b = shift_date(b"salt", "P1", "20240302").expect("a date");
        assert_ne!(a, "20240301");
        assert!(a.as_str() < "20240301");
        let day = |s: &str| jiff::civil::Date::strptime("%Y%m%d", s).expect("date");
        assert_eq!(day(&b) - day(&a), jiff::Span::new().days(1).fieldwise());
        assert_eq!(shift_date(b"salt", "P1", "not a date"), None);
    }

    #[test]
    fn a_planted_attribute_or_a_nonzero_preamble_is_refused_by_name() {
        let bytes = write(&picture(), &source(), "d", false).expect("written");
        let mut preamble = bytes.clone();
        preamble[3] = b'X';
        assert!(check(&preamble).unwrap_err().contains("preamble"));
        // Rebuild with a patient name planted.
        let p = super::super::parse(&bytes).expect("parses");
        let mut file = p.obj;
        file.put(DataElement::new(
            tags::PATIENT_NAME,
            VR::PN,
            PrimitiveValue::from("Doe^Jane"),
        ));
        let mut planted = Vec::new();
        file.write_all(&mut planted).expect("writes");
        assert!(
            check(&planted)
                .unwrap_err()
                .contains("(0010,0010) is not empty")
        );
        let p = super::super::parse(&bytes).expect("parses");
        let mut file = p.obj;
        file.put(DataElement::new(
            Tag(0x0009, 0x0010),
            VR::LO,
            PrimitiveValue::from("ACME"),
        ));
        let mut planted = Vec::new();
        file.write_all(&mut planted).expect("writes");
        assert!(
            check(&planted)
                .unwrap_err()
                .contains("(0009,0010) is not on the output allowlist")
        );
    }
}
