//! DICOM originals: read safely, inventory the header, decode the pixels
//! upright for review, and write a new de-identified instance.
//!
//! Invariants:
//! - A file is recognised by its Part 10 preamble, never its name.
//! - No parser sees a file before [`scan`] has walked its structure: every
//!   length inside its container and the file, nesting and element counts
//!   capped. dicom-object then allocates at most in proportion to the file.
//! - Dimensions, frames and bit depth are checked against the policy's
//!   limits and memory plan before any pixel is decoded.
//! - The output ([`output`]) is a new instance built from an allowlist,
//!   never the input edited; [`output::check`] refuses any bytes that carry
//!   an attribute off that list.

pub mod inventory;
pub mod output;
pub mod scan;

use crate::decoded::{DecodeError, Decoded, SourceFormat};
use crate::memory::{MemoryPlan, Step};
use crate::policy::Limits;
use dicom_dictionary_std::tags;
use dicom_object::file::ReadPreamble;
use dicom_object::{DefaultDicomObject, InMemDicomObject, OpenFileOptions};
use image::DynamicImage;

pub use scan::is_dicom;

/// The detector name on masks proposed over a header's annotation bands.
pub use crate::item::DICOM_BAND_PROPOSER as BAND_PROPOSER;

/// Transfer syntaxes whose pixels Veil decodes.
const READABLE: &[(&str, &str)] = &[
    (scan::IMPLICIT_LE, "Implicit VR Little Endian"),
    (scan::EXPLICIT_LE, "Explicit VR Little Endian"),
    ("1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)"),
    (
        "1.2.840.10008.1.2.4.51",
        "JPEG Extended (Process 2 & 4), 8-bit",
    ),
    ("1.2.840.10008.1.2.4.57", "JPEG Lossless (Process 14)"),
    ("1.2.840.10008.1.2.4.70", "JPEG Lossless SV1"),
    ("1.2.840.10008.1.2.5", "RLE Lossless"),
];

/// Lossy transfer syntaxes: a picture that passed through one is lossy forever.
const LOSSY: &[&str] = &["1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51"];

pub use crate::dicom_source::DicomSource;

/// A DICOM file parsed after its structure was walked.
pub struct Parsed {
    pub obj: DefaultDicomObject,
    pub layout: scan::Layout,
}

/// Walk, then parse. The error says what is wrong and where.
pub fn parse(bytes: &[u8]) -> Result<Parsed, DecodeError> {
    let layout = scan::scan(bytes).map_err(|e| match e.strip_prefix(scan::UNSUPPORTED) {
        Some(name) => unsupported(format!("transfer syntax {name} is not read")),
        None => corrupt(e),
    })?;
    let obj = OpenFileOptions::new()
        .read_preamble(ReadPreamble::Never)
        .from_reader(bytes.get(128..).unwrap_or_default())
        .map_err(|e| corrupt(e.to_string()))?;
    Ok(Parsed { obj, layout })
}

/// Errors quote the file (a transfer syntax UID, a value) and reach the
/// terminal: made printable here, once.
fn corrupt(problem: impl Into<String>) -> DecodeError {
    DecodeError::Corrupt {
        format: "DICOM",
        problem: crate::text::printable(&problem.into(), 400),
    }
}

fn unsupported(problem: impl Into<String>) -> DecodeError {
    DecodeError::UnsupportedDicom(crate::text::printable(&problem.into(), 400))
}

/// A string attribute, trimmed; `None` when absent or not text.
pub fn text(obj: &InMemDicomObject, tag: dicom_core::Tag) -> Option<String> {
    let e = obj.element_opt(tag).ok()??;
    let s = e.to_str().ok()?;
    Some(s.trim_matches(['\0', ' ']).to_string())
}

fn int(obj: &InMemDicomObject, tag: dicom_core::Tag) -> Option<u32> {
    obj.element_opt(tag).ok()??.to_int::<u32>().ok()
}

/// The image's shape from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub width: u32,
    pub height: u32,
    pub samples: u32,
    pub bits_allocated: u32,
    pub frames: u32,
}

impl Shape {
    fn native_bytes(&self) -> u64 {
        u64::from(self.width)
            * u64::from(self.height)
            * u64::from(self.samples)
            * u64::from(self.bits_allocated.div_ceil(8))
    }
}

