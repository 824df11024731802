//! A tiny random-weight llama written by code, so text-generation tests run offline.
//!
//! [`write_tiny_llama`] learns a small byte-level BPE vocabulary (specials + 256 bytes + a few
//! hundred merges) from a built-in corpus, draws deterministic random weights, and writes the
//! same model twice:
//! - `hf/`: `config.json`, `model.safetensors`, `tokenizer.json` (the reference Hugging Face
//!   tokenizer) and, with a chat template, `tokenizer_config.json`;
//! - `gguf/`: `tiny-f32.gguf` (every tensor F32) and `tiny-f16.gguf` (matrices F16, norms F32),
//!   with llama.cpp's tensor names, `llama.*` hyper-parameters and `tokenizer.ggml.*` metadata.
//!
//! llama.cpp's converter permutes the rows of `q_proj`/`k_proj` so that the interleaved rotary
//! embedding of the GGUF runtime (pairs `2i, 2i+1`) computes what the half-rotated rotary
//! embedding of the Hugging Face layout (pairs `i, i + head_dim/2`) computes; the GGUF writer
//! here applies the same permutation, so both files hold the same function.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Read};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use candle_core::quantized::gguf_file::{self, Value};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use sha2::{Digest, Sha256};
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::normalizers::unicode::NFC;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::processors::byte_level::ByteLevel as ByteLevelProcessor;
use tokenizers::tokenizer::{
    OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer, SplitDelimiterBehavior,
};
use tokenizers::{AddedToken, Tokenizer};

use crate::catalogue::{ModelEntry, Source};
use crate::datasets::{DatasetRows, LoadedDataset, PromptRow};
use crate::fetch::{FileRecord, ModelFiles};
use crate::Task;

/// A ChatML template like SmolLM2's (without its default system prompt).
pub const CHATML_TEMPLATE: &str = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

/// The special tokens, ids 0.. (SmolLM2's first three).
pub const SPECIAL_TOKENS: [&str; 3] = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];
/// `<|im_start|>`.
pub const BOS_ID: u32 = 1;
/// `<|im_end|>`.
pub const EOS_ID: u32 = 2;

/// Shape and tokenizer of the tiny model.
#[derive(Debug, Clone)]
pub struct TinyLlamaOptions {
    /// Seed of the random weights.
    pub seed: u64,
    pub hidden_size: usize,
    pub num_layers: usize,
    pub num_heads: usize,
    pub num_kv_heads: usize,
    pub intermediate_size: usize,
    /// How many BPE merges to learn at most (the vocabulary is 3 + 256 + merges).
    pub merges: usize,
    /// `tokenizer.ggml.pre` written to the GGUF. The reference `tokenizer.json` gets the matching
    /// Hugging Face pre-tokenizer for `gpt2`, `smollm`, `llama3`/`llama-bpe` and `qwen2`; any
    /// other value is written as is (with the `smollm` reference), to test rejection.
    pub pre: String,
    /// Written to the GGUF (`tokenizer.chat_template`) and to `tokenizer_config.json`.
    pub chat_template: Option<String>,
    /// `lm_head` shares the embedding matrix (no `output.weight` in the GGUF).
    pub tie_embeddings: bool,
    pub max_position_embeddings: usize,
    /// Write the GGUF's q/k rows unpermuted (a deliberately wrong file: tests use it to show that
    /// GGUF-vs-safetensors agreement depends on the permutation).
    pub gguf_skip_qk_permutation: bool,
}

impl Default for TinyLlamaOptions {
    fn default() -> Self {
        TinyLlamaOptions {
            seed: 42,
            hidden_size: 64,
            num_layers: 2,
            num_heads: 4,
            num_kv_heads: 2,
            intermediate_size: 128,
            merges: 200,
            pre: "smollm".to_string(),
            chat_template: None,
            tie_embeddings: false,
            max_position_embeddings: 512,
            gguf_skip_qk_permutation: false,
        }
    }
}

/// Paths of a written tiny llama.
#[derive(Debug, Clone)]
pub struct TinyLlama {
    pub dir: PathBuf,
    /// `config.json`, `model.safetensors`, `tokenizer.json` (+ `tokenizer_config.json`).
    pub hf_dir: PathBuf,
    pub gguf_f32: PathBuf,
    pub gguf_f16: PathBuf,
    /// The same weights with every matrix in Q4_1 (llama.cpp's `Q4_1` file type, as the
    /// SmolLM2 file the default suite runs).
    pub gguf_q4_1: PathBuf,
    pub vocab_size: usize,
    pub options: TinyLlamaOptions,
}

