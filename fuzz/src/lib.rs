//! What each fuzz target checks on one input.
//!
//! The targets in `fuzz_targets/` call these, and `tests/fuzz_regressions.rs`
//! includes this file (`#[path]`) to replay the committed corpus in
//! `tests/fuzz_corpus/` under plain `cargo test`, so a crash found here stays
//! a test without cargo-fuzz. Each check panics on a broken property; a
//! panic inside Veil is a crash all the same.

use veil::keys::AllowedSigners;
use veil::policy::{Limits, OutputFormat};

/// The reviewer key that signed the seed ledgers in `tests/fuzz_corpus/ledger/`,
/// so mutated entries reach the signature and policy checks, not only parsing.
pub const ALLOWED_SIGNERS: &str = include_str!("../../tests/fuzz_corpus/allowed_signers");

/// Small decoder limits: a fuzzer must not spend its time on big allocations.
pub const DECODE_LIMITS: Limits = Limits {
    max_width: 1024,
    max_height: 1024,
    max_alloc_mib: 64,
    max_file_mib: 4,
    ingest_memory_mib: 64,
};

/// Caps `metadata::inventory` promises (2000 findings; 100 warnings plus
/// the two that say the lists were cut).
const MAX_FINDINGS: usize = 2000;
const MAX_WARNINGS: usize = 102;

/// `metadata::inventory` never panics, stays under its caps, reports a valid
/// orientation, and every string it returns is safe to print on a terminal.
pub fn metadata_inventory(bytes: &[u8]) {
    let inv = veil::metadata::inventory(bytes);
    assert!(
        inv.findings.len() <= MAX_FINDINGS,
        "{} findings",
        inv.findings.len()
    );
    assert!(
        inv.warnings.len() <= MAX_WARNINGS,
        "{} warnings",
        inv.warnings.len()
    );
    if let Some(o) = inv.orientation {
        assert!((1..=8).contains(&o), "orientation {o}");
    }
    for f in &inv.findings {
        assert_printable(&f.group);
        assert_printable(&f.field);
        assert_printable(&f.value);
    }
    for w in &inv.warnings {
        assert_printable(w);
    }
}

