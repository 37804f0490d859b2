//! The paid member cards page (付费会员卡, issue #22 item 2): `/console/loyalty/cards` lists the
//! card products with their members now, the form that creates or edits one (operators and
//! admins), and the guarantee's refund instructions with their acknowledgement (HQ);
//! `/console/loyalty/cards/{id}` lists a card's members. The customer 360 page shows a card
//! block ([`customer_lines`]).

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::audit::{Page, Paged};
use yutang_app::loyalty::cards::{CardMemberRow, CardView, RefundQuery, RefundRow};
use yutang_core::FieldError;
use yutang_core::loyalty::cards::CardSpec;
use yutang_core::staff::Permission;

use super::layout::{
    ConsoleForm, ConsoleQuery, FormError, Pager, error_page, field_error, form_error, pager,
    see_other,
};
use super::{Console, Ctx, render};
use crate::auth::IdPath;
use crate::state::AppState;

const PATH: &str = "/console/loyalty/cards";

/// The texts of these pages (`card.*`), zh and en.
pub fn text(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "card.nav" => ("付费会员卡", "Member cards"),
        "card.title" => ("付费会员卡", "Paid member cards"),
        "card.hint" => (
            "会员付费开通月卡、年卡等：有效期内享会员价、积分倍数和每月券包。购买和续费由订单系统通过 API 上报（同一订单号只记一次）；续费从当前周期结束时开始。开启“省钱保障”的卡，周期结束时若会员价和卡券累计节省少于实付，系统生成一条退差指令，由订单系统退款后确认，每个周期只退一次。",
            "Members buy a monthly or annual card: while it runs they get member prices, a points multiplier and a monthly coupon pack. The order system reports purchases and renewals through the API (one order number counts once); a renewal starts when the current period ends. With the savings guarantee, a period that ends having saved less than was paid gets one refund instruction for the difference, which the order system pays and confirms — once per period.",
        ),
        "card.none" => ("尚未设置付费会员卡。", "No member cards are set up yet."),
        "card.name" => ("名称", "Name"),
        "card.key" => ("标识", "Key"),
        "card.period_days" => ("有效期（天）", "Period (days)"),
        "card.price" => ("价格", "Price"),
        "card.price_fen" => ("价格（分）", "Price (fen)"),
        "card.multiplier" => ("积分倍数（‰）", "Points multiplier (‰)"),
        "card.pack" => ("每月券包（券 ID）", "Monthly coupons (template ids)"),
        "card.guarantee" => ("省钱保障", "Savings guarantee"),
        "card.guarantee_on" => ("不省退差价", "Refund the difference"),
        "card.members" => ("当前会员", "Members now"),
        "card.state" => ("状态", "State"),
        "card.on_sale" => ("在售", "On sale"),
        "card.archived" => ("已停售", "No longer sold"),
        "card.edit" => ("编辑", "Edit"),
        "card.archive" => ("停售", "Stop selling"),
        "card.confirm_subject" => (
            "停售会员卡「{name}」",
            "Stop selling the member card “{name}”",
        ),
        "card.confirm_members" => (
            "{n} 位会员正持有此卡：已购周期照常有效、照常结算省钱保障；停售后不能再购买或续费。",
            "{n} members hold it now: the periods bought run on and settle the guarantee as usual; it can no longer be bought or renewed.",
        ),
        "card.new" => ("新建会员卡", "New member card"),
        "card.editing_fmt" => ("编辑会员卡：{name}", "Edit member card: {name}"),
        "card.form_hint" => (
            "价格单位为分（¥18 = 1800）；积分倍数 1000 = 1 倍，2000 = 双倍积分，与会员等级倍数相乘；标识可用于分群条件。已售出的周期保留购买时的倍数和保障。",
            "Prices are in fen (¥18 = 1800); a multiplier of 1000 is ×1 and 2000 double points, multiplied with the tier's. Periods sold keep the multiplier and guarantee they were bought with.",
        ),
        "card.refunds" => ("省钱保障退差", "Savings guarantee refunds"),
        "card.refunds_hint" => (
            "周期结束时节省不足实付的差额，待订单系统退款后确认。",
            "What periods that saved less than they cost are owed; the order system pays and confirms.",
        ),
        "card.no_refunds" => ("暂无退差记录。", "No refunds."),
        "card.filter_all" => ("全部", "All"),
        "card.status.pending" => ("待退款", "Pending"),
        "card.status.acknowledged" => ("已退款", "Paid"),
        "card.customer" => ("客户", "Customer"),
        "card.order_no" => ("订单号", "Order no."),
        "card.paid" => ("实付", "Paid"),
        "card.saved" => ("已省", "Saved"),
        "card.refund" => ("应退", "Owed"),
        "card.created" => ("生成时间", "Created"),
        "card.acknowledge" => ("确认已退", "Confirm paid"),
        "card.acknowledged_fmt" => ("{at} · {by}", "{at} · {by}"),
        "card.members_title_fmt" => ("{name} · 会员", "{name} · members"),
        "card.back" => ("返回付费会员卡", "Back to member cards"),
        "card.starts" => ("开始", "Starts"),
        "card.ends" => ("到期", "Ends"),
        "card.no_members" => ("该卡当前没有会员。", "Nobody holds this card now."),
        "card.block" => ("付费会员卡", "Member card"),
        "card.block_none" => ("未开通", "No card"),
        "card.block_fmt" => (
            "{card} · 有效至 {until} · 本期已省 ¥{saved} / 卡价 ¥{paid}",
            "{card} · until {until} · saved ¥{saved} of ¥{paid} this period",
        ),
        "card.period_fmt" => (
            "{card} · {from} – {to} · {status} · 已省 ¥{saved}",
            "{card} · {from} – {to} · {status} · saved ¥{saved}",
        ),
        "card.period.active" => ("有效", "Active"),
        "card.period.refunded" => ("已退卡", "Refunded"),
        "card.period.settled" => ("已结算", "Settled"),
        _ => return None,
    })
}

