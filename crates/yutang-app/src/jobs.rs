//! The job runner: claims due jobs from the durable table and runs them. One loop per node
//! (started by [`crate::workers`]); several nodes share the table safely.
//!
//! The runner knows no area: each area registers the kinds it runs in a [`JobRegistry`]
//! (a `register` function in its own module), and `crate::job_kinds` is the one list of
//! those functions. The runner claims only registered kinds and dispatches by kind.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use serde::Serialize;
use yutang_core::staff::Permission;
use yutang_store::jobs::{self as store, JobRow};

use crate::error::{AppError, Result};
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

/// What a job handler returns: the job's JSON summary (stored as its result) or an error
/// (the job is retried with backoff, and failed after [`MAX_ATTEMPTS`]).
pub type JobFuture<'a> = Pin<Box<dyn Future<Output = Result<String>> + Send + 'a>>;

/// Runs one claimed job. The job row carries the kind, the payload and the progress made by
/// earlier attempts (`progress_done`), so a handler can resume.
pub type JobHandler = for<'a> fn(&'a App, &'a JobRow) -> JobFuture<'a>;

/// The job kinds this node runs, each with its handler. Built once when the [`App`] opens.
#[derive(Default)]
pub struct JobRegistry {
    handlers: BTreeMap<&'static str, JobHandler>,
}

impl JobRegistry {
    /// Register `handler` for `kind`.
    ///
    /// # Panics
    /// When `kind` is registered twice, or is not made of ASCII letters, digits and `_`
    /// (the claim query only accepts such kinds, so any other would never run). Both are
    /// wiring mistakes, caught by the first test that opens an App.
    pub fn register(&mut self, kind: &'static str, handler: JobHandler) {
        assert!(
            !kind.is_empty() && kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "job kind {kind:?} must be ASCII letters, digits and _"
        );
        let previous = self.handlers.insert(kind, handler);
        assert!(previous.is_none(), "job kind {kind} registered twice");
    }

    /// Every registered kind (sorted): the kinds the runner claims.
    pub fn kinds(&self) -> Vec<&'static str> {
        self.handlers.keys().copied().collect()
    }

    /// The handler for `kind`, if one is registered.
    pub fn handler(&self, kind: &str) -> Option<JobHandler> {
        self.handlers.get(kind).copied()
    }
}

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

    /// The job kinds this node's runner claims (every registered kind).
    pub fn job_kinds(&self) -> Vec<&'static str> {
        self.jobs.kinds()
    }

    /// Claim and run one due job; `Ok(false)` when none is due.
    pub async fn run_one_job(&self) -> Result<bool> {
        let kinds = self.jobs.kinds();
        let Some(job) = store::claim(&self.db, &kinds, self.now(), LEASE_MS).await? else {
            return Ok(false);
        };
        self.run_claimed_job(&job).await?;
        Ok(true)
    }

    /// Run a job this runner has claimed and record the outcome: done, retried later with
    /// backoff, or failed for good after [`MAX_ATTEMPTS`].
    pub(crate) async fn run_claimed_job(&self, job: &JobRow) -> Result<()> {
        // Renewed while the handler runs; stops when this function returns.
        let _lease = self.keep_leased(job.id, HEARTBEAT);
        let outcome = match self.jobs.handler(&job.kind) {
            Some(handler) => handler(self, job).await,
            None => Err(AppError::Internal(format!(
                "no handler for job kind {}",
                job.kind
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
        Ok(())
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
}

#[cfg(test)]
mod tests {
    use yutang_store::jobs::NewJob;

    use super::*;
    use crate::Settings;

    const UNKNOWN: &str = "test_unknown_kind";

    async fn app(dir: &tempfile::TempDir) -> App {
        App::open(Settings {
            database_url: format!("sqlite://{}", dir.path().join("y.db").display()),
            ..Settings::default()
        })
        .await
        .expect("open")
    }

    /// A job of a kind no area registered is never claimed by the runner; and should one be
    /// claimed anyway (by a node that knew the kind), it is retried like a failing job and
    /// failed after [`MAX_ATTEMPTS`] — never a panic.
    #[tokio::test]
    async fn a_job_of_an_unknown_kind_is_not_run_and_fails_without_panicking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let app = app(&dir).await;
        assert!(!app.job_kinds().contains(&UNKNOWN));
        let id = store::enqueue(
            &app.db,
            &NewJob {
                kind: UNKNOWN,
                payload: "",
                run_at: 0,
                idempotency_key: None,
                created_by: None,
            },
            app.now(),
        )
        .await
        .expect("enqueue");
        assert_eq!(app.drain_jobs().await.expect("drain"), 0);
        let j = store::get(&app.db, id).await.expect("job");
        assert_eq!((j.status.as_str(), j.attempts), ("queued", 0));

        let mut clock = app.now();
        for attempt in 1..=MAX_ATTEMPTS {
            // Past any backoff the previous attempt set.
            clock += 10_000_000;
            let job = store::claim(&app.db, &[UNKNOWN], clock, LEASE_MS)
                .await
                .expect("claim")
                .expect("claimed");
            assert_eq!(job.attempts, attempt);
            app.run_claimed_job(&job).await.expect("outcome recorded");
            let j = store::get(&app.db, id).await.expect("job");
            let want = if attempt < MAX_ATTEMPTS {
                "queued"
            } else {
                "failed"
            };
            assert_eq!(j.status, want, "attempt {attempt}: {j:?}");
            assert_eq!(
                j.last_error,
                format!("internal error: no handler for job kind {UNKNOWN}")
            );
        }
    }
}
