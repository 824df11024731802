//! The labelled estimate used for CPU and DRAM when no RAPL package zone is
//! readable (most VMs and containers). Two CPU models, both linear in utilisation:
//!
//! * **Guest (VM)**, Cloud Carbon Footprint's method: W = vCPUs × (min + u × (max − min))
//!   with per-vCPU `min`/`max` watts of the CPU's microarchitecture from
//!   `data/cpu_vcpu_watts.csv` (SPECpower via cloud-carbon-coefficients); DRAM
//!   [`CCF_DRAM_W_PER_GIB`] × memory.
//! * **Bare metal**: W = TDP × share × u with the TDP from `data/cpu_tdp.csv`, share =
//!   vCPUs / the chip's threads (1 when unknown); an unknown CPU gets
//!   [`UNKNOWN_CPU_TDP_W`] (CodeCarbon's default) with share 1; DRAM [`DRAM_W_PER_GIB`]
//!   × memory.
//!
//! u = busy CPU-seconds / (vCPUs × seconds), vCPUs = the cgroup quota's CPUs or the
//! visible logical CPUs. Since W is linear in u, the energy over any interval is
//! `idle_w × seconds + w_per_busy_cpu × busy CPU-seconds`: the source reads a busy-time
//! counter ([`CpuTime`]: `/proc/stat`, or the cgroup's `cpu.stat`) at every read, so a
//! window's energy is exact at its edges, with no sampling lag and nothing from before
//! the window (the meter's own start-up included).
//!
//! Every figure is a range: low and high curves from the spread of the data (10th and
//! 90th percentiles of the SPECpower servers of the microarchitecture) or ±
//! [`RANGE_FACTOR`] for the TDP paths and memory.

use crate::domain::{DomainInfo, DomainKind, Method};
use crate::host::{identify, vendor_of, CpuTime, GuestSignal, HostFacts, Microarch};
use crate::source::{EnergySource, ReadError};
use anyhow::{bail, Context};
use serde::Serialize;
use std::time::Instant;

/// CodeCarbon's power for a CPU missing from its table (`POWER_CONSTANT = 85` in
/// codecarbon/external/hardware.py).
pub const UNKNOWN_CPU_TDP_W: f64 = 85.0;

/// CodeCarbon v2's memory rule, 3 W per 8 GB (GB = 2^30 bytes there), i.e. 0.375 W
/// per GiB (docs/explanation/methodology.md: "CodeCarbon v2 uses a 3 Watts for 8 GB
/// ratio").
pub const DRAM_W_PER_GIB: f64 = 3.0 / 8.0;

const BUILTIN_TDP_CSV: &str = include_str!("../data/cpu_tdp.csv");

/// One row of the TDP table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TdpRow {
    /// The model-name token it matches.
    pub pattern: String,
    /// TDP per chip, watts.
    pub tdp_w: f64,
    /// Hardware threads per chip, when known.
    pub threads: Option<u32>,
    /// The vendor document the figures come from.
    pub source: String,
    /// Line in the CSV file (1-based), for messages.
    pub line: u64,
}

/// The CPU TDP table.
#[derive(Debug, Clone)]
pub struct TdpTable {
    rows: Vec<TdpRow>,
}

