//! `/console/inbound` (admins, issue #24 item 7): 订单接入, the sources that push orders,
//! payments, shipments, refunds and member records into Yutang. The list with the create
//! form — a generic source's signing secret is shown once, right after creation, with its
//! receiving URL; a 有赞 source takes the app's client_id and client_secret — and each
//! source's page: its receiving URL and an integration guide for its format, its settings
//! form (pausing included), secret rotation (generic sources) and delete (both through a
//! confirmation page), and the message log, filtered by status and paged, with a retry
//! button on failed messages. Every page reads through `app.inbound()`, which refuses
//! everyone but admins (`ManageIntegrations`) with the console's forbidden page.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::audit::Page;
use yutang_app::inbound::{MessageRow, SourceInput, SourceRow, WithSecret, parse_status};
use yutang_app::org::{StoreQuery, StoreRow};
use yutang_core::FieldError;
use yutang_core::error_codes;
use yutang_core::inbound::SourceFormat;
use yutang_core::staff::Permission;

use super::confirm::{Confirm, confirm_page};
use super::layout::{
    ConsoleForm, ConsoleQuery, CsrfForm, FormError, Pager, error_for, error_page, form_error,
    nonempty, opt_id, pager, see_other,
};
use super::{Console, Ctx, Tr, render};
use crate::auth::{IdPair, IdPath};
use crate::error::WebError;
use crate::state::AppState;

const LIST_PATH: &str = "/console/inbound";
/// The statuses the message log can be filtered by, in the order the filters show them.
const STATUSES: [&str; 4] = ["applied", "draft", "ignored", "failed"];
/// The formats a source may speak, in the order the create form offers them.
const FORMATS: [&str; 2] = ["generic", "youzan"];
/// Sales channels the channel input suggests (channels are free-form).
const CHANNELS: [&str; 11] = [
    "mini_program",
    "youzan",
    "store",
    "tmall",
    "jd",
    "douyin",
    "wechat_shop",
    "app",
    "live",
    "delivery",
    "pos",
];
/// The form fields a refusal may name (any other refusal shows above the form).
const FIELDS: [&str; 7] = [
    "name",
    "format",
    "channel",
    "store_id",
    "status",
    "app_id",
    "client_secret",
];
/// The 有赞 message types to subscribe to, in the order the guide lists them.
const YOUZAN_SUBSCRIBE: [&str; 9] = [
    "trade_TradeCreate",
    "trade_TradePaid",
    "trade_TradeBuyerPay",
    "trade_TradeSellerShip",
    "trade_TradeSuccess",
    "trade_TradeClose",
    "trade_refund_RefundSuccess",
    "youzan_trade_RefundSuccess",
    "SCRM_CUSTOMER_EVENT",
];

fn detail_path(id: i64) -> String {
    format!("{LIST_PATH}/{id}")
}

/// Where a source receives its messages, from the public base: `/api/v1/inbound/{format}/
/// {source_key}`.
fn receiving_path(row: &SourceRow) -> String {
    format!("/api/v1/inbound/{}/{}", row.format, row.source_key)
}

// ---------------------------------------------------------------- words

fn format_label(tr: Tr, format: &str) -> &'static str {
    match format {
        "youzan" => tr.t("inbound.format.youzan"),
        _ => tr.t("inbound.format.generic"),
    }
}

/// A source's status (`active`, `paused`) in words.
fn status_label(tr: Tr, status: &str) -> &'static str {
    match status {
        "active" => tr.t("inbound.status.active"),
        _ => tr.t("inbound.status.paused"),
    }
}

/// A message's status in words.
fn message_label(tr: Tr, status: &str) -> &'static str {
    match status {
        "applied" => tr.t("inbound.msg.applied"),
        "draft" => tr.t("inbound.msg.draft"),
        "ignored" => tr.t("inbound.msg.ignored"),
        _ => tr.t("inbound.msg.failed"),
    }
}

/// A message kind's label (`order.paid`, `trade_TradePaid` …), or nothing for a kind without
/// one (the code shows beside it anyway).
fn kind_name(tr: Tr, kind: &str) -> String {
    let label = super::labels::code_or_raw(tr, "inbound.kind.", kind);
    if label == kind { String::new() } else { label }
}

/// Why a message was ignored (or applied without a write), or why it failed, in words; empty
/// when the code has no text (the code shows beside it).
fn reason_text(tr: Tr, m: &MessageRow) -> String {
    let code = m.error_code.as_str();
    if code.is_empty() {
        return String::new();
    }
    if let Some(status) = code.strip_prefix("order_is_") {
        let key = format!("order.{status}");
        if super::i18n::lookup(&key).is_some() {
            return tr.fill("inbound.reason.order_is", &[("status", tr.t(&key))]);
        }
    }
    let key = format!("inbound.reason.{code}");
    if super::i18n::lookup(&key).is_some() {
        return tr.t(&key).to_owned();
    }
    tr.error_or(code, "")
}

/// A payload as received, indented for reading when it is JSON.
fn pretty(payload: &str) -> String {
    serde_json::from_str::<serde_json::Value>(payload)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| payload.to_owned())
}

