//! The review station's state. Changed only by [`super::update::update`];
//! read by [`super::view::view`].

use super::action::Focus;
use super::geometry::{self, Viewport};
pub use super::image::Picture;
use super::image::{FrameRequest, Graphics, MaskOutline};
use super::layout;
use super::theme::Theme;
use crate::gates::{self, GateContext, GateReport};
use crate::item::{Edge, Item, ItemState, Mask, Rect};
use crate::policy::Policy;
use ratatui::layout::Rect as Area;
use ratatui_image::picker::ProtocolType;
use ratatui_image::protocol::Protocol;
use std::collections::HashMap;

/// Where timestamps come from (fixed in tests, so snapshots are stable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clock {
    System,
    Fixed(String),
}

impl Clock {
    /// Now, as [`crate::clock::now_ts`] says it (or the fixed time).
    pub fn now(&self) -> String {
        match self {
            Clock::Fixed(t) => t.clone(),
            Clock::System => crate::clock::now_ts(),
        }
    }
}

/// What is drawn over the main screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    None,
    Help,
    /// The compressed/mobile preview (`m`).
    Preview,
    /// A message the operator must dismiss (refusals, outcomes, errors).
    Message(Message),
    /// Typing a rejection reason.
    RejectPrompt(String),
}

/// A dismissable message box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub title: String,
    pub lines: Vec<String>,
    pub tone: Tone,
}

/// How a message should look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Info,
    Good,
    Bad,
}

/// One line on the status bar until the next key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub tone: Tone,
}

/// Whether the current item's pixels are available.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageStatus {
    Loading,
    Ready,
    Failed(String),
}

/// The state of the compressed/mobile preview.
#[derive(Clone)]
pub enum PreviewState {
    /// Being rendered for these masks.
    Rendering {
        item_id: String,
        masks_digest: String,
    },
    Ready(Box<PreviewShown>),
    Failed {
        item_id: String,
        error: String,
    },
}

/// A rendered mobile preview, ready to draw.
#[derive(Clone)]
pub struct PreviewShown {
    pub item_id: String,
    pub masks_digest: String,
    pub protocol: Protocol,
    /// The preview's size in pixels (360 px wide or less).
    pub width: u32,
    pub height: u32,
    /// SHA-256 of the full rendered output.
    pub output_sha256: String,
    /// `Ok(container)` when the output bytes passed the allowlist.
    pub check: Result<String, String>,
    pub warnings: Vec<String>,
}

/// What a zoom-coverage record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    Mask(u32),
    Edge(Edge),
}

/// A part of a target seen at or above the minimum zoom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub rect: Rect,
    pub zoom_pct: u32,
}

/// A mask edit that can be undone: the masks before it.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub masks: Vec<Mask>,
    pub next_mask_id: u32,
    pub selected: Option<u32>,
}

/// Undo and redo stacks of one item.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    pub undo: Vec<Snapshot>,
    pub redo: Vec<Snapshot>,
}

/// How many edits can be undone per item.
pub(crate) const UNDO_DEPTH: usize = 200;

/// Which continuous edit the last key made, so holding a key is one undo step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditRun {
    pub item_id: String,
    pub mask_id: u32,
    pub resize: bool,
}

/// Where the operator was, per item, so coming back resumes there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Place {
    pub zoom_pct: u32,
    pub centre: (f64, f64),
}

/// The item on screen is open in another session: look, do not touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOnly {
    pub item_id: String,
    /// e.g. "being edited by alice (pid 12 on ward7) — read-only".
    pub reason: String,
}

/// Signs measured evidence with the reviewer's key (see [`crate::item::Seal`]).
#[derive(Clone)]
pub struct Sealer(pub std::sync::Arc<SealFn>);

/// Signs an evidence message, or gives nothing when signing fails.
pub type SealFn = dyn Fn(&[u8]) -> Option<crate::item::Seal> + Send + Sync;

impl Sealer {
    /// A sealer signing with `reviewer`'s key.
    pub fn with(reviewer: crate::keys::Reviewer) -> Sealer {
        Sealer(std::sync::Arc::new(move |msg| {
            reviewer.sign(msg).ok().map(|sig| crate::item::Seal {
                key: reviewer.public_openssh(),
                sig,
            })
        }))
    }

    /// The seal of `msg`, when signing works.
    pub fn seal(&self, msg: &[u8]) -> Option<crate::item::Seal> {
        (self.0)(msg)
    }
}

