//! `frugalbench`: measure how much energy an AI model spends to do a task.
//!
//! The binary stays lean: argument parsing lives in [`cli`], each command in
//! its own module. Every error ends up as one `error: ...` line on stderr and
//! a non-zero exit status.

mod cli;
mod collect;
mod compare;
mod export;
mod hardware;
mod leaderboard;
mod measure;
mod meter_args;
mod plan;
mod probe;
mod report_cmd;
mod run;

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    let code = match cli::dispatch(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", cli::error_line(&err));
            2
        }
    };
    std::process::exit(code);
}
