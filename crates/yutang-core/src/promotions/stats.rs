//! A campaign's statistics over time (issue #18): per day in Asia/Shanghai, claims, uses, GMV
//! driven, cost and conversion, and the totals.
//!
//! The store does the heavy part in SQL: every metric is one `GROUP BY` over the day bucket
//! `(t + 28800000) / 86400000` (UTC millis shifted by +08:00, integer division; the same text
//! on SQLite and PostgreSQL, and exactly [`day_of`] for the non-negative instants stored), so
//! a campaign with a million claims comes back as at most one row per metric and day. What is
//! left is pure and lives here, with unit tests: filling the days without activity with
//! zeros, the window shown (start to `min(now, end)`, at most [`MAX_DAYS`]), the amounts a
//! flash sale and a group-buy derive from counts and prices, and the cumulative conversion.
//! Shanghai has kept +08:00 without daylight saving since 1991, so a fixed offset is exact for
//! every instant a campaign can have.
//!
//! Money is integer fen and conversion is integer permille; nothing here uses floats.

use serde::Serialize;

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;
/// Asia/Shanghai's offset from UTC (+08:00), in milliseconds.
pub const SHANGHAI_OFFSET_MS: i64 = 8 * 3_600_000;
/// The longest series shown: the last 90 days of a campaign.
pub const MAX_DAYS: i64 = 90;

/// The day (days since 1970-01-01, Asia/Shanghai) of an instant in UTC millis.
pub fn day_of(ms: i64) -> i64 {
    (ms + SHANGHAI_OFFSET_MS).div_euclid(DAY_MS)
}

/// `2026-12-04`: the calendar date of a day number.
pub fn day_label(day: i64) -> String {
    chrono::DateTime::from_timestamp(day.saturating_mul(86_400), 0)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| String::from("-"))
}

/// What one grouped row of the store counts or sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Coupon sets claimed or issued; flash-sale claims; group-buy members joined.
    Claims,
    /// Coupons used; flash-sale units paid; group-buy teams filled.
    Uses,
    /// The conversion's denominator: coupons claimed; flash-sale claims; teams opened.
    Eligible,
    /// Flash-sale holds released; group-buy members refunded.
    Released,
    /// Group-buy members confirmed (a filled team's members).
    Confirmed,
    /// GMV as recorded (fen): coupon orders' amounts, confirmed members' prices.
    Gmv,
    /// Cost as recorded (fen): used coupons' discounts.
    Cost,
}

impl Metric {
    /// The name the store's queries label their rows with.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "claims" => Self::Claims,
            "uses" => Self::Uses,
            "eligible" => Self::Eligible,
            "released" => Self::Released,
            "confirmed" => Self::Confirmed,
            "gmv" => Self::Gmv,
            "cost" => Self::Cost,
            _ => return None,
        })
    }
}

/// One grouped row: a metric's count or sum on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaySum {
    pub metric: Metric,
    pub day: i64,
    pub value: i64,
}

/// How GMV and cost come about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pricing {
    /// Both are recorded ([`Metric::Gmv`], [`Metric::Cost`]): coupon templates.
    Recorded,
    /// Each paid unit ([`Metric::Uses`]) sells at `price_fen`; it costs `original_fen -
    /// price_fen` when an original price is set (flash sales).
    PerUnit { price_fen: i64, original_fen: i64 },
    /// GMV is recorded (the confirmed members' prices); each confirmed member costs the
    /// original price (or, without one, the campaign price) less what the member paid: the
    /// leader's discount plus the saving on the original price (group-buys).
    PerMember { price_fen: i64, original_fen: i64 },
}

/// The figures of a day, or of the whole campaign: the counts as [`Metric`] describes them
/// per kind, the amounts in fen, and `conversion_permille` = `uses / eligible` (on a day,
/// cumulative up to and including that day).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub claims: i64,
    pub uses: i64,
    pub eligible: i64,
    pub released: i64,
    pub gmv_fen: i64,
    pub cost_fen: i64,
    pub conversion_permille: i64,
}

impl Figures {
    fn add(&mut self, metric: Metric, v: i64) {
        match metric {
            Metric::Claims => self.claims += v,
            Metric::Uses => self.uses += v,
            Metric::Eligible => self.eligible += v,
            Metric::Released => self.released += v,
            Metric::Gmv => self.gmv_fen += v,
            Metric::Cost => self.cost_fen += v,
            Metric::Confirmed => {}
        }
    }

    /// Cost per use in fen (0 without uses), rounded down.
    pub fn cost_per_use_fen(&self) -> i64 {
        if self.uses == 0 {
            0
        } else {
            self.cost_fen / self.uses
        }
    }
}

/// `num / den` in permille, rounded down; 0 when `den` is 0.
pub fn permille(num: i64, den: i64) -> i64 {
    if den <= 0 {
        0
    } else {
        num.saturating_mul(1000) / den
    }
}

/// One day of a series: a campaign's [`Figures`] here, a channel's in
/// `crate::acquisition::stats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayFigures<F = Figures> {
    /// The day number ([`day_of`]).
    #[serde(skip)]
    pub day_no: i64,
    /// `2026-12-04` (Asia/Shanghai).
    pub day: String,
    #[serde(flatten)]
    pub figures: F,
}

