//! Writing a job's files: the result with its timeline, the fitted head and the outputs.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use frugalbench_report as report;
use frugalbench_schema::RunResult;
use frugalbench_workloads::Runner;

use super::protocol::Measured;
use super::RunPlan;

/// Writes the result (checked, atomically, never overwriting) with its power timeline, the
/// head fitted for it (`<stem>.head.json`) and, with `--save-outputs`, every query's output
/// (`<stem>.outputs.jsonl`). Returns the result file's path.
pub fn write(
    plan: &RunPlan,
    result: &RunResult,
    timeline_csv: &str,
    measured: &Measured,
    runner: &dyn Runner,
) -> Result<PathBuf> {
    let path = report::write_result(&plan.out, result, Some(timeline_csv.as_bytes()))?;
    eprintln!("frugalbench: wrote {}", path.display());
    if let Some(fitted) = runner.fitted_file() {
        // The head fitted on the train split, so the result can be reproduced.
        let beside = path.with_extension("head.json");
        let bytes = std::fs::read(fitted)
            .with_context(|| format!("cannot read the fitted head {}", fitted.display()))?;
        report::write_atomic(&beside, &bytes, false)?;
        eprintln!("frugalbench: wrote {}", beside.display());
    }
    if plan.save_outputs {
        let outputs = path.with_extension("outputs.jsonl");
        let mut text = String::new();
        for o in &measured.outcomes {
            text.push_str(&serde_json::to_string(o)?);
            text.push('\n');
        }
        report::write_atomic(&outputs, text.as_bytes(), false)?;
        eprintln!("frugalbench: wrote {}", outputs.display());
    }
    Ok(path)
}
