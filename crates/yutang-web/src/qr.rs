//! Posters for the customer-facing H5 links, drawn by Yutang itself (no outside service): the
//! QR matrix is core's ([`yutang_core::qr::Matrix`], also drawn as SVG and PNG there); the
//! poster is an SVG with its texts as text (any browser or design tool opens it). The PNG
//! store-stand poster of a live code, which needs a CJK font, is the app's
//! (`yutang_app::acquisition::poster`). Every text put into SVG goes through [`esc`].

pub use yutang_core::qr::Matrix;

/// Text for SVG (XML) content and attribute values: markup characters escaped, and the
/// characters XML 1.0 cannot carry at all dropped.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// What a poster shows, already in the reader's language.
pub struct Poster {
    /// `zh-CN` or `en`.
    pub lang: &'static str,
    /// 限时秒杀 / 拼团 / 优惠券.
    pub kind: String,
    /// The campaign's name (the headline).
    pub name: String,
    /// The item, for sales.
    pub item: Option<String>,
    /// Before the big figure: 秒杀价, 拼团价; empty for a coupon.
    pub price_label: String,
    /// The big figure: `¥39.90`, or a coupon's face value (`满50减10`).
    pub price: String,
    /// Struck through: `原价 ¥59.90`.
    pub original: Option<String>,
    /// Smaller facts on one line: `团长再减 ¥5.00 · 2 人成团`.
    pub notes: Vec<String>,
    /// The time window in Asia/Shanghai, with its label.
    pub window: String,
    /// 微信扫码参与.
    pub scan: String,
    pub url: String,
}

const POSTER_W: f64 = 750.0;
const POSTER_H: f64 = 1180.0;
const MARGIN: f64 = 60.0;
const FONTS: &str = "-apple-system,'PingFang SC','Noto Sans CJK SC','Microsoft YaHei',sans-serif";

/// A rough width of `text` in ems: CJK and other wide characters one em, the rest about half.
fn ems(text: &str) -> f64 {
    text.chars()
        .map(|c| match c {
            ' ' | '.' | ',' | ':' | ';' | '|' | 'i' | 'l' | 'j' | '!' | '\'' => 0.3,
            c if c.is_ascii_uppercase() || c.is_ascii_digit() => 0.62,
            c if c.is_ascii() => 0.55,
            c if (c as u32) < 0x2E80 => 0.6,
            _ => 1.0,
        })
        .sum()
}

/// The font size (at most `size`, at least `min`) at which `text` fits `width`.
fn fit(text: &str, size: f64, min: f64, width: f64) -> f64 {
    let w = ems(text);
    if w * size <= width {
        size
    } else {
        (width / w).max(min).floor()
    }
}

/// Attributes squeezing `text` into `width` when even `size` is too wide for it.
fn squeeze(text: &str, size: f64, width: f64) -> String {
    if ems(text) * size > width {
        format!(" textLength=\"{width}\" lengthAdjust=\"spacingAndGlyphs\"")
    } else {
        String::new()
    }
}

/// `text` in at most `max_lines` lines of `width` at `size` (breaking at a space when a
/// line has one), the last ending in `…` when it does not all fit.
fn wrap(text: &str, size: f64, width: f64, max_lines: usize) -> Vec<String> {
    let limit = width / size;
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for c in text.chars() {
        cur.push(c);
        if ems(&cur) > limit {
            cur.pop();
            let carry = match cur.rfind(' ') {
                Some(i) if i > 0 && cur.is_ascii() => {
                    let rest = cur[i + 1..].to_owned();
                    cur.truncate(i);
                    rest
                }
                _ => String::new(),
            };
            lines.push(std::mem::take(&mut cur).trim_end().to_owned());
            cur = carry;
            if !(cur.is_empty() && c == ' ') {
                cur.push(c);
            }
        }
    }
    if !cur.trim().is_empty() {
        lines.push(cur.trim_end().to_owned());
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            while !last.is_empty() && ems(last) + 1.0 > limit {
                last.pop();
            }
            last.push('…');
        }
    }
    lines
}

