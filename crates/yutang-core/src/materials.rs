//! The material library (素材库, issue #21 item 4): what a material is, parsed at the edge. No
//! I/O.
//!
//! **Kinds.** A poster (an image the guide sends, with an optional caption), an image, a
//! piece of copy (text), a link card (title, URL, description, cover image) and a
//! mini-program card (title, appid, page path, cover image). Images are Yutang's uploaded
//! images (`media`), so the library never points at another host. Videos and files are not
//! kinds yet: Yutang's media store holds images only.
//!
//! **Tags** are free labels (春季, 新品, 会员日 …) to find materials by — not customer tags.

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::messaging::{has_control, parse_url};

/// A title: at most this many characters.
pub const MAX_TITLE_CHARS: usize = 64;
/// Copy, a caption or a description: at most this many characters.
pub const MAX_BODY_CHARS: usize = 4000;
/// Labels on one material, at most.
pub const MAX_TAGS: usize = 20;
/// One label: at most this many characters.
pub const MAX_TAG_CHARS: usize = 20;
/// A folder's name: at most this many characters.
pub const MAX_FOLDER_CHARS: usize = 30;

fn field(f: &'static str, code: &'static str, msg: impl Into<String>) -> FieldError {
    FieldError::new(f, code, msg)
}

/// What a material is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Poster,
    Image,
    Text,
    Link,
    Miniprogram,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Poster,
        Kind::Image,
        Kind::Text,
        Kind::Link,
        Kind::Miniprogram,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Poster => "poster",
            Kind::Image => "image",
            Kind::Text => "text",
            Kind::Link => "link",
            Kind::Miniprogram => "miniprogram",
        }
    }

    pub fn parse(f: &'static str, s: &str) -> Result<Self, FieldError> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                field(
                    f,
                    "invalid_material_kind",
                    "one of poster, image, text, link, miniprogram",
                )
            })
    }

    /// Whether this kind needs an uploaded image (the picture, or a card's cover).
    pub fn needs_image(self) -> bool {
        !matches!(self, Kind::Text)
    }
}

/// A material as given, before it is checked against the store (the image must exist).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaterialForm {
    pub kind: String,
    pub title: String,
    pub body: Option<String>,
    pub url: Option<String>,
    pub media_id: Option<i64>,
    pub appid: Option<String>,
    pub page: Option<String>,
    pub tags: Option<Vec<String>>,
    pub folder_id: Option<i64>,
}

/// A material, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Material {
    pub kind: Kind,
    pub title: String,
    pub body: String,
    pub url: Option<String>,
    pub media_id: Option<i64>,
    pub appid: Option<String>,
    pub page: Option<String>,
    pub tags: Vec<String>,
    pub folder_id: Option<i64>,
}

fn text(f: &'static str, s: &str, max: usize, allow_lines: bool) -> Result<String, FieldError> {
    let s = s.trim();
    if s.chars().count() > max {
        return Err(field(
            f,
            "text_too_long",
            format!("at most {max} characters"),
        ));
    }
    if has_control(s) || (!allow_lines && s.contains('\n')) {
        return Err(field(
            f,
            "invalid_characters",
            "control characters are not allowed",
        ));
    }
    Ok(s.to_owned())
}

