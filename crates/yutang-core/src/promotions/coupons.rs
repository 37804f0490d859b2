//! Coupon templates and the life of a coupon.
//!
//! A template describes one coupon or a stepped set (70 CNY a month as three coupons with
//! rising thresholds: one claim issues every step). A claimed coupon is `claimed` until it is
//! used on an order, expires or is revoked; a refund may return a used coupon to `claimed` when
//! the template says so and the coupon is still inside its validity.

use serde::{Deserialize, Serialize};

use super::{Audience, PromoRefusal, Window, parse_count, parse_title};
use crate::error::FieldError;
use crate::money::Fen;
use crate::org::parse_label;
use crate::time::Millis;

/// The largest amount a coupon may take off or require: 1,000,000 CNY.
pub const MAX_FEN: i64 = 100_000_000;
/// The most coupons in a stepped set.
pub const MAX_STEPS: usize = 10;
/// The longest validity from claim.
pub const MAX_VALID_DAYS: u32 = 3650;

/// What one coupon gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
// Bodies are strict: an unknown key inside a variant is refused too (the JSON
// extractor cannot see keys that serde buffers for an internally tagged enum).
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CouponKind {
    /// 满减: `off_fen` off an order of at least `threshold_fen`.
    AmountOff { off_fen: i64, threshold_fen: i64 },
    /// 折扣: pay `rate_permille`/1000 of the order (850 = 85折), saving at most `cap_fen`.
    Discount {
        rate_permille: i64,
        cap_fen: i64,
        #[serde(default)]
        threshold_fen: i64,
    },
    /// 免运费: the shipping fee is waived on an order of at least `threshold_fen`.
    FreeShipping {
        #[serde(default)]
        threshold_fen: i64,
    },
    /// 兑换券: one item (by SKU) for free.
    Exchange { sku: String, item_name: String },
}

impl CouponKind {
    pub fn name(&self) -> &'static str {
        match self {
            CouponKind::AmountOff { .. } => "amount_off",
            CouponKind::Discount { .. } => "discount",
            CouponKind::FreeShipping { .. } => "free_shipping",
            CouponKind::Exchange { .. } => "exchange",
        }
    }

    pub fn threshold(&self) -> Fen {
        match self {
            CouponKind::AmountOff { threshold_fen, .. }
            | CouponKind::Discount { threshold_fen, .. }
            | CouponKind::FreeShipping { threshold_fen } => Fen(*threshold_fen),
            CouponKind::Exchange { .. } => Fen(0),
        }
    }

    fn validate(&self, field: &'static str) -> Result<(), FieldError> {
        self.check().map_err(|mut e| {
            e.field = field;
            e
        })
    }

    /// Check one coupon; the error names the part it is about (`off_fen`, `threshold_fen`,
    /// `rate_permille`, `cap_fen`, `sku`, `item_name`), so a form can point at its field.
    /// A template's [`TemplateSpec::parse`] reports the same error under `steps`.
    pub fn check(&self) -> Result<(), FieldError> {
        let money = |part: &'static str, v: i64, min: i64| {
            if v < min && v >= 0 {
                Err(FieldError::new(
                    part,
                    "amount_required",
                    format!("{part} must be at least {min} fen"),
                ))
            } else if v < min || v > MAX_FEN {
                Err(FieldError::new(
                    part,
                    "amount_out_of_range",
                    format!("{part} is fen between {min} and {MAX_FEN}"),
                ))
            } else {
                Ok(())
            }
        };
        match self {
            CouponKind::AmountOff {
                off_fen,
                threshold_fen,
            } => {
                money("off_fen", *off_fen, 1)?;
                money("threshold_fen", *threshold_fen, 0)?;
                if *threshold_fen > 0 && off_fen >= threshold_fen {
                    return Err(FieldError::new(
                        "off_fen",
                        "off_not_below_threshold",
                        "the amount off must be below the threshold",
                    ));
                }
            }
            CouponKind::Discount {
                rate_permille,
                cap_fen,
                threshold_fen,
            } => {
                if !(1..=999).contains(rate_permille) {
                    return Err(FieldError::new(
                        "rate_permille",
                        "invalid_rate",
                        "rate_permille is what is paid, 1–999 (850 = 85折)",
                    ));
                }
                money("cap_fen", *cap_fen, 1)?;
                money("threshold_fen", *threshold_fen, 0)?;
            }
            CouponKind::FreeShipping { threshold_fen } => {
                money("threshold_fen", *threshold_fen, 0)?;
            }
            CouponKind::Exchange { sku, item_name } => {
                let sku = parse_label("sku", sku, 64)?;
                if sku.is_empty() {
                    return Err(FieldError::new(
                        "sku",
                        "required",
                        "an exchange coupon needs the item's sku",
                    ));
                }
                let name = parse_label("item_name", item_name, 40)?;
                if name.is_empty() {
                    return Err(FieldError::new(
                        "item_name",
                        "required",
                        "an exchange coupon needs the item's name",
                    ));
                }
            }
        }
        Ok(())
    }

    /// The discount on an order of `amount` with `shipping`, after the threshold check.
    /// Never more than what is paid; integer fen, rounding the saving down.
    pub fn discount(&self, amount: Fen, shipping: Fen) -> Result<Fen, PromoRefusal> {
        if amount < self.threshold() {
            return Err(PromoRefusal::BelowThreshold);
        }
        let a = amount.0.max(0);
        Ok(Fen(match self {
            CouponKind::AmountOff { off_fen, .. } => (*off_fen).min(a),
            CouponKind::Discount {
                rate_permille,
                cap_fen,
                ..
            } => {
                let saved = (i128::from(a) * i128::from(1000 - rate_permille) / 1000)
                    .clamp(0, i128::from(i64::MAX));
                i64::try_from(saved).unwrap_or(i64::MAX).min(*cap_fen)
            }
            CouponKind::FreeShipping { .. } => shipping.0.max(0),
            // The item is given; the order's amount is not reduced.
            CouponKind::Exchange { .. } => 0,
        }))
    }
}

