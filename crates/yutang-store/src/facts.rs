//! Customer facts and monthly cells (migration 0031): what the retail metrics, cohorts and
//! funnels read. The app's follower asks for the facts of the customers its events name
//! ([`inputs_in`]), compares them with the stored ones ([`stored_in`]) and writes both the
//! new facts ([`replace_in`]) and the difference of their contributions to the cells
//! ([`add_cells_in`]) in its transaction; `yutang_core::analytics::facts` says what a
//! customer contributes.

use std::collections::{BTreeMap, HashMap};

use yutang_core::analytics::facts::{
    CellKey, CustomerIn, Facts, Joined, MonthRow, OpenIn, OrderIn,
};

use crate::Db;
use crate::error::Result;
use crate::tx::Tx;

/// Customers read per query (bound parameters stay well under SQLite's limit).
pub const CHUNK: usize = 500;

/// Which customers a read or write is about.
#[derive(Debug, Clone, Copy)]
pub enum Customers<'a> {
    /// These (at most [`CHUNK`]): the customers a follower step's events name.
    Ids(&'a [i64]),
    /// Ids in `[lo, hi)`: a rebuild walks every customer by range.
    Range(i64, i64),
}

impl Customers<'_> {
    fn is_empty(&self) -> bool {
        match self {
            Customers::Ids(ids) => ids.is_empty(),
            Customers::Range(lo, hi) => lo >= hi,
        }
    }
}

/// ` col IN (…)` or ` col >= lo AND col < hi`.
fn push_ids<DB: sqlx::Database>(qb: &mut sqlx::QueryBuilder<DB>, col: &str, which: Customers<'_>)
where
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    match which {
        Customers::Ids(ids) => {
            qb.push(format!(" {col} IN ("));
            let mut sep = qb.separated(", ");
            for id in ids {
                sep.push_bind(*id);
            }
            qb.push(")");
        }
        Customers::Range(lo, hi) => {
            qb.push(format!(" {col} >= "))
                .push_bind(lo)
                .push(format!(" AND {col} < "))
                .push_bind(hi);
        }
    }
}

type AcqRow = (i64, i64, Option<i64>, Option<i64>, Option<i64>);
type OrderRow = (i64, i64, i64, Option<i64>, Option<i64>);

