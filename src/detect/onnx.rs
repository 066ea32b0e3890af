//! An ONNX model embedded in the binary, as both tract-run detectors use
//! it: its SHA-256 (what items record), the parsed model (once per
//! process), and optimised plans per input size, built on first use.

use super::DetectError;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use tract_onnx::prelude::*;

/// The runtime both embedded models run in; a test holds it to `Cargo.lock`.
pub const RUNTIME: &str = "tract-onnx 0.23.9";

/// The runtime and the instruction sets its kernels may use on this
/// machine: what the CPU has, less what `TRACT_CPU_ISA` takes away
/// (`TRACT_CPU_ISA=-avx512f` runs the AVX2 and FMA kernels a CPU without
/// AVX-512 runs).
pub fn runtime_kernels() -> String {
    let isa = tract_onnx::tract_core::tract_linalg::isa::native();
    format!("{RUNTIME}, kernels for {isa:?}")
}

/// A runnable plan for one input size.
pub type Plan = Arc<TypedSimplePlan>;

/// Photos come in a few sizes (and tiles in fewer); a stream of odd ones
/// must not grow the cache forever.
const MAX_PLANS: usize = 32;

/// One embedded model and what is derived from it, each made once.
pub struct EmbeddedModel {
    bytes: &'static [u8],
    hash: OnceLock<String>,
    parsed: OnceLock<Result<InferenceModel, String>>,
    plans: OnceLock<Mutex<HashMap<(usize, usize), Plan>>>,
}

impl EmbeddedModel {
    pub(crate) const fn new(bytes: &'static [u8]) -> Self {
        EmbeddedModel {
            bytes,
            hash: OnceLock::new(),
            parsed: OnceLock::new(),
            plans: OnceLock::new(),
        }
    }

    /// SHA-256 (hex) of the model's bytes.
    pub(crate) fn sha256(&self) -> &str {
        self.hash
            .get_or_init(|| hex::encode(Sha256::digest(self.bytes)))
    }

    /// The parsed model, without an input size yet.
    pub(crate) fn parsed(&self) -> Result<&InferenceModel, DetectError> {
        self.parsed
            .get_or_init(|| {
                tract_onnx::onnx()
                    .model_for_read(&mut std::io::Cursor::new(self.bytes))
                    .map_err(|e| format!("{e:#}"))
            })
            .as_ref()
            .map_err(|e| DetectError::Model(e.clone()))
    }

    /// The parsed model with a 1×3×`height`×`width` float input and its
    /// outputs left for tract to infer (the files declare them for one size).
    pub(crate) fn sized(&self, width: usize, height: usize) -> TractResult<InferenceModel> {
        let mut model = self.parsed().map_err(|e| anyhow::anyhow!("{e}"))?.clone();
        model.set_input_fact(0, f32::fact([1, 3, height, width]).into())?;
        for output in 0..model.outputs.len() {
            model.set_output_fact(output, InferenceFact::default())?;
        }
        Ok(model)
    }

    /// The plan for (`width`, `height`), made by `build` on first use.
    pub(crate) fn plan(
        &self,
        width: usize,
        height: usize,
        build: impl FnOnce(&Self) -> TractResult<Plan>,
    ) -> TractResult<Plan> {
        let plans = self.plans.get_or_init(Default::default);
        if let Some(p) = plans
            .lock()
            .ok()
            .and_then(|m| m.get(&(width, height)).cloned())
        {
            return Ok(p);
        }
        let plan = build(self)?;
        if let Ok(mut m) = plans.lock() {
            if m.len() >= MAX_PLANS {
                m.clear();
            }
            m.insert((width, height), plan.clone());
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runtime_named_in_reports_is_the_one_cargo_lock_builds() {
        let lock = include_str!("../../Cargo.lock");
        let (name, version) = RUNTIME.split_once(' ').unwrap();
        let entry = format!("name = \"{name}\"\nversion = \"{version}\"");
        assert!(lock.contains(&entry), "Cargo.lock has no {entry}");
        assert!(runtime_kernels().starts_with(RUNTIME));
    }
}
