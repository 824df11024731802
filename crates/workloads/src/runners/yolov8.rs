//! YOLOv8 object detection (Ultralytics' architecture, written here for Candle): the model,
//! letterbox preprocessing, box decoding, class-wise NMS, and the runner.
//!
//! **Architecture** (ultralytics `cfg/models/v8/yolov8.yaml`): a backbone of Conv-BN-SiLU blocks
//! and C2f stages ending in SPPF (layers 0-9), a PAN neck (upsample + concat + C2f, then
//! stride-2 convs + concat + C2f; layers 10-21) and a decoupled head (layer 22) per level
//! P3/P4/P5 (strides 8/16/32): a box branch of 4 x `reg_max` DFL logits and a class branch of
//! `nc` logits. Every channel count, the number of bottlenecks per C2f, `reg_max` and `nc` are
//! read from the checkpoint's tensor shapes, so one loader runs every size (n, s, m, ...).
//! Tensor names are Ultralytics' state-dict names (`model.<layer>.…`); checkpoints written for
//! candle-examples' yolo-v8 (`net.b1.0.…`, `fpn.n1.…`, `head.…`, e.g. `lmz/candle-yolo-v8`) are
//! renamed on load ([`ultralytics_name`]). Batch norms (eps 1e-3, Ultralytics' value) are folded
//! into their convolutions at load time, as Ultralytics' `fuse()` does for inference.
//!
//! **Per query** (inside the meter window): letterbox the decoded image into an `imgsz` ×
//! `imgsz` square (default 640; scale by min(S/h, S/w), bilinear resize, grey 114 padding split
//! evenly, as Ultralytics' `LetterBox` with `auto=False`), scale to 0..1, run the model, decode
//! boxes (softmax over each side's `reg_max` bins, expected distance, anchor ± distance, times
//! stride), keep each anchor's best class when its sigmoid score is ≥ `CONF_EVAL` (0.001, the
//! threshold Ultralytics validates with), class-wise greedy NMS at IoU 0.7 (Ultralytics'
//! default) keeping at most 300 boxes, and map boxes back to the original image's pixels.
//! Image decoding happens when the runner loads, before any window.

use std::collections::{BTreeSet, HashMap};

use anyhow::{bail, ensure, Context, Result};
use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Conv2d, Conv2dConfig};
use image::RgbImage;

use crate::catalogue::ModelEntry;
use crate::datasets::{DatasetRows, DetectionRow, LoadedDataset};
use crate::fetch::ModelFiles;
use crate::runners::common::{row_at, safetensors_weights, RowModel, RowsRunner};
use crate::runners::Family;
use crate::{Detection, Prediction, Quality, QueryOutcome, Runner, RunnerOptions, Task};

/// The catalogue arch.
pub const ARCH: &str = "yolov8";
/// Canonical arches of this family.
pub const ARCHES: [&str; 1] = [ARCH];

/// Ultralytics' batch-norm epsilon (`initialize_weights` sets 1e-3 on every `BatchNorm2d`).
pub const BN_EPS: f64 = 1e-3;
/// Lowest class score kept before NMS (Ultralytics validates with `conf=0.001`).
pub const CONF_EVAL: f32 = 0.001;
/// Class score from which a box counts as a detection for the smoke figures (Ultralytics'
/// `predict` default `conf=0.25`).
pub const CONF_PREDICT: f32 = 0.25;
/// NMS IoU threshold (Ultralytics' default `iou=0.7`).
pub const NMS_IOU: f32 = 0.7;
/// At most this many boxes per image after NMS (Ultralytics' `max_det`).
pub const MAX_DET: usize = 300;
/// At most this many candidates enter NMS (Ultralytics' `max_nms`).
pub const MAX_NMS: usize = 30_000;
/// Letterbox padding value (Ultralytics fills with 114 of 255).
const PAD_VALUE: u8 = 114;

pub fn handles(arch: &str) -> bool {
    arch == ARCH
}

pub const FAMILY: Family = Family {
    task: Task::ObjectDetection,
    arches: &ARCHES,
    handles,
    load,
};

// ---------------------------------------------------------------------------------------------
// Weights

/// The checkpoint's tensors by Ultralytics name, as f32 on the model's device.
pub struct Weights {
    tensors: HashMap<String, Tensor>,
}

