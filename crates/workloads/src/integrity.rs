//! Integrity checks of weight files, before they are hashed or memory-mapped.

use std::io::Read;
use std::path::{Path, PathBuf};

/// Why a weight file is not usable.
#[derive(Debug, thiserror::Error)]
pub enum IntegrityError {
    /// The file cannot be opened.
    #[error("cannot open safetensors file {}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file's size cannot be read.
    #[error("cannot stat {}", path.display())]
    Stat {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The header does not parse, or the file is shorter than the header says.
    #[error("truncated or corrupt safetensors file {}: {reason}", path.display())]
    Corrupt { path: PathBuf, reason: String },
}

/// Check that a safetensors file is whole: its header (8-byte little-endian length, then JSON)
/// parses and the file is at least as long as the largest tensor data offset says.
///
/// Used by [`crate::fetch`] (a route with a truncated file is passed over) and by the runners
/// before they memory-map weights (a truncated download is reported as such).
pub fn check_safetensors(path: &Path) -> Result<(), IntegrityError> {
    let bad = |reason: String| IntegrityError::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    let mut f = std::fs::File::open(path).map_err(|source| IntegrityError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let len = f
        .metadata()
        .map_err(|source| IntegrityError::Stat {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    let mut n = [0u8; 8];
    f.read_exact(&mut n).map_err(|_| {
        bad(format!(
            "{len} bytes, shorter than the 8-byte header length"
        ))
    })?;
    let n = u64::from_le_bytes(n);
    const MAX_HEADER: u64 = 100 * 1024 * 1024;
    if n == 0 || n > MAX_HEADER || n > len - 8 {
        return Err(bad(format!(
            "header length {n} does not fit the file ({len} bytes)"
        )));
    }
    let mut header = vec![0u8; n as usize];
    f.read_exact(&mut header)
        .map_err(|e| bad(format!("cannot read the {n}-byte header: {e}")))?;
    let header: serde_json::Value = serde_json::from_slice(&header)
        .map_err(|e| bad(format!("header is not valid JSON: {e}")))?;
    let serde_json::Value::Object(tensors) = header else {
        return Err(bad("header is not a JSON object".to_string()));
    };
    let mut data_end = 0u64;
    for (name, info) in &tensors {
        if name == "__metadata__" {
            continue;
        }
        let offsets = info
            .get("data_offsets")
            .and_then(|v| v.as_array())
            .filter(|a| a.len() == 2)
            .and_then(|a| Some((a[0].as_u64()?, a[1].as_u64()?)))
            .ok_or_else(|| bad(format!("tensor `{name}` has no valid data_offsets")))?;
        if offsets.0 > offsets.1 {
            return Err(bad(format!(
                "tensor `{name}` has data_offsets [{}, {}] out of order",
                offsets.0, offsets.1
            )));
        }
        data_end = data_end.max(offsets.1);
    }
    let need = 8 + n + data_end;
    if len < need {
        return Err(bad(format!(
            "{len} bytes on disk but the header needs {need} ({} missing)",
            need - len
        )));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A valid safetensors file with one F32 tensor of `n` values.
    pub(crate) fn safetensors_bytes(n: usize) -> Vec<u8> {
        let header = format!(
            r#"{{"__metadata__":{{"format":"pt"}},"w":{{"dtype":"F32","shape":[{n}],"data_offsets":[0,{}]}}}}"#,
            4 * n
        );
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(header.as_bytes());
        out.extend(std::iter::repeat_n(0u8, 4 * n));
        out
    }

    #[test]
    fn safetensors_check() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.safetensors");
        let bytes = safetensors_bytes(4);
        std::fs::write(&good, &bytes).unwrap();
        check_safetensors(&good).unwrap();

        let cut = dir.path().join("cut.safetensors");
        std::fs::write(&cut, &bytes[..bytes.len() - 3]).unwrap();
        let e = check_safetensors(&cut).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!(
                "truncated or corrupt safetensors file {}",
                cut.display()
            )),
            "{e}"
        );
        assert!(e.contains("3 missing"), "{e}");

        let tiny = dir.path().join("tiny.safetensors");
        std::fs::write(&tiny, b"abc").unwrap();
        let e = check_safetensors(&tiny).unwrap_err().to_string();
        assert!(e.contains("shorter than the 8-byte header length"), "{e}");

        let garbage = dir.path().join("garbage.safetensors");
        let mut g = 5u64.to_le_bytes().to_vec();
        g.extend_from_slice(b"{nope");
        std::fs::write(&garbage, &g).unwrap();
        let e = check_safetensors(&garbage).unwrap_err().to_string();
        assert!(e.contains("header is not valid JSON"), "{e}");

        let huge = dir.path().join("huge.safetensors");
        let mut h = 1_000u64.to_le_bytes().to_vec();
        h.extend_from_slice(b"{}");
        std::fs::write(&huge, &h).unwrap();
        let e = check_safetensors(&huge).unwrap_err().to_string();
        assert!(e.contains("header length 1000 does not fit"), "{e}");
    }

    #[test]
    fn failures_are_typed() {
        let dir = tempfile::tempdir().unwrap();
        let cut = dir.path().join("cut.safetensors");
        let bytes = safetensors_bytes(4);
        std::fs::write(&cut, &bytes[..bytes.len() - 1]).unwrap();
        let e = anyhow::Error::from(check_safetensors(&cut).unwrap_err());
        match e.downcast_ref::<IntegrityError>() {
            Some(IntegrityError::Corrupt { path, reason }) => {
                assert_eq!(path, &cut);
                assert!(reason.contains("1 missing"), "{reason}");
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
        let gone = dir.path().join("gone.safetensors");
        let e = check_safetensors(&gone).unwrap_err();
        assert!(matches!(e, IntegrityError::Open { .. }), "{e:?}");
        let msg = format!("{:#}", anyhow::Error::from(e));
        assert!(
            msg.starts_with(&format!(
                "cannot open safetensors file {}: ",
                gone.display()
            )),
            "{msg}"
        );
    }
}
