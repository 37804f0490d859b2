//! Inbound order sync: sources, the log of the messages they sent, and orders created before
//! they were paid (migration 0029). Data access only; the app crate decides what a message
//! does.

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError, touched};
use crate::tx::Tx;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct SourceRow {
    pub id: i64,
    pub name: String,
    pub format: String,
    pub source_key: String,
    pub channel: String,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    pub app_id: String,
    pub status: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Messages kept (every one that passed the signature check).
    pub received: i64,
    /// Messages whose last attempt failed.
    pub failed: i64,
    pub last_received_at: Option<i64>,
}

macro_rules! source_select {
    () => {
        "SELECT s.id, s.name, s.format, s.source_key, s.channel, s.store_id, st.name AS store_name, \
         s.app_id, s.status, s.created_by, s.created_at, s.updated_at, \
         (SELECT COUNT(*) FROM inbound_messages m WHERE m.source_id = s.id) AS received, \
         (SELECT COUNT(*) FROM inbound_messages m WHERE m.source_id = s.id AND m.status = 'failed') AS failed, \
         (SELECT MAX(m.received_at) FROM inbound_messages m WHERE m.source_id = s.id) AS last_received_at \
         FROM inbound_sources s LEFT JOIN stores st ON st.id = s.store_id"
    };
}

/// What the receiving endpoint needs of a source.
#[derive(Debug, Clone, FromRow)]
pub struct SourceAuth {
    pub id: i64,
    pub format: String,
    pub channel: String,
    pub store_id: Option<i64>,
    pub app_id: String,
    pub secret_sealed: String,
    pub status: String,
}

#[derive(Debug, Clone)]
pub struct NewSource<'a> {
    pub name: &'a str,
    pub format: &'a str,
    pub source_key: &'a str,
    pub channel: &'a str,
    pub store_id: Option<i64>,
    pub app_id: &'a str,
    pub secret_sealed: &'a str,
    pub created_by: Option<i64>,
    pub now: i64,
}

pub async fn create_in(tx: &mut Tx, s: &NewSource<'_>) -> Result<i64> {
    in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO inbound_sources (name, format, source_key, channel, store_id, app_id, secret_sealed, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(s.name)
        .bind(s.format)
        .bind(s.source_key)
        .bind(s.channel)
        .bind(s.store_id)
        .bind(s.app_id)
        .bind(s.secret_sealed)
        .bind(s.created_by)
        .bind(s.now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| StoreError::classify(e, "inbound source"))
    })
}

/// Every source not deleted, newest first.
pub async fn list(db: &Db) -> Result<Vec<SourceRow>> {
    db_run!(db, pool => {
        sqlx::query_as::<_, SourceRow>(concat!(
            source_select!(),
            " WHERE s.archived_at IS NULL ORDER BY s.id DESC"
        ))
        .fetch_all(pool)
        .await
        .map_err(StoreError::from)
    })
}

/// A source not deleted (`NotFound` otherwise).
pub async fn get(db: &Db, id: i64) -> Result<SourceRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, SourceRow>(concat!(
            source_select!(),
            " WHERE s.id = $1 AND s.archived_at IS NULL"
        ))
        .bind(id)
        .fetch_one(pool)
        .await
        .map_err(StoreError::from)
    })
}

/// The live source with this key, for the receiving endpoint.
pub async fn by_key(db: &Db, key: &str) -> Result<Option<SourceAuth>> {
    db_run!(db, pool => {
        sqlx::query_as::<_, SourceAuth>(
            "SELECT id, format, channel, store_id, app_id, secret_sealed, status FROM inbound_sources \
             WHERE source_key = $1 AND archived_at IS NULL",
        )
        .bind(key)
        .fetch_optional(pool)
        .await
        .map_err(StoreError::from)
    })
}

/// A live source by id, with what receiving needs (a retry from the log; a deleted source's
/// messages are not run again).
pub async fn auth_by_id(db: &Db, id: i64) -> Result<SourceAuth> {
    db_run!(db, pool => {
        sqlx::query_as::<_, SourceAuth>(
            "SELECT id, format, channel, store_id, app_id, secret_sealed, status FROM inbound_sources \
             WHERE id = $1 AND archived_at IS NULL",
        )
        .bind(id)
        .fetch_one(pool)
        .await
        .map_err(StoreError::from)
    })
}

