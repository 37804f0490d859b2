//! `/console/webhooks` (admins, issue #24 item 6): outbound webhooks. The list with the create
//! form — the signing secret is shown once, right after creation — and each webhook's page:
//! its settings form, test / pause / resume / replay-failed buttons, secret rotation and delete
//! (both through a confirmation page) and the delivery log, filtered by status and paged, with
//! a replay button per delivery. Every page reads through `app.webhooks()`, which refuses
//! everyone but admins (`ManageIntegrations`) with the console's forbidden page.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::audit::Page;
use yutang_app::webhooks::{
    DeliveryRow, KNOWN_KINDS, SubscriptionRow, WithSecret, kinds_of, parse_status,
};
use yutang_core::staff::Permission;

use super::confirm::{Confirm, confirm_page};
use super::layout::{
    ConsoleForm, ConsoleQuery, CsrfForm, FormError, Pager, error_for, error_page, form_error,
    pager, see_other,
};
use super::{Console, Ctx, Tr, render};
use crate::auth::{IdPair, IdPath};
use crate::state::AppState;

const LIST_PATH: &str = "/console/webhooks";
/// The statuses the delivery log can be filtered by, in the order the filters show them.
const STATUSES: [&str; 3] = ["pending", "delivered", "failed"];

fn detail_path(id: i64) -> String {
    format!("{LIST_PATH}/{id}")
}

// ---------------------------------------------------------------- words

/// An event kind's label: the timeline's (`event.order_paid`), else this page's own
/// (`webhooks.kind.ping` …), else the kind as it is (kinds integrations post are free-form).
fn kind_label(tr: Tr, kind: &str) -> String {
    let event = format!("event.{kind}");
    if super::i18n::lookup(&event).is_some() {
        return tr.t(&event).to_owned();
    }
    super::labels::code_or_raw(tr, "webhooks.kind.", kind)
}

/// A webhook's status (`active`, `paused`) in words.
fn status_label(tr: Tr, status: &str) -> &'static str {
    match status {
        "active" => tr.t("webhooks.status.active"),
        _ => tr.t("webhooks.status.paused"),
    }
}

/// Why a webhook is paused, in words (`""` when it is not).
fn reason_label(tr: Tr, reason: &str) -> &'static str {
    match reason {
        "" => "",
        "too_many_failures" => tr.t("webhooks.reason.too_many_failures"),
        _ => tr.t("webhooks.reason.paused_by_staff"),
    }
}

/// A delivery's status in words.
fn delivery_label(tr: Tr, status: &str) -> &'static str {
    match status {
        "delivered" => tr.t("webhooks.delivery.delivered"),
        "failed" => tr.t("webhooks.delivery.failed"),
        _ => tr.t("webhooks.delivery.pending"),
    }
}

/// A payload as sent, indented for reading.
fn pretty(payload: &str) -> String {
    serde_json::from_str::<serde_json::Value>(payload)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| payload.to_owned())
}

// ---------------------------------------------------------------- the form

/// The create and edit form as typed, so a refused form comes back filled in.
#[derive(Debug, Clone, Default)]
pub struct WebhookForm {
    name: String,
    url: String,
    /// The ticked kinds: known kinds and `*`.
    kinds: Vec<String>,
    /// Other kinds, comma-separated.
    other_kinds: String,
}

impl WebhookForm {
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut f = Self::default();
        for (k, v) in pairs {
            match k.as_str() {
                "name" => f.name = v.clone(),
                "url" => f.url = v.clone(),
                "kinds" => f.kinds.push(v.clone()),
                "other_kinds" => f.other_kinds = v.clone(),
                _ => {}
            }
        }
        f
    }

    fn from_row(row: &SubscriptionRow) -> Self {
        let mut f = Self {
            name: row.name.clone(),
            url: row.url.clone(),
            ..Self::default()
        };
        let mut other = Vec::new();
        for k in kinds_of(row) {
            if k == "*" || KNOWN_KINDS.contains(&k.as_str()) {
                f.kinds.push(k);
            } else {
                other.push(k);
            }
        }
        f.other_kinds = other.join(", ");
        f
    }

    /// Every kind named: the ticked ones, then the typed ones (split at commas, 、 or spaces).
    fn all_kinds(&self) -> Vec<String> {
        let mut out = self.kinds.clone();
        out.extend(
            self.other_kinds
                .split([',', '，', '、', ';', '；'])
                .flat_map(str::split_whitespace)
                .map(str::to_owned),
        );
        out
    }

    fn has(&self, kind: &str) -> bool {
        self.kinds.iter().any(|k| k == kind)
    }
}

