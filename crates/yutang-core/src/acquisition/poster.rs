//! The store-stand poster (门店台卡海报) of a live code: what it says and where each part goes.
//!
//! An operator sets the texts on the code ([`PosterText`], checked here); the channel fills
//! in what is left blank ([`PosterText::resolve`]). [`layout`] places the parts on a
//! 1080 × 1440 canvas (a 3:4 print, 9 × 12 cm at 300 dpi): the brand on a coloured band, the
//! title, the subtitle, the QR large and centred, the caption under it. Text is measured with
//! a function the caller gives (the app measures with the real font), shrunk down to a
//! minimum size, and only then cut with `…`, so whatever the font, no text leaves its slot
//! and no slot touches the QR. Drawing the pixels is the app's (it needs a font file).

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// The most characters of the brand line (门店 / 品牌).
pub const MAX_BRAND_CHARS: usize = 20;
/// The most characters of the title.
pub const MAX_TITLE_CHARS: usize = 20;
/// The most characters of the subtitle.
pub const MAX_SUBTITLE_CHARS: usize = 40;
/// The most characters of the caption under the QR.
pub const MAX_CAPTION_CHARS: usize = 20;
/// The caption when the code sets none.
pub const DEFAULT_CAPTION: &str = "扫码添加导购企业微信";

/// The poster's texts as an operator sets them on a code; a blank one takes its default.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PosterText {
    /// The line on the coloured band (brand or store); default: the channel's store name.
    #[serde(default)]
    pub brand: Option<String>,
    /// The headline; default: the channel's name.
    #[serde(default)]
    pub title: Option<String>,
    /// A line under the title (an offer: 新人进群领 10 元券); default: none.
    #[serde(default)]
    pub subtitle: Option<String>,
    /// Under the QR; default [`DEFAULT_CAPTION`].
    #[serde(default)]
    pub caption: Option<String>,
}

/// One poster text: trimmed, blank → `None`, at most `max` characters, no control characters
/// (a tab or a line break would draw as a box: the poster has one line per text).
fn parse_line(
    field: &'static str,
    s: Option<String>,
    max: usize,
) -> Result<Option<String>, FieldError> {
    let Some(s) = s else { return Ok(None) };
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if s.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "invalid_characters",
            "poster texts are one line without control characters",
        ));
    }
    if s.chars().count() > max {
        return Err(FieldError::new(
            field,
            "invalid_text",
            format!("at most {max} characters"),
        ));
    }
    Ok(Some(s.to_owned()))
}

impl PosterText {
    pub fn parse(self) -> Result<Self, FieldError> {
        Ok(Self {
            brand: parse_line("poster.brand", self.brand, MAX_BRAND_CHARS)?,
            title: parse_line("poster.title", self.title, MAX_TITLE_CHARS)?,
            subtitle: parse_line("poster.subtitle", self.subtitle, MAX_SUBTITLE_CHARS)?,
            caption: parse_line("poster.caption", self.caption, MAX_CAPTION_CHARS)?,
        })
    }

    /// The texts to draw: the code's, else the defaults from its channel (the title from the
    /// channel's name, the brand from its store's).
    pub fn resolve(&self, channel_name: &str, store_name: Option<&str>) -> PosterLines {
        let or =
            |own: &Option<String>, default: &str| own.clone().unwrap_or_else(|| default.to_owned());
        PosterLines {
            brand: or(&self.brand, store_name.unwrap_or_default()),
            title: or(&self.title, channel_name),
            subtitle: or(&self.subtitle, ""),
            caption: or(&self.caption, DEFAULT_CAPTION),
        }
    }
}

/// The texts a poster draws, defaults filled in (any may be empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosterLines {
    pub brand: String,
    pub title: String,
    pub subtitle: String,
    pub caption: String,
}

/// The canvas, in pixels.
pub const CANVAS_W: i32 = 1080;
pub const CANVAS_H: i32 = 1440;
/// Left and right margin of the texts.
pub const MARGIN: i32 = 80;

/// A rectangle in canvas pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
}

impl Rect {
    pub fn right(&self) -> i32 {
        self.x + self.w
    }

    pub fn bottom(&self) -> i32 {
        self.y + self.h
    }

