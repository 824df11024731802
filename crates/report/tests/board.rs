//! Leaderboard, compare and export on fixtures and generated variants (library level; the
//! binary and the browser are tested in the repository's `tests/board.rs`).

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{Duration, Utc};
use frugalbench_report::board::site::write_site;
use frugalbench_report::board::stars::StarRule;
use frugalbench_report::board::{build_board, Board};
use frugalbench_report::compare::{compare_sets, CompareOptions, Comparison, Verdict};
use frugalbench_report::export::{CodecarbonCsv, CompareMarkdown, Exporter, CODECARBON_COLUMNS};
use frugalbench_report::inputs::{load_inputs, load_one};
use frugalbench_report::*;

mod common;
use common::{fixture, fixtures_dir, loaded, variant};

fn write_json(dir: &Path, name: &str, r: &RunResult) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, serde_json::to_vec_pretty(r).unwrap()).unwrap();
    p
}

/// (model, Wh factor, quality): the expected order by energy is the listed order.
const MODELS: [(&str, f64, f64); 5] = [
    ("tiny", 0.3, 0.70),
    ("mid", 1.5, 0.80),
    ("hostile <b>", 2.0, 0.75),
    ("big", 4.0, 0.88),
    ("worst", 5.0, 0.60),
];

fn mixed_folder(dir: &Path) -> usize {
    for (id, k, q) in MODELS {
        write_json(
            dir,
            &format!("{}.json", id.replace(' ', "_")),
            &variant(id, k, 0.01, q),
        );
    }
    fs::copy(
        fixtures_dir().join("estimated-text-classification.json"),
        dir.join("estimated.json"),
    )
    .unwrap();
    // Broken inputs, each rejected for its own reason.
    fs::write(dir.join("broken.json"), "{\"schema_version\": 1,").unwrap();
    let mut v = serde_json::to_value(variant("neg", 1.0, 0.0, 0.5)).unwrap();
    v["repetitions"][0]["by_source"][0]["joules"] = serde_json::json!(-1.0);
    fs::write(dir.join("negative.json"), v.to_string()).unwrap();
    let mut insane = variant("insane", 1.0, 0.0, 0.5);
    insane.energy.total_joules *= 2.0;
    write_json(dir, "insane.json", &insane);
    3
}

#[test]
fn board_ranks_stars_and_marks_the_front_honestly() {
    let dir = tempfile::tempdir().unwrap();
    let rejected = mixed_folder(dir.path());
    let inputs = load_inputs(&[dir.path().to_path_buf()]).unwrap();
    assert_eq!(inputs.rejected.len(), rejected, "{:#?}", inputs.rejected);
    let reasons = |name: &str| {
        inputs
            .rejected
            .iter()
            .find(|r| r.path.ends_with(name))
            .unwrap_or_else(|| panic!("{name} not rejected"))
            .reasons
            .join(" | ")
    };
    assert!(reasons("broken.json").contains("not valid JSON"));
    assert!(reasons("negative.json").contains("minimum of 0"));
    assert!(reasons("insane.json").contains("sanity"));

    let board = build_board(&inputs, StarRule::Quintile, Utc::now());
    // Measured sentence similarity and estimated text classification never share a table.
    assert_eq!(board.tables.len(), 2);
    let t = &board.tables[0];
    assert_eq!(
        (t.task.as_str(), t.method),
        ("sentence-similarity", OverallMethod::Measured)
    );
    let models: Vec<&str> = t.rows.iter().map(|r| r.model.as_str()).collect();
    assert_eq!(models, ["tiny", "mid", "hostile <b>", "big", "worst"]);
    let ranks: Vec<usize> = t.rows.iter().map(|r| r.rank).collect();
    assert_eq!(ranks, [1, 2, 3, 4, 5]);
    let stars: Vec<Option<u8>> = t.rows.iter().map(|r| r.stars).collect();
    assert_eq!(stars, [5, 4, 3, 2, 1].map(Some));
    assert_eq!(t.rating.pool_size, 5);
    assert_eq!(t.rating.not_rated, None);
    let front: Vec<Option<bool>> = t.rows.iter().map(|r| r.pareto).collect();
    // tiny (cheapest), mid (more accurate than tiny), big (most accurate) are on the front.
    assert_eq!(
        front,
        [Some(true), Some(true), Some(false), Some(true), Some(false)]
    );
    assert!(t
        .rows
        .windows(2)
        .all(|w| w[0].wh_per_1000_queries <= w[1].wh_per_1000_queries));
    assert_eq!(board.tables[1].method, OverallMethod::Estimated);

    let eq = build_board(&inputs, StarRule::EqualWidth, Utc::now());
    let stars: Vec<Option<u8>> = eq.tables[0].rows.iter().map(|r| r.stars).collect();
    // Wh ∝ 0.3, 1.5, 2, 4, 5: bands of width 0.94 from 0.3; band ⌊5·(x − 0.3)/4.7⌋ =
    // 0, 1 (1.28), 1 (1.81), 3 (3.94), 4 → 5, 4, 4, 2, 1 stars.
    assert_eq!(stars, [5, 4, 4, 2, 1].map(Some));
    // The estimated table holds one model: not rated.
    assert!(board.tables[1].rows.iter().all(|r| r.stars.is_none()));
    assert_eq!(
        board.tables[1].rating.not_rated.as_deref(),
        Some("not rated (1 models; at least 5 needed)")
    );
}

