//! Extractive question answering (`arch = "bert"` or `"distilbert"`): Candle's BERT or
//! DistilBERT encoder with the span head of `transformers`' `*ForQuestionAnswering`
//! (`qa_outputs`, a linear layer to two logits per token: answer start, answer end), written
//! here. Files: `model.safetensors` (with `qa_outputs.weight`/`.bias`), `config.json`,
//! `tokenizer.json`.
//!
//! **Per query**: one (question, context) pair, tokenized as a pair (`[CLS] question [SEP]
//! context [SEP]`) and truncated to `max_seq_len` tokens by cutting the context only (default
//! 384, capped by the position table; no sliding window over longer contexts). The answer is
//! the best span `start ≤ end` whose tokens all lie in the context segment and that is at most
//! `max_answer_tokens` long (default 30), maximising start logit + end logit (the first best on
//! ties; the same ranking as `transformers`' pipeline, whose score is the product of the two
//! softmaxes). Its text is cut from the context through the tokenizer's offsets. A batch is
//! padded to its longest pair and run in one forward pass.
//!
//! **Quality**: SQuAD v1.1 token F1 (`f1`, value) with `exact_match` beside it, each the
//! maximum over the row's gold answers and averaged over rows ([`crate::metrics::squad`]).
//!
//! Settings: `max_seq_len`, `max_answer_tokens`. f32 only.
//!
//! Note: Candle 0.11's DistilBERT computes `"gelu"` with the tanh approximation, where
//! `transformers` uses the exact erf form: on a real checkpoint its logits differ slightly from
//! the reference (the tiny parity fixture's activations are too small to show it); BERT's use
//! erf.

use std::path::Path;

use anyhow::{Context, Result};
use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Linear, VarBuilder};
use candle_transformers::models::{bert, distilbert};
use serde_json::Value;
use tokenizers::{Encoding, Tokenizer, TruncationParams, TruncationStrategy};

use super::common::text::{self, ellipsis};
use super::common::{row_at, safetensors_weights, RowModel, RowsRunner};
use super::Family;
use crate::catalogue::ModelEntry;
use crate::datasets::{DatasetRows, LoadedDataset, QaRow};
use crate::fetch::ModelFiles;
use crate::{Prediction, Quality, QueryOutcome, Runner, RunnerOptions, Task};

/// Default truncation of a (question, context) pair, tokens.
pub const DEFAULT_MAX_SEQ_LEN: usize = 384;
/// Default longest answer, tokens.
pub const DEFAULT_MAX_ANSWER_TOKENS: usize = 30;

/// The encoders with a span head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QaArch {
    Bert,
    DistilBert,
}

impl QaArch {
    /// Parse a catalogue `arch` string.
    pub fn parse(arch: &str) -> Option<Self> {
        match arch {
            "bert" => Some(QaArch::Bert),
            "distilbert" => Some(QaArch::DistilBert),
            _ => None,
        }
    }
}

/// The canonical `arch` names this module runs.
pub const ARCHES: [&str; 2] = ["bert", "distilbert"];

/// Whether this module runs `arch`.
pub fn handles(arch: &str) -> bool {
    QaArch::parse(arch).is_some()
}

/// Extractive question answering (dispatch-table row).
pub const FAMILY: Family = Family {
    task: Task::QuestionAnswering,
    arches: &ARCHES,
    handles,
    load,
};

/// Load the QA model for `entry` bound to `dataset`'s rows.
pub fn load(
    entry: &ModelEntry,
    files: &ModelFiles,
    dataset: &LoadedDataset,
    opts: &RunnerOptions,
) -> Result<Box<dyn Runner>> {
    let arch = QaArch::parse(&entry.arch).with_context(|| {
        format!(
            "model `{}`: arch `{}` has no question-answering runner",
            entry.id, entry.arch
        )
    })?;
    let DatasetRows::QuestionAnswering(rows) = &dataset.rows else {
        anyhow::bail!(
            "dataset `{}` is not a question-answering dataset (model `{}`)",
            dataset.id,
            entry.id
        );
    };
    let dtype = text::parse_dtype(entry.setting_str("dtype")?)?;
    anyhow::ensure!(
        dtype == DType::F32,
        "model `{}`: the question-answering runner runs f32 only",
        entry.id
    );
    let options = QaOptions {
        max_seq_len: entry.setting_usize("max_seq_len")?,
        max_answer_tokens: entry
            .setting_usize("max_answer_tokens")?
            .unwrap_or(DEFAULT_MAX_ANSWER_TOKENS),
    };
    let weights = safetensors_weights(entry, files)?;
    let model = QaModel::load(
        arch,
        files.file("config.json")?,
        &weights,
        files.file("tokenizer.json")?,
        &options,
        &opts.device,
    )
    .with_context(|| format!("loading question-answering model `{}`", entry.id))?;
    Ok(Box::new(RowsRunner::new(model, rows.clone())))
}

