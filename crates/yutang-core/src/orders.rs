//! Orders: lines, amounts in fen, status changes, refunds, and the customer aggregates they
//! drive.

use serde::Serialize;

use crate::FieldError;
use crate::money::Fen;

/// Parse an amount in fen as the client wrote it (a JSON number's text or a CSV cell): only
/// non-negative integers. `12.5` is refused with `amount_not_integer` (amounts are integer fen,
/// never yuan with decimals), `-3` with `negative_amount`.
pub fn parse_fen(field: &'static str, raw: &str) -> Result<Fen, FieldError> {
    let s = raw.trim();
    if s.starts_with('-') {
        return Err(FieldError::new(
            field,
            "negative_amount",
            "amount must not be negative",
        ));
    }
    if s.contains(['.', 'e', 'E']) {
        return Err(FieldError::new(
            field,
            "amount_not_integer",
            "amounts are integer fen (1 CNY = 100 fen); decimals are not accepted",
        ));
    }
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) {
        return Err(FieldError::new(
            field,
            "invalid_amount",
            "amount must be an integer number of fen",
        ));
    }
    match s.parse::<i64>() {
        Ok(v) if v <= MAX_AMOUNT => Ok(Fen(v)),
        _ => Err(FieldError::new(
            field,
            "invalid_amount",
            "amount is too large",
        )),
    }
}

/// Amounts above 10 billion CNY are refused: surely a unit mistake, and sums stay far from
/// overflow.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Paid,
    Shipped,
    Completed,
    PartiallyRefunded,
    Refunded,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 5] = [
        OrderStatus::Paid,
        OrderStatus::Shipped,
        OrderStatus::Completed,
        OrderStatus::PartiallyRefunded,
        OrderStatus::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Paid => "paid",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Completed => "completed",
            OrderStatus::PartiallyRefunded => "partially_refunded",
            OrderStatus::Refunded => "refunded",
        }
    }

    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        OrderStatus::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    "invalid_order_status",
                    "status must be paid, shipped, completed, partially_refunded or refunded",
                )
            })
    }

    /// Whether a fulfilment step may move an order from `self` to `to` (refund states are
    /// reached through refunds only). Repeating the current state is allowed (idempotent).
    pub fn can_move_to(self, to: OrderStatus) -> bool {
        use OrderStatus::*;
        if self == to {
            return matches!(to, Paid | Shipped | Completed);
        }
        matches!(
            (self, to),
            (Paid, Shipped) | (Paid, Completed) | (Shipped, Completed)
        )
    }
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub unit_price: Fen,
}

impl OrderLine {
    pub fn parse(
        sku: &str,
        name: &str,
        quantity: i64,
        unit_price: Fen,
    ) -> Result<Self, FieldError> {
        let sku = sku.trim();
        if sku.is_empty() || sku.len() > 64 || sku.chars().any(char::is_control) {
            return Err(FieldError::new(
                "lines.sku",
                "invalid_sku",
                "sku must be 1–64 characters",
            ));
        }
        let name = crate::org::parse_label("lines.name", name, 80)?;
        if !(1..=100_000).contains(&quantity) {
            return Err(FieldError::new(
                "lines.quantity",
                "invalid_quantity",
                "quantity must be between 1 and 100000",
            ));
        }
        Ok(Self {
            sku: sku.to_owned(),
            name,
            quantity,
            unit_price,
        })
    }

    pub fn amount(&self) -> Option<Fen> {
        self.unit_price.0.checked_mul(self.quantity).map(Fen)
    }
}

/// The amount paid for an order: the lines' sum minus the discount. Refuses overflow, a
/// discount above the sum and an order without lines.
pub fn order_amount(lines: &[OrderLine], discount: Fen) -> Result<Fen, FieldError> {
    if lines.is_empty() {
        return Err(FieldError::new(
            "lines",
            "no_lines",
            "an order needs at least one line",
        ));
    }
    if lines.len() > 500 {
        return Err(FieldError::new(
            "lines",
            "too_many_lines",
            "an order has at most 500 lines",
        ));
    }
    let mut sum = Fen(0);
    for l in lines {
        sum = l
            .amount()
            .and_then(|a| sum.checked_add(a))
            .filter(|s| s.0 <= MAX_AMOUNT)
            .ok_or_else(|| {
                FieldError::new("lines", "invalid_amount", "order total is too large")
            })?;
    }
    if discount > sum {
        return Err(FieldError::new(
            "discount_fen",
            "discount_exceeds_total",
            "the discount exceeds the sum of the lines",
        ));
    }
    Ok(Fen(sum.0 - discount.0))
}

/// The status after refunding `refund` on an order of `amount` already refunded by
/// `refunded`. Refuses refunding more than was paid.
pub fn apply_refund(
    amount: Fen,
    refunded: Fen,
    refund: Fen,
) -> Result<(Fen, OrderStatus), FieldError> {
    if refund.0 == 0 {
        return Err(FieldError::new(
            "amount_fen",
            "invalid_amount",
            "a refund must be above zero",
        ));
    }
    let total = refunded
        .checked_add(refund)
        .filter(|t| *t <= amount)
        .ok_or_else(|| {
            FieldError::new(
                "amount_fen",
                "refund_exceeds_paid",
                format!("refunds would exceed the paid amount of {amount} CNY"),
            )
        })?;
    let status = if total == amount {
        OrderStatus::Refunded
    } else {
        OrderStatus::PartiallyRefunded
    };
    Ok((total, status))
}

/// A customer's order aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Aggregates {
    pub order_count: i64,
    pub total_spend: Fen,
    pub avg_order_value: Fen,
    pub first_order_at: Option<i64>,
    pub last_order_at: Option<i64>,
}

