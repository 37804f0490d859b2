//! The guide task inbox (导购待办, issue #21 item 6): things a guide should do for a customer
//! by a time — call back, send a material, invite to the store.
//!
//! **Where tasks come from.** A store manager (for a guide of their store) or headquarters
//! (admins and operators, for any active guide) sets one by hand; a customer journey's step
//! makes one through [`create_in`], inside the journey's own transaction. Each task is made
//! once per dedupe key: a replay with the same key adds nothing (no second task, reminder or
//! timeline entry).
//!
//! **Who sees what.** A guide sees their own tasks; a store manager their store's (the
//! guide's store when the task was made); headquarters and analysts every task. The figures
//! follow the same scope.
//!
//! **Closing.** The assigned guide, or a store manager or headquarters within scope, marks an
//! open task done (with an optional note) or skipped (with a reason). The change is a guarded
//! update (`… WHERE state = 'open'`), so of two closings at once exactly one applies and the
//! other is 409 `task_closed`. Analysts only read.
//!
//! **Reminders.** When a task falls due a job sends the guide a WeCom app message
//! ("待办：{title}（到期 …）"); while the task stays open it is sent again every 24 hours, at
//! most [`MAX_REMINDERS`] times. Each reminder is taken by a guarded update of the task's
//! count before it is sent, so a replayed job sends nothing twice. A guide's app messages stay
//! under WeCom's 30 per minute (tracked-link notices included): past it the reminder waits a
//! minute. Without WeCom, or for a guide with no WeCom account, the job records why and stops.

use rand::RngCore;
use serde::{Deserialize, Serialize};
use yutang_core::FieldError;
use yutang_core::guide_tasks::{
    self as core, MAX_REMINDERS, REMIND_EVERY_MS, Source, State, completion_bp,
};
use yutang_core::identity::mask_phone;
use yutang_core::ids::CustomerId;
use yutang_core::staff::Role;
use yutang_core::time::{EARLIEST_FACT, LATEST_SCHEDULE, Millis};
use yutang_store::Tx;
use yutang_store::guide_tasks::{self as store, NewTask, StatsRow, TaskFilter, TaskRow};
use yutang_store::jobs::{self as job_store, JobRow, NewJob};
use yutang_wecom::client::api::MessageSendRequest;

use crate::analytics::reports::DEDUPE_SECS;
use crate::audit::{self, Action};
use crate::error::{AppError, Result};
use crate::jobs::JobRegistry;
use crate::staff_scope::StaffScope as Scope;
use crate::{Actor, App};

/// Job kind: remind a guide of a task that fell due.
pub const REMIND_KIND: &str = "guide_task_remind";
/// A page holds this many tasks unless the caller asks otherwise.
const DEFAULT_PAGE: i64 = 50;
/// A page holds at most this many.
const MAX_PAGE: i64 = 200;
/// The figures cover this many days unless the caller asks otherwise.
const DEFAULT_DAYS: i64 = 30;
const MAX_DAYS: i64 = 90;
const DAY_MS: i64 = 24 * 3600 * 1000;
/// A reminder over the guide's per-minute limit waits this long, at most this many times.
const RATE_WAIT_MS: i64 = 60 * 1000;
const RATE_ROUNDS: u32 = 30;

pub(crate) fn register(reg: &mut JobRegistry) {
    reg.register(REMIND_KIND, |app, job| {
        Box::pin(async move { app.guide_tasks().run_remind(job).await })
    });
}

/// The guide-task use cases.
pub struct GuideTasks<'a>(&'a App);

impl std::ops::Deref for GuideTasks<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    pub fn guide_tasks(&self) -> GuideTasks<'_> {
        GuideTasks(self)
    }
}

/// A task to make inside the caller's transaction (see [`create_in`]).
#[derive(Debug, Clone, Copy)]
pub struct NewGuideTask<'a> {
    /// The guide who should do it.
    pub staff_id: i64,
    pub customer_id: Option<i64>,
    /// 1–60 characters, one line.
    pub title: &'a str,
    /// At most 1,000 characters.
    pub body: &'a str,
    /// A material of the library to send with it.
    pub material_id: Option<i64>,
    /// `manual` or `journey`.
    pub source: &'a str,
    /// What made it, e.g. `journey:12:step:2` (at most 200 bytes; may be empty).
    pub source_ref: &'a str,
    /// Makes the task once (1–200 bytes): the same key again is a replay.
    pub dedupe_key: &'a str,
    /// Epoch milliseconds; the first reminder goes then.
    pub due_at: i64,
    /// The staff member who made it, if a person did.
    pub created_by: Option<i64>,
}

