//! The irreversible derivative: turn the original upright, fill the masks,
//! flatten alpha, re-encode from pixels into a brand-new file, and check the
//! bytes actually written against a container allowlist.
//!
//! Nothing of the original container survives: the output is built from an
//! RGB buffer, so metadata, thumbnails, trailers and ICC profiles cannot be
//! carried over. [`check_output`] proves it on the bytes, not by intent.

use crate::image_io::{DecodeError, decode_with};
use crate::item::{Item, Mask, Rect};
use crate::memory::{Step, output_bound};
use crate::policy::{DicomDates, DicomOutput, Naming, OutputFormat, Policy, RedactionMode};
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageFormat, RgbImage};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// A rendered, checked output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub bytes: Vec<u8>,
    pub format: OutputFormat,
    /// SHA-256 of `bytes`, hex.
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    /// Things the reviewer should know about this output (e.g. a reversible mask mode).
    pub warnings: Vec<String>,
}

impl Rendered {
    /// Decode the written bytes back to pixels: exactly what will be released.
    pub fn pixels(&self) -> Result<RgbImage, RedactError> {
        decode_output(&self.bytes, self.format)
    }
}

/// Why an output could not be rendered.
///
/// Messages are self-contained (they include the underlying cause), so no
/// variant reports a separate `source()`.
#[derive(Debug, thiserror::Error)]
pub enum RedactError {
    #[error("cannot read original {}: {cause}", .path.display())]
    ReadOriginal {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("original {} is {size} bytes, over the policy's {max_mib} MiB limit", .path.display())]
    OriginalTooLarge {
        path: PathBuf,
        size: u64,
        max_mib: u64,
    },
    #[error(
        "original {} changed since ingest (SHA-256 is now {found}, item {id} expects {expected}); re-ingest it",
        .path.display()
    )]
    OriginalChanged {
        path: PathBuf,
        id: String,
        expected: String,
        found: String,
    },
    #[error("item {id}: cannot decode the original: {cause}")]
    Decode { id: String, cause: DecodeError },
    #[error(
        "item {id}: the original is {found_width}x{found_height} but the item says {width}x{height}; re-ingest it"
    )]
    SizeMismatch {
        id: String,
        width: u32,
        height: u32,
        found_width: u32,
        found_height: u32,
    },
    #[error("cannot encode {format}: {problem}")]
    Encode {
        format: &'static str,
        problem: String,
    },
    #[error("rendered output failed the container allowlist: {0}")]
    Allowlist(AllowlistError),
    #[error("item {id}: {problem}")]
    DicomHeader { id: String, problem: String },
    #[error("mobile preview width must be at least 1 pixel")]
    PreviewWidth,
}

impl From<AllowlistError> for RedactError {
    fn from(e: AllowlistError) -> Self {
        RedactError::Allowlist(e)
    }
}

/// Why output bytes fail the container allowlist. Each names the segment or
/// chunk and its byte offset.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum AllowlistError {
    #[error("output is empty (0 bytes)")]
    Empty,
    #[error("output is not JPEG, PNG or DICOM (starts with {0})")]
    UnknownFormat(String),
    #[error("DICOM output: {0}")]
    Dicom(String),
    #[error("JPEG segment {segment} at offset {offset}: {problem}")]
    Jpeg {
        segment: String,
        offset: usize,
        problem: String,
    },
    #[error("PNG chunk {chunk} at offset {offset}: {problem}")]
    Png {
        chunk: String,
        offset: usize,
        problem: String,
    },
}

/// Read the original at `item.source`, check it still hashes to
/// `item.sha256`, decode it with the item's orientation, then render,
/// encode and check the output.
///
/// A DICOM item needs the workspace's `dicom_salt`: its header values are
/// derived again from the original and must match the item's (see
/// [`crate::dicom::confirm_source`]).
pub fn render_item(
    item: &Item,
    policy: &Policy,
    dicom_salt: Option<&[u8]>,
) -> Result<Rendered, RedactError> {
    let path = &item.source;
    let read_err = |cause| RedactError::ReadOriginal {
        path: path.clone(),
        cause,
    };
    let size = std::fs::metadata(path).map_err(read_err)?.len();
    let max_mib = policy.limits.max_file_mib;
    if size > policy.limits.max_file_bytes() {
        return Err(RedactError::OriginalTooLarge {
            path: path.clone(),
            size,
            max_mib,
        });
    }
    let original = std::fs::read(path).map_err(read_err)?;
    let found = sha256_hex(&original);
    if !found.eq_ignore_ascii_case(&item.sha256) {
        return Err(RedactError::OriginalChanged {
            path: path.clone(),
            id: item.id.clone(),
            expected: item.sha256.clone(),
            found,
        });
    }
    render_from_bytes(&original, item, policy, dicom_salt)
}

