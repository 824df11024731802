//! EfficientNet-Lite (Lite0–Lite4): image classification with the model's ImageNet head, or
//! a linear head fitted on its frozen 1280-wide pooled features.
//!
//! The Lite variants are EfficientNet made friendly to integer accelerators (tensorflow/tpu,
//! models/official/efficientnet/lite): no squeeze-and-excitation, ReLU6 instead of swish, and
//! the stem (32 channels) and head (1280 channels) kept fixed when the width is scaled; the
//! first and last stages keep their repeat counts when the depth is scaled. candle-transformers
//! has only B0–B7, so the network is written here. Convolutions pad as TensorFlow's `SAME`
//! does (stride 2 puts the extra pixel at the bottom/right), BatchNorm uses ε = 1e-3 and is
//! folded into the convolution before it when the weights load.
//!
//! Parameter names are those of the PyTorch port the pip package ships
//! (`_conv_stem`, `_bn0`, `_blocks.N._expand_conv` / `_bn0` / `_depthwise_conv` / `_bn1` /
//! `_project_conv` / `_bn2`, `_conv_head`, `_bn1`, `_fc`). Weights come as safetensors, or as
//! a legacy (non-zip) PyTorch `.pth`, converted once into the cache
//! ([`crate::fetch::legacy_pth`]).
//!
//! Settings: `variant` (`lite0` … `lite4`, default `lite0`). Preprocessing default (no
//! `preprocessor_config.json` in the package): shorter side to 256, bicubic, centre crop
//! 224, ×1/255, mean 127/255, std 128/255 (the TF Lite models' `(x - 127) / 128`).

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use candle_core::{CpuStorage, CustomOp1, DType, Device, Layout, Shape, Tensor, D};

use super::image_cls::{self, ImageModel};
use super::Family;
use crate::catalogue::ModelEntry;
use crate::datasets::LoadedDataset;
use crate::fetch::{legacy_pth, ModelFiles};
use crate::vision::{Preprocess, Resample, Resize};
use crate::{Runner, RunnerOptions, Task};

/// The catalogue arch.
pub const ARCH: &str = "efficientnet-lite";
pub const ARCHES: [&str; 1] = [ARCH];

pub fn handles(arch: &str) -> bool {
    arch == ARCH
}

pub const FAMILY: Family = Family {
    task: Task::ImageClassification,
    arches: &ARCHES,
    handles,
    load,
};

/// BatchNorm ε of the TensorFlow models (and of the PyTorch port).
pub const BN_EPS: f64 = 1e-3;

/// `(repeats, kernel, stride, expand ratio, in, out)` of the seven stages at width and
/// depth 1 (EfficientNet-B0, which Lite0 shares).
const STAGES: [(usize, usize, usize, usize, usize, usize); 7] = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
];

/// Width and depth multipliers and input resolution of each variant.
pub fn variant(name: &str) -> Result<(f64, f64, u32)> {
    Ok(match name {
        "lite0" => (1.0, 1.0, 224),
        "lite1" => (1.0, 1.1, 240),
        "lite2" => (1.1, 1.2, 260),
        "lite3" => (1.2, 1.4, 280),
        "lite4" => (1.4, 1.8, 300),
        other => bail!("unknown EfficientNet-Lite variant `{other}` (lite0 to lite4)"),
    })
}

/// EfficientNet's channel rounding to multiples of 8 (never more than 10% down).
fn round_filters(filters: usize, width: f64) -> usize {
    if width == 1.0 {
        return filters;
    }
    let f = filters as f64 * width;
    let mut new = ((f + 4.0) as usize / 8 * 8).max(8);
    if (new as f64) < 0.9 * f {
        new += 8;
    }
    new
}

/// One block's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockSpec {
    pub kernel: usize,
    pub stride: usize,
    pub expand: usize,
    pub input: usize,
    pub output: usize,
}

