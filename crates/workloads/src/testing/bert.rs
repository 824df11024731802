//! Tiny random-weight BERT-family checkpoints written by code, so encoder tests
//! run offline and in milliseconds.
//!
//! [`write_tiny_bert`] writes a `BertModel` checkpoint usable by the
//! sentence-similarity runner and the embedding + fitted-head classifier;
//! [`write_tiny_classifier`] writes a fine-tuned-style sequence classifier
//! (XLM-R, ModernBERT or DeBERTa-v2) with an `id2label` map. Both share one
//! WordPiece tokenizer built in code by [`write_tiny_tokenizer`].
//!
//! Weights are drawn from a ChaCha8 generator with a fixed seed, so the same
//! fixture is byte-identical on every run.

use std::path::Path;

use anyhow::{Context, Result};
use candle_core::{DType, Device, Tensor};
use candle_nn::{VarBuilder, VarMap};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{AddedToken, Tokenizer};

/// Hidden size of the tiny models.
pub const TINY_HIDDEN: usize = 32;
/// Number of encoder layers of the tiny models.
pub const TINY_LAYERS: usize = 2;
/// Attention heads of the tiny models.
pub const TINY_HEADS: usize = 2;
/// Feed-forward size of the tiny models.
pub const TINY_INTERMEDIATE: usize = 64;
/// Position table size of the tiny models (also bounds the sequence length).
pub const TINY_MAX_POSITIONS: usize = 128;

/// The special tokens, in vocabulary order (ids 0..=4), as BERT orders them by name.
pub const SPECIAL_TOKENS: [&str; 5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/// How many of the shipped datasets' most frequent words get whole-word entries.
pub const DATASET_WORDS: usize = 250;

/// Extra common lowercase English words given whole-word vocabulary entries
/// (besides the shipped datasets' most frequent ones), so the tests' own
/// sentences tokenize to words. Any other word falls back to `##`-letter pieces.
const COMMON_WORDS: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "that",
    "for",
    "it",
    "as",
    "was",
    "with",
    "be",
    "by",
    "on",
    "not",
    "he",
    "she",
    "this",
    "are",
    "or",
    "his",
    "her",
    "from",
    "at",
    "which",
    "but",
    "have",
    "has",
    "had",
    "an",
    "they",
    "you",
    "we",
    "were",
    "their",
    "one",
    "all",
    "would",
    "there",
    "been",
    "will",
    "more",
    "if",
    "no",
    "so",
    "what",
    "can",
    "about",
    "who",
    "do",
    "out",
    "up",
    "into",
    "than",
    "some",
    "them",
    "other",
    "its",
    "only",
    "new",
    "time",
    "man",
    "woman",
    "men",
    "women",
    "person",
    "people",
    "child",
    "children",
    "boy",
    "girl",
    "dog",
    "cat",
    "horse",
    "playing",
    "plays",
    "play",
    "guitar",
    "piano",
    "music",
    "eating",
    "eats",
    "food",
    "bread",
    "riding",
    "rides",
    "bike",
    "car",
    "driving",
    "walking",
    "running",
    "runs",
    "street",
    "water",
    "ball",
    "is",
    "a",
    "two",
    "three",
    "playing",
    "cutting",
    "cooking",
    "movie",
    "film",
    "good",
    "great",
    "bad",
    "awful",
    "terrible",
    "excellent",
    "love",
    "hate",
    "like",
    "best",
    "worst",
    "boring",
    "fun",
    "funny",
    "story",
    "acting",
    "very",
    "really",
    "just",
    "well",
    "much",
    "most",
    "even",
    "also",
    "never",
    "ever",
    "too",
    "how",
    "when",
    "climate",
    "change",
    "global",
    "warming",
    "carbon",
    "dioxide",
    "co2",
    "emissions",
    "energy",
    "fossil",
    "fuels",
    "fuel",
    "oil",
    "gas",
    "coal",
    "solar",
    "wind",
    "power",
    "temperature",
    "temperatures",
    "ice",
    "sea",
    "level",
    "science",
    "scientists",
    "data",
    "models",
    "human",
    "natural",
    "weather",
    "world",
    "earth",
    "planet",
    "years",
    "year",
    "cost",
    "economy",
    "jobs",
    "policy",
    "government",
    "renewable",
    "hoax",
    "crisis",
    "rising",
    "increase",
    "warmer",
    "cold",
    "hot",
    "sunny",
    "today",
    "outside",
    "lovely",
    "stadium",
    "drove",
    "said",
    "says",
    "new",
    "news",
    "president",
    "country",
    "state",
    "police",
    "killed",
    "attack",
    "china",
    "us",
    "over",
    "after",
    "before",
    "first",
    "last",
    "day",
    "night",
    "house",
    "home",
    "school",
    "work",
    "city",
    "could",
    "should",
    "may",
    "make",
    "made",
    "get",
    "got",
    "go",
    "going",
    "see",
    "know",
    "think",
    "because",
    "any",
];

