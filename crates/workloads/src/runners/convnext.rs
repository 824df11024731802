//! ConvNeXt (and ConvNeXt-V2) image classifiers through candle-transformers'
//! `models::convnext`, on timm's parameter names (`stem.0`/`stem.1`,
//! `stages.S.downsample.{0,1}`, `stages.S.blocks.B.{conv_dw,norm,mlp.fc1,mlp.fc2,gamma}`,
//! `head.norm`, `head.fc`; V2 adds `mlp.grn`); safetensors (+ timm's `config.json`).
//!
//! candle's configurations are presets with private fields, so the preset is chosen from the
//! tensors: the stem width (`stem.0.weight`), the blocks of each stage, and whether the MLP is
//! made of 1×1 convolutions (`mlp.fc1.weight` of rank 4: atto … nano) or linear layers (tiny and
//! up) must match one of atto, femto, pico, nano, tiny, small, base, large, xlarge, huge. When
//! `config.json` names an `architecture` it must name that preset (`convnext_atto`,
//! `convnextv2_atto`, ...; timm's `_ols` variants, with an overlapping stem, are refused).
//!
//! A fitted head uses timm's pre-logits features: the pooled, layer-normed vector
//! (`head.norm`), got by running the network with an identity `head.fc` (the tensors are shared,
//! not copied) since candle's `convnext_no_final_layer` stops before `head.norm`.
//!
//! Preprocessing: the checkpoint's timm `pretrained_cfg` (see [`super::timm`]), else timm's
//! ConvNeXt defaults: shorter side to 256, bicubic, centre crop 224, ImageNet mean/std.

use std::collections::HashMap;

use anyhow::{bail, Context, Result};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::convnext;

use super::timm::{self, LoadedNet};
use super::Family;
use crate::catalogue::ModelEntry;
use crate::datasets::LoadedDataset;
use crate::fetch::ModelFiles;
use crate::vision::{Preprocess, Resample};
use crate::{Runner, RunnerOptions, Task};

pub const ARCH: &str = "convnext";
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

/// timm's ConvNeXt defaults (`_cfg` of timm/models/convnext.py).
pub fn default_preprocess() -> Preprocess {
    timm::imagenet_pipeline(224, Resample::Bicubic)
}

/// candle's presets: `(name, blocks per stage, stem width, 1×1-convolution MLP)`.
pub const PRESETS: [(&str, [usize; 4], usize, bool); 10] = [
    ("atto", [2, 2, 6, 2], 40, true),
    ("femto", [2, 2, 6, 2], 48, true),
    ("pico", [2, 2, 6, 2], 64, true),
    ("nano", [2, 2, 8, 2], 80, true),
    ("tiny", [3, 3, 9, 3], 96, false),
    ("small", [3, 3, 27, 3], 96, false),
    ("base", [3, 3, 27, 3], 128, false),
    ("large", [3, 3, 27, 3], 192, false),
    ("xlarge", [3, 3, 27, 3], 256, false),
    ("huge", [3, 3, 27, 3], 352, false),
];

fn config(name: &str) -> convnext::Config {
    match name {
        "atto" => convnext::Config::atto(),
        "femto" => convnext::Config::femto(),
        "pico" => convnext::Config::pico(),
        "nano" => convnext::Config::nano(),
        "tiny" => convnext::Config::tiny(),
        "small" => convnext::Config::small(),
        "base" => convnext::Config::base(),
        "large" => convnext::Config::large(),
        "xlarge" => convnext::Config::xlarge(),
        _ => convnext::Config::huge(),
    }
}

/// The preset of a checkpoint from its tensors (see the module docs); `grn` is whether it is a
/// ConvNeXt-V2.
pub fn preset_of(tensors: &HashMap<String, Tensor>) -> Result<(&'static str, bool)> {
    let stem = tensors
        .get("stem.0.weight")
        .context("no `stem.0.weight`: not a timm ConvNeXt")?
        .dim(0)?;
    let mut blocks = [0usize; 4];
    for (s, b) in blocks.iter_mut().enumerate() {
        *b = (0..)
            .take_while(|j| tensors.contains_key(&format!("stages.{s}.blocks.{j}.conv_dw.weight")))
            .count();
    }
    let conv_mlp = tensors
        .get("stages.0.blocks.0.mlp.fc1.weight")
        .context("no `stages.0.blocks.0.mlp.fc1.weight`: not a timm ConvNeXt")?
        .rank()
        == 4;
    let grn = tensors.contains_key("stages.0.blocks.0.mlp.grn.weight");
    PRESETS
        .iter()
        .find(|p| p.1 == blocks && p.2 == stem && p.3 == conv_mlp)
        .map(|p| (p.0, grn))
        .with_context(|| {
            format!(
                "stem width {stem}, blocks per stage {blocks:?}, {} MLP match none of candle's ConvNeXt presets (atto … huge)",
                if conv_mlp { "1×1-convolution" } else { "linear" }
            )
        })
}

