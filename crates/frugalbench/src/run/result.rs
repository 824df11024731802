//! Turn what the protocol measured into a result file and a summary row.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use frugalbench_meter::{Carbon, IdleBaseline, Measurement, Meter};
use frugalbench_report as report;
use frugalbench_workloads::datasets::LoadedDataset;
use frugalbench_workloads::fetch::ModelFiles;
use frugalbench_workloads::{QueryOutcome, Runner, Task};
use serde::Serialize;

use super::protocol::Measured;
use super::{Job, RunArgs};
use crate::hardware::Hardware;

/// Everything about a run that is not a measurement.
pub struct Context<'a> {
    pub args: &'a RunArgs,
    pub job: &'a Job<'a>,
    pub files: &'a ModelFiles,
    pub dataset: &'a LoadedDataset,
    pub hardware: &'a Hardware,
    pub threads: usize,
    /// Metered queries per repetition, as planned.
    pub queries: usize,
    pub carbon: &'a Carbon,
    pub idle: Option<&'a IdleBaseline>,
    pub meter: &'a Meter,
    /// (About) when the meter started: timeline times count from here.
    pub meter_t0: std::time::Instant,
    pub dtype: String,
}

/// One row of the end-of-run table (and of `run --json`).
#[derive(Debug, Serialize)]
pub struct Summary {
    pub model: String,
    pub task: String,
    pub status: String,
    pub method: String,
    pub queries: u64,
    pub wh_per_1000_queries: f64,
    pub joules_per_query: f64,
    pub joules_per_query_ci95: Option<[f64; 2]>,
    pub net_joules_per_query: Option<f64>,
    pub quality_metric: Option<String>,
    pub quality: Option<f64>,
    pub joules_per_generated_token: Option<f64>,
    pub prefill_joules_per_input_token: Option<f64>,
    pub decode_joules_per_generated_token: Option<f64>,
    pub tokens_per_second: Option<f64>,
    pub result_file: PathBuf,
}

/// Convert a serde enum of one crate into the same-named enum of another.
fn convert<A: Serialize, B: serde::de::DeserializeOwned>(a: &A) -> Result<B> {
    serde_json::from_value(serde_json::to_value(a)?).context("converting a meter label")
}

