//! The points mall (积分商城, issue #22 item 4): items (admin, operator), exchanges by the POS
//! or an integration (API token) and by the customer (customer token), the cash part's
//! payment reported by the brand's order system, fulfilment (ship, deliver, fulfil) and
//! cancellation. Every exchange takes an `Idempotency-Key`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use yutang_app::loyalty::mall::{ExchangePage, ExchangeQuery, ExchangeRow, ItemRow, Step};
use yutang_core::ids::CustomerId;
use yutang_core::loyalty::mall::{DEFAULT_PAYMENT_MINUTES, ItemKind, ItemSpec};

use crate::api::idempotency::{self, IdempotencyKey};
use crate::api::promotions::CustomerAuth;
use crate::auth::{ApiActor, ApiJson, ApiQuery, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

fn default_true() -> bool {
    true
}

fn default_payment_minutes() -> i64 {
    DEFAULT_PAYMENT_MINUTES
}

/// A mall item, written whole.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemIn {
    /// coupon, gift or product (cannot change after creation).
    pub kind: String,
    /// 1–40 characters.
    pub name: String,
    /// ≤ 500 characters.
    #[serde(default)]
    pub description: String,
    /// An http(s) URL.
    pub image_url: Option<String>,
    /// Points per unit: a whole number, at least 1.
    pub points_price: i64,
    /// The cash part (fen); 0 (the default): points alone pay. With a cash part the exchange
    /// waits for the order system's payment.
    #[serde(default)]
    pub cash_price_fen: i64,
    /// Units left, 0 or more.
    pub stock: i64,
    /// Most units one customer may hold (1–10,000); null: no limit.
    pub per_customer_limit: Option<i64>,
    /// The coupon template a coupon item issues (coupon items only).
    pub coupon_template_id: Option<i64>,
    /// The brand's SKU (product items only).
    pub sku: Option<String>,
    /// When customers may exchange it (epoch ms; both or neither).
    pub starts_at: Option<i64>,
    pub ends_at: Option<i64>,
    /// On sale (default true).
    #[serde(default = "default_true")]
    pub on_sale: bool,
    /// Minutes an exchange with a cash part waits for payment (1–1440, default 15).
    #[serde(default = "default_payment_minutes")]
    pub payment_minutes: i64,
}

impl ItemIn {
    fn spec(self) -> Result<ItemSpec, yutang_app::AppError> {
        Ok(ItemSpec {
            kind: ItemKind::parse("kind", &self.kind)?,
            name: self.name,
            description: self.description,
            image_url: self.image_url,
            points_price: self.points_price,
            cash_price_fen: self.cash_price_fen,
            stock: self.stock,
            per_customer_limit: self.per_customer_limit,
            coupon_template_id: self.coupon_template_id,
            sku: self.sku,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            on_sale: self.on_sale,
            payment_minutes: self.payment_minutes,
        }
        .parse()?)
    }
}

/// `archived=true` lists the archived items instead of the live ones.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ItemsParams {
    pub archived: Option<bool>,
}

/// Filters of the exchange list; `before` an exchange id (exclusive), `limit` 1–200.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExchangesParams {
    pub state: Option<String>,
    pub item_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub kind: Option<String>,
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

/// Exchange one unit of an item.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangeIn {
    pub item_id: i64,
}

/// The order system paid the cash part.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentIn {
    /// The brand's order reference (1–64 visible characters); a retry with the same one
    /// answers the paid exchange.
    pub order_ref: String,
}

/// A gift's shipment.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentIn {
    /// 1–40 characters (顺丰, 中通 …).
    pub carrier: String,
    /// 1–64 visible characters.
    pub tracking_no: String,
}

/// The documented shapes (the handlers use the domain types).
pub mod schema {
    use serde::Serialize;
    use utoipa::ToSchema;