struct CardLine {
    id: i64,
    name: String,
    key: String,
    period_days: i64,
    price: String,
    multiplier: String,
    pack: String,
    guarantee: bool,
    archived: bool,
    members: i64,
}

fn line(ctx: &Ctx, c: &CardView) -> CardLine {
    CardLine {
        id: c.id,
        name: c.name.clone(),
        key: c.key.clone(),
        period_days: c.period_days,
        price: format!("¥{}", ctx.yuan(&c.price_fen)),
        multiplier: format!("×{}", c.points_multiplier as f64 / 1000.0),
        pack: if c.monthly_coupon_template_ids.is_empty() {
            "—".into()
        } else {
            c.monthly_coupon_template_ids
                .iter()
                .map(|i| format!("#{i}"))
                .collect::<Vec<_>>()
                .join(" ")
        },
        guarantee: c.savings_guarantee,
        archived: c.archived,
        members: c.members,
    }
}

/// The form's values (kept on a refusal).
#[derive(Default)]
struct FormValues {
    key: String,
    name: String,
    period_days: String,
    price_fen: String,
    multiplier: String,
    pack: String,
    guarantee: bool,
}

impl FormValues {
    fn of(c: &CardView) -> Self {
        Self {
            key: c.key.clone(),
            name: c.name.clone(),
            period_days: c.period_days.to_string(),
            price_fen: c.price_fen.to_string(),
            multiplier: c.points_multiplier.to_string(),
            pack: c
                .monthly_coupon_template_ids
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            guarantee: c.savings_guarantee,
        }
    }
}

#[derive(Template)]
#[template(path = "console/cards.html")]
struct CardsPage {
    ctx: Ctx,
    lines: Vec<CardLine>,
    can_manage: bool,
    can_acknowledge: bool,
    /// The product being edited (none: the form creates one).
    editing: Option<(i64, String)>,
    form: FormValues,
    error: Option<FormError>,
    refunds: Paged<RefundRow>,
    status: String,
    pager: Pager,
}

impl CardsPage {
    fn form_action(&self) -> String {
        match &self.editing {
            Some((id, _)) => format!("{PATH}/{id}"),
            None => PATH.to_owned(),
        }
    }

    fn form_title(&self) -> String {
        match &self.editing {
            Some((_, name)) => self.ctx.tr.fill("card.editing_fmt", &[("name", name)]),
            None => self.ctx.tr.t("card.new").to_owned(),
        }
    }

