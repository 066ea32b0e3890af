//! Non-identifying output names: random letters from an alphabet without
//! look-alikes, or a sequence, never anything of the original's name.

use crate::policy::{Naming, OutputFormat};

/// Letters and digits that cannot be mistaken for one another (no 0/O, 1/I).
pub(super) const NAME_ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// An opaque output name without extension: `Case_XXXXXXXX` (random) or
/// `Study_0001` (sequential). Nothing of the original name is used.
pub fn output_name(naming: Naming, sequence: u64) -> String {
    match naming {
        Naming::Sequential => format!("Study_{sequence:04}"),
        Naming::Random => {
            let mut random = [0u8; 8];
            crate::random::fill(&mut random);
            // 32 symbols divide 256 evenly, so `% 32` adds no bias.
            let tail: String = random
                .iter()
                .map(|b| char::from(NAME_ALPHABET[usize::from(b % 32)]))
                .collect();
            format!("Case_{tail}")
        }
    }
}

/// [`output_name`] plus the format's extension: `Case_3FQ7K2ZD.jpg`.
pub(crate) fn output_file_name(naming: Naming, sequence: u64, format: OutputFormat) -> String {
    format!("{}.{}", output_name(naming, sequence), format.extension())
}
