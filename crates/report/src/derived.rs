//! Unit conversions and the figures of a [`RunResult`] that follow from others.
//!
//! [`RunResult::fill_derived`] computes every derived field from the repetitions, so the CLI
//! only has to fill in what it measured; [`crate::sanity_check`] checks the same relations.

use crate::result::{EnergyMethod, Repetition, RunResult, SourceEnergy, SourceMethod};
use crate::stats;

/// Joules in one watt-hour.
pub const JOULES_PER_WH: f64 = 3_600.0;
/// Joules in one kilowatt-hour.
pub const JOULES_PER_KWH: f64 = 3_600_000.0;

/// Note added by [`RunResult::fill_derived`] when the net-of-idle energy was clamped at 0.
pub const NET_CLAMPED_NOTE: &str =
    "net-of-idle energy clamped at 0: idle power × metered time exceeded the measured energy";

/// Wh per 1,000 queries from J per query: `J/query × 1000 / 3600` = `J/query / 3.6`.
///
/// ```
/// use frugalbench_report::wh_per_1000_queries;
/// // 36 J per query for 1,000 queries is 36 kJ = 10 Wh.
/// assert_eq!(wh_per_1000_queries(36.0), 10.0);
/// ```
pub fn wh_per_1000_queries(joules_per_query: f64) -> f64 {
    joules_per_query * 1000.0 / JOULES_PER_WH
}

/// Grams of CO2e for `joules` at a grid intensity (g/kWh) and PUE: `J / 3.6e6 × intensity × pue`.
pub fn grams_co2e(joules: f64, grid_intensity_g_per_kwh: f64, pue: f64) -> f64 {
    joules / JOULES_PER_KWH * grid_intensity_g_per_kwh * pue
}

