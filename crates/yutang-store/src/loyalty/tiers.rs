//! Membership tier rows (migration 0024): the program's settings and tiers, each customer's
//! current tier, the history of changes and the benefits given.

use serde::Serialize;
use sqlx::FromRow;

use crate::Db;
use crate::customers::Scope;
use crate::error::Result;
use crate::tx::Tx;

/// The program's settings row.
#[derive(Debug, Clone, PartialEq, Eq, FromRow, Serialize)]
pub struct SettingsRow {
    pub metric: String,
    pub period_months: i64,
    pub grace_days: i64,
    pub updated_at: i64,
    pub updated_by: String,
}

const SETTINGS: &str = "SELECT metric, period_months, grace_days, updated_at, updated_by FROM tier_settings WHERE id = 1";

/// A tier row (the monthly pack is a JSON array of template ids).
#[derive(Debug, Clone, PartialEq, Eq, FromRow, Serialize)]
pub struct TierRow {
    pub id: i64,
    pub tier_key: String,
    pub name: String,
    pub tier_rank: i64,
    pub threshold: i64,
    pub discount_percent: i64,
    pub points_multiplier: i64,
    pub monthly_coupon_template_ids: String,
    pub birthday_coupon_template_id: Option<i64>,
    pub free_shipping_threshold_fen: Option<i64>,
    pub archived_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! tier_select {
    () => {
        "SELECT id, tier_key, name, tier_rank, threshold, discount_percent, points_multiplier, \
         monthly_coupon_template_ids, birthday_coupon_template_id, free_shipping_threshold_fen, \
         archived_at, created_at, updated_at FROM tiers"
    };
}

const LIVE_TIERS: &str = concat!(
    tier_select!(),
    " WHERE archived_at IS NULL ORDER BY tier_rank"
);

/// What a save writes of one tier.
#[derive(Debug, Clone, Copy)]
pub struct TierWrite<'a> {
    pub key: &'a str,
    pub name: &'a str,
    pub rank: i64,
    pub threshold: i64,
    pub discount_percent: i64,
    pub points_multiplier: i64,
    pub monthly_coupon_template_ids: &'a str,
    pub birthday_coupon_template_id: Option<i64>,
    pub free_shipping_threshold_fen: Option<i64>,
}

/// A customer's current tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromRow, Serialize)]
pub struct CustomerTierRow {
    pub customer_id: i64,
    pub tier_id: i64,
    pub tier_since: i64,
    pub held_until: i64,
    pub updated_at: i64,
}

const CUSTOMER_TIER: &str = "SELECT customer_id, tier_id, tier_since, held_until, updated_at \
     FROM customer_tiers WHERE customer_id = $1";

/// One change of a customer's tier, with the tiers' names.
#[derive(Debug, Clone, PartialEq, Eq, FromRow, Serialize)]
pub struct HistoryRow {
    pub id: i64,
    pub from_tier_id: Option<i64>,
    pub from_name: Option<String>,
    pub to_tier_id: i64,
    pub to_name: String,
    pub direction: String,
    pub metric: String,
    pub metric_value: i64,
    pub source: String,
    pub created_at: i64,
}

/// A history row to write.
#[derive(Debug, Clone, Copy)]
pub struct NewHistory<'a> {
    pub customer_id: i64,
    pub from_tier_id: Option<i64>,
    pub to_tier_id: i64,
    pub direction: &'a str,
    pub metric: &'a str,
    pub metric_value: i64,
    pub source: &'a str,
}

/// A member as a tier's list shows them.
#[derive(Debug, Clone, PartialEq, Eq, FromRow, Serialize)]
pub struct MemberRow {
    pub customer_id: i64,
    pub name: String,
    pub tier_since: i64,
    pub held_until: i64,
}

pub async fn settings(db: &Db) -> Result<Option<SettingsRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, SettingsRow>(SETTINGS).fetch_optional(pool).await?)
    })
}

pub async fn settings_in(tx: &mut Tx) -> Result<Option<SettingsRow>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, SettingsRow>(SETTINGS).fetch_optional(&mut *conn).await?)
    })
}

