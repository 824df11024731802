//! End-to-end `frugalbench run` on the summarization and question-answering tasks, with the
//! tiny parity checkpoints of `crates/workloads/tests/fixtures/parity/` (written by
//! `scripts/make_parity_t5_qa.py`): offline, no GPU, no download.

use std::path::{Path, PathBuf};

use common::{bin, json_files, read_valid_result, stderr};

mod common;

fn fixture(name: &str) -> PathBuf {
    // This test belongs to crates/frugalbench.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../workloads/tests/fixtures/parity")
        .join(name)
}

fn run_task(task: &str, extra: &[&str]) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = dir.path().join("models.toml");
    std::fs::write(
        &catalogue,
        format!(
            r#"
[[model]]
id = "tiny-t5"
tasks = ["summarization"]
arch = "t5"
path = "{}"

[[model]]
id = "tiny-distilbert-qa"
tasks = ["question-answering"]
arch = "distilbert"
path = "{}"
max_seq_len = 64
"#,
            fixture("t5").display(),
            fixture("distilbert-qa").display()
        ),
    )
    .unwrap();
    let powercap = dir.path().join("no-powercap");
    std::fs::create_dir_all(&powercap).unwrap();
    let out = dir.path().join("results");
    let model = match task {
        "summarization" => "tiny-t5",
        _ => "tiny-distilbert-qa",
    };
    let o = bin()
        .arg("run")
        .arg("--catalogue")
        .arg(&catalogue)
        .arg("--out")
        .arg(&out)
        .arg("--cache-dir")
        .arg(dir.path().join("cache"))
        .arg("--powercap-root")
        .arg(&powercap)
        .args(["--no-nvml", "--idle-seconds", "0", "--interval-ms", "20"])
        .args(["--model", model, "--task", task])
        .args(["--queries", "3", "--repetitions", "1", "--warmup", "1"])
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let files = json_files(&out);
    (dir, files)
}

#[test]
fn summarization_run_writes_a_valid_result() {
    let (_dir, files) = run_task("summarization", &["--max-new-tokens", "5"]);
    assert_eq!(files.len(), 1, "{files:?}");
    let v = read_valid_result(&files[0]);
    assert_eq!(v["task"], "summarization");
    assert_eq!(v["status"], "complete");
    assert_eq!(v["settings"]["max_new_tokens"], 5);
    assert_eq!(v["quality"]["metric"], "rouge_l");
    assert!(v["quality"]["extra"]["rouge1"].is_number());
    assert!(v["quality"]["extra"]["rouge2"].is_number());
    // Every row of the builtin set is scored (the unmetered completion pass).
    assert_eq!(v["dataset"]["id"], "frugalbench/summarization");
    assert!(v["generation"].is_null());
}

#[test]
fn question_answering_run_writes_a_valid_result() {
    let (_dir, files) = run_task("question-answering", &["--batch-size", "2"]);
    assert_eq!(files.len(), 1, "{files:?}");
    let v = read_valid_result(&files[0]);
    assert_eq!(v["task"], "question-answering");
    assert_eq!(v["status"], "complete");
    assert_eq!(v["quality"]["metric"], "f1");
    assert!(v["quality"]["extra"]["exact_match"].is_number());
    assert!(v["settings"]["max_new_tokens"].is_null());
    assert_eq!(v["dataset"]["id"], "frugalbench/question-answering");
}
