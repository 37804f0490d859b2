//! Uplift, honestly measured (issue #24 item 4): do customers who join a group (or buy a paid
//! member card) buy more than comparable customers who did not?
//!
//! Nobody was randomised into a group, so a raw "in-group vs not" comparison mostly measures
//! who chooses to join (already loyal buyers). The estimate here is an *observational*
//! comparison made as fair as the data allows:
//! - **Who is compared.** For a month `M`: customers who had bought before `M`. Treated: those
//!   whose first group join (or first card purchase) falls in `M`. Controls: those not treated
//!   by the end of the months after (`M + WINDOW_MONTHS`), so a control is not a customer
//!   about to be treated.
//! - **Matching.** Each customer falls in a stratum of prior purchase frequency and prior
//!   spend over the `WINDOW_MONTHS` months before `M` (coarsened exact matching). Treated
//!   customers in a stratum with no control are left out and counted as unmatched.
//! - **Difference in differences.** Each customer's change (orders and net spend over the
//!   months after `M` minus the months before) is averaged per stratum; the estimate is the
//!   treated minus control change, weighted by the treated customers of each stratum (the
//!   effect on the treated). The month `M` itself is left out: it holds the joining.
//! - **Uncertainty.** A 95% interval from the strata's variances (normal approximation). When
//!   months are pooled, a customer can be a control in several months; the interval ignores
//!   that correlation and is somewhat narrow.
//!
//! Randomised holdouts (a campaign keeping a random share of its audience unsent) give causal
//! uplift; they need the messaging area (issue #21) and are reported as not yet measurable.

use std::collections::BTreeMap;

use serde::Serialize;

use super::facts::Month;

/// Months before and after the treatment month that are compared.
pub const WINDOW_MONTHS: Month = 3;

/// How many months of treatment are kept (the metrics page shows at most 24 months).
pub const STUDY_MONTHS: Month = 24;

/// What a customer did that might lift their purchases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Study {
    /// Joined a customer group (their first group join).
    Group,
    /// Bought a paid member card (their first purchase not refunded).
    PaidMember,
}

impl Study {
    pub const ALL: [Study; 2] = [Study::Group, Study::PaidMember];

    pub fn key(self) -> &'static str {
        match self {
            Study::Group => "group",
            Study::PaidMember => "paid_member",
        }
    }

    pub fn parse(s: &str) -> Option<Study> {
        Study::ALL.into_iter().find(|st| st.key() == s)
    }
}

/// Which side of the comparison a customer is on in a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Arm {
    Treated,
    Control,
}

impl Arm {
    pub fn key(self) -> &'static str {
        match self {
            Arm::Treated => "t",
            Arm::Control => "c",
        }
    }

    pub fn parse(s: &str) -> Option<Arm> {
        match s {
            "t" => Some(Arm::Treated),
            "c" => Some(Arm::Control),
            _ => None,
        }
    }
}

/// Orders over the months before: 0, 1, 2, 3–5, 6 or more.
pub fn frequency_bucket(orders: i64) -> i64 {
    match orders {
        ..=0 => 0,
        1 => 1,
        2 => 2,
        3..=5 => 3,
        _ => 4,
    }
}

/// Net spend over the months before, in fen: 0, under ¥100, under ¥300, under ¥1,000, more.
pub fn spend_bucket(fen: i64) -> i64 {
    match fen {
        ..=0 => 0,
        1..10_000 => 1,
        10_000..30_000 => 2,
        30_000..100_000 => 3,
        _ => 4,
    }
}

/// The matching stratum of prior orders and spend (frequency * 10 + spend).
pub fn stratum(prior_orders: i64, prior_fen: i64) -> i64 {
    frequency_bucket(prior_orders) * 10 + spend_bucket(prior_fen)
}

/// One customer as the studies see them.
#[derive(Debug, Clone, Default)]
pub struct Unit {
    /// The month of their first order (none: never bought).
    pub first_order_month: Option<Month>,
    /// The month of their treatment (first group join, first card), if any.
    pub treated_month: Option<Month>,
    /// Orders and net spend (fen) by month, any order.
    pub months: Vec<(Month, i64, i64)>,
}

/// A customer's purchases around a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcome {
    pub prior_orders: i64,
    pub prior_fen: i64,
    pub after_orders: i64,
    pub after_fen: i64,
    /// Bought in the month right after.
    pub next_month_buyer: bool,
}

