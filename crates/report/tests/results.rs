//! Schema, sanity rules, fixtures and atomic writing of result files.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use frugalbench_report::*;
use serde_json::{json, Value};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/results")
}

fn fixture_paths() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(fixtures_dir())
        .expect("tests/fixtures/results exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

fn fixture(name: &str) -> RunResult {
    read_result(&fixtures_dir().join(name)).unwrap()
}

fn generation_example() -> RunResult {
    fixture("measured-rapl-text-generation.json")
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|it| {
            it.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()) + 1e-12
}

#[test]
fn fixtures_are_valid_sane_and_marked_as_examples() {
    let paths = fixture_paths();
    assert!(paths.len() >= 3, "expected 3 fixtures, found {paths:?}");
    let mut methods = Vec::new();
    let mut tasks = Vec::new();
    for p in &paths {
        let raw: Value = serde_json::from_str(&fs::read_to_string(p).unwrap()).unwrap();
        assert_eq!(validate(&raw), Ok(()), "{}", p.display());
        let r = read_result(p).unwrap();
        assert_eq!(sanity_check(&r), Vec::<String>::new(), "{}", p.display());
        assert!(
            r.energy
                .notes
                .iter()
                .any(|n| n == "example fixture, not a real measurement"),
            "{} lacks the example note",
            p.display()
        );
        methods.push(r.energy.method);
        tasks.push(r.task);
    }
    assert!(methods.contains(&OverallMethod::Measured));
    assert!(methods.contains(&OverallMethod::Estimated));
    assert!(tasks.contains(&Task::TextGeneration));
}

#[test]
fn fill_derived_reproduces_the_fixtures() {
    for p in fixture_paths() {
        let r = read_result(&p).unwrap();
        let mut d = r.clone();
        d.fill_derived();
        let (a, b) = (
            serde_json::to_value(&r).unwrap(),
            serde_json::to_value(&d).unwrap(),
        );
        assert_same_numbers(&a, &b, &format!("{}:", p.display()));
    }
}

/// Same shape; strings/ints equal; floats within 1e-6 relative (fixtures are rounded to 9 digits).
fn assert_same_numbers(a: &Value, b: &Value, at: &str) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let kx: Vec<_> = x.keys().collect();
            let ky: Vec<_> = y.keys().collect();
            assert_eq!(kx, ky, "{at}");
            for (k, v) in x {
                assert_same_numbers(v, &y[k], &format!("{at}/{k}"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}");
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                assert_same_numbers(v, w, &format!("{at}/{i}"));
            }
        }
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(close(x, y), "{at}: {x} vs {y}");
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}

#[test]
fn full_result_round_trips_through_serde_and_validates() {
    let r = generation_example();
    let text = serde_json::to_string_pretty(&r).unwrap();
    let back: RunResult = serde_json::from_str(&text).unwrap();
    assert_eq!(back, r);
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(validate(&value), Ok(()));
    // Timestamps are RFC 3339 UTC, units spelled in names.
    assert_eq!(value["started_at"], json!("2026-11-23T12:30:00Z"));
    assert!(value["energy"]["wh_per_1000_queries"].is_f64());
    assert_eq!(
        value["energy"]["by_source"][0]["kind"],
        json!("cpu-package")
    );
    assert_eq!(value["status"], json!("complete"));
}

#[test]
fn optional_fields_may_be_absent_or_null() {
    let mut v = serde_json::to_value(generation_example()).unwrap();
    v["slurm"] = Value::Null;
    v["harness"]["git_commit"] = Value::Null;
    v["energy"]["idle_watts"] = Value::Null;
    v["energy"]["net_joules_per_query"] = Value::Null;
    for r in v["repetitions"].as_array_mut().unwrap() {
        r["net_joules_per_query"] = Value::Null;
    }
    assert_eq!(validate(&v), Ok(()));
    let r: RunResult = serde_json::from_value(v.clone()).unwrap();
    assert!(r.slurm.is_none() && r.energy.idle_watts.is_none());
    let obj = v.as_object_mut().unwrap();
    obj.remove("quality");
    obj.remove("slurm");
    obj.remove("timeline_csv");
    assert_eq!(validate(&v), Ok(()));
}

