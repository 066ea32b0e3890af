//! Scoring detections against hand-labelled faces (`tests/faces/faces.json`):
//! what the recall test and the deface comparison share. Pure: no I/O.

use super::{area, intersection as overlap, iou};
use crate::item::Rect;
use serde::Deserialize;

/// The labelled set: photos and the faces a person marked in them.
#[derive(Debug, Clone, Deserialize)]
pub struct LabelledSet {
    pub images: Vec<LabelledImage>,
}

/// One photo, its faces, and regions too hidden to score either way.
#[derive(Debug, Clone, Deserialize)]
pub struct LabelledImage {
    pub file: String,
    pub faces: Vec<LabelledFace>,
    #[serde(default)]
    pub ignore: Vec<[u32; 4]>,
    /// How it was made from another photo, when it was.
    #[serde(default)]
    pub derived: Option<String>,
}

/// A face: `[x, y, w, h]` from hairline to chin, and what makes it hard.
#[derive(Debug, Clone, Deserialize)]
pub struct LabelledFace {
    #[serde(rename = "box")]
    pub bounds: [u32; 4],
    #[serde(default)]
    pub tags: Vec<String>,
}

impl LabelledFace {
    pub fn rect(&self) -> Rect {
        let [x, y, w, h] = self.bounds;
        Rect::new(x, y, w, h)
    }
}

impl LabelledSet {
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Every tag used, sorted.
    pub fn tags(&self) -> Vec<String> {
        let mut t: Vec<String> = self
            .images
            .iter()
            .flat_map(|i| i.faces.iter().flat_map(|f| f.tags.iter().cloned()))
            .collect();
        t.sort();
        t.dedup();
        t
    }
}

/// How one detector did on one photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageScore {
    /// Per labelled face, in order: was it found?
    pub found: Vec<bool>,
    /// Boxes on no labelled face and no ignored region.
    pub false_positives: usize,
}

/// A box finds a face when they overlap well (IoU ≥ 0.3), or when it covers
/// at least 60 % of the face without being more than 4× its area.
pub fn finds(face: &Rect, found: &Rect) -> bool {
    let inter = overlap(face, found);
    let (fa, da) = (area(face), area(found));
    iou(face, found) >= 0.3 || (fa > 0.0 && inter >= 0.6 * fa && da <= 4.0 * fa)
}

