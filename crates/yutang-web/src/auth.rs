//! Request extractors: who is calling, from where, and parsed request bodies.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use yutang_app::auth::LiveSession;
use yutang_app::{Actor, AppError};

use crate::error::WebError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "yutang_session";
pub const LANG_COOKIE: &str = "yutang_lang";
pub const LOGIN_CSRF_COOKIE: &str = "yutang_login_csrf";

/// The client's address as the server saw it.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts)))
    }
}

fn client_ip(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// A cookie's value from the request.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// The caller of an API request, from `Authorization: Bearer <token>`: either an integration
/// token (`ytk_…`) or a session token from `POST /api/v1/auth/login` (`yts_…`). Cookies are
/// deliberately not accepted on the API, so the API needs no CSRF defence.
pub struct ApiActor(pub Actor);

impl FromRequestParts<AppState> for ApiActor {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let token = bearer(parts).ok_or_else(WebError::unauthenticated)?;
        let ip = client_ip(parts);
        match state.app.auth().bearer(&token, &ip).await {
            Ok(a) => Ok(ApiActor(a)),
            Err(AppError::Unauthenticated | AppError::InvalidCredentials) => {
                Err(WebError::unauthenticated())
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// Path and query as the client sent them (a nested router strips its prefix from `uri`).
pub fn original_path(parts: &Parts) -> String {
    parts
        .extensions
        .get::<axum::extract::OriginalUri>()
        .map(|u| &u.0)
        .unwrap_or(&parts.uri)
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/console".into())
}

/// The bearer token of the request, if any.
pub fn bearer(parts: &Parts) -> Option<String> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim();
    (!token.is_empty()).then(|| token.to_owned())
}

/// The signed-in console user; anyone else is redirected to the login page.
pub struct ConsoleSession(pub LiveSession);

impl FromRequestParts<AppState> for ConsoleSession {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let ip = client_ip(parts);
        let to_login = || {
            let next = original_path(parts);
            let next = next.as_str();
            let next = if next.starts_with("/console") {
                next
            } else {
                "/console"
            };
            // Inside the WeCom client (its browser says `wxwork/<version>`), straight to the
            // silent OAuth sign-in: a guide opening the chat sidebar never meets a password
            // form (a refused or unconfigured sign-in still shows the login page, with why).
            let in_wecom = parts
                .headers
                .get(axum::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ua| ua.to_ascii_lowercase().contains("wxwork"));
            let login = if in_wecom {
                "/console/login/wecom"
            } else {
                "/console/login"
            };
            Redirect::to(&format!(
                "{login}?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            ))
            .into_response()
        };
        let Some(token) = cookie(parts, SESSION_COOKIE) else {
            return Err(to_login());
        };
        match state.app.auth().session(&token, &ip).await {
            Ok(s) => Ok(ConsoleSession(s)),
            Err(AppError::Unauthenticated) => Err(to_login()),
            Err(e) => Err(WebError::from(e).into_response()),
        }
    }
}

/// A JSON body parsed with precise errors: 415 without a JSON content type, 413 over the size
/// limit, 400 for malformed JSON, 422 naming the field for type errors and unknown fields.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = WebError;
    async fn from_request(req: Request, state: &S) -> Result<Self, WebError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                let mime = ct.split(';').next().unwrap_or_default().trim();
                mime.eq_ignore_ascii_case("application/json")
            });
        if !is_json {
            return Err(WebError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as `Content-Type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                WebError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    "the request body is too large",
                )
            } else {
                WebError::new(StatusCode::BAD_REQUEST, "unreadable_body", e.body_text())
            }
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parse a JSON body into `T`, refusing (whatever `T`'s serde attributes say):
/// control characters in any string (422 `invalid_characters`, naming the field), keys `T`
/// does not know (422 `unknown_field`, naming the field's path) and bytes after the JSON value
/// (400 `malformed_json`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WebError> {
    // serde's derived structs also accept a JSON array (the fields by position), so `[null]`
    // would pass for `{}`. Every body of this API is an object.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(WebError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            "the body must be a JSON object, not an array",
        )
        .with_field("body".to_owned()));
    }
    // A raw control character inside a JSON string is a syntax error already; an escaped one
    // (`\u0000`, `\b`, `\f`) is found here. Only a body that may contain one pays for a
    // second parse, which names the field.
    if may_escape_control(bytes)
        && let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes)
        && let Some(field) = control_in_value(&v, String::new())
    {
        return Err(control_error(field));
    }
    let mut ignored: Option<String> = None;
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let parsed = {
        let mut note = |p: serde_ignored::Path<'_>| {
            if ignored.is_none() {
                ignored = Some(ignored_path(&p));
            }
        };
        serde_path_to_error::deserialize::<_, T>(serde_ignored::Deserializer::new(
            &mut *de, &mut note,
        ))
    };
    let v = match parsed {
        Ok(v) => v,
        // A key the body does not know explains a type error better than the type error
        // (e.g. a misspelt required field); a syntax error stays a syntax error.
        Err(e) if e.inner().classify() == serde_json::error::Category::Data => {
            return Err(match ignored {
                Some(field) => unknown_field(field),
                None => json_error(e),
            });
        }
        Err(e) => return Err(json_error(e)),
    };
    de.end().map_err(|e| {
        WebError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    match ignored {
        Some(field) => Err(unknown_field(field)),
        None => Ok(v),
    }
}

fn unknown_field(field: String) -> WebError {
    let name = field
        .rsplit(['.', '['])
        .next()
        .unwrap_or(&field)
        .trim_end_matches(']');
    WebError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_field",
        format!("unknown field `{name}`"),
    )
    .with_field(field)
}

fn json_error(e: serde_path_to_error::Error<serde_json::Error>) -> WebError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    use serde_json::error::Category;
    match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => WebError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not valid JSON: {inner}"),
        ),
        Category::Data => {
            let msg = inner.to_string();
            // serde_path_to_error reports an unknown field at its own path, but a
            // missing one at the parent's; name the field either way.
            let field = extract_backticked(&msg)
                .filter(|_| msg.starts_with("missing field"))
                .map(|f| {
                    if path == "." {
                        f
                    } else {
                        format!("{path}.{f}")
                    }
                })
                .unwrap_or(path);
            let code = if msg.starts_with("unknown field") {
                "unknown_field"
            } else if msg.starts_with("missing field") {
                "missing_field"
            } else {
                "invalid_field"
            };
            WebError::new(StatusCode::UNPROCESSABLE_ENTITY, code, msg).with_field(field)
        }
    }
}

/// A path as serde_path_to_error writes it: `lines[2].quantity`.
fn ignored_path(p: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match p {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", ignored_path(parent)),
        Path::Map { parent, key } => {
            let parent = ignored_path(parent);
            if parent.is_empty() {
                key.clone()
            } else {
                format!("{parent}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => ignored_path(parent),
    }
}

/// Whether `c` is refused in text input: C0 control characters other than tab, line feed and
/// carriage return (NUL above all: PostgreSQL cannot store it in text).
pub fn is_refused_control(c: char) -> bool {
    c < ' ' && !matches!(c, '\t' | '\n' | '\r')
}

pub fn has_refused_control(s: &str) -> bool {
    s.chars().any(is_refused_control)
}

fn control_error(field: String) -> WebError {
    WebError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_characters",
        "text must not contain control characters (only tab and line breaks are allowed)",
    )
    .with_field(field)
}

/// Whether a JSON text may hold an escaped control character (false positives are fine).
fn may_escape_control(bytes: &[u8]) -> bool {
    bytes
        .windows(2)
        .any(|w| w[0] == b'\\' && matches!(w[1], b'u' | b'b' | b'f'))
}

/// The path of the first string (or key) in `v` with a refused control character.
fn control_in_value(v: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    match v {
        Value::String(s) => has_refused_control(s).then_some(path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, x)| control_in_value(x, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, x)| {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if has_refused_control(k) {
                Some(p)
            } else {
                control_in_value(x, p)
            }
        }),
        _ => None,
    }
}

fn extract_backticked(s: &str) -> Option<String> {
    let start = s.find('`')? + 1;
    let len = s[start..].find('`')?;
    Some(s[start..start + len].to_owned())
}

/// Query parameters with a 422 naming the problem instead of axum's plain-text 400.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, WebError> {
        parse_query(parts.uri.query().unwrap_or_default()).map(ApiQuery)
    }
}

/// Parse a query string into `T`: 422 `invalid_characters` for a control character in a
/// name or value, 422 `invalid_query` naming the parameter for a value of the wrong type.
pub fn parse_query<T: DeserializeOwned>(raw: &str) -> Result<T, WebError> {
    for (k, v) in url::form_urlencoded::parse(raw.as_bytes()) {
        if has_refused_control(&k) || has_refused_control(&v) {
            return Err(control_error(k.into_owned()));
        }
    }
    let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(raw.as_bytes()));
    serde_path_to_error::deserialize::<_, T>(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let field = if path == "." {
            extract_backticked(&inner)
        } else {
            Some(path)
        };
        let msg = match &field {
            Some(f) if !inner.contains('`') => format!("`{f}`: {inner}"),
            _ => inner,
        };
        let w = WebError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query", msg);
        match field {
            Some(f) => w.with_field(f),
            None => w,
        }
    })
}

