//! Load JSONL or CSV datasets, one query per row, with one precise error per bad row.
//!
//! Fields per task (extra fields are ignored; blank lines are skipped):
//! - sentence-similarity: `sentence1`, `sentence2` (strings), `score` (number, any scale).
//! - text-classification: `text`, `label` (string; integers are taken as their decimal text),
//!   `split` (`train` or `test`, optional, default `test`).
//! - text-generation: `prompt` (string) and/or `messages` (`[{role, content}, ...]`; in CSV a
//!   JSON array in the cell).
//! - summarization: `document`, `summary` (strings).
//! - question-answering: `context`, `question` (strings), `answers` (a non-empty array of
//!   strings, or one string; SQuAD's `{"text": [...], ...}` object is accepted too; in CSV a
//!   JSON array in the cell or a plain string).
//!   JSON array in the cell); or a multiple-choice question: `question` (string; the prompt
//!   when there is no `prompt`), `choices` (at least 2 non-empty strings; in CSV a JSON array in
//!   the cell) and `answer` (the 0-based index of the right choice).
//!
//! The format follows the extension: `.jsonl`/`.ndjson`, `.csv` or `.parquet` ([`parquet`]); all
//! three become the same records, read by the same row parsers. Audio and image rows name their
//! media by path ([`media::Media`]), relative to the dataset file, or carry it embedded (the hub's
//! Parquet `{bytes, path}` columns). Named datasets from the hub: [`catalogue`].

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use sha2::{Digest, Sha256};

use crate::Task;

pub mod asr;
pub mod catalogue;
pub mod detection;
pub mod fashion_mnist;
pub mod images;
pub mod media;
pub mod parquet;
mod record;
pub use asr::AsrRow;
pub use detection::DetectionRow;
pub use images::{ImageRow, ImageSet, MediaRoot};
pub mod audio_classification;
pub mod speech_clips;
pub use audio_classification::AudioLabelRow;
pub use media::Media;

/// A sentence-similarity row: two sentences and a gold score (any scale).
#[derive(Debug, Clone, PartialEq)]
pub struct PairRow {
    pub sentence1: String,
    pub sentence2: String,
    pub score: f64,
}

/// A text-classification row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelRow {
    pub text: String,
    pub label: String,
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
}

/// A text-generation row: a plain prompt and/or chat messages (at least one is set), and,
/// for a multiple-choice question, its choices and answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptRow {
    pub prompt: Option<String>,
    pub messages: Option<Vec<ChatMessage>>,
    /// Set when the row is a multiple-choice question (`question`, `choices`, `answer`).
    pub choice: Option<MultipleChoice>,
}

/// A multiple-choice question, scored by the log-likelihood of each choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultipleChoice {
    pub question: String,
    /// At least 2 non-empty strings.
    pub choices: Vec<String>,
    /// Index into `choices` of the right one.
    pub answer: usize,
}

/// A summarization row: a document and its gold summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRow {
    pub document: String,
    pub summary: String,
}

/// An extractive question-answering row: a context, a question and the gold answers (at least
/// one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QaRow {
    pub context: String,
    pub question: String,
    pub answers: Vec<String>,
}

/// The rows of a dataset, by task.
#[derive(Debug, Clone, PartialEq)]
pub enum DatasetRows {
    Similarity(Vec<PairRow>),
    /// `train` rows fit the classification head; `test` rows are scored.
    Classification {
        train: Vec<LabelRow>,
        test: Vec<LabelRow>,
    },
    Generation(Vec<PromptRow>),
    Summarization(Vec<SummaryRow>),
    QuestionAnswering(Vec<QaRow>),
    /// Labelled pictures (`train` rows fit a head; `test` rows are scored).
    Images(ImageSet),
    /// Object detection: images with their gold boxes ([`detection`]).
    Detection(Vec<DetectionRow>),
    /// Automatic speech recognition: clips and reference transcripts.
    Speech(Vec<AsrRow>),
    /// Labelled clips, decoded: `train` rows may fit a head; `test` rows are scored.
    AudioClassification {
        train: Vec<AudioLabelRow>,
        test: Vec<AudioLabelRow>,
    },
}

/// A dataset ready for a runner.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedDataset {
    /// `frugalbench/<stem>` for the builtin sets, else the file stem.
    pub id: String,
    /// The file it came from (`None` for builtin sets).
    pub path: Option<PathBuf>,
    /// sha256 (lower-case hex) of the file's bytes.
    pub sha256: String,
    pub rows: DatasetRows,
}

impl LoadedDataset {
    /// The task these rows are for.
    pub fn task(&self) -> Task {
        match self.rows {
            DatasetRows::Similarity(_) => Task::SentenceSimilarity,
            DatasetRows::Classification { .. } => Task::TextClassification,
            DatasetRows::Generation(_) => Task::TextGeneration,
            DatasetRows::Summarization(_) => Task::Summarization,
            DatasetRows::QuestionAnswering(_) => Task::QuestionAnswering,
            DatasetRows::Images(_) => Task::ImageClassification,
            DatasetRows::Detection(_) => Task::ObjectDetection,
            DatasetRows::Speech(_) => Task::AutomaticSpeechRecognition,
            DatasetRows::AudioClassification { .. } => Task::AudioClassification,
        }
    }

    /// Number of evaluation (test) rows.
    pub fn eval_len(&self) -> usize {
        match &self.rows {
            DatasetRows::Similarity(r) => r.len(),
            DatasetRows::Classification { test, .. } => test.len(),
            DatasetRows::Generation(r) => r.len(),
            DatasetRows::Summarization(r) => r.len(),
            DatasetRows::QuestionAnswering(r) => r.len(),
            DatasetRows::Images(set) => set.test.len(),
            DatasetRows::Detection(r) => r.len(),
            DatasetRows::Speech(r) => r.len(),
            DatasetRows::AudioClassification { test, .. } => test.len(),
        }
    }

