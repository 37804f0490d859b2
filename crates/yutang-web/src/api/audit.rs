//! `/api/v1/audit`: the security audit log (admin only), and its audited CSV export.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use utoipa::IntoParams;
use yutang_app::AppError;
use yutang_app::audit::{Action, AuditExport, AuditQuery, AuditRow, Page};
use yutang_core::FieldError;
use yutang_core::time::Millis;

use super::dto::AuditPage;
use crate::auth::{ApiActor, ApiQuery};
use crate::console::import::csv_cell;
use crate::console::{Lang, Tr};
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
    let q = AuditQuery {
        action: parse_action(p.action.as_deref())?,
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

/// An action filter: empty or absent is every action; an unknown name is a 422.
fn parse_action(action: Option<&str>) -> Result<Option<Action>, AppError> {
    match action {
        None | Some("") => Ok(None),
        Some(x) => Action::parse(x).map(Some).ok_or_else(|| {
            AppError::from(FieldError::new(
                "action",
                "invalid_action",
                format!("unknown action {x:?}"),
            ))
        }),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditExportParams {
    /// Only this action (as in the list).
    pub action: Option<String>,
    pub actor_id: Option<i64>,
    /// The language of the header row and of the action names: zh (default) or en.
    pub lang: Option<String>,
}

/// Every entry matching the filter as CSV (UTF-8 with a BOM for Excel; times in
/// Asia/Shanghai; header and action names in `lang`). The export is itself audited
/// (`audit_exported`, with the filter and the row count).
#[utoipa::path(get, path = "/api/v1/audit/export", tag = "audit", security(("bearer" = [])),
    params(AuditExportParams),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn export(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<AuditExportParams>,
) -> WebResult<Response> {
    let lang = parse_lang(p.lang.as_deref())?;
    let q = AuditQuery {
        action: parse_action(p.action.as_deref())?,
        actor_id: p.actor_id,
        page: Page::default(),
    };
    let export = s.app.audit().export_audit(&a, &q).await?;
    Ok(csv_response(Tr { lang }, export))
}

/// A CSV export's `lang` parameter: zh (the default) or en.
pub fn parse_lang(lang: Option<&str>) -> Result<Lang, AppError> {
    match lang {
        None | Some("") => Ok(Lang::Zh),
        Some(x) => Lang::parse(x).ok_or_else(|| {
            AppError::from(FieldError::new(
                "lang",
                "invalid_lang",
                format!("unknown language {x:?}; use zh or en"),
            ))
        }),
    }
}

/// An audit-log export as a streamed CSV download: a BOM and the header row in the reader's
/// language, then the entries 1,000 at a time (time in Asia/Shanghai, the action's name
/// translated, free text defused). A database error mid-way ends the body early (a truncated
/// download, never a short file that looks complete) and is logged.
pub fn csv_response(tr: Tr, export: AuditExport) -> Response {
    let header = [
        "audit.at",
        "audit.actor",
        "audit.action",
        "audit.target",
        "audit.detail",
        "audit.ip",
    ]
    .map(|k| tr.t(k))
    .join(",");
    super::segments::streamed_csv(
        "audit-log.csv",
        "audit export",
        Bytes::from(format!("\u{feff}{header}\r\n")),
        export,
        move |mut e| async move {
            Ok(e.next_chunk()
                .await?
                .map(|rows| (Bytes::from(csv_lines(tr, &rows)), e)))
        },
    )
}

/// CSV lines of audit entries.
fn csv_lines(tr: Tr, rows: &[AuditRow]) -> String {
    let mut out = String::new();
    for r in rows {
        let cells = [
            Millis(r.at).to_shanghai_string(),
            csv_cell(&r.actor_name),
            csv_cell(&tr.action(&r.action)),
            csv_cell(&r.target),
            csv_cell(&r.detail),
            csv_cell(&r.ip),
        ];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}
