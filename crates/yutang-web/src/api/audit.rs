//! `/api/v1/audit`: the security audit log (admin only).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use yutang_app::AppError;
use yutang_app::audit::{Action, AuditQuery, Page};
use yutang_core::FieldError;

use super::dto::AuditPage;
use crate::auth::{ApiActor, ApiQuery};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// e.g. login, login_failed, token_created, token_revoked, role_changed.
    pub action: Option<String>,
    pub actor_id: Option<i64>,
    pub page: Option<i64>,
    pub page_size: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", security(("bearer" = [])),
    params(AuditParams),
    responses((status = 200, body = AuditPage), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> WebResult<Json<AuditPage>> {
    let action = match p.action.as_deref() {
        None | Some("") => None,
        Some(x) => Some(Action::parse(x).ok_or_else(|| {
            AppError::from(FieldError::new(
                "action",
                "invalid_action",
                format!("unknown action {x:?}"),
            ))
        })?),
    };
    let q = AuditQuery {
        action,
        actor_id: p.actor_id,
        page: Page::parse(p.page, p.page_size).map_err(AppError::from)?,
    };
    let r = s.app.audit().list_audit(&a, &q).await?;
    Ok(Json(AuditPage {
        items: r.items.into_iter().map(Into::into).collect(),
        total: r.total,
        page: r.page,
        page_size: r.page_size,
    }))
}
