//! `/console/journeys` (自动化旅程, issue #21 item 5): the journey engine's pages. The list
//! (each journey's state, its trigger in words, the runs in flight and done, the next time a
//! schedule fires, why the engine paused it); the editor (a name, the trigger and its fields,
//! the entry rule, the quiet hours and a numbered step list — 添加步骤 re-renders the form
//! with one more row and a ticked 删除 drops a row, no script needed); and each journey's
//! page: its definition in words with live counts per step, its runs per state and its
//! versions, the 启用 / 暂停 / 归档 / 编辑 buttons, and the per-customer trace ("why did
//! this customer get this message").
//!
//! Steps are numbered from 1 on these pages; the definition counts from 0. A jump (a branch's
//! 否则 and a goto) is typed as a step number, the number after the last step meaning 结束;
//! when rows are dropped the numbers typed are carried over to the rows they named.
//!
//! A group SOP (群SOP定时, trigger `group_schedule`) is edited in the same form: the schedule's
//! weekdays and time (or once), the customer groups ticked or 全部客户群 instead of an audience,
//! and its one step, the group message (text, 群主待办 or 企业群发, an owner task's material),
//! in a fieldset of its own instead of the step list. Its page shows its latest posts instead
//! of runs and traces. `/console/journeys/calendar` (群SOP日历) shows a week, Monday to Sunday,
//! of every active or paused schedule's occurrences with what was posted.
//!
//! A message's attachments (set through the API) ride along in a hidden field, so a save from
//! the console keeps them.
//!
//! Every page reads through `app.journeys()`: admins and operators write, store managers and
//! analysts read, guides get the forbidden page.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use yutang_app::AppError;
use yutang_app::journeys::{
    CalendarEntry, CalendarWeek, JourneyDetail, JourneyInput, JourneyView, RunTrace,
};
use yutang_app::materials::MaterialQuery;
use yutang_app::messaging::GroupChoice;
use yutang_core::FieldError;
use yutang_core::events::EventKind;
use yutang_core::journeys::{
    DEFAULT_QUIET, DateAttribute, Definition, EXTRA_EVENT_KINDS, Entry, GroupDelivery, MAX_STEPS,
    QuietHours, Step, TimeOfDay, Trigger,
};
use yutang_core::messaging::Attachment;
use yutang_core::staff::Role;
use yutang_core::time::Millis;

use super::layout::{ConsoleForm, ConsoleQuery, CsrfForm, error_page, form_error, see_other};
use super::share::minute;
use super::{Console, Ctx, Tr, render};
use crate::auth::IdPath;
use crate::state::AppState;

const LIST_PATH: &str = "/console/journeys";
const CALENDAR_PATH: &str = "/console/journeys/calendar";
const ACTIVE: &str = "journeys";
/// Rows of the step list read from a form, at most (the steps plus blank rows).
const MAX_ROWS: usize = 2 * MAX_STEPS;
/// The step kinds, in the order the kind select offers them.
const STEP_KINDS: [&str; 11] = [
    "wait",
    "wait_until",
    "branch",
    "goto",
    "tag",
    "untag",
    "coupon",
    "task",
    "message",
    "notify",
    "webhook",
];
const TRIGGER_KINDS: [&str; 6] = [
    "event",
    "schedule",
    "group_schedule",
    "date",
    "segment_enter",
    "segment_leave",
];
/// A wait's units and their seconds; `second` is offered only to a wait already in seconds.
const UNITS: [(&str, i64); 4] = [
    ("minute", 60),
    ("hour", 3_600),
    ("day", 86_400),
    ("second", 1),
];
/// The outcomes in the order the counts show them (others follow by name).
const OUTCOMES: [&str; 11] = [
    "entered", "done", "sent", "queued", "waiting", "branched", "quiet", "skipped", "paused",
    "exited", "failed",
];
/// Materials read for the editor's and the page's names, at most (pages of 200).
const MATERIAL_PAGES: usize = 10;

fn detail_path(id: i64) -> String {
    format!("{LIST_PATH}/{id}")
}

/// Whether the caller writes journeys (headquarters: admins and operators).
fn can_edit(c: &Console) -> bool {
    matches!(c.session.actor.role, Role::Admin | Role::Operator)
}

// ---------------------------------------------------------------- words

fn label(tr: Tr, prefix: &str, code: &str) -> String {
    super::labels::code_or_raw(tr, prefix, code)
}

/// "N 条待办" of a group SOP's post.
fn tasks_made(tr: Tr, n: i64) -> String {
    tr.fill("journeys.tasks_made", &[("n", &n.to_string())])
}

/// The link text to a group SOP's mass message.
fn view_message(tr: Tr, id: i64) -> String {
    tr.fill("journeys.view_message", &[("id", &id.to_string())])
}

fn status_class(status: &str) -> &'static str {
    match status {
        "active" => "pill ok",
        "paused" => "pill failed",
        "archived" => "pill disabled",
        _ => "pill",
    }
}

fn hhmm(t: TimeOfDay) -> String {
    format!("{:02}:{:02}", t.0 / 60, t.0 % 60)
}

/// `YYYY-MM-DDTHH:MM` in Asia/Shanghai (`<input type="datetime-local">`).
fn local(ms: i64) -> String {
    let s = Millis(ms).to_shanghai_string().replace(' ', "T");
    s.get(..16).unwrap_or_default().to_owned()
}

fn attribute_code(a: DateAttribute) -> &'static str {
    match a {
        DateAttribute::Birthday => "birthday",
        DateAttribute::FirstOrder => "first_order",
    }
}

/// Line breaks as a browser sends them (`\r\n`) made `\n`.
fn unix_lines(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "\n")
}

/// A trigger in words: 事件：添加好友, 每周二 10:00, 生日当天 09:00, 进入人群 …
fn trigger_summary(tr: Tr, t: &Trigger) -> String {
    match t {
        Trigger::Event { event } => tr.fill(
            "journeys.sum.event",
            &[("event", &label(tr, "event.", event))],
        ),
        Trigger::Schedule {
            weekdays, time, at, ..
        } => schedule_words(tr, weekdays, *time, *at),
        Trigger::GroupSchedule {
            weekdays,
            time,
            at,
            group_ids,
            all_groups,
        } => tr.fill(
            "journeys.sum.group_schedule",
            &[
                ("when", &schedule_words(tr, weekdays, *time, *at)),
                ("groups", &groups_words(tr, group_ids, *all_groups)),
            ],
        ),
        Trigger::Date {
            attribute,
            offset_days,
            time,
        } => {
            let key = match offset_days.cmp(&0) {
                std::cmp::Ordering::Less => "journeys.sum.date_before",
                std::cmp::Ordering::Equal => "journeys.sum.date_on",
                std::cmp::Ordering::Greater => "journeys.sum.date_after",
            };
            tr.fill(
                key,
                &[
                    (
                        "attr",
                        &label(tr, "journey.attr.", attribute_code(*attribute)),
                    ),
                    ("n", &offset_days.abs().to_string()),
                    ("time", &hhmm(*time)),
                ],
            )
        }
        Trigger::SegmentEnter { .. } => tr.t("journey.trigger.segment_enter").to_owned(),
        Trigger::SegmentLeave { .. } => tr.t("journey.trigger.segment_leave").to_owned(),
    }
}

/// A schedule's times in words: 每周二、周四 10:00, 每天 09:00, 定时一次：…
fn schedule_words(tr: Tr, weekdays: &[u8], time: Option<TimeOfDay>, at: Option<i64>) -> String {
    if let Some(at) = at {
        return tr.fill("journeys.sum.once", &[("at", &minute(at))]);
    }
    let time = time.map(hhmm).unwrap_or_default();
    if weekdays.len() >= 7 {
        tr.fill("journeys.sum.daily", &[("time", &time)])
    } else {
        let days = weekdays
            .iter()
            .map(|d| label(tr, "journey.weekday.", &d.to_string()))
            .collect::<Vec<_>>()
            .join(tr.t("journeys.list_sep"));
        tr.fill("journeys.sum.weekly", &[("days", &days), ("time", &time)])
    }
}

/// A group schedule's groups in words: 3 个群, or 全部客户群.
fn groups_words(tr: Tr, group_ids: &[i64], all_groups: bool) -> String {
    if all_groups {
        tr.t("journeys.all_groups").to_owned()
    } else {
        tr.fill("journeys.n_groups", &[("n", &group_ids.len().to_string())])
    }
}

/// A group message's delivery in words (企业群发 / 群主待办).
fn delivery_label(tr: Tr, delivery: &str) -> String {
    label(tr, "journey.delivery.", delivery)
}

/// Attachments as the editor carries them (a hidden JSON field: the console does not edit
/// them, and a save keeps them).
fn attachments_json(a: &[Attachment]) -> String {
    if a.is_empty() {
        String::new()
    } else {
        serde_json::to_string(a).unwrap_or_default()
    }
}

/// The attachments carried by the editor; `step` (from 1) names the step refused.
fn parse_attachments(s: &str, step: usize) -> Result<Vec<Attachment>, FieldError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_str(s).map_err(|_| {
        FieldError::new(
            "steps",
            "invalid_attachment",
            format!("step {step}: the attachments do not read"),
        )
    })
}

/// How many attachments the editor carries (for the note beside the text).
fn attachment_count(s: &str) -> usize {
    parse_attachments(s, 1).map_or(0, |a| a.len())
}

fn entry_summary(tr: Tr, e: Entry) -> String {
    match e {
        Entry::Once => tr.t("journey.entry.once").to_owned(),
        Entry::Cooldown { days } => tr.fill("journeys.sum.cooldown", &[("n", &days.to_string())]),
        Entry::Reentry => tr.t("journeys.sum.reentry").to_owned(),
    }
}

fn quiet_summary(tr: Tr, q: Option<QuietHours>) -> String {
    match q {
        Some(q) => format!("{}–{}", hhmm(TimeOfDay(q.start)), hhmm(TimeOfDay(q.end))),
        None => tr.t("journeys.quiet_none").to_owned(),
    }
}

/// A wait's length as a number and a unit: the largest unit that divides it.
fn split_seconds(seconds: i64) -> (i64, &'static str) {
    for (unit, secs) in [("day", 86_400), ("hour", 3_600), ("minute", 60)] {
        if seconds != 0 && seconds % secs == 0 {
            return (seconds / secs, unit);
        }
    }
    (seconds, "second")
}

fn duration(tr: Tr, seconds: i64) -> String {
    let (n, unit) = split_seconds(seconds);
    format!("{n} {}", tr.t(&format!("journeys.unit.{unit}")))
}

/// Where a jump goes, in words: 第 3 步, or 结束.
fn jump(tr: Tr, to: usize, n: usize) -> String {
    if to >= n {
        tr.t("journeys.to_end").to_owned()
    } else {
        tr.fill("journeys.to_step", &[("n", &(to + 1).to_string())])
    }
}

/// The names of what steps refer to (a name gone shows as `#id`).
#[derive(Default)]
struct Names {
    tags: HashMap<i64, String>,
    templates: HashMap<i64, String>,
    materials: HashMap<i64, String>,
}

impl Names {
    fn of(map: &HashMap<i64, String>, id: i64) -> String {
        map.get(&id).cloned().unwrap_or_else(|| format!("#{id}"))
    }
    fn tag(&self, id: i64) -> String {
        Self::of(&self.tags, id)
    }
    fn template(&self, id: i64) -> String {
        Self::of(&self.templates, id)
    }
    fn material(&self, id: i64) -> String {
        Self::of(&self.materials, id)
    }
}

/// A tag group and its tags, for the tag select.
pub struct TagGroup {
    name: String,
    tags: Vec<(i64, String)>,
}

/// What the editor offers and the pages name: tags by group, coupon templates and materials
/// with whether each can be chosen now (a template not archived, a material active).
#[derive(Default)]
struct Catalogue {
    tag_groups: Vec<TagGroup>,
    templates: Vec<(i64, String, bool)>,
    materials: Vec<(i64, String, bool)>,
}

impl Catalogue {
    /// Read through the caller's use cases; what the caller may not read stays empty (its
    /// ids then show as `#id`).
    async fn load(s: &AppState, c: &Console) -> Self {
        let a = &c.session.actor;
        let mut out = Catalogue::default();
        if let Ok(groups) = s.app.tags().tag_catalogue(a).await {
            out.tag_groups = groups
                .into_iter()
                .map(|g| TagGroup {
                    name: g.group.name,
                    tags: g.tags.into_iter().map(|t| (t.tag.id, t.tag.name)).collect(),
                })
                .collect();
        }
        if let Ok(templates) = s.app.coupons().coupon_templates(a).await {
            out.templates = templates
                .into_iter()
                .map(|t| (t.row.id, t.row.name, t.row.status != "archived"))
                .collect();
        }
        let mut after = None;
        for _ in 0..MATERIAL_PAGES {
            let q = MaterialQuery {
                status: Some("all".into()),
                after,
                limit: Some(200),
                ..MaterialQuery::default()
            };
            let Ok(page) = s.app.materials().list(a, &q).await else {
                break;
            };
            out.materials.extend(
                page.items
                    .into_iter()
                    .map(|m| (m.id, m.title, m.status == "active")),
            );
            match page.next_after {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        out
    }

    fn names(&self) -> Names {
        Names {
            tags: self
                .tag_groups
                .iter()
                .flat_map(|g| {
                    g.tags
                        .iter()
                        .map(move |(id, name)| (*id, format!("{}/{name}", g.name)))
                })
                .collect(),
            templates: self
                .templates
                .iter()
                .map(|(id, name, _)| (*id, name.clone()))
                .collect(),
            materials: self
                .materials
                .iter()
                .map(|(id, name, _)| (*id, name.clone()))
                .collect(),
        }
    }
}

// ---------------------------------------------------------------- the list

/// A journey in the list.
pub struct Row {
    v: JourneyView,
    trigger: String,
}

#[derive(Template)]
#[template(path = "console/journeys.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<Row>,
    can_edit: bool,
}

impl ListPage {
    fn status_label(&self, st: &str) -> String {
        label(self.ctx.tr, "journey.status.", st)
    }
    fn status_class(&self, st: &str) -> &'static str {
        status_class(st)
    }
    fn next_fire(&self, v: &JourneyView) -> String {
        match v.next_fire_at {
            Some(at) if v.status == "active" => minute(at),
            _ => "-".to_owned(),
        }
    }
    fn minute(&self, ms: &i64) -> String {
        minute(*ms)
    }
}

pub async fn list(State(s): State<AppState>, mut c: Console) -> Response {
    c.ctx.active = ACTIVE;
    let views = match s.app.journeys().list(&c.session.actor).await {
        Ok(r) => r,
        Err(e) => return error_page(c.ctx, e),
    };
    let tr = c.ctx.tr;
    let rows = views
        .into_iter()
        .map(|v| Row {
            trigger: trigger_summary(tr, &v.definition.trigger),
            v,
        })
        .collect();
    render(
        StatusCode::OK,
        &ListPage {
            can_edit: can_edit(&c),
            ctx: c.ctx,
            rows,
        },
    )
}

// ---------------------------------------------------------------- the editor

