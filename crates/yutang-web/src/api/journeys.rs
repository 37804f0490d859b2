//! `/api/v1/journeys`: the journey engine (SOP / 自动化旅程, issue #21 item 5) — a trigger
//! and a list of steps each enrolled customer walks, with live counts per step and a
//! per-customer trace. Admins and operators write; store managers and analysts read. See
//! docs/journeys.md for the definition's JSON.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yutang_app::journeys::{
    CalendarWeek, GroupSendRow, JourneyDetail, JourneyInput, JourneyView, RunTrace,
};
use yutang_core::journeys::{Definition, Entry, QuietHours, Step, Trigger};
use yutang_core::time::Millis;

use crate::auth::{ApiActor, ApiJson, ApiQuery, IdPath};
use crate::error::{ErrorBody, WebResult};
use crate::state::AppState;

fn ts(ms: i64) -> String {
    Millis(ms).to_rfc3339()
}

/// A journey: its name, what enrols customers, the steps, who may enter again and the quiet
/// hours (`null`: none). Every object is strict: unknown keys are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JourneyIn {
    /// 1–40 characters.
    pub name: String,
    /// `{"kind": "event", "event": "add_friend"}`;
    /// `{"kind": "schedule", "weekdays": [2], "time": "10:00", "audience": "<segment expression>"}`
    /// or `{"kind": "schedule", "at": <UTC millis>, "audience": …}`;
    /// `{"kind": "date", "attribute": "birthday" | "first_order", "offset_days": 0, "time": "09:00"}`;
    /// `{"kind": "segment_enter" | "segment_leave", "expression": …}`;
    /// a group SOP: `{"kind": "group_schedule", "weekdays": [1,2,3,4,5,6,7], "time": "09:00",
    /// "group_ids": [..]}` (or `"all_groups": true`; or `"at"` for once), whose one step is a
    /// `group_message`.
    #[schema(value_type = Object)]
    pub trigger: Trigger,
    /// 1–50 steps, each `{"kind": …}`: `wait` (`seconds` 60 s–366 days), `wait_until`
    /// (`time`), `branch` (`expression`, `else_step`), `goto` (`step`), `tag` / `untag`
    /// (`tag_id`), `coupon` (`template_id`), `task` (`title`, `body`, `material_id`,
    /// `due_hours`), `message` (`text`, `attachments`), `notify` (`text`), `webhook`
    /// (`signal`); a group schedule's one step `group_message` (`text`, `delivery`
    /// `mass_message` with `attachments`, or `owner_task` with an optional `material_id`).
    #[schema(value_type = Vec<Object>)]
    pub steps: Vec<Step>,
    /// `{"rule": "once"}`, `{"rule": "cooldown", "days": 30}` or `{"rule": "reentry"}`.
    #[schema(value_type = Object)]
    pub entry: Entry,
    /// `{"start": "22:00", "end": "08:00"}` (Asia/Shanghai), or null for none.
    #[schema(value_type = Option<Object>)]
    pub quiet_hours: Option<QuietHours>,
}

impl JourneyIn {
    fn parse(self, now: i64) -> Result<JourneyInput, yutang_app::AppError> {
        JourneyInput::parse(
            &self.name,
            Definition {
                trigger: self.trigger,
                steps: self.steps,
                entry: self.entry,
                quiet_hours: self.quiet_hours,
            },
            now,
        )
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JourneyRuns)]
pub struct RunsOut {
    /// Runs waiting for their next step.
    pub active: i64,
    /// Runs whose message is being batched.
    pub sending: i64,
    pub done: i64,
    pub exited: i64,
    pub failed: i64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JourneyStep)]
pub struct StepOut {
    pub index: i64,
    pub kind: String,
    pub waiting: i64,
    pub sending: i64,
    /// Trace lines per outcome: `done`, `skipped`, `branched`, `waiting`, `queued`, `sent`,
    /// `quiet`, `paused`, `exited`, `failed`.
    #[schema(value_type = Object)]
    pub outcomes: std::collections::HashMap<String, i64>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JourneyVersion)]
