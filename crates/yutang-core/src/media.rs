//! Product images (商品图片) uploaded to Yutang and served by it (`/h5/media/{id}`): the
//! H5 pages load nothing from another host.
//!
//! An upload is accepted when its bytes are a whole PNG, JPEG or WebP file — told by the
//! bytes' magic numbers, never by the client's `Content-Type` or file name — of at most
//! [`DEFAULT_MAX_BYTES`] (the `limits.max_image_bytes` setting) and at most [`MAX_SIDE`]
//! pixels a side (dimensions read from the header by the `imagesize` crate). "Whole": a
//! PNG ends with its `IEND` chunk, a JPEG with its end-of-image marker, a WebP's RIFF length
//! is the file's, so an upload cut off half-way is refused rather than shown broken.
//! Refusals name the field `image`: `invalid_image` (not one of the three, or damaged),
//! `image_too_large` (bytes or pixels over the limits).

use crate::error::FieldError;

/// The default upload limit: 2 MiB.
pub const DEFAULT_MAX_BYTES: usize = 2 * 1024 * 1024;

/// The largest width and height, in pixels.
pub const MAX_SIDE: u32 = 4096;

/// An image format the H5 pages may show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Webp,
}

impl ImageFormat {
    /// The `Content-Type` the image is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Webp => "image/webp",
        }
    }

    /// The format from its magic number, or `None`.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(PNG_MAGIC) {
            Some(ImageFormat::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageFormat::Jpeg)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(ImageFormat::Webp)
        } else {
            None
        }
    }
}

const PNG_MAGIC: &[u8] = &[0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n'];
/// A PNG's last chunk: length 0, `IEND`, its CRC.
const PNG_END: &[u8] = &[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82];

/// What an accepted upload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInfo {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
}

fn invalid(message: &str) -> FieldError {
    FieldError::new("image", "invalid_image", message.to_owned())
}

fn too_large(message: String) -> FieldError {
    FieldError::new("image", "image_too_large", message)
}

/// Check an upload (see the module's documentation); `max_bytes` is the size limit.
pub fn parse_image(bytes: &[u8], max_bytes: usize) -> Result<ImageInfo, FieldError> {
    if bytes.len() > max_bytes {
        return Err(too_large(format!(
            "an image is at most {} KiB",
            max_bytes / 1024
        )));
    }
    let Some(format) = ImageFormat::sniff(bytes) else {
        return Err(invalid("the file is not a PNG, JPEG or WebP image"));
    };
    let whole = match format {
        // The first chunk is the header (IHDR), the last IEND.
        ImageFormat::Png => bytes.get(12..16) == Some(b"IHDR") && bytes.ends_with(PNG_END),
        ImageFormat::Jpeg => {
            // Some writers pad after the end-of-image marker; only zeros may follow it.
            let end = bytes.iter().rposition(|b| *b != 0).unwrap_or(0);
            end >= 3 && bytes[end - 1] == 0xFF && bytes[end] == 0xD9
        }
        ImageFormat::Webp => {
            let declared = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
            usize::try_from(declared).is_ok_and(|d| d.saturating_add(8) == bytes.len())
        }
    };
    if !whole {
        return Err(invalid("the image is incomplete (cut off or damaged)"));
    }
    let size = imagesize::blob_size(bytes)
        .map_err(|_| invalid("the image's size cannot be read (damaged header)"))?;
    let (Ok(width), Ok(height)) = (u32::try_from(size.width), u32::try_from(size.height)) else {
        return Err(too_large(format!(
            "an image is at most {MAX_SIDE}×{MAX_SIDE} pixels"
        )));
    };
    if width == 0 || height == 0 {
        return Err(invalid("the image has no pixels"));
    }
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(too_large(format!(
            "an image is at most {MAX_SIDE}×{MAX_SIDE} pixels; this one is {width}×{height}"
        )));
    }
    Ok(ImageInfo {
        format,
        width,
        height,
    })
}

