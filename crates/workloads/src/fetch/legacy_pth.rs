//! PyTorch's legacy (non-zip) checkpoint format, what `torch.save` wrote before PyTorch 1.6
//! (and still writes with `_use_new_zipfile_serialization=False`). candle's `.pth` reader
//! opens zip archives only, so this reads the legacy layout and converts it to safetensors.
//!
//! The file is five pickles back to back, then raw bytes (as `torch/serialization.py`'s
//! `_legacy_load` reads them):
//! 1. the magic number `0x1950a86a20f9469cfc6c` (a 10-byte LONG1 after PROTO 2);
//! 2. the protocol version, 1001;
//! 3. `sys_info`, a dict (`little_endian`, type sizes);
//! 4. the saved object (here a state dict); each tensor is
//!    `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)` whose storage is a
//!    persistent id `('storage', torch.<Type>Storage, key, location, numel, view_metadata)`;
//! 5. the list of storage keys, in the order their bytes follow;
//!
//! then, for each key, the storage's element count as a little-endian u64 and that many
//! elements of raw little-endian data. Pickles 2–5 are read with candle's pickle machine
//! (`candle_core::pickle::Stack`); tensors are cut out of their storage by offset, size and
//! stride, so views and transposed tensors come out as PyTorch shows them.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use candle_core::pickle::{Object, Stack};
use candle_core::{DType, Device, Tensor};

/// `torch.serialization.MAGIC_NUMBER`.
pub const MAGIC_NUMBER: u128 = 0x1950a86a20f9469cfc6c;
/// `torch.serialization.PROTOCOL_VERSION`.
pub const PROTOCOL_VERSION: i64 = 1001;

/// Whether the file starts like a legacy checkpoint (PROTO 2, then the 10-byte magic).
pub fn is_legacy(path: &Path) -> bool {
    let mut head = [0u8; 14];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && head[..4] == [0x80, 0x02, 0x8a, 0x0a]
        && head[4..14] == MAGIC_NUMBER.to_le_bytes()[..10]
}

/// Read every tensor of a legacy checkpoint holding a state dict (or a dict with a
/// `state_dict` entry), in the file's order. Entries that are not tensors are skipped.
pub fn read(path: &Path) -> Result<Vec<(String, Tensor)>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    read_from(&mut BufReader::new(file)).with_context(|| {
        format!(
            "{}: not a readable legacy PyTorch checkpoint",
            path.display()
        )
    })
}

