//! sha256 of model files, and the index that remembers them by (path, size, mtime) in
//! `<cache>/sha256-index.json`, so large files are not re-read on every run.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Streamed sha256 of a file, lower-case hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct HashEntry {
    bytes: u64,
    mtime_ns: u128,
    sha256: String,
}

/// sha256 of files keyed by (path, size, mtime), stored as JSON in the cache folder.
pub(super) struct HashIndex {
    path: Option<PathBuf>,
    entries: BTreeMap<String, HashEntry>,
    dirty: bool,
}

const HASH_INDEX_FILE: &str = "sha256-index.json";

impl HashIndex {
    pub(super) fn open(cache_dir: &Path) -> HashIndex {
        let path = cache_dir.join(HASH_INDEX_FILE);
        let entries = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        HashIndex {
            path: Some(path),
            entries,
            dirty: false,
        }
    }

    /// (sha256, size) of `path`, from the index when its size and mtime are unchanged.
    pub(super) fn hash(&mut self, path: &Path, verbose: bool) -> Result<(String, u64)> {
        let meta = std::fs::metadata(path)?;
        let bytes = meta.len();
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let key = std::fs::canonicalize(path)
            .unwrap_or_else(|_| path.to_path_buf())
            .to_string_lossy()
            .into_owned();
        if let Some(e) = self.entries.get(&key) {
            if e.bytes == bytes && e.mtime_ns == mtime_ns && mtime_ns != 0 {
                return Ok((e.sha256.clone(), bytes));
            }
        }
        if verbose {
            eprintln!("hashing {} ({bytes} bytes)", path.display());
        }
        let sha256 = sha256_file(path)?;
        self.entries.insert(
            key,
            HashEntry {
                bytes,
                mtime_ns,
                sha256: sha256.clone(),
            },
        );
        self.dirty = true;
        Ok((sha256, bytes))
    }

    /// Write the index atomically; failures only cost a re-hash next time.
    pub(super) fn save(&mut self, verbose: bool) {
        let Some(path) = &self.path else { return };
        if !self.dirty {
            return;
        }
        self.entries.retain(|k, _| Path::new(k).exists());
        let result = (|| -> Result<()> {
            let dir = path.parent().unwrap_or(Path::new("."));
            std::fs::create_dir_all(dir)?;
            let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
            serde_json::to_writer_pretty(&mut tmp, &self.entries)?;
            tmp.persist(path)?;
            Ok(())
        })();
        match result {
            Ok(()) => self.dirty = false,
            Err(e) if verbose => eprintln!("warning: cannot save {}: {e:#}", path.display()),
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::fetch_with;
    use super::super::test_support::*;
    use super::*;

    #[test]
    fn hash_index_is_reused_until_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("w.bin");
        std::fs::write(&file, b"first").unwrap();
        let entry = catalogue(
            "[[model]]\nid = \"h\"\ntask = \"text-generation\"\narch = \"x\"\npath = \"w.bin\"\n",
            dir.path(),
        )
        .models
        .remove(0);
        let cache = dir.path().join("cache");
        let env = test_env(&cache);
        let first = fetch_with(&entry, &opts(&cache), &env).unwrap();
        assert_eq!(first.files[0].sha256, sha_hex(b"first"));

        // Plant a different hash for the same (path, size, mtime): fetch must take it from the
        // index instead of re-reading the file.
        let index_path = cache.join(HASH_INDEX_FILE);
        let mut index: BTreeMap<String, HashEntry> =
            serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
        assert_eq!(index.len(), 1);
        index.values_mut().next().unwrap().sha256 = "f".repeat(64);
        std::fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();
        let again = fetch_with(&entry, &opts(&cache), &env).unwrap();
        assert_eq!(again.files[0].sha256, "f".repeat(64));

        // A changed file (new size and mtime) is hashed afresh.
        std::fs::write(&file, b"second version").unwrap();
        let changed = fetch_with(&entry, &opts(&cache), &env).unwrap();
        assert_eq!(changed.files[0].sha256, sha_hex(b"second version"));
        assert_eq!(changed.files[0].bytes, 14);
    }
}
