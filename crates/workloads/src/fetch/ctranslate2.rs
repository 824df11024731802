//! A reader of CTranslate2's `model.bin` (binary versions 1–6), so a pip mirror that ships a
//! CTranslate2 conversion (faster-whisper's format) can be turned back into the safetensors a
//! Candle runner loads (see `ct2_whisper.rs` for Whisper's names).
//!
//! The layout, as CTranslate2's loader (`src/models/model.cc`) reads it, all little-endian:
//! ```text
//! u32 binary_version
//! (version >= 2) string spec_name, u32 spec_revision
//! u32 n_variables, then per variable:
//!     string name, u8 rank, u32 dims[rank],
//!     (version >= 4) u8 dtype id, u32 payload bytes
//!     (version <  4) u8 item size, u32 element count
//!     payload
//! (version >= 3) u32 n_aliases, then per alias: string alias, string target
//! ```
//! A string is a u16 length that counts a trailing NUL, then the bytes and the NUL. Dtype ids:
//! 0 float32, 1 int8, 2 int16, 3 int32, 4 float16, 5 bfloat16. Scalars (rank 0) hold model
//! options (`num_heads`, `pre_norm`, ...). Quantized weights come with a `<name>_scale`
//! variable (int8: one float32 scale per output row, `weight = q / scale`).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};

/// The newest binary version this reader knows.
pub const MAX_BINARY_VERSION: u32 = 6;

/// A variable's element type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    F32,
    I8,
    I16,
    I32,
    F16,
    BF16,
}

impl Dtype {
    fn from_id(id: u8) -> Result<Dtype> {
        Ok(match id {
            0 => Dtype::F32,
            1 => Dtype::I8,
            2 => Dtype::I16,
            3 => Dtype::I32,
            4 => Dtype::F16,
            5 => Dtype::BF16,
            _ => bail!("unknown dtype id {id}"),
        })
    }

    /// The id written in binary version 4 and later.
    pub fn id(self) -> u8 {
        match self {
            Dtype::F32 => 0,
            Dtype::I8 => 1,
            Dtype::I16 => 2,
            Dtype::I32 => 3,
            Dtype::F16 => 4,
            Dtype::BF16 => 5,
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Dtype::I8 => 1,
            Dtype::I16 | Dtype::F16 | Dtype::BF16 => 2,
            Dtype::F32 | Dtype::I32 => 4,
        }
    }

    /// Binary versions before 4 give only the item size: 4 = float32, 2 = int16, 1 = int8.
    fn from_item_size(size: u8) -> Result<Dtype> {
        Ok(match size {
            4 => Dtype::F32,
            2 => Dtype::I16,
            1 => Dtype::I8,
            _ => bail!("unknown item size {size}"),
        })
    }
}

/// One variable: its shape, element type and raw little-endian bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    pub shape: Vec<usize>,
    pub dtype: Dtype,
    pub data: Vec<u8>,
}

impl Variable {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values as f32 (integers converted as numbers, not dequantized).
    pub fn to_f32(&self) -> Vec<f32> {
        let d = &self.data;
        match self.dtype {
            Dtype::F32 => d
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            Dtype::F16 => d
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            Dtype::BF16 => d
                .chunks_exact(2)
                .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
                .collect(),
            Dtype::I8 => d.iter().map(|&b| b as i8 as f32).collect(),
            Dtype::I16 => d
                .chunks_exact(2)
                .map(|c| i16::from_le_bytes([c[0], c[1]]) as f32)
                .collect(),
            Dtype::I32 => d
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f32)
                .collect(),
        }
    }

    /// A scalar's value as an integer (for options such as `num_heads`).
    pub fn scalar_int(&self) -> Option<i64> {
        if self.len() != 1 {
            return None;
        }
        let v = self.to_f32()[0];
        (v.fract() == 0.0).then_some(v as i64)
    }
}

/// A parsed `model.bin`.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub binary_version: u32,
    /// The specification's name (`WhisperSpec`, `TransformerSpec`, ...); empty before version 2.
    pub spec: String,
    pub spec_revision: u32,
    pub variables: BTreeMap<String, Variable>,
    /// `alias -> variable` (e.g. a tied output projection).
    pub aliases: BTreeMap<String, String>,
}

