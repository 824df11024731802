//! The BERT encoder the sentence embedder runs: the same weights, names and arithmetic as
//! candle-transformers' `BertModel` (absolute positions, post-LayerNorm layers), computed with
//! fewer passes over memory on the CPU:
//!
//! - the query, key and value projections are one matmul (their weights concatenated at
//!   load time), so the activations are packed for gemm once instead of three times;
//! - self-attention is one custom op ([`kernels::Attention`]) reading that fused output;
//! - the exact GELU is a vectorised custom op ([`kernels::GeluErf`]).
//!
//! On other devices (CUDA) the same layers run through candle's own ops. The outputs match
//! `BertModel`'s within float rounding: see the tests (tiny random BERT, padded batch) and
//! `tests/` for the real all-MiniLM-L6-v2.

use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::{embedding, layer_norm, linear, Embedding, LayerNorm, Linear, VarBuilder};
use candle_transformers::models::bert::{Config, HiddenAct, PositionEmbeddingType};

use super::kernels::{attention_with_candle_ops, Attention, GeluErf};

struct Layer {
    qkv: Linear,
    attn_out: Linear,
    attn_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    out_norm: LayerNorm,
}

/// A BERT encoder: token ids → last hidden states.
pub struct BertEncoder {
    word: Embedding,
    position: Embedding,
    token_type: Embedding,
    embed_norm: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
    head_dim: usize,
    act: HiddenAct,
    device: Device,
}

