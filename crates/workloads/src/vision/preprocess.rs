//! Image preprocessing as the Hugging Face image processors do it: resize (to a fixed size, or
//! the shortest edge to a length, optionally through ConvNeXt's `crop_pct`), centre crop,
//! rescale (×1/255) and normalise per channel, ending in a `(batch, 3, H, W)` f32 tensor.
//!
//! [`Preprocess::from_config`] reads a checkpoint's `preprocessor_config.json` (the keys of
//! `ViTImageProcessor`, `ConvNextImageProcessor`, `BitImageProcessor`, ... and the older
//! feature-extractor files where `size` and `crop_size` are plain numbers); a key it does not
//! set keeps the family's default given by the runner. This runs inside the meter window: the
//! anchors meter the whole pipeline call, preprocessing included.

use std::path::Path;

use anyhow::{bail, Context, Result};
use candle_core::{Device, Tensor};
use image::imageops::{self, FilterType};
use image::RgbImage;
use serde_json::Value;

/// ImageNet channel means (RGB, on 0..1 pixels): torchvision's and transformers' constant.
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// ImageNet channel standard deviations (RGB, on 0..1 pixels).
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// How the image is resized before the crop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Resize {
    /// Keep the decoded size.
    None,
    /// Warp to exactly this size (ViT: 224×224).
    Exact { height: u32, width: u32 },
    /// Scale so the shorter side is this long, keeping the aspect ratio (longer side
    /// truncated as `int(size * long / short)`, as transformers does).
    ShortestEdge(u32),
    /// ConvNeXt/ResNet's `crop_pct`: below 384 pixels, scale the shorter side to
    /// `int(size / crop_pct)` and then centre-crop `size`×`size`; from 384 on, warp to
    /// `size`×`size` with no crop.
    ShortestEdgeCropPct { size: u32, crop_pct: f64 },
}

/// The resampling filter (PIL's codes in `preprocessor_config.json`: 0 nearest, 1 Lanczos,
/// 2 bilinear, 3 bicubic; 4 box and 5 Hamming map to bilinear, the closest the `image` crate
/// has).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resample {
    Nearest,
    Bilinear,
    Bicubic,
    Lanczos,
}

impl Resample {
    fn from_pil(code: i64) -> Option<Resample> {
        Some(match code {
            0 => Resample::Nearest,
            1 => Resample::Lanczos,
            2 | 4 | 5 => Resample::Bilinear,
            3 => Resample::Bicubic,
            _ => return None,
        })
    }

    fn filter(self) -> FilterType {
        match self {
            Resample::Nearest => FilterType::Nearest,
            Resample::Bilinear => FilterType::Triangle,
            // Catmull-Rom is the cubic with a = -0.5, PIL's bicubic.
            Resample::Bicubic => FilterType::CatmullRom,
            Resample::Lanczos => FilterType::Lanczos3,
        }
    }
}

/// A preprocessing pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Preprocess {
    pub resize: Resize,
    pub resample: Resample,
    /// Centre crop to `(height, width)` after the resize.
    pub crop: Option<(u32, u32)>,
    /// Multiply 0..255 pixel values by this (1/255 usually); `None` keeps 0..255.
    pub rescale: Option<f32>,
    /// Subtract `mean` and divide by `std` per channel (RGB), after rescaling; `None` skips.
    pub normalize: Option<([f32; 3], [f32; 3])>,
}

impl Preprocess {
    /// The usual ImageNet pipeline of torchvision-trained models: shorter side to
    /// `resize_to`, centre crop `crop`×`crop`, ×1/255, ImageNet mean/std, bilinear.
    pub fn imagenet(resize_to: u32, crop: u32) -> Preprocess {
        Preprocess {
            resize: Resize::ShortestEdge(resize_to),
            resample: Resample::Bilinear,
            crop: Some((crop, crop)),
            rescale: Some(1.0 / 255.0),
            normalize: Some((IMAGENET_MEAN, IMAGENET_STD)),
        }
    }

