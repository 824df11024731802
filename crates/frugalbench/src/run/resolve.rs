//! `RunArgs` → [`RunPlan`]: every option checked and resolved once (like ripgrep's
//! LowArgs → HiArgs). The protocol, the result builder and the writer read the plan only.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use frugalbench_meter::{CarbonIntensity, MeterConfig};
use frugalbench_schema::DatasetOrigin;
use frugalbench_workloads::catalogue::{Catalogue, ModelEntry};
use frugalbench_workloads::datasets::{self, LoadedDataset};
use frugalbench_workloads::{fetch, Task};

use super::protocol;
use super::RunArgs;
use crate::protocol_args::{
    check_job, check_out_dir, DEFAULT_QUERIES, DEFAULT_SUITE_GENERATION_QUERIES,
    DEFAULT_SUITE_QUERIES, DEFAULT_SUITE_SPEECH_QUERIES,
};

/// One (model, task) job.
#[derive(Debug, Clone)]
pub struct Job {
    pub entry: ModelEntry,
    pub task: Task,
}

impl Job {
    /// The dataset this job runs on when `--dataset` is not given: the entry's `dataset`
    /// setting (a file, or a named set such as `fashion-mnist`), else the task's builtin set.
    pub fn dataset_key(&self) -> DatasetKey {
        (
            self.task,
            self.entry
                .setting_str("dataset")
                .ok()
                .flatten()
                .map(str::to_string),
        )
    }
}

/// A task and the entry's own dataset setting (`None`: the task's builtin set or `--dataset`).
pub type DatasetKey = (Task, Option<String>);

/// Text-generation settings.
#[derive(Debug, Clone, Copy)]
pub struct Generation {
    pub max_new_tokens: usize,
    /// 0 = greedy.
    pub temperature: f64,
    /// Used when `temperature` > 0.
    pub seed: u64,
}

/// A `frugalbench run`, resolved: what runs, on what data, how, and where results go.
pub struct RunPlan {
    pub jobs: Vec<Job>,
    /// The evaluation data of each task (and of each entry's own `dataset` setting), read and
    /// checked before any metering.
    pub datasets: BTreeMap<DatasetKey, LoadedDataset>,
    /// Where each catalogue dataset (`--dataset ID`, a preset's set) came from, by task.
    pub dataset_origins: BTreeMap<Task, DatasetOrigin>,
    /// Metered queries per repetition, as given (`--queries`).
    pub queries_given: Option<usize>,
    /// The default suite (no `--model`): fewer queries by default.
    pub suite: bool,
    pub repetitions: usize,
    pub warmup: usize,
    pub batch_size: usize,
    pub generation: Generation,
    pub device: candle_core::Device,
    /// The device as named on the command line (`cpu`, `cuda:0`).
    pub device_name: String,
    pub threads: usize,
    pub meter: MeterConfig,
    /// How long the idle baseline is measured (0: none).
    pub idle: Duration,
    pub carbon: CarbonIntensity,
    pub fetch: fetch::FetchOptions,
    pub out: PathBuf,
    pub save_outputs: bool,
    pub json: bool,
    /// A planned job stops at its first error, which goes whole into its error file.
    pub stop_on_error: bool,
    /// The preset (`--preset`) the run follows, with the options that overrode it.
    pub preset: Option<crate::presets::Applied>,
}

impl RunPlan {
    /// Checks every option and resolves it; reads the catalogue and the datasets.
    pub fn resolve(args: &RunArgs) -> Result<RunPlan> {
        Self::resolve_with(args, None)
    }