/// Ultralytics' state-dict name of a tensor named as candle-examples' yolo-v8 names it
/// (`net.b2.0.bottleneck.1.cv1.conv.weight` → `model.2.m.1.cv1.conv.weight`); other names are
/// returned unchanged.
pub fn ultralytics_name(name: &str) -> String {
    const PREFIXES: [(&str, &str); 17] = [
        ("net.b1.0.", "model.0."),
        ("net.b1.1.", "model.1."),
        ("net.b2.0.", "model.2."),
        ("net.b2.1.", "model.3."),
        ("net.b2.2.", "model.4."),
        ("net.b3.0.", "model.5."),
        ("net.b3.1.", "model.6."),
        ("net.b4.0.", "model.7."),
        ("net.b4.1.", "model.8."),
        ("net.b5.0.", "model.9."),
        ("fpn.n1.", "model.12."),
        ("fpn.n2.", "model.15."),
        ("fpn.n3.", "model.16."),
        ("fpn.n4.", "model.18."),
        ("fpn.n5.", "model.19."),
        ("fpn.n6.", "model.21."),
        ("head.", "model.22."),
    ];
    for (from, to) in PREFIXES {
        if let Some(rest) = name.strip_prefix(from) {
            return format!("{to}{}", rest.replace("bottleneck.", "m."));
        }
    }
    name.to_string()
}

impl Weights {
    /// Read a safetensors checkpoint (any float dtype) as f32 on `device`.
    pub fn load(path: &std::path::Path, device: &Device) -> Result<Weights> {
        crate::integrity::check_safetensors(path)?;
        let raw = candle_core::safetensors::load(path, &Device::Cpu)
            .with_context(|| format!("reading {}", path.display()))?;
        let mut tensors = HashMap::with_capacity(raw.len());
        for (name, t) in raw {
            if !t.dtype().is_float() {
                continue; // e.g. batch norms' `num_batches_tracked`
            }
            let t = t.to_dtype(DType::F32)?.to_device(device)?;
            tensors.insert(ultralytics_name(&name), t);
        }
        Ok(Weights { tensors })
    }

    fn get(&self, name: &str) -> Result<&Tensor> {
        self.tensors.get(name).with_context(|| {
            format!("the checkpoint has no tensor `{name}` (not a YOLOv8 detection checkpoint?)")
        })
    }

    fn has(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }
}

// ---------------------------------------------------------------------------------------------
// Blocks

/// Conv2d (no bias) + BatchNorm2d + SiLU, the batch norm folded into the convolution.
struct ConvBnSilu {
    conv: Conv2d,
    out_channels: usize,
}

impl ConvBnSilu {
    fn load(w: &Weights, prefix: &str, stride: usize) -> Result<Self> {
        let weight = w.get(&format!("{prefix}.conv.weight"))?;
        let (c_out, _c_in, k, k2) = weight.dims4()?;
        ensure!(
            k == k2,
            "`{prefix}.conv.weight`: a {k}x{k2} kernel is not square"
        );
        let gamma = w.get(&format!("{prefix}.bn.weight"))?;
        let beta = w.get(&format!("{prefix}.bn.bias"))?;
        let mean = w.get(&format!("{prefix}.bn.running_mean"))?;
        let var = w.get(&format!("{prefix}.bn.running_var"))?;
        let scale = gamma.div(&(var + BN_EPS)?.sqrt()?)?;
        let weight = weight.broadcast_mul(&scale.reshape((c_out, 1, 1, 1))?)?;
        let bias = beta.sub(&mean.mul(&scale)?)?;
        let cfg = Conv2dConfig {
            padding: k / 2,
            stride,
            dilation: 1,
            groups: 1,
            cudnn_fwd_algo: None,
        };
        Ok(ConvBnSilu {
            conv: Conv2d::new(weight, Some(bias), cfg),
            out_channels: c_out,
        })
    }
}

impl Module for ConvBnSilu {
    fn forward(&self, xs: &Tensor) -> candle_core::Result<Tensor> {
        candle_nn::ops::silu(&self.conv.forward(xs)?)
    }
}

/// A plain Conv2d with bias (the head's last layer of each branch).
fn conv_bias(w: &Weights, prefix: &str) -> Result<Conv2d> {
    let weight = w.get(&format!("{prefix}.weight"))?.clone();
    let bias = w.get(&format!("{prefix}.bias"))?.clone();
    Ok(Conv2d::new(weight, Some(bias), Conv2dConfig::default()))
}

/// Two 3x3 Conv-BN-SiLU with an optional residual.
struct Bottleneck {
    cv1: ConvBnSilu,
    cv2: ConvBnSilu,
    add: bool,
}

/// C2f: split cv1's output in two, chain bottlenecks on the second half, concatenate every
/// intermediate, project with cv2.
struct C2f {
    cv1: ConvBnSilu,
    cv2: ConvBnSilu,
    m: Vec<Bottleneck>,
}

