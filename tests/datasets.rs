//! `frugalbench run --dataset ID` end to end: a catalogue id served by a fake hub on a
//! loopback port (the real hf-hub client, the real Parquet reader), with the tiny random BERT
//! standing in for all-MiniLM-L6-v2. Offline: nothing leaves the machine.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use common::{assert_one_error_line, bin, json_files, read_valid_result, stderr, tiny_bert};
use frugalbench_workloads::testing::hub::{FakeHub, HubRepo};
use frugalbench_workloads::testing::parquet::{parquet_bytes, Column};

mod common;

const COMMIT: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567";

struct Setup {
    dir: tempfile::TempDir,
    hub: FakeHub,
    parquet: Vec<u8>,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    tiny_bert(dir.path(), "tiny-bert");
    std::fs::write(
        dir.path().join("models.toml"),
        r#"
[[model]]
id = "all-minilm-l6-v2"
tasks = ["sentence-similarity", "text-classification"]
arch = "bert"
path = "tiny-bert"
max_seq_len = 64
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("datasets.toml"),
        r#"
[[dataset]]
id = "hub-sts"
task = "sentence-similarity"
hf = { repo = "org/sts", revision = "main", files = ["data/test-00000-of-00001.parquet"] }
split = "test"
columns = { sentence1 = "s1", sentence2 = "s2" }
sample = 8
seed = 3

[[dataset]]
id = "hub-sts-no-gold"
task = "sentence-similarity"
hf = { repo = "org/sts", revision = "main", files = ["data/test-00000-of-00001.parquet"] }
columns = { sentence1 = "s1", sentence2 = "s2", score = "no_such_column" }
"#,
    )
    .unwrap();
    let n = 12;
    let parquet = parquet_bytes(&[
        Column::Str(
            "s1",
            (0..n)
                .map(|i| Some(format!("the cat number {i} sat")))
                .collect(),
        ),
        Column::Str(
            "s2",
            (0..n)
                .map(|i| Some(format!("a dog {i} ran away")))
                .collect(),
        ),
        Column::Double("score", (0..n).map(|i| (i % 5) as f64).collect()),
    ])
    .unwrap();
    let hub = FakeHub::start(vec![HubRepo {
        path: "datasets/org/sts".into(),
        commit: COMMIT.into(),
        revisions: vec!["main".into()],
        files: BTreeMap::from([(
            "data/test-00000-of-00001.parquet".to_string(),
            parquet.clone(),
        )]),
        gated: false,
    }]);
    std::fs::create_dir_all(dir.path().join("no-powercap")).unwrap();
    Setup { dir, hub, parquet }
}

impl Setup {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `frugalbench run` with the hub at the loopback endpoint and the test's catalogues.
    fn run(&self) -> Command {
        let mut cmd = bin();
        cmd.env_remove("HF_HUB_OFFLINE")
            .env_remove("HF_TOKEN")
            .env_remove("HF_HUB_CACHE")
            .env("HF_HOME", self.path("hf"))
            .env("HF_ENDPOINT", &self.hub.endpoint)
            .arg("run")
            .arg("--catalogue")
            .arg(self.path("models.toml"))
            .arg("--datasets-catalogue")
            .arg(self.path("datasets.toml"))
            .arg("--out")
            .arg(self.path("results"))
            .arg("--cache-dir")
            .arg(self.path("cache"))
            .arg("--powercap-root")
            .arg(self.path("no-powercap"))
            .args(["--no-nvml", "--idle-seconds", "0", "--interval-ms", "20"]);
        cmd
    }
}

