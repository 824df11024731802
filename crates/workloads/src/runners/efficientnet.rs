//! EfficientNet-B0 … B7 image classifiers through candle-transformers' `models::efficientnet`.
//!
//! candle's model takes torchvision's parameter names (`features.0.{0,1}`,
//! `features.S.B.block.K...`, `features.8.{0,1}`, `classifier.1`) but computes as the
//! TensorFlow originals do: every convolution pads TensorFlow-`SAME` (a stride-2 convolution on
//! an even size puts its extra pixel at the bottom/right) and every BatchNorm uses ε = 1e-3.
//! That is exactly timm's `tf_efficientnet_b*` ports of Google's weights, so the hub entries are
//! timm's `tf_efficientnet_b*` checkpoints, renamed at load time ([`timm_to_torchvision`]):
//! `conv_stem`/`bn1` → `features.0`; `blocks.S.B.{conv_pw, bn1, conv_dw, bn2, se.conv_reduce,
//! se.conv_expand, conv_pwl, bn3}` → `features.{S+1}.B.block.{0.0, 0.1, 1.0, 1.1, 2.fc1, 2.fc2,
//! 3.0, 3.1}` (blocks without expansion, timm's `DepthwiseSeparableConv`: `conv_dw`, `bn1`,
//! `se`, `conv_pw`, `bn2` → `block.0` … `block.2`); `conv_head`/`bn2` → `features.8`;
//! `classifier` → `classifier.1`. Checkpoints already in torchvision's names load as they are,
//! but torchvision's own B0–B4 weights were trained with symmetric padding and ε = 1e-5, so
//! candle runs them slightly off torchvision's numbers.
//!
//! The variant comes from the tensors: the stem width, the blocks of each of the seven stages
//! and the head width must match B0 … B7 (width and depth multipliers of the paper). A fitted
//! head uses the pooled 1280-wide (B0) features, got by running the network with an identity
//! classifier (the tensors are shared, not copied): candle's model exposes no feature path.
//!
//! Preprocessing: the checkpoint's timm `pretrained_cfg` (see [`super::timm`]), else timm's
//! defaults for the variant's resolution (224 for B0 … 600 for B7): shorter side to
//! `floor(size / 0.875)`, bicubic, centre crop, ImageNet mean/std.

use std::collections::{HashMap, HashSet};

use anyhow::{bail, Context, Result};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::efficientnet::{self as en, MBConvConfig};

use super::timm::{self, LoadedNet};
use super::Family;
use crate::catalogue::ModelEntry;
use crate::datasets::LoadedDataset;
use crate::fetch::ModelFiles;
use crate::vision::{Preprocess, Resample};
use crate::{Runner, RunnerOptions, Task};

pub const ARCH: &str = "efficientnet";
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

/// `(name, width multiplier, depth multiplier, resolution)` of B0 … B7.
pub const VARIANTS: [(&str, f64, f64, u32); 8] = [
    ("b0", 1.0, 1.0, 224),
    ("b1", 1.0, 1.1, 240),
    ("b2", 1.1, 1.2, 260),
    ("b3", 1.2, 1.4, 300),
    ("b4", 1.4, 1.8, 380),
    ("b5", 1.6, 2.2, 456),
    ("b6", 1.8, 2.6, 528),
    ("b7", 2.0, 3.1, 600),
];

/// Repeats of the seven stages at depth 1.
const REPEATS: [usize; 7] = [1, 2, 2, 3, 3, 4, 1];

/// torchvision's (and candle's) channel rounding.
fn make_divisible(v: f64, divisor: usize) -> usize {
    let new_v = usize::max(
        divisor,
        (v + divisor as f64 * 0.5) as usize / divisor * divisor,
    );
    if (new_v as f64) < 0.9 * v {
        new_v + divisor
    } else {
        new_v
    }
}

