//! Silero VAD (v6, 16 kHz) as a native audio classifier, written on Candle.
//!
//! The network is the one the `silero-vad` package (MIT) ships as
//! `silero_vad/data/silero_vad_16k.safetensors` and describes in its `tinygrad_model.py`:
//!
//! 1. the clip (16 kHz mono) is cut into 512-sample windows (the last one zero-padded), each
//!    preceded by the 64 samples before it (zeros before the clip) and reflect-padded by 64
//!    on the right: 640 samples per window;
//! 2. a fixed STFT as a convolution (`stft_conv`, 258 filters of 256 taps, stride 128, no
//!    bias): 129 real and 129 imaginary rows over 4 frames, then the magnitude;
//! 3. four 1-D convolutions with ReLU (`conv1` 129→128, `conv2` 128→64 stride 2, `conv3`
//!    64→64 stride 2, `conv4` 64→128; kernel 3, padding 1): one 128-d vector per window;
//! 4. an LSTM cell (`lstm_cell`, 128→128, PyTorch gate order i, f, g, o) whose state runs
//!    from window to window through the clip;
//! 5. ReLU, a 1×1 convolution to one value (`final_conv`) and a sigmoid: the window's speech
//!    probability.
//!
//! That is what the package's TorchScript model computes in `audio_forward(clip, 16000)`;
//! `scripts/silero_vad_reference.py` records its per-window probabilities and
//! `tests/silero_vad.rs` compares ours with them.
//!
//! As a classifier, one query = one clip: the clip is `labels[0]` (default `speech`) when the
//! mean of its window probabilities exceeds 0.5, else `labels[1]` (default `non-speech`).
//! Settings: `labels = ["speech", "non-speech"]` (the positive label first; every dataset label
//! must be one of the two).

use std::path::Path;

use anyhow::{ensure, Context, Result};
use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::{Conv1d, Conv1dConfig, VarBuilder};

use super::common::{label_quality, row_at, RowModel, RowsRunner};
use super::Family;
use crate::catalogue::ModelEntry;
use crate::datasets::audio_classification::AudioLabelRow;
use crate::datasets::{DatasetRows, LoadedDataset};
use crate::fetch::ModelFiles;
use crate::{Prediction, Quality, QueryOutcome, Runner, RunnerOptions, Task};

/// The catalogue `arch` of this family.
pub const ARCH: &str = "silero-vad";
/// The canonical `arch` names this module runs.
pub const ARCHES: [&str; 1] = [ARCH];

/// The sample rate the 16 kHz model expects.
pub const SAMPLE_RATE: u32 = 16_000;
/// Samples per window.
pub const WINDOW: usize = 512;
/// Samples of the previous window fed before each window.
pub const CONTEXT: usize = 64;
/// Reflect padding on the right of each window.
const RIGHT_PAD: usize = 64;
/// STFT size (taps of `stft_conv`) and hop.
const N_FFT: usize = 256;
const HOP: usize = 128;
/// Frequency bins (`N_FFT / 2 + 1`).
const BINS: usize = N_FFT / 2 + 1;
/// LSTM width.
const HIDDEN: usize = 128;
/// A clip is speech when its mean window probability exceeds this.
pub const THRESHOLD: f32 = 0.5;
/// The default labels: positive (speech) first.
pub const DEFAULT_LABELS: [&str; 2] = ["speech", "non-speech"];

/// Whether this module runs `arch`.
pub fn handles(arch: &str) -> bool {
    arch.eq_ignore_ascii_case(ARCH) || arch.eq_ignore_ascii_case("silero_vad")
}

/// Silero VAD as an audio classifier (dispatch-table row).
pub const FAMILY: Family = Family {
    task: Task::AudioClassification,
    arches: &ARCHES,
    handles,
    load,
};

/// The network.
pub struct SileroVad {
    stft: Tensor,
    convs: [Conv1d; 4],
    w_ih: Tensor,
    w_hh: Tensor,
    bias: Tensor,
    final_w: Tensor,
    final_b: Tensor,
    device: Device,
}

impl SileroVad {
    /// Load the weights of `silero_vad_16k.safetensors` (or a checkpoint of the same shapes).
    pub fn load(weights: &Path, device: &Device) -> Result<Self> {
        crate::integrity::check_safetensors(weights)?;
        // SAFETY: read-only memory map of a file we do not modify while loaded.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[weights], DType::F32, device) }
            .with_context(|| format!("mapping weights {}", weights.display()))?;
        Self::new(vb)
            .with_context(|| format!("loading Silero VAD weights from {}", weights.display()))
    }

