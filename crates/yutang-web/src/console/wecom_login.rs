//! Sign in with WeCom (企业微信登录): `/console/login/wecom` sends the browser to WeCom (the
//! QR web login, or the silent OAuth page when the request comes from inside the WeCom client),
//! `/console/login/wecom/callback` takes the `code` WeCom hands back.
//!
//! The sign-in is bound to the browser that started it: a random `state` goes to WeCom and,
//! with the page to return to, into an HttpOnly, SameSite=Lax cookie valid 5 minutes on
//! `/console/login/wecom`; the callback compares the two in constant time and clears the
//! cookie whatever happens. A refusal shows the login page with the reason in plain words
//! (and the password form), never a blank page.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::auth_wecom::WecomLoginRefusal;

use super::auth::{render_login, safe_next, session_cookie, wecom_offered};
use super::{Lang, Tr, lang_of};
use crate::auth::{ClientIp, same_secret};
use crate::error::WebError;
use crate::state::AppState;

/// The cookie that holds a sign-in's `state` and the page to return to.
pub const WECOM_LOGIN_COOKIE: &str = "yutang_wecom_login";
/// Where that cookie is sent: the start and the callback only.
const COOKIE_PATH: &str = "/console/login/wecom";
/// How long a started sign-in may take (WeCom's codes live 5 minutes too).
const COOKIE_SECS: i64 = 300;
/// Where WeCom returns to, under the site's public origin.
const CALLBACK_PATH: &str = "/console/login/wecom/callback";

#[derive(Deserialize, Default)]
pub struct StartQuery {
    next: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
}

fn state_cookie(value: &str, secure: bool, max_age: i64) -> Option<HeaderValue> {
    let c = cookie::Cookie::build((WECOM_LOGIN_COOKIE, value.to_owned()))
        .path(COOKIE_PATH)
        .http_only(true)
        .secure(secure)
        .same_site(cookie::SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(max_age))
        .build();
    HeaderValue::from_str(&c.to_string()).ok()
}

/// `s=<state>&n=<next>`, form-encoded (only cookie-safe characters).
fn cookie_value(state: &str, next: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("s", state)
        .append_pair("n", next)
        .finish()
}

/// The state and the (re-checked) page to return to, from the cookie.
fn parse_cookie(v: &str) -> (String, String) {
    let mut state = String::new();
    let mut next = None;
    for (k, val) in url::form_urlencoded::parse(v.as_bytes()) {
        match &*k {
            "s" => state = val.into_owned(),
            "n" => next = Some(val.into_owned()),
            _ => {}
        }
    }
    (state, safe_next(next.as_deref()))
}

/// A 303 to `to` (an absolute WeCom address, or a console path).
fn redirect(to: &str) -> Response {
    match HeaderValue::from_str(to) {
        Ok(v) => (StatusCode::SEE_OTHER, [(header::LOCATION, v)]).into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "bad redirect").into_response(),
    }
}

/// The login page showing why the sign-in with WeCom did not happen.
async fn refused_page(s: &AppState, lang: Lang, next: String, e: AppError) -> Response {
    let tr = Tr { lang };
    let refusal = WecomLoginRefusal::of(&e);
    let (status, message) = match refusal {
        Some(WecomLoginRefusal::WecomUnavailable | WecomLoginRefusal::NotConfigured) => {
            (StatusCode::SERVICE_UNAVAILABLE, tr.error(e_code(&e)))
        }
        Some(_) => (StatusCode::FORBIDDEN, tr.error(e_code(&e))),
        None => {
            let w = WebError::from(e);
            let retry = w.retry_after;
            let mut res = render_login(
                s,
                lang,
                next,
                String::new(),
                w.status,
                Some(tr.error(w.code)),
                None,
                wecom_offered(s).await,
            );
            if let Some(secs) = retry
                && let Ok(v) = HeaderValue::from_str(&secs.to_string())
            {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return res;
        }
    };
    render_login(
        s,
        lang,
        next,
        String::new(),
        status,
        Some(message),
        None,
        wecom_offered(s).await,
    )
}

fn e_code(e: &AppError) -> &'static str {
    match e {
        AppError::Rule { code, .. } => code,
        _ => "generic",
    }
}

