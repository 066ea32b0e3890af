//! The image worker: reading, hashing and decoding originals, composing and
//! encoding pictures of the image pane, and rendering the mobile preview,
//! all off the UI thread so keys are never blocked by pixels.
//!
//! Jobs are taken newest-first: a burst of zoom keys renders only the last
//! view, a preview comes next, and prefetching the neighbours comes last.

use super::app::{Picture, PreviewShown};
use super::image::{FrameRequest, Graphics, Pyramid, compose_fitted, compose_frame, encode};
use super::services::Services;
use super::update::Msg;
use crate::image_io::decode_with;
use crate::item::Item;
use crate::policy::Policy;
use image::{DynamicImage, Rgb, RgbImage};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::thread;

/// Kitty image ids, so the pane and the preview do not replace each other.
const KITTY_PANE: u32 = 0x00A1_0001;
const KITTY_PREVIEW: u32 = 0x00A1_0002;

/// Decoded originals kept in memory: the current item and its neighbours.
const CACHE_ITEMS: usize = 3;

/// What the worker needs to find and check an original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub item_id: String,
    pub path: PathBuf,
    pub sha256: String,
    pub orientation: u8,
}

impl Source {
    pub fn of(item: &Item) -> Source {
        Source {
            item_id: item.id.clone(),
            path: item.source.clone(),
            sha256: item.sha256.clone(),
            orientation: item.orientation,
        }
    }
}

/// One piece of work.
pub enum Job {
    Frame(Source, FrameRequest),
    Preview {
        item: Box<Item>,
        cells: (u16, u16),
        graphics: Graphics,
    },
    Prefetch(Source),
}

struct Loaded {
    bytes: Arc<Vec<u8>>,
    upright: Pyramid,
}

/// A handle on the worker thread.
pub struct Worker {
    jobs: Sender<Job>,
    pub results: Receiver<Msg>,
}

impl Worker {
    /// Start the worker thread.
    pub fn start(policy: Policy, services: Arc<dyn Services>) -> std::io::Result<Worker> {
        let (jobs, job_rx) = channel();
        let (out, results) = channel();
        thread::Builder::new()
            .name("veil-images".into())
            .spawn(move || run(job_rx, out, policy, services))?;
        Ok(Worker { jobs, results })
    }

    /// Queue a job; a worker that has gone away is noticed by its silence.
    pub fn send(&self, job: Job) {
        let _ = self.jobs.send(job);
    }
}

#[derive(Default)]
struct Pending {
    frame: Option<(Source, FrameRequest)>,
    preview: Option<(Box<Item>, (u16, u16), Graphics)>,
    prefetch: VecDeque<Source>,
}

