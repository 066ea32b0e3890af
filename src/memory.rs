//! The memory plan: what one image costs each step at its peak, worked out
//! from its header before a pixel is decoded, so that a step which would go
//! over the policy's `max_alloc_mib` refuses with a clear error instead of
//! allocating.
//!
//! Every figure is a buffer Veil holds at the same moment as the others
//! named with it: the original's bytes, the decoder's buffer in the file's
//! own colour type, the copy a 90° orientation makes, the 8-bit RGB that
//! everything downstream works on, the station's zoom levels, and the
//! encoded output. Ingest checks the largest of all steps, so a photo it
//! accepts can be reviewed and rendered on the same policy; each step checks
//! its own again when it decodes, since the policy may have changed since.
//!
//! The limit is per process. Several reviewers on one machine together hold
//! at most their number times `max_alloc_mib`, and one ingest at most
//! `ingest_memory_mib` (or one photo's plan when a single photo is larger);
//! an administrator sizes `max_alloc_mib` so that sum fits the machine.

use crate::policy::Limits;

const MIB: u64 = 1024 * 1024;

/// A step of Veil that decodes an original.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Decode, inventory and the face search.
    Ingest,
    /// Render and approve: decode, fill the masks, encode.
    Render,
    /// The review station: the picture at every zoom level, and the
    /// output proof rendered beside it.
    Review,
}

impl Step {
    fn doing(self) -> &'static str {
        match self {
            Step::Ingest => "ingesting",
            Step::Render => "rendering",
            Step::Review => "reviewing",
        }
    }

    fn holds(self) -> &'static str {
        match self {
            Step::Ingest => "the file and its decoded pixels",
            Step::Render => "the file, its pixels and the encoded output",
            Step::Review => "its pixels, zoom levels and the output proof",
        }
    }
}

/// What one image costs, in bytes, from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryPlan {
    pub width: u32,
    pub height: u32,
    /// The original's bytes, read whole.
    pub file: u64,
    /// The decoder's buffer, in the file's own colour type.
    pub native: u64,
    /// Working memory the decoder keeps beside its buffer (a progressive
    /// JPEG's coefficients).
    pub decoder: u64,
    /// Orientation 5–8 turns the image by 90°, into a new buffer.
    pub rotates: bool,
    /// The decoded colour type is not 8-bit RGB, so a converted copy is made.
    pub converts: bool,
}

/// Bytes of 8-bit RGB for `width` x `height`.
pub(crate) fn rgb_bytes(width: u32, height: u32) -> u64 {
    u64::from(width) * u64::from(height) * 3
}

/// The largest encoded output accepted for `rgb` bytes of pixels: a photo's
/// JPEG or PNG is a fraction of its pixels; even noise at quality 100 stays
/// under this. The encoder's writer refuses to grow past it.
pub(crate) fn output_bound(rgb: u64) -> u64 {
    rgb + rgb / 8 + MIB
}

impl MemoryPlan {
    /// Upright 8-bit RGB pixels.
    pub fn rgb(&self) -> u64 {
        rgb_bytes(self.width, self.height)
    }

    /// The largest encoded output [`output_bound`] accepts for this image.
    pub fn output(&self) -> u64 {
        output_bound(self.rgb())
    }

    /// Decoding and turning upright as 8-bit RGB, with the file in memory.
    fn upright(&self) -> u64 {
        let decode = self.native + self.decoder;
        let rotate = if self.rotates { 2 * self.native } else { 0 };
        let convert = if self.converts {
            self.native + self.rgb()
        } else {
            0
        };
        self.file + decode.max(rotate).max(convert)
    }

    /// The most `step` holds at once for this image.
    pub fn peak(&self, step: Step) -> u64 {
        let rgb = self.rgb();
        match step {
            // The detector's own working set is bounded by its input size
            // (`centerface_max_side`), not by the photo.
            Step::Ingest => self.upright(),
            // Fill in place, encode, drop the pixels, check the container.
            Step::Render => self.upright().max(self.file + rgb + self.output()),
            // The zoom levels (the full image and halves of it, under 4/3
            // of it), a copy to fill for the proof, and its output.
            Step::Review => self.upright().max(rgb + rgb / 3 + rgb + self.output()),
        }
    }

