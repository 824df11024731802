//! `frugalbench export --format codecarbon-csv`: the `emissions.csv` layout of CodeCarbon
//! 3.x (the `EmissionsData` fields, in order, of `codecarbon/output_methods/emissions_data.py`
//! at v3.2.9; the v2 columns are a subset), one row per result, so dashboards that read
//! CodeCarbon files can ingest frugalbench runs.
//!
//! Units follow CodeCarbon: energy in kWh, emissions in kg CO2e, emissions rate in kg/s, power
//! in W, duration in s, RAM in GiB (CodeCarbon divides bytes by 1024³). As in CodeCarbon, the
//! energy columns include the PUE (so `emissions` = `energy_consumed` × intensity) and the
//! power columns do not. Fields frugalbench does not know are left empty.
//!
//! Text columns (`project_name`, `os`, `cpu_model`, `gpu_model`, …) go through [`csv_text`]:
//! control and bidi characters replaced and a leading `=`, `+`, `-`, `@` neutralised with `'`,
//! so neither a result file nor `--project-name` can plant a spreadsheet formula. Numeric
//! columns are written as numbers.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Exporter;
use crate::display::csv_text;
use crate::inputs::Loaded;
use crate::result::{DomainKind, RunResult};
use crate::{JOULES_PER_KWH, SCHEMA_VERSION};

/// CodeCarbon 3.x `emissions.csv` columns, in order.
pub const CODECARBON_COLUMNS: [&str; 38] = [
    "timestamp",
    "project_name",
    "run_id",
    "experiment_id",
    "duration",
    "emissions",
    "emissions_rate",
    "cpu_power",
    "gpu_power",
    "ram_power",
    "cpu_energy",
    "gpu_energy",
    "ram_energy",
    "energy_consumed",
    "water_consumed",
    "country_name",
    "country_iso_code",
    "region",
    "cloud_provider",
    "cloud_region",
    "os",
    "python_version",
    "codecarbon_version",
    "cpu_count",
    "cpu_model",
    "gpu_count",
    "gpu_model",
    "longitude",
    "latitude",
    "ram_total_size",
    "tracking_mode",
    "cpu_utilization_percent",
    "gpu_utilization_percent",
    "ram_utilization_percent",
    "ram_used_gb",
    "on_cloud",
    "pue",
    "wue",
];

/// One CodeCarbon row (empty strings for unknown fields).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeCarbonRow {
    pub fields: Vec<String>,
}

