//! Text generation on Candle: GGUF decoders (`arch = "quantized-llama"`, `"quantized-qwen2"`,
//! `"quantized-qwen3"`, `"quantized-gemma3"`) and safetensors llama (`arch = "llama"`).
//!
//! # Protocol per query (AI Energy Score's, without its negative-decode artefact)
//! - Batch size 1; a fresh KV cache per query.
//! - Exactly `max_new_tokens` tokens are generated (`min_new_tokens = max_new_tokens`): an
//!   end-of-sequence token does not stop generation, so every query does the same work. The
//!   prediction's text is what a reader would see: the tokens before the first end-of-sequence
//!   token, decoded without special tokens.
//! - Greedy when `temperature == 0`, else softmax sampling at that temperature with a
//!   [`LogitsProcessor`] seeded with `seed + item`, so a row's output does not depend on which
//!   rows ran before it.
//! - Phases: `Prefill` spans the prompt's forward pass and the sampling of the first token (time
//!   to first token); `Decode` spans the remaining `max_new_tokens - 1` steps (empty when
//!   `max_new_tokens == 1`). Both are metered directly, never derived by subtraction.
//!
//! # Prompts
//! Prompts are rendered and tokenized at load time, before any meter window opens.
//! - Chat models (a chat template in the GGUF metadata `tokenizer.chat_template`, in
//!   `tokenizer_config.json` or `chat_template.jinja`, or forced with the setting `chat = true`):
//!   a row's `messages` are rendered with the template and `add_generation_prompt = true`; a
//!   row with only a plain `prompt` is wrapped as one user message. The rendered text is
//!   tokenized without adding special tokens (the template writes them), as `transformers`'
//!   `apply_chat_template` does.
//! - Base models (no template, or `chat = false`): the raw `prompt`, tokenized with the
//!   tokenizer's own special tokens (e.g. BOS when the model asks for it). A row with only
//!   `messages` is an error.
//!
//! # Settings (models.toml)
//! - `gguf = "FILE.gguf"`: which GGUF file to load when the model has several.
//! - `chat = true | false`: force the chat template on or off.
//! - `dtype = "f32" | "f16" | "bf16"` (`llama` only): the dtype to run the weights in; default
//!   `f32` on CPU, the checkpoint's `torch_dtype` on a GPU.
//!
//! # Tokenizer
//! `tokenizer.json` when the model has one; otherwise, for GGUF, built from the file's metadata
//! by [`tokenizer_from_gguf`] (an explicit list of pre-tokenizers, [`SUPPORTED_PRE`]).
//!
//! # Quality
//! Rows that are multiple-choice questions (`question`, `choices`, `answer`) are scored after
//! metering, in an un-metered pass, by log-likelihood as lm-evaluation-harness does: the context
//! is `Question: {question}\nAnswer:` (raw, no chat template, for every model, so base and chat
//! models are scored alike), each choice is the continuation ` {choice}`, tokenized as
//! lm-evaluation-harness does (`encode(context + continuation)` minus the tokens of
//! `encode(context)`), and scored by the sum of its tokens' log-probabilities (teacher forcing,
//! a fresh KV cache per choice). `mc_accuracy` picks the highest sum; `mc_accuracy_norm` (in
//! `extra`) divides each sum by the choice's length in UTF-8 bytes of ` {choice}` first
//! (lm-evaluation-harness's `acc_norm` divides by characters; the same for ASCII). Ties go to the
//! first choice. `extra` also holds `mc_questions` and `non_empty_output_rate`.
//!
//! Rows without choices are not scored against a gold answer: when no scored row is a question,
//! [`Runner::quality`] reports `non_empty_output_rate`, the fraction of outputs with at least one
//! non-whitespace character and no U+FFFD replacement character (a sanity check, not a quality
//! score).

mod chat;
mod gemma3;
mod llama;
mod model;
pub mod qmatmul;
mod tokenizer;

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use candle_core::{DType, Device};
use candle_transformers::generation::LogitsProcessor;
use tokenizers::Tokenizer;

use super::Family;
use crate::catalogue::ModelEntry;
use crate::datasets::{ChatMessage, DatasetRows, LoadedDataset, MultipleChoice, PromptRow};
use crate::fetch::ModelFiles;
use crate::integrity::check_safetensors;
use crate::{
    Phase, PhaseHook, Prediction, PromptFormat, Quality, QueryOutcome, Runner, RunnerOptions, Task,
};

