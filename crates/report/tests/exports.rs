//! Every exporter's output, byte for byte, against files in `tests/fixtures/exports/` (written
//! by the code before the exporters were split into one file per format). Set
//! `FRUGALBENCH_BLESS=1` to rewrite them after an intended change of a format.

use std::fs;

use chrono::{Duration, TimeZone, Utc};
use frugalbench_report::board::{build_board, Board};
use frugalbench_report::compare::{compare_sets, CompareOptions, Comparison};
use frugalbench_report::export::*;
use frugalbench_report::inputs::{Inputs, Loaded, Rejected};
use frugalbench_report::*;

mod common;
use common::{fixture, fixtures, loaded, variant};

fn all_fixtures() -> Vec<Loaded> {
    [
        "estimated-text-classification.json",
        "measured-rapl-sentence-similarity.json",
        "measured-rapl-text-generation.json",
    ]
    .into_iter()
    .map(|n| loaded(fixture(n), n))
    .collect()
}

fn board() -> Board {
    let mut loaded_ = all_fixtures();
    for (id, k, q) in [
        ("tiny", 0.3, 0.7),
        ("hostile <b>|*", 2.0, 0.75),
        ("big", 4.0, 0.88),
    ] {
        loaded_.push(loaded(variant(id, k, 0.01, q), &format!("{id}.json")));
    }
    let mut cut = variant("cut", 1.0, 0.0, 0.5);
    cut.status = Status::Interrupted;
    loaded_.push(loaded(cut, "cut.json"));
    let inputs = Inputs {
        loaded: loaded_,
        rejected: vec![Rejected {
            path: "broken.json".into(),
            reasons: vec!["not valid JSON: EOF".into()],
        }],
    };
    let at = Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0).unwrap();
    build_board(&inputs, board::stars::StarRule::Quintile, at)
}

fn comparison() -> Comparison {
    let base = variant("m", 1.0, 0.01, 0.5);
    let mut older = base.clone();
    older.started_at -= Duration::hours(1);
    older.finished_at -= Duration::hours(1);
    let mut est = variant("est", 1.0, 0.01, 0.5);
    for rep in &mut est.repetitions {
        for s in &mut rep.by_source {
            s.method = Method::Estimated;
        }
    }
    est.fill_derived();
    let mut one = variant("single | <i>", 1.0, 0.0, 0.5);
    one.repetitions.truncate(1);
    one.settings.repetitions = 1;
    one.fill_derived();
    let mut one_new = variant("single | <i>", 1.1, 0.0, 0.6);
    one_new.repetitions.truncate(1);
    one_new.settings.repetitions = 1;
    one_new.settings.threads += 1;
    one_new.fill_derived();
    let b = [
        loaded(base.clone(), "base/m.json"),
        loaded(older, "base/m-old.json"),
        loaded(variant("est", 1.0, 0.01, 0.5), "base/est.json"),
        loaded(one, "base/one.json"),
        loaded(variant("gone", 1.0, 0.01, 0.5), "base/gone.json"),
        loaded(variant("flat", 1.0, 0.4, 0.5), "base/flat.json"),
    ];
    let n = [
        loaded(variant("m", 1.2, 0.01, 0.5), "new/m.json"),
        loaded(est, "new/est.json"),
        loaded(one_new, "new/one.json"),
        loaded(variant("added", 1.0, 0.01, 0.5), "new/added.json"),
        loaded(variant("flat", 1.08, 0.4, 0.5), "new/flat.json"),
    ];
    compare_sets(&b, &n, false, &CompareOptions::default())
}

/// Whether `bytes` are those of `tests/fixtures/exports/<name>` (printing them when not).
fn same(name: &str, bytes: &[u8]) -> bool {
    let path = fixtures().join("exports").join(name);
    if std::env::var_os("FRUGALBENCH_BLESS").is_some() {
        fs::write(&path, bytes).unwrap();
        return true;
    }
    let want = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if want != bytes {
        eprintln!(
            "{name} differs from {}:\n{}",
            path.display(),
            String::from_utf8_lossy(bytes)
        );
    }
    want == bytes
}

#[test]
fn every_exporter_writes_the_same_bytes_as_before() {
    let (results, board, cmp) = (all_fixtures(), board(), comparison());
    let codecarbon = CodecarbonCsv {
        project_name: "fb".into(),
    };
    let outputs = [
        ("codecarbon.csv", codecarbon.serialize(&results)),
        ("boamps.json", Boamps.serialize(&results[..])),
        ("leaderboard.csv", LeaderboardCsv.serialize(&board)),
        ("leaderboard.json", LeaderboardJson.serialize(&board)),
        ("compare.txt", CompareText.serialize(&cmp)),
        ("compare.md", CompareMarkdown.serialize(&cmp)),
        ("compare.json", CompareJson.serialize(&cmp)),
    ];
    let differ: Vec<&str> = outputs
        .into_iter()
        .filter(|(name, bytes)| !same(name, bytes.as_ref().unwrap()))
        .map(|(name, _)| name)
        .collect();
    assert!(differ.is_empty(), "outputs differ: {differ:?}");
}
