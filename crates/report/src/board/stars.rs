//! Energy stars, 1 to 5 (5 = most frugal), within one group of comparable results.
//!
//! Two rules, both on Wh per 1,000 queries (lower is better):
//!
//! - [`StarRule::Quintile`] (default): with `n` models and `k` of them strictly more frugal
//!   than a given model, that model gets `5 − ⌊5·k / n⌋` stars. So 5 stars = the most frugal
//!   20% by rank (`k/n < 0.2`), 4 = the next 20%, …, 1 = the least frugal 20%. Ties (equal
//!   Wh) have the same `k` and get the same stars; the most frugal model always gets 5.
//!   With fewer than 5 models not every level is used (n = 1: 5; n = 2: 5, 3;
//!   n = 3: 5, 4, 2; n = 4: 5, 4, 3, 2) — boards show `n` beside the stars.
//! - [`StarRule::EqualWidth`]: the range `[min, max]` split into five equal bands; band
//!   `b = ⌊5·(x − min)/(max − min)⌋` (clamped to 4; a value on a band edge falls in the higher,
//!   less frugal band, except `max`, which is in the last band) gets `5 − b` stars. All 5 stars
//!   when `max = min`. One outlier squeezes the others into few bands. This is the AI Energy
//!   Score's rule ("the GPU energy range for a specific task divided into five equal sections").
//!
//! **Small pools are not rated.** Stars among fewer than [`MIN_POOL`] results say nothing (one
//! model alone would be "5 of 5 stars"), so [`rate_pool`] and [`rate_against`] give `None`
//! there and boards and labels print [`not_rated_text`] instead.
//!
//! **Against a reference pool** ([`rate_against`]): a result is placed among a fixed set of
//! reference results (`--reference-pool`), the way AI Energy Score rates a new model against
//! the bands of its last published board. Quintile: `k` = pool entries strictly more frugal,
//! `n` = pool entries + 1 (the result itself), stars = `5 − ⌊5k/n⌋`. Equal-width: the bands are
//! the pool's `[min, max]` split in five; a result below `min` gets 5 stars, above `max` 1.

use serde::{Deserialize, Serialize};

/// How stars are given within a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StarRule {
    /// Quintiles of the rank (see the module docs).
    #[default]
    Quintile,
    /// Five equal-width bands of the Wh range.
    EqualWidth,
}

impl StarRule {
    /// The rule's name as on the command line: `quintile` or `equal-width`.
    pub fn as_str(self) -> &'static str {
        match self {
            StarRule::Quintile => "quintile",
            StarRule::EqualWidth => "equal-width",
        }
    }

    /// One sentence describing the rule, for pages and exports.
    pub fn describe(self) -> &'static str {
        match self {
            StarRule::Quintile => {
                "quintiles of rank: with n models of which k are strictly more frugal, \
                 stars = 5 − ⌊5k/n⌋ (5 = most frugal 20%; ties share stars)"
            }
            StarRule::EqualWidth => {
                "equal-width bands: the Wh/1k range [min, max] split into 5 equal bands, \
                 5 stars for the lowest band"
            }
        }
    }
}

impl std::str::FromStr for StarRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "quintile" => Ok(StarRule::Quintile),
            "equal-width" => Ok(StarRule::EqualWidth),
            other => Err(format!(
                "unknown star rule {other:?} (use quintile or equal-width)"
            )),
        }
    }
}

/// The fewest results a pool must hold for its stars to mean something.
pub const MIN_POOL: usize = 5;

/// What boards and labels print instead of stars for a pool of `n` results.
pub fn not_rated_text(n: usize, what: &str) -> String {
    format!("not rated ({n} {what}; at least {MIN_POOL} needed)")
}

/// Stars of a whole pool (the folder at hand), or `None` when it holds fewer than
/// [`MIN_POOL`] results.
pub fn rate_pool(wh: &[f64], rule: StarRule) -> Option<Vec<u8>> {
    (wh.len() >= MIN_POOL).then(|| stars(wh, rule))
}

