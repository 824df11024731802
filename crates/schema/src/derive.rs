//! How a result's figures follow from what was measured.
//!
//! A [`RunRecord`] holds the raw inputs of one run (what the protocol metered and what describes
//! it); [`RunRecord::into_result`] builds the [`RunResult`] from it in one step, every derived
//! figure computed here and nowhere else. [`RunResult::fill_derived`] recomputes them from a
//! result's own raw fields (for tools and tests that edit a result); the validator checks the
//! same relations.

use chrono::{DateTime, Utc};

use crate::method::OverallMethod;
use crate::result::*;
use crate::stats;
use crate::task::Task;
use crate::units::{per, sum, wh_per_1000_queries};

/// Note added when the net-of-idle energy was clamped at 0.
pub const NET_CLAMPED_NOTE: &str =
    "net-of-idle energy clamped at 0: idle power × metered time exceeded the measured energy";

/// Note added when the 95% CI of J/query reaches below 0 J (few repetitions with a large
/// spread). The JSON keeps the raw interval; displays clamp its lower end at 0.
pub const CI_BELOW_ZERO_NOTE: &str = "the 95% CI of J/query reaches below 0 J (few repetitions with a large spread): the raw interval is kept in `joules_per_query_ci95`, displays clamp its lower end at 0 J";

/// One metered repetition as measured.
#[derive(Debug, Clone, PartialEq)]
pub struct RepetitionRecord {
    /// Queries completed.
    pub queries: u64,
    /// Length of its meter window, seconds.
    pub wall_seconds: f64,
    /// Energy per source and domain over its window.
    pub by_source: Vec<SourceEnergy>,
    /// Sum of its prefill windows (text generation).
    pub prefill_joules: Option<f64>,
    /// Sum of its decode windows (text generation).
    pub decode_joules: Option<f64>,
}

/// Token counts and first-token times of the metered queries (text generation).
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationRecord {
    /// Per metered query, ms.
    pub ttft_ms: Vec<f64>,
    /// Prompt tokens over all metered queries.
    pub input_tokens: u64,
    /// Generated tokens over all metered queries.
    pub generated_tokens: u64,
}

/// Everything one run measured, and what describes it: the raw inputs of a [`RunResult`].
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    pub harness: Harness,
    pub model: Model,
    pub task: Task,
    pub dataset: Dataset,
    pub hardware: Hardware,
    pub settings: Settings,
    /// Over the counted domains of the metered sources: known from the meter before any query,
    /// so a run interrupted before its first repetition still says how it would have measured.
    pub method: OverallMethod,
    /// Idle power over the counted domains, W, when a baseline was measured.
    pub idle_watts: Option<f64>,
    /// Notes from the meter and the windows.
    pub notes: Vec<String>,
    pub carbon: CarbonIntensity,
    /// Per metered query, ms.
    pub latencies_ms: Vec<f64>,
    pub quality: Option<Quality>,
    /// Text generation only.
    pub generation: Option<GenerationRecord>,
    /// Speech tasks only: seconds of audio in the metered queries.
    pub audio_seconds: Option<f64>,
    pub repetitions: Vec<RepetitionRecord>,
    pub status: Status,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub slurm: Option<Slurm>,
    /// File name of the sibling power-timeline CSV.
    pub timeline_csv: Option<String>,
}

impl RunRecord {
    /// The result file's content, every derived figure computed once.
    pub fn into_result(self) -> RunResult {
        let idle = self.idle_watts;
        let reps: Vec<Repetition> = self
            .repetitions
            .into_iter()
            .enumerate()
            .map(|(i, r)| repetition(i, r, idle))
            .collect();
        let energy = energy(self.method, &reps, idle, self.notes);
        let latency = LatencyMs::from_samples(&self.latencies_ms).unwrap_or(LatencyMs {
            p50: 0.0,
            p95: 0.0,
            p99: 0.0,
            mean: 0.0,
        });
        let timing = timing(&reps, latency);
        let generation = self.generation.map(|g| {
            let ttft = TtftMs::from_samples(&g.ttft_ms).unwrap_or(TtftMs {
                p50: 0.0,
                p95: 0.0,
                mean: 0.0,
            });
            let (prefill, decode) = phase_joules(&reps).unwrap_or((0.0, 0.0));
            generation(
                &reps,
                &energy,
                &timing,
                prefill,
                decode,
                ttft,
                g.input_tokens,
                g.generated_tokens,
            )
        });
        let audio = self.audio_seconds.map(|s| audio(s, &energy, &timing));
        RunResult {
            schema_version: SCHEMA_VERSION,
            harness: self.harness,
            model: self.model,
            task: self.task,
            dataset: self.dataset,
            hardware: self.hardware,
            settings: self.settings,
            carbon: carbon(self.carbon, &energy),
            energy,
            timing,
            quality: self.quality,
            generation,
            audio,
            repetitions: reps,
            status: self.status,
            started_at: self.started_at,
            finished_at: self.finished_at,
            slurm: self.slurm,
            timeline_csv: self.timeline_csv,
            // Set by the caller from the finished result (it reads the energy figures).
            preset: None,
        }
    }
}