pub use chat::ChatTemplate;
pub use model::{ggml_dtype_name, load_gguf, Backend, GgufModel, GGUF_ARCHES};
pub use tokenizer::{spm_tokenizer, tokenizer_from_gguf, SUPPORTED_PRE};

/// The `arch` values this runner loads.
pub const ARCHES: [&str; 5] = [
    "quantized-llama",
    "quantized-qwen2",
    "quantized-qwen3",
    "quantized-gemma3",
    "llama",
];

/// The quality metric when no scored row is a multiple-choice question.
pub const QUALITY_METRIC: &str = "non_empty_output_rate";
/// The quality metric when scored rows are multiple-choice questions.
pub const MC_METRIC: &str = "mc_accuracy";
/// Its length-normalised variant (per UTF-8 byte of the continuation), in `extra`.
pub const MC_NORM_METRIC: &str = "mc_accuracy_norm";

/// The context a multiple-choice question is scored in (lm-evaluation-harness's zero-shot
/// `Question: ...\nAnswer:` format).
pub fn mc_context(question: &str) -> String {
    format!("Question: {}\nAnswer:", question.trim())
}

/// The continuation a choice is scored as.
pub fn mc_continuation(choice: &str) -> String {
    format!(" {}", choice.trim())
}

/// A multiple-choice row, tokenized at load time.
#[derive(Debug, Clone)]
pub struct PreparedChoices {
    /// The context's token ids (with BOS when the tokenizer adds one).
    pub context: Vec<u32>,
    /// Each choice's continuation token ids (never empty).
    pub choices: Vec<Vec<u32>>,
    /// Each continuation's length in UTF-8 bytes.
    pub bytes: Vec<usize>,
    pub answer: usize,
}

/// The log-likelihood of one choice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChoiceScore {
    /// Sum of the continuation tokens' log-probabilities (natural log).
    pub logprob: f64,
    pub tokens: usize,
    pub bytes: usize,
}

/// The first index of the largest value (ties: the first), as `numpy.argmax`.
pub fn argmax_first(values: &[f64]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, v) in values.iter().enumerate() {
        match best {
            Some(b) if values[b] >= *v => {}
            _ => best = Some(i),
        }
    }
    best
}

/// Natural-log softmax probability of `token` under `logits` (computed in f64).
pub fn log_prob(logits: &[f32], token: u32) -> Result<f64> {
    let Some(&x) = logits.get(token as usize) else {
        bail!(
            "token {token} is outside the model's {} logits",
            logits.len()
        );
    };
    let max = logits
        .iter()
        .fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
    let sum: f64 = logits.iter().map(|&v| ((v as f64) - max).exp()).sum();
    Ok(x as f64 - max - sum.ln())
}

/// Whether this runner loads `arch`.
pub fn handles(arch: &str) -> bool {
    ARCHES.contains(&arch)
}

/// Text generation with decoders (dispatch-table row).
pub const FAMILY: Family = Family {
    task: Task::TextGeneration,
    arches: &ARCHES,
    handles,
    load,
};

/// Load the generation runner for `entry`, bound to `dataset` (see the module docs).
pub fn load(
    entry: &ModelEntry,
    files: &ModelFiles,
    dataset: &LoadedDataset,
    opts: &RunnerOptions,
) -> Result<Box<dyn Runner>> {
    Ok(Box::new(GenerationRunner::load(
        entry, files, dataset, opts,
    )?))
}

/// One evaluation row, ready to run.
#[derive(Debug, Clone)]
pub struct PreparedPrompt {
    /// The text fed to the tokenizer (the rendered chat template for chat models).
    pub text: String,
    /// Its token ids.
    pub ids: Vec<u32>,
}

/// A decoder model bound to a text-generation dataset.
pub struct GenerationRunner {
    model_id: String,
    /// In a cell so that the un-metered multiple-choice pass can run from [`Runner::quality`].
    backend: RefCell<Backend>,
    tokenizer: Tokenizer,
    device: Device,
    prompts: Vec<PreparedPrompt>,
    /// Per row: its choices, tokenized, when the row is a multiple-choice question.
    choices: Vec<Option<PreparedChoices>>,
    eos_ids: Vec<u32>,
    max_new_tokens: usize,
    temperature: f64,
    seed: u64,
    dtype: String,
    chat: bool,
}