/// Stars of one value `x` placed among a reference `pool` (not containing `x`), or `None`
/// when the pool holds fewer than [`MIN_POOL`] results. See the module docs.
pub fn rate_against(x: f64, pool: &[f64], rule: StarRule) -> Option<u8> {
    if pool.len() < MIN_POOL {
        return None;
    }
    Some(match rule {
        StarRule::Quintile => {
            let n = pool.len() + 1;
            let k = pool.iter().filter(|&&y| y < x).count();
            5 - (5 * k / n) as u8
        }
        StarRule::EqualWidth => {
            let min = pool.iter().copied().fold(f64::INFINITY, f64::min);
            let max = pool.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let width = max - min;
            if x <= min {
                5
            } else if x > max {
                1
            } else if width <= 0.0 {
                5
            } else {
                5 - ((5.0 * (x - min) / width).floor() as i64).clamp(0, 4) as u8
            }
        }
    })
}

/// Stars (1..=5) for each value of `wh` (Wh per 1,000 queries, finite and ≥ 0), in the same
/// order, under `rule`. Empty input gives an empty output.
pub fn stars(wh: &[f64], rule: StarRule) -> Vec<u8> {
    match rule {
        StarRule::Quintile => quintile(wh),
        StarRule::EqualWidth => equal_width(wh),
    }
}

fn quintile(wh: &[f64]) -> Vec<u8> {
    let n = wh.len();
    wh.iter()
        .map(|&x| {
            let k = wh.iter().filter(|&&y| y < x).count();
            5 - (5 * k / n) as u8
        })
        .collect()
}

fn equal_width(wh: &[f64]) -> Vec<u8> {
    let (Some(min), Some(max)) = (
        wh.iter().copied().reduce(f64::min),
        wh.iter().copied().reduce(f64::max),
    ) else {
        return Vec::new();
    };
    let width = max - min;
    wh.iter()
        .map(|&x| {
            if width <= 0.0 {
                return 5;
            }
            let band = ((5.0 * (x - min) / width).floor() as i64).clamp(0, 4) as u8;
            5 - band
        })
        .collect()
}

