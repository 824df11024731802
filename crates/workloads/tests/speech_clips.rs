//! The default audio-classification set's generator: deterministic (the same bytes twice),
//! checked against its manifest, regenerated when a file changes, and loadable as a dataset.
//! Speech comes from stand-in "LibriVox" files written here, so the test needs neither the
//! Debian package nor the cache.

use std::path::Path;

use frugalbench_workloads::datasets::speech_clips::{
    ensure_set, generate, read_librivox, set_dir, verify, wav_bytes, NoiseKind, DATASET_FILE,
    MANIFEST_FILE, NON_SPEECH, SPEECH, TEST_UTTERANCES, TRAIN_UTTERANCES,
};
use frugalbench_workloads::datasets::{self, DatasetRows};
use frugalbench_workloads::Task;
use rand::SeedableRng;

/// Stand-ins for the LibriVox utterances: 4–7 s of a voiced-like buzz.
fn write_fake_librivox(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for (i, name) in TRAIN_UTTERANCES.iter().chain(&TEST_UTTERANCES).enumerate() {
        let len = 16_000 * (4 + i % 4);
        let samples: Vec<f32> = (0..len)
            .map(|n| {
                let t = n as f32 / 16_000.0;
                0.3 * (t * 140.0 * std::f32::consts::TAU).sin() * (t * 4.0).sin().abs()
            })
            .collect();
        std::fs::write(dir.join(name), wav_bytes(&samples).unwrap()).unwrap();
    }
}

fn tree_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for sub in [dir.to_path_buf(), dir.join("clips")] {
        for e in std::fs::read_dir(&sub).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_generator_writes_the_same_bytes_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let lv = tmp.path().join("librivox");
    write_fake_librivox(&lv);
    let (train, test) = read_librivox(&lv).unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let sha_a = generate(&train, &test, &a).unwrap();
    let sha_b = generate(&train, &test, &b).unwrap();
    assert_eq!(sha_a, sha_b);
    let (ta, tb) = (tree_bytes(&a), tree_bytes(&b));
    assert_eq!(ta.len(), 202, "200 clips, the dataset and the manifest");
    assert!(ta == tb, "the two sets differ");
    verify(&a).unwrap();
    // Each kind differs from clip to clip (the seed moves on).
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let one = NoiseKind::Birds.generate(&mut rng);
    let two = NoiseKind::Birds.generate(&mut rng);
    assert_eq!(one.len(), 48_000);
    assert_ne!(one, two);
}

#[test]
fn the_set_loads_balanced_and_is_regenerated_when_a_clip_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let lv = tmp.path().join("librivox");
    write_fake_librivox(&lv);
    let cache = tmp.path().join("cache");
    let dir = ensure_set(&cache, &lv).unwrap();
    assert_eq!(dir, set_dir(&cache));
    let d = datasets::load(Task::AudioClassification, &dir.join(DATASET_FILE)).unwrap();
    let DatasetRows::AudioClassification { train, test } = &d.rows else {
        panic!()
    };
    assert_eq!((train.len(), test.len()), (100, 100));
    for rows in [train, test] {
        let speech = rows.iter().filter(|r| r.label == SPEECH).count();
        assert_eq!(speech, 50);
        assert_eq!(rows.iter().filter(|r| r.label == NON_SPEECH).count(), 50);
        assert!(rows.iter().all(|r| r.clip.samples().len() == 48_000));
        assert!(rows
            .iter()
            .all(|r| r.clip.samples().iter().any(|s| s.abs() > 1e-4)));
    }
    let manifest = std::fs::read(dir.join(MANIFEST_FILE)).unwrap();
    // A second call reuses the set as it is.
    ensure_set(&cache, &lv).unwrap();
    assert_eq!(std::fs::read(dir.join(MANIFEST_FILE)).unwrap(), manifest);
    // A changed clip fails the check, and the set is written again, the same.
    let clip = dir.join("clips/test-birds-03.wav");
    let good = std::fs::read(&clip).unwrap();
    std::fs::write(&clip, &good[..1000]).unwrap();
    let e = format!("{:#}", verify(&dir).unwrap_err());
    assert!(e.contains("clips/test-birds-03.wav: sha256"), "{e}");
    ensure_set(&cache, &lv).unwrap();
    assert_eq!(std::fs::read(&clip).unwrap(), good);
    verify(&dir).unwrap();
}

#[test]
fn missing_librivox_files_say_how_to_install_them() {
    let tmp = tempfile::tempdir().unwrap();
    let e = format!(
        "{:#}",
        ensure_set(&tmp.path().join("cache"), &tmp.path().join("nowhere")).unwrap_err()
    );
    assert!(e.contains("apt-get install pocketsphinx-testdata"), "{e}");
    assert!(e.contains("--dataset"), "{e}");
    assert!(!set_dir(&tmp.path().join("cache")).exists());
}