/// Rows, columns and sample layout, refused when absent or absurd.
pub fn shape(obj: &InMemDicomObject) -> Result<Shape, DecodeError> {
    let need = |tag, name: &str| {
        int(obj, tag).ok_or_else(|| corrupt(format!("no {name} in the header: not an image")))
    };
    let s = Shape {
        height: need(tags::ROWS, "Rows (0028,0010)")?,
        width: need(tags::COLUMNS, "Columns (0028,0011)")?,
        samples: need(tags::SAMPLES_PER_PIXEL, "Samples per Pixel (0028,0002)")?,
        bits_allocated: need(tags::BITS_ALLOCATED, "Bits Allocated (0028,0100)")?,
        frames: text(obj, tags::NUMBER_OF_FRAMES)
            .and_then(|f| f.parse().ok())
            .unwrap_or(1),
    };
    if s.width == 0 || s.height == 0 {
        return Err(corrupt(format!(
            "the header says {}x{} pixels",
            s.width, s.height
        )));
    }
    if !matches!(s.samples, 1 | 3) || !matches!(s.bits_allocated, 8 | 16) {
        return Err(unsupported(format!(
            "{} samples per pixel of {} bits (Veil reads 1 or 3 samples of 8 or 16 bits)",
            s.samples, s.bits_allocated
        )));
    }
    Ok(s)
}

/// The memory plan from the header, checked against the limits.
fn plan(bytes: &[u8], p: &Parsed, l: &Limits) -> Result<(Shape, MemoryPlan), DecodeError> {
    let s = shape(&p.obj)?;
    if s.width > l.max_width || s.height > l.max_height {
        return Err(DecodeError::TooLarge {
            width: s.width,
            height: s.height,
            max_width: l.max_width,
            max_height: l.max_height,
        });
    }
    if s.frames > 1 {
        return Err(unsupported(format!(
            "a multi-frame instance ({} frames): Veil reviews one picture per item; export the frames as single-frame instances first",
            s.frames
        )));
    }
    let native = s.native_bytes();
    Ok((
        s,
        MemoryPlan {
            width: s.width,
            height: s.height,
            // The parsed object holds the encoded pixels as well as the file.
            file: 2 * bytes.len() as u64,
            native,
            // Planar or YBR data is converted in a second buffer.
            decoder: native,
            rotates: false,
            converts: true,
        },
    ))
}

/// Width and height from the header, when it can be read.
pub fn dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    let p = parse(bytes).ok()?;
    shape(&p.obj).ok().map(|s| (s.width, s.height))
}

/// The memory plan of a DICOM file from its header.
pub fn memory_plan(bytes: &[u8], l: &Limits) -> Result<MemoryPlan, DecodeError> {
    let p = parse(bytes)?;
    plan(bytes, &p, l).map(|(_, m)| m)
}

/// Decode the (single) frame to 8-bit pixels: RGB, YBR_FULL(_422) to RGB,
/// MONOCHROME1/2 through the header's rescale and window (or the full
/// range when it has none), MONOCHROME1 inverted. DICOM has no EXIF
/// orientation: the picture is upright as stored.
pub fn decode(bytes: &[u8], l: &Limits, step: Step) -> Result<Decoded, DecodeError> {
    let p = parse(bytes)?;
    let ts = p.layout.transfer_syntax.as_str();
    if !READABLE.iter().any(|(uid, _)| *uid == ts) {
        return Err(unsupported(format!(
            "transfer syntax {ts}{} is not read (Veil reads uncompressed, JPEG baseline, extended and lossless, and RLE)",
            transfer_syntax_name(ts)
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        )));
    }
    let (s, plan) = plan(bytes, &p, l)?;
    plan.check(step, l)?;
    let pi = text(&p.obj, tags::PHOTOMETRIC_INTERPRETATION).unwrap_or_default();
    let image = match pi.as_str() {
        "RGB" | "YBR_FULL" | "MONOCHROME1" | "MONOCHROME2" => pixels(&p, s)?,
        "YBR_FULL_422" if ts == scan::IMPLICIT_LE || ts == scan::EXPLICIT_LE => {
            native_ybr_422(&p, s)?
        }
        "YBR_FULL_422" => pixels(&p, s)?,
        other => {
            return Err(unsupported(format!(
                "photometric interpretation '{other}' is not read (Veil reads RGB, YBR_FULL, YBR_FULL_422, MONOCHROME1 and MONOCHROME2)"
            )));
        }
    };
    if (image.width(), image.height()) != (s.width, s.height) {
        return Err(corrupt(format!(
            "the pixels decode to {}x{}, the header says {}x{}",
            image.width(),
            image.height(),
            s.width,
            s.height
        )));
    }
    Ok(Decoded {
        format: SourceFormat::Dicom,
        width: s.width,
        height: s.height,
        orientation: 1,
        image,
        plan,
    })
}

