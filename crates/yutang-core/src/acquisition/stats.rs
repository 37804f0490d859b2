//! Channel statistics (渠道统计, issue #19 item 7): adds, net adds after deletions within
//! 1/7/30 days, new customers and the first-order rate (首购开单率) with the median time to
//! the first order, attributed GMV and reward cost — per day, per channel, per guide and per
//! store over a period of Asia/Shanghai days, and a guide leaderboard.
//!
//! As with the campaign statistics (`crate::promotions::stats`), the store counts in SQL:
//! each metric is one `GROUP BY` over a key (the Shanghai day `(t + 28800000) / 86400000`, the
//! channel or the guide), so the database answers at most one row per metric and key. What is
//! left is pure and lives here, with unit tests: the period asked for, folding the rows into
//! figures, the ratios, the median from an hour histogram, filling the days without activity,
//! rolling guides up into stores, and ranking the guides.
//!
//! The definitions (docs/acquisition.md, "Channel statistics"):
//! - an add counts on the day of `added_at`; it is **net after N days** when its pair was not
//!   deleted within N × 24 h of the add (an add younger than N days counts while its pair
//!   stands, so recent net figures can still fall);
//! - a **new customer** is one whose first touch (`customer_acquisition`) is in the period;
//!   they made a **first order** when they paid an order not fully refunded
//!   (`refunded_amount < amount`) within the first-order window after it (default 30 days);
//!   the time to it is the first such order's `paid_at − acquired_at`, and the figure given is
//!   the **median** in whole hours (rounded down; of an even count the lower middle one);
//! - **GMV** is `amount − refunded_amount` of the orders credited to the channel (last touch,
//!   `orders.touch_channel_id`) paid in the period; `orders` counts those not fully refunded;
//! - **reward cost** is the discount of the channel's first-add reward coupons used in the
//!   period (by use time).
//!
//! Money is integer fen and rates are integer permille; nothing here uses floats.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::Serialize;

use crate::error::FieldError;
use crate::promotions::stats::{DAY_MS, SHANGHAI_OFFSET_MS, day_label, day_of, permille};

/// The longest period: a year and a day (a leap year's 366 days).
pub const MAX_PERIOD_DAYS: i64 = 366;
/// The period when none is given: the last 30 days, today included.
pub const DEFAULT_PERIOD_DAYS: i64 = 30;
/// The first-order window when none is given, in days.
pub const DEFAULT_FIRST_ORDER_DAYS: i64 = 30;
/// The longest first-order window, in days.
pub const MAX_FIRST_ORDER_DAYS: i64 = 365;

/// `None` for an absent or blank parameter (an empty form field).
fn blank(s: Option<&str>) -> Option<&str> {
    s.filter(|x| !x.trim().is_empty())
}

/// A period of Shanghai days, both ends included, and the first-order window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// Day numbers ([`day_of`]).
    pub from_day: i64,
    pub to_day: i64,
    pub first_order_days: i64,
}

fn parse_day(field: &'static str, s: &str) -> Result<i64, FieldError> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| FieldError::new(field, "invalid_date", "a date is YYYY-MM-DD"))?;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let n = (d - epoch).num_days();
    // Stored instants are after 1970 and before 2100.
    if !(0..=47_482).contains(&n) {
        return Err(FieldError::new(
            field,
            "invalid_date",
            "a date is between 1970-01-01 and 2099-12-31",
        ));
    }
    Ok(n)
}