    fn yuan(&self, fen: &i64) -> String {
        self.ctx.yuan(fen)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    edit: Option<i64>,
    status: Option<String>,
    page: Option<i64>,
}

async fn page_of(
    s: &AppState,
    c: Console,
    q: &PageQuery,
    form: Option<(Option<i64>, FormValues, FormError, StatusCode)>,
) -> Response {
    let actor = &c.session.actor;
    let can_manage = actor.can(Permission::ManagePromotions);
    let can_acknowledge = actor.can(Permission::ManageCustomers);
    let cards = match s.app.cards().products(actor, true).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let status = q
        .status
        .clone()
        .filter(|s| matches!(s.as_str(), "pending" | "acknowledged"))
        .unwrap_or_default();
    let page = match Page::parse(q.page, Some(50)) {
        Ok(p) => p,
        Err(e) => return error_page(c.ctx, e.into()),
    };
    let refunds = match s
        .app
        .cards()
        .refunds(
            actor,
            &RefundQuery {
                status: Some(status.clone()).filter(|s| !s.is_empty()),
                page,
            },
        )
        .await
    {
        Ok(r) => r,
        Err(e) => return error_page(c.ctx, e),
    };
    let pager = pager(
        PATH,
        &[("status", status.clone())],
        page.number,
        page.size,
        refunds.total,
    );
    let (editing, values, error, http_status) = match form {
        Some((id, values, error, http_status)) => {
            let editing = id.and_then(|id| {
                cards
                    .iter()
                    .find(|c| c.id == id)
                    .map(|c| (id, c.name.clone()))
            });
            (editing, values, Some(error), http_status)
        }
        None => {
            let editing = q.edit.and_then(|id| cards.iter().find(|c| c.id == id));
            (
                editing.map(|c| (c.id, c.name.clone())),
                editing.map(FormValues::of).unwrap_or(FormValues {
                    multiplier: "1000".into(),
                    ..FormValues::default()
                }),
                None,
                StatusCode::OK,
            )
        }
    };
    let lines = cards.iter().map(|v| line(&c.ctx, v)).collect();
    render(
        http_status,
        &CardsPage {
            ctx: c.ctx,
            lines,
            can_manage,
            can_acknowledge,
            editing,
            form: values,
            error,
            refunds,
            status,
            pager,
        },
    )
}

/// `GET /console/loyalty/cards`.
pub async fn page(
    State(s): State<AppState>,
    mut c: Console,
    ConsoleQuery(q): ConsoleQuery<PageQuery>,
) -> Response {
    c.ctx.active = "cards";
    page_of(&s, c, &q, None).await
}

fn int(field: &'static str, s: &str) -> Result<i64, FieldError> {
    s.trim()
        .parse::<i64>()
        .map_err(|_| FieldError::new(field, "invalid_number", "a whole number"))
}

fn values_of(f: &HashMap<String, String>) -> FormValues {
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    FormValues {
        key: get("key"),
        name: get("name"),
        period_days: get("period_days"),
        price_fen: get("price_fen"),
        multiplier: get("points_multiplier"),
        pack: get("monthly_coupon_template_ids"),
        guarantee: f.contains_key("savings_guarantee"),
    }
}

fn spec_of(v: &FormValues) -> Result<CardSpec, FieldError> {
    let pack = v
        .pack
        .split([',', '，', ' '])
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.trim()
                .trim_start_matches('#')
                .parse::<i64>()
                .map_err(|_| {
                    FieldError::new(
                        "monthly_coupon_template_ids",
                        "invalid_ids",
                        "coupon template ids separated by commas",
                    )
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CardSpec {
        key: v.key.trim().to_owned(),
        name: v.name.trim().to_owned(),
        period_days: int("period_days", &v.period_days)?,
        price_fen: int("price_fen", &v.price_fen)?,
        points_multiplier: if v.multiplier.trim().is_empty() {
            1000
        } else {
            int("points_multiplier", &v.multiplier)?
        },
        monthly_coupon_template_ids: pack,
        savings_guarantee: v.guarantee,
    })
}

async fn save_of(
    s: &AppState,
    mut c: Console,
    id: Option<i64>,
    f: HashMap<String, String>,
) -> Response {
    c.ctx.active = "cards";
    let tr = c.ctx.tr;
    let values = values_of(&f);
    let result = match spec_of(&values) {
        Ok(spec) => {
            let cards = s.app.cards();
            let r = match id {
                Some(id) => cards.update_product(&c.session.actor, id, spec).await,
                None => cards.create_product(&c.session.actor, spec).await,
            };
            r.map_err(|e| form_error(tr, e))
        }
        Err(e) => Err(field_error(tr, e)),
    };
    match result {
        Ok(_) => see_other(&format!("{PATH}?ok=saved")),
        Err((StatusCode::FORBIDDEN, _)) => error_page(c.ctx, yutang_app::AppError::Forbidden),
        Err((code, error)) => {
            page_of(s, c, &PageQuery::default(), Some((id, values, error, code))).await
        }
    }
}

/// `POST /console/loyalty/cards`: create a card.
pub async fn create(
    State(s): State<AppState>,
    ConsoleForm(c, f): ConsoleForm<HashMap<String, String>>,
) -> Response {
    save_of(&s, c, None, f).await
}

/// `POST /console/loyalty/cards/{id}`: edit a card.
pub async fn update(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, f): ConsoleForm<HashMap<String, String>>,
) -> Response {
    save_of(&s, c, Some(id), f).await
}

/// `GET /console/loyalty/cards/{id}/archive`: what stopping the sale means, with the form
/// that does it.
pub async fn archive_confirm(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    c: Console,
) -> Response {
    if !c.session.actor.can(Permission::ManagePromotions) {
        return error_page(c.ctx, yutang_app::AppError::Forbidden);
    }
    let v = match s.app.cards().product(&c.session.actor, id).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let tr = c.ctx.tr;
    let confirm = super::confirm::Confirm {
        subject: tr.fill("card.confirm_subject", &[("name", &v.name)]),
        impact: vec![tr.fill(
            "card.confirm_members",
            &[("n", &super::confirm::grouped(v.members))],
        )],
        outcome: "archive",
        action: format!("{PATH}/{id}/archive"),
        back: PATH,
    };
    super::confirm::confirm_page(c.ctx, "cards", confirm)
}

/// `POST /console/loyalty/cards/{id}/archive`: stop selling it.
pub async fn archive(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _f): ConsoleForm<HashMap<String, String>>,
) -> Response {
    match s.app.cards().archive_product(&c.session.actor, id).await {
        Ok(_) => see_other(&format!("{PATH}?ok=archived")),
        Err(e) => error_page(c.ctx, e),
    }
}

