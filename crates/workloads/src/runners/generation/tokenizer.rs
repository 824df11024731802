//! A tokenizer built from a GGUF file's `tokenizer.ggml.*` metadata.
//!
//! candle's [`TokenizerFromGguf`] reads the vocabulary, merges and special tokens, but only knows
//! the pre-tokenizers `qwen2`, `llama3`, `smaug-bpe` and `lfm2`; any other `tokenizer.ggml.pre`
//! silently falls back to GPT-2 byte-level *with a prefix space*, which tokenizes differently from
//! the model's own tokenizer. This module accepts an explicit list of `pre` values and builds each
//! one's pre-tokenizer the way the model's Hugging Face `tokenizer.json` (and llama.cpp) does:
//!
//! | `pre` | pre-tokenizer |
//! | --- | --- |
//! | `gpt2` | GPT-2 byte-level regex, no prefix space (llama.cpp `LLAMA_VOCAB_PRE_TYPE_GPT2`) |
//! | `smollm` | digits split one by one, then the GPT-2 byte-level regex, no prefix space: the `Sequence[Digits(individual_digits), ByteLevel(add_prefix_space = false)]` of SmolLM/SmolLM2's `tokenizer.json`; llama.cpp's `LLAMA_VOCAB_PRE_TYPE_SMOLLM` runs `\p{N}` then the GPT-2 regex, the same split |
//! | `qwen2` | candle's (Qwen2 regex, single digits, NFC) |
//! | `llama3`, `llama-bpe`, `smaug-bpe`, `lfm2` | candle's Llama 3 regex (`llama-bpe` is the name llama.cpp's converter writes for Llama 3 models; candle does not know it, so it is mapped to `llama3`) |
//!
//! Anything else is an error naming the supported values.
//!
//! `tokenizer.ggml.model = llama` (SentencePiece, e.g. Gemma 3) is built by [`spm_tokenizer`]
//! from the tokens, scores and token types, the way llama.cpp's SPM tokenizer works: spaces
//! become `▁`, then symbols (Unicode characters) are merged greedily, best-scoring merged token
//! first (ties: leftmost), and characters outside the vocabulary fall back to `<0xNN>` byte
//! tokens. That is a BPE whose merge list holds every split of every vocabulary token into two
//! vocabulary tokens, ranked by the merged token's score (what transformers'
//! `SentencePieceExtractor` writes into Gemma's `tokenizer.json`).

use std::collections::HashMap;

use anyhow::{bail, Context, Result};
use candle_core::quantized::gguf_file::{Content, Value, VersionedMagic};
use candle_core::quantized::tokenizer::TokenizerFromGguf;
use tokenizers::decoders::byte_fallback::ByteFallback;
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::decoders::fuse::Fuse;
use tokenizers::decoders::sequence::Sequence as DecoderSequence;
use tokenizers::decoders::DecoderWrapper;
use tokenizers::models::bpe::BPE;
use tokenizers::normalizers::replace::Replace;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{AddedToken, Tokenizer};

/// The `tokenizer.ggml.pre` values [`tokenizer_from_gguf`] accepts.
pub const SUPPORTED_PRE: [&str; 7] = [
    "gpt2",
    "smollm",
    "qwen2",
    "llama3",
    "llama-bpe",
    "smaug-bpe",
    "lfm2",
];

