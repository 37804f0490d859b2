//! Leaderboards and incentive pools (migration 0046): each guide's or store's figures over a
//! period summed from the daily rollups (adds, losses, paid and refunded amounts), the
//! customer facts (who joined through whom, and their first order), done guide tasks and
//! service ratings; the guides and stores a board may hold; and the pools, whose settlement is
//! a guarded update that writes the payouts once.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::FromRow;
use yutang_core::leaderboards::{Figures, Payout, Subject};

use crate::Db;
use crate::error::{Result, StoreError};
use crate::tx::Tx;

/// The figures of every guide (or store) with any in `[from_day, to_day]`, whose instants are
/// `[from_ms, to_ms)`. Keys without any figure are absent.
pub async fn figures(
    db: &Db,
    subject: Subject,
    from_day: i64,
    to_day: i64,
    from_ms: i64,
    to_ms: i64,
) -> Result<BTreeMap<i64, Figures>> {
    let (grain, col) = match subject {
        Subject::Guides => ("g", "staff_id"),
        Subject::Stores => ("s", "store_id"),
    };
    let facts = format!(
        "SELECT {col}, CAST(COUNT(*) AS BIGINT), \
         CAST(COALESCE(SUM(CASE WHEN first_order_at IS NOT NULL AND first_order_at < $2 \
         THEN 1 ELSE 0 END), 0) AS BIGINT) \
         FROM customer_facts WHERE joined_at >= $1 AND joined_at < $2 AND {col} IS NOT NULL \
         GROUP BY {col}"
    );
    let tasks = format!(
        "SELECT {col}, CAST(COUNT(*) AS BIGINT) FROM guide_tasks \
         WHERE state = 'done' AND done_at >= $1 AND done_at < $2 AND {col} IS NOT NULL \
         GROUP BY {col}"
    );
    let ratings = format!(
        "SELECT {col}, CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(score), 0) AS BIGINT) \
         FROM service_ratings WHERE created_at >= $1 AND created_at < $2 AND {col} IS NOT NULL \
         GROUP BY {col}"
    );
    let mut out: BTreeMap<i64, Figures> = BTreeMap::new();
    db_run!(db, pool => {
        let sums: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT key, metric, CAST(SUM(value) AS BIGINT) FROM rollup_days \
             WHERE grain = $1 AND metric IN ('contacts_added', 'contacts_lost', 'gmv_fen', \
             'refunded_fen') AND day >= $2 AND day <= $3 AND key <> 0 GROUP BY key, metric",
        )
        .bind(grain)
        .bind(from_day)
        .bind(to_day)
        .fetch_all(pool)
        .await?;
        for (key, metric, v) in sums {
            let f = out.entry(key).or_default();
            match metric.as_str() {
                "contacts_added" => f.adds = v,
                "contacts_lost" => f.lost = v,
                "gmv_fen" => f.paid_fen = v,
                "refunded_fen" => f.refunded_fen = v,
                _ => {}
            }
        }
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(facts))
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(pool)
            .await?;
        for (key, joined, first) in rows {
            let f = out.entry(key).or_default();
            f.new_customers = joined;
            f.first_orders = first;
        }
        let rows: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(tasks))
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(pool)
            .await?;
        for (key, done) in rows {
            out.entry(key).or_default().tasks_done = done;
        }
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(ratings))
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(pool)
            .await?;
        for (key, n, sum) in rows {
            let f = out.entry(key).or_default();
            f.ratings = n;
            f.rating_sum = sum;
        }
        Ok(out)
    })
}

/// A guide a board or a pool may hold.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct GuideRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub status: String,
    pub store_id: Option<i64>,
    pub store_name: Option<String>,
    pub region_id: Option<i64>,
}