/// The example message the generic guide shows (and its shell snippet signs), indented in
/// the order an integrator writes it.
const EXAMPLE_BODY: &str = r#"{
  "id": "SO-1-paid",
  "type": "order.paid",
  "occurred_at": "2026-12-01T10:00:00+08:00",
  "data": {
    "external_id": "SO-1",
    "buyer": {
      "identities": [{ "kind": "phone", "value": "13800138000" }],
      "name": "王芳"
    },
    "lines": [
      { "sku": "A", "name": "苹果", "quantity": 2, "unit_price_fen": 1500 }
    ],
    "discount_fen": 0,
    "paid_at": "2026-12-01T10:00:00+08:00"
  }
}"#;

/// A shell snippet that signs and sends [`EXAMPLE_BODY`] to `url` (the signature covers the
/// body's bytes as sent, spaces and line breaks included).
fn curl_example(url: &str) -> String {
    format!(
        "SECRET='<签名密钥>'\n\
         BODY='{EXAMPLE_BODY}'\n\
         T=$(date +%s)\n\
         SIG=$(printf '%s.%s' \"$T\" \"$BODY\" | openssl dgst -sha256 -hmac \"$SECRET\" | sed 's/^.*= //')\n\
         curl -X POST '{url}' \\\n  \
         -H 'Content-Type: application/json' \\\n  \
         -H \"X-Yutang-Signature: t=$T,v1=$SIG\" \\\n  \
         --data-raw \"$BODY\""
    )
}

// ---------------------------------------------------------------- the form

/// The create and edit form as typed, so a refused form comes back filled in. The 有赞
/// client_secret is never written back into the page.
#[derive(Debug, Clone, Default)]
pub struct SourceForm {
    name: String,
    format: String,
    channel: String,
    store_id: String,
    status: String,
    app_id: String,
    client_secret: String,
}

impl SourceForm {
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut f = Self::default();
        for (k, v) in pairs {
            let slot = match k.as_str() {
                "name" => &mut f.name,
                "format" => &mut f.format,
                "channel" => &mut f.channel,
                "store_id" => &mut f.store_id,
                "status" => &mut f.status,
                "app_id" => &mut f.app_id,
                "client_secret" => &mut f.client_secret,
                _ => continue,
            };
            v.clone_into(slot);
        }
        f
    }

    fn from_row(row: &SourceRow) -> Self {
        Self {
            name: row.name.clone(),
            format: row.format.clone(),
            channel: row.channel.clone(),
            store_id: row.store_id.map(|s| s.to_string()).unwrap_or_default(),
            status: row.status.clone(),
            app_id: row.app_id.clone(),
            client_secret: String::new(),
        }
    }

    fn format(&self) -> Result<SourceFormat, FieldError> {
        SourceFormat::parse("format", &self.format)
    }

    /// The source as typed, for `format`.
    fn input(&self, format: SourceFormat) -> Result<SourceInput, FieldError> {
        let active = match self.status.trim() {
            "" | "active" => true,
            "paused" => false,
            _ => {
                return Err(FieldError::new(
                    "status",
                    "invalid_status",
                    "status must be active or paused",
                ));
            }
        };
        let channel = Some(self.channel.clone());
        let app_id = Some(self.app_id.clone());
        SourceInput::parse(
            format,
            &self.name,
            nonempty(&channel),
            opt_id("store_id", &self.store_id)?,
            nonempty(&app_id),
            Some(active),
        )
    }

    /// The client_secret typed, if any (blank: none, or keep the current one).
    fn secret(&self) -> Option<&str> {
        Some(self.client_secret.trim()).filter(|s| !s.is_empty())
    }

    fn is_format(&self, format: &str) -> bool {
        self.format == format
    }

    fn is_status(&self, status: &str) -> bool {
        self.status == status || (self.status.is_empty() && status == "active")
    }

    fn is_store(&self, id: &i64) -> bool {
        self.store_id.trim() == id.to_string()
    }
}

/// Stores a source may record its orders at (first 200, as the other console forms).
async fn stores(s: &AppState, c: &Console) -> Vec<StoreRow> {
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

/// The receiving URLs' base (`h5.public_url`, else this request's origin) and, when it came
/// from the request, the host used, for the page's notice.
fn base_of(s: &AppState, headers: &HeaderMap) -> (String, Option<String>) {
    super::share::origin(s, headers)
}

// ---------------------------------------------------------------- the list

#[derive(Template)]
#[template(path = "console/inbound_sources.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<SourceRow>,
    /// The source just created, with a generic one's signing secret (shown this once).
    created: Option<WithSecret>,
    form: SourceForm,
    error: Option<FormError>,
    stores: Vec<StoreRow>,
    base: String,
    host_fallback: Option<String>,
}

/// What the form fields' template asks of its page (the list's create form and a source's
/// settings form).
macro_rules! form_methods {
    () => {
        fn err(&self, field: &str) -> Option<&'static str> {
            error_for(&self.error, field)
        }
        /// A refusal not about one of the form's inputs (shown above the form).
        fn general_error(&self) -> Option<&'static str> {
            self.error
                .as_ref()
                .filter(|e| !FIELDS.contains(&e.field.as_str()))
                .map(|e| e.message)
        }
        fn channels(&self) -> &'static [&'static str] {
            &CHANNELS
        }
        fn channel_label(&self, channel: &str) -> String {
            self.ctx.tr.channel(channel)
        }
        fn format_label(&self, format: &str) -> &'static str {
            format_label(self.ctx.tr, format)
        }
        fn status_label(&self, status: &str) -> &'static str {
            status_label(self.ctx.tr, status)
        }
        fn host_notice(&self, host: &str) -> String {
            self.ctx.tr.fill("inbound.host_notice", &[("host", host)])
        }
    };
}

