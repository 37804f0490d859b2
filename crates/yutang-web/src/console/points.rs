//! The points ledger's console pages (积分, issue #22 item 7): `/console/loyalty/points` —
//! the brand's settings (a form for admins and operators, read-only for the others), the
//! liability report (HQ roles that see metrics) and a button that starts an expiry run — and
//! `/console/customers/{id}/points` — a customer's balance, expiring lots, the ledger with its
//! running balance (keyset paging with `before`), redemptions with their cancel buttons and
//! the manual adjustment form. Every page reads through `app.points()`, so a guide sees only
//! their own customers and nobody but admins and operators can change anything.
//!
//! The adjustment form carries an idempotency key made when the form is rendered: a double
//! click posts the same key twice and the ledger takes it once.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::loyalty::points::{AccountView, EntriesPage, EntryRow, Liability, RedemptionRow};
use yutang_core::FieldError;
use yutang_core::ids::CustomerId;
use yutang_core::loyalty::points::{Expiry, PointsSettings};
use yutang_core::staff::Permission;
use yutang_core::time::Millis;

use super::layout::{
    ConsoleForm, ConsoleQuery, CsrfForm, FormError, error_page, field_error, form_error, see_other,
};
use super::{Console, Ctx, Tr, render};
use crate::auth::IdPath;
use crate::state::AppState;

const SETTINGS_PATH: &str = "/console/loyalty/points";
/// Ledger entries on one page of a customer's points.
const PAGE: i64 = 50;

fn can_manage(c: &Console) -> bool {
    c.session.actor.can(Permission::ManageCustomers)
}

/// The last day a lot is good for, in Shanghai (`expires_at` is the first moment it is not).
pub(crate) fn last_day(expires_at: i64) -> String {
    Millis(expires_at - 1)
        .to_shanghai_string()
        .chars()
        .take(10)
        .collect()
}

/// A label of the points' codes (`points.kind.earn` …), else the code itself.
fn code(tr: Tr, prefix: &str, value: &str) -> String {
    super::labels::code_or_raw(tr, prefix, value)
}

// ------------------------------------------------------------------ settings and liability

#[derive(Template)]
#[template(path = "console/points_settings.html")]
struct SettingsPage {
    ctx: Ctx,
    s: PointsSettings,
    can_manage: bool,
    liability: Option<Liability>,
    /// The form's values: the settings in force, or the ones just refused.
    form: SettingsForm,
    error: Option<FormError>,
}

impl SettingsPage {
    fn new(ctx: Ctx, s: PointsSettings, can_manage: bool, liability: Option<Liability>) -> Self {
        Self {
            form: SettingsForm::of(&s),
            ctx,
            s,
            can_manage,
            liability,
            error: None,
        }
    }

