//! `/api/v1/wecom/…`: the WeCom full sync (start it, watch it) and the customer groups it and
//! the callbacks keep.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yutang_app::wecom::sync::SyncView;

use crate::api::idempotency::{self, IdempotencyKey};
use crate::api::tags::JobOut;
use crate::auth::{ApiActor, ApiJson, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

/// A full-sync job: the job (status, progress steps) and where the sync stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncOut {
    #[serde(flatten)]
    pub job: JobOut,
    /// `phase` (users, contacts, groups, tags, done), `users`, `offset`, `cursor`, counts
    /// (`contacts`, `customers_created`, `follows`, `unlinked_userids`, `groups`,
    /// `members_joined`, `members_left`, `tags`) and `runs` (above 1: it resumed).
    #[schema(value_type = Object)]
    pub state: Option<serde_json::Value>,
}

impl From<SyncView> for SyncOut {
    fn from(v: SyncView) -> Self {
        Self {
            job: v.job.into(),
            state: v.state.and_then(|s| serde_json::to_value(s).ok()),
        }
    }
}

/// Start a full WeCom sync (admins): follow users → their customers → customer groups and
/// members → corp tags. While one is queued or running it is returned instead; an
/// `Idempotency-Key` header replays the job it started.
#[utoipa::path(post, path = "/api/v1/wecom/sync", tag = "wecom", security(("bearer" = [])),
    params(IdempotencyKey),
    responses((status = 202, body = SyncOut), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = idempotency::CONFLICT), (status = 422, body = ErrorBody, description = idempotency::INVALID)))]
pub async fn start_sync(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    key: IdempotencyKey,
) -> WebResult<(StatusCode, Json<SyncOut>)> {
    let v = s.app.wecom().start_wecom_sync(&a, key.as_deref()).await?;
    Ok((StatusCode::ACCEPTED, Json(v.into())))
}

