//! Stars that mean something: pools under five results are not rated (board, site, CSV,
//! label), and reference pools rate results the folder at hand cannot.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use frugalbench_report::board::pool::ReferencePool;
use frugalbench_report::board::site::write_site;
use frugalbench_report::board::stars::StarRule;
use frugalbench_report::board::{build_board, build_board_against, hardware_class};
use frugalbench_report::export::{Exporter, LeaderboardCsv};
use frugalbench_report::inputs::{Inputs, Loaded};
use frugalbench_report::*;

mod common;
use common::{loaded, variant};

/// `n` models of one table, Wh ∝ 1, 2, …, n.
fn inputs_of(n: usize) -> Inputs {
    Inputs {
        loaded: (1..=n)
            .map(|i| {
                loaded(
                    variant(&format!("m{i:02}"), i as f64, 0.01, 0.5),
                    &format!("m{i}.json"),
                )
            })
            .collect(),
        rejected: vec![],
    }
}

fn at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 3, 7, 0, 0).unwrap()
}

#[test]
fn boards_of_1_4_5_and_40_models() {
    for n in [1, 4, 5, 40] {
        for rule in [StarRule::Quintile, StarRule::EqualWidth] {
            let board = build_board(&inputs_of(n), rule, at());
            let t = &board.tables[0];
            assert_eq!(t.rows.len(), n);
            assert_eq!(t.rating.pool_size, n);
            let stars: Vec<Option<u8>> = t.rows.iter().map(|r| r.stars).collect();
            if n < 5 {
                assert!(stars.iter().all(Option::is_none), "n = {n}: {stars:?}");
                assert_eq!(
                    t.rating.not_rated.as_deref(),
                    Some(format!("not rated ({n} models; at least 5 needed)").as_str())
                );
            } else {
                assert_eq!(t.rating.not_rated, None);
                assert_eq!(stars[0], Some(5), "the most frugal of {n}");
                assert_eq!(stars[n - 1], Some(1), "the least frugal of {n}");
                let per_level = n / 5;
                for level in 1..=5 {
                    let c = stars.iter().filter(|s| **s == Some(level)).count();
                    assert_eq!(c, per_level, "n = {n}, {rule:?}, level {level}");
                }
            }
        }
    }
}

#[test]
fn a_board_with_fewer_than_5_models_prints_no_stars() {
    let board = build_board(&inputs_of(4), StarRule::Quintile, at());
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    write_site(&board, &site).unwrap();
    let html = fs::read_to_string(site.join("index.html")).unwrap();
    assert!(!html.contains('★'), "no star glyph on the page");
    assert!(!html.contains("title=\"1 of 5 stars\""));
    // Header and every star cell say why.
    assert_eq!(
        html.matches("not rated (4 models; at least 5 needed)")
            .count(),
        1 + 4,
        "{html}"
    );
    // Every label says so too, with no filled star.
    let labels: Vec<PathBuf> = fs::read_dir(site.join("labels"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "svg"))
        .collect();
    assert_eq!(labels.len(), 4);
    for l in labels {
        let svg = fs::read_to_string(&l).unwrap();
        assert!(
            svg.contains("not rated (4 models; at least 5 needed)"),
            "{}",
            l.display()
        );
        assert!(!svg.contains("of 5 stars"), "{}", l.display());
    }
    // The CSV leaves `stars` empty and says why in `rating`.
    let csv = String::from_utf8(LeaderboardCsv.serialize(&board).unwrap()).unwrap();
    let mut rd = csv::Reader::from_reader(csv.as_bytes());
    let head = rd.headers().unwrap().clone();
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    for rec in rd.records() {
        let rec = rec.unwrap();
        assert_eq!(&rec[col("stars")], "");
        assert_eq!(
            &rec[col("rating")],
            "not rated (4 models; at least 5 needed)"
        );
    }
    // Five models: stars again.
    let board = build_board(&inputs_of(5), StarRule::Quintile, at());
    write_site(&board, &site).unwrap();
    let html = fs::read_to_string(site.join("index.html")).unwrap();
    assert!(!html.contains("stars not-rated"));
    assert_eq!(html.matches("class=\"stars\" data-v=").count(), 5);
}

