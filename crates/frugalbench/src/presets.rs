//! Presets: the anchors' protocols in one flag (`frugalbench run --preset NAME`), as data.
//!
//! [`PRESETS`] is the whole table; `frugalbench presets` prints it. A preset fills the `run`
//! options it fixes; an option given explicitly on the command line wins (clap's
//! `value_source`, as `plan/job.rs` does) and is listed in the result's
//! `preset.overridden`. The result records the preset and every setting it fixes, as used
//! ([`Applied::record`]).
//!
//! Sources: the AI Energy Score's `optimum-benchmark` energy_star configs (`num_samples: 1000`,
//! `batch_size: 1`, `max_new_tokens = min_new_tokens = 10`, no `torch_dtype` set, so models
//! run in their default dtype) and its FAQ (GPU energy only; stars by five equal 20% sections of
//! the task's GPU-energy range; 10 runs after 10 warm-up queries); the Frugal AI Challenge's
//! submission template (a CodeCarbon task around the inference loop over the whole test split,
//! data loading outside; `test_size` 0.2, `test_seed` 42; the record written by
//! `frugalbench export --format frugal-ai`).

use anyhow::{bail, Result};
use clap::parser::ValueSource;
use frugalbench_report::board::gpu_wh_per_1000_queries;
use frugalbench_report::board::stars::StarRule;
use frugalbench_schema::{GpuOnly, PresetRecord, RunResult};
use frugalbench_workloads::Task;
use serde::Serialize;
use serde_json::{json, Value};

use crate::run::RunArgs;

/// How many queries a preset meters per repetition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Queries {
    /// A fixed count (the dataset is sampled, or cycled if shorter).
    Fixed(usize),
    /// Every row of the evaluation (test) split, once.
    WholeSplit,
}

/// Which energy figure the anchor scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnergyScope {
    /// GPU energy only, reported beside the whole-machine figure (null without a GPU).
    GpuOnly,
    /// The whole metered machine (CPU, DRAM, GPU) over the inference loop only.
    InferenceLoop,
}

/// One preset: everything an anchor's protocol fixes.
#[derive(Debug, Clone, Serialize)]
pub struct Preset {
    pub name: &'static str,
    /// The protocol it reproduces.
    pub anchor: &'static str,
    pub queries: Queries,
    /// Rows sampled from the anchor's dataset (fixed seed), when it samples.
    pub sample: Option<usize>,
    /// Seed of the sample (or of the anchor's train/test split).
    pub seed: u64,
    pub batch_size: usize,
    pub warmup: usize,
    pub repetitions: usize,
    /// New tokens per generated answer (min = max).
    pub max_new_tokens: usize,
    /// 0 = greedy.
    pub temperature: f64,
    /// How the weights' dtype is chosen.
    pub dtype_rule: &'static str,
    pub energy: EnergyScope,
    /// How a board of such results gives stars.
    pub star_rule: StarRule,
    /// What the run reports for the anchor.
    pub reports: &'static [&'static str],
    /// The `frugalbench export --format` writing the anchor's own record, if any.
    pub export: Option<&'static str>,
}

/// Every preset.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "ai-energy-score",
        anchor: "AI Energy Score v1 (Hugging Face; optimum-benchmark energy_star)",
        queries: Queries::Fixed(1000),
        sample: Some(1000),
        seed: 42,
        batch_size: 1,
        warmup: 10,
        repetitions: 10,
        max_new_tokens: 10,
        temperature: 0.0,
        dtype_rule: "the model's default dtype: no torch_dtype is set, so full-precision \
                     checkpoints run in f32 and a quantized file in its own type (no cast)",
        energy: EnergyScope::GpuOnly,
        star_rule: StarRule::EqualWidth,
        reports: &[
            "GPU-only Wh per 1,000 queries (AIES's figure; null with a reason without a GPU)",
            "whole-machine Wh per 1,000 queries beside it",
            "stars: five equal-width bands of the task's energy range",
            "label: model, date, task, hardware, Wh/1k, stars + quality, method, CI",
        ],
        export: None,
    },
    Preset {
        name: "frugal-ai",
        anchor: "Frugal AI Challenge 2025 (CodeCarbon around the inference loop)",
        queries: Queries::WholeSplit,
        sample: None,
        seed: 42,
        batch_size: 1,
        warmup: 0,
        repetitions: 1,
        max_new_tokens: 10,
        temperature: 0.0,
        dtype_rule: "as the submission ships it (the catalogue's dtype)",
        energy: EnergyScope::InferenceLoop,
        star_rule: StarRule::Quintile,
        reports: &[
            "total Wh for the whole test split and Wh per 1,000 queries",
            "accuracy (mean IoU for the image task when present)",
            "g CO2e",
            "submission record: frugalbench export --format frugal-ai",
        ],
        export: Some("frugal-ai"),
    },
];

