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
pub mod stats;

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

/// A campaign (coupon template, flash sale, group-buy) as a claim reads it under the
/// campaign's row lock: the claim's decision is made here, on these facts, and the store's
/// guarded `UPDATE … WHERE sold < stock` is only the backstop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Campaign {
    /// Not deleted (or paused).
    pub active: bool,
    /// The window a customer's claim must fall in; `None` where none applies (staff issuing
    /// coupons, a member joining a team opened inside the window).
    pub window: Option<Window>,
    pub stock: i64,
    pub sold: i64,
}

impl Campaign {
    /// May one more unit be taken at `now`? Refusals in the order a customer should hear them:
    /// deleted, not started, ended, sold out.
    pub fn check_take(&self, now: Millis) -> Result<(), PromoRefusal> {
        if !self.active {
            return Err(PromoRefusal::Inactive);
        }
        if let Some(w) = self.window {
            w.check(now)?;
        }
        if !can_take(self.sold, self.stock) {
            return Err(PromoRefusal::OutOfStock);
        }
        Ok(())
    }
}

/// A per-customer limit: a customer holding `held` units may take one more only below `limit`.
pub fn check_limit(held: i64, limit: i64) -> Result<(), PromoRefusal> {
    if held >= limit {
        Err(PromoRefusal::LimitReached)
    } else {
        Ok(())
    }
}

/// Where a campaign stands for the operator: 草稿 until published (closed to customers and
/// invisible to them, whatever the window), 未开始 before its window, 进行中 within it, 已结束
/// after it, 已归档 once archived (whatever the window).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Draft,
    Scheduled,
    Running,
    Ended,
    Archived,
}

impl Phase {
    pub const ALL: [Phase; 5] = [
        Phase::Draft,
        Phase::Scheduled,
        Phase::Running,
        Phase::Ended,
        Phase::Archived,
    ];

    /// The phase at `now` of a campaign with this status and window (`[starts, ends)`).
    pub fn of(status: &str, starts_at: i64, ends_at: i64, now: i64) -> Phase {
        if status == "archived" {
            Phase::Archived
        } else if status == "draft" {
            Phase::Draft
        } else if now < starts_at {
            Phase::Scheduled
        } else if now < ends_at {
            Phase::Running
        } else {
            Phase::Ended
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Draft => "draft",
            Phase::Scheduled => "scheduled",
            Phase::Running => "running",
            Phase::Ended => "ended",
            Phase::Archived => "archived",
        }
    }

    pub fn parse(s: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_follow_the_window_and_archiving() {
        assert_eq!(Phase::of("active", 10, 20, 9), Phase::Scheduled);
        assert_eq!(Phase::of("active", 10, 20, 10), Phase::Running);
        assert_eq!(Phase::of("active", 10, 20, 19), Phase::Running);
        assert_eq!(Phase::of("active", 10, 20, 20), Phase::Ended);
        for now in [0, 15, 30] {
            assert_eq!(Phase::of("archived", 10, 20, now), Phase::Archived);
            assert_eq!(Phase::of("draft", 10, 20, now), Phase::Draft);
        }
        for p in Phase::ALL {
            assert_eq!(Phase::parse(p.as_str()), Some(p));
        }
        assert_eq!(Phase::parse("deleted"), None);
    }
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

    #[test]
    fn campaign_refusals_come_in_order() {
        const T: i64 = 1_767_225_600_000;
        let w = Window::parse(Millis(T), Millis(T + 10)).unwrap_or_else(|e| panic!("{e}"));
        let c = Campaign {
            active: true,
            window: Some(w),
            stock: 1,
            sold: 0,
        };
        assert_eq!(c.check_take(Millis(T)), Ok(()));
        assert_eq!(c.check_take(Millis(T - 1)), Err(PromoRefusal::NotStarted));
        assert_eq!(c.check_take(Millis(T + 10)), Err(PromoRefusal::Ended));
        let sold_out = Campaign { sold: 1, ..c };
        assert_eq!(
            sold_out.check_take(Millis(T)),
            Err(PromoRefusal::OutOfStock)
        );
        // A deleted campaign says so before anything else; an ended one before "sold out".
        let deleted = Campaign {
            active: false,
            ..sold_out
        };
        assert_eq!(
            deleted.check_take(Millis(T + 99)),
            Err(PromoRefusal::Inactive)
        );
        assert_eq!(
            sold_out.check_take(Millis(T + 10)),
            Err(PromoRefusal::Ended)
        );
        // No window (staff issue): only the stock counts.
        let anytime = Campaign { window: None, ..c };
        assert_eq!(anytime.check_take(Millis(0)), Ok(()));
        assert_eq!(check_limit(0, 1), Ok(()));
        assert_eq!(check_limit(1, 1), Err(PromoRefusal::LimitReached));
    }

    proptest! {
        /// A take is allowed exactly when the campaign is active, `now` is in its window and
        /// `can_take` holds; the refusal otherwise is the first rule broken.
        #[test]
        fn check_take_is_the_conjunction(active: bool, start in 0i64..20, len in 1i64..20,
                now in 0i64..50, stock in 0i64..5, sold in 0i64..6) {
            const T: i64 = 1_767_225_600_000;
            let window = Window { starts_at: Millis(T + start), ends_at: Millis(T + start + len) };
            let c = Campaign { active, window: Some(window), stock, sold };
            let got = c.check_take(Millis(T + now));
            let ok = active && window.contains(Millis(T + now)) && can_take(sold, stock);
            prop_assert_eq!(got.is_ok(), ok);
            if !active {
                prop_assert_eq!(got, Err(PromoRefusal::Inactive));
            } else if !window.contains(Millis(T + now)) {
                prop_assert!(matches!(got, Err(PromoRefusal::NotStarted | PromoRefusal::Ended)));
            }
        }

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
