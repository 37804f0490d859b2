//! The journey engine (SOP / 自动化旅程, issue #21 item 5): journeys as use cases, and the
//! engine that enrols customers and walks them through the steps.
//!
//! **Who.** Admins and operators write journeys; store managers and analysts read them (a
//! store manager sees what the brand automates for their customers); guides meet journeys
//! only through the tasks and messages they produce.
//!
//! **How a run moves.** The engine ([`Journeys::tick_at`], every second from `yutang serve`):
//! 1. follows the event log in commit order ([`yutang_store::feed`]) and enrols the customer
//!    of each event an active event journey starts on — enrolment costs an event's commit
//!    nothing, it happens after;
//! 2. fires schedule and date triggers whose occurrence is due (each occurrence once, guarded
//!    on the stored next occurrence);
//! 3. compares each segment trigger's members with those it saw last, once a minute;
//! 4. advances due runs, **one step per transaction**: the step's effect, its trace line and
//!    the run's move commit together, guarded on the step the run was read at, so a crash
//!    loses no step and repeats none. A coupon is issued just before (idempotent on the run and
//!    step), a guide task and a notification are keyed on the run and step;
//! 5. sends message steps: the runs waiting at one step go out as one mass message (at most
//!    10,000 customers each), committed with the runs' moves, so the shared frequency cap, the
//!    exclusions and the per-customer delivery tracking of mass messages apply.
//!
//! **Quiet hours** hold message and notification steps until they end. **A journey that
//! refers to something gone** (a deleted tag, an archived coupon template or material) is
//! paused with the reason when a run reaches that step; the run waits at the step.

use std::collections::HashMap;

use roaring::RoaringBitmap;
use serde::{Deserialize, Serialize};
use yutang_core::FieldError;
use yutang_core::journeys::{Definition, GroupDelivery, Step, Trigger};
use yutang_core::messaging::{Audience, Content};
use yutang_core::staff::Role;
use yutang_store::feed::{self, Feed, FeedPosition};
use yutang_store::jobs::{self as job_store, JobRow, NewJob};
use yutang_store::journeys::{self as store, Enrol, JourneyRow, JourneyWrite, RunRow, Trace};
use yutang_store::tx::Tx;
use yutang_wecom::client::api::MessageSendRequest;

pub use yutang_store::journeys::GroupSendRow;

use crate::audit::{self, Action};
use crate::error::{AppError, Result};
use crate::jobs::JobRegistry;
use crate::messaging::MessageInput;
use crate::{Actor, App};

/// Job kind: tell the owning guide what a notify step says.
pub const NOTIFY_KIND: &str = "journey_notify";
/// Runs shown when no customer is asked about.
const RECENT_RUNS: i64 = 50;
/// Runs advanced per batch.
const RUN_BATCH: i64 = 200;
/// Runs of one message step sent as one mass message, at most.
const SEND_BATCH: i64 = yutang_core::messaging::MAX_LISTED_CUSTOMERS as i64;
/// Events read per page of the log.
const FEED_PAGE: i64 = 1000;
/// How often a segment trigger's members are compared.
const SEGMENT_EVERY_MS: i64 = 60_000;
/// Customers read per page when a date trigger fires.
const DATE_PAGE: i64 = 5000;
/// Advance-and-send rounds in one tick, at most (a journey of several message steps in a row
/// moves one step per round).
const ROUNDS: usize = 8;
/// An owner task of a group schedule is due this long after its occurrence.
const OWNER_TASK_DUE_MS: i64 = 2 * 3_600_000;
/// A group schedule's posts shown on its page.
const GROUP_SENDS_SHOWN: i64 = 30;
/// WeCom's duplicate check for a notification (seconds): a replayed job sends nothing twice.
const DEDUPE_SECS: u32 = 4 * 3600;

pub(crate) fn register(reg: &mut JobRegistry) {
    reg.register(NOTIFY_KIND, |app, job| {
        Box::pin(async move { app.journeys().run_notify(job).await })
    });
}

/// The journey use cases and the engine.
pub struct Journeys<'a>(&'a App);

impl std::ops::Deref for Journeys<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl App {
    pub fn journeys(&self) -> Journeys<'_> {
        Journeys(self)
    }
}

fn require_reader(actor: &Actor) -> Result<()> {
    match actor.caller.role {
        Role::Admin | Role::Operator | Role::StoreManager | Role::Analyst => Ok(()),
        Role::Guide => Err(AppError::Forbidden),
    }
}

fn require_editor(actor: &Actor) -> Result<()> {
    match actor.caller.role {
        Role::Admin | Role::Operator => Ok(()),
        Role::StoreManager | Role::Guide | Role::Analyst => Err(AppError::Forbidden),
    }
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| AppError::Internal(e.to_string()))
}

fn state_conflict(what: &str) -> AppError {
    AppError::Rule {
        code: "journey_state",
        message: what.to_owned(),
    }
}

/// A journey as entered: a name and a parsed definition.
#[derive(Debug, Clone)]
pub struct JourneyInput {
    pub name: String,
    pub definition: Definition,
}

impl JourneyInput {
    pub fn parse(name: &str, definition: Definition, now: i64) -> Result<Self> {
        Ok(Self {
            name: yutang_core::journeys::parse_name(name)?,
            definition: definition.parse(now)?,
        })
    }
}

/// A step as shown, with what runs did there.
#[derive(Debug, Clone, Serialize)]
pub struct StepView {
    /// 0-based.
    pub index: i64,
    pub kind: String,
    /// Runs waiting to run this step (due or not).
    pub waiting: i64,
    /// Runs whose message is being batched here.
    pub sending: i64,
    /// Trace lines per outcome (`done`, `skipped`, `branched`, `waiting`, `sent`, `paused` …).
    pub outcomes: HashMap<String, i64>,
}

/// Runs per state.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunCounts {
    pub active: i64,
    pub sending: i64,
    pub done: i64,
    pub exited: i64,
    pub failed: i64,
}

/// A journey as shown.
#[derive(Debug, Clone, Serialize)]
pub struct JourneyView {
    pub id: i64,
    pub name: String,
    /// `draft`, `active`, `paused` or `archived`.
    pub status: String,
    pub version: i64,
    pub trigger_kind: String,
    /// Why the engine paused it, if it did.
    pub paused_reason: String,
    /// Schedule and date triggers: the next occurrence (UTC millis).
    pub next_fire_at: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub definition: Definition,
    pub runs: RunCounts,
}

/// A journey with its steps' live counts and its versions.
#[derive(Debug, Clone, Serialize)]
pub struct JourneyDetail {
    #[serde(flatten)]
    pub journey: JourneyView,
    pub steps: Vec<StepView>,
    pub versions: Vec<VersionView>,
    /// A group schedule's latest posts, newest first (empty for a customer journey).
    pub group_sends: Vec<store::GroupSendRow>,
}

