//! The console audit log page.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::audit::AuditRow;
use yutang_app::audit::{Action, AuditQuery, Page};

use super::layout::{ConsoleForm, ConsoleQuery, Pager, error_page, nonempty, pager};
use super::{Console, Ctx, render};
use crate::state::AppState;

// ---------------------------------------------------------------- audit log

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    ctx: Ctx,
    rows: Vec<AuditRow>,
    actions: Vec<&'static str>,
    action: String,
    pager: Pager,
}

#[derive(Deserialize, Default)]
pub struct AuditListQuery {
    action: Option<String>,
    page: Option<i64>,
}

pub async fn audit(
    State(s): State<AppState>,
    mut c: Console,
    ConsoleQuery(q): ConsoleQuery<AuditListQuery>,
) -> Response {
    c.ctx.active = "audit";
    let page = match Page::parse(q.page, Some(50)) {
        Ok(p) => p,
        Err(e) => return error_page(c.ctx, AppError::Invalid(e)),
    };
    let action = nonempty(&q.action).and_then(Action::parse);
    match s
        .app
        .audit()
        .list_audit(
            &c.session.actor,
            &AuditQuery {
                action,
                actor_id: None,
                page,
            },
        )
        .await
    {
        Ok(p) => {
            let params = [("action", q.action.clone().unwrap_or_default())];
            let pager = pager("/console/audit", &params, p.page, p.page_size, p.total);
            render(
                StatusCode::OK,
                &AuditPage {
                    ctx: c.ctx,
                    rows: p.items,
                    actions: Action::ALL.iter().map(|a| a.as_str()).collect(),
                    action: q.action.unwrap_or_default(),
                    pager,
                },
            )
        }
        Err(e) => error_page(c.ctx, e),
    }
}

/// The export form: the page's filter (the CSRF token is checked by [`ConsoleForm`]).
#[derive(Deserialize)]
pub struct AuditExportForm {
    #[serde(default)]
    action: Option<String>,
}

/// `POST /console/audit/export`: every entry matching the page's filter as CSV in the page's
/// language (a POST: the export writes its own audit entry).
pub async fn export(
    State(s): State<AppState>,
    ConsoleForm(c, f): ConsoleForm<AuditExportForm>,
) -> Response {
    let q = AuditQuery {
        action: nonempty(&f.action).and_then(Action::parse),
        actor_id: None,
        page: Page::default(),
    };
    match s.app.audit().export_audit(&c.session.actor, &q).await {
        Ok(export) => crate::api::audit::csv_response(c.ctx.tr, export),
        Err(e) => error_page(c.ctx, e),
    }
}
