//! `frugalbench measure -- CMD`: meter any command, like `perf stat`.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};
use comfy_table::{presets::NOTHING, Cell, CellAlignment, Table};
use frugalbench_meter::{
    CarbonIntensity, DomainKind, IdleBaseline, Measurement, Meter, Method, OverallMethod,
};
use serde::Serialize;

use crate::cli::MeasureArgs;

/// The JSON printed by `measure --json` (documented in the README).
#[derive(Debug, Serialize)]
pub struct MeasureReport {
    pub command: Vec<String>,
    /// The command's exit status, or 128 + the signal that killed it.
    pub exit_code: i32,
    /// The signal that killed the command (`null` when it exited by itself).
    pub signal: Option<i32>,
    pub duration_s: f64,
    /// Gross energy over the CPU-package, DRAM and GPU domains (never core,
    /// uncore or psys, which are inside or around those).
    pub energy_joules: f64,
    /// Low and high ends of `energy_joules` when a counted domain is estimated (the
    /// sum of the counted domains' ranges; a measured domain adds its own figure).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub energy_joules_low: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub energy_joules_high: Option<f64>,
    pub energy_wh: f64,
    pub average_watts: f64,
    /// `measured`, `estimated`, or `mixed` when counted domains differ (`null`: no
    /// domain counts in totals).
    pub method: Option<OverallMethod>,
    pub idle: Option<IdleReport>,
    pub sources: Vec<SourceReport>,
    pub carbon: CarbonReport,
    pub notes: Vec<String>,
    pub interrupted: bool,
    /// The command's own share: its process tree's CPU time set against the machine's busy
    /// time (`null` when either could not be read).
    pub attributed: Option<Attributed>,
}

/// What the command itself used, beside the machine figure: its process tree's CPU time
/// (user + system of the command and the descendants it waited for, from `getrusage`) as a
/// share of the busy CPU time of the scope the estimate reads (the cgroup, else the whole
/// machine, from `/proc/stat`), and that share of the CPU-package energy. An attribution by
/// CPU time, itself an estimate whatever the counter: it leaves out the work the command
/// caused elsewhere (I/O, other services) and idle power is shared by CPU time too.
#[derive(Debug, Clone, Serialize)]
pub struct Attributed {
    /// CPU-seconds of the command's process tree.
    pub cpu_seconds: f64,
    /// Busy CPU-seconds of the metered scope over the same window.
    pub scope_busy_cpu_seconds: f64,
    /// `cpu_seconds` / `scope_busy_cpu_seconds`, at most 1.
    pub share: f64,
    /// `share` × the CPU-package energy of the window, joules.
    pub cpu_joules: f64,
    /// Always `attributed (CPU-time share)`.
    pub method: &'static str,
}

#[derive(Debug, Serialize)]
pub struct IdleReport {
    pub seconds: f64,
    pub watts: f64,
    /// Energy above idle power over the command's duration (clamped at 0).
    pub net_energy_joules: f64,
}

#[derive(Debug, Serialize)]
pub struct SourceReport {
    /// The energy source (e.g. `rapl`, `nvml`, `estimate`).
    pub name: String,
    /// The domain within the source (e.g. `package-0`, `dram-0`, `gpu-0`).
    pub domain: String,
    pub kind: DomainKind,
    pub method: Method,
    pub energy_joules: f64,
    /// Low and high ends of `energy_joules` (estimated domains only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub energy_joules_low: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub energy_joules_high: Option<f64>,
    pub average_watts: f64,
    /// Whether this domain is part of `energy_joules` (core, uncore and psys
    /// are reported but never added).
    pub counted_in_total: bool,
}

#[derive(Debug, Serialize)]
pub struct CarbonReport {
    pub g_co2e: f64,
    #[serde(flatten)]
    pub intensity: CarbonIntensity,
}

pub fn sources(m: &Measurement) -> Vec<SourceReport> {
    m.domains
        .iter()
        .map(|d| SourceReport {
            name: d.info.source.clone(),
            domain: d.info.name.clone(),
            kind: d.info.kind,
            method: d.info.method,
            energy_joules: d.joules,
            energy_joules_low: d.joules_low,
            energy_joules_high: d.joules_high,
            average_watts: d.avg_watts,
            counted_in_total: d.info.kind.counts_in_total(),
        })
        .collect()
}

pub fn carbon_report(carbon: &CarbonIntensity, joules: f64) -> CarbonReport {
    CarbonReport {
        g_co2e: carbon.grams(joules),
        intensity: carbon.clone(),
    }
}

