//! `frugalbench report` (being written).

/// Options of `frugalbench report`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: &Args) -> anyhow::Result<i32> {
    anyhow::bail!("`frugalbench report` is not implemented yet")
}
