//! Membership tiers (会员等级): a brand's tier program and the pure rules that move a customer
//! through it.
//!
//! A program ranks its tiers (普通 / 银卡 / 金卡 / 黑金) on one brand-wide metric over the last
//! 365 days: spend (paid minus refunded, fen), points earned (earnings minus reversals) or
//! order count. The lowest tier's threshold is 0 and each higher rank's is strictly greater,
//! so every value earns exactly one tier. A customer moves **up** at once, on the order that
//! qualifies; **down** only at a review after their tier's period (`period_months` after they
//! reached it or last re-qualified) plus `grace_days`, and then only to the tier their metric
//! earns at that moment. A refund never moves anyone down by itself.

use chrono::{Datelike, Months, TimeZone};
use chrono_tz::Asia::Shanghai;
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::loyalty::points::{PERMILLE, parse_multiplier};
use crate::promotions::parse_title;

/// Most tiers a program may have.
pub const MAX_TIERS: usize = 20;
/// Highest rank number.
pub const MAX_RANK: i64 = 100;
/// Largest threshold (fen, points or orders): 10^12.
pub const MAX_THRESHOLD: i64 = 1_000_000_000_000;
/// Largest member discount, percent off.
pub const MAX_DISCOUNT_PERCENT: i64 = 50;
/// Most coupon templates in one tier's monthly pack.
pub const MAX_PACK: usize = 10;
/// Longest tier key.
pub const MAX_KEY: usize = 32;
/// Longest period a tier is held for, in months.
pub const MAX_PERIOD_MONTHS: i64 = 36;
/// Longest grace after a period, in days.
pub const MAX_GRACE_DAYS: i64 = 365;
/// The metric's window: the last 365 days.
pub const WINDOW_MS: i64 = 365 * DAY_MS;
const DAY_MS: i64 = 86_400_000;

/// What a program ranks customers on (over the last 365 days).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TierMetric {
    /// Paid minus refunded, fen (orders not fully refunded).
    #[default]
    #[serde(rename = "spend_12m")]
    Spend12m,
    /// Points earned minus points reversed.
    #[serde(rename = "points_12m")]
    Points12m,
    /// Orders not fully refunded.
    #[serde(rename = "orders_12m")]
    Orders12m,
}

impl TierMetric {
    pub const ALL: [TierMetric; 3] = [
        TierMetric::Spend12m,
        TierMetric::Points12m,
        TierMetric::Orders12m,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TierMetric::Spend12m => "spend_12m",
            TierMetric::Points12m => "points_12m",
            TierMetric::Orders12m => "orders_12m",
        }
    }

    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    "invalid_rule",
                    "the metric is spend_12m, points_12m or orders_12m",
                )
            })
    }
}

fn default_multiplier() -> i64 {
    PERMILLE
}

fn default_period() -> i64 {
    12
}

fn default_grace() -> i64 {
    30
}

/// One tier and its benefits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierSpec {
    /// Stable identifier (`silver`): lowercase letters, digits and `_`; what the `tier`
    /// segment attribute reads.
    pub key: String,
    /// Shown to staff and customers (银卡), 1–40 characters.
    pub name: String,
    /// 1–100; a higher rank is a better tier.
    pub rank: i64,
    /// The least metric value that earns the tier; 0 for the lowest rank.
    pub threshold: i64,
    /// Member price: percent off (5 → 95 % of the price), 0–50.
    #[serde(default)]
    pub discount_percent: i64,
    /// Points multiplier in thousandths (1000 = ×1, 1500 = ×1.5).
    #[serde(default = "default_multiplier")]
    pub points_multiplier: i64,
    /// Coupon templates issued once a month (Asia/Shanghai) to each member of the tier.
    #[serde(default)]
    pub monthly_coupon_template_ids: Vec<i64>,
    /// A coupon template given once a year in the member's birthday month.
    #[serde(default)]
    pub birthday_coupon_template_id: Option<i64>,
    /// Orders from this amount (fen) ship free; none: no free shipping.
    #[serde(default)]
    pub free_shipping_threshold_fen: Option<i64>,
}

