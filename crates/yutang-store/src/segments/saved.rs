//! Saved segments: named expressions.

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct SegmentRow {
    pub id: i64,
    pub name: String,
    pub expression: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn create_in(
    tx: &mut Tx,
    name: &str,
    expression: &str,
    by: Option<i64>,
    now: i64,
) -> Result<i64> {
    in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO segments (name, expression, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) RETURNING id",
        )
        .bind(name)
        .bind(expression)
        .bind(by)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| StoreError::classify(e, "name"))
    })
}

pub async fn update_in(tx: &mut Tx, id: i64, name: &str, expression: &str, now: i64) -> Result<()> {
    let n = in_tx!(tx, conn => {
        sqlx::query("UPDATE segments SET name = $1, expression = $2, updated_at = $3 WHERE id = $4")
            .bind(name)
            .bind(expression)
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(|e| StoreError::classify(e, "name"))?
            .rows_affected()
    });
    crate::error::touched(n)
}

/// What uses saved segment `id` as its audience: `(kind, id, name)` of every coupon template,
/// flash sale and group-buy whose spec names it (whatever their status: an ended campaign
/// can be reopened). Bulk tagging and segment issue jobs resolve their customers when they
/// are created and keep no reference.
/// Lock a saved segment's row until the transaction ends (`false`: there is none). A
/// segment delete and a promotion naming the segment as its audience both take it first, so
/// they queue: the promotion then finds the segment gone, or the delete finds the promotion
/// using it (PostgreSQL; SQLite serialises writers).
pub async fn lock_in(tx: &mut Tx, id: i64) -> Result<bool> {
    let lock = tx.row_lock();
    let found: Option<i64> = in_tx!(tx, conn => {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT id FROM segments WHERE id = $1{lock}")))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
    });
    Ok(found.is_some())
}

pub async fn users_in(tx: &mut Tx, id: i64) -> Result<Vec<(&'static str, i64, String)>> {
    const TABLES: [(&str, &str); 3] = [
        ("coupon template", "coupon_templates"),
        ("flash sale", "flash_sales"),
        ("group-buy", "group_buys"),
    ];
    let mut out = Vec::new();
    for (kind, table) in TABLES {
        // A cheap text filter first; the JSON decides.
        let sql =
            format!("SELECT id, name, spec FROM {table} WHERE spec LIKE '%segment%' ORDER BY id");
        let rows: Vec<(i64, String, String)> = in_tx!(tx, conn => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(&mut *conn).await?
        });
        for (row, name, spec) in rows {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&spec) else {
                continue;
            };
            let a = &v["audience"];
            if a["kind"] == "segment" && a["segment_id"].as_i64() == Some(id) {
                out.push((kind, row, name));
            }
        }
    }
    Ok(out)
}

pub async fn delete_in(tx: &mut Tx, id: i64) -> Result<()> {
    let n = in_tx!(tx, conn => {
        sqlx::query("DELETE FROM segments WHERE id = $1").bind(id).execute(&mut *conn).await?.rows_affected()
    });
    crate::error::touched(n)
}

pub async fn get(db: &Db, id: i64) -> Result<SegmentRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, SegmentRow>(
            "SELECT id, name, expression, created_by, created_at, updated_at FROM segments WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)
    })
}

pub async fn list(db: &Db) -> Result<Vec<SegmentRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, SegmentRow>(
            "SELECT id, name, expression, created_by, created_at, updated_at FROM segments ORDER BY id",
        )
        .fetch_all(pool)
        .await?)
    })
}
