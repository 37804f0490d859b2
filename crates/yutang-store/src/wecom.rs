//! The WeCom callback inbox.

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};

/// The advisory-lock key nodes share while they read WeCom's state and write it (`YTWC`).
const APPLY_LOCK_KEY: i64 = 0x5954_5743;

/// Held while a node reads a customer group from WeCom and writes it, so two nodes (or the
/// callback inbox and the full sync) cannot interleave and let an older snapshot land last.
/// On PostgreSQL a session advisory lock on a connection of its own; SQLite is one process's
/// file, where the caller's in-process mutex already serialises. Dropped without
/// [`ApplyLock::release`] (an error path), the connection is closed instead of returned to
/// the pool, which releases the lock on the server.
pub struct ApplyLock(Option<sqlx::pool::PoolConnection<sqlx::Postgres>>);

pub async fn lock_apply(db: &Db) -> Result<ApplyLock> {
    match db {
        Db::Postgres(pool) => {
            let mut conn = pool.acquire().await?;
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(APPLY_LOCK_KEY)
                .execute(&mut *conn)
                .await?;
            Ok(ApplyLock(Some(conn)))
        }
        Db::Sqlite(_) => Ok(ApplyLock(None)),
    }
}

impl ApplyLock {
    pub async fn release(mut self) -> Result<()> {
        if let Some(mut conn) = self.0.take() {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(APPLY_LOCK_KEY)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }
}

impl Drop for ApplyLock {
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            drop(conn.detach());
        }
    }
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

/// Counts for the setup checker.
#[derive(Debug, Clone, Default, Serialize, FromRow)]
pub struct InboxStats {
    pub total: i64,
    pub pending: i64,
    pub failed: i64,
    pub last_received_at: Option<i64>,
}

pub async fn stats(db: &Db, max_attempts: i64) -> Result<InboxStats> {
    db_run!(db, pool => {
        sqlx::query_as::<_, InboxStats>(
            "SELECT COUNT(*) AS total, \
             COALESCE(SUM(CASE WHEN processed_at IS NULL AND attempts < $1 THEN 1 ELSE 0 END), 0) AS pending, \
             COALESCE(SUM(CASE WHEN processed_at IS NULL AND attempts >= $1 THEN 1 ELSE 0 END), 0) AS failed, \
             MAX(received_at) AS last_received_at FROM wecom_inbox",
        )
        .bind(max_attempts)
        .fetch_one(pool)
        .await
        .map_err(StoreError::from)
    })
}

/// The most recent callbacks, newest first.
pub async fn recent(db: &Db, limit: i64) -> Result<Vec<InboxRow>> {
    db_run!(db, pool => {
        sqlx::query_as::<_, InboxRow>(
            "SELECT id, dedup_key, corp_id, event, change_type, payload, received_at, processed_at, \
             attempts, last_error FROM wecom_inbox ORDER BY id DESC LIMIT $1",
        )
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
