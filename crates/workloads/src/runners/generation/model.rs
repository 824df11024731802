//! The decoder models behind the generation runner: GGUF (quantized llama, qwen2, qwen3,
//! gemma3) and safetensors llama, each with its KV cache.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use candle_core::quantized::gguf_file::{self, Content, Value};
use candle_core::quantized::GgmlDType;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::{llama, quantized_qwen2, quantized_qwen3};

use super::gemma3 as quantized_gemma3;
use super::llama as quantized_llama;

/// The GGUF model families (`arch` in models.toml) and the `general.architecture` each needs.
pub const GGUF_ARCHES: [(&str, &str); 4] = [
    ("quantized-llama", "llama"),
    ("quantized-qwen2", "qwen2"),
    ("quantized-qwen3", "qwen3"),
    ("quantized-gemma3", "gemma3"),
];

/// A loaded decoder with its KV cache.
pub enum Backend {
    /// Llama through this crate's copy of candle's module (`llama.rs`: Q4_1 matmul kernel).
    QuantizedLlama(quantized_llama::ModelWeights),
    QuantizedQwen2(quantized_qwen2::ModelWeights),
    QuantizedQwen3(quantized_qwen3::ModelWeights),
    /// Gemma 3 through this crate's corrected copy of candle's module (`gemma3.rs`).
    QuantizedGemma3(Box<quantized_gemma3::ModelWeights>),
    Llama {
        model: llama::Llama,
        /// An empty cache (rotary tables built once); cloned to start each query.
        fresh: Box<llama::Cache>,
        cache: Box<llama::Cache>,
    },
}

impl Backend {
    /// Drop the KV cache: the next [`Backend::forward`] must start at position 0.
    pub fn reset(&mut self) {
        match self {
            Backend::QuantizedLlama(m) => m.clear_kv_cache(),
            Backend::QuantizedQwen2(m) => m.clear_kv_cache(),
            Backend::QuantizedQwen3(m) => m.clear_kv_cache(),
            Backend::QuantizedGemma3(m) => m.clear_kv_cache(),
            Backend::Llama { fresh, cache, .. } => *cache = fresh.clone(),
        }
    }

    /// Feed `tokens` at positions `pos..pos + tokens.len()` (appending to the KV cache) and
    /// return the next-token logits of the last position, as a 1-D f32 tensor.
    pub fn forward(&mut self, tokens: &[u32], pos: usize, device: &Device) -> Result<Tensor> {
        let input = Tensor::new(tokens, device)?.unsqueeze(0)?;
        let logits = match self {
            Backend::QuantizedLlama(m) => m.forward(&input, pos)?,
            Backend::QuantizedQwen2(m) => m.forward(&input, pos)?,
            Backend::QuantizedQwen3(m) => m.forward(&input, pos)?,
            Backend::QuantizedGemma3(model) => {
                // candle's sliding-window mask is only built for multi-token inputs at position
                // 0; later chunks of several tokens would get a wrong mask.
                if tokens.len() > 1 && pos > 0 {
                    bail!("quantized-gemma3: several tokens at position {pos} are not supported");
                }
                model.forward(&input, pos)?
            }
            Backend::Llama { model, cache, .. } => model.forward(&input, pos, cache)?,
        };
        Ok(logits.squeeze(0)?.to_dtype(DType::F32)?)
    }
}

/// A GGUF model loaded for generation.
pub struct GgufModel {
    pub backend: Backend,
    /// The file's metadata (tokenizer, chat template).
    pub metadata: HashMap<String, Value>,
    /// The dominant tensor type by parameter count, e.g. `q4_1`.
    pub dtype: String,
    /// The longest sequence (prompt + generated) the model accepts.
    pub max_seq_len: usize,
}

/// llama.cpp's names for the ggml tensor types.
pub fn ggml_dtype_name(dtype: GgmlDType) -> &'static str {
    match dtype {
        GgmlDType::F32 => "f32",
        GgmlDType::F16 => "f16",
        GgmlDType::BF16 => "bf16",
        GgmlDType::Q4_0 => "q4_0",
        GgmlDType::Q4_1 => "q4_1",
        GgmlDType::Q5_0 => "q5_0",
        GgmlDType::Q5_1 => "q5_1",
        GgmlDType::Q8_0 => "q8_0",
        GgmlDType::Q8_1 => "q8_1",
        GgmlDType::Q2K => "q2_k",
        GgmlDType::Q3K => "q3_k",
        GgmlDType::Q4K => "q4_k",
        GgmlDType::Q5K => "q5_k",
        GgmlDType::Q6K => "q6_k",
        GgmlDType::Q8K => "q8_k",
    }
}

