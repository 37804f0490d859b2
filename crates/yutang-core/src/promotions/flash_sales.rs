//! Flash sales (秒杀): an item at a price, a stock, a window and a per-customer limit. A winning
//! claim holds one unit for `hold_minutes`; unpaid, the hold is released and the unit returns
//! to the stock exactly once.

use serde::{Deserialize, Serialize};

use super::{Audience, MAX_STOCK, Window, parse_count, parse_title};
use crate::error::FieldError;
use crate::org::parse_label;
use crate::time::Millis;

/// The longest hold.
pub const MAX_HOLD_MINUTES: i64 = 24 * 60;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlashSaleSpec {
    pub name: String,
    pub sku: String,
    pub item_name: String,
    pub price_fen: i64,
    /// The usual price, for display (划线价).
    #[serde(default)]
    pub original_price_fen: i64,
    pub stock: i64,
    pub window: Window,
    pub per_customer: i64,
    pub hold_minutes: i64,
    pub audience: Audience,
    /// The product image (`POST /api/v1/media`'s id), shown on the H5 page; `None`: text only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<i64>,
}

impl FlashSaleSpec {
    pub fn parse(mut self) -> Result<Self, FieldError> {
        self.name = parse_title("name", &self.name)?;
        self.sku = parse_label("sku", &self.sku, 64)?;
        if self.sku.is_empty() {
            return Err(FieldError::new(
                "sku",
                "required",
                "the item's sku is required",
            ));
        }
        self.item_name = parse_title("item_name", &self.item_name)?;
        if self.price_fen < 0 || self.price_fen > super::coupons::MAX_FEN {
            return Err(FieldError::new(
                "price_fen",
                "amount_out_of_range",
                "price is fen, 0 or more",
            ));
        }
        if self.original_price_fen < 0 || self.original_price_fen > super::coupons::MAX_FEN {
            return Err(FieldError::new(
                "original_price_fen",
                "amount_out_of_range",
                "price is fen, 0 or more",
            ));
        }
        self.stock = parse_count("stock", self.stock, MAX_STOCK)?;
        self.per_customer = parse_count("per_customer", self.per_customer, 100)?;
        self.hold_minutes = parse_count("hold_minutes", self.hold_minutes, MAX_HOLD_MINUTES)?;
        Window::parse(self.window.starts_at, self.window.ends_at)?;
        self.audience.validate()?;
        Ok(self)
    }
}

/// A claim's hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldState {
    Held,
    Paid,
    Released,
}

impl HoldState {
    pub fn as_str(self) -> &'static str {
        match self {
            HoldState::Held => "held",
            HoldState::Paid => "paid",
            HoldState::Released => "released",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "held" => Some(HoldState::Held),
            "paid" => Some(HoldState::Paid),
            "released" => Some(HoldState::Released),
            _ => None,
        }
    }
}

/// A winning claim's hold on one unit: its state and when it runs out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold {
    pub state: HoldState,
    pub until: Millis,
}

impl Hold {
    /// Pay for the held unit: `Some(Paid)` only from `Held` and before the hold ran out (a
    /// payment reported after it is refused; the unit may already be someone else's).
    pub fn pay(&self, now: Millis) -> Option<HoldState> {
        (self.state == HoldState::Held && now < self.until).then_some(HoldState::Paid)
    }

    /// Release an unpaid hold whose time is up: `Some(Released)` only from `Held` and from
    /// `until` on, so the unit returns to the stock at most once however often the timer fires
    /// (and never early, should the timer fire before its time).
    pub fn release(&self, now: Millis) -> Option<HoldState> {
        (self.state == HoldState::Held && now >= self.until).then_some(HoldState::Released)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn spec() -> FlashSaleSpec {
        FlashSaleSpec {
            name: "周五秒杀".into(),
            sku: "DURIAN-1".into(),
            item_name: "金枕榴莲 1 个".into(),
            price_fen: 9900,
            original_price_fen: 19900,
            stock: 10,
            window: Window {
                starts_at: Millis(1_767_225_600_000),
                ends_at: Millis(1_767_225_600_010),
            },
            per_customer: 1,
            hold_minutes: 15,
            audience: Audience::Everyone,
            image_id: None,
        }
    }

    #[test]
    fn parse_names_fields() {
        assert!(spec().parse().is_ok());
        let mut s = spec();
        s.price_fen = -1;
        assert_eq!(s.parse().unwrap_err().field, "price_fen");
        let mut s = spec();
        s.hold_minutes = 0;
        assert_eq!(s.parse().unwrap_err().field, "hold_minutes");
        let mut s = spec();
        s.window.ends_at = Millis(0);
        assert_eq!(s.parse().unwrap_err().field, "ends_at");
    }

    proptest! {
        /// However pay and release interleave (timers firing twice or early, late payments),
        /// a hold returns its unit at most once, is never both paid and released, is never
        /// paid after its time nor released before it.
        #[test]
        fn holds_release_at_most_once(
            until in 0i64..100,
            ops in proptest::collection::vec((any::<bool>(), 0i64..100), 0..20),
        ) {
            let mut h = Hold { state: HoldState::Held, until: Millis(until) };
            let (mut released, mut paid) = (0, 0);
            for (pay, now) in ops {
                let next = if pay { h.pay(Millis(now)) } else { h.release(Millis(now)) };
                if let Some(n) = next {
                    if n == HoldState::Released {
                        prop_assert!(now >= until);
                        released += 1;
                    }
                    if n == HoldState::Paid {
                        prop_assert!(now < until);
                        paid += 1;
                    }
                    h.state = n;
                }
            }
            prop_assert!(released + paid <= 1);
        }
    }
}
