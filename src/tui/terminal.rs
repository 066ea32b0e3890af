//! The terminal: raw mode and the alternate screen, always restored (on
//! quit, on error, on panic), and which graphics protocol to draw with.

use super::image::Graphics;
use crate::cli::GraphicsChoice;
use crossterm::{cursor, execute, terminal};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui_image::picker::{Picker, ProtocolType};
use std::io::{self, Write, stdout};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

pub type Term = Terminal<CrosstermBackend<TtyOut>>;

/// The terminal's output: buffered, written whole even when the terminal
/// cannot take it as fast (a slow SSH link fills the kernel's buffer, and
/// the descriptor is non-blocking, see [`keys_without_blocking`]), and
/// timed, so the station can tell when pictures drain slowly.
#[derive(Default)]
pub struct TtyOut {
    pending: Vec<u8>,
    drain: Arc<Mutex<Drain>>,
}

/// How the writes since last asked drained: bytes, and the time spent
/// waiting for the terminal to take them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Drain {
    pub bytes: usize,
    pub waited: Duration,
}

/// Reads what a [`TtyOut`] drained (the backend owns the writer).
#[derive(Clone, Default)]
pub struct DrainGauge(Arc<Mutex<Drain>>);

impl DrainGauge {
    /// What was written, and how long the terminal took, since last asked.
    pub fn take(&self) -> Drain {
        self.0
            .lock()
            .map(|mut d| std::mem::take(&mut *d))
            .unwrap_or_default()
    }
}

impl TtyOut {
    fn record(&self, bytes: usize, waited: Duration) {
        if let Ok(mut d) = self.drain.lock() {
            d.bytes += bytes;
            d.waited += waited;
        }
    }
}

impl Write for TtyOut {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if self.pending.len() >= 1 << 16 {
            self.flush()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let mut done = 0;
        let mut waited = Duration::ZERO;
        while done < self.pending.len() {
            let rest = &self.pending[done..];
            // SAFETY: writes at most `rest.len()` bytes from `rest`.
            let n = unsafe { libc::write(1, rest.as_ptr().cast(), rest.len()) };
            let e = match usize::try_from(n) {
                Ok(0) => io::Error::from(io::ErrorKind::WriteZero),
                Ok(n) => {
                    done += n;
                    continue;
                }
                Err(_) => io::Error::last_os_error(),
            };
            match e.kind() {
                io::ErrorKind::Interrupted => {}
                io::ErrorKind::WouldBlock => {
                    let started = Instant::now();
                    let mut pfd = libc::pollfd {
                        fd: 1,
                        events: libc::POLLOUT,
                        revents: 0,
                    };
                    // SAFETY: one valid pollfd; waits until writable.
                    unsafe { libc::poll(&mut pfd, 1, 1000) };
                    waited += started.elapsed();
                }
                _ => {
                    self.pending.drain(..done);
                    self.record(done, waited);
                    return Err(e);
                }
            }
        }
        self.record(done, waited);
        self.pending.clear();
        Ok(())
    }
}

/// The terminal in raw mode on the alternate screen; restored when dropped.
pub struct Session {
    pub terminal: Term,
    /// How the terminal takes what is written to it.
    pub drain: DrainGauge,
}