impl Preset {
    /// The preset named `name`.
    pub fn get(name: &str) -> Result<&'static Preset> {
        PRESETS.iter().find(|p| p.name == name).ok_or_else(|| {
            let names: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
            anyhow::anyhow!(
                "unknown preset `{name}` (presets: {}; `frugalbench presets` lists them)",
                names.join(", ")
            )
        })
    }

    /// The anchor's dataset for `task`: a dataset-catalogue id, `None` when the anchor has
    /// none for the task.
    pub fn dataset_id(&self, task: Task) -> Option<&'static str> {
        match self.name {
            "ai-energy-score" => match task {
                Task::TextGeneration => Some("EnergyStarAI/text_generation"),
                Task::Summarization => Some("EnergyStarAI/summarization"),
                Task::QuestionAnswering => Some("EnergyStarAI/extractive_qa"),
                Task::TextClassification => Some("EnergyStarAI/text_classification"),
                Task::SentenceSimilarity => Some("EnergyStarAI/sentence_similarity"),
                Task::ImageClassification => Some("EnergyStarAI/image_classification"),
                Task::ObjectDetection => Some("EnergyStarAI/object_detection"),
                Task::AutomaticSpeechRecognition => Some("EnergyStarAI/ASR"),
                // The AI Energy Score has no audio-classification task.
                Task::AudioClassification => None,
            },
            "frugal-ai" => match task {
                Task::TextClassification => Some("QuotaClimat/frugalaichallenge-text-train"),
                Task::ObjectDetection => Some("pyronear/pyro-sdis"),
                Task::AudioClassification => Some("rfcx/frugalai"),
                _ => None,
            },
            _ => None,
        }
    }

    /// One row of `frugalbench presets`: name → setting → value.
    pub fn settings_table(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "queries",
                match self.queries {
                    Queries::Fixed(n) => n.to_string(),
                    Queries::WholeSplit => "the whole test split, once".into(),
                },
            ),
            (
                "dataset",
                match self.name {
                    "ai-energy-score" => "EnergyStarAI/<task>".to_string(),
                    _ => "the challenge's set (text: QuotaClimat/frugalaichallenge-text-train, test split)".to_string(),
                } + &self
                    .sample
                    .map(|n| format!(", {n} rows sampled (seed {})", self.seed))
                    .unwrap_or_default(),
            ),
            ("batch size", self.batch_size.to_string()),
            ("warm-up queries", self.warmup.to_string()),
            ("repetitions", self.repetitions.to_string()),
            (
                "new tokens",
                format!(
                    "{} ({})",
                    self.max_new_tokens,
                    if self.temperature == 0.0 {
                        "greedy"
                    } else {
                        "sampled"
                    }
                ),
            ),
            ("dtype", self.dtype_rule.to_string()),
            (
                "energy",
                match self.energy {
                    EnergyScope::GpuOnly => {
                        "GPU only, beside the whole-machine figure".to_string()
                    }
                    EnergyScope::InferenceLoop => "inference loop only (whole machine)".into(),
                },
            ),
            ("stars", self.star_rule.describe().to_string()),
            ("reports", self.reports.join("; ")),
        ]
    }
}

/// A preset applied to a run: which settings explicit flags replaced.
#[derive(Debug, Clone)]
pub struct Applied {
    pub preset: &'static Preset,
    /// Option names given on the command line over the preset's value (e.g. `--queries`).
    pub overridden: Vec<String>,
}

/// The `run` options a preset fills: clap id, command-line name.
const FILLED: [(&str, &str); 6] = [
    ("queries", "--queries"),
    ("repetitions", "--repetitions"),
    ("warmup", "--warmup"),
    ("batch_size", "--batch-size"),
    ("max_new_tokens", "--max-new-tokens"),
    ("temperature", "--temperature"),
];

/// `args` with `--preset`'s values filled in where no explicit flag was given (`matches`:
/// where each option came from). Without `--preset`, `args` unchanged and `None`.
pub fn apply(args: &RunArgs, matches: &clap::ArgMatches) -> Result<(RunArgs, Option<Applied>)> {
    let Some(name) = &args.preset else {
        return Ok((args.clone(), None));
    };
    let preset = Preset::get(name)?;
    let explicit = |id: &str| {
        matches!(
            matches.value_source(id),
            Some(ValueSource::CommandLine) | Some(ValueSource::EnvVariable)
        )
    };
    let mut out = args.clone();
    let mut overridden = Vec::new();
    for (id, flag) in FILLED {
        if explicit(id) {
            overridden.push(flag.to_string());
            continue;
        }
        match id {
            "queries" => {
                out.protocol.queries = match preset.queries {
                    Queries::Fixed(n) => Some(n),
                    Queries::WholeSplit => None,
                }
            }
            "repetitions" => out.protocol.repetitions = Some(preset.repetitions),
            "warmup" => out.protocol.warmup = Some(preset.warmup),
            "batch_size" => out.batch_size = preset.batch_size,
            "max_new_tokens" => out.max_new_tokens = preset.max_new_tokens,
            "temperature" => out.temperature = preset.temperature,
            _ => unreachable!("every FILLED id is handled"),
        }
    }
    if explicit("dataset") {
        overridden.push("--dataset".into());
    }
    Ok((out, Some(Applied { preset, overridden })))
}