/// How a supported `pre` value is built.
enum PreBuild {
    /// candle's pipeline, under the name candle knows.
    Candle(&'static str),
    /// candle's vocabulary and specials, with this pre-tokenizer instead of its fallback.
    Own(PreTokenizerWrapper),
}

fn pre_build(pre: &str) -> Result<PreBuild> {
    // ByteLevel(add_prefix_space = false, trim_offsets = true, use_regex = true): the GPT-2 regex
    // split and byte-to-unicode mapping, as GPT-2's and SmolLM2's tokenizer.json configure it.
    let byte_level = || ByteLevel::new(false, true, true);
    Ok(match pre {
        "gpt2" => PreBuild::Own(byte_level().into()),
        "smollm" => {
            PreBuild::Own(Sequence::new(vec![Digits::new(true).into(), byte_level().into()]).into())
        }
        "qwen2" => PreBuild::Candle("qwen2"),
        "llama3" | "llama-bpe" => PreBuild::Candle("llama3"),
        "smaug-bpe" => PreBuild::Candle("smaug-bpe"),
        "lfm2" => PreBuild::Candle("lfm2"),
        other => bail!(
            "GGUF tokenizer pre-tokenizer `{other}` is not supported (supported: {})",
            SUPPORTED_PRE.join(", ")
        ),
    })
}

/// Build a Hugging Face tokenizer from a GGUF file's metadata (`tokenizer.ggml.model = gpt2`
/// only; `tokenizer.ggml.pre` must be one of [`SUPPORTED_PRE`]).
///
/// BOS is added by the tokenizer's post-processor when `tokenizer.ggml.add_bos_token` is true;
/// control/user-defined tokens are registered as special tokens, so a rendered chat template's
/// `<|im_start|>` encodes to its single id.
pub fn tokenizer_from_gguf(metadata: &HashMap<String, Value>) -> Result<Tokenizer> {
    let model = metadata
        .get("tokenizer.ggml.model")
        .context("GGUF has no `tokenizer.ggml.model`; ship a tokenizer.json beside the model")?
        .to_string()
        .context("GGUF `tokenizer.ggml.model` is not a string")?;
    if model == "llama" {
        return spm_tokenizer(metadata);
    }
    if model != "gpt2" {
        bail!(
            "GGUF tokenizer model `{model}` is not supported (only `gpt2`, byte-level BPE, and \
             `llama`, SentencePiece); ship a tokenizer.json beside the model"
        );
    }
    let pre = match metadata.get("tokenizer.ggml.pre") {
        Some(v) => v
            .to_string()
            .context("GGUF `tokenizer.ggml.pre` is not a string")?
            .clone(),
        None => bail!(
            "GGUF has no `tokenizer.ggml.pre`, so its pre-tokenizer is unknown (supported: {}); \
             ship a tokenizer.json beside the model",
            SUPPORTED_PRE.join(", ")
        ),
    };
    let build = pre_build(&pre)?;

    // candle reads `tokenizer.ggml.pre` itself: hand it a metadata copy under the name it knows
    // (our own pre-tokenizers replace its fallback afterwards).
    let candle_pre = match &build {
        PreBuild::Candle(name) => *name,
        PreBuild::Own(_) => "gpt2",
    };
    let mut metadata: HashMap<String, Value> = metadata.clone();
    metadata.insert(
        "tokenizer.ggml.pre".to_string(),
        Value::String(candle_pre.to_string()),
    );
    let meta_only = Content {
        magic: VersionedMagic::GgufV3,
        metadata,
        tensor_infos: HashMap::new(),
        tensor_data_offset: 0,
    };
    let mut tokenizer = Tokenizer::from_gguf(&meta_only)
        .with_context(|| format!("cannot build the tokenizer from GGUF metadata (pre `{pre}`)"))?;
    if let PreBuild::Own(pre_tokenizer) = build {
        tokenizer.with_pre_tokenizer(Some(pre_tokenizer));
        tokenizer.with_decoder(Some(ByteLevelDecoder::default()));
    }
    Ok(tokenizer)
}

/// llama.cpp's token types (`tokenizer.ggml.token_type`).
const TYPE_UNKNOWN: i64 = 2;
const TYPE_CONTROL: i64 = 3;
const TYPE_USER_DEFINED: i64 = 4;

fn meta_array<'a>(metadata: &'a HashMap<String, Value>, key: &str) -> Result<&'a Vec<Value>> {
    match metadata.get(key) {
        Some(Value::Array(a)) => Ok(a),
        Some(_) => bail!("GGUF `{key}` is not an array"),
        None => bail!("GGUF has no `{key}`"),
    }
}

fn meta_bool(metadata: &HashMap<String, Value>, key: &str) -> Option<bool> {
    metadata.get(key).and_then(|v| v.to_bool().ok())
}

fn meta_u32(metadata: &HashMap<String, Value>, key: &str) -> Option<u32> {
    metadata.get(key).and_then(|v| v.to_u32().ok())
}

fn value_i64(v: &Value) -> Option<i64> {
    match v {
        Value::I32(x) => Some(*x as i64),
        Value::U32(x) => Some(*x as i64),
        Value::I64(x) => Some(*x),
        Value::U64(x) => Some(*x as i64),
        Value::I8(x) => Some(*x as i64),
        Value::U8(x) => Some(*x as i64),
        Value::I16(x) => Some(*x as i64),
        Value::U16(x) => Some(*x as i64),
        _ => None,
    }
}