/// The blocks of a variant, in order.
pub fn blocks(width: f64, depth: f64) -> Vec<BlockSpec> {
    let mut out = Vec::new();
    let last = STAGES.len() - 1;
    for (i, &(repeats, kernel, stride, expand, input, output)) in STAGES.iter().enumerate() {
        let fixed = i == 0 || i == last;
        let repeats = if fixed {
            repeats
        } else {
            (depth * repeats as f64).ceil() as usize
        };
        let input = if i == 0 {
            32
        } else {
            round_filters(input, width)
        };
        let output = round_filters(output, width);
        for j in 0..repeats {
            out.push(BlockSpec {
                kernel,
                stride: if j == 0 { stride } else { 1 },
                expand,
                input: if j == 0 { input } else { output },
                output,
            });
        }
    }
    out
}

/// TensorFlow `SAME` padding of one dimension: `(before, after)` for an output of
/// `ceil(size / stride)`.
pub fn same_padding(size: usize, kernel: usize, stride: usize) -> (usize, usize) {
    let out = size.div_ceil(stride);
    let total = ((out - 1) * stride + kernel).saturating_sub(size);
    (total / 2, total - total / 2)
}

/// A convolution with its BatchNorm folded in (weight scaled per output channel, bias
/// `beta - mean * gamma / sqrt(var + eps)`).
#[derive(Debug, Clone)]
struct ConvBn {
    weight: Tensor,
    bias: Tensor,
    kernel: usize,
    stride: usize,
}

fn fold(
    w: &HashMap<String, Tensor>,
    conv: &str,
    bn: &str,
    stride: usize,
    device: &Device,
) -> Result<ConvBn> {
    let get = |name: &str| -> Result<Tensor> {
        w.get(name)
            .with_context(|| format!("the weights have no `{name}`"))?
            .to_dtype(DType::F32)
            .map_err(Into::into)
    };
    let weight = get(&format!("{conv}.weight"))?;
    let (gamma, beta) = (get(&format!("{bn}.weight"))?, get(&format!("{bn}.bias"))?);
    let (mean, var) = (
        get(&format!("{bn}.running_mean"))?,
        get(&format!("{bn}.running_var"))?,
    );
    let (out_ch, _, kh, kw) = weight
        .dims4()
        .with_context(|| format!("`{conv}.weight` must have 4 dimensions"))?;
    if kh != kw {
        bail!("`{conv}.weight`: only square kernels are supported, got {kh}×{kw}");
    }
    for (n, t) in [
        ("weight", &gamma),
        ("bias", &beta),
        ("running_mean", &mean),
        ("running_var", &var),
    ] {
        if t.dims() != [out_ch] {
            bail!("`{bn}.{n}` has shape {:?}, expected [{out_ch}]", t.dims());
        }
    }
    let scale = (gamma / (var + BN_EPS)?.sqrt()?)?;
    let bias = (beta - (mean * &scale)?)?;
    let weight = weight.broadcast_mul(&scale.reshape((out_ch, 1, 1, 1))?)?;
    Ok(ConvBn {
        weight: weight.to_device(device)?,
        bias: bias.to_device(device)?,
        kernel: kh,
        stride,
    })
}

impl ConvBn {
    /// A full convolution (the stem), SAME-padded.
    fn conv(&self, x: &Tensor) -> Result<Tensor> {
        let (_, _, h, w) = x.dims4()?;
        let (pt, pb) = same_padding(h, self.kernel, self.stride);
        let (pl, pr) = same_padding(w, self.kernel, self.stride);
        let x = x.pad_with_zeros(2, pt, pb)?.pad_with_zeros(3, pl, pr)?;
        let y = x.conv2d(&self.weight, 0, self.stride, 1, 1)?;
        let c = self.bias.dim(0)?;
        Ok(y.broadcast_add(&self.bias.reshape((1, c, 1, 1))?)?)
    }

    /// A 1×1 convolution as a matrix product over the pixels.
    fn pointwise(&self, x: &Tensor) -> Result<Tensor> {
        let (b, c, h, w) = x.dims4()?;
        let out = self.bias.dim(0)?;
        let wm = self.weight.reshape((out, c))?;
        let y = wm
            .broadcast_matmul(&x.reshape((b, c, h * w))?)?
            .broadcast_add(&self.bias.reshape((1, out, 1))?)?;
        Ok(y.reshape((b, out, h, w))?)
    }