    /// Build from a var builder holding the package's tensor names.
    pub fn new(vb: VarBuilder) -> Result<Self> {
        let stft = vb.get((2 * BINS, 1, N_FFT), "stft_conv.weight")?;
        let conv = |name: &str, cin: usize, cout: usize, stride: usize| -> Result<Conv1d> {
            let cfg = Conv1dConfig {
                padding: 1,
                stride,
                ..Default::default()
            };
            Ok(candle_nn::conv1d(cin, cout, 3, cfg, vb.pp(name))?)
        };
        let convs = [
            conv("conv1", BINS, 128, 1)?,
            conv("conv2", 128, 64, 2)?,
            conv("conv3", 64, 64, 2)?,
            conv("conv4", 64, HIDDEN, 1)?,
        ];
        let lstm = vb.pp("lstm_cell");
        let w_ih = lstm.get((4 * HIDDEN, HIDDEN), "weight_ih")?;
        let w_hh = lstm.get((4 * HIDDEN, HIDDEN), "weight_hh")?;
        let bias = (lstm.get(4 * HIDDEN, "bias_ih")? + lstm.get(4 * HIDDEN, "bias_hh")?)?;
        let final_w = vb
            .get((1, HIDDEN, 1), "final_conv.weight")?
            .reshape((1, HIDDEN))?;
        let final_b = vb.get(1, "final_conv.bias")?;
        Ok(SileroVad {
            stft,
            convs,
            w_ih: w_ih.t()?.contiguous()?,
            w_hh: w_hh.t()?.contiguous()?,
            bias,
            final_w: final_w.t()?.contiguous()?,
            final_b,
            device: vb.device().clone(),
        })
    }

    /// The 640-sample input of every window of a 16 kHz mono clip: 64 samples of context, the
    /// 512-sample window (the last one zero-padded), 64 samples reflected from its end.
    pub fn frames(samples: &[f32]) -> Vec<f32> {
        let windows = samples.len().div_ceil(WINDOW);
        let mut padded = vec![0f32; CONTEXT + windows * WINDOW];
        padded[CONTEXT..CONTEXT + samples.len()].copy_from_slice(samples);
        let width = CONTEXT + WINDOW + RIGHT_PAD;
        let mut out = Vec::with_capacity(windows * width);
        for w in 0..windows {
            let chunk = &padded[w * WINDOW..w * WINDOW + CONTEXT + WINDOW];
            out.extend_from_slice(chunk);
            // Reflect padding excludes the edge sample: x[n-2], x[n-3], ...
            out.extend((0..RIGHT_PAD).map(|k| chunk[chunk.len() - 2 - k]));
        }
        out
    }

    /// Speech probability of every 512-sample window of a 16 kHz mono clip, the LSTM state
    /// carried from one window to the next (reset at the clip's start).
    pub fn window_probabilities(&self, samples: &[f32]) -> Result<Vec<f32>> {
        ensure!(!samples.is_empty(), "the clip has no samples");
        let windows = samples.len().div_ceil(WINDOW);
        let width = CONTEXT + WINDOW + RIGHT_PAD;
        let x = Tensor::from_vec(Self::frames(samples), (windows, 1, width), &self.device)?;
        // (windows, 258, 4): real and imaginary parts over 4 frames.
        let spec = x.conv1d(&self.stft, 0, HOP, 1, 1)?;
        let re = spec.narrow(1, 0, BINS)?;
        let im = spec.narrow(1, BINS, BINS)?;
        let mut h = (re.sqr()? + im.sqr()?)?.sqrt()?;
        for conv in &self.convs {
            h = conv.forward(&h)?.relu()?;
        }
        // (windows, 128, 1) → (windows, 128).
        let feats = h.squeeze(D::Minus1)?;
        let xi = feats.matmul(&self.w_ih)?.broadcast_add(&self.bias)?;
        let mut hs = Vec::with_capacity(windows);
        let mut state_h = Tensor::zeros((1, HIDDEN), DType::F32, &self.device)?;
        let mut state_c = state_h.clone();
        for t in 0..windows {
            let gates = (xi.narrow(0, t, 1)? + state_h.matmul(&self.w_hh)?)?;
            let gate = |k: usize| gates.narrow(1, k * HIDDEN, HIDDEN);
            let i = candle_nn::ops::sigmoid(&gate(0)?)?;
            let f = candle_nn::ops::sigmoid(&gate(1)?)?;
            let g = gate(2)?.tanh()?;
            let o = candle_nn::ops::sigmoid(&gate(3)?)?;
            state_c = ((f * &state_c)? + (i * g)?)?;
            state_h = (o * state_c.tanh()?)?;
            hs.push(state_h.clone());
        }
        let hs = Tensor::cat(&hs, 0)?;
        let logits = hs
            .relu()?
            .matmul(&self.final_w)?
            .broadcast_add(&self.final_b)?;
        let probs = candle_nn::ops::sigmoid(&logits)?.flatten_all()?;
        Ok(probs.to_vec1::<f32>()?)
    }

    /// Mean window probability of a clip.
    pub fn speech_probability(&self, samples: &[f32]) -> Result<f32> {
        let p = self.window_probabilities(samples)?;
        Ok(p.iter().sum::<f32>() / p.len() as f32)
    }
}