#[test]
fn interrupted_and_superseded_runs_are_listed_not_ranked() {
    let dir = tempfile::tempdir().unwrap();
    let old = variant("m", 1.0, 0.0, 0.5);
    let mut new = variant("m", 2.0, 0.0, 0.5);
    new.started_at = old.started_at + Duration::hours(1);
    new.finished_at = old.finished_at + Duration::hours(1);
    let mut cut = variant("cut", 1.0, 0.0, 0.5);
    cut.status = Status::Interrupted;
    write_json(dir.path(), "old.json", &old);
    write_json(dir.path(), "new.json", &new);
    write_json(dir.path(), "cut.json", &cut);
    let inputs = load_inputs(&[dir.path().to_path_buf()]).unwrap();
    let board = build_board(&inputs, StarRule::Quintile, Utc::now());
    assert_eq!(board.tables.len(), 1);
    assert_eq!(board.tables[0].rows.len(), 1);
    assert!(board.tables[0].rows[0].file.ends_with("new.json"));
    let why: Vec<String> = board.not_ranked.iter().map(|n| n.reason.clone()).collect();
    assert_eq!(why.len(), 2, "{why:?}");
    assert!(why.iter().any(|w| w.contains("interrupted")));
    assert!(why.iter().any(|w| w.contains("superseded")));
}

fn site_of(dir: &Path) -> (Board, PathBuf) {
    mixed_folder(dir);
    let inputs = load_inputs(&[dir.to_path_buf()]).unwrap();
    let board = build_board(&inputs, StarRule::Quintile, Utc::now());
    let out = dir.join("site");
    write_site(&board, &out).unwrap();
    (board, out)
}

