//! The points mall (积分商城): items customers exchange points (or points and cash) for, and
//! the state machine of an exchange.
//!
//! An item is a coupon (a coupon template issued at once), a physical gift (shipped with a
//! carrier and tracking number, then delivered) or a product (fulfilled by the brand's order
//! system). It has a points price (whole, at least 1), an optional cash part (fen), a stock
//! of units left and an optional per-customer limit.
//!
//! An exchange takes one unit and debits the points in one transaction. With a cash part it
//! waits in `awaiting_payment` until the brand's order system reports the payment, and
//! expires unpaid after the brand's payment window. Cancelling (before shipping) and expiring
//! return the points and the unit; [`Transition::returns`] says so, and it is `true` only on
//! a move out of a state that holds them into a final state, so it happens at most once.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::loyalty::points::MAX_POINTS;
use crate::promotions::{MAX_STOCK, Window};
use crate::time::Millis;

/// Longest description, characters.
pub const MAX_DESCRIPTION: usize = 500;
/// Longest image URL, bytes.
pub const MAX_URL: usize = 1024;
/// Largest cash part of a price, fen (1,000,000 CNY).
pub const MAX_CASH_FEN: i64 = 100_000_000;
/// Largest per-customer limit.
pub const MAX_LIMIT: i64 = 10_000;
/// Default minutes an exchange with a cash part waits for its payment.
pub const DEFAULT_PAYMENT_MINUTES: i64 = 15;
/// Longest payment window, minutes (one day).
pub const MAX_PAYMENT_MINUTES: i64 = 1440;

/// What an item gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// A coupon template, issued to the customer when the exchange completes.
    Coupon,
    /// A physical gift: shipped (carrier, tracking number), then delivered.
    Gift,
    /// A product of the brand's catalogue (a SKU), fulfilled by the order system.
    Product,
}

impl ItemKind {
    pub const ALL: [ItemKind; 3] = [ItemKind::Coupon, ItemKind::Gift, ItemKind::Product];

    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Coupon => "coupon",
            ItemKind::Gift => "gift",
            ItemKind::Product => "product",
        }
    }

    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                FieldError::new(
                    field,
                    "invalid_item_kind",
                    "the kind is coupon, gift or product",
                )
            })
    }
}

/// A mall item as staff write it; [`ItemSpec::parse`] checks every field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemSpec {
    pub kind: ItemKind,
    /// 1–40 characters.
    pub name: String,
    /// ≤ 500 characters.
    pub description: String,
    /// An http(s) URL, ≤ 1024 bytes.
    pub image_url: Option<String>,
    /// Points per unit: a whole number, at least 1.
    pub points_price: i64,
    /// The cash part (fen), 0 when points alone pay.
    pub cash_price_fen: i64,
    /// Units left to exchange, 0 or more.
    pub stock: i64,
    /// Most units one customer may hold (cancelled and expired exchanges do not count);
    /// `None`: no limit.
    pub per_customer_limit: Option<i64>,
    /// The coupon template a coupon item issues (coupon items only).
    pub coupon_template_id: Option<i64>,
    /// The brand's SKU a product item stands for (product items only).
    pub sku: Option<String>,
    /// When customers may exchange it; `None`: always.
    pub starts_at: Option<i64>,
    pub ends_at: Option<i64>,
    /// On sale (上架); `false`: hidden from customers and closed to exchanges.
    pub on_sale: bool,
    /// Minutes an exchange with a cash part waits for its payment before it expires
    /// (1–1440, default 15).
    pub payment_minutes: i64,
}

