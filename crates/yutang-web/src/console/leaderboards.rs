//! `/console/leaderboards` (排行榜, issue #23 item 6): guides (or stores) ranked by a metric over
//! a day, a week or a month within a store, a region or the brand, with every figure beside the
//! ranked one; and the incentive pools that cover the caller. `/console/incentive-pools/…`
//! (激励池): a pool's split — live for a draft, as settled otherwise — with the rows the caller
//! may see; headquarters operations create, edit, delete and settle pools and export a settled
//! one for payroll (CSV or Excel).
//!
//! Everything goes through `app.leaderboards()`, which checks who may read which board and
//! pool and who may change pools.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::audit::Page;
use yutang_app::leaderboards::{BoardAsk, BoardView, PeriodView, PoolInput, PoolLine, PoolView};
use yutang_app::org::StoreQuery;
use yutang_core::FieldError;
use yutang_core::leaderboards::Metric;
use yutang_core::staff::Permission;

use super::layout::{
    ConsoleForm, ConsoleQuery, FormError, error_for, error_page, form_error, see_other,
};
use super::promotions::yuan_to_fen;
use super::{Console, Ctx, render};
use crate::api::spreadsheet::{FileFormat, table_download};
use crate::auth::IdPath;
use crate::state::AppState;

const ACTIVE: &str = "leaderboards";
const BOARD_PATH: &str = "/console/leaderboards";
const POOLS_PATH: &str = "/console/incentive-pools";

/// Basis points as a percentage with two decimals (`3750` → `37.50%`).
fn percent(bp: i64) -> String {
    format!("{}.{:02}%", bp / 100, bp % 100)
}

/// A metric's value as the page shows it.
fn shown(metric: Metric, v: Option<i64>) -> String {
    let Some(v) = v else {
        return "—".into();
    };
    match metric {
        Metric::FirstOrderRate => percent(v),
        Metric::Gmv => yutang_core::money::Fen(v).to_string(),
        Metric::Rating => format!("{}.{:02}", v / 100, v % 100),
        _ => v.to_string(),
    }
}

/// A choice in a select: the value, its label and whether it is selected.
pub struct Opt {
    pub value: String,
    pub label: String,
    pub on: bool,
}

fn opts(tr: super::Tr, prefix: &str, values: &[&str], current: &str) -> Vec<Opt> {
    values
        .iter()
        .map(|v| Opt {
            value: (*v).to_owned(),
            label: tr.t(&format!("{prefix}{v}")).to_owned(),
            on: *v == current,
        })
        .collect()
}

/// The stores and regions the selects offer (those the caller sees).
async fn places(s: &AppState, c: &Console, store: &str, region: &str) -> (Vec<Opt>, Vec<Opt>) {
    let a = &c.session.actor;
    let stores = s
        .app
        .org()
        .list_stores(
            a,
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
        .into_iter()
        .map(|r| Opt {
            on: r.id.to_string() == store,
            value: r.id.to_string(),
            label: r.name,
        })
        .collect();
    let regions = s
        .app
        .org()
        .list_regions(a)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| Opt {
            on: r.id.to_string() == region,
            value: r.id.to_string(),
            label: r.name,
        })
        .collect();
    (stores, regions)
}

fn range_text(tr: super::Tr, p: &PeriodView) -> String {
    tr.fill("lb.range", &[("from", &p.from), ("to", &p.to)])
}

fn rule_text(tr: super::Tr, i: i64, t: i64) -> String {
    tr.fill(
        "lb.rule_text",
        &[("i", &i.to_string()), ("t", &t.to_string())],
    )
}

fn id_or_none(s: &str) -> Option<i64> {
    s.trim().parse().ok()
}

fn nonblank(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

const METRICS: [&str; 7] = [
    "adds",
    "net_adds",
    "first_order_rate",
    "first_orders",
    "gmv",
    "tasks_done",
    "rating",
];
const POOL_METRICS: [&str; 5] = ["adds", "net_adds", "first_orders", "gmv", "tasks_done"];

// ---------------------------------------------------------------- the board

/// The board's filters, as in its address.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct BoardQuery {
    subject: String,
    level: String,
    store_id: String,
    region_id: String,
    metric: String,
    period: String,
    date: String,
}

