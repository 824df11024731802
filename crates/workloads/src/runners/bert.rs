//! BERT encoder runners (`arch = "bert"`):
//!
//! - **sentence similarity**: each query embeds one sentence pair (mean-pooled,
//!   L2-normalised, as sentence-transformers does) and predicts their cosine;
//!   quality is Spearman's ρ against the gold scores.
//! - **text classification** (kind 1): the same embeddings feed a linear head
//!   fitted at load time on the dataset's train split (multinomial logistic
//!   regression, cached as JSON under `cache_dir/heads/`); each query embeds
//!   one text and predicts a label; quality is accuracy, with macro-F1 beside it.
//!
//! Catalogue settings read here: `max_seq_len`, `dtype` (`f32`/`f16`/`bf16`),
//! `pooling` (`mean`/`cls`), `normalize` (default true), and for the head
//! `head_l2`, `head_max_iter`.

mod embedder;
mod encoder;
mod head;
mod kernels;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use candle_core::Device;

pub use embedder::{
    cosine, Embedder, EmbedderFiles, EmbedderOptions, Embeddings, Pooling, DEFAULT_MAX_SEQ_LEN,
};
pub use head::{
    cache_file_name, fit as fit_head, read_cached as read_cached_head, train_rows_sha256,
    write_atomic as write_head_atomic, FitReport, HeadFile, HeadParams, HeadProvenance, LinearHead,
    HEAD_FORMAT,
};

use super::common::text;
use super::common::{
    classification_quality, classification_rows, row_at, safetensors_weights, RowModel, RowsRunner,
};
use super::Family;
use crate::catalogue::ModelEntry;
use crate::datasets::{DatasetRows, LabelRow, LoadedDataset, PairRow};
use crate::fetch::ModelFiles;
use crate::{Prediction, Quality, QueryOutcome, Runner, RunnerOptions, Task};

/// The `arch` of the BERT-family encoder runners.
pub const BERT_ARCH: &str = "bert";

/// Sentence similarity with BERT embeddings (dispatch-table row).
pub const SIMILARITY: Family = Family {
    task: Task::SentenceSimilarity,
    arches: &[BERT_ARCH],
    handles: is_bert,
    load: load_similarity,
};

/// Text classification with BERT embeddings and a fitted head (dispatch-table row).
pub const CLASSIFICATION: Family = Family {
    task: Task::TextClassification,
    arches: &[BERT_ARCH],
    handles: is_bert,
    load: load_classification,
};

/// Whether `arch` is the BERT encoder.
pub fn is_bert(arch: &str) -> bool {
    arch == BERT_ARCH
}

/// Rows embedded per forward pass while fitting the head.
const TRAIN_BATCH: usize = 32;

/// Load the sentence-similarity runner for `entry` bound to `dataset`'s pairs.
pub fn load_similarity(
    entry: &ModelEntry,
    files: &ModelFiles,
    dataset: &LoadedDataset,
    opts: &RunnerOptions,
) -> Result<Box<dyn Runner>> {
    let DatasetRows::Similarity(rows) = &dataset.rows else {
        anyhow::bail!(
            "dataset `{}` is not a sentence-similarity dataset (model `{}`)",
            dataset.id,
            entry.id
        );
    };
    anyhow::ensure!(!rows.is_empty(), "dataset `{}` has no rows", dataset.id);
    let embedder = embedder_for(entry, files, &opts.device)?;
    Ok(Box::new(RowsRunner::new(
        PairSimilarity::new(embedder),
        rows.clone(),
    )))
}

/// Load the embedding + fitted-head classifier for `entry` bound to
/// `dataset`'s test split, fitting the head on its train split (or reusing a
/// matching cached head).
pub fn load_classification(
    entry: &ModelEntry,
    files: &ModelFiles,
    dataset: &LoadedDataset,
    opts: &RunnerOptions,
) -> Result<Box<dyn Runner>> {
    let (train, test) = classification_rows(entry, dataset)?;
    anyhow::ensure!(
        !train.is_empty(),
        "dataset `{}` has no train rows to fit a classification head on",
        dataset.id
    );
    anyhow::ensure!(
        !test.is_empty(),
        "dataset `{}` has no test rows",
        dataset.id
    );
    let embedder = embedder_for(entry, files, &opts.device)?;
    let params = head_params(entry)?;
    let model_sha256 = files
        .files
        .iter()
        .map(|f| (f.name.clone(), f.sha256.clone()))
        .collect();
    let (head, head_path, _) = fitted_head(
        &embedder,
        &entry.id,
        model_sha256,
        train,
        test,
        &params,
        &opts.cache_dir,
    )?;
    let classifier = HeadClassifier {
        embedder,
        head,
        head_path: Some(head_path),
    };
    Ok(Box::new(RowsRunner::new(classifier, test.to_vec())))
}

