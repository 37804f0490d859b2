//! Daily rollups (migration 0030): the base tables grouped per Shanghai day and dimension
//! ([`source_rows_in`]), the rows kept per grain ([`replace_days_in`]) and the reads of the
//! dashboard. The app's follower decides which days to recompute; `yutang_core::analytics`
//! folds the groups into grains.
//!
//! Every metric is read from rows that do not move between days once written: customers by
//! `created_at`, adds by `added_at` and `deleted_at`, orders by `paid_at`, refunds by
//! `refunded_at`, coupon claims by `claimed_at`, and from the (append-only) event log merges
//! (`merged_into`), group joins and leaves, and coupon uses — so recomputing the days an
//! event touched is enough to keep every day equal to a computation from scratch.

use sqlx::FromRow;
use yutang_core::analytics::{Metric, RollupRow, SourceRow};

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

/// A grouped row as the database answers it.
#[derive(Debug, Clone, FromRow)]
struct Grouped {
    metric: String,
    day: i64,
    store: Option<i64>,
    staff: Option<i64>,
    channel: Option<i64>,
    value: i64,
}

/// The day number of a time column, as the statistics pages compute it.
macro_rules! day {
    ($col:literal) => {
        concat!("((", $col, " + 28800000) / 86400000)")
    };
}

/// One branch of the source query: `$metric` is `$agg` over `v` (`$v`) of the rows of
/// `$from` (ending in `WHERE` or `AND`) whose time column `$t` is in `[$1, $2)`, grouped by
/// day and the dimensions.
macro_rules! branch {
    ($metric:literal, $agg:literal, $v:literal, $store:literal, $staff:literal, $channel:literal, $from:literal, $t:literal) => {
        concat!(
            "SELECT '",
            $metric,
            "' AS metric, dy AS day, st AS store, sf AS staff, ch AS channel, \
             CAST(",
            $agg,
            " AS BIGINT) AS value FROM (SELECT ",
            day!($t),
            " AS dy, ",
            $store,
            " AS st, ",
            $staff,
            " AS sf, ",
            $channel,
            " AS ch, ",
            $v,
            " AS v FROM ",
            $from,
            " ",
            $t,
            " >= $1 AND ",
            $t,
            " < $2) q GROUP BY dy, st, sf, ch"
        )
    };
}

/// The JSON member `key` of an event's detail, as text (`id`: as an integer), engine by
/// engine.
fn detail(pg: bool, key: &str, id: bool) -> String {
    match (pg, id) {
        (true, false) => format!("(e.detail::jsonb ->> '{key}')"),
        (true, true) => format!("CAST(e.detail::jsonb ->> '{key}' AS BIGINT)"),
        (false, false) => format!("CAST(json_extract(e.detail, '$.{key}') AS TEXT)"),
        (false, true) => format!("CAST(json_extract(e.detail, '$.{key}') AS INTEGER)"),
    }
}

/// The branch of group joins (or leaves) of `kind`, by the group owner's store and the owner.
fn groups(metric: &str, kind: &str, chat: &str) -> String {
    format!(
        "SELECT '{metric}' AS metric, dy AS day, st AS store, sf AS staff, \
         CAST(NULL AS BIGINT) AS channel, CAST(COUNT(*) AS BIGINT) AS value FROM (SELECT \
         {dy} AS dy, s.store_id AS st, g.owner_staff_id AS sf FROM events e \
         LEFT JOIN customer_groups g ON g.chat_id = {chat} \
         LEFT JOIN staff s ON s.id = g.owner_staff_id \
         WHERE e.kind = '{kind}' AND e.occurred_at >= $1 AND e.occurred_at < $2) q \
         GROUP BY dy, st, sf",
        dy = day!("e.occurred_at"),
    )
}

