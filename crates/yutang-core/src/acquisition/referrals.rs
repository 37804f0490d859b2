//! Invite-a-friend (老带新): a referral program hands each inviter — a customer or a guide — a
//! personal link. The friend who follows it is bound to the inviter (through the WeCom add the
//! link's state carries, or by opening the page signed in); when the friend qualifies (a first
//! order that stays unrefunded for the hold, or an add that is not deleted within it), both
//! sides are rewarded, once.
//!
//! Everything here is a pure rule: the program's settings, the referral state a link carries
//! into WeCom, and the fraud rules that refuse a binding or withhold a reward.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::promotions::parse_title;

/// A referral link's state in WeCom starts with this (live codes' own states never do: they
/// are checked against it when a code is saved).
pub const STATE_PREFIX: &str = "rf-";
/// Characters of a link code: lowercase letters and digits without the look-alikes
/// (0/o, 1/l/i), so a code read aloud or retyped from a poster survives.
pub const CODE_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// Length of a link code: 31^12 ≈ 8·10^17, never guessed.
pub const CODE_LEN: usize = 12;
/// Longest hold before a qualification counts.
pub const MAX_HOLD_DAYS: i64 = 30;
/// Most rewards an inviter may be given per day, at most.
pub const MAX_DAILY_CAP: i64 = 1000;
/// Longest description shown on the invite page.
pub const MAX_DESCRIPTION: usize = 200;
/// Highest least order amount a rule may ask for: 1,000,000 CNY.
pub const MAX_MIN_ORDER_FEN: i64 = 100_000_000;
const DAY_MS: i64 = 86_400_000;

/// What the invited friend must do for both sides to be rewarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QualificationKind {
    /// A first paid order of at least `min_order_fen` after the binding, not refunded
    /// (in any part) before the hold ends.
    FirstOrder,
    /// Adding a guide after the binding, still a contact when the hold ends.
    Added,
}

impl QualificationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            QualificationKind::FirstOrder => "first_order",
            QualificationKind::Added => "added",
        }
    }
}

/// The qualification rule of a program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Qualification {
    pub kind: QualificationKind,
    /// `first_order` only: the least paid amount that counts (fen).
    #[serde(default)]
    pub min_order_fen: i64,
    /// Days the qualifying order (or add) must hold before the rewards go out: 0–30.
    #[serde(default = "default_hold")]
    pub hold_days: i64,
}

fn default_hold() -> i64 {
    7
}

fn default_cap() -> i64 {
    20
}

impl Qualification {
    /// When a qualifying event at `at` (epoch ms) has held long enough.
    pub fn qualifies_at(&self, at: i64) -> i64 {
        at.saturating_add(self.hold_days.saturating_mul(DAY_MS))
    }

    /// Whether an order of `paid_fen` can qualify.
    pub fn order_counts(&self, paid_fen: i64) -> bool {
        self.kind == QualificationKind::FirstOrder && paid_fen >= self.min_order_fen
    }
}

/// A referral program as an operator defines it. `parse` checks every field; the app checks
/// the ids it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralSpec {
    pub name: String,
    /// The live code a friend adds through (its channel gets the add, its guides the friend).
    pub live_code_id: i64,
    /// Shown on the invite page.
    #[serde(default)]
    pub description: String,
    /// First and last day a friend can be bound (Asia/Shanghai dates, inclusive). A friend
    /// bound in time still qualifies later.
    #[serde(default)]
    pub starts_on: Option<NaiveDate>,
    #[serde(default)]
    pub ends_on: Option<NaiveDate>,
    /// Required: a program without a rule would reward anyone who clicks.
    #[serde(default)]
    pub qualification: Option<Qualification>,
    /// The coupon the friend gets on qualifying.
    #[serde(default)]
    pub invitee_reward_template_id: Option<i64>,
    /// The coupon the inviting customer gets on qualifying (guides are credited, not given
    /// coupons).
    #[serde(default)]
    pub inviter_reward_template_id: Option<i64>,
    /// Most inviter rewards per inviter per day (Shanghai); beyond it the reward is withheld
    /// and recorded.
    #[serde(default = "default_cap")]
    pub inviter_daily_cap: i64,
}

