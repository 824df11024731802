//! How an energy figure was obtained ([`Method`], [`OverallMethod`]) and what part of the
//! machine it covers ([`DomainKind`]).

use serde::{Deserialize, Serialize};
use std::fmt;

/// How one domain's energy figure is obtained.
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

/// The method of a total over several domains (only the domains that count in totals).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OverallMethod {
    /// Every counted domain is measured (directly or power-integrated).
    Measured,
    /// Every counted domain is estimated.
    Estimated,
    /// Some counted domains are measured, some estimated.
    Mixed,
}

impl OverallMethod {
    /// The overall method of the counted domains among `(kind, method)` pairs; `None` when no
    /// domain counts in totals (a total over nothing has no method).
    pub fn of(domains: impl IntoIterator<Item = (DomainKind, Method)>) -> Option<OverallMethod> {
        let (mut measured, mut estimated) = (false, false);
        for (_, method) in domains.into_iter().filter(|(k, _)| k.counts_in_total()) {
            if method.is_measured() {
                measured = true;
            } else {
                estimated = true;
            }
        }
        match (measured, estimated) {
            (true, false) => Some(OverallMethod::Measured),
            (false, true) => Some(OverallMethod::Estimated),
            (true, true) => Some(OverallMethod::Mixed),
            (false, false) => None,
        }
    }

    /// The lowercase label.
    pub fn as_str(self) -> &'static str {
        match self {
            OverallMethod::Measured => "measured",
            OverallMethod::Estimated => "estimated",
            OverallMethod::Mixed => "mixed",
        }
    }

    /// True only when no estimate is involved.
    pub fn is_measured(self) -> bool {
        self == OverallMethod::Measured
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
        assert_eq!(
            serde_json::to_string(&OverallMethod::Mixed).unwrap(),
            "\"mixed\""
        );
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
        let of = |d: &[(DomainKind, Method)]| OverallMethod::of(d.iter().copied());
        assert_eq!(
            of(&[(CpuPackage, Method::Measured), (Psys, Method::Estimated)]),
            Some(OverallMethod::Measured)
        );
        assert_eq!(
            of(&[
                (CpuPackage, Method::Estimated),
                (Gpu, Method::MeasuredPowerIntegrated)
            ]),
            Some(OverallMethod::Mixed)
        );
        assert_eq!(
            of(&[(Dram, Method::Estimated)]),
            Some(OverallMethod::Estimated)
        );
        assert_eq!(of(&[(Core, Method::Measured)]), None);
    }
}