    #[derive(Serialize, ToSchema)]
    pub struct Item {
        pub id: i64,
        /// coupon, gift, product.
        pub kind: String,
        pub name: String,
        pub description: String,
        pub image_url: Option<String>,
        pub points_price: i64,
        pub cash_price_fen: i64,
        /// Units left.
        pub stock: i64,
        /// Units held by exchanges that were not cancelled or expired.
        pub sold: i64,
        pub per_customer_limit: Option<i64>,
        pub coupon_template_id: Option<i64>,
        pub sku: Option<String>,
        pub starts_at: Option<i64>,
        pub ends_at: Option<i64>,
        pub on_sale: bool,
        pub payment_minutes: i64,
        pub archived_at: Option<i64>,
        pub created_by: String,
        pub created_at: i64,
        pub updated_at: i64,
    }

    /// An exchange. state: awaiting_payment, pending, shipped, delivered, fulfilled,
    /// completed, cancelled, expired.
    #[derive(Serialize, ToSchema)]
    pub struct Exchange {
        pub id: i64,
        pub item_id: i64,
        /// The item's name (archived items keep theirs).
        pub item_name: String,
        pub customer_id: i64,
        pub kind: String,
        pub state: String,
        pub points: i64,
        pub cash_fen: i64,
        /// The ledger entry that debited the points, and the one that returned them.
        pub points_entry_id: i64,
        pub return_entry_id: Option<i64>,
        /// The coupon claim a coupon item issued.
        pub coupon_claim_id: Option<i64>,
        /// Unpaid by then (epoch ms), an exchange with a cash part expires.
        pub pay_by: Option<i64>,
        pub order_ref: Option<String>,
        pub carrier: Option<String>,
        pub tracking_no: Option<String>,
        pub created_by: String,
        pub created_at: i64,
        pub paid_at: Option<i64>,
        pub shipped_at: Option<i64>,
        pub finished_at: Option<i64>,
        pub returned_at: Option<i64>,
        pub updated_by: String,
        pub updated_at: i64,
    }

    #[derive(Serialize, ToSchema)]
    pub struct ExchangePage {
        pub items: Vec<Exchange>,
        pub next_before: Option<i64>,
    }
}

fn status(created: bool) -> StatusCode {
    if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

#[utoipa::path(get, path = "/api/v1/mall/items", tag = "loyalty", security(("bearer" = [])),
    params(ItemsParams),
    responses((status = 200, body = Vec<schema::Item>), (status = 403, body = ErrorBody)))]
pub async fn list_items(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<ItemsParams>,
) -> WebResult<Json<Vec<ItemRow>>> {
    Ok(Json(
        s.app.mall().items(&a, p.archived.unwrap_or(false)).await?,
    ))
}

