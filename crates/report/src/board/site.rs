//! The static leaderboard site: `index.html` (one sortable table per task × hardware × method,
//! a "rejected" section), charts and labels as SVG and PNG, `leaderboard.csv` and
//! `leaderboard.json` (the [`crate::export`] exporters), written as a whole ([`crate::outdir`]).
//!
//! Safety of the page: every piece of text from a result file goes through [`html_escape`]
//! (which also replaces control and bidi characters);
//! the only script is the page's own sorting code, allowed by its SHA-256 in a
//! Content-Security-Policy that forbids every other script, so even an escaping mistake could
//! not run injected code. Works from `file://` without a server.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::charts::{render, ChartFiles, EnergyBars, ParetoScatter, Timeline, TimelineChart};
use super::label::Label;
use super::rank::{slugify, Board, Row, Table};
use super::stars::star_text;
use crate::display::num;
use crate::export::{Exporter, LeaderboardCsv, LeaderboardJson};
use crate::outdir::write_dir_atomically;
use crate::result::{OverallMethod, Task};

/// Escapes `&`, `<`, `>`, `"` and `'` for HTML text and quoted attribute values, and
/// replaces control and bidi characters ([`crate::display::sanitize`]).
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in crate::display::sanitize(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What [`write_site`] wrote.
#[derive(Debug, Clone, Default)]
pub struct SiteSummary {
    pub dir: PathBuf,
    /// Ranked rows over all tables.
    pub ranked: usize,
    pub tables: usize,
    pub rejected: usize,
    pub not_ranked: usize,
    /// Files written (relative to the site folder), sorted.
    pub files: Vec<String>,
    /// Problems that did not stop the build (e.g. an unreadable timeline CSV).
    pub warnings: Vec<String>,
}

/// The exports written beside `index.html`: file name and exporter.
const SITE_EXPORTS: [(&str, &dyn Exporter<Board>); 2] = [
    ("leaderboard.csv", &LeaderboardCsv),
    ("leaderboard.json", &LeaderboardJson),
];

/// Files of one row.
#[derive(Debug, Default)]
struct RowFiles {
    label: Option<ChartFiles>,
    timeline: Option<ChartFiles>,
}

/// Files of one table.
#[derive(Debug, Default)]
struct TableFiles {
    energy: Option<ChartFiles>,
    pareto: Option<ChartFiles>,
    rows: Vec<RowFiles>,
}

const SCRIPT: &str = r#"
(function () {
  function key(cell, num) {
    var v = cell.getAttribute('data-v');
    if (v === null) v = cell.textContent.trim();
    if (!num) return v.toLowerCase();
    var x = parseFloat(v);
    return isNaN(x) ? null : x;
  }
  function sortBy(table, col, th) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var asc = th.getAttribute('aria-sort') !== 'ascending';
    var num = th.getAttribute('data-type') === 'num';
    rows.sort(function (a, b) {
      var x = key(a.cells[col], num), y = key(b.cells[col], num);
      if (x === y) return 0;
      if (x === null) return 1;
      if (y === null) return -1;
      return (x < y ? -1 : 1) * (asc ? 1 : -1);
    });
    Array.prototype.forEach.call(table.querySelectorAll('th'), function (h) {
      h.removeAttribute('aria-sort');
    });
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
    rows.forEach(function (r) { body.appendChild(r); });
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.tabIndex = 0;
      th.addEventListener('click', function () { sortBy(table, col, th); });
      th.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sortBy(table, col, th); }
      });
    });
  });
  document.documentElement.setAttribute('data-sortable', 'ready');
})();
"#;

