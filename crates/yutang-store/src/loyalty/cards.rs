//! Paid member card rows (migration 0025): card products, each customer's paid periods, the
//! savings of each period (one row per cause), the monthly packs given and the refund
//! instructions of the savings guarantee.

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::customers::Scope;
use crate::error::Result;
use crate::tx::Tx;

/// A card product (the monthly pack is a JSON array of template ids; the guarantee 0 or 1).
#[derive(Debug, Clone, PartialEq, Eq, FromRow, Serialize)]
pub struct ProductRow {
    pub id: i64,
    pub card_key: String,
    pub name: String,
    pub period_days: i64,
    pub price_fen: i64,
    pub points_multiplier: i64,
    pub monthly_coupon_template_ids: String,
    pub savings_guarantee: i64,
    pub archived_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! product_select {
    () => {
        "SELECT id, card_key, name, period_days, price_fen, points_multiplier, \
         monthly_coupon_template_ids, savings_guarantee, archived_at, created_at, updated_at \
         FROM card_products"
    };
}

/// What a save writes of a product.
#[derive(Debug, Clone, Copy)]
pub struct ProductWrite<'a> {
    pub key: &'a str,
    pub name: &'a str,
    pub period_days: i64,
    pub price_fen: i64,
    pub points_multiplier: i64,
    pub monthly_coupon_template_ids: &'a str,
    pub savings_guarantee: bool,
}

/// One purchase's period, with its card's key and name.
#[derive(Debug, Clone, PartialEq, Eq, FromRow, Serialize)]
pub struct PeriodRow {
    pub id: i64,
    pub customer_id: i64,
    pub card_id: i64,
    pub card_key: String,
    pub card_name: String,
    pub order_no: String,
    #[serde(skip)]
    pub fingerprint: String,
    pub paid_fen: i64,
    pub points_multiplier: i64,
    pub savings_guarantee: i64,
    pub renewal: i64,
    pub paid_at: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    pub status: String,
    pub savings_fen: i64,
    pub refund_reason: String,
    pub closed_at: Option<i64>,
    pub created_at: i64,
}

macro_rules! period_select {
    () => {
        "SELECT p.id, p.customer_id, p.card_id, k.card_key, k.name AS card_name, p.order_no, \
         p.fingerprint, p.paid_fen, p.points_multiplier, p.savings_guarantee, p.renewal, \
         p.paid_at, p.starts_at, p.ends_at, p.status, p.savings_fen, p.refund_reason, \
         p.closed_at, p.created_at FROM card_periods p JOIN card_products k ON k.id = p.card_id"
    };
}

/// A period to write.
#[derive(Debug, Clone, Copy)]
pub struct NewPeriod<'a> {
    pub customer_id: i64,
    pub card_id: i64,
    pub order_no: &'a str,
    pub fingerprint: &'a str,
    pub paid_fen: i64,
    pub points_multiplier: i64,
    pub savings_guarantee: bool,
    pub renewal: bool,
    pub paid_at: i64,
    pub starts_at: i64,
    pub ends_at: i64,
}

/// One saving of a period.
#[derive(Debug, Clone, PartialEq, Eq, FromRow, Serialize)]
pub struct SavingRow {
    pub id: i64,
    pub period_id: i64,
    pub cause: String,
    pub amount_fen: i64,
    pub created_at: i64,
}

/// A refund instruction, with its customer's name.
#[derive(Debug, Clone, PartialEq, Eq, FromRow, Serialize)]
pub struct RefundRow {
    pub id: i64,
    pub period_id: i64,
    pub customer_id: i64,
    pub customer_name: String,
    pub order_no: String,
    pub paid_fen: i64,
    pub savings_fen: i64,
    pub amount_fen: i64,
    pub status: String,
    pub created_at: i64,
    pub acknowledged_at: Option<i64>,
    pub acknowledged_by: String,
}

macro_rules! refund_select {
    () => {
        "SELECT r.id, r.period_id, r.customer_id, c.name AS customer_name, r.order_no, \
         r.paid_fen, r.savings_fen, r.amount_fen, r.status, r.created_at, r.acknowledged_at, \
         r.acknowledged_by FROM card_refunds r JOIN customers c ON c.id = r.customer_id"
    };
}

