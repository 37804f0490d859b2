//! Membership and loyalty (会员): the points ledger, tiers, paid member cards, the points mall
//! and gifts. Everything here is a pure rule; the store keeps the rows and the app posts the
//! entries inside the transaction of what caused them.

pub mod cards;
pub mod mall;
pub mod points;
pub mod stored_value;
pub mod tiers;

pub use points::{Account, EntryKind, Expiry, OpenLot, Points, PointsSettings};
