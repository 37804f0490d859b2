//! Locks that serialise one kind of work across every node sharing a PostgreSQL database.
//!
//! Some work reads a shared state, decides, and writes what it decided — applying a WeCom
//! group snapshot, or deciding who a mass message may reach from the contact ledger. At READ
//! COMMITTED two nodes doing that at once would both decide on the state before either wrote,
//! so each such kind of work holds its own session advisory lock while it reads and writes.
//! SQLite is one process's file: the caller's in-process mutex already serialises there.

use crate::Db;
use crate::error::Result;

/// What a [`NodeLock`] serialises; each has its own advisory-lock key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKey {
    /// Reading a customer group from WeCom and writing it (`YTWC`).
    WecomApply,
    /// Deciding a message's recipients from the contact ledger and writing them to it, so two
    /// messages prepared at once cannot both pass the frequency cap (`YTMC`).
    ContactLedger,
}

impl LockKey {
    fn key(self) -> i64 {
        match self {
            LockKey::WecomApply => 0x5954_5743,
            LockKey::ContactLedger => 0x5954_4d43,
        }
    }
}

/// Held until [`NodeLock::release`]. On PostgreSQL a session advisory lock on a connection
/// of its own. Dropped without release (an error path), the connection is closed instead of
/// returned to the pool, which releases the lock on the server.
pub struct NodeLock {
    conn: Option<sqlx::pool::PoolConnection<sqlx::Postgres>>,
    key: i64,
}

/// Wait for the lock `key` and take it.
pub async fn acquire(db: &Db, key: LockKey) -> Result<NodeLock> {
    let key = key.key();
    match db {
        Db::Postgres(pool) => {
            let mut conn = pool.acquire().await?;
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(key)
                .execute(&mut *conn)
                .await?;
            Ok(NodeLock {
                conn: Some(conn),
                key,
            })
        }
        Db::Sqlite(_) => Ok(NodeLock { conn: None, key }),
    }
}

impl NodeLock {
    pub async fn release(mut self) -> Result<()> {
        if let Some(mut conn) = self.conn.take() {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(self.key)
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }
}

impl Drop for NodeLock {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            drop(conn.detach());
        }
    }
}