/// Speech figures from the seconds of audio metered (0 s gives 0 J/s and an RTF of 0).
pub fn audio(audio_seconds: f64, energy: &Energy, timing: &Timing) -> Audio {
    let per_second = |x: f64| {
        if audio_seconds > 0.0 {
            x / audio_seconds
        } else {
            0.0
        }
    };
    Audio {
        audio_seconds,
        joules_per_audio_second: per_second(energy.total_joules),
        real_time_factor: per_second(timing.wall_seconds),
    }
}

/// Net-of-idle energy per query: `max(0, total − idle_watts × seconds) / queries`.
/// Returns the figure and whether the clamp at 0 applied.
pub fn net_joules_per_query(
    total_joules: f64,
    idle_watts: f64,
    seconds: f64,
    queries: u64,
) -> (f64, bool) {
    let net = total_joules - idle_watts * seconds;
    (per(net.max(0.0), queries), net < 0.0)
}

/// Sum of the joules of the domains that count in totals (CPU packages, DRAM, GPUs).
pub fn counted_joules(sources: &[SourceEnergy]) -> f64 {
    sum(sources
        .iter()
        .filter(|s| s.kind.counts_in_total())
        .map(|s| s.joules))
}

/// (low, high) of the counted joules when a counted domain carries a range (an estimate); a
/// domain without one contributes its own figure to both ends. `None` when none has a range.
pub fn counted_joules_range(sources: &[SourceEnergy]) -> Option<(f64, f64)> {
    let counted = || sources.iter().filter(|s| s.kind.counts_in_total());
    if !counted().any(SourceEnergy::has_range) {
        return None;
    }
    Some((
        counted().map(|s| s.low()).sum(),
        counted().map(|s| s.high()).sum(),
    ))
}

/// The overall method of the domains that count in totals; `None` when there are none.
pub fn sources_method(sources: &[SourceEnergy]) -> Option<OverallMethod> {
    OverallMethod::of(sources.iter().map(|s| (s.kind, s.method)))
}

/// Per-domain energy summed over repetitions, keyed by (source name, domain), in order of first
/// appearance; `avg_watts` = summed joules / `seconds` (0 when `seconds` is 0).
pub fn aggregate_sources(reps: &[Repetition], seconds: f64) -> Vec<SourceEnergy> {
    let mut out: Vec<SourceEnergy> = Vec::new();
    for s in reps.iter().flat_map(|r| &r.by_source) {
        match out
            .iter_mut()
            .find(|o| o.name == s.name && o.domain == s.domain)
        {
            Some(o) => {
                if o.has_range() || s.has_range() {
                    o.joules_low = Some(o.low() + s.low());
                    o.joules_high = Some(o.high() + s.high());
                }
                o.joules += s.joules;
            }
            None => out.push(SourceEnergy {
                avg_watts: 0.0,
                ..s.clone()
            }),
        }
    }
    for o in &mut out {
        o.avg_watts = if seconds > 0.0 {
            o.joules / seconds
        } else {
            0.0
        };
    }
    out
}

fn repetition(index: usize, r: RepetitionRecord, idle: Option<f64>) -> Repetition {
    let total_joules = counted_joules(&r.by_source);
    Repetition {
        index: index as u64,
        queries: r.queries,
        wall_seconds: r.wall_seconds,
        total_joules,
        joules_per_query: per(total_joules, r.queries),
        net_joules_per_query: idle
            .map(|w| net_joules_per_query(total_joules, w, r.wall_seconds, r.queries).0),
        by_source: r.by_source,
        prefill_joules: r.prefill_joules,
        decode_joules: r.decode_joules,
    }
}