impl C2f {
    fn load(w: &Weights, prefix: &str, shortcut: bool) -> Result<Self> {
        let cv1 = ConvBnSilu::load(w, &format!("{prefix}.cv1"), 1)?;
        let cv2 = ConvBnSilu::load(w, &format!("{prefix}.cv2"), 1)?;
        let mut m = Vec::new();
        while w.has(&format!("{prefix}.m.{}.cv1.conv.weight", m.len())) {
            let p = format!("{prefix}.m.{}", m.len());
            let b1 = ConvBnSilu::load(w, &format!("{p}.cv1"), 1)?;
            let b2 = ConvBnSilu::load(w, &format!("{p}.cv2"), 1)?;
            let c_in = cv1.out_channels / 2;
            m.push(Bottleneck {
                add: shortcut && c_in == b2.out_channels,
                cv1: b1,
                cv2: b2,
            });
        }
        ensure!(
            !m.is_empty(),
            "`{prefix}`: a C2f block without bottlenecks (`{prefix}.m.0`)"
        );
        Ok(C2f { cv1, cv2, m })
    }

    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let ys = self.cv1.forward(xs)?;
        let mut parts = ys.chunk(2, 1)?;
        for b in &self.m {
            let last = parts.last().expect("chunk gives two parts");
            let y = b.cv2.forward(&b.cv1.forward(last)?)?;
            let y = if b.add { (last + y)? } else { y };
            parts.push(y);
        }
        Ok(self.cv2.forward(&Tensor::cat(&parts, 1)?)?)
    }
}

/// Spatial pyramid pooling, fast: three chained 5x5 max pools (stride 1, padding 2).
struct Sppf {
    cv1: ConvBnSilu,
    cv2: ConvBnSilu,
}

/// Pad dims 2 and 3 by `p` on each side with -inf (PyTorch's max-pool padding; zero padding
/// would win over negative SiLU outputs at the borders).
fn pad_neg_inf(xs: &Tensor, p: usize) -> Result<Tensor> {
    let (b, c, h, w) = xs.dims4()?;
    let dev = xs.device();
    let side = Tensor::full(f32::NEG_INFINITY, (b, c, h, p), dev)?;
    let xs = Tensor::cat(&[&side, xs, &side], 3)?;
    let top = Tensor::full(f32::NEG_INFINITY, (b, c, p, w + 2 * p), dev)?;
    Ok(Tensor::cat(&[&top, &xs, &top], 2)?)
}

impl Sppf {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let x = self.cv1.forward(xs)?;
        let pool = |t: &Tensor| -> Result<Tensor> {
            Ok(pad_neg_inf(t, 2)?.max_pool2d_with_stride((5, 5), (1, 1))?)
        };
        let y1 = pool(&x)?;
        let y2 = pool(&y1)?;
        let y3 = pool(&y2)?;
        Ok(self.cv2.forward(&Tensor::cat(&[&x, &y1, &y2, &y3], 1)?)?)
    }
}

/// One level of the decoupled head: the box branch (cv2) and the class branch (cv3).
struct HeadLevel {
    box_convs: [ConvBnSilu; 2],
    box_out: Conv2d,
    cls_convs: [ConvBnSilu; 2],
    cls_out: Conv2d,
}

impl HeadLevel {
    fn load(w: &Weights, level: usize) -> Result<Self> {
        let b = format!("model.22.cv2.{level}");
        let c = format!("model.22.cv3.{level}");
        Ok(HeadLevel {
            box_convs: [
                ConvBnSilu::load(w, &format!("{b}.0"), 1)?,
                ConvBnSilu::load(w, &format!("{b}.1"), 1)?,
            ],
            box_out: conv_bias(w, &format!("{b}.2"))?,
            cls_convs: [
                ConvBnSilu::load(w, &format!("{c}.0"), 1)?,
                ConvBnSilu::load(w, &format!("{c}.1"), 1)?,
            ],
            cls_out: conv_bias(w, &format!("{c}.2"))?,
        })
    }

    /// `(B, 4*reg_max + nc, H*W)`.
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let bx = self
            .box_out
            .forward(&self.box_convs[1].forward(&self.box_convs[0].forward(xs)?)?)?;
        let cl = self
            .cls_out
            .forward(&self.cls_convs[1].forward(&self.cls_convs[0].forward(xs)?)?)?;
        let out = Tensor::cat(&[&bx, &cl], 1)?;
        let (b, ch, h, w) = out.dims4()?;
        Ok(out.reshape((b, ch, h * w))?)
    }
}

// ---------------------------------------------------------------------------------------------
// The model

/// A YOLOv8 detection model.
pub struct YoloV8 {
    backbone_convs: [ConvBnSilu; 5], // layers 0, 1, 3, 5, 7
    backbone_c2f: [C2f; 4],          // layers 2, 4, 6, 8
    sppf: Sppf,                      // layer 9
    neck_c2f: [C2f; 4],              // layers 12, 15, 18, 21
    neck_down: [ConvBnSilu; 2],      // layers 16, 19
    head: [HeadLevel; 3],
    /// DFL bins per box side.
    pub reg_max: usize,
    /// Number of classes.
    pub nc: usize,
}

