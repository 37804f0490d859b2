//! Console pages for segments: saved segments with live counts, the builder (a visual editor
//! that writes the expression, over a plain text box that works without script), members
//! and the audited CSV export.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use yutang_app::AppError;
use yutang_app::customers::CustomerRow;
use yutang_app::segments::SavedSegment;

use super::confirm::{Confirm, confirm_page};
use super::i18n::Lang;
use super::layout::{ConsoleForm, ConsoleQuery, CsrfForm, Pager, error_page, pager};
use super::{Console, Ctx, render};
use crate::api::segments::BuilderRowsOut;
use crate::auth::IdPath;
use crate::error::WebError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "console/segments_list.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<SavedSegment>,
}

impl ListPage {
    /// Why a saved segment cannot be counted now: from the one list of error codes on Chinese
    /// pages, the parser's own (English) words on English ones.
    fn error_text(&self, s: &SavedSegment) -> String {
        match (self.ctx.lang, s.error_code) {
            (Lang::Zh, Some(code)) => self.ctx.tr.error(code).to_owned(),
            _ => s.error.clone().unwrap_or_default(),
        }
    }
}

fn can_save(c: &Console) -> bool {
    use yutang_core::staff::Permission;
    let a = &c.session.actor;
    a.can(Permission::ManageCustomers)
}

pub async fn list(State(s): State<AppState>, mut c: Console) -> Response {
    c.ctx.active = "segments";
    match s.app.segments().list_segments(&c.session.actor).await {
        Ok(rows) => render(StatusCode::OK, &ListPage { ctx: c.ctx, rows }),
        Err(e) => error_page(c.ctx, e),
    }
}

/// The outcome of counting an expression, for the page and for the builder's script.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Evaluated {
    pub count: Option<u64>,
    pub canonical: String,
    pub error: Option<String>,
    pub line: u32,
    pub column: u32,
}

async fn evaluate(s: &AppState, c: &Console, expr: &str) -> Result<Evaluated, AppError> {
    if expr.trim().is_empty() {
        return Ok(Evaluated::default());
    }
    match s.app.segments().segment_count(&c.session.actor, expr).await {
        Ok(n) => Ok(Evaluated {
            count: Some(n.count),
            canonical: n.canonical,
            ..Evaluated::default()
        }),
        Err(AppError::Segment(e)) => {
            let loc = e
                .location
                .unwrap_or(yutang_core::segments::Location { line: 1, column: 1 });
            // Chinese pages name the error from the one list of error codes (and quote what
            // was found); the parser's own words are English.
            let message = match c.ctx.lang {
                Lang::Zh if e.found.is_empty() => c.ctx.tr.error(e.kind.code()).to_owned(),
                Lang::Zh => format!("{}：“{}”", c.ctx.tr.error(e.kind.code()), e.found),
                Lang::En => e.message.clone(),
            };
            Ok(Evaluated {
                error: Some(message),
                line: loc.line,
                column: loc.column,
                ..Evaluated::default()
            })
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "console/segment_edit.html")]
struct EditPage {
    ctx: Ctx,
    id: Option<i64>,
    name: String,
    expression: String,
    result: Evaluated,
    can_save: bool,
    save_error: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub struct EditQuery {
    expression: Option<String>,
    name: Option<String>,
}

async fn edit_page(
    s: &AppState,
    mut c: Console,
    id: Option<i64>,
    name: String,
    expression: String,
    status: StatusCode,
    save_error: Option<&'static str>,
) -> Response {
    c.ctx.active = "segments";
    let result = match evaluate(s, &c, &expression).await {
        Ok(r) => r,
        Err(e) => return error_page(c.ctx, e),
    };
    let can_save = can_save(&c);
    render(
        status,
        &EditPage {
            ctx: c.ctx,
            id,
            name,
            expression,
            result,
            can_save,
            save_error,
        },
    )
}

/// The builder for a new segment; `?expression=` counts it (works without script).
pub async fn new(
    State(s): State<AppState>,
    c: Console,
    ConsoleQuery(q): ConsoleQuery<EditQuery>,
) -> Response {
    edit_page(
        &s,
        c,
        None,
        q.name.unwrap_or_default(),
        q.expression.unwrap_or_default(),
        StatusCode::OK,
        None,
    )
    .await
}

pub async fn edit(
    State(s): State<AppState>,
    c: Console,
    IdPath(id): IdPath,
    ConsoleQuery(q): ConsoleQuery<EditQuery>,
) -> Response {
    let row = match s.app.segments().get_segment(&c.session.actor, id).await {
        Ok(r) => r,
        Err(e) => return error_page(c.ctx, e),
    };
    let expression = q.expression.unwrap_or(row.expression);
    edit_page(
        &s,
        c,
        Some(id),
        q.name.unwrap_or(row.name),
        expression,
        StatusCode::OK,
        None,
    )
    .await
}

#[derive(Deserialize)]
pub struct SaveForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    expression: String,
}

pub async fn create(
    State(s): State<AppState>,
    ConsoleForm(c, f): ConsoleForm<SaveForm>,
) -> Response {
    match s
        .app
        .segments()
        .create_segment(&c.session.actor, &f.name, &f.expression)
        .await
    {
        Ok(id) => Redirect::to(&format!("/console/segments/{id}?ok=created")).into_response(),
        Err(e) => {
            let w = WebError::from(e);
            let msg = c.ctx.tr.error(w.code);
            edit_page(&s, c, None, f.name, f.expression, w.status, Some(msg)).await
        }
    }
}

pub async fn update(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, f): ConsoleForm<SaveForm>,
) -> Response {
    match s
        .app
        .segments()
        .update_segment(&c.session.actor, id, &f.name, &f.expression)
        .await
    {
        Ok(()) => Redirect::to(&format!("/console/segments/{id}?ok=saved")).into_response(),
        Err(e) => {
            let w = WebError::from(e);
            let msg = c.ctx.tr.error(w.code);
            edit_page(&s, c, Some(id), f.name, f.expression, w.status, Some(msg)).await
        }
    }
}

