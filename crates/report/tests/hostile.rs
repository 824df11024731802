//! Hostile input: absurd numbers, control and bidi characters in names, spreadsheet formulas,
//! and files built to amplify memory. Each test fails on the code before its fix.

use std::fs;
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::Utc;
use frugalbench_report::board::label::Label;
use frugalbench_report::board::site::write_site;
use frugalbench_report::board::stars::StarRule;
use frugalbench_report::board::{build_board, Board};
use frugalbench_report::compare::{compare_sets, CompareOptions};
use frugalbench_report::export::{
    CodecarbonCsv, CompareMarkdown, CompareText, Exporter, LeaderboardCsv,
};
use frugalbench_report::inputs::{load_one, Inputs, MAX_RESULT_BYTES};
use frugalbench_report::*;

mod common;
use common::{loaded, variant};

/// Runs `f` on another thread and fails (instead of hanging the suite) when it takes longer
/// than `secs`.
fn within<T: Send + 'static>(secs: u64, what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .unwrap_or_else(|_| panic!("{what} did not finish within {secs} s"))
}

/// The characters no output may carry (an oracle independent of the implementation): C0, DEL,
/// C1, bidi embeddings/overrides/isolates/marks.
fn is_unsafe_char(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}')
        || matches!(
            c,
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
        )
}

// ---- 1. Absurd numbers -------------------------------------------------------------------

#[test]
fn sanity_bounds_every_number_by_its_meaning() {
    let ok = variant("ok", 1.0, 0.01, 0.8);
    assert!(sanity_check(&ok).is_empty());
    type Edit = Box<dyn Fn(&mut RunResult)>;
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|r| r.quality.as_mut().unwrap().value = 1e308),
            "quality.value = 100000000",
        ),
        (
            Box::new(|r| r.quality.as_mut().unwrap().value = -1e308),
            "outside the range [-1, 1] of the metric spearman",
        ),
        (
            Box::new(|r| r.quality.as_mut().unwrap().value = 1.01),
            "quality.value = 1.01: outside the range [-1, 1]",
        ),
        (
            Box::new(|r| {
                let q = r.quality.as_mut().unwrap();
                q.metric = "accuracy".into();
                q.value = -0.1;
            }),
            "outside the range [0, 1] of the metric accuracy",
        ),
        (
            Box::new(|r| {
                let q = r.quality.as_mut().unwrap();
                q.metric = "non_empty_output_rate".into();
                q.value = 1.5;
            }),
            "of the metric non_empty_output_rate",
        ),
        (
            Box::new(|r| {
                let q = r.quality.as_mut().unwrap();
                q.metric = "wer".into();
                q.value = -0.5;
            }),
            "of the metric wer",
        ),
        (
            Box::new(|r| {
                let q = r.quality.as_mut().unwrap();
                q.metric = "my-score".into();
                q.value = 1e300;
            }),
            "of the metric my-score",
        ),
        (
            Box::new(|r| {
                r.quality
                    .as_mut()
                    .unwrap()
                    .extra
                    .insert("macro_f1".into(), 2.0);
            }),
            "quality.extra.macro_f1 = 2",
        ),
        (
            Box::new(|r| r.energy.by_source[0].avg_watts = 1e6),
            "energy.by_source[0].avg_watts = 1000000: above the sanity bound of 1e5 W",
        ),
        (
            Box::new(|r| r.energy.idle_watts = Some(2e6)),
            "energy.idle_watts = 2000000: above the sanity bound",
        ),
        (
            Box::new(|r| r.energy.total_joules = 1e15),
            "energy.total_joules = 1000000000000000: above the sanity bound of 1e12 J",
        ),
        (
            Box::new(|r| r.energy.total_joules_high = Some(1e300)),
            "energy.total_joules_high",
        ),
        (
            Box::new(|r| r.energy.by_source[0].joules_low = Some(-1.0)),
            "energy.by_source[0].joules_low = -1: must be finite and non-negative",
        ),
        (
            Box::new(|r| r.timing.latency_ms.p99 = 1e300),
            "timing.latency_ms.p99",
        ),
        (
            Box::new(|r| r.repetitions[0].wall_seconds = 1e9),
            "repetitions[0].wall_seconds = 1000000000: above the sanity bound of 1e7 s",
        ),
        (
            Box::new(|r| r.energy.joules_per_query_ci95 = Some([-1e300, 1.0])),
            "energy.joules_per_query_ci95[0]",
        ),
        (
            Box::new(|r| r.carbon.intensity.grid_intensity_g_per_kwh = 1e9),
            "carbon.grid_intensity_g_per_kwh",
        ),
        (Box::new(|r| r.carbon.intensity.pue = 1e9), "carbon.pue"),
    ];
    for (edit, want) in cases {
        let mut r = ok.clone();
        edit(&mut r);
        let p = sanity_check(&r);
        assert!(p.iter().any(|s| s.contains(want)), "{want}: {p:?}");
    }
    // In range, including a negative correlation, a rounded perfect one and a WER above 1.
    let mut r = ok.clone();
    r.quality.as_mut().unwrap().value = 1.0000000000000002;
    assert!(sanity_check(&r).is_empty(), "{:?}", sanity_check(&r));
    r.quality.as_mut().unwrap().value = -0.4;
    assert!(sanity_check(&r).is_empty(), "{:?}", sanity_check(&r));
    let q = r.quality.as_mut().unwrap();
    q.metric = "wer".into();
    q.value = 1.3;
    assert!(sanity_check(&r).is_empty(), "{:?}", sanity_check(&r));
}