/// The tiny tokenizer's vocabulary, in id order: the special tokens, single
/// characters (letters, digits, ASCII punctuation), their `##` continuations,
/// the [`DATASET_WORDS`] most frequent lowercase words of the shipped datasets
/// (ties broken alphabetically), then a fixed list of common English words
/// (duplicates removed). About 450 entries with the current datasets.
pub fn tiny_vocab() -> Result<Vec<String>> {
    let mut vocab: Vec<String> = SPECIAL_TOKENS.iter().map(|s| s.to_string()).collect();
    let alnum: Vec<char> = ('a'..='z').chain('0'..='9').collect();
    let punct: Vec<char> = (33u8..=126)
        .map(char::from)
        .filter(|c| c.is_ascii_punctuation())
        .collect();
    for c in alnum.iter().chain(punct.iter()) {
        vocab.push(c.to_string());
    }
    for c in &alnum {
        vocab.push(format!("##{c}"));
    }
    let mut seen: std::collections::HashSet<String> = vocab.iter().cloned().collect();
    let words = shipped_dataset_words()?;
    let extra = COMMON_WORDS.iter().map(|w| w.to_string());
    for w in words.into_iter().take(DATASET_WORDS).chain(extra) {
        if seen.insert(w.clone()) {
            vocab.push(w);
        }
    }
    Ok(vocab)
}

/// Lowercase alphanumeric words of the shipped datasets, most frequent first
/// (ties alphabetical).
fn shipped_dataset_words() -> Result<Vec<String>> {
    use crate::datasets::{builtin, DatasetRows};
    let mut texts: Vec<String> = Vec::new();
    for task in crate::Task::ALL {
        // No shipped detection set, images and speech are not words (nor the tiny vocab's), and the
        // audio-classification set is generated into the cache, which tests must not need.
        if matches!(
            task,
            crate::Task::ObjectDetection
                | crate::Task::AutomaticSpeechRecognition
                | crate::Task::AudioClassification
        ) {
            continue;
        }
        match builtin(task)?.rows {
            DatasetRows::Similarity(rows) => {
                for r in rows {
                    texts.push(r.sentence1);
                    texts.push(r.sentence2);
                }
            }
            DatasetRows::Classification { train, test } => {
                texts.extend(train.into_iter().chain(test).map(|r| r.text));
            }
            DatasetRows::Generation(rows) => {
                for r in rows {
                    texts.extend(r.prompt);
                    texts.extend(r.messages.into_iter().flatten().map(|m| m.content));
                }
            }
            // Not part of the tiny vocab (kept as it was before these sets shipped).
            DatasetRows::Summarization(_)
            | DatasetRows::QuestionAnswering(_)
            | DatasetRows::Images(_)
            | DatasetRows::Detection(_)
            | DatasetRows::Speech(_)
            | DatasetRows::AudioClassification { .. } => {}
        }
    }
    let mut counts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for t in &texts {
        for w in t.to_lowercase().split(|c: char| !c.is_ascii_alphanumeric()) {
            if w.len() > 1 {
                *counts.entry(w.to_string()).or_default() += 1;
            }
        }
    }
    let mut words: Vec<(String, usize)> = counts.into_iter().collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(words.into_iter().map(|(w, _)| w).collect())
}

