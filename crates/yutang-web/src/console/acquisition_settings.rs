//! The attribution settings page (归因设置, issue #19 item 6): `/console/acquisition/settings`
//! shows the last-touch window of orders to everyone who sees channels, with a form for
//! operators and admins. A refused value (not a whole number, outside 1–90) is shown under the
//! input, with the value typed kept.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::acquisition::settings::AcquisitionSettingsView;
use yutang_core::FieldError;
use yutang_core::acquisition::settings::{
    MAX_ATTRIBUTION_WINDOW_DAYS, MIN_ATTRIBUTION_WINDOW_DAYS,
};
use yutang_core::staff::Permission;

use super::layout::{ConsoleForm, FormError, error_page, field_error, form_error, see_other};
use super::{Console, Ctx, render};
use crate::state::AppState;

const PATH: &str = "/console/acquisition/settings";

#[derive(Template)]
#[template(path = "console/acquisition_settings.html")]
struct SettingsPage {
    ctx: Ctx,
    v: AcquisitionSettingsView,
    can_manage: bool,
    /// The value in the input: the one in force, or the one just refused.
    days: String,
    error: Option<FormError>,
    min: i64,
    max: i64,
}

impl SettingsPage {
    fn new(ctx: Ctx, v: AcquisitionSettingsView, can_manage: bool) -> Self {
        Self {
            days: v.attribution_window_days.to_string(),
            ctx,
            v,
            can_manage,
            error: None,
            min: MIN_ATTRIBUTION_WINDOW_DAYS,
            max: MAX_ATTRIBUTION_WINDOW_DAYS,
        }
    }

    /// "上次修改：… 由 …" once the settings were saved.
    fn updated_text(&self) -> Option<String> {
        self.v.updated_at.map(|at| {
            self.ctx.tr.fill(
                "asettings.updated_fmt",
                &[("at", &self.ctx.time(&at)), ("by", &self.v.updated_by)],
            )
        })
    }

    /// The allowed range under the input.
    fn range_text(&self) -> String {
        self.ctx.tr.fill(
            "asettings.range_fmt",
            &[
                ("min", &self.min.to_string()),
                ("max", &self.max.to_string()),
                (
                    "default",
                    &self.v.default_attribution_window_days.to_string(),
                ),
            ],
        )
    }

    /// "7 天" / "7 days": the window in force, in words.
    fn window_text(&self) -> String {
        self.ctx.tr.fill(
            "asettings.days_fmt",
            &[("n", &self.v.attribution_window_days.to_string())],
        )
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    attribution_window_days: String,
}

fn can_manage(c: &Console) -> bool {
    c.session.actor.can(Permission::ManagePromotions)
}

/// `GET /console/acquisition/settings`.
pub async fn page(State(s): State<AppState>, mut c: Console) -> Response {
    c.ctx.active = "acquisition";
    let manage = can_manage(&c);
    match s
        .app
        .acquisition()
        .acquisition_settings(&c.session.actor)
        .await
    {
        Ok(v) => render(StatusCode::OK, &SettingsPage::new(c.ctx, v, manage)),
        Err(e) => error_page(c.ctx, e),
    }
}

/// `POST /console/acquisition/settings`: save, then back to the page (`?ok=saved`).
pub async fn save(
    State(s): State<AppState>,
    ConsoleForm(mut c, f): ConsoleForm<SettingsForm>,
) -> Response {
    c.ctx.active = "acquisition";
    let tr = c.ctx.tr;
    let actor = &c.session.actor;
    let parsed = f
        .attribution_window_days
        .trim()
        .parse::<i64>()
        .map_err(|_| {
            FieldError::new(
                "attribution_window_days",
                "invalid_number",
                "attribution_window_days is a whole number of days",
            )
        });
    let result = match parsed {
        Ok(days) => s
            .app
            .acquisition()
            .save_acquisition_settings(actor, days)
            .await
            .map_err(|e| form_error(tr, e)),
        Err(e) => Err(field_error(tr, e)),
    };
    let (status, error) = match result {
        Ok(_) => return see_other(&format!("{PATH}?ok=saved")),
        Err(e) => e,
    };
    if status == StatusCode::FORBIDDEN {
        return error_page(c.ctx, yutang_app::AppError::Forbidden);
    }
    let manage = can_manage(&c);
    match s.app.acquisition().acquisition_settings(actor).await {
        Ok(v) => {
            let mut page = SettingsPage::new(c.ctx, v, manage);
            page.days = f.attribution_window_days;
            page.error = Some(error);
            render(status, &page)
        }
        Err(e) => error_page(c.ctx, e),
    }
}
