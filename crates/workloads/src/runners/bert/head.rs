//! A linear classification head (multinomial logistic regression) fitted on
//! sentence embeddings, and its JSON cache file.
//!
//! Features are standardised (train mean and standard deviation per
//! dimension), then the softmax cross-entropy with an L2 penalty on the
//! weights (not the bias) is minimised by accelerated full-batch gradient
//! descent (Nesterov/FISTA with adaptive restart, step 1/L where L bounds the
//! gradient's Lipschitz constant). Everything is plain f64 and deterministic.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// Hyper-parameters of the head fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HeadParams {
    /// L2 penalty λ in `mean cross-entropy + λ/2 ‖W‖²`.
    pub l2: f64,
    /// Maximum gradient steps.
    pub max_iter: usize,
    /// Stop when the largest gradient component falls below this.
    pub tol: f64,
}

impl Default for HeadParams {
    fn default() -> Self {
        HeadParams {
            l2: 1e-3,
            max_iter: 500,
            tol: 1e-6,
        }
    }
}

/// How the fit ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    /// Gradient steps taken.
    pub iterations: usize,
    /// Final regularised training loss.
    pub loss: f64,
    /// Accuracy on the training rows.
    pub train_accuracy: f64,
}

/// A fitted linear head: `argmax(W·((x − mean) / scale) + b)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinearHead {
    /// Class names; row `k` of `weights` scores `labels[k]`.
    pub labels: Vec<String>,
    /// Per-dimension feature mean used for standardisation.
    pub feature_mean: Vec<f64>,
    /// Per-dimension feature scale (standard deviation, 1 where it is ~0).
    pub feature_scale: Vec<f64>,
    /// `labels.len()` rows of `dim` weights.
    pub weights: Vec<Vec<f64>>,
    /// One bias per label.
    pub bias: Vec<f64>,
}

impl LinearHead {
    /// Input width.
    pub fn dim(&self) -> usize {
        self.feature_mean.len()
    }

    /// Class scores (logits) of one feature vector.
    pub fn logits(&self, x: &[f32]) -> Vec<f64> {
        let z = standardise(x, &self.feature_mean, &self.feature_scale);
        self.weights
            .iter()
            .zip(&self.bias)
            .map(|(w, b)| dot(w, &z) + b)
            .collect()
    }

    /// Index of the best-scoring label (the first one on ties).
    pub fn predict(&self, x: &[f32]) -> usize {
        argmax(&self.logits(x))
    }

    /// Check the shapes agree (after loading from a file).
    pub fn validate(&self) -> Result<()> {
        let d = self.dim();
        anyhow::ensure!(!self.labels.is_empty(), "head has no labels");
        anyhow::ensure!(
            self.feature_scale.len() == d
                && self.weights.len() == self.labels.len()
                && self.bias.len() == self.labels.len()
                && self.weights.iter().all(|w| w.len() == d),
            "head shapes disagree ({} labels, dim {d})",
            self.labels.len()
        );
        Ok(())
    }
}