/// `redact::check_output` never panics, and whatever it accepts really is
/// clean when walked again by the simple code below.
pub fn output_allowlist(bytes: &[u8]) {
    match veil::redact::check_output(bytes) {
        Ok(OutputFormat::Jpeg) => assert_clean_jpeg(bytes),
        Ok(OutputFormat::Png) => assert_clean_png(bytes),
        Ok(OutputFormat::Dicom) => assert_clean_dicom(bytes),
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

/// The ledger readers never panic on arbitrary bytes, and never count a
/// line without its newline.
pub fn ledger_lines(bytes: &[u8]) {
    let lines = veil::ledger::split_lines(bytes);
    let complete = bytes.iter().filter(|b| **b == b'\n').count();
    assert_eq!(lines.iter().filter(|l| l.complete).count(), complete);
    for l in &lines {
        assert!(l.start <= l.end && l.end <= bytes.len());
        let _ = veil::ledger::parse_line(&bytes[l.start..l.end]);
    }
    for e in veil::ledger::entries(bytes) {
        assert!(
            e.line <= complete,
            "entry on line {} of {complete} whole lines",
            e.line
        );
    }
    let trusted = veil::trust::Trust::workspace(AllowedSigners::parse(ALLOWED_SIGNERS));
    let report = veil::ledger::verify(bytes, &trusted, None);
    assert!(
        report.entries <= complete,
        "{} entries, {complete} whole lines",
        report.entries
    );
    let _ = veil::ledger::describe(&report);
    // The same bytes against a checkpoint of their first half.
    let half = veil::ledger::Head::of(&bytes[..bytes.len() / 2]);
    let _ = veil::ledger::verify(bytes, &trusted, Some(&half));
    // The other hand-edited file `verify` reads.
    let _ = AllowedSigners::parse(&String::from_utf8_lossy(bytes));
}

/// `image_io::decode_upright` never panics and never returns more pixels
/// than the limits allow.
pub fn decode_upright(bytes: &[u8]) {
    if let Ok(d) = veil::image_io::decode_upright(bytes, &DECODE_LIMITS) {
        let l = DECODE_LIMITS;
        assert!(d.width <= l.max_width && d.height <= l.max_height);
        let (w, h) = (d.image.width(), d.image.height());
        assert!(w.max(h) <= l.max_width.max(l.max_height), "{w}x{h} decoded");
        assert!((1..=8).contains(&d.orientation));
    }
}

/// The HEIF container reader and the HEIC decoder, a young decoder, on
/// hostile bytes: the item graph stays within its caps and the file, item
/// data reads stay in bounds, and a decoded picture is upright (orientation
/// 1), within the limits and the size its memory plan was checked for. The
/// inventory holds its promises on the same bytes.
pub fn heif_container(bytes: &[u8]) {
    let map = veil::heif::parse(bytes);
    assert!(map.items.len() <= 20_000 && map.properties.len() <= 20_000);
    assert!(map.end <= bytes.len());
    for item in map.items.iter().take(64) {
        if let Some(data) = map.item_data(bytes, item.id, 1 << 20) {
            assert!(data.len() <= bytes.len().max(1 << 20));
        }
    }
    // The primary and what it is derived from, each once; ids that name no
    // item may be among them (a crafted reference), so bound by the links.
    let parts = map.primary_parts();
    let links: usize = map.references.iter().map(|r| r.to.len()).sum();
    assert!(parts.len() <= 1 + links);
    let unique: std::collections::BTreeSet<_> = parts.iter().collect();
    assert_eq!(unique.len(), parts.len());
    let _ = map.items_past_end(bytes.len());
    if let Ok(d) = veil::image_io::decode_upright(bytes, &DECODE_LIMITS) {
        let l = DECODE_LIMITS;
        assert_eq!((d.image.width(), d.image.height()), (d.width, d.height));
        assert_eq!((d.plan.width, d.plan.height), (d.width, d.height));
        assert!(d.width <= l.max_width && d.height <= l.max_height);
        if d.format == veil::image_io::SourceFormat::Heif {
            assert_eq!(d.orientation, 1, "a HEIF picture is upright once decoded");
        }
    }
    metadata_inventory(bytes);
}

/// Text from a file reaches the terminal only with control characters
/// (escape sequences, newlines, bidi overrides) escaped.
fn assert_printable(s: &str) {
    let bad = s.chars().find(|c| {
        c.is_control()
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
    });
    assert!(bad.is_none(), "unescaped {bad:?} in {s:?}");
}

/// An accepted JPEG: SOI, then only DQT, DHT, SOF0-2, DRI, SOS (with its
/// entropy data) and at most one 14-byte JFIF APP0 without a thumbnail,
/// then EOI as the last two bytes.
fn assert_clean_jpeg(b: &[u8]) {
    assert!(b.starts_with(&[0xFF, 0xD8]), "no SOI");
    let mut i = 2;
    let mut app0 = 0;
    loop {
        assert_eq!(b.get(i), Some(&0xFF), "accepted JPEG: no marker at {i}");
        let m = b[i + 1];
        if m == 0xD9 {
            assert_eq!(i + 2, b.len(), "accepted JPEG has bytes after EOI");
            return;
        }
        let len = usize::from(u16::from_be_bytes([b[i + 2], b[i + 3]]));
        let body = &b[i + 4..i + 2 + len];
        match m {
            0xC0 | 0xC1 | 0xC2 | 0xC4 | 0xDB | 0xDD | 0xDA => {}
            0xE0 => {
                app0 += 1;
                assert_eq!(app0, 1, "accepted JPEG has two APP0");
                assert!(body.starts_with(b"JFIF\0"), "accepted APP0 is not JFIF");
                assert_eq!(body.len(), 14, "accepted JFIF APP0 carries extra bytes");
                assert_eq!(
                    (body[12], body[13]),
                    (0, 0),
                    "accepted JFIF has a thumbnail"
                );
            }
            0xE1..=0xEF => panic!("accepted JPEG has APP{} at {i}", m - 0xE0),
            0xFE => panic!("accepted JPEG has a COM at {i}"),
            m => panic!("accepted JPEG has marker FF{m:02X} at {i}"),
        }
        i += 2 + len;
        if m == 0xDA {
            // Entropy data: runs to the first FF not followed by 00 or RSTn.
            while !(b[i] == 0xFF && b[i + 1] != 0x00 && !(0xD0..=0xD7).contains(&b[i + 1])) {
                i += 1;
            }
        }
    }
}

/// An accepted PNG: IHDR first, then only PLTE, tRNS, IDAT, with correct
/// CRCs, and IEND as the last chunk.
fn assert_clean_png(b: &[u8]) {
    assert!(b.starts_with(b"\x89PNG\r\n\x1a\n"), "no PNG signature");
    let mut i = 8;
    let mut first = true;
    loop {
        let len = u32::from_be_bytes(b[i..i + 4].try_into().unwrap()) as usize;
        let kind = &b[i + 4..i + 8];
        let crc = u32::from_be_bytes(b[i + 8 + len..i + 12 + len].try_into().unwrap());
        assert_eq!(
            crc32(&b[i + 4..i + 8 + len]),
            crc,
            "accepted PNG chunk with a bad CRC at {i}"
        );
        if first {
            assert_eq!(kind, b"IHDR", "accepted PNG does not start with IHDR");
            first = false;
        }
        match kind {
            b"IHDR" | b"PLTE" | b"tRNS" | b"IDAT" => {}
            b"IEND" => {
                assert_eq!(i + 12 + len, b.len(), "accepted PNG has bytes after IEND");
                return;
            }
            k => panic!(
                "accepted PNG has chunk {:?} at {i}",
                String::from_utf8_lossy(k)
            ),
        }
        i += 12 + len;
    }
}

/// CRC-32 (ISO-HDLC), bit by bit: slow and obviously right.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A DICOM file on hostile bytes (a preamble and `DICM` are put in front
/// of inputs without them, so every input reaches the DICOM code): the
/// structural walk, the header inventory, decoding and the output check
/// never panic; the inventory keeps its promises; a decoded picture is
/// within the limits; anything the output check accepts parses again with
/// no private, overlay or icon attribute and a zero preamble.
pub fn dicom_inventory(bytes: &[u8]) {
    let owned;
    let bytes = if veil::dicom::is_dicom(bytes) {
        bytes
    } else {
        let mut b = vec![0u8; 128];
        b.extend_from_slice(b"DICM");
        b.extend_from_slice(bytes);
        owned = b;
        &owned
    };
    if let Ok(layout) = veil::dicom::scan::scan(bytes) {
        assert!(layout.depth <= veil::dicom::scan::MAX_DEPTH);
        assert!(layout.elements <= veil::dicom::scan::MAX_ELEMENTS);
    }
    metadata_inventory(bytes);
    decode_upright(bytes);
    if veil::dicom::output::check(bytes).is_ok() {
        assert_clean_dicom(bytes);
    }
}

/// A DICOM the output check accepted: a zero preamble, and the inventory
/// (independent of the check's allowlist) finds no private, overlay,
/// curve or icon attribute in it.
fn assert_clean_dicom(bytes: &[u8]) {
    assert!(bytes[..128].iter().all(|&b| b == 0));
    let inv = veil::metadata::inventory(bytes);
    for f in &inv.findings {
        assert!(
            !matches!(
                f.group.as_str(),
                "DICOM-private" | "DICOM-overlay" | "DICOM-curve" | "DICOM-icon"
            ),
            "accepted output holds {} {}",
            f.group,
            f.field
        );
    }
}
