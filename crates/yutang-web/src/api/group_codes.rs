//! Group live codes (群活码, issue #20 item 1): `/api/v1/group-codes`. Operators and admins
//! write; every role that sees the org reads (store-bound roles: their store's codes and the
//! brand-wide ones). See docs/group-codes.md.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::group_codes::{CodeJoins, GroupCodeView};
use yutang_core::group_codes::GroupCodeSpec;

use crate::auth::{ApiActor, ApiJson, ApiQuery, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::files::{Disposition, file};
use crate::state::AppState;

/// `?archived=true` lists archived codes instead of live ones.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct GroupCodeListParams {
    pub archived: Option<bool>,
}

/// `?from=&to=` (`YYYY-MM-DD`, Asia/Shanghai, at most 366 days; default the last 30 days).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct JoinParams {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// The documented shapes of the bodies and answers (the handlers use the domain types).
pub mod schema {
    use serde::Serialize;
    use utoipa::ToSchema;

    /// `qr` (a QR code to print) or `mini_program` (a button in the brand's mini-program).
    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum GroupCodeScene {
        Qr,
        MiniProgram,
    }

    /// A group live code.
    #[derive(Serialize, ToSchema)]
    pub struct GroupCodeSpec {
        /// 1–40 characters.
        pub name: String,
        /// The channel joins are attributed to.
        pub channel_id: Option<i64>,
        /// A store's code; none for brand-wide.
        pub store_id: Option<i64>,
        /// Default qr; cannot change after creation.
        pub scene: Option<GroupCodeScene>,
        /// Members (staff included) at which the code moves on to the next group: 1–500
        /// (WeCom's group limit), default 200 (QR joins stop at 200 members).
        pub member_cap: Option<i64>,
        /// Let WeCom open a new group when every group is full (default true).
        pub auto_create: Option<bool>,
        /// Name prefix of the groups WeCom opens, at most 40 characters; required with
        /// auto_create.
        pub room_base_name: Option<String>,
        /// Number of the first group WeCom opens (default 1).
        pub room_base_id: Option<i64>,
        /// 1–5 customer groups (Yutang group ids), in the order they fill.
        pub group_ids: Vec<i64>,
    }

    #[derive(Serialize, ToSchema)]
    pub struct GroupCodeGroup {
        pub group_id: i64,
        pub chat_id: String,
        pub name: String,
        /// Members now, staff included.
        pub members: i64,
        pub dismissed: bool,
        /// Opened by WeCom for the code when every group was full.
        pub auto_created: bool,
        /// Listed by the join way in WeCom now.
        pub listed: bool,
        /// Joins through the code into this group.
        pub joins: i64,
    }

    /// A group live code with where WeCom stands.
    #[derive(Serialize, ToSchema)]
    pub struct GroupCodeOut {
        pub id: i64,
        pub name: String,
        pub channel_id: Option<i64>,
        pub store_id: Option<i64>,
        pub scene: GroupCodeScene,
        pub member_cap: i64,
        pub auto_create: bool,
        pub room_base_name: String,
        pub room_base_id: i64,
        pub group_ids: Vec<i64>,
        /// The join way's state (WeCom returns it on each member who joined through it).
        pub state: String,
        /// WeCom's join way id (`''` until WeCom accepted the code).
        pub config_id: String,
        /// The QR code WeCom made (scene qr).
        pub qr_url: String,
        /// Whether Yutang keeps the image of `qr_url` (`GET …/qr.png`).
        pub qr_image: bool,
        /// Why the image is not stored yet (the last download failed, in Chinese); retried at
        /// the next sync.
        pub qr_image_error: String,
        /// The operator's groups, then the ones WeCom opened, in filling order.
        pub groups: Vec<GroupCodeGroup>,
        /// `open`, `overflow` (every group at the cap: WeCom fills the listed ones to its own
        /// limit, then opens a new group) or `full` (every group at the cap, no auto-create).
        pub fill: String,
        /// `pending`, `synced` or `failed`.
        pub sync_status: String,
        /// Why the last sync failed, in Chinese with what to do.
        pub sync_error: String,
        pub synced_at: Option<i64>,
        pub joins_total: i64,
        /// Joins today (Asia/Shanghai).
        pub joins_today: i64,
        /// Joins by members who are Yutang customers.
        pub customer_joins: i64,
        pub archived: bool,
        pub created_by: String,
        pub created_at: i64,
        pub updated_at: i64,
    }