/// One row of the step list as typed. Every kind's fields are kept (the page shows the chosen
/// kind's); the definition reads only the chosen kind's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepForm {
    /// A step kind, or empty: a blank row, ignored on save.
    kind: String,
    /// A wait: a number of `unit`s.
    amount: String,
    unit: String,
    /// A wait until a time of day: `HH:MM`.
    time: String,
    /// A branch: the segment expression, and the step number to go to otherwise (blank or
    /// the number after the last: 结束).
    expression: String,
    else_step: String,
    /// A goto: the step number.
    goto: String,
    tag: String,
    template: String,
    /// A task: its title, instructions, optional material and hours to do it in.
    title: String,
    body: String,
    material: String,
    due_hours: String,
    /// A message or a notification.
    text: String,
    /// A message's attachments as stored (JSON; kept as they are, the console edits text only).
    attachments: String,
    signal: String,
    /// 删除 ticked.
    remove: bool,
}

impl StepForm {
    fn blank() -> Self {
        Self {
            unit: "hour".into(),
            due_hours: "24".into(),
            ..Self::default()
        }
    }

    fn is_blank(&self) -> bool {
        self.kind.trim().is_empty()
    }

    fn set(&mut self, field: &str, v: &str) {
        let v = v.to_owned();
        match field {
            "kind" => self.kind = v,
            "amount" => self.amount = v,
            "unit" => self.unit = v,
            "time" => self.time = v,
            "expression" => self.expression = unix_lines(&v),
            "else_step" => self.else_step = v,
            "goto" => self.goto = v,
            "tag" => self.tag = v,
            "template" => self.template = v,
            "title" => self.title = v,
            "body" => self.body = unix_lines(&v),
            "material" => self.material = v,
            "due_hours" => self.due_hours = v,
            "text" => self.text = unix_lines(&v),
            "attachments" => self.attachments = v,
            "signal" => self.signal = v,
            "remove" => self.remove = !v.is_empty(),
            _ => {}
        }
    }

    /// A stored step as a row (`n`: the number of steps, for the jumps).
    fn of_step(step: &Step) -> Self {
        let mut r = Self {
            kind: step.kind().to_owned(),
            ..Self::blank()
        };
        match step {
            Step::Wait { seconds } => {
                let (n, unit) = split_seconds(*seconds);
                r.amount = n.to_string();
                r.unit = unit.into();
            }
            Step::WaitUntil { time } => r.time = hhmm(*time),
            Step::Branch {
                expression,
                else_step,
            } => {
                r.expression = expression.clone();
                r.else_step = (else_step + 1).to_string();
            }
            Step::Goto { step } => r.goto = (step + 1).to_string(),
            Step::Tag { tag_id } | Step::Untag { tag_id } => r.tag = tag_id.to_string(),
            Step::Coupon { template_id } => r.template = template_id.to_string(),
            Step::Task {
                title,
                body,
                material_id,
                due_hours,
            } => {
                r.title = title.clone();
                r.body = body.clone();
                r.material = material_id.map(|m| m.to_string()).unwrap_or_default();
                r.due_hours = due_hours.to_string();
            }
            Step::Message { text, attachments } => {
                r.text = text.clone();
                r.attachments = attachments_json(attachments);
            }
            Step::Notify { text } => r.text = text.clone(),
            // Only a group schedule has one; its editor shows it in a fieldset of its own.
            Step::GroupMessage {
                text,
                attachments,
                material_id,
                ..
            } => {
                r.text = text.clone();
                r.attachments = attachments_json(attachments);
                r.material = material_id.map(|m| m.to_string()).unwrap_or_default();
            }
            Step::Webhook { signal } => r.signal = signal.clone(),
        }
        r
    }

    /// The step of row `i` (from 0) of `n`.
    fn parse(&self, i: usize, n: usize) -> Result<Step, FieldError> {
        let bad = |code: &'static str, what: &str| {
            FieldError::new("steps", code, format!("step {}: {what}", i + 1))
        };
        let whole = |s: &str, code: &'static str| {
            s.trim()
                .parse::<i64>()
                .map_err(|_| bad(code, "a whole number is required"))
        };
        let target = |s: &str, blank_is_end: bool| -> Result<usize, FieldError> {
            let s = s.trim();
            if s.is_empty() && blank_is_end {
                return Ok(n);
            }
            match s.parse::<usize>() {
                Ok(k) if (1..=n + 1).contains(&k) => Ok(k - 1),
                _ => Err(bad(
                    "invalid_step",
                    &format!("a step number is 1–{} ({} is the end)", n + 1, n + 1),
                )),
            }
        };
        let id = |s: &str, code: &'static str| {
            s.trim().parse::<i64>().map_err(|_| bad(code, "choose one"))
        };
        Ok(match self.kind.trim() {
            "wait" => {
                let amount = whole(&self.amount, "invalid_wait")?;
                let unit = UNITS
                    .iter()
                    .find(|(u, _)| *u == self.unit.trim())
                    .map(|(_, secs)| *secs)
                    .ok_or_else(|| bad("invalid_wait", "unknown unit"))?;
                Step::Wait {
                    seconds: amount
                        .checked_mul(unit)
                        .ok_or_else(|| bad("invalid_wait", "too long"))?,
                }
            }
            "wait_until" => Step::WaitUntil {
                time: TimeOfDay::parse("steps", self.time.trim())
                    .map_err(|e| bad(e.code, &e.message))?,
            },
            "branch" => Step::Branch {
                expression: self.expression.clone(),
                else_step: target(&self.else_step, true)?,
            },
            "goto" => Step::Goto {
                step: target(&self.goto, false)?,
            },
            "tag" => Step::Tag {
                tag_id: id(&self.tag, "unknown_tag")?,
            },
            "untag" => Step::Untag {
                tag_id: id(&self.tag, "unknown_tag")?,
            },
            "coupon" => Step::Coupon {
                template_id: id(&self.template, "unknown_template")?,
            },
            "task" => Step::Task {
                title: self.title.trim().to_owned(),
                body: self.body.clone(),
                material_id: match self.material.trim() {
                    "" => None,
                    m => Some(id(m, "unknown_material")?),
                },
                due_hours: whole(&self.due_hours, "invalid_step")?,
            },
            "message" => Step::Message {
                text: self.text.clone(),
                attachments: parse_attachments(&self.attachments, i + 1)?,
            },
            "notify" => Step::Notify {
                text: self.text.clone(),
            },
            "webhook" => Step::Webhook {
                signal: self.signal.trim().to_owned(),
            },
            _ => return Err(bad("invalid_step", "unknown step kind")),
        })
    }

    fn kind_is(&self, k: &str) -> bool {
        self.kind.trim() == k
    }
    fn unit_is(&self, u: &str) -> bool {
        self.unit.trim() == u
    }
    fn tag_is(&self, id: &i64) -> bool {
        self.tag.trim() == id.to_string()
    }
    fn template_is(&self, id: &i64) -> bool {
        self.template.trim() == id.to_string()
    }
    fn material_is(&self, id: &i64) -> bool {
        self.material.trim() == id.to_string()
    }
    /// The attachments a message row carries (kept on save).
    fn attachment_count(&self) -> usize {
        attachment_count(&self.attachments)
    }
}

/// A schedule's weekdays and time of day, or its one instant.
type Times = (Vec<u8>, Option<TimeOfDay>, Option<i64>);

/// The editor as typed, so a refused form comes back filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JourneyForm {
    name: String,
    /// `event`, `schedule`, `group_schedule`, `date`, `segment_enter` or `segment_leave`.
    trigger: String,
    event: String,
    /// A schedule (customers or groups): `weekly` (weekdays and a time) or `once` (one
    /// instant).
    schedule_mode: String,
    weekdays: Vec<String>,
    schedule_time: String,
    /// `YYYY-MM-DDTHH:MM` in Asia/Shanghai.
    schedule_at: String,
    /// The schedule's audience, a segment expression.
    audience: String,
    /// A group schedule's groups: `some` (the ids ticked) or `all` (全部客户群).
    group_scope: String,
    group_ids: Vec<String>,
    /// A group schedule's one step, its group message: the text, `mass_message` or
    /// `owner_task`, an owner task's material, and the attachments as stored (JSON, kept).
    group_text: String,
    group_delivery: String,
    group_material: String,
    group_attachments: String,
    /// A date trigger: `birthday` or `first_order`, days after (negative: before), a time.
    date_attribute: String,
    offset_days: String,
    date_time: String,
    /// A segment trigger's expression.
    expression: String,
    /// `once`, `cooldown` or `reentry`.
    entry: String,
    cooldown_days: String,
    /// `on` or `off`.
    quiet: String,
    quiet_start: String,
    quiet_end: String,
    steps: Vec<StepForm>,
    /// The row to focus (the one 添加步骤 added).
    focus: Option<usize>,
}

impl Default for JourneyForm {
    fn default() -> Self {
        Self {
            name: String::new(),
            trigger: "event".into(),
            event: "add_friend".into(),
            schedule_mode: "weekly".into(),
            weekdays: Vec::new(),
            schedule_time: "10:00".into(),
            schedule_at: String::new(),
            audience: String::new(),
            group_scope: "some".into(),
            group_ids: Vec::new(),
            group_text: String::new(),
            group_delivery: GroupDelivery::OwnerTask.as_str().into(),
            group_material: String::new(),
            group_attachments: String::new(),
            date_attribute: "birthday".into(),
            offset_days: "0".into(),
            date_time: "09:00".into(),
            expression: String::new(),
            entry: "once".into(),
            cooldown_days: "30".into(),
            quiet: "on".into(),
            quiet_start: hhmm(TimeOfDay(DEFAULT_QUIET.start)),
            quiet_end: hhmm(TimeOfDay(DEFAULT_QUIET.end)),
            steps: vec![StepForm::blank()],
            focus: None,
        }
    }
}

/// A row's field in a form: `s3.kind` → (3, `kind`).
fn row_field(name: &str) -> Option<(usize, &str)> {
    let (i, field) = name.strip_prefix('s')?.split_once('.')?;
    let i: usize = i.parse().ok()?;
    (i < MAX_ROWS).then_some((i, field))
}

impl JourneyForm {
    /// The form of a stored journey.
    fn of(name: &str, d: &Definition) -> Self {
        let mut f = Self {
            name: name.to_owned(),
            trigger: d.trigger.kind().to_owned(),
            steps: d.steps.iter().map(StepForm::of_step).collect(),
            entry: d.entry.as_str().to_owned(),
            ..Self::default()
        };
        match &d.trigger {
            Trigger::Event { event } => f.event = event.clone(),
            Trigger::Schedule {
                weekdays,
                time,
                at,
                audience,
            } => {
                f.audience = audience.clone();
                f.set_schedule(weekdays, *time, *at);
            }
            Trigger::GroupSchedule {
                weekdays,
                time,
                at,
                group_ids,
                all_groups,
            } => {
                f.set_schedule(weekdays, *time, *at);
                f.group_scope = if *all_groups { "all" } else { "some" }.into();
                f.group_ids = group_ids.iter().map(i64::to_string).collect();
                // The one step shows in the group message's fieldset, not as a row.
                if let Some(Step::GroupMessage {
                    text,
                    attachments,
                    material_id,
                    delivery,
                }) = d.steps.first()
                {
                    f.group_text = text.clone();
                    f.group_delivery = delivery.as_str().into();
                    f.group_material = material_id.map(|m| m.to_string()).unwrap_or_default();
                    f.group_attachments = attachments_json(attachments);
                    f.steps.clear();
                }
            }
            Trigger::Date {
                attribute,
                offset_days,
                time,
            } => {
                f.date_attribute = attribute_code(*attribute).into();
                f.offset_days = offset_days.to_string();
                f.date_time = hhmm(*time);
            }
            Trigger::SegmentEnter { expression } | Trigger::SegmentLeave { expression } => {
                f.expression = expression.clone();
            }
        }
        if let Entry::Cooldown { days } = d.entry {
            f.cooldown_days = days.to_string();
        }
        match d.quiet_hours {
            Some(q) => {
                f.quiet_start = hhmm(TimeOfDay(q.start));
                f.quiet_end = hhmm(TimeOfDay(q.end));
            }
            None => f.quiet = "off".into(),
        }
        if f.steps.is_empty() {
            f.steps.push(StepForm::blank());
        }
        f
    }

    fn set_schedule(&mut self, weekdays: &[u8], time: Option<TimeOfDay>, at: Option<i64>) {
        if let Some(at) = at {
            self.schedule_mode = "once".into();
            self.schedule_at = local(at);
        } else {
            self.weekdays = weekdays.iter().map(u8::to_string).collect();
            self.schedule_time = time.map(hhmm).unwrap_or_default();
        }
    }

    /// The form posted, and which button sent it (`add` or `save`).
    fn from_pairs(pairs: &[(String, String)]) -> (Self, String) {
        let mut f = Self {
            weekdays: Vec::new(),
            steps: Vec::new(),
            ..Self::default()
        };
        let mut rows: BTreeMap<usize, StepForm> = BTreeMap::new();
        let mut op = String::new();
        for (k, v) in pairs {
            match k.as_str() {
                "op" => op = v.clone(),
                "name" => f.name = v.clone(),
                "trigger" => f.trigger = v.clone(),
                "event" => f.event = v.clone(),
                "schedule_mode" => f.schedule_mode = v.clone(),
                "weekdays" => f.weekdays.push(v.clone()),
                "schedule_time" => f.schedule_time = v.clone(),
                "schedule_at" => f.schedule_at = v.clone(),
                "audience" => f.audience = unix_lines(v),
                "group_scope" => f.group_scope = v.clone(),
                "group_ids" => f.group_ids.push(v.clone()),
                "group_text" => f.group_text = unix_lines(v),
                "group_delivery" => f.group_delivery = v.clone(),
                "group_material" => f.group_material = v.clone(),
                "group_attachments" => f.group_attachments = v.clone(),
                "date_attribute" => f.date_attribute = v.clone(),
                "offset_days" => f.offset_days = v.clone(),
                "date_time" => f.date_time = v.clone(),
                "expression" => f.expression = unix_lines(v),
                "entry" => f.entry = v.clone(),
                "cooldown_days" => f.cooldown_days = v.clone(),
                "quiet" => f.quiet = v.clone(),
                "quiet_start" => f.quiet_start = v.clone(),
                "quiet_end" => f.quiet_end = v.clone(),
                other => {
                    if let Some((i, field)) = row_field(other) {
                        rows.entry(i).or_default().set(field, v);
                    }
                }
            }
        }
        if f.quiet != "off" {
            f.quiet = "on".into();
        }
        if f.schedule_mode != "once" {
            f.schedule_mode = "weekly".into();
        }
        if f.group_scope != "all" {
            f.group_scope = "some".into();
        }
        if f.group_delivery != GroupDelivery::MassMessage.as_str() {
            f.group_delivery = GroupDelivery::OwnerTask.as_str().into();
        }
        f.steps = rows.into_values().collect();
        (f, op)
    }

