//! Console pages of the customer pool: the list (search and filters, within the caller's
//! scope) and the 360° view with a paged, filterable timeline.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::audit::Page;
use yutang_app::customers::CustomerRow;
use yutang_app::customers::{Customer360, CustomerQuery};
use yutang_app::events::EventRow;
use yutang_app::org::StoreQuery;
use yutang_app::org::StoreRow;
use yutang_app::staff::StaffQuery;
use yutang_app::staff::StaffRow;
use yutang_core::FieldError;
use yutang_core::events::EventKind;
use yutang_core::ids::{CustomerId, StaffId, StoreId};
use yutang_core::staff::Role;

use super::layout::{
    ConsoleForm, ConsoleQuery, CsrfForm, Pager, error_page, nonempty, opt_id, pager,
};
use super::{Console, Ctx, render};
use crate::auth::IdPath;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "console/customers_list.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<CustomerRow>,
    stores: Vec<StoreRow>,
    guides: Vec<StaffRow>,
    q: String,
    city: String,
    member_level: String,
    guide_id: String,
    store_id: String,
    pager: Pager,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    q: Option<String>,
    city: Option<String>,
    member_level: Option<String>,
    guide_id: Option<String>,
    store_id: Option<String>,
    page: Option<i64>,
}

pub async fn list(
    State(s): State<AppState>,
    mut c: Console,
    ConsoleQuery(q): ConsoleQuery<ListQuery>,
) -> Response {
    c.ctx.active = "customers";
    let a = &c.session.actor;
    let parsed = (|| -> Result<CustomerQuery, FieldError> {
        Ok(CustomerQuery {
            q: nonempty(&q.q).map(str::to_owned),
            city: nonempty(&q.city).map(str::to_owned),
            member_level: nonempty(&q.member_level).map(str::to_owned),
            guide_id: opt_id("guide_id", q.guide_id.as_deref().unwrap_or(""))?.map(StaffId),
            store_id: opt_id("store_id", q.store_id.as_deref().unwrap_or(""))?.map(StoreId),
            page: Page::parse(q.page, Some(50))?,
            ..Default::default()
        })
    })();
    let query = match parsed {
        Ok(p) => p,
        Err(e) => return error_page(c.ctx, AppError::Invalid(e)),
    };
    let p = match s.app.customers().list_customers(a, &query).await {
        Ok(p) => p,
        Err(e) => return error_page(c.ctx, e),
    };
    let all = Page {
        number: 1,
        size: 200,
    };
    let stores = s
        .app
        .org()
        .list_stores(
            a,
            &StoreQuery {
                page: all,
                ..Default::default()
            },
        )
        .await
        .map(|p| p.items)
        .unwrap_or_default();
    // A guide filters nothing by guide: they see only their own customers.
    let guides = if a.role == Role::Guide {
        Vec::new()
    } else {
        s.app
            .staff()
            .list_staff(
                a,
                &StaffQuery {
                    role: Some(Role::Guide),
                    page: all,
                    ..Default::default()
                },
            )
            .await
            .map(|p| p.items)
            .unwrap_or_default()
    };
    let params = [
        ("q", q.q.clone().unwrap_or_default()),
        ("city", q.city.clone().unwrap_or_default()),
        ("member_level", q.member_level.clone().unwrap_or_default()),
        ("guide_id", q.guide_id.clone().unwrap_or_default()),
        ("store_id", q.store_id.clone().unwrap_or_default()),
    ];
    let pager = pager("/console/customers", &params, p.page, p.page_size, p.total);
    render(
        StatusCode::OK,
        &ListPage {
            ctx: c.ctx,
            rows: p.items,
            stores,
            guides,
            q: q.q.unwrap_or_default(),
            city: q.city.unwrap_or_default(),
            member_level: q.member_level.unwrap_or_default(),
            guide_id: q.guide_id.unwrap_or_default(),
            store_id: q.store_id.unwrap_or_default(),
            pager,
        },
    )
}

#[derive(Template)]
#[template(path = "console/customer_view.html")]
struct ViewPage {
    ctx: Ctx,
    v: Customer360,
    events: Vec<EventRow>,
    kinds: Vec<&'static str>,
    kind: String,
    revealed: Option<Vec<String>>,
    pager: Pager,
    tags: Vec<yutang_app::tags::CustomerTagRow>,
    /// Tags staff may set by hand, as `(id, "group/name")`.
    tag_options: Vec<(i64, String)>,
}

#[derive(Deserialize, Default)]
pub struct ViewQuery {
    kind: Option<String>,
    page: Option<i64>,
}

async fn render_view(
    s: &AppState,
    mut c: Console,
    id: i64,
    q: ViewQuery,
    revealed: Option<Vec<String>>,
) -> Response {
    c.ctx.active = "customers";
    let a = &c.session.actor;
    let parsed = (|| -> Result<(Option<EventKind>, Page), FieldError> {
        Ok((
            nonempty(&q.kind)
                .map(|k| EventKind::parse_any("kind", k))
                .transpose()?,
            Page::parse(q.page, Some(20))?,
        ))
    })();
    let (kind, page) = match parsed {
        Ok(p) => p,
        Err(e) => return error_page(c.ctx, AppError::Invalid(e)),
    };
    let v = match s.app.customers().customer_360(a, CustomerId(id)).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let t = match s
        .app
        .customers()
        .timeline(a, CustomerId(v.customer.id), kind, page)
        .await
    {
        Ok(t) => t,
        Err(e) => return error_page(c.ctx, e),
    };
    let tags = s
        .app
        .tags()
        .customer_tags(a, v.customer.id)
        .await
        .unwrap_or_default();
    let tag_options = s
        .app
        .tags()
        .tag_catalogue(a)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|g| g.group.source != "rule")
        .flat_map(|g| {
            let group = g.group.name;
            g.tags
                .into_iter()
                .map(move |t| (t.tag.id, format!("{group}/{}", t.tag.name)))
        })
        .filter(|(id, _)| !tags.iter().any(|t| t.tag_id == *id))
        .collect();
    let base = format!("/console/customers/{}", v.customer.id);
    let params = [("kind", q.kind.clone().unwrap_or_default())];
    let pager = pager(&base, &params, t.page, t.page_size, t.total);
    render(
        StatusCode::OK,
        &ViewPage {
            ctx: c.ctx,
            v,
            events: t.items,
            kinds: EventKind::CLIENT
                .into_iter()
                .chain(EventKind::SYSTEM)
                .map(EventKind::as_str)
                .collect(),
            kind: q.kind.unwrap_or_default(),
            revealed,
            pager,
            tags,
            tag_options,
        },
    )
}

pub async fn view(
    State(s): State<AppState>,
    c: Console,
    IdPath(id): IdPath,
    ConsoleQuery(q): ConsoleQuery<ViewQuery>,
) -> Response {
    render_view(&s, c, id, q, None).await
}

/// Show the full phone numbers (audited) on the 360° page.
pub async fn reveal(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(mut c, _): ConsoleForm<CsrfForm>,
) -> Response {
    c.ctx.active = "customers";
    match s
        .app
        .customers()
        .reveal_phones(&c.session.actor, CustomerId(id))
        .await
    {
        Ok(phones) => render_view(&s, c, id, ViewQuery::default(), Some(phones)).await,
        Err(e) => error_page(c.ctx, e),
    }
}
