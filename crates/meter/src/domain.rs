//! What a metered domain is: its source and name, with its kind and method (the shared
//! vocabulary of `frugalbench-schema`).

use serde::{Deserialize, Serialize};

pub use frugalbench_schema::{DomainKind, Method, OverallMethod};

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

impl DomainInfo {
    /// Its kind and method, the pair [`OverallMethod::of`] takes.
    pub fn kind_method(&self) -> (DomainKind, Method) {
        (self.kind, self.method)
    }
}