/// The whole program, replaced at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierProgram {
    #[serde(default)]
    pub metric: TierMetric,
    /// A tier reached is held this many months (1–36) before it can go down.
    #[serde(default = "default_period")]
    pub period_months: i64,
    /// Days after the period during which a member can still re-qualify (0–365).
    #[serde(default = "default_grace")]
    pub grace_days: i64,
    /// Any order; sorted by rank once parsed. Empty: no program.
    pub tiers: Vec<TierSpec>,
}

impl Default for TierProgram {
    fn default() -> Self {
        Self {
            metric: TierMetric::default(),
            period_months: default_period(),
            grace_days: default_grace(),
            tiers: vec![],
        }
    }
}

fn parse_key(s: &str) -> Result<String, FieldError> {
    let ok = !s.is_empty()
        && s.len() <= MAX_KEY
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(s.to_owned())
    } else {
        Err(FieldError::new(
            "tiers.key",
            "invalid_tier_key",
            format!("a tier key is 1–{MAX_KEY} lowercase letters, digits or _"),
        ))
    }
}

fn duplicate(field: &'static str, what: &str) -> FieldError {
    FieldError::new(
        field,
        "duplicate_tier",
        format!("two tiers have the same {what}"),
    )
}

impl TierSpec {
    fn parse(mut self) -> Result<Self, FieldError> {
        self.key = parse_key(&self.key)?;
        self.name = parse_title("tiers.name", &self.name)?;
        if !(1..=MAX_RANK).contains(&self.rank) {
            return Err(FieldError::new(
                "tiers.rank",
                "invalid_count",
                format!("a rank is 1–{MAX_RANK}"),
            ));
        }
        if !(0..=MAX_THRESHOLD).contains(&self.threshold) {
            return Err(FieldError::new(
                "tiers.threshold",
                "invalid_amount",
                format!("a threshold is 0–{MAX_THRESHOLD}"),
            ));
        }
        if !(0..=MAX_DISCOUNT_PERCENT).contains(&self.discount_percent) {
            return Err(FieldError::new(
                "tiers.discount_percent",
                "invalid_discount",
                format!("a member discount is 0–{MAX_DISCOUNT_PERCENT} percent off"),
            ));
        }
        self.points_multiplier =
            parse_multiplier("tiers.points_multiplier", self.points_multiplier)?;
        let pack = &self.monthly_coupon_template_ids;
        if pack.len() > MAX_PACK {
            return Err(FieldError::new(
                "tiers.monthly_coupon_template_ids",
                "too_many_items",
                format!("a monthly pack has at most {MAX_PACK} coupons"),
            ));
        }
        if pack.iter().any(|id| *id < 1) {
            return Err(FieldError::new(
                "tiers.monthly_coupon_template_ids",
                "invalid_id",
                "must be positive ids",
            ));
        }
        if self.birthday_coupon_template_id.is_some_and(|id| id < 1) {
            return Err(FieldError::new(
                "tiers.birthday_coupon_template_id",
                "invalid_id",
                "must be a positive id",
            ));
        }
        if self
            .free_shipping_threshold_fen
            .is_some_and(|f| !(0..=MAX_THRESHOLD).contains(&f))
        {
            return Err(FieldError::new(
                "tiers.free_shipping_threshold_fen",
                "invalid_amount",
                format!("a free-shipping threshold is 0–{MAX_THRESHOLD} fen"),
            ));
        }
        Ok(self)
    }
}

