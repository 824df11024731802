//! Automatic-speech-recognition rows: `{"audio": "clip.wav", "text": "reference transcript"}`
//! (JSONL, or CSV with `audio,text` columns), audio paths relative to the dataset file
//! ([`Media`]); and the default set read from Debian's `pocketsphinx-testdata` package.
//!
//! Rows are parsed here; their audio is decoded by the runner when it loads, before any meter
//! window opens, and a clip that does not decode is refused with the row's place
//! ([`AsrRow::origin`]) and the file.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};

use super::{DatasetRows, LoadedDataset, Media, Record};

/// One utterance and its reference transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsrRow {
    pub audio: Media,
    pub text: String,
    /// Where the row came from, for messages: `FILE:LINE`.
    pub origin: String,
}

impl Record<'_> {
    pub(super) fn asr_row(&self, base: Option<&Path>) -> Result<AsrRow> {
        let path = self.string("audio")?;
        let audio = Media::from_path_field(&path, base).map_err(|e| self.err("audio", e))?;
        Ok(AsrRow {
            audio,
            text: self.string("text")?,
            origin: format!("{}:{}", self.source, self.line),
        })
    }
}

/// Where Debian's `pocketsphinx-testdata` puts its test data.
pub const POCKETSPHINX_DATA: &str = "/usr/share/pocketsphinx/test/data";

/// The folders of that package read as the default speech set: 5 LibriVox utterances (public
/// domain, read from *Sense and Sensibility*) and 5 "cards" utterances (playing cards read
/// aloud), 16 kHz mono WAV, each folder with a `transcription` file.
pub const POCKETSPHINX_SETS: [(&str, &str); 2] = [
    ("librivox", "transcription"),
    ("cards", "cards.transcription"),
];

/// The id of the default speech set.
pub const POCKETSPHINX_ID: &str = "debian/pocketsphinx-testdata";

/// The default speech set, from the installed `pocketsphinx-testdata` package (or the same
/// layout under `$FRUGALBENCH_POCKETSPHINX_DATA`). Missing → an error saying how to install it.
pub fn pocketsphinx() -> Result<LoadedDataset> {
    let root = std::env::var_os("FRUGALBENCH_POCKETSPHINX_DATA")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(POCKETSPHINX_DATA));
    pocketsphinx_at(&root)
}

/// The default speech set from `root` (the package's `test/data` folder).
pub fn pocketsphinx_at(root: &Path) -> Result<LoadedDataset> {
    let mut rows = Vec::new();
    let mut hasher = Sha256::new();
    for (dir, file) in POCKETSPHINX_SETS {
        let listing = root.join(dir).join(file);
        let text = match std::fs::read_to_string(&listing) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
                "the default speech dataset is the Debian package pocketsphinx-testdata, and \
                 {} is missing: install it with `apt-get install pocketsphinx-testdata` (as root), \
                 or pass --dataset FILE (JSONL/CSV rows {{\"audio\": PATH, \"text\": TRANSCRIPT}})",
                listing.display()
            ),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", listing.display())),
        };
        hasher.update(dir.as_bytes());
        hasher.update(text.as_bytes());
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let origin = format!("{}:{}", listing.display(), i + 1);
            let (words, id) = parse_transcription_line(line)
                .with_context(|| format!("{origin}: not `<s> words </s> (id)`"))?;
            let wav = root.join(dir).join(format!("{id}.wav"));
            // The clips' bytes are part of the set's identity.
            let bytes = std::fs::read(&wav)
                .with_context(|| format!("{origin}: cannot read {}", wav.display()))?;
            hasher.update(Sha256::digest(&bytes));
            rows.push(AsrRow {
                audio: Media::File(wav),
                text: words,
                origin,
            });
        }
    }
    if rows.is_empty() {
        bail!(
            "{}: no utterances in the transcription files",
            root.display()
        );
    }
    Ok(LoadedDataset {
        id: POCKETSPHINX_ID.to_string(),
        path: Some(root.to_path_buf()),
        sha256: hex::encode(hasher.finalize()),
        rows: DatasetRows::Speech(rows),
    })
}