/// Create an item (admin, operator; audited). A negative stock is 422 `invalid_stock`
/// naming `stock`, and nothing is written.
#[utoipa::path(post, path = "/api/v1/mall/items", tag = "loyalty", security(("bearer" = [])),
    request_body = ItemIn,
    responses((status = 201, body = schema::Item), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_item(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(b): ApiJson<ItemIn>,
) -> WebResult<(StatusCode, Json<ItemRow>)> {
    let spec = b.spec()?;
    Ok((
        StatusCode::CREATED,
        Json(s.app.mall().create_item(&a, spec).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/mall/items/{id}", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = schema::Item), (status = 404, body = ErrorBody)))]
pub async fn get_item(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<ItemRow>> {
    Ok(Json(s.app.mall().item(&a, id).await?))
}

/// Replace an item (admin, operator; audited); its kind cannot change.
#[utoipa::path(put, path = "/api/v1/mall/items/{id}", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ItemIn,
    responses((status = 200, body = schema::Item), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_item(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(b): ApiJson<ItemIn>,
) -> WebResult<Json<ItemRow>> {
    let spec = b.spec()?;
    Ok(Json(s.app.mall().update_item(&a, id, spec).await?))
}

/// Archive an item (admin, operator; audited): closed to exchanges, its exchanges keep it.
#[utoipa::path(delete, path = "/api/v1/mall/items/{id}", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn archive_item(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<StatusCode> {
    s.app.mall().archive_item(&a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn query(p: ExchangesParams, customer: Option<i64>) -> ExchangeQuery {
    ExchangeQuery {
        state: p.state,
        item_id: p.item_id,
        customer_id: customer.or(p.customer_id),
        kind: p.kind,
        before: p.before,
        limit: p.limit,
    }
}

/// Exchanges, newest first: brand-wide for HQ roles, or filtered by `customer_id` for anyone
/// who sees that customer.
#[utoipa::path(get, path = "/api/v1/mall/exchanges", tag = "loyalty", security(("bearer" = [])),
    params(ExchangesParams),
    responses((status = 200, body = schema::ExchangePage), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "The `customer` filter names a customer outside the caller's scope"),
        (status = 422, body = ErrorBody)))]
pub async fn list_exchanges(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<ExchangesParams>,
) -> WebResult<Json<ExchangePage>> {
    Ok(Json(s.app.mall().exchanges(&a, &query(p, None)).await?))
}

#[utoipa::path(get, path = "/api/v1/mall/exchanges/{id}", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = schema::Exchange), (status = 404, body = ErrorBody)))]
pub async fn get_exchange(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<ExchangeRow>> {
    Ok(Json(s.app.mall().exchange_row(&a, id).await?))
}

async fn step(
    s: &AppState,
    a: &yutang_app::Actor,
    id: i64,
    step: Step,
) -> WebResult<(StatusCode, Json<ExchangeRow>)> {
    // A step made now and a retry of one already made both answer the exchange as it is.
    let (e, _) = s.app.mall().step(a, id, step).await?;
    Ok((StatusCode::OK, Json(e)))
}

/// The order system reports the cash part paid (admin, operator tokens): the exchange moves
/// on (a coupon is issued, a gift or product becomes pending). A retry with the same
/// `order_ref` answers the paid exchange; after the payment window it is refused.
#[utoipa::path(post, path = "/api/v1/mall/exchanges/{id}/payment", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = PaymentIn,
    responses((status = 200, body = schema::Exchange), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn pay(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(b): ApiJson<PaymentIn>,
) -> WebResult<(StatusCode, Json<ExchangeRow>)> {
    step(
        &s,
        &a,
        id,
        Step::Pay {
            order_ref: b.order_ref,
        },
    )
    .await
}

/// Ship a pending gift with its carrier and tracking number (admin, operator; audited).
#[utoipa::path(post, path = "/api/v1/mall/exchanges/{id}/ship", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ShipmentIn,
    responses((status = 200, body = schema::Exchange), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn ship(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(b): ApiJson<ShipmentIn>,
) -> WebResult<(StatusCode, Json<ExchangeRow>)> {
    step(
        &s,
        &a,
        id,
        Step::Ship {
            carrier: b.carrier,
            tracking_no: b.tracking_no,
        },
    )
    .await
}

/// A shipped gift arrived (admin, operator; audited).
#[utoipa::path(post, path = "/api/v1/mall/exchanges/{id}/deliver", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = schema::Exchange), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn deliver(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<(StatusCode, Json<ExchangeRow>)> {
    step(&s, &a, id, Step::Deliver).await
}

/// A pending product was handed over (admin, operator; audited).
#[utoipa::path(post, path = "/api/v1/mall/exchanges/{id}/fulfil", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = schema::Exchange), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn fulfil(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<(StatusCode, Json<ExchangeRow>)> {
    step(&s, &a, id, Step::Fulfil).await
}

/// Cancel an exchange before it ships (admin, operator; audited): its points return to the
/// lots they came from and its unit to the stock, once; a repeat answers the cancelled
/// exchange.
#[utoipa::path(post, path = "/api/v1/mall/exchanges/{id}/cancel", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = schema::Exchange), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn cancel(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<(StatusCode, Json<ExchangeRow>)> {
    step(&s, &a, id, Step::Cancel).await
}

/// A customer's exchanges (anyone who sees the customer).
#[utoipa::path(get, path = "/api/v1/customers/{id}/mall/exchanges", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path), ExchangesParams),
    responses((status = 200, body = schema::ExchangePage), (status = 404, body = ErrorBody)))]
pub async fn customer_exchanges(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiQuery(p): ApiQuery<ExchangesParams>,
) -> WebResult<Json<ExchangePage>> {
    Ok(Json(s.app.mall().exchanges(&a, &query(p, Some(id))).await?))
}

/// Exchange one unit of an item for a customer (POS, integrations; admin, operator tokens).
/// Requires an `Idempotency-Key`: a retry answers the first exchange (200) and never spends
/// twice. Too few points: 422 `insufficient_points`; none left: 409 `out_of_stock`; the
/// customer's limit: 409 `limit_reached`.
#[utoipa::path(post, path = "/api/v1/customers/{id}/mall/exchanges", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path), IdempotencyKey), request_body = ExchangeIn,
    responses((status = 201, body = schema::Exchange), (status = 200, body = schema::Exchange),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = idempotency::CONFLICT),
        (status = 422, body = ErrorBody, description = idempotency::INVALID)))]
