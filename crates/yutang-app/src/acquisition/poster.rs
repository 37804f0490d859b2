//! Drawing a live code's store-stand poster (门店台卡海报) as a PNG: the layout is core's
//! ([`yutang_core::acquisition::poster::layout`]); this module loads the font, reads the
//! code's stored QR image, draws and encodes.
//!
//! **The font.** Chinese text needs a CJK font, and Yutang ships none (a CJK font is 16–20
//! MB). It uses `acquisition.poster_font` (a path, with `poster_font_index` for a `.ttc`
//! collection) when set, else the first of [`SYSTEM_FONTS`] that exists (Debian's
//! `fonts-noto-cjk` first). A font without Chinese glyphs is refused like a missing one. No
//! font: 503 `poster_font_missing`, whose message says to install `fonts-noto-cjk` or set
//! the path. A loaded font is kept for the process (reading 20 MB per poster would be
//! waste); a missing one is looked for again at the next poster, so installing the package
//! needs no restart.

use std::sync::{Mutex, PoisonError};

use ab_glyph::{Font, FontArc, PxScale, ScaleFont, point};
use yutang_core::acquisition::poster::{
    BAND, CANVAS_H, CANVAS_W, PosterLines, QR, QR_FRAME, Rect, Role, layout,
};

use crate::error::{AppError, Result};

/// The usual places of a CJK font, with the face to use in a collection: Debian / Ubuntu
/// `fonts-noto-cjk` (index 2 is Simplified Chinese), other distributions' Noto CJK, Debian's
/// WenQuanYi packages, Source Han Sans.
pub const SYSTEM_FONTS: &[(&str, u32)] = &[
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    (
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
        2,
    ),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    (
        "/usr/share/fonts/opentype/source-han-sans/SourceHanSansSC-Regular.otf",
        0,
    ),
    (
        "/usr/share/fonts/adobe-source-han-sans/SourceHanSansCN-Regular.otf",
        0,
    ),
];

/// The font loaded last: its path and face, and the font.
static LOADED: Mutex<Option<(String, u32, FontArc)>> = Mutex::new(None);

fn missing(message: String) -> AppError {
    AppError::Unavailable {
        code: "poster_font_missing",
        message,
    }
}

/// Reads and checks one font file (it must draw Chinese).
fn read_font(path: &str, index: u32) -> std::result::Result<FontArc, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    let font = ab_glyph::FontVec::try_from_vec_and_index(bytes, index)
        .map_err(|e| format!("{path} (face {index}): {e}"))?;
    if "扫码".chars().any(|c| font.glyph_id(c).0 == 0) {
        return Err(format!("{path} (face {index}) has no Chinese glyphs"));
    }
    Ok(FontArc::new(font))
}

/// The poster font under the policy of the module doc.
pub fn poster_font(setting: Option<&str>, index: Option<u32>) -> Result<FontArc> {
    let candidates: Vec<(String, u32)> = match setting {
        Some(path) => vec![(path.to_owned(), index.unwrap_or(0))],
        None => SYSTEM_FONTS
            .iter()
            .filter(|(p, _)| std::path::Path::new(p).exists())
            .map(|(p, i)| ((*p).to_owned(), *i))
            .collect(),
    };
    let mut loaded = LOADED.lock().unwrap_or_else(PoisonError::into_inner);
    let mut problems = Vec::new();
    for (path, index) in candidates {
        if let Some((p, i, font)) = loaded.as_ref()
            && *p == path
            && *i == index
        {
            return Ok(font.clone());
        }
        match read_font(&path, index) {
            Ok(font) => {
                *loaded = Some((path, index, font.clone()));
                return Ok(font);
            }
            Err(e) => problems.push(e),
        }
    }
    let found = if problems.is_empty() {
        "没有找到中文字体".to_owned()
    } else {
        format!("中文字体不可用（{}）", problems.join("；"))
    };
    Err(missing(format!(
        "{found}：请在服务器上安装 fonts-noto-cjk（apt-get install fonts-noto-cjk），或在配置 acquisition.poster_font 中填写中文字体文件的路径。 No CJK font for the poster: install fonts-noto-cjk or set acquisition.poster_font."
    )))
}

