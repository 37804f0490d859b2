//! The audit log of security-relevant actions. Append-only: nothing updates or deletes rows.

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub ip: String,
}

#[derive(Debug, Clone)]
pub struct NewAudit<'a> {
    pub at: i64,
    pub actor_kind: &'a str,
    pub actor_id: Option<i64>,
    pub actor_name: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    pub detail: &'a str,
    pub ip: &'a str,
}

const INSERT_AUDIT: &str = "INSERT INTO audit_log (at, actor_kind, actor_id, actor_name, action, target, detail, ip) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// Append an entry on its own (a read or a refusal worth recording, with no change to go with).
pub async fn append(db: &Db, a: &NewAudit<'_>) -> Result<()> {
    in_own_tx!(db, append_in(a))
}

/// Append an entry inside the transaction of the change it records, so the change and its
/// audit entry commit (or vanish) together.
pub async fn append_in(tx: &mut Tx, a: &NewAudit<'_>) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(INSERT_AUDIT)
            .bind(a.at)
            .bind(a.actor_kind)
            .bind(a.actor_id)
            .bind(a.actor_name)
            .bind(a.action)
            .bind(a.target)
            .bind(a.detail)
            .bind(a.ip)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter<'a> {
    pub action: Option<&'a str>,
    pub actor_id: Option<i64>,
    pub limit: i64,
    pub offset: i64,
}

macro_rules! audit_where {
    () => {
        " WHERE ($1 IS NULL OR action = $1) AND ($2 IS NULL OR actor_id = $2)"
    };
}

pub async fn list(db: &Db, f: &AuditFilter<'_>) -> Result<(Vec<AuditRow>, i64)> {
    db_run!(db, pool => {
        let rows = sqlx::query_as::<_, AuditRow>(concat!(
            "SELECT id, at, actor_kind, actor_id, actor_name, action, target, detail, ip FROM audit_log",
            audit_where!(),
            " ORDER BY id DESC LIMIT $3 OFFSET $4"
        ))
        .bind(f.action)
        .bind(f.actor_id)
        .bind(f.limit)
        .bind(f.offset)
        .fetch_all(pool)
        .await
        .map_err(StoreError::from)?;
        let total: i64 = sqlx::query_scalar(concat!("SELECT COUNT(*) FROM audit_log", audit_where!()))
            .bind(f.action)
            .bind(f.actor_id)
            .fetch_one(pool)
            .await?;
        Ok((rows, total))
    })
}

/// How many entries match the action and actor filter, and the newest one's id (0 when none),
/// read in one statement: the fixed extent of an export.
pub async fn export_extent(
    db: &Db,
    action: Option<&str>,
    actor_id: Option<i64>,
) -> Result<(i64, i64)> {
    db_run!(db, pool => {
        let (count, max): (i64, Option<i64>) = sqlx::query_as(concat!(
            "SELECT COUNT(*), MAX(id) FROM audit_log",
            audit_where!()
        ))
        .bind(action)
        .bind(actor_id)
        .fetch_one(pool)
        .await?;
        Ok((count, max.unwrap_or(0)))
    })
}

/// Up to `limit` entries matching the filter with an id below `before`, newest first (one
/// piece of an export).
pub async fn list_before(
    db: &Db,
    action: Option<&str>,
    actor_id: Option<i64>,
    before: i64,
    limit: i64,
) -> Result<Vec<AuditRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, AuditRow>(concat!(
            "SELECT id, at, actor_kind, actor_id, actor_name, action, target, detail, ip FROM audit_log",
            audit_where!(),
            " AND id < $3 ORDER BY id DESC LIMIT $4"
        ))
        .bind(action)
        .bind(actor_id)
        .bind(before)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}