    /// The pipeline of `preprocessor_config.json` at `path` when the file exists, `defaults`
    /// otherwise; keys the file does not set keep their default.
    pub fn from_file_or(path: Option<&Path>, defaults: Preprocess) -> Result<Preprocess> {
        match path {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read {}", p.display()))?;
                let json: Value = serde_json::from_str(&text)
                    .with_context(|| format!("{}: invalid JSON", p.display()))?;
                Self::from_config(&json, defaults)
                    .with_context(|| format!("{}: unusable preprocessor config", p.display()))
            }
            None => Ok(defaults),
        }
    }

    /// Apply a parsed `preprocessor_config.json` on top of `defaults`.
    pub fn from_config(json: &Value, defaults: Preprocess) -> Result<Preprocess> {
        let Value::Object(map) = json else {
            bail!("expected a JSON object");
        };
        let mut p = defaults;
        let flag = |key: &str| -> Result<Option<bool>> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Bool(b)) => Ok(Some(*b)),
                Some(other) => bail!("\"{key}\": expected true or false, got {other}"),
            }
        };
        if let Some(code) = map.get("resample").filter(|v| !v.is_null()) {
            let c = code
                .as_i64()
                .with_context(|| format!("\"resample\": expected a PIL filter code, got {code}"))?;
            p.resample = Resample::from_pil(c)
                .with_context(|| format!("\"resample\": unknown PIL filter code {c}"))?;
        }
        if let Some(size) = map.get("size").filter(|v| !v.is_null()) {
            let crop_pct = match map.get("crop_pct") {
                Some(Value::Number(n)) => n.as_f64(),
                _ => None,
            };
            p.resize = parse_size(size, crop_pct).context("\"size\"")?;
        }
        if flag("do_resize")? == Some(false) {
            p.resize = Resize::None;
        }
        if let Some(crop) = map.get("crop_size").filter(|v| !v.is_null()) {
            p.crop = Some(parse_hw(crop).context("\"crop_size\"")?);
        }
        match flag("do_center_crop")? {
            Some(false) => p.crop = None,
            Some(true) if p.crop.is_none() => {
                bail!("\"do_center_crop\" is true but no \"crop_size\" is given")
            }
            _ => {}
        }
        if let Some(f) = map.get("rescale_factor").filter(|v| !v.is_null()) {
            let f = f
                .as_f64()
                .with_context(|| format!("\"rescale_factor\": expected a number, got {f}"))?;
            p.rescale = Some(f as f32);
        }
        if flag("do_rescale")? == Some(false) {
            p.rescale = None;
        }
        let triple = |key: &str| -> Result<Option<[f32; 3]>> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Array(a)) if a.len() == 3 && a.iter().all(Value::is_number) => {
                    Ok(Some([0, 1, 2].map(|i| a[i].as_f64().unwrap_or(0.0) as f32)))
                }
                Some(Value::Number(n)) => Ok(Some([n.as_f64().unwrap_or(0.0) as f32; 3])),
                Some(other) => bail!("\"{key}\": expected 3 numbers, got {other}"),
            }
        };
        let (mean, std) = (triple("image_mean")?, triple("image_std")?);
        if mean.is_some() || std.is_some() {
            let (dm, ds) = p.normalize.unwrap_or((IMAGENET_MEAN, IMAGENET_STD));
            p.normalize = Some((mean.unwrap_or(dm), std.unwrap_or(ds)));
        }
        if flag("do_normalize")? == Some(false) {
            p.normalize = None;
        }
        if let Some((_, std)) = &p.normalize {
            if std.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
                bail!("\"image_std\": every value must be positive, got {std:?}");
            }
        }
        Ok(p)
    }

    /// The `(height, width)` of the tensor this pipeline makes from an image of `(h, w)`.
    pub fn output_size(&self, h: u32, w: u32) -> (u32, u32) {
        let (rh, rw) = self.resized_size(h, w);
        match (self.crop, self.resize) {
            (Some(c), _) => c,
            (None, Resize::ShortestEdgeCropPct { size, .. }) if size < 384 => (size, size),
            _ => (rh, rw),
        }
    }

    fn resized_size(&self, h: u32, w: u32) -> (u32, u32) {
        let shortest = |s: u32| {
            let (short, long) = (h.min(w) as u64, h.max(w) as u64);
            let long_new = ((s as u64 * long) / short).max(1) as u32;
            if h <= w {
                (s, long_new)
            } else {
                (long_new, s)
            }
        };
        match self.resize {
            Resize::None => (h, w),
            Resize::Exact { height, width } => (height, width),
            Resize::ShortestEdge(s) => shortest(s),
            Resize::ShortestEdgeCropPct { size, crop_pct } if size < 384 => {
                shortest((size as f64 / crop_pct) as u32)
            }
            Resize::ShortestEdgeCropPct { size, .. } => (size, size),
        }
    }

    /// Resize and crop one image (still 8-bit RGB).
    pub fn geometry(&self, img: &RgbImage) -> RgbImage {
        let (h, w) = (img.height(), img.width());
        let (rh, rw) = self.resized_size(h, w);
        let resized = if (rh, rw) == (h, w) {
            img.clone()
        } else {
            imageops::resize(img, rw, rh, self.resample.filter())
        };
        let crop = match (self.crop, self.resize) {
            (Some(c), _) => Some(c),
            (None, Resize::ShortestEdgeCropPct { size, .. }) if size < 384 => Some((size, size)),
            _ => None,
        };
        match crop {
            Some((ch, cw)) => centre_crop(&resized, ch, cw),
            None => resized,
        }
    }

    /// The CHW f32 values of one image after the whole pipeline.
    pub fn chw(&self, img: &RgbImage) -> (Vec<f32>, u32, u32) {
        let img = self.geometry(img);
        let (h, w) = (img.height(), img.width());
        let plane = (h * w) as usize;
        let mut out = vec![0f32; 3 * plane];
        let scale = self.rescale.unwrap_or(1.0);
        let (mean, std) = self.normalize.unwrap_or(([0.0; 3], [1.0; 3]));
        for (i, px) in img.pixels().enumerate() {
            for c in 0..3 {
                out[c * plane + i] = (px.0[c] as f32 * scale - mean[c]) / std[c];
            }
        }
        (out, h, w)
    }

    /// A `(batch, 3, H, W)` tensor of `images`, which must all come out the same size (a
    /// crop or a fixed resize guarantees it).
    pub fn batch(&self, images: &[&RgbImage], device: &Device) -> Result<Tensor> {
        anyhow::ensure!(!images.is_empty(), "no images to preprocess");
        let mut data = Vec::new();
        let mut size = None;
        for img in images {
            let (chw, h, w) = self.chw(img);
            match size {
                None => size = Some((h, w)),
                Some(s) if s != (h, w) => bail!(
                    "images of one batch come out at different sizes ({}×{} and {h}×{w}): \
                     use batch size 1 or a preprocessing with a crop",
                    s.0,
                    s.1
                ),
                _ => {}
            }
            data.extend_from_slice(&chw);
        }
        let (h, w) = size.unwrap_or((0, 0));
        Ok(Tensor::from_vec(
            data,
            (images.len(), 3, h as usize, w as usize),
            device,
        )?)
    }
}

