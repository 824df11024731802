//! RAPL energy counters through the Linux powercap sysfs (`intel-rapl:N`, used by
//! both Intel and AMD).
//!
//! * Package zones `intel-rapl:N` are cpu-package domains. Sub-zones
//!   `intel-rapl:N:M` are identified by their `name` file (`core`, `uncore`,
//!   `dram`, `psys`); they are separate domains and are never added into the
//!   package (core and uncore are inside it). A top-level zone named `psys` is
//!   reported separately and never summed with the packages.
//! * `intel-rapl-mmio:N` zones duplicate the MSR ones (same `name`): an MMIO zone is
//!   skipped when an MSR zone of the same name exists.
//! * `energy_uj` wraps at `max_energy_range_uj`. Each zone keeps its last raw value;
//!   a reading lower than the previous one is one wrap (delta = raw + range − last).
//!   The sampler must poll faster than the shortest wrap period, which
//!   [`EnergySource::max_poll_interval`] computes from the range at
//!   [`MAX_ZONE_POWER_W`]. If the range is unreadable a decrease cannot be corrected:
//!   that interval contributes 0 J and is counted as a [`Condition`].

use crate::domain::{DomainInfo, DomainKind, Method};
use crate::source::{Condition, ConditionKind, EnergySource, ReadError, Unavailable};
use crate::sysfs::{StdFs, SysfsReader};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where the kernel exposes powercap zones.
pub const DEFAULT_POWERCAP_ROOT: &str = "/sys/class/powercap";

/// A generous upper bound on one zone's power, used only to derive how often the
/// counters must be polled so that no wrap is missed. No CPU socket draws 1 kW, so
/// polling at half the wrap period at this power is safe for any real zone (a
/// typical 262 kJ range gives a 262 s period, polled at least every 131 s).
pub const MAX_ZONE_POWER_W: f64 = 1000.0;

/// A powercap zone identifier: `intel-rapl:N`, `intel-rapl:N:M`, `intel-rapl-mmio:N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct ZoneId {
    mmio: bool,
    index: u32,
    sub: Option<u32>,
}

impl ZoneId {
    fn parse(s: &str) -> Option<ZoneId> {
        let (mmio, rest) = if let Some(r) = s.strip_prefix("intel-rapl-mmio:") {
            (true, r)
        } else {
            (false, s.strip_prefix("intel-rapl:")?)
        };
        let mut parts = rest.split(':');
        let index = parts.next()?.parse().ok()?;
        let sub = match parts.next() {
            None => None,
            Some(p) => Some(p.parse().ok()?),
        };
        if parts.next().is_some() {
            return None;
        }
        Some(ZoneId { mmio, index, sub })
    }

    fn top(self) -> ZoneId {
        ZoneId { sub: None, ..self }
    }
}

impl std::fmt::Display for ZoneId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let prefix = if self.mmio {
            "intel-rapl-mmio"
        } else {
            "intel-rapl"
        };
        match self.sub {
            None => write!(f, "{prefix}:{}", self.index),
            Some(m) => write!(f, "{prefix}:{}:{m}", self.index),
        }
    }
}

/// The reason and fix reported when `energy_uj` is root-only.
pub fn permission_denied(root: &Path, path: &Path) -> Unavailable {
    Unavailable {
        reason: format!(
            "permission denied reading {} (Linux ≥ 5.10 restricts RAPL to root)",
            path.display()
        ),
        fix: Some(permission_fix(root)),
    }
}

/// How to give a normal user read access to the RAPL counters.
pub fn permission_fix(root: &Path) -> String {
    let r = root.display();
    format!(
        "run as root, or make the counters readable until the next reboot:\n\
         \x20 sudo chmod a+r {r}/intel-rapl:*/energy_uj {r}/intel-rapl:*/intel-rapl:*/energy_uj\n\
         or persistently, with a systemd-tmpfiles file /etc/tmpfiles.d/frugalbench-rapl.conf holding:\n\
         \x20 z {r}/intel-rapl:*/energy_uj 0444 - - -\n\
         \x20 z {r}/intel-rapl:*/intel-rapl:*/energy_uj 0444 - - -\n\
         or a udev rule /etc/udev/rules.d/99-frugalbench-rapl.rules holding:\n\
         \x20 ACTION==\"add\", SUBSYSTEM==\"powercap\", KERNEL==\"intel-rapl:*\", RUN+=\"/bin/chmod a+r /sys%p/energy_uj\"\n\
         (root-only access is the kernel's fix for CVE-2020-8694, a power side channel: open it only on machines whose users you trust)"
    )
}

