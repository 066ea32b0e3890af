//! The checklist's vocabulary: each gate, how it is met, its name in files.
//!
//! A leaf: the policy, items, the ledger and the command line all name gates
//! with these types, parsed once where text comes in. The names (`zoom`,
//! `second_reviewer`, …) are what policy files and ledger lines hold.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A checklist gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "String")]
pub enum Gate {
    /// Every mask seen fully in view at ≥ the minimum zoom (measured).
    Zoom,
    /// The compressed/mobile preview of the current masks was seen (measured).
    Preview,
    /// The rendered output's bytes passed the container allowlist (measured).
    Metadata,
    /// Reflections (glasses, windows, screens) checked (attested).
    Reflections,
    /// Image edges and partial figures checked (attested).
    Edges,
    /// Non-face identifiers (tattoos, wristbands, labels, screens) checked (attested).
    Identifiers,
    /// A second, different reviewer approved (high-stakes items only).
    SecondReviewer,
}

/// How a gate is satisfied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateMethod {
    /// Veil measured it (zoom, preview, output bytes, a second key).
    Measured,
    /// The reviewer says so, signed.
    Attested,
}

impl Gate {
    /// Every gate, in the checklist's order.
    pub(crate) const ALL: [Gate; 7] = [
        Gate::Zoom,
        Gate::Preview,
        Gate::Metadata,
        Gate::Reflections,
        Gate::Edges,
        Gate::Identifiers,
        Gate::SecondReviewer,
    ];

    /// Gates a reviewer attests, in the order keys 1–9 toggle them.
    pub const ATTESTED: [Gate; 3] = [Gate::Reflections, Gate::Edges, Gate::Identifiers];

    /// The name in policy files, item files and ledger lines.
    pub fn as_str(self) -> &'static str {
        match self {
            Gate::Zoom => "zoom",
            Gate::Preview => "preview",
            Gate::Metadata => "metadata",
            Gate::Reflections => "reflections",
            Gate::Edges => "edges",
            Gate::Identifiers => "identifiers",
            Gate::SecondReviewer => "second_reviewer",
        }
    }

    /// The gate of that name, if any.
    pub(crate) fn from_name(name: &str) -> Option<Gate> {
        Gate::ALL.into_iter().find(|g| g.as_str() == name)
    }

    /// How this gate is met.
    pub fn method(self) -> GateMethod {
        match self {
            Gate::Reflections | Gate::Edges | Gate::Identifiers => GateMethod::Attested,
            Gate::Zoom | Gate::Preview | Gate::Metadata | Gate::SecondReviewer => {
                GateMethod::Measured
            }
        }
    }

    /// One line for the checklist.
    pub(crate) fn title(self) -> &'static str {
        match self {
            Gate::Zoom => "every mask seen at minimum zoom",
            Gate::Preview => "compressed/mobile preview seen",
            Gate::Metadata => "output bytes carry no metadata",
            Gate::Reflections => "reflections checked",
            Gate::Edges => "edges and partial figures checked",
            Gate::Identifiers => "non-face identifiers checked",
            Gate::SecondReviewer => "second, different reviewer",
        }
    }
}

impl fmt::Display for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Why a name is not a gate: the message names it and lists the gates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{name}' is not a gate (one of: {})", Gate::ALL.map(Gate::as_str).join(", "))]
pub struct UnknownGate {
    /// The name as given (made printable by whoever shows it).
    pub name: String,
}

impl FromStr for Gate {
    type Err = UnknownGate;
    fn from_str(s: &str) -> Result<Gate, UnknownGate> {
        Gate::from_name(s).ok_or_else(|| UnknownGate {
            name: s.to_string(),
        })
    }
}

impl TryFrom<String> for Gate {
    type Error = UnknownGate;
    fn try_from(s: String) -> Result<Gate, UnknownGate> {
        s.parse()
    }
}

impl GateMethod {
    /// The name in ledger lines: `measured` or `attested`.
    pub fn as_str(self) -> &'static str {
        match self {
            GateMethod::Measured => "measured",
            GateMethod::Attested => "attested",
        }
    }
}

impl fmt::Display for GateMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_gate_reads_back_from_its_name_in_files() {
        for g in Gate::ALL {
            assert_eq!(g.as_str().parse::<Gate>(), Ok(g));
            let json = serde_json::to_string(&g).unwrap();
            assert_eq!(json, format!("\"{}\"", g.as_str()));
            assert_eq!(serde_json::from_str::<Gate>(&json).unwrap(), g);
        }
    }

    #[test]
    fn an_unknown_name_is_refused_with_the_list_of_gates() {
        let err = "zom".parse::<Gate>().unwrap_err().to_string();
        assert!(
            err.starts_with("'zom' is not a gate (one of: zoom, preview"),
            "{err}"
        );
        let err = serde_json::from_str::<Gate>("\"zom\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("'zom' is not a gate"), "{err}");
    }
}
