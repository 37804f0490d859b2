//! `/api/v1/mass-messages`: mass messages to customers through their guides (群发, issue #21
//! item 1) and to customer groups through their owners (客户群群发, item 2) — the reach
//! preview, sending now or at a time, per-customer (per-group) results, reminders —
//! and `/api/v1/messaging/settings`, the brand's frequency caps, WeCom receipt rule and
//! opt-out tag. Admins and operators send to the brand, a store manager to their store's
//! customers; analysts read. See docs/messaging.md.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yutang_app::messaging::{
    Counts, GroupRecipientPage, MessageDetail, MessageInput, MessageView, Preview, RecipientPage,
    Reminded, SettingsView, TaskView,
};
use yutang_core::messaging::{Attachment, Audience, AudienceForm, Caps, Content};
use yutang_core::time::Millis;

use crate::auth::{ApiActor, ApiJson, ApiQuery, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

fn ts(ms: i64) -> String {
    Millis(ms).to_rfc3339()
}

/// One attachment: a link card or an image by picture URL.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MassMessageAttachment)]
pub struct AttachmentIn {
    /// `link` or `image`.
    pub kind: String,
    /// Link: title, 1–64 bytes.
    pub title: Option<String>,
    /// Link: the http(s) URL opened.
    pub url: Option<String>,
    /// Link: description, at most 512 bytes.
    pub desc: Option<String>,
    /// Link: cover picture URL.
    pub picurl: Option<String>,
    /// Image: a permanent picture URL (WeCom's uploaded image URL).
    pub pic_url: Option<String>,
}

impl AttachmentIn {
    fn parse(&self) -> Result<Attachment, yutang_core::FieldError> {
        let s = |o: &Option<String>| o.clone().unwrap_or_default();
        match self.kind.as_str() {
            "link" => Attachment::link(
                &s(&self.title),
                &s(&self.url),
                &s(&self.desc),
                &s(&self.picurl),
            ),
            "image" => Attachment::image(&s(&self.pic_url)),
            _ => Err(yutang_core::FieldError::new(
                "attachments",
                "invalid_attachment",
                "kind is link or image",
            )),
        }
    }

    fn from_core(a: &Attachment) -> Self {
        match a {
            Attachment::Link {
                title,
                url,
                desc,
                picurl,
            } => Self {
                kind: "link".into(),
                title: Some(title.clone()),
                url: Some(url.clone()),
                desc: (!desc.is_empty()).then(|| desc.clone()),
                picurl: (!picurl.is_empty()).then(|| picurl.clone()),
                pic_url: None,
            },
            Attachment::Image { pic_url } => Self {
                kind: "image".into(),
                title: None,
                url: None,
                desc: None,
                picurl: None,
                pic_url: Some(pic_url.clone()),
            },
        }
    }
}

/// Who a message is for, always within the caller's scope: customers through their guides
/// — exactly one of `segment_id`, `tag_ids` (customers with every tag) or `customer_ids`
/// (1–10,000) — or customer groups through their owners: `group_ids` (1–5,000) or
/// `all_groups: true` (every group not dismissed).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MassMessageAudience)]
pub struct AudienceIn {
    pub segment_id: Option<i64>,
    pub tag_ids: Option<Vec<i64>>,
    pub customer_ids: Option<Vec<i64>>,
    pub group_ids: Option<Vec<i64>>,
    pub all_groups: Option<bool>,
}

impl AudienceIn {
    fn parse(&self) -> Result<Audience, yutang_core::FieldError> {
        Audience::parse(AudienceForm {
            segment_id: self.segment_id,
            tag_ids: self.tag_ids.clone(),
            customer_ids: self.customer_ids.clone(),
            group_ids: self.group_ids.clone(),
            all_groups: self.all_groups,
        })
    }
}

/// The audience as stored.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MassMessageAudienceOut)]
pub struct AudienceOut {
    /// `segment`, `tags`, `customers`, `groups` or `all_groups`.
    pub kind: String,
    pub segment_id: Option<i64>,
    pub tag_ids: Option<Vec<i64>>,
    pub customer_ids: Option<Vec<i64>>,
    pub group_ids: Option<Vec<i64>>,
}

impl From<&Audience> for AudienceOut {
    fn from(a: &Audience) -> Self {
        let mut out = Self {
            kind: a.kind().into(),
            segment_id: None,
            tag_ids: None,
            customer_ids: None,
            group_ids: None,
        };
        match a {
            Audience::Segment { segment_id } => out.segment_id = Some(*segment_id),
            Audience::Tags { tag_ids } => out.tag_ids = Some(tag_ids.clone()),
            Audience::Customers { customer_ids } => out.customer_ids = Some(customer_ids.clone()),
            Audience::Groups { group_ids } => out.group_ids = Some(group_ids.clone()),
            Audience::AllGroups => {}
        }
        out
    }
}

/// A message as entered.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MassMessageIn)]
pub struct MessageIn {
    /// 1–40 characters, for the console (customers do not see it).
    pub name: String,
    /// The text, at most 4,000 characters (line breaks allowed).
    pub text: Option<String>,
    /// At most 9; text and attachments are not both empty.
    pub attachments: Option<Vec<AttachmentIn>>,
    pub audience: AudienceIn,
    /// Share of the eligible audience kept unsent to measure uplift, 0–5000 basis points
    /// (customers only: 0 for groups).
    pub holdout_bp: Option<i64>,
    /// RFC 3339; absent: now. Not in the past.
    pub send_at: Option<String>,
}

fn content_of(
    text: Option<&str>,
    attachments: Option<&[AttachmentIn]>,
) -> Result<Content, yutang_core::FieldError> {
    let parsed = attachments
        .unwrap_or(&[])
        .iter()
        .map(AttachmentIn::parse)
        .collect::<Result<Vec<_>, _>>()?;
    Content::parse(text.unwrap_or(""), parsed)
}

impl MessageIn {
    fn parse(&self) -> Result<MessageInput, yutang_app::AppError> {
        let content = content_of(self.text.as_deref(), self.attachments.as_deref())?;
        let send_at = match &self.send_at {
            Some(s) => Some(Millis::parse_rfc3339("send_at", s)?.0),
            None => None,
        };
        MessageInput::parse(
            &self.name,
            content,
            self.audience.parse()?,
            self.holdout_bp,
            send_at,
        )
    }
}

/// A preview request: the audience and holdout a message would have.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MassMessagePreviewIn)]
pub struct PreviewIn {
    pub audience: AudienceIn,
    pub holdout_bp: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MessagingSettingsOut)]
