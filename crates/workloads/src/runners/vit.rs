//! ViT image classifiers (`ViTForImageClassification` checkpoints such as
//! google/vit-base-patch16-224) through candle-transformers' `models::vit`: safetensors +
//! `config.json` (+ `preprocessor_config.json`). The class names are the config's `id2label`
//! (ImageNet-1k names for 1,000 classes without one). A fitted head uses the final layer-normed
//! CLS vector, got by running the same network with an identity classifier (candle's model
//! does not expose it; the tensors are shared, not copied). Default preprocessing (ViT's
//! image processor): 224×224 bilinear warp, ×1/255, mean 0.5, std 0.5.

use std::collections::HashMap;

use anyhow::{Context, Result};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::vit;

use super::image_cls::{self, ImageModel};
use super::Family;
use crate::catalogue::ModelEntry;
use crate::datasets::LoadedDataset;
use crate::fetch::ModelFiles;
use crate::vision::{Preprocess, Resample, Resize};
use crate::{Runner, RunnerOptions, Task};

pub const ARCH: &str = "vit";
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

/// ViT's image processor defaults.
pub fn default_preprocess() -> Preprocess {
    Preprocess {
        resize: Resize::Exact {
            height: 224,
            width: 224,
        },
        resample: Resample::Bilinear,
        crop: None,
        rescale: Some(1.0 / 255.0),
        normalize: Some(([0.5; 3], [0.5; 3])),
    }
}

struct Vit {
    classifier: vit::Model,
    /// The same network with an identity classifier: its output is the pooled feature.
    features: vit::Model,
}

impl ImageModel for Vit {
    fn logits(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.classifier.forward(x)?)
    }
    fn features(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.features.forward(x)?)
    }
    fn dtype(&self) -> String {
        "f32".into()
    }
}

/// Load the runner.
pub fn load(
    entry: &ModelEntry,
    files: &ModelFiles,
    dataset: &LoadedDataset,
    opts: &RunnerOptions,
) -> Result<Box<dyn Runner>> {
    let config_path = files.file("config.json")?;
    let text = std::fs::read_to_string(config_path)
        .with_context(|| format!("cannot read {}", config_path.display()))?;
    let cfg: vit::Config = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a ViT config", config_path.display()))?;
    let weights = super::common::safetensors_weights(entry, files)?;
    let mut tensors: HashMap<String, Tensor> =
        candle_core::safetensors::load(&weights, &Device::Cpu)
            .with_context(|| format!("cannot read {}", weights.display()))?;
    let n_classes = tensors
        .get("classifier.weight")
        .with_context(|| {
            format!(
                "{}: no `classifier.weight` (not an image classifier)",
                weights.display()
            )
        })?
        .dim(0)?;
    let dev = &opts.device;
    let classifier = vit::Model::new(
        &cfg,
        n_classes,
        VarBuilder::from_tensors(tensors.clone(), DType::F32, dev),
    )
    .with_context(|| format!("model `{}` ({})", entry.id, weights.display()))?;
    let h = cfg.hidden_size;
    tensors.insert(
        "classifier.weight".into(),
        Tensor::eye(h, DType::F32, &Device::Cpu)?,
    );
    tensors.insert(
        "classifier.bias".into(),
        Tensor::zeros(h, DType::F32, &Device::Cpu)?,
    );
    let features = vit::Model::new(&cfg, h, VarBuilder::from_tensors(tensors, DType::F32, dev))?;
    let preprocess = image_cls::preprocess_for(files, default_preprocess())?;
    Ok(Box::new(image_cls::load_runner(
        entry,
        Box::new(Vit {
            classifier,
            features,
        }),
        || image_cls::class_names(files, n_classes),
        preprocess,
        dataset,
        opts,
    )?))
}