/// What the model files provide besides the weights.
struct ModelParts {
    backend: Backend,
    tokenizer: Tokenizer,
    template: Option<String>,
    eos: Vec<u32>,
    bos_token: Option<String>,
    eos_token: Option<String>,
    dtype: String,
    max_seq_len: usize,
}

impl GenerationRunner {
    /// Load the model, tokenizer and chat template, and render and tokenize every row.
    pub fn load(
        entry: &ModelEntry,
        files: &ModelFiles,
        dataset: &LoadedDataset,
        opts: &RunnerOptions,
    ) -> Result<GenerationRunner> {
        let id = &entry.id;
        if opts.max_new_tokens == 0 {
            bail!("model `{id}`: max_new_tokens must be at least 1");
        }
        if !opts.temperature.is_finite() || opts.temperature < 0.0 {
            bail!(
                "model `{id}`: temperature must be a finite number >= 0, got {}",
                opts.temperature
            );
        }
        let DatasetRows::Generation(rows) = &dataset.rows else {
            bail!(
                "dataset `{}` holds {} rows, not text-generation prompts",
                dataset.id,
                dataset.task()
            );
        };
        let parts = match entry.arch.as_str() {
            "llama" => load_llama_parts(entry, files, &opts.device),
            a if GGUF_ARCHES.iter().any(|(g, _)| *g == a) => {
                load_gguf_parts(entry, files, &opts.device)
            }
            other => bail!(
                "model `{id}`: arch `{other}` is not a text-generation family (supported: {})",
                ARCHES.join(", ")
            ),
        }
        .with_context(|| format!("model `{id}` ({})", files.origin))?;

        let chat = match entry.setting_bool("chat")? {
            Some(true) if parts.template.is_none() => bail!(
                "model `{id}`: `chat = true` but the model files have no chat template \
                 (GGUF tokenizer.chat_template, tokenizer_config.json or chat_template.jinja)"
            ),
            Some(force) => force,
            None => parts.template.is_some(),
        };
        let template = match (&parts.template, chat) {
            (Some(src), true) => Some(
                ChatTemplate::new(
                    src,
                    parts.bos_token.as_deref().unwrap_or(""),
                    parts.eos_token.as_deref().unwrap_or(""),
                )
                .with_context(|| format!("model `{id}`"))?,
            ),
            _ => None,
        };

        let mut prompts = Vec::with_capacity(rows.len());
        let mut choices = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let prompt = prepare(row, template.as_ref(), &parts.tokenizer)
                .with_context(|| format!("dataset `{}` row {}: model `{id}`", dataset.id, i + 1))?;
            let prepared = match &row.choice {
                None => None,
                Some(mc) => {
                    let p = prepare_choices(mc, &parts.tokenizer).with_context(|| {
                        format!("dataset `{}` row {}: model `{id}`", dataset.id, i + 1)
                    })?;
                    let longest =
                        p.context.len() + p.choices.iter().map(Vec::len).max().unwrap_or(0);
                    if longest > parts.max_seq_len {
                        bail!(
                            "dataset `{}` row {}: question and choice take {longest} tokens, more \
                             than model `{id}`'s context of {} tokens",
                            dataset.id,
                            i + 1,
                            parts.max_seq_len
                        );
                    }
                    Some(p)
                }
            };
            choices.push(prepared);
            let need = prompt.ids.len() + opts.max_new_tokens;
            if need > parts.max_seq_len {
                bail!(
                    "dataset `{}` row {}: {} prompt tokens + {} new tokens exceed model `{id}`'s \
                     context of {} tokens",
                    dataset.id,
                    i + 1,
                    prompt.ids.len(),
                    opts.max_new_tokens,
                    parts.max_seq_len
                );
            }
            prompts.push(prompt);
        }
        Ok(GenerationRunner {
            model_id: id.clone(),
            backend: RefCell::new(parts.backend),
            tokenizer: parts.tokenizer,
            device: opts.device.clone(),
            prompts,
            choices,
            eos_ids: parts.eos,
            max_new_tokens: opts.max_new_tokens,
            temperature: opts.temperature,
            seed: opts.seed,
            dtype: parts.dtype,
            chat,
        })
    }

    /// The prepared prompt of evaluation row `item`.
    pub fn prompt(&self, item: usize) -> Option<&PreparedPrompt> {
        self.prompts.get(item)
    }

    /// Whether prompts go through the chat template.
    pub fn is_chat(&self) -> bool {
        self.chat
    }

    /// The tokenized choices of row `item`, when it is a multiple-choice question.
    pub fn choices(&self, item: usize) -> Option<&PreparedChoices> {
        self.choices.get(item).and_then(Option::as_ref)
    }

    /// Score every choice of row `item` by log-likelihood (see the module docs); `None` when
    /// the row has no choices. Not metered: run it outside meter windows.
    pub fn choice_scores(&self, item: usize) -> Result<Option<Vec<ChoiceScore>>> {
        let Some(mc) = self.choices(item) else {
            return Ok(None);
        };
        let mut guard = self.backend.borrow_mut();
        let backend: &mut Backend = &mut guard;
        let device = &self.device;
        let mut out = Vec::with_capacity(mc.choices.len());
        for (c, cont) in mc.choices.iter().enumerate() {
            let logprob = device
                .with_context(|| -> Result<f64> {
                    backend.reset();
                    let mut logits = backend.forward(&mc.context, 0, device)?;
                    let mut pos = mc.context.len();
                    let mut sum = 0.0;
                    for (k, &t) in cont.iter().enumerate() {
                        if k > 0 {
                            logits = backend.forward(&[cont[k - 1]], pos, device)?;
                            pos += 1;
                        }
                        sum += log_prob(&logits.to_vec1::<f32>()?, t)?;
                    }
                    Ok(sum)
                })
                .with_context(|| format!("row {}: scoring choice {c} failed", item + 1))?;
            out.push(ChoiceScore {
                logprob,
                tokens: cont.len(),
                bytes: mc.bytes[c],
            });
        }
        Ok(Some(out))
    }

    /// The tokenizer in use.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Generate exactly `max_new_tokens` token ids for row `item` (the protocol of the module
    /// docs; `hook` sees Prefill then Decode). Both phases are closed even when a step fails.
    pub fn generate_ids(&mut self, item: usize, hook: &mut dyn PhaseHook) -> Result<Vec<u32>> {
        let Some(prompt) = self.prompts.get(item) else {
            bail!(
                "row index {item} is out of range ({} rows)",
                self.prompts.len()
            );
        };
        let n = self.max_new_tokens;
        let temperature = (self.temperature > 0.0).then_some(self.temperature);
        let mut sampler =
            LogitsProcessor::new(self.seed.wrapping_add(item as u64), temperature, None);
        let device = &self.device;
        let backend = self.backend.get_mut();
        let ids = prompt.ids.as_slice();
        backend.reset();

        hook.begin(Phase::Prefill);
        let first = device.with_context(|| -> Result<u32> {
            let logits = backend.forward(ids, 0, device)?;
            Ok(sampler.sample(&logits)?)
        });
        hook.end(Phase::Prefill);
        let first = first.context("prefill failed")?;

        let mut out = Vec::with_capacity(n);
        out.push(first);
        hook.begin(Phase::Decode);
        let decoded = device.with_context(|| -> Result<()> {
            let mut pos = ids.len();
            while out.len() < n {
                let last = out[out.len() - 1];
                let logits = backend.forward(&[last], pos, device)?;
                pos += 1;
                out.push(sampler.sample(&logits)?);
            }
            Ok(())
        });
        hook.end(Phase::Decode);
        decoded.context("decode failed")?;
        Ok(out)
    }

    /// The answer text of generated `ids`: the tokens before the first end-of-sequence token,
    /// decoded without special tokens.
    pub fn answer_text(&self, ids: &[u32]) -> Result<String> {
        let end = ids
            .iter()
            .position(|t| self.eos_ids.contains(t))
            .unwrap_or(ids.len());
        self.tokenizer
            .decode(&ids[..end], true)
            .map_err(|e| anyhow::anyhow!("cannot decode generated tokens: {e}"))
    }
}

