//! Energy metering for frugalbench.
//!
//! Sensors ([`EnergySource`]: RAPL powercap, NVML, a labelled estimate) report
//! cumulative joules per domain; a [`Meter`] samples them in the background and
//! measures windows ([`Meter::begin`]/[`Meter::end`]) exactly at their edges.
//! Every figure carries its [`Method`] (`measured`, `measured (power-integrated)`,
//! `estimated`) and its source. [`resolve_carbon`] picks the grid intensity that turns joules into grams of CO2e.

#![warn(missing_docs)]

pub mod carbon;
mod config;
mod csv_table;
mod domain;
pub mod estimate;
#[cfg(feature = "testing")]
pub mod fake;
pub mod host;
mod measurement;
mod meter;
pub mod nvml;
mod probe;
pub mod rapl;
mod source;
pub mod sysfs;

pub use carbon::resolve as resolve_carbon;
pub use config::MeterConfig;
pub use domain::{DomainInfo, DomainKind, Method, OverallMethod};
pub use frugalbench_schema::CarbonIntensity;
pub use measurement::{DomainEnergy, DomainPower, IdleBaseline, Measurement, SourceTotal};
pub use meter::{Meter, TimelineSample, Window, MIN_INTERVAL};
pub use probe::{probe, Choice, ProbeReport, SourceProbe};
pub use source::{Condition, ConditionKind, EnergySource, ReadError, Unavailable};

#[cfg(test)]
mod tests {
    /// The CLI shares a meter between threads (progress bars, phase hooks).
    #[test]
    fn meter_and_windows_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<crate::Meter>();
        check::<crate::Window>();
        check::<crate::Measurement>();
    }
}
