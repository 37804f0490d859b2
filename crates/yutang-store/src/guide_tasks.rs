//! The guide task inbox (导购待办, migration 0039): tasks for guides, made once per dedupe key,
//! closed by a guarded update (only an open task changes, so two closings at once make one),
//! their WeCom reminders counted, and the figures per guide and per store.

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

/// A task as listed: its row with the names it points at.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct TaskRow {
    pub id: i64,
    pub staff_id: i64,
    pub staff_name: Option<String>,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    pub customer_id: Option<i64>,
    pub customer_name: Option<String>,
    /// The customer's first phone (unmasked: the app masks it).
    pub customer_phone: Option<String>,
    pub title: String,
    pub body: String,
    pub material_id: Option<i64>,
    pub material_title: Option<String>,
    pub source: String,
    pub source_ref: String,
    pub due_at: i64,
    pub state: String,
    pub reason: String,
    pub done_at: Option<i64>,
    pub reminders: i64,
    pub reminded_at: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

macro_rules! task_select {
    () => {
        "SELECT g.id, g.staff_id, s.display_name AS staff_name, g.store_id, \
         st.name AS store_name, g.customer_id, c.name AS customer_name, \
         (SELECT i.value FROM customer_identities i WHERE i.customer_id = g.customer_id \
          AND i.kind = 'phone' ORDER BY i.id LIMIT 1) AS customer_phone, \
         g.title, g.body, g.material_id, m.title AS material_title, g.source, g.source_ref, \
         g.due_at, g.state, g.reason, g.done_at, g.reminders, g.reminded_at, g.created_by, \
         g.created_at FROM guide_tasks g \
         LEFT JOIN staff s ON s.id = g.staff_id \
         LEFT JOIN stores st ON st.id = g.store_id \
         LEFT JOIN customers c ON c.id = g.customer_id \
         LEFT JOIN materials m ON m.id = g.material_id"
    };
}

/// A task to save (parsed and checked by the caller).
#[derive(Debug, Clone, Copy)]
pub struct NewTask<'a> {
    pub staff_id: i64,
    pub store_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub title: &'a str,
    pub body: &'a str,
    pub material_id: Option<i64>,
    pub source: &'a str,
    pub source_ref: &'a str,
    pub dedupe_key: &'a str,
    pub due_at: i64,
    pub created_by: Option<i64>,
}

/// A guide's store and status, read in the transaction that makes their task (`None`: no
/// such staff member).
pub async fn staff_store_in(tx: &mut Tx, staff_id: i64) -> Result<Option<(Option<i64>, String)>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as("SELECT store_id, status FROM staff WHERE id = $1")
            .bind(staff_id)
            .fetch_optional(&mut *conn)
            .await?)
    })
}

/// Save a task once: `Some(id)` when it is new, `None` when a task with its dedupe key exists
/// (a replay, which changes nothing).
pub async fn insert_in(tx: &mut Tx, t: &NewTask<'_>, now: i64) -> Result<Option<i64>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO guide_tasks (staff_id, store_id, customer_id, title, body, material_id, \
             source, source_ref, dedupe_key, due_at, state, reason, reminders, created_by, \
             created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'open', '', 0, $11, $12) \
             ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        )
        .bind(t.staff_id)
        .bind(t.store_id)
        .bind(t.customer_id)
        .bind(t.title)
        .bind(t.body)
        .bind(t.material_id)
        .bind(t.source)
        .bind(t.source_ref)
        .bind(t.dedupe_key)
        .bind(t.due_at)
        .bind(t.created_by)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?)
    })
}

pub async fn get(db: &Db, id: i64) -> Result<TaskRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, TaskRow>(concat!(task_select!(), " WHERE g.id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// The task, read in a transaction.
pub async fn get_in(tx: &mut Tx, id: i64) -> Result<TaskRow> {
    in_tx!(tx, conn => {
        sqlx::query_as::<_, TaskRow>(concat!(task_select!(), " WHERE g.id = $1"))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// What to list. Every filter is optional; the scope is the caller's (`staff_id` for a guide,
/// `store_id` for a store manager).
#[derive(Debug, Clone, Default)]
pub struct TaskFilter<'a> {
    pub state: Option<&'a str>,
    pub staff_id: Option<i64>,
    pub store_id: Option<i64>,
    pub customer_id: Option<i64>,
    /// Only tasks due before this instant.
    pub due_before: Option<i64>,
    /// The last id of the previous page.
    pub before: Option<i64>,
}

/// Tasks newest first (by id), at most `limit`.
pub async fn list(db: &Db, f: &TaskFilter<'_>, limit: i64) -> Result<Vec<TaskRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, TaskRow>(concat!(
            task_select!(),
            " WHERE ($1 IS NULL OR g.state = $1) AND ($2 IS NULL OR g.staff_id = $2) \
             AND ($3 IS NULL OR g.store_id = $3) AND ($4 IS NULL OR g.customer_id = $4) \
             AND ($5 IS NULL OR g.due_at < $5) AND ($6 IS NULL OR g.id < $6) \
             ORDER BY g.id DESC LIMIT $7"
        ))
        .bind(f.state)
        .bind(f.staff_id)
        .bind(f.store_id)
        .bind(f.customer_id)
        .bind(f.due_before)
        .bind(f.before)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// Close an open task: `state` (`done` or `skipped`), the reason or note, the time. `false`
/// when the task was not open (closed already, by this call's twin or earlier): the guarded
/// update decides, so of two closings at once exactly one applies.
pub async fn close_in(tx: &mut Tx, id: i64, state: &str, reason: &str, now: i64) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE guide_tasks SET state = $1, reason = $2, done_at = $3 \
             WHERE id = $4 AND state = 'open'",
        )
        .bind(state)
        .bind(reason)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(n > 0)
}

/// Take reminder number `n` of an open task: `false` when the task is closed or reminder `n`
/// was taken already (a replayed job), so it is sent at most once.
pub async fn take_reminder_in(tx: &mut Tx, id: i64, n: i64, now: i64) -> Result<bool> {
    let done = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE guide_tasks SET reminders = $1, reminded_at = $2 \
             WHERE id = $3 AND state = 'open' AND reminders < $1",
        )
        .bind(n)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(done > 0)
}

