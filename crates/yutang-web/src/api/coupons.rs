//! Coupon templates and coupons over HTTP: staff `/api/v1/coupon-templates`,
//! `/api/v1/coupons/{id}/…`, `/api/v1/customers/{id}/coupons`; public `/api/v1/public/coupons…`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yutang_app::promotions::Claimed;
use yutang_app::promotions::coupons::{CouponView, TemplateView};
use yutang_core::FieldError;
use yutang_core::ids::CustomerId;
use yutang_core::money::Fen;
use yutang_core::promotions::coupons::TemplateSpec;

use super::promotions::{
    CreateParams, Created, CustomerAuth, Published, Removed, created, json_value, spec_schema,
};
use crate::api::idempotency::{self, IdempotencyKey};
use crate::auth::{ApiActor, ApiJson, ApiQuery, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

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
            .unwrap_or(yutang_app::promotions::TemplateStats {
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

// --- staff: coupon templates ---

#[utoipa::path(get, path = "/api/v1/coupon-templates", tag = "promotions", security(("bearer" = [])),
    responses((status = 200, body = Vec<TemplateOut>), (status = 403, body = ErrorBody)))]
pub async fn list_templates(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Vec<TemplateOut>>> {
    Ok(Json(
        s.app
            .coupons()
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
    params(CreateParams),
    request_body = spec_schema::TemplateSpec,
    responses((status = 201, body = Created), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_template(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<CreateParams>,
    ApiJson(spec): ApiJson<TemplateSpec>,
) -> WebResult<(StatusCode, Json<Created>)> {
    let id = s
        .app
        .coupons()
        .create_coupon_template_as(&a, spec, p.publish())
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Publish a draft coupon template: it opens to customers from its window on. Publishing it again
/// answers `already_published`; an archived one is refused (`promotion_inactive`).
#[utoipa::path(post, path = "/api/v1/coupon-templates/{id}/publish", tag = "promotions", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Published), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn publish_template(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<Published>> {
    let p = s.app.coupons().publish_coupon_template(&a, id).await?;
    Ok(Json(Published::new(id, p)))
}

#[utoipa::path(get, path = "/api/v1/coupon-templates/{id}", tag = "promotions", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = TemplateOut), (status = 404, body = ErrorBody)))]
pub async fn get_template(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<TemplateOut>> {
    Ok(Json(s.app.coupons().coupon_template(&a, id).await?.into()))
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
    s.app.coupons().update_coupon_template(&a, id, spec).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a template. With claims or coupons it is archived: its coupons stay usable, its
/// statistics stay, it is listed with `status: "archived"` and nobody can claim it. Without
/// any it is deleted. The answer says which.
#[utoipa::path(delete, path = "/api/v1/coupon-templates/{id}", tag = "promotions", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Removed), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_template(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<Removed>> {
    let r = s.app.coupons().delete_coupon_template(&a, id).await?;
    Ok(Json(Removed::new(id, r)))
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
            let claimed = s.app.coupons().issue_coupon(&a, id, CustomerId(c)).await?;
            Ok((
                StatusCode::CREATED,
                Json(IssueOut {
                    claimed: Some(claimed.into()),
                    job_id: None,
                }),
            ))
        }
        (None, Some(seg)) => {
            let job = s.app.coupons().issue_coupon_to_segment(&a, id, seg).await?;
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
    let d = s
        .app
        .coupons()
        .redeem_coupon(&a, id, r.order_id, shipping)
        .await?;
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
    s.app.coupons().revoke_coupon(&a, id).await?;
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
            .coupons()
            .customer_coupons(&a, CustomerId(id))
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}
// --- public: coupons ---

/// Coupon templates the customer can claim now.
#[utoipa::path(get, path = "/api/v1/public/coupons", tag = "public", security(("customer" = [])),
    responses((status = 200, body = Vec<TemplateOut>), (status = 401, body = ErrorBody)))]
pub async fn public_claimable(
    State(s): State<AppState>,
    CustomerAuth(c): CustomerAuth,
) -> WebResult<Json<Vec<TemplateOut>>> {
    Ok(Json(
        s.app
            .coupons()
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
    let (out, replayed) = s.app.coupons().claim_coupon(c, id, key.as_deref()).await?;
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
            .coupons()
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
    Ok(Json(s.app.coupons().my_coupon(c, id).await?.into()))
}
