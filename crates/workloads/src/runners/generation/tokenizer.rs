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

use std::collections::HashMap;

use anyhow::{bail, Context, Result};
use candle_core::quantized::gguf_file::{Content, Value, VersionedMagic};
use candle_core::quantized::tokenizer::TokenizerFromGguf;
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::Tokenizer;

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
    if model != "gpt2" {
        bail!(
            "GGUF tokenizer model `{model}` is not supported (only `gpt2`, byte-level BPE); \
             ship a tokenizer.json beside the model"
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
