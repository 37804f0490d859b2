//! The points ledger (积分, issue #22): the brand's settings, a customer's account and ledger,
//! manual adjustments, earnings reported by integrations, redemptions at checkout (POS with an
//! API token, the mini-program with a customer token) and their cancellation, the liability
//! report and the expiry run.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use yutang_app::loyalty::points::{
    AccountView, EarnItem, EarnOutcome, EarnSource, EntriesPage, EntryRow, Liability, RedeemInput,
    RedemptionRow,
};
use yutang_core::FieldError;
use yutang_core::ids::CustomerId;
use yutang_core::loyalty::points::{Expiry, Points, PointsSettings};

use crate::api::idempotency::{self, IdempotencyKey};
use crate::api::promotions::CustomerAuth;
use crate::api::tags::JobOut;
use crate::auth::{ApiActor, ApiJson, ApiQuery, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

/// The brand's points rules, replaced whole.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsIn {
    /// Points per 1 CNY paid, before tier and card multipliers (0–1000; 0: orders earn
    /// nothing).
    pub earn_points_per_yuan: i64,
    /// Points that make 1 CNY at checkout (1–100,000; 100 = 100 points per CNY).
    pub redeem_points_per_yuan: i64,
    /// When a lot expires: `{"rule": "end_of_next_year"}` (Dec 31 of the following year,
    /// Asia/Shanghai), `{"rule": "days", "days": 1–3650}` or `{"rule": "never"}`.
    #[schema(value_type = Object)]
    pub expiry: Expiry,
    /// The most of an order points may pay, 1–100 percent.
    pub max_redeem_percent: i64,
}

/// Page of a ledger: `before` an entry id (exclusive), `limit` 1–200 (default 50).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EntriesParams {
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

/// A manual grant or deduction.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentIn {
    /// grant or deduct.
    pub kind: AdjustKind,
    /// A whole number of points, at least 1.
    pub points: i64,
    /// Why (1–200 characters): shown in the ledger and the audit log.
    pub reason: String,
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdjustKind {
    Grant,
    Deduct,
}

/// Points an integration reports for something other than an order.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EarningIn {
    /// A whole number of points, at least 1.
    pub points: i64,
    /// checkin, task, referral or campaign.
    #[schema(value_type = String)]
    pub source_type: EarnSource,
    /// The source's id in the reporting system (1–64 visible characters): one earning per
    /// `(source_type, source_id)`; a repeat answers the first.
    pub source_id: String,
    /// Shown in the ledger (≤ 200 characters).
    #[serde(default)]
    pub reason: String,
}

/// One earning of a batch.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchEarningIn {
    pub customer_id: i64,
    /// A whole number of points, at least 1.
    pub points: i64,
    /// checkin, task, referral or campaign.
    #[schema(value_type = String)]
    pub source_type: EarnSource,
    /// 1–64 visible characters: one earning per `(source_type, source_id)`.
    pub source_id: String,
    #[serde(default)]
    pub reason: String,
}

/// Up to 1,000 earnings posted in one transaction.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchIn {
    pub earnings: Vec<BatchEarningIn>,
}

/// A redemption at checkout.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedemptionIn {
    /// A whole number of points worth whole fen at the brand's rate.
    pub points: i64,
    /// The brand's order or ticket reference (≤ 64 visible characters).
    #[serde(default)]
    pub order_ref: String,
    /// The order's amount (fen): checked against the brand's `max_redeem_percent`.
    pub order_amount_fen: Option<i64>,
}

impl RedemptionIn {
    fn parse(self) -> Result<RedeemInput, FieldError> {
        Ok(RedeemInput {
            points: Points::parse("points", self.points)?,
            order_ref: self.order_ref,
            order_amount_fen: self.order_amount_fen,
        })
    }
}

/// The documented shapes (the handlers use the domain types).
pub mod schema {
    use serde::Serialize;
    use utoipa::ToSchema;

    #[derive(Serialize, ToSchema)]
    pub struct Settings {
        pub earn_points_per_yuan: i64,
        pub redeem_points_per_yuan: i64,
        /// `{"rule": "end_of_next_year" | "days" | "never", "days"?: n}`.
        #[schema(value_type = Object)]
        pub expiry: serde_json::Value,
        pub max_redeem_percent: i64,
    }

    #[derive(Serialize, ToSchema)]
    pub struct ExpiringLot {
        /// When these points expire (epoch ms); null: never.
        pub expires_at: Option<i64>,
        pub points: i64,
    }