/// How long a claimed coupon is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
// Bodies are strict: an unknown key inside a variant is refused too (the JSON
// extractor cannot see keys that serde buffers for an internally tagged enum).
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Validity {
    /// From `starts_at` to `ends_at` whenever it was claimed.
    Fixed { starts_at: Millis, ends_at: Millis },
    /// `days` × 24 h from the claim.
    DaysFromClaim { days: u32 },
}

impl Validity {
    fn validate(&self) -> Result<(), FieldError> {
        match self {
            Validity::Fixed { starts_at, ends_at } => {
                Window::parse(*starts_at, *ends_at).map_err(|mut e| {
                    e.field = "validity";
                    e
                })?;
            }
            Validity::DaysFromClaim { days } => {
                if *days == 0 || *days > MAX_VALID_DAYS {
                    return Err(FieldError::new(
                        "validity",
                        "invalid_validity",
                        format!("days must be 1–{MAX_VALID_DAYS}"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The window of a coupon claimed at `claimed_at`.
    pub fn window(&self, claimed_at: Millis) -> Window {
        match *self {
            Validity::Fixed { starts_at, ends_at } => Window { starts_at, ends_at },
            Validity::DaysFromClaim { days } => Window {
                starts_at: claimed_at,
                ends_at: claimed_at.plus_secs(i64::from(days) * 86_400),
            },
        }
    }
}

/// Where a coupon may be used: empty lists mean everywhere.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    #[serde(default)]
    pub channels: Vec<String>,
    #[serde(default)]
    pub store_ids: Vec<i64>,
}

impl Scope {
    pub fn allows(&self, channel: &str, store_id: Option<i64>) -> bool {
        let channel_ok = self.channels.is_empty() || self.channels.iter().any(|c| c == channel);
        let store_ok =
            self.store_ids.is_empty() || store_id.is_some_and(|s| self.store_ids.contains(&s));
        channel_ok && store_ok
    }
}

/// A coupon template as the console or API sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateSpec {
    pub name: String,
    /// One coupon, or a stepped set issued together.
    pub steps: Vec<CouponKind>,
    pub validity: Validity,
    /// When customers may claim it.
    pub claim_window: Window,
    /// Sets that may be claimed or issued in total.
    pub stock: i64,
    /// Sets one customer may hold over the template's life.
    pub per_customer: i64,
    pub audience: Audience,
    #[serde(default)]
    pub scope: Scope,
    /// A refunded order returns the coupon (if still valid).
    #[serde(default)]
    pub return_on_refund: bool,
    /// Remind the customer this many hours before expiry (0: no reminder).
    #[serde(default)]
    pub remind_hours_before: u32,
}

impl TemplateSpec {
    /// Check and normalise a template; every error names its field.
    pub fn parse(mut self) -> Result<Self, FieldError> {
        self.name = parse_title("name", &self.name)?;
        if self.steps.is_empty() || self.steps.len() > MAX_STEPS {
            return Err(FieldError::new(
                "steps",
                "invalid_steps",
                format!("a template has 1–{MAX_STEPS} coupons"),
            ));
        }
        for s in &self.steps {
            s.validate("steps")?;
        }
        if self.steps.len() > 1 {
            let rising = self
                .steps
                .windows(2)
                .all(|w| w[0].threshold() < w[1].threshold());
            if !rising {
                return Err(FieldError::new(
                    "steps",
                    "invalid_steps",
                    "a stepped set needs strictly rising thresholds",
                ));
            }
        }
        self.validity.validate()?;
        self.claim_window = Window::parse(self.claim_window.starts_at, self.claim_window.ends_at)
            .map_err(|mut e| {
            e.field = match e.field {
                "starts_at" => "claim_window.starts_at",
                _ => "claim_window.ends_at",
            };
            e
        })?;
        self.stock = parse_count("stock", self.stock, super::MAX_STOCK)?;
        self.per_customer = parse_count("per_customer", self.per_customer, 100)?;
        self.audience.validate()?;
        for c in &mut self.scope.channels {
            *c = parse_label("scope", c, 32)?;
        }
        if self.remind_hours_before > 24 * 30 {
            return Err(FieldError::new(
                "remind_hours_before",
                "invalid_count",
                "remind at most 720 hours before expiry",
            ));
        }
        Ok(self)
    }
}

/// Where a coupon is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CouponState {
    Claimed,
    Used,
    Expired,
    Revoked,
}

impl CouponState {
    pub fn as_str(self) -> &'static str {
        match self {
            CouponState::Claimed => "claimed",
            CouponState::Used => "used",
            CouponState::Expired => "expired",
            CouponState::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "claimed" => Some(CouponState::Claimed),
            "used" => Some(CouponState::Used),
            "expired" => Some(CouponState::Expired),
            "revoked" => Some(CouponState::Revoked),
            _ => None,
        }
    }
}

/// Something that happens to a coupon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CouponEvent {
    Use,
    Expire,
    Revoke,
    /// The order it was used on was refunded.
    Refund {
        return_on_refund: bool,
    },
}

/// The next state, or `None` when the event does not apply (the caller changes nothing).
/// `now` and `valid_until` decide whether a returned coupon is still usable.
pub fn transition(
    from: CouponState,
    ev: CouponEvent,
    now: Millis,
    valid_until: Millis,
) -> Option<CouponState> {
    use CouponState::*;
    match (from, ev) {
        (Claimed, CouponEvent::Use) if now < valid_until => Some(Used),
        (Claimed, CouponEvent::Expire) if now >= valid_until => Some(Expired),
        (Claimed, CouponEvent::Revoke) => Some(Revoked),
        (
            Used,
            CouponEvent::Refund {
                return_on_refund: true,
            },
        ) => Some(if now < valid_until { Claimed } else { Expired }),
        _ => None,
    }
}

/// An order a coupon is being used on.
#[derive(Debug, Clone, Copy)]
pub struct OrderFacts<'a> {
    pub amount: Fen,
    pub shipping: Fen,
    pub channel: &'a str,
    pub store_id: Option<i64>,
}

/// Every redemption check, in order, and the discount: state, validity window, scope,
/// threshold. A coupon is used at most once because `Use` applies only to `Claimed`.
pub fn redeem(
    state: CouponState,
    kind: &CouponKind,
    window: Window,
    scope: &Scope,
    order: &OrderFacts<'_>,
    now: Millis,
) -> Result<Fen, PromoRefusal> {
    if state != CouponState::Claimed {
        return Err(PromoRefusal::CouponNotUsable);
    }
    if !window.contains(now) {
        return Err(PromoRefusal::CouponNotValidNow);
    }
    if !scope.allows(order.channel, order.store_id) {
        return Err(PromoRefusal::OutOfScope);
    }
    kind.discount(order.amount, order.shipping)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn spec() -> TemplateSpec {
        TemplateSpec {
            name: "周二会员日 满50减10".into(),
            steps: vec![CouponKind::AmountOff {
                off_fen: 1000,
                threshold_fen: 5000,
            }],
            validity: Validity::DaysFromClaim { days: 7 },
            claim_window: Window {
                starts_at: Millis(1_767_225_600_000),
                ends_at: Millis(1_767_226_600_000),
            },
            stock: 100,
            per_customer: 1,
            audience: Audience::Everyone,
            scope: Scope::default(),
            return_on_refund: true,
            remind_hours_before: 24,
        }
    }

    #[test]
    fn a_coupon_check_names_the_part_and_the_reason() {
        let part = |k: CouponKind| {
            let e = k.check().unwrap_err();
            (e.field, e.code)
        };
        assert_eq!(
            part(CouponKind::AmountOff {
                off_fen: 12000,
                threshold_fen: 9900
            }),
            ("off_fen", "off_not_below_threshold")
        );
        assert_eq!(
            part(CouponKind::AmountOff {
                off_fen: 0,
                threshold_fen: 9900
            }),
            ("off_fen", "amount_required")
        );
        assert_eq!(
            part(CouponKind::AmountOff {
                off_fen: 100,
                threshold_fen: MAX_FEN + 1
            }),
            ("threshold_fen", "amount_out_of_range")
        );
        assert_eq!(
            part(CouponKind::Discount {
                rate_permille: 1000,
                cap_fen: 100,
                threshold_fen: 0
            }),
            ("rate_permille", "invalid_rate")
        );
        assert_eq!(
            part(CouponKind::Discount {
                rate_permille: 850,
                cap_fen: 0,
                threshold_fen: 0
            }),
            ("cap_fen", "amount_required")
        );
        assert_eq!(
            part(CouponKind::Exchange {
                sku: "SKU-1".into(),
                item_name: " ".into()
            }),
            ("item_name", "required")
        );
        // A template reports the same refusal under `steps`.
        let mut s = spec();
        s.steps = vec![CouponKind::AmountOff {
            off_fen: 12000,
            threshold_fen: 9900,
        }];
        let e = s.parse().unwrap_err();
        assert_eq!((e.field, e.code), ("steps", "off_not_below_threshold"));
    }

    #[test]
    fn templates_parse_with_named_fields() {
        assert!(spec().parse().is_ok());
        let mut s = spec();
        s.stock = 0;
        assert_eq!(s.parse().unwrap_err().field, "stock");
        let mut s = spec();
        s.per_customer = 0;
        assert_eq!(s.parse().unwrap_err().field, "per_customer");
        let mut s = spec();
        s.name = " ".into();
        assert_eq!(s.parse().unwrap_err().field, "name");
        let mut s = spec();
        s.steps = vec![CouponKind::AmountOff {
            off_fen: 6000,
            threshold_fen: 5000,
        }];
        assert_eq!(s.parse().unwrap_err().field, "steps");
        let mut s = spec();
        s.validity = Validity::DaysFromClaim { days: 0 };
        assert_eq!(s.parse().unwrap_err().field, "validity");
        let mut s = spec();
        s.claim_window.ends_at = Millis(i64::MAX);
        assert_eq!(s.parse().unwrap_err().field, "claim_window.ends_at");
        let mut s = spec();
        s.claim_window.ends_at = s.claim_window.starts_at;
        assert_eq!(s.parse().unwrap_err().field, "claim_window.ends_at");
        let mut s = spec();
        s.steps.push(CouponKind::AmountOff {
            off_fen: 50,
            threshold_fen: 100,
        });
        assert_eq!(s.parse().unwrap_err().code, "invalid_steps");
    }

    #[test]
    fn stepped_sets_need_rising_thresholds() {
        let mut s = spec();
        s.steps = vec![
            CouponKind::AmountOff {
                off_fen: 1000,
                threshold_fen: 5000,
            },
            CouponKind::AmountOff {
                off_fen: 2000,
                threshold_fen: 10000,
            },
            CouponKind::AmountOff {
                off_fen: 4000,
                threshold_fen: 20000,
            },
        ];
        assert!(s.parse().is_ok());
    }

    #[test]
    fn discounts_in_fen() {
        let off = CouponKind::AmountOff {
            off_fen: 1000,
            threshold_fen: 5000,
        };
        assert_eq!(
            off.discount(Fen(4999), Fen(0)),
            Err(PromoRefusal::BelowThreshold)
        );
        assert_eq!(off.discount(Fen(5000), Fen(0)), Ok(Fen(1000)));
        let rate = CouponKind::Discount {
            rate_permille: 850,
            cap_fen: 2000,
            threshold_fen: 0,
        };
        assert_eq!(rate.discount(Fen(10001), Fen(0)), Ok(Fen(1500)));
        assert_eq!(rate.discount(Fen(100_000), Fen(0)), Ok(Fen(2000)));
        let ship = CouponKind::FreeShipping { threshold_fen: 0 };
        assert_eq!(ship.discount(Fen(100), Fen(800)), Ok(Fen(800)));
    }

    #[test]
    fn redemption_checks_each_rule() {
        let kind = &spec().steps[0];
        let w = Window {
            starts_at: Millis(100),
            ends_at: Millis(200),
        };
        let scope = Scope {
            channels: vec!["mini_program".into()],
            store_ids: vec![],
        };
        let order = OrderFacts {
            amount: Fen(6000),
            shipping: Fen(0),
            channel: "mini_program",
            store_id: None,
        };
        let ok = redeem(CouponState::Claimed, kind, w, &scope, &order, Millis(150));
        assert_eq!(ok, Ok(Fen(1000)));
        assert_eq!(
            redeem(CouponState::Used, kind, w, &scope, &order, Millis(150)),
            Err(PromoRefusal::CouponNotUsable)
        );
        assert_eq!(
            redeem(CouponState::Claimed, kind, w, &scope, &order, Millis(200)),
            Err(PromoRefusal::CouponNotValidNow)
        );
        let pos = OrderFacts {
            channel: "pos",
            ..order
        };
        assert_eq!(
            redeem(CouponState::Claimed, kind, w, &scope, &pos, Millis(150)),
            Err(PromoRefusal::OutOfScope)
        );
        let small = OrderFacts {
            amount: Fen(10),
            ..order
        };
        assert_eq!(
            redeem(CouponState::Claimed, kind, w, &scope, &small, Millis(150)),
            Err(PromoRefusal::BelowThreshold)
        );
    }

    fn event() -> impl Strategy<Value = CouponEvent> {
        prop_oneof![
            Just(CouponEvent::Use),
            Just(CouponEvent::Expire),
            Just(CouponEvent::Revoke),
            any::<bool>().prop_map(|r| CouponEvent::Refund {
                return_on_refund: r
            }),
        ]
    }

    proptest! {
        /// No path leaves a coupon both used and expired, nothing leaves a terminal state,
        /// and a coupon is never used after its validity.
        #[test]
        fn coupon_paths_are_sound(
            steps in proptest::collection::vec((event(), 0i64..300), 0..30),
        ) {
            let until = Millis(150);
            let mut state = CouponState::Claimed;
            let mut uses = 0u32;
            let mut returns = 0u32;
            for (ev, t) in steps {
                let Some(next) = transition(state, ev, Millis(t), until) else { continue };
                prop_assert!(!matches!(state, CouponState::Expired | CouponState::Revoked));
                if next == CouponState::Used {
                    prop_assert!(t < until.0);
                    uses += 1;
                }
                if state == CouponState::Used && next != CouponState::Used {
                    returns += 1;
                }
                if next == CouponState::Expired {
                    prop_assert!(t >= until.0);
                }
                state = next;
            }
            // Each refund returns one use: never more returns than uses.
            prop_assert!(returns <= uses);
        }
    }
}
