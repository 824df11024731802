//! `frugalbench export --format frugal-ai`: the Frugal AI Challenge's submission record, the
//! dictionary its submission template returns per task (`username`, `space_url`,
//! `submission_timestamp`, `model_description`, `accuracy`, `energy_consumed_wh`,
//! `emissions_gco2eq`, `emissions_data`, `api_route`, `dataset_config`), one per result: a JSON
//! object for one result, an array for several.
//!
//! The challenge meters one pass of the inference loop over the whole test split, so a result
//! qualifies only when each repetition covered every evaluation row once (`--preset
//! frugal-ai` does); others are refused, naming the file. Figures:
//!
//! - `energy_consumed_wh`: the energy of one pass (total ÷ repetitions), with the PUE as
//!   CodeCarbon counts it (its `energy_consumed` includes the PUE).
//! - `emissions_gco2eq`: grams CO2e of that pass.
//! - `accuracy`: the result's accuracy (`null` when the task has none).
//! - `emissions_data`: CodeCarbon's `EmissionsData` fields as the template cleans them (without
//!   `timestamp`, `project_name`, `experiment_id`, `latitude`, `longitude`), from the same
//!   mapping as the CodeCarbon CSV export; units as CodeCarbon (kWh, kg, W); unknown ones `null`;
//!   it covers every metered repetition (one with `--preset frugal-ai`).
//! - `submission_timestamp`: when the run finished (RFC 3339, UTC).
//! - `api_route`: `/text`, `/image` or `/audio` by task (`null` for tasks the challenge lacks).
//! - `dataset_config`: the dataset id, `test_size` (`null`: the split's share is not in the
//!   result) and `test_seed` (the preset's seed; `null` without a preset).

use anyhow::bail;
use serde_json::{json, Map, Value};

use super::codecarbon_csv::{codecarbon_row, CODECARBON_COLUMNS};
use super::Exporter;
use crate::inputs::Loaded;
use crate::result::{RunResult, Task};
use crate::JOULES_PER_WH;

/// CodeCarbon fields the submission template drops from `emissions_data`.
const DROPPED: [&str; 5] = [
    "timestamp",
    "project_name",
    "experiment_id",
    "latitude",
    "longitude",
];

/// CodeCarbon fields that are text (the rest are numbers).
const TEXT: [&str; 11] = [
    "run_id",
    "country_name",
    "country_iso_code",
    "region",
    "cloud_provider",
    "cloud_region",
    "os",
    "python_version",
    "codecarbon_version",
    "cpu_model",
    "gpu_model",
];

/// The submission record(s).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrugalAi {
    /// The Hugging Face user (the template reads it from `SPACE_ID`); `null` when not given.
    pub username: Option<String>,
    /// The submission's Space URL; `null` when not given.
    pub space_url: Option<String>,
    /// Free text; default: `<model id> (<arch>, <dtype>), frugalbench <version>`.
    pub model_description: Option<String>,
}

/// The challenge's route for a task.
fn api_route(task: Task) -> Option<&'static str> {
    match task {
        Task::TextClassification => Some("/text"),
        _ => None,
    }
}

fn accuracy(r: &RunResult) -> Option<f64> {
    let q = r.quality.as_ref()?;
    if q.metric == "accuracy" {
        return Some(q.value);
    }
    q.extra.get("accuracy").copied()
}

/// `emissions_data`: the CodeCarbon row as typed JSON, without the dropped fields.
fn emissions_data(l: &Loaded) -> Value {
    let row = codecarbon_row(l, "frugalbench");
    let mut out = Map::new();
    for (name, value) in CODECARBON_COLUMNS.iter().zip(row.fields) {
        if DROPPED.contains(name) {
            continue;
        }
        let v = if value.is_empty() {
            Value::Null
        } else if TEXT.contains(name) || *name == "tracking_mode" || *name == "on_cloud" {
            Value::String(value)
        } else if let Ok(n) = value.parse::<i64>() {
            Value::from(n)
        } else {
            value
                .parse::<f64>()
                .ok()
                .and_then(|x| serde_json::Number::from_f64(x).map(Value::Number))
                .unwrap_or(Value::String(value))
        };
        out.insert((*name).to_string(), v);
    }
    Value::Object(out)
}

impl FrugalAi {
    /// The record of one result, or why it does not qualify.
    pub fn record(&self, l: &Loaded) -> anyhow::Result<Value> {
        let r = &l.result;
        let rows = r.dataset.rows;
        let short = r.repetitions.iter().find(|rep| rep.queries != rows);
        if r.repetitions.is_empty() || short.is_some() {
            bail!(
                "{}: a Frugal AI record needs one pass over the whole test split per \
                 repetition ({rows} rows), but {} (run it with --preset frugal-ai)",
                l.path.display(),
                match short {
                    Some(rep) =>
                        format!("repetition {} metered {} queries", rep.index, rep.queries),
                    None => "it has no repetition".to_string(),
                }
            );
        }
        let passes = r.repetitions.len() as f64;
        let pue = r.carbon.intensity.pue;
        let description = self.model_description.clone().unwrap_or_else(|| {
            format!(
                "{} ({}, {}), frugalbench {}",
                r.model.id, r.model.arch, r.settings.dtype, r.harness.version
            )
        });
        Ok(json!({
            "username": self.username,
            "space_url": self.space_url,
            "submission_timestamp": r.finished_at.to_rfc3339(),
            "model_description": description,
            "accuracy": accuracy(r),
            "energy_consumed_wh": r.energy.total_joules * pue / JOULES_PER_WH / passes,
            "emissions_gco2eq": r.carbon.g_co2e / passes,
            "emissions_data": emissions_data(l),
            "api_route": api_route(r.task),
            "dataset_config": {
                "dataset_name": r.dataset.id,
                "test_size": Value::Null,
                "test_seed": r.preset.as_ref().and_then(|p| p.settings.get("seed").cloned()),
            },
        }))
    }
}

impl Exporter<[Loaded]> for FrugalAi {
    fn serialize(&self, results: &[Loaded]) -> anyhow::Result<Vec<u8>> {
        let mut records = results
            .iter()
            .map(|l| self.record(l))
            .collect::<anyhow::Result<Vec<Value>>>()?;
        let doc = if records.len() == 1 {
            records.remove(0)
        } else {
            Value::Array(records)
        };
        let mut bytes = serde_json::to_vec_pretty(&doc)?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}
