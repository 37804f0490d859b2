//! QR codes drawn by Yutang itself (no outside service): the matrix of a text from `qrcode`,
//! as SVG (one path, for pages and print) and as a 1-bit PNG of at least [`MIN_PNG_PX`]
//! pixels. Pure: text in, bytes out. Used by the console's share pages (issue #18), the live
//! codes' stored QR images and store-stand posters (issue #19), and the fake WeCom, which
//! serves a real QR image for each contact way it makes.

use qrcode::{Color, EcLevel, QrCode};

/// White modules around the code, as the QR standard asks.
pub const QUIET_ZONE: usize = 4;
/// The PNG is at least this many pixels wide (about 5 cm at 300 dpi).
pub const MIN_PNG_PX: usize = 600;

/// A QR code's modules, without the quiet zone.
pub struct Matrix {
    width: usize,
    dark: Vec<bool>,
}

impl Matrix {
    /// The code for `text` (error correction M: survives a smudge, stays small).
    pub fn new(text: &str) -> Result<Self, qrcode::types::QrError> {
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)?;
        Ok(Self {
            width: code.width(),
            dark: code
                .to_colors()
                .into_iter()
                .map(|c| c == Color::Dark)
                .collect(),
        })
    }

    /// Modules across, quiet zone included.
    pub fn size(&self) -> usize {
        self.width + 2 * QUIET_ZONE
    }

    /// Whether the module at (x, y), counted with the quiet zone, is dark.
    pub fn dark_at(&self, x: usize, y: usize) -> bool {
        let (Some(x), Some(y)) = (x.checked_sub(QUIET_ZONE), y.checked_sub(QUIET_ZONE)) else {
            return false;
        };
        x < self.width && y < self.width && self.dark[y * self.width + x]
    }

    /// The dark modules as one SVG path in module units (quiet zone included): one
    /// rectangle per run of dark modules in a row.
    fn path(&self) -> String {
        let n = self.size();
        let mut d = String::new();
        for y in 0..n {
            let mut x = 0;
            while x < n {
                if !self.dark_at(x, y) {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < n && self.dark_at(x, y) {
                    x += 1;
                }
                d.push_str(&format!("M{start} {y}h{}v1h-{}z", x - start, x - start));
            }
        }
        d
    }

    /// White square and dark modules, in module units.
    pub fn shapes(&self) -> String {
        let n = self.size();
        format!(
            "<rect width=\"{n}\" height=\"{n}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{}\"/>",
            self.path()
        )
    }

    /// A standalone SVG, 8 px a module by default (it scales without loss).
    pub fn svg(&self) -> String {
        let n = self.size();
        let px = n * 8;
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{px}\" height=\"{px}\" viewBox=\"0 0 {n} {n}\" shape-rendering=\"crispEdges\">{}</svg>\n",
            self.shapes()
        )
    }

    /// Pixels a module in the PNG: the smallest whole number reaching [`MIN_PNG_PX`].
    pub fn png_scale(&self) -> usize {
        MIN_PNG_PX.div_ceil(self.size())
    }

    /// A black-and-white PNG (1 bit a pixel), [`Matrix::png_scale`] pixels a module, marked
    /// 300 dpi for print.
    pub fn png(&self) -> Result<Vec<u8>, png::EncodingError> {
        let scale = self.png_scale();
        let px = self.size() * scale;
        let row_bytes = px.div_ceil(8);
        // 1 is white in 1-bit greyscale.
        let mut data = vec![0xFF_u8; row_bytes * px];
        for y in 0..px {
            for x in 0..px {
                if self.dark_at(x / scale, y / scale) {
                    data[y * row_bytes + x / 8] &= !(0x80_u8 >> (x % 8));
                }
            }
        }
        let side = u32::try_from(px).unwrap_or(u32::MAX);
        print_png(
            side,
            side,
            png::ColorType::Grayscale,
            png::BitDepth::One,
            &data,
        )
    }
}

/// `data` (rows of `width` pixels in `color` at `depth`) as a PNG marked 300 dots an inch, the
/// resolution print shops expect (the QR PNGs, the live codes' store-stand posters).
pub fn print_png(
    width: u32,
    height: u32,
    color: png::ColorType,
    depth: png::BitDepth,
    data: &[u8],
) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, width, height);
    enc.set_color(color);
    enc.set_depth(depth);
    enc.set_pixel_dims(Some(png::PixelDimensions {
        // 300 dots an inch.
        xppu: 11_811,
        yppu: 11_811,
        unit: png::Unit::Meter,
    }));
    let mut w = enc.write_header()?;
    w.write_image_data(data)?;
    w.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_png_is_large_enough_and_keeps_the_quiet_zone() {
        let m = Matrix::new("https://m.example.com/h5/flash-sales/12").unwrap();
        let png = m.png().unwrap();
        let dec = png::Decoder::new(std::io::Cursor::new(png));
        let reader = dec.read_info().unwrap();
        let info = reader.info();
        let px = m.size() * m.png_scale();
        assert!(px >= MIN_PNG_PX);
        assert_eq!((info.width as usize, info.height as usize), (px, px));
        assert_eq!(info.bit_depth, png::BitDepth::One);
        // The first 4 modules of the first rows are white; the finder's corner is dark.
        assert!(!m.dark_at(3, 3) && m.dark_at(4, 4));
    }

    #[test]
    fn the_svg_draws_every_dark_module() {
        let m = Matrix::new("https://m.example.com/h5/coupons?template=3").unwrap();
        let svg = m.svg();
        let area: usize = svg
            .split('h')
            .skip(1)
            .filter_map(|p| p.split('v').next()?.parse::<usize>().ok())
            .sum();
        assert_eq!(area, m.dark.iter().filter(|d| **d).count());
        assert!(svg.contains(&format!("viewBox=\"0 0 {0} {0}\"", m.size())));
    }
}
