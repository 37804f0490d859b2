//! `/console/guide-tasks` (待办任务, issue #21 item 6): the guide task inbox. One page: the
//! tasks (filtered by state and guide), each with its customer (phone masked), material and
//! due time in Beijing time, and 完成 / 跳过 (with a reason) for an open one; 新建任务 for
//! store managers and headquarters; and the figures of the last 7, 30 or 90 days per guide and
//! per store with the completion rate.
//!
//! Everything goes through `app.guide_tasks()`: a guide sees and closes their own tasks, a
//! store manager their store's (and sets tasks for its guides), headquarters every task;
//! analysts read.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::guide_tasks::{GuideChoice, TaskInput, TaskQuery, TaskStats, TaskView};
use yutang_core::FieldError;
use yutang_core::guide_tasks::{MAX_BODY_CHARS, MAX_REASON_CHARS, MAX_TITLE_CHARS};
use yutang_core::staff::Role;
use yutang_core::time::Millis;

use super::layout::{
    ConsoleForm, ConsoleQuery, FormError, error_for, error_page, form_error, link, opt_id,
    see_other,
};
use super::{Console, Ctx, Tr, render};
use crate::auth::IdPath;
use crate::state::AppState;

const LIST_PATH: &str = "/console/guide-tasks";
const ACTIVE: &str = "guide_tasks";
/// Tasks on one page of the list.
const PAGE: i64 = 50;
/// The windows the figures offer, in days.
const WINDOWS: [i64; 3] = [7, 30, 90];
const DEFAULT_DAYS: i64 = 30;

/// Whether the caller sets tasks (headquarters and store managers).
fn can_create(c: &Console) -> bool {
    matches!(
        c.session.actor.role,
        Role::Admin | Role::Operator | Role::StoreManager
    )
}

/// Whether the caller closes tasks (everyone but analysts; the app checks the scope).
fn can_close(c: &Console) -> bool {
    !matches!(c.session.actor.role, Role::Analyst)
}

fn state_label(tr: Tr, state: &str) -> String {
    super::labels::code_or_raw(tr, "guide_tasks.state.", state)
}

fn source_label(tr: Tr, source: &str) -> String {
    super::labels::code_or_raw(tr, "source.", source)
}

/// Basis points as a percentage with one decimal (`3333` → `33.3%`).
fn percent(bp: i64) -> String {
    format!("{}.{}%", bp / 100, (bp % 100) / 10)
}

// ---------------------------------------------------------------- the page

/// The page's filters, as in its address.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PageQuery {
    /// `open` (the default, also when empty), `done`, `skipped` or `all`.
    state: String,
    /// A guide's id, or empty for every guide in scope.
    guide: String,
    /// The figures' window: 7, 30 (default) or 90 days.
    days: Option<i64>,
    /// The last id of the previous page.
    before: Option<i64>,
    /// What was just done: `created`, `done` or `skipped`.
    ok_task: String,
}

impl PageQuery {
    fn state(&self) -> &str {
        match self.state.trim() {
            "" => "open",
            s => s,
        }
    }

    fn days(&self) -> i64 {
        self.days
            .filter(|d| WINDOWS.contains(d))
            .unwrap_or(DEFAULT_DAYS)
    }

    /// The filters as a query string's pairs (paging and the figures' window keep them).
    fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("state", self.state.trim().to_owned()),
            ("guide", self.guide.trim().to_owned()),
            (
                "days",
                self.days
                    .filter(|d| WINDOWS.contains(d))
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            ),
        ]
    }
}

/// 新建任务 as typed, so a refused form comes back filled in.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NewTaskIn {
    staff_id: String,
    customer_id: String,
    title: String,
    body: String,
    material_id: String,
    /// `YYYY-MM-DDTHH:MM` in Asia/Shanghai (`<input type="datetime-local">`).
    due_at: String,
}

impl NewTaskIn {
    fn is_staff(&self, id: &i64) -> bool {
        self.staff_id.trim() == id.to_string()
    }

    fn parse(&self) -> Result<TaskInput, FieldError> {
        let staff_id = opt_id("staff_id", &self.staff_id)?
            .ok_or_else(|| FieldError::new("staff_id", "required", "choose the guide"))?;
        let due = self.due_at.trim();
        if due.is_empty() {
            return Err(FieldError::new("due_at", "required", "choose the due time"));
        }
        let due_at = Millis::parse_flexible("due_at", &due.replace('T', " "))?.0;
        Ok(TaskInput {
            staff_id,
            customer_id: opt_id("customer_id", &self.customer_id)?,
            title: self.title.clone(),
            body: Some(self.body.replace("\r\n", "\n").replace('\r', "\n")),
            material_id: opt_id("material_id", &self.material_id)?,
            due_at,
        })
    }
}

