//! The job runner: claims due jobs from the durable table and runs them. One loop per node
//! (started by `yutang serve`); several nodes share the table safely.

use serde::Serialize;
use yutang_core::staff::Permission;
use yutang_store::jobs::{self as store, JobRow};

use crate::error::{AppError, Result};
use crate::tags::{BULK_TAG_KIND, RULE_RUN_KIND};
use crate::wecom::CONTACT_DETAILS_KIND;
use crate::wecom_sync::FULL_SYNC_KIND;
use crate::wecom_tags::MARK_TAG_KIND;
use crate::wecom_transfers::TRANSFER_KIND;
use crate::{Actor, App};

/// How long a claimed job stays leased before another runner may take it. Short, so a job
/// whose runner died (kill -9, a lost node) is retried within about this long; a live runner
/// renews it every [`HEARTBEAT`] while the job runs (and progress updates extend it), so a
/// long job is never taken from a runner that is alive.
pub const LEASE_MS: i64 = 30 * 1000;
/// How often a running job's lease is renewed: a third of the lease, so two renewals may
/// fail (a slow database) before the lease runs out.
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(10);
/// Attempts before a job is marked failed.
pub const MAX_ATTEMPTS: i64 = 5;

/// The job kinds this runner handles.
pub const KINDS: [&str; 11] = [
    BULK_TAG_KIND,
    RULE_RUN_KIND,
    FULL_SYNC_KIND,
    TRANSFER_KIND,
    MARK_TAG_KIND,
    crate::promotions::JOB_KINDS[0],
    crate::promotions::JOB_KINDS[1],
    crate::promotions::JOB_KINDS[2],
    crate::promotions::JOB_KINDS[3],
    crate::promotions::JOB_KINDS[4],
    CONTACT_DETAILS_KIND,
];

/// Stops a job's lease renewal when dropped (see [`App::keep_leased`]).
pub struct LeaseGuard(tokio::task::JoinHandle<()>);

impl Drop for LeaseGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A job as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct JobView {
    pub id: i64,
    pub kind: String,
    pub status: String,
    pub progress_done: i64,
    pub progress_total: i64,
    pub attempts: i64,
    /// JSON summary when done.
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<JobRow> for JobView {
    fn from(j: JobRow) -> Self {
        JobView {
            id: j.id,
            kind: j.kind,
            status: j.status,
            progress_done: j.progress_done,
            progress_total: j.progress_total,
            attempts: j.attempts,
            result: serde_json::from_str(&j.result).ok(),
            error: (!j.last_error.is_empty()).then_some(j.last_error),
            created_at: j.created_at,
            updated_at: j.updated_at,
        }
    }
}

impl App {
    /// A job, for whoever started it or an HQ role.
    pub async fn job(&self, actor: &Actor, id: i64) -> Result<JobView> {
        let j = store::get(&self.db, id)
            .await
            .map_err(AppError::not_found("job"))?;
        let own = j.created_by.is_some() && j.created_by == actor.staff_id().map(|s| s.0);
        if !own && !actor.can(Permission::ManageCustomers) {
            return Err(AppError::NotFound { what: "job" });
        }
        Ok(j.into())
    }

    /// Claim and run one due job; `Ok(false)` when none is due.
    pub async fn run_one_job(&self) -> Result<bool> {
        let Some(job) = store::claim(&self.db, &KINDS, self.now(), LEASE_MS).await? else {
            return Ok(false);
        };
        // Renewed while the handler runs; stops when this function returns.
        let _lease = self.keep_leased(job.id, HEARTBEAT);
        let outcome = match job.kind.as_str() {
            BULK_TAG_KIND => {
                self.run_bulk_tag(job.id, &job.payload, job.progress_done)
                    .await
            }
            RULE_RUN_KIND => {
                let id: i64 = job
                    .payload
                    .parse()
                    .map_err(|_| AppError::Internal("bad rule id".into()))?;
                self.run_tag_rule(id, None)
                    .await
                    .map(|n| serde_json::json!({"changes": n}).to_string())
            }
            FULL_SYNC_KIND => self.run_wecom_full_sync(job.id).await,
            TRANSFER_KIND => self.run_transfer_job(&job.payload).await,
            MARK_TAG_KIND => {
                self.run_mark_tag_job(job.id, &job.payload, job.progress_done)
                    .await
            }
            CONTACT_DETAILS_KIND => self.run_contact_details_job(&job.payload).await,
            k if crate::promotions::JOB_KINDS.contains(&k) => {
                self.run_promo_job(k, job.id, &job.payload, job.progress_done)
                    .await
            }
            other => Err(AppError::Internal(format!(
                "no handler for job kind {other}"
            ))),
        };
        match outcome {
            Ok(result) => store::finish(&self.db, job.id, true, &result, "", self.now()).await?,
            Err(e) if job.attempts >= MAX_ATTEMPTS => {
                tracing::error!(job = job.id, error = %e, "job failed for good");
                store::finish(&self.db, job.id, false, "", &e.to_string(), self.now()).await?
            }
            Err(e) => {
                tracing::warn!(job = job.id, attempt = job.attempts, error = %e, "job failed; will retry");
                let backoff = 1000 * (1i64 << job.attempts.clamp(0, 10));
                store::retry(
                    &self.db,
                    job.id,
                    &e.to_string(),
                    self.now() + backoff,
                    self.now(),
                )
                .await?
            }
        }
        Ok(true)
    }

    /// Renew job `id`'s lease to now + [`LEASE_MS`] every `every` until the returned guard is
    /// dropped. The renewal runs as its own task, so a handler busy for a long stretch does
    /// not starve it.
    pub fn keep_leased(&self, id: i64, every: std::time::Duration) -> LeaseGuard {
        let app = self.clone();
        LeaseGuard(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = store::renew(&app.db, id, app.now() + LEASE_MS).await {
                    tracing::warn!(job = id, error = %e, "job lease not renewed");
                }
            }
        }))
    }

    /// Run every due job (tests and the CLI use this; the server loops).
    pub async fn drain_jobs(&self) -> Result<usize> {
        let mut n = 0;
        while self.run_one_job().await? {
            n += 1;
        }
        Ok(n)
    }

    /// One tick of the background work: catch the index up, re-check event-driven rules on
    /// the customers that changed, run due jobs.
    pub async fn background_tick(&self, slack: i64) -> Result<()> {
        self.segments.catch_up(&self.db, self.now(), slack).await?;
        let changed = self.segments.take_changed()?;
        if !changed.is_empty() {
            self.run_all_tag_rules(Some(&changed)).await?;
        }
        self.drain_jobs().await?;
        Ok(())
    }

    /// The hourly work: rebuild the index (moving time windows forward) and re-run every
    /// rule for everyone (a baby turns 7 months without any event).
    pub async fn hourly_tick(&self) -> Result<()> {
        self.segments.rebuild(&self.db, self.now()).await?;
        self.segments.take_changed()?;
        self.run_all_tag_rules(None).await?;
        Ok(())
    }
}
