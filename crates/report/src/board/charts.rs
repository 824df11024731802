//! Charts drawn with plotters, each written as SVG and PNG: the energy bar chart of a table,
//! the accuracy-vs-energy scatter with its Pareto front, a run's power timeline (from its
//! sibling CSV), and a run's energy per repetition and per domain.
//!
//! Every chart is a [`Chart`]: one drawing routine, rendered by [`render`] to both backends.
//! Text is passed to plotters as text, which escapes it in SVG; long names are shortened and
//! control and bidi characters replaced ([`shorten`], [`crate::display::sanitize`]), and the
//! finished SVG is swept once more ([`crate::display::sanitize_markup`]).
//!
//! Axes never get a non-finite, absurdly wide or degenerate range: every range goes through
//! [`axis`] (and values drawn are clamped into it), so even a result that escaped the sanity
//! rules cannot make plotters' tick computation loop.

use std::fs;
use std::path::Path;

use anyhow::{anyhow, Context};
use plotters::coord::cartesian::Cartesian2d;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::rank::{Row, Table};
use crate::display::{num, sanitize, sanitize_markup};
use crate::result::RunResult;

/// Result of one drawing routine.
pub type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// The legend every chart with series labels draws, in one style.
fn draw_legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> DrawResult<DB> {
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(GREY)
        .label_font((FONT, 13))
        .position(position)
        .draw()
}

/// Something drawable at a fixed pixel size.
pub trait Chart {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws onto `root` (already sized).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// File names (relative to the folder) of one rendered chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartFiles {
    pub svg: String,
    pub png: String,
}

/// Renders `chart` as `<dir>/<stem>.svg` and `<dir>/<stem>.png`.
pub fn render<C: Chart>(chart: &C, dir: &Path, stem: &str) -> anyhow::Result<ChartFiles> {
    let size = chart.size();
    let svg_name = format!("{stem}.svg");
    let png_name = format!("{stem}.png");
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        chart
            .draw(&root)
            .map_err(|e| anyhow!("drawing {svg_name}: {e}"))?;
        root.present()
            .map_err(|e| anyhow!("drawing {svg_name}: {e}"))?;
    }
    fs::write(dir.join(&svg_name), sanitize_markup(&svg).as_bytes())
        .with_context(|| format!("writing {}", dir.join(&svg_name).display()))?;
    let png_path = dir.join(&png_name);
    {
        let root = BitMapBackend::new(&png_path, size).into_drawing_area();
        chart.draw(&root).map_err(|e| {
            anyhow!("drawing {png_name} (PNG text needs a fontconfig sans-serif font): {e}")
        })?;
        root.present()
            .map_err(|e| anyhow!("writing {}: {e}", png_path.display()))?;
    }
    Ok(ChartFiles {
        svg: svg_name,
        png: png_name,
    })
}

/// The name of the row drawn at height `y` (rows at integer heights, the first on top), or
/// nothing between rows.
fn row_label(names: &[String], y: f64) -> String {
    let r = y.round();
    if (y - r).abs() > 1e-6 || r < 0.0 || r >= names.len() as f64 {
        return String::new();
    }
    names[names.len() - 1 - r as usize].clone()
}

/// Largest magnitude on a chart axis; figures beyond are drawn at the edge.
pub const AXIS_LIMIT: f64 = 1e15;
/// Smallest positive value on a log axis.
pub const LOG_AXIS_MIN: f64 = 1e-12;

/// A safe axis range from the data's `lo` and `hi`: non-finite ends fall back to the other
/// end (or 0), both are clamped to ±[`AXIS_LIMIT`], and the range is widened to at least a
/// millionth of its magnitude (and 1e-9), so its width is finite, positive and large enough
/// for tick steps to advance in f64.
pub fn axis(lo: f64, hi: f64) -> (f64, f64) {
    let fix = |v: f64, other: f64| {
        if v.is_finite() {
            v
        } else if other.is_finite() {
            other
        } else {
            0.0
        }
    };
    let (lo, hi) = (fix(lo, hi), fix(hi, lo));
    let (lo, hi) = (lo.min(hi), lo.max(hi));
    let (lo, hi) = (
        lo.clamp(-AXIS_LIMIT, AXIS_LIMIT),
        hi.clamp(-AXIS_LIMIT, AXIS_LIMIT),
    );
    let min_width = (lo.abs().max(hi.abs()) * 1e-6).max(1e-9);
    if hi - lo >= min_width {
        (lo, hi)
    } else {
        let mid = lo / 2.0 + hi / 2.0;
        (mid - min_width, mid + min_width)
    }
}

