//! Speech recognition end to end on a tiny random-weight Whisper written by code (offline),
//! the CTranslate2 mirror path (a tiny `model.bin` converted back to the HF checkpoint), bad
//! audio refused before metering, and (ignored: needs the real weights and Debian's
//! pocketsphinx-testdata) parity of the real tiny.en with faster-whisper/CTranslate2.

use std::path::{Path, PathBuf};

use candle_core::Device;
use frugalbench_workloads::audio::wav;
use frugalbench_workloads::catalogue::{Catalogue, ModelEntry, Source};
use frugalbench_workloads::datasets::{self, DatasetRows, LoadedDataset};
use frugalbench_workloads::fetch::{self, ct2_whisper, FetchEnv, FetchOptions};
use frugalbench_workloads::runners::{self, whisper};
use frugalbench_workloads::testing::bert::local_model_files;
use frugalbench_workloads::testing::whisper as tiny;
use frugalbench_workloads::{NoPhases, Prediction, RunnerOptions, Task};

fn entry(dir: &Path) -> ModelEntry {
    ModelEntry {
        id: "tiny-whisper".into(),
        tasks: vec![Task::AutomaticSpeechRecognition],
        arch: "whisper".into(),
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
        max_new_tokens: 10,
        temperature: 0.0,
        seed: 0,
    }
}

/// A JSONL set in `dir`: a 1-s 16 kHz tone and a 35-s 8 kHz tone (two 30-s windows, resampled).
fn write_dataset(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir.join("clips")).unwrap();
    std::fs::write(
        dir.join("clips/a.wav"),
        wav::pcm16(&wav::sine(440.0, 16_000, 1.0), 16_000, 1),
    )
    .unwrap();
    std::fs::write(
        dir.join("clips/b.wav"),
        wav::pcm16(&wav::sine(300.0, 8_000, 35.0), 8_000, 1),
    )
    .unwrap();
    let p = dir.join("set.jsonl");
    std::fs::write(
        &p,
        "{\"audio\": \"clips/a.wav\", \"text\": \"w1 w2\"}\n{\"audio\": \"clips/b.wav\", \"text\": \"Three, four!\"}\n",
    )
    .unwrap();
    p
}

#[test]
fn a_tiny_whisper_transcribes_a_dataset_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    tiny::write_tiny_whisper(&model, 7).unwrap();
    let set = datasets::load(Task::AutomaticSpeechRecognition, &write_dataset(dir.path())).unwrap();
    let files = local_model_files(&model, "tiny-whisper").unwrap();
    let mut runner = runners::load(
        &entry(&model),
        Task::AutomaticSpeechRecognition,
        &files,
        &set,
        &opts(dir.path()),
    )
    .unwrap();
    assert_eq!(runner.len(), 2);
    let out = runner.run_batch(&[0, 1], &mut NoPhases).unwrap();
    assert_eq!(out.len(), 2);
    for o in &out {
        let Prediction::Text(t) = &o.prediction else {
            panic!("{:?}", o.prediction)
        };
        // Random weights: some words of the tiny vocabulary or none, never special tokens.
        assert!(!t.contains("<|"), "{t}");
        assert!(o.output_tokens >= 1);
    }
    // The 35-s clip is read as two windows: more tokens than one window's cap allows.
    assert!(out[1].output_tokens > out[0].output_tokens || out[1].output_tokens >= 2);
    assert_eq!(runner.audio_seconds(0), Some(1.0));
    let b = runner.audio_seconds(1).unwrap();
    assert!((b - 35.0).abs() < 0.01, "{b}");
    // Deterministic (greedy).
    let again = runner.run_batch(&[0, 1], &mut NoPhases).unwrap();
    assert_eq!(
        format!(
            "{:?}",
            out.iter().map(|o| &o.prediction).collect::<Vec<_>>()
        ),
        format!(
            "{:?}",
            again.iter().map(|o| &o.prediction).collect::<Vec<_>>()
        )
    );
    let q = runner.quality(&out).unwrap();
    assert_eq!(q.metric, "wer");
    assert!(q.value.is_finite() && q.value >= 0.0);
    assert_eq!(q.extra["reference_words"], 4.0);
    assert_eq!(runner.token_cap(), Some(whisper::DEFAULT_MAX_NEW_TOKENS));
}

