//! What the benchmarks share.

use std::io::Cursor;
use std::path::Path;

/// tests/faces/small_faces_12mp.jpg scaled to 1155×866 (1 MP): as JPEG
/// bytes, and the pixels.
pub fn photo() -> (Vec<u8>, image::RgbImage) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/faces/small_faces_12mp.jpg");
    let img = image::open(&path)
        .expect("tests/faces/small_faces_12mp.jpg")
        .resize_exact(1155, 866, image::imageops::FilterType::Triangle);
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("encode JPEG");
    (out.into_inner(), img.to_rgb8())
}
