//! `frugalbench compare BASE NEW`: a CI gate on energy per query.
//!
//! BASE and NEW are result files (compared as one pair, whatever their models) or folders of
//! results (matched by model and task, the latest of each). The statistics and the verdict
//! are [`frugalbench_report::compare`]'s. Exit status: 0 no regression, 1 a regression,
//! 2 incomparable input, nothing to compare, or a usage error.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use frugalbench_report::compare::{compare_sets, CompareOptions, Comparison};
use frugalbench_report::export::{CompareJson, CompareMarkdown, CompareText, Exporter};
use frugalbench_report::inputs::load_all_or_fail;

/// Output formats of `compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Plain text.
    Text,
    /// Markdown, ready for a pull-request comment.
    Markdown,
    /// One JSON object.
    Json,
}

impl Format {
    /// The exporter of this format: the one place a `--format` becomes a writer.
    fn exporter(self) -> &'static dyn Exporter<Comparison> {
        match self {
            Format::Text => &CompareText,
            Format::Markdown => &CompareMarkdown,
            Format::Json => &CompareJson,
        }
    }
}

/// Options of `frugalbench compare`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The baseline: a result file or a folder of results.
    #[arg(value_name = "BASE")]
    pub base: PathBuf,
    /// The candidate: a result file or a folder of results.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// Largest tolerated increase of energy per query, in percent. A pair regresses when its
    /// increase is above this and statistically significant.
    #[arg(long, value_name = "PCT", default_value_t = 5.0)]
    pub max_regression: f64,
    /// Significance level of Welch's t-test (two-sided).
    #[arg(long, value_name = "ALPHA", default_value_t = 0.05)]
    pub alpha: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub fn run(args: &Args) -> Result<i32> {
    if !args.max_regression.is_finite() || args.max_regression < 0.0 {
        bail!(
            "--max-regression {}: must be a percentage ≥ 0",
            args.max_regression
        );
    }
    if !(args.alpha > 0.0 && args.alpha < 1.0) {
        bail!("--alpha {}: must be between 0 and 1", args.alpha);
    }
    let base = load_all_or_fail(std::slice::from_ref(&args.base))
        .map_err(|e| e.context(format!("BASE {}", args.base.display())))?;
    let new = load_all_or_fail(std::slice::from_ref(&args.new))
        .map_err(|e| e.context(format!("NEW {}", args.new.display())))?;
    let pair_mode = args.base.is_file() && args.new.is_file();
    let opts = CompareOptions {
        max_regression_pct: args.max_regression,
        alpha: args.alpha,
        ..CompareOptions::default()
    };
    let cmp = compare_sets(&base, &new, pair_mode, &opts);
    let bytes = args.format.exporter().serialize(&cmp)?;
    std::io::stdout()
        .write_all(&bytes)
        .context("writing to standard output")?;
    Ok(cmp.exit_code)
}