/// The whole review station.
#[derive(Clone)]
pub struct App {
    pub policy: Policy,
    /// The reviewer's name, when an identity is set up.
    pub reviewer: Option<String>,
    /// Seals what the station measures, when the reviewer has a key.
    pub sealer: Option<Sealer>,
    pub clock: Clock,
    pub theme: Theme,
    pub graphics: Graphics,
    /// Every item, in queue order.
    pub items: Vec<Item>,
    /// Item files that could not be read.
    pub problems: Vec<String>,
    pub filter: Option<ItemState>,
    /// Index into `items` of the item on screen (always one the filter shows).
    pub current: Option<usize>,
    /// Selected mask id.
    pub selected: Option<u32>,
    pub focus: Focus,
    pub overlay: Overlay,
    pub zoom_pct: u32,
    /// View centre in upright source pixels.
    pub centre: (f64, f64),
    /// Terminal size in cells.
    pub screen: (u16, u16),
    pub images: HashMap<String, ImageStatus>,
    pub frame: Option<Picture>,
    pub preview: Option<PreviewState>,
    pub status: Option<Status>,
    /// A reject reason that looked like a patient detail, and what did:
    /// Enter on the same text again records it as typed.
    pub reason_flag: Option<(String, String)>,
    /// `s`: moves and resizes take ten steps.
    pub ten_step: bool,
    /// Pictures at half the pane's width and height, for a slow link
    /// (`g`); half-blocks are always whole.
    pub light: bool,
    /// `[` and `]`: the side panels shown or folded (by width unless set).
    pub folds: layout::Folds,
    pub history: HashMap<String, History>,
    pub coverage: HashMap<(String, Target), Vec<Seen>>,
    pub places: HashMap<String, Place>,
    pub edit_run: Option<EditRun>,
    /// Set when another session holds the lock of the item on screen.
    pub read_only: Option<ReadOnly>,
    pub quit: bool,
}

impl App {
    /// A station over `items` (in queue order), starting at the first
    /// pending item, or the first item.
    pub fn new(policy: Policy, items: Vec<Item>, theme: Theme, graphics: Graphics) -> App {
        let mut app = App {
            policy,
            reviewer: None,
            sealer: None,
            clock: Clock::System,
            theme,
            graphics,
            items,
            problems: Vec::new(),
            filter: None,
            current: None,
            selected: None,
            focus: Focus::Image,
            overlay: Overlay::None,
            zoom_pct: 100,
            centre: (0.0, 0.0),
            screen: (120, 36),
            images: HashMap::new(),
            frame: None,
            preview: None,
            status: None,
            reason_flag: None,
            ten_step: false,
            light: false,
            folds: layout::Folds::default(),
            history: HashMap::new(),
            coverage: HashMap::new(),
            places: HashMap::new(),
            edit_run: None,
            read_only: None,
            quit: false,
        };
        let start = app
            .items
            .iter()
            .position(|i| matches!(i.state, ItemState::Pending | ItemState::Ready))
            .or(if app.items.is_empty() { None } else { Some(0) });
        app.go_to(start);
        app
    }

    /// The item on screen.
    pub fn item(&self) -> Option<&Item> {
        self.current.and_then(|i| self.items.get(i))
    }

    pub(crate) fn item_mut(&mut self) -> Option<&mut Item> {
        self.current.and_then(|i| self.items.get_mut(i))
    }

    /// Indices of the items the filter shows.
    pub(crate) fn visible(&self) -> Vec<usize> {
        self.items
            .iter()
            .enumerate()
            .filter(|(_, it)| self.filter.is_none_or(|f| it.state == f))
            .map(|(i, _)| i)
            .collect()
    }

    /// Show item `index` (or nothing), resuming where the operator left it.
    pub(crate) fn go_to(&mut self, index: Option<usize>) {
        self.remember_place();
        self.current = index.filter(|i| *i < self.items.len());
        self.edit_run = None;
        let Some(item) = self.item() else {
            self.selected = None;
            return;
        };
        let (w, h) = item.oriented_size();
        let first = item.masks.first().map(|m| m.id);
        let place = self.places.get(&item.id).copied();
        self.selected = first;
        match place {
            Some(p) => {
                self.zoom_pct = p.zoom_pct;
                self.centre = p.centre;
            }
            None => {
                self.zoom_pct = 100;
                self.centre = (w as f64 / 2.0, h as f64 / 2.0);
            }
        }
    }

    fn remember_place(&mut self) {
        if let Some(id) = self.item().map(|i| i.id.clone()) {
            self.places.insert(
                id,
                Place {
                    zoom_pct: self.zoom_pct,
                    centre: self.centre,
                },
            );
        }
    }

    /// The screen areas for the current terminal size.
    pub fn panes(&self) -> layout::Panes {
        layout::layout(Area::new(0, 0, self.screen.0, self.screen.1), self.folds)
    }

