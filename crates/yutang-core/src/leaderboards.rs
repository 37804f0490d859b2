//! Leaderboards and incentive pools (排行榜与激励池, issue #23 item 6). No I/O here: the store
//! sums each guide's (or store's) figures over a period of Asia/Shanghai days; this module
//! says what a period is, what each ranking metric reads from the figures, how ranks are
//! given, and how an incentive pool's money is split between guides and store teams.
//!
//! **Ranks** are competition ranks (1, 1, 3): equal values share a rank. A rate or an average
//! with nothing under it (no new customers, no ratings) has no value and no rank; such rows
//! come last, so a guide with one 5-star rating is not outranked by a blank.
//!
//! **Incentive pools** split an amount in fen with a rule of two shares that sum to 100%
//! (孩子王: 80% to the individual guides by their contribution, 20% to the store teams). The
//! individual share goes to each guide in proportion to their contribution; the team share
//! goes to each store in proportion to its guides' contributions, then equally to the guides
//! of that store in the pool. Both use the largest-remainder method so every fen of each share
//! is paid out exactly once; a share nobody contributed to is reported as unallocated rather
//! than invented.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::FieldError;
pub use crate::promotions::stats::{DAY_MS, SHANGHAI_OFFSET_MS, day_label, day_of};

/// How long a ranking period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Span {
    Day,
    /// Monday to Sunday.
    Week,
    /// A calendar month.
    Month,
}

impl Span {
    pub const ALL: [Span; 3] = [Span::Day, Span::Week, Span::Month];

    pub fn as_str(self) -> &'static str {
        match self {
            Span::Day => "day",
            Span::Week => "week",
            Span::Month => "month",
        }
    }

    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        match s {
            "day" => Ok(Span::Day),
            "week" => Ok(Span::Week),
            "month" => Ok(Span::Month),
            _ => Err(FieldError::new(
                field,
                "invalid_period",
                format!("unknown period {s:?}; expected day, week or month"),
            )),
        }
    }
}

/// A period of whole Shanghai days (day numbers as [`day_of`] gives them), both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub span: Span,
    pub from_day: i64,
    pub to_day: i64,
}

/// Day numbers allowed: stored instants are after 1970 and before 2100.
const MAX_DAY: i64 = 47_482;

fn date_of(day: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|e| e.checked_add_signed(chrono::Duration::days(day)))
        .unwrap_or_default()
}

fn day_number(d: NaiveDate) -> i64 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days()
}

/// A `YYYY-MM-DD` date as a day number.
pub fn parse_day(field: &'static str, s: &str) -> Result<i64, FieldError> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| FieldError::new(field, "invalid_date", "a date is YYYY-MM-DD"))?;
    let n = day_number(d);
    if !(0..=MAX_DAY).contains(&n) {
        return Err(FieldError::new(
            field,
            "invalid_date",
            "a date is between 1970-01-01 and 2099-12-31",
        ));
    }
    Ok(n)
}

impl Period {
    /// The period of `span` that holds `day`.
    pub fn holding(span: Span, day: i64) -> Self {
        let (from_day, to_day) = match span {
            Span::Day => (day, day),
            Span::Week => {
                let monday = day - i64::from(date_of(day).weekday().num_days_from_monday());
                (monday, monday + 6)
            }
            Span::Month => {
                let d = date_of(day);
                let first = d.with_day(1).unwrap_or(d);
                let next = if d.month() == 12 {
                    NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
                } else {
                    NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
                }
                .unwrap_or(d);
                (day_number(first), day_number(next) - 1)
            }
        };
        Self {
            span,
            from_day,
            to_day,
        }
    }

    /// The period asked for: `span` (default week) holding `date` (`YYYY-MM-DD`, default
    /// today).
    pub fn parse(span: Option<&str>, date: Option<&str>, today: i64) -> Result<Self, FieldError> {
        let span = match span {
            Some(s) => Span::parse("period", s)?,
            None => Span::Week,
        };
        let day = match date {
            Some(d) => parse_day("date", d)?,
            None => today,
        };
        Ok(Self::holding(span, day))
    }

    /// The period before this one, of the same span.
    pub fn previous(self) -> Self {
        Self::holding(self.span, self.from_day - 1)
    }

