//! What the segment engine reads from the database: customers' segment facts (for building and
//! refreshing the bitmap index), saved segments, and the translation of a resolved expression
//! into SQL — the slow path the property tests compare the index against, and the fallback
//! for anyone who wants to run an expression in the database itself.
//!
//! Both sides read the same facts with the same meaning:
//!
//! | attribute | source | no value when |
//! |---|---|---|
//! | `city`, `level` | `customers.city`, `customers.member_level` | empty |
//! | `order_count`, `total_spent_fen` | customer aggregates | never |
//! | `first_order`, `last_order` | customer aggregates | no order |
//! | `birthday` (time), `birth_month` (1–12) | `customers.birthday` | no birthday |
//! | `orders_90d`, `orders_365d`, `spent_365d` | orders paid since now − window, not fully refunded; spend net of refunds | never |
//! | `in_group` | a joined member of a live WeCom customer group (`group_members`); for a customer with no WeCom group membership rows at all, the latest `join_group`/`leave_group` event is a join | (false) |
//! | `unused_coupons` | coupons in state `claimed` or `expired` (claimed, never used, not revoked) | never (0) |
//! | custom attributes | `customer_attributes`; dates at midnight Asia/Shanghai; numbers rounded half away from zero | not set |

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::NaiveDate;
use serde::Serialize;
use sqlx::FromRow;
use yutang_core::segments::{Cond, Resolved, TimePred, shanghai_midnight};
use yutang_core::time::Millis;

use crate::db::Engine;
use crate::error::{Result, StoreError};
use crate::{Db, customers::Scope};

pub const DAY_MS: i64 = 86_400_000;

/// A custom attribute as the segment engine sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomAttr {
    pub id: i64,
    pub key: String,
    /// `text`, `number`, `date` or `enum`.
    pub kind: String,
}

/// One value of one customer.
#[derive(Debug, Clone, PartialEq)]
pub enum FactValue {
    Text(String),
    Int(i64),
    /// Epoch milliseconds.
    Time(i64),
    Bool(bool),
}

/// Everything the index holds about one customer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Facts {
    pub id: i64,
    /// `false` for a customer merged into another (the index drops it).
    pub alive: bool,
    pub tags: Vec<i64>,
    pub attrs: Vec<(String, FactValue)>,
}

#[derive(Debug, Clone, FromRow)]
struct CustomerFacts {
    id: i64,
    merged_into: Option<i64>,
    city: String,
    member_level: String,
    order_count: i64,
    total_spend: i64,
    first_order_at: Option<i64>,
    last_order_at: Option<i64>,
    birthday: Option<String>,
}

/// Which customers to load.
#[derive(Debug, Clone, Copy)]
pub enum Pick<'a> {
    /// Up to `limit` customers with ids above `after`, by id.
    After { after: i64, limit: i64 },
    /// These customers (merged ones come back with `alive = false`; unknown ones not at all).
    Ids(&'a [i64]),
}

fn id_list(ids: &[i64]) -> String {
    let mut s = String::with_capacity(ids.len() * 8);
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{id}");
    }
    s
}