    /// Whether `other` lies inside this rectangle (edges included).
    pub fn contains(&self, other: &Rect) -> bool {
        other.x >= self.x
            && other.y >= self.y
            && other.right() <= self.right()
            && other.bottom() <= self.bottom()
    }

    /// Whether the two share any pixel.
    pub fn overlaps(&self, other: &Rect) -> bool {
        self.x < other.right()
            && other.x < self.right()
            && self.y < other.bottom()
            && other.y < self.bottom()
    }
}

/// Which text a line is (the renderer picks colour and weight by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Brand,
    Title,
    Subtitle,
    Caption,
}

/// A text's slot: where it may draw, and the largest and smallest font size (px) it gets.
#[derive(Debug, Clone, Copy)]
struct Slot {
    role: Role,
    rect: Rect,
    max: f32,
    min: f32,
}

/// The line box of a font size: a glyph stays within `ASCENT × size` above the baseline and
/// `DESCENT × size` below it (CJK fonts: about 0.88 and 0.12 em; kept generous, and the
/// renderer clips to the slot besides).
pub const ASCENT: f32 = 0.95;
pub const DESCENT: f32 = 0.3;

const SLOTS: [Slot; 4] = [
    Slot {
        role: Role::Brand,
        rect: Rect {
            x: MARGIN,
            y: 60,
            w: CANVAS_W - 2 * MARGIN,
            h: 100,
        },
        max: 56.0,
        min: 28.0,
    },
    Slot {
        role: Role::Title,
        rect: Rect {
            x: MARGIN,
            y: 250,
            w: CANVAS_W - 2 * MARGIN,
            h: 140,
        },
        max: 96.0,
        min: 40.0,
    },
    Slot {
        role: Role::Subtitle,
        rect: Rect {
            x: MARGIN,
            y: 395,
            w: CANVAS_W - 2 * MARGIN,
            h: 70,
        },
        max: 44.0,
        min: 22.0,
    },
    Slot {
        role: Role::Caption,
        rect: Rect {
            x: MARGIN,
            y: 1260,
            w: CANVAS_W - 2 * MARGIN,
            h: 80,
        },
        max: 48.0,
        min: 28.0,
    },
];

/// The coloured band at the top (the brand line sits on it).
pub const BAND: Rect = Rect {
    x: 0,
    y: 0,
    w: CANVAS_W,
    h: 220,
};
/// The white framed square around the QR.
pub const QR_FRAME: Rect = Rect {
    x: 170,
    y: 490,
    w: 740,
    h: 740,
};
/// The QR image itself (its own quiet zone included), centred in the frame.
pub const QR: Rect = Rect {
    x: 200,
    y: 520,
    w: 680,
    h: 680,
};

/// One text placed: drawn at `size` px from (`x`, `baseline`), `width` px wide, never outside
/// `slot`.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub role: Role,
    /// The text as drawn: the whole text, or its start and `…` when even the smallest size
    /// is too wide.
    pub text: String,
    pub size: f32,
    pub x: f32,
    pub baseline: f32,
    pub width: f32,
    pub slot: Rect,
}

impl Line {
    /// The box the text's glyphs stay in (see [`ASCENT`]).
    pub fn ink(&self) -> (f32, f32, f32, f32) {
        (
            self.x,
            self.baseline - ASCENT * self.size,
            self.x + self.width,
            self.baseline + DESCENT * self.size,
        )
    }
}

/// Where everything goes. Empty texts have no line.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub lines: Vec<Line>,
}

/// The size (from `max` down to `min`, 2 px a step) at which `text` fits `width`; at `min`,
/// the longest start of it that fits with `…` after it.
fn fit(text: &str, slot: &Slot, measure: &dyn Fn(&str, f32) -> f32) -> (String, f32, f32) {
    let width = slot.rect.w as f32;
    let mut size = slot.max;
    loop {
        let w = measure(text, size);
        if w <= width {
            return (text.to_owned(), size, w);
        }
        if size <= slot.min {
            break;
        }
        size = (size - 2.0).max(slot.min);
    }
    let chars: Vec<char> = text.chars().collect();
    for n in (0..chars.len()).rev() {
        let cut: String = chars[..n].iter().collect::<String>().trim_end().to_owned() + "…";
        let w = measure(&cut, size);
        if w <= width {
            return (cut, size, w);
        }
    }
    (String::new(), size, 0.0)
}

