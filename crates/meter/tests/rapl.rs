//! RAPL powercap source on fake sysfs trees.

use frugalbench_meter::fake::{FakeLayout, FakePowercap};
use frugalbench_meter::rapl::RaplSource;
use frugalbench_meter::sysfs::{StdFs, SysfsReader};
use frugalbench_meter::{ConditionKind, DomainKind, EnergySource, Meter, MeterConfig};
use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn quiet_cfg() -> MeterConfig {
    // The sampler barely ticks, so the test alone drives the reads.
    MeterConfig {
        interval: Duration::from_secs(3600),
        enable_nvml: false,
        ..MeterConfig::default()
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn two_sockets_no_double_counting() {
    let dir = tempfile::tempdir().unwrap();
    let mut fake = FakePowercap::create(dir.path(), &FakeLayout::two_sockets()).unwrap();
    let src = RaplSource::open(fake.root()).unwrap();
    let names: Vec<_> = src.domains().iter().map(|d| d.name.clone()).collect();
    assert_eq!(
        names,
        [
            "package-0",
            "core-0",
            "uncore-0",
            "dram-0",
            "package-1",
            "core-1",
            "uncore-1",
            "dram-1",
            "psys"
        ]
    );
    let kinds: Vec<_> = src.domains().iter().map(|d| d.kind).collect();
    assert_eq!(kinds[0], DomainKind::CpuPackage);
    assert_eq!(kinds[1], DomainKind::Core);
    assert_eq!(kinds[2], DomainKind::Uncore);
    assert_eq!(kinds[3], DomainKind::Dram);
    assert_eq!(kinds[8], DomainKind::Psys);
    assert!(
        src.notes().iter().any(|n| n.contains("intel-rapl-mmio:0")),
        "{:?}",
        src.notes()
    );

    let meter = Meter::with_sources(vec![Box::new(src)], &quiet_cfg()).unwrap();
    let w = meter.begin();
    for (zone, j) in [
        ("intel-rapl:0", 10.0),
        ("intel-rapl:0:0", 6.0),
        ("intel-rapl:0:1", 1.0),
        ("intel-rapl:0:2", 2.0),
        ("intel-rapl:1", 20.0),
        ("intel-rapl:1:0", 15.0),
        ("intel-rapl:1:2", 3.0),
        ("intel-rapl:2", 50.0),
        ("intel-rapl-mmio:0", 10.0),
    ] {
        fake.advance(zone, j).unwrap();
    }
    let m = meter.end(w);
    // Packages + DRAM only: core/uncore are inside the package, psys overlaps,
    // the MMIO zone duplicates package-0.
    assert!(close(m.total_joules(), 10.0 + 2.0 + 20.0 + 3.0), "{m:?}");
    assert!(close(m.domain("core-0").unwrap().joules, 6.0));
    assert!(close(m.domain("psys").unwrap().joules, 50.0));
    assert_eq!(m.method(), Some(frugalbench_meter::OverallMethod::Measured));
    assert!(m.notes.is_empty(), "{:?}", m.notes);
}

#[test]
fn mmio_zone_used_when_it_is_the_only_one() {
    let dir = tempfile::tempdir().unwrap();
    let layout = FakeLayout::new().zone("intel-rapl-mmio:0", "package-0", Some(1 << 40), 0);
    let mut fake = FakePowercap::create(dir.path(), &layout).unwrap();
    let mut src = RaplSource::open(fake.root()).unwrap();
    assert_eq!(src.domains().len(), 1);
    assert_eq!(src.domains()[0].name, "package-0");
    fake.advance("intel-rapl-mmio:0", 3.25).unwrap();
    assert!(close(src.read().unwrap()[0], 3.25));
    assert!(src.notes().iter().any(|n| n.contains("no dram zone")));
}

#[test]
fn wraps_past_max_energy_range() {
    let dir = tempfile::tempdir().unwrap();
    // 1000 J range.
    let mut fake =
        FakePowercap::create(dir.path(), &FakeLayout::single_package(Some(1_000_000_000))).unwrap();
    fake.set_energy_uj("intel-rapl:0", 999_000_000).unwrap();
    let mut src = RaplSource::open(fake.root()).unwrap();
    assert_eq!(src.max_poll_interval(), Some(Duration::from_secs(1)));
    let mut expected = 0.0;
    for step in [5.0, 700.0, 400.0, 999.0, 0.5] {
        fake.advance("intel-rapl:0", step).unwrap();
        expected += step;
        let v = src.read().unwrap();
        assert!((v[0] - expected).abs() < 1e-6, "{} vs {expected}", v[0]);
    }
    assert_eq!(fake.energy_uj("intel-rapl:0"), Some(103_500_000));
    assert_eq!(src.wraps()[0], ("package-0".to_owned(), 3));
    assert!(src.conditions().is_empty());
}

#[test]
fn sampler_interval_is_clamped_below_the_wrap_period() {
    let dir = tempfile::tempdir().unwrap();
    // 30 J range: wraps in 30 ms at 1 kW, so poll at least every 15 ms.
    let fake =
        FakePowercap::create(dir.path(), &FakeLayout::single_package(Some(30_000_000))).unwrap();
    let src = RaplSource::open(fake.root()).unwrap();
    assert_eq!(src.max_poll_interval(), Some(Duration::from_millis(30)));
    let meter = Meter::with_sources(vec![Box::new(src)], &quiet_cfg()).unwrap();
    assert_eq!(meter.interval(), Duration::from_millis(15));
}

#[test]
fn unreadable_range_drops_the_interval_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let layout = FakeLayout::new().zone("intel-rapl:0", "package-0", None, 500_000_000);
    let mut fake = FakePowercap::create(dir.path(), &layout).unwrap();
    let src = RaplSource::open(fake.root()).unwrap();
    assert_eq!(src.max_poll_interval(), None);
    assert!(src
        .notes()
        .iter()
        .any(|n| n.contains("package-0") && n.contains("max_energy_range_uj unreadable")));
    let meter = Meter::with_sources(vec![Box::new(src)], &quiet_cfg()).unwrap();
    let w = meter.begin();
    fake.advance("intel-rapl:0", 4.0).unwrap();
    let _ = meter.end(meter.begin()); // a read in between sees 504 J
    fake.set_energy_uj("intel-rapl:0", 1_000_000).unwrap(); // the counter fell: unknown wrap
    let _ = meter.end(meter.begin());
    fake.advance("intel-rapl:0", 2.0).unwrap();
    let m = meter.end(w);
    let j = m.domain("package-0").unwrap().joules;
    assert!(close(j, 6.0), "only the known intervals count: {j}");
    assert!(
        m.notes
            .iter()
            .any(|n| n == "dropped 1 interval on package-0: max_energy_range_uj unreadable, so a counter decrease could not be corrected (counted as 0 J)"),
        "{:?}",
        m.notes
    );
    assert!(meter
        .notes()
        .iter()
        .any(|n| n.starts_with("dropped 1 interval on package-0")));
}

/// Simulates Linux ≥ 5.10 for a non-root user: `energy_uj` is unreadable.
struct DenyEnergy;

impl SysfsReader for DenyEnergy {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        if path.file_name().is_some_and(|n| n == "energy_uj") {
            return Err(io::Error::from(io::ErrorKind::PermissionDenied));
        }
        StdFs.read_to_string(path)
    }
    fn read_dir_names(&self, path: &Path) -> io::Result<Vec<String>> {
        StdFs.read_dir_names(path)
    }
    fn is_dir(&self, path: &Path) -> bool {
        StdFs.is_dir(path)
    }
}

