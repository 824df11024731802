//! CPU kernels of the BERT encoder ([`super::encoder`]), as Candle custom ops:
//!
//! - [`GeluErf`]: the exact GELU, `0.5·x·(1 + erf(x/√2))`, with `erf` from Abramowitz & Stegun
//!   7.1.26 (absolute error 1.5e-7 in exact arithmetic, 5.1e-7 measured in f32; the formula PyTorch's vectorised CPU `erf` uses) and
//!   `exp` from a Cephes-style polynomial ([`exp_approx`]). Both are plain loops the compiler
//!   vectorises; candle 0.11 calls libm's scalar `erff` per element (14% of a MiniLM batch-32
//!   profile).
//! - [`Attention`]: the whole self-attention of one layer from the fused `q|k|v` projection:
//!   scores `q·k/√d`, padding keys skipped (the reference adds `f32::MIN` to them, whose
//!   exponential is exactly 0), softmax, weighted sum of `v`, written straight into the
//!   `(batch·seq, hidden)` layout the output projection reads. One work unit per
//!   (sequence, head) on candle's CPU pool; replaces candle's transposes, copies, batched
//!   small matmuls, mask arithmetic and three softmax passes.
//!
//! Each is checked against candle's own op in the tests below and, end to end, against
//! candle-transformers' `BertModel` (`encoder.rs` tests).

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor, D};

/// `ln 2` split in two for an exact range reduction (Cephes).
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;

/// `e^x` for `x` in about [-87, 88]: relative error below 2e-7 (see the test). Branch-free so
/// that loops over slices vectorise.
#[inline(always)]
pub fn exp_approx(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E + 0.5).floor();
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    y * f32::from_bits(((n as i32 + 127) as u32) << 23)
}

/// `erf(x)`, Abramowitz & Stegun 7.1.26: absolute error below 1.5e-7 (plus float rounding).
#[inline(always)]
pub fn erf_approx(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let mut p = 1.061_405_4_f32;
    p = p * t - 1.453_152_1;
    p = p * t + 1.421_413_8;
    p = p * t - 0.284_496_74;
    p = p * t + 0.254_829_6;
    let y = 1.0 - p * t * exp_approx(-a * a);
    y.copysign(x)
}

