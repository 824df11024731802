//! The dataset catalogue against a fake hub on a loopback port: the real hf-hub client (dataset
//! repository type, the same cache as models), the real Parquet reader, no network.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use frugalbench_workloads::datasets::catalogue::{sample_indices, DatasetCatalogue};
use frugalbench_workloads::datasets::{parquet, DatasetRows, Media};
use frugalbench_workloads::fetch::{FetchEnv, FetchOptions};
use frugalbench_workloads::testing::hub::{FakeHub, HubRepo};
use frugalbench_workloads::testing::parquet::{parquet_bytes, Column};
use frugalbench_workloads::Task;
use sha2::{Digest, Sha256};

const COMMIT: &str = "4f0c6d9b2a1e8f7d6c5b4a3928170f6e5d4c3b2a";

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// 30 sentence pairs with a spread of scores.
fn sts_parquet() -> Vec<u8> {
    let n = 30;
    parquet_bytes(&[
        Column::Str(
            "sentence1",
            (0..n).map(|i| Some(format!("first {i}"))).collect(),
        ),
        Column::Str(
            "sentence2",
            (0..n).map(|i| Some(format!("second {i}"))).collect(),
        ),
        Column::Double("score", (0..n).map(|i| (i % 6) as f64).collect()),
    ])
    .unwrap()
}

fn media_parquet() -> Vec<u8> {
    parquet_bytes(&[
        Column::Str("text", vec![Some("a picture".into()), None]),
        Column::Str("caption", vec![Some("a cat".into()), Some("a dog".into())]),
        Column::Media(
            "image",
            vec![
                (b"\x89PNG fake".to_vec(), "cat.png".into()),
                (b"\x89PNG other".to_vec(), "dog.png".into()),
            ],
        ),
        Column::Media(
            "audio",
            vec![
                (b"RIFF one".to_vec(), "a.wav".into()),
                (b"RIFF two".to_vec(), "b.wav".into()),
            ],
        ),
        Column::Int64("label", vec![0, 1]),
    ])
    .unwrap()
}

/// Climate quotes, labels as integers 0/1 (mapped by the entry), split over two JSONL files.
fn claims(split: &str) -> Vec<u8> {
    let mut s = String::new();
    for i in 0..6 {
        s.push_str(&format!(
            "{{\"quote\": \"{split} quote {i}\", \"label\": {}}}\n",
            i % 2
        ));
    }
    s.into_bytes()
}

fn repo(name: &str, files: Vec<(&str, Vec<u8>)>, gated: bool) -> HubRepo {
    HubRepo {
        path: format!("datasets/org/{name}"),
        commit: COMMIT.into(),
        revisions: vec!["main".into(), "refs/convert/parquet".into()],
        files: files
            .into_iter()
            .map(|(n, b)| (n.to_string(), b))
            .collect::<BTreeMap<_, _>>(),
        gated,
    }
}

const CATALOGUE: &str = r#"
[[dataset]]
id = "hub-sts"
task = "sentence-similarity"
hf = { repo = "org/sts", revision = "refs/convert/parquet", files = ["default/test/0000.parquet"] }
split = "test"
sample = 10
seed = 7

[[dataset]]
id = "hub-claims"
task = "text-classification"
hf = { repo = "org/claims", revision = "main", files = ["data/train.jsonl", "data/test.jsonl"] }
split = "test"
train_split = "train"
columns = { text = "quote" }
labels = { "0" = "0_not_relevant", "1" = "1_not_happening" }

[[dataset]]
id = "hub-gated"
task = "sentence-similarity"
hf = { repo = "org/gated", revision = "main", files = ["test.parquet"] }

[[dataset]]
id = "hub-bad-column"
task = "sentence-similarity"
hf = { repo = "org/sts", revision = "main", files = ["default/test/0000.parquet"] }
columns = { sentence1 = "premise" }

[[dataset]]
id = "hub-bad-parquet"
task = "sentence-similarity"
hf = { repo = "org/broken", revision = "main", files = ["test.parquet"] }

[[dataset]]
id = "hub-media"
task = "text-classification"
hf = { repo = "org/media", revision = "main", files = ["data/test-00000-of-00001.parquet"] }
columns = { text = "caption" }
labels = { "0" = "cat", "1" = "dog" }

