//! The default audio-classification set, written by the project: 3-second 16 kHz clips of
//! speech (windows cut from the LibriVox utterances of the Debian package
//! `pocketsphinx-testdata`) and of non-speech synthesised here with a fixed seed (coloured
//! noise, rain-like noise, an engine-like harmonic buzz with a rising and falling fundamental,
//! bird-like chirps, silence with hiss), in a train/test split.
//!
//! Nothing is shipped: [`builtin`] generates the set at first use into
//! `<cache>/datasets/audio-classification-v<GENERATOR_VERSION>/` (the clips as 16-bit WAV,
//! `audio-classification.jsonl`, and `manifest.json` with every file's sha256), and on later
//! runs checks every file against the manifest, regenerating the set when one differs. The
//! output depends only on the generator version, its seed and the LibriVox files: the same
//! machine writes the same bytes every time (the sha256 of the manifest names the whole set).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};

use super::audio_classification::SAMPLE_RATE;
use super::{LoadedDataset, Media};
use crate::Task;

/// Bumped whenever the generator's output changes; names the cache folder.
pub const GENERATOR_VERSION: u32 = 1;
/// The seed of every random choice.
pub const SEED: u64 = 0x5EED_A0D1_0C1A_5500;
/// Clip length, samples (3 s at 16 kHz).
pub const CLIP_SAMPLES: usize = 3 * SAMPLE_RATE as usize;
/// Where `pocketsphinx-testdata` installs the LibriVox utterances.
pub const LIBRIVOX_DIR: &str = "/usr/share/pocketsphinx/test/data/librivox";
/// The two labels.
pub const SPEECH: &str = "speech";
pub const NON_SPEECH: &str = "non-speech";
/// Speech clips per split.
pub const SPEECH_PER_SPLIT: usize = 50;
/// Non-speech clips per kind and split (5 kinds).
pub const NOISE_PER_KIND_AND_SPLIT: usize = 10;
/// The dataset file's name inside the set's folder.
pub const DATASET_FILE: &str = "audio-classification.jsonl";
/// The manifest's name inside the set's folder.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The LibriVox utterances of each split, by file name (whole utterances, so no sentence is
/// heard in both splits; about 12.4 s of speech each).
pub const TRAIN_UTTERANCES: [&str; 2] = [
    "sense_and_sensibility_01_austen_64kb-0870.wav",
    "sense_and_sensibility_01_austen_64kb-0890.wav",
];
pub const TEST_UTTERANCES: [&str; 3] = [
    "sense_and_sensibility_01_austen_64kb-0880.wav",
    "sense_and_sensibility_01_austen_64kb-0920.wav",
    "sense_and_sensibility_01_austen_64kb-0930.wav",
];

/// One speech recording, 16 kHz mono.
#[derive(Debug, Clone)]
pub struct SpeechSource {
    /// File name (recorded in the rows).
    pub name: String,
    pub samples: Vec<f32>,
    /// sha256 of the file it was read from (recorded in the manifest).
    pub sha256: String,
}

/// Read the LibriVox utterances of `TRAIN_UTTERANCES` and `TEST_UTTERANCES` from `dir`.
pub fn read_librivox(dir: &Path) -> Result<(Vec<SpeechSource>, Vec<SpeechSource>)> {
    let read = |names: &[&str]| -> Result<Vec<SpeechSource>> {
        names
            .iter()
            .map(|name| {
                let path = dir.join(name);
                let bytes = std::fs::read(&path).with_context(|| {
                    format!(
                        "the default audio-classification set is cut from the LibriVox \
                         utterances of the Debian package pocketsphinx-testdata, and {} cannot \
                         be read (install it with `apt-get install pocketsphinx-testdata`, or \
                         give your own set with --dataset FILE)",
                        path.display()
                    )
                })?;
                let clip = super::audio_classification::decode(&Media::File(path.clone()))
                    .with_context(|| format!("decoding {}", path.display()))?;
                Ok(SpeechSource {
                    name: name.to_string(),
                    samples: clip.samples().to_vec(),
                    sha256: hex::encode(Sha256::digest(&bytes)),
                })
            })
            .collect()
    };
    Ok((read(&TRAIN_UTTERANCES)?, read(&TEST_UTTERANCES)?))
}

