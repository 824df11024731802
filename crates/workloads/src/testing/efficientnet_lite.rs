//! A random-weight EfficientNet-Lite0 state dict in the PyTorch port's names (the real
//! network's shapes, 4.7M parameters, seeded), written as safetensors, and small PNG pictures.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Result;
use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};

use crate::runners::efficientnet_lite::blocks;

fn uniform(
    rng: &mut rand_chacha::ChaCha8Rng,
    shape: &[usize],
    scale: f32,
    offset: f32,
) -> Result<Tensor> {
    let n: usize = shape.iter().product();
    let v: Vec<f32> = (0..n)
        .map(|_| offset + rng.random_range(-scale..scale))
        .collect();
    Ok(Tensor::from_vec(v, shape, &Device::Cpu)?)
}

/// The tensors of a random EfficientNet-Lite0 with `classes` outputs (seeded).
pub fn lite0_tensors(seed: u64, classes: usize) -> Result<HashMap<String, Tensor>> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut w = HashMap::new();
    let conv = |w: &mut HashMap<String, Tensor>,
                rng: &mut rand_chacha::ChaCha8Rng,
                name: &str,
                shape: [usize; 4]|
     -> Result<()> {
        let fan_in = (shape[1] * shape[2] * shape[3]) as f32;
        w.insert(
            format!("{name}.weight"),
            uniform(rng, &shape, (3.0 / fan_in).sqrt(), 0.0)?,
        );
        Ok(())
    };
    let bn = |w: &mut HashMap<String, Tensor>,
              rng: &mut rand_chacha::ChaCha8Rng,
              name: &str,
              c: usize|
     -> Result<()> {
        w.insert(format!("{name}.weight"), uniform(rng, &[c], 0.2, 1.0)?);
        w.insert(format!("{name}.bias"), uniform(rng, &[c], 0.1, 0.0)?);
        w.insert(
            format!("{name}.running_mean"),
            uniform(rng, &[c], 0.1, 0.0)?,
        );
        w.insert(format!("{name}.running_var"), uniform(rng, &[c], 0.2, 1.0)?);
        w.insert(
            format!("{name}.num_batches_tracked"),
            Tensor::new(7i64, &Device::Cpu)?,
        );
        Ok(())
    };
    conv(&mut w, &mut rng, "_conv_stem", [32, 3, 3, 3])?;
    bn(&mut w, &mut rng, "_bn0", 32)?;
    for (i, s) in blocks(1.0, 1.0).iter().enumerate() {
        let p = format!("_blocks.{i}");
        let mid = s.input * s.expand;
        if s.expand != 1 {
            conv(
                &mut w,
                &mut rng,
                &format!("{p}._expand_conv"),
                [mid, s.input, 1, 1],
            )?;
            bn(&mut w, &mut rng, &format!("{p}._bn0"), mid)?;
        }
        conv(
            &mut w,
            &mut rng,
            &format!("{p}._depthwise_conv"),
            [mid, 1, s.kernel, s.kernel],
        )?;
        bn(&mut w, &mut rng, &format!("{p}._bn1"), mid)?;
        conv(
            &mut w,
            &mut rng,
            &format!("{p}._project_conv"),
            [s.output, mid, 1, 1],
        )?;
        bn(&mut w, &mut rng, &format!("{p}._bn2"), s.output)?;
    }
    conv(&mut w, &mut rng, "_conv_head", [1280, 320, 1, 1])?;
    bn(&mut w, &mut rng, "_bn1", 1280)?;
    w.insert(
        "_fc.weight".into(),
        uniform(&mut rng, &[classes, 1280], 0.05, 0.0)?,
    );
    w.insert("_fc.bias".into(), uniform(&mut rng, &[classes], 0.01, 0.0)?);
    Ok(w)
}

/// Write [`lite0_tensors`] to `dir/model.safetensors`.
pub fn write_lite0(dir: &Path, seed: u64, classes: usize) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    candle_core::safetensors::save(
        &lite0_tensors(seed, classes)?,
        dir.join("model.safetensors"),
    )?;
    Ok(())
}

/// A `width`×`height` PNG of smooth colour gradients varied by `seed`.
pub fn write_png(path: &Path, width: u32, height: u32, seed: u32) -> Result<()> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([
            ((x * 255 / width.max(1)) as u8).wrapping_add(seed as u8 * 40),
            ((y * 255 / height.max(1)) as u8).wrapping_mul(1 + seed as u8 % 3),
            ((x + y + seed * 17) % 256) as u8,
        ])
    });
    img.save_with_format(path, image::ImageFormat::Png)?;
    Ok(())
}