/// One entry of the calendar: an occurrence of a schedule in the week shown.
#[derive(Debug, Clone, Serialize)]
pub struct CalendarEntry {
    pub journey_id: i64,
    pub name: String,
    /// `active` or `paused` (a paused journey's entries would not go out).
    pub status: String,
    /// `group_schedule` (a group SOP) or `schedule` (customers).
    pub trigger_kind: String,
    /// UTC millis.
    pub at: i64,
    /// `HH:MM` in Asia/Shanghai.
    pub time: String,
    /// A group schedule's delivery: `mass_message` or `owner_task`.
    pub delivery: Option<String>,
    /// The first 60 characters of what is sent (customer journeys: their first message).
    pub preview: String,
    /// The post made for this occurrence, once it is made.
    pub sent: Option<store::GroupSendRow>,
}

/// One day of the calendar.
#[derive(Debug, Clone, Serialize)]
pub struct CalendarDay {
    /// `YYYY-MM-DD` (Asia/Shanghai).
    pub date: String,
    /// 1 Monday … 7 Sunday.
    pub weekday: u8,
    pub entries: Vec<CalendarEntry>,
}

/// A week of the SOP calendar, Monday to Sunday.
#[derive(Debug, Clone, Serialize)]
pub struct CalendarWeek {
    /// The Monday, `YYYY-MM-DD`.
    pub week: String,
    pub prev_week: String,
    pub next_week: String,
    pub days: Vec<CalendarDay>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VersionView {
    pub version: i64,
    pub created_at: i64,
    pub created_by: Option<i64>,
}

/// One run of a customer, with what each step did: "why did this customer get this message".
#[derive(Debug, Clone, Serialize)]
pub struct RunTrace {
    pub run: RunRow,
    pub trace: Vec<TraceLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TraceLine {
    pub step: i64,
    pub kind: String,
    pub outcome: String,
    pub detail: serde_json::Value,
    pub at: i64,
}

/// What one tick of the engine did.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct TickReport {
    pub enrolled: u64,
    pub steps: u64,
    pub sent_batches: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct NotifyJob {
    run_id: i64,
    step: i64,
    staff_id: i64,
    customer_id: i64,
    text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    outcome: Option<String>,
}

/// What a step did, for the trace and the run's move.
struct Outcome {
    next: i64,
    state: &'static str,
    due_at: i64,
    outcome: &'static str,
    detail: serde_json::Value,
}

impl Journeys<'_> {
    // ------------------------------------------------------------------ use cases

    /// Every journey, newest first.
    pub async fn list(&self, actor: &Actor) -> Result<Vec<JourneyView>> {
        require_reader(actor)?;
        let mut out = Vec::new();
        for r in store::list(&self.db).await? {
            out.push(self.view(r).await?);
        }
        Ok(out)
    }

