//! A BERT sentence embedder computed the way sentence-transformers does it:
//! encoder forward pass, pooling over the attention mask (mean by default, or
//! the `[CLS]` token), then L2 normalisation.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use candle_core::{DType, Device, IndexOp, Tensor, D};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::Config;

use super::encoder::BertEncoder;
use serde::{Deserialize, Serialize};
use tokenizers::Tokenizer;

use crate::runners::common::text::{self, encode_texts, pad_batch, read_json};

/// Most texts per forward pass in [`Embedder::embed`] (texts sorted by length first).
pub const SUB_BATCH: usize = 16;

/// Sequence length used when neither the `max_seq_len` setting nor
/// `sentence_bert_config.json` says otherwise.
pub const DEFAULT_MAX_SEQ_LEN: usize = 256;

/// How token states become one sentence vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// Mean of the token states over the attention mask (sentence-transformers' default).
    Mean,
    /// The first (`[CLS]`) token's state.
    Cls,
}

impl std::str::FromStr for Pooling {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "mean" => Ok(Pooling::Mean),
            "cls" => Ok(Pooling::Cls),
            other => anyhow::bail!("pooling {other:?}: expected `mean` or `cls`"),
        }
    }
}

/// The files an [`Embedder`] is built from.
#[derive(Debug, Clone)]
pub struct EmbedderFiles {
    /// The model's `config.json` (a BERT config).
    pub config: PathBuf,
    /// The weights (`model.safetensors`); tensor names may carry a prefix such as `bert.`.
    pub weights: PathBuf,
    /// `tokenizer.json`.
    pub tokenizer: PathBuf,
    /// sentence-transformers' `1_Pooling/config.json`, when the model has one.
    pub pooling_config: Option<PathBuf>,
    /// sentence-transformers' `sentence_bert_config.json`, when the model has one.
    pub sentence_bert_config: Option<PathBuf>,
}

impl EmbedderFiles {
    /// The standard file names inside one directory (optional files only if present).
    pub fn in_dir(dir: &Path) -> Self {
        let optional = |name: &str| Some(dir.join(name)).filter(|p| p.is_file());
        EmbedderFiles {
            config: dir.join("config.json"),
            weights: dir.join("model.safetensors"),
            tokenizer: dir.join("tokenizer.json"),
            pooling_config: optional("1_Pooling/config.json"),
            sentence_bert_config: optional("sentence_bert_config.json"),
        }
    }
}

/// Load-time choices; `None` means "from the model's files, else the default".
#[derive(Debug, Clone, Default)]
pub struct EmbedderOptions {
    /// Truncate inputs to this many tokens (special tokens included).
    pub max_seq_len: Option<usize>,
    /// Weight dtype (`f32` when `None`; only f32 works, see [`Embedder::load`]).
    pub dtype: Option<DType>,
    /// Pooling (from `1_Pooling/config.json`, else mean, when `None`).
    pub pooling: Option<Pooling>,
    /// L2-normalise the pooled vectors (`true` when `None`, as sentence-transformers'
    /// `Normalize` module does).
    pub normalize: Option<bool>,
}

/// Sentence embeddings of a batch of texts.
#[derive(Debug, Clone)]
pub struct Embeddings {
    /// One vector per text (unit length unless normalisation is off).
    pub vectors: Vec<Vec<f32>>,
    /// Tokens fed to the model per text (special tokens included, padding excluded).
    pub tokens: Vec<usize>,
}

/// A loaded BERT encoder + tokenizer producing sentence embeddings.
pub struct Embedder {
    model: BertEncoder,
    tokenizer: Tokenizer,
    files: EmbedderFiles,
    device: Device,
    dtype: DType,
    pooling: Pooling,
    normalize: bool,
    max_seq_len: usize,
    hidden: usize,
    pad_id: u32,
}

#[derive(Deserialize)]
struct PoolingConfig {
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
    #[serde(default)]
    pooling_mode_mean_sqrt_len_tokens: bool,
}

#[derive(Deserialize)]
struct SentenceBertConfig {
    max_seq_length: Option<usize>,
}

