//! The points mall's console pages (积分商城, issue #22 item 4): `/console/loyalty/mall` lists
//! the items (stock, limits, on sale) to everyone who sees customers and the latest exchanges
//! with their ship / deliver / fulfil / cancel actions to the HQ roles; `/console/loyalty/mall/new`
//! and `/console/loyalty/mall/{id}/edit` are the item form for admins and operators. Every page
//! reads and writes through `app.mall()`, so permissions and rules are the API's.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::loyalty::mall::{ExchangeQuery, ExchangeRow, ItemRow, Step};
use yutang_core::FieldError;
use yutang_core::loyalty::mall::{DEFAULT_PAYMENT_MINUTES, ItemKind, ItemSpec};
use yutang_core::staff::Permission;

use super::layout::{
    ConsoleForm, ConsoleQuery, FormError, error_page, field_error, form_error, see_other,
};
use super::{Console, Ctx, render};
use crate::auth::IdPath;
use crate::state::AppState;

const PATH: &str = "/console/loyalty/mall";

/// The texts of these pages (`mall.*` beyond the codes in `labels`), zh and en.
pub fn text(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "mall.nav" => ("积分商城", "Points mall"),
        "mall.title" => ("积分商城", "Points mall"),
        "mall.hint" => (
            "顾客用积分（或积分加现金）兑换优惠券、实物礼品或商品。兑换时在同一事务中扣库存、扣积分（优惠券即时发放），绝不超卖；取消或超时未支付会把积分退回原批次、库存加回，且只退一次。",
            "Customers exchange points (or points plus cash) for coupons, physical gifts or products. One transaction takes the unit, debits the points (and issues a coupon at once): never oversold; a cancellation or an unpaid expiry returns the points to their lots and the unit to the stock, exactly once.",
        ),
        "mall.items" => ("商品", "Items"),
        "mall.new" => ("新建商品", "New item"),
        "mall.edit_title" => ("编辑商品", "Edit item"),
        "mall.no_items" => ("还没有积分商城商品。", "No mall items yet."),
        "mall.kind" => ("类型", "Kind"),
        "mall.price" => ("兑换价", "Price"),
        "mall.points_fmt" => ("{n} 积分", "{n} points"),
        "mall.stock" => ("库存 / 已兑", "Stock / taken"),
        "mall.limit" => ("每人限兑", "Limit per customer"),
        "mall.no_limit" => ("不限", "No limit"),
        "mall.on_sale" => ("上架", "On sale"),
        "mall.off_sale" => ("未上架", "Off sale"),
        "mall.archive" => ("归档", "Archive"),
        "mall.confirm_subject" => (
            "归档积分商城商品「{name}」",
            "Archive the mall item “{name}”",
        ),
        "mall.confirm_stock" => (
            "剩余库存 {stock}，已兑 {sold}：归档后顾客看不到也不能再兑换；已有的兑换单照常履约或取消。",
            "{stock} left in stock, {sold} taken: once archived customers neither see nor exchange it; exchanges made are fulfilled or cancelled as usual.",
        ),
        "mall.exchanges" => ("最近兑换", "Latest exchanges"),
        "mall.no_exchanges" => ("暂无兑换记录。", "No exchanges yet."),
        "mall.customer" => ("客户", "Customer"),
        "mall.item" => ("商品", "Item"),
        "mall.state" => ("状态", "State"),
        "mall.tracking" => ("物流", "Shipment"),
        "mall.ship" => ("发货", "Ship"),
        "mall.deliver" => ("确认签收", "Mark delivered"),
        "mall.fulfil" => ("确认履约", "Mark fulfilled"),
        "mall.cancel" => ("取消并退回积分", "Cancel and return points"),
        "mall.all_states" => ("全部状态", "All states"),
        "mall.help_cash" => (
            "单位：分；0 表示纯积分。加付现金的兑换单需品牌订单系统回传支付，超时未付自动取消。",
            "In fen; 0: points only. With a cash part the exchange waits for the order system's payment and expires unpaid.",
        ),
        "mall.help_limit" => ("留空表示不限。", "Empty: no limit."),
        "mall.help_template" => ("仅优惠券类商品填写。", "Coupon items only."),
        "mall.help_sku" => ("仅商品类填写。", "Product items only."),
        "mall.back" => ("返回积分商城", "Back to the points mall"),
        _ => return None,
    })
}