/// The settings row, locked until `tx` ends (created with the defaults first when there is
/// none, so the very first saves queue too): two saves of the program run one after the other.
pub async fn lock_settings_in(tx: &mut Tx) -> Result<SettingsRow> {
    let sql = format!("{SETTINGS}{}", tx.row_lock());
    in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO tier_settings (id, updated_at) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
        )
        .execute(&mut *conn)
        .await?;
        Ok(sqlx::query_as::<_, SettingsRow>(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut *conn)
            .await?)
    })
}

pub async fn save_settings_in(
    tx: &mut Tx,
    metric: &str,
    period_months: i64,
    grace_days: i64,
    now: i64,
    by: &str,
) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE tier_settings SET metric = $1, period_months = $2, grace_days = $3, \
             updated_at = $4, updated_by = $5 WHERE id = 1",
        )
        .bind(metric)
        .bind(period_months)
        .bind(grace_days)
        .bind(now)
        .bind(by)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// The program's tiers (not removed), by rank.
pub async fn live_tiers(db: &Db) -> Result<Vec<TierRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, TierRow>(LIVE_TIERS).fetch_all(pool).await?)
    })
}

pub async fn live_tiers_in(tx: &mut Tx) -> Result<Vec<TierRow>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, TierRow>(LIVE_TIERS).fetch_all(&mut *conn).await?)
    })
}

/// Any tier, removed ones too (history names them).
pub async fn tier(db: &Db, id: i64) -> Result<Option<TierRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, TierRow>(concat!(tier_select!(), " WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?)
    })
}

/// Create or update the tier with this key (bringing a removed one back).
pub async fn upsert_tier_in(tx: &mut Tx, t: &TierWrite<'_>, now: i64) -> Result<i64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO tiers (tier_key, name, tier_rank, threshold, discount_percent, \
             points_multiplier, monthly_coupon_template_ids, birthday_coupon_template_id, \
             free_shipping_threshold_fen, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
             ON CONFLICT (tier_key) DO UPDATE SET name = excluded.name, \
             tier_rank = excluded.tier_rank, threshold = excluded.threshold, \
             discount_percent = excluded.discount_percent, \
             points_multiplier = excluded.points_multiplier, \
             monthly_coupon_template_ids = excluded.monthly_coupon_template_ids, \
             birthday_coupon_template_id = excluded.birthday_coupon_template_id, \
             free_shipping_threshold_fen = excluded.free_shipping_threshold_fen, \
             archived_at = NULL, updated_at = excluded.updated_at RETURNING id",
        )
        .bind(t.key)
        .bind(t.name)
        .bind(t.rank)
        .bind(t.threshold)
        .bind(t.discount_percent)
        .bind(t.points_multiplier)
        .bind(t.monthly_coupon_template_ids)
        .bind(t.birthday_coupon_template_id)
        .bind(t.free_shipping_threshold_fen)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?)
    })
}

/// Take a tier out of the program (its row stays for the history).
pub async fn archive_tier_in(tx: &mut Tx, id: i64, now: i64) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query("UPDATE tiers SET archived_at = $2, updated_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// How many customers hold a tier.
pub async fn holders_in(tx: &mut Tx, tier: i64) -> Result<i64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM customer_tiers WHERE tier_id = $1")
            .bind(tier)
            .fetch_one(&mut *conn)
            .await?)
    })
}

/// Members per tier within a scope: `(tier id, count)`.
pub async fn member_counts(db: &Db, scope: Scope) -> Result<Vec<(i64, i64)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(concat!(
            "SELECT ct.tier_id, COUNT(*) FROM customer_tiers ct \
             JOIN customers c ON c.id = ct.customer_id WHERE c.merged_into IS NULL AND ",
            scope_condition!(),
            " GROUP BY ct.tier_id"
        ))
        .bind(scope.store)
        .bind(scope.guide)
        .fetch_all(pool)
        .await?)
    })
}

