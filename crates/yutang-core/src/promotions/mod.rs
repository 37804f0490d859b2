//! Promotions: coupons, flash sales (秒杀) and group-buys (拼团).
//!
//! Pure rules only. Stock is never decremented here: the store does that with a guarded
//! conditional `UPDATE … WHERE sold < stock` inside the claim's transaction, which is the one
//! place concurrency can be decided. What lives here is everything that can be decided from
//! values alone: parsing templates and campaigns, the state machines of a coupon and of a
//! group-buy team, the redemption checks and the discount in fen.

pub mod coupons;
pub mod flash_sales;
pub mod group_buys;

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::org::parse_label;
use crate::time::{Millis, Scheduled};

/// Who may claim or join a promotion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
// Bodies are strict: an unknown key inside a variant is refused too (the JSON
// extractor cannot see keys that serde buffers for an internally tagged enum).
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Audience {
    Everyone,
    /// Members of a saved segment.
    Segment {
        segment_id: i64,
    },
    /// Customers of one member level (`level = "gold"`).
    Level {
        level: String,
    },
    /// Customers who are in one of the brand's WeCom customer groups.
    GroupMembers,
}

impl Audience {
    pub fn validate(&self) -> Result<(), FieldError> {
        match self {
            Audience::Segment { segment_id } if *segment_id <= 0 => Err(FieldError::new(
                "audience",
                "invalid_audience",
                "segment_id must be a saved segment's id",
            )),
            Audience::Level { level } => {
                let l = parse_label("audience", level, 20)?;
                if l.is_empty() || l.contains('"') || l.contains('\\') {
                    return Err(FieldError::new(
                        "audience",
                        "invalid_audience",
                        "level must be a member level name",
                    ));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The segment expression a customer must match, if the audience is not everyone or a
    /// saved segment (whose expression the application loads).
    pub fn expression(&self) -> Option<String> {
        match self {
            Audience::Level { level } => Some(format!("level = \"{level}\"")),
            Audience::GroupMembers => Some("in_group".into()),
            Audience::Everyone | Audience::Segment { .. } => None,
        }
    }
}

/// A time window `[starts_at, ends_at)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub starts_at: Millis,
    pub ends_at: Millis,
}

impl Window {
    /// A schedule's window: both ends within 2000-01-01..2100-01-01, `ends_at` after `starts_at`.
    pub fn parse(starts_at: Millis, ends_at: Millis) -> Result<Self, FieldError> {
        let starts_at = Scheduled::parse("starts_at", starts_at)?.millis();
        let ends_at = Scheduled::parse("ends_at", ends_at)?.millis();
        if ends_at <= starts_at {
            return Err(FieldError::new(
                "ends_at",
                "invalid_window",
                "ends_at must be after starts_at",
            ));
        }
        Ok(Self { starts_at, ends_at })
    }

    pub fn contains(&self, now: Millis) -> bool {
        self.starts_at <= now && now < self.ends_at
    }

    /// `Err` with a stable code when `now` is outside the window.
    pub fn check(&self, now: Millis) -> Result<(), PromoRefusal> {
        if now < self.starts_at {
            Err(PromoRefusal::NotStarted)
        } else if now >= self.ends_at {
            Err(PromoRefusal::Ended)
        } else {
            Ok(())
        }
    }
}

/// Why a claim, join or redemption was refused although the request was well-formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PromoRefusal {
    #[error("the promotion has not started yet")]
    NotStarted,
    #[error("the promotion has ended")]
    Ended,
    #[error("sold out")]
    OutOfStock,
    #[error("you have reached the limit for this promotion")]
    LimitReached,
    #[error("this promotion is not open to you")]
    NotInAudience,
    #[error("the order is below the coupon's threshold")]
    BelowThreshold,
    #[error("the coupon is not valid at this time")]
    CouponNotValidNow,
    #[error("the coupon cannot be used in this channel or store")]
    OutOfScope,
    #[error("the coupon is not available (already used, expired or revoked)")]
    CouponNotUsable,
    #[error("the group is already full")]
    TeamFull,
    #[error("the group has expired")]
    TeamExpired,
    #[error("you are already in this group")]
    AlreadyInTeam,
    #[error("the promotion was deleted or paused")]
    Inactive,
}

impl PromoRefusal {
    pub fn code(self) -> &'static str {
        match self {
            PromoRefusal::NotStarted => "promotion_not_started",
            PromoRefusal::Ended => "promotion_ended",
            PromoRefusal::OutOfStock => "out_of_stock",
            PromoRefusal::LimitReached => "limit_reached",
            PromoRefusal::NotInAudience => "not_in_audience",
            PromoRefusal::BelowThreshold => "below_threshold",
            PromoRefusal::CouponNotValidNow => "coupon_not_valid_now",
            PromoRefusal::OutOfScope => "coupon_out_of_scope",
            PromoRefusal::CouponNotUsable => "coupon_not_usable",
            PromoRefusal::TeamFull => "group_full",
            PromoRefusal::TeamExpired => "group_expired",
            PromoRefusal::AlreadyInTeam => "already_in_group",
            PromoRefusal::Inactive => "promotion_inactive",
        }
    }

    /// Every refusal, for tests and documentation.
    pub const ALL: [PromoRefusal; 13] = [
        PromoRefusal::NotStarted,
        PromoRefusal::Ended,
        PromoRefusal::OutOfStock,
        PromoRefusal::LimitReached,
        PromoRefusal::NotInAudience,
        PromoRefusal::BelowThreshold,
        PromoRefusal::CouponNotValidNow,
        PromoRefusal::OutOfScope,
        PromoRefusal::CouponNotUsable,
        PromoRefusal::TeamFull,
        PromoRefusal::TeamExpired,
        PromoRefusal::AlreadyInTeam,
        PromoRefusal::Inactive,
    ];

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }
}