/// A board of results that never went through the sanity rules, with ±1e308, infinities and
/// NaN everywhere a chart reads a number.
fn absurd_board() -> Board {
    let mut results = Vec::new();
    for (i, (wh, q)) in [
        (1e308, 1e308),
        (1e-308, -1e308),
        (f64::INFINITY, f64::NAN),
        (0.0, f64::NEG_INFINITY),
        (1e12, 1e12 + 1e-3),
    ]
    .into_iter()
    .enumerate()
    {
        let mut r = variant(&format!("m{i}"), 1.0, 0.01, 0.8);
        r.energy.wh_per_1000_queries = wh;
        r.energy.joules_per_query = wh * 3.6;
        r.energy.joules_per_query_ci95 = Some([-wh, wh]);
        r.quality.as_mut().unwrap().value = q;
        results.push(loaded(r, &format!("r{i}.json")));
    }
    let inputs = Inputs {
        loaded: results,
        rejected: Vec::new(),
    };
    build_board(&inputs, StarRule::Quintile, Utc::now())
}

#[test]
fn charts_of_unchecked_absurd_numbers_finish_and_stay_finite() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("site");
    let board = absurd_board();
    let site = out.clone();
    let summary = within(120, "the site of absurd numbers", move || {
        write_site(&board, &site).map_err(|e| format!("{e:#}"))
    })
    .unwrap();
    assert!(
        summary.files.iter().any(|f| f.ends_with("-pareto.svg")),
        "{:?}",
        summary.files
    );
    let svg =
        fs::read_to_string(out.join("charts/t1-sentence-similarity-measured-pareto.svg")).unwrap();
    assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, vec!["site"], "no temp folder left behind");
}

// ---- 2. CSV formula injection -------------------------------------------------------------

const FORMULAS: [&str; 4] = [
    "=HYPERLINK(\"http://evil.example\",\"click\")",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
];

/// Every cell of `csv` that starts like a formula.
fn formula_cells(csv: &[u8]) -> Vec<String> {
    let mut rdr = csv::Reader::from_reader(csv);
    let mut bad = Vec::new();
    for rec in rdr.records() {
        for cell in rec.unwrap().iter() {
            if cell.starts_with(['=', '+', '@', '\t', '\r'])
                || (cell.starts_with('-') && cell.parse::<f64>().is_err())
            {
                bad.push(cell.to_string());
            }
        }
    }
    bad
}

