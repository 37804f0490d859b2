//! Stored value and member gifts in the console (储值 / 会员礼, issue #22 item 5):
//! `/console/loyalty/stored-value` — the liability (HQ roles that see metrics) and the top-up
//! gift rules; `/console/loyalty/gifts` — the birthday and anniversary rules, the latest
//! grants and a button that starts a run; `/console/customers/{id}/stored-value` — a
//! customer's balance (principal and gift) and ledger with its running balance. Every page
//! reads through the app, so a guide sees only their own customers. Admins and operators
//! create, edit (`?edit={id}`) and archive (after a confirmation page) both kinds of rules
//! through the forms of the two pages (issue #22 item 7), the same use cases as the API
//! (`/api/v1/stored-value/top-up-gifts`, `/api/v1/loyalty/gifts`), audited there.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::loyalty::gifts::{GrantRow, RuleInput, RuleRow};
use yutang_app::loyalty::stored_value::{
    AccountView, EntryRow, GiftRuleInput, GiftRuleRow, Liability,
};
use yutang_core::FieldError;
use yutang_core::ids::CustomerId;
use yutang_core::staff::Permission;

use super::confirm::{Confirm, confirm_page};
use super::layout::{
    ConsoleForm, ConsoleQuery, CsrfForm, FormError, error_page, form_error, see_other,
};
use super::{Console, Ctx, render};
use crate::auth::IdPath;
use crate::state::AppState;

/// Ledger entries on one page of a customer's stored value.
const PAGE: i64 = 50;

const SV_PATH: &str = "/console/loyalty/stored-value";
const GIFTS_PATH: &str = "/console/loyalty/gifts";

/// Whether the reader may create, edit and archive the rules (admin, operator: what the app
/// checks; a guide sees no buttons and is refused on a POST).
fn can_manage(actor: &yutang_app::Actor) -> bool {
    actor.can(Permission::ManageCustomers)
}

/// A whole number typed into a form; empty is `default` (none: the field is required).
fn int(field: &'static str, s: &str, default: Option<i64>) -> Result<i64, FieldError> {
    let s = s.trim();
    match (s.is_empty(), default) {
        (true, Some(d)) => Ok(d),
        _ => s
            .parse::<i64>()
            .map_err(|_| FieldError::new(field, "invalid_number", "a whole number")),
    }
}

/// A coupon template id typed into a form (`12` or `#12`); empty is none.
fn template_id(s: &str) -> Result<Option<i64>, FieldError> {
    let s = s.trim().trim_start_matches('#');
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<i64>().map(Some).map_err(|_| {
        FieldError::new(
            "coupon_template_id",
            "invalid_number",
            "a coupon template id",
        )
    })
}

fn opt_id(v: Option<i64>) -> String {
    v.map(|i| i.to_string()).unwrap_or_default()
}

/// The top-up gift rule form's values (kept on a refusal).
struct SvValues {
    name: String,
    min_top_up_fen: String,
    gift_fen: String,
    points: String,
    coupon_template_id: String,
    active: bool,
}

impl Default for SvValues {
    fn default() -> Self {
        Self {
            name: String::new(),
            min_top_up_fen: String::new(),
            gift_fen: String::new(),
            points: String::new(),
            coupon_template_id: String::new(),
            active: true,
        }
    }
}

impl SvValues {
    fn of(r: &GiftRuleRow) -> Self {
        Self {
            name: r.name.clone(),
            min_top_up_fen: r.min_top_up_fen.to_string(),
            gift_fen: r.gift_fen.to_string(),
            points: r.points.to_string(),
            coupon_template_id: opt_id(r.coupon_template_id),
            active: r.status == "active",
        }
    }

    fn from_form(f: &HashMap<String, String>) -> Self {
        let get = |k: &str| f.get(k).cloned().unwrap_or_default();
        Self {
            name: get("name"),
            min_top_up_fen: get("min_top_up_fen"),
            gift_fen: get("gift_fen"),
            points: get("points"),
            coupon_template_id: get("coupon_template_id"),
            active: f.contains_key("active"),
        }
    }