impl Runner for GenerationRunner {
    fn len(&self) -> usize {
        self.prompts.len()
    }

    fn run_batch(
        &mut self,
        items: &[usize],
        hook: &mut dyn PhaseHook,
    ) -> Result<Vec<QueryOutcome>> {
        if items.len() > 1 {
            bail!(
                "text-generation supports --batch-size 1 only (got a batch of {})",
                items.len()
            );
        }
        let mut outcomes = Vec::with_capacity(items.len());
        for &item in items {
            let ids = self
                .generate_ids(item, hook)
                .with_context(|| format!("model `{}`, row {}", self.model_id, item + 1))?;
            let text = self.answer_text(&ids)?;
            outcomes.push(QueryOutcome {
                item,
                input_tokens: self.prompts[item].ids.len(),
                output_tokens: ids.len(),
                prediction: Prediction::Text(text),
            });
        }
        Ok(outcomes)
    }

    fn quality(&self, outcomes: &[QueryOutcome]) -> Result<Quality> {
        if outcomes.is_empty() {
            bail!("no generated outputs to check");
        }
        let mut ok = 0usize;
        for o in outcomes {
            match &o.prediction {
                Prediction::Text(t) => {
                    if is_usable_text(t) {
                        ok += 1;
                    }
                }
                other => bail!("row {}: expected generated text, got {other:?}", o.item + 1),
            }
        }
        let non_empty = ok as f64 / outcomes.len() as f64;
        let (mut questions, mut right, mut right_norm) = (0usize, 0usize, 0usize);
        for o in outcomes {
            let Some(scores) = self.choice_scores(o.item)? else {
                continue;
            };
            let answer = self.choices[o.item].as_ref().map(|c| c.answer);
            let sums: Vec<f64> = scores.iter().map(|s| s.logprob).collect();
            let norms: Vec<f64> = scores
                .iter()
                .map(|s| s.logprob / s.bytes.max(1) as f64)
                .collect();
            questions += 1;
            right += usize::from(argmax_first(&sums) == answer);
            right_norm += usize::from(argmax_first(&norms) == answer);
        }
        if questions == 0 {
            return Ok(Quality {
                metric: QUALITY_METRIC.to_string(),
                value: non_empty,
                extra: Default::default(),
            });
        }
        let n = questions as f64;
        Ok(Quality {
            metric: MC_METRIC.to_string(),
            value: right as f64 / n,
            extra: [
                (MC_NORM_METRIC.to_string(), right_norm as f64 / n),
                ("mc_questions".to_string(), n),
                (QUALITY_METRIC.to_string(), non_empty),
            ]
            .into_iter()
            .collect(),
        })
    }