fn reasons_for(edit: impl FnOnce(&mut Value)) -> Vec<String> {
    let mut v = serde_json::to_value(generation_example()).unwrap();
    edit(&mut v);
    validate(&v).expect_err("should be invalid")
}

#[test]
fn negative_energy_is_rejected_with_its_location() {
    let reasons = reasons_for(|v| v["energy"]["total_joules"] = json!(-1.5));
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(
        reasons[0].starts_with("/energy/total_joules:"),
        "{reasons:?}"
    );
    assert!(reasons[0].contains("minimum"), "{reasons:?}");

    let reasons = reasons_for(|v| v["repetitions"][1]["by_source"][0]["joules"] = json!(-3));
    assert!(
        reasons[0].starts_with("/repetitions/1/by_source/0/joules:"),
        "{reasons:?}"
    );
}

#[test]
fn missing_field_is_rejected_by_name() {
    let reasons = reasons_for(|v| {
        v.as_object_mut().unwrap().remove("status");
    });
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(
        reasons[0].contains("\"status\" is a required property"),
        "{reasons:?}"
    );

    let reasons = reasons_for(|v| {
        v["energy"].as_object_mut().unwrap().remove("method");
    });
    assert!(
        reasons[0].starts_with("/energy:") && reasons[0].contains("\"method\""),
        "{reasons:?}"
    );
}

#[test]
fn unknown_enum_values_and_extra_fields_are_rejected() {
    let reasons = reasons_for(|v| v["status"] = json!("done"));
    assert!(
        reasons[0].starts_with("/status:") && reasons[0].contains("done"),
        "{reasons:?}"
    );
    let reasons = reasons_for(|v| v["task"] = json!("image-generation"));
    assert!(reasons[0].starts_with("/task:"), "{reasons:?}");
    let reasons = reasons_for(|v| v["energy"]["method"] = json!("guessed"));
    assert!(reasons[0].starts_with("/energy/method:"), "{reasons:?}");
    let reasons = reasons_for(|v| v["energy_wh"] = json!(3.0));
    assert!(reasons[0].contains("energy_wh"), "{reasons:?}");
    let reasons = reasons_for(|v| v["schema_version"] = json!(2));
    assert!(reasons[0].starts_with("/schema_version:"), "{reasons:?}");
    let reasons = reasons_for(|v| v["started_at"] = json!("yesterday"));
    assert!(reasons[0].starts_with("/started_at:"), "{reasons:?}");
    let reasons = reasons_for(|v| v["timeline_csv"] = json!("../../etc/x.csv"));
    assert!(reasons[0].starts_with("/timeline_csv:"), "{reasons:?}");
    // Serde agrees on the enums.
    let mut v = serde_json::to_value(generation_example()).unwrap();
    v["status"] = json!("done");
    let err = serde_json::from_value::<RunResult>(v)
        .unwrap_err()
        .to_string();
    assert!(err.contains("done"), "{err}");
}

