//! Analytics (issue #24): the dashboard's daily rollups and the figures made from them.
//!
//! The store reads, for a span of Shanghai days, every metric grouped by day and by the
//! dimensions it has (store, guide, channel) — [`SourceRow`]s — and [`fold`] turns them into
//! the rows kept per grain: the brand, each store, each guide, each channel. The dashboard
//! sums a grain's rows over a period ([`Tile`]). No I/O here.

pub mod facts;
pub mod reports;
pub mod uplift;

use std::collections::BTreeMap;

use serde::Serialize;

pub use crate::promotions::stats::{DAY_MS, SHANGHAI_OFFSET_MS, day_label, day_of};

/// What a rollup counts or sums, per Shanghai day. Each is defined in docs/analytics.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Customers created in the pool that day (those since merged into another included).
    CustomersCreated,
    /// Customers merged into another that day (duplicates leaving the pool).
    CustomersMerged,
    /// WeCom contact adds (a customer adding a guide), by the add's time.
    ContactsAdded,
    /// Adds deleted again (by either side), by the time of the deletion.
    ContactsLost,
    /// Customers joining a customer group.
    GroupJoins,
    /// Customers leaving a customer group.
    GroupLeaves,
    /// Paid orders, by the time of payment.
    Orders,
    /// The paid amount of those orders, in fen.
    Gmv,
    /// Refunds, by the time of the refund.
    Refunds,
    /// The refunded amount, in fen.
    RefundedFen,
    /// Coupon claims (one claim may hold several coupons of a package).
    CouponsClaimed,
    /// Coupons used on an order.
    CouponsUsed,
}

impl Metric {
    pub const ALL: [Metric; 12] = [
        Metric::CustomersCreated,
        Metric::CustomersMerged,
        Metric::ContactsAdded,
        Metric::ContactsLost,
        Metric::GroupJoins,
        Metric::GroupLeaves,
        Metric::Orders,
        Metric::Gmv,
        Metric::Refunds,
        Metric::RefundedFen,
        Metric::CouponsClaimed,
        Metric::CouponsUsed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::CustomersCreated => "customers_created",
            Metric::CustomersMerged => "customers_merged",
            Metric::ContactsAdded => "contacts_added",
            Metric::ContactsLost => "contacts_lost",
            Metric::GroupJoins => "group_joins",
            Metric::GroupLeaves => "group_leaves",
            Metric::Orders => "orders",
            Metric::Gmv => "gmv_fen",
            Metric::Refunds => "refunds",
            Metric::RefundedFen => "refunded_fen",
            Metric::CouponsClaimed => "coupons_claimed",
            Metric::CouponsUsed => "coupons_used",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Whether the metric has a store and a guide (customers and coupon claims belong to the
    /// brand: a customer is no store's until a guide adds them, which `ContactsAdded` counts).
    pub fn scoped(self) -> bool {
        !matches!(
            self,
            Metric::CustomersCreated | Metric::CustomersMerged | Metric::CouponsClaimed
        )
    }

    /// Whether the metric has a channel (adds through a live code, orders credited to one).
    pub fn by_channel(self) -> bool {
        matches!(
            self,
            Metric::ContactsAdded | Metric::ContactsLost | Metric::Orders | Metric::Gmv
        )
    }
}

/// The level a rollup row sums at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grain {
    /// The whole brand (key 0).
    Brand,
    /// One store (key 0: no store).
    Store,
    /// One guide (key 0: no guide).
    Guide,
    /// One channel (key 0: no channel).
    Channel,
}

impl Grain {
    pub fn as_str(self) -> &'static str {
        match self {
            Grain::Brand => "b",
            Grain::Store => "s",
            Grain::Guide => "g",
            Grain::Channel => "c",
        }
    }
}

/// One metric's value on one day for one combination of its dimensions, as the store
/// groups the base tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRow {
    pub metric: Metric,
    pub day: i64,
    pub store: Option<i64>,
    pub staff: Option<i64>,
    pub channel: Option<i64>,
    pub value: i64,
}

/// A row kept in the rollups.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RollupRow {
    pub grain: &'static str,
    pub key: i64,
    pub metric: &'static str,
    pub day: i64,
    pub value: i64,
}