/// Build the tiny BERT-style WordPiece tokenizer (BertNormalizer with
/// lowercasing, BertPreTokenizer, WordPiece over [`tiny_vocab`],
/// `[CLS] $A [SEP]` / `[CLS] $A [SEP] $B [SEP]` templates).
pub fn tiny_tokenizer() -> Result<Tokenizer> {
    let vocab = tiny_vocab()?;
    let vocab_txt = vocab.join("\n");
    let wordpiece = WordPiece::builder()
        .vocab(WordPiece::read_bytes(vocab_txt.as_bytes()).map_err(anyhow::Error::msg)?)
        .unk_token("[UNK]".to_string())
        .build()
        .map_err(anyhow::Error::msg)?;
    let id = |tok: &str| -> u32 {
        vocab
            .iter()
            .position(|v| v == tok)
            .expect("special tokens are in the vocabulary") as u32
    };
    let template = TemplateProcessing::builder()
        .try_single("[CLS] $A [SEP]")
        .map_err(anyhow::Error::msg)?
        .try_pair("[CLS] $A [SEP] $B:1 [SEP]:1")
        .map_err(anyhow::Error::msg)?
        .special_tokens(vec![("[CLS]", id("[CLS]")), ("[SEP]", id("[SEP]"))])
        .build()
        .context("building the tiny tokenizer's template")?;
    let mut tokenizer = Tokenizer::new(wordpiece);
    tokenizer
        .with_normalizer(Some(BertNormalizer::new(true, true, None, true)))
        .map_err(anyhow::Error::msg)?;
    tokenizer.with_pre_tokenizer(Some(BertPreTokenizer));
    tokenizer.with_post_processor(Some(template));
    tokenizer.with_decoder(Some(WordPieceDecoder::default()));
    tokenizer
        .add_special_tokens(SPECIAL_TOKENS.iter().map(|t| AddedToken::from(*t, true)))
        .map_err(anyhow::Error::msg)?;
    Ok(tokenizer)
}

/// Write the tiny tokenizer as `path` (a `tokenizer.json`).
pub fn write_tiny_tokenizer(path: &Path) -> Result<()> {
    tiny_tokenizer()?
        .save(path, false)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("writing tokenizer {}", path.display()))
}

/// The tiny BERT's `config.json` (hidden 32, 2 layers, 2 heads, intermediate
/// 64, vocabulary = [`tiny_vocab`]).
pub fn tiny_bert_config() -> Result<Value> {
    let vocab_size = tiny_vocab()?.len();
    Ok(json!({
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": vocab_size,
        "hidden_size": TINY_HIDDEN,
        "num_hidden_layers": TINY_LAYERS,
        "num_attention_heads": TINY_HEADS,
        "intermediate_size": TINY_INTERMEDIATE,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": TINY_MAX_POSITIONS,
        "type_vocab_size": 2,
        "initializer_range": 0.02,
        "layer_norm_eps": 1e-12,
        "pad_token_id": 0,
        "position_embedding_type": "absolute"
    }))
}

/// Write a tiny random-weight BERT into `dir`: `config.json`,
/// `model.safetensors` (fixed seed) and `tokenizer.json`. Creates `dir`.
pub fn write_tiny_bert(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let config_json = tiny_bert_config()?;
    let config: candle_transformers::models::bert::Config =
        serde_json::from_value(config_json.clone()).context("tiny BERT config")?;
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    candle_transformers::models::bert::BertModel::load(vb, &config)
        .context("building the tiny BERT")?;
    randomize(&varmap, 0x5eed_be57)?;
    save_all(dir, &config_json, &varmap)
}

