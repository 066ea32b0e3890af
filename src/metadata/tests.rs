use super::*;
use std::io::Cursor;
use std::time::{Duration, Instant};

/// A little-endian TIFF: IFD0 at offset 8, then the values that do not
/// fit in an entry. Each entry is (tag, type, count, value bytes).
fn tiff(entries: &[(u16, u16, u32, Vec<u8>)], next_ifd: u32) -> Vec<u8> {
    let mut out = b"II*\0\x08\0\0\0".to_vec();
    let data_at = 8 + 2 + 12 * entries.len() + 4;
    let mut data: Vec<u8> = Vec::new();
    out.extend((entries.len() as u16).to_le_bytes());
    for (tag, kind, count, value) in entries {
        out.extend(tag.to_le_bytes());
        out.extend(kind.to_le_bytes());
        out.extend(count.to_le_bytes());
        if value.len() <= 4 {
            let mut v = value.clone();
            v.resize(4, 0);
            out.extend(v);
        } else {
            out.extend(((data_at + data.len()) as u32).to_le_bytes());
            data.extend(value);
        }
    }
    out.extend(next_ifd.to_le_bytes());
    out.extend(data);
    out
}

fn ascii(s: &str) -> (u32, Vec<u8>) {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    (v.len() as u32, v)
}

/// SOI, the given segments, EOI.
fn jpeg_with(segments: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    for (marker, payload) in segments {
        out.extend([0xFF, *marker]);
        out.extend(((payload.len() + 2) as u16).to_be_bytes());
        out.extend(payload);
    }
    out.extend([0xFF, 0xD9]);
    out
}

fn exif_segment(tiff: &[u8]) -> (u8, Vec<u8>) {
    let mut p = b"Exif\0\0".to_vec();
    p.extend(tiff);
    (0xE1, p)
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend(kind);
    out.extend(data);
    out.extend([0, 0, 0, 0]); // CRC is not checked
    out
}

fn fields(inv: &Inventory) -> Vec<(&str, &str, &str)> {
    inv.findings
        .iter()
        .map(|f| (f.group.as_str(), f.field.as_str(), f.value.as_str()))
        .collect()
}

fn encoded(format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbImage::from_fn(16, 16, |x, y| image::Rgb([x as u8 * 16, y as u8 * 16, 90]));
    let mut buf = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut buf, format)
        .expect("encode");
    buf.into_inner()
}

#[test]
fn freshly_encoded_images_carry_no_metadata() {
    for format in [
        image::ImageFormat::Jpeg,
        image::ImageFormat::Png,
        image::ImageFormat::WebP,
        image::ImageFormat::Tiff,
    ] {
        let inv = inventory(&encoded(format));
        assert_eq!(inv, Inventory::default(), "{format:?}");
    }
}

#[test]
fn empty_input_gives_a_warning_not_a_panic() {
    let inv = inventory(&[]);
    assert!(inv.findings.is_empty());
    assert_eq!(inv.warnings.len(), 1);
}

#[test]
fn short_garbage_never_panics() {
    let mut state: u32 = 12345;
    for len in 0..200 {
        for prefix in [
            &b"\xFF\xD8"[..],
            PNG_SIGNATURE,
            b"RIFF\0\0\0\0WEBP",
            b"II*\0",
            b"MM\0*",
        ] {
            let mut bytes = prefix.to_vec();
            for _ in 0..len {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                bytes.push((state >> 16) as u8);
            }
            let _ = inventory(&bytes);
        }
    }
}

