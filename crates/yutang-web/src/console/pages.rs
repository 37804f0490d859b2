//! Console page handlers. Thin: parse the form, call one use case, render or redirect.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::audit::{Action, AuditQuery, Page};
use yutang_app::org::{StoreInput, StoreQuery};
use yutang_app::staff::{NewStaffInput, StaffPatch, StaffQuery};
use yutang_app::tokens::NewTokenInput;
use yutang_core::FieldError;
use yutang_core::ids::{RegionId, StaffId, StoreId, TokenId};
use yutang_core::staff::{DisplayName, Role, StaffStatus};
use yutang_store::audit::AuditRow;
use yutang_store::org::{RegionRow, StoreRow};
use yutang_store::staff::StaffRow;
use yutang_store::tokens::TokenRow;

use super::{Console, Ctx, Lang, Tr, lang_of, render};
use crate::auth::{ClientIp, IdPath, LANG_COOKIE, LOGIN_CSRF_COOKIE, SESSION_COOKIE, same_secret};
use crate::error::WebError;
use crate::state::AppState;

// ---------------------------------------------------------------- shared bits

/// A form error to show: the message (translated) and the field to highlight.
#[derive(Debug, Clone)]
pub struct FormError {
    pub message: &'static str,
    pub field: String,
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

fn field_error(tr: Tr, e: FieldError) -> (StatusCode, FormError) {
    form_error(tr, AppError::Invalid(e))
}

/// Whole-page error (forbidden, not found, expired form).
#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage {
    ctx: Ctx,
    message: &'static str,
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

fn see_other(to: &str) -> Response {
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

pub(super) fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Links to the neighbouring pages, keeping the other query parameters.
#[derive(Debug, Clone, Default)]
pub struct Pager {
    pub page: i64,
    pub pages: i64,
    pub total: i64,
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
    let pages = ((total + size - 1) / size).max(1);
    let href = |p: i64| {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            if !v.is_empty() {
                ser.append_pair(k, v);
            }
        }
        ser.append_pair("page", &p.to_string());
        format!("{base}?{}", ser.finish())
    };
    Pager {
        page,
        pages,
        total,
        prev: (page > 1).then(|| href(page - 1)),
        next: (page < pages).then(|| href(page + 1)),
    }
}

// ---------------------------------------------------------------- login / logout / language

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    tr: Tr,
    lang: Lang,
    csrf: String,
    next: String,
    username: String,
    error: Option<&'static str>,
    notice: Option<&'static str>,
    lang_href: String,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    ok: Option<String>,
}

fn safe_next(next: Option<&str>) -> String {
    match next {
        // Only local console paths: never `//evil.example` or an absolute URL.
        Some(n) if n.starts_with("/console") && !n.starts_with("//") && !n.contains("\\") => {
            n.to_owned()
        }
        _ => "/console".to_owned(),
    }
}

