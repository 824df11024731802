//! End-to-end tests of `frugalbench run` with a tiny random-weight BERT written
//! by test code: offline, no GPU, no download.

use std::path::PathBuf;
use std::process::Command;

use common::{
    assert_one_error_line, bin, json_files, json_stdout, read_valid_result, signal_after, stderr,
    tiny_bert, write_similarity_pairs,
};

use serde_json::Value;

mod common;

/// A catalogue with one tiny random-weight BERT (written by test code) and a
/// small dataset per encoder task.
struct TinySetup {
    _dir: tempfile::TempDir,
    catalogue: PathBuf,
    out: PathBuf,
    cache: PathBuf,
    similarity: PathBuf,
    classification: PathBuf,
    powercap: PathBuf,
}

fn tiny_setup() -> TinySetup {
    let dir = tempfile::tempdir().unwrap();
    tiny_bert(dir.path(), "tiny-bert");
    let catalogue = dir.path().join("models.toml");
    std::fs::write(
        &catalogue,
        r#"
[[model]]
id = "tiny-bert"
tasks = ["sentence-similarity", "text-classification"]
arch = "bert"
default = true
path = "tiny-bert"
max_seq_len = 64
"#,
    )
    .unwrap();
    let similarity = dir.path().join("pairs.jsonl");
    write_similarity_pairs(&similarity);
    let classification = dir.path().join("claims.jsonl");
    let mut rows = String::new();
    for (text, label) in [
        ("the climate is not changing at all", "1_not_happening"),
        ("temperatures are not rising anywhere", "1_not_happening"),
        ("the weather station opened today", "0_not_relevant"),
        ("a new wind farm opened in the north", "0_not_relevant"),
    ] {
        for split in ["train", "test"] {
            rows.push_str(&format!(
                "{{\"text\": \"{text}\", \"label\": \"{label}\", \"split\": \"{split}\"}}\n"
            ));
        }
    }
    std::fs::write(&classification, rows).unwrap();
    let powercap = dir.path().join("no-powercap");
    std::fs::create_dir_all(&powercap).unwrap();
    TinySetup {
        out: dir.path().join("results"),
        cache: dir.path().join("cache"),
        catalogue,
        similarity,
        classification,
        powercap,
        _dir: dir,
    }
}

impl TinySetup {
    fn run(&self) -> Command {
        let mut cmd = bin();
        cmd.arg("run")
            .arg("--catalogue")
            .arg(&self.catalogue)
            .arg("--out")
            .arg(&self.out)
            .arg("--cache-dir")
            .arg(&self.cache)
            .arg("--powercap-root")
            .arg(&self.powercap)
            .args(["--no-nvml", "--idle-seconds", "0", "--interval-ms", "20"]);
        cmd
    }
}