/// The form's fields a refusal can name (others show above the form).
const FORM_FIELDS: [&str; 6] = [
    "staff_id",
    "customer_id",
    "title",
    "body",
    "material_id",
    "due_at",
];

#[derive(Template)]
#[template(path = "console/guide_tasks.html")]
struct TasksPage {
    ctx: Ctx,
    rows: Vec<TaskView>,
    guides: Vec<GuideChoice>,
    q: PageQuery,
    stats: TaskStats,
    can_create: bool,
    can_close: bool,
    /// The next page, keeping the filters; back to the first page when on a later one.
    next: Option<String>,
    first: Option<String>,
    /// What was just done, or why a 完成 / 跳过 was refused.
    notice: Option<&'static str>,
    problem: Option<&'static str>,
    form: NewTaskIn,
    error: Option<FormError>,
}

impl TasksPage {
    fn state_label(&self, s: &str) -> String {
        state_label(self.ctx.tr, s)
    }
    fn state_class(&self, t: &TaskView) -> &'static str {
        match t.state.as_str() {
            "done" => "pill ok",
            "skipped" => "pill disabled",
            _ if t.overdue => "pill failed",
            _ => "pill",
        }
    }
    fn source_label(&self, s: &str) -> String {
        source_label(self.ctx.tr, s)
    }
    fn states(&self) -> Vec<(&'static str, String)> {
        ["open", "done", "skipped"]
            .into_iter()
            .map(|s| (s, state_label(self.ctx.tr, s)))
            .collect()
    }
    fn state_is(&self, s: &str) -> bool {
        self.q.state() == s
    }
    fn guide_is(&self, id: &i64) -> bool {
        self.q.guide.trim() == id.to_string()
    }
    /// The figures' windows: each one's label, its address and whether it is shown.
    fn windows(&self) -> Vec<(String, String, bool)> {
        let mut params = self.q.params();
        params.retain(|(k, _)| *k != "days");
        WINDOWS
            .into_iter()
            .map(|d| {
                (
                    self.ctx
                        .tr
                        .fill("guide_tasks.days", &[("n", &d.to_string())]),
                    link(LIST_PATH, &params, &[("days", d.to_string())]) + "#stats",
                    d == self.q.days(),
                )
            })
            .collect()
    }
    fn reminded(&self, n: &i64) -> String {
        self.ctx
            .tr
            .fill("guide_tasks.reminders", &[("n", &n.to_string())])
    }
    fn percent(&self, bp: &i64) -> String {
        percent(*bp)
    }
    fn store_name(&self, name: &str) -> String {
        if name.is_empty() {
            self.ctx.tr.t("guide_tasks.no_store").to_owned()
        } else {
            name.to_owned()
        }
    }
    fn err(&self, field: &str) -> Option<&'static str> {
        error_for(&self.error, field)
    }
    fn general_error(&self) -> Option<&'static str> {
        self.error
            .as_ref()
            .filter(|e| !FORM_FIELDS.contains(&e.field.as_str()))
            .map(|e| e.message)
    }
    fn title_help(&self) -> String {
        self.ctx.tr.fill(
            "guide_tasks.title_help",
            &[("n", &MAX_TITLE_CHARS.to_string())],
        )
    }
    fn body_help(&self) -> String {
        self.ctx.tr.fill(
            "guide_tasks.body_help",
            &[("n", &MAX_BODY_CHARS.to_string())],
        )
    }
    fn reason_max(&self) -> usize {
        MAX_REASON_CHARS
    }
}

#[allow(clippy::too_many_arguments)]
async fn page(
    s: &AppState,
    mut c: Console,
    q: PageQuery,
    code: StatusCode,
    problem: Option<&'static str>,
    form: NewTaskIn,
    error: Option<FormError>,
) -> Response {
    c.ctx.active = ACTIVE;
    let a = &c.session.actor;
    let tasks = s.app.guide_tasks();
    let guides = match tasks.guide_choices(a).await {
        Ok(g) => g,
        Err(e) => return error_page(c.ctx, e),
    };
    let staff_id = match opt_id("guide", &q.guide) {
        Ok(id) => id,
        Err(e) => return error_page(c.ctx, e.into()),
    };
    let state = q.state();
    let query = TaskQuery {
        state: (state != "all").then(|| state.to_owned()),
        staff_id,
        before: q.before,
        limit: Some(PAGE),
        ..TaskQuery::default()
    };
    let list = match tasks.list(a, &query).await {
        Ok(p) => p,
        Err(e) => return error_page(c.ctx, e),
    };
    let stats = match tasks.stats(a, Some(q.days())).await {
        Ok(st) => st,
        Err(e) => return error_page(c.ctx, e),
    };
    let params = q.params();
    let next = list
        .next_before
        .map(|n| link(LIST_PATH, &params, &[("before", n.to_string())]));
    let first = q.before.map(|_| link(LIST_PATH, &params, &[]));
    let notice = match q.ok_task.as_str() {
        "created" => Some("guide_tasks.done.created"),
        "done" => Some("guide_tasks.done.done"),
        "skipped" => Some("guide_tasks.done.skipped"),
        _ => None,
    }
    .map(|k| c.ctx.tr.t(k));
    render(
        code,
        &TasksPage {
            can_create: can_create(&c),
            can_close: can_close(&c),
            ctx: c.ctx,
            rows: list.items,
            guides,
            q,
            stats,
            next,
            first,
            notice,
            problem,
            form,
            error,
        },
    )
}

