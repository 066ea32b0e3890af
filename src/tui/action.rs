//! What the operator can do, and the one table that maps keys to it.
//!
//! [`BINDINGS`] drives both key handling ([`action_for`]) and the `?` help
//! overlay ([`help_entries`]), so the help can never disagree with the keys.

use crate::gates::Gate;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::borrow::Cow;

/// One thing the operator can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    NextItem,
    PrevItem,
    ToggleFocus,
    CycleFilter,
    /// Show or fold the queue column (folded by default on narrow screens).
    ToggleQueue,
    /// Show or fold the right-hand panel (mask, metadata, checklist).
    TogglePanel,
    NextMask,
    PrevMask,
    AddMask,
    DeleteMask,
    /// Move the selected mask one step (`big`: ten steps).
    Move {
        dx: i8,
        dy: i8,
        big: bool,
    },
    /// Move the selected mask's right/bottom edge one step.
    Grow {
        dw: i8,
        dh: i8,
        big: bool,
    },
    CycleKind,
    /// Moves and resizes take ten steps until toggled back (Alt does
    /// nothing in some terminals, such as a stock xterm).
    ToggleStep,
    /// Pictures at half the pane's width and height (a quarter of the
    /// bytes), for a slow link.
    ToggleLight,
    ZoomIn,
    ZoomOut,
    ZoomFit,
    /// Pan a quarter of the view.
    Pan {
        dx: i8,
        dy: i8,
    },
    ZoomToMask,
    EdgeTour,
    MobilePreview,
    /// Toggle the n-th attested gate (0-based index into [`Gate::ATTESTED`]).
    ToggleAttest(u8),
    ToggleHighStakes,
    MarkReady,
    Approve,
    Reject,
    Undo,
    Redo,
    Help,
    Close,
    Quit,
    ForceQuit,
}

/// Groups in the help overlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    Queue,
    Masks,
    View,
    Decision,
    General,
}

impl Section {
    pub(crate) const ALL: [Section; 5] = [
        Section::Queue,
        Section::Masks,
        Section::View,
        Section::Decision,
        Section::General,
    ];

    pub(crate) fn title(self) -> &'static str {
        match self {
            Section::Queue => "Queue",
            Section::Masks => "Masks",
            Section::View => "View and verification",
            Section::Decision => "Checklist and decision",
            Section::General => "General",
        }
    }
}