/// The guides (role `guide`, any status: a guide who left may still have figures) of a store,
/// of a region's stores, or of the brand.
pub async fn guides(db: &Db, store: Option<i64>, region: Option<i64>) -> Result<Vec<GuideRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, GuideRow>(
            "SELECT s.id, s.username, s.display_name, s.status, s.store_id, st.name AS store_name, \
             st.region_id FROM staff s LEFT JOIN stores st ON st.id = s.store_id \
             WHERE s.role = 'guide' AND ($1 IS NULL OR s.store_id = $1) \
             AND ($2 IS NULL OR st.region_id = $2) ORDER BY s.id",
        )
        .bind(store)
        .bind(region)
        .fetch_all(pool)
        .await?)
    })
}

/// A store a board may hold.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct StoreRow {
    pub id: i64,
    pub name: String,
    pub region_id: Option<i64>,
}

/// The stores of a region, or of the brand.
pub async fn stores(db: &Db, region: Option<i64>) -> Result<Vec<StoreRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, StoreRow>(
            "SELECT id, name, region_id FROM stores WHERE ($1 IS NULL OR region_id = $1) \
             ORDER BY id",
        )
        .bind(region)
        .fetch_all(pool)
        .await?)
    })
}

/// The region of a store (`None`: no such store; `Some(None)`: a store without a region).
pub async fn region_of_store(db: &Db, store: i64) -> Result<Option<Option<i64>>> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar::<_, Option<i64>>("SELECT region_id FROM stores WHERE id = $1")
            .bind(store)
            .fetch_optional(pool)
            .await?)
    })
}

/// Whether a region exists.
pub async fn region_exists(db: &Db, region: i64) -> Result<bool> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar::<_, i64>("SELECT id FROM regions WHERE id = $1")
            .bind(region)
            .fetch_optional(pool)
            .await?
            .is_some())
    })
}

/// An incentive pool as stored.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct PoolRow {
    pub id: i64,
    pub name: String,
    pub span: String,
    pub from_day: i64,
    pub to_day: i64,
    pub level: String,
    pub scope_id: Option<i64>,
    pub metric: String,
    pub amount_fen: i64,
    pub individual_pct: i64,
    pub team_pct: i64,
    pub state: String,
    pub unallocated_fen: i64,
    pub settled_at: Option<i64>,
    pub settled_by: Option<i64>,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const POOL_COLUMNS: &str = "SELECT id, name, span, from_day, to_day, level, scope_id, metric, \
     amount_fen, individual_pct, team_pct, state, unallocated_fen, settled_at, settled_by, \
     created_by, created_at, updated_at FROM incentive_pools";

/// A pool to save (parsed and checked by the caller).
#[derive(Debug, Clone, Copy)]
pub struct NewPool<'a> {
    pub name: &'a str,
    pub span: &'a str,
    pub from_day: i64,
    pub to_day: i64,
    pub level: &'a str,
    pub scope_id: Option<i64>,
    pub metric: &'a str,
    pub amount_fen: i64,
    pub individual_pct: i64,
    pub team_pct: i64,
}

pub async fn insert_in(tx: &mut Tx, p: &NewPool<'_>, by: Option<i64>, now: i64) -> Result<i64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar(
            "INSERT INTO incentive_pools (name, span, from_day, to_day, level, scope_id, metric, \
             amount_fen, individual_pct, team_pct, state, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'draft', $11, $12, $12) \
             RETURNING id",
        )
        .bind(p.name)
        .bind(p.span)
        .bind(p.from_day)
        .bind(p.to_day)
        .bind(p.level)
        .bind(p.scope_id)
        .bind(p.metric)
        .bind(p.amount_fen)
        .bind(p.individual_pct)
        .bind(p.team_pct)
        .bind(by)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?)
    })
}

