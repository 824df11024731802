//! What the runners of timm checkpoints ([`super::resnet`], [`super::convnext`],
//! [`super::efficientnet`], [`super::mobilenetv4`]) share: the checkpoint's timm `config.json` (`architecture`,
//! `label_names`, `pretrained_cfg`), timm's evaluation pipeline, and the loaded network.
//!
//! timm's evaluation transform (`timm.data.create_transform(..., is_training=False)` with
//! `crop_mode = "center"`): resize the shorter side to `floor(size / crop_pct)` with the
//! `interpolation` filter, centre-crop `size`×`size`, ×1/255, normalise with `mean`/`std`.
//! A `preprocessor_config.json` beside the weights (a transformers-style checkpoint) wins over
//! `pretrained_cfg`; with neither the family's documented defaults apply.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use candle_core::{Device, Module, Tensor};

use super::image_cls::{self, ImageModel};
use crate::catalogue::ModelEntry;
use crate::datasets::LoadedDataset;
use crate::fetch::ModelFiles;
use crate::vision::preprocess::{IMAGENET_MEAN, IMAGENET_STD};
use crate::vision::{Preprocess, Resample, Resize};
use crate::{Runner, RunnerOptions};

/// A network loaded from a checkpoint, with what the runner needs beside it.
pub struct LoadedNet {
    pub model: Box<dyn ImageModel>,
    /// Classes of the checkpoint's classifier.
    pub classes: usize,
    /// The variant the weights' shapes name (`resnet50`, `convnext_atto`, `b0`, ...).
    pub variant: String,
    pub preprocess: Preprocess,
}

/// A classifier and the same network with an identity classifier, whose output is the pooled
/// feature a fitted head reads (the weights are shared, not copied).
pub struct TwoHeads<M> {
    pub classifier: M,
    pub features: M,
}

impl<M: Module> ImageModel for TwoHeads<M> {
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

/// The runner of a timm family: the network `load_net` reads from `files`, bound to `dataset`
/// (class names from [`class_names`]).
pub fn load_runner(
    entry: &ModelEntry,
    files: &ModelFiles,
    dataset: &LoadedDataset,
    opts: &RunnerOptions,
    load_net: fn(&ModelEntry, &ModelFiles, &Device) -> Result<LoadedNet>,
) -> Result<Box<dyn Runner>> {
    let net = load_net(entry, files, &opts.device)?;
    let n = net.classes;
    Ok(Box::new(image_cls::load_runner(
        entry,
        net.model,
        || class_names(files, n),
        net.preprocess,
        dataset,
        opts,
    )?))
}

/// timm's evaluation pipeline at `size` (square input) and `crop_pct`.
pub fn eval_pipeline(
    size: u32,
    crop_pct: f64,
    resample: Resample,
    mean: [f32; 3],
    std: [f32; 3],
) -> Preprocess {
    Preprocess {
        resize: Resize::ShortestEdge((size as f64 / crop_pct).floor() as u32),
        resample,
        crop: Some((size, size)),
        rescale: Some(1.0 / 255.0),
        normalize: Some((mean, std)),
    }
}

/// timm's defaults for ImageNet models at `size`: crop_pct 0.875, ImageNet mean/std.
pub fn imagenet_pipeline(size: u32, resample: Resample) -> Preprocess {
    eval_pipeline(size, 0.875, resample, IMAGENET_MEAN, IMAGENET_STD)
}

/// The checkpoint's `config.json` (not `preprocessor_config.json`), parsed, when it has one.
pub fn config_json(files: &ModelFiles) -> Result<Option<(Value, &Path)>> {
    let Some(f) = files
        .files
        .iter()
        .find(|f| f.name.ends_with("config.json") && !f.name.ends_with("preprocessor_config.json"))
    else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&f.path)
        .with_context(|| format!("cannot read {}", f.path.display()))?;
    let json: Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: invalid JSON", f.path.display()))?;
    Ok(Some((json, f.path.as_path())))
}

/// The `architecture` of a timm `config.json`, when present (transformers' `model_type` names
/// a family, not a variant, and is not read).
pub fn architecture(files: &ModelFiles) -> Result<Option<String>> {
    Ok(config_json(files)?.and_then(|(json, _)| {
        json.get("architecture")
            .and_then(Value::as_str)
            .map(str::to_string)
    }))
}