/// A PNG of one colour, `width`×`height` pixels (RGB, uncompressed deflate blocks): the
/// demo's product pictures and the tests' uploads, without an image library.
pub fn solid_png(width: u32, height: u32, rgb: [u8; 3]) -> Vec<u8> {
    let row: Vec<u8> = std::iter::once(0u8) // filter: none
        .chain((0..width).flat_map(|_| rgb))
        .collect();
    let raw: Vec<u8> = (0..height).flat_map(|_| row.iter().copied()).collect();
    // zlib: header, stored blocks of at most 65,535 bytes, Adler-32.
    let mut z = vec![0x78, 0x01];
    let mut chunks = raw.chunks(65_535).peekable();
    if chunks.peek().is_none() {
        z.extend([1, 0, 0, 0xFF, 0xFF]);
    }
    while let Some(c) = chunks.next() {
        let last = u8::from(chunks.peek().is_none());
        let len = u16::try_from(c.len()).unwrap_or(u16::MAX);
        z.push(last);
        z.extend(len.to_le_bytes());
        z.extend((!len).to_le_bytes());
        z.extend(c);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for byte in &raw {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    z.extend(((b << 16) | a).to_be_bytes());
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter choice, no interlace
    let mut out = PNG_MAGIC.to_vec();
    for (kind, data) in [(b"IHDR", &ihdr[..]), (b"IDAT", &z[..]), (b"IEND", &[][..])] {
        out.extend(u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
        let start = out.len();
        out.extend(kind);
        out.extend(data);
        out.extend(crc32(&out[start..]).to_be_bytes());
    }
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = DEFAULT_MAX_BYTES;

    /// A baseline JPEG's markers with a `w`×`h` frame header (no pixel data: only the
    /// structure is read).
    fn jpeg(w: u16, h: u16) -> Vec<u8> {
        let mut j = vec![0xFF, 0xD8];
        j.extend([0xFF, 0xE0, 0, 16]);
        j.extend(b"JFIF\0");
        j.extend([1, 1, 0, 0, 1, 0, 1, 0, 0]);
        j.extend([0xFF, 0xC0, 0, 17, 8]);
        j.extend(h.to_be_bytes());
        j.extend(w.to_be_bytes());
        j.extend([3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        j.extend([0xFF, 0xD9]);
        j
    }

    /// An extended WebP (`VP8X`) of `w`×`h`.
    fn webp(w: u32, h: u32) -> Vec<u8> {
        let mut chunk = b"VP8X".to_vec();
        chunk.extend(10u32.to_le_bytes());
        chunk.extend([0, 0, 0, 0]);
        chunk.extend(&(w - 1).to_le_bytes()[..3]);
        chunk.extend(&(h - 1).to_le_bytes()[..3]);
        let mut out = b"RIFF".to_vec();
        out.extend(u32::try_from(4 + chunk.len()).unwrap().to_le_bytes());
        out.extend(b"WEBP");
        out.extend(chunk);
        out
    }

    #[test]
    fn the_three_formats_are_told_by_their_bytes() {
        let png = parse_image(&solid_png(3, 2, [255, 0, 0]), MAX).unwrap();
        assert_eq!(
            (png.format, png.width, png.height),
            (ImageFormat::Png, 3, 2)
        );
        assert_eq!(png.format.content_type(), "image/png");
        let j = parse_image(&jpeg(640, 480), MAX).unwrap();
        assert_eq!((j.format, j.width, j.height), (ImageFormat::Jpeg, 640, 480));
        let mut padded = jpeg(10, 10);
        padded.extend([0, 0]);
        assert!(parse_image(&padded, MAX).is_ok());
        let w = parse_image(&webp(800, 600), MAX).unwrap();
        assert_eq!((w.format, w.width, w.height), (ImageFormat::Webp, 800, 600));
    }

    #[test]
    fn other_files_are_refused_naming_the_field() {
        // A text file renamed .png: the name and the client's type are never asked.
        let e = parse_image(b"hello, I am a .txt renamed to .png\n", MAX).unwrap_err();
        assert_eq!((e.field, e.code), ("image", "invalid_image"));
        for bytes in [
            &b""[..],
            b"GIF89a\x01\x00\x01\x00",
            b"<svg xmlns='http://www.w3.org/2000/svg'/>",
            b"BM\x00\x00",
        ] {
            assert_eq!(parse_image(bytes, MAX).unwrap_err().code, "invalid_image");
        }
    }

    #[test]
    fn truncated_files_are_refused() {
        let png = solid_png(16, 16, [1, 2, 3]);
        for cut in [8, 20, 33, png.len() - 1] {
            let e = parse_image(&png[..cut], MAX).unwrap_err();
            assert_eq!(e.code, "invalid_image", "cut at {cut}");
        }
        let j = jpeg(10, 10);
        assert_eq!(
            parse_image(&j[..j.len() - 2], MAX).unwrap_err().code,
            "invalid_image"
        );
        assert_eq!(parse_image(&j[..3], MAX).unwrap_err().code, "invalid_image");
        let w = webp(10, 10);
        assert_eq!(
            parse_image(&w[..w.len() - 1], MAX).unwrap_err().code,
            "invalid_image"
        );
        // A PNG without its header chunk, though it ends well.
        let mut bad = PNG_MAGIC.to_vec();
        bad.extend(PNG_END);
        assert_eq!(parse_image(&bad, MAX).unwrap_err().code, "invalid_image");
    }

    #[test]
    fn limits_on_bytes_and_pixels() {
        let png = solid_png(4, 4, [0, 0, 0]);
        let e = parse_image(&png, png.len() - 1).unwrap_err();
        assert_eq!((e.field, e.code), ("image", "image_too_large"));
        assert!(parse_image(&png, png.len()).is_ok());
        let e = parse_image(&solid_png(MAX_SIDE + 1, 1, [0, 0, 0]), MAX).unwrap_err();
        assert_eq!((e.field, e.code), ("image", "image_too_large"));
        assert!(parse_image(&solid_png(MAX_SIDE, 1, [0, 0, 0]), MAX).is_ok());
        assert_eq!(
            parse_image(&jpeg(10, 5000), MAX).unwrap_err().code,
            "image_too_large"
        );
        assert_eq!(
            parse_image(&webp(5000, 10), MAX).unwrap_err().code,
            "image_too_large"
        );
        assert_eq!(
            parse_image(&jpeg(0, 10), MAX).unwrap_err().code,
            "invalid_image"
        );
    }

    #[test]
    fn solid_pngs_are_well_formed() {
        let png = solid_png(2, 1, [0xFF, 0x5A, 0x3C]);
        // The CRC every PNG writer puts after `IEND`.
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        assert!(png.ends_with(PNG_END));
        // The pixels are stored uncompressed: filter byte 0 then the two pixels.
        let pixels = [0, 0xFF, 0x5A, 0x3C, 0xFF, 0x5A, 0x3C];
        assert!(png.windows(pixels.len()).any(|w| w == pixels));
        // Large enough to need several stored blocks.
        assert!(parse_image(&solid_png(200, 200, [9, 9, 9]), MAX).is_ok());
    }
}
