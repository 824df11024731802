//! Object-detection quality: COCO-style mAP@0.5 and the Frugal AI Challenge's smoke figures.
//!
//! **mAP@0.5** ([`map50`]), as pycocotools computes AP at IoU 0.5 (`AP50`): per class, within
//! each image the detections of that class are taken by descending score and each is matched to
//! the not-yet-matched gold box of the same class with the highest IoU, if that IoU is ≥ 0.5
//! (true positive; else false positive). Over all images, detections are ranked by score
//! (stable for ties), giving cumulative precision and recall; precision is made non-increasing
//! from the right (the envelope), and AP is the mean, over the 101 recall points 0, 0.01, …, 1,
//! of the envelope's precision at the first rank whose recall reaches the point (0 when recall
//! never reaches it). mAP is the mean AP over the classes with at least one gold box; detections
//! of other classes are ignored. Differences from pycocotools: up to 300 detections per image
//! are kept (COCO caps at 100), there are no crowd or area ranges.
//!
//! **Smoke figures** ([`smoke`]), for a set with a single class (the Frugal AI Challenge's
//! wildfire-smoke task on pyronear/pyro-sdis, scored by accuracy and box IoU): an image is
//! predicted "smoke" when it has a detection with score ≥ the confidence threshold, and is
//! "smoke" in gold when it has a gold box; `accuracy` is the share of images where the two
//! agree. `mean_iou` is the mean, over gold-positive images, of the IoU between the
//! highest-scoring detection (≥ the threshold) and the gold box it overlaps most, 0 for a
//! positive image without a detection. The challenge's own evaluation script could not be read
//! here; these definitions follow its published description (accuracy of smoke / no smoke and
//! the IoU of the predicted box).

use std::collections::BTreeSet;

use anyhow::{ensure, Result};

use crate::runners::yolov8::iou;
use crate::{Detection, Quality};

/// IoU from which a detection matches a gold box for mAP@0.5.
pub const MATCH_IOU: f32 = 0.5;

/// One image's gold boxes and their labels.
#[derive(Debug, Clone, PartialEq)]
pub struct GoldBoxes {
    pub boxes: Vec<[f32; 4]>,
    pub labels: Vec<String>,
}

/// COCO's 101-point interpolated AP from detections ranked by descending score (`true` = true
/// positive) and the number of gold boxes. `npos` must be positive.
pub fn average_precision_101(ranked_tp: &[bool], npos: usize) -> f64 {
    assert!(npos > 0, "AP needs at least one gold box");
    let mut tp = 0usize;
    let mut recall = Vec::with_capacity(ranked_tp.len());
    let mut precision = Vec::with_capacity(ranked_tp.len());
    for (i, &hit) in ranked_tp.iter().enumerate() {
        tp += hit as usize;
        recall.push(tp as f64 / npos as f64);
        precision.push(tp as f64 / (i + 1) as f64);
    }
    for i in (0..precision.len().saturating_sub(1)).rev() {
        if precision[i] < precision[i + 1] {
            precision[i] = precision[i + 1];
        }
    }
    let mut sum = 0.0;
    for k in 0..=100 {
        let r = k as f64 / 100.0;
        // First rank whose recall is ≥ r (numpy's searchsorted, side='left').
        let idx = recall.partition_point(|&x| x < r);
        if idx < precision.len() {
            sum += precision[idx];
        }
    }
    sum / 101.0
}

/// mAP@0.5 over `golds` and `preds` (one entry per image, same order) and the number of classes
/// averaged; `None` when no image has a gold box. With `agnostic`, every label counts as one
/// class.
pub fn map50(
    golds: &[GoldBoxes],
    preds: &[Vec<Detection>],
    agnostic: bool,
) -> Option<(f64, usize)> {
    let class_of = |l: &str| if agnostic { "" } else { l }.to_string();
    let classes: BTreeSet<String> = golds
        .iter()
        .flat_map(|g| g.labels.iter().map(|l| class_of(l)))
        .collect();
    if classes.is_empty() {
        return None;
    }
    let mut total = 0.0;
    for class in &classes {
        let mut npos = 0;
        let mut scored: Vec<(f32, usize, bool)> = Vec::new(); // (score, image, tp)
        for (img, (g, p)) in golds.iter().zip(preds).enumerate() {
            let gold: Vec<&[f32; 4]> = g
                .boxes
                .iter()
                .zip(&g.labels)
                .filter(|(_, l)| class_of(l) == *class)
                .map(|(b, _)| b)
                .collect();
            npos += gold.len();
            let mut dets: Vec<&Detection> =
                p.iter().filter(|d| class_of(&d.label) == *class).collect();
            dets.sort_by(|a, b| b.score.total_cmp(&a.score));
            let mut taken = vec![false; gold.len()];
            for d in dets {
                let mut best: Option<(usize, f32)> = None;
                for (k, gb) in gold.iter().enumerate() {
                    if taken[k] {
                        continue;
                    }
                    let v = iou(&d.bbox, gb);
                    if v >= MATCH_IOU && best.is_none_or(|(_, bv)| v > bv) {
                        best = Some((k, v));
                    }
                }
                if let Some((k, _)) = best {
                    taken[k] = true;
                }
                scored.push((d.score, img, best.is_some()));
            }
        }
        // Stable: equal scores keep image order, as pycocotools' mergesort does.
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        let ranked: Vec<bool> = scored.iter().map(|s| s.2).collect();
        total += average_precision_101(&ranked, npos);
    }
    Some((total / classes.len() as f64, classes.len()))
}

