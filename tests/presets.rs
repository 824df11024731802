//! `--preset ai-energy-score` and `--preset frugal-ai` end to end with a tiny random-weight BERT
//! (offline, no GPU): the settings each preset produced, against hand-written expected files
//! in `tests/fixtures/presets/`, explicit flags over a preset, the missing-dataset error, the
//! `presets` command and `export --format frugal-ai` on a real run.

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{
    assert_one_error_line, bin, json_files, json_stdout, read_valid_result, stderr, tiny_bert,
    write_similarity_pairs,
};
use serde_json::Value;

mod common;

struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
    catalogue: PathBuf,
    pairs: PathBuf,
    claims: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    tiny_bert(&root, "tiny-bert");
    let catalogue = root.join("models.toml");
    std::fs::write(
        &catalogue,
        "[[model]]\nid = \"tiny-bert\"\ntasks = [\"sentence-similarity\", \"text-classification\"]\n\
         arch = \"bert\"\ndefault = true\npath = \"tiny-bert\"\nmax_seq_len = 64\n",
    )
    .unwrap();
    let pairs = root.join("pairs.jsonl");
    write_similarity_pairs(&pairs);
    let claims = root.join("claims.jsonl");
    let mut rows = String::new();
    for (i, (text, label)) in [
        ("the climate is not changing at all", "1_not_happening"),
        ("temperatures are not rising anywhere", "1_not_happening"),
        ("the weather station opened today", "0_not_relevant"),
        ("a new wind farm opened in the north", "0_not_relevant"),
    ]
    .iter()
    .enumerate()
    {
        rows.push_str(&format!(
            "{{\"text\": \"{text}\", \"label\": \"{label}\", \"split\": \"train\"}}\n"
        ));
        // Three test rows: the whole test split is 3 queries.
        if i < 3 {
            rows.push_str(&format!(
                "{{\"text\": \"{text} indeed\", \"label\": \"{label}\", \"split\": \"test\"}}\n"
            ));
        }
    }
    std::fs::write(&claims, rows).unwrap();
    Setup {
        _dir: dir,
        root,
        catalogue,
        pairs,
        claims,
    }
}

impl Setup {
    fn run(&self, out: &str) -> Command {
        let mut cmd = bin();
        cmd.arg("run")
            .arg("--catalogue")
            .arg(&self.catalogue)
            .arg("--out")
            .arg(self.root.join(out))
            .arg("--cache-dir")
            .arg(self.root.join("cache"))
            .arg("--powercap-root")
            .arg(self.root.join("no-powercap"))
            .args(["--no-nvml", "--idle-seconds", "0", "--interval-ms", "50"])
            .args(["--model", "tiny-bert"]);
        cmd
    }

    fn only_result(&self, out: &str) -> (PathBuf, Value) {
        let files: Vec<PathBuf> = json_files(&self.root.join(out))
            .into_iter()
            .filter(|p| !p.to_string_lossy().contains(".head."))
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        let v = read_valid_result(&files[0]);
        (files[0].clone(), v)
    }
}