/// A greyscale image (0 black … 255 white).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gray {
    pub width: usize,
    pub height: usize,
    pub px: Vec<u8>,
}

/// The largest side of a QR image drawn into a poster (WeCom's are a few hundred pixels).
const MAX_IMAGE_SIDE: usize = 4096;

fn luma(r: u8, g: u8, b: u8) -> u8 {
    let y = (u32::from(r) * 299 + u32::from(g) * 587 + u32::from(b) * 114) / 1000;
    u8::try_from(y).unwrap_or(u8::MAX)
}

/// Over white: a transparent pixel is white.
fn over_white(v: u8, alpha: u8) -> u8 {
    let a = u32::from(alpha);
    u8::try_from((u32::from(v) * a + 255 * (255 - a)) / 255).unwrap_or(u8::MAX)
}

/// A stored QR image (PNG or JPEG) as greyscale.
pub fn decode_image(content_type: &str, bytes: &[u8]) -> std::result::Result<Gray, String> {
    let too_big = |w: usize, h: usize| w == 0 || h == 0 || w > MAX_IMAGE_SIDE || h > MAX_IMAGE_SIDE;
    match content_type {
        "image/png" => {
            let mut dec = png::Decoder::new(std::io::Cursor::new(bytes));
            dec.set_transformations(png::Transformations::normalize_to_color8());
            let mut reader = dec.read_info().map_err(|e| e.to_string())?;
            let (w, h) = {
                let info = reader.info();
                (info.width as usize, info.height as usize)
            };
            if too_big(w, h) {
                return Err(format!("a {w}×{h} image"));
            }
            let size = reader
                .output_buffer_size()
                .ok_or_else(|| "the image is too large".to_owned())?;
            let mut buf = vec![0; size];
            let out = reader.next_frame(&mut buf).map_err(|e| e.to_string())?;
            let stride = out.line_size;
            let channels = out.color_type.samples();
            let mut px = Vec::with_capacity(w * h);
            for y in 0..h {
                let row = buf.get(y * stride..).unwrap_or_default();
                for x in 0..w {
                    let p = row
                        .get(x * channels..x * channels + channels)
                        .unwrap_or(&[255]);
                    px.push(match (out.color_type, p) {
                        (png::ColorType::GrayscaleAlpha, [v, a]) => over_white(*v, *a),
                        (png::ColorType::Rgb, [r, g, b]) => luma(*r, *g, *b),
                        (png::ColorType::Rgba, [r, g, b, a]) => over_white(luma(*r, *g, *b), *a),
                        (_, [v, ..]) => *v,
                        _ => 255,
                    });
                }
            }
            Ok(Gray {
                width: w,
                height: h,
                px,
            })
        }
        "image/jpeg" => {
            let mut dec = jpeg_decoder::Decoder::new(std::io::Cursor::new(bytes));
            dec.read_info().map_err(|e| e.to_string())?;
            let info = dec.info().ok_or_else(|| "no JPEG header".to_owned())?;
            let (w, h) = (usize::from(info.width), usize::from(info.height));
            if too_big(w, h) {
                return Err(format!("a {w}×{h} image"));
            }
            let data = dec.decode().map_err(|e| e.to_string())?;
            let px = match info.pixel_format {
                jpeg_decoder::PixelFormat::L8 => data,
                jpeg_decoder::PixelFormat::L16 => data.chunks(2).map(|c| c[0]).collect(),
                jpeg_decoder::PixelFormat::RGB24 => {
                    data.chunks(3).map(|c| luma(c[0], c[1], c[2])).collect()
                }
                jpeg_decoder::PixelFormat::CMYK32 => data
                    .chunks(4)
                    .map(|c| {
                        let k = 255 - u32::from(c[3]);
                        u8::try_from(u32::from(luma(c[0], c[1], c[2])) * k / 255).unwrap_or(0)
                    })
                    .collect(),
            };
            if px.len() < w * h {
                return Err("a truncated JPEG".to_owned());
            }
            Ok(Gray {
                width: w,
                height: h,
                px,
            })
        }
        other => Err(format!("an image of type {other}")),
    }
}

/// An RGB canvas.
struct Canvas {
    px: Vec<u8>,
}

type Rgb = [u8; 3];

