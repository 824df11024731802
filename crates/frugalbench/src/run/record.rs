//! What was measured → the result: one [`RunRecord`] built from the plan, the machine and the
//! protocol's measurements, turned into a [`RunResult`] by `frugalbench-schema` in one step.

use std::collections::HashSet;

use anyhow::{Context as _, Result};
use frugalbench_meter::{DomainKind, IdleBaseline, Meter, OverallMethod};
use frugalbench_schema::{
    GenerationRecord, Hardware, Harness, Model, ModelFile, RepetitionRecord, RunRecord, RunResult,
    Settings, Slurm, Status,
};
use frugalbench_workloads::datasets::LoadedDataset;
use frugalbench_workloads::fetch::ModelFiles;
use frugalbench_workloads::{QueryOutcome, Runner, Task};

use super::protocol::Measured;
use super::{Job, RunPlan};

/// What the machine is and how it is metered: the same for every job of a run.
pub struct Machine {
    pub hardware: Hardware,
    /// Over the counted domains of the meter's sources.
    pub method: OverallMethod,
    pub idle_watts: Option<f64>,
    /// The meter's set-up notes.
    meter_notes: Vec<String>,
}

impl Machine {
    /// This machine, as its meter sees it.
    pub fn detect(meter: &Meter, idle: Option<&IdleBaseline>) -> Result<Machine> {
        let domains = meter.domains();
        let method = OverallMethod::of(domains.iter().map(|d| d.kind_method()))
            .context("the meter has no domain that counts in totals (CPU package, DRAM or GPU)")?;
        let gpus = domains
            .iter()
            .filter(|d| d.kind == DomainKind::Gpu)
            .map(|d| d.name.clone())
            .collect();
        Ok(Machine {
            hardware: crate::hardware::detect(gpus),
            method,
            idle_watts: idle.map(|b| b.total_watts()),
            meter_notes: meter.notes(),
        })
    }
}

/// Everything a result is built from.
pub struct Inputs<'a> {
    pub plan: &'a RunPlan,
    pub job: &'a Job,
    pub files: &'a ModelFiles,
    pub dataset: &'a LoadedDataset,
    pub machine: &'a Machine,
    pub measured: &'a Measured,
    pub runner: &'a dyn Runner,
}

/// The first outcome of each dataset row (repetitions revisit the same rows).
fn unique_outcomes(outcomes: &[QueryOutcome]) -> Vec<QueryOutcome> {
    let mut seen = HashSet::new();
    outcomes
        .iter()
        .filter(|o| seen.insert(o.item))
        .cloned()
        .collect()
}

