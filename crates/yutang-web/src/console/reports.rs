//! `/console/reports` (issue #24 item 5): scheduled reports (定时报表). The list of schedules
//! with the create form, and each schedule's page: its settings form, "send now" (the latest
//! completed period, queued once), delete (through a confirmation page) and the delivery log.
//! Every page reads through `app.analytics().reports()`, which refuses guides and analysts
//! and limits a store manager to their store's schedules.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use yutang_app::AppError;
use yutang_app::analytics::reports::{DeliveryView, ScheduleInput, ScheduleView};
use yutang_app::audit::Page;
use yutang_app::org::StoreQuery;
use yutang_app::staff::StaffQuery;
use yutang_core::FieldError;
use yutang_core::staff::StaffStatus;

use super::confirm::{Confirm, confirm_page};
use super::layout::{
    ConsoleForm, CsrfForm, FormError, error_for, error_page, form_error, opt_id, see_other,
};
use super::{Console, Ctx, Tr, render};
use crate::auth::IdPath;
use crate::state::AppState;

const LIST_PATH: &str = "/console/reports";
const ACTIVE: &str = "reports";

fn detail_path(id: i64) -> String {
    format!("{LIST_PATH}/{id}")
}

/// The form as typed, so a refused form comes back filled in.
#[derive(Debug, Clone)]
pub struct ReportForm {
    name: String,
    cadence: String,
    hour: String,
    store_id: String,
    staff_id: String,
    recipient_ids: Vec<String>,
    lang: String,
    enabled: bool,
}

impl Default for ReportForm {
    fn default() -> Self {
        Self {
            name: String::new(),
            cadence: "daily".into(),
            hour: "9".into(),
            store_id: String::new(),
            staff_id: String::new(),
            recipient_ids: Vec::new(),
            lang: "zh".into(),
            enabled: true,
        }
    }
}

impl ReportForm {
    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut f = Self {
            enabled: false,
            ..Self::default()
        };
        for (k, v) in pairs {
            match k.as_str() {
                "name" => f.name = v.clone(),
                "cadence" => f.cadence = v.clone(),
                "hour" => f.hour = v.clone(),
                "store_id" => f.store_id = v.clone(),
                "staff_id" => f.staff_id = v.clone(),
                "recipient_ids" => f.recipient_ids.push(v.clone()),
                "lang" => f.lang = v.clone(),
                "enabled" => f.enabled = true,
                _ => {}
            }
        }
        f
    }

    fn from_view(v: &ScheduleView) -> Self {
        Self {
            name: v.name.clone(),
            cadence: v.cadence.clone(),
            hour: v.hour.to_string(),
            store_id: if v.level == "store" {
                v.store_id.map(|s| s.to_string()).unwrap_or_default()
            } else {
                String::new()
            },
            staff_id: v.staff_id.map(|s| s.to_string()).unwrap_or_default(),
            recipient_ids: v
                .recipients
                .iter()
                .map(|r| r.staff_id.to_string())
                .collect(),
            lang: v.lang.clone(),
            enabled: v.enabled,
        }
    }

    fn parse(&self) -> Result<ScheduleInput, AppError> {
        let hour = self
            .hour
            .trim()
            .parse::<i64>()
            .map_err(|_| FieldError::new("hour", "invalid_hour", "the hour is 0–23"))?;
        let mut ids = Vec::new();
        for r in &self.recipient_ids {
            if let Some(id) = opt_id("recipient_ids", r)? {
                ids.push(id);
            }
        }
        ScheduleInput::parse(
            &self.name,
            &self.cadence,
            hour,
            opt_id("store_id", &self.store_id)?,
            opt_id("staff_id", &self.staff_id)?,
            &ids,
            Some(self.lang.as_str()),
            Some(self.enabled),
        )
    }

    fn picked(&self, id: &i64) -> bool {
        self.recipient_ids
            .iter()
            .any(|r| r.trim() == id.to_string())
    }
    fn is_store(&self, id: &i64) -> bool {
        self.store_id.trim() == id.to_string()
    }
    fn is_staff(&self, id: &i64) -> bool {
        self.staff_id.trim() == id.to_string()
    }
    fn is_hour(&self, h: &i64) -> bool {
        self.hour.trim() == h.to_string()
    }
}

