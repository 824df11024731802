//! Gathering result files named on a command line: files, or folders walked for `<stem>.json`
//! result files ([`crate::walk`]), each read with a bounded read and checked against the
//! schema (as [`crate::read_result`] does) and the sanity rules
//! ([`crate::sanity_check`]). A file that fails is kept as a [`Rejected`] entry with every
//! reason, never an error of the whole load, so a leaderboard can list it.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Serialize;
use serde_json::Value;

use crate::result::{RunResult, SCHEMA_VERSION};
use crate::validate::{sanity_check, validate};
use crate::walk::{kind_name, walk_results, Entry};
use crate::write::timeline_path;

/// Largest result file read (bytes); anything bigger is rejected unread. A real result is tens
/// of KB (a few repetitions, a handful of domains and notes), so 8 MiB leaves two orders of
/// magnitude of room while bounding what one hostile file can cost.
pub const MAX_RESULT_BYTES: u64 = 8 * 1024 * 1024;
/// Most items of any one JSON array or object of a result file: checked by [`shape_check`]
/// while the bytes are scanned, before any document is built in memory. (The schema's own
/// limits, e.g. at most [`crate::validate::MAX_NOTES`] notes, are finer.)
pub const MAX_JSON_ITEMS: usize = 10_000;
/// Longest JSON string (bytes) of a result file, checked likewise.
pub const MAX_JSON_STRING_BYTES: usize = 64 * 1024;

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

