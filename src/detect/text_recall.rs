//! Scoring text proposals against the labelled text set (`tests/text/`):
//! a line counts as found only when every one of its glyph pixels lies
//! under a proposal, since a redaction that leaves a glyph edge can leak a
//! character. Pure but for [`load_text_set`], which reads the set.

use crate::item::Rect;
use image::GrayImage;
use serde::Deserialize;

/// The labelled text set: photos and the lines of text in them.
#[derive(Debug, Clone, Deserialize)]
pub struct TextSet {
    pub images: Vec<TextImage>,
}

/// One photo and its lines.
#[derive(Debug, Clone, Deserialize)]
pub struct TextImage {
    pub file: String,
    /// A grey image the size of the photo: pixel value k is a glyph pixel
    /// of the line with id k, 0 is no text.
    pub lines_file: String,
    pub lines: Vec<TextLine>,
    /// Regions where a proposal is neither right nor wrong (unlabelled text).
    #[serde(default)]
    pub ignore: Vec<[u32; 4]>,
}

/// One line of text: its id in the lines image, its words, its glyphs'
/// bounding box `[x, y, w, h]`, and what makes it hard.
#[derive(Debug, Clone, Deserialize)]
pub struct TextLine {
    pub id: u8,
    pub words: String,
    #[serde(rename = "box")]
    pub bounds: [u32; 4],
    #[serde(default)]
    pub tags: Vec<String>,
}

impl TextSet {
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Every tag used, sorted.
    pub fn tags(&self) -> Vec<String> {
        let mut t: Vec<String> = self
            .images
            .iter()
            .flat_map(|i| i.lines.iter().flat_map(|l| l.tags.iter().cloned()))
            .collect();
        t.sort();
        t.dedup();
        t
    }
}

/// The set in `dir` (its `text.json`), each photo and its line image.
pub fn load_text_set(
    dir: &std::path::Path,
) -> Result<(TextSet, Vec<(image::RgbImage, GrayImage)>), String> {
    let json = dir.join("text.json");
    let text = std::fs::read_to_string(&json).map_err(|e| format!("{}: {e}", json.display()))?;
    let set = TextSet::from_json(&text).map_err(|e| format!("{}: {e}", json.display()))?;
    let mut photos = Vec::new();
    for i in &set.images {
        let open = |name: &str| {
            image::open(dir.join(name)).map_err(|e| format!("{}: {e}", dir.join(name).display()))
        };
        let photo = open(&i.file)?.to_rgb8();
        let ids = open(&i.lines_file)?.to_luma8();
        if photo.dimensions() != ids.dimensions() {
            return Err(format!("{}: not the size of {}", i.lines_file, i.file));
        }
        photos.push((photo, ids));
    }
    Ok((set, photos))
}

/// How the proposals did on one photo.
#[derive(Debug, Clone, PartialEq)]
pub struct TextScore {
    /// Per line, in order: the share of its glyph pixels under a proposal.
    pub covered: Vec<f64>,
    /// Proposals over no glyph of any line and outside every ignored region.
    pub false_boxes: usize,
}

/// Score `proposals` on one photo whose line image is `ids`.
pub fn score_text(image: &TextImage, ids: &GrayImage, proposals: &[Rect]) -> TextScore {
    let (w, h) = ids.dimensions();
    let mut under = vec![false; w as usize * h as usize];
    for r in proposals {
        let Some(r) = r.clamp_to(w, h) else { continue };
        for y in r.y..r.bottom() {
            let row = y as usize * w as usize;
            under[row + r.x as usize..row + r.right() as usize].fill(true);
        }
    }
    let mut glyphs = [0u64; 256];
    let mut hidden = [0u64; 256];
    for (i, p) in ids.as_raw().iter().enumerate() {
        glyphs[*p as usize] += 1;
        hidden[*p as usize] += under[i] as u64;
    }
    let covered = image
        .lines
        .iter()
        .map(|l| {
            let n = glyphs[l.id as usize];
            if n == 0 {
                1.0
            } else {
                hidden[l.id as usize] as f64 / n as f64
            }
        })
        .collect();
    let on_text = |r: &Rect| {
        let Some(r) = r.clamp_to(w, h) else {
            return false;
        };
        (r.y..r.bottom()).any(|y| (r.x..r.right()).any(|x| ids.get_pixel(x, y).0[0] != 0))
    };
    let ignored = |r: &Rect| {
        image.ignore.iter().any(|&[x, y, iw, ih]| {
            let area = r.w as u64 * r.h as u64;
            let shared = Rect::new(x, y, iw, ih)
                .intersection(r)
                .map_or(0, |s| s.w as u64 * s.h as u64);
            area > 0 && shared * 2 >= area
        })
    };
    let false_boxes = proposals
        .iter()
        .filter(|r| !on_text(r) && !ignored(r))
        .count();
    TextScore {
        covered,
        false_boxes,
    }
}

