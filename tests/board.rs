//! End-to-end tests of `frugalbench leaderboard`, `compare`, `report` and `export`: the binary
//! on a folder of mixed results (valid measured and estimated fixtures, generated variants,
//! hostile and broken files), and the site opened in headless Chromium.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use frugalbench_report::{read_result, sanity_check, Method, RunResult, Status};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_frugalbench"))
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/results")
}

fn fixture(name: &str) -> RunResult {
    read_result(&fixtures_dir().join(name)).unwrap()
}

/// The measured fixture as model `id`: repetition i's energy × `k` × (1 + `jitter`·(i−1)),
/// quality `q`, derived figures recomputed.
fn variant(id: &str, k: f64, jitter: f64, q: f64) -> RunResult {
    let mut r = fixture("measured-rapl-sentence-similarity.json");
    r.model.id = id.into();
    r.timeline_csv = None;
    for (i, rep) in r.repetitions.iter_mut().enumerate() {
        let f = k * (1.0 + jitter * (i as f64 - 1.0));
        for s in &mut rep.by_source {
            s.joules *= f;
            s.avg_watts *= f;
        }
    }
    r.quality.as_mut().unwrap().value = q;
    r.fill_derived();
    assert!(sanity_check(&r).is_empty(), "{:?}", sanity_check(&r));
    r
}

fn write_json(path: &Path, r: &RunResult) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, serde_json::to_vec_pretty(r).unwrap()).unwrap();
}

const SCRIPT_NAME: &str = "<script>alert(1)</script>";
/// Would mark the page if its markup were ever interpreted.
const MARKER_NAME: &str =
    "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','1')\">";

/// Measured sentence-similarity models in the expected order (most frugal first).
const RANKED: [(&str, f64, f64); 6] = [
    ("tiny-model", 0.3, 0.70),
    ("all-minilm-l6-v2", 1.0, 0.8312),
    ("mid-model", 1.5, 0.80),
    (SCRIPT_NAME, 2.0, 0.75),
    ("big-model", 4.0, 0.88),
    (MARKER_NAME, 5.0, 0.60),
];

