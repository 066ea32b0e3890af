use super::*;

#[test]
fn the_intersection_of_two_rectangles_is_what_both_cover_or_nothing() {
    let a = Rect::new(10, 10, 20, 10);
    assert_eq!(
        a.intersection(&Rect::new(25, 0, 100, 15)),
        Some(Rect::new(25, 10, 5, 5))
    );
    assert_eq!(a.intersection(&a), Some(a));
    // Touching edges share no pixel.
    assert_eq!(a.intersection(&Rect::new(30, 10, 5, 5)), None);
    assert!(!a.intersects(&Rect::new(30, 10, 5, 5)));
    assert_eq!(a.intersection(&Rect::new(0, 0, 5, 5)), None);
}

#[test]
fn padding_grows_about_the_centre_and_clamps_to_the_image() {
    let r = Rect::new(40, 40, 20, 20);
    assert_eq!(r.padded(1.5, 100, 100), Some(Rect::new(35, 35, 30, 30)));
    let edge = Rect::new(0, 0, 20, 20);
    assert_eq!(edge.padded(2.0, 100, 100), Some(Rect::new(0, 0, 30, 30)));
}

#[test]
fn clamp_drops_a_rectangle_outside_the_image() {
    assert_eq!(Rect::new(120, 0, 10, 10).clamp_to(100, 100), None);
    assert_eq!(
        Rect::new(95, 95, 10, 10).clamp_to(100, 100),
        Some(Rect::new(95, 95, 5, 5))
    );
}

#[cfg(unix)]
#[test]
fn a_file_name_that_is_not_utf8_survives_the_item_file() {
    use std::os::unix::ffi::OsStrExt;
    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct P {
        #[serde(with = "path_serde")]
        p: PathBuf,
    }
    let p = P {
        p: PathBuf::from(std::ffi::OsStr::from_bytes(b"/in/bad\xff\x1b[2J.jpg")),
    };
    let json = serde_json::to_string(&p).unwrap();
    assert!(json.contains("unix_bytes_hex"), "{json}");
    assert_eq!(serde_json::from_str::<P>(&json).unwrap(), p);
    let plain = P {
        p: "/in/ok.jpg".into(),
    };
    assert_eq!(
        serde_json::to_string(&plain).unwrap(),
        r#"{"p":"/in/ok.jpg"}"#
    );
}

#[test]
fn kinds_cycle_through_all_and_back() {
    let mut k = MaskKind::Face;
    for _ in 0..MaskKind::ALL.len() {
        k = k.next();
    }
    assert_eq!(k, MaskKind::Face);
}

#[test]
fn states_parse_from_their_names() {
    for s in ItemState::ALL {
        assert_eq!(s.as_str().parse::<ItemState>(), Ok(s));
    }
    assert!("bogus".parse::<ItemState>().is_err());
}

#[test]
fn mask_digest_ignores_verification_but_not_geometry() {
    let mut a = Mask {
        id: 1,
        kind: MaskKind::Face,
        rect: Rect::new(1, 2, 3, 4),
        origin: MaskOrigin::Manual,
        zoom_check: None,
    };
    let d0 = masks_digest(std::slice::from_ref(&a));
    a.zoom_check = Some(ZoomCheck {
        seal: None,
        zoom_pct: 200,
        at: "t".into(),
        reviewer: None,
    });
    assert_eq!(d0, masks_digest(std::slice::from_ref(&a)));
    a.rect.x += 1;
    assert_ne!(d0, masks_digest(std::slice::from_ref(&a)));
}
