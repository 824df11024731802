//! An energy label per model, carrying the AI Energy Score label's fields (model, date, task,
//! hardware, Wh per 1,000 queries, stars) plus frugalbench's own (quality, method and sources,
//! the 95% CI, the GPU-only figure when a GPU was metered, the reference pool stars were given
//! against) — and a loud `ESTIMATED` band when the energy is not measured. A pool too small to
//! rate prints "not rated (n models; at least 5 needed)" where the stars would be. Drawn with
//! plotters, so it comes as SVG and PNG like the charts.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::charts::{shorten, star_color, Chart, DrawResult};
use super::pool::PoolRef;
use super::rank::{Rating, Row};
use super::stars::StarRule;
use crate::display::{num, sanitize};
use crate::result::{OverallMethod, RunResult, Task};

/// Stars of a label and the pool they were given in.
#[derive(Debug, Clone, PartialEq)]
pub enum LabelStars {
    Rated {
        stars: u8,
        /// Results in the pool (the board's models, or the reference pool's entries).
        of: usize,
        rule: StarRule,
        /// The reference pool, when rated against one (its version and date are printed).
        pool: Option<PoolRef>,
    },
    /// The pool was too small: the text says so (`not rated (n models; at least 5 needed)`).
    NotRated(String),
}

impl LabelStars {
    /// Filled stars (0 when not rated).
    pub fn filled(&self) -> u8 {
        match self {
            LabelStars::Rated { stars, .. } => *stars,
            LabelStars::NotRated(_) => 0,
        }
    }

    /// The line under the stars.
    pub fn note(&self) -> String {
        match self {
            LabelStars::Rated {
                stars,
                of,
                rule,
                pool: None,
            } => format!(
                "{stars} of 5 stars · {} rule among {of} model{}",
                rule.as_str(),
                if *of == 1 { "" } else { "s" }
            ),
            LabelStars::Rated {
                stars,
                of,
                rule,
                pool: Some(_),
            } => format!(
                "{stars} of 5 stars · {} rule among {of} reference results",
                rule.as_str()
            ),
            LabelStars::NotRated(why) => why.clone(),
        }
    }
}

/// What a label shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub model: String,
    pub task: Task,
    pub wh_per_1000_queries: f64,
    /// The estimate's low–high range of Wh per 1,000 queries (`None` when measured).
    pub wh_range: Option<[f64; 2]>,
    /// 95% CI of the mean, Wh/1k, when the run had ≥ 2 repetitions.
    pub ci95: Option<[f64; 2]>,
    /// GPU-only Wh/1k (the AI Energy Score's figure), when a GPU was metered.
    pub gpu_wh_per_1000_queries: Option<f64>,
    /// `None` for a single run (stars only exist within a board).
    pub stars: Option<LabelStars>,
    /// The reference pool the stars were rated against: `reference pool V (DATE)`.
    pub reference: Option<String>,
    /// The preset the run followed, if any.
    pub preset: Option<String>,
    pub quality: Option<(String, f64)>,
    pub hardware: String,
    /// `YYYY-MM-DD` of the run.
    pub date: String,
    pub method: OverallMethod,
    /// Counted energy sources, e.g. `rapl`.
    pub sources: String,
}

/// Text of a result file as a label shows it ([`sanitize`]d).
fn clean(s: &str) -> String {
    sanitize(s).into_owned()
}

impl Label {
    /// The label of a board row. Every text is [`sanitize`]d: control and bidi characters
    /// never reach the SVG or PNG.
    pub fn from_row(task: Task, row: &Row, rating: &Rating) -> Label {
        let stars = match (row.stars, &rating.not_rated) {
            (Some(stars), _) => LabelStars::Rated {
                stars,
                of: rating.pool_size,
                rule: rating.rule,
                pool: rating.reference_pool.clone(),
            },
            (None, Some(why)) => LabelStars::NotRated(clean(why)),
            (None, None) => {
                LabelStars::NotRated(super::stars::not_rated_text(rating.pool_size, "models"))
            }
        };
        Label {
            model: clean(&row.model),
            task,
            wh_per_1000_queries: row.wh_per_1000_queries,
            wh_range: row.wh_per_1000_range,
            ci95: row.wh_per_1000_ci95,
            gpu_wh_per_1000_queries: row.gpu_wh_per_1000_queries,
            stars: Some(stars),
            reference: rating.reference_pool.as_ref().map(|p| clean(&p.describe())),
            preset: row.preset.as_deref().map(clean),
            quality: row.quality_metric.as_deref().map(clean).zip(row.quality),
            hardware: clean(&row.hardware),
            date: row.started_at.format("%Y-%m-%d").to_string(),
            method: row.method,
            sources: clean(&row.sources),
        }
    }