/// The name of a transfer syntax the registry knows.
pub(crate) fn transfer_syntax_name(uid: &str) -> Option<&'static str> {
    use dicom_encoding::TransferSyntaxIndex;
    dicom_transfer_syntax_registry::TransferSyntaxRegistry
        .get(uid)
        .map(dicom_encoding::TransferSyntax::name)
}

/// RLE Lossless.
const RLE: &str = "1.2.840.10008.1.2.5";

fn pixels(p: &Parsed, s: Shape) -> Result<DynamicImage, DecodeError> {
    if p.layout.transfer_syntax == RLE {
        check_rle(p, s).map_err(|e| corrupt(format!("RLE pixel data: {e}")))?;
    }
    if p.layout.transfer_syntax.starts_with("1.2.840.10008.1.2.4.") {
        check_jpeg_frame(p, s).map_err(|e| corrupt(format!("JPEG pixel data: {e}")))?;
    }
    // Containment: a third-party decoder that panics on a crafted file
    // (dicom-rs's RLE decoder indexed past a short segment until
    // `check_rle` ran first) fails this one file, not the whole run.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| convert(p, s)))
        .map_err(|_| corrupt("the pixel decoder failed on this file"))?
}

/// dicom-pixeldata's decode and conversion to 8-bit pixels.
fn convert(p: &Parsed, s: Shape) -> Result<DynamicImage, DecodeError> {
    use dicom_pixeldata::{ConvertOptions, PixelDecoder};
    let expected = s.native_bytes();
    let decoded = p
        .obj
        .decode_pixel_data()
        .map_err(|e| corrupt(format!("the pixel data does not decode: {e}")))?;
    if (decoded.data().len() as u64) < expected {
        return Err(corrupt(format!(
            "the pixel data holds {} bytes, {expected} expected for {}x{}x{} of {} bits",
            decoded.data().len(),
            s.width,
            s.height,
            s.samples,
            s.bits_allocated
        )));
    }
    decoded
        .to_dynamic_image_with_options(0, &ConvertOptions::new().force_8bit())
        .map_err(|e| corrupt(format!("the pixel data does not convert to a picture: {e}")))
}

/// The fragments of encapsulated Pixel Data; `None` when it is absent or
/// native.
pub fn fragments(obj: &InMemDicomObject) -> Option<&[Vec<u8>]> {
    match obj.element_opt(tags::PIXEL_DATA).ok()??.value() {
        dicom_core::value::Value::PixelSequence(seq) => Some(seq.fragments()),
        _ => None,
    }
}

/// An RLE fragment (PS3.5 Annex G) holds what its header claims: one
/// segment per sample byte, offsets in order inside the fragment, each
/// segment's PackBits runs complete and decoding to at least a byte per
/// pixel. dicom-rs's decoder indexes past a short segment, so it only ever
/// sees fragments that pass.
fn check_rle(p: &Parsed, s: Shape) -> Result<(), String> {
    // One frame, one fragment (PS3.5 G.2); dicom-rs decodes others too.
    let fragments = fragments(&p.obj).ok_or("not encapsulated")?;
    let [fragment] = fragments else {
        return Err(format!(
            "{} fragments for one frame (RLE puts each frame in exactly one)",
            fragments.len()
        ));
    };
    let u32_at = |at: usize| {
        fragment
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .ok_or("the 64-byte header is cut off")
    };
    let segments = u32_at(0)?;
    let expected = (s.samples * s.bits_allocated.div_ceil(8)) as usize;
    if segments != expected {
        return Err(format!("{segments} segments, {expected} expected"));
    }
    let pixels = s.width as usize * s.height as usize;
    for i in 0..segments {
        let start = u32_at(4 + 4 * i)?;
        let end = if i + 1 < segments {
            u32_at(8 + 4 * i)?
        } else {
            fragment.len()
        };
        if start < 64 || start > end || end > fragment.len() {
            return Err(format!("segment {} lies outside the fragment", i + 1));
        }
        let decoded = packbits_len(&fragment[start..end], pixels)
            .ok_or_else(|| format!("segment {} ends inside a run", i + 1))?;
        if decoded < pixels {
            return Err(format!(
                "segment {} decodes to {decoded} bytes, {pixels} expected",
                i + 1
            ));
        }
    }
    Ok(())
}