pub async fn list(
    State(s): State<AppState>,
    c: Console,
    ConsoleQuery(q): ConsoleQuery<PageQuery>,
) -> Response {
    page(&s, c, q, StatusCode::OK, None, NewTaskIn::default(), None).await
}

/// 新建任务: a refusal comes back on the form, what was typed kept.
pub async fn create(
    State(s): State<AppState>,
    ConsoleForm(c, f): ConsoleForm<NewTaskIn>,
) -> Response {
    if !can_create(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let made = match f.parse() {
        Ok(input) => s.app.guide_tasks().create(&c.session.actor, &input).await,
        Err(e) => Err(e.into()),
    };
    match made {
        Ok(_) => see_other(&format!("{LIST_PATH}?ok_task=created")),
        Err(e @ AppError::Forbidden) => error_page(c.ctx, e),
        Err(e) => {
            let (status, err) = form_error(c.ctx.tr, e);
            page(&s, c, PageQuery::default(), status, None, f, Some(err)).await
        }
    }
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

/// A 完成 / 跳过 answered: back to the list, or the list with why it was refused.
async fn closed(s: &AppState, c: Console, r: Result<TaskView, AppError>, done: &str) -> Response {
    match r {
        Ok(_) => see_other(&format!("{LIST_PATH}?ok_task={done}")),
        Err(e @ (AppError::Forbidden | AppError::NotFound { .. })) => error_page(c.ctx, e),
        Err(e) => {
            let (status, err) = form_error(c.ctx.tr, e);
            page(
                s,
                c,
                PageQuery::default(),
                status,
                Some(err.message),
                NewTaskIn::default(),
                None,
            )
            .await
        }
    }
}

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

// ---------------------------------------------------------------- texts

pub(crate) fn text(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "guide_tasks.nav" => ("待办任务", "Guide tasks"),
        "guide_tasks.title" => ("待办任务", "Guide tasks"),
        "guide_tasks.intro" => (
            "导购要为客户做的事：回访、发素材、邀请到店……由店长或总部布置，或由客户旅程自动生成。到期时通过企业微信应用消息提醒导购，未完成的每 24 小时再提醒一次，最多 3 次。",
            "What guides should do for their customers — call back, send a material, invite them in — set by a store manager or headquarters, or made by a customer journey. When one falls due the guide is reminded through a WeCom app message, again every 24 hours while it stays open, at most 3 times.",
        ),
        "guide_tasks.state" => ("状态", "State"),
        "guide_tasks.state.open" => ("待处理", "Open"),
        "guide_tasks.state.done" => ("已完成", "Done"),
        "guide_tasks.state.skipped" => ("已跳过", "Skipped"),
        "guide_tasks.all_states" => ("全部状态", "Every state"),
        "guide_tasks.guide" => ("导购", "Guide"),
        "guide_tasks.all_guides" => ("全部导购", "Every guide"),
        "guide_tasks.task" => ("任务", "Task"),
        "guide_tasks.customer" => ("客户", "Customer"),
        "guide_tasks.customer_no" => ("客户 #", "Customer #"),
        "guide_tasks.material" => ("素材", "Material"),
        "guide_tasks.due_at" => ("到期时间", "Due"),
        "guide_tasks.overdue" => ("已逾期", "Overdue"),
        "guide_tasks.source" => ("来源", "Source"),
        "guide_tasks.reminders" => ("已提醒 {n} 次", "Reminded {n}×"),
        "guide_tasks.empty" => ("没有符合条件的待办。", "No task matches."),
        "guide_tasks.more" => ("下一页", "Next page"),
        "guide_tasks.first_page" => ("回到第一页", "First page"),
        "guide_tasks.done_button" => ("完成", "Done"),
        "guide_tasks.note" => ("备注（可选）", "Note (optional)"),
        "guide_tasks.skip_button" => ("跳过", "Skip"),
        "guide_tasks.reason" => ("跳过原因", "Why skip"),
        "guide_tasks.closed_at" => ("处理于", "Closed"),
        "guide_tasks.new" => ("新建任务", "New task"),
        "guide_tasks.new_help" => (
            "为本店（总部：任一门店）的在职导购布置一项待办；到期时导购会收到企业微信提醒。",
            "Set a task for an active guide of your store (headquarters: of any store); the guide is reminded through WeCom when it falls due.",
        ),
        "guide_tasks.choose_guide" => ("请选择导购", "Choose a guide"),
        "guide_tasks.no_guides" => (
            "没有可布置任务的在职导购。",
            "There is no active guide to set tasks for.",
        ),
        "guide_tasks.title_field" => ("任务标题", "Title"),
        "guide_tasks.title_help" => ("1–{n} 个字，一行。", "1–{n} characters, one line."),
        "guide_tasks.body" => ("说明", "Details"),
        "guide_tasks.body_help" => ("可选，最多 {n} 个字。", "Optional, at most {n} characters."),
        "guide_tasks.customer_id" => ("客户 ID（可选）", "Customer ID (optional)"),
        "guide_tasks.material_id" => ("素材 ID（可选）", "Material ID (optional)"),
        "guide_tasks.due_help" => ("北京时间。", "Beijing time."),
        "guide_tasks.create" => ("布置任务", "Set the task"),
        "guide_tasks.stats" => ("完成情况", "Completion"),
        "guide_tasks.stats_help" => (
            "统计所选天数内新建的待办（按建立时的门店计入门店）。",
            "Counts the tasks made in the chosen days (a store's are those of its guides when made).",
        ),
        "guide_tasks.days" => ("近 {n} 天", "Last {n} days"),
        "guide_tasks.by_guide" => ("按导购", "By guide"),
        "guide_tasks.by_store" => ("按门店", "By store"),
        "guide_tasks.store" => ("门店", "Store"),
        "guide_tasks.no_store" => ("未分配门店", "No store"),
        "guide_tasks.total" => ("待办数", "Tasks"),
        "guide_tasks.n_done" => ("已完成", "Done"),
        "guide_tasks.n_skipped" => ("已跳过", "Skipped"),
        "guide_tasks.n_open" => ("待处理", "Open"),
        "guide_tasks.n_overdue" => ("已逾期", "Overdue"),
        "guide_tasks.rate" => ("完成率", "Completion rate"),
        "guide_tasks.all_total" => ("合计", "All"),
        "guide_tasks.no_stats" => ("所选天数内没有待办。", "No task in these days."),
        "guide_tasks.done.created" => ("待办已布置", "Task set"),
        "guide_tasks.done.done" => ("待办已完成", "Task done"),
        "guide_tasks.done.skipped" => ("待办已跳过", "Task skipped"),
        _ => return None,
    })
}