impl ItemSpec {
    /// Check every field; the first broken one is named.
    pub fn parse(self) -> Result<Self, FieldError> {
        let name = crate::promotions::parse_title("name", &self.name)?;
        let description =
            crate::org::parse_label("description", &self.description, MAX_DESCRIPTION)?;
        let image_url = match self.image_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(u) => Some(parse_url("image_url", u)?),
        };
        if self.points_price < 1 || self.points_price > MAX_POINTS {
            return Err(FieldError::new(
                "points_price",
                "invalid_points",
                format!("the points price is a whole number from 1 to {MAX_POINTS}"),
            ));
        }
        if self.cash_price_fen < 0 || self.cash_price_fen > MAX_CASH_FEN {
            return Err(FieldError::new(
                "cash_price_fen",
                "invalid_amount",
                format!("the cash part is 0 to {MAX_CASH_FEN} fen"),
            ));
        }
        parse_stock("stock", self.stock)?;
        parse_payment_minutes(self.payment_minutes)?;
        if let Some(l) = self.per_customer_limit
            && !(1..=MAX_LIMIT).contains(&l)
        {
            return Err(FieldError::new(
                "per_customer_limit",
                "invalid_count",
                format!("the limit per customer is 1 to {MAX_LIMIT}, or none"),
            ));
        }
        let coupon_template_id = match (self.kind, self.coupon_template_id) {
            (ItemKind::Coupon, Some(id)) if id > 0 => Some(id),
            (ItemKind::Coupon, Some(_)) => {
                return Err(FieldError::new(
                    "coupon_template_id",
                    "invalid_id",
                    "not a coupon template id",
                ));
            }
            (ItemKind::Coupon, None) => {
                return Err(FieldError::new(
                    "coupon_template_id",
                    "required",
                    "a coupon item names the coupon template it issues",
                ));
            }
            (_, Some(_)) => {
                return Err(FieldError::new(
                    "coupon_template_id",
                    "invalid_field",
                    "only coupon items issue a coupon template",
                ));
            }
            (_, None) => None,
        };
        let sku = match (self.kind, self.sku.as_deref().map(str::trim)) {
            (ItemKind::Product, None | Some("")) => {
                return Err(FieldError::new(
                    "sku",
                    "required",
                    "a product item names the SKU it stands for",
                ));
            }
            (ItemKind::Product, Some(s)) => {
                if s.len() > 64 || s.chars().any(char::is_control) {
                    return Err(FieldError::new(
                        "sku",
                        "invalid_sku",
                        "sku must be 1–64 characters",
                    ));
                }
                Some(s.to_owned())
            }
            (_, None | Some("")) => None,
            (_, Some(_)) => {
                return Err(FieldError::new(
                    "sku",
                    "invalid_field",
                    "only product items have a SKU",
                ));
            }
        };
        match (self.starts_at, self.ends_at) {
            (Some(s), Some(e)) => {
                Window::parse(Millis(s), Millis(e))?;
            }
            (None, None) => {}
            (None, Some(_)) => {
                return Err(FieldError::new(
                    "starts_at",
                    "required",
                    "a window needs both starts_at and ends_at",
                ));
            }
            (Some(_), None) => {
                return Err(FieldError::new(
                    "ends_at",
                    "required",
                    "a window needs both starts_at and ends_at",
                ));
            }
        }
        Ok(Self {
            name,
            description,
            image_url,
            coupon_template_id,
            sku,
            ..self
        })
    }

    /// Whether exchanges wait for a cash payment.
    pub fn needs_payment(&self) -> bool {
        self.cash_price_fen > 0
    }
}

/// A stock figure: 0..=[`MAX_STOCK`] (`invalid_stock`).
pub fn parse_stock(field: &'static str, v: i64) -> Result<i64, FieldError> {
    if !(0..=MAX_STOCK).contains(&v) {
        return Err(FieldError::new(
            field,
            "invalid_stock",
            format!("stock is a whole number from 0 to {MAX_STOCK}"),
        ));
    }
    Ok(v)
}

fn parse_url(field: &'static str, u: &str) -> Result<String, FieldError> {
    if u.len() > MAX_URL
        || !(u.starts_with("https://") || u.starts_with("http://"))
        || u.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(FieldError::new(
            field,
            "invalid_url",
            "must be an http(s) URL of at most 1024 bytes",
        ));
    }
    Ok(u.to_owned())
}