/// Load-time options of a [`QaModel`].
#[derive(Debug, Clone)]
pub struct QaOptions {
    /// Truncation of the pair (special tokens included); default 384 capped by the model.
    pub max_seq_len: Option<usize>,
    /// Longest answer span, tokens.
    pub max_answer_tokens: usize,
}

impl Default for QaOptions {
    fn default() -> Self {
        QaOptions {
            max_seq_len: None,
            max_answer_tokens: DEFAULT_MAX_ANSWER_TOKENS,
        }
    }
}

enum Encoder {
    Bert(Box<bert::BertModel>),
    DistilBert(Box<distilbert::DistilBertModel>),
}

/// An encoder with a start/end span head, its tokenizer and span settings.
pub struct QaModel {
    encoder: Encoder,
    head: Linear,
    tokenizer: Tokenizer,
    pad_id: u32,
    max_answer_tokens: usize,
    device: Device,
}

/// Start and end logits of one pair, over its real tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanLogits {
    pub start: Vec<f32>,
    pub end: Vec<f32>,
}

/// The answer to one pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// First and last token of the span (indices into the pair's tokens).
    pub span: (usize, usize),
    /// The span's text, cut from the context.
    pub text: String,
    /// Tokens fed to the model.
    pub tokens: usize,
}

impl QaModel {
    /// Load a span-head model of `arch` from its config, weights and tokenizer files.
    pub fn load(
        arch: QaArch,
        config_path: &Path,
        weights: &Path,
        tokenizer_path: &Path,
        options: &QaOptions,
        device: &Device,
    ) -> Result<Self> {
        anyhow::ensure!(
            options.max_answer_tokens >= 1,
            "setting `max_answer_tokens` must be at least 1"
        );
        let mut config: Value = text::read_json(config_path)?;
        anyhow::ensure!(
            config.is_object(),
            "{} is not a JSON object",
            config_path.display()
        );
        // Older checkpoints' configs omit `pad_token_id` (0 in BERT's and DistilBERT's vocabs);
        // Candle's config structs require it.
        if config.get("pad_token_id").is_none_or(Value::is_null) {
            config["pad_token_id"] = Value::from(0);
        }
        let num = |key: &str| config.get(key).and_then(Value::as_u64).map(|v| v as usize);
        let max_pos = num("max_position_embeddings")
            .with_context(|| format!("{}: no max_position_embeddings", config_path.display()))?;
        let max_seq_len = match options.max_seq_len {
            Some(n) => {
                anyhow::ensure!(
                    (4..=max_pos).contains(&n),
                    "setting `max_seq_len` = {n} is outside 4..={max_pos} for {}",
                    config_path.display()
                );
                n
            }
            None => DEFAULT_MAX_SEQ_LEN.min(max_pos),
        };
        let pad_id = num("pad_token_id").unwrap_or(0) as u32;
        crate::integrity::check_safetensors(weights)?;
        // SAFETY: read-only memory map of a file we do not modify while loaded.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[weights], DType::F32, device) }
            .with_context(|| format!("mapping weights {}", weights.display()))?;
        let parse_err = || format!("parsing {} as a {arch:?} config", config_path.display());
        let load_err = || format!("loading {arch:?} weights from {}", weights.display());
        let (encoder, hidden) = match arch {
            QaArch::Bert => {
                let mut cfg: bert::Config =
                    serde_json::from_value(config.clone()).with_context(parse_err)?;
                cfg.model_type.get_or_insert_with(|| "bert".to_string());
                let hidden = cfg.hidden_size;
                let model = bert::BertModel::load(vb.clone(), &cfg).with_context(load_err)?;
                (Encoder::Bert(Box::new(model)), hidden)
            }
            QaArch::DistilBert => {
                let mut fixed = config.clone();
                if fixed.get("model_type").is_none_or(Value::is_null) {
                    fixed["model_type"] = Value::from("distilbert");
                }
                let cfg: distilbert::Config =
                    serde_json::from_value(fixed).with_context(parse_err)?;
                let hidden = cfg.dim;
                let model =
                    distilbert::DistilBertModel::load(vb.clone(), &cfg).with_context(load_err)?;
                (Encoder::DistilBert(Box::new(model)), hidden)
            }
        };
        let head = candle_nn::linear(hidden, 2, vb.pp("qa_outputs"))
            .with_context(|| format!("{}: no span head `qa_outputs`", weights.display()))?;
        let mut tokenizer = Tokenizer::from_file(tokenizer_path).map_err(|e| {
            anyhow::anyhow!("tokenizer {} does not load: {e}", tokenizer_path.display())
        })?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_seq_len,
                strategy: TruncationStrategy::OnlySecond,
                ..Default::default()
            }))
            .map_err(|e| anyhow::anyhow!("cannot truncate to {max_seq_len} tokens: {e}"))?;
        Ok(QaModel {
            encoder,
            head,
            tokenizer,
            pad_id,
            max_answer_tokens: options.max_answer_tokens,
            device: device.clone(),
        })
    }

    /// Tokenize (question, context) pairs.
    pub fn encode(&self, pairs: &[(&str, &str)]) -> Result<Vec<Encoding>> {
        pairs
            .iter()
            .map(|&(q, c)| {
                self.tokenizer.encode((q, c), true).map_err(|e| {
                    anyhow::anyhow!(
                        "tokenizing question {:?} with its context: {e}",
                        ellipsis(q)
                    )
                })
            })
            .collect()
    }

    /// Start and end logits of each pair in one padded batch, over each pair's real tokens.
    pub fn logits(&self, encodings: &[Encoding]) -> Result<Vec<SpanLogits>> {
        anyhow::ensure!(!encodings.is_empty(), "cannot run an empty batch");
        let len = encodings
            .iter()
            .map(Encoding::len)
            .max()
            .unwrap_or(1)
            .max(1);
        let rows = encodings.len();
        let mut ids = vec![self.pad_id; rows * len];
        let mut type_ids = vec![0u32; rows * len];
        let mut mask = vec![0u32; rows * len];
        for (r, enc) in encodings.iter().enumerate() {
            let n = enc.len();
            ids[r * len..r * len + n].copy_from_slice(enc.get_ids());
            type_ids[r * len..r * len + n].copy_from_slice(enc.get_type_ids());
            mask[r * len..r * len + n].copy_from_slice(enc.get_attention_mask());
        }
        let tensor = |v: Vec<u32>| Tensor::from_vec(v, (rows, len), &self.device);
        let (ids, type_ids, mask) = (tensor(ids)?, tensor(type_ids)?, tensor(mask)?);
        let hidden = match &self.encoder {
            Encoder::Bert(m) => m.forward(&ids, &type_ids, Some(&mask))?,
            Encoder::DistilBert(m) => {
                // Candle's DistilBERT masks where the mask is non-zero: 1 marks padding.
                let pad = mask.eq(0u32)?.reshape((rows, 1, 1, len))?;
                m.forward(&ids, &pad)?
            }
        };
        let logits: Vec<Vec<Vec<f32>>> = self.head.forward(&hidden)?.to_vec3()?;
        Ok(logits
            .into_iter()
            .zip(encodings)
            .map(|(row, enc)| {
                let n = enc.len();
                SpanLogits {
                    start: row[..n].iter().map(|p| p[0]).collect(),
                    end: row[..n].iter().map(|p| p[1]).collect(),
                }
            })
            .collect())
    }

    /// Answer each (question, context) pair in one padded batch.
    pub fn answer(&self, pairs: &[(&str, &str)]) -> Result<Vec<Answer>> {
        let encodings = self.encode(pairs)?;
        let logits = self
            .logits(&encodings)
            .context("question-answering forward pass")?;
        pairs
            .iter()
            .zip(&encodings)
            .zip(&logits)
            .map(|((&(q, context), enc), l)| {
                let in_context: Vec<bool> = enc
                    .get_sequence_ids()
                    .iter()
                    .zip(enc.get_special_tokens_mask())
                    .map(|(s, &special)| *s == Some(1) && special == 0)
                    .collect();
                let (i, j) = best_span(&l.start, &l.end, &in_context, self.max_answer_tokens)
                    .with_context(|| {
                        format!(
                            "question {:?}: no context token is left after truncation",
                            ellipsis(q)
                        )
                    })?;
                let offsets = enc.get_offsets();
                let (a, b) = (offsets[i].0, offsets[j].1);
                let text = context
                    .get(a..b)
                    .with_context(|| {
                        format!("answer offsets {a}..{b} are not a slice of the context")
                    })?
                    .to_string();
                Ok(Answer {
                    span: (i, j),
                    text,
                    tokens: enc.len(),
                })
            })
            .collect()
    }
}

