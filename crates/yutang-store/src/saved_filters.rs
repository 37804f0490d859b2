//! A staff member's saved filters of a console list: a name and the list's query string.
//! Each staff member reads and changes only their own (every statement names the owner).

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError, touched};

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct SavedFilterRow {
    pub id: i64,
    pub name: String,
    pub query: String,
    pub created_at: i64,
}

/// The owner's filters of one list page, by name.
pub async fn list(db: &Db, staff: i64, page: &str) -> Result<Vec<SavedFilterRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, SavedFilterRow>(
            "SELECT id, name, query, created_at FROM saved_filters \
             WHERE staff_id = $1 AND page = $2 ORDER BY name",
        )
        .bind(staff)
        .bind(page)
        .fetch_all(pool)
        .await?)
    })
}

/// Save a filter under a name; the same name again replaces its query. A new name is
/// refused (`Conflict`) once the owner has `max` filters on the page.
pub async fn save(
    db: &Db,
    staff: i64,
    page: &str,
    name: &str,
    query: &str,
    max: i64,
    now: i64,
) -> Result<i64> {
    let id: Option<i64> = db_run!(db, pool => {
        sqlx::query_scalar(
            "INSERT INTO saved_filters (staff_id, page, name, query, created_at) \
             SELECT $1, $2, $3, $4, $5 \
             WHERE (SELECT COUNT(*) FROM saved_filters WHERE staff_id = $1 AND page = $2) < $6 \
                OR EXISTS (SELECT 1 FROM saved_filters WHERE staff_id = $1 AND page = $2 AND name = $3) \
             ON CONFLICT (staff_id, page, name) DO UPDATE SET query = excluded.query \
             RETURNING id",
        )
        .bind(staff)
        .bind(page)
        .bind(name)
        .bind(query)
        .bind(now)
        .bind(max)
        .fetch_optional(pool)
        .await
        .map_err(|e| StoreError::classify(e, "saved_filter"))?
    });
    id.ok_or(StoreError::Conflict {
        what: "saved_filters_full",
    })
}

/// Delete one of the owner's filters; `NotFound` for anyone else's.
pub async fn delete(db: &Db, staff: i64, id: i64) -> Result<()> {
    let n = db_run!(db, pool => {
        sqlx::query("DELETE FROM saved_filters WHERE id = $1 AND staff_id = $2")
            .bind(id)
            .bind(staff)
            .execute(pool)
            .await?
            .rows_affected()
    });
    touched(n)
}
