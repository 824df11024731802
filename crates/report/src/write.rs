//! Writing and reading result files: atomic (temp file in the same folder + fsync + rename),
//! never overwriting unless asked, validated before anything touches the disk.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use chrono::{DateTime, Utc};

use crate::result::RunResult;
use crate::validate::{sanity_check, validate};

/// How many `-N` suffixes [`write_result`] tries before giving up.
const MAX_SUFFIX: u32 = 10_000;

/// Whether a file found while scanning a folder is a result file: `<stem>.json` with a
/// single dot. Files written beside a result are `<stem>.<what>.<ext>` (the timeline
/// `.timeline.csv`, the fitted head `.head.json`, outputs `.outputs.jsonl`) and are not
/// results; hidden files are skipped.
///
/// ```
/// use frugalbench_report::is_result_file_name;
/// assert!(is_result_file_name("2026-11-23T10-15-02Z.json"));
/// assert!(is_result_file_name("2026-11-23T10-15-02Z-1.json"));
/// assert!(!is_result_file_name("2026-11-23T10-15-02Z.head.json"));
/// assert!(!is_result_file_name("2026-11-23T10-15-02Z.timeline.csv"));
/// assert!(!is_result_file_name(".hidden.json"));
/// ```
pub fn is_result_file_name(name: &str) -> bool {
    name.ends_with(".json") && !name.starts_with('.') && name.matches('.').count() == 1
}

/// The file-name stem of a result started at `t`: `2026-11-23T10-15-02Z` (UTC; no colons,
/// which some file systems and tools reject).
pub fn timestamp_stem(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H-%M-%SZ").to_string()
}

/// Makes `s` safe as one path component: `/`, `\`, NUL and control characters become `_`, and
/// an empty, `.` or `..` name becomes `_`. Catalogue ids and task names pass unchanged.
pub fn path_component(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    match cleaned.as_str() {
        "" | "." | ".." => "_".to_string(),
        _ => cleaned,
    }
}

/// `<out_dir>/<task>/<model_id>/<UTC timestamp>.json`, the first name [`write_result`] tries
/// (`task` and `model_id` pass through [`path_component`]).
pub fn result_path(
    out_dir: &Path,
    task: &str,
    model_id: &str,
    started_at: DateTime<Utc>,
) -> PathBuf {
    out_dir
        .join(path_component(task))
        .join(path_component(model_id))
        .join(format!("{}.json", timestamp_stem(started_at)))
}

/// The sibling timeline CSV a result file names, if any.
pub fn timeline_path(result_file: &Path, result: &RunResult) -> Option<PathBuf> {
    let name = result.timeline_csv.as_deref()?;
    Some(result_file.with_file_name(path_component(name)))
}

/// Writes `bytes` to `path` atomically: a temp file (`.<name>.XXXXXX.tmp`) in the same folder,
/// fsync, then rename, then fsync of the folder. Readers see the old state or the whole new
/// file, never a part. With `overwrite = false` an existing `path` is never replaced, even by
/// a concurrent writer (rename with `RENAME_NOREPLACE`, or hard link + unlink): the call fails
/// with an [`io::ErrorKind::AlreadyExists`] root cause. Creates missing parent folders. On any
/// error the temp file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8], overwrite: bool) -> anyhow::Result<()> {
    write_atomic_io(path, bytes, overwrite).map_err(|e| {
        let what = if e.kind() == io::ErrorKind::AlreadyExists {
            format!(
                "refusing to overwrite {}: it already exists",
                path.display()
            )
        } else {
            format!("writing {}", path.display())
        };
        anyhow::Error::new(e).context(what)
    })
}

fn write_atomic_io(path: &Path, bytes: &[u8], overwrite: bool) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name"))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir)?;
    let prefix = format!(".{}.", name.to_string_lossy());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Like a plain create: 0666 minus the umask (tempfile's default is 0600).
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    // On failure the PersistError holds the temp file; dropping it deletes it.
    if overwrite {
        tmp.persist(path).map_err(|e| e.error)?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| e.error)?;
    }
    sync_dir(dir)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

fn bullet_list(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("\n  - {s}"))
        .collect::<String>()
}

/// Writes `result` under `out_dir` at [`result_path`], with `-1`, `-2`, ... appended to the
/// stem when the name is taken (never overwrites; safe against concurrent writers), and the
/// timeline CSV (if given) beside it as `<stem>.timeline.csv`; `timeline_csv` in the written
/// file is set to that name (or removed when no CSV is given). Refuses, before touching the
/// disk, a result that fails the schema or [`sanity_check`], listing every reason. Returns the
/// path of the JSON file.
pub fn write_result(
    out_dir: &Path,
    result: &RunResult,
    timeline_csv: Option<&[u8]>,
) -> anyhow::Result<PathBuf> {
    let what = format!(
        "result for model {:?} on task {}",
        result.model.id, result.task
    );
    let problems = sanity_check(result);
    if !problems.is_empty() {
        bail!(
            "refusing to write an inconsistent {what}:{}",
            bullet_list(&problems)
        );
    }
    let first = result_path(
        out_dir,
        result.task.as_str(),
        &result.model.id,
        result.started_at,
    );
    let dir = first.parent().expect("result_path has a parent");
    let stem = timestamp_stem(result.started_at);
    let mut r = result.clone();
    for n in 0..MAX_SUFFIX {
        let stem_n = if n == 0 {
            stem.clone()
        } else {
            format!("{stem}-{n}")
        };
        let json_path = dir.join(format!("{stem_n}.json"));
        let csv_path = dir.join(format!("{stem_n}.timeline.csv"));
        r.timeline_csv = timeline_csv.map(|_| format!("{stem_n}.timeline.csv"));
        let value = serde_json::to_value(&r).with_context(|| format!("serialising the {what}"))?;
        if let Err(reasons) = validate(&value) {
            bail!(
                "refusing to write a {what} that does not match the result schema:{}",
                bullet_list(&reasons)
            );
        }
        let mut bytes =
            serde_json::to_vec_pretty(&r).with_context(|| format!("serialising the {what}"))?;
        bytes.push(b'\n');

        if let Some(csv) = timeline_csv {
            match write_atomic_io(&csv_path, csv, false) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(anyhow::Error::new(e)
                        .context(format!("writing the timeline {}", csv_path.display())))
                }
            }
        }
        match write_atomic_io(&json_path, &bytes, false) {
            Ok(()) => return Ok(json_path),
            Err(e) => {
                if timeline_csv.is_some() {
                    // We created it just above under a name nobody else claims first.
                    let _ = fs::remove_file(&csv_path);
                }
                if e.kind() != io::ErrorKind::AlreadyExists {
                    return Err(anyhow::Error::new(e)
                        .context(format!("writing the result {}", json_path.display())));
                }
            }
        }
    }
    bail!(
        "no free result name in {} after {MAX_SUFFIX} tries ({stem}.json to {stem}-{}.json exist)",
        dir.display(),
        MAX_SUFFIX - 1
    )
}

/// Reads a result file: valid JSON (error with line and column), a supported
/// `schema_version`, valid against the schema (every violation listed), then parsed. Does not
/// run [`sanity_check`]; callers that rank results should.
pub fn read_result(path: &Path) -> anyhow::Result<RunResult> {
    let at = path.display();
    let bytes = fs::read(path).with_context(|| format!("reading result file {at}"))?;
    crate::inputs::parse_result(&bytes).map_err(|reasons| {
        if reasons.len() == 1 {
            anyhow!("{at}: {}", reasons[0])
        } else {
            anyhow!("{at}:{}", bullet_list(&reasons))
        }
    })
}