    /// The label of a single run (no stars), texts [`sanitize`]d.
    pub fn from_result(r: &RunResult) -> Label {
        Label {
            model: clean(&r.model.id),
            task: r.task,
            wh_per_1000_queries: r.energy.wh_per_1000_queries,
            wh_range: r.energy.wh_range(),
            ci95: r.energy.ci95_display().map(|[lo, hi]| {
                [
                    crate::wh_per_1000_queries(lo),
                    crate::wh_per_1000_queries(hi),
                ]
            }),
            gpu_wh_per_1000_queries: super::rank::gpu_wh_per_1000_queries(r),
            stars: None,
            reference: None,
            preset: r.preset.as_ref().map(|p| clean(&p.name)),
            quality: r.quality.as_ref().map(|q| (clean(&q.metric), q.value)),
            hardware: clean(&super::rank::hardware_class(r)),
            date: r.started_at.format("%Y-%m-%d").to_string(),
            method: r.energy.method,
            sources: clean(&super::rank::sources(r)),
        }
    }
}

const W: i32 = 420;
const H: i32 = 690;
const FONT: &str = "sans-serif";
const INK: RGBColor = RGBColor(33, 33, 33);
const MUTED: RGBColor = RGBColor(100, 100, 100);
const HEADER: RGBColor = RGBColor(27, 94, 32);
const ESTIMATE: RGBColor = RGBColor(230, 110, 20);

/// The ten corners of a five-pointed star centred on `(cx, cy)`.
pub fn star_polygon(cx: i32, cy: i32, outer: f64) -> Vec<(i32, i32)> {
    let inner = outer * 0.382;
    (0..10)
        .map(|k| {
            let r = if k % 2 == 0 { outer } else { inner };
            let a = -std::f64::consts::FRAC_PI_2 + k as f64 * std::f64::consts::PI / 5.0;
            (
                cx + (r * a.cos()).round() as i32,
                cy + (r * a.sin()).round() as i32,
            )
        })
        .collect()
}

fn text<'a>(size: u32, color: &'a RGBColor, h: HPos) -> TextStyle<'a> {
    (FONT, size)
        .into_font()
        .color(color)
        .pos(Pos::new(h, VPos::Center))
}

