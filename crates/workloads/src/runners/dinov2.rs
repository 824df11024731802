//! DINOv2 image classifiers through candle-transformers' `models::dinov2`: Meta's DINOv2 ViT
//! in Meta's (= timm's `vit_*_patch14_dinov2`) tensor names, such as candle's example weights
//! `lmz/candle-dino-v2` `dinov2_vits14.safetensors` (ViT-S/14 with Meta's ImageNet linear head),
//! or a headless backbone (`timm/vit_small_patch14_dinov2.lvd142m`).
//!
//! - **Shape**: read off the tensors: the width from `cls_token`, the depth from the `blocks.N`
//!   present, 64-wide heads (every DINOv2 size: ViT-S 6 heads, B 12, L 16); the entry setting
//!   `heads` overrides. candle fixes the position table at 37×37 patches (518×518 pictures)
//!   and resizes it to the picture's grid by nearest neighbour, where Meta resizes it bicubic
//!   ([`bicubic_positions`]): the runner computes Meta's bicubic table for its picture size
//!   once at load and writes it into the cells candle's nearest-neighbour lookup reads, so
//!   candle ends up using Meta's positions. candle computes GELU by its tanh approximation
//!   (Meta: exact erf) and LayerNorm with ε 1e-5 (Meta: 1e-6), which stay.
//!   scripts/vision_families_reference_b.py measures all of this against timm.
//! - **Head**: Meta's linear head reads the final-normed CLS token concatenated with the mean
//!   patch token (`head.weight` `[1000, 2·width]`). candle returns only the head's output, so
//!   the network runs with an identity head (padded to candle's fixed 1,000 outputs; the width
//!   must be at most 500, as ViT-S's 384 is) and its first 2·width outputs are the **features**
//!   a fitted head uses; the checkpoint's own head, when it has one, turns them into the
//!   ImageNet-1k logits. A headless checkpoint has no classes of its own: on a set without
//!   train rows it stops with one error saying so.
//! - **Batches**: candle's network takes one picture per forward pass (its CLS token and
//!   position table are not broadcast over a batch), so a batch runs picture by picture.
//! - **Preprocessing**: a `preprocessor_config.json` if present, else Meta's evaluation
//!   transform: shorter side 256 bicubic, centre crop 224 (a multiple of the 14-pixel patch),
//!   ImageNet mean/std.

use std::collections::HashMap;

use anyhow::{bail, Context, Result};
use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::VarBuilder;
use candle_transformers::models::dinov2;

use super::image_cls::{self, ImageModel};
use super::Family;
use crate::catalogue::ModelEntry;
use crate::datasets::LoadedDataset;
use crate::fetch::ModelFiles;
use crate::vision::preprocess::{IMAGENET_MEAN, IMAGENET_STD};
use crate::vision::{Preprocess, Resample, Resize};
use crate::{Runner, RunnerOptions, Task};

pub const ARCH: &str = "dinov2";
pub const ARCHES: [&str; 1] = [ARCH];

pub fn handles(arch: &str) -> bool {
    arch == ARCH
}

pub const FAMILY: Family = Family {
    task: Task::ImageClassification,
    arches: &ARCHES,
    handles,
    load,
};

/// candle's fixed head width (its `NUM_CLASSES`).
pub const CANDLE_HEAD: usize = 1000;
/// candle's fixed position table: (518 / 14)² patches + the CLS token.
pub const POSITIONS: usize = 37 * 37 + 1;
/// DINOv2's patch size.
pub const PATCH: u32 = 14;
/// Width of one attention head in every DINOv2 size.
pub const HEAD_DIM: usize = 64;

/// Meta's evaluation transform for DINOv2 linear probes.
pub fn default_preprocess() -> Preprocess {
    Preprocess {
        resize: Resize::ShortestEdge(256),
        resample: Resample::Bicubic,
        crop: Some((224, 224)),
        rescale: Some(1.0 / 255.0),
        normalize: Some((IMAGENET_MEAN, IMAGENET_STD)),
    }
}

/// The width and depth of a DINOv2 checkpoint.
pub fn shape_of(t: &HashMap<String, Tensor>) -> Result<(usize, usize)> {
    let cls = t
        .get("cls_token")
        .context("no `cls_token`: not a DINOv2 checkpoint in Meta's tensor names")?;
    let width = cls.dim(D::Minus1)?;
    let depth = (0..)
        .take_while(|i| t.contains_key(&format!("blocks.{i}.norm1.weight")))
        .count();
    if depth == 0 {
        bail!("no `blocks.0.norm1.weight`: not a DINOv2 checkpoint in Meta's tensor names");
    }
    let pos = t.get("pos_embed").context("no `pos_embed`")?;
    if pos.dims() != [1, POSITIONS, width] {
        bail!(
            "`pos_embed` has shape {:?}; candle's DINOv2 takes [1, {POSITIONS}, {width}] (a 518×518 position table)",
            pos.dims()
        );
    }
    Ok((width, depth))
}

