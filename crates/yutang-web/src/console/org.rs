//! Console organisation pages: stores and regions.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::audit::Page;
use yutang_app::org::{RegionRow, StoreRow};
use yutang_app::org::{StoreInput, StoreQuery};
use yutang_core::FieldError;
use yutang_core::ids::{RegionId, StoreId};

use super::layout::{
    ConsoleForm, ConsoleQuery, ErrorPage, FormError, Pager, error_page, field_error, form_error,
    nonempty, opt_id, pager, see_other,
};
use super::{Console, Ctx, render};
use crate::auth::IdPath;
use crate::state::AppState;

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
    ConsoleQuery(q): ConsoleQuery<StoresQuery>,
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
        s.app.org().list_stores(a, &query).await,
        s.app.org().list_regions(a).await,
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
        .org()
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
    ConsoleForm(mut c, f): ConsoleForm<StoreFormData>,
) -> Response {
    c.ctx.active = "stores";
    let tr = c.ctx.tr;
    let result = match f.parse() {
        Ok(input) => s
            .app
            .org()
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
                .org()
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
    match s.app.org().get_store(&c.session.actor, StoreId(id)).await {
        Ok(r) => {
            let regions = s
                .app
                .org()
                .list_regions(&c.session.actor)
                .await
                .unwrap_or_default();
            let form = StoreFormData {
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
    IdPath(id): IdPath,
    ConsoleForm(mut c, f): ConsoleForm<StoreFormData>,
) -> Response {
    c.ctx.active = "stores";
    let tr = c.ctx.tr;
    let result = match f.parse() {
        Ok(input) => s
            .app
            .org()
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
                .org()
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
    match s.app.org().list_regions(&c.session.actor).await {
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
    name: String,
}

pub async fn region_create(
    State(s): State<AppState>,
    ConsoleForm(mut c, f): ConsoleForm<RegionForm>,
) -> Response {
    c.ctx.active = "regions";
    let tr = c.ctx.tr;
    match s.app.org().create_region(&c.session.actor, &f.name).await {
        Ok(_) => see_other("/console/regions?ok=created"),
        Err(e) => {
            let (status, err) = form_error(tr, e);
            let rows = s
                .app
                .org()
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
    IdPath(id): IdPath,
    ConsoleForm(mut c, f): ConsoleForm<RegionForm>,
) -> Response {
    c.ctx.active = "regions";
    let tr = c.ctx.tr;
    match s
        .app
        .org()
        .rename_region(&c.session.actor, RegionId(id), &f.name)
        .await
    {
        Ok(_) => see_other("/console/regions?ok=saved"),
        Err(e) => {
            let (status, err) = form_error(tr, e);
            let rows = s
                .app
                .org()
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