    fn dtype(&self) -> String {
        self.dtype.clone()
    }

    fn prompt_format(&self) -> Option<PromptFormat> {
        Some(if self.chat {
            PromptFormat::Chat
        } else {
            PromptFormat::Raw
        })
    }
}

/// Non-empty after trimming and free of U+FFFD (invalid UTF-8 in the generated bytes).
fn is_usable_text(text: &str) -> bool {
    !text.trim().is_empty() && !text.contains('\u{FFFD}')
}

/// Render (chat) and tokenize one row.
fn prepare(
    row: &PromptRow,
    template: Option<&ChatTemplate>,
    tokenizer: &Tokenizer,
) -> Result<PreparedPrompt> {
    let (text, add_special) = match (template, &row.messages, &row.prompt) {
        (Some(t), Some(messages), _) => (t.render(messages, true)?, false),
        (Some(t), None, Some(prompt)) => {
            let user = ChatMessage {
                role: "user".to_string(),
                content: prompt.clone(),
            };
            (t.render(&[user], true)?, false)
        }
        (None, _, Some(prompt)) => (prompt.clone(), true),
        (None, Some(_), None) => bail!(
            "the row has only `messages`, but the model has no chat template \
             (give the row a `prompt`, or use a chat model)"
        ),
        (_, None, None) => bail!("the row has neither `prompt` nor `messages`"),
    };
    let ids = tokenizer
        .encode(text.as_str(), add_special)
        .map_err(|e| anyhow::anyhow!("cannot tokenize the prompt: {e}"))?
        .get_ids()
        .to_vec();
    if ids.is_empty() {
        bail!("the prompt tokenizes to no tokens");
    }
    Ok(PreparedPrompt { text, ids })
}

