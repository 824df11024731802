//! The [`Meter`]: sources shared between a background sampler thread and
//! begin/end windows.

use crate::config::MeterConfig;
use crate::domain::DomainInfo;
use crate::measurement::{DomainEnergy, DomainPower, IdleBaseline, Measurement};
use crate::probe::{build, ProbeReport};
use crate::source::{Condition, ConditionKind, EnergySource};
use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The shortest sampling interval the meter will use.
pub const MIN_INTERVAL: Duration = Duration::from_millis(1);

/// One sampler tick: mean power per domain since the previous tick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineSample {
    /// Seconds since the meter started.
    pub t_s: f64,
    /// Watts per domain, in [`Meter::domains`] order.
    pub watts: Vec<f64>,
}

/// The most timeline samples kept in memory: 16,384 (27 minutes at 10 Hz). When the timeline
/// is full, adjacent samples are merged in pairs (the duration-weighted mean power over both
/// intervals, at the later one's time), so memory stays bounded and a long run keeps its whole
/// shape at a coarser resolution; the newest samples stay at full resolution until the next
/// merge. Window energies never come from the timeline (they come from the counters at the
/// window's edges), so merging changes no figure.
pub const MAX_TIMELINE_SAMPLES: usize = 16_384;

/// Appends `sample`, first merging pairs of samples when `max` are already kept.
pub fn push_bounded(timeline: &mut Vec<TimelineSample>, sample: TimelineSample, max: usize) {
    if timeline.len() >= max.max(2) {
        let old = std::mem::take(timeline);
        let mut prev_t = 0.0;
        let mut it = old.into_iter();
        while let Some(a) = it.next() {
            match it.next() {
                Some(b) => {
                    let (da, db) = ((a.t_s - prev_t).max(0.0), (b.t_s - a.t_s).max(0.0));
                    let total = da + db;
                    let watts = a
                        .watts
                        .iter()
                        .zip(&b.watts)
                        .map(|(wa, wb)| {
                            if total > 0.0 {
                                (wa * da + wb * db) / total
                            } else {
                                (wa + wb) / 2.0
                            }
                        })
                        .collect();
                    prev_t = b.t_s;
                    timeline.push(TimelineSample { t_s: b.t_s, watts });
                }
                None => timeline.push(a),
            }
        }
    }
    timeline.push(sample);
}

/// A snapshot of every counter at an instant: the begin edge of a window.
/// Windows are independent, so they nest and overlap freely.
#[derive(Debug, Clone)]
pub struct Window {
    at: Instant,
    values: Vec<f64>,
    ranges: Vec<Option<(f64, f64)>>,
    conditions: HashMap<(String, ConditionKind), u64>,
}

impl Window {
    /// When the window began.
    pub fn started_at(&self) -> Instant {
        self.at
    }
}

struct Slot {
    src: Box<dyn EnergySource>,
    last: Vec<f64>,
    range: Vec<Option<(f64, f64)>>,
    failures: u64,
}

impl Slot {
    /// Reads the source; on failure keeps the last values (counted as a condition).
    /// Values never decrease.
    fn read(&mut self) -> &[f64] {
        match self.src.read() {
            Ok(v) if v.len() == self.last.len() => {
                for (l, x) in self.last.iter_mut().zip(v) {
                    if x.is_finite() && x > *l {
                        *l = x;
                    }
                }
                let r = self.src.read_range();
                if r.len() == self.range.len() {
                    for (l, x) in self.range.iter_mut().zip(r) {
                        *l = match (*l, x) {
                            (Some((a, b)), Some((c, d))) => Some((a.max(c), b.max(d))),
                            (_, x) => x,
                        };
                    }
                }
            }
            _ => self.failures += 1,
        }
        &self.last
    }

    fn conditions(&self) -> Vec<Condition> {
        let mut c = self.src.conditions();
        if self.failures > 0 {
            c.push(Condition {
                domain: self.src.name().to_owned(),
                kind: ConditionKind::ReadFailed,
                count: self.failures,
            });
        }
        c
    }
}

struct Shared {
    origin: Instant,
    slots: Vec<Mutex<Slot>>,
    spans: Vec<Range<usize>>,
    domains: Vec<DomainInfo>,
    setup_notes: Vec<String>,
    timeline: Mutex<Vec<TimelineSample>>,
    sampler_cpu_ns: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in another holder leaves plain numbers behind: keep going.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    fn read_all(&self, tick: bool) -> Vec<f64> {
        self.read_all_ranged(tick).0
    }

