//! Customers' segment facts: loading them for the index, the event-log feed that says whose
//! changed, and the customers of a data scope.

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::NaiveDate;
use sqlx::FromRow;
use yutang_core::segments::shanghai_midnight;

use crate::error::{Result, StoreError};
use crate::{Db, customers::Scope};

use super::DAY_MS;

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
    // First touch: the channel's current name and kind (a rename reaches the index through
    // `channel_stamp`) and the credited staff member's username.
    let acq_sql = format!(
        "SELECT a.customer_id, ch.name, ch.kind, s.username, a.acquired_at \
         FROM customer_acquisition a LEFT JOIN channels ch ON ch.id = a.channel_id \
         LEFT JOIN staff s ON s.id = a.staff_id WHERE a.customer_id {which}"
    );
    // Who invited the customer: their first binding's inviter (not a refused attempt).
    let inv_sql = format!(
        "SELECT r.invitee_id, {INVITER} FROM referrals r \
         JOIN referral_links l ON l.id = r.link_id LEFT JOIN staff st ON st.id = l.staff_id \
         WHERE r.invitee_id {which} AND r.status <> 'refused' ORDER BY r.id DESC"
    );
    // The membership tier: the current tier's key and since when.
    let tier_sql = format!(
        "SELECT ct.customer_id, t.tier_key, ct.tier_since FROM customer_tiers ct \
         JOIN tiers t ON t.id = ct.tier_id WHERE ct.customer_id {which}"
    );
    // The paid member card at `now`: the current period's savings (none: no card now), and
    // the end of the last period bought and not over.
    let card_sql = format!(
        "SELECT customer_id, starts_at, ends_at, savings_fen, id FROM card_periods \
         WHERE customer_id {which} AND status = 'active' AND ends_at > {now}"
    );
    let (tags, orders, groups, attrs, members, coupons, acquired, invited, tiers, cards) = db_run!(db, pool => {
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
        let acquired: Vec<Acquired> =
            sqlx::query_as(sqlx::AssertSqlSafe(acq_sql)).fetch_all(pool).await?;
        let invited: Vec<(i64, Option<String>)> =
            sqlx::query_as(sqlx::AssertSqlSafe(inv_sql)).fetch_all(pool).await?;
        let tiers: Vec<(i64, String, i64)> =
            sqlx::query_as(sqlx::AssertSqlSafe(tier_sql)).fetch_all(pool).await?;
        let cards: Vec<(i64, i64, i64, i64, i64)> =
            sqlx::query_as(sqlx::AssertSqlSafe(card_sql)).fetch_all(pool).await?;
        (tags, orders, groups, attrs, members, coupons, acquired, invited, tiers, cards)
    });
    // customer -> (latest end, the current period's (starts_at, id, savings)).
    type CardFacts = (i64, Option<(i64, i64, i64)>);
    let mut card_map: HashMap<i64, CardFacts> = HashMap::new();
    for (c, starts, ends, savings, id) in cards {
        let e = card_map.entry(c).or_insert((ends, None));
        e.0 = e.0.max(ends);
        if starts <= now && e.1.is_none_or(|(s, i, _)| (starts, id) < (s, i)) {
            e.1 = Some((starts, id, savings));
        }
    }
    let mut tier_map: HashMap<i64, (String, i64)> =
        tiers.into_iter().map(|(c, k, s)| (c, (k, s))).collect();
    // Newest first, so the oldest binding is the one left in the map.
    let mut inv_map: HashMap<i64, String> = invited
        .into_iter()
        .filter_map(|(c, v)| v.filter(|v| !v.is_empty()).map(|v| (c, v)))
        .collect();
    let mut acq_map: HashMap<i64, Acquired> = acquired.into_iter().map(|a| (a.0, a)).collect();
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
            let mut attrs = Vec::with_capacity(18);
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
            if let Some(a) = acq_map.remove(&r.id) {
                first_touch_facts(a, &mut attrs);
            }
            if let Some(v) = inv_map.remove(&r.id) {
                attrs.push(("invited_by".to_owned(), FactValue::Text(v)));
            }
            if let Some((key, since)) = tier_map.remove(&r.id) {
                attrs.push(("tier".to_owned(), FactValue::Text(key)));
                attrs.push(("tier_since".to_owned(), FactValue::Time(since)));
            }
            let card = card_map.remove(&r.id);
            let current = card.and_then(|c| c.1);
            attrs.push(("card_active".into(), FactValue::Bool(current.is_some())));
            if let Some((ends, _)) = card {
                attrs.push(("card_expires_at".into(), FactValue::Time(ends)));
            }
            if let Some((_, _, savings)) = current {
                attrs.push(("card_savings_fen".into(), FactValue::Int(savings)));
            }
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

/// The inviter of a binding `r` (joined to its link `l` and the link's staff `st`), as the
/// `invited_by` attribute reads: a customer as `customer:{id}`, a staff member by username.
pub const INVITER: &str = "CASE WHEN l.customer_id IS NOT NULL \
     THEN 'customer:' || CAST(l.customer_id AS TEXT) ELSE st.username END";

/// A customer's first touch: customer, channel name and kind (none without a channel), the
/// credited staff member's username (none without one), and when.
type Acquired = (i64, Option<String>, Option<String>, Option<String>, i64);

