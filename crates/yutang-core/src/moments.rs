//! Moments tasks (客户朋友圈, issue #21 item 3): a post the brand writes once and its guides
//! publish to their customers' moments through WeCom's `add_moment_task`. No I/O: the content
//! and the audience are parsed here, and the states a task and each of its guides move through
//! are named here.
//!
//! **What a post may hold** is WeCom's rule (page 96351): text of at most
//! [`MAX_TEXT_CHARS`] characters, and either up to [`MAX_IMAGES`] images or one link card, never
//! both, not both empty. Images are Yutang's own uploaded images (PNG or JPEG — WeCom takes no
//! WebP), uploaded to WeCom when the task is sent; a link card needs a cover image the same
//! way. Videos are not offered: Yutang's media store holds images only.
//!
//! **Who publishes and who sees it.** The senders are listed guides or every guide in the
//! caller's scope at send time; the customers who see it are those of each sender carrying one
//! of the visible tags (WeCom's `tag_list`, corp tags only), or all of a sender's customers
//! when no tag is given. A post is not a chat message: it does not count against a customer's
//! frequency cap (the customer chose to look at their moments feed).

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::messaging::{has_control, parse_url};

/// Text of a post: at most this many characters (WeCom: 'invalid text size' past 2,000).
pub const MAX_TEXT_CHARS: usize = 2000;
/// Images of one post, at most (WeCom: 9).
pub const MAX_IMAGES: usize = 9;
/// A link card's title: at most 64 bytes.
pub const MAX_LINK_TITLE_BYTES: usize = 64;
/// Guides named one by one, at most (WeCom takes 100,000; a brand names far fewer).
pub const MAX_LISTED_SENDERS: usize = 10_000;
/// Visible tags, at most.
pub const MAX_VISIBLE_TAGS: usize = 100;
/// A task's name: at most this many characters.
pub const MAX_NAME_CHARS: usize = 40;

fn field(f: &'static str, code: &'static str, msg: impl Into<String>) -> FieldError {
    FieldError::new(f, code, msg)
}

/// One attachment of a post, by Yutang media id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MomentAttachment {
    /// An uploaded image.
    Image { media_id: i64 },
    /// A link card with an uploaded cover image (WeCom requires the cover).
    Link {
        title: String,
        url: String,
        cover_media_id: i64,
    },
}

impl MomentAttachment {
    /// Parse a link card.
    pub fn link(title: &str, url: &str, cover_media_id: i64) -> Result<Self, FieldError> {
        let title = title.trim();
        if title.is_empty() || title.len() > MAX_LINK_TITLE_BYTES || has_control(title) {
            return Err(field(
                "attachments",
                "invalid_attachment",
                "a link's title is 1–64 bytes (about 21 Chinese characters)",
            ));
        }
        Ok(MomentAttachment::Link {
            title: title.to_owned(),
            url: parse_url("attachments", url)?,
            cover_media_id,
        })
    }

    /// The Yutang image this attachment needs uploaded to WeCom.
    pub fn media_id(&self) -> i64 {
        match self {
            MomentAttachment::Image { media_id } => *media_id,
            MomentAttachment::Link { cover_media_id, .. } => *cover_media_id,
        }
    }
}

/// What a post says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MomentContent {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<MomentAttachment>,
}

impl MomentContent {
    /// Text of at most [`MAX_TEXT_CHARS`] characters (line breaks allowed), and up to
    /// [`MAX_IMAGES`] images or exactly one link, not both empty.
    pub fn parse(text: &str, attachments: Vec<MomentAttachment>) -> Result<Self, FieldError> {
        let text = text.trim();
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err(field(
                "text",
                "text_too_long",
                format!("at most {MAX_TEXT_CHARS} characters"),
            ));
        }
        if has_control(text) {
            return Err(field(
                "text",
                "invalid_characters",
                "control characters are not allowed",
            ));
        }
        let links = attachments
            .iter()
            .filter(|a| matches!(a, MomentAttachment::Link { .. }))
            .count();
        if links > 0 && attachments.len() > 1 {
            return Err(field(
                "attachments",
                "invalid_attachment",
                "a post carries up to 9 images or one link, not both",
            ));
        }
        if attachments.len() > MAX_IMAGES {
            return Err(field(
                "attachments",
                "too_many_items",
                format!("at most {MAX_IMAGES} images"),
            ));
        }
        if text.is_empty() && attachments.is_empty() {
            return Err(field(
                "text",
                "empty_content",
                "write a text or add an image or a link",
            ));
        }
        Ok(Self {
            text: text.to_owned(),
            attachments,
        })
    }

    /// The distinct Yutang images to upload, in order.
    pub fn media_ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = Vec::new();
        for id in self.attachments.iter().map(MomentAttachment::media_id) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }
}

/// The guides who publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Senders {
    /// These staff members.
    Listed(Vec<i64>),
    /// Every active guide with a WeCom account in the caller's scope, at send time.
    All,
}

