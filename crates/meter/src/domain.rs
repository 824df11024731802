//! What a metered domain is: its kind, how its energy is obtained, and its name.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How a domain's energy figure is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Method {
    /// Read from a hardware energy counter (RAPL `energy_uj`, NVML total energy).
    #[serde(rename = "measured")]
    Measured,
    /// Hardware power readings integrated over time (trapezoid rule).
    #[serde(rename = "measured (power-integrated)")]
    MeasuredPowerIntegrated,
    /// Modelled from utilisation and a spec-sheet figure; not a measurement.
    #[serde(rename = "estimated")]
    Estimated,
}

impl Method {
    /// True for both measured variants.
    pub fn is_measured(self) -> bool {
        !matches!(self, Method::Estimated)
    }

    /// The label written into result files.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Measured => "measured",
            Method::MeasuredPowerIntegrated => "measured (power-integrated)",
            Method::Estimated => "estimated",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What part of the machine a domain covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DomainKind {
    /// A whole CPU package (socket); includes its cores and uncore.
    CpuPackage,
    /// The cores of a package (inside [`DomainKind::CpuPackage`]).
    Core,
    /// The uncore of a package, e.g. an integrated GPU (inside the package).
    Uncore,
    /// Memory attached to a package.
    Dram,
    /// Platform ("psys") energy: the whole SoC/platform on some laptops; overlaps packages.
    Psys,
    /// One GPU board.
    Gpu,
}

impl DomainKind {
    /// Whether this domain is added into a machine total. Only packages, DRAM and
    /// GPUs are: cores and uncore are inside the package, psys overlaps everything.
    pub fn counts_in_total(self) -> bool {
        matches!(
            self,
            DomainKind::CpuPackage | DomainKind::Dram | DomainKind::Gpu
        )
    }

    /// The kebab-case label.
    pub fn as_str(self) -> &'static str {
        match self {
            DomainKind::CpuPackage => "cpu-package",
            DomainKind::Core => "core",
            DomainKind::Uncore => "uncore",
            DomainKind::Dram => "dram",
            DomainKind::Psys => "psys",
            DomainKind::Gpu => "gpu",
        }
    }
}

impl fmt::Display for DomainKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One metered domain of one source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainInfo {
    /// The source's name (`rapl`, `nvml`, `estimate`).
    pub source: String,
    /// Unique name, e.g. `package-0`, `dram-0`, `gpu-0 (NVIDIA H100)`, `cpu (estimated)`.
    pub name: String,
    /// What the domain covers.
    pub kind: DomainKind,
    /// How its energy is obtained.
    pub method: Method,
    /// How the figure is derived when that needs saying (estimate formula and
    /// the TDP row used, the sysfs zone, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The method of a total over several domains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OverallMethod {
    /// Every counted domain is measured (directly or power-integrated).
    Measured,
    /// Every counted domain is estimated.
    Estimated,
    /// Some counted domains are measured, some estimated.
    Mixed,
    /// There is no counted domain at all.
    None,
}

impl OverallMethod {
    /// The overall method of the domains that count in a total.
    pub fn of<'a>(domains: impl IntoIterator<Item = &'a DomainInfo>) -> OverallMethod {
        let (mut measured, mut estimated) = (false, false);
        for d in domains.into_iter().filter(|d| d.kind.counts_in_total()) {
            if d.method.is_measured() {
                measured = true;
            } else {
                estimated = true;
            }
        }
        match (measured, estimated) {
            (true, false) => OverallMethod::Measured,
            (false, true) => OverallMethod::Estimated,
            (true, true) => OverallMethod::Mixed,
            (false, false) => OverallMethod::None,
        }
    }

    /// The lowercase label.
    pub fn as_str(self) -> &'static str {
        match self {
            OverallMethod::Measured => "measured",
            OverallMethod::Estimated => "estimated",
            OverallMethod::Mixed => "mixed",
            OverallMethod::None => "none",
        }
    }
}

impl fmt::Display for OverallMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dom(kind: DomainKind, method: Method) -> DomainInfo {
        DomainInfo {
            source: "t".into(),
            name: kind.as_str().into(),
            kind,
            method,
            detail: None,
        }
    }

    #[test]
    fn serde_labels() {
        assert_eq!(
            serde_json::to_string(&Method::MeasuredPowerIntegrated).unwrap(),
            "\"measured (power-integrated)\""
        );
        assert_eq!(
            serde_json::to_string(&DomainKind::CpuPackage).unwrap(),
            "\"cpu-package\""
        );
        let m: Method = serde_json::from_str("\"estimated\"").unwrap();
        assert_eq!(m, Method::Estimated);
        assert!(Method::MeasuredPowerIntegrated.is_measured());
        assert!(!Method::Estimated.is_measured());
    }

    #[test]
    fn only_package_dram_gpu_count() {
        use DomainKind::*;
        let counted: Vec<_> = [CpuPackage, Core, Uncore, Dram, Psys, Gpu]
            .into_iter()
            .filter(|k| k.counts_in_total())
            .collect();
        assert_eq!(counted, vec![CpuPackage, Dram, Gpu]);
    }

    #[test]
    fn overall_method_ignores_uncounted_domains() {
        use DomainKind::*;
        let a = [
            dom(CpuPackage, Method::Measured),
            dom(Psys, Method::Estimated),
        ];
        assert_eq!(OverallMethod::of(&a), OverallMethod::Measured);
        let b = [
            dom(CpuPackage, Method::Estimated),
            dom(Gpu, Method::MeasuredPowerIntegrated),
        ];
        assert_eq!(OverallMethod::of(&b), OverallMethod::Mixed);
        let c = [dom(Core, Method::Measured)];
        assert_eq!(OverallMethod::of(&c), OverallMethod::None);
        assert_eq!(
            serde_json::to_string(&OverallMethod::Mixed).unwrap(),
            "\"mixed\""
        );
    }
}