/// One detector's results over the set, line by line and tag by tag.
#[derive(Debug, Clone, Default)]
pub struct TextTally {
    pub detector: String,
    pub lines: usize,
    /// Lines with every glyph pixel under a proposal.
    pub covered: usize,
    pub false_boxes: usize,
    /// Per tag: (tag, covered, lines).
    pub by_tag: Vec<(String, usize, usize)>,
    /// `file "words" (share covered)` of each line not fully covered.
    pub missed: Vec<String>,
    pub seconds: f64,
}

impl TextTally {
    pub fn new(detector: &str, set: &TextSet) -> Self {
        TextTally {
            detector: detector.into(),
            by_tag: set.tags().into_iter().map(|t| (t, 0, 0)).collect(),
            ..TextTally::default()
        }
    }

    /// Add one photo's score.
    pub fn add(&mut self, image: &TextImage, score: &TextScore) {
        self.false_boxes += score.false_boxes;
        for (line, &share) in image.lines.iter().zip(&score.covered) {
            let whole = share >= 1.0;
            self.lines += 1;
            self.covered += whole as usize;
            if !whole {
                self.missed.push(format!(
                    "{} {:?} ({:.1} % covered)",
                    image.file,
                    line.words,
                    share * 100.0
                ));
            }
            super::recall::count_tags(&mut self.by_tag, &line.tags, whole);
        }
    }

    pub fn recall(&self) -> f64 {
        super::recall::share(self.covered, self.lines)
    }
}

/// A Markdown table of tallies over the same set, one row each.
pub fn text_table(tallies: &[TextTally]) -> String {
    super::recall::tag_table(
        &[
            "text detector",
            "lines fully covered",
            "false boxes",
            "seconds",
        ],
        tallies.iter().map(|r| {
            (
                vec![
                    r.detector.clone(),
                    format!("{}/{} = {:.2}", r.covered, r.lines, r.recall()),
                    r.false_boxes.to_string(),
                    format!("{:.1}", r.seconds),
                ],
                r.by_tag.as_slice(),
            )
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn photo() -> (TextImage, GrayImage) {
        let mut ids = GrayImage::new(100, 60);
        for x in 10..40 {
            for y in 10..16 {
                ids.put_pixel(x, y, image::Luma([1]));
            }
        }
        ids.put_pixel(60, 50, image::Luma([2]));
        let line = |id, tags: &[&str]| TextLine {
            id,
            words: format!("line {id}"),
            bounds: [0, 0, 1, 1],
            tags: tags.iter().map(std::string::ToString::to_string).collect(),
        };
        let image = TextImage {
            file: "x.jpg".into(),
            lines_file: "x.lines.png".into(),
            lines: vec![line(1, &["label"]), line(2, &["small"])],
            ignore: vec![[80, 0, 20, 20]],
        };
        (image, ids)
    }

    #[test]
    fn a_line_counts_only_when_every_glyph_pixel_is_under_a_proposal() {
        let (image, ids) = photo();
        let almost = score_text(&image, &ids, &[Rect::new(10, 10, 30, 5)]);
        assert!((almost.covered[0] - 5.0 / 6.0).abs() < 1e-9);
        let whole = score_text(
            &image,
            &ids,
            &[Rect::new(8, 8, 20, 10), Rect::new(28, 8, 14, 10)],
        );
        assert_eq!(whole.covered, vec![1.0, 0.0]);
        assert_eq!(whole.false_boxes, 0);
    }

    #[test]
    fn a_proposal_over_no_glyph_is_false_unless_ignored() {
        let (image, ids) = photo();
        let s = score_text(
            &image,
            &ids,
            &[Rect::new(0, 30, 20, 20), Rect::new(85, 2, 10, 10)],
        );
        assert_eq!(s.false_boxes, 1);
        let mut t = TextTally::new("t", &TextSet { images: vec![] });
        t.add(&image, &s);
        assert_eq!((t.lines, t.covered, t.false_boxes), (2, 0, 1));
        assert_eq!(t.missed.len(), 2);
    }

    #[test]
    fn the_set_in_tests_parses() {
        let set = TextSet::from_json(include_str!("../../tests/text/text.json")).unwrap();
        assert!(set.images.len() >= 10);
        for tag in [
            "small",
            "rotated",
            "low-contrast",
            "curved",
            "monitor",
            "wristband",
        ] {
            assert!(set.tags().contains(&tag.to_string()), "{tag}");
        }
    }
}
