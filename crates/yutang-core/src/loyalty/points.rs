//! The points ledger's rules (积分): how many points an order earns, when a lot expires, how
//! much a refund takes back, which lots a debit takes, and what points are worth at checkout.
//!
//! The ledger is double entry: every movement moves a positive amount from one [`Account`] to
//! another, so the sum over all accounts is zero by construction, and a customer's balance is
//! the sum of their credits minus their debits. Everything here is pure; the store keeps the
//! rows and the app posts entries inside the transaction of what caused them (an order, a
//! refund, a redemption), so a replay of the cause replays nothing.

use chrono::{Datelike, NaiveDate, TimeZone};
use chrono_tz::Asia::Shanghai;
use serde::{Deserialize, Serialize};

use crate::FieldError;

/// The most points one movement may carry: 10^12 (far beyond any brand's books, far below
/// i64 overflow when summed).
pub const MAX_POINTS: i64 = 1_000_000_000_000;
/// The most points per CNY an order may earn before multipliers.
pub const MAX_EARN_PER_YUAN: i64 = 1000;
/// The most points that make one CNY at checkout.
pub const MAX_REDEEM_PER_YUAN: i64 = 100_000;
/// The longest lifetime of a lot under the `days` rule: ten years.
pub const MAX_EXPIRY_DAYS: i64 = 3650;
/// A multiplier is given in thousandths (1000 = ×1, 2000 = ×2, 1500 = ×1.5).
pub const PERMILLE: i64 = 1000;
/// The largest multiplier: ×20.
pub const MAX_MULTIPLIER_PERMILLE: i64 = 20_000;
/// The largest combined multiplier (a tier's times a card's): ×100.
pub const MAX_COMBINED_PERMILLE: i64 = 100_000;
/// Longest reason of a manual grant or deduction.
pub const MAX_REASON: usize = 200;
const DAY_MS: i64 = 86_400_000;

/// One side of a movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Account {
    /// The customer's own points (the only account that must never go negative).
    Customer,
    /// The brand's liability: earnings and grants come out of it, reversals go back.
    Issued,
    /// Points spent at checkout or in the mall.
    Redeemed,
    /// Points whose lot ran out of time.
    Expired,
    /// Points between two customers of a merge (out of one, into the other).
    Transfer,
}

