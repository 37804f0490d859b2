//! `/console/import`: upload a CSV or Excel file of customers or orders, map its columns,
//! dry-run it (every bad row listed, nothing written), then run it. Dry runs and runs work in
//! the background; the run page refreshes itself while busy and `/status` answers JSON for
//! scripts. Only roles that may manage customers (admin, operator) get here.

use askama::Template;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Json, Redirect, Response};
use serde_json::json;
use yutang_app::AppError;
use yutang_app::import::{ImportKind, ImportReport, ImportSummary, RowError};
use yutang_app::import_runs::{ImportRun, MAX_UPLOAD_BYTES};
use yutang_core::FieldError;

use super::layout::{ConsoleForm, check_csrf, csrf_failed, error_page};
use super::{Console, Ctx, Tr, render};
use crate::auth::IdPath;
use crate::state::AppState;

/// The body limit of the upload route: the file limit plus room for the other form fields and
/// the multipart framing. A larger body fails while it is read and gets the same clear error
/// as a file over the limit.
pub fn upload_body_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(MAX_UPLOAD_BYTES + 64 * 1024)
}

/// An error to show on an import page: translated when the code is known, else the use case's
/// own message (which names the column or the limit); opaque for server errors.
#[derive(Debug, Clone)]
pub struct PageError {
    pub message: String,
    /// The use case's own message when `message` is a translation (it names the column, the
    /// limit …); empty otherwise.
    pub detail: String,
    pub field: String,
}

pub(super) fn page_error(tr: Tr, e: AppError) -> (StatusCode, PageError) {
    let w = crate::error::WebError::from(e);
    let (message, detail) = if w.status.is_server_error() {
        (tr.error(w.code).to_owned(), String::new())
    } else {
        let m = tr.error_or(w.code, &w.message);
        let detail = if m == w.message {
            String::new()
        } else {
            w.message
        };
        (m, detail)
    };
    (
        w.status,
        PageError {
            message,
            detail,
            field: w.field.unwrap_or_default(),
        },
    )
}

/// How many bad rows the run page lists; all of them are in the CSV download.
const SHOWN_ERRORS: usize = 500;

#[derive(Template)]
#[template(path = "console/import.html")]
struct IndexPage {
    ctx: Ctx,
    runs: Vec<ImportRun>,
    kind: String,
    error: Option<PageError>,
    max_mib: usize,
    customer_fields: Vec<&'static str>,
    order_fields: Vec<&'static str>,
}

/// Labels of a run's kind and state in the console's language.
fn kind_label(tr: Tr, r: &ImportRun) -> &'static str {
    tr.t(&format!("import.kind.{}", r.kind.as_str()))
}

fn state_label(tr: Tr, r: &ImportRun) -> &'static str {
    tr.t(&format!("import.state.{}", r.state.as_str()))
}

impl IndexPage {
    fn kind_label(&self, r: &ImportRun) -> &'static str {
        kind_label(self.ctx.tr, r)
    }

    fn state_label(&self, r: &ImportRun) -> &'static str {
        state_label(self.ctx.tr, r)
    }
}

async fn index_page(
    s: &AppState,
    mut c: Console,
    status: StatusCode,
    kind: String,
    error: Option<PageError>,
) -> Response {
    c.ctx.active = "import";
    let runs = match s.app.imports().list_import_runs(&c.session.actor).await {
        Ok(r) => r,
        Err(e) => return error_page(c.ctx, e),
    };
    render(
        status,
        &IndexPage {
            ctx: c.ctx,
            runs,
            kind,
            error,
            max_mib: MAX_UPLOAD_BYTES / (1024 * 1024),
            customer_fields: ImportKind::Customers.fields(),
            order_fields: ImportKind::Orders.fields(),
        },
    )
}

pub async fn index(State(s): State<AppState>, c: Console) -> Response {
    index_page(&s, c, StatusCode::OK, "customers".into(), None).await
}

/// What the upload form sent.
#[derive(Default)]
struct Upload {
    csrf: String,
    kind: String,
    file_name: String,
    content: Vec<u8>,
}

/// Read the multipart form; `Err` is a field error to show (too large, unreadable).
async fn read_upload(mut m: Multipart) -> Result<Upload, FieldError> {
    let too_large = || {
        FieldError::new(
            "file",
            "file_too_large",
            format!(
                "the upload limit is {} MiB; use `yutang import` on the server for larger files",
                MAX_UPLOAD_BYTES / (1024 * 1024)
            ),
        )
    };
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            FieldError::new("file", "upload_failed", format!("the upload failed: {e}"))
        }
    };
    let mut u = Upload::default();
    while let Some(field) = m.next_field().await.map_err(unreadable)? {
        match field.name().unwrap_or_default() {
            "csrf" => u.csrf = field.text().await.map_err(unreadable)?,
            "kind" => u.kind = field.text().await.map_err(unreadable)?,
            "file" => {
                u.file_name = field.file_name().unwrap_or_default().to_owned();
                u.content = field.bytes().await.map_err(unreadable)?.to_vec();
            }
            _ => {}
        }
    }
    if u.content.len() > MAX_UPLOAD_BYTES {
        return Err(too_large());
    }
    Ok(u)
}

