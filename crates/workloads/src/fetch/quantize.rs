//! The `quantize = "q8_0"` setting: a safetensors checkpoint quantized once into a GGUF file
//! with candle's own quantizer (`QTensor::quantize`) and GGUF writer (`gguf_file::write`), for
//! runners that read candle-transformers' quantized models (Whisper: `quantized_model`).
//!
//! Which tensors are quantized (whisper.cpp's rule): the 2-D `*.weight` matrices (linear
//! layers, the token embedding) whose rows are a whole number of the dtype's blocks (32 values
//! for `q8_0`, 256 for the k-quants); every other tensor (biases, norms, 3-D convolution
//! kernels, position tables, and matrices whose rows do not split into blocks) is stored as f32.
//!
//! The file lands in `<cache>/quantized/<source sha256>-<dtype>-v<N>/model.gguf` (written to a
//! temporary folder, then renamed, so an interrupted run leaves nothing half-written) with a
//! `quantization.json` beside it (source and GGUF sha256, dtype, how many tensors were quantized
//! and kept). The fetch then lists `model.gguf` after the checkpoint's own files, so the result
//! records the hashes of both.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use candle_core::quantized::{gguf_file, GgmlDType, QTensor};
use candle_core::{DType, Device, Tensor};
use serde::{Deserialize, Serialize};

use super::Located;
use crate::catalogue::ModelEntry;

/// The name the quantized file gets in the model's file list.
pub const GGUF_NAME: &str = "model.gguf";

/// Bump when the output changes, so stale files are redone.
const QUANTIZER_VERSION: u32 = 1;

/// The dtypes the setting accepts, by name.
const DTYPES: [(&str, GgmlDType); 8] = [
    ("q4_0", GgmlDType::Q4_0),
    ("q4_1", GgmlDType::Q4_1),
    ("q5_0", GgmlDType::Q5_0),
    ("q5_1", GgmlDType::Q5_1),
    ("q8_0", GgmlDType::Q8_0),
    ("q4_k", GgmlDType::Q4K),
    ("q5_k", GgmlDType::Q5K),
    ("q6_k", GgmlDType::Q6K),
];

/// The dtype a `quantize` value names (`q8_0`, `q4_k`, ...).
pub fn parse_dtype(name: &str) -> Result<GgmlDType> {
    let key = name.trim().to_ascii_lowercase();
    DTYPES
        .iter()
        .find(|(n, _)| *n == key)
        .map(|(_, d)| *d)
        .with_context(|| {
            format!(
                "quantize = {name:?} is not a known dtype (known: {})",
                DTYPES.map(|(n, _)| n).join(", ")
            )
        })
}

/// What `quantization.json` records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quantization {
    /// The quantized file.
    pub path: PathBuf,
    /// sha256 of the GGUF file.
    pub sha256: String,
    /// sha256 of the safetensors checkpoint it was made from.
    pub source_sha256: String,
    /// The dtype of the quantized tensors (`q8_0`, ...).
    pub dtype: String,
    /// Tensors stored quantized.
    pub quantized: usize,
    /// Tensors kept as f32.
    pub kept_f32: usize,
}

/// Whether the rule quantizes the tensor `name` of shape `dims` to a dtype of `block` values.
pub fn quantizes(name: &str, dims: &[usize], block: usize) -> bool {
    dims.len() == 2
        && name.ends_with(".weight")
        && !name.contains("embed_positions")
        && dims[1].is_multiple_of(block)
}

/// Quantize every tensor of the safetensors file `src` by the rule above into the GGUF file
/// `dst`; returns (quantized, kept as f32).
pub fn quantize_file(src: &Path, dst: &Path, dtype: GgmlDType) -> Result<(usize, usize)> {
    crate::integrity::check_safetensors(src)?;
    let tensors = candle_core::safetensors::load(src, &Device::Cpu)
        .with_context(|| format!("cannot read {}", src.display()))?;
    let tensors: BTreeMap<String, Tensor> = tensors.into_iter().collect();
    let mut q = Vec::with_capacity(tensors.len());
    let (mut quantized, mut kept) = (0, 0);
    for (name, t) in &tensors {
        let t = t.to_dtype(DType::F32)?;
        let target = if quantizes(name, t.dims(), dtype.block_size()) {
            quantized += 1;
            dtype
        } else {
            kept += 1;
            GgmlDType::F32
        };
        let qt = QTensor::quantize(&t, target)
            .with_context(|| format!("{}: quantizing {name} to {target:?}", src.display()))?;
        q.push((name.as_str(), qt));
    }
    let arch = gguf_file::Value::String("whisper".to_string());
    let version = gguf_file::Value::U32(2);
    let metadata = [
        ("general.architecture", &arch),
        ("general.quantization_version", &version),
    ];
    let refs: Vec<(&str, &QTensor)> = q.iter().map(|(n, t)| (*n, t)).collect();
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(dst).with_context(|| format!("cannot create {}", dst.display()))?,
    );
    gguf_file::write(&mut f, &metadata, &refs)
        .with_context(|| format!("writing {}", dst.display()))?;
    std::io::Write::flush(&mut f)?;
    Ok((quantized, kept))
}

