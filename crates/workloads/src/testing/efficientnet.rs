//! A random timm `tf_efficientnet_b0` (the TF-ported EfficientNet-B0) in timm's parameter
//! names (`conv_stem`, `bn1`, `blocks.S.B.*`, `conv_head`, `bn2`, `classifier`), with a timm
//! `config.json`.

use std::path::Path;

use anyhow::Result;

use super::cnn::{Classes, SeededWeights};

/// `(expand ratio, kernel, in, out, repeats)` of B0's seven stages.
const STAGES: [(usize, usize, usize, usize, usize); 7] = [
    (1, 3, 32, 16, 1),
    (6, 3, 16, 24, 2),
    (6, 5, 24, 40, 2),
    (6, 3, 40, 80, 3),
    (6, 5, 80, 112, 3),
    (6, 5, 112, 192, 4),
    (6, 3, 192, 320, 1),
];

/// Write a tf_efficientnet_b0 into `dir` (seeded).
pub fn write_b0(dir: &Path, seed: u64, classes: &Classes, input_size: u32) -> Result<()> {
    let mut w = SeededWeights::new(seed);
    w.layer("conv_stem", &[32, 3, 3, 3], false)?;
    w.batch_norm("bn1", 32)?;
    for (s, &(e, k, c_in, c_out, n)) in STAGES.iter().enumerate() {
        for b in 0..n {
            let p = format!("blocks.{s}.{b}");
            let i = if b == 0 { c_in } else { c_out };
            let mid = i * e;
            let se = (i / 4).max(1);
            if e == 1 {
                w.layer(&format!("{p}.conv_dw"), &[mid, 1, k, k], false)?;
                w.batch_norm(&format!("{p}.bn1"), mid)?;
                w.layer(&format!("{p}.se.conv_reduce"), &[se, mid, 1, 1], true)?;
                w.layer(&format!("{p}.se.conv_expand"), &[mid, se, 1, 1], true)?;
                w.layer(&format!("{p}.conv_pw"), &[c_out, mid, 1, 1], false)?;
                w.batch_norm(&format!("{p}.bn2"), c_out)?;
            } else {
                w.layer(&format!("{p}.conv_pw"), &[mid, i, 1, 1], false)?;
                w.batch_norm(&format!("{p}.bn1"), mid)?;
                w.layer(&format!("{p}.conv_dw"), &[mid, 1, k, k], false)?;
                w.batch_norm(&format!("{p}.bn2"), mid)?;
                w.layer(&format!("{p}.se.conv_reduce"), &[se, mid, 1, 1], true)?;
                w.layer(&format!("{p}.se.conv_expand"), &[mid, se, 1, 1], true)?;
                w.layer(&format!("{p}.conv_pwl"), &[c_out, mid, 1, 1], false)?;
                w.batch_norm(&format!("{p}.bn3"), c_out)?;
            }
        }
    }
    w.layer("conv_head", &[1280, 320, 1, 1], false)?;
    w.batch_norm("bn2", 1280)?;
    w.layer("classifier", &[classes.len(), 1280], true)?;
    w.save(dir, "tf_efficientnet_b0", classes, input_size)
}