#[test]
fn site_has_every_chart_label_and_export_and_escapes_names() {
    let dir = tempfile::tempdir().unwrap();
    let (board, out) = site_of(dir.path());
    let html = fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains("hostile &lt;b&gt;"));
    assert!(!html.contains("hostile <b>"), "raw name in the page");
    assert_eq!(html.matches("<tr class=\"row").count(), 6);
    assert_eq!(html.matches("<tr class=\"rejected\"").count(), 3);
    assert!(html.contains("ESTIMATED"));
    for t in 0..board.tables.len() {
        let slug = board.tables[t].slug(t);
        for ext in ["svg", "png"] {
            let p = out.join(format!("charts/{slug}-energy.{ext}"));
            assert!(fs::metadata(&p).unwrap().len() > 1000, "{}", p.display());
        }
    }
    let labels = fs::read_dir(out.join("labels")).unwrap().count();
    assert_eq!(labels, 2 * 6, "an SVG and a PNG label per ranked row");
    let png = fs::read(out.join("charts/t1-sentence-similarity-measured-pareto.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let svg =
        fs::read_to_string(out.join("charts/t1-sentence-similarity-measured-energy.svg")).unwrap();
    assert!(svg.contains("hostile &lt;b&gt;") && !svg.contains("hostile <b>"));

    let csv_text = fs::read_to_string(out.join("leaderboard.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(csv_text.as_bytes());
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 6);
    assert_eq!(&rows[2][4], "hostile <b>", "CSV keeps the name as data");
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("leaderboard.json")).unwrap()).unwrap();
    assert_eq!(json["board"]["tables"][0]["rows"][0]["model"], "tiny");
    assert_eq!(json["board"]["rejected"].as_array().unwrap().len(), 3);

    // Rebuilding replaces the site as a whole.
    fs::write(out.join("stale.txt"), "x").unwrap();
    write_site(&board, &out).unwrap();
    assert!(!out.join("stale.txt").exists());
}

#[test]
fn site_draws_a_timeline_from_the_sibling_csv_and_notes_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = variant("timed", 1.0, 0.0, 0.5);
    r.timeline_csv = Some("timed.timeline.csv".into());
    let path = write_json(dir.path(), "timed.json", &r);
    fs::write(
        dir.path().join("timed.timeline.csv"),
        "t_s,rapl/package-0 W (measured)\n0.0,50\n0.1,52\n0.2,51\n",
    )
    .unwrap();
    let mut bad = variant("badtl", 1.0, 0.0, 0.5);
    bad.timeline_csv = Some("bad.timeline.csv".into());
    write_json(dir.path(), "bad.json", &bad);
    fs::write(dir.path().join("bad.timeline.csv"), "garbage\n").unwrap();
    assert!(load_one(&path).unwrap().timeline.is_some());
    let inputs = load_inputs(&[dir.path().to_path_buf()]).unwrap();
    let board = build_board(&inputs, StarRule::Quintile, Utc::now());
    let summary = write_site(&board, &dir.path().join("site")).unwrap();
    assert!(
        summary
            .files
            .iter()
            .any(|f| f.ends_with("-timed-timeline.png")),
        "{:?}",
        summary.files
    );
    assert_eq!(summary.warnings.len(), 1, "{:?}", summary.warnings);
    assert!(summary.warnings[0].contains("bad.timeline.csv"));
}

fn markdown(c: &Comparison) -> String {
    String::from_utf8(CompareMarkdown.serialize(c).unwrap()).unwrap()
}

fn cmp(base: RunResult, new: RunResult) -> Comparison {
    compare_sets(
        &[loaded(base, "base.json")],
        &[loaded(new, "new.json")],
        true,
        &CompareOptions::default(),
    )
}

