//! NVIDIA GPUs through NVML (`nvml-wrapper`, which loads libnvidia-ml at run time,
//! so this builds and runs without a driver).
//!
//! Per GPU, `total_energy_consumption()` (mJ since driver load, Volta and newer)
//! deltas are preferred → `measured`. Where it is `NotSupported`, `power_usage()`
//! (mW) samples are integrated with the trapezoid rule between reads →
//! `measured (power-integrated)`. A GPU where neither works is listed as
//! unavailable with the reason; it is never reported as 0 J measured.
//!
//! The NVML energy counter updates about every 100 ms, so a window shorter than
//! that can read 0 J; power-integrated figures are only as fine as the sampler's
//! interval.

use crate::domain::{DomainInfo, DomainKind, Method};
use crate::source::{Condition, ConditionKind, EnergySource, ReadError, Unavailable};
use serde::Serialize;
use std::time::Instant;

/// An error from a GPU query.
#[derive(Debug, Clone, PartialEq)]
pub enum GpuError {
    /// The device does not support this query.
    NotSupported,
    /// Any other failure.
    Other(String),
}

impl std::fmt::Display for GpuError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GpuError::NotSupported => f.write_str("not supported on this GPU"),
            GpuError::Other(s) => f.write_str(s),
        }
    }
}

/// The GPU queries the source needs; NVML in production, a fake in tests.
pub trait GpuBackend: Send {
    /// Number of GPUs.
    fn device_count(&self) -> Result<u32, GpuError>;
    /// Marketing name of GPU `i`.
    fn name(&self, i: u32) -> Result<String, GpuError>;
    /// Total energy since driver load, millijoules.
    fn energy_mj(&self, i: u32) -> Result<u64, GpuError>;
    /// Current board power, milliwatts.
    fn power_mw(&self, i: u32) -> Result<u32, GpuError>;
}

/// The reason given when the NVIDIA driver library is absent.
pub const NO_DRIVER_REASON: &str = "no NVIDIA driver library (libnvidia-ml.so.1) found";

/// NVML through `nvml-wrapper`.
pub struct NvmlBackend {
    nvml: nvml_wrapper::Nvml,
}

fn gpu_err(e: nvml_wrapper::error::NvmlError) -> GpuError {
    match e {
        nvml_wrapper::error::NvmlError::NotSupported => GpuError::NotSupported,
        other => GpuError::Other(other.to_string()),
    }
}

impl NvmlBackend {
    /// Loads libnvidia-ml and initialises NVML. A missing library is reported as
    /// [`NO_DRIVER_REASON`].
    pub fn init() -> Result<NvmlBackend, Unavailable> {
        use nvml_wrapper::error::NvmlError;
        match nvml_wrapper::Nvml::init() {
            Ok(nvml) => Ok(NvmlBackend { nvml }),
            Err(
                NvmlError::LibloadingError(_)
                | NvmlError::FailedToLoadSymbol(_)
                | NvmlError::LibraryNotFound,
            ) => Err(Unavailable::new(NO_DRIVER_REASON)),
            Err(NvmlError::DriverNotLoaded) => Err(Unavailable::new(
                "the NVIDIA driver library is installed but the kernel driver is not loaded",
            )),
            Err(e) => Err(Unavailable::new(format!("NVML failed to initialise: {e}"))),
        }
    }
}

impl GpuBackend for NvmlBackend {
    fn device_count(&self) -> Result<u32, GpuError> {
        self.nvml.device_count().map_err(gpu_err)
    }

    fn name(&self, i: u32) -> Result<String, GpuError> {
        self.nvml
            .device_by_index(i)
            .and_then(|d| d.name())
            .map_err(gpu_err)
    }

    fn energy_mj(&self, i: u32) -> Result<u64, GpuError> {
        self.nvml
            .device_by_index(i)
            .and_then(|d| d.total_energy_consumption())
            .map_err(gpu_err)
    }

    fn power_mw(&self, i: u32) -> Result<u32, GpuError> {
        self.nvml
            .device_by_index(i)
            .and_then(|d| d.power_usage())
            .map_err(gpu_err)
    }
}

/// Trapezoid-rule integration of power samples.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PowerIntegrator {
    last: Option<(f64, f64)>,
    joules: f64,
}

impl PowerIntegrator {
    /// Adds a sample of `watts` at `t_s` seconds; returns the cumulative joules.
    /// A sample at or before the previous one only replaces the held power.
    pub fn add(&mut self, t_s: f64, watts: f64) -> f64 {
        let watts = if watts.is_finite() {
            watts.max(0.0)
        } else {
            0.0
        };
        if let Some((t0, w0)) = self.last {
            if t_s > t0 {
                self.joules += 0.5 * (w0 + watts) * (t_s - t0);
            }
        }
        let t = self.last.map_or(t_s, |(t0, _)| t0.max(t_s));
        self.last = Some((t, watts));
        self.joules
    }

    /// Cumulative joules so far.
    pub fn joules(&self) -> f64 {
        self.joules
    }
}