/// The first-touch attributes of one customer: `channel` and `channel_type` only when the add
/// came through a known channel, `acquired_by` only when a staff member is credited,
/// `acquired_at` always (every WeCom add that brought the customer in has a time).
fn first_touch_facts(a: Acquired, attrs: &mut Vec<(String, FactValue)>) {
    let (_, name, kind, username, at) = a;
    for (key, v) in [
        ("channel", name),
        ("channel_type", kind),
        ("acquired_by", username),
    ] {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            attrs.push((key.to_owned(), FactValue::Text(v)));
        }
    }
    attrs.push(("acquired_at".to_owned(), FactValue::Time(at)));
}

pub(super) fn parse_date(s: &str) -> Option<NaiveDate> {
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

/// Every channel's name and kind, by id. The index holds a first-touch customer's channel by
/// name and kind, and an edit of a channel writes no event for its customers: the engine
/// compares this with what its facts were read with and reloads the customers of the
/// channels that changed ([`acquired_through`]).
pub async fn channel_labels(db: &Db) -> Result<HashMap<i64, (String, String)>> {
    let rows: Vec<(i64, String, String)> = db_run!(db, pool => {
        sqlx::query_as("SELECT id, name, kind FROM channels").fetch_all(pool).await?
    });
    Ok(rows.into_iter().map(|(id, n, k)| (id, (n, k))).collect())
}

/// The customers whose first touch came through one of `channels`, by id.
pub async fn acquired_through(db: &Db, channels: &[i64]) -> Result<Vec<i64>> {
    if channels.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT customer_id FROM customer_acquisition WHERE channel_id IN ({}) ORDER BY customer_id",
        id_list(channels)
    );
    db_run!(db, pool => {
        Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?)
    })
}

/// Values the segment builder offers for the first-touch text attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FirstTouchValues {
    /// Channel names (archived channels too: their customers keep them), distinct, sorted by
    /// code point.
    pub channels: Vec<String>,
    /// Staff who can be credited with an add (guides and store managers): username and
    /// display name, by username (code point order).
    pub staff: Vec<(String, String)>,
}

/// The builder's values within a scope: the channels of `channel_store` and the brand-wide
/// ones (`None`: all), and the guides and store managers of `staff_store` (`None`: every
/// store) or only `staff_id`.
pub async fn first_touch_values(
    db: &Db,
    channel_store: Option<i64>,
    staff_store: Option<i64>,
    staff_id: Option<i64>,
) -> Result<FirstTouchValues> {
    db_run!(db, pool => {
        let mut channels: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT name FROM channels \
             WHERE ($1 IS NULL OR store_id = $1 OR store_id IS NULL) AND name <> ''",
        )
        .bind(channel_store)
        .fetch_all(pool)
        .await?;
        let mut staff: Vec<(String, String)> = sqlx::query_as(
            "SELECT username, display_name FROM staff WHERE role IN ('guide', 'store_manager') \
             AND ($1 IS NULL OR store_id = $1) AND ($2 IS NULL OR id = $2)",
        )
        .bind(staff_store)
        .bind(staff_id)
        .fetch_all(pool)
        .await?;
        // Sorted here, by code point: the engines' collations differ.
        channels.sort_unstable();
        staff.sort_unstable();
        Ok(FirstTouchValues { channels, staff })
    })
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

/// A cheap fingerprint of the catalogue a segment schema is built from (tag groups, tags,
/// custom attributes: counts and latest changes). Each node compares it when it catches up,
/// so a tag created through another node is known here within the catch-up interval, and at
/// once on the next request that catches up.
pub async fn schema_stamp(db: &Db) -> Result<[i64; 6]> {
    let (a, b, c, d, e, f): (i64, i64, i64, i64, i64, i64) = db_run!(db, pool => {
        sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM tag_groups), (SELECT COALESCE(MAX(updated_at), 0) FROM tag_groups), \
             (SELECT COUNT(*) FROM tags), (SELECT COALESCE(MAX(updated_at), 0) FROM tags), \
             (SELECT COUNT(*) FROM attribute_defs), (SELECT COALESCE(MAX(id), 0) FROM attribute_defs)",
        )
        .fetch_one(pool)
        .await?
    });
    Ok([a, b, c, d, e, f])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_touch_values() {
        let mut attrs = Vec::new();
        first_touch_facts(
            (
                1,
                Some("门店台卡".into()),
                Some("store_stand".into()),
                Some("g.li".into()),
                5,
            ),
            &mut attrs,
        );
        assert_eq!(
            attrs,
            vec![
                ("channel".to_owned(), FactValue::Text("门店台卡".into())),
                (
                    "channel_type".to_owned(),
                    FactValue::Text("store_stand".into())
                ),
                ("acquired_by".to_owned(), FactValue::Text("g.li".into())),
                ("acquired_at".to_owned(), FactValue::Time(5)),
            ]
        );
        // An add with an unknown state and no guide: only the time.
        let mut attrs = Vec::new();
        first_touch_facts((1, None, None, None, 7), &mut attrs);
        assert_eq!(attrs, vec![("acquired_at".to_owned(), FactValue::Time(7))]);
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
}