/// A tier's members within a scope, newest in the tier first, and how many there are.
pub async fn members(
    db: &Db,
    tier: i64,
    scope: Scope,
    limit: i64,
    offset: i64,
) -> Result<(Vec<MemberRow>, i64)> {
    const FROM: &str = concat!(
        " FROM customer_tiers ct JOIN customers c ON c.id = ct.customer_id \
         WHERE c.merged_into IS NULL AND ",
        scope_condition!(),
        " AND ct.tier_id = $3"
    );
    let page = format!(
        "SELECT ct.customer_id, c.name, ct.tier_since, ct.held_until{FROM} \
         ORDER BY ct.tier_since DESC, ct.customer_id DESC LIMIT $4 OFFSET $5"
    );
    let count = format!("SELECT COUNT(*){FROM}");
    db_run!(db, pool => {
        let rows = sqlx::query_as::<_, MemberRow>(sqlx::AssertSqlSafe(page))
            .bind(scope.store)
            .bind(scope.guide)
            .bind(tier)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count))
            .bind(scope.store)
            .bind(scope.guide)
            .bind(tier)
            .fetch_one(pool)
            .await?;
        Ok((rows, total))
    })
}

pub async fn customer_tier(db: &Db, customer: i64) -> Result<Option<CustomerTierRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, CustomerTierRow>(CUSTOMER_TIER)
            .bind(customer)
            .fetch_optional(pool)
            .await?)
    })
}

pub async fn customer_tier_in(tx: &mut Tx, customer: i64) -> Result<Option<CustomerTierRow>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, CustomerTierRow>(CUSTOMER_TIER)
            .bind(customer)
            .fetch_optional(&mut *conn)
            .await?)
    })
}

/// The customer's tier row, locked until `tx` ends (none: not in the program).
pub async fn lock_customer_tier_in(tx: &mut Tx, customer: i64) -> Result<Option<CustomerTierRow>> {
    let sql = format!("{CUSTOMER_TIER}{}", tx.row_lock());
    in_tx!(tx, conn => {
        Ok(sqlx::query_as::<_, CustomerTierRow>(sqlx::AssertSqlSafe(sql))
            .bind(customer)
            .fetch_optional(&mut *conn)
            .await?)
    })
}

/// Take a merged-away customer out of the program (their history stays).
pub async fn remove_customer_tier_in(tx: &mut Tx, customer: i64) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query("DELETE FROM customer_tiers WHERE customer_id = $1")
            .bind(customer)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// Put a customer into the program; `false` when a concurrent transaction did first (the
/// caller locks that row and decides again).
pub async fn insert_customer_tier_in(
    tx: &mut Tx,
    customer: i64,
    tier: i64,
    since: i64,
    held_until: i64,
    now: i64,
) -> Result<bool> {
    in_tx!(tx, conn => {
        let r = sqlx::query(
            "INSERT INTO customer_tiers (customer_id, tier_id, tier_since, held_until, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (customer_id) DO NOTHING",
        )
        .bind(customer)
        .bind(tier)
        .bind(since)
        .bind(held_until)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        Ok(r.rows_affected() == 1)
    })
}

/// Move a customer (their row locked) to another tier, or keep it for longer
/// (`tier`, `since` unchanged).
pub async fn update_customer_tier_in(
    tx: &mut Tx,
    customer: i64,
    tier: i64,
    since: i64,
    held_until: i64,
    now: i64,
) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE customer_tiers SET tier_id = $2, tier_since = $3, held_until = $4, \
             updated_at = $5 WHERE customer_id = $1",
        )
        .bind(customer)
        .bind(tier)
        .bind(since)
        .bind(held_until)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

pub async fn insert_history_in(tx: &mut Tx, h: &NewHistory<'_>, now: i64) -> Result<i64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO tier_history (customer_id, from_tier_id, to_tier_id, direction, metric, \
             metric_value, source, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(h.customer_id)
        .bind(h.from_tier_id)
        .bind(h.to_tier_id)
        .bind(h.direction)
        .bind(h.metric)
        .bind(h.metric_value)
        .bind(h.source)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?)
    })
}

