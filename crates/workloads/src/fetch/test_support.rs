//! Fixtures shared by the fetch tests: tiny safetensors files, catalogue entries, hub caches
//! and unpacked mirrors laid out as the real tools leave them.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::{FetchEnv, FetchOptions};
use crate::catalogue::{Catalogue, ModelEntry};
pub(crate) use crate::integrity::tests::safetensors_bytes;

pub(crate) fn sha_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub(crate) fn catalogue(text: &str, base: &Path) -> Catalogue {
    Catalogue::parse(text, Path::new("test/models.toml"), base).unwrap()
}

pub(crate) fn hf_entry(revision: &str, mirror: bool) -> ModelEntry {
    let mirror = if mirror {
        "mirror = { pip = \"fake-pkg==1.0\", path = \"fake_pkg/model\" }\n"
    } else {
        ""
    };
    catalogue(
        &format!(
            "[[model]]\nid = \"m\"\ntask = \"sentence-similarity\"\narch = \"bert\"\nhf = {{ repo = \"org/repo\", revision = \"{revision}\", files = [\"config.json\", \"model.safetensors\"] }}\n{mirror}"
        ),
        Path::new("/"),
    )
    .models
    .remove(0)
}

/// Settings that never reach a real network: the hub is a closed local port.
pub(crate) fn test_env(cache: &Path) -> FetchEnv {
    FetchEnv {
        cache: cache.to_path_buf(),
        endpoint: Some(format!("http://127.0.0.1:{}", closed_port())),
        token: None,
        offline: false,
        timeout: Duration::from_secs(2),
        python: "python3".to_string(),
    }
}

pub(crate) fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

pub(crate) fn opts(cache: &Path) -> FetchOptions {
    FetchOptions {
        cache_dir: cache.to_path_buf(),
        offline: false,
        verbose: false,
    }
}

/// Lay out `hub/models--org--repo/snapshots/<commit>/...`, optionally with `refs/<name>`.
pub(crate) fn fill_hf_cache(hub: &Path, commit: &str, refs: Option<&str>, st: &[u8]) {
    let repo = hub.join("models--org--repo");
    let snap = repo.join("snapshots").join(commit);
    std::fs::create_dir_all(&snap).unwrap();
    std::fs::write(snap.join("config.json"), b"{\"hidden_size\": 4}").unwrap();
    std::fs::write(snap.join("model.safetensors"), st).unwrap();
    if let Some(r) = refs {
        std::fs::create_dir_all(repo.join("refs")).unwrap();
        std::fs::write(repo.join("refs").join(r), commit).unwrap();
    }
}

/// An unpacked mirror as a previous run would have left it.
pub(crate) fn fill_unpacked_mirror(cache: &Path) -> PathBuf {
    let model = cache.join("pip/fake-pkg-1.0/unpacked/fake_pkg/model");
    std::fs::create_dir_all(&model).unwrap();
    std::fs::write(model.join("config.json"), b"{}").unwrap();
    std::fs::write(model.join("model.safetensors"), safetensors_bytes(2)).unwrap();
    std::fs::write(model.join("README.md"), b"not listed in hf.files").unwrap();
    model
}