/// The sequence-classification architectures [`write_tiny_classifier`] can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TinyClassifierArch {
    /// `XLMRobertaForSequenceClassification` (catalogue arch `xlm-roberta`).
    XlmRoberta,
    /// `ModernBertForSequenceClassification` (catalogue arch `modernbert`).
    ModernBert,
    /// `DebertaV2SeqClassificationModel` (catalogue arch `debertav2`).
    DebertaV2,
}

impl TinyClassifierArch {
    /// The catalogue `arch` string for this architecture.
    pub fn arch(&self) -> &'static str {
        match self {
            TinyClassifierArch::XlmRoberta => "xlm-roberta",
            TinyClassifierArch::ModernBert => "modernbert",
            TinyClassifierArch::DebertaV2 => "debertav2",
        }
    }
}

/// The `config.json` of a tiny sequence classifier whose `id2label` is `labels`
/// in order. `label2id` values are integers, as Hugging Face writes them.
pub fn tiny_classifier_config(arch: TinyClassifierArch, labels: &[&str]) -> Result<Value> {
    let id2label: serde_json::Map<String, Value> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (i.to_string(), json!(l)))
        .collect();
    let label2id: serde_json::Map<String, Value> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.to_string(), json!(i)))
        .collect();
    let vocab_size = tiny_vocab()?.len();
    let mut config = match arch {
        TinyClassifierArch::XlmRoberta => json!({
            "architectures": ["XLMRobertaForSequenceClassification"],
            "model_type": "xlm-roberta",
            "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "position_embedding_type": "absolute",
            "type_vocab_size": 1,
            "pad_token_id": 0,
            "layer_norm_eps": 1e-5,
        }),
        TinyClassifierArch::ModernBert => json!({
            "architectures": ["ModernBertForSequenceClassification"],
            "model_type": "modernbert",
            "pad_token_id": 0,
            "layer_norm_eps": 1e-5,
            "global_attn_every_n_layers": 2,
            "global_rope_theta": 160000.0,
            "local_attention": 16,
            "local_rope_theta": 10000.0,
            "classifier_pooling": "mean",
        }),
        TinyClassifierArch::DebertaV2 => json!({
            "architectures": ["DebertaV2ForSequenceClassification"],
            "model_type": "deberta-v2",
            "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "type_vocab_size": 0,
            "initializer_range": 0.02,
            "layer_norm_eps": 1e-7,
            "relative_attention": true,
            "max_relative_positions": -1,
            "position_buckets": 32,
            "pad_token_id": 0,
            "position_biased_input": false,
            "pos_att_type": ["p2c", "c2p"],
            "share_att_key": true,
            "norm_rel_ebd": "layer_norm",
            "pooler_dropout": 0,
            "pooler_hidden_act": "gelu",
            "pooler_hidden_size": TINY_HIDDEN,
        }),
    };
    let obj = config.as_object_mut().expect("a JSON object");
    for (k, v) in [
        ("vocab_size", json!(vocab_size)),
        ("hidden_size", json!(TINY_HIDDEN)),
        ("num_hidden_layers", json!(TINY_LAYERS)),
        ("num_attention_heads", json!(TINY_HEADS)),
        ("intermediate_size", json!(TINY_INTERMEDIATE)),
        ("max_position_embeddings", json!(TINY_MAX_POSITIONS)),
        ("id2label", Value::Object(id2label)),
        ("label2id", Value::Object(label2id)),
    ] {
        obj.insert(k.to_string(), v);
    }
    Ok(config)
}