fn formula_result(i: usize) -> RunResult {
    let mut r = variant(FORMULAS[i], 1.0 + i as f64, 0.01, -0.25);
    r.model.arch = FORMULAS[(i + 1) % 4].into();
    r.settings.dtype = FORMULAS[(i + 2) % 4].into();
    r.hardware.cpu_model = FORMULAS[(i + 3) % 4].into();
    r.hardware.os = FORMULAS[i].into();
    r.hardware.gpus = vec![FORMULAS[(i + 1) % 4].into()];
    for s in r
        .repetitions
        .iter_mut()
        .flat_map(|x| x.by_source.iter_mut())
    {
        s.name = format!("={}", s.name);
    }
    r.fill_derived();
    assert!(sanity_check(&r).is_empty(), "{:?}", sanity_check(&r));
    r
}

#[test]
fn leaderboard_csv_neutralises_formulas_in_text_cells_only() {
    let inputs = Inputs {
        loaded: (0..4)
            .map(|i| loaded(formula_result(i), &format!("=r{i}.json")))
            .collect(),
        rejected: Vec::new(),
    };
    let board = build_board(&inputs, StarRule::Quintile, Utc::now());
    let csv = LeaderboardCsv.serialize(&board).unwrap();
    assert_eq!(formula_cells(&csv), Vec::<String>::new());
    let mut rdr = csv::Reader::from_reader(&csv[..]);
    let header = rdr.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let models: Vec<&str> = rows.iter().map(|r| &r[col("model")]).collect();
    for f in FORMULAS {
        assert!(models.contains(&format!("'{f}").as_str()), "{models:?}");
    }
    // Negative numbers in numeric columns stay numbers.
    assert!(rows.iter().all(|r| &r[col("quality")] == "-0.25"));
    assert!(rows[0][col("sources")].starts_with("'="));
}

#[test]
fn codecarbon_csv_neutralises_formulas_in_text_cells_and_the_project_name() {
    let results: Vec<_> = (0..4)
        .map(|i| loaded(formula_result(i), &format!("r{i}.json")))
        .collect();
    for project in ["=HYPERLINK(\"x\")", "-project", "frugalbench"] {
        let csv = CodecarbonCsv {
            project_name: project.into(),
        }
        .serialize(&results)
        .unwrap();
        assert_eq!(formula_cells(&csv), Vec::<String>::new(), "{project}");
        let text = String::from_utf8(csv).unwrap();
        assert!(
            text.contains("'@SUM(A1:A9)") && text.contains("'-2+3 (kernel"),
            "{text}"
        );
    }
}

// ---- 3. Control and bidi characters -------------------------------------------------------

const HOSTILE_ID: &str = "evil\u{1b}[31m\u{0}red\u{8}\u{202E}txt.exe\u{2066}";

