//! The metered loop: warm-up, repetitions, per-query phase windows.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use frugalbench_meter::{Measurement, Meter, Window};
use frugalbench_workloads::{NoPhases, Phase, PhaseHook, QueryOutcome, Runner};
use indicatif::{ProgressBar, ProgressStyle};

/// What the protocol runs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub queries: usize,
    pub repetitions: usize,
    pub warmup: usize,
    pub batch_size: usize,
    /// After metering, run (unmetered) the evaluation rows the metered queries
    /// did not reach, so quality covers the whole dataset.
    pub complete_quality: bool,
}

/// One metered repetition.
pub struct Repetition {
    /// Queries completed in this repetition (fewer than asked if interrupted).
    pub queries: usize,
    /// The repetition's window: energy from counter deltas at its edges.
    pub measurement: Measurement,
    /// Energy and time inside prefill / decode windows (text generation only).
    pub phases: Option<PhaseTotals>,
}

/// Sums of the per-query phase windows of one repetition.
#[derive(Debug, Clone, Default)]
pub struct PhaseTotals {
    pub prefill_joules: f64,
    pub decode_joules: f64,
    pub prefill_seconds: f64,
    pub decode_seconds: f64,
}

/// Everything measured for one (model, task).
pub struct Measured {
    pub repetitions: Vec<Repetition>,
    /// Per query: the wall time of the batch it was in, in ms.
    pub latencies_ms: Vec<f64>,
    /// Per query: the prefill window's duration (time to first token), in ms.
    pub ttft_ms: Vec<f64>,
    /// Every metered query's outcome, in order.
    pub outcomes: Vec<QueryOutcome>,
    /// Outcomes of the unmetered pass over rows the metered queries missed
    /// (for quality only).
    pub unmetered_outcomes: Vec<QueryOutcome>,
    pub interrupted: bool,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// When the first repetition began and the last ended (for the timeline).
    pub metered_from: Instant,
    pub metered_to: Instant,
}

/// Opens a meter window at the edges of each phase a runner reports.
struct MeterPhases<'m> {
    meter: &'m Meter,
    open: Option<(Phase, Window, Instant)>,
    totals: PhaseTotals,
    used: bool,
    ttft_ms: Vec<f64>,
}

impl PhaseHook for MeterPhases<'_> {
    fn begin(&mut self, phase: Phase) {
        self.open = Some((phase, self.meter.begin(), Instant::now()));
    }

    fn end(&mut self, phase: Phase) {
        let Some((open_phase, window, started)) = self.open.take() else {
            return;
        };
        debug_assert_eq!(open_phase, phase, "phase windows must not interleave");
        let m = self.meter.end(window);
        let secs = started.elapsed().as_secs_f64();
        self.used = true;
        match open_phase {
            Phase::Prefill => {
                self.totals.prefill_joules += m.total_joules();
                self.totals.prefill_seconds += secs;
                self.ttft_ms.push(secs * 1e3);
            }
            Phase::Decode => {
                self.totals.decode_joules += m.total_joules();
                self.totals.decode_seconds += secs;
            }
        }
    }
}

/// Run the protocol on a loaded runner.
pub fn execute(
    runner: &mut dyn Runner,
    meter: &Meter,
    settings: &Settings,
    interrupted: &AtomicBool,
) -> Result<Measured> {
    anyhow::ensure!(!runner.is_empty(), "the dataset has no evaluation rows");
    let len = runner.len();
    let started_at = Utc::now();

    // Warm-up: not metered, outcomes discarded.
    let mut next = 0usize;
    let mut done = 0;
    while done < settings.warmup && !interrupted.load(Ordering::SeqCst) {
        let n = settings.batch_size.min(settings.warmup - done);
        let items: Vec<usize> = (0..n).map(|k| (next + k) % len).collect();
        runner
            .run_batch(&items, &mut NoPhases)
            .context("warm-up query failed")?;
        next = (next + n) % len;
        done += n;
    }

    let total = (settings.queries * settings.repetitions) as u64;
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} queries  {msg}",
        )
        .expect("valid progress template"),
    );

    let mut measured = Measured {
        repetitions: Vec::new(),
        latencies_ms: Vec::with_capacity(total as usize),
        ttft_ms: Vec::new(),
        outcomes: Vec::with_capacity(total as usize),
        unmetered_outcomes: Vec::new(),
        interrupted: false,
        started_at,
        finished_at: started_at,
        metered_from: Instant::now(),
        metered_to: Instant::now(),
    };

    for rep in 0..settings.repetitions {
        // Every repetition sees the same queries in the same order.
        let mut item = 0usize;
        let mut hook = MeterPhases {
            meter,
            open: None,
            totals: PhaseTotals::default(),
            used: false,
            ttft_ms: Vec::new(),
        };
        let window = meter.begin();
        if rep == 0 {
            measured.metered_from = window.started_at();
        }
        let mut done = 0;
        let mut error = None;
        while done < settings.queries {
            if interrupted.load(Ordering::SeqCst) {
                measured.interrupted = true;
                break;
            }
            let n = settings.batch_size.min(settings.queries - done);
            let items: Vec<usize> = (0..n).map(|k| (item + k) % len).collect();
            let t0 = Instant::now();
            match runner.run_batch(&items, &mut hook) {
                Ok(outcomes) => {
                    let ms = t0.elapsed().as_secs_f64() * 1e3;
                    measured.latencies_ms.extend(std::iter::repeat_n(ms, n));
                    measured.outcomes.extend(outcomes);
                }
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
            item = (item + n) % len;
            done += n;
            bar.inc(n as u64);
            if done % 8 < n {
                let watts = meter
                    .current_watts()
                    .map(|w| format!("{w:.1} W"))
                    .unwrap_or_else(|| "- W".into());
                bar.set_message(format!(
                    "repetition {}/{}  {watts}",
                    rep + 1,
                    settings.repetitions
                ));
            }
        }
        let measurement = meter.end(window);
        if let Some(e) = error {
            bar.abandon();
            return Err(e.context(format!("query failed in repetition {}", rep + 1)));
        }
        measured.ttft_ms.append(&mut hook.ttft_ms);
        if done > 0 {
            measured.repetitions.push(Repetition {
                queries: done,
                measurement,
                phases: hook.used.then_some(hook.totals),
            });
        }
        if measured.interrupted {
            break;
        }
    }
    bar.finish_and_clear();
    measured.metered_to = Instant::now();
    measured.finished_at = Utc::now();

    if settings.complete_quality && !measured.interrupted && settings.queries < len {
        let rest: Vec<usize> = (settings.queries..len).collect();
        for items in rest.chunks(settings.batch_size) {
            if interrupted.load(Ordering::SeqCst) {
                // Quality over part of the rows would mislead: the run is interrupted.
                measured.interrupted = true;
                break;
            }
            let outcomes = runner
                .run_batch(items, &mut NoPhases)
                .context("quality pass over the remaining rows failed")?;
            measured.unmetered_outcomes.extend(outcomes);
        }
    }
    Ok(measured)
}