#[test]
fn run_tiny_bert_on_both_tasks_writes_valid_results() {
    let s = tiny_setup();
    let o = s
        .run()
        .args(["--model", "tiny-bert", "--task", "sentence-similarity"])
        .arg("--dataset")
        .arg(&s.similarity)
        .args([
            "--queries",
            "7",
            "--repetitions",
            "2",
            "--warmup",
            "2",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = json_stdout(&o);
    assert_eq!(summary[0]["model"], "tiny-bert");
    assert_eq!(summary[0]["method"], "estimated");

    let o = s
        .run()
        .args(["--model", "tiny-bert", "--task", "text-classification"])
        .arg("--dataset")
        .arg(&s.classification)
        .args([
            "--queries",
            "4",
            "--repetitions",
            "1",
            "--warmup",
            "1",
            "--save-outputs",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    // The end-of-run table names the model, the metric and the method.
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(
        table.contains("tiny-bert") && table.contains("accuracy"),
        "{table}"
    );
    assert!(table.contains("estimated"), "{table}");

    let files = json_files(&s.out);
    let results: Vec<&PathBuf> = files
        .iter()
        .filter(|p| !p.to_string_lossy().ends_with(".outputs.jsonl"))
        .collect();
    assert_eq!(results.len(), 2, "{files:?}");
    for path in results {
        let v = read_valid_result(path);
        assert_eq!(v["status"], "complete");
        assert_eq!(v["energy"]["method"], "estimated");
        assert!(v["energy"]["by_source"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["method"] == "estimated"));
        // Results live at <out>/<task>/<model>/<time>.json with a timeline beside.
        let task = v["task"].as_str().unwrap();
        assert!(
            path.starts_with(s.out.join(task).join("tiny-bert")),
            "{}",
            path.display()
        );
        let csv = path.with_file_name(v["timeline_csv"].as_str().unwrap());
        assert!(std::fs::read_to_string(csv).unwrap().starts_with("t_s,"));
        match task {
            "sentence-similarity" => {
                assert_eq!(v["quality"]["metric"], "spearman");
                assert_eq!(v["repetitions"].as_array().unwrap().len(), 2);
                assert_eq!(v["dataset"]["queries"], 7);
                assert!(v["energy"]["joules_per_query_ci95"].is_array());
            }
            "text-classification" => {
                assert_eq!(v["quality"]["metric"], "accuracy");
                assert!(v["quality"]["extra"]["macro_f1"].is_number());
                // The head fitted on the train split is saved beside the result.
                let head = std::fs::read_to_string(path.with_extension("head.json")).unwrap();
                let head: Value = serde_json::from_str(&head).unwrap();
                assert!(head.to_string().contains("1_not_happening"), "{head}");
                let outputs = path.with_extension("outputs.jsonl");
                let n = std::fs::read_to_string(outputs).unwrap().lines().count();
                assert_eq!(n, 4);
            }
            other => panic!("unexpected task {other}"),
        }
    }
}

#[test]
fn run_rejects_bad_input_with_one_error_line() {
    let s = tiny_setup();
    let o = s.run().args(["--queries", "0"]).output().unwrap();
    assert_one_error_line(&o, "--queries must be at least 1");
    assert_eq!(o.status.code(), Some(2));

    let o = s.run().args(["--model", "no-such-model"]).output().unwrap();
    assert_one_error_line(&o, "no-such-model");

    let bad = s.similarity.with_file_name("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"sentence1\": \"a\", \"sentence2\": \"b\", \"score\": \"high\"}\n",
    )
    .unwrap();
    let o = s
        .run()
        .args([
            "--model",
            "tiny-bert",
            "--task",
            "sentence-similarity",
            "--dataset",
        ])
        .arg(&bad)
        .output()
        .unwrap();
    // Checked before any metering: one error line naming file, line and field.
    assert_one_error_line(&o, "bad.jsonl:1");
    assert!(stderr(&o).contains("field \"score\""), "{}", stderr(&o));
    assert!(
        !stderr(&o).contains("frugalbench: metering"),
        "{}",
        stderr(&o)
    );
    assert!(
        json_files(&s.out).is_empty(),
        "nothing may be written on bad input"
    );

    // Datasets that would only fail after metering are refused before it.
    for (name, text, needle) in [
        (
            "one.jsonl",
            "{\"sentence1\": \"a\", \"sentence2\": \"b\", \"score\": 1}\n",
            "at least 2 sentence pairs",
        ),
        (
            "flat.jsonl",
            "{\"sentence1\": \"a\", \"sentence2\": \"b\", \"score\": 2}\n{\"sentence1\": \"c\", \"sentence2\": \"d\", \"score\": 2}\n",
            "constant score",
        ),
    ] {
        let path = s.similarity.with_file_name(name);
        std::fs::write(&path, text).unwrap();
        let o = s
            .run()
            .args(["--model", "tiny-bert", "--task", "sentence-similarity"])
            .arg("--dataset")
            .arg(&path)
            .output()
            .unwrap();
        assert_one_error_line(&o, needle);
        assert!(!stderr(&o).contains("frugalbench: metering"), "{}", stderr(&o));
    }

    // An --out that cannot hold results is refused before the work, not after it.
    let file = s.similarity.with_file_name("a-file");
    std::fs::write(&file, "x").unwrap();
    let o = bin()
        .arg("run")
        .arg("--catalogue")
        .arg(&s.catalogue)
        .arg("--out")
        .arg(file.join("results"))
        .arg("--cache-dir")
        .arg(&s.cache)
        .arg("--powercap-root")
        .arg(&s.powercap)
        .args(["--no-nvml", "--idle-seconds", "0", "--model", "tiny-bert"])
        .output()
        .unwrap();
    assert_one_error_line(&o, "is not a folder");
    assert!(
        !stderr(&o).contains("frugalbench: metering"),
        "{}",
        stderr(&o)
    );

    // A catalogue entry whose folder is empty is found before any model is fetched.
    let cat = s.catalogue.with_file_name("two.toml");
    std::fs::create_dir_all(s.catalogue.with_file_name("empty-model")).unwrap();
    std::fs::write(
        &cat,
        "[[model]]\nid = \"tiny-bert\"\ntasks = [\"sentence-similarity\"]\narch = \"bert\"\npath = \"tiny-bert\"\n\n\
         [[model]]\nid = \"hollow\"\ntasks = [\"sentence-similarity\"]\narch = \"bert\"\npath = \"empty-model\"\n",
    )
    .unwrap();
    let o = bin()
        .arg("run")
        .arg("--catalogue")
        .arg(&cat)
        .arg("--out")
        .arg(&s.out)
        .arg("--cache-dir")
        .arg(&s.cache)
        .arg("--powercap-root")
        .arg(&s.powercap)
        .args(["--no-nvml", "--idle-seconds", "0"])
        .args(["--model", "tiny-bert", "--model", "hollow"])
        .output()
        .unwrap();
    assert_one_error_line(&o, "is an empty folder");
    assert!(!stderr(&o).contains("hashing"), "{}", stderr(&o));
    assert!(json_files(&s.out).is_empty());
}

#[test]
fn ctrl_c_saves_an_interrupted_result() {
    let s = tiny_setup();
    let child = s
        .run()
        .args(["--model", "tiny-bert", "--task", "sentence-similarity"])
        .arg("--dataset")
        .arg(&s.similarity)
        .args([
            "--queries",
            "100000000",
            "--repetitions",
            "1",
            "--warmup",
            "0",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the model is loaded and queries are being metered: the
    // timeline starts filling; give it a few seconds on a slow machine.
    let o = signal_after(child, 4, "INT");
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let files = json_files(&s.out);
    assert_eq!(files.len(), 1, "{files:?}\n{}", stderr(&o));
    let v = read_valid_result(&files[0]);
    assert_eq!(v["status"], "interrupted");
    let q = v["repetitions"][0]["queries"].as_u64().unwrap();
    assert!(q > 0 && q < 100_000_000, "{q}");
}

/// SIGINT during the warm-up, with a (fake) RAPL counter: the interrupted result still says
/// how it measures (`measured`, from the meter's domains, not a placeholder), has no
/// repetition, and validates.
#[test]
fn ctrl_c_during_warm_up_on_rapl_records_measured_with_no_repetition() {
    let s = tiny_setup();
    let rapl = tempfile::tempdir().unwrap();
    let fake = frugalbench_meter::fake::FakePowercap::create(
        rapl.path(),
        &frugalbench_meter::fake::FakeLayout::single_package(None),
    )
    .unwrap();
    let child = bin()
        .arg("run")
        .arg("--catalogue")
        .arg(&s.catalogue)
        .arg("--out")
        .arg(&s.out)
        .arg("--cache-dir")
        .arg(&s.cache)
        .arg("--powercap-root")
        .arg(fake.root())
        .args(["--no-nvml", "--idle-seconds", "0", "--interval-ms", "20"])
        .args(["--model", "tiny-bert", "--task", "sentence-similarity"])
        .arg("--dataset")
        .arg(&s.similarity)
        .args([
            "--queries",
            "5",
            "--repetitions",
            "2",
            "--warmup",
            "100000000",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let o = signal_after(child, 4, "INT");
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let files = json_files(&s.out);
    assert_eq!(files.len(), 1, "{files:?}\n{}", stderr(&o));
    let v = read_valid_result(&files[0]);
    assert_eq!(v["status"], "interrupted");
    assert_eq!(v["energy"]["method"], "measured", "{v:#}");
    assert_eq!(v["repetitions"].as_array().unwrap().len(), 0, "{v:#}");
    assert_eq!(v["energy"]["total_joules"], 0.0);
    // Not `-0.0` (an empty float sum in Rust starts from −0.0).
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(!text.contains("-0.0"), "{text}");
}

/// SIGTERM during the unmetered quality pass (after every metered query): the result is
/// `interrupted` with no quality figure, not `complete` with a quality over part of the rows.
#[test]
fn sigterm_during_the_quality_pass_gives_interrupted_without_quality() {
    let s = tiny_setup();
    let big = s.similarity.with_file_name("many-pairs.jsonl");
    let mut rows = String::new();
    for i in 0..200_000 {
        rows.push_str(&format!(
            "{{\"sentence1\": \"a cat {i}\", \"sentence2\": \"the dog {}\", \"score\": {}}}\n",
            i % 7,
            i % 5
        ));
    }
    std::fs::write(&big, rows).unwrap();
    let child = s
        .run()
        .args(["--model", "tiny-bert", "--task", "sentence-similarity"])
        .arg("--dataset")
        .arg(&big)
        .args(["--queries", "1", "--repetitions", "1", "--warmup", "0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let o = signal_after(child, 5, "TERM");
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let files = json_files(&s.out);
    assert_eq!(files.len(), 1, "{files:?}\n{}", stderr(&o));
    let v = read_valid_result(&files[0]);
    assert_eq!(v["status"], "interrupted", "{v:#}");
    assert!(v.get("quality").is_none(), "{v:#}");
    assert_eq!(v["repetitions"][0]["queries"], 1);
    let notes = v["energy"]["notes"].to_string();
    assert!(notes.contains("quality not computed"), "{notes}");
}

#[test]
fn run_refuses_an_arch_that_cannot_do_the_task() {
    let s = tiny_setup();
    let odd = s.catalogue.with_file_name("odd.toml");
    std::fs::write(
        &odd,
        "[[model]]\nid = \"odd\"\ntasks = [\"sentence-similarity\"]\n\
         arch = \"quantized-llama\"\npath = \"tiny-bert\"\n",
    )
    .unwrap();
    let o = bin()
        .args(["run", "--model", "odd", "--catalogue"])
        .arg(&odd)
        .arg("--out")
        .arg(&s.out)
        .arg("--powercap-root")
        .arg(&s.powercap)
        .args(["--no-nvml", "--idle-seconds", "0"])
        .output()
        .unwrap();
    // Refused while the options are resolved: bad input, exit 2, nothing fetched or run.
    assert_one_error_line(&o, "arch `quantized-llama` cannot run sentence-similarity");
    assert!(json_files(&s.out).is_empty());
}