/// The folder of the generated set under a cache folder.
pub fn set_dir(cache: &Path) -> PathBuf {
    cache
        .join("datasets")
        .join(format!("audio-classification-v{GENERATOR_VERSION}"))
}

/// The default audio-classification set (`frugalbench/audio-classification`): generated at
/// first use into the cache ([`crate::fetch::default_cache_dir`]), checked against its
/// manifest afterwards.
pub fn builtin() -> Result<LoadedDataset> {
    let dir = ensure_set(&crate::fetch::default_cache_dir(), Path::new(LIBRIVOX_DIR))?;
    let mut d = super::load(Task::AudioClassification, &dir.join(DATASET_FILE))?;
    d.id = "frugalbench/audio-classification".to_string();
    Ok(d)
}

/// The set's folder under `cache`, generated from the LibriVox files in `librivox` when it is
/// missing or does not match its manifest.
pub fn ensure_set(cache: &Path, librivox: &Path) -> Result<PathBuf> {
    let dir = set_dir(cache);
    if dir.join(MANIFEST_FILE).is_file() {
        match verify(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) => {
                eprintln!(
                    "frugalbench: the generated audio set {} does not match its manifest ({e:#}); generating it again",
                    dir.display()
                );
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("removing {}", dir.display()))?;
            }
        }
    }
    let (train, test) = read_librivox(librivox)?;
    let parent = dir.parent().expect("set_dir has a parent");
    std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix(".audio-classification-")
        .tempdir_in(parent)
        .with_context(|| format!("creating a folder in {}", parent.display()))?;
    eprintln!(
        "frugalbench: generating the default audio-classification set (200 clips of 3 s) in {}",
        dir.display()
    );
    generate(&train, &test, tmp.path())?;
    let tmp = tmp.keep();
    if let Err(e) = std::fs::rename(&tmp, &dir) {
        // Another process may have finished first: use its set if it checks out.
        let _ = std::fs::remove_dir_all(&tmp);
        verify(&dir).with_context(|| format!("moving the set into {}: {e}", dir.display()))?;
    }
    Ok(dir)
}

/// Check every file listed in the set's manifest against its sha256.
pub fn verify(dir: &Path) -> Result<()> {
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join(MANIFEST_FILE))
            .with_context(|| format!("reading {}", dir.join(MANIFEST_FILE).display()))?,
    )
    .context("the manifest is not JSON")?;
    ensure!(
        manifest["generator_version"].as_u64() == Some(u64::from(GENERATOR_VERSION)),
        "the manifest is from another generator version"
    );
    let files = manifest["files"]
        .as_array()
        .context("the manifest lists no files")?;
    ensure!(!files.is_empty(), "the manifest lists no files");
    for f in files {
        let (Some(path), Some(want)) = (f["path"].as_str(), f["sha256"].as_str()) else {
            bail!("a manifest entry lacks path or sha256");
        };
        ensure!(
            !path.contains("..") && !Path::new(path).is_absolute(),
            "manifest path {path:?} leaves the folder"
        );
        let bytes = std::fs::read(dir.join(path)).with_context(|| format!("reading {path}"))?;
        let got = hex::encode(Sha256::digest(&bytes));
        ensure!(
            got == want,
            "{path}: sha256 {got}, the manifest says {want}"
        );
    }
    Ok(())
}