impl Embedder {
    /// Load the encoder from `files` onto `device`.
    ///
    /// Checks the safetensors file first (a truncated download is reported as
    /// such), memory-maps the weights and finds their name prefix. Only f32 is
    /// accepted: Candle 0.11.1's BERT turns every output into NaN in f16/bf16.
    pub fn load(files: EmbedderFiles, options: &EmbedderOptions, device: &Device) -> Result<Self> {
        let config: Config = read_json(&files.config)
            .with_context(|| format!("BERT config {}", files.config.display()))?;
        let max_seq_len = resolve_max_seq_len(&files, options, &config)?;
        let pooling = match options.pooling {
            Some(p) => p,
            None => pooling_from_config(files.pooling_config.as_deref())?,
        };
        let dtype = options.dtype.unwrap_or(DType::F32);
        // candle-transformers 0.11.1's BERT builds its attention mask as
        // (1 - mask) × f32::MIN in the model dtype; in f16/bf16 that constant
        // is -inf and 0 × -inf gives NaN for every attended position.
        anyhow::ensure!(
            dtype == DType::F32,
            "dtype {} is not supported for BERT encoders: Candle's BERT attention mask \
             overflows in half precision and every output is NaN; use f32",
            dtype.as_str()
        );

        crate::integrity::check_safetensors(&files.weights)?;
        let prefix = weight_prefix(&files.weights)?;
        // SAFETY: the file is memory-mapped read-only; like every Candle user we
        // rely on it not being modified while the model is loaded.
        let vb = unsafe {
            VarBuilder::from_mmaped_safetensors(std::slice::from_ref(&files.weights), dtype, device)
        }
        .with_context(|| format!("mapping weights {}", files.weights.display()))?;
        let vb = if prefix.is_empty() {
            vb
        } else {
            vb.pp(prefix.trim_end_matches('.'))
        };
        let model = BertEncoder::load(vb, &config).with_context(|| {
            format!(
                "loading BERT weights from {} (config {})",
                files.weights.display(),
                files.config.display()
            )
        })?;
        let tokenizer = text::load_tokenizer(&files.tokenizer, max_seq_len)?;
        Ok(Embedder {
            model,
            tokenizer,
            device: device.clone(),
            dtype,
            pooling,
            normalize: options.normalize.unwrap_or(true),
            max_seq_len,
            hidden: config.hidden_size,
            pad_id: config.pad_token_id as u32,
            files,
        })
    }

    /// Embed `texts`: pooled (and, by default, L2-normalised) vectors, in the order given.
    ///
    /// The texts are sorted by token count and run in padded sub-batches of at most
    /// [`SUB_BATCH`] texts, so that short texts are not padded to the longest of the whole
    /// batch (on the default sentence pairs, batch 32: 37% padded positions in one batch,
    /// 9% in sub-batches of 16). Padding is masked out, so each text's vector does not depend
    /// on its batch beyond float rounding.
    pub fn embed(&self, texts: &[&str]) -> Result<Embeddings> {
        let encodings = encode_texts(&self.tokenizer, texts)?;
        let mut order: Vec<usize> = (0..encodings.len()).collect();
        order.sort_by_key(|&i| encodings[i].len());
        let mut vectors = vec![Vec::new(); encodings.len()];
        let mut tokens = vec![0; encodings.len()];
        for chunk in order.chunks(SUB_BATCH) {
            let part: Vec<&tokenizers::Encoding> = chunk.iter().map(|&i| &encodings[i]).collect();
            let batch = pad_batch(&part, self.pad_id, &self.device)?;
            let pooled = self
                .device
                .with_context(|| self.forward_pooled(&batch.ids, &batch.type_ids, &batch.mask))
                .context("BERT forward pass")?;
            for ((&i, v), t) in chunk.iter().zip(pooled).zip(batch.tokens) {
                vectors[i] = v;
                tokens[i] = t;
            }
        }
        Ok(Embeddings { vectors, tokens })
    }

