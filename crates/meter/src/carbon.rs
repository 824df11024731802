//! Carbon accounting: energy × PUE × grid carbon intensity.

use anyhow::{bail, Context};
use frugalbench_schema::CarbonIntensity;
use serde::Serialize;

/// CodeCarbon's world-average grid intensity, g CO2e/kWh (IEA Global Energy & CO2
/// Status Report 2019; `world_average` in CodeCarbon's
/// carbon_intensity_per_source.json), used when no country or intensity is given.
pub const WORLD_DEFAULT_G_PER_KWH: f64 = 475.0;

const GRID_CSV: &str = include_str!("../data/grid_intensity.csv");
const GRID_ORIGIN: &str = "crates/meter/data/grid_intensity.csv";

/// One country of the shipped grid table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GridRow {
    /// ISO 3166-1 alpha-2 code.
    pub alpha2: String,
    /// ISO 3166-1 alpha-3 code.
    pub alpha3: String,
    /// Country name.
    pub country: String,
    /// g CO2e per kWh.
    pub g_per_kwh: f64,
    /// Data year.
    pub year: u16,
}

/// Parses a grid table (`alpha2,alpha3,country,g_co2e_per_kwh,year`, `#` comments).
pub fn parse_grid_table(text: &str, origin: &str) -> anyhow::Result<Vec<GridRow>> {
    let expected = ["alpha2", "alpha3", "country", "g_co2e_per_kwh", "year"];
    let mut rdr = crate::csv_table::reader(text, origin, &expected)?;
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.with_context(|| format!("{origin}: malformed CSV"))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let g_per_kwh: f64 = rec[3].parse().with_context(|| {
            format!(
                "{origin}:{line}: field `g_co2e_per_kwh`: {:?} is not a number",
                &rec[3]
            )
        })?;
        if !(g_per_kwh.is_finite() && g_per_kwh >= 0.0) {
            bail!("{origin}:{line}: field `g_co2e_per_kwh` must be ≥ 0");
        }
        let year: u16 = rec[4].parse().with_context(|| {
            format!("{origin}:{line}: field `year`: {:?} is not a year", &rec[4])
        })?;
        if rec[0].len() != 2 || rec[1].len() != 3 {
            bail!("{origin}:{line}: fields `alpha2`/`alpha3` must be 2- and 3-letter codes");
        }
        rows.push(GridRow {
            alpha2: rec[0].to_ascii_uppercase(),
            alpha3: rec[1].to_ascii_uppercase(),
            country: rec[2].to_owned(),
            g_per_kwh,
            year,
        });
    }
    Ok(rows)
}

/// The grid table shipped with the crate.
pub fn grid_table() -> Vec<GridRow> {
    parse_grid_table(GRID_CSV, GRID_ORIGIN)
        .expect("the shipped grid table is checked by a unit test")
}

/// The carbon intensity to use: an explicit `intensity` wins; else the `country` (ISO alpha-2
/// or alpha-3) from the shipped table; else the world default. `pue` must be ≥ 1.
pub fn resolve(
    country: Option<&str>,
    intensity: Option<f64>,
    pue: f64,
) -> anyhow::Result<CarbonIntensity> {
    if !(pue.is_finite() && pue >= 1.0) {
        bail!("--pue must be a number ≥ 1.0 (1.0 = no data-centre overhead), got {pue}");
    }
    if let Some(g) = intensity {
        if !(g.is_finite() && g >= 0.0) {
            bail!("--grid-intensity must be a number of g CO2e/kWh ≥ 0, got {g}");
        }
        return Ok(CarbonIntensity {
            grid_intensity_g_per_kwh: g,
            intensity_source: "given by the user (--grid-intensity)".into(),
            pue,
        });
    }
    let Some(code) = country else {
        return Ok(CarbonIntensity {
                grid_intensity_g_per_kwh: WORLD_DEFAULT_G_PER_KWH,
                intensity_source: "world default 475 g CO2e/kWh (CodeCarbon's default, from the IEA Global Energy & CO2 Status Report 2019)".into(),
                pue,
            });
    };
    let code = code.trim().to_ascii_uppercase();
    let table = grid_table();
    match table.iter().find(|r| r.alpha2 == code || r.alpha3 == code) {
            Some(r) => Ok(CarbonIntensity {
                grid_intensity_g_per_kwh: r.g_per_kwh,
                intensity_source: format!(
                    "{} ({}) {}: Our World in Data carbon intensity of electricity generation (Ember / Energy Institute), as packaged in CodeCarbon's global_energy_mix.json",
                    r.country, r.alpha2, r.year
                ),
                pue,
            }),
            None => {
                let known: Vec<&str> = table.iter().map(|r| r.alpha2.as_str()).collect();
                bail!(
                    "unknown country code {code:?}: {GRID_ORIGIN} knows {}; pass the grid's carbon intensity instead with --grid-intensity G_PER_KWH",
                    known.join(", ")
                )
            }
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_table_parses() {
        let t = grid_table();
        assert!(t.len() >= 30);
        let fr = t.iter().find(|r| r.alpha2 == "FR").unwrap();
        assert_eq!((fr.alpha3.as_str(), fr.year), ("FRA", 2023));
    }

    #[test]
    fn bad_rows_name_line_and_field() {
        let text = "alpha2,alpha3,country,g_co2e_per_kwh,year\nFR,FRA,France,lots,2023\n";
        let msg = format!("{:#}", parse_grid_table(text, "g.csv").unwrap_err());
        assert!(
            msg.contains("g.csv:2") && msg.contains("g_co2e_per_kwh"),
            "{msg}"
        );
    }
}