/// Place the texts; `measure(text, size)` is the advance width of `text` at `size` px.
pub fn layout(lines: &PosterLines, measure: &dyn Fn(&str, f32) -> f32) -> Layout {
    let mut out = Vec::new();
    for slot in &SLOTS {
        let text = match slot.role {
            Role::Brand => &lines.brand,
            Role::Title => &lines.title,
            Role::Subtitle => &lines.subtitle,
            Role::Caption => &lines.caption,
        };
        if text.trim().is_empty() {
            continue;
        }
        let (text, size, width) = fit(text.trim(), slot, measure);
        if text.is_empty() {
            continue;
        }
        let r = slot.rect;
        let top = r.y as f32 + (r.h as f32 - (ASCENT + DESCENT) * size) / 2.0;
        out.push(Line {
            role: slot.role,
            text,
            size,
            x: r.x as f32 + (r.w as f32 - width) / 2.0,
            baseline: top + ASCENT * size,
            width,
            slot: r,
        });
    }
    Layout { lines: out }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A font where a CJK character is 1 em and anything else half of one.
    fn plain(text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| if c.is_ascii() { 0.5 } else { 1.0 })
            .sum::<f32>()
            * size
    }

    fn lines(title: &str) -> PosterLines {
        PosterText {
            title: Some(title.into()),
            ..Default::default()
        }
        .resolve("门店台卡", Some("鲜果时光 徐汇店"))
    }

    #[test]
    fn defaults_come_from_the_channel() {
        let l = PosterText::default().resolve("门店台卡 上海一店", Some("徐汇店"));
        assert_eq!(l.title, "门店台卡 上海一店");
        assert_eq!(l.brand, "徐汇店");
        assert_eq!(l.subtitle, "");
        assert_eq!(l.caption, DEFAULT_CAPTION);
        assert_eq!(PosterText::default().resolve("x", None).brand, "");
    }

    #[test]
    fn parse_refuses_long_texts_and_control_characters_naming_the_field() {
        let bad = |t: PosterText| t.parse().unwrap_err();
        let e = bad(PosterText {
            title: Some("果".repeat(21)),
            ..Default::default()
        });
        assert_eq!((e.field, e.code), ("poster.title", "invalid_text"));
        let e = bad(PosterText {
            subtitle: Some("x".repeat(41)),
            ..Default::default()
        });
        assert_eq!(e.field, "poster.subtitle");
        let e = bad(PosterText {
            brand: Some("鲜果\n时光".into()),
            ..Default::default()
        });
        assert_eq!((e.field, e.code), ("poster.brand", "invalid_characters"));
        let e = bad(PosterText {
            caption: Some("扫码\u{7}".into()),
            ..Default::default()
        });
        assert_eq!(e.field, "poster.caption");
        let ok = PosterText {
            title: Some(format!("  {}  ", "果".repeat(20))),
            subtitle: Some("   ".into()),
            ..Default::default()
        }
        .parse()
        .unwrap();
        assert_eq!(ok.title.as_deref(), Some("果".repeat(20).as_str()));
        assert_eq!(ok.subtitle, None);
    }

    #[test]
    fn a_short_title_gets_the_largest_size_and_is_centred() {
        let l = layout(&lines("新人礼"), &plain);
        let t = l.lines.iter().find(|l| l.role == Role::Title).unwrap();
        assert_eq!(t.size, 96.0);
        assert_eq!(t.text, "新人礼");
        assert!((t.x + t.width / 2.0 - CANVAS_W as f32 / 2.0).abs() < 0.01);
        // No subtitle: no line for it.
        assert!(l.lines.iter().all(|l| l.role != Role::Subtitle));
    }

    #[test]
    fn a_long_title_shrinks_before_it_is_cut() {
        let twenty = "果".repeat(20);
        let t = layout(&lines(&twenty), &plain)
            .lines
            .into_iter()
            .find(|l| l.role == Role::Title)
            .unwrap();
        assert_eq!(t.text, twenty);
        assert!(t.size < 96.0 && t.size >= 40.0 && t.width <= 920.0);
        // A (default) title longer than the slot holds even at 40 px is cut with an ellipsis.
        let long = "果".repeat(40);
        let t = layout(&lines(&long), &plain)
            .lines
            .into_iter()
            .find(|l| l.role == Role::Title)
            .unwrap();
        assert_eq!(t.size, 40.0);
        assert!(t.text.ends_with('…') && t.width <= 920.0, "{t:?}");
    }

    #[test]
    fn the_fixed_parts_do_not_overlap() {
        let canvas = Rect {
            x: 0,
            y: 0,
            w: CANVAS_W,
            h: CANVAS_H,
        };
        assert!(canvas.contains(&QR_FRAME) && QR_FRAME.contains(&QR) && canvas.contains(&BAND));
        for (i, a) in SLOTS.iter().enumerate() {
            assert!(canvas.contains(&a.rect));
            assert!(!a.rect.overlaps(&QR_FRAME), "{:?}", a.role);
            assert!(
                (ASCENT + DESCENT) * a.max <= a.rect.h as f32,
                "{:?}",
                a.role
            );
            for b in &SLOTS[i + 1..] {
                assert!(!a.rect.overlaps(&b.rect), "{:?} {:?}", a.role, b.role);
            }
        }
        // The brand sits on the band.
        assert!(BAND.contains(&SLOTS[0].rect));
    }

    fn text(max: usize) -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                Just('果'),
                Just('W'),
                Just('i'),
                Just(' '),
                Just('—'),
                Just('…'),
                any::<char>().prop_filter("one line", |c| !c.is_control()),
            ],
            0..=max,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        /// Whatever the texts within the limits and however wide the font draws each character
        /// (0–2 em), every text stays inside its slot, inside the canvas, off the QR.
        #[test]
        fn every_text_within_the_limits_fits_its_slot(
            brand in text(MAX_BRAND_CHARS),
            title in text(MAX_TITLE_CHARS),
            subtitle in text(MAX_SUBTITLE_CHARS),
            caption in text(MAX_CAPTION_CHARS),
            widths in prop::collection::vec(0.0f32..2.0, 8),
        ) {
            let measure = |s: &str, size: f32| -> f32 {
                s.chars().map(|c| widths[c as usize % widths.len()]).sum::<f32>() * size
            };
            let lines = PosterLines { brand, title, subtitle, caption };
            for l in layout(&lines, &measure).lines {
                let (x0, y0, x1, y1) = l.ink();
                prop_assert!(x0 >= l.slot.x as f32 - 0.01 && x1 <= l.slot.right() as f32 + 0.01, "{l:?}");
                prop_assert!(y0 >= l.slot.y as f32 - 0.01 && y1 <= l.slot.bottom() as f32 + 0.01, "{l:?}");
                prop_assert!(x0 >= 0.0 && x1 <= CANVAS_W as f32 && y1 <= CANVAS_H as f32);
                prop_assert!(y1 <= QR_FRAME.y as f32 || y0 >= QR_FRAME.bottom() as f32, "{l:?}");
                prop_assert!((measure(&l.text, l.size) - l.width).abs() < 0.01);
            }
        }

        /// With a font no wider than 1 em a character (CJK fonts: the widest glyphs are the
        /// full-width ones), a text within its limit is drawn whole, never cut.
        #[test]
        fn texts_within_the_limits_are_never_cut_in_a_cjk_font(
            title in text(MAX_TITLE_CHARS),
            subtitle in text(MAX_SUBTITLE_CHARS),
            brand in text(MAX_BRAND_CHARS),
            caption in text(MAX_CAPTION_CHARS),
        ) {
            let em = |s: &str, size: f32| s.chars().count() as f32 * size;
            let lines = PosterLines { brand, title, subtitle, caption };
            for l in layout(&lines, &em).lines {
                let original = match l.role {
                    Role::Brand => &lines.brand,
                    Role::Title => &lines.title,
                    Role::Subtitle => &lines.subtitle,
                    Role::Caption => &lines.caption,
                };
                prop_assert_eq!(l.text.as_str(), original.trim());
            }
        }
    }
}