    /// A depthwise convolution (one filter per channel), SAME-padded, ReLU6 after.
    fn depthwise_relu6(&self, x: &Tensor) -> Result<Tensor> {
        if x.device().is_cpu() {
            let op = Depthwise {
                weight: self.weight.flatten_all()?.to_vec1::<f32>()?,
                bias: self.bias.to_vec1::<f32>()?,
                kernel: self.kernel,
                stride: self.stride,
            };
            return Ok(x.contiguous()?.apply_op1_no_bwd(&op)?);
        }
        // Other devices: candle's grouped convolution (one small convolution per channel).
        let (_, c, h, w) = x.dims4()?;
        let (pt, pb) = same_padding(h, self.kernel, self.stride);
        let (pl, pr) = same_padding(w, self.kernel, self.stride);
        let x = x.pad_with_zeros(2, pt, pb)?.pad_with_zeros(3, pl, pr)?;
        let y = x.conv2d(&self.weight, 0, self.stride, 1, c)?;
        Ok(relu6(&y.broadcast_add(&self.bias.reshape((1, c, 1, 1))?)?)?)
    }
}

fn relu6(x: &Tensor) -> candle_core::Result<Tensor> {
    x.clamp(0f32, 6f32)
}

/// Depthwise convolution + bias + ReLU6 on the CPU in one pass: candle's grouped
/// convolution runs one convolution per channel, which for the 1,152-channel blocks costs
/// far more than the arithmetic.
struct Depthwise {
    /// `(channels, k, k)`, row-major.
    weight: Vec<f32>,
    bias: Vec<f32>,
    kernel: usize,
    stride: usize,
}

impl CustomOp1 for Depthwise {
    fn name(&self) -> &'static str {
        "depthwise-conv2d-relu6"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        use rayon::prelude::*;
        let CpuStorage::F32(data) = s else {
            candle_core::bail!("depthwise convolution: f32 input expected");
        };
        let Some((start, end)) = l.contiguous_offsets() else {
            candle_core::bail!("depthwise convolution: contiguous input expected");
        };
        let x = &data[start..end];
        let (b, c, h, w) = l.shape().dims4()?;
        if c * self.kernel * self.kernel != self.weight.len() {
            candle_core::bail!(
                "depthwise convolution: {c} channels for {} weights",
                self.weight.len()
            );
        }
        let (k, s) = (self.kernel, self.stride);
        let (pt, _) = same_padding(h, k, s);
        let (pl, _) = same_padding(w, k, s);
        let (oh, ow) = (h.div_ceil(s), w.div_ceil(s));
        let mut out = vec![0f32; b * c * oh * ow];
        out.par_chunks_mut(oh * ow)
            .enumerate()
            .for_each(|(plane, o)| {
                let ch = plane % c;
                let xin = &x[plane * h * w..(plane + 1) * h * w];
                let wk = &self.weight[ch * k * k..(ch + 1) * k * k];
                let bias = self.bias[ch];
                // Row by row: the output row starts at the bias, then each (ky, kx) tap adds
                // `w · x` over the columns where it lands inside the picture. Every pixel adds
                // the same taps in the same order as a per-pixel loop (so the same floats),
                // but the inner loop runs over contiguous columns and vectorises (stride 1).
                for oy in 0..oh {
                    let orow = &mut o[oy * ow..(oy + 1) * ow];
                    orow.fill(bias);
                    for ky in 0..k {
                        let iy = (oy * s + ky) as isize - pt as isize;
                        if iy < 0 || iy >= h as isize {
                            continue;
                        }
                        let row = &xin[iy as usize * w..(iy as usize + 1) * w];
                        for kx in 0..k {
                            let wv = wk[ky * k + kx];
                            // ix = ox·s + kx − pl must lie in [0, w).
                            let lo = if pl > kx { (pl - kx).div_ceil(s) } else { 0 };
                            let hi = ow.min((w + pl - kx).div_ceil(s));
                            if lo >= hi {
                                continue;
                            }
                            let first = lo * s + kx - pl;
                            if s == 1 {
                                let xs = &row[first..first + (hi - lo)];
                                for (acc, &x) in orow[lo..hi].iter_mut().zip(xs) {
                                    *acc += x * wv;
                                }
                            } else {
                                let xs = row[first..].iter().step_by(s);
                                for (acc, &x) in orow[lo..hi].iter_mut().zip(xs) {
                                    *acc += x * wv;
                                }
                            }
                        }
                    }
                    for v in orow.iter_mut() {
                        *v = v.clamp(0.0, 6.0);
                    }
                }
            });
        Ok((CpuStorage::F32(out), Shape::from((b, c, oh, ow))))
    }
}