/// A pool folder holding `results` (written as files) and a manifest.
fn write_pool(dir: &Path, results: &[RunResult]) {
    fs::create_dir_all(dir.join("results")).unwrap();
    fs::write(
        dir.join("manifest.json"),
        r#"{"version": "test-1", "date": "2026-12-01", "machine": "the test fixture's machine",
            "description": "variants of the measured fixture", "refresh": "never", "notes": []}"#,
    )
    .unwrap();
    for (i, r) in results.iter().enumerate() {
        fs::write(
            dir.join("results").join(format!("r{i}.json")),
            serde_json::to_vec_pretty(r).unwrap(),
        )
        .unwrap();
    }
}

fn lone(id: &str, k: f64) -> Inputs {
    Inputs {
        loaded: vec![loaded(variant(id, k, 0.01, 0.6), "lone.json")],
        rejected: vec![],
    }
}

#[test]
fn a_reference_pool_rates_a_lone_result_and_its_label_says_against_what() {
    let dir = tempfile::tempdir().unwrap();
    let pool_dir = dir.path().join("pool");
    let refs: Vec<RunResult> = (1..=5)
        .map(|i| variant(&format!("ref{i}"), i as f64, 0.01, 0.5))
        .collect();
    write_pool(&pool_dir, &refs);
    let pool = ReferencePool::load(&pool_dir).unwrap();
    assert_eq!(pool.manifest.version, "test-1");

    // Alone, it is not rated; against the pool it is (Wh ∝ 1.5: one reference is below it).
    let alone = build_board(&lone("new", 1.5), StarRule::Quintile, at());
    assert_eq!(alone.tables[0].rows[0].stars, None);
    let board = build_board_against(&lone("new", 1.5), StarRule::Quintile, at(), Some(&pool));
    let t = &board.tables[0];
    assert_eq!(t.rating.pool_size, 5);
    // k = 1 of n = 6 → 5 − ⌊5/6⌋ = 5.
    assert_eq!(t.rows[0].stars, Some(5));
    let board = build_board_against(&lone("new", 4.5), StarRule::Quintile, at(), Some(&pool));
    // k = 4 of n = 6 → 5 − ⌊20/6⌋ = 2.
    assert_eq!(board.tables[0].rows[0].stars, Some(2));
    let board = build_board_against(&lone("new", 4.5), StarRule::EqualWidth, at(), Some(&pool));
    // Bands of the pool's range 1..5 (width 0.8): 4.5 is in the last band → 1.
    assert_eq!(board.tables[0].rows[0].stars, Some(1));
    assert!(board.tables[0]
        .rating
        .describe()
        .contains("reference pool test-1 (2026-12-01)"));

    let site = dir.path().join("site");
    write_site(&board, &site).unwrap();
    let html = fs::read_to_string(site.join("index.html")).unwrap();
    assert!(
        html.contains("reference pool test-1 (2026-12-01)"),
        "{html}"
    );
    let label = fs::read_dir(site.join("labels"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "svg"))
        .unwrap();
    let svg = fs::read_to_string(label).unwrap();
    assert!(svg.contains("reference pool test-1 (2026-12-01)"), "{svg}");
    assert!(svg.contains("1 of 5 stars"), "{svg}");

    // Four references are too few; a result of another task or hardware finds none.
    let small = dir.path().join("small");
    write_pool(&small, &refs[..4]);
    let pool = ReferencePool::load(&small).unwrap();
    let board = build_board_against(&lone("new", 1.5), StarRule::Quintile, at(), Some(&pool));
    assert_eq!(board.tables[0].rows[0].stars, None);
    assert_eq!(
        board.tables[0].rating.not_rated.as_deref(),
        Some("not rated (4 reference results; at least 5 needed) in reference pool test-1 (2026-12-01)")
    );
    let mut other = variant("elsewhere", 1.0, 0.01, 0.5);
    other.hardware.cpu_model = "Another CPU".into();
    let inputs = Inputs {
        loaded: vec![loaded(other, "x.json")],
        rejected: vec![],
    };
    let board = build_board_against(&inputs, StarRule::Quintile, at(), Some(&pool));
    assert_eq!(board.tables[0].rating.pool_size, 0);
}