impl Pending {
    fn take(&mut self, job: Job) {
        match job {
            Job::Frame(s, r) => self.frame = Some((s, r)),
            Job::Preview {
                item,
                cells,
                graphics,
            } => self.preview = Some((item, cells, graphics)),
            Job::Prefetch(s) => {
                if !self.prefetch.contains(&s) {
                    self.prefetch.push_back(s);
                }
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.frame.is_none() && self.preview.is_none() && self.prefetch.is_empty()
    }
}

fn run(jobs: Receiver<Job>, out: Sender<Msg>, policy: Policy, services: Arc<dyn Services>) {
    let mut cache: VecDeque<(String, Arc<Loaded>)> = VecDeque::new();
    let mut pending = Pending::default();
    loop {
        if pending.is_empty() {
            match jobs.recv() {
                Ok(j) => pending.take(j),
                Err(_) => return,
            }
        }
        loop {
            match jobs.try_recv() {
                Ok(j) => pending.take(j),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return,
            }
        }
        let sent = if let Some((source, req)) = pending.frame.take() {
            match load(&mut cache, &source, &policy, &out) {
                Some(l) => {
                    let picture = compose_frame(&l.upright, &req);
                    match encode(picture, req.cells, req.graphics, KITTY_PANE) {
                        Ok(protocol) => out.send(Msg::FrameReady(Box::new(Picture {
                            request: req,
                            protocol,
                        }))),
                        Err(error) => out.send(Msg::ImageFailed {
                            item_id: source.item_id,
                            error,
                        }),
                    }
                }
                None => Ok(()),
            }
        } else if let Some((item, cells, graphics)) = pending.preview.take() {
            let source = Source::of(&item);
            match load(&mut cache, &source, &policy, &out) {
                Some(l) => out.send(preview(&l, &item, cells, graphics, services.as_ref())),
                None => out.send(Msg::PreviewFailed {
                    item_id: item.id.clone(),
                    error: "the original could not be read".into(),
                }),
            }
        } else if let Some(source) = pending.prefetch.pop_front() {
            load(&mut cache, &source, &policy, &out);
            Ok(())
        } else {
            Ok(())
        };
        if sent.is_err() {
            return;
        }
    }
}

fn preview(
    l: &Loaded,
    item: &Item,
    cells: (u16, u16),
    g: Graphics,
    services: &dyn Services,
) -> Msg {
    let failed = |error: String| Msg::PreviewFailed {
        item_id: item.id.clone(),
        error,
    };
    let proof = match services.render_output(&l.bytes, item) {
        Ok(p) => p,
        Err(e) => return failed(e),
    };
    let picture = compose_fitted(&proof.mobile, cells, g);
    match encode(picture, cells, g, KITTY_PREVIEW) {
        Ok(protocol) => Msg::PreviewReady(Box::new(PreviewShown {
            item_id: item.id.clone(),
            masks_digest: item.masks_digest(),
            protocol,
            width: proof.mobile.width(),
            height: proof.mobile.height(),
            output_sha256: proof.sha256,
            check: proof.check,
            warnings: proof.warnings,
        })),
        Err(e) => failed(e),
    }
}

/// The decoded original from the cache, or read, checked and decoded now.
fn load(
    cache: &mut VecDeque<(String, Arc<Loaded>)>,
    source: &Source,
    policy: &Policy,
    out: &Sender<Msg>,
) -> Option<Arc<Loaded>> {
    if let Some(pos) = cache.iter().position(|(id, _)| *id == source.item_id) {
        let entry = cache.remove(pos)?;
        let loaded = entry.1.clone();
        cache.push_front(entry);
        return Some(loaded);
    }
    match read_original(source, policy) {
        Ok(l) => {
            let l = Arc::new(l);
            cache.push_front((source.item_id.clone(), l.clone()));
            cache.truncate(CACHE_ITEMS);
            let _ = out.send(Msg::ImageLoaded {
                item_id: source.item_id.clone(),
            });
            Some(l)
        }
        Err(error) => {
            let _ = out.send(Msg::ImageFailed {
                item_id: source.item_id.clone(),
                error,
            });
            None
        }
    }
}

fn read_original(source: &Source, policy: &Policy) -> Result<Loaded, String> {
    let path = crate::text::printable_path(&source.path);
    let meta = std::fs::metadata(&source.path).map_err(|e| format!("{path}: {e}"))?;
    let max = policy.limits.max_file_mib.saturating_mul(1024 * 1024);
    if meta.len() > max {
        return Err(format!(
            "{path}: {} bytes, over the policy's {} MiB limit",
            meta.len(),
            policy.limits.max_file_mib
        ));
    }
    let bytes = std::fs::read(&source.path).map_err(|e| format!("{path}: {e}"))?;
    let found = hex::encode(Sha256::digest(&bytes));
    if found != source.sha256 {
        return Err(format!(
            "{path} changed since ingest (SHA-256 differs); re-ingest it before reviewing"
        ));
    }
    let decoded = decode_with(&bytes, &policy.limits, Some(source.orientation))
        .map_err(|e| format!("{path}: {e}"))?;
    let upright = flatten(decoded.image, policy.background_rgb());
    Ok(Loaded {
        bytes: Arc::new(bytes),
        upright: Pyramid::new(upright),
    })
}

/// RGB pixels, transparent ones flattened onto the policy's background as
/// the output will be.
pub fn flatten(image: DynamicImage, background: [u8; 3]) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let rgba = image.to_rgba8();
    let mut out = RgbImage::new(rgba.width(), rgba.height());
    for (x, y, p) in rgba.enumerate_pixels() {
        let a = u32::from(p[3]);
        let mix = |c: u8, b: u8| ((u32::from(c) * a + u32::from(b) * (255 - a) + 127) / 255) as u8;
        out.put_pixel(
            x,
            y,
            Rgb([
                mix(p[0], background[0]),
                mix(p[1], background[1]),
                mix(p[2], background[2]),
            ]),
        );
    }
    out
}