impl Senders {
    /// Exactly one of a non-empty list or `all`.
    pub fn parse(sender_ids: Option<Vec<i64>>, all: bool) -> Result<Self, FieldError> {
        match (sender_ids, all) {
            (Some(ids), false) => {
                let ids = dedup(ids);
                if ids.is_empty() {
                    Err(field(
                        "sender_ids",
                        "invalid_senders",
                        "pick at least one guide",
                    ))
                } else if ids.len() > MAX_LISTED_SENDERS {
                    Err(field(
                        "sender_ids",
                        "too_many_items",
                        format!("at most {MAX_LISTED_SENDERS} guides; or choose all guides"),
                    ))
                } else {
                    Ok(Senders::Listed(ids))
                }
            }
            (None, true) => Ok(Senders::All),
            (None, false) => Err(field(
                "sender_ids",
                "invalid_senders",
                "pick guides, or all guides",
            )),
            (Some(_), true) => Err(field(
                "all_senders",
                "invalid_senders",
                "give sender_ids or all_senders, not both",
            )),
        }
    }
}

/// The visible tags, distinct, at most [`MAX_VISIBLE_TAGS`].
pub fn parse_visible_tags(ids: Vec<i64>) -> Result<Vec<i64>, FieldError> {
    let ids = dedup(ids);
    if ids.len() > MAX_VISIBLE_TAGS {
        return Err(field(
            "tag_ids",
            "too_many_items",
            format!("at most {MAX_VISIBLE_TAGS} tags"),
        ));
    }
    Ok(ids)
}

/// A task's name: 1–60 characters, no control characters.
pub fn parse_name(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(field(
            "name",
            "invalid_name",
            format!("1–{MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(field(
            "name",
            "invalid_characters",
            "control characters are not allowed",
        ));
    }
    Ok(name.to_owned())
}

fn dedup(ids: Vec<i64>) -> Vec<i64> {
    let mut seen = std::collections::HashSet::new();
    ids.into_iter().filter(|id| seen.insert(*id)).collect()
}

/// Where a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Saved; sent at its send time (cancellable).
    Scheduled,
    /// Being created in WeCom (attachments uploaded, the job polled).
    Creating,
    /// WeCom made the moment; guides publish it and Yutang reads who did.
    Created,
    /// WeCom refused it (reason kept).
    Failed,
    /// Cancelled: before sending, or stopped in WeCom (what was published stays).
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Scheduled => "scheduled",
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }
}

/// A guide's part in a task.
pub const SENDER_STATES: [&str; 3] = ["pending", "published", "invalid"];

#[cfg(test)]
mod tests {
    use super::*;

    fn img(id: i64) -> MomentAttachment {
        MomentAttachment::Image { media_id: id }
    }

    #[test]
    fn a_post_holds_images_or_one_link_never_both() {
        assert!(MomentContent::parse("新品", (1..=9).map(img).collect()).is_ok());
        let ten = MomentContent::parse("", (1..=10).map(img).collect()).unwrap_err();
        assert_eq!((ten.field, ten.code), ("attachments", "too_many_items"));
        let link = MomentAttachment::link("春季上新", "https://shop.example/new", 3).unwrap();
        assert!(MomentContent::parse("", vec![link.clone()]).is_ok());
        let mixed = MomentContent::parse("", vec![link.clone(), img(1)]).unwrap_err();
        assert_eq!(mixed.code, "invalid_attachment");
        let two = MomentContent::parse("", vec![link.clone(), link]).unwrap_err();
        assert_eq!(two.code, "invalid_attachment");
    }

    #[test]
    fn text_is_at_most_2000_characters_and_not_empty_without_attachments() {
        let long: String = "字".repeat(MAX_TEXT_CHARS);
        assert!(MomentContent::parse(&long, vec![]).is_ok());
        let over = format!("{long}字");
        assert_eq!(
            MomentContent::parse(&over, vec![]).unwrap_err().code,
            "text_too_long"
        );
        assert_eq!(
            MomentContent::parse("  ", vec![]).unwrap_err().code,
            "empty_content"
        );
        assert_eq!(
            MomentContent::parse("a\u{7}b", vec![]).unwrap_err().code,
            "invalid_characters"
        );
        assert!(MomentContent::parse("第一行\n第二行", vec![]).is_ok());
    }

    #[test]
    fn senders_are_a_list_or_all_never_both_never_neither() {
        assert_eq!(
            Senders::parse(Some(vec![3, 3, 4]), false).unwrap(),
            Senders::Listed(vec![3, 4])
        );
        assert_eq!(Senders::parse(None, true).unwrap(), Senders::All);
        for bad in [
            Senders::parse(None, false),
            Senders::parse(Some(vec![]), false),
            Senders::parse(Some(vec![1]), true),
        ] {
            assert_eq!(bad.unwrap_err().code, "invalid_senders");
        }
    }

    #[test]
    fn the_images_to_upload_are_distinct() {
        let c = MomentContent::parse("", vec![img(2), img(1), img(2)]).unwrap();
        assert_eq!(c.media_ids(), vec![2, 1]);
    }

    #[test]
    fn a_link_needs_a_title_and_an_http_url() {
        assert_eq!(
            MomentAttachment::link("", "https://a.example", 1)
                .unwrap_err()
                .code,
            "invalid_attachment"
        );
        assert_eq!(
            MomentAttachment::link("t", "ftp://a.example", 1)
                .unwrap_err()
                .code,
            "invalid_url"
        );
    }
}
