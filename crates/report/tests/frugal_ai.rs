//! `export --format frugal-ai` on a fixed result against the hand-checked record in
//! `tests/fixtures/exports/frugal-ai.json` (`FRUGALBENCH_BLESS=1` rewrites it after an intended
//! change; then check its figures by hand again, as its README line says).

use std::collections::BTreeMap;

use frugalbench_report::export::{Exporter, FrugalAi};
use frugalbench_report::*;
use serde_json::json;

mod common;
use common::{fixture, fixtures, loaded};

/// The estimated text-classification fixture as a Frugal AI run: each of its 3 repetitions is
/// one pass over a 200-row test split, with the frugal-ai preset recorded.
fn frugal_result() -> RunResult {
    let mut r = fixture("estimated-text-classification.json");
    r.dataset.rows = 200;
    r.dataset.id = "QuotaClimat/frugalaichallenge-text-train".into();
    let mut settings = BTreeMap::new();
    settings.insert("seed".to_string(), json!(42));
    r.preset = Some(PresetRecord {
        name: "frugal-ai".into(),
        anchor: "Frugal AI Challenge 2025".into(),
        settings,
        overridden: vec![],
        gpu_only: None,
    });
    r
}

#[test]
fn the_submission_record_matches_the_expected_file() {
    let exporter = FrugalAi {
        username: Some("frugal-user".into()),
        space_url: Some("https://example.org/spaces/frugal-user/submission".into()),
        model_description: None,
    };
    let bytes = exporter
        .serialize(&[loaded(frugal_result(), "fai.json")])
        .unwrap();
    let path = fixtures().join("exports/frugal-ai.json");
    if std::env::var_os("FRUGALBENCH_BLESS").is_some() {
        std::fs::write(&path, &bytes).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap();
    assert_eq!(String::from_utf8(bytes).unwrap(), want);
}

#[test]
fn a_result_short_of_the_split_is_refused_naming_it() {
    let r = fixture("estimated-text-classification.json"); // 200 queries of 160 rows
    let err = FrugalAi::default()
        .serialize(&[loaded(r, "short.json")])
        .unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("short.json") && msg.contains("whole test split"),
        "{msg}"
    );
}
