//! Scheduled reports (issue #24 item 5): a daily or weekly summary of the dashboard's figures,
//! sent to chosen staff as a WeCom app message.
//!
//! **Who.** HQ roles that manage (admin, operator) manage every schedule; a store manager
//! manages the schedules of their own store's scope (their store, or one of its guides) with
//! recipients of their store. The scope is the dashboard's (`resolve_scope` and `scope_view`,
//! so the same 403 / 404 / 422 answers); guides and analysts get 403.
//!
//! **The outbox.** A minute tick ([`Reports::queue_due`]) finds, per enabled schedule, the
//! latest period whose report is due, and inserts one delivery for it — unique by
//! `report:{schedule_id}:{period}` — with the job that sends it, in one transaction. A tick
//! that runs twice, or on two nodes, inserts nothing the second time; "send now" goes through
//! the same insert. A period due before the schedule was created is not sent by the tick.
//!
//! **The send.** The job fixes the recipients' userids and the text on its first attempt
//! (figures read through [`Analytics::dashboard`], so from the rollups) and sends them with
//! `message/send` and WeCom's duplicate check over [`DEDUPE_SECS`]: a job re-run after a
//! crash between WeCom's answer and the commit sends the same request, which WeCom drops. A
//! delivery recorded as sent is never sent again. Errors are retried by the job runner with
//! backoff; a permanent one (no recipient left, no WeCom app configured, 81013) fails the
//! delivery at once, and the last attempt fails it too.

use serde::Serialize;
use yutang_core::FieldError;
use yutang_core::access::DataScope;
use yutang_core::acquisition::stats::Period;
use yutang_core::analytics::reports::{
    self as core, Cadence, Figure, ReportFigures, ReportLang, ReportPeriod,
};
use yutang_core::staff::Role;
use yutang_store::StoreError;
use yutang_store::jobs::{self as job_store, JobRow, NewJob};
use yutang_store::reports::{self as store, DeliveryRow, NewDelivery, NewSchedule, ScheduleRow};
use yutang_store::rollups::{self as rollups, Named};
use yutang_wecom::client::api::{ERR_NO_VALID_RECIPIENT, MessageSendRequest};

use super::{Analytics, DashboardAsk, resolve_scope};
use crate::error::{AppError, Result};
use crate::jobs::{JobRegistry, MAX_ATTEMPTS};
use crate::{Actor, App};

/// Job kind: send one report delivery.
pub const SEND_KIND: &str = "report_send";
/// WeCom's duplicate-check window for a report (its maximum, 4 hours): a resend of the same
/// request within it is not delivered again.
pub const DEDUPE_SECS: u32 = 4 * 3600;
/// Recipients of one schedule, at most.
pub const MAX_RECIPIENTS: usize = 50;
/// Deliveries the log shows.
const LOG_LIMIT: i64 = 200;

pub(crate) fn register(reg: &mut JobRegistry) {
    reg.register(SEND_KIND, |app, job| {
        Box::pin(async move { app.analytics().reports().run_send(job).await })
    });
}

/// A schedule as entered (parsed; the scope and recipients are checked by the use case).
#[derive(Debug, Clone)]
pub struct ScheduleInput {
    pub name: String,
    pub cadence: Cadence,
    pub hour: i64,
    pub store_id: Option<i64>,
    pub staff_id: Option<i64>,
    pub recipient_ids: Vec<i64>,
    pub lang: ReportLang,
    pub enabled: bool,
}

