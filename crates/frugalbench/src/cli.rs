//! Command-line interface: the subcommands and their options.

use clap::{Parser, Subcommand};

use crate::meter_args::MeterArgs;

/// Measure how much energy an AI model spends to do a task.
///
/// Energy comes from hardware counters where the machine has them (RAPL for
/// CPU package and DRAM, NVML for NVIDIA GPUs) and from a labelled estimate
/// (CPU TDP x utilisation, DRAM per GiB) where it does not. Every figure says
/// which: `measured` or `estimated`.
#[derive(Debug, Parser)]
#[command(name = "frugalbench", version, about, long_about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what this machine can measure: each energy source, its domains
    /// and method, and why an unavailable source is unavailable (with the fix).
    Probe(ProbeArgs),
    /// Run any command and report the energy it used, like `perf stat`
    /// reports cycles. Exits with the command's exit code.
    Measure(MeasureArgs),
    /// Score models on tasks with the metered protocol (warm-up, N queries,
    /// R repetitions, idle baseline) and write result files.
    Run(Box<crate::run::RunArgs>),
    /// Compare two results (or two folders of results) for a CI gate: exit 1
    /// when energy per query regressed significantly beyond the threshold.
    Compare(crate::compare::Args),
    /// Build a static leaderboard site (tables, stars, Pareto fronts, charts,
    /// energy labels, CSV/JSON exports) from result files.
    Leaderboard(crate::leaderboard::Args),
    /// Charts and a short Markdown summary for one result.
    Report(crate::report_cmd::Args),
    /// Export results in other tools' formats (e.g. CodeCarbon's CSV).
    Export(crate::export::Args),
    /// Plan model x task jobs for a cluster; with --slurm, write an sbatch job array.
    Plan(crate::plan::Args),
    /// Check a plan's jobs (done, failed, missing) and gather their results.
    Collect(crate::collect::Args),
    /// List the presets (`run --preset NAME`): the anchors' protocols and what each fixes.
    Presets(crate::presets::Args),
}

#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub meter: MeterArgs,
}

#[derive(Debug, clap::Args)]
#[command(trailing_var_arg = true)]
pub struct MeasureArgs {
    /// Print one JSON object (on stdout) instead of the text report (on stderr).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub meter: MeterArgs,
    /// The command to run, after `--`.
    #[arg(required = true, num_args = 1.., value_name = "CMD")]
    pub command: Vec<String>,
}

/// Run the chosen command; returns the process exit code.
/// `matches` are the parsed arguments, for commands that need to know where an option came from.
pub fn dispatch(cli: Cli, matches: &clap::ArgMatches) -> anyhow::Result<i32> {
    match cli.command {
        Command::Probe(args) => crate::probe::run(&args),
        Command::Measure(args) => crate::measure::run(&args),
        Command::Run(args) => {
            let run = matches.subcommand_matches("run").unwrap_or(matches);
            crate::run::run(&args, run)
        }
        Command::Compare(args) => crate::compare::run(&args),
        Command::Leaderboard(args) => crate::leaderboard::run(&args),
        Command::Report(args) => crate::report_cmd::run(&args),
        Command::Export(args) => crate::export::run(&args),
        Command::Plan(args) => crate::plan::run(&args),
        Command::Collect(args) => crate::collect::run(&args),
        Command::Presets(args) => crate::presets::run(&args),
    }
}

/// An error and its causes on one line (`a: b: c`), whatever newlines the
/// messages carry, for the single `error:` line every failure ends in. Backtraces
/// that some libraries put inside their messages (candle does with
/// `RUST_BACKTRACE=1`) are left out: they belong in no one-line error.
pub fn error_line(err: &anyhow::Error) -> String {
    let line = format!("{err:#}")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !is_backtrace_line(l))
        .collect::<Vec<_>>()
        .join(" ");
    // Errors quote paths and values of input files: no control or bidi character reaches the
    // terminal.
    frugalbench_report::display::sanitize(&line).into_owned()
}

/// `stack backtrace:`, a frame (`12: some::symbol`) or its location (`at src/x.rs:3:5`).
fn is_backtrace_line(line: &str) -> bool {
    if line.eq_ignore_ascii_case("stack backtrace:") {
        return true;
    }
    if let Some(rest) = line.strip_prefix("at ") {
        return rest.contains(".rs:") || rest.starts_with('/') || rest.starts_with("./");
    }
    match line.split_once(": ") {
        Some((n, _)) => !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_line_is_one_line_without_backtraces() {
        let inner = anyhow::anyhow!(
            "cannot read GGUF header: unexpected magic\nStack backtrace:\n   0: candle_core::error::Error::bt\n             at /root/.cargo/registry/src/candle-core/src/error.rs:262:25\n   1: frugalbench::main\n"
        );
        let err = inner.context("cannot load model `x`");
        assert_eq!(
            error_line(&err),
            "cannot load model `x`: cannot read GGUF header: unexpected magic"
        );
        // An ordinary multi-line message keeps its lines.
        let err = anyhow::anyhow!("bad rows:\n- row 3: field \"score\"");
        assert_eq!(error_line(&err), "bad rows: - row 3: field \"score\"");
    }
}