/// Middleware for the HTML surfaces (console, H5): a control character in a query parameter or
/// a form field is a 400 before any handler (or the database) sees it.
pub async fn refuse_control_text(req: Request, next: axum::middleware::Next) -> Response {
    let refused = |raw: &[u8]| {
        url::form_urlencoded::parse(raw)
            .find(|(k, v)| has_refused_control(k) || has_refused_control(v))
            .map(|(k, _)| k.into_owned())
    };
    if let Some(field) = refused(req.uri().query().unwrap_or_default().as_bytes()) {
        return control_page(&field);
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, FORM_BUFFER_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            return crate::plain_error(StatusCode::PAYLOAD_TOO_LARGE, "the form is too large");
        }
    };
    if let Some(field) = refused(&bytes) {
        return control_page(&field);
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

/// The largest form the control-character check buffers (the bulk-tag form's list is the
/// largest console form).
const FORM_BUFFER_LIMIT: usize = 64 * 1024 * 1024;

fn control_page(field: &str) -> Response {
    crate::plain_error(
        StatusCode::BAD_REQUEST,
        &format!("`{field}` must not contain control characters"),
    )
}

/// A numeric id in the path; anything else is a 404 (no such resource) rather than a 400.
pub struct IdPath(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, WebError> {
        Path::<i64>::from_request_parts(parts, state)
            .await
            .map(|p| IdPath(p.0))
            .map_err(|_| WebError::not_found("resource"))
    }
}

/// Two numeric ids in the path (a parent and its child, e.g. a webhook and one delivery);
/// anything else is a 404, like [`IdPath`].
pub struct IdPair(pub i64, pub i64);

impl<S: Send + Sync> FromRequestParts<S> for IdPair {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, WebError> {
        Path::<(i64, i64)>::from_request_parts(parts, state)
            .await
            .map(|p| IdPair(p.0.0, p.0.1))
            .map_err(|_| WebError::not_found("resource"))
    }
}

/// A text path segment (a referral link's code): anything that does not decode is 404, like
/// [`IdPath`].
pub struct CodePath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for CodePath {
    type Rejection = WebError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, WebError> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|p| CodePath(p.0))
            .map_err(|_| WebError::not_found("resource"))
    }
}