    /// Classification: test labels that never occur in the train rows (sorted). Empty for other
    /// tasks and when there are no train rows.
    pub fn unseen_test_labels(&self) -> Vec<String> {
        let (train, test): (Vec<&str>, Vec<&str>) = match &self.rows {
            DatasetRows::Classification { train, test } => (
                train.iter().map(|r| r.label.as_str()).collect(),
                test.iter().map(|r| r.label.as_str()).collect(),
            ),
            DatasetRows::AudioClassification { train, test } => (
                train.iter().map(|r| r.label.as_str()).collect(),
                test.iter().map(|r| r.label.as_str()).collect(),
            ),
            _ => return Vec::new(),
        };
        if train.is_empty() {
            return Vec::new();
        }
        let seen: BTreeSet<&str> = train.into_iter().collect();
        let unseen: BTreeSet<&str> = test.into_iter().filter(|l| !seen.contains(l)).collect();
        unseen.into_iter().map(str::to_string).collect()
    }
}

/// The shipped default datasets, embedded at build time.
const BUILTIN_SIMILARITY: &str = include_str!("../../../../datasets/sentence-similarity.jsonl");
const BUILTIN_CLASSIFICATION: &str = include_str!("../../../../datasets/text-classification.jsonl");
const BUILTIN_SUMMARIZATION: &str = include_str!("../../../../datasets/summarization.jsonl");
const BUILTIN_QA: &str = include_str!("../../../../datasets/question-answering.jsonl");
/// The default text-generation set is the multiple-choice questions (scored by log-likelihood
/// beside the metered generation); `datasets/text-generation.jsonl`, open prompts without gold
/// answers, is still shipped for `--dataset`.
const BUILTIN_GENERATION: &str = include_str!("../../../../datasets/text-generation-mc.jsonl");
/// The default image-classification set: photos from the scikit-image wheel (paths relative to
/// its `skimage/data/`), labelled by this project with ImageNet classes.
const BUILTIN_IMAGES: &str = include_str!("../../../../datasets/image-classification.jsonl");
/// The wheel the builtin photos come from (fetched with pip when a runner loads the set).
pub const BUILTIN_IMAGES_PIP: &str = "scikit-image==0.26.0";
/// The photos' folder inside that wheel.
pub const BUILTIN_IMAGES_PATH: &str = "skimage/data";

/// The file name (without `.jsonl`) of `task`'s builtin set, which is also its id after
/// `frugalbench/`.
pub fn builtin_name(task: Task) -> &'static str {
    match task {
        Task::SentenceSimilarity => "sentence-similarity",
        Task::TextClassification => "text-classification",
        Task::TextGeneration => "text-generation-mc",
        Task::Summarization => "summarization",
        Task::QuestionAnswering => "question-answering",
        Task::ImageClassification => "image-classification",
        Task::ObjectDetection => "object-detection",
        Task::AutomaticSpeechRecognition => "pocketsphinx-testdata",
        Task::AudioClassification => "audio-classification",
    }
}

/// Load a JSONL (`.jsonl`, `.ndjson`), CSV (`.csv`) or Parquet (`.parquet`) dataset for `task`.
/// Media paths in rows (`image`) are relative to the file's folder.
///
/// For image classification, `fashion-mnist` (when no such file exists) names the
/// Fashion-MNIST subset read from the Debian package ([`fashion_mnist::load_default`]).
pub fn load(task: Task, path: &Path) -> Result<LoadedDataset> {
    if task == Task::ImageClassification && path == Path::new(fashion_mnist::NAME) && !path.exists()
    {
        return fashion_mnist::load_default();
    }
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read dataset {}", path.display()))?;
    let format = Format::from_path(path)?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "dataset".to_string());
    let base = images::base_of(path);
    let mut d = parse_in(
        task,
        &bytes,
        format,
        &path.display().to_string(),
        stem,
        Some(&base),
    )?;
    d.path = Some(path.to_path_buf());
    if let DatasetRows::Images(set) = &d.rows {
        images::check_decodable(set)?;
    }
    Ok(d)
}

/// The shipped default dataset for `task` (`datasets/<name>.jsonl`, embedded at build time,
/// `<name>` from [`builtin_name`]: the task's name, `text-generation-mc` for generation); its
/// id is `frugalbench/<name>`.
///
/// Automatic speech recognition has no embedded set: its default is read from the Debian
/// package `pocketsphinx-testdata` ([`asr::pocketsphinx`]); audio classification's set is generated
/// into the cache at first use ([`speech_clips::builtin`]).
pub fn builtin(task: Task) -> Result<LoadedDataset> {
    let text = match task {
        Task::AutomaticSpeechRecognition => return asr::pocketsphinx(),
        Task::AudioClassification => return speech_clips::builtin(),
        Task::SentenceSimilarity => BUILTIN_SIMILARITY,
        Task::TextClassification => BUILTIN_CLASSIFICATION,
        Task::TextGeneration => BUILTIN_GENERATION,
        Task::Summarization => BUILTIN_SUMMARIZATION,
        Task::QuestionAnswering => BUILTIN_QA,
        Task::ImageClassification => BUILTIN_IMAGES,
        // No detection weights are reachable offline and no image set ships yet: a detection
        // run names its dataset with `--dataset`.
        Task::ObjectDetection => bail!(
            "object-detection has no shipped dataset: pass one with --dataset FILE (rows \
             {{\"image\": \"path\", \"boxes\": [[x0,y0,x1,y1], ...], \"labels\": [...]}})"
        ),
    };
    let name = builtin_name(task);
    let mut d = parse(
        task,
        text.as_bytes(),
        Format::Jsonl,
        &format!("<builtin>/datasets/{name}.jsonl"),
        format!("frugalbench/{name}"),
    )?;
    if let DatasetRows::Images(set) = &mut d.rows {
        set.root = MediaRoot::Pip {
            pip: BUILTIN_IMAGES_PIP.to_string(),
            path: BUILTIN_IMAGES_PATH.to_string(),
        };
    }
    Ok(d)
}

/// Parse dataset bytes. `source` names the file in messages (and its folder is where object
/// detection's media paths are resolved); `id` becomes the dataset id. Other media paths (audio,
/// image classification) resolve against the current folder: see [`parse_in`].
pub fn parse(
    task: Task,
    bytes: &[u8],
    format: Format,
    source: &str,
    id: String,
) -> Result<LoadedDataset> {
    parse_in(task, bytes, format, source, id, None)
}

