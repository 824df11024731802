//! The leaderboard's content: results grouped into tables of comparable figures, ranked, with
//! stars and the Pareto front.
//!
//! One table per (task, hardware class, energy method): figures measured on different
//! hardware, or measured vs estimated, are never ranked together. Within a table each model
//! appears once (its latest complete result; older ones are listed as not ranked), rows are
//! sorted by gross Wh per 1,000 queries (rank 1 = most frugal; ties share a rank), stars
//! follow [`super::stars`] and the Pareto front [`super::pareto`], both within the table.
//!
//! Stars need a pool of at least [`MIN_POOL`] results: the table's own models, or with a
//! [`ReferencePool`] the pool's entries of the same task, hardware class and method. A
//! smaller pool leaves the table not rated ([`Rating::not_rated`]).

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::pareto::{pareto_front, Point};
use super::pool::{PoolRef, ReferencePool};
use super::stars::{not_rated_text, rate_against, rate_pool, StarRule, MIN_POOL};
use crate::inputs::{Inputs, Loaded, Rejected};
use crate::result::{OverallMethod, RunResult, Status, Task};
use crate::wh_per_1000_queries;

/// The hardware a result's energy belongs to: CPU model, plus the GPUs when there are any.
pub fn hardware_class(r: &RunResult) -> String {
    let cpu = format!("CPU {}", r.hardware.cpu_model);
    if r.hardware.gpus.is_empty() {
        return cpu;
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for g in &r.hardware.gpus {
        *counts.entry(g.as_str()).or_default() += 1;
    }
    let gpus: Vec<String> = counts
        .iter()
        .map(|(name, n)| format!("{n} × {name}"))
        .collect();
    format!("{cpu} + GPU {}", gpus.join(", "))
}

/// The energy sources counted in a result's total, e.g. `rapl` or `estimate`, joined by `+`.
pub fn sources(r: &RunResult) -> String {
    let mut names: Vec<&str> = r
        .energy
        .by_source
        .iter()
        .filter(|s| s.kind.counts_in_total())
        .map(|s| s.name.as_str())
        .collect();
    names.sort();
    names.dedup();
    names.join("+")
}

/// One ranked model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// 1 = most frugal; tied Wh share the better rank.
    pub rank: usize,
    pub model: String,
    pub arch: String,
    pub dtype: String,
    pub batch_size: u64,
    /// Gross Wh per 1,000 queries (the ranking figure).
    pub wh_per_1000_queries: f64,
    /// The estimate's low–high range of `wh_per_1000_queries` (`None` when measured).
    pub wh_per_1000_range: Option<[f64; 2]>,
    /// 95% CI of the mean, converted to Wh/1k, when the run had ≥ 2 repetitions.
    pub wh_per_1000_ci95: Option<[f64; 2]>,
    /// Net of idle Wh/1k, when an idle baseline was measured.
    pub net_wh_per_1000_queries: Option<f64>,
    pub joules_per_query: f64,
    /// Text generation: J per generated token.
    pub joules_per_generated_token: Option<f64>,
    pub quality_metric: Option<String>,
    pub quality: Option<f64>,
    /// 1–5, or `None` when the table is not rated (see [`Table::rating`]).
    pub stars: Option<u8>,
    /// GPU-only Wh per 1,000 queries (the AI Energy Score's figure): `None` when no GPU was
    /// metered.
    pub gpu_wh_per_1000_queries: Option<f64>,
    /// The preset the run followed (`ai-energy-score`, `frugal-ai`), if any.
    pub preset: Option<String>,
    /// On the accuracy-vs-energy Pareto front of this table (`None`: no quality figure).
    pub pareto: Option<bool>,
    pub method: OverallMethod,
    /// Counted energy sources (`rapl`, `nvml`, `estimate`, …).
    pub sources: String,
    pub hardware: String,
    pub repetitions: usize,
    pub queries_per_repetition: u64,
    pub g_co2e_per_1000_queries: f64,
    pub started_at: DateTime<Utc>,
    /// The result file.
    pub file: String,
    /// Its power-timeline CSV, when present.
    #[serde(skip)]
    pub timeline: Option<PathBuf>,
    /// Notes of the energy figures (estimate details, clamps).
    pub notes: Vec<String>,
}

/// One table: comparable results of one task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    pub task: Task,
    pub hardware: String,
    pub method: OverallMethod,
    /// The quality metric most rows use (the Pareto front compares like with like).
    pub quality_metric: Option<String>,
    pub rows: Vec<Row>,
    /// How the rows' stars were given.
    pub rating: Rating,
}

/// How a table's stars were given, or why it has none.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rating {
    pub rule: StarRule,
    /// Results the stars are given among: the table's models, or the reference pool's
    /// entries of this task, hardware class and method.
    pub pool_size: usize,
    /// The reference pool, when rated against one.
    pub reference_pool: Option<PoolRef>,
    /// `not rated (n models; at least 5 needed)` when the pool is too small.
    pub not_rated: Option<String>,
}