/// Every state and notice the page labels (for the tests).
#[cfg(test)]
fn labelled_keys() -> Vec<String> {
    let mut keys = Vec::new();
    for st in ["open", "done", "skipped"] {
        keys.push(format!("guide_tasks.state.{st}"));
    }
    for d in ["created", "done", "skipped"] {
        keys.push(format!("guide_tasks.done.{d}"));
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_parses_beijing_time_and_optional_ids() {
        let f = NewTaskIn {
            staff_id: "7".into(),
            customer_id: " ".into(),
            title: "回访".into(),
            body: "第一行\r\n第二行".into(),
            material_id: "3".into(),
            due_at: "2030-01-02T09:30".into(),
        };
        let t = f.parse().unwrap();
        assert_eq!(t.staff_id, 7);
        assert_eq!(t.customer_id, None);
        assert_eq!(t.material_id, Some(3));
        assert_eq!(t.body.as_deref(), Some("第一行\n第二行"));
        assert_eq!(Millis(t.due_at).to_rfc3339(), "2030-01-02T01:30:00.000Z");
        let bad = NewTaskIn {
            due_at: "明天".into(),
            ..f.clone()
        };
        assert_eq!(bad.parse().unwrap_err().field, "due_at");
        let bad = NewTaskIn {
            staff_id: String::new(),
            ..f
        };
        assert_eq!(bad.parse().unwrap_err().field, "staff_id");
    }

    #[test]
    fn rates_read_as_percentages() {
        assert_eq!(percent(0), "0.0%");
        assert_eq!(percent(3333), "33.3%");
        assert_eq!(percent(10_000), "100.0%");
    }

    #[test]
    fn every_label_has_both_languages() {
        for k in labelled_keys() {
            let (zh, en) = text(&k).unwrap_or_else(|| panic!("{k}"));
            assert!(!zh.is_empty() && !en.is_empty(), "{k}");
        }
    }
}
