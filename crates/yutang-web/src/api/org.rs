//! `/api/v1/regions` and `/api/v1/stores`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use yutang_app::AppError;
use yutang_app::audit::Page;
use yutang_app::org::{StoreInput, StoreQuery};
use yutang_core::ids::{RegionId, StoreId};

use super::dto::{RegionOut, StoreOut, StorePage};
use crate::auth::{ApiActor, ApiJson, ApiQuery, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionRequest {
    pub name: String,
}

/// Regions visible to the caller (store-bound roles see their own store's region).
#[utoipa::path(get, path = "/api/v1/regions", tag = "org", security(("bearer" = [])),
    responses((status = 200, body = Vec<RegionOut>), (status = 401, body = ErrorBody)))]
pub async fn list_regions(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Vec<RegionOut>>> {
    Ok(Json(
        s.app
            .org()
            .list_regions(&a)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/regions", tag = "org", security(("bearer" = [])),
    request_body = RegionRequest,
    responses((status = 201, body = RegionOut), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_region(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(req): ApiJson<RegionRequest>,
) -> WebResult<(StatusCode, Json<RegionOut>)> {
    let r = s.app.org().create_region(&a, &req.name).await?;
    Ok((StatusCode::CREATED, Json(r.into())))
}

#[utoipa::path(patch, path = "/api/v1/regions/{id}", tag = "org", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = RegionRequest,
    responses((status = 200, body = RegionOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn rename_region(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<RegionRequest>,
) -> WebResult<Json<RegionOut>> {
    Ok(Json(
        s.app
            .org()
            .rename_region(&a, RegionId(id), &req.name)
            .await?
            .into(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StoreListParams {
    pub region_id: Option<i64>,
    /// Substring of code, name or city.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub page_size: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreRequest {
    pub region_id: Option<i64>,
    /// Short code as the POS knows it, e.g. `SH-001`; stored upper-case; unique.
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub address: String,
}

impl StoreRequest {
    fn parse(&self) -> Result<StoreInput, AppError> {
        Ok(StoreInput::parse(
            self.region_id,
            &self.code,
            &self.name,
            &self.city,
            &self.address,
        )?)
    }
}

#[utoipa::path(get, path = "/api/v1/stores", tag = "org", security(("bearer" = [])),
    params(StoreListParams),
    responses((status = 200, body = StorePage), (status = 401, body = ErrorBody)))]
pub async fn list_stores(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<StoreListParams>,
) -> WebResult<Json<StorePage>> {
    let q = StoreQuery {
        region_id: p.region_id.map(RegionId),
        q: p.q,
        page: Page::parse(p.page, p.page_size).map_err(AppError::from)?,
    };
    let r = s.app.org().list_stores(&a, &q).await?;
    Ok(Json(StorePage {
        items: r.items.into_iter().map(Into::into).collect(),
        total: r.total,
        page: r.page,
        page_size: r.page_size,
    }))
}

#[utoipa::path(post, path = "/api/v1/stores", tag = "org", security(("bearer" = [])),
    request_body = StoreRequest,
    responses((status = 201, body = StoreOut), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_store(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(req): ApiJson<StoreRequest>,
) -> WebResult<(StatusCode, Json<StoreOut>)> {
    let r = s.app.org().create_store(&a, &req.parse()?).await?;
    Ok((StatusCode::CREATED, Json(r.into())))
}

#[utoipa::path(get, path = "/api/v1/stores/{id}", tag = "org", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = StoreOut), (status = 404, body = ErrorBody)))]
pub async fn get_store(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<StoreOut>> {
    Ok(Json(s.app.org().get_store(&a, StoreId(id)).await?.into()))
}

/// Replace a store's fields.
#[utoipa::path(put, path = "/api/v1/stores/{id}", tag = "org", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = StoreRequest,
    responses((status = 200, body = StoreOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_store(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<StoreRequest>,
) -> WebResult<Json<StoreOut>> {
    Ok(Json(
        s.app
            .org()
            .update_store(&a, StoreId(id), &req.parse()?)
            .await?
            .into(),
    ))
}