fn read_u64(reader: &dyn SysfsReader, path: &Path) -> Result<u64, ReadError> {
    let text = reader
        .read_to_string(path)
        .map_err(|e| ReadError::from_io(path.to_path_buf(), e))?;
    let t = text.trim();
    t.parse().map_err(|_| ReadError::Parse {
        path: path.to_path_buf(),
        content: t.to_owned(),
    })
}

/// One zone's counter state.
#[derive(Debug)]
struct Zone {
    energy_path: PathBuf,
    domain: String,
    range_uj: Option<u64>,
    last_raw: u64,
    /// When `last_raw` was read.
    last_at: Instant,
    acc_uj: u128,
    wraps: u64,
    dropped: u64,
    implausible: u64,
    failures: u64,
}

impl Zone {
    /// Folds one raw reading, taken at `now`, into the accumulated energy.
    ///
    /// A decrease is one wrap (when the range is known). Any interval whose
    /// energy would mean more than [`MAX_ZONE_POWER_W`] over the time since the
    /// last read (at least one second, so RAPL's millisecond update steps never
    /// trip it) is dropped: a counter reset or a missed wrap, not real energy.
    fn advance(&mut self, raw: u64, now: Instant) {
        let delta = if raw >= self.last_raw {
            Some(u128::from(raw - self.last_raw))
        } else {
            self.range_uj
                .map(|range| u128::from(range.saturating_sub(self.last_raw)) + u128::from(raw))
        };
        let seconds = now
            .saturating_duration_since(self.last_at)
            .as_secs_f64()
            .max(1.0);
        match delta {
            Some(d) if d as f64 / 1e6 <= MAX_ZONE_POWER_W * seconds => {
                if raw < self.last_raw {
                    // The counter went from `last` up to `range`, then from 0 to `raw`.
                    self.wraps += 1;
                }
                self.acc_uj += d;
            }
            Some(_) => self.implausible += 1,
            // Cannot tell how far it went: contribute nothing for this interval.
            None => self.dropped += 1,
        }
        self.last_raw = raw;
        self.last_at = now;
    }

    fn joules(&self) -> f64 {
        self.acc_uj as f64 / 1e6
    }
}

/// The RAPL powercap source.
pub struct RaplSource {
    root: PathBuf,
    reader: Arc<dyn SysfsReader>,
    domains: Vec<DomainInfo>,
    zones: Vec<Zone>,
    notes: Vec<String>,
}

impl std::fmt::Debug for RaplSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RaplSource")
            .field("root", &self.root)
            .field("domains", &self.domains)
            .field("zones", &self.zones)
            .finish()
    }
}

/// A zone found on disk, before its counter is opened.
struct Candidate {
    id: ZoneId,
    dir: PathBuf,
    name: String,
    kind: DomainKind,
}

fn kind_of(name: &str) -> Option<DomainKind> {
    match name {
        "core" => Some(DomainKind::Core),
        "uncore" => Some(DomainKind::Uncore),
        "dram" => Some(DomainKind::Dram),
        "psys" => Some(DomainKind::Psys),
        n if n.starts_with("package") => Some(DomainKind::CpuPackage),
        _ => None,
    }
}

impl RaplSource {
    /// Opens the zones under `root` with the real file system.
    pub fn open(root: &Path) -> Result<RaplSource, Unavailable> {
        RaplSource::open_with(root, Arc::new(StdFs))
    }