impl Unit {
    /// Where the customer stands in month `m`: their arm, stratum and purchases around it;
    /// none if they are not compared that month (never bought before it, already treated, or
    /// treated within the months after).
    pub fn in_month(&self, m: Month) -> Option<(Arm, i64, Outcome)> {
        if self.first_order_month.is_none_or(|f| f >= m) {
            return None;
        }
        let arm = match self.treated_month {
            Some(t) if t == m => Arm::Treated,
            Some(t) if t < m || t <= m + WINDOW_MONTHS => return None,
            _ => Arm::Control,
        };
        let mut o = Outcome::default();
        for &(month, orders, fen) in &self.months {
            if (m - WINDOW_MONTHS..m).contains(&month) {
                o.prior_orders += orders;
                o.prior_fen += fen;
            } else if (m + 1..=m + WINDOW_MONTHS).contains(&month) {
                o.after_orders += orders;
                o.after_fen += fen;
                if month == m + 1 && orders > 0 {
                    o.next_month_buyer = true;
                }
            }
        }
        Some((arm, stratum(o.prior_orders, o.prior_fen), o))
    }
}

/// The sums of one arm in one stratum (enough for means and variances of the changes).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Acc {
    pub n: i64,
    pub d_orders: f64,
    pub d_orders_sq: f64,
    pub d_fen: f64,
    pub d_fen_sq: f64,
    pub next_buyers: i64,
    pub prior_buyers: i64,
}

impl Acc {
    pub fn add(&mut self, o: &Outcome) {
        let d_orders = (o.after_orders - o.prior_orders) as f64;
        let d_fen = (o.after_fen - o.prior_fen) as f64;
        self.n += 1;
        self.d_orders += d_orders;
        self.d_orders_sq += d_orders * d_orders;
        self.d_fen += d_fen;
        self.d_fen_sq += d_fen * d_fen;
        self.next_buyers += i64::from(o.next_month_buyer);
        self.prior_buyers += i64::from(o.prior_orders > 0);
    }

    pub fn merge(&mut self, other: &Acc) {
        self.n += other.n;
        self.d_orders += other.d_orders;
        self.d_orders_sq += other.d_orders_sq;
        self.d_fen += other.d_fen;
        self.d_fen_sq += other.d_fen_sq;
        self.next_buyers += other.next_buyers;
        self.prior_buyers += other.prior_buyers;
    }
}

/// The mean and the sample variance (0 for fewer than two) of `n` values from their sum and
/// sum of squares.
pub fn mean_var(n: i64, sum: f64, sq: f64) -> (f64, f64) {
    let nf = n as f64;
    let mean = sum / nf;
    let var = if n > 1 {
        ((sq - sum * sum / nf) / (nf - 1.0)).max(0.0)
    } else {
        0.0
    };
    (mean, var)
}

/// An estimate with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Interval {
    pub estimate: i64,
    pub low: i64,
    pub high: i64,
}

impl Interval {
    /// `est ± 1.96·√var`, scaled (e.g. 10,000 for basis points) and rounded.
    pub fn of(est: f64, var: f64, scale: f64) -> Interval {
        let half = 1.96 * var.sqrt();
        Interval {
            estimate: (est * scale).round() as i64,
            low: ((est - half) * scale).round() as i64,
            high: ((est + half) * scale).round() as i64,
        }
    }

    /// Whether the interval leaves out zero (the difference is unlikely to be chance alone).
    pub fn excludes_zero(&self) -> bool {
        self.low > 0 || self.high < 0
    }
}

/// The comparison over a set of strata.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    /// Treated customers.
    pub treated: i64,
    /// Treated customers with controls in their stratum (the ones the estimate is about).
    pub matched: i64,
    /// Controls in those strata.
    pub controls: i64,
    /// Change in orders per customer (after minus before), treated minus controls, in
    /// thousandths of an order.
    pub orders_milli: Option<Interval>,
    /// Change in net spend per customer, treated minus controls, in fen.
    pub net_fen: Option<Interval>,
    /// Share of matched treated customers who bought the month right after (basis points).
    pub next_month_treated_bp: Option<i64>,
    /// The same share among controls, weighted like the treated (basis points).
    pub next_month_control_bp: Option<i64>,
    /// Treated over control next-month share, minus one (basis points): "+50%" is 5,000.
    pub next_month_lift_bp: Option<i64>,
}