    /// Every domain's cumulative joules and (low, high) range.
    fn read_all_ranged(&self, tick: bool) -> (Vec<f64>, Vec<Option<(f64, f64)>>) {
        let mut out = Vec::with_capacity(self.domains.len());
        let mut ranges = Vec::with_capacity(self.domains.len());
        for slot in &self.slots {
            let mut s = lock(slot);
            if tick {
                s.src.on_tick();
            }
            out.extend_from_slice(s.read());
            ranges.extend_from_slice(&s.range);
        }
        (out, ranges)
    }

    fn conditions(&self) -> Vec<Condition> {
        self.slots
            .iter()
            .flat_map(|s| lock(s).conditions())
            .collect()
    }

    fn counted_watts(&self, watts: &[f64]) -> f64 {
        self.domains
            .iter()
            .zip(watts)
            .filter(|(d, _)| d.kind.counts_in_total())
            .map(|(_, w)| w)
            .sum()
    }
}

/// CPU time of the calling thread (Linux), for the sampler's overhead figure.
fn thread_cpu_time() -> Option<Duration> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: getrusage writes into the zeroed struct we pass and nothing else.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut ru) };
        if rc == 0 {
            let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
            return Some(Duration::from_micros(us(ru.ru_utime) + us(ru.ru_stime)));
        }
        None
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

fn sampler(shared: Arc<Shared>, interval: Duration, stop: mpsc::Receiver<()>) {
    let mut prev_t = Instant::now();
    let mut prev = shared.read_all(true);
    let mut next = prev_t + interval;
    loop {
        let wait = next.saturating_duration_since(Instant::now());
        match stop.recv_timeout(wait) {
            Err(RecvTimeoutError::Timeout) => {}
            _ => break,
        }
        let now = Instant::now();
        let cur = shared.read_all(true);
        let dt = now.duration_since(prev_t).as_secs_f64();
        if dt > 0.0 {
            let watts = cur
                .iter()
                .zip(&prev)
                .map(|(c, p)| (c - p).max(0.0) / dt)
                .collect();
            push_bounded(
                &mut lock(&shared.timeline),
                TimelineSample {
                    t_s: now.duration_since(shared.origin).as_secs_f64(),
                    watts,
                },
                MAX_TIMELINE_SAMPLES,
            );
        }
        prev = cur;
        prev_t = now;
        if let Some(cpu) = thread_cpu_time() {
            shared
                .sampler_cpu_ns
                .store(cpu.as_nanos() as u64, Ordering::Relaxed);
        }
        next += interval;
        let now = Instant::now();
        if next < now {
            // Fell behind (machine overloaded): restart the schedule from now.
            next = now + interval;
        }
    }
}

/// Samples energy sources in the background and measures windows.
///
/// Sources sit behind one mutex each, shared between the sampler thread (which
/// keeps RAPL wrap tracking fed, integrates the estimate and records the
/// timeline) and [`Meter::begin`]/[`Meter::end`], which read every source at the
/// window edge itself, so window energy is exact at its edges rather than
/// rounded to sampler ticks.
pub struct Meter {
    shared: Arc<Shared>,
    interval: Duration,
    report: Option<ProbeReport>,
    stop_tx: Option<mpsc::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Meter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Meter")
            .field("domains", &self.shared.domains)
            .field("interval", &self.interval)
            .finish()
    }
}

impl Meter {
    /// Opens the usable sources (RAPL if readable, else the estimate; NVML if
    /// present) and starts the background sampler.
    pub fn start(cfg: &MeterConfig) -> anyhow::Result<Meter> {
        cfg.validate()?;
        let (sources, report) = build(cfg);
        if report.cpu_dram.is_none() {
            let reasons: Vec<String> = report
                .sources
                .iter()
                .filter_map(|p| p.reason.as_ref().map(|r| format!("{}: {r}", p.name)))
                .collect();
            bail!(
                "no CPU energy source can be used here ({})",
                reasons.join("; ")
            );
        }
        let mut notes = Vec::new();
        if let Some(c) = &report.cpu_dram {
            notes.push(format!(
                "CPU/DRAM energy from {} ({}): {}",
                c.source, c.method, c.why
            ));
        }
        match &report.gpu {
            Some(c) => notes.push(format!(
                "GPU energy from {} ({}): {}",
                c.source, c.method, c.why
            )),
            None => {
                if let Some(p) = report.sources.iter().find(|p| p.name == "nvml") {
                    if let Some(r) = &p.reason {
                        notes.push(format!("no GPU metered: {r}"));
                    }
                }
            }
        }
        let mut meter = Meter::build(sources, cfg, notes)?;
        meter.report = Some(report);
        Ok(meter)
    }

    /// A meter over the given sources (tests, or callers that build their own).
    pub fn with_sources(
        sources: Vec<Box<dyn EnergySource>>,
        cfg: &MeterConfig,
    ) -> anyhow::Result<Meter> {
        cfg.validate()?;
        Meter::build(sources, cfg, Vec::new())
    }

