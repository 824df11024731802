//! The tasks frugalbench can score.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A task, named as in result files and on the command line (kebab-case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// Cosine similarity of sentence pairs (quality: Spearman).
    SentenceSimilarity,
    /// A label per text (quality: accuracy, macro-F1).
    TextClassification,
    /// New tokens after a prompt.
    TextGeneration,
    /// A summary per document (quality: ROUGE-L F-measure, ROUGE-1/2 beside it).
    Summarization,
    /// An answer span cut from a context per question (quality: SQuAD F1, exact match beside
    /// it).
    QuestionAnswering,
    /// A class per image (quality: top-1 accuracy, top-5 beside it).
    ImageClassification,
    /// Boxes and labels per image (quality: mAP@0.5; on a single-class set, the Frugal AI
    /// Challenge's smoke figures: detection accuracy and mean IoU of the best box). The command
    /// line also accepts `smoke-detection` for it.
    ObjectDetection,
    /// A transcript per audio clip (quality: word error rate).
    AutomaticSpeechRecognition,
    /// A label per audio clip (quality: accuracy, macro-F1; binary sets also precision and
    /// recall of the positive class).
    AudioClassification,
}

impl Task {
    /// Every task, in display order.
    pub const ALL: [Task; 9] = [
        Task::SentenceSimilarity,
        Task::TextClassification,
        Task::TextGeneration,
        Task::Summarization,
        Task::QuestionAnswering,
        Task::ImageClassification,
        Task::ObjectDetection,
        Task::AutomaticSpeechRecognition,
        Task::AudioClassification,
    ];

    /// Other names accepted when parsing: (alias, task).
    pub const ALIASES: [(&'static str, Task); 1] = [
        // The Frugal AI Challenge's image task (wildfire smoke on pyronear/pyro-sdis) is object
        // detection on a single-class set; its figures follow from the dataset having one class.
        ("smoke-detection", Task::ObjectDetection),
    ];

    /// The kebab-case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Task::SentenceSimilarity => "sentence-similarity",
            Task::TextClassification => "text-classification",
            Task::TextGeneration => "text-generation",
            Task::Summarization => "summarization",
            Task::QuestionAnswering => "question-answering",
            Task::ImageClassification => "image-classification",
            Task::ObjectDetection => "object-detection",
            Task::AutomaticSpeechRecognition => "automatic-speech-recognition",
            Task::AudioClassification => "audio-classification",
        }
    }
}

/// `a, b, c`: tasks as a list for messages.
pub fn list(tasks: &[Task]) -> String {
    tasks
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Task {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Task::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == s)
            .or_else(|| Task::ALIASES.iter().find(|(a, _)| *a == s).map(|(_, t)| *t))
            .ok_or_else(|| {
                let known: Vec<_> = Task::ALL.iter().map(|t| t.as_str()).collect();
                format!("unknown task `{s}` (known: {})", known.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_str_and_serde() {
        for t in Task::ALL {
            assert_eq!(t.as_str().parse::<Task>(), Ok(t));
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{t}\""));
        }
        assert_eq!("smoke-detection".parse::<Task>(), Ok(Task::ObjectDetection));
        let err = "text-to-speech".parse::<Task>().unwrap_err();
        assert!(err.contains("known: sentence-similarity"), "{err}");
    }
}
