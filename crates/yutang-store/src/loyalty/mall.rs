//! Points mall rows (migration 0026): the items and the exchanges.
//!
//! Data access only: the app decides with core's rules on rows read under their row locks
//! ([`lock_item_in`], [`lock_exchange_in`]); the guarded UPDATEs here are the backstop — a unit
//! is only taken while `stock > 0` (never oversold, even if a caller forgot the lock), only
//! returned while `sold > 0`, and an exchange only moves from the state the caller read.

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

/// An item row.
#[derive(Debug, Clone, PartialEq, Eq, FromRow, Serialize)]
pub struct ItemRow {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub description: String,
    pub image_url: Option<String>,
    pub points_price: i64,
    pub cash_price_fen: i64,
    /// Units left.
    pub stock: i64,
    /// Units held by exchanges that were not cancelled or expired.
    pub sold: i64,
    pub per_customer_limit: Option<i64>,
    pub coupon_template_id: Option<i64>,
    pub sku: Option<String>,
    pub starts_at: Option<i64>,
    pub ends_at: Option<i64>,
    pub on_sale: bool,
    pub payment_minutes: i64,
    pub archived_at: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! item_select {
    () => {
        "SELECT id, kind, name, description, image_url, points_price, cash_price_fen, stock, \
         sold, per_customer_limit, coupon_template_id, sku, starts_at, ends_at, on_sale, \
         payment_minutes, archived_at, created_by, created_at, updated_at FROM mall_items"
    };
}

/// An item as written by staff.
#[derive(Debug, Clone)]
pub struct ItemWrite<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub image_url: Option<&'a str>,
    pub points_price: i64,
    pub cash_price_fen: i64,
    pub stock: i64,
    pub per_customer_limit: Option<i64>,
    pub coupon_template_id: Option<i64>,
    pub sku: Option<&'a str>,
    pub starts_at: Option<i64>,
    pub ends_at: Option<i64>,
    pub on_sale: bool,
    pub payment_minutes: i64,
}

pub async fn insert_item_in(tx: &mut Tx, w: &ItemWrite<'_>, by: &str, now: i64) -> Result<i64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO mall_items (kind, name, description, image_url, points_price, \
             cash_price_fen, stock, per_customer_limit, coupon_template_id, sku, starts_at, \
             ends_at, on_sale, payment_minutes, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16) \
             RETURNING id",
        )
        .bind(w.kind)
        .bind(w.name)
        .bind(w.description)
        .bind(w.image_url)
        .bind(w.points_price)
        .bind(w.cash_price_fen)
        .bind(w.stock)
        .bind(w.per_customer_limit)
        .bind(w.coupon_template_id)
        .bind(w.sku)
        .bind(w.starts_at)
        .bind(w.ends_at)
        .bind(w.on_sale)
        .bind(w.payment_minutes)
        .bind(by)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?)
    })
}

/// Replace an item (not archived); its kind never changes (`false`: no such live item).
pub async fn update_item_in(tx: &mut Tx, id: i64, w: &ItemWrite<'_>, now: i64) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE mall_items SET name = $1, description = $2, image_url = $3, \
             points_price = $4, cash_price_fen = $5, stock = $6, per_customer_limit = $7, \
             coupon_template_id = $8, sku = $9, starts_at = $10, ends_at = $11, on_sale = $12, \
             payment_minutes = $13, updated_at = $14 \
             WHERE id = $15 AND kind = $16 AND archived_at IS NULL",
        )
        .bind(w.name)
        .bind(w.description)
        .bind(w.image_url)
        .bind(w.points_price)
        .bind(w.cash_price_fen)
        .bind(w.stock)
        .bind(w.per_customer_limit)
        .bind(w.coupon_template_id)
        .bind(w.sku)
        .bind(w.starts_at)
        .bind(w.ends_at)
        .bind(w.on_sale)
        .bind(w.payment_minutes)
        .bind(now)
        .bind(id)
        .bind(w.kind)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// Archive an item: off sale and out of every list but the archive; exchanges keep it.
pub async fn archive_item_in(tx: &mut Tx, id: i64, now: i64) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE mall_items SET archived_at = $1, on_sale = $2, updated_at = $1 \
             WHERE id = $3 AND archived_at IS NULL",
        )
        .bind(now)
        .bind(false)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

pub async fn item(db: &Db, id: i64) -> Result<ItemRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, ItemRow>(concat!(item_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// Items, newest first: every live one (`archived` false) or the archived ones; with
/// `on_sale_only`, only those on sale.
pub async fn items(db: &Db, archived: bool, on_sale_only: bool) -> Result<Vec<ItemRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, ItemRow>(concat!(
            item_select!(),
            " WHERE (archived_at IS NOT NULL) = $1 AND (NOT $2 OR on_sale = $3) ORDER BY id DESC"
        ))
        .bind(archived)
        .bind(on_sale_only)
        .bind(true)
        .fetch_all(pool)
        .await?)
    })
}

