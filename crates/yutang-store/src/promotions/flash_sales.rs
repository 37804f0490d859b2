//! Flash sales: the sale, a customer's claim that holds one unit, paying or releasing it.

use super::*;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct FlashSaleRow {
    pub id: i64,
    pub name: String,
    pub spec: String,
    pub price_fen: i64,
    pub stock: i64,
    pub sold: i64,
    pub per_customer: i64,
    pub hold_minutes: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct FlashClaimRow {
    pub id: i64,
    pub sale_id: i64,
    pub customer_id: i64,
    pub seq: i64,
    pub state: String,
    pub hold_until: i64,
    pub order_ref: Option<String>,
    pub claimed_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlashClaimed {
    pub claim_id: i64,
    pub hold_until: i64,
}

// --- flash sales ---

#[derive(Debug, Clone)]
pub struct FlashSaleWrite<'a> {
    pub name: &'a str,
    pub spec: &'a str,
    pub price_fen: i64,
    pub stock: i64,
    pub per_customer: i64,
    pub hold_minutes: i64,
    pub starts_at: i64,
    pub ends_at: i64,
}

pub async fn create_flash_sale_in(
    tx: &mut Tx,
    f: &FlashSaleWrite<'_>,
    by: Option<i64>,
    now: i64,
) -> Result<i64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO flash_sales (name, spec, price_fen, stock, per_customer, hold_minutes, \
             starts_at, ends_at, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
        )
        .bind(f.name)
        .bind(f.spec)
        .bind(f.price_fen)
        .bind(f.stock)
        .bind(f.per_customer)
        .bind(f.hold_minutes)
        .bind(f.starts_at)
        .bind(f.ends_at)
        .bind(by)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?)
    })
}

pub async fn update_flash_sale_in(
    tx: &mut Tx,
    id: i64,
    f: &FlashSaleWrite<'_>,
    now: i64,
) -> Result<()> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE flash_sales SET name = $1, spec = $2, price_fen = $3, stock = $4, per_customer = $5, \
             hold_minutes = $6, starts_at = $7, ends_at = $8, updated_at = $9 \
             WHERE id = $10 AND status IN ('active', 'draft') AND sold <= $4",
        )
        .bind(f.name)
        .bind(f.spec)
        .bind(f.price_fen)
        .bind(f.stock)
        .bind(f.per_customer)
        .bind(f.hold_minutes)
        .bind(f.starts_at)
        .bind(f.ends_at)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    if n == 1 {
        return Ok(());
    }
    Err(stock_refusal(tx, "flash_sales", id, "claimed").await?)
}

macro_rules! flash_select {
    () => {
        "SELECT id, name, spec, price_fen, stock, sold, per_customer, hold_minutes, starts_at, \
         ends_at, status, created_at, updated_at FROM flash_sales"
    };
}

pub async fn get_flash_sale(db: &Db, id: i64) -> Result<FlashSaleRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, FlashSaleRow>(concat!(flash_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// Active campaigns (and, with `all`, archived ones too), latest first.
pub async fn list_flash_sales(db: &Db, all: bool) -> Result<Vec<FlashSaleRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, FlashSaleRow>(concat!(
            flash_select!(),
            " WHERE ($1 OR status = 'active') ORDER BY starts_at DESC, id DESC"
        ))
        .bind(all)
        .fetch_all(pool)
        .await?)
    })
}

/// Per sale: claims held, paid, released.
pub async fn flash_counts(db: &Db, sale: i64) -> Result<CampaignCounts> {
    db_run!(db, pool => {
        let (a, b, c): (i64, i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN state = 'held' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN state = 'paid' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN state = 'released' THEN 1 ELSE 0 END), 0) \
             FROM flash_sale_claims WHERE sale_id = $1",
        )
        .bind(sale)
        .fetch_one(pool)
        .await?;
        Ok(CampaignCounts { a, b, c })
    })
}

