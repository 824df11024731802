//! Turn a CTranslate2 Whisper conversion (faster-whisper's `model.bin` + its `config.json`) back
//! into the Hugging Face layout that candle-transformers' `whisper` loads: `model.safetensors`
//! with HF names and an HF-style `config.json` built from the tensor shapes.
//!
//! What CTranslate2's converter did, undone here:
//! - self-attention `linear_0` holds q, k and v stacked along the output rows (`[3d, d]`), and a
//!   bias whose k third is zeros (Whisper's k projection has no bias): split into `q_proj`,
//!   `k_proj` (weight only; a non-zero k bias is refused) and `v_proj`; `linear_1` is `out_proj`;
//! - cross-attention `linear_0` is `q_proj`, `linear_1` stacks k and v the same way, `linear_2`
//!   is `out_proj`;
//! - layer norms are `gamma`/`beta` (HF `weight`/`bias`); `ffn/linear_0|1` are `fc1`/`fc2`;
//!   `embeddings` is `embed_tokens`, `position_encodings/encodings` is `embed_positions`;
//! - the output projection is an alias of the token embeddings (tied, as Candle's model assumes;
//!   an untied one is refused);
//! - quantized (int8/int16) weights are dequantized to float32; float16/bfloat16/float32 weights
//!   keep their type.
//!
//! The model options are checked against what Candle's Whisper implements (pre-norm, GELU, no
//! embedding scale, no ALiBi).

use std::collections::HashMap;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use candle_core::{DType, Device, Tensor};

use super::ctranslate2::{Dtype, Model};

/// CTranslate2's `ActivationType::GELU`.
const CT2_GELU: i64 = 3;

/// The shapes and options read from a CTranslate2 Whisper model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shapes {
    pub d_model: usize,
    pub num_mel_bins: usize,
    pub encoder_layers: usize,
    pub decoder_layers: usize,
    pub encoder_attention_heads: usize,
    pub decoder_attention_heads: usize,
    pub encoder_ffn_dim: usize,
    pub decoder_ffn_dim: usize,
    pub vocab_size: usize,
    pub max_source_positions: usize,
    pub max_target_positions: usize,
}

impl Shapes {
    /// Read the shapes of `model` (a `WhisperSpec`) and check its options.
    pub fn of(model: &Model) -> Result<Shapes> {
        if model.spec != "WhisperSpec" {
            bail!(
                "the CTranslate2 model is a `{}`, not a `WhisperSpec`",
                if model.spec.is_empty() {
                    "(unnamed spec)"
                } else {
                    &model.spec
                }
            );
        }
        let shape = |name: &str| -> Result<Vec<usize>> { Ok(model.var(name)?.shape.clone()) };
        let scalar = |name: &str| -> Result<i64> {
            model
                .var(name)?
                .scalar_int()
                .ok_or_else(|| anyhow!("`{name}` is not an integer scalar"))
        };
        let conv1 = shape("encoder/conv1/weight")?;
        let [d_model, num_mel_bins, 3] = conv1[..] else {
            bail!("`encoder/conv1/weight` has shape {conv1:?}, expected [d_model, n_mels, 3]");
        };
        let count = |prefix: &str| {
            (0..)
                .take_while(|i| {
                    model
                        .variables
                        .keys()
                        .any(|k| k.starts_with(&format!("{prefix}/layer_{i}/")))
                })
                .count()
        };
        let emb = shape("decoder/embeddings/weight")?;
        let enc_pos = shape("encoder/position_encodings/encodings")?;
        let dec_pos = shape("decoder/position_encodings/encodings")?;
        let s = Shapes {
            d_model,
            num_mel_bins,
            encoder_layers: count("encoder"),
            decoder_layers: count("decoder"),
            encoder_attention_heads: scalar("encoder/num_heads")? as usize,
            decoder_attention_heads: scalar("decoder/num_heads")? as usize,
            encoder_ffn_dim: shape("encoder/layer_0/ffn/linear_0/weight")?[0],
            decoder_ffn_dim: shape("decoder/layer_0/ffn/linear_0/weight")?[0],
            vocab_size: emb[0],
            max_source_positions: enc_pos[0],
            max_target_positions: dec_pos[0],
        };
        if emb != [s.vocab_size, d_model] || enc_pos[1] != d_model || dec_pos[1] != d_model {
            bail!("embedding shapes disagree with d_model {d_model}: {emb:?}, {enc_pos:?}, {dec_pos:?}");
        }
        if s.encoder_ffn_dim != 4 * d_model || s.decoder_ffn_dim != 4 * d_model {
            bail!(
                "FFN widths {} / {} are not 4 × d_model ({d_model}), as Candle's Whisper assumes",
                s.encoder_ffn_dim,
                s.decoder_ffn_dim
            );
        }
        if s.encoder_layers == 0 || s.decoder_layers == 0 {
            bail!("no encoder or decoder layers");
        }
        for (h, what) in [
            (s.encoder_attention_heads, "encoder"),
            (s.decoder_attention_heads, "decoder"),
        ] {
            if h == 0 || d_model % h != 0 {
                bail!("{what}/num_heads = {h} does not divide d_model {d_model}");
            }
        }
        for (name, want) in [
            ("decoder/pre_norm", 1),
            ("decoder/activation", CT2_GELU),
            ("decoder/scale_embeddings", 0),
            ("decoder/alibi", 0),
        ] {
            if let Some(v) = model.get(name) {
                let got = v
                    .scalar_int()
                    .ok_or_else(|| anyhow!("`{name}` is not an integer scalar"))?;
                if got != want {
                    bail!("`{name}` is {got}; Candle's Whisper needs {want}");
                }
            }
        }
        Ok(s)
    }

