//! Membership and loyalty rows (会员): tiers, the points ledger.

pub mod tiers;