/// A minimal XML well-formedness check for the SVGs plotters writes: no character XML 1.0
/// forbids, one root `<svg>` element, balanced tags, and every `&` an entity.
fn assert_well_formed_svg(name: &str, svg: &str) {
    let bad: Vec<char> = svg
        .chars()
        .filter(|&c| is_unsafe_char(c) && !matches!(c, '\n' | '\r' | '\t'))
        .collect();
    assert!(bad.is_empty(), "{name}: unsafe characters {bad:?}");
    let body = svg.trim();
    let body = match body.strip_prefix("<?xml") {
        Some(rest) => rest[rest.find("?>").unwrap() + 2..].trim_start(),
        None => body,
    };
    assert!(
        body.starts_with("<svg") && body.ends_with("</svg>"),
        "{name}"
    );
    let mut stack: Vec<String> = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find('<') {
        let text = &rest[..open];
        for (i, _) in text.match_indices('&') {
            let entity = &text[i..text[i..].find(';').map_or(text.len(), |e| i + e + 1)];
            assert!(
                matches!(entity, "&lt;" | "&gt;" | "&amp;" | "&quot;" | "&apos;")
                    || entity.starts_with("&#"),
                "{name}: bad entity {entity:?}"
            );
        }
        let close = rest[open..].find('>').expect("unclosed tag") + open;
        let tag = &rest[open + 1..close];
        assert!(!tag.contains('<'), "{name}: '<' inside a tag: {tag:?}");
        if let Some(end) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(end.trim()), "{name}");
        } else if !tag.ends_with('/') && !tag.starts_with('!') && !tag.starts_with('?') {
            let elem = tag.split_whitespace().next().unwrap().to_string();
            stack.push(elem);
        }
        rest = &rest[close + 1..];
        if stack.is_empty() {
            assert!(rest.trim().is_empty(), "{name}: content after the root");
        }
    }
    assert!(stack.is_empty(), "{name}: unclosed {stack:?}");
}

fn no_unsafe(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| is_unsafe_char(c) && !matches!(c, '\n' | '\r'))
        .collect();
    assert!(bad.is_empty(), "{what}: {bad:?} in {text:?}");
}

#[test]
fn control_and_bidi_characters_never_reach_svg_labels_csv_or_compare() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = variant(HOSTILE_ID, 1.0, 0.01, 0.8);
    r.model.arch = "bert\u{7}\u{85}".into();
    r.settings.dtype = "f32\u{200F}".into();
    r.hardware.cpu_model = "Xeon\u{1b}]0;pwned\u{7}".into();
    r.energy.notes.push("note\u{1b}[2J".into());
    for s in r
        .repetitions
        .iter_mut()
        .flat_map(|x| x.by_source.iter_mut())
    {
        s.name = format!("{}\u{202D}", s.name);
    }
    r.fill_derived();
    assert!(sanity_check(&r).is_empty(), "{:?}", sanity_check(&r));
    let other = variant("plain", 2.0, 0.01, 0.7);
    let inputs = Inputs {
        loaded: vec![
            loaded(r.clone(), "hostile\u{1b}.json"),
            loaded(other, "plain.json"),
        ],
        rejected: Vec::new(),
    };
    let board = build_board(&inputs, StarRule::Quintile, Utc::now());
    let out = dir.path().join("site");
    let summary = write_site(&board, &out).unwrap();
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
    let mut svgs = 0;
    for f in summary.files.iter().filter(|f| f.ends_with(".svg")) {
        let svg = fs::read_to_string(out.join(f)).unwrap();
        assert_well_formed_svg(f, &svg);
        svgs += 1;
    }
    assert!(svgs >= 4, "{:?}", summary.files);
    let label = fs::read_to_string(
        out.join("labels").join(
            summary
                .files
                .iter()
                .find(|f| f.starts_with("labels/") && f.contains("evil") && f.ends_with(".svg"))
                .unwrap()
                .trim_start_matches("labels/"),
        ),
    )
    .unwrap();
    assert!(label.contains("evil\u{FFFD}[31m\u{FFFD}red"), "{label}");
    let html = fs::read_to_string(out.join("index.html")).unwrap();
    no_unsafe("index.html", &html);
    no_unsafe(
        "leaderboard.csv",
        &fs::read_to_string(out.join("leaderboard.csv")).unwrap(),
    );

    // A single run's label.
    let l = Label::from_result(&r);
    no_unsafe("label", &format!("{}{}{}", l.model, l.hardware, l.sources));
    assert!(l.model.starts_with("evil\u{FFFD}[31m"), "{:?}", l.model);

    // Exports and compare reports.
    let csv = CodecarbonCsv {
        project_name: "p\u{1b}".into(),
    }
    .serialize(&[loaded(r.clone(), "x.json")])
    .unwrap();
    no_unsafe("codecarbon", &String::from_utf8(csv).unwrap());
    let mut new = r.clone();
    for s in new
        .repetitions
        .iter_mut()
        .flat_map(|x| x.by_source.iter_mut())
    {
        s.joules *= 1.5;
    }
    new.fill_derived();
    let cmp = compare_sets(
        &[loaded(r, "base\u{1b}[1m.json")],
        &[loaded(new, "new\u{202E}.json")],
        true,
        &CompareOptions::default(),
    );
    let text = String::from_utf8(CompareText.serialize(&cmp).unwrap()).unwrap();
    no_unsafe("compare text", &text);
    assert!(text.contains("evil\u{FFFD}[31m"), "{text}");
    let md = String::from_utf8(CompareMarkdown.serialize(&cmp).unwrap()).unwrap();
    no_unsafe("compare markdown", &md);
}

