//! Test support: a fake powercap sysfs tree whose counters a test advances.
//!
//! Used by this crate's tests and benches and by the CLI's integration tests
//! (point `--powercap-root` at [`FakePowercap::root`]). Not for production use.
//!
//! ```
//! use frugalbench_meter::fake::{FakeLayout, FakePowercap};
//! let dir = tempfile::tempdir().unwrap();
//! let mut fake = FakePowercap::create(dir.path(), &FakeLayout::single_package(None)).unwrap();
//! fake.advance("intel-rapl:0", 1.5).unwrap(); // 1.5 J on package-0
//! assert_eq!(fake.energy_uj("intel-rapl:0"), Some(1_000_000 + 1_500_000));
//! ```

use anyhow::{anyhow, bail, Context};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One zone to create.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeZone {
    /// `intel-rapl:N`, `intel-rapl:N:M`, `intel-rapl-mmio:N`, ...
    pub id: String,
    /// Content of its `name` file (`package-0`, `core`, `dram`, `psys`, ...).
    pub name: String,
    /// `max_energy_range_uj`; `None` writes no such file (unreadable).
    pub max_energy_range_uj: Option<u64>,
    /// Initial `energy_uj`.
    pub energy_uj: u64,
}

/// A set of zones.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FakeLayout {
    /// The zones; sub-zones (`…:N:M`) are nested under their parent, which must be listed.
    pub zones: Vec<FakeZone>,
    /// Also create the flat `root/intel-rapl:N:M` symlinks real sysfs has.
    pub flat_symlinks: bool,
}

/// A counter range many Intel parts report (262,143,328,850 µJ ≈ 262 kJ).
pub const TYPICAL_RANGE_UJ: u64 = 262_143_328_850;

impl FakeLayout {
    /// No zones.
    pub fn new() -> FakeLayout {
        FakeLayout::default()
    }

    /// Adds a zone.
    pub fn zone(
        mut self,
        id: &str,
        name: &str,
        range_uj: Option<u64>,
        start_uj: u64,
    ) -> FakeLayout {
        self.zones.push(FakeZone {
            id: id.into(),
            name: name.into(),
            max_energy_range_uj: range_uj,
            energy_uj: start_uj,
        });
        self
    }

    /// One package (`intel-rapl:0`, package-0) with a dram sub-zone
    /// (`intel-rapl:0:0`), both with `range_uj` (default [`TYPICAL_RANGE_UJ`]).
    pub fn single_package(range_uj: Option<u64>) -> FakeLayout {
        let r = Some(range_uj.unwrap_or(TYPICAL_RANGE_UJ));
        FakeLayout::new()
            .zone("intel-rapl:0", "package-0", r, 1_000_000)
            .zone("intel-rapl:0:0", "dram", r, 2_000_000)
    }

    /// Two sockets, each with core, uncore and dram sub-zones; an MMIO duplicate
    /// of package-0; a top-level psys zone; flat symlinks as in real sysfs.
    pub fn two_sockets() -> FakeLayout {
        let r = Some(TYPICAL_RANGE_UJ);
        let mut l = FakeLayout::new();
        for s in 0..2 {
            l = l
                .zone(
                    &format!("intel-rapl:{s}"),
                    &format!("package-{s}"),
                    r,
                    10_000_000 * (s + 1),
                )
                .zone(&format!("intel-rapl:{s}:0"), "core", r, 100)
                .zone(&format!("intel-rapl:{s}:1"), "uncore", r, 200)
                .zone(&format!("intel-rapl:{s}:2"), "dram", r, 300);
        }
        l = l.zone("intel-rapl-mmio:0", "package-0", r, 5_000).zone(
            "intel-rapl:2",
            "psys",
            r,
            7_000,
        );
        l.flat_symlinks = true;
        l
    }
}

#[derive(Debug)]
struct State {
    dir: PathBuf,
    raw: u64,
    range: Option<u64>,
    frac_uj: f64,
}

