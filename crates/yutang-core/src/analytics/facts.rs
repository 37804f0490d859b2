//! Customer facts and the monthly cells of the retail metrics, cohorts and funnels
//! (issue #24 items 2 and 3).
//!
//! Distinct counts (buyers of a month, customers of a cohort who ordered within N days) do
//! not add up day by day, so they are not daily rollups. Instead each customer's **facts**
//! (when and how they joined the pool, their first group join, first and second order in
//! the pool, their tier and card, their orders per month and store) are kept, and every
//! cell of the metrics is the sum over customers of what their facts **contribute**
//! ([`contributions`]). When a customer's rows change the store recomputes their facts and
//! adds `contributions(new) − contributions(old)` to the cells, so a cell is always the sum
//! over the stored facts — the property the tests check against a rebuild. No I/O here.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use super::{DAY_MS, SHANGHAI_OFFSET_MS};
use crate::FieldError;

/// The first-order windows (days after joining the pool) a cohort counts: 首购开单率 may be
/// asked for any of them.
pub const FIRST_ORDER_WINDOWS: [i64; 6] = [1, 7, 14, 30, 60, 90];
/// Months after the joining month the retention matrix follows (0 = the joining month).
pub const RETENTION_MONTHS: i64 = 12;

/// A month number: `year * 12 + month - 1`, of a Shanghai date.
pub type Month = i64;

/// The Shanghai month of a UTC instant (millis).
pub fn month_of(t: i64) -> Month {
    let day = (t + SHANGHAI_OFFSET_MS).div_euclid(DAY_MS);
    let date =
        NaiveDate::from_num_days_from_ce_opt(i32::try_from(day + 719_163).unwrap_or(if day < 0 {
            1
        } else {
            i32::MAX
        }))
        .unwrap_or(NaiveDate::MIN);
    i64::from(date.year()) * 12 + i64::from(date.month0())
}

/// `YYYY-MM` of a month number.
pub fn month_label(m: Month) -> String {
    format!("{:04}-{:02}", m.div_euclid(12), m.rem_euclid(12) + 1)
}

/// The month number of `YYYY-MM` (years 2000–2099), `None` when malformed.
pub fn parse_month(s: &str) -> Option<Month> {
    let (y, m) = s.split_once('-')?;
    if y.len() != 4 || m.len() != 2 || !y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (y, m): (i64, i64) = (y.parse().ok()?, m.parse().ok()?);
    ((2000..=2099).contains(&y) && (1..=12).contains(&m)).then_some(y * 12 + m - 1)
}

/// `[start, end)` in UTC millis of a Shanghai month.
pub fn month_bounds(m: Month) -> (i64, i64) {
    let start = |m: Month| {
        let date = NaiveDate::from_ymd_opt(
            i32::try_from(m.div_euclid(12)).unwrap_or(2000),
            u32::try_from(m.rem_euclid(12) + 1).unwrap_or(1),
            1,
        )
        .unwrap_or(NaiveDate::MIN);
        i64::from(date.num_days_from_ce() - 719_163) * DAY_MS - SHANGHAI_OFFSET_MS
    };
    (start(m), start(m + 1))
}

/// How the customer came into the pool (their first touch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Joined {
    pub at: i64,
    pub channel: Option<i64>,
    pub staff: Option<i64>,
    /// The store of that guide when the facts were computed.
    pub store: Option<i64>,
}

/// One order as the facts read it: net of refunds (a fully refunded order is left out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderIn {
    pub paid_at: i64,
    /// Paid minus refunded, fen.
    pub net_fen: i64,
    /// The order's store, else its guide's.
    pub store: Option<i64>,
    pub guide: Option<i64>,
}

/// A customer's own open of a material through a tracked link (雷达) a guide sent them:
/// counted for the guide who sent it and the guide's store. Forwards are shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenIn {
    pub at: i64,
    pub store: Option<i64>,
    pub guide: Option<i64>,
}

