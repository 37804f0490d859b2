//! Console API token pages: list, create, revoke.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::tokens::NewTokenInput;
use yutang_app::tokens::TokenRow;
use yutang_core::ids::TokenId;

use super::confirm::{Confirm, confirm_page};
use super::layout::{
    ConsoleForm, CsrfForm, FormError, error_page, field_error, form_error, opt_id, see_other,
};
use super::{Console, Ctx, render};
use crate::auth::IdPath;
use crate::state::AppState;

// ---------------------------------------------------------------- API tokens

#[derive(Template)]
#[template(path = "console/tokens.html")]
struct TokensPage {
    ctx: Ctx,
    rows: Vec<TokenRow>,
    created: Option<String>,
    form: TokenForm,
    error: Option<FormError>,
}

#[derive(Deserialize, Default, Clone)]
pub struct TokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    expires_in_days: String,
}

pub async fn tokens(State(s): State<AppState>, mut c: Console) -> Response {
    c.ctx.active = "tokens";
    match s.app.tokens().list_tokens(&c.session.actor).await {
        Ok(rows) => {
            let form = TokenForm {
                role: "operator".into(),
                ..Default::default()
            };
            render(
                StatusCode::OK,
                &TokensPage {
                    ctx: c.ctx,
                    rows,
                    created: None,
                    form,
                    error: None,
                },
            )
        }
        Err(e) => error_page(c.ctx, e),
    }
}

pub async fn token_create(
    State(s): State<AppState>,
    ConsoleForm(mut c, f): ConsoleForm<TokenForm>,
) -> Response {
    c.ctx.active = "tokens";
    let tr = c.ctx.tr;
    let parsed = opt_id("expires_in_days", &f.expires_in_days)
        .and_then(|d| NewTokenInput::parse(&f.name, &f.role, d));
    let result = match parsed {
        Ok(input) => s
            .app
            .tokens()
            .create_token(&c.session.actor, &input)
            .await
            .map_err(|e| form_error(tr, e)),
        Err(e) => Err(field_error(tr, e)),
    };
    let (status, created, error, form) = match result {
        Ok(t) => (
            StatusCode::CREATED,
            Some(t.token),
            None,
            TokenForm {
                role: "operator".into(),
                ..Default::default()
            },
        ),
        Err((status, err)) => (status, None, Some(err), f),
    };
    if status == StatusCode::FORBIDDEN {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let rows = s
        .app
        .tokens()
        .list_tokens(&c.session.actor)
        .await
        .unwrap_or_default();
    render(
        status,
        &TokensPage {
            ctx: c.ctx,
            rows,
            created,
            form,
            error,
        },
    )
}

pub async fn token_revoke(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(mut c, _): ConsoleForm<CsrfForm>,
) -> Response {
    c.ctx.active = "tokens";
    match s
        .app
        .tokens()
        .revoke_token(&c.session.actor, TokenId(id))
        .await
    {
        Ok(_) => see_other("/console/tokens?ok=revoked"),
        Err(e) => error_page(c.ctx, e),
    }
}

/// Confirm revoking a token: integrations using it lose access.
pub async fn token_revoke_confirm(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    c: Console,
) -> Response {
    let rows = match s.app.tokens().list_tokens(&c.session.actor).await {
        Ok(r) => r,
        Err(e) => return error_page(c.ctx, e),
    };
    let Some(t) = rows.iter().find(|t| t.id == id) else {
        return error_page(c.ctx, AppError::NotFound { what: "token" });
    };
    let tr = c.ctx.tr;
    let confirm = Confirm {
        subject: tr.fill("confirm.token", &[("name", &t.name), ("prefix", &t.prefix)]),
        impact: vec![tr.t("confirm.token_effect").to_owned()],
        outcome: "revoke",
        action: format!("/console/tokens/{id}/revoke"),
        back: "/console/tokens",
    };
    confirm_page(c.ctx, "tokens", confirm)
}