pub fn run(args: &MeasureArgs) -> Result<i32> {
    let cfg = args.meter.config()?;
    let idle_for = args.meter.idle()?;
    let carbon = args.meter.carbon()?;
    let program = &args.command[0];

    // The child shares our terminal's process group, so Ctrl-C reaches it; we
    // only note it and report what was measured once the child is gone.
    let interrupted = Arc::new(AtomicBool::new(false));
    {
        let flag = interrupted.clone();
        ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
            .context("cannot install the Ctrl-C handler")?;
    }

    let meter = Meter::start(&cfg).context("cannot start the energy meter")?;
    if !idle_for.is_zero() {
        eprintln!(
            "frugalbench: measuring idle power for {:.1} s before running `{program}`...",
            idle_for.as_secs_f64()
        );
    }
    let idle = meter.idle_baseline_or_stop(idle_for, &interrupted)?;
    if interrupted.load(Ordering::SeqCst) {
        meter.stop();
        eprintln!("frugalbench: interrupted during the idle baseline; `{program}` was not run");
        return Ok(130);
    }
    let mut scope = frugalbench_meter::host::HostFacts::read(&cfg.host_root).cpu_time();
    let busy_before = scope.as_mut().and_then(|c| c.busy_seconds().ok());
    let tree_before = children_cpu_seconds();
    let window = meter.begin();
    let status = Command::new(program)
        .args(&args.command[1..])
        .status()
        .with_context(|| format!("cannot run `{program}`"));
    let mut measurement = meter.end(window);
    let busy_after = scope.as_mut().and_then(|c| c.busy_seconds().ok());
    let tree = children_cpu_seconds()
        .zip(tree_before)
        .map(|(a, b)| (a - b).max(0.0));
    let scope_busy = busy_after.zip(busy_before).map(|(a, b)| (a - b).max(0.0));
    let notes = meter.notes();
    meter.stop();
    let status = status?;

    let (exit_code, signal) = exit_code(&status);
    let report = build_report(
        args,
        (exit_code, signal),
        &mut measurement,
        idle.as_ref(),
        &carbon,
        notes,
        interrupted.load(Ordering::SeqCst),
    );
    let report = MeasureReport {
        attributed: attribute(tree, scope_busy, &measurement),
        ..report
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        eprint!("{}", render_text(&report));
    }
    Ok(exit_code)
}

/// The exit code to pass on (128 + signal for a killed command, as shells do) and the signal.
fn exit_code(status: &std::process::ExitStatus) -> (i32, Option<i32>) {
    if let Some(code) = status.code() {
        return (code, None);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return (128 + sig, Some(sig));
        }
    }
    (1, None)
}

fn build_report(
    args: &MeasureArgs,
    (exit_code, signal): (i32, Option<i32>),
    m: &mut Measurement,
    idle: Option<&IdleBaseline>,
    carbon: &CarbonIntensity,
    mut notes: Vec<String>,
    interrupted: bool,
) -> MeasureReport {
    let energy = m.total_joules();
    let range = m.total_joules_range();
    let net = idle.map(|b| m.net_of_idle(b));
    notes.extend(m.notes.iter().cloned());
    let mut seen = std::collections::HashSet::new();
    notes.retain(|n| seen.insert(n.clone()));
    MeasureReport {
        command: args.command.clone(),
        exit_code,
        signal,
        duration_s: m.duration_s,
        energy_joules: energy,
        energy_joules_low: range.map(|r| r.0),
        energy_joules_high: range.map(|r| r.1),
        energy_wh: energy / 3600.0,
        average_watts: if m.duration_s > 0.0 {
            energy / m.duration_s
        } else {
            0.0
        },
        method: m.method(),
        idle: idle.map(|b| IdleReport {
            seconds: b.seconds,
            watts: b.total_watts(),
            net_energy_joules: net.unwrap_or(0.0),
        }),
        sources: sources(m),
        carbon: carbon_report(carbon, energy),
        notes,
        interrupted,
        attributed: None,
    }
}

/// User + system CPU-seconds of the children this process has waited for.
fn children_cpu_seconds() -> Option<f64> {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) } != 0 {
        return None;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Some(secs(ru.ru_utime) + secs(ru.ru_stime))
}

/// The command's share of the window's CPU-package energy by CPU time.
fn attribute(tree: Option<f64>, scope_busy: Option<f64>, m: &Measurement) -> Option<Attributed> {
    let (cpu_seconds, busy) = (tree?, scope_busy?);
    let share = if busy > 0.0 {
        (cpu_seconds / busy).min(1.0)
    } else {
        0.0
    };
    let package: f64 = m
        .domains
        .iter()
        .filter(|d| d.info.kind == DomainKind::CpuPackage)
        .map(|d| d.joules)
        .fold(0.0, |a, b| a + b);
    Some(Attributed {
        cpu_seconds,
        scope_busy_cpu_seconds: busy,
        share,
        cpu_joules: share * package,
        method: "attributed (CPU-time share)",
    })
}

