//! `frugalbench report`: charts and a short Markdown summary of one run, written as a folder
//! ([`crate::outdir`]): `summary.md`, `repetitions.{svg,png}`, `domains.{svg,png}`,
//! `label.{svg,png}` and, when the run's timeline CSV is present, `timeline.{svg,png}`.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::charts::{render, DomainBars, RepetitionBars, Timeline, TimelineChart};
use super::label::Label;
use super::rank::{hardware_class, sources};
use crate::display::{md_cell, num};
use crate::inputs::Loaded;
use crate::outdir::write_dir_atomically;
use crate::result::{OverallMethod, RunResult};
use crate::wh_per_1000_queries;

/// What [`write_run_report`] wrote.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub dir: PathBuf,
    /// File names written, sorted.
    pub files: Vec<String>,
    /// The Markdown summary (also in `summary.md`).
    pub markdown: String,
}

/// The Markdown summary of one run; `charts` lists (title, file) pairs to link.
pub fn summary_markdown(l: &Loaded, charts: &[(&str, String)], notes: &[String]) -> String {
    let r: &RunResult = &l.result;
    let e = &r.energy;
    let mut s = format!(
        "# {} · {}\n\n",
        md_cell(&r.model.id),
        md_cell(r.task.as_str())
    );
    let method_line = match e.method {
        OverallMethod::Measured => format!("**measured** ({})", md_cell(&sources(r))),
        OverallMethod::Estimated => format!(
            "**ESTIMATED, not measured** ({}): a power model, not energy counters",
            md_cell(&sources(r))
        ),
        OverallMethod::Mixed => format!("**partly estimated** ({})", md_cell(&sources(r))),
    };
    let ci = e
        .ci95_display()
        .map(|[lo, hi]| {
            format!(
                " (95% CI {}–{})",
                num(wh_per_1000_queries(lo)),
                num(wh_per_1000_queries(hi))
            )
        })
        .unwrap_or_default();
    s.push_str("| | |\n|---|---|\n");
    let mut row = |k: &str, v: String| s.push_str(&format!("| {k} | {v} |\n"));
    row(
        "Energy",
        format!(
            "**{} Wh per 1,000 queries**{ci} · {} J/query",
            num(e.wh_per_1000_queries),
            num(e.joules_per_query)
        ),
    );
    if let Some(net) = r.net_wh_per_1000() {
        row(
            "Net of idle",
            format!(
                "{} Wh per 1,000 queries (idle {} W subtracted)",
                num(net),
                e.idle_watts.map(num).unwrap_or_default()
            ),
        );
    }
    row("Method", method_line);
    if let Some(q) = &r.quality {
        row(
            "Quality",
            format!("{} {}", md_cell(&q.metric), num(q.value)),
        );
    }
    if let Some(g) = &r.generation {
        row(
            "Generation",
            format!(
                "{} J/generated token · prefill {} J/input token · decode {} J/decode token · {} tokens/s",
                num(g.joules_per_generated_token),
                num(g.prefill_joules_per_input_token),
                num(g.decode_joules_per_generated_token),
                num(g.tokens_per_second)
            ),
        );
    }
    row(
        "Carbon",
        format!(
            "{} g CO2e per 1,000 queries at {} g/kWh, PUE {} ({})",
            num(r.carbon.g_co2e_per_1000_queries),
            num(r.carbon.intensity.grid_intensity_g_per_kwh),
            num(r.carbon.intensity.pue),
            md_cell(&r.carbon.intensity.intensity_source)
        ),
    );
    row(
        "Timing",
        format!(
            "{} queries/s · latency p50 {} ms, p95 {} ms, p99 {} ms",
            num(r.timing.queries_per_second),
            num(r.timing.latency_ms.p50),
            num(r.timing.latency_ms.p95),
            num(r.timing.latency_ms.p99)
        ),
    );
    row(
        "Protocol",
        format!(
            "{} repetitions × {} queries, {} warm-up, batch {}, {} threads, {} on {} · status {}",
            r.repetitions.len(),
            r.settings.queries,
            r.settings.warmup_queries,
            r.settings.batch_size,
            r.settings.threads,
            md_cell(&r.settings.dtype),
            md_cell(&r.settings.device),
            if r.status == crate::result::Status::Complete {
                "complete"
            } else {
                "interrupted"
            }
        ),
    );
    row(
        "Dataset",
        format!("{} ({} rows)", md_cell(&r.dataset.id), r.dataset.rows),
    );
    row("Hardware", md_cell(&hardware_class(r)));
    row(
        "Run",
        format!(
            "{} → {} · {}",
            r.started_at.to_rfc3339(),
            r.finished_at.to_rfc3339(),
            md_cell(&l.path.display().to_string())
        ),
    );
    s.push_str("\n## Repetitions\n\n| # | queries | s | J | J/query | Wh/1k |\n|---:|---:|---:|---:|---:|---:|\n");
    for rep in &r.repetitions {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            rep.index,
            rep.queries,
            num(rep.wall_seconds),
            num(rep.total_joules),
            num(rep.joules_per_query),
            num(wh_per_1000_queries(rep.joules_per_query))
        ));
    }
    s.push_str("\n## Energy by domain\n\n| source | domain | kind | method | J | avg W |\n|---|---|---|---|---:|---:|\n");
    for d in &e.by_source {
        let kind = serde_json::to_value(d.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let counted = if d.kind.counts_in_total() {
            ""
        } else {
            " (not counted)"
        };
        s.push_str(&format!(
            "| {} | {} | {kind}{counted} | {} | {} | {} |\n",
            md_cell(&d.name),
            md_cell(&d.domain),
            if d.method.is_measured() {
                "measured"
            } else {
                "estimated"
            },
            num(d.joules),
            num(d.avg_watts)
        ));
    }
    if !e.notes.is_empty() || !notes.is_empty() {
        s.push_str("\n## Notes\n\n");
        for n in e.notes.iter().chain(notes) {
            s.push_str(&format!("- {}\n", md_cell(n)));
        }
    }
    if !charts.is_empty() {
        s.push_str("\n## Charts\n\n");
        for (title, file) in charts {
            s.push_str(&format!("![{title}]({file})\n\n"));
        }
    }
    s
}

