//! Audio classification with Whisper's encoder and a fitted linear head (`arch = "whisper"`
//! under `audio-classification`): the first kind of audio classifier, as the text
//! classifier's BERT embeddings + head.
//!
//! **Features**: the clip's log-mel spectrogram ([`super::whisper::mel`]), Whisper's encoder
//! (f32 safetensors, or the quantized GGUF of the `quantize` setting) and the **mean of the
//! encoder's output frames that cover the clip**: encoder frame `j` sees mel frames `2j − 1 ..
//! 2j + 1` (the second convolution has stride 2), so a clip of `n` samples covers
//! `⌈⌈n / 160⌉ / 2⌉` frames (at most 1,500 per 30-s window); the frames that only see the zero
//! padding after the clip are left out of the mean. The encoder's input is set by
//! `encoder_input`:
//! - `window` (default): the 30-s window Whisper was trained on (the clip followed by zeros, 3,000
//!   mel frames, as `WhisperFeatureExtractor` pads it); the encoder always runs over 1,500
//!   positions, whatever the clip's length;
//! - `clip`: only the clip's own mel frames (rounded up to an even count), so a 3-s clip costs a
//!   tenth of a window. The features differ from `window`'s (attention sees no padding).
//!
//! Clips longer than 30 s are read as sequential windows and the mean runs over all their
//! covered frames.
//!
//! **Head**: multinomial logistic regression fitted at load time (not metered) on the train
//! split's features ([`super::bert::fit_head`]), cached under `cache_dir/heads/` with its
//! provenance (model files' sha256, train clips' content hash, encoder input, dtype, fit
//! parameters) and saved beside the result (`<stem>.head.json`).
//!
//! **One query = one clip**, inside the meter window: mel spectrogram, encoder, pooling, head.
//! `input_tokens` counts the encoder positions run. Quality: accuracy with macro-F1, and for a
//! binary set the precision and recall of the `positive` label (setting, default `speech`).
//! Settings: `encoder_input`, `positive`, `head_l2`, `head_max_iter`.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context, Result};
use candle_core::{DType, Device, IndexOp, Tensor};
use candle_transformers::models::whisper as w;
use sha2::{Digest, Sha256};

use super::bert::{
    cache_file_name, fit_head, head_params, read_cached_head, train_rows_sha256, write_head_atomic,
    HeadFile, HeadProvenance, LinearHead, Pooling, HEAD_FORMAT,
};
use super::common::{label_quality, row_at, RowModel, RowsRunner};
use super::whisper::{self, mel, net::WhisperNet, WINDOW_FRAMES};
use super::Family;
use crate::catalogue::ModelEntry;
use crate::datasets::audio_classification::AudioLabelRow;
use crate::datasets::{DatasetRows, LoadedDataset};
use crate::fetch::ModelFiles;
use crate::{Prediction, Quality, QueryOutcome, Runner, RunnerOptions, Task};

/// The `arch` of this family (Whisper checkpoints, as for speech recognition).
pub const ARCHES: [&str; 1] = ["whisper"];

/// The default positive label of a binary set.
pub const DEFAULT_POSITIVE: &str = "speech";

/// Audio classification with Whisper's encoder and a fitted head (dispatch-table row).
pub const FAMILY: Family = Family {
    task: Task::AudioClassification,
    arches: &ARCHES,
    handles: whisper::handles,
    load,
};

/// What the encoder is fed (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncoderInput {
    /// The clip padded to Whisper's 30-s window.
    Window,
    /// The clip's own frames only.
    Clip,
}

impl EncoderInput {
    pub fn as_str(self) -> &'static str {
        match self {
            EncoderInput::Window => "window",
            EncoderInput::Clip => "clip",
        }
    }
}

impl std::str::FromStr for EncoderInput {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "window" => Ok(EncoderInput::Window),
            "clip" => Ok(EncoderInput::Clip),
            _ => bail!("encoder_input = {s:?}: expected \"window\" or \"clip\""),
        }
    }
}

