//! `/console/workbench` (移动工作台, issue #23 item 3): the guide's page on the phone, opened
//! from the WeCom app's 工作台 entry (inside the WeCom client an unsigned request goes to the
//! silent OAuth sign-in, see `crate::auth::ConsoleSession`). One page with four tabs, chosen
//! by `?tab=`:
//!
//! - `customers` (我的客户, the default): the customers the caller follows, searchable by a
//!   phone's last four digits (or a name), filtered by one of the caller's tags and by orders;
//!   each with the masked phone, tags and last touch, linking to the customer page.
//! - `tasks` (我的待办): the caller's open guide tasks, due time in Beijing time, overdue
//!   marked, 完成 / 跳过 (with a reason) posted as console forms (CSRF checked).
//! - `codes` (我的活码): the live codes the caller is a guide or the backup of, with the QR
//!   image and the store-stand poster.
//! - `numbers` (本周数据): the caller's figures this week and their rank in the store.
//!
//! Everything goes through the same use cases as the desktop pages, so the caller's data scope
//! applies: a guide sees only customers they follow and closes only their own tasks.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::audit::Page;
use yutang_app::churn_alerts::{AlertQuery, AlertView};
use yutang_app::customers::CustomerQuery;
use yutang_app::guide_tasks::{TaskQuery, TaskView};
use yutang_app::leaderboards::MyWeek;
use yutang_core::acquisition::CodeKind;
use yutang_core::guide_tasks::MAX_REASON_CHARS;
use yutang_core::ids::{CustomerId, StaffId};
use yutang_core::time::Millis;

use super::layout::{ConsoleForm, ConsoleQuery, form_error, link, see_other};
use super::{Console, Ctx, render};
use crate::auth::IdPath;
use crate::state::AppState;

const PATH: &str = "/console/workbench";
/// Customers on one page of the list (a phone screen's worth, a few scrolls).
const PAGE_SIZE: i64 = 20;
/// Open churn alerts shown above the tasks, newest first.
const ALERTS: i64 = 10;
/// Open tasks shown, soonest due first.
const TASKS: i64 = 100;
/// The tabs, in their order on the page.
const TABS: [&str; 4] = ["customers", "tasks", "codes", "numbers"];

/// The orders filter: its value in the address and the least order count it keeps.
const ORDER_FILTERS: [(&str, i64); 2] = [("ordered", 1), ("repeat", 2)];

/// The page's address: the tab and the customer list's search and filters.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WorkbenchQuery {
    tab: String,
    /// A phone's last four digits, a longer phone prefix, a name or an order number.
    q: String,
    /// A tag's id, or empty for every tag.
    tag: String,
    /// `ordered`, `repeat` or empty.
    orders: String,
    page: Option<i64>,
    /// What was just done: `done` or `skipped`.
    ok_task: String,
}

impl WorkbenchQuery {
    fn tab(&self) -> &'static str {
        TABS.into_iter()
            .find(|t| *t == self.tab.trim())
            .unwrap_or(TABS[0])
    }

    fn tag_id(&self) -> Option<i64> {
        self.tag.trim().parse().ok()
    }

    fn min_orders(&self) -> Option<i64> {
        ORDER_FILTERS
            .into_iter()
            .find(|(k, _)| *k == self.orders.trim())
            .map(|(_, n)| n)
    }

    fn page(&self) -> i64 {
        self.page.filter(|p| (1..=100_000).contains(p)).unwrap_or(1)
    }

    /// The customer filters as query pairs (the pager keeps them).
    fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("tab", "customers".to_owned()),
            ("q", self.q.trim().to_owned()),
            (
                "tag",
                self.tag_id().map(|t| t.to_string()).unwrap_or_default(),
            ),
            (
                "orders",
                self.min_orders()
                    .map(|_| self.orders.trim().to_owned())
                    .unwrap_or_default(),
            ),
        ]
    }
}

/// One customer row.
struct CustomerCard {
    id: i64,
    name: String,
    phone: String,
    order_count: i64,
    tags: Vec<String>,
    /// The last timeline entry: what (labelled) and when (Beijing time).
    last_touch: Option<(String, String)>,
}

/// A tag the filter offers: id, `group / name`, the caller's customers holding it.
struct TagChoice {
    id: i64,
    label: String,
    customers: u64,
}

