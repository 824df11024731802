//! Carbon accounting.

use frugalbench_meter::carbon::{grid_table, WORLD_DEFAULT_G_PER_KWH};
use frugalbench_meter::resolve_carbon;

#[test]
fn explicit_intensity_wins() {
    let c = resolve_carbon(Some("FR"), Some(100.0), 1.0).unwrap();
    assert_eq!(c.grid_intensity_g_per_kwh, 100.0);
    assert!(c.intensity_source.contains("--grid-intensity"));
}

#[test]
fn country_codes_resolve_case_insensitively() {
    let fr = grid_table().into_iter().find(|r| r.alpha2 == "FR").unwrap();
    for code in ["FR", "fr", "FRA", " fra "] {
        let c = resolve_carbon(Some(code), None, 1.0).unwrap();
        assert_eq!(c.grid_intensity_g_per_kwh, fr.g_per_kwh, "{code}");
        assert!(c.intensity_source.contains("France") && c.intensity_source.contains("2023"));
    }
}

#[test]
fn default_is_the_world_average() {
    let c = resolve_carbon(None, None, 1.0).unwrap();
    assert_eq!(c.grid_intensity_g_per_kwh, WORLD_DEFAULT_G_PER_KWH);
    assert_eq!(c.grid_intensity_g_per_kwh, 475.0);
    assert!(c.intensity_source.contains("CodeCarbon"));
}

#[test]
fn grams_are_kwh_times_pue_times_intensity() {
    let c = resolve_carbon(None, Some(400.0), 1.5).unwrap();
    assert_eq!(c.grams(3.6e6), 600.0); // 1 kWh × 1.5 × 400 g/kWh
    assert_eq!(c.grams(0.0), 0.0);
    assert!((c.grams(3600.0) - 0.6).abs() < 1e-12); // 1 Wh
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["pue"], 1.5);
}

#[test]
fn bad_inputs_are_clear_errors() {
    let e = resolve_carbon(Some("XX"), None, 1.0)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("\"XX\"") && e.contains("--grid-intensity") && e.contains("FR"),
        "{e}"
    );
    let e = resolve_carbon(None, None, 0.9).unwrap_err().to_string();
    assert!(e.contains("--pue"), "{e}");
    assert!(resolve_carbon(None, None, f64::NAN).is_err());
    assert!(resolve_carbon(None, Some(-1.0), 1.0).is_err());
}
