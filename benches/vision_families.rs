//! ResNet-50, ConvNeXt-atto and EfficientNet-B0 (timm checkpoints through candle-transformers)
//! images/s through the image-classification runner, at batch 1 and 32: each iteration is one
//! metered query's work (preprocess the decoded pictures, forward pass, top-5), the pictures
//! decoded beforehand as a run does.
//!
//! Weights: random, seeded, with the real models' shapes (no real weights are reachable here;
//! the arithmetic is the same), 16 classes instead of 1,000 (a 0.03–2% smaller classifier).
//! Pictures: six generated 640×480 PNGs; preprocessing timm's (shorter side 256, bilinear,
//! centre crop 224). Compare with `scripts/vision_families_bench.py` (timm on PyTorch, same
//! shapes and pipeline) at the same thread count: set `RAYON_NUM_THREADS` here and `--threads`
//! there.
//!
//! Run: `cargo bench -p frugalbench-workloads --bench vision_families`.

use std::path::PathBuf;

use candle_core::Device;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use frugalbench_workloads::catalogue::{ModelEntry, Source};
use frugalbench_workloads::datasets::{
    DatasetRows, ImageRow, ImageSet, LoadedDataset, Media, MediaRoot,
};
use frugalbench_workloads::testing::bert::local_model_files;
use frugalbench_workloads::testing::cnn::Classes;
use frugalbench_workloads::testing::{convnext, efficientnet, efficientnet_lite, resnet};
use frugalbench_workloads::{runners, NoPhases, Runner, RunnerOptions, Task};

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..16).map(|i| format!("c{i}")).collect();
    let classes = Classes::Named(names);
    let rows: Vec<ImageRow> = (0..6)
        .map(|i| {
            let p: PathBuf = tmp.path().join(format!("p{i}.png"));
            efficientnet_lite::write_png(&p, 640, 480, i).unwrap();
            ImageRow {
                image: Media::File(p),
                labels: vec!["c0".into()],
                source: "generated".into(),
                line: i as usize + 1,
            }
        })
        .collect();
    let dataset = LoadedDataset {
        id: "generated".into(),
        path: None,
        sha256: String::new(),
        rows: DatasetRows::Images(ImageSet {
            train: Vec::new(),
            test: rows,
            root: MediaRoot::Resolved,
        }),
    };
    let opts = RunnerOptions {
        device: Device::Cpu,
        cache_dir: tmp.path().join("cache"),
        max_new_tokens: 1,
        temperature: 0.0,
        seed: 0,
    };
    for (id, arch) in [
        ("resnet50", "resnet"),
        ("convnext_atto", "convnext"),
        ("tf_efficientnet_b0", "efficientnet"),
    ] {
        let dir = tmp.path().join(id);
        match id {
            "resnet50" => resnet::write_resnet(&dir, 1, 50, &classes, 224),
            "convnext_atto" => convnext::write_convnext_atto(&dir, 1, &classes, 224),
            _ => efficientnet::write_b0(&dir, 1, &classes, 224),
        }
        .unwrap();
        let entry = ModelEntry {
            id: id.into(),
            tasks: vec![Task::ImageClassification],
            arch: arch.into(),
            default: false,
            description: None,
            source: Source::Path(dir.clone()),
            mirror: None,
            settings: toml::Table::new(),
        };
        let files = local_model_files(&dir, id).unwrap();
        let mut runner: Box<dyn Runner> =
            runners::load(&entry, Task::ImageClassification, &files, &dataset, &opts).unwrap();
        eprintln!(
            "vision_families bench: random {id} (real shapes), {} generated 640×480 pictures, rayon threads {}",
            runner.len(),
            rayon::current_num_threads()
        );
        let mut group = c.benchmark_group(format!("vision_families/{id}"));
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
}

criterion_group!(benches, bench);
criterion_main!(benches);
