//! Two more uses of the tiny random-weight Whisper (offline): audio classification with its
//! encoder, mean-pooled over the frames that cover the clip, and a head fitted on the train
//! split (`runners/whisper_head.rs`); and the `quantize = "q8_0"` setting, which turns the
//! safetensors checkpoint into a GGUF file run by candle-transformers' quantized Whisper
//! (`fetch/quantize.rs`, `runners/whisper/net.rs`).

use std::path::{Path, PathBuf};

use candle_core::quantized::GgmlDType;
use candle_core::{Device, IndexOp};
use candle_transformers::models::whisper as w;
use frugalbench_workloads::audio::wav;
use frugalbench_workloads::catalogue::{ModelEntry, Source};
use frugalbench_workloads::datasets::{self, DatasetRows};
use frugalbench_workloads::fetch::{self, quantize, FetchEnv, FetchOptions};
use frugalbench_workloads::runners::whisper::{self, mel, net::WhisperNet};
use frugalbench_workloads::runners::{self, whisper_head};
use frugalbench_workloads::testing::bert::local_model_files;
use frugalbench_workloads::testing::whisper as tiny;
use frugalbench_workloads::{NoPhases, Prediction, RunnerOptions, Task};

fn entry(dir: &Path, task: Task, settings: &str) -> ModelEntry {
    ModelEntry {
        id: "tiny-whisper".into(),
        tasks: vec![task],
        arch: "whisper".into(),
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
        max_new_tokens: 10,
        temperature: 0.0,
        seed: 0,
    }
}

/// White noise from a fixed linear congruential generator.
fn noise(len: usize, seed: u32, amp: f32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            amp * ((s >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0)
        })
        .collect()
}

/// Tones vs noise: 4 + 4 train clips, 3 + 3 test clips, 0.5 to 2 s.
fn write_tone_noise_set(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir.join("clips")).unwrap();
    let mut jsonl = String::new();
    for i in 0..14u32 {
        let split = if i < 8 { "train" } else { "test" };
        let secs = 0.5 + 0.25 * (i % 7) as f32;
        let (label, pcm) = if i % 2 == 0 {
            let hz = 250.0 + 90.0 * i as f32;
            ("tone", wav::sine(hz, 16_000, secs))
        } else {
            ("noise", noise((16_000.0 * secs) as usize, i, 0.4))
        };
        let name = format!("c{i}.wav");
        std::fs::write(dir.join("clips").join(&name), wav::pcm16(&pcm, 16_000, 1)).unwrap();
        jsonl.push_str(&format!(
            "{{\"audio\": \"clips/{name}\", \"label\": \"{label}\", \"split\": \"{split}\"}}\n"
        ));
    }
    let p = dir.join("set.jsonl");
    std::fs::write(&p, jsonl).unwrap();
    p
}