/// Stem width, blocks per stage and head width of a variant, as candle builds it.
pub fn shape_of(width: f64, depth: f64) -> (usize, [usize; 7], usize) {
    (
        make_divisible(32.0 * width, 8),
        REPEATS.map(|n| (n as f64 * depth).ceil() as usize),
        4 * make_divisible(320.0 * width, 8),
    )
}

fn configs(name: &str) -> Vec<MBConvConfig> {
    match name {
        "b0" => MBConvConfig::b0(),
        "b1" => MBConvConfig::b1(),
        "b2" => MBConvConfig::b2(),
        "b3" => MBConvConfig::b3(),
        "b4" => MBConvConfig::b4(),
        "b5" => MBConvConfig::b5(),
        "b6" => MBConvConfig::b6(),
        _ => MBConvConfig::b7(),
    }
}

/// The variant of a checkpoint in torchvision's names, from its tensors.
pub fn variant_of(tensors: &HashMap<String, Tensor>) -> Result<(&'static str, u32)> {
    let stem = tensors
        .get("features.0.0.weight")
        .context("no `features.0.0.weight` (nor timm's `conv_stem.weight`): not an EfficientNet")?
        .dim(0)?;
    let mut blocks = [0usize; 7];
    for (s, b) in blocks.iter_mut().enumerate() {
        *b = (0..)
            .take_while(|j| {
                let p = format!("features.{}.{j}.block.", s + 1);
                tensors.keys().any(|k| k.starts_with(&p))
            })
            .count();
    }
    let head = tensors
        .get("features.8.0.weight")
        .context(
            "no `features.8.0.weight` (nor timm's `conv_head.weight`): not an EfficientNet-B0 … B7",
        )?
        .dim(0)?;
    VARIANTS
        .iter()
        .find(|v| shape_of(v.1, v.2) == (stem, blocks, head))
        .map(|v| (v.0, v.3))
        .with_context(|| {
            format!("stem width {stem}, blocks per stage {blocks:?}, head width {head} match no EfficientNet-B0 … B7")
        })
}

/// timm's EfficientNet names → torchvision's (see the module docs). Names already in
/// torchvision's form pass unchanged; `num_batches_tracked` counters are dropped.
pub fn timm_to_torchvision(tensors: HashMap<String, Tensor>) -> Result<HashMap<String, Tensor>> {
    if !tensors.contains_key("conv_stem.weight") {
        return Ok(tensors);
    }
    let stages = tensors
        .keys()
        .filter_map(|k| {
            k.strip_prefix("blocks.")?
                .split('.')
                .next()?
                .parse::<usize>()
                .ok()
        })
        .max()
        .map_or(0, |s| s + 1);
    let head = stages + 1;
    // Blocks with an expansion convolution (timm's InvertedResidual has `conv_pwl`).
    let expanding: HashSet<(usize, usize)> = tensors
        .keys()
        .filter_map(|k| {
            let rest = k.strip_prefix("blocks.")?;
            let mut p = rest.splitn(3, '.');
            let (s, b, tail) = (p.next()?, p.next()?, p.next()?);
            tail.starts_with("conv_pwl.")
                .then(|| Some((s.parse().ok()?, b.parse().ok()?)))
                .flatten()
        })
        .collect();
    let mut out = HashMap::with_capacity(tensors.len());
    for (k, v) in tensors {
        if k.ends_with("num_batches_tracked") {
            continue;
        }
        let renamed = if let Some(rest) = k.strip_prefix("blocks.") {
            let mut p = rest.splitn(3, '.');
            let (Some(s), Some(b), Some(tail)) = (p.next(), p.next(), p.next()) else {
                bail!("unexpected timm EfficientNet weight `{k}`");
            };
            let (s, b): (usize, usize) = (
                s.parse().with_context(|| format!("weight `{k}`"))?,
                b.parse().with_context(|| format!("weight `{k}`"))?,
            );
            let (layer, field) = match tail.strip_prefix("se.") {
                Some(se) => {
                    let (l, f) = se.split_once('.').unwrap_or((se, ""));
                    (format!("se.{l}"), f)
                }
                None => {
                    let (l, f) = tail.split_once('.').unwrap_or((tail, ""));
                    (l.to_string(), f)
                }
            };
            let new = match (expanding.contains(&(s, b)), layer.as_str()) {
                (true, "conv_pw") => "0.0",
                (true, "bn1") => "0.1",
                (true, "conv_dw") => "1.0",
                (true, "bn2") => "1.1",
                (true, "se.conv_reduce") => "2.fc1",
                (true, "se.conv_expand") => "2.fc2",
                (true, "conv_pwl") => "3.0",
                (true, "bn3") => "3.1",
                (false, "conv_dw") => "0.0",
                (false, "bn1") => "0.1",
                (false, "se.conv_reduce") => "1.fc1",
                (false, "se.conv_expand") => "1.fc2",
                (false, "conv_pw") => "2.0",
                (false, "bn2") => "2.1",
                _ => bail!("unexpected timm EfficientNet weight `{k}`"),
            };
            format!("features.{}.{b}.block.{new}.{field}", s + 1)
        } else if let Some(f) = k.strip_prefix("conv_stem.") {
            format!("features.0.0.{f}")
        } else if let Some(f) = k.strip_prefix("bn1.") {
            format!("features.0.1.{f}")
        } else if let Some(f) = k.strip_prefix("conv_head.") {
            format!("features.{head}.0.{f}")
        } else if let Some(f) = k.strip_prefix("bn2.") {
            format!("features.{head}.1.{f}")
        } else if let Some(f) = k.strip_prefix("classifier.") {
            format!("classifier.1.{f}")
        } else {
            bail!("unexpected timm EfficientNet weight `{k}`")
        };
        out.insert(renamed, v);
    }
    Ok(out)
}