    /// Refuse the image when `step` would need more than the policy allows.
    /// Ingest accepts a photo for every later step, so it checks the largest.
    pub fn check(&self, step: Step, limits: &Limits) -> Result<(), OverPlan> {
        let limit = limits.max_alloc_bytes();
        let steps: &[Step] = match step {
            Step::Ingest => &[Step::Ingest, Step::Render, Step::Review],
            Step::Render => &[Step::Render],
            Step::Review => &[Step::Review],
        };
        match steps.iter().find(|s| self.peak(**s) > limit) {
            Some(&over) => Err(OverPlan {
                step: over.doing(),
                what: over.holds(),
                width: self.width,
                height: self.height,
                needed_mib: self.peak(over).div_ceil(MIB),
                limit_mib: limits.max_alloc_mib,
            }),
            None => Ok(()),
        }
    }
}

/// An image refused because a step would need more memory than the
/// policy's `max_alloc_mib`: which step, what it holds, how much.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{step} this {width}x{height} image would need about {needed_mib} MiB ({what}), over the policy's max_alloc_mib of {limit_mib}; raise it in veil.toml's [limits] if every process that may run at once has that much"
)]
pub struct OverPlan {
    /// The step, in words ("reviewing").
    pub step: &'static str,
    /// What that step holds at its peak.
    pub what: &'static str,
    pub width: u32,
    pub height: u32,
    pub needed_mib: u64,
    pub limit_mib: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(width: u32, height: u32) -> MemoryPlan {
        MemoryPlan {
            width,
            height,
            file: 1_200_000,
            native: rgb_bytes(width, height),
            decoder: 0,
            rotates: false,
            converts: false,
        }
    }

    #[test]
    fn a_20000x20000_rgb_image_is_refused_at_ingest_naming_the_step_that_would_go_over() {
        let err = plan(20_000, 20_000)
            .check(Step::Ingest, &Limits::default())
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("rendering this 20000x20000 image would need about"),
            "{msg}"
        );
        assert!(
            msg.contains("over the policy's max_alloc_mib of 2048"),
            "{msg}"
        );
    }

    #[test]
    fn a_48_mp_phone_photo_fits_every_step_of_the_default_policy() {
        let p = plan(8000, 6000);
        for step in [Step::Ingest, Step::Render, Step::Review] {
            assert_eq!(p.check(step, &Limits::default()), Ok(()), "{step:?}");
        }
        // Review holds the most: pixels, zoom levels, a copy and its output.
        assert!(p.peak(Step::Review) > p.peak(Step::Render));
        assert!(p.peak(Step::Review) < 4 * p.rgb());
    }

    #[test]
    fn a_200_mp_phone_photo_taken_upright_fits_every_step_of_the_default_policy() {
        // 16320 x 12240, a 40 MB JPEG with orientation 6 (held in portrait).
        let p = MemoryPlan {
            file: 40 << 20,
            rotates: true,
            ..plan(16_320, 12_240)
        };
        for step in [Step::Ingest, Step::Render, Step::Review] {
            assert_eq!(p.check(step, &Limits::default()), Ok(()), "{step:?}");
        }
    }

    #[test]
    fn a_rotation_or_a_colour_conversion_counts_its_second_buffer() {
        let plain = plan(4000, 3000);
        let rotated = MemoryPlan {
            rotates: true,
            ..plain
        };
        let grey16 = MemoryPlan {
            native: 4000 * 3000 * 2,
            converts: true,
            ..plain
        };
        assert_eq!(plain.peak(Step::Ingest), plain.file + plain.rgb());
        assert_eq!(rotated.peak(Step::Ingest), plain.file + 2 * plain.rgb());
        assert_eq!(
            grey16.peak(Step::Ingest),
            plain.file + 4000 * 3000 * 2 + plain.rgb()
        );
    }
}