const STYLE: &str = r#"
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1500px; padding: 0 1.2rem 3rem; color: #212121; }
header { border-bottom: 3px solid #1b5e20; margin-bottom: 1rem; }
h1 { margin: 1rem 0 .3rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ccc; } h3 { margin-bottom: .4rem; }
nav a { margin-right: .8rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; margin: .4rem 0 1rem; }
th, td { border-bottom: 1px solid #e0e0e0; padding: .3rem .45rem; text-align: left; vertical-align: top; }
th { background: #f1f8e9; cursor: pointer; user-select: none; white-space: nowrap; }
th[aria-sort=ascending]::after { content: " \25B2"; } th[aria-sort=descending]::after { content: " \25BC"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.model { font-weight: 600; min-width: 11rem; max-width: 22rem; overflow-wrap: anywhere; }
td.model .muted, td.num .muted { font-weight: 400; font-size: .78rem; }
.scroll { overflow-x: auto; }
.stars { color: #e6a100; letter-spacing: 1px; white-space: nowrap; }
.badge { display: inline-block; padding: .05rem .45rem; border-radius: .6rem; font-size: .8rem; font-weight: 600; color: #fff; }
.badge.measured { background: #1b5e20; } .badge.estimated, .badge.mixed { background: #e66e14; }
.warn { background: #fff3e0; border-left: 4px solid #e66e14; padding: .4rem .7rem; }
tr.front td.pareto { color: #1b5e20; font-weight: 700; }
figure { display: inline-block; margin: .3rem 1rem .8rem 0; vertical-align: top; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: .8rem; color: #555; }
.muted { color: #666; font-size: .85rem; }
ul.reasons { margin: 0; padding-left: 1.1rem; }
code { word-break: break-all; }
"#;

fn csp_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The page's Content-Security-Policy: nothing but its own style and script (by hash) and
/// images from the site itself.
pub fn content_security_policy() -> String {
    format!(
        "default-src 'none'; img-src 'self' file:; style-src {}; script-src {}; \
         base-uri 'none'; form-action 'none'",
        csp_hash(STYLE),
        csp_hash(SCRIPT)
    )
}

fn badge(m: OverallMethod) -> String {
    let s = m.as_str();
    format!("<span class=\"badge {s}\">{}</span>", s.to_uppercase())
}

fn files_link(f: &ChartFiles, dir: &str, text: &str) -> String {
    format!(
        "<a href=\"{dir}/{svg}\">{text}</a> <a class=\"muted\" href=\"{dir}/{png}\">png</a>",
        svg = html_escape(&f.svg),
        png = html_escape(&f.png),
        text = html_escape(text)
    )
}

fn figure(f: &ChartFiles, alt: &str) -> String {
    format!(
        "<figure><img src=\"charts/{svg}\" alt=\"{alt}\" loading=\"lazy\">\
         <figcaption>{alt} · <a href=\"charts/{svg}\">SVG</a> · <a href=\"charts/{png}\">PNG</a></figcaption></figure>\n",
        svg = html_escape(&f.svg),
        png = html_escape(&f.png),
        alt = html_escape(alt)
    )
}

fn num_cell(v: Option<f64>, text: String) -> String {
    match v {
        Some(x) => format!(
            "<td class=\"num\" data-v=\"{x}\">{}</td>",
            html_escape(&text)
        ),
        None => "<td class=\"num\" data-v=\"\">–</td>".to_string(),
    }
}

fn row_html(table: &Table, row: &Row, files: &RowFiles, generation: bool) -> String {
    let mut h = String::new();
    let front = row.pareto == Some(true);
    h.push_str(&format!(
        "<tr class=\"row{}\" data-model=\"{}\">",
        if front { " front" } else { "" },
        html_escape(&row.model)
    ));
    h.push_str(&num_cell(Some(row.rank as f64), row.rank.to_string()));
    h.push_str(&format!(
        "<td class=\"model\">{}<div class=\"muted\">{} · {} · batch {}</div></td>",
        html_escape(&row.model),
        html_escape(&row.arch),
        html_escape(&row.dtype),
        row.batch_size
    ));
    let ci = row
        .wh_per_1000_ci95
        .map(|[lo, hi]| format!("<div class=\"muted\">{}–{}</div>", num(lo), num(hi)))
        .unwrap_or_default();
    h.push_str(&format!(
        "<td class=\"num\" data-v=\"{}\"><strong>{}</strong>{ci}</td>",
        row.wh_per_1000_queries,
        num(row.wh_per_1000_queries)
    ));
    match row.stars {
        Some(s) => h.push_str(&format!(
            "<td class=\"stars\" data-v=\"{s}\" title=\"{s} of 5 stars\">{}</td>",
            star_text(s)
        )),
        None => h.push_str(&format!(
            "<td class=\"stars not-rated\" data-v=\"\">{}</td>",
            html_escape(table.rating.not_rated.as_deref().unwrap_or("not rated"))
        )),
    }
    let q = row
        .quality
        .map(|v| format!("{} {}", row.quality_metric.as_deref().unwrap_or(""), num(v)));
    h.push_str(&num_cell(row.quality, q.unwrap_or_default()));
    let pareto = match row.pareto {
        Some(true) => "◆ front",
        Some(false) => "dominated",
        None => "–",
    };
    h.push_str(&format!(
        "<td class=\"pareto\" data-v=\"{}\">{pareto}</td>",
        match row.pareto {
            Some(true) => 0,
            Some(false) => 1,
            None => 2,
        }
    ));
    h.push_str(&num_cell(
        Some(row.joules_per_query),
        num(row.joules_per_query),
    ));
    if generation {
        h.push_str(&num_cell(
            row.joules_per_generated_token,
            row.joules_per_generated_token.map(num).unwrap_or_default(),
        ));
    }
    h.push_str(&num_cell(
        row.net_wh_per_1000_queries,
        row.net_wh_per_1000_queries.map(num).unwrap_or_default(),
    ));
    h.push_str(&format!(
        "<td>{}<div class=\"muted\">{}</div></td>",
        badge(row.method),
        html_escape(&row.sources)
    ));
    h.push_str(&num_cell(
        Some(row.repetitions as f64),
        format!("{} × {}", row.repetitions, row.queries_per_repetition),
    ));
    h.push_str(&format!(
        "<td data-v=\"{}\">{}</td>",
        html_escape(&row.started_at.to_rfc3339()),
        html_escape(&row.started_at.format("%Y-%m-%d").to_string())
    ));
    let mut links = Vec::new();
    if let Some(f) = &files.label {
        links.push(files_link(f, "labels", "label"));
    }
    if let Some(f) = &files.timeline {
        links.push(files_link(f, "charts", "timeline"));
    }
    h.push_str(&format!("<td>{}</td>", links.join("<br>")));
    h.push_str("</tr>\n");
    h
}

fn table_html(index: usize, table: &Table, files: &TableFiles) -> String {
    let slug = table.slug(index);
    let generation = table.task == Task::TextGeneration;
    let mut h = format!(
        "<article class=\"board\" id=\"{}\">\n<h3>{} {} <span class=\"muted\">· {} model{} · <span class=\"rating\">{}</span></span></h3>\n",
        html_escape(&slug),
        html_escape(&table.hardware),
        badge(table.method),
        table.rows.len(),
        if table.rows.len() == 1 { "" } else { "s" },
        html_escape(&table.rating.describe()),
    );
    match table.method {
        OverallMethod::Measured => {}
        OverallMethod::Estimated => h.push_str(
            "<p class=\"warn\"><strong>Estimated energy, not measured.</strong> These figures \
             come from a power model (e.g. CPU TDP × utilisation), not from energy counters; \
             they are ranked only among themselves and are not comparable with measured \
             tables.</p>\n",
        ),
        OverallMethod::Mixed => h.push_str(
            "<p class=\"warn\"><strong>Partly estimated energy.</strong> Some counted domains \
             were measured, others estimated; ranked only among such results.</p>\n",
        ),
    }
    h.push_str("<div class=\"scroll\"><table class=\"sortable\">\n<thead><tr>");
    let mut heads: Vec<(&str, &str)> = vec![
        ("rank", "num"),
        ("model", "text"),
        ("Wh / 1k queries (95% CI)", "num"),
        ("stars", "num"),
        ("quality", "num"),
        ("Pareto", "num"),
        ("J / query", "num"),
    ];
    if generation {
        heads.push(("J / generated token", "num"));
    }
    heads.extend([
        ("net Wh / 1k (idle out)", "num"),
        ("method · source", "text"),
        ("runs", "num"),
        ("date", "text"),
        ("label · timeline", "text"),
    ]);
    for (name, ty) in heads {
        h.push_str(&format!(
            "<th data-type=\"{ty}\" scope=\"col\">{}</th>",
            html_escape(name)
        ));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for (row, rf) in table.rows.iter().zip(&files.rows) {
        h.push_str(&row_html(table, row, rf, generation));
    }
    h.push_str("</tbody></table></div>\n");
    if let Some(f) = &files.energy {
        h.push_str(&figure(
            f,
            &format!("Energy per 1,000 queries, {}", table.task),
        ));
    }
    if let Some(f) = &files.pareto {
        h.push_str(&figure(
            f,
            &format!("Quality vs energy with the Pareto front, {}", table.task),
        ));
    }
    h.push_str("</article>\n");
    h
}

fn page(board: &Board, files: &[TableFiles], warnings: &[String]) -> String {
    let ranked: usize = board.tables.iter().map(|t| t.rows.len()).sum();
    let mut tasks: Vec<&str> = board.tables.iter().map(|t| t.task.as_str()).collect();
    tasks.dedup();
    let mut h = String::new();
    h.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
         <title>frugalbench leaderboard</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        html_escape(&content_security_policy())
    ));
    h.push_str(&format!(
        "<header>\n<h1>frugalbench leaderboard</h1>\n<p class=\"muted\">Generated {} · \
         <span id=\"count-ranked\">{ranked}</span> results ranked in {} tables · \
         <a href=\"#rejected\"><span id=\"count-rejected\">{}</span> rejected</a> · \
         <a href=\"#not-ranked\">{} not ranked</a> · \
         <a href=\"leaderboard.csv\">CSV</a> · <a href=\"leaderboard.json\">JSON</a></p>\n<nav>",
        html_escape(&board.generated_at.format("%Y-%m-%d %H:%M UTC").to_string()),
        board.tables.len(),
        board.rejected.len(),
        board.not_ranked.len()
    ));
    for t in &tasks {
        h.push_str(&format!(
            "<a href=\"#task-{}\">{}</a>",
            slugify(t),
            html_escape(t)
        ));
    }
    h.push_str("<a href=\"#how\">how to read</a></nav>\n</header>\n<main>\n");
    if board.tables.is_empty() {
        h.push_str("<p class=\"warn\">No valid, complete result to rank.</p>\n");
    }
    let rule = board.star_rule.as_str();
    for task in &tasks {
        h.push_str(&format!(
            "<section class=\"task\" id=\"task-{}\">\n<h2>{}</h2>\n",
            slugify(task),
            html_escape(task)
        ));
        for (i, t) in board.tables.iter().enumerate() {
            if t.task.as_str() == *task {
                h.push_str(&table_html(i, t, &files[i]));
            }
        }
        h.push_str("</section>\n");
    }
    if !warnings.is_empty() {
        h.push_str("<section id=\"warnings\"><h2>Build notes</h2><ul>");
        for w in warnings {
            h.push_str(&format!("<li>{}</li>", html_escape(w)));
        }
        h.push_str("</ul></section>\n");
    }
    h.push_str(&format!(
        "<section id=\"not-ranked\">\n<h2>Not ranked ({})</h2>\n",
        board.not_ranked.len()
    ));
    if board.not_ranked.is_empty() {
        h.push_str("<p class=\"muted\">None.</p>\n");
    } else {
        h.push_str("<table><thead><tr><th>file</th><th>model</th><th>task</th><th>why</th></tr></thead><tbody>\n");
        for n in &board.not_ranked {
            h.push_str(&format!(
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                html_escape(&n.path),
                html_escape(&n.model),
                html_escape(n.task.as_str()),
                html_escape(&n.reason)
            ));
        }
        h.push_str("</tbody></table>\n");
    }
    h.push_str("</section>\n");
    h.push_str(&format!(
        "<section id=\"rejected\">\n<h2>Rejected files ({})</h2>\n\
         <p class=\"muted\">Files that are not valid result files (schema) or break the sanity \
         rules (finite, non-negative energy; consistent sums and durations; known task). They \
         never reach the tables.</p>\n",
        board.rejected.len()
    ));
    if board.rejected.is_empty() {
        h.push_str("<p class=\"muted\">None.</p>\n");
    } else {
        h.push_str("<table id=\"rejected-table\"><thead><tr><th>file</th><th>reasons</th></tr></thead><tbody>\n");
        for r in &board.rejected {
            h.push_str(&format!(
                "<tr class=\"rejected\"><td><code>{}</code></td><td><ul class=\"reasons\">",
                html_escape(&r.path)
            ));
            for reason in &r.reasons {
                h.push_str(&format!("<li>{}</li>", html_escape(reason)));
            }
            h.push_str("</ul></td></tr>\n");
        }
        h.push_str("</tbody></table>\n");
    }
    h.push_str("</section>\n");
    h.push_str(&format!(
        "<section id=\"how\">\n<h2>How to read this board</h2>\n<ul>\n\
         <li><strong>Wh / 1k queries</strong>: gross energy of the metered queries (warm-up and \
         model loading excluded) over the counted domains (CPU package, DRAM, GPU), per 1,000 \
         queries; 95% CI of the mean over repetitions. <em>Net</em> subtracts the idle power \
         measured before the run.</li>\n\
         <li><strong>Tables</strong>: one per task, hardware and method. Measured, estimated \
         and mixed figures are never ranked together; estimated tables carry an orange \
         ESTIMATED badge.</li>\n\
         <li><strong>Stars</strong> ({}): {}. A pool of fewer than five results is not rated: \
         the table says \"not rated (n models; at least 5 needed)\" instead of stars.{}</li>\n\
         <li><strong>Pareto front</strong> (◆): no other model in the table is at least as \
         accurate and at least as frugal while better on one of the two. Models without the \
         table's quality metric are not judged.</li>\n\
         <li>Click a column header to sort (again to reverse).</li>\n</ul>\n</section>\n",
        html_escape(rule),
        html_escape(board.star_rule.describe()),
        match &board.reference_pool {
            Some(p) => html_escape(&format!(
                " Stars are given against {}, measured on {}: each result is placed among \
                 the pool's results of its task, hardware class and method.",
                p.describe(),
                p.machine
            )),
            None => " Stars are given among the models of each table.".to_string(),
        }
    ));
    h.push_str(&format!(
        "</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n"
    ));
    h
}

fn list_files(dir: &Path, prefix: &str, out: &mut Vec<String>) -> std::io::Result<()> {
    for e in fs::read_dir(dir)? {
        let e = e?;
        let name = format!("{prefix}{}", e.file_name().to_string_lossy());
        if e.file_type()?.is_dir() {
            list_files(&e.path(), &format!("{name}/"), out)?;
        } else {
            out.push(name);
        }
    }
    Ok(())
}

/// Renders `chart`; on failure records a warning instead of failing the whole site.
fn try_render<C: super::charts::Chart>(
    chart: &C,
    dir: &Path,
    stem: &str,
    warnings: &mut Vec<String>,
) -> Option<ChartFiles> {
    match render(chart, dir, stem) {
        Ok(f) => Some(f),
        Err(e) => {
            warnings.push(format!("{stem}: {e:#}"));
            None
        }
    }
}

/// Writes the whole site for `board` into `out` (replacing a previous site there; see
/// [`crate::outdir`]).
pub fn write_site(board: &Board, out: &Path) -> anyhow::Result<SiteSummary> {
    write_dir_atomically(out, "leaderboard site", |dir| {
        let charts = dir.join("charts");
        let labels = dir.join("labels");
        fs::create_dir_all(&charts).context("creating charts/")?;
        fs::create_dir_all(&labels).context("creating labels/")?;
        let mut warnings = Vec::new();
        let mut files = Vec::new();
        for (i, t) in board.tables.iter().enumerate() {
            let slug = t.slug(i);
            let mut tf = TableFiles {
                energy: try_render(
                    &EnergyBars { table: t },
                    &charts,
                    &format!("{slug}-energy"),
                    &mut warnings,
                ),
                ..TableFiles::default()
            };
            let scatter = ParetoScatter { table: t };
            if scatter.has_points() {
                tf.pareto = try_render(&scatter, &charts, &format!("{slug}-pareto"), &mut warnings);
            }
            for (j, row) in t.rows.iter().enumerate() {
                let stem = format!("{slug}-{}-{}", j + 1, slugify(&row.model));
                let label = Label::from_row(t.task, row, &t.rating);
                let mut rf = RowFiles {
                    label: try_render(&label, &labels, &stem, &mut warnings),
                    timeline: None,
                };
                if let Some(csv) = &row.timeline {
                    let parsed = fs::read(csv)
                        .with_context(|| format!("reading {}", csv.display()))
                        .and_then(|b| Timeline::parse(&b));
                    match parsed {
                        Ok(tl) => {
                            let chart = TimelineChart {
                                timeline: &tl,
                                title: format!(
                                    "{} · {} ({})",
                                    row.model,
                                    t.task,
                                    row.method.as_str()
                                ),
                            };
                            rf.timeline = try_render(
                                &chart,
                                &charts,
                                &format!("{stem}-timeline"),
                                &mut warnings,
                            );
                        }
                        Err(e) => warnings.push(format!(
                            "timeline of {} not drawn: {}: {e:#}",
                            row.file,
                            csv.display()
                        )),
                    }
                }
                tf.rows.push(rf);
            }
            files.push(tf);
        }
        fs::write(dir.join("index.html"), page(board, &files, &warnings))
            .context("writing index.html")?;
        for (name, exporter) in SITE_EXPORTS {
            let bytes = exporter.serialize(board)?;
            fs::write(dir.join(name), bytes).with_context(|| format!("writing {name}"))?;
        }
        let mut listed = Vec::new();
        list_files(dir, "", &mut listed).context("listing the site")?;
        listed.sort();
        Ok(SiteSummary {
            dir: out.to_path_buf(),
            ranked: board.tables.iter().map(|t| t.rows.len()).sum(),
            tables: board.tables.len(),
            rejected: board.rejected.len(),
            not_ranked: board.not_ranked.len(),
            files: listed,
            warnings,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_html_special_character() {
        assert_eq!(
            html_escape(r#"<script>alert("x" & 'y')</script>"#),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;"
        );
    }

    #[test]
    fn policy_allows_exactly_the_page_script() {
        let csp = content_security_policy();
        assert!(csp.contains(&csp_hash(SCRIPT)));
        assert!(!csp.contains("unsafe-inline"));
        assert!(csp.starts_with("default-src 'none'"));
    }
}
