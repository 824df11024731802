//! `frugalbench run`: the metered protocol.
//!
//! The options ([`RunArgs`]) are resolved once into a [`RunPlan`] (models, tasks, datasets read
//! and checked, settings, device, threads, meter, carbon); then for each (model, task): fetch
//! the model, load it, warm up (not metered), meter `queries` queries `repetitions` times, each
//! repetition in its own meter window ([`protocol`]), build the result from what was measured
//! ([`record`]) and write it ([`write`]). [`summary`] prints the table and typed warnings.

mod protocol;
mod record;
mod resolve;
mod summary;
mod write;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};
use frugalbench_meter::Meter;
use frugalbench_workloads::{fetch, runners, RunnerOptions, Task};

use crate::meter_args::MeterArgs;
use crate::protocol_args::ProtocolArgs;

pub use resolve::{Job, RunPlan};

/// Options of `frugalbench run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Catalogue id of a model to run (repeatable). Without it, every entry
    /// marked `default = true` in the catalogue runs on each of its tasks.
    #[arg(long = "model", short = 'm', value_name = "ID")]
    pub models: Vec<String>,
    /// Only run this task (sentence-similarity, text-classification,
    /// text-generation, summarization, question-answering, image-classification,
    /// automatic-speech-recognition, audio-classification,
    /// object-detection — alias smoke-detection); default: every task the chosen models declare.
    #[arg(long, value_name = "TASK")]
    pub task: Option<Task>,
    /// Follow an anchor's protocol: `ai-energy-score` or `frugal-ai` (`frugalbench presets`
    /// lists what each fixes). Options given explicitly override the preset's values.
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,
    #[command(flatten)]
    pub protocol: ProtocolArgs,
    /// Queries per forward pass (text generation supports 1 only).
    #[arg(long, value_name = "B", default_value_t = 1)]
    pub batch_size: usize,
    /// Device to run on: `cpu`, or `cuda:N` (needs a build with `--features cuda`).
    #[arg(long, value_name = "DEV", default_value = "cpu")]
    pub device: String,
    /// New tokens per query for text generation (min = max, as AI Energy Score fixes it); for
    /// summarization, the cap on a summary's tokens (greedy, stops at end-of-sequence).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_new_tokens: usize,
    /// Sampling temperature for text generation; 0 = greedy.
    #[arg(long, value_name = "T", default_value_t = 0.0)]
    pub temperature: f64,
    /// Seed for sampling (used when --temperature > 0).
    #[arg(long, value_name = "S", default_value_t = 299_792_458)]
    pub seed: u64,
    /// Also write every query's output (generated text, label, similarity)
    /// next to the result, as `<result>.outputs.jsonl`.
    #[arg(long)]
    pub save_outputs: bool,
    /// Folder for result files (`<out>/<task>/<model>/<UTC time>.json`).
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub out: PathBuf,
    /// Where fetched models and fitted heads are cached
    /// [default: $FRUGALBENCH_CACHE, else ~/.cache/frugalbench].
    #[arg(long, value_name = "DIR", env = "FRUGALBENCH_CACHE")]
    pub cache_dir: Option<PathBuf>,
    /// Never touch the network: use the caches and local paths only.
    #[arg(long)]
    pub offline: bool,
    /// Print the results as one JSON array on stdout.
    #[arg(long)]
    pub json: bool,
    /// Run one job of a plan written by `frugalbench plan` (with --job-index).
    #[arg(long, value_name = "PLAN_DIR", requires = "job_index")]
    pub plan: Option<PathBuf>,
    /// Which job of --plan to run (Slurm: $SLURM_ARRAY_TASK_ID).
    #[arg(long, value_name = "N", requires = "plan")]
    pub job_index: Option<usize>,
    #[command(flatten)]
    pub meter: MeterArgs,
}

/// `frugalbench run`; `matches` are the parsed `run` options (where each came from).
pub fn run(args: &RunArgs, matches: &clap::ArgMatches) -> Result<i32> {
    crate::presets::check_not_in_plan(args)?;
    if args.plan.is_none() {
        let (args, preset) = crate::presets::apply(args, matches)?;
        return execute(&RunPlan::resolve_with(&args, preset)?);
    }
    // A job of a plan: the plan supplies model, task and settings, and a
    // failure leaves an error file in the plan instead of a result.
    let resolved = crate::plan::resolve_run_args(args, matches)?;
    let outcome = RunPlan::resolve(&resolved).and_then(|plan| execute(&plan));
    crate::plan::after_job(&resolved, &outcome)?;
    outcome
}