/// Load the facts of a batch of customers at `now`.
pub async fn load_facts(
    db: &Db,
    pick: Pick<'_>,
    custom: &[CustomAttr],
    now: i64,
) -> Result<Vec<Facts>> {
    let base = "SELECT id, merged_into, city, member_level, order_count, total_spend, \
                first_order_at, last_order_at, birthday FROM customers";
    let sql = match pick {
        Pick::After { after, limit } => {
            format!("{base} WHERE id > {after} ORDER BY id LIMIT {limit}")
        }
        Pick::Ids([]) => return Ok(Vec::new()),
        Pick::Ids(ids) => format!("{base} WHERE id IN ({}) ORDER BY id", id_list(ids)),
    };
    let rows: Vec<CustomerFacts> = db_run!(db, pool => {
        sqlx::query_as::<_, CustomerFacts>(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?
    });
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // A page of customers by id is a contiguous id range, which every side table reads as
    // one range scan of its `(customer_id, …)` index; an `IN` list of thousands of ids is a
    // probe per id. The range is exact: it holds every customer of the page and no other.
    let which = match pick {
        Pick::After { after, .. } => {
            let last = rows.last().map_or(after, |r| r.id);
            format!("BETWEEN {} AND {last}", after.saturating_add(1))
        }
        Pick::Ids(_) => {
            let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
            format!("IN ({})", id_list(&ids))
        }
    };
    let d90 = now - 90 * DAY_MS;
    let d365 = now - 365 * DAY_MS;
    let tag_sql = format!(
        "SELECT customer_id, tag_id FROM customer_tags WHERE customer_id {which} ORDER BY customer_id, tag_id"
    );
    let order_sql = format!(
        "SELECT customer_id, CAST(SUM(CASE WHEN paid_at >= {d90} THEN 1 ELSE 0 END) AS BIGINT), \
         COUNT(*), CAST(SUM(amount - refunded_amount) AS BIGINT) FROM orders WHERE customer_id {which} \
         AND paid_at >= {d365} AND status <> 'refunded' GROUP BY customer_id"
    );
    let group_sql = format!(
        "SELECT customer_id, kind FROM events WHERE customer_id {which} \
         AND kind IN ('join_group', 'leave_group') ORDER BY customer_id, occurred_at, id"
    );
    let attr_sql = format!(
        "SELECT customer_id, attribute_id, value FROM customer_attributes WHERE customer_id {which}"
    );
    let member_sql = format!(
        "SELECT m.customer_id, CAST(MAX(CASE WHEN m.state = 'joined' AND g.dismissed_at IS NULL \
         THEN 1 ELSE 0 END) AS BIGINT) FROM group_members m JOIN customer_groups g ON g.id = m.group_id \
         WHERE m.customer_id {which} GROUP BY m.customer_id"
    );
    let coupon_sql = format!(
        "SELECT customer_id, COUNT(*) FROM coupons WHERE customer_id {which} \
         AND state IN ('claimed', 'expired') GROUP BY customer_id"
    );
    let (tags, orders, groups, attrs, members, coupons) = db_run!(db, pool => {
        let tags: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(tag_sql)).fetch_all(pool).await?;
        let orders: Vec<(i64, i64, i64, i64)> =
            sqlx::query_as(sqlx::AssertSqlSafe(order_sql)).fetch_all(pool).await?;
        let groups: Vec<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(group_sql)).fetch_all(pool).await?;
        let attrs: Vec<(i64, i64, String)> = if custom.is_empty() {
            Vec::new()
        } else {
            sqlx::query_as(sqlx::AssertSqlSafe(attr_sql)).fetch_all(pool).await?
        };
        let members: Vec<(i64, i64)> =
            sqlx::query_as(sqlx::AssertSqlSafe(member_sql)).fetch_all(pool).await?;
        let coupons: Vec<(i64, i64)> =
            sqlx::query_as(sqlx::AssertSqlSafe(coupon_sql)).fetch_all(pool).await?;
        (tags, orders, groups, attrs, members, coupons)
    });
    let coupon_map: HashMap<i64, i64> = coupons.into_iter().collect();
    let mut tag_map: HashMap<i64, Vec<i64>> = HashMap::new();
    for (c, t) in tags {
        tag_map.entry(c).or_default().push(t);
    }
    let order_map: HashMap<i64, (i64, i64, i64)> = orders
        .into_iter()
        .map(|(c, a, b, s)| (c, (a, b, s)))
        .collect();
    let mut in_group: HashMap<i64, bool> = HashMap::new();
    for (c, kind) in groups {
        in_group.insert(c, kind == "join_group");
    }
    // WeCom group membership, where Yutang has any, is the truth; events only for the rest.
    for (c, joined) in members {
        in_group.insert(c, joined > 0);
    }
    let by_id: HashMap<i64, &CustomAttr> = custom.iter().map(|a| (a.id, a)).collect();
    let mut attr_map: HashMap<i64, Vec<(String, FactValue)>> = HashMap::new();
    for (c, a, v) in attrs {
        if let Some(def) = by_id.get(&a)
            && let Some(fv) = custom_value(&def.kind, &v)
        {
            attr_map.entry(c).or_default().push((def.key.clone(), fv));
        }
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let mut attrs = Vec::with_capacity(14);
            if !r.city.is_empty() {
                attrs.push(("city".to_owned(), FactValue::Text(r.city.clone())));
            }
            if !r.member_level.is_empty() {
                attrs.push(("level".to_owned(), FactValue::Text(r.member_level.clone())));
            }
            attrs.push(("order_count".into(), FactValue::Int(r.order_count)));
            attrs.push(("total_spent_fen".into(), FactValue::Int(r.total_spend)));
            if let Some(t) = r.first_order_at {
                attrs.push(("first_order".into(), FactValue::Time(t)));
            }
            if let Some(t) = r.last_order_at {
                attrs.push(("last_order".into(), FactValue::Time(t)));
            }
            if let Some(d) = r.birthday.as_deref().and_then(date_millis) {
                attrs.push(("birthday".into(), FactValue::Time(d)));
            }
            if let Some(m) = r.birthday.as_deref().and_then(birth_month) {
                attrs.push(("birth_month".into(), FactValue::Int(m)));
            }
            let (o90, o365, s365) = order_map.get(&r.id).copied().unwrap_or((0, 0, 0));
            attrs.push(("orders_90d".into(), FactValue::Int(o90)));
            attrs.push(("orders_365d".into(), FactValue::Int(o365)));
            attrs.push(("spent_365d".into(), FactValue::Int(s365)));
            attrs.push((
                "in_group".into(),
                FactValue::Bool(in_group.get(&r.id).copied().unwrap_or(false)),
            ));
            attrs.push((
                "unused_coupons".into(),
                FactValue::Int(coupon_map.get(&r.id).copied().unwrap_or(0)),
            ));
            if let Some(extra) = attr_map.remove(&r.id) {
                attrs.extend(extra);
            }
            Facts {
                id: r.id,
                alive: r.merged_into.is_none(),
                tags: tag_map.remove(&r.id).unwrap_or_default(),
                attrs,
            }
        })
        .collect())
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// A stored `YYYY-MM-DD` as midnight in Asia/Shanghai.
pub fn date_millis(s: &str) -> Option<i64> {
    parse_date(s).and_then(shanghai_midnight).map(|m| m.0)
}

