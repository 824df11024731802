//! Quality metrics: Spearman rank correlation (sentence similarity), accuracy, macro-F1 and
//! (binary) precision/recall of the positive label (classification), ROUGE ([`rouge`],
//! summarization) and SQuAD exact match / F1 ([`squad`], question answering), COCO-style mAP@0.5
//! and the smoke figures ([`detection`], object detection), and word error rate ([`wer`], speech
//! recognition).

pub mod detection;
pub mod rouge;
pub mod squad;
pub mod wer;

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Result};

/// Spearman rank correlation of `pred` against `gold`: the Pearson correlation of their ranks,
/// with tied values given the average of the ranks they span (as `scipy.stats.spearmanr`).
///
/// Errors when the lengths differ, there are fewer than two pairs, a value is not finite, or
/// either side is constant (the correlation is undefined then).
///
/// ```
/// use frugalbench_workloads::metrics::spearman;
/// // Same order, different scale: a perfect rank correlation.
/// let rho = spearman(&[0.1, 0.5, 0.9], &[1.0, 3.0, 5.0]).unwrap();
/// assert!((rho - 1.0).abs() < 1e-12);
/// // Reversed order.
/// let rho = spearman(&[0.9, 0.5, 0.1], &[1.0, 3.0, 5.0]).unwrap();
/// assert!((rho + 1.0).abs() < 1e-12);
/// ```
pub fn spearman(pred: &[f64], gold: &[f64]) -> Result<f64> {
    if pred.len() != gold.len() {
        bail!(
            "spearman: {} predictions but {} gold scores",
            pred.len(),
            gold.len()
        );
    }
    if pred.len() < 2 {
        bail!("spearman: needs at least 2 pairs, got {}", pred.len());
    }
    if let Some(i) = pred.iter().position(|v| !v.is_finite()) {
        bail!(
            "spearman: prediction #{i} is not a finite number ({})",
            pred[i]
        );
    }
    if let Some(i) = gold.iter().position(|v| !v.is_finite()) {
        bail!(
            "spearman: gold score #{i} is not a finite number ({})",
            gold[i]
        );
    }
    let (rp, rg) = (average_ranks(pred), average_ranks(gold));
    match pearson(&rp, &rg) {
        Some(r) => Ok(r),
        None => bail!(
            "spearman: undefined because the {} are all equal",
            if variance_is_zero(&rp) {
                "predictions"
            } else {
                "gold scores"
            }
        ),
    }
}

/// 1-based ranks; tied values share the mean of the ranks they occupy.
pub fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        // Positions start..end (0-based) hold ranks start+1..=end; their mean:
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

fn variance_is_zero(x: &[f64]) -> bool {
    x.iter().all(|v| *v == x[0])
}

/// Pearson correlation; `None` when either side has zero variance.
fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx == 0.0 || syy == 0.0 {
        return None;
    }
    Some((sxy / (sxx.sqrt() * syy.sqrt())).clamp(-1.0, 1.0))
}

/// Share of positions where the predicted label equals the gold label.
///
/// Pairs are compared up to the shorter slice but divided by the number of gold labels, so a
/// missing prediction counts as wrong. No gold labels → 0.
pub fn accuracy(pred: &[&str], gold: &[&str]) -> f64 {
    if gold.is_empty() {
        return 0.0;
    }
    let hits = pred.iter().zip(gold).filter(|(p, g)| p == g).count();
    hits as f64 / gold.len() as f64
}