impl Period {
    /// The period asked for: `from` and `to` are `YYYY-MM-DD` in Asia/Shanghai; without `to`
    /// it ends today (`now`), without `from` it is [`DEFAULT_PERIOD_DAYS`] long; at most
    /// [`MAX_PERIOD_DAYS`]. `first_order_days` is 1–[`MAX_FIRST_ORDER_DAYS`] (default 30).
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        first_order_days: Option<i64>,
        now: i64,
    ) -> Result<Self, FieldError> {
        let to_day = match blank(to) {
            Some(s) => parse_day("to", s)?,
            None => day_of(now),
        };
        let from_day = match blank(from) {
            Some(s) => parse_day("from", s)?,
            None => to_day - (DEFAULT_PERIOD_DAYS - 1),
        };
        if from_day > to_day {
            return Err(FieldError::new(
                "from",
                "invalid_period",
                "from is on or before to",
            ));
        }
        if to_day - from_day + 1 > MAX_PERIOD_DAYS {
            return Err(FieldError::new(
                "from",
                "invalid_period",
                format!("a period is at most {MAX_PERIOD_DAYS} days"),
            ));
        }
        let first_order_days = first_order_days.unwrap_or(DEFAULT_FIRST_ORDER_DAYS);
        if !(1..=MAX_FIRST_ORDER_DAYS).contains(&first_order_days) {
            return Err(FieldError::new(
                "first_order_days",
                "invalid_count",
                format!("first_order_days is 1–{MAX_FIRST_ORDER_DAYS}"),
            ));
        }
        Ok(Self {
            from_day,
            to_day,
            first_order_days,
        })
    }

    /// `[start, end)` in UTC millis: Shanghai midnight of `from` to the midnight after `to`.
    pub fn bounds_ms(&self) -> (i64, i64) {
        (
            self.from_day * DAY_MS - SHANGHAI_OFFSET_MS,
            (self.to_day + 1) * DAY_MS - SHANGHAI_OFFSET_MS,
        )
    }

    /// The first-order window in millis.
    pub fn first_order_ms(&self) -> i64 {
        self.first_order_days * DAY_MS
    }

    pub fn from(&self) -> String {
        day_label(self.from_day)
    }

    pub fn to(&self) -> String {
        day_label(self.to_day)
    }

    /// How many days the period has.
    pub fn days(&self) -> i64 {
        self.to_day - self.from_day + 1
    }
}

/// What one grouped row of the store counts or sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Adds,
    /// Adds whose pair was not deleted within 1, 7 or 30 days.
    NetD1,
    NetD7,
    NetD30,
    /// Adds whose pair has been deleted since (at any time).
    Deleted,
    /// New customers (first touch in the period).
    NewCustomers,
    /// New customers with a first order in the window.
    FirstOrders,
    /// First orders whose time to order falls in the row's hour `bucket` (a histogram).
    HoursToFirstOrder,
    /// Credited orders not fully refunded.
    Orders,
    /// `amount − refunded_amount` of credited orders, fen.
    Gmv,
    /// Reward coupons used.
    RewardsUsed,
    /// Their discounts, fen.
    RewardCost,
}

impl Metric {
    /// The name the store's queries label their rows with.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "adds" => Self::Adds,
            "net_d1" => Self::NetD1,
            "net_d7" => Self::NetD7,
            "net_d30" => Self::NetD30,
            "deleted" => Self::Deleted,
            "new_customers" => Self::NewCustomers,
            "first_orders" => Self::FirstOrders,
            "hours_to_first_order" => Self::HoursToFirstOrder,
            "orders" => Self::Orders,
            "gmv" => Self::Gmv,
            "rewards_used" => Self::RewardsUsed,
            "reward_cost" => Self::RewardCost,
            _ => return None,
        })
    }
}

/// One grouped row: a metric's count or sum for one key (a day number, a channel id, a staff
/// id; `None` = no channel or no guide); `bucket` is the hour for
/// [`Metric::HoursToFirstOrder`] and 0 otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySum {
    pub metric: Metric,
    pub key: Option<i64>,
    pub bucket: i64,
    pub value: i64,
}

/// The figures of one group (a day, a channel, a guide, a store, or everything).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub adds: i64,
    pub net_adds_d1: i64,
    pub net_adds_d7: i64,
    pub net_adds_d30: i64,
    pub deleted: i64,
    pub new_customers: i64,
    pub first_orders: i64,
    /// `first_orders / new_customers` in permille, rounded down (0 without new customers).
    pub first_order_permille: i64,
    /// The median hours from first touch to the first order (rounded down; the lower middle
    /// one of an even count); `None` without first orders or where no histogram was counted
    /// (the daily series).
    pub median_hours_to_first_order: Option<i64>,
    pub orders: i64,
    pub gmv_fen: i64,
    pub rewards_used: i64,
    pub reward_cost_fen: i64,
    /// Hours to first order → first orders (for the median; merged when groups roll up).
    #[serde(skip)]
    pub hours: BTreeMap<i64, i64>,
}

impl Figures {
    fn add(&mut self, s: &KeySum) {
        let v = s.value;
        match s.metric {
            Metric::Adds => self.adds += v,
            Metric::NetD1 => self.net_adds_d1 += v,
            Metric::NetD7 => self.net_adds_d7 += v,
            Metric::NetD30 => self.net_adds_d30 += v,
            Metric::Deleted => self.deleted += v,
            Metric::NewCustomers => self.new_customers += v,
            Metric::FirstOrders => self.first_orders += v,
            Metric::HoursToFirstOrder => *self.hours.entry(s.bucket).or_default() += v,
            Metric::Orders => self.orders += v,
            Metric::Gmv => self.gmv_fen += v,
            Metric::RewardsUsed => self.rewards_used += v,
            Metric::RewardCost => self.reward_cost_fen += v,
        }
    }

