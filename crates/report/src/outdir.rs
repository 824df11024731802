//! Writing a whole output folder (a leaderboard site, a run report) so that nothing is ever
//! half-written: everything goes into a temp folder beside the target, is fsynced, then
//! swapped into place (`renameat2(RENAME_EXCHANGE)` on Linux, two renames elsewhere) and the
//! previous content removed. An existing target is only replaced when it is empty or was
//! written by frugalbench (it holds [`MARKER`]), so `--out ~` cannot wipe a home folder.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// File that marks a folder as frugalbench output (safe to replace).
pub const MARKER: &str = ".frugalbench-output";

/// Checks that `out` may be (re)placed: absent, an empty folder, or a folder holding
/// [`MARKER`].
fn check_replaceable(out: &Path) -> anyhow::Result<()> {
    let meta = match fs::symlink_metadata(out) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", out.display())),
    };
    if !meta.is_dir() {
        bail!(
            "{} exists and is not a folder; choose another output folder",
            out.display()
        );
    }
    let empty = fs::read_dir(out)
        .with_context(|| format!("listing {}", out.display()))?
        .next()
        .is_none();
    if !empty && !out.join(MARKER).is_file() {
        bail!(
            "{} exists, is not empty and was not written by frugalbench (no {MARKER}); \
             refusing to replace it: choose another output folder or remove it",
            out.display()
        );
    }
    Ok(())
}

fn sync_tree(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            sync_tree(&path)?;
        } else {
            fs::File::open(&path)?.sync_all()?;
        }
    }
    fs::File::open(dir)?.sync_all()
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ca = CString::new(a.as_os_str().as_bytes())?;
    let cb = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both are valid NUL-terminated paths; AT_FDCWD resolves them like rename(2).
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "no atomic exchange",
    ))
}

/// Builds the folder `out` by calling `fill` on an empty temp folder beside it, then moves it
/// into place (see the module docs). `kind` is written into [`MARKER`]. On any error the temp
/// folder is removed and `out` is left as it was.
pub fn write_dir_atomically<T>(
    out: &Path,
    kind: &str,
    fill: impl FnOnce(&Path) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    check_replaceable(out)?;
    let name = out
        .file_name()
        .with_context(|| format!("{}: not a folder name", out.display()))?
        .to_string_lossy()
        .into_owned();
    let parent: PathBuf = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempdir_in(&parent)
        .with_context(|| format!("creating a temp folder in {}", parent.display()))?;
    let value = fill(tmp.path())?;
    fs::write(
        tmp.path().join(MARKER),
        format!("frugalbench {kind}; this folder is replaced as a whole on every build\n"),
    )
    .with_context(|| format!("writing {MARKER}"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // tempdir() makes 0700; a site is meant to be served.
        let _ = fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755));
    }
    sync_tree(tmp.path()).with_context(|| format!("syncing {}", tmp.path().display()))?;
    let staged = tmp.keep();
    let cleanup = |p: &Path| {
        let _ = fs::remove_dir_all(p);
    };
    let placed = if fs::symlink_metadata(out).is_err() {
        fs::rename(&staged, out)
    } else {
        match exchange(&staged, out) {
            // `staged` now holds the previous content.
            Ok(()) => {
                cleanup(&staged);
                Ok(())
            }
            Err(_) => {
                let old = parent.join(format!(".{name}.old-{}", std::process::id()));
                fs::rename(out, &old).and_then(|()| {
                    fs::rename(&staged, out)
                        .inspect(|()| cleanup(&old))
                        .inspect_err(|_| {
                            let _ = fs::rename(&old, out);
                        })
                })
            }
        }
    };
    if let Err(e) = placed {
        cleanup(&staged);
        return Err(e).with_context(|| format!("moving the new folder into {}", out.display()));
    }
    if let Ok(d) = fs::File::open(&parent) {
        let _ = d.sync_all();
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_its_own_output_and_refuses_foreign_folders() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("site");
        write_dir_atomically(&out, "test", |d| Ok(fs::write(d.join("a.txt"), "1")?)).unwrap();
        assert_eq!(fs::read_to_string(out.join("a.txt")).unwrap(), "1");
        write_dir_atomically(&out, "test", |d| Ok(fs::write(d.join("b.txt"), "2")?)).unwrap();
        assert!(!out.join("a.txt").exists(), "old content removed");
        assert_eq!(fs::read_to_string(out.join("b.txt")).unwrap(), "2");

        let foreign = dir.path().join("home");
        fs::create_dir(&foreign).unwrap();
        fs::write(foreign.join("precious"), "x").unwrap();
        let err = write_dir_atomically(&foreign, "test", |_| Ok(())).unwrap_err();
        assert!(
            format!("{err:#}").contains("refusing to replace"),
            "{err:#}"
        );
        assert!(foreign.join("precious").exists());

        // A failing fill leaves the previous output and no temp folder behind.
        let err = write_dir_atomically(&out, "test", |d| -> anyhow::Result<()> {
            fs::write(d.join("half"), "x")?;
            bail!("boom")
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("boom"));
        assert!(out.join("b.txt").exists());
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 2, "{leftovers:?}");
    }
}
