//! Churn alerts (流失提醒, migration 0043): made once per source key inside the WeCom callback's
//! transaction with the customer's value read in that same transaction, listed by scope, and
//! handled by a guarded update (only an open alert changes, so two handlings at once make one).

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

/// An alert as listed: its row with the names it points at.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct AlertRow {
    pub id: i64,
    pub kind: String,
    pub customer_id: i64,
    pub customer_name: Option<String>,
    /// The customer's first phone (unmasked: the app masks it).
    pub customer_phone: Option<String>,
    pub staff_id: i64,
    pub staff_name: Option<String>,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    pub occurred_at: i64,
    pub orders: i64,
    pub spend_fen: i64,
    pub tier_id: Option<i64>,
    pub tier_name: Option<String>,
    pub source_key: String,
    pub status: String,
    pub handled_by: Option<i64>,
    pub handled_by_name: Option<String>,
    pub handled_at: Option<i64>,
    pub note: String,
    pub created_at: i64,
}

macro_rules! alert_select {
    () => {
        "SELECT a.id, a.kind, a.customer_id, c.name AS customer_name, \
         (SELECT i.value FROM customer_identities i WHERE i.customer_id = a.customer_id \
          AND i.kind = 'phone' ORDER BY i.id LIMIT 1) AS customer_phone, \
         a.staff_id, s.display_name AS staff_name, a.store_id, st.name AS store_name, \
         a.occurred_at, a.orders, a.spend_fen, a.tier_id, a.tier_name, a.source_key, a.status, \
         a.handled_by, h.display_name AS handled_by_name, a.handled_at, a.note, a.created_at \
         FROM churn_alerts a \
         LEFT JOIN customers c ON c.id = a.customer_id \
         LEFT JOIN staff s ON s.id = a.staff_id \
         LEFT JOIN stores st ON st.id = a.store_id \
         LEFT JOIN staff h ON h.id = a.handled_by"
    };
}

/// An alert to save (parsed and checked by the caller).
#[derive(Debug, Clone, Copy)]
pub struct NewAlert<'a> {
    pub kind: &'a str,
    pub customer_id: i64,
    pub staff_id: i64,
    pub store_id: Option<i64>,
    pub occurred_at: i64,
    pub orders: i64,
    pub spend_fen: i64,
    pub tier_id: Option<i64>,
    pub tier_name: Option<&'a str>,
    pub source_key: &'a str,
}

/// The customer's value, read in the caller's transaction: orders not fully refunded, their
/// net amount in fen, and the current tier `(id, name)`.
pub async fn value_in(tx: &mut Tx, customer_id: i64) -> Result<(i64, i64, Option<(i64, String)>)> {
    in_tx!(tx, conn => {
        let (orders, spend): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), CAST(COALESCE(SUM(amount - refunded_amount), 0) AS BIGINT) \
             FROM orders WHERE customer_id = $1 AND refunded_amount < amount",
        )
        .bind(customer_id)
        .fetch_one(&mut *conn)
        .await?;
        let tier: Option<(i64, String)> = sqlx::query_as(
            "SELECT t.id, t.name FROM customer_tiers ct JOIN tiers t ON t.id = ct.tier_id \
             WHERE ct.customer_id = $1",
        )
        .bind(customer_id)
        .fetch_optional(&mut *conn)
        .await?;
        Ok((orders, spend, tier))
    })
}

/// Save an alert once: `Some(id)` when it is new, `None` when an alert with its source key
/// exists (a replay, which changes nothing).
pub async fn insert_in(tx: &mut Tx, a: &NewAlert<'_>, now: i64) -> Result<Option<i64>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO churn_alerts (kind, customer_id, staff_id, store_id, occurred_at, \
             orders, spend_fen, tier_id, tier_name, source_key, status, note, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'open', '', $11) \
             ON CONFLICT (source_key) DO NOTHING RETURNING id",
        )
        .bind(a.kind)
        .bind(a.customer_id)
        .bind(a.staff_id)
        .bind(a.store_id)
        .bind(a.occurred_at)
        .bind(a.orders)
        .bind(a.spend_fen)
        .bind(a.tier_id)
        .bind(a.tier_name)
        .bind(a.source_key)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?)
    })
}

/// Active store managers of `store` with their WeCom userid, read in the caller's
/// transaction: `(id, wecom_userid)`.
pub async fn store_managers_in(tx: &mut Tx, store: i64) -> Result<Vec<(i64, Option<String>)>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as(
            "SELECT id, wecom_userid FROM staff WHERE role = 'store_manager' \
             AND status = 'active' AND store_id = $1 ORDER BY id",
        )
        .bind(store)
        .fetch_all(&mut *conn)
        .await?)
    })
}

pub async fn get(db: &Db, id: i64) -> Result<AlertRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, AlertRow>(concat!(alert_select!(), " WHERE a.id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// The alert, read in a transaction.
pub async fn get_in(tx: &mut Tx, id: i64) -> Result<AlertRow> {
    in_tx!(tx, conn => {
        sqlx::query_as::<_, AlertRow>(concat!(alert_select!(), " WHERE a.id = $1"))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// What to list. Every filter is optional; the scope is the caller's (`staff_id` and
/// `kind` for a guide, `store_id` for a store manager).
#[derive(Debug, Clone, Default)]
pub struct AlertFilter<'a> {
    pub kind: Option<&'a str>,
    pub status: Option<&'a str>,
    pub staff_id: Option<i64>,
    pub store_id: Option<i64>,
    pub customer_id: Option<i64>,
    /// The last id of the previous page.
    pub before: Option<i64>,
}

/// Alerts newest first (by id), at most `limit`.
pub async fn list(db: &Db, f: &AlertFilter<'_>, limit: i64) -> Result<Vec<AlertRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, AlertRow>(concat!(
            alert_select!(),
            " WHERE ($1 IS NULL OR a.kind = $1) AND ($2 IS NULL OR a.status = $2) \
             AND ($3 IS NULL OR a.staff_id = $3) AND ($4 IS NULL OR a.store_id = $4) \
             AND ($5 IS NULL OR a.customer_id = $5) AND ($6 IS NULL OR a.id < $6) \
             ORDER BY a.id DESC LIMIT $7"
        ))
        .bind(f.kind)
        .bind(f.status)
        .bind(f.staff_id)
        .bind(f.store_id)
        .bind(f.customer_id)
        .bind(f.before)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// Mark an open alert handled by `staff` with `note`. `false` when it was not open (handled
/// already, by this call's twin or earlier): the guarded update decides, so of two handlings
/// at once exactly one applies.
pub async fn handle_in(
    tx: &mut Tx,
    id: i64,
    staff: Option<i64>,
    note: &str,
    now: i64,
) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE churn_alerts SET status = 'handled', handled_by = $1, handled_at = $2, \
             note = $3 WHERE id = $4 AND status = 'open'",
        )
        .bind(staff)
        .bind(now)
        .bind(note)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(n > 0)
}

/// Follows that ended (`deleted_by_customer` or `deleted_by_guide`), oldest first, at most
/// `limit`: `(customer, staff, the staff's store, state)` — for the demo's alerts.
pub async fn ended_follows(db: &Db, limit: i64) -> Result<Vec<(i64, i64, Option<i64>, String)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT f.customer_id, f.staff_id, s.store_id, f.state FROM follows f \
             JOIN staff s ON s.id = f.staff_id \
             WHERE f.state IN ('deleted_by_customer', 'deleted_by_guide') ORDER BY f.id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}
