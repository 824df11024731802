//! `frugalbench plan`: model × task jobs for a cluster, one `frugalbench run`
//! each; with `--slurm`, an `sbatch` job array that runs them.
//!
//! The plan folder's layout is described in [`format`]; `run --plan DIR
//! --job-index N` runs one job ([`resolve_run_args`], [`after_job`]) and
//! `frugalbench collect` gathers the results.

pub mod format;
mod job;
mod sbatch;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use frugalbench_schema::task;
use frugalbench_workloads::catalogue::Catalogue;
use frugalbench_workloads::Task;

pub use job::{after_job, resolve_run_args};

use format::{PlanJob, PlanMeta, SlurmSettings};

use crate::protocol_args::ProtocolArgs;

/// Options of `frugalbench plan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Catalogue ids of the models, comma-separated [default: the catalogue's
    /// default models].
    #[arg(long, value_name = "ID,ID", value_delimiter = ',')]
    pub models: Vec<String>,
    /// Tasks, comma-separated; each model runs those it declares [default:
    /// every task each model declares].
    #[arg(long, value_name = "TASK,TASK", value_delimiter = ',')]
    pub tasks: Vec<Task>,
    #[command(flatten)]
    pub protocol: ProtocolArgs,
    /// The plan folder to write.
    #[arg(long, value_name = "PLAN_DIR")]
    pub out: PathBuf,
    /// Replace an existing plan (only one that no job has written into yet).
    #[arg(long)]
    pub force: bool,
    /// Also write `PLAN_DIR/job.sbatch`, a Slurm job array with one index per job.
    #[arg(long)]
    pub slurm: bool,
    /// Slurm partition.
    #[arg(long, value_name = "P", requires = "slurm")]
    pub partition: Option<String>,
    /// Slurm time limit per job (e.g. 01:00:00).
    #[arg(long, value_name = "HH:MM:SS", requires = "slurm")]
    pub time: Option<String>,
    /// Slurm generic resources per job (e.g. gpu:1).
    #[arg(long, value_name = "GRES", requires = "slurm")]
    pub gres: Option<String>,
    /// CPUs per job.
    #[arg(long, value_name = "N", requires = "slurm")]
    pub cpus_per_task: Option<usize>,
    /// At most K array jobs at once (`--array=0-N%K`).
    #[arg(long, value_name = "K", requires = "slurm")]
    pub max_parallel: Option<usize>,
    /// Do not ask for whole nodes. Without --exclusive another job on the same
    /// node adds its energy to RAPL's and NVML's figures.
    #[arg(long, requires = "slurm")]
    pub no_exclusive: bool,
    /// More `frugalbench run` options for every job, as one shell-quoted string
    /// (e.g. "--idle-seconds 5 --country FR").
    #[arg(long, value_name = "ARGS", allow_hyphen_values = true)]
    pub extra_run_args: Option<String>,
}

/// Runs `frugalbench plan`; returns the exit code.
pub fn run(args: &Args) -> Result<i32> {
    args.protocol.check()?;
    check_numbers(args)?;
    let extra = match &args.extra_run_args {
        Some(text) => job::check_extra_args(text)?,
        None => Vec::new(),
    };
    let catalogue_path = args.protocol.catalogue_path()?;
    let catalogue = match &catalogue_path {
        Some(p) => Catalogue::load(p)?,
        None => Catalogue::builtin()?,
    };
    let pairs = choose_jobs(args, &catalogue)?;
    for (id, task) in &pairs {
        crate::protocol_args::check_job(catalogue.get(id)?, *task)?;
    }
    let datasets_catalogue = match &args.protocol.datasets_catalogue {
        Some(p) => Some(
            std::fs::canonicalize(p)
                .with_context(|| format!("cannot read dataset catalogue {}", p.display()))?,
        ),
        None => None,
    };
    let dataset = match &args.protocol.dataset {
        // A catalogue id stays an id (checked here, resolved by each job).
        Some(p) if !p.is_file() && args.protocol.check().is_ok() => {
            let id = p.to_string_lossy();
            args.protocol
                .load_datasets_catalogue()?
                .get(&id)
                .with_context(|| format!("dataset {} does not exist", p.display()))?;
            Some(p.clone())
        }
        Some(p) => Some(
            std::fs::canonicalize(p)
                .with_context(|| format!("dataset {} does not exist", p.display()))?,
        ),
        None => None,
    };
    if dataset.is_some() {
        let tasks: std::collections::BTreeSet<Task> = pairs.iter().map(|(_, t)| *t).collect();
        if tasks.len() > 1 {
            bail!("--dataset needs a plan with one task; the chosen models run {} tasks (name one with --tasks)", tasks.len());
        }
    }
    let jobs: Vec<PlanJob> = pairs
        .iter()
        .enumerate()
        .map(|(index, (model, task))| PlanJob {
            index,
            model: model.clone(),
            task: *task,
            queries: args.protocol.queries,
            repetitions: args.protocol.repetitions(),
            warmup: args.protocol.warmup(),
            dataset: dataset.clone(),
            threads: args.protocol.threads,
            extra_run_args: extra.clone(),
        })
        .collect();

    let dir = prepare_dir(&args.out, args.force)?;
    let binary = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .context("cannot find the path of this frugalbench binary")?;
    let slurm = args.slurm.then(|| SlurmSettings {
        partition: args.partition.clone(),
        time: args.time.clone(),
        gres: args.gres.clone(),
        cpus_per_task: args.cpus_per_task,
        max_parallel: args.max_parallel,
        exclusive: !args.no_exclusive,
    });
    let version = env!("CARGO_PKG_VERSION");
    // Render first: a path Slurm cannot carry fails before anything is written.
    let script = match &slurm {
        Some(s) => Some(sbatch::render(&dir, &binary, jobs.len(), s, version)?),
        None => None,
    };
    let meta = PlanMeta {
        format: format::PLAN_FORMAT,
        frugalbench_version: version.into(),
        created_at: chrono::Utc::now(),
        binary,
        plan_dir: dir.clone(),
        catalogue: catalogue_path,
        datasets_catalogue,
        results_dir: PathBuf::from(format::RESULTS_DIR),
        jobs: jobs.len(),
        slurm,
        command: std::env::args().collect(),
    };
    write_plan(&dir, &meta, &jobs, script.as_deref())?;
    print_summary(&args.out, &meta, &jobs);
    Ok(0)
}

