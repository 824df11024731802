//! End-to-end `frugalbench run --task object-detection` with the tiny random YOLOv8 of
//! `crates/workloads/tests/fixtures/yolov8/` (written by `scripts/yolov8_reference.py`) on PNGs
//! written here: a valid result with mAP@0.5, the smoke alias on a single-class set, and a bad
//! image refused with one error line before anything is metered or written.

use std::path::{Path, PathBuf};

use common::{bin, json_files, read_valid_result, stderr};

mod common;

fn fixture() -> PathBuf {
    // This test belongs to crates/frugalbench.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../workloads/tests/fixtures/yolov8")
}

/// Two PNGs and a dataset; `labels` gives each image's one gold label.
fn write_set(dir: &Path, labels: [&str; 2]) -> PathBuf {
    let mut lines = String::new();
    for (i, label) in labels.iter().enumerate() {
        let mut img =
            image::RgbImage::from_pixel(48 + 16 * i as u32, 40, image::Rgb([20, 80, 140]));
        for y in 10..25 {
            for x in 12..30 {
                img.put_pixel(x, y, image::Rgb([240, 200, 30]));
            }
        }
        img.save(dir.join(format!("img{i}.png"))).unwrap();
        lines.push_str(&format!(
            "{{\"image\": \"img{i}.png\", \"boxes\": [[12, 10, 30, 25]], \"labels\": [\"{label}\"]}}\n"
        ));
    }
    let p = dir.join("set.jsonl");
    std::fs::write(&p, lines).unwrap();
    p
}

fn run(dir: &Path, task: &str, dataset: &Path) -> (std::process::Output, PathBuf) {
    let catalogue = dir.join("models.toml");
    std::fs::write(
        &catalogue,
        format!(
            "[[model]]\nid = \"tiny-yolov8\"\ntasks = [\"object-detection\"]\narch = \"yolov8\"\n\
             path = \"{}\"\nimgsz = 64\nclasses = [\"cat\", \"dog\", \"bird\"]\n",
            fixture().display()
        ),
    )
    .unwrap();
    let powercap = dir.join("no-powercap");
    std::fs::create_dir_all(&powercap).unwrap();
    let out = dir.join("results");
    let o = bin()
        .arg("run")
        .arg("--catalogue")
        .arg(&catalogue)
        .arg("--out")
        .arg(&out)
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .arg("--powercap-root")
        .arg(&powercap)
        .args(["--no-nvml", "--idle-seconds", "0", "--interval-ms", "20"])
        .args(["--model", "tiny-yolov8", "--task", task])
        .arg("--dataset")
        .arg(dataset)
        .args(["--queries", "3", "--repetitions", "1", "--warmup", "1"])
        .output()
        .unwrap();
    (o, out)
}

#[test]
fn detection_run_writes_a_valid_result_with_map50() {
    let dir = tempfile::tempdir().unwrap();
    let set = write_set(dir.path(), ["cat", "dog"]);
    let (o, out) = run(dir.path(), "object-detection", &set);
    assert!(o.status.success(), "{}", stderr(&o));
    let files = json_files(&out);
    assert_eq!(files.len(), 1, "{files:?}");
    let v = read_valid_result(&files[0]);
    assert_eq!(v["task"], "object-detection");
    assert_eq!(v["status"], "complete");
    assert_eq!(v["quality"]["metric"], "map50");
    let m = v["quality"]["value"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&m), "{m}");
    assert_eq!(v["quality"]["extra"]["classes"], 2.0);
}

#[test]
fn smoke_alias_on_a_single_class_set_reports_accuracy_and_mean_iou() {
    let dir = tempfile::tempdir().unwrap();
    let set = write_set(dir.path(), ["smoke", "smoke"]);
    let (o, out) = run(dir.path(), "smoke-detection", &set);
    assert!(o.status.success(), "{}", stderr(&o));
    let files = json_files(&out);
    let v = read_valid_result(&files[0]);
    assert_eq!(v["task"], "object-detection");
    assert_eq!(v["quality"]["metric"], "accuracy");
    assert_eq!(v["quality"]["extra"]["positive_images"], 2.0);
    assert!(v["quality"]["extra"]["mean_iou"].is_number());
}

#[test]
fn a_bad_image_is_one_error_line_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let set = write_set(dir.path(), ["cat", "dog"]);
    std::fs::write(dir.path().join("img1.png"), b"GIF89a? no").unwrap();
    let (o, out) = run(dir.path(), "object-detection", &set);
    assert!(!o.status.success());
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().filter(|l| l.contains("img1.png")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("set.jsonl:2"), "{err}");
    assert!(!out.exists() || json_files(&out).is_empty());
}
