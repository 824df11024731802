//! `frugalbench leaderboard` (being written).

/// Options of `frugalbench leaderboard`.
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: &Args) -> anyhow::Result<i32> {
    anyhow::bail!("`frugalbench leaderboard` is not implemented yet")
}