/// The JPEG in the pixel data is the picture the header describes: its
/// frame header (SOFn) gives the same width, height and number of
/// components, and a precision that fits Bits Allocated. dicom-rs copies
/// the decoded JPEG into a buffer sized from the header and indexes past
/// it when they differ (found by fuzzing), so it only sees JPEGs that agree.
fn check_jpeg_frame(p: &Parsed, s: Shape) -> Result<(), String> {
    let jpeg = fragments(&p.obj)
        .ok_or("not encapsulated")?
        .first()
        .ok_or("no fragment")?;
    if !jpeg.starts_with(&[0xFF, 0xD8]) {
        return Err("the first fragment does not start a JPEG (no SOI)".into());
    }
    let mut at = 2;
    loop {
        // Fill bytes (0xFF runs) may precede a marker.
        while jpeg.get(at) == Some(&0xFF) && jpeg.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (jpeg.get(at), jpeg.get(at + 1)) else {
            return Err("no frame header (SOF) before the end of the first fragment".into());
        };
        let len = jpeg
            .get(at + 2..at + 4)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or("a segment header is cut off")?;
        let is_sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_sof {
            let f = jpeg
                .get(at + 4..at + 10)
                .ok_or("the frame header is cut off")?;
            let precision = u32::from(f[0]);
            let height = u32::from(u16::from_be_bytes([f[1], f[2]]));
            let width = u32::from(u16::from_be_bytes([f[3], f[4]]));
            let components = u32::from(f[5]);
            if (width, height, components) != (s.width, s.height, s.samples) {
                return Err(format!(
                    "the JPEG is {width}x{height} with {components} component(s), the header says {}x{} with {}",
                    s.width, s.height, s.samples
                ));
            }
            if precision > s.bits_allocated {
                return Err(format!(
                    "{precision}-bit JPEG samples do not fit Bits Allocated {}",
                    s.bits_allocated
                ));
            }
            return Ok(());
        }
        if len < 2 {
            return Err(format!("segment FF{marker:02X} has length {len}"));
        }
        at += 2 + len;
    }
}

/// How many bytes a PackBits segment decodes to (stopping once `enough`),
/// or `None` when a literal run is cut off.
fn packbits_len(seg: &[u8], enough: usize) -> Option<usize> {
    let (mut at, mut out) = (0usize, 0usize);
    while at < seg.len() && out < enough {
        let n = seg[at] as i8;
        at += 1;
        match n {
            0..=127 => {
                let len = n as usize + 1;
                if at + len > seg.len() {
                    return None;
                }
                at += len;
                out += len;
            }
            -127..=-1 => {
                if at >= seg.len() {
                    return None;
                }
                at += 1;
                out += 1 + n.unsigned_abs() as usize;
            }
            -128 => {}
        }
    }
    Some(out)
}