#[derive(Debug, Clone)]
struct Block {
    expand: Option<ConvBn>,
    depthwise: ConvBn,
    project: ConvBn,
    residual: bool,
}

/// An EfficientNet-Lite network with folded BatchNorms.
#[derive(Debug, Clone)]
pub struct EfficientNetLite {
    stem: ConvBn,
    blocks: Vec<Block>,
    head: ConvBn,
    fc_weight: Tensor,
    fc_bias: Tensor,
}

impl EfficientNetLite {
    /// Build from a state dict (the PyTorch port's names), variant `name`.
    pub fn from_tensors(w: &HashMap<String, Tensor>, name: &str, device: &Device) -> Result<Self> {
        let (width, depth, _) = variant(name)?;
        let specs = blocks(width, depth);
        let stem = fold(w, "_conv_stem", "_bn0", 2, device)?;
        let mut blocks = Vec::with_capacity(specs.len());
        for (i, spec) in specs.iter().enumerate() {
            let p = format!("_blocks.{i}");
            let expand = (spec.expand != 1)
                .then(|| {
                    fold(
                        w,
                        &format!("{p}._expand_conv"),
                        &format!("{p}._bn0"),
                        1,
                        device,
                    )
                })
                .transpose()?;
            let depthwise = fold(
                w,
                &format!("{p}._depthwise_conv"),
                &format!("{p}._bn1"),
                spec.stride,
                device,
            )?;
            if depthwise.kernel != spec.kernel
                || depthwise.weight.dim(0)? != spec.input * spec.expand
            {
                bail!(
                    "`{p}._depthwise_conv.weight` has shape {:?}; {name} expects {} channels and a {k}×{k} kernel",
                    depthwise.weight.dims(),
                    spec.input * spec.expand,
                    k = spec.kernel
                );
            }
            let project = fold(
                w,
                &format!("{p}._project_conv"),
                &format!("{p}._bn2"),
                1,
                device,
            )?;
            if project.weight.dims()[..2] != [spec.output, spec.input * spec.expand] {
                bail!(
                    "`{p}._project_conv.weight` has shape {:?}, {name} expects [{}, {}, 1, 1]",
                    project.weight.dims(),
                    spec.output,
                    spec.input * spec.expand
                );
            }
            blocks.push(Block {
                expand,
                depthwise,
                project,
                residual: spec.stride == 1 && spec.input == spec.output,
            });
        }
        if w.contains_key(&format!("_blocks.{}._depthwise_conv.weight", specs.len())) {
            bail!(
                "the weights have more than the {} blocks of EfficientNet-{name}: set `variant`",
                specs.len()
            );
        }
        let head = fold(w, "_conv_head", "_bn1", 1, device)?;
        let fc_weight = w
            .get("_fc.weight")
            .context("the weights have no `_fc.weight`")?
            .to_dtype(DType::F32)?
            .to_device(device)?;
        let fc_bias = w
            .get("_fc.bias")
            .context("the weights have no `_fc.bias`")?
            .to_dtype(DType::F32)?
            .to_device(device)?;
        if fc_weight.dim(1)? != head.weight.dim(0)? {
            bail!(
                "`_fc.weight` has shape {:?}, the head gives {} features",
                fc_weight.dims(),
                head.weight.dim(0)?
            );
        }
        Ok(EfficientNetLite {
            stem,
            blocks,
            head,
            fc_weight,
            fc_bias,
        })
    }