fn birth_month(s: &str) -> Option<i64> {
    use chrono::Datelike;
    parse_date(s).map(|d| i64::from(d.month()))
}

/// A custom attribute's stored text as a segment value.
pub fn custom_value(kind: &str, v: &str) -> Option<FactValue> {
    match kind {
        "text" | "enum" if !v.is_empty() => Some(FactValue::Text(v.to_owned())),
        "number" => yutang_core::customers::round_number(v).map(FactValue::Int),
        "date" => date_millis(v).map(FactValue::Time),
        _ => None,
    }
}

/// The highest event id, the index's watermark into the event log.
pub async fn max_event_id(db: &Db) -> Result<i64> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(id) FROM events")
            .fetch_one(pool)
            .await?
            .unwrap_or(0))
    })
}

/// A position in the event log: everything up to it is reflected in the segment index.
///
/// SQLite has one writer, so ids become visible in id order and an id is a position.
/// PostgreSQL hands out ids at insert time, not at commit, so a smaller id can commit after a
/// larger one was read; there the position is a snapshot (`pg_current_snapshot()` as text),
/// and an event is "after" it when its writing transaction (`events.tx_id`) was not yet
/// visible in that snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedMark {
    Id(i64),
    Snapshot(String),
}

/// The current end of the event log. Take it BEFORE reading customers' facts: every event
/// it covers is then reflected in what is read.
pub async fn feed_mark(db: &Db) -> Result<FeedMark> {
    match db {
        Db::Sqlite(_) => Ok(FeedMark::Id(max_event_id(db).await?)),
        Db::Postgres(pool) => Ok(FeedMark::Snapshot(
            sqlx::query_scalar("SELECT pg_current_snapshot()::text")
                .fetch_one(pool)
                .await?,
        )),
    }
}

/// One page of the customers whose events are after `from` and within `to` (two marks from
/// [`feed_mark`], `from` taken first), reading only events with ids above `after_id`, at most
/// `limit` events. Returns the customers (sorted, distinct), the highest event id read (page
/// on with it) and the number of events read (fewer than `limit`: the last page).
pub async fn changed_between(
    db: &Db,
    from: &FeedMark,
    to: &FeedMark,
    after_id: i64,
    limit: i64,
) -> Result<(Vec<i64>, i64, usize)> {
    let rows: Vec<(i64, i64)> = match (db, from, to) {
        (Db::Sqlite(pool), FeedMark::Id(from), FeedMark::Id(to)) => sqlx::query_as(
            "SELECT id, customer_id FROM events WHERE id > $1 AND id <= $2 ORDER BY id LIMIT $3",
        )
        .bind(after_id.max(*from))
        .bind(to)
        .bind(limit)
        .fetch_all(pool)
        .await?,
        (Db::Postgres(pool), FeedMark::Snapshot(from), FeedMark::Snapshot(to)) => {
            // Transactions visible in `to` have committed, so this statement (its own, later
            // snapshot) sees all their rows; ones still running in `to` are left for the next
            // step, whose `from` is this `to`. The tx_id range is what the index can seek.
            sqlx::query_as(
                "SELECT id, customer_id FROM events \
                 WHERE tx_id >= pg_snapshot_xmin($1::text::pg_snapshot) \
                 AND tx_id < pg_snapshot_xmax($2::text::pg_snapshot) \
                 AND NOT pg_visible_in_snapshot(tx_id, $1::text::pg_snapshot) \
                 AND pg_visible_in_snapshot(tx_id, $2::text::pg_snapshot) \
                 AND id > $3 ORDER BY id LIMIT $4",
            )
            .bind(from)
            .bind(to)
            .bind(after_id)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }
        _ => {
            return Err(StoreError::Database(sqlx::Error::Protocol(
                "a change-feed mark of the other engine".into(),
            )));
        }
    };
    let n = rows.len();
    let high = rows.last().map(|r| r.0).unwrap_or(after_id);
    let mut ids: Vec<i64> = rows.into_iter().map(|r| r.1).collect();
    ids.sort_unstable();
    ids.dedup();
    Ok((ids, high, n))
}

