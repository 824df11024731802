//! ResNet image classifiers (ResNet-18/34/50/101/152) through candle-transformers'
//! `models::resnet`, on timm (= torchvision) parameter names: `conv1`, `bn1`,
//! `layerN.M.{conv1,bn1,conv2,bn2[,conv3,bn3],downsample.0,downsample.1}`, `fc`; safetensors
//! (+ timm's `config.json`).
//!
//! The depth comes from the tensors: bottleneck blocks (`layer1.0.conv3.weight`) or basic ones,
//! and the number of blocks in each of the four layers — (2,2,2,2) basic is ResNet-18,
//! (3,4,6,3) basic 34, (3,4,6,3) bottleneck 50, (3,4,23,3) 101, (3,8,36,3) 152. When
//! `config.json` names an `architecture`, it must agree. Other stems (timm's deep-stem `-c`/`-d`
//! variants, ResNeXt's grouped convolutions) are refused: candle's model has none of them.
//!
//! A fitted head uses the global-average-pooled features (2048 wide for 50+, 512 otherwise):
//! candle's `resnetNN_no_final_layer` on the same tensors (shared, not copied) — timm's
//! `forward_head(pre_logits=True)`.
//!
//! Preprocessing: the checkpoint's timm `pretrained_cfg` (see [`super::timm`]), else timm's
//! ResNet defaults: shorter side to 256, bilinear, centre crop 224, ImageNet mean/std.

use std::collections::HashMap;

use anyhow::{bail, Context, Result};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::resnet;

use super::timm::{self, LoadedNet};
use super::Family;
use crate::catalogue::ModelEntry;
use crate::datasets::LoadedDataset;
use crate::fetch::ModelFiles;
use crate::vision::{Preprocess, Resample};
use crate::{Runner, RunnerOptions, Task};

pub const ARCH: &str = "resnet";
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

/// timm's ResNet defaults (`_cfg` of timm/models/resnet.py).
pub fn default_preprocess() -> Preprocess {
    timm::imagenet_pipeline(224, Resample::Bilinear)
}

/// The depth of a ResNet checkpoint from its tensor names (see the module docs).
pub fn depth_of<T>(tensors: &HashMap<String, T>) -> Result<usize> {
    let bottleneck = tensors.contains_key("layer1.0.conv3.weight");
    let mut counts = [0usize; 4];
    for (i, c) in counts.iter_mut().enumerate() {
        *c = (0..)
            .take_while(|j| tensors.contains_key(&format!("layer{}.{j}.conv1.weight", i + 1)))
            .count();
    }
    if !tensors.contains_key("conv1.weight") {
        bail!("no `conv1.weight`: not a plain ResNet (deep-stem variants such as timm's resnet50d are not in candle's model)");
    }
    Ok(match (bottleneck, counts) {
        (false, [2, 2, 2, 2]) => 18,
        (false, [3, 4, 6, 3]) => 34,
        (true, [3, 4, 6, 3]) => 50,
        (true, [3, 4, 23, 3]) => 101,
        (true, [3, 8, 36, 3]) => 152,
        _ => bail!(
            "{} blocks per layer {counts:?} match no ResNet-18/34/50/101/152",
            if bottleneck { "bottleneck" } else { "basic" }
        ),
    })
}

/// Load the network of `files` (no dataset): tests and benches use it.
pub fn load_net(entry: &ModelEntry, files: &ModelFiles, device: &Device) -> Result<LoadedNet> {
    let weights = super::common::safetensors_weights(entry, files)?;
    let tensors: HashMap<String, Tensor> =
        candle_core::safetensors::load(&weights, &Device::Cpu)
            .with_context(|| format!("cannot read {}", weights.display()))?;
    let depth = depth_of(&tensors).with_context(|| format!("{}", weights.display()))?;
    let variant = format!("resnet{depth}");
    if let Some(arch) = timm::architecture(files)? {
        if arch != variant {
            bail!(
                "model `{}`: config.json names architecture `{arch}` but the weights are a {variant} (candle's ResNet runs resnet18/34/50/101/152 only)",
                entry.id
            );
        }
    }
    let classes = tensors
        .get("fc.weight")
        .with_context(|| {
            format!(
                "{}: no `fc.weight` (not a ResNet classifier)",
                weights.display()
            )
        })?
        .dim(0)?;
    let vb = VarBuilder::from_tensors(tensors, DType::F32, device);
    let (classifier, features) = match depth {
        18 => (
            resnet::resnet18(classes, vb.clone()),
            resnet::resnet18_no_final_layer(vb),
        ),
        34 => (
            resnet::resnet34(classes, vb.clone()),
            resnet::resnet34_no_final_layer(vb),
        ),
        50 => (
            resnet::resnet50(classes, vb.clone()),
            resnet::resnet50_no_final_layer(vb),
        ),
        101 => (
            resnet::resnet101(classes, vb.clone()),
            resnet::resnet101_no_final_layer(vb),
        ),
        _ => (
            resnet::resnet152(classes, vb.clone()),
            resnet::resnet152_no_final_layer(vb),
        ),
    };
    let ctx = || format!("model `{}` ({variant}, {})", entry.id, weights.display());
    let model = timm::TwoHeads {
        classifier: classifier.with_context(ctx)?,
        features: features.with_context(ctx)?,
    };
    Ok(LoadedNet {
        model: Box::new(model),
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

    fn names(bottleneck: bool, counts: [usize; 4]) -> HashMap<String, ()> {
        let mut m = HashMap::from([("conv1.weight".to_string(), ())]);
        for (i, &c) in counts.iter().enumerate() {
            for j in 0..c {
                m.insert(format!("layer{}.{j}.conv1.weight", i + 1), ());
                if bottleneck {
                    m.insert(format!("layer{}.{j}.conv3.weight", i + 1), ());
                }
            }
        }
        m
    }

    #[test]
    fn depth_comes_from_block_kind_and_counts() {
        assert_eq!(depth_of(&names(false, [2, 2, 2, 2])).unwrap(), 18);
        assert_eq!(depth_of(&names(false, [3, 4, 6, 3])).unwrap(), 34);
        assert_eq!(depth_of(&names(true, [3, 4, 6, 3])).unwrap(), 50);
        assert_eq!(depth_of(&names(true, [3, 4, 23, 3])).unwrap(), 101);
        assert_eq!(depth_of(&names(true, [3, 8, 36, 3])).unwrap(), 152);
        let err = depth_of(&names(true, [2, 2, 2, 2]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("bottleneck blocks per layer [2, 2, 2, 2]"),
            "{err}"
        );
        let mut deep_stem = names(true, [3, 4, 6, 3]);
        deep_stem.remove("conv1.weight");
        deep_stem.insert("conv1.0.weight".into(), ());
        assert!(depth_of(&deep_stem)
            .unwrap_err()
            .to_string()
            .contains("deep-stem"));
    }
}