    /// Pooled features after the head convolution: `(batch, 1280)`.
    pub fn features(&self, x: &Tensor) -> Result<Tensor> {
        let mut x = relu6(&self.stem.conv(x)?)?;
        for b in &self.blocks {
            let input = x.clone();
            if let Some(e) = &b.expand {
                x = relu6(&e.pointwise(&x)?)?;
            }
            x = b.depthwise.depthwise_relu6(&x)?;
            x = b.project.pointwise(&x)?;
            if b.residual {
                x = (x + input)?;
            }
        }
        let x = relu6(&self.head.pointwise(&x)?)?;
        Ok(x.mean(D::Minus1)?.mean(D::Minus1)?)
    }

    /// Class logits: `(batch, classes)`.
    pub fn logits(&self, x: &Tensor) -> Result<Tensor> {
        let f = self.features(x)?;
        Ok(f.matmul(&self.fc_weight.t()?)?
            .broadcast_add(&self.fc_bias)?)
    }
}

impl ImageModel for EfficientNetLite {
    fn logits(&self, x: &Tensor) -> Result<Tensor> {
        EfficientNetLite::logits(self, x)
    }
    fn features(&self, x: &Tensor) -> Result<Tensor> {
        EfficientNetLite::features(self, x)
    }
    fn dtype(&self) -> String {
        "f32".to_string()
    }
}

/// timm's names for the same network (`timm/tf_efficientnet_lite0.in1k` on the hub) renamed
/// to the PyTorch port's: `conv_stem`/`bn1` → `_conv_stem`/`_bn0`; block `blocks.S.J` (stage,
/// index) → `_blocks.N` with `conv_pw`/`bn1` → `_expand_conv`/`_bn0`, `conv_dw`/`bn2` →
/// `_depthwise_conv`/`_bn1`, `conv_pwl`/`bn3` → `_project_conv`/`_bn2` (the first stage's
/// blocks have no expansion: `conv_dw`/`bn1`, `conv_pw`/`bn2`); `conv_head`/`bn2` →
/// `_conv_head`/`_bn1`; `classifier` → `_fc`. Weights already in the port's names are returned
/// as they are. (Written from timm's module layout; not yet checked on the hub file, which
/// this machine cannot reach.)
pub fn port_names(w: HashMap<String, Tensor>, name: &str) -> Result<HashMap<String, Tensor>> {
    if !w.contains_key("conv_stem.weight") {
        return Ok(w);
    }
    let (_, depth, _) = variant(name)?;
    // (stage, index in stage, expands) of each flat block index, as `blocks` lays them out.
    let last = STAGES.len() - 1;
    let mut position = Vec::new();
    for (stage, &(repeats, _, _, expand, _, _)) in STAGES.iter().enumerate() {
        let r = if stage == 0 || stage == last {
            repeats
        } else {
            (depth * repeats as f64).ceil() as usize
        };
        position.extend((0..r).map(|j| (stage, j, expand != 1)));
    }
    let mut out = HashMap::with_capacity(w.len());
    for (k, v) in w {
        let renamed = if let Some(rest) = k.strip_prefix("blocks.") {
            let mut parts = rest.splitn(3, '.');
            let (s, j, tail) = (parts.next(), parts.next(), parts.next());
            let (Some(s), Some(j), Some(tail)) = (s, j, tail) else {
                bail!("unexpected timm weight name `{k}`");
            };
            let (s, j): (usize, usize) = (s.parse()?, j.parse()?);
            let i = position
                .iter()
                .position(|&(ps, pj, _)| ps == s && pj == j)
                .with_context(|| {
                    format!("timm weight `{k}`: no block {s}.{j} in EfficientNet-{name}")
                })?;
            let expands = position[i].2;
            let (layer, field) = tail.split_once('.').unwrap_or((tail, ""));
            let new = match (expands, layer) {
                (true, "conv_pw") => "_expand_conv",
                (true, "bn1") => "_bn0",
                (true, "conv_dw") => "_depthwise_conv",
                (true, "bn2") => "_bn1",
                (true, "conv_pwl") => "_project_conv",
                (true, "bn3") => "_bn2",
                (false, "conv_dw") => "_depthwise_conv",
                (false, "bn1") => "_bn1",
                (false, "conv_pw") => "_project_conv",
                (false, "bn2") => "_bn2",
                _ => bail!("unexpected timm weight name `{k}`"),
            };
            format!("_blocks.{i}.{new}.{field}")
        } else if let Some(f) = k.strip_prefix("conv_stem.") {
            format!("_conv_stem.{f}")
        } else if let Some(f) = k.strip_prefix("bn1.") {
            format!("_bn0.{f}")
        } else if let Some(f) = k.strip_prefix("conv_head.") {
            format!("_conv_head.{f}")
        } else if let Some(f) = k.strip_prefix("bn2.") {
            format!("_bn1.{f}")
        } else if let Some(f) = k.strip_prefix("classifier.") {
            format!("_fc.{f}")
        } else {
            k
        };
        out.insert(renamed, v);
    }
    Ok(out)
}

