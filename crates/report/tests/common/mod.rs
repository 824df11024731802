//! Helpers shared by the library-level tests: the example fixtures and variants of them.
// Each test binary uses a different subset of these.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use frugalbench_report::inputs::Loaded;
use frugalbench_report::{read_result, sanity_check, RunResult};

/// The repository's `tests/fixtures` folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

pub fn fixtures_dir() -> PathBuf {
    fixtures().join("results")
}

pub fn fixture(name: &str) -> RunResult {
    read_result(&fixtures_dir().join(name)).unwrap()
}

/// The measured fixture as model `id`, every repetition's energy × `k` × (1 + `jitter`·(i−1)),
/// quality `q`; derived figures recomputed.
pub fn variant(id: &str, k: f64, jitter: f64, q: f64) -> RunResult {
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

/// `r` as if loaded from `name` (a relative path, so outputs do not depend on the checkout).
pub fn loaded(r: RunResult, name: &str) -> Loaded {
    Loaded {
        path: PathBuf::from(name),
        result: r,
        timeline: None,
    }
}