/// An item read under its row lock (PostgreSQL) for an exchange's decision: every exchange
/// of the item queues here, so the per-customer count read after it is exact.
pub async fn lock_item_in(tx: &mut Tx, id: i64) -> Result<Option<ItemRow>> {
    let lock = tx.row_lock();
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, ItemRow>(sqlx::AssertSqlSafe(format!(
            "{} WHERE id = $1{lock}",
            item_select!()
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?)
    })
}

/// Take one unit: `false` when none is left (the guarded UPDATE never oversells).
pub async fn take_unit_in(tx: &mut Tx, item: i64, now: i64) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE mall_items SET stock = stock - 1, sold = sold + 1, updated_at = $1 \
             WHERE id = $2 AND stock > 0",
        )
        .bind(now)
        .bind(item)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// Return one unit taken by an exchange.
pub async fn return_unit_in(tx: &mut Tx, item: i64, now: i64) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE mall_items SET stock = stock + 1, sold = sold - 1, updated_at = $1 \
             WHERE id = $2 AND sold > 0",
        )
        .bind(now)
        .bind(item)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// The units a customer holds of an item (exchanges not cancelled or expired), read after
/// the item's row lock.
pub async fn held_in(tx: &mut Tx, item: i64, customer: i64) -> Result<i64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM mall_exchanges WHERE item_id = $1 AND customer_id = $2 \
             AND state NOT IN ('cancelled', 'expired')",
        )
        .bind(item)
        .bind(customer)
        .fetch_one(&mut *conn)
        .await?)
    })
}

/// An exchange row.
#[derive(Debug, Clone, PartialEq, Eq, FromRow, Serialize)]
pub struct ExchangeRow {
    pub id: i64,
    #[serde(skip)]
    pub idempotency_key: String,
    #[serde(skip)]
    pub fingerprint: String,
    pub item_id: i64,
    /// The item's name now (archived items keep theirs).
    pub item_name: String,
    pub customer_id: i64,
    pub kind: String,
    pub state: String,
    pub points: i64,
    pub cash_fen: i64,
    pub points_entry_id: i64,
    pub return_entry_id: Option<i64>,
    pub coupon_claim_id: Option<i64>,
    pub pay_by: Option<i64>,
    pub order_ref: Option<String>,
    pub carrier: Option<String>,
    pub tracking_no: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub paid_at: Option<i64>,
    pub shipped_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub returned_at: Option<i64>,
    pub updated_by: String,
    pub updated_at: i64,
}

macro_rules! exchange_select {
    () => {
        "SELECT id, idempotency_key, fingerprint, item_id, \
         (SELECT i.name FROM mall_items i WHERE i.id = mall_exchanges.item_id) AS item_name, \
         customer_id, kind, state, points, \
         cash_fen, points_entry_id, return_entry_id, coupon_claim_id, pay_by, order_ref, \
         carrier, tracking_no, created_by, created_at, paid_at, shipped_at, finished_at, \
         returned_at, updated_by, updated_at FROM mall_exchanges"
    };
}

/// A new exchange.
#[derive(Debug, Clone)]
pub struct NewExchange<'a> {
    pub key: &'a str,
    pub fingerprint: &'a str,
    pub item_id: i64,
    pub customer_id: i64,
    pub kind: &'a str,
    pub state: &'a str,
    pub points: i64,
    pub cash_fen: i64,
    pub points_entry_id: i64,
    pub coupon_claim_id: Option<i64>,
    pub pay_by: Option<i64>,
    pub created_by: &'a str,
}

/// Write an exchange; `UNIQUE (idempotency_key)` makes a concurrent copy of the same request
/// a conflict.
pub async fn insert_exchange_in(tx: &mut Tx, e: &NewExchange<'_>, now: i64) -> Result<i64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO mall_exchanges (idempotency_key, fingerprint, item_id, customer_id, \
             kind, state, points, cash_fen, points_entry_id, coupon_claim_id, pay_by, created_by, \
             created_at, finished_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $13) RETURNING id",
        )
        .bind(e.key)
        .bind(e.fingerprint)
        .bind(e.item_id)
        .bind(e.customer_id)
        .bind(e.kind)
        .bind(e.state)
        .bind(e.points)
        .bind(e.cash_fen)
        .bind(e.points_entry_id)
        .bind(e.coupon_claim_id)
        .bind(e.pay_by)
        .bind(e.created_by)
        .bind(now)
        .bind((e.state == "completed").then_some(now))
        .fetch_one(&mut *conn)
        .await?)
    })
}