impl Account {
    pub const ALL: [Account; 5] = [
        Account::Customer,
        Account::Issued,
        Account::Redeemed,
        Account::Expired,
        Account::Transfer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Account::Customer => "customer",
            Account::Issued => "issued",
            Account::Redeemed => "redeemed",
            Account::Expired => "expired",
            Account::Transfer => "transfer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// What a movement is. Its accounts follow from it, so no caller can post an entry that
/// debits the wrong side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Points for an order (or a check-in, a referral, a task): issued → customer, a new lot.
    Earn,
    /// A manual grant with a reason: issued → customer, a new lot.
    Grant,
    /// A refund takes back an order's points: customer → issued.
    Reverse,
    /// Points a reversal could not take, paid from a later credit: customer → issued.
    Settle,
    /// A manual deduction with a reason: customer → issued.
    Deduct,
    /// Spent at checkout or in the mall: customer → redeemed.
    Redeem,
    /// A cancelled redemption gives its points back to the lots they came from:
    /// redeemed → customer.
    Cancel,
    /// A lot ran out of time: customer → expired.
    Expire,
    /// A merged-away customer's points leave them: customer → transfer.
    TransferOut,
    /// … and arrive at the survivor, keeping each lot's expiry: transfer → customer.
    TransferIn,
}

impl EntryKind {
    pub const ALL: [EntryKind; 10] = [
        EntryKind::Earn,
        EntryKind::Grant,
        EntryKind::Reverse,
        EntryKind::Settle,
        EntryKind::Deduct,
        EntryKind::Redeem,
        EntryKind::Cancel,
        EntryKind::Expire,
        EntryKind::TransferOut,
        EntryKind::TransferIn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Earn => "earn",
            EntryKind::Grant => "grant",
            EntryKind::Reverse => "reverse",
            EntryKind::Settle => "settle",
            EntryKind::Deduct => "deduct",
            EntryKind::Redeem => "redeem",
            EntryKind::Cancel => "cancel",
            EntryKind::Expire => "expire",
            EntryKind::TransferOut => "transfer_out",
            EntryKind::TransferIn => "transfer_in",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The account debited and the account credited.
    pub fn accounts(self) -> (Account, Account) {
        use Account::*;
        match self {
            EntryKind::Earn | EntryKind::Grant => (Issued, Customer),
            EntryKind::Reverse | EntryKind::Settle | EntryKind::Deduct => (Customer, Issued),
            EntryKind::Redeem => (Customer, Redeemed),
            EntryKind::Cancel => (Redeemed, Customer),
            EntryKind::Expire => (Customer, Expired),
            EntryKind::TransferOut => (Customer, Transfer),
            EntryKind::TransferIn => (Transfer, Customer),
        }
    }

    /// Whether the customer's balance goes up.
    pub fn credits_customer(self) -> bool {
        self.accounts().1 == Account::Customer
    }

    /// Whether a credit of this kind opens a new lot (the others restore old lots).
    pub fn opens_lot(self) -> bool {
        matches!(self, EntryKind::Earn | EntryKind::Grant)
    }
}

/// A positive number of points, checked at the edge: 1..=[`MAX_POINTS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Points(i64);

impl Points {
    pub fn parse(field: &'static str, v: i64) -> Result<Self, FieldError> {
        if v < 1 {
            return Err(FieldError::new(
                field,
                "invalid_points",
                "points are a whole number of at least 1",
            ));
        }
        if v > MAX_POINTS {
            return Err(FieldError::new(
                field,
                "invalid_points",
                format!("at most {MAX_POINTS} points at a time"),
            ));
        }
        Ok(Self(v))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// When a lot expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "rule")]
pub enum Expiry {
    /// At the end of the year after the one it was earned in (Asia/Shanghai): points earned
    /// any day of 2026 expire at 2027-12-31 24:00 Shanghai. The common rule in China's
    /// retail programmes, and one reminder date a year instead of one a day.
    EndOfNextYear,
    /// A fixed number of days after it was earned.
    Days { days: i64 },
    /// Never.
    Never,
}

impl Expiry {
    pub fn as_str(self) -> &'static str {
        match self {
            Expiry::EndOfNextYear => "end_of_next_year",
            Expiry::Days { .. } => "days",
            Expiry::Never => "never",
        }
    }

    /// Read a stored rule (`days` is the stored day count, used by `days` only).
    pub fn from_stored(rule: &str, days: i64) -> Option<Self> {
        match rule {
            "end_of_next_year" => Some(Expiry::EndOfNextYear),
            "days" => Some(Expiry::Days { days }),
            "never" => Some(Expiry::Never),
            _ => None,
        }
    }

    /// When a lot earned at `at` (epoch ms) expires; `None`: never.
    pub fn expires_at(self, at: i64) -> Option<i64> {
        match self {
            Expiry::Never => None,
            Expiry::Days { days } => Some(at.saturating_add(days.saturating_mul(DAY_MS))),
            Expiry::EndOfNextYear => {
                let local = Shanghai.timestamp_millis_opt(at).single()?;
                let first = NaiveDate::from_ymd_opt(local.year() + 2, 1, 1)?;
                let start = Shanghai
                    .from_local_datetime(&first.and_hms_opt(0, 0, 0)?)
                    .single()?;
                Some(start.timestamp_millis())
            }
        }
    }
}

/// The brand's points rules, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PointsSettings {
    /// Points per 1 CNY paid, before multipliers (0: orders earn nothing).
    pub earn_points_per_yuan: i64,
    /// Points that make 1 CNY at checkout.
    pub redeem_points_per_yuan: i64,
    pub expiry: Expiry,
    /// The most of an order points may pay, in percent.
    pub max_redeem_percent: i64,
}

impl Default for PointsSettings {
    /// 1 point per CNY, 100 points = 1 CNY, lots expire at the end of the following year,
    /// points may pay a whole order.
    fn default() -> Self {
        Self {
            earn_points_per_yuan: 1,
            redeem_points_per_yuan: 100,
            expiry: Expiry::EndOfNextYear,
            max_redeem_percent: 100,
        }
    }
}

impl PointsSettings {
    /// Check every field, naming the first that is wrong.
    pub fn parse(
        earn_points_per_yuan: i64,
        redeem_points_per_yuan: i64,
        expiry: Expiry,
        max_redeem_percent: i64,
    ) -> Result<Self, FieldError> {
        if !(0..=MAX_EARN_PER_YUAN).contains(&earn_points_per_yuan) {
            return Err(FieldError::new(
                "earn_points_per_yuan",
                "invalid_count",
                format!("earn_points_per_yuan is 0–{MAX_EARN_PER_YUAN}"),
            ));
        }
        if !(1..=MAX_REDEEM_PER_YUAN).contains(&redeem_points_per_yuan) {
            return Err(FieldError::new(
                "redeem_points_per_yuan",
                "invalid_count",
                format!("redeem_points_per_yuan is 1–{MAX_REDEEM_PER_YUAN}"),
            ));
        }
        if let Expiry::Days { days } = expiry
            && !(1..=MAX_EXPIRY_DAYS).contains(&days)
        {
            return Err(FieldError::new(
                "expiry.days",
                "invalid_count",
                format!("a lot lives 1–{MAX_EXPIRY_DAYS} days"),
            ));
        }
        if !(1..=100).contains(&max_redeem_percent) {
            return Err(FieldError::new(
                "max_redeem_percent",
                "invalid_count",
                "max_redeem_percent is 1–100",
            ));
        }
        Ok(Self {
            earn_points_per_yuan,
            redeem_points_per_yuan,
            expiry,
            max_redeem_percent,
        })
    }

