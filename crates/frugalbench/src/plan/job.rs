//! `frugalbench run --plan DIR --job-index N`: one job of a plan.
//!
//! The plan fixes the job: its model, task, settings and extra `run` options.
//! On the `run` command line only what describes the machine may be added
//! (`--cache-dir`, `--offline`, `--powercap-root`, `--no-nvml`) plus `--json`;
//! any other option is refused rather than silently ignored.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::Utc;
use clap::parser::ValueSource;
use clap::{Args as _, FromArgMatches as _};
use serde::Serialize;

use super::format::{self, Plan, PlanJob};
use crate::run::RunArgs;

/// `run` options a plan job sets itself; `--extra-run-args` may not set them.
pub const PLAN_OWNED: [&str; 13] = [
    "models",
    "preset",
    "task",
    "dataset",
    "queries",
    "repetitions",
    "warmup",
    "threads",
    "out",
    "catalogue",
    "datasets_catalogue",
    "plan",
    "job_index",
];

/// `run` options that may be given beside `--plan`: they describe the machine (or the output
/// format), not the job.
const MACHINE_OPTIONS: [&str; 8] = [
    "plan",
    "job_index",
    "json",
    "offline",
    "cache_dir",
    "powercap_root",
    "host_root",
    "no_nvml",
];

/// The `clap` command of `frugalbench run`'s options (no binary name).
fn run_command() -> clap::Command {
    RunArgs::augment_args(clap::Command::new("run").no_binary_name(true))
}

/// Parses `run` options (with their defaults and environment variables).
pub fn parse_run_args<I, T>(argv: I) -> Result<(RunArgs, clap::ArgMatches)>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let matches = run_command()
        .try_get_matches_from(argv)
        .map_err(clap_error)?;
    let args = RunArgs::from_arg_matches(&matches).map_err(clap_error)?;
    Ok((args, matches))
}

/// A clap error as one line (without the usage block).
fn clap_error(e: clap::Error) -> anyhow::Error {
    let text = e.render().to_string();
    let first = text.lines().next().unwrap_or("invalid options").trim();
    anyhow::anyhow!("{}", first.strip_prefix("error: ").unwrap_or(first))
}

/// Checks `--extra-run-args`: valid `run` options that leave the plan's own
/// settings alone. Returns them split into words.
pub fn check_extra_args(text: &str) -> Result<Vec<String>> {
    let words = shlex::split(text)
        .with_context(|| format!("--extra-run-args {text:?}: unbalanced quotes"))?;
    let (_, matches) =
        parse_run_args(&words).with_context(|| format!("--extra-run-args {text:?}"))?;
    let owned: Vec<String> = PLAN_OWNED
        .iter()
        .filter(|id| matches.value_source(id) == Some(ValueSource::CommandLine))
        .map(|id| option_name(id))
        .collect();
    if !owned.is_empty() {
        bail!(
            "--extra-run-args may not set {}: the plan sets them (use `frugalbench plan`'s own options)",
            owned.join(", ")
        );
    }
    Ok(words)
}

/// The command-line spelling of a `run` option id (`idle_seconds` → `--idle-seconds`).
fn option_name(id: &str) -> String {
    run_command()
        .get_arguments()
        .find(|a| a.get_id() == id)
        .and_then(|a| a.get_long())
        .map(|long| format!("--{long}"))
        .unwrap_or_else(|| id.to_string())
}

/// Ids of the options set on the command line (not defaults, not environment variables;
/// not the argument groups clap adds for flattened structs).
fn given_on_command_line(matches: &clap::ArgMatches) -> Vec<String> {
    let cmd = run_command();
    let mut ids: Vec<String> = matches
        .ids()
        .filter(|id| cmd.get_arguments().any(|a| a.get_id() == *id))
        .filter(|id| matches.value_source(id.as_str()) == Some(ValueSource::CommandLine))
        .map(|id| id.as_str().to_string())
        .collect();
    ids.sort();
    ids
}