pub async fn exchange(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    key: IdempotencyKey,
    ApiJson(b): ApiJson<ExchangeIn>,
) -> WebResult<(StatusCode, Json<ExchangeRow>)> {
    let (e, created) = s
        .app
        .mall()
        .exchange(&a, CustomerId(id), b.item_id, key.as_deref())
        .await?;
    Ok((status(created), Json(e)))
}

/// Items on sale now (member centre, mini-program).
#[utoipa::path(get, path = "/api/v1/public/mall/items", tag = "public", security(("customer" = [])),
    responses((status = 200, body = Vec<schema::Item>), (status = 401, body = ErrorBody)))]
pub async fn public_items(
    State(s): State<AppState>,
    CustomerAuth(_c): CustomerAuth,
) -> WebResult<Json<Vec<ItemRow>>> {
    Ok(Json(s.app.mall().public_items().await?))
}

/// The signed-in customer's exchanges, newest first.
#[utoipa::path(get, path = "/api/v1/public/me/mall/exchanges", tag = "public", security(("customer" = [])),
    responses((status = 200, body = Vec<schema::Exchange>), (status = 401, body = ErrorBody)))]
pub async fn public_exchanges(
    State(s): State<AppState>,
    CustomerAuth(c): CustomerAuth,
) -> WebResult<Json<Vec<ExchangeRow>>> {
    Ok(Json(s.app.mall().my_exchanges(c).await?))
}

/// The customer exchanges their own points for an item. Requires an `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/public/me/mall/exchanges", tag = "public", security(("customer" = [])),
    params(IdempotencyKey), request_body = ExchangeIn,
    responses((status = 201, body = schema::Exchange), (status = 200, body = schema::Exchange),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody, description = "No such item on sale"),
        (status = 409, body = ErrorBody, description = idempotency::CONFLICT),
        (status = 422, body = ErrorBody, description = idempotency::INVALID)))]
pub async fn public_exchange(
    State(s): State<AppState>,
    CustomerAuth(c): CustomerAuth,
    key: IdempotencyKey,
    ApiJson(b): ApiJson<ExchangeIn>,
) -> WebResult<(StatusCode, Json<ExchangeRow>)> {
    let (e, created) = s
        .app
        .mall()
        .exchange_own(c, b.item_id, key.as_deref())
        .await?;
    Ok((status(created), Json(e)))
}

/// The customer cancels their own exchange while it is awaiting payment or pending: points
/// and unit return once; a repeat answers the cancelled exchange.
#[utoipa::path(post, path = "/api/v1/public/me/mall/exchanges/{id}/cancel", tag = "public", security(("customer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = schema::Exchange), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn public_cancel(
    State(s): State<AppState>,
    CustomerAuth(c): CustomerAuth,
    IdPath(id): IdPath,
) -> WebResult<Json<ExchangeRow>> {
    let (e, _) = s.app.mall().cancel_own(c, id).await?;
    Ok(Json(e))
}
