//! Consultant choice and service ratings (专属顾问与服务评价, issue #23 item 5).
//!
//! Customer (bearer customer token `yct_…`): `GET/POST /api/v1/public/me/consultant` (the
//! consultant, the store's other guides, choose one), `GET /api/v1/public/me/ratable` (done
//! tasks and orders not yet rated), `POST /api/v1/public/me/ratings` (rate one, 1–5 with a
//! comment). Staff: `GET /api/v1/ratings` and `GET /api/v1/ratings/summary?by=staff|store` (the
//! ranking), scoped: a guide their own, a store manager their store's, headquarters and
//! analysts all. See docs/ratings.md.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yutang_app::ratings::{
    By, ChoiceView, ConsultantView, GuideView, RatableView, RateInput, RatingPage, RatingQuery,
    RatingView, SummaryLine,
};
use yutang_core::time::Millis;

use crate::api::idempotency::{self, IdempotencyKey};
use crate::api::promotions::{CustomerAuth, created};
use crate::auth::{ApiActor, ApiJson, ApiQuery};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

fn ts(ms: i64) -> String {
    Millis(ms).to_rfc3339()
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ConsultantGuideOut)]
pub struct GuideOut {
    pub staff_id: i64,
    pub name: String,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    /// The average score in thousandths (`4333` for 4.333); null without ratings.
    pub average_milli: Option<i64>,
    /// How many ratings the average is of.
    pub ratings: i64,
}

impl From<GuideView> for GuideOut {
    fn from(g: GuideView) -> Self {
        Self {
            staff_id: g.staff_id,
            name: g.name,
            store_id: g.store_id,
            store_name: g.store_name,
            average_milli: g.average_milli,
            ratings: g.ratings,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ConsultantPendingOut)]
pub struct PendingOut {
    /// The chosen guide, who has been asked to add the customer.
    pub staff_id: i64,
    pub name: String,
    pub since: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ConsultantOut)]
pub struct ConsultantOut {
    /// `done` (the chosen guide is now the consultant), `pending` (they will be once they add
    /// the customer) or `unchanged`; absent on a GET.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// The current consultant; null when the customer has none.
    pub consultant: Option<GuideOut>,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    /// The other active guides of the store.
    pub choices: Vec<GuideOut>,
    pub pending: Option<PendingOut>,
}

impl ConsultantOut {
    fn of(v: ConsultantView, outcome: Option<String>) -> Self {
        Self {
            outcome,
            consultant: v.consultant.map(GuideOut::from),
            store_id: v.store_id,
            store_name: v.store_name,
            choices: v.choices.into_iter().map(GuideOut::from).collect(),
            pending: v.pending.map(|p| PendingOut {
                staff_id: p.staff_id,
                name: p.name,
                since: ts(p.since),
            }),
        }
    }
}

impl From<ChoiceView> for ConsultantOut {
    fn from(c: ChoiceView) -> Self {
        Self::of(c.view, Some(c.outcome))
    }
}

/// Choose a consultant.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ConsultantChoiceIn)]
pub struct ChoiceIn {
    /// An active guide of the customer's store (else 422 `invalid_consultant`).
    pub staff_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RatableOut)]
pub struct RatableOut {
    /// `task` or `order`.
    pub subject_kind: String,
    pub subject_id: i64,
    /// The guide the rating would be of.
    pub staff_id: Option<i64>,
    pub staff_name: Option<String>,
    /// The task's title, or the order's number.
    pub title: String,
    /// When the task was done, or the order paid.
    pub at: String,
    /// An order's amount in fen.
    pub amount_fen: Option<i64>,
}

impl From<RatableView> for RatableOut {
    fn from(r: RatableView) -> Self {
        Self {
            subject_kind: r.subject_kind,
            subject_id: r.subject_id,
            staff_id: r.staff_id,
            staff_name: r.staff_name,
            title: r.title,
            at: ts(r.at),
            amount_fen: r.amount_fen,
        }
    }
}

/// Rate a done guide task or an order of yours.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RatingIn)]
pub struct RatingIn {
    /// `task` or `order`.
    pub subject_kind: String,
    pub subject_id: i64,
    /// 1 to 5.
    pub score: i64,
    /// At most 500 characters, line breaks allowed, no other control character.
    pub comment: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RatingOut)]