    /// Drop the rows ticked 删除 and the blank ones; the step numbers typed in the jumps
    /// follow the rows they named (a number naming a dropped row names the next row kept, the
    /// number after the last row the end). A number that names no row stays as typed.
    fn compact(&mut self) {
        let total = self.steps.len();
        let kept: Vec<usize> = self
            .steps
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.remove && !r.is_blank())
            .map(|(i, _)| i)
            .collect();
        let renumber = |s: &str| -> String {
            match s.trim().parse::<usize>() {
                Ok(k) if (1..=total + 1).contains(&k) => {
                    (kept.iter().filter(|p| **p < k - 1).count() + 1).to_string()
                }
                _ => s.to_owned(),
            }
        };
        let rows = std::mem::take(&mut self.steps);
        self.steps = rows
            .into_iter()
            .enumerate()
            .filter(|(i, _)| kept.contains(i))
            .map(|(_, mut r)| {
                r.else_step = renumber(&r.else_step);
                r.goto = renumber(&r.goto);
                r
            })
            .collect();
    }

    fn parse_trigger(&self) -> Result<Trigger, FieldError> {
        let bad =
            |code: &'static str, what: &str| FieldError::new("trigger", code, what.to_owned());
        Ok(match self.trigger.trim() {
            "event" => Trigger::Event {
                event: self.event.trim().to_owned(),
            },
            "schedule" => {
                let (weekdays, time, at) = self.parse_schedule()?;
                Trigger::Schedule {
                    weekdays,
                    time,
                    at,
                    audience: self.audience.clone(),
                }
            }
            "group_schedule" => {
                let (weekdays, time, at) = self.parse_schedule()?;
                let all_groups = self.group_scope == "all";
                let mut group_ids = Vec::new();
                if !all_groups {
                    for g in &self.group_ids {
                        group_ids.push(
                            g.trim()
                                .parse::<i64>()
                                .map_err(|_| bad("unknown_group", "no such group"))?,
                        );
                    }
                }
                Trigger::GroupSchedule {
                    weekdays,
                    time,
                    at,
                    group_ids,
                    all_groups,
                }
            }
            "date" => {
                Trigger::Date {
                    attribute: match self.date_attribute.trim() {
                        "first_order" => DateAttribute::FirstOrder,
                        _ => DateAttribute::Birthday,
                    },
                    offset_days: self.offset_days.trim().parse().map_err(|_| {
                        bad("invalid_offset", "the offset is a whole number of days")
                    })?,
                    time: TimeOfDay::parse("trigger", self.date_time.trim())?,
                }
            }
            "segment_enter" => Trigger::SegmentEnter {
                expression: self.expression.clone(),
            },
            "segment_leave" => Trigger::SegmentLeave {
                expression: self.expression.clone(),
            },
            _ => return Err(bad("invalid_field", "unknown trigger")),
        })
    }

    /// A schedule's weekdays and time, or its one instant.
    fn parse_schedule(&self) -> Result<Times, FieldError> {
        if self.schedule_mode == "once" {
            let s = self.schedule_at.trim();
            if s.is_empty() {
                return Err(FieldError::new(
                    "trigger",
                    "invalid_time",
                    "choose the time",
                ));
            }
            let at = Millis::parse_flexible("trigger", &s.replace('T', " "))?.0;
            return Ok((Vec::new(), None, Some(at)));
        }
        let mut weekdays = Vec::new();
        for d in &self.weekdays {
            weekdays.push(d.trim().parse::<u8>().map_err(|_| {
                FieldError::new("trigger", "invalid_weekdays", "weekdays are 1 to 7")
            })?);
        }
        let time = TimeOfDay::parse("trigger", self.schedule_time.trim())?;
        Ok((weekdays, Some(time), None))
    }

    /// A group schedule's one step: the group message. An owner task takes the material
    /// chosen and no attachments; a group mass message the attachments stored and no material.
    fn parse_group_step(&self) -> Result<Step, FieldError> {
        let delivery = if self.group_delivery == GroupDelivery::MassMessage.as_str() {
            GroupDelivery::MassMessage
        } else {
            GroupDelivery::OwnerTask
        };
        let (attachments, material_id) = match delivery {
            GroupDelivery::MassMessage => (parse_attachments(&self.group_attachments, 1)?, None),
            GroupDelivery::OwnerTask => (
                Vec::new(),
                match self.group_material.trim() {
                    "" => None,
                    m => Some(m.parse::<i64>().map_err(|_| {
                        FieldError::new("steps", "unknown_material", "step 1: choose one")
                    })?),
                },
            ),
        };
        Ok(Step::GroupMessage {
            text: self.group_text.clone(),
            attachments,
            material_id,
            delivery,
        })
    }

    fn parse_entry(&self) -> Result<Entry, FieldError> {
        Ok(match self.entry.trim() {
            "cooldown" => Entry::Cooldown {
                days: self.cooldown_days.trim().parse().map_err(|_| {
                    FieldError::new("entry", "invalid_cooldown", "a whole number of days")
                })?,
            },
            "reentry" => Entry::Reentry,
            _ => Entry::Once,
        })
    }

    fn parse_quiet(&self) -> Result<Option<QuietHours>, FieldError> {
        if self.quiet == "off" {
            return Ok(None);
        }
        QuietHours::parse(self.quiet_start.trim(), self.quiet_end.trim()).map(Some)
    }

    fn parse_steps(&self) -> Result<Vec<Step>, FieldError> {
        let n = self.steps.len();
        if n == 0 {
            return Err(FieldError::new(
                "steps",
                "invalid_journey_steps",
                "a journey has 1–50 steps",
            ));
        }
        self.steps
            .iter()
            .enumerate()
            .map(|(i, r)| r.parse(i, n))
            .collect()
    }

    /// The journey as entered, checked as the API checks it (after [`Self::compact`]).
    fn parse(&self, now: i64) -> Result<JourneyInput, AppError> {
        yutang_core::journeys::parse_name(&self.name)?;
        let trigger = self.parse_trigger()?;
        let steps = if self.is_group() {
            vec![self.parse_group_step()?]
        } else {
            self.parse_steps()?
        };
        let definition = Definition {
            trigger,
            steps,
            entry: self.parse_entry()?,
            quiet_hours: self.parse_quiet()?,
        };
        JourneyInput::parse(&self.name, definition, now)
    }

    fn trigger_is(&self, k: &str) -> bool {
        self.trigger.trim() == k
    }
    /// A group SOP (群SOP定时): its one step is the group message fieldset's.
    fn is_group(&self) -> bool {
        self.trigger_is("group_schedule")
    }
    fn all_groups(&self) -> bool {
        self.group_scope == "all"
    }
    fn group_is(&self, id: &i64) -> bool {
        self.group_ids.iter().any(|g| g.trim() == id.to_string())
    }
    fn delivery_is(&self, d: &str) -> bool {
        self.group_delivery == d
    }
    fn group_material_is(&self, id: &i64) -> bool {
        self.group_material.trim() == id.to_string()
    }
    fn group_attachment_count(&self) -> usize {
        attachment_count(&self.group_attachments)
    }
    fn event_is(&self, k: &str) -> bool {
        self.event.trim() == k
    }
    fn weekday_is(&self, d: &u8) -> bool {
        self.weekdays.iter().any(|w| w.trim() == d.to_string())
    }
    fn once(&self) -> bool {
        self.schedule_mode == "once"
    }
    fn attribute_is(&self, a: &str) -> bool {
        self.date_attribute.trim() == a
    }
    fn entry_is(&self, e: &str) -> bool {
        self.entry.trim() == e
    }
    fn quiet_on(&self) -> bool {
        self.quiet != "off"
    }
    fn focus_is(&self, i: &usize) -> bool {
        self.focus == Some(*i)
    }
}

/// A refusal as the editor shows it: by the field it names (`name`, `trigger`, `steps`,
/// `entry`, `quiet_hours`; others above the form), a step's with its number and kind.
#[derive(Debug, Clone)]
pub struct PageError {
    field: String,
    message: String,
    /// The step it is about (from 1), when it names one.
    step: Option<usize>,
    /// What the segment parser said of an expression (shown as code).
    detail: Option<String>,
}

/// The fields of the editor a refusal can name (others show above the form).
const FIELDS: [&str; 5] = ["name", "trigger", "steps", "entry", "quiet_hours"];

/// The step a message of `Definition::parse` names (`step 3: …`, `step 3 is on a loop …`).
fn step_number(message: &str) -> Option<usize> {
    let rest = message.strip_prefix("step ")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn page_error(tr: Tr, e: AppError, form: Option<&JourneyForm>) -> (StatusCode, PageError) {
    let (raw, code) = match &e {
        AppError::Invalid(f) => (Some(f.message.clone()), Some(f.code)),
        _ => (None, None),
    };
    let (status, fe) = form_error(tr, e);
    let steps = form.map_or(&[][..], |f| f.steps.as_slice());
    let group = form.filter(|f| f.is_group());
    let mut step = raw.as_deref().and_then(step_number);
    let mut message = fe.message.to_owned();
    if let Some(f) = group {
        // A group SOP's one step is its group message; its trigger's refusals say what a
        // group SOP takes.
        if fe.field == "steps" {
            step = None;
            message = tr.fill(
                "journeys.group_step_error",
                &[
                    ("message", &message),
                    ("hint", tr.t("journeys.hint.group_message")),
                ],
            );
        } else if fe.field == "trigger" {
            match code {
                Some("invalid_schedule") if f.quiet_on() => {
                    message = tr.fill(
                        "journeys.group_quiet_error",
                        &[(
                            "quiet",
                            &format!("{}–{}", f.quiet_start.trim(), f.quiet_end.trim()),
                        )],
                    );
                }
                Some("invalid_audience") => {
                    message = format!("{message}（{}）", tr.t("journeys.hint.group_audience"));
                }
                _ => {}
            }
        }
    }
    if let Some(k) = step {
        let kind = steps.get(k - 1).map(|r| r.kind.trim().to_owned());
        let kind_label = kind
            .as_deref()
            .map(|k| label(tr, "journey.step.", k))
            .unwrap_or_default();
        message = tr.fill(
            "journeys.step_error",
            &[
                ("n", &k.to_string()),
                ("kind", &kind_label),
                ("message", &message),
            ],
        );
        if code == Some("invalid_step")
            && let Some(k) = kind.filter(|k| STEP_KINDS.contains(&k.as_str()))
        {
            message = format!("{message}（{}）", tr.t(&format!("journeys.hint.{k}")));
        }
    }
    let detail = match code {
        Some("invalid_expression") => raw.filter(|r| !r.starts_with("a segment expression")),
        _ => None,
    };
    (
        status,
        PageError {
            field: fe.field,
            message,
            step,
            detail,
        },
    )
}

#[derive(Template)]
#[template(path = "console/journeys_form.html")]
struct EditorPage {
    ctx: Ctx,
    /// The journey edited (none: a new one).
    id: Option<i64>,
    form: JourneyForm,
    error: Option<PageError>,
    events: Vec<(String, String)>,
    cat: Catalogue,
    /// The customer groups a group SOP may post to (not dismissed).
    groups: Vec<GroupChoice>,
}

impl EditorPage {
    fn err(&self, field: &str) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|e| e.field == field)
            .map(|e| e.message.as_str())
    }
    /// A refusal of the steps: under the step list, or a group SOP's under its group message.
    fn steps_err(&self) -> Option<&str> {
        self.err("steps").filter(|_| !self.form.is_group())
    }
    fn group_err(&self) -> Option<&str> {
        self.err("steps").filter(|_| self.form.is_group())
    }
    /// A group as the picker names it: its name (or id) and its owner.
    fn group_label(&self, g: &GroupChoice) -> String {
        let name = if g.name.is_empty() {
            format!("#{}", g.id)
        } else {
            g.name.clone()
        };
        if g.owner.is_empty() {
            name
        } else {
            format!("{name}（{}）", g.owner)
        }
    }
    /// Groups ticked that the picker does not list (dismissed since, or out of reach): kept
    /// ticked by id so a save does not drop them unseen.
    fn unlisted_groups(&self) -> Vec<String> {
        self.form
            .group_ids
            .iter()
            .map(|g| g.trim().to_owned())
            .filter(|g| !g.is_empty() && !self.groups.iter().any(|c| c.id.to_string() == *g))
            .collect()
    }
    /// The deliveries a group message offers: 群主待办（…）, 企业群发（…）.
    fn deliveries(&self) -> Vec<(&'static str, String)> {
        let tr = self.ctx.tr;
        [GroupDelivery::OwnerTask, GroupDelivery::MassMessage]
            .into_iter()
            .map(|d| {
                let code = d.as_str();
                let text = tr.fill(
                    "journeys.delivery_choice",
                    &[
                        ("label", &delivery_label(tr, code)),
                        ("hint", tr.t(&format!("journeys.delivery_hint.{code}"))),
                    ],
                );
                (code, text)
            })
            .collect()
    }
    fn has_group_material(&self) -> bool {
        self.cat
            .materials
            .iter()
            .any(|(id, _, ok)| *ok && self.form.group_material_is(id))
    }
    fn attachments_kept(&self, n: &usize) -> String {
        self.ctx
            .tr
            .fill("journeys.attachments_kept", &[("n", &n.to_string())])
    }
    fn general_error(&self) -> Option<&str> {
        self.error
            .as_ref()
            .filter(|e| !FIELDS.contains(&e.field.as_str()))
            .map(|e| e.message.as_str())
    }
    fn error_detail(&self) -> Option<&str> {
        self.error.as_ref().and_then(|e| e.detail.as_deref())
    }
    fn row_invalid(&self, i: &usize) -> bool {
        self.error
            .as_ref()
            .is_some_and(|e| e.field == "steps" && e.step == Some(i + 1))
    }
    fn action(&self) -> String {
        match self.id {
            Some(id) => format!("{}/edit", detail_path(id)),
            None => format!("{LIST_PATH}/new"),
        }
    }
    fn back(&self) -> String {
        match self.id {
            Some(id) => detail_path(id),
            None => LIST_PATH.to_owned(),
        }
    }
    fn trigger_kinds(&self) -> Vec<(&'static str, String)> {
        TRIGGER_KINDS
            .iter()
            .map(|k| (*k, label(self.ctx.tr, "journey.trigger.", k)))
            .collect()
    }
    fn step_kinds(&self) -> Vec<(&'static str, String)> {
        STEP_KINDS
            .iter()
            .map(|k| (*k, label(self.ctx.tr, "journey.step.", k)))
            .collect()
    }
    fn weekdays(&self) -> Vec<(u8, String)> {
        (1..=7u8)
            .map(|d| (d, label(self.ctx.tr, "journey.weekday.", &d.to_string())))
            .collect()
    }
    fn attributes(&self) -> Vec<(&'static str, String)> {
        ["birthday", "first_order"]
            .iter()
            .map(|a| (*a, label(self.ctx.tr, "journey.attr.", a)))
            .collect()
    }
    /// The units a row offers (seconds only to a wait already in seconds).
    fn units(&self, row: &StepForm) -> Vec<(&'static str, &'static str)> {
        UNITS
            .iter()
            .filter(|(u, _)| *u != "second" || row.unit_is("second"))
            .map(|(u, _)| (*u, self.ctx.tr.t(&format!("journeys.unit.{u}"))))
            .collect()
    }
    /// The coupon templates a step may issue (not archived).
    fn template_choices(&self) -> Vec<(i64, &str)> {
        self.cat
            .templates
            .iter()
            .filter(|(_, _, ok)| *ok)
            .map(|(id, name, _)| (*id, name.as_str()))
            .collect()
    }
    /// The materials a task may carry (active).
    fn material_choices(&self) -> Vec<(i64, &str)> {
        self.cat
            .materials
            .iter()
            .filter(|(_, _, ok)| *ok)
            .map(|(id, name, _)| (*id, name.as_str()))
            .collect()
    }
    fn has_tag(&self, row: &StepForm) -> bool {
        self.cat
            .tag_groups
            .iter()
            .any(|g| g.tags.iter().any(|(id, _)| row.tag_is(id)))
    }
    fn has_template(&self, row: &StepForm) -> bool {
        self.cat
            .templates
            .iter()
            .any(|(id, _, ok)| *ok && row.template_is(id))
    }
    fn has_material(&self, row: &StepForm) -> bool {
        self.cat
            .materials
            .iter()
            .any(|(id, _, ok)| *ok && row.material_is(id))
    }
    fn step_title(&self, i: &usize) -> String {
        self.ctx
            .tr
            .fill("journeys.step_n", &[("n", &(i + 1).to_string())])
    }
    /// The jump help: which number is the end.
    fn jump_help(&self) -> String {
        self.ctx.tr.fill(
            "journeys.jump_help",
            &[("end", &(self.form.steps.len() + 1).to_string())],
        )
    }
}

