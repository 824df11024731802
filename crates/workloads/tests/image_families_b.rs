//! MobileNetV4 and DINOv2 image classifiers end to end on random checkpoints written by test
//! code (through `runners::load`, as a run loads them), and (cache-gated) their parity with
//! timm on random-initialised models written by scripts/vision_families_reference_b.py
//! (ignored: it needs their weights in the cache).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::VarBuilder;
use frugalbench_workloads::catalogue::{ModelEntry, Source};
use frugalbench_workloads::datasets;
use frugalbench_workloads::runners::{self, dinov2, image_cls::ImageModel, mobilenetv4};
use frugalbench_workloads::testing::bert::local_model_files;
use frugalbench_workloads::testing::dinov2 as tiny_dino;
use frugalbench_workloads::testing::efficientnet_lite::write_png;
use frugalbench_workloads::testing::mobilenetv4 as tiny_mnv4;
use frugalbench_workloads::{NoPhases, Prediction, RunnerOptions, Task};

fn entry(id: &str, arch: &str, dir: &Path) -> ModelEntry {
    ModelEntry {
        id: id.into(),
        tasks: vec![Task::ImageClassification],
        arch: arch.into(),
        default: false,
        description: None,
        source: Source::Path(dir.to_path_buf()),
        mirror: None,
        settings: toml::Table::new(),
    }
}

fn opts(cache: &Path) -> RunnerOptions {
    RunnerOptions {
        device: Device::Cpu,
        cache_dir: cache.to_path_buf(),
        max_new_tokens: 1,
        temperature: 0.0,
        seed: 0,
    }
}

