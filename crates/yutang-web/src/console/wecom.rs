//! `/console/settings/wecom`: the WeCom connection (admins): corp id, secrets (stored
//! encrypted, shown masked), callback Token and EncodingAESKey, API base; test the connection;
//! start a full sync and watch it.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use yutang_app::jobs::JobView;
use yutang_app::wecom::WecomStatus;
use yutang_app::wecom::inbox::CallbackView;
use yutang_app::wecom::settings::{
    AppSecret, ConnectionTest, WecomSettingsInput, WecomSettingsView,
};
use yutang_app::wecom::sync::SyncView;
use yutang_app::wecom::transfers::{
    Pick, RowState, TransferDetail, TransferInput, TransferKind, TransferSummary,
};
use yutang_core::FieldError;

use super::layout::{
    ConsoleForm, ConsoleQuery, CsrfForm, FormError, Pager, error_page, form_error, pager,
};
use super::wecom_check::CheckView;
use super::{Console, Ctx, render};
use crate::auth::IdPath;
use crate::state::AppState;

/// App secret rows on the form.
const APP_ROWS: usize = 3;

#[derive(Template)]
#[template(path = "console/wecom_settings.html")]
struct WecomPage {
    ctx: Ctx,
    view: WecomSettingsView,
    status: WecomStatus,
    sync: Option<SyncView>,
    /// `(agent id, masked secret)` per form row.
    app_rows: Vec<(String, String)>,
    error: Option<FormError>,
    test: Option<ConnectionTest>,
    /// The setup checker's last run, in words.
    check: Option<CheckView>,
    /// The public callback URL field: what the operator entered (a refused save), else the
    /// stored one.
    check_url: String,
    /// Parked, then failed callbacks (each with its error and a replay button).
    callbacks: Vec<CallbackView>,
    /// WeCom side jobs that failed for good (each with a retry button).
    failed_jobs: Vec<JobView>,
}

async fn page(
    s: &AppState,
    c: Console,
    status: StatusCode,
    error: Option<FormError>,
    test: Option<ConnectionTest>,
) -> Response {
    page_with(s, c, status, error, test, None, None).await
}

/// The page with a checker run, or with the public URL the operator entered (`check_url`).
pub(super) async fn page_with(
    s: &AppState,
    mut c: Console,
    status: StatusCode,
    error: Option<FormError>,
    test: Option<ConnectionTest>,
    check: Option<CheckView>,
    check_url: Option<String>,
) -> Response {
    c.ctx.active = "wecom";
    let a = &c.session.actor;
    let loaded = async {
        let view = s.app.wecom().wecom_settings(a).await?;
        let st = s.app.wecom().wecom_status(a).await?;
        let sync = s.app.wecom().latest_wecom_sync(a).await?;
        let mut callbacks = s
            .app
            .wecom()
            .wecom_callbacks(a, Some("parked"), 50, 0)
            .await?
            .items;
        callbacks.extend(
            s.app
                .wecom()
                .wecom_callbacks(a, Some("failed"), 50, 0)
                .await?
                .items,
        );
        let failed_jobs = s.app.wecom().wecom_failed_jobs(a, 50).await?;
        Ok::<_, yutang_app::AppError>((view, st, sync, callbacks, failed_jobs))
    }
    .await;
    match loaded {
        Ok((view, st, sync, callbacks, failed_jobs)) => {
            let mut app_rows: Vec<(String, String)> = view
                .app_secrets
                .iter()
                .map(|a| (a.agent_id.clone(), a.secret.clone()))
                .collect();
            while app_rows.len() < APP_ROWS {
                app_rows.push((String::new(), String::new()));
            }
            let check_url = check_url.unwrap_or_else(|| view.callback_public_url.clone());
            render(
                status,
                &WecomPage {
                    ctx: c.ctx,
                    view,
                    status: st,
                    sync,
                    app_rows,
                    error,
                    test,
                    check,
                    check_url,
                    callbacks,
                    failed_jobs,
                },
            )
        }
        Err(e) => error_page(c.ctx, e),
    }
}