#[test]
fn windows_and_prompts_follow_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    tiny::write_tiny_whisper(dir.path(), 3).unwrap();
    let load = |multilingual: Option<bool>, max_new_tokens: usize| {
        whisper::Recognizer::load(
            &dir.path().join("config.json"),
            &dir.path().join("model.safetensors"),
            &dir.path().join("tokenizer.json"),
            &whisper::RecognizerOptions {
                max_new_tokens,
                language: "en".into(),
                multilingual,
            },
            &Device::Cpu,
        )
        .unwrap()
    };
    // English-only (small vocabulary): <|startoftranscript|> <|notimestamps|>.
    let r = load(None, 3);
    assert!(!r.is_multilingual());
    assert_eq!(r.prompt(), [51, 58]);
    // Multilingual: language and task tokens.
    let mut r = load(Some(true), 3);
    assert_eq!(r.prompt(), [51, 52, 54, 58]);
    let pcm = wav::sine(200.0, 16_000, 61.0);
    let t = r.transcribe(&pcm).unwrap();
    assert_eq!(t.windows, 3, "61 s = three 30-s windows");
    assert!(t.tokens <= 3 * 3, "the cap holds per window: {}", t.tokens);
    let logits = r.first_logits(&pcm).unwrap();
    assert_eq!(logits.len(), tiny::VOCAB);
}

#[test]
fn bad_audio_is_refused_at_load_naming_row_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    tiny::write_tiny_whisper(&model, 1).unwrap();
    std::fs::write(
        dir.path().join("ok.wav"),
        wav::pcm16(&[0.1; 1600], 16_000, 1),
    )
    .unwrap();
    let mut cut = wav::pcm16(&[0.1; 1600], 16_000, 1);
    cut.truncate(cut.len() - 400);
    std::fs::write(dir.path().join("cut.wav"), cut).unwrap();
    std::fs::write(
        dir.path().join("notes.wav"),
        b"these are notes, not sound\n".repeat(9),
    )
    .unwrap();
    let files = local_model_files(&model, "tiny-whisper").unwrap();
    for (bad, what) in [
        ("cut.wav", "truncated"),
        ("notes.wav", "not a recognised audio file"),
    ] {
        let p = dir.path().join("set.jsonl");
        std::fs::write(
            &p,
            format!("{{\"audio\": \"ok.wav\", \"text\": \"a\"}}\n{{\"audio\": \"{bad}\", \"text\": \"b\"}}\n"),
        )
        .unwrap();
        let set = datasets::load(Task::AutomaticSpeechRecognition, &p).unwrap();
        let e = runners::load(
            &entry(&model),
            Task::AutomaticSpeechRecognition,
            &files,
            &set,
            &opts(dir.path()),
        )
        .err()
        .expect("bad audio must be refused");
        let e = format!("{e:#}");
        assert!(
            e.contains("set.jsonl:2") && e.contains(bad) && e.contains(what),
            "{e}"
        );
    }
}

