//! Inbound order sync (issue #24 item 7): `/api/v1/inbound-sources` to manage the senders
//! (admin only), and the two receiving endpoints they push to, authenticated by signature
//! instead of a token: `/api/v1/inbound/generic/{key}` (Yutang's own signed JSON) and
//! `/api/v1/inbound/youzan/{key}` (有赞云's message push). See docs/integrations.md.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yutang_app::AppError;
use yutang_app::audit::{Page, Paged};
use yutang_app::inbound::{self as app, MessageRow, Receipt, SourceInput, SourceRow, WithSecret};
use yutang_core::inbound::SourceFormat;
use yutang_core::time::Millis;

use crate::auth::{ApiActor, ApiJson, ApiQuery, CodePath, IdPair, IdPath};
use crate::error::{ErrorBody, WebError, WebResult};
use crate::state::AppState;

fn ts(ms: i64) -> String {
    Millis(ms).to_rfc3339()
}

/// A source as created.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = InboundSourceIn)]
pub struct SourceIn {
    /// 1–40 characters, e.g. 有赞微商城.
    pub name: String,
    /// generic (Yutang's signed JSON) or youzan (有赞云 message push).
    pub format: String,
    /// The channel orders are recorded under (default youzan for 有赞 sources; required for
    /// generic ones), e.g. mini_program, pos, youzan.
    pub channel: Option<String>,
    /// The store orders are attributed to when a message names none.
    pub store_id: Option<i64>,
    /// 有赞 only: the app's client_id.
    pub app_id: Option<String>,
    /// 有赞 only: the app's client_secret (it verifies Event-Sign). Never shown again.
    pub client_secret: Option<String>,
    /// false: created paused (messages answer 503 until resumed). Default true.
    pub active: Option<bool>,
}

/// A source's settings as changed (the format stays).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = InboundSourceUpdateIn)]
pub struct SourceUpdateIn {
    pub name: String,
    pub channel: Option<String>,
    pub store_id: Option<i64>,
    /// 有赞 only.
    pub app_id: Option<String>,
    /// 有赞 only: a new client_secret; absent keeps the current one.
    pub client_secret: Option<String>,
    /// false pauses the source (its messages answer 503, so senders retry later).
    pub active: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InboundSourceOut)]
pub struct SourceOut {
    pub id: i64,
    pub name: String,
    /// generic or youzan.
    pub format: String,
    /// The last segment of the receiving URL.
    pub source_key: String,
    /// Where the sender posts: prefix with this server's public address.
    pub receive_path: String,
    pub channel: String,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    /// 有赞's client_id; empty for generic sources.
    pub app_id: String,
    /// active or paused.
    pub status: String,
    /// Messages logged (every one that passed its signature check).
    pub received: i64,
    /// Messages whose last attempt failed.
    pub failed: i64,
    pub last_received_at: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
}

/// The receiving path of a source.
pub fn receive_path(format: &str, key: &str) -> String {
    format!("/api/v1/inbound/{format}/{key}")
}

impl From<SourceRow> for SourceOut {
    fn from(r: SourceRow) -> Self {
        Self {
            receive_path: receive_path(&r.format, &r.source_key),
            id: r.id,
            name: r.name,
            format: r.format,
            source_key: r.source_key,
            channel: r.channel,
            store_id: r.store_id,
            store_name: r.store_name,
            app_id: r.app_id,
            status: r.status,
            received: r.received,
            failed: r.failed,
            last_received_at: r.last_received_at.map(ts),
            created_by: r.created_by,
            created_at: ts(r.created_at),
            updated_at: ts(r.updated_at),
        }
    }
}

/// A source with its signing secret (generic sources, at creation and rotation only).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InboundSourceSecretOut)]
pub struct SourceSecretOut {
    /// `whsec_…` for a generic source: the key of the HMAC-SHA256 signature the sender puts
    /// on every message. Null for 有赞 sources (they sign with the app's client_secret).
    pub secret: Option<String>,
    pub source: SourceOut,
}

