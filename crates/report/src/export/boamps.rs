//! `frugalbench export --format boamps`: BoAmps, Boavizta's open JSON format for reporting the
//! energy of AI tasks (<https://github.com/Boavizta/BoAmps>, format 1.1.0; the schemas are
//! vendored in `schema/boamps/`, CC BY 4.0).
//!
//! One result becomes one BoAmps report ([`boamps_report`]); BoAmps has one report per
//! document, so exporting one result writes that report as a JSON object, and several results
//! a JSON array of reports in the given order (each element a complete report).
//!
//! Honesty rules: energy is frugalbench's gross energy over the counted domains (packages, DRAM,
//! GPUs), in kWh, **without** PUE; there is one `measures` entry per (source, method) of the
//! counted domains, and its `measurementMethod` carries frugalbench's method label (`measured`,
//! `measured (power-integrated)` or `estimated`), so an estimate never reads as a measurement.
//! Optional fields frugalbench does not know are left out; the only required field it cannot
//! know, `infrastructure.infraType`, is `"other"`. The mapping is tabled in the crate README.

use std::sync::OnceLock;

use anyhow::bail;
use serde::Serialize;
use serde_json::Value;

use super::codecarbon_csv::run_id;
use super::Exporter;
use crate::inputs::Loaded;
use crate::result::{DomainKind, Method, RunResult, Status, Task};
use crate::JOULES_PER_KWH;

/// The BoAmps format version written in `header.formatVersion` (the latest in BoAmps'
/// release notes at the vendored commit).
pub const BOAMPS_FORMAT_VERSION: &str = "1.1.0";
/// The BoAmps commit the schemas in `schema/boamps/` were copied from.
pub const BOAMPS_COMMIT: &str = "3bfefec8446ee196d1723c0e35859eb7762da3c9";
/// `header.formatVersionSpecificationUri`: the schemas at [`BOAMPS_COMMIT`].
pub const BOAMPS_SPECIFICATION_URI: &str =
    "https://github.com/Boavizta/BoAmps/tree/3bfefec8446ee196d1723c0e35859eb7762da3c9/model";
/// Where BoAmps' schema `id`s (and so the report schema's `$ref`s) point.
pub const BOAMPS_ID_BASE: &str = "https://raw.githubusercontent.com/Boavizta/BoAmps/main/model/";

/// The vendored schemas: file name (appended to [`BOAMPS_ID_BASE`] it is the schema's `id`)
/// and contents. The first is the report schema; it `$ref`s the other four.
pub const BOAMPS_SCHEMAS: [(&str, &str); 5] = [
    (
        "report_schema.json",
        include_str!("../../../../schema/boamps/report_schema.json"),
    ),
    (
        "algorithm_schema.json",
        include_str!("../../../../schema/boamps/algorithm_schema.json"),
    ),
    (
        "dataset_schema.json",
        include_str!("../../../../schema/boamps/dataset_schema.json"),
    ),
    (
        "hardware_schema.json",
        include_str!("../../../../schema/boamps/hardware_schema.json"),
    ),
    (
        "measure_schema.json",
        include_str!("../../../../schema/boamps/measure_schema.json"),
    ),
];

/// The measuring tool's name in `measures[].measurementMethod`.
pub const TOOL: &str = "frugalbench";