/// [`read`] from any reader.
pub fn read_from<R: BufRead>(r: &mut R) -> Result<Vec<(String, Tensor)>> {
    read_magic(r)?;
    let protocol = next_pickle(r, "the protocol version")?;
    match protocol {
        Object::Int(v) if v as i64 == PROTOCOL_VERSION => {}
        Object::Long(v) if v == PROTOCOL_VERSION => {}
        other => bail!("protocol version: expected {PROTOCOL_VERSION}, got {other:?}"),
    }
    let sys_info = next_pickle(r, "sys_info")?;
    if let Object::Dict(items) = &sys_info {
        let big_endian = items.iter().any(|(k, v)| {
            *k == Object::Unicode("little_endian".into()) && *v == Object::Bool(false)
        });
        if big_endian {
            bail!("the checkpoint was written on a big-endian machine (not supported)");
        }
    }
    let obj = next_pickle(r, "the saved object")?;
    let entries = state_dict_entries(obj)?;
    let mut infos = Vec::new();
    for (name, value) in entries {
        let shown = format!("{name:?}");
        match value.into_tensor_info(name, Path::new("")) {
            Ok(Some(info)) => infos.push(info),
            Ok(None) => {}
            Err(e) => bail!("entry {shown}: {e}"),
        }
    }
    if infos.is_empty() {
        bail!("the saved object holds no tensors");
    }
    let keys = match next_pickle(r, "the storage keys")? {
        Object::List(items) | Object::Tuple(items) => items
            .into_iter()
            .map(|k| match k {
                Object::Unicode(s) => Ok(s),
                other => Err(anyhow!("storage key: expected a string, got {other:?}")),
            })
            .collect::<Result<Vec<_>>>()?,
        other => bail!("storage keys: expected a list, got {other:?}"),
    };
    // Each storage's dtype, from the tensors that use it (candle's tensor info names the
    // storage `/<key>` when given an empty folder).
    let key_of = |p: &str| p.trim_start_matches('/').to_string();
    let mut dtypes: HashMap<String, DType> = HashMap::new();
    for info in &infos {
        let key = key_of(&info.path);
        if let Some(d) = dtypes.insert(key.clone(), info.dtype) {
            if d != info.dtype {
                bail!("storage {key} is used as both {d:?} and {:?}", info.dtype);
            }
        }
    }
    let mut storages: HashMap<String, Vec<u8>> = HashMap::new();
    for key in keys {
        let mut count = [0u8; 8];
        r.read_exact(&mut count)
            .with_context(|| format!("storage {key}: the file ends before its size"))?;
        let numel = u64::from_le_bytes(count);
        let dtype = *dtypes
            .get(&key)
            .with_context(|| format!("storage {key} is not used by any tensor"))?;
        let len = numel
            .checked_mul(dtype.size_in_bytes() as u64)
            .filter(|n| *n <= (1u64 << 40))
            .with_context(|| format!("storage {key}: implausible size of {numel} elements"))?;
        let mut bytes = vec![0u8; len as usize];
        r.read_exact(&mut bytes)
            .with_context(|| format!("storage {key}: the file ends inside its {numel} elements"))?;
        storages.insert(key, bytes);
    }
    let mut out = Vec::with_capacity(infos.len());
    for info in infos {
        let key = key_of(&info.path);
        let storage = storages
            .get(&key)
            .with_context(|| format!("tensor {}: storage {key} has no data", info.name))?;
        let tensor = cut(storage, &info.layout, info.dtype)
            .with_context(|| format!("tensor {}", info.name))?;
        out.push((info.name, tensor));
    }
    Ok(out)
}

/// Convert a legacy checkpoint to a safetensors file (written to a temporary name beside
/// `out`, then renamed, so a failed conversion leaves nothing behind). Returns the number of
/// tensors written.
pub fn convert_to_safetensors(pth: &Path, out: &Path) -> Result<usize> {
    let tensors = read(pth)?;
    let n = tensors.len();
    let dir = out.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let map: HashMap<String, Tensor> = tensors.into_iter().collect();
    candle_core::safetensors::save(&map, tmp.path())
        .with_context(|| format!("cannot write {}", tmp.path().display()))?;
    tmp.persist(out)
        .with_context(|| format!("cannot move the converted file to {}", out.display()))?;
    Ok(n)
}

/// The first pickle: PROTO 2, LONG1 with the 10 bytes of the magic number, STOP. Parsed here
/// because the magic does not fit the 64-bit integers of candle's pickle machine.
fn read_magic<R: BufRead>(r: &mut R) -> Result<()> {
    let mut head = [0u8; 15];
    r.read_exact(&mut head)
        .context("the file is shorter than the magic number")?;
    if head[..2] == *b"PK" {
        bail!("this is a zip-format checkpoint (PyTorch 1.6 or later), not the legacy format");
    }
    if head[..4] != [0x80, 0x02, 0x8a, 0x0a]
        || head[4..14] != MAGIC_NUMBER.to_le_bytes()[..10]
        || head[14] != b'.'
    {
        bail!("no legacy PyTorch magic number at the start");
    }
    Ok(())
}

fn next_pickle<R: BufRead>(r: &mut R, what: &str) -> Result<Object> {
    let mut stack = Stack::empty();
    stack
        .read_loop(r)
        .map_err(|e| anyhow!("cannot read {what}: {e}"))?;
    stack
        .finalize()
        .map_err(|e| anyhow!("cannot read {what}: {e}"))
}