/// Where the head fitted for `model_id` on `train` is cached:
/// `cache_dir/heads/<model id>-<train sha256 prefix>.json`.
pub fn head_cache_path(cache_dir: &Path, model_id: &str, train: &[LabelRow]) -> PathBuf {
    let sha = train_rows_sha256(train.iter().map(|r| (r.text.as_str(), r.label.as_str())));
    cache_dir
        .join("heads")
        .join(cache_file_name(model_id, &sha))
}

/// Get the head for `train`: from the cache when it matches (same model
/// files `model_sha256`, train rows, embedding settings and `params`), else
/// fitted on the embedded train rows and cached atomically. Test labels the
/// train split never shows are an error. Returns the head, its cache path,
/// and whether the cached file was reused.
pub fn fitted_head(
    embedder: &Embedder,
    model_id: &str,
    model_sha256: BTreeMap<String, String>,
    train: &[LabelRow],
    test: &[LabelRow],
    params: &HeadParams,
    cache_dir: &Path,
) -> Result<(LinearHead, PathBuf, bool)> {
    let labels: Vec<String> = train
        .iter()
        .map(|r| r.label.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let unseen: BTreeSet<&str> = test
        .iter()
        .map(|r| r.label.as_str())
        .filter(|l| labels.binary_search_by(|x| x.as_str().cmp(l)).is_err())
        .collect();
    anyhow::ensure!(
        unseen.is_empty(),
        "test labels {unseen:?} never occur in the train split (train labels: {labels:?}); \
         a fitted head cannot predict them"
    );
    let train_sha256 = train_rows_sha256(train.iter().map(|r| (r.text.as_str(), r.label.as_str())));
    let provenance = HeadProvenance {
        model_id: model_id.to_string(),
        model_sha256,
        train_sha256: train_sha256.clone(),
        train_rows: train.len(),
        pooling: embedder.pooling(),
        normalize: embedder.normalize(),
        max_seq_len: embedder.max_seq_len(),
        dtype: embedder.dtype_name(),
        params: *params,
        features: BTreeMap::new(),
    };
    let path = head_cache_path(cache_dir, model_id, train);
    if let Some(cached) = head::read_cached(&path, &provenance) {
        if cached.head.dim() == embedder.dim() && cached.head.labels == labels {
            return Ok((cached.head, path, true));
        }
    }
    let mut features = Vec::with_capacity(train.len());
    for chunk in train.chunks(TRAIN_BATCH) {
        let texts: Vec<&str> = chunk.iter().map(|r| r.text.as_str()).collect();
        features.extend(embedder.embed(&texts)?.vectors);
    }
    let targets: Vec<usize> = train
        .iter()
        .map(|r| {
            labels
                .binary_search(&r.label)
                .expect("labels were collected from these rows")
        })
        .collect();
    let (head, fit) = head::fit(&features, &targets, labels, params)
        .with_context(|| format!("fitting the classification head of `{model_id}`"))?;
    let file = HeadFile {
        format: HEAD_FORMAT,
        provenance,
        fit,
        head,
    };
    head::write_atomic(&path, &file)?;
    Ok((file.head, path, false))
}

/// Head hyper-parameters from the entry's `head_l2` (float) and
/// `head_max_iter` settings, defaults otherwise.
pub fn head_params(entry: &ModelEntry) -> Result<HeadParams> {
    let mut params = HeadParams::default();
    if let Some(v) = entry.settings.get("head_l2") {
        let l2 = v
            .as_float()
            .or_else(|| v.as_integer().map(|i| i as f64))
            .with_context(|| {
                format!(
                    "model `{}`: setting `head_l2` must be a number, got {v}",
                    entry.id
                )
            })?;
        anyhow::ensure!(
            l2 >= 0.0 && l2.is_finite(),
            "model `{}`: setting `head_l2` must be ≥ 0, got {l2}",
            entry.id
        );
        params.l2 = l2;
    }
    if let Some(n) = entry.setting_usize("head_max_iter")? {
        params.max_iter = n;
    }
    Ok(params)
}

/// Build the [`Embedder`] for a catalogue entry from its fetched files and settings.
pub fn embedder_for(entry: &ModelEntry, files: &ModelFiles, device: &Device) -> Result<Embedder> {
    let embedder_files = EmbedderFiles {
        config: files.file("config.json")?.to_path_buf(),
        weights: safetensors_weights(entry, files)?,
        tokenizer: files.file("tokenizer.json")?.to_path_buf(),
        pooling_config: files
            .file("1_Pooling/config.json")
            .ok()
            .map(|p| p.to_path_buf()),
        sentence_bert_config: files
            .file("sentence_bert_config.json")
            .ok()
            .map(|p| p.to_path_buf()),
    };
    let options = EmbedderOptions {
        max_seq_len: entry.setting_usize("max_seq_len")?,
        dtype: Some(text::parse_dtype(entry.setting_str("dtype")?)?),
        pooling: entry
            .setting_str("pooling")?
            .map(str::parse)
            .transpose()
            .with_context(|| format!("model `{}`: setting `pooling`", entry.id))?,
        normalize: entry.setting_bool("normalize")?,
    };
    Embedder::load(embedder_files, &options, device)
        .with_context(|| format!("loading encoder `{}`", entry.id))
}

/// Sentence similarity with an [`Embedder`]: one query = one pair, predicting their cosine;
/// quality is Spearman's ρ against the gold scores.
pub struct PairSimilarity {
    embedder: Embedder,
}

impl RowModel for PairSimilarity {
    type Row = PairRow;

    fn predict(&self, rows: &[&PairRow]) -> Result<Vec<(Prediction, usize)>> {
        let mut texts = Vec::with_capacity(rows.len() * 2);
        for row in rows {
            texts.push(row.sentence1.as_str());
            texts.push(row.sentence2.as_str());
        }
        let emb = self.embedder.embed(&texts)?;
        Ok((0..rows.len())
            .map(|j| {
                (
                    Prediction::Similarity(cosine(&emb.vectors[2 * j], &emb.vectors[2 * j + 1])),
                    emb.tokens[2 * j] + emb.tokens[2 * j + 1],
                )
            })
            .collect())
    }

    fn quality(&self, rows: &[PairRow], outcomes: &[QueryOutcome]) -> Result<Quality> {
        let mut pred = Vec::with_capacity(outcomes.len());
        let mut gold = Vec::with_capacity(outcomes.len());
        for o in outcomes {
            let Prediction::Similarity(s) = &o.prediction else {
                anyhow::bail!("item {}: expected a similarity prediction", o.item);
            };
            pred.push(*s as f64);
            gold.push(row_at(rows, o.item)?.score);
        }
        Ok(Quality {
            metric: "spearman".to_string(),
            value: crate::metrics::spearman(&pred, &gold)?,
            extra: Default::default(),
        })
    }

    fn dtype(&self) -> String {
        self.embedder.dtype_name()
    }
}

impl PairSimilarity {
    /// Use an already loaded embedder.
    pub fn new(embedder: Embedder) -> Self {
        PairSimilarity { embedder }
    }
}

/// Sentence-similarity runner: one query = one pair.
pub type SimilarityRunner = RowsRunner<PairSimilarity>;

/// Embedding + fitted linear head classifier: one query = one text.
pub struct HeadClassifier {
    embedder: Embedder,
    head: LinearHead,
    /// Where the head is cached, when it came from [`fitted_head`].
    head_path: Option<PathBuf>,
}

impl HeadClassifier {
    /// Pair an embedder with a fitted head of the same width.
    pub fn new(embedder: Embedder, head: LinearHead) -> Result<Self> {
        head.validate()?;
        anyhow::ensure!(
            head.dim() == embedder.dim(),
            "head width {} differs from the embedding width {}",
            head.dim(),
            embedder.dim()
        );
        Ok(HeadClassifier {
            embedder,
            head,
            head_path: None,
        })
    }

    /// The head in use.
    pub fn head(&self) -> &LinearHead {
        &self.head
    }
}

impl RowModel for HeadClassifier {
    type Row = LabelRow;

    fn predict(&self, rows: &[&LabelRow]) -> Result<Vec<(Prediction, usize)>> {
        let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
        let emb = self.embedder.embed(&texts)?;
        Ok(emb
            .vectors
            .iter()
            .zip(&emb.tokens)
            .map(|(v, &tokens)| {
                let label = self.head.labels[self.head.predict(v)].clone();
                (Prediction::Label(label), tokens)
            })
            .collect())
    }

    fn quality(&self, rows: &[LabelRow], outcomes: &[QueryOutcome]) -> Result<Quality> {
        classification_quality(rows, outcomes)
    }

    fn dtype(&self) -> String {
        self.embedder.dtype_name()
    }

    fn fitted_file(&self) -> Option<&Path> {
        self.head_path.as_deref()
    }
}

/// Embedding + fitted linear head classifier runner: one query = one text.
pub type HeadClassifierRunner = RowsRunner<HeadClassifier>;