/// `<s> words </s> (id)` → (`words`, `id`); the sentence markers are optional.
fn parse_transcription_line(line: &str) -> Option<(String, String)> {
    let line = line.trim();
    let open = line.rfind('(')?;
    let id = line[open + 1..].strip_suffix(')')?.trim();
    if id.is_empty() || id.contains('/') {
        return None;
    }
    let words: Vec<&str> = line[..open]
        .split_whitespace()
        .filter(|w| *w != "<s>" && *w != "</s>")
        .collect();
    if words.is_empty() {
        return None;
    }
    Some((words.join(" "), id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::wav;
    use crate::datasets::{parse_in, Format};
    use crate::Task;

    #[test]
    fn transcription_lines_parse() {
        assert_eq!(
            parse_transcription_line("<s> ten of clubs  </s> (001)"),
            Some(("ten of clubs".into(), "001".into()))
        );
        assert_eq!(
            parse_transcription_line("he was not an ill disposed young man (x-0880)"),
            Some((
                "he was not an ill disposed young man".into(),
                "x-0880".into()
            ))
        );
        assert_eq!(parse_transcription_line("<s> </s> (a)"), None);
        assert_eq!(parse_transcription_line("no id here"), None);
    }

    #[test]
    fn the_pocketsphinx_layout_loads_and_a_missing_package_says_how_to_install() {
        let dir = tempfile::tempdir().unwrap();
        for (sub, file) in POCKETSPHINX_SETS {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
            std::fs::write(
                dir.path().join(sub).join(file),
                "<s> one two </s> (a)\n\n<s> three </s> (b)\n",
            )
            .unwrap();
            for id in ["a", "b"] {
                std::fs::write(
                    dir.path().join(sub).join(format!("{id}.wav")),
                    wav::pcm16(&[0.1; 160], 16_000, 1),
                )
                .unwrap();
            }
        }
        let d = pocketsphinx_at(dir.path()).unwrap();
        assert_eq!(d.task(), Task::AutomaticSpeechRecognition);
        assert_eq!(d.eval_len(), 4);
        let DatasetRows::Speech(rows) = &d.rows else {
            panic!()
        };
        assert_eq!(rows[1].text, "three");
        assert_eq!(
            rows[1].audio,
            Media::File(dir.path().join("librivox/b.wav"))
        );
        assert!(
            rows[1].origin.ends_with("librivox/transcription:3"),
            "{}",
            rows[1].origin
        );

        let e = format!(
            "{:#}",
            pocketsphinx_at(&dir.path().join("nope")).unwrap_err()
        );
        assert!(
            e.contains("apt-get install pocketsphinx-testdata") && e.contains("--dataset"),
            "{e}"
        );
        // A listed clip that is absent: the listing's line names it.
        std::fs::remove_file(dir.path().join("cards/b.wav")).unwrap();
        let e = format!("{:#}", pocketsphinx_at(dir.path()).unwrap_err());
        assert!(
            e.contains("cards.transcription:3") && e.contains("b.wav"),
            "{e}"
        );
    }

    #[test]
    fn jsonl_and_csv_rows_resolve_audio_against_the_dataset_folder() {
        let base = Path::new("/data/set");
        let d = parse_in(
            Task::AutomaticSpeechRecognition,
            b"{\"audio\": \"clips/a.wav\", \"text\": \"hello world\"}\n{\"audio\": \"/abs/b.flac\", \"text\": \"bye\"}\n",
            Format::Jsonl,
            "set.jsonl",
            "set".into(),
            Some(base),
        )
        .unwrap();
        let DatasetRows::Speech(rows) = &d.rows else {
            panic!()
        };
        assert_eq!(rows[0].audio, Media::File(base.join("clips/a.wav")));
        assert_eq!(rows[1].audio, Media::File("/abs/b.flac".into()));
        assert_eq!(rows[1].origin, "set.jsonl:2");
        let d = parse_in(
            Task::AutomaticSpeechRecognition,
            b"audio,text\nc.mp3,\"a, b\"\n",
            Format::Csv,
            "set.csv",
            "set".into(),
            Some(base),
        )
        .unwrap();
        let DatasetRows::Speech(rows) = &d.rows else {
            panic!()
        };
        assert_eq!(rows[0].text, "a, b");
        let e = format!(
            "{:#}",
            parse_in(
                Task::AutomaticSpeechRecognition,
                b"{\"audio\": \"a.wav\"}\n",
                Format::Jsonl,
                "s.jsonl",
                "s".into(),
                None
            )
            .unwrap_err()
        );
        assert!(e.contains("s.jsonl:1") && e.contains("\"text\""), "{e}");
    }
}