/// The live customers in a data scope (store or guide), for intersecting with a segment.
pub async fn scope_members(db: &Db, scope: Scope) -> Result<Vec<i64>> {
    db_run!(db, pool => {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT f.customer_id FROM follows f JOIN staff t ON t.id = f.staff_id \
             JOIN customers c ON c.id = f.customer_id \
             WHERE f.state = 'active' AND c.merged_into IS NULL \
             AND ($1 IS NULL OR t.store_id = $1) AND ($2 IS NULL OR f.staff_id = $2) \
             ORDER BY f.customer_id",
        )
        .bind(scope.store)
        .bind(scope.guide)
        .fetch_all(pool)
        .await?)
    })
}

// --- SQL translation ---

/// Translate a resolved expression to a SQL condition on `customers c`, evaluated at `now`.
/// Values are inlined as literals (numbers, and strings with quotes doubled), so the text
/// needs no parameters. The result is never NULL (two-valued logic, as the index).
pub fn to_sql(
    expr: &Resolved,
    custom: &[CustomAttr],
    engine: Engine,
    now: Millis,
) -> Result<String> {
    to_sql_from(expr, custom, engine, now, SqlSource::Tables)
}

/// Where a translated condition reads its facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlSource {
    /// The product's tables: `customers c`, with correlated subqueries into tags, orders,
    /// group membership, events and coupons.
    Tables,
    /// A denormalised PostgreSQL table `c` made by [`facts_table_sql`]: one row per live
    /// customer with every fact precomputed at one instant, tags as a `BIGINT[]`, an index on
    /// every column. It is the most favourable SQL a benchmark can set against the bitmap
    /// index (it is stale as soon as anything changes, and keeping it true is not counted);
    /// leaves outside a `not` are emitted bare so the planner can use those indexes. No
    /// custom attributes.
    FactsTable,
}

/// [`to_sql`] over either source.
pub fn to_sql_from(
    expr: &Resolved,
    custom: &[CustomAttr],
    engine: Engine,
    now: Millis,
    source: SqlSource,
) -> Result<String> {
    if source == SqlSource::FactsTable && engine != Engine::Postgres {
        return Err(StoreError::Refused {
            code: "facts_table_engine",
            message: "the facts table is a PostgreSQL baseline".into(),
        });
    }
    let mut out = String::new();
    let cx = Cx {
        custom,
        engine,
        now,
        source,
    };
    cx.cond(expr.root(), false, &mut out)?;
    Ok(out)
}

/// Statements that create `table` as the [`SqlSource::FactsTable`] of the live customers at
/// `now` (PostgreSQL), with the same meaning as [`load_facts`]: windows over orders paid
/// since `now − window` and not fully refunded, `in_group` from live WeCom membership where a
/// customer has any, else the latest join/leave event, and unused coupons. Then one index per
/// column, a GIN index on the tags and one on the birthday's month, and `ANALYZE`.
pub fn facts_table_sql(table: &str, now: i64) -> Vec<String> {
    let d90 = now - 90 * DAY_MS;
    let d365 = now - 365 * DAY_MS;
    let mut out = vec![
        format!("DROP TABLE IF EXISTS {table}"),
        format!(
            "CREATE TABLE {table} AS SELECT c.id, NULLIF(c.city, '') AS city, \
             NULLIF(c.member_level, '') AS member_level, c.order_count, c.total_spend, \
             c.first_order_at, c.last_order_at, c.birthday, \
             COALESCE(o.o90, 0) AS orders_90d, COALESCE(o.o365, 0) AS orders_365d, \
             COALESCE(o.s365, 0) AS spent_365d, \
             COALESCE(m.joined, e.joined, FALSE) AS in_group, \
             COALESCE(cp.n, 0) AS unused_coupons, \
             COALESCE(t.tags, '{{}}'::BIGINT[]) AS tags \
             FROM customers c \
             LEFT JOIN (SELECT customer_id, \
               CAST(SUM(CASE WHEN paid_at >= {d90} THEN 1 ELSE 0 END) AS BIGINT) AS o90, \
               COUNT(*) AS o365, CAST(SUM(amount - refunded_amount) AS BIGINT) AS s365 \
               FROM orders WHERE paid_at >= {d365} AND status <> 'refunded' \
               GROUP BY customer_id) o ON o.customer_id = c.id \
             LEFT JOIN (SELECT customer_id, array_agg(tag_id ORDER BY tag_id) AS tags \
               FROM customer_tags GROUP BY customer_id) t ON t.customer_id = c.id \
             LEFT JOIN (SELECT mm.customer_id, \
               bool_or(mm.state = 'joined' AND g.dismissed_at IS NULL) AS joined \
               FROM group_members mm JOIN customer_groups g ON g.id = mm.group_id \
               GROUP BY mm.customer_id) m ON m.customer_id = c.id \
             LEFT JOIN (SELECT DISTINCT ON (customer_id) customer_id, kind = 'join_group' AS joined \
               FROM events WHERE kind IN ('join_group', 'leave_group') \
               ORDER BY customer_id, occurred_at DESC, id DESC) e ON e.customer_id = c.id \
             LEFT JOIN (SELECT customer_id, COUNT(*) AS n FROM coupons \
               WHERE state IN ('claimed', 'expired') GROUP BY customer_id) cp ON cp.customer_id = c.id \
             WHERE c.merged_into IS NULL"
        ),
        format!("ALTER TABLE {table} ADD PRIMARY KEY (id)"),
    ];
    for col in [
        "city",
        "member_level",
        "order_count",
        "total_spend",
        "first_order_at",
        "last_order_at",
        "birthday",
        "orders_90d",
        "orders_365d",
        "spent_365d",
        "in_group",
        "unused_coupons",
    ] {
        out.push(format!("CREATE INDEX {table}_{col} ON {table} ({col})"));
    }
    out.push(format!(
        "CREATE INDEX {table}_birth_month ON {table} ((CAST(SUBSTR(birthday, 6, 2) AS INTEGER)))"
    ));
    out.push(format!(
        "CREATE INDEX {table}_tags ON {table} USING GIN (tags)"
    ));
    out.push(format!("VACUUM (ANALYZE) {table}"));
    out
}