// ---------------------------------------------------------------- the list

#[derive(Template)]
#[template(path = "console/webhooks.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<SubscriptionRow>,
    /// The webhook just created, with its signing secret (shown this once).
    created: Option<WithSecret>,
    form: WebhookForm,
    error: Option<FormError>,
}

impl ListPage {
    fn known_kinds(&self) -> &'static [&'static str] {
        &KNOWN_KINDS
    }
    fn kind_label(&self, kind: &str) -> String {
        kind_label(self.ctx.tr, kind)
    }
    fn kinds(&self, row: &SubscriptionRow) -> Vec<String> {
        kinds_of(row)
    }
    fn status_label(&self, status: &str) -> &'static str {
        status_label(self.ctx.tr, status)
    }
    fn reason_label(&self, reason: &str) -> &'static str {
        reason_label(self.ctx.tr, reason)
    }
    fn err(&self, field: &str) -> Option<&'static str> {
        error_for(&self.error, field)
    }
    /// The alert naming a webhook paused after repeated failures.
    fn auto_paused(&self, row: &SubscriptionRow) -> String {
        self.ctx
            .tr
            .fill("webhooks.auto_paused_named", &[("name", &row.name)])
    }
    /// A refusal not about one of the form's inputs (shown above the form).
    fn general_error(&self) -> Option<&'static str> {
        self.error
            .as_ref()
            .filter(|e| !["name", "url", "kinds"].contains(&e.field.as_str()))
            .map(|e| e.message)
    }
}

async fn list_page(
    s: &AppState,
    mut c: Console,
    status: StatusCode,
    created: Option<WithSecret>,
    form: WebhookForm,
    error: Option<FormError>,
) -> Response {
    c.ctx.active = "webhooks";
    match s.app.webhooks().list(&c.session.actor).await {
        Ok(rows) => render(
            status,
            &ListPage {
                ctx: c.ctx,
                rows,
                created,
                form,
                error,
            },
        ),
        Err(e) => error_page(c.ctx, e),
    }
}

pub async fn list(State(s): State<AppState>, c: Console) -> Response {
    list_page(&s, c, StatusCode::OK, None, WebhookForm::default(), None).await
}

pub async fn create(
    State(s): State<AppState>,
    ConsoleForm(c, pairs): ConsoleForm<Vec<(String, String)>>,
) -> Response {
    // Admins only, whatever the form holds.
    if !c.session.actor.can(Permission::ManageIntegrations) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let f = WebhookForm::from_pairs(&pairs);
    let hooks = s.app.webhooks();
    let created = match hooks.parse_input(&f.name, &f.url, &f.all_kinds()) {
        Ok(input) => hooks.create(&c.session.actor, &input).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(w) => {
            list_page(
                &s,
                c,
                StatusCode::CREATED,
                Some(w),
                WebhookForm::default(),
                None,
            )
            .await
        }
        Err(e @ (AppError::Forbidden | AppError::NotFound { .. })) => error_page(c.ctx, e),
        Err(e) => {
            let (status, err) = form_error(c.ctx.tr, e);
            list_page(&s, c, status, None, f, Some(err)).await
        }
    }
}

// ---------------------------------------------------------------- one webhook

