//! Stored value (储值) and member gifts (会员礼): the rules of the stored-value ledger and of
//! the birthday and anniversary gifts.
//!
//! A stored-value balance is a ledger like points: every movement moves a positive amount of
//! fen from one account to another, so the books sum to zero. A customer's balance has two
//! portions — `principal` (money they paid) and `gift` (bonus from top-up gifts and member
//! gifts) — each never below zero. A spend takes the principal first and the gift last; a
//! refund of a spend gives back to the portions the spend took (in proportion when partial,
//! exact when whole); a refund of a top-up returns only unspent principal in cash and claws
//! back the gift that top-up brought, up to what is left of the gift portion.

use chrono::{Datelike, NaiveDate, TimeZone};
use chrono_tz::Asia::Shanghai;
use serde::{Deserialize, Serialize};

use crate::FieldError;

/// The most fen one movement may carry: 10^10 fen (100 million CNY).
pub const MAX_FEN: i64 = 10_000_000_000;
/// Longest name of a rule.
pub const MAX_NAME: usize = 60;

/// One side of a movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Account {
    /// The customer's balance (principal and gift portions).
    Customer,
    /// The brand's side: top-ups and gifts come out of it, refunds of top-ups go back.
    Issued,
    /// Stored value spent at checkout.
    Spent,
    /// Between two customers of a merge.
    Transfer,
}

impl Account {
    pub const ALL: [Account; 4] = [
        Account::Customer,
        Account::Issued,
        Account::Spent,
        Account::Transfer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Account::Customer => "customer",
            Account::Issued => "issued",
            Account::Spent => "spent",
            Account::Transfer => "transfer",
        }
    }
}

/// What a ledger entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Money paid in: issued → principal.
    TopUp,
    /// A bonus (top-up gift, birthday, anniversary): issued → gift.
    Gift,
    /// Paid at checkout: principal first, then gift → spent.
    Spend,
    /// A spend refunded (whole or part): spent → the portions the spend took.
    SpendRefund,
    /// A top-up refunded in cash: unspent principal and the clawed-back gift → issued.
    TopUpRefund,
    /// A merge: out of the merged-away customer, into the survivor.
    TransferOut,
    TransferIn,
}

impl EntryKind {
    pub const ALL: [EntryKind; 7] = [
        EntryKind::TopUp,
        EntryKind::Gift,
        EntryKind::Spend,
        EntryKind::SpendRefund,
        EntryKind::TopUpRefund,
        EntryKind::TransferOut,
        EntryKind::TransferIn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::TopUp => "top_up",
            EntryKind::Gift => "gift",
            EntryKind::Spend => "spend",
            EntryKind::SpendRefund => "spend_refund",
            EntryKind::TopUpRefund => "top_up_refund",
            EntryKind::TransferOut => "transfer_out",
            EntryKind::TransferIn => "transfer_in",
        }
    }

    /// `(debit, credit)`.
    pub fn accounts(self) -> (Account, Account) {
        match self {
            EntryKind::TopUp | EntryKind::Gift => (Account::Issued, Account::Customer),
            EntryKind::Spend => (Account::Customer, Account::Spent),
            EntryKind::SpendRefund => (Account::Spent, Account::Customer),
            EntryKind::TopUpRefund => (Account::Customer, Account::Issued),
            EntryKind::TransferOut => (Account::Customer, Account::Transfer),
            EntryKind::TransferIn => (Account::Transfer, Account::Customer),
        }
    }

    /// `+1` when the customer is credited, `-1` when debited.
    pub fn sign(self) -> i64 {
        if self.accounts().1 == Account::Customer {
            1
        } else {
            -1
        }
    }
}

/// The two portions of a balance (or of a movement), in fen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Portions {
    pub principal: i64,
    pub gift: i64,
}

impl Portions {
    pub fn total(self) -> i64 {
        self.principal + self.gift
    }

    pub fn is_zero(self) -> bool {
        self.principal == 0 && self.gift == 0
    }

    pub fn plus(self, o: Portions) -> Portions {
        Portions {
            principal: self.principal + o.principal,
            gift: self.gift + o.gift,
        }
    }

    pub fn minus(self, o: Portions) -> Portions {
        Portions {
            principal: self.principal - o.principal,
            gift: self.gift - o.gift,
        }
    }

    /// Both portions at least zero.
    pub fn is_valid(self) -> bool {
        self.principal >= 0 && self.gift >= 0
    }
}