/// The tensor type holding most of the parameters (ties: the first name in sort order).
fn dominant_dtype(ct: &Content) -> String {
    let mut by_type: HashMap<&'static str, usize> = HashMap::new();
    for info in ct.tensor_infos.values() {
        *by_type.entry(ggml_dtype_name(info.ggml_dtype)).or_default() += info.shape.elem_count();
    }
    let mut counts: Vec<_> = by_type.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    counts
        .first()
        .map(|(name, _)| name.to_string())
        .unwrap_or_else(|| "unknown".to_string())
}

fn meta_u32(ct: &Content, key: &str) -> Option<usize> {
    ct.metadata
        .get(key)
        .and_then(|v| v.to_u32().ok())
        .map(|v| v as usize)
}

/// Read a GGUF header (metadata and tensor table) with errors naming the file.
pub fn read_gguf(path: &Path) -> Result<Content> {
    let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    gguf_file::Content::read(&mut file)
        .with_context(|| format!("{} is not a readable GGUF file", path.display()))
}

/// Load a GGUF model of family `arch` (one of [`GGUF_ARCHES`]).
pub fn load_gguf(path: &Path, arch: &str, device: &Device) -> Result<GgufModel> {
    let content = read_gguf(path)?;
    let general = content
        .metadata
        .get("general.architecture")
        .and_then(|v| v.to_string().ok())
        .cloned()
        .unwrap_or_default();
    let Some((_, want)) = GGUF_ARCHES.iter().find(|(a, _)| *a == arch) else {
        bail!(
            "arch `{arch}` is not a GGUF family (known: {})",
            GGUF_ARCHES.map(|(a, _)| a).join(", ")
        );
    };
    if general != *want {
        let hint = GGUF_ARCHES
            .iter()
            .find(|(_, g)| *g == general)
            .map(|(a, _)| format!("; set arch = \"{a}\""))
            .unwrap_or_default();
        bail!(
            "{}: GGUF general.architecture is `{general}`, but arch `{arch}` needs `{want}`{hint}",
            path.display()
        );
    }
    let dtype = dominant_dtype(&content);
    // candle's quantized llama builds its rotary tables for MAX_SEQ_LEN positions.
    let max_seq_len = match arch {
        "quantized-llama" => meta_u32(&content, "llama.context_length")
            .unwrap_or(quantized_llama::MAX_SEQ_LEN)
            .min(quantized_llama::MAX_SEQ_LEN),
        // candle's quantized Gemma 3 applies the sliding window only to multi-token inputs (its
        // single-token decode steps attend to the whole cache), so sequences are kept within
        // the window, where that makes no difference.
        "quantized-gemma3" => {
            let ctx = meta_u32(&content, "gemma3.context_length")
                .unwrap_or(quantized_gemma3::MAX_SEQ_LEN)
                .min(quantized_gemma3::MAX_SEQ_LEN);
            match meta_u32(&content, "gemma3.attention.sliding_window") {
                Some(w) if w > 0 => ctx.min(w),
                _ => ctx,
            }
        }
        _ => meta_u32(&content, &format!("{want}.context_length"))
            .with_context(|| format!("{}: GGUF has no `{want}.context_length`", path.display()))?,
    };
    let metadata = content.metadata.clone();

    let mut file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let ctx = || format!("cannot load the {arch} weights from {}", path.display());
    let backend = match arch {
        "quantized-llama" => Backend::QuantizedLlama(
            quantized_llama::ModelWeights::from_gguf(content, &mut file, device)
                .with_context(ctx)?,
        ),
        "quantized-qwen2" => Backend::QuantizedQwen2(
            quantized_qwen2::ModelWeights::from_gguf(content, &mut file, device)
                .with_context(ctx)?,
        ),
        "quantized-gemma3" => Backend::QuantizedGemma3(Box::new(
            quantized_gemma3::ModelWeights::from_gguf(content, &mut file, max_seq_len, device)
                .with_context(ctx)?,
        )),
        _ => Backend::QuantizedQwen3(
            quantized_qwen3::ModelWeights::from_gguf(content, &mut file, device)
                .with_context(ctx)?,
        ),
    };
    Ok(GgufModel {
        backend,
        metadata,
        dtype,
        max_seq_len,
    })
}