fn can_manage(c: &Console) -> bool {
    c.session.actor.can(Permission::ManagePromotions)
}

fn can_fulfil(c: &Console) -> bool {
    c.session.actor.can(Permission::ManageCustomers)
}

/// The exchange list's filter (`ok` is the flash of a save).
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    state: String,
}

#[derive(Template)]
#[template(path = "console/mall.html")]
struct MallPage {
    ctx: Ctx,
    items: Vec<ItemRow>,
    exchanges: Option<Vec<ExchangeRow>>,
    can_manage: bool,
    can_fulfil: bool,
    state: String,
    states: Vec<(&'static str, String)>,
}

impl MallPage {
    fn kind_label(&self, kind: &str) -> String {
        super::labels::code_or_raw(self.ctx.tr, "mall.kind.", kind)
    }

    fn state_label(&self, state: &str) -> String {
        super::labels::code_or_raw(self.ctx.tr, "mall.state.", state)
    }

    fn price(&self, points: &i64, cash: &i64) -> String {
        let p = self
            .ctx
            .tr
            .fill("mall.points_fmt", &[("n", &points.to_string())]);
        if *cash > 0 {
            format!("{p} + ¥{}", self.ctx.yuan(cash))
        } else {
            p
        }
    }

    fn limit(&self, l: &Option<i64>) -> String {
        match l {
            Some(n) => n.to_string(),
            None => self.ctx.tr.t("mall.no_limit").to_owned(),
        }
    }

    fn item_name(&self, id: &i64) -> String {
        self.items
            .iter()
            .find(|i| i.id == *id)
            .map_or_else(|| format!("#{id}"), |i| i.name.clone())
    }
}

/// `GET /console/loyalty/mall`.
pub async fn page(
    State(s): State<AppState>,
    mut c: Console,
    ConsoleQuery(q): ConsoleQuery<ListQuery>,
) -> Response {
    c.ctx.active = "mall";
    let actor = &c.session.actor;
    let items = match s.app.mall().items(actor, false).await {
        Ok(i) => i,
        Err(e) => return error_page(c.ctx, e),
    };
    let state = q.state.trim().to_owned();
    let exchanges = if actor.can(Permission::ViewMetrics) {
        let query = ExchangeQuery {
            state: (!state.is_empty()).then(|| state.clone()),
            limit: Some(100),
            ..Default::default()
        };
        match s.app.mall().exchanges(actor, &query).await {
            Ok(p) => Some(p.items),
            Err(e) => return error_page(c.ctx, e),
        }
    } else {
        None
    };
    let states = yutang_core::loyalty::mall::ExchangeState::ALL
        .iter()
        .map(|st| {
            (
                st.as_str(),
                super::labels::code_or_raw(c.ctx.tr, "mall.state.", st.as_str()),
            )
        })
        .collect();
    let page = MallPage {
        can_manage: can_manage(&c),
        can_fulfil: can_fulfil(&c),
        ctx: c.ctx,
        items,
        exchanges,
        state,
        states,
    };
    render(StatusCode::OK, &page)
}

/// The item form as typed.
#[derive(Debug, Default, Deserialize)]
pub struct ItemForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    image_url: String,
    #[serde(default)]
    points_price: String,
    #[serde(default)]
    cash_price_fen: String,
    #[serde(default)]
    stock: String,
    #[serde(default)]
    per_customer_limit: String,
    #[serde(default)]
    coupon_template_id: String,
    #[serde(default)]
    sku: String,
    #[serde(default)]
    on_sale: Option<String>,
    #[serde(default)]
    payment_minutes: String,
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    ends_at: String,
}

fn opt(v: &Option<i64>) -> String {
    v.map(|n| n.to_string()).unwrap_or_default()
}