/// Match boxes to faces one to one, best overlap first.
pub fn score(image: &LabelledImage, boxes: &[Rect]) -> ImageScore {
    let faces: Vec<Rect> = image.faces.iter().map(LabelledFace::rect).collect();
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    for (fi, f) in faces.iter().enumerate() {
        for (bi, b) in boxes.iter().enumerate() {
            if finds(f, b) {
                pairs.push((iou(f, b), fi, bi));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut found = vec![false; faces.len()];
    let mut used = vec![false; boxes.len()];
    for (_, fi, bi) in pairs {
        if !found[fi] && !used[bi] {
            found[fi] = true;
            used[bi] = true;
        }
    }
    let ignored = |b: &Rect| {
        image.ignore.iter().any(|&[x, y, w, h]| {
            let r = Rect::new(x, y, w, h);
            area(b) > 0.0 && (overlap(&r, b) / area(b) >= 0.5 || iou(&r, b) >= 0.3)
        })
    };
    // A second box on a face already found is a duplicate, not a false face.
    let false_positives = boxes
        .iter()
        .enumerate()
        .filter(|(bi, b)| !used[*bi] && !faces.iter().any(|f| finds(f, b)) && !ignored(b))
        .count();
    ImageScore {
        found,
        false_positives,
    }
}

/// One detector's results over the set, face by face and tag by tag.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub detector: String,
    pub faces: usize,
    pub found: usize,
    pub false_positives: usize,
    /// Per tag: (tag, found, faces).
    pub by_tag: Vec<(String, usize, usize)>,
    /// `file [x, y, w, h]` of each face missed.
    pub missed: Vec<String>,
    /// Seconds spent detecting.
    pub seconds: f64,
}

impl Tally {
    pub fn new(detector: &str, set: &LabelledSet) -> Self {
        Tally {
            detector: detector.into(),
            by_tag: set.tags().into_iter().map(|t| (t, 0, 0)).collect(),
            ..Tally::default()
        }
    }

    /// Add one photo's boxes.
    pub fn add(&mut self, image: &LabelledImage, boxes: &[Rect]) -> ImageScore {
        let s = score(image, boxes);
        self.false_positives += s.false_positives;
        for (face, &hit) in image.faces.iter().zip(&s.found) {
            self.faces += 1;
            self.found += hit as usize;
            if !hit {
                self.missed
                    .push(format!("{} {:?}", image.file, face.bounds));
            }
            count_tags(&mut self.by_tag, &face.tags, hit);
        }
        s
    }

    pub fn recall(&self) -> f64 {
        share(self.found, self.faces)
    }
}

/// One labelled thing's outcome in the per-tag counts `(tag, hits, total)`
/// of every tag it carries: what both harnesses tally by tag.
pub(crate) fn count_tags(by_tag: &mut [(String, usize, usize)], tags: &[String], hit: bool) {
    for (tag, n, total) in by_tag.iter_mut() {
        if tags.contains(tag) {
            *total += 1;
            *n += hit as usize;
        }
    }
}

/// `hits / total`, 1 when there is nothing to find.
pub fn share(hits: usize, total: usize) -> f64 {
    if total == 0 {
        1.0
    } else {
        hits as f64 / total as f64
    }
}

/// A Markdown table of tallies over the same set, one row each.
pub fn table(tallies: &[Tally]) -> String {
    tag_table(
        &["detector", "recall", "false positives", "seconds"],
        tallies.iter().map(|r| {
            (
                vec![
                    r.detector.clone(),
                    format!("{}/{} = {:.2}", r.found, r.faces, r.recall()),
                    r.false_positives.to_string(),
                    format!("{:.1}", r.seconds),
                ],
                r.by_tag.as_slice(),
            )
        }),
    )
}

/// A Markdown table whose rows are `cells` followed by one `n/total`
/// column per tag (the tags of the first row name the columns): the face
/// and the text harness print theirs with it.
pub(crate) fn tag_table<'a>(
    head: &[&str],
    rows: impl IntoIterator<Item = (Vec<String>, &'a [(String, usize, usize)])>,
) -> String {
    let mut rows = rows.into_iter().peekable();
    let Some((_, tags)) = rows.peek() else {
        return String::new();
    };
    let mut out = format!("| {} |", head.join(" | "));
    for (t, _, _) in *tags {
        out.push_str(&format!(" {t} |"));
    }
    out.push_str(&format!("\n|{}\n", "---|".repeat(head.len() + tags.len())));
    for (cells, by_tag) in rows {
        out.push_str(&format!("| {} |", cells.join(" | ")));
        for (_, n, total) in by_tag {
            out.push_str(&format!(" {n}/{total} |"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(faces: &[[u32; 4]], ignore: &[[u32; 4]]) -> LabelledImage {
        LabelledImage {
            file: "x.jpg".into(),
            faces: faces
                .iter()
                .map(|b| LabelledFace {
                    bounds: *b,
                    tags: vec![],
                })
                .collect(),
            ignore: ignore.to_vec(),
            derived: None,
        }
    }

    #[test]
    fn a_box_on_the_face_finds_it_and_one_elsewhere_is_a_false_positive() {
        let img = image(&[[100, 100, 50, 60]], &[]);
        let s = score(
            &img,
            &[Rect::new(105, 110, 45, 45), Rect::new(400, 0, 30, 30)],
        );
        assert_eq!(s.found, vec![true]);
        assert_eq!(s.false_positives, 1);
    }

    #[test]
    fn a_box_over_the_whole_photo_finds_nothing() {
        let img = image(&[[100, 100, 50, 60]], &[]);
        let s = score(&img, &[Rect::new(0, 0, 1000, 1000)]);
        assert_eq!(s.found, vec![false]);
        assert_eq!(s.false_positives, 1);
    }

    #[test]
    fn a_box_on_an_ignored_region_counts_for_nothing() {
        let img = image(&[], &[[10, 10, 20, 20]]);
        let s = score(&img, &[Rect::new(12, 12, 18, 18)]);
        assert_eq!(s.false_positives, 0);
    }

    #[test]
    fn the_set_in_tests_parses() {
        let text = include_str!("../../tests/faces/faces.json");
        let set = LabelledSet::from_json(text).unwrap();
        assert!(set.images.len() >= 15);
        assert!(set.tags().contains(&"profile".to_string()));
    }
}