/// What the store reads of one customer (not merged into another).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerIn {
    pub joined: Option<Joined>,
    pub first_group_at: Option<i64>,
    /// When the customer was first bound to an inviter (a `referred` event).
    pub referred_at: Option<i64>,
    pub orders: Vec<OrderIn>,
    /// Share events, by time.
    pub shares: Vec<i64>,
    /// Tracked-link opens (内容种草).
    pub opens: Vec<OpenIn>,
    pub tier: Option<i64>,
    /// Bought a member card that was not refunded.
    pub paid_member: bool,
    /// When the last of the customer's WeCom contacts was deleted, if none is in place.
    pub lost_at: Option<i64>,
}

/// A customer's facts as stored (`customer_facts`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Facts {
    pub joined: Option<Joined>,
    pub first_group_at: Option<i64>,
    pub referred_at: Option<i64>,
    /// The first and second orders paid at or after joining the pool.
    pub first_order_at: Option<i64>,
    pub second_order_at: Option<i64>,
    pub tier: Option<i64>,
    pub paid_member: bool,
    pub lost_at: Option<i64>,
}

/// A customer's orders of one month at one store and guide (`customer_months`); key 0 is
/// none. `referred` says the orders were paid at or after the customer's referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct MonthRow {
    pub month: Month,
    pub store: i64,
    pub guide: i64,
    pub referred: bool,
    pub orders: i64,
    pub net_fen: i64,
    pub shares: i64,
    /// Tracked-link opens, on the row of the guide (and store) whose link was opened.
    pub opens: i64,
}

/// The facts and month rows of a customer.
pub fn facts_of(c: &CustomerIn) -> (Facts, Vec<MonthRow>) {
    let mut orders: Vec<OrderIn> = c.orders.iter().copied().filter(|o| o.net_fen > 0).collect();
    orders.sort_by_key(|o| o.paid_at);
    let mut pool = orders
        .iter()
        .filter(|o| c.joined.is_some_and(|j| o.paid_at >= j.at));
    let facts = Facts {
        joined: c.joined,
        first_group_at: c.first_group_at,
        referred_at: c.referred_at,
        first_order_at: pool.next().map(|o| o.paid_at),
        second_order_at: pool.next().map(|o| o.paid_at),
        tier: c.tier,
        paid_member: c.paid_member,
        lost_at: c.lost_at,
    };
    // (month, store, guide, referred) → (orders, net fen, shares, opens).
    type RowKey = (Month, i64, i64, bool);
    let mut rows: BTreeMap<RowKey, (i64, i64, i64, i64)> = BTreeMap::new();
    for o in &orders {
        let referred = c.referred_at.is_some_and(|r| o.paid_at >= r);
        let e = rows
            .entry((
                month_of(o.paid_at),
                o.store.unwrap_or(0),
                o.guide.unwrap_or(0),
                referred,
            ))
            .or_default();
        e.0 += 1;
        e.1 += o.net_fen;
    }
    for &s in &c.shares {
        // Shares are the customer's, not a store's: kept on the row without store or guide.
        rows.entry((month_of(s), 0, 0, false)).or_default().2 += 1;
    }
    for o in &c.opens {
        rows.entry((
            month_of(o.at),
            o.store.unwrap_or(0),
            o.guide.unwrap_or(0),
            false,
        ))
        .or_default()
        .3 += 1;
    }
    let rows = rows
        .into_iter()
        .map(
            |((month, store, guide, referred), (orders, net_fen, shares, opens))| MonthRow {
                month,
                store,
                guide,
                referred,
                orders,
                net_fen,
                shares,
                opens,
            },
        )
        .collect();
    (facts, rows)
}

/// The most months one page shows.
pub const MAX_MONTHS: i64 = 24;
/// Months shown when none are asked for (the current one included).
pub const DEFAULT_MONTHS: i64 = 6;

/// Shanghai months `from..=to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthPeriod {
    pub from: Month,
    pub to: Month,
}

