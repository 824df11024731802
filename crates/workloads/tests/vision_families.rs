//! The ResNet, ConvNeXt and EfficientNet runners on random timm-named checkpoints written by
//! test code: end to end through `runners::load` (the model's own classes and a fitted head),
//! and the networks' logits and pooled features against timm's on the same seeded weights
//! (`tests/fixtures/vision_families_reference.json`, written by
//! `scripts/vision_families_reference.py`).

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use frugalbench_workloads::catalogue::{ModelEntry, Source};
use frugalbench_workloads::datasets;
use frugalbench_workloads::runners::{self, timm::LoadedNet};
use frugalbench_workloads::testing::bert::local_model_files;
use frugalbench_workloads::testing::cnn::{parity_input, Classes};
use frugalbench_workloads::testing::{convnext, efficientnet, efficientnet_lite, resnet};
use frugalbench_workloads::{NoPhases, Prediction, RunnerOptions, Task};

const CLASSES: [&str; 3] = ["red", "green", "blue"];

/// The parity fixtures: `(family arch, timm architecture, seed)`; 16 classes, input 72×56.
/// ResNet-50 (bottleneck blocks) and ConvNeXt-tiny (linear MLPs) take other code paths of
/// candle's models than ResNet-18 and ConvNeXt-atto.
const PARITY: [(&str, &str, u64); 5] = [
    ("resnet", "resnet18", 101),
    ("convnext", "convnext_atto", 102),
    ("efficientnet", "tf_efficientnet_b0", 103),
    ("resnet", "resnet50", 104),
    ("convnext", "convnext_tiny", 105),
];
const PARITY_CLASSES: usize = 16;
const PARITY_HW: (usize, usize) = (72, 56);