fn source_sql(pg: bool) -> String {
    let chat = detail(pg, "chat_id", false);
    let order = detail(pg, "order_id", true);
    const NONE: &str = "CAST(NULL AS BIGINT)";
    let parts = [
        branch!("customers_created", "COUNT(*)", "1", "CAST(NULL AS BIGINT)", "CAST(NULL AS BIGINT)",
            "CAST(NULL AS BIGINT)", "customers c WHERE", "c.created_at").to_owned(),
        branch!("customers_merged", "COUNT(*)", "1", "CAST(NULL AS BIGINT)", "CAST(NULL AS BIGINT)",
            "CAST(NULL AS BIGINT)", "events e WHERE e.kind = 'merged_into' AND", "e.occurred_at").to_owned(),
        branch!("contacts_added", "COUNT(*)", "1", "s.store_id", "a.staff_id", "a.channel_id",
            "channel_adds a LEFT JOIN staff s ON s.id = a.staff_id WHERE", "a.added_at").to_owned(),
        branch!("contacts_lost", "COUNT(*)", "1", "s.store_id", "a.staff_id", "a.channel_id",
            "channel_adds a LEFT JOIN staff s ON s.id = a.staff_id WHERE a.deleted_at IS NOT NULL AND",
            "a.deleted_at").to_owned(),
        branch!("orders", "COUNT(*)", "1", "COALESCE(o.store_id, s.store_id)", "o.guide_id",
            "o.touch_channel_id", "orders o LEFT JOIN staff s ON s.id = o.guide_id WHERE", "o.paid_at").to_owned(),
        branch!("gmv_fen", "SUM(v)", "o.amount", "COALESCE(o.store_id, s.store_id)", "o.guide_id",
            "o.touch_channel_id", "orders o LEFT JOIN staff s ON s.id = o.guide_id WHERE", "o.paid_at").to_owned(),
        branch!("refunds", "COUNT(*)", "1", "COALESCE(o.store_id, s.store_id)", "o.guide_id",
            "CAST(NULL AS BIGINT)",
            "order_refunds r JOIN orders o ON o.id = r.order_id LEFT JOIN staff s ON s.id = o.guide_id WHERE",
            "r.refunded_at").to_owned(),
        branch!("refunded_fen", "SUM(v)", "r.amount", "COALESCE(o.store_id, s.store_id)", "o.guide_id",
            "CAST(NULL AS BIGINT)",
            "order_refunds r JOIN orders o ON o.id = r.order_id LEFT JOIN staff s ON s.id = o.guide_id WHERE",
            "r.refunded_at").to_owned(),
        branch!("coupons_claimed", "COUNT(*)", "1", "CAST(NULL AS BIGINT)", "CAST(NULL AS BIGINT)",
            "CAST(NULL AS BIGINT)", "coupon_claims k WHERE", "k.claimed_at").to_owned(),
        // Events: group joins and leaves by the group's owner, coupon uses by the order's
        // store and guide. One branch per kind, so each reads its partial index.
        groups("group_joins", "join_group", &chat),
        groups("group_leaves", "leave_group", &chat),
        format!(
            "SELECT 'coupons_used' AS metric, dy AS day, st AS store, sf AS staff, {NONE} AS channel, \
             CAST(COUNT(*) AS BIGINT) AS value FROM (SELECT {dy} AS dy, \
             COALESCE(o.store_id, s.store_id) AS st, o.guide_id AS sf FROM events e \
             LEFT JOIN orders o ON o.id = {order} \
             LEFT JOIN staff s ON s.id = o.guide_id \
             WHERE e.kind = 'coupon_used' AND e.occurred_at >= $1 AND e.occurred_at < $2) q \
             GROUP BY dy, st, sf",
            dy = day!("e.occurred_at"),
        ),
    ];
    parts.join(" UNION ALL ")
}

