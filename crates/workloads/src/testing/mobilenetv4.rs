//! A random MobileNetV4 conv-small in timm's tensor names (`model.safetensors`, 1,000 classes)
//! with timm's `config.json` (`architecture` and a `pretrained_cfg` at a small input size, so
//! tests run fast). The block list is timm's `mobilenetv4_conv_small` (= candle's
//! `Config::small`); batch-norm statistics are random too, so every layer matters.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Result;
use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};

/// A universal inverted bottleneck: (out, start kernel, mid kernel, stride, expansion); a
/// kernel of 0 means that depthwise conv is absent.
type Uib = (usize, usize, usize, usize, usize);

/// The bottlenecks of conv-small stages 2 and 3.
const UIB: [(usize, [Uib; 6]); 2] = [
    (
        2,
        [
            (96, 5, 5, 2, 3),
            (96, 0, 3, 1, 2),
            (96, 0, 3, 1, 2),
            (96, 0, 3, 1, 2),
            (96, 0, 3, 1, 2),
            (96, 3, 0, 1, 4),
        ],
    ),
    (
        3,
        [
            (128, 3, 3, 2, 6),
            (128, 5, 5, 1, 4),
            (128, 0, 5, 1, 4),
            (128, 0, 5, 1, 3),
            (128, 0, 3, 1, 4),
            (128, 0, 3, 1, 4),
        ],
    ),
];

/// Seeded random tensors by name.
struct Writer {
    rng: rand_chacha::ChaCha8Rng,
    t: HashMap<String, Tensor>,
}

impl Writer {
    fn put(&mut self, name: String, shape: &[usize], lo: f32, hi: f32) -> Result<()> {
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n).map(|_| self.rng.random_range(lo..hi)).collect();
        self.t
            .insert(name, Tensor::from_vec(v, shape, &Device::Cpu)?);
        Ok(())
    }

    /// A bias-free conv `p` (weights in ±√(3/fan_in), keeping activations near unit scale) and
    /// its batch norm `bn` with random statistics.
    fn conv(&mut self, p: &str, bn: &str, shape: [usize; 4]) -> Result<()> {
        let s = (3.0 / (shape[1] * shape[2] * shape[3]) as f32).sqrt();
        self.put(format!("{p}.weight"), &shape, -s, s)?;
        let c = shape[0];
        self.put(format!("{bn}.weight"), &[c], 0.5, 1.5)?;
        self.put(format!("{bn}.bias"), &[c], -0.2, 0.2)?;
        self.put(format!("{bn}.running_mean"), &[c], -0.2, 0.2)?;
        self.put(format!("{bn}.running_var"), &[c], 0.5, 1.5)?;
        Ok(())
    }
}

/// The tensors of a random conv-small with `classes` outputs (seeded).
pub fn conv_small_tensors(seed: u64, classes: usize) -> Result<HashMap<String, Tensor>> {
    let mut w = Writer {
        rng: rand_chacha::ChaCha8Rng::seed_from_u64(seed),
        t: HashMap::new(),
    };
    w.conv("conv_stem", "bn1", [32, 3, 3, 3])?;
    for (b, shape) in [
        ("blocks.0.0", [32, 32, 3, 3]),
        ("blocks.0.1", [32, 32, 1, 1]),
        ("blocks.1.0", [96, 32, 3, 3]),
        ("blocks.1.1", [64, 96, 1, 1]),
    ] {
        w.conv(&format!("{b}.conv"), &format!("{b}.bn1"), shape)?;
    }
    let mut c_in = 64;
    for (stage, blocks) in UIB {
        for (j, (out, start, mid, _stride, e)) in blocks.into_iter().enumerate() {
            let p = format!("blocks.{stage}.{j}");
            let hidden = c_in * e;
            if start > 0 {
                w.conv(
                    &format!("{p}.dw_start.conv"),
                    &format!("{p}.dw_start.bn"),
                    [c_in, 1, start, start],
                )?;
            }
            w.conv(
                &format!("{p}.pw_exp.conv"),
                &format!("{p}.pw_exp.bn"),
                [hidden, c_in, 1, 1],
            )?;
            if mid > 0 {
                w.conv(
                    &format!("{p}.dw_mid.conv"),
                    &format!("{p}.dw_mid.bn"),
                    [hidden, 1, mid, mid],
                )?;
            }
            w.conv(
                &format!("{p}.pw_proj.conv"),
                &format!("{p}.pw_proj.bn"),
                [out, hidden, 1, 1],
            )?;
            c_in = out;
        }
    }
    w.conv("blocks.4.0.conv", "blocks.4.0.bn1", [960, 128, 1, 1])?;
    w.conv("conv_head", "norm_head", [1280, 960, 1, 1])?;
    let s = (3.0f32 / 1280.0).sqrt();
    w.put("classifier.weight".into(), &[classes, 1280], -s, s)?;
    w.put("classifier.bias".into(), &[classes], -0.1, 0.1)?;
    Ok(w.t)
}

/// Write `model.safetensors` + timm's `config.json` into `dir`, with pictures preprocessed to
/// `size`×`size` (timm's eval transform at crop_pct 0.875).
pub fn write_conv_small(dir: &Path, seed: u64, size: u32) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    candle_core::safetensors::save(
        &conv_small_tensors(seed, 1000)?,
        dir.join("model.safetensors"),
    )?;
    let config = serde_json::json!({
        "architecture": "mobilenetv4_conv_small", "num_classes": 1000, "num_features": 1280,
        "pretrained_cfg": {
            "tag": "test", "input_size": [3, size, size], "interpolation": "bicubic",
            "crop_pct": 0.875, "crop_mode": "center",
            "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "num_classes": 1000
        }
    });
    std::fs::write(
        dir.join("config.json"),
        serde_json::to_string_pretty(&config)?,
    )?;
    Ok(())
}