/// `v` drawn on an axis `(lo, hi)` from [`axis`]: clamped into it (NaN to `lo`).
fn on_axis(v: f64, (lo, hi): (f64, f64)) -> f64 {
    if v.is_nan() {
        lo
    } else {
        v.clamp(lo, hi)
    }
}

/// Upper end of an axis starting at 0 for non-negative data with largest value `max`:
/// `max × headroom`, 1 when there is no positive finite value.
fn axis_from_zero(max: f64, headroom: f64) -> (f64, f64) {
    if max.is_finite() && max > 0.0 {
        axis(0.0, max.min(AXIS_LIMIT) * headroom)
    } else {
        (0.0, 1.0)
    }
}

/// `s` with control and bidi characters replaced ([`sanitize`]), cut to `max` characters,
/// with `…` when cut.
pub fn shorten(s: &str, max: usize) -> String {
    let s = sanitize(s);
    let mut chars = s.chars();
    let head: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() {
        let head: String = head.chars().take(max.saturating_sub(1)).collect();
        format!("{head}…")
    } else {
        head
    }
}

/// The colour of a star level (5 = green … 1 = red).
pub fn star_color(stars: u8) -> RGBColor {
    match stars {
        5 => RGBColor(26, 152, 80),
        4 => RGBColor(145, 207, 96),
        3 => RGBColor(230, 190, 40),
        2 => RGBColor(252, 141, 89),
        _ => RGBColor(215, 48, 39),
    }
}

const FONT: &str = "sans-serif";
const INK: RGBColor = RGBColor(33, 33, 33);
const GREY: RGBColor = RGBColor(150, 150, 150);

fn caption_for(table: &Table) -> String {
    format!(
        "{} · {} · {}",
        table.task,
        table.method.as_str(),
        shorten(&table.hardware, 50)
    )
}

/// Horizontal bars of Wh per 1,000 queries per model of a table, most frugal on top, coloured
/// by stars, with the 95% CI as a whisker.
pub struct EnergyBars<'a> {
    pub table: &'a Table,
}

impl Chart for EnergyBars<'_> {
    fn size(&self) -> (u32, u32) {
        (900, 110 + 34 * self.table.rows.len().max(1) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let rows = &self.table.rows;
        let n = rows.len().max(1);
        root.fill(&WHITE)?;
        let xmax = rows
            .iter()
            .map(|r| {
                r.wh_per_1000_ci95
                    .map_or(r.wh_per_1000_queries, |c| c[1].max(r.wh_per_1000_queries))
            })
            .filter(|v| v.is_finite())
            .fold(0.0_f64, f64::max);
        let x_axis = axis_from_zero(xmax, 1.2);
        let x = |v: f64| on_axis(v, x_axis);
        let names: Vec<String> = rows.iter().map(|r| shorten(&r.model, 30)).collect();
        // Row i is drawn at y = n-1-i so the most frugal is on top.
        let at = |i: usize| (n - 1 - i) as f64;
        let mut chart = bar_frame(
            root,
            format!("Energy per 1,000 queries — {}", caption_for(self.table)),
            &names,
            30,
            x_axis.1,
            "Wh per 1,000 queries (gross; lower is better)",
        )?;
        chart.draw_series(rows.iter().enumerate().map(|(i, r)| {
            Rectangle::new(
                [
                    (0.0, at(i) - 0.35),
                    (x(r.wh_per_1000_queries), at(i) + 0.35),
                ],
                r.stars.map_or(GREY, star_color).filled(),
            )
        }))?;
        for (i, r) in rows.iter().enumerate() {
            let y = at(i);
            if let Some([lo, hi]) = r.wh_per_1000_ci95 {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(x(lo.max(0.0)), y), (x(hi), y)],
                    INK.stroke_width(2),
                )))?;
            }
            let end = r
                .wh_per_1000_ci95
                .map_or(r.wh_per_1000_queries, |c| c[1].max(r.wh_per_1000_queries));
            chart.draw_series(std::iter::once(Text::new(
                match r.stars {
                    Some(s) => format!("  {} ({s}★)", num(r.wh_per_1000_queries)),
                    None => format!("  {} (not rated)", num(r.wh_per_1000_queries)),
                },
                (x(end), y),
                (FONT, 13)
                    .into_font()
                    .color(&INK)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            )))?;
        }
        Ok(())
    }
}