/// Runs every job of a resolved plan; returns the exit code.
fn execute(plan: &RunPlan) -> Result<i32> {
    // Candle's CPU pools read these when first used.
    frugalbench_workloads::cpu_threads::configure(plan.threads);

    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let flag = interrupted.clone();
        ctrlc::set_handler(move || {
            if flag.swap(true, Ordering::SeqCst) {
                // A second Ctrl-C means: stop now.
                std::process::exit(130);
            }
            eprintln!(
                "\nfrugalbench: interrupted; saving what was measured (Ctrl-C again to quit now)"
            );
        })
        .context("cannot install the Ctrl-C handler")?;
    }

    let meter = Meter::start(&plan.meter).context("cannot start the energy meter")?;
    let methods: Vec<String> = meter
        .domains()
        .iter()
        .filter(|d| d.kind.counts_in_total())
        .map(|d| format!("{} {} ({})", d.source, d.name, d.method))
        .collect();
    eprintln!("frugalbench: metering {}", methods.join(", "));
    if !plan.idle.is_zero() {
        eprintln!(
            "frugalbench: measuring idle power for {:.1} s...",
            plan.idle.as_secs_f64()
        );
    }
    let idle = meter.idle_baseline_or_stop(plan.idle, &interrupted)?;
    if interrupted.load(Ordering::SeqCst) {
        meter.stop();
        eprintln!("frugalbench: interrupted during the idle baseline; nothing was run");
        return Ok(130);
    }
    let machine = record::Machine::detect(&meter, idle.as_ref())?;

    let mut summaries = Vec::new();
    let mut failures = 0;
    // Models fetched (and hashed) once per run, even when they serve several tasks.
    let mut fetched: std::collections::HashMap<String, fetch::ModelFiles> = Default::default();
    for job in &plan.jobs {
        if interrupted.load(Ordering::SeqCst) {
            break;
        }
        let label = format!("{} on {}", job.entry.id, job.task);
        eprintln!("\nfrugalbench: {label}");
        let outcome = (|| -> Result<summary::Row> {
            let files = match fetched.get(&job.entry.id) {
                Some(files) => files,
                None => {
                    let files = fetch::fetch(&job.entry, &plan.fetch)
                        .with_context(|| format!("cannot get model `{}`", job.entry.id))?;
                    fetched.entry(job.entry.id.clone()).or_insert(files)
                }
            };
            let dataset = plan.dataset_for(job);
            let opts = RunnerOptions {
                device: plan.device.clone(),
                cache_dir: plan.fetch.cache_dir.clone(),
                max_new_tokens: plan.generation.max_new_tokens,
                temperature: plan.generation.temperature,
                seed: plan.generation.seed,
            };
            let mut runner = runners::load(&job.entry, job.task, files, dataset, &opts)
                .with_context(|| {
                    format!("cannot load model `{}` for {}", job.entry.id, job.task)
                })?;
            let settings = plan.protocol_for(job.task);
            let measured = protocol::execute(runner.as_mut(), &meter, &settings, &interrupted)?;
            let result = record::build(&record::Inputs {
                plan,
                job,
                files,
                dataset,
                machine: &machine,
                measured: &measured,
                runner: runner.as_ref(),
            })?;
            let timeline =
                meter.timeline_csv(Some(measured.metered_from), Some(measured.metered_to));
            let path = write::write(plan, &result, &timeline, &measured, runner.as_ref())?;
            Ok(summary::Row::of(&result, path))
        })();
        match outcome {
            Ok(summary) => summaries.push(summary),
            // A planned job is one (model, task): its error goes to the plan's
            // error file whole, and to stderr once, from `main`.
            Err(err) if plan.stop_on_error => {
                meter.stop();
                return Err(err.context(label));
            }
            Err(err) => {
                failures += 1;
                eprintln!("error: {label}: {}", crate::cli::error_line(&err));
            }
        }
    }
    meter.stop();

    if plan.json {
        println!("{}", serde_json::to_string_pretty(&summaries)?);
    } else if !summaries.is_empty() {
        println!("{}", summary::table(&summaries));
    }
    for warning in summary::warnings(&summaries) {
        eprintln!("warning: {warning}");
    }
    if interrupted.load(Ordering::SeqCst) {
        return Ok(130);
    }
    Ok(if failures > 0 { 1 } else { 0 })
}