    /// Add another group's counts (the derived figures are recomputed by [`Self::finish`]).
    pub fn merge(&mut self, o: &Figures) {
        self.adds += o.adds;
        self.net_adds_d1 += o.net_adds_d1;
        self.net_adds_d7 += o.net_adds_d7;
        self.net_adds_d30 += o.net_adds_d30;
        self.deleted += o.deleted;
        self.new_customers += o.new_customers;
        self.first_orders += o.first_orders;
        self.orders += o.orders;
        self.gmv_fen += o.gmv_fen;
        self.rewards_used += o.rewards_used;
        self.reward_cost_fen += o.reward_cost_fen;
        for (h, n) in &o.hours {
            *self.hours.entry(*h).or_default() += n;
        }
    }

    /// Compute the rate and the median from the counts.
    pub fn finish(&mut self) {
        self.first_order_permille = permille(self.first_orders, self.new_customers);
        self.median_hours_to_first_order = median(&self.hours);
    }

    /// The first-order rate as `12.5%`.
    pub fn first_order_rate(&self) -> String {
        format!(
            "{}.{}%",
            self.first_order_permille / 10,
            self.first_order_permille % 10
        )
    }
}

/// The lower median of a histogram (value → count): the ⌈n/2⌉-th smallest value.
pub fn median(hist: &BTreeMap<i64, i64>) -> Option<i64> {
    let n: i64 = hist.values().sum();
    if n <= 0 {
        return None;
    }
    let target = (n + 1) / 2;
    let mut seen = 0;
    for (v, c) in hist {
        seen += c;
        if seen >= target {
            return Some(*v);
        }
    }
    None
}

/// Fold the store's rows into figures per key (finished).
pub fn by_key(sums: &[KeySum]) -> BTreeMap<Option<i64>, Figures> {
    let mut out: BTreeMap<Option<i64>, Figures> = BTreeMap::new();
    for s in sums {
        out.entry(s.key).or_default().add(s);
    }
    for f in out.values_mut() {
        f.finish();
    }
    out
}

/// Everything in `groups` added up (finished).
pub fn total<'a>(groups: impl IntoIterator<Item = &'a Figures>) -> Figures {
    let mut t = Figures::default();
    for f in groups {
        t.merge(f);
    }
    t.finish();
    t
}

/// One day of the series.
pub type DayFigures = crate::promotions::stats::DayFigures<Figures>;

/// The period's days, oldest first, days without activity as zeros (rows keyed by day).
pub fn series(by_day: &BTreeMap<Option<i64>, Figures>, p: &Period) -> Vec<DayFigures> {
    (p.from_day..=p.to_day)
        .map(|d| {
            let mut figures = by_day.get(&Some(d)).cloned().unwrap_or_default();
            // The daily series counts no histogram; a day says nothing of the median.
            figures.median_hours_to_first_order = None;
            DayFigures {
                day_no: d,
                day: day_label(d),
                figures,
            }
        })
        .collect()
}

/// Roll guide figures up into their stores (`store_of`: guide → store; a guide not in it, and
/// the "no guide" row, land under `None`). Finished.
pub fn by_store(
    by_guide: &BTreeMap<Option<i64>, Figures>,
    store_of: &HashMap<i64, Option<i64>>,
) -> BTreeMap<Option<i64>, Figures> {
    let mut out: BTreeMap<Option<i64>, Figures> = BTreeMap::new();
    for (guide, f) in by_guide {
        let store = guide.and_then(|g| store_of.get(&g).copied().flatten());
        out.entry(store).or_default().merge(f);
    }
    for f in out.values_mut() {
        f.finish();
    }
    out
}

/// One guide on the leaderboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ranked {
    /// 1 for the most adds; guides with the same adds and net adds (7 days) share a rank.
    pub rank: i64,
    pub staff_id: i64,
    pub adds: i64,
    pub net_adds_d7: i64,
    pub new_customers: i64,
    pub first_orders: i64,
}