#[derive(Template)]
#[template(path = "console/leaderboards.html")]
struct BoardPage {
    ctx: Ctx,
    board: BoardView,
    pools: Vec<PoolLine>,
    can_manage: bool,
    subjects: Vec<Opt>,
    levels: Vec<Opt>,
    metrics: Vec<Opt>,
    periods: Vec<Opt>,
    stores: Vec<Opt>,
    regions: Vec<Opt>,
    date: String,
}

impl BoardPage {
    fn value(&self, v: &Option<i64>) -> String {
        shown(self.board.metric, *v)
    }
    fn rate(&self, v: &Option<i64>) -> String {
        shown(Metric::FirstOrderRate, *v)
    }
    fn rating(&self, v: &Option<i64>) -> String {
        shown(Metric::Rating, *v)
    }
    fn range(&self, p: &PeriodView) -> String {
        range_text(self.ctx.tr, p)
    }
    fn rule(&self, i: &i64, t: &i64) -> String {
        rule_text(self.ctx.tr, *i, *t)
    }
    fn me_text(&self) -> Option<String> {
        let m = self.board.me.as_ref()?;
        Some(self.ctx.tr.fill("lb.me", &[("rank", &self.rank(&m.rank))]))
    }
    fn rank(&self, r: &Option<i64>) -> String {
        r.map(|r| r.to_string()).unwrap_or_else(|| "—".into())
    }
    fn is_me(&self, id: &i64) -> bool {
        self.board.me.as_ref().is_some_and(|m| m.id == *id)
    }
    fn guides(&self) -> bool {
        self.board.subject == yutang_core::leaderboards::Subject::Guides
    }
    fn metric_label(&self) -> &'static str {
        self.ctx
            .tr
            .t(&format!("lb.metric.{}", self.board.metric.as_str()))
    }
    fn span_label(&self, span: &str) -> &'static str {
        self.ctx.tr.t(&format!("lb.period.{span}"))
    }
    fn level_label(&self, level: &yutang_core::leaderboards::Level) -> &'static str {
        self.ctx.tr.t(&format!("lb.level.{}", level.as_str()))
    }
    fn pool_metric(&self, m: &Metric) -> &'static str {
        self.ctx.tr.t(&format!("lb.metric.{}", m.as_str()))
    }
    fn state_label(&self, s: &str) -> &'static str {
        self.ctx.tr.t(&format!("lb.state.{s}"))
    }
}

pub async fn board(
    State(s): State<AppState>,
    mut c: Console,
    ConsoleQuery(q): ConsoleQuery<BoardQuery>,
) -> Response {
    c.ctx.active = ACTIVE;
    let a = &c.session.actor;
    let ask = BoardAsk {
        subject: nonblank(&q.subject),
        level: nonblank(&q.level),
        store_id: id_or_none(&q.store_id),
        region_id: id_or_none(&q.region_id),
        metric: nonblank(&q.metric),
        period: nonblank(&q.period),
        date: nonblank(&q.date),
    };
    let lb = s.app.leaderboards();
    let board = match lb.board(a, &ask).await {
        Ok(b) => b,
        Err(e) => return error_page(c.ctx, e),
    };
    let pools = match lb.list(a).await {
        Ok(p) => p,
        Err(e) => return error_page(c.ctx, e),
    };
    let store = board.store_id.map(|i| i.to_string()).unwrap_or_default();
    let region = board.region_id.map(|i| i.to_string()).unwrap_or_default();
    let (stores, regions) = places(&s, &c, &store, &region).await;
    let tr = c.ctx.tr;
    let page = BoardPage {
        can_manage: a.can(Permission::ManageIncentives),
        subjects: opts(
            tr,
            "lb.subject.",
            &["guides", "stores"],
            board.subject.as_str(),
        ),
        levels: opts(
            tr,
            "lb.level.",
            &["store", "region", "brand"],
            board.level.as_str(),
        ),
        metrics: opts(tr, "lb.metric.", &METRICS, board.metric.as_str()),
        periods: opts(
            tr,
            "lb.period.",
            &["day", "week", "month"],
            &board.period.span,
        ),
        stores,
        regions,
        date: nonblank(&q.date).unwrap_or_else(|| board.period.from.clone()),
        ctx: c.ctx,
        board,
        pools,
    };
    render(StatusCode::OK, &page)
}

// ---------------------------------------------------------------- pools

