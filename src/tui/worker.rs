//! The image worker: reading, hashing and decoding originals, composing and
//! encoding pictures of the image pane, and rendering the mobile preview,
//! all off the UI thread so keys are never blocked by pixels.
//!
//! Jobs are taken newest-first: a burst of zoom keys renders only the last
//! view, a preview comes next, and prefetching the neighbours comes last.

use super::app::PreviewShown;
use super::image::{FrameRequest, Graphics, Palettes, Pyramid, compose_fitted, encode, render};
use super::services::Services;
use super::update::Msg;
use crate::image_io::{decode_with, memory_plan};
use crate::item::Item;
use crate::memory::{MemoryPlan, Step};
use crate::policy::Policy;
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::thread;

/// Kitty image ids, so the pane and the preview do not replace each other.
const KITTY_PANE: u32 = 0x00A1_0001;
const KITTY_PREVIEW: u32 = super::pane::KITTY_PREVIEW_ID;

/// Decoded originals kept in memory: the current item and its neighbours,
/// fewer when they would not fit the policy's memory limit beside the
/// current item's proof (see [`crate::memory`]).
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
    upright: Pyramid,
    /// What this image costs the station at its peak.
    plan: MemoryPlan,
}

/// The decoded originals, most recently used first.
#[derive(Default)]
struct Cache {
    entries: VecDeque<(String, Arc<Loaded>)>,
}

impl Cache {
    fn get(&mut self, id: &str) -> Option<Arc<Loaded>> {
        let pos = self.entries.iter().position(|(i, _)| i == id)?;
        let entry = self.entries.remove(pos)?;
        let loaded = entry.1.clone();
        self.entries.push_front(entry);
        Some(loaded)
    }

    /// Bytes held by entries other than `except`.
    fn held_besides(&self, except: Option<&str>) -> u64 {
        self.entries
            .iter()
            .filter(|(id, _)| Some(id.as_str()) != except)
            .map(|(_, l)| l.upright.bytes())
            .sum()
    }