/// A positive amount of fen, checked at the edge: 1..=[`MAX_FEN`].
pub fn parse_fen(field: &'static str, v: i64) -> Result<i64, FieldError> {
    if !(1..=MAX_FEN).contains(&v) {
        return Err(FieldError::new(
            field,
            "invalid_amount",
            format!("a whole number of fen from 1 to {MAX_FEN}"),
        ));
    }
    Ok(v)
}

/// An amount of fen that may be zero (a rule's gift): 0..=[`MAX_FEN`].
pub fn parse_fen_or_zero(field: &'static str, v: i64) -> Result<i64, FieldError> {
    if !(0..=MAX_FEN).contains(&v) {
        return Err(FieldError::new(
            field,
            "invalid_amount",
            format!("a whole number of fen from 0 to {MAX_FEN}"),
        ));
    }
    Ok(v)
}

/// What a spend of `amount` takes from `balance`: principal first, then gift. `None` when
/// the balance is short (nothing may be taken).
pub fn split_spend(balance: Portions, amount: i64) -> Option<Portions> {
    if amount <= 0 || amount > balance.total() {
        return None;
    }
    let principal = amount.min(balance.principal);
    Some(Portions {
        principal,
        gift: amount - principal,
    })
}

/// What a refund of `amount` of a spend gives back, when `refunded` was given back before:
/// the portions in the spend's proportion, computed on the running total so the refunds of
/// a whole spend give back exactly what it took (principal rounded down, gift the rest).
/// `None` when the refund goes beyond what is left of the spend.
pub fn refund_portions(spend: Portions, refunded: Portions, amount: i64) -> Option<Portions> {
    let total = spend.total();
    let after = refunded.total().checked_add(amount)?;
    if amount <= 0 || after > total || total == 0 {
        return None;
    }
    let principal_after = if after == total {
        spend.principal
    } else {
        i64::try_from(i128::from(after) * i128::from(spend.principal) / i128::from(total)).ok()?
    };
    let principal = principal_after - refunded.principal;
    let gift = amount - principal;
    let back = Portions { principal, gift };
    let all = refunded.plus(back);
    (back.is_valid() && all.principal <= spend.principal && all.gift <= spend.gift).then_some(back)
}

/// What refunding a top-up of `amount` that brought `gift` takes from `balance`: the unspent
/// principal (at most the top-up) is returned in cash, and the gift it brought is clawed back
/// up to what is left of the gift portion.
pub fn top_up_refund(amount: i64, gift: i64, balance: Portions) -> Portions {
    Portions {
        principal: amount.min(balance.principal).max(0),
        gift: gift.min(balance.gift).max(0),
    }
}

/// A top-up gift rule: topping up at least `min_top_up_fen` gives the rule's rewards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    pub id: i64,
    pub min_top_up_fen: i64,
}

/// The rule a top-up of `amount` gets: the one with the highest threshold not above it (the
/// lowest id among equal thresholds); `None` when no rule matches.
pub fn best_rule(rules: &[Threshold], amount: i64) -> Option<i64> {
    rules
        .iter()
        .filter(|r| r.min_top_up_fen <= amount)
        .max_by(|a, b| {
            a.min_top_up_fen
                .cmp(&b.min_top_up_fen)
                .then(b.id.cmp(&a.id))
        })
        .map(|r| r.id)
}

/// A gift rule's reward: at least one of a coupon template, points, a stored-value gift.
pub fn check_reward(
    coupon_template_id: Option<i64>,
    points: i64,
    gift_fen: i64,
) -> Result<(), FieldError> {
    if !(0..=crate::loyalty::points::MAX_POINTS).contains(&points) {
        return Err(FieldError::new(
            "points",
            "invalid_points",
            "points are a whole number from 0",
        ));
    }
    parse_fen_or_zero("gift_fen", gift_fen)?;
    if coupon_template_id.is_none() && points == 0 && gift_fen == 0 {
        return Err(FieldError::new(
            "gift_fen",
            "empty_reward",
            "a gift gives a coupon, points or stored value",
        ));
    }
    Ok(())
}

/// A rule's name: 1–60 characters, no control characters.
pub fn parse_name(s: &str) -> Result<String, FieldError> {
    let s = crate::org::parse_label("name", s, MAX_NAME)?;
    if s.is_empty() {
        return Err(FieldError::new("name", "required", "a rule needs a name"));
    }
    Ok(s)
}