struct Cx<'a> {
    custom: &'a [CustomAttr],
    engine: Engine,
    now: Millis,
    source: SqlSource,
}

/// How an attribute is stored in SQL.
enum Col {
    /// A text expression; empty means no value already mapped to NULL.
    Text(String),
    Int(String),
    /// Epoch milliseconds.
    Millis(String),
    /// A `YYYY-MM-DD` text standing for midnight in Asia/Shanghai.
    Date(String),
    Bool(String),
}

/// A comparison as a never-NULL condition (`COALESCE(…, FALSE)`), or `bare` where a NULL
/// already reads as false (outside a `not`) and the planner should see the comparison itself.
fn leaf(out: &mut String, bare: bool, s: &str) {
    if bare {
        let _ = write!(out, "({s})");
    } else {
        let _ = write!(out, "COALESCE(({s}), FALSE)");
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl Cx<'_> {
    fn col(&self, attr: &str) -> Result<Col> {
        // The customer's own columns, which the facts table copies (with empty text already
        // made NULL there).
        let facts = self.source == SqlSource::FactsTable;
        let text = |c: &str| {
            Col::Text(if facts {
                format!("c.{c}")
            } else {
                format!("NULLIF(c.{c}, '')")
            })
        };
        match attr {
            "city" => return Ok(text("city")),
            "level" => return Ok(text("member_level")),
            "order_count" => return Ok(Col::Int("c.order_count".into())),
            "total_spent_fen" => return Ok(Col::Int("c.total_spend".into())),
            "first_order" => return Ok(Col::Millis("c.first_order_at".into())),
            "last_order" => return Ok(Col::Millis("c.last_order_at".into())),
            "birthday" => return Ok(Col::Date("c.birthday".into())),
            "birth_month" => {
                return Ok(Col::Int("CAST(SUBSTR(c.birthday, 6, 2) AS INTEGER)".into()));
            }
            _ => {}
        }
        if facts {
            return self.facts_col(attr);
        }
        let now = self.now.0;
        let orders = |since: i64, what: &str| {
            format!(
                "(SELECT {what} FROM orders o WHERE o.customer_id = c.id AND o.paid_at >= {since} \
                 AND o.status <> 'refunded')"
            )
        };
        Ok(match attr {
            "orders_90d" => Col::Int(orders(now - 90 * DAY_MS, "COUNT(*)")),
            "orders_365d" => Col::Int(orders(now - 365 * DAY_MS, "COUNT(*)")),
            "spent_365d" => Col::Int(orders(
                now - 365 * DAY_MS,
                "COALESCE(SUM(o.amount - o.refunded_amount), 0)",
            )),
            "unused_coupons" => Col::Int(
                "(SELECT COUNT(*) FROM coupons cp WHERE cp.customer_id = c.id \
                 AND cp.state IN ('claimed', 'expired'))"
                    .into(),
            ),
            "in_group" => Col::Bool(
                "CASE WHEN EXISTS (SELECT 1 FROM group_members m WHERE m.customer_id = c.id) \
                 THEN EXISTS (SELECT 1 FROM group_members m JOIN customer_groups g ON g.id = m.group_id \
                 WHERE m.customer_id = c.id AND m.state = 'joined' AND g.dismissed_at IS NULL) \
                 ELSE COALESCE((SELECT e.kind FROM events e WHERE e.customer_id = c.id \
                 AND e.kind IN ('join_group', 'leave_group') \
                 ORDER BY e.occurred_at DESC, e.id DESC LIMIT 1) = 'join_group', FALSE) END"
                    .into(),
            ),
            other => {
                let def = self.custom.iter().find(|a| a.key == other).ok_or_else(|| {
                    StoreError::Refused {
                        code: "unknown_attribute",
                        message: format!("no attribute {other:?}"),
                    }
                })?;
                let v = format!(
                    "(SELECT a.value FROM customer_attributes a WHERE a.customer_id = c.id \
                     AND a.attribute_id = {})",
                    def.id
                );
                match def.kind.as_str() {
                    "number" => Col::Int(match self.engine {
                        Engine::Sqlite => format!("CAST(ROUND(CAST({v} AS REAL)) AS INTEGER)"),
                        Engine::Postgres => format!("CAST(ROUND(CAST({v} AS NUMERIC)) AS BIGINT)"),
                    }),
                    "date" => Col::Date(v),
                    _ => Col::Text(format!("NULLIF({v}, '')")),
                }
            }
        })
    }

    /// The [`SqlSource::FactsTable`]'s precomputed columns.
    fn facts_col(&self, attr: &str) -> Result<Col> {
        Ok(match attr {
            "orders_90d" => Col::Int("c.orders_90d".into()),
            "orders_365d" => Col::Int("c.orders_365d".into()),
            "spent_365d" => Col::Int("c.spent_365d".into()),
            "unused_coupons" => Col::Int("c.unused_coupons".into()),
            "in_group" => Col::Bool("c.in_group".into()),
            other => {
                return Err(StoreError::Refused {
                    code: "unknown_attribute",
                    message: format!("the facts table has no attribute {other:?}"),
                });
            }
        })
    }

    /// `negated`: inside a `not`, where a NULL leaf must read as false (two-valued logic).
    /// Outside one, a NULL leaf already excludes the row, so the facts table's leaves are
    /// emitted bare, where the planner can match them to its indexes.
    fn cond(&self, c: &Cond, negated: bool, out: &mut String) -> Result<()> {
        let bare = self.source == SqlSource::FactsTable && !negated;
        let leaf = |out: &mut String, s: String| leaf(out, bare, &s);
        match c {
            Cond::Tag(t) => match self.source {
                SqlSource::Tables => {
                    let _ = write!(
                        out,
                        "EXISTS (SELECT 1 FROM customer_tags ct WHERE ct.customer_id = c.id AND ct.tag_id = {})",
                        t.0
                    );
                }
                SqlSource::FactsTable => {
                    let _ = write!(out, "(c.tags @> ARRAY[{}]::BIGINT[])", t.0);
                }
            },
            Cond::TextIn { attr, values } | Cond::TextNotIn { attr, values } => {
                let e = self.text_col(attr)?;
                let is_in = matches!(c, Cond::TextIn { .. });
                if values.is_empty() {
                    if is_in {
                        out.push_str("FALSE");
                    } else {
                        leaf(out, format!("{e} IS NOT NULL"));
                    }
                    return Ok(());
                }
                let list: Vec<String> = values.iter().map(|v| quote(v)).collect();
                let op = if is_in { "IN" } else { "NOT IN" };
                leaf(out, format!("{e} {op} ({})", list.join(", ")));
            }
            Cond::IntRange { attr, lo, hi } => {
                let e = self.int_col(attr)?;
                // Only the bounds that restrict: `BETWEEN 2 AND i64::MAX` would make
                // PostgreSQL run a subquery attribute (`orders_90d`) twice.
                let sql = match (*lo == i64::MIN, *hi == i64::MAX) {
                    _ if lo > hi => None,
                    (true, true) => Some(format!("{e} IS NOT NULL")),
                    (false, true) => Some(format!("{e} >= {lo}")),
                    (true, false) => Some(format!("{e} <= {hi}")),
                    (false, false) if lo == hi => Some(format!("{e} = {lo}")),
                    (false, false) => Some(format!("{e} BETWEEN {lo} AND {hi}")),
                };
                match sql {
                    Some(s) => leaf(out, s),
                    None => out.push_str("FALSE"),
                }
            }
            Cond::IntIn { attr, values } | Cond::IntNotIn { attr, values } => {
                let e = self.int_col(attr)?;
                let is_in = matches!(c, Cond::IntIn { .. });
                if values.is_empty() {
                    if is_in {
                        out.push_str("FALSE");
                    } else {
                        leaf(out, format!("{e} IS NOT NULL"));
                    }
                    return Ok(());
                }
                let list: Vec<String> = values.iter().map(|v| v.to_string()).collect();
                let op = if is_in { "IN" } else { "NOT IN" };
                leaf(out, format!("{e} {op} ({})", list.join(", ")));
            }
            Cond::Time { attr, pred } => self.time(attr, *pred, bare, out)?,
            Cond::Bool { attr, value } => match self.col(attr)? {
                Col::Bool(e) => {
                    if *value {
                        let _ = write!(out, "({e})");
                    } else {
                        let _ = write!(out, "NOT ({e})");
                    }
                }
                _ => return Err(wrong_type(attr)),
            },
            Cond::Exists { attr } => match self.col(attr)? {
                Col::Bool(_) => out.push_str("TRUE"),
                Col::Text(e) | Col::Int(e) | Col::Millis(e) | Col::Date(e) => {
                    let _ = write!(out, "({e} IS NOT NULL)");
                }
            },
            Cond::Not(x) => {
                out.push_str("NOT (");
                self.cond(x, true, out)?;
                out.push(')');
            }
            Cond::And(xs) | Cond::Or(xs) => {
                let and = matches!(c, Cond::And(_));
                if xs.is_empty() {
                    out.push_str(if and { "TRUE" } else { "FALSE" });
                    return Ok(());
                }
                out.push('(');
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        out.push_str(if and { " AND " } else { " OR " });
                    }
                    self.cond(x, negated, out)?;
                }
                out.push(')');
            }
        }
        Ok(())
    }

    fn text_col(&self, attr: &str) -> Result<String> {
        match self.col(attr)? {
            Col::Text(e) => Ok(e),
            _ => Err(wrong_type(attr)),
        }
    }

    fn int_col(&self, attr: &str) -> Result<String> {
        match self.col(attr)? {
            Col::Int(e) => Ok(e),
            _ => Err(wrong_type(attr)),
        }
    }

    fn time(&self, attr: &str, pred: TimePred, bare: bool, out: &mut String) -> Result<()> {
        let Some((lo, hi)) = pred.bounds(self.now) else {
            out.push_str("FALSE");
            return Ok(());
        };
        if lo > hi {
            out.push_str("FALSE");
            return Ok(());
        }
        let mut parts = Vec::new();
        match self.col(attr)? {
            Col::Millis(e) => {
                if lo != i64::MIN {
                    parts.push(format!("{e} >= {lo}"));
                }
                if hi != i64::MAX {
                    parts.push(format!("{e} <= {hi}"));
                }
                if parts.is_empty() {
                    parts.push(format!("{e} IS NOT NULL"));
                }
            }
            Col::Date(e) => {
                // A date D stands for midnight m(D); lo <= m(D) <= hi holds exactly for the
                // dates from the first whose midnight is at or after lo to the last whose
                // midnight is at or before hi.
                if lo != i64::MIN {
                    match first_date_at_or_after(lo) {
                        Some(d) => parts.push(format!("{e} >= '{}'", d.format("%Y-%m-%d"))),
                        None => {
                            out.push_str("FALSE");
                            return Ok(());
                        }
                    }
                }
                if hi != i64::MAX {
                    match last_date_at_or_before(hi) {
                        Some(d) => parts.push(format!("{e} <= '{}'", d.format("%Y-%m-%d"))),
                        None => {
                            out.push_str("FALSE");
                            return Ok(());
                        }
                    }
                }
                if parts.is_empty() {
                    parts.push(format!("{e} IS NOT NULL"));
                }
            }
            _ => return Err(wrong_type(attr)),
        }
        leaf(out, bare, &parts.join(" AND "));
        Ok(())
    }
}