pub struct RatingOut {
    pub id: i64,
    pub customer_id: i64,
    pub customer_name: Option<String>,
    /// The rated guide.
    pub staff_id: i64,
    pub staff_name: String,
    /// The guide's store when rated.
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    /// `task` or `order`.
    pub subject_kind: String,
    pub subject_id: i64,
    pub score: i64,
    pub comment: String,
    /// At or under the low-rating line when made: the store's managers were told.
    pub low: bool,
    pub created_at: String,
}

impl From<RatingView> for RatingOut {
    fn from(r: RatingView) -> Self {
        Self {
            id: r.id,
            customer_id: r.customer_id,
            customer_name: r.customer_name,
            staff_id: r.staff_id,
            staff_name: r.staff_name,
            store_id: r.store_id,
            store_name: r.store_name,
            subject_kind: r.subject_kind,
            subject_id: r.subject_id,
            score: r.score,
            comment: r.comment,
            low: r.low,
            created_at: ts(r.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RatingPageOut)]
pub struct RatingPageOut {
    pub items: Vec<RatingOut>,
    /// Pass back as `before` for the next page; null on the last page.
    pub next_before: Option<i64>,
}

impl From<RatingPage> for RatingPageOut {
    fn from(p: RatingPage) -> Self {
        Self {
            items: p.items.into_iter().map(RatingOut::from).collect(),
            next_before: p.next_before,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RatingSummaryOut)]
pub struct SummaryOut {
    /// 1 for the best average (ties: more ratings first, then the smaller id).
    pub rank: i64,
    /// The guide's id (`by=staff`) or the store's (`by=store`).
    pub id: Option<i64>,
    pub name: String,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    pub count: i64,
    /// The average score in thousandths (`4333` for 4.333).
    pub average_milli: i64,
    /// Ratings that were low when made.
    pub low_count: i64,
}

impl From<SummaryLine> for SummaryOut {
    fn from(l: SummaryLine) -> Self {
        Self {
            rank: l.rank,
            id: l.id,
            name: l.name,
            store_id: l.store_id,
            store_name: l.store_name,
            count: l.count,
            average_milli: l.average_milli,
            low_count: l.low_count,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RatingsParams {
    /// Only this guide's ratings (within the caller's scope).
    pub staff_id: Option<i64>,
    /// Only this store's (within the caller's scope).
    pub store_id: Option<i64>,
    /// Only this customer's.
    pub customer_id: Option<i64>,
    /// Only scores at or under this (1–5).
    pub max_score: Option<i64>,
    /// Only the last this many days (1–90).
    pub days: Option<i64>,
    /// The `next_before` of the previous page.
    pub before: Option<i64>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SummaryParams {
    /// `staff` (default) or `store`.
    pub by: Option<String>,
    pub staff_id: Option<i64>,
    pub store_id: Option<i64>,
    /// Only the last this many days (1–90).
    pub days: Option<i64>,
}

/// The signed-in customer's consultant, with their store's other active guides to choose
/// from and a choice still waiting for the guide.
#[utoipa::path(get, path = "/api/v1/public/me/consultant", tag = "public", security(("customer" = [])),
    responses((status = 200, body = ConsultantOut), (status = 401, body = ErrorBody)))]
pub async fn public_consultant(
    State(s): State<AppState>,
    CustomerAuth(c): CustomerAuth,
) -> WebResult<Json<ConsultantOut>> {
    let v = s.app.ratings().consultant(c.0).await?;
    Ok(Json(ConsultantOut::of(v, None)))
}

/// The customer chooses their consultant among the active guides of their store: `done` when
/// the guide already has them as a WeCom contact, else `pending` (the guide is asked to add
/// them). Anything but an active guide of the store is 422 `invalid_consultant` (field
/// `staff_id`). Takes an `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/public/me/consultant", tag = "public", security(("customer" = [])),
    params(IdempotencyKey), request_body = ChoiceIn,
    responses((status = 201, body = ConsultantOut), (status = 200, body = ConsultantOut, description = "A replay, or the current consultant again"),
        (status = 401, body = ErrorBody), (status = 409, body = ErrorBody, description = idempotency::CONFLICT),
        (status = 422, body = ErrorBody, description = idempotency::INVALID)))]
pub async fn public_choose(
    State(s): State<AppState>,
    CustomerAuth(c): CustomerAuth,
    key: IdempotencyKey,
    ApiJson(b): ApiJson<ChoiceIn>,
) -> WebResult<(StatusCode, Json<ConsultantOut>)> {
    let (v, replayed) = s
        .app
        .ratings()
        .choose(c.0, b.staff_id, key.as_deref())
        .await?;
    let status = if v.outcome == "unchanged" {
        StatusCode::OK
    } else {
        created(replayed)
    };
    Ok((status, Json(v.into())))
}

/// What the customer may rate: their done guide tasks and orders of the last 90 days not yet
/// rated, newest first.
#[utoipa::path(get, path = "/api/v1/public/me/ratable", tag = "public", security(("customer" = [])),
    responses((status = 200, body = Vec<RatableOut>), (status = 401, body = ErrorBody)))]
pub async fn public_ratable(
    State(s): State<AppState>,
    CustomerAuth(c): CustomerAuth,
) -> WebResult<Json<Vec<RatableOut>>> {
    let list = s.app.ratings().ratable(c.0).await?;
    Ok(Json(list.into_iter().map(RatableOut::from).collect()))
}

/// Rate a done guide task on you or an order of yours, 1–5 with an optional comment, once. The
/// same rating again answers the stored one (200); another score or comment is 409
/// `rating_exists` (a rule: the 409 below). Refused by field with 422: `invalid_score`,
/// `invalid_subject_kind`, `unknown_subject` (not a task or order of yours),
/// `subject_not_ratable` (a task not done, a refunded order), `text_too_long`,
/// `invalid_characters`. Takes an `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/public/me/ratings", tag = "public", security(("customer" = [])),
    params(IdempotencyKey), request_body = RatingIn,
    responses((status = 201, body = RatingOut), (status = 200, body = RatingOut, description = "A replay"),
        (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody, description = idempotency::CONFLICT),
        (status = 422, body = ErrorBody, description = idempotency::INVALID)))]