/// Fit a head on `features` (one vector per row, equal widths) with class
/// indices `targets` into `labels`.
pub fn fit(
    features: &[Vec<f32>],
    targets: &[usize],
    labels: Vec<String>,
    params: &HeadParams,
) -> Result<(LinearHead, FitReport)> {
    let n = features.len();
    let k = labels.len();
    anyhow::ensure!(n > 0, "cannot fit a head on zero rows");
    anyhow::ensure!(
        targets.len() == n,
        "{n} feature rows but {} targets",
        targets.len()
    );
    anyhow::ensure!(k >= 1, "cannot fit a head without labels");
    anyhow::ensure!(
        params.l2 >= 0.0 && params.l2.is_finite(),
        "head l2 must be ≥ 0"
    );
    let d = features[0].len();
    anyhow::ensure!(
        features.iter().all(|f| f.len() == d),
        "feature rows differ in width"
    );
    if let Some(bad) = targets.iter().find(|&&t| t >= k) {
        anyhow::bail!("target {bad} out of range for {k} labels");
    }

    // Standardise.
    let mut mean = vec![0.0; d];
    for f in features {
        for (m, &x) in mean.iter_mut().zip(f) {
            *m += x as f64;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let mut scale = vec![0.0; d];
    for f in features {
        for ((s, &x), m) in scale.iter_mut().zip(f).zip(&mean) {
            *s += (x as f64 - m).powi(2);
        }
    }
    for s in scale.iter_mut() {
        let sd = (*s / n as f64).sqrt();
        *s = if sd > 1e-12 { sd } else { 1.0 };
    }
    let z: Vec<Vec<f64>> = features
        .iter()
        .map(|f| standardise(f, &mean, &scale))
        .collect();

    let problem = Problem {
        z: &z,
        y: targets,
        k,
        d,
        l2: params.l2,
    };
    let step = 1.0 / problem.lipschitz();

    // theta = [W (k×d) | b (k)] flattened.
    let size = k * d + k;
    let mut theta = vec![0.0; size];
    let mut y = theta.clone();
    let mut t = 1.0f64;
    let mut iterations = 0;
    for _ in 0..params.max_iter {
        let (_, grad) = problem.loss_grad(&y);
        if grad.iter().fold(0.0f64, |m, g| m.max(g.abs())) < params.tol {
            theta = y.clone();
            break;
        }
        iterations += 1;
        let next: Vec<f64> = y.iter().zip(&grad).map(|(v, g)| v - step * g).collect();
        // Adaptive restart when the step goes against the momentum direction.
        let restart: f64 = grad
            .iter()
            .zip(next.iter().zip(&theta))
            .map(|(g, (a, b))| g * (a - b))
            .sum();
        let t_next = if restart > 0.0 {
            1.0
        } else {
            (1.0 + (1.0 + 4.0 * t * t).sqrt()) / 2.0
        };
        let momentum = if restart > 0.0 {
            0.0
        } else {
            (t - 1.0) / t_next
        };
        y = next
            .iter()
            .zip(&theta)
            .map(|(a, b)| a + momentum * (a - b))
            .collect();
        theta = next;
        t = t_next;
    }
    let (loss, _) = problem.loss_grad(&theta);
    let weights: Vec<Vec<f64>> = (0..k).map(|c| theta[c * d..(c + 1) * d].to_vec()).collect();
    let bias = theta[k * d..].to_vec();
    let head = LinearHead {
        labels,
        feature_mean: mean,
        feature_scale: scale,
        weights,
        bias,
    };
    let correct = features
        .iter()
        .zip(targets)
        .filter(|(f, &t)| head.predict(f) == t)
        .count();
    let report = FitReport {
        iterations,
        loss,
        train_accuracy: correct as f64 / n as f64,
    };
    Ok((head, report))
}

struct Problem<'a> {
    z: &'a [Vec<f64>],
    y: &'a [usize],
    k: usize,
    d: usize,
    l2: f64,
}

impl Problem<'_> {
    /// Regularised mean cross-entropy and its gradient at `theta`.
    fn loss_grad(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        let (k, d) = (self.k, self.d);
        let n = self.z.len() as f64;
        let mut grad = vec![0.0; theta.len()];
        let mut loss = 0.0;
        let mut scores = vec![0.0; k];
        for (z, &y) in self.z.iter().zip(self.y) {
            for (c, s) in scores.iter_mut().enumerate() {
                *s = dot(&theta[c * d..(c + 1) * d], z) + theta[k * d + c];
            }
            let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = scores.iter().map(|s| (s - max).exp()).sum();
            let log_z = max + sum.ln();
            loss += log_z - scores[y];
            for c in 0..k {
                let p = (scores[c] - log_z).exp();
                let r = (p - if c == y { 1.0 } else { 0.0 }) / n;
                for (g, x) in grad[c * d..(c + 1) * d].iter_mut().zip(z) {
                    *g += r * x;
                }
                grad[k * d + c] += r;
            }
        }
        loss /= n;
        let mut penalty = 0.0;
        for (g, w) in grad[..k * d].iter_mut().zip(&theta[..k * d]) {
            *g += self.l2 * w;
            penalty += w * w;
        }
        (loss + 0.5 * self.l2 * penalty, grad)
    }

    /// An upper bound on the gradient's Lipschitz constant:
    /// `½ λmax([Z 1]ᵀ[Z 1] / n) + λ` (Böhning's bound), λmax by power iteration
    /// with a 10% margin.
    fn lipschitz(&self) -> f64 {
        let n = self.z.len() as f64;
        let dim = self.d + 1;
        let mut v = vec![1.0 / (dim as f64).sqrt(); dim];
        let mut lambda = 0.0;
        for _ in 0..100 {
            let mut w = vec![0.0; dim];
            for z in self.z {
                let proj = dot(&v[..self.d], z) + v[self.d];
                for (wi, x) in w.iter_mut().zip(z) {
                    *wi += proj * x / n;
                }
                w[self.d] += proj / n;
            }
            let norm = dot(&w, &w).sqrt();
            if norm == 0.0 {
                break;
            }
            lambda = norm;
            v = w.into_iter().map(|x| x / norm).collect();
        }
        (0.5 * lambda * 1.1 + self.l2).max(1e-12)
    }
}

fn standardise(x: &[f32], mean: &[f64], scale: &[f64]) -> Vec<f64> {
    x.iter()
        .zip(mean.iter().zip(scale))
        .map(|(&v, (m, s))| (v as f64 - m) / s)
        .collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn argmax(xs: &[f64]) -> usize {
    let mut best = 0;
    for (i, &x) in xs.iter().enumerate() {
        if x > xs[best] {
            best = i;
        }
    }
    best
}

/// What the cached head was fitted from; a cache file is reused only when
/// all of it matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadProvenance {
    /// Catalogue id of the embedding model.
    pub model_id: String,
    /// SHA-256 of each embedding-model file, by role.
    pub model_sha256: BTreeMap<String, String>,
    /// SHA-256 of the training rows (see [`train_rows_sha256`]).
    pub train_sha256: String,
    /// Number of training rows.
    pub train_rows: usize,
    /// Pooling used for the embeddings.
    pub pooling: super::Pooling,
    /// Whether the embeddings were L2-normalised.
    pub normalize: bool,
    /// Truncation length used for the embeddings.
    pub max_seq_len: usize,
    /// Dtype the encoder ran in.
    pub dtype: String,
    /// Fit hyper-parameters.
    pub params: HeadParams,
    /// Other settings of the feature extractor (non-text encoders, e.g. Whisper's input
    /// window); empty for the text encoders.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub features: BTreeMap<String, String>,
}

