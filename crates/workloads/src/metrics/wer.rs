//! Word error rate (speech recognition) with a small, documented English normaliser.
//!
//! The normaliser ([`normalize`]), applied to both the reference and the hypothesis:
//! 1. Unicode lower case;
//! 2. curly apostrophes become `'`; an apostrophe between two letters or digits stays (`don't`,
//!    `o'clock`), every other apostrophe is dropped;
//! 3. every other character that is not a letter or a digit (punctuation, hyphens, symbols)
//!    becomes a space;
//! 4. runs of whitespace become one space, ends trimmed.
//!
//! Numbers are left as they are written: `ten` and `10` are different words (the LibriVox and
//! "cards" transcripts spell numbers out; a model that writes digits is counted wrong). Unlike
//! OpenAI's `EnglishTextNormalizer`, there is no spelling standardisation (`colour`/`color`)
//! and no removal of fillers (`um`, `uh`).
//!
//! WER = (substitutions + deletions + insertions) / reference words, summed over the corpus
//! (not a mean of per-utterance rates), from a word-level Levenshtein alignment.

/// Normalise a transcript (see the module docs).
pub fn normalize(text: &str) -> String {
    let lower: Vec<char> = text
        .to_lowercase()
        .chars()
        .map(|c| {
            if matches!(c, '\u{2019}' | '\u{2018}') {
                '\''
            } else {
                c
            }
        })
        .collect();
    let mut out = String::with_capacity(lower.len());
    for (i, &c) in lower.iter().enumerate() {
        let keep = if c.is_alphanumeric() {
            true
        } else if c == '\'' {
            let before = i > 0 && lower[i - 1].is_alphanumeric();
            let after = lower.get(i + 1).is_some_and(|n| n.is_alphanumeric());
            if !(before && after) {
                continue;
            }
            true
        } else {
            false
        };
        out.push(if keep { c } else { ' ' });
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Edit counts of one hypothesis against one reference (normalised words).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WordErrors {
    pub substitutions: usize,
    pub deletions: usize,
    pub insertions: usize,
    /// Words in the reference.
    pub reference_words: usize,
}

impl WordErrors {
    /// S + D + I.
    pub fn errors(&self) -> usize {
        self.substitutions + self.deletions + self.insertions
    }

    /// Add another utterance's counts.
    pub fn add(&mut self, o: WordErrors) {
        self.substitutions += o.substitutions;
        self.deletions += o.deletions;
        self.insertions += o.insertions;
        self.reference_words += o.reference_words;
    }

    /// errors / reference words; `None` when the reference is empty.
    pub fn rate(&self) -> Option<f64> {
        (self.reference_words > 0).then(|| self.errors() as f64 / self.reference_words as f64)
    }
}

/// Align `hypothesis` to `reference` (both normalised first) and count the edits.
pub fn word_errors(reference: &str, hypothesis: &str) -> WordErrors {
    let r = normalize(reference);
    let h = normalize(hypothesis);
    let r: Vec<&str> = r.split_whitespace().collect();
    let h: Vec<&str> = h.split_whitespace().collect();
    // (cost, S, D, I) per cell; ties prefer substitutions, then deletions.
    let mut prev: Vec<(usize, usize, usize, usize)> = (0..=h.len()).map(|j| (j, 0, 0, j)).collect();
    for i in 1..=r.len() {
        let mut cur = vec![(i, 0, i, 0); h.len() + 1];
        for j in 1..=h.len() {
            let diag = prev[j - 1];
            let sub = if r[i - 1] == h[j - 1] {
                diag
            } else {
                (diag.0 + 1, diag.1 + 1, diag.2, diag.3)
            };
            let del = (prev[j].0 + 1, prev[j].1, prev[j].2 + 1, prev[j].3);
            let ins = (
                cur[j - 1].0 + 1,
                cur[j - 1].1,
                cur[j - 1].2,
                cur[j - 1].3 + 1,
            );
            cur[j] = [sub, del, ins].into_iter().min_by_key(|c| c.0).unwrap();
        }
        prev = cur;
    }
    let (_, s, d, ins) = prev[h.len()];
    WordErrors {
        substitutions: s,
        deletions: d,
        insertions: ins,
        reference_words: r.len(),
    }
}

/// Corpus WER of `(reference, hypothesis)` pairs, with the summed counts.
pub fn corpus_wer<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> WordErrors {
    let mut total = WordErrors::default();
    for (r, h) in pairs {
        total.add(word_errors(r, h));
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_normaliser_lowercases_and_drops_punctuation_but_not_numbers() {
        assert_eq!(
            normalize("  Mr. Dashwood—had THEN leisure; to consider... \"how\" much!"),
            "mr dashwood had then leisure to consider how much"
        );
        assert_eq!(
            normalize("Don’t say 'no', it's ten-of-clubs"),
            "don't say no it's ten of clubs"
        );
        assert_eq!(normalize("10 of Clubs"), "10 of clubs");
        assert_eq!(normalize("ten of clubs"), "ten of clubs");
        assert_eq!(normalize("Café AU lait"), "café au lait");
        assert_eq!(normalize("?!"), "");
    }

    #[test]
    fn edits_are_counted_by_kind() {
        let e = word_errors(
            "he was not an ill disposed young man",
            "He was not an ill-disposed young man.",
        );
        assert_eq!(
            e,
            WordErrors {
                reference_words: 8,
                ..Default::default()
            }
        );
        assert_eq!(e.rate(), Some(0.0));
        // One substitution, one deletion, one insertion.
        let e = word_errors("a b c d", "a x c d e");
        assert_eq!((e.substitutions, e.deletions, e.insertions), (1, 0, 1));
        let e = word_errors("a b c d", "a c d");
        assert_eq!((e.substitutions, e.deletions, e.insertions), (0, 1, 0));
        assert_eq!(e.rate(), Some(0.25));
        // Everything inserted into an empty reference: no rate.
        assert_eq!(word_errors("", "hello").rate(), None);
        // Everything deleted.
        assert_eq!(word_errors("one two", "").rate(), Some(1.0));
        // Digits against spelled numbers count as errors.
        assert_eq!(word_errors("ten of clubs", "10 of clubs").substitutions, 1);
    }

    #[test]
    fn corpus_wer_sums_counts_rather_than_averaging_rates() {
        // 1 error in 1 word and 0 in 9 words: 1/10, not (1 + 0) / 2.
        let t = corpus_wer([("yes", "no"), ("a b c d e f g h i", "a b c d e f g h i")]);
        assert_eq!(t.errors(), 1);
        assert_eq!(t.reference_words, 10);
        assert!((t.rate().unwrap() - 0.1).abs() < 1e-12);
    }
}