/// [`parse`], with relative media paths resolved against `base` (the dataset file's folder).
pub fn parse_in(
    task: Task,
    bytes: &[u8],
    format: Format,
    source: &str,
    id: String,
    base: Option<&Path>,
) -> Result<LoadedDataset> {
    let sha256 = hex::encode(Sha256::digest(bytes));
    if format == Format::Parquet {
        let records = parquet::records(bytes::Bytes::copy_from_slice(bytes), source)?;
        return from_records(task, &records, source, id, sha256, base);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        anyhow!("{source}:{line}: not valid UTF-8")
    })?;
    let records = match format {
        Format::Jsonl => jsonl_records(text, source)?,
        Format::Csv => csv_records(text, source)?,
        Format::Parquet => unreachable!("returned above"),
    };
    from_records(task, &records, source, id, sha256, base)
}

/// Parse a Parquet file's bytes (see [`parquet`]); `source` names the file in messages.
pub fn parse_parquet(task: Task, bytes: &[u8], source: &str, id: String) -> Result<LoadedDataset> {
    parse_in(task, bytes, Format::Parquet, source, id, None)
}

/// Rows of a labelled set, split into `train` (fits a head) and `test` (scored) by each row's
/// `split`; at least one test row is required.
fn split_rows<T>(
    records: &[Record<'_>],
    source: &str,
    row: impl Fn(&Record<'_>) -> Result<(T, bool)>,
) -> Result<(Vec<T>, Vec<T>)> {
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for r in records {
        let (row, is_train) = row(r)?;
        if is_train {
            train.push(row)
        } else {
            test.push(row)
        }
    }
    if test.is_empty() {
        bail!(
            "{source}: no test rows ({} rows all have split \"train\")",
            train.len()
        );
    }
    Ok((train, test))
}

/// Build a task's rows from format-neutral records (JSONL, CSV and Parquet rows all end up
/// here): every row parser reads a [`Record`], whatever file it came from.
pub(crate) fn from_records(
    task: Task,
    records: &[Record<'_>],
    source: &str,
    id: String,
    sha256: String,
    base: Option<&Path>,
) -> Result<LoadedDataset> {
    if records.is_empty() {
        bail!("{source}: the dataset is empty (no rows)");
    }
    let rows = match task {
        Task::SentenceSimilarity => DatasetRows::Similarity(
            records
                .iter()
                .map(|r| r.pair_row())
                .collect::<Result<_>>()
                .with_context(|| format!("{source}: not a sentence-similarity dataset"))?,
        ),
        Task::TextClassification => {
            let (train, test) = split_rows(records, source, |r| r.label_row())?;
            DatasetRows::Classification { train, test }
        }
        Task::TextGeneration => DatasetRows::Generation(
            records
                .iter()
                .map(|r| r.prompt_row())
                .collect::<Result<_>>()?,
        ),
        Task::Summarization => DatasetRows::Summarization(
            records
                .iter()
                .map(|r| r.summary_row())
                .collect::<Result<_>>()
                .with_context(|| format!("{source}: not a summarization dataset"))?,
        ),
        Task::QuestionAnswering => DatasetRows::QuestionAnswering(
            records
                .iter()
                .map(|r| r.qa_row())
                .collect::<Result<_>>()
                .with_context(|| format!("{source}: not a question-answering dataset"))?,
        ),
        Task::ObjectDetection => {
            let base = Path::new(source).parent();
            DatasetRows::Detection(
                records
                    .iter()
                    .map(|r| r.detection_row(base))
                    .collect::<Result<_>>()
                    .with_context(|| format!("{source}: not an object-detection dataset"))?,
            )
        }
        Task::ImageClassification => {
            let (train, test) = split_rows(records, source, |r| r.image_row(base))?;
            DatasetRows::Images(ImageSet {
                train,
                test,
                root: MediaRoot::Resolved,
            })
        }
        Task::AutomaticSpeechRecognition => DatasetRows::Speech(
            records
                .iter()
                .map(|r| r.asr_row(base))
                .collect::<Result<_>>()
                .with_context(|| format!("{source}: not a speech-recognition dataset"))?,
        ),
        Task::AudioClassification => {
            let (train, test) = split_rows(records, source, |r| r.audio_label_row(base))?;
            DatasetRows::AudioClassification { train, test }
        }
    };
    let loaded = LoadedDataset {
        id,
        path: None,
        sha256,
        rows,
    };
    if let DatasetRows::Similarity(pairs) = &loaded.rows {
        // Spearman needs two pairs and a spread of gold scores: refuse here, before metering,
        // rather than after the work when the score turns out undefined.
        if pairs.len() < 2 {
            bail!(
                "{source}: Spearman needs at least 2 sentence pairs, the dataset has {}",
                pairs.len()
            );
        }
        if pairs.iter().all(|p| p.score == pairs[0].score) {
            bail!(
                "{source}: every gold score is {}: Spearman is undefined for a constant score",
                pairs[0].score
            );
        }
    }
    Ok(loaded)
}

/// A dataset file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    Csv,
    /// The hub's native format, read with the `parquet` crate ([`parquet`]).
    Parquet,
}

impl Format {
    /// Pick the format from the extension.
    pub fn from_path(path: &Path) -> Result<Format> {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("jsonl") | Some("ndjson") => Ok(Format::Jsonl),
            Some("csv") => Ok(Format::Csv),
            Some("parquet") => Ok(Format::Parquet),
            _ => bail!(
                "{}: unknown dataset format (use a .jsonl, .csv or .parquet file)",
                path.display()
            ),
        }
    }
}

/// One row: its location and its fields, whatever the file format (JSONL, CSV or Parquet).
/// `line` is the line (JSONL, CSV) or the 1-based row number (Parquet).
pub(crate) struct Record<'a> {
    pub(crate) source: &'a str,
    pub(crate) line: usize,
    pub(crate) fields: Fields,
    /// Embedded media columns (Parquet's `{bytes, path}` structs), by column name.
    pub(crate) media: std::collections::BTreeMap<String, Media>,
}

pub(crate) enum Fields {
    Json(serde_json::Map<String, serde_json::Value>),
    Csv(Vec<(String, String)>),
}

/// The longest dataset row accepted, bytes. A query is a sentence, a pair, a text to
/// classify or a prompt: a megabyte is far beyond any of them, and a bigger row would cost
/// gigabytes of tokens and attention per query.
pub const MAX_ROW_BYTES: usize = 1 << 20;