/// A safetensors llama loaded for generation.
pub struct LlamaModel {
    pub backend: Backend,
    pub config: llama::LlamaConfig,
    /// The dtype the weights run in, e.g. `f32`.
    pub dtype: String,
    pub max_seq_len: usize,
}

/// Parse a `config.json` for `models::llama`.
pub fn read_llama_config(path: &Path) -> Result<llama::LlamaConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{}: not a llama config.json", path.display()))
}

/// Check that every tensor `models::llama` will ask for exists with the right shape: its loader
/// panics (rather than erring) on a missing block tensor.
fn check_llama_tensors(vb: &VarBuilder, cfg: &llama::Config) -> Result<()> {
    let h = cfg.hidden_size;
    let head_dim = h / cfg.num_attention_heads;
    let kv = head_dim * cfg.num_key_value_heads;
    let i = cfg.intermediate_size;
    let mut want: Vec<(String, Vec<usize>)> = vec![
        ("model.embed_tokens.weight".into(), vec![cfg.vocab_size, h]),
        ("model.norm.weight".into(), vec![h]),
    ];
    if !cfg.tie_word_embeddings {
        want.push(("lm_head.weight".into(), vec![cfg.vocab_size, h]));
    }
    for l in 0..cfg.num_hidden_layers {
        let p = format!("model.layers.{l}");
        want.extend([
            (format!("{p}.self_attn.q_proj.weight"), vec![h, h]),
            (format!("{p}.self_attn.k_proj.weight"), vec![kv, h]),
            (format!("{p}.self_attn.v_proj.weight"), vec![kv, h]),
            (format!("{p}.self_attn.o_proj.weight"), vec![h, h]),
            (format!("{p}.mlp.gate_proj.weight"), vec![i, h]),
            (format!("{p}.mlp.up_proj.weight"), vec![i, h]),
            (format!("{p}.mlp.down_proj.weight"), vec![h, i]),
            (format!("{p}.input_layernorm.weight"), vec![h]),
            (format!("{p}.post_attention_layernorm.weight"), vec![h]),
        ]);
    }
    for (name, shape) in want {
        vb.get(shape.as_slice(), &name)
            .with_context(|| format!("safetensors weights: tensor `{name}`"))?;
    }
    Ok(())
}

/// Load a llama from `config.json` and one or more safetensors files, running in `dtype`.
pub fn load_llama(
    config_path: &Path,
    weights: &[PathBuf],
    dtype: DType,
    device: &Device,
) -> Result<LlamaModel> {
    let config = read_llama_config(config_path)?;
    if config.num_attention_heads == 0
        || !config
            .hidden_size
            .is_multiple_of(config.num_attention_heads)
        || config.num_key_value_heads() == 0
        || !config
            .num_attention_heads
            .is_multiple_of(config.num_key_value_heads())
    {
        bail!(
            "{}: hidden_size {} / num_attention_heads {} / num_key_value_heads {} do not divide",
            config_path.display(),
            config.hidden_size,
            config.num_attention_heads,
            config.num_key_value_heads()
        );
    }
    let cfg = config.clone().into_config(false);
    // SAFETY: the files are memory-mapped read-only; frugalbench does not modify model files
    // while a run holds them (the same contract as candle's own examples).
    let vb = unsafe { VarBuilder::from_mmaped_safetensors(weights, dtype, device) }
        .context("cannot map the safetensors weights")?;
    check_llama_tensors(&vb, &cfg)?;
    let model = llama::Llama::load(vb, &cfg).context("cannot load the llama weights")?;
    let fresh =
        llama::Cache::new(true, dtype, &cfg, device).context("cannot build the llama KV cache")?;
    Ok(LlamaModel {
        backend: Backend::Llama {
            model,
            cache: Box::new(fresh.clone()),
            fresh: Box::new(fresh),
        },
        max_seq_len: config.max_position_embeddings,
        config,
        dtype: dtype_name(dtype).to_string(),
    })
}

/// `f32`, `f16`, `bf16`, …
pub fn dtype_name(dtype: DType) -> &'static str {
    dtype.as_str()
}