    fn err(&self, field: &str) -> Option<&'static str> {
        super::layout::error_for(&self.error, field)
    }

    /// A text with its `{n}` filled in.
    fn fmt(&self, key: &str, n: &i64) -> String {
        self.ctx.tr.fill(key, &[("n", &n.to_string())])
    }

    fn expiry_text(&self) -> String {
        match self.s.expiry {
            Expiry::Days { days } => self
                .ctx
                .tr
                .fill("points.expiry_days_fmt", &[("n", &days.to_string())]),
            other => code(self.ctx.tr, "points.expiry.", other.as_str()),
        }
    }

    fn account_label(&self, account: &str) -> String {
        code(self.ctx.tr, "points.account.", account)
    }

    fn month_label(&self, month: &str) -> String {
        if month == "never" {
            self.ctx.tr.t("points.expiry.never").to_owned()
        } else {
            month.to_owned()
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    earn_points_per_yuan: String,
    #[serde(default)]
    redeem_points_per_yuan: String,
    #[serde(default)]
    expiry_rule: String,
    #[serde(default)]
    expiry_days: String,
    #[serde(default)]
    max_redeem_percent: String,
}

impl SettingsForm {
    fn of(s: &PointsSettings) -> Self {
        Self {
            earn_points_per_yuan: s.earn_points_per_yuan.to_string(),
            redeem_points_per_yuan: s.redeem_points_per_yuan.to_string(),
            expiry_rule: s.expiry.as_str().to_owned(),
            expiry_days: match s.expiry {
                Expiry::Days { days } => days.to_string(),
                _ => "365".to_owned(),
            },
            max_redeem_percent: s.max_redeem_percent.to_string(),
        }
    }

    fn parse(&self) -> Result<PointsSettings, FieldError> {
        let earn = number("earn_points_per_yuan", &self.earn_points_per_yuan)?;
        let redeem = number("redeem_points_per_yuan", &self.redeem_points_per_yuan)?;
        let expiry = match self.expiry_rule.as_str() {
            "end_of_next_year" => Expiry::EndOfNextYear,
            "never" => Expiry::Never,
            "days" => Expiry::Days {
                days: number("expiry.days", &self.expiry_days)?,
            },
            _ => {
                return Err(FieldError::new(
                    "expiry",
                    "invalid_form",
                    "expiry is end_of_next_year, days or never",
                ));
            }
        };
        let max = number("max_redeem_percent", &self.max_redeem_percent)?;
        PointsSettings::parse(earn, redeem, expiry, max)
    }
}

/// A whole number typed into `field`.
fn number(field: &'static str, s: &str) -> Result<i64, FieldError> {
    s.trim().parse::<i64>().map_err(|_| {
        FieldError::new(
            field,
            "invalid_number",
            format!("{field} is a whole number"),
        )
    })
}

async fn settings_page(s: &AppState, c: &Console) -> Result<SettingsPage, AppError> {
    let actor = &c.session.actor;
    let settings = s.app.points().settings(actor).await?;
    let liability = if actor.can(Permission::ViewMetrics) {
        Some(s.app.points().liability(actor).await?)
    } else {
        None
    };
    Ok(SettingsPage::new(
        c.ctx.clone(),
        settings,
        can_manage(c),
        liability,
    ))
}

/// `GET /console/loyalty/points`.
pub async fn settings(State(s): State<AppState>, mut c: Console) -> Response {
    c.ctx.active = "points";
    match settings_page(&s, &c).await {
        Ok(p) => render(StatusCode::OK, &p),
        Err(e) => error_page(c.ctx, e),
    }
}

/// `POST /console/loyalty/points`: save, then back to the page (`?ok=saved`); a refused value
/// is shown under its input with what was typed kept.
pub async fn save_settings(
    State(s): State<AppState>,
    ConsoleForm(mut c, f): ConsoleForm<SettingsForm>,
) -> Response {
    c.ctx.active = "points";
    let tr = c.ctx.tr;
    let result = match f.parse() {
        Ok(parsed) => s
            .app
            .points()
            .put_settings(&c.session.actor, parsed)
            .await
            .map_err(|e| form_error(tr, e)),
        Err(e) => Err(field_error(tr, e)),
    };
    let (status, error) = match result {
        Ok(_) => return see_other(&format!("{SETTINGS_PATH}?ok=saved")),
        Err(e) => e,
    };
    if status == StatusCode::FORBIDDEN {
        return error_page(c.ctx, AppError::Forbidden);
    }
    match settings_page(&s, &c).await {
        Ok(mut page) => {
            page.form = f;
            page.error = Some(error);
            render(status, &page)
        }
        Err(e) => error_page(c.ctx, e),
    }
}

/// `POST /console/loyalty/points/expiry`: start an expiry run now; on to its job page.
pub async fn start_expiry(
    State(s): State<AppState>,
    ConsoleForm(mut c, _): ConsoleForm<CsrfForm>,
) -> Response {
    c.ctx.active = "points";
    match s.app.points().start_expiry(&c.session.actor).await {
        Ok(job) => see_other(&format!("/console/jobs/{job}")),
        Err(e) => error_page(c.ctx, e),
    }
}

// ------------------------------------------------------------------ a customer's points

#[derive(Template)]
#[template(path = "console/customer_points.html")]
struct CustomerPointsPage {
    ctx: Ctx,
    customer_id: i64,
    name: String,
    account: AccountView,
    page: EntriesPage,
    /// This page is an older one (`before` given): offer the way back to the newest.
    paged: bool,
    redemptions: Vec<RedemptionRow>,
    can_manage: bool,
    /// The adjustment form's values and its idempotency key (one per rendered form).
    adjust: AdjustForm,
    error: Option<FormError>,
}

impl CustomerPointsPage {
    fn err(&self, field: &str) -> Option<&'static str> {
        super::layout::error_for(&self.error, field)
    }

    fn kind_label(&self, e: &EntryRow) -> String {
        code(self.ctx.tr, "points.kind.", &e.kind)
    }

    fn source_label(&self, e: &EntryRow) -> String {
        if e.source_type.is_empty() {
            return "-".to_owned();
        }
        code(self.ctx.tr, "points.source.", &e.source_type)
    }

    /// The signed amount as the customer's balance saw it (`+100`, `-50`).
    fn signed(&self, e: &EntryRow) -> String {
        if e.credit == "customer" {
            format!("+{}", e.amount)
        } else {
            format!("-{}", e.amount)
        }
    }

    fn status_label(&self, r: &RedemptionRow) -> String {
        code(self.ctx.tr, "points.redemption.", &r.status)
    }

    fn expiry_label(&self, at: &Option<i64>) -> String {
        match at {
            Some(at) => last_day(*at),
            None => self.ctx.tr.t("points.expiry.never").to_owned(),
        }
    }

    fn title(&self) -> String {
        let name = if self.name.is_empty() {
            self.ctx.tr.t("customers.unnamed")
        } else {
            self.name.as_str()
        };
        self.ctx.tr.fill("points.customer_title", &[("name", name)])
    }

    fn order_text(&self, e: &EntryRow) -> String {
        self.ctx
            .tr
            .fill("points.order_fmt", &[("id", &e.source_id)])
    }

    fn actor_text(&self, e: &EntryRow) -> String {
        self.by_text(&e.actor)
    }

    /// Who made a movement: the system (orders, expiry, jobs and the demo acting as
    /// `Actor::system`), a customer (the mini-program), an API token, or a person by name.
    fn by_text(&self, by: &str) -> String {
        let tr = self.ctx.tr;
        if by.is_empty() || by == "system" {
            super::labels::actor(tr, "system", "system")
        } else if by.starts_with("customer:") {
            super::labels::target(tr, by)
        } else if by.starts_with("token:") {
            super::labels::actor(tr, "token", by)
        } else {
            by.to_owned()
        }
    }

    fn older_href(&self) -> Option<String> {
        self.page
            .next_before
            .map(|b| format!("/console/customers/{}/points?before={b}", self.customer_id))
    }
}