/// The kind of a member gift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GiftKind {
    /// On the customer's birthday (`customers.birthday`).
    Birthday,
    /// On the anniversary of the day the customer joined the pool (`customers.created_at`,
    /// Asia/Shanghai date), from the first anniversary on.
    Anniversary,
}

impl GiftKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GiftKind::Birthday => "birthday",
            GiftKind::Anniversary => "anniversary",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "birthday" => Some(GiftKind::Birthday),
            "anniversary" => Some(GiftKind::Anniversary),
            _ => None,
        }
    }
}

/// When in the year a gift is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GiftMode {
    /// Any day of the month (the first daily run of the month gives it).
    Month,
    /// On the day itself (29 February is kept on 28 February in other years).
    Day,
}

impl GiftMode {
    pub fn as_str(self) -> &'static str {
        match self {
            GiftMode::Month => "month",
            GiftMode::Day => "day",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "month" => Some(GiftMode::Month),
            "day" => Some(GiftMode::Day),
            _ => None,
        }
    }
}

/// The Shanghai calendar date of an instant.
pub fn shanghai_date(ms: i64) -> Option<NaiveDate> {
    Shanghai
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.date_naive())
}

/// Whether a date's month and day, kept in `year`, match `today` under `mode`. 29 February
/// falls on 28 February in a year without it.
fn falls_on(month: u32, day: u32, today: NaiveDate, mode: GiftMode) -> bool {
    if month != today.month() {
        return false;
    }
    match mode {
        GiftMode::Month => true,
        GiftMode::Day => {
            let day = if month == 2
                && day == 29
                && NaiveDate::from_ymd_opt(today.year(), 2, 29).is_none()
            {
                28
            } else {
                day
            };
            day == today.day()
        }
    }
}

/// Whether a `YYYY-MM-DD` birthday is due `today` under `mode`.
pub fn birthday_due(birthday: &str, today: NaiveDate, mode: GiftMode) -> bool {
    let Ok(b) = NaiveDate::parse_from_str(birthday.trim(), "%Y-%m-%d") else {
        return false;
    };
    falls_on(b.month(), b.day(), today, mode)
}

/// Whether the anniversary of joining (`joined`, Shanghai date) is due `today` under `mode`:
/// from the first anniversary on (never in the year of joining).
pub fn anniversary_due(joined: NaiveDate, today: NaiveDate, mode: GiftMode) -> bool {
    today.year() > joined.year() && falls_on(joined.month(), joined.day(), today, mode)
}

/// The key a gift is granted under: once per customer per rule per Shanghai year.
pub fn grant_key(kind: GiftKind, customer: i64, year: i32, rule: i64) -> String {
    format!("{}:{customer}:{year}:{rule}", kind.as_str())
}

/// A model of one customer's stored-value books, for the property tests of the app and of
/// this module: applying the rules above to a sequence of operations.
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub balance: Portions,
    /// `issued + spent + customer` must be zero.
    pub issued: i64,
    pub spent: i64,
    /// (amount, gift, refunded) per top-up.
    pub top_ups: Vec<(i64, i64, bool)>,
    /// (took, refunded) per spend.
    pub spends: Vec<(Portions, Portions)>,
}

impl Model {
    fn post(&mut self, kind: EntryKind, p: Portions) {
        let sign = kind.sign();
        self.balance = if sign > 0 {
            self.balance.plus(p)
        } else {
            self.balance.minus(p)
        };
        let (debit, credit) = kind.accounts();
        for (acc, s) in [(debit, -1), (credit, 1)] {
            match acc {
                Account::Issued => self.issued += s * p.total(),
                Account::Spent => self.spent += s * p.total(),
                Account::Customer | Account::Transfer => {}
            }
        }
    }

    pub fn top_up(&mut self, amount: i64, gift: i64) {
        self.post(
            EntryKind::TopUp,
            Portions {
                principal: amount,
                gift: 0,
            },
        );
        if gift > 0 {
            self.post(EntryKind::Gift, Portions { principal: 0, gift });
        }
        self.top_ups.push((amount, gift, false));
    }

    /// `false`: refused (the balance is short), nothing changed.
    pub fn spend(&mut self, amount: i64) -> bool {
        let Some(took) = split_spend(self.balance, amount) else {
            return false;
        };
        self.post(EntryKind::Spend, took);
        self.spends.push((took, Portions::default()));
        true
    }

