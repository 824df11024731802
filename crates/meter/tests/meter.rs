//! The Meter: windows, sampler, timeline, idle baseline, start/probe.

use frugalbench_meter::fake::{FakeLayout, FakePowercap};
use frugalbench_meter::rapl::RaplSource;
use frugalbench_meter::{
    probe, DomainEnergy, DomainInfo, DomainKind, DomainPower, EnergySource, IdleBaseline,
    Measurement, Meter, MeterConfig, Method, OverallMethod, ReadError,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Advances package-0 at `pkg_w` and dram-0 at `dram_w` from real time, every ms,
/// until `stop` is set.
fn spawn_writer(
    mut fake: FakePowercap,
    pkg_w: f64,
    dram_w: f64,
    stop: Arc<AtomicBool>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let start = Instant::now();
        let mut written = 0.0;
        while !stop.load(Ordering::SeqCst) {
            let t = start.elapsed().as_secs_f64();
            let dt = t - written;
            fake.advance("intel-rapl:0", pkg_w * dt).unwrap();
            fake.advance("intel-rapl:0:0", dram_w * dt).unwrap();
            written = t;
            thread::sleep(Duration::from_millis(1));
        }
    })
}

fn within(actual: f64, expected: f64, rel: f64) -> bool {
    (actual - expected).abs() <= expected.abs() * rel
}

#[test]
fn end_to_end_one_second_window_within_one_percent() {
    let dir = tempfile::tempdir().unwrap();
    // A 30 J range so package-0 (40 W) wraps during the window; the sampler is
    // clamped from 20 ms to 15 ms to see every wrap.
    let fake =
        FakePowercap::create(dir.path(), &FakeLayout::single_package(Some(30_000_000))).unwrap();
    let cfg = MeterConfig {
        powercap_root: fake.root().to_path_buf(),
        interval: Duration::from_millis(20),
        enable_nvml: false,
        ..MeterConfig::default()
    };
    let src = RaplSource::open(fake.root()).unwrap();
    let meter = Meter::with_sources(vec![Box::new(src)], &cfg).unwrap();
    assert_eq!(meter.interval(), Duration::from_millis(15));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = spawn_writer(fake, 40.0, 5.0, stop.clone());
    thread::sleep(Duration::from_millis(100));

    let w = meter.begin();
    thread::sleep(Duration::from_secs(1));
    let m = meter.end(w);
    let idle = meter
        .idle_baseline(Duration::from_millis(300))
        .unwrap()
        .unwrap();
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();

    let pkg = m.domain("package-0").unwrap();
    let dram = m.domain("dram-0").unwrap();
    assert!(within(pkg.joules, 40.0 * m.duration_s, 0.01), "{m:?}");
    assert!(within(dram.joules, 5.0 * m.duration_s, 0.01), "{m:?}");
    assert!(within(m.total_joules(), 45.0 * m.duration_s, 0.01), "{m:?}");
    assert!(within(pkg.avg_watts, 40.0, 0.01));
    assert_eq!(m.method(), Some(OverallMethod::Measured));
    assert!(m.notes.is_empty(), "{:?}", m.notes);

    assert!(within(idle.total_watts(), 45.0, 0.03), "{idle:?}");
    assert_eq!(idle.method(), Some(OverallMethod::Measured));

    // Timeline: ~15 ms ticks over ~1.4 s, averaging the true power.
    let tl = meter.timeline();
    assert!(tl.len() > 40, "{} ticks", tl.len());
    let late: Vec<_> = tl.iter().filter(|s| s.t_s > 0.2).collect();
    let mean: f64 = late.iter().map(|s| s.watts[0] + s.watts[1]).sum::<f64>() / late.len() as f64;
    assert!(within(mean, 45.0, 0.05), "mean timeline power {mean}");
    assert!(meter.current_watts().is_some());
    assert!(tl.windows(2).all(|p| p[1].t_s > p[0].t_s));

    let text = meter.timeline_csv(None, None);
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("t_s,rapl/package-0 W (measured),rapl/dram-0 W (measured)")
    );
    assert!(lines.count() >= tl.len());
    assert!(meter.sampler_cpu_time().is_some());
    meter.stop();
}

#[test]
fn windows_nest_and_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let mut fake = FakePowercap::create(dir.path(), &FakeLayout::single_package(None)).unwrap();
    let src = RaplSource::open(fake.root()).unwrap();
    let cfg = MeterConfig {
        interval: Duration::from_secs(3600),
        ..MeterConfig::default()
    };
    let meter = Meter::with_sources(vec![Box::new(src)], &cfg).unwrap();
    let outer = meter.begin();
    fake.advance("intel-rapl:0", 1.0).unwrap();
    let inner = meter.begin();
    fake.advance("intel-rapl:0", 2.0).unwrap();
    let inner_m = meter.end(inner.clone());
    fake.advance("intel-rapl:0", 4.0).unwrap();
    let outer_m = meter.end(outer);
    let again = meter.end(inner); // a window can be closed twice: it is a snapshot
    assert!((inner_m.total_joules() - 2.0).abs() < 1e-9);
    assert!((outer_m.total_joules() - 7.0).abs() < 1e-9);
    assert!((again.total_joules() - 6.0).abs() < 1e-9);
    assert_eq!(meter.idle_baseline(Duration::ZERO).unwrap(), None);
}

