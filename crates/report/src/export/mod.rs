//! Exporters: one file per output format, each a unit struct (or a struct of its options)
//! implementing [`Exporter`] for the thing it writes, in the spirit of hyperfine's exporters.
//!
//! | Format | Exporter | Input |
//! |---|---|---|
//! | CodeCarbon `emissions.csv` | [`CodecarbonCsv`] | results (`[Loaded]`) |
//! | BoAmps JSON report(s) | [`Boamps`] | results (`[Loaded]`), or one [`RunResult`] |
//! | Frugal AI Challenge submission record(s) | [`FrugalAi`] | results (`[Loaded]`) |
//! | `leaderboard.csv` | [`LeaderboardCsv`] | [`Board`] |
//! | `leaderboard.json` | [`LeaderboardJson`] | [`Board`] |
//! | compare, plain text | [`CompareText`] | [`Comparison`] |
//! | compare, Markdown | [`CompareMarkdown`] | [`Comparison`] |
//! | compare, JSON | [`CompareJson`] | [`Comparison`] |
//!
//! Callers pick the exporter in one place (the CLI's `--format` → exporter match, the site's
//! list of export files) and write the bytes wherever they go.
//!
//! [`Loaded`]: crate::inputs::Loaded
//! [`Board`]: crate::board::Board
//! [`Comparison`]: crate::compare::Comparison
//! [`RunResult`]: crate::result::RunResult

pub mod boamps;
pub mod codecarbon_csv;
pub mod compare_json;
pub mod compare_markdown;
pub mod compare_text;
pub mod frugal_ai;
pub mod leaderboard_csv;
pub mod leaderboard_json;

pub use boamps::{boamps_report, validate_boamps, Boamps};
pub use codecarbon_csv::{CodecarbonCsv, CODECARBON_COLUMNS};
pub use compare_json::CompareJson;
pub use compare_markdown::CompareMarkdown;
pub use compare_text::CompareText;
pub use frugal_ai::FrugalAi;
pub use leaderboard_csv::LeaderboardCsv;
pub use leaderboard_json::LeaderboardJson;

/// Writes `T` (results, a board, a comparison) in one format.
pub trait Exporter<T: ?Sized> {
    /// The whole output, ready to be written to a file or standard output.
    fn serialize(&self, input: &T) -> anyhow::Result<Vec<u8>>;
}
