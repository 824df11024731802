//! `frugalbench collect` (being written).

/// Options of `frugalbench collect`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: &Args) -> anyhow::Result<i32> {
    anyhow::bail!("`frugalbench collect` is not implemented yet")
}
