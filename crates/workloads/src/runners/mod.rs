//! One Candle runner per model family. [`load`] picks the runner from the
//! catalogue entry's `task` and `arch`.

pub mod bert;
pub mod generation;
pub mod seqcls;

use anyhow::bail;

use crate::catalogue::ModelEntry;
use crate::datasets::LoadedDataset;
use crate::fetch::ModelFiles;
use crate::{Runner, RunnerOptions, Task};

/// The `arch` of the BERT-family encoder runners.
pub const BERT_ARCH: &str = "bert";

/// The architectures that can run `task`, for error messages.
pub fn arches_for(task: Task) -> Vec<&'static str> {
    match task {
        Task::SentenceSimilarity => vec![BERT_ARCH],
        Task::TextClassification => {
            let mut v = vec![BERT_ARCH];
            v.extend(seqcls::ARCHES);
            v
        }
        Task::TextGeneration => generation::ARCHES.to_vec(),
    }
}

/// Load the runner for `entry` on `task`, bound to `dataset`.
pub fn load(
    entry: &ModelEntry,
    task: Task,
    files: &ModelFiles,
    dataset: &LoadedDataset,
    opts: &RunnerOptions,
) -> anyhow::Result<Box<dyn Runner>> {
    let arch = entry.arch.as_str();
    match task {
        Task::SentenceSimilarity if arch == BERT_ARCH => {
            bert::load_similarity(entry, files, dataset, opts)
        }
        Task::TextClassification if seqcls::handles(arch) => {
            seqcls::load(entry, files, dataset, opts)
        }
        Task::TextClassification if arch == BERT_ARCH => {
            bert::load_classification(entry, files, dataset, opts)
        }
        Task::TextGeneration if generation::handles(arch) => {
            generation::load(entry, files, dataset, opts)
        }
        _ => bail!(
            "model `{}`: arch `{arch}` cannot run {task} (archs for {task}: {})",
            entry.id,
            arches_for(task).join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_arch_is_handled_by_its_runner() {
        for arch in arches_for(Task::TextClassification) {
            assert!(arch == BERT_ARCH || seqcls::handles(arch), "{arch}");
        }
        for arch in arches_for(Task::TextGeneration) {
            assert!(generation::handles(arch), "{arch}");
        }
        assert!(!generation::handles(BERT_ARCH));
        assert!(!seqcls::handles(BERT_ARCH));
    }
}
