//! The site's `leaderboard.json`: `{generator, star_rule_description, board}` with the tables,
//! the not-ranked and the rejected lists, pretty-printed (no final newline).

use anyhow::Context;

use super::Exporter;
use crate::board::Board;

/// `leaderboard.json`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LeaderboardJson;

impl Exporter<Board> for LeaderboardJson {
    fn serialize(&self, board: &Board) -> anyhow::Result<Vec<u8>> {
        let json = serde_json::json!({
            "generator": "frugalbench leaderboard",
            "star_rule_description": board.star_rule.describe(),
            "board": board,
        });
        serde_json::to_vec_pretty(&json).context("serialising leaderboard.json")
    }
}