/// The payment window (minutes) of exchanges with a cash part: 1..=1440.
pub fn parse_payment_minutes(v: i64) -> Result<i64, FieldError> {
    if !(1..=MAX_PAYMENT_MINUTES).contains(&v) {
        return Err(FieldError::new(
            "payment_minutes",
            "invalid_count",
            format!("the payment window is 1 to {MAX_PAYMENT_MINUTES} minutes"),
        ));
    }
    Ok(v)
}

/// A shipment's carrier (1–40 characters) and tracking number (1–64 visible ASCII).
pub fn parse_shipment(carrier: &str, tracking_no: &str) -> Result<(String, String), FieldError> {
    let carrier = crate::org::parse_label("carrier", carrier, 40)?;
    if carrier.is_empty() {
        return Err(FieldError::new(
            "carrier",
            "required",
            "the carrier is required",
        ));
    }
    let t = tracking_no.trim();
    if t.is_empty() {
        return Err(FieldError::new(
            "tracking_no",
            "required",
            "the tracking number is required",
        ));
    }
    if t.len() > 64 || !t.chars().all(|c| c.is_ascii_graphic()) {
        return Err(FieldError::new(
            "tracking_no",
            "invalid_external_id",
            "the tracking number is 1–64 visible ASCII characters",
        ));
    }
    Ok((carrier, t.to_owned()))
}

/// Where an item stands for a customer at `now`: on sale and inside its window.
pub fn check_open(
    on_sale: bool,
    starts_at: Option<i64>,
    ends_at: Option<i64>,
    now: i64,
) -> Result<(), FieldError> {
    let open = on_sale && starts_at.is_none_or(|s| now >= s) && ends_at.is_none_or(|e| now < e);
    if open {
        Ok(())
    } else {
        Err(FieldError::new(
            "item_id",
            "item_off_sale",
            "the item is not on sale now",
        ))
    }
}

/// Where an exchange stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExchangeState {
    /// Points debited and the unit taken; the cash part is not paid yet.
    AwaitingPayment,
    /// A gift or product to hand over.
    Pending,
    /// A gift on its way (carrier, tracking number).
    Shipped,
    /// A gift received (final).
    Delivered,
    /// A product handed over by the order system (final).
    Fulfilled,
    /// A coupon issued (final).
    Completed,
    /// Cancelled before shipping: points and unit returned (final).
    Cancelled,
    /// Not paid in time: points and unit returned (final).
    Expired,
}

impl ExchangeState {
    pub const ALL: [ExchangeState; 8] = [
        ExchangeState::AwaitingPayment,
        ExchangeState::Pending,
        ExchangeState::Shipped,
        ExchangeState::Delivered,
        ExchangeState::Fulfilled,
        ExchangeState::Completed,
        ExchangeState::Cancelled,
        ExchangeState::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExchangeState::AwaitingPayment => "awaiting_payment",
            ExchangeState::Pending => "pending",
            ExchangeState::Shipped => "shipped",
            ExchangeState::Delivered => "delivered",
            ExchangeState::Fulfilled => "fulfilled",
            ExchangeState::Completed => "completed",
            ExchangeState::Cancelled => "cancelled",
            ExchangeState::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Holding the customer's points and a unit of stock (every state but the two that gave
    /// them back).
    pub fn holds(self) -> bool {
        !matches!(self, ExchangeState::Cancelled | ExchangeState::Expired)
    }

    /// No move leaves it.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ExchangeState::Delivered
                | ExchangeState::Fulfilled
                | ExchangeState::Completed
                | ExchangeState::Cancelled
                | ExchangeState::Expired
        )
    }
}

/// What is asked of an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExchangeAction {
    /// The order system reports the cash part paid.
    Pay,
    /// A gift leaves (carrier, tracking number).
    Ship,
    /// A gift arrives.
    Deliver,
    /// A product is handed over.
    Fulfil,
    /// The customer or staff cancel before shipping.
    Cancel,
    /// The payment window passed unpaid.
    Expire,
}