/// One live code of the caller.
struct CodeCard {
    id: i64,
    name: String,
    /// An acquisition link's URL (empty for a QR code).
    link_url: String,
    qr_stored: bool,
}

#[derive(Template)]
#[template(path = "console/workbench.html")]
struct WorkbenchPage {
    ctx: Ctx,
    tab: &'static str,
    q: WorkbenchQuery,
    notice: Option<&'static str>,
    problem: Option<&'static str>,
    customers: Vec<CustomerCard>,
    total: i64,
    total_exact: bool,
    tags: Vec<TagChoice>,
    prev: Option<String>,
    next: Option<String>,
    tasks: Vec<TaskView>,
    /// Open churn alerts about the caller's customers (流失提醒), newest first.
    alerts: Vec<AlertView>,
    codes: Vec<CodeCard>,
    week: Option<MyWeek>,
}

impl WorkbenchPage {
    fn tabs(&self) -> Vec<(&'static str, &'static str, bool)> {
        TABS.into_iter()
            .map(|t| {
                (
                    t,
                    self.ctx.tr.t(&format!("workbench.tab.{t}")),
                    t == self.tab,
                )
            })
            .collect()
    }
    fn tag_is(&self, id: &i64) -> bool {
        self.q.tag_id() == Some(*id)
    }
    fn orders_choices(&self) -> Vec<(&'static str, &'static str, bool)> {
        ORDER_FILTERS
            .into_iter()
            .map(|(k, _)| {
                (
                    k,
                    self.ctx.tr.t(&format!("workbench.orders.{k}")),
                    self.q.orders.trim() == k,
                )
            })
            .collect()
    }
    fn total_text(&self) -> String {
        let n = if self.total_exact {
            self.total.to_string()
        } else {
            format!("{}+", self.total)
        };
        self.ctx.tr.fill("workbench.total", &[("n", &n)])
    }
    fn orders_text(&self, n: &i64) -> String {
        self.ctx
            .tr
            .fill("workbench.order_count", &[("n", &n.to_string())])
    }
    fn due(&self, ms: &i64) -> String {
        minutes(*ms)
    }
    fn alert_value(&self, a: &AlertView) -> String {
        self.ctx.tr.fill(
            "workbench.alert_value",
            &[
                ("orders", &a.orders.to_string()),
                ("spend", &yutang_core::money::Fen(a.spend_fen).to_string()),
            ],
        )
    }
    fn alert_kind(&self, k: &str) -> String {
        super::labels::code_or_raw(self.ctx.tr, "churn.kind.", k)
    }
    fn source_label(&self, s: &str) -> String {
        super::labels::code_or_raw(self.ctx.tr, "source.", s)
    }
    fn reason_max(&self) -> usize {
        MAX_REASON_CHARS
    }
    fn rate(&self, bp: &Option<i64>) -> String {
        bp.map_or_else(|| "-".to_owned(), percent)
    }
    fn rank(&self, w: &MyWeek) -> String {
        match w.rank_in_store {
            Some(n) => self.ctx.tr.fill(
                "workbench.rank_of",
                &[("n", &n.to_string()), ("m", &w.guides_in_store.to_string())],
            ),
            None => "-".to_owned(),
        }
    }
    fn period(&self, w: &MyWeek) -> String {
        self.ctx.tr.fill(
            "workbench.period",
            &[("from", &w.period.from), ("to", &w.period.to)],
        )
    }
}

/// Basis points as a percentage with one decimal (`3333` → `33.3%`).
fn percent(bp: i64) -> String {
    format!("{}.{}%", bp / 100, (bp % 100) / 10)
}

/// Beijing time to the minute (`2026-12-07 09:30`).
fn minutes(ms: i64) -> String {
    let s = Millis(ms).to_shanghai_string();
    s.get(..16).map(str::to_owned).unwrap_or(s)
}

fn tag_choices(
    groups: Vec<yutang_app::tags::GroupWithTags>,
    chosen: Option<i64>,
) -> Vec<TagChoice> {
    groups
        .into_iter()
        .flat_map(|g| {
            let group = g.group.name;
            g.tags.into_iter().filter_map(move |t| {
                (t.customers > 0 || chosen == Some(t.tag.id)).then(|| TagChoice {
                    id: t.tag.id,
                    label: format!("{} / {}", group, t.tag.name),
                    customers: t.customers,
                })
            })
        })
        .collect()
}