    fn forward_pooled(
        &self,
        ids: &Tensor,
        type_ids: &Tensor,
        mask: &Tensor,
    ) -> candle_core::Result<Vec<Vec<f32>>> {
        let states = self
            .model
            .forward(ids, type_ids, mask)?
            .to_dtype(DType::F32)?;
        let pooled = match self.pooling {
            Pooling::Cls => states.i((.., 0, ..))?.contiguous()?,
            Pooling::Mean => {
                let m = mask.to_dtype(DType::F32)?.unsqueeze(D::Minus1)?;
                let summed = states.broadcast_mul(&m)?.sum(1)?;
                let counts = m.sum(1)?.clamp(1e-9f32, f32::MAX)?;
                summed.broadcast_div(&counts)?
            }
        };
        if !self.normalize {
            return pooled.to_vec2::<f32>();
        }
        let norms = pooled
            .sqr()?
            .sum_keepdim(D::Minus1)?
            .sqrt()?
            .clamp(1e-12f32, f32::MAX)?;
        pooled.broadcast_div(&norms)?.to_vec2::<f32>()
    }

    /// The files this embedder was loaded from.
    pub fn files(&self) -> &EmbedderFiles {
        &self.files
    }

    /// Embedding width.
    pub fn dim(&self) -> usize {
        self.hidden
    }

    /// The dtype the weights run in, as a string (`f32`, `f16`, `bf16`).
    pub fn dtype_name(&self) -> String {
        self.dtype.as_str().to_string()
    }

    /// The pooling in use.
    pub fn pooling(&self) -> Pooling {
        self.pooling
    }

    /// Whether vectors are L2-normalised.
    pub fn normalize(&self) -> bool {
        self.normalize
    }

    /// The truncation length in use.
    pub fn max_seq_len(&self) -> usize {
        self.max_seq_len
    }
}

/// Cosine similarity of two vectors (their dot product when both are unit length).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    (dot / (na * nb)).clamp(-1.0, 1.0)
}

fn resolve_max_seq_len(
    files: &EmbedderFiles,
    options: &EmbedderOptions,
    config: &Config,
) -> Result<usize> {
    let limit = config.max_position_embeddings;
    if let Some(n) = options.max_seq_len {
        anyhow::ensure!(n >= 2, "setting `max_seq_len` = {n}: must be at least 2");
        anyhow::ensure!(
            n <= limit,
            "setting `max_seq_len` = {n} exceeds the model's max_position_embeddings ({limit}) in {}",
            files.config.display()
        );
        return Ok(n);
    }
    let from_st = match &files.sentence_bert_config {
        Some(path) => read_json::<SentenceBertConfig>(path)?.max_seq_length,
        None => None,
    };
    Ok(from_st.unwrap_or(DEFAULT_MAX_SEQ_LEN).min(limit))
}

fn pooling_from_config(path: Option<&Path>) -> Result<Pooling> {
    let Some(path) = path else {
        return Ok(Pooling::Mean);
    };
    let cfg: PoolingConfig = read_json(path)?;
    match (
        cfg.pooling_mode_cls_token,
        cfg.pooling_mode_mean_tokens,
        cfg.pooling_mode_max_tokens || cfg.pooling_mode_mean_sqrt_len_tokens,
    ) {
        (true, false, false) => Ok(Pooling::Cls),
        (false, true, false) => Ok(Pooling::Mean),
        _ => anyhow::bail!(
            "{}: only a single `cls` or `mean` pooling mode is supported",
            path.display()
        ),
    }
}

/// The name prefix before `embeddings.word_embeddings.weight` (`""`, `"bert."`, ...).
fn weight_prefix(path: &Path) -> Result<String> {
    // SAFETY: read-only memory map, dropped before returning.
    let st = unsafe { candle_core::safetensors::MmapedSafetensors::new(path) }
        .with_context(|| format!("reading tensor names of {}", path.display()))?;
    const SUFFIX: &str = "embeddings.word_embeddings.weight";
    st.tensors()
        .iter()
        .filter_map(|(name, _)| name.strip_suffix(SUFFIX).map(str::to_string))
        .min_by_key(|p| p.len())
        .with_context(|| {
            format!(
                "{} has no `{SUFFIX}` tensor: not a BERT checkpoint",
                path.display()
            )
        })
}