pub struct SettingsOut {
    /// Marketing messages one customer receives per Shanghai day, at most.
    pub daily_cap: u32,
    /// … per rolling 7 days, at most.
    pub weekly_cap: u32,
    /// WeCom's receipt rule the corp uses: `month_days` (default), `weekly_7` or `daily_1`.
    pub receipt_rule: String,
    /// Customers with this tag receive no mass message.
    pub opt_out_tag_id: Option<i64>,
    /// Its `group/name`.
    pub opt_out_tag: Option<String>,
    /// Null until first saved (the defaults apply: 1 a day, 3 a week, month_days).
    pub updated_at: Option<String>,
}

impl From<SettingsView> for SettingsOut {
    fn from(v: SettingsView) -> Self {
        Self {
            daily_cap: v.daily_cap,
            weekly_cap: v.weekly_cap,
            receipt_rule: v.receipt_rule.as_str().into(),
            opt_out_tag_id: v.opt_out_tag_id,
            opt_out_tag: v.opt_out_tag,
            updated_at: v.updated_at.map(ts),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MessagingSettingsIn)]
pub struct SettingsIn {
    /// 1–50.
    pub daily_cap: i64,
    /// 1–200, at least `daily_cap`.
    pub weekly_cap: i64,
    /// `month_days`, `weekly_7` or `daily_1`.
    pub receipt_rule: String,
    /// An existing tag, or null for none.
    pub opt_out_tag_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MassMessageGuide)]
pub struct GuideOut {
    pub staff_id: i64,
    pub name: String,
    pub recipients: u64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MassMessagePreviewOut)]
