//! `frugalbench leaderboard RESULTS... --out DIR`: a static leaderboard site.
//!
//! Every input is validated (schema and sanity rules); invalid files are listed in the
//! site's "rejected" section and never reach the tables, and never fail the build. Grouping,
//! ranking, stars and Pareto fronts are [`frugalbench_report::board`]'s; the site is
//! [`frugalbench_report::board::site`]'s, written into a temp folder and moved into place.

use std::path::PathBuf;

use anyhow::Result;
use frugalbench_report::board::build_board_against;
use frugalbench_report::board::pool::ReferencePool;
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
    /// Star rule [default: equal-width when every result followed `--preset
    /// ai-energy-score` (its rule), else quintile].
    #[arg(long, value_enum)]
    pub stars: Option<Stars>,
    /// Rate against this reference pool (a folder with manifest.json and results/, e.g.
    /// reference-pools/2026.12-cpu) instead of only the results at hand: each result gets
    /// stars among the pool's results of its task, hardware class and method.
    #[arg(long, value_name = "DIR")]
    pub reference_pool: Option<PathBuf>,
}

pub fn run(args: &Args) -> Result<i32> {
    let pool = args
        .reference_pool
        .as_deref()
        .map(ReferencePool::load)
        .transpose()?;
    let inputs = load_inputs(&args.results)?;
    let aies_only = !inputs.loaded.is_empty()
        && inputs.loaded.iter().all(|l| {
            l.result
                .preset
                .as_ref()
                .is_some_and(|p| p.name == "ai-energy-score")
        });
    let rule = match args.stars {
        Some(Stars::Quintile) => StarRule::Quintile,
        Some(Stars::EqualWidth) => StarRule::EqualWidth,
        None if aies_only => StarRule::EqualWidth,
        None => StarRule::Quintile,
    };
    let board = build_board_against(&inputs, rule, chrono::Utc::now(), pool.as_ref());
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