impl ExchangeAction {
    pub const ALL: [ExchangeAction; 6] = [
        ExchangeAction::Pay,
        ExchangeAction::Ship,
        ExchangeAction::Deliver,
        ExchangeAction::Fulfil,
        ExchangeAction::Cancel,
        ExchangeAction::Expire,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExchangeAction::Pay => "pay",
            ExchangeAction::Ship => "ship",
            ExchangeAction::Deliver => "deliver",
            ExchangeAction::Fulfil => "fulfil",
            ExchangeAction::Cancel => "cancel",
            ExchangeAction::Expire => "expire",
        }
    }
}

/// The state a new exchange starts in: waiting for its cash part, or else a coupon is
/// completed at once and a gift or product is pending.
pub fn initial_state(kind: ItemKind, needs_payment: bool) -> ExchangeState {
    if needs_payment {
        ExchangeState::AwaitingPayment
    } else {
        settled_state(kind)
    }
}

/// Where an exchange goes once paid for (by points alone, or when the cash part is paid).
fn settled_state(kind: ItemKind) -> ExchangeState {
    match kind {
        ItemKind::Coupon => ExchangeState::Completed,
        ItemKind::Gift | ItemKind::Product => ExchangeState::Pending,
    }
}

/// A permitted move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub to: ExchangeState,
    /// The points and the unit go back to the customer and the stock (cancel, expire).
    pub returns: bool,
    /// A coupon item's coupon is issued now (it reached `completed`).
    pub issues_coupon: bool,
}

/// The move `action` makes from `state` for an item of `kind`, or `invalid_exchange_transition`.
pub fn transition(
    kind: ItemKind,
    state: ExchangeState,
    action: ExchangeAction,
) -> Result<Transition, FieldError> {
    use ExchangeAction as A;
    use ExchangeState as S;
    let to = match (state, action, kind) {
        (S::AwaitingPayment, A::Pay, _) => Some(settled_state(kind)),
        (S::AwaitingPayment, A::Cancel, _) => Some(S::Cancelled),
        (S::AwaitingPayment, A::Expire, _) => Some(S::Expired),
        (S::Pending, A::Ship, ItemKind::Gift) => Some(S::Shipped),
        (S::Pending, A::Fulfil, ItemKind::Product) => Some(S::Fulfilled),
        (S::Pending, A::Cancel, ItemKind::Gift | ItemKind::Product) => Some(S::Cancelled),
        (S::Shipped, A::Deliver, ItemKind::Gift) => Some(S::Delivered),
        _ => None,
    };
    let Some(to) = to else {
        return Err(FieldError::new(
            "state",
            "invalid_exchange_transition",
            format!(
                "a {} exchange that is {} cannot {}",
                kind.as_str(),
                state.as_str(),
                action.as_str()
            ),
        ));
    };
    Ok(Transition {
        to,
        returns: state.holds() && !to.holds(),
        issues_coupon: to == S::Completed,
    })
}