/// `amount / count`, or 0 when `count` is 0 (nothing metered means nothing per unit).
pub fn per(amount: f64, count: u64) -> f64 {
    if count == 0 {
        0.0
    } else {
        amount / count as f64
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
    sources
        .iter()
        .filter(|s| s.kind.counts_in_total())
        .map(|s| s.joules)
        .sum()
}

/// The overall method over the domains that count in totals; `None` when there are none.
pub fn energy_method(sources: &[SourceEnergy]) -> Option<EnergyMethod> {
    let counted: Vec<SourceMethod> = sources
        .iter()
        .filter(|s| s.kind.counts_in_total())
        .map(|s| s.method)
        .collect();
    if counted.is_empty() {
        None
    } else if counted.iter().all(|m| m.is_measured()) {
        Some(EnergyMethod::Measured)
    } else if counted.iter().all(|m| !m.is_measured()) {
        Some(EnergyMethod::Estimated)
    } else {
        Some(EnergyMethod::Mixed)
    }
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
            Some(o) => o.joules += s.joules,
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
        self.energy.method == EnergyMethod::Measured
    }

    /// Recomputes every derived figure from the raw ones, so the relations that
    /// [`crate::sanity_check`] verifies hold.
    ///
    /// Raw inputs: each repetition's `queries`, `wall_seconds`, `by_source`, `prefill_joules`,
    /// `decode_joules`; `energy.idle_watts`; `carbon.grid_intensity_g_per_kwh` and `pue`;
    /// latency/TTFT percentiles and token counts. Derived: per repetition `total_joules`
    /// (counted domains), `joules_per_query`, `net_joules_per_query`; `energy.total_joules`,
    /// `by_source` (summed per domain), `method` (kept as is when no domain counts),
    /// `joules_per_query`, `wh_per_1000_queries`, `net_joules_per_query`,
    /// `joules_per_query_ci95`; `timing.wall_seconds`, `queries_per_second`; carbon grams;
    /// generation joules (when every repetition has them) and per-token figures.
    pub fn fill_derived(&mut self) {
        let idle = self.energy.idle_watts;
        for (i, rep) in self.repetitions.iter_mut().enumerate() {
            rep.index = i as u64;
            rep.total_joules = counted_joules(&rep.by_source);
            rep.joules_per_query = per(rep.total_joules, rep.queries);
            rep.net_joules_per_query = idle.map(|w| {
                net_joules_per_query(rep.total_joules, w, rep.wall_seconds, rep.queries).0
            });
        }
        let queries = self.total_queries();
        let wall: f64 = self.repetitions.iter().map(|r| r.wall_seconds).sum();

        let e = &mut self.energy;
        e.by_source = aggregate_sources(&self.repetitions, wall);
        e.total_joules = self.repetitions.iter().map(|r| r.total_joules).sum();
        if let Some(m) = energy_method(&e.by_source) {
            e.method = m;
        }
        e.joules_per_query = per(e.total_joules, queries);
        e.wh_per_1000_queries = wh_per_1000_queries(e.joules_per_query);
        e.net_joules_per_query = idle.map(|w| {
            let (net, clamped) = net_joules_per_query(e.total_joules, w, wall, queries);
            if clamped && !e.notes.iter().any(|n| n == NET_CLAMPED_NOTE) {
                e.notes.push(NET_CLAMPED_NOTE.to_string());
            }
            net
        });
        let per_rep: Vec<f64> = self
            .repetitions
            .iter()
            .filter(|r| r.queries > 0)
            .map(|r| r.joules_per_query)
            .collect();
        e.joules_per_query_ci95 = stats::ci95_mean(&per_rep).map(|(lo, hi)| [lo, hi]);

        self.timing.wall_seconds = wall;
        self.timing.queries_per_second = if wall > 0.0 {
            queries as f64 / wall
        } else {
            0.0
        };

        let c = &mut self.carbon;
        c.g_co2e = grams_co2e(e.total_joules, c.grid_intensity_g_per_kwh, c.pue);
        c.g_co2e_per_1000_queries = grams_co2e(
            e.joules_per_query * 1000.0,
            c.grid_intensity_g_per_kwh,
            c.pue,
        );

        if let Some(g) = &mut self.generation {
            let prefill: Option<f64> = self.repetitions.iter().map(|r| r.prefill_joules).sum();
            let decode: Option<f64> = self.repetitions.iter().map(|r| r.decode_joules).sum();
            if !self.repetitions.is_empty() {
                if let (Some(p), Some(d)) = (prefill, decode) {
                    g.prefill_joules = p;
                    g.decode_joules = d;
                }
            }
            g.joules_per_generated_token = per(e.total_joules, g.generated_tokens);
            g.joules_per_input_token = per(e.total_joules, g.input_tokens);
            g.prefill_joules_per_input_token = per(g.prefill_joules, g.input_tokens);
            g.decode_joules_per_generated_token =
                per(g.decode_joules, g.generated_tokens.saturating_sub(queries));
            g.tokens_per_second = if wall > 0.0 {
                g.generated_tokens as f64 / wall
            } else {
                0.0
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::DomainKind;

    #[test]
    fn wh_per_1000_is_j_per_query_over_3_6() {
        assert_eq!(wh_per_1000_queries(3.6), 1.0);
        assert_eq!(wh_per_1000_queries(36.0), 10.0);
        assert_eq!(wh_per_1000_queries(0.0), 0.0);
    }

    #[test]
    fn grams_at_world_default() {
        // 3.6 MJ = 1 kWh at 475 g/kWh and PUE 1.2 → 570 g.
        assert!((grams_co2e(3.6e6, 475.0, 1.2) - 570.0).abs() < 1e-9);
    }

    #[test]
    fn net_clamps_at_zero() {
        assert_eq!(net_joules_per_query(100.0, 10.0, 5.0, 10), (5.0, false));
        assert_eq!(net_joules_per_query(100.0, 30.0, 5.0, 10), (0.0, true));
        assert_eq!(net_joules_per_query(100.0, 1.0, 5.0, 0), (0.0, false));
    }

    fn src(name: &str, kind: DomainKind, method: SourceMethod, joules: f64) -> SourceEnergy {
        SourceEnergy {
            name: name.into(),
            domain: name.into(),
            kind,
            method,
            joules,
            avg_watts: 0.0,
        }
    }

    #[test]
    fn counted_joules_skip_core_uncore_psys() {
        let s = [
            src("pkg", DomainKind::CpuPackage, SourceMethod::Measured, 10.0),
            src("core", DomainKind::Core, SourceMethod::Measured, 7.0),
            src("uncore", DomainKind::Uncore, SourceMethod::Measured, 1.0),
            src("psys", DomainKind::Psys, SourceMethod::Measured, 30.0),
            src("dram", DomainKind::Dram, SourceMethod::Estimated, 2.0),
            src(
                "gpu",
                DomainKind::Gpu,
                SourceMethod::MeasuredPowerIntegrated,
                5.0,
            ),
        ];
        assert_eq!(counted_joules(&s), 17.0);
        assert_eq!(energy_method(&s), Some(EnergyMethod::Mixed));
        assert_eq!(energy_method(&s[..2]), Some(EnergyMethod::Measured));
        assert_eq!(energy_method(&s[4..5]), Some(EnergyMethod::Estimated));
        assert_eq!(energy_method(&s[1..4]), None);
    }
}