/// [`render_item`] from bytes already in memory (no hash check).
pub fn render_from_bytes(
    original: &[u8],
    item: &Item,
    policy: &Policy,
    dicom_salt: Option<&[u8]>,
) -> Result<Rendered, RedactError> {
    let decoded = decode_with(
        original,
        &policy.limits,
        Some(item.orientation),
        Step::Render,
    )
    .map_err(|cause| RedactError::Decode {
        id: item.id.clone(),
        cause,
    })?;
    // Masks are in the coordinates of the image that was reviewed; a
    // different image under the same item would put them in the wrong place.
    if (decoded.width, decoded.height) != (item.width, item.height) {
        return Err(RedactError::SizeMismatch {
            id: item.id.clone(),
            width: item.width,
            height: item.height,
            found_width: decoded.width,
            found_height: decoded.height,
        });
    }
    if let Some(claimed) = &item.dicom {
        let problem = match dicom_salt {
            None => "the workspace's DICOM salt is needed to render a DICOM item".to_string(),
            Some(salt) => match crate::dicom::confirm_source(original, salt, claimed) {
                Ok(()) => String::new(),
                Err(p) => p,
            },
        };
        if !problem.is_empty() {
            return Err(RedactError::DicomHeader {
                id: item.id.clone(),
                problem,
            });
        }
    }
    let rgb = render_pixels(decoded.image, &item.masks, policy);
    finish_render(rgb, item, policy)
}

/// Encode filled pixels, check the container, and say what to warn about.
/// The pixels are dropped once encoded, before the container is rebuilt,
/// so the peak is the pixels and one encoding (see [`crate::memory`]).
pub fn finish_render(rgb: RgbImage, item: &Item, policy: &Policy) -> Result<Rendered, RedactError> {
    let format = output_format(item, policy);
    let (width, height) = rgb.dimensions();
    let bytes = match (&item.dicom, format) {
        (Some(source), OutputFormat::Dicom) => {
            let shift = policy.dicom.dates == DicomDates::Shift;
            let bytes = crate::dicom::output::write(&rgb, source, &item.masks_digest(), shift)
                .map_err(|problem| RedactError::Encode {
                    format: "DICOM",
                    problem,
                })?;
            drop(rgb);
            check_output(&bytes)?;
            bytes
        }
        _ => {
            let raw = encode_raw(&rgb, format, policy.output.jpeg_quality)?;
            drop(rgb);
            rebuild(&raw, format)?
        }
    };
    let mode = policy.output.redaction;
    let warnings = if mode != RedactionMode::Solid && !item.masks.is_empty() {
        vec![reversible_warning(mode)]
    } else {
        Vec::new()
    };
    Ok(Rendered {
        sha256: sha256_hex(&bytes),
        bytes,
        format,
        width,
        height,
        warnings,
    })
}

/// What `item` is released as: a DICOM original as DICOM when the policy
/// says so, everything else in `[output] format`.
pub fn output_format(item: &Item, policy: &Policy) -> OutputFormat {
    match (&item.dicom, policy.dicom.output, policy.output.format) {
        (Some(_), DicomOutput::Dicom, _) => OutputFormat::Dicom,
        // Refused by the policy's validation; never a DICOM without its header.
        (_, _, OutputFormat::Dicom) => OutputFormat::Jpeg,
        (_, _, format) => format,
    }
}

/// The warning shown when masks are not solid fills.
pub fn reversible_warning(mode: RedactionMode) -> String {
    let name = match mode {
        RedactionMode::Solid => "solid",
        RedactionMode::Blur => "blur",
        RedactionMode::Pixelate => "pixelate",
    };
    format!("masks use {name}, which can be partly reversed")
}

/// Pixel stage: upright image → opaque RGB8 with every mask filled. Pure.
/// Takes the image by value: an 8-bit RGB image is filled in place.
pub fn render_pixels(upright: DynamicImage, masks: &[Mask], policy: &Policy) -> RgbImage {
    let mut rgb = flatten(upright, policy.background_rgb());
    fill_masks(&mut rgb, masks, policy);
    rgb
}

/// Fill every mask into `rgb` as the policy's redaction mode says.
pub fn fill_masks(rgb: &mut RgbImage, masks: &[Mask], policy: &Policy) {
    let (w, h) = rgb.dimensions();
    let fill = policy.fill_rgb();
    for rect in masks.iter().filter_map(|m| m.rect.clamp_to(w, h)) {
        match policy.output.redaction {
            RedactionMode::Solid => fill_rect(rgb, rect, fill),
            RedactionMode::Pixelate => pixelate(rgb, rect),
            RedactionMode::Blur => blur(rgb, rect),
        }
    }
}

/// Rows converted at a time when compositing alpha, so the 16-bit copy is
/// a strip and never the whole image.
const FLATTEN_ROWS: u32 = 64;

/// Any colour type to opaque RGB8, alpha composited onto `background`:
/// what the output and the station both show. An 8-bit RGB image is moved,
/// not copied.
pub fn flatten(image: DynamicImage, background: [u8; 3]) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let (width, height) = (image.width(), image.height());
    let mut out = RgbImage::new(width, height);
    // Composite at 16 bits so 16-bit sources keep their precision until the end.
    for top in (0..height).step_by(FLATTEN_ROWS as usize) {
        let rows = FLATTEN_ROWS.min(height - top);
        let strip = image.crop_imm(0, top, width, rows).into_rgba16();
        for (x, y, p) in strip.enumerate_pixels() {
            let a = u64::from(p[3]);
            let channel = |i: usize| {
                let bg = u64::from(background[i]) * 257;
                let v16 = (u64::from(p[i]) * a + bg * (65_535 - a) + 32_767) / 65_535;
                ((v16 + 128) / 257).min(255) as u8
            };
            out.put_pixel(x, top + y, image::Rgb([channel(0), channel(1), channel(2)]));
        }
    }
    out
}