/// Change a draft pool; `false` when it is no longer a draft (nothing written).
pub async fn update_in(tx: &mut Tx, id: i64, p: &NewPool<'_>, now: i64) -> Result<bool> {
    in_tx!(tx, conn => {
        let done = sqlx::query(
            "UPDATE incentive_pools SET name = $2, span = $3, from_day = $4, to_day = $5, \
             level = $6, scope_id = $7, metric = $8, amount_fen = $9, individual_pct = $10, \
             team_pct = $11, updated_at = CASE WHEN updated_at >= $12 THEN updated_at + 1 \
             ELSE $12 END WHERE id = $1 AND state = 'draft'",
        )
        .bind(id)
        .bind(p.name)
        .bind(p.span)
        .bind(p.from_day)
        .bind(p.to_day)
        .bind(p.level)
        .bind(p.scope_id)
        .bind(p.metric)
        .bind(p.amount_fen)
        .bind(p.individual_pct)
        .bind(p.team_pct)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        Ok(done.rows_affected() == 1)
    })
}

/// Delete a draft pool; `false` when it is no longer a draft.
pub async fn delete_in(tx: &mut Tx, id: i64) -> Result<bool> {
    in_tx!(tx, conn => {
        let done = sqlx::query("DELETE FROM incentive_pools WHERE id = $1 AND state = 'draft'")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        Ok(done.rows_affected() == 1)
    })
}

pub async fn get(db: &Db, id: i64) -> Result<PoolRow> {
    let sql = format!("{POOL_COLUMNS} WHERE id = $1");
    db_run!(db, pool => {
        sqlx::query_as::<_, PoolRow>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(pool)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// The pool read in the caller's transaction.
pub async fn get_in(tx: &mut Tx, id: i64) -> Result<PoolRow> {
    let sql = format!("{POOL_COLUMNS} WHERE id = $1");
    in_tx!(tx, conn => {
        sqlx::query_as::<_, PoolRow>(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::NotFound)
    })
}

/// The newest pools first, at most `limit`.
pub async fn list(db: &Db, limit: i64) -> Result<Vec<PoolRow>> {
    let sql = format!("{POOL_COLUMNS} ORDER BY from_day DESC, id DESC LIMIT $1");
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, PoolRow>(sqlx::AssertSqlSafe(sql))
            .bind(limit)
            .fetch_all(pool)
            .await?)
    })
}

/// Settle a draft pool as it was at `version` (its `updated_at`): mark it settled and write
/// the payouts, in the caller's transaction. `false` when the pool is no longer that draft
/// (settled meanwhile, or edited since the split was computed): nothing is written.
pub async fn settle_in(
    tx: &mut Tx,
    id: i64,
    version: i64,
    payouts: &[Payout],
    unallocated_fen: i64,
    by: Option<i64>,
    now: i64,
) -> Result<bool> {
    in_tx!(tx, conn => {
        let done = sqlx::query(
            "UPDATE incentive_pools SET state = 'settled', unallocated_fen = $3, settled_at = $4, \
             settled_by = $5 WHERE id = $1 AND state = 'draft' AND updated_at = $2",
        )
        .bind(id)
        .bind(version)
        .bind(unallocated_fen)
        .bind(now)
        .bind(by)
        .execute(&mut *conn)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        for p in payouts {
            sqlx::query(
                "INSERT INTO incentive_payouts (pool_id, staff_id, store_id, contribution, \
                 individual_fen, team_fen) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(p.staff_id)
            .bind(p.store_id)
            .bind(p.contribution)
            .bind(p.individual_fen)
            .bind(p.team_fen)
            .execute(&mut *conn)
            .await?;
        }
        Ok(true)
    })
}

/// A settled pool's payouts, in staff id order.
pub async fn payouts(db: &Db, pool_id: i64) -> Result<Vec<Payout>> {
    db_run!(db, pool => {
        let rows: Vec<(i64, Option<i64>, i64, i64, i64)> = sqlx::query_as(
            "SELECT staff_id, store_id, contribution, individual_fen, team_fen \
             FROM incentive_payouts WHERE pool_id = $1 ORDER BY staff_id",
        )
        .bind(pool_id)
        .fetch_all(pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(staff_id, store_id, contribution, individual_fen, team_fen)| Payout {
                staff_id,
                store_id,
                contribution,
                individual_fen,
                team_fen,
            })
            .collect())
    })
}
