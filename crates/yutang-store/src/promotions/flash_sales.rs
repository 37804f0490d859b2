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
             WHERE id = $10 AND status = 'active' AND sold <= $4",
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

pub async fn list_flash_sales(db: &Db) -> Result<Vec<FlashSaleRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, FlashSaleRow>(concat!(
            flash_select!(),
            " WHERE status = 'active' ORDER BY starts_at DESC, id DESC"
        ))
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

/// Claim one unit of a flash sale and hold it until `hold_until`.
pub async fn claim_flash_in(
    tx: &mut Tx,
    sale: i64,
    customer: i64,
    idem: Option<Idem<'_>>,
    now: i64,
) -> Result<(FlashClaimed, bool)> {
    if let Some(r) = idem_lookup(tx, customer, idem).await? {
        return Ok((from_record(&r)?, true));
    }
    if !take_unit(tx, "flash_sales", sale, now).await? {
        return Err(campaign_refusal(tx, "flash_sales", "flash sale", sale, now).await?);
    }
    let (active, total, limit, hold): (i64, i64, i64, i64) = in_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM flash_sale_claims WHERE sale_id = $1 AND customer_id = $2 AND state <> 'released'), \
             (SELECT COUNT(*) FROM flash_sale_claims WHERE sale_id = $1 AND customer_id = $2), \
             per_customer, hold_minutes FROM flash_sales WHERE id = $1",
        )
        .bind(sale)
        .bind(customer)
        .fetch_one(&mut *conn)
        .await?
    });
    if active >= limit {
        return Err(refused(
            "limit_reached",
            format!("at most {limit} per customer"),
        ));
    }
    let hold_until = now + hold * 60_000;
    let id: i64 = in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO flash_sale_claims (sale_id, customer_id, seq, hold_until, claimed_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(sale)
        .bind(customer)
        .bind(total + 1)
        .bind(hold_until)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| match StoreError::classify(e, "customer") {
            StoreError::Conflict { .. } => refused("limit_reached", format!("at most {limit} per customer")),
            other => other,
        })?
    });
    enqueue(
        tx,
        JOB_FLASH_RELEASE,
        &id.to_string(),
        hold_until,
        &format!("flash_hold:{id}"),
        now,
    )
    .await?;
    let d = serde_json::json!({"flash_sale_id": sale, "claim_id": id, "hold_until": hold_until});
    append_in(
        tx,
        customer,
        "flash_sale_claimed",
        now,
        None,
        &d.to_string(),
        now,
    )
    .await?;
    let out = FlashClaimed {
        claim_id: id,
        hold_until,
    };
    idem_store(tx, customer, idem, &to_record(&out)?, now).await?;
    Ok((out, false))
}

/// Mark a held claim paid (the brand's order system calls this).
pub async fn pay_flash_in(tx: &mut Tx, claim: i64, order_ref: &str, now: i64) -> Result<bool> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE flash_sale_claims SET state = 'paid', order_ref = $1, updated_at = $2 \
             WHERE id = $3 AND state = 'held' AND hold_until > $2",
        )
        .bind(order_ref)
        .bind(now)
        .bind(claim)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    if n == 1 {
        let (customer, sale): (i64, i64) = in_tx!(tx, conn => {
            sqlx::query_as("SELECT customer_id, sale_id FROM flash_sale_claims WHERE id = $1")
                .bind(claim)
                .fetch_one(&mut *conn)
                .await?
        });
        let d =
            serde_json::json!({"flash_sale_id": sale, "claim_id": claim, "order_ref": order_ref});
        append_in(
            tx,
            customer,
            "flash_sale_paid",
            now,
            None,
            &d.to_string(),
            now,
        )
        .await?;
    }
    Ok(n == 1)
}

/// Release an unpaid hold whose time is up: the unit returns to the stock once.
pub async fn release_flash_in(tx: &mut Tx, claim: i64, now: i64) -> Result<bool> {
    let row: Option<(i64, i64)> = in_tx!(tx, conn => {
        sqlx::query_as(
            "UPDATE flash_sale_claims SET state = 'released', updated_at = $1 \
             WHERE id = $2 AND state = 'held' AND hold_until <= $1 RETURNING customer_id, sale_id",
        )
        .bind(now)
        .bind(claim)
        .fetch_optional(&mut *conn)
        .await?
    });
    let Some((customer, sale)) = row else {
        return Ok(false);
    };
    in_tx!(tx, conn => {
        sqlx::query("UPDATE flash_sales SET sold = sold - 1 WHERE id = $1 AND sold > 0")
            .bind(sale)
            .execute(&mut *conn)
            .await?;
    });
    let d = serde_json::json!({"flash_sale_id": sale, "claim_id": claim});
    append_in(
        tx,
        customer,
        "flash_sale_released",
        now,
        None,
        &d.to_string(),
        now,
    )
    .await?;
    Ok(true)
}

pub async fn claim_flash(
    db: &Db,
    sale: i64,
    customer: i64,
    idem: Option<Idem<'_>>,
    now: i64,
) -> Result<(FlashClaimed, bool)> {
    in_own_tx!(db, claim_flash_in(sale, customer, idem, now))
}

pub async fn pay_flash(db: &Db, claim: i64, order_ref: &str, now: i64) -> Result<bool> {
    in_own_tx!(db, pay_flash_in(claim, order_ref, now))
}

pub async fn release_flash(db: &Db, claim: i64, now: i64) -> Result<bool> {
    in_own_tx!(db, release_flash_in(claim, now))
}
