//! Promotions over HTTP.
//!
//! Staff (bearer `ytk_…`/`yts_…`): `/api/v1/coupon-templates`, `/api/v1/coupons/{id}/…`,
//! `/api/v1/flash-sales`, `/api/v1/flash-sale-claims/{id}/paid`, `/api/v1/group-buys`,
//! `/api/v1/customer-tokens`. Public (bearer customer token `yct_…`, what the H5 pages and the
//! brand's mini-program call): `/api/v1/public/…`. Public writes accept an `Idempotency-Key`
//! header: the same key and body replay the first answer, the same key with another body is 422,
//! a concurrent duplicate is 409 and takes effect once.
//! Times are UTC epoch milliseconds; money is integer fen.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yutang_app::customer_tokens::TokenRefusal;
use yutang_app::promotions::{CouponView, FlashSaleView, GroupBuyView, TeamView, TemplateView};
use yutang_core::FieldError;
use yutang_core::ids::CustomerId;
use yutang_core::money::Fen;
use yutang_core::promotions::coupons::TemplateSpec;
use yutang_core::promotions::flash_sales::FlashSaleSpec;
use yutang_core::promotions::group_buys::GroupBuySpec;
use yutang_store::promotions::{Claimed, FlashClaimed, TeamJoined};

use crate::api::idempotency::{self, IdempotencyKey};
use crate::auth::{ApiActor, ApiJson, IdPath, bearer};
use crate::error::{ErrorBody, WebError, WebResult};
use crate::state::AppState;

fn json_value<T: Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// The customer behind a public request, from `Authorization: Bearer yct_…`.
pub struct CustomerAuth(pub CustomerId);

impl FromRequestParts<AppState> for CustomerAuth {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let token = bearer(parts).ok_or_else(|| {
            WebError::new(
                StatusCode::UNAUTHORIZED,
                "customer_token_required",
                "send `Authorization: Bearer yct_…` (a customer token)",
            )
        })?;
        match state.app.customer_from_token(&token).await {
            Ok(c) => Ok(CustomerAuth(c)),
            Err(TokenRefusal::Expired) => Err(WebError::new(
                StatusCode::UNAUTHORIZED,
                "customer_token_expired",
                "the customer token has expired; get a new one",
            )),
            Err(TokenRefusal::BadSignature | TokenRefusal::Malformed) => Err(WebError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_customer_token",
                "the customer token is not valid",
            )),
        }
    }
}