/// A full-sync job with its progress.
#[utoipa::path(get, path = "/api/v1/wecom/sync/{id}", tag = "wecom", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = SyncOut), (status = 404, body = ErrorBody)))]
pub async fn get_sync(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<SyncOut>> {
    Ok(Json(s.app.wecom().wecom_sync(&a, id).await?.into()))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GroupQuery {
    /// Include dismissed groups.
    #[serde(default)]
    pub include_dismissed: bool,
    /// 1–200, default 50.
    pub limit: Option<i64>,
    #[serde(default)]
    pub offset: i64,
}

/// Customer groups (客户群), newest first.
#[utoipa::path(get, path = "/api/v1/wecom/groups", tag = "wecom", security(("bearer" = [])),
    params(GroupQuery),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
pub async fn groups(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    crate::auth::ApiQuery(q): crate::auth::ApiQuery<GroupQuery>,
) -> WebResult<Json<serde_json::Value>> {
    let list = s
        .app
        .wecom()
        .wecom_groups(&a, q.include_dismissed, q.limit.unwrap_or(50), q.offset)
        .await?;
    Ok(Json(serde_json::to_value(list).unwrap_or_default()))
}

/// A customer group with every member row (joined and left).
#[utoipa::path(get, path = "/api/v1/wecom/groups/{id}", tag = "wecom", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn group(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<serde_json::Value>> {
    let g = s.app.wecom().wecom_group(&a, id).await?;
    Ok(Json(serde_json::to_value(g).unwrap_or_default()))
}

/// The WeCom connection settings (admins). Secrets are shown masked (`••••` and the last 4
/// characters); `locked` names fields set by the configuration file or `YUTANG_WECOM_*`.
#[utoipa::path(get, path = "/api/v1/wecom/settings", tag = "wecom", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
pub async fn get_settings(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<serde_json::Value>> {
    let v = s.app.wecom().wecom_settings(&a).await?;
    Ok(Json(serde_json::to_value(v).unwrap_or_default()))
}

/// A change to the WeCom settings.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SettingsInput {
    pub corp_id: Option<String>,
    /// Empty: back to https://qyapi.weixin.qq.com.
    pub api_base: Option<String>,
    /// Absent or empty keeps the stored secret.
    pub contact_secret: Option<String>,
    pub callback_token: Option<String>,
    /// 43 letters and digits.
    pub encoding_aes_key: Option<String>,
    /// The full list; an entry with an empty secret keeps that AgentId's stored secret.
    #[schema(value_type = Option<Vec<Object>>)]
    pub app_secrets: Option<Vec<yutang_app::wecom::settings::AppSecret>>,
    /// The public callback URL as pasted into WeCom (e.g.
    /// `https://scrm.example.com/wecom/callback`), probed by `POST /api/v1/wecom/check`;
    /// empty clears it.
    pub callback_public_url: Option<String>,
    /// Secrets to remove: contact_secret, callback_token, encoding_aes_key, app_secrets.
    #[serde(default)]
    pub clear: Vec<String>,
}

/// Change the WeCom settings (admins; audited). Secrets are stored encrypted.
#[utoipa::path(put, path = "/api/v1/wecom/settings", tag = "wecom", security(("bearer" = [])),
    request_body = SettingsInput,
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_settings(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(r): ApiJson<SettingsInput>,
) -> WebResult<Json<serde_json::Value>> {
    let input = yutang_app::wecom::settings::WecomSettingsInput {
        corp_id: r.corp_id,
        api_base: r.api_base,
        contact_secret: r.contact_secret,
        callback_token: r.callback_token,
        encoding_aes_key: r.encoding_aes_key,
        app_secrets: r.app_secrets,
        callback_public_url: r.callback_public_url,
        clear: r.clear,
    };
    let v = s.app.wecom().save_wecom_settings(&a, &input).await?;
    Ok(Json(serde_json::to_value(v).unwrap_or_default()))
}

/// Fetch an access token with the settings in force and report WeCom's errcode (admins).
#[utoipa::path(post, path = "/api/v1/wecom/settings/test", tag = "wecom", security(("bearer" = [])),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
pub async fn test_settings(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<serde_json::Value>> {
    let v = s.app.wecom().test_wecom_connection(&a).await?;
    Ok(Json(serde_json::to_value(v).unwrap_or_default()))
}

/// One step of the setup checker.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckStepOut {
    /// `callback_crypto`, `callback_url`, `trusted_ip`, `read_customers` or `contact_way`.
    pub key: String,
    /// `ok`, `failed` or `skipped`.
    pub status: String,
    /// What was found, stable (e.g. `url_body_rewritten`, `ip_untrusted`, `skipped_no_api`);
    /// docs/wecom.md lists them.
    pub code: String,
    /// The step's name, in Chinese.
    pub title_zh: String,
    /// What was found, in Chinese.
    pub message_zh: String,
    /// What to change in WeCom's admin console (a reminder when the step passed), in Chinese.
    pub fix_zh: Option<String>,
    pub title_en: String,
    pub message_en: String,
    pub fix_en: Option<String>,
    /// WeCom's errcode, or the crypto sample's code (−40001 …).
    pub errcode: Option<i64>,
    /// The technical detail: WeCom's errmsg, the transport error, the body that came back.
    pub detail: String,
    /// How long the step's requests took.
    pub latency_ms: Option<u64>,
    /// The values the texts name (`ip`, `status`, `latency_ms`, `changes` …).
    #[schema(value_type = Object)]
    pub params: std::collections::BTreeMap<String, String>,
}

/// What the setup checker found.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckOut {
    /// Every step passed.
    pub ok: bool,
    /// The public callback URL step `callback_url` probed (`""`: none entered).
    pub callback_public_url: String,
    /// When it ran (UTC ms).
    pub checked_at: i64,
    pub steps: Vec<CheckStepOut>,
}

/// Run the WeCom setup checker (admins; audited as `wecom_connection_tested`): the callback
/// Token and EncodingAESKey, the public callback URL (WeCom's URL verification sent through
/// it, to be answered with the bare plaintext within 1 s), the server's outbound IP (60020),
/// reading customers, creating (and at once deleting) a test contact way. A failed step makes
/// the steps that need it `skipped`. WeCom's refusals are findings, not errors: the answer is
/// 200 with `ok: false`.
#[utoipa::path(post, path = "/api/v1/wecom/check", tag = "wecom", security(("bearer" = [])),
    responses((status = 200, body = CheckOut), (status = 403, body = ErrorBody)))]
pub async fn check(State(s): State<AppState>, ApiActor(a): ApiActor) -> WebResult<Json<CheckOut>> {
    use crate::console::wecom_check::step_text;
    use crate::console::{Lang, Tr};
    let r = s.app.wecom().check_wecom_setup(&a).await?;
    let (zh, en) = (Tr { lang: Lang::Zh }, Tr { lang: Lang::En });
    let steps = r
        .steps
        .iter()
        .map(|st| {
            let (z, e) = (step_text(zh, st), step_text(en, st));
            CheckStepOut {
                key: z.key.to_owned(),
                status: z.status.to_owned(),
                code: z.code.to_owned(),
                title_zh: z.title.to_owned(),
                message_zh: z.message,
                fix_zh: z.fix,
                title_en: e.title.to_owned(),
                message_en: e.message,
                fix_en: e.fix,
                errcode: st.errcode,
                detail: st.detail.clone(),
                latency_ms: st.latency_ms,
                params: st
                    .params
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.clone()))
                    .collect(),
            }
        })
        .collect();
    Ok(Json(CheckOut {
        ok: r.ok,
        callback_public_url: r.callback_public_url,
        checked_at: r.checked_at,
        steps,
    }))
}

