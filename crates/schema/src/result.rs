//! The result file of one `frugalbench run` of one model on one task: [`RunResult`] and its parts.
//!
//! Field names are the JSON names (snake_case); units are in the names (`_joules`, `_watts`,
//! `_seconds`, `_ms`, `_bytes`, `g_co2e`). Optional fields are omitted from the JSON when absent
//! (`null` is accepted when reading). `schema/result.schema.json` is the contract; the crate
//! README documents every field.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::method::{DomainKind, Method, OverallMethod};
pub use crate::task::Task;

/// The schema version this crate writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// One run of one model on one task: the content of one result file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// Always [`SCHEMA_VERSION`] for files this crate writes.
    pub schema_version: u32,
    pub harness: Harness,
    pub model: Model,
    pub task: Task,
    pub dataset: Dataset,
    pub hardware: Hardware,
    pub settings: Settings,
    pub energy: Energy,
    pub carbon: Carbon,
    pub timing: Timing,
    /// Absent when not computed (e.g. interrupted before any query).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<Quality>,
    /// Text generation only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<Generation>,
    /// Speech tasks only: energy per second of audio and the real-time factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<Audio>,
    /// One entry per metered repetition, in order (a partial last one when interrupted).
    pub repetitions: Vec<Repetition>,
    pub status: Status,
    /// Start of the run (RFC 3339, UTC).
    pub started_at: DateTime<Utc>,
    /// End of the run (RFC 3339, UTC).
    pub finished_at: DateTime<Utc>,
    /// Present when the run was a Slurm job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slurm: Option<Slurm>,
    /// File name (not path) of the sibling power-timeline CSV in the same folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline_csv: Option<String>,
    /// The preset (`--preset`) the run followed, with every setting it fixed; absent without
    /// one (and in files written before presets existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<PresetRecord>,
}

/// A preset a run followed: an anchor's protocol in one flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PresetRecord {
    /// `ai-energy-score`, `frugal-ai`.
    pub name: String,
    /// The protocol it reproduces, in words.
    pub anchor: String,
    /// Every setting the preset fixes, as the run used it (after explicit flags), by name.
    pub settings: BTreeMap<String, serde_json::Value>,
    /// Settings given explicitly on the command line that replaced the preset's value
    /// (option names, e.g. `--queries`).
    #[serde(default)]
    pub overridden: Vec<String>,
    /// The GPU-only energy the AI Energy Score reports (it counts GPU energy only), beside the
    /// whole-machine figure in `energy`; absent for presets that do not report it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_only: Option<GpuOnly>,
}

/// GPU-only energy of a run: the `gpu` domains of `energy.by_source`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuOnly {
    /// Wh per 1,000 queries over the GPU domains; `null` when no GPU was metered.
    pub wh_per_1000_queries: Option<f64>,
    /// Why `wh_per_1000_queries` is `null`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The frugalbench build that produced the result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Harness {
    /// frugalbench version (Cargo package version).
    pub version: String,
    /// Git commit of the harness, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
}

/// The model that was run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Model {
    /// Catalogue id (models.toml), e.g. `all-minilm-l6-v2`.
    pub id: String,
    /// Runner architecture, e.g. `bert`, `quantized-llama`.
    pub arch: String,
    /// Where the files came from: `hf:org/repo`, `path:...` or `pip:NAME==VER`.
    pub source: String,
    /// Pinned revision (commit) for hub sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Every file used, hashed.
    pub files: Vec<ModelFile>,
}

/// One model file and its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelFile {
    /// File name relative to the model folder.
    pub name: String,
    /// Lower-case hex SHA-256 of the file.
    pub sha256: String,
    /// File size in bytes.
    pub bytes: u64,
}

/// The dataset the queries came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dataset {
    /// Dataset id, e.g. `sts-mini`.
    pub id: String,
    /// Path of the dataset file, when it was a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Lower-case hex SHA-256 of the dataset file.
    pub sha256: String,
    /// Evaluation rows in the dataset (queries cycle through them).
    pub rows: u64,
    /// Metered queries per repetition.
    pub queries: u64,
    /// Where a dataset from the catalogue (`datasets.toml`) came from; absent for a file given
    /// with `--dataset FILE` and for the shipped sets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<DatasetOrigin>,
}

