//! `frugalbench`: measure how much energy an AI model spends to do a task.
//!
//! The binary stays lean: argument parsing lives in [`cli`], each command in
//! its own module. Every error ends up as one `error: ...` line on stderr and
//! a non-zero exit status.

mod cli;
mod hardware;
mod measure;
mod meter_args;
mod probe;
mod run;

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    let code = match cli::dispatch(args) {
        Ok(code) => code,
        Err(err) => {
            // `{:#}` prints the whole context chain on one line.
            eprintln!("error: {err:#}");
            2
        }
    };
    std::process::exit(code);
}
