//! DINOv2 image classifiers through candle-transformers' `models::dinov2`: Meta's DINOv2 ViT
//! in Meta's (= timm's `vit_*_patch14_dinov2`) tensor names, such as candle's example weights
//! `lmz/candle-dino-v2` `dinov2_vits14.safetensors` (ViT-S/14 with Meta's ImageNet linear head),
//! or a headless backbone (`timm/vit_small_patch14_dinov2.lvd142m`).
//!
//! - **Shape**: read off the tensors: the width from `cls_token`, the depth from the `blocks.N`
//!   present, 64-wide heads (every DINOv2 size: ViT-S 6 heads, B 12, L 16); the entry setting
//!   `heads` overrides. candle fixes the position table at 37×37 patches (518×518 pictures)
//!   and resizes it to the picture's grid by nearest neighbour (Meta and timm use bicubic);
//!   it computes GELU by its tanh approximation (Meta: exact erf) and LayerNorm with ε 1e-5
//!   (Meta: 1e-6). scripts/vision_families_reference_b.py measures what these cost against
//!   timm.
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

/// candle's DINOv2 run with an identity head (output: CLS ‖ mean patch token, final-normed),
/// and the checkpoint's ImageNet head when it has one.
pub struct DinoV2 {
    network: dinov2::DinoVisionTransformer,
    width: usize,
    head: Option<candle_nn::Linear>,
}

impl DinoV2 {
    /// Build from Meta-named tensors (loaded on the CPU) onto `device`.
    pub fn from_tensors(
        mut tensors: HashMap<String, Tensor>,
        heads: Option<usize>,
        device: &Device,
    ) -> Result<DinoV2> {
        let (width, depth) = shape_of(&tensors)?;
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
    let model = DinoV2::from_tensors(tensors, entry.setting_usize("heads")?, &opts.device)
        .with_context(|| format!("model `{}` ({})", entry.id, weights.display()))?;
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
