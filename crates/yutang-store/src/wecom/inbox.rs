//! The WeCom callback inbox.

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

/// Held while a node reads a customer group from WeCom and writes it, so two nodes (or the
/// callback inbox and the full sync) cannot interleave and let an older snapshot land last
/// (see [`crate::locks`]).
pub type ApplyLock = crate::locks::NodeLock;

pub async fn lock_apply(db: &Db) -> Result<ApplyLock> {
    crate::locks::acquire(db, crate::locks::LockKey::WecomApply).await
}

#[derive(Debug, Clone)]
pub struct NewInboxEvent<'a> {
    pub dedup_key: &'a str,
    pub corp_id: &'a str,
    pub event: &'a str,
    pub change_type: &'a str,
    pub payload: &'a str,
    pub received_at: i64,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct InboxRow {
    pub id: i64,
    pub dedup_key: String,
    pub corp_id: String,
    pub event: String,
    pub change_type: String,
    pub payload: String,
    pub received_at: i64,
    pub processed_at: Option<i64>,
    pub attempts: i64,
    pub last_error: String,
}

/// Store a callback unless an identical one is already there. Returns whether it was new.
pub async fn insert(db: &Db, e: &NewInboxEvent<'_>) -> Result<bool> {
    let n = db_run!(db, pool => {
        sqlx::query(
            "INSERT INTO wecom_inbox (dedup_key, corp_id, event, change_type, payload, received_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (dedup_key) DO NOTHING",
        )
        .bind(e.dedup_key)
        .bind(e.corp_id)
        .bind(e.event)
        .bind(e.change_type)
        .bind(e.payload)
        .bind(e.received_at)
        .execute(pool)
        .await
        .map_err(|e| StoreError::classify(e, "dedup_key"))?
        .rows_affected()
    });
    Ok(n > 0)
}

/// Unprocessed callbacks, oldest first, that have not failed `max_attempts` times.
pub async fn pending(db: &Db, limit: i64, max_attempts: i64) -> Result<Vec<InboxRow>> {
    db_run!(db, pool => {
        sqlx::query_as::<_, InboxRow>(
            "SELECT id, dedup_key, corp_id, event, change_type, payload, received_at, processed_at, \
             attempts, last_error FROM wecom_inbox WHERE processed_at IS NULL AND attempts < $1 \
             ORDER BY id LIMIT $2",
        )
        .bind(max_attempts)
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(StoreError::from)
    })
}

