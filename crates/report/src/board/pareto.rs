//! The accuracy-vs-energy Pareto front, as the Frugal AI Challenge judged accuracy against energy.
//!
//! Model A *dominates* model B when A is at least as accurate (quality ≥, higher is better)
//! and at least as frugal (Wh ≤) and strictly better in one of the two. A model is on the
//! front when no other model dominates it: no other model is both more accurate and more
//! frugal, nor equally good on one axis and better on the other. Two models with identical
//! figures are both on the front (neither dominates). Models without a quality figure have
//! no place on the front.

/// One point: Wh per 1,000 queries (lower is better) and quality (higher is better).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub wh: f64,
    pub quality: Option<f64>,
}

/// Whether `a` dominates `b` (both need a quality).
pub fn dominates(a: Point, b: Point) -> bool {
    match (a.quality, b.quality) {
        (Some(qa), Some(qb)) => qa >= qb && a.wh <= b.wh && (qa > qb || a.wh < b.wh),
        _ => false,
    }
}

/// For each point, in order: `Some(true)` on the front, `Some(false)` dominated, `None` when it
/// has no quality (not judged).
pub fn pareto_front(points: &[Point]) -> Vec<Option<bool>> {
    points
        .iter()
        .map(|&p| {
            p.quality?;
            Some(!points.iter().any(|&o| dominates(o, p)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(wh: f64, q: f64) -> Point {
        Point {
            wh,
            quality: Some(q),
        }
    }

    #[test]
    fn front_keeps_the_trade_offs_only() {
        // The Frugal AI Challenge example: a tiny MLP (70.5%, 0.0127 Wh) and a big encoder
        // (75.8%, 2.79 Wh) are both on the front; a model worse on both axes is not.
        let pts = [
            p(0.0127, 0.705),
            p(2.79, 0.758),
            p(3.0, 0.70),
            p(0.02, 0.705),
        ];
        assert_eq!(
            pareto_front(&pts),
            vec![Some(true), Some(true), Some(false), Some(false)]
        );
    }

    #[test]
    fn equal_on_one_axis_and_worse_on_the_other_is_dominated() {
        let pts = [p(1.0, 0.8), p(2.0, 0.8), p(1.0, 0.7)];
        assert_eq!(
            pareto_front(&pts),
            vec![Some(true), Some(false), Some(false)]
        );
    }

    #[test]
    fn identical_points_are_both_on_the_front() {
        let pts = [p(1.0, 0.8), p(1.0, 0.8)];
        assert_eq!(pareto_front(&pts), vec![Some(true), Some(true)]);
    }

    #[test]
    fn no_quality_is_not_judged_and_dominates_nothing() {
        let pts = [
            Point {
                wh: 0.001,
                quality: None,
            },
            p(5.0, 0.1),
        ];
        assert_eq!(pareto_front(&pts), vec![None, Some(true)]);
    }
}