impl ListPage {
    form_methods!();
    fn editing(&self) -> bool {
        false
    }
    /// The create form asks for the 有赞 fields whatever the format chosen (it works
    /// without scripts); a generic source refuses them.
    fn youzan_fields(&self) -> bool {
        true
    }
    fn formats(&self) -> &'static [&'static str] {
        &FORMATS
    }
    fn url_of(&self, row: &SourceRow) -> String {
        format!("{}{}", self.base, receiving_path(row))
    }
}

async fn list_page(
    s: &AppState,
    mut c: Console,
    headers: &HeaderMap,
    status: StatusCode,
    created: Option<WithSecret>,
    form: SourceForm,
    error: Option<FormError>,
) -> Response {
    c.ctx.active = "inbound";
    let rows = match s.app.inbound().list(&c.session.actor).await {
        Ok(rows) => rows,
        Err(e) => return error_page(c.ctx, e),
    };
    let stores = stores(s, &c).await;
    let (base, host_fallback) = base_of(s, headers);
    render(
        status,
        &ListPage {
            ctx: c.ctx,
            rows,
            created,
            form,
            error,
            stores,
            base,
            host_fallback,
        },
    )
}

pub async fn list(State(s): State<AppState>, headers: HeaderMap, c: Console) -> Response {
    let form = SourceForm {
        format: "generic".into(),
        ..SourceForm::default()
    };
    list_page(&s, c, &headers, StatusCode::OK, None, form, None).await
}

pub async fn create(
    State(s): State<AppState>,
    headers: HeaderMap,
    ConsoleForm(c, pairs): ConsoleForm<Vec<(String, String)>>,
) -> Response {
    // Admins only, whatever the form holds.
    if !c.session.actor.can(Permission::ManageIntegrations) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let f = SourceForm::from_pairs(&pairs);
    let parsed = f
        .format()
        .and_then(|format| f.input(format).map(|input| (format, input)));
    let created = match parsed {
        Ok((format, input)) => {
            s.app
                .inbound()
                .create(&c.session.actor, format, &input, f.secret())
                .await
        }
        Err(e) => Err(e.into()),
    };
    match created {
        Ok(w) => {
            let form = SourceForm {
                format: "generic".into(),
                ..SourceForm::default()
            };
            list_page(&s, c, &headers, StatusCode::CREATED, Some(w), form, None).await
        }
        Err(e @ AppError::Forbidden) => error_page(c.ctx, e),
        Err(e) => {
            let (status, err) = form_error(c.ctx.tr, e);
            list_page(&s, c, &headers, status, None, f, Some(err)).await
        }
    }
}

// ---------------------------------------------------------------- one source

/// What became of a retried message, for the flash above the log.
struct RetryNote {
    ok: bool,
    text: String,
    /// The error code when it still failed (known codes only; `None` otherwise).
    failed_with: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "console/inbound_source.html")]
struct DetailPage {
    ctx: Ctx,
    src: SourceRow,
    url: String,
    host_fallback: Option<String>,
    /// The new signing secret, right after a rotation (shown this once).
    secret: Option<String>,
    form: SourceForm,
    error: Option<FormError>,
    stores: Vec<StoreRow>,
    messages: Vec<MessageRow>,
    /// The status the log is filtered by (`""`: all).
    status: &'static str,
    /// `(status, href)` of the log's filters.
    filters: Vec<(&'static str, String)>,
    pager: Pager,
    retried: Option<RetryNote>,
}

impl DetailPage {
    form_methods!();
    fn editing(&self) -> bool {
        true
    }
    fn youzan_fields(&self) -> bool {
        self.is_youzan()
    }
    fn is_youzan(&self) -> bool {
        self.src.format == "youzan"
    }
    fn message_label(&self, status: &str) -> &'static str {
        message_label(self.ctx.tr, status)
    }
    fn kind_name(&self, kind: &str) -> String {
        kind_name(self.ctx.tr, kind)
    }
    fn reason(&self, m: &MessageRow) -> String {
        reason_text(self.ctx.tr, m)
    }
    fn pretty(&self, payload: &str) -> String {
        pretty(payload)
    }
    /// Whether the log is filtered by `status`.
    fn is_current(&self, status: &str) -> bool {
        self.status == status
    }
    fn generic_kinds(&self) -> &'static [&'static str] {
        &yutang_core::inbound::GENERIC_KINDS
    }
    fn youzan_kinds(&self) -> &'static [&'static str] {
        &YOUZAN_SUBSCRIBE
    }
    fn example_body(&self) -> &'static str {
        EXAMPLE_BODY
    }
    fn curl_example(&self) -> String {
        curl_example(&self.url)
    }
    /// The store orders are recorded at, or 不指定.
    fn store_text(&self) -> String {
        match (&self.src.store_name, self.src.store_id) {
            (Some(name), _) => name.clone(),
            (None, Some(id)) => format!("#{id}"),
            (None, None) => self.ctx.tr.t("inbound.no_store").to_owned(),
        }
    }
}