/// ` (est. LO–HI UNIT)` for a figure with a range, else nothing.
fn range_text(lo: Option<f64>, hi: Option<f64>, unit: &str) -> String {
    match (lo, hi) {
        (Some(lo), Some(hi)) => format!(" (est. {lo:.3}–{hi:.3} {unit})"),
        _ => String::new(),
    }
}

fn render_text(r: &MeasureReport) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "\n Energy stats for '{}':\n\n",
        r.command.join(" ")
    ));
    let mut t = Table::new();
    t.load_preset(NOTHING);
    t.add_row(vec![
        Cell::new("duration"),
        Cell::new(format!("{:.3} s", r.duration_s)).set_alignment(CellAlignment::Right),
        Cell::new(""),
    ]);
    t.add_row(vec![
        Cell::new("energy"),
        Cell::new(format!("{:.3} J", r.energy_joules)).set_alignment(CellAlignment::Right),
        Cell::new(format!(
            "{:.6} Wh, {}{}",
            r.energy_wh,
            r.method.map_or("none", |m| m.as_str()),
            range_text(r.energy_joules_low, r.energy_joules_high, "J")
        )),
    ]);
    t.add_row(vec![
        Cell::new("average power"),
        Cell::new(format!("{:.2} W", r.average_watts)).set_alignment(CellAlignment::Right),
        Cell::new(match (r.energy_joules_low, r.energy_joules_high) {
            (Some(lo), Some(hi)) if r.duration_s > 0.0 => {
                format!("range {:.2}–{:.2} W", lo / r.duration_s, hi / r.duration_s)
            }
            _ => String::new(),
        }),
    ]);
    if let Some(idle) = &r.idle {
        t.add_row(vec![
            Cell::new("idle power"),
            Cell::new(format!("{:.2} W", idle.watts)).set_alignment(CellAlignment::Right),
            Cell::new(format!("baseline over {:.1} s", idle.seconds)),
        ]);
        t.add_row(vec![
            Cell::new("energy above idle"),
            Cell::new(format!("{:.3} J", idle.net_energy_joules))
                .set_alignment(CellAlignment::Right),
            Cell::new(""),
        ]);
    }
    t.add_row(vec![
        Cell::new("carbon"),
        Cell::new(format!("{:.4} gCO2e", r.carbon.g_co2e)).set_alignment(CellAlignment::Right),
        Cell::new(format!(
            "at {:.0} g/kWh x PUE {:.2}",
            r.carbon.intensity.grid_intensity_g_per_kwh, r.carbon.intensity.pue
        )),
    ]);
    out.push_str(&t.to_string());
    out.push_str(&format!(
        "\n   grid intensity: {}\n",
        r.carbon.intensity.intensity_source
    ));
    if let Some(a) = &r.attributed {
        out.push_str(&format!(
            "   the command itself: {:.2} CPU-s of {:.2} busy CPU-s ({:.0}%) ≈ {:.3} J of the CPU package ({})\n",
            a.cpu_seconds,
            a.scope_busy_cpu_seconds,
            100.0 * a.share,
            a.cpu_joules,
            a.method
        ));
    }
    out.push('\n');

    let mut s = Table::new();
    s.load_preset(comfy_table::presets::UTF8_HORIZONTAL_ONLY);
    s.set_header(vec![
        "source",
        "domain",
        "kind",
        "method",
        "energy",
        "avg power",
        "in total",
    ]);
    for src in &r.sources {
        s.add_row(vec![
            Cell::new(&src.name),
            Cell::new(&src.domain),
            Cell::new(src.kind),
            Cell::new(src.method),
            Cell::new(format!(
                "{:.3} J{}",
                src.energy_joules,
                range_text(src.energy_joules_low, src.energy_joules_high, "J")
            ))
            .set_alignment(CellAlignment::Right),
            Cell::new(format!("{:.2} W", src.average_watts)).set_alignment(CellAlignment::Right),
            Cell::new(if src.counted_in_total { "yes" } else { "no" }),
        ]);
    }
    out.push_str(&s.to_string());
    out.push('\n');
    for note in &r.notes {
        out.push_str(&format!(" note: {note}\n"));
    }
    if r.interrupted {
        out.push_str(
            " note: interrupted by Ctrl-C; figures cover the time until the command ended\n",
        );
    }
    match r.signal {
        Some(sig) => out.push_str(&format!(" note: the command was killed by signal {sig}\n")),
        None if r.exit_code != 0 => out.push_str(&format!(
            " note: the command exited with status {}\n",
            r.exit_code
        )),
        None => {}
    }
    out.push('\n');
    out
}