fn check_row_len(source: &str, line_no: usize, len: usize) -> Result<()> {
    if len > MAX_ROW_BYTES {
        bail!(
            "{source}:{line_no}: the row is {len} bytes; rows are limited to {MAX_ROW_BYTES} bytes (1 MiB)"
        );
    }
    Ok(())
}

pub(crate) fn jsonl_records<'a>(text: &str, source: &'a str) -> Result<Vec<Record<'a>>> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let trimmed = line.trim().trim_start_matches('\u{feff}');
        if trimmed.is_empty() {
            continue;
        }
        check_row_len(source, line_no, trimmed.len())?;
        let value: serde_json::Value = serde_json::from_str(trimmed)
            .map_err(|e| anyhow!("{source}:{line_no}: invalid JSON: {e}"))?;
        let serde_json::Value::Object(map) = value else {
            bail!(
                "{source}:{line_no}: expected a JSON object, got {}",
                json_kind(&value)
            );
        };
        out.push(Record {
            source,
            line: line_no,
            fields: Fields::Json(map),
            media: Default::default(),
        });
    }
    Ok(out)
}

pub(crate) fn csv_records<'a>(text: &str, source: &'a str) -> Result<Vec<Record<'a>>> {
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| anyhow!("{source}:1: cannot read the CSV header: {e}"))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let mut out = Vec::new();
    for result in reader.records() {
        let record = result.map_err(|e| {
            let line = e.position().map(|p| p.line()).unwrap_or(0);
            anyhow!("{source}:{line}: invalid CSV: {e}")
        })?;
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        if record.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        check_row_len(source, line, record.as_slice().len())?;
        let fields = headers
            .iter()
            .cloned()
            .zip(record.iter().map(str::to_string))
            .collect();
        out.push(Record {
            source,
            line,
            fields: Fields::Csv(fields),
            media: Default::default(),
        });
    }
    Ok(out)
}

pub(crate) fn json_kind(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "null".to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Number(n) => format!("the number {n}"),
        serde_json::Value::String(s) => format!("{s:?}"),
        serde_json::Value::Array(_) => "an array".to_string(),
        serde_json::Value::Object(_) => "an object".to_string(),
    }
}

