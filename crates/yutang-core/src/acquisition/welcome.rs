//! The welcome a new contact gets (欢迎语): text with the customer's and the guide's names
//! filled in, and up to 9 attachments, sent through WeCom's `send_welcome_msg` (page 92599)
//! within 20 s of the add event.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// WeCom's limit on attachments of one welcome (92599).
pub const MAX_ATTACHMENTS: usize = 9;
/// The longest welcome text, in bytes (WeCom's text limit for welcome material is 3,000 bytes,
/// page 92366; the same bound is kept here).
pub const MAX_TEXT_BYTES: usize = 3000;
/// Placeholder for the customer's WeCom name.
pub const CUSTOMER_NAME: &str = "{customer_name}";
/// Placeholder for the guide's display name.
pub const GUIDE_NAME: &str = "{guide_name}";

/// One attachment, as WeCom's `attachments[]` item takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum WelcomeAttachment {
    /// An image by WeCom media id or by a picture URL from WeCom's image upload.
    Image {
        #[serde(default)]
        media_id: Option<String>,
        #[serde(default)]
        pic_url: Option<String>,
    },
    /// A link card.
    Link {
        title: String,
        url: String,
        #[serde(default)]
        picurl: Option<String>,
        #[serde(default)]
        desc: Option<String>,
    },
    /// A mini-program card.
    Miniprogram {
        title: String,
        pic_media_id: String,
        appid: String,
        page: String,
    },
    /// A video by WeCom media id.
    Video { media_id: String },
    /// A file by WeCom media id.
    File { media_id: String },
}

/// A welcome message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Welcome {
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub attachments: Vec<WelcomeAttachment>,
}

fn bad(code: &'static str, message: impl Into<String>) -> FieldError {
    FieldError::new("welcome.attachments", code, message)
}

fn required(v: &str, what: &str) -> Result<(), FieldError> {
    if v.trim().is_empty() {
        return Err(bad("required", format!("an attachment needs {what}")));
    }
    if v.chars().any(char::is_control) || v.len() > 2048 {
        return Err(bad(
            "invalid_text",
            format!("{what} is at most 2,048 bytes without control characters"),
        ));
    }
    Ok(())
}

fn http_url(v: &str, what: &str) -> Result<(), FieldError> {
    required(v, what)?;
    if !(v.starts_with("https://") || v.starts_with("http://")) {
        return Err(bad("invalid_url", format!("{what} must be an http(s) URL")));
    }
    Ok(())
}

impl WelcomeAttachment {
    fn check(&self) -> Result<(), FieldError> {
        match self {
            WelcomeAttachment::Image { media_id, pic_url } => {
                match (media_id.as_deref(), pic_url.as_deref()) {
                    (None | Some(""), None | Some("")) => Err(bad(
                        "required",
                        "an image attachment needs a media_id or a pic_url",
                    )),
                    (Some(m), _) if !m.is_empty() => required(m, "a media_id"),
                    (_, Some(u)) => http_url(u, "pic_url"),
                    _ => Ok(()),
                }
            }
            WelcomeAttachment::Link {
                title,
                url,
                picurl,
                desc,
            } => {
                required(title, "a title")?;
                http_url(url, "a url")?;
                if let Some(p) = picurl.as_deref().filter(|p| !p.is_empty()) {
                    http_url(p, "picurl")?;
                }
                if let Some(d) = desc.as_deref().filter(|d| !d.is_empty()) {
                    required(d, "desc")?;
                }
                Ok(())
            }
            WelcomeAttachment::Miniprogram {
                title,
                pic_media_id,
                appid,
                page,
            } => {
                required(title, "a title")?;
                required(pic_media_id, "a pic_media_id")?;
                required(appid, "an appid")?;
                required(page, "a page")
            }
            WelcomeAttachment::Video { media_id } | WelcomeAttachment::File { media_id } => {
                required(media_id, "a media_id")
            }
        }
    }
}