    /// The first instant of the period, UTC milliseconds.
    pub fn from_ms(self) -> i64 {
        self.from_day * DAY_MS - SHANGHAI_OFFSET_MS
    }

    /// The first instant after the period, UTC milliseconds.
    pub fn to_ms(self) -> i64 {
        (self.to_day + 1) * DAY_MS - SHANGHAI_OFFSET_MS
    }

    /// Whether the period has ended by `today` (a pool is settled only then).
    pub fn is_over(self, today: i64) -> bool {
        self.to_day < today
    }
}

/// Who is ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    Guides,
    Stores,
}

impl Subject {
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Guides => "guides",
            Subject::Stores => "stores",
        }
    }

    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        match s {
            "guides" => Ok(Subject::Guides),
            "stores" => Ok(Subject::Stores),
            _ => Err(FieldError::new(
                field,
                "invalid_kind",
                format!("unknown subject {s:?}; expected guides or stores"),
            )),
        }
    }
}

/// Which part of the brand a board or a pool covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Store,
    Region,
    Brand,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Store => "store",
            Level::Region => "region",
            Level::Brand => "brand",
        }
    }

    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        match s {
            "store" => Ok(Level::Store),
            "region" => Ok(Level::Region),
            "brand" => Ok(Level::Brand),
            _ => Err(FieldError::new(
                field,
                "invalid_level",
                format!("unknown level {s:?}; expected store, region or brand"),
            )),
        }
    }
}

/// What a board ranks by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// WeCom contacts added in the period.
    Adds,
    /// Adds minus contacts lost in the period.
    NetAdds,
    /// Customers who joined the pool through the guide in the period and paid a first order
    /// before its end, per 10,000 of those who joined (basis points).
    FirstOrderRate,
    /// Those first orders, counted.
    FirstOrders,
    /// Paid amount of the guide's attributed orders minus their refunds, fen.
    Gmv,
    /// Guide tasks marked done.
    TasksDone,
    /// Average service rating, hundredths of a star.
    Rating,
}

impl Metric {
    pub const ALL: [Metric; 7] = [
        Metric::Adds,
        Metric::NetAdds,
        Metric::FirstOrderRate,
        Metric::FirstOrders,
        Metric::Gmv,
        Metric::TasksDone,
        Metric::Rating,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Adds => "adds",
            Metric::NetAdds => "net_adds",
            Metric::FirstOrderRate => "first_order_rate",
            Metric::FirstOrders => "first_orders",
            Metric::Gmv => "gmv",
            Metric::TasksDone => "tasks_done",
            Metric::Rating => "rating",
        }
    }

    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    "invalid_metric",
                    format!(
                        "unknown metric {s:?}; expected adds, net_adds, first_order_rate, \
                         first_orders, gmv, tasks_done or rating"
                    ),
                )
            })
    }

    /// Whether a pool may split by it: a count or an amount adds up across guides; a rate or
    /// an average does not.
    pub fn is_additive(self) -> bool {
        !matches!(self, Metric::FirstOrderRate | Metric::Rating)
    }

    /// A pool's contribution metric.
    pub fn parse_additive(field: &'static str, s: &str) -> Result<Self, FieldError> {
        let m = Self::parse(field, s)?;
        if !m.is_additive() {
            return Err(FieldError::new(
                field,
                "invalid_metric",
                "a pool is split by a count or an amount: adds, net_adds, first_orders, gmv \
                 or tasks_done",
            ));
        }
        Ok(m)
    }

    /// The value the metric reads from `f` (`None`: nothing to rate or average).
    pub fn value(self, f: &Figures) -> Option<i64> {
        match self {
            Metric::Adds => Some(f.adds),
            Metric::NetAdds => Some(f.net_adds()),
            Metric::FirstOrderRate => f.first_order_rate_bp(),
            Metric::FirstOrders => Some(f.first_orders),
            Metric::Gmv => Some(f.gmv_fen()),
            Metric::TasksDone => Some(f.tasks_done),
            Metric::Rating => f.rating_avg_centi(),
        }
    }

    /// What breaks a tie: the count under a rate or an average, else GMV.
    fn second(self, f: &Figures) -> i64 {
        match self {
            Metric::FirstOrderRate => f.first_orders,
            Metric::Rating => f.ratings,
            Metric::Gmv => f.adds,
            _ => f.gmv_fen(),
        }
    }
}

