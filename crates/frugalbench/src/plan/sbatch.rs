//! The Slurm batch script of a plan: one job array, one array index per job.

use std::path::Path;

use anyhow::{bail, Result};

use super::format::{SlurmSettings, LOGS_DIR};

/// Refuses a value Slurm's `#SBATCH` lines or the shell cannot carry unquoted.
pub fn check_value(option: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        bail!("{option} must not be empty");
    }
    if let Some(c) = value
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "'\"\\%$`#".contains(*c))
    {
        bail!("{option} {value:?}: the character {c:?} cannot be written into an #SBATCH line");
    }
    Ok(())
}

/// Checks a Slurm time limit: `MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`, `D-HH:MM:SS`.
pub fn check_time(value: &str) -> Result<()> {
    let bad = || {
        anyhow::anyhow!(
            "--time {value:?}: expected a Slurm time limit such as 30, 01:30:00 or 1-12:00:00"
        )
    };
    let (days, rest) = match value.split_once('-') {
        Some((d, r)) => (Some(d), r),
        None => (None, value),
    };
    let number = |s: &str| !s.is_empty() && s.len() <= 6 && s.chars().all(|c| c.is_ascii_digit());
    if let Some(d) = days {
        if !number(d) {
            return Err(bad());
        }
    }
    let fields: Vec<&str> = rest.split(':').collect();
    if fields.len() > 3 || !fields.iter().all(|f| number(f)) {
        return Err(bad());
    }
    Ok(())
}

/// The text of `job.sbatch` for a plan of `jobs` jobs in `plan_dir` (absolute).
pub fn render(
    plan_dir: &Path,
    binary: &Path,
    jobs: usize,
    settings: &SlurmSettings,
    version: &str,
) -> Result<String> {
    let plan = plan_dir.to_string_lossy();
    check_value("the plan folder", &plan)?;
    if jobs == 0 {
        bail!("a plan needs at least one job");
    }
    let last = jobs - 1;
    let array = match settings.max_parallel {
        Some(k) => format!("0-{last}%{k}"),
        None => format!("0-{last}"),
    };
    let log = plan_dir.join(LOGS_DIR).join("%A_%a.out");
    let mut s = String::new();
    s.push_str("#!/bin/bash\n");
    s.push_str(&format!(
        "# frugalbench {version}: {jobs} job(s), one per array index; the jobs are listed in\n\
         # {plan}/plan.jsonl. Submit with:  sbatch {plan}/job.sbatch\n\
         # Rerun some:  sbatch --array=3,5 {plan}/job.sbatch   (see `frugalbench collect --resubmit`)\n"
    ));
    s.push_str("#SBATCH --job-name=frugalbench\n");
    s.push_str(&format!("#SBATCH --array={array}\n"));
    s.push_str(&format!("#SBATCH --output={}\n", log.to_string_lossy()));
    if settings.exclusive {
        s.push_str(
            "# Whole node: RAPL meters the whole CPU socket and NVML the whole GPU, so another\n\
             # job on the same node would add its energy to this job's figure.\n\
             #SBATCH --exclusive\n",
        );
    } else {
        s.push_str(
            "# --no-exclusive: other jobs may share the node; RAPL/NVML figures then include\n\
             # their energy too.\n",
        );
    }
    if let Some(p) = &settings.partition {
        s.push_str(&format!("#SBATCH --partition={p}\n"));
    }
    if let Some(t) = &settings.time {
        s.push_str(&format!("#SBATCH --time={t}\n"));
    }
    if let Some(g) = &settings.gres {
        s.push_str(&format!("#SBATCH --gres={g}\n"));
    }
    if let Some(c) = settings.cpus_per_task {
        s.push_str(&format!("#SBATCH --cpus-per-task={c}\n"));
    }
    let bin = shlex::try_quote(&binary.to_string_lossy())
        .map(|q| q.into_owned())
        .map_err(|e| anyhow::anyhow!("cannot quote the binary path for the shell: {e}"))?;
    s.push_str(&format!(
        "\nset -euo pipefail\n\
         : \"${{SLURM_ARRAY_TASK_ID:?submit this script with sbatch: it is a job array}}\"\n\
         FRUGALBENCH_BIN=\"${{FRUGALBENCH_BIN:-{bin}}}\"\n\
         echo \"frugalbench job $SLURM_ARRAY_TASK_ID on $(hostname) (Slurm job ${{SLURM_JOB_ID:-?}})\"\n\
         exec \"$FRUGALBENCH_BIN\" run --plan {plan} --job-index \"$SLURM_ARRAY_TASK_ID\"\n"
    ));
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> SlurmSettings {
        SlurmSettings {
            partition: Some("gpu_p5".into()),
            time: Some("01:00:00".into()),
            gres: Some("gpu:1".into()),
            cpus_per_task: Some(8),
            max_parallel: Some(4),
            exclusive: true,
        }
    }

    #[test]
    fn script_has_the_array_and_the_options() {
        let s = render(
            Path::new("/p/plan"),
            Path::new("/opt/fb/frugalbench"),
            10,
            &settings(),
            "0.1.0",
        )
        .unwrap();
        for line in [
            "#SBATCH --array=0-9%4\n",
            "#SBATCH --exclusive\n",
            "#SBATCH --output=/p/plan/logs/%A_%a.out\n",
            "#SBATCH --partition=gpu_p5\n",
            "#SBATCH --time=01:00:00\n",
            "#SBATCH --gres=gpu:1\n",
            "#SBATCH --cpus-per-task=8\n",
            "FRUGALBENCH_BIN=\"${FRUGALBENCH_BIN:-/opt/fb/frugalbench}\"\n",
            "run --plan /p/plan --job-index \"$SLURM_ARRAY_TASK_ID\"\n",
        ] {
            assert!(s.contains(line), "missing {line:?} in:\n{s}");
        }
        // Every #SBATCH line comes before the first command (sbatch stops reading there).
        let first_cmd = s.find("set -euo").unwrap();
        assert!(s.rfind("#SBATCH").unwrap() < first_cmd);
    }

    #[test]
    fn no_exclusive_and_no_limit() {
        let mut st = settings();
        st.exclusive = false;
        st.max_parallel = None;
        let s = render(Path::new("/p"), Path::new("/b"), 1, &st, "0").unwrap();
        assert!(s.contains("#SBATCH --array=0-0\n"), "{s}");
        assert!(!s.contains("#SBATCH --exclusive"), "{s}");
    }

    #[test]
    fn rejects_paths_and_values_sbatch_cannot_carry() {
        let err = render(
            Path::new("/my plans/p"),
            Path::new("/b"),
            1,
            &settings(),
            "0",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("plan folder"), "{err}");
        assert!(check_value("--partition", "a b").is_err());
        assert!(check_value("--gres", "gpu:a100:2").is_ok());
    }

    #[test]
    fn time_limits() {
        for ok in ["30", "30:00", "01:30:00", "2-00", "1-12:00", "1-12:00:00"] {
            assert!(check_time(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1h", "1:2:3:4", "-1", "a-01", "01::00"] {
            assert!(check_time(bad).is_err(), "{bad}");
        }
    }
}