impl Record<'_> {
    pub(crate) fn err(&self, field: &str, msg: impl std::fmt::Display) -> anyhow::Error {
        anyhow!("{}:{}: field \"{field}\": {msg}", self.source, self.line)
    }

    fn field_names(&self) -> Vec<String> {
        let mut names: Vec<String> = match &self.fields {
            Fields::Json(m) => m.keys().cloned().collect(),
            Fields::Csv(f) => f.iter().map(|(k, _)| k.clone()).collect(),
        };
        names.extend(self.media.keys().cloned());
        names
    }

    pub(crate) fn missing(&self, field: &str) -> anyhow::Error {
        let have = self.field_names();
        self.err(
            field,
            format!(
                "missing (row has: {})",
                if have.is_empty() {
                    "no fields".to_string()
                } else {
                    have.join(", ")
                }
            ),
        )
    }

    /// The raw JSON value or CSV cell of `field`; JSON null and empty CSV cells count as absent.
    fn get(&self, field: &str) -> Option<Raw<'_>> {
        match &self.fields {
            Fields::Json(m) => m.get(field).filter(|v| !v.is_null()).map(Raw::Json),
            Fields::Csv(f) => f
                .iter()
                .find(|(k, _)| k == field)
                .map(|(_, v)| v.as_str())
                .filter(|v| !v.trim().is_empty())
                .map(Raw::Cell),
        }
    }

    fn opt_string(&self, field: &str) -> Result<Option<String>> {
        match self.get(field) {
            None => Ok(None),
            Some(Raw::Cell(s)) => Ok(Some(s.to_string())),
            Some(Raw::Json(serde_json::Value::String(s))) => Ok(Some(s.clone())),
            Some(Raw::Json(v)) => {
                Err(self.err(field, format!("expected a string, got {}", json_kind(v))))
            }
        }
    }

    fn string(&self, field: &str) -> Result<String> {
        let s = self.opt_string(field)?.ok_or_else(|| self.missing(field))?;
        if s.trim().is_empty() {
            return Err(self.err(field, "is empty"));
        }
        Ok(s)
    }

    fn number(&self, field: &str) -> Result<f64> {
        let v = match self.get(field).ok_or_else(|| self.missing(field))? {
            Raw::Json(serde_json::Value::Number(n)) => n.as_f64(),
            Raw::Cell(s) => s.trim().parse::<f64>().ok(),
            Raw::Json(v) => {
                return Err(self.err(field, format!("expected a number, got {}", json_kind(v))))
            }
        };
        match v {
            Some(x) if x.is_finite() => Ok(x),
            _ => {
                let shown = match self.get(field) {
                    Some(Raw::Cell(s)) => format!("{s:?}"),
                    Some(Raw::Json(v)) => json_kind(v),
                    None => String::new(),
                };
                Err(self.err(field, format!("expected a number, got {shown}")))
            }
        }
    }

    fn pair_row(&self) -> Result<PairRow> {
        Ok(PairRow {
            sentence1: self.string("sentence1")?,
            sentence2: self.string("sentence2")?,
            score: self.number("score")?,
        })
    }

    /// The row and whether it is a train row.
    fn label_row(&self) -> Result<(LabelRow, bool)> {
        let text = self.string("text")?;
        let (label, is_train) = self.label_and_split()?;
        Ok((LabelRow { text, label }, is_train))
    }

    /// A classification row's `label` (trimmed; integers as their decimal text) and whether
    /// its `split` is `train` (default `test`).
    fn label_and_split(&self) -> Result<(String, bool)> {
        let label = match self.get("label") {
            None => return Err(self.missing("label")),
            Some(Raw::Json(serde_json::Value::Number(n))) if n.is_i64() || n.is_u64() => {
                n.to_string()
            }
            Some(_) => self.string("label")?,
        };
        let label = label.trim().to_string();
        if label.is_empty() {
            return Err(self.err("label", "is empty"));
        }
        let is_train = match self.opt_string("split")?.as_deref().map(str::trim) {
            None | Some("test") => false,
            Some("train") => true,
            Some(other) => {
                return Err(self.err(
                    "split",
                    format!("expected \"train\" or \"test\", got {other:?}"),
                ))
            }
        };
        Ok((label, is_train))
    }

    fn summary_row(&self) -> Result<SummaryRow> {
        Ok(SummaryRow {
            document: self.string("document")?,
            summary: self.string("summary")?,
        })
    }

    fn qa_row(&self) -> Result<QaRow> {
        let context = self.string("context")?;
        let question = self.string("question")?;
        let answers = match self.get("answers").ok_or_else(|| self.missing("answers"))? {
            Raw::Json(v) => self.answers(v)?,
            Raw::Cell(s) if s.trim_start().starts_with('[') => {
                let v: serde_json::Value = serde_json::from_str(s).map_err(|e| {
                    self.err("answers", format!("expected a JSON array of strings: {e}"))
                })?;
                self.answers(&v)?
            }
            Raw::Cell(s) => vec![s.to_string()],
        };
        Ok(QaRow {
            context,
            question,
            answers,
        })
    }

    /// Gold answers: an array of strings, one string, or SQuAD's `{"text": [...]}` object.
    fn answers(&self, v: &serde_json::Value) -> Result<Vec<String>> {
        use serde_json::Value;
        let items: Vec<&Value> = match v {
            Value::String(_) => vec![v],
            Value::Array(items) => items.iter().collect(),
            Value::Object(m) => match m.get("text") {
                Some(Value::Array(items)) => items.iter().collect(),
                Some(Value::String(_)) => vec![&m["text"]],
                _ => {
                    return Err(self.err(
                        "answers",
                        "an object must hold the answers in \"text\" (as SQuAD does)",
                    ))
                }
            },
            other => {
                return Err(self.err(
                    "answers",
                    format!("expected an array of strings, got {}", json_kind(other)),
                ))
            }
        };
        if items.is_empty() {
            return Err(self.err("answers", "is an empty array (need at least one answer)"));
        }
        items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) if !s.trim().is_empty() => Ok(s.clone()),
                Value::String(_) => Err(self.err("answers", format!("item {i}: is empty"))),
                other => Err(self.err(
                    "answers",
                    format!("item {i}: expected a string, got {}", json_kind(other)),
                )),
            })
            .collect()
    }

    /// `question`, `choices`, `answer`, when the row has any of them.
    fn multiple_choice(&self) -> Result<Option<MultipleChoice>> {
        let has = |f: &str| self.get(f).is_some();
        if !has("question") && !has("choices") && !has("answer") {
            return Ok(None);
        }
        let question = self.string("question")?;
        let list = match self.get("choices").ok_or_else(|| self.missing("choices"))? {
            Raw::Json(v) => v.clone(),
            Raw::Cell(s) => serde_json::from_str(s).map_err(|e| {
                self.err("choices", format!("expected a JSON array of strings: {e}"))
            })?,
        };
        let serde_json::Value::Array(items) = &list else {
            return Err(self.err(
                "choices",
                format!("expected an array of strings, got {}", json_kind(&list)),
            ));
        };
        let mut choices = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item {
                serde_json::Value::String(c) if !c.trim().is_empty() => choices.push(c.clone()),
                serde_json::Value::String(_) => {
                    return Err(self.err("choices", format!("choice {i} is empty")))
                }
                other => {
                    return Err(self.err(
                        "choices",
                        format!("choice {i} must be a string, got {}", json_kind(other)),
                    ))
                }
            }
        }
        if choices.len() < 2 {
            return Err(self.err(
                "choices",
                format!("needs at least 2 choices, got {}", choices.len()),
            ));
        }
        let answer = match self.get("answer").ok_or_else(|| self.missing("answer"))? {
            Raw::Json(serde_json::Value::Number(n)) => n.as_u64(),
            Raw::Cell(s) => s.trim().parse::<u64>().ok(),
            Raw::Json(v) => {
                return Err(self.err(
                    "answer",
                    format!(
                        "expected the index of the right choice, got {}",
                        json_kind(v)
                    ),
                ))
            }
        };
        let shown = match self.get("answer") {
            Some(Raw::Cell(s)) => s.trim().to_string(),
            Some(Raw::Json(v)) => v.to_string(),
            None => String::new(),
        };
        let Some(answer) = answer else {
            return Err(self.err(
                "answer",
                format!("expected the index of the right choice (0, 1, ...), got {shown}"),
            ));
        };
        if answer as usize >= choices.len() {
            return Err(self.err(
                "answer",
                format!(
                    "{answer} is out of range for {} choices (0 to {})",
                    choices.len(),
                    choices.len() - 1
                ),
            ));
        }
        Ok(Some(MultipleChoice {
            question,
            choices,
            answer: answer as usize,
        }))
    }

    fn prompt_row(&self) -> Result<PromptRow> {
        let choice = self.multiple_choice()?;
        let prompt = match self.opt_string("prompt")? {
            None => choice.as_ref().map(|c| c.question.clone()),
            some => some,
        };
        if prompt.as_deref().is_some_and(|p| p.trim().is_empty()) {
            return Err(self.err("prompt", "is empty"));
        }
        let messages = match self.get("messages") {
            None => None,
            Some(Raw::Json(v)) => Some(self.messages(v)?),
            Some(Raw::Cell(s)) => {
                let v: serde_json::Value = serde_json::from_str(s).map_err(|e| {
                    self.err(
                        "messages",
                        format!("expected a JSON array of {{role, content}}: {e}"),
                    )
                })?;
                Some(self.messages(&v)?)
            }
        };
        if prompt.is_none() && messages.is_none() {
            return Err(anyhow!(
                "{}:{}: fields \"prompt\"/\"messages\": need at least one of them (row has: {})",
                self.source,
                self.line,
                self.field_names().join(", ")
            ));
        }
        Ok(PromptRow {
            prompt,
            messages,
            choice,
        })
    }

    fn messages(&self, v: &serde_json::Value) -> Result<Vec<ChatMessage>> {
        let serde_json::Value::Array(items) = v else {
            return Err(self.err(
                "messages",
                format!(
                    "expected an array of {{role, content}}, got {}",
                    json_kind(v)
                ),
            ));
        };
        if items.is_empty() {
            return Err(self.err("messages", "is an empty array"));
        }
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let get = |key: &str| match item.get(key) {
                    Some(serde_json::Value::String(s)) => Ok(s.clone()),
                    Some(other) => Err(self.err(
                        "messages",
                        format!(
                            "item {i}: \"{key}\" must be a string, got {}",
                            json_kind(other)
                        ),
                    )),
                    None => Err(self.err("messages", format!("item {i}: missing \"{key}\""))),
                };
                Ok(ChatMessage {
                    role: get("role")?,
                    content: get("content")?,
                })
            })
            .collect()
    }
}

