//! Properties of mask geometry: padding, clamping and orientation.

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

use image::{DynamicImage, Rgb, RgbImage};
use proptest::prelude::*;
use veil::image_io::apply_orientation;
use veil::item::{Rect, orientation_swaps_axes, rect_from_stored, rect_to_stored};

fn image_and_rect() -> impl Strategy<Value = (u32, u32, Rect)> {
    (1u32..64, 1u32..64).prop_flat_map(|(w, h)| {
        (0..w, 0..h).prop_flat_map(move |(x, y)| {
            (1..=w - x, 1..=h - y).prop_map(move |(rw, rh)| (w, h, Rect::new(x, y, rw, rh)))
        })
    })
}

proptest! {
    #[test]
    fn a_box_mapped_through_orientation_and_back_is_the_same_box(
        (w, h, r) in image_and_rect(), o in 1u8..=8
    ) {
        let up = rect_from_stored(r, o, w, h);
        let (uw, uh) = if orientation_swaps_axes(o) { (h, w) } else { (w, h) };
        prop_assert!(Rect::new(0, 0, uw, uh).contains(&up), "{up} outside {uw}x{uh}");
        prop_assert_eq!(rect_to_stored(up, o, uw, uh), r);
    }

    #[test]
    fn padding_and_clamping_never_leave_the_image(
        (w, h, r) in image_and_rect(), factor in 0.5f64..4.0
    ) {
        if let Some(p) = r.padded(factor, w, h) {
            prop_assert!(Rect::new(0, 0, w, h).contains(&p));
            if factor >= 1.0 {
                prop_assert!(p.contains(&r), "padding {factor} shrank {r} to {p}");
            }
        }
        let far = Rect::new(r.x + w, r.y, r.w, r.h);
        prop_assert_eq!(far.clamp_to(w, h), None);
    }
}

/// The geometry agrees with the pixels: paint a box in a stored image, turn
/// the image upright as the decoder does, and the paint is where the
/// mapped box says.
#[test]
fn mapped_boxes_land_on_the_same_pixels_the_decoder_turns_upright() {
    let (w, h) = (13u32, 7u32);
    let r = Rect::new(2, 1, 4, 3);
    for o in 1u8..=8 {
        let mut img = RgbImage::new(w, h);
        for y in r.y..r.bottom() {
            for x in r.x..r.right() {
                img.put_pixel(x, y, Rgb([255, 0, 0]));
            }
        }
        let up = apply_orientation(DynamicImage::ImageRgb8(img), o).to_rgb8();
        let mapped = rect_from_stored(r, o, w, h);
        for (x, y, p) in up.enumerate_pixels() {
            let inside = mapped.contains(&Rect::new(x, y, 1, 1));
            assert_eq!(p.0[0] == 255, inside, "orientation {o}: pixel {x},{y}");
        }
    }
}