fn dom(name: &str, kind: DomainKind, method: Method, source: &str) -> DomainInfo {
    DomainInfo {
        source: source.into(),
        name: name.into(),
        kind,
        method,
        detail: None,
    }
}

fn energy(info: DomainInfo, joules: f64) -> DomainEnergy {
    DomainEnergy {
        info,
        joules,
        avg_watts: joules / 2.0,
        joules_low: None,
        joules_high: None,
    }
}

fn sample_measurement() -> Measurement {
    Measurement {
        duration_s: 2.0,
        domains: vec![
            energy(
                dom(
                    "package-0",
                    DomainKind::CpuPackage,
                    Method::Measured,
                    "rapl",
                ),
                30.0,
            ),
            energy(
                dom("core-0", DomainKind::Core, Method::Measured, "rapl"),
                20.0,
            ),
            energy(
                dom("uncore-0", DomainKind::Uncore, Method::Measured, "rapl"),
                3.0,
            ),
            energy(
                dom("dram-0", DomainKind::Dram, Method::Measured, "rapl"),
                4.0,
            ),
            energy(
                dom("psys", DomainKind::Psys, Method::Measured, "rapl"),
                90.0,
            ),
            energy(
                dom(
                    "gpu-0 (X)",
                    DomainKind::Gpu,
                    Method::MeasuredPowerIntegrated,
                    "nvml",
                ),
                100.0,
            ),
        ],
        notes: vec![],
    }
}

#[test]
fn totals_count_only_packages_dram_and_gpus() {
    let m = sample_measurement();
    assert_eq!(m.total_joules(), 134.0);
    assert_eq!(m.avg_watts(), 67.0);
    assert_eq!(m.method(), Some(OverallMethod::Measured));
    let by = m.by_source();
    assert_eq!(by.len(), 2);
    assert_eq!((by[0].source.as_str(), by[0].joules), ("rapl", 34.0));
    assert_eq!((by[1].source.as_str(), by[1].joules), ("nvml", 100.0));

    let mut mixed = m.clone();
    mixed.domains[0].info.method = Method::Estimated;
    assert_eq!(mixed.method(), Some(OverallMethod::Mixed));

    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["domains"][5]["method"], "measured (power-integrated)");
    assert_eq!(json["domains"][0]["kind"], "cpu-package");
    let back: Measurement = serde_json::from_value(json).unwrap();
    assert_eq!(back, m);
}

#[test]
fn net_of_idle_clamps_at_zero_with_a_note() {
    let idle = |w: f64| IdleBaseline {
        seconds: 5.0,
        domains: vec![
            DomainPower {
                info: dom(
                    "package-0",
                    DomainKind::CpuPackage,
                    Method::Measured,
                    "rapl",
                ),
                watts: w,
            },
            DomainPower {
                info: dom("core-0", DomainKind::Core, Method::Measured, "rapl"),
                watts: 1000.0,
            },
        ],
    };
    let mut m = sample_measurement();
    assert_eq!(idle(10.0).total_watts(), 10.0, "core is not counted");
    assert_eq!(m.net_of_idle(&idle(10.0)), 134.0 - 20.0);
    assert!(m.notes.is_empty());
    assert_eq!(m.net_of_idle(&idle(100.0)), 0.0);
    assert_eq!(m.net_of_idle(&idle(100.0)), 0.0);
    assert_eq!(m.notes.len(), 1, "{:?}", m.notes);
    assert!(m.notes[0].contains("clamped at 0"));
}

/// A source that always fails after its first read.
struct Broken {
    domains: Vec<DomainInfo>,
    reads: u32,
}

impl EnergySource for Broken {
    fn name(&self) -> &str {
        "broken"
    }
    fn domains(&self) -> &[DomainInfo] {
        &self.domains
    }
    fn read(&mut self) -> Result<Vec<f64>, ReadError> {
        self.reads += 1;
        if self.reads == 1 {
            Ok(vec![5.0])
        } else {
            Err(ReadError::Device("gone".into()))
        }
    }
}

#[test]
fn failing_source_keeps_last_values_and_notes_it() {
    let cfg = MeterConfig {
        interval: Duration::from_secs(3600),
        ..MeterConfig::default()
    };
    let b = Broken {
        domains: vec![dom("x", DomainKind::CpuPackage, Method::Measured, "broken")],
        reads: 0,
    };
    let meter = Meter::with_sources(vec![Box::new(b)], &cfg).unwrap();
    thread::sleep(Duration::from_millis(50)); // let the sampler take the first read
    let w = meter.begin();
    let m = meter.end(w);
    assert_eq!(m.total_joules(), 0.0);
    assert!(
        m.notes
            .iter()
            .any(|n| n.contains("failed read") && n.contains("broken")),
        "{:?}",
        m.notes
    );
}

