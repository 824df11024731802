//! Time the model work of one catalogue model, without meters: the timing half of
//! `scripts/bench-vs-llamacpp.sh`, `scripts/bench-vs-pytorch.sh` and
//! `scripts/bench-vs-pytorch-images.sh`.
//!
//! ```text
//! cargo run --release -p frugalbench-workloads --example bench_model -- \
//!     --model ID --task TASK [--batch-size B] [--queries N] [--warmup W] \
//!     [--max-new-tokens T] [--dataset FILE] [--gguf FILE] [--dump-inputs FILE] [--print-files] [--repeat R]
//! ```
//!
//! - The model comes from the builtin catalogue, fetched offline (hf-hub cache or an already
//!   unpacked pip mirror); `--gguf FILE` loads that GGUF instead (arch from the catalogue).
//! - The dataset is the task's builtin set unless `--dataset` names one; queries cycle through
//!   its evaluation rows in order, `--batch-size` rows per query (the runner's `run_batch`,
//!   exactly what the harness meters).
//! - Threads: candle's CPU pools (`CANDLE_NUM_THREADS`, else `RAYON_NUM_THREADS`); the barrier
//!   pool's spin limit as in a run (`cpu_threads`).
//! - `--dump-inputs FILE` writes, before timing, what the reference must feed the same model:
//!   text generation: one JSON line per row with its prompt token ids; encoders: the rows'
//!   texts in query order; image classification: the evaluation pictures' paths in row order.
//! - `--print-files` prints `file PATH` for each model file first (the scripts hand the same
//!   files to the reference).
//! - Prints one line per repetition: `frugalbench <rate> <unit>/s (<n> <unit> in <s> s)`, and
//!   for generation the time to first token and decode time per token.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use candle_core::Device;
use frugalbench_workloads::catalogue::{Catalogue, PipMirror};
use frugalbench_workloads::datasets::{self, DatasetRows, ImageSet, Media, MediaRoot};
use frugalbench_workloads::fetch::{self, FetchOptions, FileRecord, ModelFiles};
use frugalbench_workloads::runners::{self, generation::GenerationRunner};
use frugalbench_workloads::{Phase, PhaseHook, RunnerOptions, Task};

#[derive(Debug)]
struct Args {
    model: String,
    task: Task,
    batch_size: usize,
    queries: usize,
    warmup: usize,
    max_new_tokens: usize,
    dataset: Option<PathBuf>,
    gguf: Option<PathBuf>,
    dump_inputs: Option<PathBuf>,
    print_files: bool,
    repeat: usize,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        model: String::new(),
        task: Task::TextGeneration,
        batch_size: 1,
        queries: 20,
        warmup: 2,
        max_new_tokens: 10,
        dataset: None,
        gguf: None,
        dump_inputs: None,
        print_files: false,
        repeat: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--model" => a.model = val()?,
            "--task" => a.task = val()?.parse().map_err(|e| anyhow::anyhow!("--task: {e}"))?,
            "--batch-size" => a.batch_size = val()?.parse()?,
            "--queries" => a.queries = val()?.parse()?,
            "--warmup" => a.warmup = val()?.parse()?,
            "--max-new-tokens" => a.max_new_tokens = val()?.parse()?,
            "--dataset" => a.dataset = Some(val()?.into()),
            "--gguf" => a.gguf = Some(val()?.into()),
            "--dump-inputs" => a.dump_inputs = Some(val()?.into()),
            "--repeat" => a.repeat = val()?.parse()?,
            "--print-files" => a.print_files = true,
            other => bail!("unknown argument `{other}`"),
        }
    }
    if a.model.is_empty() {
        bail!("--model ID is required");
    }
    if a.batch_size == 0 || a.queries == 0 || a.repeat == 0 {
        bail!("--batch-size, --queries and --repeat must be at least 1");
    }
    Ok(a)
}

/// Sums the wall time of each phase.
#[derive(Default)]
struct PhaseTimes {
    started: Option<Instant>,
    prefill: Duration,
    decode: Duration,
}

impl PhaseHook for PhaseTimes {
    fn begin(&mut self, _: Phase) {
        self.started = Some(Instant::now());
    }
    fn end(&mut self, phase: Phase) {
        if let Some(t) = self.started.take() {
            match phase {
                Phase::Prefill => self.prefill += t.elapsed(),
                Phase::Decode => self.decode += t.elapsed(),
            }
        }
    }
}