/// Every metric of `[from_ms, to_ms)` grouped by day and dimension.
pub async fn source_rows_in(tx: &mut Tx, from_ms: i64, to_ms: i64) -> Result<Vec<SourceRow>> {
    let pg = matches!(tx, Tx::Postgres(_));
    let sql = source_sql(pg);
    let rows: Vec<Grouped> = in_tx!(tx, conn => {
        sqlx::query_as::<_, Grouped>(sqlx::AssertSqlSafe(sql))
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(&mut *conn)
            .await?
    });
    rows.into_iter()
        .map(|r| {
            let metric = Metric::parse(&r.metric).ok_or_else(|| {
                StoreError::Database(sqlx::Error::Protocol(format!(
                    "unknown metric {}",
                    r.metric
                )))
            })?;
            Ok(SourceRow {
                metric,
                day: r.day,
                store: r.store,
                staff: r.staff,
                channel: r.channel,
                value: r.value,
            })
        })
        .collect()
}

/// Replace the rows of the days `from_day..=to_day` with `rows` (all within those days).
pub async fn replace_days_in(
    tx: &mut Tx,
    from_day: i64,
    to_day: i64,
    rows: &[RollupRow],
) -> Result<()> {
    in_tx!(tx, DB, conn => {
        sqlx::query("DELETE FROM rollup_days WHERE day >= $1 AND day <= $2")
            .bind(from_day)
            .bind(to_day)
            .execute(&mut *conn)
            .await?;
        for chunk in rows.chunks(500) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO rollup_days (grain, key, metric, day, value) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.grain)
                    .push_bind(r.key)
                    .push_bind(r.metric)
                    .push_bind(r.day)
                    .push_bind(r.value);
            });
            qb.build().execute(&mut *conn).await?;
        }
    });
    Ok(())
}

/// The first and last instants the base tables hold (`None` when there is nothing).
pub async fn data_span_in(tx: &mut Tx) -> Result<Option<(i64, i64)>> {
    const KINDS: [&str; 4] = ["merged_into", "join_group", "leave_group", "coupon_used"];
    let mut parts = vec![
        "SELECT MIN(created_at) AS lo, MAX(created_at) AS hi FROM customers".to_owned(),
        "SELECT MIN(paid_at), MAX(paid_at) FROM orders".to_owned(),
        "SELECT MIN(refunded_at), MAX(refunded_at) FROM order_refunds".to_owned(),
        "SELECT MIN(added_at), MAX(added_at) FROM channel_adds".to_owned(),
        "SELECT MIN(deleted_at), MAX(deleted_at) FROM channel_adds WHERE deleted_at IS NOT NULL"
            .to_owned(),
        "SELECT MIN(claimed_at), MAX(claimed_at) FROM coupon_claims".to_owned(),
    ];
    for k in KINDS {
        parts.push(format!(
            "SELECT MIN(occurred_at), MAX(occurred_at) FROM events WHERE kind = '{k}'"
        ));
    }
    let sql = format!(
        "SELECT MIN(lo), MAX(hi) FROM ({}) q",
        parts.join(" UNION ALL ")
    );
    let (lo, hi): (Option<i64>, Option<i64>) = in_tx!(tx, conn => {
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_one(&mut *conn).await?
    });
    Ok(lo.zip(hi))
}

/// The rebuild bookkeeping (see migration 0030).
#[derive(Debug, Clone, Copy, FromRow)]
pub struct RollupState {
    pub requested: i64,
    pub rebuilt: i64,
    pub rebuilt_at: Option<i64>,
    pub followed_at: Option<i64>,
}

pub async fn state(db: &Db) -> Result<RollupState> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, RollupState>(
            "SELECT requested, rebuilt, rebuilt_at, followed_at FROM rollup_state WHERE id = 1",
        )
        .fetch_one(pool)
        .await?)
    })
}