impl MonthPeriod {
    /// `from` and `to` are `YYYY-MM`; without `to` the period ends with the current month,
    /// without `from` it is [`DEFAULT_MONTHS`] long; at most [`MAX_MONTHS`].
    pub fn parse(from: Option<&str>, to: Option<&str>, now: i64) -> Result<Self, FieldError> {
        let month = |field: &'static str, s: &str| {
            parse_month(s.trim()).ok_or_else(|| {
                FieldError::new(field, "invalid_month", "a month is YYYY-MM (2000–2099)")
            })
        };
        let to = match to {
            Some(t) => month("to", t)?,
            None => month_of(now),
        };
        let from = match from {
            Some(f) => month("from", f)?,
            None => to - (DEFAULT_MONTHS - 1),
        };
        if from > to || to - from + 1 > MAX_MONTHS {
            return Err(FieldError::new(
                "from",
                "invalid_month_range",
                format!("from is on or before to, at most {MAX_MONTHS} months"),
            ));
        }
        Ok(Self { from, to })
    }

    pub fn months(self) -> impl Iterator<Item = Month> {
        self.from..=self.to
    }
}

/// The kind of period a cell is kept by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// By the month the customers joined the pool (cohorts, funnels, 首购开单率).
    Cohort,
    /// By the month of the orders (buyers, 引流率, repurchase, social).
    Month,
    /// A level without period (customers per tier or card, period 0).
    Level,
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Cohort => "a",
            Family::Month => "m",
            Family::Level => "l",
        }
    }
}

/// Who a cell counts: the brand (key 0), a store, a guide, a channel (cohorts), a tier or a
/// card status (key 1 paid members, 0 the others); key 0 of a store, guide, channel or tier
/// is "none".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CellGrain {
    Brand,
    Store,
    Guide,
    Channel,
    Tier,
    Card,
}

impl CellGrain {
    pub fn as_str(self) -> &'static str {
        match self {
            CellGrain::Brand => "b",
            CellGrain::Store => "s",
            CellGrain::Guide => "g",
            CellGrain::Channel => "c",
            CellGrain::Tier => "t",
            CellGrain::Card => "k",
        }
    }
}

/// One cell's address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellKey {
    pub family: Family,
    pub grain: CellGrain,
    pub key: i64,
    pub period: i64,
    pub cell: String,
}

/// Cell names of the cohort family.
pub mod cohort {
    /// Customers who joined the pool that month.
    pub const JOINED: &str = "joined";
    /// Of them, customers who have joined a customer group (at any time).
    pub const GROUPED: &str = "grouped";
    /// With a first order in the pool.
    pub const ORDERED: &str = "ordered";
    /// With a second order in the pool.
    pub const REPURCHASED: &str = "repurchased";
    /// The days from first to second order, summed (for the mean interval).
    pub const REPURCHASE_DAYS: &str = "repurchase_days";

    /// With a first order within `days` days of joining.
    pub fn ordered_within(days: i64) -> String {
        format!("ordered_{days}d")
    }

    /// With an order in the `k`-th month after joining (0: the joining month, from joining on).
    pub fn retained(k: i64) -> String {
        format!("retained_{k}")
    }

    /// Still a WeCom contact of a guide at the end of the `k`-th month after joining (for a
    /// month not over yet: now).
    pub fn kept(k: i64) -> String {
        format!("kept_{k}")
    }
}

/// Cell names of the month family.
pub mod month {
    /// Distinct customers with an order that month.
    pub const BUYERS: &str = "buyers";
    /// Of them, customers who had bought in an earlier month (any store).
    pub const RETURNING: &str = "returning";
    /// Orders (not fully refunded).
    pub const ORDERS: &str = "orders";
    /// Their amount net of refunds, fen.
    pub const NET_FEN: &str = "net_fen";
    /// Buyers not in the pool when the month began.
    pub const OUTSIDE: &str = "outside_buyers";
    /// Of them, buyers who joined the pool within the month (引流率's numerator).
    pub const BROUGHT_IN: &str = "brought_in";
    /// Shares by customers.
    pub const SHARES: &str = "shares";
    /// Customers referred (bound to an inviter) that month.
    pub const REFERRALS: &str = "referrals";
    /// Orders of referred customers from their referral on, and their net amount.
    pub const REFERRED_ORDERS: &str = "referred_orders";
    pub const REFERRED_FEN: &str = "referred_fen";
    /// Tracked-link opens by customers (forwards are shares, not opens).
    pub const CONTENT_OPENS: &str = "content_opens";
    /// Distinct customers with a tracked-link open that month (内容种草).
    pub const CONTENT_READERS: &str = "content_readers";
}