impl Welcome {
    /// Checks the welcome; an empty one (no text, no attachment) is `None`: nothing to send.
    pub fn parse(mut self) -> Result<Option<Self>, FieldError> {
        self.text = self.text.trim().to_owned();
        if self.text.len() > MAX_TEXT_BYTES {
            return Err(FieldError::new(
                "welcome.text",
                "invalid_text",
                format!("at most {MAX_TEXT_BYTES} bytes"),
            ));
        }
        if self
            .text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(FieldError::new(
                "welcome.text",
                "invalid_characters",
                "must not contain control characters (only tabs and line breaks)",
            ));
        }
        if self.attachments.len() > MAX_ATTACHMENTS {
            return Err(bad(
                "too_many_items",
                format!("at most {MAX_ATTACHMENTS} attachments"),
            ));
        }
        for a in &self.attachments {
            a.check()?;
        }
        if self.text.is_empty() && self.attachments.is_empty() {
            return Ok(None);
        }
        Ok(Some(self))
    }

    /// The text with the names filled in (a name missing leaves the placeholder empty).
    pub fn render(&self, customer_name: &str, guide_name: &str) -> String {
        self.text
            .replace(CUSTOMER_NAME, customer_name)
            .replace(GUIDE_NAME, guide_name)
    }
}

/// The outcome of one welcome, as recorded per add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WelcomeOutcome {
    /// Queued; not yet tried (or tried and to be retried).
    Pending,
    Sent,
    /// The 20 s window had passed before Yutang could send it (e.g. a restart); never sent.
    Expired,
    /// WeCom answered 41051: a welcome already reached the customer (another app, or the
    /// admin console's welcome). Never retried.
    AlreadySent,
    /// WeCom refused it for another reason; the error is recorded.
    Failed,
}

impl WelcomeOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            WelcomeOutcome::Pending => "pending",
            WelcomeOutcome::Sent => "sent",
            WelcomeOutcome::Expired => "expired",
            WelcomeOutcome::AlreadySent => "already_sent",
            WelcomeOutcome::Failed => "failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(url: &str) -> WelcomeAttachment {
        WelcomeAttachment::Link {
            title: "新人礼".into(),
            url: url.into(),
            picurl: None,
            desc: None,
        }
    }

    #[test]
    fn renders_names() {
        let w = Welcome {
            text: "{customer_name} 你好，我是{guide_name}".into(),
            attachments: vec![],
        };
        assert_eq!(w.render("小林", "王店长"), "小林 你好，我是王店长");
    }

    #[test]
    fn empty_is_nothing_to_send() {
        let w = Welcome {
            text: "  ".into(),
            attachments: vec![],
        };
        assert_eq!(w.parse(), Ok(None));
    }

    #[test]
    fn refuses_bad_attachments() {
        let w = Welcome {
            text: "hi".into(),
            attachments: vec![link("https://a.example/x"); 10],
        };
        assert_eq!(w.parse().unwrap_err().code, "too_many_items");
        let w = Welcome {
            text: String::new(),
            attachments: vec![WelcomeAttachment::Image {
                media_id: None,
                pic_url: None,
            }],
        };
        let e = w.parse().unwrap_err();
        assert_eq!((e.field, e.code), ("welcome.attachments", "required"));
        let w = Welcome {
            text: String::new(),
            attachments: vec![link("javascript:alert(1)")],
        };
        assert_eq!(w.parse().unwrap_err().code, "invalid_url");
        let w = Welcome {
            text: "a\u{7}b".into(),
            attachments: vec![],
        };
        assert_eq!(w.parse().unwrap_err().field, "welcome.text");
        let w = Welcome {
            text: "好".repeat(1001),
            attachments: vec![],
        };
        assert_eq!(w.parse().unwrap_err().code, "invalid_text");
    }

    #[test]
    fn accepts_nine() {
        let w = Welcome {
            text: "第一行\n第二行".into(),
            attachments: vec![link("https://a.example/x"); 9],
        };
        assert!(w.parse().unwrap().is_some());
    }
}