/// The `run` arguments of one plan job.
pub fn job_argv(plan: &Plan, job: &PlanJob) -> Vec<OsString> {
    let mut argv: Vec<OsString> = Vec::new();
    let mut push = |k: &str, v: OsString| {
        argv.push(k.into());
        argv.push(v);
    };
    push("--model", job.model.clone().into());
    push("--task", job.task.as_str().into());
    push("--repetitions", job.repetitions.to_string().into());
    push("--warmup", job.warmup.to_string().into());
    if let Some(q) = job.queries {
        push("--queries", q.to_string().into());
    }
    if let Some(t) = job.threads {
        push("--threads", t.to_string().into());
    }
    if let Some(d) = &job.dataset {
        push("--dataset", d.clone().into());
    }
    if let Some(c) = &plan.meta.catalogue {
        push("--catalogue", c.clone().into());
    }
    if let Some(c) = &plan.meta.datasets_catalogue {
        push("--datasets-catalogue", c.clone().into());
    }
    push("--out", plan.results_dir(job.index).into());
    argv.extend(job.extra_run_args.iter().map(OsString::from));
    argv
}

/// Options given to `run --plan` on the command line that the plan owns.
fn conflicting_options(matches: &clap::ArgMatches) -> Vec<String> {
    let mut names: Vec<String> = given_on_command_line(matches)
        .iter()
        .filter(|id| !MACHINE_OPTIONS.contains(&id.as_str()))
        .map(|id| option_name(id))
        .collect();
    names.sort();
    names
}

/// `run --plan DIR --job-index N`: the options of job N, with the machine's
/// own options (cache, counters) and `--json` from the command line.
pub fn resolve_run_args(args: &RunArgs, matches: &clap::ArgMatches) -> Result<RunArgs> {
    let (Some(dir), Some(index)) = (&args.plan, args.job_index) else {
        bail!("--plan and --job-index go together");
    };
    let conflicts = conflicting_options(matches);
    if !conflicts.is_empty() {
        bail!(
            "{} cannot be combined with --plan: the plan sets the job's options \
             (rewrite it with `frugalbench plan ... --extra-run-args`)",
            conflicts.join(", ")
        );
    }
    let plan = Plan::read(dir)?;
    let job = plan.job(index)?;
    let (mut resolved, _) = parse_run_args(job_argv(&plan, job)).with_context(|| {
        format!(
            "job {index} of {}: invalid options in the plan",
            dir.display()
        )
    })?;
    resolved.plan = Some(dir.clone());
    resolved.job_index = Some(index);
    // The machine's own options: from the command line or the environment, not defaults.
    let given = |id: &str| {
        matches
            .value_source(id)
            .is_some_and(|s| s != ValueSource::DefaultValue)
    };
    resolved.json = args.json;
    resolved.offline |= args.offline;
    resolved.meter.no_nvml |= args.meter.no_nvml;
    if given("cache_dir") {
        resolved.cache_dir = args.cache_dir.clone();
    }
    if given("powercap_root") {
        resolved.meter.powercap_root = args.meter.powercap_root.clone();
    }
    if given("host_root") {
        resolved.meter.host_root = args.meter.host_root.clone();
    }
    eprintln!(
        "frugalbench: plan {} job {index}: {} on {}",
        dir.display(),
        job.model,
        job.task
    );
    Ok(resolved)
}

/// The Slurm ids and host of this process, for the markers.
#[derive(Debug, Serialize)]
struct Where {
    host: Option<String>,
    slurm_job_id: Option<String>,
    slurm_array_job_id: Option<String>,
    slurm_array_task_id: Option<String>,
}

impl Where {
    fn here() -> Where {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Where {
            host: var("SLURMD_NODENAME").or_else(|| sysinfo::System::host_name().ok()),
            slurm_job_id: var("SLURM_JOB_ID"),
            slurm_array_job_id: var("SLURM_ARRAY_JOB_ID"),
            slurm_array_task_id: var("SLURM_ARRAY_TASK_ID"),
        }
    }

    /// Slurm's output file of this array task, if this is one.
    fn log(&self, dir: &Path) -> Option<PathBuf> {
        Some(dir.join(format::LOGS_DIR).join(format!(
            "{}_{}.out",
            self.slurm_array_job_id.as_ref()?,
            self.slurm_array_task_id.as_ref()?
        )))
    }
}

/// `jobs/N.done`: the job finished and wrote these result files.
#[derive(Debug, Serialize)]
struct DoneMarker<'a> {
    index: usize,
    model: &'a str,
    task: &'a str,
    finished_at: chrono::DateTime<Utc>,
    results: Vec<PathBuf>,
    #[serde(flatten)]
    place: Where,
}

