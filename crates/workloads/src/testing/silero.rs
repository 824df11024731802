//! A random-weight checkpoint with Silero VAD's tensor names and shapes (the real model is
//! small: the shapes are the real ones), seeded, so tests run the whole network offline.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Every tensor of `silero_vad_16k.safetensors`: name, shape, and the spread of the uniform
/// random values written for it (weights scaled by 1/√fan-in so activations stay in range).
pub const TENSORS: [(&str, &[usize], f32); 15] = [
    ("stft_conv.weight", &[258, 1, 256], 0.0625),
    ("conv1.weight", &[128, 129, 3], 0.05),
    ("conv1.bias", &[128], 0.05),
    ("conv2.weight", &[64, 128, 3], 0.05),
    ("conv2.bias", &[64], 0.05),
    ("conv3.weight", &[64, 64, 3], 0.07),
    ("conv3.bias", &[64], 0.05),
    ("conv4.weight", &[128, 64, 3], 0.07),
    ("conv4.bias", &[128], 0.05),
    ("lstm_cell.weight_ih", &[512, 128], 0.09),
    ("lstm_cell.weight_hh", &[512, 128], 0.09),
    ("lstm_cell.bias_ih", &[512], 0.09),
    ("lstm_cell.bias_hh", &[512], 0.09),
    ("final_conv.weight", &[1, 128, 1], 0.3),
    ("final_conv.bias", &[1], 0.1),
];

/// The random tensors for `seed`, by name.
pub fn tiny_silero_tensors(seed: u64) -> Result<HashMap<String, Tensor>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    TENSORS
        .iter()
        .map(|(name, shape, spread)| {
            let n: usize = shape.iter().product();
            let values: Vec<f32> = (0..n)
                .map(|_| rng.random_range(-*spread..*spread))
                .collect();
            Ok((
                name.to_string(),
                Tensor::from_vec(values, shape.to_vec(), &Device::Cpu)?,
            ))
        })
        .collect()
}

/// Write the random checkpoint as `dir/silero_vad_16k.safetensors`.
pub fn write_tiny_silero(dir: &Path, seed: u64) -> Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join("silero_vad_16k.safetensors");
    candle_core::safetensors::save(&tiny_silero_tensors(seed)?, &path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}
