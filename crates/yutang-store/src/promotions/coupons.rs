//! Coupon templates and coupons: writing templates, claiming (or issuing) sets, using a
//! coupon on an order, the expiry and reminder transitions.

use super::*;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct TemplateRow {
    pub id: i64,
    pub name: String,
    pub spec: String,
    pub stock: i64,
    pub sold: i64,
    pub per_customer: i64,
    pub claim_starts: i64,
    pub claim_ends: i64,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A template with what happened to it.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct TemplateStats {
    pub template_id: i64,
    pub claims: i64,
    pub coupons: i64,
    pub used: i64,
    pub expired: i64,
    pub revoked: i64,
    pub discount_fen: i64,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct CouponRow {
    pub id: i64,
    pub claim_id: i64,
    pub template_id: i64,
    pub template_name: String,
    pub spec: String,
    pub customer_id: i64,
    pub step: i64,
    pub state: String,
    pub valid_from: i64,
    pub valid_until: i64,
    pub order_id: Option<i64>,
    pub discount_fen: i64,
    pub used_at: Option<i64>,
    pub claimed_at: i64,
}

/// A coupon to write for a claimed set: its step and validity.
#[derive(Debug, Clone, Copy)]
pub struct NewCoupon {
    pub step: i64,
    pub valid_from: i64,
    pub valid_until: i64,
}

/// What a coupon claim wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claimed {
    pub claim_id: i64,
    pub coupon_ids: Vec<i64>,
}

/// A coupon claim (`source` "claim") or staff issue ("issue") as written.
#[derive(Debug, Clone, Copy)]
pub struct CouponClaim<'a> {
    pub template_id: i64,
    pub customer_id: i64,
    pub source: &'a str,
}

// --- coupon templates ---

/// A template's columns as written.
#[derive(Debug, Clone)]
pub struct TemplateWrite<'a> {
    pub name: &'a str,
    pub spec: &'a str,
    pub stock: i64,
    pub per_customer: i64,
    pub claim_starts: i64,
    pub claim_ends: i64,
}

pub async fn create_template_in(
    tx: &mut Tx,
    t: &TemplateWrite<'_>,
    by: Option<i64>,
    now: i64,
) -> Result<i64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO coupon_templates (name, spec, stock, per_customer, claim_starts, claim_ends, \
             created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id",
        )
        .bind(t.name)
        .bind(t.spec)
        .bind(t.stock)
        .bind(t.per_customer)
        .bind(t.claim_starts)
        .bind(t.claim_ends)
        .bind(by)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?)
    })
}

/// Update an active template; the stock may not go below what was already claimed.
pub async fn update_template_in(
    tx: &mut Tx,
    id: i64,
    t: &TemplateWrite<'_>,
    now: i64,
) -> Result<()> {
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE coupon_templates SET name = $1, spec = $2, stock = $3, per_customer = $4, \
             claim_starts = $5, claim_ends = $6, updated_at = $7 \
             WHERE id = $8 AND status IN ('active', 'draft') AND sold <= $3",
        )
        .bind(t.name)
        .bind(t.spec)
        .bind(t.stock)
        .bind(t.per_customer)
        .bind(t.claim_starts)
        .bind(t.claim_ends)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    if n == 1 {
        return Ok(());
    }
    Err(stock_refusal(tx, "coupon_templates", id, "claimed").await?)
}

macro_rules! template_select {
    () => {
        "SELECT id, name, spec, stock, sold, per_customer, claim_starts, claim_ends, status, \
         created_at, updated_at FROM coupon_templates"
    };
}

pub async fn get_template(db: &Db, id: i64) -> Result<TemplateRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, TemplateRow>(concat!(template_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// Active templates (and, with `all`, archived ones too), newest first.
pub async fn list_templates(db: &Db, all: bool) -> Result<Vec<TemplateRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, TemplateRow>(concat!(
            template_select!(),
            " WHERE ($1 OR status = 'active') ORDER BY id DESC"
        ))
        .bind(all)
        .fetch_all(pool)
        .await?)
    })
}

