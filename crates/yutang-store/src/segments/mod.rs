//! What the segment engine reads from the database: customers' segment facts (for building and
//! refreshing the bitmap index), saved segments, and the translation of a resolved expression
//! into SQL — the slow path the property tests compare the index against, and the fallback
//! for anyone who wants to run an expression in the database itself.
//!
//! Both sides read the same facts with the same meaning:
//!
//! | attribute | source | no value when |
//! |---|---|---|
//! | `city`, `level` | `customers.city`, `customers.member_level` | empty |
//! | `order_count`, `total_spent_fen` | customer aggregates | never |
//! | `first_order`, `last_order` | customer aggregates | no order |
//! | `birthday` (time), `birth_month` (1–12) | `customers.birthday` | no birthday |
//! | `orders_90d`, `orders_365d`, `spent_365d` | orders paid since now − window, not fully refunded; spend net of refunds | never |
//! | `in_group` | a joined member of a live WeCom customer group (`group_members`); for a customer with no WeCom group membership rows at all, the latest `join_group`/`leave_group` event is a join | (false) |
//! | `unused_coupons` | coupons in state `claimed` or `expired` (claimed, never used, not revoked) | never (0) |
//! | `channel`, `channel_type` | the first touch (`customer_acquisition`) joined to `channels`: its current `name` and `kind` | no first touch, or one with no channel (an unknown state) |
//! | `acquired_by` | the first touch's staff member: `staff.username` (unique, never changes) | no first touch, or no staff member credited |
//! | `acquired_at` | the first touch's `acquired_at` (the WeCom add that brought the customer into the pool) | no first touch (imported or created elsewhere, never added through WeCom) |
//! | `invited_by` | the customer's oldest referral binding that was not refused: its link's customer as `customer:{id}`, or its staff member's username | never invited through a referral link |
//! | `tier`, `tier_since` | the customer's current membership tier (`customer_tiers` joined to `tiers`): its `tier_key`, and `tier_since` | not in the tier program (no qualifying order yet) |
//! | `card_active`, `card_expires_at`, `card_savings_fen` | the paid member card (`card_periods` with status `active`): a period covering now; the latest `ends_at` not yet over; the covering period's `savings_fen` | (false); no period bought and not over; no period covering now |
//! | custom attributes | `customer_attributes`; dates at midnight Asia/Shanghai; numbers rounded half away from zero | not set |

mod facts;
mod saved;
mod sql;

pub use facts::*;
pub use saved::*;
pub use sql::*;

pub const DAY_MS: i64 = 86_400_000;
