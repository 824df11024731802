//! What the estimate needs to know about the machine, read from files under a root
//! directory (`/` on a real machine, a fake tree in tests): the CPU's vendor, family and
//! model (`/proc/cpuinfo`), whether it is a virtual machine (the `hypervisor` flag, DMI
//! strings), the cgroup v2 CPU quota and memory limit, and counters of busy CPU time
//! (`/proc/stat`, or the cgroup's `cpu.stat`).

use crate::source::ReadError;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The root a real machine's files are read under.
pub const DEFAULT_HOST_ROOT: &str = "/";

/// Clock ticks per second of `/proc/stat` (`USER_HZ`, 100 on every Linux architecture
/// that matters; `sysconf(_SC_CLK_TCK)` says).
pub fn user_hz() -> f64 {
    #[cfg(unix)]
    {
        // SAFETY: sysconf only reads a constant.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        if hz > 0 {
            return hz as f64;
        }
    }
    100.0
}

/// The CPU as `/proc/cpuinfo` describes its first processor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CpuId {
    /// `vendor_id`, e.g. `AuthenticAMD`, `GenuineIntel` (empty when absent).
    pub vendor: String,
    /// `cpu family` (decimal in the file).
    pub family: Option<u32>,
    /// `model`.
    pub model: Option<u32>,
    /// `stepping`.
    pub stepping: Option<u32>,
    /// `model name`.
    pub model_name: String,
}

impl CpuId {
    /// Parses the first processor block of `/proc/cpuinfo`; also returns the number of
    /// processors listed and whether the `hypervisor` flag is set.
    pub fn parse(cpuinfo: &str) -> (CpuId, usize, bool) {
        let mut id = CpuId {
            vendor: String::new(),
            family: None,
            model: None,
            stepping: None,
            model_name: String::new(),
        };
        let mut processors = 0;
        let mut hypervisor = false;
        let mut first = true;
        for line in cpuinfo.lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            let (k, v) = (k.trim(), v.trim());
            if k == "processor" {
                processors += 1;
                first = processors == 1;
                continue;
            }
            if !first {
                continue;
            }
            match k {
                "vendor_id" => id.vendor = v.to_owned(),
                "cpu family" => id.family = v.parse().ok(),
                "model" => id.model = v.parse().ok(),
                "stepping" => id.stepping = v.parse().ok(),
                "model name" => id.model_name = v.to_owned(),
                "flags" => hypervisor = v.split_whitespace().any(|f| f == "hypervisor"),
                _ => {}
            }
        }
        (id, processors, hypervisor)
    }

    /// `family 0x1a model 0x02 stepping 1` for messages.
    pub fn signature(&self) -> String {
        let hex = |v: Option<u32>| v.map_or("?".to_owned(), |v| format!("{v:#x}"));
        format!(
            "{} family {} model {} stepping {}",
            if self.vendor.is_empty() {
                "unknown vendor"
            } else {
                &self.vendor
            },
            hex(self.family),
            hex(self.model),
            self.stepping.map_or("?".to_owned(), |s| s.to_string())
        )
    }
}

/// The cgroup v2 CPU limit of this process's cgroup (`cpu.max`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CgroupCpu {
    /// The directory holding `cpu.max` and `cpu.stat`.
    pub dir: PathBuf,
    /// CPUs the quota allows (quota / period); `None` for `max` (no quota).
    pub quota_cpus: Option<f64>,
    /// Whether `cpu.stat` holds `usage_usec`.
    pub usage_readable: bool,
}

/// Why the machine is taken to be a virtual machine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GuestSignal {
    /// What was seen, e.g. `hypervisor flag in /proc/cpuinfo`, `DMI sys_vendor "QEMU"`.
    pub signals: Vec<String>,
}

/// DMI strings that name a hypervisor or a cloud's virtual machine.
const DMI_GUEST_MARKS: &[&str] = &[
    "qemu",
    "kvm",
    "amazon ec2",
    "google",
    "microsoft corporation",
    "virtual machine",
    "vmware",
    "xen",
    "virtualbox",
    "innotek",
    "openstack",
    "bochs",
    "parallels",
    "hvm domu",
    "cloud hypervisor",
    "firecracker",
];

/// Everything read under the host root.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostFacts {
    /// The root the files were read under.
    pub root: PathBuf,
    /// The CPU.
    pub cpu: CpuId,
    /// Logical CPUs visible (processors in `/proc/cpuinfo`, at least 1).
    pub logical_cpus: usize,
    /// Total memory, bytes (`/proc/meminfo` MemTotal).
    pub memory_bytes: u64,
    /// The cgroup's `memory.max`, when it is a number.
    pub memory_limit_bytes: Option<u64>,
    /// Why this is a guest, or `None` on bare metal (as far as the signals tell).
    pub guest: Option<GuestSignal>,
    /// The cgroup v2 CPU controller, when `cpu.max` is readable.
    pub cgroup: Option<CgroupCpu>,
    /// Whether `/proc/stat` is readable.
    pub proc_stat_readable: bool,
}