/// A member holding a card now, as its list shows them.
#[derive(Debug, Clone, PartialEq, Eq, FromRow, Serialize)]
pub struct CardMemberRow {
    pub customer_id: i64,
    pub name: String,
    pub period_id: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    pub paid_fen: i64,
    pub savings_fen: i64,
}

pub async fn products(db: &Db, archived: bool) -> Result<Vec<ProductRow>> {
    let sql = if archived {
        concat!(product_select!(), " ORDER BY id")
    } else {
        concat!(product_select!(), " WHERE archived_at IS NULL ORDER BY id")
    };
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, ProductRow>(sql).fetch_all(pool).await?)
    })
}

pub async fn product(db: &Db, id: i64) -> Result<Option<ProductRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, ProductRow>(concat!(product_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?)
    })
}

/// A product by key, archived ones too, locked until `tx` ends.
pub async fn lock_product_by_key_in(tx: &mut Tx, key: &str) -> Result<Option<ProductRow>> {
    let sql = format!("{} WHERE card_key = $1{}", product_select!(), tx.row_lock());
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, ProductRow>(sqlx::AssertSqlSafe(sql))
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?)
    })
}

/// A product by id, locked until `tx` ends.
pub async fn lock_product_in(tx: &mut Tx, id: i64) -> Result<Option<ProductRow>> {
    let sql = format!("{} WHERE id = $1{}", product_select!(), tx.row_lock());
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, ProductRow>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?)
    })
}

pub async fn product_in(tx: &mut Tx, id: i64) -> Result<Option<ProductRow>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, ProductRow>(concat!(product_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?)
    })
}

/// Create a product; `None` when the key is taken.
pub async fn insert_product_in(tx: &mut Tx, p: &ProductWrite<'_>, now: i64) -> Result<Option<i64>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO card_products (card_key, name, period_days, price_fen, points_multiplier, \
             monthly_coupon_template_ids, savings_guarantee, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT (card_key) DO NOTHING RETURNING id",
        )
        .bind(p.key)
        .bind(p.name)
        .bind(p.period_days)
        .bind(p.price_fen)
        .bind(p.points_multiplier)
        .bind(p.monthly_coupon_template_ids)
        .bind(i64::from(p.savings_guarantee))
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?)
    })
}

/// Update a product (its key too) and bring it back when archived.
pub async fn update_product_in(tx: &mut Tx, id: i64, p: &ProductWrite<'_>, now: i64) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE card_products SET card_key = $2, name = $3, period_days = $4, price_fen = $5, \
             points_multiplier = $6, monthly_coupon_template_ids = $7, savings_guarantee = $8, \
             archived_at = NULL, updated_at = $9 WHERE id = $1",
        )
        .bind(id)
        .bind(p.key)
        .bind(p.name)
        .bind(p.period_days)
        .bind(p.price_fen)
        .bind(p.points_multiplier)
        .bind(p.monthly_coupon_template_ids)
        .bind(i64::from(p.savings_guarantee))
        .bind(now)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// Stop selling a product (bought periods run on).
pub async fn archive_product_in(tx: &mut Tx, id: i64, now: i64) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query("UPDATE card_products SET archived_at = $2, updated_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// Members holding each card at `now`, within a scope: `(card id, count)`.
pub async fn member_counts(db: &Db, scope: Scope, now: i64) -> Result<Vec<(i64, i64)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(concat!(
            "SELECT p.card_id, COUNT(DISTINCT p.customer_id) FROM card_periods p \
             JOIN customers c ON c.id = p.customer_id WHERE c.merged_into IS NULL AND ",
            scope_condition!(),
            " AND p.status = 'active' AND p.starts_at <= $3 AND p.ends_at > $3 GROUP BY p.card_id"
        ))
        .bind(scope.store)
        .bind(scope.guide)
        .bind(now)
        .fetch_all(pool)
        .await?)
    })
}