/// Dates we can write as `YYYY-MM-DD` text that sorts correctly.
fn date_range() -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or(NaiveDate::MIN),
        NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX),
    )
}

fn first_date_at_or_after(t: i64) -> Option<NaiveDate> {
    let (min, max) = date_range();
    let d = Millis(t).shanghai_date();
    if d < min {
        return Some(min);
    }
    if d > max {
        return None;
    }
    let m = shanghai_midnight(d)?.0;
    if m >= t { Some(d) } else { d.succ_opt() }
}

fn last_date_at_or_before(t: i64) -> Option<NaiveDate> {
    let (min, max) = date_range();
    let d = Millis(t).shanghai_date();
    if d > max {
        return Some(max);
    }
    if d < min {
        return None;
    }
    Some(d)
}

fn wrong_type(attr: &str) -> StoreError {
    StoreError::Refused {
        code: "attribute_type",
        message: format!("attribute {attr:?} has another type"),
    }
}

/// The live customers matching a SQL condition from [`to_sql`], in id order.
pub async fn sql_members(db: &Db, condition: &str) -> Result<Vec<i64>> {
    let sql = format!(
        "SELECT c.id FROM customers c WHERE c.merged_into IS NULL AND ({condition}) ORDER BY c.id"
    );
    db_run!(db, pool => {
        Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?)
    })
}