pub async fn upload(
    State(s): State<AppState>,
    c: Console,
    m: Result<Multipart, MultipartRejection>,
) -> Response {
    let tr = c.ctx.tr;
    let fail = |e: FieldError| {
        let (status, err) = page_error(tr, AppError::Invalid(e));
        (status, Some(err))
    };
    let m = match m {
        Ok(m) => m,
        Err(e) => {
            let (status, err) = fail(FieldError::new(
                "file",
                "upload_failed",
                format!("send the form as multipart/form-data: {e}"),
            ));
            return index_page(&s, c, status, "customers".into(), err).await;
        }
    };
    let u = match read_upload(m).await {
        Ok(u) => u,
        Err(e) => {
            // The CSRF token may be unread when the body broke off; nothing was stored.
            let status = if e.code == "file_too_large" {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let (_, err) = fail(e);
            return index_page(&s, c, status, "customers".into(), err).await;
        }
    };
    if !check_csrf(&c, &u.csrf) {
        return csrf_failed(c.ctx);
    }
    let kind = match ImportKind::parse("kind", &u.kind) {
        Ok(k) => k,
        Err(e) => {
            let (status, err) = fail(e);
            return index_page(&s, c, status, u.kind, err).await;
        }
    };
    match s
        .app
        .imports()
        .upload_import(&c.session.actor, kind, &u.file_name, &u.content)
        .await
    {
        Ok(run) => Redirect::to(&format!("/console/import/{}", run.id)).into_response(),
        Err(AppError::Forbidden) => error_page(c.ctx, AppError::Forbidden),
        Err(e) => {
            let (status, err) = page_error(tr, e);
            index_page(&s, c, status, u.kind, Some(err)).await
        }
    }
}

#[derive(Template)]
#[template(path = "console/import_run.html")]
struct RunPage {
    ctx: Ctx,
    run: ImportRun,
    /// `(index, header, chosen field)`.
    columns: Vec<(usize, String, String)>,
    fields: Vec<&'static str>,
    report: Option<ImportReport>,
    summary: ImportSummary,
    errors: Vec<RowError>,
    more_errors: usize,
    error: Option<PageError>,
}

impl RunPage {
    /// A bad row's reason in the console's language when the code is known, else the
    /// parser's own message.
    fn reason(&self, e: &RowError) -> String {
        self.ctx.tr.error_or(&e.code, &e.message)
    }

    /// A bad row's column: the field's label when it names one of the import's fields (the
    /// file's own header otherwise).
    fn column(&self, e: &RowError) -> String {
        super::labels::code_or_raw(self.ctx.tr, "import.field.", &e.column)
    }

    /// The parser's own words for a row, after the reason: on English pages only (they are
    /// English), and only when they say more than the reason.
    fn row_detail(&self, e: &RowError) -> Option<String> {
        let reason = self.reason(e);
        (self.ctx.lang == super::i18n::Lang::En && reason != e.message)
            .then(|| format!("{}: {}", e.code, e.message))
    }

    fn kind_label(&self, r: &ImportRun) -> &'static str {
        kind_label(self.ctx.tr, r)
    }

    fn state_label(&self, r: &ImportRun) -> &'static str {
        state_label(self.ctx.tr, r)
    }

    fn field_label(&self, field: &str) -> String {
        format!(
            "{} ({field})",
            self.ctx.tr.t(&format!("import.field.{field}"))
        )
    }
}

async fn run_page(
    s: &AppState,
    mut c: Console,
    id: i64,
    status: StatusCode,
    error: Option<PageError>,
) -> Response {
    c.ctx.active = "import";
    let run = match s.app.imports().import_run(&c.session.actor, id).await {
        Ok(r) => r,
        Err(e) => return error_page(c.ctx, e),
    };
    let columns = run
        .headers
        .iter()
        .enumerate()
        .map(|(i, h)| (i, h.clone(), run.field_of(h).to_owned()))
        .collect();
    let report = run.report.clone();
    let (summary, errors, more_errors) = match &report {
        Some(r) => (
            r.summary(),
            r.errors.iter().take(SHOWN_ERRORS).cloned().collect(),
            r.errors.len().saturating_sub(SHOWN_ERRORS),
        ),
        None => (ImportSummary::default(), Vec::new(), 0),
    };
    render(
        status,
        &RunPage {
            ctx: c.ctx,
            fields: run.kind.fields(),
            run,
            columns,
            report,
            summary,
            errors,
            more_errors,
            error,
        },
    )
}

