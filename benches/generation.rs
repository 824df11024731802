//! Greedy text-generation throughput through the generation runner.
//!
//! - `generation/<model>/decode`: tokens/s of the decode phase alone (the `max_new_tokens - 1`
//!   steps after the first token), timed between the runner's own `Decode` phase hooks.
//! - `generation/<model>/prefill`: prompt tokens/s of the prefill phase (prompt forward pass
//!   and first token).
//!
//! - `model/<model>/prefill-<N>`: tokens/s of one forward pass over an N-token prompt
//!   (N = 32, 128, 512) from an empty KV cache, the model alone (no sampling, no runner).
//! - `model/<model>/decode-step`: tokens/s of single-token forward passes after a 32-token
//!   prompt (16 steps per iteration, the KV cache growing as in generation).
//!
//! Models: the tiny GGUF fixture (F32 for the runner benches, Q4_1 for the model benches:
//! the kernel the default suite's SmolLM2 uses) and the real SmolLM2-135M-Instruct Q4_1 when
//! `$FRUGALBENCH_SMOLLM2_GGUF` names it or it is in frugalbench's cache (hf-hub cache or
//! unpacked pip mirror, as a run finds it offline). Threads: candle's CPU pool size is printed first
//! (`CANDLE_NUM_THREADS`, else `RAYON_NUM_THREADS`, else the physical core count).
//!
//! Run: `cargo bench -p frugalbench-workloads --bench generation`.

use std::path::Path;
use std::time::{Duration, Instant};

use candle_core::Device;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use frugalbench_workloads::catalogue::Catalogue;
use frugalbench_workloads::datasets::PromptRow;
use frugalbench_workloads::fetch::{self, FetchOptions};
use frugalbench_workloads::runners::generation::{load_gguf, Backend, GenerationRunner};
use frugalbench_workloads::testing::llama::{
    prompt_dataset, single_file, tiny_entry, write_tiny_llama, TinyLlamaOptions,
};
use frugalbench_workloads::{Phase, PhaseHook, RunnerOptions};

/// New tokens per query (1 prefill token + 31 decode steps).
const NEW_TOKENS: usize = 32;

/// Sums the wall time spent inside one phase.
struct PhaseTimer {
    phase: Phase,
    started: Option<Instant>,
    total: Duration,
}

impl PhaseTimer {
    fn new(phase: Phase) -> Self {
        PhaseTimer {
            phase,
            started: None,
            total: Duration::ZERO,
        }
    }
}

impl PhaseHook for PhaseTimer {
    fn begin(&mut self, phase: Phase) {
        if phase == self.phase {
            self.started = Some(Instant::now());
        }
    }
    fn end(&mut self, phase: Phase) {
        if phase == self.phase {
            if let Some(t) = self.started.take() {
                self.total += t.elapsed();
            }
        }
    }
}

fn load(path: &Path, id: &str) -> GenerationRunner {
    let files = single_file(path, id).expect("model file");
    let entry = tiny_entry(id, "quantized-llama", &files.root);
    let data = prompt_dataset(vec![PromptRow {
        prompt: Some("What is the capital of France?".to_string()),
        messages: None,
        choice: None,
    }]);
    let opts = RunnerOptions {
        device: Device::Cpu,
        cache_dir: std::env::temp_dir(),
        max_new_tokens: NEW_TOKENS,
        temperature: 0.0,
        seed: 0,
    };
    GenerationRunner::load(&entry, &files, &data, &opts).expect("runner loads")
}

fn bench_model(c: &mut Criterion, name: &str, runner: &mut GenerationRunner) {
    let prompt_len = runner.prompt(0).map(|p| p.ids.len()).unwrap_or(1);
    let mut group = c.benchmark_group(format!("generation/{name}"));
    for (label, phase, tokens) in [
        ("decode", Phase::Decode, NEW_TOKENS - 1),
        ("prefill", Phase::Prefill, prompt_len),
    ] {
        group.throughput(Throughput::Elements(tokens as u64));
        group.bench_function(label, |b| {
            b.iter_custom(|iters| {
                let mut timer = PhaseTimer::new(phase);
                for _ in 0..iters {
                    runner.generate_ids(0, &mut timer).expect("generation");
                }
                timer.total
            })
        });
    }
    group.finish();
}