/// Quality against Wh per 1,000 queries for a table's models, Pareto front highlighted and
/// joined. Energy on a log scale when it spans more than a factor of 10.
pub struct ParetoScatter<'a> {
    pub table: &'a Table,
}

impl ParetoScatter<'_> {
    /// The rows that have the table's quality metric.
    fn judged(&self) -> Vec<&Row> {
        self.table
            .rows
            .iter()
            .filter(|r| r.pareto.is_some() && r.quality.is_some())
            .collect()
    }

    /// Whether there is anything to plot.
    pub fn has_points(&self) -> bool {
        !self.judged().is_empty()
    }
}

impl Chart for ParetoScatter<'_> {
    fn size(&self) -> (u32, u32) {
        (900, 560)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let rows = self.judged();
        let wh: Vec<f64> = rows
            .iter()
            .map(|r| r.wh_per_1000_queries)
            .filter(|v| v.is_finite())
            .map(|v| v.clamp(0.0, AXIS_LIMIT))
            .collect();
        let (wmin, wmax) = (
            wh.iter().copied().fold(f64::INFINITY, f64::min),
            wh.iter().copied().fold(0.0_f64, f64::max),
        );
        if wmin > 0.0 && wmax / wmin > 10.0 {
            let lo = (wmin / 1.6).max(LOG_AXIS_MIN);
            let hi = (wmax * 1.6).min(AXIS_LIMIT).max(lo * 10.0);
            self.draw_on(root, (lo..hi).log_scale(), (lo, hi), true)
        } else {
            let wmin = if wmin.is_finite() { wmin } else { 0.0 };
            let pad = ((wmax - wmin) * 0.15).max(wmax * 0.05).max(1e-9);
            let (lo, hi) = axis((wmin - pad).max(0.0), wmax + pad);
            self.draw_on(root, lo..hi, (lo, hi), false)
        }
    }
}