fn energy(
    method: OverallMethod,
    reps: &[Repetition],
    idle: Option<f64>,
    mut notes: Vec<String>,
) -> Energy {
    let queries: u64 = reps.iter().map(|r| r.queries).sum();
    let wall = sum(reps.iter().map(|r| r.wall_seconds));
    let total_joules = sum(reps.iter().map(|r| r.total_joules));
    let joules_per_query = per(total_joules, queries);
    let net_joules_per_query = idle.map(|w| {
        let (net, clamped) = net_joules_per_query(total_joules, w, wall, queries);
        if clamped {
            push_once(&mut notes, NET_CLAMPED_NOTE);
        }
        net
    });
    let per_rep: Vec<f64> = reps
        .iter()
        .filter(|r| r.queries > 0)
        .map(|r| r.joules_per_query)
        .collect();
    let ci = stats::ci95_mean(&per_rep).map(|(lo, hi)| [lo, hi]);
    if ci.is_some_and(|[lo, _]| lo < 0.0) {
        push_once(&mut notes, CI_BELOW_ZERO_NOTE);
    }
    let by_source = aggregate_sources(reps, wall);
    let range = counted_joules_range(&by_source);
    let wh = |j: f64| wh_per_1000_queries(per(j, queries));
    Energy {
        method,
        total_joules,
        joules_per_query,
        wh_per_1000_queries: wh_per_1000_queries(joules_per_query),
        total_joules_low: range.map(|r| r.0),
        total_joules_high: range.map(|r| r.1),
        wh_per_1000_queries_low: range.map(|r| wh(r.0)),
        wh_per_1000_queries_high: range.map(|r| wh(r.1)),
        by_source,
        idle_watts: idle,
        net_joules_per_query,
        joules_per_query_ci95: ci,
        notes,
    }
}

fn push_once(notes: &mut Vec<String>, note: &str) {
    if !notes.iter().any(|n| n == note) {
        notes.push(note.to_string());
    }
}

fn timing(reps: &[Repetition], latency_ms: LatencyMs) -> Timing {
    let queries: u64 = reps.iter().map(|r| r.queries).sum();
    let wall = sum(reps.iter().map(|r| r.wall_seconds));
    Timing {
        wall_seconds: wall,
        queries_per_second: if wall > 0.0 {
            queries as f64 / wall
        } else {
            0.0
        },
        latency_ms,
    }
}

fn carbon(intensity: CarbonIntensity, energy: &Energy) -> Carbon {
    Carbon {
        g_co2e: intensity.grams(energy.total_joules),
        g_co2e_per_1000_queries: intensity.grams(energy.joules_per_query * 1000.0),
        intensity,
    }
}

/// Prefill and decode joules summed over the repetitions, when every repetition has both.
fn phase_joules(reps: &[Repetition]) -> Option<(f64, f64)> {
    if reps.is_empty() {
        return None;
    }
    let prefill: Option<Vec<f64>> = reps.iter().map(|r| r.prefill_joules).collect();
    let decode: Option<Vec<f64>> = reps.iter().map(|r| r.decode_joules).collect();
    Some((sum(prefill?), sum(decode?)))
}

#[allow(clippy::too_many_arguments)]
fn generation(
    reps: &[Repetition],
    energy: &Energy,
    timing: &Timing,
    prefill_joules: f64,
    decode_joules: f64,
    time_to_first_token_ms: TtftMs,
    input_tokens: u64,
    generated_tokens: u64,
) -> Generation {
    let queries: u64 = reps.iter().map(|r| r.queries).sum();
    let wall = timing.wall_seconds;
    Generation {
        prefill_joules,
        decode_joules,
        joules_per_generated_token: per(energy.total_joules, generated_tokens),
        joules_per_input_token: per(energy.total_joules, input_tokens),
        prefill_joules_per_input_token: per(prefill_joules, input_tokens),
        decode_joules_per_generated_token: per(
            decode_joules,
            generated_tokens.saturating_sub(queries),
        ),
        time_to_first_token_ms,
        tokens_per_second: if wall > 0.0 {
            generated_tokens as f64 / wall
        } else {
            0.0
        },
        input_tokens,
        generated_tokens,
    }
}

