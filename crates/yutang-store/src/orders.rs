//! Orders, their lines and refunds.

use serde::Serialize;
use sqlx::FromRow;
use yutang_core::money::Fen;
use yutang_core::orders::OrderStatus;

use crate::Db;
use crate::customers::Scope;
use crate::error::{Result, StoreError};
pub use crate::txn::NewOrder;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct OrderRow {
    pub id: i64,
    pub external_id: String,
    pub customer_id: i64,
    pub channel: String,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    pub guide_id: Option<i64>,
    pub guide_name: Option<String>,
    pub campaign: String,
    pub status: String,
    pub amount: i64,
    pub discount: i64,
    pub refunded_amount: i64,
    pub paid_at: i64,
    pub shipped_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct OrderLineRow {
    pub line_no: i64,
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub amount: i64,
}

macro_rules! order_select {
    () => {
        "SELECT o.id, o.external_id, o.customer_id, o.channel, o.store_id, s.name AS store_name, \
         o.guide_id, t.display_name AS guide_name, o.campaign, o.status, o.amount, o.discount, \
         o.refunded_amount, o.paid_at, o.shipped_at, o.completed_at, o.created_at, o.updated_at \
         FROM orders o JOIN customers c ON c.id = o.customer_id \
         LEFT JOIN stores s ON s.id = o.store_id LEFT JOIN staff t ON t.id = o.guide_id"
    };
}

macro_rules! order_where {
    () => {
        " WHERE ($1 IS NULL OR EXISTS (SELECT 1 FROM follows f JOIN staff ft ON ft.id = f.staff_id \
              WHERE f.customer_id = c.id AND f.state = 'active' AND ft.store_id = $1)) \
         AND ($2 IS NULL OR EXISTS (SELECT 1 FROM follows f \
              WHERE f.customer_id = c.id AND f.state = 'active' AND f.staff_id = $2)) \
         AND ($3 IS NULL OR o.customer_id = $3) AND ($4 IS NULL OR o.status = $4) \
         AND ($5 IS NULL OR o.store_id = $5)"
    };
}

#[derive(Debug, Clone, Default)]
pub struct OrderFilter<'a> {
    pub scope: Scope,
    pub customer_id: Option<i64>,
    pub status: Option<&'a str>,
    pub store_id: Option<i64>,
    pub limit: i64,
    pub offset: i64,
}

pub async fn list(db: &Db, f: &OrderFilter<'_>) -> Result<(Vec<OrderRow>, i64)> {
    db_run!(db, pool => {
        let rows = sqlx::query_as::<_, OrderRow>(concat!(
            order_select!(), order_where!(), " ORDER BY o.paid_at DESC, o.id DESC LIMIT $6 OFFSET $7"
        ))
        .bind(f.scope.store)
        .bind(f.scope.guide)
        .bind(f.customer_id)
        .bind(f.status)
        .bind(f.store_id)
        .bind(f.limit)
        .bind(f.offset)
        .fetch_all(pool)
        .await?;
        let total: i64 = sqlx::query_scalar(concat!(
            "SELECT COUNT(*) FROM orders o JOIN customers c ON c.id = o.customer_id", order_where!()
        ))
        .bind(f.scope.store)
        .bind(f.scope.guide)
        .bind(f.customer_id)
        .bind(f.status)
        .bind(f.store_id)
        .fetch_one(pool)
        .await?;
        Ok((rows, total))
    })
}

/// An order whose customer is within the scope.
pub async fn get(db: &Db, id: i64, scope: Scope) -> Result<OrderRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, OrderRow>(concat!(
            order_select!(), order_where!(), " AND o.id = $6"
        ))
        .bind(scope.store)
        .bind(scope.guide)
        .bind(None::<i64>)
        .bind(None::<&str>)
        .bind(None::<i64>)
        .bind(id)
        .fetch_one(pool)
        .await
        .map_err(StoreError::from)
    })
}

/// The order with this external id and the fingerprint it was stored with (`""`: unknown).
pub async fn find_by_external_id(db: &Db, external_id: &str) -> Result<Option<(i64, String)>> {
    db_run!(db, pool => {
        sqlx::query_as("SELECT id, fingerprint FROM orders WHERE external_id = $1")
            .bind(external_id)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::from)
    })
}

pub async fn lines(db: &Db, order: i64) -> Result<Vec<OrderLineRow>> {
    db_run!(db, pool => {
        sqlx::query_as::<_, OrderLineRow>(
            "SELECT line_no, sku, name, quantity, unit_price, amount FROM order_lines \
             WHERE order_id = $1 ORDER BY line_no",
        )
        .bind(order)
        .fetch_all(pool)
        .await
        .map_err(StoreError::from)
    })
}

/// Record an order (or find its earlier copy); `(id, created_now)`.
pub async fn create(db: &Db, o: &NewOrder<'_>, now: i64) -> Result<(i64, bool)> {
    tx_run!(db, create_order(o, now))
}

/// Record many orders in one transaction (imports); per order, whether it was created now.
pub async fn create_many(db: &Db, orders: &[NewOrder<'_>], now: i64) -> Result<Vec<bool>> {
    tx_run!(db, create_orders(orders, now))
}

pub async fn set_status(db: &Db, id: i64, to: OrderStatus, at: i64, now: i64) -> Result<()> {
    tx_run!(db, set_order_status(id, to, at, now))
}

/// Refund; `Ok(false)` for a replay of the same refund id.
pub async fn refund(
    db: &Db,
    id: i64,
    external_id: &str,
    amount: Fen,
    at: i64,
    now: i64,
) -> Result<bool> {
    tx_run!(db, refund_order(id, external_id, amount, at, now))
}