    /// The cells the picture fills: the image pane, or less when the
    /// terminal cannot show an image that large (see [`Self::image_limited`]).
    pub(crate) fn image_cells(&self) -> (u16, u16) {
        let a = self.panes().image;
        let (w, h) = self.graphics.fit_cells((a.width, a.height));
        if self.light_pictures() {
            (w.div_ceil(2), h.div_ceil(2))
        } else {
            (w, h)
        }
    }

    /// Whether pictures are held to half the pane (`g`): never half-blocks,
    /// which are text.
    pub(crate) fn light_pictures(&self) -> bool {
        self.light && self.graphics.protocol != ProtocolType::Halfblocks
    }

    /// The picture to show in the image pane: one of the current item at
    /// the pane's size (an older view of it while the newest is made).
    pub fn picture(&self) -> Option<&Picture> {
        let item = self.item()?;
        self.frame.as_ref().filter(|pic| {
            pic.request.item_id == item.id
                && pic.request.cells == self.image_cells()
                && item.state != ItemState::Failed
        })
    }

    /// Where the picture goes, in cells: the image pane, or its centre
    /// when a terminal's sixel limit holds the picture smaller.
    pub(crate) fn picture_area(&self) -> Area {
        let (w, h) = self.image_cells();
        layout::centred(self.panes().image, w, h)
    }

    /// The terminal's sixel limit when it makes the picture smaller than
    /// the pane, in pixels.
    pub(crate) fn image_limited(&self) -> Option<(u32, u32)> {
        let a = self.panes().image;
        (self.graphics.fit_cells((a.width, a.height)) != (a.width, a.height))
            .then_some(self.graphics.max_sixel)
            .flatten()
    }

    /// The image pane's size in device pixels.
    pub fn pane_pixels(&self) -> (u32, u32) {
        self.graphics.pane_pixels(self.image_cells())
    }

    /// True when the current item has pixels to show.
    pub(crate) fn has_image(&self) -> bool {
        self.item()
            .is_some_and(|i| i.state != ItemState::Failed && i.width > 0 && i.height > 0)
    }

    /// What the image pane shows now.
    pub fn viewport(&self) -> Option<Viewport> {
        let (cols, rows) = self.image_cells();
        if !self.has_image() || cols == 0 || rows == 0 {
            return None;
        }
        let item = self.item()?;
        Some(geometry::viewport(
            item.oriented_size(),
            self.pane_pixels(),
            self.zoom_pct,
            self.centre,
        ))
    }

    /// The picture the image pane should show now.
    pub(crate) fn frame_request(&self) -> Option<FrameRequest> {
        let item = self.item()?;
        let viewport = self.viewport()?;
        Some(FrameRequest {
            item_id: item.id.clone(),
            viewport,
            cells: self.image_cells(),
            masks: item.masks.iter().map(MaskOutline::from).collect(),
            selected: self.selected,
            graphics: self.graphics,
        })
    }

    /// The selected mask.
    pub(crate) fn selected_mask(&self) -> Option<&Mask> {
        let id = self.selected?;
        self.item()?.masks.iter().find(|m| m.id == id)
    }

    /// Every gate's verdict for the current item: the one gate decision.
    pub fn gate_report(&self) -> Option<GateReport> {
        self.item()
            .map(|it| gates::evaluate(it, &self.policy, &GateContext::default()))
    }

    /// On a first run (nothing in the queue decided yet), say on the status
    /// line where to start; the checklist says the rest.
    pub fn greet_first_run(&mut self) {
        let undecided = |s: ItemState| matches!(s, ItemState::Pending | ItemState::Failed);
        if self.status.is_none()
            && !self.items.is_empty()
            && self.items.iter().all(|i| undecided(i.state))
        {
            self.status = Some(Status {
                text: "First time? The checklist says what is left: m preview · 1 2 3 attest · A approve · ? keys".into(),
                tone: Tone::Info,
            });
        }
    }

    /// Why the item on screen is read-only here (another session has it).
    pub fn locked_out(&self) -> Option<&str> {
        let r = self.read_only.as_ref()?;
        (self.item()?.id == r.item_id).then_some(r.reason.as_str())
    }

    /// Evidence can be recorded while a decision is still open (by the
    /// session holding the item).
    pub(crate) fn recording(&self) -> bool {
        self.locked_out().is_none() && self.item().is_some_and(|i| i.state.is_open())
    }

    /// The cells the mobile preview is drawn in.
    pub(crate) fn preview_cells(&self) -> (u16, u16) {
        let a = layout::preview_area(Area::new(0, 0, self.screen.0, self.screen.1));
        (a.width, a.height)
    }

    /// Position of the current item among those the filter shows (1-based) and their count.
    pub fn position(&self) -> (usize, usize) {
        let vis = self.visible();
        let n = self
            .current
            .and_then(|c| vis.iter().position(|i| *i == c))
            .map_or(0, |p| p + 1);
        (n, vis.len())
    }
}