fn user_agent(headers: &axum::http::HeaderMap) -> &str {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// `GET /console/login/wecom?next=`: start a sign-in with WeCom.
pub async fn start(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    req: axum::extract::Request,
) -> Response {
    let (parts, _) = req.into_parts();
    let lang = lang_of(&parts, &s);
    let q: StartQuery = Query::try_from_uri(&parts.uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let next = safe_next(q.next.as_deref());
    // WeCom's in-app browser says `wxwork/<version>` in its User-Agent.
    let in_client = user_agent(&parts.headers)
        .to_ascii_lowercase()
        .contains("wxwork");
    // 64 hex digits: letters and digits, as WeCom requires of `state` (≤ 128 bytes).
    let state = yutang_app::auth::random_secret("");
    let (origin, _) = super::share::origin(&s, &parts.headers);
    let redirect_uri = format!("{origin}{CALLBACK_PATH}");
    match s
        .app
        .auth()
        .wecom_login_url(&redirect_uri, &state, in_client, &ip)
        .await
    {
        Ok(url) => {
            let mut res = redirect(&url);
            if let Some(v) = state_cookie(
                &cookie_value(&state, &next),
                s.app.settings.auth.cookie_secure,
                COOKIE_SECS,
            ) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        Err(e) => refused_page(&s, lang, next, e).await,
    }
}

/// `GET /console/login/wecom/callback?code=&state=`: WeCom's return.
pub async fn callback(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    req: axum::extract::Request,
) -> Response {
    let (parts, _) = req.into_parts();
    let lang = lang_of(&parts, &s);
    let q: CallbackQuery = Query::try_from_uri(&parts.uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let (cookie_state, next) = crate::auth::cookie(&parts, WECOM_LOGIN_COOKIE)
        .map(|v| parse_cookie(&v))
        .unwrap_or_else(|| (String::new(), "/console".to_owned()));
    let given_state = q.state.unwrap_or_default();
    let auth = s.app.auth();
    let mut res = if cookie_state.is_empty() || !same_secret(&cookie_state, &given_state) {
        let e = auth
            .refuse_wecom_login(WecomLoginRefusal::ForgedState, &ip, "", None)
            .await;
        refused_page(&s, lang, next, e).await
    } else {
        match q.code.filter(|c| !c.is_empty()) {
            None => {
                let e = auth
                    .refuse_wecom_login(WecomLoginRefusal::InvalidCode, &ip, "", None)
                    .await;
                let mut res = refused_page(&s, lang, next, e).await;
                if res.status() == StatusCode::FORBIDDEN {
                    *res.status_mut() = StatusCode::BAD_REQUEST;
                }
                res
            }
            Some(code) => {
                match auth
                    .login_wecom(&code, &ip, user_agent(&parts.headers))
                    .await
                {
                    Ok(issued) => {
                        let mut res = redirect(&next);
                        if let Some(v) = session_cookie(&s, &issued) {
                            res.headers_mut().append(header::SET_COOKIE, v);
                        }
                        res
                    }
                    Err(e) => refused_page(&s, lang, next, e).await,
                }
            }
        }
    };
    if let Some(v) = state_cookie("", s.app.settings.auth.cookie_secure, 0) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_keeps_the_state_and_a_safe_next() {
        let v = cookie_value("abc123", "/console/customers?q=a b&x=1");
        assert!(!v.contains([';', ',', ' ', '"', '\\']), "{v}");
        assert_eq!(
            parse_cookie(&v),
            (
                "abc123".to_owned(),
                "/console/customers?q=a b&x=1".to_owned()
            )
        );
        let evil = cookie_value("abc", "//evil.example");
        assert_eq!(parse_cookie(&evil).1, "/console");
        assert_eq!(parse_cookie("garbage").0, "");
    }
}
