//! `/h5/r/{token}`: the page a tracked link opens (雷达, issue #21 item 4). The open is
//! recorded (see `yutang_app::radar`); a link material redirects to its URL at once, the other
//! kinds are shown here with a small script (`/h5/assets/radar.js`) that reports the seconds
//! the page stays visible to `POST /h5/r/{token}/beat`. The viewer is told apart by a random
//! cookie (`yt_v`, HttpOnly, one year), which also authorises the beats of their own views.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use yutang_app::radar::VIEWER_COOKIE;

use crate::auth::cookie;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "h5/material.html")]
struct MaterialPage {
    token: String,
    view_id: i64,
    title: String,
    body: String,
    image: Option<String>,
    miniprogram: bool,
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "链接不存在 · This link does not exist",
    )
        .into_response()
}

/// Open a tracked link.
pub async fn open(State(s): State<AppState>, Path(token): Path<String>, parts: Parts) -> Response {
    let viewer = cookie(&parts, VIEWER_COOKIE);
    let opened = match s.app.radar().open(&token, viewer.as_deref()).await {
        Ok(Some(o)) => o,
        Ok(None) => return not_found(),
        Err(e) => {
            crate::error::internal(&e);
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "请稍后再试 · Try again later",
            )
                .into_response();
        }
    };
    let m = &opened.material;
    let mut res = match (m.kind.as_str(), m.url.as_deref()) {
        ("link", Some(url)) => match HeaderValue::from_str(url) {
            Ok(location) => {
                let mut r = StatusCode::FOUND.into_response();
                r.headers_mut().insert(header::LOCATION, location);
                r
            }
            Err(_) => not_found(),
        },
        _ => {
            let page = MaterialPage {
                token: token.clone(),
                view_id: opened.view_id,
                title: m.title.clone(),
                body: m.body.clone(),
                image: m.media_id.map(|id| format!("/h5/media/{id}")),
                miniprogram: m.kind == "miniprogram",
            };
            match page.render() {
                Ok(html) => (StatusCode::OK, Html(html)).into_response(),
                Err(e) => {
                    crate::error::internal(&e);
                    (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
                }
            }
        }
    };
    if opened.new_viewer {
        let c = cookie::Cookie::build((VIEWER_COOKIE, opened.viewer.clone()))
            .path("/h5/r")
            .http_only(true)
            .secure(s.app.settings.auth.cookie_secure)
            .same_site(cookie::SameSite::Lax)
            .max_age(cookie::time::Duration::days(365))
            .build();
        if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

/// A beat: the page has been visible `seconds` so far.
#[derive(Debug, Deserialize)]
pub struct Beat {
    view: i64,
    seconds: i64,
}

pub async fn beat(
    State(s): State<AppState>,
    Path(token): Path<String>,
    parts: Parts,
    Form(b): Form<Beat>,
) -> Response {
    let Some(viewer) = cookie(&parts, VIEWER_COOKIE) else {
        return not_found();
    };
    match s.app.radar().beat(&token, b.view, &viewer, b.seconds).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(yutang_app::AppError::NotFound { .. }) => not_found(),
        Err(e) => {
            crate::error::internal(&e);
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../assets/radar.js"),
    )
        .into_response()
}
