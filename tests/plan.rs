//! End-to-end tests of `frugalbench plan`, `run --plan` and `collect`, without
//! Slurm: a tiny random-weight BERT written by test code, a broken copy of it,
//! no counters (empty powercap root, no NVML), no network. Slurm's environment
//! is imitated where a test needs it; `scripts/slurm-test-cluster.sh selftest`
//! runs the same commands through a real Slurm.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{
    assert_one_error_line, bin, json_files, json_stdout, read_valid_result, stderr, stdout,
    tiny_bert, write_similarity_pairs,
};
use serde_json::Value;

mod common;

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A catalogue with a tiny BERT (two ids for the same files) and a broken copy
/// whose weights file is garbage, plus a small sentence-similarity dataset.
struct Setup {
    dir: tempfile::TempDir,
    catalogue: PathBuf,
    similarity: PathBuf,
    powercap: PathBuf,
    cache: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    tiny_bert(dir.path(), "tiny-bert");
    let broken = tiny_bert(dir.path(), "broken-bert");
    std::fs::write(broken.join("model.safetensors"), b"not safetensors at all").unwrap();
    let catalogue = dir.path().join("models.toml");
    std::fs::write(
        &catalogue,
        r#"
[[model]]
id = "tiny-bert"
tasks = ["sentence-similarity", "text-classification"]
arch = "bert"
path = "tiny-bert"
max_seq_len = 64

[[model]]
id = "broken-bert"
tasks = ["sentence-similarity"]
arch = "bert"
path = "broken-bert"

[[model]]
id = "tiny-bert-b"
tasks = ["sentence-similarity"]
arch = "bert"
path = "tiny-bert"
max_seq_len = 64

[[model]]
id = "odd-arch"
tasks = ["sentence-similarity"]
arch = "quantized-llama"
path = "tiny-bert"
"#,
    )
    .unwrap();
    let similarity = dir.path().join("pairs.jsonl");
    write_similarity_pairs(&similarity);
    let powercap = dir.path().join("no-powercap");
    std::fs::create_dir_all(&powercap).unwrap();
    Setup {
        catalogue,
        similarity,
        powercap,
        cache: dir.path().join("cache"),
        dir,
    }
}

impl Setup {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `frugalbench plan --catalogue ... --out <plan>` plus `args`.
    fn plan(&self, plan: &Path, args: &[&str]) -> Output {
        bin()
            .arg("plan")
            .arg("--catalogue")
            .arg(&self.catalogue)
            .arg("--out")
            .arg(plan)
            .args(args)
            .output()
            .unwrap()
    }

    /// A plan of one-task jobs on the small dataset, quick to run.
    fn quick_plan(&self, plan: &Path, models: &str, extra: &[&str]) -> Output {
        let mut args = vec![
            "--models",
            models,
            "--tasks",
            "sentence-similarity",
            "--dataset",
            self.similarity.to_str().unwrap(),
            "--queries",
            "3",
            "--repetitions",
            "1",
            "--warmup",
            "1",
            "--extra-run-args=--idle-seconds 0 --interval-ms 20",
        ];
        args.extend_from_slice(extra);
        self.plan(plan, &args)
    }

    /// `frugalbench run --plan <plan> --job-index <n>` with this machine's own options.
    fn run_job(&self, plan: &Path, index: usize) -> Command {
        let mut cmd = bin();
        cmd.arg("run")
            .arg("--plan")
            .arg(plan)
            .arg("--job-index")
            .arg(index.to_string())
            .arg("--powercap-root")
            .arg(&self.powercap)
            .arg("--no-nvml")
            .arg("--cache-dir")
            .arg(&self.cache);
        cmd
    }

    fn collect(&self, plan: &Path, args: &[&str]) -> Output {
        bin().arg("collect").arg(plan).args(args).output().unwrap()
    }
}