    fn build(
        sources: Vec<Box<dyn EnergySource>>,
        cfg: &MeterConfig,
        setup_notes: Vec<String>,
    ) -> anyhow::Result<Meter> {
        if sources.is_empty() {
            bail!("a meter needs at least one energy source");
        }
        let mut domains = Vec::new();
        let mut spans = Vec::new();
        let mut slots = Vec::new();
        let mut interval = cfg.interval;
        for src in sources {
            let start = domains.len();
            domains.extend_from_slice(src.domains());
            spans.push(start..domains.len());
            if let Some(max) = src.max_poll_interval() {
                interval = interval.min(max / 2);
            }
            let n = src.domains().len();
            slots.push(Mutex::new(Slot {
                range: if src.read_range().len() == n {
                    src.read_range()
                } else {
                    vec![None; n]
                },
                src,
                last: vec![0.0; n],
                failures: 0,
            }));
        }
        let mut seen = HashSet::new();
        for d in &domains {
            if !seen.insert(d.name.as_str()) {
                bail!(
                    "two energy sources report a domain named {:?}; domain names must be unique",
                    d.name
                );
            }
        }
        let interval = interval.max(MIN_INTERVAL);
        let shared = Arc::new(Shared {
            origin: Instant::now(),
            slots,
            spans,
            domains,
            setup_notes,
            timeline: Mutex::new(Vec::with_capacity(1024)),
            sampler_cpu_ns: AtomicU64::new(0),
        });
        let (stop_tx, stop_rx) = mpsc::channel();
        let s2 = Arc::clone(&shared);
        let handle = std::thread::Builder::new()
            .name("frugalbench-meter".into())
            .spawn(move || sampler(s2, interval, stop_rx))
            .context("cannot start the meter's sampler thread")?;
        Ok(Meter {
            shared,
            interval,
            report: None,
            stop_tx: Some(stop_tx),
            handle: Some(handle),
        })
    }

    /// Every domain of every source, in source order.
    pub fn domains(&self) -> Vec<DomainInfo> {
        self.shared.domains.clone()
    }

    /// The sampling interval in use (the configured one, clamped for RAPL wraps).
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// What [`Meter::start`] found (sources tried, the choice and why); `None`
    /// for [`Meter::with_sources`].
    pub fn report(&self) -> Option<&ProbeReport> {
        self.report.as_ref()
    }

    /// Mean power per domain over `dur` of (hopefully) idling. `None` when `dur` is 0.
    pub fn idle_baseline(&self, dur: Duration) -> anyhow::Result<Option<IdleBaseline>> {
        self.idle_baseline_or_stop(dur, &AtomicBool::new(false))
    }

    /// As [`Meter::idle_baseline`], but gives up as soon as `stop` is set (checked every
    /// 50 ms): then `None`, and the caller sees `stop` set.
    pub fn idle_baseline_or_stop(
        &self,
        dur: Duration,
        stop: &AtomicBool,
    ) -> anyhow::Result<Option<IdleBaseline>> {
        if dur.is_zero() {
            return Ok(None);
        }
        let w = self.begin();
        let until = Instant::now() + dur;
        loop {
            if stop.load(Ordering::SeqCst) {
                return Ok(None);
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(Duration::from_millis(50)));
        }
        let m = self.end(w);
        Ok(Some(IdleBaseline {
            seconds: m.duration_s,
            domains: m
                .domains
                .into_iter()
                .map(|d| DomainPower {
                    info: d.info,
                    watts: d.avg_watts,
                })
                .collect(),
        }))
    }

    fn conditions_map(&self) -> HashMap<(String, ConditionKind), u64> {
        self.shared
            .conditions()
            .into_iter()
            .map(|c| ((c.domain, c.kind), c.count))
            .collect()
    }

    /// Opens a window: reads every source now.
    pub fn begin(&self) -> Window {
        let at = Instant::now();
        let (values, ranges) = self.shared.read_all_ranged(false);
        Window {
            at,
            values,
            ranges,
            conditions: self.conditions_map(),
        }
    }

    /// Closes a window: reads every source now and returns the deltas.
    pub fn end(&self, w: Window) -> Measurement {
        let at = Instant::now();
        let (values, ranges) = self.shared.read_all_ranged(false);
        let duration_s = at.saturating_duration_since(w.at).as_secs_f64();
        let domains = self
            .shared
            .domains
            .iter()
            .zip(values.iter().zip(&w.values))
            .zip(ranges.iter().zip(&w.ranges))
            .map(|((info, (now, then)), (r_now, r_then))| {
                let joules = (now - then).max(0.0);
                let (joules_low, joules_high) = match (r_now, r_then) {
                    (Some((lo, hi)), Some((lo0, hi0))) => {
                        (Some((lo - lo0).max(0.0)), Some((hi - hi0).max(0.0)))
                    }
                    _ => (None, None),
                };
                DomainEnergy {
                    joules_low,
                    joules_high,
                    info: info.clone(),
                    joules,
                    avg_watts: if duration_s > 0.0 {
                        joules / duration_s
                    } else {
                        0.0
                    },
                }
            })
            .collect();
        let mut notes = Vec::new();
        for c in self.shared.conditions() {
            let before = w
                .conditions
                .get(&(c.domain.clone(), c.kind.clone()))
                .copied()
                .unwrap_or(0);
            if c.count > before {
                notes.push(c.describe(c.count - before));
            }
        }
        Measurement {
            duration_s,
            domains,
            notes,
        }
    }