/// Constant-time string comparison for CSRF tokens.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        n: Option<i64>,
    }

    #[test]
    fn a_body_is_an_object_not_an_array() {
        for raw in [&br#"["a", 1]"#[..], b" [null]", b"[]"] {
            let e = parse_json::<Body>(raw).unwrap_err();
            assert_eq!(
                (e.status, e.code, e.field.as_deref()),
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_field",
                    Some("body")
                )
            );
        }
    }

    #[test]
    fn json_errors_name_the_field() {
        let e = parse_json::<Body>(br#"{"name":"a","nope":1}"#).unwrap_err();
        assert_eq!(
            (e.status, e.code, e.field.as_deref()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_field",
                Some("nope")
            )
        );
        let e = parse_json::<Body>(br#"{"n":1}"#).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            ("missing_field", Some("name"))
        );
        let e = parse_json::<Body>(br#"{"name":"a","n":"x"}"#).unwrap_err();
        assert_eq!((e.code, e.field.as_deref()), ("invalid_field", Some("n")));
        let e = parse_json::<Body>(br#"{"name":"#).unwrap_err();
        assert_eq!(
            (e.status, e.code),
            (StatusCode::BAD_REQUEST, "malformed_json")
        );
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Lenient {
        name: String,
        inner: Option<Inner>,
        #[serde(default)]
        items: Vec<Inner>,
        raw: Option<std::collections::BTreeMap<String, Box<serde_json::value::RawValue>>>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Inner {
        n: i64,
    }

    #[test]
    fn unknown_fields_are_refused_without_deny_unknown_fields() {
        let e = parse_json::<Lenient>(br#"{"name":"a","dry_run":true}"#).unwrap_err();
        assert_eq!(
            (e.status, e.code, e.field.as_deref()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_field",
                Some("dry_run")
            )
        );
        let e = parse_json::<Lenient>(br#"{"name":"a","inner":{"n":1,"x":2}}"#).unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            ("unknown_field", Some("inner.x"))
        );
        let e = parse_json::<Lenient>(br#"{"name":"a","items":[{"n":1},{"n":1,"m":[1]}]}"#)
            .unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            ("unknown_field", Some("items[1].m"))
        );
        let ok = parse_json::<Lenient>(br#"{"name":"a","raw":{"k":2.4999999999999999,"s":"x"}}"#)
            .unwrap();
        let raw = ok.raw.unwrap();
        assert_eq!(raw["k"].get(), "2.4999999999999999");
        assert_eq!(raw["s"].get(), "\"x\"");
    }

    #[test]
    fn trailing_bytes_are_malformed() {
        let e = parse_json::<Body>(br#"{"name":"a"} xyz"#).unwrap_err();
        assert_eq!(
            (e.status, e.code),
            (StatusCode::BAD_REQUEST, "malformed_json")
        );
        assert!(parse_json::<Body>(b"{\"name\":\"a\"} \n").is_ok());
    }

    #[test]
    fn control_characters_are_refused_naming_the_field() {
        let e = parse_json::<Lenient>(br#"{"name":"a\u0000b"}"#).unwrap_err();
        assert_eq!(
            (e.status, e.code, e.field.as_deref()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_characters",
                Some("name")
            )
        );
        let e = parse_json::<Lenient>(br#"{"name":"a","items":[{"n":1},{"\b":1}]}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("items[1].\u{8}"));
        // Tabs and line breaks are text; an escaped backslash before `u0000` is not NUL.
        assert!(parse_json::<Body>(br#"{"name":"a\tb\r\nc \\u0000"}"#).is_ok());
        let e = parse_query::<std::collections::HashMap<String, String>>("q=a%00b").unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            ("invalid_characters", Some("q"))
        );
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Paging {
        q: Option<String>,
        page_size: Option<i64>,
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let e = parse_query::<Paging>("q=x&page_size=abc").unwrap_err();
        assert_eq!(
            (e.status, e.code, e.field.as_deref()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_query",
                Some("page_size")
            )
        );
        let p = parse_query::<Paging>("q=%25&page_size=5").unwrap();
        assert_eq!((p.q.as_deref(), p.page_size), (Some("%"), Some(5)));
    }

    #[test]
    fn secrets_compare() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