/// Macro-averaged F1: the unweighted mean of per-label F1 over the labels that occur in `gold`.
///
/// A gold label that is never predicted (or never predicted correctly) has F1 = 0; predicted
/// labels absent from `gold` only count as false positives. A missing prediction (pred shorter
/// than gold) counts as a miss. No gold labels → 0.
pub fn macro_f1(pred: &[&str], gold: &[&str]) -> f64 {
    let labels: BTreeSet<&str> = gold.iter().copied().collect();
    if labels.is_empty() {
        return 0.0;
    }
    // label -> (true positives, false positives, false negatives)
    let mut counts: BTreeMap<&str, (u64, u64, u64)> =
        labels.iter().map(|l| (*l, (0, 0, 0))).collect();
    for (i, g) in gold.iter().enumerate() {
        match pred.get(i) {
            Some(p) if p == g => counts.get_mut(g).expect("gold label").0 += 1,
            Some(p) => {
                counts.get_mut(g).expect("gold label").2 += 1;
                if let Some(c) = counts.get_mut(p) {
                    c.1 += 1;
                }
            }
            None => counts.get_mut(g).expect("gold label").2 += 1,
        }
    }
    let total: f64 = counts
        .values()
        .map(|&(tp, fp, fne)| {
            let denom = 2 * tp + fp + fne;
            if denom == 0 {
                0.0
            } else {
                2.0 * tp as f64 / denom as f64
            }
        })
        .sum();
    total / labels.len() as f64
}

