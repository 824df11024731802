//! `frugalbench collect PLAN_DIR`: which of a plan's jobs are done, failed or
//! missing, and the valid results gathered into one folder laid out as
//! `<task>/<model>/<file>.json`, ready for `frugalbench leaderboard`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use frugalbench_report::{self as report, RunResult};
use serde::Serialize;

use crate::plan::format::{self, Plan, PlanJob};

/// Options of `frugalbench collect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The plan folder written by `frugalbench plan`.
    #[arg(value_name = "PLAN_DIR")]
    pub plan: PathBuf,
    /// Where to gather the valid results [default: PLAN_DIR/collected].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print the command that reruns the jobs not done.
    #[arg(long)]
    pub resubmit: bool,
    /// Print one JSON object on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// A valid, complete result.
    Done,
    /// An error file, or only invalid results.
    Failed,
    /// Only a result marked `interrupted` (Ctrl-C, SIGTERM at the time limit).
    Interrupted,
    /// Nothing yet: not run, still running, or killed without a word.
    Missing,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::Done => "done",
            State::Failed => "failed",
            State::Interrupted => "interrupted",
            State::Missing => "missing",
        }
    }
}

/// One job's line of the report.
#[derive(Debug, Serialize)]
pub struct JobReport {
    pub index: usize,
    pub model: String,
    pub task: String,
    pub state: State,
    /// The chosen result (the newest valid complete one).
    pub result: Option<PathBuf>,
    /// Its copy in the collected folder.
    pub collected: Option<PathBuf>,
    pub wh_per_1000_queries: Option<f64>,
    /// `measured` or `estimated`.
    pub method: Option<report::OverallMethod>,
    pub node: Option<String>,
    /// First line of the error file, or why a result was rejected.
    pub detail: Option<String>,
}

/// The whole report (`--json`).
#[derive(Debug, Serialize)]
pub struct Report {
    pub plan: PathBuf,
    pub collected_dir: PathBuf,
    pub jobs: Vec<JobReport>,
    pub done: usize,
    pub failed: usize,
    pub interrupted: usize,
    pub missing: usize,
    /// Indices to rerun (failed, interrupted, missing).
    pub resubmit: Vec<usize>,
    /// The command that reruns them.
    pub resubmit_command: Option<String>,
}

/// Runs `frugalbench collect`; exit 0 when every job is done, 1 otherwise.
pub fn run(args: &Args) -> Result<i32> {
    let plan = Plan::read(&args.plan)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.plan.join("collected"));
    let mut jobs = Vec::new();
    for job in &plan.jobs {
        let mut r = examine(&plan, job);
        if let (State::Done, Some(path)) = (r.state, &r.result) {
            r.collected = Some(gather(path, &out)?);
        }
        jobs.push(r);
    }
    let count = |s: State| jobs.iter().filter(|j| j.state == s).count();
    let resubmit: Vec<usize> = jobs
        .iter()
        .filter(|j| j.state != State::Done)
        .map(|j| j.index)
        .collect();
    let report = Report {
        plan: args.plan.clone(),
        collected_dir: out,
        done: count(State::Done),
        failed: count(State::Failed),
        interrupted: count(State::Interrupted),
        missing: count(State::Missing),
        resubmit_command: resubmit_command(&plan, &resubmit),
        resubmit,
        jobs,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report, args.resubmit);
    }
    Ok(if report.resubmit.is_empty() { 0 } else { 1 })
}

/// Looks at one job's results folder and error file.
fn examine(plan: &Plan, job: &PlanJob) -> JobReport {
    let mut r = JobReport {
        index: job.index,
        model: job.model.clone(),
        task: job.task.as_str().to_string(),
        state: State::Missing,
        result: None,
        collected: None,
        wh_per_1000_queries: None,
        method: None,
        node: None,
        detail: None,
    };
    let mut complete: Option<(PathBuf, RunResult)> = None;
    let mut complete_count = 0;
    let mut interrupted: Option<PathBuf> = None;
    let mut rejected: Option<String> = None;
    for path in format::json_files(&plan.results_dir(job.index)) {
        match check_result(&path, job) {
            Ok(res) if res.status == report::Status::Complete => {
                complete_count += 1;
                if complete
                    .as_ref()
                    .is_none_or(|(_, best)| res.started_at >= best.started_at)
                {
                    complete = Some((path, res));
                }
            }
            Ok(_) => interrupted = Some(path),
            Err(e) => rejected = Some(format!("{e:#}")),
        }
    }
    let error_file = format::error_file(&plan.dir, job.index);
    if let Some((path, res)) = complete {
        r.state = State::Done;
        r.wh_per_1000_queries = Some(res.energy.wh_per_1000_queries);
        r.method = Some(res.energy.method);
        r.node = res.slurm.as_ref().map(|s| s.node.clone());
        r.result = Some(path);
        // Say which choice was made when there was one to make.
        let mut why = Vec::new();
        if complete_count > 1 {
            why.push(format!(
                "the newest of {complete_count} complete results (by started_at)"
            ));
        }
        if error_file.is_file() {
            why.push(format!(
                "a complete result wins over the error file {}",
                error_file.display()
            ));
        }
        if interrupted.is_some() || rejected.is_some() {
            why.push("interrupted or invalid results beside it are ignored".into());
        }
        r.detail = (!why.is_empty()).then(|| why.join("; "));
        return r;
    }
    let error_line = error_file
        .is_file()
        .then(|| match std::fs::read_to_string(&error_file) {
            Ok(text) => text
                .lines()
                .next()
                .unwrap_or("(empty error file)")
                .to_string(),
            Err(e) => format!("cannot read {}: {e}", error_file.display()),
        });
    let (state, detail) = match (error_line, interrupted, rejected) {
        // Stopped at the time limit (SIGTERM) or by hand: its own error file says so.
        (Some(line), Some(_), _) if line.starts_with("interrupted") => (State::Interrupted, line),
        (Some(line), _, _) => (State::Failed, line),
        (None, _, Some(why)) => (State::Failed, format!("invalid result: {why}")),
        (None, Some(path), None) => (
            State::Interrupted,
            format!("interrupted result {}", path.display()),
        ),
        (None, None, None) => (
            State::Missing,
            "no result and no error file (not run yet, running, or killed)".into(),
        ),
    };
    r.state = state;
    r.detail = Some(detail);
    r
}