#[test]
fn whisper_encoder_with_a_fitted_head_classifies_clips_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    tiny::write_tiny_whisper(&model, 21).unwrap();
    let set = datasets::load(
        Task::AudioClassification,
        &write_tone_noise_set(&dir.path().join("data")),
    )
    .unwrap();
    let files = local_model_files(&model, "tiny-whisper").unwrap();
    let cache = dir.path().join("cache");
    let e = entry(&model, Task::AudioClassification, "positive = \"tone\"");
    let mut runner =
        runners::load(&e, Task::AudioClassification, &files, &set, &opts(&cache)).unwrap();
    assert_eq!(runner.len(), 6);
    assert_eq!(runner.dtype(), "f32");
    let out = runner
        .run_batch(&[0, 1, 2, 3, 4, 5], &mut NoPhases)
        .unwrap();
    for o in &out {
        let Prediction::Label(l) = &o.prediction else {
            panic!("{:?}", o.prediction)
        };
        assert!(l == "tone" || l == "noise", "{l}");
        // Window mode: one 30-s window = 1,500 encoder positions.
        assert_eq!(o.input_tokens, 1500);
    }
    let q = runner.quality(&out).unwrap();
    eprintln!("tone vs noise: {q:?}");
    assert_eq!(q.metric, "accuracy");
    // Tones and white noise are far apart even through random weights.
    assert_eq!(q.value, 1.0, "{q:?}");
    assert_eq!(q.extra["macro_f1"], 1.0);
    assert_eq!((q.extra["precision"], q.extra["recall"]), (1.0, 1.0));
    // The head is cached with its provenance and offered to be saved beside the result.
    let head = runner
        .fitted_file()
        .expect("a fitted head file")
        .to_path_buf();
    assert!(head.starts_with(cache.join("heads")), "{}", head.display());
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&head).unwrap()).unwrap();
    assert_eq!(json["provenance"]["features"]["encoder_input"], "window");
    assert_eq!(json["provenance"]["train_rows"], 8);
    assert_eq!(json["head"]["labels"], serde_json::json!(["noise", "tone"]));
    assert_eq!(json["fit"]["train_accuracy"], 1.0);
    // A second load reuses it (same provenance): the file is not rewritten.
    let before = std::fs::metadata(&head).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let again = runners::load(&e, Task::AudioClassification, &files, &set, &opts(&cache)).unwrap();
    assert_eq!(again.fitted_file(), Some(head.as_path()));
    assert_eq!(
        std::fs::metadata(&head).unwrap().modified().unwrap(),
        before
    );
    // Another encoder input is another provenance: refitted into the same file name.
    let clip = entry(
        &model,
        Task::AudioClassification,
        "encoder_input = \"clip\"",
    );
    let mut r = runners::load(
        &clip,
        Task::AudioClassification,
        &files,
        &set,
        &opts(&cache),
    )
    .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&head).unwrap()).unwrap();
    assert_eq!(json["provenance"]["features"]["encoder_input"], "clip");
    let out = r.run_batch(&[0], &mut NoPhases).unwrap();
    // Test clip 0 is clip 8: 0.75 s = 75 mel frames, fed as 76, 38 encoder positions.
    assert_eq!(out[0].input_tokens, 38);
    // A bad setting is one clear error.
    let bad = entry(&model, Task::AudioClassification, "encoder_input = \"all\"");
    let err = runners::load(&bad, Task::AudioClassification, &files, &set, &opts(&cache))
        .err()
        .unwrap();
    assert!(
        format!("{err:#}").contains("encoder_input = \"all\""),
        "{err:#}"
    );
}

#[test]
fn pooling_averages_the_encoder_frames_that_cover_the_clip() {
    let dir = tempfile::tempdir().unwrap();
    tiny::write_tiny_whisper(dir.path(), 4).unwrap();
    let config = dir.path().join("config.json");
    let weights = dir.path().join("model.safetensors");
    let load =
        |input| whisper_head::WhisperEncoder::load(&config, &weights, input, &Device::Cpu).unwrap();
    let window = load(whisper_head::EncoderInput::Window);
    let clip = load(whisper_head::EncoderInput::Clip);
    assert_eq!(window.dim(), tiny::D);
    // 1.23 s = 19,680 samples: 123 mel frames, covered by 62 encoder frames.
    let pcm = noise(19_680, 5, 0.3);
    let (v, fed) = window.embed(&pcm).unwrap();
    assert_eq!(fed, 1500);
    // The same by hand: the encoder over the padded window, the mean of its first 62 frames.
    let cfg: w::Config = serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    let mut net = WhisperNet::load(&weights, &cfg, &Device::Cpu).unwrap();
    let logmel = mel::LogMel::new(16_000, tiny::MELS);
    let (m, frames) = logmel.compute(&pcm, w::N_SAMPLES);
    let x = whisper::mel_window(&m, tiny::MELS, frames, 0, 3000, &Device::Cpu).unwrap();
    let enc = net.encode(&x).unwrap();
    assert_eq!(enc.dims(), [1, 1500, tiny::D]);
    let want: Vec<f32> = enc
        .i((0, ..62))
        .unwrap()
        .mean(0)
        .unwrap()
        .to_vec1()
        .unwrap();
    let all: Vec<f32> = enc.i(0).unwrap().mean(0).unwrap().to_vec1().unwrap();
    let diff = |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max)
    };
    assert!(diff(&v, &want) < 1e-5, "{v:?} vs {want:?}");
    // The padding frames are left out: the mean over all 1,500 is another vector.
    assert!(diff(&v, &all) > 1e-3);
    // Clip mode runs only the clip's frames (124 mel frames, 62 positions).
    let (c, fed) = clip.embed(&pcm).unwrap();
    assert_eq!(fed, 62);
    assert_eq!(c.len(), tiny::D);
    // A 35-s clip is two windows in window mode: 1,500 + 250 covered frames.
    let long = wav::sine(300.0, 16_000, 35.0);
    let (_, fed) = window.embed(&long).unwrap();
    assert_eq!(fed, 3000);
    let (_, fed) = clip.embed(&long).unwrap();
    assert_eq!(fed, 1500 + 250);
    assert!(window.embed(&[]).is_err());
}