/// Where a catalogue dataset came from and which of its rows were used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetOrigin {
    /// `hf:org/name@commit`, `path:/abs`, or `pip:NAME==VER`.
    pub source: String,
    /// The hub dataset repository (`org/name`), for an `hf` source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// The resolved revision (hub commit, pip version), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// The split the evaluation rows came from.
    pub split: String,
    /// The split whose rows fitted a classification head, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train_split: Option<String>,
    /// Every file read, with its sha256.
    pub files: Vec<ModelFile>,
    /// Rows in the split before sampling.
    pub split_rows: u64,
    /// `sample = N` of the entry (absent: every row of the split was used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<u64>,
    /// The seed of the sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// sha256 of the used row indices (0-based, ascending, in the split), written as decimal
    /// numbers each followed by `\n`.
    pub rows_sha256: String,
    /// Why there is no quality figure (the set has no reference answers), when that is so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_quality: Option<String>,
}

/// The machine the run happened on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hardware {
    pub cpu_model: String,
    pub physical_cores: u64,
    pub logical_cpus: u64,
    /// Total memory in bytes.
    pub memory_bytes: u64,
    /// GPU names (empty when none).
    pub gpus: Vec<String>,
    /// OS name and version.
    pub os: String,
    /// Kernel version.
    pub kernel: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
}

/// The protocol settings of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub batch_size: u64,
    pub threads: u64,
    /// Un-metered warm-up queries before the repetitions.
    pub warmup_queries: u64,
    /// Requested repetitions.
    pub repetitions: u64,
    /// Requested metered queries per repetition.
    pub queries: u64,
    /// Weight dtype, e.g. `f32`, `q4_1`.
    pub dtype: String,
    /// Device, e.g. `cpu`, `cuda:0`.
    pub device: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_new_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Text generation: whether prompts went through the model's chat template (`chat`) or
    /// were fed as they are (`raw`, base models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_format: Option<PromptFormat>,
}

/// How a text-generation prompt was fed to the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptFormat {
    /// Rendered with the model's chat template.
    Chat,
    /// The row's text as it is (base models).
    Raw,
}

impl PromptFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            PromptFormat::Chat => "chat",
            PromptFormat::Raw => "raw",
        }
    }
}

/// Energy of one domain of one source over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceEnergy {
    /// Source name, e.g. `rapl`, `nvml`, `estimate`.
    pub name: String,
    /// Domain name, e.g. `package-0`, `dram-0`, `gpu-0 (NVIDIA H100)`.
    pub domain: String,
    pub kind: DomainKind,
    pub method: Method,
    /// Energy in joules over the window.
    pub joules: f64,
    /// Average power in watts over the window.
    pub avg_watts: f64,
    /// Low end of the energy's range in joules (estimated domains only; a measured domain has
    /// no range).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joules_low: Option<f64>,
    /// High end of the energy's range in joules (estimated domains only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joules_high: Option<f64>,
}

impl SourceEnergy {
    /// Whether it carries a range (an estimate).
    pub fn has_range(&self) -> bool {
        self.joules_low.is_some() || self.joules_high.is_some()
    }

    /// Low end of its range, or its joules when it has none.
    pub fn low(&self) -> f64 {
        self.joules_low.unwrap_or(self.joules)
    }

    /// High end of its range, or its joules when it has none.
    pub fn high(&self) -> f64 {
        self.joules_high.unwrap_or(self.joules)
    }
}

/// Energy of the whole run (all repetitions together).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Energy {
    /// Over the counted domains of the metered sources (known before any query ran).
    pub method: OverallMethod,
    /// Gross energy in joules of all metered queries, over the counted domains.
    pub total_joules: f64,
    /// `total_joules` / metered queries (0 when no query was metered).
    pub joules_per_query: f64,
    /// Wh per 1,000 queries = `joules_per_query` / 3.6.
    pub wh_per_1000_queries: f64,
    /// Low end of `total_joules` when a counted domain is estimated: the sum of the counted
    /// domains' `joules_low` (a measured domain adds its own `joules`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_joules_low: Option<f64>,
    /// High end of `total_joules`, likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_joules_high: Option<f64>,
    /// `wh_per_1000_queries` from `total_joules_low`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wh_per_1000_queries_low: Option<f64>,
    /// `wh_per_1000_queries` from `total_joules_high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wh_per_1000_queries_high: Option<f64>,
    /// Per domain, summed over repetitions.
    pub by_source: Vec<SourceEnergy>,
    /// Idle power (W) over the counted domains, measured before the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_watts: Option<f64>,
    /// (`total_joules` − `idle_watts` × metered seconds, clamped at 0) / queries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_joules_per_query: Option<f64>,
    /// 95% confidence interval of the mean of the repetitions' `joules_per_query` (Student's t);
    /// absent with fewer than two repetitions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joules_per_query_ci95: Option<[f64; 2]>,
    /// Human-readable notes (e.g. dropped intervals, estimate details).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// Where grams of CO2e come from: the grid's carbon intensity and the data centre's PUE.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CarbonIntensity {
    /// Grid carbon intensity, g CO2e per kWh.
    pub grid_intensity_g_per_kwh: f64,
    /// Where the intensity came from (table row, user flag, default).
    pub intensity_source: String,
    /// Power usage effectiveness multiplier (≥ 1).
    pub pue: f64,
}

