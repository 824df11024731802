//! `frugalbench compare` (being written).

/// Options of `frugalbench compare`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: &Args) -> anyhow::Result<i32> {
    anyhow::bail!("`frugalbench compare` is not implemented yet")
}