/// What the facts of `ids` are computed from, for those that exist and are not merged into
/// another customer.
pub async fn inputs_in(tx: &mut Tx, ids: Customers<'_>) -> Result<HashMap<i64, CustomerIn>> {
    let mut out: HashMap<i64, CustomerIn> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let live: Vec<i64>;
    let acq: Vec<AcqRow>;
    let groups: Vec<(i64, i64)>;
    let referred: Vec<(i64, i64)>;
    let orders: Vec<OrderRow>;
    let shares: Vec<(i64, i64)>;
    let opens: Vec<(i64, i64, Option<i64>, Option<i64>)>;
    let tiers: Vec<(i64, i64)>;
    let cards: Vec<i64>;
    let adds: Vec<(i64, i64, Option<i64>)>;
    in_tx!(tx, DB, conn => {
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT id FROM customers WHERE merged_into IS NULL AND",
        );
        push_ids(&mut qb, "id", ids);
        live = qb.build_query_scalar().fetch_all(&mut *conn).await?;

        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT a.customer_id, a.acquired_at, a.channel_id, a.staff_id, s.store_id \
             FROM customer_acquisition a LEFT JOIN staff s ON s.id = a.staff_id \
             WHERE",
        );
        push_ids(&mut qb, "a.customer_id", ids);
        acq = qb.build_query_as().fetch_all(&mut *conn).await?;

        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT customer_id, MIN(occurred_at) FROM events \
             WHERE kind = 'join_group' AND",
        );
        push_ids(&mut qb, "customer_id", ids);
        qb.push(" GROUP BY customer_id");
        groups = qb.build_query_as().fetch_all(&mut *conn).await?;

        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT customer_id, MIN(occurred_at) FROM events \
             WHERE kind = 'referred' AND",
        );
        push_ids(&mut qb, "customer_id", ids);
        qb.push(" GROUP BY customer_id");
        referred = qb.build_query_as().fetch_all(&mut *conn).await?;

        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT o.customer_id, o.paid_at, o.amount - o.refunded_amount, \
             COALESCE(o.store_id, s.store_id), o.guide_id \
             FROM orders o LEFT JOIN staff s ON s.id = o.guide_id WHERE",
        );
        push_ids(&mut qb, "o.customer_id", ids);
        orders = qb.build_query_as().fetch_all(&mut *conn).await?;

        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT customer_id, occurred_at FROM events WHERE kind = 'share' AND",
        );
        push_ids(&mut qb, "customer_id", ids);
        shares = qb.build_query_as().fetch_all(&mut *conn).await?;

        // A customer's own opens of tracked links: yutang_app::radar writes them as
        // `page_view` events marked `tracked_link`, with the sending guide as staff, and
        // without a client id, which every event an integration posts carries (so posted
        // events cannot pass for opens).
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT e.customer_id, e.occurred_at, s.store_id, e.staff_id FROM events e \
             LEFT JOIN staff s ON s.id = e.staff_id \
             WHERE e.kind = 'page_view' AND e.client_id IS NULL \
             AND e.detail LIKE '%\"tracked_link\":true%' AND",
        );
        push_ids(&mut qb, "e.customer_id", ids);
        opens = qb.build_query_as().fetch_all(&mut *conn).await?;

        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT customer_id, tier_id FROM customer_tiers WHERE",
        );
        push_ids(&mut qb, "customer_id", ids);
        tiers = qb.build_query_as().fetch_all(&mut *conn).await?;

        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT DISTINCT customer_id FROM card_periods \
             WHERE status <> 'refunded' AND",
        );
        push_ids(&mut qb, "customer_id", ids);
        cards = qb.build_query_scalar().fetch_all(&mut *conn).await?;

        // Customers with WeCom contacts: how many are still in place, the last deletion.
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT customer_id, CAST(SUM(CASE WHEN deleted_at IS NULL THEN 1 ELSE 0 END) AS BIGINT), \
             MAX(deleted_at) FROM channel_adds WHERE",
        );
        push_ids(&mut qb, "customer_id", ids);
        qb.push(" GROUP BY customer_id");
        adds = qb.build_query_as().fetch_all(&mut *conn).await?;
    });
    for id in live {
        out.insert(id, CustomerIn::default());
    }
    for (id, at, channel, staff, store) in acq {
        if let Some(c) = out.get_mut(&id) {
            c.joined = Some(Joined {
                at,
                channel,
                staff,
                store,
            });
        }
    }
    for (id, at) in groups {
        if let Some(c) = out.get_mut(&id) {
            c.first_group_at = Some(at);
        }
    }
    for (id, at) in referred {
        if let Some(c) = out.get_mut(&id) {
            c.referred_at = Some(at);
        }
    }
    for (id, paid_at, net_fen, store, guide) in orders {
        if let Some(c) = out.get_mut(&id) {
            c.orders.push(OrderIn {
                paid_at,
                net_fen,
                store,
                guide,
            });
        }
    }
    for (id, at) in shares {
        if let Some(c) = out.get_mut(&id) {
            c.shares.push(at);
        }
    }
    for (id, at, store, guide) in opens {
        if let Some(c) = out.get_mut(&id) {
            c.opens.push(OpenIn { at, store, guide });
        }
    }
    for (id, tier) in tiers {
        if let Some(c) = out.get_mut(&id) {
            c.tier = Some(tier);
        }
    }
    for id in cards {
        if let Some(c) = out.get_mut(&id) {
            c.paid_member = true;
        }
    }
    for (id, open, last_deleted) in adds {
        if let Some(c) = out.get_mut(&id)
            && open == 0
        {
            c.lost_at = last_deleted;
        }
    }
    Ok(out)
}

