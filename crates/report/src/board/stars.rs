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
//!   when `max = min`. One outlier squeezes the others into few bands.

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
    fn rule_names_round_trip() {
        for r in [StarRule::Quintile, StarRule::EqualWidth] {
            assert_eq!(r.as_str().parse::<StarRule>(), Ok(r));
        }
        assert!("thirds".parse::<StarRule>().is_err());
        assert_eq!(star_text(3), "★★★☆☆");
    }
}