    /// Opens the zones under `root`, reading every file through `reader`.
    pub fn open_with(root: &Path, reader: Arc<dyn SysfsReader>) -> Result<RaplSource, Unavailable> {
        let mut notes = Vec::new();
        let found = discover(root, reader.as_ref())?;

        // Name every zone; drop the ones we cannot classify.
        let mut candidates = Vec::new();
        for (id, dir) in found {
            let name_path = dir.join("name");
            let name = match reader.read_to_string(&name_path) {
                Ok(s) => s.trim().to_owned(),
                Err(e) => {
                    notes.push(format!(
                        "skipped RAPL zone {id}: cannot read {}: {e}",
                        name_path.display()
                    ));
                    continue;
                }
            };
            match kind_of(&name) {
                Some(kind) => candidates.push(Candidate {
                    id,
                    dir,
                    name,
                    kind,
                }),
                None => notes.push(format!(
                    "skipped RAPL zone {id}: unknown zone name {name:?}"
                )),
            }
        }

        // MMIO zones duplicate MSR zones of the same name: keep the MSR one.
        let top_name = |id: ZoneId| {
            candidates
                .iter()
                .find(|c| c.id == id.top())
                .map(|c| c.name.clone())
        };
        let msr_top_names: HashSet<String> = candidates
            .iter()
            .filter(|c| !c.id.mmio && c.id.sub.is_none())
            .map(|c| c.name.clone())
            .collect();
        let mut kept = Vec::new();
        for c in &candidates {
            if c.id.mmio {
                if let Some(parent) = top_name(c.id) {
                    if msr_top_names.contains(&parent) {
                        if c.id.sub.is_none() {
                            notes.push(format!(
                                "skipped RAPL zone {} ({}): duplicates the MSR zone of the same name",
                                c.id, c.name
                            ));
                        }
                        continue;
                    }
                }
            }
            kept.push(c);
        }

        // Open the counters.
        let mut domains = Vec::new();
        let mut zones = Vec::new();
        let mut used_names = HashSet::new();
        for c in kept {
            let energy_path = c.dir.join("energy_uj");
            let raw = match read_u64(reader.as_ref(), &energy_path) {
                Ok(v) => v,
                Err(ReadError::PermissionDenied { path }) => {
                    return Err(permission_denied(root, &path));
                }
                Err(e) => {
                    notes.push(format!("skipped RAPL zone {} ({}): {e}", c.id, c.name));
                    continue;
                }
            };
            let mut name = match c.id.sub {
                None => c.name.clone(),
                Some(_) => format!("{}-{}", c.name, c.id.index),
            };
            if !used_names.insert(name.clone()) {
                name = format!("{name} ({})", c.id);
                used_names.insert(name.clone());
            }
            let range_path = c.dir.join("max_energy_range_uj");
            let range_uj = match read_u64(reader.as_ref(), &range_path) {
                Ok(0) => {
                    notes.push(format!(
                        "{name}: max_energy_range_uj is 0; a counter decrease cannot be corrected and such intervals will be dropped"
                    ));
                    None
                }
                Ok(r) => Some(r),
                Err(e) => {
                    notes.push(format!(
                        "{name}: max_energy_range_uj unreadable ({e}); a counter decrease cannot be corrected and such intervals will be dropped"
                    ));
                    None
                }
            };
            domains.push(DomainInfo {
                source: "rapl".into(),
                name: name.clone(),
                kind: c.kind,
                method: Method::Measured,
                detail: Some(format!("powercap zone {}", c.dir.display())),
            });
            zones.push(Zone {
                energy_path,
                domain: name,
                range_uj,
                last_raw: raw,
                last_at: Instant::now(),
                acc_uj: 0,
                wraps: 0,
                dropped: 0,
                implausible: 0,
                failures: 0,
            });
        }

        if !domains.iter().any(|d| d.kind == DomainKind::CpuPackage) {
            let seen: Vec<String> = candidates
                .iter()
                .map(|c| format!("{} ({})", c.id, c.name))
                .collect();
            let seen = if seen.is_empty() {
                "no intel-rapl zones".to_owned()
            } else {
                format!("found {}", seen.join(", "))
            };
            let mut reason = format!(
                "no readable RAPL package zone under {} ({seen})",
                root.display()
            );
            if !notes.is_empty() {
                reason.push_str("; ");
                reason.push_str(&notes.join("; "));
            }
            return Err(Unavailable::new(reason));
        }
        if !domains.iter().any(|d| d.kind == DomainKind::Dram) {
            notes.push(
                "RAPL exposes no dram zone here: DRAM energy is not included in the total".into(),
            );
        }
        Ok(RaplSource {
            root: root.to_path_buf(),
            reader,
            domains,
            zones,
            notes,
        })
    }

    /// The powercap root this source reads.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Wraps seen so far per domain (domain name, count).
    pub fn wraps(&self) -> Vec<(String, u64)> {
        self.zones
            .iter()
            .map(|z| (z.domain.clone(), z.wraps))
            .collect()
    }
}

/// Lists the zone directories under `root`: top-level `intel-rapl:N` and
/// `intel-rapl-mmio:N`, their nested `…:N:M` children, and flat `…:N:M` entries
/// (sysfs shows sub-zones both ways; the nested path wins).
fn discover(
    root: &Path,
    reader: &dyn SysfsReader,
) -> Result<BTreeMap<ZoneId, PathBuf>, Unavailable> {
    let names = reader.read_dir_names(root).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Unavailable::new(format!(
                "no powercap sysfs at {} (no RAPL driver loaded, or a VM/container that does not expose it)",
                root.display()
            ))
        } else {
            Unavailable::new(format!("cannot list {}: {e}", root.display()))
        }
    })?;
    let mut found = BTreeMap::new();
    let mut flat = Vec::new();
    for name in &names {
        let Some(id) = ZoneId::parse(name) else {
            continue;
        };
        let dir = root.join(name);
        if id.sub.is_some() {
            flat.push((id, dir));
            continue;
        }
        if !reader.is_dir(&dir) {
            continue;
        }
        if let Ok(children) = reader.read_dir_names(&dir) {
            for child in children {
                if let Some(cid) = ZoneId::parse(&child) {
                    if cid.sub.is_some() && cid.top() == id {
                        found.insert(cid, dir.join(&child));
                    }
                }
            }
        }
        found.insert(id, dir);
    }
    for (id, dir) in flat {
        if reader.is_dir(&dir) {
            found.entry(id).or_insert(dir);
        }
    }
    Ok(found)
}

