//! Which energy sources work on this machine, and which the meter will use.

use crate::config::MeterConfig;
use crate::domain::{DomainInfo, DomainKind, Method};
use crate::estimate::{CpuModel, EstimateModel, EstimateSource};
use crate::nvml::NvmlSource;
use crate::rapl::RaplSource;
use crate::source::EnergySource;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::PathBuf;

/// What one source can do here.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceProbe {
    /// `rapl`, `estimate`, `nvml`.
    pub name: String,
    /// Whether it could be opened.
    pub available: bool,
    /// Whether the meter uses it.
    pub used: bool,
    /// Its method when all its domains share one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<Method>,
    /// Its domains (empty when unavailable).
    pub domains: Vec<DomainInfo>,
    /// Why it is unavailable or unused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// How to make it available.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// Set-up notes (skipped zones, missing domains).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl SourceProbe {
    fn unavailable(name: &str, reason: String, fix: Option<String>) -> SourceProbe {
        SourceProbe {
            name: name.into(),
            available: false,
            used: false,
            method: None,
            domains: Vec::new(),
            reason: Some(reason),
            fix,
            notes: Vec::new(),
        }
    }

    fn of(src: &dyn EnergySource, used: bool, reason: Option<String>) -> SourceProbe {
        let domains = src.domains().to_vec();
        let method = domains
            .first()
            .map(|d| d.method)
            .filter(|m| domains.iter().all(|d| d.method == *m));
        SourceProbe {
            name: src.name().into(),
            available: true,
            used,
            method,
            domains,
            reason,
            fix: None,
            notes: src.notes(),
        }
    }
}

/// The source used for CPU and DRAM, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Choice {
    /// Source name.
    pub source: String,
    /// Its method.
    pub method: Method,
    /// Why it was chosen.
    pub why: String,
}

/// What `frugalbench probe` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeReport {
    /// The powercap root looked at.
    pub powercap_root: PathBuf,
    /// Every source tried.
    pub sources: Vec<SourceProbe>,
    /// The CPU/DRAM choice; `None` when nothing can meter the CPU.
    pub cpu_dram: Option<Choice>,
    /// The GPU choice; `None` when no GPU is metered.
    pub gpu: Option<Choice>,
    /// Which estimate model was chosen and why (guest or not and the signal,
    /// microarchitecture and how it was told, vCPUs and quota), and how to override it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate_why: Option<String>,
    /// The estimate's resolved parameters, when it could be resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate: Option<EstimateModel>,
}

impl ProbeReport {
    /// A plain-text rendering for humans.
    pub fn render_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "powercap root: {}", self.powercap_root.display());
        for p in &self.sources {
            let state = match (p.available, p.used) {
                (true, true) => "used",
                (true, false) => "available, not used",
                (false, _) => "unavailable",
            };
            let method = p.method.map(|m| format!(" [{m}]")).unwrap_or_default();
            let _ = writeln!(s, "\n{}: {state}{method}", p.name);
            if let Some(r) = &p.reason {
                let _ = writeln!(s, "  reason: {r}");
            }
            if let Some(f) = &p.fix {
                let _ = writeln!(s, "  fix: {}", f.replace('\n', "\n       "));
            }
            for d in &p.domains {
                let counted = if d.kind.counts_in_total() {
                    ""
                } else {
                    ", not in total"
                };
                let _ = writeln!(s, "  - {} ({}, {}{counted})", d.name, d.kind, d.method);
                if let Some(detail) = &d.detail {
                    let _ = writeln!(s, "      {detail}");
                }
            }
            for n in &p.notes {
                let _ = writeln!(s, "  note: {n}");
            }
        }
        s.push('\n');
        match &self.cpu_dram {
            Some(c) => {
                let _ = writeln!(s, "CPU/DRAM: {} ({}): {}", c.source, c.method, c.why);
            }
            None => {
                let _ = writeln!(s, "CPU/DRAM: nothing can meter the CPU here");
            }
        }
        match &self.gpu {
            Some(c) => {
                let _ = writeln!(s, "GPU: {} ({}): {}", c.source, c.method, c.why);
            }
            None => {
                let _ = writeln!(s, "GPU: none metered");
            }
        }
        if let Some(why) = &self.estimate_why {
            let _ = writeln!(s, "\nestimate model: {}", why.replace('\n', "\n  "));
        }
        s
    }
}