/// Lock a live source's row until commit and answer its format (`NotFound`: none, or
/// deleted).
pub async fn lock_in(tx: &mut Tx, id: i64) -> Result<String> {
    let sql = format!(
        "SELECT format FROM inbound_sources WHERE id = $1 AND archived_at IS NULL{}",
        tx.row_lock()
    );
    in_tx!(tx, conn => {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_one(&mut *conn)
            .await
            .map_err(StoreError::from)
    })
}

pub struct SourcePatch<'a> {
    pub name: &'a str,
    pub channel: &'a str,
    pub store_id: Option<i64>,
    pub app_id: &'a str,
    pub status: &'a str,
}

pub async fn update_in(tx: &mut Tx, id: i64, p: &SourcePatch<'_>, now: i64) -> Result<()> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE inbound_sources SET name = $2, channel = $3, store_id = $4, app_id = $5, status = $6, updated_at = $7 \
             WHERE id = $1 AND archived_at IS NULL",
        )
        .bind(id)
        .bind(p.name)
        .bind(p.channel)
        .bind(p.store_id)
        .bind(p.app_id)
        .bind(p.status)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(|e| StoreError::classify(e, "inbound source"))?
        .rows_affected()
    });
    touched(n)
}

pub async fn set_secret_in(tx: &mut Tx, id: i64, secret_sealed: &str, now: i64) -> Result<()> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE inbound_sources SET secret_sealed = $2, updated_at = $3 WHERE id = $1 AND archived_at IS NULL",
        )
        .bind(id)
        .bind(secret_sealed)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    touched(n)
}

pub async fn archive_in(tx: &mut Tx, id: i64, now: i64) -> Result<()> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE inbound_sources SET archived_at = $2, updated_at = $2 WHERE id = $1 AND archived_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    touched(n)
}

/// Every source's sealed secret (deleted ones too), for `yutang db copy`.
pub async fn sealed_secrets(db: &Db) -> Result<Vec<(i64, String)>> {
    db_run!(db, pool => {
        sqlx::query_as("SELECT id, secret_sealed FROM inbound_sources ORDER BY id")
            .fetch_all(pool)
            .await
            .map_err(StoreError::from)
    })
}

/// Overwrite one sealed secret as it is (a re-seal is not an edit).
pub async fn put_sealed_secret(db: &Db, id: i64, sealed: &str) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query("UPDATE inbound_sources SET secret_sealed = $2 WHERE id = $1")
            .bind(id)
            .bind(sealed)
            .execute(pool)
            .await?;
        Ok(())
    })
}

// ------------------------------------------------------------------ the message log

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct MessageRow {
    pub id: i64,
    pub source_id: i64,
    pub dedupe_key: String,
    pub kind: String,
    pub external_id: String,
    pub status: String,
    pub order_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub error_code: String,
    pub error_message: String,
    pub payload: String,
    pub header_kind: String,
    pub attempts: i64,
    pub received_at: i64,
    pub updated_at: i64,
}

macro_rules! message_select {
    () => {
        "SELECT id, source_id, dedupe_key, kind, external_id, status, order_id, customer_id, error_code, \
         error_message, payload, header_kind, attempts, received_at, updated_at FROM inbound_messages"
    };
}

/// A message's outcome, to be written to the log.
#[derive(Debug, Clone)]
pub struct MessageOutcome<'a> {
    pub source_id: i64,
    pub dedupe_key: &'a str,
    pub kind: &'a str,
    pub external_id: &'a str,
    pub status: &'a str,
    pub order_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub error_code: &'a str,
    pub error_message: &'a str,
    pub payload: &'a str,
    pub header_kind: &'a str,
    pub now: i64,
}

/// The logged message with this key, if any.
pub async fn find_message(db: &Db, source_id: i64, key: &str) -> Result<Option<MessageRow>> {
    db_run!(db, pool => {
        sqlx::query_as::<_, MessageRow>(concat!(
            message_select!(),
            " WHERE source_id = $1 AND dedupe_key = $2"
        ))
        .bind(source_id)
        .bind(key)
        .fetch_optional(pool)
        .await
        .map_err(StoreError::from)
    })
}