pub struct VersionOut {
    pub version: i64,
    pub created_at: String,
    pub created_by: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JourneyOut {
    pub id: i64,
    pub name: String,
    /// `draft`, `active`, `paused` or `archived`.
    pub status: String,
    pub version: i64,
    pub trigger_kind: String,
    /// Why the engine paused it (something it names was deleted or archived).
    pub paused_reason: String,
    pub next_fire_at: Option<String>,
    #[schema(value_type = Object)]
    pub trigger: Trigger,
    #[schema(value_type = Vec<Object>)]
    pub steps: Vec<Step>,
    #[schema(value_type = Object)]
    pub entry: Entry,
    #[schema(value_type = Option<Object>)]
    pub quiet_hours: Option<QuietHours>,
    pub runs: RunsOut,
    pub created_by: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    /// Per step: runs there and what the step did (one journey only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step_counts: Option<Vec<StepOut>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versions: Option<Vec<VersionOut>>,
    /// A group schedule's latest posts, newest first (one journey only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_sends: Option<Vec<GroupSendOut>>,
}

/// One occurrence of a group schedule, posted.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupSendOut {
    pub occurrence_at: String,
    pub version: i64,
    /// `mass_message` or `owner_task`.
    pub delivery: String,
    /// The group mass message made (`mass_message`): its per-group results are at
    /// `/api/v1/mass-messages/{id}`.
    pub message_id: Option<i64>,
    /// Guide tasks made (`owner_task`), one per group owner.
    pub tasks: i64,
    /// Groups posted to, and groups left out (dismissed, or no owner in WeCom to post).
    pub groups: i64,
    pub skipped: i64,
    pub created_at: String,
}

impl From<GroupSendRow> for GroupSendOut {
    fn from(r: GroupSendRow) -> Self {
        Self {
            occurrence_at: ts(r.occurrence_at),
            version: r.version,
            delivery: r.delivery,
            message_id: r.message_id,
            tasks: r.tasks,
            groups: r.groups,
            skipped: r.skipped,
            created_at: ts(r.created_at),
        }
    }
}

impl From<JourneyView> for JourneyOut {
    fn from(v: JourneyView) -> Self {
        Self {
            id: v.id,
            name: v.name,
            status: v.status,
            version: v.version,
            trigger_kind: v.trigger_kind,
            paused_reason: v.paused_reason,
            next_fire_at: v.next_fire_at.map(ts),
            trigger: v.definition.trigger,
            steps: v.definition.steps,
            entry: v.definition.entry,
            quiet_hours: v.definition.quiet_hours,
            runs: RunsOut {
                active: v.runs.active,
                sending: v.runs.sending,
                done: v.runs.done,
                exited: v.runs.exited,
                failed: v.runs.failed,
            },
            created_by: v.created_by,
            created_at: ts(v.created_at),
            updated_at: ts(v.updated_at),
            step_counts: None,
            versions: None,
            group_sends: None,
        }
    }
}

impl From<JourneyDetail> for JourneyOut {
    fn from(d: JourneyDetail) -> Self {
        let mut out = Self::from(d.journey);
        out.step_counts = Some(
            d.steps
                .into_iter()
                .map(|s| StepOut {
                    index: s.index,
                    kind: s.kind,
                    waiting: s.waiting,
                    sending: s.sending,
                    outcomes: s.outcomes,
                })
                .collect(),
        );
        out.versions = Some(
            d.versions
                .into_iter()
                .map(|v| VersionOut {
                    version: v.version,
                    created_at: ts(v.created_at),
                    created_by: v.created_by,
                })
                .collect(),
        );
        out.group_sends = Some(d.group_sends.into_iter().map(GroupSendOut::from).collect());
        out
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JourneyTraceLine)]
pub struct TraceLineOut {
    pub step: i64,
    pub kind: String,
    pub outcome: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    pub at: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JourneyRun)]
pub struct RunOut {
    pub id: i64,
    pub version: i64,
    pub customer_id: i64,
    /// The step to run next (0-based).
    pub step: i64,
    /// `active`, `sending`, `done`, `exited` or `failed`.
    pub state: String,
    pub due_at: String,
    /// What enrolled the customer: `event:<id>`, `schedule:<millis>`, `date:<day>`,
    /// `segment:<millis>`.
    pub cause: String,
    pub reason: String,
    pub entered_at: String,
    pub ended_at: Option<String>,
    pub trace: Vec<TraceLineOut>,
}