/// Load the network of `files` (no dataset): tests and benches use it.
pub fn load_net(entry: &ModelEntry, files: &ModelFiles, device: &Device) -> Result<LoadedNet> {
    let weights = super::common::safetensors_weights(entry, files)?;
    let mut tensors: HashMap<String, Tensor> =
        candle_core::safetensors::load(&weights, &Device::Cpu)
            .with_context(|| format!("cannot read {}", weights.display()))?;
    let (preset, grn) = preset_of(&tensors).with_context(|| format!("{}", weights.display()))?;
    let variant = format!("convnext{}_{preset}", if grn { "v2" } else { "" });
    if let Some(arch) = timm::architecture(files)? {
        if arch != variant {
            bail!(
                "model `{}`: config.json names architecture `{arch}` but the weights are a {variant} (candle's ConvNeXt has the plain atto … huge configurations only)",
                entry.id
            );
        }
    }
    let cfg = config(preset);
    let classes = tensors
        .get("head.fc.weight")
        .with_context(|| {
            format!(
                "{}: no `head.fc.weight` (not a ConvNeXt classifier)",
                weights.display()
            )
        })?
        .dim(0)?;
    let ctx = || format!("model `{}` ({variant}, {})", entry.id, weights.display());
    let classifier = convnext::convnext(
        &cfg,
        classes,
        VarBuilder::from_tensors(tensors.clone(), DType::F32, device),
    )
    .with_context(ctx)?;
    let width = tensors["head.norm.weight"].dim(0)?;
    tensors.insert(
        "head.fc.weight".into(),
        Tensor::eye(width, DType::F32, &Device::Cpu)?,
    );
    tensors.insert(
        "head.fc.bias".into(),
        Tensor::zeros(width, DType::F32, &Device::Cpu)?,
    );
    let features = convnext::convnext(
        &cfg,
        width,
        VarBuilder::from_tensors(tensors, DType::F32, device),
    )
    .with_context(ctx)?;
    Ok(LoadedNet {
        model: Box::new(timm::TwoHeads {
            classifier,
            features,
        }),
        classes,
        variant,
        preprocess: timm::preprocess(files, default_preprocess())?,
    })
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

    fn shapes(stem: usize, blocks: [usize; 4], conv_mlp: bool) -> HashMap<String, Tensor> {
        let z = |shape: &[usize]| Tensor::zeros(shape, DType::F32, &Device::Cpu).unwrap();
        let mut m = HashMap::from([("stem.0.weight".to_string(), z(&[stem, 3, 4, 4]))]);
        for (s, &b) in blocks.iter().enumerate() {
            for j in 0..b {
                m.insert(format!("stages.{s}.blocks.{j}.conv_dw.weight"), z(&[1]));
            }
        }
        let fc1 = if conv_mlp {
            z(&[4 * stem, stem, 1, 1])
        } else {
            z(&[4 * stem, stem])
        };
        m.insert("stages.0.blocks.0.mlp.fc1.weight".into(), fc1);
        m
    }

    #[test]
    fn preset_comes_from_stem_blocks_and_mlp_kind() {
        assert_eq!(
            preset_of(&shapes(40, [2, 2, 6, 2], true)).unwrap(),
            ("atto", false)
        );
        assert_eq!(
            preset_of(&shapes(80, [2, 2, 8, 2], true)).unwrap().0,
            "nano"
        );
        assert_eq!(
            preset_of(&shapes(96, [3, 3, 9, 3], false)).unwrap().0,
            "tiny"
        );
        assert_eq!(
            preset_of(&shapes(96, [3, 3, 27, 3], false)).unwrap().0,
            "small"
        );
        let mut v2 = shapes(40, [2, 2, 6, 2], true);
        v2.insert(
            "stages.0.blocks.0.mlp.grn.weight".into(),
            Tensor::zeros(1, DType::F32, &Device::Cpu).unwrap(),
        );
        assert_eq!(preset_of(&v2).unwrap(), ("atto", true));
        // A tiny with 1×1-convolution MLPs is not one of candle's presets.
        let err = preset_of(&shapes(96, [3, 3, 9, 3], true))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("stem width 96, blocks per stage [3, 3, 9, 3], 1×1-convolution MLP"),
            "{err}"
        );
    }
}
