//! The site's `leaderboard.csv`: one line per ranked row, with its table's task, hardware and
//! method. Every field is quoted as needed by the `csv` crate, so names stay data.

use super::Exporter;
use crate::board::Board;
use crate::display::method_str;

/// `leaderboard.csv`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LeaderboardCsv;

impl Exporter<Board> for LeaderboardCsv {
    fn serialize(&self, board: &Board) -> anyhow::Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            "task",
            "hardware",
            "method",
            "rank",
            "model",
            "arch",
            "dtype",
            "batch_size",
            "wh_per_1000_queries",
            "wh_per_1000_ci95_low",
            "wh_per_1000_ci95_high",
            "net_wh_per_1000_queries",
            "joules_per_query",
            "joules_per_generated_token",
            "quality_metric",
            "quality",
            "stars",
            "star_rule",
            "pareto_front",
            "sources",
            "repetitions",
            "queries_per_repetition",
            "g_co2e_per_1000_queries",
            "started_at",
            "file",
        ])?;
        let opt = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
        for t in &board.tables {
            for r in &t.rows {
                w.write_record([
                    t.task.clone(),
                    t.hardware.clone(),
                    method_str(t.method).to_string(),
                    r.rank.to_string(),
                    r.model.clone(),
                    r.arch.clone(),
                    r.dtype.clone(),
                    r.batch_size.to_string(),
                    r.wh_per_1000_queries.to_string(),
                    opt(r.wh_per_1000_ci95.map(|c| c[0])),
                    opt(r.wh_per_1000_ci95.map(|c| c[1])),
                    opt(r.net_wh_per_1000_queries),
                    r.joules_per_query.to_string(),
                    opt(r.joules_per_generated_token),
                    r.quality_metric.clone().unwrap_or_default(),
                    opt(r.quality),
                    r.stars.to_string(),
                    board.star_rule.as_str().to_string(),
                    r.pareto.map(|p| p.to_string()).unwrap_or_default(),
                    r.sources.clone(),
                    r.repetitions.to_string(),
                    r.queries_per_repetition.to_string(),
                    r.g_co2e_per_1000_queries.to_string(),
                    r.started_at.to_rfc3339(),
                    r.file.clone(),
                ])?;
            }
        }
        Ok(w.into_inner()?)
    }
}
