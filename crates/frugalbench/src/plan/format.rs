//! The files of a plan folder, shared by `plan`, `run --plan` and `collect`.
//!
//! ```text
//! PLAN_DIR/plan.json            metadata (written last: its presence means the plan is whole)
//! PLAN_DIR/plan.jsonl           one job per line: index, model, task, settings
//! PLAN_DIR/job.sbatch           the Slurm job array (with `plan --slurm`)
//! PLAN_DIR/results/<index>/     each job's result files (`<task>/<model>/<time>.json`)
//! PLAN_DIR/jobs/<index>.done    success marker (JSON) written after the job
//! PLAN_DIR/jobs/<index>.error.txt  a failed job's error (first line = the error)
//! PLAN_DIR/logs/<A>_<a>.out     Slurm's output of array job A, index a
//! ```

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use frugalbench_workloads::Task;
use serde::{Deserialize, Serialize};

/// Version of the plan files' layout.
pub const PLAN_FORMAT: u32 = 1;
/// Metadata file name.
pub const META_FILE: &str = "plan.json";
/// Job list file name.
pub const JOBS_FILE: &str = "plan.jsonl";
/// Slurm batch script file name.
pub const SBATCH_FILE: &str = "job.sbatch";
/// Folder (inside the plan) holding one result folder per job.
pub const RESULTS_DIR: &str = "results";
/// Folder (inside the plan) holding the per-job done/error markers.
pub const MARKERS_DIR: &str = "jobs";
/// Folder (inside the plan) holding Slurm's output files.
pub const LOGS_DIR: &str = "logs";

/// `plan.json`: what the plan is and how it was made.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanMeta {
    /// [`PLAN_FORMAT`].
    pub format: u32,
    /// Version of the frugalbench that wrote the plan.
    pub frugalbench_version: String,
    pub created_at: DateTime<Utc>,
    /// The frugalbench binary the Slurm script runs (unless `$FRUGALBENCH_BIN` is set).
    pub binary: PathBuf,
    /// The plan folder's absolute path when it was written (for reference; the
    /// plan's own files are always found relative to the folder).
    pub plan_dir: PathBuf,
    /// Absolute path of the model catalogue; `null` = the built-in one.
    pub catalogue: Option<PathBuf>,
    /// Absolute path of the dataset catalogue given with `--datasets-catalogue` (absent: each
    /// job uses `./datasets.toml` or the built-in one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasets_catalogue: Option<PathBuf>,
    /// Where results go, relative to the plan folder; job N writes into `<results_dir>/N`.
    pub results_dir: PathBuf,
    /// Number of jobs (lines of `plan.jsonl`).
    pub jobs: usize,
    /// The Slurm settings, when the plan has a `job.sbatch`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slurm: Option<SlurmSettings>,
    /// The command line that wrote the plan.
    pub command: Vec<String>,
}

/// Options of the Slurm job array.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SlurmSettings {
    pub partition: Option<String>,
    pub time: Option<String>,
    pub gres: Option<String>,
    pub cpus_per_task: Option<usize>,
    /// At most this many array tasks at once (`%K`).
    pub max_parallel: Option<usize>,
    /// Whole nodes (`--exclusive`): the meters see the whole socket/GPU.
    pub exclusive: bool,
}

/// One line of `plan.jsonl`: one `frugalbench run` of one model on one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanJob {
    /// 0-based; equals the line number minus one and the Slurm array index.
    pub index: usize,
    pub model: String,
    pub task: Task,
    /// Metered queries per repetition; `null` = `run`'s default for a named model.
    pub queries: Option<usize>,
    pub repetitions: usize,
    pub warmup: usize,
    /// Absolute path of the dataset; `null` = the task's shipped dataset.
    pub dataset: Option<PathBuf>,
    /// CPU threads; `null` = `run`'s default (the node's physical cores).
    pub threads: Option<usize>,
    /// Further `frugalbench run` options (from `plan --extra-run-args`).
    #[serde(default)]
    pub extra_run_args: Vec<String>,
}

/// A plan read back from its folder.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The folder, as given.
    pub dir: PathBuf,
    pub meta: PlanMeta,
    pub jobs: Vec<PlanJob>,
}