/// Why a plan job failed, for its error file.
struct Failure {
    /// The error on one line (the error file's first line).
    summary: String,
    /// `frugalbench run`'s exit status, when it returned one.
    exit_status: Option<i32>,
    /// The error's causes, outermost first.
    chain: Vec<String>,
}

impl Failure {
    fn from_outcome(outcome: &Result<i32>, log: Option<&Path>) -> Option<Failure> {
        match outcome {
            Ok(0) => None,
            Ok(130) => Some(Failure {
                summary: "interrupted (exit status 130): a result it saved is marked \
                          `interrupted` and not counted as done"
                    .into(),
                exit_status: Some(130),
                chain: Vec::new(),
            }),
            // Under Slurm our stderr is the log file: its last `error:` line is the error.
            Ok(code) => Some(Failure {
                summary: log.and_then(last_error_line).unwrap_or_else(|| {
                    format!(
                        "`frugalbench run` failed (exit status {code}); its error message is in \
                         the job's output{}",
                        log.map(|p| format!(" {}", p.display())).unwrap_or_default()
                    )
                }),
                exit_status: Some(*code),
                chain: Vec::new(),
            }),
            Err(err) => Some(Failure {
                summary: crate::cli::error_line(err),
                exit_status: None,
                chain: err.chain().map(|c| c.to_string()).collect(),
            }),
        }
    }
}

/// After a plan job: a success marker, or an error file holding the error
/// (its first line is the whole error chain on one line).
pub fn after_job(args: &RunArgs, outcome: &Result<i32>) -> Result<()> {
    let (Some(dir), Some(index)) = (&args.plan, args.job_index) else {
        return Ok(());
    };
    let place = Where::here();
    let log = place.log(dir);
    let error_path = format::error_file(dir, index);
    let done_path = format::done_file(dir, index);
    let model = args.models.first().map(String::as_str).unwrap_or("?");
    let task = args.task.map(|t| t.as_str()).unwrap_or("?");
    let Some(failure) = Failure::from_outcome(outcome, log.as_deref()) else {
        remove_if_present(&error_path)?;
        let marker = DoneMarker {
            index,
            model,
            task,
            finished_at: Utc::now(),
            results: format::json_files(&args.out),
            place,
        };
        let mut bytes = serde_json::to_vec_pretty(&marker)?;
        bytes.push(b'\n');
        return frugalbench_report::write_atomic(&done_path, &bytes, true);
    };
    remove_if_present(&done_path)?;
    let mut text = format!("{}\n\n", failure.summary.replace('\n', " "));
    text.push_str(&format!("job: {index} ({model} on {task})\n"));
    text.push_str(&format!("at: {}\n", Utc::now().to_rfc3339()));
    if let Some(code) = failure.exit_status {
        text.push_str(&format!("exit status: {code}\n"));
    }
    if let Some(h) = &place.host {
        text.push_str(&format!("host: {h}\n"));
    }
    if let Some(id) = &place.slurm_job_id {
        text.push_str(&format!("slurm job: {id}\n"));
    }
    if let Some(log) = &log {
        text.push_str(&format!("log: {}\n", log.display()));
    }
    if !failure.chain.is_empty() {
        text.push_str("\nerror chain:\n");
        for (i, c) in failure.chain.iter().enumerate() {
            text.push_str(&format!("  {i}: {c}\n"));
        }
    }
    frugalbench_report::write_atomic(&error_path, text.as_bytes(), true)?;
    eprintln!("frugalbench: wrote {}", error_path.display());
    Ok(())
}

/// The last `error: ...` line of a log file, without the prefix.
fn last_error_line(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    text.lines()
        .rev()
        .find_map(|l| l.strip_prefix("error: "))
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
}

fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot remove the stale {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_args_are_checked() {
        let words = check_extra_args("--idle-seconds 0 --no-nvml --country FR").unwrap();
        assert_eq!(
            words,
            ["--idle-seconds", "0", "--no-nvml", "--country", "FR"]
        );
        let err = check_extra_args("--queries 5").unwrap_err().to_string();
        assert!(err.contains("--queries"), "{err}");
        let err = check_extra_args("--no-such-option").unwrap_err();
        assert!(format!("{err:#}").contains("--no-such-option"), "{err:#}");
        assert!(check_extra_args("--country 'FR").is_err());
    }

    fn write_plan(dir: &Path) {
        let meta = format::PlanMeta {
            format: format::PLAN_FORMAT,
            frugalbench_version: "0".into(),
            created_at: Utc::now(),
            binary: "/bin/frugalbench".into(),
            plan_dir: dir.to_path_buf(),
            catalogue: Some("/c/models.toml".into()),
            datasets_catalogue: None,
            results_dir: "results".into(),
            jobs: 2,
            slurm: None,
            command: Vec::new(),
        };
        let job = |index| PlanJob {
            index,
            model: format!("m{index}"),
            task: frugalbench_workloads::Task::TextClassification,
            queries: Some(7),
            repetitions: 2,
            warmup: 0,
            dataset: None,
            threads: Some(3),
            extra_run_args: vec!["--idle-seconds".into(), "0.5".into()],
        };
        let lines = format!(
            "{}\n{}\n",
            serde_json::to_string(&job(0)).unwrap(),
            serde_json::to_string(&job(1)).unwrap()
        );
        std::fs::write(dir.join(format::JOBS_FILE), lines).unwrap();
        std::fs::write(
            dir.join(format::META_FILE),
            serde_json::to_string(&meta).unwrap(),
        )
        .unwrap();
    }

    #[test]
    fn resolve_applies_the_job_and_the_machine_options() {
        let tmp = tempfile::tempdir().unwrap();
        write_plan(tmp.path());
        let plan = tmp.path().to_str().unwrap();
        let (args, matches) = parse_run_args([
            "--plan",
            plan,
            "--job-index",
            "1",
            "--powercap-root",
            "/fake/powercap",
            "--no-nvml",
            "--cache-dir",
            "/fake/cache",
            "--offline",
            "--json",
        ])
        .unwrap();
        let r = resolve_run_args(&args, &matches).unwrap();
        assert_eq!(r.models, ["m1"]);
        assert_eq!(
            r.task,
            Some(frugalbench_workloads::Task::TextClassification)
        );
        assert_eq!(r.protocol.queries, Some(7));
        assert_eq!(r.protocol.repetitions, Some(2));
        assert_eq!(r.protocol.warmup, Some(0));
        assert_eq!(r.protocol.threads, Some(3));
        assert_eq!(
            r.protocol.catalogue.as_deref(),
            Some(Path::new("/c/models.toml"))
        );
        assert_eq!(r.out, tmp.path().join("results").join("1"));
        assert_eq!(r.meter.idle_seconds, 0.5);
        assert_eq!(r.meter.powercap_root, Path::new("/fake/powercap"));
        assert!(r.meter.no_nvml && r.offline && r.json);
        assert_eq!(r.cache_dir.as_deref(), Some(Path::new("/fake/cache")));
        assert_eq!(r.plan.as_deref(), Some(tmp.path()));
        assert_eq!(r.job_index, Some(1));

        // Without machine options, the plan's job alone.
        let (args, matches) = parse_run_args(["--plan", plan, "--job-index", "0"]).unwrap();
        let r = resolve_run_args(&args, &matches).unwrap();
        assert_eq!(r.models, ["m0"]);
        assert!(!r.meter.no_nvml && !r.offline && !r.json);
    }

    #[test]
    fn plan_owned_ids_exist() {
        let cmd = run_command();
        for id in PLAN_OWNED {
            assert!(
                cmd.get_arguments().any(|a| a.get_id() == id),
                "`run` has no option with id {id}"
            );
        }
    }

    #[test]
    fn options_given_beside_plan_are_named() {
        let (_, matches) = parse_run_args([
            "--plan",
            "p",
            "--job-index",
            "0",
            "--queries",
            "3",
            "--idle-seconds",
            "1",
            "--no-nvml",
            "--json",
            "--model",
            "x",
        ])
        .unwrap();
        let names = conflicting_options(&matches);
        assert_eq!(names, ["--idle-seconds", "--model", "--queries"]);

        let (_, matches) =
            parse_run_args(["--plan", "p", "--job-index", "0", "--no-nvml"]).unwrap();
        assert!(conflicting_options(&matches).is_empty());
        // A value equal to the default still counts as given: the plan owns it.
        let (_, matches) =
            parse_run_args(["--plan", "p", "--job-index", "0", "--batch-size", "1"]).unwrap();
        assert_eq!(conflicting_options(&matches), ["--batch-size"]);
    }
}