/// The centre `height`×`width` of `img` (top-left at `(h - height) / 2`, rounded down, as
/// transformers' `center_crop`); a crop larger than the image is padded with zeros around it.
fn centre_crop(img: &RgbImage, height: u32, width: u32) -> RgbImage {
    let (h, w) = (img.height() as i64, img.width() as i64);
    let top = (h - height as i64).div_euclid(2);
    let left = (w - width as i64).div_euclid(2);
    RgbImage::from_fn(width, height, |x, y| {
        let (sx, sy) = (x as i64 + left, y as i64 + top);
        if sx >= 0 && sy >= 0 && sx < w && sy < h {
            *img.get_pixel(sx as u32, sy as u32)
        } else {
            image::Rgb([0, 0, 0])
        }
    })
}

fn parse_size(v: &Value, crop_pct: Option<f64>) -> Result<Resize> {
    let positive = |v: &Value, key: &str| -> Result<u32> {
        v.as_u64()
            .filter(|n| *n > 0 && *n <= 16_384)
            .map(|n| n as u32)
            .with_context(|| format!("\"{key}\": expected a positive whole number, got {v}"))
    };
    match v {
        // Old feature extractors: a plain number is a square size.
        Value::Number(_) => {
            let s = positive(v, "size")?;
            Ok(Resize::Exact {
                height: s,
                width: s,
            })
        }
        Value::Object(m) => {
            if let Some(se) = m.get("shortest_edge") {
                let s = positive(se, "shortest_edge")?;
                return Ok(match crop_pct {
                    Some(pct) if pct > 0.0 && pct <= 1.0 => Resize::ShortestEdgeCropPct {
                        size: s,
                        crop_pct: pct,
                    },
                    Some(pct) => bail!("\"crop_pct\" must be in (0, 1], got {pct}"),
                    None => Resize::ShortestEdge(s),
                });
            }
            let (height, width) = parse_hw(v)?;
            Ok(Resize::Exact { height, width })
        }
        other => bail!("expected a number or an object, got {other}"),
    }
}