    #[derive(Serialize, ToSchema)]
    pub struct Account {
        pub customer_id: i64,
        pub balance: i64,
        /// What the balance is worth at checkout now (fen).
        pub value_fen: i64,
        pub earned: i64,
        pub redeemed: i64,
        pub expired: i64,
        pub reversed: i64,
        /// Points a refund could not take back (already spent); the next earnings pay them.
        pub owed: i64,
        pub expiring_30d: i64,
        pub expiring: Vec<ExpiringLot>,
    }

    /// One ledger entry: `amount` moves from `debit` to `credit` (accounts customer, issued,
    /// redeemed, expired, transfer); `balance_after` is the customer's running balance.
    #[derive(Serialize, ToSchema)]
    pub struct Entry {
        pub id: i64,
        pub entry_key: String,
        pub customer_id: i64,
        /// earn, grant, reverse, settle, deduct, redeem, cancel, expire, transfer_out,
        /// transfer_in.
        pub kind: String,
        pub debit: String,
        pub credit: String,
        pub amount: i64,
        pub balance_after: i64,
        /// order, grant, redemption, expiry, merge, checkin, task, referral, campaign.
        pub source_type: String,
        pub source_id: String,
        pub reason: String,
        pub actor: String,
        pub created_at: i64,
    }

    #[derive(Serialize, ToSchema)]
    pub struct EntriesPage {
        pub items: Vec<Entry>,
        /// Pass as `before` for the next page; null on the last.
        pub next_before: Option<i64>,
    }

    /// A redemption; status applied or cancelled.
    #[derive(Serialize, ToSchema)]
    pub struct Redemption {
        pub id: i64,
        pub customer_id: i64,
        pub points: i64,
        pub value_fen: i64,
        pub order_ref: String,
        pub status: String,
        pub entry_id: i64,
        pub cancel_entry_id: Option<i64>,
        pub created_by: String,
        pub created_at: i64,
        pub cancelled_at: Option<i64>,
    }

    /// One item's outcome: status created or duplicate (with `entry_id`), or rejected (with
    /// `code`, `field`, `message`).
    #[derive(Serialize, ToSchema)]
    pub struct BatchItemOut {
        pub status: String,
        pub entry_id: Option<i64>,
        pub code: Option<String>,
        pub field: Option<String>,
        pub message: Option<String>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct BatchOut {
        /// One per earning, in order.
        pub results: Vec<BatchItemOut>,
        pub created: usize,
        pub duplicates: usize,
        pub rejected: usize,
    }

    #[derive(Serialize, ToSchema)]
    pub struct AccountBalance {
        pub account: String,
        pub balance: i64,
    }

    #[derive(Serialize, ToSchema)]
    pub struct MonthPoints {
        /// `YYYY-MM` (Asia/Shanghai) or `never`.
        pub month: String,
        pub points: i64,
    }

    #[derive(Serialize, ToSchema)]
    pub struct Liability {
        pub outstanding: i64,
        pub outstanding_value_fen: i64,
        pub customers_with_points: i64,
        pub owed: i64,
        pub entries: i64,
        pub accounts: Vec<AccountBalance>,
        /// Every account sums to zero and the stored balances match the ledger.
        pub balanced: bool,
        pub by_expiry_month: Vec<MonthPoints>,
    }
}

fn status(created: bool) -> StatusCode {
    if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

#[utoipa::path(get, path = "/api/v1/points/settings", tag = "loyalty", security(("bearer" = [])),
    responses((status = 200, body = schema::Settings), (status = 403, body = ErrorBody)))]
pub async fn get_settings(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<PointsSettings>> {
    Ok(Json(s.app.points().settings(&a).await?))
}

/// Replace the points rules (admin, operator; audited). Lots already earned keep their expiry.
#[utoipa::path(put, path = "/api/v1/points/settings", tag = "loyalty", security(("bearer" = [])),
    request_body = SettingsIn,
    responses((status = 200, body = schema::Settings), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn put_settings(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(b): ApiJson<SettingsIn>,
) -> WebResult<Json<PointsSettings>> {
    let parsed = PointsSettings::parse(
        b.earn_points_per_yuan,
        b.redeem_points_per_yuan,
        b.expiry,
        b.max_redeem_percent,
    )
    .map_err(yutang_app::AppError::from)?;
    Ok(Json(s.app.points().put_settings(&a, parsed).await?))
}

/// Outstanding points, each account's balance (they sum to zero) and points by expiry month.
#[utoipa::path(get, path = "/api/v1/points/liability", tag = "loyalty", security(("bearer" = [])),
    responses((status = 200, body = schema::Liability), (status = 403, body = ErrorBody)))]
