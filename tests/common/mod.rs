//! Helpers shared by the end-to-end tests of the `frugalbench` binary.
// Each test binary uses a different subset of these.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The binary, isolated from the machine: no real counters, no user cache, no
/// hub, no enclosing Slurm job.
pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_frugalbench"));
    cmd.env_remove("FRUGALBENCH_POWERCAP_ROOT")
        .env_remove("FRUGALBENCH_CACHE")
        .env("HF_HUB_OFFLINE", "1");
    for var in [
        "SLURM_JOB_ID",
        "SLURM_ARRAY_JOB_ID",
        "SLURM_ARRAY_TASK_ID",
        "SLURMD_NODENAME",
        "SLURM_NODELIST",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn json_stdout(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            stdout(o),
            stderr(o)
        )
    })
}

/// Asserts a command failed with exit status 2 and exactly one `error:` line
/// containing `needle`.
pub fn assert_one_error_line(o: &Output, needle: &str) {
    assert_eq!(o.status.code(), Some(2), "stderr: {}", stderr(o));
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got: {err}");
    assert!(
        lines[0].contains(needle),
        "error line {:?} lacks {needle:?}",
        lines[0]
    );
}

/// Every result file (`<stem>.json`, not the `<stem>.<what>.json` files beside
/// results) under `dir`, sorted: the report crate's walker, as the binary uses it.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    frugalbench_report::walk::result_files(dir)
}

/// Reads a result file, checking it against the schema and the sanity rules.
pub fn read_valid_result(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    if let Err(reasons) = frugalbench_report::validate(&v) {
        panic!("{} is not schema-valid: {reasons:?}", path.display());
    }
    let parsed = frugalbench_report::read_result(path)
        .unwrap_or_else(|e| panic!("{} is not a valid result: {e:#}", path.display()));
    let problems = frugalbench_report::sanity_check(&parsed);
    assert!(problems.is_empty(), "{}: {problems:?}", path.display());
    v
}

/// Writes the tiny random-weight BERT (test support of the workloads crate)
/// into `dir/name` and returns that folder.
pub fn tiny_bert(dir: &Path, name: &str) -> PathBuf {
    let model = dir.join(name);
    std::fs::create_dir_all(&model).unwrap();
    frugalbench_workloads::testing::bert::write_tiny_bert(&model).unwrap();
    model
}

/// Writes five sentence pairs with gold similarity scores (0–5) as JSONL.
pub fn write_similarity_pairs(path: &Path) {
    let mut pairs = String::new();
    for (a, b, score) in [
        ("the cat sat on the mat", "a cat is sitting on a mat", 4.5),
        ("the weather is cold today", "it is cold outside today", 4.0),
        ("he plays the guitar", "the stock market fell", 0.0),
        ("she likes green tea", "a train left the station", 0.2),
        (
            "we cook pasta for dinner",
            "pasta is our dinner tonight",
            4.2,
        ),
    ] {
        pairs.push_str(&format!(
            "{{\"sentence1\": \"{a}\", \"sentence2\": \"{b}\", \"score\": {score}}}\n"
        ));
    }
    std::fs::write(path, pairs).unwrap();
}

/// Waits `secs` seconds, sends `signal` (e.g. `INT`, `TERM`) to `child` and collects its output.
pub fn signal_after(child: std::process::Child, secs: u64, signal: &str) -> Output {
    std::thread::sleep(std::time::Duration::from_secs(secs));
    let sent = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(sent.success(), "kill -{signal} failed");
    child.wait_with_output().unwrap()
}
