//! Automatic speech recognition with Whisper (`arch = "whisper"`) through candle-transformers'
//! `whisper` model: `model.safetensors` (HF names), `config.json`, `tokenizer.json`. A pip
//! mirror that ships a CTranslate2 conversion is turned into these files by the fetcher
//! (`fetch/ct2_whisper.rs`).
//!
//! **Before the meter**: every clip of the dataset is decoded, mixed to mono and resampled to
//! 16 kHz when the runner loads ([`crate::audio`]); a clip that does not decode stops the run
//! with its row and file named.
//!
//! **One query = one clip**, inside the meter window: the log-mel spectrogram ([`mel`], 80 or
//! 128 bins from the config, filterbank computed in code), then per 30-second window (3,000
//! frames; long clips are read as sequential windows, each decoded on its own) the encoder and
//! **greedy** decoding from the start tokens — `<|startoftranscript|>` `<|notimestamps|>` for
//! English-only checkpoints (`.en`, vocabulary < 51,865), and `<|startoftranscript|>` `<|LANG|>`
//! `<|transcribe|>` `<|notimestamps|>` for multilingual ones (`language` setting, default `en`)
//! — until `<|endoftext|>`, `max_new_tokens` tokens (setting, default 224, as OpenAI's
//! `sample_len`) or the decoder's context is full. No timestamps: timestamp tokens are
//! suppressed, as are the config's `suppress_tokens` and the task/start tokens (faster-whisper's
//! set); a blank or `<|endoftext|>` cannot be the first token (`begin_suppress_tokens`).
//! The transcript is the decoded text without special tokens, windows joined by a space.
//!
//! **Quality**: corpus word error rate (`wer`, lower is better) after the normaliser of
//! [`crate::metrics::wer`], with substitution/deletion/insertion counts beside it.
//!
//! **Weights**: f32 `model.safetensors`, or, when the fetch made one (`quantize = "q8_0"`,
//! `fetch/quantize.rs`), the quantized `model.gguf` run by candle-transformers'
//! `quantized_model::Whisper` ([`net`]).
//!
//! Settings: `max_new_tokens` (per 30-s window), `language` (multilingual checkpoints),
//! `multilingual` (override the vocabulary-size rule), `quantize` (read by the fetch).

pub mod mel;
pub mod net;

use anyhow::{bail, ensure, Context, Result};
use candle_core::{DType, Device, IndexOp, Tensor, D};
use candle_transformers::models::whisper as w;
use tokenizers::Tokenizer;

use super::common::{row_at, safetensors_weights};
use super::Family;
use crate::catalogue::ModelEntry;
use crate::datasets::{AsrRow, DatasetRows, LoadedDataset};
use crate::fetch::ModelFiles;
use crate::{PhaseHook, Prediction, Quality, QueryOutcome, Runner, RunnerOptions, Task};

/// The `arch` of the Whisper recognisers.
pub const ARCHES: [&str; 1] = ["whisper"];

/// Whisper's sample rate.
pub const SAMPLE_RATE: u32 = 16_000;

/// Frames in one 30-second window.
pub const WINDOW_FRAMES: usize = w::N_FRAMES;

/// Default cap on new tokens per window (OpenAI's `sample_len`, half the text context).
pub const DEFAULT_MAX_NEW_TOKENS: usize = 224;

/// OpenAI's rule: a vocabulary of at least this many tokens is multilingual.
const MULTILINGUAL_VOCAB: usize = 51_865;

pub fn handles(arch: &str) -> bool {
    arch == "whisper"
}

/// Speech recognition with Whisper (dispatch-table row).
pub const FAMILY: Family = Family {
    task: Task::AutomaticSpeechRecognition,
    arches: &ARCHES,
    handles,
    load,
};

/// Load the recogniser for `entry` and decode `dataset`'s clips (before any meter window).
pub fn load(
    entry: &ModelEntry,
    files: &ModelFiles,
    dataset: &LoadedDataset,
    opts: &RunnerOptions,
) -> Result<Box<dyn Runner>> {
    let DatasetRows::Speech(rows) = &dataset.rows else {
        bail!(
            "dataset `{}` is not a speech-recognition dataset (model `{}`)",
            dataset.id,
            entry.id
        );
    };
    let clips = decode_clips(rows)?;
    let options = RecognizerOptions {
        max_new_tokens: entry
            .setting_usize("max_new_tokens")?
            .unwrap_or(DEFAULT_MAX_NEW_TOKENS),
        language: entry.setting_str("language")?.unwrap_or("en").to_string(),
        multilingual: entry.setting_bool("multilingual")?,
    };
    let weights = weights_file(entry, files)?;
    let recognizer = Recognizer::load(
        files.file("config.json")?,
        &weights,
        files.file("tokenizer.json")?,
        &options,
        &opts.device,
    )
    .with_context(|| format!("loading Whisper `{}`", entry.id))?;
    Ok(Box::new(WhisperRunner {
        recognizer,
        rows: rows.clone(),
        clips,
    }))
}