/// Uncompressed YBR_FULL_422 (two luma samples share one pair of chroma
/// samples, PS3.3 C.7.6.3.1.2), which dicom-pixeldata does not read.
fn native_ybr_422(p: &Parsed, s: Shape) -> Result<DynamicImage, DecodeError> {
    if s.samples != 3 || s.bits_allocated != 8 {
        return Err(unsupported("YBR_FULL_422 other than 3 samples of 8 bits"));
    }
    let data = p
        .obj
        .element(tags::PIXEL_DATA)
        .map_err(|_| corrupt("no Pixel Data (7FE0,0010)"))?
        .to_bytes()
        .map_err(|e| corrupt(format!("Pixel Data: {e}")))?;
    let (w, h) = (s.width as usize, s.height as usize);
    let row = w.div_ceil(2) * 4;
    if data.len() < row * h {
        return Err(corrupt(format!(
            "YBR_FULL_422 pixel data holds {} bytes, {} expected",
            data.len(),
            row * h
        )));
    }
    let mut out = image::RgbImage::new(s.width, s.height);
    for (y, line) in data.chunks_exact(row).take(h).enumerate() {
        for (x, px) in (0..w).map(|x| (x, &line[(x / 2) * 4..(x / 2) * 4 + 4])) {
            let luma = f32::from(px[x % 2]);
            let (cb, cr) = (f32::from(px[2]) - 128.0, f32::from(px[3]) - 128.0);
            let c = |v: f32| v.round().clamp(0.0, 255.0) as u8;
            out.put_pixel(
                x as u32,
                y as u32,
                image::Rgb([
                    c(luma + 1.402 * cr),
                    c(luma - 0.344_136 * cb - 0.714_136 * cr),
                    c(luma + 1.772 * cb),
                ]),
            );
        }
    }
    Ok(DynamicImage::ImageRgb8(out))
}

/// What ingest keeps of the header: the de-identified values the output
/// will carry, derived with the workspace's `salt`.
pub fn source(p: &Parsed, salt: &[u8], dates: crate::policy::DicomDates) -> DicomSource {
    let obj = &p.obj;
    let get = |tag| text(obj, tag).unwrap_or_default();
    let ts = p.layout.transfer_syntax.clone();
    let modality = get(tags::MODALITY);
    let modality = if output::MODALITIES.contains(&modality.as_str()) {
        modality
    } else {
        "OT".to_string()
    };
    let uid = |tag, label: &str| output::salted_uid(salt, label, &get(tag));
    let shifted_study_date = match dates {
        crate::policy::DicomDates::Remove => None,
        crate::policy::DicomDates::Shift => {
            output::shift_date(salt, &get(tags::PATIENT_ID), &get(tags::STUDY_DATE))
        }
    };
    DicomSource {
        sop_class: get(tags::SOP_CLASS_UID),
        photometric: get(tags::PHOTOMETRIC_INTERPRETATION),
        modality,
        study_uid: uid(tags::STUDY_INSTANCE_UID, "study"),
        series_uid: uid(tags::SERIES_INSTANCE_UID, "series"),
        instance_seed: output::salted_hex(salt, "instance", &get(tags::SOP_INSTANCE_UID)),
        shifted_study_date,
        lossy: LOSSY.contains(&ts.as_str()) || get(tags::LOSSY_IMAGE_COMPRESSION) == "01",
        burned_in: text(obj, tags::BURNED_IN_ANNOTATION),
        transfer_syntax: ts,
    }
}

