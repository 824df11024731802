//! The Whisper network in either of candle-transformers' two forms: `model::Whisper` from a
//! safetensors checkpoint (f32), or `quantized_model::Whisper` from a GGUF file (the
//! `quantize` setting's output, `fetch/quantize.rs`). The file's extension decides.

use std::path::Path;

use anyhow::{Context, Result};
use candle_core::quantized::{gguf_file, GgmlDType};
use candle_core::{Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::whisper::{self as w, model, quantized_model};

/// A loaded Whisper, f32 or quantized.
pub enum WhisperNet {
    F32(model::Whisper),
    Quantized {
        model: quantized_model::Whisper,
        /// The quantized weights' dtype, e.g. `q8_0`.
        dtype: String,
    },
}

impl WhisperNet {
    /// Load `weights` (`.gguf`: quantized; anything else: safetensors) for `cfg`.
    pub fn load(weights: &Path, cfg: &w::Config, device: &Device) -> Result<WhisperNet> {
        let is_gguf = weights
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gguf"));
        if is_gguf {
            let dtype = gguf_dtype(weights)?;
            let vb =
                candle_transformers::quantized_var_builder::VarBuilder::from_gguf(weights, device)
                    .with_context(|| format!("{}: not a readable GGUF file", weights.display()))?;
            let model = quantized_model::Whisper::load(&vb, cfg.clone())
                .with_context(|| format!("{}: weights do not fit the config", weights.display()))?;
            return Ok(WhisperNet::Quantized { model, dtype });
        }
        crate::integrity::check_safetensors(weights)?;
        // SAFETY: the file was checked above and is not modified while mapped.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[weights], w::DTYPE, device)? };
        let model = model::Whisper::load(&vb, cfg.clone())
            .with_context(|| format!("{}: weights do not fit the config", weights.display()))?;
        Ok(WhisperNet::F32(model))
    }

    /// Encoder: `(batch, n_mels, frames)` → `(batch, ⌈frames / 2⌉, d_model)`.
    pub fn encode(&mut self, mel: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            WhisperNet::F32(m) => m.encoder.forward(mel, true),
            WhisperNet::Quantized { model, .. } => model.encoder.forward(mel, true),
        }
    }

    /// Decoder hidden states of `tokens` over the encoder output (`flush`: drop the cached
    /// cross-attention keys/values).
    pub fn decode(
        &mut self,
        tokens: &Tensor,
        features: &Tensor,
        flush: bool,
    ) -> candle_core::Result<Tensor> {
        match self {
            WhisperNet::F32(m) => m.decoder.forward(tokens, features, flush),
            WhisperNet::Quantized { model, .. } => model.decoder.forward(tokens, features, flush),
        }
    }

    /// Logits over the vocabulary of decoder hidden states.
    pub fn final_linear(&self, h: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            WhisperNet::F32(m) => m.decoder.final_linear(h),
            WhisperNet::Quantized { model, .. } => model.decoder.final_linear(h),
        }
    }

    /// `f32`, or the quantized dtype (`q8_0`, ...).
    pub fn dtype(&self) -> String {
        match self {
            WhisperNet::F32(_) => "f32".to_string(),
            WhisperNet::Quantized { dtype, .. } => dtype.clone(),
        }
    }
}

/// The dtype name of a GGUF file's quantized tensors (`q8_0`; several joined by `+`), `f32` when
/// none is quantized.
pub fn gguf_dtype(path: &Path) -> Result<String> {
    let mut f =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let content = gguf_file::Content::read(&mut f)
        .with_context(|| format!("{}: not a readable GGUF file", path.display()))?;
    let mut names: Vec<String> = content
        .tensor_infos
        .values()
        .map(|t| t.ggml_dtype)
        .filter(|d| !matches!(d, GgmlDType::F32 | GgmlDType::F16 | GgmlDType::BF16))
        .map(|d| format!("{d:?}").to_ascii_lowercase())
        .collect();
    names.sort();
    names.dedup();
    Ok(if names.is_empty() {
        "f32".to_string()
    } else {
        names.join("+")
    })
}
