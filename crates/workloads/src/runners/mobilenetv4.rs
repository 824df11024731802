//! MobileNetV4 image classifiers (timm checkpoints such as
//! `timm/mobilenetv4_conv_small.e2400_r224_in1k`: `model.safetensors` + `config.json`) through
//! candle-transformers' `models::mobilenetv4`, which uses timm's tensor names as they are.
//!
//! - **Variant** (candle builds the network from a fixed block list per variant, so it must be
//!   known before loading): the entry's `variant` setting (`conv-small`, `conv-medium`,
//!   `conv-large`, `hybrid-medium`, `hybrid-large`), else the `architecture` of timm's
//!   `config.json` (`mobilenetv4_conv_small` → `conv-small`), else read off the tensors: a
//!   24-channel stem is a large model, a stem block `blocks.0.0.conv` is conv-small, and
//!   attention weights (`.attn.`) make a hybrid. timm's other MobileNetV4s (`conv_aa_*`,
//!   `conv_blur_*`, `*_075`) are not candle's and are refused by name.
//! - **Features** for a fitted head: timm's pre-logits vector (global average pool, 1×1
//!   `conv_head` to 1,280 channels, `norm_head`, activation), got by running candle's network
//!   with an identity classifier; the logits are then the checkpoint's `classifier` applied to
//!   that vector, so one forward pass serves both.
//! - **Preprocessing** and **classes**: as the other timm families ([`super::timm`]):
//!   `preprocessor_config.json`, else the `pretrained_cfg` of `config.json`, else timm's
//!   defaults for these checkpoints (shorter side 256 bicubic, centre crop 224, ImageNet
//!   mean/std); timm's `label_names`, else `id2label`, else ImageNet-1k for 1,000 classes.

use std::collections::HashMap;

use anyhow::{bail, Context, Result};
use candle_core::{DType, Device, Module, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::mobilenetv4;

use super::image_cls::{self, ImageModel};
use super::timm;
use super::Family;
use crate::catalogue::ModelEntry;
use crate::datasets::LoadedDataset;
use crate::fetch::ModelFiles;
use crate::vision::{Preprocess, Resample};
use crate::{Runner, RunnerOptions, Task};

pub const ARCH: &str = "mobilenetv4";
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

/// The variants candle-transformers builds.
pub const VARIANTS: [&str; 5] = [
    "conv-small",
    "conv-medium",
    "conv-large",
    "hybrid-medium",
    "hybrid-large",
];

/// Width of the pre-logits vector (candle's and timm's `num_features` for every variant).
pub const FEATURES: usize = 1280;

/// candle's block list for a variant name.
pub fn config(variant: &str) -> Result<mobilenetv4::Config> {
    Ok(match variant {
        "conv-small" => mobilenetv4::Config::small(),
        "conv-medium" => mobilenetv4::Config::medium(),
        "conv-large" => mobilenetv4::Config::large(),
        "hybrid-medium" => mobilenetv4::Config::hybrid_medium(),
        "hybrid-large" => mobilenetv4::Config::hybrid_large(),
        other => bail!(
            "MobileNetV4 variant `{other}` is not one candle-transformers builds (variants: {})",
            VARIANTS.join(", ")
        ),
    })
}

/// The variant of timm's `architecture` name (`mobilenetv4_conv_small` → `conv-small`).
pub fn variant_of_architecture(arch: &str) -> Result<String> {
    let v = arch
        .strip_prefix("mobilenetv4_")
        .with_context(|| format!("architecture `{arch}` is not a timm MobileNetV4"))?
        .replace('_', "-");
    config(&v).with_context(|| format!("timm architecture `{arch}`"))?;
    Ok(v)
}

/// The variant read off the tensor names and shapes (see the module docs).
pub fn variant_of_tensors(t: &HashMap<String, Tensor>) -> Result<String> {
    let stem = t
        .get("conv_stem.weight")
        .context("no `conv_stem.weight`: not a timm MobileNetV4 checkpoint")?
        .dim(0)?;
    let hybrid = t.keys().any(|k| k.contains(".attn."));
    let v = match (stem, hybrid) {
        (24, false) => "conv-large",
        (24, true) => "hybrid-large",
        (32, true) => "hybrid-medium",
        (32, false) if t.contains_key("blocks.0.0.conv.weight") => "conv-small",
        (32, false) => "conv-medium",
        _ => bail!("`conv_stem.weight` has {stem} output channels; MobileNetV4 stems have 24 (large) or 32"),
    };
    Ok(v.to_string())
}

/// timm's preprocessing for MobileNetV4 checkpoints without a `pretrained_cfg`: shorter side
/// 256 bicubic, centre crop 224, ImageNet mean/std.
pub fn default_preprocess() -> Preprocess {
    timm::imagenet_pipeline(224, Resample::Bicubic)
}

/// candle's MobileNetV4 with an identity classifier (its output is the pre-logits vector) and
/// the checkpoint's classifier kept apart.
pub struct MobileNetV4 {
    network: candle_nn::Func<'static>,
    classifier: candle_nn::Linear,
}

impl MobileNetV4 {
    /// Build `variant` from timm-named tensors (loaded on the CPU) onto `device`.
    pub fn from_tensors(
        mut tensors: HashMap<String, Tensor>,
        variant: &str,
        device: &Device,
    ) -> Result<MobileNetV4> {
        let cfg = config(variant)?;
        let weight = tensors
            .get("classifier.weight")
            .context("no `classifier.weight` (not an image classifier)")?
            .to_dtype(DType::F32)?;
        let bias = tensors
            .get("classifier.bias")
            .context("no `classifier.bias`")?
            .to_dtype(DType::F32)?;
        if weight.dim(1)? != FEATURES {
            bail!(
                "`classifier.weight` has shape {:?}; MobileNetV4's head gives {FEATURES} features",
                weight.dims()
            );
        }
        let classifier =
            candle_nn::Linear::new(weight.to_device(device)?, Some(bias.to_device(device)?));
        tensors.insert(
            "classifier.weight".into(),
            Tensor::eye(FEATURES, DType::F32, &Device::Cpu)?,
        );
        tensors.insert(
            "classifier.bias".into(),
            Tensor::zeros(FEATURES, DType::F32, &Device::Cpu)?,
        );
        let vb = VarBuilder::from_tensors(tensors, DType::F32, device);
        let network = mobilenetv4::mobilenetv4(&cfg, FEATURES, vb)
            .with_context(|| format!("building MobileNetV4 {variant}"))?;
        Ok(MobileNetV4 {
            network,
            classifier,
        })
    }

    /// The number of classes of the checkpoint's classifier.
    pub fn classes(&self) -> Result<usize> {
        Ok(self.classifier.weight().dim(0)?)
    }
}

impl ImageModel for MobileNetV4 {
    fn logits(&self, x: &Tensor) -> Result<Tensor> {
        let f = self.features(x)?;
        Ok(self.classifier.forward(&f)?)
    }
    fn features(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.network.forward(x)?)
    }
    fn dtype(&self) -> String {
        "f32".into()
    }
}