fn expected(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/presets")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

#[test]
fn ai_energy_score_preset_produces_its_protocol() {
    let s = setup();
    std::fs::create_dir_all(s.root.join("no-powercap")).unwrap();
    let o = s
        .run("aies")
        .args([
            "--task",
            "sentence-similarity",
            "--preset",
            "ai-energy-score",
        ])
        .arg("--dataset")
        .arg(&s.pairs)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let (_, v) = s.only_result("aies");
    // The hand-written expectation of every setting the preset fixed.
    assert_eq!(
        v["preset"],
        expected("ai-energy-score.preset.json"),
        "{:#}",
        v["preset"]
    );
    // The result's own settings agree.
    let st = &v["settings"];
    assert_eq!(
        (
            &st["batch_size"],
            &st["warmup_queries"],
            &st["repetitions"],
            &st["queries"]
        ),
        (
            &Value::from(1),
            &Value::from(10),
            &Value::from(10),
            &Value::from(1000)
        )
    );
    assert_eq!(v["repetitions"].as_array().unwrap().len(), 10);
    assert!(v["repetitions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["queries"] == 1000));
    // The whole-machine figure is there; the GPU-only one is null with its reason.
    assert!(v["energy"]["wh_per_1000_queries"].as_f64().unwrap() > 0.0);

    // Explicit flags win over the preset and are listed.
    let o = s
        .run("aies-override")
        .args([
            "--task",
            "sentence-similarity",
            "--preset",
            "ai-energy-score",
        ])
        .arg("--dataset")
        .arg(&s.pairs)
        .args(["--queries", "6", "--repetitions", "2", "--warmup", "1"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let (_, v) = s.only_result("aies-override");
    let p = &v["preset"];
    assert_eq!(
        p["overridden"],
        serde_json::json!(["--queries", "--repetitions", "--warmup", "--dataset"])
    );
    assert_eq!(p["settings"]["queries"], 6);
    assert_eq!(p["settings"]["repetitions"], 2);
    assert_eq!(
        p["settings"]["batch_size"], 1,
        "not overridden: the preset's"
    );
    assert_eq!(v["settings"]["warmup_queries"], 1);

    // Without --dataset the preset needs the anchor's set: one clear line.
    let o = s
        .run("aies-missing")
        .args([
            "--task",
            "sentence-similarity",
            "--preset",
            "ai-energy-score",
            "--offline",
        ])
        .output()
        .unwrap();
    // The catalogue names the anchor's set; offline and not cached, it cannot be read.
    assert_one_error_line(&o, "aies-sentence-similarity");
    assert!(!s.root.join("aies-missing").exists());
    let o = s
        .run("x")
        .args(["--task", "sentence-similarity", "--preset", "nope"])
        .output()
        .unwrap();
    assert_one_error_line(&o, "unknown preset `nope`");
}

#[test]
fn frugal_ai_preset_meters_the_whole_split_once_and_exports_the_record() {
    let s = setup();
    std::fs::create_dir_all(s.root.join("no-powercap")).unwrap();
    let o = s
        .run("fai")
        .args(["--task", "text-classification", "--preset", "frugal-ai"])
        .arg("--dataset")
        .arg(&s.claims)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let (path, v) = s.only_result("fai");
    assert_eq!(
        v["preset"],
        expected("frugal-ai.preset.json"),
        "{:#}",
        v["preset"]
    );
    assert_eq!(v["settings"]["queries"], 3, "the whole test split");
    assert_eq!(v["settings"]["warmup_queries"], 0);
    assert_eq!(v["repetitions"].as_array().unwrap().len(), 1);

    let o = bin()
        .args(["export", "--format", "frugal-ai", "--username", "someone"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let rec = json_stdout(&o);
    let keys: Vec<&str> = rec
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut want = vec![
        "username",
        "space_url",
        "submission_timestamp",
        "model_description",
        "accuracy",
        "energy_consumed_wh",
        "emissions_gco2eq",
        "emissions_data",
        "api_route",
        "dataset_config",
    ];
    want.sort();
    let mut keys = keys;
    keys.sort();
    assert_eq!(keys, want);
    assert_eq!(rec["username"], "someone");
    assert_eq!(rec["space_url"], Value::Null);
    assert_eq!(rec["api_route"], "/text");
    assert_eq!(rec["accuracy"], v["quality"]["value"]);
    let wh = v["energy"]["total_joules"].as_f64().unwrap() / 3600.0;
    assert!((rec["energy_consumed_wh"].as_f64().unwrap() - wh).abs() <= 1e-12 * wh.max(1.0));
    assert_eq!(rec["emissions_gco2eq"], v["carbon"]["g_co2e"]);
    assert_eq!(rec["dataset_config"]["test_seed"], 42);

    // A result that did not cover the split is refused with one line naming it.
    let o = s
        .run("short")
        .args([
            "--task",
            "text-classification",
            "--queries",
            "2",
            "--repetitions",
            "1",
        ])
        .arg("--dataset")
        .arg(&s.claims)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let (short, _) = s.only_result("short");
    let o = bin()
        .args(["export", "--format", "frugal-ai"])
        .arg(&short)
        .output()
        .unwrap();
    assert_one_error_line(&o, "whole test split");
}

#[test]
fn presets_command_lists_both_presets() {
    let o = bin().args(["presets", "--json"]).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let v = json_stdout(&o);
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ai-energy-score", "frugal-ai"]);
    assert_eq!(v[0]["queries"], serde_json::json!({"fixed": 1000}));
    assert_eq!(v[0]["star_rule"], "equal-width");
    assert_eq!(v[1]["queries"], "whole-split");
    let o = bin().arg("presets").output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("ai-energy-score") && text.contains("repetitions      10"),
        "{text}"
    );
}
