//! Stored value (储值, issue #22 item 5): a customer's balance (principal and gift portions)
//! and ledger, top-ups (once per external order no, with the best top-up gift rule), spends
//! at checkout (`Idempotency-Key` required), refunds of spends and of top-ups, the top-up
//! gift rules and the liability report.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use yutang_app::loyalty::stored_value::{
    AccountView, EntriesPage, GiftRuleInput, GiftRuleRow, Liability, SpendInput, SpendRow,
    TopUpInput, TopUpView,
};
use yutang_core::ids::CustomerId;

use crate::api::idempotency::{self, IdempotencyKey};
use crate::api::points::EntriesParams;
use crate::api::promotions::CustomerAuth;
use crate::auth::{ApiActor, ApiJson, ApiQuery, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

/// A top-up paid outside (POS, mini-program payment).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TopUpIn {
    /// The payment's order no in the paying system (1–64 visible characters): one top-up
    /// per order no; a repeat with the same body answers the first.
    pub order_no: String,
    /// Fen paid, 1–10,000,000,000.
    pub amount_fen: i64,
}

/// A spend at checkout.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpendIn {
    /// Fen to pay from the balance (principal first, then gift).
    pub amount_fen: i64,
    /// The brand's order or ticket reference (≤ 64 visible characters).
    #[serde(default)]
    pub order_ref: String,
}

/// A refund of (part of) a spend.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpendRefundIn {
    /// The refund's id in the POS (1–64 visible characters): one refund per id.
    pub refund_no: String,
    /// Fen to give back; absent: what is left of the spend.
    pub amount_fen: Option<i64>,
}

/// A top-up gift rule.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GiftRuleIn {
    /// 1–60 characters.
    pub name: String,
    /// A top-up of at least this many fen gets the rule (the highest threshold reached wins).
    pub min_top_up_fen: i64,
    /// Stored-value gift (fen), into the gift portion.
    #[serde(default)]
    pub gift_fen: i64,
    /// Points given (source_type `gift`).
    #[serde(default)]
    pub points: i64,
    /// A coupon template issued once per top-up.
    pub coupon_template_id: Option<i64>,
    /// false: archived (does not apply). Default true.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl GiftRuleIn {
    fn into_input(self) -> GiftRuleInput {
        GiftRuleInput {
            name: self.name,
            min_top_up_fen: self.min_top_up_fen,
            gift_fen: self.gift_fen,
            points: self.points,
            coupon_template_id: self.coupon_template_id,
            active: self.active,
        }
    }
}

/// The documented shapes.
pub mod schema {
    use serde::Serialize;
    use utoipa::ToSchema;

    #[derive(Serialize, ToSchema)]
    #[schema(as = StoredValueAccount)]
    pub struct Account {
        pub customer_id: i64,
        /// principal + gift.
        pub balance_fen: i64,
        /// Money paid in, unspent.
        pub principal_fen: i64,
        /// Bonus, unspent (spent last).
        pub gift_fen: i64,
        pub topped_up_fen: i64,
        pub gifted_fen: i64,
        pub spent_fen: i64,
        pub refunded_fen: i64,
        pub clawed_back_fen: i64,
    }

    /// One entry: `principal + gift = amount` moves from `debit` to `credit` (accounts
    /// customer, issued, spent, transfer); `*_after` are the customer's portions after it.
    #[derive(Serialize, ToSchema)]
    #[schema(as = StoredValueEntry)]
    pub struct Entry {
        pub id: i64,
        pub entry_key: String,
        pub customer_id: i64,
        /// top_up, gift, spend, spend_refund, top_up_refund, transfer_out, transfer_in.
        pub kind: String,
        pub debit: String,
        pub credit: String,
        pub principal: i64,
        pub gift: i64,
        pub amount: i64,
        pub principal_after: i64,
        pub gift_after: i64,
        pub source_type: String,
        pub source_id: String,
        pub reason: String,
        pub actor: String,
        pub created_at: i64,
    }

    #[derive(Serialize, ToSchema)]
    #[schema(as = StoredValueEntriesPage)]
    pub struct EntriesPage {
        pub items: Vec<Entry>,
        pub next_before: Option<i64>,
    }

    /// A top-up, with the customer's balance after it (or after its refund).
    #[derive(Serialize, ToSchema)]
    pub struct TopUp {
        pub id: i64,
        pub order_no: String,
        pub customer_id: i64,
        pub amount_fen: i64,
        /// The top-up gift rule applied (null: none matched).
        pub rule_id: Option<i64>,
        pub gift_fen: i64,
        pub gift_points: i64,
        pub coupon_template_id: Option<i64>,
        /// paid, refunded.
        pub status: String,
        pub entry_id: i64,
        /// Principal returned in cash by the refund.
        pub refunded_fen: i64,
        /// Gift clawed back by the refund.
        pub clawed_back_fen: i64,
        pub created_by: String,
        pub created_at: i64,
        pub refunded_at: Option<i64>,
        pub balance: Account,
    }

