//! Membership and loyalty rows (会员): the points ledger, tiers; cards, the mall and gifts
//! follow.

pub mod cards;
pub mod points;
pub mod tiers;
