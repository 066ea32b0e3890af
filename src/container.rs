//! Bounded integer readers every container walk shares (metadata, HEIF,
//! the decoders' headers), and the byte structure of the two containers
//! Veil both reads and writes: JPEG marker segments and PNG chunks. One
//! reader of each, with two
//! policies on top: the metadata inventory (`metadata::jpeg`,
//! `metadata::png`) tolerates damage and lists what it can; the output
//! allowlist (`redact::allowlist`) refuses anything off. Pure; nothing here
//! indexes past the end of the bytes it is given.

use std::ops::Range;

/// `n` bytes at `at`, or `None` past the end (never overflows).
pub fn slice(b: &[u8], at: usize, n: usize) -> Option<&[u8]> {
    b.get(at..at.checked_add(n)?)
}

/// A big-endian u16 at `at`, or `None` past the end.
pub fn be16(b: &[u8], at: usize) -> Option<u16> {
    slice(b, at, 2)?.try_into().ok().map(u16::from_be_bytes)
}

/// A big-endian u32 at `at`, or `None` past the end.
pub fn be32(b: &[u8], at: usize) -> Option<u32> {
    slice(b, at, 4)?.try_into().ok().map(u32::from_be_bytes)
}

/// A big-endian u64 at `at`, or `None` past the end.
pub fn be64(b: &[u8], at: usize) -> Option<u64> {
    slice(b, at, 8)?.try_into().ok().map(u64::from_be_bytes)
}

/// A little-endian u32 at `at`, or `None` past the end.
pub fn le32(b: &[u8], at: usize) -> Option<u32> {
    slice(b, at, 4)?.try_into().ok().map(u32::from_le_bytes)
}

/// Start of image.
pub const SOI: u8 = 0xD8;
/// End of image.
pub const EOI: u8 = 0xD9;
/// Start of scan (entropy-coded data follows).
pub const SOS: u8 = 0xDA;
/// Quantisation tables.
pub const DQT: u8 = 0xDB;
/// Huffman tables.
pub const DHT: u8 = 0xC4;
/// Restart interval.
pub const DRI: u8 = 0xDD;
/// APP0 (JFIF).
pub const APP0: u8 = 0xE0;
/// Comment.
pub const COM: u8 = 0xFE;

/// APP0–APP15.
pub fn is_app(marker: u8) -> bool {
    (0xE0..=0xEF).contains(&marker)
}

/// RST0–RST7 (inside entropy-coded data).
pub fn is_rst(marker: u8) -> bool {
    (0xD0..=0xD7).contains(&marker)
}

/// A JPEG marker's name (`APP1`, `SOF0`, `COM`, …), for findings and messages.
pub fn marker_name(marker: u8) -> String {
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

/// Where entropy-coded data starting at `from` ends: at the first `FF`
/// that starts neither a stuffed `FF 00` nor a restart marker (a run of
/// fill bytes `FF FF …` ends it at its first `FF`). `None` when the data
/// runs to the end of the bytes.
pub fn entropy_end(bytes: &[u8], from: usize) -> Option<usize> {
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

/// The eight bytes every PNG starts with.
pub const PNG_SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// A PNG chunk's header as read at `offset`: its length and type, and where
/// its data and CRC would be. The ranges are as the length claims them;
/// [`PngChunk::fits`] says whether the bytes hold them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PngChunk {
    pub offset: usize,
    pub length: u32,
    pub kind: [u8; 4],
    /// The data, as claimed (may run past the end).
    pub data: Range<usize>,
    /// One past the CRC, as claimed.
    pub end: usize,
}

impl PngChunk {
    /// The chunk header at `offset`, or `None` when its 8 bytes are not all there.
    pub fn at(bytes: &[u8], offset: usize) -> Option<PngChunk> {
        let head = bytes.get(offset..offset.checked_add(8)?)?;
        let length = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let kind = [head[4], head[5], head[6], head[7]];
        let data_end = (offset + 8).saturating_add(length as usize);
        Some(PngChunk {
            offset,
            length,
            kind,
            data: offset + 8..data_end,
            end: data_end.saturating_add(4),
        })
    }

    /// True when the data and the CRC are all within `len` bytes.
    pub fn fits(&self, len: usize) -> bool {
        self.end <= len
    }

    /// The data present in `bytes` (cut at their end).
    pub fn data_in<'a>(&self, bytes: &'a [u8]) -> &'a [u8] {
        let start = self.data.start.min(bytes.len());
        &bytes[start..self.data.end.min(bytes.len())]
    }

    /// The stored CRC and the CRC of type and data, when the chunk fits.
    pub fn crcs(&self, bytes: &[u8]) -> Option<(u32, u32)> {
        let stored = bytes.get(self.data.end..self.end)?;
        let stored = u32::from_be_bytes([stored[0], stored[1], stored[2], stored[3]]);
        Some((stored, crc32(bytes.get(self.offset + 4..self.data.end)?)))
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_data_ends_at_the_first_real_marker_and_not_at_stuffing_or_restarts() {
        let b = [0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD3, 0x56, 0xFF, 0xD9];
        assert_eq!(entropy_end(&b, 0), Some(7));
        assert_eq!(entropy_end(&[0x12, 0xFF, 0xFF, 0xD9], 0), Some(1));
        assert_eq!(entropy_end(&[0x12, 0xFF], 0), None);
        assert_eq!(entropy_end(&[0x12, 0x34], 0), None);
    }

    #[test]
    fn a_png_chunk_header_says_what_it_claims_and_whether_it_fits() {
        let mut png = PNG_SIGNATURE.to_vec();
        png.extend_from_slice(&[0, 0, 0, 0]);
        png.extend_from_slice(b"IEND");
        png.extend_from_slice(&crc32(b"IEND").to_be_bytes());
        let c = PngChunk::at(&png, 8).unwrap();
        assert_eq!((c.length, &c.kind, c.end), (0, b"IEND", png.len()));
        assert!(c.fits(png.len()));
        let (stored, computed) = c.crcs(&png).unwrap();
        assert_eq!(stored, computed);
        assert_eq!(PngChunk::at(&png, png.len() - 4), None);
        let huge = PngChunk::at(&[0xFF, 0xFF, 0xFF, 0xFF, b'I', b'D', b'A', b'T'], 0).unwrap();
        assert!(!huge.fits(8));
        assert!(huge.data_in(&[0; 8]).is_empty());
        assert_eq!(huge.crcs(&[0; 8]), None);
    }

    #[test]
    fn integers_are_read_only_where_the_bytes_hold_them() {
        let b = [1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(be16(&b, 6), Some(0x0708));
        assert_eq!(be16(&b, 7), None);
        assert_eq!(be32(&b, 0), Some(0x0102_0304));
        assert_eq!(le32(&b, 0), Some(0x0403_0201));
        assert_eq!(be64(&b, 0), Some(0x0102_0304_0506_0708));
        assert_eq!(be64(&b, 1), None);
        assert_eq!(slice(&b, usize::MAX, 2), None);
    }

    #[test]
    fn marker_names_follow_the_standard() {
        assert_eq!(marker_name(0xE1), "APP1");
        assert_eq!(marker_name(0xC0), "SOF0");
        assert_eq!(marker_name(0xC4), "DHT");
        assert_eq!(marker_name(0xD3), "RST3");
        assert_eq!(marker_name(0x02), "marker 0xFF02");
    }
}