/// The network's weights: the quantized `model.gguf` when the fetch made one (the `quantize`
/// setting, `fetch/quantize.rs`), else the safetensors checkpoint.
pub fn weights_file(entry: &ModelEntry, files: &ModelFiles) -> Result<std::path::PathBuf> {
    match files.file(crate::fetch::quantize::GGUF_NAME) {
        Ok(p) => Ok(p.to_path_buf()),
        Err(_) => safetensors_weights(entry, files),
    }
}

/// Window `start..start + width` of an `n_mels × frames` spectrogram as a `(1, n_mels, width)`
/// tensor, zero-padded past the last frame.
pub fn mel_window(
    mel: &[f32],
    n_mels: usize,
    frames: usize,
    start: usize,
    width: usize,
    device: &Device,
) -> Result<Tensor> {
    let t = Tensor::from_slice(mel, (n_mels, frames), device)?;
    let len = width.min(frames.saturating_sub(start));
    let t = t.narrow(1, start, len)?;
    let t = if len < width {
        t.pad_with_zeros(1, 0, width - len)?
    } else {
        t
    };
    Ok(t.unsqueeze(0)?)
}

/// Decode every row's clip to 16 kHz mono; the first failure names its row and file.
pub fn decode_clips(rows: &[AsrRow]) -> Result<Vec<Vec<f32>>> {
    rows.iter()
        .map(|r| {
            crate::audio::load_mono(&r.audio, SAMPLE_RATE)
                .with_context(|| format!("{}: field \"audio\"", r.origin))
        })
        .collect()
}

/// Load-time options of a [`Recognizer`].
#[derive(Debug, Clone)]
pub struct RecognizerOptions {
    pub max_new_tokens: usize,
    /// Language code for multilingual checkpoints (`en`, `fr`, ...).
    pub language: String,
    /// Force (or deny) the multilingual prompt; `None` = OpenAI's vocabulary-size rule.
    pub multilingual: Option<bool>,
}

impl Default for RecognizerOptions {
    fn default() -> Self {
        RecognizerOptions {
            max_new_tokens: DEFAULT_MAX_NEW_TOKENS,
            language: "en".into(),
            multilingual: None,
        }
    }
}

/// A loaded Whisper with its tokenizer, mel filterbank and decoding settings.
pub struct Recognizer {
    model: net::WhisperNet,
    tokenizer: Tokenizer,
    mel: mel::LogMel,
    device: Device,
    /// The start tokens of every window.
    prompt: Vec<u32>,
    eot: u32,
    /// Added to the logits of every step (0 or −∞).
    suppress: Tensor,
    /// Added at the first step only.
    suppress_begin: Tensor,
    max_new_tokens: usize,
    max_target_positions: usize,
    multilingual: bool,
}

/// One clip's transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct Transcript {
    pub text: String,
    /// Generated tokens over all windows (the end-of-text tokens included).
    pub tokens: usize,
    /// Windows decoded.
    pub windows: usize,
}