/// Load the network of `files` (no dataset): tests and benches use it.
pub fn load_net(entry: &ModelEntry, files: &ModelFiles, device: &Device) -> Result<LoadedNet> {
    let weights = super::common::safetensors_weights(entry, files)?;
    let tensors: HashMap<String, Tensor> =
        candle_core::safetensors::load(&weights, &Device::Cpu)
            .with_context(|| format!("cannot read {}", weights.display()))?;
    let mut tensors =
        timm_to_torchvision(tensors).with_context(|| format!("{}", weights.display()))?;
    let (name, resolution) =
        variant_of(&tensors).with_context(|| format!("{}", weights.display()))?;
    if let Some(arch) = timm::architecture(files)? {
        let ok = [
            format!("efficientnet_{name}"),
            format!("tf_efficientnet_{name}"),
        ];
        if !ok.contains(&arch) {
            bail!(
                "model `{}`: config.json names architecture `{arch}` but the weights are an EfficientNet-{} (candle's model runs efficientnet_b0 … b7 / tf_efficientnet_b0 … b7)",
                entry.id,
                name.to_uppercase()
            );
        }
    }
    let classes = tensors
        .get("classifier.1.weight")
        .with_context(|| {
            format!(
                "{}: no classifier weight (not an EfficientNet classifier)",
                weights.display()
            )
        })?
        .dim(0)?;
    let ctx = || {
        format!(
            "model `{}` (EfficientNet-{name}, {})",
            entry.id,
            weights.display()
        )
    };
    let classifier = en::EfficientNet::new(
        VarBuilder::from_tensors(tensors.clone(), DType::F32, device),
        configs(name),
        classes,
    )
    .with_context(ctx)?;
    let width = tensors
        .get("classifier.1.weight")
        .map(|w| w.dim(1))
        .transpose()?
        .unwrap_or(1280);
    tensors.insert(
        "classifier.1.weight".into(),
        Tensor::eye(width, DType::F32, &Device::Cpu)?,
    );
    tensors.insert(
        "classifier.1.bias".into(),
        Tensor::zeros(width, DType::F32, &Device::Cpu)?,
    );
    let features = en::EfficientNet::new(
        VarBuilder::from_tensors(tensors, DType::F32, device),
        configs(name),
        width,
    )
    .with_context(ctx)?;
    Ok(LoadedNet {
        model: Box::new(timm::TwoHeads {
            classifier,
            features,
        }),
        classes,
        variant: name.to_string(),
        preprocess: timm::preprocess(
            files,
            timm::imagenet_pipeline(resolution, Resample::Bicubic),
        )?,
    })
}

