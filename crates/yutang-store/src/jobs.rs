//! The durable job table: bulk work, timers and syncs that must survive restarts.
//!
//! A runner claims a due job by setting a lease (`locked_until`); on PostgreSQL the claim uses
//! `FOR UPDATE SKIP LOCKED` so several nodes share the table, on SQLite the single writer
//! makes the conditional update enough. Leases are short (the app's `LEASE_MS`, 30 s) and a
//! live runner renews its lease while the job runs ([`renew`]); a runner that dies leaves its
//! lease to expire within that and the job is claimed again, so job handlers must be idempotent (they are: each records progress
//! and re-derives what is left).

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub status: String,
    pub run_at: i64,
    pub attempts: i64,
    pub locked_until: Option<i64>,
    pub progress_done: i64,
    pub progress_total: i64,
    pub result: String,
    pub last_error: String,
    pub idempotency_key: Option<String>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! job_select {
    () => {
        "SELECT id, kind, payload, status, run_at, attempts, locked_until, progress_done, \
         progress_total, result, last_error, idempotency_key, created_by, created_at, updated_at \
         FROM jobs"
    };
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub kind: &'a str,
    pub payload: &'a str,
    pub run_at: i64,
    /// Enqueuing twice with the same key returns the first job.
    pub idempotency_key: Option<&'a str>,
    pub created_by: Option<i64>,
}

/// Enqueue a job; with an idempotency key already used, the existing job's id.
pub async fn enqueue(db: &Db, j: &NewJob<'_>, now: i64) -> Result<i64> {
    if let Some(key) = j.idempotency_key
        && let Some(id) = by_key(db, key).await?
    {
        return Ok(id);
    }
    match (
        enqueue_fingerprinted(db, j, "", now).await,
        j.idempotency_key,
    ) {
        // A concurrent enqueue with the same key won.
        (Err(StoreError::Conflict { .. }), Some(key)) => {
            by_key(db, key).await?.ok_or(StoreError::NotFound)
        }
        (r, _) => r,
    }
}

/// Enqueue a job a client asked for under its idempotency key, keeping the fingerprint of the
/// request with it (compared by the app on a replay). A key already used is
/// [`StoreError::Conflict`]: the caller decides whether that is a replay.
pub async fn enqueue_fingerprinted(
    db: &Db,
    j: &NewJob<'_>,
    fingerprint: &str,
    now: i64,
) -> Result<i64> {
    db_run!(db, pool => {
        sqlx::query_scalar(
            "INSERT INTO jobs (kind, payload, run_at, idempotency_key, fingerprint, created_by, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(j.kind)
        .bind(j.payload)
        .bind(j.run_at)
        .bind(j.idempotency_key)
        .bind(fingerprint)
        .bind(j.created_by)
        .bind(now)
        .fetch_one(pool)
        .await
        .map_err(|e| StoreError::classify(e, "idempotency_key"))
    })
}

/// Enqueue a job inside the caller's transaction, so it exists exactly when the change that
/// asks for it commits. A key already used is [`StoreError::Conflict`].
pub async fn enqueue_in(tx: &mut Tx, j: &NewJob<'_>, now: i64) -> Result<i64> {
    in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO jobs (kind, payload, run_at, idempotency_key, fingerprint, created_by, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, '', $5, $6, $6) RETURNING id",
        )
        .bind(j.kind)
        .bind(j.payload)
        .bind(j.run_at)
        .bind(j.idempotency_key)
        .bind(j.created_by)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| StoreError::classify(e, "idempotency_key"))
    })
}

/// Enqueue a job a client asked for under its idempotency key, inside the caller's
/// transaction, keeping the fingerprint of the request with it. `None`: the key is taken
/// already (maybe by a concurrent request, which PostgreSQL waits for): nothing was written
/// and the transaction is still usable, so the caller can read the job the key started with
/// [`by_key_fingerprint_in`].
pub async fn enqueue_fingerprinted_in(
    tx: &mut Tx,
    j: &NewJob<'_>,
    fingerprint: &str,
    now: i64,
) -> Result<Option<i64>> {
    in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO jobs (kind, payload, run_at, idempotency_key, fingerprint, created_by, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
             ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
        )
        .bind(j.kind)
        .bind(j.payload)
        .bind(j.run_at)
        .bind(j.idempotency_key)
        .bind(fingerprint)
        .bind(j.created_by)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| StoreError::classify(e, "idempotency_key"))
    })
}