fn fill_rect(rgb: &mut RgbImage, r: Rect, colour: [u8; 3]) {
    for y in r.y..r.bottom() {
        for x in r.x..r.right() {
            rgb.put_pixel(x, y, image::Rgb(colour));
        }
    }
}

/// Block averages, blocks aligned to the mask's corner: at least 16 px, or
/// an eighth of the mask's longer side when that is larger.
fn pixelate(rgb: &mut RgbImage, r: Rect) {
    let block = 16.max(r.w.max(r.h).div_ceil(8));
    for by in (r.y..r.bottom()).step_by(block as usize) {
        for bx in (r.x..r.right()).step_by(block as usize) {
            let cell = Rect::new(bx, by, block, block)
                .clamp_to(r.right(), r.bottom())
                .unwrap_or(Rect::new(bx, by, 1, 1));
            let mut sum = [0u64; 3];
            for y in cell.y..cell.bottom() {
                for x in cell.x..cell.right() {
                    let p = rgb.get_pixel(x, y).0;
                    for c in 0..3 {
                        sum[c] += u64::from(p[c]);
                    }
                }
            }
            let n = u64::from(cell.w) * u64::from(cell.h);
            let avg = sum.map(|s| ((s + n / 2) / n) as u8);
            fill_rect(rgb, cell, avg);
        }
    }
}

/// A strong box blur (three passes each way) that reads only pixels inside
/// the mask, so nothing from outside is smeared in.
fn blur(rgb: &mut RgbImage, r: Rect) {
    let (w, h) = (r.w as usize, r.h as usize);
    let radius = 8.max(r.w.max(r.h) as usize / 4);
    let mut buf: Vec<[u32; 3]> = Vec::with_capacity(w * h);
    for y in r.y..r.bottom() {
        for x in r.x..r.right() {
            buf.push(rgb.get_pixel(x, y).0.map(u32::from));
        }
    }
    let mut line = Vec::with_capacity(w.max(h));
    for _ in 0..3 {
        for row in buf.chunks_mut(w) {
            line.clear();
            line.extend_from_slice(row);
            box_line(&line, radius, |i, v| row[i] = v);
        }
        for col in 0..w {
            line.clear();
            line.extend((0..h).map(|y| buf[y * w + col]));
            box_line(&line, radius, |i, v| buf[i * w + col] = v);
        }
    }
    for (i, v) in buf.iter().enumerate() {
        let (x, y) = (r.x + (i % w) as u32, r.y + (i / w) as u32);
        rgb.put_pixel(x, y, image::Rgb(v.map(|c| c.min(255) as u8)));
    }
}

/// Running-sum box filter of `radius` over `line`, edges clamped.
fn box_line(line: &[[u32; 3]], radius: usize, mut out: impl FnMut(usize, [u32; 3])) {
    let n = line.len() as isize;
    let at = |i: isize| line[i.clamp(0, n - 1) as usize];
    let r = radius as isize;
    let span = (2 * radius + 1) as u32;
    let mut sum = [0u32; 3];
    for k in -r..=r {
        let p = at(k);
        for c in 0..3 {
            sum[c] += p[c];
        }
    }
    for x in 0..n {
        out(x as usize, sum.map(|s| (s + span / 2) / span));
        let (gone, new) = (at(x - r), at(x + r + 1));
        for c in 0..3 {
            sum[c] = sum[c] + new[c] - gone[c];
        }
    }
}

/// Encode RGB pixels into a brand-new file: JPEG (baseline, plain JFIF APP0
/// only) or PNG (IHDR/IDAT/IEND only). Same pixels → same bytes.
pub fn encode(
    rgb: &RgbImage,
    format: OutputFormat,
    jpeg_quality: u8,
) -> Result<Vec<u8>, RedactError> {
    let raw = encode_raw(rgb, format, jpeg_quality)?;
    rebuild(&raw, format)
}

/// The encoder's own bytes, in a buffer that refuses to grow past
/// [`output_bound`] (the memory plan counts no more).
fn encode_raw(
    rgb: &RgbImage,
    format: OutputFormat,
    jpeg_quality: u8,
) -> Result<Vec<u8>, RedactError> {
    let fail = |e: image::ImageError| RedactError::Encode {
        format: format_name(format),
        problem: e.to_string(),
    };
    let (w, h) = rgb.dimensions();
    let mut raw = Bounded {
        bytes: Vec::new(),
        max: output_bound(crate::memory::rgb_bytes(w, h)),
    };
    match format {
        OutputFormat::Dicom => {
            return Err(RedactError::Encode {
                format: "DICOM",
                problem: "a DICOM output is written from its item's header (dicom::output)".into(),
            });
        }
        OutputFormat::Jpeg => {
            JpegEncoder::new_with_quality(&mut raw, jpeg_quality.clamp(1, 100))
                .encode_image(rgb)
                .map_err(fail)?;
        }
        OutputFormat::Png => {
            let png_fail = |e: png::EncodingError| RedactError::Encode {
                format: "PNG",
                problem: e.to_string(),
            };
            let mut encoder = png::Encoder::new(&mut raw, w, h);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            encoder.set_compression(png::Compression::Balanced);
            encoder.set_filter(png::Filter::Adaptive);
            let mut writer = encoder.write_header().map_err(png_fail)?;
            let mut stream = writer
                .stream_writer_with_size(PNG_IDAT_BYTES)
                .map_err(png_fail)?;
            std::io::Write::write_all(&mut stream, rgb.as_raw()).map_err(|e| png_fail(e.into()))?;
            stream.finish().map_err(png_fail)?;
            writer.finish().map_err(png_fail)?;
        }
    }
    Ok(raw.bytes)
}

