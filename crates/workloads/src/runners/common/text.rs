//! Tokenizer loading, batch padding and small file/setting parsers shared by the encoder runners.

use std::path::Path;

use anyhow::{Context, Result};
use candle_core::{Device, Tensor};
use tokenizers::{Encoding, Tokenizer, TruncationParams};

/// Load `tokenizer.json` from `path`, switch its own padding off (the runner
/// pads each batch to its longest row) and truncate to `max_len` tokens,
/// special tokens included.
pub(crate) fn load_tokenizer(path: &Path, max_len: usize) -> Result<Tokenizer> {
    let mut tokenizer = Tokenizer::from_file(path)
        .map_err(|e| anyhow::anyhow!("tokenizer {} does not load: {e}", path.display()))?;
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: max_len,
            ..Default::default()
        }))
        .map_err(|e| {
            anyhow::anyhow!(
                "tokenizer {}: cannot truncate to {max_len} tokens: {e}",
                path.display()
            )
        })?;
    Ok(tokenizer)
}

/// One batch of token ids, right-padded to the longest row.
pub(crate) struct Batch {
    /// `[rows, len]` u32 token ids.
    pub ids: Tensor,
    /// `[rows, len]` u32 token type ids.
    pub type_ids: Tensor,
    /// `[rows, len]` u32 attention mask (1 = real token, 0 = padding).
    pub mask: Tensor,
    /// Real tokens per row (special tokens included, padding excluded).
    pub tokens: Vec<usize>,
}

/// Tokenize `texts` (with special tokens) and pad them with `pad_id` into one batch.
pub(crate) fn encode_batch(
    tokenizer: &Tokenizer,
    texts: &[&str],
    pad_id: u32,
    device: &Device,
) -> Result<Batch> {
    let encodings = encode_texts(tokenizer, texts)?;
    let all: Vec<&Encoding> = encodings.iter().collect();
    pad_batch(&all, pad_id, device)
}

/// Tokenize `texts` (with special tokens), one encoding each.
pub(crate) fn encode_texts(tokenizer: &Tokenizer, texts: &[&str]) -> Result<Vec<Encoding>> {
    anyhow::ensure!(!texts.is_empty(), "cannot encode an empty batch");
    texts
        .iter()
        .map(|t| {
            tokenizer
                .encode(*t, true)
                .map_err(|e| anyhow::anyhow!("tokenizing {:?}: {e}", ellipsis(t)))
        })
        .collect()
}

/// Right-pad `encodings` with `pad_id` to the longest into one batch.
pub(crate) fn pad_batch(encodings: &[&Encoding], pad_id: u32, device: &Device) -> Result<Batch> {
    anyhow::ensure!(!encodings.is_empty(), "cannot pad an empty batch");
    let len = encodings.iter().map(|e| e.len()).max().unwrap_or(0).max(1);
    let rows = encodings.len();
    let mut ids = vec![pad_id; rows * len];
    let mut type_ids = vec![0u32; rows * len];
    let mut mask = vec![0u32; rows * len];
    let mut tokens = Vec::with_capacity(rows);
    for (r, enc) in encodings.iter().enumerate() {
        let n = enc.len();
        ids[r * len..r * len + n].copy_from_slice(enc.get_ids());
        type_ids[r * len..r * len + n].copy_from_slice(enc.get_type_ids());
        mask[r * len..r * len + n].copy_from_slice(enc.get_attention_mask());
        tokens.push(enc.get_attention_mask().iter().filter(|&&m| m != 0).count());
    }
    let tensor = |v: Vec<u32>| Tensor::from_vec(v, (rows, len), device);
    Ok(Batch {
        ids: tensor(ids)?,
        type_ids: tensor(type_ids)?,
        mask: tensor(mask)?,
        tokens,
    })
}

/// Parse a `dtype` setting (`f32`, `f16`, `bf16`); `None` means f32.
pub(crate) fn parse_dtype(setting: Option<&str>) -> Result<candle_core::DType> {
    use candle_core::DType;
    match setting {
        None | Some("f32") => Ok(DType::F32),
        Some("f16") => Ok(DType::F16),
        Some("bf16") => Ok(DType::BF16),
        Some(other) => anyhow::bail!("setting `dtype` = {other:?}: expected f32, f16 or bf16"),
    }
}

/// Read and parse a JSON file, naming it in every error.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// The first 40 characters of `s`, for error messages.
pub(crate) fn ellipsis(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}
