//! The chat sidebar's rules (聊天工具栏, issue #23 item 2), without I/O: which page address
//! Yutang signs for WeCom's JS-SDK, and what a material becomes when a guide sends it into a
//! chat (`ww.sendChatMessage`).
//!
//! **Which address is signed.** WeCom's signature covers the page's URL without `#` and what
//! follows (developer.work.weixin.qq.com/document/path/96909). Yutang signs only its own pages:
//! the address must start with the site's public origin and a `/`, so a signed-in guide cannot
//! have Yutang vouch for a page elsewhere under the brand's corp id.

use serde_json::{Value, json};

use crate::FieldError;

/// An address longer than this is refused (browsers and WeCom both handle far less in practice).
pub const MAX_URL_BYTES: usize = 2048;

/// The JS-SDK calls the sidebar registers (`jsApiList`). Each needs the app identity
/// (`agentConfig`), which is why Yutang signs both `config` and `agentConfig`.
pub const JS_API_LIST: [&str; 4] = [
    "getContext",
    "getCurExternalContact",
    "getCurExternalChat",
    "sendChatMessage",
];

/// A news card's description is cut to this many characters (WeCom shows about two lines).
pub const MAX_DESC_CHARS: usize = 80;

/// The page address to sign: `raw` without its fragment, which must be a page of `origin`
/// (`https://scrm.example.com`, no trailing slash). Refused, naming the field `url`: empty,
/// over [`MAX_URL_BYTES`], with whitespace or control characters, or another site's page.
pub fn page_url(raw: &str, origin: &str) -> Result<String, FieldError> {
    let bad = |code: &'static str, message: &str| FieldError::new("url", code, message);
    if raw.is_empty() {
        return Err(bad("required", "the page address to sign is required"));
    }
    if raw.len() > MAX_URL_BYTES {
        return Err(bad(
            "text_too_long",
            &format!("at most {MAX_URL_BYTES} bytes"),
        ));
    }
    if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad(
            "invalid_characters",
            "the address has spaces or control characters",
        ));
    }
    let url = raw.split('#').next().unwrap_or_default();
    let origin = origin.trim_end_matches('/');
    let own = url
        .strip_prefix(origin)
        .is_some_and(|rest| rest.starts_with('/'));
    if origin.is_empty() || !own {
        return Err(bad("foreign_url", "only this site's own pages are signed"));
    }
    Ok(url.to_owned())
}

/// A material as the sidebar sends it.
#[derive(Debug, Clone, Copy)]
pub struct Sendable<'a> {
    /// `poster`, `image`, `text`, `link` or `miniprogram`.
    pub kind: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    /// The absolute address of the material's image, when it has one.
    pub image_url: Option<&'a str>,
    pub appid: Option<&'a str>,
    pub page: Option<&'a str>,
}

/// The argument of `ww.sendChatMessage` for a material. A text goes as text (its body, or its
/// title when the body is empty); a mini-program as a mini-program card; anything else as a
/// news card (`news`) whose link is the guide's tracked link (`tracked_url`), so opens and
/// forwards are counted (雷达) like those of a link sent any other way.
pub fn chat_message(m: &Sendable<'_>, tracked_url: &str) -> Value {
    match m.kind {
        "text" => {
            let content = if m.body.trim().is_empty() {
                m.title
            } else {
                m.body
            };
            json!({ "msgtype": "text", "text": { "content": content } })
        }
        "miniprogram" => json!({
            "msgtype": "miniprogram",
            "miniprogram": {
                "appid": m.appid.unwrap_or_default(),
                "title": m.title,
                "imgUrl": m.image_url.unwrap_or_default(),
                "page": m.page.unwrap_or_default(),
            },
        }),
        _ => {
            let desc: String = m.body.chars().take(MAX_DESC_CHARS).collect();
            json!({
                "msgtype": "news",
                "enterChat": false,
                "news": {
                    "link": tracked_url,
                    "title": m.title,
                    "desc": desc,
                    "imgUrl": m.image_url.unwrap_or_default(),
                },
            })
        }
    }
}

/// Whether a material of this kind is sent through a tracked link (everything but text and
/// mini-programs, which WeCom sends as they are).
pub fn needs_link(kind: &str) -> bool {
    !matches!(kind, "text" | "miniprogram")
}

#[cfg(test)]
mod tests {
    use super::*;

    const O: &str = "https://scrm.example.com";

    #[test]
    fn own_pages_are_signed_without_their_fragment() {
        assert_eq!(
            page_url("https://scrm.example.com/console/sidebar?x=1#top", O).unwrap(),
            "https://scrm.example.com/console/sidebar?x=1"
        );
        assert_eq!(
            page_url("https://scrm.example.com/", &format!("{O}/")).unwrap(),
            "https://scrm.example.com/"
        );
    }

    #[test]
    fn other_sites_and_bad_addresses_are_refused_naming_url() {
        for (raw, code) in [
            ("", "required"),
            ("https://scrm.example.com.evil.cn/x", "foreign_url"),
            ("https://evil.cn/https://scrm.example.com/", "foreign_url"),
            ("https://scrm.example.com", "foreign_url"),
            ("https://scrm.example.com/a b", "invalid_characters"),
            ("https://scrm.example.com/\u{7}", "invalid_characters"),
        ] {
            let e = page_url(raw, O).unwrap_err();
            assert_eq!((e.field, e.code), ("url", code), "{raw:?}");
        }
        let long = format!("{O}/{}", "a".repeat(MAX_URL_BYTES));
        assert_eq!(page_url(&long, O).unwrap_err().code, "text_too_long");
        assert_eq!(page_url("https://x/", "").unwrap_err().code, "foreign_url");
    }

    fn m(kind: &'static str) -> Sendable<'static> {
        Sendable {
            kind,
            title: "会员日",
            body: "全场8折",
            image_url: Some("https://scrm.example.com/h5/media/3"),
            appid: Some("wx123"),
            page: Some("pages/index"),
        }
    }

    #[test]
    fn texts_go_as_text_and_the_rest_through_the_tracked_link() {
        let t = chat_message(&m("text"), "unused");
        assert_eq!(t["msgtype"], "text");
        assert_eq!(t["text"]["content"], "全场8折");
        let empty = Sendable {
            body: " ",
            ..m("text")
        };
        assert_eq!(chat_message(&empty, "")["text"]["content"], "会员日");
        for kind in ["poster", "image", "link"] {
            let n = chat_message(&m(kind), "https://scrm.example.com/h5/r/tok");
            assert_eq!(n["msgtype"], "news");
            assert_eq!(n["news"]["link"], "https://scrm.example.com/h5/r/tok");
            assert_eq!(n["news"]["imgUrl"], "https://scrm.example.com/h5/media/3");
            assert!(needs_link(kind));
        }
        let mp = chat_message(&m("miniprogram"), "");
        assert_eq!(mp["miniprogram"]["appid"], "wx123");
        assert_eq!(mp["miniprogram"]["page"], "pages/index");
        assert!(!needs_link("text") && !needs_link("miniprogram"));
        let long = Sendable {
            body: &*"字".repeat(200).leak(),
            ..m("link")
        };
        let d = chat_message(&long, "x")["news"]["desc"]
            .as_str()
            .unwrap()
            .chars()
            .count();
        assert_eq!(d, MAX_DESC_CHARS);
    }
}
