//! Meter configuration.

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
        if let Some(w) = self.cpu_tdp_watts {
            if !(w.is_finite() && w > 0.0) {
                bail!("--cpu-tdp-watts must be a positive number of watts, got {w}");
            }
        }
        Ok(())
    }
}