pub struct PreviewOut {
    /// `single` (customers, through their guides) or `group` (groups, through their owners).
    pub chat_type: String,
    /// Customers (groups) in the audience within the caller's scope.
    pub audience: u64,
    /// Who would be sent now.
    pub send: u64,
    /// Kept unsent for the holdout.
    pub holdout: u64,
    /// Excluded by reason: customers `no_guide`, `deleted_guide`, `opted_out`, `receipt_cap`,
    /// `frequency_cap`; groups `dismissed`, `no_owner`, `receipt_cap`.
    pub excluded: BTreeMap<String, u64>,
    /// The guides (group owners) who would send, most recipients first (at most 20).
    pub guides: Vec<GuideOut>,
    pub rules: SettingsOut,
}

impl From<Preview> for PreviewOut {
    fn from(p: Preview) -> Self {
        Self {
            chat_type: p.chat_type.into(),
            audience: p.audience,
            send: p.send,
            holdout: p.holdout,
            excluded: p
                .excluded
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            guides: p
                .guides
                .into_iter()
                .map(|g| GuideOut {
                    staff_id: g.staff_id,
                    name: g.name,
                    recipients: g.recipients,
                })
                .collect(),
            rules: p.rules.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MassMessageCounts)]
pub struct CountsOut {
    pub audience: i64,
    pub excluded: i64,
    pub holdout: i64,
    pub queued: i64,
    pub task_created: i64,
    pub delivered: i64,
    pub failed: i64,
    /// Excluded and failed recipients by reason.
    pub reasons: BTreeMap<String, i64>,
}

impl From<Counts> for CountsOut {
    fn from(c: Counts) -> Self {
        Self {
            audience: c.audience,
            excluded: c.excluded,
            holdout: c.holdout,
            queued: c.queued,
            task_created: c.task_created,
            delivered: c.delivered,
            failed: c.failed,
            reasons: c.reasons,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MassMessageTask)]
pub struct TaskOut {
    pub id: i64,
    pub staff_id: i64,
    pub staff_name: String,
    /// `pending`, `sending`, `created`, `confirmed` or `failed`.
    pub state: String,
    pub recipients: i64,
    pub msgid: Option<String>,
    pub confirmed_at: Option<String>,
    pub reminders_24h: usize,
    pub last_error: String,
}

impl From<TaskView> for TaskOut {
    fn from(t: TaskView) -> Self {
        Self {
            id: t.id,
            staff_id: t.staff_id,
            staff_name: t.staff_name,
            state: t.state,
            recipients: t.recipients,
            msgid: t.msgid,
            confirmed_at: t.confirmed_at.map(ts),
            reminders_24h: t.reminders_24h,
            last_error: t.last_error,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MassMessageOut)]
pub struct MessageOut {
    pub id: i64,
    pub name: String,
    pub text: String,
    pub attachments: Vec<AttachmentIn>,
    pub audience: AudienceOut,
    pub holdout_bp: i64,
    /// `scheduled`, `sending`, `sent` or `cancelled`.
    pub status: String,
    pub send_at: String,
    /// A store manager's message: their store.
    pub store_id: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: String,
    pub prepared_at: Option<String>,
    pub sent_at: Option<String>,
    /// When WeCom's results were last read.
    pub tracked_at: Option<String>,
    pub counts: CountsOut,
    /// The guides' WeCom tasks (in a single message's answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<TaskOut>>,
}

impl MessageOut {
    fn new(v: MessageView, tasks: Option<Vec<TaskView>>) -> Self {
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
            audience: (&v.audience).into(),
            holdout_bp: v.holdout_bp,
            status: v.status,
            send_at: ts(v.send_at),
            store_id: v.store_id,
            created_by: v.created_by,
            created_at: ts(v.created_at),
            prepared_at: v.prepared_at.map(ts),
            sent_at: v.sent_at.map(ts),
            tracked_at: v.tracked_at.map(ts),
            counts: v.counts.into(),
            tasks: tasks.map(|t| t.into_iter().map(Into::into).collect()),
        }
    }
}

impl From<MessageDetail> for MessageOut {
    fn from(d: MessageDetail) -> Self {
        Self::new(d.message, Some(d.tasks))
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MassMessageRecipient)]
pub struct RecipientOut {
    pub customer_id: i64,
    pub customer_name: String,
    /// `excluded`, `holdout`, `queued`, `task_created`, `delivered` or `failed`.
    pub state: String,
    /// Why excluded (`no_guide` …) or failed (`wecom_refused`, `not_friend`, `receipt_cap`,
    /// `wecom_error`).
    pub reason: String,
    pub staff_id: Option<i64>,
    pub staff_name: Option<String>,
    pub delivered_at: Option<String>,
    pub updated_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MassMessageRecipientPage)]
pub struct RecipientPageOut {
    pub items: Vec<RecipientOut>,
    /// Pass back as `after` for the next page; null on the last page.
    pub next_after: Option<i64>,
}

impl From<RecipientPage> for RecipientPageOut {
    fn from(p: RecipientPage) -> Self {
        Self {
            items: p
                .items
                .into_iter()
                .map(|r| RecipientOut {
                    customer_id: r.customer_id,
                    customer_name: r.customer_name,
                    state: r.state,
                    reason: r.reason,
                    staff_id: r.staff_id,
                    staff_name: r.staff_name,
                    delivered_at: r.delivered_at.map(ts),
                    updated_at: ts(r.updated_at),
                })
                .collect(),
            next_after: p.next_after,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MassMessageGroupRecipient)]
pub struct GroupRecipientOut {
    pub group_id: i64,
    pub group_name: String,
    /// `excluded`, `queued`, `task_created`, `delivered` or `failed`.
    pub state: String,
    /// Why excluded (`dismissed`, `no_owner`, `receipt_cap`) or failed (`wecom_refused`,
    /// `receipt_cap`, `wecom_error`).
    pub reason: String,
    /// The owner who sends.
    pub staff_id: Option<i64>,
    pub staff_name: Option<String>,
    pub delivered_at: Option<String>,
    pub updated_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MassMessageGroupPage)]
pub struct GroupPageOut {
    pub items: Vec<GroupRecipientOut>,
    /// Pass back as `after` for the next page; null on the last page.
    pub next_after: Option<i64>,
}

impl From<GroupRecipientPage> for GroupPageOut {
    fn from(p: GroupRecipientPage) -> Self {
        Self {
            items: p
                .items
                .into_iter()
                .map(|r| GroupRecipientOut {
                    group_id: r.group_id,
                    group_name: r.group_name,
                    state: r.state,
                    reason: r.reason,
                    staff_id: r.staff_id,
                    staff_name: r.staff_name,
                    delivered_at: r.delivered_at.map(ts),
                    updated_at: ts(r.updated_at),
                })
                .collect(),
            next_after: p.next_after,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MassMessageReminded)]
pub struct RemindedOut {
    /// Guides reminded.
    pub reminded: usize,
    /// Guides not reminded: WeCom's 3 reminders in 24 hours are used up.
    pub at_limit: usize,
}

impl From<Reminded> for RemindedOut {
    fn from(r: Reminded) -> Self {
        Self {
            reminded: r.reminded,
            at_limit: r.at_limit,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RecipientsParams {
    /// Only this state.
    pub state: Option<String>,
    /// The `next_after` of the previous page.
    pub after: Option<i64>,
    /// 1–500, default 50.
    pub limit: Option<i64>,
}

/// The messaging rules.
#[utoipa::path(get, path = "/api/v1/messaging/settings", tag = "messaging", security(("bearer" = [])),
    responses((status = 200, body = SettingsOut), (status = 403, body = ErrorBody)))]
pub async fn get_settings(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<SettingsOut>> {
    Ok(Json(s.app.messaging().settings(&a).await?.into()))
}

/// Change the messaging rules (admins and operators).
#[utoipa::path(put, path = "/api/v1/messaging/settings", tag = "messaging", security(("bearer" = [])),
    request_body = SettingsIn,
    responses((status = 200, body = SettingsOut), (status = 403, body = ErrorBody),
        (status = 422, description = "invalid_cap, invalid_receipt_rule, unknown_tag", body = ErrorBody)))]
pub async fn put_settings(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(req): ApiJson<SettingsIn>,
) -> WebResult<Json<SettingsOut>> {
    let caps = Caps::parse(req.daily_cap, req.weekly_cap, &req.receipt_rule)?;
    Ok(Json(
        s.app
            .messaging()
            .save_settings(&a, caps, req.opt_out_tag_id)
            .await?
            .into(),
    ))
}

/// Who an audience would reach now, who it would not and why, and through which guides.
#[utoipa::path(post, path = "/api/v1/mass-messages/preview", tag = "messaging", security(("bearer" = [])),
    request_body = PreviewIn,
    responses((status = 200, body = PreviewOut), (status = 403, body = ErrorBody),
        (status = 422, description = "invalid_audience, unknown_segment, unknown_tag, unknown_customer, unknown_group, invalid_holdout", body = ErrorBody)))]