/// Make a task in the caller's transaction: the guide's current store is recorded with it,
/// its first reminder is queued for `due_at` and, when it names a customer, the customer's
/// timeline gets a `guide_task_created` entry — all in `tx`. `Ok(None)` when a task with this
/// dedupe key exists already (a replay: nothing else happens).
///
/// The journey engine calls this for its task steps. It checks the fields' form and that the
/// staff member exists; who may assign tasks to whom is the caller's to decide.
pub async fn create_in(app: &App, tx: &mut Tx, t: &NewGuideTask<'_>) -> Result<Option<i64>> {
    let title = core::parse_title("title", t.title)?;
    let body = core::parse_body("body", t.body)?;
    let source = Source::from_field("source", t.source)?;
    let source_ref = core::parse_key("source_ref", t.source_ref, false)?;
    let dedupe_key = core::parse_key("dedupe_key", t.dedupe_key, true)?;
    if t.due_at < EARLIEST_FACT.0 || t.due_at > LATEST_SCHEDULE.0 {
        return Err(FieldError::new(
            "due_at",
            "invalid_time",
            "between 2000-01-01 and 2100-01-01",
        )
        .into());
    }
    let Some((store_id, _status)) = store::staff_store_in(tx, t.staff_id).await? else {
        return Err(FieldError::new("staff_id", "unknown_guide", "no such staff member").into());
    };
    let now = app.now();
    let row = NewTask {
        staff_id: t.staff_id,
        store_id,
        customer_id: t.customer_id,
        title: &title,
        body: &body,
        material_id: t.material_id,
        source: source.as_str(),
        source_ref: &source_ref,
        dedupe_key: &dedupe_key,
        due_at: t.due_at,
        created_by: t.created_by,
    };
    let Some(id) = store::insert_in(tx, &row, now).await? else {
        return Ok(None);
    };
    remind_at_in(tx, id, 1, 0, t.due_at, now).await?;
    if let Some(customer) = t.customer_id {
        let detail = serde_json::json!({
            "task_id": id,
            "title": title,
            "due_at": t.due_at,
            "source": source.as_str(),
        })
        .to_string();
        yutang_store::events::append_in(
            tx,
            customer,
            "guide_task_created",
            now,
            Some(t.staff_id),
            &detail,
            now,
        )
        .await?;
    }
    Ok(Some(id))
}

/// Queue reminder `n` of task `id` (its throttled `round`) at `run_at`; once per key.
async fn remind_at_in(
    tx: &mut Tx,
    id: i64,
    n: i64,
    round: u32,
    run_at: i64,
    now: i64,
) -> Result<()> {
    let key = remind_key(id, n, round);
    job_store::enqueue_in(
        tx,
        &NewJob {
            kind: REMIND_KIND,
            payload: &json(&RemindJob {
                task_id: id,
                n,
                round,
                outcome: None,
            })?,
            run_at,
            idempotency_key: Some(&key),
            created_by: None,
        },
        now,
    )
    .await?;
    Ok(())
}

/// `guide_task_remind:{id}:{n}`, and `…:r{round}` for a reminder that waited.
fn remind_key(id: i64, n: i64, round: u32) -> String {
    if round == 0 {
        format!("{REMIND_KIND}:{id}:{n}")
    } else {
        format!("{REMIND_KIND}:{id}:{n}:r{round}")
    }
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| AppError::Internal(format!("json: {e}")))
}

#[derive(Debug, Serialize, Deserialize)]
struct RemindJob {
    task_id: i64,
    /// Which reminder (1 to [`MAX_REMINDERS`]).
    n: i64,
    /// How many times it waited for the guide's per-minute limit.
    #[serde(default)]
    round: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    outcome: Option<String>,
}

/// Who sets tasks by hand: headquarters (admins, operators) and store managers (for their
/// store's guides). The match names each role so that a new one must decide.
fn require_assigner(actor: &Actor) -> Result<()> {
    match actor.caller.role {
        Role::Admin | Role::Operator | Role::StoreManager => Ok(()),
        Role::Guide | Role::Analyst => Err(AppError::Forbidden),
    }
}