impl Energy {
    /// The estimate's range of Wh per 1,000 queries (`None` when every counted domain is
    /// measured).
    pub fn wh_range(&self) -> Option<[f64; 2]> {
        Some([
            self.wh_per_1000_queries_low?,
            self.wh_per_1000_queries_high?,
        ])
    }

    /// The 95% CI of J/query for display: the lower end clamped at 0 J (an energy is never
    /// negative; the raw interval stays in the JSON, with [`CI_BELOW_ZERO_NOTE`]).
    pub fn ci95_display(&self) -> Option<[f64; 2]> {
        self.joules_per_query_ci95.map(|[lo, hi]| [lo.max(0.0), hi])
    }
}

impl RunResult {
    /// Metered queries over all repetitions.
    pub fn total_queries(&self) -> u64 {
        self.repetitions.iter().map(|r| r.queries).sum()
    }

    /// Wh per 1,000 queries (gross), the headline figure.
    pub fn wh_per_1000(&self) -> f64 {
        self.energy.wh_per_1000_queries
    }

    /// Net-of-idle Wh per 1,000 queries, when an idle baseline was measured.
    pub fn net_wh_per_1000(&self) -> Option<f64> {
        self.energy.net_joules_per_query.map(wh_per_1000_queries)
    }

    /// True when every counted domain was measured (no estimate involved).
    pub fn is_measured(&self) -> bool {
        self.energy.method.is_measured()
    }