/// The model's outputs for a batch.
pub struct HeadOutput {
    /// `(B, 4*reg_max + nc, A)`: box DFL logits then class logits per anchor, anchors of P3, P4
    /// and P5 in row-major order (Ultralytics' `boxes` and `scores` concatenated).
    pub raw: Tensor,
    /// `(B, 4 + nc, A)`: box centre x, y, width, height in input pixels, then class sigmoids
    /// (Ultralytics' inference output before NMS).
    pub decoded: Tensor,
}

impl YoloV8 {
    /// Build from Ultralytics-named weights; sizes come from the tensor shapes.
    pub fn new(w: &Weights) -> Result<Self> {
        let c = |i: usize, stride: usize| ConvBnSilu::load(w, &format!("model.{i}"), stride);
        let f = |i: usize, shortcut: bool| C2f::load(w, &format!("model.{i}"), shortcut);
        let dfl = w.get("model.22.dfl.conv.weight")?;
        let reg_max = dfl.dims4()?.1;
        let nc = w.get("model.22.cv3.0.2.weight")?.dims4()?.0;
        let model = YoloV8 {
            backbone_convs: [c(0, 2)?, c(1, 2)?, c(3, 2)?, c(5, 2)?, c(7, 2)?],
            backbone_c2f: [f(2, true)?, f(4, true)?, f(6, true)?, f(8, true)?],
            sppf: Sppf {
                cv1: ConvBnSilu::load(w, "model.9.cv1", 1)?,
                cv2: ConvBnSilu::load(w, "model.9.cv2", 1)?,
            },
            neck_c2f: [f(12, false)?, f(15, false)?, f(18, false)?, f(21, false)?],
            neck_down: [c(16, 2)?, c(19, 2)?],
            head: [
                HeadLevel::load(w, 0)?,
                HeadLevel::load(w, 1)?,
                HeadLevel::load(w, 2)?,
            ],
            reg_max,
            nc,
        };
        let box_ch = w.get("model.22.cv2.0.2.weight")?.dims4()?.0;
        ensure!(
            box_ch == 4 * reg_max,
            "the box branch has {box_ch} outputs, expected 4 x reg_max = {}",
            4 * reg_max
        );
        Ok(model)
    }

    /// Run on `(B, 3, H, W)` RGB in 0..1 (H and W multiples of 32).
    pub fn forward(&self, xs: &Tensor) -> Result<HeadOutput> {
        let (_, _, h, w) = xs.dims4()?;
        ensure!(
            h % 32 == 0 && w % 32 == 0,
            "input {h}x{w}: height and width must be multiples of 32"
        );
        let [c0, c1, c3, c5, c7] = &self.backbone_convs;
        let [f2, f4, f6, f8] = &self.backbone_c2f;
        let x = c1.forward(&c0.forward(xs)?)?;
        let p3 = f4.forward(&c3.forward(&f2.forward(&x)?)?)?;
        let p4 = f6.forward(&c5.forward(&p3)?)?;
        let p5 = self.sppf.forward(&f8.forward(&c7.forward(&p4)?)?)?;
        let up = |t: &Tensor| -> Result<Tensor> {
            let (_, _, th, tw) = t.dims4()?;
            Ok(t.upsample_nearest2d(th * 2, tw * 2)?)
        };
        let [n12, n15, n18, n21] = &self.neck_c2f;
        let [d16, d19] = &self.neck_down;
        let h12 = n12.forward(&Tensor::cat(&[&up(&p5)?, &p4], 1)?)?;
        let h15 = n15.forward(&Tensor::cat(&[&up(&h12)?, &p3], 1)?)?;
        let h18 = n18.forward(&Tensor::cat(&[&d16.forward(&h15)?, &h12], 1)?)?;
        let h21 = n21.forward(&Tensor::cat(&[&d19.forward(&h18)?, &p5], 1)?)?;
        let levels = [(&h15, 8usize), (&h18, 16), (&h21, 32)];
        let mut raws = Vec::with_capacity(3);
        for (head, (feat, _)) in self.head.iter().zip(levels) {
            raws.push(head.forward(feat)?);
        }
        let raw = Tensor::cat(&raws, 2)?;
        let decoded = self.decode(&raw, &levels)?;
        Ok(HeadOutput { raw, decoded })
    }