/// The exact (erf) GELU of every element of `xs` into `out`.
pub fn gelu_erf_slice(xs: &[f32], out: &mut [f32]) {
    for (o, &x) in out.iter_mut().zip(xs) {
        *o = 0.5 * x * (1.0 + erf_approx(x * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// Elements per work unit of [`GeluErf`] on the CPU pool.
const GELU_CHUNK: usize = 16 * 1024;

/// The exact GELU as a custom op (f32, contiguous input).
pub struct GeluErf;

impl CustomOp1 for GeluErf {
    fn name(&self) -> &'static str {
        "frugalbench-gelu-erf"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let CpuStorage::F32(data) = storage else {
            candle_core::bail!("{}: f32 only", self.name());
        };
        let Some((start, end)) = layout.contiguous_offsets() else {
            candle_core::bail!("{}: contiguous input only", self.name());
        };
        let src = &data[start..end];
        let mut out = vec![0f32; src.len()];
        let ptr = SendPtr(out.as_mut_ptr());
        let units = src.len().div_ceil(GELU_CHUNK);
        candle_core::utils::barrier_pool().execute_chunked(units, |range| {
            for unit in range {
                let lo = unit * GELU_CHUNK;
                let hi = src.len().min(lo + GELU_CHUNK);
                // SAFETY: units are disjoint ranges of `out`, which outlives the pool call.
                let dst = unsafe { std::slice::from_raw_parts_mut(ptr.get().add(lo), hi - lo) };
                gelu_erf_slice(&src[lo..hi], dst);
            }
        });
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }
}

/// A raw output pointer shared by the work units of one op (each writes its own part).
#[derive(Clone, Copy)]
struct SendPtr(*mut f32);
// SAFETY: only used for disjoint writes while the owning Vec is alive (inside one pool call).
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}
impl SendPtr {
    fn get(self) -> *mut f32 {
        self.0
    }
}

/// Self-attention of one layer: `qkv` `(batch·seq, 3·hidden)` (the fused projection, `q | k | v`,
/// heads contiguous inside each) and `mask` `(batch, seq)` (1 = token, 0 = padding) →
/// context `(batch·seq, hidden)`.
pub struct Attention {
    pub batch: usize,
    pub seq: usize,
    pub heads: usize,
    pub head_dim: usize,
}

impl CustomOp2 for Attention {
    fn name(&self) -> &'static str {
        "frugalbench-bert-attention"
    }

    fn cpu_fwd(
        &self,
        qkv: &CpuStorage,
        qkv_l: &Layout,
        mask: &CpuStorage,
        mask_l: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(qkv), CpuStorage::F32(mask)) = (qkv, mask) else {
            candle_core::bail!("{}: f32 only", self.name());
        };
        let (Some((q0, q1)), Some((m0, m1))) =
            (qkv_l.contiguous_offsets(), mask_l.contiguous_offsets())
        else {
            candle_core::bail!("{}: contiguous inputs only", self.name());
        };
        let Attention {
            batch,
            seq,
            heads,
            head_dim,
        } = *self;
        let hidden = heads * head_dim;
        let qkv = &qkv[q0..q1];
        let mask = &mask[m0..m1];
        if qkv.len() != batch * seq * 3 * hidden || mask.len() != batch * seq {
            candle_core::bail!(
                "{}: shapes {:?} and {:?} do not match batch {batch}, seq {seq}, hidden {hidden}",
                self.name(),
                qkv_l.shape(),
                mask_l.shape()
            );
        }
        let mut out = vec![0f32; batch * seq * hidden];
        let ptr = SendPtr(out.as_mut_ptr());
        let scale = 1.0 / (head_dim as f32).sqrt();
        let row = 3 * hidden;
        candle_core::utils::barrier_pool().execute_chunked(batch * heads, |range| {
            let mut scores = vec![0f32; seq];
            let mut keys = Vec::with_capacity(seq);
            for unit in range {
                let (b, h) = (unit / heads, unit % heads);
                let base = b * seq;
                keys.clear();
                keys.extend((0..seq).filter(|&j| mask[base + j] != 0.0));
                for i in 0..seq {
                    let q = &qkv[(base + i) * row + h * head_dim..][..head_dim];
                    let mut max = f32::NEG_INFINITY;
                    for (s, &j) in scores.iter_mut().zip(&keys) {
                        let k = &qkv[(base + j) * row + hidden + h * head_dim..][..head_dim];
                        *s = dot(q, k) * scale;
                        max = max.max(*s);
                    }
                    let scores = &mut scores[..keys.len()];
                    let mut sum = 0f32;
                    for s in scores.iter_mut() {
                        *s = exp_approx(*s - max);
                        sum += *s;
                    }
                    // SAFETY: unit (b, h) alone writes row `base + i`, columns of head `h`.
                    let ctx = unsafe {
                        std::slice::from_raw_parts_mut(
                            ptr.get().add((base + i) * hidden + h * head_dim),
                            head_dim,
                        )
                    };
                    for (&p, &j) in scores.iter().zip(&keys) {
                        let v = &qkv[(base + j) * row + 2 * hidden + h * head_dim..][..head_dim];
                        for (c, &x) in ctx.iter_mut().zip(v) {
                            *c += p * x;
                        }
                    }
                    let inv = 1.0 / sum;
                    for c in ctx.iter_mut() {
                        *c *= inv;
                    }
                }
            }
        });
        Ok((CpuStorage::F32(out), Shape::from((batch * seq, hidden))))
    }
}