/// Who closes tasks: the assigned guide, a store manager and headquarters (each within
/// scope); analysts only read.
fn require_closer(actor: &Actor) -> Result<()> {
    match actor.caller.role {
        Role::Admin | Role::Operator | Role::StoreManager | Role::Guide => Ok(()),
        Role::Analyst => Err(AppError::Forbidden),
    }
}

fn not_found() -> AppError {
    AppError::NotFound { what: "guide_task" }
}

/// A task as shown.
#[derive(Debug, Clone, Serialize)]
pub struct TaskView {
    pub id: i64,
    pub staff_id: i64,
    pub staff_name: String,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    pub customer_id: Option<i64>,
    pub customer_name: Option<String>,
    /// The customer's phone, masked (`138****5678`).
    pub customer_phone: Option<String>,
    pub title: String,
    pub body: String,
    pub material_id: Option<i64>,
    pub material_title: Option<String>,
    /// `manual` or `journey`.
    pub source: String,
    pub source_ref: String,
    pub due_at: i64,
    /// Open and past due.
    pub overdue: bool,
    /// `open`, `done` or `skipped`.
    pub state: String,
    /// Why it was skipped, or the note it was done with.
    pub reason: String,
    pub done_at: Option<i64>,
    pub reminders: i64,
    pub reminded_at: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

impl TaskView {
    fn of(r: TaskRow, now: i64) -> Self {
        Self {
            overdue: r.state == State::Open.as_str() && r.due_at < now,
            id: r.id,
            staff_id: r.staff_id,
            staff_name: r.staff_name.unwrap_or_default(),
            store_id: r.store_id,
            store_name: r.store_name,
            customer_id: r.customer_id,
            customer_name: r.customer_name,
            customer_phone: r.customer_phone.map(|p| mask_phone(&p)),
            title: r.title,
            body: r.body,
            material_id: r.material_id,
            material_title: r.material_title,
            source: r.source,
            source_ref: r.source_ref,
            due_at: r.due_at,
            state: r.state,
            reason: r.reason,
            done_at: r.done_at,
            reminders: r.reminders,
            reminded_at: r.reminded_at,
            created_by: r.created_by,
            created_at: r.created_at,
        }
    }
}

/// A page of tasks, newest first.
#[derive(Debug, Clone, Serialize)]
pub struct TaskPage {
    pub items: Vec<TaskView>,
    /// Pass back as `before` for the next page; `None` on the last.
    pub next_before: Option<i64>,
}

/// What to list, as the caller gave it.
#[derive(Debug, Clone, Default)]
pub struct TaskQuery {
    /// `open`, `done` or `skipped`; every state when absent.
    pub state: Option<String>,
    pub staff_id: Option<i64>,
    pub store_id: Option<i64>,
    pub customer_id: Option<i64>,
    /// Only tasks due before this instant.
    pub due_before: Option<i64>,
    /// The `next_before` of the previous page.
    pub before: Option<i64>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
}

/// A task set by hand.
#[derive(Debug, Clone, Default)]
pub struct TaskInput {
    pub staff_id: i64,
    pub customer_id: Option<i64>,
    pub title: String,
    pub body: Option<String>,
    pub material_id: Option<i64>,
    /// Epoch milliseconds; not in the past.
    pub due_at: i64,
}

/// A guide as the forms offer them.
#[derive(Debug, Clone, Serialize)]
pub struct GuideChoice {
    pub staff_id: i64,
    pub name: String,
    pub store_id: Option<i64>,
}

/// One guide's or store's figures.
#[derive(Debug, Clone, Serialize)]
pub struct StatsLine {
    /// The guide's or the store's id (`None`: tasks of guides in no store).
    pub id: Option<i64>,
    pub name: String,
    pub total: i64,
    pub done: i64,
    pub skipped: i64,
    pub open: i64,
    /// Open and past due.
    pub overdue: i64,
    /// done × 10,000 / total (0 with no task).
    pub completion_bp: i64,
}

impl From<StatsRow> for StatsLine {
    fn from(r: StatsRow) -> Self {
        Self {
            id: r.id,
            name: r.name.unwrap_or_default(),
            total: r.total,
            done: r.done,
            skipped: r.skipped,
            open: r.open,
            overdue: r.overdue,
            completion_bp: completion_bp(r.done, r.total),
        }
    }
}

/// The figures of the tasks made in the last `days` days.
#[derive(Debug, Clone, Serialize)]
pub struct TaskStats {
    pub days: i64,
    /// The window's start (epoch milliseconds).
    pub since: i64,
    /// Every task in the window and scope together.
    pub total: StatsLine,
    pub guides: Vec<StatsLine>,
    pub stores: Vec<StatsLine>,
}

fn blank_to_none(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// A dedupe key no other task has: `manual:` and 16 random bytes in hex.
fn manual_key() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("manual:{hex}")
}

impl GuideTasks<'_> {
    /// The active guides the caller may assign tasks to (headquarters: all; a store manager:
    /// their store's) or filter the list by (a guide: none).
    pub async fn guide_choices(&self, actor: &Actor) -> Result<Vec<GuideChoice>> {
        let rows = match Scope::of(actor)? {
            Scope::All => store::guides(&self.db, None).await?,
            Scope::Store(s) => store::guides(&self.db, Some(s)).await?,
            Scope::Guide(_) => Vec::new(),
        };
        Ok(rows
            .into_iter()
            .map(|(staff_id, name, store_id)| GuideChoice {
                staff_id,
                name,
                store_id,
            })
            .collect())
    }

