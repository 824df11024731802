//! `frugalbench report RESULT --out DIR`: charts and a short Markdown summary of one run
//! ([`frugalbench_report::board::run_report`]).

use std::path::PathBuf;

use anyhow::{anyhow, Result};
use frugalbench_report::board::run_report::write_run_report;
use frugalbench_report::inputs::load_one;

/// Options of `frugalbench report`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// One result file.
    #[arg(value_name = "RESULT")]
    pub result: PathBuf,
    /// The folder to write (replaced as a whole; an existing folder must be empty or earlier
    /// frugalbench output).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

pub fn run(args: &Args) -> Result<i32> {
    let loaded = load_one(&args.result).map_err(|reasons| {
        anyhow!(
            "{}: not a usable result file:\n  - {}",
            args.result.display(),
            reasons.join("\n  - ")
        )
    })?;
    let report = write_run_report(&loaded, &args.out)?;
    println!(
        "wrote {}: {}",
        report.dir.display(),
        report.files.join(", ")
    );
    Ok(0)
}
