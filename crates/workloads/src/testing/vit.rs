//! A tiny random `ViTForImageClassification` (hidden 32, 2 layers, 4 heads, 32×32 pictures in
//! 8×8 patches, 3 classes named in `id2label`) written as safetensors + `config.json` +
//! `preprocessor_config.json`, in transformers' parameter names.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Result;
use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};

pub const HIDDEN: usize = 32;
pub const LAYERS: usize = 2;
pub const CLASSES: [&str; 3] = ["red", "green", "blue"];

/// Write the checkpoint into `dir` (seeded).
pub fn write_tiny_vit(dir: &Path, seed: u64) -> Result<()> {
    std::fs::create_dir_all(dir)?;
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
    let h = HIDDEN;
    put("vit.embeddings.cls_token".into(), &[1, 1, h], 0.5, 0.0)?;
    put(
        "vit.embeddings.position_embeddings".into(),
        &[1, 17, h],
        0.5,
        0.0,
    )?;
    put(
        "vit.embeddings.patch_embeddings.projection.weight".into(),
        &[h, 3, 8, 8],
        0.1,
        0.0,
    )?;
    put(
        "vit.embeddings.patch_embeddings.projection.bias".into(),
        &[h],
        0.1,
        0.0,
    )?;
    for i in 0..LAYERS {
        let p = format!("vit.encoder.layer.{i}");
        for m in ["query", "key", "value"] {
            put(
                format!("{p}.attention.attention.{m}.weight"),
                &[h, h],
                0.2,
                0.0,
            )?;
            put(format!("{p}.attention.attention.{m}.bias"), &[h], 0.1, 0.0)?;
        }
        put(
            format!("{p}.attention.output.dense.weight"),
            &[h, h],
            0.2,
            0.0,
        )?;
        put(format!("{p}.attention.output.dense.bias"), &[h], 0.1, 0.0)?;
        put(format!("{p}.intermediate.dense.weight"), &[64, h], 0.2, 0.0)?;
        put(format!("{p}.intermediate.dense.bias"), &[64], 0.1, 0.0)?;
        put(format!("{p}.output.dense.weight"), &[h, 64], 0.2, 0.0)?;
        put(format!("{p}.output.dense.bias"), &[h], 0.1, 0.0)?;
        for ln in ["layernorm_before", "layernorm_after"] {
            put(format!("{p}.{ln}.weight"), &[h], 0.1, 1.0)?;
            put(format!("{p}.{ln}.bias"), &[h], 0.1, 0.0)?;
        }
    }
    put("vit.layernorm.weight".into(), &[h], 0.1, 1.0)?;
    put("vit.layernorm.bias".into(), &[h], 0.1, 0.0)?;
    put("classifier.weight".into(), &[CLASSES.len(), h], 0.5, 0.0)?;
    put("classifier.bias".into(), &[CLASSES.len()], 0.1, 0.0)?;
    candle_core::safetensors::save(&t, dir.join("model.safetensors"))?;
    let id2label: serde_json::Map<String, serde_json::Value> = CLASSES
        .iter()
        .enumerate()
        .map(|(i, c)| (i.to_string(), serde_json::Value::String(c.to_string())))
        .collect();
    let config = serde_json::json!({
        "architectures": ["ViTForImageClassification"], "model_type": "vit",
        "hidden_size": h, "num_hidden_layers": LAYERS, "num_attention_heads": 4,
        "intermediate_size": 64, "hidden_act": "gelu", "layer_norm_eps": 1e-12,
        "image_size": 32, "patch_size": 8, "num_channels": 3, "qkv_bias": true,
        "id2label": id2label
    });
    std::fs::write(
        dir.join("config.json"),
        serde_json::to_string_pretty(&config)?,
    )?;
    let pre = serde_json::json!({
        "do_normalize": true, "do_rescale": true, "do_resize": true,
        "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "resample": 2,
        "rescale_factor": 0.00392156862745098, "size": {"height": 32, "width": 32}
    });
    std::fs::write(
        dir.join("preprocessor_config.json"),
        serde_json::to_string_pretty(&pre)?,
    )?;
    Ok(())
}