impl ParetoScatter<'_> {
    fn draw_on<DB, X>(
        &self,
        root: &DrawingArea<DB, Shift>,
        x_spec: X,
        x_axis: (f64, f64),
        log: bool,
    ) -> DrawResult<DB>
    where
        DB: DrawingBackend,
        X: AsRangedCoord<Value = f64>,
        X::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        let rows = self.judged();
        let q: Vec<f64> = rows
            .iter()
            .filter_map(|r| r.quality)
            .filter(|v| v.is_finite())
            .map(|v| v.clamp(-AXIS_LIMIT, AXIS_LIMIT))
            .collect();
        let (qmin, qmax) = match q.is_empty() {
            true => (0.0, 1.0),
            false => (
                q.iter().copied().fold(f64::INFINITY, f64::min),
                q.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            ),
        };
        let qpad = ((qmax - qmin) * 0.15).max(0.02);
        let y_axis = axis(qmin - qpad, qmax + qpad);
        // Every point drawn, clamped into the axes.
        let at = |wh: f64, q: f64| (on_axis(wh, x_axis), on_axis(q, y_axis));
        let metric = self.table.quality_metric.clone().unwrap_or_default();
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!("Quality vs energy — {}", caption_for(self.table)),
                (FONT, 18),
            )
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d(x_spec, y_axis.0..y_axis.1)?;
        let fmt = |v: &f64| num(*v);
        let x_desc = format!(
            "Wh per 1,000 queries{} (lower is better)",
            if log { ", log scale" } else { "" }
        );
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .x_label_formatter(&fmt)
            .y_label_formatter(&fmt)
            .x_desc(x_desc)
            .y_desc(format!("{} (higher is better)", shorten(&metric, 30)))
            .label_style((FONT, 13))
            .draw()?;
        let mut front: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| r.pareto == Some(true))
            .filter_map(|r| Some(at(r.wh_per_1000_queries, r.quality?)))
            .collect();
        front.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
        let green = star_color(5);
        chart
            .draw_series(std::iter::once(PathElement::new(
                front.clone(),
                green.stroke_width(2),
            )))?
            .label("Pareto front")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], green.stroke_width(2))
            });
        chart
            .draw_series(
                rows.iter()
                    .filter(|r| r.pareto == Some(false))
                    .filter_map(|r| {
                        Some(Circle::new(
                            at(r.wh_per_1000_queries, r.quality?),
                            5,
                            GREY.stroke_width(2),
                        ))
                    }),
            )?
            .label("dominated")
            .legend(|(x, y)| Circle::new((x + 9, y), 5, GREY.stroke_width(2)));
        chart
            .draw_series(front.iter().map(|&p| Circle::new(p, 6, green.filled())))?
            .label("on the front")
            .legend(move |(x, y)| Circle::new((x + 9, y), 6, green.filled()));
        chart.draw_series(rows.iter().filter_map(|r| {
            let style = (FONT, 12)
                .into_font()
                .color(&INK)
                .pos(Pos::new(HPos::Left, VPos::Center));
            Some(
                EmptyElement::at(at(r.wh_per_1000_queries, r.quality?))
                    + Text::new(shorten(&r.model, 24), (10, 0), style),
            )
        }))?;
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
    }
}

/// A run's power timeline: seconds since the first metered repetition began, watts per domain.
#[derive(Debug, Clone, PartialEq)]
pub struct Timeline {
    /// Column names after `t_s` (e.g. `rapl/package-0 W (measured)`).
    pub series: Vec<String>,
    /// `(t_s, watts per series)`; at most [`Timeline::MAX_POINTS`] points.
    pub points: Vec<(f64, Vec<f64>)>,
    /// Rows skipped because they were not numbers.
    pub skipped_rows: usize,
}

impl Timeline {
    /// Points kept (evenly thinned beyond this).
    pub const MAX_POINTS: usize = 4000;

    /// Parses the timeline CSV `frugalbench run` writes (`t_s,<domain> W (<method>),…`).
    /// Rows that are not all finite numbers are skipped and counted; errors when the header
    /// is not a timeline's or no row is usable.
    pub fn parse(csv_bytes: &[u8]) -> anyhow::Result<Timeline> {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(csv_bytes);
        let header = rdr
            .headers()
            .context("reading the timeline header")?
            .clone();
        if header.get(0) != Some("t_s") || header.len() < 2 {
            anyhow::bail!(
                "not a power timeline: the header must be t_s followed by one column per domain"
            );
        }
        let series: Vec<String> = header.iter().skip(1).map(str::to_string).collect();
        let mut points = Vec::new();
        let mut skipped = 0;
        for rec in rdr.records() {
            let Ok(rec) = rec else {
                skipped += 1;
                continue;
            };
            let vals: Option<Vec<f64>> = rec
                .iter()
                .map(|s| s.trim().parse::<f64>().ok().filter(|v| v.is_finite()))
                .collect();
            match vals {
                Some(v) if v.len() == series.len() + 1 => points.push((v[0], v[1..].to_vec())),
                _ => skipped += 1,
            }
        }
        if points.is_empty() {
            anyhow::bail!("no usable row in the power timeline ({skipped} skipped)");
        }
        if points.len() > Self::MAX_POINTS {
            let step = points.len().div_ceil(Self::MAX_POINTS);
            points = points.into_iter().step_by(step).collect();
        }
        Ok(Timeline {
            series,
            points,
            skipped_rows: skipped,
        })
    }
}