impl Poster {
    /// The poster as SVG without an XML declaration (to put inside an HTML page).
    pub fn svg_element(&self, m: &Matrix) -> String {
        let inner = POSTER_W - 2.0 * MARGIN;
        let mut s = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{POSTER_W}\" height=\"{POSTER_H}\" viewBox=\"0 0 {POSTER_W} {POSTER_H}\" font-family=\"{FONTS}\" lang=\"{}\" role=\"img\" aria-label=\"{}\">",
            self.lang,
            esc(&self.name)
        );
        s.push_str(&format!(
            "<defs><linearGradient id=\"yutang-poster-band\" x1=\"0\" y1=\"0\" x2=\"1\" y2=\"1\"><stop offset=\"0\" stop-color=\"#ff5a3c\"/><stop offset=\"1\" stop-color=\"#ff8a3c\"/></linearGradient></defs>\
             <rect width=\"{POSTER_W}\" height=\"{POSTER_H}\" fill=\"#fff\"/>\
             <rect width=\"{POSTER_W}\" height=\"250\" fill=\"url(#yutang-poster-band)\"/>"
        ));
        // The kind as a badge, then the name in up to two lines.
        let badge_w = ems(&self.kind) * 24.0 + 32.0;
        s.push_str(&format!(
            "<rect x=\"{MARGIN}\" y=\"40\" width=\"{badge_w:.0}\" height=\"40\" rx=\"20\" fill=\"#fff\" fill-opacity=\"0.22\"/>\
             <text x=\"{:.0}\" y=\"68\" font-size=\"24\" fill=\"#fff\">{}</text>",
            MARGIN + 16.0,
            esc(&self.kind)
        ));
        let lines = wrap(&self.name, 46.0, inner, 2);
        let first_y = if lines.len() > 1 { 140.0 } else { 160.0 };
        for (i, line) in lines.iter().enumerate() {
            s.push_str(&format!(
                "<text class=\"name\" x=\"{MARGIN}\" y=\"{:.0}\" font-size=\"46\" font-weight=\"700\" fill=\"#fff\">{}</text>",
                first_y + 58.0 * i as f64,
                esc(line)
            ));
        }
        let mut y = 320.0;
        if let Some(item) = &self.item {
            let size = fit(item, 32.0, 20.0, inner);
            s.push_str(&format!(
                "<text x=\"{MARGIN}\" y=\"{y}\" font-size=\"{size}\" fill=\"#1f2329\"{}>{}</text>",
                squeeze(item, size, inner),
                esc(item)
            ));
            y += 90.0;
        } else {
            y += 40.0;
        }
        // The big figure, its label before it.
        let label_w = if self.price_label.is_empty() {
            0.0
        } else {
            ems(&self.price_label) * 30.0 + 12.0
        };
        let size = fit(&self.price, 76.0, 34.0, inner - label_w);
        s.push_str(&format!(
            "<text x=\"{MARGIN}\" y=\"{y}\" fill=\"#ff4d2e\"><tspan font-size=\"30\">{}</tspan><tspan x=\"{:.0}\" font-size=\"{size}\" font-weight=\"700\"{}>{}</tspan></text>",
            esc(&self.price_label),
            MARGIN + label_w,
            squeeze(&self.price, size, inner - label_w),
            esc(&self.price)
        ));
        y += 56.0;
        if let Some(original) = &self.original {
            s.push_str(&format!(
                "<text x=\"{MARGIN}\" y=\"{y}\" font-size=\"26\" fill=\"#8f959e\" text-decoration=\"line-through\">{}</text>",
                esc(original)
            ));
            y += 44.0;
        }
        if !self.notes.is_empty() {
            let notes = self.notes.join(" · ");
            let size = fit(&notes, 26.0, 18.0, inner);
            s.push_str(&format!(
                "<text x=\"{MARGIN}\" y=\"{y}\" font-size=\"{size}\" fill=\"#ff5a3c\"{}>{}</text>",
                squeeze(&notes, size, inner),
                esc(&notes)
            ));
            y += 44.0;
        }
        let size = fit(&self.window, 24.0, 16.0, inner);
        s.push_str(&format!(
            "<text x=\"{MARGIN}\" y=\"{y}\" font-size=\"{size}\" fill=\"#646a73\"{}>{}</text>",
            squeeze(&self.window, size, inner),
            esc(&self.window)
        ));
        // The QR code, centred in a framed square at the bottom.
        let qr_side = 380.0;
        let qr_x = (POSTER_W - qr_side) / 2.0;
        let qr_y = POSTER_H - 180.0 - qr_side;
        let scale = qr_side / m.size() as f64;
        s.push_str(&format!(
            "<rect x=\"{:.0}\" y=\"{:.0}\" width=\"{:.0}\" height=\"{:.0}\" rx=\"16\" fill=\"#fff\" stroke=\"#e5e6eb\" stroke-width=\"2\"/>\
             <g transform=\"translate({qr_x} {qr_y}) scale({scale:.6})\" shape-rendering=\"crispEdges\">{}</g>",
            qr_x - 14.0,
            qr_y - 14.0,
            qr_side + 28.0,
            qr_side + 28.0,
            m.shapes()
        ));
        let mid = POSTER_W / 2.0;
        s.push_str(&format!(
            "<text x=\"{mid}\" y=\"{:.0}\" font-size=\"32\" font-weight=\"700\" fill=\"#1f2329\" text-anchor=\"middle\">{}</text>",
            POSTER_H - 100.0,
            esc(&self.scan)
        ));
        let size = fit(&self.url, 22.0, 14.0, inner);
        s.push_str(&format!(
            "<text class=\"url\" x=\"{mid}\" y=\"{:.0}\" font-size=\"{size}\" fill=\"#8f959e\" text-anchor=\"middle\"{}>{}</text>",
            POSTER_H - 52.0,
            squeeze(&self.url, size, inner),
            esc(&self.url)
        ));
        s.push_str("</svg>");
        s
    }

    /// The poster as an SVG file.
    pub fn svg(&self, m: &Matrix) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}\n",
            self.svg_element(m)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poster(name: &str, url: &str) -> Poster {
        Poster {
            lang: "zh-CN",
            kind: "限时秒杀".into(),
            name: name.into(),
            item: Some("阳光玫瑰 <2 斤>".into()),
            price_label: "秒杀价".into(),
            price: "¥39.90".into(),
            original: Some("原价 ¥59.90".into()),
            notes: vec!["每人限 1 件".into()],
            window: "活动时间：2026-12-01 10:00 至 2026-12-07 22:00（北京时间）".into(),
            scan: "微信扫码参与".into(),
            url: url.into(),
        }
    }

    #[test]
    fn escaping_covers_markup_and_drops_what_xml_cannot_carry() {
        assert_eq!(
            esc("a<b & \"c\" 'd'>\u{1}\u{FFFF}\te"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt; e"
        );
    }

    #[test]
    fn long_names_wrap_in_two_lines_at_most() {
        let lines = wrap(&"很长的活动名称".repeat(8), 46.0, 630.0, 2);
        assert_eq!(lines.len(), 2);
        assert!(lines[1].ends_with('…'));
        let lines = wrap("Weekend cherry sale for members only", 46.0, 630.0, 2);
        assert_eq!(
            lines.concat().replace(' ', ""),
            "Weekendcherrysaleformembersonly"
        );
        assert!(lines.iter().all(|l| !l.starts_with(' ')), "{lines:?}");
    }

    #[test]
    fn the_poster_escapes_every_text() {
        let m = Matrix::new("https://x.example/h5/flash-sales/1?a=1&b=2").unwrap();
        let svg = poster(
            "<b>秒杀 & \"抢\"</b>",
            "https://x.example/h5/flash-sales/1?a=1&b=2",
        )
        .svg(&m);
        assert!(
            svg.contains("&lt;b&gt;秒杀 &amp; &quot;抢&quot;&lt;/b&gt;"),
            "{svg}"
        );
        assert!(svg.contains("阳光玫瑰 &lt;2 斤&gt;"));
        assert!(svg.contains("?a=1&amp;b=2"));
        assert!(!svg.contains("<b>") && !svg.contains("& ") && !svg.contains("\"抢"));
    }
}