/// The message log's query: `?status=failed&page=2`, and after a retry the message and its
/// outcome (`retried=7&outcome=applied`, or `retried=7&error=order_not_yet_received`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LogQuery {
    status: Option<String>,
    page: Option<i64>,
    retried: Option<i64>,
    outcome: Option<String>,
    replay: Option<String>,
    error: Option<String>,
}

impl LogQuery {
    /// The flash of a retry, from the query (only known statuses and codes are shown).
    fn note(&self, tr: Tr) -> Option<RetryNote> {
        let id = self.retried?;
        let id = id.to_string();
        if let Some(code) = self.error.as_deref() {
            let known = error_codes::find(code).map(|c| c.code).unwrap_or("");
            return Some(RetryNote {
                ok: false,
                text: tr.fill(
                    "inbound.retried_failed",
                    &[("id", &id), ("error", tr.error(code))],
                ),
                failed_with: Some(known).filter(|k| !k.is_empty()),
            });
        }
        let status = STATUSES
            .into_iter()
            .find(|s| Some(*s) == self.outcome.as_deref())?;
        let key = if self.replay.is_some() {
            "inbound.retried_replay"
        } else {
            "inbound.retried_ok"
        };
        Some(RetryNote {
            ok: status != "failed",
            text: tr.fill(key, &[("id", &id), ("status", message_label(tr, status))]),
            failed_with: None,
        })
    }
}

/// What a detail page shows besides the source and its log.
#[derive(Default)]
struct Extra {
    secret: Option<String>,
    form: Option<SourceForm>,
    error: Option<FormError>,
}

async fn detail_page(
    s: &AppState,
    mut c: Console,
    headers: &HeaderMap,
    id: i64,
    q: &LogQuery,
    code: StatusCode,
    extra: Extra,
) -> Response {
    c.ctx.active = "inbound";
    let a = &c.session.actor;
    let inbound = s.app.inbound();
    let src = match inbound.get(a, id).await {
        Ok(src) => src,
        Err(e) => return error_page(c.ctx, e),
    };
    let status = match parse_status(q.status.as_deref()) {
        Ok(st) => STATUSES.into_iter().find(|s| Some(*s) == st).unwrap_or(""),
        Err(e) => return error_page(c.ctx, e.into()),
    };
    let page = match Page::parse(q.page, None) {
        Ok(p) => p,
        Err(e) => return error_page(c.ctx, e.into()),
    };
    let log = match inbound
        .messages(a, id, (!status.is_empty()).then_some(status), page)
        .await
    {
        Ok(l) => l,
        Err(e) => return error_page(c.ctx, e),
    };
    let base = detail_path(id);
    let filters = STATUSES
        .into_iter()
        .map(|st| (st, format!("{base}?status={st}#messages")))
        .collect();
    let pager = pager(
        &base,
        &[("status", status.to_owned())],
        log.page,
        log.page_size,
        log.total,
    );
    let stores = stores(s, &c).await;
    let (origin, host_fallback) = base_of(s, headers);
    let url = format!("{origin}{}", receiving_path(&src));
    let form = extra.form.unwrap_or_else(|| SourceForm::from_row(&src));
    let retried = q.note(c.ctx.tr);
    render(
        code,
        &DetailPage {
            ctx: c.ctx,
            src,
            url,
            host_fallback,
            secret: extra.secret,
            form,
            error: extra.error,
            stores,
            messages: log.items,
            status,
            filters,
            pager,
            retried,
        },
    )
}

pub async fn show(
    State(s): State<AppState>,
    headers: HeaderMap,
    c: Console,
    IdPath(id): IdPath,
    ConsoleQuery(q): ConsoleQuery<LogQuery>,
) -> Response {
    detail_page(&s, c, &headers, id, &q, StatusCode::OK, Extra::default()).await
}

pub async fn update(
    State(s): State<AppState>,
    headers: HeaderMap,
    IdPath(id): IdPath,
    ConsoleForm(c, pairs): ConsoleForm<Vec<(String, String)>>,
) -> Response {
    let inbound = s.app.inbound();
    // Forbidden or gone before the form is read.
    let current = match inbound.get(&c.session.actor, id).await {
        Ok(src) => src,
        Err(e) => return error_page(c.ctx, e),
    };
    let mut f = SourceForm::from_pairs(&pairs);
    // The format is the source's own, whatever the form says.
    f.format.clone_from(&current.format);
    let saved = inbound
        .update(&c.session.actor, id, |format| f.input(format), f.secret())
        .await;
    match saved {
        Ok(_) => see_other(&format!("{}?ok=saved", detail_path(id))),
        Err(e @ (AppError::Forbidden | AppError::NotFound { .. })) => error_page(c.ctx, e),
        Err(e) => {
            let (status, err) = form_error(c.ctx.tr, e);
            f.client_secret.clear();
            let extra = Extra {
                form: Some(f),
                error: Some(err),
                ..Extra::default()
            };
            let q = LogQuery::default();
            detail_page(&s, c, &headers, id, &q, status, extra).await
        }
    }
}

/// Run a logged message again; the page's flash says what became of it.
pub async fn retry(
    State(s): State<AppState>,
    IdPair(id, message): IdPair,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    let base = detail_path(id);
    match s.app.inbound().retry(&c.session.actor, id, message).await {
        Ok(r) => {
            let replay = if r.replay { "&replay=1" } else { "" };
            see_other(&format!(
                "{base}?retried={message}&outcome={}{replay}#messages",
                r.status
            ))
        }
        Err(
            e @ (AppError::Forbidden
            | AppError::NotFound { .. }
            | AppError::Store(_)
            | AppError::Internal(_)),
        ) => error_page(c.ctx, e),
        // Still failing: the log has the error; the flash names it.
        Err(e) => {
            let code = WebError::from(e).code;
            see_other(&format!("{base}?retried={message}&error={code}#messages"))
        }
    }
}

