//! `/console/churn-alerts` (流失提醒, issue #23 item 4): the customers who deleted their guide,
//! and the customers a guide deleted. One page: the alerts (filtered by kind and status), each
//! with the customer (phone masked, linked to their page), their value when it happened
//! (orders, spend, tier), the guide and store, and 标记已处理 with a note for an open one.
//!
//! Everything goes through `app.churn_alerts()`: a guide sees and handles the
//! `customer_deleted` alerts about themselves, a store manager their store's, headquarters
//! every alert; analysts read.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::churn_alerts::{AlertQuery, AlertView};
use yutang_core::churn_alerts::{Kind, MAX_NOTE_CHARS, Status};
use yutang_core::staff::Role;

use super::layout::{ConsoleForm, ConsoleQuery, error_page, form_error, link, see_other};
use super::{Console, Ctx, Tr, render};
use crate::auth::IdPath;
use crate::state::AppState;

const LIST_PATH: &str = "/console/churn-alerts";
const ACTIVE: &str = "churn_alerts";
/// Alerts on one page of the list.
const PAGE: i64 = 50;

/// Whether the caller handles alerts (everyone but analysts; the app checks the scope).
fn can_handle(c: &Console) -> bool {
    !matches!(c.session.actor.role, Role::Analyst)
}

/// Whether the caller sees both kinds (a guide sees only customers who deleted them).
fn sees_kinds(c: &Console) -> bool {
    !matches!(c.session.actor.role, Role::Guide)
}

// ---------------------------------------------------------------- the page

/// The page's filters, as in its address.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PageQuery {
    /// `customer_deleted`, `guide_deleted`, or empty for both.
    kind: String,
    /// `open` (the default, also when empty), `handled` or `all`.
    status: String,
    /// The last id of the previous page.
    before: Option<i64>,
    /// What was just done: `handled`.
    ok_alert: String,
}

impl PageQuery {
    fn status(&self) -> &str {
        match self.status.trim() {
            "" => "open",
            s => s,
        }
    }

    /// The filters as a query string's pairs (paging keeps them).
    fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("kind", self.kind.trim().to_owned()),
            ("status", self.status.trim().to_owned()),
        ]
    }
}

#[derive(Template)]
#[template(path = "console/churn_alerts.html")]
struct AlertsPage {
    ctx: Ctx,
    rows: Vec<AlertView>,
    q: PageQuery,
    can_handle: bool,
    sees_kinds: bool,
    /// The next page, keeping the filters; back to the first page when on a later one.
    next: Option<String>,
    first: Option<String>,
    /// What was just done, or why a handling was refused.
    notice: Option<&'static str>,
    problem: Option<&'static str>,
}

impl AlertsPage {
    fn kind_label(&self, k: &str) -> String {
        super::labels::code_or_raw(self.ctx.tr, "churn.kind.", k)
    }
    fn status_label(&self, s: &str) -> String {
        super::labels::code_or_raw(self.ctx.tr, "churn.status.", s)
    }
    fn kind_class(&self, a: &AlertView) -> &'static str {
        match a.kind.as_str() {
            "guide_deleted" => "pill disabled",
            _ => "pill failed",
        }
    }
    fn status_class(&self, a: &AlertView) -> &'static str {
        match a.status.as_str() {
            "handled" => "pill ok",
            _ => "pill",
        }
    }
    fn kinds(&self) -> Vec<(&'static str, String)> {
        Kind::ALL
            .into_iter()
            .map(|k| (k.as_str(), self.kind_label(k.as_str())))
            .collect()
    }
    fn statuses(&self) -> Vec<(&'static str, String)> {
        Status::ALL
            .into_iter()
            .map(|s| (s.as_str(), self.status_label(s.as_str())))
            .collect()
    }
    fn kind_is(&self, k: &str) -> bool {
        self.q.kind.trim() == k
    }
    fn status_is(&self, s: &str) -> bool {
        self.q.status() == s
    }
    fn orders(&self, n: &i64) -> String {
        self.ctx.tr.fill("churn.orders_n", &[("n", &n.to_string())])
    }
    fn note_max(&self) -> usize {
        MAX_NOTE_CHARS
    }
}

fn tr_notice(tr: Tr, q: &PageQuery) -> Option<&'static str> {
    match q.ok_alert.as_str() {
        "handled" => Some(tr.t("churn.done.handled")),
        _ => None,
    }
}