    /// DFL decoding: per side, the softmax over `reg_max` bins weighted by the bin index is the
    /// distance from the anchor (cell centre) in cells; boxes as centre + size, times stride.
    fn decode(&self, raw: &Tensor, levels: &[(&Tensor, usize); 3]) -> Result<Tensor> {
        let (b, _, a) = raw.dims3()?;
        let dev = raw.device();
        let r = self.reg_max;
        let mut ax = Vec::with_capacity(a);
        let mut ay = Vec::with_capacity(a);
        let mut st = Vec::with_capacity(a);
        for (feat, stride) in levels {
            let (_, _, h, w) = feat.dims4()?;
            for y in 0..h {
                for x in 0..w {
                    ax.push(x as f32 + 0.5);
                    ay.push(y as f32 + 0.5);
                    st.push(*stride as f32);
                }
            }
        }
        ensure!(ax.len() == a, "{} anchors for {a} outputs", ax.len());
        let ax = Tensor::from_vec(ax, (1, 1, a), dev)?;
        let ay = Tensor::from_vec(ay, (1, 1, a), dev)?;
        let st = Tensor::from_vec(st, (1, 1, a), dev)?;
        let bins = Tensor::arange(0f32, r as f32, dev)?.reshape((1, 1, r, 1))?;
        let logits = raw.narrow(1, 0, 4 * r)?.reshape((b, 4, r, a))?;
        let dist = candle_nn::ops::softmax(&logits, 2)?
            .broadcast_mul(&bins)?
            .sum(2)?; // (b, 4, a): left, top, right, bottom
        let side = |i: usize| dist.narrow(1, i, 1);
        let x0 = ax.broadcast_sub(&side(0)?)?;
        let y0 = ay.broadcast_sub(&side(1)?)?;
        let x1 = ax.broadcast_add(&side(2)?)?;
        let y1 = ay.broadcast_add(&side(3)?)?;
        let cx = ((&x0 + &x1)? * 0.5)?.broadcast_mul(&st)?;
        let cy = ((&y0 + &y1)? * 0.5)?.broadcast_mul(&st)?;
        let bw = (x1 - x0)?.broadcast_mul(&st)?;
        let bh = (y1 - y0)?.broadcast_mul(&st)?;
        let cls = candle_nn::ops::sigmoid(&raw.narrow(1, 4 * r, self.nc)?)?;
        Ok(Tensor::cat(&[&cx, &cy, &bw, &bh, &cls], 1)?)
    }
}

// ---------------------------------------------------------------------------------------------
// Letterbox and post-processing

/// How an image was placed in the letterboxed square: `input = original * gain + (pad_x, pad_y)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Letterbox {
    pub gain: f32,
    pub pad_x: f32,
    pub pad_y: f32,
    /// The original image's size.
    pub width: u32,
    pub height: u32,
}

/// Letterbox `img` into a `size` × `size` square as CHW f32 in 0..1 (RGB), appended to `out`.
pub fn letterbox(img: &RgbImage, size: u32, out: &mut Vec<f32>) -> Letterbox {
    let (w, h) = img.dimensions();
    let gain = (size as f32 / h as f32).min(size as f32 / w as f32);
    let nw = ((w as f32 * gain).round() as u32).clamp(1, size);
    let nh = ((h as f32 * gain).round() as u32).clamp(1, size);
    let dw = (size - nw) as f32 / 2.0;
    let dh = (size - nh) as f32 / 2.0;
    let left = (dw - 0.1).round().max(0.0) as u32;
    let top = (dh - 0.1).round().max(0.0) as u32;
    let resized;
    let src = if (nw, nh) == (w, h) {
        img
    } else {
        resized = image::imageops::resize(img, nw, nh, image::imageops::FilterType::Triangle);
        &resized
    };
    let plane = (size * size) as usize;
    let base = out.len();
    out.resize(base + 3 * plane, PAD_VALUE as f32 / 255.0);
    for (x, y, p) in src.enumerate_pixels() {
        let i = ((y + top) * size + (x + left)) as usize;
        for c in 0..3 {
            out[base + c * plane + i] = p[c] as f32 / 255.0;
        }
    }
    Letterbox {
        gain,
        pad_x: left as f32,
        pad_y: top as f32,
        width: w,
        height: h,
    }
}

/// Intersection over union of two `[x0, y0, x1, y1]` boxes (0 when the union is empty).
pub fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let iw = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let ih = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = iw * ih;
    let area = |r: &[f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let union = area(a) + area(b) - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}

/// A candidate box before NMS: corners, class index, score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub bbox: [f32; 4],
    pub class: usize,
    pub score: f32,
}

/// Class-wise greedy NMS: candidates by descending score (ties keep input order); a candidate
/// is dropped when it overlaps a kept box **of the same class** with IoU > `iou_threshold`; at
/// most `max_det` are kept.
pub fn nms(mut cands: Vec<Candidate>, iou_threshold: f32, max_det: usize) -> Vec<Candidate> {
    cands.sort_by(|a, b| b.score.total_cmp(&a.score));
    cands.truncate(MAX_NMS);
    let mut kept: Vec<Candidate> = Vec::new();
    for c in cands {
        if kept.len() >= max_det {
            break;
        }
        if kept
            .iter()
            .all(|k| k.class != c.class || iou(&k.bbox, &c.bbox) <= iou_threshold)
        {
            kept.push(c);
        }
    }
    kept
}