pub async fn preview(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(req): ApiJson<PreviewIn>,
) -> WebResult<Json<PreviewOut>> {
    let audience = req.audience.parse()?;
    let bp = yutang_core::messaging::parse_holdout(req.holdout_bp)?;
    Ok(Json(
        s.app.messaging().preview(&a, &audience, bp).await?.into(),
    ))
}

/// The messages the caller may read, newest first (at most 200).
#[utoipa::path(get, path = "/api/v1/mass-messages", tag = "messaging", security(("bearer" = [])),
    responses((status = 200, body = Vec<MessageOut>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Vec<MessageOut>>> {
    let rows = s.app.messaging().list(&a).await?;
    Ok(Json(
        rows.into_iter().map(|v| MessageOut::new(v, None)).collect(),
    ))
}

/// Send a message now or at `send_at`: the audience is decided at that moment (the preview's
/// rules), each guide gets a WeCom task to confirm.
#[utoipa::path(post, path = "/api/v1/mass-messages", tag = "messaging", security(("bearer" = [])),
    request_body = MessageIn,
    responses((status = 201, body = MessageOut), (status = 403, body = ErrorBody),
        (status = 422, description = "invalid_name, empty_content, text_too_long, too_many_items, invalid_attachment, invalid_url, invalid_audience, unknown_segment, unknown_tag, unknown_customer, unknown_group, invalid_holdout, send_at_past …", body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(req): ApiJson<MessageIn>,
) -> WebResult<(StatusCode, Json<MessageOut>)> {
    let input = req.parse()?;
    let d = s.app.messaging().create(&a, &input).await?;
    Ok((StatusCode::CREATED, Json(d.into())))
}

/// One message with its counts and guides' tasks.
#[utoipa::path(get, path = "/api/v1/mass-messages/{id}", tag = "messaging", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = MessageOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<MessageOut>> {
    Ok(Json(s.app.messaging().get(&a, id).await?.into()))
}

/// A page of a message's recipients with their state, by customer id.
#[utoipa::path(get, path = "/api/v1/mass-messages/{id}/recipients", tag = "messaging", security(("bearer" = [])),
    params(("id" = i64, Path), RecipientsParams),
    responses((status = 200, body = RecipientPageOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn recipients(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiQuery(p): ApiQuery<RecipientsParams>,
) -> WebResult<Json<RecipientPageOut>> {
    let page = s
        .app
        .messaging()
        .recipients(&a, id, p.state.as_deref(), p.after, p.limit)
        .await?;
    Ok(Json(page.into()))
}

/// A page of a group message's groups with their state, by group id (empty for a message to
/// customers).
#[utoipa::path(get, path = "/api/v1/mass-messages/{id}/groups", tag = "messaging", security(("bearer" = [])),
    params(("id" = i64, Path), RecipientsParams),
    responses((status = 200, body = GroupPageOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn groups(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiQuery(p): ApiQuery<RecipientsParams>,
) -> WebResult<Json<GroupPageOut>> {
    let page = s
        .app
        .messaging()
        .groups(&a, id, p.state.as_deref(), p.after, p.limit)
        .await?;
    Ok(Json(page.into()))
}

/// Cancel a message still scheduled (409 `message_not_scheduled` once it is being sent).
#[utoipa::path(post, path = "/api/v1/mass-messages/{id}/cancel", tag = "messaging", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = MessageOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn cancel(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<MessageOut>> {
    Ok(Json(s.app.messaging().cancel(&a, id).await?.into()))
}

/// Remind the guides who have not sent their task yet (at most 3 times in 24 hours each).
#[utoipa::path(post, path = "/api/v1/mass-messages/{id}/remind", tag = "messaging", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = RemindedOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn remind(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<RemindedOut>> {
    Ok(Json(s.app.messaging().remind(&a, id).await?.into()))
}

/// Read WeCom's results now (they are also read every 10 minutes for 3 days).
#[utoipa::path(post, path = "/api/v1/mass-messages/{id}/refresh", tag = "messaging", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = MessageOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn refresh(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<MessageOut>> {
    Ok(Json(s.app.messaging().refresh(&a, id).await?.into()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UpliftParams {
    /// Days after the send to compare, 1–90 (default 7).
    pub days: Option<i64>,
}

/// One arm of the comparison.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MassMessageArm)]
pub struct ArmOut {
    pub customers: i64,
    /// Customers with an order in the window.
    pub buyers: i64,
    /// Orders (not refunded in full).
    pub orders: i64,
    /// Net spend (paid minus refunded), fen.
    pub net_fen: i64,
}

/// An estimate with its 95% interval.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MassMessageInterval)]
pub struct IntervalOut {
    pub estimate: i64,
    pub low: i64,
    pub high: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = MassMessageUplift)]
pub struct UpliftOut {
    pub message_id: i64,
    /// `randomised_holdout`: the holdout was drawn at random, so the difference is causal up
    /// to chance.
    pub evidence: String,
    pub holdout_bp: i64,
    pub days: i64,
    /// The window: from the send, `days` long.
    pub from: String,
    pub to: String,
    /// Whether the window has ended.
    pub complete: bool,
    /// Everyone sent (whether or not their guide confirmed: intent to treat).
    pub sent: ArmOut,
    pub holdout: ArmOut,
    /// Share of buyers, sent minus holdout, basis points (null while an arm is empty).
    pub buyer_share_bp: Option<IntervalOut>,
    /// Orders per customer, sent minus holdout, thousandths.
    pub orders_milli: Option<IntervalOut>,
    /// Net spend per customer, sent minus holdout, fen.
    pub net_fen: Option<IntervalOut>,
}

fn arm_out(a: &yutang_core::messaging::holdout::Arm) -> ArmOut {
    ArmOut {
        customers: a.customers,
        buyers: a.buyers,
        orders: a.orders,
        net_fen: a.net_fen,
    }
}

fn interval_out(i: Option<yutang_core::analytics::uplift::Interval>) -> Option<IntervalOut> {
    i.map(|i| IntervalOut {
        estimate: i.estimate,
        low: i.low,
        high: i.high,
    })
}

/// The campaign's measured uplift: recipients sent against the random holdout over the days
/// after the send, with 95% intervals (409 `message_not_sent` before it is sent).
#[utoipa::path(get, path = "/api/v1/mass-messages/{id}/uplift", tag = "messaging", security(("bearer" = [])),
    params(("id" = i64, Path), UpliftParams),
    responses((status = 200, body = UpliftOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn uplift(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiQuery(p): ApiQuery<UpliftParams>,
) -> WebResult<Json<UpliftOut>> {
    let v = s.app.messaging().uplift(&a, id, p.days).await?;
    let c = &v.comparison;
    Ok(Json(UpliftOut {
        message_id: v.message_id,
        evidence: c.evidence.to_owned(),
        holdout_bp: v.holdout_bp,
        days: v.days,
        from: ts(v.from),
        to: ts(v.to),
        complete: v.complete,
        sent: arm_out(&c.sent),
        holdout: arm_out(&c.holdout),
        buyer_share_bp: interval_out(c.buyer_share_bp),
        orders_milli: interval_out(c.orders_milli),
        net_fen: interval_out(c.net_fen),
    }))
}