/// The (name, value) pairs of a state dict, or of the `state_dict` entry of a dict that
/// holds one.
fn state_dict_entries(obj: Object) -> Result<Vec<(Object, Object)>> {
    let Object::Dict(items) = obj else {
        bail!("the saved object is not a dict (a whole pickled model cannot be read; save its state_dict)");
    };
    let key = Object::Unicode("state_dict".into());
    if let Some(pos) = items.iter().position(|(k, _)| *k == key) {
        if let (_, Object::Dict(inner)) = &items[pos] {
            return Ok(inner.clone());
        }
    }
    Ok(items)
}

/// The tensor `layout` describes inside `storage` (offset and strides in elements; the
/// layout's start offset is in bytes, as candle's tensor info gives it).
fn cut(storage: &[u8], layout: &candle_core::Layout, dtype: DType) -> Result<Tensor> {
    let size = dtype.size_in_bytes();
    let dims = layout.dims().to_vec();
    let strides = layout.stride().to_vec();
    let start = layout.start_offset() / size;
    let numel: usize = dims.iter().product();
    let n_storage = storage.len() / size;
    // The furthest element the view touches must lie inside the storage.
    if numel > 0 {
        let last = start
            + dims
                .iter()
                .zip(&strides)
                .map(|(d, s)| (d - 1) * s)
                .sum::<usize>();
        if last >= n_storage {
            bail!(
                "its view (offset {start}, size {dims:?}, stride {strides:?}) reaches element {last} of a storage of {n_storage}"
            );
        }
    }
    let mut bytes = Vec::with_capacity(numel * size);
    let mut idx = vec![0usize; dims.len()];
    for _ in 0..numel {
        let off = start + idx.iter().zip(&strides).map(|(i, s)| i * s).sum::<usize>();
        bytes.extend_from_slice(&storage[off * size..(off + 1) * size]);
        for d in (0..dims.len()).rev() {
            idx[d] += 1;
            if idx[d] < dims[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    Ok(Tensor::from_raw_buffer(&bytes, dtype, &dims, &Device::Cpu)?)
}

/// A legacy checkpoint converted once into the cache.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Converted {
    /// The safetensors file.
    pub path: std::path::PathBuf,
    /// sha256 of the legacy `.pth` it was made from.
    pub source_sha256: String,
    /// sha256 of the safetensors file.
    pub sha256: String,
    /// Tensors converted.
    pub tensors: usize,
}

/// The safetensors conversion of the legacy checkpoint `pth` (whose sha256 is `pth_sha256`),
/// made once under `<cache>/converted/<pth_sha256>/model.safetensors` beside a
/// `conversion.json` recording both hashes; later calls reuse it when the recorded hash of
/// the safetensors file still matches its content.
pub fn cached_conversion(
    pth: &Path,
    pth_sha256: &str,
    cache_dir: &Path,
    verbose: bool,
) -> Result<Converted> {
    let dir = cache_dir.join("converted").join(pth_sha256);
    let target = dir.join("model.safetensors");
    let record = dir.join("conversion.json");
    if let Ok(text) = std::fs::read_to_string(&record) {
        if let Ok(c) = serde_json::from_str::<Converted>(&text) {
            if c.source_sha256 == pth_sha256
                && target.is_file()
                && super::hash::sha256_file(&target)? == c.sha256
            {
                if verbose {
                    eprintln!("convert {}: reusing {}", pth.display(), target.display());
                }
                return Ok(Converted { path: target, ..c });
            }
        }
    }
    let tensors = convert_to_safetensors(pth, &target)?;
    let converted = Converted {
        sha256: super::hash::sha256_file(&target)?,
        path: target,
        source_sha256: pth_sha256.to_string(),
        tensors,
    };
    let tmp = tempfile::NamedTempFile::new_in(&dir)?;
    std::fs::write(tmp.path(), serde_json::to_string_pretty(&converted)? + "\n")?;
    tmp.persist(&record)
        .with_context(|| format!("cannot write {}", record.display()))?;
    eprintln!(
        "convert {}: legacy PyTorch checkpoint (sha256 {pth_sha256}) → {} ({tensors} tensors, sha256 {})",
        pth.display(),
        converted.path.display(),
        converted.sha256
    );
    Ok(converted)
}