/// Whisper's encoder with its mel front end, giving one mean-pooled vector per clip.
pub struct WhisperEncoder {
    net: RefCell<WhisperNet>,
    mel: mel::LogMel,
    device: Device,
    input: EncoderInput,
    dim: usize,
}

impl WhisperEncoder {
    /// Load the network of `weights` (safetensors or GGUF) described by `config`.
    pub fn load(
        config: &Path,
        weights: &Path,
        input: EncoderInput,
        device: &Device,
    ) -> Result<WhisperEncoder> {
        let text = std::fs::read_to_string(config)
            .with_context(|| format!("cannot read {}", config.display()))?;
        let cfg: w::Config = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a Whisper config", config.display()))?;
        ensure!(
            matches!(cfg.num_mel_bins, 80 | 128),
            "{}: num_mel_bins = {} (Whisper uses 80 or 128)",
            config.display(),
            cfg.num_mel_bins
        );
        ensure!(
            cfg.max_source_positions >= WINDOW_FRAMES / 2,
            "{}: max_source_positions = {} (a 30-s window needs {})",
            config.display(),
            cfg.max_source_positions,
            WINDOW_FRAMES / 2
        );
        let net = WhisperNet::load(weights, &cfg, device)?;
        Ok(WhisperEncoder {
            net: RefCell::new(net),
            mel: mel::LogMel::new(whisper::SAMPLE_RATE, cfg.num_mel_bins),
            device: device.clone(),
            input,
            dim: cfg.d_model,
        })
    }

    /// Width of the pooled vector (`d_model`).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The weights' dtype.
    pub fn dtype(&self) -> String {
        self.net.borrow().dtype()
    }

    /// What the encoder is fed.
    pub fn input(&self) -> EncoderInput {
        self.input
    }

    /// The mean of the encoder frames covering a 16 kHz mono clip, and the encoder positions
    /// run.
    pub fn embed(&self, pcm: &[f32]) -> Result<(Vec<f32>, usize)> {
        ensure!(!pcm.is_empty(), "the clip has no samples");
        // Mel frames of the clip itself.
        let content = pcm.len().div_ceil(mel::HOP);
        let (mel, frames) = match self.input {
            EncoderInput::Window => self.mel.compute(pcm, w::N_SAMPLES),
            // One frame past the even count, so no used frame reaches the end's reflection.
            EncoderInput::Clip => {
                let even = content + content % 2;
                self.mel.compute(pcm, (even + 1) * mel::HOP - pcm.len())
            }
        };
        let n_mels = self.mel.n_mels();
        let mut net = self.net.borrow_mut();
        let mut sum: Option<Tensor> = None;
        let (mut covered, mut fed) = (0usize, 0usize);
        let mut start = 0;
        while start < content {
            let len = WINDOW_FRAMES.min(content - start);
            let width = match self.input {
                EncoderInput::Window => WINDOW_FRAMES,
                EncoderInput::Clip => len + len % 2,
            };
            let x = whisper::mel_window(&mel, n_mels, frames, start, width, &self.device)?;
            let out = net.encode(&x)?;
            let n = len.div_ceil(2);
            let part = out.i((0, ..n))?.to_dtype(DType::F32)?.sum(0)?;
            sum = Some(match sum {
                None => part,
                Some(s) => (s + part)?,
            });
            covered += n;
            fed += out.dim(1)?;
            start += WINDOW_FRAMES;
        }
        let sum = sum.context("the clip gave no frames")?;
        let mean = (sum / covered as f64)?;
        Ok((mean.to_device(&Device::Cpu)?.to_vec1::<f32>()?, fed))
    }
}

/// Whisper encoder + fitted head: one query = one clip.
pub struct WhisperHeadClassifier {
    encoder: WhisperEncoder,
    head: LinearHead,
    positive: String,
    head_path: Option<PathBuf>,
}