/// The encoder's container rebuilt from the allowed parts only, so a
/// future encoder that adds a segment or chunk cannot leak it; then checked
/// against the allowlist, and to be the format asked for.
fn rebuild(raw: &[u8], format: OutputFormat) -> Result<Vec<u8>, RedactError> {
    let bytes = match format {
        OutputFormat::Jpeg => rebuild_jpeg(raw)?,
        OutputFormat::Png => rebuild_png(raw)?,
        OutputFormat::Dicom => raw.to_vec(),
    };
    let checked = check_output(&bytes)?;
    if checked != format {
        return Err(RedactError::Encode {
            format: format_name(format),
            problem: format!("the encoder wrote {}", format_name(checked)),
        });
    }
    Ok(bytes)
}

/// Compressed bytes per IDAT chunk of a PNG output.
const PNG_IDAT_BYTES: usize = 1 << 20;

/// A `Vec` writer with a ceiling.
struct Bounded {
    bytes: Vec<u8>,
    max: u64,
}

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if (self.bytes.len() + buf.len()) as u64 > self.max {
            return Err(std::io::Error::other(format!(
                "the encoded image would pass {} MiB, more than its memory plan allows; lower jpeg_quality",
                self.max / (1024 * 1024)
            )));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The only APP0 Veil writes: JFIF 1.01, aspect ratio 1:1, no thumbnail.
const PLAIN_JFIF_APP0: [u8; 18] = [
    0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01,
    0x00, 0x00,
];

fn rebuild_jpeg(raw: &[u8]) -> Result<Vec<u8>, AllowlistError> {
    let mut out = Vec::with_capacity(raw.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    out.extend_from_slice(&PLAIN_JFIF_APP0);
    for seg in jpeg_segments(raw)? {
        match seg.marker {
            SOI | APP0 => {}
            m if is_app(m) || m == COM => {}
            _ => out.extend_from_slice(&raw[seg.offset..seg.end]),
        }
    }
    Ok(out)
}

fn rebuild_png(raw: &[u8]) -> Result<Vec<u8>, AllowlistError> {
    let mut out = Vec::with_capacity(raw.len());
    out.extend_from_slice(PNG_SIGNATURE);
    for chunk in png_chunks(raw)? {
        if PNG_ALLOWED.contains(&&chunk.kind) {
            out.extend_from_slice(&raw[chunk.offset..chunk.end]);
        }
    }
    Ok(out)
}

/// The container allowlist, applied to the bytes actually written.
///
/// JPEG: SOI, DQT, DHT, SOF0/1/2, SOS with entropy data (RSTn inside), DRI,
/// EOI, and at most one plain JFIF APP0 without thumbnail. PNG: IHDR, PLTE,
/// tRNS, IDAT, IEND with valid lengths and CRCs. Nothing after the end.
pub fn check_output(bytes: &[u8]) -> Result<OutputFormat, AllowlistError> {
    if bytes.is_empty() {
        Err(AllowlistError::Empty)
    } else if bytes.starts_with(&[0xFF, SOI]) {
        check_jpeg(bytes).map(|()| OutputFormat::Jpeg)
    } else if bytes.starts_with(PNG_SIGNATURE) {
        check_png(bytes).map(|()| OutputFormat::Png)
    } else if crate::dicom::is_dicom(bytes) {
        crate::dicom::output::check(bytes)
            .map(|()| OutputFormat::Dicom)
            .map_err(AllowlistError::Dicom)
    } else {
        let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02X}")).collect();
        Err(AllowlistError::UnknownFormat(head.join(" ")))
    }
}

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const DQT: u8 = 0xDB;
const DHT: u8 = 0xC4;
const DRI: u8 = 0xDD;
const APP0: u8 = 0xE0;
const COM: u8 = 0xFE;

fn is_app(marker: u8) -> bool {
    (0xE0..=0xEF).contains(&marker)
}

fn is_rst(marker: u8) -> bool {
    (0xD0..=0xD7).contains(&marker)
}

/// One JPEG marker segment; for SOS, `end` includes the entropy-coded data.
struct JpegSegment {
    marker: u8,
    offset: usize,
    payload: std::ops::Range<usize>,
    end: usize,
}

fn marker_name(marker: u8) -> String {
    match marker {
        0xC0..=0xCF if !matches!(marker, DHT | 0xC8 | 0xCC) => format!("SOF{}", marker - 0xC0),
        DHT => "DHT".into(),
        0xC8 => "JPG".into(),
        0xCC => "DAC".into(),
        m if is_rst(m) => format!("RST{}", m - 0xD0),
        SOI => "SOI".into(),
        EOI => "EOI".into(),
        SOS => "SOS".into(),
        DQT => "DQT".into(),
        0xDC => "DNL".into(),
        DRI => "DRI".into(),
        0xDE => "DHP".into(),
        0xDF => "EXP".into(),
        m if is_app(m) => format!("APP{}", m - 0xE0),
        0xF0..=0xFD => format!("JPG{}", marker - 0xF0),
        COM => "COM".into(),
        0x01 => "TEM".into(),
        m => format!("marker 0xFF{m:02X}"),
    }
}

/// The segment's name plus what its payload says it is: `APP1 (Exif)`.
fn segment_label(marker: u8, payload: &[u8]) -> String {
    let name = marker_name(marker);
    if !is_app(marker) {
        return name;
    }
    let known: [(&[u8], &str); 8] = [
        (b"JFIF\0", "JFIF"),
        (b"JFXX\0", "JFXX"),
        (b"Exif\0", "Exif"),
        (b"http://ns.adobe.com", "XMP"),
        (b"ICC_PROFILE\0", "ICC_PROFILE"),
        (b"Photoshop", "Photoshop"),
        (b"MPF\0", "MPF"),
        (b"Adobe", "Adobe"),
    ];
    match known.iter().find(|(prefix, _)| payload.starts_with(prefix)) {
        Some((_, what)) => format!("{name} ({what})"),
        None => name,
    }
}

fn jpeg_err(
    segment: impl Into<String>,
    offset: usize,
    problem: impl Into<String>,
) -> AllowlistError {
    AllowlistError::Jpeg {
        segment: segment.into(),
        offset,
        problem: problem.into(),
    }
}

/// Split a JPEG into marker segments, checking only structure: lengths,
/// entropy data, EOI, and that nothing follows it.
fn jpeg_segments(bytes: &[u8]) -> Result<Vec<JpegSegment>, AllowlistError> {
    if !bytes.starts_with(&[0xFF, SOI]) {
        return Err(jpeg_err("SOI", 0, "missing: a JPEG starts with FF D8"));
    }
    let mut segments = vec![JpegSegment {
        marker: SOI,
        offset: 0,
        payload: 2..2,
        end: 2,
    }];
    let mut pos = 2;
    loop {
        let (Some(&ff), Some(&marker)) = (bytes.get(pos), bytes.get(pos + 1)) else {
            return Err(jpeg_err(
                "EOI",
                pos,
                "missing: the file ends before EOI (truncated)",
            ));
        };
        if ff != 0xFF {
            return Err(jpeg_err(
                "marker",
                pos,
                format!("expected a marker (FF xx), found byte 0x{ff:02X}"),
            ));
        }
        match marker {
            EOI => {
                let end = pos + 2;
                if end != bytes.len() {
                    return Err(jpeg_err(
                        "EOI",
                        pos,
                        format!("{} bytes follow EOI (from offset {end})", bytes.len() - end),
                    ));
                }
                segments.push(JpegSegment {
                    marker,
                    offset: pos,
                    payload: end..end,
                    end,
                });
                return Ok(segments);
            }
            0xFF => return Err(jpeg_err("fill", pos, "fill bytes (FF FF) are not allowed")),
            0x00 => return Err(jpeg_err("FF 00", pos, "stuffed byte outside entropy data")),
            m if m == SOI || m == 0x01 || is_rst(m) => {
                return Err(jpeg_err(marker_name(m), pos, "marker out of place"));
            }
            _ => {}
        }
        let Some(len_bytes) = bytes.get(pos + 2..pos + 4) else {
            return Err(jpeg_err(
                marker_name(marker),
                pos,
                "truncated segment length",
            ));
        };
        let length = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
        let seg_end = pos + 2 + length;
        if length < 2 || seg_end > bytes.len() {
            return Err(jpeg_err(
                marker_name(marker),
                pos,
                format!("length {length} does not fit the file"),
            ));
        }
        let end = if marker == SOS {
            entropy_end(bytes, seg_end).ok_or_else(|| {
                jpeg_err(
                    "SOS",
                    pos,
                    "entropy-coded data runs to the end of the file (truncated)",
                )
            })?
        } else {
            seg_end
        };
        segments.push(JpegSegment {
            marker,
            offset: pos,
            payload: pos + 4..seg_end,
            end,
        });
        pos = end;
    }
}

/// Where entropy-coded data starting at `from` ends: at the first marker
/// that is neither a stuffed `FF 00` nor a restart marker.
fn entropy_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() {
        if bytes[i] == 0xFF {
            match bytes.get(i + 1) {
                Some(&next) if next == 0x00 || is_rst(next) => i += 2,
                Some(_) => return Some(i),
                None => return None,
            }
        } else {
            i += 1;
        }
    }
    None
}

