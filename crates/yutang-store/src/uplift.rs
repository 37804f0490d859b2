//! The uplift studies' cells (migration 0033): read from the customer facts in ranges of
//! customer ids ([`units_in`]), replaced as a whole ([`replace`]), read by the metrics page
//! ([`cells`]). `yutang_core::analytics::uplift` says what the cells mean.

use std::collections::BTreeMap;

use crate::Db;
use crate::error::Result;

/// One customer's inputs to the studies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnitRow {
    pub customer_id: i64,
    /// The store of the guide they added first (none: not in the pool).
    pub store: Option<i64>,
    /// Their first group join.
    pub first_group_at: Option<i64>,
    /// Their first paid member card not refunded.
    pub first_card_at: Option<i64>,
    /// Their orders by month and store (0: none): (month, store, orders, net fen).
    pub months: Vec<(i64, i64, i64, i64)>,
}

/// (customer, store, first group join).
type FactRow = (i64, Option<i64>, Option<i64>);
/// (customer, first card paid at).
type CardRow = (i64, Option<i64>);
/// (customer, month, store, orders, net fen).
type MonthRow = (i64, i64, i64, i64, i64);

/// The customers with facts whose ids are in `[lo, hi)`, by id.
pub async fn units_in(db: &Db, lo: i64, hi: i64) -> Result<Vec<UnitRow>> {
    let (facts, cards, months): (Vec<FactRow>, Vec<CardRow>, Vec<MonthRow>) = db_run!(db, pool => {
        let facts = sqlx::query_as(
            "SELECT customer_id, store_id, first_group_at FROM customer_facts \
             WHERE customer_id >= $1 AND customer_id < $2",
        )
        .bind(lo)
        .bind(hi)
        .fetch_all(pool)
        .await?;
        let cards = sqlx::query_as(
            "SELECT customer_id, MIN(paid_at) FROM card_periods \
             WHERE customer_id >= $1 AND customer_id < $2 AND status <> 'refunded' \
             GROUP BY customer_id",
        )
        .bind(lo)
        .bind(hi)
        .fetch_all(pool)
        .await?;
        let months = sqlx::query_as(
            "SELECT customer_id, month, store_key, CAST(SUM(orders) AS BIGINT), \
             CAST(SUM(net_fen) AS BIGINT) FROM customer_months \
             WHERE customer_id >= $1 AND customer_id < $2 AND orders > 0 \
             GROUP BY customer_id, month, store_key",
        )
        .bind(lo)
        .bind(hi)
        .fetch_all(pool)
        .await?;
        (facts, cards, months)
    });
    let mut out: BTreeMap<i64, UnitRow> = facts
        .into_iter()
        .map(|(customer_id, store, first_group_at)| {
            (
                customer_id,
                UnitRow {
                    customer_id,
                    store,
                    first_group_at,
                    ..UnitRow::default()
                },
            )
        })
        .collect();
    for (id, at) in cards {
        if let Some(u) = out.get_mut(&id) {
            u.first_card_at = at;
        }
    }
    for (id, month, store, orders, fen) in months {
        if let Some(u) = out.get_mut(&id) {
            u.months.push((month, store, orders, fen));
        }
    }
    Ok(out.into_values().collect())
}

/// The highest customer id with facts (0: none).
pub async fn max_customer_id(db: &Db) -> Result<i64> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(customer_id) FROM customer_facts")
            .fetch_one(pool)
            .await?
            .unwrap_or(0))
    })
}

/// One stored cell: the sums of one arm in one stratum.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct UpliftCell {
    pub study: String,
    pub grain: String,
    pub key: i64,
    pub month: i64,
    pub arm: String,
    pub stratum: i64,
    pub n: i64,
    pub d_orders: f64,
    pub d_orders_sq: f64,
    pub d_fen: f64,
    pub d_fen_sq: f64,
    pub next_buyers: i64,
    pub prior_buyers: i64,
}

/// Replace every cell with `cells` and record when they were computed, in one transaction:
/// a reader sees the old studies or the new ones, never a mix.
pub async fn replace(
    db: &Db,
    cells: &[UpliftCell],
    computed_at: i64,
    through_month: i64,
) -> Result<()> {
    let mut tx = db.begin().await?;
    in_tx!(&mut tx, DB, conn => {
        sqlx::query("DELETE FROM uplift_cells").execute(&mut *conn).await?;
        for chunk in cells.chunks(500) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO uplift_cells (study, grain, key, month, arm, stratum, n, d_orders, \
                 d_orders_sq, d_fen, d_fen_sq, next_buyers, prior_buyers) ",
            );
            qb.push_values(chunk, |mut b, c| {
                b.push_bind(c.study.clone())
                    .push_bind(c.grain.clone())
                    .push_bind(c.key)
                    .push_bind(c.month)
                    .push_bind(c.arm.clone())
                    .push_bind(c.stratum)
                    .push_bind(c.n)
                    .push_bind(c.d_orders)
                    .push_bind(c.d_orders_sq)
                    .push_bind(c.d_fen)
                    .push_bind(c.d_fen_sq)
                    .push_bind(c.next_buyers)
                    .push_bind(c.prior_buyers);
            });
            qb.build().execute(&mut *conn).await?;
        }
        sqlx::query("UPDATE uplift_state SET computed_at = $1, through_month = $2 WHERE id = 1")
            .bind(computed_at)
            .bind(through_month)
            .execute(&mut *conn)
            .await?;
    });
    tx.commit().await
}

/// The cells of `grain` and `key` for treatment months `from..=to`.
pub async fn cells(db: &Db, grain: &str, key: i64, from: i64, to: i64) -> Result<Vec<UpliftCell>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT study, grain, key, month, arm, stratum, n, d_orders, d_orders_sq, d_fen, \
             d_fen_sq, next_buyers, prior_buyers FROM uplift_cells \
             WHERE grain = $1 AND key = $2 AND month >= $3 AND month <= $4",
        )
        .bind(grain)
        .bind(key)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?)
    })
}

/// When the studies were last computed and the last treatment month they cover.
pub async fn state(db: &Db) -> Result<(Option<i64>, Option<i64>)> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT computed_at, through_month FROM uplift_state WHERE id = 1",
        )
        .fetch_one(pool)
        .await?)
    })
}