impl BertEncoder {
    /// Load from `vb` (rooted at the tensors' common prefix: `embeddings.…`, `encoder.…`).
    pub fn load(vb: VarBuilder, config: &Config) -> Result<Self> {
        if config.position_embedding_type != PositionEmbeddingType::Absolute {
            candle_core::bail!("only absolute position embeddings are supported");
        }
        let h = config.hidden_size;
        let heads = config.num_attention_heads;
        if heads == 0 || !h.is_multiple_of(heads) {
            candle_core::bail!("hidden_size {h} is not a multiple of num_attention_heads {heads}");
        }
        let e = vb.pp("embeddings");
        let eps = config.layer_norm_eps;
        let layers = (0..config.num_hidden_layers)
            .map(|i| {
                let l = vb.pp(format!("encoder.layer.{i}"));
                let a = l.pp("attention");
                let s = a.pp("self");
                let (q, k, v) = (
                    linear(h, h, s.pp("query"))?,
                    linear(h, h, s.pp("key"))?,
                    linear(h, h, s.pp("value"))?,
                );
                let weight = Tensor::cat(&[q.weight(), k.weight(), v.weight()], 0)?;
                let bias = match (q.bias(), k.bias(), v.bias()) {
                    (Some(a), Some(b), Some(c)) => Some(Tensor::cat(&[a, b, c], 0)?),
                    _ => candle_core::bail!("layer {i}: attention projections without bias"),
                };
                Ok(Layer {
                    qkv: Linear::new(weight, bias),
                    attn_out: linear(h, h, a.pp("output.dense"))?,
                    attn_norm: layer_norm(h, eps, a.pp("output.LayerNorm"))?,
                    intermediate: linear(h, config.intermediate_size, l.pp("intermediate.dense"))?,
                    output: linear(config.intermediate_size, h, l.pp("output.dense"))?,
                    out_norm: layer_norm(h, eps, l.pp("output.LayerNorm"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            word: embedding(config.vocab_size, h, e.pp("word_embeddings"))?,
            position: embedding(
                config.max_position_embeddings,
                h,
                e.pp("position_embeddings"),
            )?,
            token_type: embedding(config.type_vocab_size, h, e.pp("token_type_embeddings"))?,
            embed_norm: layer_norm(h, eps, e.pp("LayerNorm"))?,
            layers,
            heads,
            head_dim: h / heads,
            act: config.hidden_act,
            device: vb.device().clone(),
        })
    }

    /// `ids`, `type_ids`, `mask`: `(batch, seq)` (mask 1 for tokens, 0 for padding) →
    /// hidden states `(batch, seq, hidden)`.
    pub fn forward(&self, ids: &Tensor, type_ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (b, t) = ids.dims2()?;
        let positions = Tensor::arange(0u32, t as u32, &self.device)?;
        let x = (self.word.forward(ids)? + self.token_type.forward(type_ids)?)?
            .broadcast_add(&self.position.forward(&positions)?)?;
        let mut x = self.embed_norm.forward(&x)?.reshape((b * t, ()))?;
        let mask = mask.to_dtype(DType::F32)?.contiguous()?;
        for layer in &self.layers {
            let qkv = layer.qkv.forward(&x)?;
            let ctx = self.attention(&qkv, &mask, b, t)?;
            let x1 = layer
                .attn_norm
                .forward(&(layer.attn_out.forward(&ctx)? + &x)?)?;
            let inner = self.activation(&layer.intermediate.forward(&x1)?)?;
            x = layer
                .out_norm
                .forward(&(layer.output.forward(&inner)? + &x1)?)?;
        }
        x.reshape((b, t, ()))
    }

    fn attention(&self, qkv: &Tensor, mask: &Tensor, b: usize, t: usize) -> Result<Tensor> {
        let op = Attention {
            batch: b,
            seq: t,
            heads: self.heads,
            head_dim: self.head_dim,
        };
        if self.device.is_cpu() && qkv.dtype() == DType::F32 {
            return qkv.apply_op2_no_bwd(mask, &op);
        }
        // Other devices and dtypes: candle's ops, as candle-transformers' BertModel.
        attention_with_candle_ops(qkv, mask, &op)
    }

    fn activation(&self, x: &Tensor) -> Result<Tensor> {
        match self.act {
            HiddenAct::Gelu if self.device.is_cpu() && x.dtype() == DType::F32 => {
                x.apply_op1_no_bwd(&GeluErf)
            }
            HiddenAct::Gelu => x.gelu_erf(),
            HiddenAct::GeluApproximate => x.gelu(),
            HiddenAct::Relu => x.relu(),
        }
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use super::*;
    use candle_transformers::models::bert::BertModel;

    /// The tiny random BERT of the test fixtures, a padded batch: same states as
    /// candle-transformers' `BertModel` on every unpadded position.
    #[test]
    fn matches_candle_bert_on_a_padded_batch() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        crate::testing::bert::write_tiny_bert(dir.path())?;
        let config: Config =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("config.json"))?)?;
        let weights = dir.path().join("model.safetensors");
        let dev = Device::Cpu;
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[&weights], DType::F32, &dev)? };
        let reference = BertModel::load(vb.clone(), &config)?;
        let ours = BertEncoder::load(vb, &config)?;
        let (b, t) = (3, 9);
        let lens = [9usize, 5, 2];
        let ids: Vec<u32> = (0..b * t).map(|i| (i * 7 % 40) as u32 + 1).collect();
        let mask: Vec<u32> = lens
            .iter()
            .flat_map(|&n| (0..t).map(move |j| u32::from(j < n)))
            .collect();
        let ids = Tensor::from_vec(ids, (b, t), &dev)?;
        let mask = Tensor::from_vec(mask, (b, t), &dev)?;
        let types = ids.zeros_like()?;
        let want = reference.forward(&ids, &types, Some(&mask))?;
        let got = ours.forward(&ids, &types, &mask)?;
        let mut worst = 0f32;
        for (row, &n) in lens.iter().enumerate() {
            let d = (got.get(row)?.narrow(0, 0, n)? - want.get(row)?.narrow(0, 0, n)?)?
                .abs()?
                .max_all()?
                .to_scalar::<f32>()?;
            worst = worst.max(d);
        }
        assert!(worst < 1e-5, "max |Δ| {worst:e}");
        Ok(())
    }
}