/// One GPU NVML cannot meter, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnavailableGpu {
    /// `gpu-N (name)`.
    pub name: String,
    /// Why.
    pub reason: String,
}

enum Mode {
    Counter { last_mj: u64, acc_mj: u64 },
    Power(PowerIntegrator),
}

struct Gpu {
    index: u32,
    domain: String,
    mode: Mode,
    failures: u64,
    resets: u64,
}

/// The NVML source: one `gpu` domain per usable GPU.
pub struct NvmlSource {
    backend: Box<dyn GpuBackend>,
    gpus: Vec<Gpu>,
    domains: Vec<DomainInfo>,
    unavailable: Vec<UnavailableGpu>,
    origin: Instant,
}

impl NvmlSource {
    /// Opens NVML; `Err` when there is no driver or no usable GPU.
    pub fn open() -> Result<NvmlSource, Unavailable> {
        NvmlSource::with_backend(Box::new(NvmlBackend::init()?))
    }

    /// Opens the GPUs of `backend`, choosing each one's method.
    pub fn with_backend(backend: Box<dyn GpuBackend>) -> Result<NvmlSource, Unavailable> {
        let count = backend
            .device_count()
            .map_err(|e| Unavailable::new(format!("NVML cannot count GPUs: {e}")))?;
        if count == 0 {
            return Err(Unavailable::new("NVML found no NVIDIA GPU"));
        }
        let origin = Instant::now();
        let mut gpus = Vec::new();
        let mut domains = Vec::new();
        let mut unavailable = Vec::new();
        for i in 0..count {
            let name = match backend.name(i) {
                Ok(n) => format!("gpu-{i} ({n})"),
                Err(_) => format!("gpu-{i}"),
            };
            let (mode, method, detail) = match backend.energy_mj(i) {
                Ok(mj) => (
                    Mode::Counter {
                        last_mj: mj,
                        acc_mj: 0,
                    },
                    Method::Measured,
                    "NVML total_energy_consumption deltas (counter updates about every 100 ms)"
                        .to_owned(),
                ),
                Err(energy_err) => match backend.power_mw(i) {
                    Ok(mw) => {
                        let mut integ = PowerIntegrator::default();
                        integ.add(0.0, f64::from(mw) / 1e3);
                        (
                            Mode::Power(integ),
                            Method::MeasuredPowerIntegrated,
                            format!(
                                "NVML power_usage integrated with the trapezoid rule between reads (energy counter: {energy_err})"
                            ),
                        )
                    }
                    Err(power_err) => {
                        unavailable.push(UnavailableGpu {
                            name,
                            reason: format!(
                                "neither NVML energy counter ({energy_err}) nor power reading ({power_err}) works"
                            ),
                        });
                        continue;
                    }
                },
            };
            domains.push(DomainInfo {
                source: "nvml".into(),
                name: name.clone(),
                kind: DomainKind::Gpu,
                method,
                detail: Some(detail),
            });
            gpus.push(Gpu {
                index: i,
                domain: name,
                mode,
                failures: 0,
                resets: 0,
            });
        }
        if gpus.is_empty() {
            let reasons: Vec<String> = unavailable
                .iter()
                .map(|u| format!("{}: {}", u.name, u.reason))
                .collect();
            return Err(Unavailable::new(format!(
                "no GPU can be metered: {}",
                reasons.join("; ")
            )));
        }
        Ok(NvmlSource {
            backend,
            gpus,
            domains,
            unavailable,
            origin,
        })
    }

    /// GPUs present but not meterable.
    pub fn unavailable_gpus(&self) -> &[UnavailableGpu] {
        &self.unavailable
    }
}

impl EnergySource for NvmlSource {
    fn name(&self) -> &str {
        "nvml"
    }

    fn domains(&self) -> &[DomainInfo] {
        &self.domains
    }

    fn read(&mut self) -> Result<Vec<f64>, ReadError> {
        let mut out = Vec::with_capacity(self.gpus.len());
        for g in &mut self.gpus {
            match &mut g.mode {
                Mode::Counter { last_mj, acc_mj } => {
                    match self.backend.energy_mj(g.index) {
                        Ok(mj) if mj >= *last_mj => {
                            *acc_mj += mj - *last_mj;
                            *last_mj = mj;
                        }
                        Ok(mj) => {
                            g.resets += 1;
                            *last_mj = mj;
                        }
                        Err(_) => g.failures += 1,
                    }
                    out.push(*acc_mj as f64 / 1e3);
                }
                Mode::Power(integ) => {
                    let t = self.origin.elapsed().as_secs_f64();
                    match self.backend.power_mw(g.index) {
                        Ok(mw) => {
                            integ.add(t, f64::from(mw) / 1e3);
                        }
                        Err(_) => g.failures += 1,
                    }
                    out.push(integ.joules());
                }
            }
        }
        Ok(out)
    }

    fn notes(&self) -> Vec<String> {
        self.unavailable
            .iter()
            .map(|u| format!("{} is not metered: {}", u.name, u.reason))
            .collect()
    }