#[derive(Template)]
#[template(path = "console/webhook.html")]
struct DetailPage {
    ctx: Ctx,
    hook: SubscriptionRow,
    /// The new signing secret, right after a rotation (shown this once).
    secret: Option<String>,
    form: WebhookForm,
    error: Option<FormError>,
    deliveries: Vec<DeliveryRow>,
    /// The status the log is filtered by (`""`: all).
    status: &'static str,
    /// `(status, href)` of the log's filters.
    filters: Vec<(&'static str, String)>,
    pager: Pager,
}

impl DetailPage {
    fn known_kinds(&self) -> &'static [&'static str] {
        &KNOWN_KINDS
    }
    fn kind_label(&self, kind: &str) -> String {
        kind_label(self.ctx.tr, kind)
    }
    fn kinds(&self) -> Vec<String> {
        kinds_of(&self.hook)
    }
    /// A kind's label when it has one, else nothing (the code shows beside it anyway).
    fn kind_name(&self, kind: &str) -> String {
        let label = kind_label(self.ctx.tr, kind);
        if label == kind { String::new() } else { label }
    }
    fn status_label(&self, status: &str) -> &'static str {
        status_label(self.ctx.tr, status)
    }
    fn reason_label(&self, reason: &str) -> &'static str {
        reason_label(self.ctx.tr, reason)
    }
    fn delivery_label(&self, status: &str) -> &'static str {
        delivery_label(self.ctx.tr, status)
    }
    fn pretty(&self, payload: &str) -> String {
        pretty(payload)
    }
    fn err(&self, field: &str) -> Option<&'static str> {
        error_for(&self.error, field)
    }
    fn general_error(&self) -> Option<&'static str> {
        self.error
            .as_ref()
            .filter(|e| !["name", "url", "kinds"].contains(&e.field.as_str()))
            .map(|e| e.message)
    }
    /// Whether the log is filtered by `status`.
    fn is_current(&self, status: &str) -> bool {
        self.status == status
    }
    /// 重发全部失败 (3).
    fn replay_failed_text(&self) -> String {
        self.ctx.tr.fill(
            "webhooks.replay_failed_n",
            &[("n", &self.hook.failed.to_string())],
        )
    }
}

/// The delivery log's query: `?status=failed&page=2`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LogQuery {
    status: Option<String>,
    page: Option<i64>,
}

/// What a detail page shows besides the webhook and its log.
#[derive(Default)]
struct Extra {
    secret: Option<String>,
    form: Option<WebhookForm>,
    error: Option<FormError>,
}

async fn detail_page(
    s: &AppState,
    mut c: Console,
    id: i64,
    q: &LogQuery,
    code: StatusCode,
    extra: Extra,
) -> Response {
    c.ctx.active = "webhooks";
    let a = &c.session.actor;
    let hooks = s.app.webhooks();
    let hook = match hooks.get(a, id).await {
        Ok(h) => h,
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
    let log = match hooks
        .deliveries(a, id, (!status.is_empty()).then_some(status), page)
        .await
    {
        Ok(l) => l,
        Err(e) => return error_page(c.ctx, e),
    };
    let base = detail_path(id);
    let filters = STATUSES
        .into_iter()
        .map(|st| (st, format!("{base}?status={st}#deliveries")))
        .collect();
    let pager = pager(
        &base,
        &[("status", status.to_owned())],
        log.page,
        log.page_size,
        log.total,
    );
    let form = extra.form.unwrap_or_else(|| WebhookForm::from_row(&hook));
    render(
        code,
        &DetailPage {
            ctx: c.ctx,
            hook,
            secret: extra.secret,
            form,
            error: extra.error,
            deliveries: log.items,
            status,
            filters,
            pager,
        },
    )
}

pub async fn show(
    State(s): State<AppState>,
    c: Console,
    IdPath(id): IdPath,
    ConsoleQuery(q): ConsoleQuery<LogQuery>,
) -> Response {
    detail_page(&s, c, id, &q, StatusCode::OK, Extra::default()).await
}

pub async fn update(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, pairs): ConsoleForm<Vec<(String, String)>>,
) -> Response {
    let hooks = s.app.webhooks();
    // Forbidden or gone before the form is read.
    if let Err(e) = hooks.get(&c.session.actor, id).await {
        return error_page(c.ctx, e);
    }
    let f = WebhookForm::from_pairs(&pairs);
    let saved = match hooks.parse_input(&f.name, &f.url, &f.all_kinds()) {
        Ok(input) => hooks.update(&c.session.actor, id, &input).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => see_other(&format!("{}?ok=saved", detail_path(id))),
        Err(e @ (AppError::Forbidden | AppError::NotFound { .. })) => error_page(c.ctx, e),
        Err(e) => {
            let (status, err) = form_error(c.ctx.tr, e);
            let extra = Extra {
                form: Some(f),
                error: Some(err),
                ..Extra::default()
            };
            detail_page(&s, c, id, &LogQuery::default(), status, extra).await
        }
    }
}