/// One image's detections from its decoded output `(4 + nc, A)` (row-major `values`): each
/// anchor's best class if its score ≥ `conf`, corners from centre/size, class-wise NMS, then
/// back to the original image through `lb` (clipped to the image).
pub fn postprocess(values: &[f32], nc: usize, anchors: usize, lb: &Letterbox) -> Vec<Candidate> {
    let at = |row: usize, a: usize| values[row * anchors + a];
    let mut cands = Vec::new();
    for a in 0..anchors {
        let (mut best, mut score) = (0, f32::NEG_INFINITY);
        for k in 0..nc {
            let s = at(4 + k, a);
            if s > score {
                (best, score) = (k, s);
            }
        }
        if score < CONF_EVAL {
            continue;
        }
        let (cx, cy, w, h) = (at(0, a), at(1, a), at(2, a), at(3, a));
        cands.push(Candidate {
            bbox: [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0],
            class: best,
            score,
        });
    }
    let mut kept = nms(cands, NMS_IOU, MAX_DET);
    let (wmax, hmax) = (lb.width as f32, lb.height as f32);
    for c in &mut kept {
        let b = &mut c.bbox;
        b[0] = ((b[0] - lb.pad_x) / lb.gain).clamp(0.0, wmax);
        b[2] = ((b[2] - lb.pad_x) / lb.gain).clamp(0.0, wmax);
        b[1] = ((b[1] - lb.pad_y) / lb.gain).clamp(0.0, hmax);
        b[3] = ((b[3] - lb.pad_y) / lb.gain).clamp(0.0, hmax);
    }
    kept
}

// ---------------------------------------------------------------------------------------------
// The runner

/// One evaluation row with its decoded image.
pub struct ImageRow {
    pub row: DetectionRow,
    pub image: RgbImage,
}

/// Decode every row's image (before metering); a file that cannot be read or decoded is one
/// error naming the dataset file, line and image.
pub fn decode_rows(rows: &[DetectionRow]) -> Result<Vec<ImageRow>> {
    rows.iter()
        .map(|row| {
            let bytes = row.image.read().map_err(|e| {
                anyhow::anyhow!("{}: image {}: {e:#}", row.at, row.image.describe())
            })?;
            let img = image::load_from_memory(&bytes).map_err(|e| {
                anyhow::anyhow!(
                    "{}: image {} cannot be decoded: {e}",
                    row.at,
                    row.image.describe()
                )
            })?;
            Ok(ImageRow {
                row: row.clone(),
                image: img.to_rgb8(),
            })
        })
        .collect()
}

/// The COCO class names of the 80-class Ultralytics checkpoints, in index order.
pub const COCO_CLASSES: [&str; 80] = [
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "airplane",
    "bus",
    "train",
    "truck",
    "boat",
    "traffic light",
    "fire hydrant",
    "stop sign",
    "parking meter",
    "bench",
    "bird",
    "cat",
    "dog",
    "horse",
    "sheep",
    "cow",
    "elephant",
    "bear",
    "zebra",
    "giraffe",
    "backpack",
    "umbrella",
    "handbag",
    "tie",
    "suitcase",
    "frisbee",
    "skis",
    "snowboard",
    "sports ball",
    "kite",
    "baseball bat",
    "baseball glove",
    "skateboard",
    "surfboard",
    "tennis racket",
    "bottle",
    "wine glass",
    "cup",
    "fork",
    "knife",
    "spoon",
    "bowl",
    "banana",
    "apple",
    "sandwich",
    "orange",
    "broccoli",
    "carrot",
    "hot dog",
    "pizza",
    "donut",
    "cake",
    "chair",
    "couch",
    "potted plant",
    "bed",
    "dining table",
    "toilet",
    "tv",
    "laptop",
    "mouse",
    "remote",
    "keyboard",
    "cell phone",
    "microwave",
    "oven",
    "toaster",
    "sink",
    "refrigerator",
    "book",
    "clock",
    "vase",
    "scissors",
    "teddy bear",
    "hair drier",
    "toothbrush",
];

/// A loaded YOLOv8 with its settings.
pub struct YoloModel {
    pub model: YoloV8,
    pub classes: Vec<String>,
    pub imgsz: u32,
    pub device: Device,
}