    fn conditions(&self) -> Vec<Condition> {
        let mut out = Vec::new();
        for g in &self.gpus {
            if g.resets > 0 {
                out.push(Condition {
                    domain: g.domain.clone(),
                    kind: ConditionKind::DroppedCounterReset,
                    count: g.resets,
                });
            }
            if g.failures > 0 {
                out.push(Condition {
                    domain: g.domain.clone(),
                    kind: ConditionKind::ReadFailed,
                    count: g.failures,
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[test]
    fn trapezoid_integration() {
        let mut p = PowerIntegrator::default();
        assert_eq!(p.add(0.0, 100.0), 0.0);
        assert_eq!(p.add(1.0, 200.0), 150.0);
        assert_eq!(p.add(3.0, 200.0), 550.0);
        // A sample out of order adds nothing and keeps time monotonic.
        assert_eq!(p.add(2.0, 0.0), 550.0);
        assert_eq!(p.add(4.0, 0.0), 550.0);
        // Bad readings are treated as 0 W, never negative.
        assert_eq!(p.add(5.0, f64::NAN), 550.0);
        assert_eq!(p.add(6.0, -5.0), 550.0);
    }

    /// One fake GPU: its energy counter (or an error) and its power (or an error).
    type FakeGpu = (Result<u64, GpuError>, Result<u32, GpuError>);

    /// A fake GPU set.
    #[derive(Clone, Default)]
    struct Fake {
        gpus: Arc<Mutex<Vec<FakeGpu>>>,
    }

    impl GpuBackend for Fake {
        fn device_count(&self) -> Result<u32, GpuError> {
            Ok(self.gpus.lock().unwrap().len() as u32)
        }
        fn name(&self, _: u32) -> Result<String, GpuError> {
            Ok("Fake GPU".into())
        }
        fn energy_mj(&self, i: u32) -> Result<u64, GpuError> {
            self.gpus.lock().unwrap()[i as usize].0.clone()
        }
        fn power_mw(&self, i: u32) -> Result<u32, GpuError> {
            self.gpus.lock().unwrap()[i as usize].1.clone()
        }
    }

    #[test]
    fn methods_are_chosen_and_labelled_per_gpu() {
        let fake = Fake::default();
        *fake.gpus.lock().unwrap() = vec![
            (Ok(1_000), Ok(50_000)),
            (Err(GpuError::NotSupported), Ok(70_000)),
            (
                Err(GpuError::NotSupported),
                Err(GpuError::Other("Unknown".into())),
            ),
        ];
        let mut src = NvmlSource::with_backend(Box::new(fake.clone())).unwrap();
        let d = src.domains();
        assert_eq!(d.len(), 2, "the unusable GPU is not a domain");
        assert_eq!(d[0].name, "gpu-0 (Fake GPU)");
        assert_eq!(d[0].method, Method::Measured);
        assert_eq!(d[1].method, Method::MeasuredPowerIntegrated);
        assert_eq!(d[1].kind, DomainKind::Gpu);
        assert_eq!(src.unavailable_gpus().len(), 1);
        assert!(src.unavailable_gpus()[0].reason.contains("Unknown"));
        assert!(src.notes()[0].contains("gpu-2"));

        fake.gpus.lock().unwrap()[0].0 = Ok(3_500);
        let v = src.read().unwrap();
        assert_eq!(v[0], 2.5, "counter delta 2500 mJ");
        assert!(v[1] >= 0.0);
        // A counter going backwards is dropped, never negative.
        fake.gpus.lock().unwrap()[0].0 = Ok(100);
        assert_eq!(src.read().unwrap()[0], 2.5);
        fake.gpus.lock().unwrap()[0].0 = Ok(600);
        assert_eq!(src.read().unwrap()[0], 3.0);
        assert_eq!(src.conditions()[0].kind, ConditionKind::DroppedCounterReset);
    }

    #[test]
    fn no_usable_gpu_is_unavailable_not_zero() {
        let fake = Fake::default();
        *fake.gpus.lock().unwrap() =
            vec![(Err(GpuError::NotSupported), Err(GpuError::NotSupported))];
        let e = NvmlSource::with_backend(Box::new(fake.clone()))
            .err()
            .unwrap();
        assert!(e.reason.contains("no GPU can be metered"), "{}", e.reason);
        fake.gpus.lock().unwrap().clear();
        let e = NvmlSource::with_backend(Box::new(fake)).err().unwrap();
        assert!(e.reason.contains("no NVIDIA GPU"));
    }

    #[test]
    fn missing_driver_library_is_a_one_line_reason() {
        // No NVIDIA driver on the build machines: init must fail gracefully.
        if let Err(u) = NvmlBackend::init() {
            assert!(!u.reason.contains('\n'));
            let lib_present = ["/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib"]
                .iter()
                .any(|d| std::path::Path::new(d).join("libnvidia-ml.so.1").exists());
            if !lib_present {
                assert_eq!(u.reason, NO_DRIVER_REASON);
            }
        }
    }
}
