//! Group-buys over HTTP: staff `/api/v1/group-buys`; public `/api/v1/public/group-buys/…` and
//! `/api/v1/public/group-buy-teams/…`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yutang_app::promotions::TeamJoined;
use yutang_app::promotions::group_buys::{GroupBuyView, TeamView};
use yutang_core::ids::CustomerId;
use yutang_core::promotions::group_buys::GroupBuySpec;

use super::promotions::{
    CreateParams, Created, CustomerAuth, Published, Removed, created, json_value, spec_schema,
};
use crate::api::idempotency::{self, IdempotencyKey};
use crate::auth::{ApiActor, ApiJson, ApiQuery, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupBuyOut {
    pub id: i64,
    pub name: String,
    /// `active`, or `archived` (removed with history: kept for its statistics, closed).
    pub status: String,
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
            status: v.row.status,
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

// --- staff: group-buys ---

#[utoipa::path(get, path = "/api/v1/group-buys", tag = "promotions", security(("bearer" = [])),
    responses((status = 200, body = Vec<GroupBuyOut>)))]
pub async fn list_group_buys(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Vec<GroupBuyOut>>> {
    Ok(Json(
        s.app
            .group_buys()
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
    params(CreateParams),
    request_body = spec_schema::GroupBuySpec,
    responses((status = 201, body = Created), (status = 422, body = ErrorBody)))]
pub async fn create_group_buy(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<CreateParams>,
    ApiJson(spec): ApiJson<GroupBuySpec>,
) -> WebResult<(StatusCode, Json<Created>)> {
    let id = s
        .app
        .group_buys()
        .create_group_buy_as(&a, spec, p.publish())
        .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Publish a draft group-buy: it opens to customers from its window on. Publishing it again
/// answers `already_published`; an archived one is refused (`promotion_inactive`).
#[utoipa::path(post, path = "/api/v1/group-buys/{id}/publish", tag = "promotions", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Published), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn publish_group_buy(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<Published>> {
    let p = s.app.group_buys().publish_group_buy(&a, id).await?;
    Ok(Json(Published::new(id, p)))
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
    s.app.group_buys().update_group_buy(&a, id, spec).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/group-buys/{id}", tag = "promotions", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = GroupBuyOut), (status = 404, body = ErrorBody)))]
pub async fn get_group_buy(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<GroupBuyOut>> {
    Ok(Json(
        s.app.group_buys().group_buy_for_staff(&a, id).await?.into(),
    ))
}

/// Remove a group-buy. With teams it is archived: kept with its statistics, listed with
/// `status: "archived"`, closed to customers and edits. Without any it is deleted. The
/// answer says which.
#[utoipa::path(delete, path = "/api/v1/group-buys/{id}", tag = "promotions", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Removed), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_group_buy(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<Removed>> {
    let r = s.app.group_buys().delete_group_buy(&a, id).await?;
    Ok(Json(Removed::new(id, r)))
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
            .group_buys()
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

// --- public: group-buys ---

#[utoipa::path(get, path = "/api/v1/public/group-buys/{id}", tag = "public", security(("customer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = GroupBuyOut), (status = 404, body = ErrorBody)))]
pub async fn public_group_buy(
    State(s): State<AppState>,
    CustomerAuth(_c): CustomerAuth,
    IdPath(id): IdPath,
) -> WebResult<Json<GroupBuyOut>> {
    Ok(Json(s.app.group_buys().group_buy(id).await?.into()))
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
    let (out, replayed) = s.app.group_buys().open_team(c, id, key.as_deref()).await?;
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
        .group_buys()
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
    Ok(Json(s.app.group_buys().team_status(id).await?.into()))
}