#[test]
fn permission_denied_names_the_file_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakePowercap::create(dir.path(), &FakeLayout::two_sockets()).unwrap();
    let err = RaplSource::open_with(fake.root(), Arc::new(DenyEnergy)).unwrap_err();
    let expected_path = dir.path().join("intel-rapl:0").join("energy_uj");
    assert_eq!(
        err.reason,
        format!(
            "permission denied reading {} (Linux ≥ 5.10 restricts RAPL to root)",
            expected_path.display()
        )
    );
    let fix = err.fix.unwrap();
    let root = dir.path().display();
    assert!(fix.contains(&format!(
        "sudo chmod a+r {root}/intel-rapl:*/energy_uj {root}/intel-rapl:*/intel-rapl:*/energy_uj"
    )));
    assert!(fix.contains(&format!("z {root}/intel-rapl:*/energy_uj 0444 - - -")));
    assert!(fix.contains("SUBSYSTEM==\"powercap\""));
    assert!(fix.contains("run as root"));
}

/// Fails every read while `fail` is set.
struct Flaky {
    fail: Arc<AtomicBool>,
}

impl SysfsReader for Flaky {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        if self.fail.load(Ordering::SeqCst) {
            return Err(io::Error::other("flaky"));
        }
        StdFs.read_to_string(path)
    }
    fn read_dir_names(&self, path: &Path) -> io::Result<Vec<String>> {
        StdFs.read_dir_names(path)
    }
    fn is_dir(&self, path: &Path) -> bool {
        StdFs.is_dir(path)
    }
}

#[test]
fn failed_reads_keep_the_energy_for_the_next_good_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut fake = FakePowercap::create(dir.path(), &FakeLayout::single_package(None)).unwrap();
    let fail = Arc::new(AtomicBool::new(false));
    let mut src =
        RaplSource::open_with(fake.root(), Arc::new(Flaky { fail: fail.clone() })).unwrap();
    fake.advance("intel-rapl:0", 1.0).unwrap();
    assert!(close(src.read().unwrap()[0], 1.0));
    fail.store(true, Ordering::SeqCst);
    fake.advance("intel-rapl:0", 2.0).unwrap();
    assert!(close(src.read().unwrap()[0], 1.0));
    fail.store(false, Ordering::SeqCst);
    assert!(close(src.read().unwrap()[0], 3.0));
    let c = src.conditions();
    assert_eq!(c.len(), 2, "{c:?}"); // both zones failed once
    assert!(c
        .iter()
        .all(|c| c.kind == ConditionKind::ReadFailed && c.count == 1));
}

#[test]
fn missing_tree_and_no_package_are_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let err = RaplSource::open(&dir.path().join("nope")).unwrap_err();
    assert!(
        err.reason.starts_with("no powercap sysfs at"),
        "{}",
        err.reason
    );

    let layout = FakeLayout::new().zone("intel-rapl:0", "psys", Some(1 << 30), 0);
    let fake = FakePowercap::create(dir.path(), &layout).unwrap();
    let err = RaplSource::open(fake.root()).unwrap_err();
    assert!(
        err.reason.contains("no readable RAPL package zone"),
        "{}",
        err.reason
    );
    assert!(err.reason.contains("intel-rapl:0 (psys)"), "{}", err.reason);
}

#[test]
fn bad_counter_contents_skip_the_zone_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakePowercap::create(dir.path(), &FakeLayout::single_package(None)).unwrap();
    std::fs::write(
        fake.zone_dir("intel-rapl:0:0").unwrap().join("energy_uj"),
        "garbage\n",
    )
    .unwrap();
    let src = RaplSource::open(fake.root()).unwrap();
    assert_eq!(src.domains().len(), 1);
    let notes = src.notes().join("\n");
    assert!(
        notes.contains("skipped RAPL zone intel-rapl:0:0 (dram)"),
        "{notes}"
    );
    assert!(notes.contains("\"garbage\""), "{notes}");
}