/// Whether an exchange awaiting payment until `pay_by` is past its window at `now`.
pub fn payment_due(state: ExchangeState, pay_by: Option<i64>, now: i64) -> bool {
    state == ExchangeState::AwaitingPayment && pay_by.is_some_and(|p| now >= p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn spec(kind: ItemKind) -> ItemSpec {
        ItemSpec {
            kind,
            name: "保温杯".into(),
            description: String::new(),
            image_url: None,
            points_price: 500,
            cash_price_fen: 0,
            stock: 10,
            per_customer_limit: Some(2),
            coupon_template_id: (kind == ItemKind::Coupon).then_some(7),
            sku: (kind == ItemKind::Product).then(|| "SKU-1".into()),
            starts_at: None,
            ends_at: None,
            on_sale: true,
            payment_minutes: DEFAULT_PAYMENT_MINUTES,
        }
    }

    fn field_of(s: ItemSpec) -> (&'static str, &'static str) {
        let e = s.parse().unwrap_err();
        (e.field, e.code)
    }

    #[test]
    fn a_good_item_parses_for_every_kind() {
        for k in ItemKind::ALL {
            let s = spec(k).parse().unwrap();
            assert_eq!(s.kind, k);
        }
    }

    #[test]
    fn bad_items_name_the_field() {
        let mut s = spec(ItemKind::Gift);
        s.stock = -1;
        assert_eq!(field_of(s), ("stock", "invalid_stock"));
        let mut s = spec(ItemKind::Gift);
        s.points_price = 0;
        assert_eq!(field_of(s), ("points_price", "invalid_points"));
        let mut s = spec(ItemKind::Gift);
        s.cash_price_fen = -1;
        assert_eq!(field_of(s), ("cash_price_fen", "invalid_amount"));
        let mut s = spec(ItemKind::Gift);
        s.per_customer_limit = Some(0);
        assert_eq!(field_of(s), ("per_customer_limit", "invalid_count"));
        let mut s = spec(ItemKind::Coupon);
        s.coupon_template_id = None;
        assert_eq!(field_of(s), ("coupon_template_id", "required"));
        let mut s = spec(ItemKind::Gift);
        s.coupon_template_id = Some(3);
        assert_eq!(field_of(s), ("coupon_template_id", "invalid_field"));
        let mut s = spec(ItemKind::Product);
        s.sku = Some("  ".into());
        assert_eq!(field_of(s), ("sku", "required"));
        let mut s = spec(ItemKind::Gift);
        s.name = " ".into();
        assert_eq!(field_of(s), ("name", "required"));
        let mut s = spec(ItemKind::Gift);
        s.image_url = Some("ftp://x".into());
        assert_eq!(field_of(s), ("image_url", "invalid_url"));
        let mut s = spec(ItemKind::Gift);
        s.starts_at = Some(1_800_000_000_000);
        assert_eq!(field_of(s), ("ends_at", "required"));
        let mut s = spec(ItemKind::Gift);
        s.starts_at = Some(1_800_000_000_000);
        s.ends_at = Some(1_700_000_000_000);
        assert_eq!(field_of(s), ("ends_at", "invalid_window"));
        assert_eq!(
            ItemKind::parse("kind", "car").unwrap_err().code,
            "invalid_item_kind"
        );
    }

    #[test]
    fn zero_stock_and_no_limit_are_allowed() {
        let mut s = spec(ItemKind::Gift);
        s.stock = 0;
        s.per_customer_limit = None;
        assert!(s.parse().is_ok());
    }

    #[test]
    fn shipments_and_windows() {
        assert!(parse_shipment("顺丰", "SF123").is_ok());
        assert_eq!(parse_shipment("", "SF1").unwrap_err().field, "carrier");
        assert_eq!(
            parse_shipment("顺丰", " ").unwrap_err().field,
            "tracking_no"
        );
        assert_eq!(
            parse_shipment("顺丰", "SF 1").unwrap_err().code,
            "invalid_external_id"
        );
        assert!(check_open(true, None, None, 5).is_ok());
        assert!(check_open(false, None, None, 5).is_err());
        assert!(check_open(true, Some(10), Some(20), 5).is_err());
        assert!(check_open(true, Some(10), Some(20), 10).is_ok());
        assert!(check_open(true, Some(10), Some(20), 20).is_err());
        assert_eq!(parse_payment_minutes(0).unwrap_err().code, "invalid_count");
        assert_eq!(parse_payment_minutes(15).unwrap(), 15);
    }

    #[test]
    fn the_happy_paths() {
        use ExchangeAction as A;
        use ExchangeState as S;
        assert_eq!(initial_state(ItemKind::Coupon, false), S::Completed);
        assert_eq!(initial_state(ItemKind::Gift, false), S::Pending);
        assert_eq!(initial_state(ItemKind::Product, true), S::AwaitingPayment);
        let t = transition(ItemKind::Gift, S::Pending, A::Ship).unwrap();
        assert_eq!((t.to, t.returns), (S::Shipped, false));
        let t = transition(ItemKind::Gift, S::Shipped, A::Deliver).unwrap();
        assert_eq!(t.to, S::Delivered);
        let t = transition(ItemKind::Product, S::Pending, A::Fulfil).unwrap();
        assert_eq!(t.to, S::Fulfilled);
        let t = transition(ItemKind::Coupon, S::AwaitingPayment, A::Pay).unwrap();
        assert_eq!((t.to, t.issues_coupon), (S::Completed, true));
        let t = transition(ItemKind::Gift, S::AwaitingPayment, A::Expire).unwrap();
        assert_eq!((t.to, t.returns), (S::Expired, true));
        let t = transition(ItemKind::Product, S::Pending, A::Cancel).unwrap();
        assert_eq!((t.to, t.returns), (S::Cancelled, true));
    }

    #[test]
    fn illegal_moves_are_refused() {
        use ExchangeAction as A;
        use ExchangeState as S;
        let bad = [
            (ItemKind::Gift, S::Shipped, A::Cancel),
            (ItemKind::Gift, S::Pending, A::Deliver),
            (ItemKind::Gift, S::Pending, A::Fulfil),
            (ItemKind::Product, S::Pending, A::Ship),
            (ItemKind::Coupon, S::Completed, A::Cancel),
            (ItemKind::Gift, S::Cancelled, A::Cancel),
            (ItemKind::Gift, S::Pending, A::Pay),
            (ItemKind::Gift, S::Pending, A::Expire),
            (ItemKind::Product, S::Expired, A::Pay),
        ];
        for (k, s, a) in bad {
            let e = transition(k, s, a).unwrap_err();
            assert_eq!((e.field, e.code), ("state", "invalid_exchange_transition"));
        }
        assert!(payment_due(S::AwaitingPayment, Some(10), 10));
        assert!(!payment_due(S::AwaitingPayment, Some(10), 9));
        assert!(!payment_due(S::Pending, Some(10), 99));
    }

    fn kind() -> impl Strategy<Value = ItemKind> {
        prop::sample::select(ItemKind::ALL.to_vec())
    }

    fn action() -> impl Strategy<Value = ExchangeAction> {
        prop::sample::select(ExchangeAction::ALL.to_vec())
    }

    /// The permitted moves, written out once more as a table: what `transition` accepts must
    /// be one of them.
    fn allowed(kind: ItemKind, from: ExchangeState, to: ExchangeState) -> bool {
        use ExchangeState as S;
        matches!(
            (kind, from, to),
            (_, S::AwaitingPayment, S::Cancelled | S::Expired)
                | (ItemKind::Coupon, S::AwaitingPayment, S::Completed)
                | (
                    ItemKind::Gift | ItemKind::Product,
                    S::AwaitingPayment,
                    S::Pending
                )
                | (ItemKind::Gift, S::Pending, S::Shipped | S::Cancelled)
                | (ItemKind::Gift, S::Shipped, S::Delivered)
                | (ItemKind::Product, S::Pending, S::Fulfilled | S::Cancelled)
        )
    }

    proptest! {
        /// Any sequence of asks: no illegal move is accepted, nothing leaves a final state,
        /// the points and the unit are returned at most once (and only from an exchange that
        /// ends cancelled or expired), a coupon is issued at most once.
        #[test]
        fn random_sequences_never_move_illegally_or_return_twice(
            k in kind(),
            paid_in_cash in any::<bool>(),
            asks in prop::collection::vec(action(), 0..30),
        ) {
            let mut state = initial_state(k, paid_in_cash);
            let mut returned = 0;
            let mut coupons = i32::from(state == ExchangeState::Completed);
            for a in asks {
                match transition(k, state, a) {
                    Ok(t) => {
                        prop_assert!(!state.is_final(), "left final {state:?}");
                        prop_assert!(allowed(k, state, t.to), "{k:?} {state:?} -> {:?}", t.to);
                        returned += i32::from(t.returns);
                        coupons += i32::from(t.issues_coupon);
                        state = t.to;
                    }
                    Err(e) => prop_assert_eq!(e.code, "invalid_exchange_transition"),
                }
            }
            prop_assert!(returned <= 1);
            prop_assert_eq!(returned == 1, !state.holds());
            prop_assert!(coupons <= 1);
            prop_assert!(k == ItemKind::Coupon || coupons == 0);
        }
    }
}
