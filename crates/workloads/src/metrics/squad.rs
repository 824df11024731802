//! SQuAD v1.1 exact match and token F1 (the official `evaluate-v1.1.py`), each the maximum over
//! a question's gold answers.
//!
//! Answers are normalised as the script does: lower-case, remove ASCII punctuation
//! (`string.punctuation`), remove the articles `a`, `an`, `the` as whole words, collapse
//! whitespace. F1 is over the normalised whitespace tokens (clipped counts); no shared token
//! scores 0. Scores are fractions in 0..=1 (the script prints percentages).

use std::collections::HashMap;

/// SQuAD's `normalize_answer`.
pub fn normalize_answer(s: &str) -> String {
    let lower = s.to_lowercase();
    let no_punct: String = lower
        .chars()
        .filter(|c| !c.is_ascii_punctuation())
        .collect();
    // `re.sub(r"\b(a|an|the)\b", " ", text)`: a whole word (a run of \w) equal to an article.
    let mut out = String::with_capacity(no_punct.len());
    let mut word = String::new();
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let flush = |word: &mut String, out: &mut String| {
        if matches!(word.as_str(), "a" | "an" | "the") {
            out.push(' ');
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in no_punct.chars() {
        if is_word(c) {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// 1 when the normalised prediction equals a normalised gold answer, else 0.
pub fn exact_match(prediction: &str, answers: &[String]) -> f64 {
    let p = normalize_answer(prediction);
    let hit = answers.iter().any(|a| normalize_answer(a) == p);
    if hit {
        1.0
    } else {
        0.0
    }
}

/// The best token F1 of `prediction` over `answers` (0 for no answers).
pub fn f1(prediction: &str, answers: &[String]) -> f64 {
    answers
        .iter()
        .map(|a| f1_one(prediction, a))
        .fold(0.0, f64::max)
}

fn f1_one(prediction: &str, gold: &str) -> f64 {
    let p = normalize_answer(prediction);
    let g = normalize_answer(gold);
    let p: Vec<&str> = p.split_whitespace().collect();
    let g: Vec<&str> = g.split_whitespace().collect();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for t in &g {
        *counts.entry(t).or_insert(0) += 1;
    }
    let mut same = 0usize;
    for t in &p {
        if let Some(c) = counts.get_mut(t) {
            if *c > 0 {
                *c -= 1;
                same += 1;
            }
        }
    }
    if same == 0 {
        return 0.0;
    }
    let precision = same as f64 / p.len() as f64;
    let recall = same as f64 / g.len() as f64;
    2.0 * precision * recall / (precision + recall)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn normalisation_is_squads() {
        assert_eq!(normalize_answer("The  Eiffel-Tower!"), "eiffeltower");
        assert_eq!(
            normalize_answer("An apple, a pear and THE plum"),
            "apple pear and plum"
        );
        // Articles only as whole words.
        assert_eq!(normalize_answer("theatre anatomy"), "theatre anatomy");
        assert_eq!(normalize_answer("  a  "), "");
    }

    #[test]
    fn exact_match_and_f1_take_the_best_answer() {
        let gold = s(&["Denver Broncos", "the Broncos"]);
        assert_eq!(exact_match("broncos", &gold), 1.0);
        assert_eq!(exact_match("Denver", &gold), 0.0);
        // "Denver" vs "denver broncos": P 1, R 1/2 → 2/3.
        assert!((f1("Denver", &gold) - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(f1("Carolina Panthers", &gold), 0.0);
        assert_eq!(f1("anything", &[]), 0.0);
        // Clipped counts: "a b b" vs "b": one shared token.
        assert!((f1("x b b", &s(&["b"])) - 0.5).abs() < 1e-12);
    }
}
