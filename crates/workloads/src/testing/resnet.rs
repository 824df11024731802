//! A random timm ResNet-18 (or 34/50: the same writer) in timm's parameter names
//! (`conv1`, `bn1`, `layerN.M.*`, `fc`), with a timm `config.json`.

use std::path::Path;

use anyhow::{bail, Result};

use super::cnn::{Classes, SeededWeights};

/// Write a ResNet of `depth` (18, 34 or 50) into `dir` (seeded); `input_size` goes into the
/// config's `pretrained_cfg`.
pub fn write_resnet(
    dir: &Path,
    seed: u64,
    depth: usize,
    classes: &Classes,
    input_size: u32,
) -> Result<()> {
    let (bottleneck, counts) = match depth {
        18 => (false, [2, 2, 2, 2]),
        34 => (false, [3, 4, 6, 3]),
        50 => (true, [3, 4, 6, 3]),
        _ => bail!("the fixture writes ResNet-18, 34 or 50, not {depth}"),
    };
    let mut w = SeededWeights::new(seed);
    w.layer("conv1", &[64, 3, 7, 7], false)?;
    w.batch_norm("bn1", 64)?;
    let expansion = if bottleneck { 4 } else { 1 };
    let mut c_in = 64;
    for (i, &n) in counts.iter().enumerate() {
        let c = 64 << i;
        for j in 0..n {
            let p = format!("layer{}.{j}", i + 1);
            let stride = if j == 0 && i > 0 { 2 } else { 1 };
            if bottleneck {
                w.layer(&format!("{p}.conv1"), &[c, c_in, 1, 1], false)?;
                w.batch_norm(&format!("{p}.bn1"), c)?;
                w.layer(&format!("{p}.conv2"), &[c, c, 3, 3], false)?;
                w.batch_norm(&format!("{p}.bn2"), c)?;
                w.layer(&format!("{p}.conv3"), &[4 * c, c, 1, 1], false)?;
                w.batch_norm(&format!("{p}.bn3"), 4 * c)?;
            } else {
                w.layer(&format!("{p}.conv1"), &[c, c_in, 3, 3], false)?;
                w.batch_norm(&format!("{p}.bn1"), c)?;
                w.layer(&format!("{p}.conv2"), &[c, c, 3, 3], false)?;
                w.batch_norm(&format!("{p}.bn2"), c)?;
            }
            if stride != 1 || c_in != c * expansion {
                w.layer(
                    &format!("{p}.downsample.0"),
                    &[c * expansion, c_in, 1, 1],
                    false,
                )?;
                w.batch_norm(&format!("{p}.downsample.1"), c * expansion)?;
            }
            c_in = c * expansion;
        }
    }
    w.layer("fc", &[classes.len(), c_in], true)?;
    w.save(dir, &format!("resnet{depth}"), classes, input_size)
}
