//! Fashion-MNIST (Zalando, MIT) from the Debian package `dataset-fashion-mnist`
//! (`/usr/share/datasets/fashion-mnist/*-ubyte.gz`), read natively: gzip, then IDX (a
//! big-endian header — magic `0x00000803` for images, `0x00000801` for labels, then the
//! dimensions — and the raw bytes). A fixed, seeded subset of the train split fits a head on a
//! model's frozen features and a seeded subset of the test split is scored, so the default suite
//! stays short. Each picture (28×28 grey) becomes an in-memory PNG ([`Media::Bytes`]) named
//! `<file>#<index>`, so it goes through the same decoder as any image row.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use sha2::{Digest, Sha256};

use super::images::{ImageRow, ImageSet, MediaRoot};
use super::{DatasetRows, LoadedDataset, Media};

/// Where the Debian package puts the files.
pub const DEFAULT_DIR: &str = "/usr/share/datasets/fashion-mnist";
/// The name `--dataset` accepts for this set.
pub const NAME: &str = "fashion-mnist";
/// The ten classes, by label index (the dataset's README).
pub const CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];
/// Default subset sizes and seed.
pub const DEFAULT_TRAIN: usize = 300;
pub const DEFAULT_TEST: usize = 200;
pub const DEFAULT_SEED: u64 = 20_200_523;

/// Pictures of one IDX file: `(count, rows, cols, pixels)`.
pub fn read_idx_images(path: &Path) -> Result<(usize, usize, usize, Vec<u8>)> {
    let bytes = gunzip(path)?;
    let at = path.display();
    if bytes.len() < 16 || bytes[..4] != [0, 0, 8, 3] {
        bail!("{at}: not an IDX image file (magic 0x00000803 expected)");
    }
    let dim =
        |i: usize| u32::from_be_bytes(bytes[4 + 4 * i..8 + 4 * i].try_into().unwrap()) as usize;
    let (n, rows, cols) = (dim(0), dim(1), dim(2));
    if rows == 0 || cols == 0 || bytes.len() != 16 + n * rows * cols {
        bail!(
            "{at}: {n} pictures of {rows}×{cols} need {} bytes, the file has {}",
            16 + n * rows * cols,
            bytes.len()
        );
    }
    Ok((n, rows, cols, bytes[16..].to_vec()))
}

/// Labels of one IDX file.
pub fn read_idx_labels(path: &Path) -> Result<Vec<u8>> {
    let bytes = gunzip(path)?;
    let at = path.display();
    if bytes.len() < 8 || bytes[..4] != [0, 0, 8, 1] {
        bail!("{at}: not an IDX label file (magic 0x00000801 expected)");
    }
    let n = u32::from_be_bytes(bytes[4..8].try_into().unwrap()) as usize;
    if bytes.len() != 8 + n {
        bail!(
            "{at}: {n} labels need {} bytes, the file has {}",
            8 + n,
            bytes.len()
        );
    }
    Ok(bytes[8..].to_vec())
}

fn gunzip(path: &Path) -> Result<Vec<u8>> {
    let f = std::fs::File::open(path).with_context(|| {
        format!(
            "cannot open {} (Fashion-MNIST comes from the Debian package: apt-get install dataset-fashion-mnist)",
            path.display()
        )
    })?;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(f)
        .read_to_end(&mut out)
        .with_context(|| format!("{}: not a readable gzip file", path.display()))?;
    Ok(out)
}

/// `n` of the split's pictures chosen by `seed`, as rows (PNG bytes).
fn split_rows(dir: &Path, prefix: &str, n: usize, seed: u64) -> Result<Vec<ImageRow>> {
    let images_path = dir.join(format!("{prefix}-images-idx3-ubyte.gz"));
    let labels_path = dir.join(format!("{prefix}-labels-idx1-ubyte.gz"));
    let (count, rows, cols, pixels) = read_idx_images(&images_path)?;
    let labels = read_idx_labels(&labels_path)?;
    if labels.len() != count {
        bail!(
            "{} has {count} pictures but {} has {} labels",
            images_path.display(),
            labels_path.display(),
            labels.len()
        );
    }
    if n > count {
        bail!(
            "asked for {n} {prefix} pictures, {} has {count}",
            images_path.display()
        );
    }
    let mut order: Vec<usize> = (0..count).collect();
    order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    let source = images_path.display().to_string();
    order[..n]
        .iter()
        .map(|&i| {
            let label = *CLASSES.get(labels[i] as usize).with_context(|| {
                format!(
                    "{}: label {} of picture {i} is not 0–9",
                    labels_path.display(),
                    labels[i]
                )
            })?;
            let grey = image::GrayImage::from_raw(
                cols as u32,
                rows as u32,
                pixels[i * rows * cols..(i + 1) * rows * cols].to_vec(),
            )
            .context("picture size")?;
            let mut png = std::io::Cursor::new(Vec::new());
            image::DynamicImage::ImageLuma8(grey).write_to(&mut png, image::ImageFormat::Png)?;
            Ok(ImageRow {
                image: Media::Bytes {
                    bytes: Arc::from(png.into_inner()),
                    name: format!("{prefix}-images-idx3-ubyte.gz#{i}.png"),
                },
                labels: vec![label.to_string()],
                source: source.clone(),
                line: i,
            })
        })
        .collect()
}