    /// Points an order paying `paid_fen` earns at `multiplier_permille` (rounded down: a
    /// customer never gets a point they did not pay for in full).
    pub fn earned_for(&self, paid_fen: i64, multiplier_permille: i64) -> i64 {
        if paid_fen <= 0 || multiplier_permille <= 0 {
            return 0;
        }
        let v = i128::from(paid_fen) * i128::from(self.earn_points_per_yuan)
            * i128::from(multiplier_permille)
            / (100 * i128::from(PERMILLE));
        i64::try_from(v).unwrap_or(MAX_POINTS).min(MAX_POINTS)
    }

    /// What `points` are worth at checkout, in fen; refused unless they make a whole number
    /// of fen (a customer is never charged a fraction of a point's worth, nor given one).
    pub fn value_of(&self, points: Points) -> Result<i64, FieldError> {
        let scaled = i128::from(points.get()) * 100;
        let rate = i128::from(self.redeem_points_per_yuan);
        if scaled % rate != 0 {
            return Err(FieldError::new(
                "points",
                "fractional_value",
                format!(
                    "{} points make 1 CNY: redeem a number of points worth whole fen",
                    self.redeem_points_per_yuan
                ),
            ));
        }
        Ok(i64::try_from(scaled / rate).unwrap_or(i64::MAX))
    }