/// One BoAmps report (the fields frugalbench fills; JSON names in camelCase).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoampsReport {
    pub header: Header,
    pub task: BoampsTask,
    pub measures: Vec<Measure>,
    pub system: System,
    pub software: Software,
    pub infrastructure: Infrastructure,
    /// `high` (±10 %), `medium` (±25 %) or `low` (±50 %): only from an estimate's range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    pub format_version: &'static str,
    pub format_version_specification_uri: &'static str,
    pub report_id: String,
    pub report_datetime: String,
    pub report_status: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BoampsTask {
    pub task_stage: &'static str,
    pub task_family: &'static str,
    pub nb_request: u64,
    pub algorithms: Vec<Algorithm>,
    pub dataset: Vec<DataItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measured_accuracy: Option<f64>,
    pub task_description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Algorithm {
    pub algorithm_type: &'static str,
    pub foundation_model_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub foundation_model_uri: Option<String>,
    pub quantization: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DataItem {
    pub data_usage: &'static str,
    pub data_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_format: Option<&'static str>,
    /// Average per request (BoAmps: "the average size of the data sent for a single inference").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_quantity: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Measure {
    pub measurement_method: String,
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu_tracking_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu_tracking_mode: Option<String>,
    /// kWh (BoAmps calls energy "powerConsumption").
    pub power_consumption: f64,
    /// Seconds.
    pub measurement_duration: f64,
    pub measurement_date_time: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct System {
    pub os: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Software {
    pub language: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Infrastructure {
    pub infra_type: &'static str,
    pub components: Vec<Component>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component_name: Option<String>,
    pub component_type: &'static str,
    pub nb_component: u64,
    /// GB (10⁹ bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_size: Option<f64>,
}

/// BoAmps' date-time layout, `YYYY-MM-DD HH:MM:SS` (frugalbench writes UTC).
fn datetime(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// BoAmps' camelCase task family.
fn task_family(t: Task) -> &'static str {
    match t {
        Task::SentenceSimilarity => "sentenceSimilarity",
        Task::TextClassification => "textClassification",
        Task::TextGeneration => "textGeneration",
        Task::Summarization => "summarization",
        Task::QuestionAnswering => "questionAnswering",
        Task::ImageClassification => "imageClassification",
        Task::ObjectDetection => "objectDetection",
        Task::AutomaticSpeechRecognition => "speechRecognition",
        Task::AudioClassification => "audioClassification",
    }
}

fn algorithm_type(t: Task) -> &'static str {
    match t {
        Task::SentenceSimilarity => "embeddings",
        Task::TextClassification => "classification",
        Task::TextGeneration => "llm",
        Task::Summarization => "nlp",
        Task::QuestionAnswering => "nlp",
        Task::ImageClassification => "neural network",
        Task::ObjectDetection => "computerVision",
        Task::AutomaticSpeechRecognition => "speech",
        Task::AudioClassification => "classification",
    }
}

/// BoAmps' quantization words for the float dtypes (`fp32`, `fp16`, `bf16`); others as written.
fn quantization(dtype: &str) -> String {
    match dtype {
        "f32" => "fp32".into(),
        "f16" => "fp16".into(),
        "bf16" => "bf16".into(),
        other => other.into(),
    }
}

/// The public page of a hub model (`hf:org/repo`, at its pinned revision when known); `None`
/// for local paths and pip mirrors (whose index frugalbench does not record).
fn model_uri(source: &str, revision: Option<&str>) -> Option<String> {
    let repo = source.strip_prefix("hf:")?;
    Some(match revision {
        Some(rev) => format!("https://huggingface.co/{repo}/tree/{rev}"),
        None => format!("https://huggingface.co/{repo}"),
    })
}

/// BoAmps' `dataFormat` from a dataset file's extension, when the enum has it exactly.
fn data_format(path: Option<&str>) -> Option<&'static str> {
    let ext = path?.rsplit_once('.')?.1.to_ascii_lowercase();
    match ext.as_str() {
        "csv" => Some("csv"),
        "json" => Some("json"),
        "parquet" => Some("parquet"),
        "txt" => Some("text"),
        _ => None,
    }
}

/// The label of one (source, method) in `measurementMethod` and the tracking modes.
fn tracking_mode(source: &str, method: Method) -> String {
    match method {
        Method::Measured => source.to_string(),
        Method::MeasuredPowerIntegrated => format!("{source} (power-integrated)"),
        Method::Estimated => "estimated".to_string(),
    }
}

/// The harness version, with its git commit as semver build metadata when known.
fn tool_version(r: &RunResult) -> String {
    match &r.harness.git_commit {
        Some(c) => format!("{}+{c}", r.harness.version),
        None => r.harness.version.clone(),
    }
}

/// One measure per (source, method) of the counted domains, in `by_source` order; a single
/// measure labelled with `energy.method` when no counted domain is listed.
fn measures(r: &RunResult) -> Vec<Measure> {
    struct Group<'a> {
        source: &'a str,
        method: Method,
        joules: f64,
        cpu: bool,
        gpu: bool,
    }
    let mut groups: Vec<Group> = Vec::new();
    for s in r
        .energy
        .by_source
        .iter()
        .filter(|s| s.kind.counts_in_total())
    {
        let i = match groups
            .iter()
            .position(|g| g.source == s.name && g.method == s.method)
        {
            Some(i) => i,
            None => {
                groups.push(Group {
                    source: &s.name,
                    method: s.method,
                    joules: 0.0,
                    cpu: false,
                    gpu: false,
                });
                groups.len() - 1
            }
        };
        let g = &mut groups[i];
        g.joules += s.joules;
        g.cpu |= s.kind == DomainKind::CpuPackage;
        g.gpu |= s.kind == DomainKind::Gpu;
    }
    let version = tool_version(r);
    let start = datetime(&r.started_at);
    let secs = r.timing.wall_seconds;
    if groups.is_empty() {
        return vec![Measure {
            measurement_method: format!("{TOOL}: {}", r.energy.method),
            version,
            cpu_tracking_mode: None,
            gpu_tracking_mode: None,
            power_consumption: r.energy.total_joules / JOULES_PER_KWH,
            measurement_duration: secs,
            measurement_date_time: start,
        }];
    }
    groups
        .into_iter()
        .map(|g| {
            let mode = tracking_mode(g.source, g.method);
            Measure {
                measurement_method: format!("{TOOL}: {}, {}", g.source, g.method),
                version: version.clone(),
                cpu_tracking_mode: g.cpu.then(|| mode.clone()),
                gpu_tracking_mode: g.gpu.then(|| mode.clone()),
                power_consumption: g.joules / JOULES_PER_KWH,
                measurement_duration: secs,
                measurement_date_time: start.clone(),
            }
        })
        .collect()
}

/// BoAmps' `quality` (the uncertainty of the figures: ±10 % high, ±25 % medium, ±50 % low) from
/// the range an estimated domain gives `energy.total_joules`; `None` without a range (measured
/// figures carry none) or when the range is wider than ±50 %.
pub fn information_quality(r: &RunResult) -> Option<&'static str> {
    let e = &r.energy;
    let (lo, hi) = (e.total_joules_low?, e.total_joules_high?);
    let t = e.total_joules;
    if !(t > 0.0 && lo.is_finite() && hi.is_finite()) {
        return None;
    }
    let rel = (t - lo).max(hi - t).max(0.0) / t;
    if rel <= 0.10 {
        Some("high")
    } else if rel <= 0.25 {
        Some("medium")
    } else if rel <= 0.50 {
        Some("low")
    } else {
        None
    }
}

/// GPUs as CodeCarbon names them (`N x NAME`), one component per distinct name.
fn gpu_components(gpus: &[String]) -> Vec<Component> {
    let mut counts: Vec<(&str, u64)> = Vec::new();
    for g in gpus {
        match counts.iter_mut().find(|(n, _)| *n == g.as_str()) {
            Some((_, c)) => *c += 1,
            None => counts.push((g.as_str(), 1)),
        }
    }
    counts
        .into_iter()
        .map(|(name, n)| Component {
            component_name: Some(format!("{n} x {name}")),
            component_type: "gpu",
            nb_component: n,
            memory_size: None,
        })
        .collect()
}

fn task_description(r: &RunResult) -> String {
    let m = &r.model;
    let d = &r.dataset;
    let s = &r.settings;
    let mut text = format!(
        "{TOOL} {} run of model {} (runner {}, from {}{}) on task {}: dataset {} (sha256 {}, {} rows), \
         {} metered queries in {} repetition(s) after {} warm-up queries, batch size {}, {} threads, \
         dtype {}, device {}",
        r.harness.version,
        m.id,
        m.arch,
        m.source,
        m.revision
            .as_deref()
            .map(|v| format!(" at {v}"))
            .unwrap_or_default(),
        r.task,
        d.id,
        d.sha256,
        d.rows,
        r.total_queries(),
        r.repetitions.len(),
        s.warmup_queries,
        s.batch_size,
        s.threads,
        s.dtype,
        s.device,
    );
    if let Some(q) = &r.quality {
        text.push_str(&format!("; quality {} = {}", q.metric, q.value));
    }
    text.push_str(&format!(
        "; energy {}, summed over the metered CPU-package, DRAM and GPU domains, without PUE; \
         run {}.",
        r.energy.method, r.status
    ));
    text
}

/// The BoAmps report of one result.
pub fn boamps_report(r: &RunResult) -> BoampsReport {
    let queries = r.total_queries();
    let per_request = |n: u64| (queries > 0).then(|| n as f64 / queries as f64);
    let mut dataset = vec![DataItem {
        data_usage: "input",
        data_type: match r.task {
            Task::ObjectDetection | Task::ImageClassification => "image",
            Task::AudioClassification => "audio",
            _ => "text",
        },
        data_format: data_format(r.dataset.path.as_deref()),
        data_quantity: None,
    }];
    if r.task == Task::AutomaticSpeechRecognition {
        // Clips in, text out.
        dataset[0].data_type = "audio";
        dataset[0].data_format = None;
        dataset.push(DataItem {
            data_usage: "output",
            data_type: "text",
            data_format: None,
            data_quantity: None,
        });
    }
    if let Some(g) = &r.generation {
        dataset[0].data_type = "token";
        dataset[0].data_quantity = per_request(g.input_tokens);
        dataset.push(DataItem {
            data_usage: "output",
            data_type: "token",
            data_format: None,
            data_quantity: per_request(g.generated_tokens),
        });
    }
    let measured_accuracy = r
        .quality
        .as_ref()
        .filter(|q| q.metric == "accuracy" && (0.0..=1.0).contains(&q.value))
        .map(|q| q.value);
    let h = &r.hardware;
    let mut components = vec![Component {
        component_name: Some(h.cpu_model.clone()),
        component_type: "cpu",
        nb_component: h.logical_cpus,
        memory_size: None,
    }];
    components.extend(gpu_components(&h.gpus));
    components.push(Component {
        component_name: None,
        component_type: "ram",
        nb_component: 1,
        memory_size: Some(h.memory_bytes as f64 / 1e9),
    });
    BoampsReport {
        header: Header {
            format_version: BOAMPS_FORMAT_VERSION,
            format_version_specification_uri: BOAMPS_SPECIFICATION_URI,
            report_id: run_id(r),
            report_datetime: datetime(&r.finished_at),
            report_status: match r.status {
                Status::Complete => "final",
                Status::Interrupted => "other",
            },
        },
        task: BoampsTask {
            task_stage: "inference",
            task_family: task_family(r.task),
            nb_request: queries,
            algorithms: vec![Algorithm {
                algorithm_type: algorithm_type(r.task),
                foundation_model_name: r.model.id.clone(),
                foundation_model_uri: model_uri(&r.model.source, r.model.revision.as_deref()),
                quantization: quantization(&r.settings.dtype),
            }],
            dataset,
            measured_accuracy,
            task_description: task_description(r),
        },
        measures: measures(r),
        system: System { os: h.os.clone() },
        software: Software { language: "rust" },
        infrastructure: Infrastructure {
            infra_type: "other",
            components,
        },
        quality: information_quality(r),
    }
}

struct VendoredSchemas;

impl jsonschema::Retrieve for VendoredSchemas {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri
            .as_str()
            .strip_prefix(BOAMPS_ID_BASE)
            .ok_or_else(|| format!("{uri} is not a BoAmps schema"))?;
        let (_, text) = BOAMPS_SCHEMAS
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| format!("{uri} is not vendored in schema/boamps/"))?;
        Ok(serde_json::from_str(text)?)
    }
}

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let schema: Value =
            serde_json::from_str(BOAMPS_SCHEMAS[0].1).expect("report_schema.json is valid JSON");
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .with_retriever(VendoredSchemas)
            .build(&schema)
            .expect("the vendored BoAmps schemas are valid draft-04 schemas")
    })
}