pub async fn public_rate(
    State(s): State<AppState>,
    CustomerAuth(c): CustomerAuth,
    key: IdempotencyKey,
    ApiJson(b): ApiJson<RatingIn>,
) -> WebResult<(StatusCode, Json<RatingOut>)> {
    let input = RateInput {
        subject_kind: b.subject_kind,
        subject_id: b.subject_id,
        score: b.score,
        comment: b.comment,
    };
    let (r, new) = s.app.ratings().rate(c.0, &input, key.as_deref()).await?;
    Ok((created(!new), Json(r.into())))
}

/// A page of service ratings, newest first: a guide's own, a store manager's store's, every
/// rating for headquarters and analysts.
#[utoipa::path(get, path = "/api/v1/ratings", tag = "ratings", security(("bearer" = [])),
    params(RatingsParams),
    responses((status = 200, body = RatingPageOut), (status = 403, body = ErrorBody),
        (status = 422, description = "invalid_query, invalid_score, invalid_days, invalid_page_size", body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<RatingsParams>,
) -> WebResult<Json<RatingPageOut>> {
    let q = RatingQuery {
        staff_id: p.staff_id,
        store_id: p.store_id,
        customer_id: p.customer_id,
        max_score: p.max_score,
        days: p.days,
        before: p.before,
        limit: p.limit,
    };
    Ok(Json(s.app.ratings().list(&a, &q).await?.into()))
}

/// The ranking: guides (`by=staff`) or stores (`by=store`) by average score, best first, with
/// their counts, within the caller's scope.
#[utoipa::path(get, path = "/api/v1/ratings/summary", tag = "ratings", security(("bearer" = [])),
    params(SummaryParams),
    responses((status = 200, body = Vec<SummaryOut>), (status = 403, body = ErrorBody),
        (status = 422, description = "invalid_query, invalid_group, invalid_days", body = ErrorBody)))]
pub async fn summary(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<SummaryParams>,
) -> WebResult<Json<Vec<SummaryOut>>> {
    let by = By::from_field("by", p.by.as_deref().unwrap_or("staff").trim())
        .map_err(yutang_app::AppError::from)?;
    let q = RatingQuery {
        staff_id: p.staff_id,
        store_id: p.store_id,
        days: p.days,
        ..RatingQuery::default()
    };
    let lines = s.app.ratings().summary(&a, by, &q).await?;
    Ok(Json(lines.into_iter().map(SummaryOut::from).collect()))
}