#[test]
fn an_ifd_that_points_at_itself_does_not_hang() {
    // IFD0's next-IFD offset is IFD0, and its Exif pointer is IFD0 too.
    let (n, artist) = ascii("Dr. Loop");
    let exif_pointer = 8u32.to_le_bytes().to_vec();
    let t = tiff(&[(0x013B, 2, n, artist), (0x8769, 4, 1, exif_pointer)], 8);
    let started = Instant::now();
    for bytes in [t.clone(), jpeg_with(&[exif_segment(&t)])] {
        let inv = inventory(&bytes);
        assert!(
            fields(&inv).contains(&("EXIF", "Artist", "Dr. Loop")),
            "{inv:?}"
        );
        assert!(!inv.warnings.is_empty());
    }
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn thousands_of_entries_pointing_at_one_big_value_stay_cheap() {
    // 4000 entries, each a 256 KiB UNDEFINED value at the same offset:
    // a gigabyte if every value were parsed and kept.
    let blob_len = 256 * 1024u32;
    let count = 4000usize;
    let blob_at = 8 + 2 + 12 * count as u32 + 4;
    let mut t = b"II*\0\x08\0\0\0".to_vec();
    t.extend((count as u16).to_le_bytes());
    for i in 0..count {
        t.extend((0x9000u16 + i as u16).to_le_bytes());
        t.extend(7u16.to_le_bytes());
        t.extend(blob_len.to_le_bytes());
        t.extend(blob_at.to_le_bytes());
    }
    t.extend(0u32.to_le_bytes());
    t.resize(t.len() + blob_len as usize, 0xAB);
    let started = Instant::now();
    let inv = inventory(&t);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(inv.findings.len() < count);
    assert!(
        inv.warnings.iter().any(|w| w.contains("MiB")),
        "{:?}",
        inv.warnings
    );
}

#[test]
fn findings_stop_at_the_cap_and_a_warning_says_so() {
    let segments: Vec<(u8, Vec<u8>)> = (0..2500)
        .map(|i| (0xFE, format!("comment {i}").into_bytes()))
        .collect();
    let inv = inventory(&jpeg_with(&segments));
    assert_eq!(inv.findings.len(), MAX_FINDINGS);
    assert!(inv.warnings.iter().any(|w| w.contains("first 2000")));
}

#[test]
fn control_characters_in_a_comment_are_escaped() {
    let inv = inventory(&jpeg_with(&[(0xFE, b"Jane\x1b[31m Doe\n".to_vec())]));
    assert_eq!(fields(&inv), [("Comment", "COM", "Jane\\u{1b}[31m Doe")]);
}

#[test]
fn windows_xp_author_and_thumbnail_in_exif_are_found() {
    let author: Vec<u8> = "Dr. Wu\0"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let mut t = tiff(&[(0x9C9D, 1, author.len() as u32, author.clone())], 0);
    // IFD1 with a 10-byte "JPEG" thumbnail right after it.
    let ifd1_at = t.len() as u32;
    let thumb_at = ifd1_at + 2 + 2 * 12 + 4;
    t[8 + 2 + 12..8 + 2 + 12 + 4].copy_from_slice(&ifd1_at.to_le_bytes());
    t.extend(2u16.to_le_bytes());
    for (tag, value) in [(0x0201u16, thumb_at), (0x0202, 10)] {
        t.extend(tag.to_le_bytes());
        t.extend(4u16.to_le_bytes());
        t.extend(1u32.to_le_bytes());
        t.extend(value.to_le_bytes());
    }
    t.extend(0u32.to_le_bytes());
    t.extend(b"\xFF\xD8thumb\xFF\xD9\0");
    let inv = inventory(&jpeg_with(&[exif_segment(&t)]));
    assert_eq!(
        fields(&inv),
        [
            ("EXIF", "XPAuthor", "Dr. Wu"),
            ("Thumbnail", "ThumbnailImage", "JPEG, 10 bytes")
        ],
        "{:?}",
        inv.warnings
    );
}

#[test]
fn xmp_elements_attributes_and_lists_are_read() {
    let packet = r#"<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="t"><rdf:RDF xmlns:rdf="r">
<rdf:Description rdf:about="" xmlns:dc="d" xmlns:photoshop="p" xmlns:exif="e"
  photoshop:City="Springfield" tiff:Make='Nikon' exif:GPSLatitude="51,30.042N">
 <dc:creator><rdf:Seq><rdf:li>Ann &amp; Bob</rdf:li><rdf:li>Cy</rdf:li></rdf:Seq></dc:creator>
 <dc:description><rdf:Alt><rdf:li xml:lang="x-default">MRN &#49;2345</rdf:li></rdf:Alt></dc:description>
 <!-- <dc:rights>not this</dc:rights> -->
 <photoshop:Headline><![CDATA[a <b> c]]></photoshop:Headline>
 <exif:Flash rdf:parseType="Resource"><exif:Fired>False</exif:Fired></exif:Flash>
</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>"#;
    let mut seg = XMP_SIGNATURE.to_vec();
    seg.extend(packet.as_bytes());
    let inv = inventory(&jpeg_with(&[(0xE1, seg)]));
    assert_eq!(
        fields(&inv),
        [
            ("XMP", "photoshop:City", "Springfield"),
            ("XMP", "tiff:Make", "Nikon"),
            ("XMP", "exif:GPSLatitude", "51,30.042N"),
            ("XMP", "dc:creator", "Ann & Bob; Cy"),
            ("XMP", "dc:description", "MRN 12345"),
            ("XMP", "photoshop:Headline", "a <b> c"),
            ("XMP", "exif:Fired", "False"),
        ]
    );
    assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
}

#[test]
fn extended_xmp_split_over_segments_is_joined() {
    let packet = b"<x:xmpmeta><rdf:RDF><rdf:Description><dc:rights>St. Example</dc:rights></rdf:Description></rdf:RDF></x:xmpmeta>";
    let (a, b) = packet.split_at(40);
    let chunk = |offset: usize, data: &[u8]| {
        let mut p = XMP_EXTENSION_SIGNATURE.to_vec();
        p.extend([b'0'; 32]);
        p.extend((packet.len() as u32).to_be_bytes());
        p.extend((offset as u32).to_be_bytes());
        p.extend(data);
        (0xE1, p)
    };
    // Out of order on purpose: the offset says where each piece goes.
    let inv = inventory(&jpeg_with(&[chunk(40, b), chunk(0, a)]));
    assert_eq!(
        fields(&inv),
        [
            (
                "XMP",
                "ExtendedXMP",
                format!("{} bytes", packet.len()).as_str()
            ),
            ("XMP", "dc:rights", "St. Example")
        ]
    );
}

#[test]
fn iptc_datasets_in_app13_are_named() {
    let mut iim = Vec::new();
    for (ds, value) in [
        (0u8, &b"\0\x04"[..]),
        (25, b"wound"),
        (25, b"heel"),
        (90, b"Springfield"),
        (5, b"case 7"),
    ] {
        iim.extend([0x1C, 2, ds]);
        iim.extend((value.len() as u16).to_be_bytes());
        iim.extend(value);
    }
    // An extended-length dataset: 0x8002, then a 2-byte length.
    iim.extend([0x1C, 2, 80, 0x80, 0x02, 0x00, 0x05]);
    iim.extend(b"Dr. X");
    let mut app13 = PHOTOSHOP_SIGNATURE.to_vec();
    app13.extend(b"8BIM\x04\x04\0\0");
    app13.extend((iim.len() as u32).to_be_bytes());
    app13.extend(&iim);
    if iim.len() % 2 == 1 {
        app13.push(0);
    }
    app13.extend(b"8BIM\x04\x0C\0\0\0\0\0\x04abcd");
    let inv = inventory(&jpeg_with(&[(0xED, app13)]));
    assert_eq!(
        fields(&inv),
        [
            ("IPTC", "Keywords", "wound"),
            ("IPTC", "Keywords", "heel"),
            ("IPTC", "City", "Springfield"),
            ("IPTC", "ObjectName", "case 7"),
            ("IPTC", "By-line", "Dr. X"),
            ("Thumbnail", "PhotoshopThumbnail", "4 bytes"),
        ],
        "{:?}",
        inv.warnings
    );
}

#[test]
fn mpf_secondary_images_and_other_app_segments_are_listed() {
    // MPF: a big-endian TIFF whose MPEntry (0xB002) lists two images.
    let mut mp = Vec::new();
    for (attr, size, offset) in [(0x2003_0000u32, 5000u32, 0u32), (0x0001_0001, 1234, 6000)] {
        mp.extend(attr.to_be_bytes());
        mp.extend(size.to_be_bytes());
        mp.extend(offset.to_be_bytes());
        mp.extend([0, 0, 0, 0]);
    }
    let mut mpf = b"MPF\0MM\0*\0\0\0\x08\0\x01\xB0\x02\0\x07\0\0\0\x20\0\0\0\x1A\0\0\0\0".to_vec();
    mpf.extend(&mp);
    let ducky = b"Ducky\0\x01\0\x04\0\0\0\x50\0\x03\0\x0C\0\0\0\x04\0A\0n\0n\0\0\0\0".to_vec();
    let inv = inventory(&jpeg_with(&[
        (0xE2, mpf),
        (0xEC, ducky),
        (0xEA, b"Hipaa\0Jane Doe".to_vec()),
    ]));
    let f = fields(&inv);
    assert_eq!(f.len(), 3, "{f:?} {:?}", inv.warnings);
    assert_eq!(f[0].0, "MPF");
    assert_eq!(f[0].1, "Image2");
    assert!(
        f[0].2.starts_with("preview, 1234 bytes at file offset "),
        "{}",
        f[0].2
    );
    assert_eq!(f[1], ("APP12", "Ducky:Copyright", "Ann"));
    assert_eq!(f[2], ("APP10", "Hipaa", "14 bytes: Hipaa Jane Doe"));
}

#[test]
fn png_chunks_and_trailer_are_listed() {
    let mut png = PNG_SIGNATURE.to_vec();
    png.extend(png_chunk(b"IHDR", &[0; 13]));
    png.extend(png_chunk(b"zTXt", b"Comment\0\0\x78\x9c\x01\x02"));
    png.extend(png_chunk(b"iTXt", b"Title\0\0\0en\0Titel\0Jane"));
    png.extend(png_chunk(b"iCCP", b"Dr Smith monitor\0\0\x78\x9c"));
    png.extend(png_chunk(b"caBX", b"c2pa manifest"));
    png.extend(png_chunk(b"IDAT", &[0; 4]));
    png.extend(png_chunk(b"IEND", &[]));
    let at = png.len();
    png.extend(b"MRN 12345");
    let inv = inventory(&png);
    let trailer = format!("9 bytes at offset {at}: MRN 12345");
    assert_eq!(
        fields(&inv),
        [
            (
                "PNG-text",
                "zTXt:Comment",
                "4 bytes compressed, not valid zlib"
            ),
            ("PNG-text", "iTXt:Title", "Jane"),
            ("ICC", "iCCP", "'Dr Smith monitor', 2 bytes compressed"),
            ("PNG-chunk", "caBX", "13 bytes: c2pa manifest"),
            ("Trailer", "after IEND", trailer.as_str()),
        ]
    );
    assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
}

/// A zTXt chunk: keyword, compression method 0, then the zlib stream.
fn ztxt(keyword: &str, stream: &[u8]) -> Vec<u8> {
    png_chunk(b"zTXt", &[keyword.as_bytes(), b"\0\0", stream].concat())
}

/// A compressed iTXt chunk: keyword, flag 1, method 0, language, no
/// translated keyword, then the zlib stream.
fn compressed_itxt(keyword: &str, language: &str, stream: &[u8]) -> Vec<u8> {
    let head = [
        keyword.as_bytes(),
        b"\0\x01\0",
        language.as_bytes(),
        b"\0\0",
    ]
    .concat();
    png_chunk(b"iTXt", &[head.as_slice(), stream].concat())
}

#[test]
fn compressed_png_text_and_xmp_are_inflated_for_the_reviewer() {
    use miniz_oxide::deflate::compress_to_vec_zlib;
    let z = |b: &[u8]| compress_to_vec_zlib(b, 6);
    let xmp = br#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator><rdf:Seq><rdf:li>Dr. John Smith</rdf:li></rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>"#;
    let mut png = PNG_SIGNATURE.to_vec();
    png.extend(png_chunk(b"IHDR", &[0; 13]));
    png.extend(ztxt("Comment", &z(b"Patient Jane Doe, MRN 12345")));
    png.extend(compressed_itxt(
        "Author",
        "en",
        &z("Dr. Zoë Smith".as_bytes()),
    ));
    png.extend(compressed_itxt("XML:com.adobe.xmp", "", &z(xmp)));
    png.extend(png_chunk(b"IDAT", &[0; 4]));
    png.extend(png_chunk(b"IEND", &[]));
    let inv = inventory(&png);
    let f = fields(&inv);
    assert_eq!(
        f[0],
        ("PNG-text", "zTXt:Comment", "Patient Jane Doe, MRN 12345")
    );
    assert_eq!(f[1], ("PNG-text", "iTXt:Author", "Dr. Zoë Smith"));
    assert!(
        f.iter()
            .any(|(g, _, v)| *g == "XMP" && v.contains("Dr. John Smith")),
        "{f:?}"
    );
    assert!(inv.warnings.is_empty(), "{:?}", inv.warnings);
}

#[test]
fn a_compression_bomb_in_a_text_chunk_is_inflated_only_as_far_as_a_preview() {
    use miniz_oxide::deflate::compress_to_vec_zlib;
    let huge = [b"MRN 12345 ".as_slice(), &vec![b'x'; 64 << 20]].concat();
    let bomb = compress_to_vec_zlib(&huge, 9);
    assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
    let mut png = PNG_SIGNATURE.to_vec();
    png.extend(png_chunk(b"IHDR", &[0; 13]));
    png.extend(ztxt("Comment", &bomb));
    png.extend(compressed_itxt("XML:com.adobe.xmp", "", &bomb));
    png.extend(png_chunk(b"IEND", &[]));
    let inv = inventory(&png);
    let f = fields(&inv);
    assert!(f[0].2.starts_with("MRN 12345 xxx"), "{:?}", f[0]);
    assert!(
        inv.warnings
            .iter()
            .any(|w| w.contains(&format!("inflates past {XMP_INFLATE_LIMIT} bytes"))),
        "{:?}",
        inv.warnings
    );
}

#[test]
fn many_small_bombs_share_one_inflate_budget_per_file() {
    use miniz_oxide::deflate::compress_to_vec_zlib;
    let bomb = compress_to_vec_zlib(&vec![b'x'; XMP_INFLATE_LIMIT + 1], 9);
    let mut png = PNG_SIGNATURE.to_vec();
    png.extend(png_chunk(b"IHDR", &[0; 13]));
    let inflatable = INFLATE_BUDGET / XMP_INFLATE_LIMIT;
    for _ in 0..inflatable + 3 {
        png.extend(compressed_itxt("XML:com.adobe.xmp", "", &bomb));
    }
    png.extend(png_chunk(b"IEND", &[]));
    let inv = inventory(&png);
    let f = fields(&inv);
    let over = f
        .iter()
        .filter(|(_, _, v)| v.ends_with("not inflated (over the file's budget)"))
        .count();
    assert_eq!(over, 3, "{f:?}");
    let spent = inv
        .warnings
        .iter()
        .filter(|w| w.contains("compressed chunks inflate past 16 MiB in all"))
        .count();
    assert_eq!(spent, 1, "{:?}", inv.warnings);
}

#[test]
fn exif_in_a_png_exif_chunk_is_read() {
    let (n, make) = ascii("Canon");
    let mut png = PNG_SIGNATURE.to_vec();
    png.extend(png_chunk(b"IHDR", &[0; 13]));
    png.extend(png_chunk(
        b"eXIf",
        &tiff(&[(0x010F, 2, n, make), (0x0112, 3, 1, vec![8, 0])], 0),
    ));
    png.extend(png_chunk(b"IEND", &[]));
    let inv = inventory(&png);
    assert_eq!(inv.orientation, Some(8));
    assert_eq!(
        fields(&inv),
        [
            ("EXIF", "Make", "Canon"),
            ("EXIF", "Orientation", "8 (rotate 270 CW)")
        ]
    );
}

#[test]
fn webp_bytes_past_the_riff_size_are_a_trailer() {
    let mut webp = encoded(image::ImageFormat::WebP);
    webp.extend(b"PHI!");
    let at = webp.len() - 4;
    let inv = inventory(&webp);
    assert_eq!(
        fields(&inv),
        [(
            "Trailer",
            "after the RIFF data",
            format!("4 bytes at offset {at}: PHI!").as_str()
        )]
    );
}

#[test]
fn maker_note_serials_and_a_unicode_user_comment_in_the_exif_ifd_are_found() {
    // IFD0 holds only the Exif IFD pointer; the Exif IFD follows it.
    let exif_ifd_at = 8 + 2 + 12 + 4u32;
    let mut t = tiff(&[(0x8769, 4, 1, exif_ifd_at.to_le_bytes().to_vec())], 0);
    let mut comment = b"UNICODE\0".to_vec();
    comment.extend("Jane Doe".encode_utf16().flat_map(u16::to_le_bytes));
    let mut maker = b"Nikon\0\x02\x10\0\0".to_vec();
    maker.resize(300, 0x01);
    let (n, serial) = ascii("SN-42");
    let sub = tiff(
        &[
            (0x927C, 7, maker.len() as u32, maker),
            (0x9286, 7, comment.len() as u32, comment),
            (0xA431, 2, n, serial),
        ],
        0,
    );
    // Re-base the sub-IFD's value offsets from 8 to where it now lives.
    let mut sub_ifd = sub[8..].to_vec();
    for i in 0..3 {
        let at = 2 + 12 * i + 8;
        let count = u32::from_le_bytes(sub_ifd[at - 4..at].try_into().unwrap_or_default());
        if count > 4 {
            let old = u32::from_le_bytes(sub_ifd[at..at + 4].try_into().unwrap_or_default());
            let new = old - 8 + exif_ifd_at;
            sub_ifd[at..at + 4].copy_from_slice(&new.to_le_bytes());
        }
    }
    t.extend(sub_ifd);
    let inv = inventory(&jpeg_with(&[exif_segment(&t)]));
    assert_eq!(
        fields(&inv),
        [
            ("MakerNote", "MakerNote", "300 bytes: Nikon"),
            ("EXIF", "UserComment", "Jane Doe"),
            ("EXIF", "BodySerialNumber", "SN-42"),
        ],
        "{:?}",
        inv.warnings
    );
}

#[test]
fn an_invalid_orientation_is_reported_but_not_used() {
    let t = tiff(&[(0x0112, 3, 1, vec![9, 0])], 0);
    let inv = inventory(&jpeg_with(&[exif_segment(&t)]));
    assert_eq!(inv.orientation, None);
    assert_eq!(fields(&inv), [("EXIF", "Orientation", "9 (invalid)")]);
    assert_eq!(inv.warnings.len(), 1);
}

#[test]
fn a_truncated_segment_is_reported_with_its_offset() {
    let mut j = jpeg_with(&[(0xFE, b"a long comment".to_vec())]);
    j.truncate(10);
    let inv = inventory(&j);
    assert!(
        inv.warnings[0].contains("COM at offset 2 is truncated"),
        "{:?}",
        inv.warnings
    );
}
