//! Inbound order and member sync (issue #24 item 7): what a shop or order system pushes to
//! Yutang, parsed into one set of actions whatever the sender's format.
//!
//! Two formats are read:
//! - **generic**, Yutang's own: a signed JSON message (`order.created`, `order.paid`,
//!   `order.shipped`, `order.completed`, `order.refunded`, `order.closed`,
//!   `member.upserted`) with a unique message id; strict (unknown fields refused);
//! - **youzan**, 有赞云's message push (无容器 HTTP push): an envelope whose `msg` is a
//!   URL-encoded JSON string (trade messages) or an object (the newer refund messages).
//!   The platform adds fields over time, so unknown fields are ignored there.
//!
//! Parsing is pure: signatures are checked before (app crate), effects are applied after.

use serde::Deserialize;
use serde_json::Value;

use crate::FieldError;
use crate::identity::{Identity, IdentityKind, Phone};
use crate::money::Fen;
use crate::orders::{MAX_AMOUNT, OrderLine, OrderStatus, parse_external_id, parse_fen};
use crate::time::Millis;

/// The formats a source may speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    Generic,
    Youzan,
}

impl SourceFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::Generic => "generic",
            SourceFormat::Youzan => "youzan",
        }
    }

    pub fn parse(field: &'static str, s: &str) -> Result<Self, FieldError> {
        match s.trim() {
            "generic" => Ok(SourceFormat::Generic),
            "youzan" => Ok(SourceFormat::Youzan),
            _ => Err(FieldError::new(
                field,
                "invalid_format",
                "format must be generic or youzan",
            )),
        }
    }
}

/// Who bought, as the sender names them: at least one identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buyer {
    pub identities: Vec<Identity>,
    pub name: Option<String>,
}

/// An order as a sender describes it (a draft has no payment time yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundOrder {
    pub external_id: String,
    pub buyer: Buyer,
    pub store_id: Option<i64>,
    pub guide_id: Option<i64>,
    pub campaign: String,
    pub lines: Vec<OrderLine>,
    pub discount: Fen,
    pub paid_at: Option<i64>,
}

/// What one message asks Yutang to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Created, not paid: kept until the payment arrives (Yutang's orders are paid orders).
    Draft(InboundOrder),
    /// Paid: the order itself, or only its id when a draft was sent before.
    Paid {
        external_id: String,
        order: Option<InboundOrder>,
        at: Option<i64>,
    },
    /// Shipped or completed.
    Status {
        external_id: String,
        to: OrderStatus,
        at: Option<i64>,
    },
    Refund {
        external_id: String,
        refund_id: String,
        amount: Fen,
        at: Option<i64>,
    },
    /// Cancelled before payment (a paid order's money goes back through refunds).
    Closed { external_id: String },
    /// A member record: the customer is created or attached by its identities.
    Member(Buyer),
    /// Nothing to do (a kind Yutang does not sync, a platform test message).
    Ignore { reason: &'static str },
}

/// A parsed message: its key for deduplication, its kind as the sender named it, the order
/// it concerns (for the message log) and the action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub dedupe_key: String,
    pub kind: String,
    pub external_id: String,
    pub action: Action,
}

fn bad(field: &'static str, code: &'static str, message: impl Into<String>) -> FieldError {
    FieldError::new(field, code, message)
}

/// Parse an amount in yuan as shops write it (`"12.30"`, `"0.01"`, `"5"`): at most two
/// decimals, never negative, exact (no floating point).
pub fn parse_yuan(field: &'static str, raw: &str) -> Result<Fen, FieldError> {
    let s = raw.trim();
    let invalid = || {
        bad(
            field,
            "invalid_yuan",
            "amount in yuan with at most two decimals",
        )
    };
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty()
        || (s.contains('.') && frac.is_empty())
        || !int.chars().all(|c| c.is_ascii_digit())
        || frac.len() > 2
        || !frac.chars().all(|c| c.is_ascii_digit())
        || int.len() > 12
    {
        return Err(invalid());
    }
    let whole: i64 = int.parse().map_err(|_| invalid())?;
    let cents: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().map_err(|_| invalid())? * 10,
        _ => frac.parse().map_err(|_| invalid())?,
    };
    let fen = whole
        .checked_mul(100)
        .and_then(|v| v.checked_add(cents))
        .filter(|v| *v <= MAX_AMOUNT)
        .ok_or_else(invalid)?;
    Ok(Fen(fen))
}

