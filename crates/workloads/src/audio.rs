//! Audio input: decode a dataset row's clip (WAV, FLAC, MP3, OGG/Vorbis) with symphonia, mix it
//! to mono and resample it with rubato to the rate a model wants (16 kHz for Whisper and Silero
//! VAD).
//!
//! All of this runs when a dataset is loaded, before any meter window opens; a runner's metered
//! query starts from the PCM samples. Every refusal is one error naming the clip:
//! - not audio (no supported container/codec recognised), or an unreadable file;
//! - truncated (the stream ends before the length its header declares, or a packet is corrupt);
//! - zero length (no samples at all);
//! - longer than [`MAX_SECONDS`] (30 minutes), checked from the header when it declares a length
//!   and while decoding otherwise, so a 2-hour file is refused without being decoded in full.

use std::io::Cursor;

use anyhow::{anyhow, bail, Context, Result};
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use crate::datasets::Media;

/// The longest clip accepted, in seconds (30 minutes). Whisper reads long audio as sequential
/// 30-second windows, so this is a guard against a mistaken file (a 2-hour recording), not a
/// model limit.
pub const MAX_SECONDS: f64 = 30.0 * 60.0;

/// A decoded clip before resampling: mono samples in [-1, 1] at the file's own rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub samples: Vec<f32>,
    pub rate: u32,
    /// Channels in the file (mixed down to one by averaging).
    pub channels: usize,
}

impl Decoded {
    /// Duration in seconds.
    pub fn seconds(&self) -> f64 {
        self.samples.len() as f64 / self.rate as f64
    }
}

/// Decode `media`, mix it to mono and resample it to `rate` Hz. Errors name the clip.
pub fn load_mono(media: &Media, rate: u32) -> Result<Vec<f32>> {
    let decoded = decode(media)?;
    resample(&decoded.samples, decoded.rate, rate)
        .with_context(|| format!("cannot resample {}", media.describe()))
}

/// Decode `media` to mono at its own sample rate. Errors name the clip.
pub fn decode(media: &Media) -> Result<Decoded> {
    decode_inner(media).with_context(|| format!("bad audio {}", media.describe()))
}

fn decode_inner(media: &Media) -> Result<Decoded> {
    let source: Box<dyn MediaSource> = match media {
        Media::File(p) => Box::new(
            std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?,
        ),
        Media::Bytes { bytes, .. } => Box::new(Cursor::new(bytes.clone())),
    };
    let stream = MediaSourceStream::new(source, Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = media.extension() {
        hint.with_extension(&ext);
    }
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            stream,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|e| anyhow!("not a recognised audio file (WAV, FLAC, MP3, OGG/Vorbis): {e}"))?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| anyhow!("no audio track"))?;
    let track_id = track.id;
    let params = track.codec_params.clone();
    let rate = params
        .sample_rate
        .ok_or_else(|| anyhow!("the file does not give a sample rate"))?;
    if rate == 0 {
        bail!("the file gives a sample rate of 0 Hz");
    }
    let cap_frames = (MAX_SECONDS * rate as f64) as u64;
    if let Some(n) = params.n_frames {
        if n > cap_frames {
            bail!(
                "{:.0} s long, over the {:.0}-minute limit",
                n as f64 / rate as f64,
                MAX_SECONDS / 60.0
            );
        }
    }
    let mut decoder = symphonia::default::get_codecs()
        .make(&params, &DecoderOptions::default())
        .map_err(|e| anyhow!("unsupported codec: {e}"))?;

    let mut mono: Vec<f32> = Vec::new();
    let mut channels = params.channels.map(|c| c.count()).unwrap_or(0);
    let mut buf: Option<SampleBuffer<f32>> = None;
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            // symphonia 0.5 ends every stream with an UnexpectedEof I/O error; whether the stream
            // ended early is checked against the declared length below.
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break
            }
            Err(SymphoniaError::ResetRequired) => bail!("the stream changes format midway"),
            Err(e) => bail!("truncated or corrupt: {e}"),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let audio = decoder
            .decode(&packet)
            .map_err(|e| anyhow!("truncated or corrupt at sample {}: {e}", mono.len()))?;
        let spec = *audio.spec();
        let n_ch = spec.channels.count().max(1);
        channels = n_ch;
        let frames = audio.frames();
        if frames == 0 {
            continue;
        }
        let sb = match &mut buf {
            Some(b) if b.capacity() >= audio.capacity() * n_ch => b,
            _ => buf.insert(SampleBuffer::<f32>::new(audio.capacity() as u64, spec)),
        };
        sb.copy_interleaved_ref(audio);
        let samples = sb.samples();
        if n_ch == 1 {
            mono.extend_from_slice(&samples[..frames]);
        } else {
            let inv = 1.0 / n_ch as f32;
            mono.extend(
                samples[..frames * n_ch]
                    .chunks_exact(n_ch)
                    .map(|f| f.iter().sum::<f32>() * inv),
            );
        }
        if mono.len() as u64 > cap_frames {
            bail!(
                "longer than the {:.0}-minute limit (stopped decoding at {:.0} s)",
                MAX_SECONDS / 60.0,
                mono.len() as f64 / rate as f64
            );
        }
    }
    if mono.is_empty() {
        bail!("zero length: no audio samples");
    }
    if let Some(declared) = params.n_frames {
        // Lossy codecs may drop up to a packet of encoder delay/padding; PCM must be exact.
        let slack = if params.codec == CODEC_TYPE_NULL || is_pcm(params.codec) {
            0
        } else {
            params.max_frames_per_packet.unwrap_or(4608)
        };
        if (mono.len() as u64) + slack < declared {
            bail!(
                "truncated: the header declares {declared} samples, the data holds {}",
                mono.len()
            );
        }
    }
    Ok(Decoded {
        samples: mono,
        rate,
        channels,
    })
}