pub async fn template_stats(db: &Db) -> Result<Vec<TemplateStats>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, TemplateStats>(
            "SELECT t.id AS template_id, \
             (SELECT COUNT(*) FROM coupon_claims c WHERE c.template_id = t.id) AS claims, \
             (SELECT COUNT(*) FROM coupons c WHERE c.template_id = t.id) AS coupons, \
             (SELECT COUNT(*) FROM coupons c WHERE c.template_id = t.id AND c.state = 'used') AS used, \
             (SELECT COUNT(*) FROM coupons c WHERE c.template_id = t.id AND c.state = 'expired') AS expired, \
             (SELECT COUNT(*) FROM coupons c WHERE c.template_id = t.id AND c.state = 'revoked') AS revoked, \
             (SELECT CAST(COALESCE(SUM(c.discount_fen), 0) AS BIGINT) FROM coupons c WHERE c.template_id = t.id AND c.state = 'used') AS discount_fen \
             FROM coupon_templates t",
        )
        .fetch_all(pool)
        .await?)
    })
}

/// How many sets this customer holds of each template (for "claimable" lists).
pub async fn claims_by_customer(db: &Db, customer: i64) -> Result<Vec<(i64, i64)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT template_id, COUNT(*) FROM coupon_claims WHERE customer_id = $1 GROUP BY template_id",
        )
        .bind(customer)
        .fetch_all(pool)
        .await?)
    })
}

macro_rules! coupon_select {
    () => {
        "SELECT c.id, c.claim_id, c.template_id, t.name AS template_name, t.spec, c.customer_id, \
         c.step, c.state, c.valid_from, c.valid_until, c.order_id, c.discount_fen, c.used_at, \
         c.claimed_at FROM coupons c JOIN coupon_templates t ON t.id = c.template_id"
    };
}

pub async fn get_coupon(db: &Db, id: i64) -> Result<CouponRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, CouponRow>(concat!(coupon_select!(), " WHERE c.id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

pub async fn customer_coupons(db: &Db, customer: i64) -> Result<Vec<CouponRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, CouponRow>(concat!(
            coupon_select!(),
            " WHERE c.customer_id = $1 ORDER BY c.id DESC LIMIT 500"
        ))
        .bind(customer)
        .fetch_all(pool)
        .await?)
    })
}

pub async fn coupons_of_order(db: &Db, order_id: i64) -> Result<Vec<CouponRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, CouponRow>(concat!(coupon_select!(), " WHERE c.order_id = $1"))
            .bind(order_id)
            .fetch_all(pool)
            .await?)
    })
}

/// A template read under its row lock, for a claim's decision.
pub async fn lock_template_in(tx: &mut Tx, id: i64) -> Result<Option<TemplateRow>> {
    let lock = tx.row_lock();
    Ok(in_tx!(tx, conn => {
        sqlx::query_as::<_, TemplateRow>(sqlx::AssertSqlSafe(format!(
            "{} WHERE id = $1{lock}",
            template_select!()
        )))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    }))
}

/// How many sets of a template a customer holds. Read after the template's row lock, so on
/// PostgreSQL it sees every claim committed before this one could take the lock.
pub async fn claim_count_in(tx: &mut Tx, template: i64, customer: i64) -> Result<i64> {
    Ok(in_tx!(tx, conn => {
        sqlx::query_scalar("SELECT COUNT(*) FROM coupon_claims WHERE template_id = $1 AND customer_id = $2")
            .bind(template)
            .bind(customer)
            .fetch_one(&mut *conn)
            .await?
    }))
}

/// Write a claimed set: the customer's `seq`-th of the template. `UNIQUE (template_id,
/// customer_id, seq)` is the backstop of the per-customer limit: a duplicate is
/// `limit_reached`; an unknown customer is refused on `customer_id`.
pub async fn insert_claim_in(tx: &mut Tx, c: &CouponClaim<'_>, seq: i64, now: i64) -> Result<i64> {
    Ok(in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO coupon_claims (template_id, customer_id, seq, source, claimed_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(c.template_id)
        .bind(c.customer_id)
        .bind(seq)
        .bind(c.source)
        .bind(now)
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| insert_refusal(e, "customer_id", refused("limit_reached", "you have reached the limit for this promotion")))?
    }))
}

