//! Stored value and member gifts in the console (储值 / 会员礼, issue #22 item 5):
//! `/console/loyalty/stored-value` — the liability (HQ roles that see metrics) and the top-up
//! gift rules; `/console/loyalty/gifts` — the birthday and anniversary rules, the latest
//! grants and a button that starts a run; `/console/customers/{id}/stored-value` — a
//! customer's balance (principal and gift) and ledger with its running balance. Every page
//! reads through the app, so a guide sees only their own customers. Rules are written through
//! the API (`/api/v1/stored-value/top-up-gifts`, `/api/v1/loyalty/gifts`).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::loyalty::gifts::{GrantRow, RuleRow};
use yutang_app::loyalty::stored_value::{AccountView, EntryRow, GiftRuleRow, Liability};
use yutang_core::ids::CustomerId;
use yutang_core::staff::Permission;

use super::layout::{ConsoleForm, ConsoleQuery, CsrfForm, error_page, see_other};
use super::{Console, Ctx, render};
use crate::auth::IdPath;
use crate::state::AppState;

/// Ledger entries on one page of a customer's stored value.
const PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "console/stored_value.html")]
struct StoredValuePage {
    ctx: Ctx,
    liability: Option<Liability>,
    rules: Vec<GiftRuleRow>,
}

impl StoredValuePage {
    fn status_label(&self, s: &str) -> String {
        self.ctx.tr.t(&format!("sv.status.{s}")).to_owned()
    }
}

/// `GET /console/loyalty/stored-value`.
pub async fn page(State(s): State<AppState>, mut c: Console) -> Response {
    c.ctx.active = "stored_value";
    let actor = &c.session.actor;
    let result: Result<StoredValuePage, AppError> = async {
        let liability = if actor.can(Permission::ViewMetrics) {
            Some(s.app.stored_value().liability(actor).await?)
        } else {
            None
        };
        Ok(StoredValuePage {
            ctx: c.ctx.clone(),
            liability,
            rules: s.app.stored_value().gift_rules(actor).await?,
        })
    }
    .await;
    match result {
        Ok(p) => render(StatusCode::OK, &p),
        Err(e) => error_page(c.ctx, e),
    }
}

#[derive(Template)]
#[template(path = "console/member_gifts.html")]
struct GiftsPage {
    ctx: Ctx,
    rules: Vec<RuleRow>,
    grants: Option<Vec<GrantRow>>,
    can_manage: bool,
}

impl GiftsPage {
    fn label(&self, prefix: &str, s: &str) -> String {
        self.ctx.tr.t(&format!("{prefix}{s}")).to_owned()
    }
}

/// `GET /console/loyalty/gifts`.
pub async fn gifts(State(s): State<AppState>, mut c: Console) -> Response {
    c.ctx.active = "gifts";
    let actor = &c.session.actor;
    let result: Result<GiftsPage, AppError> = async {
        let grants = if actor.can(Permission::ViewMetrics) {
            Some(s.app.gifts().grants(actor, 50).await?)
        } else {
            None
        };
        Ok(GiftsPage {
            ctx: c.ctx.clone(),
            rules: s.app.gifts().rules(actor).await?,
            grants,
            can_manage: actor.can(Permission::ManageCustomers),
        })
    }
    .await;
    match result {
        Ok(p) => render(StatusCode::OK, &p),
        Err(e) => error_page(c.ctx, e),
    }
}

/// `POST /console/loyalty/gifts/run`: start a run now, then back to the page (`?ok=saved`).
pub async fn run(State(s): State<AppState>, ConsoleForm(c, _): ConsoleForm<CsrfForm>) -> Response {
    match s.app.gifts().start_run(&c.session.actor).await {
        Ok(_) => see_other("/console/loyalty/gifts?ok=saved"),
        Err(e) => error_page(c.ctx, e),
    }
}

#[derive(Template)]
#[template(path = "console/customer_stored_value.html")]
struct CustomerPage {
    ctx: Ctx,
    customer_id: i64,
    account: AccountView,
    entries: Vec<EntryRow>,
    next_before: Option<i64>,
    paged: bool,
}

impl CustomerPage {
    fn kind_label(&self, kind: &str) -> String {
        self.ctx.tr.t(&format!("sv.kind.{kind}")).to_owned()
    }

