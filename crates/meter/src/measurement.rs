//! What a metered window produced, and the idle baseline.

use crate::domain::{DomainInfo, OverallMethod};
use frugalbench_schema::SourceEnergy;
use serde::{Deserialize, Serialize};

/// Energy of one domain over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainEnergy {
    /// The domain.
    #[serde(flatten)]
    pub info: DomainInfo,
    /// Joules over the window.
    pub joules: f64,
    /// Mean power over the window, watts.
    pub avg_watts: f64,
    /// Low end of the joules' range (estimated domains only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joules_low: Option<f64>,
    /// High end of the joules' range (estimated domains only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub joules_high: Option<f64>,
}

impl DomainEnergy {
    /// The low end of its range, or its joules when it has none.
    pub fn low(&self) -> f64 {
        self.joules_low.unwrap_or(self.joules)
    }

    /// The high end of its range, or its joules when it has none.
    pub fn high(&self) -> f64 {
        self.joules_high.unwrap_or(self.joules)
    }
}

/// The energy of all domains over one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// Window length, seconds.
    pub duration_s: f64,
    /// Every domain, counted in the total or not.
    pub domains: Vec<DomainEnergy>,
    /// What happened inside the window (dropped intervals, failed reads, idle
    /// subtraction clamped).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Joules and method of one source's counted domains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceTotal {
    /// Source name.
    pub source: String,
    /// Joules over its counted domains.
    pub joules: f64,
    /// Method over its counted domains (`None`: it has no counted domain).
    pub method: Option<OverallMethod>,
}

impl Measurement {
    /// Joules over the domains that count (cpu-package, dram, gpu); never core,
    /// uncore or psys.
    pub fn total_joules(&self) -> f64 {
        self.domains
            .iter()
            .filter(|d| d.info.kind.counts_in_total())
            .map(|d| d.joules)
            .sum()
    }

    /// The (low, high) range of [`Measurement::total_joules`] when a counted domain has
    /// one (estimates); a measured domain adds its own figure to both ends.
    pub fn total_joules_range(&self) -> Option<(f64, f64)> {
        let counted = || {
            self.domains
                .iter()
                .filter(|d| d.info.kind.counts_in_total())
        };
        if !counted().any(|d| d.joules_low.is_some() || d.joules_high.is_some()) {
            return None;
        }
        Some((
            counted().map(|d| d.low()).sum(),
            counted().map(|d| d.high()).sum(),
        ))
    }

    /// Mean power of the counted domains, watts (0 for an empty window).
    pub fn avg_watts(&self) -> f64 {
        if self.duration_s > 0.0 {
            self.total_joules() / self.duration_s
        } else {
            0.0
        }
    }

    /// Measured, estimated or mixed, over the counted domains (`None` without any).
    pub fn method(&self) -> Option<OverallMethod> {
        OverallMethod::of(self.domains.iter().map(|d| d.info.kind_method()))
    }

    /// Every domain's energy as the result file records it.
    pub fn sources(&self) -> Vec<SourceEnergy> {
        self.domains
            .iter()
            .map(|d| SourceEnergy {
                name: d.info.source.clone(),
                domain: d.info.name.clone(),
                kind: d.info.kind,
                method: d.info.method,
                joules: d.joules,
                avg_watts: d.avg_watts,
                joules_low: d.joules_low,
                joules_high: d.joules_high,
            })
            .collect()
    }

    /// The total minus the idle power times the window length. Clamped at 0: when
    /// the idle figure exceeds the window's energy a note says so (once).
    pub fn net_of_idle(&mut self, idle: &IdleBaseline) -> f64 {
        let total = self.total_joules();
        let idle_j = idle.total_watts() * self.duration_s;
        let net = total - idle_j;
        if net < 0.0 {
            let note = format!(
                "net-of-idle energy clamped at 0: idle {:.3} W × {:.3} s = {:.3} J exceeds the window's {:.3} J",
                idle.total_watts(),
                self.duration_s,
                idle_j,
                total
            );
            if !self.notes.contains(&note) {
                self.notes.push(note);
            }
            0.0
        } else {
            net
        }
    }

    /// Counted joules and method per source, in domain order.
    pub fn by_source(&self) -> Vec<SourceTotal> {
        let mut out: Vec<SourceTotal> = Vec::new();
        for d in &self.domains {
            if !out.iter().any(|s| s.source == d.info.source) {
                let mine = self
                    .domains
                    .iter()
                    .filter(|x| x.info.source == d.info.source);
                out.push(SourceTotal {
                    source: d.info.source.clone(),
                    joules: mine
                        .clone()
                        .filter(|x| x.info.kind.counts_in_total())
                        .map(|x| x.joules)
                        .sum(),
                    method: OverallMethod::of(mine.map(|x| x.info.kind_method())),
                });
            }
        }
        out
    }

    /// The domain with this name.
    pub fn domain(&self, name: &str) -> Option<&DomainEnergy> {
        self.domains.iter().find(|d| d.info.name == name)
    }
}

/// Mean power of one domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainPower {
    /// The domain.
    #[serde(flatten)]
    pub info: DomainInfo,
    /// Watts.
    pub watts: f64,
}

/// Mean power per domain while the machine idled before a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdleBaseline {
    /// How long it was measured, seconds.
    pub seconds: f64,
    /// Per domain.
    pub domains: Vec<DomainPower>,
}

impl IdleBaseline {
    /// Total idle watts over the counted domains (cpu-package, dram, gpu).
    pub fn total_watts(&self) -> f64 {
        self.domains
            .iter()
            .filter(|d| d.info.kind.counts_in_total())
            .map(|d| d.watts)
            .sum()
    }

    /// Measured, estimated or mixed, over the counted domains (`None` without any).
    pub fn method(&self) -> Option<OverallMethod> {
        OverallMethod::of(self.domains.iter().map(|d| d.info.kind_method()))
    }
}