impl WhisperHeadClassifier {
    /// Pair an encoder with a head of the same width.
    pub fn new(encoder: WhisperEncoder, head: LinearHead, positive: &str) -> Result<Self> {
        head.validate()?;
        ensure!(
            head.dim() == encoder.dim(),
            "head width {} differs from the encoder width {}",
            head.dim(),
            encoder.dim()
        );
        Ok(WhisperHeadClassifier {
            encoder,
            head,
            positive: positive.to_string(),
            head_path: None,
        })
    }

    /// The head in use.
    pub fn head(&self) -> &LinearHead {
        &self.head
    }

    /// The encoder in use.
    pub fn encoder(&self) -> &WhisperEncoder {
        &self.encoder
    }
}

impl RowModel for WhisperHeadClassifier {
    type Row = AudioLabelRow;

    fn predict(&self, rows: &[&AudioLabelRow]) -> Result<Vec<(Prediction, usize)>> {
        rows.iter()
            .map(|r| {
                let (v, fed) = self
                    .encoder
                    .embed(r.clip.samples())
                    .with_context(|| format!("Whisper encoder on {}", r.audio.describe()))?;
                let label = self.head.labels[self.head.predict(&v)].clone();
                Ok((Prediction::Label(label), fed))
            })
            .collect()
    }

    fn quality(&self, rows: &[AudioLabelRow], outcomes: &[QueryOutcome]) -> Result<Quality> {
        let mut pred = Vec::with_capacity(outcomes.len());
        let mut gold = Vec::with_capacity(outcomes.len());
        for o in outcomes {
            let Prediction::Label(label) = &o.prediction else {
                bail!("item {}: expected a label prediction", o.item);
            };
            pred.push(label.as_str());
            gold.push(row_at(rows, o.item)?.label.as_str());
        }
        label_quality(&pred, &gold, Some(&self.positive))
    }

    fn dtype(&self) -> String {
        self.encoder.dtype()
    }

    fn fitted_file(&self) -> Option<&Path> {
        self.head_path.as_deref()
    }
}

/// The runner: [`WhisperHeadClassifier`] bound to the test clips.
pub type WhisperHeadRunner = RowsRunner<WhisperHeadClassifier>;

/// A content hash of the train rows: each clip's name and the sha256 of its decoded samples,
/// with its label.
fn train_sha256(train: &[AudioLabelRow]) -> String {
    let keys: Vec<(String, &str)> = train
        .iter()
        .map(|r| {
            let mut h = Sha256::new();
            for s in r.clip.samples() {
                h.update(s.to_le_bytes());
            }
            (
                format!("{}#{}", r.audio.describe(), hex::encode(h.finalize())),
                r.label.as_str(),
            )
        })
        .collect();
    train_rows_sha256(keys.iter().map(|(k, l)| (k.as_str(), *l)))
}

