//! `/api/v1/tokens`: integration credentials (admin only).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use yutang_app::AppError;
use yutang_app::tokens::NewTokenInput;
use yutang_core::ids::TokenId;

use super::dto::{CreatedTokenOut, TokenOut};
use crate::auth::{ApiActor, ApiJson, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    pub name: String,
    /// admin, operator or analyst.
    pub role: String,
    /// Omit for a token that does not expire.
    pub expires_in_days: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", security(("bearer" = [])),
    responses((status = 200, body = Vec<TokenOut>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Vec<TokenOut>>> {
    Ok(Json(
        s.app
            .tokens()
            .list_tokens(&a)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Create a token. The secret is in this response only; it is stored hashed.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", security(("bearer" = [])),
    request_body = CreateTokenRequest,
    responses((status = 201, body = CreatedTokenOut), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(req): ApiJson<CreateTokenRequest>,
) -> WebResult<(StatusCode, Json<CreatedTokenOut>)> {
    let input =
        NewTokenInput::parse(&req.name, &req.role, req.expires_in_days).map_err(AppError::from)?;
    let t = s.app.tokens().create_token(&a, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedTokenOut {
            token: t.token,
            info: t.info.into(),
        }),
    ))
}

/// Revoke a token; it stops working at once. Revoking twice is harmless.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = TokenOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<TokenOut>> {
    Ok(Json(
        s.app.tokens().revoke_token(&a, TokenId(id)).await?.into(),
    ))
}