impl Action {
    /// One line for the help overlay.
    pub fn describe(self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Action::NextItem => "next item",
            Action::PrevItem => "previous item",
            Action::ToggleFocus => "focus the queue / the image",
            Action::CycleFilter => "filter the queue by state (cycles)",
            Action::ToggleQueue => "show / fold the queue (room for the photo)",
            Action::TogglePanel => "show / fold the checklist panel",
            Action::NextMask => "select the next mask",
            Action::PrevMask => "select the previous mask",
            Action::AddMask => "add a mask at the centre of the view",
            Action::DeleteMask => "delete the selected mask",
            Action::Move { big: false, .. } => "move the selected mask",
            Action::Move { big: true, .. } => "move the selected mask ten steps",
            Action::Grow { big: false, .. } => "resize: move the right/bottom edge",
            Action::Grow { big: true, .. } => "resize ten steps",
            Action::CycleKind => "cycle the mask's kind",
            Action::ToggleStep => "ten-step moves and resizes on / off",
            Action::ToggleLight => "lighter pictures for a slow link on / off",
            Action::ZoomIn => "zoom in",
            Action::ZoomOut => "zoom out",
            Action::ZoomFit => "zoom to fit",
            Action::Pan { .. } => "pan the view",
            Action::ZoomToMask => "verify: the selected mask at minimum zoom",
            Action::EdgeTour => "verify: next unseen edge at minimum zoom",
            Action::MobilePreview => "mobile preview of the real output",
            Action::ToggleAttest(i) => {
                return match Gate::ATTESTED.get(usize::from(i)) {
                    Some(g) => Cow::Owned(format!("attest: {}", g.title())),
                    None => Cow::Borrowed("(no attested gate on this key)"),
                };
            }
            Action::ToggleHighStakes => "flag / unflag high-stakes",
            Action::MarkReady => "mark ready for approve --batch (toggles)",
            Action::Approve => "approve now (signed ledger entry)",
            Action::Reject => "reject with a reason",
            Action::Undo => "undo a mask edit",
            Action::Redo => "redo a mask edit",
            Action::Help => "this help",
            Action::Close => "close the overlay / back to the image",
            Action::Quit => "quit (everything is already saved)",
            Action::ForceQuit => "quit, always",
        })
    }

    /// Where the help overlay lists it.
    pub fn section(self) -> Section {
        match self {
            Action::NextItem
            | Action::PrevItem
            | Action::ToggleFocus
            | Action::CycleFilter
            | Action::ToggleQueue
            | Action::TogglePanel => Section::Queue,
            Action::NextMask
            | Action::PrevMask
            | Action::AddMask
            | Action::DeleteMask
            | Action::Move { .. }
            | Action::Grow { .. }
            | Action::CycleKind
            | Action::ToggleStep
            | Action::Undo
            | Action::Redo => Section::Masks,
            Action::ZoomIn
            | Action::ZoomOut
            | Action::ZoomFit
            | Action::Pan { .. }
            | Action::ZoomToMask
            | Action::EdgeTour
            | Action::MobilePreview
            | Action::ToggleLight => Section::View,
            Action::ToggleAttest(_)
            | Action::ToggleHighStakes
            | Action::MarkReady
            | Action::Approve
            | Action::Reject => Section::Decision,
            Action::Help | Action::Close | Action::Quit | Action::ForceQuit => Section::General,
        }
    }
}

/// A key with its modifiers, as the table spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    const fn new(code: KeyCode, mods: KeyModifiers) -> Key {
        Key { code, mods }
    }
    const fn ch(c: char) -> Key {
        Key::new(KeyCode::Char(c), KeyModifiers::NONE)
    }
    const fn plain(code: KeyCode) -> Key {
        Key::new(code, KeyModifiers::NONE)
    }
    const fn ctrl(code: KeyCode) -> Key {
        Key::new(code, KeyModifiers::CONTROL)
    }
    const fn shift(code: KeyCode) -> Key {
        Key::new(code, KeyModifiers::SHIFT)
    }
    const fn alt(code: KeyCode) -> Key {
        Key::new(code, KeyModifiers::ALT)
    }

    /// The key as terminals report it, normalised: a character already
    /// carries its shift, so Shift is dropped from `Char` and `BackTab`.
    pub(crate) fn from_event(ev: &KeyEvent) -> Key {
        let mut mods =
            ev.modifiers & (KeyModifiers::SHIFT | KeyModifiers::CONTROL | KeyModifiers::ALT);
        if matches!(ev.code, KeyCode::Char(_) | KeyCode::BackTab) {
            mods.remove(KeyModifiers::SHIFT);
        }
        Key::new(ev.code, mods)
    }

    fn prefix(&self) -> String {
        let mut p = String::new();
        if self.mods.contains(KeyModifiers::CONTROL) {
            p.push_str("Ctrl-");
        }
        if self.mods.contains(KeyModifiers::ALT) {
            p.push_str("Alt-");
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            p.push_str("Shift-");
        }
        p
    }

    fn base(&self) -> String {
        match self.code {
            KeyCode::Char(' ') => "Space".into(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "Shift-Tab".into(),
            KeyCode::Delete => "Del".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Enter => "Enter".into(),
            other => format!("{other:?}"),
        }
    }

    /// `Ctrl-r`, `Shift-←`, `x`.
    pub(crate) fn label(&self) -> String {
        format!("{}{}", self.prefix(), self.base())
    }
}

