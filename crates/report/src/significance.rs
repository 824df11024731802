//! Significance of a difference between two small samples (per-repetition J/query):
//! Welch's unequal-variance t-test and a deterministic bootstrap confidence interval of the
//! ratio of means.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::stats::{mean, std_dev};

/// Outcome of [`welch_t_test`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Welch {
    /// t = (mean(b) − mean(a)) / √(s²a/na + s²b/nb); ±∞ when both variances are 0 and the
    /// means differ, 0 when they are equal.
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom (NaN when both variances are 0).
    pub dof: f64,
    /// Two-sided p-value: 2·(1 − F(|t|)) under Student's t with `dof` degrees of freedom;
    /// 0 or 1 when both variances are 0 (means differ or not).
    pub p_two_sided: f64,
}

/// Welch's t-test of `b` against `a` (e.g. NEW against BASE); `None` when either side has
/// fewer than two values or any value is not finite.
pub fn welch_t_test(a: &[f64], b: &[f64]) -> Option<Welch> {
    if a.len() < 2 || b.len() < 2 || a.iter().chain(b).any(|v| !v.is_finite()) {
        return None;
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (ma, mb) = (mean(a)?, mean(b)?);
    let (va, vb) = (std_dev(a)?.powi(2) / na, std_dev(b)?.powi(2) / nb);
    let se2 = va + vb;
    if se2 <= 0.0 {
        // No spread at all: any difference is certain, no difference is none.
        let differ = ma != mb;
        return Some(Welch {
            t: if differ {
                f64::INFINITY.copysign(mb - ma)
            } else {
                0.0
            },
            dof: f64::NAN,
            p_two_sided: if differ { 0.0 } else { 1.0 },
        });
    }
    let t = (mb - ma) / se2.sqrt();
    let dof = se2 * se2 / (va * va / (na - 1.0) + vb * vb / (nb - 1.0));
    let dist = StudentsT::new(0.0, 1.0, dof).ok()?;
    let p = (2.0 * (1.0 - dist.cdf(t.abs()))).clamp(0.0, 1.0);
    Some(Welch {
        t,
        dof,
        p_two_sided: p,
    })
}

/// Percentile bootstrap 95% interval of mean(b) / mean(a): `resamples` times, draw each side
/// with replacement (its own size), take the ratio of the means; report the 2.5th and 97.5th
/// percentiles (type 7). Deterministic for a given `seed` (ChaCha8). Resamples whose mean(a)
/// is 0 are skipped. `None` when a side is empty, a value is not finite, or no resample had a
/// non-zero mean(a).
pub fn bootstrap_ratio_ci95(
    a: &[f64],
    b: &[f64],
    resamples: usize,
    seed: u64,
) -> Option<(f64, f64)> {
    if a.is_empty() || b.is_empty() || a.iter().chain(b).any(|v| !v.is_finite()) {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let draw = |xs: &[f64], rng: &mut ChaCha8Rng| -> f64 {
        let s: f64 = (0..xs.len())
            .map(|_| xs[rng.random_range(0..xs.len())])
            .sum();
        s / xs.len() as f64
    };
    let mut ratios = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        let ma = draw(a, &mut rng);
        let mb = draw(b, &mut rng);
        if ma != 0.0 {
            ratios.push(mb / ma);
        }
    }
    Some((
        crate::stats::percentile(&ratios, 2.5)?,
        crate::stats::percentile(&ratios, 97.5)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welch_matches_a_textbook_example() {
        // Reference values computed independently (Python: statistics.variance for the
        // sample variances, Simpson integration of the Student-t density for p):
        // t = 3.400683, dof = 7.898904, p = 0.0095298.
        let a = [19.8, 20.4, 19.6, 17.8, 18.5];
        let b = [21.5, 20.0, 22.1, 20.9, 22.3];
        let w = welch_t_test(&a, &b).unwrap();
        let ma = a.iter().sum::<f64>() / 5.0;
        let mb = b.iter().sum::<f64>() / 5.0;
        assert!(w.t > 0.0, "NEW larger gives a positive t: {w:?}");
        assert!((mb - ma - 2.14).abs() < 1e-9);
        assert!((w.t - 3.400683).abs() < 1e-5, "{w:?}");
        assert!((w.dof - 7.898904).abs() < 1e-5, "{w:?}");
        assert!((w.p_two_sided - 0.0095298).abs() < 1e-6, "{w:?}");
    }

    #[test]
    fn welch_needs_two_values_per_side() {
        assert!(welch_t_test(&[1.0], &[1.0, 2.0]).is_none());
        assert!(welch_t_test(&[1.0, f64::NAN], &[1.0, 2.0]).is_none());
    }

    #[test]
    fn welch_without_spread_is_certain() {
        let w = welch_t_test(&[1.0, 1.0], &[2.0, 2.0]).unwrap();
        assert_eq!((w.t, w.p_two_sided), (f64::INFINITY, 0.0));
        let w = welch_t_test(&[1.0, 1.0], &[1.0, 1.0]).unwrap();
        assert_eq!((w.t, w.p_two_sided), (0.0, 1.0));
    }

    #[test]
    fn welch_sees_no_difference_in_noise() {
        let w = welch_t_test(&[1.0, 1.2, 0.9], &[1.1, 0.95, 1.05]).unwrap();
        assert!(w.p_two_sided > 0.5, "{w:?}");
    }

    #[test]
    fn bootstrap_is_deterministic_and_brackets_the_ratio() {
        let a = [1.0, 1.1, 0.9, 1.05];
        let b = [1.5, 1.6, 1.45, 1.55];
        let ci = bootstrap_ratio_ci95(&a, &b, 5_000, 7).unwrap();
        assert_eq!(ci, bootstrap_ratio_ci95(&a, &b, 5_000, 7).unwrap());
        let ratio = 1.525 / 1.0125;
        assert!(ci.0 < ratio && ratio < ci.1, "{ci:?}");
        assert!(ci.0 > 1.3 && ci.1 < 1.75, "{ci:?}");
        // One value per side: the ratio itself.
        assert_eq!(
            bootstrap_ratio_ci95(&[2.0], &[3.0], 100, 1),
            Some((1.5, 1.5))
        );
        assert_eq!(bootstrap_ratio_ci95(&[0.0], &[3.0], 100, 1), None);
    }
}
