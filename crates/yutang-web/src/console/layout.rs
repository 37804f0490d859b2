//! What every console page shares: form and page errors, CSRF checks, redirects, pagers.

use askama::Template;
use axum::Form;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use yutang_app::AppError;
use yutang_core::FieldError;

use super::{Console, Ctx, Tr, render};
use crate::auth::same_secret;
use crate::error::WebError;
use crate::state::AppState;

// ---------------------------------------------------------------- shared bits

/// A form error to show: the message (translated) and the field to highlight.
#[derive(Debug, Clone)]
pub struct FormError {
    pub message: &'static str,
    pub field: String,
}

/// The message of a form's refusal when it is about `field` (shown under that input).
pub(super) fn error_for(error: &Option<FormError>, field: &str) -> Option<&'static str> {
    error
        .as_ref()
        .filter(|e| e.field == field)
        .map(|e| e.message)
}

pub(super) fn form_error(tr: Tr, e: AppError) -> (StatusCode, FormError) {
    let w = WebError::from(e);
    (
        w.status,
        FormError {
            message: tr.error(w.code),
            field: w.field.unwrap_or_default(),
        },
    )
}

pub(super) fn field_error(tr: Tr, e: FieldError) -> (StatusCode, FormError) {
    form_error(tr, AppError::Invalid(e))
}

/// Whole-page error (forbidden, not found, expired form).
#[derive(Template)]
#[template(path = "console/error.html")]
pub(super) struct ErrorPage {
    pub(super) ctx: Ctx,
    pub(super) message: &'static str,
}

pub(super) fn error_page(mut ctx: Ctx, e: AppError) -> Response {
    let w = WebError::from(e);
    ctx.active = "";
    let message = ctx.tr.error(w.code);
    render(w.status, &ErrorPage { ctx, message })
}

pub(super) fn csrf_failed(ctx: Ctx) -> Response {
    let message = ctx.tr.t("err.csrf");
    render(StatusCode::FORBIDDEN, &ErrorPage { ctx, message })
}

pub(super) fn check_csrf(c: &Console, got: &str) -> bool {
    same_secret(&c.session.csrf_token, got)
}

/// A console form post: the signed-in page context and the parsed form, whose `csrf` field
/// has been checked against the session. Every urlencoded console form takes this, so a new
/// page cannot forget the check. (Multipart and hand-parsed forms call [`check_csrf`].)
///
/// In order: no session → the sign-in redirect; a wrong or missing token → 403 with the
/// expired-form page (before the form is even parsed); a body that is not the form → axum's
/// own form rejection.
pub struct ConsoleForm<T>(pub Console, pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ConsoleForm<T> {
    type Rejection = Response;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let console = Console::from_request_parts(&mut parts, state).await?;
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let token = url::form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        if !check_csrf(&console, &token) {
            return Err(csrf_failed(console.ctx));
        }
        let Form(form) =
            Form::<T>::from_request(Request::from_parts(parts, Body::from(bytes)), state)
                .await
                .map_err(IntoResponse::into_response)?;
        Ok(ConsoleForm(console, form))
    }
}

/// A console form post that may carry one image file (the promotion forms' 商品图片): like
/// [`ConsoleForm`] — signed in, `csrf` checked against the session before anything else is
/// used — sent either urlencoded (no file: a form without a file input, or a client that
/// sends none) or as `multipart/form-data`, whose text parts are the same form's fields and
/// whose part named `image`, when a file was chosen, is the file's bytes.
///
/// The route turns axum's general body limit off (`DefaultBodyLimit::disable()`) and this
/// reads the body itself up to `limits.max_image_bytes` plus 64 KiB for the other fields, so
/// the limit follows the setting. Over it: the error page with `image_too_large` (413).
/// Multipart text parts get the control-character check `refuse_control_text` gives
/// urlencoded forms.
pub struct ConsoleUpload<T>(pub Console, pub T, pub Option<Bytes>);

impl<T: DeserializeOwned> FromRequest<AppState> for ConsoleUpload<T> {
    type Rejection = Response;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let limit = state.app.settings.limits.max_image_bytes + 64 * 1024;
        let (console, pairs, files) = read_upload(req, state, limit).await?;
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        let form = serde_urlencoded::from_str::<T>(&encoded).map_err(|e| {
            crate::plain_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("the form is invalid: {e}"),
            )
        })?;
        let file = files
            .into_iter()
            .filter(|(name, _)| name == "image")
            .map(|(_, b)| b)
            .next_back();
        Ok(ConsoleUpload(console, form, file))
    }
}

/// A console form post that may carry up to `N` image files (the moments composer's 图片 and
/// 封面): [`ConsoleUpload`]'s checks and limits (signed in, `csrf` checked before anything is
/// used, urlencoded or `multipart/form-data`, the body read up to `N` images plus 64 KiB for
/// the other fields), handing over the form's fields as typed (a name may repeat) and every
/// chosen file as `(the file input's name, bytes)`, in order. Each file is checked as an
/// image when it is stored (`app.media().upload_image`).
pub struct ConsoleFiles<const N: usize>(
    pub Console,
    pub Vec<(String, String)>,
    pub Vec<(String, Bytes)>,
);

impl<const N: usize> FromRequest<AppState> for ConsoleFiles<N> {
    type Rejection = Response;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let max = state.app.settings.limits.max_image_bytes;
        let limit = max.saturating_mul(N.max(1)).saturating_add(64 * 1024);
        let (console, pairs, files) = read_upload(req, state, limit).await?;
        Ok(ConsoleFiles(console, pairs, files))
    }
}

