//! Flash sales over HTTP: staff `/api/v1/flash-sales`, `/api/v1/flash-sale-claims/{id}/paid`;
//! public `/api/v1/public/flash-sales…`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yutang_app::promotions::FlashClaimed;
use yutang_app::promotions::flash_sales::FlashSaleView;
use yutang_core::promotions::flash_sales::FlashSaleSpec;

use super::promotions::{
    CreateParams, Created, CustomerAuth, Published, Removed, created, json_value, spec_schema,
};
use crate::api::idempotency::{self, IdempotencyKey};
use crate::auth::{ApiActor, ApiJson, ApiQuery, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct FlashSaleOut {
    pub id: i64,
    pub name: String,
    /// `active`, or `archived` (removed with history: kept for its statistics, closed).
    pub status: String,
    pub price_fen: i64,
    pub stock: i64,
    pub sold: i64,
    pub remaining: i64,
    pub per_customer: i64,
    pub hold_minutes: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    #[schema(value_type = Object)]
    pub spec: serde_json::Value,
    pub held: i64,
    pub paid: i64,
    pub released: i64,
}

impl From<FlashSaleView> for FlashSaleOut {
    fn from(v: FlashSaleView) -> Self {
        Self {
            id: v.row.id,
            name: v.row.name,
            status: v.row.status,
            price_fen: v.row.price_fen,
            stock: v.row.stock,
            sold: v.row.sold,
            remaining: (v.row.stock - v.row.sold).max(0),
            per_customer: v.row.per_customer,
            hold_minutes: v.row.hold_minutes,
            starts_at: v.row.starts_at,
            ends_at: v.row.ends_at,
            spec: json_value(&v.spec),
            held: v.counts.a,
            paid: v.counts.b,
            released: v.counts.c,
        }
    }
}
#[derive(Debug, Serialize, ToSchema)]
pub struct FlashClaimedOut {
    pub claim_id: i64,
    /// Pay before this instant or the unit returns to the stock.
    pub hold_until: i64,
}

impl From<FlashClaimed> for FlashClaimedOut {
    fn from(c: FlashClaimed) -> Self {
        Self {
            claim_id: c.claim_id,
            hold_until: c.hold_until,
        }
    }
}

// --- staff: flash sales ---

#[utoipa::path(get, path = "/api/v1/flash-sales", tag = "promotions", security(("bearer" = [])),
    responses((status = 200, body = Vec<FlashSaleOut>)))]
pub async fn list_flash_sales(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Vec<FlashSaleOut>>> {
    Ok(Json(
        s.app
            .flash_sales()
            .flash_sales_for_staff(&a)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Create a flash sale: `{name, sku, item_name, price_fen, original_price_fen, stock,
/// window: {starts_at, ends_at}, per_customer, hold_minutes, audience}`.
#[utoipa::path(post, path = "/api/v1/flash-sales", tag = "promotions", security(("bearer" = [])),
    params(CreateParams),
    request_body = spec_schema::FlashSaleSpec,
    responses((status = 201, body = Created), (status = 422, body = ErrorBody)))]
pub async fn create_flash_sale(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<CreateParams>,
    ApiJson(spec): ApiJson<FlashSaleSpec>,
) -> WebResult<(StatusCode, Json<Created>)> {
    let id = s
        .app
        .flash_sales()
        .create_flash_sale_as(&a, spec, p.publish())
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Publish a draft flash sale: it opens to customers from its window on. Publishing it again
/// answers `already_published`; an archived one is refused (`promotion_inactive`).
#[utoipa::path(post, path = "/api/v1/flash-sales/{id}/publish", tag = "promotions", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Published), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn publish_flash_sale(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<Published>> {
    let p = s.app.flash_sales().publish_flash_sale(&a, id).await?;
    Ok(Json(Published::new(id, p)))
}

#[utoipa::path(put, path = "/api/v1/flash-sales/{id}", tag = "promotions", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = spec_schema::FlashSaleSpec,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_flash_sale(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(spec): ApiJson<FlashSaleSpec>,
) -> WebResult<StatusCode> {
    s.app.flash_sales().update_flash_sale(&a, id, spec).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/flash-sales/{id}", tag = "promotions", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = FlashSaleOut), (status = 404, body = ErrorBody)))]
pub async fn get_flash_sale(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<FlashSaleOut>> {
    Ok(Json(
        s.app
            .flash_sales()
            .flash_sale_for_staff(&a, id)
            .await?
            .into(),
    ))
}

/// Remove a flash sale. With claims it is archived: kept with its statistics, listed with
/// `status: "archived"`, closed to customers and edits. Without any it is deleted. The
/// answer says which.
#[utoipa::path(delete, path = "/api/v1/flash-sales/{id}", tag = "promotions", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Removed), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_flash_sale(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<Removed>> {
    let r = s.app.flash_sales().delete_flash_sale(&a, id).await?;
    Ok(Json(Removed::new(id, r)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaidRequest {
    /// The brand's order id.
    pub order_ref: String,
}

/// The brand's order system reports a held flash-sale claim as paid (before the hold ends).
#[utoipa::path(post, path = "/api/v1/flash-sale-claims/{id}/paid", tag = "promotions", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = PaidRequest,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn flash_paid(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(r): ApiJson<PaidRequest>,
) -> WebResult<StatusCode> {
    s.app
        .flash_sales()
        .pay_flash_claim(&a, id, &r.order_ref)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

// --- public: flash sales ---

#[utoipa::path(get, path = "/api/v1/public/flash-sales", tag = "public", security(("customer" = [])),
    responses((status = 200, body = Vec<FlashSaleOut>)))]
pub async fn public_flash_sales(
    State(s): State<AppState>,
    CustomerAuth(_c): CustomerAuth,
) -> WebResult<Json<Vec<FlashSaleOut>>> {
    Ok(Json(
        s.app
            .flash_sales()
            .flash_sales()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/public/flash-sales/{id}", tag = "public", security(("customer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = FlashSaleOut), (status = 404, body = ErrorBody)))]
pub async fn public_flash_sale(
    State(s): State<AppState>,
    CustomerAuth(_c): CustomerAuth,
    IdPath(id): IdPath,
) -> WebResult<Json<FlashSaleOut>> {
    Ok(Json(s.app.flash_sales().flash_sale(id).await?.into()))
}

#[utoipa::path(post, path = "/api/v1/public/flash-sales/{id}/claim", tag = "public", security(("customer" = [])),
    params(("id" = i64, Path), IdempotencyKey),
    responses((status = 201, body = FlashClaimedOut), (status = 200, body = FlashClaimedOut, description = "replay"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = idempotency::CONFLICT), (status = 422, body = ErrorBody, description = idempotency::INVALID)))]
pub async fn public_flash_claim(
    State(s): State<AppState>,
    CustomerAuth(c): CustomerAuth,
    IdPath(id): IdPath,
    key: IdempotencyKey,
) -> WebResult<(StatusCode, Json<FlashClaimedOut>)> {
    let (out, replayed) = s
        .app
        .flash_sales()
        .claim_flash_sale(c, id, key.as_deref())
        .await?;
    Ok((created(replayed), Json(out.into())))
}
