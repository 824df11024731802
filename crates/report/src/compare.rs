//! `frugalbench compare`: energy per query of NEW against BASE, for a CI gate.
//!
//! Per pair of results (same model and task): the repetitions' gross `joules_per_query` of
//! each side, the ratio of the means NEW/BASE, Welch's t-test (two-sided) and a bootstrap 95%
//! interval of the ratio. The pair **regressed** when the increase is above the threshold
//! (default 5%) *and* significant (p < α, default 0.05); with fewer than two repetitions on a
//! side no test is possible, so the threshold alone decides and the verdict says
//! "not significance-tested". **Improved** is the mirror image. Pairs measured on different
//! hardware, with different methods (measured vs estimated, or other counted domains), on
//! another task or dataset are **incomparable**. Exit code: 1 when any pair regressed, else 2
//! when a pair is incomparable or nothing matched, else 0.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::display::{num, p_value, pct, thousands};
use crate::inputs::Loaded;
use crate::result::{OverallMethod, RunResult, Task};
use crate::significance::{bootstrap_ratio_ci95, welch_t_test, Welch};
use crate::stats::mean;
use crate::wh_per_1000_queries;

/// Gate settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CompareOptions {
    /// Largest tolerated increase of energy per query, percent (default 5).
    pub max_regression_pct: f64,
    /// Significance level of the two-sided Welch test (default 0.05).
    pub alpha: f64,
    /// Bootstrap resamples for the interval of the ratio (default 10,000).
    pub resamples: usize,
    /// Seed of the bootstrap's random generator (fixed, so output is reproducible).
    pub seed: u64,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            max_regression_pct: 5.0,
            alpha: 0.05,
            resamples: 10_000,
            seed: 0x00f2_6a1b,
        }
    }
}

/// Outcome of one pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Energy per query rose above the threshold (and significantly, when testable).
    Regressed,
    /// Energy per query fell by more than the threshold (and significantly, when testable).
    Improved,
    /// Within the threshold, or not significant.
    Unchanged,
    /// The two results cannot be compared (see `incomparable`).
    Incomparable,
}

impl Verdict {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Regressed => "regressed",
            Verdict::Improved => "improved",
            Verdict::Unchanged => "unchanged",
            Verdict::Incomparable => "incomparable",
        }
    }
}

/// One side of a pair.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Side {
    pub file: String,
    pub model: String,
    pub method: OverallMethod,
    /// Per-repetition gross J/query (repetitions with queries only).
    pub joules_per_query: Vec<f64>,
    /// Mean of `joules_per_query` (NaN when none).
    pub mean_joules_per_query: f64,
    /// `mean_joules_per_query` / 3.6.
    pub wh_per_1000_queries: f64,
    /// Quality metric name and value, when computed.
    pub quality: Option<(String, f64)>,
}

impl Side {
    fn of(l: &Loaded) -> Side {
        let r = &l.result;
        let jpq: Vec<f64> = r
            .repetitions
            .iter()
            .filter(|x| x.queries > 0)
            .map(|x| x.joules_per_query)
            .collect();
        let m = mean(&jpq).unwrap_or(f64::NAN);
        Side {
            file: l.path.display().to_string(),
            model: r.model.id.clone(),
            method: r.energy.method,
            joules_per_query: jpq,
            mean_joules_per_query: m,
            wh_per_1000_queries: wh_per_1000_queries(m),
            quality: r.quality.as_ref().map(|q| (q.metric.clone(), q.value)),
        }
    }
}

/// The comparison of one BASE result with one NEW result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairComparison {
    pub model: String,
    pub task: Task,
    pub base: Side,
    pub new: Side,
    /// mean NEW / mean BASE (absent when incomparable).
    pub ratio: Option<f64>,
    /// (ratio − 1) × 100.
    pub change_pct: Option<f64>,
    /// Bootstrap 95% interval of the ratio.
    pub ratio_ci95: Option<(f64, f64)>,
    /// Welch's t-test of NEW against BASE (absent with < 2 repetitions on a side).
    pub welch: Option<Welch>,
    /// False when a side has a single repetition: the verdict rests on the threshold alone.
    pub significance_tested: bool,
    pub verdict: Verdict,
    /// One sentence: why this verdict.
    pub why: String,
    /// Why the pair cannot be compared (empty when it can).
    pub incomparable: Vec<String>,
    /// Differences worth knowing that do not block the comparison.
    pub notes: Vec<String>,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub options: CompareOptions,
    pub pairs: Vec<PairComparison>,
    /// `model · task` keys found only in BASE (folder mode).
    pub only_in_base: Vec<String>,
    /// `model · task` keys found only in NEW (folder mode).
    pub only_in_new: Vec<String>,
    /// 0 ok, 1 regression, 2 incomparable or nothing to compare.
    pub exit_code: i32,
}