/// The result of one job, built once from what was measured.
pub fn build(i: &Inputs) -> Result<RunResult> {
    let (plan, job, measured) = (i.plan, i.job, i.measured);
    let task = job.task;
    let all: Vec<QueryOutcome> = measured
        .outcomes
        .iter()
        .chain(&measured.unmetered_outcomes)
        .cloned()
        .collect();
    let unique = unique_outcomes(&all);
    let mut notes = i.machine.meter_notes.clone();
    // An interrupted run scored only part of the rows: no quality figure rather than a
    // misleading one.
    let origin = plan.dataset_origins.get(&task).cloned();
    let no_quality = origin.as_ref().and_then(|o| o.no_quality.clone());
    let quality = if let Some(reason) = &no_quality {
        notes.push(format!("quality: null: {reason}"));
        None
    } else if measured.interrupted {
        notes.push(format!(
            "quality not computed: the run was interrupted after {} of {} evaluation rows",
            unique.len(),
            i.dataset.eval_len()
        ));
        None
    } else if unique.is_empty() {
        None
    } else {
        Some(i.runner.quality(&unique)?)
    };

    for rep in &measured.repetitions {
        notes.extend(rep.measurement.notes.iter().cloned());
    }
    let mut seen = HashSet::new();
    notes.retain(|n| seen.insert(n.clone()));

    let repetitions = measured
        .repetitions
        .iter()
        .map(|rep| RepetitionRecord {
            queries: rep.queries as u64,
            wall_seconds: rep.measurement.duration_s,
            by_source: rep.measurement.sources(),
            prefill_joules: rep.phases.as_ref().map(|p| p.prefill_joules),
            decode_joules: rep.phases.as_ref().map(|p| p.decode_joules),
        })
        .collect();
    let is_gen = task == Task::TextGeneration;
    let generation = is_gen.then(|| GenerationRecord {
        ttft_ms: measured.ttft_ms.clone(),
        input_tokens: measured
            .outcomes
            .iter()
            .map(|o| o.input_tokens as u64)
            .sum(),
        generated_tokens: measured
            .outcomes
            .iter()
            .map(|o| o.output_tokens as u64)
            .sum(),
    });

    // Speech: the seconds of audio the metered queries read (each query its own clip).
    let audio_seconds = measured
        .outcomes
        .iter()
        .map(|o| i.runner.audio_seconds(o.item))
        .sum::<Option<f64>>()
        .filter(|_| !measured.outcomes.is_empty());

    let commit = env!("FRUGALBENCH_GIT_COMMIT");
    // As planned; an interrupted run's repetitions record how many were done.
    let queries = plan.queries_for(task) as u64;
    let record = RunRecord {
        harness: Harness {
            version: env!("CARGO_PKG_VERSION").into(),
            git_commit: (!commit.is_empty()).then(|| commit.to_string()),
        },
        model: Model {
            id: job.entry.id.clone(),
            arch: job.entry.arch.clone(),
            source: i.files.origin.clone(),
            revision: i.files.revision.clone(),
            files: i
                .files
                .files
                .iter()
                .map(|f| ModelFile {
                    name: f.name.clone(),
                    sha256: f.sha256.clone(),
                    bytes: f.bytes,
                })
                .collect(),
        },
        task,
        dataset: frugalbench_schema::Dataset {
            id: i.dataset.id.clone(),
            path: i.dataset.path.as_ref().map(|p| p.display().to_string()),
            sha256: i.dataset.sha256.clone(),
            rows: i.dataset.eval_len() as u64,
            queries,
            origin,
        },
        hardware: i.machine.hardware.clone(),
        settings: Settings {
            batch_size: plan.batch_size as u64,
            threads: plan.threads as u64,
            warmup_queries: plan.warmup as u64,
            repetitions: plan.repetitions as u64,
            queries,
            dtype: i.runner.dtype(),
            device: plan.device_name.clone(),
            // Summarization generates too (greedily, up to this cap).
            max_new_tokens: match i.runner.token_cap() {
                Some(cap) => Some(cap as u64),
                None => (is_gen || task == Task::Summarization)
                    .then_some(plan.generation.max_new_tokens as u64),
            },
            temperature: is_gen.then_some(plan.generation.temperature),
            seed: (is_gen && plan.generation.temperature > 0.0).then_some(plan.generation.seed),
            prompt_format: i.runner.prompt_format(),
        },
        method: i.machine.method,
        idle_watts: i.machine.idle_watts,
        notes,
        carbon: plan.carbon.clone(),
        latencies_ms: measured.latencies_ms.clone(),
        quality,
        generation,
        audio_seconds,
        repetitions,
        status: if measured.interrupted {
            Status::Interrupted
        } else {
            Status::Complete
        },
        started_at: measured.started_at,
        finished_at: measured.finished_at,
        slurm: slurm_from_env(),
        timeline_csv: None,
    };
    let mut result = record.into_result();
    if let Some(preset) = &plan.preset {
        result.preset = Some(preset.record(&result));
    }
    Ok(result)
}

/// The Slurm job this run belongs to, from the variables Slurm sets.
fn slurm_from_env() -> Option<Slurm> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    Some(Slurm {
        job_id: var("SLURM_JOB_ID")?,
        array_job_id: var("SLURM_ARRAY_JOB_ID"),
        array_task_id: var("SLURM_ARRAY_TASK_ID"),
        node: var("SLURMD_NODENAME")
            .or_else(|| var("SLURM_NODELIST"))
            .unwrap_or_else(|| "unknown".into()),
    })
}