/// PyTorch's cubic convolution weights (A = −0.75) of the four taps around a sample at
/// fraction `t` past its floor.
fn cubic_weights(t: f64) -> [f64; 4] {
    const A: f64 = -0.75;
    let near = |x: f64| ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
    let far = |x: f64| ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A;
    [far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)]
}

/// Meta's DINOv2 position table for a `grid`×`grid` patch grid: the 37×37 patch positions of
/// `pos` (`[1, 1 + 37², width]`) resized bicubic as Meta's `interpolate_pos_encoding` does
/// (`F.interpolate(mode="bicubic", scale_factor=(grid + 0.1) / 37)`, align_corners false,
/// no antialias: source coordinate `(i + 0.5) · 37 / (grid + 0.1) − 0.5`, edges clamped).
/// Returns `[grid², width]`, row-major.
pub fn bicubic_positions(pos: &Tensor, grid: usize) -> Result<Tensor> {
    const SIDE: usize = 37;
    let width = pos.dim(D::Minus1)?;
    let table: Vec<Vec<f32>> = pos
        .to_dtype(DType::F32)?
        .squeeze(0)?
        .narrow(0, 1, SIDE * SIDE)?
        .to_vec2()?;
    let scale = SIDE as f64 / (grid as f64 + 0.1);
    // Per output index: the four source indices (clamped) and their weights.
    let taps: Vec<([usize; 4], [f64; 4])> = (0..grid)
        .map(|i| {
            let x = (i as f64 + 0.5) * scale - 0.5;
            let f = x.floor();
            let idx = [-1i64, 0, 1, 2].map(|d| (f as i64 + d).clamp(0, SIDE as i64 - 1) as usize);
            (idx, cubic_weights(x - f))
        })
        .collect();
    let mut out = vec![0f32; grid * grid * width];
    for (oy, (ys, wy)) in taps.iter().enumerate() {
        for (ox, (xs, wx)) in taps.iter().enumerate() {
            let cell = &mut out[(oy * grid + ox) * width..][..width];
            for (y, wy) in ys.iter().zip(wy) {
                for (x, wx) in xs.iter().zip(wx) {
                    let w = (wy * wx) as f32;
                    for (o, v) in cell.iter_mut().zip(&table[y * SIDE + x]) {
                        *o += w * v;
                    }
                }
            }
        }
    }
    Ok(Tensor::from_vec(out, (grid * grid, width), &Device::Cpu)?)
}

/// `pos` with Meta's bicubic table for `grid` ([`bicubic_positions`]) written into the cells
/// candle's nearest-neighbour resize to `grid` reads (source index `⌊i · 37 / grid⌋`, one cell
/// per output for grids up to 37), so candle's DINOv2 at that grid uses Meta's positions.
pub fn bake_positions(pos: &Tensor, grid: usize) -> Result<Tensor> {
    const SIDE: usize = 37;
    if grid == 0 || grid >= SIDE {
        bail!("a {grid}×{grid} patch grid: positions are baked for grids of 1 to 36 patches");
    }
    let pos = pos.to_dtype(DType::F32)?;
    let resized = bicubic_positions(&pos, grid)?;
    let width = pos.dim(D::Minus1)?;
    let mut rows: Vec<Tensor> = (0..1 + SIDE * SIDE)
        .map(|r| pos.squeeze(0)?.get(r))
        .collect::<candle_core::Result<_>>()?;
    let scale = SIDE as f64 / grid as f64;
    let src = |i: usize| usize::min(SIDE - 1, (i as f64 * scale) as usize);
    for oy in 0..grid {
        for ox in 0..grid {
            rows[1 + src(oy) * SIDE + src(ox)] = resized.get(oy * grid + ox)?;
        }
    }
    Ok(Tensor::stack(&rows, 0)?.reshape((1, 1 + SIDE * SIDE, width))?)
}

/// candle's DINOv2 run with an identity head (output: CLS ‖ mean patch token, final-normed),
/// and the checkpoint's ImageNet head when it has one.
pub struct DinoV2 {
    network: dinov2::DinoVisionTransformer,
    width: usize,
    head: Option<candle_nn::Linear>,
}

