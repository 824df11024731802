//! The labelled estimate used for CPU and DRAM when no RAPL package zone is
//! readable (most VMs and containers).
//!
//! * CPU power = TDP × share × u(t), u = the machine's CPU utilisation (0..1) from
//!   `sysinfo`. TDP comes from `data/cpu_tdp.csv`; share = visible logical CPUs /
//!   the chip's threads when the table knows them, else 1. An unknown CPU gets
//!   [`UNKNOWN_CPU_TDP_W`] (CodeCarbon's default) with share 1. A TDP override
//!   (`--cpu-tdp-watts`) replaces the table (share 1).
//! * DRAM power = [`DRAM_W_PER_GIB`] × total memory in GiB, constant.
//!
//! `sysinfo` needs at least ~200 ms between CPU refreshes, so the estimate is
//! integrated on the sampler's ticks; a read between ticks extrapolates from the
//! last power (E = E_tick + P × (now − t_tick)), so window edges are exact in time
//! and the counter stays monotonic. The utilisation applied over an interval is the
//! one measured over the previous refresh period (it lags by ≤ one period).

use crate::domain::{DomainInfo, DomainKind, Method};
use crate::source::{EnergySource, ReadError};
use anyhow::{bail, Context};
use serde::Serialize;
use std::time::{Duration, Instant};

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
        let mut rdr = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = rdr
            .headers()
            .with_context(|| format!("{origin}: cannot read the header"))?
            .clone();
        let expected = ["pattern", "tdp_w", "threads", "source"];
        if headers.iter().collect::<Vec<_>>() != expected {
            bail!(
                "{origin}: header must be {:?}, found {:?}",
                expected.join(","),
                headers.iter().collect::<Vec<_>>().join(",")
            );
        }
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

/// Where the CPU power figure came from.
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

/// The estimate's parameters, resolved for one machine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EstimateModel {
    /// The CPU model name as the OS reports it.
    pub cpu_model: String,
    /// Logical CPUs this machine sees.
    pub logical_cpus: usize,
    /// TDP per chip (or the override), watts.
    pub tdp_w: f64,
    /// Fraction of the chip this machine is given (visible CPUs / chip threads).
    pub share: f64,
    /// Where `tdp_w` came from.
    pub tdp_origin: TdpOrigin,
    /// Total memory, GiB.
    pub memory_gib: f64,
    /// Constant DRAM power, watts.
    pub dram_w: f64,
}

impl EstimateModel {
    /// Resolves the model for a machine with `cpu_model`, `logical_cpus` and
    /// `memory_bytes`, with an optional TDP override.
    pub fn resolve(
        cpu_model: &str,
        logical_cpus: usize,
        memory_bytes: u64,
        tdp_override_w: Option<f64>,
        table: &TdpTable,
    ) -> anyhow::Result<EstimateModel> {
        let logical_cpus = logical_cpus.max(1);
        let (tdp_w, share, tdp_origin) = match tdp_override_w {
            Some(w) => {
                if !(w.is_finite() && w > 0.0) {
                    bail!("--cpu-tdp-watts must be a positive number of watts, got {w}");
                }
                (w, 1.0, TdpOrigin::Override)
            }
            None => match table.lookup(cpu_model) {
                Some(row) => {
                    let share = match row.threads {
                        Some(t) => logical_cpus as f64 / f64::from(t),
                        None => 1.0,
                    };
                    (row.tdp_w, share, TdpOrigin::Table { row: row.clone() })
                }
                None => (UNKNOWN_CPU_TDP_W, 1.0, TdpOrigin::UnknownCpu),
            },
        };
        let memory_gib = memory_bytes as f64 / (1u64 << 30) as f64;
        Ok(EstimateModel {
            cpu_model: cpu_model.to_owned(),
            logical_cpus,
            tdp_w,
            share,
            tdp_origin,
            memory_gib,
            dram_w: DRAM_W_PER_GIB * memory_gib,
        })
    }