/// A guide's (or a store's) sums over a period, as the store reads them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub adds: i64,
    pub lost: i64,
    /// Customers who joined the pool through them in the period.
    pub new_customers: i64,
    /// Of those, the ones whose first order was paid before the period's end.
    pub first_orders: i64,
    pub paid_fen: i64,
    pub refunded_fen: i64,
    pub tasks_done: i64,
    pub ratings: i64,
    pub rating_sum: i64,
}

impl Figures {
    pub fn net_adds(&self) -> i64 {
        self.adds - self.lost
    }

    /// Paid minus refunded, fen.
    pub fn gmv_fen(&self) -> i64 {
        self.paid_fen - self.refunded_fen
    }

    pub fn first_order_rate_bp(&self) -> Option<i64> {
        (self.new_customers > 0).then(|| self.first_orders * 10_000 / self.new_customers)
    }

    pub fn rating_avg_centi(&self) -> Option<i64> {
        (self.ratings > 0).then(|| (self.rating_sum * 100 + self.ratings / 2) / self.ratings)
    }

    /// The sum of two figures (a store's guides, a period's days).
    pub fn plus(self, o: Figures) -> Figures {
        Figures {
            adds: self.adds + o.adds,
            lost: self.lost + o.lost,
            new_customers: self.new_customers + o.new_customers,
            first_orders: self.first_orders + o.first_orders,
            paid_fen: self.paid_fen + o.paid_fen,
            refunded_fen: self.refunded_fen + o.refunded_fen,
            tasks_done: self.tasks_done + o.tasks_done,
            ratings: self.ratings + o.ratings,
            rating_sum: self.rating_sum + o.rating_sum,
        }
    }
}

/// One row of a board.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranked {
    pub key: i64,
    /// `None`: no value to rank (a rate without new customers, an average without ratings).
    pub rank: Option<i64>,
    pub value: Option<i64>,
    pub figures: Figures,
}

/// The rows ranked by `metric`: highest first, ties sharing a competition rank; within a
/// tie by the tie-breaker (shown in order, same rank), then by key; rows without a value last.
pub fn rank(rows: Vec<(i64, Figures)>, metric: Metric) -> Vec<Ranked> {
    let mut rows: Vec<Ranked> = rows
        .into_iter()
        .map(|(key, figures)| Ranked {
            key,
            rank: None,
            value: metric.value(&figures),
            figures,
        })
        .collect();
    rows.sort_by(|a, b| {
        b.value
            .is_some()
            .cmp(&a.value.is_some())
            .then(b.value.cmp(&a.value))
            .then(metric.second(&b.figures).cmp(&metric.second(&a.figures)))
            .then(a.key.cmp(&b.key))
    });
    let mut prev: Option<(i64, i64)> = None;
    for (i, r) in rows.iter_mut().enumerate() {
        let Some(v) = r.value else { continue };
        r.rank = Some(match prev {
            Some((pv, pr)) if pv == v => pr,
            _ => i as i64 + 1,
        });
        prev = Some((v, r.rank.unwrap_or(0)));
    }
    rows
}

/// An incentive pool's rule: the individual and team shares in percent, summing to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SplitRule {
    pub individual_pct: i64,
    pub team_pct: i64,
}

impl SplitRule {
    pub fn parse(individual_pct: i64, team_pct: i64) -> Result<Self, FieldError> {
        for (field, v) in [("individual_pct", individual_pct), ("team_pct", team_pct)] {
            if !(0..=100).contains(&v) {
                return Err(FieldError::new(
                    field,
                    "invalid_shares",
                    "a share is a whole percent from 0 to 100",
                ));
            }
        }
        if individual_pct + team_pct != 100 {
            return Err(FieldError::new(
                "team_pct",
                "invalid_shares",
                format!(
                    "the individual and team shares must sum to 100%; they sum to {}%",
                    individual_pct + team_pct
                ),
            ));
        }
        Ok(Self {
            individual_pct,
            team_pct,
        })
    }
}

/// The most a pool may hold: 100 million yuan, in fen (far above any payroll, far below
/// overflow in the products the split takes).
pub const MAX_POOL_FEN: i64 = 10_000_000_000;

/// A guide in a pool: their store and their contribution (negative counts as nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contributor {
    pub staff_id: i64,
    pub store_id: Option<i64>,
    pub contribution: i64,
}