/// Lower-cases and drops "(R)", "(TM)", "®", "™" and repeated whitespace.
fn normalise(s: &str) -> String {
    let lower = s.to_lowercase();
    let cleaned = lower
        .replace("(r)", " ")
        .replace("(tm)", " ")
        .replace(['®', '™'], " ");
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `needle` occurs in `hay` as a whole token (no letter/digit either side).
fn contains_token(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    let bytes = hay.as_bytes();
    let mut from = 0;
    while let Some(pos) = hay[from..].find(needle) {
        let start = from + pos;
        let end = start + needle.len();
        let before_ok = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
        let after_ok = end == hay.len() || !bytes[end].is_ascii_alphanumeric();
        if before_ok && after_ok {
            return true;
        }
        from = start + 1;
        while !hay.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

impl TdpTable {
    /// The table shipped in `crates/meter/data/cpu_tdp.csv`.
    pub fn builtin() -> TdpTable {
        TdpTable::parse(BUILTIN_TDP_CSV, "crates/meter/data/cpu_tdp.csv")
            .expect("the shipped cpu_tdp.csv is checked by a unit test")
    }

    /// Parses a table: `pattern,tdp_w,threads,source`, `#` comments; `origin` names
    /// the file in errors.
    pub fn parse(text: &str, origin: &str) -> anyhow::Result<TdpTable> {
        let expected = ["pattern", "tdp_w", "threads", "source"];
        let mut rdr = crate::csv_table::reader(text, origin, &expected)?;
        let mut rows = Vec::new();
        for rec in rdr.records() {
            let rec = rec.with_context(|| format!("{origin}: malformed CSV"))?;
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            let at = |field: &str| format!("{origin}:{line}: field `{field}`");
            let pattern = rec[0].to_owned();
            if normalise(&pattern).is_empty() {
                bail!("{}: empty pattern", at("pattern"));
            }
            let tdp_w: f64 = rec[1]
                .parse()
                .with_context(|| format!("{}: {:?} is not a number", at("tdp_w"), &rec[1]))?;
            if !(tdp_w.is_finite() && tdp_w > 0.0) {
                bail!("{}: must be a positive number of watts", at("tdp_w"));
            }
            let threads = if rec[2].is_empty() {
                None
            } else {
                let t: u32 = rec[2].parse().with_context(|| {
                    format!("{}: {:?} is not a whole number", at("threads"), &rec[2])
                })?;
                if t == 0 {
                    bail!("{}: must be at least 1", at("threads"));
                }
                Some(t)
            };
            if rec[3].is_empty() {
                bail!("{}: every row must name its source document", at("source"));
            }
            rows.push(TdpRow {
                pattern,
                tdp_w,
                threads,
                source: rec[3].to_owned(),
                line,
            });
        }
        Ok(TdpTable { rows })
    }

    /// All rows.
    pub fn rows(&self) -> &[TdpRow] {
        &self.rows
    }

    /// The row whose pattern matches `model_name` as a whole token; the longest
    /// pattern wins.
    pub fn lookup(&self, model_name: &str) -> Option<&TdpRow> {
        let hay = normalise(model_name);
        self.rows
            .iter()
            .filter(|r| contains_token(&hay, &normalise(&r.pattern)))
            .max_by_key(|r| normalise(&r.pattern).len())
    }
}

/// Cloud Carbon Footprint's memory coefficient, 0.392 W per GB (`MEMORY_COEFFICIENT =
/// 0.000392 # kWh / Gb` in cloud-carbon-coefficients' coefficients.ipynb, citing
/// cloudcarbonfootprint.org/docs/methodology#memory), applied like CCF to memory sizes
/// quoted in GiB.
pub const CCF_DRAM_W_PER_GIB: f64 = 0.392;

/// The documented ± factor for figures without a data spread (TDP table, unknown CPU,
/// memory): low = (1 − f) × central, high = (1 + f) × central.
pub const RANGE_FACTOR: f64 = 0.5;

const BUILTIN_VCPU_CSV: &str = include_str!("../data/cpu_vcpu_watts.csv");

/// One row of the per-vCPU watts table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VcpuWattsRow {
    /// `Zen 3`, `Cascade Lake`, ...
    pub microarch: String,
    /// `amd` or `intel`.
    pub vendor: String,
    /// Mean watts per vCPU at idle.
    pub min_w: f64,
    /// Mean watts per vCPU at 100 %.
    pub max_w: f64,
    /// 10th percentile (idle, 100 %): the low curve.
    pub low: (f64, f64),
    /// 90th percentile (idle, 100 %): the high curve.
    pub high: (f64, f64),
    /// SPECpower results behind the row.
    pub servers: u32,
    /// CCF's name for it.
    pub ccf_architecture: String,
    /// Line in the CSV file (1-based).
    pub line: u64,
}

/// The per-vCPU watts table (`data/cpu_vcpu_watts.csv`).
#[derive(Debug, Clone)]
pub struct VcpuWattsTable {
    rows: Vec<VcpuWattsRow>,
}

impl VcpuWattsTable {
    /// The table shipped in `crates/meter/data/cpu_vcpu_watts.csv`.
    pub fn builtin() -> VcpuWattsTable {
        VcpuWattsTable::parse(BUILTIN_VCPU_CSV, "crates/meter/data/cpu_vcpu_watts.csv")
            .expect("the shipped cpu_vcpu_watts.csv is checked by a unit test")
    }

    /// Parses a table (header `microarchitecture,vendor,min_w,max_w,min_w_p10,max_w_p10,
    /// min_w_p90,max_w_p90,servers,ccf_architecture`, `#` comments).
    pub fn parse(text: &str, origin: &str) -> anyhow::Result<VcpuWattsTable> {
        let expected = [
            "microarchitecture",
            "vendor",
            "min_w",
            "max_w",
            "min_w_p10",
            "max_w_p10",
            "min_w_p90",
            "max_w_p90",
            "servers",
            "ccf_architecture",
        ];
        let mut rdr = crate::csv_table::reader(text, origin, &expected)?;
        let mut rows = Vec::new();
        for rec in rdr.records() {
            let rec = rec.with_context(|| format!("{origin}: malformed CSV"))?;
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            let num = |i: usize| -> anyhow::Result<f64> {
                let v: f64 = rec[i].parse().with_context(|| {
                    format!(
                        "{origin}:{line}: field `{}`: {:?} is not a number",
                        expected[i], &rec[i]
                    )
                })?;
                if !(v.is_finite() && v > 0.0) {
                    bail!("{origin}:{line}: field `{}` must be positive", expected[i]);
                }
                Ok(v)
            };
            let row = VcpuWattsRow {
                microarch: rec[0].to_owned(),
                vendor: rec[1].to_owned(),
                min_w: num(2)?,
                max_w: num(3)?,
                low: (num(4)?, num(5)?),
                high: (num(6)?, num(7)?),
                servers: rec[8]
                    .parse()
                    .with_context(|| format!("{origin}:{line}: field `servers`"))?,
                ccf_architecture: rec[9].to_owned(),
                line,
            };
            for (lo, hi) in [(row.min_w, row.max_w), row.low, row.high] {
                if lo >= hi {
                    bail!("{origin}:{line}: idle watts must be below full-load watts");
                }
            }
            let within = |lo: f64, x: f64, hi: f64| lo <= x && x <= hi;
            if !(within(row.low.0, row.min_w, row.high.0)
                && within(row.low.1, row.max_w, row.high.1))
            {
                bail!("{origin}:{line}: the mean must lie between the p10 and p90 figures");
            }
            rows.push(row);
        }
        Ok(VcpuWattsTable { rows })
    }

    /// All rows.
    pub fn rows(&self) -> &[VcpuWattsRow] {
        &self.rows
    }

    /// The row for `microarch`, or the nearest older one of the same vendor (then also
    /// returns that the row stands in for a newer one).
    pub fn resolve(&self, m: &Microarch) -> Option<&VcpuWattsRow> {
        let find = |name: &str| self.rows.iter().find(|r| r.microarch == name);
        if let Some(r) = find(m.name) {
            return Some(r);
        }
        let order = match m.vendor {
            "amd" => crate::host::AMD_GENERATIONS,
            _ => crate::host::INTEL_GENERATIONS,
        };
        let pos = order.iter().position(|n| *n == m.name)?;
        order[..pos].iter().rev().find_map(|n| find(n))
    }
}

/// A CPU power curve linear in busy CPUs: W = `idle_w` + `w_per_busy_cpu` × busy CPUs
/// (busy CPUs = u × vCPUs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Linear {
    /// Watts at zero utilisation.
    pub idle_w: f64,
    /// Watts added per fully busy CPU.
    pub w_per_busy_cpu: f64,
}

impl Linear {
    /// Joules over `seconds` with `busy_cpu_seconds` of CPU work.
    pub fn joules(&self, seconds: f64, busy_cpu_seconds: f64) -> f64 {
        self.idle_w * seconds + self.w_per_busy_cpu * busy_cpu_seconds
    }

    fn scaled(&self, f: f64) -> Linear {
        Linear {
            idle_w: self.idle_w * f,
            w_per_busy_cpu: self.w_per_busy_cpu * f,
        }
    }
}

/// Where the TDP figure came from (bare metal).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "from")]
pub enum TdpOrigin {
    /// A row of the TDP table.
    Table {
        /// The row.
        row: TdpRow,
    },
    /// CodeCarbon's unknown-CPU default.
    UnknownCpu,
    /// The user's `--cpu-tdp-watts`.
    Override,
}

/// Where per-vCPU watts came from (guests).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "from")]
pub enum VcpuOrigin {
    /// The row of the identified microarchitecture, or of the nearest older one.
    Table {
        /// The row used.
        row: VcpuWattsRow,
        /// The microarchitecture identified, when the row stands in for it.
        #[serde(skip_serializing_if = "Option::is_none")]
        stands_in_for: Option<String>,
    },
    /// The microarchitecture is unknown: the mean of the rows of `vendor` (all rows
    /// when the vendor is unknown too); the range spans those rows' means.
    Average {
        /// `amd`, `intel`, or `None` for every row.
        vendor: Option<String>,
        /// The rows averaged.
        microarchs: Vec<String>,
    },
    /// The user's `--cpu-watts-per-vcpu`.
    Override,
}

/// The CPU model chosen.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "model")]
pub enum CpuModel {
    /// W = vCPUs × (min + u × (max − min)) (Cloud Carbon Footprint).
    PerVcpu {
        /// Watts per vCPU at idle.
        min_w: f64,
        /// Watts per vCPU at 100 %.
        max_w: f64,
        /// Where the figures came from.
        origin: VcpuOrigin,
    },
    /// W = TDP × share × u (CodeCarbon-style).
    Tdp {
        /// TDP per chip (or the override), watts.
        tdp_w: f64,
        /// vCPUs / chip threads, or 1.
        share: f64,
        /// Where `tdp_w` came from.
        origin: TdpOrigin,
    },
}

/// The user's overrides of the estimate's CPU figures.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CpuOverrides {
    /// `--cpu-tdp-watts`: the TDP model with this figure, share 1.
    pub tdp_watts: Option<f64>,
    /// `--cpu-watts-per-vcpu MIN,MAX`: the per-vCPU model with these figures.
    pub watts_per_vcpu: Option<(f64, f64)>,
}