/// A dedupe key or message id: 1–128 printable ASCII characters.
pub fn parse_message_id(field: &'static str, s: &str) -> Result<String, FieldError> {
    let s = s.trim();
    if s.is_empty() || s.len() > 128 || !s.chars().all(|c| c.is_ascii_graphic()) {
        return Err(bad(
            field,
            "invalid_message_id",
            "message id must be 1–128 printable ASCII characters",
        ));
    }
    Ok(s.to_owned())
}

fn label(field: &'static str, s: &str, max: usize) -> Result<String, FieldError> {
    let s = s.trim();
    if s.chars().count() > max || s.chars().any(char::is_control) {
        return Err(bad(
            field,
            "invalid_text",
            format!("{field} must be at most {max} characters without control characters"),
        ));
    }
    Ok(s.to_owned())
}

// ------------------------------------------------------------------ generic

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenericEnvelope {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    occurred_at: Option<String>,
    data: Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenericIdentity {
    kind: String,
    #[serde(default)]
    namespace: Option<String>,
    value: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenericBuyer {
    identities: Vec<GenericIdentity>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenericLine {
    sku: String,
    name: String,
    quantity: i64,
    unit_price_fen: serde_json::Number,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenericOrder {
    external_id: String,
    buyer: GenericBuyer,
    #[serde(default)]
    store_id: Option<i64>,
    #[serde(default)]
    guide_id: Option<i64>,
    #[serde(default)]
    campaign: Option<String>,
    #[serde(default)]
    discount_fen: Option<serde_json::Number>,
    lines: Vec<GenericLine>,
    #[serde(default)]
    paid_at: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenericPaidRef {
    external_id: String,
    #[serde(default)]
    paid_at: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenericStatus {
    external_id: String,
    #[serde(default)]
    at: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenericRefund {
    external_id: String,
    refund_id: String,
    amount_fen: serde_json::Number,
    #[serde(default)]
    at: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenericClosed {
    external_id: String,
}

/// The kinds a generic message may have.
pub const GENERIC_KINDS: [&str; 7] = [
    "order.created",
    "order.paid",
    "order.shipped",
    "order.completed",
    "order.refunded",
    "order.closed",
    "member.upserted",
];

fn json_error(e: &serde_json::Error) -> FieldError {
    // serde names the unknown or missing field in its message; keep it for the integrator.
    let msg = e.to_string();
    let code = if msg.contains("unknown field") {
        "unknown_field"
    } else if msg.contains("missing field") {
        "missing_field"
    } else {
        "invalid_json"
    };
    bad("body", code, msg)
}

fn data_of<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, FieldError> {
    serde_json::from_value(v).map_err(|e| {
        let mut f = json_error(&e);
        f.field = "data";
        f
    })
}

fn opt_time(field: &'static str, s: Option<&str>) -> Result<Option<i64>, FieldError> {
    s.map(|s| Millis::parse_rfc3339(field, s).map(|m| m.0))
        .transpose()
}

fn generic_buyer(b: GenericBuyer) -> Result<Buyer, FieldError> {
    if b.identities.is_empty() || b.identities.len() > 10 {
        return Err(bad(
            "data.buyer.identities",
            "identity_required",
            "a buyer needs 1–10 identities (phone, unionid, shop_buyer …)",
        ));
    }
    let identities = b
        .identities
        .iter()
        .map(|i| {
            Identity::parse(&i.kind, i.namespace.as_deref(), &i.value).map_err(|mut e| {
                e.field = "data.buyer.identities";
                e
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let name = b
        .name
        .map(|n| label("data.buyer.name", &n, 40))
        .transpose()?
        .filter(|n| !n.is_empty());
    Ok(Buyer { identities, name })
}

fn generic_order(o: GenericOrder) -> Result<InboundOrder, FieldError> {
    let external_id = parse_external_id("data.external_id", &o.external_id)?;
    let lines = o
        .lines
        .iter()
        .map(|l| {
            let price = parse_fen("data.lines.unit_price_fen", &l.unit_price_fen.to_string())?;
            OrderLine::parse(&l.sku, &l.name, l.quantity, price)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let discount = match &o.discount_fen {
        Some(n) => parse_fen("data.discount_fen", &n.to_string())?,
        None => Fen(0),
    };
    // Validated now, so a draft that could never become an order is refused at once.
    crate::orders::order_amount(&lines, discount)?;
    Ok(InboundOrder {
        external_id,
        buyer: generic_buyer(o.buyer)?,
        store_id: o.store_id,
        guide_id: o.guide_id,
        campaign: label("data.campaign", o.campaign.as_deref().unwrap_or(""), 64)?,
        lines,
        discount,
        paid_at: opt_time("data.paid_at", o.paid_at.as_deref())?,
    })
}

/// Parse a generic message's body (after its signature was checked).
pub fn parse_generic(body: &[u8]) -> Result<Message, FieldError> {
    let env: GenericEnvelope = serde_json::from_slice(body).map_err(|e| json_error(&e))?;
    let id = parse_message_id("id", &env.id)?;
    let at = opt_time("occurred_at", env.occurred_at.as_deref())?;
    let kind = env.kind.trim().to_owned();
    let (external_id, action) = match kind.as_str() {
        "order.created" => {
            let o = generic_order(data_of(env.data)?)?;
            (o.external_id.clone(), Action::Draft(o))
        }
        "order.paid" => {
            // The whole order, or only its id and payment time when it was created before.
            let has_lines = env.data.get("lines").is_some();
            if has_lines {
                let o = generic_order(data_of(env.data)?)?;
                let at = o.paid_at.or(at);
                (
                    o.external_id.clone(),
                    Action::Paid {
                        external_id: o.external_id.clone(),
                        order: Some(o),
                        at,
                    },
                )
            } else {
                let r: GenericPaidRef = data_of(env.data)?;
                let external_id = parse_external_id("data.external_id", &r.external_id)?;
                let at = opt_time("data.paid_at", r.paid_at.as_deref())?.or(at);
                (
                    external_id.clone(),
                    Action::Paid {
                        external_id,
                        order: None,
                        at,
                    },
                )
            }
        }
        "order.shipped" | "order.completed" => {
            let s: GenericStatus = data_of(env.data)?;
            let external_id = parse_external_id("data.external_id", &s.external_id)?;
            let to = if kind == "order.shipped" {
                OrderStatus::Shipped
            } else {
                OrderStatus::Completed
            };
            let at = opt_time("data.at", s.at.as_deref())?.or(at);
            (
                external_id.clone(),
                Action::Status {
                    external_id,
                    to,
                    at,
                },
            )
        }
        "order.refunded" => {
            let r: GenericRefund = data_of(env.data)?;
            let external_id = parse_external_id("data.external_id", &r.external_id)?;
            let refund_id = parse_external_id("data.refund_id", &r.refund_id)?;
            let amount = parse_fen("data.amount_fen", &r.amount_fen.to_string())?;
            let at = opt_time("data.at", r.at.as_deref())?.or(at);
            (
                external_id.clone(),
                Action::Refund {
                    external_id,
                    refund_id,
                    amount,
                    at,
                },
            )
        }
        "order.closed" => {
            let c: GenericClosed = data_of(env.data)?;
            let external_id = parse_external_id("data.external_id", &c.external_id)?;
            (external_id.clone(), Action::Closed { external_id })
        }
        "member.upserted" => {
            let b: GenericBuyer = data_of(env.data)?;
            (String::new(), Action::Member(generic_buyer(b)?))
        }
        _ => {
            return Err(bad(
                "type",
                "invalid_kind",
                format!("type must be one of {}", GENERIC_KINDS.join(", ")),
            ));
        }
    };
    Ok(Message {
        dedupe_key: id,
        kind,
        external_id,
        action,
    })
}

// ------------------------------------------------------------------ youzan

/// 有赞's push envelope. Only what Yutang reads; other fields are ignored.
#[derive(Debug, Deserialize)]
struct YouzanEnvelope {
    #[serde(default)]
    client_id: Option<Value>,
    #[serde(default)]
    kdt_id: Option<Value>,
    #[serde(default)]
    id: Option<Value>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    msg: Option<Value>,
    #[serde(default)]
    msg_id: Option<String>,
    #[serde(default)]
    version: Option<Value>,
    #[serde(default)]
    test: Option<Value>,
}

/// The parts of a 有赞 push the signature and routing need before the body is trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YouzanHead {
    /// The envelope's `client_id` (must be the source's).
    pub client_id: String,
    /// A platform test message (the URL check when a push address is saved).
    pub test: bool,
}

fn scalar(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn envelope(body: &[u8]) -> Result<YouzanEnvelope, FieldError> {
    serde_json::from_slice(body).map_err(|e| json_error(&e))
}

/// Read the envelope's client id and test flag.
pub fn youzan_head(body: &[u8]) -> Result<YouzanHead, FieldError> {
    let env = envelope(body)?;
    let test = matches!(&env.test, Some(Value::Bool(true)))
        || matches!(&env.test, Some(Value::String(s)) if s == "true" || s == "1");
    Ok(YouzanHead {
        client_id: scalar(env.client_id.as_ref()),
        test,
    })
}

/// The message: a URL-encoded JSON string (trade messages) or an object (newer ones).
fn youzan_msg(v: Option<Value>) -> Result<Value, FieldError> {
    match v {
        Some(Value::String(s)) => {
            let decoded = percent_encoding::percent_decode_str(&s)
                .decode_utf8()
                .map_err(|_| bad("msg", "invalid_msg", "msg is not URL-encoded UTF-8"))?;
            serde_json::from_str(&decoded)
                .map_err(|e| bad("msg", "invalid_msg", format!("msg is not JSON: {e}")))
        }
        Some(v @ Value::Object(_)) => Ok(v),
        _ => Err(bad("msg", "invalid_msg", "msg is missing")),
    }
}

fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, k| cur.get(k))
}

fn text_at(v: &Value, path: &[&str]) -> String {
    scalar(get(v, path))
}

/// A 有赞 time: `YYYY-MM-DD HH:MM:SS` in China time. Empty is none.
fn youzan_time(field: &'static str, s: &str) -> Result<Option<i64>, FieldError> {
    if s.is_empty() {
        return Ok(None);
    }
    Millis::parse_flexible(field, s).map(|m| Some(m.0))
}

/// The order of a `full_order_info`.
fn youzan_order(msg: &Value, store_id: Option<i64>) -> Result<InboundOrder, FieldError> {
    let info = get(msg, &["full_order_info"]).ok_or_else(|| {
        bad(
            "msg.full_order_info",
            "missing_field",
            "a trade message carries full_order_info",
        )
    })?;
    let external_id = parse_external_id(
        "msg.full_order_info.order_info.tid",
        &text_at(info, &["order_info", "tid"]),
    )?;
    // The buyer: 有赞's open id (or buyer id) as a youzan shop buyer, and the phone when the
    // shop shares it.
    let mut identities = Vec::new();
    let buyer = get(info, &["buyer_info"]).cloned().unwrap_or(Value::Null);
    let shop_id = ["yz_open_id", "buyer_id", "fans_id"]
        .iter()
        .map(|k| text_at(&buyer, &[k]))
        .find(|v| !v.is_empty() && v != "0");
    if let Some(v) = shop_id {
        identities.push(
            Identity::parse(IdentityKind::ShopBuyer.as_str(), Some("youzan"), &v).map_err(
                |mut e| {
                    e.field = "msg.full_order_info.buyer_info";
                    e
                },
            )?,
        );
    }
    let phone = text_at(&buyer, &["buyer_phone"]);
    if let Ok(p) = Phone::parse("buyer_phone", &phone) {
        identities.push(Identity::phone(&p));
    }
    if identities.is_empty() {
        return Err(bad(
            "msg.full_order_info.buyer_info",
            "buyer_unidentified",
            "the order names no buyer (no yz_open_id, buyer_id, fans_id or buyer_phone)",
        ));
    }
    let name = label(
        "msg.full_order_info.buyer_info.fans_nickname",
        &text_at(&buyer, &["fans_nickname"]),
        40,
    )
    .ok()
    .filter(|n| !n.is_empty());
    let items = get(info, &["orders"])
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut lines = Vec::with_capacity(items.len());
    for it in &items {
        let sku = ["outer_sku_id", "outer_item_id", "sku_id", "item_id"]
            .iter()
            .map(|k| text_at(it, &[k]))
            .find(|v| !v.is_empty() && v != "0")
            .unwrap_or_else(|| "youzan".to_owned());
        let quantity = text_at(it, &["num"]).parse::<i64>().map_err(|_| {
            bad(
                "msg.full_order_info.orders.num",
                "invalid_quantity",
                "num must be a whole number",
            )
        })?;
        let price = parse_yuan("msg.full_order_info.orders.price", &text_at(it, &["price"]))?;
        let title: String = text_at(it, &["title"]).chars().take(100).collect();
        let title = if title.trim().is_empty() {
            sku.clone()
        } else {
            title
        };
        lines.push(OrderLine::parse(&sku, &title, quantity, price)?);
    }
    // Yutang records what was paid for the goods: the payment less the postage. What the
    // lines list above that is the discount.
    let payment = parse_yuan(
        "msg.full_order_info.pay_info.payment",
        &text_at(info, &["pay_info", "payment"]),
    )?;
    let post = match text_at(info, &["pay_info", "post_fee"]).as_str() {
        "" => Fen(0),
        s => parse_yuan("msg.full_order_info.pay_info.post_fee", s)?,
    };
    let goods_paid = Fen((payment.0 - post.0).max(0));
    let listed: i64 = lines
        .iter()
        .map(|l| l.unit_price.0.saturating_mul(l.quantity))
        .sum();
    let discount = Fen((listed - goods_paid.0).max(0));
    crate::orders::order_amount(&lines, discount).map_err(|mut e| {
        e.field = "msg.full_order_info.orders";
        e
    })?;
    Ok(InboundOrder {
        external_id,
        buyer: Buyer { identities, name },
        store_id,
        guide_id: None,
        campaign: String::new(),
        lines,
        discount,
        paid_at: youzan_time(
            "msg.full_order_info.order_info.pay_time",
            &text_at(info, &["order_info", "pay_time"]),
        )?,
    })
}

/// The order id of a trade message: `tid` at the top, or in `full_order_info`.
fn youzan_tid(msg: &Value, envelope_id: &str) -> Result<String, FieldError> {
    let tid = [
        text_at(msg, &["tid"]),
        text_at(msg, &["full_order_info", "order_info", "tid"]),
        envelope_id.to_owned(),
    ]
    .into_iter()
    .find(|s| !s.is_empty())
    .unwrap_or_default();
    parse_external_id("msg.tid", &tid)
}

/// The message types Yutang acts on; others are acknowledged and logged as ignored.
pub const YOUZAN_TYPES: [&str; 11] = [
    "trade_TradeCreate",
    "trade_TradePaid",
    "trade_TradeBuyerPay",
    "trade_TradeSellerShip",
    "trade_TradeSuccess",
    "trade_TradeClose",
    "trade_refund_RefundSuccess",
    "trade_refund_RefundSellerAgree",
    "youzan_trade_RefundSuccess",
    "youzan_trade_RefundSellerAgree",
    "SCRM_CUSTOMER_EVENT",
];

/// Parse a 有赞 push (after its signature was checked). `header_type` is the `Event-Type`
/// header, used when the body has no `type`; `store_id` is the source's store.
pub fn parse_youzan(
    body: &[u8],
    header_type: Option<&str>,
    store_id: Option<i64>,
) -> Result<Message, FieldError> {
    let env = envelope(body)?;
    let kind = env
        .kind
        .clone()
        .filter(|k| !k.trim().is_empty())
        .or_else(|| header_type.map(str::to_owned))
        .map(|k| k.trim().to_owned())
        .ok_or_else(|| bad("type", "missing_field", "the message has no type"))?;
    let envelope_id = scalar(env.id.as_ref());
    // 有赞 resends a message with the same msg_id; messages without one are told apart by
    // type, shop, business id and version (its documented rule).
    let dedupe_key = match env.msg_id.as_deref().map(str::trim) {
        Some(m) if !m.is_empty() => parse_message_id("msg_id", m)?,
        _ => parse_message_id(
            "id",
            &format!(
                "{kind}:{}:{envelope_id}:{}",
                scalar(env.kdt_id.as_ref()),
                scalar(env.version.as_ref())
            ),
        )?,
    };
    let label_kind: String = kind.chars().take(64).collect();
    if !YOUZAN_TYPES.contains(&kind.as_str()) {
        return Ok(Message {
            dedupe_key,
            kind: label_kind,
            external_id: String::new(),
            action: Action::Ignore {
                reason: "unhandled_type",
            },
        });
    }
    let msg = youzan_msg(env.msg)?;
    let (external_id, action) = match kind.as_str() {
        "trade_TradeCreate" => {
            let o = youzan_order(&msg, store_id)?;
            (o.external_id.clone(), Action::Draft(o))
        }
        "trade_TradePaid" | "trade_TradeBuyerPay" => {
            let o = youzan_order(&msg, store_id)?;
            let at = o.paid_at;
            (
                o.external_id.clone(),
                Action::Paid {
                    external_id: o.external_id.clone(),
                    order: Some(o),
                    at,
                },
            )
        }
        "trade_TradeSellerShip" | "trade_TradeSuccess" => {
            let tid = youzan_tid(&msg, &envelope_id)?;
            let to = if kind == "trade_TradeSellerShip" {
                OrderStatus::Shipped
            } else {
                OrderStatus::Completed
            };
            let at = [
                text_at(&msg, &["update_time"]),
                text_at(&msg, &["full_order_info", "order_info", "success_time"]),
            ]
            .into_iter()
            .find(|s| !s.is_empty())
            .unwrap_or_default();
            let at = youzan_time("msg.update_time", &at)?;
            (
                tid.clone(),
                Action::Status {
                    external_id: tid,
                    to,
                    at,
                },
            )
        }
        "trade_TradeClose" => {
            let tid = youzan_tid(&msg, &envelope_id)?;
            (tid.clone(), Action::Closed { external_id: tid })
        }
        "SCRM_CUSTOMER_EVENT" => {
            if matches!(get(&msg, &["is_log_off"]), Some(Value::Bool(true)))
                || text_at(&msg, &["is_log_off"]) == "1"
            {
                return Ok(Message {
                    dedupe_key,
                    kind: label_kind,
                    external_id: String::new(),
                    action: Action::Ignore {
                        reason: "customer_logged_off",
                    },
                });
            }
            let mut identities = Vec::new();
            if let Ok(p) = Phone::parse("msg.mobile", &text_at(&msg, &["mobile"])) {
                identities.push(Identity::phone(&p));
            }
            let open_id = text_at(&msg, &["yz_open_id"]);
            if !open_id.is_empty() {
                identities.push(Identity::parse("shop_buyer", Some("youzan"), &open_id)?);
            }
            if identities.is_empty() {
                return Err(bad(
                    "msg.mobile",
                    "buyer_unidentified",
                    "the customer message names no mobile or yz_open_id",
                ));
            }
            let name = label("msg.name", &text_at(&msg, &["name"]), 40)
                .ok()
                .filter(|n| !n.is_empty());
            (String::new(), Action::Member(Buyer { identities, name }))
        }
        // The refund messages, old (URL-encoded msg) and new (object msg): the amount is in
        // yuan (`refunded_fee`, older pages `refund_fee`).
        _ => {
            let tid = youzan_tid(&msg, &envelope_id)?;
            let refund_id = parse_external_id("msg.refund_id", &text_at(&msg, &["refund_id"]))?;
            let fee = [
                text_at(&msg, &["refunded_fee"]),
                text_at(&msg, &["refund_fee"]),
            ]
            .into_iter()
            .find(|s| !s.is_empty())
            .unwrap_or_default();
            let amount = parse_yuan("msg.refunded_fee", &fee)?;
            let at = youzan_time("msg.update_time", &text_at(&msg, &["update_time"]))?;
            (
                tid.clone(),
                Action::Refund {
                    external_id: tid,
                    refund_id,
                    amount,
                    at,
                },
            )
        }
    };
    Ok(Message {
        dedupe_key,
        kind: label_kind,
        external_id,
        action,
    })
}

/// A source's public key, the last segment of its receiving URL: `in_` and 24 letters or
/// digits. Not a secret (the signature is), but not guessable from its neighbours either.
pub fn parse_source_key(s: &str) -> Option<&str> {
    let rest = s.strip_prefix("in_")?;
    (rest.len() == 24 && rest.chars().all(|c| c.is_ascii_alphanumeric())).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn yuan_is_parsed_exactly() {
        assert_eq!(parse_yuan("f", "0.01"), Ok(Fen(1)));
        assert_eq!(parse_yuan("f", "12.3"), Ok(Fen(1230)));
        assert_eq!(parse_yuan("f", "199"), Ok(Fen(19900)));
        assert_eq!(parse_yuan("f", " 19.99 "), Ok(Fen(1999)));
        for bad in [
            "",
            "-1",
            "1.234",
            "1e3",
            "abc",
            ".5",
            "1.",
            "1.2.3",
            "99999999999999",
        ] {
            assert!(parse_yuan("f", bad).is_err(), "{bad} accepted");
        }
    }

    proptest! {
        #[test]
        fn yuan_round_trips_through_display(fen in 0i64..1_000_000_000_000) {
            prop_assert_eq!(parse_yuan("f", &Fen(fen).to_string()), Ok(Fen(fen)));
        }

        #[test]
        fn generic_parser_never_panics(body in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse_generic(&body);
            let _ = parse_youzan(&body, None, None);
        }
    }

    fn generic(kind: &str, data: Value) -> Vec<u8> {
        serde_json::json!({"id": "m-1", "type": kind, "data": data})
            .to_string()
            .into_bytes()
    }

    fn order_data() -> Value {
        serde_json::json!({
            "external_id": "SO-1",
            "buyer": {"identities": [{"kind": "phone", "value": "13800138000"}], "name": "王芳"},
            "lines": [{"sku": "A", "name": "苹果", "quantity": 2, "unit_price_fen": 1500}],
            "discount_fen": 500,
        })
    }

    #[test]
    fn generic_orders_parse_into_drafts_and_payments() {
        let m = parse_generic(&generic("order.created", order_data())).unwrap();
        assert_eq!(m.dedupe_key, "m-1");
        assert_eq!(m.external_id, "SO-1");
        let Action::Draft(o) = m.action else {
            panic!("not a draft")
        };
        assert_eq!(o.discount, Fen(500));
        assert_eq!(o.buyer.identities[0].value, "13800138000");
        let m = parse_generic(&generic(
            "order.paid",
            serde_json::json!({"external_id": "SO-1", "paid_at": "2026-12-01T10:00:00+08:00"}),
        ))
        .unwrap();
        assert!(matches!(
            m.action,
            Action::Paid {
                order: None,
                at: Some(_),
                ..
            }
        ));
    }

    #[test]
    fn generic_refuses_what_it_does_not_know() {
        let mut d = order_data();
        d["colour"] = "red".into();
        let e = parse_generic(&generic("order.created", d)).unwrap_err();
        assert_eq!(e.code, "unknown_field");
        let e = parse_generic(&generic("order.exploded", order_data())).unwrap_err();
        assert_eq!(e.code, "invalid_kind");
        let mut d = order_data();
        d["lines"][0]["unit_price_fen"] = serde_json::json!(12.5);
        let e = parse_generic(&generic("order.created", d)).unwrap_err();
        assert_eq!(e.code, "amount_not_integer");
        let e = parse_generic(
            b"{\"id\":\"x\",\"type\":\"order.closed\",\"data\":{\"external_id\":\"a\"}} x",
        )
        .unwrap_err();
        assert_eq!(e.code, "invalid_json");
        let e = parse_generic(&generic(
            "order.refunded",
            serde_json::json!({"external_id": "SO-1", "refund_id": "R1", "amount_fen": -5}),
        ))
        .unwrap_err();
        assert_eq!(e.code, "negative_amount");
    }

    fn youzan(kind: &str, msg: &Value, msg_id: Option<&str>) -> Vec<u8> {
        let encoded = percent_encoding::utf8_percent_encode(
            &msg.to_string(),
            percent_encoding::NON_ALPHANUMERIC,
        )
        .to_string();
        let mut v = serde_json::json!({
            "client_id": "cid", "kdt_id": 9, "id": "E1", "type": kind, "msg": encoded,
            "version": 1700000000, "test": false, "mode": 1, "sendCount": 0, "sign": "x",
        });
        if let Some(m) = msg_id {
            v["msg_id"] = m.into();
        }
        v.to_string().into_bytes()
    }

    fn trade() -> Value {
        serde_json::json!({"full_order_info": {
            "order_info": {"tid": "E1", "pay_time": "2026-12-01 10:00:00", "status": "WAIT_SELLER_SEND_GOODS"},
            "buyer_info": {"buyer_phone": "13800138000", "yz_open_id": "yzo1", "fans_nickname": "小王"},
            "pay_info": {"payment": "28.00", "post_fee": "3.00", "total_fee": "30.00"},
            "orders": [{"title": "车厘子", "num": 2, "price": "15.00", "outer_sku_id": "CH-5"}],
        }})
    }

    #[test]
    fn youzan_trades_map_to_orders() {
        let m = parse_youzan(
            &youzan("trade_TradePaid", &trade(), Some("mid-1")),
            None,
            Some(4),
        )
        .unwrap();
        assert_eq!(m.dedupe_key, "mid-1");
        let Action::Paid {
            order: Some(o), at, ..
        } = m.action
        else {
            panic!("not paid")
        };
        // 30.00 listed, 25.00 paid for the goods (28.00 less 3.00 postage): 5.00 discount.
        assert_eq!(o.discount, Fen(500));
        assert_eq!(o.lines[0].sku, "CH-5");
        assert_eq!(o.store_id, Some(4));
        assert_eq!(o.buyer.identities.len(), 2);
        // 10:00 in Shanghai is 02:00 UTC.
        assert_eq!(
            at,
            Some(
                Millis::parse_rfc3339("t", "2026-12-01T02:00:00Z")
                    .unwrap()
                    .0
            )
        );
        // Without msg_id the key is type, shop, id and version.
        let m = parse_youzan(&youzan("trade_TradeCreate", &trade(), None), None, None).unwrap();
        assert_eq!(m.dedupe_key, "trade_TradeCreate:9:E1:1700000000");
        assert!(matches!(m.action, Action::Draft(_)));
    }

    #[test]
    fn youzan_refunds_both_generations() {
        let old = serde_json::json!({"tid": "E1", "refund_id": "R9", "refunded_fee": "12.50", "update_time": "2026-12-02 09:00:00"});
        let m = parse_youzan(
            &youzan("trade_refund_RefundSuccess", &old, None),
            None,
            None,
        )
        .unwrap();
        assert!(matches!(
            m.action,
            Action::Refund {
                amount: Fen(1250),
                ..
            }
        ));
        let new = serde_json::json!({
            "client_id": "cid", "kdt_id": 9, "type": "youzan_trade_RefundSuccess", "msg_id": "m2",
            "msg": {"tid": "E1", "refund_id": "R9", "refunded_fee": "12.50", "version": 3},
        });
        let m = parse_youzan(new.to_string().as_bytes(), None, None).unwrap();
        assert!(matches!(
            m.action,
            Action::Refund {
                amount: Fen(1250),
                ..
            }
        ));
    }

    #[test]
    fn youzan_other_types_are_ignored_and_bad_ones_refused() {
        let m = parse_youzan(
            &youzan("ITEM_INFO", &serde_json::json!({}), None),
            None,
            None,
        )
        .unwrap();
        assert!(matches!(m.action, Action::Ignore { .. }));
        let mut t = trade();
        t["full_order_info"]["buyer_info"] = serde_json::json!({});
        let e = parse_youzan(&youzan("trade_TradePaid", &t, None), None, None).unwrap_err();
        assert_eq!(e.code, "buyer_unidentified");
        let mut t = trade();
        t["full_order_info"]["orders"][0]["price"] = "1.234".into();
        let e = parse_youzan(&youzan("trade_TradePaid", &t, None), None, None).unwrap_err();
        assert_eq!(e.code, "invalid_yuan");
    }

    #[test]
    fn source_keys() {
        assert!(parse_source_key("in_abcdefghijklmnopqrstuvwx").is_some());
        assert!(parse_source_key("in_short").is_none());
        assert!(parse_source_key("xx_abcdefghijklmnopqrstuvwx").is_none());
        assert!(parse_source_key("in_abcdefghijklmnopqrstuv-x").is_none());
    }
}
