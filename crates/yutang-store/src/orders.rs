//! Orders, their lines and refunds.

use serde::Serialize;
use sqlx::FromRow;
use yutang_core::money::Fen;
use yutang_core::orders::{OrderLine, OrderStatus};

use crate::Db;
use crate::customers::Scope;
use crate::error::{Result, StoreError};

/// An order as written, already validated and resolved.
#[derive(Debug, Clone)]
pub struct NewOrder<'a> {
    pub external_id: &'a str,
    pub customer_id: i64,
    pub channel: &'a str,
    pub store_id: Option<i64>,
    pub guide_id: Option<i64>,
    pub campaign: &'a str,
    pub status: OrderStatus,
    pub amount: Fen,
    pub discount: Fen,
    pub paid_at: i64,
    pub lines: &'a [OrderLine],
    /// The fingerprint of the input as sent (`""`: unknown, e.g. imports): a later copy with
    /// the same external id and another fingerprint is refused (`external_id_reused`).
    pub fingerprint: &'a str,
}

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

/// This area's transactions: recording orders, fulfilment, refunds and the coupons they
/// return.
///
/// Written once and expanded into each engine's module (`txn::sqlite`, `txn::pg`) next to the
/// shared plumbing of [`crate::txn`] (see there for `$DB`, `$begin` and `$lock`). Names in the
/// body resolve where it is expanded: the transaction helpers (`Tx`, `append_event`, `audit`,
/// `refused`, …) and the imports of `txn.rs`.
macro_rules! order_txn_ops {
    ($DB:ty, $begin:literal, $lock:literal) => {
        /// A fully refunded order returns the coupons used on it whose template says so, in the
        /// refund's own transaction: exactly once, since only `used` coupons move.
        async fn return_coupons(tx: &mut Tx, order: i64, now: i64) -> Result<()> {
            use yutang_core::promotions::coupons::{CouponEvent, CouponState, TemplateSpec, transition};
            use yutang_core::time::Millis;
            let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(
                "SELECT c.id, c.customer_id, c.valid_until, t.spec FROM coupons c \
                 JOIN coupon_templates t ON t.id = c.template_id \
                 WHERE c.order_id = $1 AND c.state = 'used' ORDER BY c.id",
            )
            .bind(order)
            .fetch_all(&mut **tx)
            .await?;
            for (id, customer, until, spec) in rows {
                let spec: TemplateSpec =
                    serde_json::from_str(&spec).map_err(|e| refused("bad_record", e.to_string()))?;
                let ev = CouponEvent::Refund { return_on_refund: spec.return_on_refund };
                let Some(to) = transition(CouponState::Used, ev, Millis(now), Millis(until)) else {
                    continue;
                };
                let clear = if to == CouponState::Claimed {
                    "UPDATE coupons SET state = $1, updated_at = $2, order_id = NULL, discount_fen = 0, \
                     used_at = NULL WHERE id = $3 AND state = 'used'"
                } else {
                    "UPDATE coupons SET state = $1, updated_at = $2 WHERE id = $3 AND state = 'used'"
                };
                let n = sqlx::query(clear)
                    .bind(to.as_str())
                    .bind(now)
                    .bind(id)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                if n == 1 {
                    let d = detail(serde_json::json!({"coupon_id": id, "from": "used", "to": to.as_str()}));
                    append_event(tx, customer, "coupon_returned", now, None, &d, now).await?;
                }
            }
            Ok(())
        }

        /// Insert an order with its lines and its `order_paid` event unless its external id
        /// is stored already; the caller refreshes the customer's aggregates.
        async fn insert_order(tx: &mut Tx, o: &NewOrder<'_>, now: i64) -> Result<(i64, bool)> {
            let existing: Option<(i64, String)> =
                sqlx::query_as("SELECT id, fingerprint FROM orders WHERE external_id = $1")
                    .bind(o.external_id)
                    .fetch_optional(&mut **tx)
                    .await?;
            if let Some((id, stored)) = existing {
                if !stored.is_empty() && !o.fingerprint.is_empty() && stored != o.fingerprint {
                    return Err(refused(
                        "external_id_reused",
                        "this external_id was already used for a different order",
                    ));
                }
                return Ok((id, false));
            }
            let shipped = matches!(o.status, OrderStatus::Shipped | OrderStatus::Completed).then_some(o.paid_at);
            let completed = (o.status == OrderStatus::Completed).then_some(o.paid_at);
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO orders (external_id, customer_id, channel, store_id, guide_id, campaign, status, \
                 amount, discount, refunded_amount, paid_at, shipped_at, completed_at, created_at, updated_at, \
                 fingerprint) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11, $12, $13, $13, $14) RETURNING id",
            )
            .bind(o.external_id)
            .bind(o.customer_id)
            .bind(o.channel)
            .bind(o.store_id)
            .bind(o.guide_id)
            .bind(o.campaign)
            .bind(o.status.as_str())
            .bind(o.amount.0)
            .bind(o.discount.0)
            .bind(o.paid_at)
            .bind(shipped)
            .bind(completed)
            .bind(now)
            .bind(o.fingerprint)
            .fetch_one(&mut **tx)
            .await
            .map_err(|e| StoreError::classify(e, "external_id"))?;
            for (n, l) in o.lines.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO order_lines (order_id, line_no, sku, name, quantity, unit_price, amount) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(id)
                .bind(n as i64 + 1)
                .bind(&l.sku)
                .bind(&l.name)
                .bind(l.quantity)
                .bind(l.unit_price.0)
                .bind(l.amount().map(|a| a.0).unwrap_or(0))
                .execute(&mut **tx)
                .await?;
            }
            let d = detail(serde_json::json!({
                "order_id": id, "external_id": o.external_id, "amount_fen": o.amount.0,
                "channel": o.channel, "store_id": o.store_id,
            }));
            append_event(tx, o.customer_id, "order_paid", o.paid_at, o.guide_id, &d, now).await?;
            Ok((id, true))
        }

        /// Record an order, or find the one with the same external id (replay). Returns the
        /// order id and whether it was created now.
        pub async fn create_order(pool: &Pool<$DB>, o: &NewOrder<'_>, now: i64) -> Result<(i64, bool)> {
            let mut tx = pool.begin_with($begin).await?;
            let (id, created) = insert_order(&mut tx, o, now).await?;
            if created {
                refresh_aggregates(&mut tx, o.customer_id, now).await?;
                tx.commit().await?;
            }
            Ok((id, created))
        }

        /// Record many orders in one transaction (imports); each customer's aggregates are
        /// refreshed once. Returns, per order, whether it was created now.
        pub async fn create_orders(pool: &Pool<$DB>, orders: &[NewOrder<'_>], now: i64) -> Result<Vec<bool>> {
            let mut tx = pool.begin_with($begin).await?;
            let mut out = Vec::with_capacity(orders.len());
            let mut touched: Vec<i64> = Vec::new();
            for o in orders {
                let (_, created) = insert_order(&mut tx, o, now).await?;
                if created {
                    touched.push(o.customer_id);
                }
                out.push(created);
            }
            touched.sort_unstable();
            touched.dedup();
            for c in touched {
                refresh_aggregates(&mut tx, c, now).await?;
            }
            tx.commit().await?;
            Ok(out)
        }

        /// Move an order along fulfilment (shipped, completed). Repeating the current status
        /// changes nothing.
        pub async fn set_order_status(pool: &Pool<$DB>, id: i64, to: OrderStatus, at: i64, now: i64) -> Result<()> {
            let mut tx = pool.begin_with($begin).await?;
            let (status, customer): (String, i64) =
                sqlx::query_as(concat!("SELECT status, customer_id FROM orders WHERE id = $1", $lock))
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
            let cur = OrderStatus::parse("status", &status)?;
            if !cur.can_move_to(to) {
                return Err(refused(
                    "invalid_transition",
                    format!("an order that is {} cannot become {}", cur.as_str(), to.as_str()),
                ));
            }
            if cur == to {
                return Ok(());
            }
            let (sql, kind) = match to {
                OrderStatus::Shipped => (
                    "UPDATE orders SET status = $1, shipped_at = $2, updated_at = $3 WHERE id = $4",
                    "order_shipped",
                ),
                _ => (
                    "UPDATE orders SET status = $1, completed_at = $2, shipped_at = COALESCE(shipped_at, $2), \
                     updated_at = $3 WHERE id = $4",
                    "order_completed",
                ),
            };
            sqlx::query(sql)
                .bind(to.as_str())
                .bind(at)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let d = detail(serde_json::json!({"order_id": id}));
            append_event(&mut tx, customer, kind, at, None, &d, now).await?;
            tx.commit().await?;
            Ok(())
        }

        /// Refund part or all of an order, idempotent by the refund's external id. Returns
        /// whether the refund was applied now (false: a replay).
        pub async fn refund_order(
            pool: &Pool<$DB>,
            id: i64,
            external_id: &str,
            amount: Fen,
            at: i64,
            now: i64,
        ) -> Result<bool> {
            let mut tx = pool.begin_with($begin).await?;
            // Lock the order first: concurrent refunds of it queue here, and each reads the
            // refunded amount (and any refund with the same id) the one before committed.
            let (paid, refunded, customer): (i64, i64, i64) = sqlx::query_as(concat!(
                "SELECT amount, refunded_amount, customer_id FROM orders WHERE id = $1",
                $lock
            ))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            let prior: Option<(i64, i64)> =
                sqlx::query_as("SELECT order_id, amount FROM order_refunds WHERE external_id = $1")
                    .bind(external_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some((order, amt)) = prior {
                if order != id || amt != amount.0 {
                    return Err(refused(
                        "refund_id_reused",
                        "this refund id was already used for another order or amount",
                    ));
                }
                return Ok(false);
            }
            let (total, status) = apply_refund(Fen(paid), Fen(refunded), amount)?;
            sqlx::query("UPDATE orders SET refunded_amount = $1, status = $2, updated_at = $3 WHERE id = $4")
                .bind(total.0)
                .bind(status.as_str())
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO order_refunds (order_id, external_id, amount, refunded_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(external_id)
            .bind(amount.0)
            .bind(at)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::classify(e, "refund_id"))?;
            let d = detail(serde_json::json!({
                "order_id": id, "refund_id": external_id, "amount_fen": amount.0, "status": status.as_str(),
            }));
            append_event(&mut tx, customer, "order_refunded", at, None, &d, now).await?;
            if status == OrderStatus::Refunded {
                return_coupons(&mut tx, id, now).await?;
            }
            refresh_aggregates(&mut tx, customer, now).await?;
            tx.commit().await?;
            Ok(true)
        }
    };
}

pub(crate) use order_txn_ops;
