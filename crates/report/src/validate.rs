//! Checking results: against the JSON Schema ([`validate`]) and against the rules the schema
//! cannot express ([`sanity_check`]).

use std::sync::OnceLock;

use serde_json::Value;

use frugalbench_schema::derive::{counted_joules, sources_method};
use frugalbench_schema::{
    per, wh_per_1000_queries, Repetition, RunResult, SourceEnergy, Status, Task, SCHEMA_VERSION,
};

/// The JSON Schema (draft 2020-12) of a result file, as committed in `schema/result.schema.json`.
pub const RESULT_SCHEMA: &str = include_str!("../../../schema/result.schema.json");

/// Relative tolerance for figures defined as a ratio of others (same arithmetic on both sides).
pub const RATIO_TOLERANCE: f64 = 1e-6;
/// Relative tolerance for totals that are sums of other figures.
pub const SUM_TOLERANCE: f64 = 1e-3;

/// Sanity bounds: figures above these are not measurements but corrupt or hostile files (and
/// would break charts and statistics), so [`sanity_check`] rejects them. Each is far above
/// anything one machine can produce, so no genuine run comes near.
///
/// Energy in joules (any `_joules`, J/query, J/token figure, CI bounds): 1e12 J ≈ 278 MWh,
/// 100 kW for over three months.
pub const MAX_JOULES: f64 = 1e12;
/// Wh per 1,000 queries: [`MAX_JOULES`] per query, in Wh/1k (J / 3.6).
pub const MAX_WH_PER_1000: f64 = MAX_JOULES / 3.6;
/// Average or idle power in watts: 100 kW (a node of 8 GPUs draws about 10 kW; 1 MW is
/// rejected).
pub const MAX_WATTS: f64 = 1e5;
/// Durations in seconds: 1e7 s ≈ 116 days. Latencies in ms: the same in milliseconds.
pub const MAX_SECONDS: f64 = 1e7;
/// Rates (queries or tokens per second): 1e9 per second.
pub const MAX_PER_SECOND: f64 = 1e9;
/// Grams of CO2e (total or per 1,000 queries): 1e12 g.
pub const MAX_GRAMS: f64 = 1e12;
/// Grid carbon intensity, g CO2e/kWh (the dirtiest grids are near 1,200).
pub const MAX_GRID_INTENSITY: f64 = 1e4;
/// Power usage effectiveness (1 is perfect; real data centres are below 3).
pub const MAX_PUE: f64 = 100.0;
/// Rounding slack at the ends of a metric's range: a correlation computed as
/// 1.0000000000000002 is a perfect 1, not an absurd value.
pub const QUALITY_SLACK: f64 = 1e-9;
/// Largest magnitude of a quality figure whose metric has no known range.
pub const MAX_QUALITY_MAGNITUDE: f64 = 1e12;
/// At most this many `energy.notes` (also the schema's `maxItems`).
pub const MAX_NOTES: usize = 1000;
/// At most this many characters per note (also the schema's `maxLength`).
pub const MAX_NOTE_CHARS: usize = 4000;
/// At most this many schema violations are listed for one file (one more line says there are
/// more).
pub const MAX_LISTED_VIOLATIONS: usize = 20;
/// A listed schema violation is cut to about this many characters, its start and end kept
/// (it quotes the offending value).
pub const MAX_VIOLATION_CHARS: usize = 500;