async fn page(
    s: &AppState,
    mut c: Console,
    q: PageQuery,
    code: StatusCode,
    problem: Option<&'static str>,
) -> Response {
    c.ctx.active = ACTIVE;
    let a = &c.session.actor;
    let status = q.status();
    let kind = q.kind.trim();
    let query = AlertQuery {
        kind: (!kind.is_empty()).then(|| kind.to_owned()),
        status: (status != "all").then(|| status.to_owned()),
        before: q.before,
        limit: Some(PAGE),
        ..AlertQuery::default()
    };
    let list = match s.app.churn_alerts().list(a, &query).await {
        Ok(p) => p,
        Err(e) => return error_page(c.ctx, e),
    };
    let params = q.params();
    let next = list
        .next_before
        .map(|n| link(LIST_PATH, &params, &[("before", n.to_string())]));
    let first = q.before.map(|_| link(LIST_PATH, &params, &[]));
    let notice = tr_notice(c.ctx.tr, &q);
    render(
        code,
        &AlertsPage {
            can_handle: can_handle(&c),
            sees_kinds: sees_kinds(&c),
            ctx: c.ctx,
            rows: list.items,
            q,
            next,
            first,
            notice,
            problem,
        },
    )
}

pub async fn list(
    State(s): State<AppState>,
    c: Console,
    ConsoleQuery(q): ConsoleQuery<PageQuery>,
) -> Response {
    page(&s, c, q, StatusCode::OK, None).await
}

/// 标记已处理: the note is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HandleIn {
    note: String,
}

pub async fn handle(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, f): ConsoleForm<HandleIn>,
) -> Response {
    let note = f.note.replace("\r\n", "\n").replace('\r', "\n");
    let r = s
        .app
        .churn_alerts()
        .handle(&c.session.actor, id, Some(&note))
        .await;
    match r {
        Ok(_) => see_other(&format!("{LIST_PATH}?ok_alert=handled")),
        Err(e @ (AppError::Forbidden | AppError::NotFound { .. })) => error_page(c.ctx, e),
        Err(e) => {
            let (status, err) = form_error(c.ctx.tr, e);
            page(&s, c, PageQuery::default(), status, Some(err.message)).await
        }
    }
}

// ---------------------------------------------------------------- texts

pub(crate) fn text(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "churn.nav" => ("流失提醒", "Churn alerts"),
        "churn.title" => ("流失提醒", "Churn alerts"),
        "churn.intro" => (
            "客户删除了导购，或导购删除了客户：这里列出当时客户的价值（订单、消费、会员等级），企业微信应用消息已提醒导购和店长。联系客户后标记为已处理并写下备注。长期沉默的客户请用「自动化旅程」生成导购待办。",
            "A customer deleted their guide, or a guide deleted a customer: listed here with the customer's value then (orders, spend, tier); the guide and the store manager were told through a WeCom app message. Mark each handled with a note once you have acted. For customers who went silent, let a journey make guide tasks.",
        ),
        "churn.kind" => ("类型", "Kind"),
        "churn.kind.customer_deleted" => ("客户删除导购", "Customer deleted guide"),
        "churn.kind.guide_deleted" => ("导购删除客户", "Guide deleted customer"),
        "churn.all_kinds" => ("全部类型", "Both kinds"),
        "churn.status" => ("状态", "Status"),
        "churn.status.open" => ("待处理", "Open"),
        "churn.status.handled" => ("已处理", "Handled"),
        "churn.all_statuses" => ("全部状态", "Every status"),
        "churn.when" => ("发生时间", "When"),
        "churn.customer" => ("客户", "Customer"),
        "churn.customer_no" => ("客户 #", "Customer #"),
        "churn.value" => ("客户价值", "Customer value"),
        "churn.orders_n" => ("{n} 单", "{n} orders"),
        "churn.spend" => ("消费", "Spend"),
        "churn.tier" => ("会员等级", "Tier"),
        "churn.guide" => ("导购", "Guide"),
        "churn.handled_by" => ("处理人", "Handled by"),
        "churn.handled_at" => ("处理于", "Handled"),
        "churn.note" => ("处理备注（可选）", "Note (optional)"),
        "churn.handle_button" => ("标记已处理", "Mark handled"),
        "churn.empty" => ("没有符合条件的流失提醒。", "No churn alert matches."),
        "churn.more" => ("下一页", "Next page"),
        "churn.first_page" => ("回到第一页", "First page"),
        "churn.done.handled" => ("已标记为已处理", "Marked handled"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_and_status_has_both_languages() {
        let mut keys = vec!["churn.done.handled".to_owned()];
        keys.extend(Kind::ALL.map(|k| format!("churn.kind.{}", k.as_str())));
        keys.extend(Status::ALL.map(|s| format!("churn.status.{}", s.as_str())));
        for k in keys {
            let (zh, en) = text(&k).unwrap_or_else(|| panic!("{k}"));
            assert!(!zh.is_empty() && !en.is_empty(), "{k}");
        }
    }

    #[test]
    fn the_status_filter_defaults_to_open() {
        let q = PageQuery::default();
        assert_eq!(q.status(), "open");
        let q = PageQuery {
            status: " all ".into(),
            ..PageQuery::default()
        };
        assert_eq!(q.status(), "all");
    }
}