pub async fn exchange_by_key_in(tx: &mut Tx, key: &str) -> Result<Option<ExchangeRow>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, ExchangeRow>(concat!(
            exchange_select!(),
            " WHERE idempotency_key = $1"
        ))
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?)
    })
}

pub async fn exchange_by_key(db: &Db, key: &str) -> Result<Option<ExchangeRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, ExchangeRow>(concat!(
            exchange_select!(),
            " WHERE idempotency_key = $1"
        ))
        .bind(key)
        .fetch_optional(pool)
        .await?)
    })
}

pub async fn exchange(db: &Db, id: i64) -> Result<ExchangeRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, ExchangeRow>(concat!(exchange_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// An exchange read under its row lock (PostgreSQL) for a move's decision.
pub async fn lock_exchange_in(tx: &mut Tx, id: i64) -> Result<Option<ExchangeRow>> {
    let lock = tx.row_lock();
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, ExchangeRow>(sqlx::AssertSqlSafe(format!(
            "{} WHERE id = $1{lock}",
            exchange_select!()
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?)
    })
}

/// A move of an exchange from `from` to `to` with what it records.
#[derive(Debug, Clone, Default)]
pub struct ExchangeMove<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub order_ref: Option<&'a str>,
    pub carrier: Option<&'a str>,
    pub tracking_no: Option<&'a str>,
    pub return_entry_id: Option<i64>,
    pub coupon_claim_id: Option<i64>,
    pub paid: bool,
    pub shipped: bool,
    pub finished: bool,
    pub returned: bool,
    pub by: &'a str,
}

/// Move an exchange; `false` when it was not in `from` any more (the guard).
pub async fn move_exchange_in(
    tx: &mut Tx,
    id: i64,
    m: &ExchangeMove<'_>,
    now: i64,
) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE mall_exchanges SET state = $1, order_ref = COALESCE($2, order_ref), \
             carrier = COALESCE($3, carrier), tracking_no = COALESCE($4, tracking_no), \
             return_entry_id = COALESCE($5, return_entry_id), \
             coupon_claim_id = COALESCE($6, coupon_claim_id), \
             paid_at = CASE WHEN $7 THEN $8 ELSE paid_at END, \
             shipped_at = CASE WHEN $9 THEN $8 ELSE shipped_at END, \
             finished_at = CASE WHEN $10 THEN $8 ELSE finished_at END, \
             returned_at = CASE WHEN $11 THEN $8 ELSE returned_at END, \
             updated_by = $12, updated_at = $8 WHERE id = $13 AND state = $14",
        )
        .bind(m.to)
        .bind(m.order_ref)
        .bind(m.carrier)
        .bind(m.tracking_no)
        .bind(m.return_entry_id)
        .bind(m.coupon_claim_id)
        .bind(m.paid)
        .bind(now)
        .bind(m.shipped)
        .bind(m.finished)
        .bind(m.returned)
        .bind(m.by)
        .bind(id)
        .bind(m.from)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}

/// Filters of the staff list.
#[derive(Debug, Clone, Default)]
pub struct ExchangeFilter<'a> {
    pub state: Option<&'a str>,
    pub item_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub kind: Option<&'a str>,
    /// Exchanges with an id below this (the next page).
    pub before: Option<i64>,
    pub limit: i64,
}

/// Exchanges, newest first.
pub async fn exchanges(db: &Db, f: &ExchangeFilter<'_>) -> Result<Vec<ExchangeRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, ExchangeRow>(concat!(
            exchange_select!(),
            " WHERE ($1 IS NULL OR state = $1) AND ($2 IS NULL OR item_id = $2) \
             AND ($3 IS NULL OR customer_id = $3) AND ($4 IS NULL OR kind = $4) \
             AND ($5 IS NULL OR id < $5) ORDER BY id DESC LIMIT $6"
        ))
        .bind(f.state)
        .bind(f.item_id)
        .bind(f.customer_id)
        .bind(f.kind)
        .bind(f.before)
        .bind(f.limit)
        .fetch_all(pool)
        .await?)
    })
}

/// Exchanges awaiting payment past their window (ascending id, after `after`), for the
/// expiry run.
pub async fn due_exchanges(db: &Db, now: i64, after: i64, limit: i64) -> Result<Vec<i64>> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar(
            "SELECT id FROM mall_exchanges WHERE state = 'awaiting_payment' AND pay_by <= $1 \
             AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(now)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// Move a merged-away customer's exchanges to the survivor.
pub async fn on_merge_in(tx: &mut Tx, survivor: i64, loser: i64, now: i64) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE mall_exchanges SET customer_id = $1, updated_at = $2 WHERE customer_id = $3",
        )
        .bind(survivor)
        .bind(now)
        .bind(loser)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}
