//! The board side: everything `frugalbench leaderboard` and `frugalbench report` draw and
//! write, one file per job.
//!
//! - [`rank`]: results grouped into tables of comparable figures, ranked ([`build_board`]).
//! - [`stars`]: 1 to 5 energy stars within a table (none for pools under 5 results).
//! - [`pool`]: reference pools stars can be given against (`--reference-pool`).
//! - [`pareto`]: the accuracy-vs-energy Pareto front within a table.
//! - [`charts`]: bar charts, Pareto scatter, power timeline (SVG and PNG).
//! - [`label`]: the energy label of one model.
//! - [`site`]: the static leaderboard site (`index.html` and the files beside it).
//! - [`run_report`]: the folder of charts and summary of one run.
//!
//! The site's `leaderboard.csv` and `leaderboard.json` are exporters
//! ([`crate::export::leaderboard_csv`], [`crate::export::leaderboard_json`]).

pub mod charts;
pub mod label;
pub mod pareto;
pub mod pool;
pub mod rank;
pub mod run_report;
pub mod site;
pub mod stars;

pub use rank::{
    build_board, build_board_against, gpu_wh_per_1000_queries, hardware_class, slugify, sources,
    Board, NotRanked, Rating, Row, Table,
};
