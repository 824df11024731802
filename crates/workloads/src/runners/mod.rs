//! One Candle runner per model family. [`load`] picks the runner from the
//! catalogue entry's `task` and `arch` through the dispatch table [`FAMILIES`].
//!
//! - [`bert`]: BERT encoders (sentence similarity; classification with a fitted head);
//! - [`seqcls`]: fine-tuned sequence classifiers (DeBERTa-v2, ModernBERT, XLM-R);
//! - [`generation`]: decoders (GGUF llama/qwen, safetensors llama);
//! - [`t5`]: summarization with T5 / flan-t5 (greedy encoder-decoder);
//! - [`qa`]: extractive question answering (BERT / DistilBERT with a span head);
//! - [`efficientnet_lite`]: EfficientNet-Lite image classifiers (through [`image_cls`], the
//!   runner the image families share); [`vit`]: ViT image classifiers; [`mobilenetv4`]:
//!   timm MobileNetV4 classifiers; [`dinov2`]: DINOv2 (ImageNet linear head or fitted head);
//! - [`yolov8`]: object detection (YOLOv8, written here);
//! - [`whisper`]: automatic speech recognition with Whisper (greedy, no timestamps);
//! - [`silero_vad`]: audio classification (speech or not) with Silero VAD;
//! - [`resnet`], [`convnext`], [`efficientnet`]: image classifiers on timm checkpoints through
//!   candle-transformers' models ([`timm`]: what they share);
//! - [`whisper_head`]: audio classification with Whisper's encoder and a fitted head;
//! - [`common`]: what they share (row lookup, [`common::RowsRunner`], scoring, tokenizing).
//!
//! Adding a family: see the recipe in the crate's README.

pub mod bert;
pub mod common;
pub mod dinov2;
pub mod efficientnet_lite;
pub mod generation;
pub mod image_cls;
pub mod mobilenetv4;
pub mod qa;
pub mod seqcls;
pub mod silero_vad;
pub mod t5;
pub mod vit;
pub mod whisper;
pub mod whisper_head;
pub mod yolov8;
// Image classifiers on timm checkpoints (issue 11, s2-visa).
pub mod convnext;
pub mod efficientnet;
pub mod resnet;
pub mod timm;

use anyhow::bail;

use crate::catalogue::ModelEntry;
use crate::datasets::LoadedDataset;
use crate::fetch::ModelFiles;
use crate::{Runner, RunnerOptions, Task};

pub use bert::BERT_ARCH;

/// Loads the runner of one catalogue entry bound to one dataset (before any meter window opens).
pub type LoadFn =
    fn(&ModelEntry, &ModelFiles, &LoadedDataset, &RunnerOptions) -> anyhow::Result<Box<dyn Runner>>;

/// One row of the dispatch table: a model family's runner for one task.
#[derive(Clone, Copy)]
pub struct Family {
    /// The task this runner scores.
    pub task: Task,
    /// The canonical `arch` names (listed in error messages; [`Family::handles`] may accept
    /// aliases).
    pub arches: &'static [&'static str],
    /// Whether this family runs a catalogue `arch`.
    pub handles: fn(&str) -> bool,
    /// Load the runner.
    pub load: LoadFn,
}

/// The dispatch table: [`load`] uses the first row whose task matches and which handles the
/// entry's `arch`; [`arches_for`] lists the rows' arches in this order.
pub const FAMILIES: &[Family] = &[
    bert::SIMILARITY,
    bert::CLASSIFICATION,
    seqcls::FAMILY,
    generation::FAMILY,
    t5::FAMILY,
    qa::FAMILY,
    efficientnet_lite::FAMILY,
    vit::FAMILY,
    yolov8::FAMILY,
    whisper::FAMILY,
    silero_vad::FAMILY,
    resnet::FAMILY,
    convnext::FAMILY,
    efficientnet::FAMILY,
    mobilenetv4::FAMILY,
    dinov2::FAMILY,
    whisper_head::FAMILY,
];

/// The architectures that can run `task`, for error messages.
pub fn arches_for(task: Task) -> Vec<&'static str> {
    FAMILIES
        .iter()
        .filter(|f| f.task == task)
        .flat_map(|f| f.arches.iter().copied())
        .collect()
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
    match FAMILIES
        .iter()
        .find(|f| f.task == task && (f.handles)(arch))
    {
        Some(family) => (family.load)(entry, files, dataset, opts),
        None => bail!(
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
        for family in FAMILIES {
            for arch in family.arches {
                assert!((family.handles)(arch), "{arch}");
            }
        }
        for arch in arches_for(Task::TextClassification) {
            assert!(arch == BERT_ARCH || seqcls::handles(arch), "{arch}");
        }
        for arch in arches_for(Task::TextGeneration) {
            assert!(generation::handles(arch), "{arch}");
        }
        assert!(!generation::handles(BERT_ARCH));
        assert!(!seqcls::handles(BERT_ARCH));
    }

    #[test]
    fn arches_are_listed_per_task_in_table_order() {
        assert_eq!(arches_for(Task::SentenceSimilarity), [BERT_ARCH]);
        assert_eq!(
            arches_for(Task::TextClassification),
            [BERT_ARCH, "deberta-v2", "modernbert", "xlm-roberta"]
        );
        assert_eq!(
            arches_for(Task::TextGeneration),
            generation::ARCHES.to_vec()
        );
        assert_eq!(arches_for(Task::Summarization), ["t5"]);
        assert_eq!(
            arches_for(Task::QuestionAnswering),
            [BERT_ARCH, "distilbert"]
        );
        assert_eq!(
            arches_for(Task::ImageClassification),
            [
                "efficientnet-lite",
                "vit",
                "resnet",
                "convnext",
                "efficientnet",
                "mobilenetv4",
                "dinov2"
            ]
        );
        assert_eq!(arches_for(Task::ObjectDetection), ["yolov8"]);
        assert_eq!(
            arches_for(Task::AudioClassification),
            ["silero-vad", "whisper"]
        );
    }

    #[test]
    fn no_two_families_claim_the_same_task_and_arch() {
        for (i, a) in FAMILIES.iter().enumerate() {
            for b in &FAMILIES[i + 1..] {
                if a.task == b.task {
                    for arch in a.arches {
                        assert!(!(b.handles)(arch), "{arch} is claimed twice for {}", a.task);
                    }
                }
            }
        }
    }
}
