//! An opaque RGB colour written `#rrggbb`, as the policy's fill and
//! background are.
//!
//! Parsed once when the policy is read, so no later use can fall back to a
//! colour the policy did not say. The text is kept as written: the policy
//! digest recorded in the ledger is over the policy as serialised, and a
//! policy written `#FFFFFF` must keep the digest it was recorded under.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A colour from the policy: its channels, and its text as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Rgb {
    channels: [u8; 3],
    written: String,
}

/// Why a text is not a colour.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a colour like #000000")]
pub struct BadColour(pub String);

impl Rgb {
    /// Parse `#rrggbb` (either case).
    pub fn parse(s: &str) -> Result<Rgb, BadColour> {
        let bad = || BadColour(s.to_string());
        let h = s.strip_prefix('#').ok_or_else(bad)?;
        if h.len() != 6 || !h.is_ascii() {
            return Err(bad());
        }
        let channel = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).map_err(|_| bad());
        Ok(Rgb {
            channels: [channel(0)?, channel(2)?, channel(4)?],
            written: s.to_string(),
        })
    }

    /// The colour of these channels, written in lower case.
    pub fn new(channels: [u8; 3]) -> Rgb {
        let [r, g, b] = channels;
        Rgb {
            channels,
            written: format!("#{r:02x}{g:02x}{b:02x}"),
        }
    }

    /// Red, green and blue.
    pub(crate) fn channels(&self) -> [u8; 3] {
        self.channels
    }
}

impl TryFrom<String> for Rgb {
    type Error = BadColour;
    fn try_from(s: String) -> Result<Rgb, BadColour> {
        Rgb::parse(&s)
    }
}

impl From<Rgb> for String {
    fn from(c: Rgb) -> String {
        c.written
    }
}

impl fmt::Display for Rgb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_colour_keeps_the_spelling_it_was_written_in() {
        let c = Rgb::parse("#FfA000").unwrap();
        assert_eq!(c.channels(), [255, 160, 0]);
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"#FfA000\"");
        assert_eq!(Rgb::new([255, 160, 0]).to_string(), "#ffa000");
    }

    #[test]
    fn text_that_is_not_a_colour_is_refused_by_name() {
        for s in ["000000", "#00000", "#0000000", "#gg0000", "#ééé", ""] {
            let err = Rgb::parse(s).unwrap_err().to_string();
            assert!(err.contains(&format!("'{s}' is not a colour")), "{err}");
        }
        assert!(serde_json::from_str::<Rgb>("\"red\"").is_err());
    }
}
