//! The options that define a run's protocol, declared once for `run` and `plan`.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use frugalbench_workloads::catalogue::{Catalogue, ModelEntry, Source};
use frugalbench_workloads::datasets::catalogue::DatasetCatalogue;
use frugalbench_workloads::{runners, Task};

/// Repetitions of the metered block when none is given.
pub const DEFAULT_REPETITIONS: usize = 3;
/// Unmetered warm-up queries when none is given.
pub const DEFAULT_WARMUP: usize = 10;
/// Metered queries per repetition for named models.
pub const DEFAULT_QUERIES: usize = 1000;
/// Metered queries per repetition for the default suite.
pub const DEFAULT_SUITE_QUERIES: usize = 200;
/// Metered queries per repetition for the default suite's generation tasks.
pub const DEFAULT_SUITE_GENERATION_QUERIES: usize = 100;
/// Metered queries per repetition for the default suite's speech tasks: one pass over the 10
/// utterances of the default speech set (a Whisper query transcribes a clip of seconds, tens of
/// encoder queries' work).
pub const DEFAULT_SUITE_SPEECH_QUERIES: usize = 10;

/// Protocol options shared by `frugalbench run` and `frugalbench plan`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ProtocolArgs {
    /// A dataset instead of the shipped one: an id from the dataset catalogue
    /// (datasets.toml; its task is then the run's task), or a JSONL, CSV or
    /// Parquet file with the task's fields (the chosen models must then run a
    /// single task: name it).
    #[arg(long, value_name = "ID|FILE")]
    pub dataset: Option<PathBuf>,
    /// Metered queries per repetition (the dataset is cycled if shorter)
    /// [default: 1000 for named models; the default suite: 200, 100 for generation].
    #[arg(long, short = 'n', value_name = "N")]
    pub queries: Option<usize>,
    /// How many times the metered block is repeated (for a confidence
    /// interval) [default: 3].
    #[arg(long, short = 'r', value_name = "R")]
    pub repetitions: Option<usize>,
    /// Unmetered warm-up queries before the first repetition [default: 10].
    #[arg(long, value_name = "N")]
    pub warmup: Option<usize>,
    /// CPU threads for Candle [default: the number of physical cores].
    #[arg(long, value_name = "T")]
    pub threads: Option<usize>,
    /// The model catalogue [default: ./models.toml if present, else the built-in one].
    #[arg(long, value_name = "FILE")]
    pub catalogue: Option<PathBuf>,
    /// The dataset catalogue that `--dataset ID` looks ids up in [default:
    /// ./datasets.toml if present, else the built-in one].
    #[arg(long, value_name = "FILE")]
    pub datasets_catalogue: Option<PathBuf>,
}

impl ProtocolArgs {
    /// Refuses counts of 0 and a dataset that is not a file.
    pub fn check(&self) -> Result<()> {
        for (name, v) in [
            ("--queries", self.queries),
            ("--repetitions", self.repetitions),
            ("--threads", self.threads),
        ] {
            if v == Some(0) {
                bail!("{name} must be at least 1");
            }
        }
        if let Some(path) = &self.dataset {
            // Not a file: a catalogue id, unless it looks like a path.
            if !path.is_file() && looks_like_a_file(path) {
                bail!("dataset {} does not exist or is not a file", path.display());
            }
        }
        Ok(())
    }

    /// `--dataset` as a catalogue id: the value when it is not an existing file.
    pub fn dataset_id(&self) -> Option<String> {
        self.dataset
            .as_ref()
            .filter(|p| !p.is_file())
            .map(|p| p.to_string_lossy().into_owned())
    }

    /// The dataset catalogue chosen: `--datasets-catalogue`, else `./datasets.toml` when
    /// present, else the built-in one.
    pub fn load_datasets_catalogue(&self) -> Result<DatasetCatalogue> {
        match &self.datasets_catalogue {
            Some(p) => DatasetCatalogue::load(p),
            None if Path::new("datasets.toml").is_file() => DatasetCatalogue::load("datasets.toml"),
            None => DatasetCatalogue::builtin(),
        }
    }

    /// Repetitions, defaulted.
    pub fn repetitions(&self) -> usize {
        self.repetitions.unwrap_or(DEFAULT_REPETITIONS)
    }

    /// Warm-up queries, defaulted.
    pub fn warmup(&self) -> usize {
        self.warmup.unwrap_or(DEFAULT_WARMUP)
    }

    /// The catalogue file chosen: `--catalogue`, else `./models.toml` when present, else
    /// `None` (the built-in one).
    fn chosen_catalogue(&self) -> Option<&Path> {
        match &self.catalogue {
            Some(p) => Some(p.as_path()),
            None if Path::new("models.toml").is_file() => Some(Path::new("models.toml")),
            None => None,
        }
    }

    /// The catalogue file in use as an absolute path (`None` = the built-in one).
    pub fn catalogue_path(&self) -> Result<Option<PathBuf>> {
        let Some(path) = self.chosen_catalogue() else {
            return Ok(None);
        };
        let abs = std::fs::canonicalize(path)
            .with_context(|| format!("cannot read catalogue {}", path.display()))?;
        Ok(Some(abs))
    }

    /// The catalogue in use.
    pub fn load_catalogue(&self) -> Result<Catalogue> {
        match self.chosen_catalogue() {
            Some(path) => Catalogue::load(path),
            None => Catalogue::builtin(),
        }
    }
}

/// Whether a `--dataset` value names a file rather than a catalogue id: it has a folder part
/// or a data file's extension.
fn looks_like_a_file(p: &Path) -> bool {
    p.components().count() > 1
        || p.extension().is_some_and(|e| {
            let e = e.to_string_lossy().to_ascii_lowercase();
            ["jsonl", "ndjson", "csv", "parquet", "json"].contains(&e.as_str())
        })
}

/// Checks, before anything is fetched or metered, that a (model, task) job can run: its arch
/// has a runner for the task, and a local `path` source exists (a folder must not be empty).
pub fn check_job(entry: &ModelEntry, task: Task) -> Result<()> {
    let arches = runners::arches_for(task);
    if !arches.contains(&entry.arch.as_str()) {
        bail!(
            "model `{}`: arch `{}` cannot run {task} (archs for {task}: {})",
            entry.id,
            entry.arch,
            arches.join(", ")
        );
    }
    if let Source::Path(p) = &entry.source {
        if !p.exists() {
            bail!("model `{}`: path {} does not exist", entry.id, p.display());
        }
        if p.is_dir() {
            let empty = std::fs::read_dir(p)
                .with_context(|| format!("model `{}`: cannot list {}", entry.id, p.display()))?
                .next()
                .is_none();
            if empty {
                bail!(
                    "model `{}`: path {} is an empty folder",
                    entry.id,
                    p.display()
                );
            }
        }
    }
    Ok(())
}

/// Checks that results can be written under `out` before any work: the nearest existing
/// folder on its path must be a folder we can create files in.
pub fn check_out_dir(out: &Path) -> Result<()> {
    let mut at = out;
    while !at.exists() {
        match at.parent() {
            Some(p) if !p.as_os_str().is_empty() => at = p,
            _ => {
                at = Path::new(".");
                break;
            }
        }
    }
    if !at.is_dir() {
        bail!(
            "--out {}: {} is not a folder, so no result could be written there",
            out.display(),
            at.display()
        );
    }
    let probe = at.join(format!(".frugalbench-write-check-{}", std::process::id()));
    std::fs::write(&probe, b"")
        .with_context(|| format!("--out {}: cannot write in {}", out.display(), at.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}