impl Rating {
    /// The header text of a table: how it is rated, or why not.
    pub fn describe(&self) -> String {
        if let Some(why) = &self.not_rated {
            return why.clone();
        }
        match &self.reference_pool {
            Some(p) => format!(
                "stars: {} against {} ({} results)",
                self.rule.as_str(),
                p.describe(),
                self.pool_size
            ),
            None => format!(
                "stars: {} among {} models",
                self.rule.as_str(),
                self.pool_size
            ),
        }
    }
}

impl Table {
    /// A short id unique within the board, for file names and anchors.
    pub fn slug(&self, index: usize) -> String {
        format!(
            "t{}-{}-{}",
            index + 1,
            slugify(self.task.as_str()),
            self.method.as_str()
        )
    }
}

/// A result that was valid but not ranked, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotRanked {
    pub path: String,
    pub model: String,
    pub task: Task,
    pub reason: String,
}

/// The whole board.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Board {
    pub star_rule: StarRule,
    /// The reference pool stars were given against, if any.
    pub reference_pool: Option<PoolRef>,
    pub generated_at: DateTime<Utc>,
    /// Sorted by task, then measured before mixed before estimated, then hardware.
    pub tables: Vec<Table>,
    pub not_ranked: Vec<NotRanked>,
    pub rejected: Vec<Rejected>,
}

fn method_order(m: OverallMethod) -> u8 {
    match m {
        OverallMethod::Measured => 0,
        OverallMethod::Mixed => 1,
        OverallMethod::Estimated => 2,
    }
}

fn row_of(l: &Loaded) -> Row {
    let r = &l.result;
    Row {
        rank: 0,
        model: r.model.id.clone(),
        arch: r.model.arch.clone(),
        dtype: r.settings.dtype.clone(),
        batch_size: r.settings.batch_size,
        wh_per_1000_queries: r.energy.wh_per_1000_queries,
        wh_per_1000_range: r.energy.wh_range(),
        // Displayed: the lower end clamped at 0 J (the raw interval stays in the result).
        wh_per_1000_ci95: r
            .energy
            .ci95_display()
            .map(|[lo, hi]| [wh_per_1000_queries(lo), wh_per_1000_queries(hi)]),
        net_wh_per_1000_queries: r.net_wh_per_1000(),
        joules_per_query: r.energy.joules_per_query,
        joules_per_generated_token: r.generation.as_ref().map(|g| g.joules_per_generated_token),
        quality_metric: r.quality.as_ref().map(|q| q.metric.clone()),
        quality: r.quality.as_ref().map(|q| q.value),
        stars: None,
        gpu_wh_per_1000_queries: gpu_wh_per_1000_queries(r),
        preset: r.preset.as_ref().map(|p| p.name.clone()),
        pareto: None,
        method: r.energy.method,
        sources: sources(r),
        hardware: hardware_class(r),
        repetitions: r.repetitions.len(),
        queries_per_repetition: r.settings.queries,
        g_co2e_per_1000_queries: r.carbon.g_co2e_per_1000_queries,
        started_at: r.started_at,
        file: l.path.display().to_string(),
        timeline: l.timeline.clone(),
        notes: r.energy.notes.clone(),
    }
}

/// GPU-only Wh per 1,000 queries of a result: the energy of its `gpu` domains, `None` when it
/// metered no GPU (never 0 for "no GPU").
pub fn gpu_wh_per_1000_queries(r: &RunResult) -> Option<f64> {
    let gpu: Vec<f64> = r
        .energy
        .by_source
        .iter()
        .filter(|s| s.kind == crate::result::DomainKind::Gpu)
        .map(|s| s.joules)
        .collect();
    let queries: u64 = r.repetitions.iter().map(|x| x.queries).sum();
    if gpu.is_empty() || queries == 0 {
        return None;
    }
    Some(wh_per_1000_queries(
        gpu.iter().fold(0.0, |a, b| a + b) / queries as f64,
    ))
}

/// Builds the board from loaded inputs: interrupted runs and older results of a model in the
/// same table are listed as not ranked; the rest is grouped, ranked and starred among
/// themselves.
pub fn build_board(inputs: &Inputs, rule: StarRule, generated_at: DateTime<Utc>) -> Board {
    build_board_against(inputs, rule, generated_at, None)
}