/// Cell names of the level family.
pub mod level {
    /// Customers (not merged away).
    pub const CUSTOMERS: &str = "customers";
}

/// Everything a customer's facts add to the cells.
pub fn contributions(f: &Facts, rows: &[MonthRow]) -> BTreeMap<CellKey, i64> {
    let mut out: BTreeMap<CellKey, i64> = BTreeMap::new();
    let mut add = |family: Family, grain: CellGrain, key: i64, period: i64, cell: &str, v: i64| {
        if v != 0 {
            *out.entry(CellKey {
                family,
                grain,
                key,
                period,
                cell: cell.to_owned(),
            })
            .or_default() += v;
        }
    };
    let tier = f.tier.unwrap_or(0);
    let card = i64::from(f.paid_member);

    // Levels.
    add(Family::Level, CellGrain::Brand, 0, 0, level::CUSTOMERS, 1);
    add(Family::Level, CellGrain::Tier, tier, 0, level::CUSTOMERS, 1);
    add(Family::Level, CellGrain::Card, card, 0, level::CUSTOMERS, 1);

    // The cohort of the month the customer joined.
    if let Some(j) = f.joined {
        let m = month_of(j.at);
        let grains = [
            (CellGrain::Brand, 0),
            (CellGrain::Store, j.store.unwrap_or(0)),
            (CellGrain::Guide, j.staff.unwrap_or(0)),
            (CellGrain::Channel, j.channel.unwrap_or(0)),
        ];
        let mut cells: Vec<(String, i64)> = vec![(cohort::JOINED.to_owned(), 1)];
        if f.first_group_at.is_some() {
            cells.push((cohort::GROUPED.to_owned(), 1));
        }
        if let Some(first) = f.first_order_at {
            cells.push((cohort::ORDERED.to_owned(), 1));
            for w in FIRST_ORDER_WINDOWS {
                if first - j.at <= w * DAY_MS {
                    cells.push((cohort::ordered_within(w), 1));
                }
            }
            if month_of(first) == m {
                cells.push((cohort::retained(0), 1));
            }
            if let Some(second) = f.second_order_at {
                cells.push((cohort::REPURCHASED.to_owned(), 1));
                cells.push((
                    cohort::REPURCHASE_DAYS.to_owned(),
                    (second - first) / DAY_MS,
                ));
            }
        }
        for k in 0..=RETENTION_MONTHS {
            if f.lost_at.is_none_or(|l| l >= month_bounds(m + k).1) {
                cells.push((cohort::kept(k), 1));
            }
        }
        let mut later: Vec<Month> = rows
            .iter()
            .filter(|r| r.orders > 0 && r.month > m && r.month <= m + RETENTION_MONTHS)
            .map(|r| r.month)
            .collect();
        later.dedup();
        for k in later {
            cells.push((cohort::retained(k - m), 1));
        }
        for (g, key) in grains {
            for (cell, v) in &cells {
                add(Family::Cohort, g, key, m, cell, *v);
            }
        }
    }

    // The months with orders (or shares).
    let first_month = rows.iter().filter(|r| r.orders > 0).map(|r| r.month).min();
    let mut months: Vec<Month> = rows.iter().map(|r| r.month).collect();
    months.dedup();
    for m in months {
        let of_month: Vec<&MonthRow> = rows.iter().filter(|r| r.month == m).collect();
        let bought = of_month.iter().any(|r| r.orders > 0);
        let (start, end) = month_bounds(m);
        let returning = first_month.is_some_and(|f| f < m);
        let outside = f.joined.is_none_or(|j| j.at >= start);
        let brought_in = f.joined.is_some_and(|j| j.at >= start && j.at < end);
        let shares: i64 = of_month.iter().map(|r| r.shares).sum();
        add(Family::Month, CellGrain::Brand, 0, m, month::SHARES, shares);
        // Opens per grain key: a customer is one reader of the brand and of each store
        // (guide) whose links they opened.
        let mut opens: BTreeMap<(CellGrain, i64), i64> = BTreeMap::new();
        for r in of_month.iter().filter(|r| r.opens > 0) {
            for k in [
                (CellGrain::Brand, 0),
                (CellGrain::Store, r.store),
                (CellGrain::Guide, r.guide),
            ] {
                *opens.entry(k).or_default() += r.opens;
            }
        }
        for ((g, key), n) in opens {
            add(Family::Month, g, key, m, month::CONTENT_OPENS, n);
            add(Family::Month, g, key, m, month::CONTENT_READERS, 1);
        }
        // Buyer counts per grain key: a customer is one buyer of each store (guide) they
        // bought at, and one of the brand.
        let mut per: BTreeMap<(CellGrain, i64), (i64, i64, i64, i64)> = BTreeMap::new();
        for r in of_month.iter().filter(|r| r.orders > 0) {
            let keys = [
                (CellGrain::Brand, 0),
                (CellGrain::Store, r.store),
                (CellGrain::Guide, r.guide),
                (CellGrain::Tier, tier),
                (CellGrain::Card, card),
            ];
            for k in keys {
                let e = per.entry(k).or_default();
                e.0 += r.orders;
                e.1 += r.net_fen;
                if r.referred {
                    e.2 += r.orders;
                    e.3 += r.net_fen;
                }
            }
        }
        if bought {
            for ((g, key), (orders, fen, ref_orders, ref_fen)) in per {
                add(Family::Month, g, key, m, month::BUYERS, 1);
                add(Family::Month, g, key, m, month::ORDERS, orders);
                add(Family::Month, g, key, m, month::NET_FEN, fen);
                add(
                    Family::Month,
                    g,
                    key,
                    m,
                    month::RETURNING,
                    i64::from(returning),
                );
                add(Family::Month, g, key, m, month::OUTSIDE, i64::from(outside));
                add(
                    Family::Month,
                    g,
                    key,
                    m,
                    month::BROUGHT_IN,
                    i64::from(brought_in),
                );
                add(Family::Month, g, key, m, month::REFERRED_ORDERS, ref_orders);
                add(Family::Month, g, key, m, month::REFERRED_FEN, ref_fen);
            }
        }
    }
    if let Some(r) = f.referred_at {
        let m = month_of(r);
        add(Family::Month, CellGrain::Brand, 0, m, month::REFERRALS, 1);
        if let Some(j) = f.joined {
            add(
                Family::Month,
                CellGrain::Store,
                j.store.unwrap_or(0),
                m,
                month::REFERRALS,
                1,
            );
            add(
                Family::Month,
                CellGrain::Guide,
                j.staff.unwrap_or(0),
                m,
                month::REFERRALS,
                1,
            );
        }
    }
    out
}