/// A store, guide or recipient the form offers.
pub struct Choice {
    id: i64,
    name: String,
    /// A recipient's WeCom userid.
    note: String,
}

/// What the form offers: stores, guides and the staff who can receive a report.
struct Choices {
    stores: Vec<Choice>,
    guides: Vec<Choice>,
    recipients: Vec<Choice>,
}

async fn choices(s: &AppState, c: &Console) -> Result<Choices, AppError> {
    let a = &c.session.actor;
    let all = Page {
        number: 1,
        size: Page::MAX_SIZE,
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
        .await?
        .items
        .into_iter()
        .map(|r| Choice {
            id: r.id,
            name: r.name,
            note: String::new(),
        })
        .collect();
    let staff = s
        .app
        .staff()
        .list_staff(
            a,
            &StaffQuery {
                status: Some(StaffStatus::Active),
                page: all,
                ..Default::default()
            },
        )
        .await?
        .items;
    let guides = staff
        .iter()
        .filter(|r| r.role == "guide")
        .map(|r| Choice {
            id: r.id,
            name: r.display_name.clone(),
            note: r.store_name.clone().unwrap_or_default(),
        })
        .collect();
    let recipients = staff
        .into_iter()
        .filter_map(|r| {
            let userid = r.wecom_userid.filter(|u| !u.is_empty())?;
            Some(Choice {
                id: r.id,
                name: r.display_name,
                note: userid,
            })
        })
        .collect();
    Ok(Choices {
        stores,
        guides,
        recipients,
    })
}

fn cadence_label(tr: Tr, cadence: &str) -> &'static str {
    match cadence {
        "weekly" => tr.t("reports.cadence.weekly"),
        _ => tr.t("reports.cadence.daily"),
    }
}

fn status_label(tr: Tr, status: &str) -> &'static str {
    match status {
        "sent" => tr.t("reports.delivery.sent"),
        "failed" => tr.t("reports.delivery.failed"),
        _ => tr.t("reports.delivery.pending"),
    }
}

fn scope_label(tr: Tr, v: &ScheduleView) -> String {
    match v.level.as_str() {
        "brand" => tr.t("reports.scope.brand").to_owned(),
        "guide" => format!("{} · {}", tr.t("reports.scope.guide"), v.scope_name),
        _ => format!("{} · {}", tr.t("reports.scope.store"), v.scope_name),
    }
}

const FIELDS: [&str; 7] = [
    "name",
    "cadence",
    "hour",
    "store_id",
    "staff_id",
    "recipient_ids",
    "lang",
];

// ---------------------------------------------------------------- the list

#[derive(Template)]
#[template(path = "console/reports.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<ScheduleView>,
    form: ReportForm,
    error: Option<FormError>,
    stores: Vec<Choice>,
    guides: Vec<Choice>,
    recipients: Vec<Choice>,
    hours: Vec<i64>,
}

impl ListPage {
    fn cadence_label(&self, c: &str) -> &'static str {
        cadence_label(self.ctx.tr, c)
    }
    fn scope_label(&self, v: &ScheduleView) -> String {
        scope_label(self.ctx.tr, v)
    }
    fn names(&self, v: &ScheduleView) -> String {
        v.recipients
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>()
            .join("、")
    }
    fn err(&self, field: &str) -> Option<&'static str> {
        error_for(&self.error, field)
    }
    fn general_error(&self) -> Option<&'static str> {
        self.error
            .as_ref()
            .filter(|e| !FIELDS.contains(&e.field.as_str()))
            .map(|e| e.message)
    }
}

