//! Unit conversions shared by every crate that reports energy.

/// Joules in one watt-hour.
pub const JOULES_PER_WH: f64 = 3_600.0;
/// Joules in one kilowatt-hour.
pub const JOULES_PER_KWH: f64 = 3_600_000.0;

/// Wh per 1,000 queries from J per query: `J/query × 1000 / 3600` = `J/query / 3.6`.
///
/// ```
/// use frugalbench_schema::wh_per_1000_queries;
/// // 36 J per query for 1,000 queries is 36 kJ = 10 Wh.
/// assert_eq!(wh_per_1000_queries(36.0), 10.0);
/// ```
pub fn wh_per_1000_queries(joules_per_query: f64) -> f64 {
    joules_per_query * 1000.0 / JOULES_PER_WH
}

/// Grams of CO2e for `joules` at a grid intensity (g/kWh) and PUE: `J / 3.6e6 × intensity × pue`.
pub fn grams_co2e(joules: f64, grid_intensity_g_per_kwh: f64, pue: f64) -> f64 {
    joules / JOULES_PER_KWH * grid_intensity_g_per_kwh * pue
}

/// `amount / count`, or 0 when `count` is 0 (nothing metered means nothing per unit).
pub fn per(amount: f64, count: u64) -> f64 {
    if count == 0 {
        0.0
    } else {
        amount / count as f64
    }
}

/// The sum of `values`, starting from +0.0: an empty sum is `0`, never `-0` (Rust's float
/// `Sum` starts from −0.0, which would reach result files of runs with no repetition as `-0.0`).
pub fn sum(values: impl IntoIterator<Item = f64>) -> f64 {
    values.into_iter().fold(0.0, |a, b| a + b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wh_per_1000_is_j_per_query_over_3_6() {
        assert_eq!(wh_per_1000_queries(3.6), 1.0);
        assert_eq!(wh_per_1000_queries(36.0), 10.0);
        assert_eq!(wh_per_1000_queries(0.0), 0.0);
    }

    #[test]
    fn an_empty_sum_is_positive_zero() {
        assert!(sum([]).is_sign_positive());
        assert_eq!(sum([1.5, 2.0]), 3.5);
    }

    #[test]
    fn grams_at_world_default() {
        // 3.6 MJ = 1 kWh at 475 g/kWh and PUE 1.2 → 570 g.
        assert!((grams_co2e(3.6e6, 475.0, 1.2) - 570.0).abs() < 1e-9);
    }
}
