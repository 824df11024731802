//! Silero VAD on Candle: a random-weight checkpoint with the real tensor names and shapes,
//! written by the test, checked against a plain scalar (f64) implementation of the network
//! written here from the package's `tinygrad_model.py`; the runner end to end on WAV files;
//! and (ignored: needs the real weights in the cache) parity with the package's own
//! TorchScript model on the numbers `scripts/silero_vad_reference.py` recorded.

// The scalar reference is written index by index, as the maths reads.
#![allow(clippy::needless_range_loop)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::Device;
use frugalbench_workloads::catalogue::{ModelEntry, Source};
use frugalbench_workloads::datasets::speech_clips::wav_bytes;
use frugalbench_workloads::datasets::{self, DatasetRows};
use frugalbench_workloads::runners::{self, silero_vad::SileroVad};
use frugalbench_workloads::testing::bert::local_model_files;
use frugalbench_workloads::testing::silero::{tiny_silero_tensors, write_tiny_silero};
use frugalbench_workloads::{NoPhases, Prediction, RunnerOptions, Task};

/// The weights as flat f64 vectors, by name.
fn flat(seed: u64) -> HashMap<String, Vec<f64>> {
    tiny_silero_tensors(seed)
        .unwrap()
        .into_iter()
        .map(|(k, t)| {
            let v = t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            (k, v.into_iter().map(f64::from).collect())
        })
        .collect()
}

/// Conv1d, kernel 3, padding 1: `input` is (cin, len) row-major; weights (cout, cin, 3).
fn conv3(
    input: &[f64],
    cin: usize,
    len: usize,
    w: &[f64],
    b: &[f64],
    stride: usize,
) -> (Vec<f64>, usize) {
    let cout = b.len();
    let lout = (len + 2 - 3) / stride + 1;
    let mut out = vec![0.0; cout * lout];
    for o in 0..cout {
        for j in 0..lout {
            let mut s = b[o];
            for c in 0..cin {
                for k in 0..3 {
                    let pos = (j * stride + k) as isize - 1;
                    if pos >= 0 && (pos as usize) < len {
                        s += w[(o * cin + c) * 3 + k] * input[c * len + pos as usize];
                    }
                }
            }
            out[o * lout + j] = s.max(0.0); // every conv is followed by ReLU
        }
    }
    (out, lout)
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The network, one window at a time, in f64 — written from the package's description,
/// independently of the Candle code (its own framing and reflection too).
fn scalar_probabilities(w: &HashMap<String, Vec<f64>>, samples: &[f32]) -> Vec<f64> {
    let n = samples.len().div_ceil(512);
    let mut padded = vec![0.0f64; 64];
    padded.extend(samples.iter().map(|&s| f64::from(s)));
    padded.resize(64 + n * 512, 0.0);
    let (mut h, mut c) = (vec![0.0; 128], vec![0.0; 128]);
    let mut probs = Vec::new();
    for win in 0..n {
        let mut x: Vec<f64> = padded[win * 512..win * 512 + 576].to_vec();
        for k in 0..64 {
            x.push(x[574 - k]);
        }
        // STFT conv: 258 filters of 256 taps, stride 128 → 4 frames; magnitude of 129 bins.
        let st = &w["stft_conv.weight"];
        let mut mag = vec![0.0; 129 * 4];
        for bin in 0..129 {
            for f in 0..4 {
                let dot = |o: usize| {
                    (0..256)
                        .map(|k| st[o * 256 + k] * x[f * 128 + k])
                        .sum::<f64>()
                };
                let (re, im) = (dot(bin), dot(bin + 129));
                mag[bin * 4 + f] = (re * re + im * im).sqrt();
            }
        }
        let (a, l) = conv3(&mag, 129, 4, &w["conv1.weight"], &w["conv1.bias"], 1);
        let (a, l) = conv3(&a, 128, l, &w["conv2.weight"], &w["conv2.bias"], 2);
        let (a, l) = conv3(&a, 64, l, &w["conv3.weight"], &w["conv3.bias"], 2);
        let (feat, l) = conv3(&a, 64, l, &w["conv4.weight"], &w["conv4.bias"], 1);
        assert_eq!(l, 1);
        // LSTM cell, gates i, f, g, o.
        let (wih, whh) = (&w["lstm_cell.weight_ih"], &w["lstm_cell.weight_hh"]);
        let (bih, bhh) = (&w["lstm_cell.bias_ih"], &w["lstm_cell.bias_hh"]);
        let gate: Vec<f64> = (0..512)
            .map(|r| {
                bih[r]
                    + bhh[r]
                    + (0..128)
                        .map(|k| wih[r * 128 + k] * feat[k] + whh[r * 128 + k] * h[k])
                        .sum::<f64>()
            })
            .collect();
        for k in 0..128 {
            let (i, f, g, o) = (
                sigmoid(gate[k]),
                sigmoid(gate[128 + k]),
                gate[256 + k].tanh(),
                sigmoid(gate[384 + k]),
            );
            c[k] = f * c[k] + i * g;
            h[k] = o * c[k].tanh();
        }
        let fw = &w["final_conv.weight"];
        let logit = w["final_conv.bias"][0] + (0..128).map(|k| fw[k] * h[k].max(0.0)).sum::<f64>();
        probs.push(sigmoid(logit));
    }
    probs
}

/// A deterministic test signal: a gliding tone with harmonics and a little pseudo-noise.
fn signal(len: usize, f0: f64, seed: u32) -> Vec<f32> {
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    (0..len)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let t = i as f64 / 16_000.0;
            let f = f0 * (1.0 + 0.3 * (t * 2.0).sin());
            let s = 0.3 * (std::f64::consts::TAU * f * t).sin()
                + 0.1 * (std::f64::consts::TAU * 3.0 * f * t).sin()
                + 0.05 * (f64::from(state) / f64::from(u32::MAX) - 0.5);
            s as f32
        })
        .collect()
}