fn read(root: &Path, rel: &str) -> Option<String> {
    std::fs::read_to_string(root.join(rel)).ok()
}

/// Parses `cpu.max`: `QUOTA PERIOD` → quota/period CPUs, `max PERIOD` → `None`.
pub fn parse_cpu_max(text: &str) -> Result<Option<f64>, String> {
    let mut it = text.split_whitespace();
    let (Some(q), Some(p)) = (it.next(), it.next()) else {
        return Err(format!("expected `QUOTA PERIOD`, found {:?}", text.trim()));
    };
    if q == "max" {
        return Ok(None);
    }
    match (q.parse::<f64>(), p.parse::<f64>()) {
        (Ok(q), Ok(p)) if q > 0.0 && p > 0.0 => Ok(Some(q / p)),
        _ => Err(format!("expected `QUOTA PERIOD`, found {:?}", text.trim())),
    }
}

impl HostFacts {
    /// Reads the facts under `root` (`/` on a real machine).
    pub fn read(root: &Path) -> HostFacts {
        let (cpu, processors, hypervisor) =
            CpuId::parse(&read(root, "proc/cpuinfo").unwrap_or_default());
        let memory_bytes = read(root, "proc/meminfo")
            .and_then(|m| {
                m.lines()
                    .find_map(|l| l.strip_prefix("MemTotal:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            })
            .map(|kb| kb * 1024)
            .unwrap_or(0);
        let mut signals = Vec::new();
        if hypervisor {
            signals.push("`hypervisor` flag in /proc/cpuinfo".to_owned());
        }
        for file in ["sys_vendor", "product_name"] {
            if let Some(v) = read(root, &format!("sys/class/dmi/id/{file}")) {
                let lower = v.trim().to_lowercase();
                if DMI_GUEST_MARKS.iter().any(|m| lower.contains(m)) {
                    signals.push(format!("DMI {file} {:?}", v.trim()));
                }
            }
        }
        let cg_dir = root.join("sys/fs/cgroup");
        let cgroup = read(root, "sys/fs/cgroup/cpu.max")
            .and_then(|t| parse_cpu_max(&t).ok())
            .map(|quota_cpus| CgroupCpu {
                quota_cpus,
                usage_readable: CgroupUsage::new(cg_dir.join("cpu.stat"))
                    .busy_seconds()
                    .is_ok(),
                dir: cg_dir.clone(),
            });
        let memory_limit_bytes =
            read(root, "sys/fs/cgroup/memory.max").and_then(|t| t.trim().parse::<u64>().ok());
        HostFacts {
            root: root.to_path_buf(),
            cpu,
            logical_cpus: processors.max(1),
            memory_bytes,
            memory_limit_bytes,
            guest: (!signals.is_empty()).then_some(GuestSignal { signals }),
            cgroup,
            proc_stat_readable: ProcStat::new(root.join("proc/stat"), 100.0)
                .busy_seconds()
                .is_ok(),
        }
    }

    /// The CPUs this process may use: the cgroup quota's when there is one, else the
    /// visible logical CPUs.
    pub fn vcpus(&self) -> f64 {
        self.cgroup
            .as_ref()
            .and_then(|c| c.quota_cpus)
            .unwrap_or(self.logical_cpus as f64)
    }

    /// Memory this process may use: the cgroup limit when lower than the total.
    pub fn memory_available_bytes(&self) -> u64 {
        match self.memory_limit_bytes {
            Some(l) if l < self.memory_bytes || self.memory_bytes == 0 => l,
            _ => self.memory_bytes,
        }
    }

    /// The busy-time counter the estimate uses: the cgroup's `usage_usec` when readable
    /// (only this container's work), else `/proc/stat` (the whole machine).
    pub fn cpu_time(&self) -> Option<Box<dyn CpuTime>> {
        match &self.cgroup {
            Some(c) if c.usage_readable => Some(Box::new(CgroupUsage::new(c.dir.join("cpu.stat")))),
            _ if self.proc_stat_readable => Some(Box::new(ProcStat::new(
                self.root.join("proc/stat"),
                user_hz(),
            ))),
            _ => None,
        }
    }
}

/// A cumulative counter of busy CPU time (CPU-seconds since an arbitrary origin). The
/// estimate's CPU energy is linear in it, so reading it at a window's edges gives the
/// window's energy exactly, with no sampling lag and nothing from before the window.
pub trait CpuTime: Send {
    /// Busy CPU-seconds so far (never decreasing on a sane system).
    fn busy_seconds(&mut self) -> Result<f64, ReadError>;
    /// Where the figure comes from, for the estimate's `detail`.
    fn describe(&self) -> String;
}

fn read_file(path: &Path) -> Result<String, ReadError> {
    std::fs::read_to_string(path).map_err(|e| ReadError::from_io(path.to_path_buf(), e))
}

/// Busy time of the whole machine from `/proc/stat`'s `cpu` line: the sum of user, nice,
/// system, irq and softirq (idle, iowait and steal are not this machine's work; guest
/// time is already inside user).
#[derive(Debug, Clone)]
pub struct ProcStat {
    path: PathBuf,
    hz: f64,
}

impl ProcStat {
    /// Reads `path` (a `/proc/stat`) with `hz` ticks per second.
    pub fn new(path: PathBuf, hz: f64) -> ProcStat {
        ProcStat { path, hz }
    }
}

impl CpuTime for ProcStat {
    fn busy_seconds(&mut self) -> Result<f64, ReadError> {
        let text = read_file(&self.path)?;
        let bad = || ReadError::Parse {
            path: self.path.clone(),
            content: text.lines().next().unwrap_or("").to_owned(),
        };
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some("cpu"))
            .ok_or_else(bad)?;
        let f: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .map(|x| x.parse::<u64>())
            .collect::<Result<_, _>>()
            .map_err(|_| bad())?;
        if f.len() < 4 {
            return Err(bad());
        }
        let at = |i: usize| f.get(i).copied().unwrap_or(0);
        // user nice system idle iowait irq softirq steal guest guest_nice
        let busy = at(0) + at(1) + at(2) + at(5) + at(6);
        Ok(busy as f64 / self.hz)
    }

    fn describe(&self) -> String {
        format!(
            "busy time of the whole machine from {} (user+nice+system+irq+softirq)",
            self.path.display()
        )
    }
}

/// Busy time of this cgroup from `cpu.stat` `usage_usec`.
#[derive(Debug, Clone)]
pub struct CgroupUsage {
    path: PathBuf,
}

impl CgroupUsage {
    /// Reads `path` (a cgroup v2 `cpu.stat`).
    pub fn new(path: PathBuf) -> CgroupUsage {
        CgroupUsage { path }
    }
}

impl CpuTime for CgroupUsage {
    fn busy_seconds(&mut self) -> Result<f64, ReadError> {
        let text = read_file(&self.path)?;
        text.lines()
            .find_map(|l| l.strip_prefix("usage_usec "))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|us| us as f64 / 1e6)
            .ok_or_else(|| ReadError::Parse {
                path: self.path.clone(),
                content: text.lines().next().unwrap_or("").to_owned(),
            })
    }

    fn describe(&self) -> String {
        format!(
            "this container's busy time from {} usage_usec",
            self.path.display()
        )
    }
}

/// How the microarchitecture was told from the CPU.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Microarch {
    /// `Zen 3`, `Cascade Lake`, ...
    pub name: &'static str,
    /// `amd` or `intel`.
    pub vendor: &'static str,
    /// E.g. `AuthenticAMD family 0x19 model 0x1 stepping 1 (Zen 3, Milan)`.
    pub how: String,
}

/// Microarchitectures per vendor, oldest first: a missing row in the data falls back to
/// the nearest older one.
pub const AMD_GENERATIONS: &[&str] = &["Zen", "Zen 2", "Zen 3", "Zen 4", "Zen 5"];
/// See [`AMD_GENERATIONS`]. Coffee Lake (desktop) is not in the server line.
pub const INTEL_GENERATIONS: &[&str] = &[
    "Sandy Bridge",
    "Ivy Bridge",
    "Haswell",
    "Broadwell",
    "Skylake",
    "Cascade Lake",
    "Ice Lake",
    "Sapphire Rapids",
    "Emerald Rapids",
    "Granite Rapids",
];

/// Tells the microarchitecture from vendor, family and model (the model name is not
/// needed: cloud guests often see just "AMD EPYC").
pub fn identify(cpu: &CpuId) -> Option<Microarch> {
    let (family, model) = (cpu.family?, cpu.model?);
    let (vendor, name, code) = match cpu.vendor.as_str() {
        "AuthenticAMD" => match (family, model) {
            (0x17, 0x00..=0x2f) => ("amd", "Zen", "Naples"),
            (0x17, _) => ("amd", "Zen 2", "Rome"),
            (0x19, 0x00..=0x0f) => ("amd", "Zen 3", "Milan"),
            (0x19, 0x10..=0x1f) | (0x19, 0xa0..=0xaf) => ("amd", "Zen 4", "Genoa/Bergamo"),
            (0x19, 0x20..=0x5f) => ("amd", "Zen 3", "client"),
            (0x19, 0x60..=0x7f) => ("amd", "Zen 4", "client"),
            (0x1a, _) => ("amd", "Zen 5", "Turin"),
            _ => return None,
        },
        "GenuineIntel" if family == 6 => match model {
            0x2a | 0x2d => ("intel", "Sandy Bridge", "E5/E3"),
            0x3a | 0x3e => ("intel", "Ivy Bridge", "E5 v2"),
            0x3c | 0x3f | 0x45 | 0x46 => ("intel", "Haswell", "E5 v3"),
            0x3d | 0x47 | 0x4f | 0x56 => ("intel", "Broadwell", "E5 v4"),
            0x55 if cpu.stepping.is_some_and(|s| s >= 5) => {
                ("intel", "Cascade Lake", "Xeon SP 2nd gen, stepping ≥ 5")
            }
            0x4e | 0x5e | 0x55 => ("intel", "Skylake", "Xeon SP 1st gen"),
            0x8e | 0x9e => ("intel", "Coffee Lake", "Kaby/Coffee Lake"),
            0x6a | 0x6c => ("intel", "Ice Lake", "Xeon SP 3rd gen"),
            0x8f => ("intel", "Sapphire Rapids", "Xeon SP 4th gen"),
            0xcf => ("intel", "Emerald Rapids", "Xeon SP 5th gen"),
            0xad | 0xae => ("intel", "Granite Rapids", "Xeon 6"),
            _ => return None,
        },
        _ => return None,
    };
    Some(Microarch {
        name,
        vendor,
        how: format!("{} ({name}, {code})", cpu.signature()),
    })
}

/// `amd` / `intel` from the vendor id, when it is one of those.
pub fn vendor_of(cpu: &CpuId) -> Option<&'static str> {
    match cpu.vendor.as_str() {
        "AuthenticAMD" => Some("amd"),
        "GenuineIntel" => Some("intel"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu(vendor: &str, family: u32, model: u32, stepping: u32) -> CpuId {
        CpuId {
            vendor: vendor.into(),
            family: Some(family),
            model: Some(model),
            stepping: Some(stepping),
            model_name: "x".into(),
        }
    }

    #[test]
    fn identifies_microarchitectures_from_family_and_model() {
        let amd = |f, m| identify(&cpu("AuthenticAMD", f, m, 0)).map(|u| u.name);
        assert_eq!(amd(0x17, 0x01), Some("Zen"));
        assert_eq!(amd(0x17, 0x08), Some("Zen"));
        assert_eq!(amd(0x17, 0x31), Some("Zen 2"));
        assert_eq!(amd(0x19, 0x01), Some("Zen 3"));
        assert_eq!(amd(0x19, 0x11), Some("Zen 4"));
        assert_eq!(amd(26, 2), Some("Zen 5"));
        assert_eq!(amd(0x15, 0x01), None);
        let intel = |m, s| identify(&cpu("GenuineIntel", 6, m, s)).map(|u| u.name);
        assert_eq!(intel(0x55, 4), Some("Skylake"));
        assert_eq!(intel(0x55, 7), Some("Cascade Lake"));
        assert_eq!(intel(0x6a, 6), Some("Ice Lake"));
        assert_eq!(intel(0x8f, 8), Some("Sapphire Rapids"));
        assert_eq!(intel(0xcf, 2), Some("Emerald Rapids"));
        assert_eq!(intel(0x4f, 1), Some("Broadwell"));
        assert_eq!(intel(0x3f, 2), Some("Haswell"));
        assert_eq!(intel(0x01, 0), None);
        assert!(identify(&cpu("HygonGenuine", 0x18, 1, 0)).is_none());
    }

    #[test]
    fn parses_cpuinfo_and_cpu_max() {
        let text = "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\nmodel name\t: AMD EPYC\nstepping\t: 1\nflags\t\t: fpu hypervisor avx\n\nprocessor\t: 1\nvendor_id\t: AuthenticAMD\nmodel\t\t: 9\n";
        let (id, n, hv) = CpuId::parse(text);
        assert_eq!((n, hv), (2, true));
        assert_eq!(
            (id.family, id.model, id.stepping),
            (Some(26), Some(2), Some(1))
        );
        assert_eq!(id.model_name, "AMD EPYC");
        assert_eq!(
            id.signature(),
            "AuthenticAMD family 0x1a model 0x2 stepping 1"
        );
        assert_eq!(parse_cpu_max("150000 100000\n"), Ok(Some(1.5)));
        assert_eq!(parse_cpu_max("max 100000\n"), Ok(None));
        assert!(parse_cpu_max("bogus").is_err());
    }
}
