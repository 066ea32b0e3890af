//! What a mask hides: its kind, its name in files, its letter on screen.
//!
//! A leaf, so the policy (`high_stakes.mask_kinds`), items and the ledger
//! name kinds with one type, parsed once where text comes in.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What a mask hides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case", try_from = "String")]
pub enum MaskKind {
    Face,
    /// Badges, wristbands, chart labels.
    Identifier,
    Screen,
    Tattoo,
    Reflection,
    Other,
}

impl MaskKind {
    /// All kinds, in the order `t` cycles through them.
    pub(crate) const ALL: [MaskKind; 6] = [
        MaskKind::Face,
        MaskKind::Identifier,
        MaskKind::Screen,
        MaskKind::Tattoo,
        MaskKind::Reflection,
        MaskKind::Other,
    ];

    /// The name used in files and on screen.
    pub fn as_str(self) -> &'static str {
        match self {
            MaskKind::Face => "face",
            MaskKind::Identifier => "identifier",
            MaskKind::Screen => "screen",
            MaskKind::Tattoo => "tattoo",
            MaskKind::Reflection => "reflection",
            MaskKind::Other => "other",
        }
    }

    /// The one letter that labels this kind's outlines on screen (colour
    /// alone does not tell kinds apart: colour-blind operators, `mono`).
    pub fn letter(self) -> char {
        match self {
            MaskKind::Face => 'F',
            MaskKind::Identifier => 'I',
            MaskKind::Screen => 'S',
            MaskKind::Tattoo => 'T',
            MaskKind::Reflection => 'R',
            MaskKind::Other => 'O',
        }
    }

    /// The kind after this one in the cycle.
    pub fn next(self) -> MaskKind {
        let i = MaskKind::ALL.iter().position(|k| *k == self).unwrap_or(0);
        MaskKind::ALL[(i + 1) % MaskKind::ALL.len()]
    }
}

impl fmt::Display for MaskKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Why a name is not a mask kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{name}' is not a mask kind (one of: {})", MaskKind::ALL.map(MaskKind::as_str).join(", "))]
pub struct UnknownMaskKind {
    /// The name as given.
    pub name: String,
}

impl FromStr for MaskKind {
    type Err = UnknownMaskKind;
    fn from_str(s: &str) -> Result<MaskKind, UnknownMaskKind> {
        MaskKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownMaskKind {
                name: s.to_string(),
            })
    }
}

impl TryFrom<String> for MaskKind {
    type Error = UnknownMaskKind;
    fn try_from(s: String) -> Result<MaskKind, UnknownMaskKind> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_name_in_files() {
        for k in MaskKind::ALL {
            assert_eq!(k.as_str().parse::<MaskKind>(), Ok(k));
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(serde_json::from_str::<MaskKind>(&json).unwrap(), k);
        }
        let err = serde_json::from_str::<MaskKind>("\"tatoo\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("'tatoo' is not a mask kind"), "{err}");
    }
}