impl ScheduleInput {
    /// Parse what a form or a JSON body gave: name 1–40 characters, cadence `daily` or
    /// `weekly`, hour 0–23, 1–50 recipients, lang `zh` (default) or `en`, enabled by default.
    #[allow(clippy::too_many_arguments)]
    pub fn parse(
        name: &str,
        cadence: &str,
        hour: i64,
        store_id: Option<i64>,
        staff_id: Option<i64>,
        recipient_ids: &[i64],
        lang: Option<&str>,
        enabled: Option<bool>,
    ) -> Result<Self> {
        let name = name.trim();
        let len = name.chars().count();
        if !(1..=40).contains(&len) {
            return Err(
                FieldError::new("name", "invalid_name", "a name is 1–40 characters").into(),
            );
        }
        let cadence = Cadence::parse("cadence", cadence)?;
        let hour = core::parse_hour("hour", hour)?;
        let lang = ReportLang::parse("lang", lang.unwrap_or("zh"))?;
        let mut ids = recipient_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Err(FieldError::new(
                "recipient_ids",
                "no_recipients",
                "choose at least one recipient",
            )
            .into());
        }
        if ids.len() > MAX_RECIPIENTS {
            return Err(FieldError::new(
                "recipient_ids",
                "too_many_items",
                format!("at most {MAX_RECIPIENTS} recipients"),
            )
            .into());
        }
        Ok(Self {
            name: name.to_owned(),
            cadence,
            hour,
            store_id,
            staff_id,
            recipient_ids: ids,
            lang,
            enabled: enabled.unwrap_or(true),
        })
    }
}

/// A recipient as shown.
#[derive(Debug, Clone, Serialize)]
pub struct RecipientView {
    pub staff_id: i64,
    pub name: String,
    pub wecom_userid: Option<String>,
}

/// A schedule as shown.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleView {
    pub id: i64,
    pub name: String,
    /// `daily` or `weekly`.
    pub cadence: String,
    /// The hour (Asia/Shanghai) the report is sent at.
    pub hour: i64,
    /// `brand`, `store` or `guide`.
    pub level: String,
    pub store_id: Option<i64>,
    pub staff_id: Option<i64>,
    /// The store's or guide's name (empty for the brand).
    pub scope_name: String,
    pub recipients: Vec<RecipientView>,
    pub lang: String,
    pub enabled: bool,
    /// The period the next report covers and when it is due (UTC millis).
    pub next_period: String,
    pub next_due_at: i64,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A delivery as the log shows it.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryView {
    pub id: i64,
    pub schedule_id: i64,
    /// `2026-03-03` or `2026-03-02/2026-03-08`.
    pub period: String,
    pub period_from: String,
    pub period_to: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    /// The WeCom userids it was sent to (fixed on the first attempt).
    pub recipients: Vec<String>,
    /// Recipients WeCom refused (not in the app's visible range, unlicensed …).
    pub invalid_recipients: Vec<String>,
    /// The text sent.
    pub content: String,
    pub attempts: i64,
    pub last_error: String,
    pub msgid: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

fn split_users(s: &str) -> Vec<String> {
    s.split('|')
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .collect()
}

impl From<DeliveryRow> for DeliveryView {
    fn from(d: DeliveryRow) -> Self {
        Self {
            id: d.id,
            schedule_id: d.schedule_id,
            period: d.period,
            period_from: d.period_from,
            period_to: d.period_to,
            status: d.status,
            recipients: split_users(&d.recipients),
            invalid_recipients: split_users(&d.invalid_users),
            content: d.content,
            attempts: d.attempts,
            last_error: d.last_error,
            msgid: d.msgid,
            created_at: d.created_at,
            sent_at: d.sent_at,
        }
    }
}

/// The answer of "send now": the delivery of the latest completed period, and whether this
/// call queued it (`false`: it was queued or sent already).
#[derive(Debug, Clone, Serialize)]
pub struct SendNow {
    pub queued: bool,
    pub delivery: DeliveryView,
}

/// The scheduled-report use cases.
pub struct Reports<'a>(&'a App);

impl std::ops::Deref for Reports<'_> {
    type Target = App;
    fn deref(&self) -> &App {
        self.0
    }
}

impl<'a> Analytics<'a> {
    pub fn reports(&self) -> Reports<'a> {
        Reports(self.0)
    }
}

/// The roles that manage schedules: admin and operator (every schedule), a store manager
/// (their store's). Everyone else: 403.
fn require_manager(actor: &Actor) -> Result<()> {
    match actor.caller.role {
        Role::Admin | Role::Operator => Ok(()),
        Role::StoreManager if matches!(actor.caller.data_scope(), DataScope::Store(_)) => Ok(()),
        _ => Err(AppError::Forbidden),
    }
}