    #[derive(Serialize, ToSchema)]
    pub struct GroupCodeDayJoins {
        pub day: String,
        pub joins: i64,
    }

    #[derive(Serialize, ToSchema)]
    pub struct GroupCodeJoin {
        pub id: i64,
        pub group_id: i64,
        pub group_name: String,
        /// The member's external userid.
        pub userid: String,
        /// The Yutang customer, when the member is one.
        pub customer_id: Option<i64>,
        pub joined_at: i64,
    }

    /// Joins per Shanghai day over the range, and the latest 50.
    #[derive(Serialize, ToSchema)]
    pub struct GroupCodeJoins {
        pub days: Vec<GroupCodeDayJoins>,
        pub recent: Vec<GroupCodeJoin>,
    }
}

/// Group live codes the caller sees, newest first.
#[utoipa::path(get, path = "/api/v1/group-codes", tag = "community", security(("bearer" = [])),
    params(GroupCodeListParams),
    responses((status = 200, body = Vec<schema::GroupCodeOut>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<GroupCodeListParams>,
) -> WebResult<Json<Vec<GroupCodeView>>> {
    Ok(Json(
        s.app
            .group_codes()
            .list(&a, p.archived.unwrap_or(false))
            .await?,
    ))
}

/// Create a group live code and its WeCom join way. A WeCom refusal does not fail the
/// create: the code answers `sync_status: "failed"` with the reason in Chinese, and is retried
/// every minute and by `POST …/{id}/sync`.
#[utoipa::path(post, path = "/api/v1/group-codes", tag = "community", security(("bearer" = [])),
    request_body = schema::GroupCodeSpec,
    responses((status = 201, body = schema::GroupCodeOut), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(spec): ApiJson<GroupCodeSpec>,
) -> WebResult<(StatusCode, Json<GroupCodeView>)> {
    let v = s.app.group_codes().create(&a, spec).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

#[utoipa::path(get, path = "/api/v1/group-codes/{id}", tag = "community", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = schema::GroupCodeOut), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<GroupCodeView>> {
    Ok(Json(s.app.group_codes().get(&a, id).await?))
}

/// Replace a code's settings and groups; its join way follows.
#[utoipa::path(put, path = "/api/v1/group-codes/{id}", tag = "community", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = schema::GroupCodeSpec,
    responses((status = 200, body = schema::GroupCodeOut), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(spec): ApiJson<GroupCodeSpec>,
) -> WebResult<Json<GroupCodeView>> {
    Ok(Json(s.app.group_codes().update(&a, id, spec).await?))
}

/// Archive a code and delete its WeCom join way (joins made stay counted).
#[utoipa::path(post, path = "/api/v1/group-codes/{id}/archive", tag = "community",
    security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = schema::GroupCodeOut), (status = 404, body = ErrorBody)))]
pub async fn archive(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<GroupCodeView>> {
    Ok(Json(s.app.group_codes().archive(&a, id).await?))
}

/// Bring the code's join way in line with its groups now (after fixing WeCom settings).
#[utoipa::path(post, path = "/api/v1/group-codes/{id}/sync", tag = "community",
    security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = schema::GroupCodeOut), (status = 404, body = ErrorBody)))]
pub async fn sync(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<GroupCodeView>> {
    Ok(Json(s.app.group_codes().resync(&a, id).await?))
}

/// The joins through a code per Shanghai day, and the latest 50.
#[utoipa::path(get, path = "/api/v1/group-codes/{id}/joins", tag = "community",
    security(("bearer" = [])), params(("id" = i64, Path), JoinParams),
    responses((status = 200, body = schema::GroupCodeJoins), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn joins(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiQuery(p): ApiQuery<JoinParams>,
) -> WebResult<Json<CodeJoins>> {
    Ok(Json(
        s.app
            .group_codes()
            .joins(&a, id, p.from.as_deref(), p.to.as_deref())
            .await?,
    ))
}

/// The code's QR image as Yutang keeps it (a download: `group-code-{id}-qr.png`). 409
/// `qr_not_stored` until it is stored for the code's current QR (downloaded after each sync).
#[utoipa::path(get, path = "/api/v1/group-codes/{id}/qr.png", tag = "community",
    security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, content((crate::api::media::ImageFile = "image/png"),
        (crate::api::media::ImageFile = "image/jpeg"))),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn qr(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Response> {
    let qr = s.app.group_codes().qr_image(&a, id).await?;
    Ok(file(
        &qr.content_type,
        &qr.filename,
        Disposition::Attachment,
        qr.bytes,
    ))
}
