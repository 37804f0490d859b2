//! The stored QR image of each live code (migration 0020, `live_code_images`): one row per
//! code for the URL the image was made from. Current only while `source_url` is still the
//! code's `qr_url`; a failed attempt keeps the reason and no bytes (an image of an older URL
//! is dropped then, since its QR may lead to a deleted contact way).

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::Result;

/// What is known of a code's image, without the bytes.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct ImageMeta {
    pub code_id: i64,
    pub source_url: String,
    pub content_type: String,
    pub sha256: String,
    pub size_bytes: i64,
    pub stored_at: Option<i64>,
    pub error: String,
    pub attempted_at: i64,
    /// Whether the bytes are there (the last attempt succeeded).
    pub stored: bool,
}

impl ImageMeta {
    /// Stored, and made from `qr_url` (the code's URL now).
    pub fn is_current(&self, qr_url: &str) -> bool {
        self.stored && self.source_url == qr_url
    }
}

macro_rules! meta_select {
    () => {
        "SELECT code_id, source_url, content_type, sha256, size_bytes, stored_at, error, \
         attempted_at, (bytes IS NOT NULL) AS stored FROM live_code_images"
    };
}

pub async fn meta(db: &Db, code: i64) -> Result<Option<ImageMeta>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, ImageMeta>(concat!(meta_select!(), " WHERE code_id = $1"))
            .bind(code)
            .fetch_optional(pool)
            .await?)
    })
}

/// The stored image of a code and its facts; `None` when nothing is stored.
pub async fn image(db: &Db, code: i64) -> Result<Option<(ImageMeta, Vec<u8>)>> {
    let Some(meta) = meta(db, code).await?.filter(|m| m.stored) else {
        return Ok(None);
    };
    let bytes: Option<Vec<u8>> = db_run!(db, pool => {
        sqlx::query_scalar("SELECT bytes FROM live_code_images WHERE code_id = $1")
            .bind(code)
            .fetch_optional(pool)
            .await?
            .flatten()
    });
    Ok(bytes.map(|b| (meta, b)))
}

/// An image to keep for a code.
#[derive(Debug, Clone, Copy)]
pub struct NewImage<'a> {
    pub source_url: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
    pub sha256: &'a str,
    pub now: i64,
}

/// Keep `img` as the code's image (replacing any other).
pub async fn store(db: &Db, code: i64, img: &NewImage<'_>) -> Result<()> {
    let size = i64::try_from(img.bytes.len()).unwrap_or(i64::MAX);
    db_run!(db, pool => {
        sqlx::query(
            "INSERT INTO live_code_images (code_id, source_url, content_type, bytes, sha256, \
             size_bytes, stored_at, error, attempted_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, '', $7) \
             ON CONFLICT (code_id) DO UPDATE SET source_url = $2, content_type = $3, bytes = $4, \
             sha256 = $5, size_bytes = $6, stored_at = $7, error = '', attempted_at = $7",
        )
        .bind(code)
        .bind(img.source_url)
        .bind(img.content_type)
        .bind(img.bytes)
        .bind(img.sha256)
        .bind(size)
        .bind(img.now)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Record a failed attempt to make the image of `source_url` (an image of another URL is
/// dropped: it is stale).
pub async fn failed(db: &Db, code: i64, source_url: &str, error: &str, now: i64) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query(
            "INSERT INTO live_code_images (code_id, source_url, error, attempted_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (code_id) DO UPDATE SET source_url = $2, content_type = '', \
             bytes = NULL, sha256 = '', size_bytes = 0, stored_at = NULL, error = $3, \
             attempted_at = $4",
        )
        .bind(code)
        .bind(source_url)
        .bind(error)
        .bind(now)
        .execute(pool)
        .await?;
    });
    Ok(())
}