/// The body of a console form that may carry files, read up to `limit` bytes: the session,
/// the text fields, and the chosen (non-empty) files by their input's name. The CSRF token
/// is checked before the caller sees any of it.
async fn read_upload(
    req: Request,
    state: &AppState,
    limit: usize,
) -> Result<(Console, Vec<(String, String)>, Vec<(String, Bytes)>), Response> {
    let (mut parts, body) = req.into_parts();
    let console = Console::from_request_parts(&mut parts, state).await?;
    let bytes = match crate::api::media::read_limited(body, limit).await {
        Ok(b) => b,
        Err(w) => {
            let message = console.ctx.tr.error(w.code);
            return Err(render(
                w.status,
                &ErrorPage {
                    ctx: console.ctx,
                    message,
                },
            ));
        }
    };
    let multipart = parts
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    let (pairs, files) = if multipart {
        let req = Request::from_parts(parts, Body::from(bytes));
        let mut m = axum::extract::Multipart::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut files = Vec::new();
        let bad = |e: axum::extract::multipart::MultipartError| {
            crate::plain_error(StatusCode::BAD_REQUEST, &format!("the form is broken: {e}"))
        };
        while let Some(field) = m.next_field().await.map_err(bad)? {
            let name = field.name().unwrap_or_default().to_owned();
            if field.file_name().is_some() {
                let b = field.bytes().await.map_err(bad)?;
                if !b.is_empty() {
                    files.push((name, b));
                }
                continue;
            }
            let text = field.text().await.map_err(bad)?;
            if crate::auth::has_refused_control(&name) || crate::auth::has_refused_control(&text) {
                return Err(crate::plain_error(
                    StatusCode::BAD_REQUEST,
                    &format!("`{name}` must not contain control characters"),
                ));
            }
            pairs.push((name, text));
        }
        (pairs, files)
    } else {
        let pairs = url::form_urlencoded::parse(&bytes).into_owned().collect();
        (pairs, Vec::new())
    };
    let token = pairs
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    if !check_csrf(&console, token) {
        return Err(csrf_failed(console.ctx));
    }
    Ok((console, pairs, files))
}

/// A console page's query string, parsed. One that does not parse (`?page=abc`) gets the
/// console's error page in the reader's language (422 `invalid_query`), not axum's plain-text
/// rejection; without a session, the sign-in redirect comes first as on every page.
pub struct ConsoleQuery<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for ConsoleQuery<T> {
    type Rejection = Response;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Response> {
        if let Ok(axum::extract::Query(q)) = axum::extract::Query::<T>::try_from_uri(&parts.uri) {
            return Ok(ConsoleQuery(q));
        }
        let console = Console::from_request_parts(parts, state).await?;
        Err(error_page(
            console.ctx,
            AppError::Invalid(FieldError::new(
                "query",
                "invalid_query",
                "the page's address has an invalid parameter",
            )),
        ))
    }
}

pub(super) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Parse an optional integer form field ("" = none).
pub(super) fn opt_id(field: &'static str, s: &str) -> Result<Option<i64>, FieldError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<i64>()
        .map(Some)
        .map_err(|_| FieldError::new(field, "invalid_form", format!("{field} must be a number")))
}

/// [`opt_id`] of a form field that may be absent.
pub(super) fn opt_field_id(
    field: &'static str,
    v: &Option<String>,
) -> Result<Option<i64>, FieldError> {
    match v {
        Some(s) => opt_id(field, s),
        None => Ok(None),
    }
}

pub(super) fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Links to the neighbouring pages, keeping the other query parameters.
#[derive(Debug, Clone, Default)]
pub struct Pager {
    pub page: i64,
    pub pages: i64,
    pub total: i64,
    /// `total` is a lower bound (a count stopped at its cap): shown with a "+".
    pub more: bool,
    pub prev: Option<String>,
    pub next: Option<String>,
}

pub(super) fn pager(
    base: &str,
    params: &[(&str, String)],
    page: i64,
    size: i64,
    total: i64,
) -> Pager {
    pager_keyed(base, params, "page", page, size, total)
}

/// [`pager`] for a page with several paged tables: each table's page is the parameter `key`.
/// `base` with the non-empty `params`, then `extra`, as its query string.
pub(super) fn link(base: &str, params: &[(&str, String)], extra: &[(&str, String)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params.iter().chain(extra) {
        if !v.is_empty() {
            ser.append_pair(k, v);
        }
    }
    format!("{base}?{}", ser.finish())
}

pub(super) fn pager_keyed(
    base: &str,
    params: &[(&str, String)],
    key: &str,
    page: i64,
    size: i64,
    total: i64,
) -> Pager {
    let pages = ((total + size - 1) / size).max(1);
    let href = |p: i64| link(base, params, &[(key, p.to_string())]);
    Pager {
        page,
        pages,
        total,
        more: false,
        prev: (page > 1).then(|| href(page - 1)),
        next: (page < pages).then(|| href(page + 1)),
    }
}

/// A form with nothing but its CSRF token (sign out, revoke, delete, reveal): the token is
/// checked by [`ConsoleForm`], so there is no field to read.
#[derive(Deserialize)]
pub struct CsrfForm {}

/// Form fields as the console's form readers take them (the unit tests' shorthand).
#[cfg(test)]
pub(crate) fn form_pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}
