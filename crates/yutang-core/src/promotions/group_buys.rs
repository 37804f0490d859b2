//! Group-buys (拼团): a product at a group price for teams of `size` within `time_limit`.
//! A customer opens a team (the leader) or joins an open one from a share link. Each member
//! pays on joining. A team that fills confirms every order; a team whose deadline passes
//! unfilled is cancelled and every member refunded — exactly once, however many times the
//! deadline timer runs (it is durable, so it may run again after a restart).

use serde::{Deserialize, Serialize};

use super::{Audience, MAX_STOCK, PromoRefusal, Window, parse_count, parse_title};
use crate::error::FieldError;
use crate::org::parse_label;
use crate::time::Millis;

/// The largest team.
pub const MAX_TEAM_SIZE: i64 = 100;
/// The longest a team may stay open: 7 days.
pub const MAX_TIME_LIMIT_MINUTES: i64 = 7 * 24 * 60;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupBuySpec {
    pub name: String,
    pub sku: String,
    pub item_name: String,
    /// What each member pays.
    pub price_fen: i64,
    #[serde(default)]
    pub original_price_fen: i64,
    /// The leader pays `price_fen - leader_discount_fen` (团长优惠).
    #[serde(default)]
    pub leader_discount_fen: i64,
    pub team_size: i64,
    pub time_limit_minutes: i64,
    /// Units in total (one per member).
    pub stock: i64,
    /// When teams may be opened.
    pub window: Window,
    pub audience: Audience,
    /// The product image (`POST /api/v1/media`'s id), shown on the H5 page; `None`: text only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<i64>,
}

impl GroupBuySpec {
    pub fn parse(mut self) -> Result<Self, FieldError> {
        self.name = parse_title("name", &self.name)?;
        self.sku = parse_label("sku", &self.sku, 64)?;
        if self.sku.is_empty() {
            return Err(FieldError::new(
                "sku",
                "required",
                "the item's sku is required",
            ));
        }
        self.item_name = parse_title("item_name", &self.item_name)?;
        if self.price_fen < 1 || self.price_fen > super::coupons::MAX_FEN {
            return Err(FieldError::new(
                "price_fen",
                "amount_out_of_range",
                "price is fen, at least 1",
            ));
        }
        if self.original_price_fen < 0 || self.original_price_fen > super::coupons::MAX_FEN {
            return Err(FieldError::new(
                "original_price_fen",
                "amount_out_of_range",
                "price is fen, 0 or more",
            ));
        }
        if self.leader_discount_fen < 0 || self.leader_discount_fen >= self.price_fen {
            return Err(FieldError::new(
                "leader_discount_fen",
                "leader_discount_too_high",
                "the leader's discount must be below the price",
            ));
        }
        if self.team_size < 2 || self.team_size > MAX_TEAM_SIZE {
            return Err(FieldError::new(
                "team_size",
                "invalid_count",
                format!("a team has 2–{MAX_TEAM_SIZE} members"),
            ));
        }
        self.time_limit_minutes = parse_count(
            "time_limit_minutes",
            self.time_limit_minutes,
            MAX_TIME_LIMIT_MINUTES,
        )?;
        self.stock = parse_count("stock", self.stock, MAX_STOCK)?;
        Window::parse(self.window.starts_at, self.window.ends_at)?;
        self.audience.validate()?;
        Ok(self)
    }

    /// What a member pays.
    pub fn price_for(&self, leader: bool) -> i64 {
        if leader {
            self.price_fen - self.leader_discount_fen
        } else {
            self.price_fen
        }
    }
}

/// Where a team is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TeamState {
    Open,
    /// Full: every order confirmed.
    Filled,
    /// The deadline passed unfilled: every order cancelled and refunded.
    Expired,
}

impl TeamState {
    pub fn as_str(self) -> &'static str {
        match self {
            TeamState::Open => "open",
            TeamState::Filled => "filled",
            TeamState::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(TeamState::Open),
            "filled" => Some(TeamState::Filled),
            "expired" => Some(TeamState::Expired),
            _ => None,
        }
    }
}

/// A team as the rules see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Team {
    pub state: TeamState,
    pub members: i64,
    pub size: i64,
    pub deadline: Millis,
}