/// A pool's form as typed, so a refused form comes back filled in.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PoolForm {
    name: String,
    period: String,
    date: String,
    level: String,
    store_id: String,
    region_id: String,
    metric: String,
    /// Yuan, e.g. `10000` or `10000.50`.
    amount: String,
    individual_pct: String,
    team_pct: String,
}

impl PoolForm {
    fn kidswant() -> Self {
        Self {
            period: "month".into(),
            level: "brand".into(),
            metric: "gmv".into(),
            individual_pct: "80".into(),
            team_pct: "20".into(),
            ..Self::default()
        }
    }

    fn of(p: &PoolView) -> Self {
        Self {
            name: p.name.clone(),
            period: p.period.span.clone(),
            date: p.period.from.clone(),
            level: p.level.as_str().to_owned(),
            store_id: p.store_id.map(|i| i.to_string()).unwrap_or_default(),
            region_id: p.region_id.map(|i| i.to_string()).unwrap_or_default(),
            metric: p.metric.as_str().to_owned(),
            amount: yutang_core::money::Fen(p.amount_fen).to_string(),
            individual_pct: p.individual_pct.to_string(),
            team_pct: p.team_pct.to_string(),
        }
    }

    fn pct(field: &'static str, s: &str) -> Result<i64, FieldError> {
        s.trim().parse().map_err(|_| {
            FieldError::new(
                field,
                "invalid_shares",
                "a share is a whole percent from 0 to 100",
            )
        })
    }

    fn parse(&self) -> Result<PoolInput, FieldError> {
        if self.amount.trim().is_empty() {
            return Err(FieldError::new(
                "amount",
                "amount_required",
                "enter the pool's amount",
            ));
        }
        Ok(PoolInput {
            name: self.name.clone(),
            period: self.period.trim().to_owned(),
            date: self.date.trim().to_owned(),
            level: self.level.trim().to_owned(),
            store_id: id_or_none(&self.store_id),
            region_id: id_or_none(&self.region_id),
            metric: self.metric.trim().to_owned(),
            amount_fen: yuan_to_fen("amount", &self.amount)?,
            individual_pct: Self::pct("individual_pct", &self.individual_pct)?,
            team_pct: Self::pct("team_pct", &self.team_pct)?,
        })
    }
}

#[derive(Template)]
#[template(path = "console/incentive_pool.html")]
struct PoolPage {
    ctx: Ctx,
    /// `None` on the new-pool form.
    pool: Option<PoolView>,
    can_manage: bool,
    form: PoolForm,
    error: Option<FormError>,
    problem: Option<&'static str>,
    levels: Vec<Opt>,
    metrics: Vec<Opt>,
    periods: Vec<Opt>,
    stores: Vec<Opt>,
    regions: Vec<Opt>,
}

impl PoolPage {
    fn err(&self, field: &str) -> Option<&'static str> {
        error_for(&self.error, field)
    }
    fn bp(&self, v: &i64) -> String {
        percent(*v)
    }
    fn range(&self, p: &PeriodView) -> String {
        range_text(self.ctx.tr, p)
    }
    fn rule(&self, i: &i64, t: &i64) -> String {
        rule_text(self.ctx.tr, *i, *t)
    }
    /// A contribution in its metric's unit (GMV in yuan).
    fn contribution(&self, v: &i64) -> String {
        match &self.pool {
            Some(p) => shown(p.metric, Some(*v)),
            None => v.to_string(),
        }
    }
    fn guides_text(&self, n: &i64) -> String {
        self.ctx.tr.fill("lb.guides_n", &[("n", &n.to_string())])
    }
    fn general_error(&self) -> Option<&'static str> {
        const FIELDS: [&str; 10] = [
            "name",
            "period",
            "date",
            "level",
            "store_id",
            "region_id",
            "metric",
            "amount",
            "individual_pct",
            "team_pct",
        ];
        self.error
            .as_ref()
            .filter(|e| !FIELDS.contains(&e.field.as_str()))
            .map(|e| e.message)
    }
    fn span_label(&self, span: &str) -> &'static str {
        self.ctx.tr.t(&format!("lb.period.{span}"))
    }
    fn level_label(&self, level: &yutang_core::leaderboards::Level) -> &'static str {
        self.ctx.tr.t(&format!("lb.level.{}", level.as_str()))
    }
    fn metric_label(&self, m: &Metric) -> &'static str {
        self.ctx.tr.t(&format!("lb.metric.{}", m.as_str()))
    }
    fn state_label(&self, s: &str) -> &'static str {
        self.ctx.tr.t(&format!("lb.state.{s}"))
    }
    fn editable(&self) -> bool {
        self.can_manage && self.pool.as_ref().is_none_or(|p| p.state == "draft")
    }
}