impl Recognizer {
    pub fn load(
        config: &std::path::Path,
        weights: &std::path::Path,
        tokenizer: &std::path::Path,
        opts: &RecognizerOptions,
        device: &Device,
    ) -> Result<Recognizer> {
        let cfg_text = std::fs::read_to_string(config)
            .with_context(|| format!("cannot read {}", config.display()))?;
        let cfg: w::Config = serde_json::from_str(&cfg_text)
            .with_context(|| format!("{}: not a Whisper config", config.display()))?;
        let raw: serde_json::Value = serde_json::from_str(&cfg_text)?;
        let begin_suppress: Vec<u32> = raw
            .get("begin_suppress_tokens")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        ensure!(
            matches!(cfg.num_mel_bins, 80 | 128),
            "{}: num_mel_bins = {} (Whisper uses 80 or 128)",
            config.display(),
            cfg.num_mel_bins
        );
        ensure!(
            opts.max_new_tokens >= 1,
            "max_new_tokens must be at least 1"
        );
        let model = net::WhisperNet::load(weights, &cfg, device)?;
        let tok = Tokenizer::from_file(tokenizer)
            .map_err(|e| anyhow::anyhow!("{}: {e}", tokenizer.display()))?;
        let id = |t: &str| -> Result<u32> {
            tok.token_to_id(t)
                .with_context(|| format!("{}: no token {t}", tokenizer.display()))
        };
        let multilingual = opts
            .multilingual
            .unwrap_or(cfg.vocab_size >= MULTILINGUAL_VOCAB);
        let sot = id(w::SOT_TOKEN)?;
        let eot = id(w::EOT_TOKEN)?;
        let no_ts = id(w::NO_TIMESTAMPS_TOKEN)?;
        let mut prompt = vec![sot];
        if multilingual {
            prompt.push(id(&format!("<|{}|>", opts.language)).with_context(|| {
                format!("language `{}` is not one of the model's", opts.language)
            })?);
            prompt.push(id(w::TRANSCRIBE_TOKEN)?);
        }
        prompt.push(no_ts);
        // Suppressed at every step: the config's list, the task and start tokens, "no speech",
        // and every timestamp token (those after <|notimestamps|>).
        let mut banned: Vec<u32> = cfg.suppress_tokens.clone();
        for t in [
            w::TRANSCRIBE_TOKEN,
            w::TRANSLATE_TOKEN,
            w::SOT_TOKEN,
            "<|startofprev|>",
            "<|startoflm|>",
            w::NO_SPEECH_TOKENS[0],
            w::NO_SPEECH_TOKENS[1],
            w::NO_TIMESTAMPS_TOKEN,
        ] {
            if let Some(i) = tok.token_to_id(t) {
                banned.push(i);
            }
        }
        banned.retain(|&t| (t as usize) < cfg.vocab_size);
        let mut mask = vec![0f32; cfg.vocab_size];
        for &t in &banned {
            mask[t as usize] = f32::NEG_INFINITY;
        }
        for m in mask.iter_mut().skip(no_ts as usize + 1) {
            *m = f32::NEG_INFINITY;
        }
        let mut begin = vec![0f32; cfg.vocab_size];
        for &t in &begin_suppress {
            if (t as usize) < cfg.vocab_size {
                begin[t as usize] = f32::NEG_INFINITY;
            }
        }
        begin[eot as usize] = f32::NEG_INFINITY;
        Ok(Recognizer {
            mel: mel::LogMel::new(SAMPLE_RATE, cfg.num_mel_bins),
            max_target_positions: cfg.max_target_positions,
            suppress: Tensor::new(mask.as_slice(), device)?,
            suppress_begin: Tensor::new(begin.as_slice(), device)?,
            model,
            tokenizer: tok,
            device: device.clone(),
            prompt,
            eot,
            max_new_tokens: opts.max_new_tokens,
            multilingual,
        })
    }

    /// The start tokens of every window.
    pub fn prompt(&self) -> &[u32] {
        &self.prompt
    }

    pub fn is_multilingual(&self) -> bool {
        self.multilingual
    }

    /// The log-mel spectrogram of a clip followed by 30 s of silence: (values `n_mels ×
    /// frames`, frames).
    pub fn log_mel(&self, pcm: &[f32]) -> (Vec<f32>, usize) {
        self.mel.compute(pcm, w::N_SAMPLES)
    }

    /// Window `start..start + 3000` of a spectrogram as a `(1, n_mels, 3000)` tensor.
    fn window(&self, mel: &[f32], frames: usize, start: usize) -> Result<Tensor> {
        mel_window(
            mel,
            self.mel.n_mels(),
            frames,
            start,
            WINDOW_FRAMES,
            &self.device,
        )
    }

    /// The weights' dtype (`f32`, or the quantized one such as `q8_0`).
    pub fn dtype(&self) -> String {
        self.model.dtype()
    }

    /// The logits of the first decoding step of the first window (for parity checks).
    pub fn first_logits(&mut self, pcm: &[f32]) -> Result<Vec<f32>> {
        let (mel, frames) = self.log_mel(pcm);
        let x = self.window(&mel, frames, 0)?;
        let features = self.model.encode(&x)?;
        let tokens = Tensor::new(self.prompt.as_slice(), &self.device)?.unsqueeze(0)?;
        let h = self.model.decode(&tokens, &features, true)?;
        let last = h.i((.., self.prompt.len() - 1..))?;
        let logits = self.model.final_linear(&last)?.i((0, 0))?;
        Ok(logits.to_dtype(DType::F32)?.to_vec1()?)
    }

    /// The greedy tokens of the first window of a clip (for parity checks).
    pub fn window_tokens(&mut self, pcm: &[f32]) -> Result<Vec<u32>> {
        let (mel, frames) = self.log_mel(pcm);
        let x = self.window(&mel, frames, 0)?;
        self.decode_window(&x)
    }

