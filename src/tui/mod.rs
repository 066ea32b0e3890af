//! The review station (`veil review`): a keyboard TUI in the Elm
//! architecture. [`app::App`] is the state, [`action::Action`] what the
//! operator can ask for (one table maps keys and generates the help),
//! [`update::update`] the only place state changes (it returns effects
//! instead of doing I/O), and [`view::view`] a pure drawing of the state.
//!
//! The runtime here connects them to the terminal, the image worker
//! thread and the workspace ([`services`]).

pub mod action;
pub mod app;
pub mod geometry;
pub mod image;
pub mod layout;
pub mod pane;
pub mod services;
pub mod sixel;
pub mod terminal;
#[doc(hidden)]
pub mod testing;
#[cfg(test)]
mod tests;
pub mod theme;
pub mod tmux;
pub mod update;
pub mod view;
pub mod worker;

use crate::cli::ReviewArgs;
use crate::workspace::Workspace;
use anyhow::Context;
use app::{App, Overlay, Status, Tone};
use crossterm::event::{self, Event};
use serde::{Deserialize, Serialize};
use services::{LiveServices, Services};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use update::{Effect, Msg, msg_for_key, update};
use worker::{Job, Source, Worker};

/// Where the operator was when they last quit (`cache/review.json`).
#[derive(Debug, Serialize, Deserialize)]
struct Resume {
    item: String,
    zoom_pct: u32,
    centre: (f64, f64),
}

const RESUME_FILE: &str = "review.json";

/// Open the review station on `ws` until the operator quits.
pub(crate) fn run_review(ws: &Workspace, args: &ReviewArgs) -> anyhow::Result<()> {
    let theme = theme::Theme::choose(
        args.theme.as_deref(),
        theme::no_color_requested(),
        &ws.policy.review.theme,
    )?;
    let (items, problems) = ws
        .items()
        .with_context(|| format!("reading the items in {}", ws.root().display()))?;
    let start = match &args.id {
        Some(prefix) => Some(ws.resolve_id(prefix)?),
        None => None,
    };
    let reviewer = crate::admin::reviewer_for(ws).map_err(|e| e.to_string());
    let mut app = App::new(
        ws.policy.clone(),
        items,
        theme,
        image::Graphics::halfblocks(),
    );
    app.reviewer = reviewer.as_ref().ok().map(|r| r.name.clone());
    app.sealer = reviewer.as_ref().ok().cloned().map(app::Sealer::with);
    app.problems = problems
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    resume(&mut app, ws, start.as_deref());
    let mut notes = Vec::new();
    if let Err(e) = &reviewer {
        notes.push(format!(
            "{e}; until then you can look, but not attest or decide"
        ));
    }
    if !app.problems.is_empty() {
        notes.push(format!(
            "{} item file(s) could not be read (veil list shows them)",
            app.problems.len()
        ));
    }
    let services: Arc<dyn Services> = Arc::new(LiveServices::new(ws.clone(), reviewer));
    let worker = Worker::start(ws.policy.clone(), services.clone())
        .context("starting the image worker thread")?;

    let mut session = terminal::Session::enter().context("setting up the terminal")?;
    let (graphics, note) = terminal::pick_graphics(args.graphics);
    app.graphics = graphics;
    notes.extend(note);
    if let Some(first) = notes.into_iter().next() {
        app.status = Some(Status {
            text: first,
            tone: Tone::Bad,
        });
    }
    app.greet_first_run();
    let size = session
        .terminal
        .size()
        .context("reading the terminal size")?;
    update(&mut app, Msg::Resized(size.width, size.height));

    let stop = Arc::new(StopSignals::register().context("setting up signal handling")?);
    let watchdog = Watchdog::start(stop.clone());
    let result = event_loop(
        &mut session,
        &mut app,
        &worker,
        services.as_ref(),
        &stop,
        &watchdog,
    );
    watchdog.finish();
    drop(session);
    remember(&app, ws);
    result
}