impl Plan {
    /// Reads `plan.json` and `plan.jsonl`, checking that they agree.
    pub fn read(dir: &Path) -> Result<Plan> {
        let meta_path = dir.join(META_FILE);
        if !meta_path.is_file() {
            bail!(
                "{} is not a plan folder: {META_FILE} is missing (write one with `frugalbench plan`)",
                dir.display()
            );
        }
        let text = std::fs::read_to_string(&meta_path)
            .with_context(|| format!("cannot read {}", meta_path.display()))?;
        let meta: PlanMeta = serde_json::from_str(&text)
            .with_context(|| format!("{}: not a valid plan metadata file", meta_path.display()))?;
        if meta.format != PLAN_FORMAT {
            bail!(
                "{}: plan format {} is not supported (this build reads format {PLAN_FORMAT})",
                meta_path.display(),
                meta.format
            );
        }
        let jobs_path = dir.join(JOBS_FILE);
        let text = std::fs::read_to_string(&jobs_path)
            .with_context(|| format!("cannot read {}", jobs_path.display()))?;
        let mut jobs = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let job: PlanJob = serde_json::from_str(line)
                .with_context(|| format!("{}:{}: not a valid job", jobs_path.display(), i + 1))?;
            if job.index != jobs.len() {
                bail!(
                    "{}:{}: job index {} out of order (expected {})",
                    jobs_path.display(),
                    i + 1,
                    job.index,
                    jobs.len()
                );
            }
            jobs.push(job);
        }
        if jobs.len() != meta.jobs {
            bail!(
                "{} lists {} jobs but {} says {}",
                jobs_path.display(),
                jobs.len(),
                meta_path.display(),
                meta.jobs
            );
        }
        Ok(Plan {
            dir: dir.to_path_buf(),
            meta,
            jobs,
        })
    }

    /// The job with this index; an out-of-range index names the valid range.
    pub fn job(&self, index: usize) -> Result<&PlanJob> {
        self.jobs.get(index).with_context(|| {
            format!(
                "job index {index} is out of range: the plan {} has {} jobs (0 to {})",
                self.dir.display(),
                self.jobs.len(),
                self.jobs.len().saturating_sub(1)
            )
        })
    }

    /// Where job `index` writes its results.
    pub fn results_dir(&self, index: usize) -> PathBuf {
        job_results_dir(&self.dir, &self.meta, index)
    }
}

/// Where job `index` of the plan in `dir` writes its results.
pub fn job_results_dir(dir: &Path, meta: &PlanMeta, index: usize) -> PathBuf {
    dir.join(&meta.results_dir).join(index.to_string())
}

/// The error file of job `index`.
pub fn error_file(dir: &Path, index: usize) -> PathBuf {
    dir.join(MARKERS_DIR).join(format!("{index}.error.txt"))
}

/// The success marker of job `index`.
pub fn done_file(dir: &Path, index: usize) -> PathBuf {
    dir.join(MARKERS_DIR).join(format!("{index}.done"))
}

/// Every result file under `dir`, sorted (the report crate's one walker: regular files only,
/// symbolic links not followed, bounded depth); none when `dir` does not exist yet.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    frugalbench_report::walk::result_files(dir)
}

/// `[1, 2, 3, 5, 7, 8]` → `1-3,5,7-8` (Slurm's `--array` syntax).
pub fn index_ranges(indices: &[usize]) -> String {
    let mut sorted = indices.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end + 1 {
            i += 1;
            end = sorted[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_ranges_compresses_runs() {
        assert_eq!(index_ranges(&[]), "");
        assert_eq!(index_ranges(&[4]), "4");
        assert_eq!(index_ranges(&[8, 1, 2, 3, 5, 7, 3]), "1-3,5,7-8");
    }

    #[test]
    fn job_lines_round_trip() {
        let job = PlanJob {
            index: 2,
            model: "m".into(),
            task: Task::TextGeneration,
            queries: Some(5),
            repetitions: 3,
            warmup: 1,
            dataset: None,
            threads: Some(2),
            extra_run_args: vec!["--idle-seconds".into(), "0".into()],
        };
        let line = serde_json::to_string(&job).unwrap();
        assert!(line.contains("\"task\":\"text-generation\""), "{line}");
        let back: PlanJob = serde_json::from_str(&line).unwrap();
        assert_eq!(back, job);
    }
}