#[test]
fn compare_gates_on_threshold_and_significance() {
    let base = variant("m", 1.0, 0.01, 0.5);
    // +20%, repetitions within ±1%: significant regression.
    let c = cmp(base.clone(), variant("m", 1.2, 0.01, 0.5));
    assert_eq!(c.exit_code, 1);
    let p = &c.pairs[0];
    assert_eq!(p.verdict, Verdict::Regressed);
    assert!((p.change_pct.unwrap() - 20.0).abs() < 1e-6);
    assert!(p.welch.unwrap().p_two_sided < 0.01);
    let (lo, hi) = p.ratio_ci95.unwrap();
    assert!(lo < 1.2 && 1.2 < hi && lo > 1.1, "{lo}–{hi}");
    let md = markdown(&c);
    assert!(
        md.contains("| model | task |") && md.contains("**regressed**"),
        "{md}"
    );

    // Same energy: ok.
    assert_eq!(cmp(base.clone(), base.clone()).exit_code, 0);
    // +3%: below the threshold.
    let c = cmp(base.clone(), variant("m", 1.03, 0.01, 0.5));
    assert_eq!((c.exit_code, c.pairs[0].verdict), (0, Verdict::Unchanged));
    // −30%: improved.
    let c = cmp(base.clone(), variant("m", 0.7, 0.01, 0.5));
    assert_eq!((c.exit_code, c.pairs[0].verdict), (0, Verdict::Improved));
    // +8% but repetitions spread ±40%: above the threshold, not significant.
    let c = cmp(variant("m", 1.0, 0.4, 0.5), variant("m", 1.08, 0.4, 0.5));
    assert_eq!(c.pairs[0].verdict, Verdict::Unchanged);
    assert!(
        c.pairs[0].why.contains("not significant"),
        "{}",
        c.pairs[0].why
    );
    assert_eq!(c.exit_code, 0);
}

#[test]
fn compare_with_one_repetition_decides_on_the_threshold_and_says_so() {
    let one = |k: f64| {
        let mut r = variant("m", k, 0.0, 0.5);
        r.repetitions.truncate(1);
        r.settings.repetitions = 1;
        r.fill_derived();
        r
    };
    let c = cmp(one(1.0), one(1.1));
    let p = &c.pairs[0];
    assert_eq!((c.exit_code, p.verdict), (1, Verdict::Regressed));
    assert!(!p.significance_tested && p.welch.is_none());
    assert!(p.why.contains("not significance-tested"), "{}", p.why);
    assert!(markdown(&c).contains("not significance-tested"));
}

#[test]
fn compare_refuses_measured_vs_estimated_other_hardware_and_tasks() {
    let base = variant("m", 1.0, 0.01, 0.5);
    let mut est = base.clone();
    for rep in &mut est.repetitions {
        for s in &mut rep.by_source {
            s.method = Method::Estimated;
        }
    }
    est.fill_derived();
    assert_eq!(est.energy.method, OverallMethod::Estimated);
    let c = cmp(base.clone(), est);
    assert_eq!(
        (c.exit_code, c.pairs[0].verdict),
        (2, Verdict::Incomparable)
    );
    assert!(
        c.pairs[0].why.contains("measured vs estimated"),
        "{}",
        c.pairs[0].why
    );

    let mut other = base.clone();
    other.hardware.cpu_model = "Another CPU".into();
    other.hardware.gpus = vec!["NVIDIA H100".into()];
    let c = cmp(base.clone(), other);
    assert_eq!(c.exit_code, 2);
    assert!(c.pairs[0].why.contains("different hardware"));

    // Without DRAM the counted domains differ, so the totals measure different things.
    let mut no_dram = base.clone();
    for rep in &mut no_dram.repetitions {
        rep.by_source.retain(|s| s.kind != DomainKind::Dram);
    }
    no_dram.fill_derived();
    let c = cmp(base.clone(), no_dram);
    assert!(
        c.pairs[0].why.contains("different methods"),
        "{}",
        c.pairs[0].why
    );

    let c = cmp(base, fixture("measured-rapl-text-generation.json"));
    assert!(c.pairs[0].why.contains("different task"));
    assert_eq!(c.exit_code, 2);
}