/// Ends the process when the review cannot end itself. Once its terminal is
/// gone (the SSH connection or the terminal window closed), crossterm's
/// event reader spins at 100 % CPU inside `event::poll` and never returns
/// (crossterm issue 793), so the event loop never sees the hangup or the
/// `SIGHUP` that came with it, and the item lock would be held forever.
/// While the loop waits for a key (never during a save or an approval),
/// a terminal that hung up, or a stop signal not acted on within a second,
/// ends the process: every change is already saved, and the OS releases
/// the item lock.
struct Watchdog {
    waiting_for_key: Arc<AtomicBool>,
    finished: Arc<AtomicBool>,
}

impl Watchdog {
    const TICK: Duration = Duration::from_millis(100);
    /// Ticks of a stuck wait for a key before the process is ended.
    const PATIENCE: u32 = 10;

    fn start(stop: Arc<StopSignals>) -> Watchdog {
        let waiting_for_key = Arc::new(AtomicBool::new(false));
        let finished = Arc::new(AtomicBool::new(false));
        let (waiting, done) = (waiting_for_key.clone(), finished.clone());
        // Which of standard input and output are the terminal, asked now:
        // once it hangs up, isatty fails on it too.
        let ttys: Vec<i32> = [0, 1]
            .into_iter()
            // SAFETY: isatty only reads the descriptor's state.
            .filter(|fd| unsafe { libc::isatty(*fd) } == 1)
            .collect();
        // Without the thread (the OS refused one) the review still works;
        // only this rescue is missing.
        let _ = std::thread::Builder::new()
            .name("veil-watchdog".into())
            .spawn(move || {
                let mut stuck = 0;
                while !done.load(Ordering::Acquire) {
                    std::thread::sleep(Self::TICK);
                    let reason = if terminal_hung_up(&ttys) {
                        Some("the terminal closed")
                    } else {
                        stop.received()
                    };
                    stuck = match reason {
                        Some(_) if waiting.load(Ordering::Acquire) => stuck + 1,
                        _ => 0,
                    };
                    if let Some(reason) = reason.filter(|_| stuck >= Self::PATIENCE) {
                        // stderr may be the terminal that is gone.
                        let _ = writeln!(
                            std::io::stderr(),
                            "veil: review ended ({reason}); every change was already saved"
                        );
                        std::process::exit(1);
                    }
                }
            });
        Watchdog {
            waiting_for_key,
            finished,
        }
    }

    /// Around the wait for a key: only there may the process be ended.
    fn waiting(&self, yes: bool) {
        self.waiting_for_key.store(yes, Ordering::Release);
    }

    fn finish(&self) {
        self.finished.store(true, Ordering::Release);
    }
}

/// One of `ttys` (descriptors that were the terminal) has hung up. Asks
/// without reading, so no key is taken from the event loop.
fn terminal_hung_up(ttys: &[i32]) -> bool {
    let mut fds: Vec<libc::pollfd> = ttys
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: 0,
            revents: 0,
        })
        .collect();
    // SAFETY: `fds` is a valid array of `fds.len()` pollfd structs that
    // lives across the call; a zero timeout never blocks.
    let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 0) };
    ready > 0
        && fds
            .iter()
            .any(|p| p.revents & (libc::POLLHUP | libc::POLLERR) != 0)
}

/// `SIGTERM`, `SIGHUP` (the SSH connection dropped) and `SIGINT` (sent by
/// `kill`; in raw mode Ctrl-C is a key) end the review the way `q` does:
/// pending saves run, the terminal is given back, the place is remembered
/// and the item lock released. A second signal while that happens ends the
/// process at once.
struct StopSignals {
    received: Arc<AtomicUsize>,
}

impl StopSignals {
    const SIGNALS: [i32; 3] = [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGINT,
    ];

    fn register() -> std::io::Result<StopSignals> {
        let received = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(AtomicBool::new(false));
        for signal in Self::SIGNALS {
            // Order matters: the shutdown check runs before the flag is set,
            // so only a second signal exits at once.
            signal_hook::flag::register_conditional_shutdown(signal, 1, seen.clone())?;
            signal_hook::flag::register(signal, seen.clone())?;
            signal_hook::flag::register_usize(signal, received.clone(), signal as usize)?;
        }
        Ok(StopSignals { received })
    }

