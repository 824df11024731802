//! `frugalbench probe`: what this machine can measure, and why not.

use crate::cli::ProbeArgs;

pub fn run(args: &ProbeArgs) -> anyhow::Result<i32> {
    let cfg = args.meter.config()?;
    let report = frugalbench_meter::probe(&cfg);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render_text());
    }
    Ok(0)
}