/// A fake powercap tree on disk.
#[derive(Debug)]
pub struct FakePowercap {
    root: PathBuf,
    zones: BTreeMap<String, State>,
}

fn write_atomic(path: &Path, content: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, content).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot rename onto {}", path.display()))
}

impl FakePowercap {
    /// Writes `layout` under `dir` (which becomes the powercap root).
    pub fn create(dir: &Path, layout: &FakeLayout) -> anyhow::Result<FakePowercap> {
        let mut zones = BTreeMap::new();
        for ctl in ["intel-rapl", "intel-rapl-mmio"] {
            std::fs::create_dir_all(dir.join(ctl))?;
        }
        for z in &layout.zones {
            let parts: Vec<&str> = z.id.split(':').collect();
            let zone_dir = match parts.as_slice() {
                [_, _] => dir.join(&z.id),
                [ctl, n, _] => {
                    let parent = format!("{ctl}:{n}");
                    if !layout.zones.iter().any(|p| p.id == parent) {
                        bail!("fake zone {} needs its parent {parent} in the layout", z.id);
                    }
                    dir.join(parent).join(&z.id)
                }
                _ => bail!("bad fake zone id {:?}", z.id),
            };
            std::fs::create_dir_all(&zone_dir)
                .with_context(|| format!("cannot create {}", zone_dir.display()))?;
            std::fs::write(zone_dir.join("name"), format!("{}\n", z.name))?;
            write_atomic(&zone_dir.join("energy_uj"), &format!("{}\n", z.energy_uj))?;
            if let Some(r) = z.max_energy_range_uj {
                std::fs::write(zone_dir.join("max_energy_range_uj"), format!("{r}\n"))?;
            }
            std::fs::write(zone_dir.join("enabled"), "1\n")?;
            if parts.len() == 3 && layout.flat_symlinks {
                #[cfg(unix)]
                std::os::unix::fs::symlink(&zone_dir, dir.join(&z.id))?;
            }
            zones.insert(
                z.id.clone(),
                State {
                    dir: zone_dir,
                    raw: z.energy_uj,
                    range: z.max_energy_range_uj,
                    frac_uj: 0.0,
                },
            );
        }
        Ok(FakePowercap {
            root: dir.to_path_buf(),
            zones,
        })
    }

    /// The powercap root to point the meter at.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn state(&mut self, zone: &str) -> anyhow::Result<&mut State> {
        self.zones
            .get_mut(zone)
            .ok_or_else(|| anyhow!("no fake zone {zone:?}"))
    }

    /// Adds `joules` to a zone's counter, wrapping at its range (modulo the range).
    pub fn advance(&mut self, zone: &str, joules: f64) -> anyhow::Result<()> {
        if !(joules.is_finite() && joules >= 0.0) {
            bail!("advance by {joules} J: must be ≥ 0");
        }
        let s = self.state(zone)?;
        let total = s.frac_uj + joules * 1e6;
        let whole = total.floor();
        s.frac_uj = total - whole;
        let mut raw = u128::from(s.raw) + whole as u128;
        if let Some(r) = s.range {
            raw %= u128::from(r);
        }
        s.raw = u64::try_from(raw).context("fake counter overflow")?;
        let (path, raw) = (s.dir.join("energy_uj"), s.raw);
        write_atomic(&path, &format!("{raw}\n"))
    }

    /// Sets a zone's raw `energy_uj`.
    pub fn set_energy_uj(&mut self, zone: &str, uj: u64) -> anyhow::Result<()> {
        let s = self.state(zone)?;
        s.raw = uj;
        let path = s.dir.join("energy_uj");
        write_atomic(&path, &format!("{uj}\n"))
    }

    /// A zone's raw `energy_uj` as last written.
    pub fn energy_uj(&self, zone: &str) -> Option<u64> {
        self.zones.get(zone).map(|s| s.raw)
    }

    /// A zone's directory.
    pub fn zone_dir(&self, zone: &str) -> Option<&Path> {
        self.zones.get(zone).map(|s| s.dir.as_path())
    }
}