/// [`Attention`] computed with candle's ops, as candle-transformers' BERT does (transposes,
/// batched matmuls, `f32::MIN` on padding keys, softmax): the path for other devices and
/// dtypes, and the kernel's reference in the tests.
pub fn attention_with_candle_ops(qkv: &Tensor, mask: &Tensor, op: &Attention) -> Result<Tensor> {
    let (b, t, nh, d) = (op.batch, op.seq, op.heads, op.head_dim);
    let h = nh * d;
    let split = |i: usize| -> Result<Tensor> {
        qkv.narrow(1, i * h, h)?
            .reshape((b, t, nh, d))?
            .transpose(1, 2)?
            .contiguous()
    };
    let (q, k, v) = (split(0)?, split(1)?, split(2)?);
    let scores = (q.matmul(&k.t()?)? / (d as f64).sqrt())?;
    let bias = ((1.0 - mask)? * f32::MIN as f64)?
        .reshape((b, 1, 1, t))?
        .to_dtype(scores.dtype())?;
    let probs = candle_nn::ops::softmax(&scores.broadcast_add(&bias)?, D::Minus1)?;
    probs
        .matmul(&v)?
        .transpose(1, 2)?
        .contiguous()?
        .reshape((b * t, h))
}

#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    // Eight partial sums so the loop vectorises (f32 adds are not reassociated otherwise).
    let mut acc = [0f32; 8];
    let chunks = a.len() / 8;
    for c in 0..chunks {
        for l in 0..8 {
            acc[l] += a[c * 8 + l] * b[c * 8 + l];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for i in chunks * 8..a.len() {
        s += a[i] * b[i];
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn exp_is_within_2e_7_relative() {
        let mut worst = 0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let want = (x as f64).exp();
            let got = exp_approx(x) as f64;
            worst = worst.max(((got - want) / want).abs());
            x += 0.001_3;
        }
        assert!(worst < 2e-7, "max relative error {worst:e}");
        assert_eq!(exp_approx(0.0), 1.0);
    }

    #[test]
    fn erf_is_within_6e_7_absolute() {
        let mut worst = 0f64;
        let mut x = -6.0f32;
        while x < 6.0 {
            let want = libm::erf(x as f64);
            worst = worst.max((erf_approx(x) as f64 - want).abs());
            x += 0.000_7;
        }
        // 1.5e-7 in exact arithmetic; f32 rounding of `1 - p·t·e` adds about 3.5e-7 (measured 5.1e-7).
        assert!(worst < 6e-7, "max absolute error {worst:e}");
        assert!(erf_approx(0.0).abs() < 1e-7);
        assert_eq!(erf_approx(-2.0), -erf_approx(2.0));
    }

    #[test]
    fn gelu_matches_candle_gelu_erf() -> Result<()> {
        let xs: Vec<f32> = (0..40_000)
            .map(|i| (i as f32 - 20_000.0) / 2_000.0)
            .collect();
        let t = Tensor::from_vec(xs, (200, 200), &Device::Cpu)?;
        let ours = t.apply_op1_no_bwd(&GeluErf)?;
        let want = t.gelu_erf()?;
        let diff = (ours - want)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(diff < 1e-6, "max |Δ| {diff:e}");
        Ok(())
    }

    #[test]
    fn attention_matches_candle_ops_with_padding() -> Result<()> {
        let op = Attention {
            batch: 3,
            seq: 7,
            heads: 4,
            head_dim: 12,
        };
        let h = op.heads * op.head_dim;
        let dev = &Device::Cpu;
        let qkv = Tensor::randn(0f32, 1.0, (op.batch * op.seq, 3 * h), dev)?;
        let lens = [7usize, 4, 1];
        let mask: Vec<f32> = lens
            .iter()
            .flat_map(|&n| (0..op.seq).map(move |j| if j < n { 1.0 } else { 0.0 }))
            .collect();
        let mask = Tensor::from_vec(mask, (op.batch, op.seq), dev)?;
        let ours = qkv.apply_op2_no_bwd(&mask, &op)?;
        let want = attention_with_candle_ops(&qkv, &mask, &op)?;
        let diff = (ours - want)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(diff < 1e-5, "max |Δ| {diff:e}");
        Ok(())
    }
}
