//! Login attempts, for throttling password guessing per account and per address. Kept in the
//! database (not in memory) so several nodes behind a load balancer throttle together.

use crate::Db;
use crate::error::Result;

pub async fn record(db: &Db, username: &str, ip: &str, at: i64, success: bool) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query("INSERT INTO login_attempts (username, ip, at, success) VALUES ($1, $2, $3, $4)")
            .bind(username)
            .bind(ip)
            .bind(at)
            .bind(success)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Failures for this username since `since`, counting only those after its last success.
pub async fn failures_for_user(db: &Db, username: &str, since: i64) -> Result<(i64, Option<i64>)> {
    db_run!(db, pool => {
        let row: (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MAX(at) FROM login_attempts WHERE username = $1 AND at >= $2 \
             AND success = $3 AND at > COALESCE((SELECT MAX(at) FROM login_attempts \
             WHERE username = $1 AND success = $4), 0)",
        )
        .bind(username)
        .bind(since)
        .bind(false)
        .bind(true)
        .fetch_one(pool)
        .await?;
        Ok(row)
    })
}

/// Failures from this address since `since` (any username).
pub async fn failures_for_ip(db: &Db, ip: &str, since: i64) -> Result<(i64, Option<i64>)> {
    db_run!(db, pool => {
        let row: (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MAX(at) FROM login_attempts WHERE ip = $1 AND at >= $2 AND success = $3",
        )
        .bind(ip)
        .bind(since)
        .bind(false)
        .fetch_one(pool)
        .await?;
        Ok(row)
    })
}

pub async fn prune(db: &Db, before: i64) -> Result<u64> {
    Ok(db_run!(db, pool => {
        sqlx::query("DELETE FROM login_attempts WHERE at < $1")
            .bind(before)
            .execute(pool)
            .await?
            .rows_affected()
    }))
}