    /// `+` for a credit of the customer, `−` for a debit.
    fn sign(&self, e: &EntryRow) -> &'static str {
        if e.credit == "customer" { "+" } else { "−" }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LedgerQuery {
    before: Option<i64>,
}

/// `GET /console/customers/{id}/stored-value`.
pub async fn customer(
    State(s): State<AppState>,
    mut c: Console,
    IdPath(id): IdPath,
    ConsoleQuery(q): ConsoleQuery<LedgerQuery>,
) -> Response {
    c.ctx.active = "customers";
    let actor = &c.session.actor;
    let result: Result<CustomerPage, AppError> = async {
        let sv = s.app.stored_value();
        let account = sv.account(actor, CustomerId(id)).await?;
        let page = sv.entries(actor, CustomerId(id), q.before, PAGE).await?;
        Ok(CustomerPage {
            ctx: c.ctx.clone(),
            customer_id: id,
            account,
            entries: page.items,
            next_before: page.next_before,
            paged: q.before.is_some(),
        })
    }
    .await;
    match result {
        Ok(p) => render(StatusCode::OK, &p),
        Err(e) => error_page(c.ctx, e),
    }
}

/// The pages' own texts (`sv.…`).
pub(crate) fn text(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "sv.nav" => ("储值", "Stored value"),
        "sv.gifts_nav" => ("会员礼", "Member gifts"),
        "sv.title" => ("储值", "Stored value"),
        "sv.liability" => ("储值负债", "Stored-value liability"),
        "sv.outstanding" => ("未消费余额", "Outstanding balance"),
        "sv.principal" => ("本金", "Principal"),
        "sv.gift" => ("赠送金", "Gift"),
        "sv.customers_with_balance" => ("有余额的顾客", "Customers with a balance"),
        "sv.entries" => ("流水条数", "Entries"),
        "sv.balanced" => ("账目平衡", "Books balance"),
        "sv.unbalanced" => ("账目不平衡", "Books do not balance"),
        "sv.rules" => ("充值赠送规则", "Top-up gift rules"),
        "sv.rules_hint" => (
            "单笔充值达到门槛即享受最高一档的赠送（储值赠送金、积分、优惠券），每笔充值一次。规则通过 API 维护。",
            "A top-up reaching a threshold gets the highest rule reached (gift, points, coupon), once per top-up. Rules are kept through the API.",
        ),
        "sv.no_rules" => ("还没有规则", "No rules yet"),
        "sv.min_top_up" => ("充值满", "Top-up of at least"),
        "sv.gift_fen" => ("赠送金", "Gift"),
        "sv.points" => ("赠送积分", "Points"),
        "sv.coupon" => ("优惠券模板", "Coupon template"),
        "sv.status" => ("状态", "Status"),
        "sv.status.active" => ("生效", "Active"),
        "sv.status.archived" => ("已归档", "Archived"),
        "sv.name" => ("名称", "Name"),
        "sv.ledger" => ("储值流水", "Stored-value ledger"),
        "sv.back" => ("返回顾客", "Back to the customer"),
        "sv.balance" => ("储值余额", "Stored-value balance"),
        "sv.topped_up" => ("累计充值", "Topped up"),
        "sv.gifted" => ("累计赠送", "Gifted"),
        "sv.spent" => ("累计消费", "Spent"),
        "sv.refunded" => ("充值退款", "Refunded"),
        "sv.clawed_back" => ("收回赠送金", "Gift clawed back"),
        "sv.time" => ("时间", "Time"),
        "sv.kind" => ("类型", "Kind"),
        "sv.amount" => ("金额", "Amount"),
        "sv.principal_after" => ("本金余额", "Principal after"),
        "sv.gift_after" => ("赠送金余额", "Gift after"),
        "sv.source" => ("来源", "Source"),
        "sv.no_entries" => ("还没有储值流水", "No stored-value entries yet"),
        "sv.older" => ("更早", "Older"),
        "sv.newest" => ("最新", "Newest"),
        "sv.kind.top_up" => ("充值", "Top-up"),
        "sv.kind.gift" => ("赠送", "Gift"),
        "sv.kind.spend" => ("消费", "Spend"),
        "sv.kind.spend_refund" => ("消费退款", "Spend refund"),
        "sv.kind.top_up_refund" => ("充值退款", "Top-up refund"),
        "sv.kind.transfer_out" => ("合并转出", "Merged out"),
        "sv.kind.transfer_in" => ("合并转入", "Merged in"),
        "sv.gifts_title" => ("会员礼", "Member gifts"),
        "sv.gifts_hint" => (
            "生日礼与入会周年礼（按加入客户池的日期），每位顾客每条规则每年发放一次，由每日任务发放。与会员等级的生日券相互独立。规则通过 API 维护。",
            "Birthday and anniversary-of-joining gifts, once per customer per rule per year, given by the daily run. Separate from the tiers' birthday coupon. Rules are kept through the API.",
        ),
        "sv.gift_kind.birthday" => ("生日礼", "Birthday"),
        "sv.gift_kind.anniversary" => ("入会周年礼", "Anniversary"),
        "sv.gift_mode.month" => ("当月", "In the month"),
        "sv.gift_mode.day" => ("当天", "On the day"),
        "sv.mode" => ("发放时间", "When"),
        "sv.grants" => ("最近发放", "Latest grants"),
        "sv.no_grants" => ("还没有发放记录", "Nothing given yet"),
        "sv.customer" => ("顾客", "Customer"),
        "sv.year" => ("年份", "Year"),
        "sv.run" => ("立即发放", "Run now"),
        "sv.run_started" => ("已开始发放", "Run started"),
        _ => return None,
    })
}