/// The head cache file's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadFile {
    /// File format version (1).
    pub format: u32,
    /// What it was fitted from.
    pub provenance: HeadProvenance,
    /// How the fit ended.
    pub fit: FitReport,
    /// The head itself.
    pub head: LinearHead,
}

/// Current [`HeadFile::format`].
pub const HEAD_FORMAT: u32 = 1;

/// Read a cached head from `path` if it exists, parses, and was fitted from
/// exactly `provenance`; otherwise `None` (a stale or unreadable cache is refitted).
pub fn read_cached(path: &Path, provenance: &HeadProvenance) -> Option<HeadFile> {
    let text = std::fs::read_to_string(path).ok()?;
    let file: HeadFile = serde_json::from_str(&text).ok()?;
    (file.format == HEAD_FORMAT && &file.provenance == provenance && file.head.validate().is_ok())
        .then_some(file)
}

/// Write `file` to `path` atomically (temporary file in the same directory, then rename).
pub fn write_atomic(path: &Path, file: &HeadFile) -> Result<()> {
    let dir = path
        .parent()
        .with_context(|| format!("{} has no parent directory", path.display()))?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    serde_json::to_writer_pretty(&mut tmp, file)?;
    tmp.write_all(b"\n")?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("renaming the head file into {}", path.display()))?;
    Ok(())
}

/// SHA-256 over the training rows: for each row, the byte lengths (u64 LE)
/// and bytes of its text and label, in order.
pub fn train_rows_sha256<'a>(rows: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for (text, label) in rows {
        for s in [text, label] {
            h.update((s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        }
    }
    hex::encode(h.finalize())
}

/// Cache file name for `model_id` and a train hash: `<id>-<first 16 hex>.json`,
/// with characters other than ASCII alphanumerics, `.`, `_` and `-` replaced by `_`.
pub fn cache_file_name(model_id: &str, train_sha256: &str) -> String {
    let safe: String = model_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let prefix: String = train_sha256.chars().take(16).collect();
    format!("{safe}-{prefix}.json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separable_toy_set_is_fitted_exactly() {
        // Three clusters in 4-D, each label on its own axis.
        let mut feats = Vec::new();
        let mut targets = Vec::new();
        for i in 0..30 {
            let c = i % 3;
            let mut v = vec![0.1 * ((i * 7 % 5) as f32 - 2.0); 4];
            v[c] += 1.0;
            feats.push(v);
            targets.push(c);
        }
        let labels = vec!["a".into(), "b".into(), "c".into()];
        let (head, report) = fit(&feats, &targets, labels, &HeadParams::default()).unwrap();
        assert_eq!(report.train_accuracy, 1.0);
        assert!(report.loss < 0.1, "loss {}", report.loss);
        head.validate().unwrap();
        // Deterministic.
        let labels = vec!["a".into(), "b".into(), "c".into()];
        let (again, _) = fit(&feats, &targets, labels, &HeadParams::default()).unwrap();
        assert_eq!(head, again);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let z = vec![vec![0.5, -1.0], vec![1.5, 0.25], vec![-0.3, 0.8]];
        let y = [0usize, 2, 1];
        let p = Problem {
            z: &z,
            y: &y,
            k: 3,
            d: 2,
            l2: 0.1,
        };
        let theta: Vec<f64> = (0..9).map(|i| 0.1 * i as f64 - 0.4).collect();
        let (_, g) = p.loss_grad(&theta);
        for i in 0..theta.len() {
            let mut a = theta.clone();
            let mut b = theta.clone();
            a[i] += 1e-6;
            b[i] -= 1e-6;
            let num = (p.loss_grad(&a).0 - p.loss_grad(&b).0) / 2e-6;
            assert!(
                (num - g[i]).abs() < 1e-6,
                "component {i}: {num} vs {}",
                g[i]
            );
        }
    }

    #[test]
    fn bad_targets_are_rejected() {
        let err = fit(&[vec![1.0]], &[3], vec!["a".into()], &HeadParams::default()).unwrap_err();
        assert!(err.to_string().contains("out of range"), "{err}");
    }

    #[test]
    fn cache_names_are_filesystem_safe() {
        assert_eq!(
            cache_file_name("sentence-transformers/all-MiniLM", "0123456789abcdef0123"),
            "sentence-transformers_all-MiniLM-0123456789abcdef.json"
        );
    }
}