/// When a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Whatever has focus.
    Anywhere,
    /// Only while the image has focus.
    Image,
    /// Only while the queue has focus.
    Queue,
}

/// One key bound to one action.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub key: Key,
    pub scope: Scope,
    pub action: Action,
}

const fn b(key: Key, scope: Scope, action: Action) -> Binding {
    Binding { key, scope, action }
}

use Action as A;
use KeyCode as K;
use Scope::{Anywhere, Image, Queue};

const fn mv(dx: i8, dy: i8, big: bool) -> Action {
    Action::Move { dx, dy, big }
}
const fn grow(dw: i8, dh: i8, big: bool) -> Action {
    Action::Grow { dw, dh, big }
}

/// Every key the review station understands (overlays and the reason
/// prompt aside, which take Esc/Enter and typed text).
pub(crate) static BINDINGS: &[Binding] = &[
    b(Key::ch('n'), Anywhere, A::NextItem),
    b(Key::ch('j'), Queue, A::NextItem),
    b(Key::plain(K::Down), Queue, A::NextItem),
    b(Key::ch('p'), Anywhere, A::PrevItem),
    b(Key::ch('k'), Queue, A::PrevItem),
    b(Key::plain(K::Up), Queue, A::PrevItem),
    b(Key::ch('f'), Anywhere, A::ToggleFocus),
    b(Key::plain(K::Enter), Queue, A::ToggleFocus),
    b(Key::ch('/'), Anywhere, A::CycleFilter),
    b(Key::ch('['), Anywhere, A::ToggleQueue),
    b(Key::ch(']'), Anywhere, A::TogglePanel),
    b(Key::plain(K::Tab), Anywhere, A::NextMask),
    b(Key::plain(K::BackTab), Anywhere, A::PrevMask),
    b(Key::ch('a'), Anywhere, A::AddMask),
    b(Key::ch('x'), Anywhere, A::DeleteMask),
    b(Key::plain(K::Delete), Anywhere, A::DeleteMask),
    b(Key::ch('h'), Image, mv(-1, 0, false)),
    b(Key::ch('j'), Image, mv(0, 1, false)),
    b(Key::ch('k'), Image, mv(0, -1, false)),
    b(Key::ch('l'), Image, mv(1, 0, false)),
    b(Key::plain(K::Left), Image, mv(-1, 0, false)),
    b(Key::plain(K::Down), Image, mv(0, 1, false)),
    b(Key::plain(K::Up), Image, mv(0, -1, false)),
    b(Key::plain(K::Right), Image, mv(1, 0, false)),
    b(Key::alt(K::Char('h')), Image, mv(-1, 0, true)),
    b(Key::alt(K::Char('j')), Image, mv(0, 1, true)),
    b(Key::alt(K::Char('k')), Image, mv(0, -1, true)),
    b(Key::alt(K::Char('l')), Image, mv(1, 0, true)),
    b(Key::alt(K::Left), Image, mv(-1, 0, true)),
    b(Key::alt(K::Down), Image, mv(0, 1, true)),
    b(Key::alt(K::Up), Image, mv(0, -1, true)),
    b(Key::alt(K::Right), Image, mv(1, 0, true)),
    b(Key::ch('H'), Image, grow(-1, 0, false)),
    b(Key::ch('J'), Image, grow(0, 1, false)),
    b(Key::ch('K'), Image, grow(0, -1, false)),
    b(Key::ch('L'), Image, grow(1, 0, false)),
    b(Key::shift(K::Left), Image, grow(-1, 0, false)),
    b(Key::shift(K::Down), Image, grow(0, 1, false)),
    b(Key::shift(K::Up), Image, grow(0, -1, false)),
    b(Key::shift(K::Right), Image, grow(1, 0, false)),
    b(Key::alt(K::Char('H')), Image, grow(-1, 0, true)),
    b(Key::alt(K::Char('J')), Image, grow(0, 1, true)),
    b(Key::alt(K::Char('K')), Image, grow(0, -1, true)),
    b(Key::alt(K::Char('L')), Image, grow(1, 0, true)),
    b(Key::ch('t'), Anywhere, A::CycleKind),
    b(Key::ch('s'), Anywhere, A::ToggleStep),
    b(Key::ch('u'), Anywhere, A::Undo),
    b(Key::ctrl(K::Char('r')), Anywhere, A::Redo),
    b(Key::ch('+'), Anywhere, A::ZoomIn),
    b(Key::ch('='), Anywhere, A::ZoomIn),
    b(Key::ch('-'), Anywhere, A::ZoomOut),
    b(Key::ch('0'), Anywhere, A::ZoomFit),
    b(Key::ctrl(K::Left), Anywhere, A::Pan { dx: -1, dy: 0 }),
    b(Key::ctrl(K::Down), Anywhere, A::Pan { dx: 0, dy: 1 }),
    b(Key::ctrl(K::Up), Anywhere, A::Pan { dx: 0, dy: -1 }),
    b(Key::ctrl(K::Right), Anywhere, A::Pan { dx: 1, dy: 0 }),
    b(Key::ch('z'), Anywhere, A::ZoomToMask),
    b(Key::ch('e'), Anywhere, A::EdgeTour),
    b(Key::ch('m'), Anywhere, A::MobilePreview),
    b(Key::ch('g'), Anywhere, A::ToggleLight),
    b(Key::ch('1'), Anywhere, A::ToggleAttest(0)),
    b(Key::ch('2'), Anywhere, A::ToggleAttest(1)),
    b(Key::ch('3'), Anywhere, A::ToggleAttest(2)),
    b(Key::ch('4'), Anywhere, A::ToggleAttest(3)),
    b(Key::ch('5'), Anywhere, A::ToggleAttest(4)),
    b(Key::ch('6'), Anywhere, A::ToggleAttest(5)),
    b(Key::ch('7'), Anywhere, A::ToggleAttest(6)),
    b(Key::ch('8'), Anywhere, A::ToggleAttest(7)),
    b(Key::ch('9'), Anywhere, A::ToggleAttest(8)),
    b(Key::ch('!'), Anywhere, A::ToggleHighStakes),
    b(Key::ch('r'), Anywhere, A::MarkReady),
    b(Key::ch('A'), Anywhere, A::Approve),
    b(Key::ch('R'), Anywhere, A::Reject),
    b(Key::ch('?'), Anywhere, A::Help),
    b(Key::plain(K::Esc), Anywhere, A::Close),
    b(Key::ch('q'), Anywhere, A::Quit),
    b(Key::ctrl(K::Char('c')), Anywhere, A::ForceQuit),
];

