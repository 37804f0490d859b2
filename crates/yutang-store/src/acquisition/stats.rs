//! Channel statistics (issue #19 item 7): every metric of a period grouped by one key — the
//! Asia/Shanghai day, the channel or the guide — in one query (see
//! `yutang_core::acquisition::stats`, which folds, rates and fills the rows).
//!
//! Each source is read once into a common table expression with the three keys it can be
//! grouped by (`dy`: the day bucket `(t + 28800000) / 86400000`, the same integer division on
//! BIGINT on both engines as the campaign statistics; `ch`: the channel, NULL = unknown; `st`:
//! the guide, NULL = none) and the caller's filters:
//!
//! - `ad`: adds (`channel_adds`) by `added_at`, the guide of the add;
//! - `nc`: new customers (`customer_acquisition`) by `acquired_at`, the first-touch guide, and
//!   the delay to their first paid order not fully refunded within the window (NULL: none);
//! - `od`: orders credited to a channel (`touch_channel_id`) by `paid_at`, the guide of the
//!   add that got the credit (the customer's latest add through that channel up to the order);
//! - `rw`: used coupons of issued first-add rewards by `used_at`, the guide of the customer's
//!   first add through the reward's channel.
//!
//! Then one `GROUP BY` per metric; the database answers at most one row per metric and key
//! (and hour, for the time to first order). Sums are cast to BIGINT (PostgreSQL's
//! `SUM(bigint)` is NUMERIC).

use sqlx::FromRow;

use crate::Db;
use crate::error::Result;

/// One grouped row: the metric's name (`yutang_core::acquisition::stats::Metric::parse`), the
/// key (day number, channel id or staff id; NULL = no channel / no guide), the hour of the
/// time to first order (0 for other metrics), the count or sum in fen.
#[derive(Debug, Clone, FromRow)]
pub struct KeyRow {
    pub metric: String,
    pub grp: Option<i64>,
    pub bucket: i64,
    pub value: i64,
}

/// What the rows are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Day,
    Channel,
    Guide,
}

/// Which activity counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsFilter {
    /// `[from, to)` in UTC millis.
    pub from_ms: i64,
    pub to_ms: i64,
    /// One channel; `None`: every channel and the adds without one.
    pub channel: Option<i64>,
    /// A store-bound caller's store: only its guides' activity, through brand-wide channels,
    /// the store's own, or none.
    pub store: Option<i64>,
    /// The first-order window in millis.
    pub first_order_ms: i64,
}

/// The caller's filters on a source's `x.st` and `x.ch` ($3: channel, $4: store).
macro_rules! scope {
    () => {
        " WHERE ($3 IS NULL OR x.ch = $3) \
         AND ($4 IS NULL OR x.st IN (SELECT s.id FROM staff s WHERE s.store_id = $4)) \
         AND ($4 IS NULL OR x.ch IS NULL OR x.ch IN \
              (SELECT c.id FROM channels c WHERE c.store_id IS NULL OR c.store_id = $4))"
    };
}