async fn show(
    s: &AppState,
    mut c: Console,
    q: WorkbenchQuery,
    status: StatusCode,
    problem: Option<&'static str>,
) -> Response {
    c.ctx.active = "workbench";
    let tab = q.tab();
    let tr = c.ctx.tr;
    let a = &c.session.actor;
    let me = a.staff_id();
    let mut page = WorkbenchPage {
        tab,
        notice: match q.ok_task.as_str() {
            "done" => Some(tr.t("workbench.done.done")),
            "skipped" => Some(tr.t("workbench.done.skipped")),
            _ => None,
        },
        problem,
        customers: Vec::new(),
        total: 0,
        total_exact: true,
        tags: Vec::new(),
        prev: None,
        next: None,
        tasks: Vec::new(),
        alerts: Vec::new(),
        codes: Vec::new(),
        week: None,
        q: WorkbenchQuery::default(),
        ctx: c.ctx.clone(),
    };
    let loaded: Result<(), AppError> = async {
        match tab {
            "customers" => {
                let number = q.page();
                let query = CustomerQuery {
                    q: Some(q.q.trim().to_owned()).filter(|s| !s.is_empty()),
                    guide_id: me,
                    tag_id: q.tag_id(),
                    min_orders: q.min_orders(),
                    page: Page {
                        number,
                        size: PAGE_SIZE,
                    },
                    ..CustomerQuery::default()
                };
                let list = s.app.customers().list_customers(a, &query).await?;
                page.total = list.page.total;
                page.total_exact = list.total_exact;
                let params = q.params();
                page.prev = (number > 1)
                    .then(|| link(PATH, &params, &[("page", (number - 1).to_string())]));
                page.next = list
                    .next_after
                    .is_some()
                    .then(|| link(PATH, &params, &[("page", (number + 1).to_string())]));
                page.tags = tag_choices(s.app.tags().tag_catalogue(a).await?, q.tag_id());
                for row in list.page.items {
                    let tags = s
                        .app
                        .tags()
                        .customer_tags(a, row.id)
                        .await?
                        .into_iter()
                        .map(|t| t.name)
                        .collect();
                    let last_touch = s
                        .app
                        .customers()
                        .timeline(a, CustomerId(row.id), None, Page { number: 1, size: 1 })
                        .await?
                        .items
                        .into_iter()
                        .next()
                        .map(|e| {
                            (
                                super::labels::code_or_raw(tr, "event.", &e.kind),
                                minutes(e.occurred_at),
                            )
                        });
                    page.customers.push(CustomerCard {
                        id: row.id,
                        name: row.name,
                        phone: row.phone.unwrap_or_default(),
                        order_count: row.order_count,
                        tags,
                        last_touch,
                    });
                }
            }
            "tasks" => {
                if let Some(me) = me {
                    let mut tasks = s
                        .app
                        .guide_tasks()
                        .list(
                            a,
                            &TaskQuery {
                                state: Some("open".into()),
                                staff_id: Some(me.0),
                                limit: Some(TASKS),
                                ..TaskQuery::default()
                            },
                        )
                        .await?
                        .items;
                    tasks.sort_by_key(|t| (t.due_at, t.id));
                    page.tasks = tasks;
                    page.alerts = s
                        .app
                        .churn_alerts()
                        .list(
                            a,
                            &AlertQuery {
                                status: Some("open".into()),
                                staff_id: Some(me.0),
                                limit: Some(ALERTS),
                                ..AlertQuery::default()
                            },
                        )
                        .await?
                        .items;
                }
            }
            "codes" => {
                if let Some(me) = me {
                    page.codes = my_codes(s, a, me).await?;
                }
            }
            _ => {
                if me.is_some() {
                    page.week = Some(s.app.leaderboards().my_week(a).await?);
                }
            }
        }
        Ok(())
    }
    .await;
    page.q = q;
    match loaded {
        Ok(()) => render(status, &page),
        Err(e) => {
            let (status, err) = form_error(tr, e);
            page.problem = Some(err.message);
            render(status, &page)
        }
    }
}