impl TinyLlama {
    /// The Hugging Face-layout files as a fetched model.
    pub fn hf_files(&self) -> Result<ModelFiles> {
        files_in(&self.hf_dir, "tiny-llama")
    }

    /// One GGUF file (F32 or F16) as a fetched model; `with_tokenizer_json` adds the reference
    /// `tokenizer.json`, which the runner then prefers over the GGUF metadata.
    pub fn gguf_files(&self, f16: bool, with_tokenizer_json: bool) -> Result<ModelFiles> {
        let path = if f16 { &self.gguf_f16 } else { &self.gguf_f32 };
        let mut files = vec![file_record(path)?];
        if with_tokenizer_json {
            files.push(file_record(&self.hf_dir.join("tokenizer.json"))?);
        }
        Ok(ModelFiles {
            root: self.dir.clone(),
            origin: format!("path:{}", self.dir.display()),
            revision: None,
            files,
            model_id: "tiny-llama-gguf".to_string(),
        })
    }

    /// The reference Hugging Face tokenizer.
    pub fn reference_tokenizer(&self) -> Result<Tokenizer> {
        let p = self.hf_dir.join("tokenizer.json");
        Tokenizer::from_file(&p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))
    }
}

/// A catalogue entry for a fixture model (`arch` e.g. `quantized-llama` or `llama`).
pub fn tiny_entry(id: &str, arch: &str, dir: &Path) -> ModelEntry {
    ModelEntry {
        id: id.to_string(),
        tasks: vec![Task::TextGeneration],
        arch: arch.to_string(),
        default: false,
        description: None,
        source: Source::Path(dir.to_path_buf()),
        mirror: None,
        settings: toml::Table::new(),
    }
}

/// A text-generation dataset from rows.
pub fn prompt_dataset(rows: Vec<PromptRow>) -> LoadedDataset {
    LoadedDataset {
        id: "tiny-prompts".to_string(),
        path: None,
        sha256: String::new(),
        rows: DatasetRows::Generation(rows),
    }
}

/// Every file directly inside `dir`, hashed, as a fetched model.
pub fn files_in(dir: &Path, model_id: &str) -> Result<ModelFiles> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = e?.path();
        if path.is_file() {
            files.push(file_record(&path)?);
        }
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(ModelFiles {
        root: dir.to_path_buf(),
        origin: format!("path:{}", dir.display()),
        revision: None,
        files,
        model_id: model_id.to_string(),
    })
}

/// One model file (e.g. a GGUF) as a fetched model.
pub fn single_file(path: &Path, model_id: &str) -> Result<ModelFiles> {
    let root = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    Ok(ModelFiles {
        origin: format!("path:{}", path.display()),
        root,
        revision: None,
        files: vec![file_record(path)?],
        model_id: model_id.to_string(),
    })
}

fn file_record(path: &Path) -> Result<FileRecord> {
    let mut f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok(FileRecord {
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        path: path.to_path_buf(),
        sha256: hex::encode(hasher.finalize()),
        bytes,
    })
}

