//! Console and API login sessions. Only a SHA-256 of the session token is stored, so a leaked
//! database does not leak live sessions.

use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub staff_id: i64,
    pub csrf_token: &'a str,
    pub now: i64,
    pub expires_at: i64,
    pub ip: &'a str,
    pub user_agent: &'a str,
}

/// A live session joined with the account it belongs to.
#[derive(Debug, Clone, FromRow)]
pub struct SessionRow {
    pub id: i64,
    pub staff_id: i64,
    pub csrf_token: String,
    pub expires_at: i64,
    pub last_seen_at: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub store_id: Option<i64>,
    pub status: String,
}

pub async fn create(db: &Db, s: &NewSession<'_>) -> Result<i64> {
    in_own_tx!(db, create_in(s))
}

/// [`create`] inside the caller's transaction (a sign-in that writes more than the session).
pub async fn create_in(tx: &mut Tx, s: &NewSession<'_>) -> Result<i64> {
    in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO sessions (token_hash, staff_id, csrf_token, created_at, expires_at, \
             last_seen_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $4, $6, $7) RETURNING id",
        )
        .bind(s.token_hash)
        .bind(s.staff_id)
        .bind(s.csrf_token)
        .bind(s.now)
        .bind(s.expires_at)
        .bind(s.ip)
        .bind(s.user_agent)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| StoreError::classify(e, "session"))
    })
}

/// The session with this token hash if it has not expired.
pub async fn find_live(db: &Db, token_hash: &str, now: i64) -> Result<Option<SessionRow>> {
    db_run!(db, pool => {
        sqlx::query_as::<_, SessionRow>(
            "SELECT x.id, x.staff_id, x.csrf_token, x.expires_at, x.last_seen_at, t.username, \
             t.display_name, t.role, t.store_id, t.status \
             FROM sessions x JOIN staff t ON t.id = x.staff_id \
             WHERE x.token_hash = $1 AND x.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(pool)
        .await
        .map_err(StoreError::from)
    })
}

/// Slide the expiry forward (idle timeout) and record activity.
pub async fn touch(db: &Db, id: i64, now: i64, expires_at: i64) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query("UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE id = $3")
            .bind(now)
            .bind(expires_at)
            .bind(id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

pub async fn delete(db: &Db, id: i64) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(pool).await?;
    });
    Ok(())
}

pub async fn delete_expired(db: &Db, now: i64) -> Result<u64> {
    Ok(db_run!(db, pool => {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
    }))
}
