//! `frugalbench run`: the metered protocol.
//!
//! For each (model, task): fetch the model, load it and the dataset, warm up
//! (not metered), then meter `queries` queries `repetitions` times, each
//! repetition in its own meter window whose energy comes from the counters at
//! its edges. Text generation additionally meters prefill and decode as
//! separate windows inside every query. Results are written atomically.

mod protocol;
mod result;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use frugalbench_meter::Meter;
use frugalbench_workloads::catalogue::{Catalogue, ModelEntry};
use frugalbench_workloads::{datasets, fetch, runners, RunnerOptions, Task};

use crate::meter_args::MeterArgs;

/// Options of `frugalbench run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Catalogue id of a model to run (repeatable). Without it, every entry
    /// marked `default = true` in the catalogue runs on each of its tasks.
    #[arg(long = "model", short = 'm', value_name = "ID")]
    pub models: Vec<String>,
    /// Only run this task (sentence-similarity, text-classification,
    /// text-generation); default: every task the chosen models declare.
    #[arg(long, value_name = "TASK")]
    pub task: Option<Task>,
    /// A JSONL or CSV dataset with the task's fields, instead of the shipped one
    /// (needs --task when the models declare more than one task).
    #[arg(long, value_name = "FILE")]
    pub dataset: Option<PathBuf>,
    /// Metered queries per repetition (the dataset is cycled if shorter)
    /// [default: 1000 for named models, 200 for the default suite].
    #[arg(long, short = 'n', value_name = "N")]
    pub queries: Option<usize>,
    /// How many times the metered block is repeated (for a confidence interval).
    #[arg(long, short = 'r', value_name = "R", default_value_t = 3)]
    pub repetitions: usize,
    /// Unmetered warm-up queries before the first repetition.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub warmup: usize,
    /// Queries per forward pass (text generation supports 1 only).
    #[arg(long, value_name = "B", default_value_t = 1)]
    pub batch_size: usize,
    /// CPU threads for Candle [default: the number of physical cores].
    #[arg(long, value_name = "T")]
    pub threads: Option<usize>,
    /// Device to run on: `cpu`, or `cuda:N` (needs a build with `--features cuda`).
    #[arg(long, value_name = "DEV", default_value = "cpu")]
    pub device: String,
    /// New tokens per query for text generation (min = max, as AI Energy Score fixes it).
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
    /// The model catalogue [default: ./models.toml if present, else the built-in one].
    #[arg(long, value_name = "FILE")]
    pub catalogue: Option<PathBuf>,
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

/// One (model, task) job.
pub struct Job<'a> {
    pub entry: &'a ModelEntry,
    pub task: Task,
}

pub fn run(args: &RunArgs) -> Result<i32> {
    if args.plan.is_none() {
        return run_jobs(args);
    }
    // A job of a plan: the plan supplies model, task and settings, and a
    // failure leaves an error file in the plan instead of a result.
    let resolved = crate::plan::resolve_run_args(args)?;
    let outcome = run_jobs(&resolved);
    crate::plan::after_job(&resolved, &outcome)?;
    outcome
}