// ---- 4. Memory amplification --------------------------------------------------------------

fn with_notes(dir: &Path, name: &str, notes: usize, chars: usize) -> std::path::PathBuf {
    let mut r = variant("noisy", 1.0, 0.01, 0.8);
    r.energy.notes = vec!["n".repeat(chars); notes];
    let p = dir.join(name);
    fs::write(&p, serde_json::to_vec(&r).unwrap()).unwrap();
    p
}

/// The reasons `path` is rejected (without dumping a huge result when it is not).
fn rejected(path: &Path) -> String {
    match load_one(path) {
        Ok(_) => panic!("{} should be rejected", path.display()),
        Err(reasons) => reasons.join("; "),
    }
}

#[test]
fn a_result_with_100k_notes_is_rejected_quickly_with_a_clear_reason() {
    let dir = tempfile::tempdir().unwrap();
    let p = with_notes(dir.path(), "many.json", 100_000, 1);
    let started = Instant::now();
    let why = rejected(&p);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        why.contains("/energy/notes: an array of more than 10000 items"),
        "{why}"
    );

    // Fewer, but still more than a result may carry: the schema's limits say so.
    let p = with_notes(dir.path(), "some.json", 1001, 1);
    let why = rejected(&p);
    assert!(
        why.contains("/energy/notes: ") && why.contains("more than 1000 items"),
        "{why}"
    );
    let p = with_notes(dir.path(), "long.json", 1, 4001);
    let why = rejected(&p);
    assert!(why.contains("/energy/notes/0: "), "{why}");
    // A violation quoting a big value is cut short.
    let p = with_notes(dir.path(), "big.json", 1001, 4000);
    let why = rejected(&p);
    assert!(
        why.len() < 2000 && why.contains("/energy/notes: "),
        "{}",
        why.len()
    );
    // The sanity rules say the same of a result built in code.
    let mut r = variant("noisy", 1.0, 0.01, 0.8);
    r.energy.notes = vec!["n".into(); 1001];
    let p = sanity_check(&r);
    assert!(p.iter().any(|s| s.contains("1001 notes")), "{p:?}");
    // A file of one huge string is refused by its size alone.
    const { assert!(MAX_RESULT_BYTES <= 8 * 1024 * 1024) };
    let p = with_notes(dir.path(), "huge.json", 1, 9 * 1024 * 1024);
    let why = rejected(&p);
    assert!(why.contains("larger than the 8388608-byte limit"), "{why}");
    // A thousand notes of 4,000 characters are fine.
    let p = with_notes(dir.path(), "ok.json", 1000, 4000);
    assert!(load_one(&p).is_ok());
}

#[test]
fn a_million_schema_violations_give_a_bounded_list() {
    let mut v = serde_json::to_value(variant("m", 1.0, 0.01, 0.8)).unwrap();
    v["hardware"]["gpus"] = serde_json::json!(vec![1; 5000]);
    let why = validate(&v).unwrap_err();
    assert!(why.len() <= 21, "{}", why.len());
    assert!(why.last().unwrap().contains("more violations"), "{why:?}");
}