/// The counted energy domains of a result, as `name kind (method)` strings, sorted.
fn counted_domains(r: &RunResult) -> Vec<String> {
    let mut v: Vec<String> = r
        .energy
        .by_source
        .iter()
        .filter(|s| s.kind.counts_in_total())
        .map(|s| {
            let kind = serde_json::to_value(s.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let method = serde_json::to_value(s.method)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            format!("{} {kind} ({method})", s.name)
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Why `base` and `new` cannot be compared (empty when they can): task, dataset, hardware
/// (CPU model, GPUs) and method (overall method and the counted domains).
pub fn incomparable_reasons(base: &RunResult, new: &RunResult) -> Vec<String> {
    let mut why = Vec::new();
    if base.task != new.task {
        why.push(format!(
            "different task: BASE {:?}, NEW {:?}",
            base.task, new.task
        ));
    }
    if base.dataset.id != new.dataset.id || base.dataset.sha256 != new.dataset.sha256 {
        why.push(format!(
            "different dataset: BASE {:?} (sha256 {}), NEW {:?} (sha256 {})",
            base.dataset.id,
            short_hash(&base.dataset.sha256),
            new.dataset.id,
            short_hash(&new.dataset.sha256)
        ));
    }
    if base.hardware.cpu_model != new.hardware.cpu_model {
        why.push(format!(
            "different hardware: BASE CPU {:?}, NEW CPU {:?}",
            base.hardware.cpu_model, new.hardware.cpu_model
        ));
    }
    if base.hardware.gpus != new.hardware.gpus {
        why.push(format!(
            "different hardware: BASE GPUs {:?}, NEW GPUs {:?}",
            base.hardware.gpus, new.hardware.gpus
        ));
    }
    let (mb, mn) = (base.energy.method, new.energy.method);
    if mb != mn {
        let what = if matches!(
            (mb, mn),
            (OverallMethod::Measured, OverallMethod::Estimated)
                | (OverallMethod::Estimated, OverallMethod::Measured)
        ) {
            "measured vs estimated"
        } else {
            "different methods"
        };
        why.push(format!(
            "{what}: BASE energy is {}, NEW energy is {}",
            mb.as_str(),
            mn.as_str()
        ));
    } else {
        let (db, dn) = (counted_domains(base), counted_domains(new));
        if db != dn {
            why.push(format!(
                "different methods: BASE counts {}, NEW counts {}",
                list_or_none(&db),
                list_or_none(&dn)
            ));
        }
    }
    why
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "no domain".into()
    } else {
        v.join(", ")
    }
}

fn short_hash(h: &str) -> String {
    h.chars().take(12).collect()
}

/// Differences that do not block the comparison but change what it means.
fn notes(base: &RunResult, new: &RunResult) -> Vec<String> {
    let mut notes = Vec::new();
    if base.model.id != new.model.id {
        notes.push(format!(
            "different models: BASE {:?}, NEW {:?}",
            base.model.id, new.model.id
        ));
    }
    let (s, t) = (&base.settings, &new.settings);
    let mut diffs = Vec::new();
    let mut diff = |name: &str, a: String, b: String| {
        if a != b {
            diffs.push(format!("{name} {a} → {b}"));
        }
    };
    diff(
        "batch_size",
        s.batch_size.to_string(),
        t.batch_size.to_string(),
    );
    diff("threads", s.threads.to_string(), t.threads.to_string());
    diff("dtype", s.dtype.clone(), t.dtype.clone());
    diff("device", s.device.clone(), t.device.clone());
    diff("queries", s.queries.to_string(), t.queries.to_string());
    diff(
        "max_new_tokens",
        format!("{:?}", s.max_new_tokens),
        format!("{:?}", t.max_new_tokens),
    );
    if !diffs.is_empty() {
        notes.push(format!("settings differ: {}", diffs.join(", ")));
    }
    for (side, r) in [("BASE", base), ("NEW", new)] {
        if r.status != crate::result::Status::Complete {
            notes.push(format!("{side} run was interrupted: partial repetitions"));
        }
    }
    notes
}

/// Compares one BASE result with one NEW result.
pub fn compare_pair(base: &Loaded, new: &Loaded, opts: &CompareOptions) -> PairComparison {
    let (b, n) = (Side::of(base), Side::of(new));
    let mut incomparable = incomparable_reasons(&base.result, &new.result);
    for (name, side) in [("BASE", &b), ("NEW", &n)] {
        if side.joules_per_query.is_empty() {
            incomparable.push(format!("{name} has no metered repetition"));
        }
    }
    if !b.joules_per_query.is_empty() && b.mean_joules_per_query <= 0.0 {
        incomparable.push("BASE has 0 J/query: no ratio can be formed".into());
    }
    let mut pc = PairComparison {
        model: new.result.model.id.clone(),
        task: new.result.task,
        base: b,
        new: n,
        ratio: None,
        change_pct: None,
        ratio_ci95: None,
        welch: None,
        significance_tested: false,
        verdict: Verdict::Incomparable,
        why: String::new(),
        incomparable,
        notes: notes(&base.result, &new.result),
    };
    if !pc.incomparable.is_empty() {
        pc.why = format!("not comparable: {}", pc.incomparable.join("; "));
        return pc;
    }
    let ratio = pc.new.mean_joules_per_query / pc.base.mean_joules_per_query;
    let change = (ratio - 1.0) * 100.0;
    pc.ratio = Some(ratio);
    pc.change_pct = Some(change);
    pc.ratio_ci95 = bootstrap_ratio_ci95(
        &pc.base.joules_per_query,
        &pc.new.joules_per_query,
        opts.resamples,
        opts.seed,
    );
    pc.welch = welch_t_test(&pc.base.joules_per_query, &pc.new.joules_per_query);
    pc.significance_tested = pc.welch.is_some();
    let threshold = opts.max_regression_pct;
    let beyond = if change > threshold {
        Some(Verdict::Regressed)
    } else if change < -threshold {
        Some(Verdict::Improved)
    } else {
        None
    };
    let direction = |v: Verdict| {
        if v == Verdict::Regressed {
            format!("{} > +{}% threshold", pct(change), num(threshold))
        } else {
            format!("{} < −{}% threshold", pct(change), num(threshold))
        }
    };
    (pc.verdict, pc.why) = match (beyond, pc.welch) {
        (None, _) => (
            Verdict::Unchanged,
            format!("{} within the ±{}% threshold", pct(change), num(threshold)),
        ),
        (Some(v), None) => (
            v,
            format!(
                "{}; not significance-tested (a side has a single repetition: {} vs {}), \
                 decided on the threshold alone",
                direction(v),
                pc.base.joules_per_query.len(),
                pc.new.joules_per_query.len()
            ),
        ),
        (Some(v), Some(w)) if w.p_two_sided < opts.alpha => (
            v,
            format!(
                "{} and significant (Welch p = {} < {})",
                direction(v),
                p_value(w.p_two_sided),
                num(opts.alpha)
            ),
        ),
        (Some(v), Some(w)) => (
            Verdict::Unchanged,
            format!(
                "{} but not significant (Welch p = {} ≥ {})",
                direction(v),
                p_value(w.p_two_sided),
                num(opts.alpha)
            ),
        ),
    };
    pc
}

/// A `model · task` key.
fn key(r: &RunResult) -> (String, Task) {
    (r.model.id.clone(), r.task)
}

/// The latest result (by `started_at`, then path) per (model, task), with a count of the
/// others.
fn latest_by_key(set: &[Loaded]) -> BTreeMap<(String, Task), (&Loaded, usize)> {
    let mut map: BTreeMap<(String, Task), (&Loaded, usize)> = BTreeMap::new();
    for l in set {
        map.entry(key(&l.result))
            .and_modify(|(best, others)| {
                *others += 1;
                if (l.result.started_at, &l.path) > (best.result.started_at, &best.path) {
                    *best = l;
                }
            })
            .or_insert((l, 0));
    }
    map
}

/// Compares two sets of results. With `pair_mode` (two single files) the one BASE result is
/// compared with the one NEW result whatever their models; otherwise results are matched by
/// (model, task), the latest per key on each side.
pub fn compare_sets(
    base: &[Loaded],
    new: &[Loaded],
    pair_mode: bool,
    opts: &CompareOptions,
) -> Comparison {
    let mut pairs = Vec::new();
    let mut only_in_base = Vec::new();
    let mut only_in_new = Vec::new();
    if pair_mode && base.len() == 1 && new.len() == 1 {
        pairs.push(compare_pair(&base[0], &new[0], opts));
    } else {
        let (mb, mn) = (latest_by_key(base), latest_by_key(new));
        for (k, (b, b_others)) in &mb {
            match mn.get(k) {
                Some((n, n_others)) => {
                    let mut pc = compare_pair(b, n, opts);
                    for (side, others) in [("BASE", b_others), ("NEW", n_others)] {
                        if *others > 0 {
                            pc.notes.push(format!(
                                "{side} has {others} older result(s) for this model and task; \
                                 the latest was used"
                            ));
                        }
                    }
                    pairs.push(pc);
                }
                None => only_in_base.push(format!("{} · {}", k.0, k.1)),
            }
        }
        for k in mn.keys() {
            if !mb.contains_key(k) {
                only_in_new.push(format!("{} · {}", k.0, k.1));
            }
        }
    }
    let exit_code = if pairs.iter().any(|p| p.verdict == Verdict::Regressed) {
        1
    } else if pairs.is_empty() || pairs.iter().any(|p| p.verdict == Verdict::Incomparable) {
        2
    } else {
        0
    };
    Comparison {
        options: *opts,
        pairs,
        only_in_base,
        only_in_new,
        exit_code,
    }
}

impl Comparison {
    /// How many pairs got each verdict, in verdict order.
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        [
            Verdict::Regressed,
            Verdict::Improved,
            Verdict::Unchanged,
            Verdict::Incomparable,
        ]
        .into_iter()
        .map(|v| {
            (
                v.as_str(),
                self.pairs.iter().filter(|p| p.verdict == v).count(),
            )
        })
        .collect()
    }

    /// One word for the whole comparison.
    pub fn headline(&self) -> &'static str {
        match self.exit_code {
            0 => "no regression",
            1 => "REGRESSION",
            _ if self.pairs.is_empty() => "nothing to compare",
            _ => "incomparable input",
        }
    }

    /// One sentence: the rule the gate applied.
    pub fn gate(&self) -> String {
        let o = &self.options;
        format!(
            "regressed = energy per query (mean of the repetitions' gross J/query) up by more \
             than {}% and significant by Welch's t-test (two-sided, α = {}); interval: \
             bootstrap 95% of NEW/BASE ({} resamples, fixed seed)",
            num(o.max_regression_pct),
            num(o.alpha),
            thousands(o.resamples)
        )
    }

    /// `1 regressed, 0 improved, …`.
    pub fn counts_line(&self) -> String {
        self.counts()
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl PairComparison {
    /// The quality metric, BASE → NEW (`–` for a side without it); `None` when neither has one.
    pub fn quality_change(&self) -> Option<String> {
        match (&self.base.quality, &self.new.quality) {
            (Some((mb, b)), Some((mn, n))) if mb == mn => {
                Some(format!("{mb} {} → {}", num(*b), num(*n)))
            }
            (Some((mb, b)), Some((mn, n))) => Some(format!("{mb} {} → {mn} {}", num(*b), num(*n))),
            (Some((m, b)), None) => Some(format!("{m} {} → –", num(*b))),
            (None, Some((m, n))) => Some(format!("{m} – → {}", num(*n))),
            (None, None) => None,
        }
    }
}
