//! Audio-classification rows: `{"audio": PATH, "label": ..., "split": "train"|"test"}` (JSONL
//! or CSV; `split` defaults to `test`; a relative `audio` path is relative to the dataset
//! file's folder). Every clip is decoded to 16 kHz mono while the dataset loads, so a clip
//! that is not audio, is empty, is truncated or is too long is one error naming the dataset
//! file, its line and the clip, before any meter window opens (and the metered queries do
//! not decode).

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use anyhow::Result;

use super::{Media, Record};

/// The rate clips are decoded to (Silero VAD's and Whisper's).
pub const SAMPLE_RATE: u32 = 16_000;

/// The longest clip accepted, seconds. Classification clips are seconds long (the Frugal AI
/// Challenge's are 3 s); anything longer than this is almost certainly the wrong file, and
/// would cost gigabytes once decoded.
pub const MAX_CLIP_SECONDS: f64 = 600.0;

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
        let clip = decode(&audio).map_err(|e| {
            self.err(
                "audio",
                format!("{}: {}", audio.describe(), format!("{e:#}").trim()),
            )
        })?;
        Ok((AudioLabelRow { audio, label, clip }, is_train))
    }
}

/// Decode a clip to 16 kHz mono, refusing empty and over-long ones.
pub fn decode(media: &Media) -> Result<Clip> {
    let samples = decode_wav_16k(media)?;
    anyhow::ensure!(!samples.is_empty(), "the clip has no samples (zero length)");
    Ok(Clip::new(samples))
}

// TEMPORARY until the shared audio module (symphonia + rubato) lands: PCM WAV at 16 kHz only.
fn decode_wav_16k(media: &Media) -> Result<Vec<f32>> {
    let bytes = media.read()?;
    let mut reader = hound::WavReader::new(std::io::Cursor::new(&bytes[..]))
        .map_err(|e| anyhow::anyhow!("not a readable WAV file: {e}"))?;
    let spec = reader.spec();
    anyhow::ensure!(
        spec.sample_rate == SAMPLE_RATE,
        "sample rate {} Hz (only {SAMPLE_RATE} Hz for now)",
        spec.sample_rate
    );
    let seconds = f64::from(reader.duration()) / f64::from(spec.sample_rate);
    anyhow::ensure!(
        seconds <= MAX_CLIP_SECONDS,
        "the clip lasts {seconds:.0} s; clips are limited to {MAX_CLIP_SECONDS} s"
    );
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader.samples::<f32>().collect::<Result<_, _>>()?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1u64 << (spec.bits_per_sample - 1)) as f32;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()?
        }
    };
    let ch = usize::from(spec.channels.max(1));
    Ok(interleaved
        .chunks(ch)
        .map(|f| f.iter().sum::<f32>() / ch as f32)
        .collect())
}