/// A UUID-shaped id (version 8, "custom") from the SHA-256 of `text`: the same result always
/// gets the same `run_id`.
pub fn stable_uuid(text: &str) -> String {
    let h = Sha256::digest(text.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The id of a result's run: [`stable_uuid`] of its schema version, model, task, start time and
/// host, so every export of the same result (CodeCarbon's `run_id`, BoAmps' `reportId`) names
/// it alike.
pub fn run_id(r: &RunResult) -> String {
    stable_uuid(&format!(
        "frugalbench/{SCHEMA_VERSION}/{}/{}/{}/{}",
        r.model.id,
        r.task,
        r.started_at.to_rfc3339(),
        r.hardware.hostname.as_deref().unwrap_or("")
    ))
}

fn joules_of(r: &RunResult, kind: DomainKind) -> f64 {
    r.energy
        .by_source
        .iter()
        .filter(|s| s.kind == kind)
        .map(|s| s.joules)
        .fold(0.0, |a, b| a + b) // not `sum()`: an empty f64 sum is −0, printed "-0"
}

/// `gpu_model` as CodeCarbon writes it: `N x NAME` per distinct name, joined by `, `.
fn gpu_model(gpus: &[String]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for g in gpus {
        match counts.iter_mut().find(|(n, _)| *n == g.as_str()) {
            Some((_, c)) => *c += 1,
            None => counts.push((g.as_str(), 1)),
        }
    }
    counts
        .iter()
        .map(|(n, c)| format!("{c} x {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The CodeCarbon row of one result; `project` prefixes `project_name`
/// (`<project>/<task>/<model>`). Text fields are [`csv_text`] cells.
pub fn codecarbon_row(l: &Loaded, project: &str) -> CodeCarbonRow {
    let r = &l.result;
    let pue = r.carbon.intensity.pue;
    let secs = r.timing.wall_seconds;
    let kwh = |j: f64| (j * pue / JOULES_PER_KWH).to_string();
    let watts = |j: f64| {
        if secs > 0.0 {
            (j / secs).to_string()
        } else {
            "0".into()
        }
    };
    let (cpu, gpu, ram) = (
        joules_of(r, DomainKind::CpuPackage),
        joules_of(r, DomainKind::Gpu),
        joules_of(r, DomainKind::Dram),
    );
    let kg = r.carbon.g_co2e / 1000.0;
    let empty = String::new;
    let fields = vec![
        r.finished_at.format("%Y-%m-%dT%H:%M:%S").to_string(), // timestamp (UTC)
        csv_text(&format!("{project}/{}/{}", r.task, r.model.id)), // project_name
        run_id(r),                                             // run_id
        empty(),                                               // experiment_id
        secs.to_string(),                                      // duration
        kg.to_string(),                                        // emissions
        if secs > 0.0 {
            (kg / secs).to_string()
        } else {
            "0".into()
        }, // emissions_rate
        watts(cpu),
        watts(gpu),
        watts(ram),
        kwh(cpu),
        kwh(gpu),
        kwh(ram),
        kwh(r.energy.total_joules), // energy_consumed
        empty(),                    // water_consumed
        empty(),                    // country_name
        empty(),                    // country_iso_code
        empty(),                    // region
        empty(),                    // cloud_provider
        empty(),                    // cloud_region
        csv_text(&format!("{} (kernel {})", r.hardware.os, r.hardware.kernel)), // os
        empty(),                    // python_version
        empty(),                    // codecarbon_version
        r.hardware.logical_cpus.to_string(), // cpu_count
        csv_text(&r.hardware.cpu_model),
        r.hardware.gpus.len().to_string(),
        csv_text(&gpu_model(&r.hardware.gpus)),
        empty(), // longitude
        empty(), // latitude
        (r.hardware.memory_bytes as f64 / (1024.0 * 1024.0 * 1024.0)).to_string(),
        "machine".into(), // tracking_mode: frugalbench meters machine-wide domains
        empty(),          // cpu_utilization_percent
        empty(),          // gpu_utilization_percent
        empty(),          // ram_utilization_percent
        empty(),          // ram_used_gb
        empty(),          // on_cloud
        pue.to_string(),
        empty(), // wue
    ];
    CodeCarbonRow { fields }
}

/// CodeCarbon's `emissions.csv`: header, then one row per result in the given order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecarbonCsv {
    /// Prefix of the `project_name` column (`<project>/<task>/<model>`).
    pub project_name: String,
}

impl Exporter<[Loaded]> for CodecarbonCsv {
    fn serialize(&self, results: &[Loaded]) -> anyhow::Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(CODECARBON_COLUMNS)?;
        for l in results {
            let row = codecarbon_row(l, &self.project_name);
            debug_assert_eq!(row.fields.len(), CODECARBON_COLUMNS.len());
            w.write_record(&row.fields)?;
        }
        Ok(w.into_inner()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_uuid_is_a_version_8_uuid() {
        let u = stable_uuid("x");
        assert_eq!(u, stable_uuid("x"));
        assert_ne!(u, stable_uuid("y"));
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "8");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn gpu_model_counts_like_codecarbon() {
        let g = vec!["NVIDIA H100".to_string(), "NVIDIA H100".to_string()];
        assert_eq!(gpu_model(&g), "2 x NVIDIA H100");
        assert_eq!(gpu_model(&[]), "");
    }
}