/// The store a store manager is limited to (`None`: every schedule).
fn own_store(actor: &Actor) -> Option<i64> {
    match actor.caller.data_scope() {
        DataScope::Store(s) => Some(s.0),
        _ => None,
    }
}

fn parse_ids(json: &str) -> Vec<i64> {
    serde_json::from_str(json).unwrap_or_default()
}

fn cadence_of(row: &ScheduleRow) -> Cadence {
    Cadence::parse("cadence", &row.cadence).unwrap_or(Cadence::Daily)
}

fn lang_of(row: &ScheduleRow) -> ReportLang {
    ReportLang::parse("lang", &row.lang).unwrap_or(ReportLang::Zh)
}

/// Errors that retrying will not cure: the delivery fails at once.
fn permanent(e: &yutang_wecom::WecomError) -> bool {
    matches!(
        e.errcode(),
        Some(ERR_NO_VALID_RECIPIENT)
            | Some(yutang_wecom::client::api::ERR_INVALID_AGENTID)
            | Some(yutang_wecom::client::api::ERR_NO_APP_PRIVILEGE)
            | Some(yutang_wecom::client::codes::INVALID_SECRET)
            | Some(yutang_wecom::client::codes::INVALID_CORPID)
    ) || matches!(e, yutang_wecom::WecomError::InvalidRequest { .. })
}