/// Expands `paths` (files, or folders walked by [`walk_results`]) into a sorted,
/// de-duplicated list of entries: result files, and what the walk skipped with its reason.
/// Errors only when an argument does not exist or a folder argument cannot be listed.
pub fn expand_entries(paths: &[PathBuf]) -> anyhow::Result<Vec<Entry>> {
    let mut out = Vec::new();
    for p in paths {
        let meta = fs::metadata(p).with_context(|| format!("{}: cannot read", p.display()))?;
        if meta.is_dir() {
            out.extend(walk_results(p)?);
        } else {
            out.push(Entry::Result(p.clone()));
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|e| seen.insert(e.path().to_path_buf()));
    Ok(out)
}

/// The files of [`expand_entries`] (skipped entries left out).
pub fn expand_paths(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    Ok(expand_entries(paths)?
        .into_iter()
        .filter_map(|e| match e {
            Entry::Result(p) => Some(p),
            Entry::Skipped { .. } => None,
        })
        .collect())
}

/// Reads at most [`MAX_RESULT_BYTES`] of a regular file, never trusting its reported size
/// alone (a device reports 0) and never waiting on a FIFO: the file is opened non-blocking
/// and checked to be a regular file before any read.
fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options
        .open(path)
        .map_err(|e| format!("cannot read: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        let what = kind_name(&meta.file_type());
        return Err(format!("{what}, not a regular file; not read"));
    }
    let too_big = |n: u64| {
        format!("{n} bytes: larger than the {MAX_RESULT_BYTES}-byte limit for a result file")
    };
    if meta.len() > MAX_RESULT_BYTES {
        return Err(too_big(meta.len()));
    }
    let mut bytes = Vec::new();
    file.take(MAX_RESULT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("reading result file {}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_RESULT_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

/// Scans JSON bytes without building anything and fails on the first array or object of more
/// than [`MAX_JSON_ITEMS`] items or string of more than [`MAX_JSON_STRING_BYTES`] bytes,
/// naming its JSON pointer. A file of a million tiny notes is thus refused in one pass over
/// its bytes instead of costing hundreds of bytes of memory per note. Syntax errors are not
/// reported here (the JSON parser that follows names them).
pub fn shape_check(bytes: &[u8]) -> Result<(), String> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match (Shape { at: String::new() }).deserialize(&mut de) {
        Err(e) if e.classify() == serde_json::error::Category::Data => Err(e.to_string()),
        _ => Ok(()),
    }
}

/// One value of [`shape_check`]'s scan, at JSON pointer `at`.
struct Shape {
    at: String,
}

impl Shape {
    fn child(&self, key: impl std::fmt::Display) -> Shape {
        Shape {
            at: format!("{}/{key}", self.at),
        }
    }

    fn here(&self) -> &str {
        if self.at.is_empty() {
            "(root)"
        } else {
            &self.at
        }
    }

    fn string<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        if v.len() > MAX_JSON_STRING_BYTES {
            return Err(E::custom(format!(
                "{}: a string of {} bytes, more than the {MAX_JSON_STRING_BYTES} a result file \
                 may hold; not read further",
                self.here(),
                v.len()
            )));
        }
        Ok(())
    }

    fn too_many<E: serde::de::Error>(&self, what: &str) -> E {
        E::custom(format!(
            "{}: {what} of more than {MAX_JSON_ITEMS} items, more than a result file may hold; \
             not read further",
            self.here()
        ))
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Shape {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Shape {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.string(v)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut n = 0usize;
        loop {
            if n == MAX_JSON_ITEMS {
                // One more item is one too many.
                if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    return Err(self.too_many("an array"));
                }
                return Ok(());
            }
            if seq.next_element_seed(self.child(n))?.is_none() {
                return Ok(());
            }
            n += 1;
        }
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut n = 0usize;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if n == MAX_JSON_ITEMS {
                return Err(self.too_many("an object"));
            }
            if key.len() > MAX_JSON_STRING_BYTES {
                return Err(serde::de::Error::custom(format!(
                    "{}: a key of {} bytes, more than the {MAX_JSON_STRING_BYTES} a result \
                     file may hold; not read further",
                    self.here(),
                    key.len()
                )));
            }
            let key = crate::display::sanitize(&key)
                .replace('~', "~0")
                .replace('/', "~1");
            map.next_value_seed(self.child(key))?;
            n += 1;
        }
        Ok(())
    }
}

/// A result from its bytes: [`shape_check`], JSON, `schema_version`, schema, then the typed
/// value (the checks of [`crate::read_result`], on bytes already read). `Err` holds every
/// reason it cannot be read (not the sanity rules).
pub(crate) fn parse_result(bytes: &[u8]) -> Result<RunResult, Vec<String>> {
    let one = |s: String| vec![s];
    shape_check(bytes).map_err(|e| one(format!("not read: {e}")))?;
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| one(format!("not valid JSON: {e}")))?;
    match value.get("schema_version") {
        Some(v) if v.as_u64() == Some(u64::from(SCHEMA_VERSION)) => {}
        Some(v) => {
            return Err(one(format!(
                "schema_version {v} is not supported (this build reads version {SCHEMA_VERSION})"
            )))
        }
        None if value.is_object() => {
            return Err(one(
                "no schema_version field; is this a frugalbench result file?".into(),
            ))
        }
        None => return Err(one("a result file must hold a JSON object".into())),
    }
    validate(&value).map_err(|reasons| {
        reasons
            .into_iter()
            .map(|r| format!("does not match the result schema: {r}"))
            .collect::<Vec<_>>()
    })?;
    serde_json::from_value(value).map_err(|e| one(format!("cannot read the result: {e}")))
}

/// Reads one result file: a regular file, at most [`MAX_RESULT_BYTES`] (a bounded read),
/// JSON, schema and sanity rules. `Err` holds every reason it cannot be used.
pub fn load_one(path: &Path) -> Result<Loaded, Vec<String>> {
    let bytes = read_bounded(path).map_err(|e| vec![e])?;
    let result = parse_result(&bytes)?;
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

/// [`expand_entries`], then [`load_one`] on every file; what the walk skipped is rejected
/// with the walk's reason.
pub fn load_inputs(paths: &[PathBuf]) -> anyhow::Result<Inputs> {
    let mut inputs = Inputs::default();
    for entry in expand_entries(paths)? {
        let (path, outcome) = match entry {
            Entry::Result(path) => {
                let outcome = load_one(&path);
                (path, outcome)
            }
            Entry::Skipped { path, reason } => (path, Err(vec![reason])),
        };
        match outcome {
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

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn mkfifo(path: &Path) {
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    }

    #[test]
    fn a_fifo_in_a_folder_is_rejected_without_hanging() {
        let dir = tempfile::tempdir().unwrap();
        mkfifo(&dir.path().join("x.json"));
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("y.json")).unwrap();
        let inputs = load_inputs(&[dir.path().to_path_buf()]).unwrap();
        assert!(inputs.loaded.is_empty());
        let rejected: Vec<(&str, String)> = inputs
            .rejected
            .iter()
            .map(|r| (r.path.rsplit('/').next().unwrap(), r.reasons.join("; ")))
            .collect();
        assert_eq!(rejected.len(), 2, "{rejected:?}");
        assert_eq!(rejected[0].0, "x.json");
        assert!(rejected[0].1.contains("FIFO"), "{}", rejected[0].1);
        assert_eq!(rejected[1].0, "y.json");
        assert!(rejected[1].1.contains("not followed"), "{}", rejected[1].1);
        let err = load_all_or_fail(&[dir.path().to_path_buf()]).unwrap_err();
        assert!(format!("{err:#}").contains("2 unusable"), "{err:#}");
    }

    #[test]
    fn a_fifo_or_device_named_explicitly_is_never_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("x.json");
        mkfifo(&fifo);
        let why = load_one(&fifo).unwrap_err().join("; ");
        assert!(why.contains("a FIFO, not a regular file"), "{why}");
        let why = load_one(Path::new("/dev/zero")).unwrap_err().join("; ");
        assert!(why.contains("character device"), "{why}");
    }

    #[test]
    fn reasons_name_the_problem_without_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            (
                "{\"schema_version\": 1,",
                "not valid JSON: EOF while parsing",
            ),
            (
                "{\"schema_version\": 9}",
                "schema_version 9 is not supported",
            ),
            ("{}", "no schema_version field"),
            ("[1]", "a result file must hold a JSON object"),
            (
                "{\"schema_version\": 1}",
                "does not match the result schema: ",
            ),
        ];
        for (i, (text, want)) in cases.iter().enumerate() {
            let p = dir.path().join(format!("{i}.json"));
            fs::write(&p, text).unwrap();
            let why = load_one(&p).unwrap_err();
            assert!(why[0].starts_with(want), "{text}: {why:?}");
            assert!(!why[0].contains(&*dir.path().to_string_lossy()), "{why:?}");
        }
    }
}
