//! The WeCom sign-in codes that opened a console session (`wecom_login_codes`), by the
//! SHA-256 of the code: a code is used once, even if WeCom would accept it again.

use crate::Db;
use crate::error::Result;
use crate::tx::Tx;

/// Whether a code with this hash has opened a session already.
pub async fn seen(db: &Db, code_hash: &str) -> Result<bool> {
    db_run!(db, pool => {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM wecom_login_codes WHERE code_hash = $1")
            .bind(code_hash)
            .fetch_one(pool)
            .await?;
        Ok(n > 0)
    })
}

/// Record the code as used by `staff_id`, in the transaction that opens the session. False
/// when it was used already (a concurrent use of the same code included: on PostgreSQL the
/// second insert waits for the first to commit, then inserts nothing).
pub async fn claim_in(tx: &mut Tx, code_hash: &str, staff_id: i64, now: i64) -> Result<bool> {
    in_tx!(tx, conn => {
        let done = sqlx::query(
            "INSERT INTO wecom_login_codes (code_hash, staff_id, used_at) VALUES ($1, $2, $3) \
             ON CONFLICT (code_hash) DO NOTHING",
        )
        .bind(code_hash)
        .bind(staff_id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        Ok(done.rows_affected() == 1)
    })
}

/// Forget codes used before `before` (WeCom's expire after 5 minutes, so an old row guards
/// nothing).
pub async fn prune_in(tx: &mut Tx, before: i64) -> Result<u64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query("DELETE FROM wecom_login_codes WHERE used_at < $1")
            .bind(before)
            .execute(&mut *conn)
            .await?
            .rows_affected())
    })
}