impl CpuOverrides {
    /// Checks the values a user can get wrong.
    pub fn validate(&self) -> anyhow::Result<()> {
        if let Some(w) = self.tdp_watts {
            if !(w.is_finite() && w > 0.0) {
                bail!("--cpu-tdp-watts must be a positive number of watts, got {w}");
            }
        }
        if let Some((lo, hi)) = self.watts_per_vcpu {
            if !(lo.is_finite() && hi.is_finite() && lo >= 0.0 && hi > 0.0 && lo <= hi) {
                bail!("--cpu-watts-per-vcpu MIN,MAX needs 0 <= MIN <= MAX watts, got {lo},{hi}");
            }
        }
        if self.tdp_watts.is_some() && self.watts_per_vcpu.is_some() {
            bail!("--cpu-tdp-watts and --cpu-watts-per-vcpu choose different models; give one");
        }
        Ok(())
    }
}

/// The estimate's parameters, resolved for one machine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EstimateModel {
    /// The CPU model name as the OS reports it.
    pub cpu_model: String,
    /// Vendor, family, model, stepping.
    pub cpu_signature: String,
    /// Logical CPUs this machine sees.
    pub logical_cpus: usize,
    /// The cgroup quota's CPUs, when there is a quota.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota_cpus: Option<f64>,
    /// CPUs the work may use: `quota_cpus`, else `logical_cpus`.
    pub vcpus: f64,
    /// Why this is taken to be a virtual machine (`None`: no signal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guest: Option<GuestSignal>,
    /// The microarchitecture and how it was told, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub microarch: Option<Microarch>,
    /// The model and its figures.
    pub cpu: CpuModel,
    /// The central CPU curve.
    pub cpu_curve: Linear,
    /// The low and high CPU curves.
    pub cpu_range: [Linear; 2],
    /// How the range was made.
    pub range_rule: String,
    /// Where busy CPU time is read (set when the source is built).
    pub busy_time: String,
    /// Memory counted, GiB (the cgroup limit when lower than the total).
    pub memory_gib: f64,
    /// W per GiB of memory.
    pub dram_w_per_gib: f64,
    /// Constant DRAM power, watts.
    pub dram_w: f64,
    /// Low and high DRAM power, watts.
    pub dram_range: [f64; 2],
}