/// The smoke figures: (accuracy of smoke / no smoke, mean IoU of the best box over gold-positive
/// images or `None` when there is none, number of gold-positive images).
pub fn smoke(
    golds: &[GoldBoxes],
    preds: &[Vec<Detection>],
    conf: f32,
) -> (f64, Option<f64>, usize) {
    let mut agree = 0usize;
    let mut ious = Vec::new();
    for (g, p) in golds.iter().zip(preds) {
        let best = p
            .iter()
            .filter(|d| d.score >= conf)
            .max_by(|a, b| a.score.total_cmp(&b.score));
        let gold_smoke = !g.boxes.is_empty();
        agree += (gold_smoke == best.is_some()) as usize;
        if gold_smoke {
            ious.push(best.map_or(0.0, |d| {
                g.boxes
                    .iter()
                    .map(|gb| iou(&d.bbox, gb))
                    .fold(0.0f32, f32::max)
            }) as f64);
        }
    }
    let n = golds.len().max(1) as f64;
    let mean_iou = (!ious.is_empty()).then(|| ious.iter().sum::<f64>() / ious.len() as f64);
    (agree as f64 / n, mean_iou, ious.len())
}

/// The quality figure of a detection run. A set whose gold boxes carry at most one distinct
/// label is the smoke variant: `accuracy` (smoke / no smoke at score ≥ `conf`), with
/// `mean_iou`, `positive_images` and the class-agnostic `map50_agnostic` in `extra` (each left
/// out when undefined: no positive image). Otherwise `map50` with `classes` in `extra`.
pub fn quality(golds: &[GoldBoxes], preds: &[Vec<Detection>], conf: f32) -> Result<Quality> {
    ensure!(!golds.is_empty(), "no outcomes to score");
    ensure!(
        golds.len() == preds.len(),
        "{} gold images, {} predictions",
        golds.len(),
        preds.len()
    );
    let labels: BTreeSet<&str> = golds
        .iter()
        .flat_map(|g| g.labels.iter().map(String::as_str))
        .collect();
    if labels.len() <= 1 {
        let (accuracy, mean_iou, positives) = smoke(golds, preds, conf);
        let mut extra = std::collections::BTreeMap::new();
        extra.insert("positive_images".to_string(), positives as f64);
        extra.insert("confidence_threshold".to_string(), conf as f64);
        if let Some(m) = mean_iou {
            extra.insert("mean_iou".to_string(), m);
        }
        if let Some((m, _)) = map50(golds, preds, true) {
            extra.insert("map50_agnostic".to_string(), m);
        }
        return Ok(Quality {
            metric: "accuracy".to_string(),
            value: accuracy,
            extra,
        });
    }
    let (m, classes) = map50(golds, preds, false).expect("more than one label means gold boxes");
    Ok(Quality {
        metric: "map50".to_string(),
        value: m,
        extra: [("classes".to_string(), classes as f64)].into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(bbox: [f32; 4], label: &str, score: f32) -> Detection {
        Detection {
            bbox,
            label: label.to_string(),
            score,
        }
    }

    #[test]
    fn ap_101_by_hand() {
        // Perfect: every rank a hit, all found.
        assert!((average_precision_101(&[true, true], 2) - 1.0).abs() < 1e-12);
        // One of two found, at rank 1: precision 1 for recall points 0..=0.5 (51 points).
        assert!((average_precision_101(&[true], 2) - 51.0 / 101.0).abs() < 1e-12);
        // [F, T]: recall 0, 1; precision 0, 0.5 → envelope 0.5, 0.5; every point → 0.5.
        assert!((average_precision_101(&[false, true], 1) - 0.5).abs() < 1e-12);
        // [T, F, T] with 2 gold: recall .5, .5, 1; precision 1, .5, 2/3 → envelope 1, 2/3, 2/3.
        // Points 0..=0.5 (51) → 1; 0.51..=1 (50) → 2/3.
        let want = (51.0 + 50.0 * 2.0 / 3.0) / 101.0;
        assert!((average_precision_101(&[true, false, true], 2) - want).abs() < 1e-12);
        // Nothing detected.
        assert_eq!(average_precision_101(&[], 3), 0.0);
    }

    #[test]
    fn map50_matches_by_class_and_iou() {
        let golds = vec![
            GoldBoxes {
                boxes: vec![[0., 0., 10., 10.], [20., 20., 30., 30.]],
                labels: vec!["cat".into(), "dog".into()],
            },
            GoldBoxes {
                boxes: vec![[0., 0., 10., 10.]],
                labels: vec!["cat".into()],
            },
        ];
        let preds = vec![
            vec![
                det([0., 0., 10., 10.], "cat", 0.9),   // TP cat
                det([1., 0., 11., 10.], "cat", 0.8),   // duplicate: FP
                det([20., 20., 30., 30.], "dog", 0.7), // TP dog
                det([0., 0., 10., 10.], "bird", 0.99), // class without gold: ignored
            ],
            vec![det([5., 0., 15., 10.], "cat", 0.95)], // IoU 1/3 < 0.5: FP
        ];
        // cat: ranked 0.95 F, 0.9 T, 0.8 F; npos 2 → recall 0, .5, .5; precision 0, .5, 1/3
        // → envelope .5, .5, 1/3; points 0..=0.5 → 0.5, beyond → 0: AP = 51*0.5/101.
        // dog: AP 1. mAP = (25.5/101 + 1) / 2.
        let (m, n) = map50(&golds, &preds, false).unwrap();
        assert_eq!(n, 2);
        assert!((m - (25.5 / 101.0 + 1.0) / 2.0).abs() < 1e-12, "{m}");
        // Class-agnostic: one class, npos 3; ranked 0.99 T (img0 cat box), 0.95 F, 0.9 F
        // (the cat box is taken; IoU with the dog box 0), 0.8 F, 0.7 T.
        // recall 1/3,1/3,1/3,1/3,2/3; precision 1, .5, 1/3, .25, .4 → envelope 1,.5,.4,.4,.4.
        // Points 0..=0.33 (34) → 1; 0.34..=0.66 (33) → 0.4; beyond → 0.
        let (m, n) = map50(&golds, &preds, true).unwrap();
        assert_eq!(n, 1);
        assert!((m - (34.0 + 33.0 * 0.4) / 101.0).abs() < 1e-12, "{m}");
        assert!(map50(
            &[GoldBoxes {
                boxes: vec![],
                labels: vec![]
            }],
            &[vec![]],
            false
        )
        .is_none());
    }

    #[test]
    fn smoke_accuracy_and_best_box_iou() {
        let smoke_at = |b: [f32; 4]| GoldBoxes {
            boxes: vec![b],
            labels: vec!["smoke".into()],
        };
        let none = GoldBoxes {
            boxes: vec![],
            labels: vec![],
        };
        let golds = vec![
            smoke_at([0., 0., 10., 10.]),
            smoke_at([0., 0., 10., 10.]),
            none.clone(),
            none,
        ];
        let preds = vec![
            // Best box (0.9) overlaps 1/3; the better-placed 0.5 box is not the best one.
            vec![
                det([5., 0., 15., 10.], "0", 0.9),
                det([0., 0., 10., 10.], "0", 0.5),
            ],
            vec![det([0., 0., 10., 10.], "0", 0.1)], // below 0.25: no smoke predicted
            vec![],
            vec![det([0., 0., 5., 5.], "0", 0.3)], // false alarm
        ];
        let (acc, miou, pos) = smoke(&golds, &preds, 0.25);
        assert_eq!(acc, 0.5); // images 0 and 2 right
        assert_eq!(pos, 2);
        assert!((miou.unwrap() - (1.0 / 3.0) / 2.0).abs() < 1e-6);
        let q = quality(&golds, &preds, 0.25).unwrap();
        assert_eq!(q.metric, "accuracy");
        assert_eq!(q.value, 0.5);
        assert_eq!(q.extra["positive_images"], 2.0);
        assert!(q.extra.contains_key("map50_agnostic"));
        // No positive image: mean IoU undefined, left out (not 0).
        let neg = vec![GoldBoxes {
            boxes: vec![],
            labels: vec![],
        }];
        let q = quality(&neg, &[vec![]], 0.25).unwrap();
        assert_eq!(q.value, 1.0);
        assert!(!q.extra.contains_key("mean_iou"));
        assert!(!q.extra.contains_key("map50_agnostic"));
    }
}