#[test]
fn a_test_label_the_train_split_lacks_is_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    tiny::write_tiny_whisper(&model, 2).unwrap();
    std::fs::write(
        dir.path().join("a.wav"),
        wav::pcm16(&wav::sine(300.0, 16_000, 0.5), 16_000, 1),
    )
    .unwrap();
    let p = dir.path().join("set.jsonl");
    std::fs::write(
        &p,
        "{\"audio\": \"a.wav\", \"label\": \"tone\", \"split\": \"train\"}\n{\"audio\": \"a.wav\", \"label\": \"bird\"}\n",
    )
    .unwrap();
    let set = datasets::load(Task::AudioClassification, &p).unwrap();
    let files = local_model_files(&model, "tiny-whisper").unwrap();
    let e = runners::load(
        &entry(&model, Task::AudioClassification, ""),
        Task::AudioClassification,
        &files,
        &set,
        &opts(dir.path()),
    )
    .err()
    .expect("an unseen test label must be refused");
    let e = format!("{e:#}");
    assert!(
        e.contains("\"bird\"") && e.contains("a.wav") && e.contains("train"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "{e}");
    let DatasetRows::AudioClassification { train, .. } = &set.rows else {
        panic!()
    };
    assert_eq!(train.len(), 1);
}

/// Tiny-fixture tensors that the Q8_0 rule quantizes: the 2-D `*.weight` matrices whose rows
/// split into 32-value blocks (only `fc2`, 8 × 32, in both stacks).
#[test]
fn q8_0_quantizes_whole_block_matrices_and_keeps_the_rest_f32() {
    assert!(quantize::quantizes(
        "model.decoder.layers.0.fc2.weight",
        &[8, 32],
        32
    ));
    assert!(!quantize::quantizes(
        "model.decoder.layers.0.fc2.bias",
        &[8],
        32
    ));
    assert!(!quantize::quantizes(
        "model.decoder.layers.0.fc1.weight",
        &[32, 8],
        32
    ));
    assert!(!quantize::quantizes(
        "model.encoder.conv1.weight",
        &[384, 80, 3],
        32
    ));
    assert!(!quantize::quantizes(
        "model.decoder.embed_positions.weight",
        &[448, 384],
        32
    ));
    assert!(quantize::quantizes(
        "model.decoder.embed_tokens.weight",
        &[51864, 384],
        32
    ));
    assert_eq!(quantize::parse_dtype("Q8_0").unwrap(), GgmlDType::Q8_0);
    let e = format!("{:#}", quantize::parse_dtype("q3").unwrap_err());
    assert!(e.contains("q3") && e.contains("q8_0"), "{e}");

    let dir = tempfile::tempdir().unwrap();
    tiny::write_tiny_whisper(dir.path(), 8).unwrap();
    let gguf = dir.path().join("model.gguf");
    let (q, kept) = quantize::quantize_file(
        &dir.path().join("model.safetensors"),
        &gguf,
        GgmlDType::Q8_0,
    )
    .unwrap();
    assert_eq!(q, 2);
    assert_eq!(q + kept, tiny::tiny_tensors(8).len());
    assert_eq!(whisper::net::gguf_dtype(&gguf).unwrap(), "q8_0");
}