/// Write one coupon of a claimed set.
pub async fn insert_coupon_in(
    tx: &mut Tx,
    claim: i64,
    c: &CouponClaim<'_>,
    nc: &NewCoupon,
    now: i64,
) -> Result<i64> {
    Ok(in_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO coupons (claim_id, template_id, customer_id, step, valid_from, valid_until, \
             claimed_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(claim)
        .bind(c.template_id)
        .bind(c.customer_id)
        .bind(nc.step)
        .bind(nc.valid_from)
        .bind(nc.valid_until)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?
    }))
}

/// Use a claimed coupon on an order: only from `claimed` and inside its validity, so a coupon
/// is used once. The order row is locked first (a refund locks it too), and a fully refunded
/// order takes no coupon. Returns the discount and whether it was applied now: using the
/// coupon again on the same order is a replay that answers the stored discount and changes
/// nothing.
pub async fn use_coupon_in(
    tx: &mut Tx,
    id: i64,
    order_id: i64,
    discount: i64,
    now: i64,
) -> Result<(i64, bool)> {
    let lock = tx.row_lock();
    let status: Option<String> = in_tx!(tx, conn => {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT status FROM orders WHERE id = $1{lock}")))
            .bind(order_id)
            .fetch_optional(&mut *conn)
            .await?
    });
    let prior: Option<(String, Option<i64>, i64)> = in_tx!(tx, conn => {
        sqlx::query_as("SELECT state, order_id, discount_fen FROM coupons WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
    });
    match (status.as_deref(), prior) {
        (None, _) | (_, None) => return Err(StoreError::NotFound),
        (_, Some((state, Some(o), d))) if state == "used" && o == order_id => {
            return Ok((d, false));
        }
        (Some("refunded"), _) => {
            return Err(refused(
                "order_refunded",
                "the order was fully refunded; it takes no coupon",
            ));
        }
        _ => {}
    }
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE coupons SET state = 'used', order_id = $1, discount_fen = $2, used_at = $3, updated_at = $3 \
             WHERE id = $4 AND state = 'claimed' AND valid_from <= $3 AND valid_until > $3",
        )
        .bind(order_id)
        .bind(discount)
        .bind(now)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    if n == 0 {
        return Err(refused(
            "coupon_not_usable",
            "the coupon is not available (already used, expired or revoked)",
        ));
    }
    let customer = coupon_owner(tx, id).await?;
    let d = serde_json::json!({"coupon_id": id, "order_id": order_id, "discount_fen": discount});
    append_in(tx, customer, "coupon_used", now, None, &d.to_string(), now).await?;
    Ok((discount, true))
}

async fn coupon_owner(tx: &mut Tx, id: i64) -> Result<i64> {
    Ok(in_tx!(tx, conn => {
        sqlx::query_scalar("SELECT customer_id FROM coupons WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *conn)
            .await?
    }))
}

/// Move a coupon from `from` to `to` if it is still in `from`; `false` when it was not
/// (another path got there first): the caller changes nothing.
pub async fn coupon_transition_in(
    tx: &mut Tx,
    id: i64,
    from: &str,
    to: &str,
    event: &str,
    staff: Option<i64>,
    now: i64,
) -> Result<bool> {
    let clear = if to == "claimed" {
        ", order_id = NULL, discount_fen = 0, used_at = NULL"
    } else {
        ""
    };
    let n = in_tx!(tx, conn => {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE coupons SET state = $1, updated_at = $2{clear} WHERE id = $3 AND state = $4"
        )))
        .bind(to)
        .bind(now)
        .bind(id)
        .bind(from)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    if n == 0 {
        return Ok(false);
    }
    let customer = coupon_owner(tx, id).await?;
    let d = serde_json::json!({"coupon_id": id, "from": from, "to": to});
    append_in(tx, customer, event, now, staff, &d.to_string(), now).await?;
    Ok(true)
}