/// One guide's payout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Payout {
    pub staff_id: i64,
    pub store_id: Option<i64>,
    pub contribution: i64,
    pub individual_fen: i64,
    pub team_fen: i64,
}

impl Payout {
    pub fn total_fen(&self) -> i64 {
        self.individual_fen + self.team_fen
    }
}

/// A pool split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Split {
    /// One per contributor, in staff id order.
    pub payouts: Vec<Payout>,
    pub individual_fen: i64,
    pub team_fen: i64,
    /// What nobody earned: a share whose contributions were all zero (or the team share of
    /// guides without a store).
    pub unallocated_fen: i64,
}

/// `total` split over `weights` in proportion by the largest-remainder method: each gets the
/// floor of their exact share, and the fen left go one each to the largest remainders (ties:
/// the larger weight, then the earlier position). All zero weights: nothing is given.
fn apportion(total: i64, weights: &[i64]) -> Vec<i64> {
    let sum: i128 = weights.iter().map(|&w| i128::from(w.max(0))).sum();
    if sum == 0 || total <= 0 {
        return vec![0; weights.len()];
    }
    let t = i128::from(total);
    let mut out: Vec<i64> = Vec::with_capacity(weights.len());
    let mut rems: Vec<(i128, i64, usize)> = Vec::with_capacity(weights.len());
    for (i, &w) in weights.iter().enumerate() {
        let w = i128::from(w.max(0));
        let exact = t * w;
        out.push(i64::try_from(exact / sum).unwrap_or(0));
        rems.push((exact % sum, w as i64, i));
    }
    let given: i64 = out.iter().sum();
    let mut left = total - given;
    rems.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    for (_, w, i) in rems {
        if left == 0 {
            break;
        }
        if w > 0 {
            out[i] += 1;
            left -= 1;
        }
    }
    out
}