impl YoloModel {
    /// Detections for a batch of images (letterbox, model, decode, NMS).
    pub fn detect(&self, images: &[&RgbImage]) -> Result<Vec<Vec<Detection>>> {
        let mut input = Vec::with_capacity(images.len() * 3 * (self.imgsz * self.imgsz) as usize);
        let boxes: Vec<Letterbox> = images
            .iter()
            .map(|img| letterbox(img, self.imgsz, &mut input))
            .collect();
        let s = self.imgsz as usize;
        let xs = Tensor::from_vec(input, (images.len(), 3, s, s), &self.device)?;
        let out = self.model.forward(&xs)?;
        let (_, rows, anchors) = out.decoded.dims3()?;
        let decoded = out.decoded.to_vec3::<f32>()?;
        let mut all = Vec::with_capacity(images.len());
        for (per_image, lb) in decoded.iter().zip(&boxes) {
            let flat: Vec<f32> = per_image.iter().flatten().copied().collect();
            debug_assert_eq!(flat.len(), rows * anchors);
            let kept = postprocess(&flat, self.model.nc, anchors, lb);
            all.push(
                kept.into_iter()
                    .map(|c| Detection {
                        bbox: c.bbox,
                        label: self.class_name(c.class),
                        score: c.score,
                    })
                    .collect(),
            );
        }
        Ok(all)
    }

    fn class_name(&self, k: usize) -> String {
        self.classes
            .get(k)
            .cloned()
            .unwrap_or_else(|| k.to_string())
    }
}

impl RowModel for YoloModel {
    type Row = ImageRow;

    fn predict(&self, rows: &[&ImageRow]) -> Result<Vec<(Prediction, usize)>> {
        let images: Vec<&RgbImage> = rows.iter().map(|r| &r.image).collect();
        Ok(self
            .detect(&images)?
            .into_iter()
            .map(|d| (Prediction::Detections(d), 0))
            .collect())
    }

    fn quality(&self, rows: &[ImageRow], outcomes: &[QueryOutcome]) -> Result<Quality> {
        let mut golds = Vec::with_capacity(outcomes.len());
        let mut preds = Vec::with_capacity(outcomes.len());
        for o in outcomes {
            let Prediction::Detections(d) = &o.prediction else {
                bail!("item {}: expected detections", o.item);
            };
            let r = &row_at(rows, o.item)?.row;
            golds.push(crate::metrics::detection::GoldBoxes {
                boxes: r.boxes.clone(),
                labels: r.labels.clone(),
            });
            preds.push(d.clone());
        }
        crate::metrics::detection::quality(&golds, &preds, CONF_PREDICT)
    }

    fn dtype(&self) -> String {
        "f32".to_string()
    }
}