#[test]
fn a_broken_pool_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = ReferencePool::load(dir.path()).unwrap_err();
    assert!(format!("{err:#}").contains("manifest.json"), "{err:#}");
    write_pool(dir.path(), &[variant("a", 1.0, 0.0, 0.5)]);
    fs::write(dir.path().join("results/bad.json"), "{").unwrap();
    let err = format!("{:#}", ReferencePool::load(dir.path()).unwrap_err());
    assert!(err.contains("bad.json"), "{err}");
    fs::remove_file(dir.path().join("results/bad.json")).unwrap();
    fs::write(
        dir.path().join("manifest.json"),
        r#"{"version": "v", "date": "yesterday", "machine": "m"}"#,
    )
    .unwrap();
    let err = format!("{:#}", ReferencePool::load(dir.path()).unwrap_err());
    assert!(err.contains("YYYY-MM-DD"), "{err}");
}

/// The pool shipped in the repository.
fn shipped_pool() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../reference-pools");
    let mut dirs: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("manifest.json").is_file())
        .collect();
    dirs.sort();
    dirs.pop().expect("a shipped reference pool")
}

#[test]
fn the_shipped_reference_pool_rates_a_lone_result() {
    let dir = shipped_pool();
    let pool = ReferencePool::load(&dir).unwrap();
    let version = pool.manifest.version.clone();
    // The encoder tasks have at least 5 entries each; text generation has fewer in the
    // shipped pool (its manifest says why), so it does not rate.
    let rated: Vec<String> = pool
        .groups
        .iter()
        .filter(|(_, e)| e.len() >= frugalbench_report::board::stars::MIN_POOL)
        .map(|((task, _, _), _)| task.to_string())
        .collect();
    assert!(
        rated.contains(&"sentence-similarity".to_string()),
        "{rated:?}"
    );
    assert!(
        rated.contains(&"text-classification".to_string()),
        "{rated:?}"
    );
    // A lone new result on the pool's machine: each rated task's first result as another
    // model, a bit cheaper than the cheapest reference.
    let all = frugalbench_report::inputs::load_all_or_fail(&[dir.join("results")]).unwrap();
    let mut firsts: Vec<&Loaded> = Vec::new();
    for l in &all {
        let t = l.result.task.to_string();
        if rated.contains(&t) && !firsts.iter().any(|f| f.result.task == l.result.task) {
            firsts.push(l);
        }
    }
    assert_eq!(firsts.len(), rated.len());
    for l in firsts {
        let mut r = l.result.clone();
        let refs = pool.entries(r.task, r.energy.method, &hardware_class(&r));
        let min = refs
            .iter()
            .map(|e| e.wh_per_1000_queries)
            .fold(f64::INFINITY, f64::min);
        let f = 0.9 * min / r.energy.wh_per_1000_queries;
        r.model.id = "lone-new-model".into();
        for rep in &mut r.repetitions {
            for s in &mut rep.by_source {
                s.joules *= f;
                s.avg_watts *= f;
                s.joules_low = s.joules_low.map(|x| x * f);
                s.joules_high = s.joules_high.map(|x| x * f);
            }
        }
        r.fill_derived();
        let inputs = Inputs {
            loaded: vec![Loaded {
                path: "lone.json".into(),
                result: r,
                timeline: None,
            }],
            rejected: vec![],
        };
        assert_eq!(
            build_board(&inputs, StarRule::Quintile, at()).tables[0].rows[0].stars,
            None,
            "alone it is not rated"
        );
        for rule in [StarRule::Quintile, StarRule::EqualWidth] {
            let board = build_board_against(&inputs, rule, at(), Some(&pool));
            let t = &board.tables[0];
            assert_eq!(t.rows[0].stars, Some(5), "{} {rule:?}", t.task);
            assert_eq!(t.rating.reference_pool.as_ref().unwrap().version, version);
        }
    }
}