    fn input(&self) -> Result<GiftRuleInput, FieldError> {
        Ok(GiftRuleInput {
            name: self.name.clone(),
            min_top_up_fen: int("min_top_up_fen", &self.min_top_up_fen, None)?,
            gift_fen: int("gift_fen", &self.gift_fen, Some(0))?,
            points: int("points", &self.points, Some(0))?,
            coupon_template_id: template_id(&self.coupon_template_id)?,
            active: self.active,
        })
    }
}

#[derive(Template)]
#[template(path = "console/stored_value.html")]
struct StoredValuePage {
    ctx: Ctx,
    liability: Option<Liability>,
    rules: Vec<GiftRuleRow>,
    can_manage: bool,
    /// The rule being edited (none: the form creates one).
    editing: Option<(i64, String)>,
    form: SvValues,
    error: Option<FormError>,
}

impl StoredValuePage {
    fn status_label(&self, s: &str) -> String {
        self.ctx.tr.t(&format!("sv.status.{s}")).to_owned()
    }

    fn form_action(&self) -> String {
        match &self.editing {
            Some((id, _)) => format!("{SV_PATH}/rules/{id}"),
            None => format!("{SV_PATH}/rules"),
        }
    }

    fn form_title(&self) -> String {
        match &self.editing {
            Some((_, name)) => self.ctx.tr.fill("sv.rule_editing_fmt", &[("name", name)]),
            None => self.ctx.tr.t("sv.rule_new").to_owned(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct EditQuery {
    edit: Option<i64>,
}

/// A refused form: the rule it edits (none: a new one), the values typed, the refusal and
/// its status.
type Refused<V> = (Option<i64>, V, FormError, StatusCode);

async fn sv_page_of(
    s: &AppState,
    c: Console,
    edit: Option<i64>,
    refused: Option<Refused<SvValues>>,
) -> Response {
    let actor = &c.session.actor;
    let result: Result<(Option<Liability>, Vec<GiftRuleRow>), AppError> = async {
        let liability = if actor.can(Permission::ViewMetrics) {
            Some(s.app.stored_value().liability(actor).await?)
        } else {
            None
        };
        Ok((liability, s.app.stored_value().gift_rules(actor).await?))
    }
    .await;
    let (liability, rules) = match result {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let named = |id: i64| {
        rules
            .iter()
            .find(|r| r.id == id)
            .map(|r| (r.id, r.name.clone()))
    };
    let (editing, form, error, status) = match refused {
        Some((id, values, error, status)) => (id.and_then(named), values, Some(error), status),
        None => {
            let rule = edit.and_then(|id| rules.iter().find(|r| r.id == id));
            (
                rule.map(|r| (r.id, r.name.clone())),
                rule.map(SvValues::of).unwrap_or_default(),
                None,
                StatusCode::OK,
            )
        }
    };
    render(
        status,
        &StoredValuePage {
            can_manage: can_manage(actor),
            ctx: c.ctx,
            liability,
            rules,
            editing,
            form,
            error,
        },
    )
}

/// `GET /console/loyalty/stored-value` (`?edit={id}`: the form edits that rule).
pub async fn page(
    State(s): State<AppState>,
    mut c: Console,
    ConsoleQuery(q): ConsoleQuery<EditQuery>,
) -> Response {
    c.ctx.active = "stored_value";
    sv_page_of(&s, c, q.edit, None).await
}

async fn sv_save(
    s: &AppState,
    mut c: Console,
    id: Option<i64>,
    f: HashMap<String, String>,
) -> Response {
    c.ctx.active = "stored_value";
    if !can_manage(&c.session.actor) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let tr = c.ctx.tr;
    let values = SvValues::from_form(&f);
    let result = match values.input() {
        Ok(input) => {
            s.app
                .stored_value()
                .save_gift_rule(&c.session.actor, id, &input)
                .await
        }
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(_) => see_other(&format!("{SV_PATH}?ok=saved")),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            let (status, error) = form_error(tr, e);
            sv_page_of(s, c, None, Some((id, values, error, status))).await
        }
        Err(e) => error_page(c.ctx, e),
    }
}

/// `POST /console/loyalty/stored-value/rules`: create a top-up gift rule.
pub async fn rule_create(
    State(s): State<AppState>,
    ConsoleForm(c, f): ConsoleForm<HashMap<String, String>>,
) -> Response {
    sv_save(&s, c, None, f).await
}

/// `POST /console/loyalty/stored-value/rules/{id}`: edit a top-up gift rule.
pub async fn rule_update(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, f): ConsoleForm<HashMap<String, String>>,
) -> Response {
    sv_save(&s, c, Some(id), f).await
}

/// `GET /console/loyalty/stored-value/rules/{id}/archive`: what archiving the rule does.
pub async fn rule_archive_confirm(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    c: Console,
) -> Response {
    let actor = &c.session.actor;
    if !can_manage(actor) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let rule = match s.app.stored_value().gift_rules(actor).await {
        Ok(rules) => rules.into_iter().find(|r| r.id == id),
        Err(e) => return error_page(c.ctx, e),
    };
    let Some(rule) = rule else {
        return error_page(c.ctx, AppError::NotFound { what: "gift rule" });
    };
    let tr = c.ctx.tr;
    let confirm = Confirm {
        subject: tr.fill("sv.confirm_rule", &[("name", &rule.name)]),
        impact: vec![
            tr.fill(
                "sv.confirm_rule_stops",
                &[("amount", &c.ctx.yuan(&rule.min_top_up_fen))],
            ),
            tr.t("sv.confirm_rule_kept").to_owned(),
        ],
        outcome: "archive",
        action: format!("{SV_PATH}/rules/{id}/archive"),
        back: SV_PATH,
    };
    confirm_page(c.ctx, "stored_value", confirm)
}

/// `POST /console/loyalty/stored-value/rules/{id}/archive`: the rule stops applying.
pub async fn rule_archive(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s
        .app
        .stored_value()
        .archive_gift_rule(&c.session.actor, id)
        .await
    {
        Ok(_) => see_other(&format!("{SV_PATH}?ok=archived")),
        Err(e) => error_page(c.ctx, e),
    }
}

/// The member gift rule form's values (kept on a refusal).
struct GiftValues {
    name: String,
    kind: String,
    mode: String,
    coupon_template_id: String,
    points: String,
    gift_fen: String,
    active: bool,
}

impl Default for GiftValues {
    fn default() -> Self {
        Self {
            name: String::new(),
            kind: "birthday".into(),
            mode: "month".into(),
            coupon_template_id: String::new(),
            points: String::new(),
            gift_fen: String::new(),
            active: true,
        }
    }
}

impl GiftValues {
    fn of(r: &RuleRow) -> Self {
        Self {
            name: r.name.clone(),
            kind: r.kind.clone(),
            mode: r.mode.clone(),
            coupon_template_id: opt_id(r.coupon_template_id),
            points: r.points.to_string(),
            gift_fen: r.gift_fen.to_string(),
            active: r.status == "active",
        }
    }

    fn from_form(f: &HashMap<String, String>) -> Self {
        let get = |k: &str| f.get(k).cloned().unwrap_or_default();
        Self {
            name: get("name"),
            kind: get("kind"),
            mode: get("mode"),
            coupon_template_id: get("coupon_template_id"),
            points: get("points"),
            gift_fen: get("gift_fen"),
            active: f.contains_key("active"),
        }
    }

    fn input(&self) -> Result<RuleInput, FieldError> {
        Ok(RuleInput {
            name: self.name.clone(),
            kind: self.kind.trim().to_owned(),
            mode: self.mode.trim().to_owned(),
            coupon_template_id: template_id(&self.coupon_template_id)?,
            points: int("points", &self.points, Some(0))?,
            gift_fen: int("gift_fen", &self.gift_fen, Some(0))?,
            active: self.active,
        })
    }
}

#[derive(Template)]
#[template(path = "console/member_gifts.html")]
struct GiftsPage {
    ctx: Ctx,
    rules: Vec<RuleRow>,
    grants: Option<Vec<GrantRow>>,
    can_manage: bool,
    /// The rule being edited (none: the form creates one).
    editing: Option<(i64, String)>,
    form: GiftValues,
    error: Option<FormError>,
}

impl GiftsPage {
    fn label(&self, prefix: &str, s: &str) -> String {
        self.ctx.tr.t(&format!("{prefix}{s}")).to_owned()
    }

    fn form_action(&self) -> String {
        match &self.editing {
            Some((id, _)) => format!("{GIFTS_PATH}/rules/{id}"),
            None => format!("{GIFTS_PATH}/rules"),
        }
    }

    fn form_title(&self) -> String {
        match &self.editing {
            Some((_, name)) => self.ctx.tr.fill("sv.rule_editing_fmt", &[("name", name)]),
            None => self.ctx.tr.t("sv.gift_rule_new").to_owned(),
        }
    }
}

async fn gifts_page_of(
    s: &AppState,
    c: Console,
    edit: Option<i64>,
    refused: Option<Refused<GiftValues>>,
) -> Response {
    let actor = &c.session.actor;
    let result: Result<(Vec<RuleRow>, Option<Vec<GrantRow>>), AppError> = async {
        let grants = if actor.can(Permission::ViewMetrics) {
            Some(s.app.gifts().grants(actor, 50).await?)
        } else {
            None
        };
        Ok((s.app.gifts().rules(actor).await?, grants))
    }
    .await;
    let (rules, grants) = match result {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let named = |id: i64| {
        rules
            .iter()
            .find(|r| r.id == id)
            .map(|r| (r.id, r.name.clone()))
    };
    let (editing, form, error, status) = match refused {
        Some((id, values, error, status)) => (id.and_then(named), values, Some(error), status),
        None => {
            let rule = edit.and_then(|id| rules.iter().find(|r| r.id == id));
            (
                rule.map(|r| (r.id, r.name.clone())),
                rule.map(GiftValues::of).unwrap_or_default(),
                None,
                StatusCode::OK,
            )
        }
    };
    render(
        status,
        &GiftsPage {
            can_manage: can_manage(actor),
            ctx: c.ctx,
            rules,
            grants,
            editing,
            form,
            error,
        },
    )
}

/// `GET /console/loyalty/gifts` (`?edit={id}`: the form edits that rule).
pub async fn gifts(
    State(s): State<AppState>,
    mut c: Console,
    ConsoleQuery(q): ConsoleQuery<EditQuery>,
) -> Response {
    c.ctx.active = "gifts";
    gifts_page_of(&s, c, q.edit, None).await
}

async fn gift_save(
    s: &AppState,
    mut c: Console,
    id: Option<i64>,
    f: HashMap<String, String>,
) -> Response {
    c.ctx.active = "gifts";
    if !can_manage(&c.session.actor) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let tr = c.ctx.tr;
    let values = GiftValues::from_form(&f);
    let result = match values.input() {
        Ok(input) => s.app.gifts().save_rule(&c.session.actor, id, &input).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(_) => see_other(&format!("{GIFTS_PATH}?ok=saved")),
        Err(e @ (AppError::Invalid(_) | AppError::Conflict { .. })) => {
            let (status, error) = form_error(tr, e);
            gifts_page_of(s, c, None, Some((id, values, error, status))).await
        }
        Err(e) => error_page(c.ctx, e),
    }
}

/// `POST /console/loyalty/gifts/rules`: create a birthday or anniversary rule.
pub async fn gift_create(
    State(s): State<AppState>,
    ConsoleForm(c, f): ConsoleForm<HashMap<String, String>>,
) -> Response {
    gift_save(&s, c, None, f).await
}

/// `POST /console/loyalty/gifts/rules/{id}`: edit a member gift rule.
pub async fn gift_update(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, f): ConsoleForm<HashMap<String, String>>,
) -> Response {
    gift_save(&s, c, Some(id), f).await
}

/// `GET /console/loyalty/gifts/rules/{id}/archive`: what archiving the rule does.
pub async fn gift_archive_confirm(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    c: Console,
) -> Response {
    let actor = &c.session.actor;
    if !can_manage(actor) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let rule = match s.app.gifts().rules(actor).await {
        Ok(rules) => rules.into_iter().find(|r| r.id == id),
        Err(e) => return error_page(c.ctx, e),
    };
    let Some(rule) = rule else {
        return error_page(c.ctx, AppError::NotFound { what: "gift rule" });
    };
    let tr = c.ctx.tr;
    let kind = tr.t(&format!("sv.gift_kind.{}", rule.kind));
    let confirm = Confirm {
        subject: tr.fill("sv.confirm_rule", &[("name", &rule.name)]),
        impact: vec![
            tr.fill("sv.confirm_gift_stops", &[("kind", kind)]),
            tr.t("sv.confirm_rule_kept").to_owned(),
        ],
        outcome: "archive",
        action: format!("{GIFTS_PATH}/rules/{id}/archive"),
        back: GIFTS_PATH,
    };
    confirm_page(c.ctx, "gifts", confirm)
}

/// `POST /console/loyalty/gifts/rules/{id}/archive`: the rule stops giving.
pub async fn gift_archive(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s.app.gifts().archive_rule(&c.session.actor, id).await {
        Ok(_) => see_other(&format!("{GIFTS_PATH}?ok=archived")),
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
            "单笔充值达到门槛即享受最高一档的赠送（储值赠送金、积分、优惠券），每笔充值一次。已归档的规则不再生效。",
            "A top-up reaching a threshold gets the highest rule reached (gift, points, coupon), once per top-up. Archived rules no longer apply.",
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
            "生日礼与入会周年礼（按加入客户池的日期），每位顾客每条规则每年发放一次，由每日任务发放。与会员等级的生日券相互独立。已归档的规则不再发放。",
            "Birthday and anniversary-of-joining gifts, once per customer per rule per year, given by the daily run. Separate from the tiers' birthday coupon. Archived rules no longer give.",
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
        "sv.rule_new" => ("新建充值赠送规则", "New top-up gift rule"),
        "sv.gift_rule_new" => ("新建会员礼规则", "New member gift rule"),
        "sv.rule_editing_fmt" => ("编辑规则：{name}", "Edit rule: {name}"),
        "sv.min_top_up_fen" => ("充值满（分）", "Top-up of at least (fen)"),
        "sv.gift_fen_input" => ("赠送金（分）", "Stored-value gift (fen)"),
        "sv.coupon_input" => ("优惠券模板 ID（可不填）", "Coupon template id (optional)"),
        "sv.active_input" => ("生效（不勾选即归档）", "Active (unticked: archived)"),
        "sv.rule_form_hint" => (
            "金额单位为分（¥100 = 10000）；赠送金、积分、优惠券至少填一项；同一笔充值只享受达到的最高门槛。",
            "Amounts are in fen (¥100 = 10000); give at least one of a gift, points or a coupon; a top-up gets only the highest threshold it reaches.",
        ),
        "sv.gift_form_hint" => (
            "生日礼按顾客生日，周年礼按加入客户池的日期；“当月”在该月任意一天发放，“当天”在当天发放（2 月 29 日在平年为 2 月 28 日）。赠送金单位为分；赠送金、积分、优惠券至少填一项。",
            "Birthday gifts follow the customer's birthday, anniversary gifts the day they joined the pool; “in the month” gives on any day of that month, “on the day” on the day itself (29 February is 28 February in other years). The gift is in fen; give at least one of a gift, points or a coupon.",
        ),
        "sv.confirm_rule" => ("规则「{name}」", "Rule “{name}”"),
        "sv.confirm_rule_stops" => (
            "充值满 ¥{amount} 的充值将不再获得此规则的赠送",
            "Top-ups of ¥{amount} or more will no longer get this rule's gift",
        ),
        "sv.confirm_gift_stops" => (
            "每日任务将不再发放此{kind}",
            "The daily run will no longer give this gift ({kind})",
        ),
        "sv.confirm_rule_kept" => (
            "已经发放的赠送保持不变；以后可以编辑规则重新启用",
            "What was already given stays; editing the rule can make it active again",
        ),
        _ => return None,
    })
}
