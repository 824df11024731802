//! `frugalbench leaderboard RESULTS... --out DIR`: a static leaderboard site.
//!
//! Every input is validated (schema and sanity rules); invalid files are listed in the
//! site's "rejected" section and never reach the tables, and never fail the build. Grouping,
//! ranking, stars and Pareto fronts are [`frugalbench_report::board`]'s; the site is
//! [`frugalbench_report::board::site`]'s, written into a temp folder and moved into place.

use std::path::PathBuf;

use anyhow::Result;
use frugalbench_report::board::build_board;
use frugalbench_report::board::site::write_site;
use frugalbench_report::board::stars::StarRule;
use frugalbench_report::display::sanitize;
use frugalbench_report::inputs::load_inputs;

/// How stars are given within a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Stars {
    /// Quintiles of the rank: 5 stars for the most frugal 20% of the table's models.
    Quintile,
    /// Five equal-width bands of the table's Wh range.
    EqualWidth,
}

/// Options of `frugalbench leaderboard`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Result files, or folders searched recursively for *.json.
    #[arg(required = true, value_name = "RESULTS")]
    pub results: Vec<PathBuf>,
    /// The site folder to write (replaced as a whole; an existing folder must be empty or an
    /// earlier frugalbench site).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Star rule.
    #[arg(long, value_enum, default_value_t = Stars::Quintile)]
    pub stars: Stars,
}

pub fn run(args: &Args) -> Result<i32> {
    let inputs = load_inputs(&args.results)?;
    let rule = match args.stars {
        Stars::Quintile => StarRule::Quintile,
        Stars::EqualWidth => StarRule::EqualWidth,
    };
    let board = build_board(&inputs, rule, chrono::Utc::now());
    let site = write_site(&board, &args.out)?;
    // Paths, reasons and warnings quote file names and values of the files: sanitised so no
    // control or bidi character reaches the terminal.
    for r in &board.rejected {
        eprintln!(
            "frugalbench: rejected {}: {}",
            sanitize(&r.path),
            sanitize(&r.reasons.join("; "))
        );
    }
    for w in &site.warnings {
        eprintln!("frugalbench: warning: {}", sanitize(w));
    }
    println!(
        "wrote {}: {} results ranked in {} tables, {} not ranked, {} rejected; open {}",
        site.dir.display(),
        site.ranked,
        site.tables,
        site.not_ranked,
        site.rejected,
        site.dir.join("index.html").display()
    );
    Ok(0)
}