/// Estimate the effect on the treated from the arms of each stratum (a stratum key can be a
/// month and stratum, when months are pooled).
pub fn estimate<'a>(cells: impl IntoIterator<Item = &'a Arms>) -> Estimate {
    let cells: Vec<&Arms> = cells.into_iter().collect();
    let treated: i64 = cells.iter().map(|a| a.treated.n).sum();
    let matched_cells: Vec<&&Arms> = cells
        .iter()
        .filter(|a| a.treated.n > 0 && a.control.n > 0)
        .collect();
    let matched: i64 = matched_cells.iter().map(|a| a.treated.n).sum();
    let controls: i64 = matched_cells.iter().map(|a| a.control.n).sum();
    let mut out = Estimate {
        treated,
        matched,
        controls,
        orders_milli: None,
        net_fen: None,
        next_month_treated_bp: None,
        next_month_control_bp: None,
        next_month_lift_bp: None,
    };
    if matched == 0 {
        return out;
    }
    let total = matched as f64;
    let (mut did_o, mut var_o, mut did_f, mut var_f) = (0.0, 0.0, 0.0, 0.0);
    let (mut next_t, mut next_c) = (0.0, 0.0);
    for a in matched_cells {
        let (t, c) = (&a.treated, &a.control);
        let w = t.n as f64 / total;
        let (mt, vt) = mean_var(t.n, t.d_orders, t.d_orders_sq);
        let (mc, vc) = mean_var(c.n, c.d_orders, c.d_orders_sq);
        did_o += w * (mt - mc);
        var_o += w * w * (vt / t.n as f64 + vc / c.n as f64);
        let (mt, vt) = mean_var(t.n, t.d_fen, t.d_fen_sq);
        let (mc, vc) = mean_var(c.n, c.d_fen, c.d_fen_sq);
        did_f += w * (mt - mc);
        var_f += w * w * (vt / t.n as f64 + vc / c.n as f64);
        next_t += t.next_buyers as f64 / total;
        next_c += w * (c.next_buyers as f64 / c.n as f64);
    }
    out.orders_milli = Some(Interval::of(did_o, var_o, 1_000.0));
    out.net_fen = Some(Interval::of(did_f, var_f, 1.0));
    out.next_month_treated_bp = Some((next_t * 10_000.0).round() as i64);
    out.next_month_control_bp = Some((next_c * 10_000.0).round() as i64);
    out.next_month_lift_bp =
        (next_c > 0.0).then(|| ((next_t / next_c - 1.0) * 10_000.0).round() as i64);
    out
}

/// Both arms of one stratum.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Arms {
    pub treated: Acc,
    pub control: Acc,
}

impl Arms {
    pub fn arm_mut(&mut self, arm: Arm) -> &mut Acc {
        match arm {
            Arm::Treated => &mut self.treated,
            Arm::Control => &mut self.control,
        }
    }
}