/// Tokenize a multiple-choice row as lm-evaluation-harness does: each continuation is the
/// tokens of `context + continuation` after the tokens of `context` (special tokens, e.g. BOS,
/// added as the tokenizer does).
fn prepare_choices(mc: &MultipleChoice, tokenizer: &Tokenizer) -> Result<PreparedChoices> {
    let encode = |text: &str| -> Result<Vec<u32>> {
        Ok(tokenizer
            .encode(text, true)
            .map_err(|e| anyhow::anyhow!("cannot tokenize the question: {e}"))?
            .get_ids()
            .to_vec())
    };
    let context_text = mc_context(&mc.question);
    let context = encode(&context_text)?;
    if context.is_empty() {
        bail!("the question tokenizes to no tokens");
    }
    let mut choices = Vec::with_capacity(mc.choices.len());
    let mut bytes = Vec::with_capacity(mc.choices.len());
    for (i, choice) in mc.choices.iter().enumerate() {
        let cont = mc_continuation(choice);
        let whole = encode(&format!("{context_text}{cont}"))?;
        let ids = whole.get(context.len()..).unwrap_or_default().to_vec();
        if ids.is_empty() {
            bail!("choice {i} ({choice:?}) adds no tokens after the question");
        }
        choices.push(ids);
        bytes.push(cont.len());
    }
    Ok(PreparedChoices {
        context,
        choices,
        bytes,
        answer: mc.answer,
    })
}

