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
    /// A label per audio clip (quality: accuracy, macro-F1; binary sets also precision and
    /// recall of the positive class).
    AudioClassification,
}

impl Task {
    /// Every task, in display order.
    pub const ALL: [Task; 6] = [
        Task::SentenceSimilarity,
        Task::TextClassification,
        Task::TextGeneration,
        Task::Summarization,
        Task::QuestionAnswering,
        Task::AudioClassification,
    ];

    /// The kebab-case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Task::SentenceSimilarity => "sentence-similarity",
            Task::TextClassification => "text-classification",
            Task::TextGeneration => "text-generation",
            Task::Summarization => "summarization",
            Task::QuestionAnswering => "question-answering",
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
        let err = "text-to-speech".parse::<Task>().unwrap_err();
        assert!(err.contains("known: sentence-similarity"), "{err}");
    }
}
