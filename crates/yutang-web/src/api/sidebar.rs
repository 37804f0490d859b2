//! `/api/v1/sidebar/…`: what the chat sidebar (聊天工具栏, issue #23 item 2) asks of Yutang —
//! the JS-SDK signatures for its page, the customer card beside a one-to-one chat, the group
//! card beside a customer group chat, the `sendChatMessage` argument for a material (through
//! the guide's tracked link) and a coupon given from the card. Everything is scoped like the
//! rest of the API: a guide sees their own customers and groups only. Tags and notes are
//! changed through `/api/v1/customers/{id}/tags` and `/api/v1/customers/{id}/notes` with the
//! card's customer id. Times are epoch milliseconds. See docs/sidebar.md.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yutang_app::sidebar::{ChatMessage, ContactCard, GroupCard, JssdkConfig};

use super::coupons::ClaimedOut;
use super::idempotency::{self, IdempotencyKey};
use super::promotions::created;
use crate::auth::{ApiActor, ApiJson, ApiQuery};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

/// The page to sign.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct JssdkQuery {
    /// The sidebar page's `location.href` (the fragment is dropped): one of this site's pages.
    pub url: Option<String>,
}

/// `ww.register`'s signatures for a page of this site: `config` with the corp's
/// `jsapi_ticket`, `agent_config` with the self-built app's. For staff sessions (the page runs
/// in a guide's WeCom client; an API token is 403). 503 `wecom_not_configured` without a
/// self-built app; 422 naming `url` for a missing address or another site's page.
#[utoipa::path(get, path = "/api/v1/sidebar/jssdk", tag = "sidebar", security(("bearer" = [])),
    params(JssdkQuery),
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn jssdk(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<JssdkQuery>,
) -> WebResult<Json<JssdkConfig>> {
    let (origin, _) = crate::console::share::origin(&s, &headers);
    Ok(Json(
        s.app
            .sidebar()
            .jssdk_config(&a, q.url.as_deref().unwrap_or_default(), &origin)
            .await?,
    ))
}

/// The customer card for the customer WeCom calls `external_userid` (from
/// `ww.getCurExternalContact`): 404 unless the caller sees them.
#[utoipa::path(get, path = "/api/v1/sidebar/contacts/{external_userid}", tag = "sidebar", security(("bearer" = [])),
    params(("external_userid" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn contact(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(external_userid): Path<String>,
) -> WebResult<Json<ContactCard>> {
    Ok(Json(s.app.sidebar().contact(&a, &external_userid).await?))
}

/// The group card for the group WeCom calls `chat_id` (from `ww.getCurExternalChat`): 404
/// unless the caller owns or is in the group (a store manager: their store's; HQ: any).
#[utoipa::path(get, path = "/api/v1/sidebar/groups/{chat_id}", tag = "sidebar", security(("bearer" = [])),
    params(("chat_id" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn group(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(chat_id): Path<String>,
) -> WebResult<Json<GroupCard>> {
    Ok(Json(s.app.sidebar().group(&a, &chat_id).await?))
}

/// A material to send into the chat.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SidebarMessageIn)]
pub struct MessageIn {
    pub material_id: i64,
    /// The customer of the one-to-one chat; absent in a group chat.
    pub external_userid: Option<String>,
}

/// The `ww.sendChatMessage` argument for a material: a text as text, a mini-program as a card,
/// anything else as a news card linking to the caller's tracked link for this customer (made
/// once; sending again answers the same link). For staff sessions other than analysts: the
/// link is the signed-in guide's.
#[utoipa::path(post, path = "/api/v1/sidebar/messages", tag = "sidebar", security(("bearer" = [])),
    request_body = MessageIn,
    responses((status = 200, body = Object), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn message(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    headers: HeaderMap,
    ApiJson(b): ApiJson<MessageIn>,
) -> WebResult<Json<ChatMessage>> {
    let (origin, _) = crate::console::share::origin(&s, &headers);
    Ok(Json(
        s.app
            .sidebar()
            .message(&a, b.material_id, b.external_userid.as_deref(), &origin)
            .await?,
    ))
}

/// A coupon to give.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SidebarCouponIn)]
pub struct CouponIn {
    pub template_id: i64,
}

/// A coupon template a guide may give.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SidebarTemplateOut)]
pub struct TemplateOut {
    pub id: i64,
    pub name: String,
    /// Sets one customer may hold over the template's life.
    pub per_customer: i64,
    /// When its claim window ends (epoch milliseconds).
    pub claim_until: i64,
}

/// The active coupon templates the caller may give from the card (everyone but analysts).
#[utoipa::path(get, path = "/api/v1/sidebar/coupon-templates", tag = "sidebar", security(("bearer" = [])),
    responses((status = 200, body = Vec<TemplateOut>), (status = 403, body = ErrorBody)))]
pub async fn coupon_templates(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Vec<TemplateOut>>> {
    Ok(Json(
        s.app
            .sidebar()
            .coupon_templates(&a)
            .await?
            .into_iter()
            .map(|t| TemplateOut {
                id: t.row.id,
                name: t.spec.name,
                per_customer: t.spec.per_customer,
                claim_until: t.spec.claim_window.ends_at.0,
            })
            .collect(),
    ))
}

/// Give the customer of the chat one set of an active template (导购发券). Send an
/// `Idempotency-Key`: a retry answers the first issue (200) and never gives twice.
#[utoipa::path(post, path = "/api/v1/sidebar/contacts/{external_userid}/coupons", tag = "sidebar", security(("bearer" = [])),
    params(("external_userid" = String, Path), IdempotencyKey), request_body = CouponIn,
    responses((status = 201, body = ClaimedOut), (status = 200, body = ClaimedOut, description = "replay"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = idempotency::CONFLICT),
        (status = 422, body = ErrorBody, description = idempotency::INVALID)))]
pub async fn give_coupon(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(external_userid): Path<String>,
    key: IdempotencyKey,
    ApiJson(b): ApiJson<CouponIn>,
) -> WebResult<(StatusCode, Json<ClaimedOut>)> {
    let sidebar = s.app.sidebar();
    let customer = sidebar.customer_of(&a, &external_userid).await?;
    let (claimed, replayed) = s
        .app
        .coupons()
        .issue_by_guide(&a, b.template_id, customer, key.as_deref())
        .await?;
    Ok((created(replayed), Json(claimed.into())))
}