    /// Recomputes every derived figure from the result's raw ones with the same functions as
    /// [`RunRecord::into_result`] (for tools and tests that edit a result).
    ///
    /// Raw inputs: each repetition's `queries`, `wall_seconds`, `by_source`, `prefill_joules`,
    /// `decode_joules`; `energy.idle_watts` and `notes`; `carbon`'s intensity and PUE;
    /// latency/TTFT percentiles and token counts. The method follows the counted domains of
    /// `by_source`, and is kept as it is when no repetition has any.
    pub fn fill_derived(&mut self) {
        let idle = self.energy.idle_watts;
        let reps: Vec<Repetition> = std::mem::take(&mut self.repetitions)
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                let record = RepetitionRecord {
                    queries: r.queries,
                    wall_seconds: r.wall_seconds,
                    by_source: r.by_source,
                    prefill_joules: r.prefill_joules,
                    decode_joules: r.decode_joules,
                };
                repetition(i, record, idle)
            })
            .collect();
        let by_source: Vec<SourceEnergy> = reps.iter().flat_map(|r| r.by_source.clone()).collect();
        let method = sources_method(&by_source).unwrap_or(self.energy.method);
        self.energy = energy(method, &reps, idle, std::mem::take(&mut self.energy.notes));
        self.timing = timing(&reps, self.timing.latency_ms);
        self.carbon = carbon(self.carbon.intensity.clone(), &self.energy);
        if let Some(a) = &self.audio {
            self.audio = Some(audio(a.audio_seconds, &self.energy, &self.timing));
        }
        if let Some(g) = &self.generation {
            let (prefill, decode) =
                phase_joules(&reps).unwrap_or((g.prefill_joules, g.decode_joules));
            self.generation = Some(generation(
                &reps,
                &self.energy,
                &self.timing,
                prefill,
                decode,
                g.time_to_first_token_ms,
                g.input_tokens,
                g.generated_tokens,
            ));
        }
        self.repetitions = reps;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::method::{DomainKind, Method};

    #[test]
    fn net_clamps_at_zero() {
        assert_eq!(net_joules_per_query(100.0, 10.0, 5.0, 10), (5.0, false));
        assert_eq!(net_joules_per_query(100.0, 30.0, 5.0, 10), (0.0, true));
        assert_eq!(net_joules_per_query(100.0, 1.0, 5.0, 0), (0.0, false));
    }

    fn src(name: &str, kind: DomainKind, method: Method, joules: f64) -> SourceEnergy {
        SourceEnergy {
            name: name.into(),
            domain: name.into(),
            kind,
            method,
            joules,
            avg_watts: 0.0,
            joules_low: None,
            joules_high: None,
        }
    }

    #[test]
    fn ranges_sum_over_counted_domains_and_repetitions() {
        let est = |kind, j: f64| SourceEnergy {
            joules_low: Some(j / 2.0),
            joules_high: Some(j * 2.0),
            ..src("e", kind, Method::Estimated, j)
        };
        let mut cpu = est(DomainKind::CpuPackage, 10.0);
        cpu.domain = "cpu".into();
        let s = vec![
            cpu,
            src("gpu", DomainKind::Gpu, Method::Measured, 4.0),
            src("core", DomainKind::Core, Method::Measured, 100.0),
        ];
        assert_eq!(counted_joules_range(&s), Some((9.0, 24.0)));
        assert_eq!(counted_joules_range(&s[1..]), None);
        let rep = |by_source: Vec<SourceEnergy>| Repetition {
            index: 0,
            queries: 10,
            wall_seconds: 1.0,
            total_joules: counted_joules(&by_source),
            joules_per_query: 0.0,
            net_joules_per_query: None,
            by_source,
            prefill_joules: None,
            decode_joules: None,
        };
        let reps = [rep(s.clone()), rep(s)];
        let e = energy(OverallMethod::Mixed, &reps, None, Vec::new());
        assert_eq!(e.total_joules, 28.0);
        assert_eq!(
            (e.total_joules_low, e.total_joules_high),
            (Some(18.0), Some(48.0))
        );
        let wh = |j: f64| wh_per_1000_queries(j / 20.0);
        assert_eq!(e.wh_per_1000_queries_low, Some(wh(18.0)));
        assert_eq!(e.wh_per_1000_queries_high, Some(wh(48.0)));
        assert_eq!(e.by_source[0].joules_low, Some(10.0));
        assert!(e.by_source[1].joules_low.is_none(), "measured: no range");
        let measured_only = [rep(vec![src(
            "gpu",
            DomainKind::Gpu,
            Method::Measured,
            4.0,
        )])];
        let e = energy(OverallMethod::Measured, &measured_only, None, Vec::new());
        assert!(e.total_joules_low.is_none() && e.wh_per_1000_queries_high.is_none());
        let json = serde_json::to_string(&e).unwrap();
        assert!(!json.contains("_low") && !json.contains("_high"), "{json}");
    }

    #[test]
    fn counted_joules_skip_core_uncore_psys() {
        let s = [
            src("pkg", DomainKind::CpuPackage, Method::Measured, 10.0),
            src("core", DomainKind::Core, Method::Measured, 7.0),
            src("uncore", DomainKind::Uncore, Method::Measured, 1.0),
            src("psys", DomainKind::Psys, Method::Measured, 30.0),
            src("dram", DomainKind::Dram, Method::Estimated, 2.0),
            src("gpu", DomainKind::Gpu, Method::MeasuredPowerIntegrated, 5.0),
        ];
        assert_eq!(counted_joules(&s), 17.0);
        assert_eq!(sources_method(&s), Some(OverallMethod::Mixed));
        assert_eq!(sources_method(&s[..2]), Some(OverallMethod::Measured));
        assert_eq!(sources_method(&s[4..5]), Some(OverallMethod::Estimated));
        assert_eq!(sources_method(&s[1..4]), None);
    }

    #[test]
    fn ci_below_zero_is_kept_raw_noted_and_clamped_for_display() {
        let rep = |j: f64| Repetition {
            index: 0,
            queries: 1,
            wall_seconds: 1.0,
            total_joules: j,
            joules_per_query: j,
            net_joules_per_query: None,
            by_source: vec![src("pkg", DomainKind::CpuPackage, Method::Measured, j)],
            prefill_joules: None,
            decode_joules: None,
        };
        let e = energy(
            OverallMethod::Measured,
            &[rep(0.1), rep(5.0)],
            None,
            Vec::new(),
        );
        let [lo, hi] = e.joules_per_query_ci95.unwrap();
        assert!(lo < 0.0 && hi > 5.0, "{lo} {hi}");
        assert!(e.notes.iter().any(|n| n == CI_BELOW_ZERO_NOTE));
        assert_eq!(e.ci95_display(), Some([0.0, hi]));
    }
}