impl Model {
    /// Read `path`. Errors name the file and the byte offset.
    pub fn read(path: &Path) -> Result<Model> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        Self::parse(&bytes)
            .with_context(|| format!("{}: not a CTranslate2 model.bin", path.display()))
    }

    /// Parse the bytes of a `model.bin`.
    pub fn parse(bytes: &[u8]) -> Result<Model> {
        let mut r = Reader { bytes, pos: 0 };
        let binary_version = r.u32()?;
        if binary_version == 0 || binary_version > MAX_BINARY_VERSION {
            bail!("binary version {binary_version} (this reader knows 1 to {MAX_BINARY_VERSION})");
        }
        let (spec, spec_revision) = if binary_version >= 2 {
            (r.string()?, r.u32()?)
        } else {
            (String::new(), 1)
        };
        let n = r.u32()? as usize;
        let mut variables = BTreeMap::new();
        for i in 0..n {
            let at = r.pos;
            let name = r.string().with_context(|| format!("variable {i}"))?;
            let rank = r.u8()? as usize;
            let shape = (0..rank)
                .map(|_| r.u32().map(|d| d as usize))
                .collect::<Result<Vec<_>>>()?;
            let (dtype, n_bytes) = if binary_version >= 4 {
                let dtype = Dtype::from_id(r.u8()?).with_context(|| format!("`{name}`"))?;
                (dtype, r.u32()? as usize)
            } else {
                let dtype = Dtype::from_item_size(r.u8()?).with_context(|| format!("`{name}`"))?;
                (dtype, r.u32()? as usize * dtype.size())
            };
            let elements: usize = shape.iter().product();
            if elements * dtype.size() != n_bytes {
                bail!(
                    "variable `{name}` (at byte {at}): shape {shape:?} of {dtype:?} needs {} bytes, \
                     the file says {n_bytes}",
                    elements * dtype.size()
                );
            }
            let data = r
                .take(n_bytes)
                .with_context(|| format!("variable `{name}` ({n_bytes} bytes)"))?
                .to_vec();
            if variables
                .insert(name.clone(), Variable { shape, dtype, data })
                .is_some()
            {
                bail!("variable `{name}` appears twice");
            }
        }
        let mut aliases = BTreeMap::new();
        if binary_version >= 3 {
            let n = r.u32()? as usize;
            for _ in 0..n {
                let alias = r.string()?;
                let target = r.string()?;
                if !variables.contains_key(&target) {
                    bail!("alias `{alias}` names `{target}`, which is not a variable");
                }
                aliases.insert(alias, target);
            }
        }
        if r.pos != bytes.len() {
            bail!(
                "{} unexpected bytes after the last record (at byte {})",
                bytes.len() - r.pos,
                r.pos
            );
        }
        Ok(Model {
            binary_version,
            spec,
            spec_revision,
            variables,
            aliases,
        })
    }

    /// The variable `name`, following aliases.
    pub fn get(&self, name: &str) -> Option<&Variable> {
        self.variables
            .get(name)
            .or_else(|| self.aliases.get(name).and_then(|t| self.variables.get(t)))
    }

    /// The variable `name` or an error naming it.
    pub fn var(&self, name: &str) -> Result<&Variable> {
        self.get(name)
            .ok_or_else(|| anyhow!("the model has no variable `{name}`"))
    }

    /// A weight as f32, dequantized when the file stores it quantized (`<name>_scale` beside
    /// it: int8/int16 values divided by their row's scale).
    pub fn dequantized(&self, name: &str) -> Result<Vec<f32>> {
        let v = self.var(name)?;
        let values = v.to_f32();
        match v.dtype {
            Dtype::F32 | Dtype::F16 | Dtype::BF16 => Ok(values),
            Dtype::I8 | Dtype::I16 => {
                let scale = self
                    .get(&format!("{name}_scale"))
                    .ok_or_else(|| anyhow!("`{name}` is quantized but has no `{name}_scale`"))?
                    .to_f32();
                let rows = v.shape.first().copied().unwrap_or(1).max(1);
                let per_row = v.len() / rows;
                if scale.len() != rows && scale.len() != 1 {
                    bail!(
                        "`{name}_scale` has {} values for {rows} rows of `{name}`",
                        scale.len()
                    );
                }
                Ok(values
                    .chunks(per_row.max(1))
                    .enumerate()
                    .flat_map(|(row, vals)| {
                        let s = if scale.len() == 1 {
                            scale[0]
                        } else {
                            scale[row]
                        };
                        vals.iter().map(move |q| q / s)
                    })
                    .collect())
            }
            Dtype::I32 => bail!("`{name}` is int32, not a weight"),
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        match end {
            Some(end) => {
                let s = &self.bytes[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => bail!(
                "truncated: {n} bytes wanted at byte {}, the file has {}",
                self.pos,
                self.bytes.len()
            ),
        }
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn string(&mut self) -> Result<String> {
        let at = self.pos;
        let n = self.u16()? as usize;
        if n == 0 {
            bail!("a string of length 0 at byte {at} (lengths count the trailing NUL)");
        }
        let b = self.take(n)?;
        if b[n - 1] != 0 {
            bail!("the string at byte {at} does not end with NUL");
        }
        String::from_utf8(b[..n - 1].to_vec())
            .map_err(|_| anyhow!("the string at byte {at} is not UTF-8"))
    }
}

/// A writer of the same format (binary version 6), for tests that need a small `model.bin`.
#[cfg(any(test, feature = "testing"))]
pub mod write {
    use super::*;

    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&((s.len() + 1) as u16).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }

    /// Serialise `model` (its `binary_version` must be 6).
    pub fn to_bytes(model: &Model) -> Vec<u8> {
        assert_eq!(model.binary_version, 6);
        let mut out = Vec::new();
        out.extend_from_slice(&6u32.to_le_bytes());
        string(&mut out, &model.spec);
        out.extend_from_slice(&model.spec_revision.to_le_bytes());
        out.extend_from_slice(&(model.variables.len() as u32).to_le_bytes());
        for (name, v) in &model.variables {
            string(&mut out, name);
            out.push(v.shape.len() as u8);
            for d in &v.shape {
                out.extend_from_slice(&(*d as u32).to_le_bytes());
            }
            out.push(v.dtype.id());
            out.extend_from_slice(&(v.data.len() as u32).to_le_bytes());
            out.extend_from_slice(&v.data);
        }
        out.extend_from_slice(&(model.aliases.len() as u32).to_le_bytes());
        for (a, t) in &model.aliases {
            string(&mut out, a);
            string(&mut out, t);
        }
        out
    }

    /// A float16 variable.
    pub fn f16(shape: &[usize], values: &[f32]) -> Variable {
        assert_eq!(shape.iter().product::<usize>(), values.len());
        Variable {
            shape: shape.to_vec(),
            dtype: Dtype::F16,
            data: values
                .iter()
                .flat_map(|v| half::f16::from_f32(*v).to_le_bytes())
                .collect(),
        }
    }

    /// A float32 variable.
    pub fn f32(shape: &[usize], values: &[f32]) -> Variable {
        assert_eq!(shape.iter().product::<usize>(), values.len());
        Variable {
            shape: shape.to_vec(),
            dtype: Dtype::F32,
            data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    /// An int16 scalar (CTranslate2 stores `num_heads` so).
    pub fn i16_scalar(v: i16) -> Variable {
        Variable {
            shape: vec![],
            dtype: Dtype::I16,
            data: v.to_le_bytes().to_vec(),
        }
    }

    /// An int8 scalar (booleans and small options).
    pub fn i8_scalar(v: i8) -> Variable {
        Variable {
            shape: vec![],
            dtype: Dtype::I8,
            data: vec![v as u8],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::write::*;
    use super::*;

    fn sample() -> Model {
        let mut variables = BTreeMap::new();
        variables.insert("enc/num_heads".into(), i16_scalar(6));
        variables.insert(
            "dec/emb/weight".into(),
            f16(&[3, 2], &[0.5, -1.0, 2.0, 0.25, 0.0, 8.0]),
        );
        variables.insert("dec/ln/gamma".into(), f32(&[2], &[1.5, -2.5]));
        // An int8 weight with one scale per row: 2 rows of [127, -127] / scale.
        variables.insert(
            "q/weight".into(),
            Variable {
                shape: vec![2, 2],
                dtype: Dtype::I8,
                data: vec![127, 129, 64, 0],
            },
        );
        variables.insert("q/weight_scale".into(), f32(&[2], &[127.0, 64.0]));
        let mut aliases = BTreeMap::new();
        aliases.insert("dec/proj/weight".into(), "dec/emb/weight".into());
        Model {
            binary_version: 6,
            spec: "WhisperSpec".into(),
            spec_revision: 3,
            variables,
            aliases,
        }
    }

    #[test]
    fn a_written_model_reads_back_exactly() {
        let m = sample();
        let bytes = to_bytes(&m);
        let back = Model::parse(&bytes).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.spec, "WhisperSpec");
        assert_eq!(back.var("enc/num_heads").unwrap().scalar_int(), Some(6));
        assert_eq!(
            back.var("dec/proj/weight").unwrap().to_f32(),
            [0.5, -1.0, 2.0, 0.25, 0.0, 8.0]
        );
        assert_eq!(back.dequantized("dec/ln/gamma").unwrap(), [1.5, -2.5]);
        assert_eq!(back.dequantized("q/weight").unwrap(), [1.0, -1.0, 1.0, 0.0]);
        assert!(format!("{:#}", back.var("nope").unwrap_err()).contains("`nope`"));
    }

    #[test]
    fn damaged_files_are_refused_with_the_place() {
        let bytes = to_bytes(&sample());
        let e = format!("{:#}", Model::parse(&bytes[..bytes.len() - 7]).unwrap_err());
        assert!(e.contains("truncated"), "{e}");
        let mut more = bytes.clone();
        more.push(0);
        let e = format!("{:#}", Model::parse(&more).unwrap_err());
        assert!(e.contains("1 unexpected bytes"), "{e}");
        let mut v = bytes.clone();
        v[0] = 9;
        let e = format!("{:#}", Model::parse(&v).unwrap_err());
        assert!(e.contains("binary version 9"), "{e}");
        let e = format!("{:#}", Model::parse(b"\x89PNG\r\n\x1a\n").unwrap_err());
        assert!(e.contains("binary version"), "{e}");
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), &bytes[..20]).unwrap();
        let e = format!("{:#}", Model::read(f.path()).unwrap_err());
        assert!(e.contains(&f.path().display().to_string()), "{e}");
    }

    #[test]
    fn a_payload_that_disagrees_with_the_shape_is_refused() {
        let mut m = sample();
        m.variables.get_mut("dec/ln/gamma").unwrap().shape = vec![3];
        let e = format!("{:#}", Model::parse(&to_bytes(&m)).unwrap_err());
        assert!(
            e.contains("`dec/ln/gamma`") && e.contains("needs 12 bytes"),
            "{e}"
        );
    }
}