/// Write the set into `out` (an existing, empty folder): `clips/*.wav`, [`DATASET_FILE`] and
/// [`MANIFEST_FILE`]. Returns the manifest's sha256, which names the whole set.
pub fn generate(train: &[SpeechSource], test: &[SpeechSource], out: &Path) -> Result<String> {
    std::fs::create_dir_all(out.join("clips"))?;
    let mut rows = Vec::new();
    let mut files = Vec::new();
    let mut write_clip = |name: String,
                          samples: &[f32],
                          label: &str,
                          split: &str,
                          kind: String|
     -> Result<()> {
        let rel = format!("clips/{name}.wav");
        let bytes = wav_bytes(samples)?;
        std::fs::write(out.join(&rel), &bytes).with_context(|| format!("writing {rel}"))?;
        files.push(serde_json::json!({"path": rel, "sha256": hex::encode(Sha256::digest(&bytes))}));
        rows.push(serde_json::json!({"audio": rel, "label": label, "split": split, "kind": kind}));
        Ok(())
    };
    for (split, sources, salt) in [("train", train, 1u64), ("test", test, 2)] {
        let mut rng = ChaCha8Rng::seed_from_u64(SEED ^ (salt << 32));
        for (i, (clip, kind)) in speech_windows(sources, SPEECH_PER_SPLIT, &mut rng)?
            .into_iter()
            .enumerate()
        {
            write_clip(format!("{split}-speech-{i:03}"), &clip, SPEECH, split, kind)?;
        }
        for (k, kind) in NoiseKind::ALL.iter().enumerate() {
            for i in 0..NOISE_PER_KIND_AND_SPLIT {
                let mut rng = ChaCha8Rng::seed_from_u64(
                    SEED ^ (salt << 32) ^ ((k as u64 + 1) << 16) ^ i as u64,
                );
                let clip = kind.generate(&mut rng);
                write_clip(
                    format!("{split}-{}-{i:02}", kind.name()),
                    &clip,
                    NON_SPEECH,
                    split,
                    kind.name().to_string(),
                )?;
            }
        }
    }
    let mut jsonl = Vec::new();
    for r in &rows {
        serde_json::to_writer(&mut jsonl, r)?;
        jsonl.push(b'\n');
    }
    std::fs::write(out.join(DATASET_FILE), &jsonl)?;
    files.push(
        serde_json::json!({"path": DATASET_FILE, "sha256": hex::encode(Sha256::digest(&jsonl))}),
    );
    let sources: Vec<_> = train
        .iter()
        .chain(test)
        .map(|s| serde_json::json!({"file": s.name, "sha256": s.sha256}))
        .collect();
    let manifest = serde_json::json!({
        "generator": "frugalbench speech_clips (crates/workloads/src/datasets/speech_clips.rs)",
        "generator_version": GENERATOR_VERSION,
        "seed": SEED,
        "sample_rate": SAMPLE_RATE,
        "clip_samples": CLIP_SAMPLES,
        "speech_sources": sources,
        "files": files,
    });
    let bytes = serde_json::to_vec_pretty(&manifest)?;
    let mut f = std::fs::File::create(out.join(MANIFEST_FILE))?;
    f.write_all(&bytes)?;
    f.sync_all()?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

/// 16-bit PCM mono WAV bytes at [`SAMPLE_RATE`] (samples clipped to [-1, 1]).
pub fn wav_bytes(samples: &[f32]) -> Result<Vec<u8>> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut w = hound::WavWriter::new(&mut cursor, spec)?;
        for s in samples {
            w.write_sample((s.clamp(-1.0, 1.0) * 32767.0).round() as i16)?;
        }
        w.finalize()?;
    }
    Ok(cursor.into_inner())
}