#[allow(clippy::too_many_arguments)]
async fn pool_page(
    s: &AppState,
    mut c: Console,
    pool: Option<PoolView>,
    form: PoolForm,
    status: StatusCode,
    error: Option<FormError>,
    problem: Option<&'static str>,
) -> Response {
    c.ctx.active = ACTIVE;
    let tr = c.ctx.tr;
    let (stores, regions) = places(s, &c, &form.store_id, &form.region_id).await;
    let page = PoolPage {
        can_manage: c.session.actor.can(Permission::ManageIncentives),
        levels: opts(
            tr,
            "lb.level.",
            &["store", "region", "brand"],
            form.level.trim(),
        ),
        metrics: opts(tr, "lb.metric.", &POOL_METRICS, form.metric.trim()),
        periods: opts(
            tr,
            "lb.period.",
            &["day", "week", "month"],
            form.period.trim(),
        ),
        stores,
        regions,
        ctx: c.ctx,
        pool,
        form,
        error,
        problem,
    };
    render(status, &page)
}

/// 新建激励池: the form, preset to 孩子王's rule (a month, 80% / 20%, by GMV).
pub async fn new_pool(State(s): State<AppState>, c: Console) -> Response {
    if !c.session.actor.can(Permission::ManageIncentives) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    pool_page(
        &s,
        c,
        None,
        PoolForm::kidswant(),
        StatusCode::OK,
        None,
        None,
    )
    .await
}

pub async fn create(
    State(s): State<AppState>,
    ConsoleForm(c, f): ConsoleForm<PoolForm>,
) -> Response {
    let made = match f.parse() {
        Ok(input) => s.app.leaderboards().create(&c.session.actor, &input).await,
        Err(e) => Err(e.into()),
    };
    match made {
        Ok(p) => see_other(&format!("{POOLS_PATH}/{}", p.id)),
        Err(e @ AppError::Forbidden) => error_page(c.ctx, e),
        Err(e) => {
            let (status, err) = form_error(c.ctx.tr, e);
            pool_page(&s, c, None, f, status, Some(err), None).await
        }
    }
}

pub async fn show(State(s): State<AppState>, c: Console, IdPath(id): IdPath) -> Response {
    match s.app.leaderboards().get(&c.session.actor, id).await {
        Ok(p) => {
            let form = PoolForm::of(&p);
            pool_page(&s, c, Some(p), form, StatusCode::OK, None, None).await
        }
        Err(e) => error_page(c.ctx, e),
    }
}

/// The pool again, with why an action on it was refused.
async fn refused(
    s: &AppState,
    c: Console,
    id: i64,
    e: AppError,
    form: Option<PoolForm>,
) -> Response {
    if matches!(e, AppError::Forbidden | AppError::NotFound { .. }) {
        return error_page(c.ctx, e);
    }
    let (status, err) = form_error(c.ctx.tr, e);
    match s.app.leaderboards().get(&c.session.actor, id).await {
        Ok(p) => {
            let (form, error, problem) = match form {
                Some(f) => (f, Some(err), None),
                None => (PoolForm::of(&p), None, Some(err.message)),
            };
            pool_page(s, c, Some(p), form, status, error, problem).await
        }
        Err(e) => error_page(c.ctx, e),
    }
}

pub async fn update(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, f): ConsoleForm<PoolForm>,
) -> Response {
    let r = match f.parse() {
        Ok(input) => {
            s.app
                .leaderboards()
                .update(&c.session.actor, id, &input)
                .await
        }
        Err(e) => Err(e.into()),
    };
    match r {
        Ok(_) => see_other(&format!("{POOLS_PATH}/{id}")),
        Err(e) => refused(&s, c, id, e, Some(f)).await,
    }
}

/// 结算 / 删除 carry nothing but the CSRF token.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Nothing {}

pub async fn settle(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<Nothing>,
) -> Response {
    match s.app.leaderboards().settle(&c.session.actor, id).await {
        Ok(_) => see_other(&format!("{POOLS_PATH}/{id}")),
        Err(e) => refused(&s, c, id, e, None).await,
    }
}