/// A card's members at `now` within a scope, latest to start first, and how many.
pub async fn members(
    db: &Db,
    card: i64,
    scope: Scope,
    now: i64,
    limit: i64,
    offset: i64,
) -> Result<(Vec<CardMemberRow>, i64)> {
    const FROM: &str = concat!(
        " FROM card_periods p JOIN customers c ON c.id = p.customer_id \
         WHERE c.merged_into IS NULL AND ",
        scope_condition!(),
        " AND p.card_id = $3 AND p.status = 'active' AND p.starts_at <= $4 AND p.ends_at > $4"
    );
    let page = format!(
        "SELECT p.customer_id, c.name, p.id AS period_id, p.starts_at, p.ends_at, p.paid_fen, \
         p.savings_fen{FROM} ORDER BY p.starts_at DESC, p.id DESC LIMIT $5 OFFSET $6"
    );
    let count = format!("SELECT COUNT(*){FROM}");
    db_run!(db, pool => {
        let rows = sqlx::query_as::<_, CardMemberRow>(sqlx::AssertSqlSafe(page))
            .bind(scope.store)
            .bind(scope.guide)
            .bind(card)
            .bind(now)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count))
            .bind(scope.store)
            .bind(scope.guide)
            .bind(card)
            .bind(now)
            .fetch_one(pool)
            .await?;
        Ok((rows, total))
    })
}

pub async fn period_by_order_no_in(tx: &mut Tx, order_no: &str) -> Result<Option<PeriodRow>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, PeriodRow>(concat!(period_select!(), " WHERE p.order_no = $1"))
            .bind(order_no)
            .fetch_optional(&mut *conn)
            .await?)
    })
}

pub async fn period_by_order_no(db: &Db, order_no: &str) -> Result<Option<PeriodRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, PeriodRow>(concat!(period_select!(), " WHERE p.order_no = $1"))
            .bind(order_no)
            .fetch_optional(pool)
            .await?)
    })
}

/// A period, locked until `tx` ends.
pub async fn lock_period_in(tx: &mut Tx, id: i64) -> Result<Option<PeriodRow>> {
    let lock = tx.row_lock();
    let id_locked: Option<i64> = in_tx!(tx, conn => {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM card_periods WHERE id = $1{lock}"
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    });
    let Some(id) = id_locked else {
        return Ok(None);
    };
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, PeriodRow>(concat!(period_select!(), " WHERE p.id = $1"))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?)
    })
}

/// The id of the customer's period covering `at` that is still active (not refunded, not
/// settled), locked until `tx` ends.
pub async fn lock_covering_in(tx: &mut Tx, customer: i64, at: i64) -> Result<Option<i64>> {
    let lock = tx.row_lock();
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM card_periods WHERE customer_id = $1 AND status = 'active' \
             AND starts_at <= $2 AND ends_at > $2 ORDER BY starts_at, id LIMIT 1{lock}"
        )))
        .bind(customer)
        .bind(at)
        .fetch_optional(&mut *conn)
        .await?)
    })
}

/// The end of the customer's last period not refunded (none: never a member).
pub async fn last_end_in(tx: &mut Tx, customer: i64) -> Result<Option<i64>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "SELECT MAX(ends_at) FROM card_periods WHERE customer_id = $1 AND status <> 'refunded'",
        )
        .bind(customer)
        .fetch_one(&mut *conn)
        .await?)
    })
}

pub async fn insert_period_in(tx: &mut Tx, p: &NewPeriod<'_>, now: i64) -> Result<i64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO card_periods (customer_id, card_id, order_no, fingerprint, paid_fen, \
             points_multiplier, savings_guarantee, renewal, paid_at, starts_at, ends_at, \
             created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
        )
        .bind(p.customer_id)
        .bind(p.card_id)
        .bind(p.order_no)
        .bind(p.fingerprint)
        .bind(p.paid_fen)
        .bind(p.points_multiplier)
        .bind(i64::from(p.savings_guarantee))
        .bind(i64::from(p.renewal))
        .bind(p.paid_at)
        .bind(p.starts_at)
        .bind(p.ends_at)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?)
    })
}

/// Close an active period (locked by the caller): `refunded` (ending it at `ends_at`) or
/// `settled`. `false` when it was not active any more.
pub async fn close_period_in(
    tx: &mut Tx,
    id: i64,
    status: &str,
    ends_at: i64,
    reason: &str,
    now: i64,
) -> Result<bool> {
    in_tx!(tx, conn => {
        let r = sqlx::query(
            "UPDATE card_periods SET status = $2, ends_at = $3, refund_reason = $4, \
             closed_at = $5, updated_at = $5 WHERE id = $1 AND status = 'active'",
        )
        .bind(id)
        .bind(status)
        .bind(ends_at)
        .bind(reason)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        Ok(r.rows_affected() == 1)
    })
}