/// The `config.json` of a checkpoint, if it has one.
/// Load the runner.
pub fn load(
    entry: &ModelEntry,
    files: &ModelFiles,
    dataset: &LoadedDataset,
    opts: &RunnerOptions,
) -> Result<Box<dyn Runner>> {
    Ok(Box::new(load_classifier(entry, files, dataset, opts)?))
}

/// [`load`], returning the concrete runner (tests read its rankings).
pub fn load_classifier(
    entry: &ModelEntry,
    files: &ModelFiles,
    dataset: &LoadedDataset,
    opts: &RunnerOptions,
) -> Result<image_cls::ImageClassifier> {
    let weights = super::common::safetensors_weights(entry, files)?;
    let tensors: HashMap<String, Tensor> =
        candle_core::safetensors::load(&weights, &Device::Cpu)
            .with_context(|| format!("cannot read {}", weights.display()))?;
    let variant = match (entry.setting_str("variant")?, timm::architecture(files)?) {
        (Some(v), _) => v.to_string(),
        (None, Some(arch)) => variant_of_architecture(&arch)
            .with_context(|| format!("model `{}` (config.json)", entry.id))?,
        (None, None) => variant_of_tensors(&tensors)
            .with_context(|| format!("model `{}` ({})", entry.id, weights.display()))?,
    };
    let model = MobileNetV4::from_tensors(tensors, &variant, &opts.device)
        .with_context(|| format!("model `{}` ({})", entry.id, weights.display()))?;
    let preprocess = timm::preprocess(files, default_preprocess())
        .with_context(|| format!("model `{}`", entry.id))?;
    let n_classes = model.classes()?;
    image_cls::load_runner(
        entry,
        Box::new(model),
        || timm::class_names(files, n_classes),
        preprocess,
        dataset,
        opts,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vision::Resize;

    #[test]
    fn timm_names_map_to_candle_variants() {
        assert_eq!(
            variant_of_architecture("mobilenetv4_conv_small").unwrap(),
            "conv-small"
        );
        assert_eq!(
            variant_of_architecture("mobilenetv4_hybrid_large").unwrap(),
            "hybrid-large"
        );
        let err = format!(
            "{:#}",
            variant_of_architecture("mobilenetv4_conv_aa_large").unwrap_err()
        );
        assert!(err.contains("`conv-aa-large` is not one candle"), "{err}");
        assert!(variant_of_architecture("resnet50").is_err());
    }

    #[test]
    fn timm_pretrained_cfg_sets_the_eval_transform() {
        let cfg = serde_json::json!({
            "input_size": [3, 224, 224], "test_input_size": [3, 256, 256],
            "interpolation": "bicubic", "crop_pct": 0.875, "test_crop_pct": 0.95,
            "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]});
        let p = timm::from_pretrained_cfg(&cfg, &Preprocess::imagenet(10, 10)).unwrap();
        assert_eq!(p, default_preprocess());
        let cfg = serde_json::json!({"input_size": [3, 256, 256], "crop_pct": 1.0,
            "interpolation": "bilinear", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]});
        let p = timm::from_pretrained_cfg(&cfg, &default_preprocess()).unwrap();
        assert_eq!(p.resize, Resize::ShortestEdge(256));
        assert_eq!(p.crop, Some((256, 256)));
        assert_eq!(p.resample, Resample::Bilinear);
        assert_eq!(p.normalize, Some(([0.5; 3], [0.5; 3])));
        // No pretrained_cfg keys: the defaults stay.
        let p = timm::from_pretrained_cfg(&serde_json::json!({}), &default_preprocess()).unwrap();
        assert_eq!(p, default_preprocess());
        let bad = serde_json::json!({"crop_pct": 0});
        assert!(timm::from_pretrained_cfg(&bad, &default_preprocess()).is_err());
    }
}
