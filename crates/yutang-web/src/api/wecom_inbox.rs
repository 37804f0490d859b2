//! `/api/v1/wecom/callbacks` and `/api/v1/wecom/jobs`: the WeCom callback inbox by state
//! (pending, failed, parked) with a replay, and the WeCom side jobs that failed for good
//! with a retry (admins and operators; replays and retries are audited).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yutang_app::wecom::inbox::{CallbackList, CallbackView};
use yutang_core::time::Millis;

use crate::api::tags::JobOut;
use crate::auth::{ApiActor, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

fn ts(ms: i64) -> String {
    Millis(ms).to_rfc3339()
}

/// Callbacks per state. The states are disjoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallbackCounts {
    pub total: i64,
    /// Stored, not tried yet.
    pub pending: i64,
    /// Failed; the worker retries them (every 30 s, up to 5 attempts).
    pub failed: i64,
    /// Failed 5 times: they wait for a replay.
    pub parked: i64,
    pub last_received_at: Option<String>,
}

/// One stored callback (the payload stays in the database).
#[derive(Debug, Serialize, ToSchema)]
pub struct CallbackOut {
    pub id: i64,
    /// WeCom's `Event`, e.g. `change_external_contact`.
    pub event: String,
    /// WeCom's `ChangeType`, e.g. `add_external_contact`.
    pub change_type: String,
    /// pending, failed, parked or processed.
    pub status: String,
    pub attempts: i64,
    /// The last error; for a processed callback that was only kept, why.
    pub error: String,
    pub received_at: String,
    pub processed_at: Option<String>,
}

impl From<CallbackView> for CallbackOut {
    fn from(v: CallbackView) -> Self {
        Self {
            id: v.id,
            event: v.event,
            change_type: v.change_type,
            status: v.status.to_owned(),
            attempts: v.attempts,
            error: v.error,
            received_at: ts(v.received_at),
            processed_at: v.processed_at.map(ts),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CallbackListOut {
    pub counts: CallbackCounts,
    pub items: Vec<CallbackOut>,
    /// How many callbacks match the filter.
    pub total: i64,
}

impl From<CallbackList> for CallbackListOut {
    fn from(l: CallbackList) -> Self {
        Self {
            counts: CallbackCounts {
                total: l.counts.total,
                pending: l.counts.pending,
                failed: l.counts.failed,
                parked: l.counts.parked,
                last_received_at: l.counts.last_received_at.map(ts),
            },
            items: l.items.into_iter().map(CallbackOut::from).collect(),
            total: l.total,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CallbackQuery {
    /// pending, failed, parked or processed; all when absent.
    pub status: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
    #[serde(default)]
    pub offset: i64,
}

/// Stored WeCom callbacks, newest first, with the counts per state (admins and operators).
#[utoipa::path(get, path = "/api/v1/wecom/callbacks", tag = "wecom", security(("bearer" = [])),
    params(CallbackQuery),
    responses((status = 200, body = CallbackListOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn callbacks(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    crate::auth::ApiQuery(q): crate::auth::ApiQuery<CallbackQuery>,
) -> WebResult<Json<CallbackListOut>> {
    let list = s
        .app
        .wecom()
        .wecom_callbacks(&a, q.status.as_deref(), q.limit.unwrap_or(50), q.offset)
        .await?;
    Ok(Json(list.into()))
}

/// Replay a callback that was not applied (parked, failed or pending): its attempts start
/// over and it is applied now; the answer shows how that went. Applying is idempotent.
/// 409 `callback_already_applied` for one applied already. Audited.
#[utoipa::path(post, path = "/api/v1/wecom/callbacks/{id}/replay", tag = "wecom", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = CallbackOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn replay(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<CallbackOut>> {
    Ok(Json(
        s.app.wecom().replay_wecom_callback(&a, id).await?.into(),
    ))
}

/// WeCom side jobs (`wecom_contact_details`, `wecom_mark_tag`) that failed for good, newest
/// first (admins and operators).
#[utoipa::path(get, path = "/api/v1/wecom/jobs/failed", tag = "wecom", security(("bearer" = [])),
    responses((status = 200, body = Vec<JobOut>), (status = 403, body = ErrorBody)))]
pub async fn failed_jobs(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Vec<JobOut>>> {
    let jobs = s.app.wecom().wecom_failed_jobs(&a, 200).await?;
    Ok(Json(jobs.into_iter().map(JobOut::from).collect()))
}

/// Queue a failed WeCom side job again with fresh attempts. 409 `job_not_failed` when it
/// is not failed. Audited.
#[utoipa::path(post, path = "/api/v1/wecom/jobs/{id}/retry", tag = "wecom", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = JobOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retry_job(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<JobOut>> {
    Ok(Json(s.app.wecom().retry_wecom_job(&a, id).await?.into()))
}
