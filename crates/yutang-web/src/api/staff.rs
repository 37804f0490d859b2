//! `/api/v1/staff`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use yutang_app::audit::Page;
use yutang_app::staff::{NewStaffInput, StaffPatch, StaffQuery};
use yutang_core::ids::{StaffId, StoreId};
use yutang_core::staff::{DisplayName, Role, StaffStatus, WecomUserId};

use super::dto::{StaffOut, StaffPage, double_option};
use crate::auth::{ApiActor, ApiJson, ApiQuery, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StaffListParams {
    pub store_id: Option<i64>,
    /// admin, operator, store_manager, guide or analyst.
    pub role: Option<String>,
    /// active or disabled.
    pub status: Option<String>,
    /// Substring of username or display name.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub page_size: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStaffRequest {
    pub username: String,
    pub display_name: String,
    pub role: String,
    /// Required for store_manager and guide; must be absent for HQ roles.
    pub store_id: Option<i64>,
    /// Omit to create an account that cannot sign in yet (e.g. synced from WeCom).
    pub password: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateStaffRequest {
    pub display_name: Option<String>,
    pub role: Option<String>,
    /// `null` moves the account to headquarters; absent keeps it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub store_id: Option<Option<i64>>,
    pub status: Option<String>,
    /// The staff member's WeCom userid, linking WeCom callbacks to this account; `null`
    /// unlinks it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub wecom_userid: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    pub password: String,
}

/// Staff within the caller's scope: HQ roles see everyone, a store manager or guide their
/// own store.
#[utoipa::path(get, path = "/api/v1/staff", tag = "staff", security(("bearer" = [])),
    params(StaffListParams),
    responses((status = 200, body = StaffPage), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<StaffListParams>,
) -> WebResult<Json<StaffPage>> {
    let q = StaffQuery {
        store_id: p.store_id.map(StoreId),
        role: p
            .role
            .as_deref()
            .map(|r| Role::parse("role", r))
            .transpose()
            .map_err(yutang_app::AppError::from)?,
        status: p
            .status
            .as_deref()
            .map(|r| StaffStatus::parse("status", r))
            .transpose()
            .map_err(yutang_app::AppError::from)?,
        q: p.q,
        page: Page::parse(p.page, p.page_size).map_err(yutang_app::AppError::from)?,
    };
    let r = s.app.staff().list_staff(&a, &q).await?;
    Ok(Json(StaffPage {
        items: r.items.into_iter().map(Into::into).collect(),
        total: r.total,
        page: r.page,
        page_size: r.page_size,
    }))
}

/// Create a staff member. Admins create anyone; a store manager only guides of their store.
#[utoipa::path(post, path = "/api/v1/staff", tag = "staff", security(("bearer" = [])),
    request_body = CreateStaffRequest,
    responses((status = 201, body = StaffOut), (status = 403, body = ErrorBody),
        (status = 409, description = "username taken", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(req): ApiJson<CreateStaffRequest>,
) -> WebResult<(StatusCode, Json<StaffOut>)> {
    let input = NewStaffInput::parse(
        &req.username,
        &req.display_name,
        &req.role,
        req.store_id,
        req.password.as_deref(),
    )
    .map_err(yutang_app::AppError::from)?;
    let row = s.app.staff().create_staff(&a, &input).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

#[utoipa::path(get, path = "/api/v1/staff/{id}", tag = "staff", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = StaffOut), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<StaffOut>> {
    Ok(Json(s.app.staff().get_staff(&a, StaffId(id)).await?.into()))
}

/// Change name, role, store or status. Role changes and disabling are audited; the last
/// active admin cannot be demoted or disabled.
#[utoipa::path(patch, path = "/api/v1/staff/{id}", tag = "staff", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = UpdateStaffRequest,
    responses((status = 200, body = StaffOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "last_admin", body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<UpdateStaffRequest>,
) -> WebResult<Json<StaffOut>> {
    let patch = parse_patch(&req).map_err(yutang_app::AppError::from)?;
    Ok(Json(
        s.app
            .staff()
            .update_staff(&a, StaffId(id), &patch)
            .await?
            .into(),
    ))
}

fn parse_patch(req: &UpdateStaffRequest) -> Result<StaffPatch, yutang_core::FieldError> {
    Ok(StaffPatch {
        display_name: req
            .display_name
            .as_deref()
            .map(|d| DisplayName::parse("display_name", d))
            .transpose()?,
        role: req
            .role
            .as_deref()
            .map(|r| Role::parse("role", r))
            .transpose()?,
        store_id: req.store_id.map(|o| o.map(StoreId)),
        status: req
            .status
            .as_deref()
            .map(|r| StaffStatus::parse("status", r))
            .transpose()?,
        wecom_userid: req
            .wecom_userid
            .as_ref()
            .map(|o| o.as_deref().map(WecomUserId::parse).transpose())
            .transpose()?,
    })
}

/// Set someone's password (admin, or a store manager for their guides). Ends their sessions.
#[utoipa::path(post, path = "/api/v1/staff/{id}/password", tag = "staff", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ResetPasswordRequest,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn reset_password(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<ResetPasswordRequest>,
) -> WebResult<StatusCode> {
    s.app
        .staff()
        .reset_password(&a, StaffId(id), &req.password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
