//! Uplift studies (issue #24 item 4): in-group vs not, paid members vs not, over comparable
//! customers (see `yutang_core::analytics::uplift` for the method and its limits).
//!
//! The studies compare every customer who had bought before a month with every other, so
//! they are not kept current after each commit like the rollups: they are recomputed as a
//! whole from the customer facts — when none were ever computed, an hour after the last
//! time, and after a rebuild of the facts — and stored in one transaction. The page reads the
//! stored sums of the months it shows and says when they were computed.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use yutang_core::analytics::facts::{Month, month_label, month_of};
use yutang_core::analytics::uplift::{
    Acc, Arm, Arms, Estimate, MonthCells, STUDY_MONTHS, Study, Unit, WINDOW_MONTHS, estimate,
};
use yutang_store::rollups as rollup_store;
use yutang_store::uplift::{self as store, UnitRow, UpliftCell};

use super::Analytics;
use crate::error::Result;

/// Customers read per query of a recomputation.
const CHUNK_CUSTOMERS: i64 = 20_000;
/// How old stored studies may get before they are recomputed.
const REFRESH_EVERY_MS: i64 = 3_600_000;

/// What kind of evidence a comparison is.
pub const OBSERVATIONAL: &str = "observational";

/// The uplift section of the metrics page (brand and store scopes).
#[derive(Debug, Clone, Serialize)]
pub struct UpliftView {
    /// `observational`: matched comparison, not a randomised experiment.
    pub evidence: &'static str,
    /// Months compared before and after the month of joining.
    pub window_months: i64,
    /// When the studies were computed (UTC millis; none: not yet).
    pub computed_at: Option<i64>,
    /// The period's months that can be measured: those whose following months are over and
    /// computed (`YYYY-MM`, oldest first).
    pub months: Vec<String>,
    pub studies: Vec<StudyView>,
}

/// One study over the period's measurable months.
#[derive(Debug, Clone, Serialize)]
pub struct StudyView {
    /// `group` (first group join) or `paid_member` (first paid card).
    pub study: &'static str,
    /// The months pooled (each month's strata kept apart).
    pub pooled: Estimate,
    /// Month by month, as `months`.
    pub by_month: Vec<Estimate>,
}

/// A stored cell's grain and key for a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UpliftScope {
    Brand,
    Store(i64),
}

impl UpliftScope {
    fn grain_key(self) -> (&'static str, i64) {
        match self {
            UpliftScope::Brand => ("b", 0),
            UpliftScope::Store(id) => ("s", id),
        }
    }
}

/// The study's cells being summed: (study, scope, month, stratum) → arms.
type Sums = HashMap<(Study, UpliftScope, Month, i64), Arms>;

/// A unit of the studies from a customer's stored facts, with the store it counts for: the
/// store of the guide they added, else the store where they placed most orders.
fn unit_of(row: &UnitRow) -> (Unit, Unit, Option<i64>) {
    let mut by_month: BTreeMap<Month, (i64, i64)> = BTreeMap::new();
    let mut by_store: BTreeMap<i64, i64> = BTreeMap::new();
    for &(month, store, orders, fen) in &row.months {
        let e = by_month.entry(month).or_default();
        e.0 += orders;
        e.1 += fen;
        if store != 0 {
            *by_store.entry(store).or_default() += orders;
        }
    }
    let months: Vec<(Month, i64, i64)> =
        by_month.into_iter().map(|(m, (o, f))| (m, o, f)).collect();
    let first_order_month = months.first().map(|m| m.0);
    let store = row.store.or_else(|| {
        by_store
            .iter()
            .max_by_key(|(id, n)| (**n, std::cmp::Reverse(**id)))
            .map(|(id, _)| *id)
    });
    let group = Unit {
        first_order_month,
        treated_month: row.first_group_at.map(month_of),
        months: months.clone(),
    };
    let card = Unit {
        first_order_month,
        treated_month: row.first_card_at.map(month_of),
        months,
    };
    (group, card, store)
}

/// Add one customer to the sums of every month `from..=to`.
fn add_unit(sums: &mut Sums, row: &UnitRow, from: Month, to: Month) {
    let (group, card, store) = unit_of(row);
    for (study, unit) in [(Study::Group, &group), (Study::PaidMember, &card)] {
        for m in from..=to {
            let Some((arm, stratum, outcome)) = unit.in_month(m) else {
                continue;
            };
            let scopes = [Some(UpliftScope::Brand), store.map(UpliftScope::Store)];
            for scope in scopes.into_iter().flatten() {
                sums.entry((study, scope, m, stratum))
                    .or_default()
                    .arm_mut(arm)
                    .add(&outcome);
            }
        }
    }
}

fn cells_of(sums: Sums) -> Vec<UpliftCell> {
    let mut out = Vec::with_capacity(sums.len() * 2);
    for ((study, scope, month, stratum), arms) in sums {
        let (grain, key) = scope.grain_key();
        for (arm, acc) in [(Arm::Treated, arms.treated), (Arm::Control, arms.control)] {
            if acc.n == 0 {
                continue;
            }
            out.push(UpliftCell {
                study: study.key().to_owned(),
                grain: grain.to_owned(),
                key,
                month,
                arm: arm.key().to_owned(),
                stratum,
                n: acc.n,
                d_orders: acc.d_orders,
                d_orders_sq: acc.d_orders_sq,
                d_fen: acc.d_fen,
                d_fen_sq: acc.d_fen_sq,
                next_buyers: acc.next_buyers,
                prior_buyers: acc.prior_buyers,
            });
        }
    }
    out
}