impl CarbonIntensity {
    /// Grams of CO2e for `joules`: J / 3.6e6 (kWh) × intensity × PUE.
    pub fn grams(&self, joules: f64) -> f64 {
        crate::units::grams_co2e(joules, self.grid_intensity_g_per_kwh, self.pue)
    }
}

/// Carbon footprint of the gross energy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Carbon {
    /// grams CO2-equivalent = `total_joules` / 3.6e6 × intensity × pue.
    pub g_co2e: f64,
    #[serde(flatten)]
    pub intensity: CarbonIntensity,
    /// grams CO2e per 1,000 queries.
    pub g_co2e_per_1000_queries: f64,
}

/// Time figures of the metered queries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// Metered wall-clock seconds, summed over repetitions (no loading, no warm-up).
    pub wall_seconds: f64,
    /// Metered queries / `wall_seconds`.
    pub queries_per_second: f64,
    pub latency_ms: LatencyMs,
}

/// Per-query latency distribution in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatencyMs {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub mean: f64,
}

/// The quality figure of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quality {
    /// e.g. `spearman`, `accuracy`, `non_empty_output_rate`.
    pub metric: String,
    pub value: f64,
    /// Further metrics by name (e.g. `macro_f1`).
    #[serde(default)]
    pub extra: BTreeMap<String, f64>,
}

/// Text-generation figures (all repetitions together).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generation {
    /// Energy of the prefill windows (prompt forward pass and first token), J.
    pub prefill_joules: f64,
    /// Energy of the decode windows (remaining tokens), J.
    pub decode_joules: f64,
    /// `energy.total_joules` / `generated_tokens`.
    pub joules_per_generated_token: f64,
    /// `energy.total_joules` / `input_tokens`.
    pub joules_per_input_token: f64,
    /// `prefill_joules` / `input_tokens`.
    pub prefill_joules_per_input_token: f64,
    /// `decode_joules` / tokens produced by decode steps (`generated_tokens` − queries,
    /// since the first token of each query comes out of the prefill).
    pub decode_joules_per_generated_token: f64,
    pub time_to_first_token_ms: TtftMs,
    /// `generated_tokens` / `timing.wall_seconds`.
    pub tokens_per_second: f64,
    /// Prompt tokens over all metered queries.
    pub input_tokens: u64,
    /// Generated tokens over all metered queries.
    pub generated_tokens: u64,
}

/// Speech figures of the metered queries (all repetitions together).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Audio {
    /// Seconds of audio in the metered queries (a clip counts once per query that read it).
    pub audio_seconds: f64,
    /// `energy.total_joules` / `audio_seconds`.
    pub joules_per_audio_second: f64,
    /// Real-time factor: `timing.wall_seconds` / `audio_seconds` (below 1 = faster than real
    /// time).
    pub real_time_factor: f64,
}

/// Time-to-first-token distribution in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TtftMs {
    pub p50: f64,
    pub p95: f64,
    pub mean: f64,
}

/// One metered repetition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Repetition {
    /// 0-based position in `repetitions`.
    pub index: u64,
    /// Metered queries in this repetition.
    pub queries: u64,
    pub wall_seconds: f64,
    /// Gross energy over the counted domains, J.
    pub total_joules: f64,
    /// `total_joules` / `queries` (0 when `queries` is 0).
    pub joules_per_query: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_joules_per_query: Option<f64>,
    pub by_source: Vec<SourceEnergy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill_joules: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decode_joules: Option<f64>,
}

/// Whether the run finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Complete,
    /// Stopped early (Ctrl-C, time limit); figures cover what was metered.
    Interrupted,
}

impl Status {
    /// The lowercase label.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Complete => "complete",
            Status::Interrupted => "interrupted",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Slurm job the run belonged to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slurm {
    /// `SLURM_JOB_ID`.
    pub job_id: String,
    /// `SLURM_ARRAY_JOB_ID`, for array jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub array_job_id: Option<String>,
    /// `SLURM_ARRAY_TASK_ID`, for array jobs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub array_task_id: Option<String>,
    /// `SLURMD_NODENAME`.
    pub node: String,
}