/// Ask for every day to be recomputed.
pub async fn request_rebuild(db: &Db) -> Result<()> {
    db_run!(db, pool => {
        sqlx::query("UPDATE rollup_state SET requested = requested + 1 WHERE id = 1")
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// [`request_rebuild`] inside a transaction (a guide moved to another store).
pub async fn request_rebuild_in(tx: &mut Tx) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query("UPDATE rollup_state SET requested = requested + 1 WHERE id = 1")
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// A rebuild that began at generation `generation` is done.
pub async fn rebuilt_in(tx: &mut Tx, generation: i64, now: i64) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query(
            "UPDATE rollup_state SET rebuilt = $1, rebuilt_at = $2 WHERE id = 1 AND rebuilt < $1",
        )
        .bind(generation)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// The follower caught up at `now`.
pub async fn followed_in(tx: &mut Tx, now: i64) -> Result<()> {
    in_tx!(tx, conn => {
        sqlx::query("UPDATE rollup_state SET followed_at = $1 WHERE id = 1")
            .bind(now)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// Which keys of a grain to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keys {
    /// One key.
    One(i64),
    /// The guides of a store (grain 'g').
    GuidesOf(i64),
    /// Every key.
    All,
}

/// A metric's value on a day (summed over the keys read).
#[derive(Debug, Clone, FromRow)]
pub struct DayValue {
    pub metric: String,
    pub day: i64,
    pub value: i64,
}

/// The values of a grain's keys per metric and day over `from_day..=to_day`.
pub async fn by_day(
    db: &Db,
    grain: &str,
    key: i64,
    from_day: i64,
    to_day: i64,
) -> Result<Vec<DayValue>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, DayValue>(
            "SELECT metric, day, value FROM rollup_days \
             WHERE grain = $1 AND key = $2 AND day >= $3 AND day <= $4",
        )
        .bind(grain)
        .bind(key)
        .bind(from_day)
        .bind(to_day)
        .fetch_all(pool)
        .await?)
    })
}

/// A metric's total per metric of one grain key before `day` (for levels: the pool, group
/// members).
pub async fn totals_before(db: &Db, grain: &str, key: i64, day: i64) -> Result<Vec<(String, i64)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, (String, i64)>(
            "SELECT metric, CAST(SUM(value) AS BIGINT) FROM rollup_days \
             WHERE grain = $1 AND key = $2 AND day < $3 GROUP BY metric",
        )
        .bind(grain)
        .bind(key)
        .bind(day)
        .fetch_all(pool)
        .await?)
    })
}

/// The keys of a grain ranked by a metric's sum over `from_day..=to_day`, then by a second
/// metric's (most first, key 0 — none — left out; a key with either counts), with `keys`
/// limiting which: at most `limit`.
#[allow(clippy::too_many_arguments)]
pub async fn ranked(
    db: &Db,
    grain: &str,
    metric: &str,
    then: &str,
    from_day: i64,
    to_day: i64,
    keys: Keys,
    limit: i64,
) -> Result<Vec<(i64, i64)>> {
    let filter = match keys {
        Keys::One(_) => " AND key = $7",
        Keys::GuidesOf(_) => " AND key IN (SELECT id FROM staff WHERE store_id = $7)",
        Keys::All => " AND $7 = 0",
    };
    let bound = match keys {
        Keys::One(k) | Keys::GuidesOf(k) => k,
        Keys::All => 0,
    };
    let sql = format!(
        "SELECT key, CAST(SUM(CASE WHEN metric = $2 THEN value ELSE 0 END) AS BIGINT) AS total, \
         CAST(SUM(CASE WHEN metric = $6 THEN value ELSE 0 END) AS BIGINT) AS second \
         FROM rollup_days \
         WHERE grain = $1 AND metric IN ($2, $6) AND day >= $3 AND day <= $4 AND key <> 0{filter} \
         GROUP BY key ORDER BY total DESC, second DESC, key LIMIT $5"
    );
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, (i64, i64, i64)>(sqlx::AssertSqlSafe(sql))
            .bind(grain)
            .bind(metric)
            .bind(from_day)
            .bind(to_day)
            .bind(limit)
            .bind(then)
            .bind(bound)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|(k, v, _)| (k, v))
            .collect())
    })
}

/// Every stored row, ordered (tests compare the followed rollups with a rebuild).
pub async fn all_rows(db: &Db) -> Result<Vec<(String, i64, String, i64, i64)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, (String, i64, String, i64, i64)>(
            "SELECT grain, key, metric, day, value FROM rollup_days ORDER BY grain, key, metric, day",
        )
        .fetch_all(pool)
        .await?)
    })
}

