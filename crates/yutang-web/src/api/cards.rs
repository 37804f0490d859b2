//! Paid member cards (付费会员卡, issue #22 item 2): card products (`/api/v1/loyalty/cards`),
//! purchases and their refunds reported by the brand's order system
//! (`/api/v1/member-cards/purchases`), a customer's card, the guarantee's refund instructions
//! and their acknowledgement, the settlement run, and the member centre's own card.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use yutang_app::audit::{Page, Paged};
use yutang_app::loyalty::cards::{
    CardMemberRow, CardView, CustomerCardView, PeriodRow, Purchase, PurchaseInput, RefundQuery,
    RefundRow,
};
use yutang_core::ids::CustomerId;
use yutang_core::loyalty::cards::{CardSpec, parse_price};
use yutang_core::orders::{parse_external_id, parse_fen};

use crate::api::dto::opt_occurred;
use crate::api::promotions::CustomerAuth;
use crate::api::tags::JobOut;
use crate::auth::{ApiActor, ApiJson, ApiQuery, CodePath, IdPath};
use crate::error::{ErrorBody, WebError, WebResult};
use crate::state::AppState;

/// The products list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProductParams {
    /// Include products no longer sold.
    pub archived: Option<bool>,
}

/// A page.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    pub page: Option<i64>,
    /// 1–200, default 50.
    pub page_size: Option<i64>,
}

/// The refund instructions, filtered.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RefundParams {
    /// pending or acknowledged; none: both.
    pub status: Option<String>,
    pub page: Option<i64>,
    /// 1–200, default 50.
    pub page_size: Option<i64>,
}

/// A purchase or renewal as the order system reports it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurchaseIn {
    /// The order system's order number: the idempotency key (the same body again answers the
    /// stored period; another body is 422 `idempotency_key_reused`).
    pub order_no: String,
    pub customer_id: i64,
    /// The card product's key.
    pub card_key: String,
    /// What was paid, integer fen (> 0); default the product's price.
    #[schema(value_type = Option<i64>)]
    pub paid_fen: Option<serde_json::Number>,
    /// RFC 3339; default now.
    pub paid_at: Option<String>,
}

/// A purchase's refund.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundIn {
    /// Why (0–200 characters).
    pub reason: Option<String>,
}

/// The documented shapes (the handlers use the domain types).
pub mod schema {
    use serde::Serialize;
    use utoipa::ToSchema;

    /// A card product as written.
    #[derive(Serialize, ToSchema)]
    pub struct CardIn {
        /// 1–32 lowercase letters, digits or `_`; unique.
        pub key: String,
        /// 1–40 characters (月卡).
        pub name: String,
        /// Days one purchase lasts, 1–3660 (0: 422 `invalid_period`).
        pub period_days: i64,
        /// Integer fen, > 0.
        pub price_fen: i64,
        /// Thousandths, 1–20000 (default 1000; 2000 = double points), combined with the
        /// tier's.
        pub points_multiplier: Option<i64>,
        /// Coupon templates given once per Shanghai month of a card period (at most 10).
        pub monthly_coupon_template_ids: Option<Vec<i64>>,
        /// Refund the difference when a period saved less than was paid (default false).
        pub savings_guarantee: Option<bool>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct CardOut {
        pub id: i64,
        pub key: String,
        pub name: String,
        pub period_days: i64,
        pub price_fen: i64,
        pub points_multiplier: i64,
        pub monthly_coupon_template_ids: Vec<i64>,
        pub savings_guarantee: bool,
        pub archived: bool,
        /// Members holding it now, in the caller's data scope.
        pub members: i64,
        pub created_at: i64,
        pub updated_at: i64,
    }

    /// One purchase's period `[starts_at, ends_at)`; status active, refunded or settled.
    #[derive(Serialize, ToSchema)]
    pub struct PeriodOut {
        pub id: i64,
        pub customer_id: i64,
        pub card_id: i64,
        pub card_key: String,
        pub card_name: String,
        pub order_no: String,
        pub paid_fen: i64,
        pub points_multiplier: i64,
        /// 1: with the savings guarantee.
        pub savings_guarantee: i64,
        /// 1: it follows the period before it.
        pub renewal: i64,
        pub paid_at: i64,
        pub starts_at: i64,
        pub ends_at: i64,
        pub status: String,
        pub savings_fen: i64,
        pub refund_reason: String,
        pub closed_at: Option<i64>,
        pub created_at: i64,
    }

    #[derive(Serialize, ToSchema)]
    pub struct PurchaseOut {
        pub period: PeriodOut,
        /// false: a replay of the same purchase (nothing written).
        pub created: bool,
    }