/// The range a quality metric's value must lie in (inclusive), by metric name:
/// correlations (`spearman`, `pearson`, `kendall`, `mcc`) in [−1, 1]; accuracies, F1
/// scores, precision, recall, exact match and rates (`accuracy`, `macro_f1`, `f1`,
/// `precision`, `recall`, `exact_match`, `non_empty_output_rate`, any `*_rate`, `*_f1`,
/// `*_accuracy`, `*_precision`, `*_recall`) in [0, 1]; error rates that may exceed 1 (`wer`,
/// `cer`) in [0, [`MAX_QUALITY_MAGNITUDE`]]; any other metric in
/// ±[`MAX_QUALITY_MAGNITUDE`]. Values must also be finite; [`QUALITY_SLACK`] of rounding is
/// tolerated at either end.
pub fn quality_range(metric: &str) -> (f64, f64) {
    let m = metric.to_ascii_lowercase();
    let unit = [
        "accuracy",
        "macro_f1",
        "micro_f1",
        "weighted_f1",
        "f1",
        "precision",
        "recall",
        "exact_match",
        "non_empty_output_rate",
    ];
    if matches!(
        m.as_str(),
        "spearman" | "pearson" | "kendall" | "kendall_tau" | "mcc" | "matthews"
    ) {
        (-1.0, 1.0)
    } else if matches!(m.as_str(), "wer" | "cer") {
        (0.0, MAX_QUALITY_MAGNITUDE)
    } else if unit.contains(&m.as_str())
        || ["_rate", "_f1", "_accuracy", "_precision", "_recall"]
            .iter()
            .any(|suffix| m.ends_with(suffix))
    {
        (0.0, 1.0)
    } else {
        (-MAX_QUALITY_MAGNITUDE, MAX_QUALITY_MAGNITUDE)
    }
}

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let schema: Value =
            serde_json::from_str(RESULT_SCHEMA).expect("result.schema.json is valid JSON");
        jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("result.schema.json is a valid draft 2020-12 schema")
    })
}

