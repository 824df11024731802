//! Image-classification rows: `{"image": "path", "label": "..."}`, the path relative to the
//! dataset file (or absolute). `label` is one string, or an array of strings when several
//! answers are accepted for one picture (a photo of a tabby may be scored right as "tabby" or
//! "tiger cat"); `split` is `train` or `test` (default `test`) as in text classification: a
//! set with train rows is scored by a linear head fitted on the model's frozen embeddings of
//! those rows, a set without them by the model's own (ImageNet) classes.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::Media;

/// One labelled picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRow {
    pub image: Media,
    /// The accepted labels (at least one; the first is the label a head is fitted on).
    pub labels: Vec<String>,
    /// The dataset file and line this row came from, for error messages when the picture is
    /// decoded.
    pub source: String,
    pub line: usize,
}

impl ImageRow {
    /// `SOURCE:LINE`, how messages name the row.
    pub fn at(&self) -> String {
        format!("{}:{}", self.source, self.line)
    }

    /// Whether `label` is one of the accepted labels (case-insensitive, outer spaces ignored).
    pub fn accepts(&self, label: &str) -> bool {
        let l = label.trim();
        self.labels.iter().any(|g| g.trim().eq_ignore_ascii_case(l))
    }
}

/// Where the rows' relative paths are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaRoot {
    /// Already resolved against the dataset file's folder.
    Resolved,
    /// Relative to a folder of a pip package, fetched (like a model's pip mirror) when a
    /// runner loads the set: the builtin photos from the scikit-image wheel.
    Pip { pip: String, path: String },
}

/// An image-classification set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSet {
    pub train: Vec<ImageRow>,
    pub test: Vec<ImageRow>,
    pub root: MediaRoot,
}

impl ImageSet {
    /// Resolve rows whose media root is a fetched folder: `Media::File` paths that are relative
    /// are joined to `folder`.
    pub fn resolved_in(&self, folder: &Path) -> ImageSet {
        let fix = |rows: &[ImageRow]| {
            rows.iter()
                .map(|r| {
                    let mut r = r.clone();
                    if let Media::File(p) = &r.image {
                        if p.is_relative() {
                            r.image = Media::File(folder.join(p));
                        }
                    }
                    r
                })
                .collect()
        };
        ImageSet {
            train: fix(&self.train),
            test: fix(&self.test),
            root: MediaRoot::Resolved,
        }
    }

    /// Train labels (the first accepted label of each train row), sorted and unique.
    pub fn train_labels(&self) -> Vec<String> {
        let set: std::collections::BTreeSet<&str> =
            self.train.iter().map(|r| r.labels[0].as_str()).collect();
        set.into_iter().map(str::to_string).collect()
    }
}

/// Parse a row's `label` value: one string (an integer is taken as its decimal text) or a
/// non-empty array of them. `err` builds the error for the field.
pub(super) fn parse_labels(
    value: &serde_json::Value,
    err: impl Fn(String) -> anyhow::Error,
) -> Result<Vec<String>> {
    use serde_json::Value;
    let one = |v: &Value, what: &str| -> Result<String> {
        let s = match v {
            Value::String(s) => s.trim().to_string(),
            Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
            other => {
                return Err(err(format!(
                    "{what}expected a string, got {}",
                    super::json_kind(other)
                )))
            }
        };
        if s.is_empty() {
            return Err(err(format!("{what}is empty")));
        }
        Ok(s)
    };
    match value {
        Value::Array(items) if items.is_empty() => {
            Err(err("is an empty array (need at least one label)".into()))
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| one(v, &format!("item {i}: ")))
            .collect(),
        v => Ok(vec![one(v, "")?]),
    }
}

/// Resolve a row's `image` path against the dataset's folder (`None` for builtin sets, whose
/// paths stay relative to their [`MediaRoot`]).
pub(super) fn image_media(value: &str, base: Option<&Path>) -> Result<Media> {
    Media::from_path_field(value, base)
}

/// Check every row's picture decodes (file-backed rows whose path is resolved), so a corrupt
/// or unsupported image is one error naming the file and the row before anything is metered.
/// The decoded pixels are dropped; runners decode again when they load.
pub fn check_decodable(set: &ImageSet) -> Result<()> {
    if set.root != MediaRoot::Resolved {
        return Ok(());
    }
    for row in set.train.iter().chain(&set.test) {
        crate::vision::decode_row(&row.image, &row.source, row.line)?;
    }
    Ok(())
}

/// The folder of a dataset file, to resolve its rows' relative paths.
pub(super) fn base_of(path: &Path) -> PathBuf {
    path.parent()
        .map(Path::to_path_buf)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Message for a row whose `split` is not train/test (shared wording with text rows).
pub(super) fn bad_split(other: &str) -> String {
    format!("expected \"train\" or \"test\", got {other:?}")
}

impl super::Record<'_> {
    /// The row and whether it is a train row; relative paths are resolved against `base`.
    pub(super) fn image_row(&self, base: Option<&Path>) -> Result<(ImageRow, bool)> {
        let path = self.string("image")?;
        let image = image_media(&path, base).map_err(|e| self.err("image", e))?;
        let labels = match self.get("label") {
            None => return Err(self.missing("label")),
            Some(super::Raw::Json(v)) => parse_labels(v, |m| self.err("label", m))?,
            Some(super::Raw::Cell(c)) if c.trim_start().starts_with('[') => {
                let v: serde_json::Value = serde_json::from_str(c).map_err(|e| {
                    self.err("label", format!("expected a JSON array of strings: {e}"))
                })?;
                parse_labels(&v, |m| self.err("label", m))?
            }
            Some(super::Raw::Cell(c)) => {
                parse_labels(&serde_json::Value::String(c.to_string()), |m| {
                    self.err("label", m)
                })?
            }
        };
        let is_train = match self.opt_string("split")?.as_deref().map(str::trim) {
            None | Some("test") => false,
            Some("train") => true,
            Some(other) => return Err(self.err("split", bad_split(other))),
        };
        Ok((
            ImageRow {
                image,
                labels,
                source: self.source.to_string(),
                line: self.line,
            },
            is_train,
        ))
    }
}
