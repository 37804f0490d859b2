//! Membership and loyalty rows (会员): the points ledger, tiers; cards, the mall and gifts
//! follow.

pub mod cards;
pub mod mall;
pub mod points;
pub mod stored_value;
pub mod tiers;