/// Validates one document against the vendored BoAmps report schema (its `$ref`s resolved to
/// the vendored sub-schemas, nothing fetched); on failure one line per violation, starting
/// with the JSON pointer of the offending value.
pub fn validate_boamps(value: &Value) -> Result<(), Vec<String>> {
    let errors: Vec<String> = validator()
        .iter_errors(value)
        .map(|e| {
            let at = e.instance_path().to_string();
            let at = if at.is_empty() { "(root)".into() } else { at };
            format!("{at}: {e}")
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The report of `r`, checked against the schema (a failure is a frugalbench bug).
fn checked(r: &RunResult) -> anyhow::Result<BoampsReport> {
    let report = boamps_report(r);
    if let Err(errors) = validate_boamps(&serde_json::to_value(&report)?) {
        bail!(
            "the BoAmps report of {} on {} does not match the BoAmps schema: {}",
            r.model.id,
            r.task,
            errors.join("; ")
        );
    }
    Ok(report)
}

/// Pretty JSON in the field order of the structs (BoAmps' order), ending with a newline.
fn pretty<T: Serialize + ?Sized>(v: &T) -> anyhow::Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(v)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// BoAmps reports: one result → one report (a JSON object), several → a JSON array of reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Boamps;

impl Exporter<RunResult> for Boamps {
    fn serialize(&self, r: &RunResult) -> anyhow::Result<Vec<u8>> {
        pretty(&checked(r)?)
    }
}

impl Exporter<[Loaded]> for Boamps {
    fn serialize(&self, results: &[Loaded]) -> anyhow::Result<Vec<u8>> {
        match results {
            [one] => self.serialize(&one.result),
            many => pretty(
                &many
                    .iter()
                    .map(|l| checked(&l.result))
                    .collect::<anyhow::Result<Vec<_>>>()?,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_mappings() {
        assert_eq!(quantization("f32"), "fp32");
        assert_eq!(quantization("q4_1"), "q4_1");
        assert_eq!(
            model_uri("hf:org/repo", Some("abc")).as_deref(),
            Some("https://huggingface.co/org/repo/tree/abc")
        );
        assert_eq!(model_uri("pip:x==1", None), None);
        assert_eq!(data_format(Some("a/b.jsonl")), None);
        assert_eq!(data_format(Some("a/b.CSV")), Some("csv"));
        assert_eq!(tracking_mode("rapl", Method::Measured), "rapl");
        assert_eq!(tracking_mode("estimate", Method::Estimated), "estimated");
        let g = vec!["H100".to_string(), "H100".into(), "A10".into()];
        let c = gpu_components(&g);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].component_name.as_deref(), Some("2 x H100"));
        assert_eq!(c[0].nb_component, 2);
    }

    #[test]
    fn every_vendored_schema_is_json_with_the_expected_id() {
        for (name, text) in BOAMPS_SCHEMAS {
            let v: Value = serde_json::from_str(text).unwrap();
            assert_eq!(v["id"], format!("{BOAMPS_ID_BASE}{name}"));
        }
    }
}