pub async fn liability(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Liability>> {
    Ok(Json(s.app.points().liability(&a).await?))
}

/// Start an expiry run now (the daily run starts by itself); follow it at `/api/v1/jobs/{id}`.
#[utoipa::path(post, path = "/api/v1/points/expiry-runs", tag = "loyalty", security(("bearer" = [])),
    responses((status = 202, body = JobOut), (status = 403, body = ErrorBody)))]
pub async fn start_expiry(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<(StatusCode, Json<JobOut>)> {
    let id = s.app.points().start_expiry(&a).await?;
    let job = s.app.job(&a, id).await?;
    Ok((StatusCode::ACCEPTED, Json(job.into())))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/points", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = schema::Account), (status = 404, body = ErrorBody)))]
pub async fn account(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<AccountView>> {
    Ok(Json(s.app.points().account(&a, CustomerId(id)).await?))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/points/entries", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path), EntriesParams),
    responses((status = 200, body = schema::EntriesPage), (status = 404, body = ErrorBody)))]
pub async fn entries(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiQuery(p): ApiQuery<EntriesParams>,
) -> WebResult<Json<EntriesPage>> {
    Ok(Json(
        s.app
            .points()
            .entries(&a, CustomerId(id), p.before, p.limit.unwrap_or(50))
            .await?,
    ))
}

/// A manual grant or deduction with a reason (admin, operator; audited). Requires an
/// `Idempotency-Key`: a retry answers the first entry (200), never a second one.
#[utoipa::path(post, path = "/api/v1/customers/{id}/points/adjustments", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path), IdempotencyKey), request_body = AdjustmentIn,
    responses((status = 201, body = schema::Entry), (status = 200, body = schema::Entry),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = idempotency::CONFLICT),
        (status = 422, body = ErrorBody, description = idempotency::INVALID)))]
pub async fn adjust(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    key: IdempotencyKey,
    ApiJson(b): ApiJson<AdjustmentIn>,
) -> WebResult<(StatusCode, Json<EntryRow>)> {
    let points = Points::parse("points", b.points).map_err(yutang_app::AppError::from)?;
    let delta = match b.kind {
        AdjustKind::Grant => points.get(),
        AdjustKind::Deduct => -points.get(),
    };
    let (e, created) = s
        .app
        .points()
        .adjust(&a, CustomerId(id), delta, &b.reason, key.as_deref())
        .await?;
    Ok((status(created), Json(e)))
}

/// Points for a check-in, a task, a referral or a campaign, once per `(source_type,
/// source_id)` (admin, operator tokens).
#[utoipa::path(post, path = "/api/v1/customers/{id}/points/earnings", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = EarningIn,
    responses((status = 201, body = schema::Entry), (status = 200, body = schema::Entry),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn earn(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(b): ApiJson<EarningIn>,
) -> WebResult<(StatusCode, Json<EntryRow>)> {
    let points = Points::parse("points", b.points).map_err(yutang_app::AppError::from)?;
    let (e, created) = s
        .app
        .points()
        .earn(
            &a,
            CustomerId(id),
            points,
            b.source_type,
            &b.source_id,
            &b.reason,
        )
        .await?;
    Ok((status(created), Json(e)))
}

/// Post up to 1,000 earnings (check-ins, tasks, campaigns) in one transaction, each once per
/// `(source_type, source_id)`, each with its own outcome (admin, operator tokens).
#[utoipa::path(post, path = "/api/v1/points/earnings", tag = "loyalty", security(("bearer" = [])),
    request_body = BatchIn,
    responses((status = 200, body = schema::BatchOut), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn earn_batch(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(b): ApiJson<BatchIn>,
) -> WebResult<Json<serde_json::Value>> {
    let items: Vec<EarnItem> = b
        .earnings
        .into_iter()
        .map(|e| EarnItem {
            customer_id: e.customer_id,
            points: e.points,
            source_type: e.source_type,
            source_id: e.source_id,
            reason: e.reason,
        })
        .collect();
    let out = s.app.points().earn_batch(&a, &items).await?;
    let count = |f: fn(&EarnOutcome) -> bool| out.iter().filter(|o| f(o)).count();
    Ok(Json(serde_json::json!({
        "created": count(|o| matches!(o, EarnOutcome::Created { .. })),
        "duplicates": count(|o| matches!(o, EarnOutcome::Duplicate { .. })),
        "rejected": count(|o| matches!(o, EarnOutcome::Rejected { .. })),
        "results": out,
    })))
}

/// Redeem points at checkout (POS; admin, operator tokens). Requires an `Idempotency-Key`:
/// a retry answers the first redemption (200) and never spends twice; a balance that is too
/// small is 422 `insufficient_points`.
#[utoipa::path(post, path = "/api/v1/customers/{id}/points/redemptions", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path), IdempotencyKey), request_body = RedemptionIn,
    responses((status = 201, body = schema::Redemption), (status = 200, body = schema::Redemption),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = idempotency::CONFLICT),
        (status = 422, body = ErrorBody, description = idempotency::INVALID)))]
