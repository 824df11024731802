//! Seeded random weights for the timm-named convolutional-network fixtures
//! ([`super::resnet`], [`super::convnext`], [`super::efficientnet`]), and the timm
//! `config.json` written beside them.
//!
//! Values are uniform: convolution and linear weights in ±√(3 / fan-in) (unit-variance
//! outputs), biases in ±0.1, BatchNorm and LayerNorm scales in 1 ± 0.2, running means in
//! ±0.1 and running variances in 1 ± 0.2. The same seed writes the same bytes, so
//! `scripts/vision_families_reference.py` can load a fixture into timm and commit the outputs
//! that a normal test checks.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Result;
use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};

/// A set of named tensors filled from one seeded generator, in insertion order.
pub struct SeededWeights {
    rng: rand_chacha::ChaCha8Rng,
    pub tensors: HashMap<String, Tensor>,
}

impl SeededWeights {
    pub fn new(seed: u64) -> SeededWeights {
        SeededWeights {
            rng: rand_chacha::ChaCha8Rng::seed_from_u64(seed),
            tensors: HashMap::new(),
        }
    }

    /// `offset + U(-scale, scale)` of `shape`.
    pub fn uniform(&mut self, name: &str, shape: &[usize], scale: f32, offset: f32) -> Result<()> {
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n)
            .map(|_| offset + self.rng.random_range(-scale..scale))
            .collect();
        self.tensors
            .insert(name.to_string(), Tensor::from_vec(v, shape, &Device::Cpu)?);
        Ok(())
    }

    /// A weight whose fan-in is the product of its dimensions after the first.
    pub fn weight(&mut self, name: &str, shape: &[usize]) -> Result<()> {
        let fan_in: usize = shape[1..].iter().product();
        self.uniform(name, shape, (3.0 / fan_in as f32).sqrt(), 0.0)
    }

    /// `{prefix}.weight` (and `{prefix}.bias` when `bias`).
    pub fn layer(&mut self, prefix: &str, shape: &[usize], bias: bool) -> Result<()> {
        self.weight(&format!("{prefix}.weight"), shape)?;
        if bias {
            self.uniform(&format!("{prefix}.bias"), &shape[..1], 0.1, 0.0)?;
        }
        Ok(())
    }

    /// A BatchNorm of `c` channels at `prefix`.
    pub fn batch_norm(&mut self, prefix: &str, c: usize) -> Result<()> {
        self.uniform(&format!("{prefix}.weight"), &[c], 0.2, 1.0)?;
        self.uniform(&format!("{prefix}.bias"), &[c], 0.1, 0.0)?;
        self.uniform(&format!("{prefix}.running_mean"), &[c], 0.1, 0.0)?;
        self.uniform(&format!("{prefix}.running_var"), &[c], 0.2, 1.0)
    }

    /// A LayerNorm of `c` channels at `prefix`.
    pub fn layer_norm(&mut self, prefix: &str, c: usize) -> Result<()> {
        self.uniform(&format!("{prefix}.weight"), &[c], 0.2, 1.0)?;
        self.uniform(&format!("{prefix}.bias"), &[c], 0.1, 0.0)
    }

    /// Write `model.safetensors` and a timm `config.json` (`architecture`, `num_classes`,
    /// `label_names` when `classes` names them, and a `pretrained_cfg` for `input_size`) into
    /// `dir`.
    pub fn save(
        &self,
        dir: &Path,
        architecture: &str,
        classes: &Classes,
        input_size: u32,
    ) -> Result<()> {
        std::fs::create_dir_all(dir)?;
        candle_core::safetensors::save(&self.tensors, dir.join("model.safetensors"))?;
        let mut config = serde_json::json!({
            "architecture": architecture,
            "num_classes": classes.len(),
            "pretrained_cfg": {
                "input_size": [3, input_size, input_size],
                "interpolation": "bilinear",
                "crop_pct": 0.875,
                "crop_mode": "center",
                "mean": [0.485, 0.456, 0.406],
                "std": [0.229, 0.224, 0.225]
            }
        });
        if let Classes::Named(names) = classes {
            config["label_names"] = serde_json::json!(names);
        }
        std::fs::write(
            dir.join("config.json"),
            serde_json::to_string_pretty(&config)?,
        )?;
        Ok(())
    }
}

/// The classifier's classes of a fixture.
#[derive(Debug, Clone)]
pub enum Classes {
    /// These names (written as timm's `label_names`).
    Named(Vec<String>),
    /// This many unnamed classes (1,000: ImageNet-1k's names apply).
    Count(usize),
}

impl Classes {
    pub fn named(names: &[&str]) -> Classes {
        Classes::Named(names.iter().map(|s| s.to_string()).collect())
    }
    pub fn len(&self) -> usize {
        match self {
            Classes::Named(n) => n.len(),
            Classes::Count(n) => *n,
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The fixed input of the parity checks: `(2, 3, h, w)` with
/// `x[n, c, y, x] = sin(0.37·(n + 1) + 0.011·(c·h·w + y·w + x)) · (1 + 0.5·c)`, the formula of
/// `scripts/vision_families_reference.py`.
pub fn parity_input(h: usize, w: usize) -> Result<Tensor> {
    let mut v = Vec::with_capacity(2 * 3 * h * w);
    for n in 0..2 {
        for c in 0..3 {
            for y in 0..h {
                for x in 0..w {
                    let i = (c * h * w + y * w + x) as f64;
                    v.push(
                        ((0.37 * (n + 1) as f64 + 0.011 * i).sin() * (1.0 + 0.5 * c as f64)) as f32,
                    );
                }
            }
        }
    }
    Ok(Tensor::from_vec(v, (2, 3, h, w), &Device::Cpu)?)
}