impl Session {
    /// Take over the terminal.
    pub(crate) fn enter() -> io::Result<Session> {
        install_panic_hook();
        terminal::enable_raw_mode()?;
        let out = TtyOut::default();
        let drain = DrainGauge(out.drain.clone());
        let entered = execute!(stdout(), terminal::EnterAlternateScreen, cursor::Hide)
            .and_then(|_| Terminal::new(CrosstermBackend::new(out)));
        match entered {
            Ok(terminal) => Ok(Session { terminal, drain }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        restore();
    }
}

/// The keyboard's file status flags before [`keys_without_blocking`], to
/// put back on the way out (the shell shares the descriptor).
static STDIN_FLAGS: AtomicI32 = AtomicI32::new(-1);

/// Make reading the keyboard never block. crossterm reads the terminal
/// until it has a whole event or would block; on a blocking descriptor a
/// terminal's answer that makes no event (a late status report, an answer
/// to a query it does not know) leaves it waiting for the next key, with no
/// picture drawn meanwhile. Call after the start-up queries. The keyboard
/// and the screen are usually one open terminal, so output becomes
/// non-blocking too: [`TtyOut`] waits for it.
fn keys_without_blocking() {
    // SAFETY: fcntl on descriptor 0 with F_GETFL/F_SETFL has no memory effects.
    unsafe {
        let flags = libc::fcntl(0, libc::F_GETFL);
        if flags >= 0 && flags & libc::O_NONBLOCK == 0 {
            let _ = STDIN_FLAGS.compare_exchange(-1, flags, Ordering::SeqCst, Ordering::SeqCst);
            libc::fcntl(0, libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
    }
}

/// How long crossterm waits for the cursor position before giving up.
pub(crate) const ROUND_TRIP_LIMIT: Duration = Duration::from_secs(2);

/// Wait until the terminal has drawn everything written so far: ask where
/// its cursor is, which it answers only after the output before the
/// question. Over SSH the kernel and the network buffer hundreds of
/// kilobytes, so a write returns long before the picture is shown; this is
/// the time the operator actually waits: at least [`ROUND_TRIP_LIMIT`] when
/// crossterm gave up waiting, `None` when asking failed at once.
pub(crate) fn round_trip() -> Option<Duration> {
    let started = Instant::now();
    // crossterm writes the question through std's stdout, which does not
    // wait for a non-blocking terminal: block for the question and answer.
    let flags = STDIN_FLAGS.load(Ordering::SeqCst);
    if flags >= 0 {
        // SAFETY: fcntl on descriptor 0 with F_SETFL has no memory effects.
        unsafe { libc::fcntl(0, libc::F_SETFL, flags) };
    }
    let answered = crossterm::cursor::position().is_ok();
    if flags >= 0 {
        // SAFETY: as above.
        unsafe { libc::fcntl(0, libc::F_SETFL, flags | libc::O_NONBLOCK) };
    }
    let took = started.elapsed();
    (answered || took >= ROUND_TRIP_LIMIT).then_some(took)
}

/// Give the terminal back as it was. Safe to call more than once.
pub(crate) fn restore() {
    let flags = STDIN_FLAGS.swap(-1, Ordering::SeqCst);
    if flags >= 0 {
        // SAFETY: as in `keys_without_blocking`.
        unsafe {
            libc::fcntl(0, libc::F_SETFL, flags);
        }
    }
    let _ = terminal::disable_raw_mode();
    let _ = execute!(stdout(), terminal::LeaveAlternateScreen, cursor::Show);
}

/// On panic, restore the terminal before the message is printed, so the
/// message is readable and the shell usable.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// Decide how to draw images. `auto` asks the terminal (ratatui-image's
/// query, which gives up after two seconds and falls back to half-blocks);
/// a forced protocol still asks for the cell size in pixels. Call after
/// [`Session::enter`] and before reading any key.
pub(crate) fn pick_graphics(choice: GraphicsChoice) -> (Graphics, Option<String>) {
    let picked = pick_graphics_blocking(choice);
    keys_without_blocking();
    picked
}

fn pick_graphics_blocking(choice: GraphicsChoice) -> (Graphics, Option<String>) {
    let tmux = inside_tmux();
    if choice == GraphicsChoice::Halfblocks {
        return (
            Graphics {
                tmux,
                ..Graphics::halfblocks()
            },
            None,
        );
    }
    let forced = match choice {
        GraphicsChoice::Sixel => Some(ProtocolType::Sixel),
        GraphicsChoice::Kitty => Some(ProtocolType::Kitty),
        GraphicsChoice::Iterm2 => Some(ProtocolType::Iterm2),
        GraphicsChoice::Auto | GraphicsChoice::Halfblocks => None,
    };
    // Ours first: ratatui-image's query may leave a reader thread behind.
    let answers = query_terminal(tmux, Duration::from_millis(1500));
    let picked = Picker::from_query_stdio();
    release_query_reader();
    let (mut g, mut note) = match picked {
        Ok(p) => {
            let font = p.font_size();
            let protocol = forced.unwrap_or(p.protocol_type());
            let note = (forced.is_none() && protocol == ProtocolType::Halfblocks).then(|| {
                "no image protocol detected: half-blocks (try --graphics sixel or kitty)"
                    .to_string()
            });
            (
                Graphics {
                    protocol,
                    font: (font.width.max(1), font.height.max(1)),
                    tmux: tmux || p.tmux_detected(),
                    max_sixel: None,
                    kitty_direct: false,
                },
                note,
            )
        }
        Err(e) => fallback_graphics(forced, tmux, &e),
    };
    g.max_sixel = answers.max_sixel;
    g.kitty_direct = g.protocol == ProtocolType::Kitty
        && !g.tmux
        && answers.version.as_deref().is_some_and(is_kitty);
    if g.protocol == ProtocolType::Kitty
        && !g.kitty_direct
        && let Some(v) = answers.version.as_deref()
        && let Some(old) = kitty_without_placeholders(v)
    {
        g.protocol = ProtocolType::Halfblocks;
        note = Some(format!(
            "{old} draws no image placements by placeholder (kitty 0.28 or newer does): half-blocks"
        ));
    }
    (g, note)
}

/// What the terminal said of itself.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Answers {
    /// Its name and version (XTVERSION), e.g. `kitty(0.26.5)`, `XTerm(379)`.
    pub version: Option<String>,
    /// The largest sixel image it shows (XTSMGRAPHICS), in pixels.
    pub max_sixel: Option<(u32, u32)>,
}

/// Ask the terminal its name and version and its largest sixel image, and
/// wait (at most `wait`) for the status report sent after them, which
/// every terminal answers. Runs in raw mode, before any key is read.
fn query_terminal(tmux: bool, wait: Duration) -> Answers {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    // Inside tmux, XTVERSION is answered by tmux itself; the sixel limit is
    // the outer terminal's, so that query passes through.
    let geometry = "\x1b[?2;1;0S";
    let geometry = if tmux {
        super::tmux::passthrough(geometry)
    } else {
        geometry.to_string()
    };
    let mut out = stdout();
    if out
        .write_all(format!("\x1b[>0q{geometry}\x1b[5n").as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        return Answers::default();
    }
    let stdin = io::stdin();
    let fd = stdin.as_raw_fd();
    let start = Instant::now();
    let mut got = Vec::new();
    while !got.windows(4).any(|w| w == b"\x1b[0n") {
        let Some(left) = wait.checked_sub(start.elapsed()) else {
            break;
        };
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = i32::try_from(left.as_millis()).unwrap_or(i32::MAX);
        // SAFETY: one valid pollfd, its count, and a timeout.
        if unsafe { libc::poll(&mut pfd, 1, ms) } <= 0 {
            break;
        }
        // Straight from the descriptor: std's buffered stdin would keep
        // bytes past the answer where the event reader never sees them.
        let mut buf = [0u8; 256];
        // SAFETY: reads at most `buf.len()` bytes into `buf`.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        match usize::try_from(n) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
        if got.len() > 4096 {
            break;
        }
    }
    parse_answers(&got)
}

/// The answers in `bytes`: `DCS > | text ST` and `CSI ? 2 ; 0 ; w ; h S`.
pub(crate) fn parse_answers(bytes: &[u8]) -> Answers {
    let text = String::from_utf8_lossy(bytes);
    let version = text.split("\x1bP>|").nth(1).and_then(|rest| {
        let end = rest.find("\x1b\\")?;
        Some(crate::text::printable(&rest[..end], 80))
    });
    let max_sixel = text.split("\x1b[?2;").skip(1).find_map(|rest| {
        let body = &rest[..rest.find('S')?];
        let fields: Vec<u32> = body
            .split(';')
            .map(|f| f.parse().ok())
            .collect::<Option<_>>()?;
        match fields[..] {
            [0, w, h] if w > 0 && h > 0 => Some((w, h)),
            _ => None,
        }
    });
    Answers { version, max_sixel }
}

/// Whether the terminal is kitty itself (its XTVERSION answer), which edits
/// a placed picture in place (`a=f`, kitty 0.20 and newer); other terminals
/// that speak its graphics protocol may not.
pub(crate) fn is_kitty(version: &str) -> bool {
    version.starts_with("kitty(")
}

/// `kitty(0.26.5)` when that kitty is older than 0.28, which first placed
/// images by unicode placeholder (what ratatui-image draws kitty images
/// with; an older kitty shows the placeholders as boxes).
pub(crate) fn kitty_without_placeholders(version: &str) -> Option<&str> {
    let inner = version.strip_prefix("kitty(")?.strip_suffix(')')?;
    let mut parts = inner.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next()?, parts.next().unwrap_or(0));
    ((major, minor) < (0, 28)).then_some(version)
}

/// ratatui-image's query reads the answers on a thread of its own; when
/// the terminal does not answer it gives up waiting after two seconds (and
/// says nothing: it falls back to half-blocks), but the thread stays blocked
/// reading the keyboard, and then takes the first key the reviewer types.
/// That is what happens inside tmux, which drops the query when passthrough
/// is off. Ask for a status report, which tmux and every VT100 descendant
/// answer: a waiting thread reads it as the end of its answers and exits,
/// and the keys are the station's again. When the query had finished, the
/// answer reaches the station instead, as a sequence crossterm discards.
fn release_query_reader() {
    use std::io::Write;
    let mut out = stdout();
    let _ = out.write_all(b"\x1b[5n").and_then(|()| out.flush());
}

fn fallback_graphics(
    forced: Option<ProtocolType>,
    tmux: bool,
    e: &ratatui_image::errors::Errors,
) -> (Graphics, Option<String>) {
    match forced {
        Some(protocol) => (
            Graphics {
                protocol,
                font: cell_size_from_window().unwrap_or((10, 20)),
                tmux,
                max_sixel: None,
                kitty_direct: false,
            },
            Some(format!(
                "the terminal did not report its cell size ({e}); guessing"
            )),
        ),
        None => (
            Graphics {
                tmux,
                ..Graphics::halfblocks()
            },
            Some(format!("graphics query failed ({e}): half-blocks")),
        ),
    }
}

/// Inside tmux (its own variable; ratatui-image looks at `TERM`, which
/// users often override).
pub(crate) fn inside_tmux() -> bool {
    std::env::var_os("TMUX").is_some_and(|v| !v.is_empty())
        || std::env::var("TERM").is_ok_and(|t| t.starts_with("tmux"))
}

/// Where this tmux pane's top-left cell is on the outer terminal (row,
/// column), as tmux itself says. A sixel passed through tmux is drawn
/// wherever the outer terminal's cursor happens to be (tmux moves it only
/// when it draws text), so pictures placed in parts must say where, in the
/// outer terminal's own coordinates. `None` outside tmux or when tmux does
/// not answer.
pub(crate) fn tmux_pane_origin() -> Option<(u16, u16)> {
    if !inside_tmux() {
        return None;
    }
    let mut cmd = std::process::Command::new("tmux");
    cmd.args(["display-message", "-p"]);
    if let Some(pane) = std::env::var_os("TMUX_PANE") {
        cmd.arg("-t").arg(pane);
    }
    let out = cmd
        .arg("#{pane_top} #{pane_left}")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    parse_pane_origin(&String::from_utf8_lossy(&out.stdout))
}

fn parse_pane_origin(text: &str) -> Option<(u16, u16)> {
    let mut parts = text.split_whitespace().map(str::parse::<u16>);
    match (parts.next(), parts.next(), parts.next()) {
        (Some(Ok(top)), Some(Ok(left)), None) => Some((top, left)),
        _ => None,
    }
}

fn cell_size_from_window() -> Option<(u16, u16)> {
    let w = terminal::window_size().ok()?;
    if w.width == 0 || w.height == 0 || w.columns == 0 || w.rows == 0 {
        return None;
    }
    Some((w.width / w.columns, w.height / w.rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tmux_says_where_its_pane_starts_as_row_and_column() {
        assert_eq!(parse_pane_origin("0 0\n"), Some((0, 0)));
        assert_eq!(parse_pane_origin("12 81\n"), Some((12, 81)));
        assert_eq!(parse_pane_origin(""), None);
        assert_eq!(parse_pane_origin("#{pane_top} #{pane_left}\n"), None);
        assert_eq!(parse_pane_origin("1 2 3"), None);
    }

    #[test]
    fn the_answers_of_real_terminals_are_read() {
        // xterm 379 with its default maxGraphicSize, then the status report.
        let xterm = parse_answers(b"\x1bP>|XTerm(379)\x1b\\\x1b[?2;0;1000;1000S\x1b[0n");
        assert_eq!(xterm.version.as_deref(), Some("XTerm(379)"));
        assert_eq!(xterm.max_sixel, Some((1000, 1000)));
        // kitty answers the version, and fails the sixel query.
        let kitty = parse_answers(b"\x1bP>|kitty(0.26.5)\x1b\\\x1b[?2;1;0S\x1b[0n");
        assert_eq!(kitty.version.as_deref(), Some("kitty(0.26.5)"));
        assert_eq!(kitty.max_sixel, None);
        // A terminal that answers only the status report.
        assert_eq!(parse_answers(b"\x1b[0n"), Answers::default());
        // Garbage is no answer.
        assert_eq!(parse_answers(b"\x1b[?2;0;x;1S\x1bP>|"), Answers::default());
    }

    #[test]
    fn kitty_before_0_28_has_no_placeholders() {
        assert_eq!(
            kitty_without_placeholders("kitty(0.26.5)"),
            Some("kitty(0.26.5)")
        );
        assert_eq!(kitty_without_placeholders("kitty(0.28.0)"), None);
        assert_eq!(kitty_without_placeholders("kitty(0.39.1)"), None);
        assert_eq!(kitty_without_placeholders("XTerm(379)"), None);
        // Any kitty places pictures directly (outside tmux); a terminal
        // that only speaks its protocol is not trusted to edit in place.
        assert!(is_kitty("kitty(0.26.5)") && is_kitty("kitty(0.39.1)"));
        assert!(!is_kitty("WezTerm 20240203") && !is_kitty("tmux 3.3a"));
    }

    #[test]
    fn a_sixel_limit_smaller_than_the_pane_holds_the_picture_to_it() {
        let g = Graphics {
            max_sixel: Some((1000, 1000)),
            ..Graphics::sixel((9, 19))
        };
        // 144×58 cells of 9×19 px is 1296×1102 px: held to 111×52 cells.
        assert_eq!(g.fit_cells((144, 58)), (111, 52));
        assert_eq!(g.fit_cells((80, 24)), (80, 24));
        let kitty = Graphics {
            protocol: ProtocolType::Kitty,
            ..g
        };
        assert_eq!(kitty.fit_cells((144, 58)), (144, 58));
    }
}
