//! The terminal: raw mode and the alternate screen, always restored (on
//! quit, on error, on panic), and which graphics protocol to draw with.

use super::image::Graphics;
use crate::cli::GraphicsChoice;
use crossterm::{cursor, execute, terminal};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui_image::picker::{Picker, ProtocolType};
use std::io::{self, Stdout, stdout};
use std::sync::Once;

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// The terminal in raw mode on the alternate screen; restored when dropped.
pub struct Session {
    pub terminal: Term,
}

impl Session {
    /// Take over the terminal.
    pub fn enter() -> io::Result<Session> {
        install_panic_hook();
        terminal::enable_raw_mode()?;
        let entered = execute!(stdout(), terminal::EnterAlternateScreen, cursor::Hide)
            .and_then(|_| Terminal::new(CrosstermBackend::new(stdout())));
        match entered {
            Ok(terminal) => Ok(Session { terminal }),
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

/// Give the terminal back as it was. Safe to call more than once.
pub fn restore() {
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
pub fn pick_graphics(choice: GraphicsChoice) -> (Graphics, Option<String>) {
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
    let picked = Picker::from_query_stdio();
    release_query_reader();
    match picked {
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
                },
                note,
            )
        }
        Err(e) => fallback_graphics(forced, tmux, &e),
    }
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
pub fn inside_tmux() -> bool {
    std::env::var_os("TMUX").is_some_and(|v| !v.is_empty())
        || std::env::var("TERM").is_ok_and(|t| t.starts_with("tmux"))
}

fn cell_size_from_window() -> Option<(u16, u16)> {
    let w = terminal::window_size().ok()?;
    if w.width == 0 || w.height == 0 || w.columns == 0 || w.rows == 0 {
        return None;
    }
    Some((w.width / w.columns, w.height / w.rows))
}