/// Write a tiny random-weight sequence classifier of `arch` into `dir`
/// (`config.json` with `id2label` = `labels`, `model.safetensors`,
/// `tokenizer.json`). Creates `dir`.
pub fn write_tiny_classifier(dir: &Path, arch: TinyClassifierArch, labels: &[&str]) -> Result<()> {
    use candle_transformers::models::{debertav2, modernbert, xlm_roberta};
    anyhow::ensure!(!labels.is_empty(), "a classifier needs at least one label");
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let config_json = tiny_classifier_config(arch, labels)?;
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
    match arch {
        TinyClassifierArch::XlmRoberta => {
            let cfg: xlm_roberta::Config = serde_json::from_value(config_json.clone())?;
            xlm_roberta::XLMRobertaForSequenceClassification::new(labels.len(), &cfg, vb)?;
        }
        TinyClassifierArch::ModernBert => {
            // candle's ModernBERT config wants label2id values as strings.
            let mut fixed = config_json.clone();
            fixed["label2id"] = labels
                .iter()
                .enumerate()
                .map(|(i, l)| (l.to_string(), json!(i.to_string())))
                .collect::<serde_json::Map<_, _>>()
                .into();
            let cfg: modernbert::Config = serde_json::from_value(fixed)?;
            modernbert::ModernBertForSequenceClassification::load(vb, &cfg)?;
        }
        TinyClassifierArch::DebertaV2 => {
            let cfg: debertav2::Config = serde_json::from_value(config_json.clone())?;
            debertav2::DebertaV2SeqClassificationModel::load(vb.pp("deberta"), &cfg, None)?;
        }
    }
    randomize(&varmap, 0xc1a5_5000 + arch as u64)?;
    save_all(dir, &config_json, &varmap)
}

/// Overwrite every randomly initialised variable with values drawn from a
/// seeded generator (uniform in ±0.2), visiting names in sorted order.
/// Constant-initialised variables (LayerNorm weights and biases) are kept.
fn randomize(varmap: &VarMap, seed: u64) -> Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let data = varmap
        .data()
        .lock()
        .map_err(|_| anyhow::anyhow!("variable map lock poisoned"))?;
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    for name in names {
        let var = &data[name];
        let values = var.as_tensor().flatten_all()?.to_vec1::<f32>()?;
        let constant = values.windows(2).all(|w| w[0] == w[1]);
        if constant {
            continue;
        }
        let fresh: Vec<f32> = (0..values.len())
            .map(|_| rng.random_range(-0.2f32..0.2f32))
            .collect();
        let tensor = Tensor::from_vec(fresh, var.shape(), var.device())?;
        var.set(&tensor)
            .with_context(|| format!("setting fixture weight {name}"))?;
    }
    Ok(())
}

fn save_all(dir: &Path, config: &Value, varmap: &VarMap) -> Result<()> {
    let config_path = dir.join("config.json");
    std::fs::write(&config_path, serde_json::to_string_pretty(config)?)
        .with_context(|| format!("writing {}", config_path.display()))?;
    let weights = dir.join("model.safetensors");
    varmap
        .save(&weights)
        .with_context(|| format!("writing {}", weights.display()))?;
    write_tiny_tokenizer(&dir.join("tokenizer.json"))
}

/// Describe every file under `dir` (recursively, names relative to `dir`)
/// as a [`crate::fetch::ModelFiles`] with sha256s, as if fetched from a
/// local path; for tests that drive the runners without the fetcher.
pub fn local_model_files(dir: &Path, model_id: &str) -> Result<crate::fetch::ModelFiles> {
    use sha2::{Digest, Sha256};
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> Result<()> {
        for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                walk(&path, out)?;
            } else {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut paths = Vec::new();
    walk(dir, &mut paths)?;
    paths.sort();
    let files = paths
        .into_iter()
        .map(|path| {
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let name = path
                .strip_prefix(dir)?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            Ok(crate::fetch::FileRecord {
                name,
                sha256: hex::encode(Sha256::digest(&bytes)),
                bytes: bytes.len() as u64,
                path,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(crate::fetch::ModelFiles {
        root: dir.to_path_buf(),
        origin: format!("path:{}", dir.display()),
        revision: None,
        files,
        model_id: model_id.to_string(),
    })
}