    #[derive(Serialize, ToSchema)]
    pub struct Spend {
        pub id: i64,
        pub customer_id: i64,
        pub amount_fen: i64,
        /// Taken from the principal.
        pub principal: i64,
        /// Taken from the gift.
        pub gift: i64,
        pub refunded_principal: i64,
        pub refunded_gift: i64,
        pub order_ref: String,
        pub entry_id: i64,
        pub created_by: String,
        pub created_at: i64,
    }

    #[derive(Serialize, ToSchema)]
    pub struct GiftRule {
        pub id: i64,
        pub name: String,
        pub min_top_up_fen: i64,
        pub gift_fen: i64,
        pub points: i64,
        pub coupon_template_id: Option<i64>,
        /// active, archived.
        pub status: String,
        pub created_at: i64,
        pub updated_at: i64,
    }

    #[derive(Serialize, ToSchema)]
    #[schema(as = StoredValueBalance)]
    pub struct AccountBalance {
        pub account: String,
        pub balance: i64,
    }

    #[derive(Serialize, ToSchema)]
    #[schema(as = StoredValueLiability)]
    pub struct Liability {
        pub outstanding_fen: i64,
        pub principal_fen: i64,
        pub gift_fen: i64,
        pub customers_with_balance: i64,
        pub entries: i64,
        pub accounts: Vec<AccountBalance>,
        /// Every account sums to zero and the stored balances match the ledger.
        pub balanced: bool,
    }
}

fn status(created: bool) -> StatusCode {
    if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/stored-value", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = schema::Account), (status = 404, body = ErrorBody)))]
pub async fn account(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<AccountView>> {
    Ok(Json(
        s.app.stored_value().account(&a, CustomerId(id)).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/stored-value/entries", tag = "loyalty", security(("bearer" = [])),
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
            .stored_value()
            .entries(&a, CustomerId(id), p.before, p.limit.unwrap_or(50))
            .await?,
    ))
}

/// Record a top-up paid outside (admin, operator tokens; audited), once per `order_no`: the
/// money goes to the principal and the best top-up gift rule gives its gift in the same
/// transaction. A repeat answers the first top-up (200); another body under the same order no
/// is 422 `idempotency_key_reused`.
#[utoipa::path(post, path = "/api/v1/customers/{id}/stored-value/top-ups", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = TopUpIn,
    responses((status = 201, body = schema::TopUp), (status = 200, body = schema::TopUp),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn top_up(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(b): ApiJson<TopUpIn>,
) -> WebResult<(StatusCode, Json<TopUpView>)> {
    let (t, created) = s
        .app
        .stored_value()
        .top_up(
            &a,
            CustomerId(id),
            &TopUpInput {
                order_no: b.order_no,
                amount_fen: b.amount_fen,
            },
        )
        .await?;
    Ok((status(created), Json(t)))
}

/// Refund a top-up in cash (admin, operator; audited), once: the unspent principal (at most
/// the top-up) is returned and the gift it brought clawed back, up to what is left of it.
#[utoipa::path(post, path = "/api/v1/stored-value/top-ups/{order_no}/refund", tag = "loyalty", security(("bearer" = [])),
    params(("order_no" = String, Path)),
    responses((status = 201, body = schema::TopUp), (status = 200, body = schema::TopUp),
        (status = 404, body = ErrorBody)))]
pub async fn refund_top_up(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    Path(order_no): Path<String>,
) -> WebResult<(StatusCode, Json<TopUpView>)> {
    let (t, created) = s.app.stored_value().refund_top_up(&a, &order_no).await?;
    Ok((status(created), Json(t)))
}

/// Spend stored value at checkout (POS; admin, operator tokens). Requires an
/// `Idempotency-Key`: a retry answers the first spend (200) and never spends twice; more than
/// the balance is 422 `insufficient_balance` and nothing is written.
#[utoipa::path(post, path = "/api/v1/customers/{id}/stored-value/spends", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path), IdempotencyKey), request_body = SpendIn,
    responses((status = 201, body = schema::Spend), (status = 200, body = schema::Spend),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = idempotency::CONFLICT),
        (status = 422, body = ErrorBody, description = idempotency::INVALID)))]