enum Raw<'a> {
    Json(&'a serde_json::Value),
    Cell(&'a str),
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::File::create(&p)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        p
    }

    fn err_of(task: Task, name: &str, text: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), name, text);
        let e = load(task, &p).unwrap_err();
        // Report the whole chain as a user would see it, with the temp dir removed.
        format!("{e:#}").replace(&format!("{}/", dir.path().display()), "")
    }

    #[test]
    fn similarity_jsonl_and_csv_agree() {
        let dir = tempfile::tempdir().unwrap();
        let j = write(
            dir.path(),
            "s.jsonl",
            "{\"sentence1\":\"a b\",\"sentence2\":\"c\",\"score\":4.5,\"extra\":1}\n\n{\"sentence1\":\"x\",\"sentence2\":\"y\",\"score\":0}\n",
        );
        let c = write(
            dir.path(),
            "s.csv",
            "sentence1,sentence2,score,extra\n\"a b\",c,4.5,1\n\nx,y,0,\n",
        );
        let dj = load(Task::SentenceSimilarity, &j).unwrap();
        let dc = load(Task::SentenceSimilarity, &c).unwrap();
        assert_eq!(dj.rows, dc.rows);
        assert_eq!(dj.eval_len(), 2);
        assert_eq!(dj.id, "s");
        assert_eq!(dj.path.as_deref(), Some(j.as_path()));
        assert_eq!(dj.task(), Task::SentenceSimilarity);
        // sha256 of the file bytes, lower-case hex
        assert_eq!(dj.sha256.len(), 64);
        assert_eq!(
            dj.sha256,
            hex::encode(Sha256::digest(std::fs::read(&j).unwrap()))
        );
        assert_ne!(dj.sha256, dc.sha256);
    }

    #[test]
    fn bad_score_names_file_line_and_field() {
        let text = "{\"sentence1\":\"a\",\"sentence2\":\"b\",\"score\":1}\n\n{\"sentence1\":\"a\",\"sentence2\":\"b\",\"score\":\"high\"}\n";
        let e = err_of(Task::SentenceSimilarity, "x.jsonl", text);
        assert!(
            e.contains("x.jsonl:3: field \"score\": expected a number, got \"high\""),
            "{e}"
        );
        let e = err_of(
            Task::SentenceSimilarity,
            "x.csv",
            "sentence1,sentence2,score\na,b,1\na,b,high\n",
        );
        assert!(
            e.contains("x.csv:3: field \"score\": expected a number, got \"high\""),
            "{e}"
        );
    }

    #[test]
    fn missing_field_lists_what_the_row_has() {
        let e = err_of(
            Task::SentenceSimilarity,
            "x.jsonl",
            "{\"text\":\"a\",\"label\":\"b\"}\n",
        );
        assert!(
            e.contains("x.jsonl:1: field \"sentence1\": missing (row has: label, text)"),
            "{e}"
        );
        assert!(e.contains("not a sentence-similarity dataset"), "{e}");
    }

    #[test]
    fn malformed_json_and_non_object() {
        let e = err_of(
            Task::TextGeneration,
            "g.jsonl",
            "{\"prompt\":\"a\"}\n{\"prompt\": \n",
        );
        assert!(e.contains("g.jsonl:2: invalid JSON"), "{e}");
        let e = err_of(Task::TextGeneration, "g.jsonl", "[1,2]\n");
        assert!(
            e.contains("g.jsonl:1: expected a JSON object, got an array"),
            "{e}"
        );
    }

    #[test]
    fn empty_files_are_errors() {
        let e = err_of(Task::TextGeneration, "e.jsonl", "\n  \n");
        assert!(e.contains("e.jsonl: the dataset is empty"), "{e}");
        let e = err_of(
            Task::SentenceSimilarity,
            "e.csv",
            "sentence1,sentence2,score\n",
        );
        assert!(e.contains("e.csv: the dataset is empty"), "{e}");
        let e = err_of(Task::SentenceSimilarity, "e.csv", "");
        assert!(e.contains("e.csv: the dataset is empty"), "{e}");
    }

    #[test]
    fn unknown_extension_is_an_error() {
        let e = err_of(Task::TextGeneration, "data.txt", "{}");
        assert!(e.contains("data.txt: unknown dataset format"), "{e}");
    }

    #[test]
    fn classification_splits_and_labels() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "c.jsonl",
            concat!(
                "{\"text\":\"good\",\"label\":\"pos\",\"split\":\"train\"}\n",
                "{\"text\":\"bad\",\"label\":\"neg\",\"split\":\"train\"}\n",
                "{\"text\":\"fine\",\"label\":\"pos\"}\n",
                "{\"text\":\"meh\",\"label\":3,\"split\":\"test\"}\n",
            ),
        );
        let d = load(Task::TextClassification, &p).unwrap();
        let DatasetRows::Classification { train, test } = &d.rows else {
            panic!("wrong rows {:?}", d.rows)
        };
        assert_eq!(train.len(), 2);
        assert_eq!(test.len(), 2);
        assert_eq!(test[1].label, "3");
        assert_eq!(d.eval_len(), 2);
        // "3" is a test label never seen in train: a warning, not a failure.
        assert_eq!(d.unseen_test_labels(), vec!["3".to_string()]);
    }

    #[test]
    fn classification_errors() {
        let e = err_of(
            Task::TextClassification,
            "c.jsonl",
            "{\"text\":\"a\",\"label\":\"x\",\"split\":\"train\"}\n",
        );
        assert!(e.contains("c.jsonl: no test rows"), "{e}");
        let e = err_of(
            Task::TextClassification,
            "c.csv",
            "text,label,split\na,x,train\nb,y,validation\n",
        );
        assert!(
            e.contains(
                "c.csv:3: field \"split\": expected \"train\" or \"test\", got \"validation\""
            ),
            "{e}"
        );
        let e = err_of(
            Task::TextClassification,
            "c.jsonl",
            "{\"text\":\"a\",\"label\":[1]}\n",
        );
        assert!(
            e.contains("c.jsonl:1: field \"label\": expected a string, got an array"),
            "{e}"
        );
        let e = err_of(
            Task::TextClassification,
            "c.jsonl",
            "{\"text\":\"\",\"label\":\"x\"}\n",
        );
        assert!(e.contains("c.jsonl:1: field \"text\": is empty"), "{e}");
    }

    #[test]
    fn generation_prompts_and_messages() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "g.jsonl",
            concat!(
                "{\"prompt\":\"hi\"}\n",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"yo\"}]}\n",
            ),
        );
        let d = load(Task::TextGeneration, &p).unwrap();
        let DatasetRows::Generation(rows) = &d.rows else {
            panic!()
        };
        assert_eq!(rows[0].prompt.as_deref(), Some("hi"));
        assert_eq!(rows[0].messages, None);
        assert_eq!(
            rows[1].messages.as_deref(),
            Some(
                &[ChatMessage {
                    role: "user".into(),
                    content: "yo".into()
                }][..]
            )
        );
        let c = write(
            dir.path(),
            "g.csv",
            "prompt,messages\nhi,\n,\"[{\"\"role\"\":\"\"user\"\",\"\"content\"\":\"\"yo\"\"}]\"\n",
        );
        assert_eq!(load(Task::TextGeneration, &c).unwrap().rows, d.rows);
    }

    #[test]
    fn generation_errors() {
        let e = err_of(
            Task::TextGeneration,
            "g.jsonl",
            "{\"prompt\":\"a\"}\n{\"id\":7}\n",
        );
        assert!(
            e.contains("g.jsonl:2: fields \"prompt\"/\"messages\": need at least one of them (row has: id)"),
            "{e}"
        );
        let e = err_of(
            Task::TextGeneration,
            "g.jsonl",
            "{\"messages\":[{\"role\":\"user\"}]}\n",
        );
        assert!(
            e.contains("g.jsonl:1: field \"messages\": item 0: missing \"content\""),
            "{e}"
        );
        let e = err_of(
            Task::TextGeneration,
            "g.jsonl",
            "{\"messages\":\"hello\"}\n",
        );
        assert!(
            e.contains("g.jsonl:1: field \"messages\": expected an array"),
            "{e}"
        );
    }

    #[test]
    fn summarization_rows_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "s.jsonl",
            "{\"document\":\"A long text.\",\"summary\":\"Short.\",\"id\":1}\n",
        );
        let d = load(Task::Summarization, &p).unwrap();
        assert_eq!(d.task(), Task::Summarization);
        assert_eq!(
            d.rows,
            DatasetRows::Summarization(vec![SummaryRow {
                document: "A long text.".into(),
                summary: "Short.".into()
            }])
        );
        let c = write(
            dir.path(),
            "s.csv",
            "document,summary\n\"A long text.\",Short.\n",
        );
        assert_eq!(load(Task::Summarization, &c).unwrap().rows, d.rows);
        let e = err_of(
            Task::Summarization,
            "s.jsonl",
            "{\"document\":\"a\",\"summary\":\"b\"}\n{\"document\":\"a\"}\n",
        );
        assert!(
            e.contains("s.jsonl:2: field \"summary\": missing (row has: document)"),
            "{e}"
        );
        assert!(e.contains("not a summarization dataset"), "{e}");
        let e = err_of(
            Task::Summarization,
            "s.jsonl",
            "{\"document\":7,\"summary\":\"b\"}\n",
        );
        assert!(
            e.contains("s.jsonl:1: field \"document\": expected a string, got the number 7"),
            "{e}"
        );
    }

    #[test]
    fn question_answering_rows_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "q.jsonl",
            concat!(
                "{\"context\":\"Paris is in France.\",\"question\":\"Where?\",\"answers\":[\"France\",\"in France\"]}\n",
                "{\"context\":\"c\",\"question\":\"q\",\"answers\":\"one\"}\n",
                "{\"context\":\"c\",\"question\":\"q\",\"answers\":{\"text\":[\"x\"],\"answer_start\":[0]}}\n",
            ),
        );
        let d = load(Task::QuestionAnswering, &p).unwrap();
        assert_eq!(d.task(), Task::QuestionAnswering);
        let DatasetRows::QuestionAnswering(rows) = &d.rows else {
            panic!("{:?}", d.rows)
        };
        assert_eq!(rows[0].answers, ["France", "in France"]);
        assert_eq!(rows[1].answers, ["one"]);
        assert_eq!(rows[2].answers, ["x"]);
        let c = write(
            dir.path(),
            "q.csv",
            "context,question,answers\n\"Paris is in France.\",Where?,\"[\"\"France\"\",\"\"in France\"\"]\"\nc,q,one\n",
        );
        let DatasetRows::QuestionAnswering(csv_rows) =
            load(Task::QuestionAnswering, &c).unwrap().rows
        else {
            panic!()
        };
        assert_eq!(csv_rows[..], rows[..2]);
        for (answers, want) in [
            ("[]", "q.jsonl:1: field \"answers\": is an empty array"),
            (
                "[\"a\",3]",
                "q.jsonl:1: field \"answers\": item 1: expected a string, got the number 3",
            ),
            ("[\" \"]", "q.jsonl:1: field \"answers\": item 0: is empty"),
            (
                "5",
                "q.jsonl:1: field \"answers\": expected an array of strings, got the number 5",
            ),
            (
                "{\"answer_start\":[0]}",
                "q.jsonl:1: field \"answers\": an object must hold",
            ),
        ] {
            let e = err_of(
                Task::QuestionAnswering,
                "q.jsonl",
                &format!("{{\"context\":\"c\",\"question\":\"q\",\"answers\":{answers}}}\n"),
            );
            assert!(e.contains(want), "{e}");
            assert!(e.contains("not a question-answering dataset"), "{e}");
        }
        let e = err_of(
            Task::QuestionAnswering,
            "q.jsonl",
            "{\"context\":\"c\",\"answers\":[\"a\"]}\n",
        );
        assert!(
            e.contains("q.jsonl:1: field \"question\": missing (row has: answers, context)"),
            "{e}"
        );
    }

    #[test]
    fn builtin_sets_load() {
        for task in Task::ALL {
            // Read from an installed Debian package, not embedded: tested in `asr`.
            // Audio classification's set is generated into the cache (tests/speech_clips.rs).
            if matches!(
                task,
                Task::AutomaticSpeechRecognition | Task::AudioClassification
            ) {
                continue;
            }
            if task == Task::ObjectDetection {
                let e = builtin(task).unwrap_err().to_string();
                assert!(e.contains("--dataset"), "{e}");
                continue;
            }
            let d = builtin(task).unwrap();
            assert_eq!(d.id, format!("frugalbench/{}", builtin_name(task)));
            assert_eq!(d.task(), task);
            assert!(d.eval_len() > 0, "{task}");
            assert!(d.path.is_none());
        }
    }

    #[test]
    fn builtin_generation_set_is_multiple_choice() {
        let d = builtin(Task::TextGeneration).unwrap();
        assert_eq!(d.id, "frugalbench/text-generation-mc");
        let DatasetRows::Generation(rows) = &d.rows else {
            panic!("{:?}", d.task())
        };
        assert!(rows.len() >= 180, "{}", rows.len());
        for r in rows {
            let mc = r.choice.as_ref().expect("every row is a question");
            assert_eq!(r.prompt.as_deref(), Some(mc.question.as_str()));
            assert_eq!(mc.choices.len(), 4);
            assert!(mc.answer < 4);
        }
        // The open prompts are still shipped and parse.
        let open = load(
            Task::TextGeneration,
            Path::new(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../datasets/text-generation.jsonl"
            )),
        )
        .unwrap();
        assert!(open.eval_len() >= 280);
    }

    #[test]
    fn multiple_choice_rows_parse_from_jsonl_and_csv() {
        let dir = tempfile::tempdir().unwrap();
        let j = write(
            dir.path(),
            "mc.jsonl",
            concat!(
                "{\"question\": \"2+2?\", \"choices\": [\"3\", \"4\"], \"answer\": 1}\n",
                "{\"prompt\": \"Say hi\", \"question\": \"Q?\", \"choices\": [\"a\", \"b\", \"c\"], \"answer\": 0, \"id\": \"x\"}\n",
                "{\"prompt\": \"open\"}\n",
            ),
        );
        let d = load(Task::TextGeneration, &j).unwrap();
        let DatasetRows::Generation(rows) = &d.rows else {
            panic!()
        };
        assert_eq!(rows[0].prompt.as_deref(), Some("2+2?"));
        assert_eq!(
            rows[0].choice,
            Some(MultipleChoice {
                question: "2+2?".into(),
                choices: vec!["3".into(), "4".into()],
                answer: 1
            })
        );
        // An explicit prompt wins as the generation prompt; the question is kept for scoring.
        assert_eq!(rows[1].prompt.as_deref(), Some("Say hi"));
        assert_eq!(rows[1].choice.as_ref().unwrap().question, "Q?");
        assert_eq!(rows[2].choice, None);
        let c = write(
            dir.path(),
            "mc.csv",
            "question,choices,answer\n2+2?,\"[\"\"3\"\", \"\"4\"\"]\",1\n",
        );
        let dc = load(Task::TextGeneration, &c).unwrap();
        let DatasetRows::Generation(crows) = &dc.rows else {
            panic!()
        };
        assert_eq!(crows[0], rows[0]);
    }

    #[test]
    fn bad_multiple_choice_rows_name_file_line_and_field() {
        let ok = "{\"question\": \"Q\", \"choices\": [\"a\", \"b\"], \"answer\": 0}\n";
        let cases = [
            (
                "{\"question\": \"Q\", \"choices\": [\"a\", \"b\"], \"answer\": 2}",
                "field \"answer\": 2 is out of range for 2 choices (0 to 1)",
            ),
            (
                "{\"question\": \"Q\", \"choices\": [\"a\", \"b\"], \"answer\": -1}",
                "field \"answer\": expected the index of the right choice (0, 1, ...), got -1",
            ),
            (
                "{\"question\": \"Q\", \"choices\": [\"a\", \"b\"], \"answer\": \"A\"}",
                "field \"answer\": expected the index of the right choice, got \"A\"",
            ),
            (
                "{\"question\": \"Q\", \"choices\": [\"a\", \"b\"]}",
                "field \"answer\": missing",
            ),
            (
                "{\"question\": \"Q\", \"choices\": [\"a\"], \"answer\": 0}",
                "field \"choices\": needs at least 2 choices, got 1",
            ),
            (
                "{\"question\": \"Q\", \"choices\": [\"a\", \" \"], \"answer\": 0}",
                "field \"choices\": choice 1 is empty",
            ),
            (
                "{\"question\": \"Q\", \"choices\": [\"a\", 3], \"answer\": 0}",
                "field \"choices\": choice 1 must be a string, got the number 3",
            ),
            (
                "{\"question\": \"Q\", \"choices\": \"a,b\", \"answer\": 0}",
                "field \"choices\": expected an array of strings",
            ),
            (
                "{\"question\": \"Q\", \"answer\": 0}",
                "field \"choices\": missing",
            ),
            (
                "{\"choices\": [\"a\", \"b\"], \"answer\": 0}",
                "field \"question\": missing",
            ),
        ];
        for (row, want) in cases {
            let e = err_of(Task::TextGeneration, "mc.jsonl", &format!("{ok}{row}\n"));
            assert!(
                e.contains(&format!("mc.jsonl:2: {want}")),
                "{row}: want {want:?}, got {e}"
            );
        }
    }

    #[test]
    fn rows_over_a_mebibyte_are_refused_with_their_line() {
        let big = "x".repeat(MAX_ROW_BYTES + 1);
        let jsonl = format!("{{\"prompt\": \"ok\"}}\n{{\"prompt\": \"{big}\"}}\n");
        let e = parse(
            Task::TextGeneration,
            jsonl.as_bytes(),
            Format::Jsonl,
            "g.jsonl",
            "g".into(),
        )
        .unwrap_err();
        assert!(format!("{e:#}").contains("g.jsonl:2: the row is"), "{e:#}");
        let csv = format!("prompt\nok\n{big}\n");
        let e = parse(
            Task::TextGeneration,
            csv.as_bytes(),
            Format::Csv,
            "g.csv",
            "g".into(),
        )
        .unwrap_err();
        assert!(format!("{e:#}").contains("g.csv:3: the row is"), "{e:#}");
    }
}