/// A campaign's statistics: the totals over its whole life and the daily series shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CampaignStats {
    pub totals: Figures,
    /// One entry per day, zero days included, oldest first; empty before the campaign starts.
    pub days: Vec<DayFigures>,
}

/// The days shown: from the campaign's start (or its first activity, if earlier) to
/// `min(now, end)` (extended to the last activity up to now: coupons are used after the claim
/// window closes), at most the last [`MAX_DAYS`]. `None` when that is empty (not started).
pub fn day_range(starts_at: i64, ends_at: i64, now: i64, sums: &[DaySum]) -> Option<(i64, i64)> {
    let first_seen = sums.iter().map(|s| s.day).min();
    let last_seen = sums.iter().map(|s| s.day).max();
    let now_day = day_of(now);
    let last = day_of(ends_at)
        .max(last_seen.unwrap_or(i64::MIN))
        .min(now_day);
    let first = day_of(starts_at).min(first_seen.unwrap_or(i64::MAX));
    if first > last {
        return None;
    }
    Some((first.max(last - (MAX_DAYS - 1)), last))
}

/// Build the statistics from the store's grouped rows: amounts derived by `pricing`, totals
/// over every row, the series over `range` with zero days filled in, conversion cumulative.
pub fn build(sums: &[DaySum], pricing: Pricing, range: Option<(i64, i64)>) -> CampaignStats {
    use std::collections::BTreeMap;
    let mut by_day: BTreeMap<i64, (Figures, i64)> = BTreeMap::new();
    for s in sums {
        let e = by_day.entry(s.day).or_default();
        e.0.add(s.metric, s.value);
        if s.metric == Metric::Confirmed {
            e.1 += s.value;
        }
    }
    for (f, confirmed) in by_day.values_mut() {
        match pricing {
            Pricing::Recorded => {}
            Pricing::PerUnit {
                price_fen,
                original_fen,
            } => {
                f.gmv_fen = f.uses.saturating_mul(price_fen);
                f.cost_fen = if original_fen > 0 {
                    f.uses.saturating_mul((original_fen - price_fen).max(0))
                } else {
                    0
                };
            }
            Pricing::PerMember {
                price_fen,
                original_fen,
            } => {
                let base = if original_fen > 0 {
                    original_fen
                } else {
                    price_fen
                };
                f.cost_fen = confirmed
                    .saturating_mul(base)
                    .saturating_sub(f.gmv_fen)
                    .max(0);
            }
        }
    }
    let mut totals = Figures::default();
    let mut days = Vec::new();
    let (first, last) = range.unwrap_or((1, 0));
    // Cumulative sums run over every day, also those before the first day shown.
    let (mut cum_uses, mut cum_eligible) = (0, 0);
    for (f, _) in by_day.range(..first).map(|(_, v)| v) {
        cum_uses += f.uses;
        cum_eligible += f.eligible;
    }
    for day in first..=last {
        let mut f = by_day.get(&day).map(|(f, _)| *f).unwrap_or_default();
        cum_uses += f.uses;
        cum_eligible += f.eligible;
        f.conversion_permille = permille(cum_uses, cum_eligible);
        days.push(DayFigures {
            day_no: day,
            day: day_label(day),
            figures: f,
        });
    }
    for (f, _) in by_day.values() {
        totals.claims += f.claims;
        totals.uses += f.uses;
        totals.eligible += f.eligible;
        totals.released += f.released;
        totals.gmv_fen += f.gmv_fen;
        totals.cost_fen += f.cost_fen;
    }
    totals.conversion_permille = permille(totals.uses, totals.eligible);
    CampaignStats { totals, days }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(metric: Metric, day: i64, value: i64) -> DaySum {
        DaySum { metric, day, value }
    }

    /// 2026-12-04T00:00:00+08:00 in UTC millis.
    const DEC4: i64 = 1_796_313_600_000;

    #[test]
    fn days_are_shanghai_days() {
        let d = day_of(DEC4);
        assert_eq!(day_label(d), "2026-12-04");
        // 23:30 in Shanghai (15:30 UTC) is still the 4th; midnight is the 5th.
        assert_eq!(day_of(DEC4 + 23 * 3_600_000 + 30 * 60_000), d);
        assert_eq!(day_of(DEC4 + DAY_MS), d + 1);
        assert_eq!(day_of(DEC4 - 1), d - 1);
        assert_eq!(day_label(d - 1), "2026-12-03");
        // The SQL text's integer division agrees for stored (non-negative) instants.
        for ms in [0, DEC4 - 1, DEC4, DEC4 + 55_800_000] {
            assert_eq!((ms + 28_800_000) / 86_400_000, day_of(ms));
        }
    }

    #[test]
    fn range_runs_from_start_to_now_or_end_at_most_90_days() {
        let d = day_of(DEC4);
        // Started three days ago, ends in a week: today is the last day.
        assert_eq!(
            day_range(DEC4 - 3 * DAY_MS, DEC4 + 7 * DAY_MS, DEC4 + 1000, &[]),
            Some((d - 3, d))
        );
        // Ended yesterday, but a coupon was used today.
        let used_today = [sum(Metric::Uses, d, 1)];
        assert_eq!(
            day_range(DEC4 - 3 * DAY_MS, DEC4 - DAY_MS, DEC4 + 1000, &used_today),
            Some((d - 3, d))
        );
        assert_eq!(
            day_range(DEC4 - 3 * DAY_MS, DEC4 - DAY_MS, DEC4 + 1000, &[]),
            Some((d - 3, d - 1))
        );
        // Not started yet.
        assert_eq!(day_range(DEC4 + DAY_MS, DEC4 + 2 * DAY_MS, DEC4, &[]), None);
        // A year long: the last 90 days.
        assert_eq!(
            day_range(DEC4 - 365 * DAY_MS, DEC4, DEC4, &[]),
            Some((d - 89, d))
        );
    }

    #[test]
    fn recorded_amounts_zero_days_and_cumulative_conversion() {
        let d = 100;
        let sums = [
            sum(Metric::Claims, d, 2),
            sum(Metric::Eligible, d, 4),
            sum(Metric::Uses, d + 2, 1),
            sum(Metric::Gmv, d + 2, 8000),
            sum(Metric::Cost, d + 2, 1000),
            sum(Metric::Uses, d + 3, 1),
            sum(Metric::Cost, d + 3, 1000),
        ];
        let s = build(&sums, Pricing::Recorded, Some((d, d + 3)));
        let days: Vec<(&str, i64, i64, i64, i64)> = s
            .days
            .iter()
            .map(|x| {
                (
                    x.day.as_str(),
                    x.figures.claims,
                    x.figures.uses,
                    x.figures.gmv_fen,
                    x.figures.conversion_permille,
                )
            })
            .collect();
        assert_eq!(
            days,
            vec![
                ("1970-04-11", 2, 0, 0, 0),
                ("1970-04-12", 0, 0, 0, 0),
                ("1970-04-13", 0, 1, 8000, 250),
                ("1970-04-14", 0, 1, 0, 500),
            ]
        );
        assert_eq!(
            s.totals,
            Figures {
                claims: 2,
                uses: 2,
                eligible: 4,
                released: 0,
                gmv_fen: 8000,
                cost_fen: 2000,
                conversion_permille: 500,
            }
        );
        assert_eq!(s.totals.cost_per_use_fen(), 1000);
    }

    #[test]
    fn totals_count_days_outside_the_window_and_conversion_carries_in() {
        let sums = [
            sum(Metric::Eligible, 10, 4),
            sum(Metric::Uses, 10, 1),
            sum(Metric::Uses, 200, 1),
        ];
        let s = build(&sums, Pricing::Recorded, Some((199, 200)));
        assert_eq!(s.days.len(), 2);
        assert_eq!(s.days[0].figures.conversion_permille, 250);
        assert_eq!(s.days[1].figures.conversion_permille, 500);
        assert_eq!((s.totals.uses, s.totals.eligible), (2, 4));
        assert!(build(&sums, Pricing::Recorded, None).days.is_empty());
    }

    #[test]
    fn flash_sale_amounts_come_from_paid_units() {
        let sums = [
            sum(Metric::Claims, 5, 3),
            sum(Metric::Eligible, 5, 3),
            sum(Metric::Uses, 5, 2),
            sum(Metric::Released, 6, 1),
        ];
        let p = Pricing::PerUnit {
            price_fen: 9900,
            original_fen: 19900,
        };
        let s = build(&sums, p, Some((5, 6)));
        assert_eq!((s.totals.gmv_fen, s.totals.cost_fen), (19800, 20000));
        assert_eq!(s.totals.conversion_permille, 666);
        assert_eq!(s.days[1].figures.released, 1);
        // Without an original price a sale costs nothing.
        let p = Pricing::PerUnit {
            price_fen: 9900,
            original_fen: 0,
        };
        assert_eq!(build(&sums, p, None).totals.cost_fen, 0);
    }

    #[test]
    fn group_buy_cost_is_leader_discount_plus_saving_per_confirmed_member() {
        // A team of two filled: the leader paid 3490 (500 off), the member 3990.
        let sums = [
            sum(Metric::Confirmed, 7, 2),
            sum(Metric::Gmv, 7, 3490 + 3990),
        ];
        let with_original = Pricing::PerMember {
            price_fen: 3990,
            original_fen: 5990,
        };
        let s = build(&sums, with_original, Some((7, 7)));
        assert_eq!(s.totals.gmv_fen, 7480);
        assert_eq!(s.totals.cost_fen, 500 + 2 * 2000);
        let without = Pricing::PerMember {
            price_fen: 3990,
            original_fen: 0,
        };
        assert_eq!(build(&sums, without, None).totals.cost_fen, 500);
    }

    #[test]
    fn permille_rounds_down_and_survives_zero() {
        assert_eq!(permille(1, 3), 333);
        assert_eq!(permille(0, 0), 0);
        assert_eq!(permille(5, 5), 1000);
    }
}
