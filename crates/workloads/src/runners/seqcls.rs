//! Fine-tuned sequence classifiers (text classification, kind 2): Candle's
//! DeBERTa-v2, ModernBERT and XLM-RoBERTa sequence-classification models.
//!
//! Labels come from `config.json`'s `id2label` (or the `labels` setting, a
//! list in id order, when a checkpoint only says `LABEL_0`, `LABEL_1`, ...);
//! every label in the dataset must be one of them. One query = one text →
//! the argmax label. Quality is accuracy with macro-F1 beside it.
//!
//! Settings: `max_seq_len` (default 512, capped by the position table),
//! `dtype` (`f32`; `f16`/`bf16` only for XLM-R, whose Candle code supports them),
//! `labels`.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result};
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::{debertav2, modernbert, xlm_roberta};
use serde_json::Value;
use tokenizers::Tokenizer;

use super::common::text::{self, encode_batch};
use super::common::{
    classification_quality, classification_rows, safetensors_weights, RowModel, RowsRunner,
};
use super::Family;
use crate::catalogue::ModelEntry;
use crate::datasets::{LabelRow, LoadedDataset};
use crate::fetch::ModelFiles;
use crate::{Prediction, Quality, QueryOutcome, Runner, RunnerOptions, Task};

/// Default truncation length of the classifiers.
pub const DEFAULT_MAX_SEQ_LEN: usize = 512;

/// The sequence-classification families Candle 0.11 provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqClsArch {
    /// `DebertaV2SeqClassificationModel`.
    DebertaV2,
    /// `ModernBertForSequenceClassification`.
    ModernBert,
    /// `XLMRobertaForSequenceClassification`.
    XlmRoberta,
}

impl SeqClsArch {
    /// Parse a catalogue `arch` string.
    pub fn parse(arch: &str) -> Option<Self> {
        match arch.to_ascii_lowercase().as_str() {
            "debertav2" | "deberta-v2" | "deberta_v2" => Some(SeqClsArch::DebertaV2),
            "modernbert" => Some(SeqClsArch::ModernBert),
            "xlm-roberta" | "xlm_roberta" | "xlmroberta" => Some(SeqClsArch::XlmRoberta),
            _ => None,
        }
    }
}

/// The canonical `arch` names this module runs (aliases are accepted too).
pub const ARCHES: [&str; 3] = ["deberta-v2", "modernbert", "xlm-roberta"];

/// Whether this module runs `arch` (DeBERTa-v2, ModernBERT, XLM-R).
pub fn handles(arch: &str) -> bool {
    SeqClsArch::parse(arch).is_some()
}

/// Fine-tuned sequence classifiers (dispatch-table row).
pub const FAMILY: Family = Family {
    task: Task::TextClassification,
    arches: &ARCHES,
    handles,
    load,
};

/// Load the fine-tuned classifier for `entry` bound to `dataset`'s test split.
pub fn load(
    entry: &ModelEntry,
    files: &ModelFiles,
    dataset: &LoadedDataset,
    opts: &RunnerOptions,
) -> Result<Box<dyn Runner>> {
    let arch = SeqClsArch::parse(&entry.arch).with_context(|| {
        format!(
            "model `{}`: arch `{}` is not a sequence classifier",
            entry.id, entry.arch
        )
    })?;
    let (train, test) = classification_rows(entry, dataset)?;
    anyhow::ensure!(
        !test.is_empty(),
        "dataset `{}` has no test rows",
        dataset.id
    );
    let weights = safetensors_weights(entry, files)?;
    let options = SeqClsOptions {
        max_seq_len: entry.setting_usize("max_seq_len")?,
        dtype: text::parse_dtype(entry.setting_str("dtype")?)?,
        labels: entry.setting_str_list("labels")?,
    };
    let classifier = SeqClassifier::load(
        arch,
        files.file("config.json")?,
        &weights,
        files.file("tokenizer.json")?,
        &options,
        &opts.device,
    )
    .with_context(|| format!("loading classifier `{}`", entry.id))?;
    classifier.check_dataset_labels(&dataset.id, train.iter().chain(test.iter()))?;
    Ok(Box::new(RowsRunner::new(classifier, test.to_vec())))
}

/// Load-time options of a [`SeqClassifier`].
#[derive(Debug, Clone)]
pub struct SeqClsOptions {
    /// Truncation length (special tokens included); default 512 capped by the model.
    pub max_seq_len: Option<usize>,
    /// Weight dtype.
    pub dtype: DType,
    /// Label names in id order, overriding `id2label`.
    pub labels: Option<Vec<String>>,
}

impl Default for SeqClsOptions {
    fn default() -> Self {
        SeqClsOptions {
            max_seq_len: None,
            dtype: DType::F32,
            labels: None,
        }
    }
}

/// The loaded network (boxed: the variants differ a lot in size).
enum Model {
    DebertaV2(Box<debertav2::DebertaV2SeqClassificationModel>),
    ModernBert(Box<modernbert::ModernBertForSequenceClassification>),
    XlmRoberta(Box<xlm_roberta::XLMRobertaForSequenceClassification>),
}