/// Pictures `p{i}.png` of different sizes and a JSONL set naming them with `rows`' labels.
fn picture_set(dir: &Path, rows: &[(&str, &str)]) -> PathBuf {
    let mut lines = String::new();
    for (i, (label, split)) in rows.iter().enumerate() {
        let name = format!("p{i}.png");
        write_png(
            &dir.join(&name),
            70 + 9 * i as u32,
            60 + 5 * i as u32,
            i as u32,
        )
        .unwrap();
        lines.push_str(&format!(
            "{{\"image\": \"{name}\", \"label\": \"{label}\", \"split\": \"{split}\"}}\n"
        ));
    }
    let p = dir.join("pics.jsonl");
    std::fs::write(&p, lines).unwrap();
    p
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

fn err_of(r: anyhow::Result<Box<dyn frugalbench_workloads::Runner>>) -> String {
    format!("{:#}", r.err().expect("expected an error"))
}

/// Batched and one-at-a-time predictions agree and are ImageNet class names.
fn check_batch_matches_alone(r: &mut Box<dyn frugalbench_workloads::Runner>, n: usize) {
    let items: Vec<usize> = (0..n).collect();
    let batch = r.run_batch(&items, &mut NoPhases).unwrap();
    for (i, b) in batch.iter().enumerate() {
        let alone = r.run_batch(&[i], &mut NoPhases).unwrap().remove(0);
        assert_eq!(b.prediction, alone.prediction, "item {i}");
        let Prediction::Label(l) = &b.prediction else {
            panic!()
        };
        assert!(runners::image_cls::imagenet_classes().contains(l), "{l}");
    }
    let q = r.quality(&batch).unwrap();
    assert_eq!(q.metric, "accuracy");
    assert!(q.extra["top5_accuracy"] >= q.value);
}

#[test]
fn random_mobilenetv4_conv_small_runs_both_modes_through_the_loader() {
    let dir = tempfile::tempdir().unwrap();
    let model_dir = dir.path().join("mnv4");
    tiny_mnv4::write_conv_small(&model_dir, 5, 64).unwrap();
    let files = local_model_files(&model_dir, "tiny-mnv4").unwrap();
    let e = entry("tiny-mnv4", "mobilenetv4", &model_dir);
    let set = picture_set(
        dir.path(),
        &[("tabby", "test"), ("cup", "test"), ("espresso", "test")],
    );
    let d = datasets::load(Task::ImageClassification, &set).unwrap();
    let mut r =
        runners::load(&e, Task::ImageClassification, &files, &d, &opts(dir.path())).unwrap();
    assert_eq!(r.dtype(), "f32");
    check_batch_matches_alone(&mut r, 3);

    // The identity-classifier network + the checkpoint's classifier give exactly candle's own
    // MobileNetV4 logits (the features are its pre-logits vector).
    let tensors = tiny_mnv4::conv_small_tensors(5, 1000).unwrap();
    let ours = mobilenetv4::MobileNetV4::from_tensors(tensors.clone(), "conv-small", &Device::Cpu)
        .unwrap();
    let vb = VarBuilder::from_tensors(tensors.clone(), DType::F32, &Device::Cpu);
    let candle_net = candle_transformers::models::mobilenetv4::mobilenetv4(
        &candle_transformers::models::mobilenetv4::Config::small(),
        1000,
        vb,
    )
    .unwrap();
    let x = Tensor::randn(0f32, 1f32, (2, 3, 64, 64), &Device::Cpu).unwrap();
    let want = candle_net.forward(&x).unwrap();
    let got = ours.logits(&x).unwrap();
    assert_eq!(got.dims(), [2, 1000]);
    assert_eq!(ours.features(&x).unwrap().dims(), [2, 1280]);
    let diff = max_abs_diff(&got, &want);
    assert!(diff < 1e-4, "{diff}");
    // The logits are not all alike (a dead network would pass the comparison above).
    let spread = got.max_all().unwrap().to_scalar::<f32>().unwrap()
        - got.min_all().unwrap().to_scalar::<f32>().unwrap();
    assert!(spread > 0.1, "{spread}");

    // Without config.json the variant is read off the tensors; a wrong `variant` fails.
    assert_eq!(
        mobilenetv4::variant_of_tensors(&tensors).unwrap(),
        "conv-small"
    );
    let mut wrong = e.clone();
    wrong
        .settings
        .insert("variant".into(), toml::Value::String("conv-medium".into()));
    let err = err_of(runners::load(
        &wrong,
        Task::ImageClassification,
        &files,
        &d,
        &opts(dir.path()),
    ));
    assert!(err.contains("model `tiny-mnv4`"), "{err}");
    wrong
        .settings
        .insert("variant".into(), toml::Value::String("conv-tiny".into()));
    let err = err_of(runners::load(
        &wrong,
        Task::ImageClassification,
        &files,
        &d,
        &opts(dir.path()),
    ));
    assert!(
        err.contains("MobileNetV4 variant `conv-tiny` is not one candle-transformers builds"),
        "{err}"
    );

    // A head fitted on the 1,280-d pre-logits features.
    std::fs::write(
        &set,
        "{\"image\": \"p0.png\", \"label\": \"x\", \"split\": \"train\"}\n{\"image\": \"p1.png\", \"label\": \"y\", \"split\": \"train\"}\n{\"image\": \"p0.png\", \"label\": \"x\"}\n{\"image\": \"p1.png\", \"label\": \"y\"}\n",
    )
    .unwrap();
    let d = datasets::load(Task::ImageClassification, &set).unwrap();
    let mut r =
        runners::load(&e, Task::ImageClassification, &files, &d, &opts(dir.path())).unwrap();
    let out = r.run_batch(&[0, 1], &mut NoPhases).unwrap();
    assert_eq!(r.quality(&out).unwrap().value, 1.0);
}

#[test]
fn random_dinov2_uses_its_imagenet_head_or_a_fitted_one() {
    let dir = tempfile::tempdir().unwrap();
    let with_head = dir.path().join("dino");
    tiny_dino::write_tiny_dinov2(&with_head, 7, true).unwrap();
    let files = local_model_files(&with_head, "tiny-dino").unwrap();
    let e = entry("tiny-dino", "dinov2", &with_head);
    let set = picture_set(
        dir.path(),
        &[("tabby", "test"), ("cup", "test"), ("espresso", "test")],
    );
    let d = datasets::load(Task::ImageClassification, &set).unwrap();
    let mut r =
        runners::load(&e, Task::ImageClassification, &files, &d, &opts(dir.path())).unwrap();
    check_batch_matches_alone(&mut r, 3);

    // Identity head + Meta's head = candle's DINOv2 with its head, at 56×56 and at 518×518.
    let tensors = tiny_dino::tiny_tensors(7, true).unwrap();
    let ours = dinov2::DinoV2::from_tensors(tensors.clone(), None, None, &Device::Cpu).unwrap();
    let vb = VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu);
    let candle_net = candle_transformers::models::dinov2::DinoVisionTransformer::new(
        vb,
        tiny_dino::DEPTH,
        tiny_dino::WIDTH,
        2,
    )
    .unwrap();
    for size in [56, 518] {
        let x = Tensor::randn(0f32, 1f32, (2, 3, size, size), &Device::Cpu).unwrap();
        // candle's DINOv2 takes one picture per call (no batch broadcast of its CLS token).
        assert!(candle_net.forward(&x).is_err());
        let want = Tensor::cat(
            &[
                candle_net.forward(&x.narrow(0, 0, 1).unwrap()).unwrap(),
                candle_net.forward(&x.narrow(0, 1, 1).unwrap()).unwrap(),
            ],
            0,
        )
        .unwrap();
        let got = ours.logits(&x).unwrap();
        assert_eq!(got.dims(), [2, 1000]);
        assert_eq!(ours.features(&x).unwrap().dims(), [2, 2 * tiny_dino::WIDTH]);
        let diff = max_abs_diff(&got, &want);
        assert!(diff < 1e-4, "{size}: {diff}");
        let spread = got.max_all().unwrap().to_scalar::<f32>().unwrap()
            - got.min_all().unwrap().to_scalar::<f32>().unwrap();
        assert!(spread > 0.1, "{spread}");
    }

    // A headless backbone: one clear error on a set without train rows ...
    let headless = dir.path().join("dino-headless");
    tiny_dino::write_tiny_dinov2(&headless, 7, false).unwrap();
    let hfiles = local_model_files(&headless, "tiny-dino-headless").unwrap();
    let he = entry("tiny-dino-headless", "dinov2", &headless);
    let err = err_of(runners::load(
        &he,
        Task::ImageClassification,
        &hfiles,
        &d,
        &opts(dir.path()),
    ));
    assert!(
        err.contains("model `tiny-dino-headless`")
            && err.contains(
                "is a DINOv2 backbone without `head.weight`: it has no classes of its own"
            ),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    // ... and a fitted head on a set with train rows (both checkpoints give the same features).
    std::fs::write(
        &set,
        "{\"image\": \"p0.png\", \"label\": \"x\", \"split\": \"train\"}\n{\"image\": \"p1.png\", \"label\": \"y\", \"split\": \"train\"}\n{\"image\": \"p2.png\", \"label\": \"z\", \"split\": \"train\"}\n{\"image\": \"p0.png\", \"label\": \"x\"}\n{\"image\": \"p1.png\", \"label\": \"y\"}\n{\"image\": \"p2.png\", \"label\": \"z\"}\n",
    )
    .unwrap();
    let d = datasets::load(Task::ImageClassification, &set).unwrap();
    for (en, f) in [(&he, &hfiles), (&e, &files)] {
        let mut r = runners::load(en, Task::ImageClassification, f, &d, &opts(dir.path())).unwrap();
        let out = r.run_batch(&[0, 1, 2], &mut NoPhases).unwrap();
        assert_eq!(r.quality(&out).unwrap().value, 1.0, "{}", en.id);
    }

    // A head of the wrong width, and a crop that is not a multiple of 14 pixels.
    let mut t = tiny_dino::tiny_tensors(7, true).unwrap();
    t.insert(
        "head.weight".into(),
        Tensor::zeros((1000, tiny_dino::WIDTH), DType::F32, &Device::Cpu).unwrap(),
    );
    let err = format!(
        "{:#}",
        dinov2::DinoV2::from_tensors(t, None, None, &Device::Cpu)
            .err()
            .unwrap()
    );
    assert!(err.contains("`head.weight` has shape [1000, 128]"), "{err}");
    std::fs::write(
        with_head.join("preprocessor_config.json"),
        "{\"crop_size\": {\"height\": 50, \"width\": 50}}",
    )
    .unwrap();
    let files = local_model_files(&with_head, "tiny-dino").unwrap();
    let err = err_of(runners::load(
        &e,
        Task::ImageClassification,
        &files,
        &d,
        &opts(dir.path()),
    ));
    assert!(
        err.contains("not a multiple of DINOv2's 14-pixel patch"),
        "{err}"
    );
}

/// The parity fixtures of scripts/vision_families_reference_b.py: the committed reference
/// numbers, and the cache folder holding the random-initialised weights and inputs.
fn parity_dir() -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    let dir = PathBuf::from(home).join(".cache/frugalbench/parity/vision-b");
    dir.join("mobilenetv4_conv_small/model.safetensors")
        .exists()
        .then_some(dir)
}