/// Chart of a [`Timeline`].
pub struct TimelineChart<'a> {
    pub timeline: &'a Timeline,
    /// e.g. `model · task (measured)`.
    pub title: String,
}

impl Chart for TimelineChart<'_> {
    fn size(&self) -> (u32, u32) {
        (900, 420)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let pts = &self.timeline.points;
        let t0 = pts.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let t1 = pts.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
        let t0 = t0.min(0.0);
        let t1 = if t1 > t0 { t1 } else { t0 + 1.0 };
        let t_axis = axis(t0, t1);
        let (t0, t1) = t_axis;
        let wmax = pts
            .iter()
            .flat_map(|p| p.1.iter().copied())
            .filter(|v| v.is_finite())
            .fold(0.0_f64, f64::max);
        // Head room for the legend.
        let w_axis = axis_from_zero(wmax, 1.4);
        let wmax = w_axis.1;
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!("Power timeline — {}", shorten(&self.title, 70)),
                (FONT, 18),
            )
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(56)
            .build_cartesian_2d(t0..t1, 0.0..wmax)?;
        let fmt = |v: &f64| num(*v);
        chart
            .configure_mesh()
            .light_line_style(WHITE)
            .x_desc("seconds since the first metered repetition began")
            .y_desc("W")
            .x_label_formatter(&fmt)
            .y_label_formatter(&fmt)
            .label_style((FONT, 13))
            .draw()?;
        for (k, name) in self.timeline.series.iter().enumerate() {
            let color = Palette99::pick(k).to_rgba();
            chart
                .draw_series(LineSeries::new(
                    pts.iter()
                        .map(|(t, w)| (on_axis(*t, t_axis), on_axis(w[k], w_axis))),
                    color.stroke_width(2),
                ))?
                .label(shorten(name, 50))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}

/// One run's J/query per repetition as bars, with the mean as a line.
pub struct RepetitionBars<'a> {
    pub result: &'a RunResult,
}

impl Chart for RepetitionBars<'_> {
    fn size(&self) -> (u32, u32) {
        (900, 380)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let reps = &self.result.repetitions;
        let n = reps.len().max(1);
        let ymax = reps
            .iter()
            .map(|r| r.joules_per_query)
            .filter(|v| v.is_finite())
            .fold(0.0_f64, f64::max);
        // Head room for the legend.
        let y_axis = axis_from_zero(ymax, 1.45);
        let ymax = y_axis.1;
        let y = |v: f64| on_axis(v, y_axis);
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!(
                    "J per query by repetition — {} · {} ({})",
                    shorten(&self.result.model.id, 40),
                    self.result.task,
                    self.result.energy.method.as_str()
                ),
                (FONT, 18),
            )
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5..(n as f64 - 0.5), 0.0..ymax)?;
        let fmt_x = |v: &f64| {
            let r = v.round();
            if (v - r).abs() < 1e-6 && r >= 0.0 && r < n as f64 {
                format!("rep {r}")
            } else {
                String::new()
            }
        };
        let fmt_y = |v: &f64| num(*v);
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .x_labels(n)
            .x_label_formatter(&fmt_x)
            .y_label_formatter(&fmt_y)
            .y_desc("J per query (gross)")
            .label_style((FONT, 13))
            .draw()?;
        let blue = RGBColor(49, 130, 189);
        chart.draw_series(reps.iter().enumerate().map(|(i, r)| {
            let x = i as f64;
            Rectangle::new(
                [(x - 0.3, 0.0), (x + 0.3, y(r.joules_per_query))],
                blue.filled(),
            )
        }))?;
        let m = self.result.energy.joules_per_query;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(-0.5, y(m)), (n as f64 - 0.5, y(m))],
                INK.stroke_width(2),
            )))?
            .label(format!("overall {} J/query", num(m)))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], INK.stroke_width(2)));
        draw_legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}

