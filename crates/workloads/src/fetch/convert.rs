//! Mirrors in another format than the hf files: converted once into
//! `<cache>/converted/<origin>/`, written to a temporary folder and renamed into place, so an
//! interrupted conversion leaves nothing half-written. Later runs reuse the folder.
//!
//! The located files are the catalogue's hf files from that folder, plus the mirror's originals
//! under `ctranslate2/<name>`, so the result file records the hashes of both.

use anyhow::{bail, Context, Result};

use super::Located;
use crate::catalogue::{MirrorFormat, ModelEntry, Source};

/// Bump when the conversion's output changes, so stale conversions are redone.
const CONVERTER_VERSION: u32 = 1;

pub(super) fn converted(
    entry: &ModelEntry,
    format: MirrorFormat,
    loc: Located,
    opts: &super::FetchOptions,
) -> Result<Located> {
    match format {
        MirrorFormat::Ctranslate2 => ctranslate2(entry, loc, opts),
    }
}

fn ctranslate2(entry: &ModelEntry, loc: Located, opts: &super::FetchOptions) -> Result<Located> {
    let find = |name: &str| {
        loc.files
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.clone())
    };
    let model_bin = find("model.bin")
        .with_context(|| format!("the CTranslate2 mirror {} has no model.bin", loc.origin))?;
    let ct2_config = find("config.json");
    let tokenizer = find("tokenizer.json").with_context(|| {
        format!(
            "the CTranslate2 mirror {} has no tokenizer.json",
            loc.origin
        )
    })?;
    let key: String = format!("{}-v{CONVERTER_VERSION}", loc.origin)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-=+".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let parent = opts.cache_dir.join("converted");
    let out = parent.join(&key);
    if !out.join("model.safetensors").is_file() {
        std::fs::create_dir_all(&parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        let tmp = tempfile::Builder::new()
            .prefix("converting-")
            .tempdir_in(&parent)
            .with_context(|| format!("cannot create a folder in {}", parent.display()))?;
        eprintln!(
            "fetch {}: converting the CTranslate2 model {} to safetensors (once)",
            entry.id,
            model_bin.display()
        );
        super::ct2_whisper::convert(&model_bin, ct2_config.as_deref(), tmp.path())?;
        std::fs::copy(&tokenizer, tmp.path().join("tokenizer.json"))
            .with_context(|| format!("cannot copy {}", tokenizer.display()))?;
        let _ = std::fs::remove_dir_all(&out);
        std::fs::rename(tmp.path(), &out)
            .with_context(|| format!("cannot move the conversion to {}", out.display()))?;
        // The folder now lives at `out`; nothing is left for the guard to delete.
        let _ = tmp.keep();
    } else if opts.verbose {
        eprintln!("fetch {}: reusing {}", entry.id, out.display());
    }
    let wanted: Vec<String> = match &entry.source {
        Source::Hf(hf) => hf.files.clone(),
        Source::Path(_) | Source::MirrorOnly => vec![
            "config.json".into(),
            "model.safetensors".into(),
            "tokenizer.json".into(),
        ],
    };
    let mut files = Vec::new();
    for name in wanted {
        let p = out.join(&name);
        if !p.is_file() {
            bail!(
                "the conversion of {} gives no `{name}` (it writes config.json, model.safetensors, tokenizer.json)",
                loc.origin
            );
        }
        files.push((name, p));
    }
    files.push(("ctranslate2/model.bin".into(), model_bin));
    if let Some(c) = ct2_config {
        files.push(("ctranslate2/config.json".into(), c));
    }
    Ok(Located {
        root: out,
        origin: format!("{} (CTranslate2, converted)", loc.origin),
        revision: loc.revision,
        files,
    })
}