impl ReferralSpec {
    pub fn parse(mut self) -> Result<Self, FieldError> {
        self.name = parse_title("name", &self.name)?;
        self.description =
            crate::org::parse_label("description", &self.description, MAX_DESCRIPTION)?;
        for (field, id) in [
            ("live_code_id", Some(self.live_code_id)),
            (
                "invitee_reward_template_id",
                self.invitee_reward_template_id,
            ),
            (
                "inviter_reward_template_id",
                self.inviter_reward_template_id,
            ),
        ] {
            if id.is_some_and(|v| v < 1) {
                return Err(FieldError::new(
                    field,
                    "invalid_id",
                    "must be a positive id",
                ));
            }
        }
        if let (Some(a), Some(b)) = (self.starts_on, self.ends_on)
            && b < a
        {
            return Err(FieldError::new(
                "ends_on",
                "invalid_window",
                "the last day is before the first day",
            ));
        }
        let Some(q) = self.qualification else {
            return Err(FieldError::new(
                "qualification",
                "required",
                "a program needs a qualification rule (first_order or added)",
            ));
        };
        if !(0..=MAX_HOLD_DAYS).contains(&q.hold_days) {
            return Err(FieldError::new(
                "qualification.hold_days",
                "invalid_count",
                format!("must be between 0 and {MAX_HOLD_DAYS}"),
            ));
        }
        if !(0..=MAX_MIN_ORDER_FEN).contains(&q.min_order_fen) {
            return Err(FieldError::new(
                "qualification.min_order_fen",
                "invalid_amount",
                "must be between 0 and 100000000 fen",
            ));
        }
        if q.kind == QualificationKind::Added && q.min_order_fen != 0 {
            return Err(FieldError::new(
                "qualification.min_order_fen",
                "invalid_amount",
                "only a first_order rule has a least amount",
            ));
        }
        if self.inviter_daily_cap < 1 || self.inviter_daily_cap > MAX_DAILY_CAP {
            return Err(FieldError::new(
                "inviter_daily_cap",
                "invalid_count",
                format!("must be between 1 and {MAX_DAILY_CAP}"),
            ));
        }
        Ok(self)
    }

    /// The parsed rule (always there after [`ReferralSpec::parse`]).
    pub fn rule(&self) -> Qualification {
        self.qualification.unwrap_or(Qualification {
            kind: QualificationKind::FirstOrder,
            min_order_fen: 0,
            hold_days: default_hold(),
        })
    }

    /// Whether a friend can be bound on `day` (a Shanghai date).
    pub fn runs_on(&self, day: NaiveDate) -> bool {
        self.starts_on.is_none_or(|s| s <= day) && self.ends_on.is_none_or(|e| day <= e)
    }
}

/// The state a link carries into WeCom (≤ 30 characters).
pub fn link_state(code: &str) -> String {
    format!("{STATE_PREFIX}{code}")
}

/// The link code in a WeCom state, when the state is a referral link's.
pub fn code_of_state(state: &str) -> Option<&str> {
    state.strip_prefix(STATE_PREFIX).filter(|c| is_link_code(c))
}

/// Whether `s` has the shape of a link code (a path segment or a state is checked before any
/// lookup).
pub fn is_link_code(s: &str) -> bool {
    s.len() == CODE_LEN && s.bytes().all(|b| CODE_ALPHABET.contains(&b))
}

/// A link code from `CODE_LEN` random bytes (the app supplies them).
pub fn link_code(random: &[u8; CODE_LEN]) -> String {
    random
        .iter()
        .map(|b| char::from(CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()]))
        .collect()
}

/// Why a friend was not bound, or a bound friend not rewarded. Each is recorded with the
/// attempt, so an operator sees the fraud the rules stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// The inviter followed their own link (same customer, or one sharing a phone or unionid).
    SelfInvite,
    /// The friend was already in the pool (a WeCom contact, an earlier add, or an order)
    /// before the invitation.
    AlreadyInPool,
    /// The friend was already bound in this program (to this or another inviter).
    AlreadyInvited,
    /// The friend's phone or unionid is behind another invited friend.
    IdentityReused,
    /// The link was followed outside the program's days, or the program is archived.
    ProgramNotRunning,
    /// The qualifying order was refunded before the hold ended.
    OrderRefunded,
    /// The friend deleted the guide before the hold ended.
    ContactDeleted,
    /// The inviter had their daily number of rewards already (inviter's reward only).
    InviterDailyCap,
}

