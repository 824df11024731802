//! Images in: decoding (outside the meter window) and preprocessing (inside it).
//!
//! - [`decode`]: JPEG, PNG and WebP bytes → an 8-bit RGB image, with one error naming the
//!   file (and the dataset row, via [`decode_row`]) for anything corrupt or unsupported;
//! - [`preprocess`]: resize, centre crop, rescale and normalise as a checkpoint's
//!   `preprocessor_config.json` says (Hugging Face `*ImageProcessor` keys), else the family's
//!   documented defaults; turns images into a `(batch, 3, height, width)` f32 tensor.
//!
//! Both are shared by the image-classification runners and the object-detection runner.

pub mod decode;
pub mod preprocess;

pub use decode::{decode, decode_row, DecodedImage};
pub use preprocess::{Preprocess, Resample, Resize};