    /// Transcribe one 16 kHz mono clip (mel spectrogram, then greedy decoding per window).
    pub fn transcribe(&mut self, pcm: &[f32]) -> Result<Transcript> {
        let (mel, frames) = self.log_mel(pcm);
        let content = pcm.len().div_ceil(mel::HOP).max(1);
        let mut texts = Vec::new();
        let mut tokens = 0;
        let mut windows = 0;
        let mut start = 0;
        while start < content {
            let x = self.window(&mel, frames, start)?;
            let out = self.decode_window(&x)?;
            tokens += out.len();
            windows += 1;
            let ids: Vec<u32> = out.into_iter().filter(|&t| t != self.eot).collect();
            let text = self
                .tokenizer
                .decode(&ids, true)
                .map_err(|e| anyhow::anyhow!("detokenize: {e}"))?;
            let text = text.trim();
            if !text.is_empty() {
                texts.push(text.to_string());
            }
            start += WINDOW_FRAMES;
        }
        Ok(Transcript {
            text: texts.join(" "),
            tokens,
            windows,
        })
    }

    /// Greedy decoding of one window; the generated tokens (with the end-of-text token when
    /// reached).
    fn decode_window(&mut self, mel: &Tensor) -> Result<Vec<u32>> {
        let features = self.model.encode(mel)?;
        let mut seq = self.prompt.clone();
        let room = self.max_target_positions.saturating_sub(seq.len());
        let cap = self.max_new_tokens.min(room);
        let mut out = Vec::new();
        for step in 0..cap {
            let tokens = Tensor::new(seq.as_slice(), &self.device)?.unsqueeze(0)?;
            // Candle's decoder recomputes self-attention over the whole sequence each step and
            // caches the cross-attention keys/values after the first step.
            let h = self.model.decode(&tokens, &features, step == 0)?;
            let last = h.i((.., seq.len() - 1..))?;
            let mut logits = self
                .model
                .final_linear(&last)?
                .i((0, 0))?
                .to_dtype(DType::F32)?;
            logits = logits.broadcast_add(&self.suppress)?;
            if step == 0 {
                logits = logits.broadcast_add(&self.suppress_begin)?;
            }
            let next = logits.argmax(D::Minus1)?.to_scalar::<u32>()?;
            out.push(next);
            if next == self.eot {
                break;
            }
            seq.push(next);
        }
        Ok(out)
    }
}

/// A [`Recognizer`] bound to its rows and their decoded clips.
pub struct WhisperRunner {
    recognizer: Recognizer,
    rows: Vec<AsrRow>,
    clips: Vec<Vec<f32>>,
}

impl WhisperRunner {
    pub fn new(recognizer: Recognizer, rows: Vec<AsrRow>, clips: Vec<Vec<f32>>) -> Self {
        WhisperRunner {
            recognizer,
            rows,
            clips,
        }
    }
}

impl Runner for WhisperRunner {
    fn len(&self) -> usize {
        self.rows.len()
    }

    fn run_batch(
        &mut self,
        items: &[usize],
        _hook: &mut dyn PhaseHook,
    ) -> Result<Vec<QueryOutcome>> {
        let mut out = Vec::with_capacity(items.len());
        for &item in items {
            let pcm = row_at(&self.clips, item)?;
            let device = self.recognizer.device.clone();
            let t = device.with_context(|| self.recognizer.transcribe(pcm))?;
            out.push(QueryOutcome {
                item,
                input_tokens: 0,
                output_tokens: t.tokens,
                prediction: Prediction::Text(t.text),
            });
        }
        Ok(out)
    }

    fn quality(&self, outcomes: &[QueryOutcome]) -> Result<Quality> {
        asr_quality(&self.rows, outcomes)
    }

    fn dtype(&self) -> String {
        self.recognizer.dtype()
    }

    fn audio_seconds(&self, item: usize) -> Option<f64> {
        self.clips
            .get(item)
            .map(|c| c.len() as f64 / SAMPLE_RATE as f64)
    }

    fn token_cap(&self) -> Option<usize> {
        Some(self.recognizer.max_new_tokens)
    }
}

/// Corpus WER of transcripts against `rows` (first outcome per row), with the edit counts.
pub fn asr_quality(rows: &[AsrRow], outcomes: &[QueryOutcome]) -> Result<Quality> {
    use crate::metrics::wer;
    let mut total = wer::WordErrors::default();
    for o in outcomes {
        let Prediction::Text(hyp) = &o.prediction else {
            bail!("item {}: expected a transcript", o.item);
        };
        total.add(wer::word_errors(&row_at(rows, o.item)?.text, hyp));
    }
    ensure!(!outcomes.is_empty(), "no outcomes to score");
    let rate = total
        .rate()
        .context("the reference transcripts have no words after normalisation")?;
    Ok(Quality {
        metric: "wer".into(),
        value: rate,
        extra: [
            ("substitutions".to_string(), total.substitutions as f64),
            ("deletions".to_string(), total.deletions as f64),
            ("insertions".to_string(), total.insertions as f64),
            ("reference_words".to_string(), total.reference_words as f64),
        ]
        .into(),
    })
}