#[test]
fn schema_enums_match_the_rust_types() {
    let schema: Value = serde_json::from_str(RESULT_SCHEMA).unwrap();
    let tasks: Vec<&str> = schema["properties"]["task"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let known: Vec<&str> = Task::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(tasks, known);
    let kinds = &schema["$defs"]["source_energy"]["properties"]["kind"]["enum"];
    for k in [
        DomainKind::CpuPackage,
        DomainKind::Core,
        DomainKind::Uncore,
        DomainKind::Dram,
        DomainKind::Psys,
        DomainKind::Gpu,
    ] {
        let s = serde_json::to_value(k).unwrap();
        assert!(kinds.as_array().unwrap().contains(&s), "{s}");
    }
    let methods = &schema["$defs"]["source_energy"]["properties"]["method"]["enum"];
    for m in [
        Method::Measured,
        Method::MeasuredPowerIntegrated,
        Method::Estimated,
    ] {
        let s = serde_json::to_value(m).unwrap();
        assert!(methods.as_array().unwrap().contains(&s), "{s}");
    }
    assert_eq!(schema["additionalProperties"], json!(false));
}

#[test]
fn sanity_catches_what_the_schema_cannot() {
    let good = generation_example();

    let mut r = good.clone();
    r.energy.joules_per_query *= 1.01;
    let p = sanity_check(&r);
    assert!(
        p.iter().any(|s| s.starts_with("energy.joules_per_query =")),
        "{p:?}"
    );
    // The Wh figure was derived from the old J/query, so it is flagged too.
    assert!(
        p.iter()
            .any(|s| s.starts_with("energy.wh_per_1000_queries =")),
        "{p:?}"
    );

    let mut r = good.clone();
    r.energy.total_joules = f64::NAN;
    let p = sanity_check(&r);
    assert!(
        p.iter()
            .any(|s| s.contains("energy.total_joules = NaN: must be finite")),
        "{p:?}"
    );
    // NaN becomes null in JSON, which the schema rejects.
    let v = serde_json::to_value(&r).unwrap();
    assert!(validate(&v).unwrap_err()[0].starts_with("/energy/total_joules:"));

    let mut r = good.clone();
    r.timing.wall_seconds = 0.0;
    r.repetitions[0].wall_seconds = 0.0;
    let p = sanity_check(&r);
    assert!(
        p.iter()
            .any(|s| s.starts_with("timing.wall_seconds = 0: must be > 0")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|s| s.starts_with("repetitions[0].wall_seconds = 0: must be > 0")),
        "{p:?}"
    );

    // An unknown task is not representable: reading it fails, naming the known ones.
    let mut v = serde_json::to_value(&good).unwrap();
    v["task"] = json!("image-generation");
    let err = serde_json::from_value::<RunResult>(v)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("unknown variant `image-generation`") && err.contains("sentence-similarity"),
        "{err}"
    );

    let mut r = good.clone();
    r.energy.method = OverallMethod::Estimated;
    let p = sanity_check(&r);
    assert!(
        p.iter().any(|s| s.starts_with("energy.method = estimated")),
        "{p:?}"
    );

    let mut r = good.clone();
    r.repetitions.pop();
    let p = sanity_check(&r);
    assert!(
        p.iter()
            .any(|s| s.contains("2 repetitions recorded of settings.repetitions = 3")),
        "{p:?}"
    );

    let mut r = good.clone();
    r.generation
        .as_mut()
        .unwrap()
        .decode_joules_per_generated_token *= 2.0;
    let p = sanity_check(&r);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].starts_with("generation.decode_joules_per_generated_token"),
        "{p:?}"
    );

    let mut r = good;
    r.carbon.g_co2e = 1.0;
    r.finished_at = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
    let p = sanity_check(&r);
    assert!(
        p.iter().any(|s| s.starts_with("carbon.g_co2e = 1 but")),
        "{p:?}"
    );
    assert!(p.iter().any(|s| s.starts_with("finished_at")), "{p:?}");
}

#[test]
fn interrupted_before_any_query_is_writable() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = fixture("estimated-text-classification.json");
    r.status = Status::Interrupted;
    r.repetitions.clear();
    r.quality = None;
    r.timing.latency_ms = LatencyMs {
        p50: 0.0,
        p95: 0.0,
        p99: 0.0,
        mean: 0.0,
    };
    r.fill_derived();
    assert_eq!(r.energy.total_joules, 0.0);
    assert_eq!(r.energy.joules_per_query, 0.0);
    assert_eq!(r.energy.joules_per_query_ci95, None);
    // No domain left to decide the method: the recorded one stays.
    assert_eq!(r.energy.method, OverallMethod::Estimated);
    assert_eq!(sanity_check(&r), Vec::<String>::new());
    let path = write_result(dir.path(), &r, None).unwrap();
    let back = read_result(&path).unwrap();
    assert_eq!(back.status, Status::Interrupted);
    assert!(back.quality.is_none());
    // But a "complete" run with no query is not.
    r.status = Status::Complete;
    assert!(sanity_check(&r)
        .iter()
        .any(|s| s.contains("no query was metered")));
}