    /// CPU power at utilisation `u` (clamped to 0..1).
    pub fn cpu_watts(&self, u: f64) -> f64 {
        let u = if u.is_finite() {
            u.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.tdp_w * self.share * u
    }

    /// How the CPU figure is derived, for the domain's `detail`.
    pub fn cpu_detail(&self) -> String {
        let tdp = match &self.tdp_origin {
            TdpOrigin::Table { row } => format!(
                "TDP {} W from cpu_tdp.csv line {} ({:?}; {})",
                row.tdp_w, row.line, row.pattern, row.source
            ),
            TdpOrigin::UnknownCpu => format!(
                "TDP {} W: CPU {:?} is not in cpu_tdp.csv, so CodeCarbon's unknown-CPU default",
                UNKNOWN_CPU_TDP_W, self.cpu_model
            ),
            TdpOrigin::Override => format!("TDP {} W given by --cpu-tdp-watts", self.tdp_w),
        };
        let share = match &self.tdp_origin {
            TdpOrigin::Table {
                row: TdpRow {
                    threads: Some(t), ..
                },
            } => format!(
                "share {}/{} = {:.4} (visible logical CPUs / chip threads)",
                self.logical_cpus, t, self.share
            ),
            _ => "share 1".to_owned(),
        };
        format!(
            "estimated: {tdp} × {share} × CPU utilisation (sysinfo, 0..1); at most {:.2} W",
            self.tdp_w * self.share
        )
    }

    /// How the DRAM figure is derived, for the domain's `detail`.
    pub fn dram_detail(&self) -> String {
        format!(
            "estimated: {DRAM_W_PER_GIB} W/GiB (CodeCarbon v2: 3 W per 8 GB) × {:.2} GiB total memory = {:.2} W, constant",
            self.memory_gib, self.dram_w
        )
    }
}

/// Machine CPU utilisation, 0..1, averaged since the previous sample.
pub trait CpuLoad: Send {
    /// Utilisation since the previous call (or since creation).
    fn sample(&mut self) -> f64;
    /// The shortest interval between samples that gives a meaningful figure.
    fn min_interval(&self) -> Duration;
}

/// [`CpuLoad`] from `sysinfo`'s global CPU usage.
pub struct SysinfoLoad {
    sys: sysinfo::System,
}

impl SysinfoLoad {
    /// Starts measuring (takes the first CPU-times snapshot).
    pub fn new() -> anyhow::Result<SysinfoLoad> {
        let mut sys =
            sysinfo::System::new().map_err(|e| anyhow::anyhow!("sysinfo cannot start: {e:?}"))?;
        sys.refresh_cpu_usage();
        Ok(SysinfoLoad { sys })
    }
}

impl CpuLoad for SysinfoLoad {
    fn sample(&mut self) -> f64 {
        self.sys.refresh_cpu_usage();
        f64::from(self.sys.global_cpu_usage()) / 100.0
    }

    fn min_interval(&self) -> Duration {
        sysinfo::MINIMUM_CPU_UPDATE_INTERVAL
    }
}

/// What the estimate needs to know about this machine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MachineFacts {
    /// CPU model name.
    pub cpu_model: String,
    /// Logical CPUs visible.
    pub logical_cpus: usize,
    /// Total memory, bytes.
    pub memory_bytes: u64,
}

impl MachineFacts {
    /// Reads them with `sysinfo`.
    pub fn detect() -> anyhow::Result<MachineFacts> {
        use sysinfo::{CpuRefreshKind, MemoryRefreshKind, RefreshKind};
        let sys = sysinfo::System::new_with_specifics(
            RefreshKind::nothing()
                .with_cpu(CpuRefreshKind::nothing())
                .with_memory(MemoryRefreshKind::nothing().with_ram()),
        )
        .map_err(|e| anyhow::anyhow!("sysinfo cannot read the machine: {e:?}"))?;
        let cpus = sys.cpus();
        let cpu_model = cpus
            .first()
            .map(|c| c.brand().trim().to_owned())
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| "unknown".to_owned());
        Ok(MachineFacts {
            cpu_model,
            logical_cpus: cpus.len().max(1),
            memory_bytes: sys.total_memory(),
        })
    }
}

const CPU: usize = 0;
const DRAM: usize = 1;

/// The estimate source: two domains, `cpu` (cpu-package) and `dram`, both
/// `estimated`.
pub struct EstimateSource {
    model: EstimateModel,
    load: Box<dyn CpuLoad>,
    domains: Vec<DomainInfo>,
    last_tick: Instant,
    energy_at_tick: [f64; 2],
    power: [f64; 2],
    last_sample: Instant,
}