/// The event kinds a journey can start on, labelled.
fn event_choices(tr: Tr) -> Vec<(String, String)> {
    EventKind::CLIENT
        .into_iter()
        .chain(EventKind::SYSTEM)
        .map(|k| k.as_str())
        .chain(EXTRA_EVENT_KINDS)
        .map(|k| (k.to_owned(), label(tr, "event.", k)))
        .collect()
}

async fn editor_page(
    s: &AppState,
    mut c: Console,
    id: Option<i64>,
    form: JourneyForm,
    status: StatusCode,
    error: Option<PageError>,
) -> Response {
    c.ctx.active = ACTIVE;
    if !can_edit(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let cat = Catalogue::load(s, &c).await;
    let groups = s
        .app
        .messaging()
        .group_choices(&c.session.actor)
        .await
        .unwrap_or_default();
    render(
        status,
        &EditorPage {
            events: event_choices(c.ctx.tr),
            ctx: c.ctx,
            id,
            form,
            error,
            cat,
            groups,
        },
    )
}

/// The editor's query: a trigger kind to start from (the calendar's 新建群SOP).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewQuery {
    trigger: String,
}

pub async fn new(
    State(s): State<AppState>,
    c: Console,
    ConsoleQuery(q): ConsoleQuery<NewQuery>,
) -> Response {
    let mut form = JourneyForm::default();
    if TRIGGER_KINDS.contains(&q.trigger.as_str()) {
        form.trigger = q.trigger;
    }
    editor_page(&s, c, None, form, StatusCode::OK, None).await
}

pub async fn edit(State(s): State<AppState>, c: Console, IdPath(id): IdPath) -> Response {
    if !can_edit(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let d = match s.app.journeys().get(&c.session.actor, id).await {
        Ok(d) => d,
        Err(e) => return error_page(c.ctx, e),
    };
    if d.journey.status == "archived" {
        return error_page(
            c.ctx,
            AppError::Rule {
                code: "journey_state",
                message: "an archived journey is not edited".into(),
            },
        );
    }
    let form = JourneyForm::of(&d.journey.name, &d.journey.definition);
    editor_page(&s, c, Some(id), form, StatusCode::OK, None).await
}

/// 添加步骤 (the form again with one more row) or 保存 (create, or a new version).
async fn submit(s: &AppState, c: Console, id: Option<i64>, pairs: &[(String, String)]) -> Response {
    if !can_edit(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let (mut f, op) = JourneyForm::from_pairs(pairs);
    f.compact();
    if op == "add" {
        if f.steps.len() < MAX_STEPS {
            f.steps.push(StepForm::blank());
        }
        f.focus = Some(f.steps.len() - 1);
        return editor_page(s, c, id, f, StatusCode::OK, None).await;
    }
    let a = &c.session.actor;
    let saved = match f.parse(s.app.now()) {
        Ok(input) => match id {
            None => s.app.journeys().create(a, &input).await,
            Some(id) => s.app.journeys().update(a, id, &input).await,
        },
        Err(e) => Err(e),
    };
    match saved {
        Ok(d) => {
            let done = if id.is_some() { "saved" } else { "created" };
            see_other(&format!("{}?done={done}", detail_path(d.journey.id)))
        }
        Err(e @ (AppError::Forbidden | AppError::NotFound { .. })) => error_page(c.ctx, e),
        Err(e) => {
            let (status, err) = page_error(c.ctx.tr, e, Some(&f));
            if f.steps.is_empty() {
                f.steps.push(StepForm::blank());
            }
            editor_page(s, c, id, f, status, Some(err)).await
        }
    }
}

pub async fn create(
    State(s): State<AppState>,
    ConsoleForm(c, pairs): ConsoleForm<Vec<(String, String)>>,
) -> Response {
    submit(&s, c, None, &pairs).await
}

pub async fn update(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, pairs): ConsoleForm<Vec<(String, String)>>,
) -> Response {
    submit(&s, c, Some(id), &pairs).await
}

// ---------------------------------------------------------------- one journey

/// A journey page's query: what was just done, and whose trace to show.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DetailQuery {
    /// `created`, `saved`, `activated`, `paused` or `archived`.
    done: Option<String>,
    /// A customer id (as typed: a bad one is said on the page).
    customer_id: String,
}

/// A step as the page shows it, with its live counts.
pub struct StepLine {
    /// From 1; `None` for the end.
    number: Option<usize>,
    kind: String,
    kind_label: String,
    summary: String,
    /// An expression or a signal, shown as code.
    code: Option<String>,
    /// A message's, a notification's or a task's text.
    text: Option<String>,
    waiting: i64,
    sending: i64,
    outcomes: Vec<(String, String, i64)>,
}

/// One piece of a trace line's detail; `href` links it, `code` shows it as code.
pub struct Part {
    label: String,
    value: String,
    href: Option<String>,
    code: bool,
}

/// A trace line as shown.
pub struct TraceRow {
    at: String,
    step: String,
    kind: String,
    kind_label: String,
    outcome: String,
    outcome_label: String,
    parts: Vec<Part>,
}

/// One run of the customer's, with its lines.
pub struct RunBlock {
    id: i64,
    version: i64,
    state: String,
    state_label: String,
    cause: String,
    entered_at: String,
    ended_at: String,
    /// The step it is at (from 1), while in flight.
    at_step: Option<i64>,
    reason: String,
    lines: Vec<TraceRow>,
}

/// A recent run, linking to its customer's trace.
pub struct RecentRun {
    customer_id: i64,
    version: i64,
    state: String,
    state_label: String,
    entered_at: String,
    at_step: Option<i64>,
}

/// Recent runs the page lists when no customer is asked for, at most.
const RECENT_SHOWN: usize = 20;
/// Group names a group SOP's page lists, at most (the rest are counted).
const GROUP_NAMES_SHOWN: usize = 30;

/// A group SOP on its page: how it posts, to which groups, and its latest posts.
pub struct GroupView {
    delivery: String,
    delivery_label: String,
    /// 3 个群, or 全部客户群.
    groups: String,
    /// The groups' names, as far as the caller may list them (ids otherwise).
    names: Vec<String>,
    /// Groups beyond the names shown.
    more: usize,
    /// The group message's text and what it carries (the material in words).
    text: String,
    material: Option<String>,
    attachments: usize,
    sends: Vec<SendLine>,
}

/// One post of a group SOP.
pub struct SendLine {
    at: String,
    version: i64,
    delivery: String,
    delivery_label: String,
    groups: i64,
    skipped: i64,
    tasks: i64,
    message_id: Option<i64>,
}

/// A group SOP's page part; `None` for a customer journey.
async fn group_view(
    s: &AppState,
    c: &Console,
    names: &Names,
    d: &JourneyDetail,
) -> Option<GroupView> {
    let tr = c.ctx.tr;
    let Trigger::GroupSchedule {
        group_ids,
        all_groups,
        ..
    } = &d.journey.definition.trigger
    else {
        return None;
    };
    let (delivery, text, material, attachments) = match d.journey.definition.steps.first() {
        Some(Step::GroupMessage {
            text,
            attachments,
            material_id,
            delivery,
        }) => (
            delivery.as_str(),
            text.clone(),
            material_id.map(|m| tr.fill("journeys.sum.material", &[("name", &names.material(m))])),
            attachments.len(),
        ),
        _ => ("", String::new(), None, 0),
    };
    let mut group_names = Vec::new();
    if !all_groups {
        // Named as the caller's group picker names them; an id for one it does not list.
        let choices: HashMap<i64, String> = s
            .app
            .messaging()
            .group_choices(&c.session.actor)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|g| (g.id, g.name))
            .collect();
        group_names = group_ids
            .iter()
            .take(GROUP_NAMES_SHOWN)
            .map(|id| match choices.get(id) {
                Some(n) if !n.is_empty() => n.clone(),
                _ => format!("#{id}"),
            })
            .collect();
    }
    Some(GroupView {
        delivery: delivery.to_owned(),
        delivery_label: delivery_label(tr, delivery),
        groups: groups_words(tr, group_ids, *all_groups),
        more: group_ids.len().saturating_sub(group_names.len()),
        names: group_names,
        text,
        material,
        attachments,
        sends: d
            .group_sends
            .iter()
            .map(|r| SendLine {
                at: minute(r.occurrence_at),
                version: r.version,
                delivery_label: delivery_label(tr, &r.delivery),
                delivery: r.delivery.clone(),
                groups: r.groups,
                skipped: r.skipped,
                tasks: r.tasks,
                message_id: r.message_id,
            })
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "console/journeys_detail.html")]
struct DetailPage {
    ctx: Ctx,
    d: JourneyDetail,
    can_edit: bool,
    trigger: String,
    entry: String,
    quiet: String,
    steps: Vec<StepLine>,
    notice: Option<&'static str>,
    problem: Option<String>,
    customer_id: String,
    runs: Option<Vec<RunBlock>>,
    trace_error: Option<&'static str>,
    recent: Vec<RecentRun>,
    /// A group SOP's part (it has no runs and no trace).
    group: Option<GroupView>,
}

impl DetailPage {
    fn attachments_kept(&self, n: &usize) -> String {
        self.ctx
            .tr
            .fill("journeys.attachments_count", &[("n", &n.to_string())])
    }
    fn group_names(&self, g: &GroupView) -> String {
        let mut s = g.names.join(self.ctx.tr.t("journeys.list_sep"));
        if g.more > 0 {
            s.push_str(
                &self
                    .ctx
                    .tr
                    .fill("journeys.more_groups", &[("n", &g.more.to_string())]),
            );
        }
        s
    }
    fn tasks_made(&self, n: &i64) -> String {
        tasks_made(self.ctx.tr, *n)
    }
    fn view_message(&self, id: &i64) -> String {
        view_message(self.ctx.tr, *id)
    }
    fn status_label(&self) -> String {
        label(self.ctx.tr, "journey.status.", &self.d.journey.status)
    }
    fn status_class(&self) -> &'static str {
        status_class(&self.d.journey.status)
    }
    fn trigger_kind(&self) -> String {
        label(
            self.ctx.tr,
            "journey.trigger.",
            self.d.journey.definition.trigger.kind(),
        )
    }
    /// The trigger's segment expression (a schedule's audience, a segment trigger's).
    fn trigger_expression(&self) -> Option<&str> {
        self.d.journey.definition.trigger.expression()
    }
    fn next_fire(&self) -> String {
        match self.d.journey.next_fire_at {
            Some(at) if self.d.journey.status == "active" => minute(at),
            _ => "-".to_owned(),
        }
    }
    fn minute(&self, ms: &i64) -> String {
        minute(*ms)
    }
    fn run_title(&self, n: &usize) -> String {
        self.ctx.tr.fill("journeys.run_n", &[("n", &n.to_string())])
    }
    fn can_activate(&self) -> bool {
        self.can_edit && matches!(self.d.journey.status.as_str(), "draft" | "paused")
    }
    fn can_pause(&self) -> bool {
        self.can_edit && self.d.journey.status == "active"
    }
    fn can_change(&self) -> bool {
        self.can_edit && self.d.journey.status != "archived"
    }
    fn run_states(&self) -> Vec<(&'static str, String, i64)> {
        let r = &self.d.journey.runs;
        [
            ("active", r.active),
            ("sending", r.sending),
            ("done", r.done),
            ("exited", r.exited),
            ("failed", r.failed),
        ]
        .into_iter()
        .map(|(s, n)| (s, label(self.ctx.tr, "journey.run.", s), n))
        .collect()
    }
}

/// A step in words: what it does, its code and its text.
fn step_line(
    tr: Tr,
    names: &Names,
    step: &Step,
    n: usize,
) -> (String, Option<String>, Option<String>) {
    match step {
        Step::Wait { seconds } => (
            tr.fill("journeys.sum.wait", &[("d", &duration(tr, *seconds))]),
            None,
            None,
        ),
        Step::WaitUntil { time } => (
            tr.fill("journeys.sum.wait_until", &[("time", &hhmm(*time))]),
            None,
            None,
        ),
        Step::Branch {
            expression,
            else_step,
        } => (
            tr.fill("journeys.sum.branch", &[("else", &jump(tr, *else_step, n))]),
            Some(expression.clone()),
            None,
        ),
        Step::Goto { step } => (jump(tr, *step, n), None, None),
        Step::Tag { tag_id } | Step::Untag { tag_id } => (names.tag(*tag_id), None, None),
        Step::Coupon { template_id } => (names.template(*template_id), None, None),
        Step::Task {
            title,
            body,
            material_id,
            due_hours,
        } => {
            let mut s = tr.fill(
                "journeys.sum.task",
                &[("title", title), ("h", &due_hours.to_string())],
            );
            if let Some(m) = material_id {
                s.push_str(&tr.fill("journeys.sum.material", &[("name", &names.material(*m))]));
            }
            (s, None, (!body.is_empty()).then(|| body.clone()))
        }
        Step::Message { text, .. } | Step::Notify { text } => {
            (String::new(), None, Some(text.clone()))
        }
        Step::GroupMessage {
            text,
            material_id,
            delivery,
            ..
        } => {
            let mut s = delivery_label(tr, delivery.as_str());
            if let Some(m) = material_id {
                s.push_str(&tr.fill("journeys.sum.material", &[("name", &names.material(*m))]));
            }
            (s, None, Some(text.clone()))
        }
        Step::Webhook { signal } => (
            tr.t("journeys.sum.webhook").to_owned(),
            Some(signal.clone()),
            None,
        ),
    }
}

/// Outcome counts in their order, labelled.
fn outcome_counts(tr: Tr, counts: &HashMap<String, i64>) -> Vec<(String, String, i64)> {
    // A run's entry is traced at the first step; it is not something the step did.
    let mut v: Vec<(&String, &i64)> = counts
        .iter()
        .filter(|(o, n)| **n > 0 && o.as_str() != "entered")
        .collect();
    let rank = |o: &str| {
        OUTCOMES
            .iter()
            .position(|x| *x == o)
            .unwrap_or(OUTCOMES.len())
    };
    v.sort_by(|a, b| rank(a.0).cmp(&rank(b.0)).then_with(|| a.0.cmp(b.0)));
    v.into_iter()
        .map(|(o, n)| (o.clone(), label(tr, "journey.outcome.", o), *n))
        .collect()
}