/// A loaded sequence classifier with its tokenizer and label names.
pub struct SeqClassifier {
    model: Model,
    tokenizer: Tokenizer,
    labels: Vec<String>,
    pad_id: u32,
    dtype: DType,
    device: Device,
}

/// Predicted labels and token counts for a batch.
#[derive(Debug, Clone)]
pub struct Classified {
    /// Index into [`SeqClassifier::labels`] per text.
    pub label_ids: Vec<usize>,
    /// Tokens fed to the model per text.
    pub tokens: Vec<usize>,
}

impl SeqClassifier {
    /// Load a classifier of `arch` from its config, weights and tokenizer files.
    pub fn load(
        arch: SeqClsArch,
        config_path: &Path,
        weights: &Path,
        tokenizer_path: &Path,
        options: &SeqClsOptions,
        device: &Device,
    ) -> Result<Self> {
        let config: Value = text::read_json(config_path)?;
        anyhow::ensure!(
            config.is_object(),
            "{} is not a JSON object",
            config_path.display()
        );
        let labels = match &options.labels {
            Some(l) => {
                anyhow::ensure!(!l.is_empty(), "setting `labels` is empty");
                l.clone()
            }
            None => id2label(&config)
                .with_context(|| format!("reading id2label from {}", config_path.display()))?,
        };
        if options.dtype != DType::F32 && arch != SeqClsArch::XlmRoberta {
            anyhow::bail!(
                "dtype {} is not supported by Candle's {arch:?} classifier; use f32",
                options.dtype.as_str()
            );
        }
        let num = |key: &str| config.get(key).and_then(Value::as_u64).map(|v| v as usize);
        let max_pos = num("max_position_embeddings")
            .with_context(|| format!("{}: no max_position_embeddings", config_path.display()))?;
        let pad_id = num("pad_token_id").unwrap_or(0);
        // XLM-R numbers positions from pad_token_id + 1.
        let limit = match arch {
            SeqClsArch::XlmRoberta => max_pos.saturating_sub(pad_id + 1),
            _ => max_pos,
        };
        let max_seq_len = match options.max_seq_len {
            Some(n) => {
                anyhow::ensure!(
                    (2..=limit).contains(&n),
                    "setting `max_seq_len` = {n} is outside 2..={limit} for {}",
                    config_path.display()
                );
                n
            }
            None => DEFAULT_MAX_SEQ_LEN.min(limit),
        };

        crate::integrity::check_safetensors(weights)?;
        // SAFETY: read-only memory map of a file we do not modify while loaded.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[weights], options.dtype, device) }
            .with_context(|| format!("mapping weights {}", weights.display()))?;
        let parse_err = || format!("parsing {} as a {arch:?} config", config_path.display());
        let load_err = || format!("loading {arch:?} weights from {}", weights.display());
        let model = match arch {
            SeqClsArch::XlmRoberta => {
                let cfg: xlm_roberta::Config =
                    serde_json::from_value(config.clone()).with_context(parse_err)?;
                Model::XlmRoberta(Box::new(
                    xlm_roberta::XLMRobertaForSequenceClassification::new(labels.len(), &cfg, vb)
                        .with_context(load_err)?,
                ))
            }
            SeqClsArch::ModernBert => {
                let cfg: modernbert::Config =
                    serde_json::from_value(modernbert_config(&config, &labels))
                        .with_context(parse_err)?;
                Model::ModernBert(Box::new(
                    modernbert::ModernBertForSequenceClassification::load(vb, &cfg)
                        .with_context(load_err)?,
                ))
            }
            SeqClsArch::DebertaV2 => {
                let mut fixed = config.clone();
                fixed["id2label"] = id2label_json(&labels);
                if let Some(obj) = fixed.as_object_mut() {
                    obj.remove("label2id");
                }
                let cfg: debertav2::Config =
                    serde_json::from_value(fixed).with_context(parse_err)?;
                Model::DebertaV2(Box::new(
                    debertav2::DebertaV2SeqClassificationModel::load(vb.pp("deberta"), &cfg, None)
                        .with_context(load_err)?,
                ))
            }
        };
        let tokenizer = text::load_tokenizer(tokenizer_path, max_seq_len)?;
        Ok(SeqClassifier {
            model,
            tokenizer,
            labels,
            pad_id: pad_id as u32,
            dtype: options.dtype,
            device: device.clone(),
        })
    }