[[dataset]]
id = "aies-like"
task = "summarization"
hf = { repo = "org/docs", revision = "main", files = ["train.jsonl"] }
split = "train"
columns = { document = "text" }
references = false
"#;

struct Setup {
    _dir: tempfile::TempDir,
    hub: FakeHub,
    catalogue: DatasetCatalogue,
    opts: FetchOptions,
    env: FetchEnv,
}

fn setup() -> Setup {
    let hub = FakeHub::start(vec![
        repo(
            "sts",
            vec![("default/test/0000.parquet", sts_parquet())],
            false,
        ),
        repo(
            "claims",
            vec![
                ("data/train.jsonl", claims("train")),
                ("data/test.jsonl", claims("test")),
            ],
            false,
        ),
        repo("gated", vec![("test.parquet", sts_parquet())], true),
        repo(
            "media",
            vec![("data/test-00000-of-00001.parquet", media_parquet())],
            false,
        ),
        repo(
            "broken",
            vec![("test.parquet", b"PAR1 not really".to_vec())],
            false,
        ),
        repo(
            "docs",
            vec![(
                "train.jsonl",
                b"{\"text\": \"one doc\"}\n{\"text\": \"two\"}\n".to_vec(),
            )],
            false,
        ),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let catalogue =
        DatasetCatalogue::parse(CATALOGUE, Path::new("test/datasets.toml"), dir.path()).unwrap();
    let opts = FetchOptions {
        cache_dir: dir.path().join("fb"),
        offline: false,
        verbose: false,
    };
    let env = FetchEnv {
        cache: dir.path().join("hub"),
        endpoint: Some(hub.endpoint.clone()),
        token: None,
        offline: false,
        timeout: Duration::from_secs(10),
        python: "/nonexistent/python3".into(),
    };
    Setup {
        _dir: dir,
        hub,
        catalogue,
        opts,
        env,
    }
}

#[test]
fn parquet_from_the_hub_is_sampled_and_recorded() {
    let s = setup();
    let entry = s.catalogue.get("hub-sts").unwrap();
    let got = entry.load_with(&s.opts, &s.env).unwrap();
    let DatasetRows::Similarity(pairs) = &got.dataset.rows else {
        panic!("{:?}", got.dataset.task())
    };
    // 10 of the 30 rows, the ones the seed draws, in file order.
    let used = sample_indices(30, Some(10), 7);
    assert_eq!(used.len(), 10);
    let firsts: Vec<String> = pairs.iter().map(|p| p.sentence1.clone()).collect();
    let want: Vec<String> = used.iter().map(|i| format!("first {i}")).collect();
    assert_eq!(firsts, want);
    assert_eq!(pairs[0].score, (used[0] % 6) as f64);
    // Provenance: the commit the hub resolved, the file's hash, the rows' hash.
    let o = &got.origin;
    assert_eq!(o.source, format!("hf:org/sts@{COMMIT}"));
    assert_eq!(o.repo.as_deref(), Some("org/sts"));
    assert_eq!(o.revision.as_deref(), Some(COMMIT));
    assert_eq!(o.split, "test");
    assert_eq!(o.split_rows, 30);
    assert_eq!((o.sample, o.seed), (Some(10), Some(7)));
    assert_eq!(o.files.len(), 1);
    assert_eq!(o.files[0].name, "default/test/0000.parquet");
    assert_eq!(o.files[0].sha256, sha(&sts_parquet()));
    assert_eq!(got.dataset.sha256, o.files[0].sha256);
    let listed: String = used.iter().map(|i| format!("{i}\n")).collect();
    assert_eq!(o.rows_sha256, sha(listed.as_bytes()));
    assert_eq!(o.no_quality, None);
    // Requests: the dataset URL shape, the revision escaped as hf-hub does.
    let log = s.hub.requests.lock().unwrap().clone();
    assert!(
        log.iter().any(|l| l.starts_with(
            "GET /datasets/org/sts/resolve/refs%2Fconvert%2Fparquet/default/test/0000.parquet"
        )),
        "{log:?}"
    );
    // The same cache as models (`datasets--org--sts`); a second load needs no hub at all.
    let mut offline = s.env.clone();
    offline.offline = true;
    offline.endpoint = Some("http://127.0.0.1:9".into());
    let again = entry.load_with(&s.opts, &offline).unwrap();
    assert_eq!(again.dataset.rows, got.dataset.rows);
    assert_eq!(again.origin, got.origin);
    assert!(s.env.cache.join("datasets--org--sts").is_dir());
    // Another seed draws other rows.
    assert_ne!(sample_indices(30, Some(10), 8), used);
    assert_eq!(sample_indices(5, Some(10), 7), vec![0, 1, 2, 3, 4]);
}

#[test]
fn jsonl_splits_columns_and_label_map() {
    let s = setup();
    let got = s
        .catalogue
        .get("hub-claims")
        .unwrap()
        .load_with(&s.opts, &s.env)
        .unwrap();
    let DatasetRows::Classification { train, test } = &got.dataset.rows else {
        panic!()
    };
    assert_eq!((train.len(), test.len()), (6, 6));
    assert_eq!(train[0].text, "train quote 0");
    assert_eq!(test[1].text, "test quote 1");
    assert_eq!(test[0].label, "0_not_relevant");
    assert_eq!(test[1].label, "1_not_happening");
    assert_eq!(got.origin.train_split.as_deref(), Some("train"));
    assert_eq!(got.origin.files.len(), 2);
    assert_eq!(got.origin.split_rows, 6);
    // Two files: the dataset hash covers both (sha256 of "SHA  NAME\n" lines).
    let combined = format!(
        "{}  data/train.jsonl\n{}  data/test.jsonl\n",
        sha(&claims("train")),
        sha(&claims("test"))
    );
    assert_eq!(got.dataset.sha256, sha(combined.as_bytes()));
}

#[test]
fn a_set_without_references_gets_null_quality_with_a_reason() {
    let s = setup();
    let got = s
        .catalogue
        .get("aies-like")
        .unwrap()
        .load_with(&s.opts, &s.env)
        .unwrap();
    assert_eq!(got.dataset.eval_len(), 2);
    let reason = got.origin.no_quality.unwrap();
    assert!(reason.contains("has no reference answers"), "{reason}");
}

#[test]
fn gated_sets_say_a_token_is_needed() {
    let s = setup();
    let entry = s.catalogue.get("hub-gated").unwrap();
    let e = format!("{:#}", entry.load_with(&s.opts, &s.env).unwrap_err());
    assert!(e.contains("cannot get dataset `hub-gated`"), "{e}");
    assert!(
        e.contains(
            "the dataset repository org/gated is gated or private: it needs a Hugging Face token"
        ),
        "{e}"
    );
    assert!(e.contains("set HF_TOKEN"), "{e}");
    let mut with_token = s.env.clone();
    with_token.token = Some("hf_test".into());
    let got = entry.load_with(&s.opts, &with_token).unwrap();
    assert_eq!(got.dataset.eval_len(), 30);
}

#[test]
fn bad_input_is_one_clear_error() {
    let s = setup();
    let e = format!("{:#}", s.catalogue.get("nope").unwrap_err());
    assert!(
        e.contains("unknown dataset `nope`: not a file, and not an id in test/datasets.toml (known: hub-sts, hub-claims"),
        "{e}"
    );
    let e = format!(
        "{:#}",
        s.catalogue
            .get("hub-bad-column")
            .unwrap()
            .load_with(&s.opts, &s.env)
            .unwrap_err()
    );
    assert!(
        e.contains("hub-bad-column:default/test/0000.parquet:1: column \"premise\" (the entry's `columns.sentence1`) is not in the dataset (row has: score, sentence1, sentence2)"),
        "{e}"
    );
    let e = format!(
        "{:#}",
        s.catalogue
            .get("hub-bad-parquet")
            .unwrap()
            .load_with(&s.opts, &s.env)
            .unwrap_err()
    );
    assert!(
        e.contains("hub-bad-parquet:test.parquet: not a readable Parquet file"),
        "{e}"
    );
    // Catalogue mistakes name the file, the entry and the field.
    for (text, want) in [
        (
            "[[dataset]]\nid = \"x\"\ntask = \"text-classification\"\npath = \"a.csv\"\ncolumn = {}\n",
            "test/datasets.toml: dataset `x`: unknown field `column`",
        ),
        (
            "[[dataset]]\nid = \"x\"\ntask = \"sentence-similarity\"\npath = \"a.csv\"\ntrain_split = \"train\"\n",
            "`train_split` is for text-classification only",
        ),
        (
            "[[dataset]]\nid = \"x\"\ntask = \"sentence-similarity\"\npath = \"a.csv\"\nsample = 0\n",
            "field `sample` must be a positive integer",
        ),
        (
            "[[dataset]]\nid = \"x\"\ntask = \"sentence-similarity\"\n",
            "has no source",
        ),
        (
            "[[dataset]]\nid = \"x\"\ntask = \"x-task\"\npath = \"a.csv\"\n",
            "field `task`",
        ),
    ] {
        let e = format!(
            "{:#}",
            DatasetCatalogue::parse(text, Path::new("test/datasets.toml"), Path::new("/"))
                .unwrap_err()
        );
        assert!(e.contains(want), "want {want:?} in {e}");
    }
}

#[test]
fn parquet_media_columns_become_embedded_media() {
    let rows = parquet::rows(&media_parquet(), "m.parquet").unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].values["text"], "a picture");
    assert!(rows[1].values["text"].is_null());
    assert_eq!(rows[1].values["label"], 1);
    assert_eq!(
        rows[0].media["image"],
        Media::Bytes {
            bytes: Arc::from(&b"\x89PNG fake"[..]),
            name: "cat.png".into()
        }
    );
    assert_eq!(rows[1].media["audio"].extension().as_deref(), Some("wav"));
    assert_eq!(&*rows[1].media["audio"].read().unwrap(), b"RIFF two");
    // And a local Parquet file loads through the same row parsers as JSONL.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("pairs.parquet");
    std::fs::write(&p, sts_parquet()).unwrap();
    let d = frugalbench_workloads::datasets::load(Task::SentenceSimilarity, &p).unwrap();
    assert_eq!(d.eval_len(), 30);
    assert_eq!(d.id, "pairs");
    // A row error names the file and the row.
    let bad = dir.path().join("bad.parquet");
    std::fs::write(
        &bad,
        parquet_bytes(&[
            Column::Str("sentence1", vec![Some("a".into()), Some("b".into())]),
            Column::Str("sentence2", vec![Some("c".into()), None]),
            Column::Double("score", vec![1.0, 2.0]),
        ])
        .unwrap(),
    )
    .unwrap();
    let e = format!(
        "{:#}",
        frugalbench_workloads::datasets::load(Task::SentenceSimilarity, &bad).unwrap_err()
    );
    assert!(
        e.contains("bad.parquet:2: field \"sentence2\": missing"),
        "{e}"
    );
}

#[test]
fn a_parquet_file_with_image_and_audio_columns_comes_through_the_hub() {
    let s = setup();
    let got = s
        .catalogue
        .get("hub-media")
        .unwrap()
        .load_with(&s.opts, &s.env)
        .unwrap();
    let DatasetRows::Classification { test, .. } = &got.dataset.rows else {
        panic!()
    };
    assert_eq!(test[0].text, "a cat");
    assert_eq!(test[1].label, "dog");
    assert_eq!(got.origin.files[0].sha256, sha(&media_parquet()));
    // The file hf-hub put in its cache holds the media as embedded bytes.
    let cached = s
        .env
        .cache
        .join("datasets--org--media/snapshots")
        .join(COMMIT)
        .join("data/test-00000-of-00001.parquet");
    let rows = parquet::rows(&std::fs::read(cached).unwrap(), "media.parquet").unwrap();
    assert_eq!(
        rows[1].media["image"],
        Media::Bytes {
            bytes: Arc::from(&b"\x89PNG other"[..]),
            name: "dog.png".into()
        }
    );
    assert_eq!(&*rows[0].media["audio"].read().unwrap(), b"RIFF one");
}
