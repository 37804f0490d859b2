//! Scheduled reports (migration 0032): the schedules, and the outbox of their deliveries —
//! one row per (schedule, period), unique by `dedupe_key`, written with the job that sends
//! it.

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError, touched};
use crate::tx::Tx;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct ScheduleRow {
    pub id: i64,
    pub name: String,
    pub cadence: String,
    pub send_hour: i64,
    pub level: String,
    pub store_id: Option<i64>,
    pub staff_id: Option<i64>,
    /// JSON array of staff ids.
    pub recipient_ids: String,
    pub lang: String,
    pub enabled: bool,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A schedule as saved.
#[derive(Debug, Clone)]
pub struct NewSchedule<'a> {
    pub name: &'a str,
    pub cadence: &'a str,
    pub send_hour: i64,
    pub level: &'a str,
    pub store_id: Option<i64>,
    pub staff_id: Option<i64>,
    pub recipient_ids: &'a str,
    pub lang: &'a str,
    pub enabled: bool,
}

macro_rules! schedule_select {
    () => {
        "SELECT id, name, cadence, send_hour, level, store_id, staff_id, recipient_ids, lang, \
         enabled, created_by, created_at, updated_at FROM report_schedules"
    };
}

pub async fn insert_in(tx: &mut Tx, s: &NewSchedule<'_>, by: Option<i64>, now: i64) -> Result<i64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO report_schedules (name, cadence, send_hour, level, store_id, staff_id, \
             recipient_ids, lang, enabled, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
        )
        .bind(s.name)
        .bind(s.cadence)
        .bind(s.send_hour)
        .bind(s.level)
        .bind(s.store_id)
        .bind(s.staff_id)
        .bind(s.recipient_ids)
        .bind(s.lang)
        .bind(s.enabled)
        .bind(by)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?)
    })
}

/// Replace a schedule's settings; `NotFound` when it is deleted or never was.
pub async fn update_in(tx: &mut Tx, id: i64, s: &NewSchedule<'_>, now: i64) -> Result<()> {
    let rows = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE report_schedules SET name = $1, cadence = $2, send_hour = $3, level = $4, \
             store_id = $5, staff_id = $6, recipient_ids = $7, lang = $8, enabled = $9, \
             updated_at = $10 WHERE id = $11 AND deleted_at IS NULL",
        )
        .bind(s.name)
        .bind(s.cadence)
        .bind(s.send_hour)
        .bind(s.level)
        .bind(s.store_id)
        .bind(s.staff_id)
        .bind(s.recipient_ids)
        .bind(s.lang)
        .bind(s.enabled)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    touched(rows)
}

/// A schedule that is not deleted.
pub async fn get(db: &Db, id: i64) -> Result<ScheduleRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, ScheduleRow>(concat!(
            schedule_select!(),
            " WHERE id = $1 AND deleted_at IS NULL"
        ))
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)
    })
}

/// The schedules (of one store's scope, when `store` is set), not deleted, by id.
pub async fn list(db: &Db, store: Option<i64>) -> Result<Vec<ScheduleRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, ScheduleRow>(concat!(
            schedule_select!(),
            " WHERE deleted_at IS NULL AND ($1 IS NULL OR store_id = $1) ORDER BY id"
        ))
        .bind(store)
        .fetch_all(pool)
        .await?)
    })
}

/// The enabled schedules (the minute tick's).
pub async fn enabled(db: &Db) -> Result<Vec<ScheduleRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, ScheduleRow>(concat!(
            schedule_select!(),
            " WHERE deleted_at IS NULL AND enabled = TRUE ORDER BY id"
        ))
        .fetch_all(pool)
        .await?)
    })
}

/// Delete a schedule (kept for its delivery log); `NotFound` when already gone.
pub async fn delete_in(tx: &mut Tx, id: i64, now: i64) -> Result<()> {
    let rows = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE report_schedules SET deleted_at = $1, enabled = FALSE, updated_at = $1 \
             WHERE id = $2 AND deleted_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    touched(rows)
}

/// Whether the schedule exists and is not deleted, inside a transaction.
pub async fn is_live_in(tx: &mut Tx, id: i64) -> Result<bool> {
    in_tx!(tx, conn => {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM report_schedules WHERE id = $1 AND deleted_at IS NULL",
        )
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
        Ok(n > 0)
    })
}

// ---------------------------------------------------------------- deliveries

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub schedule_id: i64,
    pub period: String,
    pub period_from: String,
    pub period_to: String,
    pub dedupe_key: String,
    pub status: String,
    pub recipients: String,
    pub content: String,
    pub attempts: i64,
    pub last_error: String,
    pub msgid: Option<String>,
    pub invalid_users: String,
    pub job_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub sent_at: Option<i64>,
}

