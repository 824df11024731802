//! The labelled estimate: formula, table, integration between ticks.

use frugalbench_meter::estimate::{
    CpuLoad, EstimateModel, EstimateSource, TdpOrigin, TdpTable, DRAM_W_PER_GIB, UNKNOWN_CPU_TDP_W,
};
use frugalbench_meter::{DomainKind, EnergySource, Method};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const GIB: u64 = 1 << 30;

#[test]
fn this_vm_unknown_epyc_gets_85_w_and_share_1() {
    // What the build VM reports: "AMD EPYC", 2 vCPUs, 23 GiB.
    let m = EstimateModel::resolve("AMD EPYC", 2, 23 * GIB, None, &TdpTable::builtin()).unwrap();
    assert_eq!(m.tdp_w, UNKNOWN_CPU_TDP_W);
    assert_eq!(m.tdp_w, 85.0);
    assert_eq!(m.share, 1.0);
    assert_eq!(m.tdp_origin, TdpOrigin::UnknownCpu);
    assert_eq!(m.cpu_watts(0.5), 42.5);
    assert_eq!(m.cpu_watts(1.7), 85.0, "utilisation is clamped to 1");
    assert_eq!(m.dram_w, 0.375 * 23.0);
    assert_eq!(DRAM_W_PER_GIB, 0.375);
    assert!(
        m.cpu_detail().contains("CodeCarbon's unknown-CPU default"),
        "{}",
        m.cpu_detail()
    );
    assert!(m.dram_detail().contains("3 W per 8 GB"));
}

#[test]
fn known_chip_is_shared_by_visible_threads() {
    let m = EstimateModel::resolve(
        "AMD EPYC 7763 64-Core Processor",
        2,
        8 * GIB,
        None,
        &TdpTable::builtin(),
    )
    .unwrap();
    assert_eq!((m.tdp_w, m.share), (280.0, 2.0 / 128.0));
    assert_eq!(m.cpu_watts(1.0), 4.375);
    let detail = m.cpu_detail();
    assert!(
        detail.contains("share 2/128") && detail.contains("AMD EPYC 7763"),
        "{detail}"
    );
}

#[test]
fn override_replaces_the_table_with_share_1() {
    let m = EstimateModel::resolve(
        "AMD EPYC 7763 64-Core Processor",
        2,
        GIB,
        Some(65.0),
        &TdpTable::builtin(),
    )
    .unwrap();
    assert_eq!((m.tdp_w, m.share), (65.0, 1.0));
    assert!(m.cpu_detail().contains("--cpu-tdp-watts"));
    assert!(EstimateModel::resolve("x", 1, GIB, Some(0.0), &TdpTable::builtin()).is_err());
    assert!(EstimateModel::resolve("x", 1, GIB, Some(f64::NAN), &TdpTable::builtin()).is_err());
}

#[derive(Clone)]
struct FakeLoad(Arc<Mutex<f64>>);

impl CpuLoad for FakeLoad {
    fn sample(&mut self) -> f64 {
        *self.0.lock().unwrap()
    }
    fn min_interval(&self) -> Duration {
        Duration::from_millis(200)
    }
}

#[test]
fn integrates_on_ticks_and_extrapolates_between() {
    let model = EstimateModel::resolve("AMD EPYC", 2, 8 * GIB, None, &TdpTable::builtin()).unwrap();
    let load = FakeLoad(Arc::new(Mutex::new(0.5)));
    let t0 = Instant::now();
    let ms = |n: u64| t0 + Duration::from_millis(n);
    let mut src = EstimateSource::new_at(model, Box::new(load.clone()), t0);
    let d = src.domains();
    assert_eq!(d.len(), 2);
    assert!(d
        .iter()
        .all(|d| d.method == Method::Estimated && d.source == "estimate"));
    assert_eq!(
        (d[0].kind, d[1].kind),
        (DomainKind::CpuPackage, DomainKind::Dram)
    );
    assert!(d.iter().all(|d| d.detail.is_some()));

    let dram_w = 3.0; // 8 GiB × 0.375
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    // Before the first utilisation sample the CPU draws 0 W in the estimate.
    src.tick_at(ms(100));
    assert!(close(src.energy_at(ms(100))[0], 0.0));
    src.tick_at(ms(200)); // 200 ms since start: sample u = 0.5 → 42.5 W
    assert_eq!(src.power()[0], 42.5);
    let e = src.energy_at(ms(300));
    assert!(close(e[0], 42.5 * 0.1), "{e:?}");
    assert!(close(e[1], dram_w * 0.3), "{e:?}");
    src.tick_at(ms(300)); // too soon to resample
    *load.0.lock().unwrap() = 1.0;
    src.tick_at(ms(400)); // integrates 42.5 W to 400 ms, then resamples: 85 W
    assert!(close(src.energy_at(ms(400))[0], 42.5 * 0.2));
    assert!(close(src.energy_at(ms(500))[0], 42.5 * 0.2 + 85.0 * 0.1));
    // Reads between ticks are monotonic and agree with the next tick.
    let mid = src.energy_at(ms(550));
    src.tick_at(ms(600));
    let after = src.energy_at(ms(600));
    assert!(after[0] >= mid[0] && after[1] >= mid[1]);
    assert!(close(after[0], 42.5 * 0.2 + 85.0 * 0.2));
    // A read "before" the last tick never goes backwards.
    assert!(src.energy_at(ms(10))[0] >= after[0] - 1e-12);
    assert!(src.notes()[0].contains("estimated, not measured"));
}
