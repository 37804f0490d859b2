//! `/api/v1/guide-tasks`: the guide task inbox (导购待办, issue #21 item 6) — tasks for guides
//! set by a store manager or headquarters (or made by a customer journey), closed as done or
//! skipped, reminded through WeCom when due, and the completion figures per guide and per
//! store. A guide sees their own tasks, a store manager their store's, headquarters and
//! analysts every task. See docs/guide-tasks.md.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yutang_app::guide_tasks::{StatsLine, TaskInput, TaskPage, TaskQuery, TaskStats, TaskView};
use yutang_core::time::Millis;

use crate::auth::{ApiActor, ApiJson, ApiQuery, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

fn ts(ms: i64) -> String {
    Millis(ms).to_rfc3339()
}

/// A task set by hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = GuideTaskIn)]
pub struct TaskIn {
    /// The guide who should do it: an active guide (a store manager: of their store).
    pub staff_id: i64,
    /// The customer it is about, in the caller's scope.
    pub customer_id: Option<i64>,
    /// 1–60 characters, one line.
    pub title: String,
    /// What to do, at most 1,000 characters.
    pub body: Option<String>,
    /// A material of the library to send (not archived).
    pub material_id: Option<i64>,
    /// RFC 3339; not in the past, before 2100.
    pub due_at: String,
}

/// Mark a task done, with an optional note.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = GuideTaskDoneIn)]
pub struct DoneIn {
    /// At most 200 characters.
    pub note: Option<String>,
}

/// Skip a task, saying why.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = GuideTaskSkipIn)]
pub struct SkipIn {
    /// 1–200 characters.
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = GuideTaskOut)]
pub struct TaskOut {
    pub id: i64,
    /// The guide who should do it.
    pub staff_id: i64,
    pub staff_name: String,
    /// The guide's store when the task was made.
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
    /// What made it, e.g. `journey:12:step:2` (empty for a manual task).
    pub source_ref: String,
    pub due_at: String,
    /// Open and past due.
    pub overdue: bool,
    /// `open`, `done` or `skipped`.
    pub state: String,
    /// Why it was skipped, or the note it was done with.
    pub reason: String,
    pub done_at: Option<String>,
    /// WeCom reminders sent (at most 3).
    pub reminders: i64,
    pub reminded_at: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: String,
}