/// The query grouped by `$k` (`dy`, `ch` or `st`); `$hist` is the hour histogram of the time
/// to first order (empty for the daily series).
macro_rules! stats_sql {
    ($k:literal, $hist:literal) => {
        concat!(
            "WITH ad AS (SELECT ", $k, " AS k, t0, del FROM (SELECT \
               (a.added_at + 28800000) / 86400000 AS dy, a.channel_id AS ch, a.staff_id AS st, \
               a.added_at AS t0, a.deleted_at AS del \
               FROM channel_adds a WHERE a.added_at >= $1 AND a.added_at < $2) x",
            scope!(),
            "), nc AS (SELECT ", $k, " AS k, d FROM (SELECT \
               (n.acquired_at + 28800000) / 86400000 AS dy, n.channel_id AS ch, n.staff_id AS st, \
               (SELECT MIN(o.paid_at) FROM orders o WHERE o.customer_id = n.customer_id \
                 AND o.paid_at >= n.acquired_at AND o.paid_at < n.acquired_at + $5 \
                 AND o.refunded_amount < o.amount) - n.acquired_at AS d \
               FROM customer_acquisition n WHERE n.acquired_at >= $1 AND n.acquired_at < $2) x",
            scope!(),
            "), od AS (SELECT ", $k, " AS k, net FROM (SELECT \
               (o.paid_at + 28800000) / 86400000 AS dy, o.touch_channel_id AS ch, \
               (SELECT a.staff_id FROM channel_adds a WHERE a.customer_id = o.customer_id \
                 AND a.channel_id = o.touch_channel_id AND a.added_at <= o.paid_at \
                 ORDER BY a.added_at DESC, a.id DESC LIMIT 1) AS st, \
               o.amount - o.refunded_amount AS net \
               FROM orders o WHERE o.touch_channel_id IS NOT NULL \
               AND o.paid_at >= $1 AND o.paid_at < $2) x",
            scope!(),
            "), rw AS (SELECT ", $k, " AS k, cost FROM (SELECT \
               (u.used_at + 28800000) / 86400000 AS dy, r.channel_id AS ch, \
               (SELECT a.staff_id FROM channel_adds a WHERE a.customer_id = r.customer_id \
                 AND a.channel_id = r.channel_id ORDER BY a.added_at, a.id LIMIT 1) AS st, \
               u.discount_fen AS cost \
               FROM acquisition_rewards r JOIN coupons u ON u.claim_id = r.claim_id \
               WHERE r.status = 'issued' AND u.state = 'used' \
               AND u.used_at >= $1 AND u.used_at < $2) x",
            scope!(),
            ") SELECT 'adds' AS metric, k AS grp, CAST(0 AS BIGINT) AS bucket, COUNT(*) AS value \
               FROM ad GROUP BY k \
             UNION ALL SELECT 'net_d1', k, 0, COUNT(*) FROM ad \
               WHERE del IS NULL OR del >= t0 + 86400000 GROUP BY k \
             UNION ALL SELECT 'net_d7', k, 0, COUNT(*) FROM ad \
               WHERE del IS NULL OR del >= t0 + 604800000 GROUP BY k \
             UNION ALL SELECT 'net_d30', k, 0, COUNT(*) FROM ad \
               WHERE del IS NULL OR del >= t0 + 2592000000 GROUP BY k \
             UNION ALL SELECT 'deleted', k, 0, COUNT(*) FROM ad WHERE del IS NOT NULL GROUP BY k \
             UNION ALL SELECT 'new_customers', k, 0, COUNT(*) FROM nc GROUP BY k \
             UNION ALL SELECT 'first_orders', k, 0, COUNT(*) FROM nc WHERE d IS NOT NULL GROUP BY k",
            $hist,
            " UNION ALL SELECT 'orders', k, 0, COUNT(*) FROM od WHERE net > 0 GROUP BY k \
             UNION ALL SELECT 'gmv', k, 0, CAST(SUM(net) AS BIGINT) FROM od GROUP BY k \
             UNION ALL SELECT 'rewards_used', k, 0, COUNT(*) FROM rw GROUP BY k \
             UNION ALL SELECT 'reward_cost', k, 0, CAST(SUM(cost) AS BIGINT) FROM rw GROUP BY k"
        )
    };
}

const BY_DAY: &str = stats_sql!("dy", "");
const BY_CHANNEL: &str = stats_sql!(
    "ch",
    " UNION ALL SELECT 'hours_to_first_order', k, d / 3600000, COUNT(*) FROM nc \
     WHERE d IS NOT NULL GROUP BY k, d / 3600000"
);
const BY_GUIDE: &str = stats_sql!(
    "st",
    " UNION ALL SELECT 'hours_to_first_order', k, d / 3600000, COUNT(*) FROM nc \
     WHERE d IS NOT NULL GROUP BY k, d / 3600000"
);

/// Every metric of the period grouped by `by` (any order).
pub async fn key_sums(db: &Db, by: GroupBy, f: &StatsFilter) -> Result<Vec<KeyRow>> {
    let sql = match by {
        GroupBy::Day => BY_DAY,
        GroupBy::Channel => BY_CHANNEL,
        GroupBy::Guide => BY_GUIDE,
    };
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, KeyRow>(sql)
            .bind(f.from_ms)
            .bind(f.to_ms)
            .bind(f.channel)
            .bind(f.store)
            .bind(f.first_order_ms)
            .fetch_all(pool)
            .await?)
    })
}

/// A staff member as the statistics name them.
#[derive(Debug, Clone, FromRow)]
pub struct StaffName {
    pub id: i64,
    pub display_name: String,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
}

/// Every staff member (of one store, when set) with their store's name.
pub async fn staff_names(db: &Db, store: Option<i64>) -> Result<Vec<StaffName>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, StaffName>(
            "SELECT s.id, s.display_name, s.store_id, t.name AS store_name \
             FROM staff s LEFT JOIN stores t ON t.id = s.store_id \
             WHERE ($1 IS NULL OR s.store_id = $1) ORDER BY s.id",
        )
        .bind(store)
        .fetch_all(pool)
        .await?)
    })
}