/// The best span `(i, j)`: `i ≤ j < i + max_len`, every token in between in the context,
/// maximising `start[i] + end[j]` (the first best in (i, j) order on ties). `None` when no
/// token is in the context. NaN logits never win.
pub fn best_span(
    start: &[f32],
    end: &[f32],
    in_context: &[bool],
    max_len: usize,
) -> Option<(usize, usize)> {
    let n = start.len().min(end.len()).min(in_context.len());
    let mut best: Option<((usize, usize), f32)> = None;
    for i in 0..n {
        if !in_context[i] {
            continue;
        }
        for j in i..n.min(i + max_len) {
            if !in_context[j] {
                break;
            }
            let score = start[i] + end[j];
            if best.is_none_or(|(_, s)| score > s) && !score.is_nan() {
                best = Some(((i, j), score));
            }
        }
    }
    best.map(|(span, _)| span)
}

impl RowModel for QaModel {
    type Row = QaRow;

    fn predict(&self, rows: &[&QaRow]) -> Result<Vec<(Prediction, usize)>> {
        let pairs: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.question.as_str(), r.context.as_str()))
            .collect();
        Ok(self
            .answer(&pairs)?
            .into_iter()
            .map(|a| (Prediction::Text(a.text), a.tokens))
            .collect())
    }

    fn quality(&self, rows: &[QaRow], outcomes: &[QueryOutcome]) -> Result<Quality> {
        qa_quality(rows, outcomes)
    }

    fn dtype(&self) -> String {
        "f32".to_string()
    }
}