/// A result file that reads, passes the sanity rules and belongs to the job.
fn check_result(path: &Path, job: &PlanJob) -> Result<RunResult> {
    let res = report::read_result(path)?;
    let problems = report::sanity_check(&res);
    if !problems.is_empty() {
        bail!("{}: {}", path.display(), problems.join("; "));
    }
    if res.model.id != job.model || res.task != job.task {
        bail!(
            "{}: a result of {} on {}, not of this job ({} on {})",
            path.display(),
            res.model.id,
            res.task,
            job.model,
            job.task
        );
    }
    Ok(res)
}

/// Copies a result (and its timeline CSV) to `<out>/<task>/<model>/<name>`;
/// returns the copy's path. An identical copy already there is fine; a
/// different file of the same name is an error.
fn gather(result: &Path, out: &Path) -> Result<PathBuf> {
    let res = report::read_result(result)?;
    let dir = out
        .join(report::path_component(res.task.as_str()))
        .join(report::path_component(&res.model.id));
    let name = result
        .file_name()
        .context("a result path without a file name")?;
    let dest = dir.join(name);
    copy_once(result, &dest)?;
    if let Some(csv) = report::timeline_path(result, &res) {
        if csv.is_file() {
            let csv_name = csv.file_name().context("timeline without a file name")?;
            copy_once(&csv, &dir.join(csv_name))?;
        }
    }
    Ok(dest)
}

fn copy_once(from: &Path, to: &Path) -> Result<()> {
    let bytes = std::fs::read(from).with_context(|| format!("cannot read {}", from.display()))?;
    if to.exists() {
        let there = std::fs::read(to).with_context(|| format!("cannot read {}", to.display()))?;
        if there == bytes {
            return Ok(());
        }
        bail!(
            "{} already exists with other content; collect into an empty --out folder",
            to.display()
        );
    }
    report::write_atomic(to, &bytes, false)
}

/// `sbatch --array=1-2,5[%K] PLAN/job.sbatch`, or `run --plan` lines without Slurm.
fn resubmit_command(plan: &Plan, indices: &[usize]) -> Option<String> {
    if indices.is_empty() {
        return None;
    }
    let dir = plan.dir.display();
    let script = plan.dir.join(format::SBATCH_FILE);
    match &plan.meta.slurm {
        Some(s) if script.is_file() => {
            let limit = s.max_parallel.map(|k| format!("%{k}")).unwrap_or_default();
            Some(format!(
                "sbatch --array={}{limit} {}",
                format::index_ranges(indices),
                script.display()
            ))
        }
        _ => Some(format!(
            "for i in {}; do frugalbench run --plan {dir} --job-index $i; done",
            indices
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        )),
    }
}

fn print_text(report: &Report, resubmit: bool) {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "job",
        "model",
        "task",
        "state",
        "Wh/1k queries",
        "node",
        "detail",
    ]);
    for j in &report.jobs {
        let wh = match (j.wh_per_1000_queries, &j.method) {
            (Some(v), Some(m)) => format!("{v:.4} ({m})"),
            _ => "-".into(),
        };
        let detail = match (&j.collected, &j.detail) {
            (Some(p), Some(d)) => format!("{} ({d})", p.display()),
            (Some(p), None) => p.display().to_string(),
            (None, Some(d)) => d.clone(),
            (None, None) => String::new(),
        };
        t.add_row(vec![
            Cell::new(j.index).set_alignment(CellAlignment::Right),
            Cell::new(&j.model),
            Cell::new(&j.task),
            Cell::new(j.state.as_str()),
            Cell::new(wh).set_alignment(CellAlignment::Right),
            Cell::new(j.node.as_deref().unwrap_or("-")),
            Cell::new(detail),
        ]);
    }
    println!("{t}");
    println!(
        "{} job(s): {} done, {} failed, {} interrupted, {} missing; {} result(s) gathered in {}",
        report.jobs.len(),
        report.done,
        report.failed,
        report.interrupted,
        report.missing,
        report.done,
        report.collected_dir.display()
    );
    if let Some(cmd) = &report.resubmit_command {
        if resubmit {
            println!("rerun: {cmd}");
        } else {
            println!("(--resubmit prints the command that reruns the jobs not done)");
        }
    } else {
        println!(
            "every job is done; build the leaderboard from {}",
            report.collected_dir.display()
        );
    }
}