/// How to override the estimate, for `probe`.
const OVERRIDE_HINT: &str = "override: --cpu-watts-per-vcpu MIN,MAX (per-vCPU idle and full-load watts, Cloud Carbon Footprint model) or --cpu-tdp-watts W (W at 100 % of the visible CPUs)";

/// Opens the sources `cfg` asks for and reports on them.
pub(crate) fn build(cfg: &MeterConfig) -> (Vec<Box<dyn EnergySource>>, ProbeReport) {
    let mut sources: Vec<Box<dyn EnergySource>> = Vec::new();
    let mut probes = Vec::new();
    let mut cpu_dram = None;

    // RAPL.
    let mut rapl_reason = String::from("RAPL disabled by configuration");
    if cfg.enable_rapl {
        match RaplSource::open(&cfg.powercap_root) {
            Ok(src) => {
                let has_dram = src.domains().iter().any(|d| d.kind == DomainKind::Dram);
                let packages: Vec<&str> = src
                    .domains()
                    .iter()
                    .filter(|d| d.kind == DomainKind::CpuPackage)
                    .map(|d| d.name.as_str())
                    .collect();
                let mut why = format!(
                    "RAPL package zones readable under {} ({})",
                    cfg.powercap_root.display(),
                    packages.join(", ")
                );
                if !has_dram {
                    why.push_str("; no dram zone, so DRAM is not included");
                }
                cpu_dram = Some(Choice {
                    source: "rapl".into(),
                    method: Method::Measured,
                    why,
                });
                probes.push(SourceProbe::of(&src, true, None));
                sources.push(Box::new(src));
            }
            Err(u) => {
                rapl_reason = u.reason.clone();
                probes.push(SourceProbe::unavailable("rapl", u.reason, u.fix));
            }
        }
    } else {
        probes.push(SourceProbe::unavailable("rapl", rapl_reason.clone(), None));
    }

    // Estimate: resolved always (so probe shows it), used only without RAPL.
    let mut estimate_model = None;
    let mut estimate_why = None;
    match EstimateSource::detect(&cfg.host_root, &cfg.cpu_overrides()) {
        Ok(src) => {
            let m = src.model();
            estimate_model = Some(m.clone());
            let model = match &m.cpu {
                CpuModel::PerVcpu { .. } => "per-vCPU watts (Cloud Carbon Footprint)",
                CpuModel::Tdp { .. } => "TDP × share × utilisation",
            };
            estimate_why = Some(format!("{model}, because: {}\n{}", m.why(), OVERRIDE_HINT));
            if cpu_dram.is_none() {
                cpu_dram = Some(Choice {
                    source: "estimate".into(),
                    method: Method::Estimated,
                    why: if cfg.enable_rapl {
                        format!("no readable RAPL package zone ({rapl_reason})")
                    } else {
                        rapl_reason.clone()
                    },
                });
                probes.push(SourceProbe::of(&src, true, None));
                sources.push(Box::new(src));
            } else {
                probes.push(SourceProbe::of(
                    &src,
                    false,
                    Some("not needed: RAPL is readable".into()),
                ));
            }
        }
        Err(e) => probes.push(SourceProbe::unavailable("estimate", format!("{e:#}"), None)),
    }

    // NVML.
    let mut gpu = None;
    if cfg.enable_nvml {
        match NvmlSource::open() {
            Ok(src) => {
                let measured = src.domains().iter().all(|d| d.method == Method::Measured);
                gpu = Some(Choice {
                    source: "nvml".into(),
                    method: if measured {
                        Method::Measured
                    } else {
                        Method::MeasuredPowerIntegrated
                    },
                    why: format!("{} GPU(s) found by NVML", src.domains().len()),
                });
                probes.push(SourceProbe::of(&src, true, None));
                sources.push(Box::new(src));
            }
            Err(u) => probes.push(SourceProbe::unavailable("nvml", u.reason, u.fix)),
        }
    } else {
        probes.push(SourceProbe::unavailable(
            "nvml",
            "NVML disabled by configuration".into(),
            None,
        ));
    }

    let report = ProbeReport {
        powercap_root: cfg.powercap_root.clone(),
        sources: probes,
        cpu_dram,
        gpu,
        estimate_why,
        estimate: estimate_model,
    };
    (sources, report)
}

/// Reports which sources work here and which the meter would use. Opens and
/// closes every source; starts no sampler.
pub fn probe(cfg: &MeterConfig) -> ProbeReport {
    build(cfg).1
}
