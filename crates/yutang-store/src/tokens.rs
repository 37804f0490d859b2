//! API tokens for integrations. Stored as SHA-256 of the secret (the secret is 256 random bits,
//! so a fast hash is enough); the short prefix lets an admin recognise a token in lists.

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct TokenRow {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub role: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    pub name: &'a str,
    pub prefix: &'a str,
    pub token_hash: &'a str,
    pub role: &'a str,
    pub created_by: Option<i64>,
    pub now: i64,
    pub expires_at: Option<i64>,
}

pub async fn create_in(tx: &mut Tx, t: &NewToken<'_>) -> Result<i64> {
    in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO api_tokens (name, prefix, token_hash, role, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(t.name)
        .bind(t.prefix)
        .bind(t.token_hash)
        .bind(t.role)
        .bind(t.created_by)
        .bind(t.now)
        .bind(t.expires_at)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| StoreError::classify(e, "token"))
    })
}

pub async fn list(db: &Db) -> Result<Vec<TokenRow>> {
    db_run!(db, pool => {
        sqlx::query_as::<_, TokenRow>(concat!(
            "SELECT id, name, prefix, role, created_by, created_at, expires_at, last_used_at, revoked_at FROM api_tokens",
            " ORDER BY id DESC"
        ))
        .fetch_all(pool)
        .await
        .map_err(StoreError::from)
    })
}

pub async fn get(db: &Db, id: i64) -> Result<TokenRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, TokenRow>(concat!(
            "SELECT id, name, prefix, role, created_by, created_at, expires_at, last_used_at, revoked_at FROM api_tokens",
            " WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(pool)
        .await
        .map_err(StoreError::from)
    })
}

pub async fn find_by_hash(db: &Db, token_hash: &str) -> Result<Option<TokenRow>> {
    db_run!(db, pool => {
        sqlx::query_as::<_, TokenRow>(concat!(
            "SELECT id, name, prefix, role, created_by, created_at, expires_at, last_used_at, revoked_at FROM api_tokens",
            " WHERE token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(pool)
        .await
        .map_err(StoreError::from)
    })
}

/// Revoke once; revoking again keeps the first revocation time.
pub async fn revoke_in(tx: &mut Tx, id: i64, now: i64) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
    });
    Ok(n > 0)
}

/// How often a token's `last_used_at` is written at most.
pub const TOUCH_EVERY_MS: i64 = 60_000;

/// Record use, at most once a minute per token to keep the hot path write-free: callers
/// skip the call when the row they read was touched within [`TOUCH_EVERY_MS`], and the
/// guard keeps concurrent callers to one write.
pub async fn touch(db: &Db, id: i64, now: i64) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query(
            "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 \
             AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(now)
        .bind(id)
        .bind(now - TOUCH_EVERY_MS)
        .execute(pool)
        .await?;
    });
    Ok(())
}