#[test]
fn fill_derived_clamps_net_at_zero_with_a_note() {
    let mut r = fixture("measured-rapl-sentence-similarity.json");
    r.energy.idle_watts = Some(1000.0);
    r.fill_derived();
    assert_eq!(r.energy.net_joules_per_query, Some(0.0));
    assert!(r.energy.notes.iter().any(|n| n.contains("clamped at 0")));
    assert_eq!(sanity_check(&r), Vec::<String>::new());
    r.fill_derived();
    assert_eq!(
        r.energy
            .notes
            .iter()
            .filter(|n| n.contains("clamped"))
            .count(),
        1
    );
}

#[test]
fn result_path_layout() {
    let t = Utc.with_ymd_and_hms(2026, 11, 23, 10, 15, 2).unwrap();
    assert_eq!(
        result_path(
            Path::new("results"),
            "text-generation",
            "smollm2-135m-instruct-q4_1",
            t
        ),
        Path::new("results/text-generation/smollm2-135m-instruct-q4_1/2026-11-23T10-15-02Z.json")
    );
    assert_eq!(
        result_path(Path::new("out"), "text-generation", "../evil/id", t),
        Path::new("out/text-generation/.._evil_id/2026-11-23T10-15-02Z.json")
    );
    assert_eq!(path_component(".."), "_");
    assert_eq!(path_component(""), "_");
}

#[test]
fn two_writes_with_the_same_timestamp_give_two_files() {
    let dir = tempfile::tempdir().unwrap();
    let r = generation_example();
    let a = write_result(dir.path(), &r, Some(b"t_s,package-0\n0.0,40.1\n")).unwrap();
    let b = write_result(dir.path(), &r, Some(b"t_s,package-0\n0.0,41.7\n")).unwrap();
    let c = write_result(dir.path(), &r, None).unwrap();
    let folder = dir
        .path()
        .join("text-generation/smollm2-135m-instruct-q4_1");
    assert_eq!(a, folder.join("2026-11-23T12-30-00Z.json"));
    assert_eq!(b, folder.join("2026-11-23T12-30-00Z-1.json"));
    assert_eq!(c, folder.join("2026-11-23T12-30-00Z-2.json"));
    assert_eq!(
        files_in(&folder),
        [
            "2026-11-23T12-30-00Z-1.json",
            "2026-11-23T12-30-00Z-1.timeline.csv",
            "2026-11-23T12-30-00Z-2.json",
            "2026-11-23T12-30-00Z.json",
            "2026-11-23T12-30-00Z.timeline.csv",
        ]
    );
    let ra = read_result(&a).unwrap();
    let rb = read_result(&b).unwrap();
    let rc = read_result(&c).unwrap();
    assert_eq!(
        ra.timeline_csv.as_deref(),
        Some("2026-11-23T12-30-00Z.timeline.csv")
    );
    assert_eq!(
        rb.timeline_csv.as_deref(),
        Some("2026-11-23T12-30-00Z-1.timeline.csv")
    );
    assert_eq!(rc.timeline_csv, None);
    assert_eq!(
        fs::read(timeline_path(&b, &rb).unwrap()).unwrap(),
        b"t_s,package-0\n0.0,41.7\n"
    );
    // Apart from the timeline name, what was written is what was given.
    let mut expected = r.clone();
    expected.timeline_csv = ra.timeline_csv.clone();
    assert_eq!(ra, expected);
}

#[test]
fn concurrent_writers_never_clobber_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let r = generation_example();
    let paths: Vec<PathBuf> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (dir, r) = (dir.path(), &r);
                s.spawn(move || {
                    let csv = format!("t_s,package-0\n0.0,{i}\n");
                    (write_result(dir, r, Some(csv.as_bytes())).unwrap(), csv)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                let (path, csv) = h.join().unwrap();
                // Each writer's result names a timeline holding that writer's bytes.
                let back = read_result(&path).unwrap();
                assert_eq!(
                    fs::read_to_string(timeline_path(&path, &back).unwrap()).unwrap(),
                    csv
                );
                path
            })
            .collect()
    });
    let mut unique = paths.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 8);
    let folder = paths[0].parent().unwrap();
    assert_eq!(files_in(folder).len(), 16, "{:?}", files_in(folder));
}