fn check_jpeg(bytes: &[u8]) -> Result<(), AllowlistError> {
    let (mut app0, mut sof, mut sos) = (false, false, false);
    for seg in jpeg_segments(bytes)? {
        let payload = &bytes[seg.payload.clone()];
        let label = segment_label(seg.marker, payload);
        let reject = |problem: &str| Err(jpeg_err(label.clone(), seg.offset, problem));
        match seg.marker {
            SOI | EOI | DQT | DHT | DRI => {}
            APP0 if app0 => return reject("a second APP0 is not allowed"),
            APP0 => {
                app0 = true;
                check_jfif(payload)
                    .map_err(|problem| jpeg_err(label.clone(), seg.offset, problem))?;
            }
            0xC0..=0xC2 if sof => return reject("a second frame header is not allowed"),
            0xC0..=0xC2 => sof = true,
            SOS if !sof => return reject("scan before any frame header (SOF)"),
            SOS => sos = true,
            m if is_app(m) => {
                return reject(
                    "application segments can carry metadata (Exif, XMP, ICC, IPTC) and are not allowed",
                );
            }
            COM => return reject("comments are not allowed"),
            _ => return reject("not allowed in an output"),
        }
    }
    if !sof {
        return Err(jpeg_err("SOF0", 2, "missing frame header"));
    }
    if !sos {
        return Err(jpeg_err("SOS", 2, "missing scan"));
    }
    Ok(())
}