/// The live codes `me` is a guide or the backup of (in the caller's scope, not archived).
async fn my_codes(
    s: &AppState,
    a: &yutang_app::Actor,
    me: StaffId,
) -> Result<Vec<CodeCard>, AppError> {
    let codes = s.app.acquisition().live_codes(a, None, false).await?;
    Ok(codes
        .into_iter()
        .filter(|v| {
            v.spec.guides.iter().any(|g| g.staff_id == me.0) || v.spec.backup_staff_id == Some(me.0)
        })
        .map(|v| CodeCard {
            id: v.id,
            name: v.spec.name.clone(),
            link_url: if v.spec.kind == CodeKind::Link {
                v.qr_url.clone()
            } else {
                String::new()
            },
            qr_stored: v.qr_image.is_some(),
        })
        .collect())
}

/// `GET /console/workbench`.
pub async fn page(
    State(s): State<AppState>,
    c: Console,
    ConsoleQuery(q): ConsoleQuery<WorkbenchQuery>,
) -> Response {
    show(&s, c, q, StatusCode::OK, None).await
}

/// 完成: the note is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DoneIn {
    note: String,
}

/// 跳过: the reason is required.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SkipIn {
    reason: String,
}

/// A 完成 / 跳过 answered: back to the tasks, or the tasks with why it was refused (a task
/// already closed, another guide's, a missing reason).
async fn closed(s: &AppState, c: Console, r: Result<TaskView, AppError>, what: &str) -> Response {
    match r {
        Ok(_) => see_other(&format!("{PATH}?tab=tasks&ok_task={what}")),
        Err(e) => {
            let (status, err) = form_error(c.ctx.tr, e);
            let q = WorkbenchQuery {
                tab: "tasks".into(),
                ..WorkbenchQuery::default()
            };
            show(s, c, q, status, Some(err.message)).await
        }
    }
}

/// `POST /console/workbench/tasks/{id}/done`.
pub async fn done(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, f): ConsoleForm<DoneIn>,
) -> Response {
    let r = s
        .app
        .guide_tasks()
        .done(&c.session.actor, id, Some(&f.note))
        .await;
    closed(&s, c, r, "done").await
}

/// `POST /console/workbench/tasks/{id}/skip`.
pub async fn skip(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, f): ConsoleForm<SkipIn>,
) -> Response {
    let r = s
        .app
        .guide_tasks()
        .skip(&c.session.actor, id, &f.reason)
        .await;
    closed(&s, c, r, "skipped").await
}

/// The labels the page builds keys for at run time (for the test).
#[cfg(test)]
fn dynamic_keys() -> Vec<String> {
    let mut keys: Vec<String> = TABS.iter().map(|t| format!("workbench.tab.{t}")).collect();
    keys.extend(
        ORDER_FILTERS
            .iter()
            .map(|(k, _)| format!("workbench.orders.{k}")),
    );
    keys.extend([
        "workbench.done.done".into(),
        "workbench.done.skipped".into(),
    ]);
    keys
}