#[test]
fn duplicate_domain_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakePowercap::create(dir.path(), &FakeLayout::single_package(None)).unwrap();
    let a = RaplSource::open(fake.root()).unwrap();
    let b = RaplSource::open(fake.root()).unwrap();
    let err =
        Meter::with_sources(vec![Box::new(a), Box::new(b)], &MeterConfig::default()).unwrap_err();
    assert!(err.to_string().contains("package-0"), "{err}");
    let err = Meter::with_sources(vec![], &MeterConfig::default()).unwrap_err();
    assert!(err.to_string().contains("at least one"));
}

#[test]
fn start_uses_rapl_when_readable_else_the_estimate() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakePowercap::create(dir.path(), &FakeLayout::two_sockets()).unwrap();
    let cfg = MeterConfig {
        powercap_root: fake.root().to_path_buf(),
        enable_nvml: false,
        ..MeterConfig::default()
    };
    let meter = Meter::start(&cfg).unwrap();
    assert!(meter.domains().iter().all(|d| d.source == "rapl"));
    let report = meter.report().unwrap();
    assert_eq!(report.cpu_dram.as_ref().unwrap().source, "rapl");
    assert!(meter.notes()[0].starts_with("CPU/DRAM energy from rapl (measured)"));
    meter.stop();

    let cfg = MeterConfig {
        powercap_root: dir.path().join("absent"),
        enable_nvml: false,
        ..MeterConfig::default()
    };
    let meter = Meter::start(&cfg).unwrap();
    let d = meter.domains();
    assert_eq!(d.len(), 2);
    assert!(d
        .iter()
        .all(|d| d.source == "estimate" && d.method == Method::Estimated));
    assert!(
        meter.notes()[0].contains("no powercap sysfs"),
        "{:?}",
        meter.notes()
    );
    assert!(meter
        .notes()
        .iter()
        .any(|n| n.contains("estimated, not measured")));
    let w = meter.begin();
    thread::sleep(Duration::from_millis(250));
    let m = meter.end(w);
    assert_eq!(m.method(), Some(OverallMethod::Estimated));
    // DRAM is constant: W/GiB × memory.
    let dram_w = report_dram_w(&meter);
    let dram = m.domain("dram").unwrap();
    assert!(
        within(dram.avg_watts, dram_w, 1e-3),
        "{} vs {dram_w}",
        dram.avg_watts
    );
    assert!(m.domain("cpu").unwrap().joules >= 0.0);
    meter.stop();

    let bad = MeterConfig {
        cpu_tdp_watts: Some(-3.0),
        ..MeterConfig::default()
    };
    assert!(Meter::start(&bad).is_err());
}

fn report_dram_w(meter: &Meter) -> f64 {
    meter.report().unwrap().estimate.as_ref().unwrap().dram_w
}

#[test]
fn probe_reports_every_source() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakePowercap::create(dir.path(), &FakeLayout::two_sockets()).unwrap();
    let cfg = MeterConfig {
        powercap_root: fake.root().to_path_buf(),
        ..MeterConfig::default()
    };
    let r = probe(&cfg);
    let names: Vec<_> = r.sources.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["rapl", "estimate", "nvml"]);
    assert!(r.sources[0].available && r.sources[0].used);
    assert_eq!(r.sources[0].method, Some(Method::Measured));
    assert!(r.sources[1].available && !r.sources[1].used);
    assert_eq!(r.cpu_dram.as_ref().unwrap().source, "rapl");
    let text = r.render_text();
    assert!(text.contains("rapl: used [measured]"), "{text}");
    assert!(
        text.contains("psys (psys, measured, not in total)"),
        "{text}"
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["sources"][0]["name"], "rapl");

    let cfg = MeterConfig {
        powercap_root: dir.path().join("absent"),
        enable_nvml: false,
        ..MeterConfig::default()
    };
    let r = probe(&cfg);
    assert!(!r.sources[0].available);
    assert_eq!(r.cpu_dram.as_ref().unwrap().source, "estimate");
    assert!(r
        .cpu_dram
        .as_ref()
        .unwrap()
        .why
        .contains("no powercap sysfs"));
    assert_eq!(
        r.sources[2].reason.as_deref(),
        Some("NVML disabled by configuration")
    );
    let why = r.estimate_why.as_deref().unwrap();
    assert!(
        why.contains("because") && why.contains("--cpu-watts-per-vcpu"),
        "{why}"
    );
    assert!(r.render_text().contains("estimate model:"));
}

#[test]
fn probe_of_this_machine_is_consistent() {
    let r = probe(&MeterConfig::default());
    println!("{}", r.render_text());
    let rapl = &r.sources[0];
    let choice = r
        .cpu_dram
        .as_ref()
        .expect("the estimate is always possible here");
    if rapl.available {
        assert_eq!(choice.source, "rapl");
    } else {
        assert!(rapl.reason.is_some());
        assert_eq!(choice.source, "estimate");
        assert_eq!(choice.method, Method::Estimated);
    }
    let nvml = r.sources.iter().find(|s| s.name == "nvml").unwrap();
    assert_eq!(nvml.available, r.gpu.is_some());
}