/// The quantized GGUF of the safetensors file `src` (content hash `src_sha256`) in `dtype`,
/// made once under `cache_dir/quantized/`.
pub fn cached(
    src: &Path,
    src_sha256: &str,
    dtype: GgmlDType,
    cache_dir: &Path,
) -> Result<Quantization> {
    let name = format!("{dtype:?}").to_ascii_lowercase();
    let parent = cache_dir.join("quantized");
    let out = parent.join(format!("{src_sha256}-{name}-v{QUANTIZER_VERSION}"));
    let record_path = out.join("quantization.json");
    if let Some(record) = std::fs::read(&record_path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Quantization>(&b).ok())
        .filter(|r| r.source_sha256 == src_sha256 && out.join(GGUF_NAME).is_file())
    {
        return Ok(record);
    }
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix("quantizing-")
        .tempdir_in(&parent)
        .with_context(|| format!("cannot create a folder in {}", parent.display()))?;
    let (quantized, kept_f32) = quantize_file(src, &tmp.path().join(GGUF_NAME), dtype)?;
    if quantized == 0 {
        bail!(
            "{}: no tensor's rows split into {name} blocks of {}; nothing to quantize",
            src.display(),
            dtype.block_size()
        );
    }
    let sha256 = super::sha256_file(&tmp.path().join(GGUF_NAME))?;
    let mut record = Quantization {
        path: out.join(GGUF_NAME),
        sha256,
        source_sha256: src_sha256.to_string(),
        dtype: name,
        quantized,
        kept_f32,
    };
    std::fs::write(
        tmp.path().join("quantization.json"),
        serde_json::to_vec_pretty(&record)?,
    )?;
    let _ = std::fs::remove_dir_all(&out);
    std::fs::rename(tmp.path(), &out)
        .with_context(|| format!("cannot move the quantized model to {}", out.display()))?;
    // The folder now lives at `out`; nothing is left for the guard to delete.
    let _ = tmp.keep();
    record.path = out.join(GGUF_NAME);
    Ok(record)
}

/// Apply `entry`'s `quantize` setting to the located files: the GGUF is appended as
/// [`GGUF_NAME`].
pub(super) fn quantized(
    entry: &ModelEntry,
    dtype: &str,
    mut loc: Located,
    opts: &super::FetchOptions,
) -> Result<Located> {
    let dtype = parse_dtype(dtype).with_context(|| format!("model `{}`", entry.id))?;
    let src = loc
        .files
        .iter()
        .find(|(n, _)| n == "model.safetensors")
        .or_else(|| loc.files.iter().find(|(n, _)| n.ends_with(".safetensors")))
        .map(|(_, p)| p.clone())
        .with_context(|| {
            format!(
                "model `{}`: `quantize` needs a safetensors checkpoint ({} has none)",
                entry.id, loc.origin
            )
        })?;
    let mut index = super::hash::HashIndex::open(&opts.cache_dir);
    let (src_sha256, _) = index.hash(&src, opts.verbose)?;
    index.save(opts.verbose);
    let existed = opts
        .cache_dir
        .join("quantized")
        .join(format!(
            "{src_sha256}-{}-v{QUANTIZER_VERSION}",
            format!("{dtype:?}").to_ascii_lowercase()
        ))
        .join("quantization.json")
        .is_file();
    let q = cached(&src, &src_sha256, dtype, &opts.cache_dir)
        .with_context(|| format!("model `{}`: quantizing {}", entry.id, src.display()))?;
    if !existed {
        eprintln!(
            "fetch {}: quantized {} to {} ({} tensors {}, {} kept f32): {} sha256 {}",
            entry.id,
            src.display(),
            q.dtype,
            q.quantized,
            q.dtype,
            q.kept_f32,
            q.path.display(),
            q.sha256
        );
    }
    loc.files.push((GGUF_NAME.to_string(), q.path));
    loc.origin = format!("{} (quantized to {})", loc.origin, q.dtype);
    Ok(loc)
}