/// The same tiny checkpoint through the f32 and the quantized model: the first-step logits
/// within 1% of the f32 logits' range (candle's Q8_0 matmul also rounds the activations to
/// 8 bits), and the same greedy tokens and transcripts on several clips.
#[test]
fn the_q8_0_model_decodes_the_same_tokens_as_f32() {
    let dir = tempfile::tempdir().unwrap();
    tiny::write_tiny_whisper(dir.path(), 13).unwrap();
    let gguf = dir.path().join("model.gguf");
    quantize::quantize_file(
        &dir.path().join("model.safetensors"),
        &gguf,
        GgmlDType::Q8_0,
    )
    .unwrap();
    let load = |weights: &Path| {
        whisper::Recognizer::load(
            &dir.path().join("config.json"),
            weights,
            &dir.path().join("tokenizer.json"),
            &whisper::RecognizerOptions {
                max_new_tokens: 12,
                ..Default::default()
            },
            &Device::Cpu,
        )
        .unwrap()
    };
    let mut f32m = load(&dir.path().join("model.safetensors"));
    let mut q8 = load(&gguf);
    assert_eq!(
        (f32m.dtype().as_str(), q8.dtype().as_str()),
        ("f32", "q8_0")
    );
    let mut worst = 0f32;
    for (i, pcm) in [
        wav::sine(440.0, 16_000, 1.0),
        noise(24_000, 3, 0.5),
        wav::sine(1200.0, 16_000, 2.5),
        noise(40_000, 9, 0.1),
    ]
    .iter()
    .enumerate()
    {
        let a = f32m.first_logits(pcm).unwrap();
        let b = q8.first_logits(pcm).unwrap();
        let d = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        let range =
            a.iter().copied().fold(f32::MIN, f32::max) - a.iter().copied().fold(f32::MAX, f32::min);
        eprintln!("clip {i}: max |logit difference| {d:.2e}, f32 logit range {range:.2}");
        worst = worst.max(d / range);
        assert!(d > 0.0, "clip {i}: the quantized weights changed nothing");
        assert_eq!(
            f32m.window_tokens(pcm).unwrap(),
            q8.window_tokens(pcm).unwrap(),
            "clip {i}"
        );
        assert_eq!(
            f32m.transcribe(pcm).unwrap(),
            q8.transcribe(pcm).unwrap(),
            "clip {i}"
        );
    }
    eprintln!("q8_0 vs f32: max |first-step logit difference| / range {worst:.2e}");
    assert!(worst < 0.01, "{worst}");
}