/// The Fashion-MNIST set from `dir`: `train` pictures of the train split and `test` of the
/// test split, each chosen by `seed`. Its id is `fashion-mnist`; its sha256 covers the four
/// files' hashes and the subset settings.
pub fn load(dir: &Path, train: usize, test: usize, seed: u64) -> Result<LoadedDataset> {
    if !dir.is_dir() {
        bail!(
            "Fashion-MNIST not found: {} is not a folder (install the Debian package: apt-get install dataset-fashion-mnist)",
            dir.display()
        );
    }
    let mut h = Sha256::new();
    for f in [
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    ] {
        let p: PathBuf = dir.join(f);
        let bytes = std::fs::read(&p).with_context(|| {
            format!(
                "cannot read {} (install the Debian package: apt-get install dataset-fashion-mnist)",
                p.display()
            )
        })?;
        h.update(Sha256::digest(&bytes));
    }
    h.update(format!("train={train} test={test} seed={seed}").as_bytes());
    let set = ImageSet {
        train: split_rows(dir, "train", train, seed)?,
        test: split_rows(dir, "t10k", test, seed.wrapping_add(1))?,
        root: MediaRoot::Resolved,
    };
    if set.test.is_empty() {
        bail!("Fashion-MNIST: no test pictures asked for");
    }
    Ok(LoadedDataset {
        id: NAME.to_string(),
        path: Some(dir.to_path_buf()),
        sha256: hex::encode(h.finalize()),
        rows: DatasetRows::Images(set),
    })
}

/// The default subset from the Debian package's folder.
pub fn load_default() -> Result<LoadedDataset> {
    load(
        Path::new(DEFAULT_DIR),
        DEFAULT_TRAIN,
        DEFAULT_TEST,
        DEFAULT_SEED,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(path: &Path, bytes: &[u8]) {
        let f = std::fs::File::create(path).unwrap();
        let mut e = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap();
    }

    /// A fake package folder: `n` 2×3 pictures per split whose pixels encode their index.
    fn fake(dir: &Path, n: usize) {
        for prefix in ["train", "t10k"] {
            let mut img = vec![0, 0, 8, 3];
            for d in [n as u32, 2, 3] {
                img.extend(d.to_be_bytes());
            }
            for i in 0..n {
                img.extend([i as u8; 6]);
            }
            gz(&dir.join(format!("{prefix}-images-idx3-ubyte.gz")), &img);
            let mut lab = vec![0, 0, 8, 1];
            lab.extend((n as u32).to_be_bytes());
            lab.extend((0..n).map(|i| (i % 10) as u8));
            gz(&dir.join(format!("{prefix}-labels-idx1-ubyte.gz")), &lab);
        }
    }

    #[test]
    fn seeded_subsets_decode_to_their_labels() {
        let dir = tempfile::tempdir().unwrap();
        fake(dir.path(), 30);
        let d = load(dir.path(), 8, 5, 3).unwrap();
        let DatasetRows::Images(set) = &d.rows else {
            panic!()
        };
        assert_eq!((set.train.len(), set.test.len()), (8, 5));
        for row in set.train.iter().chain(&set.test) {
            let img = crate::vision::decode(&row.image).unwrap();
            assert_eq!(img.dimensions(), (3, 2));
            // The pixel value is the picture's index, whose label is index % 10.
            let i = img.get_pixel(0, 0)[0] as usize;
            assert_eq!(row.line, i);
            assert_eq!(row.labels, [CLASSES[i % 10]]);
        }
        // Same seed, same subset; another seed, another subset.
        assert_eq!(load(dir.path(), 8, 5, 3).unwrap(), d);
        assert_ne!(load(dir.path(), 8, 5, 4).unwrap().rows, d.rows);
    }

    #[test]
    fn missing_or_bad_files_say_what_to_install_or_what_is_wrong() {
        let e = format!(
            "{:#}",
            load(Path::new("/nonexistent/fm"), 1, 1, 0).unwrap_err()
        );
        assert!(e.contains("apt-get install dataset-fashion-mnist"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        fake(dir.path(), 4);
        gz(
            &dir.path().join("t10k-labels-idx1-ubyte.gz"),
            &[0, 0, 8, 1, 0, 0, 0, 9, 1],
        );
        let e = format!("{:#}", load(dir.path(), 2, 2, 0).unwrap_err());
        assert!(e.contains("9 labels need 17 bytes"), "{e}");
        let e = format!("{:#}", load(dir.path(), 5, 1, 0).unwrap_err());
        assert!(e.contains("asked for 5 train pictures"), "{e}");
    }
}