#[test]
fn candle_network_matches_a_scalar_implementation() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_tiny_silero(dir.path(), 7).unwrap();
    let model = SileroVad::load(&path, &Device::Cpu).unwrap();
    let w = flat(7);
    // A part window at the end, several windows so the LSTM state carries over, and a clip
    // shorter than one window.
    for (len, f0) in [(512 * 5 + 100, 220.0), (48_000, 130.0), (300, 440.0)] {
        let clip = signal(len, f0, len as u32);
        let got = model.window_probabilities(&clip).unwrap();
        let want = scalar_probabilities(&w, &clip);
        assert_eq!(got.len(), len.div_ceil(512));
        let max_diff = got
            .iter()
            .zip(&want)
            .map(|(g, w)| (f64::from(*g) - w).abs())
            .fold(0.0, f64::max);
        assert!(max_diff < 1e-5, "len {len}: max |diff| {max_diff}");
        // The random network is not saturated: the probabilities vary.
        let spread = want.iter().cloned().fold(f64::MIN, f64::max)
            - want.iter().cloned().fold(f64::MAX, f64::min);
        assert!(want.len() == 1 || spread > 1e-4, "len {len}: {want:?}");
    }
    assert!(model.window_probabilities(&[]).is_err());
}

fn entry(dir: &Path, settings: &str) -> ModelEntry {
    ModelEntry {
        id: "tiny-silero".into(),
        tasks: vec![Task::AudioClassification],
        arch: "silero-vad".into(),
        default: false,
        description: None,
        source: Source::Path(dir.to_path_buf()),
        mirror: None,
        settings: toml::from_str(settings).unwrap(),
    }
}

fn opts(cache: &Path) -> RunnerOptions {
    RunnerOptions {
        device: Device::Cpu,
        cache_dir: cache.to_path_buf(),
        max_new_tokens: 0,
        temperature: 0.0,
        seed: 0,
    }
}

/// Write clips and a JSONL dataset naming them by relative path.
fn write_set(dir: &Path, rows: &[(&str, usize, f64, &str, &str)]) -> PathBuf {
    std::fs::create_dir_all(dir.join("clips")).unwrap();
    let mut jsonl = String::new();
    for (i, (name, len, f0, label, split)) in rows.iter().enumerate() {
        std::fs::write(
            dir.join("clips").join(name),
            wav_bytes(&signal(*len, *f0, i as u32 + 1)).unwrap(),
        )
        .unwrap();
        jsonl.push_str(&format!(
            "{{\"audio\": \"clips/{name}\", \"label\": \"{label}\", \"split\": \"{split}\"}}\n"
        ));
    }
    let path = dir.join("set.jsonl");
    std::fs::write(&path, jsonl).unwrap();
    path
}

