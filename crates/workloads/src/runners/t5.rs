//! Summarization with T5 / flan-t5 (`arch = "t5"`): safetensors + `config.json` +
//! `tokenizer.json`, run by [`model`], a copy of Candle's `models::t5` whose decoder buckets
//! relative positions as `transformers` does (Candle 0.11's drift after 8 generated tokens).
//!
//! **Protocol per query**: one query = one document. The input is `prefix` + document (default
//! prefix `"summarize: "`, T5's task prefix, which flan-t5 understands too), tokenized with the
//! model's `</s>` and truncated to `max_input_tokens` (default 512); the encoder runs once, then
//! the decoder decodes **greedily** from `decoder_start_token_id` with its KV cache, stopping
//! after the end-of-sequence token or after `max_new_tokens` new tokens (the run's
//! `--max-new-tokens`, a cap, as in `transformers`' `generate`; `--temperature` is ignored:
//! summaries are always greedy). The summary is the generated text without special tokens;
//! `output_tokens` counts the generated tokens (the end-of-sequence token included). A batch's
//! documents are summarized one after another (no padding). No phases are reported: the whole
//! query is one meter window.
//!
//! **Quality**: ROUGE-L F-measure (`rouge_l`), with `rouge1` and `rouge2` beside it, the mean
//! over the scored rows (see [`crate::metrics::rouge`]: `rouge-score`'s tokenisation, no
//! stemmer).
//!
//! Settings: `prefix` (string; `""` for none), `max_input_tokens`, `dtype` (`f32`, or `bf16`;
//! `f16` is refused: T5's activations overflow it).
//!
//! Note: for checkpoints with tied embeddings (original T5, `tie_word_embeddings` true) Candle
//! multiplies the decoder output by √d_model before the head where `transformers` multiplies by
//! 1/√d_model: every logit is scaled by the same positive factor, so greedy choices (all this
//! runner uses) are the same.

use std::path::Path;

use anyhow::{Context, Result};
use candle_core::{DType, Device, Tensor, D};
use candle_nn::VarBuilder;

pub mod model;
use model as t5;
use tokenizers::Tokenizer;

use super::common::text::{self, ellipsis};
use super::common::{row_at, safetensors_weights};
use super::Family;
use crate::catalogue::ModelEntry;
use crate::datasets::{DatasetRows, LoadedDataset, SummaryRow};
use crate::fetch::ModelFiles;
use crate::{PhaseHook, Prediction, Quality, QueryOutcome, Runner, RunnerOptions, Task};

/// The `arch` of the T5 summarizer (T5, T5 v1.1, flan-t5: one config format).
pub const ARCHES: [&str; 1] = ["t5"];

/// Default input prefix.
pub const DEFAULT_PREFIX: &str = "summarize: ";

/// Default truncation of the input, tokens (`</s>` included).
pub const DEFAULT_MAX_INPUT_TOKENS: usize = 512;

/// Whether this module runs `arch`.
pub fn handles(arch: &str) -> bool {
    arch == "t5"
}

/// Summarization with T5 (dispatch-table row).
pub const FAMILY: Family = Family {
    task: Task::Summarization,
    arches: &ARCHES,
    handles,
    load,
};

/// Load the summarizer for `entry` bound to `dataset`'s documents.
pub fn load(
    entry: &ModelEntry,
    files: &ModelFiles,
    dataset: &LoadedDataset,
    opts: &RunnerOptions,
) -> Result<Box<dyn Runner>> {
    let DatasetRows::Summarization(rows) = &dataset.rows else {
        anyhow::bail!(
            "dataset `{}` is not a summarization dataset (model `{}`)",
            dataset.id,
            entry.id
        );
    };
    anyhow::ensure!(
        opts.max_new_tokens >= 1,
        "max_new_tokens must be at least 1"
    );
    let weights = safetensors_weights(entry, files)?;
    let options = SummarizerOptions {
        prefix: entry
            .setting_str("prefix")?
            .unwrap_or(DEFAULT_PREFIX)
            .to_string(),
        max_input_tokens: entry
            .setting_usize("max_input_tokens")?
            .unwrap_or(DEFAULT_MAX_INPUT_TOKENS),
        dtype: text::parse_dtype(entry.setting_str("dtype")?)?,
    };
    let summarizer = Summarizer::load(
        files.file("config.json")?,
        &weights,
        files.file("tokenizer.json")?,
        &options,
        &opts.device,
    )
    .with_context(|| format!("loading summarizer `{}`", entry.id))?;
    Ok(Box::new(SummarizationRunner {
        summarizer,
        rows: rows.clone(),
        max_new_tokens: opts.max_new_tokens,
    }))
}