    /// [`RunPlan::resolve`] for options a preset has filled in ([`crate::presets::apply`]).
    pub fn resolve_with(
        args: &RunArgs,
        preset: Option<crate::presets::Applied>,
    ) -> Result<RunPlan> {
        args.protocol.check()?;
        if args.batch_size == 0 {
            bail!("--batch-size must be at least 1");
        }
        if !(args.temperature.is_finite() && args.temperature >= 0.0) {
            bail!("--temperature must be 0 (greedy) or positive");
        }
        if args.max_new_tokens == 0 {
            bail!("--max-new-tokens must be at least 1");
        }
        let catalogue = args.protocol.load_catalogue()?;
        let fetch = fetch::FetchOptions {
            cache_dir: args
                .cache_dir
                .clone()
                .unwrap_or_else(fetch::default_cache_dir),
            offline: args.offline,
            verbose: true,
        };
        // `--dataset ID`: a catalogue entry, whose task is the run's task.
        let dataset_entry = match args.protocol.dataset_id() {
            Some(id) => Some(args.protocol.load_datasets_catalogue()?.get(&id)?.clone()),
            None => None,
        };
        let task = match (&dataset_entry, args.task) {
            (Some(e), Some(t)) if e.task != t => {
                bail!("dataset `{}` is a {} dataset, not {t}", e.id, e.task)
            }
            (Some(e), _) => Some(e.task),
            (None, t) => t,
        };
        let jobs = choose_jobs(args, task, &catalogue)?;
        // The whole job list is checked before any model is fetched.
        for job in &jobs {
            check_job(&job.entry, job.task)?;
        }
        check_out_dir(&args.out)?;
        let device = parse_device(&args.device)?;
        // Datasets are read (and checked) before any metering starts, once per task.
        let mut datasets = BTreeMap::new();
        let mut dataset_origins = BTreeMap::new();
        for job in &jobs {
            let key = match &args.protocol.dataset {
                Some(_) => (job.task, None),
                None => job.dataset_key(),
            };
            if let std::collections::btree_map::Entry::Vacant(slot) = datasets.entry(key) {
                let own = slot.key().1.clone();
                slot.insert(match (&dataset_entry, &args.protocol.dataset, own, &preset) {
                    (Some(entry), _, _, _) => {
                        let loaded = entry.load(&fetch)?;
                        dataset_origins.insert(job.task, loaded.origin);
                        loaded.dataset
                    }
                    (None, Some(path), _, _) => datasets::load(job.task, path)?,
                    (None, None, Some(name), _) => {
                        datasets::load(job.task, std::path::Path::new(&name))
                            .with_context(|| format!("model `{}`: setting `dataset`", job.entry.id))?
                    }
                    (None, None, None, Some(p)) => {
                        // The anchor's set, from the dataset catalogue (the entry whose hub
                        // repository is the preset's dataset for this task).
                        let catalogue = args.protocol.load_datasets_catalogue()?;
                        let Some(entry) = p.preset.dataset_id(job.task).and_then(|repo| {
                            catalogue.datasets.iter().find(|e| {
                                e.task == job.task
                                    && matches!(&e.source, frugalbench_workloads::catalogue::Source::Hf(hf) if hf.repo == repo)
                            })
                        }) else {
                            return Err(p.missing_dataset(job.task));
                        };
                        let loaded = entry.load(&fetch).with_context(|| {
                            format!("--preset {}: dataset `{}`", p.preset.name, entry.id)
                        })?;
                        dataset_origins.insert(job.task, loaded.origin);
                        loaded.dataset
                    }
                    (None, None, None, None) => datasets::builtin(job.task)?,
                });
            }
        }
        Ok(RunPlan {
            jobs,
            datasets,
            dataset_origins,
            queries_given: args.protocol.queries,
            suite: args.models.is_empty(),
            repetitions: args.protocol.repetitions(),
            warmup: args.protocol.warmup(),
            batch_size: args.batch_size,
            generation: Generation {
                max_new_tokens: args.max_new_tokens,
                temperature: args.temperature,
                seed: args.seed,
            },
            device,
            device_name: args.device.clone(),
            threads: args.protocol.threads.unwrap_or_else(default_threads),
            meter: args.meter.config()?,
            idle: args.meter.idle()?,
            carbon: args.meter.carbon()?,
            fetch,
            out: args.out.clone(),
            save_outputs: args.save_outputs,
            json: args.json,
            stop_on_error: args.plan.is_some(),
            preset,
        })
    }