/// The pipeline a timm `pretrained_cfg` describes, keys it lacks keeping `defaults`.
pub fn from_pretrained_cfg(cfg: &Value, defaults: &Preprocess) -> Result<Preprocess> {
    let mut p = defaults.clone();
    let (mut mean, mut std) = defaults.normalize.unwrap_or((IMAGENET_MEAN, IMAGENET_STD));
    let triple = |key: &str| -> Result<Option<[f32; 3]>> {
        match cfg.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) if a.len() == 3 && a.iter().all(Value::is_number) => {
                Ok(Some([0, 1, 2].map(|i| a[i].as_f64().unwrap_or(0.0) as f32)))
            }
            Some(other) => bail!("\"{key}\": expected 3 numbers, got {other}"),
        }
    };
    if let Some(m) = triple("mean")? {
        mean = m;
    }
    if let Some(s) = triple("std")? {
        if s.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
            bail!("\"std\": every value must be positive, got {s:?}");
        }
        std = s;
    }
    p.normalize = Some((mean, std));
    if let Some(i) = cfg.get("interpolation").filter(|v| !v.is_null()) {
        p.resample = match i.as_str() {
            Some("bicubic") => Resample::Bicubic,
            Some("bilinear") => Resample::Bilinear,
            Some("nearest") => Resample::Nearest,
            Some("lanczos") => Resample::Lanczos,
            _ => {
                bail!("\"interpolation\": expected bicubic, bilinear, nearest or lanczos, got {i}")
            }
        };
    }
    let size = match cfg.get("input_size") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) if a.len() == 3 && a.iter().all(|v| v.as_u64().is_some()) => {
            let (h, w) = (a[1].as_u64().unwrap_or(0), a[2].as_u64().unwrap_or(0));
            if h != w || h == 0 {
                bail!("\"input_size\": only square inputs are supported, got {h}×{w}");
            }
            Some(h as u32)
        }
        Some(other) => bail!("\"input_size\": expected [3, height, width], got {other}"),
    };
    let crop_pct = match cfg.get("crop_pct") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_f64() {
            Some(c) if c > 0.0 && c <= 1.0 => Some(c),
            _ => bail!("\"crop_pct\": expected a number in (0, 1], got {v}"),
        },
    };
    match cfg.get("crop_mode").and_then(Value::as_str) {
        None | Some("center") => {}
        Some(other) => bail!("\"crop_mode\": only \"center\" is supported, got {other:?}"),
    }
    if size.is_some() || crop_pct.is_some() {
        let default_size = p.crop.map(|(h, _)| h).unwrap_or(224);
        let size = size.unwrap_or(default_size);
        let crop_pct = crop_pct.unwrap_or(0.875);
        let q = eval_pipeline(size, crop_pct, p.resample, mean, std);
        p.resize = q.resize;
        p.crop = q.crop;
    }
    Ok(p)
}

/// The checkpoint's pipeline: `preprocessor_config.json` when present, else the
/// `pretrained_cfg` of its timm `config.json`, else `defaults`.
pub fn preprocess(files: &ModelFiles, defaults: Preprocess) -> Result<Preprocess> {
    if files
        .files
        .iter()
        .any(|f| f.name.ends_with("preprocessor_config.json"))
    {
        return image_cls::preprocess_for(files, defaults);
    }
    match config_json(files)? {
        Some((json, path)) => match json.get("pretrained_cfg") {
            Some(cfg) if cfg.is_object() => from_pretrained_cfg(cfg, &defaults)
                .with_context(|| format!("{}: unusable pretrained_cfg", path.display())),
            _ => Ok(defaults),
        },
        None => Ok(defaults),
    }
}

/// The class names of a checkpoint with `n` classes: timm's `label_names` when it has `n` of
/// them, else [`image_cls::class_names`] (`id2label`, or ImageNet-1k's names for 1,000).
pub fn class_names(files: &ModelFiles, n: usize) -> Result<Vec<String>> {
    if let Some((json, _)) = config_json(files)? {
        if let Some(names) = json.get("label_names").and_then(Value::as_array) {
            let names: Vec<String> = names
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            if names.len() == n {
                return Ok(names);
            }
        }
    }
    image_cls::class_names(files, n)
        .with_context(|| format!("no timm `label_names` for the {n} classes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resnet50_a1_pretrained_cfg_gives_timm_eval_pipeline() {
        // The pretrained_cfg of timm/resnet50.a1_in1k (timm 1.0.31).
        let cfg = serde_json::json!({"input_size": [3, 224, 224], "interpolation": "bicubic",
            "crop_pct": 0.95, "crop_mode": "center", "mean": [0.485, 0.456, 0.406],
            "std": [0.229, 0.224, 0.225], "num_classes": 1000});
        let p = from_pretrained_cfg(&cfg, &imagenet_pipeline(224, Resample::Bilinear)).unwrap();
        // floor(224 / 0.95) = 235.
        assert_eq!(p.resize, Resize::ShortestEdge(235));
        assert_eq!(p.crop, Some((224, 224)));
        assert_eq!(p.resample, Resample::Bicubic);
        assert_eq!(p.output_size(300, 400), (224, 224));
        let d = imagenet_pipeline(224, Resample::Bicubic);
        assert_eq!(d.resize, Resize::ShortestEdge(256));
        let small = from_pretrained_cfg(
            &serde_json::json!({"input_size": [3, 64, 64], "mean": [0.5, 0.5, 0.5]}),
            &d,
        )
        .unwrap();
        assert_eq!(small.resize, Resize::ShortestEdge(73));
        assert_eq!(small.crop, Some((64, 64)));
        assert_eq!(small.normalize, Some(([0.5; 3], IMAGENET_STD)));
        for bad in [
            serde_json::json!({"crop_mode": "squash"}),
            serde_json::json!({"interpolation": "box"}),
            serde_json::json!({"input_size": [3, 224, 160]}),
            serde_json::json!({"crop_pct": 0}),
            serde_json::json!({"std": [0.2, 0.0, 0.2]}),
        ] {
            assert!(from_pretrained_cfg(&bad, &d).is_err(), "{bad}");
        }
    }
}