macro_rules! delivery_select {
    () => {
        "SELECT id, schedule_id, period, period_from, period_to, dedupe_key, status, recipients, \
         content, attempts, last_error, msgid, invalid_users, job_id, created_at, updated_at, \
         sent_at FROM report_deliveries"
    };
}

/// A delivery to insert.
#[derive(Debug, Clone)]
pub struct NewDelivery<'a> {
    pub schedule_id: i64,
    pub period: &'a str,
    pub period_from: &'a str,
    pub period_to: &'a str,
    pub dedupe_key: &'a str,
}

/// Insert a pending delivery unless its dedupe key exists: `Some(id)` when inserted, `None`
/// when another tick, node or request has it (the transaction stays usable; PostgreSQL waits
/// for a concurrent insert of the same key to commit or roll back).
pub async fn insert_delivery_in(tx: &mut Tx, d: &NewDelivery<'_>, now: i64) -> Result<Option<i64>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO report_deliveries (schedule_id, period, period_from, period_to, \
             dedupe_key, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) \
             ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        )
        .bind(d.schedule_id)
        .bind(d.period)
        .bind(d.period_from)
        .bind(d.period_to)
        .bind(d.dedupe_key)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?)
    })
}

/// The delivery of a dedupe key, locked until commit.
pub async fn lock_by_key_in(tx: &mut Tx, key: &str) -> Result<Option<DeliveryRow>> {
    let lock = tx.row_lock();
    let sql = format!("{} WHERE dedupe_key = $1{lock}", delivery_select!());
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, DeliveryRow>(sqlx::AssertSqlSafe(sql))
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?)
    })
}

/// Point a delivery at the job that sends it (and make a failed one pending again).
pub async fn set_job_in(tx: &mut Tx, id: i64, job_id: i64, now: i64) -> Result<()> {
    let rows = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE report_deliveries SET job_id = $1, status = 'pending', updated_at = $2 \
             WHERE id = $3",
        )
        .bind(job_id)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    touched(rows)
}

pub async fn get_delivery(db: &Db, id: i64) -> Result<DeliveryRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, DeliveryRow>(concat!(delivery_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// A schedule's deliveries, newest period first.
pub async fn deliveries(db: &Db, schedule_id: i64, limit: i64) -> Result<Vec<DeliveryRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, DeliveryRow>(concat!(
            delivery_select!(),
            " WHERE schedule_id = $1 ORDER BY period_from DESC, id DESC LIMIT $2"
        ))
        .bind(schedule_id)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// Fix the recipients and the text of a pending delivery on its first attempt (a later
/// attempt keeps what the first fixed, so WeCom's duplicate check sees the same request).
/// Returns the delivery as it is now.
pub async fn fix_message(
    db: &Db,
    id: i64,
    recipients: &str,
    content: &str,
    now: i64,
) -> Result<DeliveryRow> {
    db_run!(db, pool => {
        sqlx::query(
            "UPDATE report_deliveries SET recipients = $1, content = $2, updated_at = $3 \
             WHERE id = $4 AND content = ''",
        )
        .bind(recipients)
        .bind(content)
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?;
    });
    get_delivery(db, id).await
}

/// Count an attempt to send (before the call, so a crash mid-call is counted too).
pub async fn count_attempt(db: &Db, id: i64, now: i64) -> Result<()> {
    let rows = db_run!(db, pool => {
        sqlx::query(
            "UPDATE report_deliveries SET attempts = attempts + 1, updated_at = $1 \
             WHERE id = $2 AND status = 'pending'",
        )
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected()
    });
    touched(rows)
}

/// Record why an attempt failed (the delivery stays pending for the next one).
pub async fn record_error(db: &Db, id: i64, error: &str, now: i64) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query(
            "UPDATE report_deliveries SET last_error = $1, updated_at = $2 \
             WHERE id = $3 AND status = 'pending'",
        )
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Sent: WeCom's message id and the recipients it refused. Only a pending delivery moves.
pub async fn mark_sent(
    db: &Db,
    id: i64,
    msgid: &str,
    invalid_users: &str,
    now: i64,
) -> Result<bool> {
    let rows = db_run!(db, pool => {
        sqlx::query(
            "UPDATE report_deliveries SET status = 'sent', msgid = $1, invalid_users = $2, \
             last_error = '', sent_at = $3, updated_at = $3 WHERE id = $4 AND status = 'pending'",
        )
        .bind(msgid)
        .bind(invalid_users)
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(rows > 0)
}

/// Failed for good, with the reason. Only a pending delivery moves.
pub async fn mark_failed(db: &Db, id: i64, error: &str, now: i64) -> Result<bool> {
    let rows = db_run!(db, pool => {
        sqlx::query(
            "UPDATE report_deliveries SET status = 'failed', last_error = $1, updated_at = $2 \
             WHERE id = $3 AND status = 'pending'",
        )
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(rows > 0)
}