/// Silero VAD bound to its labels: a clip is `labels[0]` when its mean speech probability
/// exceeds [`THRESHOLD`], else `labels[1]`.
pub struct VadClassifier {
    model: SileroVad,
    labels: [String; 2],
}

impl VadClassifier {
    /// Wrap a loaded network; `labels` = (speech, other).
    pub fn new(model: SileroVad, labels: [String; 2]) -> Self {
        VadClassifier { model, labels }
    }

    /// The network.
    pub fn model(&self) -> &SileroVad {
        &self.model
    }
}

impl RowModel for VadClassifier {
    type Row = AudioLabelRow;

    fn predict(&self, rows: &[&AudioLabelRow]) -> Result<Vec<(Prediction, usize)>> {
        rows.iter()
            .map(|r| {
                let samples = r.clip.samples();
                let p = self
                    .model
                    .speech_probability(samples)
                    .with_context(|| format!("Silero VAD on {}", r.audio.describe()))?;
                let label = if p > THRESHOLD {
                    &self.labels[0]
                } else {
                    &self.labels[1]
                };
                // The "tokens" of an audio query: the 512-sample windows fed to the model.
                Ok((
                    Prediction::Label(label.clone()),
                    samples.len().div_ceil(WINDOW),
                ))
            })
            .collect()
    }

    fn quality(&self, rows: &[AudioLabelRow], outcomes: &[QueryOutcome]) -> Result<Quality> {
        let mut pred = Vec::with_capacity(outcomes.len());
        let mut gold = Vec::with_capacity(outcomes.len());
        for o in outcomes {
            let Prediction::Label(label) = &o.prediction else {
                anyhow::bail!("item {}: expected a label prediction", o.item);
            };
            pred.push(label.as_str());
            gold.push(row_at(rows, o.item)?.label.as_str());
        }
        label_quality(&pred, &gold, Some(&self.labels[0]))
    }

    fn dtype(&self) -> String {
        "f32".to_string()
    }
}

/// Load Silero VAD for `entry` bound to `dataset`'s test clips.
pub fn load(
    entry: &ModelEntry,
    files: &ModelFiles,
    dataset: &LoadedDataset,
    opts: &RunnerOptions,
) -> Result<Box<dyn Runner>> {
    let DatasetRows::AudioClassification { train, test } = &dataset.rows else {
        anyhow::bail!(
            "dataset `{}` is not an audio-classification dataset (model `{}`)",
            dataset.id,
            entry.id
        );
    };
    ensure!(
        !test.is_empty(),
        "dataset `{}` has no test rows",
        dataset.id
    );
    let labels = match entry.setting_str_list("labels")? {
        None => DEFAULT_LABELS.map(str::to_string),
        Some(l) => <[String; 2]>::try_from(l).map_err(|l| {
            anyhow::anyhow!(
                "model `{}`: setting `labels` needs exactly 2 labels (speech first), got {}",
                entry.id,
                l.len()
            )
        })?,
    };
    ensure!(
        labels[0] != labels[1],
        "model `{}`: the two `labels` are the same",
        entry.id
    );
    for row in train.iter().chain(test.iter()) {
        ensure!(
            labels.contains(&row.label),
            "dataset `{}`: label {:?} (clip {}) is not one of model `{}`'s labels ({})",
            dataset.id,
            row.label,
            row.audio.describe(),
            entry.id,
            labels.join(", ")
        );
    }
    let weights = files
        .find_ext("safetensors")
        .with_context(|| format!("model `{}` has no safetensors weights", entry.id))?;
    let model = SileroVad::load(weights, &opts.device)
        .with_context(|| format!("loading `{}`", entry.id))?;
    Ok(Box::new(RowsRunner::new(
        VadClassifier::new(model, labels),
        test.to_vec(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_context_and_reflect_the_end() {
        let samples: Vec<f32> = (1..=600).map(|v| v as f32).collect();
        let f = SileroVad::frames(&samples);
        let width = CONTEXT + WINDOW + RIGHT_PAD;
        assert_eq!(f.len(), 2 * width);
        // Window 0: 64 zeros, samples 1..=512, then 511, 510, ... (reflection without the edge).
        assert!(f[..CONTEXT].iter().all(|v| *v == 0.0));
        assert_eq!(f[CONTEXT], 1.0);
        assert_eq!(f[CONTEXT + WINDOW - 1], 512.0);
        assert_eq!(f[CONTEXT + WINDOW], 511.0);
        assert_eq!(f[width - 1], 512.0 - 64.0);
        // Window 1: the 64 samples before it (449..=512), then 513..=600 and zeros.
        let w1 = &f[width..];
        assert_eq!(w1[0], 449.0);
        assert_eq!(w1[CONTEXT - 1], 512.0);
        assert_eq!(w1[CONTEXT], 513.0);
        assert_eq!(w1[CONTEXT + 87], 600.0);
        assert_eq!(w1[CONTEXT + 88], 0.0);
        assert!(handles("silero-vad") && !handles("bert"));
    }
}