    /// Label names in id order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Error unless every row's label is one of the model's labels.
    pub fn check_dataset_labels<'a>(
        &self,
        dataset_id: &str,
        rows: impl Iterator<Item = &'a LabelRow>,
    ) -> Result<()> {
        let dataset: BTreeSet<&str> = rows.map(|r| r.label.as_str()).collect();
        let unknown: Vec<&str> = dataset
            .iter()
            .copied()
            .filter(|l| !self.labels.iter().any(|m| m == l))
            .collect();
        anyhow::ensure!(
            unknown.is_empty(),
            "dataset `{dataset_id}` labels {unknown:?} are not among the model's labels \
             {:?} (dataset labels: {dataset:?}); set `labels` in the catalogue entry to \
             name the model's classes in id order",
            self.labels
        );
        Ok(())
    }

    /// Class scores of `texts` in one padded batch (logits; probabilities for
    /// ModernBERT, whose Candle head applies a softmax), one row per text, and
    /// the tokens fed per text.
    pub fn scores(&self, texts: &[&str]) -> Result<(Vec<Vec<f32>>, Vec<usize>)> {
        let batch = encode_batch(&self.tokenizer, texts, self.pad_id, &self.device)?;
        let scores = self
            .device
            .with_context(|| -> candle_core::Result<Vec<Vec<f32>>> {
                self.forward(&batch.ids, &batch.type_ids, &batch.mask)?
                    .to_dtype(DType::F32)?
                    .to_vec2::<f32>()
            })
            .context("classifier forward pass")?;
        Ok((scores, batch.tokens))
    }

    /// Classify `texts` in one padded batch: the argmax of [`Self::scores`]
    /// (the first on ties); a NaN score is an error.
    pub fn classify(&self, texts: &[&str]) -> Result<Classified> {
        let (scores, tokens) = self.scores(texts)?;
        let label_ids = scores
            .iter()
            .map(|row| {
                anyhow::ensure!(
                    row.iter().all(|x| !x.is_nan()),
                    "classifier returned NaN scores"
                );
                Ok(row
                    .iter()
                    .enumerate()
                    .fold(0, |best, (i, x)| if *x > row[best] { i } else { best }))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Classified { label_ids, tokens })
    }

    fn forward(
        &self,
        ids: &Tensor,
        type_ids: &Tensor,
        mask: &Tensor,
    ) -> candle_core::Result<Tensor> {
        match &self.model {
            Model::XlmRoberta(m) => m.forward(ids, mask, type_ids),
            Model::ModernBert(m) => m.forward(ids, mask),
            Model::DebertaV2(m) => m.forward(ids, Some(type_ids.clone()), Some(mask.clone())),
        }
    }

    /// The dtype the weights run in, as a string.
    pub fn dtype_name(&self) -> String {
        self.dtype.as_str().to_string()
    }
}

/// Label names in id order from `config.json`'s `id2label` (keys `"0"`..`"n-1"`).
fn id2label(config: &Value) -> Result<Vec<String>> {
    let map = config
        .get("id2label")
        .and_then(Value::as_object)
        .context("no `id2label` object")?;
    anyhow::ensure!(!map.is_empty(), "`id2label` is empty");
    let mut labels = vec![None; map.len()];
    for (k, v) in map {
        let id: usize =
            k.parse().ok().filter(|&i| i < map.len()).with_context(|| {
                format!("`id2label` key {k:?} is not an id in 0..{}", map.len())
            })?;
        let name = v
            .as_str()
            .with_context(|| format!("`id2label[{k}]` is not a string"))?;
        labels[id] = Some(name.to_string());
    }
    labels
        .into_iter()
        .enumerate()
        .map(|(i, l)| l.with_context(|| format!("`id2label` has no id {i}")))
        .collect()
}

/// `{"0": labels[0], "1": labels[1], ...}`, as `config.json` writes `id2label`.
fn id2label_json(labels: &[String]) -> Value {
    labels
        .iter()
        .enumerate()
        .map(|(i, l)| (i.to_string(), Value::from(l.as_str())))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// Candle's ModernBERT config wants `label2id` values as strings and a
/// `classifier_pooling`; Hugging Face configs store ids as integers and may omit
/// the pooling (its default is `cls`). Rewrite both from `labels`.
fn modernbert_config(config: &Value, labels: &[String]) -> Value {
    let mut fixed = config.clone();
    fixed["id2label"] = id2label_json(labels);
    fixed["label2id"] = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.clone(), Value::from(i.to_string())))
        .collect::<serde_json::Map<_, _>>()
        .into();
    if fixed
        .get("classifier_pooling")
        .and_then(Value::as_str)
        .is_none()
    {
        fixed["classifier_pooling"] = Value::from("cls");
    }
    fixed
}

impl RowModel for SeqClassifier {
    type Row = LabelRow;

    fn predict(&self, rows: &[&LabelRow]) -> Result<Vec<(Prediction, usize)>> {
        let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
        let out = self.classify(&texts)?;
        let labels = self.labels();
        out.label_ids
            .iter()
            .zip(&out.tokens)
            .map(|(&id, &tokens)| {
                let label = labels
                    .get(id)
                    .with_context(|| format!("model returned class {id} of {}", labels.len()))?;
                Ok((Prediction::Label(label.clone()), tokens))
            })
            .collect()
    }

    fn quality(&self, rows: &[LabelRow], outcomes: &[QueryOutcome]) -> Result<Quality> {
        classification_quality(rows, outcomes)
    }

    fn dtype(&self) -> String {
        self.dtype_name()
    }
}

/// Fine-tuned classifier runner: one query = one text.
pub type SeqClsRunner = RowsRunner<SeqClassifier>;