/// The sums a stored cell holds.
fn acc_of(r: &UpliftCell) -> Acc {
    Acc {
        n: r.n,
        d_orders: r.d_orders,
        d_orders_sq: r.d_orders_sq,
        d_fen: r.d_fen,
        d_fen_sq: r.d_fen_sq,
        next_buyers: r.next_buyers,
        prior_buyers: r.prior_buyers,
    }
}

/// The last treatment month whose following months are over, in `now`'s month.
pub fn last_measurable(now: i64) -> Month {
    month_of(now) - 1 - WINDOW_MONTHS
}

impl Analytics<'_> {
    /// Recompute every study from the stored customer facts and replace the stored ones.
    pub async fn refresh_uplift(&self) -> Result<()> {
        let now = self.now();
        let to = last_measurable(now);
        let from = to - STUDY_MONTHS + 1;
        let max = store::max_customer_id(&self.db).await?;
        let mut sums = Sums::new();
        let mut lo = 1;
        while lo <= max {
            let hi = lo + CHUNK_CUSTOMERS;
            for row in store::units_in(&self.db, lo, hi).await? {
                add_unit(&mut sums, &row, from, to);
            }
            lo = hi;
        }
        store::replace(&self.db, &cells_of(sums), now, to).await?;
        Ok(())
    }

    /// Recompute the studies if none were ever computed, the last ones are an hour old, or
    /// the facts were rebuilt since.
    pub async fn refresh_uplift_if_due(&self) -> Result<bool> {
        let (computed_at, _) = store::state(&self.db).await?;
        let rollups = rollup_store::state(&self.db).await?;
        let due = match computed_at {
            None => true,
            Some(at) => {
                self.now() - at >= REFRESH_EVERY_MS || rollups.rebuilt_at.is_some_and(|r| r > at)
            }
        };
        // Facts being rebuilt are incomplete: wait for the rebuild.
        if !due || rollups.requested > rollups.rebuilt {
            return Ok(false);
        }
        self.refresh_uplift().await?;
        Ok(true)
    }

    /// The uplift section for a scope over the months `from..=to` (those measurable).
    pub(super) async fn uplift_view(
        &self,
        scope: UpliftScope,
        from: Month,
        to: Month,
    ) -> Result<UpliftView> {
        let (computed_at, through) = store::state(&self.db).await?;
        let to = through.map_or(from - 1, |t| to.min(t));
        let (grain, key) = scope.grain_key();
        let rows = if to >= from {
            store::cells(&self.db, grain, key, from, to).await?
        } else {
            Vec::new()
        };
        let mut by_study: BTreeMap<Study, BTreeMap<(Month, i64), Arms>> = BTreeMap::new();
        for r in &rows {
            let (Some(study), Some(arm)) = (Study::parse(&r.study), Arm::parse(&r.arm)) else {
                continue;
            };
            by_study
                .entry(study)
                .or_default()
                .entry((r.month, r.stratum))
                .or_default()
                .arm_mut(arm)
                .merge(&acc_of(r));
        }
        let months: Vec<Month> = (from..=to).collect();
        let studies = Study::ALL
            .into_iter()
            .map(|study| {
                let cells = by_study.remove(&study).unwrap_or_default();
                let by_month = months
                    .iter()
                    .map(|&m| {
                        let month: MonthCells = cells
                            .range((m, i64::MIN)..=(m, i64::MAX))
                            .map(|(&(_, s), a)| (s, *a))
                            .collect();
                        estimate(month.values())
                    })
                    .collect();
                StudyView {
                    study: study.key(),
                    pooled: estimate(cells.values()),
                    by_month,
                }
            })
            .collect();
        Ok(UpliftView {
            evidence: OBSERVATIONAL,
            window_months: WINDOW_MONTHS,
            computed_at,
            months: months.into_iter().map(month_label).collect(),
            studies,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_counts_for_their_guides_store_else_where_they_bought_most() {
        let row = UnitRow {
            customer_id: 1,
            store: None,
            first_group_at: None,
            first_card_at: None,
            months: vec![
                (10, 7, 1, 100),
                (11, 8, 2, 100),
                (12, 7, 0, 0),
                (12, 0, 5, 1),
            ],
        };
        let (g, _, store) = unit_of(&row);
        assert_eq!(store, Some(8));
        assert_eq!(g.first_order_month, Some(10));
        assert_eq!(g.months, vec![(10, 1, 100), (11, 2, 100), (12, 5, 1)]);
        let (_, _, store) = unit_of(&UnitRow {
            store: Some(3),
            ..row
        });
        assert_eq!(store, Some(3));
    }

    #[test]
    fn a_customer_is_summed_for_the_brand_and_their_store() {
        let row = UnitRow {
            customer_id: 1,
            store: Some(4),
            first_group_at: None,
            first_card_at: None,
            months: vec![(10, 4, 1, 5_000)],
        };
        let mut sums = Sums::new();
        add_unit(&mut sums, &row, 11, 12);
        // Two studies, two scopes, two months: a control in each.
        assert_eq!(sums.len(), 8);
        assert!(sums.values().all(|a| a.control.n == 1 && a.treated.n == 0));
        assert_eq!(cells_of(sums).len(), 8);
    }
}