    /// One saving: cause `order:{order id}` or `coupon:{coupon id}:{order id}`.
    #[derive(Serialize, ToSchema)]
    pub struct SavingOut {
        pub id: i64,
        pub period_id: i64,
        pub cause: String,
        pub amount_fen: i64,
        pub created_at: i64,
    }

    #[derive(Serialize, ToSchema)]
    pub struct CustomerCardOut {
        pub customer_id: i64,
        pub active: bool,
        pub current: Option<PeriodOut>,
        pub expires_at: Option<i64>,
        pub savings_fen: i64,
        pub paid_fen: i64,
        pub periods: Vec<PeriodOut>,
        pub savings: Vec<SavingOut>,
    }

    #[derive(Serialize, ToSchema)]
    #[schema(as = CardMemberOut)]
    pub struct MemberOut {
        pub customer_id: i64,
        pub name: String,
        pub period_id: i64,
        pub starts_at: i64,
        pub ends_at: i64,
        pub paid_fen: i64,
        pub savings_fen: i64,
    }

    #[derive(Serialize, ToSchema)]
    #[schema(as = CardMemberPage)]
    pub struct MemberPage {
        pub items: Vec<MemberOut>,
        pub total: i64,
        pub page: i64,
        pub page_size: i64,
    }

    /// A refund the order system owes: status pending or acknowledged.
    #[derive(Serialize, ToSchema)]
    #[schema(as = CardRefundOut)]
    pub struct RefundOut {
        pub id: i64,
        pub period_id: i64,
        pub customer_id: i64,
        pub customer_name: String,
        pub order_no: String,
        pub paid_fen: i64,
        pub savings_fen: i64,
        pub amount_fen: i64,
        pub status: String,
        pub created_at: i64,
        pub acknowledged_at: Option<i64>,
        pub acknowledged_by: String,
    }

    #[derive(Serialize, ToSchema)]
    pub struct RefundPage {
        pub items: Vec<RefundOut>,
        pub total: i64,
        pub page: i64,
        pub page_size: i64,
    }
}

fn page(p: Option<i64>, size: Option<i64>) -> Result<Page, WebError> {
    Ok(Page::parse(p, size).map_err(yutang_app::AppError::from)?)
}

/// The card products with their members now in the caller's data scope.
#[utoipa::path(get, path = "/api/v1/loyalty/cards", tag = "loyalty", security(("bearer" = [])),
    params(ProductParams),
    responses((status = 200, body = Vec<schema::CardOut>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<ProductParams>,
) -> WebResult<Json<Vec<CardView>>> {
    Ok(Json(
        s.app
            .cards()
            .products(&a, p.archived.unwrap_or(false))
            .await?,
    ))
}

/// Create a card product (operators and admins; audited). A period of 0 days, a price not
/// above 0, a multiplier of 0…: 422 naming the field, nothing written. A key in use: 409.
#[utoipa::path(post, path = "/api/v1/loyalty/cards", tag = "loyalty", security(("bearer" = [])),
    request_body = schema::CardIn,
    responses((status = 201, body = schema::CardOut), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(spec): ApiJson<CardSpec>,
) -> WebResult<(StatusCode, Json<CardView>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.cards().create_product(&a, spec).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/loyalty/cards/{id}", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = schema::CardOut), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<CardView>> {
    Ok(Json(s.app.cards().product(&a, id).await?))
}

/// Replace a product's fields (bought periods keep what they were bought with).
#[utoipa::path(put, path = "/api/v1/loyalty/cards/{id}", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = schema::CardIn,
    responses((status = 200, body = schema::CardOut), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(spec): ApiJson<CardSpec>,
) -> WebResult<Json<CardView>> {
    Ok(Json(s.app.cards().update_product(&a, id, spec).await?))
}

/// Stop selling a product (bought periods run on and settle as usual).
#[utoipa::path(post, path = "/api/v1/loyalty/cards/{id}/archive", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = schema::CardOut), (status = 404, body = ErrorBody)))]
pub async fn archive(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<CardView>> {
    Ok(Json(s.app.cards().archive_product(&a, id).await?))
}

/// A card's members now in the caller's data scope.
#[utoipa::path(get, path = "/api/v1/loyalty/cards/{id}/members", tag = "loyalty",
    security(("bearer" = [])), params(("id" = i64, Path), PageParams),
    responses((status = 200, body = schema::MemberPage), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn members(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiQuery(p): ApiQuery<PageParams>,
) -> WebResult<Json<Paged<CardMemberRow>>> {
    let page = page(p.page, p.page_size)?;
    Ok(Json(s.app.cards().members(&a, id, page).await?))
}

/// Record a card purchase or renewal (the order system with an API token, or HQ staff).
/// 201 when recorded now; 200 with `created: false` for the same purchase again. A purchase
/// while a period runs starts when it ends (a renewal).
#[utoipa::path(post, path = "/api/v1/member-cards/purchases", tag = "loyalty", security(("bearer" = [])),
    request_body = PurchaseIn,
    responses((status = 201, body = schema::PurchaseOut), (status = 200, body = schema::PurchaseOut),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "idempotency_key_reused, unknown_reference (card_key), invalid_amount …", body = ErrorBody)))]
pub async fn purchase(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(req): ApiJson<PurchaseIn>,
) -> WebResult<(StatusCode, Json<Purchase>)> {
    let paid_fen = match &req.paid_fen {
        Some(n) => Some(parse_price(
            "paid_fen",
            parse_fen("paid_fen", &n.to_string())?.0,
        )?),
        None => None,
    };
    let card_key = req.card_key.trim();
    if card_key.is_empty() || card_key.len() > 32 {
        return Err(yutang_core::FieldError::new(
            "card_key",
            "unknown_reference",
            "no card on sale with this key",
        )
        .into());
    }
    let input = PurchaseInput {
        order_no: parse_external_id("order_no", &req.order_no)?,
        customer: CustomerId(req.customer_id),
        card_key: card_key.to_owned(),
        paid_fen,
        paid_at: opt_occurred(
            "paid_at",
            &req.paid_at,
            s.app.now(),
            s.app.settings.limits.future_skew_minutes,
        )?,
    };
    let p = s.app.cards().record_purchase(&a, &input).await?;
    let status = if p.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(p)))
}