fn main() -> Result<()> {
    let args = parse_args()?;
    // Threads come from the environment (the scripts set them); the spin limit as in a run.
    frugalbench_workloads::cpu_threads::spin_limit_or_default();
    frugalbench_workloads::cpu_threads::keep_freed_memory();
    let catalogue = Catalogue::builtin()?;
    let entry = catalogue.get(&args.model)?.clone();
    let files = match &args.gguf {
        Some(path) => single_file(path, &entry.id)?,
        None => fetch::fetch(
            &entry,
            &FetchOptions {
                offline: true,
                ..FetchOptions::default()
            },
        )?,
    };
    if args.print_files {
        for f in &files.files {
            println!("file {}", f.path.display());
        }
    }
    let dataset = match &args.dataset {
        Some(p) => datasets::load(args.task, p)?,
        None => datasets::builtin(args.task)?,
    };
    let opts = RunnerOptions {
        device: Device::Cpu,
        cache_dir: fetch::default_cache_dir(),
        max_new_tokens: args.max_new_tokens,
        temperature: 0.0,
        seed: 0,
    };
    let rows = dataset.eval_len();
    if rows == 0 {
        bail!("dataset `{}` has no evaluation rows", dataset.id);
    }
    let batches: Vec<Vec<usize>> = (0..args.warmup + args.queries)
        .map(|q| {
            (0..args.batch_size)
                .map(|j| (q * args.batch_size + j) % rows)
                .collect()
        })
        .collect();

    if args.task == Task::TextGeneration {
        let mut runner = GenerationRunner::load(&entry, &files, &dataset, &opts)?;
        if let Some(path) = &args.dump_inputs {
            let mut out = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            for i in 0..rows {
                let ids = &runner.prompt(i).context("prompt")?.ids;
                writeln!(out, "{}", serde_json::to_string(ids)?)?;
            }
        }
        for b in &batches[..args.warmup] {
            runner.generate_ids(b[0], &mut frugalbench_workloads::NoPhases)?;
        }
        let timed = &batches[args.warmup..];
        for _ in 0..args.repeat {
            let mut phases = PhaseTimes::default();
            let (mut prompt_tokens, mut new_tokens) = (0usize, 0usize);
            let t = Instant::now();
            for b in timed {
                let ids = runner.generate_ids(b[0], &mut phases)?;
                prompt_tokens += runner.prompt(b[0]).map_or(0, |p| p.ids.len());
                new_tokens += ids.len();
            }
            let secs = t.elapsed().as_secs_f64();
            let n = timed.len() as f64;
            println!(
                "frugalbench {:.3} queries/s ({} queries in {secs:.3} s; prefill {:.1} ms/query \
                 over {:.1} prompt tokens; decode {:.2} ms/token)",
                n / secs,
                timed.len(),
                phases.prefill.as_secs_f64() * 1e3 / n,
                prompt_tokens as f64 / n,
                phases.decode.as_secs_f64() * 1e3 / (new_tokens as f64 - n).max(1.0),
            );
        }
        return Ok(());
    }

    if let Some(path) = &args.dump_inputs {
        let mut out = std::fs::File::create(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let eval: Vec<String> = match &dataset.rows {
            DatasetRows::Similarity(pairs) => pairs
                .iter()
                .flat_map(|p| [p.sentence1.clone(), p.sentence2.clone()])
                .collect(),
            DatasetRows::Images(set) => picture_paths(set)?,
            _ => bail!(
                "--dump-inputs: only sentence-similarity, image-classification and text-generation"
            ),
        };
        writeln!(out, "{}", serde_json::to_string(&eval)?)?;
    }
    let mut runner = runners::load(&entry, args.task, &files, &dataset, &opts)?;
    for b in &batches[..args.warmup] {
        runner.run_batch(b, &mut frugalbench_workloads::NoPhases)?;
    }
    let timed = &batches[args.warmup..];
    for _ in 0..args.repeat {
        let t = Instant::now();
        let mut n = 0usize;
        for b in timed {
            n += runner
                .run_batch(b, &mut frugalbench_workloads::NoPhases)?
                .len();
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "frugalbench {:.3} rows/s ({n} rows in {} batches of {} in {secs:.3} s)",
            n as f64 / secs,
            timed.len(),
            args.batch_size
        );
    }
    Ok(())
}

/// The evaluation pictures of an image set as absolute paths, in row order (the builtin
/// photos' wheel is taken from the cache, fetched when missing, as the runner does).
fn picture_paths(set: &ImageSet) -> Result<Vec<String>> {
    let set = match &set.root {
        MediaRoot::Resolved => set.clone(),
        MediaRoot::Pip { pip, path } => {
            let mirror = PipMirror {
                pip: pip.clone(),
                path: path.clone(),
                format: None,
            };
            let folder = fetch::pip_folder(
                "dataset photos",
                &mirror,
                &FetchOptions::default(),
                &fetch::FetchEnv::from_env(),
            )?;
            set.resolved_in(&folder)
        }
    };
    set.test
        .iter()
        .map(|r| match &r.image {
            Media::File(p) => Ok(p.display().to_string()),
            Media::Bytes { name, .. } => bail!(
                "{}: picture {name:?} is embedded in the dataset; --dump-inputs needs files",
                r.at()
            ),
        })
        .collect()
}

/// One model file (a GGUF) as fetched files.
fn single_file(path: &std::path::Path, model_id: &str) -> Result<ModelFiles> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(ModelFiles {
        root: path
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .to_path_buf(),
        origin: format!("path:{}", path.display()),
        revision: None,
        files: vec![FileRecord {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            path: path.to_path_buf(),
            sha256: String::new(),
            bytes: meta.len(),
        }],
        model_id: model_id.to_string(),
    })
}
