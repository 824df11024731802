//! The labelled estimate: which model is chosen on which machine (fake `/proc` and `/sys`
//! trees), its figures and ranges, and energy from busy-time counters.

use frugalbench_meter::estimate::{
    CpuModel, CpuOverrides, EstimateModel, EstimateSource, TdpOrigin, TdpTable, VcpuOrigin,
    VcpuWattsTable, CCF_DRAM_W_PER_GIB, DRAM_W_PER_GIB, UNKNOWN_CPU_TDP_W,
};
use frugalbench_meter::host::{CgroupUsage, HostFacts, ProcStat};
use frugalbench_meter::{DomainKind, EnergySource, Meter, MeterConfig, Method, OverallMethod};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A fake host tree: `/proc/cpuinfo` for `cpus` processors, `/proc/stat`, `/proc/meminfo`,
/// optional DMI strings.
struct Host {
    dir: tempfile::TempDir,
}

impl Host {
    fn new(
        vendor: &str,
        family: u32,
        model: u32,
        stepping: u32,
        name: &str,
        cpus: usize,
        hypervisor: bool,
    ) -> Host {
        let dir = tempfile::tempdir().unwrap();
        let mut info = String::new();
        for i in 0..cpus {
            let flags = if hypervisor {
                "fpu sse2 hypervisor avx2"
            } else {
                "fpu sse2 avx2"
            };
            info.push_str(&format!(
                "processor\t: {i}\nvendor_id\t: {vendor}\ncpu family\t: {family}\nmodel\t\t: {model}\nmodel name\t: {name}\nstepping\t: {stepping}\nflags\t\t: {flags}\n\n"
            ));
        }
        let h = Host { dir };
        h.write("proc/cpuinfo", &info);
        h.write(
            "proc/meminfo",
            "MemTotal:        8388608 kB\nMemFree:         1000 kB\n",
        );
        h.stat(1000, 0);
        h
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.dir.path().join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    /// `/proc/stat` with `busy` ticks (user) and `idle` ticks.
    fn stat(&self, idle: u64, busy: u64) {
        self.write(
            "proc/stat",
            &format!("cpu  {busy} 0 0 {idle} 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\n"),
        );
    }

    fn facts(&self) -> HostFacts {
        HostFacts::read(self.root())
    }

    fn stat_path(&self) -> PathBuf {
        self.root().join("proc/stat")
    }
}

fn resolve(h: &Host, o: CpuOverrides) -> EstimateModel {
    EstimateModel::resolve(
        &h.facts(),
        &o,
        &TdpTable::builtin(),
        &VcpuWattsTable::builtin(),
    )
    .unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9 * (1.0 + a.abs().max(b.abs()))
}

const GIB8: f64 = 8.0;

#[test]
fn guest_with_a_known_microarchitecture_uses_its_per_vcpu_watts() {
    // Cascade Lake (family 6 model 0x55 stepping 7) VM with 4 vCPUs.
    let h = Host::new(
        "GenuineIntel",
        6,
        0x55,
        7,
        "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz",
        4,
        true,
    );
    let m = resolve(&h, CpuOverrides::default());
    assert_eq!(m.microarch.as_ref().unwrap().name, "Cascade Lake");
    assert!(m.guest.as_ref().unwrap().signals[0].contains("hypervisor"));
    let CpuModel::PerVcpu {
        min_w,
        max_w,
        origin,
    } = &m.cpu
    else {
        panic!("{:?}", m.cpu)
    };
    assert_eq!((*min_w, *max_w), (0.6389, 3.9673));
    assert!(matches!(
        origin,
        VcpuOrigin::Table {
            stands_in_for: None,
            ..
        }
    ));
    assert_eq!(m.vcpus, 4.0);
    assert!(close(m.cpu_watts(0.0), 4.0 * 0.6389));
    assert!(close(m.cpu_watts(1.0), 4.0 * 3.9673));
    assert!(close(
        m.cpu_watts(0.5),
        4.0 * (0.6389 + 0.5 * (3.9673 - 0.6389))
    ));
    let [lo, hi] = m.cpu_watts_range(1.0);
    assert!(
        close(lo, 4.0 * 3.1728) && close(hi, 4.0 * 4.4361),
        "{lo} {hi}"
    );
    assert!(close(m.dram_w, CCF_DRAM_W_PER_GIB * GIB8));
    assert_eq!(m.dram_range, [m.dram_w * 0.5, m.dram_w * 1.5]);
    assert!(m.why().contains("virtual machine") && m.why().contains("Cascade Lake"));

    // A newer microarchitecture missing from the data: the nearest older row stands in.
    let h = Host::new("AuthenticAMD", 26, 2, 1, "AMD EPYC", 2, true);
    let m = resolve(&h, CpuOverrides::default());
    let CpuModel::PerVcpu {
        origin: VcpuOrigin::Table { row, stands_in_for },
        ..
    } = &m.cpu
    else {
        panic!("{:?}", m.cpu)
    };
    assert_eq!(
        (row.microarch.as_str(), stands_in_for.as_deref()),
        ("Zen 3", Some("Zen 5"))
    );
    assert!(
        m.cpu_detail().contains("Zen 5 is not in the data"),
        "{}",
        m.cpu_detail()
    );
    // This build VM: 2 vCPUs idle ≈ 0.9 W, full ≈ 4 W, never 85 W.
    assert!(m.cpu_watts(0.0) < 1.0 && m.cpu_watts(1.0) < 4.1);
}

#[test]
fn guest_with_an_unknown_microarchitecture_uses_the_vendor_average() {
    // An old AMD family (0x15) under QEMU, told by DMI only.
    let h = Host::new(
        "AuthenticAMD",
        0x15,
        1,
        0,
        "AMD Opteron(tm) Processor 6376",
        2,
        false,
    );
    h.write("sys/class/dmi/id/sys_vendor", "QEMU\n");
    h.write(
        "sys/class/dmi/id/product_name",
        "Standard PC (Q35 + ICH9, 2009)\n",
    );
    let m = resolve(&h, CpuOverrides::default());
    assert!(m.microarch.is_none());
    assert_eq!(
        m.guest.as_ref().unwrap().signals,
        ["DMI sys_vendor \"QEMU\""]
    );
    let CpuModel::PerVcpu {
        min_w,
        max_w,
        origin: VcpuOrigin::Average { vendor, microarchs },
    } = &m.cpu
    else {
        panic!("{:?}", m.cpu)
    };
    assert_eq!(vendor.as_deref(), Some("amd"));
    assert_eq!(microarchs, &["Zen", "Zen 2", "Zen 3"]);
    assert!(close(*min_w, (0.8227 + 0.4743 + 0.4454) / 3.0));
    assert!(close(*max_w, (2.5531 + 1.6930 + 2.0193) / 3.0));
    // Range: the lowest and highest of the rows' means.
    assert!(close(m.cpu_range[0].idle_w, 2.0 * 0.4454));
    assert!(close(m.cpu_range[1].idle_w, 2.0 * 0.8227));
    assert!(m.cpu_detail().contains("microarchitecture unknown"));
}

#[test]
fn container_with_a_quota_counts_its_cgroup_usage_over_quota_cpus() {
    let h = Host::new("AuthenticAMD", 0x19, 0x01, 1, "AMD EPYC 7B13", 8, true);
    h.write("sys/fs/cgroup/cpu.max", "150000 100000\n");
    h.write(
        "sys/fs/cgroup/cpu.stat",
        "usage_usec 5000000\nuser_usec 4000000\n",
    );
    h.write("sys/fs/cgroup/memory.max", &format!("{}\n", 2u64 << 30));
    let facts = h.facts();
    assert_eq!(facts.vcpus(), 1.5);
    let m = resolve(&h, CpuOverrides::default());
    assert_eq!((m.vcpus, m.quota_cpus, m.logical_cpus), (1.5, Some(1.5), 8));
    assert_eq!(m.microarch.as_ref().unwrap().name, "Zen 3");
    assert!(
        close(m.memory_gib, 2.0),
        "the cgroup memory limit counts, not the host's"
    );
    assert!(
        m.why().contains("1.5 vCPUs from the cgroup CPU quota"),
        "{}",
        m.why()
    );

    let t0 = Instant::now();
    let cpu_time = facts.cpu_time().unwrap();
    assert!(cpu_time.describe().contains("usage_usec"));
    let mut src = EstimateSource::new_at(m.clone(), cpu_time, t0);
    // 0.75 CPU-seconds of work in 1 s: u = 0.75 / 1.5 = 0.5.
    h.write("sys/fs/cgroup/cpu.stat", "usage_usec 5750000\n");
    let e = src.energy_at(t0 + Duration::from_secs(1)).unwrap();
    assert!(
        close(e[0], m.cpu_watts(0.5)),
        "{e:?} vs {}",
        m.cpu_watts(0.5)
    );
    assert!(close(e[1], m.dram_w));
    let r = src.read_range();
    let (lo, hi) = r[0].unwrap();
    let [wlo, whi] = m.cpu_watts_range(0.5);
    assert!(close(lo, wlo) && close(hi, whi), "{r:?}");
    // Usage beyond the quota (accounting bursts) is clamped to vCPUs × time.
    h.write("sys/fs/cgroup/cpu.stat", "usage_usec 50000000\n");
    let e = src.energy_at(t0 + Duration::from_secs(2)).unwrap();
    assert!(close(e[0], 2.0 * m.cpu_watts(1.0)), "{e:?}");
    // A cgroup without a quota: visible CPUs.
    h.write("sys/fs/cgroup/cpu.max", "max 100000\n");
    assert_eq!(h.facts().vcpus(), 8.0);
    // The reader on its own.
    assert_eq!(
        frugalbench_meter::host::CpuTime::busy_seconds(&mut CgroupUsage::new(
            h.root().join("sys/fs/cgroup/cpu.stat")
        ))
        .unwrap(),
        50.0
    );
}

#[test]
fn bare_metal_with_a_known_cpu_uses_the_tdp_table_share() {
    let h = Host::new(
        "AuthenticAMD",
        0x19,
        0x01,
        1,
        "AMD EPYC 7763 64-Core Processor",
        2,
        false,
    );
    let m = resolve(&h, CpuOverrides::default());
    assert!(m.guest.is_none());
    let CpuModel::Tdp {
        tdp_w,
        share,
        origin,
    } = &m.cpu
    else {
        panic!("{:?}", m.cpu)
    };
    assert_eq!((*tdp_w, *share), (280.0, 2.0 / 128.0));
    assert!(matches!(origin, TdpOrigin::Table { .. }));
    assert!(close(m.cpu_watts(1.0), 4.375));
    assert!(close(m.cpu_watts(0.0), 0.0));
    assert_eq!(m.cpu_watts_range(1.0), [4.375 * 0.5, 4.375 * 1.5]);
    assert!(close(m.dram_w, DRAM_W_PER_GIB * GIB8));
    let detail = m.cpu_detail();
    assert!(
        detail.contains("share 0.0156") && detail.contains("AMD EPYC 7763"),
        "{detail}"
    );
    assert!(m.why().contains("bare metal"));
}

#[test]
fn unknown_cpu_on_bare_metal_gets_85_w_with_a_wide_range() {
    let h = Host::new("AuthenticAMD", 26, 2, 1, "AMD EPYC", 2, false);
    let m = resolve(&h, CpuOverrides::default());
    let CpuModel::Tdp {
        tdp_w,
        share,
        origin,
    } = &m.cpu
    else {
        panic!("{:?}", m.cpu)
    };
    assert_eq!(
        (*tdp_w, *share, origin),
        (UNKNOWN_CPU_TDP_W, 1.0, &TdpOrigin::UnknownCpu)
    );
    assert!(close(m.cpu_watts(0.5), 42.5));
    assert!(close(m.cpu_watts(1.7), 85.0), "utilisation is clamped to 1");
    assert_eq!(m.cpu_watts_range(1.0), [42.5, 127.5]);
    assert!(m.cpu_detail().contains("CodeCarbon's unknown-CPU default"));
    assert!(m.dram_detail().contains("3 W per 8 GB"));
}

#[test]
fn overrides_replace_the_model_and_carry_no_spread() {
    let h = Host::new("AuthenticAMD", 26, 2, 1, "AMD EPYC", 2, true);
    let m = resolve(
        &h,
        CpuOverrides {
            watts_per_vcpu: Some((1.0, 3.0)),
            ..Default::default()
        },
    );
    assert!(matches!(
        m.cpu,
        CpuModel::PerVcpu {
            origin: VcpuOrigin::Override,
            ..
        }
    ));
    assert!(close(m.cpu_watts(0.5), 2.0 * 2.0));
    assert_eq!(m.cpu_watts_range(0.5), [m.cpu_watts(0.5); 2]);
    let m = resolve(
        &h,
        CpuOverrides {
            tdp_watts: Some(65.0),
            ..Default::default()
        },
    );
    assert!(matches!(
        m.cpu,
        CpuModel::Tdp {
            origin: TdpOrigin::Override,
            ..
        }
    ));
    assert!(close(m.cpu_watts(1.0), 65.0));
    let bad = |o: CpuOverrides| {
        EstimateModel::resolve(
            &h.facts(),
            &o,
            &TdpTable::builtin(),
            &VcpuWattsTable::builtin(),
        )
        .is_err()
    };
    assert!(bad(CpuOverrides {
        tdp_watts: Some(0.0),
        ..Default::default()
    }));
    assert!(bad(CpuOverrides {
        tdp_watts: Some(f64::NAN),
        ..Default::default()
    }));
    assert!(bad(CpuOverrides {
        watts_per_vcpu: Some((3.0, 1.0)),
        ..Default::default()
    }));
    assert!(bad(CpuOverrides {
        tdp_watts: Some(5.0),
        watts_per_vcpu: Some((1.0, 3.0))
    }));
}

#[test]
fn energy_follows_proc_stat_busy_time_exactly() {
    let h = Host::new("GenuineIntel", 6, 0x55, 4, "Intel Xeon", 2, true);
    let m = resolve(&h, CpuOverrides::default());
    let t0 = Instant::now();
    let mut src =
        EstimateSource::new_at(m.clone(), Box::new(ProcStat::new(h.stat_path(), 100.0)), t0);
    let d = src.domains();
    assert!(d
        .iter()
        .all(|d| d.method == Method::Estimated && d.source == "estimate"));
    assert_eq!(
        (d[0].kind, d[1].kind),
        (DomainKind::CpuPackage, DomainKind::Dram)
    );
    assert!(d[0].detail.as_ref().unwrap().contains("/proc/stat"));
    // Idle half a second: idle watts only.
    let e = src.energy_at(t0 + Duration::from_millis(500)).unwrap();
    assert!(close(e[0], m.cpu_watts(0.0) * 0.5), "{e:?}");
    // 150 ticks = 1.5 CPU-seconds of work over the next second (u = 0.75 of 2 vCPUs).
    h.stat(1050, 150);
    let e = src.energy_at(t0 + Duration::from_millis(1500)).unwrap();
    let want = m.cpu_watts(0.0) * 0.5 + m.cpu_watts(0.75) * 1.0;
    assert!(close(e[0], want), "{e:?} vs {want}");
    assert!(close(e[1], m.dram_w * 1.5));
    assert!(src.notes()[0].contains("estimated, not measured"));
}

/// A fresh meter on an idle machine must not count its own start-up (or anything before
/// the window) as load: the first window of an idle fake `/proc/stat` is idle power only.
#[test]
fn fresh_meter_on_an_idle_machine_reports_no_start_up_load() {
    let h = Host::new("AuthenticAMD", 0x17, 0x31, 0, "AMD EPYC 7R32", 2, true);
    // Lots of busy time before the meter starts (boot, start-up): none of it may count.
    h.stat(100_000, 900_000);
    let dir = tempfile::tempdir().unwrap();
    let cfg = MeterConfig {
        powercap_root: dir.path().join("absent"),
        host_root: h.root().to_path_buf(),
        enable_nvml: false,
        interval: Duration::from_millis(20),
        ..MeterConfig::default()
    };
    let meter = Meter::start(&cfg).unwrap();
    let model = meter.report().unwrap().estimate.clone().unwrap();
    assert_eq!(model.microarch.as_ref().unwrap().name, "Zen 2");
    let w = meter.begin();
    std::thread::sleep(Duration::from_millis(300));
    let m = meter.end(w);
    let cpu = m.domain("cpu").unwrap();
    let idle_w = model.cpu_watts(0.0);
    assert!(
        (cpu.avg_watts - idle_w).abs() < 1e-3,
        "{} W vs idle {idle_w} W",
        cpu.avg_watts
    );
    assert!(
        cpu.avg_watts < 1.0,
        "2 Zen 2 vCPUs idle ≈ 0.95 W, got {}",
        cpu.avg_watts
    );
    let (lo, hi) = (cpu.joules_low.unwrap(), cpu.joules_high.unwrap());
    assert!(lo < cpu.joules && cpu.joules < hi, "{cpu:?}");
    let (tlo, thi) = m.total_joules_range().unwrap();
    assert!(tlo < m.total_joules() && m.total_joules() < thi);
    assert_eq!(m.method(), Some(OverallMethod::Estimated));
    let s = m.sources();
    assert_eq!(s[0].joules_low, cpu.joules_low);

    // One CPU-second of work inside the next window adds (max − min) J.
    let w = meter.begin();
    h.stat(100_000, 900_100);
    std::thread::sleep(Duration::from_millis(600));
    let m2 = meter.end(w);
    let cpu2 = m2.domain("cpu").unwrap();
    let want = idle_w * m2.duration_s + (1.6930 - 0.4743);
    assert!(
        (cpu2.joules - want).abs() < 1e-3,
        "{} vs {want}",
        cpu2.joules
    );
    meter.stop();
}