fn reference() -> serde_json::Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vision_families_b.json");
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

fn rows(v: &serde_json::Value) -> Vec<Vec<f32>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect()
        })
        .collect()
}

/// max |ours − reference| over the first columns the reference keeps.
fn compare(got: &Tensor, want: &serde_json::Value) -> f32 {
    let want = rows(want);
    let got: Vec<Vec<f32>> = got.to_vec2().unwrap();
    assert_eq!(got.len(), want.len());
    let mut worst = 0f32;
    for (g, w) in got.iter().zip(&want) {
        for (a, b) in g.iter().zip(w) {
            worst = worst.max((a - b).abs());
        }
    }
    worst
}

fn load_input(dir: &Path) -> Tensor {
    let t: HashMap<String, Tensor> =
        candle_core::safetensors::load(dir.join("input.safetensors"), &Device::Cpu).unwrap();
    t["x"].clone()
}

/// Ignored: needs the weights scripts/vision_families_reference_b.py writes into the cache
/// (`cargo test --release -p frugalbench-workloads --test image_families_b -- --ignored`).
#[test]
#[ignore]
fn mobilenetv4_and_dinov2_match_timm_on_random_weights() {
    let dir = parity_dir().expect(
        "run scripts/vision_families_reference_b.py first (writes ~/.cache/frugalbench/parity/vision-b)",
    );
    let reference = reference();

    let m = dir.join("mobilenetv4_conv_small");
    let tensors =
        candle_core::safetensors::load(m.join("model.safetensors"), &Device::Cpu).unwrap();
    let net = mobilenetv4::MobileNetV4::from_tensors(tensors, "conv-small", &Device::Cpu).unwrap();
    let x = load_input(&m);
    let r = &reference["mobilenetv4_conv_small"];
    let logits = compare(&net.logits(&x).unwrap(), &r["logits"]);
    let features = compare(&net.features(&x).unwrap(), &r["features"]);
    eprintln!("mobilenetv4_conv_small: max |Δ| logits {logits:.2e}, features {features:.2e}");
    assert!(logits < 1e-4 && features < 1e-4, "{logits} {features}");

    let dd = dir.join("dinov2_vits14");
    let tensors =
        candle_core::safetensors::load(dd.join("model.safetensors"), &Device::Cpu).unwrap();
    let inputs: HashMap<String, Tensor> =
        candle_core::safetensors::load(dd.join("input.safetensors"), &Device::Cpu).unwrap();
    // 518×518: candle's own table (no resize); 224×224: Meta's bicubic positions baked in.
    for (key, grid) in [("x", None), ("x224", Some(16))] {
        let net = dinov2::DinoV2::from_tensors(tensors.clone(), None, grid, &Device::Cpu).unwrap();
        let x = &inputs[key];
        let r = &reference["dinov2_vits14"][key];
        let (logits, features) = (net.logits(x).unwrap(), net.features(x).unwrap());
        // timm with candle's two approximations (tanh GELU, LayerNorm ε 1e-5).
        let l = compare(&logits, &r["candle_numerics"]["logits"]);
        let f = compare(&features, &r["candle_numerics"]["features"]);
        // timm as Meta defines it (exact GELU, ε 1e-6): what the approximations cost.
        let le = compare(&logits, &r["exact"]["logits"]);
        let fe = compare(&features, &r["exact"]["features"]);
        eprintln!(
            "dinov2_vits14 {:?}: max |Δ| vs timm with candle's numerics: logits {l:.2e}, features {f:.2e}; vs exact timm: logits {le:.2e}, features {fe:.2e}",
            x.dims()
        );
        assert!(l < 1e-4 && f < 1e-4, "{key}: {l} {f}");
        assert!(le < 5e-2 && fe < 5e-2, "{key}: {le} {fe}");
        if grid.is_some() {
            // candle's own nearest-neighbour positions are measurably off Meta's.
            let nearest = dinov2::DinoV2::from_tensors(tensors.clone(), None, None, &Device::Cpu)
                .unwrap()
                .features(x)
                .unwrap();
            let fn_ = compare(&nearest, &r["candle_numerics"]["features"]);
            eprintln!("  with candle's nearest-neighbour positions instead: features {fn_:.2e}");
            assert!(fn_ > 100.0 * f, "{fn_} vs {f}");
        }
    }
}