fn run_jobs(args: &RunArgs) -> Result<i32> {
    validate(args)?;
    let catalogue = load_catalogue(args)?;
    let jobs = plan_jobs(args, &catalogue)?;
    let threads = args.threads.unwrap_or_else(default_threads);
    // Candle's CPU pools read these when first used.
    std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
    std::env::set_var("CANDLE_NUM_THREADS", threads.to_string());
    let device = parse_device(&args.device)?;
    // Datasets are read (and checked) before any metering starts, once per task.
    let mut datasets_by_task = std::collections::BTreeMap::new();
    for job in &jobs {
        if let std::collections::btree_map::Entry::Vacant(slot) = datasets_by_task.entry(job.task) {
            slot.insert(match &args.dataset {
                Some(path) => datasets::load(job.task, path)?,
                None => datasets::builtin(job.task)?,
            });
        }
    }
    let queries = args
        .queries
        .unwrap_or(if args.models.is_empty() { 200 } else { 1000 });

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

    let carbon = args.meter.carbon()?;
    let meter = Meter::start(&args.meter.config()?).context("cannot start the energy meter")?;
    let meter_t0 = std::time::Instant::now();
    let methods: Vec<String> = meter
        .domains()
        .iter()
        .filter(|d| d.kind.counts_in_total())
        .map(|d| {
            format!(
                "{} {} ({})",
                d.source,
                d.name,
                crate::measure::label(&d.method)
            )
        })
        .collect();
    eprintln!("frugalbench: metering {}", methods.join(", "));
    let idle_for = args.meter.idle()?;
    if !idle_for.is_zero() {
        eprintln!(
            "frugalbench: measuring idle power for {:.1} s...",
            idle_for.as_secs_f64()
        );
    }
    let idle = meter.idle_baseline(idle_for)?;
    let hardware = crate::hardware::detect();
    let fetch_opts = fetch::FetchOptions {
        cache_dir: args
            .cache_dir
            .clone()
            .unwrap_or_else(fetch::default_cache_dir),
        offline: args.offline,
        verbose: true,
    };

    let mut summaries = Vec::new();
    let mut failures = 0;
    // Models fetched (and hashed) once per run, even when they serve several tasks.
    let mut fetched: std::collections::HashMap<String, fetch::ModelFiles> = Default::default();
    for job in &jobs {
        if interrupted.load(Ordering::SeqCst) {
            break;
        }
        let label = format!("{} on {}", job.entry.id, job.task);
        eprintln!("\nfrugalbench: {label}");
        let outcome = (|| -> Result<result::Summary> {
            let files = match fetched.get(&job.entry.id) {
                Some(files) => files,
                None => {
                    let files = fetch::fetch(job.entry, &fetch_opts)
                        .with_context(|| format!("cannot get model `{}`", job.entry.id))?;
                    fetched.entry(job.entry.id.clone()).or_insert(files)
                }
            };
            let dataset = &datasets_by_task[&job.task];
            let opts = RunnerOptions {
                device: device.clone(),
                cache_dir: fetch_opts.cache_dir.clone(),
                max_new_tokens: args.max_new_tokens,
                temperature: args.temperature,
                seed: args.seed,
            };
            let mut runner = runners::load(job.entry, job.task, files, dataset, &opts)
                .with_context(|| {
                    format!("cannot load model `{}` for {}", job.entry.id, job.task)
                })?;
            let settings = protocol::Settings {
                queries,
                repetitions: args.repetitions,
                warmup: args.warmup,
                batch_size: args.batch_size,
                // Generation has no gold answers: no point in the extra pass.
                complete_quality: job.task != Task::TextGeneration,
            };
            let measured = protocol::execute(runner.as_mut(), &meter, &settings, &interrupted)?;
            let ctx = result::Context {
                args,
                job,
                files,
                dataset,
                hardware: &hardware,
                threads,
                queries,
                carbon: &carbon,
                idle: idle.as_ref(),
                meter: &meter,
                meter_t0,
                dtype: runner.dtype(),
            };
            result::write(&ctx, &measured, runner.as_ref())
        })();
        match outcome {
            Ok(summary) => summaries.push(summary),
            // A planned job is one (model, task): its error goes to the plan's
            // error file whole, and to stderr once, from `main`.
            Err(err) if args.plan.is_some() => {
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

    if args.json {
        println!("{}", serde_json::to_string_pretty(&summaries)?);
    } else if !summaries.is_empty() {
        println!("{}", result::table(&summaries));
    }
    for warning in result::warnings(&summaries) {
        eprintln!("warning: {warning}");
    }
    if interrupted.load(Ordering::SeqCst) {
        return Ok(130);
    }
    Ok(if failures > 0 { 1 } else { 0 })
}

fn validate(args: &RunArgs) -> Result<()> {
    if args.repetitions == 0 {
        bail!("--repetitions must be at least 1");
    }
    if args.batch_size == 0 {
        bail!("--batch-size must be at least 1");
    }
    if args.queries == Some(0) {
        bail!("--queries must be at least 1");
    }
    if args.threads == Some(0) {
        bail!("--threads must be at least 1");
    }
    if !(args.temperature.is_finite() && args.temperature >= 0.0) {
        bail!("--temperature must be 0 (greedy) or positive");
    }
    if args.max_new_tokens == 0 {
        bail!("--max-new-tokens must be at least 1");
    }
    if let Some(path) = &args.dataset {
        if !path.is_file() {
            bail!("dataset {} does not exist or is not a file", path.display());
        }
    }
    Ok(())
}

fn load_catalogue(args: &RunArgs) -> Result<Catalogue> {
    match &args.catalogue {
        Some(path) => Catalogue::load(path),
        None if std::path::Path::new("models.toml").is_file() => Catalogue::load("models.toml"),
        None => Catalogue::builtin(),
    }
}

fn plan_jobs<'a>(args: &RunArgs, catalogue: &'a Catalogue) -> Result<Vec<Job<'a>>> {
    let mut jobs = Vec::new();
    if args.models.is_empty() {
        for (entry, task) in catalogue.defaults() {
            if args.task.is_none_or(|t| t == task) {
                jobs.push(Job { entry, task });
            }
        }
        if jobs.is_empty() {
            bail!("the catalogue has no default model for the chosen task; name one with --model");
        }
    } else {
        for id in &args.models {
            let entry = catalogue.get(id)?;
            match args.task {
                Some(task) if entry.tasks.contains(&task) => jobs.push(Job { entry, task }),
                Some(task) => bail!(
                    "model `{id}` does not declare task {task} (it declares: {})",
                    entry
                        .tasks
                        .iter()
                        .map(|t| t.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => jobs.extend(entry.tasks.iter().map(|&task| Job { entry, task })),
            }
        }
    }
    if args.dataset.is_some() {
        let tasks: std::collections::BTreeSet<Task> = jobs.iter().map(|j| j.task).collect();
        if tasks.len() > 1 {
            bail!("--dataset needs --task when the chosen models run more than one task");
        }
    }
    Ok(jobs)
}

fn default_threads() -> usize {
    sysinfo::System::physical_core_count()
        .ok()
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(1)
        .max(1)
}

fn parse_device(spec: &str) -> Result<candle_core::Device> {
    if spec == "cpu" {
        return Ok(candle_core::Device::Cpu);
    }
    if let Some(ord) = spec.strip_prefix("cuda") {
        let ordinal = match ord.strip_prefix(':') {
            Some(n) => n
                .parse::<usize>()
                .with_context(|| format!("bad --device `{spec}`: expected cuda:N"))?,
            None if ord.is_empty() => 0,
            None => bail!("bad --device `{spec}`: expected cpu or cuda:N"),
        };
        return candle_core::Device::new_cuda(ordinal).with_context(|| {
            format!("cannot open {spec} (is this binary built with `--features cuda`?)")
        });
    }
    bail!("bad --device `{spec}`: expected cpu or cuda:N")
}