    /// An HF-style Whisper `config.json` (the fields candle-transformers reads, plus the FFN
    /// sizes), with the suppress lists from CTranslate2's config when given.
    pub fn hf_config(&self, ct2_config: Option<&serde_json::Value>) -> serde_json::Value {
        let list = |k: &str| {
            ct2_config
                .and_then(|c| c.get(k))
                .cloned()
                .unwrap_or(serde_json::Value::Array(vec![]))
        };
        serde_json::json!({
            "model_type": "whisper",
            "num_mel_bins": self.num_mel_bins,
            "max_source_positions": self.max_source_positions,
            "max_target_positions": self.max_target_positions,
            "d_model": self.d_model,
            "encoder_attention_heads": self.encoder_attention_heads,
            "decoder_attention_heads": self.decoder_attention_heads,
            "encoder_layers": self.encoder_layers,
            "decoder_layers": self.decoder_layers,
            "encoder_ffn_dim": self.encoder_ffn_dim,
            "decoder_ffn_dim": self.decoder_ffn_dim,
            "vocab_size": self.vocab_size,
            "suppress_tokens": list("suppress_ids"),
            "begin_suppress_tokens": list("suppress_ids_begin"),
            "converted_from": "CTranslate2 model.bin (WhisperSpec) by frugalbench",
        })
    }
}

