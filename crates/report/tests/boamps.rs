//! `export --format boamps`: every shipped fixture exported and validated against the vendored
//! BoAmps schemas (`schema/boamps/`), estimates labelled as estimates, energy in kWh.

use serde_json::Value;

use frugalbench_report::export::boamps::information_quality;
use frugalbench_report::export::{boamps_report, validate_boamps, Boamps, Exporter};
use frugalbench_report::inputs::Loaded;
use frugalbench_report::*;

mod common;
use common::{fixture, fixtures_dir, loaded};

const FIXTURES: [&str; 3] = [
    "estimated-text-classification.json",
    "measured-rapl-sentence-similarity.json",
    "measured-rapl-text-generation.json",
];

fn all_fixtures() -> Vec<Loaded> {
    FIXTURES
        .into_iter()
        .map(|n| loaded(fixture(n), n))
        .collect()
}

fn export_one(r: &RunResult) -> Value {
    let bytes = Boamps.serialize(r).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn assert_valid(v: &Value) {
    if let Err(errors) = validate_boamps(v) {
        panic!(
            "not a valid BoAmps report:\n{}\n{}",
            errors.join("\n"),
            serde_json::to_string_pretty(v).unwrap()
        );
    }
}

fn measures(v: &Value) -> &Vec<Value> {
    v["measures"].as_array().unwrap()
}

fn kwh_sum(v: &Value) -> f64 {
    measures(v)
        .iter()
        .map(|m| m["powerConsumption"].as_f64().unwrap())
        .sum()
}

#[test]
fn the_fixture_folder_is_what_this_test_exports() {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert_eq!(names, FIXTURES);
}

#[test]
fn every_fixture_exports_to_a_valid_boamps_report() {
    for name in FIXTURES {
        let r = fixture(name);
        let v = export_one(&r);
        assert_valid(&v);
        // Energy: gross counted-domain joules in kWh, no PUE, split over the measures.
        let kwh = r.energy.total_joules / JOULES_PER_KWH;
        assert!(
            (kwh_sum(&v) - kwh).abs() <= 1e-12 + 1e-9 * kwh,
            "{name}: {} kWh in measures, {kwh} kWh in the result",
            kwh_sum(&v)
        );
        assert_eq!(v["task"]["nbRequest"], r.total_queries(), "{name}");
        assert_eq!(v["task"]["taskStage"], "inference");
        for m in measures(&v) {
            assert!(
                m["measurementMethod"]
                    .as_str()
                    .unwrap()
                    .starts_with("frugalbench: "),
                "{name}: {m}"
            );
            assert!(m["version"]
                .as_str()
                .unwrap()
                .starts_with(&r.harness.version));
            assert_eq!(m["measurementDuration"], r.timing.wall_seconds);
        }
        assert_eq!(
            v["task"]["algorithms"][0]["foundationModelName"],
            r.model.id.as_str()
        );
        assert_eq!(v["infrastructure"]["infraType"], "other");
        assert_eq!(
            v["header"]["reportDatetime"],
            r.finished_at.format("%Y-%m-%d %H:%M:%S").to_string()
        );
    }
}

#[test]
fn several_results_make_an_array_of_valid_reports_one_makes_an_object() {
    let all = all_fixtures();
    let v: Value = serde_json::from_slice(&Boamps.serialize(&all[..]).unwrap()).unwrap();
    let reports = v.as_array().expect("several results → a JSON array");
    assert_eq!(reports.len(), FIXTURES.len());
    for (rep, l) in reports.iter().zip(&all) {
        assert_valid(rep);
        assert_eq!(
            rep,
            &export_one(&l.result),
            "same report alone or in the array"
        );
    }
    let one: Value = serde_json::from_slice(&Boamps.serialize(&all[..1]).unwrap()).unwrap();
    assert!(one.is_object(), "one result → one report object");
    assert_valid(&one);
    // BoAmps' field order is kept (header first), not sorted.
    let text = String::from_utf8(Boamps.serialize(&all[0].result).unwrap()).unwrap();
    assert!(text.starts_with("{\n  \"header\": {\n    \"formatVersion\": \"1.1.0\""));
}

#[test]
fn an_estimated_result_is_labelled_estimated_never_measured() {
    let r = fixture("estimated-text-classification.json");
    assert_eq!(r.energy.method, OverallMethod::Estimated);
    let v = export_one(&r);
    assert_valid(&v);
    for m in measures(&v) {
        let method = m["measurementMethod"].as_str().unwrap();
        assert!(method.ends_with(", estimated"), "{method}");
        assert!(!method.contains("measured"), "{method}");
        assert_eq!(m["cpuTrackingMode"], "estimated");
    }
    let desc = v["task"]["taskDescription"].as_str().unwrap();
    assert!(desc.contains("energy estimated"), "{desc}");
    assert!(!serde_json::to_string(&v).unwrap().contains("measured,"));
}

#[test]
fn a_mixed_result_gets_one_measure_per_source_and_method() {
    // The measured fixture with its DRAM domain estimated: package measured, DRAM estimated.
    let mut r = fixture("measured-rapl-sentence-similarity.json");
    for rep in &mut r.repetitions {
        for s in &mut rep.by_source {
            if s.kind == DomainKind::Dram {
                s.method = Method::Estimated;
                s.joules_low = Some(s.joules * 0.8);
                s.joules_high = Some(s.joules * 1.2);
            }
        }
    }
    r.fill_derived();
    assert!(sanity_check(&r).is_empty(), "{:?}", sanity_check(&r));
    assert_eq!(r.energy.method, OverallMethod::Mixed);
    let v = export_one(&r);
    assert_valid(&v);
    let ms = measures(&v);
    assert_eq!(ms.len(), 2, "{ms:?}");
    assert_eq!(ms[0]["measurementMethod"], "frugalbench: rapl, measured");
    assert_eq!(ms[0]["cpuTrackingMode"], "rapl");
    assert_eq!(ms[1]["measurementMethod"], "frugalbench: rapl, estimated");
    assert!(
        ms[1].get("cpuTrackingMode").is_none(),
        "DRAM only: no CPU mode"
    );
    let dram: f64 = r
        .energy
        .by_source
        .iter()
        .filter(|s| s.kind == DomainKind::Dram)
        .map(|s| s.joules)
        .sum();
    assert!((ms[1]["powerConsumption"].as_f64().unwrap() - dram / JOULES_PER_KWH).abs() < 1e-12);
    // The core domain (inside the package) is not a measure of its own.
    assert!(!serde_json::to_string(&v).unwrap().contains("core-0"));
    // ±20 % on DRAM is well within ±10 % of the total: quality high.
    assert_eq!(information_quality(&r), Some("high"));
    assert_eq!(v["quality"], "high");
}

#[test]
fn quality_comes_only_from_an_estimate_range() {
    let measured = fixture("measured-rapl-text-generation.json");
    assert_eq!(information_quality(&measured), None);
    assert!(export_one(&measured).get("quality").is_none());
    let mut r = fixture("estimated-text-classification.json");
    assert_eq!(information_quality(&r), None, "no range, no claim");
    for (spread, expected) in [
        (0.05, Some("high")),
        (0.2, Some("medium")),
        (0.4, Some("low")),
        (0.8, None),
    ] {
        for rep in &mut r.repetitions {
            for s in &mut rep.by_source {
                s.joules_low = Some(s.joules * (1.0 - spread));
                s.joules_high = Some(s.joules * (1.0 + spread));
            }
        }
        r.fill_derived();
        assert_eq!(information_quality(&r), expected, "±{spread}");
        let v = export_one(&r);
        assert_valid(&v);
        assert_eq!(v.get("quality").and_then(Value::as_str), expected);
    }
}

#[test]
fn accuracy_goes_to_measured_accuracy_other_metrics_only_to_the_description() {
    let acc = export_one(&fixture("estimated-text-classification.json"));
    assert_eq!(acc["task"]["measuredAccuracy"], 0.6875);
    let spearman = export_one(&fixture("measured-rapl-sentence-similarity.json"));
    assert!(spearman["task"].get("measuredAccuracy").is_none());
    assert!(spearman["task"]["taskDescription"]
        .as_str()
        .unwrap()
        .contains("quality spearman = 0.8312"));
    assert!(spearman["task"].get("estimatedAccuracy").is_none());
}

#[test]
fn text_generation_reports_tokens_per_request() {
    let r = fixture("measured-rapl-text-generation.json");
    let g = r.generation.as_ref().unwrap();
    let q = r.total_queries() as f64;
    let v = export_one(&r);
    let d = v["task"]["dataset"].as_array().unwrap();
    assert_eq!(d.len(), 2);
    assert_eq!(d[0]["dataUsage"], "input");
    assert_eq!(d[0]["dataType"], "token");
    assert_eq!(d[0]["dataQuantity"], g.input_tokens as f64 / q);
    assert_eq!(d[1]["dataUsage"], "output");
    assert_eq!(d[1]["dataQuantity"], g.generated_tokens as f64 / q);
    assert_eq!(v["task"]["algorithms"][0]["quantization"], "q4_1");
}

#[test]
fn an_interrupted_run_is_not_a_final_report() {
    let mut r = fixture("measured-rapl-sentence-similarity.json");
    r.status = Status::Interrupted;
    let v = export_one(&r);
    assert_valid(&v);
    assert_eq!(v["header"]["reportStatus"], "other");
    assert!(v["task"]["taskDescription"]
        .as_str()
        .unwrap()
        .ends_with("run interrupted."));
}

#[test]
fn gpus_and_memory_become_components() {
    let mut r = fixture("measured-rapl-sentence-similarity.json");
    r.hardware.gpus = vec!["NVIDIA H100".into(), "NVIDIA H100".into()];
    let report = boamps_report(&r);
    let c = &report.infrastructure.components;
    assert_eq!(c.len(), 3);
    assert_eq!(c[0].component_type, "cpu");
    assert_eq!(c[1].component_type, "gpu");
    assert_eq!(c[1].component_name.as_deref(), Some("2 x NVIDIA H100"));
    assert_eq!(c[1].nb_component, 2);
    assert_eq!(c[2].component_type, "ram");
    assert_eq!(c[2].memory_size, Some(r.hardware.memory_bytes as f64 / 1e9));
    assert_valid(&serde_json::to_value(&report).unwrap());
}

/// The validator really applies the `$ref`ed sub-schemas (not just the top-level one).
#[test]
fn the_validator_resolves_the_sub_schemas() {
    let good = export_one(&fixture("measured-rapl-sentence-similarity.json"));
    assert_valid(&good);
    let mut no_energy = good.clone();
    no_energy["measures"][0]
        .as_object_mut()
        .unwrap()
        .remove("powerConsumption");
    let e = validate_boamps(&no_energy).unwrap_err();
    assert!(e.iter().any(|l| l.starts_with("/measures/0")), "{e:?}");
    let mut bad_data = good.clone();
    bad_data["task"]["dataset"][0]["dataType"] = "pictures".into();
    let e = validate_boamps(&bad_data).unwrap_err();
    assert!(e.iter().any(|l| l.starts_with("/task/dataset/0")), "{e:?}");
    let mut bad_component = good.clone();
    bad_component["infrastructure"]["components"][0]["nbComponent"] = 1.5.into();
    assert!(validate_boamps(&bad_component).is_err());
    let mut no_infra = good;
    no_infra.as_object_mut().unwrap().remove("infrastructure");
    assert!(validate_boamps(&no_infra).is_err());
}

/// BoAmps' own example report (examples/energy-report-llm-inference.json at the vendored
/// commit, trimmed to its structure) passes the same validator.
#[test]
fn boamps_own_example_shape_is_valid() {
    let example = serde_json::json!({
        "header": {"licensing": "Creative Commons 4.0", "formatVersion": "0.1",
            "reportId": "2f4643f7-68b5-4fb6-21f0-b5dcda04897d",
            "reportDatetime": "2025-02-26 16:57:00", "reportStatus": "draft",
            "publisher": {"name": "sopra steria", "confidentialityLevel": "public"}},
        "task": {"taskStage": "inference", "taskFamily": "chatbot", "nbRequest": 1,
            "algorithms": [{"algorithmType": "llm", "foundationModelName": "llama2-13b",
                "framework": "vllm", "parametersNumber": 13, "quantization": "q16"}],
            "dataset": [{"dataUsage": "input", "dataType": "token", "dataQuantity": 11},
                {"dataUsage": "output", "dataType": "token", "dataQuantity": 828}],
            "estimatedAccuracy": "veryGood"},
        "measures": [{"measurementMethod": "codecarbon", "version": "2.5.0",
            "cpuTrackingMode": "constant", "gpuTrackingMode": "nvml",
            "powerConsumption": 0.00267074, "measurementDuration": 19.09390426,
            "measurementDateTime": "2024-09-30 09:09:40"}],
        "system": {"os": "linux"},
        "software": {"language": "python", "version": "3.10.12"},
        "infrastructure": {"infraType": "publicCloud", "cloudProvider": "ovh",
            "components": [{"componentType": "ram", "nbComponent": 1, "memorySize": 86}]},
        "environment": {"country": "france", "powerSupplierType": "public"},
        "quality": "high"
    });
    assert_valid(&example);
}