#[test]
fn an_invalid_result_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = generation_example();
    r.energy.total_joules = -5.0;
    let err = write_result(dir.path(), &r, Some(b"x")).unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("refusing to write"), "{msg}");
    assert!(
        msg.contains("energy.total_joules = -5: must be finite and non-negative"),
        "{msg}"
    );
    assert!(
        files_in(dir.path()).is_empty(),
        "{:?}",
        files_in(dir.path())
    );

    // Schema-only problems (sanity can't see them) are refused too.
    let mut r = generation_example();
    r.model.files[0].sha256 = "not-a-hash".into();
    let msg = format!("{:#}", write_result(dir.path(), &r, None).unwrap_err());
    assert!(msg.contains("does not match the result schema"), "{msg}");
    assert!(msg.contains("/model/files/0/sha256"), "{msg}");
    assert!(files_in(dir.path()).is_empty());
}

#[test]
fn write_atomic_never_overwrites_unless_asked_and_leaves_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/head.bin");
    write_atomic(&path, b"first", false).unwrap();
    let err = write_atomic(&path, b"second", false).unwrap_err();
    let io = err.root_cause().downcast_ref::<std::io::Error>().unwrap();
    assert_eq!(io.kind(), std::io::ErrorKind::AlreadyExists);
    assert!(
        format!("{err:#}").contains("refusing to overwrite"),
        "{err:#}"
    );
    assert_eq!(fs::read(&path).unwrap(), b"first");
    assert_eq!(files_in(&dir.path().join("sub")), ["head.bin"]);

    write_atomic(&path, b"second", true).unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"second");
    assert_eq!(files_in(&dir.path().join("sub")), ["head.bin"]);

    // Renaming onto a non-empty folder fails: the temp file must go away too.
    let blocker = dir.path().join("sub/blocked");
    fs::create_dir_all(blocker.join("inside")).unwrap();
    assert!(write_atomic(&blocker, b"x", true).is_err());
    assert_eq!(files_in(&dir.path().join("sub")), ["blocked", "head.bin"]);
}

#[cfg(unix)]
#[test]
fn written_files_are_readable_by_others() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.json");
    write_atomic(&path, b"{}", false).unwrap();
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    // 0666 minus the umask; the usual umasks (022, 002) keep it world-readable, unlike
    // tempfile's 0600.
    assert_ne!(mode, 0o600, "{mode:o}");
    assert!(mode & 0o044 != 0, "{mode:o}");
}

#[test]
fn read_result_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.json");
    let msg = format!("{:#}", read_result(&missing).unwrap_err());
    assert!(
        msg.contains("reading result file") && msg.contains("nope.json"),
        "{msg}"
    );

    let bad = dir.path().join("bad.json");
    fs::write(&bad, "{\n  \"schema_version\": 1,\n  oops\n}").unwrap();
    let msg = format!("{:#}", read_result(&bad).unwrap_err());
    assert!(
        msg.contains("bad.json: not valid JSON") && msg.contains("line 3"),
        "{msg}"
    );

    let v2 = dir.path().join("v2.json");
    fs::write(&v2, "{\"schema_version\": 2}").unwrap();
    let msg = format!("{:#}", read_result(&v2).unwrap_err());
    assert!(msg.contains("schema_version 2 is not supported"), "{msg}");

    let other = dir.path().join("other.json");
    fs::write(&other, "{\"duration_s\": 2}").unwrap();
    let msg = format!("{:#}", read_result(&other).unwrap_err());
    assert!(msg.contains("no schema_version field"), "{msg}");

    let neg = dir.path().join("neg.json");
    let mut v = serde_json::to_value(generation_example()).unwrap();
    v["carbon"]["pue"] = json!(0.5);
    v["timing"]["wall_seconds"] = json!(-1);
    fs::write(&neg, serde_json::to_vec(&v).unwrap()).unwrap();
    let msg = format!("{:#}", read_result(&neg).unwrap_err());
    assert!(msg.contains("does not match the result schema"), "{msg}");
    assert!(
        msg.contains("/carbon/pue") && msg.contains("/timing/wall_seconds"),
        "{msg}"
    );
}
