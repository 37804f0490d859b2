//! Churn alerts (流失提醒, issue #23 item 4): what an alert is, its note parsed at the edge, and
//! the WeCom text that tells staff about it. No I/O.
//!
//! An alert is made when a WeCom contact callback says a follow ended: the customer deleted
//! their guide (`customer_deleted`, the guide and the store's managers are told) or the guide
//! deleted the customer (`guide_deleted`, the store's managers are told). It carries the
//! customer's value at that moment (orders, net spend, tier). It is `open` until the guide or a
//! manager marks it `handled` (with an optional note); then it never changes again.

use serde::Serialize;

use crate::FieldError;
use crate::messaging::{civil_from_days, day_start, has_control, shanghai_day};

/// A handling note: at most this many characters (line breaks allowed).
pub const MAX_NOTE_CHARS: usize = 500;

fn field(f: &'static str, code: &'static str, msg: impl Into<String>) -> FieldError {
    FieldError::new(f, code, msg)
}

/// Which side ended the follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The customer deleted the guide (`del_follow_user`).
    CustomerDeleted,
    /// The guide deleted the customer (`del_external_contact`).
    GuideDeleted,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::CustomerDeleted, Kind::GuideDeleted];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::CustomerDeleted => "customer_deleted",
            Kind::GuideDeleted => "guide_deleted",
        }
    }

    /// `customer_deleted` or `guide_deleted`, for field `f`.
    pub fn from_field(f: &'static str, s: &str) -> Result<Self, FieldError> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| field(f, "invalid_kind", "customer_deleted or guide_deleted"))
    }
}

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Open,
    Handled,
}

impl Status {
    pub const ALL: [Status; 2] = [Status::Open, Status::Handled];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Handled => "handled",
        }
    }

    /// `open` or `handled`, for field `f`.
    pub fn from_field(f: &'static str, s: &str) -> Result<Self, FieldError> {
        Status::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| field(f, "invalid_status", "open or handled"))
    }
}

/// A handling note: trimmed, at most 500 characters, line breaks and tabs allowed but no other
/// control character; may be empty.
pub fn parse_note(f: &'static str, s: &str) -> Result<String, FieldError> {
    let s = s.trim();
    if s.chars().count() > MAX_NOTE_CHARS {
        return Err(field(
            f,
            "text_too_long",
            format!("at most {MAX_NOTE_CHARS} characters"),
        ));
    }
    if has_control(s) {
        return Err(field(
            f,
            "invalid_characters",
            "control characters are not allowed",
        ));
    }
    Ok(s.to_owned())
}

/// The customer's value when the follow ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Value {
    /// Orders not fully refunded.
    pub orders: i64,
    /// Net spend (paid less refunded) in fen.
    pub spend_fen: i64,
    /// The tier's name, if the customer has one.
    pub tier: Option<String>,
}

/// `¥12.34`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}¥{}.{:02}", abs / 100, abs % 100)
}

/// `MM-DD HH:MM` in Asia/Shanghai.
fn shanghai_minute(ms: i64) -> String {
    let day = shanghai_day(ms);
    let (_, m, d) = civil_from_days(day);
    let min = (ms - day_start(day)) / 60_000;
    format!("{m:02}-{d:02} {:02}:{:02}", min / 60, min % 60)
}

/// The WeCom app message that tells staff about an alert, e.g.
/// `【流失提醒】客户「王女士」删除了导购 张伟（12-07 10:32）。累计 3 单，消费 ¥268.00，会员等级 金卡。`
pub fn message_text(kind: Kind, customer: &str, guide: &str, at: i64, v: &Value) -> String {
    let customer = if customer.trim().is_empty() {
        "（未留名）"
    } else {
        customer.trim()
    };
    let when = shanghai_minute(at);
    let head = match kind {
        Kind::CustomerDeleted => {
            format!("【流失提醒】客户「{customer}」删除了导购 {guide}（{when}）。")
        }
        Kind::GuideDeleted => {
            format!("【导购删除客户】导购 {guide} 删除了客户「{customer}」（{when}）。")
        }
    };
    let tier = match v.tier.as_deref().filter(|t| !t.is_empty()) {
        Some(t) => format!("，会员等级 {t}"),
        None => String::new(),
    };
    format!(
        "{head}累计 {} 单，消费 {}{tier}。",
        v.orders,
        yuan(v.spend_fen)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_statuses_round_trip() {
        for k in Kind::ALL {
            assert_eq!(Kind::from_field("kind", k.as_str()), Ok(k));
        }
        for s in Status::ALL {
            assert_eq!(Status::from_field("status", s.as_str()), Ok(s));
        }
        assert_eq!(Kind::from_field("kind", "lost").unwrap_err().field, "kind");
        assert_eq!(
            Status::from_field("status", "done").unwrap_err().code,
            "invalid_status"
        );
    }

    #[test]
    fn notes_are_checked_by_field() {
        assert_eq!(
            parse_note("note", "  已电话回访\n约了周末到店 ").unwrap(),
            "已电话回访\n约了周末到店"
        );
        assert_eq!(parse_note("note", "").unwrap(), "");
        let e = parse_note("note", "响铃\u{7}").unwrap_err();
        assert_eq!((e.field, e.code), ("note", "invalid_characters"));
        let long = "字".repeat(MAX_NOTE_CHARS + 1);
        assert_eq!(parse_note("note", &long).unwrap_err().code, "text_too_long");
        assert!(parse_note("note", &"字".repeat(MAX_NOTE_CHARS)).is_ok());
    }

    #[test]
    fn the_message_names_the_customer_the_guide_and_the_value() {
        // 2026-12-07 10:32 in Shanghai is 02:32 UTC.
        let at = 1_796_610_720_000;
        let v = Value {
            orders: 3,
            spend_fen: 26_800,
            tier: Some("金卡".into()),
        };
        assert_eq!(
            message_text(Kind::CustomerDeleted, "王女士", "张伟", at, &v),
            "【流失提醒】客户「王女士」删除了导购 张伟（12-07 10:32）。累计 3 单，消费 ¥268.00，会员等级 金卡。"
        );
        let none = Value::default();
        assert_eq!(
            message_text(Kind::GuideDeleted, "", "张伟", at, &none),
            "【导购删除客户】导购 张伟 删除了客户「（未留名）」（12-07 10:32）。累计 0 单，消费 ¥0.00。"
        );
        assert_eq!(yuan(-5), "-¥0.05");
    }
}