impl TierProgram {
    /// Check every field and sort the tiers by rank. Ranks, keys and names are unique; the
    /// lowest rank's threshold is 0 and each higher rank's is strictly greater (no two tiers
    /// overlap).
    pub fn parse(mut self) -> Result<Self, FieldError> {
        if !(1..=MAX_PERIOD_MONTHS).contains(&self.period_months) {
            return Err(FieldError::new(
                "period_months",
                "invalid_period",
                format!("a tier is held 1–{MAX_PERIOD_MONTHS} months"),
            ));
        }
        if !(0..=MAX_GRACE_DAYS).contains(&self.grace_days) {
            return Err(FieldError::new(
                "grace_days",
                "invalid_period",
                format!("the grace is 0–{MAX_GRACE_DAYS} days"),
            ));
        }
        if self.tiers.len() > MAX_TIERS {
            return Err(FieldError::new(
                "tiers",
                "too_many_items",
                format!("a program has at most {MAX_TIERS} tiers"),
            ));
        }
        let mut tiers = self
            .tiers
            .into_iter()
            .map(TierSpec::parse)
            .collect::<Result<Vec<_>, _>>()?;
        tiers.sort_by_key(|t| t.rank);
        for (i, t) in tiers.iter().enumerate() {
            let before = &tiers[..i];
            if before.iter().any(|b| b.rank == t.rank) {
                return Err(duplicate("tiers.rank", "rank"));
            }
            if before.iter().any(|b| b.key == t.key) {
                return Err(duplicate("tiers.key", "key"));
            }
            if before.iter().any(|b| b.name == t.name) {
                return Err(duplicate("tiers.name", "name"));
            }
        }
        if let Some(first) = tiers.first()
            && first.threshold != 0
        {
            return Err(FieldError::new(
                "tiers.threshold",
                "tier_rule_overlap",
                "the lowest tier's threshold must be 0, so every customer earns a tier",
            ));
        }
        if tiers.windows(2).any(|w| w[1].threshold <= w[0].threshold) {
            return Err(FieldError::new(
                "tiers.threshold",
                "tier_rule_overlap",
                "each higher rank needs a strictly higher threshold",
            ));
        }
        self.tiers = tiers;
        Ok(self)
    }
}

/// The index of the tier a metric value earns among tiers sorted by rank (as
/// [`TierProgram::parse`] leaves them): the highest whose threshold is reached.
pub fn earned(thresholds: &[i64], value: i64) -> Option<usize> {
    thresholds.iter().rposition(|t| value >= *t)
}

/// What an order does to its customer's tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnOrder {
    /// Moves up (or into the program): the new tier starts at the order.
    Upgrade,
    /// Keeps the tier but re-qualifies for it after its period (in the grace): held for
    /// another period from the order.
    Renew,
    Nothing,
}

/// `current`: the rank held and until when (none: not in the program yet); `earned`: the
/// rank the metric earns as of the order, at `at`. Never down.
pub fn on_order(current: Option<(i64, i64)>, earned: Option<i64>, at: i64) -> OnOrder {
    match (current, earned) {
        (_, None) => OnOrder::Nothing,
        (None, Some(_)) => OnOrder::Upgrade,
        (Some((rank, _)), Some(e)) if e > rank => OnOrder::Upgrade,
        (Some((rank, held_until)), Some(e)) if e == rank && held_until <= at => OnOrder::Renew,
        _ => OnOrder::Nothing,
    }
}

/// What a review after the period and its grace does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnReview {
    /// The metric still earns the tier (or better: the better one came with an order): held
    /// for another period.
    Renew,
    /// Down to the tier the metric earns now (the index among the sorted tiers).
    Downgrade(usize),
}

/// A review of a member holding `rank`, whose metric now earns the tier at `earned_index`
/// (of `ranks`, sorted). A member whose metric earns nothing keeps the lowest tier.
pub fn on_review(rank: i64, ranks: &[i64], earned_index: Option<usize>) -> OnReview {
    let idx = earned_index.unwrap_or(0);
    match ranks.get(idx) {
        Some(r) if *r < rank => OnReview::Downgrade(idx),
        _ => OnReview::Renew,
    }
}

/// Whether a member holding a tier until `held_until` is due for review at `now`.
pub fn review_due(held_until: i64, grace_days: i64, now: i64) -> bool {
    held_until.saturating_add(grace_days * DAY_MS) <= now
}