/// Writes the report of one run into `out` (replacing a previous frugalbench output there).
pub fn write_run_report(l: &Loaded, out: &Path) -> anyhow::Result<RunReport> {
    write_dir_atomically(out, "run report", |dir| {
        let r = &l.result;
        let mut charts: Vec<(&str, String)> = Vec::new();
        let mut notes = Vec::new();
        let f = render(&RepetitionBars { result: r }, dir, "repetitions")?;
        charts.push(("J per query by repetition", f.svg));
        let f = render(&DomainBars { result: r }, dir, "domains")?;
        charts.push(("Energy by domain", f.svg));
        let f = render(&Label::from_result(r), dir, "label")?;
        charts.push(("Energy label", f.svg));
        match &l.timeline {
            Some(csv) => {
                let tl = fs::read(csv)
                    .with_context(|| format!("reading {}", csv.display()))
                    .and_then(|b| Timeline::parse(&b));
                match tl {
                    Ok(tl) => {
                        if tl.skipped_rows > 0 {
                            notes.push(format!(
                                "timeline: {} unreadable row(s) skipped",
                                tl.skipped_rows
                            ));
                        }
                        let chart = TimelineChart {
                            timeline: &tl,
                            title: format!(
                                "{} · {} ({})",
                                r.model.id,
                                r.task,
                                r.energy.method.as_str()
                            ),
                        };
                        let f = render(&chart, dir, "timeline")?;
                        charts.push(("Power timeline", f.svg));
                    }
                    Err(e) => notes.push(format!("timeline not drawn: {e:#}")),
                }
            }
            None if r.timeline_csv.is_some() => notes.push(format!(
                "timeline not drawn: {} is not beside the result file",
                r.timeline_csv.as_deref().unwrap_or_default()
            )),
            None => {}
        }
        let md = summary_markdown(l, &charts, &notes);
        fs::write(dir.join("summary.md"), &md).context("writing summary.md")?;
        let mut files: Vec<String> = fs::read_dir(dir)?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        Ok(RunReport {
            dir: out.to_path_buf(),
            files,
            markdown: md,
        })
    })
}