/// A plain JFIF APP0: identifier, version, density, and a 0x0 thumbnail.
fn check_jfif(payload: &[u8]) -> Result<(), String> {
    if payload.starts_with(b"JFXX\0") {
        return Err("JFIF extension segments (thumbnails) are not allowed".into());
    }
    if !payload.starts_with(b"JFIF\0") {
        return Err("APP0 that is not JFIF".into());
    }
    if payload.len() < 14 {
        return Err(format!(
            "JFIF header is {} bytes, expected 14",
            payload.len()
        ));
    }
    let (tw, th) = (payload[12], payload[13]);
    if tw != 0 || th != 0 {
        return Err(format!("JFIF carries a {tw}x{th} thumbnail"));
    }
    if payload.len() != 14 {
        return Err(format!(
            "{} extra bytes after the JFIF header",
            payload.len() - 14
        ));
    }
    if payload[7] > 2 {
        return Err(format!("unknown JFIF density unit {}", payload[7]));
    }
    Ok(())
}

const PNG_SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";
const PNG_ALLOWED: [&[u8; 4]; 5] = [b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"];

/// One PNG chunk; `end` is past its CRC.
struct PngChunk {
    kind: [u8; 4],
    offset: usize,
    length: usize,
    end: usize,
}

fn chunk_name(kind: &[u8]) -> String {
    if kind.iter().all(u8::is_ascii_alphabetic) {
        String::from_utf8_lossy(kind).into_owned()
    } else {
        format!("0x{}", hex::encode(kind))
    }
}

fn png_err(chunk: impl Into<String>, offset: usize, problem: impl Into<String>) -> AllowlistError {
    AllowlistError::Png {
        chunk: chunk.into(),
        offset,
        problem: problem.into(),
    }
}

/// Split a PNG into chunks, checking lengths, CRCs, IEND and that nothing follows it.
fn png_chunks(bytes: &[u8]) -> Result<Vec<PngChunk>, AllowlistError> {
    if !bytes.starts_with(PNG_SIGNATURE) {
        return Err(png_err(
            "signature",
            0,
            "missing: a PNG starts with 89 50 4E 47 0D 0A 1A 0A",
        ));
    }
    let mut chunks = Vec::new();
    let mut pos = PNG_SIGNATURE.len();
    loop {
        let Some(head) = bytes.get(pos..pos + 8) else {
            return Err(png_err(
                "IEND",
                pos,
                "missing: the file ends before IEND (truncated)",
            ));
        };
        let length = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let kind = [head[4], head[5], head[6], head[7]];
        let name = chunk_name(&kind);
        let data_end = (pos + 8).saturating_add(length as usize);
        let end = data_end.saturating_add(4);
        if length > 0x7FFF_FFFF || end > bytes.len() {
            return Err(png_err(
                name,
                pos,
                format!("length {length} does not fit the file"),
            ));
        }
        let stored = u32::from_be_bytes([
            bytes[data_end],
            bytes[data_end + 1],
            bytes[data_end + 2],
            bytes[data_end + 3],
        ]);
        let computed = crc32(&bytes[pos + 4..data_end]);
        if stored != computed {
            return Err(png_err(
                name,
                pos,
                format!("CRC mismatch (stored {stored:08x}, computed {computed:08x})"),
            ));
        }
        chunks.push(PngChunk {
            kind,
            offset: pos,
            length: length as usize,
            end,
        });
        pos = end;
        if &kind == b"IEND" {
            if end != bytes.len() {
                return Err(png_err(
                    "IEND",
                    end - 12,
                    format!(
                        "{} bytes follow IEND (from offset {end})",
                        bytes.len() - end
                    ),
                ));
            }
            return Ok(chunks);
        }
    }
}

fn check_png(bytes: &[u8]) -> Result<(), AllowlistError> {
    let mut idat = false;
    for (i, chunk) in png_chunks(bytes)?.iter().enumerate() {
        let name = chunk_name(&chunk.kind);
        let reject = |problem: &str| Err(png_err(name.clone(), chunk.offset, problem));
        match (&chunk.kind, i) {
            (b"IHDR", 0) if chunk.length == 13 => {}
            (b"IHDR", 0) => return reject("IHDR must be 13 bytes"),
            (b"IHDR", _) => return reject("IHDR must be the first and only header"),
            (_, 0) => return reject("the first chunk must be IHDR"),
            (b"PLTE" | b"tRNS", _) => {}
            (b"IDAT", _) => idat = true,
            (b"IEND", _) if !idat => return reject("no image data (IDAT) before IEND"),
            (b"IEND", _) if chunk.length != 0 => return reject("IEND must be empty"),
            (b"IEND", _) => {}
            _ => {
                return reject(
                    "ancillary or unknown chunks can carry metadata and are not allowed",
                );
            }
        }
    }
    Ok(())
}

/// CRC-32 as PNG defines it (ISO 3309, polynomial 0xEDB88320).
pub fn crc32(data: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut n = 0;
        while n < 256 {
            let mut c = n as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[n] = c;
            n += 1;
        }
        table
    };
    !data.iter().fold(0xFFFF_FFFFu32, |c, &b| {
        TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8)
    })
}