/// `★★★☆☆`-style text for `n` stars out of 5.
pub fn star_text(n: u8) -> String {
    let n = n.min(5) as usize;
    format!("{}{}", "★".repeat(n), "☆".repeat(5 - n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quintiles_of_ten_give_two_models_per_level() {
        let wh: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(
            stars(&wh, StarRule::Quintile),
            vec![5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
        );
    }

    #[test]
    fn quintiles_ignore_input_order() {
        let wh = [5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(stars(&wh, StarRule::Quintile), vec![1, 5, 2, 4, 3]);
    }

    #[test]
    fn ties_share_stars_and_the_best_tie_counts_from_the_top() {
        let wh = [1.0, 1.0, 1.0, 2.0, 3.0];
        // k = 0 for the three tied models, 3 for 2.0, 4 for 3.0.
        assert_eq!(stars(&wh, StarRule::Quintile), vec![5, 5, 5, 2, 1]);
        assert_eq!(stars(&[7.0; 4], StarRule::Quintile), vec![5; 4]);
    }

    #[test]
    fn small_boards_follow_the_documented_levels() {
        assert_eq!(stars(&[3.0], StarRule::Quintile), vec![5]);
        assert_eq!(stars(&[1.0, 2.0], StarRule::Quintile), vec![5, 3]);
        assert_eq!(stars(&[1.0, 2.0, 3.0], StarRule::Quintile), vec![5, 4, 2]);
        assert_eq!(
            stars(&[1.0, 2.0, 3.0, 4.0], StarRule::Quintile),
            vec![5, 4, 3, 2]
        );
        assert!(stars(&[], StarRule::Quintile).is_empty());
    }

    #[test]
    fn equal_width_bands_follow_the_range_not_the_rank() {
        // Range 0..10, bands of 2: [0,2) 5★, [2,4) 4★, [4,6) 3★, [6,8) 2★, [8,10] 1★.
        let wh = [0.0, 1.9, 2.0, 5.0, 7.99, 8.0, 10.0];
        assert_eq!(stars(&wh, StarRule::EqualWidth), vec![5, 5, 4, 3, 2, 1, 1]);
        // One outlier puts everyone else in the top band.
        let wh = [1.0, 1.1, 1.2, 1.3, 100.0];
        assert_eq!(stars(&wh, StarRule::EqualWidth), vec![5, 5, 5, 5, 1]);
        assert_eq!(stars(&wh, StarRule::Quintile), vec![5, 4, 3, 2, 1]);
        assert_eq!(stars(&[2.0, 2.0], StarRule::EqualWidth), vec![5, 5]);
    }

    #[test]
    fn pools_under_five_are_not_rated() {
        for rule in [StarRule::Quintile, StarRule::EqualWidth] {
            assert_eq!(rate_pool(&[3.0], rule), None, "pool of 1");
            assert_eq!(rate_pool(&[1.0, 2.0, 3.0, 4.0], rule), None, "pool of 4");
            assert_eq!(rate_against(1.0, &[1.0, 2.0, 3.0, 4.0], rule), None);
            assert_eq!(rate_against(1.0, &[], rule), None);
        }
        assert_eq!(
            not_rated_text(1, "models"),
            "not rated (1 models; at least 5 needed)"
        );
    }

    #[test]
    fn a_pool_of_five_is_rated() {
        let wh = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(
            rate_pool(&wh, StarRule::Quintile),
            Some(vec![5, 4, 3, 2, 1])
        );
        // Range 1..5, bands of 0.8: [1,1.8) 5★, [1.8,2.6) 4★, [2.6,3.4) 3★, [3.4,4.2) 2★, rest 1★.
        assert_eq!(
            rate_pool(&wh, StarRule::EqualWidth),
            Some(vec![5, 4, 3, 2, 1])
        );
        // One result against the same five: n = 6 with itself.
        assert_eq!(rate_against(0.5, &wh, StarRule::Quintile), Some(5)); // k = 0
        assert_eq!(rate_against(2.5, &wh, StarRule::Quintile), Some(4)); // k = 2: 5 − ⌊10/6⌋
        assert_eq!(rate_against(9.0, &wh, StarRule::Quintile), Some(1)); // k = 5: 5 − ⌊25/6⌋
        assert_eq!(rate_against(0.5, &wh, StarRule::EqualWidth), Some(5));
        assert_eq!(rate_against(2.5, &wh, StarRule::EqualWidth), Some(4));
        assert_eq!(rate_against(4.5, &wh, StarRule::EqualWidth), Some(1));
        assert_eq!(rate_against(9.0, &wh, StarRule::EqualWidth), Some(1));
    }

    #[test]
    fn a_pool_of_forty_uses_every_level_eight_times() {
        let wh: Vec<f64> = (1..=40).map(f64::from).collect();
        for rule in [StarRule::Quintile, StarRule::EqualWidth] {
            let s = rate_pool(&wh, rule).unwrap();
            for level in 1..=5u8 {
                assert_eq!(
                    s.iter().filter(|&&x| x == level).count(),
                    8,
                    "{rule:?} {level}"
                );
            }
            assert_eq!((s[0], s[39]), (5, 1));
        }
        // Against the forty, the 10th-best value (k = 9 of n = 41) is in the top 5★ quintile
        // only if 5·9/41 < 1: it is not (⌊45/41⌋ = 1) → 4★.
        assert_eq!(rate_against(9.5, &wh, StarRule::Quintile), Some(4));
        assert_eq!(rate_against(8.5, &wh, StarRule::Quintile), Some(5));
    }

    #[test]
    fn rule_names_round_trip() {
        for r in [StarRule::Quintile, StarRule::EqualWidth] {
            assert_eq!(r.as_str().parse::<StarRule>(), Ok(r));
        }
        assert!("thirds".parse::<StarRule>().is_err());
        assert_eq!(star_text(3), "★★★☆☆");
    }
}