/// Why a run entered: `event:12` → 事件 #12, `schedule:ms` → 定时 …, `date:day`, `segment:ms`.
fn cause_text(tr: Tr, cause: &str) -> String {
    let Some((kind, rest)) = cause.split_once(':') else {
        return cause.to_owned();
    };
    let n = rest.parse::<i64>().ok();
    match (kind, n) {
        ("event", Some(id)) => tr.fill("journeys.cause.event", &[("id", &id.to_string())]),
        ("schedule", Some(ms)) => tr.fill("journeys.cause.schedule", &[("at", &minute(ms))]),
        ("segment", Some(ms)) => tr.fill("journeys.cause.segment", &[("at", &minute(ms))]),
        ("date", Some(day)) => {
            let (y, m, d) = yutang_core::messaging::civil_from_days(day);
            tr.fill(
                "journeys.cause.date",
                &[("day", &format!("{y}-{m:02}-{d:02}"))],
            )
        }
        _ => cause.to_owned(),
    }
}

fn reason_text(tr: Tr, reason: &str) -> String {
    label(tr, "journey.reason.", reason)
}

/// A trace line's detail as parts (a mass message links to its page).
fn detail_parts(tr: Tr, names: &Names, detail: &serde_json::Value) -> Vec<Part> {
    let serde_json::Value::Object(map) = detail else {
        return Vec::new();
    };
    let part = |key: &str, value: String| Part {
        label: label(tr, "field.", key),
        value,
        href: None,
        code: false,
    };
    let mut out = Vec::new();
    for (key, v) in map {
        let num = v.as_i64();
        let p = match (key.as_str(), num) {
            ("until", Some(ms)) => part(key, minute(ms)),
            ("matched", _) => part(
                key,
                label(tr, "bool.", &v.as_bool().unwrap_or(false).to_string()),
            ),
            ("tag_id", Some(id)) => part("tag", names.tag(id)),
            ("template_id", Some(id)) => part("template", names.template(id)),
            ("mass_message_id", Some(id)) => Part {
                href: Some(format!("/console/messages/{id}")),
                ..part(key, format!("#{id}"))
            },
            ("task_id", Some(id)) => Part {
                label: tr.t("journeys.task_ref").to_owned(),
                ..part(key, format!("#{id}"))
            },
            ("reason", _) => part(key, reason_text(tr, v.as_str().unwrap_or_default())),
            ("cause", _) => part(key, cause_text(tr, v.as_str().unwrap_or_default())),
            ("signal", _) => Part {
                code: true,
                ..part(key, v.as_str().unwrap_or_default().to_owned())
            },
            (_, Some(id)) if key.ends_with("_id") => part(key, format!("#{id}")),
            (_, _) => part(
                key,
                match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
            ),
        };
        out.push(p);
    }
    out
}

fn run_block(tr: Tr, names: &Names, r: RunTrace) -> RunBlock {
    let run = r.run;
    let lines = r
        .trace
        .into_iter()
        .map(|l| TraceRow {
            at: Millis(l.at).to_shanghai_string(),
            step: match l.kind.as_str() {
                "entry" => "-".to_owned(),
                "end" => tr.t("journeys.end").to_owned(),
                _ => (l.step + 1).to_string(),
            },
            kind_label: label(tr, "journey.step.", &l.kind),
            outcome_label: label(tr, "journey.outcome.", &l.outcome),
            parts: detail_parts(tr, names, &l.detail),
            kind: l.kind,
            outcome: l.outcome,
        })
        .collect();
    let in_flight = matches!(run.state.as_str(), "active" | "sending");
    RunBlock {
        id: run.id,
        version: run.version,
        state_label: label(tr, "journey.run.", &run.state),
        cause: cause_text(tr, &run.cause),
        entered_at: minute(run.entered_at),
        ended_at: run.ended_at.map_or_else(|| "-".to_owned(), minute),
        at_step: in_flight.then_some(run.step + 1),
        reason: if run.reason.is_empty() {
            String::new()
        } else {
            reason_text(tr, &run.reason)
        },
        state: run.state,
        lines,
    }
}

async fn detail_page(
    s: &AppState,
    mut c: Console,
    id: i64,
    q: &DetailQuery,
    status: StatusCode,
    problem: Option<String>,
) -> Response {
    c.ctx.active = ACTIVE;
    let a = &c.session.actor;
    let d = match s.app.journeys().get(a, id).await {
        Ok(d) => d,
        Err(e) => return error_page(c.ctx, e),
    };
    let tr = c.ctx.tr;
    let names = Catalogue::load(s, &c).await.names();
    let def = &d.journey.definition;
    let n = def.steps.len();
    let mut steps: Vec<StepLine> = def
        .steps
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let (summary, code, text) = step_line(tr, &names, step, n);
            let view = d.steps.get(i);
            StepLine {
                number: Some(i + 1),
                kind: step.kind().to_owned(),
                kind_label: label(tr, "journey.step.", step.kind()),
                summary,
                code,
                text,
                waiting: view.map_or(0, |v| v.waiting),
                sending: view.map_or(0, |v| v.sending),
                outcomes: view.map_or_else(Vec::new, |v| outcome_counts(tr, &v.outcomes)),
            }
        })
        .collect();
    // The end: runs past the last step still waiting (a wait was last), and those done.
    let waiting: i64 = d.steps.iter().map(|s| s.waiting).sum();
    let mut done = HashMap::new();
    done.insert("done".to_owned(), d.journey.runs.done);
    let end = "end";
    steps.push(StepLine {
        number: None,
        kind: end.into(),
        kind_label: label(tr, "journey.step.", end),
        summary: String::new(),
        code: None,
        text: None,
        waiting: (d.journey.runs.active - waiting).max(0),
        sending: 0,
        outcomes: outcome_counts(tr, &done),
    });
    let group = group_view(s, &c, &names, &d).await;
    let customer_id = q.customer_id.trim().to_owned();
    let (mut runs, mut trace_error, mut recent) = (None, None, Vec::new());
    if group.is_some() {
        // A group SOP enrols no customer: no runs to list, no trace.
    } else if customer_id.is_empty() {
        // The latest runs (of customers the caller sees), each linking to its trace.
        if let Ok(r) = s.app.journeys().trace(a, id, None).await {
            recent = r
                .into_iter()
                .take(RECENT_SHOWN)
                .map(|t| {
                    let run = t.run;
                    RecentRun {
                        customer_id: run.customer_id,
                        version: run.version,
                        state_label: label(tr, "journey.run.", &run.state),
                        entered_at: minute(run.entered_at),
                        at_step: matches!(run.state.as_str(), "active" | "sending")
                            .then_some(run.step + 1),
                        state: run.state,
                    }
                })
                .collect();
        }
    } else {
        match customer_id.parse::<i64>() {
            Ok(cid) => match s.app.journeys().trace(a, id, Some(cid)).await {
                Ok(r) => runs = Some(r.into_iter().map(|r| run_block(tr, &names, r)).collect()),
                Err(e) => trace_error = Some(form_error(tr, e).1.message),
            },
            Err(_) => trace_error = Some(tr.error("invalid_number")),
        }
    }
    let notice = match q.done.as_deref() {
        Some("created") => Some(tr.t("journeys.done.created")),
        Some("saved") => Some(tr.t("journeys.done.saved")),
        Some("activated") => Some(tr.t("journeys.done.activated")),
        Some("paused") => Some(tr.t("journeys.done.paused")),
        Some("archived") => Some(tr.t("journeys.done.archived")),
        _ => None,
    };
    render(
        status,
        &DetailPage {
            can_edit: can_edit(&c),
            trigger: trigger_summary(tr, &def.trigger),
            entry: entry_summary(tr, def.entry),
            quiet: quiet_summary(tr, def.quiet_hours),
            ctx: c.ctx,
            steps,
            d,
            notice,
            problem,
            customer_id,
            runs,
            trace_error,
            recent,
            group,
        },
    )
}

pub async fn show(
    State(s): State<AppState>,
    c: Console,
    IdPath(id): IdPath,
    ConsoleQuery(q): ConsoleQuery<DetailQuery>,
) -> Response {
    detail_page(&s, c, id, &q, StatusCode::OK, None).await
}

/// After a button: forbidden and not found as the error page; another refusal (the state
/// does not allow it, a step refers to something gone) on the journey's page.
async fn refused(s: &AppState, c: Console, id: i64, e: AppError) -> Response {
    if matches!(e, AppError::Forbidden | AppError::NotFound { .. }) {
        return error_page(c.ctx, e);
    }
    let (status, err) = page_error(c.ctx.tr, e, None);
    detail_page(s, c, id, &DetailQuery::default(), status, Some(err.message)).await
}

/// 启用: a draft starts, a paused journey resumes.
pub async fn activate(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s.app.journeys().activate(&c.session.actor, id).await {
        Ok(_) => see_other(&format!("{}?done=activated", detail_path(id))),
        Err(e) => refused(&s, c, id, e).await,
    }
}

/// 暂停: nobody new enters; runs in flight wait where they are.
pub async fn pause(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s.app.journeys().pause(&c.session.actor, id).await {
        Ok(_) => see_other(&format!("{}?done=paused", detail_path(id))),
        Err(e) => refused(&s, c, id, e).await,
    }
}

/// The console's confirmation page (`console/confirm.html`), for 归档.
#[derive(Template)]
#[template(path = "console/confirm.html")]
struct ArchiveConfirm {
    ctx: Ctx,
    title: String,
    subject: String,
    impact: Vec<String>,
    outcome: &'static str,
    action: String,
    button: &'static str,
    back: String,
}

/// Confirm archiving: the runs in flight leave it.
pub async fn archive_confirm(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    mut c: Console,
) -> Response {
    c.ctx.active = ACTIVE;
    if !can_edit(&c) {
        return error_page(c.ctx, AppError::Forbidden);
    }
    let d = match s.app.journeys().get(&c.session.actor, id).await {
        Ok(d) => d,
        Err(e) => return error_page(c.ctx, e),
    };
    let tr = c.ctx.tr;
    let in_flight = d.journey.runs.active + d.journey.runs.sending;
    let first = if matches!(d.journey.definition.trigger, Trigger::GroupSchedule { .. }) {
        tr.t("journeys.archive_group").to_owned()
    } else {
        tr.fill(
            "journeys.archive_runs",
            &[("n", &super::confirm::grouped(in_flight))],
        )
    };
    let page = ArchiveConfirm {
        title: tr.t("journeys.archive_title").to_owned(),
        subject: tr.fill("journeys.archive_subject", &[("name", &d.journey.name)]),
        impact: vec![first, tr.t("journeys.archive_kept").to_owned()],
        outcome: "archive",
        action: format!("{}/archive", detail_path(id)),
        button: tr.t("journeys.archive"),
        back: detail_path(id),
        ctx: c.ctx,
    };
    render(StatusCode::OK, &page)
}

/// 归档: runs in flight exit; the journey is kept for its counts.
pub async fn archive(
    State(s): State<AppState>,
    IdPath(id): IdPath,
    ConsoleForm(c, _): ConsoleForm<CsrfForm>,
) -> Response {
    match s.app.journeys().archive(&c.session.actor, id).await {
        Ok(_) => see_other(&format!("{}?done=archived", detail_path(id))),
        Err(e) => refused(&s, c, id, e).await,
    }
}

// ---------------------------------------------------------------- the calendar

/// The calendar's query: any day of the week to show (as typed: a bad one is said on the
/// page, which then shows this week).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CalendarQuery {
    week: String,
}

/// A day of the calendar as shown.
pub struct DayView {
    /// `YYYY-MM-DD`.
    date: String,
    /// `MM-DD`.
    short: String,
    weekday: u8,
    weekday_label: String,
    today: bool,
    entries: Vec<CalendarEntry>,
}

#[derive(Template)]
#[template(path = "console/journeys_calendar.html")]
struct CalendarPage {
    ctx: Ctx,
    /// The Monday shown, and its neighbours (`YYYY-MM-DD`).
    week: String,
    prev_week: String,
    next_week: String,
    /// The Monday of the week holding today.
    this_week: String,
    /// The Sunday shown.
    sunday: String,
    days: Vec<DayView>,
    /// A `week` that did not read (this week is shown instead).
    error: Option<&'static str>,
    /// What was typed, kept in the date box.
    typed: String,
    can_edit: bool,
    now: i64,
}

impl CalendarPage {
    fn empty(&self) -> bool {
        self.days.iter().all(|d| d.entries.is_empty())
    }
    /// An occurrence gone by with nothing posted for it (before the schedule existed or was
    /// started, while it was paused, or a customer schedule's): shown faded.
    fn is_past(&self, e: &CalendarEntry) -> bool {
        e.at <= self.now && e.sent.is_none()
    }
    fn is_this_week(&self) -> bool {
        self.week == self.this_week
    }
    fn week_href(&self, week: &str) -> String {
        format!("{CALENDAR_PATH}?week={week}")
    }
    fn kind_label(&self, e: &CalendarEntry) -> &'static str {
        if e.trigger_kind == "group_schedule" {
            self.ctx.tr.t("journeys.cal.group")
        } else {
            self.ctx.tr.t("journeys.cal.customers")
        }
    }
    fn delivery_label(&self, d: &str) -> String {
        delivery_label(self.ctx.tr, d)
    }
    fn status_label(&self, st: &str) -> String {
        label(self.ctx.tr, "journey.status.", st)
    }
    fn tasks_made(&self, n: &i64) -> String {
        tasks_made(self.ctx.tr, *n)
    }
    fn view_message(&self, id: &i64) -> String {
        view_message(self.ctx.tr, *id)
    }
    fn range(&self) -> String {
        self.ctx.tr.fill(
            "journeys.week_range",
            &[("from", &self.week), ("to", &self.sunday)],
        )
    }
    fn groups_posted(&self, n: &i64) -> String {
        self.ctx
            .tr
            .fill("journeys.n_groups", &[("n", &n.to_string())])
    }
}