/// Which part of the screen has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Image,
    Queue,
}

/// The action a key press means with this focus, if any.
pub(crate) fn action_for(ev: &KeyEvent, focus: Focus) -> Option<Action> {
    if ev.kind == KeyEventKind::Release {
        return None;
    }
    let key = Key::from_event(ev);
    let focused = match focus {
        Focus::Image => Scope::Image,
        Focus::Queue => Scope::Queue,
    };
    let bound = |key: Key| {
        // A focus-specific binding wins over an everywhere one.
        BINDINGS
            .iter()
            .find(|bd| bd.key == key && bd.scope == focused)
            .or_else(|| {
                BINDINGS
                    .iter()
                    .find(|bd| bd.key == key && bd.scope == Scope::Anywhere)
            })
            .map(|bd| bd.action)
    };
    bound(key).or_else(|| eight_bit_meta(key).and_then(bound))
}

/// A terminal without `metaSendsEscape` (a stock xterm) sends Alt-h as the
/// character with the high bit set (`è`); read it as the Alt key it was.
fn eight_bit_meta(key: Key) -> Option<Key> {
    let KeyCode::Char(c) = key.code else {
        return None;
    };
    let plain = u32::from(c).checked_sub(0x80)?;
    let base = char::from_u32(plain).filter(char::is_ascii_alphabetic)?;
    (key.mods.is_empty() && (0xC0..=0xFF).contains(&u32::from(c)))
        .then_some(Key::alt(KeyCode::Char(base)))
}