/// The rows of every grain for the source rows: each source row adds to the brand, and to
/// its store, guide and channel where the metric has them. Rows summing to 0 are left out
/// (an absent row reads as 0), so the result is the same whichever way the sources were cut.
pub fn fold(rows: &[SourceRow]) -> Vec<RollupRow> {
    let mut sums: BTreeMap<(Grain, i64, Metric, i64), i64> = BTreeMap::new();
    for r in rows {
        let mut add = |grain: Grain, key: Option<i64>| {
            *sums
                .entry((grain, key.unwrap_or(0), r.metric, r.day))
                .or_default() += r.value;
        };
        add(Grain::Brand, None);
        if r.metric.scoped() {
            add(Grain::Store, r.store);
            add(Grain::Guide, r.staff);
        }
        if r.metric.by_channel() {
            add(Grain::Channel, r.channel);
        }
    }
    sums.into_iter()
        .filter(|(_, v)| *v != 0)
        .map(|((grain, key, metric, day), value)| RollupRow {
            grain: grain.as_str(),
            key,
            metric: metric.as_str(),
            day,
            value,
        })
        .collect()
}

/// The days an event of the log may have changed: the day it happened and the day it was
/// written (a late event changes an old day; the rows written with it carry either time).
pub fn touched_days(occurred_at: i64, received_at: i64) -> [i64; 2] {
    [day_of(occurred_at), day_of(received_at)]
}

/// The change from `previous` to `current` in basis points (1/100 of a percent), rounded
/// toward zero; `None` when there was nothing before to compare with.
pub fn change_bp(current: i64, previous: i64) -> Option<i64> {
    if previous == 0 {
        return None;
    }
    let bp = (i128::from(current) - i128::from(previous)) * 10_000 / i128::from(previous).abs();
    i64::try_from(bp).ok()
}

/// One dashboard figure over a period: its total, the previous period's (as long, just
/// before), the change, and its value on each day of the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tile {
    pub metric: &'static str,
    pub total: i64,
    pub previous: i64,
    /// Basis points; `None` when the previous period had nothing.
    pub change_bp: Option<i64>,
    /// One value per day of the period, oldest first.
    pub days: Vec<i64>,
}

/// The tile of `metric` from its rows by day (`(day, value)`), over `from_day..=to_day`,
/// the previous period being the same number of days just before.
pub fn tile(metric: &'static str, by_day: &BTreeMap<i64, i64>, from_day: i64, to_day: i64) -> Tile {
    let len = to_day - from_day + 1;
    let days: Vec<i64> = (from_day..=to_day)
        .map(|d| by_day.get(&d).copied().unwrap_or(0))
        .collect();
    let total = days.iter().sum();
    let previous = by_day.range(from_day - len..from_day).map(|(_, v)| v).sum();
    Tile {
        metric,
        total,
        previous,
        change_bp: change_bp(total, previous),
        days,
    }
}

/// Day-by-day difference of two series (adds minus losses …), as a tile.
pub fn difference(metric: &'static str, a: &Tile, b: &Tile) -> Tile {
    let days: Vec<i64> = a.days.iter().zip(&b.days).map(|(x, y)| x - y).collect();
    let total = a.total - b.total;
    let previous = a.previous - b.previous;
    Tile {
        metric,
        total,
        previous,
        change_bp: change_bp(total, previous),
        days,
    }
}

/// A level's tile from its changes per day (`day → change`, every day there is): the level
/// at the end of each day of the period, `previous` at the end of the day before it.
pub fn level_tile(
    metric: &'static str,
    changes: &BTreeMap<i64, i64>,
    from_day: i64,
    to_day: i64,
) -> Tile {
    let start: i64 = changes.range(..from_day).map(|(_, v)| v).sum();
    let net: Vec<i64> = (from_day..=to_day)
        .map(|d| changes.get(&d).copied().unwrap_or(0))
        .collect();
    let days = levels(start, &net);
    let total = days.last().copied().unwrap_or(start);
    Tile {
        metric,
        total,
        previous: start,
        change_bp: change_bp(total, start),
        days,
    }
}