/// The text the fixture's BPE merges are learned from.
pub const CORPUS: &str = "The capital of France is Paris. The capital of Japan is Tokyo.
What is the capital of Italy? Rome is the capital of Italy, and the city is old.
Energy is measured in joules; power is measured in watts. One watt-hour is 3600 joules.
A model that uses less energy per token is more frugal than one that uses more.
fn main() { println!(\"hello, world\"); let x = 12345 + 678; }
def add(a, b):\n    return a + b\n
I don't think it's late. We'll see, they're here and you've been there. I'll go.
Numbers: 0 1 2 3 4 5 6 7 8 9 10 100 1000 3.14159 2.71828 42.
The quick brown fox jumps over the lazy dog. the the the and and of of to to in in.
Une phrase en français: le café est naïve? Tokyo is 東京 in Japanese. 🙂
";

/// GPT-2's byte-to-unicode table: printable bytes map to themselves, the rest to U+0100…
pub fn byte_to_char() -> [char; 256] {
    let mut table = ['\0'; 256];
    let mut n = 0u32;
    for b in 0..=255u8 {
        let printable = (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || b >= 0xAE;
        table[b as usize] = if printable {
            char::from(b)
        } else {
            let c = char::from_u32(256 + n).unwrap_or('\0');
            n += 1;
            c
        };
    }
    table
}

const REGEX_LLAMA3: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
const REGEX_QWEN2: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// The Hugging Face pre-tokenizer (and whether an NFC normalizer goes first) of the model family
/// that writes `pre` into its GGUF files.
fn reference_pre_tokenizer(pre: &str) -> Result<(PreTokenizerWrapper, bool)> {
    let split = |re: &str| -> Result<PreTokenizerWrapper> {
        Ok(Split::new(
            SplitPattern::Regex(re.into()),
            SplitDelimiterBehavior::Isolated,
            false,
        )
        .map_err(|e| anyhow::anyhow!("bad regex: {e}"))?
        .into())
    };
    Ok(match pre {
        "gpt2" => (ByteLevel::new(false, true, true).into(), false),
        "llama3" | "llama-bpe" => (
            Sequence::new(vec![
                split(REGEX_LLAMA3)?,
                ByteLevel::new(false, true, false).into(),
            ])
            .into(),
            false,
        ),
        "qwen2" => (
            Sequence::new(vec![
                split(REGEX_QWEN2)?,
                ByteLevel::new(false, false, false).into(),
            ])
            .into(),
            true,
        ),
        // smollm and anything else: SmolLM2's tokenizer.json.
        _ => (
            Sequence::new(vec![
                Digits::new(true).into(),
                ByteLevel::new(false, true, true).into(),
            ])
            .into(),
            false,
        ),
    })
}

/// Learn up to `n_merges` byte-level BPE merges from `corpus` (most frequent pair first, ties to
/// the smallest pair), deterministically. Returns the merged tokens in order and the merges.
fn learn_bpe(
    corpus: &str,
    pre: &PreTokenizerWrapper,
    n_merges: usize,
) -> Result<Vec<(String, String)>> {
    let mut pre_tokenized = PreTokenizedString::from(corpus);
    pre.pre_tokenize(&mut pre_tokenized)
        .map_err(|e| anyhow::anyhow!("pre-tokenizing the corpus: {e}"))?;
    let mut counts: HashMap<String, usize> = HashMap::new();
    for (piece, _, _) in pre_tokenized.get_splits(OffsetReferential::Original, OffsetType::Byte) {
        *counts.entry(piece.to_string()).or_default() += 1;
    }
    let mut words: Vec<(Vec<String>, usize)> = counts
        .into_iter()
        .map(|(w, c)| (w.chars().map(String::from).collect(), c))
        .collect();
    words.sort();
    let mut merges = Vec::new();
    while merges.len() < n_merges {
        let mut pairs: HashMap<(&str, &str), usize> = HashMap::new();
        for (syms, c) in &words {
            for w in syms.windows(2) {
                *pairs.entry((w[0].as_str(), w[1].as_str())).or_default() += c;
            }
        }
        let best = pairs
            .into_iter()
            .filter(|(_, c)| *c >= 2)
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|((a, b), _)| (a.to_string(), b.to_string()));
        let Some((a, b)) = best else { break };
        for (syms, _) in words.iter_mut() {
            let mut merged = Vec::with_capacity(syms.len());
            let mut i = 0;
            while i < syms.len() {
                if i + 1 < syms.len() && syms[i] == a && syms[i + 1] == b {
                    merged.push(format!("{a}{b}"));
                    i += 2;
                } else {
                    merged.push(std::mem::take(&mut syms[i]));
                    i += 1;
                }
            }
            *syms = merged;
        }
        merges.push((a, b));
    }
    Ok(merges)
}

/// A deterministic normal random source (SplitMix64 + Box-Muller).
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f32 {
        let (u1, u2) = (self.uniform(), self.uniform());
        ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
    }

    fn tensor(&mut self, shape: &[usize], std: f32, mean: f32) -> Result<Tensor> {
        let n: usize = shape.iter().product();
        let data: Vec<f32> = (0..n).map(|_| mean + std * self.normal()).collect();
        Ok(Tensor::from_vec(data, shape, &Device::Cpu)?)
    }
}

/// Reorder a q/k projection's rows from the Hugging Face layout to llama.cpp's
/// (`convert_hf_to_gguf.py`'s `permute`): per head, rows `j * head_dim/2 + i` move to `2i + j`.
pub fn permute_for_gguf(w: &Tensor, n_head: usize) -> Result<Tensor> {
    let (rows, cols) = w.dims2()?;
    let head_dim = rows / n_head;
    Ok(w.reshape((n_head, 2, head_dim / 2, cols))?
        .transpose(1, 2)?
        .contiguous()?
        .reshape((rows, cols))?)
}

/// Write the tiny llama into `dir` (see the module docs).
pub fn write_tiny_llama(dir: &Path, opts: TinyLlamaOptions) -> Result<TinyLlama> {
    let o = &opts;
    if o.num_heads == 0
        || !o.hidden_size.is_multiple_of(o.num_heads)
        || !(o.hidden_size / o.num_heads).is_multiple_of(2)
        || o.num_kv_heads == 0
        || !o.num_heads.is_multiple_of(o.num_kv_heads)
    {
        bail!("tiny llama: hidden_size / num_heads / num_kv_heads do not divide into even heads");
    }
    let hf_dir = dir.join("hf");
    let gguf_dir = dir.join("gguf");
    std::fs::create_dir_all(&hf_dir)?;
    std::fs::create_dir_all(&gguf_dir)?;

    // Tokenizer: specials, the 256 byte symbols, then the learned merges.
    let (pre_tok, nfc) = reference_pre_tokenizer(&o.pre)?;
    let merges = learn_bpe(CORPUS, &pre_tok, o.merges)?;
    let mut tokens: Vec<String> = SPECIAL_TOKENS.iter().map(|s| s.to_string()).collect();
    tokens.extend(byte_to_char().iter().map(|c| c.to_string()));
    for (a, b) in &merges {
        let t = format!("{a}{b}");
        if !tokens.contains(&t) {
            tokens.push(t);
        }
    }
    let vocab_size = tokens.len();
    let vocab: Vocab = tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), i as u32))
        .collect();
    let bpe = BPE::builder()
        .vocab_and_merges(vocab, merges.clone())
        .build()
        .map_err(|e| anyhow::anyhow!("building the fixture BPE: {e}"))?;
    let mut tokenizer = Tokenizer::new(bpe);
    if nfc {
        tokenizer
            .with_normalizer(Some(NFC))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    tokenizer.with_pre_tokenizer(Some(pre_tok));
    tokenizer.with_decoder(Some(ByteLevelDecoder::default()));
    tokenizer.with_post_processor(Some(ByteLevelProcessor::new(true, false, true)));
    tokenizer
        .add_special_tokens(SPECIAL_TOKENS.iter().map(|s| AddedToken::from(*s, true)))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    tokenizer
        .save(hf_dir.join("tokenizer.json"), false)
        .map_err(|e| anyhow::anyhow!("writing tokenizer.json: {e}"))?;

    // Weights in the Hugging Face layout.
    let (h, i, v) = (o.hidden_size, o.intermediate_size, vocab_size);
    let head_dim = h / o.num_heads;
    let kv = head_dim * o.num_kv_heads;
    let mut rng = Rng(o.seed);
    let w_std = 1.0 / (h as f32).sqrt();
    let mut hf: Vec<(String, Tensor)> = vec![
        (
            "model.embed_tokens.weight".into(),
            rng.tensor(&[v, h], 1.0, 0.0)?,
        ),
        ("model.norm.weight".into(), rng.tensor(&[h], 0.1, 1.0)?),
    ];
    if !o.tie_embeddings {
        hf.push((
            "lm_head.weight".into(),
            rng.tensor(&[v, h], 2.0 * w_std, 0.0)?,
        ));
    }
    for l in 0..o.num_layers {
        let p = format!("model.layers.{l}");
        hf.extend([
            (
                format!("{p}.self_attn.q_proj.weight"),
                rng.tensor(&[h, h], w_std, 0.0)?,
            ),
            (
                format!("{p}.self_attn.k_proj.weight"),
                rng.tensor(&[kv, h], w_std, 0.0)?,
            ),
            (
                format!("{p}.self_attn.v_proj.weight"),
                rng.tensor(&[kv, h], w_std, 0.0)?,
            ),
            (
                format!("{p}.self_attn.o_proj.weight"),
                rng.tensor(&[h, h], w_std, 0.0)?,
            ),
            (
                format!("{p}.mlp.gate_proj.weight"),
                rng.tensor(&[i, h], w_std, 0.0)?,
            ),
            (
                format!("{p}.mlp.up_proj.weight"),
                rng.tensor(&[i, h], w_std, 0.0)?,
            ),
            (
                format!("{p}.mlp.down_proj.weight"),
                rng.tensor(&[h, i], 1.0 / (i as f32).sqrt(), 0.0)?,
            ),
            (
                format!("{p}.input_layernorm.weight"),
                rng.tensor(&[h], 0.1, 1.0)?,
            ),
            (
                format!("{p}.post_attention_layernorm.weight"),
                rng.tensor(&[h], 0.1, 1.0)?,
            ),
        ]);
    }
    let hf_map: HashMap<String, Tensor> = hf.iter().cloned().collect();
    candle_core::safetensors::save(&hf_map, hf_dir.join("model.safetensors"))?;

    let rms_eps = 1e-5f64;
    let rope_theta = 10_000f32;
    let config = serde_json::json!({
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": h,
        "intermediate_size": i,
        "vocab_size": v,
        "num_hidden_layers": o.num_layers,
        "num_attention_heads": o.num_heads,
        "num_key_value_heads": o.num_kv_heads,
        "rms_norm_eps": rms_eps,
        "rope_theta": rope_theta,
        "bos_token_id": BOS_ID,
        "eos_token_id": EOS_ID,
        "max_position_embeddings": o.max_position_embeddings,
        "tie_word_embeddings": o.tie_embeddings,
        "torch_dtype": "float32",
    });
    std::fs::write(
        hf_dir.join("config.json"),
        serde_json::to_string_pretty(&config)?,
    )?;
    if let Some(t) = &o.chat_template {
        let tc = serde_json::json!({
            "bos_token": SPECIAL_TOKENS[BOS_ID as usize],
            "eos_token": SPECIAL_TOKENS[EOS_ID as usize],
            "chat_template": t,
        });
        std::fs::write(
            hf_dir.join("tokenizer_config.json"),
            serde_json::to_string_pretty(&tc)?,
        )?;
    }

    // The same weights under llama.cpp's names, q/k permuted.
    let get = |name: &str| -> Result<&Tensor> {
        hf_map
            .get(name)
            .with_context(|| format!("fixture tensor {name}"))
    };
    let permute = |w: &Tensor, n_head: usize| -> Result<Tensor> {
        if o.gguf_skip_qk_permutation {
            Ok(w.clone())
        } else {
            permute_for_gguf(w, n_head)
        }
    };
    let mut gg: Vec<(String, Tensor)> = vec![
        (
            "token_embd.weight".into(),
            get("model.embed_tokens.weight")?.clone(),
        ),
        (
            "output_norm.weight".into(),
            get("model.norm.weight")?.clone(),
        ),
    ];
    if !o.tie_embeddings {
        gg.push(("output.weight".into(), get("lm_head.weight")?.clone()));
    }
    for l in 0..o.num_layers {
        let p = format!("model.layers.{l}");
        let b = format!("blk.{l}");
        gg.extend([
            (
                format!("{b}.attn_q.weight"),
                permute(get(&format!("{p}.self_attn.q_proj.weight"))?, o.num_heads)?,
            ),
            (
                format!("{b}.attn_k.weight"),
                permute(
                    get(&format!("{p}.self_attn.k_proj.weight"))?,
                    o.num_kv_heads,
                )?,
            ),
            (
                format!("{b}.attn_v.weight"),
                get(&format!("{p}.self_attn.v_proj.weight"))?.clone(),
            ),
            (
                format!("{b}.attn_output.weight"),
                get(&format!("{p}.self_attn.o_proj.weight"))?.clone(),
            ),
            (
                format!("{b}.ffn_gate.weight"),
                get(&format!("{p}.mlp.gate_proj.weight"))?.clone(),
            ),
            (
                format!("{b}.ffn_up.weight"),
                get(&format!("{p}.mlp.up_proj.weight"))?.clone(),
            ),
            (
                format!("{b}.ffn_down.weight"),
                get(&format!("{p}.mlp.down_proj.weight"))?.clone(),
            ),
            (
                format!("{b}.attn_norm.weight"),
                get(&format!("{p}.input_layernorm.weight"))?.clone(),
            ),
            (
                format!("{b}.ffn_norm.weight"),
                get(&format!("{p}.post_attention_layernorm.weight"))?.clone(),
            ),
        ]);
    }

    let str_array =
        |items: Vec<String>| Value::Array(items.into_iter().map(Value::String).collect());
    let token_types: Vec<Value> = (0..vocab_size)
        .map(|t| Value::I32(if t < SPECIAL_TOKENS.len() { 3 } else { 1 }))
        .collect();
    let mut metadata: Vec<(&str, Value)> = vec![
        ("general.architecture", Value::String("llama".into())),
        ("general.name", Value::String("tiny-llama".into())),
        (
            "llama.context_length",
            Value::U32(o.max_position_embeddings as u32),
        ),
        ("llama.embedding_length", Value::U32(h as u32)),
        ("llama.block_count", Value::U32(o.num_layers as u32)),
        ("llama.feed_forward_length", Value::U32(i as u32)),
        ("llama.attention.head_count", Value::U32(o.num_heads as u32)),
        (
            "llama.attention.head_count_kv",
            Value::U32(o.num_kv_heads as u32),
        ),
        ("llama.rope.dimension_count", Value::U32(head_dim as u32)),
        ("llama.rope.freq_base", Value::F32(rope_theta)),
        (
            "llama.attention.layer_norm_rms_epsilon",
            Value::F32(rms_eps as f32),
        ),
        ("llama.vocab_size", Value::U32(v as u32)),
        ("tokenizer.ggml.model", Value::String("gpt2".into())),
        ("tokenizer.ggml.pre", Value::String(o.pre.clone())),
        ("tokenizer.ggml.tokens", str_array(tokens.clone())),
        ("tokenizer.ggml.token_type", Value::Array(token_types)),
        (
            "tokenizer.ggml.merges",
            str_array(merges.iter().map(|(a, b)| format!("{a} {b}")).collect()),
        ),
        ("tokenizer.ggml.bos_token_id", Value::U32(BOS_ID)),
        ("tokenizer.ggml.eos_token_id", Value::U32(EOS_ID)),
        ("tokenizer.ggml.padding_token_id", Value::U32(EOS_ID)),
        ("tokenizer.ggml.add_bos_token", Value::Bool(false)),
    ];
    if let Some(t) = &o.chat_template {
        metadata.push(("tokenizer.chat_template", Value::String(t.clone())));
    }

    let gguf_f32 = gguf_dir.join("tiny-f32.gguf");
    let gguf_f16 = gguf_dir.join("tiny-f16.gguf");
    let gguf_q4_1 = gguf_dir.join("tiny-q4_1.gguf");
    for (path, matrix_type, file_type) in [
        (&gguf_f32, GgmlDType::F32, 0u32),
        (&gguf_f16, GgmlDType::F16, 1u32),
        (&gguf_q4_1, GgmlDType::Q4_1, 3u32),
    ] {
        let qtensors: Vec<(String, QTensor)> = gg
            .iter()
            .map(|(n, t)| {
                let dtype = if t.rank() >= 2 {
                    matrix_type
                } else {
                    GgmlDType::F32
                };
                Ok((n.clone(), QTensor::quantize(t, dtype)?))
            })
            .collect::<Result<_>>()?;
        let mut md = metadata.clone();
        md.push(("general.file_type", Value::U32(file_type)));
        let md_refs: Vec<(&str, &Value)> = md.iter().map(|(k, v)| (*k, v)).collect();
        let t_refs: Vec<(&str, &QTensor)> = qtensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let mut w = BufWriter::new(
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        );
        gguf_file::write(&mut w, &md_refs, &t_refs)
            .with_context(|| format!("writing {}", path.display()))?;
        std::io::Write::flush(&mut w)?;
    }

    Ok(TinyLlama {
        dir: dir.to_path_buf(),
        hf_dir,
        gguf_f32,
        gguf_f16,
        gguf_q4_1,
        vocab_size,
        options: opts,
    })
}