/// Confirm a new signing secret: the sender's signatures fail until it has the new one.
pub async fn rotate_confirm(State(s): State<AppState>, IdPath(id): IdPath, c: Console) -> Response {
    let src = match s.app.inbound().get(&c.session.actor, id).await {
        Ok(src) => src,
        Err(e) => return error_page(c.ctx, e),
    };
    if src.format != "generic" {
        return error_page(
            c.ctx,
            AppError::Rule {
                code: "not_generic",
                message: "a 有赞 source verifies with the app's client_secret".into(),
            },
        );
    }
    let tr = c.ctx.tr;
    let confirm = Confirm {
        subject: tr.fill("inbound.confirm_subject", &[("name", &src.name)]),
        impact: vec![tr.t("inbound.rotate_effect").to_owned()],
        outcome: "rotate",
        action: format!("{}/rotate", detail_path(id)),
        back: LIST_PATH,
    };
    confirm_page(c.ctx, "inbound", confirm)
}

/// A new signing secret, shown on the source's page this once.
pub async fn rotate(
    State(s): State<AppState>,
    headers: HeaderMap,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s.app.inbound().rotate_secret(&c.session.actor, id).await {
        Ok(w) => {
            let extra = Extra {
                secret: w.secret,
                ..Extra::default()
            };
            let q = LogQuery::default();
            detail_page(&s, c, &headers, id, &q, StatusCode::OK, extra).await
        }
        Err(e) => error_page(c.ctx, e),
    }
}

/// Confirm deleting a source: its receiving URL stops accepting messages.
pub async fn delete_confirm(
    State(s): State<AppState>,
    headers: HeaderMap,
    IdPath(id): IdPath,
    c: Console,
) -> Response {
    let src = match s.app.inbound().get(&c.session.actor, id).await {
        Ok(src) => src,
        Err(e) => return error_page(c.ctx, e),
    };
    let tr = c.ctx.tr;
    let (origin, _) = base_of(&s, &headers);
    let url = format!("{origin}{}", receiving_path(&src));
    let confirm = Confirm {
        subject: tr.fill("inbound.confirm_subject", &[("name", &src.name)]),
        impact: vec![
            tr.fill("inbound.delete_effect", &[("url", &url)]),
            tr.t("inbound.delete_keeps").to_owned(),
        ],
        outcome: "delete",
        action: format!("{}/delete", detail_path(id)),
        back: LIST_PATH,
    };
    confirm_page(c.ctx, "inbound", confirm)
}

pub async fn delete(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s.app.inbound().delete(&c.session.actor, id).await {
        Ok(()) => see_other(&format!("{LIST_PATH}?ok=deleted")),
        Err(e) => error_page(c.ctx, e),
    }
}

// ---------------------------------------------------------------- texts

