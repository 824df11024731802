//! The [`EnergySource`] trait every sensor implements, and its error types.

use crate::domain::DomainInfo;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;

/// Why one read of a source failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file exists but this user may not read it.
    #[error("permission denied reading {}", path.display())]
    PermissionDenied {
        /// The file.
        path: PathBuf,
    },
    /// Any other I/O failure.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file did not hold a non-negative integer.
    #[error("{}: expected a non-negative integer, found {content:?}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What it held (trimmed).
        content: String,
    },
    /// A device library call failed (NVML).
    #[error("{0}")]
    Device(String),
}

impl ReadError {
    /// Classifies an I/O error on `path`.
    pub fn from_io(path: PathBuf, e: std::io::Error) -> ReadError {
        if e.kind() == std::io::ErrorKind::PermissionDenied {
            ReadError::PermissionDenied { path }
        } else {
            ReadError::Io { path, source: e }
        }
    }
}

/// Why a source cannot be used on this machine, and what to do about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unavailable {
    /// One line saying why.
    pub reason: String,
    /// A concrete fix, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Unavailable {
    /// An unavailability with no known fix.
    pub fn new(reason: impl Into<String>) -> Unavailable {
        Unavailable {
            reason: reason.into(),
            fix: None,
        }
    }
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)?;
        if let Some(fix) = &self.fix {
            write!(f, "\nfix: {fix}")?;
        }
        Ok(())
    }
}

/// A runtime condition a source ran into, counted, so a window can report what
/// happened inside it (`count` at its end minus `count` at its begin).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Condition {
    /// The domain concerned (`package-0`), or the source name.
    pub domain: String,
    /// What happened.
    pub kind: ConditionKind,
    /// How many times since the source was created.
    pub count: u64,
}

/// The kinds of [`Condition`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConditionKind {
    /// A counter decreased while `max_energy_range_uj` was unreadable: the
    /// interval was dropped (counted as 0 J).
    DroppedNoRange,
    /// A counter went backwards with no known wrap range (e.g. a driver reload):
    /// the interval was dropped.
    DroppedCounterReset,
    /// A counter moved by more than [`crate::rapl::MAX_ZONE_POWER_W`] could explain
    /// over the interval (a counter reset, or a wrap the sampler missed): the
    /// interval was dropped rather than reporting a huge figure.
    DroppedImplausible,
    /// A read failed; the last good value was kept and the energy is carried over
    /// to the next good read where the counter allows it.
    ReadFailed,
}

impl Condition {
    /// A human sentence for `n` occurrences.
    pub fn describe(&self, n: u64) -> String {
        let s = if n == 1 { "" } else { "s" };
        match self.kind {
            ConditionKind::DroppedNoRange => format!(
                "dropped {n} interval{s} on {}: max_energy_range_uj unreadable, so a counter decrease could not be corrected (counted as 0 J)",
                self.domain
            ),
            ConditionKind::DroppedCounterReset => format!(
                "dropped {n} interval{s} on {}: the energy counter went backwards (driver reload?), counted as 0 J",
                self.domain
            ),
            ConditionKind::DroppedImplausible => format!(
                "dropped {n} interval{s} on {}: the counter jumped by more than {} W could explain (counter reset or missed wrap), counted as 0 J",
                self.domain,
                crate::rapl::MAX_ZONE_POWER_W
            ),
            ConditionKind::ReadFailed => format!(
                "{n} failed read{s} on {}; the last good value was kept",
                self.domain
            ),
        }
    }
}

/// A sensor: reports cumulative energy per domain since it was created.
///
/// Sensors are separate from exporters (the [`crate::Meter`] samples them, windows
/// and timelines are built on top), as in Scaphandre.
pub trait EnergySource: Send {
    /// Short source name (`rapl`, `nvml`, `estimate`).
    fn name(&self) -> &str;

    /// The domains, in the order [`EnergySource::read`] reports them.
    fn domains(&self) -> &[DomainInfo];

    /// Cumulative joules per domain since the source was created. Must be
    /// monotonic (never decreasing) per domain.
    fn read(&mut self) -> Result<Vec<f64>, ReadError>;

    /// The longest interval between reads that still sees every counter wrap;
    /// the sampler polls at most half this far apart. `None`: no limit.
    fn max_poll_interval(&self) -> Option<Duration> {
        None
    }

    /// Called by the background sampler on every tick, before `read`. Sources
    /// that integrate something over time (the estimate) do it here.
    fn on_tick(&mut self) {}

    /// Cumulative (low, high) joules per domain as of the last successful
    /// [`EnergySource::read`], for domains whose figure is a range (estimates); `None` for
    /// a domain with a single figure (measured). Empty: no domain has a range.
    fn read_range(&self) -> Vec<Option<(f64, f64)>> {
        Vec::new()
    }

    /// Notes fixed at set-up (zones skipped, domains missing, formulas used).
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }

    /// Runtime conditions met so far, with counts.
    fn conditions(&self) -> Vec<Condition> {
        Vec::new()
    }
}