    /// A page of tasks in the caller's scope, newest first.
    pub async fn list(&self, actor: &Actor, q: &TaskQuery) -> Result<TaskPage> {
        let scope = Scope::of(actor)?;
        let state = match blank_to_none(q.state.as_deref()) {
            Some(s) => Some(State::from_field("state", s)?.as_str()),
            None => None,
        };
        let limit = q.limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(FieldError::new("limit", "invalid_page_size", "1–200").into());
        }
        let empty = TaskPage {
            items: Vec::new(),
            next_before: None,
        };
        // The scope narrows the filters; a filter outside it finds nothing.
        let staff_id = match (scope.staff(), q.staff_id) {
            (Some(own), Some(asked)) if own != asked => return Ok(empty),
            (Some(own), _) => Some(own),
            (None, asked) => asked,
        };
        let store_id = match (scope.store(), q.store_id) {
            (Some(own), Some(asked)) if own != asked => return Ok(empty),
            (Some(own), _) => Some(own),
            (None, asked) => asked,
        };
        let filter = TaskFilter {
            state,
            staff_id,
            store_id,
            customer_id: q.customer_id,
            due_before: q.due_before,
            before: q.before,
        };
        let mut rows = store::list(&self.db, &filter, limit + 1).await?;
        let more = rows.len() as i64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(50));
        let next_before = if more {
            rows.last().map(|r| r.id)
        } else {
            None
        };
        let now = self.now();
        Ok(TaskPage {
            items: rows.into_iter().map(|r| TaskView::of(r, now)).collect(),
            next_before,
        })
    }

    /// One task in the caller's scope (404 outside it).
    pub async fn get(&self, actor: &Actor, id: i64) -> Result<TaskView> {
        let scope = Scope::of(actor)?;
        let row = store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("guide_task"))?;
        if !scope.covers(row.staff_id, row.store_id) {
            return Err(not_found());
        }
        Ok(TaskView::of(row, self.now()))
    }

    /// Set a task by hand for a guide: headquarters for any active guide, a store manager for
    /// a guide of their store. The customer must be in the caller's scope, the material in the
    /// library (not archived), the due time ahead (a few minutes' slack) and before 2100.
    pub async fn create(&self, actor: &Actor, input: &TaskInput) -> Result<TaskView> {
        require_assigner(actor)?;
        let scope = Scope::of(actor)?;
        let title = core::parse_title("title", &input.title)?;
        let body = core::parse_body("body", input.body.as_deref().unwrap_or(""))?;
        let now = self.now();
        if input.due_at < now - crate::messaging::PAST_SLACK_MS {
            return Err(FieldError::new("due_at", "due_at_past", "the due time has passed").into());
        }
        if input.due_at > LATEST_SCHEDULE.0 {
            return Err(FieldError::new("due_at", "invalid_time", "too far ahead").into());
        }
        let unknown_guide = || {
            AppError::from(FieldError::new(
                "staff_id",
                "unknown_guide",
                "no such active guide in your scope",
            ))
        };
        let staff = match yutang_store::staff::get(&self.db, input.staff_id).await {
            Ok(s) => s,
            Err(yutang_store::StoreError::NotFound) => return Err(unknown_guide()),
            Err(e) => return Err(e.into()),
        };
        let in_store = match scope {
            Scope::Store(s) => staff.store_id == Some(s),
            _ => true,
        };
        if staff.status != "active" || staff.role != Role::Guide.as_str() || !in_store {
            return Err(unknown_guide());
        }
        if let Some(m) = input.material_id {
            match yutang_store::materials::get(&self.db, m).await {
                Ok(row) if row.status != "active" => {
                    return Err(AppError::Rule {
                        code: "material_archived",
                        message: "the material is archived".into(),
                    });
                }
                Ok(_) => {}
                Err(yutang_store::StoreError::NotFound) => {
                    return Err(FieldError::new(
                        "material_id",
                        "unknown_material",
                        format!("no material {m}"),
                    )
                    .into());
                }
                Err(e) => return Err(e.into()),
            }
        }
        let customer_id = match input.customer_id {
            Some(c) => Some(
                self.customers()
                    .visible_customer(actor, CustomerId(c))
                    .await
                    .map_err(|_| {
                        AppError::from(FieldError::new(
                            "customer_id",
                            "unknown_customer",
                            "no such customer in your scope",
                        ))
                    })?
                    .0,
            ),
            None => None,
        };
        let key = manual_key();
        let created_by = actor.caller.staff_id().map(|s| s.0);
        let mut tx = self.db.begin().await?;
        let id = create_in(
            self,
            &mut tx,
            &NewGuideTask {
                staff_id: staff.id,
                customer_id,
                title: &title,
                body: &body,
                material_id: input.material_id,
                source: Source::Manual.as_str(),
                source_ref: "",
                dedupe_key: &key,
                due_at: input.due_at,
                created_by,
            },
        )
        .await?
        .ok_or_else(|| AppError::Internal("a fresh task key was taken".into()))?;
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::GuideTaskChanged,
            &format!("guide_task:{id}"),
            &serde_json::json!({
                "op": "guide_task.create",
                "staff_id": staff.id,
                "title": title,
                "due_at": input.due_at,
            })
            .to_string(),
        )
        .await?;
        tx.commit().await?;
        self.get(actor, id).await
    }

    /// Mark an open task done, with an optional note (at most 200 characters).
    pub async fn done(&self, actor: &Actor, id: i64, note: Option<&str>) -> Result<TaskView> {
        require_closer(actor)?;
        self.get(actor, id).await?;
        let note = core::parse_note("note", note.unwrap_or(""))?;
        self.close(actor, id, State::Done, &note).await
    }

    /// Skip an open task, saying why (1–200 characters).
    pub async fn skip(&self, actor: &Actor, id: i64, reason: &str) -> Result<TaskView> {
        require_closer(actor)?;
        self.get(actor, id).await?;
        let reason = core::parse_reason("reason", reason)?;
        self.close(actor, id, State::Skipped, &reason).await
    }

    async fn close(&self, actor: &Actor, id: i64, state: State, reason: &str) -> Result<TaskView> {
        let now = self.now();
        let mut tx = self.db.begin().await?;
        if !store::close_in(&mut tx, id, state.as_str(), reason, now).await? {
            return Err(AppError::Rule {
                code: "task_closed",
                message: "the task is already done or skipped".into(),
            });
        }
        let row = store::get_in(&mut tx, id).await?;
        let (op, kind) = match state {
            State::Done => ("guide_task.done", "guide_task_done"),
            _ => ("guide_task.skip", "guide_task_skipped"),
        };
        audit::record_in(
            self,
            &mut tx,
            actor,
            Action::GuideTaskChanged,
            &format!("guide_task:{id}"),
            &serde_json::json!({ "op": op, "staff_id": row.staff_id, "reason": reason })
                .to_string(),
        )
        .await?;
        if let Some(customer) = row.customer_id {
            let detail = serde_json::json!({
                "task_id": id,
                "title": row.title,
                "reason": reason,
            })
            .to_string();
            yutang_store::events::append_in(
                &mut tx,
                customer,
                kind,
                now,
                Some(row.staff_id),
                &detail,
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(TaskView::of(row, now))
    }

    /// The figures of the tasks made in the last `days` days (1–90, default 30), per guide and
    /// per store, in the caller's scope.
    pub async fn stats(&self, actor: &Actor, days: Option<i64>) -> Result<TaskStats> {
        let scope = Scope::of(actor)?;
        let days = days.unwrap_or(DEFAULT_DAYS);
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(FieldError::new("days", "invalid_days", "1–90").into());
        }
        let now = self.now();
        let since = now - days * DAY_MS;
        let (guides, stores) =
            store::stats(&self.db, since, scope.staff(), scope.store(), now).await?;
        let mut total = StatsRow::default();
        for g in &guides {
            total.total += g.total;
            total.done += g.done;
            total.skipped += g.skipped;
            total.open += g.open;
            total.overdue += g.overdue;
        }
        Ok(TaskStats {
            days,
            since,
            total: total.into(),
            guides: guides.into_iter().map(StatsLine::from).collect(),
            stores: stores.into_iter().map(StatsLine::from).collect(),
        })
    }

    /// The reminder job: tell the guide the task is due, once per reminder (see the module's
    /// doc).
    async fn run_remind(&self, job: &JobRow) -> Result<String> {
        let j: RemindJob = serde_json::from_str(&job.payload)
            .map_err(|_| AppError::Internal(format!("bad guide task job {}", job.payload)))?;
        let outcome = |what: &str| {
            json(&RemindJob {
                task_id: j.task_id,
                n: j.n,
                round: j.round,
                outcome: Some(what.to_owned()),
            })
        };
        let task = match store::get(&self.db, j.task_id).await {
            Ok(t) => t,
            Err(yutang_store::StoreError::NotFound) => return outcome("no task"),
            Err(e) => return Err(e.into()),
        };
        if task.state != State::Open.as_str() {
            return outcome("closed");
        }
        if task.reminders >= j.n {
            return outcome("reminded already");
        }
        let staff = yutang_store::staff::get(&self.db, task.staff_id).await?;
        let Some(userid) = staff
            .wecom_userid
            .filter(|u| !u.is_empty() && staff.status == "active")
        else {
            return outcome("guide not in WeCom");
        };
        let Some((agentid, client)) = self.wecom().app_client().await? else {
            return outcome("wecom_not_configured");
        };
        let now = self.now();
        let sent = store::app_messages_since(&self.db, task.staff_id, now - 60_000).await?;
        if sent >= crate::radar::NOTICES_PER_MINUTE {
            if j.round >= RATE_ROUNDS {
                return outcome("rate_limited");
            }
            let mut tx = self.db.begin().await?;
            remind_at_in(&mut tx, task.id, j.n, j.round + 1, now + RATE_WAIT_MS, now).await?;
            tx.commit().await?;
            return outcome("waiting for the guide's per-minute limit");
        }
        // Take the reminder (and queue the next) before sending: a replay finds it taken.
        let mut tx = self.db.begin().await?;
        if !store::take_reminder_in(&mut tx, task.id, j.n, now).await? {
            return outcome("closed or reminded already");
        }
        if j.n < MAX_REMINDERS {
            remind_at_in(&mut tx, task.id, j.n + 1, 0, now + REMIND_EVERY_MS, now).await?;
        }
        tx.commit().await?;
        let mut text = format!(
            "待办：{}（到期 {}）",
            task.title,
            Millis(task.due_at).to_shanghai_string()
        );
        if let Some(name) = task.customer_name.as_deref().filter(|n| !n.is_empty()) {
            text.push_str(&format!("\n客户：{name}"));
        }
        if !task.body.is_empty() {
            text.push('\n');
            text.push_str(&task.body);
        }
        if let Some(m) = task.material_title.as_deref() {
            text.push_str(&format!("\n素材：《{m}》"));
        }
        text.push_str(&format!("\n编号 #{}，第 {} 次提醒", task.id, j.n));
        let request = MessageSendRequest::text(agentid, &[userid], &text, DEDUPE_SECS);
        match client.message_send(&request).await {
            Ok(_) => outcome("sent"),
            Err(e) if e.is_transient() => {
                store::return_reminder(&self.db, task.id, j.n, task.reminders, task.reminded_at)
                    .await?;
                Err(AppError::Internal(format!("wecom_error: {e}")))
            }
            Err(e) => outcome(&format!("wecom_error: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Settings;

    async fn app(dir: &tempfile::TempDir) -> App {
        App::open(Settings {
            database_url: format!("sqlite://{}", dir.path().join("y.db").display()),
            ..Settings::default()
        })
        .await
        .expect("open")
    }

    /// `create_in` makes a task once per dedupe key: a replay (in another transaction, as a
    /// journey's step run again) is `None` and adds no task, reminder or timeline entry.
    #[tokio::test]
    async fn create_in_makes_a_task_once_per_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let app = app(&dir).await;
        let staff = yutang_store::staff::create(
            &app.db,
            &yutang_store::staff::NewStaff {
                username: "g.unit",
                display_name: "单元导购",
                role: "guide",
                store_id: None,
                password_hash: None,
                wecom_userid: None,
            },
            app.now(),
        )
        .await
        .unwrap();
        let mut tx = app.db.begin().await.unwrap();
        let customer = yutang_store::customers::identities::create_in(&mut tx, app.now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let due = app.now() + 3_600_000;
        let task = NewGuideTask {
            staff_id: staff,
            customer_id: Some(customer),
            title: "回访：满月礼",
            body: "问问宝宝的情况",
            material_id: None,
            source: "journey",
            source_ref: "journey:12:step:2",
            dedupe_key: "journey:12:step:2:customer:1",
            due_at: due,
            created_by: None,
        };
        let mut tx = app.db.begin().await.unwrap();
        let first = create_in(&app, &mut tx, &task).await.unwrap();
        tx.commit().await.unwrap();
        let id = first.expect("a new task");
        let mut tx = app.db.begin().await.unwrap();
        assert_eq!(create_in(&app, &mut tx, &task).await.unwrap(), None);
        tx.commit().await.unwrap();

        let tasks = store::list(&app.db, &TaskFilter::default(), 10)
            .await
            .unwrap();
        assert_eq!(tasks.len(), 1);
        let (_, created) =
            yutang_store::events::timeline(&app.db, customer, Some("guide_task_created"), 10, 0)
                .await
                .unwrap();
        assert_eq!(created, 1);
        let row = store::get(&app.db, id).await.unwrap();
        assert_eq!(
            (
                row.state.as_str(),
                row.source.as_str(),
                row.source_ref.as_str()
            ),
            ("open", "journey", "journey:12:step:2")
        );
        assert_eq!((row.due_at, row.customer_id), (due, Some(customer)));
        let job = yutang_store::jobs::list(&app.db, Some(REMIND_KIND), 10)
            .await
            .unwrap();
        assert_eq!(job.len(), 1);
        assert_eq!(
            job[0].idempotency_key.as_deref(),
            Some(format!("guide_task_remind:{id}:1").as_str())
        );
        assert_eq!(job[0].run_at, due);

        // Bad fields are refused by field; an unknown staff member too.
        let mut tx = app.db.begin().await.unwrap();
        let e = create_in(
            &app,
            &mut tx,
            &NewGuideTask {
                title: "",
                dedupe_key: "other",
                ..task
            },
        )
        .await
        .unwrap_err();
        assert!(matches!(e, AppError::Invalid(f) if f.field == "title"));
        let e = create_in(
            &app,
            &mut tx,
            &NewGuideTask {
                staff_id: staff + 1000,
                dedupe_key: "other",
                ..task
            },
        )
        .await
        .unwrap_err();
        assert!(matches!(e, AppError::Invalid(f) if f.code == "unknown_guide"));
        let e = create_in(
            &app,
            &mut tx,
            &NewGuideTask {
                source: "robot",
                dedupe_key: "other",
                ..task
            },
        )
        .await
        .unwrap_err();
        assert!(matches!(e, AppError::Invalid(f) if f.field == "source"));
    }

    #[test]
    fn reminder_keys_name_the_task_and_the_reminder() {
        assert_eq!(remind_key(12, 1, 0), "guide_task_remind:12:1");
        assert_eq!(remind_key(12, 2, 3), "guide_task_remind:12:2:r3");
        assert!(manual_key().starts_with("manual:") && manual_key().len() == 39);
        assert_ne!(manual_key(), manual_key());
    }
}