fn per_vcpu_curves(
    vcpus: f64,
    central: (f64, f64),
    low: (f64, f64),
    high: (f64, f64),
) -> [Linear; 3] {
    let curve = |(min, max): (f64, f64)| Linear {
        idle_w: vcpus * min,
        w_per_busy_cpu: max - min,
    };
    [curve(central), curve(low), curve(high)]
}

impl EstimateModel {
    /// Resolves the model for the machine `facts` describe.
    pub fn resolve(
        facts: &HostFacts,
        overrides: &CpuOverrides,
        tdp_table: &TdpTable,
        vcpu_table: &VcpuWattsTable,
    ) -> anyhow::Result<EstimateModel> {
        overrides.validate()?;
        let vcpus = facts.vcpus().max(0.01);
        let microarch = identify(&facts.cpu);
        let pct = RANGE_FACTOR * 100.0;
        let (cpu, [central, low, high], range_rule) = if let Some((min, max)) =
            overrides.watts_per_vcpu
        {
            (
                CpuModel::PerVcpu {
                    min_w: min,
                    max_w: max,
                    origin: VcpuOrigin::Override,
                },
                per_vcpu_curves(vcpus, (min, max), (min, max), (min, max)),
                "none: figures given by --cpu-watts-per-vcpu".to_owned(),
            )
        } else if let Some(w) = overrides.tdp_watts {
            let c = Linear {
                idle_w: 0.0,
                w_per_busy_cpu: w / vcpus,
            };
            (
                CpuModel::Tdp {
                    tdp_w: w,
                    share: 1.0,
                    origin: TdpOrigin::Override,
                },
                [c, c, c],
                "none: figure given by --cpu-tdp-watts".to_owned(),
            )
        } else if facts.guest.is_some() {
            match microarch
                .as_ref()
                .and_then(|m| vcpu_table.resolve(m).map(|r| (m, r)))
            {
                Some((m, row)) => (
                    CpuModel::PerVcpu {
                        min_w: row.min_w,
                        max_w: row.max_w,
                        origin: VcpuOrigin::Table {
                            row: row.clone(),
                            stands_in_for: (row.microarch != m.name).then(|| m.name.to_owned()),
                        },
                    },
                    per_vcpu_curves(vcpus, (row.min_w, row.max_w), row.low, row.high),
                    format!(
                        "10th–90th percentile of the {} SPECpower servers behind the {} row",
                        row.servers, row.microarch
                    ),
                ),
                None => {
                    let vendor = vendor_of(&facts.cpu);
                    let rows: Vec<&VcpuWattsRow> = vcpu_table
                        .rows()
                        .iter()
                        .filter(|r| vendor.is_none_or(|v| r.vendor == v))
                        .collect();
                    if rows.is_empty() {
                        bail!("the per-vCPU watts table has no rows");
                    }
                    let n = rows.len() as f64;
                    let mean = (
                        rows.iter().map(|r| r.min_w).sum::<f64>() / n,
                        rows.iter().map(|r| r.max_w).sum::<f64>() / n,
                    );
                    let fold =
                        |f: fn(f64, f64) -> f64, init: f64, pick: fn(&VcpuWattsRow) -> f64| {
                            rows.iter().map(|r| pick(r)).fold(init, f)
                        };
                    let low = (
                        fold(f64::min, f64::INFINITY, |r| r.min_w),
                        fold(f64::min, f64::INFINITY, |r| r.max_w),
                    );
                    let high = (
                        fold(f64::max, 0.0, |r| r.min_w),
                        fold(f64::max, 0.0, |r| r.max_w),
                    );
                    (
                        CpuModel::PerVcpu {
                            min_w: mean.0,
                            max_w: mean.1,
                            origin: VcpuOrigin::Average {
                                vendor: vendor.map(str::to_owned),
                                microarchs: rows.iter().map(|r| r.microarch.clone()).collect(),
                            },
                        },
                        per_vcpu_curves(vcpus, mean, low, high),
                        "the lowest and highest per-microarchitecture means averaged".to_owned(),
                    )
                }
            }
        } else {
            let (tdp_w, share, origin, per_cpu) = match tdp_table.lookup(&facts.cpu.model_name) {
                Some(row) => match row.threads {
                    Some(t) => (
                        row.tdp_w,
                        vcpus / f64::from(t),
                        TdpOrigin::Table { row: row.clone() },
                        row.tdp_w / f64::from(t),
                    ),
                    None => (
                        row.tdp_w,
                        1.0,
                        TdpOrigin::Table { row: row.clone() },
                        row.tdp_w / vcpus,
                    ),
                },
                None => (
                    UNKNOWN_CPU_TDP_W,
                    1.0,
                    TdpOrigin::UnknownCpu,
                    UNKNOWN_CPU_TDP_W / vcpus,
                ),
            };
            let c = Linear {
                idle_w: 0.0,
                w_per_busy_cpu: per_cpu,
            };
            (
                CpuModel::Tdp {
                    tdp_w,
                    share,
                    origin,
                },
                [
                    c,
                    c.scaled(1.0 - RANGE_FACTOR),
                    c.scaled(1.0 + RANGE_FACTOR),
                ],
                format!("±{pct:.0} % of the TDP figure (no data spread)"),
            )
        };
        let memory_gib = facts.memory_available_bytes() as f64 / (1u64 << 30) as f64;
        let dram_w_per_gib = if matches!(cpu, CpuModel::PerVcpu { .. }) {
            CCF_DRAM_W_PER_GIB
        } else {
            DRAM_W_PER_GIB
        };
        let dram_w = dram_w_per_gib * memory_gib;
        Ok(EstimateModel {
            cpu_model: facts.cpu.model_name.clone(),
            cpu_signature: facts.cpu.signature(),
            logical_cpus: facts.logical_cpus,
            quota_cpus: facts.cgroup.as_ref().and_then(|c| c.quota_cpus),
            vcpus,
            guest: facts.guest.clone(),
            microarch,
            cpu,
            cpu_curve: central,
            cpu_range: [low, high],
            range_rule,
            busy_time: String::new(),
            memory_gib,
            dram_w_per_gib,
            dram_w,
            dram_range: [dram_w * (1.0 - RANGE_FACTOR), dram_w * (1.0 + RANGE_FACTOR)],
        })
    }