#[test]
fn compare_matches_folders_by_model_and_task() {
    let base = [
        loaded(variant("a", 1.0, 0.01, 0.5), "a"),
        loaded(variant("b", 1.0, 0.01, 0.5), "b"),
        loaded(variant("gone", 1.0, 0.01, 0.5), "gone"),
    ];
    let new = [
        loaded(variant("a", 1.0, 0.01, 0.5), "a"),
        loaded(variant("b", 1.5, 0.01, 0.5), "b"),
        loaded(variant("added", 1.0, 0.01, 0.5), "added"),
    ];
    let c = compare_sets(&base, &new, false, &CompareOptions::default());
    assert_eq!(c.exit_code, 1);
    let verdicts: Vec<(&str, Verdict)> = c
        .pairs
        .iter()
        .map(|p| (p.model.as_str(), p.verdict))
        .collect();
    assert_eq!(
        verdicts,
        [("a", Verdict::Unchanged), ("b", Verdict::Regressed)]
    );
    assert_eq!(c.only_in_base, ["gone · sentence-similarity"]);
    assert_eq!(c.only_in_new, ["added · sentence-similarity"]);
    let nothing = compare_sets(&base[2..], &new[2..], false, &CompareOptions::default());
    assert_eq!(nothing.exit_code, 2, "nothing matched");
}

#[test]
fn codecarbon_export_has_codecarbons_columns_and_units() {
    let r = fixture("measured-rapl-text-generation.json");
    let l = loaded(r.clone(), "gen.json");
    let exporter = CodecarbonCsv {
        project_name: "fb".into(),
    };
    let bytes = exporter.serialize(std::slice::from_ref(&l)).unwrap();
    let mut rdr = csv::Reader::from_reader(&bytes[..]);
    let header: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(header, CODECARBON_COLUMNS);
    let row = rdr.records().next().unwrap().unwrap();
    let col = |name: &str| {
        let i = CODECARBON_COLUMNS.iter().position(|c| *c == name).unwrap();
        row[i].to_string()
    };
    let f = |name: &str| col(name).parse::<f64>().unwrap();
    let pue = r.carbon.intensity.pue;
    // kWh including PUE, like CodeCarbon; emissions in kg.
    assert!((f("energy_consumed") - r.energy.total_joules * pue / 3.6e6).abs() < 1e-15);
    assert!((f("emissions") - r.carbon.g_co2e / 1000.0).abs() < 1e-15);
    assert!(
        (f("emissions")
            - f("energy_consumed") * r.carbon.intensity.grid_intensity_g_per_kwh / 1000.0)
            .abs()
            < 1e-12
    );
    assert!((f("cpu_energy") + f("ram_energy") - f("energy_consumed")).abs() < 1e-15);
    assert_eq!(col("gpu_energy"), "0");
    assert_eq!(f("duration"), r.timing.wall_seconds);
    assert_eq!(col("timestamp"), "2026-11-23T12:31:05");
    assert_eq!(
        col("project_name"),
        "fb/text-generation/smollm2-135m-instruct-q4_1"
    );
    assert_eq!(col("pue"), "1.2");
    assert_eq!(col("country_name"), "");
    assert_eq!(col("run_id").len(), 36);
}

#[test]
fn the_front_treats_word_error_rate_as_lower_is_better() {
    let dir = tempfile::tempdir().unwrap();
    // (model, Wh factor, WER): mid is dearer than tiny but makes fewer errors; big is dearer
    // than mid and makes more errors than mid.
    for (id, k, wer) in [("tiny", 0.3, 0.30), ("mid", 1.5, 0.10), ("big", 4.0, 0.20)] {
        let mut r = variant(id, k, 0.01, wer);
        r.quality.as_mut().unwrap().metric = "wer".into();
        write_json(dir.path(), &format!("{id}.json"), &r);
    }
    let inputs = load_inputs(&[dir.path().to_path_buf()]).unwrap();
    assert!(inputs.rejected.is_empty(), "{:#?}", inputs.rejected);
    let board = build_board(&inputs, StarRule::Quintile, Utc::now());
    let t = &board.tables[0];
    assert_eq!(t.quality_metric.as_deref(), Some("wer"));
    let front: Vec<(&str, Option<bool>)> = t
        .rows
        .iter()
        .map(|r| (r.model.as_str(), r.pareto))
        .collect();
    assert_eq!(
        front,
        [
            ("tiny", Some(true)),
            ("mid", Some(true)),
            ("big", Some(false))
        ]
    );
}