/// timm's defaults for B0.
pub fn default_preprocess() -> Preprocess {
    timm::imagenet_pipeline(224, Resample::Bicubic)
}

/// Load the runner.
pub fn load(
    entry: &ModelEntry,
    files: &ModelFiles,
    dataset: &LoadedDataset,
    opts: &RunnerOptions,
) -> Result<Box<dyn Runner>> {
    timm::load_runner(entry, files, dataset, opts, load_net)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_have_the_papers_stem_and_depths() {
        assert_eq!(shape_of(1.0, 1.0), (32, [1, 2, 2, 3, 3, 4, 1], 1280));
        // B1 and B2 differ in width only.
        assert_eq!(shape_of(1.0, 1.1), (32, [2, 3, 3, 4, 4, 5, 2], 1280));
        assert_eq!(shape_of(1.1, 1.2), (32, [2, 3, 3, 4, 4, 5, 2], 1408));
        assert_eq!(shape_of(1.2, 1.4).0, 40);
        assert_eq!(shape_of(2.0, 3.1), (64, [4, 7, 7, 10, 10, 13, 4], 2560));
        // Every variant is told apart by its shapes.
        let all: HashSet<_> = VARIANTS.iter().map(|v| shape_of(v.1, v.2)).collect();
        assert_eq!(all.len(), VARIANTS.len());
    }

    #[test]
    fn timm_names_map_onto_torchvisions() {
        let z = || Tensor::zeros(1, DType::F32, &Device::Cpu).unwrap();
        let names = [
            "conv_stem.weight",
            "bn1.running_var",
            "bn1.num_batches_tracked",
            "blocks.0.0.conv_dw.weight",
            "blocks.0.0.se.conv_reduce.bias",
            "blocks.0.0.conv_pw.weight",
            "blocks.0.0.bn2.bias",
            "blocks.6.0.conv_pw.weight",
            "blocks.6.0.bn2.weight",
            "blocks.6.0.se.conv_expand.weight",
            "blocks.6.0.conv_pwl.weight",
            "blocks.6.0.bn3.running_mean",
            "conv_head.weight",
            "bn2.bias",
            "classifier.weight",
        ];
        let t: HashMap<String, Tensor> = names.iter().map(|n| (n.to_string(), z())).collect();
        let mut got: Vec<String> = timm_to_torchvision(t).unwrap().into_keys().collect();
        got.sort();
        let mut want = vec![
            "features.0.0.weight",
            "features.0.1.running_var",
            "features.1.0.block.0.0.weight",
            "features.1.0.block.1.fc1.bias",
            "features.1.0.block.2.0.weight",
            "features.1.0.block.2.1.bias",
            "features.7.0.block.0.0.weight",
            "features.7.0.block.1.1.weight",
            "features.7.0.block.2.fc2.weight",
            "features.7.0.block.3.0.weight",
            "features.7.0.block.3.1.running_mean",
            "features.8.0.weight",
            "features.8.1.bias",
            "classifier.1.weight",
        ];
        want.sort();
        assert_eq!(got, want);
        let bad: HashMap<String, Tensor> =
            [("conv_stem.weight", z()), ("blocks.0.0.foo.weight", z())]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
        let err = timm_to_torchvision(bad).unwrap_err().to_string();
        assert!(err.contains("blocks.0.0.foo.weight"), "{err}");
    }
}
