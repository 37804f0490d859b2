//! Multi-statement use cases that must commit or roll back as one: ingesting a customer,
//! merging, follows, orders and refunds. Each area writes its transactions once, in a macro
//! next to its other queries (`customer_txn_ops!` in `customers.rs`, `order_txn_ops!` in
//! `orders.rs`, `wecom_txn_ops!` in `wecom.rs`); this module holds the plumbing they share
//! ([`engine_ops!`]: the transaction type, events, audit rows, aggregates, row locks) and
//! expands everything once per engine (`txn::sqlite`, `txn::pg`), the same idea as
//! [`db_run!`] for single queries; [`tx_run!`] picks the module for the database at hand.

use yutang_core::customers::{Gender, Profile, ProfilePatch, merge_profiles};
use yutang_core::identity::{
    Identity, IdentityKind, IngestPlan, MergeCandidate, attach_conflicts, choose_survivor,
    merge_conflicts, plan_ingest,
};
use yutang_core::money::Fen;
use yutang_core::orders::{OrderFact, OrderStatus, aggregate, apply_refund};

use crate::customers::{FollowInput, IngestOutcome, IngestRecord};
use crate::error::{Result, StoreError};
use crate::orders::NewOrder;

/// Who caused a write, for the audit rows a transaction appends itself.
#[derive(Debug, Clone)]
pub struct AuditCtx<'a> {
    pub actor_kind: &'a str,
    pub actor_id: Option<i64>,
    pub actor_name: &'a str,
    pub ip: &'a str,
}

fn refused(code: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Refused {
        code,
        message: message.into(),
    }
}

fn detail(v: serde_json::Value) -> String {
    v.to_string()
}

/// `$lock` is the row-lock suffix for a `SELECT` whose row the transaction writes next:
/// ` FOR NO KEY UPDATE` on PostgreSQL (READ COMMITTED would otherwise let two transactions
/// read the same amount and both write from it; `NO KEY` leaves the foreign-key share locks
/// of concurrent inserts alone), empty on SQLite, whose `BEGIN IMMEDIATE` already serialises
/// writers.
macro_rules! engine_ops {
    ($DB:ty, $begin:literal, $lock:literal) => {
        use super::*;
        use sqlx::{Pool, Transaction};

        type Tx = Transaction<'static, $DB>;

        pub(crate) async fn append_event(
            tx: &mut Tx,
            customer: i64,
            kind: &str,
            occurred_at: i64,
            staff: Option<i64>,
            detail: &str,
            now: i64,
        ) -> Result<()> {
            sqlx::query(
                "INSERT INTO events (customer_id, kind, occurred_at, received_at, staff_id, detail) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(customer)
            .bind(kind)
            .bind(occurred_at)
            .bind(now)
            .bind(staff)
            .bind(detail)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        async fn audit(tx: &mut Tx, a: &AuditCtx<'_>, action: &str, target: &str, detail: &str, now: i64) -> Result<()> {
            sqlx::query(
                "INSERT INTO audit_log (at, actor_kind, actor_id, actor_name, action, target, detail, ip) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(now)
            .bind(a.actor_kind)
            .bind(a.actor_id)
            .bind(a.actor_name)
            .bind(action)
            .bind(target)
            .bind(detail)
            .bind(a.ip)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        /// Recompute a customer's order aggregates from their orders. The customer row is locked
        /// first, so the orders read below include every transaction that wrote this customer's
        /// aggregates before (no stale total overwrites a newer one).
        pub(crate) async fn refresh_aggregates(tx: &mut Tx, customer: i64, now: i64) -> Result<()> {
            lock_customer(tx, customer).await?;
            let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
                "SELECT amount, refunded_amount, paid_at FROM orders WHERE customer_id = $1",
            )
            .bind(customer)
            .fetch_all(&mut **tx)
            .await?;
            let facts: Vec<OrderFact> = rows
                .into_iter()
                .map(|(a, r, p)| OrderFact {
                    amount: Fen(a),
                    refunded: Fen(r),
                    paid_at: p,
                })
                .collect();
            let a = aggregate(&facts);
            sqlx::query(
                "UPDATE customers SET order_count = $1, total_spend = $2, avg_order_value = $3, \
                 first_order_at = $4, last_order_at = $5, updated_at = $6 WHERE id = $7",
            )
            .bind(a.order_count)
            .bind(a.total_spend.0)
            .bind(a.avg_order_value.0)
            .bind(a.first_order_at)
            .bind(a.last_order_at)
            .bind(now)
            .bind(customer)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        /// Lock a customer row until the transaction ends (PostgreSQL; a no-op on SQLite).
        async fn lock_customer(tx: &mut Tx, customer: i64) -> Result<()> {
            let _: Option<i64> = sqlx::query_scalar(concat!("SELECT id FROM customers WHERE id = $1", $lock))
                .bind(customer)
                .fetch_optional(&mut **tx)
                .await?;
            Ok(())
        }
    };
}

pub(crate) mod sqlite {
    // Write transactions take SQLite's write lock up front: a deferred transaction that
    // reads and then writes fails at once with SQLITE_BUSY when another connection wrote in
    // between (busy_timeout cannot help a snapshot that went stale).
    engine_ops!(sqlx::Sqlite, "BEGIN IMMEDIATE", "");
    crate::customers::customer_txn_ops!(sqlx::Sqlite, "BEGIN IMMEDIATE", "");
    crate::orders::order_txn_ops!(sqlx::Sqlite, "BEGIN IMMEDIATE", "");
    crate::wecom::wecom_txn_ops!(sqlx::Sqlite, "BEGIN IMMEDIATE", "");
}

pub(crate) mod pg {
    engine_ops!(sqlx::Postgres, "BEGIN", " FOR NO KEY UPDATE");
    crate::customers::customer_txn_ops!(sqlx::Postgres, "BEGIN", " FOR NO KEY UPDATE");
    crate::orders::order_txn_ops!(sqlx::Postgres, "BEGIN", " FOR NO KEY UPDATE");
    crate::wecom::wecom_txn_ops!(sqlx::Postgres, "BEGIN", " FOR NO KEY UPDATE");
}

/// Call the same-named transactional function of the engine `$db` holds.
macro_rules! tx_run {
    ($db:expr, $f:ident ( $($arg:expr),* $(,)? )) => {
        match $db {
            $crate::db::Db::Sqlite(p) => $crate::txn::sqlite::$f(p, $($arg),*).await,
            $crate::db::Db::Postgres(p) => $crate::txn::pg::$f(p, $($arg),*).await,
        }
    };
}
