//! A random timm ConvNeXt-atto (2-2-6-2 blocks, widths 40-80-160-320, 1×1-convolution MLPs)
//! or ConvNeXt-tiny (3-3-9-3, 96-192-384-768, linear MLPs on channels-last tensors) in timm's
//! parameter names, with a timm `config.json`.

use std::path::Path;

use anyhow::Result;

use super::cnn::{Classes, SeededWeights};

pub const DEPTHS: [usize; 4] = [2, 2, 6, 2];
pub const WIDTHS: [usize; 4] = [40, 80, 160, 320];
pub const TINY_DEPTHS: [usize; 4] = [3, 3, 9, 3];
pub const TINY_WIDTHS: [usize; 4] = [96, 192, 384, 768];

/// Write a ConvNeXt-atto into `dir` (seeded).
pub fn write_convnext_atto(
    dir: &Path,
    seed: u64,
    classes: &Classes,
    input_size: u32,
) -> Result<()> {
    write_convnext(dir, seed, false, classes, input_size)
}

/// Write a ConvNeXt-atto, or a ConvNeXt-tiny when `tiny`, into `dir` (seeded). Layer scales
/// (`gamma`) are in ±0.5 (timm initialises them at 1e-6, which would hide the blocks from a
/// parity check).
pub fn write_convnext(
    dir: &Path,
    seed: u64,
    tiny: bool,
    classes: &Classes,
    input_size: u32,
) -> Result<()> {
    let (depths, widths) = if tiny {
        (TINY_DEPTHS, TINY_WIDTHS)
    } else {
        (DEPTHS, WIDTHS)
    };
    let mut w = SeededWeights::new(seed);
    w.layer("stem.0", &[widths[0], 3, 4, 4], true)?;
    w.layer_norm("stem.1", widths[0])?;
    for s in 0..4 {
        let c = widths[s];
        if s > 0 {
            w.layer_norm(&format!("stages.{s}.downsample.0"), widths[s - 1])?;
            w.layer(
                &format!("stages.{s}.downsample.1"),
                &[c, widths[s - 1], 2, 2],
                true,
            )?;
        }
        for b in 0..depths[s] {
            let p = format!("stages.{s}.blocks.{b}");
            w.uniform(&format!("{p}.gamma"), &[c], 0.5, 0.0)?;
            w.layer(&format!("{p}.conv_dw"), &[c, 1, 7, 7], true)?;
            w.layer_norm(&format!("{p}.norm"), c)?;
            if tiny {
                w.layer(&format!("{p}.mlp.fc1"), &[4 * c, c], true)?;
                w.layer(&format!("{p}.mlp.fc2"), &[c, 4 * c], true)?;
            } else {
                w.layer(&format!("{p}.mlp.fc1"), &[4 * c, c, 1, 1], true)?;
                w.layer(&format!("{p}.mlp.fc2"), &[c, 4 * c, 1, 1], true)?;
            }
        }
    }
    w.layer_norm("head.norm", widths[3])?;
    w.layer("head.fc", &[classes.len(), widths[3]], true)?;
    let arch = if tiny {
        "convnext_tiny"
    } else {
        "convnext_atto"
    };
    w.save(dir, arch, classes, input_size)
}