pub async fn show(State(s): State<AppState>, c: Console, IdPath(id): IdPath) -> Response {
    run_page(&s, c, id, StatusCode::OK, None).await
}

/// Start a dry run (`/check`) or the real run (`/run`) with the mapping of the form: `csrf`
/// and `m0`, `m1`, … (the field of each header by position; `""` ignores the column).
async fn start(
    s: AppState,
    c: Console,
    id: i64,
    form: Vec<(String, String)>,
    dry: bool,
) -> Response {
    let a = &c.session.actor;
    let run = match s.app.imports().import_run(a, id).await {
        Ok(r) => r,
        Err(e) => return error_page(c.ctx, e),
    };
    let mapping = run
        .headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let key = format!("m{i}");
            let chosen = form
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.trim().to_owned());
            (
                h.clone(),
                chosen.unwrap_or_else(|| run.field_of(h).to_owned()),
            )
        })
        .collect();
    match s.app.imports().start_import(a, id, mapping, dry).await {
        Ok(_) => Redirect::to(&format!("/console/import/{id}")).into_response(),
        Err(AppError::Forbidden) => error_page(c.ctx, AppError::Forbidden),
        Err(e) => {
            let (status, err) = page_error(c.ctx.tr, e);
            run_page(&s, c, id, status, Some(err)).await
        }
    }
}

pub async fn start_check(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, f): ConsoleForm<Vec<(String, String)>>,
) -> Response {
    start(s, c, id, f, true).await
}

pub async fn start_run(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, f): ConsoleForm<Vec<(String, String)>>,
) -> Response {
    start(s, c, id, f, false).await
}

/// The run's state and progress as JSON, for polling.
pub async fn status(State(s): State<AppState>, c: Console, IdPath(id): IdPath) -> Response {
    match s.app.imports().import_run(&c.session.actor, id).await {
        Ok(r) => Json(json!({
            "id": r.id,
            "state": r.state,
            "progress_done": r.progress_done,
            "progress_total": r.progress_total,
            "percent": r.percent(),
            "rows": r.rows_total,
            "dry_run": r.report.as_ref().map(|x| x.dry_run),
            "summary": r.report.as_ref().map(ImportReport::summary),
            "error": r.error,
        }))
        .into_response(),
        Err(e) => crate::error::WebError::from(e).into_response(),
    }
}

/// `/console/import/templates/{customers,orders}.csv`: the CSV template of a kind (every
/// field's column and an example row), to fill in and upload.
pub async fn template(
    State(s): State<AppState>,
    c: Console,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Response {
    let kind = match file.as_str() {
        "customers.csv" => ImportKind::Customers,
        "orders.csv" => ImportKind::Orders,
        _ => return error_page(c.ctx, AppError::NotFound { what: "template" }),
    };
    match s.app.imports().import_template(&c.session.actor, kind) {
        Ok(csv) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"yutang-{}-template.csv\"",
                        kind.as_str()
                    ),
                ),
            ],
            csv,
        )
            .into_response(),
        Err(e) => error_page(c.ctx, e),
    }
}

/// Every bad row of the last dry run or run as CSV (UTF-8 with BOM so Excel reads it).
pub async fn errors_csv(State(s): State<AppState>, c: Console, IdPath(id): IdPath) -> Response {
    let run = match s.app.imports().import_run(&c.session.actor, id).await {
        Ok(r) => r,
        Err(e) => return error_page(c.ctx, e),
    };
    let mut w = csv_writer();
    w.push_str("row,column,code,message\n");
    for e in run.report.iter().flat_map(|r| r.errors.iter()) {
        w.push_str(&format!(
            "{},{},{},{}\n",
            e.row,
            csv_cell(&e.column),
            csv_cell(&e.code),
            csv_cell(&e.message)
        ));
    }
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"import-{id}-errors.csv\""),
            ),
        ],
        w,
    )
        .into_response()
}

fn csv_writer() -> String {
    "\u{feff}".to_owned()
}

/// One CSV cell, quoted when needed; a leading formula character is neutralised so a
/// spreadsheet never evaluates imported text.
pub(crate) fn csv_cell(s: &str) -> String {
    let s = yutang_core::export::spreadsheet_text(s).into_owned();
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_defused() {
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=1+1"), "'=1+1");
        assert_eq!(csv_cell("手机号"), "手机号");
    }
}