fn entry(arch: &str, dir: &Path) -> ModelEntry {
    ModelEntry {
        id: format!("tiny-{arch}"),
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

/// Write the fixture of `arch` (`resnet`, `convnext`, `efficientnet`: the smallest; or a timm
/// architecture of [`PARITY`]) into `dir`.
fn write(arch: &str, dir: &Path, seed: u64, classes: &Classes, size: u32) {
    match arch {
        "resnet" | "resnet18" => resnet::write_resnet(dir, seed, 18, classes, size),
        "resnet50" => resnet::write_resnet(dir, seed, 50, classes, size),
        "convnext" | "convnext_atto" => convnext::write_convnext_atto(dir, seed, classes, size),
        "convnext_tiny" => convnext::write_convnext(dir, seed, true, classes, size),
        _ => efficientnet::write_b0(dir, seed, classes, size),
    }
    .unwrap()
}

fn load_net(arch: &str, dir: &Path) -> LoadedNet {
    let files = local_model_files(dir, &format!("tiny-{arch}")).unwrap();
    let e = entry(arch, dir);
    match arch {
        "resnet" => runners::resnet::load_net(&e, &files, &Device::Cpu),
        "convnext" => runners::convnext::load_net(&e, &files, &Device::Cpu),
        _ => runners::efficientnet::load_net(&e, &files, &Device::Cpu),
    }
    .unwrap()
}

/// Pictures of different sizes and colours, with these labels and splits.
fn picture_set(dir: &Path, rows: &[(&str, &str)]) -> PathBuf {
    let mut lines = String::new();
    for (i, (label, split)) in rows.iter().enumerate() {
        let name = format!("p{i}.png");
        efficientnet_lite::write_png(
            &dir.join(&name),
            60 + 9 * i as u32,
            50 + 5 * i as u32,
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

fn end_to_end(arch: &str, variant: &str) {
    let dir = tempfile::tempdir().unwrap();
    let model_dir = dir.path().join(arch);
    write(arch, &model_dir, 7, &Classes::named(&CLASSES), 64);
    let net = load_net(arch, &model_dir);
    assert_eq!(net.variant, variant);
    assert_eq!(net.classes, 3);
    // The config's pretrained_cfg: shorter side floor(64 / 0.875) = 73, crop 64.
    assert_eq!(net.preprocess.output_size(50, 60), (64, 64));
    let files = local_model_files(&model_dir, &format!("tiny-{arch}")).unwrap();
    let e = entry(arch, &model_dir);
    // The model's own classes (timm's label_names).
    let set = picture_set(
        dir.path(),
        &[("red", "test"), ("blue", "test"), ("green", "test")],
    );
    let d = datasets::load(Task::ImageClassification, &set).unwrap();
    let mut r =
        runners::load(&e, Task::ImageClassification, &files, &d, &opts(dir.path())).unwrap();
    let batch = r.run_batch(&[0, 1, 2], &mut NoPhases).unwrap();
    assert_eq!(batch.len(), 3);
    for (i, o) in batch.iter().enumerate() {
        let Prediction::Label(l) = &o.prediction else {
            panic!("{:?}", o.prediction)
        };
        assert!(CLASSES.contains(&l.as_str()), "{arch}: {l}");
        // A picture alone gets the label it got in the batch.
        assert_eq!(
            o.prediction,
            r.run_batch(&[i], &mut NoPhases).unwrap()[0].prediction,
            "{arch}"
        );
    }
    let q = r.quality(&batch).unwrap();
    assert_eq!(q.extra["top5_accuracy"], 1.0, "{arch}");
    // A label that is not one of the model's classes is refused before anything runs.
    std::fs::write(&set, "{\"image\": \"p0.png\", \"label\": \"tabby\"}\n").unwrap();
    let d = datasets::load(Task::ImageClassification, &set).unwrap();
    let err = format!(
        "{:#}",
        runners::load(&e, Task::ImageClassification, &files, &d, &opts(dir.path()))
            .err()
            .unwrap()
    );
    assert!(
        err.contains(&format!(
            "label \"tabby\" is not one of the classes of model `tiny-{arch}` (3 classes"
        )),
        "{err}"
    );
    // A head fitted on the pooled features separates the train pictures.
    std::fs::write(
        &set,
        concat!(
            "{\"image\": \"p0.png\", \"label\": \"x\", \"split\": \"train\"}\n",
            "{\"image\": \"p1.png\", \"label\": \"y\", \"split\": \"train\"}\n",
            "{\"image\": \"p2.png\", \"label\": \"z\", \"split\": \"train\"}\n",
            "{\"image\": \"p0.png\", \"label\": \"x\"}\n",
            "{\"image\": \"p1.png\", \"label\": \"y\"}\n",
            "{\"image\": \"p2.png\", \"label\": \"z\"}\n",
        ),
    )
    .unwrap();
    let d = datasets::load(Task::ImageClassification, &set).unwrap();
    let mut r =
        runners::load(&e, Task::ImageClassification, &files, &d, &opts(dir.path())).unwrap();
    let out = r.run_batch(&[0, 1, 2], &mut NoPhases).unwrap();
    assert_eq!(r.quality(&out).unwrap().value, 1.0, "{arch}");
}

#[test]
fn resnet18_runs_end_to_end_with_its_classes_and_a_fitted_head() {
    end_to_end("resnet", "resnet18");
}

#[test]
fn convnext_atto_runs_end_to_end_with_its_classes_and_a_fitted_head() {
    end_to_end("convnext", "convnext_atto");
}

#[test]
fn efficientnet_b0_runs_end_to_end_with_its_classes_and_a_fitted_head() {
    end_to_end("efficientnet", "b0");
}

#[test]
fn a_config_naming_another_architecture_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model_dir = dir.path().join("m");
    resnet::write_resnet(&model_dir, 1, 18, &Classes::named(&CLASSES), 64).unwrap();
    let cfg = model_dir.join("config.json");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, text.replace("\"resnet18\"", "\"resnet50d\"")).unwrap();
    let files = local_model_files(&model_dir, "tiny-resnet").unwrap();
    let err = runners::resnet::load_net(&entry("resnet", &model_dir), &files, &Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("config.json names architecture `resnet50d` but the weights are a resnet18"),
        "{err}"
    );
    // A ConvNeXt's weights under the ResNet arch: no ResNet tensors.
    let cdir = dir.path().join("c");
    convnext::write_convnext_atto(&cdir, 1, &Classes::named(&CLASSES), 64).unwrap();
    let files = local_model_files(&cdir, "tiny-resnet").unwrap();
    let err = format!(
        "{:#}",
        runners::resnet::load_net(&entry("resnet", &cdir), &files, &Device::Cpu)
            .err()
            .unwrap()
    );
    assert!(
        err.contains("model.safetensors: no `conv1.weight`: not a plain ResNet"),
        "{err}"
    );
}

fn reference() -> serde_json::Value {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vision_families_reference.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn to_vec2(t: &Tensor) -> Vec<Vec<f32>> {
    t.to_vec2::<f32>().unwrap()
}

/// Largest |candle - timm| over all values, relative to the largest |timm| value.
fn rel_diff(got: &[Vec<f32>], want: &serde_json::Value) -> f64 {
    let want: Vec<Vec<f64>> = serde_json::from_value(want.clone()).unwrap();
    assert_eq!(got.len(), want.len());
    let scale = want.iter().flatten().fold(1e-6f64, |m, v| m.max(v.abs()));
    let mut max = 0f64;
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g.len(), w.len());
        for (a, b) in g.iter().zip(w) {
            max = max.max((*a as f64 - b).abs());
        }
    }
    max / scale
}

/// timm's outputs on the same seeded weights and input (see the module docs): the logits of
/// the two pictures and the first 32 values of their pooled (pre-logits) features.
#[test]
fn logits_and_features_match_timm_on_the_same_weights() {
    let reference = reference();
    let dir = tempfile::tempdir().unwrap();
    let (h, w) = PARITY_HW;
    let x = parity_input(h, w).unwrap();
    for (arch, timm_arch, seed) in PARITY {
        let want = &reference[timm_arch];
        assert_eq!(
            want["seed"], seed,
            "{timm_arch}: the reference was made with another seed"
        );
        let model_dir = dir.path().join(timm_arch);
        write(
            timm_arch,
            &model_dir,
            seed,
            &Classes::Count(PARITY_CLASSES),
            224,
        );
        let net = load_net(arch, &model_dir);
        let logits = to_vec2(&net.model.logits(&x).unwrap());
        let features = to_vec2(&net.model.features(&x).unwrap());
        let first: Vec<Vec<f32>> = features.iter().map(|f| f[..32].to_vec()).collect();
        let dl = rel_diff(&logits, &want["logits"]);
        let df = rel_diff(&first, &want["features_first32"]);
        let width = want["features_width"].as_u64().unwrap() as usize;
        eprintln!(
            "{timm_arch}: max |Δ| / max |timm| logits {dl:.2e}, features {df:.2e} (width {})",
            features[0].len()
        );
        assert_eq!(features[0].len(), width, "{timm_arch}");
        assert!(dl < 1e-4, "{timm_arch}: logits differ by {dl:e} (relative)");
        assert!(
            df < 1e-4,
            "{timm_arch}: features differ by {df:e} (relative)"
        );
    }
}

/// Writes the parity fixtures into `$FRUGALBENCH_VISION_FIXTURES` for
/// `scripts/vision_families_reference.py` (run by the script).
#[test]
#[ignore = "run by scripts/vision_families_reference.py"]
fn write_parity_fixtures() {
    let out = PathBuf::from(
        std::env::var("FRUGALBENCH_VISION_FIXTURES").expect("FRUGALBENCH_VISION_FIXTURES"),
    );
    for (_, timm_arch, seed) in PARITY {
        write(
            timm_arch,
            &out.join(timm_arch),
            seed,
            &Classes::Count(PARITY_CLASSES),
            224,
        );
    }
    let (h, w) = PARITY_HW;
    let x = parity_input(h, w).unwrap();
    // The input too, so the script can check its own copy of the formula.
    candle_core::safetensors::save(
        &[("x".to_string(), x)].into_iter().collect(),
        out.join("input.safetensors"),
    )
    .unwrap();
}

/// The pipeline's source: `preprocessor_config.json` first, then `config.json`'s
/// `pretrained_cfg`, then the family's defaults.
#[test]
fn preprocessing_comes_from_the_checkpoint_or_the_family_defaults() {
    use frugalbench_workloads::vision::{Resample, Resize};
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m");
    efficientnet::write_b0(&m, 2, &Classes::named(&CLASSES), 64).unwrap();
    let net = load_net("efficientnet", &m);
    assert_eq!(net.preprocess.resize, Resize::ShortestEdge(73));
    assert_eq!(net.preprocess.resample, Resample::Bilinear);
    // Without a pretrained_cfg: timm's B0 defaults.
    let cfg = m.join("config.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cfg).unwrap()).unwrap();
    json.as_object_mut().unwrap().remove("pretrained_cfg");
    std::fs::write(&cfg, json.to_string()).unwrap();
    let net = load_net("efficientnet", &m);
    assert_eq!(net.preprocess.resize, Resize::ShortestEdge(256));
    assert_eq!(net.preprocess.crop, Some((224, 224)));
    assert_eq!(net.preprocess.resample, Resample::Bicubic);
    // A transformers preprocessor_config.json wins.
    std::fs::write(
        m.join("preprocessor_config.json"),
        r#"{"size": {"shortest_edge": 40}, "crop_size": {"height": 32, "width": 32}, "resample": 2}"#,
    )
    .unwrap();
    let net = load_net("efficientnet", &m);
    assert_eq!(net.preprocess.resize, Resize::ShortestEdge(40));
    assert_eq!(net.preprocess.output_size(50, 60), (32, 32));
    // A pretrained_cfg timm's eval transform cannot express is one error naming the file.
    json["pretrained_cfg"] = serde_json::json!({"crop_mode": "border"});
    std::fs::write(&cfg, json.to_string()).unwrap();
    std::fs::remove_file(m.join("preprocessor_config.json")).unwrap();
    let files = local_model_files(&m, "tiny-efficientnet").unwrap();
    let err = format!(
        "{:#}",
        runners::efficientnet::load_net(&entry("efficientnet", &m), &files, &Device::Cpu)
            .err()
            .unwrap()
    );
    assert!(
        err.contains("config.json: unusable pretrained_cfg: \"crop_mode\": only \"center\""),
        "{err}"
    );
}

/// A 1,000-class checkpoint without `label_names` gets ImageNet-1k's class names.
#[test]
fn a_thousand_unnamed_classes_are_imagenets() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m");
    convnext::write_convnext_atto(&m, 4, &Classes::Count(1000), 64).unwrap();
    let files = local_model_files(&m, "tiny-convnext").unwrap();
    let set = picture_set(dir.path(), &[("tabby", "test"), ("espresso", "test")]);
    let d = datasets::load(Task::ImageClassification, &set).unwrap();
    let e = entry("convnext", &m);
    let mut r =
        runners::load(&e, Task::ImageClassification, &files, &d, &opts(dir.path())).unwrap();
    let out = r.run_batch(&[0, 1], &mut NoPhases).unwrap();
    let names = frugalbench_workloads::runners::image_cls::imagenet_classes();
    for o in &out {
        let Prediction::Label(l) = &o.prediction else {
            panic!()
        };
        assert!(names.contains(l), "{l}");
    }
    // A 16-class checkpoint without names cannot score the model's own classes.
    let m16 = dir.path().join("m16");
    convnext::write_convnext_atto(&m16, 4, &Classes::Count(16), 64).unwrap();
    let files = local_model_files(&m16, "tiny-convnext").unwrap();
    let err = format!(
        "{:#}",
        runners::load(
            &entry("convnext", &m16),
            Task::ImageClassification,
            &files,
            &d,
            &opts(dir.path())
        )
        .err()
        .unwrap()
    );
    assert!(
        err.contains(
            "no timm `label_names` for the 16 classes: the model has 16 classes and no id2label"
        ),
        "{err}"
    );
}
