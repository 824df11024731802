//! A tiny random-weight Whisper checkpoint written by code (HF layout: `model.safetensors`,
//! `config.json`, `tokenizer.json`), and the same weights as a CTranslate2 `model.bin` (fused
//! attention projections, zero k biases, tied output projection), so speech tests run offline.
//!
//! Weights come from a ChaCha8 generator with a fixed seed: the fixture is the same on every run.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::Result;
use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use crate::fetch::ctranslate2::{write as ct2w, Model as Ct2Model, Variable};

/// Model width of the tiny Whisper.
pub const D: usize = 8;
/// Attention heads.
pub const HEADS: usize = 2;
/// FFN width (Candle's Whisper assumes 4 × d_model).
pub const FFN: usize = 4 * D;
/// Mel bins (Whisper's 80).
pub const MELS: usize = 80;
/// Encoder positions: a 30-s window gives 1,500 (Candle's encoder needs that many).
pub const SOURCE_POSITIONS: usize = 1500;
/// Decoder positions (also caps prompt + generated tokens).
pub const TARGET_POSITIONS: usize = 24;
/// Plain words `w0`..`w49`, then the special tokens.
pub const WORDS: usize = 50;
/// Special tokens from id 50 on, in this order.
pub const SPECIALS: [&str; 10] = [
    "<|endoftext|>",
    "<|startoftranscript|>",
    "<|en|>",
    "<|translate|>",
    "<|transcribe|>",
    "<|startoflm|>",
    "<|startofprev|>",
    "<|nocaptions|>",
    "<|notimestamps|>",
    "<|0.00|>",
];
/// Vocabulary size (words + specials).
pub const VOCAB: usize = WORDS + SPECIALS.len();

/// The HF-named tensors of the tiny model (as f32).
pub fn tiny_tensors(seed: u64) -> BTreeMap<String, (Vec<usize>, Vec<f32>)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut t = BTreeMap::new();
    let mut put = |name: String, shape: Vec<usize>, scale: f32, rng: &mut ChaCha8Rng| {
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n).map(|_| rng.random_range(-scale..scale)).collect();
        t.insert(name, (shape, v));
    };
    let e = "model.encoder";
    put(format!("{e}.conv1.weight"), vec![D, MELS, 3], 0.1, &mut rng);
    put(format!("{e}.conv1.bias"), vec![D], 0.1, &mut rng);
    put(format!("{e}.conv2.weight"), vec![D, D, 3], 0.3, &mut rng);
    put(format!("{e}.conv2.bias"), vec![D], 0.1, &mut rng);
    put(
        format!("{e}.embed_positions.weight"),
        vec![SOURCE_POSITIONS, D],
        0.5,
        &mut rng,
    );
    let dec = "model.decoder";
    put(
        format!("{dec}.embed_tokens.weight"),
        vec![VOCAB, D],
        1.0,
        &mut rng,
    );
    put(
        format!("{dec}.embed_positions.weight"),
        vec![TARGET_POSITIONS, D],
        0.5,
        &mut rng,
    );
    for side in [e, dec] {
        let l = format!("{side}.layers.0");
        let mut attn = |p: &str, rng: &mut ChaCha8Rng| {
            for proj in ["q_proj", "k_proj", "v_proj", "out_proj"] {
                put(format!("{l}.{p}.{proj}.weight"), vec![D, D], 0.4, rng);
                if proj != "k_proj" {
                    put(format!("{l}.{p}.{proj}.bias"), vec![D], 0.1, rng);
                }
            }
        };
        attn("self_attn", &mut rng);
        if side == dec {
            attn("encoder_attn", &mut rng);
        }
        let mut norm = |n: String, rng: &mut ChaCha8Rng| {
            put(format!("{n}.weight"), vec![D], 0.2, rng);
            put(format!("{n}.bias"), vec![D], 0.1, rng);
        };
        norm(format!("{l}.self_attn_layer_norm"), &mut rng);
        if side == dec {
            norm(format!("{l}.encoder_attn_layer_norm"), &mut rng);
        }
        norm(format!("{l}.final_layer_norm"), &mut rng);
        norm(format!("{side}.layer_norm"), &mut rng);
        put(format!("{l}.fc1.weight"), vec![FFN, D], 0.4, &mut rng);
        put(format!("{l}.fc1.bias"), vec![FFN], 0.1, &mut rng);
        put(format!("{l}.fc2.weight"), vec![D, FFN], 0.4, &mut rng);
        put(format!("{l}.fc2.bias"), vec![D], 0.1, &mut rng);
    }
    // Layer norms around 1, not 0.
    for (name, (_, v)) in t.iter_mut() {
        if name.contains("layer_norm.weight") {
            v.iter_mut().for_each(|x| *x += 1.0);
        }
    }
    t
}