/// The band's colour (a warm orange, the console's accent) and the text colours.
const ACCENT: Rgb = [0xE8, 0x55, 0x2F];
const INK: Rgb = [0x1F, 0x23, 0x29];
const WHITE: Rgb = [0xFF, 0xFF, 0xFF];
const FRAME: Rgb = [0xE5, 0xE6, 0xEB];

fn idx(x: i32, y: i32) -> Option<usize> {
    ((0..CANVAS_W).contains(&x) && (0..CANVAS_H).contains(&y))
        .then(|| usize::try_from((y * CANVAS_W + x) * 3).unwrap_or(0))
}

impl Canvas {
    fn new() -> Self {
        let n = usize::try_from(CANVAS_W * CANVAS_H * 3).unwrap_or(0);
        Canvas { px: vec![255; n] }
    }

    fn fill(&mut self, r: Rect, c: Rgb) {
        for y in r.y..r.bottom() {
            for x in r.x..r.right() {
                if let Some(i) = idx(x, y) {
                    self.px[i..i + 3].copy_from_slice(&c);
                }
            }
        }
    }

    /// Mix `c` into the pixel by `coverage` (0–1), inside `clip` only.
    fn blend(&mut self, x: i32, y: i32, c: Rgb, coverage: f32, clip: &Rect) {
        if x < clip.x || x >= clip.right() || y < clip.y || y >= clip.bottom() {
            return;
        }
        let Some(i) = idx(x, y) else { return };
        let a = coverage.clamp(0.0, 1.0);
        for (px, ink) in self.px[i..i + 3].iter_mut().zip(c) {
            let v = f32::from(*px) * (1.0 - a) + f32::from(ink) * a;
            *px = v.round().clamp(0.0, 255.0) as u8;
        }
    }

    /// `img` scaled (nearest pixel) into `r`.
    fn image(&mut self, r: Rect, img: &Gray) {
        let (rw, rh) = (r.w.max(1) as usize, r.h.max(1) as usize);
        for dy in 0..rh {
            let sy = dy * img.height / rh;
            for dx in 0..rw {
                let sx = dx * img.width / rw;
                let v = img.px.get(sy * img.width + sx).copied().unwrap_or(255);
                if let Some(i) = idx(r.x + dx as i32, r.y + dy as i32) {
                    self.px[i..i + 3].copy_from_slice(&[v, v, v]);
                }
            }
        }
    }

    /// The canvas as an RGB PNG at 300 dpi: 1080 × 1440 prints at 9 × 12 cm.
    fn png(&self) -> std::result::Result<Vec<u8>, png::EncodingError> {
        yutang_core::qr::print_png(
            CANVAS_W as u32,
            CANVAS_H as u32,
            png::ColorType::Rgb,
            png::BitDepth::Eight,
            &self.px,
        )
    }
}

/// Extra width of the title's faux bold (drawn twice, shifted by this share of its size).
const BOLD: f32 = 0.03;

/// The advance width of `text` at `size` px, with kerning, plus the bold shift (so the
/// layout's width is what is drawn).
fn measure(font: &FontArc, text: &str, size: f32) -> f32 {
    let sf = font.as_scaled(PxScale::from(size));
    let mut w = 0.0;
    let mut prev = None;
    for c in text.chars() {
        let id = sf.glyph_id(c);
        if let Some(p) = prev {
            w += sf.kern(p, id);
        }
        w += sf.h_advance(id);
        prev = Some(id);
    }
    w + BOLD * size
}

fn draw_text(
    canvas: &mut Canvas,
    font: &FontArc,
    line: &yutang_core::acquisition::poster::Line,
    color: Rgb,
    bold: bool,
) {
    let scale = PxScale::from(line.size);
    let sf = font.as_scaled(scale);
    let passes: &[f32] = if bold {
        &[0.0, BOLD * line.size]
    } else {
        &[0.0]
    };
    for shift in passes {
        let mut x = line.x;
        let mut prev = None;
        for c in line.text.chars() {
            let id = sf.glyph_id(c);
            if let Some(p) = prev {
                x += sf.kern(p, id);
            }
            let glyph = id.with_scale_and_position(scale, point(x + shift, line.baseline));
            if let Some(outlined) = font.outline_glyph(glyph) {
                let b = outlined.px_bounds();
                outlined.draw(|gx, gy, coverage| {
                    let px = b.min.x as i32 + gx as i32;
                    let py = b.min.y as i32 + gy as i32;
                    canvas.blend(px, py, color, coverage, &line.slot);
                });
            }
            x += sf.h_advance(id);
            prev = Some(id);
        }
    }
}