/// Add a saving to an active period (locked by the caller) unless `cause` was counted
/// already; `true` when added now.
pub async fn add_savings_in(
    tx: &mut Tx,
    period: i64,
    customer: i64,
    cause: &str,
    amount: i64,
    now: i64,
) -> Result<bool> {
    in_tx!(tx, conn => {
        let r = sqlx::query(
            "INSERT INTO card_savings (period_id, customer_id, cause, amount_fen, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (cause) DO NOTHING",
        )
        .bind(period)
        .bind(customer)
        .bind(cause)
        .bind(amount)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        if r.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE card_periods SET savings_fen = savings_fen + $2, updated_at = $3 \
             WHERE id = $1 AND status = 'active'",
        )
        .bind(period)
        .bind(amount)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        Ok(true)
    })
}

/// A customer's periods, latest first.
pub async fn periods_of(db: &Db, customer: i64, limit: i64) -> Result<Vec<PeriodRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, PeriodRow>(concat!(
            period_select!(),
            " WHERE p.customer_id = $1 ORDER BY p.starts_at DESC, p.id DESC LIMIT $2"
        ))
        .bind(customer)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// A customer's savings, newest first.
pub async fn savings_of(db: &Db, customer: i64, limit: i64) -> Result<Vec<SavingRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, SavingRow>(
            "SELECT id, period_id, cause, amount_fen, created_at FROM card_savings \
             WHERE customer_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(customer)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// The points multiplier of the customer's card covering `at` (none: no card then).
pub async fn multiplier_in(tx: &mut Tx, customer: i64, at: i64) -> Result<Option<i64>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "SELECT MAX(points_multiplier) FROM card_periods WHERE customer_id = $1 \
             AND status = 'active' AND starts_at <= $2 AND ends_at > $2",
        )
        .bind(customer)
        .bind(at)
        .fetch_one(&mut *conn)
        .await?)
    })
}

/// Active periods that ended by `now`, oldest end first.
pub async fn due(db: &Db, now: i64, limit: i64) -> Result<Vec<i64>> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar(
            "SELECT id FROM card_periods WHERE status = 'active' AND ends_at <= $1 \
             ORDER BY ends_at, id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// Write the refund instruction of a period unless it has one; `true` when written now.
#[allow(clippy::too_many_arguments)]
pub async fn insert_refund_in(
    tx: &mut Tx,
    period: i64,
    customer: i64,
    order_no: &str,
    paid_fen: i64,
    savings_fen: i64,
    amount_fen: i64,
    now: i64,
) -> Result<bool> {
    in_tx!(tx, conn => {
        let r = sqlx::query(
            "INSERT INTO card_refunds (period_id, customer_id, order_no, paid_fen, savings_fen, \
             amount_fen, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (period_id) DO NOTHING",
        )
        .bind(period)
        .bind(customer)
        .bind(order_no)
        .bind(paid_fen)
        .bind(savings_fen)
        .bind(amount_fen)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        Ok(r.rows_affected() == 1)
    })
}

/// Refund instructions within a scope (`status` none: all), newest first, and how many.
pub async fn refunds(
    db: &Db,
    status: Option<&str>,
    scope: Scope,
    limit: i64,
    offset: i64,
) -> Result<(Vec<RefundRow>, i64)> {
    const WHERE: &str = concat!(
        " WHERE ",
        scope_condition!(),
        " AND ($3 IS NULL OR r.status = $3)"
    );
    let page = format!(
        "{}{WHERE} ORDER BY r.id DESC LIMIT $4 OFFSET $5",
        refund_select!()
    );
    let count = format!(
        "SELECT COUNT(*) FROM card_refunds r JOIN customers c ON c.id = r.customer_id{WHERE}"
    );
    db_run!(db, pool => {
        let rows = sqlx::query_as::<_, RefundRow>(sqlx::AssertSqlSafe(page))
            .bind(scope.store)
            .bind(scope.guide)
            .bind(status)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count))
            .bind(scope.store)
            .bind(scope.guide)
            .bind(status)
            .fetch_one(pool)
            .await?;
        Ok((rows, total))
    })
}