/// The pages' own texts (`inbound.…`).
pub(crate) fn text(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "inbound.nav" => ("订单接入", "Order sync"),
        "inbound.title" => ("订单接入", "Order sync"),
        "inbound.intro" => (
            "让商城、收银或 ERP 把订单、支付、发货、退款和会员资料推送给鱼塘：每个来源有自己的接收地址和签名校验，同一条消息重发只处理一次，处理失败的消息留在记录里，可查看原因并重试。",
            "Let your shop, POS or ERP push orders, payments, shipments, refunds and member records to Yutang: each source has its own receiving URL and signature check, a message sent twice is applied once, and messages that fail stay in the log with their reason, ready to retry.",
        ),
        "inbound.host_notice" => (
            "未设置 h5.public_url：接收地址按本次访问的地址 {host} 生成。发送方若访问不到这个地址（例如 localhost 或内网地址），请把其中的主机换成本服务器的对外地址，或在配置中设置 h5.public_url。",
            "h5.public_url is not set: receiving URLs are built from the address of this visit, {host}. If the sender cannot reach it (localhost, an intranet address), replace the host with this server's public address, or set h5.public_url.",
        ),
        "inbound.new" => ("新建来源", "New source"),
        "inbound.create" => ("创建", "Create"),
        "inbound.name" => ("名称", "Name"),
        "inbound.format" => ("接入方式", "Format"),
        "inbound.format.generic" => ("通用签名", "Generic (signed)"),
        "inbound.format.youzan" => ("有赞", "Youzan"),
        "inbound.format_help" => (
            "通用签名：任何系统按鱼塘的消息格式推送（创建后在来源页查看接入说明），鱼塘生成签名密钥。有赞：在有赞云应用里订阅交易与客户消息，需填写该应用的 client_id 与 client_secret。创建后不能更改。",
            "Generic: any system pushes messages in Yutang's format (the source's page has the guide), signed with a secret Yutang makes. Youzan: subscribe the app's trade and customer messages in 有赞云, and give the app's client_id and client_secret. It cannot be changed later.",
        ),
        "inbound.channel" => ("销售渠道", "Sales channel"),
        "inbound.channel_help" => (
            "订单记在这个渠道下（小写字母、数字和下划线，如 mini_program）。有赞来源留空即为 youzan。",
            "Orders are recorded under this channel (lowercase letters, digits and _, e.g. mini_program). Left blank, a Youzan source uses youzan.",
        ),
        "inbound.store" => ("门店", "Store"),
        "inbound.no_store" => ("不指定", "None"),
        "inbound.store_help" => (
            "消息本身未指明门店时，订单记到这家门店。",
            "Orders whose message names no store are recorded at this one.",
        ),
        "inbound.state" => ("状态", "Status"),
        "inbound.state_help" => (
            "暂停后，发来的消息会被拒绝（503），发送方稍后重发；恢复启用后照常处理。",
            "While paused, messages are refused (503) and the sender sends them again later; once active again they are applied as usual.",
        ),
        "inbound.status.active" => ("启用", "Active"),
        "inbound.status.paused" => ("已暂停", "Paused"),
        "inbound.youzan_app" => (
            "有赞云应用（仅「有赞」来源填写）",
            "The 有赞云 app (Youzan sources only)",
        ),
        "inbound.youzan_app_edit" => ("有赞云应用", "The 有赞云 app"),
        "inbound.app_id" => ("应用 client_id", "The app's client_id"),
        "inbound.app_id_help" => (
            "在有赞云控制台 → 应用 → 应用凭证中查看。通用签名来源请留空。",
            "Shown in 有赞云's console under the app's credentials. Leave it blank for a generic source.",
        ),
        "inbound.client_secret" => ("应用 client_secret", "The app's client_secret"),
        "inbound.client_secret_new" => ("新的 client_secret", "New client_secret"),
        "inbound.client_secret_help" => (
            "有赞用它为每条推送签名，鱼塘加密保存、不再显示。通用签名来源请留空（鱼塘会生成签名密钥）。",
            "有赞 signs every push with it; Yutang keeps it sealed and never shows it again. Leave it blank for a generic source (Yutang makes its signing secret).",
        ),
        "inbound.client_secret_edit_help" => (
            "仅在有赞云重置了 client_secret 时填写；留空则保持不变。",
            "Only when the secret was reset in 有赞云; leave it blank to keep the current one.",
        ),
        "inbound.created_once" => (
            "来源已创建。签名密钥只显示这一次，请立即复制保存到发送方：",
            "The source is created. Its signing secret is shown only this once; copy it to the sender now:",
        ),
        "inbound.created_youzan" => (
            "来源已创建。请把下面的接收地址填到有赞云应用的消息推送网址：",
            "The source is created. Enter the receiving URL below as the push URL of the 有赞云 app:",
        ),
        "inbound.rotated_once" => (
            "已生成新的签名密钥，旧密钥即刻失效。新密钥只显示这一次，请立即复制保存到发送方：",
            "A new signing secret is in use and the old one no longer verifies. It is shown only this once; copy it to the sender now:",
        ),
        "inbound.receiving_url" => ("接收地址", "Receiving URL"),
        "inbound.open" => ("查看", "Open"),
        "inbound.open_new" => ("查看接入说明与消息记录", "Open its guide and message log"),
        "inbound.back" => ("返回订单接入", "Back to order sync"),
        "inbound.received" => ("已收到", "Received"),
        "inbound.failed" => ("失败", "Failed"),
        "inbound.last_received" => ("最近收到", "Last received"),
        "inbound.paused_note" => (
            "已暂停：发来的消息会被拒绝，发送方稍后重发；恢复启用后照常处理。",
            "Paused: messages are refused and the sender sends them again later; once active again they are applied.",
        ),
        "inbound.settings" => ("设置", "Settings"),
        "inbound.rotate" => ("轮换密钥", "Rotate secret"),
        "inbound.rotate_effect" => (
            "旧密钥立即失效：发送方换上新密钥之前，它发来的消息都会因签名不符被拒绝。",
            "The old secret stops verifying at once: the sender's messages are refused until it signs with the new one.",
        ),
        "inbound.confirm_subject" => ("订单接入来源「{name}」", "Order source “{name}”"),
        "inbound.delete_effect" => (
            "接收地址 {url} 不再接受任何消息（返回 404）。",
            "The receiving URL {url} accepts no more messages (it answers 404).",
        ),
        "inbound.delete_keeps" => (
            "已记录的订单、客户和消息记录保留不变。",
            "Orders, customers and the message log recorded so far are kept.",
        ),
        // The integration guide.
        "inbound.guide" => ("接入说明", "Integration guide"),
        "inbound.guide_generic_post" => (
            "以 POST 把 JSON 消息发到接收地址，请求头：",
            "POST each message as JSON to the receiving URL, with the headers:",
        ),
        "inbound.guide_generic_sign" => (
            "签名：t 为发送时的 Unix 秒数，v1 为用签名密钥对「t.原始请求体」计算的 HMAC-SHA256（十六进制）。与服务器时间相差超过 5 分钟的签名会被拒绝。",
            "The signature: t is the Unix time in seconds when sent; v1 is the hex HMAC-SHA256 of “t.raw body” keyed with the signing secret. A signature more than 5 minutes from the server's clock is refused.",
        ),
        "inbound.guide_generic_id" => (
            "每条消息带唯一的 id：同一 id 重发只处理一次。消息类型：",
            "Every message has a unique id: resending the same id is applied once. The types:",
        ),
        "inbound.guide_generic_answers" => (
            "应答：200 已处理（含重复消息）；409 暂时无法处理（如订单尚未收到），请稍后重发；422 消息无法处理，已记入下方记录；401 签名缺失或不符；503 来源已暂停。",
            "Answers: 200 applied (repeats too); 409 not yet (e.g. the order has not arrived), send it again later; 422 the message cannot apply and is in the log below; 401 a missing or wrong signature; 503 the source is paused.",
        ),
        "inbound.guide_example" => ("示例：一笔已支付的订单", "Example: a paid order"),
        "inbound.guide_shell" => ("用命令行签名并发送：", "Signed and sent from a shell:"),
        "inbound.guide_youzan_url" => (
            "在有赞云控制台 → 应用 → 消息订阅 → 推送网址，填入上面的接收地址并保存（有赞会先推送一条测试消息，鱼塘会直接确认）。",
            "In 有赞云's console, under the app → 消息订阅 (message subscription) → 推送网址 (push URL), enter the receiving URL above and save (有赞 first pushes a test message, which Yutang acknowledges).",
        ),
        "inbound.guide_youzan_subscribe" => ("订阅以下消息：", "Subscribe these messages:"),
        "inbound.guide_youzan_sign" => (
            "有赞用请求头 Event-Sign 签名每条推送，鱼塘用本来源的 client_id 与 client_secret 校验；在有赞云重置 client_secret 后，请在下方设置中填入新的。",
            "有赞 signs each push in the Event-Sign header; Yutang checks it with this source's client_id and client_secret. After resetting the secret in 有赞云, enter the new one in the settings below.",
        ),
        "inbound.guide_youzan_flow" => (
            "交易创建先保存为待支付，支付后记为订单；发货、完成、退款随后更新该订单。处理失败的消息在下方记录中查看原因并重试。",
            "A created trade is kept as awaiting payment and becomes an order when paid; shipments, completion and refunds then update it. Failed messages show their reason in the log below, ready to retry.",
        ),
        // The message log.
        "inbound.messages" => ("消息记录", "Message log"),
        "inbound.received_at" => ("收到时间", "Received"),
        "inbound.kind" => ("消息类型", "Type"),
        "inbound.external_id" => ("订单号", "Order no."),
        "inbound.result" => ("结果", "Result"),
        "inbound.order_customer" => ("订单 / 客户", "Order / customer"),
        "inbound.order" => ("订单", "Order"),
        "inbound.customer" => ("客户", "Customer"),
        "inbound.reason" => ("原因", "Reason"),
        "inbound.attempts" => ("处理次数", "Attempts"),
        "inbound.payload" => ("消息内容", "Payload"),
        "inbound.retry" => ("重试", "Retry"),
        "inbound.msg.applied" => ("已处理", "Applied"),
        "inbound.msg.draft" => ("待支付", "Awaiting payment"),
        "inbound.msg.ignored" => ("已忽略", "Ignored"),
        "inbound.msg.failed" => ("失败", "Failed"),
        "inbound.retried_ok" => (
            "消息 #{id} 已重新处理：{status}",
            "Message #{id} was run again: {status}",
        ),
        "inbound.retried_replay" => (
            "消息 #{id} 此前已处理（{status}），没有重复写入",
            "Message #{id} was final already ({status}); nothing was written again",
        ),
        "inbound.retried_failed" => (
            "消息 #{id} 重试后仍未成功：{error}",
            "Message #{id} still did not apply: {error}",
        ),
        // Why a message was ignored, or applied without a write.
        "inbound.reason.already_recorded" => ("订单此前已记录", "The order was recorded before"),
        "inbound.reason.already_paid" => (
            "订单已支付，无需保存待支付记录",
            "The order is paid already",
        ),
        "inbound.reason.refund_already_applied" => {
            ("该退款此前已处理", "This refund was applied before")
        }
        "inbound.reason.no_open_draft" => (
            "没有待支付的订单可关闭",
            "No order awaiting payment to close",
        ),
        "inbound.reason.unhandled_type" => {
            ("鱼塘不同步此类消息", "A message type Yutang does not sync")
        }
        "inbound.reason.customer_logged_off" => {
            ("客户已在有赞注销", "The customer closed their account")
        }
        "inbound.reason.order_is" => ("订单已是「{status}」", "The order is {status} already"),
        // Message kinds: the generic format's and 有赞's.
        "inbound.kind.order.created" => ("订单创建", "Order created"),
        "inbound.kind.order.paid" => ("订单支付", "Order paid"),
        "inbound.kind.order.shipped" => ("订单发货", "Order shipped"),
        "inbound.kind.order.completed" => ("订单完成", "Order completed"),
        "inbound.kind.order.refunded" => ("订单退款", "Order refunded"),
        "inbound.kind.order.closed" => ("订单关闭", "Order closed"),
        "inbound.kind.member.upserted" => ("会员资料", "Member record"),
        "inbound.kind.trade_TradeCreate" => ("交易创建", "Trade created"),
        "inbound.kind.trade_TradePaid" => ("交易支付", "Trade paid"),
        "inbound.kind.trade_TradeBuyerPay" => ("买家付款", "Buyer paid"),
        "inbound.kind.trade_TradeSellerShip" => ("卖家发货", "Seller shipped"),
        "inbound.kind.trade_TradeSuccess" => ("交易成功", "Trade completed"),
        "inbound.kind.trade_TradeClose" => ("交易关闭", "Trade closed"),
        "inbound.kind.trade_refund_RefundSuccess" => ("退款成功", "Refund succeeded"),
        "inbound.kind.trade_refund_RefundSellerAgree" => {
            ("卖家同意退款", "Seller agreed to refund")
        }
        "inbound.kind.youzan_trade_RefundSuccess" => ("退款成功", "Refund succeeded"),
        "inbound.kind.youzan_trade_RefundSellerAgree" => {
            ("卖家同意退款", "Seller agreed to refund")
        }
        "inbound.kind.SCRM_CUSTOMER_EVENT" => ("客户资料变更", "Customer record"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::Lang;

    use crate::console::layout::form_pairs as pairs;

    #[test]
    fn the_form_reads_a_youzan_source() {
        let f = SourceForm::from_pairs(&pairs(&[
            ("csrf", "x"),
            ("name", "有赞商城"),
            ("format", "youzan"),
            ("channel", ""),
            ("store_id", ""),
            ("app_id", " abc123 "),
            ("client_secret", "  s3cret-value "),
        ]));
        let format = f.format().unwrap();
        assert_eq!(format, SourceFormat::Youzan);
        let input = f.input(format).unwrap();
        assert_eq!(input.channel, "youzan");
        assert_eq!(input.app_id, "abc123");
        assert!(input.active && input.store_id.is_none());
        assert_eq!(f.secret(), Some("s3cret-value"));
        // A generic source needs a channel; the refusal names it.
        let g = SourceForm {
            format: "generic".into(),
            ..f.clone()
        };
        let e = g.input(SourceFormat::Generic).unwrap_err();
        assert_eq!(e.field, "app_id");
        let g = SourceForm {
            app_id: String::new(),
            ..g
        };
        assert_eq!(g.input(SourceFormat::Generic).unwrap_err().field, "channel");
        let bad = SourceForm {
            status: "gone".into(),
            ..f.clone()
        };
        assert_eq!(bad.input(format).unwrap_err().field, "status");
        let bad = SourceForm {
            store_id: "x".into(),
            ..f
        };
        assert_eq!(bad.input(format).unwrap_err().field, "store_id");
    }

    #[test]
    fn every_kind_and_status_has_words_in_both_languages() {
        for lang in [Lang::Zh, Lang::En] {
            let tr = Tr { lang };
            for k in yutang_core::inbound::GENERIC_KINDS
                .into_iter()
                .chain(yutang_core::inbound::YOUZAN_TYPES)
            {
                assert!(!kind_name(tr, k).is_empty(), "{k}");
            }
            assert_eq!(kind_name(tr, "trade_Unknown"), "");
            for s in STATUSES {
                assert_ne!(message_label(tr, s), "??");
            }
            for f in FORMATS {
                assert_ne!(format_label(tr, f), "??");
            }
        }
    }

    #[test]
    fn reasons_read_as_words() {
        let tr = Tr { lang: Lang::Zh };
        let row = |code: &str| MessageRow {
            id: 1,
            source_id: 1,
            dedupe_key: "m".into(),
            kind: "order.shipped".into(),
            external_id: "SO-1".into(),
            status: "ignored".into(),
            order_id: None,
            customer_id: None,
            error_code: code.into(),
            error_message: String::new(),
            payload: String::new(),
            header_kind: String::new(),
            attempts: 1,
            received_at: 0,
            updated_at: 0,
        };
        assert_eq!(
            reason_text(tr, &row("order_is_shipped")),
            "订单已是「已发货」"
        );
        assert_eq!(reason_text(tr, &row("already_recorded")), "订单此前已记录");
        assert_eq!(reason_text(tr, &row("not_found")), tr.error("not_found"));
        assert_eq!(reason_text(tr, &row("no_such_reason")), "");
        assert_eq!(reason_text(tr, &row("")), "");
    }

    #[test]
    fn the_retry_flash_shows_only_known_words() {
        let tr = Tr { lang: Lang::Zh };
        let q = LogQuery {
            retried: Some(7),
            outcome: Some("applied".into()),
            ..LogQuery::default()
        };
        let n = q.note(tr).unwrap();
        assert!(n.ok && n.text == "消息 #7 已重新处理：已处理");
        let q = LogQuery {
            retried: Some(7),
            outcome: Some("<script>".into()),
            ..LogQuery::default()
        };
        assert!(q.note(tr).is_none());
        let q = LogQuery {
            retried: Some(7),
            error: Some("<b>no</b>".into()),
            ..LogQuery::default()
        };
        let n = q.note(tr).unwrap();
        assert!(!n.ok && !n.text.contains("<b>") && n.failed_with.is_none());
        assert!(LogQuery::default().note(tr).is_none());
    }

    #[test]
    fn the_shell_example_signs_the_body_it_sends() {
        let s = curl_example("https://y.example.com/api/v1/inbound/generic/in_x");
        assert!(s.contains("curl -X POST 'https://y.example.com/api/v1/inbound/generic/in_x'"));
        assert!(s.contains(&format!("BODY='{EXAMPLE_BODY}'")));
        assert!(s.contains("X-Yutang-Signature: t=$T,v1=$SIG") && !s.contains("{\""));
        assert!(yutang_core::inbound::parse_generic(EXAMPLE_BODY.as_bytes()).is_ok());
    }
}
