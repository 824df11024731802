//! Whisper's log-mel spectrogram, computed in code (no filters file is shipped).
//!
//! - Filterbank: Slaney-style mel filters as librosa builds them (`htk=False`, `norm="slaney"`)
//!   and OpenAI's Whisper ships in `mel_filters.npz`: `n_mels + 2` points evenly spaced on the
//!   Slaney mel scale (linear below 1 kHz at 200/3 Hz per mel, logarithmic above with a step of
//!   ln(6.4)/27) from 0 Hz to `rate / 2`, triangles over the `n_fft / 2 + 1` FFT bin frequencies,
//!   each scaled by `2 / (f_{i+2} − f_i)` (equal area).
//! - Spectrogram: a periodic Hann window of `n_fft` = 400 samples, hop 160, centred frames
//!   (reflect padding of `n_fft / 2` on both sides, as `torch.stft(center=True)`), power
//!   spectrum, the last frame dropped; `log10(max(mel, 1e-10))`, floored at the clip's maximum
//!   minus 8, then `(x + 4) / 4`.
//! - Like OpenAI's `log_mel_spectrogram(audio, padding=N_SAMPLES)`, the audio is followed by
//!   30 s of zeros before the transform, so every 3,000-frame window is full.

use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};

/// Whisper's FFT size (25 ms at 16 kHz).
pub const N_FFT: usize = 400;
/// Whisper's hop (10 ms at 16 kHz).
pub const HOP: usize = 160;

fn hz_to_mel(hz: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    let min_log_mel = MIN_LOG_HZ / F_SP;
    let logstep = 6.4f64.ln() / 27.0;
    if hz >= MIN_LOG_HZ {
        min_log_mel + (hz / MIN_LOG_HZ).ln() / logstep
    } else {
        hz / F_SP
    }
}

fn mel_to_hz(mel: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    let min_log_mel = MIN_LOG_HZ / F_SP;
    let logstep = 6.4f64.ln() / 27.0;
    if mel >= min_log_mel {
        MIN_LOG_HZ * (logstep * (mel - min_log_mel)).exp()
    } else {
        F_SP * mel
    }
}

/// The `n_mels × (n_fft / 2 + 1)` Slaney mel filterbank (row-major).
pub fn filterbank(rate: u32, n_fft: usize, n_mels: usize) -> Vec<f32> {
    let n_freq = n_fft / 2 + 1;
    let nyquist = rate as f64 / 2.0;
    let fft_freqs: Vec<f64> = (0..n_freq)
        .map(|i| i as f64 * nyquist / (n_freq - 1) as f64)
        .collect();
    let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(nyquist));
    let mel_f: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (n_mels + 1) as f64))
        .collect();
    let mut w = vec![0f32; n_mels * n_freq];
    for m in 0..n_mels {
        let (f0, f1, f2) = (mel_f[m], mel_f[m + 1], mel_f[m + 2]);
        let enorm = 2.0 / (f2 - f0);
        for (k, &f) in fft_freqs.iter().enumerate() {
            let lower = (f - f0) / (f1 - f0);
            let upper = (f2 - f) / (f2 - f1);
            let v = lower.min(upper).max(0.0);
            w[m * n_freq + k] = (v * enorm) as f32;
        }
    }
    w
}

/// A log-mel spectrogram maker for one sample rate and number of mel bins (plans its FFT once).
pub struct LogMel {
    n_mels: usize,
    filters: Vec<f32>,
    /// Per mel row, the range of FFT bins with a non-zero weight.
    spans: Vec<(usize, usize)>,
    window: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
}