    /// Metered queries per repetition for `task`: `--queries`, else 1000 for named models; the
    /// default suite meters 200 per repetition, 100 for the generation tasks (an LLM query costs
    /// tens of encoder queries) and for image classification (a 224×224 CNN pass costs several
    /// sentence embeddings), 10 for speech recognition (one pass over the default clips), so the
    /// whole suite stays near a quarter of an hour on 2 cores.
    pub fn queries_for(&self, task: Task) -> usize {
        if self.queries_given.is_none() && self.preset.as_ref().is_some_and(|p| p.whole_split()) {
            // The whole evaluation split, once (the Frugal AI Challenge's protocol).
            return self
                .datasets
                .get(&(task, None))
                .map_or(1, |d| d.eval_len().max(1));
        }
        match (self.queries_given, self.suite) {
            (Some(q), _) => q,
            (None, false) => DEFAULT_QUERIES,
            (None, true)
                if matches!(
                    task,
                    Task::TextGeneration | Task::Summarization | Task::ImageClassification
                ) =>
            {
                DEFAULT_SUITE_GENERATION_QUERIES
            }
            (None, true) if task == Task::AutomaticSpeechRecognition => {
                DEFAULT_SUITE_SPEECH_QUERIES
            }
            (None, true) => DEFAULT_SUITE_QUERIES,
        }
    }

    /// The dataset of `job` (read when the plan was resolved).
    pub fn dataset_for(&self, job: &Job) -> &LoadedDataset {
        let key = (job.task, None);
        self.datasets
            .get(&job.dataset_key())
            .or_else(|| self.datasets.get(&key))
            .expect("every job's dataset is read when the plan is resolved")
    }

    /// The protocol's settings for a task.
    pub fn protocol_for(&self, task: Task) -> protocol::Settings {
        protocol::Settings {
            queries: self.queries_for(task),
            repetitions: self.repetitions,
            warmup: self.warmup,
            batch_size: self.batch_size,
            // Generation has no gold answers: no point in the extra pass. Summarization and
            // question answering have them, so their unmetered rows are scored too.
            complete_quality: self
                .dataset_origins
                .get(&task)
                .is_none_or(|o| o.no_quality.is_none())
                && match task {
                    Task::TextGeneration => false,
                    Task::SentenceSimilarity
                    | Task::TextClassification
                    | Task::Summarization
                    | Task::QuestionAnswering
                    | Task::ImageClassification
                    | Task::ObjectDetection
                    | Task::AutomaticSpeechRecognition
                    | Task::AudioClassification => true,
                },
        }
    }
}

fn choose_jobs(args: &RunArgs, chosen: Option<Task>, catalogue: &Catalogue) -> Result<Vec<Job>> {
    let mut jobs = Vec::new();
    if args.models.is_empty() {
        for (entry, task) in catalogue.defaults() {
            if chosen.is_none_or(|t| t == task) {
                jobs.push(Job {
                    entry: entry.clone(),
                    task,
                });
            }
        }
        if jobs.is_empty() {
            bail!("the catalogue has no default model for the chosen task; name one with --model");
        }
    } else {
        for id in &args.models {
            let entry = catalogue.get(id)?;
            match chosen {
                Some(task) if entry.tasks.contains(&task) => jobs.push(Job {
                    entry: entry.clone(),
                    task,
                }),
                Some(task) => bail!(
                    "model `{id}` does not declare task {task} (it declares: {})",
                    frugalbench_schema::task::list(&entry.tasks)
                ),
                None => jobs.extend(entry.tasks.iter().map(|&task| Job {
                    entry: entry.clone(),
                    task,
                })),
            }
        }
    }
    if args.protocol.dataset.is_some() {
        let tasks: BTreeSet<Task> = jobs.iter().map(|j| j.task).collect();
        if tasks.len() > 1 {
            bail!("--dataset needs --task when the chosen models run more than one task");
        }
    }
    Ok(jobs)
}

fn default_threads() -> usize {
    sysinfo::System::physical_core_count()
        .ok()
        .or_else(|| std::thread::available_parallelism().ok().map(|n| n.get()))
        .unwrap_or(1)
        .max(1)
}

fn parse_device(spec: &str) -> Result<candle_core::Device> {
    if spec == "cpu" {
        return Ok(candle_core::Device::Cpu);
    }
    if let Some(ord) = spec.strip_prefix("cuda") {
        let ordinal = match ord.strip_prefix(':') {
            Some(n) => n
                .parse::<usize>()
                .with_context(|| format!("bad --device `{spec}`: expected cuda:N"))?,
            None if ord.is_empty() => 0,
            None => bail!("bad --device `{spec}`: expected cpu or cuda:N"),
        };
        return candle_core::Device::new_cuda(ordinal).with_context(|| {
            format!("cannot open {spec} (is this binary built with `--features cuda`?)")
        });
    }
    bail!("bad --device `{spec}`: expected cpu or cuda:N")
}
