//! `/api/v1/reports`: scheduled reports (issue #24 item 5) — daily or weekly summaries of the
//! dashboard sent to chosen staff as a WeCom app message, and their delivery log. Admins and
//! operators manage every schedule, a store manager those of their own store's scope. See
//! docs/analytics.md ("Scheduled reports").

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yutang_app::analytics::reports::{
    DeliveryView, RecipientView, ScheduleInput, ScheduleView, SendNow,
};
use yutang_core::time::Millis;

use crate::auth::{ApiActor, ApiJson, ApiQuery, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

fn ts(ms: i64) -> String {
    Millis(ms).to_rfc3339()
}

/// A schedule as entered.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ReportScheduleIn)]
pub struct ScheduleIn {
    /// 1–40 characters, e.g. 门店日报.
    pub name: String,
    /// `daily` (the previous Shanghai day) or `weekly` (the previous Monday–Sunday, sent on
    /// Monday).
    pub cadence: String,
    /// The hour it is sent at, 0–23 (Asia/Shanghai).
    pub hour: i64,
    /// One store's figures (HQ roles; a store manager only their own). Neither this nor
    /// `staff_id`: the brand (a store manager: their store).
    pub store_id: Option<i64>,
    /// One guide's figures (HQ roles; a store manager their store's guides).
    pub staff_id: Option<i64>,
    /// Staff who receive it: active, linked to WeCom (a store manager: their store's); 1–50.
    pub recipient_ids: Vec<i64>,
    /// `zh` (default) or `en`.
    pub lang: Option<String>,
    /// Default true.
    pub enabled: Option<bool>,
}

impl ScheduleIn {
    fn parse(&self) -> Result<ScheduleInput, yutang_app::AppError> {
        ScheduleInput::parse(
            &self.name,
            &self.cadence,
            self.hour,
            self.store_id,
            self.staff_id,
            &self.recipient_ids,
            self.lang.as_deref(),
            self.enabled,
        )
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ReportRecipientOut)]
pub struct RecipientOut {
    pub staff_id: i64,
    pub name: String,
    pub wecom_userid: Option<String>,
}

impl From<RecipientView> for RecipientOut {
    fn from(r: RecipientView) -> Self {
        Self {
            staff_id: r.staff_id,
            name: r.name,
            wecom_userid: r.wecom_userid,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ReportScheduleOut)]
pub struct ScheduleOut {
    pub id: i64,
    pub name: String,
    /// `daily` or `weekly`.
    pub cadence: String,
    /// The hour (Asia/Shanghai) it is sent at.
    pub hour: i64,
    /// `brand`, `store` or `guide`.
    pub level: String,
    /// The store (a guide's: their store when saved).
    pub store_id: Option<i64>,
    pub staff_id: Option<i64>,
    /// The store's or guide's name (empty for the brand).
    pub scope_name: String,
    pub recipients: Vec<RecipientOut>,
    pub lang: String,
    pub enabled: bool,
    /// The period the next report covers: `2026-03-03` or `2026-03-02/2026-03-08`.
    pub next_period: String,
    /// When it is due.
    pub next_due_at: String,
    pub created_by: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<ScheduleView> for ScheduleOut {
    fn from(v: ScheduleView) -> Self {
        Self {
            id: v.id,
            name: v.name,
            cadence: v.cadence,
            hour: v.hour,
            level: v.level,
            store_id: v.store_id,
            staff_id: v.staff_id,
            scope_name: v.scope_name,
            recipients: v.recipients.into_iter().map(Into::into).collect(),
            lang: v.lang,
            enabled: v.enabled,
            next_period: v.next_period,
            next_due_at: ts(v.next_due_at),
            created_by: v.created_by,
            created_at: ts(v.created_at),
            updated_at: ts(v.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ReportDeliveryOut)]
pub struct DeliveryOut {
    pub id: i64,
    pub schedule_id: i64,
    /// `2026-03-03` or `2026-03-02/2026-03-08`; the delivery's dedupe key is
    /// `report:{schedule_id}:{period}`.
    pub period: String,
    pub period_from: String,
    pub period_to: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    /// The WeCom userids it was sent to (fixed on the first attempt).
    pub recipients: Vec<String>,
    /// Recipients WeCom refused (`invaliduser`, `unlicenseduser`).
    pub invalid_recipients: Vec<String>,
    /// The text sent.
    pub content: String,
    pub attempts: i64,
    pub last_error: String,
    /// WeCom's message id.
    pub msgid: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

impl From<DeliveryView> for DeliveryOut {
    fn from(d: DeliveryView) -> Self {
        Self {
            id: d.id,
            schedule_id: d.schedule_id,
            period: d.period,
            period_from: d.period_from,
            period_to: d.period_to,
            status: d.status,
            recipients: d.recipients,
            invalid_recipients: d.invalid_recipients,
            content: d.content,
            attempts: d.attempts,
            last_error: d.last_error,
            msgid: d.msgid,
            created_at: ts(d.created_at),
            sent_at: d.sent_at.map(ts),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ReportSendOut)]
pub struct SendOut {
    /// Whether this call queued it (false: that period was queued or sent already).
    pub queued: bool,
    pub delivery: DeliveryOut,
}

impl From<SendNow> for SendOut {
    fn from(s: SendNow) -> Self {
        Self {
            queued: s.queued,
            delivery: s.delivery.into(),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesParams {
    /// The schedule whose log to show (required).
    pub schedule_id: Option<i64>,
}

/// The schedules the caller manages.
#[utoipa::path(get, path = "/api/v1/reports/schedules", tag = "reports", security(("bearer" = [])),
    responses((status = 200, body = Vec<ScheduleOut>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Vec<ScheduleOut>>> {
    let rows = s.app.analytics().reports().list(&a).await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// Create a schedule. Its first report is the first period due after now.
#[utoipa::path(post, path = "/api/v1/reports/schedules", tag = "reports", security(("bearer" = [])),
    request_body = ScheduleIn,
    responses((status = 201, body = ScheduleOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "invalid_name, invalid_cadence, invalid_hour, invalid_lang, no_recipients, unknown_staff, staff_inactive, no_wecom_userid, conflicting_filters …", body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(req): ApiJson<ScheduleIn>,
) -> WebResult<(StatusCode, Json<ScheduleOut>)> {
    let input = req.parse()?;
    let v = s.app.analytics().reports().create(&a, &input).await?;
    Ok((StatusCode::CREATED, Json(v.into())))
}

#[utoipa::path(get, path = "/api/v1/reports/schedules/{id}", tag = "reports", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = ScheduleOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<ScheduleOut>> {
    Ok(Json(s.app.analytics().reports().get(&a, id).await?.into()))
}

/// Replace a schedule's settings.
#[utoipa::path(put, path = "/api/v1/reports/schedules/{id}", tag = "reports", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ScheduleIn,
    responses((status = 200, body = ScheduleOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<ScheduleIn>,
) -> WebResult<Json<ScheduleOut>> {
    let input = req.parse()?;
    Ok(Json(
        s.app
            .analytics()
            .reports()
            .update(&a, id, &input)
            .await?
            .into(),
    ))
}

/// Delete a schedule: nothing more is queued; its delivery log stays readable.
#[utoipa::path(delete, path = "/api/v1/reports/schedules/{id}", tag = "reports", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<StatusCode> {
    s.app.analytics().reports().delete(&a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Queue the report of the latest completed period now (yesterday, or the last full week).
/// Idempotent: a period already queued or sent is not queued again (200 with `queued: false`);
/// a failed one is queued again.
#[utoipa::path(post, path = "/api/v1/reports/schedules/{id}/send", tag = "reports", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 202, description = "queued", body = SendOut), (status = 200, description = "already queued or sent", body = SendOut),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn send(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<(StatusCode, Json<SendOut>)> {
    let r = s.app.analytics().reports().send_now(&a, id).await?;
    let status = if r.queued {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(r.into())))
}

/// A schedule's delivery log, newest period first (at most 200).
#[utoipa::path(get, path = "/api/v1/reports/deliveries", tag = "reports", security(("bearer" = [])),
    params(DeliveriesParams),
    responses((status = 200, body = Vec<DeliveryOut>), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn deliveries(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<DeliveriesParams>,
) -> WebResult<Json<Vec<DeliveryOut>>> {
    let rows = s
        .app
        .analytics()
        .reports()
        .deliveries(&a, p.schedule_id)
        .await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}