/// A SentencePiece tokenizer (`tokenizer.ggml.model = llama`) from GGUF metadata; see the
/// module docs. BOS is added when `tokenizer.ggml.add_bos_token` is true (default true, as in
/// llama.cpp); `tokenizer.ggml.add_space_prefix` (default true) prepends `▁`. Control and
/// unknown tokens are special (split out of the text, skipped when decoding); user-defined
/// tokens (Gemma's newline runs, HTML tags) are split out of the text before the merges, as
/// llama.cpp does, but decoded as text.
pub fn spm_tokenizer(metadata: &HashMap<String, Value>) -> Result<Tokenizer> {
    let tokens: Vec<String> = meta_array(metadata, "tokenizer.ggml.tokens")?
        .iter()
        .map(|v| v.to_string().cloned())
        .collect::<candle_core::Result<_>>()
        .context("GGUF `tokenizer.ggml.tokens` holds a non-string")?;
    let scores: Vec<f32> = meta_array(metadata, "tokenizer.ggml.scores")?
        .iter()
        .map(|v| v.to_f32())
        .collect::<candle_core::Result<_>>()
        .context("GGUF `tokenizer.ggml.scores` holds a non-number")?;
    let types: Vec<i64> = match metadata.get("tokenizer.ggml.token_type") {
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| value_i64(v).context("GGUF `tokenizer.ggml.token_type` holds a non-integer"))
            .collect::<Result<_>>()?,
        _ => vec![1; tokens.len()],
    };
    if scores.len() != tokens.len() || types.len() != tokens.len() {
        bail!(
            "GGUF tokenizer arrays differ in length: {} tokens, {} scores, {} token types",
            tokens.len(),
            scores.len(),
            types.len()
        );
    }
    let mut vocab = tokenizers::models::bpe::Vocab::with_capacity(tokens.len());
    for (i, t) in tokens.iter().enumerate() {
        // A duplicated piece keeps its first id, as llama.cpp's text-to-token map does.
        vocab.entry(t.clone()).or_insert(i as u32);
    }
    // Every split of a token into two vocabulary tokens is a merge, ranked by the merged
    // token's score (higher first), then by the pieces' ids.
    let mut merges: Vec<(f32, u32, u32, u32)> = Vec::new();
    for (id, t) in tokens.iter().enumerate() {
        if vocab.get(t) != Some(&(id as u32)) {
            continue;
        }
        for (cut, _) in t.char_indices().skip(1) {
            let (l, r) = t.split_at(cut);
            if let (Some(&li), Some(&ri)) = (vocab.get(l), vocab.get(r)) {
                merges.push((scores[id], li, ri, id as u32));
            }
        }
    }
    merges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let merges: Vec<(String, String)> = merges
        .into_iter()
        .map(|(_, l, r, _)| (tokens[l as usize].clone(), tokens[r as usize].clone()))
        .collect();
    let unk = meta_u32(metadata, "tokenizer.ggml.unknown_token_id")
        .and_then(|i| tokens.get(i as usize).cloned());
    let mut builder = BPE::builder()
        .vocab_and_merges(vocab, merges)
        .byte_fallback(true)
        .fuse_unk(true);
    if let Some(unk) = unk {
        builder = builder.unk_token(unk);
    }
    let bpe = builder
        .build()
        .map_err(|e| anyhow::anyhow!("cannot build the SentencePiece model: {e}"))?;
    let mut tokenizer = Tokenizer::new(bpe);
    tokenizer
        .with_normalizer(Some(
            Replace::new(" ", "\u{2581}").map_err(|e| anyhow::anyhow!("{e}"))?,
        ))
        .map_err(|e| anyhow::anyhow!("cannot set the normalizer: {e}"))?;
    if meta_bool(metadata, "tokenizer.ggml.add_space_prefix").unwrap_or(true) {
        tokenizer.with_pre_tokenizer(Some(tokenizers::pre_tokenizers::metaspace::Metaspace::new(
            '\u{2581}',
            tokenizers::pre_tokenizers::metaspace::PrependScheme::First,
            false,
        )));
    }
    tokenizer.with_decoder(Some(DecoderSequence::new(vec![
        DecoderWrapper::Replace(Replace::new("\u{2581}", " ").map_err(|e| anyhow::anyhow!("{e}"))?),
        DecoderWrapper::ByteFallback(ByteFallback::new()),
        DecoderWrapper::Fuse(Fuse::new()),
    ])));
    let special: Vec<AddedToken> = tokens
        .iter()
        .zip(&types)
        .filter(|(_, t)| **t == TYPE_CONTROL || **t == TYPE_UNKNOWN)
        .map(|(s, _)| AddedToken::from(s.clone(), true))
        .collect();
    tokenizer
        .add_special_tokens(special)
        .map_err(|e| anyhow::anyhow!("cannot add the special tokens: {e}"))?;
    let user: Vec<AddedToken> = tokens
        .iter()
        .zip(&types)
        .filter(|(_, t)| **t == TYPE_USER_DEFINED)
        .map(|(s, _)| AddedToken::from(s.clone(), false).normalized(false))
        .collect();
    tokenizer
        .add_tokens(user)
        .map_err(|e| anyhow::anyhow!("cannot add the user-defined tokens: {e}"))?;
    let bos = meta_u32(metadata, "tokenizer.ggml.bos_token_id");
    if meta_bool(metadata, "tokenizer.ggml.add_bos_token").unwrap_or(true) {
        let Some((bos_id, bos)) = bos.and_then(|i| tokens.get(i as usize).map(|t| (i, t))) else {
            bail!("GGUF asks for a BOS token but `tokenizer.ggml.bos_token_id` is missing or out of range");
        };
        let post = TemplateProcessing::builder()
            .try_single(format!("{bos}:0 $A:0"))
            .and_then(|b| b.try_pair(format!("{bos}:0 $A:0 {bos}:1 $B:1")))
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .special_tokens(vec![(bos.clone(), bos_id)])
            .build()
            .map_err(|e| anyhow::anyhow!("cannot build the BOS post-processor: {e}"))?;
        tokenizer.with_post_processor(Some(post));
    }
    Ok(tokenizer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_pre_names_the_supported_list() {
        let err = match pre_build("falcon") {
            Err(e) => e.to_string(),
            Ok(_) => panic!("`falcon` must be rejected"),
        };
        assert!(err.contains("`falcon` is not supported"), "{err}");
        assert!(err.contains("smollm"), "{err}");
    }

    #[test]
    fn every_supported_pre_builds() {
        for pre in SUPPORTED_PRE {
            assert!(pre_build(pre).is_ok(), "{pre}");
        }
    }
}
