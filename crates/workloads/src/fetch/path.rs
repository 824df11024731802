//! The `path` source: a local file, or every regular non-hidden file directly inside a folder.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};

use super::Located;

/// A file, or every regular non-hidden file directly inside a folder.
pub(super) fn from_path(p: &Path) -> Result<Located> {
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

#[cfg(test)]
mod tests {
    use super::super::fetch_with;
    use super::super::test_support::*;

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
}