impl Reports<'_> {
    // ------------------------------------------------------------ schedules

    /// The schedules the caller manages.
    pub async fn list(&self, actor: &Actor) -> Result<Vec<ScheduleView>> {
        require_manager(actor)?;
        let rows = store::list(&self.db, own_store(actor)).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(self.view(r).await?);
        }
        Ok(out)
    }

    /// One schedule (404 outside the caller's store).
    pub async fn get(&self, actor: &Actor, id: i64) -> Result<ScheduleView> {
        let row = self.row(actor, id).await?;
        self.view(row).await
    }

    async fn row(&self, actor: &Actor, id: i64) -> Result<ScheduleRow> {
        require_manager(actor)?;
        let row = store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("report_schedule"))?;
        match own_store(actor) {
            Some(mine) if row.store_id != Some(mine) => Err(AppError::NotFound {
                what: "report_schedule",
            }),
            _ => Ok(row),
        }
    }

    async fn view(&self, r: ScheduleRow) -> Result<ScheduleView> {
        let scope_name = match (r.level.as_str(), r.store_id, r.staff_id) {
            ("guide", _, Some(g)) => rollups::names(&self.db, Named::Staff, &[g]).await?,
            ("store", Some(s), _) => rollups::names(&self.db, Named::Stores, &[s]).await?,
            _ => Vec::new(),
        }
        .into_iter()
        .next()
        .map(|(_, n)| n)
        .unwrap_or_default();
        let mut recipients = Vec::new();
        for id in parse_ids(&r.recipient_ids) {
            match yutang_store::staff::get(&self.db, id).await {
                Ok(s) => recipients.push(RecipientView {
                    staff_id: s.id,
                    name: s.display_name,
                    wecom_userid: s.wecom_userid,
                }),
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let cadence = cadence_of(&r);
        // The next period: the one after the latest due now.
        let due = ReportPeriod::due(cadence, r.send_hour, self.now());
        let next = ReportPeriod {
            cadence,
            from_day: due.from_day + cadence.days(),
            to_day: due.to_day + cadence.days(),
        };
        Ok(ScheduleView {
            id: r.id,
            name: r.name,
            cadence: r.cadence,
            hour: r.send_hour,
            level: r.level,
            store_id: r.store_id,
            staff_id: r.staff_id,
            scope_name,
            recipients,
            lang: r.lang,
            enabled: r.enabled,
            next_period: next.key(),
            next_due_at: next.due_at(r.send_hour),
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }

    /// Check the scope (the dashboard's rules) and the recipients; the row to save.
    async fn checked(&self, actor: &Actor, input: &ScheduleInput) -> Result<SavedScope> {
        require_manager(actor)?;
        let ask = DashboardAsk {
            from: None,
            to: None,
            store_id: input.store_id,
            staff_id: input.staff_id,
        };
        let (grain, key) = resolve_scope(actor, &ask)?;
        let scope = Analytics(self.0).scope_view(actor, grain, key).await?;
        let mine = own_store(actor);
        for &id in &input.recipient_ids {
            let field = "recipient_ids";
            let staff = match yutang_store::staff::get(&self.db, id).await {
                Ok(s) => s,
                Err(StoreError::NotFound) => {
                    return Err(FieldError::new(
                        field,
                        "unknown_staff",
                        format!("no staff member {id}"),
                    )
                    .into());
                }
                Err(e) => return Err(e.into()),
            };
            // A store manager chooses among their store's staff; others are unknown to them.
            if mine.is_some() && staff.store_id != mine {
                return Err(FieldError::new(
                    field,
                    "unknown_staff",
                    format!("no staff member {id}"),
                )
                .into());
            }
            if staff.status != "active" {
                return Err(FieldError::new(
                    field,
                    "staff_inactive",
                    format!("staff member {id} is not active"),
                )
                .into());
            }
            if staff.wecom_userid.as_deref().unwrap_or("").is_empty() {
                return Err(FieldError::new(
                    field,
                    "no_wecom_userid",
                    format!("staff member {id} has no WeCom userid"),
                )
                .into());
            }
        }
        Ok(SavedScope {
            level: scope.level,
            store_id: scope.store_id,
            staff_id: scope.staff_id,
            recipient_ids: serde_json::to_string(&input.recipient_ids)
                .map_err(|e| AppError::Internal(e.to_string()))?,
        })
    }

    pub async fn create(&self, actor: &Actor, input: &ScheduleInput) -> Result<ScheduleView> {
        let scope = self.checked(actor, input).await?;
        let mut tx = self.db.begin().await?;
        let id = store::insert_in(
            &mut tx,
            &scope.new_schedule(input),
            actor.actor_id(),
            self.now(),
        )
        .await?;
        self.audit(&mut tx, actor, id, "create").await?;
        tx.commit().await?;
        let row = store::get(&self.db, id).await?;
        self.view(row).await
    }

    pub async fn update(
        &self,
        actor: &Actor,
        id: i64,
        input: &ScheduleInput,
    ) -> Result<ScheduleView> {
        self.row(actor, id).await?;
        let scope = self.checked(actor, input).await?;
        let mut tx = self.db.begin().await?;
        store::update_in(&mut tx, id, &scope.new_schedule(input), self.now())
            .await
            .map_err(AppError::not_found("report_schedule"))?;
        self.audit(&mut tx, actor, id, "update").await?;
        tx.commit().await?;
        self.get(actor, id).await
    }

    /// Delete a schedule: nothing more is queued; its log stays readable through the
    /// deliveries of a pending send, which fails as `schedule_deleted`.
    pub async fn delete(&self, actor: &Actor, id: i64) -> Result<()> {
        self.row(actor, id).await?;
        let mut tx = self.db.begin().await?;
        store::delete_in(&mut tx, id, self.now())
            .await
            .map_err(AppError::not_found("report_schedule"))?;
        self.audit(&mut tx, actor, id, "delete").await?;
        tx.commit().await?;
        Ok(())
    }

    /// The audit entry of a change to a schedule, in the change's transaction.
    async fn audit(
        &self,
        tx: &mut yutang_store::Tx,
        actor: &Actor,
        id: i64,
        op: &str,
    ) -> Result<()> {
        crate::audit::record_in(
            self,
            tx,
            actor,
            crate::audit::Action::ReportScheduleChanged,
            &format!("report_schedule:{id}"),
            &serde_json::json!({ "op": format!("report_schedule.{op}") }).to_string(),
        )
        .await
    }

    /// The delivery log of a schedule, newest period first (`schedule_id` is required; it is
    /// optional here so that a caller who may not see reports is refused before it is read).
    pub async fn deliveries(
        &self,
        actor: &Actor,
        schedule_id: Option<i64>,
    ) -> Result<Vec<DeliveryView>> {
        require_manager(actor)?;
        let Some(schedule_id) = schedule_id else {
            return Err(FieldError::new("schedule_id", "required", "give schedule_id").into());
        };
        self.row(actor, schedule_id).await?;
        Ok(store::deliveries(&self.db, schedule_id, LOG_LIMIT)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    // ------------------------------------------------------------ the outbox

    /// "Send now": queue the latest completed period (yesterday, or the last full week). The
    /// same period is not queued twice: a pending or sent delivery is answered as it is; a
    /// failed one is queued again.
    pub async fn send_now(&self, actor: &Actor, id: i64) -> Result<SendNow> {
        let row = self.row(actor, id).await?;
        let period = ReportPeriod::latest_completed(cadence_of(&row), self.now());
        let (delivery, queued) = self.queue(&row, &period, actor.actor_id(), true).await?;
        if queued {
            crate::audit::record(
                self,
                actor,
                crate::audit::Action::ReportScheduleChanged,
                &format!("report_schedule:{id}"),
                &serde_json::json!({ "op": "report_schedule.send_now", "period": delivery.period })
                    .to_string(),
            )
            .await?;
        }
        Ok(SendNow {
            queued,
            delivery: delivery.into(),
        })
    }

    /// The minute tick: for each enabled schedule, queue the latest period due at `now`
    /// (unless it was due before the schedule existed). Returns how many were queued.
    pub async fn queue_due(&self, now: i64) -> Result<usize> {
        let mut n = 0;
        for row in store::enabled(&self.db).await? {
            let period = ReportPeriod::due(cadence_of(&row), row.send_hour, now);
            if period.due_at(row.send_hour) < row.created_at {
                continue;
            }
            if self.queue(&row, &period, None, false).await?.1 {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Insert the delivery of (schedule, period) with its job, in one transaction, unless it
    /// exists. `again`: a failed delivery is queued again (send now).
    async fn queue(
        &self,
        row: &ScheduleRow,
        period: &ReportPeriod,
        by: Option<i64>,
        again: bool,
    ) -> Result<(DeliveryRow, bool)> {
        let key = core::dedupe_key(row.id, period);
        let now = self.now();
        let mut tx = self.db.begin().await?;
        if !store::is_live_in(&mut tx, row.id).await? {
            return Err(AppError::NotFound {
                what: "report_schedule",
            });
        }
        let inserted = store::insert_delivery_in(
            &mut tx,
            &NewDelivery {
                schedule_id: row.id,
                period: &period.key(),
                period_from: &period.from_label(),
                period_to: &period.to_label(),
                dedupe_key: &key,
            },
            now,
        )
        .await?;
        let (id, job_key) = match inserted {
            Some(id) => (id, key.clone()),
            None => {
                let existing = store::lock_by_key_in(&mut tx, &key)
                    .await?
                    .ok_or(AppError::Internal(format!("delivery {key} vanished")))?;
                if !(again && existing.status == "failed") {
                    tx.commit().await?;
                    return Ok((existing, false));
                }
                (existing.id, format!("{key}:again:{now}"))
            }
        };
        let payload = job_json(&SendJob {
            delivery_id: id,
            status: None,
        })?;
        let job = job_store::enqueue_in(
            &mut tx,
            &NewJob {
                kind: SEND_KIND,
                payload: &payload,
                run_at: now,
                idempotency_key: Some(&job_key),
                created_by: by,
            },
            now,
        )
        .await?;
        store::set_job_in(&mut tx, id, job, now).await?;
        tx.commit().await?;
        Ok((store::get_delivery(&self.db, id).await?, true))
    }

    // ------------------------------------------------------------ the send

    /// The job: compose (once) and send one delivery. Returns the job's JSON summary.
    async fn run_send(&self, job: &JobRow) -> Result<String> {
        let id = serde_json::from_str::<SendJob>(&job.payload)
            .map_err(|_| AppError::Internal(format!("bad report job payload {}", job.payload)))?
            .delivery_id;
        let summary = |d: &DeliveryRow| {
            job_json(&SendJob {
                delivery_id: d.id,
                status: Some(d.status.clone()),
            })
        };
        let d = store::get_delivery(&self.db, id)
            .await
            .map_err(AppError::not_found("report_delivery"))?;
        // Sent or failed already (a replay of the job), or queued again by a newer job.
        if d.status != "pending" || d.job_id != Some(job.id) {
            return summary(&d);
        }
        let now = self.now();
        let schedule = match store::get(&self.db, d.schedule_id).await {
            Ok(s) => s,
            Err(StoreError::NotFound) => {
                return self
                    .fail(&d, "schedule_deleted: the schedule was deleted")
                    .await;
            }
            Err(e) => return Err(e.into()),
        };
        let d = if d.content.is_empty() {
            let users = self.recipient_userids(&schedule).await?;
            if users.is_empty() {
                return self
                    .fail(
                        &d,
                        "no_recipients: no recipient is an active staff member with a WeCom userid",
                    )
                    .await;
            }
            let text = match self.compose(&schedule, &d).await {
                Ok(t) => t,
                Err(e @ (AppError::NotFound { .. } | AppError::Invalid(_))) => {
                    return self.fail(&d, &format!("invalid_scope: {e}")).await;
                }
                Err(e) => return Err(e),
            };
            store::fix_message(&self.db, id, &users.join("|"), &text, now).await?
        } else {
            d
        };
        let Some((agentid, client)) = self.wecom().app_client().await? else {
            return self
                .fail(
                    &d,
                    "wecom_not_configured: no self-built app (AgentId and secret) in the WeCom settings",
                )
                .await;
        };
        store::count_attempt(&self.db, id, self.now()).await?;
        let request = MessageSendRequest::text(
            agentid,
            &split_users(&d.recipients),
            &d.content,
            DEDUPE_SECS,
        );
        match client.message_send(&request).await {
            Ok(r) => {
                let refused: Vec<&str> = [r.invaliduser.as_str(), r.unlicenseduser.as_str()]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect();
                store::mark_sent(&self.db, id, &r.msgid, &refused.join("|"), self.now()).await?;
                let d = store::get_delivery(&self.db, id).await?;
                summary(&d)
            }
            Err(e) if permanent(&e) => self.fail(&d, &format!("wecom_error: {e}")).await,
            Err(e) => {
                let message = format!("wecom_error: {e}");
                store::record_error(&self.db, id, &message, self.now()).await?;
                if job.attempts >= MAX_ATTEMPTS {
                    store::mark_failed(&self.db, id, &message, self.now()).await?;
                }
                Err(AppError::Internal(message))
            }
        }
    }

    async fn fail(&self, d: &DeliveryRow, why: &str) -> Result<String> {
        store::mark_failed(&self.db, d.id, why, self.now()).await?;
        tracing::warn!(delivery = d.id, reason = why, "report delivery failed");
        job_json(&SendJob {
            delivery_id: d.id,
            status: Some("failed".into()),
        })
    }

    /// The userids of the schedule's recipients who are active and linked to WeCom now.
    async fn recipient_userids(&self, s: &ScheduleRow) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for id in parse_ids(&s.recipient_ids) {
            match yutang_store::staff::get(&self.db, id).await {
                Ok(st) if st.status == "active" => {
                    if let Some(u) = st.wecom_userid.filter(|u| !u.is_empty()) {
                        out.push(u);
                    }
                }
                Ok(_) | Err(StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// The text: the dashboard's figures for the period and scope, and the link to it.
    async fn compose(&self, s: &ScheduleRow, d: &DeliveryRow) -> Result<String> {
        let (store_id, staff_id) = match s.level.as_str() {
            "store" => (s.store_id, None),
            "guide" => (None, s.staff_id),
            _ => (None, None),
        };
        let ask = DashboardAsk {
            from: Some(d.period_from.clone()),
            to: Some(d.period_to.clone()),
            store_id,
            staff_id,
        };
        let parsed = Period::parse(Some(&d.period_from), Some(&d.period_to), None, self.now())?;
        let period = ReportPeriod {
            cadence: cadence_of(s),
            from_day: parsed.from_day,
            to_day: parsed.to_day,
        };
        let v = Analytics(self.0).dashboard(&Actor::system(), &ask).await?;
        let fig = |m: &str| {
            v.tiles
                .iter()
                .find(|t| t.metric == m)
                .map(|t| Figure {
                    value: t.total,
                    change_bp: t.change_bp,
                })
                .unwrap_or_default()
        };
        let brand = v.scope.level == "brand";
        let figures = ReportFigures {
            level: v.scope.level.to_owned(),
            scope_name: v.scope.name.clone(),
            new_customers: brand.then(|| fig("new_customers")),
            contacts_added: fig("contacts_added"),
            net_adds: fig("net_adds"),
            orders: fig("orders"),
            gmv_fen: fig("gmv_fen"),
            net_gmv_fen: fig("net_gmv_fen"),
            coupons_used: fig("coupons_used"),
            coupon_redemption_bp: v.coupon_redemption_bp,
        };
        let link = self
            .public_base()
            .await
            .map(|base| core::dashboard_link(&base, &period, store_id, staff_id));
        Ok(core::summary(
            lang_of(s),
            &s.name,
            &period,
            &figures,
            link.as_deref(),
        ))
    }

    /// Where staff reach the console: `h5.public_url`, else the origin of the public WeCom
    /// callback URL entered for the setup checker; `None` when neither is set.
    async fn public_base(&self) -> Option<String> {
        if let Some(base) = self.settings.h5.public_base() {
            return Some(base.to_owned());
        }
        let cfg = self.wecom().wecom_config().await.ok()?;
        let url = cfg.callback_public_url.trim();
        let base = url
            .strip_suffix("/wecom/callback")
            .unwrap_or(url)
            .trim_end_matches('/');
        (!base.is_empty()).then(|| base.to_owned())
    }
}

/// A send job's payload (`delivery_id`) and its summary (with the delivery's `status`).
#[derive(Debug, serde::Deserialize, Serialize)]
struct SendJob {
    delivery_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<String>,
}

fn job_json(j: &SendJob) -> Result<String> {
    serde_json::to_string(j).map_err(|e| AppError::Internal(e.to_string()))
}

/// The scope and recipients of a schedule, as saved.
struct SavedScope {
    level: &'static str,
    store_id: Option<i64>,
    staff_id: Option<i64>,
    recipient_ids: String,
}

impl SavedScope {
    fn new_schedule<'a>(&'a self, input: &'a ScheduleInput) -> NewSchedule<'a> {
        NewSchedule {
            name: &input.name,
            cadence: input.cadence.as_str(),
            send_hour: input.hour,
            level: self.level,
            store_id: self.store_id,
            staff_id: self.staff_id,
            recipient_ids: &self.recipient_ids,
            lang: input.lang.as_str(),
            enabled: input.enabled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_parsed_and_refused_by_field() {
        let ok =
            ScheduleInput::parse(" 日报 ", "daily", 9, None, None, &[3, 1, 3], None, None).unwrap();
        assert_eq!(ok.name, "日报");
        assert_eq!(ok.recipient_ids, vec![1, 3]);
        assert!(ok.enabled);
        assert_eq!(ok.lang, ReportLang::Zh);
        let field = |r: Result<ScheduleInput>| match r {
            Err(AppError::Invalid(f)) => (f.field, f.code),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(ScheduleInput::parse(
                "",
                "daily",
                9,
                None,
                None,
                &[1],
                None,
                None
            )),
            ("name", "invalid_name")
        );
        assert_eq!(
            field(ScheduleInput::parse(
                "x",
                "hourly",
                9,
                None,
                None,
                &[1],
                None,
                None
            )),
            ("cadence", "invalid_cadence")
        );
        assert_eq!(
            field(ScheduleInput::parse(
                "x",
                "weekly",
                24,
                None,
                None,
                &[1],
                None,
                None
            )),
            ("hour", "invalid_hour")
        );
        assert_eq!(
            field(ScheduleInput::parse(
                "x",
                "weekly",
                8,
                None,
                None,
                &[],
                None,
                None
            )),
            ("recipient_ids", "no_recipients")
        );
        assert_eq!(
            field(ScheduleInput::parse(
                "x",
                "weekly",
                8,
                None,
                None,
                &[1],
                Some("de"),
                None
            )),
            ("lang", "invalid_lang")
        );
    }
}