#[test]
fn a_ctranslate2_model_converts_back_to_the_hf_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let ct2 = dir.path().join("ct2");
    tiny::write_tiny_ct2(&ct2, 5, false).unwrap();
    let out = dir.path().join("hf");
    let shapes =
        ct2_whisper::convert(&ct2.join("model.bin"), Some(&ct2.join("config.json")), &out).unwrap();
    assert_eq!(
        (shapes.d_model, shapes.encoder_layers, shapes.decoder_layers),
        (tiny::D, 1, 1)
    );
    assert_eq!(shapes.vocab_size, tiny::VOCAB);
    assert_eq!(shapes.decoder_attention_heads, tiny::HEADS);
    let got = candle_core::safetensors::load(out.join("model.safetensors"), &Device::Cpu).unwrap();
    let want = tiny::tiny_tensors(5);
    // Every HF tensor back, exactly (float32), including the split q/k/v projections.
    for (name, (shape, values)) in &want {
        let t = got.get(name).unwrap_or_else(|| panic!("missing {name}"));
        assert_eq!(t.dims(), shape.as_slice(), "{name}");
        let v: Vec<f32> = t.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(&v, values, "{name}");
    }
    // No k bias was invented.
    assert!(!got.keys().any(|k| k.ends_with("k_proj.bias")));
    assert_eq!(got.len(), want.len());
    let cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(cfg["max_target_positions"], tiny::TARGET_POSITIONS);
    assert_eq!(cfg["num_mel_bins"], tiny::MELS);

    // A float16 conversion runs through Candle with nearly the same logits as the original.
    let hf = dir.path().join("orig");
    tiny::write_tiny_whisper(&hf, 5).unwrap();
    let ct16 = dir.path().join("ct16");
    tiny::write_tiny_ct2(&ct16, 5, true).unwrap();
    let out16 = dir.path().join("hf16");
    ct2_whisper::convert(&ct16.join("model.bin"), None, &out16).unwrap();
    std::fs::copy(hf.join("tokenizer.json"), out16.join("tokenizer.json")).unwrap();
    let logits = |d: &Path| {
        whisper::Recognizer::load(
            &d.join("config.json"),
            &d.join("model.safetensors"),
            &d.join("tokenizer.json"),
            &whisper::RecognizerOptions::default(),
            &Device::Cpu,
        )
        .unwrap()
        .first_logits(&wav::sine(500.0, 16_000, 2.0))
        .unwrap()
    };
    let (a, b) = (logits(&hf), logits(&out16));
    let diff = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max);
    assert!(diff < 0.05, "float16 conversion moved the logits by {diff}");
}

#[test]
fn a_ctranslate2_mirror_is_fetched_converted_and_hashed() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("fb");
    let unpacked = cache.join("pip/tiny-ct2-1.0/unpacked/tiny_ct2/model");
    tiny::write_tiny_ct2(&unpacked, 9, true).unwrap();
    let text = "[[model]]\nid = \"w\"\ntask = \"automatic-speech-recognition\"\narch = \"whisper\"\n\
        hf = { repo = \"org/whisper\", revision = \"main\", files = [\"config.json\", \"model.safetensors\", \"tokenizer.json\"] }\n\
        mirror = { pip = \"tiny-ct2==1.0\", path = \"tiny_ct2/model\", format = \"ctranslate2\" }\n";
    let cat = Catalogue::parse(text, Path::new("t/models.toml"), dir.path()).unwrap();
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
    let files = fetch::fetch_with(&cat.models[0], &fo, &env).unwrap();
    let names: Vec<&str> = files.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "config.json",
            "model.safetensors",
            "tokenizer.json",
            "ctranslate2/model.bin",
            "ctranslate2/config.json"
        ]
    );
    assert!(files.origin.contains("pip:tiny-ct2==1.0") && files.origin.contains("converted"));
    assert!(files
        .files
        .iter()
        .all(|f| f.sha256.len() == 64 && f.bytes > 0));
    // The converted model runs.
    let set = LoadedDataset {
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
        &cat.models[0],
        Task::AutomaticSpeechRecognition,
        &files,
        &set,
        &opts(dir.path()),
    )
    .unwrap();
    assert_eq!(r.run_batch(&[0], &mut NoPhases).unwrap().len(), 1);
    // A second fetch reuses the conversion (same files, same hashes).
    let again = fetch::fetch_with(&cat.models[0], &fo, &env).unwrap();
    assert_eq!(again.files, files.files);
}

