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