impl DinoV2 {
    /// Build from Meta-named tensors (loaded on the CPU) onto `device`.
    /// `grid`: the patch grid of the pictures the runner feeds (224 / 14 = 16), whose Meta
    /// (bicubic) positions are baked into the table ([`bake_positions`]); `None` keeps candle's
    /// nearest-neighbour resize.
    pub fn from_tensors(
        mut tensors: HashMap<String, Tensor>,
        heads: Option<usize>,
        grid: Option<usize>,
        device: &Device,
    ) -> Result<DinoV2> {
        let (width, depth) = shape_of(&tensors)?;
        if let Some(grid) = grid {
            let baked = bake_positions(&tensors["pos_embed"], grid)?;
            tensors.insert("pos_embed".into(), baked);
        }
        let features = 2 * width;
        if features > CANDLE_HEAD {
            bail!(
                "width {width}: candle's DINOv2 gives its {features} pre-head features only through its fixed {CANDLE_HEAD}-output head, so widths above {} (ViT-S/14's 384) are not supported",
                CANDLE_HEAD / 2
            );
        }
        let heads = heads.unwrap_or(width / HEAD_DIM);
        if heads == 0 || width % heads != 0 {
            bail!("width {width} does not split into {heads} attention heads (set `heads`)");
        }
        let head = match (tensors.remove("head.weight"), tensors.remove("head.bias")) {
            (Some(w), Some(b)) => {
                if w.dims() != [CANDLE_HEAD, features] {
                    bail!(
                        "`head.weight` has shape {:?}; candle's DINOv2 head is Meta's linear head [{CANDLE_HEAD}, {features}] on CLS ‖ mean patch token",
                        w.dims()
                    );
                }
                let w = w.to_dtype(DType::F32)?.to_device(device)?;
                let b = b.to_dtype(DType::F32)?.to_device(device)?;
                Some(candle_nn::Linear::new(w, Some(b)))
            }
            (None, None) => None,
            _ => bail!("the checkpoint has only one of `head.weight` and `head.bias`"),
        };
        let eye = Tensor::eye(features, DType::F32, &Device::Cpu)?.pad_with_zeros(
            0,
            0,
            CANDLE_HEAD - features,
        )?;
        tensors.insert("head.weight".into(), eye);
        tensors.insert(
            "head.bias".into(),
            Tensor::zeros(CANDLE_HEAD, DType::F32, &Device::Cpu)?,
        );
        let vb = VarBuilder::from_tensors(tensors, DType::F32, device);
        let network =
            dinov2::DinoVisionTransformer::new(vb, depth, width, heads).with_context(|| {
                format!("building DINOv2 (width {width}, depth {depth}, {heads} heads)")
            })?;
        Ok(DinoV2 {
            network,
            width,
            head,
        })
    }

    /// Whether the checkpoint has Meta's ImageNet linear head.
    pub fn has_head(&self) -> bool {
        self.head.is_some()
    }
}

impl ImageModel for DinoV2 {
    fn logits(&self, x: &Tensor) -> Result<Tensor> {
        let head = self
            .head
            .as_ref()
            .context("this DINOv2 checkpoint has no classification head")?;
        Ok(head.forward(&self.features(x)?)?)
    }
    fn features(&self, x: &Tensor) -> Result<Tensor> {
        // candle's DINOv2 takes one picture at a time (it concatenates its `[1, 1, width]` CLS
        // token and adds its position table without broadcasting over the batch).
        let rows = (0..x.dim(0)?)
            .map(|i| self.network.forward(&x.narrow(0, i, 1)?))
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Tensor::cat(&rows, 0)?.narrow(1, 0, 2 * self.width)?)
    }
    fn dtype(&self) -> String {
        "f32".into()
    }
}

/// Load the runner.
pub fn load(
    entry: &ModelEntry,
    files: &ModelFiles,
    dataset: &LoadedDataset,
    opts: &RunnerOptions,
) -> Result<Box<dyn Runner>> {
    Ok(Box::new(load_classifier(entry, files, dataset, opts)?))
}