/// The poster as a PNG: `lines` laid out and drawn with `font` around `qr`.
pub fn render(lines: &PosterLines, qr: &Gray, font: &FontArc) -> Result<Vec<u8>> {
    let placed = layout(lines, &|t, size| measure(font, t, size));
    let mut canvas = Canvas::new();
    canvas.fill(BAND, ACCENT);
    canvas.fill(QR_FRAME, FRAME);
    let inner = Rect {
        x: QR_FRAME.x + 4,
        y: QR_FRAME.y + 4,
        w: QR_FRAME.w - 8,
        h: QR_FRAME.h - 8,
    };
    canvas.fill(inner, WHITE);
    canvas.image(QR, qr);
    for line in &placed.lines {
        let (color, bold) = match line.role {
            Role::Brand => (WHITE, false),
            Role::Title => (INK, true),
            Role::Subtitle => (ACCENT, false),
            Role::Caption => (INK, false),
        };
        draw_text(&mut canvas, font, line, color, bold);
    }
    canvas
        .png()
        .map_err(|e| AppError::Internal(format!("poster PNG: {e}")))
}

#[cfg(test)]
mod tests {
    use yutang_core::qr::Matrix;

    use super::*;

    /// The matrix's modules as a greyscale image, `scale` pixels a module.
    fn gray_of(m: &Matrix, scale: usize) -> Gray {
        let side = m.size() * scale;
        let mut px = Vec::with_capacity(side * side);
        for y in 0..side {
            for x in 0..side {
                px.push(if m.dark_at(x / scale, y / scale) {
                    0
                } else {
                    255
                });
            }
        }
        Gray {
            width: side,
            height: side,
            px,
        }
    }

    fn read_qr(g: &Gray) -> String {
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(g.width, g.height, |x, y| {
            g.px[y * g.width + x]
        });
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code");
        grids[0].decode().unwrap().1
    }

    #[test]
    fn a_png_qr_reads_back_after_decoding() {
        let text = "https://work.weixin.qq.com/ca/cawcde?customer_channel=yt01";
        let m = Matrix::new(text).unwrap();
        let g = decode_image("image/png", &m.png().unwrap()).unwrap();
        assert_eq!(g.width, m.size() * m.png_scale());
        assert_eq!(read_qr(&g), text);
    }

    #[test]
    fn a_jpeg_qr_reads_back_after_decoding() {
        let text = "https://work.weixin.qq.com/u/cwFake00000001";
        let m = Matrix::new(text).unwrap();
        let g = gray_of(&m, 10);
        let mut jpeg = Vec::new();
        let enc = jpeg_encoder::Encoder::new(&mut jpeg, 85);
        enc.encode(
            &g.px,
            u16::try_from(g.width).unwrap(),
            u16::try_from(g.height).unwrap(),
            jpeg_encoder::ColorType::Luma,
        )
        .unwrap();
        let back = decode_image("image/jpeg", &jpeg).unwrap();
        assert_eq!((back.width, back.height), (g.width, g.height));
        assert_eq!(read_qr(&back), text);
    }

    #[test]
    fn what_is_not_an_image_is_refused() {
        assert!(decode_image("image/png", b"\x89PNG\r\n\x1a\nnope").is_err());
        assert!(decode_image("image/jpeg", &[0xFF, 0xD8, 0xFF, 0x00]).is_err());
        assert!(decode_image("image/gif", b"GIF89a").is_err());
    }

    #[test]
    fn a_missing_font_is_a_clear_503() {
        let e = poster_font(Some("/nonexistent/font.ttc"), None).unwrap_err();
        let AppError::Unavailable { code, message } = e else {
            panic!("{e:?}")
        };
        assert_eq!(code, "poster_font_missing");
        assert!(
            message.contains("fonts-noto-cjk") && message.contains("/nonexistent/font.ttc"),
            "{message}"
        );
    }
}