/// The compressed/mobile preview: `rendered` scaled to `width` px wide
/// (never enlarged), JPEG at `quality`, decoded back as a phone would show it.
pub fn mobile_preview(
    rendered: &RgbImage,
    width: u32,
    quality: u8,
) -> Result<RgbImage, RedactError> {
    if width == 0 {
        return Err(RedactError::PreviewWidth);
    }
    let (rw, rh) = rendered.dimensions();
    let tw = width.min(rw).max(1);
    let th =
        ((u64::from(rh) * u64::from(tw) + u64::from(rw) / 2) / u64::from(rw.max(1))).max(1) as u32;
    let small = image::imageops::resize(rendered, tw, th, image::imageops::FilterType::Triangle);
    let bytes = encode(&small, OutputFormat::Jpeg, quality)?;
    decode_output(&bytes, OutputFormat::Jpeg)
}

fn decode_output(bytes: &[u8], format: OutputFormat) -> Result<RgbImage, RedactError> {
    let image_format = match format {
        OutputFormat::Jpeg => ImageFormat::Jpeg,
        OutputFormat::Png => ImageFormat::Png,
        OutputFormat::Dicom => {
            return crate::dicom::output::pixels(bytes).map_err(|problem| RedactError::Encode {
                format: "DICOM",
                problem: format!("the written output does not decode: {problem}"),
            });
        }
    };
    image::load_from_memory_with_format(bytes, image_format)
        .map(|img| img.to_rgb8())
        .map_err(|e| RedactError::Encode {
            format: format_name(format),
            problem: format!("the written output does not decode: {e}"),
        })
}

fn format_name(format: OutputFormat) -> &'static str {
    format.name()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Letters and digits that cannot be mistaken for one another (no 0/O, 1/I).
const NAME_ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// An opaque output name without extension: `Case_XXXXXXXX` (random) or
/// `Study_0001` (sequential). Nothing of the original name is used.
pub fn output_name(naming: Naming, sequence: u64) -> String {
    match naming {
        Naming::Sequential => format!("Study_{sequence:04}"),
        Naming::Random => {
            let mut random = [0u8; 8];
            crate::random::fill(&mut random);
            // 32 symbols divide 256 evenly, so `% 32` adds no bias.
            let tail: String = random
                .iter()
                .map(|b| char::from(NAME_ALPHABET[usize::from(b % 32)]))
                .collect();
            format!("Case_{tail}")
        }
    }
}