/// `quantize = "q8_0"` in the catalogue: the fetch quantizes once into the cache, lists
/// `model.gguf` (hashed) after the checkpoint's files, and the runners read it.
#[test]
fn the_quantize_setting_is_fetched_hashed_and_run() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    tiny::write_tiny_whisper(&model, 17).unwrap();
    let cache = dir.path().join("fb");
    let env = FetchEnv {
        cache: dir.path().join("empty-hub"),
        endpoint: Some("http://127.0.0.1:9".into()),
        token: None,
        offline: true,
        timeout: std::time::Duration::from_secs(1),
        python: "python3".into(),
    };
    let fo = FetchOptions {
        cache_dir: cache.clone(),
        offline: true,
        verbose: false,
    };
    let e = entry(
        &model,
        Task::AutomaticSpeechRecognition,
        "quantize = \"q8_0\"",
    );
    let files = fetch::fetch_with(&e, &fo, &env).unwrap();
    let gguf = files.files.iter().find(|f| f.name == "model.gguf").unwrap();
    assert!(gguf.path.starts_with(cache.join("quantized")));
    assert_eq!(gguf.sha256, fetch::sha256_file(&gguf.path).unwrap());
    assert!(files.files.iter().any(|f| f.name == "model.safetensors"));
    assert!(
        files.origin.contains("quantized to q8_0"),
        "{}",
        files.origin
    );
    let record: quantize::Quantization = serde_json::from_slice(
        &std::fs::read(gguf.path.with_file_name("quantization.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(record.sha256, gguf.sha256);
    assert_eq!(
        record.source_sha256,
        fetch::sha256_file(&model.join("model.safetensors")).unwrap()
    );
    assert_eq!((record.dtype.as_str(), record.quantized), ("q8_0", 2));
    // Reused: the same file and hash the second time.
    let again = fetch::fetch_with(&e, &fo, &env).unwrap();
    assert_eq!(again.files, files.files);
    // Speech recognition and audio classification both run it.
    let set = datasets::LoadedDataset {
        id: "t".into(),
        path: None,
        sha256: "0".repeat(64),
        rows: DatasetRows::Speech(vec![datasets::AsrRow {
            audio: datasets::Media::Bytes {
                bytes: wav::pcm16(&wav::sine(220.0, 16_000, 1.5), 16_000, 1).into(),
                name: "x.wav".into(),
            },
            text: "w3".into(),
            origin: "mem:1".into(),
        }]),
    };
    let mut r = runners::load(
        &e,
        Task::AutomaticSpeechRecognition,
        &files,
        &set,
        &opts(dir.path()),
    )
    .unwrap();
    assert_eq!(r.dtype(), "q8_0");
    assert_eq!(r.run_batch(&[0], &mut NoPhases).unwrap().len(), 1);
    let cls = datasets::load(
        Task::AudioClassification,
        &write_tone_noise_set(&dir.path().join("data")),
    )
    .unwrap();
    let r = runners::load(
        &e,
        Task::AudioClassification,
        &files,
        &cls,
        &opts(dir.path()),
    )
    .unwrap();
    assert_eq!(r.dtype(), "q8_0");
    // An unknown dtype is one error naming the model and the value.
    let bad = entry(
        &model,
        Task::AutomaticSpeechRecognition,
        "quantize = \"q9\"",
    );
    let err = format!("{:#}", fetch::fetch_with(&bad, &fo, &env).unwrap_err());
    assert!(err.contains("tiny-whisper") && err.contains("q9"), "{err}");
}

fn real_files(id: &str) -> (ModelEntry, fetch::ModelFiles) {
    let cat = frugalbench_workloads::catalogue::Catalogue::builtin().unwrap();
    let entry = cat.get(id).unwrap().clone();
    let files = fetch::fetch(&entry, &FetchOptions::default()).unwrap();
    (entry, files)
}

/// The real whisper-tiny.en's encoder over the clips' own frames + a head fitted on the shipped
/// clips' train split: accuracy on the test split. Needs the pip mirror (or the hub) and
/// pocketsphinx-testdata. Run with
/// `cargo test --release -p frugalbench-workloads --test whisper_variants -- --ignored --nocapture`.
#[test]
#[ignore = "needs the real whisper-tiny.en weights (pip mirror) and pocketsphinx-testdata"]
fn real_tiny_en_head_separates_speech_from_the_shipped_noises() {
    let (entry, files) = real_files("whisper-tiny-en-head-clip");
    let set = datasets::builtin(Task::AudioClassification).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut r = runners::load(
        &entry,
        Task::AudioClassification,
        &files,
        &set,
        &opts(cache.path()),
    )
    .unwrap();
    let items: Vec<usize> = (0..r.len()).collect();
    let out = r.run_batch(&items, &mut NoPhases).unwrap();
    let q = r.quality(&out).unwrap();
    eprintln!(
        "whisper-tiny-en-head-clip on {} test clips: {q:?}",
        items.len()
    );
    assert!(q.value >= 0.95, "{q:?}");
}

/// The real whisper-tiny.en quantized to Q8_0 against f32 on the pocketsphinx-testdata
/// utterances: the same word error rate within 0.02.
#[test]
#[ignore = "needs the real whisper-tiny.en weights (pip mirror) and pocketsphinx-testdata"]
fn real_tiny_en_q8_0_keeps_the_f32_word_error_rate() {
    let set = datasets::builtin(Task::AutomaticSpeechRecognition).unwrap();
    let wer = |id: &str| {
        let (entry, files) = real_files(id);
        let cache = tempfile::tempdir().unwrap();
        let mut r = runners::load(
            &entry,
            Task::AutomaticSpeechRecognition,
            &files,
            &set,
            &opts(cache.path()),
        )
        .unwrap();
        let items: Vec<usize> = (0..r.len()).collect();
        let out = r.run_batch(&items, &mut NoPhases).unwrap();
        (r.dtype(), r.quality(&out).unwrap().value)
    };
    let (d32, w32) = wer("whisper-tiny-en");
    let (dq, wq) = wer("whisper-tiny-en-q8_0");
    eprintln!("WER {d32} {w32:.4}, {dq} {wq:.4}");
    assert_eq!((d32.as_str(), dq.as_str()), ("f32", "q8_0"));
    assert!((w32 - wq).abs() <= 0.02 && wq < 0.2, "{w32} vs {wq}");
}
