//! Object-detection rows: `{"image": "path", "boxes": [[x0, y0, x1, y1], ...], "labels": [...]}`.
//!
//! - `image`: the picture, a path relative to the dataset file ([`Media`]);
//! - `boxes`: gold boxes in the image's pixels, corners `x0 < x1`, `y0 < y1` (an empty array, or
//!   no field, for an image without objects, e.g. "no smoke");
//! - `labels`: one class name per box (strings; integers are taken as their decimal text).
//!
//! In a CSV file `boxes` and `labels` are JSON arrays in their cells. Each image file's header is
//! read here (a missing file, or one that is not a PNG/JPEG/WebP image, is one error naming the
//! dataset file, its line and the image, before the idle baseline); the pixels are decoded by the
//! runner when it loads (before any meter window), where a truncated or corrupt file is the same
//! kind of error.

use std::path::Path;

use anyhow::Result;

use super::{json_kind, Raw, Record};
use crate::datasets::Media;

/// An object-detection row.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectionRow {
    pub image: Media,
    /// Gold boxes `[x0, y0, x1, y1]`, image pixels.
    pub boxes: Vec<[f32; 4]>,
    /// One class name per box.
    pub labels: Vec<String>,
    /// `file:line` of the row, for messages (e.g. an image that does not decode).
    pub at: String,
}