/// [`load`], returning the concrete runner (tests read its rankings).
pub fn load_classifier(
    entry: &ModelEntry,
    files: &ModelFiles,
    dataset: &LoadedDataset,
    opts: &RunnerOptions,
) -> Result<image_cls::ImageClassifier> {
    let weights = files
        .find_ext("safetensors")
        .map(|p| p.to_path_buf())
        .with_context(|| format!("model `{}` has no safetensors weights", entry.id))?;
    let tensors: HashMap<String, Tensor> =
        candle_core::safetensors::load(&weights, &Device::Cpu)
            .with_context(|| format!("cannot read {}", weights.display()))?;
    let preprocess = image_cls::preprocess_for(files, default_preprocess())?;
    let size = preprocess
        .crop
        .or(match preprocess.resize {
            Resize::Exact { height, width } => Some((height, width)),
            _ => None,
        })
        .with_context(|| {
            format!(
                "model `{}`: DINOv2 needs a fixed picture size (a crop or an exact resize) that is a multiple of {PATCH} pixels",
                entry.id
            )
        })?;
    if size.0 % PATCH != 0 || size.1 % PATCH != 0 {
        bail!(
            "model `{}`: pictures come out {}×{}, not a multiple of DINOv2's {PATCH}-pixel patch",
            entry.id,
            size.0,
            size.1
        );
    }
    // Meta's bicubic positions for a square grid smaller than candle's table (else candle's
    // own resize, which is exact at 37×37).
    let grid = (size.0 == size.1 && size.0 / PATCH < 37).then_some((size.0 / PATCH) as usize);
    let model = DinoV2::from_tensors(tensors, entry.setting_usize("heads")?, grid, &opts.device)
        .with_context(|| format!("model `{}` ({})", entry.id, weights.display()))?;
    let has_head = model.has_head();
    let id = entry.id.clone();
    let path = weights.display().to_string();
    image_cls::load_runner(
        entry,
        Box::new(model),
        move || {
            if !has_head {
                bail!(
                    "model `{id}` ({path}) is a DINOv2 backbone without `head.weight`: it has no classes of its own, so it can only label a dataset with `\"split\": \"train\"` rows (a head fitted on its features)"
                );
            }
            Ok(image_cls::imagenet_classes())
        },
        preprocess,
        dataset,
        opts,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table whose patch positions hold (row, column) in two channels.
    fn ramp() -> Tensor {
        let mut v = vec![0f32; 2];
        for i in 0..37 {
            for j in 0..37 {
                v.extend([i as f32, j as f32]);
            }
        }
        Tensor::from_vec(v, (1, 1370, 2), &Device::Cpu).unwrap()
    }

    #[test]
    fn bicubic_positions_equal_pytorchs_bicubic_resize() {
        let out: Vec<Vec<f32>> = bicubic_positions(&ramp(), 16).unwrap().to_vec2().unwrap();
        // torch 2.15: F.interpolate(rows 0..37 as a [1, 1, 37, 37] ramp, scale_factor=16.1 / 37,
        // mode="bicubic", antialias=False)[0, 0, i, 0] for i = 0, 1, 2, 7, 15.
        let torch = [
            (0, 0.555163),
            (1, 2.924842),
            (2, 5.292491),
            (7, 16.690176),
            (15, 35.171143),
        ];
        for (i, want) in torch {
            for ox in [0, 9, 15] {
                let got = &out[i * 16 + ox];
                assert!((got[0] - want).abs() < 5e-5, "row {i}: {got:?} vs {want}");
            }
            // The column channel is the same resize along the other axis.
            assert!((out[3 * 16 + i][1] - want).abs() < 5e-5);
        }
        assert!((cubic_weights(0.3).iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn baked_cells_are_what_candles_nearest_resize_reads() {
        let pos = ramp();
        let baked = bake_positions(&pos, 16).unwrap();
        let want: Vec<Vec<f32>> = bicubic_positions(&pos, 16).unwrap().to_vec2().unwrap();
        // candle's interpolate_pos_encoding: the patch table as [1, dim, 37, 37], nearest to 16.
        let grid = baked
            .narrow(1, 1, 1369)
            .unwrap()
            .reshape((1, 37, 37, 2))
            .unwrap()
            .permute((0, 3, 1, 2))
            .unwrap()
            .upsample_nearest2d(16, 16)
            .unwrap()
            .permute((0, 2, 3, 1))
            .unwrap()
            .reshape((256, 2))
            .unwrap()
            .to_vec2::<f32>()
            .unwrap();
        assert_eq!(grid, want);
        // The CLS position is untouched, and so are cells the lookup never reads.
        let b: Vec<Vec<f32>> = baked.squeeze(0).unwrap().to_vec2().unwrap();
        assert_eq!(b[0], [0.0, 0.0]);
        assert_eq!(b[1 + 37 * 36 + 36], [36.0, 36.0]);
        assert!(bake_positions(&pos, 37).is_err());
    }
}