/// A customer's tier changes, newest first.
pub async fn history(db: &Db, customer: i64, limit: i64) -> Result<Vec<HistoryRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, HistoryRow>(
            "SELECT h.id, h.from_tier_id, f.name AS from_name, h.to_tier_id, t.name AS to_name, \
             h.direction, h.metric, h.metric_value, h.source, h.created_at \
             FROM tier_history h JOIN tiers t ON t.id = h.to_tier_id \
             LEFT JOIN tiers f ON f.id = h.from_tier_id \
             WHERE h.customer_id = $1 ORDER BY h.id DESC LIMIT $2",
        )
        .bind(customer)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// The metric's SQL: `$1` customer, window `($2, $3]`.
fn metric_sql(metric: &str) -> &'static str {
    match metric {
        "points_12m" => {
            "SELECT CAST(COALESCE(SUM(CASE WHEN kind = 'earn' THEN amount ELSE -amount END), 0) \
             AS BIGINT) FROM points_entries WHERE customer_id = $1 AND kind IN ('earn', 'reverse') \
             AND created_at > $2 AND created_at <= $3"
        }
        "orders_12m" => {
            "SELECT COUNT(*) FROM orders WHERE customer_id = $1 AND paid_at > $2 \
             AND paid_at <= $3 AND status <> 'refunded'"
        }
        _ => {
            "SELECT CAST(COALESCE(SUM(amount - refunded_amount), 0) AS BIGINT) FROM orders \
             WHERE customer_id = $1 AND paid_at > $2 AND paid_at <= $3 AND status <> 'refunded'"
        }
    }
}

/// A customer's metric (`spend_12m`, `points_12m`, `orders_12m`) over `(from, to]`.
pub async fn metric_in(
    tx: &mut Tx,
    customer: i64,
    metric: &str,
    from: i64,
    to: i64,
) -> Result<i64> {
    let sql = metric_sql(metric);
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(sql)
            .bind(customer)
            .bind(from)
            .bind(to)
            .fetch_one(&mut *conn)
            .await?)
    })
}

pub async fn metric(db: &Db, customer: i64, metric: &str, from: i64, to: i64) -> Result<i64> {
    let sql = metric_sql(metric);
    db_run!(db, pool => {
        Ok(sqlx::query_scalar(sql)
            .bind(customer)
            .bind(from)
            .bind(to)
            .fetch_one(pool)
            .await?)
    })
}

/// Members held until `before` or earlier (their period and grace are over), oldest first.
pub async fn due(db: &Db, before: i64, limit: i64) -> Result<Vec<i64>> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar(
            "SELECT customer_id FROM customer_tiers WHERE held_until <= $1 \
             ORDER BY held_until, customer_id LIMIT $2",
        )
        .bind(before)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// Members after `after` by customer id (the benefits pass pages through them).
pub async fn members_after(db: &Db, after: i64, limit: i64) -> Result<Vec<i64>> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar(
            "SELECT customer_id FROM customer_tiers WHERE customer_id > $1 \
             ORDER BY customer_id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?)
    })
}

/// Record a benefit given (kind `monthly` or `birthday`, its period) unless it already was;
/// answers the tier and templates of the row that stands (this one or the earlier one).
pub async fn grant_in(
    tx: &mut Tx,
    customer: i64,
    kind: &str,
    period: &str,
    tier: i64,
    template_ids: &str,
    now: i64,
) -> Result<(i64, String)> {
    in_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO tier_grants (customer_id, kind, period, tier_id, template_ids, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (customer_id, kind, period) DO NOTHING",
        )
        .bind(customer)
        .bind(kind)
        .bind(period)
        .bind(tier)
        .bind(template_ids)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        Ok(sqlx::query_as(
            "SELECT tier_id, template_ids FROM tier_grants \
             WHERE customer_id = $1 AND kind = $2 AND period = $3",
        )
        .bind(customer)
        .bind(kind)
        .bind(period)
        .fetch_one(&mut *conn)
        .await?)
    })
}

