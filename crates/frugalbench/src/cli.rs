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
pub fn dispatch(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Probe(args) => crate::probe::run(&args),
        Command::Measure(args) => crate::measure::run(&args),
        Command::Run(args) => crate::run::run(&args),
    }
}
