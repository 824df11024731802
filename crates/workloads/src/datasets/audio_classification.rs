//! Audio-classification rows: `{"audio": PATH, "label": ..., "split": "train"|"test"}` (JSONL
//! or CSV; `split` defaults to `test`; a relative `audio` path is relative to the dataset
//! file's folder). Every clip is decoded to 16 kHz mono ([`crate::audio`]) while the dataset
//! loads, so a clip that is not audio, is empty, is truncated or is too long is one error
//! naming the dataset file, its line and the clip, before any meter window opens (and the
//! metered queries do not decode).

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use anyhow::Result;

use super::{Media, Record};

/// The rate clips are decoded to (Silero VAD's and Whisper's).
pub const SAMPLE_RATE: u32 = 16_000;

/// Decoded audio: mono samples in [-1, 1] at [`SAMPLE_RATE`].
#[derive(Clone, PartialEq)]
pub struct Clip(Arc<[f32]>);

impl Clip {
    /// Wrap 16 kHz mono samples.
    pub fn new(samples: Vec<f32>) -> Self {
        Clip(samples.into())
    }

    /// The samples.
    pub fn samples(&self) -> &[f32] {
        &self.0
    }

    /// Duration, seconds.
    pub fn seconds(&self) -> f64 {
        self.0.len() as f64 / f64::from(SAMPLE_RATE)
    }
}

impl fmt::Debug for Clip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Clip({} samples, {:.3} s)", self.0.len(), self.seconds())
    }
}

/// One labelled clip.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioLabelRow {
    /// Where the clip came from.
    pub audio: Media,
    /// The gold label.
    pub label: String,
    /// The clip, decoded.
    pub clip: Clip,
}

impl Record<'_> {
    /// The row (its clip decoded) and whether it is a train row; `base` is the dataset file's
    /// folder.
    pub(super) fn audio_label_row(&self, base: Option<&Path>) -> Result<(AudioLabelRow, bool)> {
        let path = self.string("audio")?;
        let audio = Media::from_path_field(&path, base).map_err(|e| self.err("audio", e))?;
        let (label, is_train) = self.label_and_split()?;
        // The decoder's errors name the clip.
        let clip = decode(&audio).map_err(|e| self.err("audio", format!("{e:#}").trim()))?;
        Ok((AudioLabelRow { audio, label, clip }, is_train))
    }
}

/// Decode a clip to 16 kHz mono with [`crate::audio::load_mono`] (WAV, FLAC, MP3, OGG; mixed
/// to mono, resampled), which refuses what is not audio, truncated, empty or longer than
/// [`crate::audio::MAX_SECONDS`].
pub fn decode(media: &Media) -> Result<Clip> {
    let samples = crate::audio::load_mono(media, SAMPLE_RATE)?;
    anyhow::ensure!(
        !samples.is_empty(),
        "bad audio {}: no samples (zero length)",
        media.describe()
    );
    Ok(Clip::new(samples))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datasets::speech_clips::wav_bytes;
    use crate::datasets::{load, DatasetRows};
    use crate::Task;

    fn tone(len: usize) -> Vec<f32> {
        (0..len).map(|i| (i as f32 * 0.05).sin() * 0.5).collect()
    }

    /// A dataset whose first row is a good clip and whose second row names `bad` (written
    /// with `bytes`, or absent when `None`); the load error.
    fn second_row_error(ext: &str, bytes: Option<Vec<u8>>) -> (String, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("good.wav"), wav_bytes(&tone(4000)).unwrap()).unwrap();
        let bad = dir.path().join(format!("bad.{ext}"));
        if let Some(b) = bytes {
            std::fs::write(&bad, b).unwrap();
        }
        let set = dir.path().join("set.jsonl");
        std::fs::write(
            &set,
            format!(
                "{{\"audio\": \"good.wav\", \"label\": \"speech\"}}\n{{\"audio\": \"bad.{ext}\", \"label\": \"speech\"}}\n"
            ),
        )
        .unwrap();
        let e = format!("{:#}", load(Task::AudioClassification, &set).unwrap_err());
        (e, bad)
    }

    #[test]
    fn bad_audio_is_one_error_naming_the_file_row_and_clip() {
        let good = wav_bytes(&tone(16_000)).unwrap();
        let truncated = good[..good.len() / 2].to_vec();
        let empty = wav_bytes(&[]).unwrap();
        for (ext, bytes, want) in [
            (
                "wav",
                Some(b"this is not audio at all".to_vec()),
                "bad audio",
            ),
            ("wav", Some(truncated), "bad audio"),
            ("wav", Some(empty), "bad audio"),
            ("flac", None, "bad audio"),
        ] {
            let (e, bad) = second_row_error(ext, bytes);
            assert!(e.contains("set.jsonl:2: field \"audio\": "), "{e}");
            assert!(e.contains(&bad.display().to_string()), "{e}");
            assert!(e.contains(want), "{e}");
            assert_eq!(e.lines().count(), 1, "{e}");
        }
    }

    #[test]
    fn rows_decode_relative_to_the_dataset_and_split() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("clips")).unwrap();
        std::fs::write(
            dir.path().join("clips/a.wav"),
            wav_bytes(&tone(8000)).unwrap(),
        )
        .unwrap();
        let csv = dir.path().join("set.csv");
        std::fs::write(
            &csv,
            "audio,label,split\nclips/a.wav,speech,train\nclips/a.wav,0,test\n",
        )
        .unwrap();
        let d = load(Task::AudioClassification, &csv).unwrap();
        assert_eq!(d.task(), Task::AudioClassification);
        assert_eq!(d.eval_len(), 1);
        let DatasetRows::AudioClassification { train, test } = &d.rows else {
            panic!()
        };
        assert_eq!(train[0].label, "speech");
        assert_eq!(test[0].label, "0");
        assert_eq!(test[0].audio, Media::File(dir.path().join("clips/a.wav")));
        assert_eq!(test[0].clip.samples().len(), 8000);
        // The 16-bit samples come back within one quantisation step.
        let diff = test[0]
            .clip
            .samples()
            .iter()
            .zip(tone(8000))
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(diff <= 1.0 / 32767.0, "{diff}");
        assert_eq!(d.unseen_test_labels(), ["0"]);
        assert!(format!("{:?}", test[0].clip).contains("8000 samples"));
        // Missing fields and a train-only set.
        std::fs::write(&csv, "audio,label\nclips/a.wav,\n").unwrap();
        let e = format!("{:#}", load(Task::AudioClassification, &csv).unwrap_err());
        assert!(e.contains("set.csv:2: field \"label\": missing"), "{e}");
        std::fs::write(&csv, "audio,label,split\nclips/a.wav,x,train\n").unwrap();
        let e = format!("{:#}", load(Task::AudioClassification, &csv).unwrap_err());
        assert!(e.contains("no test rows"), "{e}");
    }
}