fn check_numbers(args: &Args) -> Result<()> {
    for (name, v) in [
        ("--cpus-per-task", args.cpus_per_task),
        ("--max-parallel", args.max_parallel),
    ] {
        if v == Some(0) {
            bail!("{name} must be at least 1");
        }
    }
    for (name, v) in [("--partition", &args.partition), ("--gres", &args.gres)] {
        if let Some(v) = v {
            sbatch::check_value(name, v)?;
        }
    }
    if let Some(t) = &args.time {
        sbatch::check_time(t)?;
    }
    Ok(())
}

/// The (model, task) pairs of the plan, in catalogue order per model.
fn choose_jobs(args: &Args, catalogue: &Catalogue) -> Result<Vec<(String, Task)>> {
    let mut pairs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    if args.models.is_empty() {
        for (entry, task) in catalogue.defaults() {
            if args.tasks.is_empty() || args.tasks.contains(&task) {
                pairs.push((entry.id.clone(), task));
            }
        }
        if pairs.is_empty() {
            bail!("the catalogue has no default model for the chosen tasks; name models with --models");
        }
        return Ok(pairs);
    }
    for id in &args.models {
        if id.is_empty() {
            bail!("--models: empty model id (check the commas)");
        }
        let entry = catalogue.get(id)?;
        let tasks: Vec<Task> = if args.tasks.is_empty() {
            entry.tasks.clone()
        } else {
            args.tasks
                .iter()
                .copied()
                .filter(|t| entry.supports(*t))
                .collect()
        };
        if tasks.is_empty() {
            bail!(
                "model `{id}` declares none of the tasks {} (it declares: {})",
                task::list(&args.tasks),
                task::list(&entry.tasks)
            );
        }
        for task in tasks {
            if seen.insert((id.clone(), task)) {
                pairs.push((id.clone(), task));
            }
        }
    }
    Ok(pairs)
}

/// Creates the plan folder (absolute path returned); refuses to replace a plan
/// unless `force`, and never one whose jobs already wrote something.
fn prepare_dir(out: &Path, force: bool) -> Result<PathBuf> {
    let existing: Vec<&str> = [format::META_FILE, format::JOBS_FILE, format::SBATCH_FILE]
        .into_iter()
        .filter(|f| out.join(f).exists())
        .collect();
    if !existing.is_empty() && !force {
        bail!(
            "{} already holds a plan ({}); use --force to replace it, or choose another --out",
            out.display(),
            existing.join(", ")
        );
    }
    for sub in [format::RESULTS_DIR, format::MARKERS_DIR] {
        let d = out.join(sub);
        let used = std::fs::read_dir(&d)
            .map(|mut it| it.next().is_some())
            .unwrap_or(false);
        if used {
            bail!(
                "{} holds the outputs of an earlier plan's jobs; move it away or choose another --out",
                d.display()
            );
        }
    }
    std::fs::create_dir_all(out.join(format::LOGS_DIR))
        .with_context(|| format!("cannot create the plan folder {}", out.display()))?;
    std::fs::canonicalize(out).with_context(|| format!("cannot resolve {}", out.display()))
}

fn write_plan(dir: &Path, meta: &PlanMeta, jobs: &[PlanJob], script: Option<&str>) -> Result<()> {
    // plan.json goes last: a plan folder with plan.json is complete.
    let meta_path = dir.join(format::META_FILE);
    if meta_path.exists() {
        std::fs::remove_file(&meta_path)
            .with_context(|| format!("cannot replace {}", meta_path.display()))?;
    }
    let mut lines = String::new();
    for job in jobs {
        lines.push_str(&serde_json::to_string(job)?);
        lines.push('\n');
    }
    frugalbench_report::write_atomic(&dir.join(format::JOBS_FILE), lines.as_bytes(), true)?;
    let sbatch_path = dir.join(format::SBATCH_FILE);
    match script {
        Some(text) => frugalbench_report::write_atomic(&sbatch_path, text.as_bytes(), true)?,
        None if sbatch_path.exists() => std::fs::remove_file(&sbatch_path)
            .with_context(|| format!("cannot remove the stale {}", sbatch_path.display()))?,
        None => {}
    }
    let mut bytes = serde_json::to_vec_pretty(meta)?;
    bytes.push(b'\n');
    frugalbench_report::write_atomic(&meta_path, &bytes, true)
}

fn print_summary(shown: &Path, meta: &PlanMeta, jobs: &[PlanJob]) {
    let shown = shown.display();
    println!(
        "frugalbench: planned {} job(s) in {shown}/{}",
        jobs.len(),
        format::JOBS_FILE
    );
    for job in jobs {
        println!("  {:>4}  {}  {}", job.index, job.model, job.task);
    }
    if meta.slurm.is_some() {
        println!("\nsubmit:  sbatch {shown}/{}", format::SBATCH_FILE);
    } else {
        println!(
            "\nrun job N (0 to {}):  frugalbench run --plan {shown} --job-index N",
            jobs.len() - 1
        );
    }
    println!("then:    frugalbench collect {shown}");
}
