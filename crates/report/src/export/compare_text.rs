//! `frugalbench compare --format text` (the default): a headline, the gate's rule, then one
//! block per pair (both sides, change, interval, Welch test, quality, why, notes).
//!
//! Meant for a terminal: every text that comes from a result file (model ids, file paths,
//! reasons and notes quoting them) goes through [`sanitize`], so no escape sequence, line
//! break or bidi override of a hostile file reaches the terminal.

use super::Exporter;
use crate::compare::Comparison;
use crate::display::{num, p_value, pct, sanitize};

/// Plain-text compare report.
#[derive(Debug, Clone, Copy, Default)]
pub struct CompareText;

impl Exporter<Comparison> for CompareText {
    fn serialize(&self, cmp: &Comparison) -> anyhow::Result<Vec<u8>> {
        Ok(text(cmp).into_bytes())
    }
}

fn text(cmp: &Comparison) -> String {
    let mut s = format!(
        "frugalbench compare: {} (exit {})\n{}\n{}\n",
        cmp.headline(),
        cmp.exit_code,
        cmp.counts_line(),
        cmp.gate()
    );
    for p in &cmp.pairs {
        s.push_str(&format!(
            "\n{} · {}: {}\n",
            sanitize(&p.model),
            p.task,
            p.verdict.as_str().to_uppercase()
        ));
        for (name, side) in [("BASE", &p.base), ("NEW ", &p.new)] {
            s.push_str(&format!(
                "  {name} {} Wh/1k queries ({} J/query, n = {}, {}) {}\n",
                num(side.wh_per_1000_queries),
                num(side.mean_joules_per_query),
                side.joules_per_query.len(),
                side.method.as_str(),
                sanitize(&side.file)
            ));
        }
        if let Some(c) = p.change_pct {
            s.push_str(&format!("  change {}", pct(c)));
            if let Some((lo, hi)) = p.ratio_ci95 {
                s.push_str(&format!(", 95% CI of NEW/BASE {}–{}", num(lo), num(hi)));
            }
            match p.welch {
                Some(w) => s.push_str(&format!(
                    ", Welch t = {}, dof = {}, p = {}\n",
                    num(w.t),
                    num(w.dof),
                    p_value(w.p_two_sided)
                )),
                None => s.push_str(", not significance-tested\n"),
            }
        }
        if let Some(q) = p.quality_change() {
            s.push_str(&format!("  quality {}\n", sanitize(&q)));
        }
        s.push_str(&format!("  why: {}\n", sanitize(&p.why)));
        for n in &p.notes {
            s.push_str(&format!("  note: {}\n", sanitize(n)));
        }
    }
    for (name, list) in [("BASE", &cmp.only_in_base), ("NEW", &cmp.only_in_new)] {
        if !list.is_empty() {
            let items: Vec<_> = list.iter().map(|k| sanitize(k)).collect();
            s.push_str(&format!("\nonly in {name}: {}\n", items.join(", ")));
        }
    }
    s
}
