//! File access for the RAPL source, behind a trait so tests can inject errors
//! (tests run as root, which ignores file modes, so `PermissionDenied` has to be
//! simulated).

use std::io;
use std::path::Path;

/// Reads sysfs files and lists directories.
pub trait SysfsReader: Send + Sync {
    /// The whole file as a string.
    fn read_to_string(&self, path: &Path) -> io::Result<String>;

    /// The entry names of a directory (files, directories and symlinks), unsorted.
    fn read_dir_names(&self, path: &Path) -> io::Result<Vec<String>>;

    /// Whether `path` is a directory (following symlinks).
    fn is_dir(&self, path: &Path) -> bool;
}

/// The real file system (`std::fs`).
#[derive(Debug, Clone, Copy, Default)]
pub struct StdFs;

impl SysfsReader for StdFs {
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        std::fs::read_to_string(path)
    }

    fn read_dir_names(&self, path: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in std::fs::read_dir(path)? {
            let entry = entry?;
            if let Some(name) = entry.file_name().to_str() {
                names.push(name.to_owned());
            }
        }
        Ok(names)
    }

    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }
}