/// 201 for a new write, 200 for a replay.
fn created(replayed: bool) -> StatusCode {
    if replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateOut {
    pub id: i64,
    pub name: String,
    pub status: String,
    pub stock: i64,
    /// Sets claimed or issued (stock taken).
    pub sold: i64,
    pub remaining: i64,
    pub per_customer: i64,
    /// The template as created: steps, validity, claim_window, audience, scope …
    #[schema(value_type = Object)]
    pub spec: serde_json::Value,
    pub claims: i64,
    pub coupons: i64,
    pub used: i64,
    pub expired: i64,
    pub revoked: i64,
    pub discount_fen: i64,
    /// Used coupons per 1000 issued.
    pub conversion_permille: i64,
}

impl From<TemplateView> for TemplateOut {
    fn from(v: TemplateView) -> Self {
        let conversion_permille = v.conversion_permille();
        let s = v
            .stats
            .clone()
            .unwrap_or(yutang_store::promotions::TemplateStats {
                template_id: v.row.id,
                claims: 0,
                coupons: 0,
                used: 0,
                expired: 0,
                revoked: 0,
                discount_fen: 0,
            });
        Self {
            id: v.row.id,
            name: v.row.name,
            status: v.row.status,
            stock: v.row.stock,
            sold: v.row.sold,
            remaining: (v.row.stock - v.row.sold).max(0),
            per_customer: v.row.per_customer,
            spec: json_value(&v.spec),
            claims: s.claims,
            coupons: s.coupons,
            used: s.used,
            expired: s.expired,
            revoked: s.revoked,
            discount_fen: s.discount_fen,
            conversion_permille,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CouponOut {
    pub id: i64,
    pub template_id: i64,
    pub name: String,
    pub customer_id: i64,
    /// Index of the coupon in its stepped set.
    pub step: i64,
    /// claimed, used, expired or revoked.
    pub state: String,
    /// What the coupon gives (`kind`: amount_off, discount, free_shipping, exchange).
    #[schema(value_type = Object)]
    pub benefit: serde_json::Value,
    pub valid_from: i64,
    pub valid_until: i64,
    pub order_id: Option<i64>,
    pub discount_fen: i64,
    pub claimed_at: i64,
}

impl From<CouponView> for CouponOut {
    fn from(v: CouponView) -> Self {
        let benefit = usize::try_from(v.row.step)
            .ok()
            .and_then(|i| v.spec.steps.get(i))
            .map(json_value)
            .unwrap_or(serde_json::Value::Null);
        Self {
            id: v.row.id,
            template_id: v.row.template_id,
            name: v.row.template_name,
            customer_id: v.row.customer_id,
            step: v.row.step,
            state: v.row.state,
            benefit,
            valid_from: v.row.valid_from,
            valid_until: v.row.valid_until,
            order_id: v.row.order_id,
            discount_fen: v.row.discount_fen,
            claimed_at: v.row.claimed_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FlashSaleOut {
    pub id: i64,
    pub name: String,
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
pub struct GroupBuyOut {
    pub id: i64,
    pub name: String,
    pub price_fen: i64,
    pub leader_discount_fen: i64,
    pub team_size: i64,
    pub time_limit_minutes: i64,
    pub stock: i64,
    pub sold: i64,
    pub remaining: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    #[schema(value_type = Object)]
    pub spec: serde_json::Value,
    pub teams_open: i64,
    pub teams_filled: i64,
    pub teams_expired: i64,
}

impl From<GroupBuyView> for GroupBuyOut {
    fn from(v: GroupBuyView) -> Self {
        Self {
            id: v.row.id,
            name: v.row.name,
            price_fen: v.row.price_fen,
            leader_discount_fen: v.row.leader_discount_fen,
            team_size: v.row.team_size,
            time_limit_minutes: v.row.time_limit_minutes,
            stock: v.row.stock,
            sold: v.row.sold,
            remaining: (v.row.stock - v.row.sold).max(0),
            starts_at: v.row.starts_at,
            ends_at: v.row.ends_at,
            spec: json_value(&v.spec),
            teams_open: v.counts.a,
            teams_filled: v.counts.b,
            teams_expired: v.counts.c,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamMemberOut {
    pub customer_id: i64,
    pub inviter_id: Option<i64>,
    pub is_leader: bool,
    pub price_fen: i64,
    /// paid, confirmed or refunded.
    pub state: String,
    pub joined_at: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamOut {
    pub id: i64,
    pub group_buy_id: i64,
    pub group_buy_name: String,
    pub item_name: String,
    pub price_fen: i64,
    pub original_price_fen: i64,
    /// open, filled or expired.
    pub state: String,
    pub size: i64,
    pub members: i64,
    /// "x more needed" (还差 x 人).
    pub missing: i64,
    pub deadline: i64,
    pub remaining_stock: i64,
    pub member_list: Vec<TeamMemberOut>,
}

impl From<TeamView> for TeamOut {
    fn from(v: TeamView) -> Self {
        Self {
            id: v.team.id,
            group_buy_id: v.group_buy.id,
            group_buy_name: v.group_buy.name,
            item_name: v.spec.item_name,
            price_fen: v.spec.price_fen,
            original_price_fen: v.spec.original_price_fen,
            state: v.team.state,
            size: v.team.size,
            members: v.team.members,
            missing: v.missing,
            deadline: v.team.deadline,
            remaining_stock: v.remaining_stock,
            member_list: v
                .members
                .into_iter()
                .map(|m| TeamMemberOut {
                    customer_id: m.customer_id,
                    inviter_id: m.inviter_id,
                    is_leader: m.is_leader,
                    price_fen: m.price_fen,
                    state: m.state,
                    joined_at: m.joined_at,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimedOut {
    pub claim_id: i64,
    pub coupon_ids: Vec<i64>,
}

impl From<Claimed> for ClaimedOut {
    fn from(c: Claimed) -> Self {
        Self {
            claim_id: c.claim_id,
            coupon_ids: c.coupon_ids,
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

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamJoinedOut {
    pub team_id: i64,
    /// open, or filled when this join completed the group.
    pub state: String,
    pub members: i64,
    pub size: i64,
}

impl From<TeamJoined> for TeamJoinedOut {
    fn from(t: TeamJoined) -> Self {
        Self {
            team_id: t.team_id,
            state: t.state,
            members: t.members,
            size: t.size,
        }
    }
}

// --- staff: coupon templates ---

#[utoipa::path(get, path = "/api/v1/coupon-templates", tag = "promotions", security(("bearer" = [])),
    responses((status = 200, body = Vec<TemplateOut>), (status = 403, body = ErrorBody)))]
pub async fn list_templates(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Vec<TemplateOut>>> {
    Ok(Json(
        s.app
            .coupon_templates(&a)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Create a coupon template. Body: `{name, steps: [{kind: amount_off, off_fen, threshold_fen}
/// | {kind: discount, rate_permille, cap_fen, threshold_fen} | {kind: free_shipping,
/// threshold_fen} | {kind: exchange, sku, item_name}], validity: {kind: fixed, starts_at,
/// ends_at} | {kind: days_from_claim, days}, claim_window: {starts_at, ends_at}, stock,
/// per_customer, audience: {kind: everyone | segment (segment_id) | level (level) |
/// group_members}, scope: {channels, store_ids}, return_on_refund, remind_hours_before}`.
#[utoipa::path(post, path = "/api/v1/coupon-templates", tag = "promotions", security(("bearer" = [])),
    request_body = spec_schema::TemplateSpec,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_template(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(spec): ApiJson<TemplateSpec>,
) -> WebResult<(StatusCode, Json<Created>)> {
    let id = s.app.create_coupon_template(&a, spec).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[utoipa::path(get, path = "/api/v1/coupon-templates/{id}", tag = "promotions", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = TemplateOut), (status = 404, body = ErrorBody)))]
pub async fn get_template(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<TemplateOut>> {
    Ok(Json(s.app.coupon_template(&a, id).await?.into()))
}

#[utoipa::path(put, path = "/api/v1/coupon-templates/{id}", tag = "promotions", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = spec_schema::TemplateSpec,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_template(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(spec): ApiJson<TemplateSpec>,
) -> WebResult<StatusCode> {
    s.app.update_coupon_template(&a, id, spec).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete a template: nobody can claim it any more; coupons already claimed stay usable.
#[utoipa::path(delete, path = "/api/v1/coupon-templates/{id}", tag = "promotions", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_template(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<StatusCode> {
    s.app.delete_coupon_template(&a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    /// Issue one set to this customer now …
    #[serde(default)]
    pub customer_id: Option<i64>,
    /// … or to every member of this saved segment, as a job.
    #[serde(default)]
    pub segment_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssueOut {
    /// For a customer: what was issued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claimed: Option<ClaimedOut>,
    /// For a segment: the job (`GET /api/v1/jobs/{id}` shows progress).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/coupon-templates/{id}/issue", tag = "promotions", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = IssueRequest,
    responses((status = 201, body = IssueOut), (status = 202, body = IssueOut), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn issue(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(r): ApiJson<IssueRequest>,
) -> WebResult<(StatusCode, Json<IssueOut>)> {
    match (r.customer_id, r.segment_id) {
        (Some(c), None) => {
            let claimed = s.app.issue_coupon(&a, id, CustomerId(c)).await?;
            Ok((
                StatusCode::CREATED,
                Json(IssueOut {
                    claimed: Some(claimed.into()),
                    job_id: None,
                }),
            ))
        }
        (None, Some(seg)) => {
            let job = s.app.issue_coupon_to_segment(&a, id, seg).await?;
            Ok((
                StatusCode::ACCEPTED,
                Json(IssueOut {
                    claimed: None,
                    job_id: Some(job),
                }),
            ))
        }
        _ => Err(yutang_app::AppError::from(FieldError::new(
            "customer_id",
            "invalid_audience",
            "give exactly one of customer_id or segment_id",
        ))
        .into()),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemRequest {
    /// The order (recorded through `/api/v1/orders`) the coupon is used on.
    pub order_id: i64,
    /// The shipping fee, for free-shipping coupons.
    #[serde(default)]
    pub shipping_fen: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RedeemOut {
    pub coupon_id: i64,
    pub order_id: i64,
    pub discount_fen: i64,
}

/// Use a coupon on a paid order: checks owner, state, validity, scope and threshold. A retry
/// (same coupon, same order) answers the original discount; a fully refunded order is 409
/// `order_refunded`.
#[utoipa::path(post, path = "/api/v1/coupons/{id}/redeem", tag = "promotions", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = RedeemRequest,
    responses((status = 200, body = RedeemOut), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn redeem(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(r): ApiJson<RedeemRequest>,
) -> WebResult<Json<RedeemOut>> {
    let shipping = Fen::parse_non_negative("shipping_fen", r.shipping_fen)
        .map_err(yutang_app::AppError::from)?;
    let d = s.app.redeem_coupon(&a, id, r.order_id, shipping).await?;
    Ok(Json(RedeemOut {
        coupon_id: id,
        order_id: r.order_id,
        discount_fen: d.0,
    }))
}

#[utoipa::path(post, path = "/api/v1/coupons/{id}/revoke", tag = "promotions", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn revoke(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<StatusCode> {
    s.app.revoke_coupon(&a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/coupons", tag = "promotions", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<CouponOut>)))]
pub async fn customer_coupons(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<Vec<CouponOut>>> {
    Ok(Json(
        s.app
            .customer_coupons(&a, CustomerId(id))
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
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
    request_body = spec_schema::FlashSaleSpec,
    responses((status = 201, body = Created), (status = 422, body = ErrorBody)))]
pub async fn create_flash_sale(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(spec): ApiJson<FlashSaleSpec>,
) -> WebResult<(StatusCode, Json<Created>)> {
    let id = s.app.create_flash_sale(&a, spec).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
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
    s.app.update_flash_sale(&a, id, spec).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/flash-sales/{id}", tag = "promotions", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = FlashSaleOut), (status = 404, body = ErrorBody)))]
pub async fn get_flash_sale(
    State(s): State<AppState>,
    ApiActor(_a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<FlashSaleOut>> {
    Ok(Json(s.app.flash_sale(id).await?.into()))
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
    s.app.pay_flash_claim(&a, id, &r.order_ref).await?;
    Ok(StatusCode::NO_CONTENT)
}

// --- staff: group-buys ---

#[utoipa::path(get, path = "/api/v1/group-buys", tag = "promotions", security(("bearer" = [])),
    responses((status = 200, body = Vec<GroupBuyOut>)))]
pub async fn list_group_buys(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Vec<GroupBuyOut>>> {
    Ok(Json(
        s.app
            .group_buys_for_staff(&a)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Create a group-buy: `{name, sku, item_name, price_fen, original_price_fen,
/// leader_discount_fen, team_size, time_limit_minutes, stock, window: {starts_at, ends_at},
/// audience}`.
#[utoipa::path(post, path = "/api/v1/group-buys", tag = "promotions", security(("bearer" = [])),
    request_body = spec_schema::GroupBuySpec,
    responses((status = 201, body = Created), (status = 422, body = ErrorBody)))]
pub async fn create_group_buy(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(spec): ApiJson<GroupBuySpec>,
) -> WebResult<(StatusCode, Json<Created>)> {
    let id = s.app.create_group_buy(&a, spec).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[utoipa::path(put, path = "/api/v1/group-buys/{id}", tag = "promotions", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = spec_schema::GroupBuySpec,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_group_buy(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(spec): ApiJson<GroupBuySpec>,
) -> WebResult<StatusCode> {
    s.app.update_group_buy(&a, id, spec).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/group-buys/{id}", tag = "promotions", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = GroupBuyOut), (status = 404, body = ErrorBody)))]
pub async fn get_group_buy(
    State(s): State<AppState>,
    ApiActor(_a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<GroupBuyOut>> {
    Ok(Json(s.app.group_buy(id).await?.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TeamSummaryOut {
    pub id: i64,
    /// The leader; `null` when the leader is outside the caller's data scope.
    pub leader_id: Option<i64>,
    pub state: String,
    pub members: i64,
    pub size: i64,
    pub deadline: i64,
}

#[utoipa::path(get, path = "/api/v1/group-buys/{id}/teams", tag = "promotions", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<TeamSummaryOut>)))]
pub async fn group_buy_teams(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<Vec<TeamSummaryOut>>> {
    Ok(Json(
        s.app
            .group_buy_teams(&a, id)
            .await?
            .into_iter()
            .map(|v| TeamSummaryOut {
                id: v.team.id,
                leader_id: v.leader_id,
                state: v.team.state,
                members: v.team.members,
                size: v.team.size,
                deadline: v.team.deadline,
            })
            .collect(),
    ))
}

// --- customer tokens ---

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerTokenRequest {
    pub customer_id: i64,
    /// Lifetime in seconds, 60–2592000; default 7200.
    #[serde(default)]
    pub ttl_secs: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerTokenOut {
    /// `yct_…`: send as `Authorization: Bearer` to `/api/v1/public/…`.
    pub token: String,
    pub customer_id: i64,
    pub expires_at: i64,
}

/// Mint a customer token (the brand's mini-program backend calls this after its own login).
#[utoipa::path(post, path = "/api/v1/customer-tokens", tag = "promotions", security(("bearer" = [])),
    request_body = CustomerTokenRequest,
    responses((status = 201, body = CustomerTokenOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn mint_token(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(r): ApiJson<CustomerTokenRequest>,
) -> WebResult<(StatusCode, Json<CustomerTokenOut>)> {
    let t = s
        .app
        .mint_customer_token(&a, CustomerId(r.customer_id), r.ttl_secs)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CustomerTokenOut {
            token: t.token,
            customer_id: t.customer_id,
            expires_at: t.expires_at,
        }),
    ))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DemoLoginRequest {
    #[serde(default)]
    pub customer_id: Option<i64>,
}

/// Demo only (404 unless the server runs the demo): a customer token without a brand backend.
#[utoipa::path(post, path = "/api/v1/public/demo-login", tag = "public",
    request_body = DemoLoginRequest,
    responses((status = 201, body = CustomerTokenOut), (status = 404, body = ErrorBody)))]
pub async fn demo_login(
    State(s): State<AppState>,
    ApiJson(r): ApiJson<DemoLoginRequest>,
) -> WebResult<(StatusCode, Json<CustomerTokenOut>)> {
    let t = s.app.demo_login(r.customer_id.map(CustomerId)).await?;
    Ok((
        StatusCode::CREATED,
        Json(CustomerTokenOut {
            token: t.token,
            customer_id: t.customer_id,
            expires_at: t.expires_at,
        }),
    ))
}

// --- public ---

/// Coupon templates the customer can claim now.
#[utoipa::path(get, path = "/api/v1/public/coupons", tag = "public", security(("customer" = [])),
    responses((status = 200, body = Vec<TemplateOut>), (status = 401, body = ErrorBody)))]
pub async fn public_claimable(
    State(s): State<AppState>,
    CustomerAuth(c): CustomerAuth,
) -> WebResult<Json<Vec<TemplateOut>>> {
    Ok(Json(
        s.app
            .claimable_coupons(c)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/public/coupons/{id}/claim", tag = "public", security(("customer" = [])),
    params(("id" = i64, Path, description = "coupon template id"), IdempotencyKey),
    responses((status = 201, body = ClaimedOut), (status = 200, body = ClaimedOut, description = "replay"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = idempotency::CONFLICT), (status = 422, body = ErrorBody, description = idempotency::INVALID)))]
pub async fn public_claim(
    State(s): State<AppState>,
    CustomerAuth(c): CustomerAuth,
    IdPath(id): IdPath,
    key: IdempotencyKey,
) -> WebResult<(StatusCode, Json<ClaimedOut>)> {
    let (out, replayed) = s.app.claim_coupon(c, id, key.as_deref()).await?;
    Ok((created(replayed), Json(out.into())))
}

#[utoipa::path(get, path = "/api/v1/public/coupons/mine", tag = "public", security(("customer" = [])),
    responses((status = 200, body = Vec<CouponOut>), (status = 401, body = ErrorBody)))]
pub async fn public_mine(
    State(s): State<AppState>,
    CustomerAuth(c): CustomerAuth,
) -> WebResult<Json<Vec<CouponOut>>> {
    Ok(Json(
        s.app
            .my_coupons(c)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// One of my coupons (another customer's coupon is 404).
#[utoipa::path(get, path = "/api/v1/public/coupons/mine/{id}", tag = "public", security(("customer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = CouponOut), (status = 404, body = ErrorBody)))]
pub async fn public_my_coupon(
    State(s): State<AppState>,
    CustomerAuth(c): CustomerAuth,
    IdPath(id): IdPath,
) -> WebResult<Json<CouponOut>> {
    Ok(Json(s.app.my_coupon(c, id).await?.into()))
}

#[utoipa::path(get, path = "/api/v1/public/flash-sales", tag = "public", security(("customer" = [])),
    responses((status = 200, body = Vec<FlashSaleOut>)))]
pub async fn public_flash_sales(
    State(s): State<AppState>,
    CustomerAuth(_c): CustomerAuth,
) -> WebResult<Json<Vec<FlashSaleOut>>> {
    Ok(Json(
        s.app
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
    Ok(Json(s.app.flash_sale(id).await?.into()))
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
    let (out, replayed) = s.app.claim_flash_sale(c, id, key.as_deref()).await?;
    Ok((created(replayed), Json(out.into())))
}

#[utoipa::path(get, path = "/api/v1/public/group-buys/{id}", tag = "public", security(("customer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = GroupBuyOut), (status = 404, body = ErrorBody)))]
pub async fn public_group_buy(
    State(s): State<AppState>,
    CustomerAuth(_c): CustomerAuth,
    IdPath(id): IdPath,
) -> WebResult<Json<GroupBuyOut>> {
    Ok(Json(s.app.group_buy(id).await?.into()))
}

/// Open a team (the caller leads it and pays the leader price).
#[utoipa::path(post, path = "/api/v1/public/group-buys/{id}/open", tag = "public", security(("customer" = [])),
    params(("id" = i64, Path), IdempotencyKey),
    responses((status = 201, body = TeamJoinedOut), (status = 200, body = TeamJoinedOut, description = "replay"),
        (status = 409, body = ErrorBody, description = idempotency::CONFLICT), (status = 422, body = ErrorBody, description = idempotency::INVALID)))]
pub async fn public_open_team(
    State(s): State<AppState>,
    CustomerAuth(c): CustomerAuth,
    IdPath(id): IdPath,
    key: IdempotencyKey,
) -> WebResult<(StatusCode, Json<TeamJoinedOut>)> {
    let (out, replayed) = s.app.open_team(c, id, key.as_deref()).await?;
    Ok((created(replayed), Json(out.into())))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    /// Who shared the link (recorded as the inviter).
    #[serde(default)]
    pub inviter_id: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/public/group-buy-teams/{id}/join", tag = "public", security(("customer" = [])),
    params(("id" = i64, Path), IdempotencyKey), request_body = JoinRequest,
    responses((status = 201, body = TeamJoinedOut), (status = 200, body = TeamJoinedOut, description = "replay"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = idempotency::CONFLICT), (status = 422, body = ErrorBody, description = idempotency::INVALID)))]
pub async fn public_join_team(
    State(s): State<AppState>,
    CustomerAuth(c): CustomerAuth,
    IdPath(id): IdPath,
    key: IdempotencyKey,
    ApiJson(r): ApiJson<JoinRequest>,
) -> WebResult<(StatusCode, Json<TeamJoinedOut>)> {
    let (out, replayed) = s
        .app
        .join_team(c, id, r.inviter_id.map(CustomerId), key.as_deref())
        .await?;
    Ok((created(replayed), Json(out.into())))
}

/// A team's status for its share page: members, "x more needed", deadline, remaining stock.
#[utoipa::path(get, path = "/api/v1/public/group-buy-teams/{id}", tag = "public", security(("customer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = TeamOut), (status = 404, body = ErrorBody)))]
pub async fn public_team(
    State(s): State<AppState>,
    CustomerAuth(_c): CustomerAuth,
    IdPath(id): IdPath,
) -> WebResult<Json<TeamOut>> {
    Ok(Json(s.app.team_status(id).await?.into()))
}

/// Adds the `customer` security scheme (customer tokens, `yct_…`) to the OpenAPI document.
pub struct CustomerTokenScheme;

impl utoipa::Modify for CustomerTokenScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "customer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "Customer token `yct_…` from POST /api/v1/customer-tokens",
                    ))
                    .build(),
            ),
        );
    }
}

/// The promotion specs' wire shapes for the OpenAPI document (the handlers deserialize
/// `yutang_core`'s own types, which are kept free of documentation dependencies; these mirror
/// their serde representation field for field). Times are epoch milliseconds.
#[allow(dead_code)]
pub mod spec_schema {
    use serde::Deserialize;
    use utoipa::ToSchema;

    /// Who may claim or join.
    #[derive(Deserialize, ToSchema)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    pub enum Audience {
        Everyone,
        /// Members of a saved segment.
        Segment {
            segment_id: i64,
        },
        /// Customers of one member level.
        Level {
            level: String,
        },
        /// Customers in one of the brand's WeCom customer groups.
        GroupMembers,
    }

    /// `[starts_at, ends_at)`, epoch milliseconds, within 2000-01-01..2100-01-01.
    #[derive(Deserialize, ToSchema)]
    pub struct Window {
        pub starts_at: i64,
        pub ends_at: i64,
    }

    /// What one coupon gives.
    #[derive(Deserialize, ToSchema)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    pub enum CouponKind {
        /// 满减: `off_fen` off an order of at least `threshold_fen`.
        AmountOff { off_fen: i64, threshold_fen: i64 },
        /// 折扣: pay `rate_permille`/1000, saving at most `cap_fen`.
        Discount {
            rate_permille: i64,
            cap_fen: i64,
            #[serde(default)]
            threshold_fen: i64,
        },
        /// 免运费.
        FreeShipping {
            #[serde(default)]
            threshold_fen: i64,
        },
        /// 兑换券: one item by SKU.
        Exchange { sku: String, item_name: String },
    }

    /// How long a claimed coupon is valid.
    #[derive(Deserialize, ToSchema)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    pub enum Validity {
        Fixed { starts_at: i64, ends_at: i64 },
        DaysFromClaim { days: u32 },
    }

    /// Where a coupon may be used: empty lists mean everywhere.
    #[derive(Default, Deserialize, ToSchema)]
    pub struct Scope {
        #[serde(default)]
        pub channels: Vec<String>,
        #[serde(default)]
        pub store_ids: Vec<i64>,
    }

    /// A coupon template.
    #[derive(Deserialize, ToSchema)]
    pub struct TemplateSpec {
        pub name: String,
        /// One coupon, or a stepped set with strictly rising thresholds.
        pub steps: Vec<CouponKind>,
        pub validity: Validity,
        pub claim_window: Window,
        pub stock: i64,
        pub per_customer: i64,
        pub audience: Audience,
        #[serde(default)]
        pub scope: Scope,
        #[serde(default)]
        pub return_on_refund: bool,
        #[serde(default)]
        pub remind_hours_before: u32,
    }

    /// A flash sale.
    #[derive(Deserialize, ToSchema)]
    pub struct FlashSaleSpec {
        pub name: String,
        pub sku: String,
        pub item_name: String,
        pub price_fen: i64,
        #[serde(default)]
        pub original_price_fen: i64,
        pub stock: i64,
        pub window: Window,
        pub per_customer: i64,
        pub hold_minutes: i64,
        pub audience: Audience,
    }

    /// A group-buy.
    #[derive(Deserialize, ToSchema)]
    pub struct GroupBuySpec {
        pub name: String,
        pub sku: String,
        pub item_name: String,
        pub price_fen: i64,
        #[serde(default)]
        pub original_price_fen: i64,
        #[serde(default)]
        pub leader_discount_fen: i64,
        pub team_size: i64,
        pub time_limit_minutes: i64,
        pub stock: i64,
        pub window: Window,
        pub audience: Audience,
    }
}
