//! Greedy text-generation throughput through the generation runner.
//!
//! - `generation/<model>/decode`: tokens/s of the decode phase alone (the `max_new_tokens - 1`
//!   steps after the first token), timed between the runner's own `Decode` phase hooks.
//! - `generation/<model>/prefill`: prompt tokens/s of the prefill phase (prompt forward pass
//!   and first token).
//!
//! Models: the tiny F32 GGUF fixture (always) and, when `$FRUGALBENCH_SMOLLM2_GGUF` names the
//! SmolLM2-135M-Instruct GGUF, that model. Threads: candle's CPU pool size is printed first
//! (`CANDLE_NUM_THREADS`, else `RAYON_NUM_THREADS`, else the physical core count).
//!
//! Run: `cargo bench -p frugalbench-workloads --bench generation`.

use std::path::Path;
use std::time::{Duration, Instant};

use candle_core::Device;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use frugalbench_workloads::datasets::PromptRow;
use frugalbench_workloads::runners::generation::GenerationRunner;
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

fn generation(c: &mut Criterion) {
    eprintln!("candle CPU pool threads: {}", candle_threads());
    let dir = tempfile::tempdir().expect("tempdir");
    let tiny = write_tiny_llama(dir.path(), TinyLlamaOptions::default()).expect("fixture");
    let mut runner = load(&tiny.gguf_f32, "tiny-llama-f32");
    bench_model(c, "tiny-llama-f32-gguf", &mut runner);

    match std::env::var_os("FRUGALBENCH_SMOLLM2_GGUF") {
        Some(p) if !p.is_empty() => {
            let mut runner = load(Path::new(&p), "smollm2-135m-instruct");
            bench_model(c, "smollm2-135m-instruct", &mut runner);
        }
        _ => eprintln!("FRUGALBENCH_SMOLLM2_GGUF is not set: SmolLM2 skipped"),
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(8));
    targets = generation
}
criterion_main!(benches);