impl ItemForm {
    fn of(i: &ItemRow) -> Self {
        Self {
            kind: i.kind.clone(),
            name: i.name.clone(),
            description: i.description.clone(),
            image_url: i.image_url.clone().unwrap_or_default(),
            points_price: i.points_price.to_string(),
            cash_price_fen: i.cash_price_fen.to_string(),
            stock: i.stock.to_string(),
            per_customer_limit: opt(&i.per_customer_limit),
            coupon_template_id: opt(&i.coupon_template_id),
            sku: i.sku.clone().unwrap_or_default(),
            on_sale: i.on_sale.then(|| "on".to_owned()),
            payment_minutes: i.payment_minutes.to_string(),
            starts_at: opt(&i.starts_at),
            ends_at: opt(&i.ends_at),
        }
    }

    fn blank() -> Self {
        Self {
            kind: "gift".into(),
            cash_price_fen: "0".into(),
            on_sale: Some("on".into()),
            payment_minutes: DEFAULT_PAYMENT_MINUTES.to_string(),
            ..Self::default()
        }
    }

    fn spec(&self) -> Result<ItemSpec, FieldError> {
        let int = |field: &'static str, s: &str| -> Result<Option<i64>, FieldError> {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            s.parse::<i64>()
                .map(Some)
                .map_err(|_| FieldError::new(field, "invalid_number", "a whole number"))
        };
        let required = |field: &'static str, v: Option<i64>| {
            v.ok_or_else(|| FieldError::new(field, "required", "required"))
        };
        ItemSpec {
            kind: ItemKind::parse("kind", &self.kind)?,
            name: self.name.clone(),
            description: self.description.clone(),
            image_url: Some(self.image_url.clone()),
            points_price: required("points_price", int("points_price", &self.points_price)?)?,
            cash_price_fen: int("cash_price_fen", &self.cash_price_fen)?.unwrap_or(0),
            stock: required("stock", int("stock", &self.stock)?)?,
            per_customer_limit: int("per_customer_limit", &self.per_customer_limit)?,
            coupon_template_id: int("coupon_template_id", &self.coupon_template_id)?,
            sku: Some(self.sku.clone()),
            starts_at: int("starts_at", &self.starts_at)?,
            ends_at: int("ends_at", &self.ends_at)?,
            on_sale: self.on_sale.is_some(),
            payment_minutes: int("payment_minutes", &self.payment_minutes)?
                .unwrap_or(DEFAULT_PAYMENT_MINUTES),
        }
        .parse()
    }
}

#[derive(Template)]
#[template(path = "console/mall_form.html")]
struct FormPage {
    ctx: Ctx,
    /// `None`: a new item.
    id: Option<i64>,
    form: ItemForm,
    error: Option<FormError>,
    kinds: Vec<(&'static str, String)>,
}

impl FormPage {
    fn new(ctx: Ctx, id: Option<i64>, form: ItemForm) -> Self {
        let kinds = ItemKind::ALL
            .iter()
            .map(|k| {
                (
                    k.as_str(),
                    super::labels::code_or_raw(ctx.tr, "mall.kind.", k.as_str()),
                )
            })
            .collect();
        Self {
            ctx,
            id,
            form,
            error: None,
            kinds,
        }
    }

    fn err(&self, field: &str) -> Option<&'static str> {
        super::layout::error_for(&self.error, field)
    }

    fn action(&self) -> String {
        match self.id {
            Some(id) => format!("{PATH}/{id}"),
            None => PATH.to_owned(),
        }
    }
}

