//! Helpers every runner family shares: row lookup, the generic one-query-per-row runner of the
//! encoder families ([`RowsRunner`]), classification scoring, picking the weights file and the
//! tokenizer/batching code ([`text`]).

pub(crate) mod text;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::catalogue::ModelEntry;
use crate::datasets::{DatasetRows, LabelRow, LoadedDataset};
use crate::fetch::ModelFiles;
use crate::{PhaseHook, Prediction, Quality, QueryOutcome, Runner};

/// A model that answers one query per evaluation row, a batch of rows at a time (the encoder
/// families). [`RowsRunner`] binds it to its rows and implements [`Runner`].
pub trait RowModel {
    /// One evaluation row (a sentence pair, a labelled text).
    type Row;
    /// One prediction and the tokens fed to the model, per row, in order.
    fn predict(&self, rows: &[&Self::Row]) -> Result<Vec<(Prediction, usize)>>;
    /// Score `outcomes` against the gold values of `rows`.
    fn quality(&self, rows: &[Self::Row], outcomes: &[QueryOutcome]) -> Result<Quality>;
    /// The dtype the weights run in.
    fn dtype(&self) -> String;
    /// A file fitted for this model and dataset, saved next to the result.
    fn fitted_file(&self) -> Option<&Path> {
        None
    }
}

/// A [`RowModel`] bound to its evaluation rows: one query = one row, no phases.
pub struct RowsRunner<M: RowModel> {
    model: M,
    rows: Vec<M::Row>,
}

impl<M: RowModel> RowsRunner<M> {
    /// Bind a loaded model to evaluation rows.
    pub fn new(model: M, rows: Vec<M::Row>) -> Self {
        RowsRunner { model, rows }
    }

    /// The model in use.
    pub fn model(&self) -> &M {
        &self.model
    }
}

impl<M: RowModel> Runner for RowsRunner<M> {
    fn len(&self) -> usize {
        self.rows.len()
    }

    fn run_batch(
        &mut self,
        items: &[usize],
        _hook: &mut dyn PhaseHook,
    ) -> Result<Vec<QueryOutcome>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let rows = items
            .iter()
            .map(|&i| row_at(&self.rows, i))
            .collect::<Result<Vec<_>>>()?;
        let predicted = self.model.predict(&rows)?;
        Ok(items
            .iter()
            .zip(predicted)
            .map(|(&item, (prediction, input_tokens))| QueryOutcome {
                item,
                input_tokens,
                output_tokens: 0,
                prediction,
            })
            .collect())
    }

    fn quality(&self, outcomes: &[QueryOutcome]) -> Result<Quality> {
        self.model.quality(&self.rows, outcomes)
    }

    fn dtype(&self) -> String {
        self.model.dtype()
    }

    fn fitted_file(&self) -> Option<&Path> {
        self.model.fitted_file()
    }
}

/// `rows[i]`, or an error naming the index.
pub(crate) fn row_at<T>(rows: &[T], i: usize) -> Result<&T> {
    rows.get(i).with_context(|| {
        format!(
            "item {i} is out of range (the dataset has {} rows)",
            rows.len()
        )
    })
}

/// Accuracy (with macro-F1 in `extra`) of label predictions against `rows`.
pub(crate) fn classification_quality(
    rows: &[LabelRow],
    outcomes: &[QueryOutcome],
) -> Result<Quality> {
    let mut pred = Vec::with_capacity(outcomes.len());
    let mut gold = Vec::with_capacity(outcomes.len());
    for o in outcomes {
        let Prediction::Label(label) = &o.prediction else {
            anyhow::bail!("item {}: expected a label prediction", o.item);
        };
        pred.push(label.as_str());
        gold.push(row_at(rows, o.item)?.label.as_str());
    }
    label_quality(&pred, &gold, None)
}

/// Accuracy of predicted labels against gold labels, with `macro_f1` in `extra`; when
/// `positive` is given and the gold labels are exactly two, one of them `positive` (a binary
/// task), also `precision` and `recall` of `positive` (each left out when undefined: nothing
/// predicted positive, no gold positive).
pub(crate) fn label_quality(
    pred: &[&str],
    gold: &[&str],
    positive: Option<&str>,
) -> Result<Quality> {
    anyhow::ensure!(!pred.is_empty(), "no outcomes to score");
    let mut extra: std::collections::BTreeMap<String, f64> =
        [("macro_f1".to_string(), crate::metrics::macro_f1(pred, gold))].into();
    if let Some(positive) = positive {
        let labels: std::collections::BTreeSet<&str> = gold.iter().copied().collect();
        if labels.len() == 2 && labels.contains(positive) {
            let (p, r) = crate::metrics::precision_recall(pred, gold, positive);
            extra.extend(p.map(|p| ("precision".to_string(), p)));
            extra.extend(r.map(|r| ("recall".to_string(), r)));
        }
    }
    Ok(Quality {
        metric: "accuracy".to_string(),
        value: crate::metrics::accuracy(pred, gold),
        extra,
    })
}

/// The (train, test) splits of a text-classification dataset; another kind is an error naming
/// the dataset and the model.
pub(crate) fn classification_rows<'a>(
    entry: &ModelEntry,
    dataset: &'a LoadedDataset,
) -> Result<(&'a [LabelRow], &'a [LabelRow])> {
    let DatasetRows::Classification { train, test } = &dataset.rows else {
        anyhow::bail!(
            "dataset `{}` is not a text-classification dataset (model `{}`)",
            dataset.id,
            entry.id
        );
    };
    Ok((train, test))
}

/// The encoder's weights: `model.safetensors`, else the first `.safetensors` file.
pub(crate) fn safetensors_weights(entry: &ModelEntry, files: &ModelFiles) -> Result<PathBuf> {
    match files.file("model.safetensors") {
        Ok(p) => Ok(p.to_path_buf()),
        Err(e) => files
            .find_ext("safetensors")
            .map(|p| p.to_path_buf())
            .ok_or(e)
            .with_context(|| format!("model `{}` has no safetensors weights", entry.id)),
    }
}