/// The real whisper-tiny.en (pip mirror, converted) against faster-whisper/CTranslate2 on a
/// LibriVox clip: mel spectrogram and first-step logits (reference from
/// `scripts/whisper_reference.py`, in tests/fixtures/whisper_tiny_en_reference.json), and the
/// WER on the whole pocketsphinx-testdata set. Needs the mirror (pip) and
/// `apt-get install pocketsphinx-testdata`. Run with
/// `cargo test --release -p frugalbench-workloads --test whisper -- --ignored --nocapture`.
#[test]
#[ignore = "needs the real whisper-tiny.en weights (pip mirror) and pocketsphinx-testdata"]
fn real_tiny_en_matches_faster_whisper() {
    let reference: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/whisper_tiny_en_reference.json")).unwrap();
    let floats = |k: &str| -> Vec<f32> {
        reference[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect()
    };
    let cat = Catalogue::builtin().unwrap();
    let entry = cat.get("whisper-tiny-en").unwrap();
    let files = fetch::fetch(entry, &FetchOptions::default()).unwrap();
    let wav_path = Path::new(datasets::asr::POCKETSPHINX_DATA)
        .join("librivox")
        .join(reference["wav"].as_str().unwrap());
    let pcm =
        frugalbench_workloads::audio::load_mono(&datasets::Media::File(wav_path), 16_000).unwrap();
    assert_eq!(pcm.len() as u64, reference["samples"].as_u64().unwrap());
    let mut r = whisper::Recognizer::load(
        files.file("config.json").unwrap(),
        files.file("model.safetensors").unwrap(),
        files.file("tokenizer.json").unwrap(),
        &whisper::RecognizerOptions::default(),
        &Device::Cpu,
    )
    .unwrap();
    let (mel, frames) = r.log_mel(&pcm);
    let row0: Vec<f32> = mel[..20].to_vec();
    let frame100: Vec<f32> = (0..20).map(|m| mel[m * frames + 100]).collect();
    let content = reference["mel_content_frames"].as_u64().unwrap() as usize;
    let part: Vec<f32> = (0..80)
        .flat_map(|m| mel[m * frames..m * frames + content].to_vec())
        .collect();
    let mean = part.iter().sum::<f32>() / part.len() as f32;
    let max = part.iter().copied().fold(f32::MIN, f32::max);
    let md = |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max)
    };
    let d_row0 = md(&row0, &floats("mel_row0_first20"));
    let d_frame = md(&frame100, &floats("mel_frame100_first20_bins"));
    let d_mean = (mean - reference["mel_content_mean"].as_f64().unwrap() as f32).abs();
    let d_max = (max - reference["mel_content_max"].as_f64().unwrap() as f32).abs();
    eprintln!("mel: max |diff| row0 {d_row0:.2e}, frame 100 {d_frame:.2e}, mean {d_mean:.2e}, max {d_max:.2e}");
    assert!(d_row0 < 1e-3 && d_frame < 1e-3 && d_mean < 1e-4 && d_max < 1e-4);

    let logits = r.first_logits(&pcm).unwrap();
    let mut order: Vec<usize> = (0..logits.len()).collect();
    order.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
    let want_ids: Vec<usize> = reference["first_step_top10_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let want = floats("first_step_top10_values");
    let got: Vec<f32> = want_ids.iter().map(|&i| logits[i]).collect();
    let d_logits = md(&got, &want);
    eprintln!(
        "first-step top-10: ours {:?}\n  reference {want_ids:?}; max |diff| {d_logits:.2e}",
        &order[..10]
    );
    assert_eq!(order[..5], want_ids[..5]);
    assert!(d_logits < 0.02, "{d_logits}");

    let t = r.transcribe(&pcm).unwrap();
    let ref_tokens: Vec<u32> = reference["greedy_tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u32)
        .collect();
    eprintln!(
        "transcript: {:?} ({} tokens with end-of-text; faster-whisper's greedy: {} tokens)",
        t.text,
        t.tokens,
        ref_tokens.len()
    );
    // The same greedy tokens as CTranslate2 (which does not return the end-of-text token).
    assert_eq!(t.tokens, ref_tokens.len() + 1);
    let ids = r.window_tokens(&pcm).unwrap();
    assert_eq!(ids[..ids.len() - 1], ref_tokens[..]);

    // WER over the whole default set.
    let set = datasets::builtin(Task::AutomaticSpeechRecognition).unwrap();
    let mut runner = runners::load(
        entry,
        Task::AutomaticSpeechRecognition,
        &files,
        &set,
        &opts(Path::new("/tmp")),
    )
    .unwrap();
    let items: Vec<usize> = (0..runner.len()).collect();
    let out = runner.run_batch(&items, &mut NoPhases).unwrap();
    for o in &out {
        eprintln!("  {}: {:?}", o.item, o.prediction);
    }
    let q = runner.quality(&out).unwrap();
    eprintln!("WER on {}: {:.4} ({:?})", set.id, q.value, q.extra);
    assert!(q.value < 0.25, "WER {}", q.value);
}