/// The documented preprocessing of the TF Lite models (see the module docs), at the variant's
/// resolution.
pub fn default_preprocess(resolution: u32) -> Preprocess {
    Preprocess {
        resize: Resize::ShortestEdge(resolution * 8 / 7),
        resample: Resample::Bicubic,
        crop: Some((resolution, resolution)),
        rescale: Some(1.0 / 255.0),
        normalize: Some(([127.0 / 255.0; 3], [128.0 / 255.0; 3])),
    }
}

/// The weights of an entry: a safetensors file, else a legacy `.pth` converted once into the
/// cache (both hashes are printed and kept in `conversion.json` beside the conversion).
pub fn weights_file(
    entry: &ModelEntry,
    files: &ModelFiles,
    cache_dir: &std::path::Path,
) -> Result<PathBuf> {
    if let Some(p) = files.find_ext("safetensors") {
        return Ok(p.to_path_buf());
    }
    let pth = files
        .files
        .iter()
        .find(|f| f.name.ends_with(".pth") || f.name.ends_with(".pt") || f.name.ends_with(".bin"))
        .with_context(|| format!("model `{}` has no .safetensors or .pth weights", entry.id))?;
    if !legacy_pth::is_legacy(&pth.path) {
        bail!(
            "model `{}`: {} is not a legacy PyTorch checkpoint; zip-format checkpoints are not read here (convert them to safetensors)",
            entry.id,
            pth.path.display()
        );
    }
    Ok(legacy_pth::cached_conversion(&pth.path, &pth.sha256, cache_dir, false)?.path)
}

/// Load the runner.
pub fn load(
    entry: &ModelEntry,
    files: &ModelFiles,
    dataset: &LoadedDataset,
    opts: &RunnerOptions,
) -> Result<Box<dyn Runner>> {
    Ok(Box::new(load_classifier(entry, files, dataset, opts)?))
}