#[derive(Debug, Deserialize)]
pub struct AdjustForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    points: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    key: String,
}

impl AdjustForm {
    fn fresh() -> Self {
        use rand::RngCore;
        let mut b = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut b);
        Self {
            kind: "grant".into(),
            points: String::new(),
            reason: String::new(),
            key: format!("console-adjust-{}", hex::encode(b)),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PointsQuery {
    before: Option<i64>,
}

async fn customer_page(
    s: &AppState,
    c: &Console,
    id: i64,
    before: Option<i64>,
) -> Result<CustomerPointsPage, AppError> {
    let actor = &c.session.actor;
    let points = s.app.points();
    let account = points.account(actor, CustomerId(id)).await?;
    let customer = s
        .app
        .customers()
        .get_customer(actor, CustomerId(id))
        .await?;
    let page = points
        .entries(actor, CustomerId(account.customer_id), before, PAGE)
        .await?;
    let redemptions = points
        .redemptions(actor, CustomerId(account.customer_id))
        .await?;
    Ok(CustomerPointsPage {
        ctx: c.ctx.clone(),
        customer_id: account.customer_id,
        name: customer.name,
        account,
        page,
        paged: before.is_some(),
        redemptions,
        can_manage: can_manage(c),
        adjust: AdjustForm::fresh(),
        error: None,
    })
}

/// `GET /console/customers/{id}/points`.
pub async fn customer(
    State(s): State<AppState>,
    mut c: Console,
    IdPath(id): IdPath,
    ConsoleQuery(q): ConsoleQuery<PointsQuery>,
) -> Response {
    c.ctx.active = "customers";
    match customer_page(&s, &c, id, q.before).await {
        Ok(p) => render(StatusCode::OK, &p),
        Err(e) => error_page(c.ctx, e),
    }
}

/// `POST /console/customers/{id}/points/adjust`: a grant or deduction with a reason, once per
/// the form's key; then back to the customer's points (`?ok=saved`).
pub async fn adjust(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(mut c, f): ConsoleForm<AdjustForm>,
) -> Response {
    c.ctx.active = "customers";
    let tr = c.ctx.tr;
    let parsed = number("points", &f.points).and_then(|n| match f.kind.as_str() {
        "grant" => Ok(n),
        "deduct" => Ok(n.checked_neg().unwrap_or(i64::MIN)),
        _ => Err(FieldError::new(
            "kind",
            "invalid_form",
            "kind is grant or deduct",
        )),
    });
    let key = f.key.trim();
    let result = match parsed {
        Ok(delta) => s
            .app
            .points()
            .adjust(
                &c.session.actor,
                CustomerId(id),
                delta,
                &f.reason,
                (!key.is_empty()).then_some(key),
            )
            .await
            .map(|(e, _)| e.customer_id)
            .map_err(|e| form_error(tr, e)),
        Err(e) => Err(field_error(tr, e)),
    };
    let (status, error) = match result {
        Ok(customer) => {
            return see_other(&format!("/console/customers/{customer}/points?ok=saved"));
        }
        Err(e) => e,
    };
    if status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND {
        let e = if status == StatusCode::FORBIDDEN {
            AppError::Forbidden
        } else {
            AppError::NotFound { what: "customer" }
        };
        return error_page(c.ctx, e);
    }
    match customer_page(&s, &c, id, None).await {
        Ok(mut page) => {
            // Nothing was written under the key: the corrected form may send it again.
            page.adjust = f;
            page.error = Some(error);
            render(status, &page)
        }
        Err(e) => error_page(c.ctx, e),
    }
}

/// `POST /console/loyalty/points/redemptions/{id}/cancel`: give a redemption's points back
/// (once); then back to its customer's points.
pub async fn cancel_redemption(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(mut c, _): ConsoleForm<CsrfForm>,
) -> Response {
    c.ctx.active = "customers";
    match s.app.points().cancel_redemption(&c.session.actor, id).await {
        Ok((r, _)) => see_other(&format!(
            "/console/customers/{}/points?ok=saved",
            r.customer_id
        )),
        Err(e) => error_page(c.ctx, e),
    }
}

/// The 360° page's line: the customer's balance, for the link to their points.
pub(crate) async fn balance_of(s: &AppState, c: &Console, id: i64) -> Option<i64> {
    s.app
        .points()
        .account(&c.session.actor, CustomerId(id))
        .await
        .ok()
        .map(|a| a.balance)
}

// ------------------------------------------------------------------ texts

/// The pages' own texts (`points.…`; the codes' labels are in `labels`).
pub(crate) fn text(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "points.nav" => ("积分", "Points"),
        "points.nav_group" => ("会员", "Membership"),
        "points.title" => ("积分设置", "Points settings"),
        "points.rules" => ("积分规则", "Points rules"),
        "points.earn_fmt" => ("每消费 1 元得 {n} 积分", "{n} points per CNY spent"),
        "points.redeem_fmt" => ("{n} 积分抵 1 元", "{n} points make 1 CNY"),
        "points.max_fmt" => (
            "积分最多抵扣订单的 {n}%",
            "Points may pay at most {n}% of an order",
        ),
        "points.expiry_days_fmt" => ("获得后 {n} 天过期", "{n} days after earning"),
        "points.rules_hint" => (
            "修改只影响之后的积分变动：已获得的积分保留获得时的有效期。",
            "A change applies to movements after it: points already earned keep the expiry they were given.",
        ),
        "points.help_earn" => (
            "0–1000；0 表示订单不送积分。会员等级与付费卡的倍数另算。",
            "0–1000; 0: orders earn nothing. Tier and card multipliers apply on top.",
        ),
        "points.help_redeem" => (
            "1–100000，例如 100 表示 100 积分抵 1 元。",
            "1–100,000; e.g. 100: 100 points make 1 CNY.",
        ),
        "points.help_days" => (
            "1–3650 天（仅“固定天数”时使用）",
            "1–3650 days (for “a fixed number of days” only)",
        ),
        "points.help_max" => ("1–100", "1–100"),
        "points.liability" => ("积分负债", "Points liability"),
        "points.outstanding" => ("未使用积分", "Outstanding points"),
        "points.outstanding_value" => ("折合金额", "Worth"),
        "points.customers_with_points" => ("有积分的客户", "Customers with points"),
        "points.owed" => ("待补扣积分", "Points owed"),
        "points.entries" => ("流水笔数", "Ledger entries"),
        "points.accounts" => ("各账户余额", "Account balances"),
        "points.account" => ("账户", "Account"),
        "points.account_balance" => ("余额", "Balance"),
        "points.balanced" => (
            "✓ 账目平衡：所有账户合计为 0，客户余额与客户账户一致",
            "✓ The books balance: the accounts sum to zero and the customers' balances equal the customer account",
        ),
        "points.unbalanced" => (
            "✗ 账目不平衡，请联系技术支持",
            "✗ The books do not balance: contact support",
        ),
        "points.by_month" => ("按过期月份", "Outstanding by expiry month"),
        "points.month" => ("过期月份", "Expires in"),
        "points.expiry_run" => ("积分过期", "Points expiry"),
        "points.expiry_run_hint" => (
            "系统每天自动处理到期积分。也可以现在手动运行一次（一分钟内重复点击只运行一次）。",
            "Due points expire by themselves every day. You can also run it now (clicks within a minute start one run).",
        ),
        "points.expiry_run_start" => ("立即运行过期", "Run expiry now"),
        "points.customer_title" => ("{name} 的积分", "{name}'s points"),
        "points.back" => ("← 返回客户详情", "← Back to the customer"),
        "points.balance" => ("积分余额", "Balance"),
        "points.value" => ("可抵金额", "Worth"),
        "points.earned" => ("累计获得", "Earned"),
        "points.redeemed" => ("累计使用", "Redeemed"),
        "points.expired" => ("累计过期", "Expired"),
        "points.reversed" => ("扣回 / 扣减", "Reversed / deducted"),
        "points.expiring_30d" => ("30 天内过期", "Expiring within 30 days"),
        "points.expiring" => ("待过期积分", "Points by expiry"),
        "points.valid_until" => ("有效期至", "Valid until"),
        "points.ledger" => ("积分流水", "Ledger"),
        "points.time" => ("时间", "Time"),
        "points.kind" => ("类型", "Kind"),
        "points.change" => ("变动", "Change"),
        "points.balance_after" => ("变动后余额", "Balance after"),
        "points.source" => ("来源", "Source"),
        "points.reason" => ("原因", "Reason"),
        "points.actor" => ("操作人", "By"),
        "points.order_fmt" => ("订单 #{id}", "Order #{id}"),
        "points.older" => ("更早的记录 →", "Older entries →"),
        "points.newest" => ("← 最新记录", "← Newest entries"),
        "points.redemptions" => ("积分抵现记录", "Redemptions"),
        "points.points" => ("积分", "Points"),
        "points.order_ref" => ("订单号", "Order no."),
        "points.status" => ("状态", "Status"),
        "points.cancel" => ("撤销并退回积分", "Cancel and return the points"),
        "points.adjust" => ("手动调整积分", "Adjust points by hand"),
        "points.adjust_hint" => (
            "调整会记入积分流水和审计日志。扣减不能超过余额。",
            "An adjustment is written to the ledger and the audit log. A deduction cannot exceed the balance.",
        ),
        "points.adjust_kind" => ("操作", "Operation"),
        "points.grant" => ("发放", "Grant"),
        "points.deduct" => ("扣减", "Deduct"),
        "points.adjust_submit" => ("提交调整", "Apply"),
        "points.line" => ("积分 {n}", "Points {n}"),
        "points.line_link" => ("查看积分", "View points"),
        // The H5 member centre (`/h5/member`).
        "points.h5.title" => ("会员中心", "Member centre"),
        "points.h5.subtitle" => ("我的积分与会员权益", "Your points and membership"),
        "points.h5.balance" => ("我的积分", "My points"),
        "points.h5.worth" => ("可抵 ¥{v}", "Worth ¥{v}"),
        "points.h5.expiring" => ("即将过期", "Expiring"),
        "points.h5.no_expiring" => ("暂无将过期的积分", "No points are due to expire"),
        "points.h5.history" => ("积分明细", "Points history"),
        "points.h5.no_history" => ("暂无积分记录", "No points yet"),
        "points.h5.more" => ("加载更多", "Load more"),
        "points.h5.expires_on" => ("{d} 过期", "Expire {d}"),
        "points.h5.never" => ("永久有效", "Never expire"),
        // The member centre's tier block.
        "points.h5.tier" => ("会员等级", "Membership tier"),
        "points.h5.tier_none" => ("尚未成为会员", "Not a member yet"),
        "points.h5.tier_held" => ("{d} 起 · 保级至 {u}", "Since {d} · held until {u}"),
        "points.h5.tier_next_spend_12m" => {
            ("再消费 ¥{v} 升级为{n}", "Spend ¥{v} more to reach {n}")
        }
        "points.h5.tier_next_points_12m" => (
            "再获得 {v} 积分升级为{n}",
            "Earn {v} more points to reach {n}",
        ),
        "points.h5.tier_next_orders_12m" => {
            ("再下 {v} 单升级为{n}", "{v} more orders to reach {n}")
        }
        "points.h5.tier_next_order" => ("下一笔订单后即成为{n}", "Your next order makes you {n}"),
        "points.h5.tier_top" => ("已是最高等级", "You hold the top tier"),
        "points.h5.tier_discount" => ("会员价优惠 {v}%", "{v}% member discount"),
        "points.h5.tier_multiplier" => ("积分 {v} 倍", "{v}× points"),
        "points.h5.tier_free_shipping" => ("满 ¥{v} 包邮", "Free shipping from ¥{v}"),
        // The member centre's paid card block.
        "points.h5.card" => ("付费会员卡", "Paid member card"),
        "points.h5.card_active" => ("生效中", "Active"),
        "points.h5.card_expired" => ("已过期", "Expired"),
        "points.h5.card_none" => ("未开通", "None"),
        "points.h5.card_no_card" => ("你还没有付费会员卡", "You have no paid member card"),
        "points.h5.card_until" => ("有效期至 {d}", "Valid until {d}"),
        "points.h5.card_ended" => ("{d} 已到期", "Ended on {d}"),
        "points.h5.card_savings" => (
            "本期已省 ¥{s}，卡费 ¥{p}",
            "Saved ¥{s} this period; the card cost ¥{p}",
        ),
        "points.h5.card_guarantee" => (
            "省钱保障：本期省下不足卡费，差额退还",
            "Savings guarantee: save less than the card cost this period and the difference is refunded",
        ),
        // The stored-value block.
        "points.h5.sv_split" => ("本金 ¥{p} · 赠送金 ¥{g}", "Principal ¥{p} · gift ¥{g}"),
        "points.h5.sv_no_entries" => ("暂无储值记录", "No stored-value entries yet"),
        // The member gifts block.
        "points.h5.gifts" => ("会员礼", "Member gifts"),
        "points.h5.gifts_none" => ("还没有收到会员礼", "No member gifts yet"),
        "points.h5.gift_points" => ("{n} 积分", "{n} points"),
        "points.h5.gift_fen" => ("储值赠送金 ¥{v}", "¥{v} stored-value gift"),
        "points.h5.gift_coupon" => ("优惠券「{n}」", "Coupon “{n}”"),
        "points.h5.gift_year" => ("{y} 年", "{y}"),
        // The points mall block.
        "points.h5.mall" => ("积分商城", "Points mall"),
        "points.h5.mall_mine" => ("我的兑换", "My exchanges"),
        "points.h5.mall_none" => ("暂无可兑换的商品", "Nothing to exchange right now"),
        "points.h5.mall_points" => ("{p} 积分", "{p} points"),
        "points.h5.mall_cash" => ("+ ¥{c}", "+ ¥{c}"),
        "points.h5.mall_stock" => ("剩余 {n}", "{n} left"),
        "points.h5.mall_limit" => ("每人限 {n} 件", "Limit {n} each"),
        "points.h5.mall_exchange" => ("兑换", "Exchange"),
        "points.h5.mall_exchanged" => ("兑换成功", "Exchanged"),
        "points.h5.mall_no_exchanges" => ("还没有兑换记录", "No exchanges yet"),
        "points.h5.mall_cancel" => ("取消兑换", "Cancel"),
        "points.h5.mall_cancelled" => ("已取消，积分已退回", "Cancelled; your points are back"),
        "points.h5.mall_pay_by" => ("请在 {t} 前支付", "Pay by {t}"),
        _ => return None,
    })
}