/// Why a key press does nothing with this focus, for the status line; or
/// `None` when it does something (or is no key press at all).
pub(crate) fn ignored(ev: &KeyEvent, focus: Focus) -> Option<String> {
    if ev.kind == KeyEventKind::Release
        || matches!(ev.code, KeyCode::Modifier(_) | KeyCode::Null)
        || action_for(ev, focus).is_some()
    {
        return None;
    }
    let key = Key::from_event(ev);
    let label = key.label();
    let other = match focus {
        Focus::Image => (Scope::Queue, "queue"),
        Focus::Queue => (Scope::Image, "image"),
    };
    if BINDINGS
        .iter()
        .any(|bd| bd.key == key && bd.scope == other.0)
    {
        return Some(format!(
            "{label} works with the {} focused (f switches)",
            other.1
        ));
    }
    if key.mods.contains(KeyModifiers::ALT) || eight_bit_meta(key).is_some() {
        return Some(format!(
            "{label} does nothing here; for ten steps without Alt, press s (? lists the keys)"
        ));
    }
    Some(format!("{label} does nothing here (? lists the keys)"))
}

/// One line of the help overlay: the keys, and what they do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpEntry {
    pub section: Section,
    pub keys: String,
    /// What the keys do, with the focus they need when not everywhere.
    pub description: String,
    /// What the keys do, alone.
    pub base: String,
    pub scope: Scope,
}

/// The help overlay's lines, generated from [`BINDINGS`]: consecutive
/// bindings with the same description share a line.
pub(crate) fn help_entries() -> Vec<HelpEntry> {
    let mut groups: Vec<(Section, Scope, String, Vec<Key>)> = Vec::new();
    for bd in BINDINGS {
        if let Action::ToggleAttest(i) = bd.action
            && usize::from(i) >= Gate::ATTESTED.len()
        {
            continue;
        }
        let desc = bd.action.describe().into_owned();
        match groups.last_mut() {
            Some((_, scope, d, keys)) if *d == desc && *scope == bd.scope => keys.push(bd.key),
            _ => groups.push((bd.action.section(), bd.scope, desc, vec![bd.key])),
        }
    }
    let mut out: Vec<HelpEntry> = groups
        .into_iter()
        .map(|(section, scope, description, keys)| HelpEntry {
            section,
            keys: join_keys(&keys),
            description: match scope {
                Scope::Anywhere => description.clone(),
                Scope::Image => format!("{description} (image focus)"),
                Scope::Queue => format!("{description} (queue focus)"),
            },
            base: description,
            scope,
        })
        .collect();
    out.sort_by_key(|e| e.section);
    out
}

