//! ROUGE-1, ROUGE-2 and ROUGE-L F-measures, as Google's reference `rouge-score` package computes
//! them (`rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)`).
//!
//! Tokenisation is that package's default: lower-case, replace every run of characters outside
//! `[a-z0-9]` with a space, split on whitespace. **No stemmer** (the package's default;
//! `use_stemmer=True`, which many summarization papers use, applies the Porter stemmer and gives
//! somewhat higher scores). Non-ASCII letters are separators, as in the package.
//!
//! Per pair: precision = overlap / prediction count, recall = overlap / reference count,
//! F = 2PR / (P + R) (0 when P + R = 0); n-gram overlap is the clipped count of shared n-grams,
//! ROUGE-L's is the length of the longest common subsequence of the token lists. An empty side
//! scores 0. A dataset's score is the mean F over its pairs (the package's aggregator reports
//! the same mean as its bootstrap "mid").

use std::collections::HashMap;

/// The F-measures of one (prediction, reference) pair, each in 0..=1.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RougeScores {
    pub rouge1: f64,
    pub rouge2: f64,
    pub rouge_l: f64,
}

/// `rouge-score`'s default tokenizer: lower-case, `[^a-z0-9]+` → space, split on whitespace.
pub fn tokenize(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut tokens = Vec::new();
    let mut current = String::new();
    for c in lower.chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            current.push(c);
        } else if !current.is_empty() {
            tokens.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

/// ROUGE-1/2/L F-measures of `prediction` against `reference`.
pub fn score(prediction: &str, reference: &str) -> RougeScores {
    let pred = tokenize(prediction);
    let gold = tokenize(reference);
    RougeScores {
        rouge1: ngram_f(&pred, &gold, 1),
        rouge2: ngram_f(&pred, &gold, 2),
        rouge_l: lcs_f(&pred, &gold),
    }
}

/// The mean ROUGE-1/2/L F-measures over `(prediction, reference)` pairs (0 for none).
pub fn mean_scores<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> RougeScores {
    let mut sum = RougeScores::default();
    let mut n = 0usize;
    for (p, r) in pairs {
        let s = score(p, r);
        sum.rouge1 += s.rouge1;
        sum.rouge2 += s.rouge2;
        sum.rouge_l += s.rouge_l;
        n += 1;
    }
    if n == 0 {
        return sum;
    }
    let n = n as f64;
    RougeScores {
        rouge1: sum.rouge1 / n,
        rouge2: sum.rouge2 / n,
        rouge_l: sum.rouge_l / n,
    }
}

fn f_measure(overlap: usize, pred_len: usize, gold_len: usize) -> f64 {
    let p = overlap as f64 / pred_len.max(1) as f64;
    let r = overlap as f64 / gold_len.max(1) as f64;
    if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    }
}

fn ngrams(tokens: &[String], n: usize) -> HashMap<&[String], usize> {
    let mut counts = HashMap::new();
    if tokens.len() >= n {
        for w in tokens.windows(n) {
            *counts.entry(w).or_insert(0) += 1;
        }
    }
    counts
}

fn ngram_f(pred: &[String], gold: &[String], n: usize) -> f64 {
    let p = ngrams(pred, n);
    let g = ngrams(gold, n);
    let overlap: usize = g
        .iter()
        .map(|(k, &c)| c.min(p.get(k).copied().unwrap_or(0)))
        .sum();
    f_measure(overlap, p.values().sum(), g.values().sum())
}

fn lcs_f(pred: &[String], gold: &[String]) -> f64 {
    if pred.is_empty() || gold.is_empty() {
        return 0.0;
    }
    // One row of the LCS table at a time.
    let mut prev = vec![0usize; pred.len() + 1];
    let mut row = vec![0usize; pred.len() + 1];
    for g in gold {
        for (j, p) in pred.iter().enumerate() {
            row[j + 1] = if g == p {
                prev[j] + 1
            } else {
                row[j].max(prev[j + 1])
            };
        }
        std::mem::swap(&mut prev, &mut row);
    }
    f_measure(prev[pred.len()], pred.len(), gold.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn tokenizer_matches_rouge_score() {
        assert_eq!(
            tokenize("The CAT's hat -- costs $5.50! Café"),
            ["the", "cat", "s", "hat", "costs", "5", "50", "caf"]
        );
        assert!(tokenize("  ... ").is_empty());
    }

    #[test]
    fn scores_match_the_reference_package() {
        let s = score(
            "The quick brown dog jumps on the log.",
            "The quick brown fox jumps over the lazy dog",
        );
        // pred: the quick brown dog jumps on the log (8); gold: the quick brown fox jumps over
        // the lazy dog (9). Unigram overlap: the×2, quick, brown, dog, jumps = 6.
        assert!(close(s.rouge1, 2.0 * 6.0 / 17.0), "{s:?}");
        // Bigrams: "the quick", "quick brown" = 2 of 7 and 8.
        let (p, r) = (2.0 / 7.0, 2.0 / 8.0);
        assert!(close(s.rouge2, 2.0 * p * r / (p + r)), "{s:?}");
        // LCS: the quick brown jumps the = 5.
        assert!(close(s.rouge_l, 2.0 * 5.0 / 17.0), "{s:?}");
    }

    #[test]
    fn identical_empty_and_disjoint() {
        let s = score("A b c.", "a B c");
        assert!(close(s.rouge1, 1.0) && close(s.rouge2, 1.0) && close(s.rouge_l, 1.0));
        assert_eq!(score("", "a b"), RougeScores::default());
        assert_eq!(score("x y", "a b"), RougeScores::default());
        // One token each side: no bigrams, so ROUGE-2 is 0 even on a match.
        assert_eq!(score("a", "a").rouge2, 0.0);
        let m = mean_scores([("a b", "a b"), ("x", "y")]);
        assert!(close(m.rouge1, 0.5) && close(m.rouge_l, 0.5));
    }
}