pub async fn delete(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<Nothing>,
) -> Response {
    match s.app.leaderboards().delete(&c.session.actor, id).await {
        Ok(()) => see_other(BOARD_PATH),
        Err(e) => refused(&s, c, id, e, None).await,
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExportQuery {
    format: Option<String>,
}

/// The payroll download of a settled pool.
pub async fn export(
    State(s): State<AppState>,
    c: Console,
    IdPath(id): IdPath,
    ConsoleQuery(q): ConsoleQuery<ExportQuery>,
) -> Response {
    let format = match FileFormat::parse(q.format.as_deref()) {
        Ok(f) => f,
        Err(e) => return error_page(c.ctx, e.into()),
    };
    match s.app.leaderboards().export(&c.session.actor, id).await {
        Ok(csv) => table_download("incentive-pool.csv", format, csv),
        Err(e) => refused(&s, c, id, e, None).await,
    }
}

// ---------------------------------------------------------------- texts

pub(crate) fn text(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "lb.nav" => ("排行榜与激励", "Leaderboards"),
        "lb.title" => ("排行榜", "Leaderboards"),
        "lb.intro" => (
            "按日、周（周一至周日）或月，在门店、大区或全品牌范围内为导购（或门店）排名。数据来自分析汇总（延迟数秒）、待办任务和服务评价；并列者名次相同，没有可比数据（无新客、无评价）者不排名。",
            "Guides (or stores) ranked by day, week (Monday to Sunday) or month within a store, a region or the brand. Figures come from the analytics rollups (seconds behind), guide tasks and service ratings; ties share a rank, and rows with nothing to compare (no new customers, no ratings) are not ranked.",
        ),
        "lb.subject" => ("排名对象", "Ranked"),
        "lb.subject.guides" => ("导购", "Guides"),
        "lb.subject.stores" => ("门店", "Stores"),
        "lb.level" => ("范围", "Within"),
        "lb.level.store" => ("门店", "Store"),
        "lb.level.region" => ("大区", "Region"),
        "lb.level.brand" => ("全品牌", "Brand"),
        "lb.metric" => ("指标", "Metric"),
        "lb.metric.adds" => ("新增好友", "Adds"),
        "lb.metric.net_adds" => ("净增好友", "Net adds"),
        "lb.metric.first_order_rate" => ("首单转化率", "First-order rate"),
        "lb.metric.first_orders" => ("首单数", "First orders"),
        "lb.metric.gmv" => ("业绩（元）", "GMV (CNY)"),
        "lb.metric.tasks_done" => ("完成待办", "Tasks done"),
        "lb.metric.rating" => ("服务评分", "Rating"),
        "lb.period" => ("周期", "Period"),
        "lb.period.day" => ("日", "Day"),
        "lb.period.week" => ("周", "Week"),
        "lb.period.month" => ("月", "Month"),
        "lb.date" => ("日期", "Date"),
        "lb.store" => ("门店", "Store"),
        "lb.region" => ("大区", "Region"),
        "lb.any" => ("（默认）", "(default)"),
        "lb.show" => ("查看", "Show"),
        "lb.range" => ("{from} 至 {to}", "{from} to {to}"),
        "lb.rank" => ("名次", "Rank"),
        "lb.name" => ("名称", "Name"),
        "lb.new_customers" => ("新客", "New customers"),
        "lb.empty" => ("这个范围内还没有导购。", "No guide in this range."),
        "lb.me" => ("我的名次：{rank}", "My rank: {rank}"),
        "lb.pools" => ("激励池", "Incentive pools"),
        "lb.pools_intro" => (
            "每个激励池为一个周期和范围设定奖金，按规则分配：个人部分按贡献比例分给导购，团队部分先按门店贡献分给门店，再在门店导购间平均分配。周期结束后结算，结算结果不可更改，可导出用于发薪。",
            "Each pool sets an amount for a period and a part of the brand, split by its rule: the individual share goes to guides in proportion to their contribution, the team share to stores by their contribution and then equally among each store's guides. Settle it once the period is over; the settled result never changes and exports for payroll.",
        ),
        "lb.pools_empty" => ("还没有激励池。", "No incentive pool yet."),
        "lb.new_pool" => ("新建激励池", "New incentive pool"),
        "lb.pool" => ("激励池", "Incentive pool"),
        "lb.amount" => ("金额（元）", "Amount (CNY)"),
        "lb.state" => ("状态", "State"),
        "lb.state.draft" => ("草稿（实时计算）", "Draft (computed live)"),
        "lb.state.settled" => ("已结算", "Settled"),
        "lb.rule" => ("分配规则", "Rule"),
        "lb.rule_text" => ("个人 {i}% · 团队 {t}%", "Individual {i}% · team {t}%"),
        "lb.individual_pct" => ("个人部分（%）", "Individual share (%)"),
        "lb.team_pct" => ("团队部分（%）", "Team share (%)"),
        "lb.rule_help" => (
            "两者之和须为 100%。孩子王：个人 80%，团队 20%。",
            "The two sum to 100%. 孩子王: 80% individual, 20% team.",
        ),
        "lb.contribution_metric" => ("贡献指标", "Contribution"),
        "lb.pool_name" => ("名称", "Name"),
        "lb.date_help" => ("周期内任意一天", "Any day of the period"),
        "lb.save" => ("保存", "Save"),
        "lb.create" => ("创建", "Create"),
        "lb.settle" => ("结算", "Settle"),
        "lb.settle_help" => (
            "周期结束后才能结算；结算写入每位导购的金额，之后不可修改。",
            "A pool settles once its period is over; settling writes each guide's amount, which never changes afterwards.",
        ),
        "lb.delete" => ("删除草稿", "Delete draft"),
        "lb.export_csv" => ("导出 CSV", "Export CSV"),
        "lb.export_xlsx" => ("导出 Excel", "Export Excel"),
        "lb.split" => ("分配结果", "Split"),
        "lb.individual" => ("个人", "Individual"),
        "lb.team" => ("团队", "Team"),
        "lb.total" => ("合计", "Total"),
        "lb.contribution" => ("贡献", "Contribution"),
        "lb.share" => ("贡献占比", "Share"),
        "lb.unallocated" => ("未分配", "Unallocated"),
        "lb.guides_n" => ("共 {n} 位导购", "{n} guides"),
        "lb.rows_scoped" => (
            "仅显示您可查看的行：店长看本店，导购看自己。",
            "Only the rows you may see are shown: a store manager their store's, a guide their own.",
        ),
        "lb.no_rows" => ("没有您可查看的分配行。", "No row you may see."),
        "lb.settled_at" => ("结算于", "Settled"),
        "lb.back" => ("返回排行榜", "Back to the leaderboards"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_the_page_shows_them() {
        assert_eq!(shown(Metric::FirstOrderRate, Some(3_750)), "37.50%");
        assert_eq!(shown(Metric::Gmv, Some(12_900)), "129.00");
        assert_eq!(shown(Metric::Rating, Some(433)), "4.33");
        assert_eq!(shown(Metric::Adds, Some(7)), "7");
        assert_eq!(shown(Metric::Rating, None), "—");
    }

    #[test]
    fn every_option_has_both_languages() {
        for k in METRICS
            .iter()
            .map(|m| format!("lb.metric.{m}"))
            .chain(
                ["day", "week", "month"]
                    .iter()
                    .map(|p| format!("lb.period.{p}")),
            )
            .chain(
                ["store", "region", "brand"]
                    .iter()
                    .map(|l| format!("lb.level.{l}")),
            )
            .chain(["draft", "settled"].iter().map(|s| format!("lb.state.{s}")))
        {
            assert!(text(&k).is_some(), "{k}");
        }
    }

    #[test]
    fn the_pool_form_parses_yuan_and_percents() {
        let f = PoolForm {
            name: "十二月激励".into(),
            date: "2026-12-01".into(),
            amount: "10000.50".into(),
            ..PoolForm::kidswant()
        };
        let p = f.parse().unwrap();
        assert_eq!(
            (p.amount_fen, p.individual_pct, p.team_pct),
            (1_000_050, 80, 20)
        );
        let bad = PoolForm {
            individual_pct: "eighty".into(),
            amount: "1".into(),
            ..PoolForm::kidswant()
        };
        assert_eq!(bad.parse().unwrap_err().field, "individual_pct");
        assert_eq!(PoolForm::kidswant().parse().unwrap_err().field, "amount");
    }
}