/// Load-time options of a [`Summarizer`].
#[derive(Debug, Clone)]
pub struct SummarizerOptions {
    /// Text put before each document.
    pub prefix: String,
    /// Truncation of the input, tokens.
    pub max_input_tokens: usize,
    /// Weight dtype.
    pub dtype: DType,
}

impl Default for SummarizerOptions {
    fn default() -> Self {
        SummarizerOptions {
            prefix: DEFAULT_PREFIX.to_string(),
            max_input_tokens: DEFAULT_MAX_INPUT_TOKENS,
            dtype: DType::F32,
        }
    }
}

/// A loaded T5 encoder-decoder with its tokenizer.
pub struct Summarizer {
    model: t5::T5ForConditionalGeneration,
    tokenizer: Tokenizer,
    prefix: String,
    start_id: u32,
    eos_id: u32,
    dtype: DType,
    device: Device,
}

/// One summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The generated text, special tokens removed.
    pub text: String,
    /// The generated ids (the end-of-sequence id included when it was generated).
    pub ids: Vec<u32>,
    /// Tokens fed to the encoder.
    pub input_tokens: usize,
}

impl Summarizer {
    /// Load a T5 checkpoint from its config, weights and tokenizer files.
    pub fn load(
        config_path: &Path,
        weights: &Path,
        tokenizer_path: &Path,
        options: &SummarizerOptions,
        device: &Device,
    ) -> Result<Self> {
        anyhow::ensure!(
            options.dtype != DType::F16,
            "dtype f16 is not supported for T5 (its activations overflow f16); use f32 or bf16"
        );
        anyhow::ensure!(
            options.max_input_tokens >= 2,
            "setting `max_input_tokens` = {} is too small (at least 2)",
            options.max_input_tokens
        );
        let mut cfg: t5::Config = text::read_json(config_path)
            .with_context(|| format!("{} is not a T5 config", config_path.display()))?;
        cfg.use_cache = true;
        crate::integrity::check_safetensors(weights)?;
        // SAFETY: read-only memory map of a file we do not modify while loaded.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[weights], options.dtype, device) }
            .with_context(|| format!("mapping weights {}", weights.display()))?;
        let model = t5::T5ForConditionalGeneration::load(vb, &cfg)
            .with_context(|| format!("loading T5 weights from {}", weights.display()))?;
        let tokenizer = text::load_tokenizer(tokenizer_path, options.max_input_tokens)?;
        let start_id = cfg.decoder_start_token_id.unwrap_or(cfg.pad_token_id) as u32;
        Ok(Summarizer {
            model,
            tokenizer,
            prefix: options.prefix.clone(),
            start_id,
            eos_id: cfg.eos_token_id as u32,
            dtype: options.dtype,
            device: device.clone(),
        })
    }

    /// The encoder's input ids for `document`: prefix + document, with `</s>`, truncated.
    pub fn input_ids(&self, document: &str) -> Result<Vec<u32>> {
        let input = format!("{}{document}", self.prefix);
        let enc = self
            .tokenizer
            .encode(input.as_str(), true)
            .map_err(|e| anyhow::anyhow!("tokenizing {:?}: {e}", ellipsis(&input)))?;
        anyhow::ensure!(
            !enc.is_empty(),
            "document {:?} has no tokens",
            ellipsis(document)
        );
        Ok(enc.get_ids().to_vec())
    }

    /// The encoder's output for `ids`, `[tokens, d_model]` as f32 rows.
    pub fn encoder_output(&mut self, ids: &[u32]) -> Result<Vec<Vec<f32>>> {
        let input = Tensor::new(ids, &self.device)?.unsqueeze(0)?;
        self.model.clear_kv_cache();
        Ok(self
            .model
            .encode(&input)?
            .squeeze(0)?
            .to_dtype(DType::F32)?
            .to_vec2()?)
    }

    /// The decoder's logits for the first new token (after `decoder_start_token_id`).
    pub fn first_logits(&mut self, ids: &[u32]) -> Result<Vec<f32>> {
        let input = Tensor::new(ids, &self.device)?.unsqueeze(0)?;
        self.model.clear_kv_cache();
        let encoded = self.model.encode(&input)?;
        let start = Tensor::new(&[self.start_id], &self.device)?.unsqueeze(0)?;
        let logits = self.model.decode(&start, &encoded)?;
        self.model.clear_kv_cache();
        Ok(logits.squeeze(0)?.to_dtype(DType::F32)?.to_vec1()?)
    }