async fn list_page(
    s: &AppState,
    mut c: Console,
    status: StatusCode,
    form: ReportForm,
    error: Option<FormError>,
) -> Response {
    c.ctx.active = ACTIVE;
    let rows = match s.app.analytics().reports().list(&c.session.actor).await {
        Ok(r) => r,
        Err(e) => return error_page(c.ctx, e),
    };
    let ch = match choices(s, &c).await {
        Ok(ch) => ch,
        Err(e) => return error_page(c.ctx, e),
    };
    render(
        status,
        &ListPage {
            ctx: c.ctx,
            rows,
            form,
            error,
            stores: ch.stores,
            guides: ch.guides,
            recipients: ch.recipients,
            hours: (0..24).collect(),
        },
    )
}

pub async fn list(State(s): State<AppState>, c: Console) -> Response {
    list_page(&s, c, StatusCode::OK, ReportForm::default(), None).await
}

pub async fn create(
    State(s): State<AppState>,
    ConsoleForm(c, pairs): ConsoleForm<Vec<(String, String)>>,
) -> Response {
    // Forbidden before the form is read.
    if let Err(e) = s.app.analytics().reports().list(&c.session.actor).await {
        return error_page(c.ctx, e);
    }
    let f = ReportForm::from_pairs(&pairs);
    let created = match f.parse() {
        Ok(input) => {
            s.app
                .analytics()
                .reports()
                .create(&c.session.actor, &input)
                .await
        }
        Err(e) => Err(e),
    };
    match created {
        Ok(v) => see_other(&format!("{}?ok=created", detail_path(v.id))),
        Err(e @ AppError::Forbidden) => error_page(c.ctx, e),
        Err(e) => {
            let (status, err) = form_error(c.ctx.tr, e);
            list_page(&s, c, status, f, Some(err)).await
        }
    }
}

// ---------------------------------------------------------------- one schedule

#[derive(Template)]
#[template(path = "console/reports_detail.html")]
struct DetailPage {
    ctx: Ctx,
    v: ScheduleView,
    form: ReportForm,
    error: Option<FormError>,
    deliveries: Vec<DeliveryView>,
    stores: Vec<Choice>,
    guides: Vec<Choice>,
    recipients: Vec<Choice>,
    hours: Vec<i64>,
}

impl DetailPage {
    fn cadence_label(&self, c: &str) -> &'static str {
        cadence_label(self.ctx.tr, c)
    }
    fn status_label(&self, st: &str) -> &'static str {
        status_label(self.ctx.tr, st)
    }
    fn scope_label(&self) -> String {
        scope_label(self.ctx.tr, &self.v)
    }
    fn err(&self, field: &str) -> Option<&'static str> {
        error_for(&self.error, field)
    }
    fn general_error(&self) -> Option<&'static str> {
        self.error
            .as_ref()
            .filter(|e| !FIELDS.contains(&e.field.as_str()))
            .map(|e| e.message)
    }
    fn users(&self, list: &[String]) -> String {
        list.join(", ")
    }
}

async fn detail_page(
    s: &AppState,
    mut c: Console,
    id: i64,
    code: StatusCode,
    form: Option<ReportForm>,
    error: Option<FormError>,
) -> Response {
    c.ctx.active = ACTIVE;
    let reports = s.app.analytics().reports();
    let a = &c.session.actor;
    let v = match reports.get(a, id).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let deliveries = match reports.deliveries(a, Some(id)).await {
        Ok(d) => d,
        Err(e) => return error_page(c.ctx, e),
    };
    let ch = match choices(s, &c).await {
        Ok(ch) => ch,
        Err(e) => return error_page(c.ctx, e),
    };
    let form = form.unwrap_or_else(|| ReportForm::from_view(&v));
    render(
        code,
        &DetailPage {
            ctx: c.ctx,
            v,
            form,
            error,
            deliveries,
            stores: ch.stores,
            guides: ch.guides,
            recipients: ch.recipients,
            hours: (0..24).collect(),
        },
    )
}

pub async fn show(State(s): State<AppState>, c: Console, IdPath(id): IdPath) -> Response {
    detail_page(&s, c, id, StatusCode::OK, None, None).await
}