fn sources(m: &Measurement) -> Result<Vec<report::SourceEnergy>> {
    m.domains
        .iter()
        .map(|d| {
            Ok(report::SourceEnergy {
                name: d.info.source.clone(),
                domain: d.info.name.clone(),
                kind: convert(&d.info.kind)?,
                method: convert(&d.info.method)?,
                joules: d.joules,
                avg_watts: d.avg_watts,
            })
        })
        .collect()
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

/// Build, check and write the result file; returns its summary row.
pub fn write(ctx: &Context, measured: &Measured, runner: &dyn Runner) -> Result<Summary> {
    let args = ctx.args;
    let task = ctx.job.task;
    let all: Vec<QueryOutcome> = measured
        .outcomes
        .iter()
        .chain(&measured.unmetered_outcomes)
        .cloned()
        .collect();
    let unique = unique_outcomes(&all);
    let quality = if unique.is_empty() {
        None
    } else {
        let q = runner.quality(&unique)?;
        Some(report::Quality {
            metric: q.metric,
            value: q.value,
            extra: q.extra.into_iter().collect::<BTreeMap<_, _>>(),
        })
    };

    let mut repetitions = Vec::new();
    let mut notes = ctx.meter.notes();
    for rep in &measured.repetitions {
        notes.extend(rep.measurement.notes.iter().cloned());
        repetitions.push(report::Repetition {
            index: rep.index as u64,
            queries: rep.queries as u64,
            wall_seconds: rep.measurement.duration_s,
            total_joules: 0.0,
            joules_per_query: 0.0,
            net_joules_per_query: None,
            by_source: sources(&rep.measurement)?,
            prefill_joules: rep.phases.as_ref().map(|p| p.prefill_joules),
            decode_joules: rep.phases.as_ref().map(|p| p.decode_joules),
        });
    }
    let mut seen = HashSet::new();
    notes.retain(|n| seen.insert(n.clone()));

    let generation = (task == Task::TextGeneration).then(|| report::Generation {
        prefill_joules: 0.0,
        decode_joules: 0.0,
        joules_per_generated_token: 0.0,
        joules_per_input_token: 0.0,
        prefill_joules_per_input_token: 0.0,
        decode_joules_per_generated_token: 0.0,
        time_to_first_token_ms: report::TtftMs::from_samples(&measured.ttft_ms).unwrap_or(
            report::TtftMs {
                p50: 0.0,
                p95: 0.0,
                mean: 0.0,
            },
        ),
        tokens_per_second: 0.0,
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

    let gpus = ctx
        .meter
        .domains()
        .iter()
        .filter(|d| matches!(d.kind, frugalbench_meter::DomainKind::Gpu))
        .map(|d| d.name.clone())
        .collect();
    let commit = env!("FRUGALBENCH_GIT_COMMIT");
    // As planned; an interrupted run's repetitions record how many were done.
    let queries_per_repetition = ctx.queries as u64;
    let mut result = report::RunResult {
        schema_version: report::SCHEMA_VERSION,
        harness: report::Harness {
            version: env!("CARGO_PKG_VERSION").into(),
            git_commit: (!commit.is_empty()).then(|| commit.to_string()),
        },
        model: report::Model {
            id: ctx.job.entry.id.clone(),
            arch: ctx.job.entry.arch.clone(),
            source: ctx.files.origin.clone(),
            revision: ctx.files.revision.clone(),
            files: ctx
                .files
                .files
                .iter()
                .map(|f| report::ModelFile {
                    name: f.name.clone(),
                    sha256: f.sha256.clone(),
                    bytes: f.bytes,
                })
                .collect(),
        },
        task: task.as_str().into(),
        dataset: report::Dataset {
            id: ctx.dataset.id.clone(),
            path: ctx.dataset.path.as_ref().map(|p| p.display().to_string()),
            sha256: ctx.dataset.sha256.clone(),
            rows: ctx.dataset.eval_len() as u64,
            queries: queries_per_repetition,
        },
        hardware: report::Hardware {
            cpu_model: ctx.hardware.cpu_model.clone(),
            physical_cores: ctx.hardware.physical_cores as u64,
            logical_cpus: ctx.hardware.logical_cpus as u64,
            memory_bytes: ctx.hardware.memory_bytes,
            gpus,
            os: ctx.hardware.os.clone(),
            kernel: ctx.hardware.kernel.clone(),
            hostname: ctx.hardware.hostname.clone(),
        },
        settings: report::Settings {
            batch_size: args.batch_size as u64,
            threads: ctx.threads as u64,
            warmup_queries: args.warmup as u64,
            repetitions: args.repetitions as u64,
            queries: queries_per_repetition,
            dtype: ctx.dtype.clone(),
            device: args.device.clone(),
            max_new_tokens: (task == Task::TextGeneration).then_some(args.max_new_tokens as u64),
            temperature: (task == Task::TextGeneration).then_some(args.temperature),
            seed: (task == Task::TextGeneration && args.temperature > 0.0).then_some(args.seed),
        },
        energy: report::Energy {
            method: report::EnergyMethod::Estimated,
            total_joules: 0.0,
            joules_per_query: 0.0,
            wh_per_1000_queries: 0.0,
            by_source: Vec::new(),
            idle_watts: ctx.idle.map(|b| b.total_watts()),
            net_joules_per_query: None,
            joules_per_query_ci95: None,
            notes,
        },
        carbon: report::Carbon {
            g_co2e: 0.0,
            grid_intensity_g_per_kwh: ctx.carbon.intensity_g_per_kwh,
            intensity_source: ctx.carbon.intensity_source.clone(),
            pue: ctx.carbon.pue,
            g_co2e_per_1000_queries: 0.0,
        },
        timing: report::Timing {
            wall_seconds: 0.0,
            queries_per_second: 0.0,
            latency_ms: report::LatencyMs::from_samples(&measured.latencies_ms).unwrap_or(
                report::LatencyMs {
                    p50: 0.0,
                    p95: 0.0,
                    p99: 0.0,
                    mean: 0.0,
                },
            ),
        },
        quality,
        generation,
        repetitions,
        status: if measured.interrupted {
            report::Status::Interrupted
        } else {
            report::Status::Complete
        },
        started_at: measured.started_at,
        finished_at: measured.finished_at,
        slurm: slurm_from_env(),
        timeline_csv: None,
    };
    result.fill_derived();

    let csv = timeline_csv(ctx, measured);
    let path = report::write_result(&args.out, &result, Some(csv.as_bytes()))?;
    eprintln!("frugalbench: wrote {}", path.display());
    if let Some(fitted) = runner.fitted_file() {
        // The head fitted on the train split, so the result can be reproduced.
        let beside = path.with_extension("head.json");
        let bytes = std::fs::read(fitted)
            .with_context(|| format!("cannot read the fitted head {}", fitted.display()))?;
        report::write_atomic(&beside, &bytes, false)?;
        eprintln!("frugalbench: wrote {}", beside.display());
    }
    if args.save_outputs {
        let outputs = path.with_extension("outputs.jsonl");
        let mut text = String::new();
        for o in &measured.outcomes {
            text.push_str(&serde_json::to_string(o)?);
            text.push('\n');
        }
        report::write_atomic(&outputs, text.as_bytes(), false)?;
        eprintln!("frugalbench: wrote {}", outputs.display());
    }

    let g = result.generation.as_ref();
    Ok(Summary {
        model: result.model.id.clone(),
        task: result.task.clone(),
        status: crate::measure::label(&result.status),
        method: crate::measure::label(&result.energy.method),
        queries: result.total_queries(),
        wh_per_1000_queries: result.energy.wh_per_1000_queries,
        joules_per_query: result.energy.joules_per_query,
        joules_per_query_ci95: result.energy.joules_per_query_ci95,
        net_joules_per_query: result.energy.net_joules_per_query,
        quality_metric: result.quality.as_ref().map(|q| q.metric.clone()),
        quality: result.quality.as_ref().map(|q| q.value),
        joules_per_generated_token: g.map(|g| g.joules_per_generated_token),
        prefill_joules_per_input_token: g.map(|g| g.prefill_joules_per_input_token),
        decode_joules_per_generated_token: g.map(|g| g.decode_joules_per_generated_token),
        tokens_per_second: g.map(|g| g.tokens_per_second),
        result_file: path,
    })
}

/// The meter's power timeline over this run's metered repetitions, as CSV:
/// `t_s` (seconds since the first repetition began), then watts per domain.
fn timeline_csv(ctx: &Context, measured: &Measured) -> String {
    let from = measured
        .metered_from
        .saturating_duration_since(ctx.meter_t0)
        .as_secs_f64();
    let to = measured
        .metered_to
        .saturating_duration_since(ctx.meter_t0)
        .as_secs_f64();
    let mut out = String::from("t_s");
    for d in ctx.meter.domains() {
        out.push_str(&format!(
            ",{}/{} W ({})",
            d.source,
            d.name,
            d.method.as_str()
        ));
    }
    out.push('\n');
    for s in ctx.meter.timeline() {
        if s.t_s < from || s.t_s > to {
            continue;
        }
        out.push_str(&format!("{:.3}", s.t_s - from));
        for w in &s.watts {
            out.push_str(&format!(",{w:.3}"));
        }
        out.push('\n');
    }
    out
}

/// The Slurm job this run belongs to, from the variables Slurm sets.
fn slurm_from_env() -> Option<report::Slurm> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    Some(report::Slurm {
        job_id: var("SLURM_JOB_ID")?,
        array_job_id: var("SLURM_ARRAY_JOB_ID"),
        array_task_id: var("SLURM_ARRAY_TASK_ID"),
        node: var("SLURMD_NODENAME")
            .or_else(|| var("SLURM_NODELIST"))
            .unwrap_or_else(|| "unknown".into()),
    })
}

/// Relative 95% CI half-width of J/query above which a result is called noisy.
const NOISY_CI: f64 = 0.10;

/// Things the reader of the table should know (as hyperfine warns about noise).
pub fn warnings(rows: &[Summary]) -> Vec<String> {
    let mut out = Vec::new();
    for r in rows {
        if let Some([lo, hi]) = r.joules_per_query_ci95 {
            let half = (hi - lo) / 2.0;
            if r.joules_per_query > 0.0 && half / r.joules_per_query > NOISY_CI {
                out.push(format!(
                    "{} on {}: J/query varies by ±{:.0}% (95% CI) across repetitions; \
                     the figure is noisy: use more --queries or --repetitions, or a quieter machine",
                    r.model,
                    r.task,
                    100.0 * half / r.joules_per_query
                ));
            }
        }
    }
    if rows.iter().any(|r| r.method != "measured") {
        out.push(
            "some figures are estimated, not measured: no hardware energy counter was readable \
             for every domain (see `frugalbench probe` for why and how to fix it)"
                .into(),
        );
    }
    out
}

/// The end-of-run table.
pub fn table(rows: &[Summary]) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "model",
        "task",
        "Wh/1k queries",
        "J/query ± 95% CI",
        "quality",
        "J/token prefill | decode",
        "tokens/s",
        "method",
    ]);
    for r in rows {
        // The interval is symmetric about the mean; "± half-width" reads
        // better than a range whose lower end can dip below 0 with few repetitions.
        let ci = r
            .joules_per_query_ci95
            .map(|[lo, hi]| format!(" ± {:.4}", (hi - lo) / 2.0))
            .unwrap_or_default();
        let quality = match (&r.quality_metric, r.quality) {
            (Some(m), Some(v)) => format!("{m} {v:.3}"),
            _ => "-".into(),
        };
        let per_token = match (
            r.prefill_joules_per_input_token,
            r.decode_joules_per_generated_token,
        ) {
            (Some(p), Some(d)) => format!("{p:.4} | {d:.4}"),
            _ => "-".into(),
        };
        let tps = r
            .tokens_per_second
            .map(|v| format!("{v:.1}"))
            .unwrap_or_else(|| "-".into());
        let status = if r.status == "complete" {
            String::new()
        } else {
            format!(" [{}]", r.status)
        };
        t.add_row(vec![
            Cell::new(&r.model),
            Cell::new(&r.task),
            Cell::new(format!("{:.4}", r.wh_per_1000_queries)).set_alignment(CellAlignment::Right),
            Cell::new(format!("{:.4}{ci}", r.joules_per_query)).set_alignment(CellAlignment::Right),
            Cell::new(quality),
            Cell::new(per_token).set_alignment(CellAlignment::Right),
            Cell::new(tps).set_alignment(CellAlignment::Right),
            Cell::new(format!("{}{status}", r.method)),
        ]);
    }
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(jpq: f64, ci: Option<[f64; 2]>, method: &str) -> Summary {
        Summary {
            model: "m".into(),
            task: "sentence-similarity".into(),
            status: "complete".into(),
            method: method.into(),
            queries: 10,
            wh_per_1000_queries: jpq / 3.6,
            joules_per_query: jpq,
            joules_per_query_ci95: ci,
            net_joules_per_query: None,
            quality_metric: None,
            quality: None,
            joules_per_generated_token: None,
            prefill_joules_per_input_token: None,
            decode_joules_per_generated_token: None,
            tokens_per_second: None,
            result_file: PathBuf::from("x.json"),
        }
    }

    #[test]
    fn warns_about_noise_and_estimates_only_when_due() {
        // ±5%: quiet, measured: no warning.
        assert!(warnings(&[row(1.0, Some([0.95, 1.05]), "measured")]).is_empty());
        // ±20%: noisy.
        let w = warnings(&[row(1.0, Some([0.8, 1.2]), "measured")]);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("±20%"), "{w:?}");
        // Estimated or mixed figures are called out once.
        let w = warnings(&[row(1.0, None, "estimated"), row(1.0, None, "mixed")]);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("estimated, not measured"), "{w:?}");
    }
}