async fn by_key(db: &Db, key: &str) -> Result<Option<i64>> {
    Ok(by_key_fingerprint(db, key).await?.map(|(id, _)| id))
}

/// The job an idempotency key started and the fingerprint of its request (`""`: unknown).
pub async fn by_key_fingerprint(db: &Db, key: &str) -> Result<Option<(i64, String)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as("SELECT id, fingerprint FROM jobs WHERE idempotency_key = $1")
            .bind(key)
            .fetch_optional(pool)
            .await?)
    })
}

/// [`by_key_fingerprint`] inside the caller's transaction (on PostgreSQL each statement sees
/// what committed before it, so a concurrent request's job is visible once it committed).
pub async fn by_key_fingerprint_in(tx: &mut Tx, key: &str) -> Result<Option<(i64, String)>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as("SELECT id, fingerprint FROM jobs WHERE idempotency_key = $1")
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?)
    })
}

pub async fn get(db: &Db, id: i64) -> Result<JobRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, JobRow>(concat!(job_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// The latest jobs, newest first, optionally of one kind.
pub async fn list(db: &Db, kind: Option<&str>, limit: i64) -> Result<Vec<JobRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, JobRow>(concat!(
            job_select!(),
            " WHERE ($1 IS NULL OR kind = $1) ORDER BY id DESC LIMIT $2"
        ))
        .bind(kind)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// Claim the oldest due job whose kind is in `kinds`, leasing it until `now + lease_ms`.
pub async fn claim(db: &Db, kinds: &[&str], now: i64, lease_ms: i64) -> Result<Option<JobRow>> {
    let list = kinds
        .iter()
        .filter(|k| k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(",");
    if list.is_empty() {
        return Ok(None);
    }
    let due = format!(
        "(status = 'queued' OR (status = 'running' AND locked_until < $1)) AND run_at <= $1 \
         AND kind IN ({list})"
    );
    match db {
        Db::Sqlite(pool) => {
            let sql = format!(
                "UPDATE jobs SET status = 'running', locked_until = $2, attempts = attempts + 1, \
                 updated_at = $1 WHERE id = (SELECT id FROM jobs WHERE {due} ORDER BY run_at, id LIMIT 1) \
                 RETURNING id"
            );
            let id: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(now)
                .bind(now + lease_ms)
                .fetch_optional(pool)
                .await?;
            match id {
                Some(id) => Ok(Some(get(db, id).await?)),
                None => Ok(None),
            }
        }
        Db::Postgres(pool) => {
            let sql = format!(
                "UPDATE jobs SET status = 'running', locked_until = $2, attempts = attempts + 1, \
                 updated_at = $1 WHERE id = (SELECT id FROM jobs WHERE {due} ORDER BY run_at, id \
                 LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id"
            );
            let id: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(now)
                .bind(now + lease_ms)
                .fetch_optional(pool)
                .await?;
            match id {
                Some(id) => Ok(Some(get(db, id).await?)),
                None => Ok(None),
            }
        }
    }
}

/// Record progress and extend the lease.
pub async fn progress(
    db: &Db,
    id: i64,
    done: i64,
    total: i64,
    now: i64,
    lease_ms: i64,
) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query(
            "UPDATE jobs SET progress_done = $1, progress_total = $2, locked_until = $3, updated_at = $4 \
             WHERE id = $5",
        )
        .bind(done)
        .bind(total)
        .bind(now + lease_ms)
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Extend a running job's lease to `until` (the runner's heartbeat). A job no longer
/// running (finished, or put back to retry) is left alone.
pub async fn renew(db: &Db, id: i64, until: i64) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query("UPDATE jobs SET locked_until = $1 WHERE id = $2 AND status = 'running'")
        .bind(until)
        .bind(id)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Finish a job: `done` with a result, or `failed` with an error.
pub async fn finish(db: &Db, id: i64, ok: bool, result: &str, error: &str, now: i64) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query(
            "UPDATE jobs SET status = $1, result = $2, last_error = $3, locked_until = NULL, \
             updated_at = $4 WHERE id = $5",
        )
        .bind(if ok { "done" } else { "failed" })
        .bind(result)
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Put a job back in the queue to retry at `run_at` after an error.
pub async fn retry(db: &Db, id: i64, error: &str, run_at: i64, now: i64) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query(
            "UPDATE jobs SET status = 'queued', last_error = $1, run_at = $2, locked_until = NULL, \
             updated_at = $3 WHERE id = $4",
        )
        .bind(error)
        .bind(run_at)
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?;
    });
    Ok(())
}