pub async fn update(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, pairs): ConsoleForm<Vec<(String, String)>>,
) -> Response {
    let reports = s.app.analytics().reports();
    if let Err(e) = reports.get(&c.session.actor, id).await {
        return error_page(c.ctx, e);
    }
    let f = ReportForm::from_pairs(&pairs);
    let saved = match f.parse() {
        Ok(input) => reports.update(&c.session.actor, id, &input).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => see_other(&format!("{}?ok=saved", detail_path(id))),
        Err(e @ AppError::Forbidden) => error_page(c.ctx, e),
        Err(e) => {
            let (status, err) = form_error(c.ctx.tr, e);
            detail_page(&s, c, id, status, Some(f), Some(err)).await
        }
    }
}

/// Queue the latest completed period now (once per period).
pub async fn send(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s
        .app
        .analytics()
        .reports()
        .send_now(&c.session.actor, id)
        .await
    {
        Ok(r) => {
            let ok = if r.queued {
                "report_queued"
            } else {
                "report_already"
            };
            see_other(&format!("{}?ok={ok}#deliveries", detail_path(id)))
        }
        Err(e) => error_page(c.ctx, e),
    }
}

/// Confirm deleting a schedule.
pub async fn delete_confirm(State(s): State<AppState>, IdPath(id): IdPath, c: Console) -> Response {
    let v = match s.app.analytics().reports().get(&c.session.actor, id).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let tr = c.ctx.tr;
    let confirm = Confirm {
        subject: tr.fill("reports.confirm_subject", &[("name", &v.name)]),
        impact: vec![tr.t("reports.delete_effect").to_owned()],
        outcome: "delete",
        action: format!("{}/delete", detail_path(id)),
        back: LIST_PATH,
    };
    confirm_page(c.ctx, ACTIVE, confirm)
}

pub async fn delete(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s
        .app
        .analytics()
        .reports()
        .delete(&c.session.actor, id)
        .await
    {
        Ok(()) => see_other(&format!("{LIST_PATH}?ok=deleted")),
        Err(e) => error_page(c.ctx, e),
    }
}

// ---------------------------------------------------------------- texts