/// `ms` plus whole months on the Asia/Shanghai calendar (31 January + 1 month = 28 or 29
/// February).
pub fn add_months(ms: i64, months: i64) -> i64 {
    let Some(t) = Shanghai.timestamp_millis_opt(ms).single() else {
        return ms.saturating_add(months * 30 * DAY_MS);
    };
    u32::try_from(months)
        .ok()
        .and_then(|m| t.checked_add_months(Months::new(m)))
        .map_or(ms.saturating_add(months * 30 * DAY_MS), |t| {
            t.timestamp_millis()
        })
}

/// The Shanghai month of an instant, `YYYY-MM` (the monthly pack's period).
pub fn shanghai_month(ms: i64) -> String {
    Shanghai
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%Y-%m").to_string())
        .unwrap_or_default()
}

/// The Shanghai year and month (1–12) of an instant.
pub fn shanghai_year_month(ms: i64) -> (i32, u32) {
    Shanghai
        .timestamp_millis_opt(ms)
        .single()
        .map_or((1970, 1), |t| (t.year(), t.month()))
}

/// Whether a `YYYY-MM-DD` birthday falls in `month` (1–12).
pub fn birthday_in_month(birthday: &str, month: u32) -> bool {
    birthday
        .get(5..7)
        .and_then(|m| m.parse::<u32>().ok())
        .is_some_and(|m| m == month)
}

