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
mod presets;
mod probe;
mod protocol_args;
mod report_cmd;
mod run;

use clap::{CommandFactory, FromArgMatches};

fn main() {
    let matches = cli::Cli::command().get_matches();
    let args = cli::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let code = match cli::dispatch(args, &matches) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", cli::error_line(&err));
            2
        }
    };
    std::process::exit(code);
}
