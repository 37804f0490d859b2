//! Console sign-in: login, logout, the language switch and the signed-in user's own account.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::layout::{
    ConsoleForm, ConsoleQuery, CsrfForm, FormError, error_page, form_error, see_other,
};
use super::{Console, Ctx, Lang, Tr, lang_of, render};
use crate::auth::{ClientIp, LANG_COOKIE, LOGIN_CSRF_COOKIE, SESSION_COOKIE, same_secret};
use crate::error::WebError;
use crate::state::AppState;

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
    /// "Sign in with WeCom", when it is configured.
    wecom_href: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    ok: Option<String>,
}

pub(crate) fn safe_next(next: Option<&str>) -> String {
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

/// Whether the login page offers "Sign in with WeCom" (a failure to tell is "no").
pub(crate) async fn wecom_offered(s: &AppState) -> bool {
    s.app.auth().wecom_login_available().await.unwrap_or(false)
}

/// The login page (also the page a refused sign-in with WeCom shows, with its error).
#[allow(clippy::too_many_arguments)]
pub(crate) fn render_login(
    s: &AppState,
    lang: Lang,
    next: String,
    username: String,
    status: StatusCode,
    error: Option<&'static str>,
    notice: Option<&'static str>,
    wecom: bool,
) -> Response {
    let csrf = yutang_app::auth::random_secret("");
    let wecom_href = wecom.then(|| {
        format!(
            "/console/login/wecom?next={}",
            url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        )
    });
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
        wecom_href,
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
        && s.app.auth().session(&token, "").await.is_ok()
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
    let wecom = wecom_offered(&s).await;
    render_login(
        &s,
        lang,
        safe_next(q.next.as_deref()),
        String::new(),
        StatusCode::OK,
        None,
        notice,
        wecom,
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
                wecom_offered(&s).await,
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
            wecom_offered(&s).await,
        );
    }
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    match s
        .app
        .auth()
        .login(&form.username, &form.password, &ip, ua)
        .await
    {
        Ok(issued) => {
            let mut res = see_other(&next);
            if let Some(v) = session_cookie(&s, &issued) {
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
                wecom_offered(&s).await,
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

/// The session cookie of a sign-in (password or WeCom): HttpOnly, SameSite=Lax, for the
/// session's idle lifetime.
pub(crate) fn session_cookie(
    s: &AppState,
    issued: &yutang_app::auth::IssuedSession,
) -> Option<HeaderValue> {
    let max_age = (issued.expires_at - s.app.now()) / 1000;
    let c = cookie::Cookie::build((SESSION_COOKIE, issued.token.clone()))
        .path("/")
        .http_only(true)
        .secure(s.app.settings.auth.cookie_secure)
        .same_site(cookie::SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(max_age))
        .build();
    HeaderValue::from_str(&c.to_string()).ok()
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

pub async fn logout(
    State(s): State<AppState>,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    if let Err(e) = s.app.auth().logout(&c.session).await {
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
pub async fn switch_lang(
    State(s): State<AppState>,
    ConsoleQuery(q): ConsoleQuery<LangQuery>,
) -> Response {
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
    current_password: String,
    #[serde(default)]
    new_password: String,
}

pub async fn account_password(
    State(s): State<AppState>,
    ConsoleForm(mut c, f): ConsoleForm<OwnPasswordForm>,
) -> Response {
    c.ctx.active = "account";
    let tr = c.ctx.tr;
    match s
        .app
        .auth()
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
