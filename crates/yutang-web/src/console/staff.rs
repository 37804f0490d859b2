//! Console staff pages: list, create, edit, reset password.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::audit::Page;
use yutang_app::org::StoreQuery;
use yutang_app::org::StoreRow;
use yutang_app::staff::StaffRow;
use yutang_app::staff::{NewStaffInput, StaffPatch, StaffQuery};
use yutang_core::FieldError;
use yutang_core::ids::{StaffId, StoreId};
use yutang_core::staff::{DisplayName, Role, StaffStatus};

use super::layout::{
    ConsoleForm, ConsoleQuery, ErrorPage, FormError, Pager, error_page, field_error, form_error,
    nonempty, opt_id, pager, see_other,
};
use super::{Console, Ctx, render};
use crate::auth::IdPath;
use crate::state::AppState;

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
        .org()
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
    ConsoleQuery(q): ConsoleQuery<StaffListQuery>,
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
    match s.app.staff().list_staff(&c.session.actor, &query).await {
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
    /// A guide's service ratings (the edit page of a guide, within the viewer's scope).
    ratings: Option<super::ratings::StaffRatings>,
}

impl StaffFormPage {
    /// "平均 4.3 分，共 12 条评价（低分 1 条）".
    fn ratings_summary(&self, r: &super::ratings::StaffRatings) -> String {
        self.ctx.tr.fill(
            "ratings.staff_summary",
            &[
                ("avg", &r.average),
                ("n", &r.count.to_string()),
                ("low", &r.low_count.to_string()),
            ],
        )
    }
}

#[derive(Deserialize, Default, Clone, Debug)]
pub struct StaffFormData {
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
            ratings: None,
        },
    )
}

pub async fn staff_create(
    State(s): State<AppState>,
    ConsoleForm(mut c, f): ConsoleForm<StaffFormData>,
) -> Response {
    c.ctx.active = "staff";
    let tr = c.ctx.tr;
    let result = match opt_id("store_id", &f.store_id).and_then(|store| {
        let pw = Some(f.password.as_str()).filter(|p| !p.is_empty());
        NewStaffInput::parse(&f.username, &f.display_name, &f.role, store, pw)
    }) {
        Ok(input) => s
            .app
            .staff()
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
                    ratings: None,
                },
            )
        }
    }
}

fn staff_form_from_row(r: &StaffRow) -> StaffFormData {
    StaffFormData {
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
    match s.app.staff().get_staff(&c.session.actor, StaffId(id)).await {
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
            let ratings = if row.role == "guide" {
                super::ratings::staff_block(&s, &c.session.actor, id).await
            } else {
                None
            };
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
                    ratings,
                },
            )
        }
        Err(e) => error_page(c.ctx, e),
    }
}

pub async fn staff_update(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(mut c, f): ConsoleForm<StaffFormData>,
) -> Response {
    c.ctx.active = "staff";
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
            .staff()
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
            if let Ok(row) = s.app.staff().get_staff(&c.session.actor, StaffId(id)).await {
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
                    ratings: None,
                },
            )
        }
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
}

pub async fn staff_password(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(mut c, f): ConsoleForm<PasswordForm>,
) -> Response {
    c.ctx.active = "staff";
    let tr = c.ctx.tr;
    match s
        .app
        .staff()
        .reset_password(&c.session.actor, StaffId(id), &f.password)
        .await
    {
        Ok(()) => see_other(&format!("/console/staff/{id}?ok=password_reset")),
        Err(e) => {
            let (status, err) = form_error(tr, e);
            match s.app.staff().get_staff(&c.session.actor, StaffId(id)).await {
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
                            ratings: None,
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
