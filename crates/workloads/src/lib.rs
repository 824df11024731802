//! Candle model runners per task, the `models.toml` catalogue, model fetching and datasets.
//!
//! Module ownership (one job each):
//! - [`audio`]: decode clips (WAV, FLAC, MP3, OGG), mix to mono, resample.
//! - [`cpu_threads`]: set up Candle's CPU thread pools once per process.
//! - [`catalogue`]: parse `models.toml` into [`catalogue::ModelEntry`] values.
//! - [`fetch`]: get a model's files onto disk (hf-hub cache, local path, pip mirror) and hash them.
//! - [`integrity`]: check weight files (safetensors) before they are hashed or memory-mapped.
//! - [`datasets`]: load JSONL/CSV datasets for each task with precise errors.
//! - [`metrics`]: quality metrics (Spearman, accuracy, macro-F1).
//! - [`runners`]: one Candle runner per model family, behind the [`Runner`] trait.
//! - `testing` (feature `testing`): tiny random checkpoints for tests and benches.

pub mod audio;
pub mod catalogue;
pub mod cpu_threads;
pub mod datasets;
pub mod fetch;
pub mod integrity;
pub mod metrics;
pub mod runners;
#[cfg(feature = "testing")]
pub mod testing;
pub mod vision;

use serde::{Deserialize, Serialize};

pub use frugalbench_schema::{PromptFormat, Quality, Task};

/// A phase inside one query that the harness meters as its own energy window
/// (text generation: `Prefill` then `Decode`). Encoders report no phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Prefill,
    Decode,
}

/// Called by a runner at the edges of each phase so the harness can open and
/// close a meter window exactly there. Must be cheap.
pub trait PhaseHook {
    fn begin(&mut self, phase: Phase);
    fn end(&mut self, phase: Phase);
}

/// A hook that does nothing (warm-up, tests).
pub struct NoPhases;
impl PhaseHook for NoPhases {
    fn begin(&mut self, _: Phase) {}
    fn end(&mut self, _: Phase) {}
}

/// What a runner predicted for one dataset item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prediction {
    /// Cosine similarity of a sentence pair.
    Similarity(f32),
    /// A class label.
    Label(String),
    /// Generated text.
    Text(String),
    /// Detected objects (object detection), best score first.
    Detections(Vec<Detection>),
}

/// One detected object: a box in the original image's pixels, its class and score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// `[x0, y0, x1, y1]`, pixels of the decoded image (before letterboxing).
    pub bbox: [f32; 4],
    /// The class name (the dataset's label for that class index), or the index as text.
    pub label: String,
    /// Class confidence (sigmoid), 0..1.
    pub score: f32,
}

/// The outcome of one query.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueryOutcome {
    /// Index of the dataset item (into the runner's evaluation rows).
    pub item: usize,
    /// Tokens fed to the model for this query.
    pub input_tokens: usize,
    /// Tokens generated (0 for encoders).
    pub output_tokens: usize,
    pub prediction: Prediction,
}

/// Options a runner needs at load time.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    pub device: candle_core::Device,
    /// Where the runner may cache things it fits (e.g. the classification head).
    pub cache_dir: std::path::PathBuf,
    pub max_new_tokens: usize,
    pub temperature: f64,
    pub seed: u64,
}

/// One loaded model bound to one dataset, ready to answer queries.
///
/// Loading (weights, tokenizer, fitting a head) happens before the harness
/// opens any meter window; `run_batch` is what gets metered.
pub trait Runner {
    /// Number of evaluation rows; the harness cycles through `0..len()`.
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Run the model on these evaluation rows (batch size = `items.len()`).
    fn run_batch(
        &mut self,
        items: &[usize],
        hook: &mut dyn PhaseHook,
    ) -> anyhow::Result<Vec<QueryOutcome>>;
    /// Score the outcomes against the gold labels of the rows they name. Called after metering;
    /// it may run the model again (text generation scores multiple-choice rows here).
    fn quality(&self, outcomes: &[QueryOutcome]) -> anyhow::Result<Quality>;
    /// The dtype the weights run in (for the result file), e.g. `f32`, `q4_1`.
    fn dtype(&self) -> String;
    /// Text generation: how prompts were fed (chat template or raw); `None` for other tasks.
    fn prompt_format(&self) -> Option<PromptFormat> {
        None
    }
    /// A file the harness fitted for this model and dataset (the
    /// classification head), to be saved next to the result.
    fn fitted_file(&self) -> Option<&std::path::Path> {
        None
    }
    /// Speech: the duration in seconds of evaluation row `item`'s clip (for J per audio second
    /// and the real-time factor); `None` for other tasks.
    fn audio_seconds(&self, _item: usize) -> Option<f64> {
        None
    }
    /// A cap on new tokens that the runner applies itself (speech recognition: per 30-s
    /// window), when it does not use the run's `--max-new-tokens`.
    fn token_cap(&self) -> Option<usize> {
        None
    }
}
