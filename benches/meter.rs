//! Cost of reading each energy source available on a machine without RAPL or a
//! GPU (RAPL on a fake tree in tmpfs, the estimate), and the background sampler's
//! CPU time per second at 10 Hz.
//!
//! `cargo bench -p frugalbench-meter --bench meter -- --warm-up-time 1 --measurement-time 3`

use criterion::{criterion_group, Criterion};
use frugalbench_meter::estimate::{CpuOverrides, EstimateSource};
use frugalbench_meter::fake::{FakeLayout, FakePowercap};
use frugalbench_meter::host::HostFacts;
use frugalbench_meter::rapl::RaplSource;
use frugalbench_meter::{EnergySource, Meter, MeterConfig};
use std::hint::black_box;
use std::time::Duration;

/// A temporary directory in tmpfs when there is one (sysfs reads are in-memory too).
fn tmpfs_dir() -> tempfile::TempDir {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir() {
        if let Ok(d) = tempfile::tempdir_in(shm) {
            return d;
        }
    }
    tempfile::tempdir().expect("temp dir")
}

fn reads(c: &mut Criterion) {
    let dir = tmpfs_dir();
    let fake = FakePowercap::create(dir.path(), &FakeLayout::two_sockets()).expect("fake tree");
    let mut rapl = RaplSource::open(fake.root()).expect("rapl on the fake tree");
    c.bench_function(
        &format!("rapl read ({} zones, fake tree)", rapl.domains().len()),
        |b| b.iter(|| black_box(rapl.read().unwrap())),
    );

    let mut est = EstimateSource::detect(std::path::Path::new("/"), &CpuOverrides::default())
        .expect("estimate");
    c.bench_function("estimate read", |b| {
        b.iter(|| black_box(est.read().unwrap()))
    });
}

/// One read of the estimate's busy-time counter (`/proc/stat` or the cgroup's `cpu.stat`),
/// which every estimate `read()` does.
fn busy_time_cost() {
    let mut ct = HostFacts::read(std::path::Path::new("/"))
        .cpu_time()
        .expect("a busy-time counter");
    let mut times = Vec::new();
    for _ in 0..10 {
        let t = std::time::Instant::now();
        black_box(ct.busy_seconds().ok());
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "estimate busy-time read ({}, 10 calls): median {:?}, min {:?}, max {:?}",
        ct.describe(),
        times[times.len() / 2],
        times[0],
        times[times.len() - 1]
    );
}

/// Runs a meter at 10 Hz for 2 s and prints the sampler thread's CPU time
/// (getrusage RUSAGE_THREAD) per second of wall time.
fn sampler_overhead(label: &str, sources: Vec<Box<dyn EnergySource>>) {
    let cfg = MeterConfig {
        interval: Duration::from_millis(100),
        ..MeterConfig::default()
    };
    let meter = Meter::with_sources(sources, &cfg).expect("meter");
    let wall = Duration::from_secs(2);
    std::thread::sleep(wall);
    let ticks = meter.timeline().len();
    let cpu = meter.sampler_cpu_time().unwrap_or_default();
    meter.stop();
    println!(
        "sampler overhead at 10 Hz, {label}: {ticks} ticks in {wall:?}, thread CPU {cpu:?} = \
         {:.0} µs CPU per second ({:.3} % of one core)",
        cpu.as_secs_f64() * 1e6 / wall.as_secs_f64(),
        cpu.as_secs_f64() / wall.as_secs_f64() * 100.0
    );
}

fn overheads() {
    let est = EstimateSource::detect(std::path::Path::new("/"), &CpuOverrides::default())
        .expect("estimate");
    sampler_overhead("estimate only (this VM)", vec![Box::new(est)]);

    let dir = tmpfs_dir();
    let fake = FakePowercap::create(dir.path(), &FakeLayout::two_sockets()).expect("fake tree");
    let rapl = RaplSource::open(fake.root()).expect("rapl");
    let label = format!("RAPL fake tree ({} zones)", rapl.domains().len());
    sampler_overhead(&label, vec![Box::new(rapl)]);
}

criterion_group!(benches, reads);

fn main() {
    benches();
    busy_time_cost();
    overheads();
    Criterion::default().configure_from_args().final_summary();
}
