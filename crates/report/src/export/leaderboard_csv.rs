//! The site's `leaderboard.csv`: one line per ranked row, with its table's task, hardware and
//! method. Every field is quoted as needed by the `csv` crate, so names stay data, and every
//! text column goes through [`csv_text`] (control and bidi characters replaced, a leading
//! `=`, `+`, `-`, `@` neutralised with `'`), so a spreadsheet never runs a model name as a
//! formula. Numeric columns are written as numbers.

use super::Exporter;
use crate::board::{Board, Row, Table};
use crate::display::csv_text;

/// `leaderboard.csv`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LeaderboardCsv;

/// The value of one column for one row of a table.
type Cell = fn(&Board, &Table, &Row) -> String;

fn opt(x: Option<f64>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

/// Whether a column holds numbers (written as is) or text (through [`csv_text`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Num,
    Text,
}
use Kind::{Num, Text};

/// Every column: its header, its kind and how its value is found (one list, so the header
/// and the rows cannot drift apart).
const COLUMNS: [(&str, Kind, Cell); 27] = [
    ("task", Text, |_, t, _| t.task.to_string()),
    ("hardware", Text, |_, t, _| t.hardware.clone()),
    ("method", Text, |_, t, _| t.method.as_str().to_string()),
    ("rank", Num, |_, _, r| r.rank.to_string()),
    ("model", Text, |_, _, r| r.model.clone()),
    ("arch", Text, |_, _, r| r.arch.clone()),
    ("dtype", Text, |_, _, r| r.dtype.clone()),
    ("batch_size", Num, |_, _, r| r.batch_size.to_string()),
    ("wh_per_1000_queries", Num, |_, _, r| {
        r.wh_per_1000_queries.to_string()
    }),
    ("wh_per_1000_ci95_low", Num, |_, _, r| {
        opt(r.wh_per_1000_ci95.map(|c| c[0]))
    }),
    ("wh_per_1000_ci95_high", Num, |_, _, r| {
        opt(r.wh_per_1000_ci95.map(|c| c[1]))
    }),
    ("net_wh_per_1000_queries", Num, |_, _, r| {
        opt(r.net_wh_per_1000_queries)
    }),
    ("joules_per_query", Num, |_, _, r| {
        r.joules_per_query.to_string()
    }),
    ("joules_per_generated_token", Num, |_, _, r| {
        opt(r.joules_per_generated_token)
    }),
    ("quality_metric", Text, |_, _, r| {
        r.quality_metric.clone().unwrap_or_default()
    }),
    ("quality", Num, |_, _, r| opt(r.quality)),
    ("stars", Num, |_, _, r| {
        r.stars.map(|s| s.to_string()).unwrap_or_default()
    }),
    ("star_rule", Text, |b, _, _| {
        b.star_rule.as_str().to_string()
    }),
    ("rating", Text, |_, t, _| t.rating.describe()),
    ("reference_pool", Text, |_, t, _| {
        t.rating
            .reference_pool
            .as_ref()
            .map(|p| format!("{} ({})", p.version, p.date))
            .unwrap_or_default()
    }),
    ("pareto_front", Text, |_, _, r| {
        r.pareto.map(|p| p.to_string()).unwrap_or_default()
    }),
    ("sources", Text, |_, _, r| r.sources.clone()),
    ("repetitions", Num, |_, _, r| r.repetitions.to_string()),
    ("queries_per_repetition", Num, |_, _, r| {
        r.queries_per_repetition.to_string()
    }),
    ("g_co2e_per_1000_queries", Num, |_, _, r| {
        r.g_co2e_per_1000_queries.to_string()
    }),
    ("started_at", Text, |_, _, r| r.started_at.to_rfc3339()),
    ("file", Text, |_, _, r| r.file.clone()),
];

impl Exporter<Board> for LeaderboardCsv {
    fn serialize(&self, board: &Board) -> anyhow::Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(COLUMNS.map(|(name, _, _)| name))?;
        for t in &board.tables {
            for r in &t.rows {
                w.write_record(COLUMNS.map(|(_, kind, cell)| {
                    let value = cell(board, t, r);
                    match kind {
                        Num => value,
                        Text => csv_text(&value),
                    }
                }))?;
            }
        }
        Ok(w.into_inner()?)
    }
}