    /// The signal's name, once one has arrived.
    fn received(&self) -> Option<&'static str> {
        match self.received.load(Ordering::Relaxed) as i32 {
            0 => None,
            signal_hook::consts::SIGTERM => Some("SIGTERM"),
            signal_hook::consts::SIGHUP => Some("SIGHUP"),
            signal_hook::consts::SIGINT => Some("SIGINT"),
            _ => Some("a signal"),
        }
    }
}

/// Start where asked, else where the operator last was.
fn resume(app: &mut App, ws: &Workspace, start: Option<&str>) {
    let saved: Option<Resume> = std::fs::read(ws.cache_dir().join(RESUME_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let wanted = start
        .map(str::to_string)
        .or(saved.as_ref().map(|r| r.item.clone()));
    let Some(id) = wanted else { return };
    let Some(index) = app.items.iter().position(|i| i.id == id) else {
        return;
    };
    if let Some(r) = saved.filter(|r| r.item == id && start.is_none()) {
        app.places.insert(
            id,
            app::Place {
                zoom_pct: r.zoom_pct,
                centre: r.centre,
            },
        );
    }
    app.go_to(Some(index));
}

/// Best effort: `cache/` is disposable.
fn remember(app: &App, ws: &Workspace) {
    if let Some(item) = app.item() {
        let r = Resume {
            item: item.id.clone(),
            zoom_pct: app.zoom_pct,
            centre: app.centre,
        };
        if let Ok(json) = serde_json::to_vec(&r) {
            let _ = crate::workspace::write_atomic(&ws.cache_dir().join(RESUME_FILE), &json);
        }
    }
}

fn event_loop(
    session: &mut terminal::Session,
    app: &mut App,
    worker: &Worker,
    services: &dyn Services,
    stop: &StopSignals,
    watchdog: &Watchdog,
) -> anyhow::Result<()> {
    let mut sent_frame = None;
    let mut prefetched_for: Option<String> = None;
    let mut opened_for: Option<String> = None;
    let mut dirty = true;
    let mut last_overlay = app.overlay.clone();
    let mut pending: Vec<Effect> = Vec::new();
    let mut pane = pane::PaneWriter::default();
    let mut link = SlowLink::default();
    let mut outer = outer_terminal(app.graphics);
    loop {
        let current_id = app.item().map(|i| i.id.clone());
        if current_id != opened_for {
            // Hold the item on screen (or nothing) and show it as saved.
            match &current_id {
                Some(id) => {
                    let o = services.open_item(id);
                    pending.extend(update(
                        app,
                        Msg::Opened {
                            item_id: id.clone(),
                            item: o.item.map(Box::new),
                            read_only: o.read_only,
                        },
                    ));
                }
                None => services.close_item(),
            }
            opened_for = current_id.clone();
            dirty = true;
        }
        // Ask for the picture the pane should show, once per distinct view.
        let request = app.frame_request();
        if request != sent_frame {
            if let (Some(req), Some(item)) = (&request, app.item()) {
                worker.send(Job::Frame(Source::of(item), req.clone()));
            }
            sent_frame = request;
        }
        let current_id = app.item().map(|i| i.id.clone());
        if current_id != prefetched_for {
            prefetch_neighbours(app, worker);
            prefetched_for = current_id;
        }
        if app.overlay != last_overlay {
            // Text drawn over a picture erases it. The pane writer puts
            // back what an overlay covered when it goes; ratatui-image's
            // pictures are drawn whole, after a full redraw.
            let closed =
                matches!(app.overlay, Overlay::None) || matches!(last_overlay, Overlay::Preview);
            if closed && !app.graphics.by_pane_writer() {
                session.terminal.clear().context("redrawing the screen")?;
                pane.forget();
            }
            last_overlay = app.overlay.clone();
            dirty = true;
        }
        if dirty {
            let drain = draw(session, app, &mut pane, outer).context("drawing the screen")?;
            if let Some(note) = link.after(drain, app.light, Instant::now()) {
                app.status = Some(Status {
                    text: note,
                    tone: Tone::Bad,
                });
                draw(session, app, &mut pane, outer).context("drawing the screen")?;
            }
            dirty = false;
        }
        // Effects run after the frame is drawn, so "approving…" is visible
        // while the ledger is written.
        for effect in std::mem::take(&mut pending) {
            run_effect(effect, app, worker, services, &mut pending);
            dirty = true;
        }
        if app.quit {
            return Ok(());
        }
        if !pending.is_empty() {
            continue;
        }
        if let Some(signal) = stop.received() {
            anyhow::bail!("review stopped by {signal}; every change was already saved");
        }
        watchdog.waiting(true);
        let key_ready = event::poll(Duration::from_millis(40));
        watchdog.waiting(false);
        let mut ready = key_ready.context("reading the keyboard")?;
        // Every key already typed is taken before the next frame, so a
        // burst (ten quick nudges over a slow link) is drawn once, as it
        // ends; a decision's effects still run before the next key.
        while ready {
            let msg = match event::read().context("reading the keyboard")? {
                Event::Key(k) => msg_for_key(app, &k),
                Event::Resize(w, h) => {
                    session.terminal.clear().context("redrawing the screen")?;
                    pane.forget();
                    outer = outer_terminal(app.graphics);
                    Some(Msg::Resized(w, h))
                }
                _ => None,
            };
            if let Some(msg) = msg {
                pending.extend(update(app, msg));
                dirty = true;
            }
            ready = pending.iter().all(|e| matches!(e, Effect::Save(_)))
                && !app.quit
                && event::poll(Duration::ZERO).context("reading the keyboard")?;
        }
        while let Ok(msg) = worker.results.try_recv() {
            pending.extend(update(app, msg));
            dirty = true;
        }
    }
}

/// A picture update this large waits for the terminal to draw it.
const ROUND_TRIP_BYTES: usize = 16 * 1024;

/// Draw the frame, then bring the picture up to date: on sixel, only the
/// cells whose pixels changed or that text no longer covers. What was
/// written and how long the terminal took to take it.
fn draw(
    session: &mut terminal::Session,
    app: &App,
    pane: &mut pane::PaneWriter,
    outer: pane::Outer,
) -> std::io::Result<terminal::Drain> {
    let t = &mut session.terminal;
    let buf = t.draw(|f| view::view(f, app))?.buffer.clone();
    let repaint: Vec<(u16, u16, ratatui::buffer::Cell)> = pane
        .uncovered_text(&buf)
        .into_iter()
        .map(|(x, y, c)| (x, y, c.clone()))
        .collect();
    let backend = t.backend_mut();
    if !repaint.is_empty() {
        ratatui::backend::Backend::draw(backend, repaint.iter().map(|(x, y, c)| (*x, *y, c)))?;
    }
    let picture = app.picture().and_then(|p| match &p.drawn {
        image::Drawn::Pane(q) => Some((q, app.picture_area())),
        image::Drawn::Widget(_) => None,
    });
    let update = pane.update(&buf, picture, app.graphics.cell_pixels(), outer);
    backend.write_all(&update.bytes)?;
    backend.flush()?;
    let mut drain = session.drain.take();
    if update.bytes.len() >= ROUND_TRIP_BYTES {
        // Until the terminal has drawn it: keys typed meanwhile are taken
        // together, and a slow link is seen however much it buffers.
        if let Some(took) = terminal::round_trip() {
            drain.waited = drain.waited.max(took);
        }
    }
    Ok(drain)
}

/// Where pictures are placed: inside tmux, relative to its pane's place
/// on the outer terminal (the top-left when tmux does not say).
fn outer_terminal(g: image::Graphics) -> pane::Outer {
    if !g.tmux {
        return pane::Outer::Direct;
    }
    let (top, left) = terminal::tmux_pane_origin().unwrap_or((0, 0));
    pane::Outer::Tmux { top, left }
}

/// Notices a terminal that takes pictures slowly (a slow SSH link) and
/// says so, at most once a minute, offering the lighter pictures.
#[derive(Default)]
struct SlowLink {
    said: Option<Instant>,
}

impl SlowLink {
    /// A frame that kept the station waiting this long is slow.
    const SLOW: Duration = Duration::from_millis(700);
    const QUIET: Duration = Duration::from_secs(60);

    fn after(&mut self, d: terminal::Drain, light: bool, now: Instant) -> Option<String> {
        if d.waited < Self::SLOW || self.said.is_some_and(|t| now - t < Self::QUIET) {
            return None;
        }
        self.said = Some(now);
        let secs = d.waited.as_secs_f64();
        let kb = d.bytes.div_ceil(1024);
        // The terminal's answer comes within two seconds or not at all.
        let took = if d.waited >= terminal::ROUND_TRIP_LIMIT {
            format!("over {secs:.0} s to send ({kb} KB)")
        } else {
            let rate = d.bytes as f64 / secs.max(0.001) / 1024.0;
            format!("{secs:.1} s to send ({kb} KB, about {rate:.0} KB/s)")
        };
        let offer = if light {
            "--graphics halfblocks sends only the cells that change"
        } else {
            "g for lighter pictures"
        };
        Some(format!("slow link: the last picture took {took}; {offer}"))
    }
}

fn prefetch_neighbours(app: &App, worker: &Worker) {
    let vis = app.visible();
    let Some(pos) = app.current.and_then(|c| vis.iter().position(|i| *i == c)) else {
        return;
    };
    let neighbours = [pos.checked_add(1), pos.checked_sub(1)];
    for n in neighbours.into_iter().flatten() {
        if let Some(item) = vis.get(n).and_then(|i| app.items.get(*i))
            && item.state != crate::item::ItemState::Failed
        {
            worker.send(Job::Prefetch(Source::of(item)));
        }
    }
}

fn run_effect(
    effect: Effect,
    app: &mut App,
    worker: &Worker,
    services: &dyn Services,
    pending: &mut Vec<Effect>,
) {
    let msg = match effect {
        Effect::Save(item) => match services.save_item(&item) {
            Ok(()) => return,
            Err(error) => Msg::SaveFailed {
                item_id: item.id.clone(),
                error,
            },
        },
        Effect::Approve { item_id, attest } => {
            let outcome = services.approve(&item_id, &attest);
            let item = services.load_item(&item_id).ok().map(Box::new);
            Msg::Approved {
                item_id,
                outcome,
                item,
            }
        }
        Effect::Reject { item_id, reason } => {
            let outcome = services.reject(&item_id, &reason);
            let item = services.load_item(&item_id).ok().map(Box::new);
            Msg::Rejected {
                item_id,
                outcome,
                item,
            }
        }
        Effect::RenderPreview { item, cells } => {
            worker.send(Job::Preview {
                item,
                cells,
                graphics: app.graphics,
            });
            return;
        }
    };
    pending.extend(update(app, msg));
}

#[cfg(test)]
mod link_tests {
    use super::*;

    fn drain(ms: u64, bytes: usize) -> terminal::Drain {
        terminal::Drain {
            bytes,
            waited: Duration::from_millis(ms),
        }
    }

    #[test]
    fn a_slow_picture_is_named_once_a_minute_with_the_lighter_mode_offered() {
        let mut link = SlowLink::default();
        let t0 = Instant::now();
        assert_eq!(link.after(drain(300, 400_000), false, t0), None);
        let said = link.after(drain(1600, 400_000), false, t0).expect("slow");
        assert!(
            said.contains("1.6 s to send (391 KB, about 244 KB/s)"),
            "{said}"
        );
        assert!(said.ends_with("g for lighter pictures"), "{said}");
        assert_eq!(
            link.after(drain(1600, 400_000), false, t0 + Duration::from_secs(30)),
            None
        );
        let again = link
            .after(drain(2000, 500_000), true, t0 + Duration::from_secs(61))
            .expect("slow again");
        assert!(again.contains("over 2 s to send (489 KB)"), "{again}");
        assert!(again.contains("--graphics halfblocks"), "{again}");
    }
}