/// A live customer's birthday (`YYYY-MM-DD`), if known.
pub async fn birthday_in(tx: &mut Tx, customer: i64) -> Result<Option<String>> {
    in_tx!(tx, conn => {
        let b: Option<Option<String>> = sqlx::query_scalar(
            "SELECT birthday FROM customers WHERE id = $1 AND merged_into IS NULL",
        )
        .bind(customer)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(b.flatten().filter(|s| !s.is_empty()))
    })
}

/// The points multiplier of the customer's current tier (none: not in the program).
pub async fn multiplier_in(tx: &mut Tx, customer: i64) -> Result<Option<i64>> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "SELECT t.points_multiplier FROM customer_tiers ct JOIN tiers t ON t.id = ct.tier_id \
             WHERE ct.customer_id = $1",
        )
        .bind(customer)
        .fetch_optional(&mut *conn)
        .await?)
    })
}

/// The first of `ids` that names no coupon template, if any.
pub async fn missing_template_in(tx: &mut Tx, ids: &[i64]) -> Result<Option<i64>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        let n: i64 = in_tx!(tx, conn => {
            sqlx::query_scalar("SELECT COUNT(*) FROM coupon_templates WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *conn)
                .await?
        });
        if n == 0 {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

/// Put every live customer not yet in the program into the tier their spend over `(from,
/// now]` earns (a program set up over an existing pool, e.g. the demo's), in bulk: the
/// customer rows, one history row each (`source` `placement`) and a `tier_changed` timeline
/// entry each. Returns how many were placed.
pub async fn place_by_spend_in(tx: &mut Tx, from: i64, now: i64, held_until: i64) -> Result<u64> {
    in_tx!(tx, conn => {
        let placed = sqlx::query(
            "INSERT INTO customer_tiers (customer_id, tier_id, tier_since, held_until, updated_at) \
             SELECT s.customer_id, (SELECT t.id FROM tiers t WHERE t.archived_at IS NULL \
               AND t.threshold <= s.v ORDER BY t.tier_rank DESC LIMIT 1), $2, $3, $2 \
             FROM (SELECT o.customer_id, CAST(SUM(o.amount - o.refunded_amount) AS BIGINT) AS v \
               FROM orders o JOIN customers c ON c.id = o.customer_id \
               WHERE c.merged_into IS NULL AND o.paid_at > $1 AND o.paid_at <= $2 \
               AND o.status <> 'refunded' GROUP BY o.customer_id) s \
             WHERE EXISTS (SELECT 1 FROM tiers t WHERE t.archived_at IS NULL AND t.threshold <= s.v) \
             ON CONFLICT (customer_id) DO NOTHING",
        )
        .bind(from)
        .bind(now)
        .bind(held_until)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        sqlx::query(
            "INSERT INTO tier_history (customer_id, from_tier_id, to_tier_id, direction, metric, \
             metric_value, source, created_at) \
             SELECT ct.customer_id, NULL, ct.tier_id, 'upgrade', 'spend_12m', \
               (SELECT CAST(COALESCE(SUM(o.amount - o.refunded_amount), 0) AS BIGINT) FROM orders o \
                WHERE o.customer_id = ct.customer_id AND o.paid_at > $1 AND o.paid_at <= $2 \
                AND o.status <> 'refunded'), 'placement', $2 \
             FROM customer_tiers ct WHERE ct.updated_at = $2 \
             AND NOT EXISTS (SELECT 1 FROM tier_history h WHERE h.customer_id = ct.customer_id)",
        )
        .bind(from)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO events (customer_id, kind, occurred_at, received_at, detail) \
             SELECT h.customer_id, 'tier_changed', $1, $1, \
               '{\"tier\":\"' || REPLACE(t.name, '\"', '') || '\",\"tier_key\":\"' || t.tier_key \
               || '\",\"from_tier\":null,\"direction\":\"upgrade\",\"metric\":\"spend_12m\",\"metric_value\":' \
               || CAST(h.metric_value AS TEXT) || ',\"order_id\":null}' \
             FROM tier_history h JOIN tiers t ON t.id = h.to_tier_id \
             WHERE h.source = 'placement' AND h.created_at = $1",
        )
        .bind(now)
        .execute(&mut *conn)
        .await?;
        Ok(placed)
    })
}