/// [`build_board`], with stars given against `pool` when there is one.
pub fn build_board_against(
    inputs: &Inputs,
    rule: StarRule,
    generated_at: DateTime<Utc>,
    pool: Option<&ReferencePool>,
) -> Board {
    let mut not_ranked = Vec::new();
    // (task, method order, hardware) → model → latest result.
    type Key = (Task, u8, String);
    let mut groups: BTreeMap<Key, BTreeMap<String, &Loaded>> = BTreeMap::new();
    for l in &inputs.loaded {
        let r = &l.result;
        let nr = |reason: String| NotRanked {
            path: l.path.display().to_string(),
            model: r.model.id.clone(),
            task: r.task,
            reason,
        };
        if r.status != Status::Complete {
            not_ranked.push(nr("interrupted run: only complete runs are ranked".into()));
            continue;
        }
        let key = (r.task, method_order(r.energy.method), hardware_class(r));
        let models = groups.entry(key).or_default();
        match models.get(&r.model.id) {
            Some(prev) if (prev.result.started_at, &prev.path) >= (r.started_at, &l.path) => {
                not_ranked.push(nr(format!(
                    "superseded by the later result {}",
                    prev.path.display()
                )));
            }
            Some(prev) => {
                not_ranked.push(NotRanked {
                    path: prev.path.display().to_string(),
                    model: prev.result.model.id.clone(),
                    task: prev.result.task,
                    reason: format!("superseded by the later result {}", l.path.display()),
                });
                models.insert(r.model.id.clone(), l);
            }
            None => {
                models.insert(r.model.id.clone(), l);
            }
        }
    }
    let mut tables = Vec::new();
    for ((task, _, hardware), models) in groups {
        let mut rows: Vec<Row> = models.values().map(|l| row_of(l)).collect();
        rows.sort_by(|a, b| {
            a.wh_per_1000_queries
                .total_cmp(&b.wh_per_1000_queries)
                .then_with(|| a.model.cmp(&b.model))
        });
        let wh: Vec<f64> = rows.iter().map(|r| r.wh_per_1000_queries).collect();
        for i in 0..rows.len() {
            rows[i].rank = 1 + wh.iter().filter(|&&x| x < wh[i]).count();
        }
        let method = rows[0].method;
        let rating = match pool {
            None => {
                let given = rate_pool(&wh, rule);
                if let Some(given) = &given {
                    for (row, s) in rows.iter_mut().zip(given) {
                        row.stars = Some(*s);
                    }
                }
                Rating {
                    rule,
                    pool_size: wh.len(),
                    reference_pool: None,
                    not_rated: given.is_none().then(|| not_rated_text(wh.len(), "models")),
                }
            }
            Some(pool) => {
                let refs: Vec<f64> = pool
                    .entries(task, method, &hardware)
                    .iter()
                    .map(|e| e.wh_per_1000_queries)
                    .collect();
                for row in rows.iter_mut() {
                    row.stars = rate_against(row.wh_per_1000_queries, &refs, rule);
                }
                let p = pool.reference();
                Rating {
                    rule,
                    pool_size: refs.len(),
                    not_rated: (refs.len() < MIN_POOL).then(|| {
                        format!(
                            "{} in {}",
                            not_rated_text(refs.len(), "reference results"),
                            p.describe()
                        )
                    }),
                    reference_pool: Some(p),
                }
            }
        };
        let metric = main_metric(&rows);
        let points: Vec<Point> = rows
            .iter()
            .map(|r| Point {
                wh: r.wh_per_1000_queries,
                // The front wants "higher is better": error rates (WER) are negated.
                quality: r.quality.filter(|_| r.quality_metric == metric).map(|q| {
                    if lower_is_better(metric.as_deref()) {
                        -q
                    } else {
                        q
                    }
                }),
            })
            .collect();
        for (row, on) in rows.iter_mut().zip(pareto_front(&points)) {
            row.pareto = on;
        }
        tables.push(Table {
            task,
            hardware,
            method,
            quality_metric: metric,
            rows,
            rating,
        });
    }
    not_ranked.sort_by(|a, b| a.path.cmp(&b.path));
    Board {
        star_rule: rule,
        reference_pool: pool.map(ReferencePool::reference),
        generated_at,
        tables,
        not_ranked,
        rejected: inputs.rejected.clone(),
    }
}

/// Quality metrics where lower is better (error rates), flipped for the Pareto front.
fn lower_is_better(metric: Option<&str>) -> bool {
    matches!(metric, Some("wer"))
}

/// The most common quality metric among rows (ties: alphabetical first).
fn main_metric(rows: &[Row]) -> Option<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in rows {
        if let Some(m) = &r.quality_metric {
            *counts.entry(m.as_str()).or_default() += 1;
        }
    }
    let best = counts.values().copied().max()?;
    counts
        .into_iter()
        .find(|(_, n)| *n == best)
        .map(|(m, _)| m.to_string())
}

/// Lower-case ASCII letters, digits and `-` only (at most 40 characters; `x` when empty):
/// safe in file names and URLs whatever the input.
pub fn slugify(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.len() >= 40 {
            break;
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "x".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe_whatever_the_name() {
        assert_eq!(slugify("all-MiniLM-L6-v2"), "all-minilm-l6-v2");
        assert_eq!(
            slugify("<script>alert(1)</script>"),
            "script-alert-1-script"
        );
        assert_eq!(slugify("../../etc/passwd"), "etc-passwd");
        assert_eq!(slugify("日本"), "x");
        assert!(slugify(&"a".repeat(100)).len() <= 40);
    }
}