impl EnergySource for RaplSource {
    fn name(&self) -> &str {
        "rapl"
    }

    fn domains(&self) -> &[DomainInfo] {
        &self.domains
    }

    fn read(&mut self) -> Result<Vec<f64>, ReadError> {
        for z in &mut self.zones {
            match read_u64(self.reader.as_ref(), &z.energy_path) {
                Ok(raw) => z.advance(raw, Instant::now()),
                Err(_) => z.failures += 1,
            }
        }
        Ok(self.zones.iter().map(Zone::joules).collect())
    }

    fn max_poll_interval(&self) -> Option<Duration> {
        self.zones
            .iter()
            .filter_map(|z| z.range_uj)
            .map(|r| Duration::from_secs_f64(r as f64 / 1e6 / MAX_ZONE_POWER_W))
            .min()
    }

    fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }

    fn conditions(&self) -> Vec<Condition> {
        let mut out = Vec::new();
        for z in &self.zones {
            if z.dropped > 0 {
                out.push(Condition {
                    domain: z.domain.clone(),
                    kind: ConditionKind::DroppedNoRange,
                    count: z.dropped,
                });
            }
            if z.implausible > 0 {
                out.push(Condition {
                    domain: z.domain.clone(),
                    kind: ConditionKind::DroppedImplausible,
                    count: z.implausible,
                });
            }
            if z.failures > 0 {
                out.push(Condition {
                    domain: z.domain.clone(),
                    kind: ConditionKind::ReadFailed,
                    count: z.failures,
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_ids_parse() {
        assert_eq!(
            ZoneId::parse("intel-rapl:1:2"),
            Some(ZoneId {
                mmio: false,
                index: 1,
                sub: Some(2)
            })
        );
        assert_eq!(
            ZoneId::parse("intel-rapl-mmio:0").map(|z| z.to_string()),
            Some("intel-rapl-mmio:0".into())
        );
        assert_eq!(ZoneId::parse("intel-rapl"), None);
        assert_eq!(ZoneId::parse("intel-rapl:x"), None);
        assert_eq!(ZoneId::parse("intel-rapl:0:1:2"), None);
        assert_eq!(ZoneId::parse("dtpm:0"), None);
    }

    fn zone(range: Option<u64>, last: u64) -> Zone {
        Zone {
            energy_path: PathBuf::new(),
            domain: "package-0".into(),
            range_uj: range,
            last_raw: last,
            last_at: Instant::now(),
            acc_uj: 0,
            wraps: 0,
            dropped: 0,
            implausible: 0,
            failures: 0,
        }
    }

    #[test]
    fn wrap_adds_range_minus_last_plus_raw() {
        let now = Instant::now();
        let mut z = zone(Some(1_000), 900);
        z.advance(950, now);
        z.advance(20, now); // wrapped: 50 to the top, 20 after
        assert_eq!(z.acc_uj, 50 + 50 + 20);
        assert_eq!(z.wraps, 1);
        z.advance(20, now);
        assert_eq!(z.acc_uj, 120);
    }

    #[test]
    fn decrease_without_range_is_dropped_not_negative() {
        let now = Instant::now();
        let mut z = zone(None, 900);
        z.advance(950, now);
        z.advance(10, now);
        z.advance(30, now);
        assert_eq!(z.acc_uj, 50 + 20);
        assert_eq!(z.dropped, 1);
    }

    #[test]
    fn a_reset_that_looks_like_a_wrap_is_dropped_not_huge() {
        // Typical Intel range (262 kJ): the counter drops from 118 J to 1 J a
        // second later. As a wrap that would be ~262 kJ in 1 s (262 kW): a reset.
        let t0 = Instant::now();
        let range = 262_143_328_850;
        let mut z = zone(Some(range), 118_000_000);
        z.last_at = t0;
        z.advance(1_000_000, t0 + Duration::from_secs(1));
        assert_eq!(z.acc_uj, 0);
        assert_eq!((z.implausible, z.wraps), (1, 0));
        // Normal counting resumes from the new value.
        z.advance(31_000_000, t0 + Duration::from_secs(2));
        assert_eq!(z.acc_uj, 30_000_000);
        // A genuine wrap at 100 W over 2 s is kept.
        z.last_raw = range - 100_000_000;
        z.advance(100_000_000, t0 + Duration::from_secs(4));
        assert_eq!(z.acc_uj, 30_000_000 + 200_000_000);
        assert_eq!(z.wraps, 1);
    }
}
