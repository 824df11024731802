//! `frugalbench compare --format markdown`, for a pull-request comment: `### ✅/❌/⚠️` headline,
//! one table row per pair, then the reason and notes of every pair that is not a plain
//! "unchanged". Every cell from a result file goes through [`md_cell`], so hostile model names
//! cannot break the table or inject HTML.

use super::Exporter;
use crate::compare::{Comparison, PairComparison, Side, Verdict};
use crate::display::{md_cell, num, p_value, pct};

/// Markdown compare report.
#[derive(Debug, Clone, Copy, Default)]
pub struct CompareMarkdown;

impl Exporter<Comparison> for CompareMarkdown {
    fn serialize(&self, cmp: &Comparison) -> anyhow::Result<Vec<u8>> {
        Ok(markdown(cmp).into_bytes())
    }
}

fn markdown(cmp: &Comparison) -> String {
    let mark = match cmp.exit_code {
        0 => "✅",
        1 => "❌",
        _ => "⚠️",
    };
    let mut s = format!(
        "### {mark} frugalbench compare: {}\n\n{}. Gate: {}.\n\n",
        cmp.headline(),
        cmp.counts_line(),
        cmp.gate()
    );
    if !cmp.pairs.is_empty() {
        s.push_str(
            "| model | task | BASE Wh/1k q | NEW Wh/1k q | change | 95% CI NEW/BASE | \
             Welch p | quality | verdict |\n\
             |---|---|---:|---:|---:|---|---:|---|---|\n",
        );
        for p in &cmp.pairs {
            let side = |x: &Side| {
                format!(
                    "{} ({}, n={})",
                    num(x.wh_per_1000_queries),
                    x.method.as_str(),
                    x.joules_per_query.len()
                )
            };
            let verdict = match p.verdict {
                Verdict::Regressed => "❌ **regressed**",
                Verdict::Improved => "✅ improved",
                Verdict::Unchanged => "✅ unchanged",
                Verdict::Incomparable => "⚠️ incomparable",
            };
            let tested = if p.significance_tested || p.change_pct.is_none() {
                ""
            } else {
                " (not significance-tested)"
            };
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {verdict}{tested} |\n",
                md_cell(&p.model),
                md_cell(p.task.as_str()),
                side(&p.base),
                side(&p.new),
                p.change_pct.map(pct).unwrap_or_else(|| "–".into()),
                p.ratio_ci95
                    .map(|(lo, hi)| format!("{}–{}", num(lo), num(hi)))
                    .unwrap_or_else(|| "–".into()),
                p.welch
                    .map(|w| p_value(w.p_two_sided))
                    .unwrap_or_else(|| "–".into()),
                p.quality_change()
                    .map(|q| md_cell(&q))
                    .unwrap_or_else(|| "–".into()),
            ));
        }
        let details: Vec<&PairComparison> = cmp
            .pairs
            .iter()
            .filter(|p| p.verdict != Verdict::Unchanged || !p.notes.is_empty())
            .collect();
        if !details.is_empty() {
            s.push('\n');
            for p in details {
                s.push_str(&format!(
                    "- **{} · {}**: {}",
                    md_cell(&p.model),
                    md_cell(p.task.as_str()),
                    md_cell(&p.why)
                ));
                for n in &p.notes {
                    s.push_str(&format!("; note: {}", md_cell(n)));
                }
                s.push('\n');
            }
        }
    }
    for (name, list) in [("BASE", &cmp.only_in_base), ("NEW", &cmp.only_in_new)] {
        if !list.is_empty() {
            let items: Vec<String> = list.iter().map(|k| md_cell(k)).collect();
            s.push_str(&format!(
                "\nOnly in {name} (not compared): {}\n",
                items.join(", ")
            ));
        }
    }
    s
}