/// The HF-named tensors of a CTranslate2 Whisper model.
pub fn tensors(model: &Model, s: &Shapes) -> Result<HashMap<String, Tensor>> {
    let d = s.d_model;
    let mut out = HashMap::new();
    let mut put = |name: String, t: Tensor| {
        out.insert(name, t);
    };
    put(
        "model.encoder.conv1.weight".into(),
        tensor(model, "encoder/conv1/weight")?,
    );
    put(
        "model.encoder.conv1.bias".into(),
        tensor(model, "encoder/conv1/bias")?,
    );
    put(
        "model.encoder.conv2.weight".into(),
        tensor(model, "encoder/conv2/weight")?,
    );
    put(
        "model.encoder.conv2.bias".into(),
        tensor(model, "encoder/conv2/bias")?,
    );
    put(
        "model.encoder.embed_positions.weight".into(),
        tensor(model, "encoder/position_encodings/encodings")?,
    );
    put(
        "model.decoder.embed_positions.weight".into(),
        tensor(model, "decoder/position_encodings/encodings")?,
    );
    put(
        "model.decoder.embed_tokens.weight".into(),
        tensor(model, "decoder/embeddings/weight")?,
    );
    match model.aliases.get("decoder/projection/weight") {
        Some(t) if t == "decoder/embeddings/weight" => {}
        _ if model.variables.contains_key("decoder/projection/weight") => {
            bail!("`decoder/projection/weight` is not tied to the token embeddings; Candle's Whisper needs them tied")
        }
        _ => {}
    }
    for side in ["encoder", "decoder"] {
        let hf = format!("model.{side}");
        layer_norm(
            model,
            &format!("{side}/layer_norm"),
            &format!("{hf}.layer_norm"),
            &mut out,
        )?;
        let layers = if side == "encoder" {
            s.encoder_layers
        } else {
            s.decoder_layers
        };
        for i in 0..layers {
            let ct = format!("{side}/layer_{i}");
            let h = format!("{hf}.layers.{i}");
            // Self-attention: fused q, k, v.
            let w = tensor(model, &format!("{ct}/self_attention/linear_0/weight"))?;
            let b = tensor(model, &format!("{ct}/self_attention/linear_0/bias"))?;
            split_rows(&w, &b, 3, d, &format!("{ct}/self_attention/linear_0"))?
                .into_iter()
                .zip(["q_proj", "k_proj", "v_proj"])
                .try_for_each(|((w, b), p)| {
                    put_linear(
                        &mut out,
                        &format!("{h}.self_attn.{p}"),
                        w,
                        b,
                        p == "k_proj",
                        &ct,
                    )
                })?;
            linear(
                model,
                &format!("{ct}/self_attention/linear_1"),
                &format!("{h}.self_attn.out_proj"),
                &mut out,
            )?;
            layer_norm(
                model,
                &format!("{ct}/self_attention/layer_norm"),
                &format!("{h}.self_attn_layer_norm"),
                &mut out,
            )?;
            if side == "decoder" {
                linear(
                    model,
                    &format!("{ct}/attention/linear_0"),
                    &format!("{h}.encoder_attn.q_proj"),
                    &mut out,
                )?;
                let w = tensor(model, &format!("{ct}/attention/linear_1/weight"))?;
                let b = tensor(model, &format!("{ct}/attention/linear_1/bias"))?;
                split_rows(&w, &b, 2, d, &format!("{ct}/attention/linear_1"))?
                    .into_iter()
                    .zip(["k_proj", "v_proj"])
                    .try_for_each(|((w, b), p)| {
                        put_linear(
                            &mut out,
                            &format!("{h}.encoder_attn.{p}"),
                            w,
                            b,
                            p == "k_proj",
                            &ct,
                        )
                    })?;
                linear(
                    model,
                    &format!("{ct}/attention/linear_2"),
                    &format!("{h}.encoder_attn.out_proj"),
                    &mut out,
                )?;
                layer_norm(
                    model,
                    &format!("{ct}/attention/layer_norm"),
                    &format!("{h}.encoder_attn_layer_norm"),
                    &mut out,
                )?;
            }
            linear(
                model,
                &format!("{ct}/ffn/linear_0"),
                &format!("{h}.fc1"),
                &mut out,
            )?;
            linear(
                model,
                &format!("{ct}/ffn/linear_1"),
                &format!("{h}.fc2"),
                &mut out,
            )?;
            layer_norm(
                model,
                &format!("{ct}/ffn/layer_norm"),
                &format!("{h}.final_layer_norm"),
                &mut out,
            )?;
        }
    }
    Ok(out)
}