/// Derive `claimed` again from the original's header and the salt: every
/// value an output carries comes from the original, never from an item
/// file someone could edit (a UID is 39 free digits: room for an MRN).
/// The error names the first field that differs.
pub(crate) fn confirm_source(
    bytes: &[u8],
    salt: &[u8],
    claimed: &DicomSource,
) -> Result<(), String> {
    let parsed = parse(bytes).map_err(|e| e.to_string())?;
    let dates = if claimed.shifted_study_date.is_some() {
        crate::policy::DicomDates::Shift
    } else {
        crate::policy::DicomDates::Remove
    };
    let found = source(&parsed, salt, dates);
    let fields: [(&str, bool); 10] = [
        ("sop_class", found.sop_class == claimed.sop_class),
        (
            "transfer_syntax",
            found.transfer_syntax == claimed.transfer_syntax,
        ),
        ("photometric", found.photometric == claimed.photometric),
        ("modality", found.modality == claimed.modality),
        ("study_uid", found.study_uid == claimed.study_uid),
        ("series_uid", found.series_uid == claimed.series_uid),
        (
            "instance_seed",
            found.instance_seed == claimed.instance_seed,
        ),
        (
            "shifted_study_date",
            found.shifted_study_date == claimed.shifted_study_date,
        ),
        ("lossy", found.lossy == claimed.lossy),
        ("burned_in", found.burned_in == claimed.burned_in),
    ];
    match fields.iter().find(|(_, same)| !same) {
        None => Ok(()),
        Some((name, _)) => Err(format!(
            "its DICOM value '{name}' does not match what the original's header and the workspace's salt give: the item file was edited, or the salt replaced; re-ingest it"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2×1 greyscale file with `pi` and pixels `px`, explicit VR LE.
    fn grey(pi: &str, px: [u8; 2]) -> Vec<u8> {
        use dicom_core::{DataElement, PrimitiveValue, VR};
        let mut o = InMemDicomObject::new_empty();
        let mut put = |t, vr, v: PrimitiveValue| o.put(DataElement::new(t, vr, v));
        put(
            tags::SOP_CLASS_UID,
            VR::UI,
            "1.2.840.10008.5.1.4.1.1.7".into(),
        );
        put(tags::SOP_INSTANCE_UID, VR::UI, "1.2.3".into());
        put(tags::SAMPLES_PER_PIXEL, VR::US, PrimitiveValue::from(1u16));
        put(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, pi.into());
        put(tags::ROWS, VR::US, PrimitiveValue::from(1u16));
        put(tags::COLUMNS, VR::US, PrimitiveValue::from(2u16));
        put(tags::BITS_ALLOCATED, VR::US, PrimitiveValue::from(8u16));
        put(tags::BITS_STORED, VR::US, PrimitiveValue::from(8u16));
        put(tags::HIGH_BIT, VR::US, PrimitiveValue::from(7u16));
        put(
            tags::PIXEL_REPRESENTATION,
            VR::US,
            PrimitiveValue::from(0u16),
        );
        put(tags::PIXEL_DATA, VR::OB, PrimitiveValue::from(px.to_vec()));
        let file = o
            .with_meta(
                dicom_object::FileMetaTableBuilder::new()
                    .transfer_syntax(scan::EXPLICIT_LE)
                    .implementation_class_uid("1.2.3.4"),
            )
            .expect("meta");
        let mut bytes = Vec::new();
        file.write_all(&mut bytes).expect("written");
        bytes
    }

    #[test]
    fn monochrome1_is_shown_inverted_and_monochrome2_as_stored() {
        let l = crate::policy::Limits::default();
        let px = |pi| {
            decode(&grey(pi, [0, 255]), &l, Step::Ingest)
                .expect("decodes")
                .image
                .into_rgb8()
                .into_raw()
        };
        assert_eq!(px("MONOCHROME2"), vec![0, 0, 0, 255, 255, 255]);
        assert_eq!(px("MONOCHROME1"), vec![255, 255, 255, 0, 0, 0]);
        let e = decode(&grey("PALETTE COLOR", [0, 1]), &l, Step::Ingest).unwrap_err();
        assert!(e.to_string().contains("'PALETTE COLOR' is not read"), "{e}");
    }

    #[test]
    fn packbits_lengths_count_literal_and_repeat_runs_and_refuse_a_cut_literal() {
        // 3 literal bytes, then 'x' repeated 5 times, then a no-op.
        assert_eq!(
            packbits_len(&[2, b'a', b'b', b'c', 0xFC, b'x', 0x80], 100),
            Some(8)
        );
        assert_eq!(packbits_len(&[5, b'a'], 100), None);
        assert_eq!(packbits_len(&[0xFC], 100), None);
        assert_eq!(packbits_len(&[], 100), Some(0));
    }

    fn src(modality: &str, burned: Option<&str>) -> DicomSource {
        DicomSource {
            sop_class: "1.2.840.10008.5.1.4.1.1.77.1.4".into(),
            transfer_syntax: scan::EXPLICIT_LE.into(),
            photometric: "RGB".into(),
            modality: modality.into(),
            study_uid: "2.25.1".into(),
            series_uid: "2.25.2".into(),
            instance_seed: "00".into(),
            shifted_study_date: None,
            lossy: false,
            burned_in: burned.map(str::to_string),
        }
    }

    #[test]
    fn burned_in_text_is_expected_when_the_header_or_the_modality_says_so() {
        assert!(src("XC", Some("YES")).burned_in_likely());
        assert!(src("US", None).burned_in_likely());
        assert!(src("US", Some("NO")).burned_in_likely());
        assert!(!src("XC", Some("NO")).burned_in_likely());
        assert!(!src("XC", None).burned_in_likely());
    }
}