/// `n` 3-second windows from the concatenated `sources`, evenly spaced from start to end,
/// each with a random gain (0.5–1.2) and a third of them with white noise added at 15–30 dB
/// SNR.
fn speech_windows(
    sources: &[SpeechSource],
    n: usize,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<(Vec<f32>, String)>> {
    let mut stream = Vec::new();
    let mut names = Vec::new();
    for s in sources {
        names.push((stream.len(), s.name.as_str()));
        stream.extend_from_slice(&s.samples);
    }
    ensure!(
        stream.len() >= CLIP_SAMPLES,
        "the speech recordings last {:.2} s together; at least 3 s are needed",
        stream.len() as f64 / f64::from(SAMPLE_RATE)
    );
    let span = stream.len() - CLIP_SAMPLES;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let start = if n > 1 { span * i / (n - 1) } else { 0 };
        let mut clip = stream[start..start + CLIP_SAMPLES].to_vec();
        let gain = rng.random_range(0.5..1.2f32);
        clip.iter_mut().for_each(|s| *s *= gain);
        let noisy = rng.random_range(0..3) == 0;
        let snr_db = rng.random_range(15.0..30.0f32);
        if noisy {
            let power = clip.iter().map(|s| s * s).sum::<f32>() / clip.len() as f32;
            let sigma = (power / 10f32.powf(snr_db / 10.0)).sqrt();
            clip.iter_mut().for_each(|s| *s += sigma * gaussian(rng));
        }
        let (from, name) = names
            .iter()
            .rev()
            .find(|(off, _)| *off <= start)
            .copied()
            .unwrap_or((0, ""));
        out.push((
            clip,
            format!(
                "librivox {name} from {:.2} s{}",
                (start - from) as f64 / f64::from(SAMPLE_RATE),
                if noisy {
                    format!(", white noise at {snr_db:.0} dB SNR")
                } else {
                    String::new()
                }
            ),
        ));
    }
    Ok(out)
}

/// A standard normal sample (Box–Muller).
fn gaussian(rng: &mut ChaCha8Rng) -> f32 {
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random::<f64>();
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}

/// The synthetic non-speech sounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoiseKind {
    /// White, pink or brown noise.
    Coloured,
    /// Droplets (short decaying noise bursts at random times) over a soft low-passed bed.
    Rain,
    /// A harmonic buzz whose fundamental rises and falls, with a firing-rate flutter.
    Engine,
    /// Short tonal sweeps between 2 and 6 kHz over a faint hiss.
    Birds,
    /// Near-silence: faint hiss, sometimes a mains hum.
    Hiss,
}

impl NoiseKind {
    pub const ALL: [NoiseKind; 5] = [
        NoiseKind::Coloured,
        NoiseKind::Rain,
        NoiseKind::Engine,
        NoiseKind::Birds,
        NoiseKind::Hiss,
    ];