impl Material {
    /// Parse a form: a title (1–64 characters); copy for a text; an http(s) URL for a link; an
    /// appid (`wx` + 16 hex) and a page path for a mini-program card; an image for every kind
    /// but text; up to 20 distinct labels of 1–20 characters.
    pub fn parse(form: MaterialForm) -> Result<Self, FieldError> {
        let kind = Kind::parse("kind", &form.kind)?;
        let title = text("title", &form.title, MAX_TITLE_CHARS, false)?;
        if title.is_empty() {
            return Err(field("title", "required", "a title is required"));
        }
        let body = text(
            "body",
            form.body.as_deref().unwrap_or(""),
            MAX_BODY_CHARS,
            true,
        )?;
        if kind == Kind::Text && body.is_empty() {
            return Err(field("body", "required", "write the copy"));
        }
        let url = match (kind, form.url.as_deref().map(str::trim)) {
            (Kind::Link, Some(u)) if !u.is_empty() => Some(parse_url("url", u)?),
            (Kind::Link, _) => return Err(field("url", "required", "a link needs its URL")),
            (_, Some(u)) if !u.is_empty() => {
                return Err(field("url", "invalid_url", "only a link has a URL"));
            }
            _ => None,
        };
        let (appid, page) = if kind == Kind::Miniprogram {
            let appid = form.appid.as_deref().unwrap_or("").trim().to_owned();
            let ok = appid.len() == 18
                && appid.starts_with("wx")
                && appid[2..].chars().all(|c| c.is_ascii_hexdigit());
            if !ok {
                return Err(field(
                    "appid",
                    "invalid_appid",
                    "a mini-program appid is wx followed by 16 hex digits",
                ));
            }
            let page = form.page.as_deref().unwrap_or("").trim().to_owned();
            if page.is_empty()
                || page.len() > 256
                || page.chars().any(|c| c.is_control() || c.is_whitespace())
            {
                return Err(field(
                    "page",
                    "invalid_page_path",
                    "the page path, e.g. pages/index/index.html, at most 256 bytes",
                ));
            }
            (Some(appid), Some(page))
        } else {
            (None, None)
        };
        let media_id = match (kind.needs_image(), form.media_id) {
            (true, Some(id)) => Some(id),
            (true, None) => {
                return Err(field(
                    "media_id",
                    "required",
                    "upload the image (or the card's cover)",
                ));
            }
            (false, _) => None,
        };
        let mut tags: Vec<String> = Vec::new();
        for t in form.tags.unwrap_or_default() {
            let t = text("tags", &t, MAX_TAG_CHARS, false)?;
            if t.is_empty() {
                continue;
            }
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
        if tags.len() > MAX_TAGS {
            return Err(field(
                "tags",
                "too_many_items",
                format!("at most {MAX_TAGS} labels"),
            ));
        }
        Ok(Self {
            kind,
            title,
            body,
            url,
            media_id,
            appid,
            page,
            tags,
            folder_id: form.folder_id,
        })
    }
}

/// A folder's name: 1–30 characters, one line.
pub fn parse_folder_name(name: &str) -> Result<String, FieldError> {
    let name = text("name", name, MAX_FOLDER_CHARS, false)?;
    if name.is_empty() {
        return Err(field("name", "invalid_name", "1–30 characters"));
    }
    Ok(name)
}

/// A tracked link's token: 22 URL-safe characters (128 random bits), checked before any
/// lookup so a malformed path never reaches the database.
pub fn valid_token(s: &str) -> bool {
    s.len() == 22
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Seconds on a page a beacon may report for one view: at most two hours (a tab left open
/// overnight is not reading).
pub const MAX_VIEW_SECONDS: i64 = 2 * 3600;

#[cfg(test)]
mod tests {
    use super::*;

    fn form(kind: &str) -> MaterialForm {
        MaterialForm {
            kind: kind.into(),
            title: "春季上新".into(),
            media_id: Some(1),
            ..MaterialForm::default()
        }
    }

    #[test]
    fn each_kind_needs_what_it_shows() {
        assert!(Material::parse(form("poster")).is_ok());
        assert!(Material::parse(form("image")).is_ok());
        let text = Material::parse(MaterialForm {
            media_id: None,
            ..form("text")
        })
        .unwrap_err();
        assert_eq!((text.field, text.code), ("body", "required"));
        let link = Material::parse(form("link")).unwrap_err();
        assert_eq!((link.field, link.code), ("url", "required"));
        let ok = Material::parse(MaterialForm {
            url: Some("https://shop.example/spring".into()),
            ..form("link")
        })
        .unwrap();
        assert_eq!(ok.url.as_deref(), Some("https://shop.example/spring"));
        let mp = Material::parse(MaterialForm {
            appid: Some("wx1234567890abcdef".into()),
            page: Some("pages/index/index".into()),
            ..form("miniprogram")
        });
        assert!(mp.is_ok());
        let bad = Material::parse(MaterialForm {
            appid: Some("wx123".into()),
            page: Some("pages/index/index".into()),
            ..form("miniprogram")
        })
        .unwrap_err();
        assert_eq!(bad.code, "invalid_appid");
        let no_image = Material::parse(MaterialForm {
            media_id: None,
            ..form("poster")
        })
        .unwrap_err();
        assert_eq!((no_image.field, no_image.code), ("media_id", "required"));
        assert_eq!(
            Material::parse(form("video")).unwrap_err().code,
            "invalid_material_kind"
        );
    }

    #[test]
    fn labels_are_distinct_and_at_most_twenty() {
        let m = Material::parse(MaterialForm {
            tags: Some(vec![
                "新品".into(),
                " 新品 ".into(),
                "".into(),
                "春季".into(),
            ]),
            ..form("image")
        })
        .unwrap();
        assert_eq!(m.tags, vec!["新品".to_owned(), "春季".to_owned()]);
        let many = Material::parse(MaterialForm {
            tags: Some((0..21).map(|i| format!("t{i}")).collect()),
            ..form("image")
        })
        .unwrap_err();
        assert_eq!(many.code, "too_many_items");
    }

    #[test]
    fn titles_are_one_line_and_tokens_are_checked() {
        let e = Material::parse(MaterialForm {
            title: "a\nb".into(),
            ..form("image")
        })
        .unwrap_err();
        assert_eq!(e.code, "invalid_characters");
        assert!(valid_token("AbCdEfGhIjKlMnOpQrStU_"));
        assert!(!valid_token("short"));
        assert!(!valid_token("AbCdEfGhIjKlMnOpQrSt/_"));
    }
}