    pub async fn get(&self, actor: &Actor, id: i64) -> Result<JourneyDetail> {
        require_reader(actor)?;
        let r = store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("journey"))?;
        let journey = self.view(r).await?;
        let mut steps: Vec<StepView> = journey
            .definition
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| StepView {
                index: i64::try_from(i).unwrap_or(0),
                kind: s.kind().to_owned(),
                waiting: 0,
                sending: 0,
                outcomes: HashMap::new(),
            })
            .collect();
        for (step, state, n) in store::step_counts(&self.db, id).await? {
            if let Some(s) = usize::try_from(step).ok().and_then(|i| steps.get_mut(i)) {
                match state.as_str() {
                    "active" => s.waiting += n,
                    "sending" => s.sending += n,
                    _ => {}
                }
            }
        }
        for (step, outcome, n) in store::trace_counts(&self.db, id).await? {
            if let Some(s) = usize::try_from(step).ok().and_then(|i| steps.get_mut(i)) {
                *s.outcomes.entry(outcome).or_default() += n;
            }
        }
        let versions = store::versions(&self.db, id)
            .await?
            .into_iter()
            .map(|(version, created_at, created_by)| VersionView {
                version,
                created_at,
                created_by,
            })
            .collect();
        let group_sends = if journey.trigger_kind == "group_schedule" {
            store::group_sends(&self.db, id, GROUP_SENDS_SHOWN).await?
        } else {
            Vec::new()
        };
        Ok(JourneyDetail {
            journey,
            steps,
            versions,
            group_sends,
        })
    }

    async fn view(&self, r: JourneyRow) -> Result<JourneyView> {
        let definition = self.definition(r.id, r.version).await?;
        let mut runs = RunCounts::default();
        for (_, state, n) in store::step_counts(&self.db, r.id).await? {
            match state.as_str() {
                "active" => runs.active += n,
                "sending" => runs.sending += n,
                "done" => runs.done += n,
                "exited" => runs.exited += n,
                "failed" => runs.failed += n,
                _ => {}
            }
        }
        Ok(JourneyView {
            id: r.id,
            name: r.name,
            status: r.status,
            version: r.version,
            trigger_kind: r.trigger_kind,
            paused_reason: r.paused_reason,
            next_fire_at: r.next_fire_at,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
            definition,
            runs,
        })
    }

    async fn definition_in(tx: &mut Tx, id: i64, version: i64) -> Result<Definition> {
        let text = store::definition_in(tx, id, version).await?;
        serde_json::from_str(&text).map_err(|_| {
            AppError::Internal(format!("stored definition of journey {id} v{version}"))
        })
    }

    async fn definition(&self, id: i64, version: i64) -> Result<Definition> {
        let text = store::definition(&self.db, id, version).await?;
        serde_json::from_str(&text).map_err(|_| {
            AppError::Internal(format!("stored definition of journey {id} v{version}"))
        })
    }

    /// Check what a definition names exists now: its segment expressions compile, its tags
    /// exist, its coupon templates and materials exist and are not archived.
    async fn check_references(&self, d: &Definition) -> Result<()> {
        self.segments.catch_up(&self.db, self.now(), 0).await?;
        for (i, e) in d.expressions().into_iter().enumerate() {
            let f = if i == 0 && d.trigger.expression().is_some() {
                "trigger"
            } else {
                "steps"
            };
            if let Err(err) = self.segments.compile(e) {
                return Err(FieldError::new(f, "invalid_expression", err.to_string()).into());
            }
        }
        let r = d.references();
        let mut tx = self.db.begin().await?;
        for t in &r.tags {
            if store::reference_state_in(&mut tx, "tags", *t)
                .await?
                .is_none()
            {
                return Err(FieldError::new("steps", "unknown_tag", format!("no tag {t}")).into());
            }
        }
        for t in &r.coupon_templates {
            match store::reference_state_in(&mut tx, "coupon_templates", *t).await? {
                Some(s) if s != "archived" => {}
                _ => {
                    return Err(FieldError::new(
                        "steps",
                        "unknown_template",
                        format!("no coupon template {t} that can be issued"),
                    )
                    .into());
                }
            }
        }
        for m in &r.materials {
            match store::reference_state_in(&mut tx, "materials", *m).await? {
                Some(s) if s == "active" => {}
                _ => {
                    return Err(FieldError::new(
                        "steps",
                        "unknown_material",
                        format!("no active material {m}"),
                    )
                    .into());
                }
            }
        }
        let missing = store::missing_groups_in(&mut tx, &r.groups).await?;
        if let Some(g) = missing.first() {
            return Err(
                FieldError::new("trigger", "unknown_group", format!("no group {g}")).into(),
            );
        }
        drop(tx);
        Ok(())
    }

    fn write<'a>(
        input: &'a JourneyInput,
        definition: &'a str,
        by: Option<i64>,
        now: i64,
    ) -> JourneyWrite<'a> {
        let trigger_event = match &input.definition.trigger {
            Trigger::Event { event } => Some(event.as_str()),
            _ => None,
        };
        JourneyWrite {
            name: &input.name,
            trigger_kind: input.definition.trigger.kind(),
            trigger_event,
            definition,
            next_fire_at: input.definition.trigger.next_occurrence(now),
            by,
        }
    }

    /// A new journey, as a draft.
    pub async fn create(&self, actor: &Actor, input: &JourneyInput) -> Result<JourneyDetail> {
        require_editor(actor)?;
        self.check_references(&input.definition).await?;
        let now = self.now();
        let text = json(&input.definition)?;
        let mut tx = self.db.begin().await?;
        let id = store::insert_in(
            &mut tx,
            &Self::write(input, &text, actor.actor_id(), now),
            now,
        )
        .await?;
        self.audit(&mut tx, actor, id, "journey.create").await?;
        tx.commit().await?;
        self.get(actor, id).await
    }

    /// A new version: runs in flight stay on the version they entered with; new runs enter on
    /// this one. An archived journey is not edited.
    pub async fn update(
        &self,
        actor: &Actor,
        id: i64,
        input: &JourneyInput,
    ) -> Result<JourneyDetail> {
        require_editor(actor)?;
        let row = store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("journey"))?;
        if row.status == "archived" {
            return Err(state_conflict("an archived journey is not edited"));
        }
        self.check_references(&input.definition).await?;
        let now = self.now();
        let text = json(&input.definition)?;
        let mut tx = self.db.begin().await?;
        let row = store::lock_in(&mut tx, id)
            .await
            .map_err(AppError::not_found("journey"))?;
        if row.status == "archived" {
            return Err(state_conflict("an archived journey is not edited"));
        }
        store::new_version_in(
            &mut tx,
            id,
            &Self::write(input, &text, actor.actor_id(), now),
            now,
        )
        .await?;
        self.audit(&mut tx, actor, id, "journey.update").await?;
        tx.commit().await?;
        self.get(actor, id).await
    }

    /// Start (a draft) or resume (a paused journey): its references are checked again, the
    /// pause reason cleared, the next occurrence of a schedule computed from now.
    pub async fn activate(&self, actor: &Actor, id: i64) -> Result<JourneyDetail> {
        require_editor(actor)?;
        let row = store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("journey"))?;
        let def = self.definition(id, row.version).await?;
        self.check_references(&def).await?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let row = store::lock_in(&mut tx, id).await?;
        if !matches!(row.status.as_str(), "draft" | "paused") {
            return Err(state_conflict(
                "only a draft or a paused journey is started",
            ));
        }
        if row.trigger_kind == "event" {
            // The first event journey: the follower, idle until now, starts at the end of the
            // log instead of reading everything written while nothing followed it.
            let pos = feed::lock_feed_in(&mut tx, Feed::Journeys).await?;
            if store::event_journeys_in(&mut tx).await?.is_empty() {
                let end = feed::feed_end_in(&mut tx).await?;
                feed::save_feed_in(
                    &mut tx,
                    Feed::Journeys,
                    &FeedPosition {
                        from: end,
                        to: None,
                        after_id: 0,
                    },
                )
                .await?;
            }
            let _ = pos;
        }
        let next = def.trigger.next_occurrence(now);
        store::set_status_in(&mut tx, id, "active", "", next, now).await?;
        self.audit(&mut tx, actor, id, "journey.activate").await?;
        tx.commit().await?;
        self.get(actor, id).await
    }

    /// Pause: nobody new enters, runs in flight wait where they are.
    pub async fn pause(&self, actor: &Actor, id: i64) -> Result<JourneyDetail> {
        require_editor(actor)?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let row = store::lock_in(&mut tx, id)
            .await
            .map_err(AppError::not_found("journey"))?;
        if row.status != "active" {
            return Err(state_conflict("only an active journey is paused"));
        }
        store::set_status_in(&mut tx, id, "paused", "", row.next_fire_at, now).await?;
        self.audit(&mut tx, actor, id, "journey.pause").await?;
        tx.commit().await?;
        self.get(actor, id).await
    }

    /// Archive: runs in flight exit (their trace says so); the journey is kept for its counts.
    pub async fn archive(&self, actor: &Actor, id: i64) -> Result<JourneyDetail> {
        require_editor(actor)?;
        let now = self.now();
        let mut tx = self.db.begin().await?;
        let row = store::lock_in(&mut tx, id)
            .await
            .map_err(AppError::not_found("journey"))?;
        if row.status == "archived" {
            return Err(state_conflict("the journey is archived already"));
        }
        store::set_status_in(&mut tx, id, "archived", "", None, now).await?;
        store::exit_all_in(&mut tx, id, "journey_archived", now).await?;
        self.audit(&mut tx, actor, id, "journey.archive").await?;
        tx.commit().await?;
        self.get(actor, id).await
    }

    /// A customer's runs of a journey with each step's trace, or (no customer given) the
    /// latest runs: "why did this customer get this message". Scoped: a store manager sees
    /// the runs of customers in their scope only.
    pub async fn trace(
        &self,
        actor: &Actor,
        id: i64,
        customer: Option<i64>,
    ) -> Result<Vec<RunTrace>> {
        require_reader(actor)?;
        store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("journey"))?;
        let runs = match customer {
            Some(c) => {
                self.customers()
                    .visible_customer(actor, yutang_core::ids::CustomerId(c))
                    .await?;
                store::runs_of(&self.db, id, c).await?
            }
            None => {
                let mut seen = Vec::new();
                for run in store::recent_runs(&self.db, id, RECENT_RUNS).await? {
                    let visible = self
                        .customers()
                        .visible_customer(actor, yutang_core::ids::CustomerId(run.customer_id))
                        .await;
                    match visible {
                        Ok(_) => seen.push(run),
                        Err(AppError::NotFound { .. } | AppError::Forbidden) => {}
                        Err(e) => return Err(e),
                    }
                }
                seen
            }
        };
        let mut out = Vec::new();
        for run in runs {
            let trace = store::trace_of(&self.db, run.id)
                .await?
                .into_iter()
                .map(|t| TraceLine {
                    step: t.step,
                    kind: t.kind,
                    outcome: t.outcome,
                    detail: serde_json::from_str(&t.detail).unwrap_or(serde_json::Value::Null),
                    at: t.at,
                })
                .collect();
            out.push(RunTrace { run, trace });
        }
        Ok(out)
    }

    /// The SOP calendar's week holding `week` (`YYYY-MM-DD`; this week when absent): every
    /// occurrence of an active or paused schedule — group SOPs and customer schedules — day
    /// by day, each with the post made for it once it is made.
    pub async fn calendar(&self, actor: &Actor, week: Option<&str>) -> Result<CalendarWeek> {
        use yutang_core::journeys::{day_text, week_of, weekday};
        use yutang_core::messaging::day_start;
        require_reader(actor)?;
        let monday = week_of(week, self.now())?;
        let (from, to) = (day_start(monday), day_start(monday + 7));
        let sends: HashMap<(i64, i64), store::GroupSendRow> =
            store::group_sends_between(&self.db, from, to)
                .await?
                .into_iter()
                .map(|r| ((r.journey_id, r.occurrence_at), r))
                .collect();
        let mut days: Vec<CalendarDay> = (0..7)
            .map(|i| CalendarDay {
                date: day_text(monday + i),
                weekday: weekday(monday + i),
                entries: Vec::new(),
            })
            .collect();
        for r in store::list(&self.db).await? {
            if !matches!(r.trigger_kind.as_str(), "schedule" | "group_schedule")
                || !matches!(r.status.as_str(), "active" | "paused")
            {
                continue;
            }
            let def = self.definition(r.id, r.version).await?;
            let (delivery, preview) = match def.steps.first() {
                Some(Step::GroupMessage { text, delivery, .. }) => {
                    (Some(delivery.as_str().to_owned()), text.clone())
                }
                _ => (
                    None,
                    def.steps
                        .iter()
                        .find_map(|s| match s {
                            Step::Message { text, .. } => Some(text.clone()),
                            _ => None,
                        })
                        .unwrap_or_default(),
                ),
            };
            let preview: String = preview.chars().take(60).collect();
            // Past occurrences come from the posts made; later ones from the schedule.
            let mut ats = def.trigger.occurrences(from, to);
            for (j, at) in sends.keys() {
                if *j == r.id && !ats.contains(at) {
                    ats.push(*at);
                }
            }
            for at in ats {
                let day = yutang_core::messaging::shanghai_day(at);
                let Some(d) = usize::try_from(day - monday)
                    .ok()
                    .and_then(|i| days.get_mut(i))
                else {
                    continue;
                };
                let minute = (at - day_start(day)) / 60_000;
                d.entries.push(CalendarEntry {
                    journey_id: r.id,
                    name: r.name.clone(),
                    status: r.status.clone(),
                    trigger_kind: r.trigger_kind.clone(),
                    at,
                    time: format!("{:02}:{:02}", minute / 60, minute % 60),
                    delivery: delivery.clone(),
                    preview: preview.clone(),
                    sent: sends.get(&(r.id, at)).cloned(),
                });
            }
        }
        for d in &mut days {
            d.entries.sort_by_key(|e| (e.at, e.journey_id));
        }
        Ok(CalendarWeek {
            week: day_text(monday),
            prev_week: day_text(monday - 7),
            next_week: day_text(monday + 7),
            days,
        })
    }

    async fn audit(&self, tx: &mut Tx, actor: &Actor, id: i64, op: &str) -> Result<()> {
        audit::record_in(
            self,
            tx,
            actor,
            Action::MessagingChanged,
            &format!("journey:{id}"),
            &serde_json::json!({ "op": op }).to_string(),
        )
        .await
    }

    // ------------------------------------------------------------------ the engine

    /// One round of the engine at the current time.
    pub async fn tick(&self) -> Result<TickReport> {
        self.tick_at(self.now()).await
    }

    /// One round of the engine as if the time were `now` (tests move time past a wait).
    pub async fn tick_at(&self, now: i64) -> Result<TickReport> {
        let mut r = TickReport::default();
        loop {
            let n = self.follow_step(now).await?;
            r.enrolled += n.0;
            if n.1 < usize::try_from(FEED_PAGE).unwrap_or(usize::MAX) {
                break;
            }
        }
        r.enrolled += self.fire_due(now).await?;
        r.enrolled += self.segment_changes(now).await?;
        let mut cache = HashMap::new();
        // Runs a batch sent move on in the same round (a message step followed by more).
        for _ in 0..ROUNDS {
            loop {
                let (steps, claimed) = self.advance_due(now, &mut cache).await?;
                r.steps += steps;
                if claimed < RUN_BATCH {
                    break;
                }
            }
            let mut sent = 0;
            loop {
                let n = self.flush_sends(now, &mut cache).await?;
                if n == 0 {
                    break;
                }
                sent += n;
            }
            r.sent_batches += sent;
            if sent == 0 {
                break;
            }
        }
        Ok(r)
    }

    async fn cached(
        &self,
        cache: &mut HashMap<(i64, i64), Definition>,
        id: i64,
        version: i64,
    ) -> Result<Definition> {
        if let Some(d) = cache.get(&(id, version)) {
            return Ok(d.clone());
        }
        let d = self.definition(id, version).await?;
        cache.insert((id, version), d.clone());
        Ok(d)
    }

    async fn enrol_rule(
        tx: &mut Tx,
        id: i64,
        version: i64,
    ) -> Result<(Definition, &'static str, i64)> {
        let d = Self::definition_in(tx, id, version).await?;
        let rule = d.entry.as_str();
        let cool = d.entry.cooldown_ms();
        Ok((d, rule, cool))
    }

    /// One page of the event log: (customers enrolled, events read).
    async fn follow_step(&self, now: i64) -> Result<(u64, usize)> {
        let mut tx = self.db.begin().await?;
        let pos = feed::lock_feed_in(&mut tx, Feed::Journeys).await?;
        let journeys = store::event_journeys_in(&mut tx).await?;
        let from = feed::parse_mark(&tx, &pos.from);
        let (Some(from), false) = (from, journeys.is_empty()) else {
            let end = feed::feed_end_in(&mut tx).await?;
            if pos.from != end || pos.to.is_some() || pos.after_id != 0 {
                feed::save_feed_in(
                    &mut tx,
                    Feed::Journeys,
                    &FeedPosition {
                        from: end,
                        to: None,
                        after_id: 0,
                    },
                )
                .await?;
            }
            tx.commit().await?;
            return Ok((0, 0));
        };
        let to_text = match &pos.to {
            Some(t) => t.clone(),
            None => feed::feed_end_in(&mut tx).await?,
        };
        let to = feed::parse_mark(&tx, &to_text)
            .ok_or_else(|| AppError::Internal(format!("unreadable feed position {to_text}")))?;
        let events = feed::events_between_in(&mut tx, &from, &to, pos.after_id, FEED_PAGE).await?;
        let mut rules = HashMap::new();
        for (id, version, _) in &journeys {
            let (_, rule, cool) = Self::enrol_rule(&mut tx, *id, *version).await?;
            rules.insert(*id, (rule, cool));
        }
        let mut enrolled = 0;
        for e in &events {
            for (id, version, kind) in &journeys {
                if *kind != e.kind {
                    continue;
                }
                let (rule, cool) = rules.get(id).copied().unwrap_or(("once", i64::MAX));
                let cause = format!("event:{}", e.id);
                let admitted = store::enrol_in(
                    &mut tx,
                    &Enrol {
                        journey_id: *id,
                        version: *version,
                        rule,
                        cooldown_ms: cool,
                        cause: &cause,
                        due_at: now,
                    },
                    e.customer_id,
                    now,
                )
                .await?;
                enrolled += u64::from(admitted.is_some());
            }
        }
        let n = events.len();
        let next = if (n as i64) < FEED_PAGE {
            FeedPosition {
                from: to_text,
                to: None,
                after_id: 0,
            }
        } else {
            FeedPosition {
                from: pos.from,
                to: Some(to_text),
                after_id: events.last().map(|e| e.id).unwrap_or(pos.after_id),
            }
        };
        feed::save_feed_in(&mut tx, Feed::Journeys, &next).await?;
        tx.commit().await?;
        Ok((enrolled, n))
    }

    /// Fire the schedule and date triggers that are due: each occurrence enrols its customers
    /// in one transaction with the move to the next occurrence (a crash fires it again whole,
    /// never half).
    async fn fire_due(&self, now: i64) -> Result<u64> {
        let mut enrolled = 0;
        for (id, at) in store::due_fires(&self.db, now).await? {
            let row = store::get(&self.db, id).await?;
            let def = self.definition(id, row.version).await?;
            if let Trigger::GroupSchedule { .. } = &def.trigger {
                self.fire_group(&row, &def, at, now).await?;
                continue;
            }
            let members: Vec<i64> = match &def.trigger {
                Trigger::Schedule { audience, .. } => {
                    self.segments.catch_up(&self.db, now, 0).await?;
                    match self.segments.compile(audience) {
                        Ok(expr) => self
                            .segments
                            .evaluate(&expr, now, None)?
                            .into_iter()
                            .map(i64::from)
                            .collect(),
                        Err(e) => {
                            self.pause_for(id, &format!("人群条件无法解析：{e}"))
                                .await?;
                            continue;
                        }
                    }
                }
                Trigger::Date {
                    attribute,
                    offset_days,
                    ..
                } => self.date_members(*attribute, *offset_days, at).await?,
                _ => Vec::new(),
            };
            let cause = match &def.trigger {
                Trigger::Date { .. } => {
                    format!("date:{}", yutang_core::messaging::shanghai_day(at))
                }
                _ => format!("schedule:{at}"),
            };
            let next = def.trigger.next_occurrence(at.max(now));
            let mut tx = self.db.begin().await?;
            if !store::advance_fire_in(&mut tx, id, at, next).await? {
                continue;
            }
            let e = Enrol {
                journey_id: id,
                version: row.version,
                rule: def.entry.as_str(),
                cooldown_ms: def.entry.cooldown_ms(),
                cause: &cause,
                due_at: now,
            };
            for c in members {
                enrolled += u64::from(store::enrol_in(&mut tx, &e, c, now).await?.is_some());
            }
            tx.commit().await?;
        }
        Ok(enrolled)
    }

    /// Post one occurrence of a group schedule: the post (a group mass message, or a task per
    /// group owner), its record and the move to the next occurrence commit together, guarded
    /// on the occurrence — a crash posts it again whole or not at all, and never twice.
    async fn fire_group(
        &self,
        row: &JourneyRow,
        def: &Definition,
        at: i64,
        now: i64,
    ) -> Result<()> {
        let Some(
            step @ Step::GroupMessage {
                text,
                attachments,
                material_id,
                delivery,
            },
        ) = def.steps.first()
        else {
            return Err(AppError::Internal(format!(
                "group schedule {} has no group message",
                row.id
            )));
        };
        let audience = def.trigger.group_audience()?;
        let ids = match &audience {
            Audience::Groups { group_ids } => Some(group_ids.as_slice()),
            _ => None,
        };
        // Read through the pool before the transaction (SQLite has one writer); the
        // transaction is guarded on the occurrence, so a stale read posts nothing twice.
        let facts = yutang_store::messaging::group_facts(&self.db, ids, None).await?;
        let (open, closed): (Vec<_>, Vec<_>) = facts.into_iter().partition(|g| {
            g.dismissed_at.is_none()
                && g.owner_status.as_deref() == Some("active")
                && g.owner_userid.as_deref().is_some_and(|u| !u.is_empty())
        });
        let next = def.trigger.next_occurrence(at.max(now));
        let mut tx = self.db.begin().await?;
        if let Some(reason) = self.missing_reference(&mut tx, step).await? {
            drop(tx);
            return self.pause_for(row.id, &reason).await;
        }
        if !store::advance_fire_in(&mut tx, row.id, at, next).await? {
            return Ok(());
        }
        let mut send = store::GroupSendRow {
            journey_id: row.id,
            occurrence_at: at,
            version: row.version,
            delivery: delivery.as_str().to_owned(),
            message_id: None,
            tasks: 0,
            groups: i64::try_from(open.len()).unwrap_or(i64::MAX),
            skipped: i64::try_from(closed.len()).unwrap_or(i64::MAX),
            created_at: now,
        };
        let when = shanghai_minute(at);
        match delivery {
            GroupDelivery::MassMessage => {
                let input = MessageInput {
                    name: format!("群SOP「{}」{when}", row.name)
                        .chars()
                        .take(40)
                        .collect(),
                    content: Content::parse(text, attachments.clone())?,
                    audience,
                    holdout_bp: 0,
                    send_at: None,
                };
                let id = self
                    .messaging()
                    .create_in(&mut tx, &input, self.now(), None, None)
                    .await?;
                send.message_id = Some(id);
            }
            GroupDelivery::OwnerTask => {
                let mut by_owner: std::collections::BTreeMap<i64, Vec<String>> =
                    std::collections::BTreeMap::new();
                for g in &open {
                    if let Some(owner) = g.owner_staff_id {
                        let name = if g.name.is_empty() {
                            &g.chat_id
                        } else {
                            &g.name
                        };
                        by_owner.entry(owner).or_default().push(name.clone());
                    }
                }
                let source_ref = format!("journey:{}:group", row.id);
                for (staff, names) in by_owner {
                    let title: String =
                        format!("群SOP「{}」{when} 发 {} 个群", row.name, names.len())
                            .chars()
                            .take(yutang_core::guide_tasks::MAX_TITLE_CHARS)
                            .collect();
                    let body = task_body(text, &names);
                    let key = format!("journey:{}:group:{at}:{staff}", row.id);
                    let made = crate::guide_tasks::create_in(
                        self,
                        &mut tx,
                        &crate::guide_tasks::NewGuideTask {
                            staff_id: staff,
                            customer_id: None,
                            title: &title,
                            body: &body,
                            material_id: *material_id,
                            source: "journey",
                            source_ref: &source_ref,
                            dedupe_key: &key,
                            due_at: at.max(now) + OWNER_TASK_DUE_MS,
                            created_by: None,
                        },
                    )
                    .await?;
                    send.tasks += i64::from(made.is_some());
                }
            }
        }
        store::insert_group_send_in(&mut tx, &send).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn date_members(
        &self,
        attribute: yutang_core::journeys::DateAttribute,
        offset_days: i64,
        at: i64,
    ) -> Result<Vec<i64>> {
        use yutang_core::journeys::DateAttribute;
        use yutang_core::messaging::{day_start, shanghai_day};
        let day = shanghai_day(at);
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let page = match attribute {
                DateAttribute::Birthday => {
                    let keys = yutang_core::journeys::birthday_keys(day, offset_days);
                    store::birthdays(&self.db, &keys, after, DATE_PAGE).await?
                }
                DateAttribute::FirstOrder => {
                    let d = day - offset_days;
                    store::first_orders(&self.db, day_start(d), day_start(d + 1), after, DATE_PAGE)
                        .await?
                }
            };
            let Some(last) = page.last().copied() else {
                break;
            };
            after = last;
            let full = page.len() as i64 == DATE_PAGE;
            out.extend(page);
            if !full {
                break;
            }
        }
        Ok(out)
    }

    /// Compare each segment trigger's members with those it saw last: the first look only
    /// remembers them (customers already inside did not *enter*).
    async fn segment_changes(&self, now: i64) -> Result<u64> {
        let due = store::segment_journeys(&self.db, now - SEGMENT_EVERY_MS).await?;
        if due.is_empty() {
            return Ok(0);
        }
        self.segments.catch_up(&self.db, now, 0).await?;
        let mut enrolled = 0;
        for id in due {
            let row = store::get(&self.db, id).await?;
            let def = self.definition(id, row.version).await?;
            let Some(src) = def.trigger.expression() else {
                continue;
            };
            let expr = match self.segments.compile(src) {
                Ok(e) => e,
                Err(e) => {
                    self.pause_for(id, &format!("人群条件无法解析：{e}"))
                        .await?;
                    continue;
                }
            };
            let current = self.segments.evaluate(&expr, now, None)?;
            let mut tx = self.db.begin().await?;
            let row = store::lock_in(&mut tx, id).await?;
            if row.status != "active" || row.members_at.is_some_and(|m| m >= now - SEGMENT_EVERY_MS)
            {
                continue;
            }
            let before = store::members_in(&mut tx, id).await?;
            if let Some(bytes) = before {
                let prev = RoaringBitmap::deserialize_from(&bytes[..])
                    .map_err(|e| AppError::Internal(format!("journey {id} members: {e}")))?;
                let changed = match def.trigger {
                    Trigger::SegmentLeave { .. } => &prev - &current,
                    _ => &current - &prev,
                };
                let cause = format!("segment:{now}");
                let e = Enrol {
                    journey_id: id,
                    version: row.version,
                    rule: def.entry.as_str(),
                    cooldown_ms: def.entry.cooldown_ms(),
                    cause: &cause,
                    due_at: now,
                };
                for c in changed {
                    enrolled += u64::from(
                        store::enrol_in(&mut tx, &e, i64::from(c), now)
                            .await?
                            .is_some(),
                    );
                }
            }
            let mut bytes = Vec::with_capacity(current.serialized_size());
            current
                .serialize_into(&mut bytes)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            store::set_members_in(&mut tx, id, &bytes, now).await?;
            tx.commit().await?;
        }
        Ok(enrolled)
    }

    async fn pause_for(&self, id: i64, reason: &str) -> Result<()> {
        let mut tx = self.db.begin().await?;
        if store::pause_active_in(&mut tx, id, reason, self.now()).await? {
            tracing::warn!(journey = id, reason, "journey paused");
        }
        tx.commit().await?;
        Ok(())
    }

    /// Advance one batch of due runs: (steps taken, runs claimed).
    async fn advance_due(
        &self,
        now: i64,
        cache: &mut HashMap<(i64, i64), Definition>,
    ) -> Result<(u64, i64)> {
        if !store::any_due(&self.db, now).await? {
            return Ok((0, 0));
        }
        let runs = {
            let mut tx = self.db.begin().await?;
            let runs = store::claim_due_in(&mut tx, now, RUN_BATCH).await?;
            tx.commit().await?;
            runs
        };
        let claimed = runs.len() as i64;
        let mut steps = 0;
        let mut tags = false;
        let mut paused = Vec::new();
        for run in runs {
            if paused.contains(&run.journey_id) {
                continue;
            }
            let def = self.cached(cache, run.journey_id, run.version).await?;
            let (n, stop) = self.walk(run, &def, now).await?;
            steps += n;
            tags |= n > 0
                && def
                    .steps
                    .iter()
                    .any(|s| matches!(s, Step::Tag { .. } | Step::Untag { .. }));
            if let Some(j) = stop {
                paused.push(j);
            }
        }
        if tags {
            self.segments.catch_up(&self.db, self.now(), 0).await?;
        }
        Ok((steps, claimed))
    }

    /// Walk one run from its step until it waits, sends, ends or its journey pauses: one
    /// transaction per step. (steps taken, the journey id when it was paused).
    async fn walk(
        &self,
        mut run: RunRow,
        def: &Definition,
        now: i64,
    ) -> Result<(u64, Option<i64>)> {
        let n = i64::try_from(def.steps.len()).unwrap_or(0);
        let mut taken = 0u64;
        let mut tagged = false;
        for _ in 0..yutang_core::journeys::MAX_STEPS_PER_TURN {
            // A branch after this run's own tag change sees it (caught up outside any
            // transaction: the catch-up reads through the pool).
            if tagged
                && let Some(Step::Branch { .. }) = usize::try_from(run.step)
                    .ok()
                    .and_then(|i| def.steps.get(i))
            {
                self.segments.catch_up(&self.db, self.now(), 0).await?;
                tagged = false;
            }
            let mut tx = self.db.begin().await?;
            if !store::lock_run_in(&mut tx, &run).await? {
                // Another node moved it since it was read; its transaction did the step.
                return Ok((taken, None));
            }
            if run.step >= n {
                if store::move_in(&mut tx, &run, n, "done", now, "", now).await? {
                    self.note(&mut tx, &run, "end", "done", serde_json::json!({}), now)
                        .await?;
                    tx.commit().await?;
                }
                return Ok((taken, None));
            }
            if !store::customer_live_in(&mut tx, run.customer_id).await? {
                if store::move_in(&mut tx, &run, run.step, "exited", now, "customer_gone", now)
                    .await?
                {
                    self.note(
                        &mut tx,
                        &run,
                        "exit",
                        "exited",
                        serde_json::json!({"reason": "customer_gone"}),
                        now,
                    )
                    .await?;
                    tx.commit().await?;
                }
                return Ok((taken, None));
            }
            let idx = usize::try_from(run.step).unwrap_or(0);
            let step = &def.steps[idx];
            if step.is_contact()
                && let Some(q) = def.quiet_hours
                && q.contains(now)
            {
                let until = q.release(now);
                if store::move_in(&mut tx, &run, run.step, "active", until, "quiet_hours", now)
                    .await?
                {
                    self.note(
                        &mut tx,
                        &run,
                        step.kind(),
                        "quiet",
                        serde_json::json!({"until": until}),
                        now,
                    )
                    .await?;
                    tx.commit().await?;
                }
                return Ok((taken, None));
            }
            // The reference a step needs, checked as it runs: gone → the journey pauses.
            if let Some(reason) = self.missing_reference(&mut tx, step).await? {
                drop(tx);
                let mut tx = self.db.begin().await?;
                store::pause_active_in(&mut tx, run.journey_id, &reason, now).await?;
                self.note(
                    &mut tx,
                    &run,
                    step.kind(),
                    "paused",
                    serde_json::json!({"reason": reason}),
                    now,
                )
                .await?;
                tx.commit().await?;
                return Ok((taken, Some(run.journey_id)));
            }
            // A coupon is issued before the step's transaction (its own; idempotent on the
            // run and step, so a crash between the two issues nothing twice).
            let coupon = match step {
                Step::Coupon { template_id } => {
                    drop(tx);
                    let key = format!("journey:{}:{}", run.id, run.step);
                    let customer = yutang_core::ids::CustomerId(run.customer_id);
                    let mut r = self
                        .coupons()
                        .issue_reward(*template_id, customer, &key)
                        .await;
                    if let Err(AppError::Conflict {
                        what: "idempotency_key",
                        ..
                    }) = r
                    {
                        // Another node issued it at the same moment: answer its claim.
                        r = self
                            .coupons()
                            .issue_reward(*template_id, customer, &key)
                            .await;
                    }
                    tx = self.db.begin().await?;
                    if !store::lock_run_in(&mut tx, &run).await? {
                        return Ok((taken, None));
                    }
                    match r {
                        Ok(c) => Some(Ok(c.claim_id)),
                        // A template closed, out of stock or at its limit: the step is
                        // skipped with the reason; anything else is retried next round.
                        Err(
                            e @ (AppError::Rule { .. }
                            | AppError::Invalid(_)
                            | AppError::Conflict { .. }),
                        ) => Some(Err(e.to_string())),
                        Err(e) => return Err(e),
                    }
                }
                _ => None,
            };
            let o = self.effect(&mut tx, &run, step, n, now, coupon).await?;
            if !store::move_in(&mut tx, &run, o.next, o.state, o.due_at, "", now).await? {
                // Another node moved it first; its transaction did the step.
                return Ok((taken, None));
            }
            self.note(&mut tx, &run, step.kind(), o.outcome, o.detail, now)
                .await?;
            tx.commit().await?;
            taken += 1;
            // A tag change reaches WeCom (a corp tag) like a manual one; the segment index
            // catches up before this run's next branch, and once after the batch.
            match step {
                Step::Tag { tag_id } => {
                    self.wecom()
                        .queue_mark_tag(&[run.customer_id], &[*tag_id], &[])
                        .await;
                    tagged = true;
                }
                Step::Untag { tag_id } => {
                    self.wecom()
                        .queue_mark_tag(&[run.customer_id], &[], &[*tag_id])
                        .await;
                    tagged = true;
                }
                _ => {}
            }
            run.step = o.next;
            run.state = o.state.to_owned();
            run.due_at = o.due_at;
            if o.state != "active" || o.due_at > now {
                return Ok((taken, None));
            }
        }
        let mut tx = self.db.begin().await?;
        if store::move_in(&mut tx, &run, run.step, "failed", now, "runaway", now).await? {
            self.note(
                &mut tx,
                &run,
                "exit",
                "failed",
                serde_json::json!({"reason": "runaway"}),
                now,
            )
            .await?;
            tx.commit().await?;
        }
        Ok((taken, None))
    }

    async fn missing_reference(&self, tx: &mut Tx, step: &Step) -> Result<Option<String>> {
        Ok(match step {
            Step::Tag { tag_id } | Step::Untag { tag_id } => {
                store::reference_state_in(tx, "tags", *tag_id)
                    .await?
                    .is_none()
                    .then(|| format!("标签 {tag_id} 已删除"))
            }
            Step::Coupon { template_id } => {
                match store::reference_state_in(tx, "coupon_templates", *template_id).await? {
                    Some(s) if s == "active" => None,
                    Some(s) => Some(format!("优惠券模板 {template_id} 状态为 {s}")),
                    None => Some(format!("优惠券模板 {template_id} 不存在")),
                }
            }
            Step::Task {
                material_id: Some(m),
                ..
            }
            | Step::GroupMessage {
                material_id: Some(m),
                ..
            } => match store::reference_state_in(tx, "materials", *m).await? {
                Some(s) if s == "active" => None,
                _ => Some(format!("素材 {m} 已归档")),
            },
            _ => None,
        })
    }

    async fn note(
        &self,
        tx: &mut Tx,
        run: &RunRow,
        kind: &str,
        outcome: &str,
        detail: serde_json::Value,
        now: i64,
    ) -> Result<()> {
        store::trace_in(
            tx,
            &Trace {
                run_id: run.id,
                journey_id: run.journey_id,
                step: run.step,
                kind,
                outcome,
                detail: &detail.to_string(),
            },
            now,
        )
        .await?;
        Ok(())
    }

    /// The effect of one step inside the run's transaction.
    async fn effect(
        &self,
        tx: &mut Tx,
        run: &RunRow,
        step: &Step,
        n: i64,
        now: i64,
        coupon: Option<std::result::Result<i64, String>>,
    ) -> Result<Outcome> {
        let next = run.step + 1;
        let go = |outcome: &'static str, detail: serde_json::Value| Outcome {
            next,
            state: "active",
            due_at: now,
            outcome,
            detail,
        };
        Ok(match step {
            Step::Wait { seconds } => Outcome {
                next,
                state: "active",
                due_at: now + seconds * 1000,
                outcome: "waiting",
                detail: serde_json::json!({ "until": now + seconds * 1000 }),
            },
            Step::WaitUntil { time } => {
                let until = time.next_after(now);
                Outcome {
                    next,
                    state: "active",
                    due_at: until,
                    outcome: "waiting",
                    detail: serde_json::json!({ "until": until }),
                }
            }
            Step::Branch {
                expression,
                else_step,
            } => {
                let expr = self.segments.compile(expression)?;
                let mut one = RoaringBitmap::new();
                let matched = u32::try_from(run.customer_id).is_ok_and(|c| {
                    one.insert(c);
                    true
                }) && !self.segments.evaluate(&expr, now, Some(&one))?.is_empty();
                Outcome {
                    next: if matched {
                        next
                    } else {
                        i64::try_from(*else_step).unwrap_or(n)
                    },
                    state: "active",
                    due_at: now,
                    outcome: "branched",
                    detail: serde_json::json!({ "matched": matched }),
                }
            }
            Step::Goto { step } => Outcome {
                next: i64::try_from(*step).unwrap_or(n),
                ..go("done", serde_json::json!({}))
            },
            Step::Tag { tag_id } | Step::Untag { tag_id } => {
                let ids = [*tag_id];
                let tag = matches!(step, Step::Tag { .. });
                let c = yutang_store::tags::change_in(
                    tx,
                    &yutang_store::tags::TagChange {
                        customers: &[run.customer_id],
                        add: if tag { &ids } else { &[] },
                        remove: if tag { &[] } else { &ids },
                        source: yutang_core::tags::TagSource::Journey.as_str(),
                        staff_id: None,
                        by: &format!("journey:{}", run.journey_id),
                    },
                    now,
                )
                .await?;
                let changed = c.added + c.removed;
                go(
                    if changed > 0 { "done" } else { "skipped" },
                    serde_json::json!({ "tag_id": tag_id }),
                )
            }
            Step::Coupon { template_id } => match coupon {
                Some(Ok(claim)) => go(
                    "done",
                    serde_json::json!({ "template_id": template_id, "claim_id": claim }),
                ),
                Some(Err(reason)) => go(
                    "skipped",
                    serde_json::json!({ "template_id": template_id, "reason": reason }),
                ),
                None => go("skipped", serde_json::json!({ "template_id": template_id })),
            },
            Step::Task {
                title,
                body,
                material_id,
                due_hours,
            } => match store::owner_in(tx, run.customer_id).await? {
                None => go("skipped", serde_json::json!({ "reason": "no_guide" })),
                Some((staff, _)) => {
                    let key = format!("journey:{}:{}", run.id, run.step);
                    let source_ref = format!("journey:{}:step:{}", run.journey_id, run.step);
                    let task = crate::guide_tasks::create_in(
                        self,
                        tx,
                        &crate::guide_tasks::NewGuideTask {
                            staff_id: staff,
                            customer_id: Some(run.customer_id),
                            title,
                            body,
                            material_id: *material_id,
                            source: "journey",
                            source_ref: &source_ref,
                            dedupe_key: &key,
                            due_at: now + due_hours * 3_600_000,
                            created_by: None,
                        },
                    )
                    .await?;
                    go(
                        "done",
                        serde_json::json!({ "staff_id": staff, "task_id": task }),
                    )
                }
            },
            Step::Message { .. } => Outcome {
                next: run.step,
                state: "sending",
                due_at: now,
                outcome: "queued",
                detail: serde_json::json!({}),
            },
            Step::Notify { text } => match store::owner_in(tx, run.customer_id).await? {
                None => go("skipped", serde_json::json!({ "reason": "no_guide" })),
                Some((staff, _)) => {
                    let payload = json(&NotifyJob {
                        run_id: run.id,
                        step: run.step,
                        staff_id: staff,
                        customer_id: run.customer_id,
                        text: text.clone(),
                        outcome: None,
                    })?;
                    let job = job_store::enqueue_in(
                        tx,
                        &NewJob {
                            kind: NOTIFY_KIND,
                            payload: &payload,
                            run_at: now,
                            idempotency_key: Some(&format!(
                                "{NOTIFY_KIND}:{}:{}",
                                run.id, run.step
                            )),
                            created_by: None,
                        },
                        now,
                    )
                    .await?;
                    go(
                        "done",
                        serde_json::json!({ "staff_id": staff, "job_id": job }),
                    )
                }
            },
            // Definition::parse keeps group messages out of customer journeys; a stored one
            // from elsewhere is passed over, visibly.
            Step::GroupMessage { .. } => go(
                "skipped",
                serde_json::json!({ "reason": "group_message_in_customer_journey" }),
            ),
            Step::Webhook { signal } => {
                let detail = serde_json::json!({
                    "journey_id": run.journey_id,
                    "step": run.step,
                    "signal": signal,
                });
                yutang_store::events::append_in(
                    tx,
                    run.customer_id,
                    "journey_signal",
                    now,
                    None,
                    &detail.to_string(),
                    now,
                )
                .await?;
                go("done", serde_json::json!({ "signal": signal }))
            }
        })
    }

    /// Send the runs waiting at one message step as one mass message, moving them on in the
    /// same transaction. Whether a batch went.
    async fn flush_sends(
        &self,
        now: i64,
        cache: &mut HashMap<(i64, i64), Definition>,
    ) -> Result<u64> {
        let mut tx = self.db.begin().await?;
        let runs = store::claim_sending_in(&mut tx, SEND_BATCH).await?;
        let Some(first) = runs.first().cloned() else {
            return Ok(0);
        };
        let row = store::get_in(&mut tx, first.journey_id).await?;
        let def = match cache.get(&(first.journey_id, first.version)) {
            Some(d) => d.clone(),
            None => Self::definition_in(&mut tx, first.journey_id, first.version).await?,
        };
        let idx = usize::try_from(first.step).unwrap_or(0);
        let Some(Step::Message { text, attachments }) = def.steps.get(idx) else {
            return Err(AppError::Internal(format!(
                "run {} sends at step {} that is no message",
                first.id, first.step
            )));
        };
        let customers: Vec<i64> = runs.iter().map(|r| r.customer_id).collect();
        let input = MessageInput {
            name: format!("旅程「{}」第 {} 步", row.name, first.step + 1)
                .chars()
                .take(40)
                .collect(),
            content: Content::parse(text, attachments.clone())?,
            audience: Audience::Customers {
                customer_ids: customers,
            },
            holdout_bp: 0,
            send_at: None,
        };
        let message = self
            .messaging()
            .create_in(&mut tx, &input, self.now(), None, None)
            .await?;
        for r in &runs {
            if store::move_in(&mut tx, r, r.step + 1, "active", now, "", now).await? {
                self.note(
                    &mut tx,
                    r,
                    "message",
                    "sent",
                    serde_json::json!({ "mass_message_id": message }),
                    now,
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(1)
    }

    /// The notify job: the step's text to the owning guide as a WeCom app message.
    async fn run_notify(&self, job: &JobRow) -> Result<String> {
        let j: NotifyJob = serde_json::from_str(&job.payload)
            .map_err(|_| AppError::Internal(format!("bad journey notify job {}", job.payload)))?;
        let done = |what: &str| {
            serde_json::to_string(&NotifyJob {
                outcome: Some(what.to_owned()),
                text: String::new(),
                ..j
            })
            .map_err(|e| AppError::Internal(e.to_string()))
        };
        let staff = yutang_store::staff::get(&self.db, j.staff_id).await?;
        let Some(userid) = staff
            .wecom_userid
            .filter(|u| !u.is_empty() && staff.status == "active")
        else {
            return done("guide not in WeCom");
        };
        let Some((agentid, client)) = self.wecom().app_client().await? else {
            return done("wecom_not_configured");
        };
        let everyone = yutang_store::customers::Scope {
            store: None,
            guide: None,
        };
        let name = yutang_store::customers::get(&self.db, j.customer_id, everyone)
            .await
            .map(|c| c.name)
            .unwrap_or_default();
        let text = if name.is_empty() {
            j.text.clone()
        } else {
            format!("【{name}】{}", j.text)
        };
        let request = MessageSendRequest::text(agentid, &[userid], &text, DEDUPE_SECS);
        match client.message_send(&request).await {
            Ok(_) => done("sent"),
            Err(e) if e.is_transient() => Err(AppError::Internal(format!("wecom_error: {e}"))),
            Err(e) => done(&format!("wecom_error: {e}")),
        }
    }
}

/// An owner task's instructions: the text to post, then the groups to post it in (cut to the
/// task's 1,000 characters; the title says how many groups).
fn task_body(text: &str, groups: &[String]) -> String {
    let max = yutang_core::guide_tasks::MAX_BODY_CHARS;
    let mut body = format!("{}\n\n发到：{}", text.trim(), groups.join("、"));
    if body.chars().count() > max {
        body = body.chars().take(max - 1).collect();
        body.push('…');
    }
    body
}

/// `MM-DD HH:MM` in Asia/Shanghai.
fn shanghai_minute(ms: i64) -> String {
    use yutang_core::messaging::{civil_from_days, day_start, shanghai_day};
    let day = shanghai_day(ms);
    let (_, m, d) = civil_from_days(day);
    let min = (ms - day_start(day)) / 60_000;
    format!("{m:02}-{d:02} {:02}:{:02}", min / 60, min % 60)
}

/// The engine's loop for `yutang serve`: a round every second, at once again while a round
/// found work.
pub fn spawn_loop(app: &App) -> tokio::task::JoinHandle<()> {
    let app = app.clone();
    tokio::spawn(async move {
        loop {
            let busy = match app.journeys().tick().await {
                Ok(r) => r.enrolled + r.steps + r.sent_batches > 0,
                Err(e) => {
                    tracing::warn!(error = %e, "journey engine");
                    false
                }
            };
            let pause = if busy { 50 } else { 1000 };
            tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
        }
    })
}