    /// Drop the least recently used entries, never `keep` and never the
    /// first `spare` ones, until `need` more bytes fit under `limit`.
    /// Whether they now fit.
    fn make_room(&mut self, need: u64, limit: u64, keep: Option<&str>, spare: usize) -> bool {
        loop {
            if self.held_besides(keep) + need <= limit {
                return true;
            }
            let victim = self
                .entries
                .iter()
                .enumerate()
                .rev()
                .find(|(i, (id, _))| *i >= spare && Some(id.as_str()) != keep)
                .map(|(i, _)| i);
            match victim {
                Some(i) => {
                    self.entries.remove(i);
                }
                None => return false,
            }
        }
    }
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
    let mut cache = Cache::default();
    let mut pending = Pending::default();
    let mut palettes = Palettes::default();
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
                Some(l) => match render(&l.upright, req, KITTY_PANE, &mut palettes) {
                    Ok(picture) => out.send(Msg::FrameReady(Box::new(picture))),
                    Err(error) => out.send(Msg::ImageFailed {
                        item_id: source.item_id,
                        error,
                    }),
                },
                None => Ok(()),
            }
        } else if let Some((item, cells, graphics)) = pending.preview.take() {
            let source = Source::of(&item);
            match load(&mut cache, &source, &policy, &out) {
                Some(l) => {
                    // The proof is rendered beside the zoom levels: make
                    // room for it among the neighbours kept in memory.
                    let limit = policy.limits.max_alloc_bytes();
                    cache.make_room(l.plan.peak(Step::Review), limit, Some(&item.id), 0);
                    out.send(preview(&l, &item, cells, graphics, services.as_ref()))
                }
                None => out.send(Msg::PreviewFailed {
                    item_id: item.id.clone(),
                    error: "the original could not be read".into(),
                }),
            }
        } else if let Some(source) = pending.prefetch.pop_front() {
            prefetch(&mut cache, &source, &policy, &out);
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
    let proof = match services.render_output(l.upright.full(), item) {
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

/// The decoded original from the cache, or read, checked and decoded now,
/// dropping older entries so it fits the policy's memory limit.
fn load(
    cache: &mut Cache,
    source: &Source,
    policy: &Policy,
    out: &Sender<Msg>,
) -> Option<Arc<Loaded>> {
    if let Some(l) = cache.get(&source.item_id) {
        return Some(l);
    }
    let limit = policy.limits.max_alloc_bytes();
    let loaded = read_original(source, policy, |need| {
        cache.make_room(need, limit, None, 0);
        true
    });
    finish_load(cache, source, loaded, out)
}

/// Decode a neighbour ahead of time only if it fits beside the item on
/// screen (the most recently used); else leave it for when it is opened.
fn prefetch(cache: &mut Cache, source: &Source, policy: &Policy, out: &Sender<Msg>) {
    if cache.get(&source.item_id).is_some() {
        return;
    }
    let limit = policy.limits.max_alloc_bytes();
    let loaded = read_original(source, policy, |need| cache.make_room(need, limit, None, 1));
    if !matches!(loaded, Err(Unloaded::NoRoom)) {
        finish_load(cache, source, loaded, out);
    }
}

fn finish_load(
    cache: &mut Cache,
    source: &Source,
    loaded: Result<Loaded, Unloaded>,
    out: &Sender<Msg>,
) -> Option<Arc<Loaded>> {
    match loaded {
        Ok(l) => {
            let l = Arc::new(l);
            cache
                .entries
                .push_front((source.item_id.clone(), l.clone()));
            cache.entries.truncate(CACHE_ITEMS);
            let _ = out.send(Msg::ImageLoaded {
                item_id: source.item_id.clone(),
            });
            Some(l)
        }
        Err(Unloaded::Failed(error)) => {
            let _ = out.send(Msg::ImageFailed {
                item_id: source.item_id.clone(),
                error,
            });
            None
        }
        Err(Unloaded::NoRoom) => None,
    }
}

enum Unloaded {
    /// One line naming the file and the problem.
    Failed(String),
    /// A prefetch that would not fit beside the item on screen.
    NoRoom,
}

/// Read, check and decode an original. `room(bytes)` frees that much of the
/// cache (or says it cannot), first for the file, then for the image's
/// whole memory plan in the station.
fn read_original(
    source: &Source,
    policy: &Policy,
    mut room: impl FnMut(u64) -> bool,
) -> Result<Loaded, Unloaded> {
    let path = crate::text::printable_path(&source.path);
    let fail = |e: String| Unloaded::Failed(e);
    let meta = std::fs::metadata(&source.path).map_err(|e| fail(format!("{path}: {e}")))?;
    if meta.len() > policy.limits.max_file_bytes() {
        return Err(fail(format!(
            "{path}: {} bytes, over the policy's {} MiB limit",
            meta.len(),
            policy.limits.max_file_mib
        )));
    }
    if !room(meta.len()) {
        return Err(Unloaded::NoRoom);
    }
    let bytes = std::fs::read(&source.path).map_err(|e| fail(format!("{path}: {e}")))?;
    let found = hex::encode(Sha256::digest(&bytes));
    if found != source.sha256 {
        return Err(fail(format!(
            "{path} changed since ingest (SHA-256 differs); re-ingest it before reviewing"
        )));
    }
    if let Some(plan) = memory_plan(&bytes, &policy.limits)
        && !room(plan.peak(Step::Review))
    {
        return Err(Unloaded::NoRoom);
    }
    let decoded = decode_with(
        &bytes,
        &policy.limits,
        Some(source.orientation),
        Step::Review,
    )
    .map_err(|e| fail(format!("{path}: {e}")))?;
    drop(bytes);
    let upright = crate::redact::flatten(decoded.image, policy.background_rgb());
    Ok(Loaded {
        upright: Pyramid::new(upright),
        plan: decoded.plan,
    })
}