impl Chart for Label {
    fn size(&self) -> (u32, u32) {
        (W as u32, H as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        root.draw(&Rectangle::new(
            [(2, 2), (W - 3, H - 3)],
            INK.stroke_width(3),
        ))?;
        // Header.
        root.draw(&Rectangle::new([(4, 4), (W - 5, 62)], HEADER.filled()))?;
        root.draw(&Text::new(
            "ENERGY LABEL · frugalbench",
            (W / 2, 33),
            text(22, &WHITE, HPos::Center),
        ))?;
        // Model and task.
        root.draw(&Text::new(
            shorten(&self.model, 30),
            (W / 2, 96),
            text(24, &INK, HPos::Center),
        ))?;
        root.draw(&Text::new(
            format!("task: {}", shorten(self.task.as_str(), 36)),
            (W / 2, 128),
            text(16, &MUTED, HPos::Center),
        ))?;
        // Stars.
        let filled = self.stars.as_ref().map_or(0, LabelStars::filled);
        let gold = RGBColor(245, 180, 0);
        let empty = RGBColor(215, 215, 215);
        for k in 0..5 {
            let cx = W / 2 + (k - 2) * 66;
            let pts = star_polygon(cx, 190, 28.0);
            let style = if (k as u8) < filled { gold } else { empty };
            root.draw(&Polygon::new(pts.clone(), style.filled()))?;
            let mut outline = pts;
            outline.push(outline[0]);
            root.draw(&PathElement::new(outline, MUTED.stroke_width(1)))?;
        }
        let star_note = match &self.stars {
            Some(s) => s.note(),
            None => "stars are given on a leaderboard, among comparable models".into(),
        };
        root.draw(&Text::new(
            shorten(&star_note, 62),
            (W / 2, 236),
            text(12, &MUTED, HPos::Center),
        ))?;
        // The figure.
        let band = match &self.stars {
            Some(LabelStars::Rated { stars, .. }) => star_color(*stars),
            _ => MUTED,
        };
        root.draw(&Rectangle::new(
            [(24, 258), (W - 25, 366)],
            band.mix(0.15).filled(),
        ))?;
        root.draw(&Rectangle::new(
            [(24, 258), (W - 25, 366)],
            band.stroke_width(2),
        ))?;
        root.draw(&Text::new(
            num(self.wh_per_1000_queries),
            (W / 2, 300),
            text(44, &INK, HPos::Center),
        ))?;
        let unit = match self.wh_range {
            Some([lo, hi]) => format!("Wh per 1,000 queries (est. {}–{})", num(lo), num(hi)),
            None => "Wh per 1,000 queries".to_string(),
        };
        root.draw(&Text::new(
            unit,
            (W / 2, 344),
            text(
                if self.wh_range.is_some() { 15 } else { 17 },
                &INK,
                HPos::Center,
            ),
        ))?;
        // Method band: loud when estimated.
        let (mcolor, mtext) = match self.method {
            OverallMethod::Measured => (HEADER, format!("MEASURED · {}", self.sources)),
            OverallMethod::Mixed => (ESTIMATE, format!("PARTLY ESTIMATED · {}", self.sources)),
            OverallMethod::Estimated => (
                ESTIMATE,
                format!("ESTIMATED, NOT MEASURED · {}", self.sources),
            ),
        };
        root.draw(&Rectangle::new([(24, 382), (W - 25, 414)], mcolor.filled()))?;
        root.draw(&Text::new(
            shorten(&mtext, 44),
            (W / 2, 398),
            text(15, &WHITE, HPos::Center),
        ))?;
        // Details.
        let quality = self
            .quality
            .as_ref()
            .map_or("not computed".to_string(), |(m, v)| {
                format!("{} {}", shorten(m, 20), num(*v))
            });
        let ci = self
            .ci95
            .map_or("one repetition: no CI".to_string(), |[lo, hi]| {
                format!("{}–{} Wh/1k", num(lo), num(hi))
            });
        let gpu = self
            .gpu_wh_per_1000_queries
            .map_or("no GPU metered".to_string(), |g| {
                format!("{} Wh/1k", num(g))
            });
        let mut lines = vec![
            ("quality", quality),
            ("95% CI", ci),
            ("GPU only", gpu),
            ("hardware", shorten(&self.hardware, 40)),
            ("date", self.date.clone()),
            (
                "energy",
                format!("{} ({})", self.method.as_str(), self.sources),
            ),
        ];
        if let Some(r) = &self.reference {
            lines.push(("rated vs", shorten(r, 40)));
        }
        if let Some(p) = &self.preset {
            lines.push(("preset", shorten(p, 40)));
        }
        for (i, (k, v)) in lines.iter().enumerate() {
            let y = 436 + i as i32 * 28;
            root.draw(&Text::new(
                k.to_string(),
                (30, y),
                text(14, &MUTED, HPos::Left),
            ))?;
            root.draw(&Text::new(v.clone(), (112, y), text(14, &INK, HPos::Left)))?;
        }
        root.draw(&Text::new(
            "gross energy of the metered queries (warm-up and loading excluded)",
            (W / 2, H - 22),
            text(11, &MUTED, HPos::Center),
        ))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_polygon_has_ten_corners_around_the_centre() {
        let p = star_polygon(100, 100, 20.0);
        assert_eq!(p.len(), 10);
        assert_eq!(p[0], (100, 80), "first point straight up");
        assert!(p
            .iter()
            .all(|&(x, y)| (x - 100).pow(2) + (y - 100).pow(2) <= 401));
    }

    #[test]
    fn an_estimated_label_shows_its_range() {
        let label = |wh_range| Label {
            model: "m".into(),
            task: Task::SentenceSimilarity,
            wh_per_1000_queries: 0.07,
            wh_range,
            ci95: None,
            gpu_wh_per_1000_queries: None,
            stars: None,
            reference: None,
            preset: None,
            quality: None,
            hardware: "CPU x".into(),
            date: "2026-12-03".into(),
            method: OverallMethod::Estimated,
            sources: "estimate".into(),
        };
        let dir = tempfile::tempdir().unwrap();
        crate::board::charts::render(&label(Some([0.04, 0.1])), dir.path(), "est").unwrap();
        let svg = std::fs::read_to_string(dir.path().join("est.svg")).unwrap();
        assert!(svg.contains("(est. 0.04–0.1)"), "{svg}");
        crate::board::charts::render(&label(None), dir.path(), "plain").unwrap();
        let svg = std::fs::read_to_string(dir.path().join("plain.svg")).unwrap();
        assert!(!svg.contains("est."), "{svg}");
    }
}