pub async fn flash_claims_of(db: &Db, sale: i64, customer: i64) -> Result<Vec<FlashClaimRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, FlashClaimRow>(
            "SELECT id, sale_id, customer_id, seq, state, hold_until, order_ref, claimed_at \
             FROM flash_sale_claims WHERE sale_id = $1 AND customer_id = $2 ORDER BY id",
        )
        .bind(sale)
        .bind(customer)
        .fetch_all(pool)
        .await?)
    })
}

pub async fn get_flash_claim(db: &Db, id: i64) -> Result<FlashClaimRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, FlashClaimRow>(
            "SELECT id, sale_id, customer_id, seq, state, hold_until, order_ref, claimed_at \
             FROM flash_sale_claims WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)
    })
}

/// A flash sale read under its row lock, for a claim's decision.
pub async fn lock_flash_sale_in(tx: &mut Tx, id: i64) -> Result<Option<FlashSaleRow>> {
    let lock = tx.row_lock();
    Ok(in_tx!(tx, conn => {
        sqlx::query_as::<_, FlashSaleRow>(sqlx::AssertSqlSafe(format!(
            "{} WHERE id = $1{lock}",
            flash_select!()
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    }))
}

/// A customer's claims of a sale: `(not released, all)`. Read after the sale's row lock, so
/// on PostgreSQL it sees every claim committed before this one could take the lock.
pub async fn claim_counts_in(tx: &mut Tx, sale: i64, customer: i64) -> Result<(i64, i64)> {
    Ok(in_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN state <> 'released' THEN 1 ELSE 0 END), 0), COUNT(*) \
             FROM flash_sale_claims WHERE sale_id = $1 AND customer_id = $2",
        )
        .bind(sale)
        .bind(customer)
        .fetch_one(&mut *conn)
        .await?
    }))
}

/// A winning claim to write: the customer's `seq`-th claim of the sale, held until
/// `hold_until`.
#[derive(Debug, Clone, Copy)]
pub struct NewFlashClaim {
    pub sale: i64,
    pub customer: i64,
    pub seq: i64,
    pub hold_until: i64,
}

/// Write a winning claim. `UNIQUE (sale_id, customer_id, seq)` is the backstop of the
/// per-customer limit: a duplicate is `limit_reached`.
pub async fn insert_flash_claim_in(tx: &mut Tx, c: &NewFlashClaim, now: i64) -> Result<i64> {
    Ok(in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO flash_sale_claims (sale_id, customer_id, seq, hold_until, claimed_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(c.sale)
        .bind(c.customer)
        .bind(c.seq)
        .bind(c.hold_until)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| insert_refusal(e, "customer_id", refused("limit_reached", "you have reached the limit for this promotion")))?
    }))
}

/// A claim read under its row lock, for a pay or release decision.
pub async fn lock_flash_claim_in(tx: &mut Tx, id: i64) -> Result<Option<FlashClaimRow>> {
    let lock = tx.row_lock();
    Ok(in_tx!(tx, conn => {
        sqlx::query_as::<_, FlashClaimRow>(sqlx::AssertSqlSafe(format!(
            "SELECT id, sale_id, customer_id, seq, state, hold_until, order_ref, claimed_at \
             FROM flash_sale_claims WHERE id = $1{lock}"
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    }))
}

/// Move a claim's hold from `from` to `to` (with the order that paid it); `false` when it was
/// not in `from` any more (the guard behind the caller's decision).
pub async fn set_hold_in(
    tx: &mut Tx,
    claim: i64,
    from: &str,
    to: &str,
    order_ref: Option<&str>,
    now: i64,
) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE flash_sale_claims SET state = $1, order_ref = COALESCE($2, order_ref), \
             updated_at = $3 WHERE id = $4 AND state = $5",
        )
        .bind(to)
        .bind(order_ref)
        .bind(now)
        .bind(claim)
        .bind(from)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(n == 1)
}