/// Validates a result document against the schema; on failure, one readable line per
/// violation, each starting with the JSON pointer of the offending value
/// (e.g. `/energy/total_joules: -1.0 is less than the minimum of 0`). At most
/// [`MAX_LISTED_VIOLATIONS`] are listed, then one line says more were found, so a file of a
/// million bad items cannot make a million messages; each is cut to about
/// [`MAX_VIOLATION_CHARS`] characters, keeping its start and end. Control and bidi characters of the file's values are replaced in the
/// messages ([`crate::display::sanitize`]).
pub fn validate(value: &Value) -> Result<(), Vec<String>> {
    let mut iter = validator().iter_errors(value);
    let mut errors: Vec<String> = iter
        .by_ref()
        .take(MAX_LISTED_VIOLATIONS)
        .map(|e| {
            let at = e.instance_path().to_string();
            let at = if at.is_empty() {
                "(root)".to_string()
            } else {
                at
            };
            let msg = crate::display::sanitize(&format!("{at}: {e}")).into_owned();
            // A message quotes the offending value, which may be a huge array or string: keep
            // its start (the pointer) and its end (the rule broken).
            let n = msg.chars().count();
            if n > MAX_VIOLATION_CHARS {
                let half = MAX_VIOLATION_CHARS / 2;
                let head: String = msg.chars().take(half).collect();
                let tail: String = msg.chars().skip(n - half).collect();
                format!("{head} … {tail}")
            } else {
                msg
            }
        })
        .collect();
    if iter.next().is_some() {
        errors.push(format!(
            "(root): more violations than the {MAX_LISTED_VIOLATIONS} listed"
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()) + 1e-12
}

struct Checker {
    problems: Vec<String>,
}

impl Checker {
    /// Finite, ≥ 0 and at most `max` (`unit` names it in the message).
    fn bounded(&mut self, field: &str, v: f64, max: f64, unit: &str) {
        if !v.is_finite() || v < 0.0 {
            self.problems
                .push(format!("{field} = {v}: must be finite and non-negative"));
        } else if v > max {
            self.problems.push(format!(
                "{field} = {v}: above the sanity bound of {max:e} {unit}"
            ));
        }
    }

    /// Energy in joules (J, J/query, J/token).
    fn energy(&mut self, field: &str, v: f64) {
        self.bounded(field, v, MAX_JOULES, "J");
    }

    fn watts(&mut self, field: &str, v: f64) {
        self.bounded(field, v, MAX_WATTS, "W");
    }

    fn seconds(&mut self, field: &str, v: f64) {
        self.bounded(field, v, MAX_SECONDS, "s");
    }

    fn millis(&mut self, field: &str, v: f64) {
        self.bounded(field, v, MAX_SECONDS * 1000.0, "ms");
    }

    fn rate(&mut self, field: &str, v: f64) {
        self.bounded(field, v, MAX_PER_SECOND, "per second");
    }

    fn wh_per_1000(&mut self, field: &str, v: f64) {
        self.bounded(field, v, MAX_WH_PER_1000, "Wh per 1,000 queries");
    }

    fn grams(&mut self, field: &str, v: f64) {
        self.bounded(field, v, MAX_GRAMS, "g CO2e");
    }

    /// Finite and within `[lo, hi]`.
    fn within(&mut self, field: &str, v: f64, lo: f64, hi: f64) {
        if !v.is_finite() {
            self.problems.push(format!("{field} = {v}: must be finite"));
        } else if v < lo || v > hi {
            self.problems
                .push(format!("{field} = {v}: must be within [{lo}, {hi}]"));
        }
    }

    fn quality(&mut self, field: &str, metric: &str, v: f64) {
        let (lo, hi) = quality_range(metric);
        if !v.is_finite() {
            self.problems.push(format!("{field} = {v}: must be finite"));
        } else if v < lo - QUALITY_SLACK || v > hi + QUALITY_SLACK {
            self.problems.push(format!(
                "{field} = {v}: outside the range [{lo}, {hi}] of the metric {}",
                crate::display::sanitize(metric)
            ));
        }
    }

    fn equals(&mut self, field: &str, found: f64, expected: f64, rel: f64, how: &str) {
        if found.is_finite() && expected.is_finite() && !close(found, expected, rel) {
            self.problems
                .push(format!("{field} = {found} but {how} = {expected}"));
        }
    }

    fn sources(&mut self, at: &str, sources: &[SourceEnergy], total: f64) {
        for (i, s) in sources.iter().enumerate() {
            self.energy(&format!("{at}.by_source[{i}].joules"), s.joules);
            self.watts(&format!("{at}.by_source[{i}].avg_watts"), s.avg_watts);
            for (name, v) in [("joules_low", s.joules_low), ("joules_high", s.joules_high)] {
                if let Some(v) = v {
                    self.energy(&format!("{at}.by_source[{i}].{name}"), v);
                }
            }
        }
        if !sources.is_empty() {
            self.equals(
                &format!("{at}.total_joules"),
                total,
                counted_joules(sources),
                SUM_TOLERANCE,
                &format!("the sum of {at}.by_source over cpu-package, dram and gpu domains"),
            );
        }
    }
}

/// Rules beyond the schema; returns one readable line per problem (empty = sane).
///
/// Checks: schema version and known task; every number finite, and every energy, power,
/// duration, rate and carbon figure non-negative and within its sanity bound ([`MAX_JOULES`],
/// [`MAX_WATTS`], [`MAX_SECONDS`], …); quality values (and `quality.extra`) within their
/// metric's range ([`quality_range`]); at most [`MAX_NOTES`] notes of at most
/// [`MAX_NOTE_CHARS`] characters; `joules_per_query` = total / queries (overall and per repetition);
/// `wh_per_1000_queries` = `joules_per_query` / 3.6; totals = sums of their parts (counted
/// domains, repetitions); `energy.method` agrees with the counted domains' methods;
/// `wall_seconds` > 0 when queries > 0; queries/s, carbon grams and generation per-token
/// figures follow their definitions; percentiles ordered; a complete run has every requested
/// repetition and query; `finished_at` ≥ `started_at`; `generation` only for text generation.
pub fn sanity_check(r: &RunResult) -> Vec<String> {
    let mut c = Checker {
        problems: Vec::new(),
    };
    if r.schema_version != SCHEMA_VERSION {
        c.problems.push(format!(
            "schema_version = {}: this build knows version {SCHEMA_VERSION}",
            r.schema_version
        ));
    }
    if r.finished_at < r.started_at {
        c.problems.push(format!(
            "finished_at {} is before started_at {}",
            r.finished_at, r.started_at
        ));
    }
    if r.dataset.queries != r.settings.queries {
        c.problems.push(format!(
            "dataset.queries = {} but settings.queries = {}",
            r.dataset.queries, r.settings.queries
        ));
    }

    // Repetitions.
    for (i, rep) in r.repetitions.iter().enumerate() {
        let at = format!("repetitions[{i}]");
        if rep.index != i as u64 {
            c.problems.push(format!(
                "{at}.index = {} but it is at position {i}",
                rep.index
            ));
        }
        c.seconds(&format!("{at}.wall_seconds"), rep.wall_seconds);
        if rep.queries > 0 && rep.wall_seconds <= 0.0 {
            c.problems.push(format!(
                "{at}.wall_seconds = {}: must be > 0 for {} queries",
                rep.wall_seconds, rep.queries
            ));
        }
        c.energy(&format!("{at}.total_joules"), rep.total_joules);
        c.energy(&format!("{at}.joules_per_query"), rep.joules_per_query);
        c.equals(
            &format!("{at}.joules_per_query"),
            rep.joules_per_query,
            per(rep.total_joules, rep.queries),
            RATIO_TOLERANCE,
            &format!(
                "total_joules / queries ({} J / {})",
                rep.total_joules, rep.queries
            ),
        );
        if let Some(net) = rep.net_joules_per_query {
            c.energy(&format!("{at}.net_joules_per_query"), net);
            if net > rep.joules_per_query * (1.0 + RATIO_TOLERANCE) + 1e-12 {
                c.problems.push(format!(
                    "{at}.net_joules_per_query = {net} exceeds joules_per_query = {}",
                    rep.joules_per_query
                ));
            }
        }
        for (name, v) in [
            ("prefill_joules", rep.prefill_joules),
            ("decode_joules", rep.decode_joules),
        ] {
            if let Some(v) = v {
                c.energy(&format!("{at}.{name}"), v);
            }
        }
        c.sources(&at, &rep.by_source, rep.total_joules);
    }
    let queries = r.total_queries();
    if r.status == Status::Complete {
        if queries == 0 {
            c.problems
                .push("status = complete but no query was metered".to_string());
        }
        if r.repetitions.len() as u64 != r.settings.repetitions {
            c.problems.push(format!(
                "status = complete but {} repetitions recorded of settings.repetitions = {}",
                r.repetitions.len(),
                r.settings.repetitions
            ));
        }
        for (i, rep) in r.repetitions.iter().enumerate() {
            if rep.queries != r.settings.queries {
                c.problems.push(format!(
                    "status = complete but repetitions[{i}].queries = {} of settings.queries = {}",
                    rep.queries, r.settings.queries
                ));
            }
        }
    }

    // Energy.
    let e = &r.energy;
    c.energy("energy.total_joules", e.total_joules);
    c.energy("energy.joules_per_query", e.joules_per_query);
    c.wh_per_1000("energy.wh_per_1000_queries", e.wh_per_1000_queries);
    for (name, v) in [
        ("total_joules_low", e.total_joules_low),
        ("total_joules_high", e.total_joules_high),
    ] {
        if let Some(v) = v {
            c.energy(&format!("energy.{name}"), v);
        }
    }
    for (name, v) in [
        ("wh_per_1000_queries_low", e.wh_per_1000_queries_low),
        ("wh_per_1000_queries_high", e.wh_per_1000_queries_high),
    ] {
        if let Some(v) = v {
            c.wh_per_1000(&format!("energy.{name}"), v);
        }
    }
    if e.notes.len() > MAX_NOTES {
        c.problems.push(format!(
            "energy.notes: {} notes, more than the {MAX_NOTES} allowed",
            e.notes.len()
        ));
    }
    if let Some((i, n)) = e
        .notes
        .iter()
        .enumerate()
        .find(|(_, n)| n.chars().count() > MAX_NOTE_CHARS)
    {
        c.problems.push(format!(
            "energy.notes[{i}]: {} characters, more than the {MAX_NOTE_CHARS} allowed",
            n.chars().count()
        ));
    }
    c.sources("energy", &e.by_source, e.total_joules);
    if !r.repetitions.is_empty() {
        let sum: f64 = r.repetitions.iter().map(|x| x.total_joules).sum();
        c.equals(
            "energy.total_joules",
            e.total_joules,
            sum,
            SUM_TOLERANCE,
            "the sum of repetitions[].total_joules",
        );
    }
    c.equals(
        "energy.joules_per_query",
        e.joules_per_query,
        per(e.total_joules, queries),
        RATIO_TOLERANCE,
        &format!(
            "total_joules / metered queries ({} J / {queries})",
            e.total_joules
        ),
    );
    c.equals(
        "energy.wh_per_1000_queries",
        e.wh_per_1000_queries,
        wh_per_1000_queries(e.joules_per_query),
        RATIO_TOLERANCE,
        "joules_per_query / 3.6",
    );
    if let Some(m) = sources_method(&e.by_source) {
        if m != e.method {
            c.problems.push(format!(
                "energy.method = {} but the counted domains in energy.by_source make it {}",
                e.method, m
            ));
        }
    }
    if let Some(w) = e.idle_watts {
        c.watts("energy.idle_watts", w);
    }
    if let Some(net) = e.net_joules_per_query {
        c.energy("energy.net_joules_per_query", net);
        if e.idle_watts.is_none() {
            c.problems
                .push("energy.net_joules_per_query is given without energy.idle_watts".into());
        }
        if net > e.joules_per_query * (1.0 + RATIO_TOLERANCE) + 1e-12 {
            c.problems.push(format!(
                "energy.net_joules_per_query = {net} exceeds joules_per_query = {}",
                e.joules_per_query
            ));
        }
    }
    if let Some([lo, hi]) = e.joules_per_query_ci95 {
        // The lower bound may be negative (Student's t around a small mean).
        c.within(
            "energy.joules_per_query_ci95[0]",
            lo,
            -MAX_JOULES,
            MAX_JOULES,
        );
        c.within(
            "energy.joules_per_query_ci95[1]",
            hi,
            -MAX_JOULES,
            MAX_JOULES,
        );
        if lo > hi {
            c.problems.push(format!(
                "energy.joules_per_query_ci95 = [{lo}, {hi}]: lower > upper"
            ));
        }
    }

    // Carbon.
    let k = &r.carbon;
    c.bounded(
        "carbon.grid_intensity_g_per_kwh",
        k.intensity.grid_intensity_g_per_kwh,
        MAX_GRID_INTENSITY,
        "g/kWh",
    );
    if k.intensity.pue < 1.0 {
        c.problems
            .push(format!("carbon.pue = {}: must be ≥ 1", k.intensity.pue));
    } else {
        c.within("carbon.pue", k.intensity.pue, 1.0, MAX_PUE);
    }
    c.grams("carbon.g_co2e", k.g_co2e);
    c.grams("carbon.g_co2e_per_1000_queries", k.g_co2e_per_1000_queries);
    c.equals(
        "carbon.g_co2e",
        k.g_co2e,
        k.intensity.grams(e.total_joules),
        RATIO_TOLERANCE,
        "energy.total_joules / 3.6e6 × grid_intensity_g_per_kwh × pue",
    );
    c.equals(
        "carbon.g_co2e_per_1000_queries",
        k.g_co2e_per_1000_queries,
        k.intensity.grams(e.joules_per_query * 1000.0),
        RATIO_TOLERANCE,
        "energy.joules_per_query × 1000 / 3.6e6 × grid_intensity_g_per_kwh × pue",
    );

    // Timing.
    let t = &r.timing;
    c.seconds("timing.wall_seconds", t.wall_seconds);
    c.rate("timing.queries_per_second", t.queries_per_second);
    if queries > 0 && t.wall_seconds <= 0.0 {
        c.problems.push(format!(
            "timing.wall_seconds = {}: must be > 0 for {queries} metered queries",
            t.wall_seconds
        ));
    }
    if !r.repetitions.is_empty() {
        let sum: f64 = r.repetitions.iter().map(|x| x.wall_seconds).sum();
        c.equals(
            "timing.wall_seconds",
            t.wall_seconds,
            sum,
            SUM_TOLERANCE,
            "the sum of repetitions[].wall_seconds",
        );
    }
    if t.wall_seconds > 0.0 {
        c.equals(
            "timing.queries_per_second",
            t.queries_per_second,
            queries as f64 / t.wall_seconds,
            RATIO_TOLERANCE,
            "metered queries / timing.wall_seconds",
        );
    }
    let l = &t.latency_ms;
    for (name, v) in [
        ("p50", l.p50),
        ("p95", l.p95),
        ("p99", l.p99),
        ("mean", l.mean),
    ] {
        c.millis(&format!("timing.latency_ms.{name}"), v);
    }
    if !(l.p50 <= l.p95 && l.p95 <= l.p99) {
        c.problems.push(format!(
            "timing.latency_ms: p50 {} ≤ p95 {} ≤ p99 {} does not hold",
            l.p50, l.p95, l.p99
        ));
    }

    if let Some(q) = &r.quality {
        c.quality("quality.value", &q.metric, q.value);
        for (name, v) in &q.extra {
            let field = format!("quality.extra.{}", crate::display::sanitize(name));
            c.quality(&field, name, *v);
        }
    }

    generation_checks(&mut c, r, queries);
    c.problems
}

fn generation_checks(c: &mut Checker, r: &RunResult, queries: u64) {
    let is_gen = r.task == Task::TextGeneration;
    let Some(g) = &r.generation else {
        if is_gen && queries > 0 {
            c.problems
                .push("text-generation result without a generation section".into());
        }
        return;
    };
    if !is_gen {
        c.problems.push(format!(
            "generation section on task {} (text-generation only)",
            r.task
        ));
    }
    let total = r.energy.total_joules;
    for (name, v) in [
        ("prefill_joules", g.prefill_joules),
        ("decode_joules", g.decode_joules),
        ("joules_per_generated_token", g.joules_per_generated_token),
        ("joules_per_input_token", g.joules_per_input_token),
        (
            "prefill_joules_per_input_token",
            g.prefill_joules_per_input_token,
        ),
        (
            "decode_joules_per_generated_token",
            g.decode_joules_per_generated_token,
        ),
    ] {
        c.energy(&format!("generation.{name}"), v);
    }
    c.rate("generation.tokens_per_second", g.tokens_per_second);
    for (name, v) in [
        ("p50", g.time_to_first_token_ms.p50),
        ("p95", g.time_to_first_token_ms.p95),
        ("mean", g.time_to_first_token_ms.mean),
    ] {
        c.millis(&format!("generation.time_to_first_token_ms.{name}"), v);
    }
    if g.time_to_first_token_ms.p50 > g.time_to_first_token_ms.p95 {
        c.problems
            .push("generation.time_to_first_token_ms: p50 > p95".to_string());
    }
    let parts = g.prefill_joules + g.decode_joules;
    if parts > total * (1.0 + SUM_TOLERANCE) + 1e-12 {
        c.problems.push(format!(
            "generation.prefill_joules + decode_joules = {parts} exceeds energy.total_joules = {total}"
        ));
    }
    let rep_sum = |f: fn(&Repetition) -> Option<f64>| -> Option<f64> {
        if r.repetitions.is_empty() {
            None
        } else {
            r.repetitions.iter().map(f).sum()
        }
    };
    let sums = [
        (
            "prefill_joules",
            g.prefill_joules,
            rep_sum(|x| x.prefill_joules),
        ),
        (
            "decode_joules",
            g.decode_joules,
            rep_sum(|x| x.decode_joules),
        ),
    ];
    for (name, found, sum) in sums {
        if let Some(sum) = sum {
            c.equals(
                &format!("generation.{name}"),
                found,
                sum,
                SUM_TOLERANCE,
                &format!("the sum of repetitions[].{name}"),
            );
        }
    }
    if g.generated_tokens < queries {
        c.problems.push(format!(
            "generation.generated_tokens = {} is fewer than the {queries} metered queries",
            g.generated_tokens
        ));
    }
    let checks = [
        (
            "joules_per_generated_token",
            g.joules_per_generated_token,
            per(total, g.generated_tokens),
            "energy.total_joules / generated_tokens",
        ),
        (
            "joules_per_input_token",
            g.joules_per_input_token,
            per(total, g.input_tokens),
            "energy.total_joules / input_tokens",
        ),
        (
            "prefill_joules_per_input_token",
            g.prefill_joules_per_input_token,
            per(g.prefill_joules, g.input_tokens),
            "prefill_joules / input_tokens",
        ),
        (
            "decode_joules_per_generated_token",
            g.decode_joules_per_generated_token,
            per(g.decode_joules, g.generated_tokens.saturating_sub(queries)),
            "decode_joules / (generated_tokens − metered queries)",
        ),
    ];
    for (name, found, expected, how) in checks {
        c.equals(
            &format!("generation.{name}"),
            found,
            expected,
            RATIO_TOLERANCE,
            how,
        );
    }
    if r.timing.wall_seconds > 0.0 {
        c.equals(
            "generation.tokens_per_second",
            g.tokens_per_second,
            g.generated_tokens as f64 / r.timing.wall_seconds,
            RATIO_TOLERANCE,
            "generated_tokens / timing.wall_seconds",
        );
    }
}
