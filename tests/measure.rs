//! End-to-end tests of `frugalbench probe` and `frugalbench measure` on fake
//! powercap trees. Kept apart from the heavier `run` tests so that timing-driven
//! fake counters are not starved by model runs on the same cores.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{assert_one_error_line, bin, json_stdout, signal_after, stderr};
use frugalbench_meter::fake::{FakeLayout, FakePowercap};

mod common;

#[test]
fn probe_without_counters_explains_the_estimate() {
    let empty = tempfile::tempdir().unwrap();
    let o = bin()
        .args(["probe", "--no-nvml", "--powercap-root"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("rapl: unavailable"), "{text}");
    assert!(text.contains("estimate"), "{text}");
    assert!(text.contains("estimated"), "{text}");

    let o = bin()
        .args(["probe", "--json", "--no-nvml", "--powercap-root"])
        .arg(empty.path())
        .output()
        .unwrap();
    let v = json_stdout(&o);
    let text = v.to_string();
    assert!(text.contains("\"estimated\""), "{text}");
}

/// Drives a two-socket fake tree at known power while the binary measures
/// `sleep 3`; the reported energy must match within 1%.
#[test]
fn measure_reports_fake_rapl_energy_within_one_percent() {
    let dir = tempfile::tempdir().unwrap();
    let mut fake = FakePowercap::create(dir.path(), &FakeLayout::two_sockets()).unwrap();
    let root = fake.root().to_path_buf();
    // Watts per zone. Sub-zones core/uncore, the MMIO duplicate and psys must not
    // be added to the total; packages and DRAM must.
    let rates: Vec<(&str, f64)> = vec![
        ("intel-rapl:0", 30.0),
        ("intel-rapl:1", 20.0),
        ("intel-rapl:0:0", 12.0),
        ("intel-rapl:0:1", 3.0),
        ("intel-rapl:0:2", 2.5),
        ("intel-rapl:1:2", 2.5),
        ("intel-rapl-mmio:0", 30.0),
        ("intel-rapl:2", 100.0),
    ];
    let counted_watts = 30.0 + 20.0 + 2.5 + 2.5;
    let stop = Arc::new(AtomicBool::new(false));
    let driver = {
        let stop = stop.clone();
        let rates = rates.clone();
        std::thread::spawn(move || {
            let start: Vec<u64> = rates
                .iter()
                .map(|(z, _)| fake.energy_uj(z).unwrap())
                .collect();
            let t0 = Instant::now();
            while !stop.load(Ordering::SeqCst) {
                let t = t0.elapsed().as_secs_f64();
                for ((zone, watts), s) in rates.iter().zip(&start) {
                    fake.set_energy_uj(zone, s + (watts * t * 1e6) as u64)
                        .unwrap();
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let o = bin()
        .args(["measure", "--json", "--no-nvml", "--idle-seconds", "0.5"])
        .args(["--interval-ms", "20", "--powercap-root"])
        .arg(&root)
        .args(["--", "sleep", "3"])
        .output()
        .unwrap();
    stop.store(true, Ordering::SeqCst);
    driver.join().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json_stdout(&o);
    let duration = v["duration_s"].as_f64().unwrap();
    let energy = v["energy_joules"].as_f64().unwrap();
    assert!((3.0..3.5).contains(&duration), "duration {duration}");
    let expected = counted_watts * duration;
    let err = (energy - expected).abs() / expected;
    assert!(
        err < 0.01,
        "energy {energy} J vs expected {expected} J ({:.2}% off): {:#}",
        err * 100.0,
        v["sources"]
    );
    assert_eq!(v["method"], "measured");
    let sources = v["sources"].as_array().unwrap();
    assert!(sources.iter().all(|s| s["method"] == "measured"));
    let kinds: Vec<&str> = sources
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    for kind in ["cpu-package", "dram", "core", "psys"] {
        assert!(kinds.contains(&kind), "no {kind} in {kinds:?}");
    }
    // Exactly two packages: the MMIO duplicate of package-0 is not listed again.
    assert_eq!(kinds.iter().filter(|k| **k == "cpu-package").count(), 2);
    // The idle baseline saw the same constant power, so net energy is ~0. Its window is
    // short (0.5 s), so a driver thread delayed by a loaded machine shows more there: 5%.
    let idle_w = v["idle"]["watts"].as_f64().unwrap();
    assert!(
        (idle_w - counted_watts).abs() / counted_watts < 0.05,
        "idle {idle_w} W"
    );
}

#[test]
fn measure_exits_with_the_commands_status() {
    let empty = tempfile::tempdir().unwrap();
    let o = bin()
        .args([
            "measure",
            "--no-nvml",
            "--idle-seconds",
            "0",
            "--powercap-root",
        ])
        .arg(empty.path())
        .args(["--", "sh", "-c", "exit 3"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("estimated"), "{}", stderr(&o));
}

#[test]
fn measure_of_a_missing_command_is_one_error_line() {
    let empty = tempfile::tempdir().unwrap();
    let o = bin()
        .args([
            "measure",
            "--no-nvml",
            "--idle-seconds",
            "0",
            "--powercap-root",
        ])
        .arg(empty.path())
        .args(["--", "/no/such/program"])
        .output()
        .unwrap();
    assert_one_error_line(&o, "cannot run `/no/such/program`");
}

/// The measured command itself moves the counter (through a wrap), so the
/// expected energy is exact whatever the machine's load.
#[test]
fn measure_counts_a_wrap_exactly() {
    let dir = tempfile::tempdir().unwrap();
    // A 10 J counter range starting at 9 J: the command moves it to 9.5 J,
    // wraps to 2 J (+2.5 J), then 6 J (+4 J): 7 J in all.
    let layout = FakeLayout::single_package(Some(10_000_000));
    let mut fake = FakePowercap::create(dir.path(), &layout).unwrap();
    fake.set_energy_uj("intel-rapl:0", 9_000_000).unwrap();
    let counter = fake.zone_dir("intel-rapl:0").unwrap().join("energy_uj");
    let c = counter.display();
    let script = format!(
        "set -e; for v in 9500000 2000000 6000000; do sleep 0.3; \
         echo $v > {c}.new; mv {c}.new {c}; done; sleep 0.3"
    );
    let o = bin()
        .args(["measure", "--json", "--no-nvml", "--idle-seconds", "0"])
        .args(["--interval-ms", "20", "--powercap-root"])
        .arg(fake.root())
        .args(["--", "sh", "-c", &script])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json_stdout(&o);
    let energy = v["energy_joules"].as_f64().unwrap();
    assert!(
        (energy - 7.0).abs() < 1e-6,
        "energy {energy} J, expected 7 J: {v:#}"
    );
    let pkg = v["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "cpu-package")
        .unwrap();
    assert_eq!(pkg["method"], "measured");
    assert!((pkg["energy_joules"].as_f64().unwrap() - 7.0).abs() < 1e-6);
}

#[test]
fn measure_rejects_bad_options_with_one_error_line() {
    let o = bin()
        .args(["measure", "--interval-ms", "0", "--", "true"])
        .output()
        .unwrap();
    assert_one_error_line(&o, "--interval-ms must be at least 1");
    let o = bin()
        .args([
            "measure",
            "--pue",
            "0.5",
            "--idle-seconds",
            "0",
            "--",
            "true",
        ])
        .output()
        .unwrap();
    assert_one_error_line(&o, "pue");
    let o = bin()
        .args([
            "measure",
            "--country",
            "XX",
            "--idle-seconds",
            "0",
            "--",
            "true",
        ])
        .output()
        .unwrap();
    assert_one_error_line(&o, "XX");
    let o = bin()
        .args(["measure", "--idle-seconds", "1e12", "--", "true"])
        .output()
        .unwrap();
    assert_one_error_line(&o, "--idle-seconds must be between 0 and 3600");
}

/// SIGINT during the idle baseline: exit 130 at once, the command never runs.
#[test]
fn ctrl_c_during_the_idle_baseline_stops_before_the_command() {
    let empty = tempfile::tempdir().unwrap();
    let marker = empty.path().join("ran");
    let started = Instant::now();
    let child = bin()
        .args([
            "measure",
            "--no-nvml",
            "--idle-seconds",
            "30",
            "--powercap-root",
        ])
        .arg(empty.path())
        .args(["--", "touch"])
        .arg(&marker)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let o = signal_after(child, 1, "INT");
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "waited out the baseline"
    );
    assert!(!marker.exists(), "the command ran");
    assert!(stderr(&o).contains("was not run"), "{}", stderr(&o));
}

/// A command killed by a signal is reported as such, not as an exit status.
#[test]
fn a_killed_command_is_reported_with_its_signal() {
    let empty = tempfile::tempdir().unwrap();
    let o = bin()
        .args([
            "measure",
            "--json",
            "--no-nvml",
            "--idle-seconds",
            "0",
            "--powercap-root",
        ])
        .arg(empty.path())
        .args(["--", "sh", "-c", "kill -9 $$"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(137), "{}", stderr(&o));
    let v = json_stdout(&o);
    assert_eq!(v["signal"], 9, "{v:#}");
    let o = bin()
        .args([
            "measure",
            "--no-nvml",
            "--idle-seconds",
            "0",
            "--powercap-root",
        ])
        .arg(empty.path())
        .args(["--", "sh", "-c", "kill -9 $$"])
        .output()
        .unwrap();
    assert!(stderr(&o).contains("killed by signal 9"), "{}", stderr(&o));
}

/// `measure` sets the command's own CPU time beside the machine figure: a busy loop shows
/// CPU-seconds and a share of the CPU-package energy, a sleep shows next to none.
#[test]
fn measure_attributes_the_commands_own_cpu_time() {
    let empty = tempfile::tempdir().unwrap();
    let measure = |script: &str| {
        let o = bin()
            .args([
                "measure",
                "--json",
                "--no-nvml",
                "--idle-seconds",
                "0",
                "--powercap-root",
            ])
            .arg(empty.path())
            .args(["--", "sh", "-c", script])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        json_stdout(&o)["attributed"].clone()
    };
    let busy = measure("timeout 1 sh -c 'while :; do :; done'; true");
    let cpu = busy["cpu_seconds"].as_f64().unwrap();
    let share = busy["share"].as_f64().unwrap();
    assert!(cpu > 0.2, "{busy:#}");
    assert!((0.0..=1.0).contains(&share) && share > 0.0, "{busy:#}");
    assert!(busy["cpu_joules"].as_f64().unwrap() > 0.0, "{busy:#}");
    assert_eq!(busy["method"], "attributed (CPU-time share)");
    let idle = measure("sleep 1");
    assert!(idle["cpu_seconds"].as_f64().unwrap() < 0.2, "{idle:#}");
}
