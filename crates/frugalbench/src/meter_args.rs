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
    /// CPU power (W) for the estimate when no counter exists, instead of the
    /// shipped TDP table's figure for this CPU.
    #[arg(long, value_name = "W")]
    pub cpu_tdp_watts: Option<f64>,
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
        if let Some(w) = self.cpu_tdp_watts {
            if !(w.is_finite() && w > 0.0) {
                bail!("--cpu-tdp-watts must be a positive number of watts, got {w}");
            }
        }
        Ok(MeterConfig {
            powercap_root: self.powercap_root.clone(),
            interval: Duration::from_millis(self.interval_ms),
            cpu_tdp_watts: self.cpu_tdp_watts,
            enable_nvml: !self.no_nvml,
            ..MeterConfig::default()
        })
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