/// The HF `config.json` of the tiny model.
pub fn tiny_config() -> serde_json::Value {
    json!({
        "model_type": "whisper",
        "num_mel_bins": MELS,
        "max_source_positions": SOURCE_POSITIONS,
        "max_target_positions": TARGET_POSITIONS,
        "d_model": D,
        "encoder_attention_heads": HEADS,
        "decoder_attention_heads": HEADS,
        "encoder_layers": 1,
        "decoder_layers": 1,
        "vocab_size": VOCAB,
        "suppress_tokens": [],
        "begin_suppress_tokens": [],
    })
}

/// A word-level tokenizer: `w0`..`w49` and the special tokens as added tokens.
pub fn tiny_tokenizer() -> serde_json::Value {
    let mut vocab = serde_json::Map::new();
    for i in 0..WORDS {
        vocab.insert(format!("w{i}"), json!(i));
    }
    let mut added = Vec::new();
    for (k, s) in SPECIALS.iter().enumerate() {
        vocab.insert(s.to_string(), json!(WORDS + k));
        added.push(
            json!({"id": WORDS + k, "content": s, "single_word": false, "lstrip": false,
            "rstrip": false, "normalized": false, "special": true}),
        );
    }
    json!({
        "version": "1.0", "truncation": null, "padding": null, "added_tokens": added,
        "normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null,
        "decoder": null,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "w0"}
    })
}

/// Write the tiny checkpoint (HF layout) into `dir`.
pub fn write_tiny_whisper(dir: &Path, seed: u64) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut map = HashMap::new();
    for (name, (shape, v)) in tiny_tensors(seed) {
        map.insert(name, Tensor::from_vec(v, shape, &Device::Cpu)?);
    }
    candle_core::safetensors::save(&map, dir.join("model.safetensors"))?;
    std::fs::write(
        dir.join("config.json"),
        serde_json::to_vec_pretty(&tiny_config())?,
    )?;
    std::fs::write(
        dir.join("tokenizer.json"),
        serde_json::to_vec(&tiny_tokenizer())?,
    )?;
    Ok(())
}