/// 群SOP日历: a week, Monday to Sunday, of every active or paused schedule's occurrences —
/// group SOPs and customer schedules — each with the post made for it once made.
pub async fn calendar(
    State(s): State<AppState>,
    mut c: Console,
    ConsoleQuery(q): ConsoleQuery<CalendarQuery>,
) -> Response {
    use yutang_core::journeys::{day_text, week_of};
    c.ctx.active = ACTIVE;
    let tr = c.ctx.tr;
    let a = &c.session.actor;
    let typed = q.week.trim().to_owned();
    let asked = (!typed.is_empty()).then_some(typed.as_str());
    let journeys = s.app.journeys();
    let (w, status, error): (CalendarWeek, StatusCode, Option<&'static str>) =
        match journeys.calendar(a, asked).await {
            Ok(w) => (w, StatusCode::OK, None),
            Err(e @ AppError::Invalid(_)) if asked.is_some() => {
                let (status, fe) = form_error(tr, e);
                match journeys.calendar(a, None).await {
                    Ok(w) => (w, status, Some(fe.message)),
                    Err(e) => return error_page(c.ctx, e),
                }
            }
            Err(e) => return error_page(c.ctx, e),
        };
    let now = s.app.now();
    let today = day_text(yutang_core::messaging::shanghai_day(now));
    let this_week = week_of(None, now).map(day_text).unwrap_or_default();
    let sunday = w.days.last().map(|d| d.date.clone()).unwrap_or_default();
    let days = w
        .days
        .into_iter()
        .map(|d| DayView {
            short: d.date.get(5..).unwrap_or_default().to_owned(),
            weekday_label: label(tr, "journey.weekday.", &d.weekday.to_string()),
            today: d.date == today,
            weekday: d.weekday,
            date: d.date,
            entries: d.entries,
        })
        .collect();
    render(
        status,
        &CalendarPage {
            can_edit: can_edit(&c),
            ctx: c.ctx,
            week: w.week,
            prev_week: w.prev_week,
            next_week: w.next_week,
            this_week,
            sunday,
            days,
            error,
            typed: if error.is_some() {
                typed
            } else {
                String::new()
            },
            now,
        },
    )
}

// ---------------------------------------------------------------- texts

/// The pages' own texts (`journeys.…`; the codes' labels are `journey.…` in `labels`).
pub(crate) fn text(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "journeys.nav" => ("自动化旅程", "Journeys"),
        "journeys.title" => ("自动化旅程", "Customer journeys"),
        "journeys.intro" => (
            "旅程由一个触发（事件、定时、客户日期、进出人群）让客户进入，再按步骤等待、分支、打标签、发券、派导购任务、群发消息、通知导购或发出信号；群发的频次上限和退订规则照常生效。",
            "A trigger (an event, a schedule, a customer date, entering or leaving a segment) enrols customers, who then walk the steps: wait, branch, tag, issue a coupon, give the guide a task, send a message, notify the guide or send a signal. The mass messages' caps and opt-outs apply.",
        ),
        "journeys.new" => ("新建旅程", "New journey"),
        "journeys.back" => ("返回自动化旅程", "Back to journeys"),
        "journeys.empty" => ("还没有旅程。", "No journey yet."),
        "journeys.name" => ("名称", "Name"),
        "journeys.status" => ("状态", "Status"),
        "journeys.trigger" => ("触发", "Trigger"),
        "journeys.in_flight" => ("进行中的客户", "Customers in flight"),
        "journeys.finished" => ("已走完", "Finished"),
        "journeys.next_fire" => ("下次触发", "Next run"),
        "journeys.updated_at" => ("更新时间", "Updated"),
        "journeys.created_at" => ("创建时间", "Created"),
        "journeys.paused_reason" => ("暂停原因", "Paused because"),
        "journeys.list_sep" => ("、", ", "),
        // Triggers, entry rules and steps in words.
        "journeys.sum.event" => ("事件：{event}", "Event: {event}"),
        "journeys.sum.once" => ("定时一次：{at}", "Once at {at}"),
        "journeys.sum.daily" => ("每天 {time}", "Every day at {time}"),
        "journeys.sum.weekly" => ("每{days} {time}", "Every {days} at {time}"),
        "journeys.sum.date_on" => ("{attr}当天 {time}", "{attr}, on the day, at {time}"),
        "journeys.sum.date_before" => (
            "{attr}前 {n} 天 {time}",
            "{attr}, {n} days before, at {time}",
        ),
        "journeys.sum.date_after" => (
            "{attr}后 {n} 天 {time}",
            "{attr}, {n} days after, at {time}",
        ),
        "journeys.sum.cooldown" => ("冷却 {n} 天后可再次进入", "Again {n} days after entering"),
        "journeys.sum.reentry" => (
            "可重复进入（上一轮走完后）",
            "Every time (once the last run has ended)",
        ),
        "journeys.quiet_none" => ("不设免打扰", "None"),
        "journeys.sum.wait" => ("等待 {d}", "Wait {d}"),
        "journeys.sum.wait_until" => ("等到下一个 {time}", "Until the next {time}"),
        "journeys.sum.branch" => (
            "符合以下条件则继续下一步，否则{else}：",
            "Go on when the customer matches, else {else}:",
        ),
        "journeys.sum.task" => ("「{title}」，{h} 小时内完成", "“{title}”, due in {h} hours"),
        "journeys.sum.material" => ("，附素材「{name}」", ", with the material “{name}”"),
        "journeys.sum.webhook" => (
            "在客户时间线记一条「自动化旅程信号」，订阅它的 Webhook 会收到：",
            "A journey signal on the customer's timeline, delivered to the webhooks subscribed to it:",
        ),
        "journeys.to_end" => ("跳到结束", "go to the end"),
        "journeys.to_step" => ("跳到第 {n} 步", "go to step {n}"),
        "journeys.end" => ("结束", "End"),
        "journeys.unit" => ("单位", "Unit"),
        "journeys.unit.second" => ("秒", "seconds"),
        "journeys.unit.minute" => ("分钟", "minutes"),
        "journeys.unit.hour" => ("小时", "hours"),
        "journeys.unit.day" => ("天", "days"),
        "journeys.cause.event" => ("事件 #{id}", "Event #{id}"),
        "journeys.cause.schedule" => ("定时触发（{at}）", "Schedule ({at})"),
        "journeys.cause.segment" => ("人群变化（{at}）", "Segment change ({at})"),
        "journeys.cause.date" => ("客户日期（{day}）", "Customer date ({day})"),
        "journeys.task_ref" => ("导购待办", "Guide task"),
        // The editor.
        "journeys.new_title" => ("新建旅程", "New journey"),
        "journeys.edit_title" => ("编辑旅程", "Edit the journey"),
        "journeys.name_help" => (
            "仅用于后台识别，客户看不到；最多 40 个字。",
            "For the console only, customers do not see it; at most 40 characters.",
        ),
        "journeys.trigger_kind" => ("触发方式", "Trigger kind"),
        "journeys.event" => ("事件", "Event"),
        "journeys.event_help" => (
            "客户时间线上每发生一次该事件，客户就进入旅程（按进入规则）。",
            "Each such event on a customer's timeline enrols the customer (as the entry rule allows).",
        ),
        "journeys.schedule_weekly" => ("每周固定时间", "Weekly"),
        "journeys.schedule_once" => ("指定时间一次", "Once"),
        "journeys.time" => ("时间（北京时间）", "Time (Asia/Shanghai)"),
        "journeys.schedule_at" => ("触发时间（北京时间）", "When (Asia/Shanghai)"),
        "journeys.audience" => ("目标人群（分群表达式）", "Audience (segment expression)"),
        "journeys.audience_help" => (
            "到时间时符合条件的客户进入旅程。",
            "The customers matching it at that time enter.",
        ),
        "journeys.segment_builder" => ("在人群编辑器中编写", "Write it in the segment builder"),
        "journeys.date_attribute" => ("客户日期", "Customer date"),
        "journeys.offset_days" => ("相差天数", "Days from the date"),
        "journeys.offset_help" => (
            "0 为当天，-3 为提前 3 天，7 为之后 7 天（−30 到 366）。",
            "0 is the day itself, -3 three days before, 7 seven days after (−30 to 366).",
        ),
        "journeys.expression" => ("人群条件", "Segment expression"),
        "journeys.segment_help" => (
            "每分钟比对一次：新符合（进入人群）或不再符合（离开人群）的客户进入旅程。",
            "Compared every minute: customers who come to match (entering) or stop matching (leaving) enter.",
        ),
        "journeys.steps" => ("步骤", "Steps"),
        "journeys.steps_help" => (
            "客户按编号顺序执行步骤；条件分支和跳转按步骤编号跳转。循环中必须有等待步骤。",
            "Customers walk the steps in order; a branch or a go-to jumps by step number. Every loop needs a wait.",
        ),
        "journeys.step_n" => ("第 {n} 步", "Step {n}"),
        "journeys.step_kind" => ("步骤类型", "Step"),
        "journeys.pick_kind" => ("— 选择步骤类型 —", "— choose a step —"),
        "journeys.remove_step" => ("删除此步骤", "Remove this step"),
        "journeys.wait_for" => ("等待时长", "Wait for"),
        "journeys.wait_until" => ("等到（北京时间）", "Until (Asia/Shanghai)"),
        "journeys.branch_if" => ("条件（分群表达式）", "Condition (segment expression)"),
        "journeys.branch_else" => ("不符合时跳到第几步", "Otherwise go to step"),
        "journeys.goto" => ("跳到第几步", "Go to step"),
        "journeys.jump_help" => (
            "填写步骤编号，{end} 表示结束。",
            "A step number; {end} is the end.",
        ),
        "journeys.tag" => ("标签", "Tag"),
        "journeys.pick_tag" => ("— 选择标签 —", "— choose a tag —"),
        "journeys.gone" => ("已不可用", "no longer available"),
        "journeys.template" => ("优惠券", "Coupon"),
        "journeys.pick_template" => ("— 选择优惠券 —", "— choose a coupon —"),
        "journeys.task_title" => ("任务标题", "Task title"),
        "journeys.task_body" => ("任务说明", "Instructions"),
        "journeys.task_material" => ("附带素材（可选）", "Material to send (optional)"),
        "journeys.no_material" => ("不附素材", "No material"),
        "journeys.task_due" => ("几小时内完成", "Due within (hours)"),
        "journeys.text" => ("文字", "Text"),
        "journeys.signal" => ("信号名称", "Signal"),
        "journeys.step_error" => (
            "第 {n} 步（{kind}）：{message}",
            "Step {n} ({kind}): {message}",
        ),
        "journeys.hint.wait" => ("60 秒到 366 天。", "60 seconds to 366 days."),
        "journeys.hint.wait_until" => (
            "等到下一个该时刻再继续。",
            "Goes on at the next such time of day.",
        ),
        "journeys.hint.branch" => (
            "条件为 1–4000 字节的分群表达式；留空表示不符合时结束。",
            "A segment expression of 1–4,000 bytes; blank means the end otherwise.",
        ),
        "journeys.hint.goto" => (
            "跳回前面的步骤时，循环中必须有等待步骤。",
            "A jump back needs a wait on the loop.",
        ),
        "journeys.hint.tag" => ("请选择标签。", "Choose a tag."),
        "journeys.hint.untag" => ("请选择标签。", "Choose a tag."),
        "journeys.hint.coupon" => (
            "发放一张该优惠券；券已停发、领完或达到每人上限时跳过此步。",
            "Issues one such coupon; skipped when it closed, ran out or reached its limit.",
        ),
        "journeys.hint.task" => (
            "发给客户的归属导购：标题 1–60 字，说明最多 1000 字，1–720 小时内完成。",
            "For the customer's guide: a title of 1–60 characters, instructions of at most 1,000, due in 1–720 hours.",
        ),
        "journeys.hint.message" => (
            "群发消息由客户的归属导购发送，最多 4000 字；通知导购最多 500 字。免打扰时段内顺延。",
            "A message goes out through the customer's guide, at most 4,000 characters; a notification at most 500. Both wait out the quiet hours.",
        ),
        "journeys.hint.notify" => (
            "通知导购的文字为 1–500 字。",
            "A notification is 1–500 characters.",
        ),
        "journeys.hint.webhook" => (
            "1–40 个小写字母、数字或 _，例如 vip_follow_up。",
            "1–40 of a–z, 0–9 and _, e.g. vip_follow_up.",
        ),
        "journeys.add_step" => ("添加步骤", "Add a step"),
        "journeys.add_step_help" => (
            "添加一行空白步骤；没有选择类型的步骤保存时会被忽略。",
            "Adds a blank row; a row without a step kind is ignored on save.",
        ),
        "journeys.entry" => ("进入规则", "Entry rule"),
        "journeys.entry_cooldown" => ("冷却期后可再次进入", "Again after a cool-down"),
        "journeys.cooldown_days" => ("冷却天数", "Cool-down (days)"),
        "journeys.entry_help" => (
            "同一客户同时只在旅程中走一轮；可重复进入或冷却期满时，上一轮走完后才能再次进入。",
            "A customer walks one run at a time; entering again waits for the last run to end.",
        ),
        "journeys.quiet" => ("免打扰时段", "Quiet hours"),
        "journeys.quiet_on" => ("开启（北京时间）", "On (Asia/Shanghai)"),
        "journeys.quiet_off" => ("不设免打扰", "No quiet hours"),
        "journeys.quiet_start" => ("开始", "Start"),
        "journeys.quiet_end" => ("结束", "End"),
        "journeys.quiet_help" => (
            "群发消息和通知导购在免打扰时段内顺延到时段结束。",
            "Messages and notifications due inside the quiet hours wait until they end.",
        ),
        "journeys.version_hint" => (
            "保存后生成新版本：新进入的客户按新版本执行，已在旅程中的客户继续按原版本执行。",
            "Saving makes a new version: customers who enter from now on follow it; customers already in the journey continue on their version.",
        ),
        "journeys.save" => ("保存", "Save"),
        "journeys.save_help" => (
            "新旅程保存为草稿，在旅程页面启用后才开始运行。",
            "A new journey is saved as a draft; it runs once started on its page.",
        ),
        // One journey.
        "journeys.version" => ("版本", "Version"),
        "journeys.activate" => ("启用", "Start"),
        "journeys.pause" => ("暂停", "Pause"),
        "journeys.edit" => ("编辑", "Edit"),
        "journeys.archive" => ("归档", "Archive"),
        "journeys.actions_help" => (
            "暂停后不再有新客户进入，进行中的客户停在当前步骤，启用后继续；归档后进行中的客户退出旅程。",
            "Paused, nobody new enters and customers in flight wait where they are until it is started again; archived, customers in flight leave.",
        ),
        "journeys.runs" => ("客户进度", "Runs"),
        "journeys.step_no" => ("步骤", "Step"),
        "journeys.step_setting" => ("设置", "Settings"),
        "journeys.step_waiting" => ("停留在此", "Waiting here"),
        "journeys.step_sending" => ("发送中", "Sending"),
        "journeys.step_outcomes" => ("执行结果（累计）", "Outcomes (so far)"),
        "journeys.counts_help" => (
            "「停留在此」是将要执行该步骤的客户（包括等待结束前的客户）；执行结果按所有版本累计。",
            "“Waiting here” counts customers about to run the step (including those still in a wait); outcomes add up every version.",
        ),
        "journeys.trace" => ("客户轨迹", "A customer's trace"),
        "journeys.customer_id" => ("客户 ID", "Customer ID"),
        "journeys.show_trace" => ("查看轨迹", "Show the trace"),
        "journeys.trace_help" => (
            "查看某位客户每次进入旅程后每一步的执行情况，例如为什么收到了某条消息。",
            "What each step did for one customer in each of their runs, e.g. why they got a message.",
        ),
        "journeys.customer_page" => ("打开客户详情", "Open the customer"),
        "journeys.run_n" => ("第 {n} 轮", "Run {n}"),
        "journeys.run_state" => ("状态", "State"),
        "journeys.at_step" => ("当前步骤", "At step"),
        "journeys.entered_at" => ("进入时间", "Entered"),
        "journeys.cause" => ("进入原因", "Because of"),
        "journeys.ended_at" => ("结束时间", "Ended"),
        "journeys.reason" => ("原因", "Reason"),
        "journeys.at" => ("时间", "When"),
        "journeys.outcome" => ("结果", "Outcome"),
        "journeys.detail" => ("详情", "Detail"),
        "journeys.no_runs" => (
            "该客户没有进入过这条旅程。",
            "This customer has not entered this journey.",
        ),
        "journeys.recent" => ("最近进入的客户", "Latest runs"),
        "journeys.customer" => ("客户", "Customer"),
        "journeys.view_trace" => ("查看轨迹", "Show the trace"),
        "journeys.versions" => ("版本记录", "Versions"),
        "journeys.saved_at" => ("保存时间", "Saved"),
        "journeys.current" => ("当前版本", "Current"),
        "journeys.versions_help" => (
            "每次保存生成一个版本；客户按进入时的版本走完旅程。",
            "Each save makes a version; a customer walks the version they entered on.",
        ),
        "journeys.done.created" => (
            "旅程已保存为草稿，启用后开始运行。",
            "Journey saved as a draft; start it to run it.",
        ),
        "journeys.done.saved" => ("已保存为新版本。", "Saved as a new version."),
        "journeys.done.activated" => ("旅程已启用。", "Journey started."),
        "journeys.done.paused" => ("旅程已暂停。", "Journey paused."),
        "journeys.done.archived" => ("旅程已归档。", "Journey archived."),
        "journeys.archive_title" => ("归档自动化旅程", "Archive the journey"),
        "journeys.archive_subject" => ("自动化旅程「{name}」", "Journey “{name}”"),
        "journeys.archive_runs" => (
            "进行中的 {n} 位客户将退出旅程。",
            "{n} customers in flight will leave the journey.",
        ),
        "journeys.archive_kept" => (
            "旅程和它的统计会保留，但不能再启用或编辑。",
            "The journey and its counts are kept, but it cannot be started or edited again.",
        ),
        "journeys.archive_group" => (
            "归档后不再向客户群发送；已发送的记录保留。",
            "It posts to no group any more; the posts made are kept.",
        ),
        // Group SOPs (群SOP): the trigger and its one step in words, the editor, the page.
        "journeys.sum.group_schedule" => ("{when}，{groups}", "{when}, {groups}"),
        "journeys.all_groups" => ("全部客户群", "All customer groups"),
        "journeys.n_groups" => ("{n} 个群", "{n} groups"),
        "journeys.more_groups" => (" 等，另有 {n} 个群", " and {n} more"),
        "journeys.groups" => ("客户群", "Customer groups"),
        "journeys.groups_some" => ("指定客户群", "Chosen groups"),
        "journeys.groups_all" => ("全部客户群", "All customer groups"),
        "journeys.groups_help" => (
            "到时间时发给所选的客户群；已解散的群和群主无法发送（未绑定或已离职）的群会跳过。全部客户群包括以后新同步的群。",
            "At each time the chosen groups get the message; a dismissed group, or one whose owner cannot post (not linked, or gone), is skipped. All customer groups includes groups synced later.",
        ),
        "journeys.no_groups" => (
            "还没有同步到客户群，可以先选择全部客户群。",
            "No customer group synced yet; all customer groups can be chosen.",
        ),
        "journeys.group_schedule_help" => (
            "群SOP按每周几和时间（或指定时间一次）给客户群发一条群消息，不让客户进入旅程。开启免打扰时，发送时间须在免打扰时段之外。",
            "A group SOP posts one group message to customer groups on chosen weekdays at a time (or once); no customer enters. With quiet hours on, the time must fall outside them.",
        ),
        "journeys.group_quiet_help" => (
            "群SOP不在免打扰时段内发送：发送时间须在时段之外，否则不能保存。",
            "A group SOP does not post inside the quiet hours: its time must fall outside them, or it is not saved.",
        ),
        "journeys.group_actions_help" => (
            "暂停后到时间不再发送（错过的不补发），启用后从下一次开始继续；归档后不再发送。",
            "Paused, nothing is posted when due (missed posts are not made up); started again, it goes on from the next time. Archived, it posts no more.",
        ),
        "journeys.group_message" => ("群消息", "Group message"),
        "journeys.group_message_help" => (
            "群SOP只有这一步：到时间时把这条消息发到所选的客户群。",
            "A group SOP's one step: at each time this message goes to the chosen groups.",
        ),
        "journeys.delivery" => ("发送方式", "Delivery"),
        "journeys.delivery_choice" => ("{label}（{hint}）", "{label} ({hint})"),
        "journeys.delivery_hint.mass_message" => (
            "计入企业微信每群接收上限",
            "counted against WeCom's receipt cap per group",
        ),
        "journeys.delivery_hint.owner_task" => (
            "群主手动发送，不计上限",
            "each owner posts by hand; not capped",
        ),
        "journeys.group_material" => (
            "附带素材（可选，群主待办）",
            "Material to post (optional, owner tasks)",
        ),
        "journeys.hint.group_message" => (
            "文字最多 4000 字，群主待办最多 1000 字；素材只随群主待办发送",
            "text of at most 4,000 characters, 1,000 for an owner task; a material goes with an owner task only",
        ),
        "journeys.hint.group_audience" => (
            "请勾选客户群，或选择全部客户群",
            "tick the groups, or choose all customer groups",
        ),
        "journeys.group_step_error" => (
            "群消息：{message}（{hint}）",
            "Group message: {message} ({hint})",
        ),
        "journeys.group_quiet_error" => (
            "群SOP的发送时间须在免打扰时段（{quiet}）之外：请调整时间，或不设免打扰。",
            "A group SOP's time must fall outside the quiet hours ({quiet}): change the time, or turn the quiet hours off.",
        ),
        "journeys.attachments_kept" => (
            "此消息带有 {n} 个附件（图片或链接），保存时保留不变；附件通过 API 编辑。",
            "This message carries {n} attachments (pictures or links), kept as they are on save; attachments are edited through the API.",
        ),
        "journeys.attachments_count" => ("附件 {n} 个", "{n} attachments"),
        "journeys.group_sends" => ("发送记录", "Posts"),
        "journeys.send_at" => ("时间（北京时间）", "When (Asia/Shanghai)"),
        "journeys.send_delivery" => ("方式", "Delivery"),
        "journeys.send_groups" => ("群数", "Groups"),
        "journeys.send_skipped" => ("跳过", "Skipped"),
        "journeys.send_result" => ("结果", "Result"),
        "journeys.tasks_made" => ("{n} 条待办", "{n} tasks"),
        "journeys.view_message" => ("群发 #{id}", "Mass message #{id}"),
        "journeys.no_sends" => ("还没有发送记录。", "Nothing posted yet."),
        "journeys.sends_help" => (
            "最近 30 次发送。跳过的是已解散或群主无法发送的群；企业群发的逐群结果见群发详情，群主待办在导购待办中跟进。",
            "The latest 30 posts. Skipped: groups dismissed, or whose owner cannot post. A mass message's page has each group's result; owner tasks are followed in the guide tasks.",
        ),
        // The SOP calendar.
        "journeys.calendar" => ("群SOP日历", "SOP calendar"),
        "journeys.calendar_intro" => (
            "按周查看群SOP和定时触发的客户旅程：每次计划发送的时间、内容和发送结果（北京时间）。已暂停的旅程到时间不会发送。",
            "Group SOPs and scheduled customer journeys by week: when each is due, what it sends and what was posted (Asia/Shanghai). A paused journey sends nothing when due.",
        ),
        "journeys.prev_week" => ("上一周", "Previous week"),
        "journeys.next_week" => ("下一周", "Next week"),
        "journeys.this_week" => ("本周", "This week"),
        "journeys.week_range" => ("{from} 至 {to}", "{from} to {to}"),
        "journeys.week_date" => ("跳到日期", "Go to date"),
        "journeys.go_week" => ("查看", "Show"),
        "journeys.today" => ("今天", "Today"),
        "journeys.cal.group" => ("群SOP", "Group SOP"),
        "journeys.cal.customers" => ("客户旅程", "Customer journey"),
        "journeys.cal.sent" => ("已发送", "Posted"),
        "journeys.cal.none" => ("无安排", "Nothing due"),
        "journeys.cal.empty" => (
            "这一周没有计划的发送。群SOP按每周几或指定时间给客户群发消息，启用后显示在这里；定时触发的客户旅程也会显示。",
            "Nothing is due this week. A group SOP posts to customer groups on weekdays or once, and shows here once started; scheduled customer journeys show too.",
        ),
        "journeys.cal.create" => ("新建群SOP", "New group SOP"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::console::Lang;
    use crate::console::layout::form_pairs as pairs;

    const NOW: i64 = 1_780_000_000_000;
    const ZH: Tr = Tr { lang: Lang::Zh };
    const EN: Tr = Tr { lang: Lang::En };

    fn form(p: &[(&str, &str)]) -> JourneyForm {
        let (mut f, _) = JourneyForm::from_pairs(&pairs(p));
        f.compact();
        f
    }

    fn base() -> Vec<(&'static str, &'static str)> {
        vec![
            ("csrf", "x"),
            ("op", "save"),
            ("name", "新客欢迎"),
            ("trigger", "event"),
            ("event", "add_friend"),
            ("entry", "once"),
            ("quiet", "on"),
            ("quiet_start", "22:00"),
            ("quiet_end", "08:00"),
        ]
    }

    fn field(f: &JourneyForm) -> (&'static str, String) {
        match f.parse(NOW) {
            Err(AppError::Invalid(e)) => (e.field, e.message),
            other => panic!("not refused by field: {other:?}"),
        }
    }

    #[test]
    fn the_editor_reads_its_fields() {
        let mut p = base();
        p.extend([
            ("s0.kind", "wait"),
            ("s0.amount", "2"),
            ("s0.unit", "day"),
            ("s0.text", "ignored: not a message"),
            ("s1.kind", "tag"),
            ("s1.tag", "7"),
            ("s2.kind", "branch"),
            ("s2.expression", "orders_30d >= 1\r\n"),
            ("s2.else_step", "6"),
            ("s3.kind", "message"),
            ("s3.text", "第一行\r\n第二行"),
            ("s4.kind", "task"),
            ("s4.title", "回访"),
            ("s4.body", "问问口味"),
            ("s4.material", ""),
            ("s4.due_hours", "24"),
        ]);
        let (_, op) = JourneyForm::from_pairs(&pairs(&p));
        assert_eq!(op, "save");
        let input = form(&p).parse(NOW).unwrap();
        assert_eq!(input.name, "新客欢迎");
        let d = input.definition;
        assert_eq!(
            d.trigger,
            Trigger::Event {
                event: "add_friend".into()
            }
        );
        assert_eq!(
            d.steps,
            vec![
                Step::Wait { seconds: 172_800 },
                Step::Tag { tag_id: 7 },
                // Step 6 as typed is the end: the definition's 5 (from 0) of 5 steps.
                Step::Branch {
                    expression: "orders_30d >= 1\n".into(),
                    else_step: 5
                },
                Step::Message {
                    text: "第一行\n第二行".into(),
                    attachments: vec![],
                },
                Step::Task {
                    title: "回访".into(),
                    body: "问问口味".into(),
                    material_id: None,
                    due_hours: 24
                },
            ]
        );
        assert_eq!(d.entry, Entry::Once);
        assert_eq!(d.quiet_hours, Some(DEFAULT_QUIET));
    }

    #[test]
    fn triggers_entry_and_quiet_hours_read_in_every_kind() {
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut p = base();
            p.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
            p.extend_from_slice(extra);
            p.extend([("s0.kind", "webhook"), ("s0.signal", "vip")]);
            form(&p).parse(NOW).map(|i| i.definition)
        };
        let d = with(&[
            ("trigger", "schedule"),
            ("schedule_mode", "weekly"),
            ("weekdays", "4"),
            ("weekdays", "2"),
            ("schedule_time", "10:00"),
            ("audience", "all"),
            ("entry", "cooldown"),
            ("cooldown_days", "7"),
            ("quiet", "off"),
        ])
        .unwrap();
        assert_eq!(
            d.trigger,
            Trigger::Schedule {
                weekdays: vec![2, 4],
                time: Some(TimeOfDay(600)),
                at: None,
                audience: "all".into()
            }
        );
        assert_eq!(d.entry, Entry::Cooldown { days: 7 });
        assert_eq!(d.quiet_hours, None);
        assert_eq!(trigger_summary(ZH, &d.trigger), "每周二、周四 10:00");
        assert_eq!(trigger_summary(EN, &d.trigger), "Every Tue, Thu at 10:00");
        // A one-off at a Shanghai wall-clock time.
        let d = with(&[
            ("trigger", "schedule"),
            ("schedule_mode", "once"),
            ("schedule_at", "2030-01-02T09:30"),
            ("audience", "all"),
        ])
        .unwrap();
        let Trigger::Schedule { at: Some(at), .. } = d.trigger else {
            panic!("{:?}", d.trigger)
        };
        assert_eq!(Millis(at).to_rfc3339(), "2030-01-02T01:30:00.000Z");
        assert_eq!(
            trigger_summary(ZH, &d.trigger),
            "定时一次：2030-01-02 09:30"
        );
        let d = with(&[
            ("trigger", "date"),
            ("date_attribute", "birthday"),
            ("offset_days", "0"),
            ("date_time", "09:00"),
            ("entry", "reentry"),
        ])
        .unwrap();
        assert_eq!(trigger_summary(ZH, &d.trigger), "生日当天 09:00");
        assert_eq!(d.entry, Entry::Reentry);
        let d = with(&[
            ("trigger", "date"),
            ("date_attribute", "first_order"),
            ("offset_days", "-3"),
            ("date_time", "09:00"),
        ])
        .unwrap();
        assert_eq!(trigger_summary(ZH, &d.trigger), "首单前 3 天 09:00");
        let d = with(&[("trigger", "segment_enter"), ("expression", "tag(\"a/b\")")]).unwrap();
        assert_eq!(trigger_summary(ZH, &d.trigger), "进入人群");
        assert_eq!(
            trigger_summary(
                ZH,
                &Trigger::Event {
                    event: "add_friend".into()
                }
            ),
            "事件：添加好友"
        );
        // Refusals name their field.
        for (extra, want) in [
            (
                vec![
                    ("trigger", "schedule"),
                    ("schedule_mode", "weekly"),
                    ("audience", "all"),
                ],
                "trigger",
            ),
            (
                vec![
                    ("trigger", "schedule"),
                    ("schedule_mode", "once"),
                    ("audience", "all"),
                ],
                "trigger",
            ),
            (vec![("trigger", "date"), ("offset_days", "x")], "trigger"),
            (vec![("trigger", "nope")], "trigger"),
            (vec![("event", "nope")], "trigger"),
            (vec![("entry", "cooldown"), ("cooldown_days", "")], "entry"),
            (vec![("entry", "cooldown"), ("cooldown_days", "0")], "entry"),
            (
                vec![("quiet_start", "22:00"), ("quiet_end", "22:00")],
                "quiet_hours",
            ),
            (vec![("quiet_start", "25:00")], "quiet_hours"),
            (vec![("name", " ")], "name"),
        ] {
            let got = match with(&extra) {
                Err(AppError::Invalid(e)) => e.field,
                other => panic!("{extra:?}: {other:?}"),
            };
            assert_eq!(got, want, "{extra:?}");
        }
    }

    #[test]
    fn steps_are_numbered_from_one_and_dropped_rows_keep_the_jumps() {
        let mut p = base();
        // 1 tag, 2 blank, 3 wait (removed), 4 wait, 5 goto 1, 6 branch else 4; 7 is the end.
        p.extend([
            ("s0.kind", "tag"),
            ("s0.tag", "3"),
            ("s1.kind", ""),
            ("s1.text", "typed but no kind"),
            ("s2.kind", "wait"),
            ("s2.amount", "1"),
            ("s2.unit", "hour"),
            ("s2.remove", "1"),
            ("s3.kind", "wait"),
            ("s3.amount", "30"),
            ("s3.unit", "minute"),
            ("s4.kind", "goto"),
            ("s4.goto", "1"),
            ("s5.kind", "branch"),
            ("s5.expression", "x"),
            ("s5.else_step", "3"),
            ("s6.kind", "goto"),
            ("s6.goto", "8"),
        ]);
        let f = form(&p);
        assert_eq!(f.steps.len(), 5);
        // 3 (removed) names the next row kept, the old 4 — now 2; 8 (the end of 7) is 6.
        assert_eq!(f.steps[3].else_step, "2");
        assert_eq!(f.steps[2].goto, "1");
        assert_eq!(f.steps[4].goto, "6");
        let d = f.parse(NOW).unwrap().definition;
        assert_eq!(
            d.steps,
            vec![
                Step::Tag { tag_id: 3 },
                Step::Wait { seconds: 1_800 },
                Step::Goto { step: 0 },
                Step::Branch {
                    expression: "x".into(),
                    else_step: 1
                },
                Step::Goto { step: 5 },
            ]
        );
        // A number past the end stays as typed and is refused by its step.
        let mut p = base();
        p.extend([("s0.kind", "goto"), ("s0.goto", "9")]);
        let f = form(&p);
        assert_eq!(f.steps[0].goto, "9");
        let (fld, msg) = field(&f);
        assert_eq!((fld, step_number(&msg)), ("steps", Some(1)));
        // A loop without a wait is refused naming a step on it.
        let mut p = base();
        p.extend([
            ("s0.kind", "tag"),
            ("s0.tag", "3"),
            ("s1.kind", "goto"),
            ("s1.goto", "1"),
        ]);
        let (fld, msg) = field(&form(&p));
        assert_eq!(fld, "steps");
        assert!(step_number(&msg).is_some(), "{msg}");
        // Nothing but blank rows: no step.
        let mut p = base();
        p.extend([("s0.kind", ""), ("s1.kind", "wait"), ("s1.remove", "1")]);
        assert_eq!(field(&form(&p)).0, "steps");
    }

    #[test]
    fn bad_steps_are_refused_by_their_number() {
        for (row, want) in [
            (
                vec![("s0.kind", "wait"), ("s0.amount", "x"), ("s0.unit", "day")],
                "invalid_wait",
            ),
            (
                vec![
                    ("s0.kind", "wait"),
                    ("s0.amount", "10"),
                    ("s0.unit", "second"),
                ],
                "invalid_wait",
            ),
            (
                vec![("s0.kind", "wait"), ("s0.amount", "1"), ("s0.unit", "week")],
                "invalid_wait",
            ),
            (
                vec![("s0.kind", "wait_until"), ("s0.time", "24:00")],
                "invalid_time_of_day",
            ),
            (vec![("s0.kind", "tag"), ("s0.tag", "")], "unknown_tag"),
            (
                vec![("s0.kind", "coupon"), ("s0.template", "")],
                "unknown_template",
            ),
            (
                vec![("s0.kind", "task"), ("s0.title", ""), ("s0.due_hours", "2")],
                "invalid_step",
            ),
            (
                vec![("s0.kind", "task"), ("s0.title", "t"), ("s0.due_hours", "")],
                "invalid_step",
            ),
            (
                vec![("s0.kind", "message"), ("s0.text", " ")],
                "invalid_step",
            ),
            (
                vec![("s0.kind", "webhook"), ("s0.signal", "Bad Signal")],
                "invalid_step",
            ),
            (vec![("s0.kind", "goto"), ("s0.goto", "")], "invalid_step"),
            (vec![("s0.kind", "launch")], "invalid_step"),
        ] {
            let mut p = base();
            p.extend(row.iter().copied());
            match form(&p).parse(NOW) {
                Err(AppError::Invalid(e)) => {
                    assert_eq!((e.field, e.code), ("steps", want), "{row:?}");
                    assert_eq!(step_number(&e.message), Some(1), "{row:?}: {}", e.message);
                }
                other => panic!("{row:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_stored_journey_comes_back_as_it_was() {
        let d = Definition {
            trigger: Trigger::Date {
                attribute: DateAttribute::FirstOrder,
                offset_days: 7,
                time: TimeOfDay(9 * 60 + 30),
            },
            steps: vec![
                Step::Wait { seconds: 90 },
                Step::WaitUntil {
                    time: TimeOfDay(600),
                },
                Step::Branch {
                    expression: "orders_30d >= 1".into(),
                    else_step: 9,
                },
                Step::Goto { step: 0 },
                Step::Tag { tag_id: 4 },
                Step::Untag { tag_id: 5 },
                Step::Coupon { template_id: 6 },
                Step::Task {
                    title: "回访".into(),
                    body: String::new(),
                    material_id: Some(8),
                    due_hours: 48,
                },
                Step::Notify {
                    text: "提醒".into(),
                },
            ],
            entry: Entry::Cooldown { days: 30 },
            quiet_hours: Some(QuietHours {
                start: 21 * 60,
                end: 9 * 60,
            }),
        };
        let f = JourneyForm::of("回购", &d);
        assert_eq!(f.steps[0].unit, "second");
        assert_eq!(f.steps[2].else_step, "10");
        assert_eq!(f.steps[3].goto, "1");
        let back = f.parse(NOW).unwrap();
        assert_eq!(back.definition, d);
        let tr = ZH;
        assert_eq!(trigger_summary(tr, &d.trigger), "首单后 7 天 09:30");
        assert_eq!(entry_summary(tr, d.entry), "冷却 30 天后可再次进入");
        assert_eq!(quiet_summary(tr, d.quiet_hours), "21:00–09:00");
        assert_eq!(quiet_summary(tr, None), "不设免打扰");
        assert_eq!(duration(tr, 3 * 86_400), "3 天");
        assert_eq!(duration(EN, 5_400), "90 minutes");
        assert_eq!(jump(tr, 9, 9), "跳到结束");
        assert_eq!(jump(tr, 2, 9), "跳到第 3 步");
    }

    fn group_pairs(time: &'static str) -> Vec<(&'static str, &'static str)> {
        let mut p = base();
        p.retain(|(k, _)| *k != "trigger");
        p.extend([
            ("trigger", "group_schedule"),
            ("schedule_mode", "weekly"),
            ("weekdays", "5"),
            ("weekdays", "1"),
            ("schedule_time", time),
            ("group_scope", "some"),
            ("group_ids", "7"),
            ("group_ids", "3"),
            ("group_text", "早安\r\n上新"),
            ("group_delivery", "owner_task"),
            ("group_material", "12"),
            // A row typed before the trigger changed: a group SOP reads its one step only.
            ("s0.kind", "tag"),
            ("s0.tag", "4"),
        ]);
        p
    }

    #[test]
    fn a_group_sop_reads_and_comes_back() {
        let d = form(&group_pairs("09:30")).parse(NOW).unwrap().definition;
        assert_eq!(
            d.trigger,
            Trigger::GroupSchedule {
                weekdays: vec![1, 5],
                time: Some(TimeOfDay(570)),
                at: None,
                group_ids: vec![3, 7],
                all_groups: false,
            }
        );
        assert_eq!(
            d.steps,
            vec![Step::GroupMessage {
                text: "早安\n上新".into(),
                attachments: vec![],
                material_id: Some(12),
                delivery: GroupDelivery::OwnerTask,
            }]
        );
        assert_eq!(
            trigger_summary(ZH, &d.trigger),
            "每周一、周五 09:30，2 个群"
        );
        assert_eq!(
            trigger_summary(EN, &d.trigger),
            "Every Mon, Fri at 09:30, 2 groups"
        );
        let f = JourneyForm::of("早安", &d);
        assert!(f.is_group() && !f.all_groups() && f.delivery_is("owner_task"));
        assert_eq!(f.steps, vec![StepForm::blank()]);
        assert_eq!(f.parse(NOW).unwrap().definition, d);

        // (A whole minute: the editor's datetime-local has no seconds.)
        let once = (NOW / 60_000 + 1_440) * 60_000;
        // Once, to every group, as a group mass message with attachments: they are kept (the
        // editor carries them as they are), a material typed is not read.
        let link = Attachment::Link {
            title: "上新".into(),
            url: "https://example.com/new".into(),
            desc: String::new(),
            picurl: String::new(),
        };
        let d = Definition {
            trigger: Trigger::GroupSchedule {
                weekdays: vec![],
                time: None,
                at: Some(once),
                group_ids: vec![],
                all_groups: true,
            },
            steps: vec![Step::GroupMessage {
                text: String::new(),
                attachments: vec![link],
                material_id: None,
                delivery: GroupDelivery::MassMessage,
            }],
            entry: Entry::Once,
            quiet_hours: None,
        };
        let mut f = JourneyForm::of("一次", &d);
        assert!(f.all_groups() && f.once() && f.group_attachment_count() == 1);
        f.group_material = "12".into();
        assert_eq!(f.parse(NOW).unwrap().definition, d);
        assert_eq!(
            trigger_summary(ZH, &d.trigger),
            format!("定时一次：{}，全部客户群", minute(once))
        );

        // Inside the quiet hours: the trigger says the group SOP's rule, with the hours.
        let f = form(&group_pairs("23:00"));
        let e = f.parse(NOW).unwrap_err();
        let (status, pe) = page_error(ZH, e, Some(&f));
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(pe.field, "trigger");
        assert_eq!(
            pe.message,
            "群SOP的发送时间须在免打扰时段（22:00–08:00）之外：请调整时间，或不设免打扰。"
        );
        // A bad group id, and no group: by the trigger.
        let mut p = group_pairs("09:30");
        p.push(("group_ids", "x"));
        assert_eq!(field(&form(&p)).0, "trigger");
        let mut p = group_pairs("09:30");
        p.retain(|(k, _)| *k != "group_ids");
        let f = form(&p);
        let (_, pe) = page_error(ZH, f.parse(NOW).unwrap_err(), Some(&f));
        assert!(
            pe.message.ends_with("（请勾选客户群，或选择全部客户群）"),
            "{}",
            pe.message
        );
        // A step refusal is the group message's, numbered by no step.
        let mut p = group_pairs("09:30");
        p.retain(|(k, _)| *k != "group_text");
        let f = form(&p);
        let (_, pe) = page_error(ZH, f.parse(NOW).unwrap_err(), Some(&f));
        assert_eq!((pe.field.as_str(), pe.step), ("steps", None));
        assert!(pe.message.starts_with("群消息："), "{}", pe.message);
    }

    #[test]
    fn a_message_keeps_its_attachments_through_the_editor() {
        let step = Step::Message {
            text: "欢迎".into(),
            attachments: vec![Attachment::Image {
                pic_url: "https://wework.qpic.cn/x.png".into(),
            }],
        };
        let row = StepForm::of_step(&step);
        assert_eq!(row.attachment_count(), 1);
        let json: &'static str = Box::leak(row.attachments.into_boxed_str());
        let mut p = base();
        p.extend([
            ("s0.kind", "message"),
            ("s0.text", "欢迎"),
            ("s0.attachments", json),
        ]);
        let d = form(&p).parse(NOW).unwrap().definition;
        assert_eq!(d.steps, vec![step]);
        // Tampered with: refused by the step.
        let mut p = base();
        p.extend([("s0.kind", "message"), ("s0.attachments", "{nope")]);
        match form(&p).parse(NOW) {
            Err(AppError::Invalid(e)) => {
                assert_eq!((e.field, e.code), ("steps", "invalid_attachment"));
                assert_eq!(step_number(&e.message), Some(1));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn traces_read_in_words() {
        let names = Names {
            tags: HashMap::from([(3, "会员/金卡".to_owned())]),
            ..Names::default()
        };
        let line = |v: serde_json::Value| {
            detail_parts(ZH, &names, &v)
                .into_iter()
                .map(|p| {
                    format!(
                        "{} {}{}",
                        p.label,
                        p.value,
                        p.href.map(|h| format!(" →{h}")).unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join(" · ")
        };
        assert_eq!(
            line(serde_json::json!({"mass_message_id": 12})),
            "群发 #12 →/console/messages/12"
        );
        assert_eq!(line(serde_json::json!({"tag_id": 3})), "标签 会员/金卡");
        assert_eq!(line(serde_json::json!({"tag_id": 9})), "标签 #9");
        assert_eq!(
            line(serde_json::json!({"reason": "no_guide"})),
            "原因 客户没有归属导购"
        );
        assert_eq!(line(serde_json::json!({"matched": false})), "符合条件 否");
        assert_eq!(
            line(serde_json::json!({"staff_id": 2, "task_id": 5})),
            "员工 #2 · 导购待办 #5"
        );
        assert_eq!(cause_text(ZH, "event:41"), "事件 #41");
        assert_eq!(cause_text(ZH, "date:20000"), "客户日期（2024-10-04）");
        assert_eq!(cause_text(ZH, "odd"), "odd");
        assert_eq!(
            step_number("step 12: a wait is 60 seconds to 366 days"),
            Some(12)
        );
        assert_eq!(
            step_number("step 3 is on a loop that passes no wait"),
            Some(3)
        );
        assert_eq!(step_number("no tag 4"), None);
        // The timeline's journey signal numbers its step from 1 as these pages do.
        let signal = r#"{"journey_id":3,"step":1,"signal":"vip"}"#;
        assert_eq!(
            super::super::labels::line(&super::super::labels::describe(ZH, signal, &[])),
            "自动化旅程 #3 · 信号 vip · 步骤 2"
        );
    }

    #[test]
    fn every_text_has_both_languages() {
        let mut keys: Vec<String> = [
            "nav",
            "title",
            "list_sep",
            "sum.event",
            "sum.once",
            "sum.daily",
            "sum.weekly",
            "sum.date_on",
            "sum.date_before",
            "sum.date_after",
            "sum.cooldown",
            "sum.reentry",
            "quiet_none",
            "sum.wait",
            "sum.wait_until",
            "sum.branch",
            "sum.task",
            "sum.material",
            "sum.webhook",
            "to_end",
            "to_step",
            "end",
            "cause.event",
            "cause.schedule",
            "cause.segment",
            "cause.date",
            "task_ref",
            "step_error",
            "step_n",
            "jump_help",
            "archive_title",
            "archive_subject",
            "archive_runs",
            "archive_kept",
            "archive",
            "archive_group",
            "sum.group_schedule",
            "all_groups",
            "n_groups",
            "more_groups",
            "group_step_error",
            "group_quiet_error",
            "hint.group_message",
            "hint.group_audience",
            "delivery_choice",
            "attachments_kept",
            "attachments_count",
            "tasks_made",
            "view_message",
            "calendar",
            "week_range",
            "cal.group",
            "cal.customers",
        ]
        .iter()
        .map(|k| format!("journeys.{k}"))
        .collect();
        for k in STEP_KINDS {
            keys.push(format!("journeys.hint.{k}"));
            keys.push(format!("journey.step.{k}"));
        }
        for (u, _) in UNITS {
            keys.push(format!("journeys.unit.{u}"));
        }
        for k in TRIGGER_KINDS {
            keys.push(format!("journey.trigger.{k}"));
        }
        for d in [GroupDelivery::MassMessage, GroupDelivery::OwnerTask] {
            keys.push(format!("journey.delivery.{}", d.as_str()));
            keys.push(format!("journeys.delivery_hint.{}", d.as_str()));
        }
        for d in ["created", "saved", "activated", "paused", "archived"] {
            keys.push(format!("journeys.done.{d}"));
        }
        for k in keys {
            let (zh, en) = super::super::i18n::lookup(&k).unwrap_or_else(|| panic!("{k}"));
            assert!(!zh.is_empty() && !en.is_empty(), "{k}");
        }
        for k in event_choices(ZH) {
            assert_ne!(k.0, k.1, "event.{} has no label", k.0);
        }
    }
}
