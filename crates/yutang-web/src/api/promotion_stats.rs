//! A campaign's statistics over time (issue #18): `GET /api/v1/promotions/coupons/{id}/stats`,
//! `/api/v1/promotions/flash-sales/{id}/stats`, `/api/v1/promotions/group-buys/{id}/stats`.
//! Readable by whoever may read the campaign lists; archived campaigns answer too.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use yutang_app::promotions::{CampaignKind, CampaignStatsView};
use yutang_core::promotions::stats::Figures;

use crate::auth::{ApiActor, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

/// A day's or the campaign's figures. Counts mean, per kind: `claims` — coupon sets claimed
/// or issued, flash-sale claims, group-buy members joined; `uses` — coupons used, flash-sale
/// units paid, group-buy teams filled; `eligible` (the conversion's denominator) — coupons
/// handed out, flash-sale claims, teams opened; `released` — flash-sale holds released,
/// group-buy members refunded.
#[derive(Debug, Serialize, ToSchema)]
pub struct FiguresOut {
    pub claims: i64,
    pub uses: i64,
    pub eligible: i64,
    pub released: i64,
    /// Coupons: the amounts of the distinct orders a coupon was used on; flash sales: paid
    /// units × price; group-buys: what confirmed members paid.
    pub gmv_fen: i64,
    /// Coupons: the discounts given; flash sales: paid units × (original price − price) when
    /// an original price is set; group-buys: leader discounts + (original price − price) per
    /// confirmed member when set.
    pub cost_fen: i64,
    /// `uses / eligible` in permille (rounded down); on a day, cumulative up to that day.
    pub conversion_permille: i64,
    /// `cost_fen / uses` (rounded down; 0 without uses).
    pub cost_per_use_fen: i64,
}

impl From<&Figures> for FiguresOut {
    fn from(f: &Figures) -> Self {
        Self {
            claims: f.claims,
            uses: f.uses,
            eligible: f.eligible,
            released: f.released,
            gmv_fen: f.gmv_fen,
            cost_fen: f.cost_fen,
            conversion_permille: f.conversion_permille,
            cost_per_use_fen: f.cost_per_use_fen(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DayOut {
    /// The calendar day in Asia/Shanghai, `2026-12-04`.
    pub day: String,
    #[serde(flatten)]
    pub figures: FiguresOut,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignStatsOut {
    /// `coupon`, `flash_sale` or `group_buy`.
    pub kind: String,
    pub id: i64,
    pub name: String,
    /// `active` or `archived`.
    pub status: String,
    pub starts_at: i64,
    pub ends_at: i64,
    /// Over the campaign's whole life.
    pub totals: FiguresOut,
    /// One entry per day (Asia/Shanghai), zero days included, oldest first: from the
    /// campaign's start to `min(now, end)` (later days with activity included, up to today),
    /// at most the last 90 days; empty before the campaign starts.
    pub days: Vec<DayOut>,
}

impl From<CampaignStatsView> for CampaignStatsOut {
    fn from(v: CampaignStatsView) -> Self {
        let kind = match v.kind {
            CampaignKind::Coupon => "coupon",
            CampaignKind::FlashSale => "flash_sale",
            CampaignKind::GroupBuy => "group_buy",
        };
        Self {
            kind: kind.to_owned(),
            id: v.id,
            name: v.name,
            status: v.status,
            starts_at: v.starts_at,
            ends_at: v.ends_at,
            totals: (&v.stats.totals).into(),
            days: v
                .stats
                .days
                .iter()
                .map(|d| DayOut {
                    day: d.day.clone(),
                    figures: (&d.figures).into(),
                })
                .collect(),
        }
    }
}

async fn stats(
    s: AppState,
    a: &yutang_app::Actor,
    kind: CampaignKind,
    id: i64,
) -> WebResult<Json<CampaignStatsOut>> {
    Ok(Json(
        s.app.promotions().campaign_stats(a, kind, id).await?.into(),
    ))
}

/// A coupon template's claims, uses, GMV driven, cost and conversion per day.
#[utoipa::path(get, path = "/api/v1/promotions/coupons/{id}/stats", tag = "promotions",
    security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = CampaignStatsOut), (status = 404, body = ErrorBody)))]
pub async fn coupon_stats(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<CampaignStatsOut>> {
    stats(s, &a, CampaignKind::Coupon, id).await
}

/// A flash sale's claims, paid and released units, GMV, cost and conversion per day.
#[utoipa::path(get, path = "/api/v1/promotions/flash-sales/{id}/stats", tag = "promotions",
    security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = CampaignStatsOut), (status = 404, body = ErrorBody)))]
pub async fn flash_sale_stats(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<CampaignStatsOut>> {
    stats(s, &a, CampaignKind::FlashSale, id).await
}

/// A group-buy's members joined, teams opened and filled, refunds, GMV, cost and conversion
/// per day.
#[utoipa::path(get, path = "/api/v1/promotions/group-buys/{id}/stats", tag = "promotions",
    security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = CampaignStatsOut), (status = 404, body = ErrorBody)))]
pub async fn group_buy_stats(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<CampaignStatsOut>> {
    stats(s, &a, CampaignKind::GroupBuy, id).await
}
