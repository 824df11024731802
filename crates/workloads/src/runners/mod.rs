//! One Candle runner per model family. [`load`] picks the runner from the
//! catalogue entry's `task` and `arch`.

pub mod bert;
pub mod generation;
pub mod seqcls;

use crate::catalogue::ModelEntry;
use crate::datasets::LoadedDataset;
use crate::fetch::ModelFiles;
use crate::{Runner, RunnerOptions, Task};

/// Load the runner for `entry` on `task`, bound to `dataset`.
pub fn load(
    entry: &ModelEntry,
    task: Task,
    files: &ModelFiles,
    dataset: &LoadedDataset,
    opts: &RunnerOptions,
) -> anyhow::Result<Box<dyn Runner>> {
    match task {
        Task::SentenceSimilarity => bert::load_similarity(entry, files, dataset, opts),
        Task::TextClassification => {
            if seqcls::handles(&entry.arch) {
                seqcls::load(entry, files, dataset, opts)
            } else {
                bert::load_classification(entry, files, dataset, opts)
            }
        }
        Task::TextGeneration => generation::load(entry, files, dataset, opts),
    }
}
