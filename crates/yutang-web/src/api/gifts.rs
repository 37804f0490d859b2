//! Member gifts (会员礼, issue #22 item 5): birthday and anniversary rules, the grants, and
//! starting the daily run by hand.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use yutang_app::loyalty::gifts::{GrantRow, MyGiftRow, RuleInput, RuleRow};

use crate::api::promotions::CustomerAuth;
use crate::api::tags::JobOut;
use crate::auth::{ApiActor, ApiJson, ApiQuery, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

/// A member gift rule.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleIn {
    /// 1–60 characters.
    pub name: String,
    /// birthday (customers.birthday) or anniversary (of joining the pool, Asia/Shanghai date).
    pub kind: String,
    /// month (any day of the month) or day (the day itself; 29 Feb on 28 Feb otherwise).
    pub mode: String,
    /// A coupon template issued with the gift.
    pub coupon_template_id: Option<i64>,
    /// Points given (source_type `gift`).
    #[serde(default)]
    pub points: i64,
    /// Stored-value gift (fen), into the gift portion.
    #[serde(default)]
    pub gift_fen: i64,
    /// false: archived. Default true.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl RuleIn {
    fn into_input(self) -> RuleInput {
        RuleInput {
            name: self.name,
            kind: self.kind,
            mode: self.mode,
            coupon_template_id: self.coupon_template_id,
            points: self.points,
            gift_fen: self.gift_fen,
            active: self.active,
        }
    }
}

/// `limit` 1–200 (default 50).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GrantsParams {
    pub limit: Option<i64>,
}

pub mod schema {
    use serde::Serialize;
    use utoipa::ToSchema;

    #[derive(Serialize, ToSchema)]
    pub struct Rule {
        pub id: i64,
        pub name: String,
        /// birthday, anniversary.
        pub kind: String,
        /// month, day.
        pub mode: String,
        pub coupon_template_id: Option<i64>,
        pub points: i64,
        pub gift_fen: i64,
        /// active, archived.
        pub status: String,
        pub created_at: i64,
        pub updated_at: i64,
    }

    /// A gift given: once per `grant_key` (`{kind}:{customer}:{year}:{rule}`).
    #[derive(Serialize, ToSchema)]
    pub struct Grant {
        pub id: i64,
        pub grant_key: String,
        pub rule_id: i64,
        pub customer_id: i64,
        pub kind: String,
        pub year: i64,
        pub coupon_template_id: Option<i64>,
        pub points: i64,
        pub gift_fen: i64,
        /// 1 once the coupon (if any) was handled.
        pub coupon_done: i64,
        pub created_at: i64,
    }

    /// A gift the signed-in customer was given (member centre).
    #[derive(Serialize, ToSchema)]
    #[schema(as = MyMemberGift)]
    pub struct MyGift {
        pub id: i64,
        /// birthday, anniversary.
        pub kind: String,
        /// The Shanghai year it was given for.
        pub year: i64,
        /// The rule's name (生日礼).
        pub name: String,
        pub coupon_template_id: Option<i64>,
        /// The coupon template's name, when the gift gives a coupon.
        pub coupon_name: Option<String>,
        /// Points given.
        pub points: i64,
        /// Stored-value gift (fen).
        pub gift_fen: i64,
        /// 0 while the coupon (if any) is still to be issued by the run; 1 once handled.
        pub coupon_done: i64,
        /// When it was given (epoch ms).
        pub created_at: i64,
    }
}

#[utoipa::path(get, path = "/api/v1/loyalty/gifts", tag = "loyalty", security(("bearer" = [])),
    responses((status = 200, body = Vec<schema::Rule>), (status = 403, body = ErrorBody)))]
pub async fn list_rules(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Vec<RuleRow>>> {
    Ok(Json(s.app.gifts().rules(&a).await?))
}

/// Create a birthday or anniversary gift rule (admin, operator; audited).
#[utoipa::path(post, path = "/api/v1/loyalty/gifts", tag = "loyalty", security(("bearer" = [])),
    request_body = RuleIn,
    responses((status = 201, body = schema::Rule), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_rule(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(b): ApiJson<RuleIn>,
) -> WebResult<(StatusCode, Json<RuleRow>)> {
    let (r, _) = s.app.gifts().save_rule(&a, None, &b.into_input()).await?;
    Ok((StatusCode::CREATED, Json(r)))
}

#[utoipa::path(put, path = "/api/v1/loyalty/gifts/{id}", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = RuleIn,
    responses((status = 200, body = schema::Rule), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_rule(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(b): ApiJson<RuleIn>,
) -> WebResult<Json<RuleRow>> {
    let (r, _) = s
        .app
        .gifts()
        .save_rule(&a, Some(id), &b.into_input())
        .await?;
    Ok(Json(r))
}

/// Archive a rule (it stops giving; its grants stay).
#[utoipa::path(delete, path = "/api/v1/loyalty/gifts/{id}", tag = "loyalty", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = schema::Rule), (status = 404, body = ErrorBody)))]
pub async fn archive_rule(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<RuleRow>> {
    Ok(Json(s.app.gifts().archive_rule(&a, id).await?))
}

/// The latest gifts given, newest first (admin, operator, analyst).
#[utoipa::path(get, path = "/api/v1/loyalty/gifts/grants", tag = "loyalty", security(("bearer" = [])),
    params(GrantsParams),
    responses((status = 200, body = Vec<schema::Grant>), (status = 403, body = ErrorBody)))]
pub async fn grants(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<GrantsParams>,
) -> WebResult<Json<Vec<GrantRow>>> {
    Ok(Json(s.app.gifts().grants(&a, p.limit.unwrap_or(50)).await?))
}

/// Start a gifts run now (the daily run starts by itself); follow it at `/api/v1/jobs/{id}`.
#[utoipa::path(post, path = "/api/v1/loyalty/gifts/runs", tag = "loyalty", security(("bearer" = [])),
    responses((status = 202, body = JobOut), (status = 403, body = ErrorBody)))]
pub async fn start_run(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<(StatusCode, Json<JobOut>)> {
    let id = s.app.gifts().start_run(&a).await?;
    let job = s.app.job(&a, id).await?;
    Ok((StatusCode::ACCEPTED, Json(job.into())))
}

/// The gifts the signed-in customer was given (birthday, anniversary), newest first, at most
/// 50: what each gave (coupon, points, stored-value gift) and when.
#[utoipa::path(get, path = "/api/v1/public/me/gifts", tag = "public", security(("customer" = [])),
    responses((status = 200, body = Vec<schema::MyGift>), (status = 401, body = ErrorBody)))]
pub async fn public_gifts(
    State(s): State<AppState>,
    CustomerAuth(c): CustomerAuth,
) -> WebResult<Json<Vec<MyGiftRow>>> {
    Ok(Json(s.app.gifts().my_gifts(c).await?))
}