/// The progress to the next tier: what it takes (threshold − value, never below 0) and how
/// far along, in percent (0–100, rounded down).
pub fn progress(value: i64, from_threshold: i64, next_threshold: i64) -> (i64, i64) {
    let remaining = (next_threshold - value).max(0);
    let span = (next_threshold - from_threshold).max(1);
    let done = (value - from_threshold).clamp(0, span);
    (
        remaining,
        (i128::from(done) * 100 / i128::from(span)) as i64,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier(key: &str, name: &str, rank: i64, threshold: i64) -> TierSpec {
        TierSpec {
            key: key.into(),
            name: name.into(),
            rank,
            threshold,
            discount_percent: 0,
            points_multiplier: PERMILLE,
            monthly_coupon_template_ids: vec![],
            birthday_coupon_template_id: None,
            free_shipping_threshold_fen: None,
        }
    }

    fn program(tiers: Vec<TierSpec>) -> TierProgram {
        TierProgram {
            tiers,
            ..TierProgram::default()
        }
    }

    fn field(p: TierProgram) -> (&'static str, &'static str) {
        let e = p.parse().unwrap_err();
        (e.field, e.code)
    }

    #[test]
    fn a_program_is_sorted_by_rank() {
        let p = program(vec![
            tier("gold", "金卡", 3, 500_000),
            tier("normal", "普通", 1, 0),
            tier("silver", "银卡", 2, 100_000),
        ])
        .parse()
        .unwrap();
        let keys: Vec<_> = p.tiers.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(keys, ["normal", "silver", "gold"]);
        assert!(program(vec![]).parse().is_ok());
    }

    #[test]
    fn bad_programs_name_the_field() {
        let base = || vec![tier("normal", "普通", 1, 0), tier("silver", "银卡", 2, 100)];
        let mut t = base();
        t[1].threshold = 0;
        assert_eq!(field(program(t)), ("tiers.threshold", "tier_rule_overlap"));
        let mut t = base();
        t[0].threshold = 5;
        t[1].threshold = 100;
        assert_eq!(field(program(t)), ("tiers.threshold", "tier_rule_overlap"));
        let mut t = base();
        t[1].rank = 1;
        t[1].threshold = 0;
        assert_eq!(field(program(t)), ("tiers.rank", "duplicate_tier"));
        let mut t = base();
        t[1].key = "normal".into();
        assert_eq!(field(program(t)), ("tiers.key", "duplicate_tier"));
        let mut t = base();
        t[1].name = "普通".into();
        assert_eq!(field(program(t)), ("tiers.name", "duplicate_tier"));
        let mut t = base();
        t[1].points_multiplier = 0;
        assert_eq!(
            field(program(t)),
            ("tiers.points_multiplier", "invalid_multiplier")
        );
        let mut t = base();
        t[1].discount_percent = 51;
        assert_eq!(
            field(program(t)),
            ("tiers.discount_percent", "invalid_discount")
        );
        let mut t = base();
        t[1].key = "Silver".into();
        assert_eq!(field(program(t)), ("tiers.key", "invalid_tier_key"));
        let mut t = base();
        t[1].name = "银\u{1}卡".into();
        assert_eq!(field(program(t)).0, "tiers.name");
        let mut t = base();
        t[1].threshold = -1;
        assert_eq!(field(program(t)), ("tiers.threshold", "invalid_amount"));
        let mut t = base();
        t[1].monthly_coupon_template_ids = vec![0];
        assert_eq!(
            field(program(t)),
            ("tiers.monthly_coupon_template_ids", "invalid_id")
        );
        let mut p = program(base());
        p.period_months = 0;
        assert_eq!(field(p), ("period_months", "invalid_period"));
        let mut p = program(base());
        p.grace_days = -1;
        assert_eq!(field(p), ("grace_days", "invalid_period"));
    }

    #[test]
    fn a_value_earns_the_highest_tier_reached() {
        let th = [0, 100, 500];
        assert_eq!(earned(&th, 0), Some(0));
        assert_eq!(earned(&th, 99), Some(0));
        assert_eq!(earned(&th, 100), Some(1));
        assert_eq!(earned(&th, 10_000), Some(2));
        assert_eq!(earned(&th, -5), None);
        assert_eq!(earned(&[], 5), None);
    }

    #[test]
    fn orders_only_move_up_or_renew_in_the_grace() {
        assert_eq!(on_order(None, Some(1), 10), OnOrder::Upgrade);
        assert_eq!(on_order(Some((1, 100)), Some(2), 10), OnOrder::Upgrade);
        assert_eq!(on_order(Some((2, 100)), Some(1), 10), OnOrder::Nothing);
        assert_eq!(on_order(Some((2, 100)), Some(2), 10), OnOrder::Nothing);
        assert_eq!(on_order(Some((2, 100)), Some(2), 100), OnOrder::Renew);
        assert_eq!(on_order(Some((2, 100)), None, 100), OnOrder::Nothing);
    }

    #[test]
    fn reviews_go_down_at_most_to_what_the_metric_earns() {
        let ranks = [1, 2, 3];
        assert_eq!(on_review(3, &ranks, Some(2)), OnReview::Renew);
        assert_eq!(on_review(3, &ranks, Some(1)), OnReview::Downgrade(1));
        assert_eq!(on_review(3, &ranks, None), OnReview::Downgrade(0));
        assert_eq!(on_review(1, &ranks, Some(0)), OnReview::Renew);
        assert!(review_due(100, 0, 100));
        assert!(!review_due(100, 1, 100));
        assert!(review_due(100, 1, 100 + DAY_MS));
    }

    #[test]
    fn months_and_birthdays_are_shanghai_calendar() {
        // 2026-01-31T12:00+08:00 plus one month is 2026-02-28T12:00+08:00.
        let jan31 = Shanghai
            .with_ymd_and_hms(2026, 1, 31, 12, 0, 0)
            .unwrap()
            .timestamp_millis();
        let feb28 = Shanghai
            .with_ymd_and_hms(2026, 2, 28, 12, 0, 0)
            .unwrap()
            .timestamp_millis();
        assert_eq!(add_months(jan31, 1), feb28);
        assert_eq!(shanghai_month(jan31), "2026-01");
        // 2026-05-31T16:30Z is 1 June in Shanghai.
        assert_eq!(shanghai_month(1_780_245_000_000), "2026-06");
        assert_eq!(shanghai_year_month(1_780_245_000_000), (2026, 6));
        assert!(birthday_in_month("1990-06-15", 6));
        assert!(!birthday_in_month("1990-07-15", 6));
        assert!(!birthday_in_month("", 6));
    }

    #[test]
    fn progress_is_bounded() {
        assert_eq!(progress(50, 0, 100), (50, 50));
        assert_eq!(progress(150, 100, 100), (0, 100));
        assert_eq!(progress(300, 100, 200), (0, 100));
        assert_eq!(progress(0, 100, 200), (200, 0));
    }
}