impl Refusal {
    pub const ALL: [Refusal; 8] = [
        Refusal::SelfInvite,
        Refusal::AlreadyInPool,
        Refusal::AlreadyInvited,
        Refusal::IdentityReused,
        Refusal::ProgramNotRunning,
        Refusal::OrderRefunded,
        Refusal::ContactDeleted,
        Refusal::InviterDailyCap,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::SelfInvite => "self_invite",
            Refusal::AlreadyInPool => "already_in_pool",
            Refusal::AlreadyInvited => "already_invited",
            Refusal::IdentityReused => "identity_reused",
            Refusal::ProgramNotRunning => "program_not_running",
            Refusal::OrderRefunded => "order_refunded",
            Refusal::ContactDeleted => "contact_deleted",
            Refusal::InviterDailyCap => "inviter_daily_cap",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// What the app knows when a friend follows a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindingFacts {
    /// The program runs today and is not archived.
    pub program_running: bool,
    /// The friend is the inviting customer, or shares a phone or unionid with them.
    pub same_person: bool,
    /// The friend already has a binding in this program.
    pub already_bound: bool,
    /// The friend was in the pool before following the link.
    pub in_pool_before: bool,
    /// Another bound friend (any program) has one of the friend's phone or unionid.
    pub identity_taken: bool,
}

/// Whether the friend is bound, or why not. The order is the one an operator reads the
/// refusals in: a stopped program first, then the inviter's own identity, then the friend's.
pub fn judge_binding(f: &BindingFacts) -> Result<(), Refusal> {
    if !f.program_running {
        Err(Refusal::ProgramNotRunning)
    } else if f.same_person {
        Err(Refusal::SelfInvite)
    } else if f.already_bound {
        Err(Refusal::AlreadyInvited)
    } else if f.in_pool_before {
        Err(Refusal::AlreadyInPool)
    } else if f.identity_taken {
        Err(Refusal::IdentityReused)
    } else {
        Ok(())
    }
}

/// Whether the inviter may be given one more reward today.
pub fn inviter_reward_allowed(rewarded_today: i64, cap: i64) -> bool {
    rewarded_today < cap
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn spec() -> ReferralSpec {
        ReferralSpec {
            name: " 邀好友得50元 ".into(),
            live_code_id: 3,
            description: String::new(),
            starts_on: None,
            ends_on: None,
            qualification: Some(Qualification {
                kind: QualificationKind::FirstOrder,
                min_order_fen: 5_000,
                hold_days: 7,
            }),
            invitee_reward_template_id: Some(1),
            inviter_reward_template_id: Some(2),
            inviter_daily_cap: 20,
        }
    }

    #[test]
    fn parses_and_refuses() {
        assert_eq!(spec().parse().unwrap().name, "邀好友得50元");
        let mut s = spec();
        s.qualification = None;
        assert_eq!(s.parse().unwrap_err().field, "qualification");
        let mut s = spec();
        s.inviter_daily_cap = 0;
        assert_eq!(s.parse().unwrap_err().field, "inviter_daily_cap");
        let mut s = spec();
        s.qualification = Some(Qualification {
            kind: QualificationKind::FirstOrder,
            min_order_fen: 0,
            hold_days: 31,
        });
        assert_eq!(s.parse().unwrap_err().field, "qualification.hold_days");
        let mut s = spec();
        s.qualification = Some(Qualification {
            kind: QualificationKind::Added,
            min_order_fen: 100,
            hold_days: 0,
        });
        assert_eq!(s.parse().unwrap_err().field, "qualification.min_order_fen");
        let mut s = spec();
        s.live_code_id = 0;
        assert_eq!(s.parse().unwrap_err().field, "live_code_id");
        let mut s = spec();
        s.description = "a\u{7}b".into();
        assert_eq!(s.parse().unwrap_err().field, "description");
    }

    #[test]
    fn rules_hold_and_count() {
        let q = spec().rule();
        assert_eq!(q.qualifies_at(1_000), 1_000 + 7 * DAY_MS);
        assert!(q.order_counts(5_000));
        assert!(!q.order_counts(4_999));
        assert!(inviter_reward_allowed(19, 20));
        assert!(!inviter_reward_allowed(20, 20));
    }

    #[test]
    fn states_round_trip() {
        let code = link_code(&[7; CODE_LEN]);
        let state = link_state(&code);
        assert!(state.len() <= 30);
        assert_eq!(code_of_state(&state), Some(code.as_str()));
        assert_eq!(code_of_state("rf-short"), None);
        assert_eq!(code_of_state("store-7"), None);
    }

    #[test]
    fn refusals_have_distinct_codes() {
        for r in Refusal::ALL {
            assert_eq!(Refusal::parse(r.as_str()), Some(r));
        }
    }

    proptest! {
        /// Any random bytes make a code that fits WeCom's 30-character state and reads back.
        #[test]
        fn codes_fit_the_state(bytes in proptest::array::uniform12(any::<u8>())) {
            let code = link_code(&bytes);
            prop_assert!(is_link_code(&code));
            let state = link_state(&code);
            prop_assert!(state.chars().count() <= 30);
            prop_assert_eq!(code_of_state(&state), Some(code.as_str()));
        }

        /// The judge is total, binds only when nothing is wrong, and a self-invite is never
        /// bound whatever else holds.
        #[test]
        fn judging_is_total(running: bool, same: bool, bound: bool, pool: bool, taken: bool) {
            let f = BindingFacts {
                program_running: running,
                same_person: same,
                already_bound: bound,
                in_pool_before: pool,
                identity_taken: taken,
            };
            let verdict = judge_binding(&f);
            prop_assert_eq!(verdict.is_ok(), running && !same && !bound && !pool && !taken);
            if same {
                prop_assert!(verdict.is_err());
            }
        }
    }
}