fn is_pcm(codec: symphonia::core::codecs::CodecType) -> bool {
    use symphonia::core::codecs::*;
    [
        CODEC_TYPE_PCM_S8,
        CODEC_TYPE_PCM_U8,
        CODEC_TYPE_PCM_S16LE,
        CODEC_TYPE_PCM_S16BE,
        CODEC_TYPE_PCM_S24LE,
        CODEC_TYPE_PCM_S24BE,
        CODEC_TYPE_PCM_S32LE,
        CODEC_TYPE_PCM_S32BE,
        CODEC_TYPE_PCM_U16LE,
        CODEC_TYPE_PCM_U16BE,
        CODEC_TYPE_PCM_U24LE,
        CODEC_TYPE_PCM_U24BE,
        CODEC_TYPE_PCM_U32LE,
        CODEC_TYPE_PCM_U32BE,
        CODEC_TYPE_PCM_F32LE,
        CODEC_TYPE_PCM_F32BE,
        CODEC_TYPE_PCM_F64LE,
        CODEC_TYPE_PCM_F64BE,
        CODEC_TYPE_PCM_ALAW,
        CODEC_TYPE_PCM_MULAW,
    ]
    .contains(&codec)
}

/// Resample mono `samples` from `from` Hz to `to` Hz with rubato's synchronous FFT resampler
/// (band-limited; the whole clip at once, its start-up delay trimmed). Equal rates return the
/// samples unchanged.
pub fn resample(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>> {
    if from == to || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    if from == 0 || to == 0 {
        bail!("cannot resample from {from} Hz to {to} Hz");
    }
    let mut fft = Fft::<f32>::new(from as usize, to as usize, 1024, 1, FixedSync::Input)
        .map_err(|e| anyhow!("resampler {from} Hz -> {to} Hz: {e}"))?;
    let input = InterleavedSlice::new(samples, 1, samples.len())
        .map_err(|e| anyhow!("resampler input: {e}"))?;
    let out = fft
        .process_all(&input, samples.len(), None)
        .map_err(|e| anyhow!("resampling {from} Hz -> {to} Hz: {e}"))?;
    Ok(out.take_data())
}

/// Test helpers: write PCM WAV files in memory (16-bit integer), so tests need no audio files.
#[cfg(any(test, feature = "testing"))]
pub mod wav {
    /// A 16-bit PCM WAV file holding `samples` (interleaved when `channels` > 1; values in
    /// [-1, 1]).
    pub fn pcm16(samples: &[f32], rate: u32, channels: u16) -> Vec<u8> {
        let data_len = (samples.len() * 2) as u32;
        let mut out = Vec::with_capacity(44 + data_len as usize);
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&(36 + data_len).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes()); // PCM
        out.extend_from_slice(&channels.to_le_bytes());
        out.extend_from_slice(&rate.to_le_bytes());
        out.extend_from_slice(&(rate * channels as u32 * 2).to_le_bytes());
        out.extend_from_slice(&(channels * 2).to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(b"data");
        out.extend_from_slice(&data_len.to_le_bytes());
        for s in samples {
            let v = (s.clamp(-1.0, 1.0) * i16::MAX as f32).round() as i16;
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// `seconds` of a sine at `hz` (amplitude 0.5), mono.
    pub fn sine(hz: f32, rate: u32, seconds: f32) -> Vec<f32> {
        let n = (rate as f32 * seconds) as usize;
        (0..n)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * hz * i as f32 / rate as f32).sin())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn bytes(data: Vec<u8>, name: &str) -> Media {
        Media::Bytes {
            bytes: Arc::from(data),
            name: name.into(),
        }
    }

    #[test]
    fn a_16k_mono_wav_decodes_to_its_samples() {
        let s = wav::sine(440.0, 16_000, 0.5);
        let m = bytes(wav::pcm16(&s, 16_000, 1), "a.wav");
        let d = decode(&m).unwrap();
        assert_eq!((d.rate, d.channels, d.samples.len()), (16_000, 1, 8_000));
        let max_err = s
            .iter()
            .zip(&d.samples)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(max_err < 1e-4, "{max_err}");
        // At the target rate already: load_mono returns the same samples.
        assert_eq!(load_mono(&m, 16_000).unwrap(), d.samples);
    }

    #[test]
    fn stereo_is_averaged_to_mono() {
        // Left 0.5, right -0.25 -> 0.125 everywhere.
        let inter: Vec<f32> = (0..200).flat_map(|_| [0.5f32, -0.25]).collect();
        let d = decode(&bytes(wav::pcm16(&inter, 8_000, 2), "s.wav")).unwrap();
        assert_eq!((d.channels, d.samples.len()), (2, 200));
        assert!(d.samples.iter().all(|v| (v - 0.125).abs() < 1e-3));
    }

    #[test]
    fn resampling_keeps_the_duration_and_the_tone() {
        // 1 s of 440 Hz at 44.1 kHz -> 16 kHz: 16,000 samples, still a 440 Hz tone.
        let s = wav::sine(440.0, 44_100, 1.0);
        let f = tempfile::NamedTempFile::with_suffix(".wav").unwrap();
        std::fs::write(f.path(), wav::pcm16(&s, 44_100, 1)).unwrap();
        let out = load_mono(&Media::File(f.path().into()), 16_000).unwrap();
        assert!((out.len() as i64 - 16_000).abs() <= 2, "{}", out.len());
        let expect = wav::sine(440.0, 16_000, 1.0);
        // Compare away from the edges (the filter's ramp).
        let err = out[500..15_500]
            .iter()
            .zip(&expect[500..15_500])
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(err < 0.02, "max error {err}");
    }

    #[test]
    fn a_truncated_wav_is_refused_naming_the_file() {
        let mut data = wav::pcm16(&wav::sine(300.0, 16_000, 0.25), 16_000, 1);
        data.truncate(data.len() - 1000);
        let err = format!("{:#}", decode(&bytes(data, "cut.wav")).unwrap_err());
        assert!(
            err.contains("cut.wav") && err.contains("truncated"),
            "{err}"
        );
    }

    #[test]
    fn text_is_not_audio() {
        let f = tempfile::NamedTempFile::with_suffix(".wav").unwrap();
        std::fs::write(f.path(), b"hello, I am not a sound\n".repeat(20)).unwrap();
        let err = format!(
            "{:#}",
            load_mono(&Media::File(f.path().into()), 16_000).unwrap_err()
        );
        assert!(
            err.contains(&f.path().display().to_string()) && err.contains("not a recognised"),
            "{err}"
        );
    }

    #[test]
    fn zero_length_and_missing_files_are_refused() {
        let err = format!(
            "{:#}",
            decode(&bytes(wav::pcm16(&[], 16_000, 1), "z.wav")).unwrap_err()
        );
        assert!(
            err.contains("z.wav") && err.contains("zero length"),
            "{err}"
        );
        let err = format!(
            "{:#}",
            decode(&Media::File("/nonexistent/x.flac".into())).unwrap_err()
        );
        assert!(err.contains("/nonexistent/x.flac"), "{err}");
    }

    #[test]
    fn a_two_hour_header_is_refused_without_decoding() {
        // A header declaring 2 h of 8 kHz audio (the data is short: the length check comes first).
        let mut data = wav::pcm16(&[0.0; 16], 8_000, 1);
        let declared: u32 = 2 * 3600 * 8_000 * 2;
        data[40..44].copy_from_slice(&declared.to_le_bytes());
        data[4..8].copy_from_slice(&(36 + declared).to_le_bytes());
        let err = format!("{:#}", decode(&bytes(data, "long.wav")).unwrap_err());
        assert!(
            err.contains("long.wav") && err.contains("30-minute"),
            "{err}"
        );
    }
}