pub async fn refund(db: &Db, id: i64) -> Result<Option<RefundRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, RefundRow>(concat!(refund_select!(), " WHERE r.id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?)
    })
}

/// The refund instruction of a period, if any.
pub async fn refund_of_period(db: &Db, period: i64) -> Result<Option<RefundRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, RefundRow>(concat!(refund_select!(), " WHERE r.period_id = $1"))
            .bind(period)
            .fetch_optional(pool)
            .await?)
    })
}

/// Mark a pending refund paid; `false` when it was not pending (acknowledged before).
pub async fn acknowledge_refund_in(tx: &mut Tx, id: i64, by: &str, now: i64) -> Result<bool> {
    in_tx!(tx, conn => {
        let r = sqlx::query(
            "UPDATE card_refunds SET status = 'acknowledged', acknowledged_at = $2, \
             acknowledged_by = $3 WHERE id = $1 AND status = 'pending'",
        )
        .bind(id)
        .bind(now)
        .bind(by)
        .execute(&mut *conn)
        .await?;
        Ok(r.rows_affected() == 1)
    })
}

/// Customers after `after` holding a card at `now` (the monthly pack pages through them).
pub async fn holders_after(db: &Db, after: i64, now: i64, limit: i64) -> Result<Vec<i64>> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT customer_id FROM card_periods WHERE customer_id > $1 \
             AND status = 'active' AND starts_at <= $2 AND ends_at > $2 \
             ORDER BY customer_id LIMIT $3",
        )
        .bind(after)
        .bind(now)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// The customer's period covering `at` (active) with its product's monthly pack.
pub async fn covering_pack_in(
    tx: &mut Tx,
    customer: i64,
    at: i64,
) -> Result<Option<(i64, String)>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as(
            "SELECT p.id, k.monthly_coupon_template_ids FROM card_periods p \
             JOIN card_products k ON k.id = p.card_id WHERE p.customer_id = $1 \
             AND p.status = 'active' AND p.starts_at <= $2 AND p.ends_at > $2 \
             ORDER BY p.starts_at, p.id LIMIT 1",
        )
        .bind(customer)
        .bind(at)
        .fetch_optional(&mut *conn)
        .await?)
    })
}

/// Record this month's pack unless it was; answers the period and templates of the row that
/// stands (this one or the earlier one).
pub async fn grant_in(
    tx: &mut Tx,
    customer: i64,
    month: &str,
    period: i64,
    template_ids: &str,
    now: i64,
) -> Result<(i64, String)> {
    in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO card_grants (customer_id, month, period_id, template_ids, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (customer_id, month) DO NOTHING",
        )
        .bind(customer)
        .bind(month)
        .bind(period)
        .bind(template_ids)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        Ok(sqlx::query_as(
            "SELECT period_id, template_ids FROM card_grants WHERE customer_id = $1 AND month = $2",
        )
        .bind(customer)
        .bind(month)
        .fetch_one(&mut *conn)
        .await?)
    })
}

/// Remember coupons issued as a card's pack (again: nothing).
pub async fn record_coupons(
    db: &Db,
    coupons: &[i64],
    period: i64,
    customer: i64,
    now: i64,
) -> Result<()> {
    for c in coupons {
        db_run!(db, pool => {
            sqlx::query(
                "INSERT INTO card_coupons (coupon_id, period_id, customer_id, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (coupon_id) DO NOTHING",
            )
            .bind(c)
            .bind(period)
            .bind(customer)
            .bind(now)
            .execute(pool)
            .await?;
        });
    }
    Ok(())
}

/// Whether a coupon was issued as a card's pack.
pub async fn is_card_coupon_in(tx: &mut Tx, coupon: i64) -> Result<bool> {
    in_tx!(tx, conn => {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM card_coupons WHERE coupon_id = $1")
            .bind(coupon)
            .fetch_one(&mut *conn)
            .await?;
        Ok(n > 0)
    })
}

/// The first of `ids` that names no coupon template, if any.
pub async fn missing_template_in(tx: &mut Tx, ids: &[i64]) -> Result<Option<i64>> {
    super::tiers::missing_template_in(tx, ids).await
}