/// Split `amount_fen` by `rule` over the contributors (see the module's documentation).
pub fn split(amount_fen: i64, rule: SplitRule, contributors: &[Contributor]) -> Split {
    let amount = amount_fen.max(0);
    let individual_total = amount * rule.individual_pct / 100;
    let team_total = amount - individual_total;
    let mut cs: Vec<Contributor> = contributors.to_vec();
    cs.sort_by_key(|c| c.staff_id);
    cs.dedup_by_key(|c| c.staff_id);

    let weights: Vec<i64> = cs.iter().map(|c| c.contribution.max(0)).collect();
    let individual = apportion(individual_total, &weights);

    // The team share: stores by their guides' contributions, then equally within a store.
    let mut stores: BTreeMap<i64, (i64, Vec<usize>)> = BTreeMap::new();
    for (i, c) in cs.iter().enumerate() {
        if let Some(s) = c.store_id {
            let e = stores.entry(s).or_default();
            e.0 += c.contribution.max(0);
            e.1.push(i);
        }
    }
    let store_weights: Vec<i64> = stores.values().map(|(w, _)| *w).collect();
    let per_store = apportion(team_total, &store_weights);
    let mut team = vec![0i64; cs.len()];
    for ((_, (_, members)), store_fen) in stores.iter().zip(per_store) {
        let shares = apportion(store_fen, &vec![1; members.len()]);
        for (&i, fen) in members.iter().zip(shares) {
            team[i] = fen;
        }
    }

    let payouts: Vec<Payout> = cs
        .iter()
        .enumerate()
        .map(|(i, c)| Payout {
            staff_id: c.staff_id,
            store_id: c.store_id,
            contribution: c.contribution,
            individual_fen: individual[i],
            team_fen: team[i],
        })
        .collect();
    let paid: i64 = payouts.iter().map(Payout::total_fen).sum();
    Split {
        payouts,
        individual_fen: individual_total,
        team_fen: team_total,
        unallocated_fen: amount - paid,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn day(s: &str) -> i64 {
        parse_day("date", s).unwrap()
    }

    #[test]
    fn periods_hold_the_day_in_shanghai_weeks_and_months() {
        // 2026-12-07 is a Monday.
        let p = Period::holding(Span::Week, day("2026-12-09"));
        assert_eq!(
            (day_label(p.from_day), day_label(p.to_day)),
            ("2026-12-07".into(), "2026-12-13".into())
        );
        let p = Period::holding(Span::Week, day("2026-12-06"));
        assert_eq!(day_label(p.from_day), "2026-11-30");
        let p = Period::holding(Span::Month, day("2026-12-31"));
        assert_eq!(
            (day_label(p.from_day), day_label(p.to_day)),
            ("2026-12-01".into(), "2026-12-31".into())
        );
        let p = Period::holding(Span::Month, day("2028-02-10"));
        assert_eq!(day_label(p.to_day), "2028-02-29");
        assert_eq!(day_label(p.previous().from_day), "2028-01-01");
        let d = Period::holding(Span::Day, day("2026-12-07"));
        // Midnight in Shanghai is 16:00 UTC the day before.
        let utc = chrono::NaiveDate::from_ymd_opt(2026, 12, 6)
            .and_then(|d| d.and_hms_opt(16, 0, 0))
            .map(|t| t.and_utc().timestamp_millis());
        assert_eq!(Some(d.from_ms()), utc);
        assert_eq!(d.to_ms() - d.from_ms(), DAY_MS);
        assert_eq!(day_of(d.from_ms()), d.from_day);
        assert_eq!(day_of(d.to_ms() - 1), d.to_day);
        assert!(d.is_over(d.to_day + 1) && !d.is_over(d.to_day));
    }

    #[test]
    fn bad_periods_and_metrics_name_their_field() {
        assert_eq!(
            Period::parse(Some("year"), None, 0).unwrap_err().field,
            "period"
        );
        assert_eq!(
            Period::parse(None, Some("2026-13-01"), 0).unwrap_err().code,
            "invalid_date"
        );
        assert_eq!(
            Metric::parse("metric", "nope").unwrap_err().code,
            "invalid_metric"
        );
        assert_eq!(
            Metric::parse_additive("metric", "rating").unwrap_err().code,
            "invalid_metric"
        );
        assert!(Metric::parse_additive("metric", "gmv").is_ok());
        assert_eq!(
            Level::parse("level", "city").unwrap_err().code,
            "invalid_level"
        );
        assert_eq!(
            Subject::parse("subject", "teams").unwrap_err().field,
            "subject"
        );
        for m in Metric::ALL {
            assert_eq!(Metric::parse("metric", m.as_str()), Ok(m));
        }
    }

    #[test]
    fn ranks_are_competition_ranks_and_blanks_come_last() {
        let f = |adds, ratings, rating_sum| Figures {
            adds,
            ratings,
            rating_sum,
            ..Figures::default()
        };
        let board = rank(
            vec![
                (1, f(5, 0, 0)),
                (2, f(9, 1, 5)),
                (3, f(5, 2, 6)),
                (4, f(1, 0, 0)),
            ],
            Metric::Adds,
        );
        let got: Vec<(i64, Option<i64>)> = board.iter().map(|r| (r.key, r.rank)).collect();
        assert_eq!(
            got,
            vec![(2, Some(1)), (1, Some(2)), (3, Some(2)), (4, Some(4))]
        );
        let board = rank(
            vec![(1, f(5, 0, 0)), (2, f(9, 1, 5)), (3, f(5, 2, 6))],
            Metric::Rating,
        );
        let got: Vec<(i64, Option<i64>, Option<i64>)> =
            board.iter().map(|r| (r.key, r.rank, r.value)).collect();
        assert_eq!(
            got,
            vec![
                (2, Some(1), Some(500)),
                (3, Some(2), Some(300)),
                (1, None, None)
            ]
        );
    }

    #[test]
    fn figures_derive_rates_and_net_amounts() {
        let f = Figures {
            adds: 10,
            lost: 3,
            new_customers: 8,
            first_orders: 3,
            paid_fen: 10_000,
            refunded_fen: 2_500,
            ratings: 3,
            rating_sum: 13,
            ..Figures::default()
        };
        assert_eq!(f.net_adds(), 7);
        assert_eq!(f.gmv_fen(), 7_500);
        assert_eq!(f.first_order_rate_bp(), Some(3_750));
        assert_eq!(f.rating_avg_centi(), Some(433));
        assert_eq!(Figures::default().first_order_rate_bp(), None);
    }

    #[test]
    fn shares_must_sum_to_one_hundred() {
        assert!(SplitRule::parse(80, 20).is_ok());
        assert!(SplitRule::parse(100, 0).is_ok());
        let e = SplitRule::parse(80, 30).unwrap_err();
        assert_eq!((e.field, e.code), ("team_pct", "invalid_shares"));
        assert_eq!(
            SplitRule::parse(-10, 110).unwrap_err().field,
            "individual_pct"
        );
    }

    #[test]
    fn the_kidswant_split_pays_eighty_by_contribution_and_twenty_per_store_team() {
        let rule = SplitRule::parse(80, 20).unwrap();
        let c = |staff_id, store, contribution| Contributor {
            staff_id,
            store_id: Some(store),
            contribution,
        };
        // 10,000 yuan; store 1 contributed 30 of 40, store 2 10 of 40.
        let s = split(
            1_000_000,
            rule,
            &[c(1, 1, 20), c(2, 1, 10), c(3, 2, 10), c(4, 2, 0)],
        );
        let got: Vec<(i64, i64, i64)> = s
            .payouts
            .iter()
            .map(|p| (p.staff_id, p.individual_fen, p.team_fen))
            .collect();
        assert_eq!(
            got,
            vec![
                (1, 400_000, 75_000),
                (2, 200_000, 75_000),
                (3, 200_000, 25_000),
                (4, 0, 25_000)
            ]
        );
        assert_eq!(
            (s.individual_fen, s.team_fen, s.unallocated_fen),
            (800_000, 200_000, 0)
        );
    }

    #[test]
    fn nobody_contributing_leaves_the_pool_unallocated() {
        let rule = SplitRule::parse(80, 20).unwrap();
        let s = split(
            1_000,
            rule,
            &[Contributor {
                staff_id: 1,
                store_id: None,
                contribution: 0,
            }],
        );
        assert_eq!(s.unallocated_fen, 1_000);
        assert_eq!(s.payouts[0].total_fen(), 0);
    }

    proptest! {
        #[test]
        fn every_fen_is_paid_once_and_more_contribution_never_earns_less(
            amount in 0i64..=MAX_POOL_FEN,
            individual_pct in 0i64..=100,
            rows in proptest::collection::vec((0i64..5, -5i64..1_000_000), 0..40),
        ) {
            let rule = SplitRule::parse(individual_pct, 100 - individual_pct).unwrap();
            let cs: Vec<Contributor> = rows
                .iter()
                .enumerate()
                .map(|(i, &(store, contribution))| Contributor {
                    staff_id: i as i64 + 1,
                    store_id: (store > 0).then_some(store),
                    contribution,
                })
                .collect();
            let s = split(amount, rule, &cs);
            let paid: i64 = s.payouts.iter().map(Payout::total_fen).sum();
            prop_assert_eq!(paid + s.unallocated_fen, amount);
            prop_assert_eq!(s.individual_fen + s.team_fen, amount);
            prop_assert!(s.unallocated_fen >= 0);
            for p in &s.payouts {
                prop_assert!(p.individual_fen >= 0 && p.team_fen >= 0);
            }
            for a in &s.payouts {
                for b in &s.payouts {
                    if a.contribution.max(0) > b.contribution.max(0) {
                        prop_assert!(a.individual_fen >= b.individual_fen);
                    }
                    if a.store_id.is_some() && a.store_id == b.store_id {
                        prop_assert!((a.team_fen - b.team_fen).abs() <= 1);
                    }
                }
            }
            let contributed: i64 = cs.iter().map(|c| c.contribution.max(0)).sum();
            if contributed > 0 {
                let individual: i64 = s.payouts.iter().map(|p| p.individual_fen).sum();
                prop_assert_eq!(individual, s.individual_fen);
            }
        }

        #[test]
        fn ranks_never_decrease_down_the_board(values in proptest::collection::vec(0i64..5, 0..30)) {
            let rows = values
                .iter()
                .enumerate()
                .map(|(i, &v)| (i as i64, Figures { adds: v, ..Figures::default() }))
                .collect();
            let board = rank(rows, Metric::Adds);
            for w in board.windows(2) {
                prop_assert!(w[0].value >= w[1].value);
                prop_assert!(w[0].rank <= w[1].rank);
                prop_assert_eq!(w[0].value == w[1].value, w[0].rank == w[1].rank);
            }
        }
    }
}
