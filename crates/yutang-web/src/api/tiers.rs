//! Membership tiers (issue #22 item 1): the tier program (`/api/v1/loyalty/tiers`, replaced
//! whole), each tier's members, and a customer's tier card (`/api/v1/customers/{id}/tier`,
//! and `/api/v1/public/me/tier` for the member centre).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use yutang_app::audit::{Page, Paged};
use yutang_app::loyalty::tiers::{CustomerTierView, MemberRow, ProgramView};
use yutang_core::ids::CustomerId;
use yutang_core::loyalty::tiers::TierProgram;

use crate::api::promotions::CustomerAuth;
use crate::auth::{ApiActor, ApiJson, ApiQuery, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

/// A page of members.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MemberParams {
    pub page: Option<i64>,
    /// 1–200, default 50.
    pub page_size: Option<i64>,
}

/// The documented shapes (the handlers use the domain types).
pub mod schema {
    use serde::Serialize;
    use utoipa::ToSchema;

    /// One tier and its benefits.
    #[derive(Serialize, ToSchema)]
    pub struct TierIn {
        /// Stable identifier: 1–32 lowercase letters, digits or `_` (the `tier` segment
        /// attribute). Tiers are matched by key when the program is replaced.
        pub key: String,
        /// 1–40 characters.
        pub name: String,
        /// 1–100, unique; higher is better.
        pub rank: i64,
        /// The least metric value (fen, points or orders) that earns the tier: 0 for the
        /// lowest rank, strictly higher for each higher rank.
        pub threshold: i64,
        /// Member price, percent off (0–50, default 0).
        pub discount_percent: Option<i64>,
        /// Points multiplier in thousandths (1–20000, default 1000 = ×1).
        pub points_multiplier: Option<i64>,
        /// Coupon templates issued once per Shanghai month to each member (at most 10).
        pub monthly_coupon_template_ids: Option<Vec<i64>>,
        /// A coupon template given once a year in the member's birthday month.
        pub birthday_coupon_template_id: Option<i64>,
        /// Orders from this amount ship free.
        pub free_shipping_threshold_fen: Option<i64>,
    }

    /// The whole program. `tiers` empty: no program.
    #[derive(Serialize, ToSchema)]
    pub struct ProgramIn {
        /// spend_12m (default: paid minus refunded, fen), points_12m (earned minus reversed)
        /// or orders_12m, all over the last 365 days.
        pub metric: Option<String>,
        /// A tier is held this many months after it is reached or re-qualified (1–36,
        /// default 12).
        pub period_months: Option<i64>,
        /// Days after the period during which a member can re-qualify before a review moves
        /// them down (0–365, default 30).
        pub grace_days: Option<i64>,
        pub tiers: Vec<TierIn>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct TierOut {
        pub id: i64,
        pub key: String,
        pub name: String,
        pub rank: i64,
        pub threshold: i64,
        pub discount_percent: i64,
        pub points_multiplier: i64,
        pub monthly_coupon_template_ids: Vec<i64>,
        pub birthday_coupon_template_id: Option<i64>,
        pub free_shipping_threshold_fen: Option<i64>,
        /// Members in the caller's data scope.
        pub members: i64,
    }

    #[derive(Serialize, ToSchema)]
    #[schema(as = TierProgramOut)]
    pub struct ProgramOut {
        pub metric: String,
        pub period_months: i64,
        pub grace_days: i64,
        /// By rank, lowest first.
        pub tiers: Vec<TierOut>,
        pub updated_at: Option<i64>,
        pub updated_by: String,
    }

    #[derive(Serialize, ToSchema)]
    #[schema(as = TierMemberOut)]
    pub struct MemberOut {
        pub customer_id: i64,
        pub name: String,
        pub tier_since: i64,
        pub held_until: i64,
    }

    #[derive(Serialize, ToSchema)]
    #[schema(as = TierMemberPage)]
    pub struct MemberPage {
        pub items: Vec<MemberOut>,
        pub total: i64,
        pub page: i64,
        pub page_size: i64,
    }

