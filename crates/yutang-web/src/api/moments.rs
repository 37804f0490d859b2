//! `/api/v1/moments`: moments tasks (客户朋友圈, issue #21 item 3) — a post written once and
//! published by the brand's guides to their customers' moments through WeCom, with who
//! published and the likes and comments on each post. Admins and operators for the brand, a
//! store manager for their store's guides; analysts read. See docs/messaging.md.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yutang_app::moments::{MomentDetail, MomentInput, MomentView, SenderChoice};
use yutang_core::moments::{self as core, MomentAttachment, MomentContent, Senders};
use yutang_core::time::Millis;

use crate::auth::{ApiActor, ApiJson, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

fn ts(ms: i64) -> String {
    Millis(ms).to_rfc3339()
}

/// One attachment: an uploaded image (`POST /api/v1/media`, PNG or JPEG), or a link card with
/// an uploaded cover image. A post carries up to 9 images or one link.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MomentAttachmentIn)]
pub struct AttachmentIn {
    /// `image` or `link`.
    pub kind: String,
    /// Image: the uploaded image's id.
    pub media_id: Option<i64>,
    /// Link: title, 1–64 bytes.
    pub title: Option<String>,
    /// Link: the http(s) URL opened.
    pub url: Option<String>,
    /// Link: the uploaded cover image's id (WeCom requires a cover).
    pub cover_media_id: Option<i64>,
}

impl AttachmentIn {
    fn parse(&self) -> Result<MomentAttachment, yutang_core::FieldError> {
        let missing = |what: &str| {
            yutang_core::FieldError::new(
                "attachments",
                "invalid_attachment",
                format!("{what} is required"),
            )
        };
        match self.kind.as_str() {
            "image" => Ok(MomentAttachment::Image {
                media_id: self.media_id.ok_or_else(|| missing("media_id"))?,
            }),
            "link" => MomentAttachment::link(
                self.title.as_deref().unwrap_or(""),
                self.url.as_deref().unwrap_or(""),
                self.cover_media_id
                    .ok_or_else(|| missing("cover_media_id"))?,
            ),
            _ => Err(yutang_core::FieldError::new(
                "attachments",
                "invalid_attachment",
                "kind is image or link",
            )),
        }
    }

    fn from_core(a: &MomentAttachment) -> Self {
        match a {
            MomentAttachment::Image { media_id } => Self {
                kind: "image".into(),
                media_id: Some(*media_id),
                title: None,
                url: None,
                cover_media_id: None,
            },
            MomentAttachment::Link {
                title,
                url,
                cover_media_id,
            } => Self {
                kind: "link".into(),
                media_id: None,
                title: Some(title.clone()),
                url: Some(url.clone()),
                cover_media_id: Some(*cover_media_id),
            },
        }
    }
}

/// A moments task: name, text and attachments, the guides who publish (`sender_ids`, or
/// `all_senders: true` for every guide in scope with a WeCom account at send time), the
/// WeCom corp tags whose customers see it (none: every customer of each guide), and when.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MomentIn {
    pub name: String,
    pub text: Option<String>,
    pub attachments: Option<Vec<AttachmentIn>>,
    pub sender_ids: Option<Vec<i64>>,
    pub all_senders: Option<bool>,
    pub tag_ids: Option<Vec<i64>>,
    /// RFC 3339; now when absent.
    pub send_at: Option<String>,
}

impl MomentIn {
    fn parse(&self) -> Result<MomentInput, yutang_app::AppError> {
        let name = core::parse_name(&self.name)?;
        let attachments = self
            .attachments
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .map(AttachmentIn::parse)
            .collect::<Result<Vec<_>, _>>()?;
        let content = MomentContent::parse(self.text.as_deref().unwrap_or(""), attachments)?;
        let senders = Senders::parse(self.sender_ids.clone(), self.all_senders == Some(true))?;
        let tag_ids = core::parse_visible_tags(self.tag_ids.clone().unwrap_or_default())?;
        let send_at = match &self.send_at {
            Some(s) => Some(Millis::parse_rfc3339("send_at", s)?.0),
            None => None,
        };
        Ok(MomentInput {
            name,
            content,
            senders,
            tag_ids,
            send_at,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MomentCounts)]
pub struct CountsOut {
    /// Guides asked who have not published yet.
    pub pending: i64,
    pub published: i64,
    /// Guides who cannot publish it (`not_active`, `wecom_refused`).
    pub invalid: i64,
    pub likes: i64,
    pub comments: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MomentSender)]
pub struct SenderOut {
    pub staff_id: i64,
    pub staff_name: String,
    /// `pending`, `published` or `invalid`.
    pub state: String,
    /// Why invalid: `not_active` or `wecom_refused`.
    pub reason: String,
    /// When Yutang first saw the post published.
    pub published_at: Option<String>,
    pub likes: i64,
    pub comments: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MomentInteraction)]