/// A promotion's display name: 1–40 characters.
pub fn parse_title(field: &'static str, s: &str) -> Result<String, FieldError> {
    let s = parse_label(field, s, 40)?;
    if s.is_empty() {
        return Err(FieldError::new(field, "required", "a name is required"));
    }
    Ok(s)
}

/// A stock or limit: `1..=max`.
pub fn parse_count(field: &'static str, v: i64, max: i64) -> Result<i64, FieldError> {
    if v < 1 || v > max {
        return Err(FieldError::new(
            field,
            "invalid_count",
            format!("must be between 1 and {max}"),
        ));
    }
    Ok(v)
}

/// The most units a single promotion may hold.
pub const MAX_STOCK: i64 = 100_000_000;

/// Whether one more unit can be taken: the rule the store's guarded `UPDATE` enforces.
pub fn can_take(sold: i64, stock: i64) -> bool {
    sold >= 0 && sold < stock
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn windows_are_half_open() {
        const T: i64 = 1_767_225_600_000;
        let w = Window::parse(Millis(T + 10), Millis(T + 20)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(w.check(Millis(T + 9)), Err(PromoRefusal::NotStarted));
        assert_eq!(w.check(Millis(T + 10)), Ok(()));
        assert_eq!(w.check(Millis(T + 20)), Err(PromoRefusal::Ended));
        assert!(Window::parse(Millis(T + 20), Millis(T + 20)).is_err());
        // Schedules are bounded: 2000-01-01..2100-01-01.
        let e = Window::parse(Millis(0), Millis(T)).unwrap_err();
        assert_eq!((e.field, e.code), ("starts_at", "time_out_of_range"));
        let e = Window::parse(Millis(T), Millis(i64::MAX)).unwrap_err();
        assert_eq!((e.field, e.code), ("ends_at", "time_out_of_range"));
    }

    #[test]
    fn refusal_codes_round_trip() {
        for r in PromoRefusal::ALL {
            assert_eq!(PromoRefusal::from_code(r.code()), Some(r));
        }
    }

    #[test]
    fn audiences_compile_to_expressions() {
        assert_eq!(
            Audience::Level {
                level: "gold".into()
            }
            .expression()
            .as_deref(),
            Some("level = \"gold\"")
        );
        assert!(
            Audience::Level {
                level: "a\"b".into()
            }
            .validate()
            .is_err()
        );
        assert!(Audience::Segment { segment_id: 0 }.validate().is_err());
    }

    proptest! {
        /// Whatever order concurrent takes arrive in, taking only while `can_take` keeps
        /// stock from going negative (sold never exceeds stock).
        #[test]
        fn stock_never_negative(stock in 0i64..50, attempts in 0usize..200) {
            let mut sold = 0;
            for _ in 0..attempts {
                if can_take(sold, stock) {
                    sold += 1;
                }
            }
            prop_assert!(sold <= stock);
            prop_assert!(stock - sold >= 0);
            prop_assert_eq!(sold, stock.min(attempts as i64));
        }
    }
}