/// Mark a callback done; `note` says why it was only kept (empty when applied).
pub async fn mark_processed(db: &Db, id: i64, now: i64, note: &str) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query(
            "UPDATE wecom_inbox SET processed_at = $1, attempts = attempts + 1, last_error = $2 \
             WHERE id = $3",
        )
            .bind(now)
            .bind(note)
            .bind(id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

pub async fn mark_failed(db: &Db, id: i64, error: &str) -> Result<()> {
    let error: String = error.chars().take(500).collect();
    db_run!(db, pool => {
        sqlx::query("UPDATE wecom_inbox SET attempts = attempts + 1, last_error = $1 WHERE id = $2")
            .bind(&error)
            .bind(id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Counts for the setup checker and the callbacks view. The three states are disjoint:
/// `pending` (not tried yet), `failed` (failed, will be retried), `parked` (failed
/// `max_attempts` times: waits for a replay).
#[derive(Debug, Clone, Default, Serialize, FromRow)]
pub struct InboxStats {
    pub total: i64,
    pub pending: i64,
    pub failed: i64,
    pub parked: i64,
    pub last_received_at: Option<i64>,
}

impl InboxStats {
    /// Callbacks the worker will still apply by itself (pending and failed).
    pub fn unapplied(&self) -> i64 {
        self.pending + self.failed
    }
}

pub async fn stats(db: &Db, max_attempts: i64) -> Result<InboxStats> {
    db_run!(db, pool => {
        sqlx::query_as::<_, InboxStats>(
            "SELECT COUNT(*) AS total, \
             COALESCE(SUM(CASE WHEN processed_at IS NULL AND attempts = 0 THEN 1 ELSE 0 END), 0) AS pending, \
             COALESCE(SUM(CASE WHEN processed_at IS NULL AND attempts > 0 AND attempts < $1 THEN 1 ELSE 0 END), 0) AS failed, \
             COALESCE(SUM(CASE WHEN processed_at IS NULL AND attempts >= $1 THEN 1 ELSE 0 END), 0) AS parked, \
             MAX(received_at) AS last_received_at FROM wecom_inbox",
        )
        .bind(max_attempts)
        .fetch_one(pool)
        .await
        .map_err(StoreError::from)
    })
}

/// A callback's state, as the callbacks view filters them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxStatus {
    Pending,
    Failed,
    Parked,
    Processed,
}

impl InboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Failed => "failed",
            Self::Parked => "parked",
            Self::Processed => "processed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Failed, Self::Parked, Self::Processed]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    /// The state of a row.
    pub fn of(row: &InboxRow, max_attempts: i64) -> Self {
        match (row.processed_at, row.attempts) {
            (Some(_), _) => Self::Processed,
            (None, 0) => Self::Pending,
            (None, n) if n < max_attempts => Self::Failed,
            _ => Self::Parked,
        }
    }
}

macro_rules! inbox_select {
    () => {
        "SELECT id, dedup_key, corp_id, event, change_type, payload, received_at, processed_at, \
         attempts, last_error FROM wecom_inbox"
    };
}

macro_rules! inbox_filter {
    () => {
        " WHERE ($1 = '' \
         OR ($1 = 'pending' AND processed_at IS NULL AND attempts = 0) \
         OR ($1 = 'failed' AND processed_at IS NULL AND attempts > 0 AND attempts < $2) \
         OR ($1 = 'parked' AND processed_at IS NULL AND attempts >= $2) \
         OR ($1 = 'processed' AND processed_at IS NOT NULL))"
    };
}

/// Callbacks in one state (all with `None`), newest first, and how many there are.
pub async fn list(
    db: &Db,
    status: Option<InboxStatus>,
    max_attempts: i64,
    limit: i64,
    offset: i64,
) -> Result<(Vec<InboxRow>, i64)> {
    let status = status.map(InboxStatus::as_str).unwrap_or("");
    db_run!(db, pool => {
        let rows = sqlx::query_as::<_, InboxRow>(concat!(
            inbox_select!(),
            inbox_filter!(),
            " ORDER BY id DESC LIMIT $3 OFFSET $4"
        ))
        .bind(status)
        .bind(max_attempts)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
        let total: i64 = sqlx::query_scalar(concat!("SELECT COUNT(*) FROM wecom_inbox", inbox_filter!()))
            .bind(status)
            .bind(max_attempts)
            .fetch_one(pool)
            .await?;
        Ok((rows, total))
    })
}

pub async fn get(db: &Db, id: i64) -> Result<InboxRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, InboxRow>(concat!(inbox_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// Give a callback that was not applied its attempts back (a replay), in the caller's
/// transaction. Returns whether it was still unapplied.
pub async fn reset_attempts_in(tx: &mut Tx, id: i64) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE wecom_inbox SET attempts = 0, last_error = '' WHERE id = $1 AND processed_at IS NULL",
        )
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(n > 0)
}

/// The timeline event a contact callback adds.
#[derive(Debug, Clone)]
pub struct ContactEvent<'a> {
    pub kind: &'a str,
    /// Unique: applying the callback again adds nothing.
    pub client_id: &'a str,
    pub occurred_at: i64,
    pub staff_id: Option<i64>,
    pub detail: &'a str,
}

/// A job queued with a contact callback (work that needs WeCom's API).
#[derive(Debug, Clone)]
pub struct SideJob<'a> {
    pub kind: &'a str,
    pub payload: &'a str,
    pub idempotency_key: &'a str,
}

/// Claim an inbox row for applying: mark it processed unless it was already. First in the
/// callback's transaction, so a concurrent applier of the same row waits here and then finds
/// it applied (`false`: nothing else to do).
pub async fn claim_inbox_in(tx: &mut Tx, inbox_id: i64, now: i64) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE wecom_inbox SET processed_at = $1, attempts = attempts + 1, last_error = '' \
             WHERE id = $2 AND processed_at IS NULL",
        )
        .bind(now)
        .bind(inbox_id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// Add a callback's timeline event once: its client id makes a replay a no-op.
pub async fn append_event_once_in(
    tx: &mut Tx,
    customer: i64,
    e: &ContactEvent<'_>,
    now: i64,
) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO events (customer_id, kind, client_id, occurred_at, received_at, staff_id, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (client_id) DO NOTHING",
        )
        .bind(customer)
        .bind(e.kind)
        .bind(e.client_id)
        .bind(e.occurred_at)
        .bind(now)
        .bind(e.staff_id)
        .bind(e.detail)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// Queue the side job that needs WeCom once: its idempotency key makes a replay a no-op.
pub async fn enqueue_side_job_in(tx: &mut Tx, j: &SideJob<'_>, now: i64) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO jobs (kind, payload, run_at, idempotency_key, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $3, $3) ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(j.kind)
        .bind(j.payload)
        .bind(now)
        .bind(j.idempotency_key)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// WeCom side jobs (of these kinds) that failed for good, newest first.
pub async fn failed_jobs(db: &Db, kinds: &[&str], limit: i64) -> Result<Vec<crate::jobs::JobRow>> {
    let list = kind_list(kinds);
    if list.is_empty() {
        return Ok(Vec::new());
    }
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, crate::jobs::JobRow>(sqlx::AssertSqlSafe(format!(
            "SELECT id, kind, payload, status, run_at, attempts, locked_until, progress_done, \
             progress_total, result, last_error, idempotency_key, created_by, created_at, updated_at \
             FROM jobs WHERE status = 'failed' AND kind IN ({list}) ORDER BY id DESC LIMIT $1"
        )))
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// Queue a failed WeCom side job (of these kinds) again with fresh attempts, in the caller's
/// transaction. Returns whether it was failed.
pub async fn retry_failed_job_in(tx: &mut Tx, id: i64, kinds: &[&str], now: i64) -> Result<bool> {
    let list = kind_list(kinds);
    if list.is_empty() {
        return Ok(false);
    }
    let sql = format!(
        "UPDATE jobs SET status = 'queued', attempts = 0, run_at = $1, last_error = '', \
         locked_until = NULL, updated_at = $1 WHERE id = $2 AND status = 'failed' AND kind IN ({list})"
    );
    let n = in_tx!(tx, conn => {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
    });
    Ok(n > 0)
}

fn kind_list(kinds: &[&str]) -> String {
    kinds
        .iter()
        .filter(|k| k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The most recent callbacks, newest first.
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<InboxRow>> {
    db_run!(db, pool => {
        sqlx::query_as::<_, InboxRow>(concat!(inbox_select!(), " ORDER BY id DESC LIMIT $1"))
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(StoreError::from)
    })
}

/// `(customer_id, external_userid, owner's wecom_userid)` for those of `customers` who have a
/// WeCom identity and whose owner (an active follow) is a staff member linked to WeCom.
pub async fn mark_tag_targets(db: &Db, customers: &[i64]) -> Result<Vec<(i64, String, String)>> {
    if customers.is_empty() {
        return Ok(Vec::new());
    }
    let list = customers
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    db_run!(db, pool => {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT f.customer_id, MIN(i.value), MIN(s.wecom_userid) FROM follows f \
             JOIN customer_identities i ON i.customer_id = f.customer_id AND i.kind = 'wecom_external' \
             JOIN staff s ON s.id = f.staff_id \
             WHERE f.customer_id IN ({list}) AND f.is_owner = TRUE AND f.state = 'active' \
             AND s.wecom_userid IS NOT NULL AND s.wecom_userid <> '' \
             GROUP BY f.customer_id ORDER BY f.customer_id"
        )))
        .fetch_all(pool)
        .await?)
    })
}
