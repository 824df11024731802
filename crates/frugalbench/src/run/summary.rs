//! The end-of-run table (and `run --json`) and the warnings about what it shows.

use std::fmt;
use std::path::PathBuf;

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Table};
use frugalbench_schema::{OverallMethod, RunResult, Status, Task};
use serde::Serialize;

/// One row of the end-of-run table (and of `run --json`).
#[derive(Debug, Serialize)]
pub struct Row {
    pub model: String,
    pub task: Task,
    pub status: Status,
    pub method: OverallMethod,
    pub queries: u64,
    pub wh_per_1000_queries: f64,
    /// Low and high ends of `wh_per_1000_queries` when it is (partly) estimated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wh_per_1000_queries_range: Option<[f64; 2]>,
    pub joules_per_query: f64,
    /// The raw 95% CI (its lower end may be below 0 J; the table clamps it).
    pub joules_per_query_ci95: Option<[f64; 2]>,
    pub net_joules_per_query: Option<f64>,
    pub quality_metric: Option<String>,
    pub quality: Option<f64>,
    pub joules_per_generated_token: Option<f64>,
    pub prefill_joules_per_input_token: Option<f64>,
    pub decode_joules_per_generated_token: Option<f64>,
    pub tokens_per_second: Option<f64>,
    /// Speech: J per second of audio and the real-time factor.
    pub joules_per_audio_second: Option<f64>,
    pub real_time_factor: Option<f64>,
    pub result_file: PathBuf,
}

impl Row {
    /// The row of a written result.
    pub fn of(result: &RunResult, result_file: PathBuf) -> Row {
        let g = result.generation.as_ref();
        Row {
            model: result.model.id.clone(),
            task: result.task,
            status: result.status,
            method: result.energy.method,
            queries: result.total_queries(),
            wh_per_1000_queries: result.energy.wh_per_1000_queries,
            wh_per_1000_queries_range: result
                .energy
                .wh_per_1000_queries_low
                .zip(result.energy.wh_per_1000_queries_high)
                .map(|(lo, hi)| [lo, hi]),
            joules_per_query: result.energy.joules_per_query,
            joules_per_query_ci95: result.energy.joules_per_query_ci95,
            net_joules_per_query: result.energy.net_joules_per_query,
            quality_metric: result.quality.as_ref().map(|q| q.metric.clone()),
            quality: result.quality.as_ref().map(|q| q.value),
            joules_per_generated_token: g.map(|g| g.joules_per_generated_token),
            prefill_joules_per_input_token: g.map(|g| g.prefill_joules_per_input_token),
            decode_joules_per_generated_token: g.map(|g| g.decode_joules_per_generated_token),
            tokens_per_second: g.map(|g| g.tokens_per_second),
            joules_per_audio_second: result.audio.as_ref().map(|a| a.joules_per_audio_second),
            real_time_factor: result.audio.as_ref().map(|a| a.real_time_factor),
            result_file,
        }
    }
}

/// Relative 95% CI half-width of J/query above which a result is called noisy.
const NOISY_CI: f64 = 0.10;

/// Things the reader of the table should know (as hyperfine warns about noise).
#[derive(Debug, Clone, PartialEq)]
pub enum Warning {
    /// J/query varies across repetitions by more than [`NOISY_CI`] (relative CI half-width).
    Noisy {
        model: String,
        task: Task,
        /// Half-width of the 95% CI as a share of the mean.
        relative_half_width: f64,
    },
    /// At least one figure is estimated, not measured.
    Estimated,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Noisy {
                model,
                task,
                relative_half_width,
            } => write!(
                f,
                "{model} on {task}: J/query varies by ±{:.0}% (95% CI) across repetitions; \
                 the figure is noisy: use more --queries or --repetitions, or a quieter machine",
                100.0 * relative_half_width
            ),
            Warning::Estimated => f.write_str(
                "some figures are estimated, not measured: no hardware energy counter was readable \
                 for every domain (see `frugalbench probe` for why and how to fix it)",
            ),
        }
    }
}

/// The warnings due for these rows.
pub fn warnings(rows: &[Row]) -> Vec<Warning> {
    let mut out = Vec::new();
    for r in rows {
        if let Some([lo, hi]) = r.joules_per_query_ci95 {
            let half = (hi - lo) / 2.0;
            if r.joules_per_query > 0.0 && half / r.joules_per_query > NOISY_CI {
                out.push(Warning::Noisy {
                    model: r.model.clone(),
                    task: r.task,
                    relative_half_width: half / r.joules_per_query,
                });
            }
        }
    }
    if rows.iter().any(|r| !r.method.is_measured()) {
        out.push(Warning::Estimated);
    }
    out
}