/// Log a message's outcome: a new row, or the row of an earlier attempt updated (one more
/// attempt). An outcome already final (applied, ignored, draft) is never overwritten, so a
/// late copy that lost a race cannot turn it into a failure.
pub async fn record_message(db: &Db, m: &MessageOutcome<'_>) -> Result<i64> {
    db_run!(db, pool => {
        sqlx::query_scalar(
            "INSERT INTO inbound_messages (source_id, dedupe_key, kind, external_id, status, order_id, customer_id, \
             error_code, error_message, payload, header_kind, attempts, received_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $12) \
             ON CONFLICT (source_id, dedupe_key) DO UPDATE SET \
               status = CASE WHEN inbound_messages.status = 'failed' THEN excluded.status ELSE inbound_messages.status END, \
               order_id = COALESCE(inbound_messages.order_id, excluded.order_id), \
               customer_id = COALESCE(inbound_messages.customer_id, excluded.customer_id), \
               error_code = CASE WHEN inbound_messages.status = 'failed' THEN excluded.error_code ELSE inbound_messages.error_code END, \
               error_message = CASE WHEN inbound_messages.status = 'failed' THEN excluded.error_message ELSE inbound_messages.error_message END, \
               attempts = inbound_messages.attempts + 1, \
               updated_at = excluded.updated_at \
             RETURNING id",
        )
        .bind(m.source_id)
        .bind(m.dedupe_key)
        .bind(m.kind)
        .bind(m.external_id)
        .bind(m.status)
        .bind(m.order_id)
        .bind(m.customer_id)
        .bind(m.error_code)
        .bind(m.error_message)
        .bind(m.payload)
        .bind(m.header_kind)
        .bind(m.now)
        .fetch_one(pool)
        .await
        .map_err(StoreError::from)
    })
}

/// A source's messages, newest first.
pub async fn messages(
    db: &Db,
    source_id: i64,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<MessageRow>, i64)> {
    db_run!(db, pool => {
        let rows = sqlx::query_as::<_, MessageRow>(concat!(
            message_select!(),
            " WHERE source_id = $1 AND ($2 IS NULL OR status = $2) ORDER BY id DESC LIMIT $3 OFFSET $4"
        ))
        .bind(source_id)
        .bind(status)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM inbound_messages WHERE source_id = $1 AND ($2 IS NULL OR status = $2)",
        )
        .bind(source_id)
        .bind(status)
        .fetch_one(pool)
        .await?;
        Ok((rows, total))
    })
}

pub async fn message(db: &Db, source_id: i64, id: i64) -> Result<MessageRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, MessageRow>(concat!(
            message_select!(),
            " WHERE id = $1 AND source_id = $2"
        ))
        .bind(id)
        .bind(source_id)
        .fetch_one(pool)
        .await
        .map_err(StoreError::from)
    })
}

// ------------------------------------------------------------------ drafts

#[derive(Debug, Clone, FromRow)]
pub struct DraftRow {
    pub payload: String,
    pub status: String,
}

/// Keep an unpaid order (or refresh an open draft); a paid or closed one stays as it is.
pub async fn put_draft(
    db: &Db,
    source_id: i64,
    external_id: &str,
    payload: &str,
    now: i64,
) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query(
            "INSERT INTO inbound_drafts (source_id, external_id, payload, status, created_at, updated_at) \
             VALUES ($1, $2, $3, 'open', $4, $4) \
             ON CONFLICT (source_id, external_id) DO UPDATE SET payload = excluded.payload, updated_at = excluded.updated_at \
             WHERE inbound_drafts.status = 'open'",
        )
        .bind(source_id)
        .bind(external_id)
        .bind(payload)
        .bind(now)
        .execute(pool)
        .await?;
        Ok(())
    })
}

pub async fn draft(db: &Db, source_id: i64, external_id: &str) -> Result<Option<DraftRow>> {
    db_run!(db, pool => {
        sqlx::query_as::<_, DraftRow>(
            "SELECT payload, status FROM inbound_drafts WHERE source_id = $1 AND external_id = $2",
        )
        .bind(source_id)
        .bind(external_id)
        .fetch_optional(pool)
        .await
        .map_err(StoreError::from)
    })
}

/// Mark an open draft paid or closed; answers whether it was open.
pub async fn settle_draft(
    db: &Db,
    source_id: i64,
    external_id: &str,
    status: &str,
    now: i64,
) -> Result<bool> {
    db_run!(db, pool => {
        let n = sqlx::query(
            "UPDATE inbound_drafts SET status = $3, updated_at = $4 \
             WHERE source_id = $1 AND external_id = $2 AND status = 'open'",
        )
        .bind(source_id)
        .bind(external_id)
        .bind(status)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    })
}