pub(crate) fn text(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "workbench.title" => ("移动工作台", "Workbench"),
        "workbench.nav" => ("移动工作台", "Mobile workbench"),
        "workbench.tab.customers" => ("我的客户", "Customers"),
        "workbench.tab.tasks" => ("我的待办", "Tasks"),
        "workbench.alerts" => ("流失提醒", "Churn alerts"),
        "workbench.alert_value" => (
            "{orders} 笔订单 · 消费 {spend} 元",
            "{orders} orders · {spend} CNY spent",
        ),
        "workbench.alerts_all" => ("查看并处理", "See and handle"),
        "workbench.tab.codes" => ("活码海报", "Codes"),
        "workbench.tab.numbers" => ("本周数据", "This week"),
        "workbench.search" => (
            "手机尾号后四位或姓名",
            "Last 4 digits of the phone, or a name",
        ),
        "workbench.search_button" => ("搜索", "Search"),
        "workbench.all_tags" => ("全部标签", "Every tag"),
        "workbench.all_orders" => ("全部客户", "All customers"),
        "workbench.orders.ordered" => ("已下单", "Ordered"),
        "workbench.orders.repeat" => ("复购客户", "Ordered twice or more"),
        "workbench.total" => ("共 {n} 位客户", "{n} customers"),
        "workbench.no_customers" => ("没有符合条件的客户。", "No customer matches."),
        "workbench.order_count" => ("{n} 单", "{n} orders"),
        "workbench.no_phone" => ("无手机号", "No phone"),
        "workbench.unnamed" => ("未命名客户", "Unnamed customer"),
        "workbench.last_touch" => ("最近动态", "Last touch"),
        "workbench.no_touch" => ("暂无动态", "No activity yet"),
        "workbench.prev" => ("上一页", "Previous"),
        "workbench.next" => ("下一页", "Next"),
        "workbench.no_tasks" => ("没有待办，做得好！", "No open task. Well done!"),
        "workbench.due" => ("截止", "Due"),
        "workbench.overdue" => ("已逾期", "Overdue"),
        "workbench.source" => ("来源", "Source"),
        "workbench.customer" => ("客户", "Customer"),
        "workbench.material" => ("素材", "Material"),
        "workbench.done_button" => ("完成", "Done"),
        "workbench.note" => ("备注（可选）", "Note (optional)"),
        "workbench.skip_button" => ("跳过", "Skip"),
        "workbench.reason" => ("跳过原因", "Why skip"),
        "workbench.done.done" => ("待办已完成", "Task done"),
        "workbench.done.skipped" => ("待办已跳过", "Task skipped"),
        "workbench.no_codes" => (
            "你还不在任何活码中。请店长在「渠道活码」中把你加入活码。",
            "You are on no live code yet: ask your store manager to add you to one under Channels.",
        ),
        "workbench.qr" => ("活码二维码", "Live code QR"),
        "workbench.download_qr" => ("保存二维码", "Save the QR code"),
        "workbench.poster" => ("门店海报", "Store poster"),
        "workbench.download_poster" => ("下载海报", "Download the poster"),
        "workbench.link" => ("获客链接", "Acquisition link"),
        "workbench.qr_pending" => (
            "二维码尚未生成：企业微信接受活码后即可使用。",
            "The QR code is not ready: it comes once WeCom has accepted the code.",
        ),
        "workbench.period" => (
            "本周 {from} 至 {to}（北京时间）",
            "This week, {from} to {to} (Beijing time)",
        ),
        "workbench.adds" => ("新增客户", "Adds"),
        "workbench.net_adds" => ("净增客户", "Net adds"),
        "workbench.first_orders" => ("首单客户", "First orders"),
        "workbench.first_order_rate" => ("首单率", "First-order rate"),
        "workbench.gmv" => ("成交额（元）", "GMV (yuan)"),
        "workbench.tasks_done" => ("完成待办", "Tasks done"),
        "workbench.rank" => ("店内排名（按新增）", "Rank in the store (by adds)"),
        "workbench.rank_of" => ("第 {n} / {m} 名", "No. {n} of {m}"),
        "workbench.no_week" => (
            "本周数据仅对员工账号显示。",
            "This week's figures are for staff accounts.",
        ),
        "workbench.leaderboards" => ("查看排行榜", "See the leaderboards"),
        "workbench.lang" => ("English", "中文"),
        "workbench.desktop" => ("电脑版", "Desktop console"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_key_has_both_languages() {
        for k in dynamic_keys() {
            let (zh, en) = text(&k).unwrap_or_else(|| panic!("{k}"));
            assert!(!zh.is_empty() && !en.is_empty(), "{k}");
        }
    }

    #[test]
    fn the_address_picks_a_known_tab_and_filters() {
        let q = WorkbenchQuery {
            tab: "nonsense".into(),
            tag: "x".into(),
            orders: "repeat".into(),
            page: Some(0),
            ..WorkbenchQuery::default()
        };
        assert_eq!(q.tab(), "customers");
        assert_eq!(q.tag_id(), None);
        assert_eq!(q.min_orders(), Some(2));
        assert_eq!(q.page(), 1);
        let q = WorkbenchQuery {
            tab: "tasks".into(),
            tag: "7".into(),
            orders: "all".into(),
            ..WorkbenchQuery::default()
        };
        assert_eq!(
            (q.tab(), q.tag_id(), q.min_orders()),
            ("tasks", Some(7), None)
        );
    }

    #[test]
    fn rates_read_as_percentages() {
        assert_eq!(percent(0), "0.0%");
        assert_eq!(percent(3333), "33.3%");
        assert_eq!(percent(10_000), "100.0%");
    }

    #[test]
    fn times_read_to_the_minute_in_beijing() {
        // 2030-01-02 01:30 UTC is 09:30 in Beijing.
        assert_eq!(minutes(1_893_547_800_000), "2030-01-02 09:30");
    }
}