/// Refund a card purchase (audited): its period ends now and is not settled. Again: the same
/// answer. A settled period: 409 `card_period_closed`.
#[utoipa::path(post, path = "/api/v1/member-cards/purchases/{order_no}/refund", tag = "loyalty",
    security(("bearer" = [])), params(("order_no" = String, Path)), request_body = RefundIn,
    responses((status = 200, body = schema::PeriodOut), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn refund_purchase(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    CodePath(order_no): CodePath,
    ApiJson(req): ApiJson<RefundIn>,
) -> WebResult<Json<PeriodRow>> {
    let reason = yutang_core::org::parse_label("reason", req.reason.as_deref().unwrap_or(""), 200)?;
    Ok(Json(
        s.app
            .cards()
            .refund_purchase(&a, &order_no, &reason)
            .await?,
    ))
}

/// A customer's card: the current period, until when they are covered, the savings so far
/// against what it cost, the periods and the savings.
#[utoipa::path(get, path = "/api/v1/customers/{id}/card", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = schema::CustomerCardOut), (status = 404, body = ErrorBody)))]
pub async fn customer_card(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<CustomerCardView>> {
    Ok(Json(s.app.cards().customer_card(&a, CustomerId(id)).await?))
}

/// The guarantee's refund instructions in the caller's data scope, newest first.
#[utoipa::path(get, path = "/api/v1/member-cards/refunds", tag = "loyalty", security(("bearer" = [])),
    params(RefundParams),
    responses((status = 200, body = schema::RefundPage), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn refunds(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<RefundParams>,
) -> WebResult<Json<Paged<RefundRow>>> {
    let q = RefundQuery {
        status: p.status,
        page: page(p.page, p.page_size)?,
    };
    Ok(Json(s.app.cards().refunds(&a, &q).await?))
}

/// The order system confirms it paid a refund (audited). Again: the same answer.
#[utoipa::path(post, path = "/api/v1/member-cards/refunds/{id}/acknowledge", tag = "loyalty",
    security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = schema::RefundOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn acknowledge(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<RefundRow>> {
    Ok(Json(s.app.cards().acknowledge_refund(&a, id).await?))
}

/// Start a settlement now (it also runs every hour): every period that has ended is settled
/// once; follow it at `/api/v1/jobs/{id}`.
#[utoipa::path(post, path = "/api/v1/member-cards/settlement-runs", tag = "loyalty",
    security(("bearer" = [])),
    responses((status = 202, body = JobOut), (status = 403, body = ErrorBody)))]
pub async fn start_settlement(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<(StatusCode, Json<JobOut>)> {
    let id = s.app.cards().start_settlement(&a).await?;
    let job = s.app.job(&a, id).await?;
    Ok((StatusCode::ACCEPTED, Json(job.into())))
}

/// The signed-in customer's card (member centre).
#[utoipa::path(get, path = "/api/v1/public/me/card", tag = "public", security(("customer" = [])),
    responses((status = 200, body = schema::CustomerCardOut), (status = 401, body = ErrorBody)))]
pub async fn public_card(
    State(s): State<AppState>,
    CustomerAuth(c): CustomerAuth,
) -> WebResult<Json<CustomerCardView>> {
    Ok(Json(s.app.cards().public_card(c).await?))
}
