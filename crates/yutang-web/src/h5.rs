//! `/h5/…`: the customer-facing pages (mobile-first, Simplified Chinese). Server-rendered
//! shells (askama) plus one small script (`/h5/assets/h5.js`) that calls the same public API
//! the brand's mini-program calls, with a customer token (`yct_…`) taken from `?token=` (a
//! mini-program web-view passes it) and kept in `localStorage`, or — in the demo only — from
//! `POST /api/v1/public/demo-login`.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::auth::IdPath;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/coupons", get(coupons))
        .route("/flash-sales/{id}", get(flash_sale))
        .route("/group-buys/{id}", get(group_buy))
        .route("/teams/{id}", get(team))
        .route("/assets/h5.js", get(script))
        .layer(axum::middleware::from_fn(crate::auth::refuse_control_text))
        .layer(axum::middleware::map_response(h5_headers))
}

/// Like the console: nothing loads from elsewhere; scripts only from this server.
async fn h5_headers(mut res: Response) -> Response {
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
        ),
    );
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => (StatusCode::OK, Html(html)).into_response(),
        Err(e) => {
            crate::error::internal(&e);
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

fn yuan(fen: i64) -> String {
    yutang_core::money::Fen(fen).to_string()
}

/// What every page's shell needs.
struct Shell {
    title: String,
    /// `coupons`, `flash_sale`, `group_buy`, `team`: the script's entry point.
    page: &'static str,
    /// The page's resource id (0 for lists).
    id: i64,
    demo: bool,
}

#[derive(Template)]
#[template(path = "h5/coupons.html")]
struct CouponsPage {
    shell: Shell,
}

pub async fn coupons(State(s): State<AppState>) -> Response {
    let demo = s
        .app
        .customer_tokens()
        .demo_login_enabled()
        .await
        .unwrap_or(false);
    render(&CouponsPage {
        shell: Shell {
            title: "领券中心".into(),
            page: "coupons",
            id: 0,
            demo,
        },
    })
}

#[derive(Template)]
#[template(path = "h5/flash_sale.html")]
struct FlashSalePage {
    shell: Shell,
    name: String,
    item_name: String,
    price: String,
    original_price: String,
    starts_at: i64,
    ends_at: i64,
    per_customer: i64,
    hold_minutes: i64,
}

fn not_found_page() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html("<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'><p style='font:16px sans-serif;padding:24px'>活动不存在或已结束</p>"),
    )
        .into_response()
}

pub async fn flash_sale(State(s): State<AppState>, IdPath(id): IdPath) -> Response {
    let Ok(v) = s.app.flash_sales().flash_sale(id).await else {
        return not_found_page();
    };
    let demo = s
        .app
        .customer_tokens()
        .demo_login_enabled()
        .await
        .unwrap_or(false);
    render(&FlashSalePage {
        shell: Shell {
            title: v.row.name.clone(),
            page: "flash_sale",
            id,
            demo,
        },
        name: v.row.name,
        item_name: v.spec.item_name,
        price: yuan(v.spec.price_fen),
        original_price: yuan(v.spec.original_price_fen),
        starts_at: v.row.starts_at,
        ends_at: v.row.ends_at,
        per_customer: v.row.per_customer,
        hold_minutes: v.row.hold_minutes,
    })
}

#[derive(Template)]
#[template(path = "h5/group_buy.html")]
struct GroupBuyPage {
    shell: Shell,
    name: String,
    item_name: String,
    price: String,
    leader_price: String,
    original_price: String,
    team_size: i64,
    time_limit_minutes: i64,
}

pub async fn group_buy(State(s): State<AppState>, IdPath(id): IdPath) -> Response {
    let Ok(v) = s.app.group_buys().group_buy(id).await else {
        return not_found_page();
    };
    let demo = s
        .app
        .customer_tokens()
        .demo_login_enabled()
        .await
        .unwrap_or(false);
    render(&GroupBuyPage {
        shell: Shell {
            title: v.row.name.clone(),
            page: "group_buy",
            id,
            demo,
        },
        name: v.row.name,
        item_name: v.spec.item_name.clone(),
        price: yuan(v.spec.price_fen),
        leader_price: yuan(v.spec.price_for(true)),
        original_price: yuan(v.spec.original_price_fen),
        team_size: v.spec.team_size,
        time_limit_minutes: v.spec.time_limit_minutes,
    })
}

#[derive(Deserialize)]
pub struct TeamQuery {
    /// Who shared the link.
    #[serde(default)]
    inviter: Option<i64>,
}

#[derive(Template)]
#[template(path = "h5/team.html")]
struct TeamPage {
    shell: Shell,
    group_buy_name: String,
    item_name: String,
    price: String,
    original_price: String,
    inviter: i64,
}

pub async fn team(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    Query(q): Query<TeamQuery>,
) -> Response {
    let Ok(v) = s.app.group_buys().team_status(id).await else {
        return not_found_page();
    };
    let demo = s
        .app
        .customer_tokens()
        .demo_login_enabled()
        .await
        .unwrap_or(false);
    render(&TeamPage {
        shell: Shell {
            title: format!("{} · 拼团", v.group_buy.name),
            page: "team",
            id,
            demo,
        },
        group_buy_name: v.group_buy.name,
        item_name: v.spec.item_name,
        price: yuan(v.spec.price_fen),
        original_price: yuan(v.spec.original_price_fen),
        inviter: q.inviter.unwrap_or(0),
    })
}

pub async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../assets/h5.js"),
    )
        .into_response()
}
