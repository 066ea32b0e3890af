//! Interface colours, from flat TOML files in `themes/` (embedded in the
//! binary). A theme styles the interface only: the photograph's pixels and
//! the mask outlines drawn into them are never recoloured.

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::str::FromStr;

/// The themes shipped in `themes/`, by name.
pub(crate) const BUILTIN: [(&str, &str); 3] = [
    ("default", include_str!("../../themes/default.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../themes/mono.toml")),
];

/// The theme used when `NO_COLOR` is set.
pub(crate) const NO_COLOR_THEME: &str = "mono";

/// Styles of the plain theme, used only if the default one could not be
/// read (it is tested to parse).
const PLAIN: Style = Style::new();
const PLAIN_BOLD: Style = Style::new().add_modifier(Modifier::BOLD);
const PLAIN_REVERSED: Style = Style::new().add_modifier(Modifier::REVERSED);

/// Every style a theme names, listed once: the [`Theme`] fields, the
/// `[styles]` table a theme file must hold (no more, no fewer), how each
/// is read, and the plain fallback's value.
macro_rules! theme_styles {
    ($($style:ident = $plain:expr),* $(,)?) => {
        /// A parsed theme.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Theme {
            pub name: String,
            $(pub $style: Style,)*
        }

        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct StylesFile {
            $($style: StyleSpec,)*
        }

        impl Theme {
            fn from_file(file: &ThemeFile) -> Result<Theme, ThemeError> {
                let n = file.name.as_str();
                Ok(Theme {
                    name: file.name.clone(),
                    $($style: file.styles.$style.style(n, stringify!($style))?,)*
                })
            }

            fn plain() -> Theme {
                Theme {
                    name: "plain".into(),
                    $($style: $plain,)*
                }
            }
        }
    };
}

theme_styles! {
    base = PLAIN,
    border = PLAIN,
    border_focus = PLAIN_BOLD,
    title = PLAIN_BOLD,
    muted = PLAIN,
    selected = PLAIN_REVERSED,
    ok = PLAIN,
    bad = PLAIN_BOLD,
    warn = PLAIN,
    key = PLAIN_BOLD,
    status = PLAIN_REVERSED,
    status_mode = PLAIN_REVERSED,
    status_message = PLAIN_REVERSED,
    status_error = PLAIN_REVERSED,
    overlay = PLAIN,
    overlay_border = PLAIN,
    high_stakes = PLAIN_BOLD,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: String,
    styles: StylesFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    fg: Option<String>,
    bg: Option<String>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    dim: bool,
    #[serde(default)]
    italic: bool,
    #[serde(default)]
    underlined: bool,
    #[serde(default)]
    reversed: bool,
}

/// A theme that could not be found or read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ThemeError {
    #[error(
        "no theme named '{0}' (available: default, high-contrast, mono, or a path to a .toml file)"
    )]
    Unknown(String),
    #[error("theme '{name}': {problem}")]
    Invalid { name: String, problem: String },
}

impl StyleSpec {
    fn style(&self, theme: &str, key: &str) -> Result<Style, ThemeError> {
        let colour = |c: &Option<String>| -> Result<Option<Color>, ThemeError> {
            match c {
                None => Ok(None),
                Some(s) => Color::from_str(s)
                    .map(Some)
                    .map_err(|_| ThemeError::Invalid {
                        name: theme.to_string(),
                        problem: format!("styles.{key}: '{s}' is not a colour"),
                    }),
            }
        };
        let mut style = Style::default();
        if let Some(fg) = colour(&self.fg)? {
            style = style.fg(fg);
        }
        if let Some(bg) = colour(&self.bg)? {
            style = style.bg(bg);
        }
        for (on, m) in [
            (self.bold, Modifier::BOLD),
            (self.dim, Modifier::DIM),
            (self.italic, Modifier::ITALIC),
            (self.underlined, Modifier::UNDERLINED),
            (self.reversed, Modifier::REVERSED),
        ] {
            if on {
                style = style.add_modifier(m);
            }
        }
        Ok(style)
    }
}

impl Theme {
    /// Parse a theme file's text.
    pub fn from_toml(text: &str) -> Result<Theme, ThemeError> {
        let file: ThemeFile = toml::from_str(text).map_err(|e| ThemeError::Invalid {
            name: "?".into(),
            problem: e.message().trim().to_string(),
        })?;
        Theme::from_file(&file)
    }

    /// A built-in theme by name, or a theme file when `name` ends in `.toml`.
    pub fn named(name: &str) -> Result<Theme, ThemeError> {
        if let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name) {
            return Theme::from_toml(text);
        }
        if name.ends_with(".toml") {
            let text = std::fs::read_to_string(name).map_err(|e| ThemeError::Invalid {
                name: crate::text::printable(name, 200),
                problem: e.to_string(),
            })?;
            return Theme::from_toml(&text);
        }
        Err(ThemeError::Unknown(crate::text::printable(name, 80)))
    }

    /// The theme to use: `--theme` if given, else `mono` under `NO_COLOR`,
    /// else the policy's.
    pub fn choose(flag: Option<&str>, no_color: bool, policy: &str) -> Result<Theme, ThemeError> {
        match flag {
            Some(name) => Theme::named(name),
            None if no_color => Theme::named(NO_COLOR_THEME),
            None => Theme::named(policy),
        }
    }

    /// The built-in default theme (it is tested to parse).
    pub fn fallback() -> Theme {
        Theme::named("default").unwrap_or_else(|_| Theme::plain())
    }
}

/// True when the `NO_COLOR` convention asks for no colour.
pub(crate) fn no_color_requested() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_theme_parses_and_names_itself() {
        for (name, text) in BUILTIN {
            let t = Theme::from_toml(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(t.name, name);
        }
    }

    #[test]
    fn the_mono_theme_uses_no_colour() {
        let t = Theme::named("mono").unwrap();
        for s in [
            t.base, t.border, t.selected, t.ok, t.bad, t.status, t.overlay,
        ] {
            assert_eq!(s.fg, None);
            assert_eq!(s.bg, None);
        }
    }

    #[test]
    fn no_color_picks_mono_unless_a_theme_is_asked_for() {
        assert_eq!(Theme::choose(None, true, "default").unwrap().name, "mono");
        assert_eq!(
            Theme::choose(Some("high-contrast"), true, "default")
                .unwrap()
                .name,
            "high-contrast"
        );
        assert_eq!(
            Theme::choose(None, false, "default").unwrap().name,
            "default"
        );
    }

    #[test]
    fn an_unknown_theme_or_colour_is_an_error_that_says_what_exists() {
        let e = Theme::named("neon").unwrap_err().to_string();
        assert!(e.contains("high-contrast"), "{e}");
        let bad = BUILTIN[0].1.replace("\"darkgray\"", "\"greyish\"");
        let e = Theme::from_toml(&bad).unwrap_err().to_string();
        assert!(e.contains("greyish"), "{e}");
    }
}
