//! Gathering result files named on a command line: files, or folders searched recursively for
//! `*.json`, each checked against the schema ([`crate::read_result`]) and the sanity rules
//! ([`crate::sanity_check`]). A file that fails is kept as a [`Rejected`] entry with every
//! reason, never an error of the whole load, so a leaderboard can list it.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Serialize;

use crate::result::RunResult;
use crate::validate::sanity_check;
use crate::write::{read_result, timeline_path};

/// Largest result file read (bytes); anything bigger is rejected unread.
pub const MAX_RESULT_BYTES: u64 = 64 * 1024 * 1024;

/// Deepest folder level searched below a folder argument.
const MAX_DEPTH: usize = 32;

/// A valid, sane result file.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The file, as found (a folder argument joined with the relative path).
    pub path: PathBuf,
    pub result: RunResult,
    /// The sibling power-timeline CSV when the result names one and it exists.
    pub timeline: Option<PathBuf>,
}

/// A file that could not be used, with every reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// The file, as found.
    pub path: String,
    /// One line per problem (schema violations, sanity rules, read errors).
    pub reasons: Vec<String>,
}

/// The outcome of [`load_inputs`]: usable results and rejected files, each in path order.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub loaded: Vec<Loaded>,
    pub rejected: Vec<Rejected>,
}

/// Expands `paths` (files, or folders searched recursively for `*.json`, hidden entries skipped,
/// symbolic links to folders not followed) into a sorted, de-duplicated list of files.
/// Errors only when an argument does not exist or a folder cannot be listed.
pub fn expand_paths(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = fs::metadata(p).with_context(|| format!("{}: cannot read", p.display()))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(p, 0, &mut found)?;
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(p.clone()));
    Ok(out)
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if depth > MAX_DEPTH {
        bail!(
            "{}: folders nested deeper than {MAX_DEPTH} levels",
            dir.display()
        );
    }
    let entries = fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let kind = entry
            .file_type()
            .with_context(|| format!("reading {}", path.display()))?;
        if kind.is_dir() {
            walk(&path, depth + 1, out)?;
        } else if crate::is_result_file_name(&name.to_string_lossy()) {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads one result file: size limit, JSON, schema ([`read_result`]) and sanity rules.
/// `Err` holds every reason it cannot be used.
pub fn load_one(path: &Path) -> Result<Loaded, Vec<String>> {
    match fs::metadata(path) {
        Ok(m) if m.len() > MAX_RESULT_BYTES => {
            return Err(vec![format!(
                "{} bytes: larger than the {MAX_RESULT_BYTES}-byte limit for a result file",
                m.len()
            )])
        }
        Ok(_) => {}
        Err(e) => return Err(vec![format!("cannot read: {e}")]),
    }
    let result = read_result(path).map_err(|e| {
        // read_result's message starts with the path; the caller shows the path already.
        let text = format!("{e:#}");
        let at = format!("{}: ", path.display());
        let text = text.strip_prefix(&at).unwrap_or(&text).to_string();
        let mut lines = text.lines();
        let head = lines.next().unwrap_or_default().trim_end_matches(':');
        let rest: Vec<String> = lines
            .map(|l| l.trim_start().trim_start_matches("- ").to_string())
            .filter(|l| !l.is_empty())
            .collect();
        if rest.is_empty() {
            vec![head.to_string()]
        } else {
            rest.into_iter().map(|r| format!("{head}: {r}")).collect()
        }
    })?;
    let problems = sanity_check(&result);
    if !problems.is_empty() {
        return Err(problems
            .into_iter()
            .map(|p| format!("sanity: {p}"))
            .collect());
    }
    let timeline = timeline_path(path, &result).filter(|p| p.is_file());
    Ok(Loaded {
        path: path.to_path_buf(),
        result,
        timeline,
    })
}

/// [`expand_paths`], then [`load_one`] on every file.
pub fn load_inputs(paths: &[PathBuf]) -> anyhow::Result<Inputs> {
    let mut inputs = Inputs::default();
    for path in expand_paths(paths)? {
        match load_one(&path) {
            Ok(l) => inputs.loaded.push(l),
            Err(reasons) => inputs.rejected.push(Rejected {
                path: path.display().to_string(),
                reasons,
            }),
        }
    }
    Ok(inputs)
}

/// Loads `paths` and fails, listing every rejected file and reason, if any file is unusable
/// (for commands that must not silently skip input: `compare`, `export`, `report`).
pub fn load_all_or_fail(paths: &[PathBuf]) -> anyhow::Result<Vec<Loaded>> {
    let inputs = load_inputs(paths)?;
    if !inputs.rejected.is_empty() {
        let mut msg = String::new();
        for r in &inputs.rejected {
            msg.push_str(&format!("\n  {}:", r.path));
            for reason in &r.reasons {
                msg.push_str(&format!("\n    - {reason}"));
            }
        }
        bail!("{} unusable result file(s):{msg}", inputs.rejected.len());
    }
    if inputs.loaded.is_empty() {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        bail!("no result file (*.json) found in {}", names.join(", "));
    }
    Ok(inputs.loaded)
}