/// A chart with f64 axes, as [`bar_frame`] sets it up.
type BarChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The frame of a horizontal bar chart: one row per name (row i at y = n − 1 − i, so the
/// first is on top), x from 0 to `xmax`, the names left of the bars in an area sized for at
/// most `max_chars` characters.
fn bar_frame<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    caption: String,
    names: &[String],
    max_chars: usize,
    xmax: f64,
    x_desc: &str,
) -> Result<BarChart<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let n = names.len().max(1);
    let label_area = names
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(8, max_chars) as u32
        * 8
        + 20;
    let mut chart = ChartBuilder::on(root)
        .caption(caption, (FONT, 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(label_area)
        .build_cartesian_2d(0.0..xmax, -0.5..(n as f64 - 0.5))?;
    let fmt_y = |v: &f64| row_label(names, *v);
    let fmt_x = |v: &f64| num(*v);
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(WHITE)
        .y_labels(n)
        .y_label_formatter(&fmt_y)
        .x_label_formatter(&fmt_x)
        .x_desc(x_desc)
        .label_style((FONT, 13))
        .draw()?;
    Ok(chart)
}

/// One run's energy per domain (all domains, counted ones marked).
pub struct DomainBars<'a> {
    pub result: &'a RunResult,
}

impl Chart for DomainBars<'_> {
    fn size(&self) -> (u32, u32) {
        (
            900,
            110 + 34 * self.result.energy.by_source.len().max(1) as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        root.fill(&WHITE)?;
        let src = &self.result.energy.by_source;
        let n = src.len().max(1);
        let names: Vec<String> = src
            .iter()
            .map(|s| {
                let counted = if s.kind.counts_in_total() {
                    ""
                } else {
                    " (not counted)"
                };
                shorten(&format!("{}/{}{counted}", s.name, s.domain), 40)
            })
            .collect();
        let xmax = src
            .iter()
            .map(|s| s.joules)
            .filter(|v| v.is_finite())
            .fold(0.0_f64, f64::max);
        // Room for the value text right of the longest bar.
        let x_axis = axis_from_zero(xmax, 1.7);
        let x = |v: f64| on_axis(v, x_axis);
        let caption = format!(
            "Energy by domain — {} · {}",
            shorten(&self.result.model.id, 40),
            self.result.task
        );
        let mut chart = bar_frame(
            root,
            caption,
            &names,
            40,
            x_axis.1,
            "J over all metered queries",
        )?;
        for (i, s) in src.iter().enumerate() {
            let color = if !s.kind.counts_in_total() {
                GREY
            } else if s.method.is_measured() {
                RGBColor(49, 130, 189)
            } else {
                RGBColor(230, 130, 30)
            };
            let at = (n - 1 - i) as f64;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, at - 0.35), (x(s.joules), at + 0.35)],
                color.filled(),
            )))?;
            let method = if s.method.is_measured() {
                "measured"
            } else {
                "estimated"
            };
            chart.draw_series(std::iter::once(Text::new(
                format!(
                    "  {} J, {} W avg ({method})",
                    num(s.joules),
                    num(s.avg_watts)
                ),
                (x(s.joules), at),
                (FONT, 13)
                    .into_font()
                    .color(&INK)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            )))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_counts_characters() {
        assert_eq!(shorten("abcdef", 10), "abcdef");
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("ééééé", 3), "éé…");
    }

    #[test]
    fn timeline_parses_the_run_format_and_skips_junk() {
        let csv = b"t_s,rapl/package-0 W (measured),rapl/dram-0 W (measured)\n\
                    0.0,50.1,3.9\n0.1,abc,4.0\n0.2,52.0,4.1\n0.3,inf,1\n";
        let t = Timeline::parse(csv).unwrap();
        assert_eq!(t.series.len(), 2);
        assert_eq!(
            t.points,
            vec![(0.0, vec![50.1, 3.9]), (0.2, vec![52.0, 4.1])]
        );
        assert_eq!(t.skipped_rows, 2);
        assert!(Timeline::parse(b"a,b\n1,2\n").is_err());
        assert!(Timeline::parse(b"t_s,x\nfoo,bar\n").is_err());
    }
}
