//! `/api/v1/webhooks`: outbound webhooks — integrations subscribe to event kinds and receive
//! each event as a signed POST (admin only). See docs/integrations.md.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yutang_app::AppError;
use yutang_app::audit::{Page, Paged};
use yutang_app::webhooks::{self as app, DeliveryRow, SubscriptionRow, WithSecret};
use yutang_core::time::Millis;

use crate::auth::{ApiActor, ApiJson, ApiQuery, IdPair, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

fn ts(ms: i64) -> String {
    Millis(ms).to_rfc3339()
}

/// A subscription as entered.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WebhookIn)]
pub struct WebhookIn {
    /// 1–40 characters, e.g. 会员中台.
    pub name: String,
    /// The receiver: an http(s) URL on a public address (private ones only when the server
    /// allows them: `webhooks.allow_private_targets`).
    pub url: String,
    /// Event kinds to receive (e.g. `order_paid`), or `["*"]` for every kind; 1–50.
    pub kinds: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WebhookOut)]
pub struct WebhookOut {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub kinds: Vec<String>,
    /// active, or paused (by staff: `paused_by_staff`, or after repeated failures:
    /// `too_many_failures`, in `paused_reason`). A paused webhook keeps queueing events.
    pub status: String,
    pub paused_reason: String,
    /// Failed attempts in a row.
    pub consecutive_failures: i64,
    /// Deliveries waiting (due or backing off).
    pub pending: i64,
    /// Deliveries given up after the last attempt (replay them once the receiver is fixed).
    pub failed: i64,
    pub last_delivered_at: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<SubscriptionRow> for WebhookOut {
    fn from(r: SubscriptionRow) -> Self {
        Self {
            kinds: app::kinds_of(&r),
            id: r.id,
            name: r.name,
            url: r.url,
            status: r.status,
            paused_reason: r.paused_reason,
            consecutive_failures: r.consecutive_failures,
            pending: r.pending,
            failed: r.failed,
            last_delivered_at: r.last_delivered_at.map(ts),
            created_by: r.created_by,
            created_at: ts(r.created_at),
            updated_at: ts(r.updated_at),
        }
    }
}

/// A subscription with its signing secret: shown in this response only.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WebhookSecretOut)]
pub struct WebhookSecretOut {
    /// `whsec_…`: the key of the HMAC-SHA256 signature on every delivery.
    pub secret: String,
    pub webhook: WebhookOut,
}

impl From<WithSecret> for WebhookSecretOut {
    fn from(w: WithSecret) -> Self {
        Self {
            secret: w.secret,
            webhook: w.subscription.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WebhookDeliveryOut)]
pub struct DeliveryOut {
    pub id: i64,
    pub webhook_id: i64,
    /// The id receivers dedupe by: `evt_<n>` for an event, `ping_<n>` for a test.
    pub event_id: String,
    pub event_kind: String,
    /// The body sent, as sent on every attempt.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// pending, delivered or failed.
    pub status: String,
    pub attempts: i64,
    /// When a pending delivery is next tried.
    pub next_attempt_at: Option<String>,
    /// The receiver's HTTP status on the last attempt, if it answered.
    pub last_status: Option<i64>,
    pub last_error: String,
    pub last_attempt_at: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
}

impl From<DeliveryRow> for DeliveryOut {
    fn from(d: DeliveryRow) -> Self {
        Self {
            id: d.id,
            webhook_id: d.subscription_id,
            event_id: d.event_ref,
            event_kind: d.event_kind,
            payload: serde_json::from_str(&d.payload).unwrap_or(serde_json::Value::Null),
            next_attempt_at: (d.status == "pending").then(|| ts(d.next_attempt_at)),
            status: d.status,
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
            last_attempt_at: d.last_attempt_at.map(ts),
            created_at: ts(d.created_at),
            delivered_at: d.delivered_at.map(ts),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WebhookDeliveryPage)]
pub struct DeliveryPage {
    pub items: Vec<DeliveryOut>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
}

impl From<Paged<DeliveryRow>> for DeliveryPage {
    fn from(p: Paged<DeliveryRow>) -> Self {
        Self {
            items: p.items.into_iter().map(Into::into).collect(),
            total: p.total,
            page: p.page,
            page_size: p.page_size,
        }
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveryParams {
    /// pending, delivered or failed; none: all.
    pub status: Option<String>,
    pub page: Option<i64>,
    /// 1–200, default 50.
    pub page_size: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = WebhookReplayedOut)]
pub struct ReplayedOut {
    /// Failed deliveries queued again.
    pub replayed: u64,
}

fn parse(s: &AppState, req: &WebhookIn) -> Result<app::WebhookInput, AppError> {
    s.app
        .webhooks()
        .parse_input(&req.name, &req.url, &req.kinds)
}

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = Vec<WebhookOut>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Vec<WebhookOut>>> {
    Ok(Json(
        s.app
            .webhooks()
            .list(&a)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// The event kinds Yutang writes (a subscription may also name kinds integrations post, or
/// `*`).
#[utoipa::path(get, path = "/api/v1/webhooks/kinds", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = Vec<String>), (status = 403, body = ErrorBody)))]
pub async fn kinds(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Vec<String>>> {
    s.app.webhooks().list(&a).await?;
    Ok(Json(
        app::KNOWN_KINDS.iter().map(|k| (*k).to_owned()).collect(),
    ))
}

/// Subscribe a receiver. It gets the events committed from now on; the signing secret is in
/// this response only.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", security(("bearer" = [])),
    request_body = WebhookIn,
    responses((status = 201, body = WebhookSecretOut), (status = 403, body = ErrorBody),
        (status = 409, description = "secret_key_required: PostgreSQL without YUTANG_SECRET_KEY", body = ErrorBody),
        (status = 422, description = "invalid_url, private_target, no_kinds, invalid_kind …", body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(req): ApiJson<WebhookIn>,
) -> WebResult<(StatusCode, Json<WebhookSecretOut>)> {
    let input = parse(&s, &req)?;
    Ok((
        StatusCode::CREATED,
        Json(s.app.webhooks().create(&a, &input).await?.into()),
    ))
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = WebhookOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<WebhookOut>> {
    Ok(Json(s.app.webhooks().get(&a, id).await?.into()))
}

/// Change the name, URL and kinds (the secret stays).
#[utoipa::path(put, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = WebhookIn,
    responses((status = 200, body = WebhookOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<WebhookIn>,
) -> WebResult<Json<WebhookOut>> {
    let input = parse(&s, &req)?;
    Ok(Json(s.app.webhooks().update(&a, id, &input).await?.into()))
}

/// Delete: no more events are queued or sent; the delivery log stays readable in the audit.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<StatusCode> {
    s.app.webhooks().delete(&a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pause: events keep queueing, nothing is sent until resumed.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/pause", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = WebhookOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn pause(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<WebhookOut>> {
    Ok(Json(
        s.app.webhooks().set_active(&a, id, false).await?.into(),
    ))
}

/// Resume (also after an automatic pause): what queued is sent, the failure run restarts.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/resume", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = WebhookOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn resume(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<WebhookOut>> {
    Ok(Json(
        s.app.webhooks().set_active(&a, id, true).await?.into(),
    ))
}

/// A new signing secret, in this response only; the old one stops signing at once.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/rotate-secret", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = WebhookSecretOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "secret_key_required: PostgreSQL without YUTANG_SECRET_KEY", body = ErrorBody)))]
pub async fn rotate_secret(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<WebhookSecretOut>> {
    Ok(Json(s.app.webhooks().rotate_secret(&a, id).await?.into()))
}

/// Queue a test delivery (kind `ping`).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 201, body = DeliveryOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn test(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<(StatusCode, Json<DeliveryOut>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.webhooks().ping(&a, id).await?.into()),
    ))
}

/// The delivery log, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path), DeliveryParams),
    responses((status = 200, body = DeliveryPage), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn deliveries(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiQuery(p): ApiQuery<DeliveryParams>,
) -> WebResult<Json<DeliveryPage>> {
    let status = app::parse_status(p.status.as_deref()).map_err(AppError::from)?;
    let page = Page::parse(p.page, p.page_size).map_err(AppError::from)?;
    Ok(Json(
        s.app
            .webhooks()
            .deliveries(&a, id, status, page)
            .await?
            .into(),
    ))
}

/// Send one delivery again with the same event id (receivers dedupe by it).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}/replay", tag = "webhooks",
    security(("bearer" = [])), params(("id" = i64, Path), ("delivery_id" = i64, Path)),
    responses((status = 200, body = DeliveryOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn replay(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPair(id, delivery): IdPair,
) -> WebResult<Json<DeliveryOut>> {
    Ok(Json(
        s.app.webhooks().replay(&a, id, delivery).await?.into(),
    ))
}

/// Send every failed delivery again.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/replay-failed", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = ReplayedOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn replay_failed(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<ReplayedOut>> {
    Ok(Json(ReplayedOut {
        replayed: s.app.webhooks().replay_failed(&a, id).await?,
    }))
}
