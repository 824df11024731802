//! `frugalbench export` (being written).

/// Options of `frugalbench export`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: &Args) -> anyhow::Result<i32> {
    anyhow::bail!("`frugalbench export` is not implemented yet")
}