pub async fn delete(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s.app.segments().delete_segment(&c.session.actor, id).await {
        Ok(()) => Redirect::to("/console/segments?ok=deleted").into_response(),
        Err(e) => error_page(c.ctx, e),
    }
}

/// Confirm deleting a saved segment.
pub async fn delete_confirm(State(s): State<AppState>, IdPath(id): IdPath, c: Console) -> Response {
    let seg = match s.app.segments().get_segment(&c.session.actor, id).await {
        Ok(r) => r,
        Err(e) => return error_page(c.ctx, e),
    };
    let tr = c.ctx.tr;
    let confirm = Confirm {
        subject: tr.fill("confirm.segment", &[("name", &seg.name)]),
        impact: vec![tr.t("confirm.segment_effect").to_owned()],
        outcome: "delete",
        action: format!("/console/segments/{id}/delete"),
        back: "/console/segments",
    };
    confirm_page(c.ctx, "segments", confirm)
}

#[derive(Deserialize)]
pub struct CountQuery {
    #[serde(default)]
    expression: String,
}

/// The builder's live count (read-only, so a GET with the session cookie).
pub async fn count_json(
    State(s): State<AppState>,
    c: Console,
    ConsoleQuery(q): ConsoleQuery<CountQuery>,
) -> Response {
    match evaluate(&s, &c, &q.expression).await {
        Ok(r) => Json(r).into_response(),
        Err(e) => WebError::from(e).into_response(),
    }
}

/// The text box read back into the builder's rows, by the server's parser (so the console
/// and the API agree): `fits` with the rows, or the reason they cannot show it — `nested`,
/// `unsupported`, or `invalid` when the expression does not compile (its error is the live
/// count's).
pub async fn rows_json(
    State(s): State<AppState>,
    c: Console,
    ConsoleQuery(q): ConsoleQuery<CountQuery>,
) -> Response {
    // Control characters never get here: the console's query check refuses them first.
    match s
        .app
        .segments()
        .builder_rows(&c.session.actor, &q.expression)
        .await
    {
        Ok(r) => Json(BuilderRowsOut::from(r)).into_response(),
        Err(AppError::Segment(_)) => Json(BuilderRowsOut {
            fits: false,
            join: None,
            rows: Vec::new(),
            misfit: Some("invalid".to_owned()),
        })
        .into_response(),
        Err(e) => WebError::from(e).into_response(),
    }
}

/// Attributes and tags for the builder's pickers.
pub async fn schema_json(State(s): State<AppState>, c: Console) -> Response {
    match s.app.segments().segment_schema(&c.session.actor).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => WebError::from(e).into_response(),
    }
}

/// The builder's script, served from here (the console loads nothing from elsewhere).
pub async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../assets/segments.js"),
    )
        .into_response()
}

/// The forms' script (type-dependent fields, the segment picker's filter).
pub async fn forms_script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../assets/forms.js"),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "console/segment_members.html")]
struct MembersPage {
    ctx: Ctx,
    id: i64,
    name: String,
    expression: String,
    rows: Vec<CustomerRow>,
    pager: Pager,
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    page: Option<i64>,
}

pub async fn members(
    State(s): State<AppState>,
    mut c: Console,
    IdPath(id): IdPath,
    ConsoleQuery(q): ConsoleQuery<PageQuery>,
) -> Response {
    c.ctx.active = "segments";
    let a = &c.session.actor;
    let row = match s.app.segments().get_segment(a, id).await {
        Ok(r) => r,
        Err(e) => return error_page(c.ctx, e),
    };
    let page = q.page.unwrap_or(1).max(1);
    let size = 20;
    let p = match s
        .app
        .segments()
        .segment_page(a, &row.expression, ((page - 1) * size) as u64, size as u64)
        .await
    {
        Ok(p) => p,
        Err(e) => return error_page(c.ctx, e),
    };
    let rows = match s.app.segments().customers_by_ids(a, &p.customer_ids).await {
        Ok(r) => r,
        Err(e) => return error_page(c.ctx, e),
    };
    let pager = pager(
        &format!("/console/segments/{id}/members"),
        &[],
        page,
        size,
        p.total as i64,
    );
    render(
        StatusCode::OK,
        &MembersPage {
            ctx: c.ctx,
            id,
            name: row.name,
            expression: row.expression,
            rows,
            pager,
        },
    )
}

/// The audited CSV export of a saved segment (a POST: it writes to the audit log).
pub async fn export(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    let a = &c.session.actor;
    let row = match s.app.segments().get_segment(a, id).await {
        Ok(r) => r,
        Err(e) => return error_page(c.ctx, e),
    };
    match s.app.segments().export_segment(a, &row.expression).await {
        Ok(export) => crate::api::segments::csv_response(export),
        Err(e) => error_page(c.ctx, e),
    }
}