/// [`load`], returning the concrete runner (tests read its logits).
pub fn load_classifier(
    entry: &ModelEntry,
    files: &ModelFiles,
    dataset: &LoadedDataset,
    opts: &RunnerOptions,
) -> Result<image_cls::ImageClassifier> {
    let name = entry.setting_str("variant")?.unwrap_or("lite0").to_string();
    let (_, _, resolution) = variant(&name).with_context(|| format!("model `{}`", entry.id))?;
    let path = weights_file(entry, files, &opts.cache_dir)?;
    let tensors = candle_core::safetensors::load(&path, &Device::Cpu)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let tensors = port_names(tensors, &name)?;
    let model = EfficientNetLite::from_tensors(&tensors, &name, &opts.device)
        .with_context(|| format!("model `{}` ({})", entry.id, path.display()))?;
    let preprocess = image_cls::preprocess_for(files, default_preprocess(resolution))?;
    let n_classes = model.fc_weight.dim(0)?;
    image_cls::load_runner(
        entry,
        Box::new(model),
        || image_cls::class_names(files, n_classes),
        preprocess,
        dataset,
        opts,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lite0_has_sixteen_blocks_with_the_b0_shapes() {
        let b = blocks(1.0, 1.0);
        assert_eq!(b.len(), 16);
        assert_eq!(
            b[0],
            BlockSpec {
                kernel: 3,
                stride: 1,
                expand: 1,
                input: 32,
                output: 16
            }
        );
        assert_eq!(
            b[1],
            BlockSpec {
                kernel: 3,
                stride: 2,
                expand: 6,
                input: 16,
                output: 24
            }
        );
        assert_eq!(
            b[15],
            BlockSpec {
                kernel: 3,
                stride: 1,
                expand: 6,
                input: 192,
                output: 320
            }
        );
        // Lite4: deeper and wider stages, but the first and last keep 1 repeat and the stem 32.
        let b4 = blocks(1.4, 1.8);
        assert_eq!(b4[0].input, 32);
        assert_eq!(
            b4.iter()
                .filter(|s| s.output == round_filters(320, 1.4))
                .count(),
            1
        );
        assert_eq!(b4.len(), 1 + 4 + 4 + 6 + 6 + 8 + 1);
        assert_eq!(round_filters(16, 1.4), 24);
        assert_eq!(round_filters(40, 1.1), 48);
    }

    #[test]
    fn same_padding_puts_the_extra_pixel_after() {
        assert_eq!(same_padding(224, 3, 2), (0, 1));
        assert_eq!(same_padding(224, 5, 2), (1, 2));
        assert_eq!(same_padding(225, 3, 2), (1, 1));
        assert_eq!(same_padding(7, 5, 1), (2, 2));
    }

    fn randn(shape: &[usize], seed: u64) -> Tensor {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
    }

    #[test]
    fn the_depthwise_kernel_equals_candles_grouped_convolution() {
        for (k, s, h, w) in [(3, 1, 7, 6), (5, 2, 8, 9), (3, 2, 10, 10), (5, 1, 5, 5)] {
            let c = 4;
            let x = randn(&[2, c, h, w], 1);
            let conv = ConvBn {
                weight: randn(&[c, 1, k, k], 2),
                bias: randn(&[c], 3),
                kernel: k,
                stride: s,
            };
            let got = conv.depthwise_relu6(&(&x * 3.0).unwrap()).unwrap();
            let (pt, pb) = same_padding(h, k, s);
            let (pl, pr) = same_padding(w, k, s);
            let xp = (&x * 3.0)
                .unwrap()
                .pad_with_zeros(2, pt, pb)
                .unwrap()
                .pad_with_zeros(3, pl, pr)
                .unwrap();
            let want = xp
                .conv2d(&conv.weight, 0, s, 1, c)
                .unwrap()
                .broadcast_add(&conv.bias.reshape((1, c, 1, 1)).unwrap())
                .unwrap()
                .clamp(0f32, 6f32)
                .unwrap();
            assert_eq!(got.dims(), want.dims(), "k{k} s{s} {h}×{w}");
            let diff = (got - want)
                .unwrap()
                .abs()
                .unwrap()
                .max_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert!(diff < 1e-5, "k{k} s{s} {h}×{w}: {diff}");
        }
    }

    #[test]
    fn folded_batchnorm_equals_conv_then_batchnorm() {
        let (c_in, c_out) = (3, 5);
        let mut w = HashMap::new();
        w.insert("c.weight".to_string(), randn(&[c_out, c_in, 1, 1], 4));
        w.insert("b.weight".to_string(), randn(&[c_out], 5));
        w.insert("b.bias".to_string(), randn(&[c_out], 6));
        w.insert("b.running_mean".to_string(), randn(&[c_out], 7));
        w.insert(
            "b.running_var".to_string(),
            (randn(&[c_out], 8).abs().unwrap() + 0.1).unwrap(),
        );
        let folded = fold(&w, "c", "b", 1, &Device::Cpu).unwrap();
        let x = randn(&[2, c_in, 3, 4], 9);
        let got = folded.pointwise(&x).unwrap();
        let conv = x.conv2d(&w["c.weight"], 0, 1, 1, 1).unwrap();
        let r = |n: &str| w[n].reshape((1, c_out, 1, 1)).unwrap();
        let want = conv
            .broadcast_sub(&r("b.running_mean"))
            .unwrap()
            .broadcast_div(&(r("b.running_var") + BN_EPS).unwrap().sqrt().unwrap())
            .unwrap()
            .broadcast_mul(&r("b.weight"))
            .unwrap()
            .broadcast_add(&r("b.bias"))
            .unwrap();
        let diff = (got - want)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(diff < 1e-5, "{diff}");
    }
}