#[test]
fn plan_writes_the_jobs_and_an_sbatch_array() {
    let s = setup();
    let plan = s.path("plan");
    let o = s.plan(
        &plan,
        &[
            "--models",
            "tiny-bert,broken-bert",
            "--tasks",
            "sentence-similarity,text-classification",
            "--queries",
            "3",
            "--repetitions",
            "2",
            "--warmup",
            "1",
            "--slurm",
            "--max-parallel",
            "2",
            "--partition",
            "cpu_p1",
            "--time",
            "00:05:00",
            "--gres",
            "gpu:1",
            "--cpus-per-task",
            "2",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // One job per (model, declared task), in order.
    let jobs = jsonl(&plan.join("plan.jsonl"));
    let pairs: Vec<(u64, &str, &str)> = jobs
        .iter()
        .map(|j| {
            (
                j["index"].as_u64().unwrap(),
                j["model"].as_str().unwrap(),
                j["task"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            (0, "tiny-bert", "sentence-similarity"),
            (1, "tiny-bert", "text-classification"),
            (2, "broken-bert", "sentence-similarity"),
        ]
    );
    for j in &jobs {
        assert_eq!(j["queries"], 3);
        assert_eq!(j["repetitions"], 2);
        assert_eq!(j["warmup"], 1);
    }

    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(plan.join("plan.json")).unwrap()).unwrap();
    assert_eq!(meta["jobs"], 3);
    assert_eq!(meta["results_dir"], "results");
    let binary = std::fs::canonicalize(env!("CARGO_BIN_EXE_frugalbench")).unwrap();
    assert_eq!(meta["binary"], binary.to_str().unwrap());
    let catalogue = std::fs::canonicalize(&s.catalogue).unwrap();
    assert_eq!(meta["catalogue"], catalogue.to_str().unwrap());
    assert!(
        plan.join("logs").is_dir(),
        "Slurm needs the log folder to exist"
    );

    let abs = std::fs::canonicalize(&plan).unwrap();
    let abs = abs.to_str().unwrap();
    let script = std::fs::read_to_string(plan.join("job.sbatch")).unwrap();
    for line in [
        "#SBATCH --array=0-2%2".to_string(),
        "#SBATCH --exclusive".to_string(),
        format!("#SBATCH --output={abs}/logs/%A_%a.out"),
        "#SBATCH --partition=cpu_p1".to_string(),
        "#SBATCH --time=00:05:00".to_string(),
        "#SBATCH --gres=gpu:1".to_string(),
        "#SBATCH --cpus-per-task=2".to_string(),
        format!(
            "FRUGALBENCH_BIN=\"${{FRUGALBENCH_BIN:-{}}}\"",
            binary.display()
        ),
        format!("exec \"$FRUGALBENCH_BIN\" run --plan {abs} --job-index \"$SLURM_ARRAY_TASK_ID\""),
    ] {
        assert!(
            script.lines().any(|l| l == line),
            "no line {line:?} in:\n{script}"
        );
    }
    assert!(script.starts_with("#!/bin/bash\n"), "{script}");
    assert!(
        stdout(&o).contains(&format!("sbatch {}/job.sbatch", plan.display())),
        "{}",
        stdout(&o)
    );

    // An existing plan is kept unless --force.
    let before = std::fs::read_to_string(plan.join("plan.jsonl")).unwrap();
    let o = s.plan(&plan, &["--models", "tiny-bert", "--slurm"]);
    assert_one_error_line(&o, "already holds a plan");
    assert_eq!(
        std::fs::read_to_string(plan.join("plan.jsonl")).unwrap(),
        before
    );
    let o = s.plan(
        &plan,
        &[
            "--models",
            "tiny-bert",
            "--slurm",
            "--no-exclusive",
            "--force",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(jsonl(&plan.join("plan.jsonl")).len(), 2);
    let script = std::fs::read_to_string(plan.join("job.sbatch")).unwrap();
    assert!(script.contains("#SBATCH --array=0-1\n"), "{script}");
    assert!(!script.contains("#SBATCH --exclusive"), "{script}");
    // Without --slurm a replaced plan loses its stale script.
    let o = s.plan(&plan, &["--models", "tiny-bert", "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!plan.join("job.sbatch").exists());
}

#[test]
fn plan_rejects_bad_input_and_writes_nothing() {
    let s = setup();
    let plan = s.path("plan");
    let cases: [(&[&str], &str); 8] = [
        (&["--models", "no-such-model"], "no-such-model"),
        // An arch `run` would refuse is refused when planning.
        (
            &["--models", "odd-arch"],
            "arch `quantized-llama` cannot run sentence-similarity",
        ),
        (
            &["--models", "broken-bert", "--tasks", "text-generation"],
            "declares none of the tasks",
        ),
        (
            &["--models", "tiny-bert", "--dataset", "pairs.jsonl"],
            "does not exist",
        ),
        (
            &["--models", "tiny-bert", "--extra-run-args=--queries 4"],
            "--queries",
        ),
        (
            &["--models", "tiny-bert", "--extra-run-args=--no-such-flag"],
            "--no-such-flag",
        ),
        (
            &["--models", "tiny-bert", "--repetitions", "0"],
            "--repetitions",
        ),
        (
            &["--models", "tiny-bert", "--slurm", "--time", "1h"],
            "--time",
        ),
    ];
    for (args, needle) in cases {
        let o = s.plan(&plan, args);
        assert_one_error_line(&o, needle);
        assert!(!plan.join("plan.json").exists(), "{args:?} wrote a plan");
    }
    // A dataset serves one task only.
    let o = s.plan(
        &plan,
        &[
            "--models",
            "tiny-bert",
            "--dataset",
            s.similarity.to_str().unwrap(),
        ],
    );
    assert_one_error_line(&o, "one task");
    // Slurm options need --slurm.
    let o = s.plan(&plan, &["--models", "tiny-bert", "--partition", "p"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--slurm"), "{}", stderr(&o));
    assert!(!plan.join("plan.json").exists());
}

#[test]
fn planned_jobs_run_fail_and_are_collected() {
    let s = setup();
    let plan = s.path("plan");
    let o = s.quick_plan(&plan, "tiny-bert,broken-bert,tiny-bert-b", &["--slurm"]);
    assert!(o.status.success(), "{}", stderr(&o));

    // Nothing has run: every job is missing, exit 1.
    let o = s.collect(&plan, &["--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = json_stdout(&o);
    assert_eq!(r["missing"], 3);
    assert_eq!(r["resubmit"], serde_json::json!([0, 1, 2]));

    // Job 0, as Slurm would run it (its variables set, stderr into the log).
    let log0 = plan.join("logs/77_0.out");
    let o = s
        .run_job(&plan, 0)
        .env("SLURM_JOB_ID", "78")
        .env("SLURM_ARRAY_JOB_ID", "77")
        .env("SLURM_ARRAY_TASK_ID", "0")
        .env("SLURMD_NODENAME", "node7")
        .stderr(std::fs::File::create(&log0).unwrap())
        .output()
        .unwrap();
    let log = std::fs::read_to_string(&log0).unwrap();
    assert!(o.status.success(), "{log}");
    let results = json_files(&plan.join("results/0"));
    assert_eq!(results.len(), 1, "{results:?}");
    assert!(results[0].starts_with(plan.join("results/0/sentence-similarity/tiny-bert")));
    let v = read_valid_result(&results[0]);
    assert_eq!(v["settings"]["queries"], 3);
    assert_eq!(v["settings"]["repetitions"], 1);
    assert_eq!(v["settings"]["warmup_queries"], 1);
    assert_eq!(v["energy"]["method"], "estimated");
    assert_eq!(
        v["energy"]["idle_watts"],
        Value::Null,
        "--idle-seconds 0 from the plan"
    );
    assert_eq!(v["slurm"]["array_job_id"], "77");
    assert_eq!(v["slurm"]["array_task_id"], "0");
    assert_eq!(v["slurm"]["node"], "node7");
    let done: Value =
        serde_json::from_str(&std::fs::read_to_string(plan.join("jobs/0.done")).unwrap()).unwrap();
    assert_eq!(done["results"][0], results[0].to_str().unwrap());
    assert!(!plan.join("jobs/0.error.txt").exists());

    // Job 1's weights are garbage: an error file, no result.
    let log1 = plan.join("logs/77_1.out");
    let o = s
        .run_job(&plan, 1)
        .env("SLURM_JOB_ID", "79")
        .env("SLURM_ARRAY_JOB_ID", "77")
        .env("SLURM_ARRAY_TASK_ID", "1")
        .env("SLURMD_NODENAME", "node7")
        .stderr(std::fs::File::create(&log1).unwrap())
        .output()
        .unwrap();
    let log = std::fs::read_to_string(&log1).unwrap();
    assert!(!o.status.success(), "{log}");
    assert!(json_files(&plan.join("results/1")).is_empty());
    assert!(!plan.join("jobs/1.done").exists());
    let error = std::fs::read_to_string(plan.join("jobs/1.error.txt")).unwrap();
    let first = error.lines().next().unwrap();
    // The job's own error message, taken from its Slurm log.
    assert!(first.contains("broken-bert"), "{error}");
    assert!(
        log.lines().any(|l| l == format!("error: {first}")),
        "{first:?} is not the log's error line:\n{log}"
    );
    assert!(
        error.contains("job: 1 (broken-bert on sentence-similarity)"),
        "{error}"
    );
    assert!(error.contains("log: "), "{error}");

    // collect: done, failed, missing; the valid result gathered.
    let o = s.collect(&plan, &["--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = json_stdout(&o);
    let states: Vec<&str> = r["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["done", "failed", "missing"]);
    assert_eq!(r["jobs"][0]["node"], "node7");
    assert_eq!(r["jobs"][1]["detail"], first);
    assert_eq!(r["resubmit"], serde_json::json!([1, 2]));
    assert_eq!(
        r["resubmit_command"],
        format!("sbatch --array=1-2 {}", plan.join("job.sbatch").display())
    );
    let collected = plan.join("collected/sentence-similarity/tiny-bert");
    let copies = json_files(&plan.join("collected"));
    assert_eq!(copies.len(), 1, "{copies:?}");
    assert!(copies[0].starts_with(&collected));
    assert_eq!(
        std::fs::read(&copies[0]).unwrap(),
        std::fs::read(&results[0]).unwrap()
    );
    let csv = collected.join(v["timeline_csv"].as_str().unwrap());
    assert!(std::fs::read_to_string(csv).unwrap().starts_with("t_s,"));

    // The table and --resubmit.
    let o = s.collect(&plan, &["--resubmit"]);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    for needle in [
        "done",
        "failed",
        "missing",
        "1 done, 1 failed, 0 interrupted, 1 missing",
    ] {
        assert!(text.contains(needle), "{needle:?} not in:\n{text}");
    }
    assert!(
        text.lines().any(|l| l
            == format!(
                "rerun: sbatch --array=1-2 {}",
                plan.join("job.sbatch").display()
            )),
        "{text}"
    );

    // Job 2 (no Slurm variables), then collect again (idempotent) into another folder.
    let o = s.run_job(&plan, 2).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let v2 = read_valid_result(&json_files(&plan.join("results/2"))[0]);
    assert_eq!(v2["slurm"], Value::Null);
    let gathered = s.path("gathered");
    for _ in 0..2 {
        let o = s.collect(&plan, &["--json", "--out", gathered.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let r = json_stdout(&o);
        assert_eq!(r["done"], 2);
        assert_eq!(r["failed"], 1);
        assert_eq!(r["resubmit"], serde_json::json!([1]));
    }
    let copies = json_files(&gathered);
    assert_eq!(copies.len(), 2, "{copies:?}");
    assert!(copies[1].starts_with(gathered.join("sentence-similarity/tiny-bert-b")));

    // A result of another job in a job's folder is not taken for its result.
    let stray = plan.join("results/1/sentence-similarity/tiny-bert");
    std::fs::create_dir_all(&stray).unwrap();
    std::fs::copy(&results[0], stray.join("stray.json")).unwrap();
    std::fs::remove_file(plan.join("jobs/1.error.txt")).unwrap();
    let o = s.collect(&plan, &["--json"]);
    let r = json_stdout(&o);
    assert_eq!(r["jobs"][1]["state"], "failed");
    let detail = r["jobs"][1]["detail"].as_str().unwrap();
    assert!(detail.contains("not of this job"), "{detail}");
}

#[test]
fn collect_exits_0_when_all_done_and_flags_interrupted_results() {
    let s = setup();
    let plan = s.path("plan");
    let o = s.quick_plan(&plan, "tiny-bert", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!plan.join("job.sbatch").exists());
    let o = s.run_job(&plan, 0).arg("--json").output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    // --json on the command line of `run --plan` is honoured.
    assert_eq!(json_stdout(&o)[0]["model"], "tiny-bert");

    let o = s.collect(&plan, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("every job is done"), "{}", stdout(&o));

    // A stale error file beside a complete result: the result wins, and collect says so.
    let error_file = plan.join("jobs").join("0.error.txt");
    std::fs::write(&error_file, "interrupted (exit status 130)\n").unwrap();
    let o = s.collect(
        &plan,
        &["--json", "--out", s.path("stale").to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let detail = json_stdout(&o)["jobs"][0]["detail"].to_string();
    assert!(detail.contains("wins over the error file"), "{detail}");
    std::fs::remove_file(&error_file).unwrap();

    // An interrupted result (e.g. killed at the time limit) does not count as done.
    let result = &json_files(&plan.join("results/0"))[0];
    let text = std::fs::read_to_string(result).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["status"] = "interrupted".into();
    std::fs::write(result, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    let o = s.collect(
        &plan,
        &["--json", "--out", s.path("other").to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = json_stdout(&o);
    assert_eq!(r["jobs"][0]["state"], "interrupted");
    assert_eq!(r["resubmit"], serde_json::json!([0]));
    // Without a Slurm script, the rerun command is `run --plan`.
    let cmd = r["resubmit_command"].as_str().unwrap();
    assert!(
        cmd.contains("run --plan") && cmd.contains("--job-index"),
        "{cmd}"
    );
}

#[test]
fn run_plan_refuses_what_the_plan_does_not_allow() {
    let s = setup();
    let plan = s.path("plan");
    let o = s.quick_plan(&plan, "tiny-bert", &[]);
    assert!(o.status.success(), "{}", stderr(&o));

    let o = s.run_job(&plan, 5).output().unwrap();
    assert_one_error_line(&o, "job index 5 is out of range");
    let o = s
        .run_job(&plan, 0)
        .args(["--queries", "9", "--country", "FR"])
        .output()
        .unwrap();
    assert_one_error_line(&o, "--country, --queries cannot be combined with --plan");
    let o = s.run_job(&s.path("not-a-plan"), 0).output().unwrap();
    assert_one_error_line(&o, "not a plan folder");
    // --plan needs --job-index.
    let o = bin().arg("run").arg("--plan").arg(&plan).output().unwrap();
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--job-index"), "{}", stderr(&o));
    assert!(json_files(&plan.join("results")).is_empty());
    assert!(!plan.join("jobs").join("0.error.txt").exists());

    // A corrupt plan line is one clear error naming the file and line.
    std::fs::write(plan.join("plan.jsonl"), "{\"index\": 0, \"model\": 3}\n").unwrap();
    let o = s.run_job(&plan, 0).output().unwrap();
    assert_one_error_line(&o, "plan.jsonl:1");
    let o = s.collect(&plan, &[]);
    assert_one_error_line(&o, "plan.jsonl:1");
}

#[test]
fn sigterm_at_the_time_limit_leaves_an_interrupted_job() {
    let s = setup();
    let plan = s.path("plan");
    let o = s.plan(
        &plan,
        &[
            "--models",
            "tiny-bert",
            "--tasks",
            "sentence-similarity",
            "--dataset",
            s.similarity.to_str().unwrap(),
            "--queries",
            "100000000",
            "--repetitions",
            "1",
            "--warmup",
            "0",
            "--extra-run-args=--idle-seconds 0 --interval-ms 20",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // Slurm sends SIGTERM when a job reaches its time limit.
    let log = plan.join("logs/5_0.out");
    let mut child = s
        .run_job(&plan, 0)
        .env("SLURM_JOB_ID", "6")
        .env("SLURM_ARRAY_JOB_ID", "5")
        .env("SLURM_ARRAY_TASK_ID", "0")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    // Wait until the job is being metered (its label is printed after the meter
    // starts; the model then loads in well under a second), then a little more.
    let start = std::time::Instant::now();
    while !std::fs::read_to_string(&log)
        .unwrap()
        .contains("frugalbench: tiny-bert on sentence-similarity")
    {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "the job never started: {}",
            std::fs::read_to_string(&log).unwrap()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_secs(2));
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = child.wait().unwrap();
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(status.code(), Some(130), "{log_text}");
    let results = json_files(&plan.join("results/0"));
    assert_eq!(results.len(), 1, "{results:?}\n{log_text}");
    assert_eq!(read_valid_result(&results[0])["status"], "interrupted");
    let error = std::fs::read_to_string(plan.join("jobs/0.error.txt")).unwrap();
    assert!(error.starts_with("interrupted"), "{error}");

    let o = s.collect(&plan, &["--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = json_stdout(&o);
    assert_eq!(r["jobs"][0]["state"], "interrupted");
    assert_eq!(r["interrupted"], 1);
    assert_eq!(r["resubmit"], serde_json::json!([0]));
    assert!(json_files(&plan.join("collected")).is_empty());
}