#[derive(sqlx::FromRow)]
struct FactsRow {
    customer_id: i64,
    joined_at: Option<i64>,
    channel_id: Option<i64>,
    staff_id: Option<i64>,
    store_id: Option<i64>,
    first_group_at: Option<i64>,
    referred_at: Option<i64>,
    first_order_at: Option<i64>,
    second_order_at: Option<i64>,
    tier_id: Option<i64>,
    paid_member: i64,
    lost_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct MonthsRow {
    customer_id: i64,
    month: i64,
    store_key: i64,
    guide_key: i64,
    referred: i64,
    orders: i64,
    net_fen: i64,
    shares: i64,
    opens: i64,
}

/// The stored facts and month rows of `ids` (those that have them).
pub async fn stored_in(
    tx: &mut Tx,
    ids: Customers<'_>,
) -> Result<HashMap<i64, (Facts, Vec<MonthRow>)>> {
    let mut out: HashMap<i64, (Facts, Vec<MonthRow>)> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let facts: Vec<FactsRow>;
    let months: Vec<MonthsRow>;
    in_tx!(tx, DB, conn => {
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT customer_id, joined_at, channel_id, staff_id, store_id, first_group_at, \
             referred_at, first_order_at, second_order_at, tier_id, paid_member, lost_at \
             FROM customer_facts WHERE",
        );
        push_ids(&mut qb, "customer_id", ids);
        facts = qb.build_query_as().fetch_all(&mut *conn).await?;
        let mut qb = sqlx::QueryBuilder::<DB>::new(
            "SELECT customer_id, month, store_key, guide_key, referred, orders, net_fen, shares, \
             opens FROM customer_months WHERE",
        );
        push_ids(&mut qb, "customer_id", ids);
        qb.push(" ORDER BY customer_id, month, store_key, guide_key, referred");
        months = qb.build_query_as().fetch_all(&mut *conn).await?;
    });
    for f in facts {
        out.insert(
            f.customer_id,
            (
                Facts {
                    joined: f.joined_at.map(|at| Joined {
                        at,
                        channel: f.channel_id,
                        staff: f.staff_id,
                        store: f.store_id,
                    }),
                    first_group_at: f.first_group_at,
                    referred_at: f.referred_at,
                    first_order_at: f.first_order_at,
                    second_order_at: f.second_order_at,
                    tier: f.tier_id,
                    paid_member: f.paid_member != 0,
                    lost_at: f.lost_at,
                },
                Vec::new(),
            ),
        );
    }
    for m in months {
        if let Some((_, rows)) = out.get_mut(&m.customer_id) {
            rows.push(MonthRow {
                month: m.month,
                store: m.store_key,
                guide: m.guide_key,
                referred: m.referred != 0,
                orders: m.orders,
                net_fen: m.net_fen,
                shares: m.shares,
                opens: m.opens,
            });
        }
    }
    Ok(out)
}

/// Replace the stored facts of `ids` with `new` (customers of `ids` missing from `new` —
/// merged away — keep none).
pub async fn replace_in(
    tx: &mut Tx,
    ids: Customers<'_>,
    new: &[(i64, Facts, Vec<MonthRow>)],
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let months: Vec<(i64, MonthRow)> = new
        .iter()
        .flat_map(|(id, _, rows)| rows.iter().map(move |r| (*id, *r)))
        .collect();
    in_tx!(tx, DB, conn => {
        for table in ["customer_facts", "customer_months"] {
            let mut qb = sqlx::QueryBuilder::<DB>::new(format!(
                "DELETE FROM {table} WHERE"
            ));
            push_ids(&mut qb, "customer_id", ids);
            qb.build().execute(&mut *conn).await?;
        }
        for chunk in new.chunks(500) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO customer_facts (customer_id, joined_at, channel_id, staff_id, \
                 store_id, first_group_at, referred_at, first_order_at, second_order_at, \
                 tier_id, paid_member, lost_at) ",
            );
            qb.push_values(chunk, |mut b, (id, f, _)| {
                b.push_bind(*id)
                    .push_bind(f.joined.map(|j| j.at))
                    .push_bind(f.joined.and_then(|j| j.channel))
                    .push_bind(f.joined.and_then(|j| j.staff))
                    .push_bind(f.joined.and_then(|j| j.store))
                    .push_bind(f.first_group_at)
                    .push_bind(f.referred_at)
                    .push_bind(f.first_order_at)
                    .push_bind(f.second_order_at)
                    .push_bind(f.tier)
                    .push_bind(i64::from(f.paid_member))
                    .push_bind(f.lost_at);
            });
            qb.build().execute(&mut *conn).await?;
        }
        for chunk in months.chunks(500) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO customer_months (customer_id, month, store_key, guide_key, \
                 referred, orders, net_fen, shares, opens) ",
            );
            qb.push_values(chunk, |mut b, (id, r)| {
                b.push_bind(*id)
                    .push_bind(r.month)
                    .push_bind(r.store)
                    .push_bind(r.guide)
                    .push_bind(i64::from(r.referred))
                    .push_bind(r.orders)
                    .push_bind(r.net_fen)
                    .push_bind(r.shares)
                    .push_bind(r.opens);
            });
            qb.build().execute(&mut *conn).await?;
        }
    });
    Ok(())
}

/// Add `delta` to the cells.
pub async fn add_cells_in(tx: &mut Tx, delta: &BTreeMap<CellKey, i64>) -> Result<()> {
    let rows: Vec<(&CellKey, i64)> = delta.iter().map(|(k, v)| (k, *v)).collect();
    in_tx!(tx, DB, conn => {
        for chunk in rows.chunks(1_000) {
            let mut qb = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO rollup_cells (family, grain, key, period, cell, value) ",
            );
            qb.push_values(chunk, |mut b, (k, v)| {
                b.push_bind(k.family.as_str())
                    .push_bind(k.grain.as_str())
                    .push_bind(k.key)
                    .push_bind(k.period)
                    .push_bind(k.cell.as_str())
                    .push_bind(*v);
            });
            qb.push(
                " ON CONFLICT (family, grain, key, period, cell) \
                 DO UPDATE SET value = rollup_cells.value + excluded.value",
            );
            qb.build().execute(&mut *conn).await?;
        }
    });
    Ok(())
}