/// Get the head for `train`: from the cache when its provenance matches, else fitted on the
/// train clips' features and cached. Returns the head, its path and whether it was reused.
pub fn fitted_head(
    encoder: &WhisperEncoder,
    entry: &ModelEntry,
    model_sha256: BTreeMap<String, String>,
    train: &[AudioLabelRow],
    cache_dir: &Path,
) -> Result<(LinearHead, PathBuf, bool)> {
    let labels: Vec<String> = train
        .iter()
        .map(|r| r.label.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let params = head_params(entry)?;
    let train_sha = train_sha256(train);
    let provenance = HeadProvenance {
        model_id: entry.id.clone(),
        model_sha256,
        train_sha256: train_sha.clone(),
        train_rows: train.len(),
        pooling: Pooling::Mean,
        normalize: false,
        max_seq_len: WINDOW_FRAMES / 2,
        dtype: encoder.dtype(),
        params,
        features: [
            (
                "encoder_input".to_string(),
                encoder.input().as_str().to_string(),
            ),
            (
                "pooling".to_string(),
                "mean over the encoder frames covering the clip".to_string(),
            ),
        ]
        .into(),
    };
    let path = cache_dir
        .join("heads")
        .join(cache_file_name(&entry.id, &train_sha));
    if let Some(cached) = read_cached_head(&path, &provenance) {
        if cached.head.dim() == encoder.dim() && cached.head.labels == labels {
            return Ok((cached.head, path, true));
        }
    }
    let mut features = Vec::with_capacity(train.len());
    for r in train {
        let (v, _) = encoder
            .embed(r.clip.samples())
            .with_context(|| format!("Whisper encoder on {}", r.audio.describe()))?;
        features.push(v);
    }
    let targets: Vec<usize> = train
        .iter()
        .map(|r| {
            labels
                .binary_search(&r.label)
                .expect("labels were collected from these rows")
        })
        .collect();
    let (head, fit) = fit_head(&features, &targets, labels, &params)
        .with_context(|| format!("fitting the classification head of `{}`", entry.id))?;
    eprintln!(
        "model {}: head fitted on {} train clips ({} labels, train accuracy {:.3}, {} iterations)",
        entry.id,
        train.len(),
        head.labels.len(),
        fit.train_accuracy,
        fit.iterations
    );
    let file = HeadFile {
        format: HEAD_FORMAT,
        provenance,
        fit,
        head,
    };
    write_head_atomic(&path, &file)?;
    Ok((file.head, path, false))
}

/// Load Whisper's encoder for `entry`, fit (or reuse) the head on `dataset`'s train clips and
/// bind it to the test clips.
pub fn load(
    entry: &ModelEntry,
    files: &ModelFiles,
    dataset: &LoadedDataset,
    opts: &RunnerOptions,
) -> Result<Box<dyn Runner>> {
    let DatasetRows::AudioClassification { train, test } = &dataset.rows else {
        bail!(
            "dataset `{}` is not an audio-classification dataset (model `{}`)",
            dataset.id,
            entry.id
        );
    };
    ensure!(
        !train.is_empty(),
        "dataset `{}` has no train rows to fit the head of `{}` on",
        dataset.id,
        entry.id
    );
    ensure!(
        !test.is_empty(),
        "dataset `{}` has no test rows",
        dataset.id
    );
    let seen: BTreeSet<&str> = train.iter().map(|r| r.label.as_str()).collect();
    if let Some(r) = test.iter().find(|r| !seen.contains(r.label.as_str())) {
        bail!(
            "dataset `{}`: test label {:?} (clip {}) never occurs in the train split (train labels: {seen:?}); a fitted head cannot predict it",
            dataset.id,
            r.label,
            r.audio.describe()
        );
    }
    let input: EncoderInput = entry
        .setting_str("encoder_input")?
        .map(str::parse)
        .transpose()
        .with_context(|| format!("model `{}`", entry.id))?
        .unwrap_or(EncoderInput::Window);
    let positive = entry
        .setting_str("positive")?
        .unwrap_or(DEFAULT_POSITIVE)
        .to_string();
    let weights = whisper::weights_file(entry, files)?;
    let encoder = WhisperEncoder::load(files.file("config.json")?, &weights, input, &opts.device)
        .with_context(|| format!("loading Whisper's encoder `{}`", entry.id))?;
    let model_sha256 = files
        .files
        .iter()
        .map(|f| (f.name.clone(), f.sha256.clone()))
        .collect();
    let (head, path, _) = fitted_head(&encoder, entry, model_sha256, train, &opts.cache_dir)?;
    let mut classifier = WhisperHeadClassifier::new(encoder, head, &positive)?;
    classifier.head_path = Some(path);
    Ok(Box::new(RowsRunner::new(classifier, test.to_vec())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoder_input_parses_its_two_names_only() {
        assert_eq!(
            "window".parse::<EncoderInput>().unwrap(),
            EncoderInput::Window
        );
        assert_eq!("clip".parse::<EncoderInput>().unwrap(), EncoderInput::Clip);
        assert!("full".parse::<EncoderInput>().is_err());
        assert_eq!(EncoderInput::Clip.as_str(), "clip");
    }
}