/// A running level (the pool, group members) at the end of each day of the period, from
/// its level before the period and the day-by-day net changes.
pub fn levels(before: i64, net: &[i64]) -> Vec<i64> {
    net.iter()
        .scan(before, |level, d| {
            *level += d;
            Some(*level)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn src(
        metric: Metric,
        day: i64,
        store: Option<i64>,
        staff: Option<i64>,
        value: i64,
    ) -> SourceRow {
        SourceRow {
            metric,
            day,
            store,
            staff,
            channel: None,
            value,
        }
    }

    #[test]
    fn fold_sums_each_grain_and_skips_dimensions_a_metric_lacks() {
        let rows = fold(&[
            src(Metric::Gmv, 10, Some(1), Some(7), 500),
            src(Metric::Gmv, 10, Some(1), Some(8), 300),
            src(Metric::Gmv, 10, None, None, 200),
            src(Metric::CustomersCreated, 10, None, None, 3),
        ]);
        let get = |g: &str, k: i64, m: &str| {
            rows.iter()
                .find(|r| r.grain == g && r.key == k && r.metric == m && r.day == 10)
                .map(|r| r.value)
        };
        assert_eq!(get("b", 0, "gmv_fen"), Some(1000));
        assert_eq!(get("s", 1, "gmv_fen"), Some(800));
        assert_eq!(get("s", 0, "gmv_fen"), Some(200));
        assert_eq!(get("g", 7, "gmv_fen"), Some(500));
        assert_eq!(get("c", 0, "gmv_fen"), Some(1000));
        assert_eq!(get("b", 0, "customers_created"), Some(3));
        assert_eq!(get("s", 0, "customers_created"), None);
        assert_eq!(get("c", 0, "customers_created"), None);
    }

    #[test]
    fn change_is_in_basis_points_and_absent_without_a_previous_period() {
        assert_eq!(change_bp(150, 100), Some(5000));
        assert_eq!(change_bp(50, 100), Some(-5000));
        assert_eq!(change_bp(1, 3), Some(-6666));
        assert_eq!(change_bp(5, 0), None);
        assert_eq!(change_bp(-5, -10), Some(5000));
        assert!(change_bp(i64::MAX, 1).is_none());
    }

    #[test]
    fn a_tile_compares_with_the_period_just_before() {
        let by_day: BTreeMap<i64, i64> = [(1, 4), (2, 6), (3, 1), (4, 2), (5, 7)].into();
        let t = tile("orders", &by_day, 4, 5);
        assert_eq!(t.days, vec![2, 7]);
        assert_eq!(t.total, 9);
        assert_eq!(t.previous, 7);
        assert_eq!(t.change_bp, Some(2857));
        assert_eq!(levels(10, &[1, -2, 3]), vec![11, 9, 12]);
        let changes: BTreeMap<i64, i64> = [(1, 3), (4, 1), (5, -2), (9, 1)].into();
        let l = level_tile("groups", &changes, 4, 6);
        assert_eq!((l.previous, l.total, l.days), (3, 2, vec![4, 2, 2]));
    }

    #[test]
    fn a_day_is_a_shanghai_day() {
        // 16:00 UTC is midnight in Shanghai.
        let midnight = 20_000 * DAY_MS - SHANGHAI_OFFSET_MS;
        assert_eq!(day_of(midnight), 20_000);
        assert_eq!(day_of(midnight) - day_of(midnight - 1), 1);
        assert_eq!(
            touched_days(midnight - 1, midnight),
            [day_of(midnight) - 1, day_of(midnight)]
        );
    }

    proptest! {
        /// However the sources are cut (a day's rows split or merged), the fold is the same.
        #[test]
        fn fold_does_not_depend_on_how_rows_are_split(
            rows in prop::collection::vec(
                (0usize..12, 0i64..3, prop::option::of(1i64..3), prop::option::of(1i64..4),
                 prop::option::of(1i64..3), 1i64..1000),
                0..40,
            ),
            split in 1i64..5,
        ) {
            let whole: Vec<SourceRow> = rows.iter().map(|&(m, day, store, staff, channel, value)| SourceRow {
                metric: Metric::ALL[m], day, store, staff, channel, value,
            }).collect();
            let mut cut = Vec::new();
            for r in &whole {
                let part = r.value / split;
                cut.push(SourceRow { value: r.value - part, ..r.clone() });
                if part > 0 {
                    cut.push(SourceRow { value: part, ..r.clone() });
                }
            }
            cut.reverse();
            prop_assert_eq!(fold(&whole), fold(&cut));
            let brand: i64 = fold(&whole).iter().filter(|r| r.grain == "b").map(|r| r.value).sum();
            prop_assert_eq!(brand, whole.iter().map(|r| r.value).sum::<i64>());
        }
    }
}
