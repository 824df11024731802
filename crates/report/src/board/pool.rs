//! Reference pools: a dated, versioned set of reference results that stars are given against
//! (`frugalbench leaderboard --reference-pool DIR`), instead of only the results at hand.
//!
//! A pool is a folder:
//!
//! ```text
//! <pool>/manifest.json   {"version", "date", "machine", "description", "refresh", "notes"}
//! <pool>/results/...     result files (any layout; walked like a results folder)
//! ```
//!
//! Every result file must be valid (schema and sanity rules) and complete; a pool with a bad
//! file is refused whole, naming the file. Entries are grouped like board tables, by task,
//! hardware class and energy method: a result is only ever rated against reference results of
//! its own task, hardware class and method, and only when there are at least
//! [`super::stars::MIN_POOL`] of them. An entry is one reference result (one model with one
//! set of settings); the shipped pool holds several settings per model (see its manifest).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use super::rank::hardware_class;
use crate::inputs::load_all_or_fail;
use crate::result::{OverallMethod, Status, Task};

/// `manifest.json` of a pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolManifest {
    /// e.g. `2026.12-cpu`.
    pub version: String,
    /// `YYYY-MM-DD` the pool was measured.
    pub date: String,
    /// The machine the pool was measured on, in words.
    pub machine: String,
    /// What the pool holds and how it was measured.
    #[serde(default)]
    pub description: String,
    /// How and when it is refreshed.
    #[serde(default)]
    pub refresh: String,
    #[serde(default)]
    pub notes: Vec<String>,
}

/// What a label or board says about the pool it was rated against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PoolRef {
    pub version: String,
    pub date: String,
    pub machine: String,
}

impl PoolRef {
    /// `reference pool 2026.12-cpu (2026-12-03)`.
    pub fn describe(&self) -> String {
        format!("reference pool {} ({})", self.version, self.date)
    }
}

/// One reference result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolEntry {
    pub model: String,
    pub wh_per_1000_queries: f64,
    pub file: String,
}

/// A loaded pool.
#[derive(Debug, Clone)]
pub struct ReferencePool {
    pub dir: PathBuf,
    pub manifest: PoolManifest,
    pub groups: BTreeMap<(Task, u8, String), Vec<PoolEntry>>,
}

fn method_key(m: OverallMethod) -> u8 {
    match m {
        OverallMethod::Measured => 0,
        OverallMethod::Mixed => 1,
        OverallMethod::Estimated => 2,
    }
}

impl ReferencePool {
    /// Reads `dir/manifest.json` and every result under `dir/results/`.
    pub fn load(dir: &Path) -> anyhow::Result<ReferencePool> {
        let manifest_path = dir.join("manifest.json");
        let text = std::fs::read_to_string(&manifest_path).with_context(|| {
            format!(
                "reference pool {}: cannot read {}",
                dir.display(),
                manifest_path.display()
            )
        })?;
        let manifest: PoolManifest = serde_json::from_str(&text)
            .with_context(|| format!("reference pool: {}", manifest_path.display()))?;
        if manifest.version.trim().is_empty() || manifest.machine.trim().is_empty() {
            bail!(
                "reference pool: {}: version and machine must not be empty",
                manifest_path.display()
            );
        }
        if chrono::NaiveDate::parse_from_str(&manifest.date, "%Y-%m-%d").is_err() {
            bail!(
                "reference pool: {}: date {:?} is not YYYY-MM-DD",
                manifest_path.display(),
                manifest.date
            );
        }
        let results = dir.join("results");
        let loaded = load_all_or_fail(std::slice::from_ref(&results))
            .with_context(|| format!("reference pool {}", dir.display()))?;
        let mut groups: BTreeMap<(Task, u8, String), Vec<PoolEntry>> = BTreeMap::new();
        for l in loaded {
            let r = &l.result;
            if r.status != Status::Complete {
                bail!(
                    "reference pool: {}: an interrupted run cannot be a reference",
                    l.path.display()
                );
            }
            groups
                .entry((r.task, method_key(r.energy.method), hardware_class(r)))
                .or_default()
                .push(PoolEntry {
                    model: r.model.id.clone(),
                    wh_per_1000_queries: r.energy.wh_per_1000_queries,
                    file: l.path.display().to_string(),
                });
        }
        Ok(ReferencePool {
            dir: dir.to_path_buf(),
            manifest,
            groups,
        })
    }

    /// The reference results of one task, hardware class and method (empty when none).
    pub fn entries(&self, task: Task, method: OverallMethod, hardware: &str) -> &[PoolEntry] {
        self.groups
            .get(&(task, method_key(method), hardware.to_string()))
            .map_or(&[], Vec::as_slice)
    }

    /// Version, date and machine, for labels and boards.
    pub fn reference(&self) -> PoolRef {
        PoolRef {
            version: self.manifest.version.clone(),
            date: self.manifest.date.clone(),
            machine: self.manifest.machine.clone(),
        }
    }
}