impl LogMel {
    pub fn new(rate: u32, n_mels: usize) -> LogMel {
        let filters = filterbank(rate, N_FFT, n_mels);
        let n_freq = N_FFT / 2 + 1;
        let spans = (0..n_mels)
            .map(|m| {
                let row = &filters[m * n_freq..(m + 1) * n_freq];
                let first = row.iter().position(|v| *v != 0.0).unwrap_or(0);
                let last = row.iter().rposition(|v| *v != 0.0).map_or(0, |i| i + 1);
                (first, last.max(first))
            })
            .collect();
        // Periodic Hann window (torch.hann_window's default).
        let window = (0..N_FFT)
            .map(|i| {
                (0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / N_FFT as f64).cos()) as f32
            })
            .collect();
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(N_FFT);
        LogMel {
            n_mels,
            filters,
            spans,
            window,
            fft,
        }
    }

    pub fn n_mels(&self) -> usize {
        self.n_mels
    }

    /// The filterbank, `n_mels × 201`.
    pub fn filters(&self) -> &[f32] {
        &self.filters
    }

    /// The log-mel spectrogram of `samples` followed by `pad` zeros: `n_mels × frames`
    /// (row-major), `frames = (samples.len() + pad) / HOP`.
    pub fn compute(&self, samples: &[f32], pad: usize) -> (Vec<f32>, usize) {
        let n = samples.len() + pad;
        let at = |i: usize| if i < samples.len() { samples[i] } else { 0.0 };
        // Reflect padding by N_FFT/2 on both sides (centred frames).
        let half = N_FFT / 2;
        let padded_at = |j: isize| -> f32 {
            let i = j - half as isize;
            let idx = if i < 0 {
                (-i) as usize
            } else if i as usize >= n {
                2 * (n - 1) - i as usize
            } else {
                i as usize
            };
            at(idx.min(n.saturating_sub(1)))
        };
        // torch.stft gives 1 + n / HOP frames; Whisper drops the last.
        let frames = n / HOP;
        let n_freq = N_FFT / 2 + 1;
        let mut out = vec![0f32; self.n_mels * frames];
        let mut input = self.fft.make_input_vec();
        let mut spectrum = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        let mut power = vec![0f32; n_freq];
        for t in 0..frames {
            let start = (t * HOP) as isize;
            for (k, x) in input.iter_mut().enumerate() {
                *x = padded_at(start + k as isize) * self.window[k];
            }
            self.fft
                .process_with_scratch(&mut input, &mut spectrum, &mut scratch)
                .expect("FFT buffers sized by the planner");
            for (p, c) in power.iter_mut().zip(&spectrum) {
                *p = c.re * c.re + c.im * c.im;
            }
            for m in 0..self.n_mels {
                let (a, b) = self.spans[m];
                let row = &self.filters[m * n_freq..(m + 1) * n_freq];
                let v: f32 = row[a..b].iter().zip(&power[a..b]).map(|(w, p)| w * p).sum();
                out[m * frames + t] = v.max(1e-10).log10();
            }
        }
        let max = out.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        for v in out.iter_mut() {
            *v = ((*v).max(max - 8.0) + 4.0) / 4.0;
        }
        (out, frames)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slaney_scale_is_linear_below_1khz_and_logarithmic_above() {
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(200.0) - 3.0).abs() < 1e-12);
        // 6.4 kHz is 27 log steps above 1 kHz.
        assert!((hz_to_mel(6400.0) - 42.0).abs() < 1e-9);
        for hz in [0.0, 120.0, 999.0, 1000.0, 4321.0, 8000.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-6, "{hz}");
        }
    }

    #[test]
    fn filters_are_triangles_of_equal_area_tiling_the_band() {
        let (n_mels, n_freq) = (80, N_FFT / 2 + 1);
        let f = filterbank(16_000, N_FFT, n_mels);
        assert_eq!(f.len(), n_mels * n_freq);
        assert!(f.iter().all(|v| *v >= 0.0 && v.is_finite()));
        // Every filter has weight, peaks once (rises then falls).
        for m in 0..n_mels {
            let row = &f[m * n_freq..(m + 1) * n_freq];
            assert!(row.iter().any(|v| *v > 0.0), "filter {m} is empty");
            let peak = row
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .unwrap()
                .0;
            assert!(row[..peak].windows(2).all(|w| w[0] <= w[1]), "filter {m}");
            assert!(row[peak..].windows(2).all(|w| w[0] >= w[1]), "filter {m}");
        }
        // Values of faster-whisper 1.2.1's `FeatureExtractor.get_mel_filters` (a numpy port of
        // librosa.filters.mel(htk=False, norm="slaney"), which OpenAI's mel_filters.npz holds).
        let close = |got: f32, want: f32| (got - want).abs() < 1e-6 * want.max(1e-3) * 10.0;
        assert!(close(f[1], 0.024_862_59), "{}", f[1]);
        assert!(close(f[n_freq + 1], 0.001_990_82), "{}", f[n_freq + 1]);
        assert!(close(f[n_freq + 2], 0.022_871_77), "{}", f[n_freq + 2]);
        let argmax = |row: &[f32]| {
            row.iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, v)| (i, *v))
                .unwrap()
        };
        let (i, v) = argmax(&f[40 * n_freq..41 * n_freq]);
        assert!(i == 43 && close(v, 0.014_735_566), "{i} {v}");
        let (i, v) = argmax(&f[79 * n_freq..80 * n_freq]);
        assert!(i == 192 && close(v, 0.003_164_711_6), "{i} {v}");
        let f128 = filterbank(16_000, N_FFT, 128);
        assert!(close(f128[1], 0.012_373_99), "{}", f128[1]);
        let (i, v) = argmax(&f128[127 * n_freq..128 * n_freq]);
        assert!(i == 195 && close(v, 0.005_041_601_6), "{i} {v}");
        assert_eq!(filterbank(16_000, N_FFT, 128).len(), 128 * n_freq);
    }

    #[test]
    fn a_tone_lights_up_the_mel_bin_of_its_frequency() {
        let lm = LogMel::new(16_000, 80);
        let tone: Vec<f32> = (0..16_000)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / 16_000.0).sin())
            .collect();
        let (mel, frames) = lm.compute(&tone, 0);
        assert_eq!(frames, 100);
        // Bin 440 Hz: 440 / (200/3) = 6.6 mel, filters centred at 8000 Hz mel-spaced: find the
        // strongest row in a middle frame.
        let t = 50;
        let best = (0..80)
            .max_by(|&a, &b| mel[a * frames + t].total_cmp(&mel[b * frames + t]))
            .unwrap();
        let centre = |m: usize| {
            let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(8000.0));
            mel_to_hz(lo + (hi - lo) * (m + 1) as f64 / 81.0)
        };
        assert!(
            (centre(best) - 440.0).abs() < 60.0,
            "row {best} at {} Hz",
            centre(best)
        );
        // Values are in Whisper's range: at most (max + 4) / 4 and at least that minus 2.
        let max = mel.iter().copied().fold(f32::MIN, f32::max);
        let min = mel.iter().copied().fold(f32::MAX, f32::min);
        assert!(max - min <= 2.0 + 1e-6, "{min}..{max}");
    }

    #[test]
    fn silence_padding_gives_full_windows() {
        let lm = LogMel::new(16_000, 80);
        let (_, frames) = lm.compute(&[0.1; 1600], 480_000);
        assert_eq!(frames, (1600 + 480_000) / HOP);
    }
}