/// `POST /console/loyalty/cards/refunds/{id}/acknowledge`: the refund was paid.
pub async fn acknowledge(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _f): ConsoleForm<HashMap<String, String>>,
) -> Response {
    match s.app.cards().acknowledge_refund(&c.session.actor, id).await {
        Ok(_) => see_other(&format!("{PATH}?ok=saved#card-refunds")),
        Err(e) => error_page(c.ctx, e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct MembersQuery {
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "console/card_members.html")]
struct MembersPage {
    ctx: Ctx,
    title: String,
    card: CardLine,
    members: Paged<CardMemberRow>,
    pager: Pager,
}

impl MembersPage {
    fn yuan(&self, fen: &i64) -> String {
        self.ctx.yuan(fen)
    }
}

/// `GET /console/loyalty/cards/{id}`: the card's members now, in the reader's scope.
pub async fn members(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    mut c: Console,
    ConsoleQuery(q): ConsoleQuery<MembersQuery>,
) -> Response {
    c.ctx.active = "cards";
    let actor = &c.session.actor;
    let page = match Page::parse(q.page, Some(50)) {
        Ok(p) => p,
        Err(e) => return error_page(c.ctx, e.into()),
    };
    let card = match s.app.cards().product(actor, id).await {
        Ok(v) => v,
        Err(e) => return error_page(c.ctx, e),
    };
    let members = match s.app.cards().members(actor, id, page).await {
        Ok(m) => m,
        Err(e) => return error_page(c.ctx, e),
    };
    let title = c
        .ctx
        .tr
        .fill("card.members_title_fmt", &[("name", &card.name)]);
    let pager = pager(
        &format!("{PATH}/{id}"),
        &[],
        page.number,
        page.size,
        members.total,
    );
    render(
        StatusCode::OK,
        &MembersPage {
            card: line(&c.ctx, &card),
            ctx: c.ctx,
            title,
            members,
            pager,
        },
    )
}

/// The customer 360 page's card block: the card held now (or "no card") with its end and the
/// savings against the price, then the periods. None when the customer never bought one.
pub(crate) async fn customer_lines(
    s: &AppState,
    ctx: &Ctx,
    actor: &yutang_app::Actor,
    customer: i64,
) -> Option<Vec<String>> {
    let v = s
        .app
        .cards()
        .customer_card(actor, yutang_core::ids::CustomerId(customer))
        .await
        .ok()?;
    if v.periods.is_empty() {
        return None;
    }
    let tr = ctx.tr;
    let mut lines = Vec::new();
    match (&v.current, v.expires_at) {
        (Some(p), Some(until)) => lines.push(tr.fill(
            "card.block_fmt",
            &[
                ("card", &p.card_name),
                ("until", &ctx.time(&until)),
                ("saved", &ctx.yuan(&v.savings_fen)),
                ("paid", &ctx.yuan(&v.paid_fen)),
            ],
        )),
        _ => lines.push(tr.t("card.block_none").to_owned()),
    }
    for p in v.periods.iter().take(5) {
        lines.push(tr.fill(
            "card.period_fmt",
            &[
                ("card", &p.card_name),
                ("from", &ctx.time(&p.starts_at)),
                ("to", &ctx.time(&p.ends_at)),
                ("status", tr.t(&format!("card.period.{}", p.status))),
                ("saved", &ctx.yuan(&p.savings_fen)),
            ],
        ));
    }
    Some(lines)
}
