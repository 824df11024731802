//! The site's `leaderboard.csv`: one line per ranked row, with its table's task, hardware and
//! method. Every field is quoted as needed by the `csv` crate, so names stay data.

use super::Exporter;
use crate::board::{Board, Row, Table};

/// `leaderboard.csv`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LeaderboardCsv;

/// The value of one column for one row of a table.
type Cell = fn(&Board, &Table, &Row) -> String;

fn opt(x: Option<f64>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

/// Every column: its header and how its value is found (one list, so the header and the
/// rows cannot drift apart).
const COLUMNS: [(&str, Cell); 25] = [
    ("task", |_, t, _| t.task.to_string()),
    ("hardware", |_, t, _| t.hardware.clone()),
    ("method", |_, t, _| t.method.as_str().to_string()),
    ("rank", |_, _, r| r.rank.to_string()),
    ("model", |_, _, r| r.model.clone()),
    ("arch", |_, _, r| r.arch.clone()),
    ("dtype", |_, _, r| r.dtype.clone()),
    ("batch_size", |_, _, r| r.batch_size.to_string()),
    ("wh_per_1000_queries", |_, _, r| {
        r.wh_per_1000_queries.to_string()
    }),
    ("wh_per_1000_ci95_low", |_, _, r| {
        opt(r.wh_per_1000_ci95.map(|c| c[0]))
    }),
    ("wh_per_1000_ci95_high", |_, _, r| {
        opt(r.wh_per_1000_ci95.map(|c| c[1]))
    }),
    ("net_wh_per_1000_queries", |_, _, r| {
        opt(r.net_wh_per_1000_queries)
    }),
    ("joules_per_query", |_, _, r| r.joules_per_query.to_string()),
    ("joules_per_generated_token", |_, _, r| {
        opt(r.joules_per_generated_token)
    }),
    ("quality_metric", |_, _, r| {
        r.quality_metric.clone().unwrap_or_default()
    }),
    ("quality", |_, _, r| opt(r.quality)),
    ("stars", |_, _, r| r.stars.to_string()),
    ("star_rule", |b, _, _| b.star_rule.as_str().to_string()),
    ("pareto_front", |_, _, r| {
        r.pareto.map(|p| p.to_string()).unwrap_or_default()
    }),
    ("sources", |_, _, r| r.sources.clone()),
    ("repetitions", |_, _, r| r.repetitions.to_string()),
    ("queries_per_repetition", |_, _, r| {
        r.queries_per_repetition.to_string()
    }),
    ("g_co2e_per_1000_queries", |_, _, r| {
        r.g_co2e_per_1000_queries.to_string()
    }),
    ("started_at", |_, _, r| r.started_at.to_rfc3339()),
    ("file", |_, _, r| r.file.clone()),
];

impl Exporter<Board> for LeaderboardCsv {
    fn serialize(&self, board: &Board) -> anyhow::Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(COLUMNS.map(|(name, _)| name))?;
        for t in &board.tables {
            for r in &t.rows {
                w.write_record(COLUMNS.map(|(_, cell)| cell(board, t, r)))?;
            }
        }
        Ok(w.into_inner()?)
    }
}