impl From<RunTrace> for RunOut {
    fn from(t: RunTrace) -> Self {
        Self {
            id: t.run.id,
            version: t.run.version,
            customer_id: t.run.customer_id,
            step: t.run.step,
            state: t.run.state,
            due_at: ts(t.run.due_at),
            cause: t.run.cause,
            reason: t.run.reason,
            entered_at: ts(t.run.entered_at),
            ended_at: t.run.ended_at.map(ts),
            trace: t
                .trace
                .into_iter()
                .map(|l| TraceLineOut {
                    step: l.step,
                    kind: l.kind,
                    outcome: l.outcome,
                    detail: l.detail,
                    at: ts(l.at),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TraceParams {
    /// The customer whose runs to show; absent: the latest 50 runs the caller may see.
    pub customer_id: Option<i64>,
}

const WRITE_422: &str = "invalid_name, invalid_journey_steps, invalid_step, invalid_wait, journey_cycle, unknown_event_kind, invalid_schedule, invalid_weekdays, invalid_time_of_day, schedule_past, invalid_offset, invalid_expression, invalid_cooldown, invalid_quiet_hours, unknown_tag, unknown_template, unknown_material, unknown_field …";

/// Every journey, newest first, with its runs per state.
#[utoipa::path(get, path = "/api/v1/journeys", tag = "journeys", security(("bearer" = [])),
    responses((status = 200, body = Vec<JourneyOut>), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
) -> WebResult<Json<Vec<JourneyOut>>> {
    let rows = s.app.journeys().list(&a).await?;
    Ok(Json(rows.into_iter().map(JourneyOut::from).collect()))
}

/// Create a journey as a draft (start it with `/activate`).
#[utoipa::path(post, path = "/api/v1/journeys", tag = "journeys", security(("bearer" = [])),
    request_body = JourneyIn,
    responses((status = 201, body = JourneyOut), (status = 403, body = ErrorBody),
        (status = 422, description = WRITE_422, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiJson(req): ApiJson<JourneyIn>,
) -> WebResult<(StatusCode, Json<JourneyOut>)> {
    let input = req.parse(s.app.now())?;
    let d = s.app.journeys().create(&a, &input).await?;
    Ok((StatusCode::CREATED, Json(d.into())))
}

/// One journey with live counts per step and its versions.
#[utoipa::path(get, path = "/api/v1/journeys/{id}", tag = "journeys", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = JourneyOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<JourneyOut>> {
    Ok(Json(s.app.journeys().get(&a, id).await?.into()))
}

/// Save a new version: customers in flight stay on the version they entered with.
#[utoipa::path(put, path = "/api/v1/journeys/{id}", tag = "journeys", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = JourneyIn,
    responses((status = 200, body = JourneyOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "journey_state (archived)", body = ErrorBody),
        (status = 422, description = WRITE_422, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiJson(req): ApiJson<JourneyIn>,
) -> WebResult<Json<JourneyOut>> {
    let input = req.parse(s.app.now())?;
    Ok(Json(s.app.journeys().update(&a, id, &input).await?.into()))
}

/// Start a draft or resume a paused journey (what it names is checked again).
#[utoipa::path(post, path = "/api/v1/journeys/{id}/activate", tag = "journeys", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = JourneyOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "journey_state", body = ErrorBody),
        (status = 422, description = "unknown_tag, unknown_template, unknown_material, invalid_expression", body = ErrorBody)))]
pub async fn activate(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<JourneyOut>> {
    Ok(Json(s.app.journeys().activate(&a, id).await?.into()))
}

/// Pause: nobody new enters; customers in flight wait where they are.
#[utoipa::path(post, path = "/api/v1/journeys/{id}/pause", tag = "journeys", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = JourneyOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "journey_state", body = ErrorBody)))]
pub async fn pause(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<JourneyOut>> {
    Ok(Json(s.app.journeys().pause(&a, id).await?.into()))
}

/// Archive: customers in flight exit; the counts stay.
#[utoipa::path(post, path = "/api/v1/journeys/{id}/archive", tag = "journeys", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = JourneyOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "journey_state", body = ErrorBody)))]
pub async fn archive(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
) -> WebResult<Json<JourneyOut>> {
    Ok(Json(s.app.journeys().archive(&a, id).await?.into()))
}

/// A customer's runs of the journey (or the latest runs), each with what every step did and
/// why.
#[utoipa::path(get, path = "/api/v1/journeys/{id}/trace", tag = "journeys", security(("bearer" = [])),
    params(("id" = i64, Path), TraceParams),
    responses((status = 200, body = Vec<RunOut>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "invalid_query", body = ErrorBody)))]
pub async fn trace(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    IdPath(id): IdPath,
    ApiQuery(p): ApiQuery<TraceParams>,
) -> WebResult<Json<Vec<RunOut>>> {
    let runs = s.app.journeys().trace(&a, id, p.customer_id).await?;
    Ok(Json(runs.into_iter().map(RunOut::from).collect()))
}

/// One occurrence in the calendar's week.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JourneyCalendarEntry)]
pub struct CalendarEntryOut {
    pub journey_id: i64,
    pub name: String,
    /// `active` or `paused`.
    pub status: String,
    /// `group_schedule` (a group SOP) or `schedule` (customers).
    pub trigger_kind: String,
    pub at: String,
    /// `HH:MM`, Asia/Shanghai.
    pub time: String,
    /// A group SOP's delivery: `mass_message` or `owner_task`.
    pub delivery: Option<String>,
    /// The first 60 characters of what is sent.
    pub preview: String,
    /// The post made for this occurrence, once made.
    pub sent: Option<GroupSendOut>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JourneyCalendarDay)]
pub struct CalendarDayOut {
    /// `YYYY-MM-DD`, Asia/Shanghai.
    pub date: String,
    /// 1 Monday … 7 Sunday.
    pub weekday: u8,
    pub entries: Vec<CalendarEntryOut>,
}

/// A week of the SOP calendar, Monday to Sunday.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JourneyCalendar)]
pub struct CalendarOut {
    /// The Monday shown, `YYYY-MM-DD`.
    pub week: String,
    pub prev_week: String,
    pub next_week: String,
    pub days: Vec<CalendarDayOut>,
}

impl From<CalendarWeek> for CalendarOut {
    fn from(w: CalendarWeek) -> Self {
        Self {
            week: w.week,
            prev_week: w.prev_week,
            next_week: w.next_week,
            days: w
                .days
                .into_iter()
                .map(|d| CalendarDayOut {
                    date: d.date,
                    weekday: d.weekday,
                    entries: d
                        .entries
                        .into_iter()
                        .map(|e| CalendarEntryOut {
                            journey_id: e.journey_id,
                            name: e.name,
                            status: e.status,
                            trigger_kind: e.trigger_kind,
                            at: ts(e.at),
                            time: e.time,
                            delivery: e.delivery,
                            preview: e.preview,
                            sent: e.sent.map(GroupSendOut::from),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CalendarParams {
    /// Any day of the week to show (`YYYY-MM-DD`, Asia/Shanghai); absent: this week.
    pub week: Option<String>,
}

/// The SOP calendar (群 SOP 日历): a week, Monday to Sunday, of every active or paused
/// schedule's occurrences — group SOPs and customer schedules — each with the post made.
#[utoipa::path(get, path = "/api/v1/journeys/calendar", tag = "journeys", security(("bearer" = [])),
    params(CalendarParams),
    responses((status = 200, body = CalendarOut), (status = 403, body = ErrorBody),
        (status = 422, description = "invalid_date, invalid_query", body = ErrorBody)))]
pub async fn calendar(
    State(s): State<AppState>,
    ApiActor(a): ApiActor,
    ApiQuery(p): ApiQuery<CalendarParams>,
) -> WebResult<Json<CalendarOut>> {
    let w = s.app.journeys().calendar(&a, p.week.as_deref()).await?;
    Ok(Json(w.into()))
}