// --- saved segments ---

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct SegmentRow {
    pub id: i64,
    pub name: String,
    pub expression: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn create(
    db: &Db,
    name: &str,
    expression: &str,
    by: Option<i64>,
    now: i64,
) -> Result<i64> {
    db_run!(db, pool => {
        sqlx::query_scalar(
            "INSERT INTO segments (name, expression, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $4) RETURNING id",
        )
        .bind(name)
        .bind(expression)
        .bind(by)
        .bind(now)
        .fetch_one(pool)
        .await
        .map_err(|e| StoreError::classify(e, "name"))
    })
}

pub async fn update(db: &Db, id: i64, name: &str, expression: &str, now: i64) -> Result<()> {
    let n = db_run!(db, pool => {
        sqlx::query("UPDATE segments SET name = $1, expression = $2, updated_at = $3 WHERE id = $4")
            .bind(name)
            .bind(expression)
            .bind(now)
            .bind(id)
            .execute(pool)
            .await
            .map_err(|e| StoreError::classify(e, "name"))?
            .rows_affected()
    });
    crate::error::touched(n)
}

/// What uses saved segment `id` as its audience: `(kind, id, name)` of every coupon template,
/// flash sale and group-buy whose spec names it (whatever their status: an ended campaign
/// can be reopened). Bulk tagging and segment issue jobs resolve their customers when they
/// are created and keep no reference.
pub async fn users(db: &Db, id: i64) -> Result<Vec<(&'static str, i64, String)>> {
    const TABLES: [(&str, &str); 3] = [
        ("coupon template", "coupon_templates"),
        ("flash sale", "flash_sales"),
        ("group-buy", "group_buys"),
    ];
    let mut out = Vec::new();
    for (kind, table) in TABLES {
        // A cheap text filter first; the JSON decides.
        let sql =
            format!("SELECT id, name, spec FROM {table} WHERE spec LIKE '%segment%' ORDER BY id");
        let rows: Vec<(i64, String, String)> = db_run!(db, pool => {
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?
        });
        for (row, name, spec) in rows {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&spec) else {
                continue;
            };
            let a = &v["audience"];
            if a["kind"] == "segment" && a["segment_id"].as_i64() == Some(id) {
                out.push((kind, row, name));
            }
        }
    }
    Ok(out)
}

