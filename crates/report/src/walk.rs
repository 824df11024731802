//! The one walker of result folders (used by `leaderboard`, `compare`, `export`, `report`,
//! `plan`/`collect` and the tests): below a folder, every `<stem>.json` result file
//! ([`is_result_file_name`]), sorted by path, at most [`MAX_DEPTH`] folder levels down.
//!
//! Hardened against what a shared results folder may hold:
//! - **regular files only**: a FIFO, socket or device named `*.json` is skipped with a reason,
//!   never opened (reading a FIFO would wait for a writer forever);
//! - **symbolic links are not followed**: a link named like a result, or a link to a folder,
//!   is skipped with a reason (a link could point at `/dev/zero`, or out of the folder);
//! - hidden entries (`.name`, e.g. temp files of an atomic write) are not looked at;
//! - a folder too deep, or that cannot be listed, is skipped with a reason, so one bad
//!   sub-folder never hides the rest.
//!
//! Reading is bounded too, but that is the reader's job ([`crate::inputs::load_one`]).

use std::fs::{self, FileType};
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::write::is_result_file_name;

/// Deepest folder level searched below the folder walked (which is level 0).
pub const MAX_DEPTH: usize = 32;

/// What the walk found at one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A regular file named like a result (`<stem>.json`).
    Result(PathBuf),
    /// Something that could hold results but was not looked into or read, and why.
    Skipped { path: PathBuf, reason: String },
}

impl Entry {
    pub fn path(&self) -> &Path {
        match self {
            Entry::Result(p) | Entry::Skipped { path: p, .. } => p,
        }
    }
}

/// What kind of non-regular file this is, in words.
pub fn kind_name(t: &FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_char_device() {
            return "a character device";
        }
    }
    if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a folder"
    } else if t.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// Walks `root` (a folder) for result files: every entry found, sorted by path. Errors only
/// when `root` itself cannot be listed.
pub fn walk_results(root: &Path) -> anyhow::Result<Vec<Entry>> {
    let entries = fs::read_dir(root).with_context(|| format!("listing {}", root.display()))?;
    let mut out = Vec::new();
    visit(root, entries, 0, &mut out);
    out.sort_by(|a, b| a.path().cmp(b.path()));
    Ok(out)
}

/// The result files under `dir`, sorted; none when `dir` cannot be listed (e.g. a plan job
/// that has not run yet). Skipped entries are left out.
pub fn result_files(dir: &Path) -> Vec<PathBuf> {
    walk_results(dir)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|e| match e {
            Entry::Result(p) => Some(p),
            Entry::Skipped { .. } => None,
        })
        .collect()
}

fn visit(dir: &Path, entries: fs::ReadDir, depth: usize, out: &mut Vec<Entry>) {
    let skip = |path: PathBuf, reason: String| Entry::Skipped { path, reason };
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                out.push(skip(
                    dir.to_path_buf(),
                    format!("cannot list the folder: {e}"),
                ));
                return;
            }
        };
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        // The entry's own type: a symbolic link is reported as one, not as its target.
        let kind = match entry.file_type() {
            Ok(k) => k,
            Err(e) => {
                out.push(skip(path, format!("cannot read the entry: {e}")));
                continue;
            }
        };
        let result_name = is_result_file_name(&name);
        if kind.is_dir() {
            if depth + 1 > MAX_DEPTH {
                out.push(skip(
                    path,
                    format!("folder nested deeper than {MAX_DEPTH} levels, not searched"),
                ));
                continue;
            }
            match fs::read_dir(&path) {
                Ok(sub) => visit(&path, sub, depth + 1, out),
                Err(e) => out.push(skip(path, format!("cannot list the folder: {e}"))),
            }
        } else if kind.is_symlink() {
            // `metadata` only stats the target (it never opens it), to tell a linked folder.
            if result_name {
                out.push(skip(path, "a symbolic link, not followed".into()));
            } else if fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
                out.push(skip(
                    path,
                    "a symbolic link to a folder, not followed".into(),
                ));
            }
        } else if result_name {
            if kind.is_file() {
                out.push(Entry::Result(path));
            } else {
                let what = kind_name(&kind);
                out.push(skip(path, format!("{what}, not a regular file; not read")));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_result_files_sorted_and_skips_siblings_and_hidden_entries() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("task/model");
        fs::create_dir_all(&sub).unwrap();
        for name in [
            "b.json",
            "a.json",
            "a.head.json",
            "a.timeline.csv",
            ".tmp.json",
        ] {
            fs::write(sub.join(name), "{}").unwrap();
        }
        fs::create_dir(dir.path().join(".hidden")).unwrap();
        fs::write(dir.path().join(".hidden/c.json"), "{}").unwrap();
        fs::write(dir.path().join("top.json"), "{}").unwrap();
        let found = walk_results(dir.path()).unwrap();
        assert_eq!(
            found,
            [
                Entry::Result(sub.join("a.json")),
                Entry::Result(sub.join("b.json")),
                Entry::Result(dir.path().join("top.json")),
            ]
        );
        assert_eq!(result_files(dir.path()).len(), 3);
        assert!(result_files(&dir.path().join("missing")).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn fifos_and_symlinks_are_skipped_with_a_reason_never_opened() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("x.json");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("y.json")).unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        fs::write(elsewhere.path().join("z.json"), "{}").unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("linked")).unwrap();
        let found = walk_results(dir.path()).unwrap();
        let reasons: Vec<(String, String)> = found
            .iter()
            .map(|e| match e {
                Entry::Skipped { path, reason } => (
                    path.file_name().unwrap().to_string_lossy().into_owned(),
                    reason.clone(),
                ),
                Entry::Result(p) => panic!("{} taken as a result", p.display()),
            })
            .collect();
        assert_eq!(reasons.len(), 3, "{reasons:?}");
        assert_eq!(reasons[0].0, "linked");
        assert!(reasons[0].1.contains("symbolic link to a folder"));
        assert_eq!(reasons[1].0, "x.json");
        assert!(reasons[1].1.contains("FIFO"), "{}", reasons[1].1);
        assert_eq!(reasons[2].0, "y.json");
        assert!(reasons[2].1.contains("symbolic link"), "{}", reasons[2].1);
        assert!(result_files(dir.path()).is_empty());
    }

    #[test]
    fn depth_is_bounded_and_deeper_folders_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut deep = dir.path().to_path_buf();
        for i in 0..=MAX_DEPTH {
            deep.push(format!("d{i}"));
        }
        fs::create_dir_all(&deep).unwrap();
        fs::write(deep.join("lost.json"), "{}").unwrap();
        fs::write(deep.parent().unwrap().join("found.json"), "{}").unwrap();
        let found = walk_results(dir.path()).unwrap();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(matches!(&found[0], Entry::Skipped { path, reason }
            if path == &deep && reason.contains("deeper than 32")));
        assert!(matches!(&found[1], Entry::Result(p) if p.ends_with("found.json")));
    }
}