#[test]
fn runner_classifies_clips_end_to_end_by_mean_probability() {
    let dir = tempfile::tempdir().unwrap();
    let model_dir = dir.path().join("model");
    write_tiny_silero(&model_dir, 11).unwrap();
    let set = write_set(
        &dir.path().join("data"),
        &[
            ("a.wav", 48_000, 200.0, "speech", "train"),
            ("b.wav", 48_000, 120.0, "speech", "test"),
            ("c.wav", 20_000, 900.0, "non-speech", "test"),
            ("d.wav", 48_000, 300.0, "non-speech", "test"),
            ("e.wav", 7_000, 2500.0, "speech", "test"),
        ],
    );
    let dataset = datasets::load(Task::AudioClassification, &set).unwrap();
    let DatasetRows::AudioClassification { train, test } = &dataset.rows else {
        panic!("{:?}", dataset.task())
    };
    assert_eq!((train.len(), test.len()), (1, 4));
    assert_eq!(test[1].clip.samples().len(), 20_000);
    let files = local_model_files(&model_dir, "tiny-silero").unwrap();
    let mut runner = runners::load(
        &entry(&model_dir, ""),
        Task::AudioClassification,
        &files,
        &dataset,
        &opts(dir.path()),
    )
    .unwrap();
    assert_eq!(runner.len(), 4);
    assert_eq!(runner.dtype(), "f32");
    let outcomes = runner.run_batch(&[0, 1, 2, 3], &mut NoPhases).unwrap();
    let w = flat(11);
    let mut pred = Vec::new();
    for (o, row) in outcomes.iter().zip(test) {
        let probs = scalar_probabilities(&w, row.clip.samples());
        let mean = probs.iter().sum::<f64>() / probs.len() as f64;
        let want = if mean > 0.5 { "speech" } else { "non-speech" };
        let Prediction::Label(got) = &o.prediction else {
            panic!("{:?}", o.prediction)
        };
        if (mean - 0.5).abs() > 1e-4 {
            assert_eq!(got, want, "mean {mean}");
        }
        assert_eq!(o.input_tokens, row.clip.samples().len().div_ceil(512));
        pred.push(got.clone());
    }
    let q = runner.quality(&outcomes).unwrap();
    let gold = ["speech", "non-speech", "non-speech", "speech"];
    let hits = pred.iter().zip(gold).filter(|(p, g)| p == g).count();
    assert_eq!(q.metric, "accuracy");
    assert!((q.value - hits as f64 / 4.0).abs() < 1e-12);
    assert!(q.extra.contains_key("macro_f1"));
    // Binary gold labels: precision and recall of "speech", when defined.
    let tp = pred
        .iter()
        .zip(gold)
        .filter(|(p, g)| *p == "speech" && *g == "speech")
        .count();
    let predicted = pred.iter().filter(|p| *p == "speech").count();
    assert!((q.extra["recall"] - tp as f64 / 2.0).abs() < 1e-12, "{q:?}");
    match predicted {
        0 => assert!(!q.extra.contains_key("precision")),
        n => assert!((q.extra["precision"] - tp as f64 / n as f64).abs() < 1e-12),
    }
}

#[test]
fn labels_outside_the_models_two_are_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let model_dir = dir.path().join("model");
    write_tiny_silero(&model_dir, 3).unwrap();
    let set = write_set(
        &dir.path().join("data"),
        &[
            ("a.wav", 8_000, 200.0, "speech", "test"),
            ("b.wav", 8_000, 200.0, "chainsaw", "test"),
        ],
    );
    let dataset = datasets::load(Task::AudioClassification, &set).unwrap();
    let files = local_model_files(&model_dir, "tiny-silero").unwrap();
    let load = |settings: &str| {
        runners::load(
            &entry(&model_dir, settings),
            Task::AudioClassification,
            &files,
            &dataset,
            &opts(dir.path()),
        )
        .err()
        .map(|e| format!("{e:#}"))
    };
    let e = load("").unwrap();
    assert!(e.contains("label \"chainsaw\""), "{e}");
    assert!(e.contains("speech, non-speech"), "{e}");
    // With the dataset's own names for the two classes it loads.
    assert_eq!(load("labels = [\"speech\", \"chainsaw\"]"), None);
    let e = load("labels = [\"speech\"]").unwrap();
    assert!(e.contains("exactly 2 labels"), "{e}");
}

/// Parity with the `silero-vad` package's TorchScript model (`audio_forward`), on the real
/// weights, over the LibriVox and `cards` utterances of `pocketsphinx-testdata` (speech with
/// pauses, so the probabilities span 0 to 1): needs the pip mirror in the cache
/// (`cargo run --release -- run --task audio-classification` fetches it; or point
/// `FRUGALBENCH_SILERO_VAD` at the file). Run with
/// `cargo test --release -p frugalbench-workloads --test silero_vad -- --ignored`.
#[test]
#[ignore = "needs the real silero_vad_16k.safetensors in the cache and pocketsphinx-testdata"]
fn real_weights_match_the_packages_torchscript_model() {
    let reference: serde_json::Value = serde_json::from_str(include_str!(
        "../../../tests/fixtures/silero_vad_reference.json"
    ))
    .unwrap();
    let weights = std::env::var_os("FRUGALBENCH_SILERO_VAD")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            frugalbench_workloads::fetch::default_cache_dir()
                .join("pip/silero-vad-6.2.3/unpacked/silero_vad/data/silero_vad_16k.safetensors")
        });
    let model = SileroVad::load(&weights, &Device::Cpu).unwrap();
    let root = Path::new(reference["root"].as_str().unwrap());
    let mut worst = 0f64;
    let mut windows = 0;
    for clip in reference["clips"].as_array().unwrap() {
        let file = clip["file"].as_str().unwrap();
        let samples =
            datasets::audio_classification::decode(&datasets::Media::File(root.join(file)))
                .unwrap();
        let got = model.window_probabilities(samples.samples()).unwrap();
        let want: Vec<f64> = clip["probabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(got.len(), want.len(), "{file}");
        let diff = got
            .iter()
            .zip(&want)
            .map(|(g, w)| (f64::from(*g) - w).abs())
            .fold(0.0, f64::max);
        eprintln!("{file}: {} windows, max |diff| {diff:.2e}", got.len());
        worst = worst.max(diff);
        windows += got.len();
    }
    eprintln!("{windows} windows in all, max |diff| {worst:.2e}");
    assert!(worst < 1e-4, "max |diff| {worst}");
}