    pub fn refund_spend(&mut self, i: usize, amount: i64) -> bool {
        let Some((took, refunded)) = self.spends.get(i).copied() else {
            return false;
        };
        let Some(back) = refund_portions(took, refunded, amount) else {
            return false;
        };
        self.post(EntryKind::SpendRefund, back);
        self.spends[i].1 = refunded.plus(back);
        true
    }

    pub fn refund_top_up(&mut self, i: usize) -> bool {
        let Some((amount, gift, done)) = self.top_ups.get(i).copied() else {
            return false;
        };
        if done {
            return false;
        }
        let back = top_up_refund(amount, gift, self.balance);
        if !back.is_zero() {
            self.post(EntryKind::TopUpRefund, back);
        }
        self.top_ups[i].2 = true;
        true
    }

    pub fn books_balance(&self) -> bool {
        self.issued + self.spent + self.balance.total() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(principal: i64, gift: i64) -> Portions {
        Portions { principal, gift }
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn every_kind_moves_between_two_different_accounts() {
        for k in EntryKind::ALL {
            let (a, b) = k.accounts();
            assert_ne!(a, b, "{k:?}");
            assert!(a == Account::Customer || b == Account::Customer, "{k:?}");
        }
        for a in Account::ALL {
            assert!(!a.as_str().is_empty());
        }
    }

    #[test]
    fn a_spend_takes_principal_first_and_gift_last() {
        assert_eq!(split_spend(p(100, 50), 80), Some(p(80, 0)));
        assert_eq!(split_spend(p(100, 50), 120), Some(p(100, 20)));
        assert_eq!(split_spend(p(100, 50), 150), Some(p(100, 50)));
        assert_eq!(split_spend(p(100, 50), 151), None);
        assert_eq!(split_spend(p(0, 50), 30), Some(p(0, 30)));
        assert_eq!(split_spend(p(100, 50), 0), None);
    }

    #[test]
    fn refunds_give_back_what_the_spend_took() {
        let took = p(100, 20);
        assert_eq!(refund_portions(took, p(0, 0), 120), Some(p(100, 20)));
        // Part by part, in proportion, and exact at the end.
        let a = refund_portions(took, p(0, 0), 60).unwrap();
        assert_eq!(a, p(50, 10));
        let b = refund_portions(took, a, 59).unwrap();
        let c = refund_portions(took, a.plus(b), 1).unwrap();
        assert_eq!(a.plus(b).plus(c), took);
        assert_eq!(refund_portions(took, took, 1), None);
        assert_eq!(refund_portions(took, p(0, 0), 121), None);
        assert_eq!(refund_portions(took, p(0, 0), 0), None);
    }

    #[test]
    fn a_top_up_refund_returns_unspent_principal_and_claws_back_its_gift() {
        // Top-up 1000 with 100 gift, nothing spent.
        assert_eq!(top_up_refund(1000, 100, p(1000, 100)), p(1000, 100));
        // 300 spent: only 700 principal comes back; the gift is still there: clawed back.
        assert_eq!(top_up_refund(1000, 100, p(700, 100)), p(700, 100));
        // Everything and part of the gift spent: what is left of the gift.
        assert_eq!(top_up_refund(1000, 100, p(0, 40)), p(0, 40));
        // Another top-up's principal is not this one's to return.
        assert_eq!(top_up_refund(1000, 100, p(5000, 300)), p(1000, 100));
    }

    #[test]
    fn the_best_rule_is_the_highest_threshold_reached() {
        let rules = [
            Threshold {
                id: 1,
                min_top_up_fen: 10_000,
            },
            Threshold {
                id: 2,
                min_top_up_fen: 50_000,
            },
            Threshold {
                id: 3,
                min_top_up_fen: 50_000,
            },
        ];
        assert_eq!(best_rule(&rules, 9_999), None);
        assert_eq!(best_rule(&rules, 10_000), Some(1));
        assert_eq!(best_rule(&rules, 60_000), Some(2));
    }

    #[test]
    fn birthdays_and_anniversaries_fall_on_their_day_or_month() {
        let today = d(2026, 12, 5);
        assert!(birthday_due("1990-12-01", today, GiftMode::Month));
        assert!(!birthday_due("1990-12-01", today, GiftMode::Day));
        assert!(birthday_due("1990-12-05", today, GiftMode::Day));
        assert!(!birthday_due("1990-11-05", today, GiftMode::Month));
        assert!(!birthday_due("not a date", today, GiftMode::Month));
        // 29 February on 28 February in a common year, and on the 29th in a leap year.
        assert!(birthday_due("2000-02-29", d(2027, 2, 28), GiftMode::Day));
        assert!(birthday_due("2000-02-29", d(2028, 2, 29), GiftMode::Day));
        assert!(!birthday_due("2000-02-29", d(2028, 2, 28), GiftMode::Day));
        assert!(anniversary_due(d(2024, 12, 5), today, GiftMode::Day));
        assert!(anniversary_due(d(2025, 12, 20), today, GiftMode::Month));
        assert!(!anniversary_due(d(2026, 12, 5), today, GiftMode::Day));
        assert_eq!(
            grant_key(GiftKind::Birthday, 7, 2026, 3),
            "birthday:7:2026:3"
        );
    }

    #[test]
    fn a_reward_gives_something_and_amounts_are_checked() {
        assert_eq!(check_reward(None, 0, 0).unwrap_err().code, "empty_reward");
        assert!(check_reward(Some(1), 0, 0).is_ok());
        assert_eq!(check_reward(None, -1, 0).unwrap_err().field, "points");
        assert_eq!(check_reward(None, 0, -1).unwrap_err().field, "gift_fen");
        assert_eq!(
            parse_fen("amount_fen", 0).unwrap_err().code,
            "invalid_amount"
        );
        assert!(parse_fen("amount_fen", MAX_FEN).is_ok());
        assert!(parse_fen("amount_fen", MAX_FEN + 1).is_err());
        assert_eq!(parse_name(" ").unwrap_err().code, "required");
    }

    #[derive(Debug, Clone)]
    enum Op {
        TopUp(i64, i64),
        Spend(i64),
        RefundSpend(usize, i64),
        RefundTopUp(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (1i64..10_000, 0i64..2_000).prop_map(|(a, g)| Op::TopUp(a, g)),
            (1i64..15_000).prop_map(Op::Spend),
            (0usize..6, 1i64..8_000).prop_map(|(i, a)| Op::RefundSpend(i, a)),
            (0usize..6).prop_map(Op::RefundTopUp),
        ]
    }

    proptest! {
        /// Any sequence keeps the books at zero and no portion negative; a refused operation
        /// (or a replay, which the app refuses by key) changes nothing; the spends' refunds
        /// never give back more of a portion than the spend took.
        #[test]
        fn any_sequence_keeps_the_books_at_zero(ops in proptest::collection::vec(op(), 1..60)) {
            let mut m = Model::default();
            for o in ops {
                let before = m.clone();
                let applied = match o {
                    Op::TopUp(a, g) => { m.top_up(a, g); true }
                    Op::Spend(a) => m.spend(a),
                    Op::RefundSpend(i, a) => m.refund_spend(i, a),
                    Op::RefundTopUp(i) => m.refund_top_up(i),
                };
                if !applied {
                    prop_assert_eq!(m.balance, before.balance);
                    prop_assert_eq!(m.issued, before.issued);
                }
                prop_assert!(m.balance.is_valid(), "{:?}", m.balance);
                prop_assert!(m.books_balance());
                for (took, refunded) in &m.spends {
                    prop_assert!(refunded.principal <= took.principal);
                    prop_assert!(refunded.gift <= took.gift);
                    prop_assert!(refunded.is_valid());
                }
                // A second refund of the same top-up is refused.
                if let Op::RefundTopUp(i) = o && applied {
                    let again = m.clone();
                    prop_assert!(!m.refund_top_up(i));
                    prop_assert_eq!(m.balance, again.balance);
                }
            }
        }

        #[test]
        fn partial_refunds_add_up_to_the_spend(principal in 0i64..10_000, gift in 0i64..10_000,
                                              cuts in proptest::collection::vec(1i64..5_000, 1..10)) {
            let took = Portions { principal, gift };
            prop_assume!(took.total() > 0);
            let mut refunded = Portions::default();
            for c in cuts {
                let left = took.total() - refunded.total();
                if left == 0 { break; }
                let back = refund_portions(took, refunded, c.min(left)).unwrap();
                prop_assert!(back.is_valid());
                refunded = refunded.plus(back);
            }
            let left = took.total() - refunded.total();
            if left > 0 {
                refunded = refunded.plus(refund_portions(took, refunded, left).unwrap());
            }
            prop_assert_eq!(refunded, took);
        }
    }
}