/// Queue a test delivery (`ping_<n>`); the log shows it.
pub async fn test(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s.app.webhooks().ping(&c.session.actor, id).await {
        Ok(_) => see_other(&format!("{}?ok=tested#deliveries", detail_path(id))),
        Err(e) => error_page(c.ctx, e),
    }
}

async fn set_active(s: &AppState, c: Console, id: i64, active: bool) -> Response {
    match s
        .app
        .webhooks()
        .set_active(&c.session.actor, id, active)
        .await
    {
        Ok(_) => {
            let ok = if active { "resumed" } else { "paused" };
            see_other(&format!("{}?ok={ok}", detail_path(id)))
        }
        Err(e) => error_page(c.ctx, e),
    }
}

pub async fn pause(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    set_active(&s, c, id, false).await
}

pub async fn resume(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    set_active(&s, c, id, true).await
}

/// Send every failed delivery again.
pub async fn replay_failed(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s.app.webhooks().replay_failed(&c.session.actor, id).await {
        Ok(_) => see_other(&format!("{}?ok=replayed#deliveries", detail_path(id))),
        Err(e) => error_page(c.ctx, e),
    }
}

/// Send one delivery again, with the same event id.
pub async fn replay(
    State(s): State<AppState>,
    IdPair(id, delivery): IdPair,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s
        .app
        .webhooks()
        .replay(&c.session.actor, id, delivery)
        .await
    {
        Ok(_) => see_other(&format!("{}?ok=replayed#deliveries", detail_path(id))),
        Err(e) => error_page(c.ctx, e),
    }
}

/// Confirm a new signing secret: the receiver's check fails until it has the new one.
pub async fn rotate_confirm(State(s): State<AppState>, IdPath(id): IdPath, c: Console) -> Response {
    let hook = match s.app.webhooks().get(&c.session.actor, id).await {
        Ok(h) => h,
        Err(e) => return error_page(c.ctx, e),
    };
    let tr = c.ctx.tr;
    let confirm = Confirm {
        subject: tr.fill("webhooks.confirm_subject", &[("name", &hook.name)]),
        impact: vec![tr.t("webhooks.rotate_effect").to_owned()],
        outcome: "rotate",
        action: format!("{}/rotate", detail_path(id)),
        back: LIST_PATH,
    };
    confirm_page(c.ctx, "webhooks", confirm)
}

/// A new signing secret, shown on the webhook's page this once.
pub async fn rotate(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s.app.webhooks().rotate_secret(&c.session.actor, id).await {
        Ok(w) => {
            let extra = Extra {
                secret: Some(w.secret),
                ..Extra::default()
            };
            detail_page(&s, c, id, &LogQuery::default(), StatusCode::OK, extra).await
        }
        Err(e) => error_page(c.ctx, e),
    }
}

/// Confirm deleting a webhook: nothing more is queued or sent to its receiver.
pub async fn delete_confirm(State(s): State<AppState>, IdPath(id): IdPath, c: Console) -> Response {
    let hook = match s.app.webhooks().get(&c.session.actor, id).await {
        Ok(h) => h,
        Err(e) => return error_page(c.ctx, e),
    };
    let tr = c.ctx.tr;
    let mut impact = vec![tr.fill("webhooks.delete_effect", &[("url", &hook.url)])];
    if hook.pending > 0 {
        impact.push(tr.fill(
            "webhooks.delete_pending",
            &[("n", &super::confirm::grouped(hook.pending))],
        ));
    }
    let confirm = Confirm {
        subject: tr.fill("webhooks.confirm_subject", &[("name", &hook.name)]),
        impact,
        outcome: "delete",
        action: format!("{}/delete", detail_path(id)),
        back: LIST_PATH,
    };
    confirm_page(c.ctx, "webhooks", confirm)
}

pub async fn delete(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s.app.webhooks().delete(&c.session.actor, id).await {
        Ok(()) => see_other(&format!("{LIST_PATH}?ok=deleted")),
        Err(e) => error_page(c.ctx, e),
    }
}