    /// Greedy decoding of `ids`: at most `max_new_tokens` new ids, stopping after
    /// end-of-sequence.
    pub fn greedy(&mut self, ids: &[u32], max_new_tokens: usize) -> Result<Vec<u32>> {
        let input = Tensor::new(ids, &self.device)?.unsqueeze(0)?;
        self.model.clear_kv_cache();
        let encoded = self.model.encode(&input)?;
        let mut out = Vec::with_capacity(max_new_tokens);
        let mut last = self.start_id;
        for _ in 0..max_new_tokens {
            // With the KV cache, each step feeds only the newest token.
            let step = Tensor::new(&[last], &self.device)?.unsqueeze(0)?;
            let logits = self.model.decode(&step, &encoded)?.squeeze(0)?;
            let next = logits.argmax(D::Minus1)?.to_scalar::<u32>()?;
            out.push(next);
            if next == self.eos_id {
                break;
            }
            last = next;
        }
        self.model.clear_kv_cache();
        Ok(out)
    }

    /// Summarize one document.
    pub fn summarize(&mut self, document: &str, max_new_tokens: usize) -> Result<Summary> {
        let input = self.input_ids(document)?;
        let ids = self
            .greedy(&input, max_new_tokens)
            .with_context(|| format!("summarizing {:?}", ellipsis(document)))?;
        let kept: Vec<u32> = ids
            .iter()
            .copied()
            .take_while(|&t| t != self.eos_id)
            .collect();
        let text = self
            .tokenizer
            .decode(&kept, true)
            .map_err(|e| anyhow::anyhow!("decoding the summary: {e}"))?;
        Ok(Summary {
            text,
            ids,
            input_tokens: input.len(),
        })
    }

    /// The dtype the weights run in.
    pub fn dtype_name(&self) -> String {
        self.dtype.as_str().to_string()
    }
}

/// A [`Summarizer`] bound to its documents: one query = one document.
pub struct SummarizationRunner {
    summarizer: Summarizer,
    rows: Vec<SummaryRow>,
    max_new_tokens: usize,
}

impl SummarizationRunner {
    /// Bind a loaded summarizer to rows.
    pub fn new(summarizer: Summarizer, rows: Vec<SummaryRow>, max_new_tokens: usize) -> Self {
        SummarizationRunner {
            summarizer,
            rows,
            max_new_tokens,
        }
    }
}

impl Runner for SummarizationRunner {
    fn len(&self) -> usize {
        self.rows.len()
    }

    fn run_batch(
        &mut self,
        items: &[usize],
        _hook: &mut dyn PhaseHook,
    ) -> Result<Vec<QueryOutcome>> {
        items
            .iter()
            .map(|&item| {
                let document = row_at(&self.rows, item)?.document.clone();
                let s = self.summarizer.summarize(&document, self.max_new_tokens)?;
                Ok(QueryOutcome {
                    item,
                    input_tokens: s.input_tokens,
                    output_tokens: s.ids.len(),
                    prediction: Prediction::Text(s.text),
                })
            })
            .collect()
    }

    fn quality(&self, outcomes: &[QueryOutcome]) -> Result<Quality> {
        summarization_quality(&self.rows, outcomes)
    }

    fn dtype(&self) -> String {
        self.summarizer.dtype_name()
    }
}

/// ROUGE-L F (value) with ROUGE-1 and ROUGE-2 F in `extra`, the mean over `outcomes`.
pub fn summarization_quality(rows: &[SummaryRow], outcomes: &[QueryOutcome]) -> Result<Quality> {
    anyhow::ensure!(!outcomes.is_empty(), "no outcomes to score");
    let mut pairs = Vec::with_capacity(outcomes.len());
    for o in outcomes {
        let Prediction::Text(text) = &o.prediction else {
            anyhow::bail!("item {}: expected a text prediction", o.item);
        };
        pairs.push((text.as_str(), row_at(rows, o.item)?.summary.as_str()));
    }
    let s = crate::metrics::rouge::mean_scores(pairs);
    Ok(Quality {
        metric: "rouge_l".to_string(),
        value: s.rouge_l,
        extra: [
            ("rouge1".to_string(), s.rouge1),
            ("rouge2".to_string(), s.rouge2),
        ]
        .into(),
    })
}
