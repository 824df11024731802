//! `frugalbench plan` (being written).

/// Options of `frugalbench plan`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: &Args) -> anyhow::Result<i32> {
    anyhow::bail!("`frugalbench plan` is not implemented yet")
}

/// For `frugalbench run --plan DIR --job-index N`: the run options with the
/// plan's job (model, task, settings, output folder) applied.
pub fn resolve_run_args(args: &crate::run::RunArgs) -> anyhow::Result<crate::run::RunArgs> {
    let _ = args;
    anyhow::bail!("`frugalbench run --plan` is not implemented yet")
}

/// After a planned job: record its failure in the plan (an error file), so
/// `collect` can report it; nothing to do on success.
pub fn after_job(args: &crate::run::RunArgs, outcome: &anyhow::Result<i32>) -> anyhow::Result<()> {
    let _ = (args, outcome);
    Ok(())
}