/// `hjkl←↓↑→`, `Ctrl-←↓↑→`, `x Del`: keys sharing modifiers share a prefix.
fn join_keys(keys: &[Key]) -> String {
    let mut parts: Vec<(String, Vec<String>)> = Vec::new();
    for k in keys {
        let (prefix, base) = if k.code == KeyCode::BackTab {
            (String::new(), k.base())
        } else {
            (k.prefix(), k.base())
        };
        match parts.last_mut() {
            Some((p, bases)) if *p == prefix => bases.push(base),
            _ => parts.push((prefix, vec![base])),
        }
    }
    parts
        .into_iter()
        .map(|(prefix, bases)| {
            let sep = if bases.iter().all(|b| b.chars().count() == 1) {
                ""
            } else {
                " "
            };
            format!("{prefix}{}", bases.join(sep))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn the_issue_keys_map_to_their_actions() {
        let img = Focus::Image;
        let q = Focus::Queue;
        let none = KeyModifiers::NONE;
        let cases = [
            (key(KeyCode::Char('n'), none), img, A::NextItem),
            (key(KeyCode::Char('p'), none), img, A::PrevItem),
            (key(KeyCode::Char('j'), none), q, A::NextItem),
            (key(KeyCode::Down, none), q, A::NextItem),
            (key(KeyCode::Up, none), q, A::PrevItem),
            (key(KeyCode::Tab, none), img, A::NextMask),
            (key(KeyCode::BackTab, KeyModifiers::SHIFT), img, A::PrevMask),
            (key(KeyCode::Char('a'), none), img, A::AddMask),
            (key(KeyCode::Delete, none), img, A::DeleteMask),
            (key(KeyCode::Char('h'), none), img, mv(-1, 0, false)),
            (key(KeyCode::Left, none), img, mv(-1, 0, false)),
            (key(KeyCode::Left, KeyModifiers::ALT), img, mv(-1, 0, true)),
            (
                key(KeyCode::Char('L'), KeyModifiers::SHIFT),
                img,
                grow(1, 0, false),
            ),
            (
                key(KeyCode::Right, KeyModifiers::SHIFT),
                img,
                grow(1, 0, false),
            ),
            (key(KeyCode::Char('t'), none), img, A::CycleKind),
            (key(KeyCode::Char('+'), KeyModifiers::SHIFT), img, A::ZoomIn),
            (key(KeyCode::Char('0'), none), img, A::ZoomFit),
            (
                key(KeyCode::Up, KeyModifiers::CONTROL),
                img,
                A::Pan { dx: 0, dy: -1 },
            ),
            (key(KeyCode::Char('z'), none), img, A::ZoomToMask),
            (key(KeyCode::Char('m'), none), img, A::MobilePreview),
            (key(KeyCode::Char('2'), none), img, A::ToggleAttest(1)),
            (
                key(KeyCode::Char('!'), KeyModifiers::SHIFT),
                img,
                A::ToggleHighStakes,
            ),
            (key(KeyCode::Char('r'), none), img, A::MarkReady),
            (
                key(KeyCode::Char('A'), KeyModifiers::SHIFT),
                img,
                A::Approve,
            ),
            (key(KeyCode::Char('R'), KeyModifiers::SHIFT), img, A::Reject),
            (key(KeyCode::Char('u'), none), img, A::Undo),
            (key(KeyCode::Char('r'), KeyModifiers::CONTROL), img, A::Redo),
            (key(KeyCode::Char('?'), KeyModifiers::SHIFT), img, A::Help),
            (key(KeyCode::Esc, none), img, A::Close),
            (key(KeyCode::Char('q'), none), q, A::Quit),
            (
                key(KeyCode::Char('c'), KeyModifiers::CONTROL),
                q,
                A::ForceQuit,
            ),
        ];
        for (ev, focus, want) in cases {
            assert_eq!(action_for(&ev, focus), Some(want), "{ev:?} with {focus:?}");
        }
    }

    #[test]
    fn every_key_is_bound_once_per_scope() {
        for (i, a) in BINDINGS.iter().enumerate() {
            for b in &BINDINGS[i + 1..] {
                assert!(
                    !(a.key == b.key && a.scope == b.scope),
                    "{} bound twice",
                    a.key.label()
                );
            }
        }
    }

    #[test]
    fn help_lists_every_bound_key_and_action() {
        let help = help_entries();
        let text: String = help
            .iter()
            .map(|e| format!("{} {}\n", e.keys, e.description))
            .collect();
        for bd in BINDINGS {
            if matches!(bd.action, A::ToggleAttest(i) if usize::from(i) >= Gate::ATTESTED.len()) {
                continue;
            }
            assert!(text.contains(&*bd.action.describe()), "{:?}", bd.action);
            assert!(
                help.iter().any(|e| e.keys.contains(&bd.key.base())),
                "{}",
                bd.key.label()
            );
        }
        assert!(text.contains("Ctrl-←↓↑→ pan the view"), "{text}");
        assert!(text.contains("attest: reflections checked"), "{text}");
    }
}