/// [`output_name`] plus the format's extension: `Case_3FQ7K2ZD.jpg`.
pub fn output_file_name(naming: Naming, sequence: u64, format: OutputFormat) -> String {
    format!("{}.{}", output_name(naming, sequence), format.extension())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::{MaskKind, MaskOrigin};

    fn mask(x: u32, y: u32, w: u32, h: u32) -> Mask {
        Mask {
            id: 1,
            kind: MaskKind::Face,
            rect: Rect::new(x, y, w, h),
            origin: MaskOrigin::Manual,
            zoom_check: None,
        }
    }

    fn gradient(w: u32, h: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([
                (x * 7 % 256) as u8,
                (y * 5 % 256) as u8,
                ((x + y) % 256) as u8,
            ])
        }))
    }

    #[test]
    fn random_names_use_only_the_unambiguous_alphabet_and_differ() {
        let a = output_name(Naming::Random, 0);
        let b = output_name(Naming::Random, 0);
        assert_ne!(a, b);
        let tail = a.strip_prefix("Case_").expect("Case_ prefix");
        assert_eq!(tail.len(), 8);
        assert!(tail.bytes().all(|c| NAME_ALPHABET.contains(&c)), "{a}");
        assert!(!tail.contains(['0', 'O', '1', 'I']), "{a}");
    }

    #[test]
    fn sequential_names_are_study_and_four_digits() {
        assert_eq!(output_name(Naming::Sequential, 7), "Study_0007");
        assert_eq!(output_name(Naming::Sequential, 12345), "Study_12345");
        assert_eq!(
            output_file_name(Naming::Sequential, 1, OutputFormat::Png),
            "Study_0001.png"
        );
        assert!(output_file_name(Naming::Random, 1, OutputFormat::Jpeg).ends_with(".jpg"));
    }

    #[test]
    fn the_name_alphabet_has_32_distinct_unambiguous_symbols() {
        let mut seen = NAME_ALPHABET.to_vec();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 32);
        assert!(!NAME_ALPHABET.iter().any(|c| b"0O1I".contains(c)));
    }

    #[test]
    fn a_mask_partly_outside_the_image_is_clamped_without_panicking() {
        let policy = Policy::default();
        let img = gradient(40, 30);
        for m in [
            mask(30, 20, 100, 100),
            mask(u32::MAX - 5, 0, 10, 10),
            mask(0, 0, u32::MAX, u32::MAX),
            mask(50, 50, 10, 10),
        ] {
            for mode in [
                RedactionMode::Solid,
                RedactionMode::Blur,
                RedactionMode::Pixelate,
            ] {
                let mut p = policy.clone();
                p.output.redaction = mode;
                let out = render_pixels(img.clone(), std::slice::from_ref(&m), &p);
                assert_eq!(out.dimensions(), (40, 30));
            }
        }
        let out = render_pixels(img.clone(), &[mask(30, 20, 100, 100)], &policy);
        assert_eq!(out.get_pixel(39, 29).0, [0, 0, 0]);
        assert_eq!(out.get_pixel(30, 20).0, [0, 0, 0]);
        assert_ne!(out.get_pixel(29, 19).0, [0, 0, 0]);
    }

    #[test]
    fn pixelate_averages_blocks_of_at_least_16_pixels() {
        let mut policy = Policy::default();
        policy.output.redaction = RedactionMode::Pixelate;
        let out = render_pixels(gradient(64, 64), &[mask(0, 0, 32, 32)], &policy);
        let first = out.get_pixel(0, 0);
        for y in 0..16 {
            for x in 0..16 {
                assert_eq!(out.get_pixel(x, y), first);
            }
        }
        assert_ne!(out.get_pixel(16, 0), first);
    }

    #[test]
    fn blur_reads_only_pixels_inside_the_mask() {
        let mut policy = Policy::default();
        policy.output.redaction = RedactionMode::Blur;
        let mut img = RgbImage::from_pixel(40, 40, image::Rgb([200, 10, 10]));
        for y in 10..30 {
            for x in 10..30 {
                img.put_pixel(x, y, image::Rgb([10, 200, 10]));
            }
        }
        let out = render_pixels(
            DynamicImage::ImageRgb8(img),
            &[mask(10, 10, 20, 20)],
            &policy,
        );
        // Uniform inside and untouched outside.
        assert_eq!(out.get_pixel(10, 10).0, [10, 200, 10]);
        assert_eq!(out.get_pixel(9, 9).0, [200, 10, 10]);
    }

    #[test]
    fn blur_smooths_the_content_under_the_mask() {
        let mut policy = Policy::default();
        policy.output.redaction = RedactionMode::Blur;
        let img = DynamicImage::ImageRgb8(RgbImage::from_fn(64, 64, |x, _| {
            image::Rgb(if x % 2 == 0 { [255; 3] } else { [0; 3] })
        }));
        let out = render_pixels(img.clone(), &[mask(0, 0, 64, 64)], &policy);
        // Stripes are gone: neighbours are close, nothing is near black or white.
        for y in 0..64 {
            for x in 1..64 {
                let (a, b) = (out.get_pixel(x - 1, y).0[0], out.get_pixel(x, y).0[0]);
                assert!(a.abs_diff(b) <= 4, "({x},{y}): {a} vs {b}");
                assert!((64..=192).contains(&b), "({x},{y}): {b}");
            }
        }
    }

    #[test]
    fn sixteen_bit_gray_and_alpha_become_opaque_rgb8() {
        let policy = Policy::default();
        let gray16 = DynamicImage::ImageLuma16(image::ImageBuffer::from_pixel(
            2,
            2,
            image::Luma([65_535u16]),
        ));
        assert_eq!(
            render_pixels(gray16.clone(), &[], &policy)
                .get_pixel(0, 0)
                .0,
            [255; 3]
        );
        let la =
            DynamicImage::ImageLumaA8(image::ImageBuffer::from_pixel(2, 2, image::LumaA([0u8, 0])));
        assert_eq!(
            render_pixels(la.clone(), &[], &policy).get_pixel(1, 1).0,
            [255; 3]
        );
        let half = DynamicImage::ImageRgba8(image::ImageBuffer::from_pixel(
            1,
            1,
            image::Rgba([0u8, 0, 0, 128]),
        ));
        let p = render_pixels(half.clone(), &[], &policy).get_pixel(0, 0).0;
        assert!(p.iter().all(|&c| (126..=128).contains(&c)), "{p:?}");
    }

    #[test]
    fn the_encoders_output_is_rebuilt_to_plain_jfif_and_passes_the_allowlist() {
        let rgb = gradient(33, 17).to_rgb8();
        let jpeg = encode(&rgb, OutputFormat::Jpeg, 80).expect("jpeg");
        assert_eq!(&jpeg[2..20], &PLAIN_JFIF_APP0);
        assert_eq!(check_output(&jpeg), Ok(OutputFormat::Jpeg));
        let png = encode(&rgb, OutputFormat::Png, 80).expect("png");
        assert_eq!(check_output(&png), Ok(OutputFormat::Png));
        let kinds: Vec<String> = png_chunks(&png)
            .expect("chunks")
            .iter()
            .map(|c| chunk_name(&c.kind))
            .collect();
        assert_eq!(kinds.first().map(String::as_str), Some("IHDR"));
        assert!(
            kinds
                .iter()
                .all(|k| k == "IHDR" || k == "IDAT" || k == "IEND"),
            "{kinds:?}"
        );
    }

    #[test]
    fn the_mobile_preview_is_scaled_to_the_width_and_keeps_the_aspect() {
        let rgb = gradient(400, 300).to_rgb8();
        let small = mobile_preview(&rgb, 200, 40).expect("preview");
        assert_eq!(small.dimensions(), (200, 150));
        assert_eq!(
            mobile_preview(&rgb, 800, 40).expect("preview").dimensions(),
            (400, 300)
        );
        assert!(matches!(
            mobile_preview(&rgb, 0, 40),
            Err(RedactError::PreviewWidth)
        ));
    }

    #[test]
    fn crc32_matches_the_png_reference_value() {
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    }
}
