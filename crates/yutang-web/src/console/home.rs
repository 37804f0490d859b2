//! The console overview page.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use yutang_app::audit::Page;
use yutang_app::org::StoreQuery;
use yutang_app::staff::StaffQuery;

use super::layout::error_page;
use super::{Console, Ctx, render};
use crate::state::AppState;

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
    let regions = s.app.org().list_regions(a).await;
    let stores = s
        .app
        .org()
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
        .staff()
        .list_staff(
            a,
            &StaffQuery {
                page: one,
                ..Default::default()
            },
        )
        .await;
    let store_name = match a.store_id {
        Some(id) => s.app.org().get_store(a, id).await.ok().map(|s| s.name),
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