/// The strata of one study, scope and month.
pub type MonthCells = BTreeMap<i64, Arms>;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn unit(first: Month, treated: Option<Month>, months: &[(Month, i64, i64)]) -> Unit {
        Unit {
            first_order_month: Some(first),
            treated_month: treated,
            months: months.to_vec(),
        }
    }

    #[test]
    fn who_is_compared_in_a_month() {
        let m = 100;
        // Never bought, or first bought in the month itself: not compared.
        assert!(Unit::default().in_month(m).is_none());
        assert!(unit(m, Some(m), &[]).in_month(m).is_none());
        // Treated in the month.
        let (arm, st, o) = unit(
            90,
            Some(m),
            &[(97, 1, 5_000), (99, 1, 5_000), (101, 2, 8_000)],
        )
        .in_month(m)
        .unwrap();
        assert_eq!(arm, Arm::Treated);
        assert_eq!(st, stratum(2, 10_000));
        assert_eq!(
            o,
            Outcome {
                prior_orders: 2,
                prior_fen: 10_000,
                after_orders: 2,
                after_fen: 8_000,
                next_month_buyer: true
            }
        );
        // Treated before, or within the months after: not a control.
        assert!(unit(90, Some(m - 1), &[]).in_month(m).is_none());
        assert!(unit(90, Some(m + WINDOW_MONTHS), &[]).in_month(m).is_none());
        // Treated later than that, or never: a control.
        assert_eq!(
            unit(90, Some(m + WINDOW_MONTHS + 1), &[])
                .in_month(m)
                .unwrap()
                .0,
            Arm::Control
        );
        assert_eq!(unit(90, None, &[]).in_month(m).unwrap().0, Arm::Control);
        // The month itself and months outside the windows do not count.
        let (_, _, o) = unit(90, None, &[(m, 5, 100), (96, 1, 1), (104, 1, 1)])
            .in_month(m)
            .unwrap();
        assert_eq!(o, Outcome::default());
    }

    #[test]
    fn buckets_split_where_documented() {
        assert_eq!([0, 1, 2, 3, 5, 6].map(frequency_bucket), [0, 1, 2, 3, 3, 4]);
        assert_eq!(
            [0, 1, 9_999, 10_000, 29_999, 30_000, 99_999, 100_000].map(spend_bucket),
            [0, 1, 1, 2, 2, 3, 3, 4]
        );
    }

    fn acc(changes: &[(i64, i64, bool)]) -> Acc {
        let mut a = Acc::default();
        for &(d_orders, d_fen, next) in changes {
            a.add(&Outcome {
                after_orders: d_orders.max(0),
                prior_orders: (-d_orders).max(0),
                after_fen: d_fen.max(0),
                prior_fen: (-d_fen).max(0),
                next_month_buyer: next,
            });
        }
        a
    }

    #[test]
    fn a_known_effect_is_recovered_and_unmatched_strata_are_left_out() {
        let mut cells = MonthCells::new();
        // Stratum 11: treated gain 2 orders and ¥100 each, controls gain 1 order and ¥40.
        cells.insert(
            11,
            Arms {
                treated: acc(&[(2, 10_000, true), (2, 10_000, true)]),
                control: acc(&[
                    (1, 4_000, true),
                    (1, 4_000, false),
                    (1, 4_000, false),
                    (1, 4_000, false),
                ]),
            },
        );
        // Stratum 22: one treated, no control: unmatched.
        cells.insert(
            22,
            Arms {
                treated: acc(&[(9, 99_000, true)]),
                control: Acc::default(),
            },
        );
        let e = estimate(cells.values());
        assert_eq!((e.treated, e.matched, e.controls), (3, 2, 4));
        let o = e.orders_milli.unwrap();
        // No spread within an arm: the interval is the estimate itself.
        assert_eq!((o.estimate, o.low, o.high), (1_000, 1_000, 1_000));
        assert!(o.excludes_zero());
        assert_eq!(e.net_fen.unwrap().estimate, 6_000);
        assert_eq!(e.next_month_treated_bp, Some(10_000));
        assert_eq!(e.next_month_control_bp, Some(2_500));
        assert_eq!(e.next_month_lift_bp, Some(30_000));
    }

    #[test]
    fn nothing_matched_estimates_nothing() {
        let mut cells = MonthCells::new();
        cells.insert(
            0,
            Arms {
                treated: Acc::default(),
                control: acc(&[(1, 1, true)]),
            },
        );
        let e = estimate(cells.values());
        assert_eq!((e.treated, e.matched), (0, 0));
        assert!(e.orders_milli.is_none() && e.next_month_lift_bp.is_none());
    }

    proptest! {
        /// Whatever the customers, treated and controls drawn alike in each stratum estimate
        /// no effect, and the interval always holds the estimate.
        #[test]
        fn identical_arms_estimate_zero(
            strata in proptest::collection::vec(
                proptest::collection::vec((-5i64..5, -50_000i64..50_000, any::<bool>()), 1..8),
                1..6,
            )
        ) {
            let mut cells = MonthCells::new();
            for (i, changes) in strata.iter().enumerate() {
                let a = acc(changes);
                cells.insert(i as i64, Arms { treated: a, control: a });
            }
            let e = estimate(cells.values());
            let o = e.orders_milli.unwrap();
            let f = e.net_fen.unwrap();
            prop_assert_eq!(o.estimate, 0);
            prop_assert_eq!(f.estimate, 0);
            prop_assert!(o.low <= o.estimate && o.estimate <= o.high);
            prop_assert!(f.low <= f.estimate && f.estimate <= f.high);
            prop_assert_eq!(e.next_month_treated_bp, e.next_month_control_bp);
        }

        /// Merging the sums of two groups gives the sums of all their customers.
        #[test]
        fn merged_sums_are_the_sums_of_all(
            a in proptest::collection::vec((-5i64..5, -50_000i64..50_000, any::<bool>()), 0..8),
            b in proptest::collection::vec((-5i64..5, -50_000i64..50_000, any::<bool>()), 0..8),
        ) {
            let mut merged = acc(&a);
            merged.merge(&acc(&b));
            let all: Vec<_> = a.iter().chain(&b).copied().collect();
            prop_assert_eq!(merged, acc(&all));
        }
    }
}
