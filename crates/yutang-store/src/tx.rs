//! The one transaction type over both engines.
//!
//! The app crate opens a write transaction with [`Db::begin`], passes `&mut Tx` to the store
//! functions of each area it touches, and commits (or drops it, which rolls back). Store
//! functions that take a `Tx` do data access only; the rules that decide a refusal live in
//! core and app, with guarded UPDATEs here as the backstop under concurrency.
//!
//! Inside the store, [`in_tx!`] expands one body per engine, the way [`db_run!`] does for a
//! pool, so the shared SQL text is written once and type-checked against both engines.

use sqlx::{Postgres, Sqlite, Transaction};

use crate::db::{Db, Engine};
use crate::error::Result;

/// A write transaction on either engine. Dropping it without [`Tx::commit`] rolls back.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tx({})", self.engine().as_str())
    }
}

impl Db {
    /// Begin a write transaction.
    ///
    /// SQLite takes the write lock up front (`BEGIN IMMEDIATE`), so a read-then-write never
    /// fails with "database is locked" when another connection wrote in between. PostgreSQL
    /// runs at READ COMMITTED: a read-then-write of money, stock or a counter must lock its
    /// row (`FOR UPDATE`) or be a guarded UPDATE (docs/decisions/0009).
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    pub fn engine(&self) -> Engine {
        match self {
            Tx::Sqlite(_) => Engine::Sqlite,
            Tx::Postgres(_) => Engine::Postgres,
        }
    }

    /// The suffix that locks the rows a `SELECT` reads until commit: ` FOR NO KEY UPDATE` on
    /// PostgreSQL (not `FOR UPDATE`, which conflicts with the `KEY SHARE` lock a child row's
    /// foreign key takes; decision 0009), nothing on SQLite, whose writers are serialised.
    pub fn row_lock(&self) -> &'static str {
        match self {
            Tx::Sqlite(_) => "",
            Tx::Postgres(_) => " FOR NO KEY UPDATE",
        }
    }
}

/// Run the same body against whichever engine's transaction `$tx` (a `&mut Tx`) holds,
/// binding the open connection to `$conn` (use it as `&mut *$conn`) and the engine's sqlx
/// database type to `$DB` (for `QueryBuilder::<$DB>`). The body is compiled once per engine.
macro_rules! in_tx {
    ($tx:expr, $DB:ident, $conn:ident => $body:expr) => {
        match $tx {
            $crate::tx::Tx::Sqlite(t) => {
                #[allow(dead_code)]
                type $DB = sqlx::Sqlite;
                let $conn: &mut sqlx::SqliteConnection = &mut *t;
                $body
            }
            $crate::tx::Tx::Postgres(t) => {
                #[allow(dead_code)]
                type $DB = sqlx::Postgres;
                let $conn: &mut sqlx::PgConnection = &mut *t;
                $body
            }
        }
    };
    ($tx:expr, $conn:ident => $body:expr) => {
        in_tx!($tx, _DbType, $conn => $body)
    };
}

/// The `…(db: &Db, …)` wrapper of a `…_in(tx: &mut Tx, …)` write: run it in a transaction of
/// its own and commit.
macro_rules! in_own_tx {
    ($db:expr, $f:ident ( $($arg:expr),* $(,)? )) => {{
        let mut tx = $db.begin().await?;
        let out = $f(&mut tx, $($arg),*).await?;
        tx.commit().await?;
        Ok(out)
    }};
}