fn login_cookie_header(value: &str, secure: bool) -> HeaderValue {
    let c = cookie::Cookie::build((LOGIN_CSRF_COOKIE, value.to_owned()))
        .path("/console/login")
        .http_only(true)
        .secure(secure)
        .same_site(cookie::SameSite::Strict)
        .build();
    HeaderValue::from_str(&c.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn render_login(
    s: &AppState,
    lang: Lang,
    next: String,
    username: String,
    status: StatusCode,
    error: Option<&'static str>,
    notice: Option<&'static str>,
) -> Response {
    let csrf = yutang_app::auth::random_secret("");
    let here = format!(
        "/console/login?next={}",
        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
    );
    let other = if lang == Lang::Zh { "en" } else { "zh" };
    let page = LoginPage {
        tr: Tr { lang },
        lang,
        csrf: csrf.clone(),
        next,
        username,
        error,
        notice,
        lang_href: format!(
            "/console/lang?to={other}&back={}",
            url::form_urlencoded::byte_serialize(here.as_bytes()).collect::<String>()
        ),
    };
    let mut res = render(status, &page);
    res.headers_mut().append(
        header::SET_COOKIE,
        login_cookie_header(&csrf, s.app.settings.auth.cookie_secure),
    );
    res
}

pub async fn login_page(State(s): State<AppState>, req: axum::extract::Request) -> Response {
    let (parts, _) = req.into_parts();
    let lang = lang_of(&parts, &s);
    if let Some(token) = crate::auth::cookie(&parts, SESSION_COOKIE)
        && s.app.session(&token, "").await.is_ok()
    {
        return see_other("/console");
    }
    let q: LoginQuery = Query::try_from_uri(&parts.uri)
        .map(|q| q.0)
        .unwrap_or(LoginQuery {
            next: None,
            ok: None,
        });
    let notice = match q.ok.as_deref() {
        Some("password_changed") => Some(Tr { lang }.t("account.password_changed")),
        _ => None,
    };
    render_login(
        &s,
        lang,
        safe_next(q.next.as_deref()),
        String::new(),
        StatusCode::OK,
        None,
        notice,
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

pub async fn login_submit(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    req: axum::extract::Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let lang = lang_of(&parts, &s);
    let tr = Tr { lang };
    let bytes = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(b) => b,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response(),
    };
    let form: LoginForm = match serde_urlencoded_parse(&bytes) {
        Some(f) => f,
        None => {
            return render_login(
                &s,
                lang,
                "/console".into(),
                String::new(),
                StatusCode::BAD_REQUEST,
                Some(tr.t("err.invalid_form")),
                None,
            );
        }
    };
    let next = safe_next(Some(&form.next));
    let cookie_token = crate::auth::cookie(&parts, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if cookie_token.is_empty() || !same_secret(&cookie_token, &form.csrf) {
        return render_login(
            &s,
            lang,
            next,
            form.username,
            StatusCode::FORBIDDEN,
            Some(tr.t("err.csrf")),
            None,
        );
    }
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match s.app.login(&form.username, &form.password, &ip, ua).await {
        Ok(issued) => {
            let max_age = (issued.expires_at - s.app.now()) / 1000;
            let c = cookie::Cookie::build((SESSION_COOKIE, issued.token))
                .path("/")
                .http_only(true)
                .secure(s.app.settings.auth.cookie_secure)
                .same_site(cookie::SameSite::Lax)
                .max_age(cookie::time::Duration::seconds(max_age))
                .build();
            let mut res = see_other(&next);
            if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        Err(e) => {
            let w = WebError::from(e);
            let mut res = render_login(
                &s,
                lang,
                next,
                form.username,
                w.status,
                Some(tr.error(w.code)),
                None,
            );
            if let Some(secs) = w.retry_after
                && let Ok(v) = HeaderValue::from_str(&secs.to_string())
            {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
    }
}

fn serde_urlencoded_parse<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("/?{}", std::str::from_utf8(bytes).ok()?)
            .parse()
            .ok()?,
    )
    .ok()
    .map(|q| q.0)
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

fn clear_session_cookie(secure: bool) -> HeaderValue {
    let c = cookie::Cookie::build((SESSION_COOKIE, ""))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(cookie::SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(0))
        .build();
    HeaderValue::from_str(&c.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub async fn logout(State(s): State<AppState>, c: Console, Form(f): Form<CsrfForm>) -> Response {
    if !check_csrf(&c, &f.csrf) {
        return csrf_failed(c.ctx);
    }
    if let Err(e) = s.app.logout(&c.session).await {
        return error_page(c.ctx, e);
    }
    let mut res = see_other("/console/login");
    res.headers_mut().append(
        header::SET_COOKIE,
        clear_session_cookie(s.app.settings.auth.cookie_secure),
    );
    res
}

#[derive(Deserialize)]
pub struct LangQuery {
    to: String,
    back: Option<String>,
}

/// Switch the console language (a preference cookie; changes no data, so a GET is fine).
pub async fn switch_lang(State(s): State<AppState>, Query(q): Query<LangQuery>) -> Response {
    let lang = Lang::parse(&q.to).unwrap_or(Lang::Zh);
    let back = match q.back.as_deref() {
        Some(b) if b.starts_with("/console") && !b.starts_with("//") => b.to_owned(),
        _ => "/console".to_owned(),
    };
    let c = cookie::Cookie::build((LANG_COOKIE, lang.code()))
        .path("/")
        .secure(s.app.settings.auth.cookie_secure)
        .same_site(cookie::SameSite::Lax)
        .max_age(cookie::time::Duration::days(365))
        .build();
    let mut res = see_other(&back);
    if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

// ---------------------------------------------------------------- overview

#[derive(Template)]
#[template(path = "console/home.html")]
struct HomePage {
    ctx: Ctx,
    store_name: Option<String>,
    regions: usize,
    stores: i64,
    staff: i64,
}

pub async fn home(State(s): State<AppState>, mut c: Console) -> Response {
    c.ctx.active = "home";
    let a = &c.session.actor;
    let one = Page { number: 1, size: 1 };
    let regions = s.app.list_regions(a).await;
    let stores = s
        .app
        .list_stores(
            a,
            &StoreQuery {
                page: one,
                ..Default::default()
            },
        )
        .await;
    let staff = s
        .app
        .list_staff(
            a,
            &StaffQuery {
                page: one,
                ..Default::default()
            },
        )
        .await;
    let store_name = match a.store_id {
        Some(id) => s.app.get_store(a, id).await.ok().map(|s| s.name),
        None => None,
    };
    match (regions, stores, staff) {
        (Ok(r), Ok(st), Ok(sf)) => render(
            StatusCode::OK,
            &HomePage {
                ctx: c.ctx,
                store_name,
                regions: r.len(),
                stores: st.total,
                staff: sf.total,
            },
        ),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => error_page(c.ctx, e),
    }
}

// ---------------------------------------------------------------- staff

#[derive(Template)]
#[template(path = "console/staff_list.html")]
struct StaffListPage {
    ctx: Ctx,
    rows: Vec<StaffRow>,
    stores: Vec<StoreRow>,
    roles: Vec<&'static str>,
    q: String,
    role: String,
    store_id: String,
    status: String,
    pager: Pager,
}

#[derive(Deserialize, Default)]
pub struct StaffListQuery {
    q: Option<String>,
    role: Option<String>,
    store_id: Option<String>,
    status: Option<String>,
    page: Option<i64>,
}

/// Stores the caller may pick from in forms and filters (first 200; larger brands search).
async fn visible_stores(s: &AppState, c: &Console) -> Vec<StoreRow> {
    s.app
        .list_stores(
            &c.session.actor,
            &StoreQuery {
                page: Page {
                    number: 1,
                    size: 200,
                },
                ..Default::default()
            },
        )
        .await
        .map(|p| p.items)
        .unwrap_or_default()
}

pub async fn staff_list(
    State(s): State<AppState>,
    mut c: Console,
    Query(q): Query<StaffListQuery>,
) -> Response {
    c.ctx.active = "staff";
    let tr = c.ctx.tr;
    let parsed = (|| -> Result<StaffQuery, FieldError> {
        Ok(StaffQuery {
            store_id: opt_id("store_id", q.store_id.as_deref().unwrap_or(""))?.map(StoreId),
            role: nonempty(&q.role)
                .map(|r| Role::parse("role", r))
                .transpose()?,
            status: nonempty(&q.status)
                .map(|r| StaffStatus::parse("status", r))
                .transpose()?,
            q: nonempty(&q.q).map(str::to_owned),
            page: Page::parse(q.page, Some(50))?,
        })
    })();
    let query = match parsed {
        Ok(p) => p,
        Err(e) => return error_page(c.ctx, AppError::Invalid(e)),
    };
    let _ = tr;
    match s.app.list_staff(&c.session.actor, &query).await {
        Ok(p) => {
            let params = [
                ("q", q.q.clone().unwrap_or_default()),
                ("role", q.role.clone().unwrap_or_default()),
                ("store_id", q.store_id.clone().unwrap_or_default()),
                ("status", q.status.clone().unwrap_or_default()),
            ];
            let pager = pager("/console/staff", &params, p.page, p.page_size, p.total);
            let stores = visible_stores(&s, &c).await;
            render(
                StatusCode::OK,
                &StaffListPage {
                    ctx: c.ctx,
                    rows: p.items,
                    stores,
                    roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
                    q: q.q.unwrap_or_default(),
                    role: q.role.unwrap_or_default(),
                    store_id: q.store_id.unwrap_or_default(),
                    status: q.status.unwrap_or_default(),
                    pager,
                },
            )
        }
        Err(e) => error_page(c.ctx, e),
    }
}

#[derive(Template)]
#[template(path = "console/staff_form.html")]
struct StaffFormPage {
    ctx: Ctx,
    /// `None` when creating.
    id: Option<i64>,
    form: StaffFormData,
    roles: Vec<&'static str>,
    stores: Vec<StoreRow>,
    error: Option<FormError>,
    pw_error: Option<FormError>,
}

#[derive(Deserialize, Default, Clone, Debug)]
pub struct StaffFormData {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    store_id: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    password: String,
}

/// Roles the caller may assign: admins any, store managers only guides.
fn assignable_roles(c: &Console) -> Vec<&'static str> {
    Role::ALL
        .iter()
        .filter(|r| match c.session.actor.role {
            Role::Admin => true,
            Role::StoreManager => **r == Role::Guide,
            _ => false,
        })
        .map(|r| r.as_str())
        .collect()
}

pub async fn staff_new(State(s): State<AppState>, mut c: Console) -> Response {
    c.ctx.active = "staff";
    if !c.ctx.can_manage_staff {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let stores = visible_stores(&s, &c).await;
    let roles = assignable_roles(&c);
    let form = StaffFormData {
        role: roles.last().copied().unwrap_or("guide").to_owned(),
        store_id: c
            .session
            .actor
            .store_id
            .map(|s| s.0.to_string())
            .unwrap_or_default(),
        ..Default::default()
    };
    render(
        StatusCode::OK,
        &StaffFormPage {
            ctx: c.ctx,
            id: None,
            form,
            roles,
            stores,
            error: None,
            pw_error: None,
        },
    )
}

pub async fn staff_create(
    State(s): State<AppState>,
    mut c: Console,
    Form(f): Form<StaffFormData>,
) -> Response {
    c.ctx.active = "staff";
    if !check_csrf(&c, &f.csrf) {
        return csrf_failed(c.ctx);
    }
    let tr = c.ctx.tr;
    let result = match opt_id("store_id", &f.store_id).and_then(|store| {
        let pw = Some(f.password.as_str()).filter(|p| !p.is_empty());
        NewStaffInput::parse(&f.username, &f.display_name, &f.role, store, pw)
    }) {
        Ok(input) => s
            .app
            .create_staff(&c.session.actor, &input)
            .await
            .map_err(|e| form_error(tr, e)),
        Err(e) => Err(field_error(tr, e)),
    };
    match result {
        Ok(row) => see_other(&format!("/console/staff/{}?ok=created", row.id)),
        Err((status, err)) => {
            let stores = visible_stores(&s, &c).await;
            let roles = assignable_roles(&c);
            let mut form = f;
            form.password.clear();
            render(
                status,
                &StaffFormPage {
                    ctx: c.ctx,
                    id: None,
                    form,
                    roles,
                    stores,
                    error: Some(err),
                    pw_error: None,
                },
            )
        }
    }
}

fn staff_form_from_row(r: &StaffRow) -> StaffFormData {
    StaffFormData {
        csrf: String::new(),
        username: r.username.clone(),
        display_name: r.display_name.clone(),
        role: r.role.clone(),
        store_id: r.store_id.map(|s| s.to_string()).unwrap_or_default(),
        status: r.status.clone(),
        password: String::new(),
    }
}

pub async fn staff_edit(State(s): State<AppState>, mut c: Console, IdPath(id): IdPath) -> Response {
    c.ctx.active = "staff";
    match s.app.get_staff(&c.session.actor, StaffId(id)).await {
        Ok(row) => {
            let stores = visible_stores(&s, &c).await;
            let mut roles = assignable_roles(&c);
            if !roles.contains(&row.role.as_str()) {
                roles.insert(
                    0,
                    Role::parse("role", &row.role)
                        .map(Role::as_str)
                        .unwrap_or("guide"),
                );
            }
            let form = staff_form_from_row(&row);
            render(
                StatusCode::OK,
                &StaffFormPage {
                    ctx: c.ctx,
                    id: Some(id),
                    form,
                    roles,
                    stores,
                    error: None,
                    pw_error: None,
                },
            )
        }
        Err(e) => error_page(c.ctx, e),
    }
}

pub async fn staff_update(
    State(s): State<AppState>,
    mut c: Console,
    IdPath(id): IdPath,
    Form(f): Form<StaffFormData>,
) -> Response {
    c.ctx.active = "staff";
    if !check_csrf(&c, &f.csrf) {
        return csrf_failed(c.ctx);
    }
    let tr = c.ctx.tr;
    let patch = (|| -> Result<StaffPatch, FieldError> {
        Ok(StaffPatch {
            display_name: Some(DisplayName::parse("display_name", &f.display_name)?),
            role: Some(Role::parse("role", &f.role)?),
            store_id: Some(opt_id("store_id", &f.store_id)?.map(StoreId)),
            status: Some(StaffStatus::parse("status", &f.status)?),
            wecom_userid: None,
        })
    })();
    let result = match patch {
        Ok(p) => s
            .app
            .update_staff(&c.session.actor, StaffId(id), &p)
            .await
            .map_err(|e| form_error(tr, e)),
        Err(e) => Err(field_error(tr, e)),
    };
    match result {
        Ok(_) => see_other(&format!("/console/staff/{id}?ok=saved")),
        Err((status, err)) => {
            if status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN {
                let message = err.message;
                return render(
                    status,
                    &ErrorPage {
                        ctx: c.ctx,
                        message,
                    },
                );
            }
            let stores = visible_stores(&s, &c).await;
            let roles = assignable_roles(&c);
            let mut form = f;
            if let Ok(row) = s.app.get_staff(&c.session.actor, StaffId(id)).await {
                form.username = row.username;
            }
            render(
                status,
                &StaffFormPage {
                    ctx: c.ctx,
                    id: Some(id),
                    form,
                    roles,
                    stores,
                    error: Some(err),
                    pw_error: None,
                },
            )
        }
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
}

pub async fn staff_password(
    State(s): State<AppState>,
    mut c: Console,
    IdPath(id): IdPath,
    Form(f): Form<PasswordForm>,
) -> Response {
    c.ctx.active = "staff";
    if !check_csrf(&c, &f.csrf) {
        return csrf_failed(c.ctx);
    }
    let tr = c.ctx.tr;
    match s
        .app
        .reset_password(&c.session.actor, StaffId(id), &f.password)
        .await
    {
        Ok(()) => see_other(&format!("/console/staff/{id}?ok=password_reset")),
        Err(e) => {
            let (status, err) = form_error(tr, e);
            match s.app.get_staff(&c.session.actor, StaffId(id)).await {
                Ok(row) if status != StatusCode::FORBIDDEN => {
                    let stores = visible_stores(&s, &c).await;
                    let roles = assignable_roles(&c);
                    let form = staff_form_from_row(&row);
                    render(
                        status,
                        &StaffFormPage {
                            ctx: c.ctx,
                            id: Some(id),
                            form,
                            roles,
                            stores,
                            error: None,
                            pw_error: Some(err),
                        },
                    )
                }
                _ => {
                    let message = err.message;
                    render(
                        status,
                        &ErrorPage {
                            ctx: c.ctx,
                            message,
                        },
                    )
                }
            }
        }
    }
}

// ---------------------------------------------------------------- stores

#[derive(Template)]
#[template(path = "console/stores_list.html")]
struct StoresPage {
    ctx: Ctx,
    rows: Vec<StoreRow>,
    regions: Vec<RegionRow>,
    q: String,
    region_id: String,
    pager: Pager,
}

#[derive(Deserialize, Default)]
pub struct StoresQuery {
    q: Option<String>,
    region_id: Option<String>,
    page: Option<i64>,
}

pub async fn stores_list(
    State(s): State<AppState>,
    mut c: Console,
    Query(q): Query<StoresQuery>,
) -> Response {
    c.ctx.active = "stores";
    let parsed = (|| -> Result<StoreQuery, FieldError> {
        Ok(StoreQuery {
            region_id: opt_id("region_id", q.region_id.as_deref().unwrap_or(""))?.map(RegionId),
            q: nonempty(&q.q).map(str::to_owned),
            page: Page::parse(q.page, Some(50))?,
        })
    })();
    let query = match parsed {
        Ok(p) => p,
        Err(e) => return error_page(c.ctx, AppError::Invalid(e)),
    };
    let a = &c.session.actor;
    match (
        s.app.list_stores(a, &query).await,
        s.app.list_regions(a).await,
    ) {
        (Ok(p), Ok(regions)) => {
            let params = [
                ("q", q.q.clone().unwrap_or_default()),
                ("region_id", q.region_id.clone().unwrap_or_default()),
            ];
            let pager = pager("/console/stores", &params, p.page, p.page_size, p.total);
            render(
                StatusCode::OK,
                &StoresPage {
                    ctx: c.ctx,
                    rows: p.items,
                    regions,
                    q: q.q.unwrap_or_default(),
                    region_id: q.region_id.unwrap_or_default(),
                    pager,
                },
            )
        }
        (Err(e), _) | (_, Err(e)) => error_page(c.ctx, e),
    }
}

#[derive(Template)]
#[template(path = "console/store_form.html")]
struct StoreFormPage {
    ctx: Ctx,
    id: Option<i64>,
    form: StoreFormData,
    regions: Vec<RegionRow>,
    error: Option<FormError>,
}

#[derive(Deserialize, Default, Clone, Debug)]
pub struct StoreFormData {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    region_id: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    address: String,
}

impl StoreFormData {
    fn parse(&self) -> Result<StoreInput, FieldError> {
        StoreInput::parse(
            opt_id("region_id", &self.region_id)?,
            &self.code,
            &self.name,
            &self.city,
            &self.address,
        )
    }
}

pub async fn store_new(State(s): State<AppState>, mut c: Console) -> Response {
    c.ctx.active = "stores";
    if !c.ctx.can_manage_org {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let regions = s
        .app
        .list_regions(&c.session.actor)
        .await
        .unwrap_or_default();
    render(
        StatusCode::OK,
        &StoreFormPage {
            ctx: c.ctx,
            id: None,
            form: StoreFormData::default(),
            regions,
            error: None,
        },
    )
}

pub async fn store_create(
    State(s): State<AppState>,
    mut c: Console,
    Form(f): Form<StoreFormData>,
) -> Response {
    c.ctx.active = "stores";
    if !check_csrf(&c, &f.csrf) {
        return csrf_failed(c.ctx);
    }
    let tr = c.ctx.tr;
    let result = match f.parse() {
        Ok(input) => s
            .app
            .create_store(&c.session.actor, &input)
            .await
            .map_err(|e| form_error(tr, e)),
        Err(e) => Err(field_error(tr, e)),
    };
    match result {
        Ok(row) => see_other(&format!("/console/stores/{}?ok=created", row.id)),
        Err((status, err)) => {
            let regions = s
                .app
                .list_regions(&c.session.actor)
                .await
                .unwrap_or_default();
            render(
                status,
                &StoreFormPage {
                    ctx: c.ctx,
                    id: None,
                    form: f,
                    regions,
                    error: Some(err),
                },
            )
        }
    }
}

pub async fn store_edit(State(s): State<AppState>, mut c: Console, IdPath(id): IdPath) -> Response {
    c.ctx.active = "stores";
    match s.app.get_store(&c.session.actor, StoreId(id)).await {
        Ok(r) => {
            let regions = s
                .app
                .list_regions(&c.session.actor)
                .await
                .unwrap_or_default();
            let form = StoreFormData {
                csrf: String::new(),
                region_id: r.region_id.map(|x| x.to_string()).unwrap_or_default(),
                code: r.code,
                name: r.name,
                city: r.city,
                address: r.address,
            };
            render(
                StatusCode::OK,
                &StoreFormPage {
                    ctx: c.ctx,
                    id: Some(id),
                    form,
                    regions,
                    error: None,
                },
            )
        }
        Err(e) => error_page(c.ctx, e),
    }
}

pub async fn store_update(
    State(s): State<AppState>,
    mut c: Console,
    IdPath(id): IdPath,
    Form(f): Form<StoreFormData>,
) -> Response {
    c.ctx.active = "stores";
    if !check_csrf(&c, &f.csrf) {
        return csrf_failed(c.ctx);
    }
    let tr = c.ctx.tr;
    let result = match f.parse() {
        Ok(input) => s
            .app
            .update_store(&c.session.actor, StoreId(id), &input)
            .await
            .map_err(|e| form_error(tr, e)),
        Err(e) => Err(field_error(tr, e)),
    };
    match result {
        Ok(_) => see_other(&format!("/console/stores/{id}?ok=saved")),
        Err((status, err))
            if status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND =>
        {
            let message = err.message;
            render(
                status,
                &ErrorPage {
                    ctx: c.ctx,
                    message,
                },
            )
        }
        Err((status, err)) => {
            let regions = s
                .app
                .list_regions(&c.session.actor)
                .await
                .unwrap_or_default();
            render(
                status,
                &StoreFormPage {
                    ctx: c.ctx,
                    id: Some(id),
                    form: f,
                    regions,
                    error: Some(err),
                },
            )
        }
    }
}

// ---------------------------------------------------------------- regions

#[derive(Template)]
#[template(path = "console/regions.html")]
struct RegionsPage {
    ctx: Ctx,
    rows: Vec<RegionRow>,
    name: String,
    error: Option<FormError>,
}

pub async fn regions(State(s): State<AppState>, mut c: Console) -> Response {
    c.ctx.active = "regions";
    match s.app.list_regions(&c.session.actor).await {
        Ok(rows) => render(
            StatusCode::OK,
            &RegionsPage {
                ctx: c.ctx,
                rows,
                name: String::new(),
                error: None,
            },
        ),
        Err(e) => error_page(c.ctx, e),
    }
}

#[derive(Deserialize)]
pub struct RegionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

pub async fn region_create(
    State(s): State<AppState>,
    mut c: Console,
    Form(f): Form<RegionForm>,
) -> Response {
    c.ctx.active = "regions";
    if !check_csrf(&c, &f.csrf) {
        return csrf_failed(c.ctx);
    }
    let tr = c.ctx.tr;
    match s.app.create_region(&c.session.actor, &f.name).await {
        Ok(_) => see_other("/console/regions?ok=created"),
        Err(e) => {
            let (status, err) = form_error(tr, e);
            let rows = s
                .app
                .list_regions(&c.session.actor)
                .await
                .unwrap_or_default();
            render(
                status,
                &RegionsPage {
                    ctx: c.ctx,
                    rows,
                    name: f.name,
                    error: Some(err),
                },
            )
        }
    }
}

pub async fn region_rename(
    State(s): State<AppState>,
    mut c: Console,
    IdPath(id): IdPath,
    Form(f): Form<RegionForm>,
) -> Response {
    c.ctx.active = "regions";
    if !check_csrf(&c, &f.csrf) {
        return csrf_failed(c.ctx);
    }
    let tr = c.ctx.tr;
    match s
        .app
        .rename_region(&c.session.actor, RegionId(id), &f.name)
        .await
    {
        Ok(_) => see_other("/console/regions?ok=saved"),
        Err(e) => {
            let (status, err) = form_error(tr, e);
            let rows = s
                .app
                .list_regions(&c.session.actor)
                .await
                .unwrap_or_default();
            render(
                status,
                &RegionsPage {
                    ctx: c.ctx,
                    rows,
                    name: String::new(),
                    error: Some(err),
                },
            )
        }
    }
}

// ---------------------------------------------------------------- API tokens

#[derive(Template)]
#[template(path = "console/tokens.html")]
struct TokensPage {
    ctx: Ctx,
    rows: Vec<TokenRow>,
    created: Option<String>,
    form: TokenForm,
    error: Option<FormError>,
}

#[derive(Deserialize, Default, Clone)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    expires_in_days: String,
}

pub async fn tokens(State(s): State<AppState>, mut c: Console) -> Response {
    c.ctx.active = "tokens";
    match s.app.list_tokens(&c.session.actor).await {
        Ok(rows) => {
            let form = TokenForm {
                role: "operator".into(),
                ..Default::default()
            };
            render(
                StatusCode::OK,
                &TokensPage {
                    ctx: c.ctx,
                    rows,
                    created: None,
                    form,
                    error: None,
                },
            )
        }
        Err(e) => error_page(c.ctx, e),
    }
}

pub async fn token_create(
    State(s): State<AppState>,
    mut c: Console,
    Form(f): Form<TokenForm>,
) -> Response {
    c.ctx.active = "tokens";
    if !check_csrf(&c, &f.csrf) {
        return csrf_failed(c.ctx);
    }
    let tr = c.ctx.tr;
    let parsed = opt_id("expires_in_days", &f.expires_in_days)
        .and_then(|d| NewTokenInput::parse(&f.name, &f.role, d));
    let result = match parsed {
        Ok(input) => s
            .app
            .create_token(&c.session.actor, &input)
            .await
            .map_err(|e| form_error(tr, e)),
        Err(e) => Err(field_error(tr, e)),
    };
    let (status, created, error, form) = match result {
        Ok(t) => (
            StatusCode::CREATED,
            Some(t.token),
            None,
            TokenForm {
                role: "operator".into(),
                ..Default::default()
            },
        ),
        Err((status, err)) => (status, None, Some(err), f),
    };
    if status == StatusCode::FORBIDDEN {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let rows = s
        .app
        .list_tokens(&c.session.actor)
        .await
        .unwrap_or_default();
    render(
        status,
        &TokensPage {
            ctx: c.ctx,
            rows,
            created,
            form,
            error,
        },
    )
}

pub async fn token_revoke(
    State(s): State<AppState>,
    mut c: Console,
    IdPath(id): IdPath,
    Form(f): Form<CsrfForm>,
) -> Response {
    c.ctx.active = "tokens";
    if !check_csrf(&c, &f.csrf) {
        return csrf_failed(c.ctx);
    }
    match s.app.revoke_token(&c.session.actor, TokenId(id)).await {
        Ok(_) => see_other("/console/tokens?ok=saved"),
        Err(e) => error_page(c.ctx, e),
    }
}

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
    Query(q): Query<AuditListQuery>,
) -> Response {
    c.ctx.active = "audit";
    let page = match Page::parse(q.page, Some(50)) {
        Ok(p) => p,
        Err(e) => return error_page(c.ctx, AppError::Invalid(e)),
    };
    let action = nonempty(&q.action).and_then(Action::parse);
    match s
        .app
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

// ---------------------------------------------------------------- my account

#[derive(Template)]
#[template(path = "console/account.html")]
struct AccountPage {
    ctx: Ctx,
    username: String,
    error: Option<FormError>,
}

pub async fn account(mut c: Console) -> Response {
    c.ctx.active = "account";
    let username = c.session.actor.name.clone();
    render(
        StatusCode::OK,
        &AccountPage {
            ctx: c.ctx,
            username,
            error: None,
        },
    )
}

#[derive(Deserialize)]
pub struct OwnPasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

pub async fn account_password(
    State(s): State<AppState>,
    mut c: Console,
    Form(f): Form<OwnPasswordForm>,
) -> Response {
    c.ctx.active = "account";
    if !check_csrf(&c, &f.csrf) {
        return csrf_failed(c.ctx);
    }
    let tr = c.ctx.tr;
    match s
        .app
        .change_own_password(&c.session.actor, &f.current_password, &f.new_password)
        .await
    {
        Ok(()) => {
            let mut res = see_other("/console/login?ok=password_changed");
            res.headers_mut().append(
                header::SET_COOKIE,
                clear_session_cookie(s.app.settings.auth.cookie_secure),
            );
            res
        }
        Err(e) => {
            let (status, err) = form_error(tr, e);
            let username = c.session.actor.name.clone();
            render(
                status,
                &AccountPage {
                    ctx: c.ctx,
                    username,
                    error: Some(err),
                },
            )
        }
    }
}