/// A folder of mixed results; returns the number of broken files in it.
fn mixed_folder(dir: &Path) -> usize {
    for (i, (id, k, q)) in RANKED.iter().enumerate() {
        write_json(
            &dir.join(format!("gen/v{i}.json")),
            &variant(id, *k, 0.01, *q),
        );
    }
    for f in [
        "estimated-text-classification.json",
        "measured-rapl-text-generation.json",
    ] {
        fs::copy(fixtures_dir().join(f), dir.join(f)).unwrap();
    }
    let bad = dir.join("bad");
    fs::create_dir_all(&bad).unwrap();
    fs::write(
        bad.join("invalid.json"),
        "{\"schema_version\": 1, \"model\": ",
    )
    .unwrap();
    let mut v = serde_json::to_value(variant("negative", 1.0, 0.0, 0.5)).unwrap();
    v["energy"]["total_joules"] = serde_json::json!(-12.5);
    fs::write(bad.join("negative.json"), v.to_string()).unwrap();
    let mut v = serde_json::to_value(variant("wrong-schema", 1.0, 0.0, 0.5)).unwrap();
    v["schema_version"] = serde_json::json!(99);
    fs::write(bad.join("wrong-schema.json"), v.to_string()).unwrap();
    let mut v = serde_json::to_value(variant("<b>no-energy</b>", 1.0, 0.0, 0.5)).unwrap();
    v.as_object_mut().unwrap().remove("energy");
    fs::write(bad.join("missing.json"), v.to_string()).unwrap();
    fs::write(bad.join("not-an-object.json"), "[1, 2, 3]").unwrap();
    // An interrupted run is valid but not ranked.
    let mut cut = variant("interrupted-model", 0.1, 0.0, 0.9);
    cut.status = Status::Interrupted;
    write_json(&dir.join("cut.json"), &cut);
    5
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| {
            std::env::var_os("PATH")
                .map(|p| {
                    std::env::split_paths(&p)
                        .map(|d| d.join(name))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
        .find(|p| p.is_file())
}

/// `chromium --headless ... --dump-dom file://<page>`, killed after 120 s.
fn dump_dom(chrome: &Path, page: &Path, profile: &Path) -> String {
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let mut child = Command::new(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(&url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `data-model` attributes of the rows of the table with id `table_id`, in DOM order.
fn rows_of(dom: &str, table_id: &str) -> Vec<String> {
    let start = dom
        .find(&format!("id=\"{table_id}\""))
        .unwrap_or_else(|| panic!("no table {table_id}"));
    let end = dom[start..].find("</article>").unwrap() + start;
    dom[start..end]
        .split("data-model=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect()
}

/// `s` as Chromium serialises it in an attribute value of a dumped DOM.
fn escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[test]
fn leaderboard_of_mixed_results_renders_in_chromium_and_ranks_honestly() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let broken = mixed_folder(&results);
    let site = dir.path().join("site");
    let o = bin()
        .arg("leaderboard")
        .arg(&results)
        .arg("--out")
        .arg(&site)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("8 results ranked in 3 tables, 1 not ranked, 5 rejected"),
        "{}",
        text(&o)
    );
    for f in ["index.html", "leaderboard.csv", "leaderboard.json"] {
        assert!(site.join(f).is_file(), "{f} missing");
    }
    let html = fs::read_to_string(site.join("index.html")).unwrap();
    assert!(!html.contains(SCRIPT_NAME), "raw <script> name in the page");
    assert!(!html.contains("<img src=x"), "raw <img> name in the page");
    let charts: Vec<String> = fs::read_dir(site.join("charts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    for kind in ["energy", "pareto"] {
        for ext in ["svg", "png"] {
            let n = charts
                .iter()
                .filter(|c| c.ends_with(&format!("-{kind}.{ext}")))
                .count();
            assert_eq!(n, 3, "{kind}.{ext} per table: {charts:?}");
        }
    }
    assert_eq!(fs::read_dir(site.join("labels")).unwrap().count(), 2 * 8);

    let Some(chrome) = chromium() else {
        // Written to the process's stderr, not through eprintln!, so the test harness's
        // output capture cannot hide it.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: chromium not installed (the browser checks of the leaderboard did not \
             run; install Debian's `chromium` package)"
        );
        return;
    };
    let profile = dir.path().join("chromium-profile");
    let dom = dump_dom(&chrome, &site.join("index.html"), &profile);
    assert!(dom.contains("</html>"), "no DOM dumped: {dom}");
    // The page's own script ran (the CSP hash matches) and nothing injected did.
    assert!(
        dom.contains("data-sortable=\"ready\""),
        "sorting script did not run"
    );
    assert!(
        !dom.contains("data-pwned=\"1\""),
        "injected markup was executed"
    );
    // Names show as text.
    assert!(
        dom.contains(&escaped(SCRIPT_NAME)),
        "escaped <script> name not shown"
    );
    assert!(!dom.contains(SCRIPT_NAME));
    assert_eq!(
        dom.matches("<script>").count(),
        1,
        "only the page's own script"
    );
    // Rows: 6 measured sentence-similarity, 1 estimated classification, 1 generation.
    assert_eq!(dom.matches("<tr class=\"row").count(), 8);
    let expected: Vec<String> = RANKED.iter().map(|(id, _, _)| escaped(id)).collect();
    assert_eq!(rows_of(&dom, "t1-sentence-similarity-measured"), expected);
    assert_eq!(
        rows_of(&dom, "t2-text-classification-estimated"),
        ["all-minilm-l6-v2-climate-head"]
    );
    let est = &dom[dom.find("id=\"t2-text-classification-estimated\"").unwrap()..];
    assert!(
        est[..est.find("</article>").unwrap()].contains("Estimated energy, not measured"),
        "estimated table lacks its marker"
    );
    // Stars and the Pareto front of the measured table.
    let t1 = &dom[dom.find("id=\"t1-sentence-similarity-measured\"").unwrap()..];
    let t1 = &t1[..t1.find("</article>").unwrap()];
    let stars: Vec<&str> = t1
        .split("class=\"stars\" data-v=\"")
        .skip(1)
        .map(|s| &s[..1])
        .collect();
    assert_eq!(stars, ["5", "5", "4", "3", "2", "1"]);
    let front = t1.matches("◆ front").count();
    assert_eq!(front, 3, "tiny, all-minilm and big are on the front");
    // Rejected files are listed with reasons, in the rejected section only.
    let rejected = &dom[dom.find("id=\"rejected\"").unwrap()..];
    assert_eq!(rejected.matches("<tr class=\"rejected\"").count(), broken);
    for needle in [
        "invalid.json",
        "not valid JSON",
        "negative.json",
        "minimum of 0",
        "wrong-schema.json",
        "schema_version 99",
        "missing.json",
        "energy",
        "not-an-object.json",
    ] {
        assert!(
            rejected.contains(needle),
            "rejected section lacks {needle:?}"
        );
    }
    assert!(!t1.contains("negative") && !t1.contains("interrupted-model"));
    let not_ranked = &dom[dom.find("id=\"not-ranked\"").unwrap()..];
    assert!(not_ranked.contains("interrupted-model"));
}

#[test]
fn leaderboard_never_replaces_a_foreign_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("home");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("thesis.tex"), "precious").unwrap();
    let o = bin()
        .arg("leaderboard")
        .arg(fixtures_dir())
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("refusing to replace"));
    assert_eq!(
        fs::read_to_string(out.join("thesis.tex")).unwrap(),
        "precious"
    );
}

#[cfg(unix)]
#[test]
fn leaderboard_skips_a_fifo_and_a_symlink_named_like_results_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    fs::create_dir(&results).unwrap();
    fs::copy(
        fixtures_dir().join("measured-rapl-sentence-similarity.json"),
        results.join("ok.json"),
    )
    .unwrap();
    let made = Command::new("mkfifo")
        .arg(results.join("x.json"))
        .status()
        .unwrap();
    assert!(made.success());
    std::os::unix::fs::symlink("/dev/zero", results.join("y.json")).unwrap();
    let out = dir.path().join("site");
    let mut child = bin()
        .arg("leaderboard")
        .arg(&results)
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("leaderboard hangs on a FIFO named x.json");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("x.json: a FIFO, not a regular file; not read"),
        "{}",
        text(&o)
    );
    assert!(
        err.contains("y.json: a symbolic link, not followed"),
        "{}",
        text(&o)
    );
    let html = fs::read_to_string(out.join("index.html")).unwrap();
    assert_eq!(html.matches("<tr class=\"rejected\"").count(), 2);
    assert_eq!(html.matches("<tr class=\"row").count(), 1);
}

