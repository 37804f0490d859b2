//! Uploaded product images (`media`): one row per distinct file, found again by its SHA-256.

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};

/// An image's facts, without its bytes.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct MediaRow {
    pub id: i64,
    pub sha256: String,
    pub content_type: String,
    pub width: i64,
    pub height: i64,
    pub size_bytes: i64,
    pub created_at: i64,
}

/// A new image.
#[derive(Debug, Clone, Copy)]
pub struct NewMedia<'a> {
    pub sha256: &'a str,
    pub content_type: &'a str,
    pub width: i64,
    pub height: i64,
    pub bytes: &'a [u8],
    pub created_by: Option<i64>,
    pub created_at: i64,
}

/// Store an image unless the same bytes are there: the row, and whether it is new. Two
/// uploads of one file racing each other both end with the one row.
pub async fn insert_or_get_in(tx: &mut crate::Tx, m: &NewMedia<'_>) -> Result<(MediaRow, bool)> {
    let inserted: Option<i64> = in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO media (sha256, content_type, width, height, size_bytes, bytes, \
             created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (sha256) DO NOTHING RETURNING id",
        )
        .bind(m.sha256)
        .bind(m.content_type)
        .bind(m.width)
        .bind(m.height)
        .bind(i64::try_from(m.bytes.len()).unwrap_or(i64::MAX))
        .bind(m.bytes)
        .bind(m.created_by)
        .bind(m.created_at)
        .fetch_optional(&mut *conn)
        .await?
    });
    let row: Option<MediaRow> = in_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT id, sha256, content_type, width, height, size_bytes, created_at \
             FROM media WHERE sha256 = $1",
        )
        .bind(m.sha256)
        .fetch_optional(&mut *conn)
        .await?
    });
    let row = row.ok_or(StoreError::NotFound)?;
    Ok((row, inserted.is_some()))
}

/// One image's facts.
pub async fn get(db: &Db, id: i64) -> Result<MediaRow> {
    let row: Option<MediaRow> = db_run!(db, pool => {
        sqlx::query_as(
            "SELECT id, sha256, content_type, width, height, size_bytes, created_at \
             FROM media WHERE id = $1",
        )
            .bind(id)
            .fetch_optional(pool)
            .await?
    });
    row.ok_or(StoreError::NotFound)
}

/// One image's facts and bytes.
pub async fn get_with_bytes(db: &Db, id: i64) -> Result<(MediaRow, Vec<u8>)> {
    let row = get(db, id).await?;
    let bytes: Option<Vec<u8>> = db_run!(db, pool => {
        sqlx::query_scalar("SELECT bytes FROM media WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?
    });
    Ok((row, bytes.ok_or(StoreError::NotFound)?))
}