/// The same weights as a CTranslate2 `WhisperSpec` model (float16 when `f16`, else float32),
/// with CTranslate2's `config.json` beside it and the tokenizer, in `dir`.
pub fn write_tiny_ct2(dir: &Path, seed: u64, f16: bool) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let t = tiny_tensors(seed);
    let get = |n: &str| t[n].1.clone();
    let var = |shape: &[usize], v: &[f32]| -> Variable {
        if f16 {
            ct2w::f16(shape, v)
        } else {
            ct2w::f32(shape, v)
        }
    };
    let mut vars = BTreeMap::new();
    let copy = |ct: &str, hf: &str, vars: &mut BTreeMap<String, Variable>| {
        let (shape, v) = &t[hf];
        vars.insert(ct.to_string(), var(shape, v));
    };
    copy(
        "encoder/conv1/weight",
        "model.encoder.conv1.weight",
        &mut vars,
    );
    copy("encoder/conv1/bias", "model.encoder.conv1.bias", &mut vars);
    copy(
        "encoder/conv2/weight",
        "model.encoder.conv2.weight",
        &mut vars,
    );
    copy("encoder/conv2/bias", "model.encoder.conv2.bias", &mut vars);
    copy(
        "encoder/position_encodings/encodings",
        "model.encoder.embed_positions.weight",
        &mut vars,
    );
    copy(
        "decoder/position_encodings/encodings",
        "model.decoder.embed_positions.weight",
        &mut vars,
    );
    copy(
        "decoder/embeddings/weight",
        "model.decoder.embed_tokens.weight",
        &mut vars,
    );
    for (side, hf) in [("encoder", "model.encoder"), ("decoder", "model.decoder")] {
        copy(
            &format!("{side}/layer_norm/gamma"),
            &format!("{hf}.layer_norm.weight"),
            &mut vars,
        );
        copy(
            &format!("{side}/layer_norm/beta"),
            &format!("{hf}.layer_norm.bias"),
            &mut vars,
        );
        let ct = format!("{side}/layer_0");
        let h = format!("{hf}.layers.0");
        let zeros = vec![0f32; D];
        let fused = |parts: &[&str], attn: &str| -> (Vec<f32>, Vec<f32>) {
            let mut w = Vec::new();
            let mut b = Vec::new();
            for p in parts {
                w.extend(get(&format!("{h}.{attn}.{p}.weight")));
                if *p == "k_proj" {
                    b.extend(&zeros);
                } else {
                    b.extend(get(&format!("{h}.{attn}.{p}.bias")));
                }
            }
            (w, b)
        };
        let (w, b) = fused(&["q_proj", "k_proj", "v_proj"], "self_attn");
        vars.insert(
            format!("{ct}/self_attention/linear_0/weight"),
            var(&[3 * D, D], &w),
        );
        vars.insert(
            format!("{ct}/self_attention/linear_0/bias"),
            var(&[3 * D], &b),
        );
        copy(
            &format!("{ct}/self_attention/linear_1/weight"),
            &format!("{h}.self_attn.out_proj.weight"),
            &mut vars,
        );
        copy(
            &format!("{ct}/self_attention/linear_1/bias"),
            &format!("{h}.self_attn.out_proj.bias"),
            &mut vars,
        );
        copy(
            &format!("{ct}/self_attention/layer_norm/gamma"),
            &format!("{h}.self_attn_layer_norm.weight"),
            &mut vars,
        );
        copy(
            &format!("{ct}/self_attention/layer_norm/beta"),
            &format!("{h}.self_attn_layer_norm.bias"),
            &mut vars,
        );
        if side == "decoder" {
            copy(
                &format!("{ct}/attention/linear_0/weight"),
                &format!("{h}.encoder_attn.q_proj.weight"),
                &mut vars,
            );
            copy(
                &format!("{ct}/attention/linear_0/bias"),
                &format!("{h}.encoder_attn.q_proj.bias"),
                &mut vars,
            );
            let (w, b) = fused(&["k_proj", "v_proj"], "encoder_attn");
            vars.insert(
                format!("{ct}/attention/linear_1/weight"),
                var(&[2 * D, D], &w),
            );
            vars.insert(format!("{ct}/attention/linear_1/bias"), var(&[2 * D], &b));
            copy(
                &format!("{ct}/attention/linear_2/weight"),
                &format!("{h}.encoder_attn.out_proj.weight"),
                &mut vars,
            );
            copy(
                &format!("{ct}/attention/linear_2/bias"),
                &format!("{h}.encoder_attn.out_proj.bias"),
                &mut vars,
            );
            copy(
                &format!("{ct}/attention/layer_norm/gamma"),
                &format!("{h}.encoder_attn_layer_norm.weight"),
                &mut vars,
            );
            copy(
                &format!("{ct}/attention/layer_norm/beta"),
                &format!("{h}.encoder_attn_layer_norm.bias"),
                &mut vars,
            );
        }
        copy(
            &format!("{ct}/ffn/linear_0/weight"),
            &format!("{h}.fc1.weight"),
            &mut vars,
        );
        copy(
            &format!("{ct}/ffn/linear_0/bias"),
            &format!("{h}.fc1.bias"),
            &mut vars,
        );
        copy(
            &format!("{ct}/ffn/linear_1/weight"),
            &format!("{h}.fc2.weight"),
            &mut vars,
        );
        copy(
            &format!("{ct}/ffn/linear_1/bias"),
            &format!("{h}.fc2.bias"),
            &mut vars,
        );
        copy(
            &format!("{ct}/ffn/layer_norm/gamma"),
            &format!("{h}.final_layer_norm.weight"),
            &mut vars,
        );
        copy(
            &format!("{ct}/ffn/layer_norm/beta"),
            &format!("{h}.final_layer_norm.bias"),
            &mut vars,
        );
        vars.insert(format!("{side}/num_heads"), ct2w::i16_scalar(HEADS as i16));
    }
    vars.insert("decoder/activation".into(), ct2w::i8_scalar(3));
    vars.insert("decoder/pre_norm".into(), ct2w::i8_scalar(1));
    vars.insert("decoder/scale_embeddings".into(), ct2w::i8_scalar(0));
    vars.insert("decoder/alibi".into(), ct2w::i8_scalar(0));
    let mut aliases = BTreeMap::new();
    aliases.insert(
        "decoder/projection/weight".to_string(),
        "decoder/embeddings/weight".to_string(),
    );
    let model = Ct2Model {
        binary_version: 6,
        spec: "WhisperSpec".into(),
        spec_revision: 3,
        variables: vars,
        aliases,
    };
    std::fs::write(dir.join("model.bin"), ct2w::to_bytes(&model))?;
    std::fs::write(
        dir.join("config.json"),
        serde_json::to_vec(&json!({"suppress_ids": [], "suppress_ids_begin": [], "lang_ids": []}))?,
    )?;
    std::fs::write(
        dir.join("tokenizer.json"),
        serde_json::to_vec(&tiny_tokenizer())?,
    )?;
    Ok(())
}