/// A staff transfer request. `customer_ids` and `chat_ids` take a list of ids or `"all"`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TransferRequest {
    /// `in_service` (在职继承) or `resigned` (离职继承).
    pub kind: String,
    pub handover_staff_id: i64,
    pub takeover_staff_id: i64,
    /// Customer ids, or `"all"` (every active WeCom customer of the departing guide).
    #[schema(value_type = Object)]
    #[serde(default)]
    pub customer_ids: Option<serde_json::Value>,
    /// Group chat ids, or `"all"` (`groupchat/onjob_transfer` for 在职继承,
    /// `groupchat/transfer` for 离职继承).
    #[schema(value_type = Object)]
    #[serde(default)]
    pub chat_ids: Option<serde_json::Value>,
    /// Message WeCom shows the customers (在职继承 only, ≤200 characters).
    pub message: Option<String>,
}

fn pick<T: serde::de::DeserializeOwned>(
    field: &'static str,
    v: Option<serde_json::Value>,
) -> Result<yutang_app::wecom::transfers::Pick<T>, yutang_core::FieldError> {
    use yutang_app::wecom::transfers::Pick;
    match v {
        None | Some(serde_json::Value::Null) => Ok(Pick::None),
        Some(serde_json::Value::String(s)) if s == "all" => Ok(Pick::All),
        Some(v @ serde_json::Value::Array(_)) => {
            serde_json::from_value(v).map(Pick::Only).map_err(|_| {
                yutang_core::FieldError::new(field, "invalid_list", "give a list of ids or \"all\"")
            })
        }
        Some(_) => Err(yutang_core::FieldError::new(
            field,
            "invalid_list",
            "give a list of ids or \"all\"",
        )),
    }
}

/// Start a staff transfer (在职继承 / 离职继承): WeCom is called in batches of 100 by a job
/// that then polls the takeover results. An `Idempotency-Key` header replays the transfer.
#[utoipa::path(post, path = "/api/v1/wecom/transfers", tag = "wecom", security(("bearer" = [])),
    params(IdempotencyKey), request_body = TransferRequest,
    responses((status = 202, body = Object), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody, description = idempotency::CONFLICT), (status = 422, body = ErrorBody, description = idempotency::INVALID)))]
pub async fn start_transfer(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    key: IdempotencyKey,
    ApiJson(r): ApiJson<TransferRequest>,
) -> WebResult<(StatusCode, Json<serde_json::Value>)> {
    use yutang_app::wecom::transfers::{TransferInput, TransferKind};
    let input = TransferInput {
        kind: TransferKind::parse(&r.kind)?,
        handover_staff_id: r.handover_staff_id,
        takeover_staff_id: r.takeover_staff_id,
        customers: pick("customer_ids", r.customer_ids).map_err(yutang_app::AppError::from)?,
        groups: pick("chat_ids", r.chat_ids).map_err(yutang_app::AppError::from)?,
        message: r.message,
    };
    let v = s
        .app
        .wecom()
        .start_transfer(&a, &input, key.as_deref())
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::to_value(v).unwrap_or_default()),
    ))
}

/// The latest transfers with their counts.
#[utoipa::path(get, path = "/api/v1/wecom/transfers", tag = "wecom", security(("bearer" = [])),
    responses((status = 200, body = Vec<Object>), (status = 403, body = ErrorBody)))]
pub async fn transfers(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<serde_json::Value>> {
    let v = s.app.wecom().transfers(&a).await?;
    Ok(Json(serde_json::to_value(v).unwrap_or_default()))
}

/// A transfer with each customer's state (pending, sending, waiting, success, failed + errcode).
#[utoipa::path(get, path = "/api/v1/wecom/transfers/{id}", tag = "wecom", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn transfer(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<serde_json::Value>> {
    let v = s.app.wecom().transfer(&a, id).await?;
    Ok(Json(serde_json::to_value(v).unwrap_or_default()))
}

/// Ask WeCom for the takeover results now (the job polls hourly on its own).
#[utoipa::path(post, path = "/api/v1/wecom/transfers/{id}/refresh", tag = "wecom", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
pub async fn refresh_transfer(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<serde_json::Value>> {
    let v = s.app.wecom().refresh_transfer(&a, id).await?;
    Ok(Json(serde_json::to_value(v).unwrap_or_default()))
}