impl Record<'_> {
    /// Parse an object-detection row; `base` is the dataset file's folder.
    pub(super) fn detection_row(&self, base: Option<&Path>) -> Result<DetectionRow> {
        let image = self.string("image")?;
        let image = Media::from_path_field(&image, base).map_err(|e| self.err("image", e))?;
        if let Media::File(p) = &image {
            image::io::Reader::open(p)
                .and_then(|r| r.with_guessed_format())
                .map_err(|e| self.err("image", format!("cannot read {}: {e}", p.display())))?
                .into_dimensions()
                .map_err(|e| {
                    self.err(
                        "image",
                        format!("{} is not a readable image: {e}", p.display()),
                    )
                })?;
        }
        let boxes = match self.array("boxes")? {
            None => Vec::new(),
            Some(items) => items
                .iter()
                .enumerate()
                .map(|(i, b)| self.one_box(i, b))
                .collect::<Result<_>>()?,
        };
        let labels: Vec<String> = match self.array("labels")? {
            None => Vec::new(),
            Some(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| match v {
                    serde_json::Value::String(s) if !s.trim().is_empty() => Ok(s.clone()),
                    serde_json::Value::Number(n) if n.is_u64() || n.is_i64() => Ok(n.to_string()),
                    other => Err(self.err(
                        "labels",
                        format!(
                            "label {i}: expected a non-empty string, got {}",
                            json_kind(other)
                        ),
                    )),
                })
                .collect::<Result<_>>()?,
        };
        if labels.len() != boxes.len() {
            return Err(self.err(
                "labels",
                format!(
                    "{} labels for {} boxes (one label per box)",
                    labels.len(),
                    boxes.len()
                ),
            ));
        }
        Ok(DetectionRow {
            image,
            boxes,
            labels,
            at: format!("{}:{}", self.source, self.line),
        })
    }

    /// An array field (a JSON array, or a JSON array written in a CSV cell); `None` when absent.
    fn array(&self, field: &str) -> Result<Option<Vec<serde_json::Value>>> {
        let parsed;
        let v = match self.get(field) {
            None => return Ok(None),
            Some(Raw::Json(v)) => v,
            Some(Raw::Cell(s)) => {
                parsed = serde_json::from_str::<serde_json::Value>(s.trim()).map_err(|e| {
                    self.err(field, format!("expected a JSON array in the cell: {e}"))
                })?;
                &parsed
            }
        };
        match v {
            serde_json::Value::Array(items) => Ok(Some(items.clone())),
            other => Err(self.err(
                field,
                format!("expected an array, got {}", json_kind(other)),
            )),
        }
    }

    fn one_box(&self, i: usize, v: &serde_json::Value) -> Result<[f32; 4]> {
        let bad = |msg: String| self.err("boxes", format!("box {i}: {msg}"));
        let serde_json::Value::Array(xs) = v else {
            return Err(bad(format!(
                "expected [x0, y0, x1, y1], got {}",
                json_kind(v)
            )));
        };
        if xs.len() != 4 {
            return Err(bad(format!(
                "expected 4 numbers [x0, y0, x1, y1], got {}",
                xs.len()
            )));
        }
        let mut b = [0f32; 4];
        for (k, x) in xs.iter().enumerate() {
            b[k] = match x.as_f64() {
                Some(f) if f.is_finite() => f as f32,
                _ => return Err(bad(format!("expected a number, got {}", json_kind(x)))),
            };
        }
        if !(b[0] < b[2] && b[1] < b[3]) {
            return Err(bad(format!(
                "{b:?} is empty or reversed (need x0 < x1 and y0 < y1)"
            )));
        }
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use crate::datasets::{load, DatasetRows, Media};
    use crate::Task;

    fn png(path: &std::path::Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        image::RgbImage::new(4, 3).save(path).unwrap();
    }

    #[test]
    fn jsonl_and_csv_rows_resolve_images_against_the_dataset_folder() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["a.png", "img/b.png", "c.png"] {
            png(&dir.path().join(f));
        }
        let j = dir.path().join("d.jsonl");
        std::fs::write(
            &j,
            "{\"image\": \"a.png\", \"boxes\": [[1, 2, 30, 40.5]], \"labels\": [\"smoke\"]}\n\
             {\"image\": \"img/b.png\", \"boxes\": [], \"labels\": []}\n\
             {\"image\": \"c.png\"}\n",
        )
        .unwrap();
        let d = load(Task::ObjectDetection, &j).unwrap();
        assert_eq!(d.task(), Task::ObjectDetection);
        let DatasetRows::Detection(rows) = &d.rows else {
            panic!("{:?}", d.rows)
        };
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].image, Media::File(dir.path().join("a.png")));
        assert_eq!(rows[0].boxes, vec![[1.0, 2.0, 30.0, 40.5]]);
        assert_eq!(rows[0].labels, vec!["smoke".to_string()]);
        assert_eq!(rows[1].image, Media::File(dir.path().join("img/b.png")));
        assert!(rows[2].boxes.is_empty() && rows[2].labels.is_empty());
        assert!(rows[1].at.ends_with("d.jsonl:2"), "{}", rows[1].at);

        let c = dir.path().join("d.csv");
        std::fs::write(
            &c,
            "image,boxes,labels\na.png,\"[[1,2,30,40.5]]\",\"[\"\"smoke\"\"]\"\nimg/b.png,[],[]\nc.png,,\n",
        )
        .unwrap();
        let dc = load(Task::ObjectDetection, &c).unwrap();
        assert_eq!(dc.rows, {
            let mut r = d.rows.clone();
            if let DatasetRows::Detection(rows) = &mut r {
                for (i, row) in rows.iter_mut().enumerate() {
                    row.at = format!("{}:{}", c.display(), i + 2);
                }
            }
            r
        });
    }

    #[test]
    fn bad_rows_name_file_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        png(&dir.path().join("ok.png"));
        png(&dir.path().join("a.png"));
        std::fs::write(dir.path().join("text.png"), "not an image at all").unwrap();
        let cases = [
            ("{\"boxes\": []}", "field \"image\": missing"),
            (
                "{\"image\": \"a.png\", \"boxes\": [[1, 2, 3]], \"labels\": [\"x\"]}",
                "box 0: expected 4 numbers",
            ),
            (
                "{\"image\": \"a.png\", \"boxes\": [[5, 2, 3, 4]], \"labels\": [\"x\"]}",
                "box 0: [5.0, 2.0, 3.0, 4.0] is empty or reversed",
            ),
            (
                "{\"image\": \"a.png\", \"boxes\": [[1, 2, 3, 4]], \"labels\": []}",
                "0 labels for 1 boxes",
            ),
            (
                "{\"image\": \"a.png\", \"boxes\": \"none\"}",
                "field \"boxes\": expected an array",
            ),
            (
                "{\"image\": \"a.png\", \"boxes\": [[1, 2, \"x\", 4]], \"labels\": [\"x\"]}",
                "box 0: expected a number, got \"x\"",
            ),
            ("{\"image\": \"gone.png\"}", "cannot read"),
            (
                "{\"image\": \"text.png\"}",
                "text.png is not a readable image",
            ),
        ];
        for (row, want) in cases {
            let p = dir.path().join("bad.jsonl");
            std::fs::write(&p, format!("{{\"image\": \"ok.png\"}}\n{row}\n")).unwrap();
            let e = format!("{:#}", load(Task::ObjectDetection, &p).unwrap_err());
            assert!(e.contains("bad.jsonl:2:"), "{e}");
            assert!(e.contains(want), "{row}: {e}");
        }
    }
}