fn compare(base: &Path, new: &Path, extra: &[&str]) -> Output {
    bin()
        .arg("compare")
        .arg(base)
        .arg(new)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn compare_exits_1_on_a_regression_with_a_markdown_table() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.json");
    let new = dir.path().join("new.json");
    write_json(&base, &variant("m", 1.0, 0.01, 0.8));
    write_json(&new, &variant("m", 1.25, 0.01, 0.8));
    let o = compare(&base, &new, &["--format", "markdown"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let md = String::from_utf8_lossy(&o.stdout);
    assert!(
        md.starts_with("### ❌ frugalbench compare: REGRESSION"),
        "{md}"
    );
    assert!(
        md.contains("| model | task | BASE Wh/1k q | NEW Wh/1k q | change |"),
        "{md}"
    );
    assert!(
        md.contains("| m | sentence-similarity |") && md.contains("+25.0%"),
        "{md}"
    );
    assert!(md.contains("**regressed**"), "{md}");

    // A looser threshold lets it pass; JSON says the same.
    let o = compare(&base, &new, &["--max-regression", "30", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["exit_code"], 0);
    assert_eq!(v["pairs"][0]["verdict"], "unchanged");
}

#[test]
fn compare_exits_0_on_the_same_result_and_for_matched_folders() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base");
    let new = dir.path().join("new");
    for (d, k) in [(&base, 1.0), (&new, 1.01)] {
        write_json(&d.join("a/r.json"), &variant("a", k, 0.01, 0.8));
        write_json(&d.join("b/r.json"), &variant("b", 2.0 * k, 0.01, 0.8));
    }
    let f = base.join("a/r.json");
    let o = compare(&f, &f, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("no regression"));
    let o = compare(&base, &new, &["--format", "markdown"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let md = String::from_utf8_lossy(&o.stdout);
    assert_eq!(md.matches("✅ unchanged").count(), 2, "{md}");
}

#[test]
fn compare_exits_2_on_measured_vs_estimated_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("measured.json");
    let new = dir.path().join("estimated.json");
    let m = variant("m", 1.0, 0.01, 0.8);
    let mut e = m.clone();
    for rep in &mut e.repetitions {
        for s in &mut rep.by_source {
            s.method = Method::Estimated;
        }
    }
    e.fill_derived();
    write_json(&base, &m);
    write_json(&new, &e);
    let o = compare(&base, &new, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("INCOMPARABLE") && out.contains("measured vs estimated"),
        "{out}"
    );

    fs::write(dir.path().join("broken.json"), "{").unwrap();
    let o = compare(&base, &dir.path().join("broken.json"), &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("error: NEW") && err.contains("not valid JSON"),
        "{err}"
    );
    let o = compare(&base, &new, &["--max-regression", "-3"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn report_writes_charts_and_a_summary_for_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = variant("reported", 1.0, 0.01, 0.8);
    r.timeline_csv = Some("reported.timeline.csv".into());
    let file = dir.path().join("reported.json");
    write_json(&file, &r);
    fs::write(
        dir.path().join("reported.timeline.csv"),
        "t_s,rapl/package-0 W (measured),rapl/dram-0 W (measured)\n0.0,50,4\n0.5,52,4\n1.0,51,4\n",
    )
    .unwrap();
    let out = dir.path().join("report");
    let o = bin()
        .arg("report")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for f in [
        "summary.md",
        "repetitions.svg",
        "repetitions.png",
        "domains.svg",
        "domains.png",
        "label.svg",
        "label.png",
        "timeline.svg",
        "timeline.png",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let md = fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("0.1544 Wh per 1,000 queries"), "{md}");
    assert!(md.contains("**measured** (rapl)") && md.contains("![Power timeline](timeline.svg)"));
}

#[test]
fn export_writes_codecarbon_csv() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("emissions.csv");
    let o = bin()
        .args(["export", "--format", "codecarbon-csv"])
        .arg(fixtures_dir())
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let csv = fs::read_to_string(&out).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with(
        "timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,cpu_power"
    ));
    assert_eq!(lines.count(), 3, "one row per fixture");
    let o = bin()
        .args([
            "export",
            "--format",
            "codecarbon-csv",
            "/nonexistent/results",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn export_writes_valid_boamps_json() {
    use frugalbench_report::export::validate_boamps;
    // A folder of three results: a JSON array of three BoAmps reports on standard output.
    let o = bin()
        .args(["export", "--format", "boamps"])
        .arg(fixtures_dir())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!("stdout is not JSON ({e}): {}", text(&o));
    });
    let reports = v.as_array().expect("several results: an array of reports");
    assert_eq!(reports.len(), 3, "one report per fixture");
    for r in reports {
        if let Err(e) = validate_boamps(r) {
            panic!("invalid BoAmps report: {e:?}\n{r}");
        }
    }
    let methods: Vec<&str> = reports
        .iter()
        .flat_map(|r| r["measures"].as_array().unwrap())
        .map(|m| m["measurementMethod"].as_str().unwrap())
        .collect();
    assert!(
        methods.contains(&"frugalbench: estimate, estimated"),
        "{methods:?}"
    );
    // One result to --out: a single report object in the file, nothing on standard output.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let o = bin()
        .args(["export", "--format", "boamps"])
        .arg(fixtures_dir().join("estimated-text-classification.json"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(o.stdout.is_empty(), "{}", text(&o));
    let one: serde_json::Value = serde_json::from_slice(&fs::read(&out).unwrap()).unwrap();
    assert!(one.is_object());
    validate_boamps(&one).unwrap();
    assert_eq!(one["measures"][0]["cpuTrackingMode"], "estimated");
}

/// Waits for `child` at most `secs` seconds; kills it and fails the test when it runs longer.
fn wait_or_kill(mut child: std::process::Child, secs: u64, what: &str) -> Output {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            let _ = child.wait();
            panic!("{what} still running after {secs} s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn leaderboard_rejects_absurd_quality_quickly_and_leaves_no_temp_folder() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    for (name, q) in [("huge", 1e308), ("tiny", -1e308)] {
        let mut v = serde_json::to_value(variant(name, 1.0, 0.01, 0.8)).unwrap();
        v["quality"]["value"] = serde_json::json!(q);
        fs::create_dir_all(&results).unwrap();
        fs::write(results.join(format!("{name}.json")), v.to_string()).unwrap();
    }
    let out = dir.path().join("site");
    let child = bin()
        .arg("leaderboard")
        .arg(&results)
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let o = wait_or_kill(child, 120, "leaderboard of ±1e308 qualities");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    for name in ["huge.json", "tiny.json"] {
        assert!(
            err.lines().any(|l| l.contains("rejected")
                && l.contains(name)
                && l.contains("sanity: quality.value")
                && l.contains("outside the range [-1, 1] of the metric spearman")),
            "{}",
            text(&o)
        );
    }
    let html = fs::read_to_string(out.join("index.html")).unwrap();
    assert_eq!(html.matches("<tr class=\"rejected\"").count(), 2);
    let mut left: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["results", "site"], "no temp folder left behind");
}

#[test]
fn compare_and_leaderboard_never_print_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    let id = "m\u{1b}[31m\u{0}x\u{8}\u{202E}";
    let base = dir.path().join("base.json");
    let new = dir.path().join("new.json");
    write_json(&base, &variant(id, 1.0, 0.01, 0.8));
    write_json(&new, &variant(id, 1.25, 0.01, 0.8));
    let o = compare(&base, &new, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("m\u{FFFD}[31m\u{FFFD}x"), "{out}");
    let unsafe_chars = |s: &str| {
        s.chars()
            .filter(|&c| {
                (c.is_control() && c != '\n')
                    || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(unsafe_chars(&out), vec![], "{out:?}");

    // A rejected file whose name and content carry escapes: stderr stays clean.
    let results = dir.path().join("results");
    fs::create_dir(&results).unwrap();
    let mut v = serde_json::to_value(variant(id, 1.0, 0.01, 0.8)).unwrap();
    v["energy"]["total_joules"] = serde_json::json!(-1.0);
    v["model"]["files"] = serde_json::json!("\u{1b}]0;title\u{7}");
    fs::write(results.join("bad\u{1b}[2J.json"), v.to_string()).unwrap();
    write_json(&results.join("ok.json"), &variant(id, 1.0, 0.01, 0.8));
    let o = bin()
        .arg("leaderboard")
        .arg(&results)
        .arg("--out")
        .arg(dir.path().join("site"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("rejected"), "{err}");
    assert_eq!(unsafe_chars(&err), vec![], "{err:?}");
    assert_eq!(
        unsafe_chars(&String::from_utf8_lossy(&o.stdout)),
        vec![],
        "{}",
        text(&o)
    );
    // The same file named to `report`, which fails: its error line is clean too.
    let o = bin()
        .arg("report")
        .arg(results.join("bad\u{1b}[2J.json"))
        .arg("--out")
        .arg(dir.path().join("report"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(unsafe_chars(&err), vec![], "{err:?}");
}

#[test]
fn export_neutralises_formulas_from_results_and_the_project_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = variant("=HYPERLINK(\"http://x\",\"y\")", 1.0, 0.01, -0.2);
    r.hardware.cpu_model = "@SUM(A1:A2)".into();
    r.hardware.os = "-2+3".into();
    write_json(&dir.path().join("r.json"), &r);
    let o = bin()
        .args([
            "export",
            "--format",
            "codecarbon-csv",
            "--project-name",
            "+cmd",
        ])
        .arg(dir.path().join("r.json"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let csv = String::from_utf8_lossy(&o.stdout);
    let row = csv.lines().nth(1).unwrap();
    assert!(
        row.contains(",\"'+cmd/sentence-similarity/=HYPERLINK("),
        "{row}"
    );
    assert!(row.contains(",'@SUM(A1:A2),"), "{row}");
    assert!(row.contains(",'-2+3 (kernel "), "{row}");
    for start in ["=", "+", "@", "-2", "\"=", "\"+", "\"@", "\"-"] {
        assert!(!row.contains(&format!(",{start}")), "{start}: {row}");
    }
}