/// SQuAD F1 (value) with exact match in `extra`, the mean over `outcomes`.
pub fn qa_quality(rows: &[QaRow], outcomes: &[QueryOutcome]) -> Result<Quality> {
    anyhow::ensure!(!outcomes.is_empty(), "no outcomes to score");
    let (mut f1, mut em) = (0.0, 0.0);
    for o in outcomes {
        let Prediction::Text(text) = &o.prediction else {
            anyhow::bail!("item {}: expected a text prediction", o.item);
        };
        let row = row_at(rows, o.item)?;
        f1 += crate::metrics::squad::f1(text, &row.answers);
        em += crate::metrics::squad::exact_match(text, &row.answers);
    }
    let n = outcomes.len() as f64;
    Ok(Quality {
        metric: "f1".to_string(),
        value: f1 / n,
        extra: [("exact_match".to_string(), em / n)].into(),
    })
}

/// Question-answering runner: one query = one (question, context) pair.
pub type QaRunner = RowsRunner<QaModel>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_span_stays_in_the_context_and_under_the_cap() {
        //            CLS   q     SEP   c     c     c     SEP
        let ctx = [false, false, false, true, true, true, false];
        let start = [9.0, 9.0, 0.0, 1.0, 0.0, 3.0, 9.0];
        let end = [9.0, 9.0, 0.0, 0.0, 2.0, 1.0, 9.0];
        assert_eq!(best_span(&start, &end, &ctx, 30), Some((5, 5)));
        // One-token spans: (5, 5) = 4 is still the best.
        assert_eq!(best_span(&start, &end, &ctx, 1), Some((5, 5)));
        let start = [0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 0.0];
        let end = [0.0, 0.0, 0.0, 0.0, 0.0, 4.0, 0.0];
        assert_eq!(best_span(&start, &end, &ctx, 3), Some((3, 5)));
        assert_eq!(best_span(&start, &end, &ctx, 2), Some((3, 3)));
        // end before start is never chosen
        let start = [0.0, 0.0, 0.0, 0.0, 0.0, 5.0, 0.0];
        let end = [0.0, 0.0, 0.0, 4.0, 0.0, -9.0, 0.0];
        assert_eq!(best_span(&start, &end, &ctx, 30), Some((3, 3)));
        assert_eq!(best_span(&start, &end, &[false; 7], 30), None);
    }
}