/// `GET /console/loyalty/mall/new`.
pub async fn new_item(State(_s): State<AppState>, mut c: Console) -> Response {
    c.ctx.active = "mall";
    if !can_manage(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    render(
        StatusCode::OK,
        &FormPage::new(c.ctx, None, ItemForm::blank()),
    )
}

/// `GET /console/loyalty/mall/{id}/edit`.
pub async fn edit_item(State(s): State<AppState>, mut c: Console, IdPath(id): IdPath) -> Response {
    c.ctx.active = "mall";
    if !can_manage(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    match s.app.mall().item(&c.session.actor, id).await {
        Ok(i) if i.archived_at.is_none() => render(
            StatusCode::OK,
            &FormPage::new(c.ctx, Some(id), ItemForm::of(&i)),
        ),
        Ok(_) => error_page(c.ctx, AppError::NotFound { what: "mall item" }),
        Err(e) => error_page(c.ctx, e),
    }
}

async fn save(s: &AppState, c: Console, id: Option<i64>, f: ItemForm) -> Response {
    let tr = c.ctx.tr;
    let actor = &c.session.actor;
    let result = match f.spec() {
        Ok(spec) => match id {
            Some(id) => s.app.mall().update_item(actor, id, spec).await,
            None => s.app.mall().create_item(actor, spec).await,
        }
        .map_err(|e| form_error(tr, e)),
        Err(e) => Err(field_error(tr, e)),
    };
    match result {
        Ok(_) => see_other(&format!("{PATH}?ok=saved")),
        Err((status, error)) => {
            if status == StatusCode::FORBIDDEN {
                return error_page(c.ctx, AppError::Forbidden);
            }
            let mut page = FormPage::new(c.ctx, id, f);
            page.error = Some(error);
            render(status, &page)
        }
    }
}

/// `POST /console/loyalty/mall`: create an item.
pub async fn create(
    State(s): State<AppState>,
    ConsoleForm(mut c, f): ConsoleForm<ItemForm>,
) -> Response {
    c.ctx.active = "mall";
    save(&s, c, None, f).await
}

/// `POST /console/loyalty/mall/{id}`: replace an item.
pub async fn update(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(mut c, f): ConsoleForm<ItemForm>,
) -> Response {
    c.ctx.active = "mall";
    save(&s, c, Some(id), f).await
}

/// `GET /console/loyalty/mall/{id}/archive`: what archiving the item means, with the form
/// that does it.
pub async fn archive_confirm(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    c: Console,
) -> Response {
    if !can_manage(&c) {
        return error_page(c.ctx, yutang_app::AppError::Forbidden);
    }
    let item = match s.app.mall().item(&c.session.actor, id).await {
        Ok(i) => i,
        Err(e) => return error_page(c.ctx, e),
    };
    let tr = c.ctx.tr;
    let confirm = super::confirm::Confirm {
        subject: tr.fill("mall.confirm_subject", &[("name", &item.name)]),
        impact: vec![tr.fill(
            "mall.confirm_stock",
            &[
                ("stock", &super::confirm::grouped(item.stock)),
                ("sold", &super::confirm::grouped(item.sold)),
            ],
        )],
        outcome: "archive",
        action: format!("{PATH}/{id}/archive"),
        back: PATH,
    };
    super::confirm::confirm_page(c.ctx, "mall", confirm)
}

/// `POST /console/loyalty/mall/{id}/archive`.
pub async fn archive(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(mut c, _): ConsoleForm<super::layout::CsrfForm>,
) -> Response {
    c.ctx.active = "mall";
    match s.app.mall().archive_item(&c.session.actor, id).await {
        Ok(()) => see_other(&format!("{PATH}?ok=saved")),
        Err(e) => error_page(c.ctx, e),
    }
}

/// A fulfilment step's form: the shipment for `ship`, nothing else for the others.
#[derive(Debug, Default, Deserialize)]
pub struct StepForm {
    #[serde(default)]
    carrier: String,
    #[serde(default)]
    tracking_no: String,
}

/// `POST /console/loyalty/mall/exchanges/{id}/{step}`: ship, deliver, fulfil or cancel;
/// back to the page, or the error page naming what was refused.
pub async fn step(
    State(s): State<AppState>,
    Path((id, what)): Path<(i64, String)>,
    ConsoleForm(mut c, f): ConsoleForm<StepForm>,
) -> Response {
    c.ctx.active = "mall";
    let step = match what.as_str() {
        "ship" => Step::Ship {
            carrier: f.carrier,
            tracking_no: f.tracking_no,
        },
        "deliver" => Step::Deliver,
        "fulfil" => Step::Fulfil,
        "cancel" => Step::Cancel,
        _ => return error_page(c.ctx, AppError::NotFound { what: "page" }),
    };
    match s.app.mall().step(&c.session.actor, id, step).await {
        Ok(_) => see_other(&format!("{PATH}?ok=saved")),
        Err(e) => error_page(c.ctx, e),
    }
}