/// The single `.gguf` file, or the one the `gguf` setting names.
fn gguf_path<'a>(entry: &ModelEntry, files: &'a ModelFiles) -> Result<&'a Path> {
    if let Some(name) = entry.setting_str("gguf")? {
        return files.file(name);
    }
    let ggufs: Vec<_> = files
        .files
        .iter()
        .filter(|f| has_ext(&f.name, "gguf"))
        .collect();
    match ggufs.as_slice() {
        [one] => Ok(&one.path),
        [] => bail!("the model files include no .gguf file"),
        many => bail!(
            "the model files include {} .gguf files ({}); name one with the `gguf` setting",
            many.len(),
            many.iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn has_ext(name: &str, ext: &str) -> bool {
    Path::new(name)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

fn has_file(files: &ModelFiles, name: &str) -> bool {
    files.files.iter().any(|f| f.name == name)
}

fn load_tokenizer_json(path: &Path) -> Result<Tokenizer> {
    Tokenizer::from_file(path)
        .map_err(|e| anyhow::anyhow!("{}: not a usable tokenizer.json: {e}", path.display()))
}

fn load_gguf_parts(entry: &ModelEntry, files: &ModelFiles, device: &Device) -> Result<ModelParts> {
    let path = gguf_path(entry, files)?;
    let m = model::load_gguf(path, &entry.arch, device)?;
    let tokenizer = if has_file(files, "tokenizer.json") {
        load_tokenizer_json(files.file("tokenizer.json")?)?
    } else {
        tokenizer_from_gguf(&m.metadata).with_context(|| format!("{}", path.display()))?
    };
    let meta_id = |key: &str| m.metadata.get(key).and_then(|v| v.to_u32().ok());
    let template = match m.metadata.get("tokenizer.chat_template") {
        None => None,
        Some(v) => Some(
            v.to_string()
                .with_context(|| {
                    format!(
                        "{}: GGUF tokenizer.chat_template is not a string",
                        path.display()
                    )
                })?
                .clone(),
        ),
    };
    let bos = meta_id("tokenizer.ggml.bos_token_id");
    let eos: Vec<u32> = meta_id("tokenizer.ggml.eos_token_id").into_iter().collect();
    Ok(ModelParts {
        backend: m.backend,
        bos_token: bos.and_then(|i| tokenizer.id_to_token(i)),
        eos_token: eos.first().and_then(|&i| tokenizer.id_to_token(i)),
        tokenizer,
        template,
        eos,
        dtype: m.dtype,
        max_seq_len: m.max_seq_len,
    })
}

/// A `tokenizer_config.json` special token: a string or `{"content": ...}`.
fn special_token_string(v: Option<&serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(o) => o.get("content")?.as_str().map(str::to_string),
        _ => None,
    }
}

/// The chat template of a `tokenizer_config.json`: a string, or a list of named templates of
/// which `default` is used.
fn config_chat_template(cfg: &serde_json::Value, path: &Path) -> Result<Option<String>> {
    match cfg.get("chat_template") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
        Some(serde_json::Value::Array(list)) => {
            for t in list {
                if t.get("name").and_then(|n| n.as_str()) == Some("default") {
                    if let Some(s) = t.get("template").and_then(|s| s.as_str()) {
                        return Ok(Some(s.to_string()));
                    }
                }
            }
            bail!(
                "{}: chat_template is a list without a `default` template",
                path.display()
            )
        }
        Some(_) => bail!(
            "{}: chat_template must be a string or a list",
            path.display()
        ),
    }
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{}: invalid JSON", path.display()))
}

fn parse_dtype(s: &str) -> Result<DType> {
    Ok(match s {
        "f32" | "float32" => DType::F32,
        "f16" | "float16" => DType::F16,
        "bf16" | "bfloat16" => DType::BF16,
        other => bail!("dtype `{other}` is not supported (f32, f16, bf16)"),
    })
}

fn load_llama_parts(entry: &ModelEntry, files: &ModelFiles, device: &Device) -> Result<ModelParts> {
    let config_path = files.file("config.json")?;
    let tokenizer = load_tokenizer_json(files.file("tokenizer.json")?)?;
    let mut weights: Vec<(&str, PathBuf)> = files
        .files
        .iter()
        .filter(|f| has_ext(&f.name, "safetensors"))
        .map(|f| (f.name.as_str(), f.path.clone()))
        .collect();
    if weights.is_empty() {
        bail!("the model files include no .safetensors file");
    }
    weights.sort();
    for (_, p) in &weights {
        check_safetensors(p)?;
    }
    let weights: Vec<PathBuf> = weights.into_iter().map(|(_, p)| p).collect();
    let raw_config = read_json(config_path)?;
    let dtype = match entry.setting_str("dtype")? {
        Some(s) => {
            parse_dtype(s).with_context(|| format!("model `{}`: setting `dtype`", entry.id))?
        }
        None if device.is_cpu() => DType::F32,
        None => match raw_config.get("torch_dtype").and_then(|v| v.as_str()) {
            Some(s) => parse_dtype(s).unwrap_or(DType::F32),
            None => DType::F32,
        },
    };
    let m = model::load_llama(config_path, &weights, dtype, device)?;

    let (template, cfg_bos, cfg_eos) = if has_file(files, "tokenizer_config.json") {
        let path = files.file("tokenizer_config.json")?;
        let cfg = read_json(path)?;
        (
            config_chat_template(&cfg, path)?,
            special_token_string(cfg.get("bos_token")),
            special_token_string(cfg.get("eos_token")),
        )
    } else {
        (None, None, None)
    };
    let template = match template {
        Some(t) => Some(t),
        None if has_file(files, "chat_template.jinja") => {
            let path = files.file("chat_template.jinja")?;
            Some(
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?,
            )
        }
        None => None,
    };
    let bos = m.config.bos_token_id;
    let eos: Vec<u32> = match &m.config.eos_token_id {
        Some(candle_transformers::models::llama::LlamaEosToks::Single(i)) => vec![*i],
        Some(candle_transformers::models::llama::LlamaEosToks::Multiple(v)) => v.clone(),
        None => Vec::new(),
    };
    Ok(ModelParts {
        backend: m.backend,
        bos_token: cfg_bos.or_else(|| bos.and_then(|i| tokenizer.id_to_token(i))),
        eos_token: cfg_eos.or_else(|| eos.first().and_then(|&i| tokenizer.id_to_token(i))),
        tokenizer,
        template,
        eos,
        dtype: m.dtype,
        max_seq_len: m.max_seq_len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usable_text() {
        assert!(is_usable_text(" Paris"));
        assert!(!is_usable_text(" \n\t"));
        assert!(!is_usable_text(""));
        assert!(!is_usable_text("ab\u{FFFD}"));
    }

    #[test]
    fn chat_template_from_tokenizer_config() {
        let p = Path::new("tokenizer_config.json");
        let s = serde_json::json!({"chat_template": "x"});
        assert_eq!(config_chat_template(&s, p).unwrap().as_deref(), Some("x"));
        let l = serde_json::json!({"chat_template": [
            {"name": "tool_use", "template": "t"}, {"name": "default", "template": "d"}]});
        assert_eq!(config_chat_template(&l, p).unwrap().as_deref(), Some("d"));
        let none = serde_json::json!({});
        assert_eq!(config_chat_template(&none, p).unwrap(), None);
        let bad = serde_json::json!({"chat_template": 3});
        assert!(config_chat_template(&bad, p).is_err());
    }

    #[test]
    fn special_tokens_from_config() {
        let s = serde_json::json!("<s>");
        let o = serde_json::json!({"content": "</s>", "lstrip": false});
        assert_eq!(special_token_string(Some(&s)).as_deref(), Some("<s>"));
        assert_eq!(special_token_string(Some(&o)).as_deref(), Some("</s>"));
        assert_eq!(special_token_string(None), None);
    }
}
