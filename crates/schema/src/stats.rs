//! Small statistics for repetitions and latencies.
//!
//! Conventions: inputs are plain samples; empty input (or too few values) gives `None` rather
//! than a made-up number. Standard deviation is the *sample* one (divisor n − 1). Percentiles use
//! linear interpolation between closest ranks — Hyndman & Fan type 7, the default of NumPy
//! (`method="linear"`), R and Excel's `PERCENTILE.INC`: for sorted values v₀…vₙ₋₁ and a fraction
//! q, h = (n − 1)·q, result = v⌊h⌋ + (h − ⌊h⌋)·(v⌈h⌉ − v⌊h⌋).

use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::result::{LatencyMs, TtftMs};

/// Arithmetic mean; `None` for no values.
pub fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        None
    } else {
        Some(values.iter().sum::<f64>() / values.len() as f64)
    }
}

/// Sample standard deviation (divisor n − 1); `None` for fewer than two values.
pub fn std_dev(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let m = mean(values)?;
    let ss: f64 = values.iter().map(|v| (v - m) * (v - m)).sum();
    Some((ss / (values.len() - 1) as f64).sqrt())
}

/// The two-sided 97.5% quantile of Student's t with `dof` degrees of freedom
/// (e.g. 4.303 for 2); `None` when `dof` is 0.
pub fn t_975(dof: usize) -> Option<f64> {
    let t = StudentsT::new(0.0, 1.0, dof as f64).ok()?;
    Some(t.inverse_cdf(0.975))
}

/// 95% confidence interval of the mean: mean ± t₀.₉₇₅,ₙ₋₁ · s / √n.
/// `None` for fewer than two values (no spread to estimate).
pub fn ci95_mean(values: &[f64]) -> Option<(f64, f64)> {
    let n = values.len();
    let m = mean(values)?;
    let s = std_dev(values)?;
    let half = t_975(n - 1)? * s / (n as f64).sqrt();
    Some((m - half, m + half))
}

/// The `p`-th percentile (`p` in 0..=100) by linear interpolation (type 7, see the module docs).
/// `None` for no values, a `p` outside 0..=100, or any non-finite value.
pub fn percentile(values: &[f64], p: f64) -> Option<f64> {
    let sorted = sorted_finite(values)?;
    percentile_sorted(&sorted, p)
}

fn sorted_finite(values: &[f64]) -> Option<Vec<f64>> {
    if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    Some(v)
}