/// What [`names`] looks up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    Channels,
    Stores,
    /// Staff, by display name.
    Staff,
}

/// The names of `ids` (those that exist).
pub async fn names(db: &Db, what: Named, ids: &[i64]) -> Result<Vec<(i64, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let head = match what {
        Named::Channels => "SELECT id, name FROM channels WHERE id IN (",
        Named::Stores => "SELECT id, name FROM stores WHERE id IN (",
        Named::Staff => "SELECT id, display_name FROM staff WHERE id IN (",
    };
    db_run!(db, pool => {
        let mut qb = sqlx::QueryBuilder::new(head);
        let mut sep = qb.separated(", ");
        for id in ids {
            sep.push_bind(*id);
        }
        qb.push(")");
        Ok(qb.build_query_as::<(i64, String)>().fetch_all(pool).await?)
    })
}

/// The store of a staff member (`None`: no such staff member, or none).
pub async fn store_of_staff(db: &Db, staff: i64) -> Result<Option<Option<i64>>> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar::<_, Option<i64>>("SELECT store_id FROM staff WHERE id = $1")
            .bind(staff)
            .fetch_optional(pool)
            .await?)
    })
}

/// The sums of `metrics` over `from_day..=to_day` for each of `keys` of a grain:
/// `(key, metric, sum)`.
pub async fn sums_of(
    db: &Db,
    grain: &str,
    metrics: &[&str],
    from_day: i64,
    to_day: i64,
    keys: &[i64],
) -> Result<Vec<(i64, String, i64)>> {
    if keys.is_empty() || metrics.is_empty() {
        return Ok(Vec::new());
    }
    db_run!(db, pool => {
        let mut qb = sqlx::QueryBuilder::new(
            "SELECT key, metric, CAST(SUM(value) AS BIGINT) FROM rollup_days WHERE grain = ",
        );
        qb.push_bind(grain)
            .push(" AND day >= ")
            .push_bind(from_day)
            .push(" AND day <= ")
            .push_bind(to_day)
            .push(" AND key IN (");
        let mut sep = qb.separated(", ");
        for k in keys {
            sep.push_bind(*k);
        }
        qb.push(") AND metric IN (");
        let mut sep = qb.separated(", ");
        for m in metrics {
            sep.push_bind(*m);
        }
        qb.push(") GROUP BY key, metric");
        Ok(qb.build_query_as::<(i64, String, i64)>().fetch_all(pool).await?)
    })
}

/// The customer groups owned by `owners`' staff, as a change per Shanghai day: +1 on the day
/// a group was created, −1 on the day it was dismissed (`(day, change)`). Read live: a brand
/// has thousands of groups, not millions, and a group synced from WeCom long after its
/// creation comes with no event to recompute its day by.
pub async fn group_days(db: &Db, owners: Keys) -> Result<Vec<(i64, i64)>> {
    let (filter, bound) = match owners {
        Keys::One(k) => ("g.owner_staff_id = $1", k),
        Keys::GuidesOf(k) => (
            "g.owner_staff_id IN (SELECT id FROM staff WHERE store_id = $1)",
            k,
        ),
        Keys::All => ("$1 = 0", 0),
    };
    let sql = format!(
        "SELECT day, CAST(SUM(d) AS BIGINT) FROM (\
         SELECT {c} AS day, 1 AS d FROM customer_groups g WHERE {filter} \
         UNION ALL SELECT {x} AS day, -1 AS d FROM customer_groups g \
         WHERE g.dismissed_at IS NOT NULL AND {filter}) q GROUP BY day",
        c = day!("g.created_at"),
        x = day!("g.dismissed_at"),
    );
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, (i64, i64)>(sqlx::AssertSqlSafe(sql))
            .bind(bound)
            .fetch_all(pool)
            .await?)
    })
}
