//! `/api/v1/auth`: sessions for API clients and the signed-in identity.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yutang_core::access::Principal;
use yutang_core::time::Millis;

use crate::auth::{ApiActor, ApiJson, ClientIp};
use crate::error::{ErrorBody, WebError, WebResult};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Session token: send as `Authorization: Bearer <token>`. Expires after the configured
    /// idle time without use.
    pub token: String,
    pub expires_at: String,
    pub staff_id: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    /// staff or token.
    pub kind: String,
    pub id: Option<i64>,
    pub name: String,
    pub role: String,
    pub store_id: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// Exchange a username and password for a session token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "wrong username or password", body = ErrorBody),
        (status = 429, description = "too many failed attempts; see Retry-After", body = ErrorBody)))]
pub async fn login(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: axum::http::HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> WebResult<Json<LoginResponse>> {
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let issued = s
        .app
        .auth()
        .login(&req.username, &req.password, &ip, ua)
        .await?;
    Ok(Json(LoginResponse {
        token: issued.token,
        expires_at: Millis(issued.expires_at).to_rfc3339(),
        staff_id: issued.staff_id.0,
    }))
}

/// End the session whose token authorises this request.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    parts: axum::http::HeaderMap,
) -> WebResult<impl IntoResponse> {
    let token = parts
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_owned())
        .ok_or_else(WebError::unauthenticated)?;
    let session = s
        .app
        .auth()
        .session(&token, &ip)
        .await
        .map_err(|_| WebError::unauthenticated())?;
    s.app.auth().logout(&session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who the bearer token belongs to.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = MeResponse), (status = 401, body = ErrorBody)))]
pub async fn me(ApiActor(a): ApiActor) -> Json<MeResponse> {
    let (kind, id) = match a.principal {
        Principal::Staff(id) => ("staff", Some(id.0)),
        Principal::Token(id) => ("token", Some(id.0)),
        Principal::System => ("system", None),
    };
    Json(MeResponse {
        kind: kind.into(),
        id,
        name: a.name.clone(),
        role: a.role.as_str().into(),
        store_id: a.store_id.map(|s| s.0),
    })
}

/// Change the signed-in staff member's own password; every session of the account ends.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn change_password(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> WebResult<StatusCode> {
    s.app
        .auth()
        .change_own_password(&a, &req.current_password, &req.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