fn percentile_sorted(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() || !(0.0..=100.0).contains(&p) {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * p / 100.0;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// Summary of a sample; see [`summarize`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n: usize,
    /// Mean; NaN when `n` is 0.
    pub mean: f64,
    /// Sample standard deviation; `None` when `n` < 2.
    pub std: Option<f64>,
    /// 95% CI of the mean (Student's t); `None` when `n` < 2.
    pub ci95: Option<(f64, f64)>,
    /// Smallest value; NaN when `n` is 0.
    pub min: f64,
    /// Largest value; NaN when `n` is 0.
    pub max: f64,
}

/// n, mean, sample std, 95% CI of the mean, min and max of `values` (expected finite).
pub fn summarize(values: &[f64]) -> Summary {
    Summary {
        n: values.len(),
        mean: mean(values).unwrap_or(f64::NAN),
        std: std_dev(values),
        ci95: ci95_mean(values),
        min: values.iter().copied().reduce(f64::min).unwrap_or(f64::NAN),
        max: values.iter().copied().reduce(f64::max).unwrap_or(f64::NAN),
    }
}

impl LatencyMs {
    /// p50/p95/p99 (type 7) and mean of per-query latencies in ms; `None` when empty or
    /// any value is non-finite.
    pub fn from_samples(ms: &[f64]) -> Option<LatencyMs> {
        let s = sorted_finite(ms)?;
        Some(LatencyMs {
            p50: percentile_sorted(&s, 50.0)?,
            p95: percentile_sorted(&s, 95.0)?,
            p99: percentile_sorted(&s, 99.0)?,
            mean: mean(&s)?,
        })
    }
}

impl TtftMs {
    /// p50/p95 (type 7) and mean of per-query times to first token in ms; `None` when empty
    /// or any value is non-finite.
    pub fn from_samples(ms: &[f64]) -> Option<TtftMs> {
        let s = sorted_finite(ms)?;
        Some(TtftMs {
            p50: percentile_sorted(&s, 50.0)?,
            p95: percentile_sorted(&s, 95.0)?,
            mean: mean(&s)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn t_quantiles_match_tables() {
        // Standard t tables, two-sided 95%.
        assert!(close(t_975(1).unwrap(), 12.706, 5e-4));
        assert!(close(t_975(2).unwrap(), 4.303, 5e-4));
        assert!(close(t_975(4).unwrap(), 2.776, 5e-4));
        assert!(close(t_975(9).unwrap(), 2.262, 5e-4));
        assert!(close(t_975(30).unwrap(), 2.042, 5e-4));
        assert_eq!(t_975(0), None);
    }

    #[test]
    fn mean_std_ci_by_hand() {
        // 10, 12, 14: mean 12, deviations −2, 0, 2 → ss 8, s² = 8/2 = 4, s = 2.
        // CI = 12 ± 4.3027 × 2 / √3 = 12 ± 4.9683.
        let v = [10.0, 12.0, 14.0];
        assert_eq!(mean(&v), Some(12.0));
        assert_eq!(std_dev(&v), Some(2.0));
        let (lo, hi) = ci95_mean(&v).unwrap();
        assert!(close(lo, 7.0317, 1e-3), "{lo}");
        assert!(close(hi, 16.9683, 1e-3), "{hi}");
    }

    #[test]
    fn too_few_values_give_none() {
        assert_eq!(mean(&[]), None);
        assert_eq!(std_dev(&[5.0]), None);
        assert_eq!(ci95_mean(&[5.0]), None);
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(LatencyMs::from_samples(&[]), None);
    }

    #[test]
    fn percentiles_type7() {
        // Unsorted 1..=10. h = 9q: p50 → h 4.5 → 5.5; p95 → h 8.55 → 9.55; p99 → h 8.91 → 9.91.
        let v = [7.0, 1.0, 10.0, 3.0, 2.0, 9.0, 4.0, 6.0, 5.0, 8.0];
        assert!(close(percentile(&v, 50.0).unwrap(), 5.5, 1e-12));
        assert!(close(percentile(&v, 95.0).unwrap(), 9.55, 1e-12));
        assert!(close(percentile(&v, 99.0).unwrap(), 9.91, 1e-12));
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        assert_eq!(percentile(&v, 100.0), Some(10.0));
        assert_eq!(percentile(&[42.0], 95.0), Some(42.0));
        assert_eq!(percentile(&v, 101.0), None);
        assert_eq!(percentile(&[1.0, f64::NAN], 50.0), None);
        let l = LatencyMs::from_samples(&v).unwrap();
        assert!(close(l.p95, 9.55, 1e-12) && close(l.mean, 5.5, 1e-12));
    }

    #[test]
    fn summarize_by_hand() {
        let s = summarize(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(s.n, 8);
        assert_eq!(s.mean, 5.0);
        // ss = 9+1+1+1+0+0+4+16 = 32, s² = 32/7.
        assert!(close(s.std.unwrap(), (32.0f64 / 7.0).sqrt(), 1e-12));
        // t(7) = 2.3646; half = 2.3646 × 2.13809 / √8 = 1.78748.
        let (lo, hi) = s.ci95.unwrap();
        assert!(close(lo, 5.0 - 1.78748, 1e-4) && close(hi, 5.0 + 1.78748, 1e-4));
        assert_eq!((s.min, s.max), (2.0, 9.0));

        let one = summarize(&[3.5]);
        assert_eq!((one.n, one.mean, one.std, one.ci95), (1, 3.5, None, None));
        assert!(summarize(&[]).mean.is_nan());
    }
}
