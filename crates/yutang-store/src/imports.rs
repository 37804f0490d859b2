//! Import runs started from the console: the uploaded file, its column mapping, state,
//! progress and the last report (JSON text, opaque to the database).

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

/// A run without its file content.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct ImportRunRow {
    pub id: i64,
    pub kind: String,
    pub file_name: String,
    pub file_bytes: i64,
    pub headers: String,
    pub mapping: String,
    pub state: String,
    pub rows_total: i64,
    pub progress_done: i64,
    pub progress_total: i64,
    pub report: Option<String>,
    pub error: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub heartbeat_at: Option<i64>,
}

macro_rules! run_columns {
    () => {
        "id, kind, file_name, file_bytes, headers, mapping, state, rows_total, progress_done, progress_total, report, error, created_by, created_at, updated_at, heartbeat_at"
    };
}

#[derive(Debug, Clone)]
pub struct NewImportRun<'a> {
    pub kind: &'a str,
    pub file_name: &'a str,
    pub content: &'a [u8],
    pub headers: &'a str,
    pub mapping: &'a str,
    pub rows_total: i64,
    pub created_by: Option<i64>,
    pub now: i64,
}

pub async fn create(db: &Db, r: &NewImportRun<'_>) -> Result<i64> {
    db_run!(db, pool => {
        sqlx::query_scalar(
            "INSERT INTO import_runs (kind, file_name, file_bytes, content, headers, mapping, state, rows_total, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'uploaded', $7, $8, $9, $9) RETURNING id",
        )
        .bind(r.kind)
        .bind(r.file_name)
        .bind(r.content.len() as i64)
        .bind(r.content)
        .bind(r.headers)
        .bind(r.mapping)
        .bind(r.rows_total)
        .bind(r.created_by)
        .bind(r.now)
        .fetch_one(pool)
        .await
        .map_err(|e| StoreError::classify(e, "import run"))
    })
}

pub async fn get(db: &Db, id: i64) -> Result<ImportRunRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, ImportRunRow>(concat!("SELECT ", run_columns!(), " FROM import_runs WHERE id = $1"))
            .bind(id)
            .fetch_one(pool)
            .await
            .map_err(StoreError::from)
    })
}

/// The uploaded file; `None` once the run has finished and the content was dropped.
pub async fn content(db: &Db, id: i64) -> Result<Option<Vec<u8>>> {
    db_run!(db, pool => {
        sqlx::query_scalar::<_, Option<Vec<u8>>>("SELECT content FROM import_runs WHERE id = $1")
            .bind(id)
            .fetch_one(pool)
            .await
            .map_err(StoreError::from)
    })
}

/// Newest first.
pub async fn list(db: &Db, limit: i64) -> Result<Vec<ImportRunRow>> {
    db_run!(db, pool => {
        sqlx::query_as::<_, ImportRunRow>(concat!("SELECT ", run_columns!(), " FROM import_runs ORDER BY id DESC LIMIT $1"))
            .bind(limit)
            .fetch_all(pool)
            .await
            .map_err(StoreError::from)
    })
}

/// Claim the run for a dry run (`checking`) or the real run (`running`), in the caller's
/// transaction: one conditional UPDATE, so two clicks (or two nodes) cannot start it twice. A
/// run whose heartbeat went stale (its process died) can be claimed again. `false`: busy, or
/// the file is gone (done).
pub async fn claim_in(
    tx: &mut Tx,
    id: i64,
    state: &str,
    mapping: &str,
    now: i64,
    stale_before: i64,
) -> Result<bool> {
    in_tx!(tx, conn => {
        let n = sqlx::query(
            "UPDATE import_runs SET state = $2, mapping = $3, progress_done = 0, progress_total = 0, error = '', \
             updated_at = $4, heartbeat_at = $4 \
             WHERE id = $1 AND content IS NOT NULL \
             AND (state NOT IN ('checking', 'running') OR heartbeat_at IS NULL OR heartbeat_at < $5)",
        )
        .bind(id)
        .bind(state)
        .bind(mapping)
        .bind(now)
        .bind(stale_before)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        Ok(n == 1)
    })
}

/// Progress of a busy run (also its heartbeat).
pub async fn progress(db: &Db, id: i64, done: i64, total: i64, now: i64) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query(
            "UPDATE import_runs SET progress_done = $2, progress_total = $3, heartbeat_at = $4, updated_at = $4 \
             WHERE id = $1 AND state IN ('checking', 'running')",
        )
        .bind(id)
        .bind(done)
        .bind(total)
        .bind(now)
        .execute(pool)
        .await?;
        Ok(())
    })
}

/// The dry run or run is over: `checked` or `done` with its report (after `done` the file is
/// dropped: nothing is left to run), or `failed` with the error (the file is kept so the run
/// can be retried).
pub async fn finish(
    db: &Db,
    id: i64,
    state: &str,
    report: Option<&str>,
    error: &str,
    now: i64,
) -> Result<()> {
    in_own_tx!(db, finish_in(id, state, report, error, now))
}

/// [`finish`] in the caller's transaction.
pub async fn finish_in(
    tx: &mut Tx,
    id: i64,
    state: &str,
    report: Option<&str>,
    error: &str,
    now: i64,
) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE import_runs SET state = $2, report = COALESCE($3, report), error = $4, updated_at = $5, heartbeat_at = NULL, \
             progress_done = CASE WHEN $2 = 'failed' THEN progress_done ELSE progress_total END, content = CASE WHEN $2 = 'done' THEN NULL ELSE content END WHERE id = $1",
        )
        .bind(id)
        .bind(state)
        .bind(report)
        .bind(error)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        Ok(())
    })
}