    /// Latest total power over the counted domains (for live progress); `None`
    /// before the first sampler tick.
    pub fn current_watts(&self) -> Option<f64> {
        let tl = lock(&self.shared.timeline);
        tl.last().map(|s| self.shared.counted_watts(&s.watts))
    }

    /// Every sampler tick so far.
    pub fn timeline(&self) -> Vec<TimelineSample> {
        lock(&self.shared.timeline).clone()
    }

    /// The power timeline between two instants as CSV, the one format every timeline file uses:
    /// header `t_s,<source>/<domain> W (<method>),...`, then one row per sampler tick with `t_s`
    /// in seconds since `from` and watts per domain (3 decimals). `None` bounds take the whole
    /// timeline (times then count from the meter's start).
    pub fn timeline_csv(&self, from: Option<Instant>, to: Option<Instant>) -> String {
        let since_start = |at: Instant| {
            at.saturating_duration_since(self.shared.origin)
                .as_secs_f64()
        };
        let lo = from.map(since_start).unwrap_or(0.0);
        let hi = to.map(since_start).unwrap_or(f64::INFINITY);
        let mut out = String::from("t_s");
        for d in &self.shared.domains {
            out.push_str(&format!(",{}/{} W ({})", d.source, d.name, d.method));
        }
        out.push('\n');
        for s in lock(&self.shared.timeline).iter() {
            if s.t_s < lo || s.t_s > hi {
                continue;
            }
            out.push_str(&format!("{:.3}", s.t_s - lo));
            for w in &s.watts {
                out.push_str(&format!(",{w:.3}"));
            }
            out.push('\n');
        }
        out
    }

    /// Set-up notes (which source is used and why, skipped zones, formulas) and
    /// every runtime condition so far.
    pub fn notes(&self) -> Vec<String> {
        let mut out = self.shared.setup_notes.clone();
        for slot in &self.shared.slots {
            out.extend(lock(slot).src.notes());
        }
        out.extend(self.shared.conditions().iter().map(|c| c.describe(c.count)));
        out
    }

    /// CPU time the sampler thread has used so far (Linux; `None` elsewhere or
    /// before its first tick).
    pub fn sampler_cpu_time(&self) -> Option<Duration> {
        match self.shared.sampler_cpu_ns.load(Ordering::Relaxed) {
            0 => None,
            ns => Some(Duration::from_nanos(ns)),
        }
    }

    /// Domain index ranges per source, in [`Meter::domains`] order.
    pub fn source_spans(&self) -> Vec<(String, Range<usize>)> {
        self.shared
            .slots
            .iter()
            .zip(&self.shared.spans)
            .map(|(s, r)| (lock(s).src.name().to_owned(), r.clone()))
            .collect()
    }

    /// Stops the sampler and waits for it.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(tx) = self.stop_tx.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod timeline_tests {
    use super::*;

    fn sample(t_s: f64, w: f64) -> TimelineSample {
        TimelineSample {
            t_s,
            watts: vec![w],
        }
    }

    /// Energy under a timeline: Σ watts × interval.
    fn energy(tl: &[TimelineSample]) -> f64 {
        let mut prev = 0.0;
        tl.iter()
            .map(|s| {
                let e = s.watts[0] * (s.t_s - prev);
                prev = s.t_s;
                e
            })
            .sum()
    }

    #[test]
    fn the_timeline_stays_bounded_and_keeps_its_energy() {
        let mut tl = Vec::new();
        let mut expected = 0.0;
        for i in 1..=100_000u32 {
            let w = f64::from(i % 7) * 10.0;
            expected += w * 0.1;
            push_bounded(&mut tl, sample(f64::from(i) * 0.1, w), 1000);
            assert!(tl.len() <= 1000);
        }
        assert!(tl.windows(2).all(|p| p[1].t_s > p[0].t_s));
        assert_eq!(tl.last().unwrap().t_s, 10_000.0);
        assert!(
            (energy(&tl) - expected).abs() < 1e-6 * expected,
            "{} vs {expected}",
            energy(&tl)
        );
    }
}