impl From<TaskView> for TaskOut {
    fn from(v: TaskView) -> Self {
        Self {
            id: v.id,
            staff_id: v.staff_id,
            staff_name: v.staff_name,
            store_id: v.store_id,
            store_name: v.store_name,
            customer_id: v.customer_id,
            customer_name: v.customer_name,
            customer_phone: v.customer_phone,
            title: v.title,
            body: v.body,
            material_id: v.material_id,
            material_title: v.material_title,
            source: v.source,
            source_ref: v.source_ref,
            due_at: ts(v.due_at),
            overdue: v.overdue,
            state: v.state,
            reason: v.reason,
            done_at: v.done_at.map(ts),
            reminders: v.reminders,
            reminded_at: v.reminded_at.map(ts),
            created_by: v.created_by,
            created_at: ts(v.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = GuideTaskPageOut)]
pub struct TaskPageOut {
    pub items: Vec<TaskOut>,
    /// Pass back as `before` for the next page; null on the last page.
    pub next_before: Option<i64>,
}

impl From<TaskPage> for TaskPageOut {
    fn from(p: TaskPage) -> Self {
        Self {
            items: p.items.into_iter().map(TaskOut::from).collect(),
            next_before: p.next_before,
        }
    }
}

/// One guide's or one store's figures.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = GuideTaskStatsLine)]
pub struct StatsLineOut {
    /// The guide's or the store's id (null: tasks of guides in no store).
    pub id: Option<i64>,
    pub name: String,
    pub total: i64,
    pub done: i64,
    pub skipped: i64,
    pub open: i64,
    /// Open and past due.
    pub overdue: i64,
    /// done × 10,000 / total, in basis points (0 with no task).
    pub completion_bp: i64,
}

impl From<StatsLine> for StatsLineOut {
    fn from(l: StatsLine) -> Self {
        Self {
            id: l.id,
            name: l.name,
            total: l.total,
            done: l.done,
            skipped: l.skipped,
            open: l.open,
            overdue: l.overdue,
            completion_bp: l.completion_bp,
        }
    }
}

/// The figures of the tasks made in the window.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = GuideTaskStatsOut)]
pub struct StatsOut {
    pub days: i64,
    /// The window's start.
    pub since: String,
    /// Every task in the window and the caller's scope.
    pub total: StatsLineOut,
    /// Per guide, most tasks first.
    pub guides: Vec<StatsLineOut>,
    /// Per store (the guide's store when the task was made), most tasks first.
    pub stores: Vec<StatsLineOut>,
}

impl From<TaskStats> for StatsOut {
    fn from(s: TaskStats) -> Self {
        Self {
            days: s.days,
            since: ts(s.since),
            total: s.total.into(),
            guides: s.guides.into_iter().map(StatsLineOut::from).collect(),
            stores: s.stores.into_iter().map(StatsLineOut::from).collect(),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TasksParams {
    /// `open`, `done` or `skipped`; every state when absent.
    pub state: Option<String>,
    /// Only this guide's tasks (within the caller's scope).
    pub staff_id: Option<i64>,
    /// Only this store's tasks (within the caller's scope).
    pub store_id: Option<i64>,
    /// Only tasks about this customer.
    pub customer_id: Option<i64>,
    /// RFC 3339: only tasks due before this instant.
    pub due_before: Option<String>,
    /// The `next_before` of the previous page.
    pub before: Option<i64>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatsParams {
    /// The window in days, 1–90 (default 30): tasks made since then.
    pub days: Option<i64>,
}

/// A page of tasks, newest first: a guide's own, a store manager's store's, every task for
/// headquarters and analysts.
#[utoipa::path(get, path = "/api/v1/guide-tasks", tag = "guide_tasks", security(("bearer" = [])),
    params(TasksParams),
    responses((status = 200, body = TaskPageOut), (status = 403, body = ErrorBody),
        (status = 422, description = "invalid_query, invalid_status, invalid_page_size, invalid_time", body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<TasksParams>,
) -> WebResult<Json<TaskPageOut>> {
    let due_before = match &p.due_before {
        Some(d) => Some(Millis::parse_rfc3339("due_before", d)?.0),
        None => None,
    };
    let q = TaskQuery {
        state: p.state,
        staff_id: p.staff_id,
        store_id: p.store_id,
        customer_id: p.customer_id,
        due_before,
        before: p.before,
        limit: p.limit,
    };
    Ok(Json(s.app.guide_tasks().list(&a, &q).await?.into()))
}

/// Set a task for a guide (headquarters for any active guide, a store manager for a guide of
/// their store). Its first WeCom reminder goes when it falls due.
#[utoipa::path(post, path = "/api/v1/guide-tasks", tag = "guide_tasks", security(("bearer" = [])),
    request_body = TaskIn,
    responses((status = 201, body = TaskOut), (status = 403, body = ErrorBody),
        (status = 409, description = "material_archived", body = ErrorBody),
        (status = 422, description = "required, text_too_long, invalid_characters, invalid_time, due_at_past, unknown_guide, unknown_customer, unknown_material, unknown_field", body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(req): ApiJson<TaskIn>,
) -> WebResult<(StatusCode, Json<TaskOut>)> {
    let input = TaskInput {
        staff_id: req.staff_id,
        customer_id: req.customer_id,
        title: req.title,
        body: req.body,
        material_id: req.material_id,
        due_at: Millis::parse_rfc3339("due_at", &req.due_at)?.0,
    };
    let t = s.app.guide_tasks().create(&a, &input).await?;
    Ok((StatusCode::CREATED, Json(t.into())))
}

/// The figures of the tasks made in the last `days` days, per guide and per store: total,
/// done, skipped, open, overdue and the completion rate (in the caller's scope).
#[utoipa::path(get, path = "/api/v1/guide-tasks/stats", tag = "guide_tasks", security(("bearer" = [])),
    params(StatsParams),
    responses((status = 200, body = StatsOut), (status = 403, body = ErrorBody),
        (status = 422, description = "invalid_query, invalid_days", body = ErrorBody)))]
pub async fn stats(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> WebResult<Json<StatsOut>> {
    Ok(Json(s.app.guide_tasks().stats(&a, p.days).await?.into()))
}

/// One task (404 outside the caller's scope).
#[utoipa::path(get, path = "/api/v1/guide-tasks/{id}", tag = "guide_tasks", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = TaskOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<TaskOut>> {
    Ok(Json(s.app.guide_tasks().get(&a, id).await?.into()))
}

/// Mark an open task done (the assigned guide, or a store manager or headquarters in scope).
#[utoipa::path(post, path = "/api/v1/guide-tasks/{id}/done", tag = "guide_tasks", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = DoneIn,
    responses((status = 200, body = TaskOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "task_closed (already done or skipped)", body = ErrorBody),
        (status = 422, description = "text_too_long, invalid_characters, unknown_field", body = ErrorBody)))]
pub async fn done(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<DoneIn>,
) -> WebResult<Json<TaskOut>> {
    Ok(Json(
        s.app
            .guide_tasks()
            .done(&a, id, req.note.as_deref())
            .await?
            .into(),
    ))
}

/// Skip an open task, saying why (the assigned guide, or a store manager or headquarters in
/// scope).
#[utoipa::path(post, path = "/api/v1/guide-tasks/{id}/skip", tag = "guide_tasks", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = SkipIn,
    responses((status = 200, body = TaskOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "task_closed (already done or skipped)", body = ErrorBody),
        (status = 422, description = "required, text_too_long, invalid_characters, unknown_field", body = ErrorBody)))]
pub async fn skip(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<SkipIn>,
) -> WebResult<Json<TaskOut>> {
    Ok(Json(
        s.app.guide_tasks().skip(&a, id, &req.reason).await?.into(),
    ))
}