/// Convert `model_bin` (+ CTranslate2's `config.json` when given) into `out_dir/model.safetensors`
/// and `out_dir/config.json`. Returns the shapes read.
pub fn convert(model_bin: &Path, ct2_config: Option<&Path>, out_dir: &Path) -> Result<Shapes> {
    let model = Model::read(model_bin)?;
    let shapes = Shapes::of(&model).with_context(|| format!("{}", model_bin.display()))?;
    let config = match ct2_config {
        Some(p) => Some(
            serde_json::from_slice::<serde_json::Value>(
                &std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?,
            )
            .with_context(|| format!("{}: invalid JSON", p.display()))?,
        ),
        None => None,
    };
    let tensors = tensors(&model, &shapes).with_context(|| format!("{}", model_bin.display()))?;
    drop(model);
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    candle_core::safetensors::save(&tensors, out_dir.join("model.safetensors")).with_context(
        || {
            format!(
                "cannot write {}",
                out_dir.join("model.safetensors").display()
            )
        },
    )?;
    let cfg = serde_json::to_vec_pretty(&shapes.hf_config(config.as_ref()))?;
    std::fs::write(out_dir.join("config.json"), cfg)
        .with_context(|| format!("cannot write {}", out_dir.join("config.json").display()))?;
    Ok(shapes)
}

/// A variable as a Candle tensor: float types kept, quantized weights dequantized to f32.
fn tensor(model: &Model, name: &str) -> Result<Tensor> {
    let v = model.var(name)?;
    let dev = Device::Cpu;
    let t = match v.dtype {
        Dtype::F32 => Tensor::from_raw_buffer(&v.data, DType::F32, &v.shape, &dev)?,
        Dtype::F16 => Tensor::from_raw_buffer(&v.data, DType::F16, &v.shape, &dev)?,
        Dtype::BF16 => Tensor::from_raw_buffer(&v.data, DType::BF16, &v.shape, &dev)?,
        Dtype::I8 | Dtype::I16 => {
            Tensor::from_vec(model.dequantized(name)?, v.shape.clone(), &dev)?
        }
        Dtype::I32 => bail!("`{name}` is int32, not a weight"),
    };
    Ok(t)
}

fn linear(model: &Model, ct: &str, hf: &str, out: &mut HashMap<String, Tensor>) -> Result<()> {
    out.insert(
        format!("{hf}.weight"),
        tensor(model, &format!("{ct}/weight"))?,
    );
    out.insert(format!("{hf}.bias"), tensor(model, &format!("{ct}/bias"))?);
    Ok(())
}

fn layer_norm(model: &Model, ct: &str, hf: &str, out: &mut HashMap<String, Tensor>) -> Result<()> {
    out.insert(
        format!("{hf}.weight"),
        tensor(model, &format!("{ct}/gamma"))?,
    );
    out.insert(format!("{hf}.bias"), tensor(model, &format!("{ct}/beta"))?);
    Ok(())
}

/// Split a fused `[parts·d, d]` weight and `[parts·d]` bias into `parts` pieces.
fn split_rows(
    w: &Tensor,
    b: &Tensor,
    parts: usize,
    d: usize,
    what: &str,
) -> Result<Vec<(Tensor, Tensor)>> {
    if w.dims() != [parts * d, d] || b.dims() != [parts * d] {
        bail!(
            "`{what}` has weight {:?} and bias {:?}; expected [{}, {d}] and [{}]",
            w.dims(),
            b.dims(),
            parts * d,
            parts * d
        );
    }
    (0..parts)
        .map(|i| {
            Ok((
                w.narrow(0, i * d, d)?.contiguous()?,
                b.narrow(0, i * d, d)?.contiguous()?,
            ))
        })
        .collect()
}

/// Store a split projection; the k projection has no bias in Whisper, so its (fused) bias must
/// be zeros and is dropped.
fn put_linear(
    out: &mut HashMap<String, Tensor>,
    hf: &str,
    w: Tensor,
    b: Tensor,
    no_bias: bool,
    layer: &str,
) -> Result<()> {
    out.insert(format!("{hf}.weight"), w);
    if no_bias {
        let max = b.to_dtype(DType::F32)?.abs()?.max(0)?.to_scalar::<f32>()?;
        if max != 0.0 {
            bail!("`{layer}`: the k projection's bias is not zero (max |b| = {max}); Whisper's k projection has none");
        }
    } else {
        out.insert(format!("{hf}.bias"), b);
    }
    Ok(())
}
