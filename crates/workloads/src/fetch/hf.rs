//! The `hf` source: the local hf-hub cache (no network), then the hub itself behind a
//! reachability probe that must answer within [`FetchEnv::timeout`].

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use anyhow::{anyhow, bail, Context, Result};

use super::{FetchEnv, Located};
use crate::catalogue::{HfSource, HubKind};

fn hf_repo(hf: &HfSource) -> hf_hub::Repo {
    let kind = match hf.kind {
        HubKind::Model => hf_hub::RepoType::Model,
        HubKind::Dataset => hf_hub::RepoType::Dataset,
    };
    hf_hub::Repo::with_revision(hf.repo.clone(), kind, hf.revision.clone())
}

/// A refusal by the hub (401/403): the repository is gated or private. Without a token, say
/// that one is needed.
fn explain_refusal(hf: &HfSource, hub: &FetchEnv, error: &str) -> Option<String> {
    let refused = ["401", "403"].iter().any(|c| error.contains(c));
    if !refused {
        return None;
    }
    let what = match hf.kind {
        HubKind::Model => "model",
        HubKind::Dataset => "dataset",
    };
    Some(match hub.token {
        None => format!(
            "the {what} repository {} is gated or private: it needs a Hugging Face token with access (accept its terms on the hub, then set HF_TOKEN) ({error})",
            hf.repo
        ),
        Some(_) => format!(
            "the {what} repository {} refused the token in HF_TOKEN (gated or private: does the token's account have access?) ({error})",
            hf.repo
        ),
    })
}