    /// Check a redemption against the order it pays: at most `max_redeem_percent` of
    /// `order_fen` (when the caller names the order's amount).
    pub fn check_share(&self, value_fen: i64, order_fen: Option<i64>) -> Result<(), FieldError> {
        if let Some(total) = order_fen {
            if total < 0 {
                return Err(FieldError::new(
                    "order_amount_fen",
                    "negative_amount",
                    "amount must not be negative",
                ));
            }
            let cap = i128::from(total) * i128::from(self.max_redeem_percent) / 100;
            if i128::from(value_fen) > cap {
                return Err(FieldError::new(
                    "points",
                    "over_redeem_share",
                    format!(
                        "points may pay at most {}% of the order",
                        self.max_redeem_percent
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// A multiplier in thousandths: 1..=[`MAX_MULTIPLIER_PERMILLE`] (0 is refused: a benefit that
/// takes every point away is a mistake, not a rule).
pub fn parse_multiplier(field: &'static str, v: i64) -> Result<i64, FieldError> {
    if !(1..=MAX_MULTIPLIER_PERMILLE).contains(&v) {
        return Err(FieldError::new(
            field,
            "invalid_multiplier",
            format!("a multiplier is 1–{MAX_MULTIPLIER_PERMILLE} thousandths (1000 = ×1)"),
        ));
    }
    Ok(v)
}

/// Several multipliers applied together (a tier's and a card's), in thousandths.
pub fn combine_multipliers(ms: &[i64]) -> i64 {
    ms.iter().fold(PERMILLE, |acc, m| {
        (i128::from(acc) * i128::from(*m) / i128::from(PERMILLE))
            .clamp(1, i128::from(MAX_COMBINED_PERMILLE)) as i64
    })
}

/// How many of an order's `earned` points a refund takes back: the share of the order now
/// refunded (`refunded_total` of `order_fen`), less what earlier refunds took. A partial
/// refund rounds down (the customer keeps the fraction); a full refund takes all of it.
pub fn reversal_due(earned: i64, order_fen: i64, refunded_total: i64, already: i64) -> i64 {
    if earned <= 0 || order_fen <= 0 {
        return 0;
    }
    let share = if refunded_total >= order_fen {
        earned
    } else {
        (i128::from(earned) * i128::from(refunded_total.max(0)) / i128::from(order_fen)) as i64
    };
    (share - already).max(0)
}

/// An open lot as a debit sees it, in the order debits take lots: soonest expiry first
/// (never-expiring last), then oldest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenLot {
    pub id: i64,
    pub remaining: i64,
    pub expires_at: Option<i64>,
}

/// Sort lots into the order a debit takes them.
pub fn spend_order(lots: &mut [OpenLot]) {
    lots.sort_by_key(|l| (l.expires_at.is_none(), l.expires_at, l.id));
}

/// Which lots a debit of `amount` takes, and how much of each, from lots already in
/// [`spend_order`]. Takes at most what the lots hold: the second value is what is left over.
pub fn take_lots(lots: &[OpenLot], amount: i64) -> (Vec<(i64, i64)>, i64) {
    let mut left = amount.max(0);
    let mut out = Vec::new();
    for l in lots {
        if left == 0 {
            break;
        }
        let take = l.remaining.min(left);
        if take > 0 {
            out.push((l.id, take));
            left -= take;
        }
    }
    (out, left)
}

/// A manual grant's or deduction's reason: 1–200 characters, no control characters.
pub fn parse_reason(s: &str) -> Result<String, FieldError> {
    let s = crate::org::parse_label("reason", s, MAX_REASON)?;
    if s.is_empty() {
        return Err(FieldError::new(
            "reason",
            "required",
            "a manual adjustment needs a reason",
        ));
    }
    Ok(s)
}

/// A source reference for an earning posted through the API (a check-in, a task): its type
/// is one of the named ones, its id 1–64 visible characters.
pub fn parse_source_id(field: &'static str, s: &str) -> Result<String, FieldError> {
    crate::orders::parse_external_id(field, s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(y: i32, m: u32, d: u32, h: u32) -> i64 {
        Shanghai
            .with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn every_kind_moves_between_two_different_accounts() {
        for k in EntryKind::ALL {
            let (d, c) = k.accounts();
            assert_ne!(d, c, "{k:?}");
            assert_eq!(EntryKind::parse(k.as_str()), Some(k));
            // Exactly one side is the customer.
            assert!((d == Account::Customer) ^ (c == Account::Customer), "{k:?}");
        }
        for a in Account::ALL {
            assert_eq!(Account::parse(a.as_str()), Some(a));
        }
    }

    #[test]
    fn end_of_next_year_is_new_year_in_shanghai() {
        let e = Expiry::EndOfNextYear;
        // Earned 2026-03-05 noon → expires 2028-01-01 00:00 Shanghai.
        assert_eq!(e.expires_at(ms(2026, 3, 5, 12)), Some(ms(2028, 1, 1, 0)));
        // 2026-12-31 23:00 Shanghai is still 2026 there (15:00 UTC).
        assert_eq!(e.expires_at(ms(2026, 12, 31, 23)), Some(ms(2028, 1, 1, 0)));
        // 2027-01-01 01:00 Shanghai is 2026-12-31 17:00 UTC, but a 2027 lot.
        assert_eq!(e.expires_at(ms(2027, 1, 1, 1)), Some(ms(2029, 1, 1, 0)));
        assert_eq!(
            Expiry::Days { days: 30 }.expires_at(1000),
            Some(1000 + 30 * DAY_MS)
        );
        assert_eq!(Expiry::Never.expires_at(1000), None);
    }

    #[test]
    fn settings_are_checked_field_by_field() {
        let ok = PointsSettings::parse(1, 100, Expiry::EndOfNextYear, 100).unwrap();
        assert_eq!(ok, PointsSettings::default());
        let f = |r: Result<PointsSettings, FieldError>| r.unwrap_err().field;
        assert_eq!(
            f(PointsSettings::parse(-1, 100, Expiry::Never, 100)),
            "earn_points_per_yuan"
        );
        assert_eq!(
            f(PointsSettings::parse(1, 0, Expiry::Never, 100)),
            "redeem_points_per_yuan"
        );
        assert_eq!(
            f(PointsSettings::parse(1, 100, Expiry::Days { days: 0 }, 100)),
            "expiry.days"
        );
        assert_eq!(
            f(PointsSettings::parse(1, 100, Expiry::Never, 0)),
            "max_redeem_percent"
        );
    }

    #[test]
    fn earning_rounds_down_and_applies_multipliers() {
        let s = PointsSettings::default();
        assert_eq!(s.earned_for(12_990, 1000), 129);
        assert_eq!(s.earned_for(12_990, 2000), 259);
        assert_eq!(s.earned_for(99, 1000), 0);
        assert_eq!(s.earned_for(-5, 1000), 0);
        assert_eq!(combine_multipliers(&[2000, 1500]), 3000);
        assert_eq!(combine_multipliers(&[]), 1000);
        assert!(parse_multiplier("m", 0).is_err());
    }

    #[test]
    fn value_is_whole_fen_or_refused() {
        let s = PointsSettings::default();
        assert_eq!(s.value_of(Points::parse("p", 250).unwrap()), Ok(250));
        let s = PointsSettings {
            redeem_points_per_yuan: 1000,
            ..s
        };
        assert_eq!(s.value_of(Points::parse("p", 150).unwrap()), Ok(15));
        assert_eq!(
            s.value_of(Points::parse("p", 155).unwrap()).unwrap_err().code,
            "fractional_value"
        );
        let half = PointsSettings {
            max_redeem_percent: 50,
            ..PointsSettings::default()
        };
        assert!(half.check_share(500, Some(1000)).is_ok());
        assert!(half.check_share(501, Some(1000)).is_err());
        assert!(half.check_share(501, None).is_ok());
        assert!(Points::parse("p", 0).is_err());
        assert!(Points::parse("p", MAX_POINTS + 1).is_err());
    }

    #[test]
    fn lots_are_taken_soonest_expiry_first() {
        let mut lots = vec![
            OpenLot {
                id: 1,
                remaining: 5,
                expires_at: None,
            },
            OpenLot {
                id: 2,
                remaining: 3,
                expires_at: Some(200),
            },
            OpenLot {
                id: 3,
                remaining: 4,
                expires_at: Some(100),
            },
        ];
        spend_order(&mut lots);
        assert_eq!(lots.iter().map(|l| l.id).collect::<Vec<_>>(), [3, 2, 1]);
        assert_eq!(take_lots(&lots, 6), (vec![(3, 4), (2, 2)], 0));
        assert_eq!(take_lots(&lots, 20), (vec![(3, 4), (2, 3), (1, 5)], 8));
    }

    proptest! {
        #[test]
        fn reversals_never_exceed_what_was_earned(
            earned in 0i64..1_000_000,
            order in 1i64..10_000_000,
            cuts in proptest::collection::vec(1i64..1_000_000, 1..6),
        ) {
            let mut refunded = 0i64;
            let mut taken = 0i64;
            for c in cuts {
                refunded = (refunded + c).min(order);
                let due = reversal_due(earned, order, refunded, taken);
                prop_assert!(due >= 0);
                taken += due;
                prop_assert!(taken <= earned);
            }
            if refunded == order {
                prop_assert_eq!(taken, earned);
            }
        }

        #[test]
        fn taking_lots_takes_exactly_what_it_says(
            rem in proptest::collection::vec(0i64..100, 0..8),
            amount in 0i64..500,
        ) {
            let lots: Vec<OpenLot> = rem.iter().enumerate().map(|(i, r)| OpenLot {
                id: i as i64, remaining: *r, expires_at: Some(i as i64) }).collect();
            let (taken, left) = take_lots(&lots, amount);
            let sum: i64 = taken.iter().map(|t| t.1).sum();
            prop_assert_eq!(sum + left, amount);
            prop_assert!(taken.iter().all(|(id, n)| *n > 0 && *n <= lots[*id as usize].remaining));
            let total: i64 = rem.iter().sum();
            prop_assert_eq!(left, (amount - total).max(0));
        }
    }
}