/// Load a YOLOv8 runner: weights, class names (`classes` setting; else the COCO names for an
/// 80-class checkpoint; else class indices), `imgsz` (default 640, a multiple of 32) and the
/// dataset's images, decoded now.
pub fn load(
    entry: &ModelEntry,
    files: &ModelFiles,
    dataset: &LoadedDataset,
    opts: &RunnerOptions,
) -> Result<Box<dyn Runner>> {
    let DatasetRows::Detection(rows) = &dataset.rows else {
        bail!(
            "dataset `{}` is not an object-detection dataset (model `{}`)",
            dataset.id,
            entry.id
        );
    };
    let imgsz = entry.setting_usize("imgsz")?.unwrap_or(640);
    ensure!(
        imgsz >= 32 && imgsz % 32 == 0,
        "model `{}`: setting `imgsz` = {imgsz} must be a positive multiple of 32",
        entry.id
    );
    let path = safetensors_weights(entry, files)?;
    let weights = Weights::load(&path, &opts.device)
        .with_context(|| format!("loading YOLOv8 `{}`", entry.id))?;
    let model = YoloV8::new(&weights).with_context(|| format!("loading YOLOv8 `{}`", entry.id))?;
    let classes = match entry.setting_str_list("classes")? {
        Some(c) => {
            ensure!(
                c.len() == model.nc,
                "model `{}`: `classes` names {} classes, the checkpoint has {}",
                entry.id,
                c.len(),
                model.nc
            );
            c
        }
        None if model.nc == COCO_CLASSES.len() => {
            COCO_CLASSES.iter().map(|s| s.to_string()).collect()
        }
        None => (0..model.nc).map(|k| k.to_string()).collect(),
    };
    let gold: BTreeSet<&str> = rows
        .iter()
        .flat_map(|r| r.labels.iter().map(String::as_str))
        .collect();
    // A multi-class set is scored by label: every gold label must be one the model can output.
    if gold.len() > 1 {
        let unknown: Vec<&str> = gold
            .iter()
            .copied()
            .filter(|l| !classes.iter().any(|c| c == l))
            .collect();
        ensure!(
            unknown.is_empty(),
            "dataset `{}`: labels {unknown:?} are not classes of model `{}` (its classes: {})",
            dataset.id,
            entry.id,
            classes.join(", ")
        );
    }
    let images = decode_rows(rows)?;
    Ok(Box::new(RowsRunner::new(
        YoloModel {
            model,
            classes,
            imgsz: imgsz as u32,
            device: opts.device.clone(),
        },
        images,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_by_hand() {
        // 10x10 boxes overlapping in a 5x10 strip: 50 / (100 + 100 - 50) = 1/3.
        assert!((iou(&[0., 0., 10., 10.], &[5., 0., 15., 10.]) - 1.0 / 3.0).abs() < 1e-6);
        assert_eq!(iou(&[0., 0., 10., 10.], &[10., 0., 20., 10.]), 0.0);
        assert_eq!(iou(&[0., 0., 10., 10.], &[0., 0., 10., 10.]), 1.0);
        // Inside: 4 / 100.
        assert!((iou(&[0., 0., 10., 10.], &[1., 1., 3., 3.]) - 0.04).abs() < 1e-6);
        assert_eq!(iou(&[0., 0., 0., 0.], &[0., 0., 0., 0.]), 0.0);
    }

    #[test]
    fn nms_suppresses_within_a_class_only() {
        let c = |bbox, class, score| Candidate { bbox, class, score };
        let cands = vec![
            c([0., 0., 10., 10.], 0, 0.6),
            c([1., 0., 11., 10.], 0, 0.9), // IoU with the first: 90/110 = 0.818 > 0.7
            c([1., 0., 11., 10.], 1, 0.5), // same place, other class: kept
            c([5., 0., 15., 10.], 0, 0.8), // IoU with the 0.9 box: 60/140 = 0.43: kept
            c([50., 50., 60., 60.], 0, 0.1),
        ];
        let kept = nms(cands.clone(), 0.7, 300);
        let scores: Vec<f32> = kept.iter().map(|k| k.score).collect();
        assert_eq!(scores, [0.9, 0.8, 0.5, 0.1]);
        // A lower threshold also drops the 0.8 box (0.43 > 0.4).
        let kept = nms(cands.clone(), 0.4, 300);
        let scores: Vec<f32> = kept.iter().map(|k| k.score).collect();
        assert_eq!(scores, [0.9, 0.5, 0.1]);
        assert_eq!(nms(cands, 0.7, 2).len(), 2);
    }

    #[test]
    fn letterbox_places_and_postprocess_maps_back() {
        // A 64x32 image into a 64x64 square: gain 1, 16 rows of padding above and below.
        let img = RgbImage::from_pixel(64, 32, image::Rgb([255, 0, 0]));
        let mut out = Vec::new();
        let lb = letterbox(&img, 64, &mut out);
        assert_eq!(out.len(), 3 * 64 * 64);
        assert_eq!((lb.gain, lb.pad_x, lb.pad_y), (1.0, 0.0, 16.0));
        assert_eq!(out[0], 114.0 / 255.0); // R, row 0: padding
        assert_eq!(out[16 * 64], 1.0); // R, row 16: image
        assert_eq!(out[64 * 64 + 16 * 64], 0.0); // G, row 16
        assert_eq!(out[47 * 64], 1.0);
        assert_eq!(out[48 * 64], 114.0 / 255.0);
        // A 128x64 image into 64: gain 0.5, the same placement.
        let lb2 = letterbox(&RgbImage::new(128, 64), 64, &mut Vec::new());
        assert_eq!((lb2.gain, lb2.pad_x, lb2.pad_y), (0.5, 0.0, 16.0));
        // One anchor, 2 classes: centre (32, 32) size 20x10 in the square, class 1 at 0.8.
        let values = [32.0, 32.0, 20.0, 10.0, 0.1, 0.8];
        let d = postprocess(&values, 2, 1, &lb2);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].class, 1);
        // Square corners (22, 27, 42, 37) → minus padding (0, 16) → divided by 0.5.
        assert_eq!(d[0].bbox, [44.0, 22.0, 84.0, 42.0]);
        // Below CONF_EVAL: nothing.
        assert!(postprocess(&[32.0, 32.0, 20.0, 10.0, 0.0, 0.0005], 2, 1, &lb2).is_empty());
    }

    #[test]
    fn candle_example_names_map_to_ultralytics_names() {
        assert_eq!(
            ultralytics_name("net.b2.0.bottleneck.1.cv1.conv.weight"),
            "model.2.m.1.cv1.conv.weight"
        );
        assert_eq!(
            ultralytics_name("fpn.n6.cv2.bn.running_var"),
            "model.21.cv2.bn.running_var"
        );
        assert_eq!(
            ultralytics_name("head.dfl.conv.weight"),
            "model.22.dfl.conv.weight"
        );
        assert_eq!(
            ultralytics_name("head.cv3.2.2.bias"),
            "model.22.cv3.2.2.bias"
        );
        assert_eq!(
            ultralytics_name("model.9.cv1.conv.weight"),
            "model.9.cv1.conv.weight"
        );
    }
}
