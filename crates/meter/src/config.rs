//! Meter configuration.

use crate::estimate::CpuOverrides;
use crate::host::DEFAULT_HOST_ROOT;
use crate::rapl::DEFAULT_POWERCAP_ROOT;
use anyhow::bail;
use std::path::PathBuf;
use std::time::Duration;

/// How the meter finds and samples its sources.
#[derive(Debug, Clone, PartialEq)]
pub struct MeterConfig {
    /// Powercap sysfs root (the CLI's `--powercap-root` / `FRUGALBENCH_POWERCAP_ROOT`).
    pub powercap_root: PathBuf,
    /// Background sampling interval (default 100 ms). Clamped down so RAPL
    /// counters cannot wrap twice between polls.
    pub interval: Duration,
    /// Replaces the TDP table figure in the estimate (share 1); the CLI's
    /// `--cpu-tdp-watts`. Ignored when RAPL is readable.
    pub cpu_tdp_watts: Option<f64>,
    /// Per-vCPU (idle, full-load) watts for the estimate's Cloud Carbon Footprint
    /// model, replacing the table's figures; the CLI's `--cpu-watts-per-vcpu MIN,MAX`.
    pub cpu_watts_per_vcpu: Option<(f64, f64)>,
    /// Root under which `/proc/cpuinfo`, `/proc/stat`, `/proc/meminfo`,
    /// `/sys/class/dmi/id` and `/sys/fs/cgroup` are read for the estimate (`/`; a fake
    /// tree in tests).
    pub host_root: PathBuf,
    /// Try NVML for GPUs.
    pub enable_nvml: bool,
    /// Try RAPL for CPU/DRAM; when false, CPU and DRAM are estimated.
    pub enable_rapl: bool,
}

impl Default for MeterConfig {
    fn default() -> Self {
        MeterConfig {
            powercap_root: PathBuf::from(DEFAULT_POWERCAP_ROOT),
            interval: Duration::from_millis(100),
            cpu_tdp_watts: None,
            cpu_watts_per_vcpu: None,
            host_root: PathBuf::from(DEFAULT_HOST_ROOT),
            enable_nvml: true,
            enable_rapl: true,
        }
    }
}

impl MeterConfig {
    /// Checks the values a user can get wrong.
    pub fn validate(&self) -> anyhow::Result<()> {
        if self.interval.is_zero() {
            bail!("the meter's sampling interval must be greater than 0");
        }
        self.cpu_overrides().validate()
    }

    /// The estimate's CPU overrides.
    pub fn cpu_overrides(&self) -> CpuOverrides {
        CpuOverrides {
            tdp_watts: self.cpu_tdp_watts,
            watts_per_vcpu: self.cpu_watts_per_vcpu,
        }
    }
}