/// The size of candle's CPU pool: `CANDLE_NUM_THREADS`, else `RAYON_NUM_THREADS`, else the
/// physical core count (candle's own rule; `get_num_threads` reports only the last two).
fn candle_threads() -> usize {
    std::env::var("CANDLE_NUM_THREADS")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(candle_core::utils::get_num_threads)
}

/// Model-level prefill and decode throughput of a GGUF llama.
fn bench_forward(c: &mut Criterion, name: &str, path: &Path) {
    let device = Device::Cpu;
    let mut model = load_gguf(path, "quantized-llama", &device).expect("GGUF loads");
    let vocab = match &model.backend {
        Backend::QuantizedLlama(_) => model
            .metadata
            .get("tokenizer.ggml.tokens")
            .and_then(|v| v.to_vec().ok())
            .map_or(256, |v| v.len()),
        _ => unreachable!("quantized-llama"),
    };
    let ids: Vec<u32> = (0..512u32)
        .map(|i| (i * 7919 + 13) % vocab as u32)
        .collect();
    let backend = &mut model.backend;
    let mut group = c.benchmark_group(format!("model/{name}"));
    for n in [32usize, 128, 512] {
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("prefill-{n}"), |b| {
            b.iter(|| {
                backend.reset();
                backend.forward(&ids[..n], 0, &device).expect("forward")
            })
        });
    }
    const STEPS: usize = 16;
    group.throughput(Throughput::Elements(STEPS as u64));
    group.bench_function("decode-step", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                backend.reset();
                backend.forward(&ids[..32], 0, &device).expect("prefill");
                let t = Instant::now();
                for s in 0..STEPS {
                    backend
                        .forward(&ids[32 + s..33 + s], 32 + s, &device)
                        .expect("decode step");
                }
                total += t.elapsed();
            }
            total
        })
    });
    group.finish();
}

/// The SmolLM2 GGUF: `$FRUGALBENCH_SMOLLM2_GGUF`, else the catalogue's offline sources.
fn smollm2_gguf() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("FRUGALBENCH_SMOLLM2_GGUF").filter(|p| !p.is_empty()) {
        return Some(p.into());
    }
    let catalogue = Catalogue::builtin().ok()?;
    let entry = catalogue.get("smollm2-135m-instruct-q4_1").ok()?;
    let offline = FetchOptions {
        offline: true,
        ..FetchOptions::default()
    };
    let files = fetch::fetch(entry, &offline).ok()?;
    files.find_ext("gguf").map(Path::to_path_buf)
}

fn generation(c: &mut Criterion) {
    eprintln!("candle CPU pool threads: {}", candle_threads());
    let dir = tempfile::tempdir().expect("tempdir");
    let tiny = write_tiny_llama(dir.path(), TinyLlamaOptions::default()).expect("fixture");
    let mut runner = load(&tiny.gguf_f32, "tiny-llama-f32");
    bench_model(c, "tiny-llama-f32-gguf", &mut runner);
    bench_forward(c, "tiny-llama-q4_1-gguf", &tiny.gguf_q4_1);

    match smollm2_gguf() {
        Some(p) => {
            let mut runner = load(&p, "smollm2-135m-instruct");
            bench_model(c, "smollm2-135m-instruct", &mut runner);
            bench_forward(c, "smollm2-135m-instruct-q4_1", &p);
        }
        None => eprintln!(
            "SmolLM2 is neither in $FRUGALBENCH_SMOLLM2_GGUF nor in frugalbench's cache: skipped"
        ),
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(8));
    targets = generation
}
criterion_main!(benches);
