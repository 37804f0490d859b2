//! Membership and loyalty rows: the points ledger, tiers, cards, the mall and gifts.

pub mod points;