/// One order as the aggregates see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderFact {
    pub amount: Fen,
    pub refunded: Fen,
    pub paid_at: i64,
}

/// Aggregates over a customer's orders: fully refunded orders do not count; spend is net of
/// refunds; the average is the integer-fen mean (rounded down).
pub fn aggregate(orders: &[OrderFact]) -> Aggregates {
    let mut a = Aggregates::default();
    for o in orders
        .iter()
        .filter(|o| o.refunded < o.amount || o.amount.0 == 0)
    {
        a.order_count += 1;
        a.total_spend = Fen(a.total_spend.0.saturating_add(o.amount.0 - o.refunded.0));
        a.first_order_at = Some(a.first_order_at.map_or(o.paid_at, |f| f.min(o.paid_at)));
        a.last_order_at = Some(a.last_order_at.map_or(o.paid_at, |l| l.max(o.paid_at)));
    }
    if a.order_count > 0 {
        a.avg_order_value = Fen(a.total_spend.0 / a.order_count);
    }
    a
}

/// A sales channel label (`store`, `mini_program`, `tmall` …): 1–32 lower-case ASCII words.
pub fn parse_channel(s: &str) -> Result<String, FieldError> {
    let s = s.trim();
    if s.is_empty()
        || s.len() > 32
        || !s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(FieldError::new(
            "channel",
            "invalid_channel",
            "channel must be 1–32 characters of a–z, 0–9 and '_' (e.g. store, mini_program, tmall)",
        ));
    }
    Ok(s.to_owned())
}

/// An external id (order id, refund id) from the source system: 1–64 visible ASCII characters.
pub fn parse_external_id(field: &'static str, s: &str) -> Result<String, FieldError> {
    let s = s.trim();
    if s.is_empty() || s.len() > 64 || !s.chars().all(|c| c.is_ascii_graphic()) {
        return Err(FieldError::new(
            field,
            "invalid_external_id",
            "id must be 1–64 visible ASCII characters",
        ));
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fen_at_the_edge() {
        assert_eq!(parse_fen("a", "12990"), Ok(Fen(12990)));
        assert_eq!(parse_fen("a", "0"), Ok(Fen(0)));
        assert_eq!(
            parse_fen("a", "129.9").unwrap_err().code,
            "amount_not_integer"
        );
        assert_eq!(
            parse_fen("a", "1e3").unwrap_err().code,
            "amount_not_integer"
        );
        assert_eq!(parse_fen("a", "-1").unwrap_err().code, "negative_amount");
        assert_eq!(parse_fen("a", "abc").unwrap_err().code, "invalid_amount");
        assert_eq!(
            parse_fen("a", "99999999999999999999").unwrap_err().code,
            "invalid_amount"
        );
    }

    fn line(q: i64, p: i64) -> OrderLine {
        OrderLine::parse("SKU1", "车厘子 5斤", q, Fen(p)).unwrap()
    }

    #[test]
    fn amounts_and_refunds() {
        assert_eq!(
            order_amount(&[line(2, 9900), line(1, 1990)], Fen(990)),
            Ok(Fen(20800))
        );
        assert!(order_amount(&[], Fen(0)).is_err());
        assert_eq!(
            order_amount(&[line(1, 100)], Fen(101)).unwrap_err().code,
            "discount_exceeds_total"
        );
        assert_eq!(
            apply_refund(Fen(1000), Fen(0), Fen(300)),
            Ok((Fen(300), OrderStatus::PartiallyRefunded))
        );
        assert_eq!(
            apply_refund(Fen(1000), Fen(300), Fen(700)),
            Ok((Fen(1000), OrderStatus::Refunded))
        );
        assert_eq!(
            apply_refund(Fen(1000), Fen(300), Fen(701))
                .unwrap_err()
                .code,
            "refund_exceeds_paid"
        );
        assert!(OrderStatus::Paid.can_move_to(OrderStatus::Shipped));
        assert!(OrderStatus::Shipped.can_move_to(OrderStatus::Completed));
        assert!(!OrderStatus::Completed.can_move_to(OrderStatus::Shipped));
        assert!(!OrderStatus::Refunded.can_move_to(OrderStatus::Completed));
        assert!(OrderStatus::Completed.can_move_to(OrderStatus::Completed));
    }

    #[test]
    fn aggregates() {
        let a = aggregate(&[
            OrderFact {
                amount: Fen(1000),
                refunded: Fen(0),
                paid_at: 5,
            },
            OrderFact {
                amount: Fen(3000),
                refunded: Fen(1000),
                paid_at: 2,
            },
            OrderFact {
                amount: Fen(500),
                refunded: Fen(500),
                paid_at: 1,
            },
        ]);
        assert_eq!(a.order_count, 2);
        assert_eq!(a.total_spend, Fen(3000));
        assert_eq!(a.avg_order_value, Fen(1500));
        assert_eq!((a.first_order_at, a.last_order_at), (Some(2), Some(5)));
        assert_eq!(aggregate(&[]), Aggregates::default());
    }

    proptest! {
        #[test]
        fn refunds_never_exceed_paid(amount in 1i64..1_000_000, parts in proptest::collection::vec(1i64..500_000, 1..6)) {
            let mut refunded = Fen(0);
            for p in parts {
                if let Ok((r, s)) = apply_refund(Fen(amount), refunded, Fen(p)) {
                    prop_assert!(r.0 <= amount);
                    prop_assert_eq!(s == OrderStatus::Refunded, r.0 == amount);
                    refunded = r;
                }
            }
        }

        #[test]
        fn parse_fen_never_panics(s in "\\PC{0,30}") {
            if let Ok(f) = parse_fen("a", &s) {
                prop_assert!(f.0 >= 0);
            }
        }
    }
}