/// The guides (not the "no guide" row) with any add, new customer or first order, by adds,
/// then net adds after 7 days, descending; ties share a rank (1, 1, 3); within a tie by staff
/// id.
pub fn leaderboard(by_guide: &BTreeMap<Option<i64>, Figures>) -> Vec<Ranked> {
    let mut rows: Vec<Ranked> = by_guide
        .iter()
        .filter_map(|(g, f)| {
            let staff_id = (*g)?;
            (f.adds > 0 || f.new_customers > 0 || f.first_orders > 0).then_some(Ranked {
                rank: 0,
                staff_id,
                adds: f.adds,
                net_adds_d7: f.net_adds_d7,
                new_customers: f.new_customers,
                first_orders: f.first_orders,
            })
        })
        .collect();
    rows.sort_by(|a, b| {
        (b.adds, b.net_adds_d7)
            .cmp(&(a.adds, a.net_adds_d7))
            .then(a.staff_id.cmp(&b.staff_id))
    });
    let mut prev: Option<(i64, i64, i64)> = None;
    for (i, r) in (1_i64..).zip(rows.iter_mut()) {
        r.rank = match prev {
            Some((adds, net, rank)) if adds == r.adds && net == r.net_adds_d7 => rank,
            _ => i,
        };
        prev = Some((r.adds, r.net_adds_d7, r.rank));
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(metric: Metric, key: Option<i64>, value: i64) -> KeySum {
        KeySum {
            metric,
            key,
            bucket: 0,
            value,
        }
    }

    fn h(key: Option<i64>, hour: i64, value: i64) -> KeySum {
        KeySum {
            metric: Metric::HoursToFirstOrder,
            key,
            bucket: hour,
            value,
        }
    }

    /// 2026-12-04T00:00:00+08:00 in UTC millis.
    const DEC4: i64 = 1_796_313_600_000;

    #[test]
    fn the_period_is_shanghai_days_last_30_by_default_at_most_366() {
        let today = day_of(DEC4 + 3_600_000);
        let p = Period::parse(None, None, None, DEC4 + 3_600_000).unwrap();
        assert_eq!((p.to_day, p.from_day, p.days()), (today, today - 29, 30));
        assert_eq!(
            (p.from(), p.to()),
            ("2026-11-05".into(), "2026-12-04".into())
        );
        assert_eq!(p.first_order_days, 30);
        let p = Period::parse(Some("2026-12-04"), Some("2026-12-04"), Some(7), 0).unwrap();
        // Shanghai midnight to the next: 16:00 UTC the day before.
        assert_eq!(p.bounds_ms(), (DEC4, DEC4 + DAY_MS));
        assert_eq!(p.first_order_ms(), 7 * DAY_MS);
        // 366 days is fine, 367 is not; from after to is not; nor a bad date or window.
        assert!(Period::parse(Some("2024-01-01"), Some("2024-12-31"), None, 0).is_ok());
        let too_long = Period::parse(Some("2024-01-01"), Some("2025-01-01"), None, 0);
        assert_eq!(too_long.unwrap_err().code, "invalid_period");
        let reversed = Period::parse(Some("2026-12-05"), Some("2026-12-04"), None, 0);
        assert_eq!(reversed.unwrap_err().field, "from");
        let bad = Period::parse(None, Some("2026-13-01"), None, 0).unwrap_err();
        assert_eq!((bad.field, bad.code), ("to", "invalid_date"));
        let bad = Period::parse(Some("1969-12-31"), Some("1970-01-02"), None, 0).unwrap_err();
        assert_eq!(bad.field, "from");
        for w in [0, 366] {
            let bad = Period::parse(None, None, Some(w), DEC4).unwrap_err();
            assert_eq!(bad.field, "first_order_days");
        }
        // Blank parameters are the defaults (an empty form field).
        assert_eq!(
            Period::parse(Some(""), Some(" "), None, DEC4).unwrap(),
            Period::parse(None, None, None, DEC4).unwrap()
        );
    }

    #[test]
    fn a_2330_add_lands_on_its_shanghai_day() {
        let p = Period::parse(Some("2026-12-04"), Some("2026-12-05"), None, 0).unwrap();
        let (start, end) = p.bounds_ms();
        let late = DEC4 + 23 * 3_600_000 + 30 * 60_000;
        assert!(start <= late && late < end);
        // The store's SQL day bucket, and the series day it fills.
        let d = (late + 28_800_000) / 86_400_000;
        let rows = by_key(&[s(Metric::Adds, Some(d), 1)]);
        let days = series(&rows, &p);
        assert_eq!(days.len(), 2);
        assert_eq!(
            (days[0].day.as_str(), days[0].figures.adds),
            ("2026-12-04", 1)
        );
        assert_eq!(days[1].figures, Figures::default());
    }

    #[test]
    fn figures_fold_with_rate_and_median() {
        let g = Some(5);
        let rows = [
            s(Metric::Adds, g, 10),
            s(Metric::NetD1, g, 9),
            s(Metric::NetD7, g, 8),
            s(Metric::NetD30, g, 7),
            s(Metric::Deleted, g, 3),
            s(Metric::NewCustomers, g, 8),
            s(Metric::FirstOrders, g, 3),
            h(g, 2, 1),
            h(g, 30, 1),
            h(g, 100, 1),
            s(Metric::Orders, g, 4),
            s(Metric::Gmv, g, 12_900),
            s(Metric::RewardsUsed, g, 2),
            s(Metric::RewardCost, g, 1_000),
            s(Metric::Adds, None, 1),
        ];
        let m = by_key(&rows);
        let f = &m[&g];
        assert_eq!(
            (
                f.adds,
                f.net_adds_d1,
                f.net_adds_d7,
                f.net_adds_d30,
                f.deleted
            ),
            (10, 9, 8, 7, 3)
        );
        assert_eq!((f.first_orders, f.first_order_permille), (3, 375));
        assert_eq!(f.first_order_rate(), "37.5%");
        assert_eq!(f.median_hours_to_first_order, Some(30));
        assert_eq!(
            (f.orders, f.gmv_fen, f.rewards_used, f.reward_cost_fen),
            (4, 12_900, 2, 1_000)
        );
        assert_eq!(m[&None].adds, 1);
        assert_eq!(m[&None].median_hours_to_first_order, None);
        let t = total(m.values());
        assert_eq!((t.adds, t.first_order_permille), (11, 375));
    }

    #[test]
    fn the_median_is_the_lower_middle() {
        let hist = |v: &[(i64, i64)]| v.iter().copied().collect::<BTreeMap<_, _>>();
        assert_eq!(median(&hist(&[])), None);
        assert_eq!(median(&hist(&[(7, 1)])), Some(7));
        assert_eq!(median(&hist(&[(1, 1), (9, 1)])), Some(1));
        assert_eq!(median(&hist(&[(1, 1), (5, 2), (9, 1)])), Some(5));
        assert_eq!(median(&hist(&[(0, 3), (48, 2)])), Some(0));
        assert_eq!(median(&hist(&[(0, 2), (48, 3)])), Some(48));
    }

    #[test]
    fn stores_add_up_their_guides_and_medians_merge() {
        let rows = [
            s(Metric::Adds, Some(1), 3),
            h(Some(1), 10, 1),
            s(Metric::Adds, Some(2), 2),
            h(Some(2), 20, 2),
            s(Metric::Adds, Some(3), 1),
            s(Metric::Adds, None, 4),
        ];
        let guides = by_key(&rows);
        let store_of: HashMap<i64, Option<i64>> =
            [(1, Some(100)), (2, Some(100)), (3, None)].into();
        let stores = by_store(&guides, &store_of);
        assert_eq!(stores[&Some(100)].adds, 5);
        assert_eq!(stores[&Some(100)].median_hours_to_first_order, Some(20));
        // A guide without a store and the adds without a guide: no store.
        assert_eq!(stores[&None].adds, 5);
        assert_eq!(stores.len(), 2);
        assert_eq!(total(stores.values()).adds, total(guides.values()).adds);
    }

    #[test]
    fn leaderboard_ranks_by_adds_then_net_with_shared_ranks() {
        let rows = [
            s(Metric::Adds, Some(1), 5),
            s(Metric::NetD7, Some(1), 3),
            s(Metric::Adds, Some(2), 5),
            s(Metric::NetD7, Some(2), 4),
            s(Metric::Adds, Some(3), 5),
            s(Metric::NetD7, Some(3), 4),
            s(Metric::Adds, Some(4), 1),
            s(Metric::NewCustomers, Some(5), 1),
            s(Metric::Deleted, Some(6), 1),
            s(Metric::Adds, None, 50),
        ];
        let board = leaderboard(&by_key(&rows));
        let got: Vec<(i64, i64)> = board.iter().map(|r| (r.rank, r.staff_id)).collect();
        assert_eq!(got, vec![(1, 2), (1, 3), (3, 1), (4, 4), (5, 5)]);
    }

    #[test]
    fn every_metric_name_parses() {
        for n in [
            "adds",
            "net_d1",
            "net_d7",
            "net_d30",
            "deleted",
            "new_customers",
            "first_orders",
            "hours_to_first_order",
            "orders",
            "gmv",
            "rewards_used",
            "reward_cost",
        ] {
            assert!(Metric::parse(n).is_some(), "{n}");
        }
        assert_eq!(Metric::parse("claims"), None);
    }
}