/// The pages' own texts (`reports.…`).
pub(crate) fn text(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "reports.nav" => ("定时报表", "Reports"),
        "reports.title" => ("定时报表", "Scheduled reports"),
        "reports.intro" => (
            "把概览的核心数据（新增好友、净增、订单、GMV、券核销）按日或按周通过企业微信应用消息发给指定员工，附概览链接。日报统计前一天，周报统计上周一至周日，均按北京时间。",
            "Send the dashboard's key figures (new contacts, net adds, orders, GMV, coupon use) daily or weekly to chosen staff as a WeCom app message, with a link to the dashboard. A daily report covers the previous day, a weekly one the previous Monday to Sunday, in Asia/Shanghai time.",
        ),
        "reports.app_hint" => (
            "发送使用企业微信设置中的第一个自建应用（AgentId 与 Secret）；接收人须在该应用的可见范围内。",
            "Reports are sent by the first self-built app in the WeCom settings (AgentId and secret); recipients must be in its visible range.",
        ),
        "reports.new" => ("新建定时报表", "New schedule"),
        "reports.create" => ("创建", "Create"),
        "reports.name" => ("名称", "Name"),
        "reports.cadence" => ("周期", "Cadence"),
        "reports.cadence.daily" => ("日报（前一天）", "Daily (the previous day)"),
        "reports.cadence.weekly" => (
            "周报（上周一至周日，周一发送）",
            "Weekly (the previous Monday–Sunday, sent on Monday)",
        ),
        "reports.hour" => ("发送时间（北京时间）", "Send at (Asia/Shanghai)"),
        "reports.hour_suffix" => ("点", ":00"),
        "reports.scope" => ("数据范围", "Scope"),
        "reports.scope.brand" => ("全品牌", "The brand"),
        "reports.scope.store" => ("门店", "Store"),
        "reports.scope.guide" => ("导购", "Guide"),
        "reports.store" => ("门店", "Store"),
        "reports.store_any" => (
            "全品牌（店长：本店）",
            "The brand (store managers: their store)",
        ),
        "reports.guide" => (
            "导购（可选，选了则只看该导购）",
            "Guide (optional: only this guide's figures)",
        ),
        "reports.guide_none" => ("不限导购", "No guide"),
        "reports.recipients" => ("接收人", "Recipients"),
        "reports.recipients_help" => (
            "仅列出已绑定企业微信账号的在职员工。",
            "Only active staff linked to a WeCom account are listed.",
        ),
        "reports.no_recipients" => (
            "还没有绑定企业微信账号的员工：请先在员工页面填写企业微信 userid。",
            "No staff member is linked to WeCom yet: enter their WeCom userid on the staff page first.",
        ),
        "reports.lang" => ("消息语言", "Message language"),
        "reports.lang.zh" => ("简体中文", "Simplified Chinese"),
        "reports.lang.en" => ("英文", "English"),
        "reports.enabled" => ("启用", "Enabled"),
        "reports.state" => ("状态", "Status"),
        "reports.on" => ("启用", "On"),
        "reports.off" => ("停用", "Off"),
        "reports.next" => ("下次发送", "Next send"),
        "reports.open" => ("查看", "Open"),
        "reports.back" => ("返回定时报表", "Back to reports"),
        "reports.settings" => ("设置", "Settings"),
        "reports.send_now" => ("立即发送最近一期", "Send the latest period now"),
        "reports.send_now_help" => (
            "发送最近一个完整周期（昨天或上周）；同一周期只会发送一次。",
            "Sends the latest completed period (yesterday or last week); each period is sent once.",
        ),
        "reports.deliveries" => ("发送记录", "Deliveries"),
        "reports.period" => ("周期", "Period"),
        "reports.attempts" => ("尝试次数", "Attempts"),
        "reports.last_error" => ("最近错误", "Last error"),
        "reports.sent_at" => ("发送时间", "Sent"),
        "reports.invalid" => ("未送达", "Refused"),
        "reports.content" => ("消息内容", "Message"),
        "reports.delivery.pending" => ("待发送", "Pending"),
        "reports.delivery.sent" => ("已发送", "Sent"),
        "reports.delivery.failed" => ("失败", "Failed"),
        "reports.queued_done" => (
            "已加入发送队列，稍后在发送记录中查看结果",
            "Queued; its result shows in the deliveries",
        ),
        "reports.already_done" => (
            "该周期已发送或正在发送，不会重复发送",
            "That period is queued or sent already; it is not sent twice",
        ),
        "reports.confirm_subject" => ("定时报表「{name}」", "Report “{name}”"),
        "reports.delete_effect" => (
            "不再发送此报表；已有的发送记录保留。",
            "No more reports are sent; the delivery log is kept.",
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::console::layout::form_pairs as pairs;

    #[test]
    fn the_form_reads_its_fields() {
        let f = ReportForm::from_pairs(&pairs(&[
            ("csrf", "x"),
            ("name", "门店日报"),
            ("cadence", "weekly"),
            ("hour", "8"),
            ("store_id", "3"),
            ("staff_id", ""),
            ("recipient_ids", "5"),
            ("recipient_ids", "7"),
            ("lang", "en"),
        ]));
        assert!(!f.enabled, "an unticked box sends nothing");
        let input = f.parse().unwrap();
        assert_eq!(input.hour, 8);
        assert_eq!(input.store_id, Some(3));
        assert_eq!(input.staff_id, None);
        assert_eq!(input.recipient_ids, vec![5, 7]);
        assert!(f.picked(&7) && !f.picked(&6) && f.is_store(&3) && f.is_hour(&8));
        let bad = ReportForm {
            hour: "nine".into(),
            ..f
        };
        match bad.parse() {
            Err(AppError::Invalid(e)) => assert_eq!(e.field, "hour"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_text_has_both_languages() {
        for key in ["reports.nav", "reports.title", "reports.queued_done"] {
            let (zh, en) = text(key).unwrap();
            assert!(!zh.is_empty() && !en.is_empty());
        }
    }
}
