//! Options shared by every command that meters: where the counters are,
//! how often to sample, the idle baseline, the estimate's TDP and carbon.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Result};
use frugalbench_meter::{CarbonIntensity, MeterConfig};

/// The longest idle baseline accepted (an hour is already far more than a stable figure needs).
pub const MAX_IDLE_SECONDS: f64 = 3600.0;

#[derive(Debug, Clone, clap::Args)]
pub struct MeterArgs {
    /// Root of the powercap sysfs tree that holds the RAPL zones.
    #[arg(
        long,
        env = "FRUGALBENCH_POWERCAP_ROOT",
        value_name = "DIR",
        default_value = "/sys/class/powercap"
    )]
    pub powercap_root: PathBuf,
    /// Sampling interval of the background sampler, in milliseconds (it is
    /// shortened automatically if a RAPL counter could wrap faster).
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub interval_ms: u64,
    /// Seconds of idle power measured before the work (0 disables); results
    /// then report energy net of idle beside the gross figure.
    #[arg(long, value_name = "S", default_value_t = 3.0)]
    pub idle_seconds: f64,
    /// CPU power (W) at 100 % of the visible CPUs for the estimate when no counter
    /// exists, instead of the model `probe` shows (TDP table or per-vCPU figures).
    #[arg(long, value_name = "W", conflicts_with = "cpu_watts_per_vcpu")]
    pub cpu_tdp_watts: Option<f64>,
    /// Per-vCPU watts at idle and at full load for the estimate (Cloud Carbon
    /// Footprint's model, W = vCPUs × (MIN + u × (MAX − MIN))), instead of the
    /// figures for this CPU's microarchitecture.
    #[arg(long, value_name = "MIN,MAX", value_parser = parse_min_max)]
    pub cpu_watts_per_vcpu: Option<(f64, f64)>,
    /// Root under which the estimate reads /proc (cpuinfo, stat, meminfo) and /sys
    /// (DMI, cgroup); for tests on a fake tree.
    #[arg(
        long,
        env = "FRUGALBENCH_HOST_ROOT",
        value_name = "DIR",
        default_value = "/",
        hide = true
    )]
    pub host_root: PathBuf,
    /// Do not look for NVIDIA GPUs through NVML.
    #[arg(long)]
    pub no_nvml: bool,
    /// Country (ISO 3166 alpha-2, e.g. FR) whose grid carbon intensity to use;
    /// the world average is used when neither this nor --grid-intensity is given.
    #[arg(long, value_name = "ISO")]
    pub country: Option<String>,
    /// Grid carbon intensity in gCO2e per kWh (overrides --country).
    #[arg(long, value_name = "G_PER_KWH")]
    pub grid_intensity: Option<f64>,
    /// Power usage effectiveness of the data centre (>= 1.0), multiplies energy
    /// for the carbon figure.
    #[arg(long, value_name = "F", default_value_t = 1.0)]
    pub pue: f64,
}

impl MeterArgs {
    pub fn config(&self) -> Result<MeterConfig> {
        if self.interval_ms == 0 {
            bail!("--interval-ms must be at least 1");
        }
        let cfg = MeterConfig {
            powercap_root: self.powercap_root.clone(),
            interval: Duration::from_millis(self.interval_ms),
            cpu_tdp_watts: self.cpu_tdp_watts,
            cpu_watts_per_vcpu: self.cpu_watts_per_vcpu,
            host_root: self.host_root.clone(),
            enable_nvml: !self.no_nvml,
            ..MeterConfig::default()
        };
        cfg.cpu_overrides().validate()?;
        Ok(cfg)
    }

    pub fn idle(&self) -> Result<Duration> {
        if !(self.idle_seconds.is_finite() && (0.0..=MAX_IDLE_SECONDS).contains(&self.idle_seconds))
        {
            bail!(
                "--idle-seconds must be between 0 and {MAX_IDLE_SECONDS} seconds, got {}",
                self.idle_seconds
            );
        }
        Ok(Duration::from_secs_f64(self.idle_seconds))
    }

    pub fn carbon(&self) -> Result<CarbonIntensity> {
        frugalbench_meter::resolve_carbon(self.country.as_deref(), self.grid_intensity, self.pue)
    }
}

/// `MIN,MAX` watts, e.g. `0.45,2.02`.
fn parse_min_max(s: &str) -> Result<(f64, f64), String> {
    let (a, b) = s
        .split_once(',')
        .ok_or_else(|| format!("expected MIN,MAX watts, e.g. 0.45,2.02; got {s:?}"))?;
    let num = |x: &str| {
        x.trim()
            .parse::<f64>()
            .map_err(|_| format!("{:?} is not a number of watts", x.trim()))
    };
    let (lo, hi) = (num(a)?, num(b)?);
    if !(lo.is_finite() && hi.is_finite() && lo >= 0.0 && hi > 0.0 && lo <= hi) {
        return Err(format!("needs 0 <= MIN <= MAX, got {lo},{hi}"));
    }
    Ok((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::parse_min_max;

    #[test]
    fn min_max_watts_parse() {
        assert_eq!(parse_min_max("0.45, 2.02"), Ok((0.45, 2.02)));
        assert!(parse_min_max("2,1").is_err());
        assert!(parse_min_max("1").is_err());
        assert!(parse_min_max("a,1").is_err());
    }
}