pub struct InteractionOut {
    /// The guide whose post it is.
    pub staff_id: i64,
    /// `like` or `comment`.
    pub kind: String,
    /// The customer, when Yutang knows them (a colleague's like has none).
    pub customer_id: Option<i64>,
    pub customer_name: Option<String>,
    pub at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MomentOut {
    pub id: i64,
    pub name: String,
    pub text: String,
    pub attachments: Vec<AttachmentIn>,
    /// The listed guides; null: every guide in scope at send time.
    pub sender_ids: Option<Vec<i64>>,
    pub tag_ids: Vec<i64>,
    /// `scheduled`, `creating`, `created`, `failed` or `cancelled`.
    pub status: String,
    pub send_at: String,
    pub store_id: Option<i64>,
    /// WeCom's moment id once made.
    pub moment_id: Option<String>,
    /// Why the task failed.
    pub error: String,
    /// Visible tags WeCom did not know.
    pub invalid_tag_ids: Vec<i64>,
    pub created_by: Option<i64>,
    pub created_at: String,
    pub sent_at: Option<String>,
    pub tracked_at: Option<String>,
    pub counts: CountsOut,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub senders: Option<Vec<SenderOut>>,
    /// The latest 100 likes and comments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interactions: Option<Vec<InteractionOut>>,
}

impl From<MomentView> for MomentOut {
    fn from(v: MomentView) -> Self {
        Self {
            id: v.id,
            name: v.name,
            text: v.content.text.clone(),
            attachments: v
                .content
                .attachments
                .iter()
                .map(AttachmentIn::from_core)
                .collect(),
            sender_ids: v.sender_ids,
            tag_ids: v.tag_ids,
            status: v.status,
            send_at: ts(v.send_at),
            store_id: v.store_id,
            moment_id: v.moment_id,
            error: v.error,
            invalid_tag_ids: v.invalid_tag_ids,
            created_by: v.created_by,
            created_at: ts(v.created_at),
            sent_at: v.sent_at.map(ts),
            tracked_at: v.tracked_at.map(ts),
            counts: CountsOut {
                pending: v.counts.pending,
                published: v.counts.published,
                invalid: v.counts.invalid,
                likes: v.counts.likes,
                comments: v.counts.comments,
            },
            senders: None,
            interactions: None,
        }
    }
}

impl From<MomentDetail> for MomentOut {
    fn from(d: MomentDetail) -> Self {
        let mut out = Self::from(d.moment);
        out.senders = Some(
            d.senders
                .into_iter()
                .map(|s| SenderOut {
                    staff_id: s.staff_id,
                    staff_name: s.display_name,
                    state: s.state,
                    reason: s.reason,
                    published_at: s.published_at.map(ts),
                    likes: s.likes,
                    comments: s.comments,
                })
                .collect(),
        );
        out.interactions = Some(
            d.interactions
                .into_iter()
                .map(|i| InteractionOut {
                    staff_id: i.staff_id,
                    kind: i.kind,
                    customer_id: i.customer_id,
                    customer_name: i.customer_name,
                    at: ts(i.at),
                })
                .collect(),
        );
        out
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MomentSenderChoice)]
pub struct SenderChoiceOut {
    pub staff_id: i64,
    pub name: String,
}

impl From<SenderChoice> for SenderChoiceOut {
    fn from(c: SenderChoice) -> Self {
        Self {
            staff_id: c.staff_id,
            name: c.name,
        }
    }
}

/// The moments tasks the caller may read, newest first (at most 200).
#[utoipa::path(get, path = "/api/v1/moments", tag = "messaging", security(("bearer" = [])),
    responses((status = 200, body = Vec<MomentOut>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Vec<MomentOut>>> {
    let rows = s.app.moments().list(&a).await?;
    Ok(Json(rows.into_iter().map(MomentOut::from).collect()))
}

/// Guides the caller may ask to publish: active, with a WeCom account, in scope.
#[utoipa::path(get, path = "/api/v1/moments/senders", tag = "messaging", security(("bearer" = [])),
    responses((status = 200, body = Vec<SenderChoiceOut>), (status = 403, body = ErrorBody)))]
pub async fn senders(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Vec<SenderChoiceOut>>> {
    let rows = s.app.moments().sender_choices(&a).await?;
    Ok(Json(rows.into_iter().map(SenderChoiceOut::from).collect()))
}

/// Create a moments task now or at `send_at`: the images are uploaded to WeCom and the
/// guides get a task to publish in their WeCom client.
#[utoipa::path(post, path = "/api/v1/moments", tag = "messaging", security(("bearer" = [])),
    request_body = MomentIn,
    responses((status = 201, body = MomentOut), (status = 403, body = ErrorBody),
        (status = 422, description = "invalid_name, empty_content, text_too_long, too_many_items, invalid_attachment, invalid_url, unknown_image, unsupported_image, invalid_senders, unknown_sender, unknown_tag, tag_not_in_wecom, send_at_past …", body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(req): ApiJson<MomentIn>,
) -> WebResult<(StatusCode, Json<MomentOut>)> {
    let input = req.parse()?;
    let d = s.app.moments().create(&a, &input).await?;
    Ok((StatusCode::CREATED, Json(d.into())))
}

/// One task with its guides and the latest likes and comments.
#[utoipa::path(get, path = "/api/v1/moments/{id}", tag = "messaging", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = MomentOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<MomentOut>> {
    Ok(Json(s.app.moments().get(&a, id).await?.into()))
}

/// Cancel a task: before it is sent nothing reaches WeCom; once made, guides who have not
/// published no longer can (what was published stays).
#[utoipa::path(post, path = "/api/v1/moments/{id}/cancel", tag = "messaging", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = MomentOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "moment_busy (being created), message_not_scheduled (failed or cancelled)", body = ErrorBody),
        (status = 503, description = "wecom_not_configured, wecom_error", body = ErrorBody)))]
pub async fn cancel(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<MomentOut>> {
    Ok(Json(s.app.moments().cancel(&a, id).await?.into()))
}

/// Read WeCom now: the creation's result, or who published and the likes and comments.
#[utoipa::path(post, path = "/api/v1/moments/{id}/refresh", tag = "messaging", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = MomentOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 503, description = "wecom_not_configured, wecom_error", body = ErrorBody)))]
pub async fn refresh(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<MomentOut>> {
    Ok(Json(s.app.moments().refresh(&a, id).await?.into()))
}