impl From<WithSecret> for SourceSecretOut {
    fn from(w: WithSecret) -> Self {
        Self {
            secret: w.secret,
            source: w.source.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InboundMessageOut)]
pub struct MessageOut {
    pub id: i64,
    pub source_id: i64,
    /// The sender's message id (or what stands for it), the key of replays.
    pub message_key: String,
    /// The message's type as the sender named it.
    pub kind: String,
    pub external_id: String,
    /// applied, draft (an unpaid order kept), ignored or failed.
    pub status: String,
    pub order_id: Option<i64>,
    pub customer_id: Option<i64>,
    /// Why it failed or was ignored.
    pub error_code: String,
    pub error_message: String,
    /// The body as received.
    pub payload: String,
    pub attempts: i64,
    pub received_at: String,
    pub updated_at: String,
}

impl From<MessageRow> for MessageOut {
    fn from(m: MessageRow) -> Self {
        Self {
            id: m.id,
            source_id: m.source_id,
            message_key: m.dedupe_key,
            kind: m.kind,
            external_id: m.external_id,
            status: m.status,
            order_id: m.order_id,
            customer_id: m.customer_id,
            error_code: m.error_code,
            error_message: m.error_message,
            payload: m.payload,
            attempts: m.attempts,
            received_at: ts(m.received_at),
            updated_at: ts(m.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InboundMessagePage)]
pub struct MessagePage {
    pub items: Vec<MessageOut>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
}

impl From<Paged<MessageRow>> for MessagePage {
    fn from(p: Paged<MessageRow>) -> Self {
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
pub struct MessageParams {
    /// applied, draft, ignored or failed; none: all.
    pub status: Option<String>,
    pub page: Option<i64>,
    /// 1–200, default 50.
    pub page_size: Option<i64>,
}

/// What became of a message.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = InboundReceiptOut)]
pub struct ReceiptOut {
    /// The message's row in the source's log.
    pub message_id: i64,
    /// applied, draft (an unpaid order kept until paid) or ignored.
    pub status: String,
    /// true: this message was received before; nothing was written now.
    pub replay: bool,
    pub order_id: Option<i64>,
    pub customer_id: Option<i64>,
    /// Why it was ignored, or what an applied message found (already_recorded …).
    pub reason: String,
}

impl From<Receipt> for ReceiptOut {
    fn from(r: Receipt) -> Self {
        Self {
            message_id: r.message_id,
            status: r.status,
            replay: r.replay,
            order_id: r.order_id,
            customer_id: r.customer_id,
            reason: r.reason,
        }
    }
}

fn format_of(s: &str) -> Result<SourceFormat, AppError> {
    Ok(SourceFormat::parse("format", s)?)
}

#[utoipa::path(get, path = "/api/v1/inbound-sources", tag = "inbound", security(("bearer" = [])),
    responses((status = 200, body = Vec<SourceOut>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Vec<SourceOut>>> {
    Ok(Json(
        s.app
            .inbound()
            .list(&a)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Create a source. A generic one's signing secret is in this response only.
#[utoipa::path(post, path = "/api/v1/inbound-sources", tag = "inbound", security(("bearer" = [])),
    request_body = SourceIn,
    responses((status = 201, body = SourceSecretOut), (status = 403, body = ErrorBody),
        (status = 409, description = "secret_key_required: PostgreSQL without YUTANG_SECRET_KEY", body = ErrorBody),
        (status = 422, description = "invalid_format, invalid_channel, invalid_app_id, invalid_client_secret, unknown_store …", body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(req): ApiJson<SourceIn>,
) -> WebResult<(StatusCode, Json<SourceSecretOut>)> {
    let format = format_of(&req.format)?;
    let input = SourceInput::parse(
        format,
        &req.name,
        req.channel.as_deref(),
        req.store_id,
        req.app_id.as_deref(),
        req.active,
    )
    .map_err(AppError::from)?;
    let out = s
        .app
        .inbound()
        .create(&a, format, &input, req.client_secret.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(out.into())))
}

#[utoipa::path(get, path = "/api/v1/inbound-sources/{id}", tag = "inbound", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = SourceOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<SourceOut>> {
    Ok(Json(s.app.inbound().get(&a, id).await?.into()))
}

/// Change a source's settings (its format, key and log stay).
#[utoipa::path(put, path = "/api/v1/inbound-sources/{id}", tag = "inbound", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = SourceUpdateIn,
    responses((status = 200, body = SourceOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "secret_key_required: PostgreSQL without YUTANG_SECRET_KEY", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<SourceUpdateIn>,
) -> WebResult<Json<SourceOut>> {
    let out = s
        .app
        .inbound()
        .update(
            &a,
            id,
            |format| {
                SourceInput::parse(
                    format,
                    &req.name,
                    req.channel.as_deref(),
                    req.store_id,
                    req.app_id.as_deref(),
                    req.active,
                )
            },
            req.client_secret.as_deref(),
        )
        .await?;
    Ok(Json(out.into()))
}

/// Delete a source: its URL answers 404 from now on; its message log stays.
#[utoipa::path(delete, path = "/api/v1/inbound-sources/{id}", tag = "inbound", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<StatusCode> {
    s.app.inbound().delete(&a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A generic source's new signing secret, in this response only; the old one stops
/// verifying at once.
#[utoipa::path(post, path = "/api/v1/inbound-sources/{id}/rotate-secret", tag = "inbound", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = SourceSecretOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "not_generic (a 有赞 source's secret is set with PUT), secret_key_required", body = ErrorBody)))]
pub async fn rotate_secret(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<SourceSecretOut>> {
    Ok(Json(s.app.inbound().rotate_secret(&a, id).await?.into()))
}

/// The source's message log, newest first.
#[utoipa::path(get, path = "/api/v1/inbound-sources/{id}/messages", tag = "inbound", security(("bearer" = [])),
    params(("id" = i64, Path), MessageParams),
    responses((status = 200, body = MessagePage), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn messages(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiQuery(p): ApiQuery<MessageParams>,
) -> WebResult<Json<MessagePage>> {
    let status = app::parse_status(p.status.as_deref()).map_err(AppError::from)?;
    let page = Page::parse(p.page, p.page_size).map_err(AppError::from)?;
    Ok(Json(
        s.app.inbound().messages(&a, id, status, page).await?.into(),
    ))
}

/// Run a logged message again (its body as received). A message whose outcome is final
/// answers as a replay and writes nothing.
#[utoipa::path(post, path = "/api/v1/inbound-sources/{id}/messages/{message_id}/retry", tag = "inbound",
    security(("bearer" = [])), params(("id" = i64, Path), ("message_id" = i64, Path)),
    responses((status = 200, body = ReceiptOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "order_not_yet_received, order_not_created …: still not applicable", body = ErrorBody),
        (status = 422, description = "the message can never apply (its error says why)", body = ErrorBody)))]
pub async fn retry(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPair(id, message): IdPair,
) -> WebResult<Json<ReceiptOut>> {
    Ok(Json(s.app.inbound().retry(&a, id, message).await?.into()))
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// 415 unless the body is sent as JSON (as every push is).
fn require_json(h: &HeaderMap) -> Result<(), WebError> {
    let is_json = header(h, "content-type").is_some_and(|ct| {
        ct.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .eq_ignore_ascii_case("application/json")
    });
    if is_json {
        Ok(())
    } else {
        Err(WebError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as `Content-Type: application/json`",
        ))
    }
}

/// A generic message: the envelope is checked strictly here (unknown keys, trailing bytes,
/// control characters: refused before anything is looked up); `data` is parsed by its type
/// after the signature is verified.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = InboundGenericMessage)]
pub struct GenericMessageIn {
    /// The message's unique id (1–128 printable ASCII): the same id again is a replay.
    pub id: String,
    /// order.created, order.paid, order.shipped, order.completed, order.refunded,
    /// order.closed or member.upserted.
    #[serde(rename = "type")]
    pub kind: String,
    /// RFC 3339; the default time of what the message reports.
    pub occurred_at: Option<String>,
    /// The type's data (docs/integrations.md).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// 有赞云's push envelope as Yutang reads it (other fields are ignored: the platform adds
/// fields over time).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = YouzanPush)]
#[allow(dead_code)]
pub struct YouzanPushIn {
    pub client_id: Option<String>,
    pub kdt_id: Option<i64>,
    pub kdt_name: Option<String>,
    /// The order id (trade messages), item id or user id.
    pub id: Option<String>,
    /// The message type, e.g. trade_TradePaid.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub status: Option<String>,
    /// URL-encoded JSON (trade messages) or an object (newer refund messages).
    #[schema(value_type = Object)]
    pub msg: Option<serde_json::Value>,
    pub msg_id: Option<String>,
    pub version: Option<i64>,
    #[serde(rename = "sendCount")]
    pub send_count: Option<i64>,
    pub sign: Option<String>,
    /// A platform test message: acknowledged, nothing written.
    pub test: Option<bool>,
    pub mode: Option<i64>,
}

/// Receive a message in Yutang's generic format, signed with the source's secret:
/// `X-Yutang-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`
/// (within 5 minutes of the server's clock). The body is strict JSON:
/// `{"id": "<unique message id>", "type": "order.paid", "occurred_at": "<RFC 3339>",
/// "data": {…}}`; see docs/integrations.md for each type's data. A message id seen before is
/// a replay: the logged outcome, nothing written.
#[utoipa::path(post, path = "/api/v1/inbound/generic/{key}", tag = "inbound",
    params(("key" = String, Path, description = "the source's key (in_…)"),
        ("X-Yutang-Signature" = Option<String>, Header, description = "t=<unix seconds>,v1=<hex HMAC-SHA256>; a message without it is refused (401)")),
    request_body = GenericMessageIn,
    responses((status = 200, body = ReceiptOut),
        (status = 400, description = "malformed_json", body = ErrorBody),
        (status = 401, description = "signature_missing, signature_malformed, signature_expired, signature_mismatch", body = ErrorBody),
        (status = 404, description = "no such source", body = ErrorBody),
        (status = 409, description = "try again later: order_not_yet_received, order_not_created, order_in_progress …", body = ErrorBody),
        (status = 413, description = "body_too_large", body = ErrorBody),
        (status = 415, description = "not sent as application/json", body = ErrorBody),
        (status = 422, description = "the message can never apply: invalid_json, unknown_field, invalid_kind, amounts …", body = ErrorBody),
        (status = 503, description = "source_paused: try again later", body = ErrorBody)))]
pub async fn receive_generic(
    State(s): State<AppState>,
    CodePath(key): CodePath,
    headers: HeaderMap,
    body: Bytes,
) -> WebResult<Json<ReceiptOut>> {
    require_json(&headers)?;
    crate::auth::parse_json::<GenericMessageIn>(&body)?;
    let r = s
        .app
        .inbound()
        .receive_generic(&key, header(&headers, "x-yutang-signature"), &body)
        .await?;
    Ok(Json(r.into()))
}

/// 有赞's answer: `success` in `msg` acknowledges, anything else makes it push again.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = YouzanAckOut)]
pub struct YouzanAck {
    pub code: i64,
    pub msg: String,
}

/// Receive a 有赞云 message push (无容器 HTTP push). Verified with the `Event-Sign` header
/// (MD5 of client_id + raw body + client_secret); `Event-Type` names the message when the
/// body does not. Acknowledged with `{"code":0,"msg":"success"}` when applied, kept as a
/// draft, ignored (a type Yutang does not sync, a test message), a replay, or failed for
/// good (logged, so 有赞 does not fuse the push over a message that can never apply); any
/// other answer makes 有赞 push again later.
#[utoipa::path(post, path = "/api/v1/inbound/youzan/{key}", tag = "inbound",
    params(("key" = String, Path, description = "the source's key (in_…)"),
        ("Event-Sign" = Option<String>, Header, description = "md5(client_id + body + client_secret); a push without it is refused (401)"),
        ("Event-Type" = Option<String>, Header, description = "the message type")),
    request_body = YouzanPushIn,
    responses((status = 200, body = YouzanAck),
        (status = 400, description = "the body is not JSON", body = YouzanAck),
        (status = 401, description = "signature_missing, signature_mismatch, client_id_mismatch", body = YouzanAck),
        (status = 404, description = "no such source", body = YouzanAck),
        (status = 409, description = "try again later", body = YouzanAck),
        (status = 413, description = "body_too_large", body = YouzanAck),
        (status = 415, description = "not sent as application/json", body = YouzanAck),
        (status = 422, description = "the envelope is not a JSON object", body = YouzanAck),
        (status = 500, description = "internal error", body = YouzanAck),
        (status = 503, description = "source_paused", body = YouzanAck)))]
pub async fn receive_youzan(
    State(s): State<AppState>,
    CodePath(key): CodePath,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fail = |w: WebError| {
        let status = w.status;
        (
            status,
            Json(YouzanAck {
                code: i64::from(status.as_u16()),
                msg: format!("failed: {}", w.code),
            }),
        )
            .into_response()
    };
    if let Err(w) = require_json(&headers) {
        return fail(w);
    }
    let outcome = s
        .app
        .inbound()
        .receive_youzan(
            &key,
            header(&headers, "event-sign"),
            header(&headers, "event-type"),
            &body,
        )
        .await;
    let success = || {
        (
            StatusCode::OK,
            Json(YouzanAck {
                code: 0,
                msg: "success".into(),
            }),
        )
            .into_response()
    };
    match outcome {
        Ok(_) => success(),
        // Logged as failed for good: acknowledged (see above). A body that is not even an
        // envelope was not logged (it never passed a signature check): refused.
        Err(e) if app::is_final(&e) && !matches!(&e, AppError::Invalid(f) if f.field == "body") => {
            success()
        }
        Err(e) => fail(WebError::from(e)),
    }
}