/// Record an expiry reminder in the outbox for a coupon still claimed (once per coupon).
pub async fn remind_coupon_in(tx: &mut Tx, id: i64, now: i64) -> Result<bool> {
    let row: Option<(i64, String, i64, String)> = in_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT c.customer_id, c.state, c.valid_until, t.name FROM coupons c \
             JOIN coupon_templates t ON t.id = c.template_id WHERE c.id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    });
    let Some((customer, state, until, name)) = row else {
        return Ok(false);
    };
    if state != "claimed" || until <= now {
        return Ok(false);
    }
    let payload = serde_json::json!({"coupon_id": id, "template": name, "valid_until": until});
    let n = in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO message_outbox (customer_id, kind, payload, dedupe_key, created_at) \
             VALUES ($1, 'coupon_expiry_reminder', $2, $3, $4) ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(customer)
        .bind(payload.to_string())
        .bind(format!("coupon_expiry_reminder:{id}"))
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    if n == 1 {
        append_in(
            tx,
            customer,
            "coupon_reminder_queued",
            now,
            None,
            &payload.to_string(),
            now,
        )
        .await?;
    }
    Ok(n == 1)
}

/// Use a coupon on an order: `(discount, applied now)`; a replay on the same order answers the
/// stored discount.
pub async fn use_coupon(
    db: &Db,
    id: i64,
    order_id: i64,
    discount: i64,
    now: i64,
) -> Result<(i64, bool)> {
    in_own_tx!(db, use_coupon_in(id, order_id, discount, now))
}

pub async fn coupon_transition(
    db: &Db,
    id: i64,
    from: &str,
    to: &str,
    event: &str,
    staff: Option<i64>,
    now: i64,
) -> Result<bool> {
    in_own_tx!(db, coupon_transition_in(id, from, to, event, staff, now))
}

pub async fn remind_coupon(db: &Db, id: i64, now: i64) -> Result<bool> {
    in_own_tx!(db, remind_coupon_in(id, now))
}

/// A coupon used on an order, with what decides whether a refund returns it.
#[derive(Debug, Clone)]
pub struct UsedCoupon {
    pub id: i64,
    pub customer_id: i64,
    pub valid_until: i64,
    /// The template's spec (JSON), for `return_on_refund`.
    pub spec: String,
}

/// The coupons used on an order, oldest first.
pub async fn used_on_order_in(tx: &mut Tx, order: i64) -> Result<Vec<UsedCoupon>> {
    let rows: Vec<(i64, i64, i64, String)> = in_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT c.id, c.customer_id, c.valid_until, t.spec FROM coupons c \
             JOIN coupon_templates t ON t.id = c.template_id \
             WHERE c.order_id = $1 AND c.state = 'used' ORDER BY c.id",
        )
        .bind(order)
        .fetch_all(&mut *conn)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|(id, customer_id, valid_until, spec)| UsedCoupon {
            id,
            customer_id,
            valid_until,
            spec,
        })
        .collect())
}

/// Move a used coupon to `to` (the state core's `transition` chose for a refund: `claimed`
/// clears its use), with a `coupon_returned` event. Guarded on `state = 'used'`, so a coupon
/// is returned at most once; returns whether it moved now.
pub async fn return_used_in(tx: &mut Tx, c: &UsedCoupon, to: &str, now: i64) -> Result<bool> {
    let clear = if to == "claimed" {
        "UPDATE coupons SET state = $1, updated_at = $2, order_id = NULL, discount_fen = 0, \
         used_at = NULL WHERE id = $3 AND state = 'used'"
    } else {
        "UPDATE coupons SET state = $1, updated_at = $2 WHERE id = $3 AND state = 'used'"
    };
    let n = in_tx!(tx, conn => {
        sqlx::query(clear)
            .bind(to)
            .bind(now)
            .bind(c.id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
    });
    if n == 1 {
        let d = serde_json::json!({"coupon_id": c.id, "from": "used", "to": to}).to_string();
        append_in(tx, c.customer_id, "coupon_returned", now, None, &d, now).await?;
    }
    Ok(n == 1)
}