/// Precision and recall of the `positive` label (binary classification): precision = true
/// positives / predicted positives, recall = true positives / gold positives. Each is `None`
/// when its denominator is 0 (undefined, not 0). Pairs are compared up to the shorter slice;
/// a missing prediction counts as not positive.
pub fn precision_recall(
    pred: &[&str],
    gold: &[&str],
    positive: &str,
) -> (Option<f64>, Option<f64>) {
    let (mut tp, mut predicted, mut actual) = (0u64, 0u64, 0u64);
    for (i, g) in gold.iter().enumerate() {
        let p = pred.get(i).copied();
        let (is_p, is_g) = (p == Some(positive), *g == positive);
        tp += u64::from(is_p && is_g);
        predicted += u64::from(is_p);
        actual += u64::from(is_g);
    }
    let ratio = |n: u64, d: u64| (d > 0).then(|| n as f64 / d as f64);
    (ratio(tp, predicted), ratio(tp, actual))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn ranks_average_ties() {
        assert_eq!(
            average_ranks(&[10.0, 20.0, 20.0, 5.0, 20.0]),
            vec![2.0, 4.0, 4.0, 1.0, 4.0]
        );
        assert_eq!(average_ranks(&[3.0, 1.0, 2.0]), vec![3.0, 1.0, 2.0]);
    }

    #[test]
    fn spearman_perfect_and_reversed() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        // Monotone but non-linear: Spearman sees only the order.
        let y = [1.0, 4.0, 9.0, 16.0, 100.0];
        assert!(close(spearman(&x, &y).unwrap(), 1.0));
        let rev = [5.0, 4.0, 3.0, 2.0, 1.0];
        assert!(close(spearman(&x, &rev).unwrap(), -1.0));
    }

    #[test]
    fn spearman_hand_computed_without_ties() {
        // ranks x = 1..5, ranks y = [2,1,4,3,5]; d² = 1+1+1+1+0 = 4;
        // rho = 1 - 6·4 / (5·24) = 0.8
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let y = [2.0, 1.0, 4.0, 3.0, 5.0];
        assert!(close(spearman(&x, &y).unwrap(), 0.8));
    }

    #[test]
    fn spearman_hand_computed_with_ties() {
        // x ranks [1, 2.5, 2.5, 4]; y ranks [1, 2, 3, 4].
        // mean 2.5 each; dx = [-1.5, 0, 0, 1.5]; dy = [-1.5, -0.5, 0.5, 1.5]
        // sxy = 2.25 + 0 + 0 + 2.25 = 4.5; sxx = 4.5; syy = 5 → 4.5 / sqrt(22.5)
        let x = [1.0, 2.0, 2.0, 3.0];
        let y = [10.0, 20.0, 30.0, 40.0];
        let want = 4.5 / 22.5f64.sqrt();
        assert!(close(spearman(&x, &y).unwrap(), want));
    }

    #[test]
    fn spearman_matches_scipy() {
        // scipy 1.17.1: scipy.stats.spearmanr(pred, gold).statistic (computed with python3 here)
        let pred = [0.91, 0.15, 0.42, 0.42, 0.77, 0.03, 0.64, 0.15, 0.88, 0.5];
        let gold = [4.8, 0.4, 2.5, 3.0, 3.6, 0.0, 2.5, 1.2, 5.0, 2.5];
        let got = spearman(&pred, &gold).unwrap();
        assert!((got - 0.913_597_652_917_924_2).abs() < 1e-12, "got {got}");
    }

    #[test]
    fn spearman_rejects_bad_input() {
        let e = spearman(&[1.0, 2.0], &[1.0]).unwrap_err().to_string();
        assert!(e.contains("2 predictions but 1 gold"), "{e}");
        assert!(spearman(&[1.0], &[1.0]).is_err());
        let e = spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0])
            .unwrap_err()
            .to_string();
        assert!(e.contains("predictions are all equal"), "{e}");
        let e = spearman(&[1.0, 2.0, 3.0], &[2.0, 2.0, 2.0])
            .unwrap_err()
            .to_string();
        assert!(e.contains("gold scores are all equal"), "{e}");
        assert!(spearman(&[1.0, f64::NAN], &[1.0, 2.0]).is_err());
    }

    #[test]
    fn accuracy_counts_matches() {
        assert!(close(
            accuracy(&["a", "b", "a", "c"], &["a", "b", "b", "c"]),
            0.75
        ));
        assert!(close(accuracy(&[], &[]), 0.0));
        // A missing prediction is a miss.
        assert!(close(accuracy(&["a"], &["a", "b"]), 0.5));
    }

    #[test]
    fn macro_f1_hand_computed() {
        // gold: a a a b b c ; pred: a a b b c c
        // a: tp2 fp0 fn1 → F1 = 4/5 = 0.8
        // b: tp1 fp1 fn1 → F1 = 2/4 = 0.5
        // c: tp1 fp1 fn0 → F1 = 2/3
        let gold = ["a", "a", "a", "b", "b", "c"];
        let pred = ["a", "a", "b", "b", "c", "c"];
        let want = (0.8 + 0.5 + 2.0 / 3.0) / 3.0;
        assert!(close(macro_f1(&pred, &gold), want));
    }

    #[test]
    fn precision_recall_of_the_positive_label() {
        // gold: s s s n n ; pred: s n s s n → tp 2, predicted 3, actual 3
        let gold = ["s", "s", "s", "n", "n"];
        let pred = ["s", "n", "s", "s", "n"];
        let (p, r) = precision_recall(&pred, &gold, "s");
        assert!(close(p.unwrap(), 2.0 / 3.0) && close(r.unwrap(), 2.0 / 3.0));
        // Of the other label: tp 1, predicted 2, actual 2.
        let (p, r) = precision_recall(&pred, &gold, "n");
        assert!(close(p.unwrap(), 0.5) && close(r.unwrap(), 0.5));
        // Asymmetric: gold s s n n ; pred s n n n → precision 1/1, recall 1/2.
        let (p, r) = precision_recall(&["s", "n", "n", "n"], &["s", "s", "n", "n"], "s");
        assert!(close(p.unwrap(), 1.0) && close(r.unwrap(), 0.5));
        // Never predicted: precision undefined; no gold positive: recall undefined.
        assert_eq!(precision_recall(&["n", "n"], &["s", "n"], "s").0, None);
        assert_eq!(precision_recall(&["s", "n"], &["n", "n"], "s").1, None);
        // A missing prediction is not a positive one.
        let (p, r) = precision_recall(&["s"], &["s", "s"], "s");
        assert!(close(p.unwrap(), 1.0) && close(r.unwrap(), 0.5));
    }

    #[test]
    fn macro_f1_unpredicted_label_scores_zero() {
        // gold: x x y y ; pred: x x x z
        // x: tp2 fp1 fn0 → 4/5; y: never predicted → 0; z: not a gold label → not averaged
        let gold = ["x", "x", "y", "y"];
        let pred = ["x", "x", "x", "z"];
        assert!(close(macro_f1(&pred, &gold), 0.4));
        assert!(close(macro_f1(&gold, &gold), 1.0));
        assert!(close(macro_f1(&[], &[]), 0.0));
    }
}