#[test]
fn run_with_a_catalogue_id_served_by_the_hub_reads_parquet_end_to_end() {
    let s = setup();
    // No --task: the catalogue entry's task is the run's task.
    let o = s
        .run()
        .args(["--model", "all-minilm-l6-v2", "--dataset", "hub-sts"])
        .args(["--queries", "5", "--repetitions", "1", "--warmup", "1"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let files = json_files(&s.path("results"));
    assert_eq!(files.len(), 1, "{files:?}");
    let r = read_valid_result(&files[0]);
    assert_eq!(r["task"], "sentence-similarity");
    let d = &r["dataset"];
    assert_eq!(d["id"], "hub-sts");
    assert_eq!(d["rows"], 8);
    let origin = &d["origin"];
    assert_eq!(origin["source"], format!("hf:org/sts@{COMMIT}"));
    assert_eq!(origin["repo"], "org/sts");
    assert_eq!(origin["revision"], COMMIT);
    assert_eq!(origin["split"], "test");
    assert_eq!(origin["split_rows"], 12);
    assert_eq!(origin["sample"], 8);
    assert_eq!(origin["seed"], 3);
    let sha = frugalbench_workloads::fetch::sha256_file(&{
        let p = s.path("fetched.parquet");
        std::fs::write(&p, &s.parquet).unwrap();
        p
    })
    .unwrap();
    assert_eq!(origin["files"][0]["sha256"], sha.as_str());
    assert_eq!(d["sha256"], sha.as_str());
    assert_eq!(origin["rows_sha256"].as_str().unwrap().len(), 64);
    // A real quality figure on the hub's gold scores.
    assert_eq!(r["quality"]["metric"], "spearman");
    // The hub was asked for the dataset repository's file.
    let log = s.hub.requests.lock().unwrap().clone();
    assert!(
        log.iter()
            .any(|l| l.contains("/datasets/org/sts/resolve/main/data/test-00000-of-00001.parquet")),
        "{log:?}"
    );
}

#[test]
fn bad_dataset_ids_and_columns_are_one_error_line() {
    let s = setup();
    let o = s
        .run()
        .args(["--model", "all-minilm-l6-v2", "--dataset", "no-such-set"])
        .output()
        .unwrap();
    assert_one_error_line(
        &o,
        "unknown dataset `no-such-set`: not a file, and not an id in",
    );
    assert!(
        stderr(&o).contains("known: hub-sts, hub-sts-no-gold"),
        "{}",
        stderr(&o)
    );

    let o = s
        .run()
        .args([
            "--model",
            "all-minilm-l6-v2",
            "--dataset",
            "hub-sts-no-gold",
        ])
        .output()
        .unwrap();
    assert_one_error_line(
        &o,
        "hub-sts-no-gold:data/test-00000-of-00001.parquet:1: column \"no_such_column\"",
    );

    let o = s
        .run()
        .args([
            "--model",
            "all-minilm-l6-v2",
            "--task",
            "text-classification",
        ])
        .args(["--dataset", "hub-sts"])
        .output()
        .unwrap();
    assert_one_error_line(
        &o,
        "dataset `hub-sts` is a sentence-similarity dataset, not text-classification",
    );

    // A file path that does not exist is still a missing file, not an unknown id.
    let o = s
        .run()
        .args([
            "--model",
            "all-minilm-l6-v2",
            "--task",
            "sentence-similarity",
        ])
        .args(["--dataset", "missing.parquet"])
        .output()
        .unwrap();
    assert_one_error_line(
        &o,
        "dataset missing.parquet does not exist or is not a file",
    );
    assert!(json_files(&s.path("results")).is_empty());
}

#[test]
fn a_plan_carries_a_catalogue_id_and_the_dataset_catalogue_to_its_jobs() {
    let s = setup();
    // A local entry: a path source, no hub needed.
    common::write_similarity_pairs(&s.path("pairs.jsonl"));
    let local = s.path("local.toml");
    std::fs::write(
        &local,
        "[[dataset]]\nid = \"local-pairs\"\ntask = \"sentence-similarity\"\npath = \"pairs.jsonl\"\nsample = 4\n",
    )
    .unwrap();
    let plan = s.path("plan");
    let o = bin()
        .arg("plan")
        .arg("--catalogue")
        .arg(s.path("models.toml"))
        .arg("--datasets-catalogue")
        .arg(&local)
        .arg("--out")
        .arg(&plan)
        .args([
            "--models",
            "all-minilm-l6-v2",
            "--tasks",
            "sentence-similarity",
        ])
        .args([
            "--dataset",
            "local-pairs",
            "--queries",
            "3",
            "--repetitions",
            "1",
        ])
        .args([
            "--warmup",
            "1",
            "--extra-run-args=--idle-seconds 0 --interval-ms 20",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(plan.join("plan.json")).unwrap()).unwrap();
    assert_eq!(
        meta["datasets_catalogue"],
        std::fs::canonicalize(&local).unwrap().to_str().unwrap()
    );
    let o = bin()
        .args(["run", "--plan"])
        .arg(&plan)
        .args(["--job-index", "0", "--no-nvml"])
        .arg("--powercap-root")
        .arg(s.path("no-powercap"))
        .arg("--cache-dir")
        .arg(s.path("cache"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let files = json_files(&plan.join("results"));
    assert_eq!(files.len(), 1, "{files:?}");
    let r = read_valid_result(&files[0]);
    assert_eq!(r["dataset"]["id"], "local-pairs");
    assert_eq!(r["dataset"]["rows"], 4);
    assert!(
        r["dataset"]["origin"]["source"]
            .as_str()
            .unwrap()
            .starts_with("path:"),
        "{}",
        r["dataset"]
    );
    // An id the catalogue lacks is refused when planning, and nothing is written.
    let other = s.path("plan2");
    let o = bin()
        .arg("plan")
        .arg("--catalogue")
        .arg(s.path("models.toml"))
        .arg("--datasets-catalogue")
        .arg(&local)
        .arg("--out")
        .arg(&other)
        .args([
            "--models",
            "all-minilm-l6-v2",
            "--tasks",
            "sentence-similarity",
        ])
        .args(["--dataset", "nope"])
        .output()
        .unwrap();
    assert_one_error_line(&o, "unknown dataset `nope`");
    assert!(!other.join("plan.json").exists());
}