    /// The name used in clip file names and the rows' `kind`.
    pub fn name(self) -> &'static str {
        match self {
            NoiseKind::Coloured => "coloured-noise",
            NoiseKind::Rain => "rain",
            NoiseKind::Engine => "engine",
            NoiseKind::Birds => "birds",
            NoiseKind::Hiss => "hiss",
        }
    }

    /// One 3-second clip.
    pub fn generate(self, rng: &mut ChaCha8Rng) -> Vec<f32> {
        let n = CLIP_SAMPLES;
        let sr = f64::from(SAMPLE_RATE);
        let mut x = vec![0f32; n];
        match self {
            NoiseKind::Coloured => {
                let colour = rng.random_range(0..3);
                let level = rng.random_range(0.03..0.25f32);
                // Pink: Paul Kellet's economy filter; brown: leaky integration of white noise.
                let (mut b0, mut b1, mut b2, mut brown) = (0f32, 0f32, 0f32, 0f32);
                for v in x.iter_mut() {
                    let w = gaussian(rng);
                    *v = match colour {
                        0 => w,
                        1 => {
                            b0 = 0.99765 * b0 + w * 0.0990460;
                            b1 = 0.96300 * b1 + w * 0.2965164;
                            b2 = 0.57000 * b2 + w * 1.0526913;
                            (b0 + b1 + b2 + w * 0.1848) * 0.3
                        }
                        _ => {
                            brown = 0.995 * brown + w * 0.1;
                            brown
                        }
                    };
                }
                normalise(&mut x, level);
            }
            NoiseKind::Rain => {
                let level = rng.random_range(0.05..0.3f32);
                // A low-passed bed.
                let mut lp = 0f32;
                for v in x.iter_mut() {
                    lp = 0.9 * lp + 0.1 * gaussian(rng);
                    *v = 0.3 * lp;
                }
                // Droplets: 100–400 per second, each a burst of noise decaying in 1–8 ms.
                let rate = rng.random_range(100.0..400.0f64);
                let drops = (rate * n as f64 / sr) as usize;
                for _ in 0..drops {
                    let at = rng.random_range(0..n);
                    let amp = rng.random_range(0.1..1.0f32);
                    let tau = rng.random_range(0.001..0.008f64) * sr;
                    let len = ((tau * 5.0) as usize).min(n - at);
                    for k in 0..len {
                        x[at + k] += amp * (-(k as f64) / tau).exp() as f32 * gaussian(rng);
                    }
                }
                normalise(&mut x, level);
            }
            NoiseKind::Engine => {
                let level = rng.random_range(0.05..0.3f32);
                let f0 = rng.random_range(30.0..90.0f64);
                let depth = rng.random_range(0.2..0.8f64);
                let period = rng.random_range(1.5..3.0f64);
                let harmonics = rng.random_range(8..25);
                let cylinders = rng.random_range(2.0..8.0f64);
                let mut phase = 0f64;
                for (i, v) in x.iter_mut().enumerate() {
                    let t = i as f64 / sr;
                    // Rises then falls (one slow sine period over 1.5–3 s).
                    let f = f0 * (1.0 + depth * (std::f64::consts::TAU * t / period).sin());
                    phase += std::f64::consts::TAU * f / sr;
                    let mut s = 0.0;
                    for h in 1..=harmonics {
                        s += (phase * h as f64).sin() / h as f64;
                    }
                    // Firing-rate flutter.
                    let flutter = 0.7 + 0.3 * (phase * cylinders / 2.0).sin();
                    *v = (s * flutter) as f32 + 0.05 * gaussian(rng);
                }
                normalise(&mut x, level);
            }
            NoiseKind::Birds => {
                let level = rng.random_range(0.05..0.3f32);
                for v in x.iter_mut() {
                    *v = 0.01 * gaussian(rng);
                }
                let mut at = rng.random_range(0..(sr * 0.3) as usize);
                while at < n {
                    let len = ((rng.random_range(0.03..0.15f64)) * sr) as usize;
                    let f_start = rng.random_range(2000.0..6000.0f64);
                    let f_end = rng.random_range(2000.0..6000.0f64);
                    let trill = rng.random_range(0.0..60.0f64);
                    let mut phase = 0f64;
                    for k in 0..len.min(n - at) {
                        let u = k as f64 / len as f64;
                        let f = f_start
                            + (f_end - f_start) * u
                            + 300.0 * (std::f64::consts::TAU * trill * k as f64 / sr).sin();
                        phase += std::f64::consts::TAU * f / sr;
                        let env = (std::f64::consts::PI * u).sin().powi(2);
                        x[at + k] += (env * phase.sin()) as f32;
                    }
                    at += len + rng.random_range((0.05 * sr) as usize..(0.5 * sr) as usize);
                }
                normalise(&mut x, level);
            }
            NoiseKind::Hiss => {
                let level = rng.random_range(0.001..0.01f32);
                let hum = rng.random_range(0..2) == 1;
                let mains = if rng.random_range(0..2) == 0 {
                    50.0
                } else {
                    60.0
                };
                for (i, v) in x.iter_mut().enumerate() {
                    let t = i as f64 / sr;
                    *v = gaussian(rng)
                        + if hum {
                            (0.5 * (std::f64::consts::TAU * mains * t).sin()) as f32
                        } else {
                            0.0
                        };
                }
                normalise(&mut x, level);
            }
        }
        x
    }
}

/// Scale to the given RMS level.
fn normalise(x: &mut [f32], rms: f32) {
    let now = (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt();
    if now > 0.0 {
        let g = rms / now;
        x.iter_mut().for_each(|v| *v *= g);
    }
}