impl EstimateSource {
    /// A source using `model` and `load`, starting now. CPU power is 0 until the
    /// first utilisation sample (see [`EstimateSource::prime`]).
    pub fn new(model: EstimateModel, load: Box<dyn CpuLoad>) -> EstimateSource {
        EstimateSource::new_at(model, load, Instant::now())
    }

    /// As [`EstimateSource::new`], with an explicit start instant (tests).
    pub fn new_at(model: EstimateModel, load: Box<dyn CpuLoad>, now: Instant) -> EstimateSource {
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
        let power = [0.0, model.dram_w];
        EstimateSource {
            model,
            load,
            domains,
            last_tick: now,
            energy_at_tick: [0.0; 2],
            power,
            last_sample: now,
        }
    }

    /// Real machine: facts from `sysinfo`, the built-in table, an optional override.
    pub fn detect(tdp_override_w: Option<f64>) -> anyhow::Result<EstimateSource> {
        let facts = MachineFacts::detect()?;
        let model = EstimateModel::resolve(
            &facts.cpu_model,
            facts.logical_cpus,
            facts.memory_bytes,
            tdp_override_w,
            &TdpTable::builtin(),
        )?;
        Ok(EstimateSource::new(model, Box::new(SysinfoLoad::new()?)))
    }

    /// Waits one utilisation period and takes the first sample, so CPU power is
    /// known before any window opens.
    pub fn prime(&mut self) {
        std::thread::sleep(self.load.min_interval());
        self.tick_at(Instant::now());
    }

    /// The resolved model.
    pub fn model(&self) -> &EstimateModel {
        &self.model
    }

    /// Current power per domain (cpu, dram), watts.
    pub fn power(&self) -> [f64; 2] {
        self.power
    }

    /// Integrates up to `now` with the current power, then refreshes utilisation
    /// when the load's minimum interval has passed.
    pub fn tick_at(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.last_tick).as_secs_f64();
        for (e, p) in self.energy_at_tick.iter_mut().zip(self.power) {
            *e += p * dt;
        }
        self.last_tick = self.last_tick.max(now);
        if now.saturating_duration_since(self.last_sample) >= self.load.min_interval() {
            let u = self.load.sample();
            self.power[CPU] = self.model.cpu_watts(u);
            self.power[DRAM] = self.model.dram_w;
            self.last_sample = now;
        }
    }

    /// Cumulative joules (cpu, dram) at `now`: the last tick's energy plus the
    /// current power times the time since that tick.
    pub fn energy_at(&self, now: Instant) -> [f64; 2] {
        let dt = now.saturating_duration_since(self.last_tick).as_secs_f64();
        [
            self.energy_at_tick[CPU] + self.power[CPU] * dt,
            self.energy_at_tick[DRAM] + self.power[DRAM] * dt,
        ]
    }
}

impl EnergySource for EstimateSource {
    fn name(&self) -> &str {
        "estimate"
    }

    fn domains(&self) -> &[DomainInfo] {
        &self.domains
    }

    fn read(&mut self) -> Result<Vec<f64>, ReadError> {
        Ok(self.energy_at(Instant::now()).to_vec())
    }

    fn on_tick(&mut self) {
        self.tick_at(Instant::now());
    }

    fn notes(&self) -> Vec<String> {
        let m = &self.model;
        let tdp = match &m.tdp_origin {
            TdpOrigin::Table { row } => format!("cpu_tdp.csv {:?}", row.pattern),
            TdpOrigin::UnknownCpu => "unknown-CPU default".to_owned(),
            TdpOrigin::Override => "--cpu-tdp-watts".to_owned(),
        };
        vec![format!(
            "CPU and DRAM energy are estimated, not measured: cpu = {} W ({tdp}) × share {:.4} × utilisation; dram = {:.2} W constant",
            m.tdp_w, m.share, m.dram_w
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
    fn token_match_handles_unicode() {
        assert!(contains_token("é foo 1", "foo 1"));
        assert!(!contains_token("éfoo 1x", "foo 1"));
    }
}
