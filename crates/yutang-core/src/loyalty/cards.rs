//! Paid member cards (付费会员卡): card products a customer buys for a period (a monthly card
//! for 18 CNY, an annual one for 198 CNY) and the pure rules of their periods.
//!
//! A card gives member prices (the brand's order system applies them and reports what the
//! customer saved), a points multiplier, an optional monthly coupon pack and, optionally, a
//! **savings guarantee**: when a period ends having saved its member less than what the card
//! cost, the difference is refunded, exactly once.
//!
//! Periods of one customer are consecutive: a purchase while a period is running (or already
//! bought for later) starts when the last one ends — a renewal; otherwise it starts when paid.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::loyalty::points::{PERMILLE, parse_multiplier};
use crate::promotions::parse_title;

/// Longest card key.
pub const MAX_KEY: usize = 32;
/// Longest period of one purchase, in days (ten years).
pub const MAX_PERIOD_DAYS: i64 = 3660;
/// Highest card price, fen (100 million CNY).
pub const MAX_PRICE_FEN: i64 = 10_000_000_000;
/// Most coupon templates in a card's monthly pack.
pub const MAX_PACK: usize = 10;
/// Largest saving one order or coupon may report, fen.
pub const MAX_SAVINGS_FEN: i64 = 10_000_000_000;
const DAY_MS: i64 = 86_400_000;

fn default_multiplier() -> i64 {
    PERMILLE
}

/// A card product as staff write it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardSpec {
    /// Stable identifier (`monthly`): 1–32 lowercase letters, digits or `_`.
    pub key: String,
    /// Shown to staff and customers (月卡), 1–40 characters.
    pub name: String,
    /// Days one purchase lasts (1–3660).
    pub period_days: i64,
    /// The price, integer fen (> 0).
    pub price_fen: i64,
    /// Points multiplier in thousandths (2000 = double points), combined with the tier's.
    #[serde(default = "default_multiplier")]
    pub points_multiplier: i64,
    /// Coupon templates issued to each member once per Shanghai month of an active period.
    #[serde(default)]
    pub monthly_coupon_template_ids: Vec<i64>,
    /// Refund the difference when a period saved its member less than they paid.
    #[serde(default)]
    pub savings_guarantee: bool,
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
            "key",
            "invalid_card_key",
            format!("a card key is 1–{MAX_KEY} lowercase letters, digits or _"),
        ))
    }
}

/// A price or amount paid: 1..=[`MAX_PRICE_FEN`] fen.
pub fn parse_price(field: &'static str, v: i64) -> Result<i64, FieldError> {
    if !(1..=MAX_PRICE_FEN).contains(&v) {
        return Err(FieldError::new(
            field,
            "invalid_amount",
            format!("an amount is 1–{MAX_PRICE_FEN} fen"),
        ));
    }
    Ok(v)
}

/// A member saving reported with an order: 0..=[`MAX_SAVINGS_FEN`] fen.
pub fn parse_savings(field: &'static str, v: i64) -> Result<i64, FieldError> {
    if !(0..=MAX_SAVINGS_FEN).contains(&v) {
        return Err(FieldError::new(
            field,
            "invalid_amount",
            format!("member savings are 0–{MAX_SAVINGS_FEN} fen"),
        ));
    }
    Ok(v)
}

impl CardSpec {
    /// Check every field (422 naming it).
    pub fn parse(mut self) -> Result<Self, FieldError> {
        self.key = parse_key(&self.key)?;
        self.name = parse_title("name", &self.name)?;
        if !(1..=MAX_PERIOD_DAYS).contains(&self.period_days) {
            return Err(FieldError::new(
                "period_days",
                "invalid_period",
                format!("a card lasts 1–{MAX_PERIOD_DAYS} days"),
            ));
        }
        self.price_fen = parse_price("price_fen", self.price_fen)?;
        self.points_multiplier = parse_multiplier("points_multiplier", self.points_multiplier)?;
        let pack = &self.monthly_coupon_template_ids;
        if pack.len() > MAX_PACK {
            return Err(FieldError::new(
                "monthly_coupon_template_ids",
                "too_many_items",
                format!("a monthly pack has at most {MAX_PACK} coupons"),
            ));
        }
        if pack.iter().any(|id| *id < 1) {
            return Err(FieldError::new(
                "monthly_coupon_template_ids",
                "invalid_id",
                "must be positive ids",
            ));
        }
        Ok(self)
    }
}

/// Where a new purchase's period lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewPeriod {
    pub starts_at: i64,
    pub ends_at: i64,
    /// It follows a period still running (or bought ahead): a renewal.
    pub renewal: bool,
}

/// The period of a purchase paid at `paid_at` for `period_days`, given the end of the
/// customer's last period not refunded (none: never a member). A renewal starts at that end
/// when it is after the payment; otherwise the card starts when paid.
pub fn next_period(paid_at: i64, last_end: Option<i64>, period_days: i64) -> NewPeriod {
    let (starts_at, renewal) = match last_end {
        Some(end) if end > paid_at => (end, true),
        _ => (paid_at, false),
    };
    NewPeriod {
        starts_at,
        ends_at: starts_at.saturating_add(period_days.saturating_mul(DAY_MS)),
        renewal,
    }
}

/// What a period's end refunds: with the guarantee, the difference between what was paid and
/// what was saved when the savings fall short; else nothing. Never negative, never more than
/// was paid.
pub fn settlement_refund(paid_fen: i64, savings_fen: i64, guarantee: bool) -> i64 {
    if !guarantee || paid_fen <= 0 {
        return 0;
    }
    (paid_fen - savings_fen.max(0)).clamp(0, paid_fen)
}