pub async fn spend(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    key: IdempotencyKey,
    ApiJson(b): ApiJson<SpendIn>,
) -> WebResult<(StatusCode, Json<SpendRow>)> {
    let (r, created) = s
        .app
        .stored_value()
        .spend(
            &a,
            CustomerId(id),
            &SpendInput {
                amount_fen: b.amount_fen,
                order_ref: b.order_ref,
            },
            key.as_deref(),
        )
        .await?;
    Ok((status(created), Json(r)))
}

/// Refund (part of) a spend (admin, operator; audited), once per `refund_no`: back to the
/// portions the spend took. More than is left is 422 `refund_exceeds_spend`.
#[utoipa::path(post, path = "/api/v1/stored-value/spends/{id}/refund", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = SpendRefundIn,
    responses((status = 201, body = schema::Spend), (status = 200, body = schema::Spend),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn refund_spend(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(b): ApiJson<SpendRefundIn>,
) -> WebResult<(StatusCode, Json<SpendRow>)> {
    let (r, created) = s
        .app
        .stored_value()
        .refund_spend(&a, id, &b.refund_no, b.amount_fen)
        .await?;
    Ok((status(created), Json(r)))
}

/// Outstanding stored value: principal and gift totals, each account (they sum to zero).
#[utoipa::path(get, path = "/api/v1/stored-value/liability", tag = "loyalty", security(("bearer" = [])),
    responses((status = 200, body = schema::Liability), (status = 403, body = ErrorBody)))]
pub async fn liability(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Liability>> {
    Ok(Json(s.app.stored_value().liability(&a).await?))
}

#[utoipa::path(get, path = "/api/v1/stored-value/top-up-gifts", tag = "loyalty", security(("bearer" = [])),
    responses((status = 200, body = Vec<schema::GiftRule>), (status = 403, body = ErrorBody)))]
pub async fn list_rules(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Vec<GiftRuleRow>>> {
    Ok(Json(s.app.stored_value().gift_rules(&a).await?))
}

/// Create a top-up gift rule (admin, operator; audited).
#[utoipa::path(post, path = "/api/v1/stored-value/top-up-gifts", tag = "loyalty", security(("bearer" = [])),
    request_body = GiftRuleIn,
    responses((status = 201, body = schema::GiftRule), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_rule(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(b): ApiJson<GiftRuleIn>,
) -> WebResult<(StatusCode, Json<GiftRuleRow>)> {
    let (r, _) = s
        .app
        .stored_value()
        .save_gift_rule(&a, None, &b.into_input())
        .await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// Replace a top-up gift rule (admin, operator; audited).
#[utoipa::path(put, path = "/api/v1/stored-value/top-up-gifts/{id}", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = GiftRuleIn,
    responses((status = 200, body = schema::GiftRule), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_rule(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(b): ApiJson<GiftRuleIn>,
) -> WebResult<Json<GiftRuleRow>> {
    let (r, _) = s
        .app
        .stored_value()
        .save_gift_rule(&a, Some(id), &b.into_input())
        .await?;
    Ok(Json(r))
}

/// Archive a top-up gift rule (it stops applying).
#[utoipa::path(delete, path = "/api/v1/stored-value/top-up-gifts/{id}", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = schema::GiftRule), (status = 404, body = ErrorBody)))]
pub async fn archive_rule(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<GiftRuleRow>> {
    Ok(Json(s.app.stored_value().archive_gift_rule(&a, id).await?))
}

/// The signed-in customer's stored value (member centre).
#[utoipa::path(get, path = "/api/v1/public/me/stored-value", tag = "public", security(("customer" = [])),
    responses((status = 200, body = schema::Account), (status = 401, body = ErrorBody)))]
pub async fn public_account(
    State(s): State<AppState>,
    CustomerAuth(c): CustomerAuth,
) -> WebResult<Json<AccountView>> {
    Ok(Json(s.app.stored_value().account_of(c).await?))
}

/// The signed-in customer's stored-value entries, newest first (member centre); `before` an
/// entry id (exclusive), `limit` 1–200 (default 50).
#[utoipa::path(get, path = "/api/v1/public/me/stored-value/entries", tag = "public", security(("customer" = [])),
    params(EntriesParams),
    responses((status = 200, body = schema::EntriesPage), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "invalid_query: before or limit not a whole number")))]
pub async fn public_entries(
    State(s): State<AppState>,
    CustomerAuth(c): CustomerAuth,
    ApiQuery(p): ApiQuery<EntriesParams>,
) -> WebResult<Json<EntriesPage>> {
    Ok(Json(
        s.app
            .stored_value()
            .entries_of(c, p.before, p.limit.unwrap_or(50))
            .await?,
    ))
}