/// Forget every fact and cell (a rebuild computes them again).
pub async fn clear_in(tx: &mut Tx) -> Result<()> {
    in_tx!(tx, conn => {
        for sql in [
            "DELETE FROM customer_facts",
            "DELETE FROM customer_months",
            "DELETE FROM rollup_cells",
        ] {
            sqlx::query(sql).execute(&mut *conn).await?;
        }
    });
    Ok(())
}

/// The highest customer id (0 without customers): a rebuild walks `1..=max` by range.
pub async fn max_customer_id_in(tx: &mut Tx) -> Result<i64> {
    in_tx!(tx, conn => {
        Ok(sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(id) FROM customers")
            .fetch_one(&mut *conn)
            .await?
            .unwrap_or(0))
    })
}

/// One stored cell value.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CellValue {
    pub key: i64,
    pub period: i64,
    pub cell: String,
    pub value: i64,
}

/// The cells of `family` and `grain` with periods in `from..=to`, for one key (`Some`) or
/// every key.
pub async fn cells(
    db: &Db,
    family: &str,
    grain: &str,
    key: Option<i64>,
    from: i64,
    to: i64,
) -> Result<Vec<CellValue>> {
    db_run!(db, pool => {
        let mut qb = sqlx::QueryBuilder::new(
            "SELECT key, period, cell, value FROM rollup_cells WHERE family = ",
        );
        qb.push_bind(family)
            .push(" AND grain = ")
            .push_bind(grain)
            .push(" AND period >= ")
            .push_bind(from)
            .push(" AND period <= ")
            .push_bind(to);
        if let Some(k) = key {
            qb.push(" AND key = ").push_bind(k);
        }
        Ok(qb.build_query_as::<CellValue>().fetch_all(pool).await?)
    })
}

/// The sums over periods `from..=to` of `cells` of `family` and `grain`, per key, for the
/// keys given (`None`: every key): rows with `period` 0.
pub async fn sums(
    db: &Db,
    family: &str,
    grain: &str,
    keys: Option<&[i64]>,
    cells: &[&str],
    from: i64,
    to: i64,
) -> Result<Vec<CellValue>> {
    if keys.is_some_and(|k| k.is_empty()) || cells.is_empty() {
        return Ok(Vec::new());
    }
    db_run!(db, pool => {
        let mut qb = sqlx::QueryBuilder::new(
            "SELECT key, CAST(0 AS BIGINT) AS period, cell, CAST(SUM(value) AS BIGINT) AS value \
             FROM rollup_cells WHERE family = ",
        );
        qb.push_bind(family)
            .push(" AND grain = ")
            .push_bind(grain)
            .push(" AND period >= ")
            .push_bind(from)
            .push(" AND period <= ")
            .push_bind(to)
            .push(" AND cell IN (");
        let mut sep = qb.separated(", ");
        for c in cells {
            sep.push_bind(*c);
        }
        qb.push(")");
        if let Some(keys) = keys {
            qb.push(" AND key IN (");
            let mut sep = qb.separated(", ");
            for k in keys {
                sep.push_bind(*k);
            }
            qb.push(")");
        }
        qb.push(" GROUP BY key, cell");
        Ok(qb.build_query_as::<CellValue>().fetch_all(pool).await?)
    })
}

/// Every cell with a value (tests compare a followed state with a rebuild).
pub async fn all_cells(db: &Db) -> Result<Vec<(String, String, i64, i64, String, i64)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as(
            "SELECT family, grain, key, period, cell, value FROM rollup_cells WHERE value <> 0 \
             ORDER BY family, grain, key, period, cell",
        )
        .fetch_all(pool)
        .await?)
    })
}

/// The ids of a store's staff.
pub async fn staff_of_store(db: &Db, store_id: i64) -> Result<Vec<i64>> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar("SELECT id FROM staff WHERE store_id = $1")
            .bind(store_id)
            .fetch_all(pool)
            .await?)
    })
}

/// Every tier's name.
pub async fn tier_names(db: &Db) -> Result<Vec<(i64, String)>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as("SELECT id, name FROM tiers").fetch_all(pool).await?)
    })
}
