//! Decode a row's image (a [`Media`] file or embedded bytes) into 8-bit RGB with the `image`
//! crate, built with its JPEG, PNG and WebP decoders only. Called while a dataset is loaded
//! into a runner, before any meter window opens.

use std::sync::Arc;

use anyhow::{anyhow, bail, Result};
use image::{ImageFormat, RgbImage};

use crate::datasets::Media;

/// A decoded image, shared cheaply between the rows that name the same picture.
pub type DecodedImage = Arc<RgbImage>;

/// The formats accepted, for messages.
pub const SUPPORTED: &str = "JPEG, PNG, WebP";

/// Decode `media` into RGB (grey and grey+alpha images are expanded, alpha is dropped).
/// The format is read from the bytes, not the extension; anything other than JPEG, PNG or
/// WebP, and any corrupt file, is one error naming the media.
pub fn decode(media: &Media) -> Result<DecodedImage> {
    let bytes = media.read()?;
    let what = media.describe();
    let format = image::guess_format(&bytes).map_err(|_| {
        anyhow!(
            "{what}: not an image this build can read (unrecognised format; supported: {SUPPORTED})"
        )
    })?;
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP
    ) {
        bail!("{what}: unsupported image format {format:?} (supported: {SUPPORTED})");
    }
    let img = image::load_from_memory_with_format(&bytes, format)
        .map_err(|e| anyhow!("{what}: corrupt {format:?} image: {e}"))?;
    if img.width() == 0 || img.height() == 0 {
        bail!("{what}: the image is empty (0 pixels)");
    }
    Ok(Arc::new(img.to_rgb8()))
}

/// [`decode`] for a dataset row: the error starts with `SOURCE:LINE:` (the dataset file and
/// its row) so the user finds the row that names the bad picture.
pub fn decode_row(media: &Media, source: &str, line: usize) -> Result<DecodedImage> {
    decode(media).map_err(|e| anyhow!("{source}:{line}: field \"image\": {e:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, Rgb};
    use std::io::Cursor;

    fn encoded(format: ImageFormat) -> Vec<u8> {
        let img: RgbImage = ImageBuffer::from_fn(5, 3, |x, y| Rgb([x as u8 * 40, y as u8 * 80, 7]));
        let mut out = Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut out, format)
            .unwrap();
        out.into_inner()
    }

    fn bytes(b: Vec<u8>, name: &str) -> Media {
        Media::Bytes {
            bytes: Arc::from(b),
            name: name.into(),
        }
    }

    #[test]
    fn png_and_jpeg_decode_to_rgb() {
        let png = decode(&bytes(encoded(ImageFormat::Png), "a.png")).unwrap();
        assert_eq!(png.dimensions(), (5, 3));
        assert_eq!(png.get_pixel(4, 2), &Rgb([160, 160, 7]));
        // The format comes from the bytes: a PNG named .jpg still decodes.
        let named_wrong = decode(&bytes(encoded(ImageFormat::Png), "a.jpg")).unwrap();
        assert_eq!(named_wrong, png);
        let jpeg = decode(&bytes(encoded(ImageFormat::Jpeg), "a.jpg")).unwrap();
        assert_eq!(jpeg.dimensions(), (5, 3));
    }

    #[test]
    fn grey_images_are_expanded_to_rgb() {
        let grey =
            image::GrayImage::from_fn(2, 2, |x, _| image::Luma([if x == 0 { 10 } else { 200 }]));
        let mut out = Cursor::new(Vec::new());
        image::DynamicImage::ImageLuma8(grey)
            .write_to(&mut out, ImageFormat::Png)
            .unwrap();
        let rgb = decode(&bytes(out.into_inner(), "g.png")).unwrap();
        assert_eq!(rgb.get_pixel(1, 1), &Rgb([200, 200, 200]));
    }

    #[test]
    fn webp_lossless_decodes() {
        // A 2×1 lossless WebP (VP8L), a red then a blue pixel, written by Pillow 13.
        let webp: &[u8] = &[
            0x52, 0x49, 0x46, 0x46, 0x1e, 0x00, 0x00, 0x00, 0x57, 0x45, 0x42, 0x50, 0x56, 0x50,
            0x38, 0x4c, 0x11, 0x00, 0x00, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x10, 0xf3,
            0xbf, 0xff, 0xf3, 0x1f, 0x0e, 0x32, 0xa2, 0xff, 0x01, 0x00,
        ];
        let img = decode(&bytes(webp.to_vec(), "p.webp")).unwrap();
        assert_eq!(img.dimensions(), (2, 1));
        assert_eq!(img.get_pixel(0, 0), &Rgb([255, 0, 0]));
        assert_eq!(img.get_pixel(1, 0), &Rgb([0, 0, 255]));
    }

    #[test]
    fn corrupt_and_unsupported_images_name_the_file_and_row() {
        let mut png = encoded(ImageFormat::Png);
        png.truncate(png.len() / 2);
        let e = format!(
            "{:#}",
            decode_row(&bytes(png, "half.png"), "set.jsonl", 4).unwrap_err()
        );
        assert!(
            e.starts_with("set.jsonl:4: field \"image\": <embedded half.png>: corrupt Png image"),
            "{e}"
        );
        let e = format!(
            "{:#}",
            decode(&bytes(b"hello".to_vec(), "t.png")).unwrap_err()
        );
        assert!(
            e.contains("<embedded t.png>: not an image this build can read"),
            "{e}"
        );
        // GIF is a real image format, but not one this build decodes.
        let e = format!(
            "{:#}",
            decode(&bytes(b"GIF89a\x01\x00\x01\x00".to_vec(), "x.gif")).unwrap_err()
        );
        assert!(
            e.contains("unsupported image format Gif (supported: JPEG, PNG, WebP)"),
            "{e}"
        );
        let e = format!(
            "{:#}",
            decode_row(&Media::File("/nonexistent/p.png".into()), "d.jsonl", 2).unwrap_err()
        );
        assert!(
            e.contains("d.jsonl:2: field \"image\": cannot read /nonexistent/p.png"),
            "{e}"
        );
    }
}