/// The end-of-run table.
pub fn table(rows: &[Row]) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "model",
        "task",
        "Wh/1k queries",
        "J/query ± 95% CI",
        "quality",
        "J/token prefill | decode",
        "tokens/s",
        "J/audio s | RTF",
        "method",
    ]);
    for r in rows {
        let quality = match (&r.quality_metric, r.quality) {
            (Some(m), Some(v)) => format!("{m} {v:.3}"),
            _ => "-".into(),
        };
        let per_token = match (
            r.prefill_joules_per_input_token,
            r.decode_joules_per_generated_token,
        ) {
            (Some(p), Some(d)) => format!("{p:.4} | {d:.4}"),
            _ => "-".into(),
        };
        let tps = r
            .tokens_per_second
            .map(|v| format!("{v:.1}"))
            .unwrap_or_else(|| "-".into());
        let audio = match (r.joules_per_audio_second, r.real_time_factor) {
            (Some(j), Some(rtf)) => format!("{j:.4} | {rtf:.3}"),
            _ => "-".into(),
        };
        let status = match r.status {
            Status::Complete => String::new(),
            other => format!(" [{other}]"),
        };
        t.add_row(vec![
            Cell::new(&r.model),
            Cell::new(r.task),
            Cell::new(wh_cell(r.wh_per_1000_queries, r.wh_per_1000_queries_range))
                .set_alignment(CellAlignment::Right),
            Cell::new(jpq_cell(r.joules_per_query, r.joules_per_query_ci95))
                .set_alignment(CellAlignment::Right),
            Cell::new(quality),
            Cell::new(per_token).set_alignment(CellAlignment::Right),
            Cell::new(tps).set_alignment(CellAlignment::Right),
            Cell::new(audio).set_alignment(CellAlignment::Right),
            Cell::new(format!("{}{status}", r.method)),
        ]);
    }
    t.to_string()
}

/// `0.0210 (est. 0.0120–0.0340)` for an estimated figure with its range, else the figure.
fn wh_cell(wh: f64, range: Option<[f64; 2]>) -> String {
    match range {
        Some([lo, hi]) => format!("{wh:.4} (est. {lo:.4}–{hi:.4})"),
        None => format!("{wh:.4}"),
    }
}

/// `mean ± half-width` when the interval stays above 0 J; else `mean (0–hi)`: an energy bound
/// is never printed below 0 (the raw interval stays in the JSON).
fn jpq_cell(mean: f64, ci: Option<[f64; 2]>) -> String {
    match ci {
        None => format!("{mean:.4}"),
        Some([lo, hi]) if lo >= 0.0 => format!("{mean:.4} ± {:.4}", (hi - lo) / 2.0),
        Some([_, hi]) => format!("{mean:.4} (0–{hi:.4})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(jpq: f64, ci: Option<[f64; 2]>, method: OverallMethod) -> Row {
        Row {
            model: "m".into(),
            task: Task::SentenceSimilarity,
            status: Status::Complete,
            method,
            queries: 10,
            wh_per_1000_queries: jpq / 3.6,
            wh_per_1000_queries_range: None,
            joules_per_query: jpq,
            joules_per_query_ci95: ci,
            net_joules_per_query: None,
            quality_metric: None,
            quality: None,
            joules_per_generated_token: None,
            prefill_joules_per_input_token: None,
            decode_joules_per_generated_token: None,
            tokens_per_second: None,
            joules_per_audio_second: None,
            real_time_factor: None,
            result_file: PathBuf::from("x.json"),
        }
    }

    #[test]
    fn estimated_wh_shows_its_range() {
        assert_eq!(
            wh_cell(0.021, Some([0.012, 0.034])),
            "0.0210 (est. 0.0120–0.0340)"
        );
        assert_eq!(wh_cell(0.021, None), "0.0210");
        let mut r = row(0.0756, None, OverallMethod::Estimated);
        r.wh_per_1000_queries_range = Some([0.012, 0.034]);
        assert!(table(&[r]).contains("0.0210 (est. 0.0120–0.0340)"));
    }

    #[test]
    fn warns_about_noise_and_estimates_only_when_due() {
        use OverallMethod::*;
        // ±5%: quiet, measured: no warning.
        assert!(warnings(&[row(1.0, Some([0.95, 1.05]), Measured)]).is_empty());
        // ±20%: noisy.
        let w = warnings(&[row(1.0, Some([0.8, 1.2]), Measured)]);
        assert_eq!(w.len(), 1);
        assert!(matches!(w[0], Warning::Noisy { .. }));
        assert!(w[0].to_string().contains("±20%"), "{}", w[0]);
        // Estimated or mixed figures are called out once.
        let w = warnings(&[row(1.0, None, Estimated), row(1.0, None, Mixed)]);
        assert_eq!(w, [Warning::Estimated]);
        assert!(w[0].to_string().contains("estimated, not measured"));
    }

    #[test]
    fn a_ci_below_zero_is_never_printed_as_a_negative_bound() {
        assert_eq!(jpq_cell(1.0, Some([0.5, 1.5])), "1.0000 ± 0.5000");
        assert_eq!(jpq_cell(1.0, Some([-0.5, 2.5])), "1.0000 (0–2.5000)");
        assert_eq!(jpq_cell(1.0, None), "1.0000");
        let t = table(&[row(1.0, Some([-0.5, 2.5]), OverallMethod::Measured)]);
        assert!(!t.contains("-0.5"), "{t}");
    }
}