pub async fn delete(db: &Db, id: i64) -> Result<()> {
    let n = db_run!(db, pool => {
        sqlx::query("DELETE FROM segments WHERE id = $1").bind(id).execute(pool).await?.rows_affected()
    });
    crate::error::touched(n)
}

pub async fn get(db: &Db, id: i64) -> Result<SegmentRow> {
    db_run!(db, pool => {
        sqlx::query_as::<_, SegmentRow>(
            "SELECT id, name, expression, created_by, created_at, updated_at FROM segments WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or(StoreError::NotFound)
    })
}

pub async fn list(db: &Db) -> Result<Vec<SegmentRow>> {
    db_run!(db, pool => {
        Ok(sqlx::query_as::<_, SegmentRow>(
            "SELECT id, name, expression, created_by, created_at, updated_at FROM segments ORDER BY id",
        )
        .fetch_all(pool)
        .await?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_bounds_follow_shanghai_midnights() {
        let d = |s: &str| parse_date(s).unwrap();
        let mid = |s: &str| date_millis(s).unwrap();
        assert_eq!(
            first_date_at_or_after(mid("2026-03-01")),
            Some(d("2026-03-01"))
        );
        assert_eq!(
            first_date_at_or_after(mid("2026-03-01") + 1),
            Some(d("2026-03-02"))
        );
        assert_eq!(
            last_date_at_or_before(mid("2026-03-01")),
            Some(d("2026-03-01"))
        );
        assert_eq!(
            last_date_at_or_before(mid("2026-03-01") - 1),
            Some(d("2026-02-28"))
        );
    }

    #[test]
    fn custom_values() {
        assert_eq!(custom_value("number", "2.5"), Some(FactValue::Int(3)));
        assert_eq!(custom_value("number", "-2.5"), Some(FactValue::Int(-3)));
        assert_eq!(
            custom_value("number", "2.4999999999999999"),
            Some(FactValue::Int(2))
        );
        assert_eq!(custom_value("text", ""), None);
        assert_eq!(custom_value("date", "2026-13-01"), None);
    }

    #[test]
    fn strings_are_quoted() {
        assert_eq!(quote("o'brien"), "'o''brien'");
    }
}