fn parse_hw(v: &Value) -> Result<(u32, u32)> {
    let dim = |x: &Value, key: &str| -> Result<u32> {
        x.as_u64()
            .filter(|n| *n > 0 && *n <= 16_384)
            .map(|n| n as u32)
            .with_context(|| format!("\"{key}\": expected a positive whole number, got {x}"))
    };
    match v {
        Value::Number(_) => {
            let s = dim(v, "size")?;
            Ok((s, s))
        }
        Value::Object(m) => match (m.get("height"), m.get("width")) {
            (Some(h), Some(w)) => Ok((dim(h, "height")?, dim(w, "width")?)),
            _ => bail!("expected {{\"height\", \"width\"}}, got {v}"),
        },
        other => bail!("expected a number or {{\"height\", \"width\"}}, got {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;
    use serde_json::json;

    #[test]
    fn vit_config_warps_to_a_fixed_size() {
        let cfg = json!({
            "do_normalize": true, "do_resize": true, "image_mean": [0.5, 0.5, 0.5],
            "image_std": [0.5, 0.5, 0.5], "resample": 2, "rescale_factor": 0.00392156862745098,
            "size": {"height": 224, "width": 224}
        });
        let p = Preprocess::from_config(&cfg, Preprocess::imagenet(256, 224)).unwrap();
        assert_eq!(
            p.resize,
            Resize::Exact {
                height: 224,
                width: 224
            }
        );
        // ViT's config sets no crop key, so the default crop (224) stays: harmless here.
        assert_eq!(p.output_size(480, 640), (224, 224));
        assert_eq!(p.normalize, Some(([0.5; 3], [0.5; 3])));
        let flat = RgbImage::from_pixel(64, 32, Rgb([255, 0, 51]));
        let t = p.batch(&[&flat, &flat], &Device::Cpu).unwrap();
        assert_eq!(t.dims(), [2, 3, 224, 224]);
        let v: Vec<f32> = t.flatten_all().unwrap().to_vec1().unwrap();
        let plane = 224 * 224;
        assert!((v[0] - 1.0).abs() < 1e-6);
        assert!((v[plane] + 1.0).abs() < 1e-6);
        assert!((v[2 * plane] - (0.2 - 0.5) / 0.5).abs() < 1e-5);
    }

    #[test]
    fn convnext_crop_pct_resizes_then_crops() {
        let cfg = json!({"size": {"shortest_edge": 224}, "crop_pct": 0.875, "resample": 3,
                         "do_center_crop": null, "image_mean": [0.485, 0.456, 0.406],
                         "image_std": [0.229, 0.224, 0.225]});
        let mut defaults = Preprocess::imagenet(256, 224);
        defaults.crop = None;
        let p = Preprocess::from_config(&cfg, defaults).unwrap();
        assert_eq!(
            p.resize,
            Resize::ShortestEdgeCropPct {
                size: 224,
                crop_pct: 0.875
            }
        );
        assert_eq!(p.resample, Resample::Bicubic);
        // 300×600 → shorter side 256 (224 / 0.875) → 256×512 → centre 224×224.
        assert_eq!(p.resized_size(300, 600), (256, 512));
        assert_eq!(p.output_size(300, 600), (224, 224));
        let big = Preprocess::from_config(
            &json!({"size": {"shortest_edge": 384}, "crop_pct": 0.875}),
            p.clone(),
        )
        .unwrap();
        assert_eq!(big.output_size(300, 600), (384, 384));
    }

    #[test]
    fn shortest_edge_keeps_the_aspect_ratio_and_the_crop_is_centred() {
        let p = Preprocess {
            resize: Resize::ShortestEdge(4),
            resample: Resample::Nearest,
            crop: Some((2, 2)),
            rescale: None,
            normalize: None,
        };
        assert_eq!(p.resized_size(8, 13), (4, 6));
        assert_eq!(p.resized_size(13, 8), (6, 4));
        // A 4×6 image whose pixel value is its column: the centre 2×2 holds columns 2 and 3.
        let img = RgbImage::from_fn(6, 4, |x, _| Rgb([x as u8, 0, 0]));
        let out = p.geometry(&img);
        assert_eq!(out.dimensions(), (2, 2));
        assert_eq!(out.get_pixel(0, 0)[0], 2);
        assert_eq!(out.get_pixel(1, 1)[0], 3);
        let (chw, h, w) = p.chw(&img);
        assert_eq!((h, w), (2, 2));
        assert_eq!(&chw[..4], &[2.0, 3.0, 2.0, 3.0]);
    }

    #[test]
    fn old_feature_extractor_numbers_and_switches() {
        let cfg = json!({"size": 256, "crop_size": 224, "do_center_crop": true, "do_normalize": false,
                         "do_rescale": false});
        let p = Preprocess::from_config(&cfg, Preprocess::imagenet(256, 224)).unwrap();
        assert_eq!(
            p.resize,
            Resize::Exact {
                height: 256,
                width: 256
            }
        );
        assert_eq!(p.crop, Some((224, 224)));
        assert_eq!(p.rescale, None);
        assert_eq!(p.normalize, None);
        let off = Preprocess::from_config(&json!({"do_resize": false, "do_center_crop": false}), p)
            .unwrap();
        assert_eq!(off.resize, Resize::None);
        assert_eq!(off.output_size(17, 9), (17, 9));
    }

    #[test]
    fn bad_configs_say_which_key() {
        let d = || Preprocess::imagenet(256, 224);
        for (cfg, want) in [
            (json!({"resample": 9}), "unknown PIL filter code 9"),
            (
                json!({"size": {"shortest_edge": 0}}),
                "\"shortest_edge\": expected a positive whole number",
            ),
            (json!({"size": "big"}), "expected a number or an object"),
            (
                json!({"crop_size": {"height": 2}}),
                "expected {\"height\", \"width\"}",
            ),
            (
                json!({"image_std": [1, 0, 1]}),
                "\"image_std\": every value must be positive",
            ),
            (
                json!({"image_mean": [1, 2]}),
                "\"image_mean\": expected 3 numbers",
            ),
            (
                json!({"do_resize": "yes"}),
                "\"do_resize\": expected true or false",
            ),
            (json!([1]), "expected a JSON object"),
        ] {
            let e = format!("{:#}", Preprocess::from_config(&cfg, d()).unwrap_err());
            assert!(e.contains(want), "{cfg}: {e}");
        }
    }

    #[test]
    fn a_batch_of_differently_sized_outputs_is_refused() {
        let p = Preprocess {
            resize: Resize::None,
            resample: Resample::Bilinear,
            crop: None,
            rescale: None,
            normalize: None,
        };
        let a = RgbImage::new(2, 2);
        let b = RgbImage::new(3, 2);
        let e = p.batch(&[&a, &b], &Device::Cpu).unwrap_err().to_string();
        assert!(e.contains("different sizes"), "{e}");
    }
}