    #[derive(Serialize, ToSchema)]
    pub struct NextTierOut {
        pub id: i64,
        pub key: String,
        pub name: String,
        pub threshold: i64,
        pub remaining: i64,
        /// 0–100.
        pub percent: i64,
    }

    /// One change: direction upgrade or downgrade; source `order:{id}` or `review`.
    #[derive(Serialize, ToSchema)]
    pub struct HistoryOut {
        pub id: i64,
        pub from_tier_id: Option<i64>,
        pub from_name: Option<String>,
        pub to_tier_id: i64,
        pub to_name: String,
        pub direction: String,
        pub metric: String,
        pub metric_value: i64,
        pub source: String,
        pub created_at: i64,
    }

    #[derive(Serialize, ToSchema)]
    pub struct CustomerTierOut {
        pub customer_id: i64,
        /// None: not in the program yet (no order).
        pub tier: Option<TierOut>,
        pub tier_since: Option<i64>,
        pub held_until: Option<i64>,
        /// held_until plus the grace: the earliest a review moves the tier down.
        pub review_at: Option<i64>,
        pub metric: String,
        pub metric_value: i64,
        pub next: Option<NextTierOut>,
        pub history: Vec<HistoryOut>,
    }
}

/// The tier program with each tier's members in the caller's data scope (everyone who sees
/// customers).
#[utoipa::path(get, path = "/api/v1/loyalty/tiers", tag = "loyalty", security(("bearer" = [])),
    responses((status = 200, body = schema::ProgramOut), (status = 403, body = ErrorBody)))]
pub async fn get_program(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<ProgramView>> {
    Ok(Json(s.app.tiers().program(&a).await?))
}

/// Replace the whole program (operators and admins; audited). Overlapping thresholds, a
/// duplicate key, name or rank, a multiplier of 0…: 422 naming the field, nothing written.
/// Removing a tier that still has members: 409 `tier_has_members`.
#[utoipa::path(put, path = "/api/v1/loyalty/tiers", tag = "loyalty", security(("bearer" = [])),
    request_body = schema::ProgramIn,
    responses((status = 200, body = schema::ProgramOut), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_program(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(p): ApiJson<TierProgram>,
) -> WebResult<Json<ProgramView>> {
    Ok(Json(s.app.tiers().save_program(&a, p).await?))
}

/// A tier's members in the caller's data scope (a guide: the customers they follow), newest
/// in the tier first.
#[utoipa::path(get, path = "/api/v1/loyalty/tiers/{id}/members", tag = "loyalty",
    security(("bearer" = [])), params(("id" = i64, Path), MemberParams),
    responses((status = 200, body = schema::MemberPage), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn members(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiQuery(p): ApiQuery<MemberParams>,
) -> WebResult<Json<Paged<MemberRow>>> {
    let page = Page::parse(p.page, p.page_size).map_err(yutang_app::AppError::from)?;
    Ok(Json(s.app.tiers().members(&a, id, page).await?))
}

/// A customer's tier: the tier and its benefits, since when and until when it is held, the
/// metric, the progress to the next tier and the history.
#[utoipa::path(get, path = "/api/v1/customers/{id}/tier", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = schema::CustomerTierOut), (status = 404, body = ErrorBody)))]
pub async fn customer_tier(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<CustomerTierView>> {
    Ok(Json(s.app.tiers().customer_tier(&a, CustomerId(id)).await?))
}

/// The signed-in customer's tier card (member centre): the same view as staff see.
#[utoipa::path(get, path = "/api/v1/public/me/tier", tag = "public", security(("customer" = [])),
    responses((status = 200, body = schema::CustomerTierOut), (status = 401, body = ErrorBody)))]
pub async fn public_tier(
    State(s): State<AppState>,
    CustomerAuth(c): CustomerAuth,
) -> WebResult<Json<CustomerTierView>> {
    Ok(Json(s.app.tiers().tier_of(c).await?))
}