    /// CPU power at utilisation `u` (0..1, clamped) on the central curve.
    pub fn cpu_watts(&self, u: f64) -> f64 {
        let u = if u.is_finite() {
            u.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.cpu_curve.idle_w + self.cpu_curve.w_per_busy_cpu * u * self.vcpus
    }

    /// CPU power at utilisation `u` on the low and high curves.
    pub fn cpu_watts_range(&self, u: f64) -> [f64; 2] {
        let u = if u.is_finite() {
            u.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.cpu_range
            .map(|c| c.idle_w + c.w_per_busy_cpu * u * self.vcpus)
    }

    /// Why this model: guest or not and the signal, microarchitecture, vCPUs and quota.
    pub fn why(&self) -> String {
        let guest = match &self.guest {
            Some(g) => format!("virtual machine ({})", g.signals.join("; ")),
            None => "no virtual-machine signal (bare metal, as far as /proc/cpuinfo and DMI tell)"
                .to_owned(),
        };
        let ua = match &self.microarch {
            Some(m) => format!("microarchitecture {} from {}", m.name, m.how),
            None => format!("microarchitecture unknown ({})", self.cpu_signature),
        };
        let vcpus = match self.quota_cpus {
            Some(q) => format!(
                "{q} vCPUs from the cgroup CPU quota ({} logical CPUs visible)",
                self.logical_cpus
            ),
            None => format!(
                "{} vCPUs (visible logical CPUs, no cgroup CPU quota)",
                self.vcpus
            ),
        };
        format!("{guest}; {ua}; {vcpus}")
    }

    /// How the CPU figure is derived, for the domain's `detail`.
    pub fn cpu_detail(&self) -> String {
        let [lo, hi] = self.cpu_range;
        let formula = match &self.cpu {
            CpuModel::PerVcpu {
                min_w,
                max_w,
                origin,
            } => {
                let from = match origin {
                    VcpuOrigin::Table { row, stands_in_for } => {
                        let stand = stands_in_for.as_ref().map_or(String::new(), |m| {
                            format!(
                                " ({m} is not in the data: the nearest older {} row stands in)",
                                row.microarch
                            )
                        });
                        format!(
                            "cpu_vcpu_watts.csv line {} ({}, CCF {:?}, mean of {} SPECpower servers){stand}",
                            row.line, row.microarch, row.ccf_architecture, row.servers
                        )
                    }
                    VcpuOrigin::Average { vendor, microarchs } => format!(
                        "microarchitecture unknown: mean of the {} rows ({})",
                        vendor.as_deref().unwrap_or("all"),
                        microarchs.join(", ")
                    ),
                    VcpuOrigin::Override => "given by --cpu-watts-per-vcpu".to_owned(),
                };
                format!(
                    "estimated (Cloud Carbon Footprint): {:.3} vCPUs × ({min_w:.4} + u × ({max_w:.4} − {min_w:.4})) W per vCPU, {from}",
                    self.vcpus
                )
            }
            CpuModel::Tdp {
                tdp_w,
                share,
                origin,
            } => {
                let from = match origin {
                    TdpOrigin::Table { row } => format!(
                        "TDP {} W from cpu_tdp.csv line {} ({:?}; {})",
                        row.tdp_w, row.line, row.pattern, row.source
                    ),
                    TdpOrigin::UnknownCpu => format!(
                        "TDP {UNKNOWN_CPU_TDP_W} W: CPU {:?} is not in cpu_tdp.csv, so CodeCarbon's unknown-CPU default",
                        self.cpu_model
                    ),
                    TdpOrigin::Override => format!("TDP {tdp_w} W given by --cpu-tdp-watts"),
                };
                format!("estimated: {from} × share {share:.4} × u")
            }
        };
        format!(
            "{formula}; u = {}; {:.2}–{:.2} W idle..full (range {:.2}–{:.2} W at full load: {})",
            if self.busy_time.is_empty() {
                "busy CPU time / (vCPUs × time)".to_owned()
            } else {
                format!("{} / (vCPUs × time)", self.busy_time)
            },
            self.cpu_watts(0.0),
            self.cpu_watts(1.0),
            lo.idle_w + lo.w_per_busy_cpu * self.vcpus,
            hi.idle_w + hi.w_per_busy_cpu * self.vcpus,
            self.range_rule
        )
    }

    /// How the DRAM figure is derived, for the domain's `detail`.
    pub fn dram_detail(&self) -> String {
        let rule = if self.dram_w_per_gib == CCF_DRAM_W_PER_GIB {
            "Cloud Carbon Footprint's 0.392 W/GB"
        } else {
            "CodeCarbon v2: 3 W per 8 GB"
        };
        format!(
            "estimated: {} W/GiB ({rule}) × {:.2} GiB memory = {:.2} W, constant (range {:.2}–{:.2} W: ±{:.0} %)",
            self.dram_w_per_gib,
            self.memory_gib,
            self.dram_w,
            self.dram_range[0],
            self.dram_range[1],
            RANGE_FACTOR * 100.0
        )
    }
}

/// [`CpuTime`] from `sysinfo` where `/proc/stat` is absent (not Linux): accumulates
/// utilisation × elapsed × CPUs between refreshes (≥ 200 ms apart; reads in between
/// extrapolate the last utilisation).
pub struct SysinfoCpuTime {
    sys: sysinfo::System,
    cpus: f64,
    last: Instant,
    last_u: f64,
    busy: f64,
}

impl SysinfoCpuTime {
    /// Starts counting now (the first refresh is a baseline, not a figure).
    pub fn new() -> anyhow::Result<SysinfoCpuTime> {
        let mut sys =
            sysinfo::System::new().map_err(|e| anyhow::anyhow!("sysinfo cannot start: {e:?}"))?;
        sys.refresh_cpu_usage();
        let cpus = sys.cpus().len().max(1) as f64;
        Ok(SysinfoCpuTime {
            sys,
            cpus,
            last: Instant::now(),
            last_u: 0.0,
            busy: 0.0,
        })
    }
}

impl CpuTime for SysinfoCpuTime {
    fn busy_seconds(&mut self) -> Result<f64, ReadError> {
        let now = Instant::now();
        let dt = now.duration_since(self.last);
        if dt >= sysinfo::MINIMUM_CPU_UPDATE_INTERVAL {
            self.sys.refresh_cpu_usage();
            self.last_u = (f64::from(self.sys.global_cpu_usage()) / 100.0).clamp(0.0, 1.0);
            self.busy += self.last_u * dt.as_secs_f64() * self.cpus;
            self.last = now;
            Ok(self.busy)
        } else {
            Ok(self.busy + self.last_u * dt.as_secs_f64() * self.cpus)
        }
    }

    fn describe(&self) -> String {
        "sysinfo's global CPU usage × time (no /proc/stat)".to_owned()
    }
}

/// The estimate source: two domains, `cpu` (cpu-package) and `dram`, both
/// `estimated`, each with a low–high range.
pub struct EstimateSource {
    model: EstimateModel,
    cpu_time: Box<dyn CpuTime>,
    domains: Vec<DomainInfo>,
    start: Instant,
    busy0: Option<f64>,
    busy_last: f64,
    range: Vec<Option<(f64, f64)>>,
}

impl EstimateSource {
    /// A source using `model` and the busy-time counter `cpu_time`, starting now: the
    /// counter's current value is the baseline (nothing before now is counted).
    pub fn new(model: EstimateModel, cpu_time: Box<dyn CpuTime>) -> EstimateSource {
        EstimateSource::new_at(model, cpu_time, Instant::now())
    }

    /// As [`EstimateSource::new`], with an explicit start instant (tests).
    pub fn new_at(
        mut model: EstimateModel,
        mut cpu_time: Box<dyn CpuTime>,
        now: Instant,
    ) -> EstimateSource {
        model.busy_time = cpu_time.describe();
        let domains = vec![
            DomainInfo {
                source: "estimate".into(),
                name: "cpu".into(),
                kind: DomainKind::CpuPackage,
                method: Method::Estimated,
                detail: Some(model.cpu_detail()),
            },
            DomainInfo {
                source: "estimate".into(),
                name: "dram".into(),
                kind: DomainKind::Dram,
                method: Method::Estimated,
                detail: Some(model.dram_detail()),
            },
        ];
        let busy0 = cpu_time.busy_seconds().ok();
        EstimateSource {
            model,
            cpu_time,
            domains,
            start: now,
            busy0,
            busy_last: 0.0,
            range: vec![Some((0.0, 0.0)); 2],
        }
    }

    /// This machine: facts read under `root` (`/` normally), the built-in tables, the
    /// overrides.
    pub fn detect(
        root: &std::path::Path,
        overrides: &CpuOverrides,
    ) -> anyhow::Result<EstimateSource> {
        let mut facts = HostFacts::read(root);
        if facts.memory_bytes == 0 {
            facts.memory_bytes = sysinfo_memory();
        }
        let model = EstimateModel::resolve(
            &facts,
            overrides,
            &TdpTable::builtin(),
            &VcpuWattsTable::builtin(),
        )?;
        let cpu_time: Box<dyn CpuTime> = match facts.cpu_time() {
            Some(t) => t,
            None => Box::new(SysinfoCpuTime::new()?),
        };
        Ok(EstimateSource::new(model, cpu_time))
    }

    /// The resolved model.
    pub fn model(&self) -> &EstimateModel {
        &self.model
    }

    /// Busy CPU-seconds since the start, clamped to vCPUs × elapsed.
    fn busy_at(&mut self, elapsed: f64) -> Result<f64, ReadError> {
        let raw = self.cpu_time.busy_seconds()?;
        let base = *self.busy0.get_or_insert(raw);
        let busy = (raw - base).max(0.0).min(self.model.vcpus * elapsed);
        self.busy_last = self.busy_last.max(busy);
        Ok(self.busy_last)
    }

    /// Cumulative joules (cpu, dram) at `now` on the central curve, and the (low, high)
    /// pairs.
    pub fn energy_at(&mut self, now: Instant) -> Result<[f64; 2], ReadError> {
        let t = now.saturating_duration_since(self.start).as_secs_f64();
        let busy = self.busy_at(t)?;
        let m = &self.model;
        let [lo, hi] = m.cpu_range;
        self.range = vec![
            Some((lo.joules(t, busy), hi.joules(t, busy))),
            Some((m.dram_range[0] * t, m.dram_range[1] * t)),
        ];
        Ok([m.cpu_curve.joules(t, busy), m.dram_w * t])
    }
}

fn sysinfo_memory() -> u64 {
    use sysinfo::{MemoryRefreshKind, RefreshKind};
    sysinfo::System::new_with_specifics(
        RefreshKind::nothing().with_memory(MemoryRefreshKind::nothing().with_ram()),
    )
    .map(|s| s.total_memory())
    .unwrap_or(0)
}

impl EnergySource for EstimateSource {
    fn name(&self) -> &str {
        "estimate"
    }

    fn domains(&self) -> &[DomainInfo] {
        &self.domains
    }

    fn read(&mut self) -> Result<Vec<f64>, ReadError> {
        Ok(self.energy_at(Instant::now())?.to_vec())
    }

    fn read_range(&self) -> Vec<Option<(f64, f64)>> {
        self.range.clone()
    }

    fn notes(&self) -> Vec<String> {
        let m = &self.model;
        let cpu = match &m.cpu {
            CpuModel::PerVcpu { min_w, max_w, .. } => format!(
                "cpu = {:.3} vCPUs × ({min_w:.3} + u × ({max_w:.3} − {min_w:.3})) W (Cloud Carbon Footprint per-vCPU model)",
                m.vcpus
            ),
            CpuModel::Tdp { tdp_w, share, origin } => {
                let from = match origin {
                    TdpOrigin::Table { row } => format!("cpu_tdp.csv {:?}", row.pattern),
                    TdpOrigin::UnknownCpu => "unknown-CPU default".to_owned(),
                    TdpOrigin::Override => "--cpu-tdp-watts".to_owned(),
                };
                format!("cpu = {tdp_w} W ({from}) × share {share:.4} × utilisation")
            }
        };
        vec![format!(
            "CPU and DRAM energy are estimated, not measured: {cpu}; dram = {:.2} W constant; every estimated figure carries a low–high range ({}; memory ±{:.0} %). Why: {}",
            m.dram_w,
            m.range_rule,
            RANGE_FACTOR * 100.0,
            m.why()
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_parses_and_matches_whole_tokens() {
        let t = TdpTable::builtin();
        assert!(t.rows().len() >= 20);
        let r = t.lookup("AMD EPYC 7763 64-Core Processor").unwrap();
        assert_eq!((r.tdp_w, r.threads), (280.0, Some(128)));
        let r = t
            .lookup("Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz")
            .unwrap();
        assert_eq!(r.tdp_w, 270.0);
        let r = t
            .lookup("Intel(R) Xeon(R) CPU E5-2699 v4 @ 2.20GHz")
            .unwrap();
        assert_eq!(r.tdp_w, 145.0);
        let r = t.lookup("13th Gen Intel(R) Core(TM) i9-13900K").unwrap();
        assert_eq!(r.threads, Some(32));
        let r = t.lookup("Intel(R) Xeon(R) Platinum 8480+").unwrap();
        assert_eq!(r.tdp_w, 350.0);
        // Not a whole-token match, or too vague: unknown.
        assert!(t.lookup("12th Gen Intel(R) Core(TM) i9-12900KS").is_none());
        assert!(t.lookup("AMD EPYC").is_none());
        assert!(t.lookup("AMD EPYC 77631").is_none());
    }

    #[test]
    fn bad_table_rows_name_file_line_field() {
        let text = "pattern,tdp_w,threads,source\nFoo 1,95,8,doc\nFoo 2,lots,8,doc\n";
        let e = TdpTable::parse(text, "x.csv").unwrap_err();
        let msg = format!("{e:#}");
        assert!(msg.contains("x.csv:3") && msg.contains("tdp_w"), "{msg}");
        let text = "pattern,tdp_w,threads,source\nFoo 1,95,8,\n";
        let msg = format!("{:#}", TdpTable::parse(text, "x.csv").unwrap_err());
        assert!(msg.contains("source"), "{msg}");
        let msg = format!("{:#}", TdpTable::parse("a,b\n1,2\n", "x.csv").unwrap_err());
        assert!(msg.contains("header"), "{msg}");
    }

    #[test]
    fn builtin_vcpu_table_matches_ccf_and_falls_back_to_older_rows() {
        let t = VcpuWattsTable::builtin();
        assert_eq!(t.rows().len(), 10);
        let zen2 = t.rows().iter().find(|r| r.microarch == "Zen 2").unwrap();
        assert_eq!((zen2.min_w, zen2.max_w), (0.4743, 1.6930));
        let m = |name, vendor| Microarch {
            name,
            vendor,
            how: String::new(),
        };
        assert_eq!(t.resolve(&m("Zen 5", "amd")).unwrap().microarch, "Zen 3");
        assert_eq!(t.resolve(&m("Zen 4", "amd")).unwrap().microarch, "Zen 3");
        let sapphire = t.resolve(&m("Sapphire Rapids", "intel")).unwrap();
        assert_eq!(sapphire.microarch, "Cascade Lake");
        assert_eq!(t.resolve(&m("Skylake", "intel")).unwrap().max_w, 4.1934);
        let bad = "microarchitecture,vendor,min_w,max_w,min_w_p10,max_w_p10,min_w_p90,max_w_p90,servers,ccf_architecture\nX,amd,2,1,1,2,3,4,1,X\n";
        let msg = format!("{:#}", VcpuWattsTable::parse(bad, "v.csv").unwrap_err());
        assert!(msg.contains("v.csv:2"), "{msg}");
    }

    #[test]
    fn token_match_handles_unicode() {
        assert!(contains_token("é foo 1", "foo 1"));
        assert!(!contains_token("éfoo 1x", "foo 1"));
    }
}