fn is_commit_sha(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The commit a cached revision points at: `refs/<revision>`, or the revision itself when it is
/// a commit sha (the Python client stores pinned commits under `snapshots/<sha>` with no ref).
fn cached_commit(hf: &HfSource, cache: &Path) -> Option<String> {
    let repo_dir = cache.join(hf_repo(hf).folder_name());
    match std::fs::read_to_string(repo_dir.join("refs").join(&hf.revision)) {
        Ok(c) if !c.trim().is_empty() => Some(c.trim().to_string()),
        _ if is_commit_sha(&hf.revision) => Some(hf.revision.clone()),
        _ => None,
    }
}

pub(super) fn from_hf_cache(hf: &HfSource, cache: &Path) -> Result<Located> {
    let cache_repo = hf_hub::Cache::new(cache.to_path_buf()).repo(hf_repo(hf));
    let commit = cached_commit(hf, cache);
    let snapshot = commit
        .as_ref()
        .map(|c| cache_repo.pointer_path(c))
        .ok_or_else(|| anyhow!("{}@{} is not in the cache", hf.repo, hf.revision))?;
    let mut files = Vec::new();
    let mut missing = Vec::new();
    for name in &hf.files {
        let path = cache_repo
            .get(name)
            .or_else(|| Some(snapshot.join(name)).filter(|p| p.is_file()));
        match path {
            Some(p) => files.push((name.clone(), absolute(&p))),
            None => missing.push(name.as_str()),
        }
    }
    if !missing.is_empty() {
        bail!(
            "{}@{}: not in the cache: {}",
            hf.repo,
            hf.revision,
            missing.join(", ")
        );
    }
    Ok(Located {
        root: absolute(&snapshot),
        origin: format!(
            "hf:{}@{}",
            hf.repo,
            commit.as_deref().unwrap_or(&hf.revision)
        ),
        revision: commit,
        files,
    })
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

fn build_api(hub: &FetchEnv) -> Result<hf_hub::api::sync::Api> {
    let mut builder =
        hf_hub::api::sync::ApiBuilder::from_cache(hf_hub::Cache::new(hub.cache.clone()))
            .with_progress(std::io::stderr().is_terminal());
    if let Some(endpoint) = &hub.endpoint {
        builder = builder.with_endpoint(endpoint.clone());
    }
    if let Some(token) = &hub.token {
        builder = builder.with_token(Some(token.clone()));
    }
    builder.build().context("cannot set up the hub client")
}

/// Download the listed files through hf-hub into its cache. The first request runs in a
/// separate thread and must answer within `hub.timeout`, so an unreachable hub fails fast;
/// once the hub has answered, the downloads are left to run.
pub(super) fn from_hub(hf: &HfSource, hub: &FetchEnv) -> Result<Located> {
    let cache = hub.cache.as_path();
    let api = build_api(hub)?;
    let repo = api.repo(hf_repo(hf));
    let timeout = hub.timeout;
    let (tx, rx) = mpsc::channel::<Result<(), String>>();
    let files = hf.files.clone();
    let worker = std::thread::spawn(move || -> Result<Vec<PathBuf>, String> {
        let probe_url = repo.url(&files[0]);
        let probe = api
            .metadata(&probe_url)
            .map(|_| ())
            .map_err(|e| e.to_string());
        let ok = probe.is_ok();
        let _ = tx.send(probe);
        if !ok {
            return Err(String::new());
        }
        files
            .iter()
            .map(|f| repo.get(f).map_err(|e| format!("{f}: {e}")))
            .collect()
    });
    match rx.recv_timeout(timeout) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => match explain_refusal(hf, hub, &e) {
            Some(msg) => bail!("{msg}"),
            None => bail!("unreachable: {e}"),
        },
        Err(_) => bail!(
            "no answer within {:.1} s (set FRUGALBENCH_HUB_TIMEOUT to wait longer, or HF_HUB_OFFLINE=1 to skip)",
            timeout.as_secs_f64()
        ),
    }
    let paths = worker
        .join()
        .map_err(|_| anyhow!("the download thread panicked"))?
        .map_err(|e| anyhow!("download failed: {e}"))?;
    let commit = cached_commit(hf, cache);
    let root = paths
        .first()
        .and_then(|p| p.parent())
        .map(absolute)
        .unwrap_or_else(|| cache.to_path_buf());
    Ok(Located {
        root,
        origin: format!(
            "hf:{}@{}",
            hf.repo,
            commit.as_deref().unwrap_or(&hf.revision)
        ),
        revision: commit,
        files: hf
            .files
            .iter()
            .cloned()
            .zip(paths.iter().map(|p| absolute(p)))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::fetch_with;
    use super::super::test_support::*;

    #[test]
    fn hf_cache_with_ref_is_used_without_network() {
        let dir = tempfile::tempdir().unwrap();
        let hub = dir.path().join("hf_home/hub");
        let commit = "0123456789abcdef0123456789abcdef01234567";
        let st = safetensors_bytes(3);
        fill_hf_cache(&hub, commit, Some("main"), &st);
        let mut env = test_env(&hub);
        env.offline = true; // the cache route needs no network at all
        let cache = dir.path().join("fb");
        let files = fetch_with(&hf_entry("main", false), &opts(&cache), &env).unwrap();
        assert_eq!(files.origin, format!("hf:org/repo@{commit}"));
        assert_eq!(files.revision.as_deref(), Some(commit));
        assert_eq!(
            files.root,
            hub.join("models--org--repo/snapshots").join(commit)
        );
        let names: Vec<&str> = files.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["config.json", "model.safetensors"]);
        assert_eq!(files.files[1].sha256, sha_hex(&st));
    }

    #[test]
    fn hf_cache_pinned_commit_without_ref() {
        // The Python client stores a pinned commit under snapshots/<sha> with no refs entry.
        let dir = tempfile::tempdir().unwrap();
        let hub = dir.path().join("hub");
        let commit = "c9745ed1d9f207416be6d2e6f8de32d1f16199bf";
        fill_hf_cache(&hub, commit, None, &safetensors_bytes(1));
        let mut env = test_env(&hub);
        env.offline = true;
        let files = fetch_with(&hf_entry(commit, false), &opts(dir.path()), &env).unwrap();
        assert_eq!(files.revision.as_deref(), Some(commit));
        // Another revision is not in the cache.
        let e = format!(
            "{:#}",
            fetch_with(&hf_entry("main", false), &opts(dir.path()), &env).unwrap_err()
        );
        assert!(e.contains("org/repo@main is not in the cache"), "{e}");
        assert!(e.contains("- hub http://127.0.0.1:"), "{e}");
        assert!(e.contains("skipped: HF_HUB_OFFLINE is set"), "{e}");
    }
}
