//! A tiny random DINOv2 (width 128, 2 blocks, 2 heads of 64) in Meta's tensor names, with
//! candle's fixed 37×37 position table and, optionally, Meta's linear ImageNet head
//! (`[1000, 256]` on CLS ‖ mean patch token); plus a `preprocessor_config.json` that makes
//! 56×56 pictures (4×4 patches), so tests run fast.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Result;
use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};

pub const WIDTH: usize = 128;
pub const DEPTH: usize = 2;

/// The tensors (seeded); `head` adds `head.weight`/`head.bias`.
pub fn tiny_tensors(seed: u64, head: bool) -> Result<HashMap<String, Tensor>> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut t = HashMap::new();
    let mut put = |name: String, shape: &[usize], scale: f32, offset: f32| -> Result<()> {
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n)
            .map(|_| offset + rng.random_range(-scale..scale))
            .collect();
        t.insert(name, Tensor::from_vec(v, shape, &Device::Cpu)?);
        Ok(())
    };
    let w = WIDTH;
    put("cls_token".into(), &[1, 1, w], 0.5, 0.0)?;
    put("mask_token".into(), &[1, w], 0.5, 0.0)?;
    put("pos_embed".into(), &[1, 37 * 37 + 1, w], 0.5, 0.0)?;
    put("patch_embed.proj.weight".into(), &[w, 3, 14, 14], 0.05, 0.0)?;
    put("patch_embed.proj.bias".into(), &[w], 0.1, 0.0)?;
    for i in 0..DEPTH {
        let p = format!("blocks.{i}");
        for n in ["norm1", "norm2"] {
            put(format!("{p}.{n}.weight"), &[w], 0.2, 1.0)?;
            put(format!("{p}.{n}.bias"), &[w], 0.1, 0.0)?;
        }
        put(format!("{p}.attn.qkv.weight"), &[3 * w, w], 0.15, 0.0)?;
        put(format!("{p}.attn.qkv.bias"), &[3 * w], 0.1, 0.0)?;
        put(format!("{p}.attn.proj.weight"), &[w, w], 0.15, 0.0)?;
        put(format!("{p}.attn.proj.bias"), &[w], 0.1, 0.0)?;
        put(format!("{p}.mlp.fc1.weight"), &[4 * w, w], 0.15, 0.0)?;
        put(format!("{p}.mlp.fc1.bias"), &[4 * w], 0.1, 0.0)?;
        put(format!("{p}.mlp.fc2.weight"), &[w, 4 * w], 0.08, 0.0)?;
        put(format!("{p}.mlp.fc2.bias"), &[w], 0.1, 0.0)?;
        put(format!("{p}.ls1.gamma"), &[w], 0.2, 0.5)?;
        put(format!("{p}.ls2.gamma"), &[w], 0.2, 0.5)?;
    }
    put("norm.weight".into(), &[w], 0.2, 1.0)?;
    put("norm.bias".into(), &[w], 0.1, 0.0)?;
    if head {
        put("head.weight".into(), &[1000, 2 * w], 0.15, 0.0)?;
        put("head.bias".into(), &[1000], 0.1, 0.0)?;
    }
    Ok(t)
}

/// Write `dinov2.safetensors` + a 56×56 `preprocessor_config.json` into `dir`.
pub fn write_tiny_dinov2(dir: &Path, seed: u64, head: bool) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    candle_core::safetensors::save(&tiny_tensors(seed, head)?, dir.join("dinov2.safetensors"))?;
    let pre = serde_json::json!({
        "do_resize": true, "size": {"shortest_edge": 64}, "resample": 3,
        "do_center_crop": true, "crop_size": {"height": 56, "width": 56},
        "do_rescale": true, "rescale_factor": 0.00392156862745098,
        "do_normalize": true, "image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225]
    });
    std::fs::write(
        dir.join("preprocessor_config.json"),
        serde_json::to_string_pretty(&pre)?,
    )?;
    Ok(())
}