pub async fn redeem(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    key: IdempotencyKey,
    ApiJson(b): ApiJson<RedemptionIn>,
) -> WebResult<(StatusCode, Json<RedemptionRow>)> {
    let input = b.parse().map_err(yutang_app::AppError::from)?;
    let (r, created) = s
        .app
        .points()
        .redeem(&a, CustomerId(id), &input, key.as_deref())
        .await?;
    Ok((status(created), Json(r)))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/points/redemptions", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<schema::Redemption>), (status = 404, body = ErrorBody)))]
pub async fn redemptions(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<Vec<RedemptionRow>>> {
    Ok(Json(s.app.points().redemptions(&a, CustomerId(id)).await?))
}

/// Cancel a redemption (the sale was voided): its points return to the lots they came from,
/// once; a repeat answers the cancelled redemption (200).
#[utoipa::path(post, path = "/api/v1/points/redemptions/{id}/cancel", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 201, body = schema::Redemption), (status = 200, body = schema::Redemption),
        (status = 404, body = ErrorBody)))]
pub async fn cancel(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<(StatusCode, Json<RedemptionRow>)> {
    let (r, created) = s.app.points().cancel_redemption(&a, id).await?;
    Ok((status(created), Json(r)))
}

/// The signed-in customer's points (member centre).
#[utoipa::path(get, path = "/api/v1/public/me/points", tag = "public", security(("customer" = [])),
    responses((status = 200, body = schema::Account), (status = 401, body = ErrorBody)))]
pub async fn public_account(
    State(s): State<AppState>,
    CustomerAuth(c): CustomerAuth,
) -> WebResult<Json<AccountView>> {
    Ok(Json(s.app.points().account_of(c).await?))
}

#[utoipa::path(get, path = "/api/v1/public/me/points/entries", tag = "public", security(("customer" = [])),
    params(EntriesParams),
    responses((status = 200, body = schema::EntriesPage), (status = 401, body = ErrorBody)))]
pub async fn public_entries(
    State(s): State<AppState>,
    CustomerAuth(c): CustomerAuth,
    ApiQuery(p): ApiQuery<EntriesParams>,
) -> WebResult<Json<EntriesPage>> {
    Ok(Json(
        s.app
            .points()
            .entries_of(c, p.before, p.limit.unwrap_or(50))
            .await?,
    ))
}

/// The customer redeems their own points (mini-program checkout). Requires an
/// `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/public/me/points/redemptions", tag = "public", security(("customer" = [])),
    params(IdempotencyKey), request_body = RedemptionIn,
    responses((status = 201, body = schema::Redemption), (status = 200, body = schema::Redemption),
        (status = 401, body = ErrorBody), (status = 409, body = ErrorBody, description = idempotency::CONFLICT),
        (status = 422, body = ErrorBody, description = idempotency::INVALID)))]
pub async fn public_redeem(
    State(s): State<AppState>,
    CustomerAuth(c): CustomerAuth,
    key: IdempotencyKey,
    ApiJson(b): ApiJson<RedemptionIn>,
) -> WebResult<(StatusCode, Json<RedemptionRow>)> {
    let input = b.parse().map_err(yutang_app::AppError::from)?;
    let (r, created) = s.app.points().redeem_own(c, &input, key.as_deref()).await?;
    Ok((status(created), Json(r)))
}

#[utoipa::path(post, path = "/api/v1/public/me/points/redemptions/{id}/cancel", tag = "public", security(("customer" = [])),
    params(("id" = i64, Path)),
    responses((status = 201, body = schema::Redemption), (status = 200, body = schema::Redemption),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn public_cancel(
    State(s): State<AppState>,
    CustomerAuth(c): CustomerAuth,
    IdPath(id): IdPath,
) -> WebResult<(StatusCode, Json<RedemptionRow>)> {
    let (r, created) = s.app.points().cancel_own_redemption(c, id).await?;
    Ok((status(created), Json(r)))
}