impl Applied {
    /// Whether the preset meters the whole split (and `--queries` did not replace it).
    pub fn whole_split(&self) -> bool {
        self.preset.queries == Queries::WholeSplit
            && !self.overridden.iter().any(|o| o == "--queries")
    }

    /// The error line when the preset's own dataset is needed but cannot be had.
    ///
    /// MERGE(issue 13a): the dataset catalogue (`datasets.toml`, `--dataset ID`) resolves
    /// `dataset_id(task)` with `sample` rows and `seed`; connect it here. Until then the
    /// preset runs on an explicit `--dataset FILE` only.
    pub fn missing_dataset(&self, task: Task) -> anyhow::Error {
        match self.preset.dataset_id(task) {
            Some(id) => anyhow::anyhow!(
                "--preset {}: dataset `{id}`{} has no runnable entry in the dataset catalogue \
                 (datasets.toml); give --dataset ID|FILE to run the preset's protocol on another set",
                self.preset.name,
                self.preset
                    .sample
                    .map(|n| format!(" ({n} rows sampled, seed {})", self.preset.seed))
                    .unwrap_or_default()
            ),
            None => anyhow::anyhow!(
                "--preset {}: the anchor has no dataset for {task}; give --dataset FILE",
                self.preset.name
            ),
        }
    }

    /// What the result records: the preset, every setting it fixes as the run used it, the
    /// overridden options, and (AI Energy Score) the GPU-only figure.
    pub fn record(&self, r: &RunResult) -> PresetRecord {
        let p = self.preset;
        let s = &r.settings;
        let mut settings = std::collections::BTreeMap::<String, Value>::new();
        let mut set = |k: &str, v: Value| {
            settings.insert(k.to_string(), v);
        };
        set(
            "anchor_dataset",
            p.dataset_id(r.task).map_or(Value::Null, |id| json!(id)),
        );
        set("dataset", json!(r.dataset.id));
        set("sample", p.sample.map_or(Value::Null, |n| json!(n)));
        set("seed", json!(p.seed));
        set(
            "queries",
            match (p.queries, self.whole_split()) {
                (Queries::WholeSplit, true) => json!("whole-split"),
                _ => json!(s.queries),
            },
        );
        set("queries_metered", json!(s.queries));
        set("batch_size", json!(s.batch_size));
        set("warmup_queries", json!(s.warmup_queries));
        set("repetitions", json!(s.repetitions));
        set(
            "max_new_tokens",
            s.max_new_tokens.map_or(Value::Null, |n| json!(n)),
        );
        set(
            "temperature",
            s.temperature.map_or(Value::Null, |t| json!(t)),
        );
        set("dtype", json!(s.dtype));
        set("dtype_rule", json!(p.dtype_rule));
        set("energy", json!(p.energy));
        set("star_rule", json!(p.star_rule.as_str()));
        let gpu_only = (p.energy == EnergyScope::GpuOnly).then(|| {
            let wh = gpu_wh_per_1000_queries(r);
            GpuOnly {
                wh_per_1000_queries: wh,
                reason: wh.is_none().then(|| {
                    "no GPU was metered on this machine (AI Energy Score counts GPU energy \
                     only); the whole-machine figure is in `energy`"
                        .to_string()
                }),
            }
        });
        PresetRecord {
            name: p.name.to_string(),
            anchor: p.anchor.to_string(),
            settings,
            overridden: self.overridden.clone(),
            gpu_only,
        }
    }
}

/// Options of `frugalbench presets`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the table as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `frugalbench presets`.
pub fn run(args: &Args) -> Result<i32> {
    if args.json {
        println!("{}", serde_json::to_string_pretty(PRESETS)?);
        return Ok(0);
    }
    for (i, p) in PRESETS.iter().enumerate() {
        if i > 0 {
            println!();
        }
        println!("{}  ({})", p.name, p.anchor);
        for (k, v) in p.settings_table() {
            println!("  {k:<16} {v}");
        }
    }
    println!(
        "\nUse: frugalbench run --preset NAME [...]; explicit flags override a preset's values."
    );
    Ok(0)
}

/// Refuses a preset inside a plan job (plans fix their own settings).
pub fn check_not_in_plan(args: &RunArgs) -> Result<()> {
    if args.preset.is_some() && args.plan.is_some() {
        bail!("--preset cannot be combined with --plan: the plan sets the job's options");
    }
    Ok(())
}
