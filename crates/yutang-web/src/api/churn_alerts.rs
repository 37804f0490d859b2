//! `/api/v1/churn-alerts`: churn alerts (流失提醒, issue #23 item 4) — a customer deleted their
//! guide (`customer_deleted`) or a guide deleted a customer (`guide_deleted`), with the
//! customer's value then, told to the guide and the store's managers through WeCom, and marked
//! handled with a note. A guide sees the `customer_deleted` alerts about themselves, a store
//! manager their store's, headquarters and analysts every alert; analysts only read. See
//! docs/churn_alerts.md.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yutang_app::churn_alerts::{AlertPage, AlertQuery, AlertView};
use yutang_core::time::Millis;

use crate::auth::{ApiActor, ApiJson, ApiQuery, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

fn ts(ms: i64) -> String {
    Millis(ms).to_rfc3339()
}

/// Mark an alert handled, with an optional note.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ChurnAlertHandleIn)]
pub struct HandleIn {
    /// What was done about it: at most 500 characters, line breaks allowed, no other control
    /// character.
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ChurnAlertOut)]
pub struct AlertOut {
    pub id: i64,
    /// `customer_deleted` (the customer deleted the guide) or `guide_deleted` (the guide
    /// deleted the customer).
    pub kind: String,
    pub customer_id: i64,
    pub customer_name: Option<String>,
    /// The customer's phone, masked (`138****5678`).
    pub customer_phone: Option<String>,
    /// The guide of the follow that ended.
    pub staff_id: i64,
    pub staff_name: String,
    /// The guide's store when it happened.
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    /// When WeCom says it happened.
    pub occurred_at: String,
    /// The customer's orders not fully refunded, then.
    pub orders: i64,
    /// The customer's net spend (paid less refunded) in fen, then.
    pub spend_fen: i64,
    /// The customer's tier then, if any.
    pub tier_id: Option<i64>,
    pub tier_name: Option<String>,
    /// `open` or `handled`.
    pub status: String,
    pub handled_by: Option<i64>,
    pub handled_by_name: Option<String>,
    pub handled_at: Option<String>,
    /// The note it was handled with.
    pub note: String,
    pub created_at: String,
}

impl From<AlertView> for AlertOut {
    fn from(v: AlertView) -> Self {
        Self {
            id: v.id,
            kind: v.kind,
            customer_id: v.customer_id,
            customer_name: v.customer_name,
            customer_phone: v.customer_phone,
            staff_id: v.staff_id,
            staff_name: v.staff_name,
            store_id: v.store_id,
            store_name: v.store_name,
            occurred_at: ts(v.occurred_at),
            orders: v.orders,
            spend_fen: v.spend_fen,
            tier_id: v.tier_id,
            tier_name: v.tier_name,
            status: v.status,
            handled_by: v.handled_by,
            handled_by_name: v.handled_by_name,
            handled_at: v.handled_at.map(ts),
            note: v.note,
            created_at: ts(v.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ChurnAlertPageOut)]
pub struct AlertPageOut {
    pub items: Vec<AlertOut>,
    /// Pass back as `before` for the next page; null on the last page.
    pub next_before: Option<i64>,
}

impl From<AlertPage> for AlertPageOut {
    fn from(p: AlertPage) -> Self {
        Self {
            items: p.items.into_iter().map(AlertOut::from).collect(),
            next_before: p.next_before,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AlertsParams {
    /// `customer_deleted` or `guide_deleted`; both when absent.
    pub kind: Option<String>,
    /// `open` or `handled`; both when absent.
    pub status: Option<String>,
    /// Only this store's alerts (within the caller's scope).
    pub store_id: Option<i64>,
    /// Only this guide's alerts (within the caller's scope).
    pub staff_id: Option<i64>,
    /// Only alerts about this customer.
    pub customer_id: Option<i64>,
    /// The `next_before` of the previous page.
    pub before: Option<i64>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
}

/// A page of churn alerts, newest first: a guide's own `customer_deleted` alerts, a store
/// manager's store's, every alert for headquarters and analysts.
#[utoipa::path(get, path = "/api/v1/churn-alerts", tag = "churn_alerts", security(("bearer" = [])),
    params(AlertsParams),
    responses((status = 200, body = AlertPageOut), (status = 403, body = ErrorBody),
        (status = 422, description = "invalid_query, invalid_kind, invalid_status, invalid_page_size", body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<AlertsParams>,
) -> WebResult<Json<AlertPageOut>> {
    let q = AlertQuery {
        kind: p.kind,
        status: p.status,
        staff_id: p.staff_id,
        store_id: p.store_id,
        customer_id: p.customer_id,
        before: p.before,
        limit: p.limit,
    };
    Ok(Json(s.app.churn_alerts().list(&a, &q).await?.into()))
}

/// One churn alert (404 outside the caller's scope).
#[utoipa::path(get, path = "/api/v1/churn-alerts/{id}", tag = "churn_alerts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = AlertOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<AlertOut>> {
    Ok(Json(s.app.churn_alerts().get(&a, id).await?.into()))
}

/// Mark an open churn alert handled, with an optional note (the guide of a `customer_deleted`
/// alert, a store manager of the store, or headquarters; not analysts). Handling it again is
/// 409 `churn_alert_handled`.
#[utoipa::path(post, path = "/api/v1/churn-alerts/{id}/handle", tag = "churn_alerts", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = HandleIn,
    responses((status = 200, body = AlertOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "churn_alert_handled (already handled)", body = ErrorBody),
        (status = 422, description = "text_too_long, invalid_characters, unknown_field, invalid_field, malformed_json", body = ErrorBody)))]
pub async fn handle(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<HandleIn>,
) -> WebResult<Json<AlertOut>> {
    Ok(Json(
        s.app
            .churn_alerts()
            .handle(&a, id, req.note.as_deref())
            .await?
            .into(),
    ))
}
