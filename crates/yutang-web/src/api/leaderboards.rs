//! Leaderboards and incentive pools (排行榜与激励池, issue #23 item 6).
//!
//! `GET /api/v1/leaderboards` ranks guides (or stores) of a store, a region or the brand by a
//! metric over a day, week or month; `GET /api/v1/leaderboards/me` is the caller's week.
//! `/api/v1/incentive-pools` creates, edits, deletes, settles and exports (for payroll) the
//! pools; everyone reads the pools that cover them, with the rows they may see. See
//! docs/leaderboards.md.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yutang_app::leaderboards::{
    BoardAsk, BoardRow, BoardView, FiguresView, MyWeek, PayoutView, PeriodView, PoolInput,
    PoolLine, PoolView,
};
use yutang_core::time::Millis;

use crate::api::spreadsheet::{FileFormat, table_download};
use crate::auth::{ApiActor, ApiJson, ApiQuery, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LeaderboardPeriodOut)]
pub struct PeriodOut {
    /// day, week (Monday–Sunday) or month.
    pub span: String,
    /// First day, `YYYY-MM-DD` in Asia/Shanghai.
    pub from: String,
    /// Last day, included.
    pub to: String,
}

impl From<PeriodView> for PeriodOut {
    fn from(p: PeriodView) -> Self {
        Self {
            span: p.span,
            from: p.from,
            to: p.to,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LeaderboardFiguresOut)]
pub struct FiguresOut {
    /// WeCom contacts added in the period.
    pub adds: i64,
    /// Adds minus contacts lost in the period.
    pub net_adds: i64,
    /// Customers who joined the pool through the guide (or store) in the period.
    pub new_customers: i64,
    /// Of those, the ones who paid a first order before the period's end.
    pub first_orders: i64,
    /// first_orders per 10,000 new customers; null without new customers.
    pub first_order_rate_bp: Option<i64>,
    /// Paid minus refunded amount of the attributed orders, fen.
    pub gmv_fen: i64,
    /// Guide tasks marked done.
    pub tasks_done: i64,
    /// Service ratings received.
    pub ratings: i64,
    /// Their average in hundredths of a star; null without ratings.
    pub rating_avg_centi: Option<i64>,
}

impl From<FiguresView> for FiguresOut {
    fn from(f: FiguresView) -> Self {
        Self {
            adds: f.adds,
            net_adds: f.net_adds,
            new_customers: f.new_customers,
            first_orders: f.first_orders,
            first_order_rate_bp: f.first_order_rate_bp,
            gmv_fen: f.gmv_fen,
            tasks_done: f.tasks_done,
            ratings: f.ratings,
            rating_avg_centi: f.rating_avg_centi,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LeaderboardRowOut {
    /// Competition rank (1, 1, 3); null when there is no value to rank by.
    pub rank: Option<i64>,
    /// The guide's staff id, or the store's id.
    pub id: i64,
    pub name: String,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    /// The ranked metric's value (basis points for first_order_rate, hundredths of a star for
    /// rating, fen for gmv).
    pub value: Option<i64>,
    pub figures: FiguresOut,
}

impl From<BoardRow> for LeaderboardRowOut {
    fn from(r: BoardRow) -> Self {
        Self {
            rank: r.rank,
            id: r.id,
            name: r.name,
            store_id: r.store_id,
            store_name: r.store_name,
            value: r.value,
            figures: r.figures.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LeaderboardOut {
    /// guides or stores.
    pub subject: String,
    /// store, region or brand.
    pub level: String,
    pub store_id: Option<i64>,
    pub region_id: Option<i64>,
    pub metric: String,
    pub period: PeriodOut,
    pub rows: Vec<LeaderboardRowOut>,
    /// The caller's own row, when they are a guide on the board.
    pub me: Option<LeaderboardRowOut>,
}

impl From<BoardView> for LeaderboardOut {
    fn from(b: BoardView) -> Self {
        Self {
            subject: b.subject.as_str().to_owned(),
            level: b.level.as_str().to_owned(),
            store_id: b.store_id,
            region_id: b.region_id,
            metric: b.metric.as_str().to_owned(),
            period: b.period.into(),
            rows: b.rows.into_iter().map(Into::into).collect(),
            me: b.me.map(Into::into),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LeaderboardParams {
    /// `guides` (default) or `stores` (stores rank within a region or the brand).
    pub subject: Option<String>,
    /// `store`, `region` or `brand`; default the caller's store for store staff, else the
    /// brand. Store staff may read their own store's, their own region's and the brand's.
    pub level: Option<String>,
    pub store_id: Option<i64>,
    pub region_id: Option<i64>,
    /// `adds` (default), `net_adds`, `first_order_rate`, `first_orders`, `gmv`, `tasks_done`
    /// or `rating`.
    pub metric: Option<String>,
    /// `day`, `week` (default) or `month`.
    pub period: Option<String>,
    /// A day of the period, `YYYY-MM-DD` (default today in Asia/Shanghai).
    pub date: Option<String>,
}

/// A leaderboard.
#[utoipa::path(get, path = "/api/v1/leaderboards", tag = "leaderboards", security(("bearer" = [])),
    params(LeaderboardParams),
    responses((status = 200, body = LeaderboardOut), (status = 403, body = ErrorBody),
        (status = 422, description = "invalid_period, invalid_date, invalid_level, invalid_metric, invalid_kind, required, unknown_store, unknown_region", body = ErrorBody)))]
pub async fn board(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<LeaderboardParams>,
) -> WebResult<Json<LeaderboardOut>> {
    let ask = BoardAsk {
        subject: p.subject,
        level: p.level,
        store_id: p.store_id,
        region_id: p.region_id,
        metric: p.metric,
        period: p.period,
        date: p.date,
    };
    Ok(Json(s.app.leaderboards().board(&a, &ask).await?.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyWeekOut {
    pub period: PeriodOut,
    pub figures: FiguresOut,
    /// Rank among the store's guides by adds; null without a store.
    pub rank_in_store: Option<i64>,
    pub guides_in_store: i64,
    pub store_id: Option<i64>,
}

impl From<MyWeek> for MyWeekOut {
    fn from(w: MyWeek) -> Self {
        Self {
            period: w.period.into(),
            figures: w.figures.into(),
            rank_in_store: w.rank_in_store,
            guides_in_store: w.guides_in_store,
            store_id: w.store_id,
        }
    }
}

/// The caller's figures this week (Monday–Sunday, Asia/Shanghai) and their rank in their
/// store (staff sessions only).
#[utoipa::path(get, path = "/api/v1/leaderboards/me", tag = "leaderboards", security(("bearer" = [])),
    responses((status = 200, body = MyWeekOut), (status = 403, body = ErrorBody)))]
pub async fn me(State(s): State<AppState>, ApiActor(a): ApiActor) -> WebResult<Json<MyWeekOut>> {
    Ok(Json(s.app.leaderboards().my_week(&a).await?.into()))
}

/// An incentive pool to create or edit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncentivePoolIn {
    /// 1–40 characters.
    pub name: String,
    /// `day`, `week` or `month`.
    pub period: String,
    /// A day of the period, `YYYY-MM-DD`.
    pub date: String,
    /// `store`, `region` or `brand`.
    pub level: String,
    /// The store of a store pool.
    pub store_id: Option<i64>,
    /// The region of a region pool.
    pub region_id: Option<i64>,
    /// What a guide contributes: `adds`, `net_adds`, `first_orders`, `gmv` or `tasks_done`.
    pub metric: String,
    /// The pool, fen (0 to 10,000,000,000).
    pub amount_fen: i64,
    /// The share split by contribution, percent (孩子王: 80).
    pub individual_pct: i64,
    /// The share split per store team, percent (孩子王: 20); the two sum to 100.
    pub team_pct: i64,
}

impl From<IncentivePoolIn> for PoolInput {
    fn from(p: IncentivePoolIn) -> Self {
        Self {
            name: p.name,
            period: p.period,
            date: p.date,
            level: p.level,
            store_id: p.store_id,
            region_id: p.region_id,
            metric: p.metric,
            amount_fen: p.amount_fen,
            individual_pct: p.individual_pct,
            team_pct: p.team_pct,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IncentivePayoutOut {
    pub staff_id: i64,
    pub username: String,
    pub name: String,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    pub contribution: i64,
    /// Their share of all contributions, basis points.
    pub contribution_bp: i64,
    pub individual_fen: i64,
    pub team_fen: i64,
    pub total_fen: i64,
}

impl From<PayoutView> for IncentivePayoutOut {
    fn from(p: PayoutView) -> Self {
        Self {
            staff_id: p.staff_id,
            username: p.username,
            name: p.name,
            store_id: p.store_id,
            store_name: p.store_name,
            contribution: p.contribution,
            contribution_bp: p.contribution_bp,
            individual_fen: p.individual_fen,
            team_fen: p.team_fen,
            total_fen: p.total_fen,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IncentivePoolOut {
    pub id: i64,
    pub name: String,
    pub period: PeriodOut,
    pub level: String,
    pub store_id: Option<i64>,
    pub region_id: Option<i64>,
    pub metric: String,
    pub amount_fen: i64,
    pub individual_pct: i64,
    pub team_pct: i64,
    /// `draft` (the split is computed at each read) or `settled` (as written when settled).
    pub state: String,
    pub individual_fen: i64,
    pub team_fen: i64,
    /// What nobody earned (no contributions to a share).
    pub unallocated_fen: i64,
    pub contributions: i64,
    pub settled_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// The rows the caller may see: every guide for headquarters, the store's for a store
    /// manager, their own for a guide.
    pub payouts: Vec<IncentivePayoutOut>,
    /// Guides in the pool in all.
    pub guides: i64,
}

fn ts(ms: i64) -> String {
    Millis(ms).to_rfc3339()
}

impl From<PoolView> for IncentivePoolOut {
    fn from(p: PoolView) -> Self {
        Self {
            id: p.id,
            name: p.name,
            period: p.period.into(),
            level: p.level.as_str().to_owned(),
            store_id: p.store_id,
            region_id: p.region_id,
            metric: p.metric.as_str().to_owned(),
            amount_fen: p.amount_fen,
            individual_pct: p.individual_pct,
            team_pct: p.team_pct,
            state: p.state,
            individual_fen: p.individual_fen,
            team_fen: p.team_fen,
            unallocated_fen: p.unallocated_fen,
            contributions: p.contributions,
            settled_at: p.settled_at.map(ts),
            created_at: ts(p.created_at),
            updated_at: ts(p.updated_at),
            payouts: p.payouts.into_iter().map(Into::into).collect(),
            guides: p.guides,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IncentivePoolLineOut {
    pub id: i64,
    pub name: String,
    pub period: PeriodOut,
    pub level: String,
    pub store_id: Option<i64>,
    pub region_id: Option<i64>,
    pub metric: String,
    pub amount_fen: i64,
    pub individual_pct: i64,
    pub team_pct: i64,
    pub state: String,
}

impl From<PoolLine> for IncentivePoolLineOut {
    fn from(p: PoolLine) -> Self {
        Self {
            id: p.id,
            name: p.name,
            period: p.period.into(),
            level: p.level.as_str().to_owned(),
            store_id: p.store_id,
            region_id: p.region_id,
            metric: p.metric.as_str().to_owned(),
            amount_fen: p.amount_fen,
            individual_pct: p.individual_pct,
            team_pct: p.team_pct,
            state: p.state,
        }
    }
}

/// The pools that cover the caller (headquarters: every pool), newest period first.
#[utoipa::path(get, path = "/api/v1/incentive-pools", tag = "leaderboards", security(("bearer" = [])),
    responses((status = 200, body = Vec<IncentivePoolLineOut>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Vec<IncentivePoolLineOut>>> {
    let lines = s.app.leaderboards().list(&a).await?;
    Ok(Json(lines.into_iter().map(Into::into).collect()))
}

/// Create a draft pool (admin and operator).
#[utoipa::path(post, path = "/api/v1/incentive-pools", tag = "leaderboards", security(("bearer" = [])),
    request_body = IncentivePoolIn,
    responses((status = 201, body = IncentivePoolOut), (status = 403, body = ErrorBody),
        (status = 422, description = "invalid_name, invalid_period, invalid_date, invalid_level, invalid_metric, invalid_amount, invalid_shares, required, unknown_store, unknown_region", body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(body): ApiJson<IncentivePoolIn>,
) -> WebResult<(StatusCode, Json<IncentivePoolOut>)> {
    let v = s.app.leaderboards().create(&a, &body.into()).await?;
    Ok((StatusCode::CREATED, Json(v.into())))
}

/// A pool with its split (live for a draft, as settled otherwise) and the rows the caller may
/// see.
#[utoipa::path(get, path = "/api/v1/incentive-pools/{id}", tag = "leaderboards", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = IncentivePoolOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<IncentivePoolOut>> {
    Ok(Json(s.app.leaderboards().get(&a, id).await?.into()))
}

/// Edit a draft pool.
#[utoipa::path(put, path = "/api/v1/incentive-pools/{id}", tag = "leaderboards", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = IncentivePoolIn,
    responses((status = 200, body = IncentivePoolOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "pool_settled", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<IncentivePoolIn>,
) -> WebResult<Json<IncentivePoolOut>> {
    Ok(Json(
        s.app
            .leaderboards()
            .update(&a, id, &body.into())
            .await?
            .into(),
    ))
}

/// Delete a draft pool.
#[utoipa::path(delete, path = "/api/v1/incentive-pools/{id}", tag = "leaderboards", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "pool_settled", body = ErrorBody)))]
pub async fn delete(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<StatusCode> {
    s.app.leaderboards().delete(&a, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Settle a pool whose period is over: each guide's payout is written once and the pool
/// changes no more; settling a settled pool answers it unchanged.
#[utoipa::path(post, path = "/api/v1/incentive-pools/{id}/settle", tag = "leaderboards", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = IncentivePoolOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "period_not_over, conflicting_change", body = ErrorBody)))]
pub async fn settle(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<IncentivePoolOut>> {
    Ok(Json(s.app.leaderboards().settle(&a, id).await?.into()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PoolExportParams {
    /// `csv` (default, UTF-8 with a BOM) or `xlsx`.
    pub format: Option<String>,
}

/// A settled pool's payouts for payroll: one row per guide with the individual, team and
/// total amounts in yuan.
#[utoipa::path(get, path = "/api/v1/incentive-pools/{id}/export", tag = "leaderboards", security(("bearer" = [])),
    params(("id" = i64, Path), PoolExportParams),
    responses((status = 200, description = "The payouts as CSV (`format=csv`, the default) or an Excel workbook (`format=xlsx`).", content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "pool_not_settled", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn export(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiQuery(p): ApiQuery<PoolExportParams>,
) -> WebResult<Response> {
    let format = FileFormat::parse(p.format.as_deref()).map_err(yutang_app::AppError::from)?;
    let csv = s.app.leaderboards().export(&a, id).await?;
    Ok(table_download("incentive-pool.csv", format, csv))
}
