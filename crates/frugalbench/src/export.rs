//! `frugalbench export --format codecarbon-csv|boamps|frugal-ai RESULTS... [--out FILE]`: results in other
//! tools' formats ([`frugalbench_report::export`]).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use frugalbench_report::export::{Boamps, CodecarbonCsv, Exporter, FrugalAi};
use frugalbench_report::inputs::{load_all_or_fail, Loaded};
use frugalbench_report::write_atomic;

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// CodeCarbon's emissions.csv columns (energy in kWh, emissions in kg CO2e).
    CodecarbonCsv,
    /// BoAmps JSON reports (Boavizta's AI energy format): one result → one report object,
    /// several → a JSON array of reports; energy in kWh, each measure labelled measured or
    /// estimated.
    Boamps,
    /// The Frugal AI Challenge's submission record (one JSON object per result; an array for
    /// several). Needs results that metered the whole test split once per repetition
    /// (`run --preset frugal-ai`).
    FrugalAi,
}

impl Format {
    /// The exporter of this format: the one place a `--format` becomes a writer.
    fn exporter(self, args: &Args) -> Box<dyn Exporter<[Loaded]>> {
        match self {
            Format::CodecarbonCsv => Box::new(CodecarbonCsv {
                project_name: args.project_name.clone(),
            }),
            Format::Boamps => Box::new(Boamps),
            Format::FrugalAi => Box::new(FrugalAi {
                username: args.username.clone(),
                space_url: args.space_url.clone(),
                model_description: args.model_description.clone(),
            }),
        }
    }
}

/// Options of `frugalbench export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum)]
    pub format: Format,
    /// Result files, or folders searched recursively for *.json. Every file must be valid.
    #[arg(required = true, value_name = "RESULTS")]
    pub results: Vec<PathBuf>,
    /// Write here (atomically, replacing the file) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Prefix of CodeCarbon's project_name column (`<prefix>/<task>/<model>`).
    #[arg(long, value_name = "NAME", default_value = "frugalbench")]
    pub project_name: String,
    /// frugal-ai: the submitter's Hugging Face user name [default: null].
    #[arg(long, value_name = "USER")]
    pub username: Option<String>,
    /// frugal-ai: the submission's Space URL [default: null].
    #[arg(long, value_name = "URL")]
    pub space_url: Option<String>,
    /// frugal-ai: the model description [default: `<model> (<arch>, <dtype>), frugalbench <version>`].
    #[arg(long, value_name = "TEXT")]
    pub model_description: Option<String>,
}

pub fn run(args: &Args) -> Result<i32> {
    if let Some(out) = &args.out {
        check_out_parent(out)?;
    }
    let results = load_all_or_fail(&args.results)?;
    let bytes = args.format.exporter(args).serialize(&results)?;
    match &args.out {
        Some(path) => {
            write_atomic(path, &bytes, true)?;
            eprintln!(
                "frugalbench: wrote {} ({} result{})",
                path.display(),
                results.len(),
                if results.len() == 1 { "" } else { "s" }
            );
        }
        None => std::io::stdout()
            .write_all(&bytes)
            .context("writing to standard output")?,
    }
    Ok(0)
}

/// `--out` goes into an existing folder: a typo in a path must not create folders silently.
fn check_out_parent(out: &std::path::Path) -> Result<()> {
    match out.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => anyhow::bail!(
            "--out {}: folder {} does not exist (create it first)",
            out.display(),
            dir.display()
        ),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_must_go_into_an_existing_folder() {
        let dir = tempfile::tempdir().unwrap();
        let err = check_out_parent(&dir.path().join("missing/x.csv")).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        assert!(!dir.path().join("missing").exists());
        check_out_parent(&dir.path().join("x.csv")).unwrap();
        check_out_parent(std::path::Path::new("x.csv")).unwrap();
    }
}
