//! Where a dataset row's audio clip or image lives: a file (paths in a row are relative to the
//! dataset file) or bytes carried by the dataset itself (the hub's Parquet `{bytes, path}`
//! struct columns). Decoders (speech, vision) read both the same way, before any meter window
//! opens.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};

/// A row's media (an audio clip or an image).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Media {
    /// A file on disk (already resolved against the dataset's folder).
    File(PathBuf),
    /// Bytes embedded in the dataset; `name` is the original file name when the dataset gives
    /// one (used for the format hint and in messages).
    Bytes { bytes: Arc<[u8]>, name: String },
}

impl Media {
    /// A row's path field: absolute as given, relative to `base` (the dataset file's folder)
    /// otherwise. An empty value is refused.
    pub fn from_path_field(value: &str, base: Option<&Path>) -> Result<Media> {
        if value.trim().is_empty() {
            bail!("the media path is empty");
        }
        let p = Path::new(value);
        Ok(Media::File(match base {
            Some(b) if p.is_relative() => b.join(p),
            _ => p.to_path_buf(),
        }))
    }

    /// The bytes (read from disk for [`Media::File`]).
    pub fn read(&self) -> Result<Cow<'_, [u8]>> {
        match self {
            Media::File(p) => std::fs::read(p)
                .map(Cow::Owned)
                .with_context(|| format!("cannot read {}", p.display())),
            Media::Bytes { bytes, .. } => Ok(Cow::Borrowed(bytes)),
        }
    }

    /// The extension in lower case (`wav`, `png`, ...), a hint for decoders; `None` when the
    /// name has none.
    pub fn extension(&self) -> Option<String> {
        let name = match self {
            Media::File(p) => p.as_path(),
            Media::Bytes { name, .. } => Path::new(name.as_str()),
        };
        name.extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
    }

    /// How messages name it: the path, or `<embedded NAME>`.
    pub fn describe(&self) -> String {
        match self {
            Media::File(p) => p.display().to_string(),
            Media::Bytes { name, bytes } if name.is_empty() => {
                format!("<embedded, {} bytes>", bytes.len())
            }
            Media::Bytes { name, .. } => format!("<embedded {name}>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_resolve_against_the_dataset_folder() {
        let m = Media::from_path_field("clips/a.wav", Some(Path::new("/data/set"))).unwrap();
        assert_eq!(m, Media::File(PathBuf::from("/data/set/clips/a.wav")));
        let m = Media::from_path_field("/abs/b.png", Some(Path::new("/data/set"))).unwrap();
        assert_eq!(m, Media::File(PathBuf::from("/abs/b.png")));
        assert_eq!(m.extension().as_deref(), Some("png"));
        assert!(Media::from_path_field("  ", None).is_err());
    }

    #[test]
    fn embedded_bytes_read_back_and_describe_themselves() {
        let m = Media::Bytes {
            bytes: Arc::from(&b"RIFF"[..]),
            name: "x.WAV".into(),
        };
        assert_eq!(&*m.read().unwrap(), b"RIFF");
        assert_eq!(m.extension().as_deref(), Some("wav"));
        assert_eq!(m.describe(), "<embedded x.WAV>");
        let err = Media::File("/nonexistent/q.wav".into()).read().unwrap_err();
        assert!(format!("{err:#}").contains("/nonexistent/q.wav"));
    }
}