impl Team {
    /// May one more customer join now? (Whether they are already in is the store's check.)
    pub fn check_join(&self, now: Millis) -> Result<(), PromoRefusal> {
        match self.state {
            TeamState::Filled => Err(PromoRefusal::TeamFull),
            TeamState::Expired => Err(PromoRefusal::TeamExpired),
            TeamState::Open if now >= self.deadline => Err(PromoRefusal::TeamExpired),
            TeamState::Open if self.members >= self.size => Err(PromoRefusal::TeamFull),
            TeamState::Open => Ok(()),
        }
    }

    /// The state after a member joined.
    pub fn after_join(&self) -> TeamState {
        if self.members + 1 >= self.size {
            TeamState::Filled
        } else {
            TeamState::Open
        }
    }

    /// What the deadline timer does: `Some(Expired)` only for a team still open at its
    /// deadline. A filled or already expired team is left alone, so refunds happen once.
    pub fn on_deadline(&self, now: Millis) -> Option<TeamState> {
        (self.state == TeamState::Open && now >= self.deadline).then_some(TeamState::Expired)
    }

    /// "x more needed".
    pub fn missing(&self) -> i64 {
        if self.state == TeamState::Open {
            (self.size - self.members).max(0)
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn spec() -> GroupBuySpec {
        GroupBuySpec {
            name: "三人拼 阳光玫瑰".into(),
            sku: "GRAPE-1".into(),
            item_name: "阳光玫瑰 2 斤".into(),
            price_fen: 3990,
            original_price_fen: 5990,
            leader_discount_fen: 500,
            team_size: 3,
            time_limit_minutes: 60,
            stock: 300,
            window: Window {
                starts_at: Millis(1_767_225_600_000),
                ends_at: Millis(1_767_225_601_000),
            },
            audience: Audience::Everyone,
            image_id: None,
        }
    }

    #[test]
    fn parse_names_fields() {
        assert!(spec().parse().is_ok());
        let mut s = spec();
        s.team_size = 1;
        assert_eq!(s.parse().unwrap_err().field, "team_size");
        let mut s = spec();
        s.leader_discount_fen = 3990;
        assert_eq!(s.parse().unwrap_err().field, "leader_discount_fen");
        let mut s = spec();
        s.time_limit_minutes = 0;
        assert_eq!(s.parse().unwrap_err().field, "time_limit_minutes");
        assert_eq!(spec().price_for(true), 3490);
    }

    #[test]
    fn joins_are_refused_when_full_or_expired() {
        let t = Team {
            state: TeamState::Open,
            members: 2,
            size: 3,
            deadline: Millis(100),
        };
        assert_eq!(t.check_join(Millis(50)), Ok(()));
        assert_eq!(t.after_join(), TeamState::Filled);
        assert_eq!(t.missing(), 1);
        assert_eq!(t.check_join(Millis(100)), Err(PromoRefusal::TeamExpired));
        let full = Team {
            state: TeamState::Filled,
            members: 3,
            ..t
        };
        assert_eq!(full.check_join(Millis(50)), Err(PromoRefusal::TeamFull));
        assert_eq!(full.on_deadline(Millis(200)), None);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Join,
        Deadline(i64),
    }

    proptest! {
        /// Any interleaving of joins and (repeated) deadline timers: every member is refunded
        /// at most once, no member is both confirmed and refunded, and a team never has more
        /// members than its size.
        #[test]
        fn no_path_refunds_twice(
            size in 2i64..6,
            ops in proptest::collection::vec(
                prop_oneof![Just(Op::Join), (0i64..200).prop_map(Op::Deadline)], 0..40),
        ) {
            let deadline = Millis(100);
            let mut team = Team { state: TeamState::Open, members: 1, size, deadline };
            let mut refunds = vec![0u32; 1];
            let mut confirmed = vec![false; 1];
            let mut now = 0i64;
            for op in ops {
                match op {
                    Op::Join => {
                        if team.check_join(Millis(now)).is_ok() {
                            team.state = team.after_join();
                            team.members += 1;
                            refunds.push(0);
                            confirmed.push(false);
                            if team.state == TeamState::Filled {
                                confirmed.iter_mut().for_each(|c| *c = true);
                            }
                        }
                        now += 1;
                    }
                    Op::Deadline(t) => {
                        if let Some(next) = team.on_deadline(Millis(t)) {
                            team.state = next;
                            refunds.iter_mut().for_each(|r| *r += 1);
                        }
                    }
                }
                prop_assert!(team.members <= team.size);
            }
            for (r, c) in refunds.iter().zip(&confirmed) {
                prop_assert!(*r <= 1);
                prop_assert!(!(*r == 1 && *c));
            }
        }
    }
}
