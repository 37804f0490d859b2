//! `/api/v1/orders`: orders with lines, amounts in integer fen, attribution, status changes
//! and refunds. Recording is idempotent by `external_id`, refunds by `refund_id`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yutang_app::AppError;
use yutang_app::audit::Page;
use yutang_app::customers::CustomerRef;
use yutang_app::orders::{OrderDetail, OrderInput, OrderQuery};
use yutang_app::orders::{OrderLineRow, OrderRow};
use yutang_core::FieldError;
use yutang_core::ids::{CustomerId, OrderId, StaffId, StoreId};
use yutang_core::money::Fen;
use yutang_core::orders::{OrderLine, OrderStatus, parse_channel, parse_external_id, parse_fen};
use yutang_core::time::Millis;

use super::customers::IdentityIn;
use super::dto::opt_occurred;
use crate::auth::{ApiActor, ApiJson, ApiQuery, IdPath};
use crate::error::{ErrorBody, WebError, WebResult};
use crate::state::AppState;

fn ts(ms: i64) -> String {
    Millis(ms).to_rfc3339()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderLineOut {
    pub line_no: i64,
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub unit_price_fen: i64,
    pub amount_fen: i64,
}

impl From<OrderLineRow> for OrderLineOut {
    fn from(l: OrderLineRow) -> Self {
        Self {
            line_no: l.line_no,
            sku: l.sku,
            name: l.name,
            quantity: l.quantity,
            unit_price_fen: l.unit_price,
            amount_fen: l.amount,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderOut {
    pub id: i64,
    pub external_id: String,
    pub customer_id: i64,
    pub channel: String,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    pub guide_id: Option<i64>,
    pub guide_name: Option<String>,
    pub campaign: String,
    /// paid, shipped, completed, partially_refunded or refunded.
    pub status: String,
    /// Paid amount (lines minus discount), fen.
    pub amount_fen: i64,
    pub discount_fen: i64,
    pub refunded_fen: i64,
    pub paid_at: String,
    pub shipped_at: Option<String>,
    pub completed_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Present on single-order responses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<OrderLineOut>>,
}

impl OrderOut {
    pub fn from_row(o: OrderRow) -> Self {
        Self {
            id: o.id,
            external_id: o.external_id,
            customer_id: o.customer_id,
            channel: o.channel,
            store_id: o.store_id,
            store_name: o.store_name,
            guide_id: o.guide_id,
            guide_name: o.guide_name,
            campaign: o.campaign,
            status: o.status,
            amount_fen: o.amount,
            discount_fen: o.discount,
            refunded_fen: o.refunded_amount,
            paid_at: ts(o.paid_at),
            shipped_at: o.shipped_at.map(ts),
            completed_at: o.completed_at.map(ts),
            created_at: ts(o.created_at),
            updated_at: ts(o.updated_at),
            lines: None,
        }
    }
}

impl From<OrderDetail> for OrderOut {
    fn from(d: OrderDetail) -> Self {
        let mut o = OrderOut::from_row(d.order);
        o.lines = Some(d.lines.into_iter().map(Into::into).collect());
        o
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderPage {
    pub items: Vec<OrderOut>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordedOrder {
    /// false when an order with this external_id was already stored (nothing changed).
    pub created: bool,
    pub order: OrderOut,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderLineIn {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    /// Integer fen: 12990 is 129.90 CNY. Decimals and negatives are refused.
    #[schema(value_type = i64)]
    pub unit_price_fen: serde_json::Number,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    /// The source system's order id: the idempotency key.
    pub external_id: String,
    /// Exactly one of customer_id or identity.
    pub customer_id: Option<i64>,
    pub identity: Option<IdentityIn>,
    /// store, mini_program, tmall, jd, youzan, douyin, app …
    pub channel: String,
    pub store_id: Option<i64>,
    pub guide_id: Option<i64>,
    pub campaign: Option<String>,
    /// paid (default), shipped or completed.
    pub status: Option<String>,
    /// RFC 3339; default now.
    pub paid_at: Option<String>,
    #[schema(value_type = Option<i64>)]
    pub discount_fen: Option<serde_json::Number>,
    /// What member prices saved the customer on this order (integer fen, ≥ 0): counted
    /// towards their paid member card's savings guarantee when a card period covers the
    /// payment.
    #[schema(value_type = Option<i64>)]
    pub member_savings: Option<serde_json::Number>,
    pub lines: Vec<OrderLineIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// shipped or completed.
    pub status: String,
    /// RFC 3339; default now.
    pub at: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// The source system's refund id: the idempotency key.
    pub refund_id: String,
    #[schema(value_type = i64)]
    pub amount_fen: serde_json::Number,
    /// RFC 3339; default now.
    pub at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RefundOut {
    /// false for a replay of the same refund_id.
    pub applied: bool,
    pub order: OrderOut,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrderListParams {
    pub customer_id: Option<i64>,
    pub status: Option<String>,
    pub store_id: Option<i64>,
    pub page: Option<i64>,
    pub page_size: Option<i64>,
}

/// A line's error names the line: `lines[2].quantity`.
fn line_error(i: usize, e: FieldError) -> WebError {
    let f = e.field.strip_prefix("lines.").unwrap_or(e.field);
    let field = format!("lines[{i}].{f}");
    WebError::from(e).with_field(field)
}

fn parse_order(req: &OrderRequest, now: i64, skew: i64) -> Result<OrderInput, WebError> {
    let customer = match (req.customer_id, &req.identity) {
        (Some(id), None) => CustomerRef::Id(CustomerId(id)),
        (None, Some(i)) => CustomerRef::Identity(i.parse()?),
        _ => {
            return Err(FieldError::new(
                "customer_id",
                "customer_required",
                "name the customer with exactly one of customer_id or identity",
            )
            .into());
        }
    };
    let lines = req
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            parse_fen("lines.unit_price_fen", &l.unit_price_fen.to_string())
                .and_then(|price| OrderLine::parse(&l.sku, &l.name, l.quantity, price))
                .map_err(|e| line_error(i, e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(OrderInput {
        external_id: parse_external_id("external_id", &req.external_id)?,
        customer,
        channel: parse_channel(&req.channel)?,
        store_id: req.store_id.map(StoreId),
        guide_id: req.guide_id.map(StaffId),
        campaign: yutang_core::org::parse_label(
            "campaign",
            req.campaign.as_deref().unwrap_or(""),
            64,
        )?,
        status: OrderStatus::parse("status", req.status.as_deref().unwrap_or("paid"))?,
        lines,
        discount: match &req.discount_fen {
            Some(n) => parse_fen("discount_fen", &n.to_string())?,
            None => Fen(0),
        },
        paid_at: opt_occurred("paid_at", &req.paid_at, now, skew)?,
        member_savings: match &req.member_savings {
            Some(n) => Fen(yutang_core::loyalty::cards::parse_savings(
                "member_savings",
                parse_fen("member_savings", &n.to_string())?.0,
            )?),
            None => Fen(0),
        },
    })
}

/// Record an order. 201 when stored now; 200 with `created: false` when the same order (same
/// external_id, same body) was already stored (the stored order is returned unchanged); the
/// same external_id with another body is 422 `external_id_reused`. Customer aggregates are updated
/// in the same transaction.
#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", security(("bearer" = [])),
    request_body = OrderRequest,
    responses((status = 201, body = RecordedOrder), (status = 200, body = RecordedOrder), (status = 403, body = ErrorBody),
        (status = 422, description = "amount_not_integer, negative_amount, unknown_customer, external_id_reused (same external_id, another body) …", body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(req): ApiJson<OrderRequest>,
) -> WebResult<(StatusCode, Json<RecordedOrder>)> {
    let input = parse_order(&req, s.app.now(), s.app.settings.limits.future_skew_minutes)?;
    let (detail, created) = s.app.orders().record_order(&a, &input).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(RecordedOrder {
            created,
            order: detail.into(),
        }),
    ))
}

/// Orders of customers within your scope, newest first.
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", security(("bearer" = [])),
    params(OrderListParams),
    responses((status = 200, body = OrderPage), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<OrderListParams>,
) -> WebResult<Json<OrderPage>> {
    let q = (|| -> Result<OrderQuery, FieldError> {
        Ok(OrderQuery {
            customer_id: p.customer_id.map(CustomerId),
            status: p
                .status
                .as_deref()
                .map(|s| OrderStatus::parse("status", s))
                .transpose()?,
            store_id: p.store_id.map(StoreId),
            page: Page::parse(p.page, p.page_size)?,
        })
    })()
    .map_err(AppError::from)?;
    let r = s.app.orders().list_orders(&a, &q).await?;
    Ok(Json(OrderPage {
        items: r.items.into_iter().map(OrderOut::from_row).collect(),
        total: r.total,
        page: r.page,
        page_size: r.page_size,
    }))
}

#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = OrderOut), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<OrderOut>> {
    Ok(Json(
        s.app.orders().get_order(&a, OrderId(id)).await?.into(),
    ))
}

/// Mark an order shipped or completed (repeating the current status is a no-op).
#[utoipa::path(post, path = "/api/v1/orders/{id}/status", tag = "orders", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = StatusRequest,
    responses((status = 200, body = OrderOut), (status = 404, body = ErrorBody),
        (status = 409, description = "invalid_transition", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_status(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<StatusRequest>,
) -> WebResult<Json<OrderOut>> {
    let (to, at) = (|| -> Result<_, FieldError> {
        Ok((
            OrderStatus::parse("status", &req.status)?,
            opt_occurred(
                "at",
                &req.at,
                s.app.now(),
                s.app.settings.limits.future_skew_minutes,
            )?,
        ))
    })()
    .map_err(AppError::from)?;
    Ok(Json(
        s.app
            .orders()
            .set_order_status(&a, OrderId(id), to, at)
            .await?
            .into(),
    ))
}

/// Refund part or all of an order. Idempotent by `refund_id`; refunds above the paid amount
/// are refused (`refund_exceeds_paid`).
#[utoipa::path(post, path = "/api/v1/orders/{id}/refunds", tag = "orders", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = RefundRequest,
    responses((status = 200, body = RefundOut), (status = 404, body = ErrorBody),
        (status = 409, description = "refund_id_reused", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn refund(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<RefundRequest>,
) -> WebResult<Json<RefundOut>> {
    let (amount, at) = (|| -> Result<_, FieldError> {
        Ok((
            parse_fen("amount_fen", &req.amount_fen.to_string())?,
            opt_occurred(
                "at",
                &req.at,
                s.app.now(),
                s.app.settings.limits.future_skew_minutes,
            )?,
        ))
    })()
    .map_err(AppError::from)?;
    let (detail, applied) = s
        .app
        .orders()
        .refund_order(&a, OrderId(id), &req.refund_id, amount, at)
        .await?;
    Ok(Json(RefundOut {
        applied,
        order: detail.into(),
    }))
}
