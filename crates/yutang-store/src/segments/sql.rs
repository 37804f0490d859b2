//! The translation of a resolved expression into SQL — the slow path the property tests and
//! the bench compare the index against.

use std::fmt::Write as _;

use chrono::NaiveDate;
use yutang_core::segments::{Cond, Resolved, TimePred, shanghai_midnight};
use yutang_core::time::Millis;

use crate::Db;
use crate::db::Engine;
use crate::error::{Result, StoreError};

use super::DAY_MS;
use super::facts::*;

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
    /// group membership, events, coupons and the first touch (channels, staff).
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
/// customer has any, else the latest join/leave event, unused coupons, and the first touch
/// (channel name and kind, the credited staff member's username, when). Then one index per
/// column, a GIN index on the tags and one on the birthday's month, and `ANALYZE`.
pub fn facts_table_sql(table: &str, now: i64) -> Vec<String> {
    let d90 = now - 90 * DAY_MS;
    let d365 = now - 365 * DAY_MS;
    let inviter = super::facts::INVITER;
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
             NULLIF(ch.name, '') AS channel, NULLIF(ch.kind, '') AS channel_type, \
             NULLIF(st.username, '') AS acquired_by, ca.acquired_at, iv.invited_by, \
             tt.tier_key AS tier, ctr.tier_since, \
             (cdc.savings_fen IS NOT NULL) AS card_active, cde.card_expires_at, \
             cdc.savings_fen AS card_savings_fen, \
             COALESCE(t.tags, '{{}}'::BIGINT[]) AS tags \
             FROM customers c \
             LEFT JOIN customer_acquisition ca ON ca.customer_id = c.id \
             LEFT JOIN channels ch ON ch.id = ca.channel_id \
             LEFT JOIN staff st ON st.id = ca.staff_id \
             LEFT JOIN customer_tiers ctr ON ctr.customer_id = c.id \
             LEFT JOIN tiers tt ON tt.id = ctr.tier_id \
             LEFT JOIN (SELECT DISTINCT ON (customer_id) customer_id, savings_fen FROM card_periods \
               WHERE status = 'active' AND starts_at <= {now} AND ends_at > {now} \
               ORDER BY customer_id, starts_at, id) cdc ON cdc.customer_id = c.id \
             LEFT JOIN (SELECT customer_id, MAX(ends_at) AS card_expires_at FROM card_periods \
               WHERE status = 'active' AND ends_at > {now} GROUP BY customer_id) cde \
               ON cde.customer_id = c.id \
             LEFT JOIN (SELECT DISTINCT ON (r.invitee_id) r.invitee_id, {inviter} AS invited_by \
               FROM referrals r JOIN referral_links l ON l.id = r.link_id \
               LEFT JOIN staff st ON st.id = l.staff_id WHERE r.status <> 'refused' \
               ORDER BY r.invitee_id, r.id) iv ON iv.invitee_id = c.id \
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
        "channel",
        "channel_type",
        "acquired_by",
        "acquired_at",
        "invited_by",
        "tier",
        "tier_since",
        "card_active",
        "card_expires_at",
        "card_savings_fen",
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
            // The first touch (one row per customer at most), with the channel's current name
            // and kind and the credited staff member's username.
            "channel" | "channel_type" => Col::Text(format!(
                "(SELECT NULLIF(ch.{}, '') FROM customer_acquisition ca \
                 JOIN channels ch ON ch.id = ca.channel_id WHERE ca.customer_id = c.id)",
                if attr == "channel" { "name" } else { "kind" }
            )),
            "acquired_by" => Col::Text(
                "(SELECT NULLIF(st.username, '') FROM customer_acquisition ca \
                 JOIN staff st ON st.id = ca.staff_id WHERE ca.customer_id = c.id)"
                    .into(),
            ),
            "acquired_at" => Col::Millis(
                "(SELECT ca.acquired_at FROM customer_acquisition ca WHERE ca.customer_id = c.id)"
                    .into(),
            ),
            "invited_by" => Col::Text(format!(
                "(SELECT NULLIF({}, '') FROM referrals r \
                 JOIN referral_links l ON l.id = r.link_id LEFT JOIN staff st ON st.id = l.staff_id \
                 WHERE r.invitee_id = c.id AND r.status <> 'refused' ORDER BY r.id LIMIT 1)",
 super::facts::INVITER
            )),
            "tier" => Col::Text(
                "(SELECT t.tier_key FROM customer_tiers ct JOIN tiers t ON t.id = ct.tier_id \
                 WHERE ct.customer_id = c.id)"
                    .into(),
            ),
            "tier_since" => Col::Millis(
                "(SELECT ct.tier_since FROM customer_tiers ct WHERE ct.customer_id = c.id)".into(),
            ),
            "card_active" => Col::Bool(format!(
                "EXISTS (SELECT 1 FROM card_periods cdp WHERE cdp.customer_id = c.id \
                 AND cdp.status = 'active' AND cdp.starts_at <= {now} AND cdp.ends_at > {now})"
            )),
            "card_expires_at" => Col::Millis(format!(
                "(SELECT MAX(cdp.ends_at) FROM card_periods cdp WHERE cdp.customer_id = c.id \
                 AND cdp.status = 'active' AND cdp.ends_at > {now})"
            )),
            "card_savings_fen" => Col::Int(format!(
                "(SELECT cdp.savings_fen FROM card_periods cdp WHERE cdp.customer_id = c.id \
                 AND cdp.status = 'active' AND cdp.starts_at <= {now} AND cdp.ends_at > {now} \
                 ORDER BY cdp.starts_at, cdp.id LIMIT 1)"
            )),
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
            "channel" => Col::Text("c.channel".into()),
            "channel_type" => Col::Text("c.channel_type".into()),
            "acquired_by" => Col::Text("c.acquired_by".into()),
            "acquired_at" => Col::Millis("c.acquired_at".into()),
            "invited_by" => Col::Text("c.invited_by".into()),
            "tier" => Col::Text("c.tier".into()),
            "tier_since" => Col::Millis("c.tier_since".into()),
            "card_active" => Col::Bool("c.card_active".into()),
            "card_expires_at" => Col::Millis("c.card_expires_at".into()),
            "card_savings_fen" => Col::Int("c.card_savings_fen".into()),
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
    fn strings_are_quoted() {
        assert_eq!(quote("o'brien"), "'o''brien'");
    }
}