// ---------------------------------------------------------------- texts

/// The pages' own texts (`webhooks.…`).
pub(crate) fn text(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "webhooks.nav" => ("Webhook", "Webhooks"),
        "webhooks.title" => ("Webhook", "Webhooks"),
        "webhooks.intro" => (
            "把客户事件实时推送给你的系统（ERP、会员中台、数据仓库）：每个事件以签名的 POST 请求发到接收地址，失败按退避自动重试，连续失败会自动暂停并告警。接收方按事件 ID 去重，并用签名密钥校验签名头。",
            "Push customer events to your own systems (ERP, membership platform, data warehouse) as they happen: each event is a signed POST to the receiver's URL, retried with backoff when it fails; a webhook that keeps failing is paused with an alert. Receivers dedupe by the event ID and check the signature header with the signing secret.",
        ),
        "webhooks.signature_hint" => ("签名头格式：", "Signature header:"),
        "webhooks.new" => ("新建 Webhook", "New webhook"),
        "webhooks.create" => ("创建", "Create"),
        "webhooks.name" => ("名称", "Name"),
        "webhooks.url" => ("接收地址", "Receiver URL"),
        "webhooks.url_help" => (
            "须为公网可访问的 http(s) 地址；内网、本机地址默认不允许。",
            "A public http(s) address; loopback and private addresses are refused unless the server allows them.",
        ),
        "webhooks.kinds" => ("事件类型", "Event kinds"),
        "webhooks.all_kinds" => (
            "全部事件（*），包括以后新增的类型",
            "Every kind (*), including kinds added later",
        ),
        "webhooks.other_kinds" => ("其他事件类型", "Other kinds"),
        "webhooks.other_kinds_help" => (
            "多个用逗号分隔，如集成方通过事件接口写入的自定义事件。",
            "Comma-separated, e.g. custom kinds integrations post to the events API.",
        ),
        "webhooks.created_once" => (
            "Webhook 已创建。签名密钥只显示这一次，请立即复制保存到接收方：",
            "The webhook is created. The signing secret is shown only this once; copy it to the receiver now:",
        ),
        "webhooks.rotated_once" => (
            "已生成新的签名密钥，旧密钥即刻失效。新密钥只显示这一次，请立即复制保存到接收方：",
            "A new signing secret is in use and the old one no longer signs. It is shown only this once; copy it to the receiver now:",
        ),
        "webhooks.open" => ("查看", "Open"),
        "webhooks.open_new" => ("查看推送记录与设置", "Open its deliveries and settings"),
        "webhooks.back" => ("返回 Webhook 列表", "Back to webhooks"),
        "webhooks.state" => ("状态", "Status"),
        "webhooks.pending" => ("待发送", "Pending"),
        "webhooks.failed" => ("失败", "Failed"),
        "webhooks.failures_in_a_row" => ("连续失败次数", "Failures in a row"),
        "webhooks.last_delivered" => ("最近送达", "Last delivered"),
        "webhooks.status.active" => ("启用", "Active"),
        "webhooks.status.paused" => ("已暂停", "Paused"),
        "webhooks.reason.paused_by_staff" => ("手动暂停", "Paused by staff"),
        "webhooks.reason.too_many_failures" => {
            ("连续失败自动暂停", "Paused after repeated failures")
        }
        "webhooks.auto_paused_named" => (
            "「{name}」连续失败自动暂停：新事件仍在排队，修复接收端后点「恢复」即可补发。",
            "“{name}” was paused after repeated failures: new events keep queueing; fix the receiver, then resume to send them.",
        ),
        "webhooks.auto_paused" => (
            "连续失败自动暂停：新事件仍在排队，修复接收端后点「恢复」即可补发。",
            "Paused after repeated failures: new events keep queueing; fix the receiver, then resume to send them.",
        ),
        "webhooks.paused_note" => (
            "已暂停：新事件仍在排队，恢复后发送。",
            "Paused: new events keep queueing and are sent once it resumes.",
        ),
        "webhooks.settings" => ("设置", "Settings"),
        "webhooks.test" => ("发送测试", "Send a test"),
        "webhooks.pause" => ("暂停", "Pause"),
        "webhooks.resume" => ("恢复", "Resume"),
        "webhooks.rotate" => ("轮换密钥", "Rotate secret"),
        "webhooks.rotate_title" => ("确认轮换签名密钥", "Confirm rotating the secret"),
        "webhooks.rotate_effect" => (
            "旧密钥立即失效：接收方换上新密钥之前，签名校验会失败。",
            "The old secret stops signing at once: the receiver's signature check fails until it has the new one.",
        ),
        "webhooks.confirm_subject" => ("Webhook「{name}」", "Webhook “{name}”"),
        "webhooks.delete_effect" => (
            "不再向 {url} 推送任何事件；已有的推送记录保留在审计中。",
            "Nothing more is sent to {url}; the audit log keeps what happened.",
        ),
        "webhooks.delete_pending" => (
            "{n} 条待发送的推送将不再发送",
            "{n} pending deliveries will not be sent",
        ),
        "webhooks.replay_failed_n" => ("重发全部失败（{n}）", "Replay failed ({n})"),
        "webhooks.deliveries" => ("推送记录", "Deliveries"),
        "webhooks.event_id" => ("事件 ID", "Event ID"),
        "webhooks.event_kind" => ("事件类型", "Kind"),
        "webhooks.attempts" => ("尝试次数", "Attempts"),
        "webhooks.last_status" => ("HTTP 状态", "HTTP status"),
        "webhooks.last_error" => ("最近错误", "Last error"),
        "webhooks.last_attempt" => ("最近尝试", "Last attempt"),
        "webhooks.delivered_at" => ("送达时间", "Delivered"),
        "webhooks.next_attempt" => ("下次尝试", "Next attempt"),
        "webhooks.payload" => ("推送内容", "Payload"),
        "webhooks.replay" => ("重发", "Replay"),
        "webhooks.delivery.pending" => ("待发送", "Pending"),
        "webhooks.delivery.delivered" => ("已送达", "Delivered"),
        "webhooks.delivery.failed" => ("失败", "Failed"),
        "webhooks.tested" => (
            "已加入测试推送，稍后在推送记录中查看结果",
            "Test delivery queued; its result shows in the deliveries",
        ),
        "webhooks.paused_done" => ("已暂停", "Paused"),
        "webhooks.resumed_done" => (
            "已恢复，排队的事件将陆续发送",
            "Resumed; queued events are being sent",
        ),
        "webhooks.replayed_done" => ("已重新加入发送队列", "Queued to be sent again"),
        // Kinds without a timeline label.
        "webhooks.kind.*" => ("全部事件", "Every kind"),
        "webhooks.kind.ping" => ("测试推送", "Test delivery"),
        "webhooks.kind.points_changed" => ("积分变动", "Points changed"),
        "webhooks.kind.stored_value_changed" => ("储值变动", "Stored value changed"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::Lang;

    use crate::console::layout::form_pairs as pairs;

    #[test]
    fn the_form_reads_ticked_and_typed_kinds() {
        let f = WebhookForm::from_pairs(&pairs(&[
            ("csrf", "x"),
            ("name", "会员中台"),
            ("url", "https://hooks.example.com/yutang"),
            ("kinds", "order_paid"),
            ("kinds", "coupon_used"),
            ("other_kinds", " custom.signup，quiz_done 、 a.b; "),
        ]));
        assert_eq!(f.name, "会员中台");
        assert!(f.has("order_paid") && !f.has("*"));
        assert_eq!(
            f.all_kinds(),
            [
                "order_paid",
                "coupon_used",
                "custom.signup",
                "quiz_done",
                "a.b"
            ]
        );
    }

    #[test]
    fn every_known_kind_has_a_label_in_both_languages() {
        for lang in [Lang::Zh, Lang::En] {
            let tr = Tr { lang };
            for k in KNOWN_KINDS.into_iter().chain(["ping", "*"]) {
                assert_ne!(kind_label(tr, k), k, "{k}");
            }
            assert_eq!(kind_label(tr, "custom.signup"), "custom.signup");
        }
    }

    #[test]
    fn payloads_are_indented() {
        assert_eq!(pretty(r#"{"id":"ping_1"}"#), "{\n  \"id\": \"ping_1\"\n}");
        assert_eq!(pretty("not json"), "not json");
    }
}