/// Whether `at` lies in a period `[starts_at, ends_at)`.
pub fn covers(starts_at: i64, ends_at: i64, at: i64) -> bool {
    starts_at <= at && at < ends_at
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn spec() -> CardSpec {
        CardSpec {
            key: "monthly".into(),
            name: "月卡".into(),
            period_days: 30,
            price_fen: 1800,
            points_multiplier: 2000,
            monthly_coupon_template_ids: vec![1, 2, 3],
            savings_guarantee: true,
        }
    }

    fn field(s: CardSpec) -> (&'static str, &'static str) {
        let e = s.parse().unwrap_err();
        (e.field, e.code)
    }

    #[test]
    fn a_good_card_parses() {
        let s = spec().parse().unwrap();
        assert_eq!(s.price_fen, 1800);
        assert_eq!(default_multiplier(), PERMILLE);
    }

    #[test]
    fn bad_cards_name_the_field() {
        let mut s = spec();
        s.period_days = 0;
        assert_eq!(field(s), ("period_days", "invalid_period"));
        let mut s = spec();
        s.period_days = MAX_PERIOD_DAYS + 1;
        assert_eq!(field(s), ("period_days", "invalid_period"));
        let mut s = spec();
        s.price_fen = -1;
        assert_eq!(field(s), ("price_fen", "invalid_amount"));
        let mut s = spec();
        s.price_fen = 0;
        assert_eq!(field(s), ("price_fen", "invalid_amount"));
        let mut s = spec();
        s.points_multiplier = 0;
        assert_eq!(field(s), ("points_multiplier", "invalid_multiplier"));
        let mut s = spec();
        s.key = "Monthly".into();
        assert_eq!(field(s), ("key", "invalid_card_key"));
        let mut s = spec();
        s.key = String::new();
        assert_eq!(field(s), ("key", "invalid_card_key"));
        let mut s = spec();
        s.name = String::new();
        assert_eq!(field(s).0, "name");
        let mut s = spec();
        s.monthly_coupon_template_ids = vec![0];
        assert_eq!(field(s), ("monthly_coupon_template_ids", "invalid_id"));
        let mut s = spec();
        s.monthly_coupon_template_ids = vec![1; MAX_PACK + 1];
        assert_eq!(field(s), ("monthly_coupon_template_ids", "too_many_items"));
        assert_eq!(
            parse_savings("member_savings", -1).unwrap_err().field,
            "member_savings"
        );
        assert_eq!(parse_savings("member_savings", 0), Ok(0));
    }

    #[test]
    fn a_renewal_starts_at_the_current_end() {
        let p = next_period(100, None, 1);
        assert_eq!(
            (p.starts_at, p.ends_at, p.renewal),
            (100, 100 + DAY_MS, false)
        );
        let r = next_period(200, Some(p.ends_at), 30);
        assert_eq!(r.starts_at, p.ends_at);
        assert_eq!(r.ends_at, p.ends_at + 30 * DAY_MS);
        assert!(r.renewal);
        // Lapsed: a new card starts when paid.
        let late = next_period(p.ends_at + 5, Some(p.ends_at), 30);
        assert_eq!(late.starts_at, p.ends_at + 5);
        assert!(!late.renewal);
        // Exactly at the end: not a renewal, starts at once (the same instant).
        let at = next_period(p.ends_at, Some(p.ends_at), 30);
        assert_eq!(at.starts_at, p.ends_at);
        assert!(!at.renewal);
        assert!(covers(10, 20, 10));
        assert!(!covers(10, 20, 20));
    }

    #[test]
    fn the_guarantee_refunds_the_shortfall() {
        assert_eq!(settlement_refund(1800, 500, true), 1300);
        assert_eq!(settlement_refund(1800, 1800, true), 0);
        assert_eq!(settlement_refund(1800, 5000, true), 0);
        assert_eq!(settlement_refund(1800, 0, true), 1800);
        assert_eq!(settlement_refund(1800, 500, false), 0);
        assert_eq!(settlement_refund(1800, -5, true), 1800);
    }

    proptest! {
        #[test]
        fn periods_are_consecutive(
            start in 0i64..1_000_000_000_000,
            steps in proptest::collection::vec((0i64..40 * DAY_MS, 1i64..400), 1..20),
        ) {
            let mut paid = start;
            let mut last: Option<i64> = None;
            for (gap, days) in steps {
                paid += gap;
                let p = next_period(paid, last, days);
                prop_assert!(p.starts_at >= paid);
                prop_assert_eq!(p.ends_at - p.starts_at, days * DAY_MS);
                if let Some(end) = last {
                    // Never overlaps the one before; touches it exactly when a renewal.
                    prop_assert!(p.starts_at >= end);
                    prop_assert_eq!(p.renewal, p.starts_at == end && end > paid);
                }
                last = Some(p.ends_at);
            }
        }

        #[test]
        fn a_refund_makes_up_the_shortfall_and_no_more(
            paid in 1i64..MAX_PRICE_FEN,
            saved in -10i64..MAX_PRICE_FEN,
            guarantee: bool,
        ) {
            let r = settlement_refund(paid, saved, guarantee);
            prop_assert!((0..=paid).contains(&r));
            if guarantee {
                prop_assert!(saved.max(0) + r >= paid);
                prop_assert!(r == 0 || saved.max(0) + r == paid);
            } else {
                prop_assert_eq!(r, 0);
            }
        }
    }
}