/// Add `new − old` to `into` (which may keep zeros: drop them once at the end).
pub fn delta(
    old: &BTreeMap<CellKey, i64>,
    new: &BTreeMap<CellKey, i64>,
    into: &mut BTreeMap<CellKey, i64>,
) {
    for (k, v) in new {
        *into.entry(k.clone()).or_default() += v;
    }
    for (k, v) in old {
        *into.entry(k.clone()).or_default() -= v;
    }
}

/// `part / whole` in basis points, rounded down; `None` when `whole` is 0.
pub fn rate_bp(part: i64, whole: i64) -> Option<i64> {
    (whole > 0).then(|| part.saturating_mul(10_000) / whole)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(y: i32, m: u32, d: u32, h: i64) -> i64 {
        let days = i64::from(
            NaiveDate::from_ymd_opt(y, m, d)
                .expect("date")
                .num_days_from_ce()
                - 719_163,
        );
        days * DAY_MS - SHANGHAI_OFFSET_MS + h * 3_600_000
    }

    #[test]
    fn months_are_shanghai_months() {
        // 2026-03-01 00:30 Shanghai is 2026-02-28 16:30 UTC.
        let t = at(2026, 3, 1, 0) + 1_800_000;
        assert_eq!(month_label(month_of(t)), "2026-03");
        assert_eq!(month_label(month_of(t - 3_600_000)), "2026-02");
        let m = parse_month("2026-03").expect("month");
        let (start, end) = month_bounds(m);
        assert_eq!(start, at(2026, 3, 1, 0));
        assert_eq!(end, at(2026, 4, 1, 0));
        assert_eq!(
            month_bounds(parse_month("2026-12").expect("m")).1,
            at(2027, 1, 1, 0)
        );
        for bad in [
            "2026-13", "2026-00", "26-01", "2026-1", "abcd-01", "1999-12", "2026-01x",
        ] {
            assert_eq!(parse_month(bad), None, "{bad}");
        }
    }

    fn order(paid_at: i64, net_fen: i64, store: i64) -> OrderIn {
        OrderIn {
            paid_at,
            net_fen,
            store: Some(store),
            guide: Some(store * 10),
        }
    }

    #[test]
    fn a_new_member_who_orders_twice() {
        let joined = at(2026, 3, 10, 12);
        let c = CustomerIn {
            joined: Some(Joined {
                at: joined,
                channel: Some(7),
                staff: Some(30),
                store: Some(3),
            }),
            first_group_at: Some(joined + 3_600_000),
            orders: vec![
                // Before joining: a buyer brought in that month, not a pool order.
                order(at(2026, 3, 2, 12), 5_000, 3),
                // Fully refunded: left out.
                order(at(2026, 3, 11, 12), 0, 3),
                order(at(2026, 3, 14, 12), 8_000, 3),
                order(at(2026, 5, 1, 12), 2_000, 4),
            ],
            ..CustomerIn::default()
        };
        let (f, rows) = facts_of(&c);
        assert_eq!(f.first_order_at, Some(at(2026, 3, 14, 12)));
        assert_eq!(f.second_order_at, Some(at(2026, 5, 1, 12)));
        let cells = contributions(&f, &rows);
        let get = |family, grain, key, month: &str, cell: &str| {
            cells
                .get(&CellKey {
                    family,
                    grain,
                    key,
                    period: parse_month(month).expect("month"),
                    cell: cell.to_owned(),
                })
                .copied()
                .unwrap_or(0)
        };
        use CellGrain::*;
        use Family::*;
        assert_eq!(get(Cohort, Channel, 7, "2026-03", cohort::JOINED), 1);
        assert_eq!(get(Cohort, Store, 3, "2026-03", cohort::GROUPED), 1);
        assert_eq!(get(Cohort, Brand, 0, "2026-03", "ordered_1d"), 0);
        assert_eq!(get(Cohort, Brand, 0, "2026-03", "ordered_7d"), 1);
        assert_eq!(get(Cohort, Brand, 0, "2026-03", cohort::REPURCHASED), 1);
        assert_eq!(
            get(Cohort, Brand, 0, "2026-03", cohort::REPURCHASE_DAYS),
            48
        );
        assert_eq!(get(Cohort, Brand, 0, "2026-03", "retained_0"), 1);
        assert_eq!(get(Cohort, Brand, 0, "2026-03", "retained_1"), 0);
        assert_eq!(get(Cohort, Brand, 0, "2026-03", "retained_2"), 1);
        // Still a contact: kept every month.
        assert_eq!(get(Cohort, Brand, 0, "2026-03", "kept_12"), 1);
        let lost = Facts {
            lost_at: Some(at(2026, 4, 20, 12)),
            ..f
        };
        let cells = contributions(&lost, &rows);
        let kept = |k: i64| {
            cells
                .get(&CellKey {
                    family: Cohort,
                    grain: Brand,
                    key: 0,
                    period: parse_month("2026-03").expect("month"),
                    cell: cohort::kept(k),
                })
                .copied()
                .unwrap_or(0)
        };
        assert_eq!((kept(0), kept(1), kept(2)), (1, 0, 0));
        // March: one buyer at store 3 with two orders, outside the pool at the month's
        // start and brought in during it; not returning.
        assert_eq!(get(Month, Store, 3, "2026-03", month::BUYERS), 1);
        assert_eq!(get(Month, Store, 3, "2026-03", month::ORDERS), 2);
        assert_eq!(get(Month, Store, 3, "2026-03", month::NET_FEN), 13_000);
        assert_eq!(get(Month, Store, 3, "2026-03", month::OUTSIDE), 1);
        assert_eq!(get(Month, Store, 3, "2026-03", month::BROUGHT_IN), 1);
        assert_eq!(get(Month, Brand, 0, "2026-03", month::RETURNING), 0);
        // May: returning, in the pool already.
        assert_eq!(get(Month, Store, 4, "2026-05", month::RETURNING), 1);
        assert_eq!(get(Month, Store, 4, "2026-05", month::OUTSIDE), 0);
        assert_eq!(get(Month, Guide, 40, "2026-05", month::BUYERS), 1);
        assert_eq!(get(Month, Tier, 0, "2026-05", month::NET_FEN), 2_000);
    }

    #[test]
    fn a_reader_counts_once_per_month_for_each_guide_whose_links_they_open() {
        let open = |at, guide| OpenIn {
            at,
            store: Some(4),
            guide: Some(guide),
        };
        let c = CustomerIn {
            opens: vec![
                open(at(2026, 3, 2, 9), 40),
                open(at(2026, 3, 20, 9), 40),
                open(at(2026, 3, 21, 9), 41),
                // 2026-04-01 07:00 Shanghai: April's.
                open(at(2026, 4, 1, 7), 40),
            ],
            // A forward is a share, not an open.
            shares: vec![at(2026, 3, 3, 9)],
            ..CustomerIn::default()
        };
        let (f, rows) = facts_of(&c);
        let cells = contributions(&f, &rows);
        let get = |grain, key, month: &str, cell: &str| {
            cells
                .get(&CellKey {
                    family: Family::Month,
                    grain,
                    key,
                    period: parse_month(month).expect("month"),
                    cell: cell.to_owned(),
                })
                .copied()
                .unwrap_or(0)
        };
        use CellGrain::*;
        let (opens, readers) = (month::CONTENT_OPENS, month::CONTENT_READERS);
        assert_eq!(get(Brand, 0, "2026-03", opens), 3);
        assert_eq!(get(Brand, 0, "2026-03", readers), 1);
        assert_eq!(get(Store, 4, "2026-03", opens), 3);
        assert_eq!(get(Store, 4, "2026-03", readers), 1);
        assert_eq!(get(Guide, 40, "2026-03", opens), 2);
        assert_eq!(get(Guide, 41, "2026-03", readers), 1);
        assert_eq!(get(Brand, 0, "2026-04", opens), 1);
        assert_eq!(get(Brand, 0, "2026-03", month::SHARES), 1);
        // Reading buys nothing: no buyer cells.
        assert_eq!(get(Brand, 0, "2026-03", month::BUYERS), 0);
    }

    fn customer() -> impl Strategy<Value = CustomerIn> {
        let t = 1_767_225_600_000i64; // 2026-01-01
        let span = 200 * DAY_MS;
        (
            proptest::option::of((0..span, proptest::option::of(1i64..4), 1i64..4)),
            proptest::option::of(0..span),
            proptest::option::of(0..span),
            proptest::collection::vec((0..span, 0i64..5_000, 1i64..4), 0..6),
            proptest::collection::vec(0..span, 0..3),
            proptest::option::of(1i64..3),
            any::<bool>(),
            proptest::option::of(0..span),
            proptest::collection::vec((0..span, 1i64..4), 0..4),
        )
            .prop_map(move |(j, g, r, orders, shares, tier, paid, lost, opens)| {
                CustomerIn {
                    joined: j.map(|(at, channel, staff)| Joined {
                        at: t + at,
                        channel,
                        staff: Some(staff),
                        store: Some(staff % 2),
                    }),
                    first_group_at: g.map(|g| t + g),
                    referred_at: r.map(|r| t + r),
                    orders: orders
                        .into_iter()
                        .map(|(at, fen, s)| order(t + at, fen, s))
                        .collect(),
                    shares: shares.into_iter().map(|s| t + s).collect(),
                    opens: opens
                        .into_iter()
                        .map(|(at, g)| OpenIn {
                            at: t + at,
                            store: Some(g % 2),
                            guide: Some(g),
                        })
                        .collect(),
                    tier,
                    paid_member: paid,
                    lost_at: lost.map(|l| t + l),
                }
            })
    }

    #[test]
    fn month_periods() {
        let now = at(2026, 12, 6, 10);
        let p = MonthPeriod::parse(None, None, now).expect("default");
        assert_eq!(
            (month_label(p.from), month_label(p.to)),
            ("2026-07".into(), "2026-12".into())
        );
        let p = MonthPeriod::parse(Some("2025-01"), Some("2026-12"), now).expect("24 months");
        assert_eq!(p.months().count(), 24);
        let e = MonthPeriod::parse(Some("2024-12"), Some("2026-12"), now).expect_err("25");
        assert_eq!((e.field, e.code), ("from", "invalid_month_range"));
        let e = MonthPeriod::parse(Some("2026-05"), Some("2026-04"), now).expect_err("reversed");
        assert_eq!(e.code, "invalid_month_range");
        let e = MonthPeriod::parse(None, Some("2026-4"), now).expect_err("bad");
        assert_eq!((e.field, e.code), ("to", "invalid_month"));
    }

    proptest! {
        /// Applying each customer's change as a delta gives the cells of the final facts.
        #[test]
        fn deltas_sum_to_the_cells_of_the_final_facts(
            steps in proptest::collection::vec((0usize..4, customer()), 1..20)
        ) {
            let mut stored: BTreeMap<usize, (Facts, Vec<MonthRow>)> = BTreeMap::new();
            let mut cells: BTreeMap<CellKey, i64> = BTreeMap::new();
            let empty = BTreeMap::new();
            for (who, c) in steps {
                let new = facts_of(&c);
                let old = stored.get(&who).map(|(f, r)| contributions(f, r));
                let mut d = BTreeMap::new();
                delta(old.as_ref().unwrap_or(&empty), &contributions(&new.0, &new.1), &mut d);
                for (k, v) in d {
                    *cells.entry(k).or_default() += v;
                }
                stored.insert(who, new);
            }
            cells.retain(|_, v| *v != 0);
            let mut expect: BTreeMap<CellKey, i64> = BTreeMap::new();
            for (f, r) in stored.values() {
                for (k, v) in contributions(f, r) {
                    *expect.entry(k).or_default() += v;
                }
            }
            expect.retain(|_, v| *v != 0);
            prop_assert_eq!(cells, expect);
        }

        /// Rates stay within 0–100 % for every customer mix: brought-in buyers are outside
        /// buyers, returning buyers are buyers, and a cohort's windows only grow.
        #[test]
        fn rates_are_bounded(cs in proptest::collection::vec(customer(), 1..30)) {
            let mut cells: BTreeMap<CellKey, i64> = BTreeMap::new();
            for c in &cs {
                let (f, r) = facts_of(c);
                for (k, v) in contributions(&f, &r) {
                    *cells.entry(k).or_default() += v;
                }
            }
            let get = |k: &CellKey, cell: &str| cells.get(&CellKey { cell: cell.to_owned(), ..k.clone() }).copied().unwrap_or(0);
            for k in cells.keys() {
                match k.family {
                    Family::Month => {
                        prop_assert!(get(k, month::BROUGHT_IN) <= get(k, month::OUTSIDE));
                        prop_assert!(get(k, month::OUTSIDE) <= get(k, month::BUYERS));
                        prop_assert!(get(k, month::RETURNING) <= get(k, month::BUYERS));
                        prop_assert!(get(k, month::BUYERS) <= get(k, month::ORDERS));
                        prop_assert!(get(k, month::CONTENT_READERS) <= get(k, month::CONTENT_OPENS));
                    }
                    Family::Cohort => {
                        let mut prev = 0;
                        for w in FIRST_ORDER_WINDOWS {
                            let v = get(k, &cohort::ordered_within(w));
                            prop_assert!(v >= prev);
                            prev = v;
                        }
                        prop_assert!(prev <= get(k, cohort::ORDERED));
                        prop_assert!(get(k, cohort::REPURCHASED) <= get(k, cohort::ORDERED));
                        prop_assert!(get(k, cohort::ORDERED) <= get(k, cohort::JOINED));
                        prop_assert!(get(k, cohort::GROUPED) <= get(k, cohort::JOINED));
                        let mut prev = get(k, cohort::JOINED);
                        for m in 0..=RETENTION_MONTHS {
                            let v = get(k, &cohort::kept(m));
                            prop_assert!(v <= prev);
                            prev = v;
                        }
                    }
                    Family::Level => {}
                }
            }
        }
    }
}