pub async fn show(State(s): State<AppState>, c: Console) -> Response {
    page(&s, c, StatusCode::OK, None, None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SettingsForm {
    csrf: String,
    corp_id: Option<String>,
    api_base: Option<String>,
    contact_secret: Option<String>,
    callback_token: Option<String>,
    encoding_aes_key: Option<String>,
    app_agent_0: String,
    app_secret_0: String,
    app_agent_1: String,
    app_secret_1: String,
    app_agent_2: String,
    app_secret_2: String,
}

pub async fn save(
    State(s): State<AppState>,
    ConsoleForm(c, f): ConsoleForm<SettingsForm>,
) -> Response {
    let apps: Vec<AppSecret> = [
        (f.app_agent_0, f.app_secret_0),
        (f.app_agent_1, f.app_secret_1),
        (f.app_agent_2, f.app_secret_2),
    ]
    .into_iter()
    .filter(|(a, s)| !a.trim().is_empty() || !s.trim().is_empty())
    .map(|(agent_id, secret)| AppSecret { agent_id, secret })
    .collect();
    // Disabled (locked) inputs are not posted, so they stay untouched.
    let input = WecomSettingsInput {
        corp_id: f.corp_id,
        api_base: f.api_base,
        contact_secret: f.contact_secret,
        callback_token: f.callback_token,
        encoding_aes_key: f.encoding_aes_key,
        app_secrets: Some(apps),
        callback_public_url: None,
        clear: Vec::new(),
    };
    match s
        .app
        .wecom()
        .save_wecom_settings(&c.session.actor, &input)
        .await
    {
        Ok(_) => Redirect::to("/console/settings/wecom?ok=saved").into_response(),
        Err(e) => {
            let (status, err) = form_error(c.ctx.tr, e);
            page(&s, c, status, Some(err), None).await
        }
    }
}

pub async fn test(State(s): State<AppState>, ConsoleForm(c, _): ConsoleForm<CsrfForm>) -> Response {
    match s.app.wecom().test_wecom_connection(&c.session.actor).await {
        Ok(t) => page(&s, c, StatusCode::OK, None, Some(t)).await,
        Err(e) => error_page(c.ctx, e),
    }
}

pub async fn sync(State(s): State<AppState>, ConsoleForm(c, _): ConsoleForm<CsrfForm>) -> Response {
    match s.app.wecom().start_wecom_sync(&c.session.actor, None).await {
        Ok(_) => Redirect::to("/console/settings/wecom#sync-status").into_response(),
        Err(e) => {
            let (status, err) = form_error(c.ctx.tr, e);
            page(&s, c, status, Some(err), None).await
        }
    }
}

/// Replay a parked (or failed) callback now.
pub async fn replay_callback(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s
        .app
        .wecom()
        .replay_wecom_callback(&c.session.actor, id)
        .await
    {
        Ok(v) => Redirect::to(&format!(
            "/console/settings/wecom?replayed={}&status={}#callbacks",
            v.id, v.status
        ))
        .into_response(),
        Err(e) => {
            let (status, err) = form_error(c.ctx.tr, e);
            page(&s, c, status, Some(err), None).await
        }
    }
}

/// Queue a failed WeCom side job again.
pub async fn retry_job(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s.app.wecom().retry_wecom_job(&c.session.actor, id).await {
        Ok(_) => Redirect::to("/console/settings/wecom?retried=1#side-jobs").into_response(),
        Err(e) => {
            let (status, err) = form_error(c.ctx.tr, e);
            page(&s, c, status, Some(err), None).await
        }
    }
}

// ---------------------------------------------------------------- transfers

#[derive(Template)]
#[template(path = "console/wecom_transfers.html")]
struct TransfersPage {
    ctx: Ctx,
    rows: Vec<TransferSummary>,
    staff: Vec<yutang_app::staff::StaffRow>,
    error: Option<FormError>,
    /// The form's values when it opens from the customer list's 转接 (or comes back refused).
    prefill: TransferPrefill,
}

impl TransfersPage {
    /// "3 位客户（来自客户列表）" above a prefilled form.
    fn prefilled_text(&self) -> String {
        let n = self
            .prefill
            .customer_ids
            .split(',')
            .filter(|x| !x.trim().is_empty())
            .count();
        let text = self
            .ctx
            .tr
            .fill("transfer.prefilled", &[("n", &n.to_string())]);
        match self.prefill.skipped {
            0 => text,
            k => format!(
                "{text} {}",
                self.ctx
                    .tr
                    .fill("transfer.skipped", &[("n", &k.to_string())])
            ),
        }
    }
}

/// The transfer form's starting values (`?handover_staff_id=&customer_ids=`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TransferPrefill {
    handover_staff_id: String,
    customer_ids: String,
    /// Ticked customers the list left out (not the guide's WeCom contacts).
    skipped: u32,
}

async fn transfers_page(
    s: &AppState,
    mut c: Console,
    status: StatusCode,
    error: Option<FormError>,
    prefill: TransferPrefill,
) -> Response {
    c.ctx.active = "transfers";
    let a = &c.session.actor;
    let loaded = async {
        Ok::<_, yutang_app::AppError>((
            s.app.wecom().transfer_summaries(a).await?,
            s.app.wecom().wecom_linked_staff(a).await?,
        ))
    }
    .await;
    match loaded {
        Ok((rows, staff)) => render(
            status,
            &TransfersPage {
                ctx: c.ctx,
                rows,
                staff,
                error,
                prefill,
            },
        ),
        Err(e) => error_page(c.ctx, e),
    }
}

pub async fn transfers(
    State(s): State<AppState>,
    c: Console,
    ConsoleQuery(prefill): ConsoleQuery<TransferPrefill>,
) -> Response {
    transfers_page(&s, c, StatusCode::OK, None, prefill).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TransferForm {
    csrf: String,
    kind: String,
    handover_staff_id: String,
    takeover_staff_id: String,
    /// Empty: all; otherwise ids separated by commas or spaces.
    customer_ids: String,
    groups: Option<String>,
    message: String,
}

fn parse_ids(field: &'static str, s: &str) -> Result<Vec<i64>, FieldError> {
    s.split([',', ' ', '，', '\n'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| {
            x.parse::<i64>()
                .map_err(|_| FieldError::new(field, "invalid_id", "ids are numbers"))
        })
        .collect()
}

pub async fn transfer_create(
    State(s): State<AppState>,
    ConsoleForm(c, f): ConsoleForm<TransferForm>,
) -> Response {
    let tr = c.ctx.tr;
    let parsed = (|| {
        let kind = TransferKind::parse(&f.kind)?;
        let id = |field: &'static str, v: &str| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| FieldError::new(field, "invalid_id", "pick a staff member"))
        };
        let ids = parse_ids("customer_ids", &f.customer_ids)?;
        Ok::<_, yutang_app::AppError>(TransferInput {
            kind,
            handover_staff_id: id("handover_staff_id", &f.handover_staff_id)?,
            takeover_staff_id: id("takeover_staff_id", &f.takeover_staff_id)?,
            customers: if ids.is_empty() {
                Pick::All
            } else {
                Pick::Only(ids)
            },
            groups: if f.groups.as_deref() == Some("all") {
                Pick::All
            } else {
                Pick::None
            },
            message: Some(f.message.clone()).filter(|m| !m.trim().is_empty()),
        })
    })();
    let result = match parsed {
        Ok(input) => {
            s.app
                .wecom()
                .start_transfer(&c.session.actor, &input, None)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(v) => {
            Redirect::to(&format!("/console/wecom/transfers/{}", v.transfer.id)).into_response()
        }
        Err(e) => {
            let (status, err) = form_error(tr, e);
            let prefill = TransferPrefill {
                handover_staff_id: f.handover_staff_id.clone(),
                customer_ids: f.customer_ids.clone(),
                skipped: 0,
            };
            transfers_page(&s, c, status, Some(err), prefill).await
        }
    }
}

/// Customer rows per page of a transfer.
const TRANSFER_PAGE_SIZE: i64 = 50;

#[derive(Template)]
#[template(path = "console/wecom_transfer.html")]
struct TransferPage {
    ctx: Ctx,
    view: TransferDetail,
    /// The state the rows are filtered by (`""`: all).
    state: &'static str,
    /// `(state, count, href)` for the summary, in the order it shows them.
    states: Vec<(&'static str, usize, String)>,
    pager: Pager,
}

impl TransferPage {
    /// Whether the rows are filtered by `state`.
    fn is_current(&self, state: &str) -> bool {
        self.state == state
    }

    /// A transfer's state (`running`, `done`) in words.
    fn job_state(&self, status: &str) -> &'static str {
        self.ctx.tr.t(&format!("transfer.status.{status}"))
    }

    /// A customer or group row's state in words.
    fn row_state(&self, status: &str) -> &'static str {
        match status {
            "sending" => self.ctx.tr.t("transfer.sending"),
            "waiting" | "success" | "failed" => self.ctx.tr.t(&format!("transfer.{status}")),
            _ => self.ctx.tr.t("transfer.pending"),
        }
    }

    /// Why a row failed, in words: the reason Yutang recorded, else WeCom's error code.
    fn reason(&self, errcode: &i64, reason: &str) -> String {
        let tr = self.ctx.tr;
        let known = |key: String| super::i18n::lookup(&key).map(|_| tr.t(&key));
        if let Some(t) = known(format!("transfer.reason.{reason}")) {
            return t.to_owned();
        }
        if *errcode != 0 {
            return match known(format!("transfer.errcode.{errcode}")) {
                Some(t) => t.to_owned(),
                None => format!("{} {errcode}", tr.t("transfer.reason.wecom_code")),
            };
        }
        String::new()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TransferQuery {
    page: Option<i64>,
    state: Option<String>,
}

async fn transfer_page(s: &AppState, mut c: Console, id: i64, q: &TransferQuery) -> Response {
    c.ctx.active = "transfers";
    let a = &c.session.actor;
    let state = match q.state.as_deref().filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => match RowState::parse(v) {
            Ok(st) => Some(st),
            Err(e) => return error_page(c.ctx, e),
        },
    };
    let page = q.page.unwrap_or(1).max(1);
    let offset = (page - 1).saturating_mul(TRANSFER_PAGE_SIZE);
    let view = match s
        .app
        .wecom()
        .transfer_detail(a, id, state, TRANSFER_PAGE_SIZE, offset)
        .await
    {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let base = format!("/console/wecom/transfers/{id}");
    let states = RowState::ALL
        .into_iter()
        .map(|st| {
            (
                st.as_str(),
                st.of(&view.summary.customers),
                format!("{base}?state={}", st.as_str()),
            )
        })
        .collect();
    let state = state.map(RowState::as_str).unwrap_or("");
    let pager = pager(
        &base,
        &[("state", state.to_owned())],
        page,
        TRANSFER_PAGE_SIZE,
        i64::try_from(view.matching).unwrap_or(i64::MAX),
    );
    render(
        StatusCode::OK,
        &TransferPage {
            ctx: c.ctx,
            view,
            state,
            states,
            pager,
        },
    )
}

pub async fn transfer_show(
    State(s): State<AppState>,
    c: Console,
    IdPath(id): IdPath,
    ConsoleQuery(q): ConsoleQuery<TransferQuery>,
) -> Response {
    transfer_page(&s, c, id, &q).await
}

pub async fn transfer_refresh(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(mut c, _): ConsoleForm<CsrfForm>,
) -> Response {
    c.ctx.active = "transfers";
    match s.app.wecom().refresh_transfer(&c.session.actor, id).await {
        Ok(_) => Redirect::to(&format!("/console/wecom/transfers/{id}")).into_response(),
        Err(e) => error_page(c.ctx, e),
    }
}