/// Give reminder number `n` back (its send failed for a while and will be retried): the count
/// and time as they were before it was taken.
pub async fn return_reminder(
    db: &Db,
    id: i64,
    n: i64,
    previous: i64,
    previous_at: Option<i64>,
) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query(
            "UPDATE guide_tasks SET reminders = $1, reminded_at = $2 \
             WHERE id = $3 AND reminders = $4",
        )
        .bind(previous)
        .bind(previous_at)
        .bind(id)
        .bind(n)
        .execute(pool)
        .await?;
        Ok(())
    })
}

/// WeCom app messages sent to a guide since `since`: task reminders and tracked-link
/// notices (WeCom allows 30 per member per minute).
pub async fn app_messages_since(db: &Db, staff_id: i64, since: i64) -> Result<i64> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM guide_tasks WHERE staff_id = $1 AND reminded_at >= $2) \
             + (SELECT COUNT(*) FROM material_notices WHERE staff_id = $1 AND at >= $2)",
        )
        .bind(staff_id)
        .bind(since)
        .fetch_one(pool)
        .await?)
    })
}

/// One group's figures (a guide's or a store's).
#[derive(Debug, Clone, Default, FromRow, Serialize)]
pub struct StatsRow {
    /// The guide's or the store's id (`None`: tasks of guides without a store).
    pub id: Option<i64>,
    pub name: Option<String>,
    pub total: i64,
    pub done: i64,
    pub skipped: i64,
    pub open: i64,
    /// Open and past due.
    pub overdue: i64,
}

macro_rules! stats_columns {
    () => {
        "COUNT(*) AS total, \
         CAST(COALESCE(SUM(CASE WHEN g.state = 'done' THEN 1 ELSE 0 END), 0) AS BIGINT) AS done, \
         CAST(COALESCE(SUM(CASE WHEN g.state = 'skipped' THEN 1 ELSE 0 END), 0) AS BIGINT) \
         AS skipped, \
         CAST(COALESCE(SUM(CASE WHEN g.state = 'open' THEN 1 ELSE 0 END), 0) AS BIGINT) AS open, \
         CAST(COALESCE(SUM(CASE WHEN g.state = 'open' AND g.due_at < $4 THEN 1 ELSE 0 END), 0) \
         AS BIGINT) AS overdue"
    };
}

/// The figures of tasks made since `since`, per guide (most tasks first) and per store,
/// within the scope (`staff_id` for a guide, `store_id` for a store manager; `now` decides
/// what is overdue).
pub async fn stats(
    db: &Db,
    since: i64,
    staff_id: Option<i64>,
    store_id: Option<i64>,
    now: i64,
) -> Result<(Vec<StatsRow>, Vec<StatsRow>)> {
    db_run!(db, pool => {
        let guides = sqlx::query_as::<_, StatsRow>(concat!(
            "SELECT g.staff_id AS id, s.display_name AS name, ",
            stats_columns!(),
            " FROM guide_tasks g LEFT JOIN staff s ON s.id = g.staff_id \
             WHERE g.created_at >= $1 AND ($2 IS NULL OR g.staff_id = $2) \
             AND ($3 IS NULL OR g.store_id = $3) \
             GROUP BY g.staff_id, s.display_name ORDER BY COUNT(*) DESC, g.staff_id"
        ))
        .bind(since)
        .bind(staff_id)
        .bind(store_id)
        .bind(now)
        .fetch_all(pool)
        .await?;
        let stores = sqlx::query_as::<_, StatsRow>(concat!(
            "SELECT g.store_id AS id, st.name AS name, ",
            stats_columns!(),
            " FROM guide_tasks g LEFT JOIN stores st ON st.id = g.store_id \
             WHERE g.created_at >= $1 AND ($2 IS NULL OR g.staff_id = $2) \
             AND ($3 IS NULL OR g.store_id = $3) \
             GROUP BY g.store_id, st.name ORDER BY COUNT(*) DESC, g.store_id"
        ))
        .bind(since)
        .bind(staff_id)
        .bind(store_id)
        .bind(now)
        .fetch_all(pool)
        .await?;
        Ok((guides, stores))
    })
}

/// Active guides `(id, name, store)`, of one store when `store` is set, by name.
pub async fn guides(db: &Db, store: Option<i64>) -> Result<Vec<(i64, String, Option<i64>)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT id, display_name, store_id FROM staff WHERE role = 'guide' \
             AND status = 'active' AND ($1 IS NULL OR store_id = $1) ORDER BY display_name, id",
        )
        .bind(store)
        .fetch_all(pool)
        .await?)
    })
}
